# Sourced by the justfile's bench recipes: `start_labstore BIN DIR` starts `BIN serve` with its
# data in DIR on free loopback ports, waits until it is ready, and sets LABSTORE_PID,
# LABSTORE_S3 and LABSTORE_IAM (host:port). Extra LABSTORE_* settings come from the caller's
# environment.
# AWS_SECRET_ACCESS_KEY must be set: it becomes the root secret.

start_labstore() {
    local bin=$1 dir=$2
    mkdir -p "$dir"
    LABSTORE_BACKEND_ADMIN_AUTH_SECRET_KEY="$AWS_SECRET_ACCESS_KEY" LABSTORE_LOG_FORMAT=json \
    LABSTORE_BACKEND_STORAGE_DATA_DIR="$dir/data" LABSTORE_BACKEND_STORAGE_KEYS_DIR="$dir/keys" \
    LABSTORE_BACKEND_ADMIN_SERVER_HOST=127.0.0.1 LABSTORE_BACKEND_ADMIN_SERVER_PORT=0 \
    LABSTORE_BACKEND_IAM_SERVER_HOST=127.0.0.1 LABSTORE_BACKEND_IAM_SERVER_PORT=0 \
    LABSTORE_BACKEND_S3_SERVER_HOST=127.0.0.1 LABSTORE_BACKEND_S3_SERVER_PORT=0 \
        "$bin" serve > "$dir/serve.log" 2>&1 &
    LABSTORE_PID=$!
    # Port 0: the bound addresses are in the "listening" log lines.
    addr() { grep '"message":"listening"' "$dir/serve.log" | grep "\"listener\":\"$1\"" \
        | sed -E 's/.*"addr":"([^"]+)".*/\1/'; }
    for _ in $(seq 100); do [ -n "$(addr s3)" ] && [ -n "$(addr admin)" ] && break; sleep 0.1; done
    [ -n "$(addr s3)" ] || { cat "$dir/serve.log"; echo "labstore serve did not start"; return 1; }
    local admin
    admin=$(addr admin)
    for _ in $(seq 100); do
        exec 3<>"/dev/tcp/${admin%:*}/${admin##*:}" && printf 'GET /ready HTTP/1.0\r\n\r\n' >&3 \
            && head -1 <&3 | grep -q ' 200 ' && break
        sleep 0.1
    done
    exec 3>&-
    LABSTORE_S3=$(addr s3)
    LABSTORE_IAM=$(addr iam)
}

stop_labstore() {
    [ -n "${LABSTORE_PID:-}" ] || return 0
    kill "$LABSTORE_PID" 2>/dev/null || true
    wait "$LABSTORE_PID" 2>/dev/null || true
    LABSTORE_PID=
}
