# LabStore tasks. `just ci` runs everything CI runs.

# Recipe arguments reach scripts as "$1", "$@": values such as JSON documents keep their quoting.
set positional-arguments
set shell := ["bash", "-euo", "pipefail", "-c"]

# Start the server on the embedded defaults (ports 6787 admin, 6788 IAM, 6789 S3)
run *ARGS:
    cargo run --release -- serve "$@"

# The test suite: unit tests and integration tests against the real binary
test:
    cargo test

# Tools: .ci/run installs them. CHECKS picks checks by name part: `just e2e rclone s3cmd`.
# End-to-end checks with the aws CLI, boto3, rclone, s3cmd and httpie against the built binary
e2e *CHECKS:
    cargo build
    python3 tests/e2e/run.py target/debug/labstore "$@"

# Format the code
fmt:
    cargo fmt

# Formatting and lints, as CI checks them
lint:
    cargo fmt --check
    cargo clippy --all-targets -- -D warnings

# A few seconds of `labstore bench` (put, get, mixed) against a fresh `labstore serve`
bench-smoke:
    #!/usr/bin/env bash
    set -euo pipefail
    cargo build
    bin="${CARGO_TARGET_DIR:-target}/debug/labstore"
    dir=$(mktemp -d)
    export AWS_ACCESS_KEY_ID=admin AWS_SECRET_ACCESS_KEY=bench-smoke-secret
    LABSTORE_BACKEND_ADMIN_AUTH_SECRET_KEY="$AWS_SECRET_ACCESS_KEY" LABSTORE_LOG_FORMAT=json \
    LABSTORE_BACKEND_STORAGE_DATA_DIR="$dir/data" LABSTORE_BACKEND_STORAGE_KEYS_DIR="$dir/keys" \
    LABSTORE_BACKEND_ADMIN_SERVER_HOST=127.0.0.1 LABSTORE_BACKEND_ADMIN_SERVER_PORT=0 \
    LABSTORE_BACKEND_IAM_SERVER_HOST=127.0.0.1 LABSTORE_BACKEND_IAM_SERVER_PORT=0 \
    LABSTORE_BACKEND_S3_SERVER_HOST=127.0.0.1 LABSTORE_BACKEND_S3_SERVER_PORT=0 \
        "$bin" serve > "$dir/serve.log" 2>&1 &
    pid=$!
    trap 'kill "$pid" 2>/dev/null; wait "$pid" || true; rm -rf "$dir"' EXIT
    # Port 0: the bound addresses are in the "listening" log lines.
    addr() { grep '"message":"listening"' "$dir/serve.log" | grep "\"listener\":\"$1\"" \
        | sed -E 's/.*"addr":"([^"]+)".*/\1/'; }
    for _ in $(seq 100); do [ -n "$(addr s3)" ] && [ -n "$(addr admin)" ] && break; sleep 0.1; done
    [ -n "$(addr s3)" ] || { cat "$dir/serve.log"; echo "labstore serve did not start"; exit 1; }
    admin=$(addr admin)
    for _ in $(seq 100); do
        exec 3<>"/dev/tcp/${admin%:*}/${admin##*:}" && printf 'GET /ready HTTP/1.0\r\n\r\n' >&3 \
            && head -1 <&3 | grep -q ' 200 ' && break
        sleep 0.1
    done
    run() { "$bin" bench "$@" --endpoint "http://$(addr s3)" --pid "$pid" --concurrency 4 \
        --size 64KiB --warmup 500ms --duration 2s; }
    run put --payload streaming
    run get --objects 200
    run mixed --objects 200

# What CI runs, in order
ci: lint test e2e bench-smoke

# ---- Poking a running server by hand (httpie + httpie-aws-authv4) ----
# Endpoint and credentials come from the environment; defaults match `just run`.
#   apt-get install httpie && httpie cli plugins install httpie-aws-authv4
iam_endpoint := env_var_or_default("LABSTORE_IAM_ENDPOINT", "http://127.0.0.1:6788")
access_key := env_var_or_default("AWS_ACCESS_KEY_ID", "admin")
secret_key := env_var_or_default("AWS_SECRET_ACCESS_KEY", "")
account_id := env_var_or_default("LABSTORE_ACCOUNT_ID", "000000000000")
read_only_policy := '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:ListBucket"],"Resource":"*"}]}'

# One signed IAM Query API call, e.g. `just iam ListUsers` or `just iam GetUser UserName=alice`
iam ACTION *PARAMS:
    http --check-status --ignore-stdin --pretty=format --auth-type aws4 \
        -a "ak={{access_key}},sk={{secret_key}},s=iam,r=us-east-1" \
        --form POST {{iam_endpoint}}/ Action="$1" Version=2010-05-08 "${@:2}"

# Create a user
test-iam-create-user USER="alice":
    just iam CreateUser UserName={{USER}}

# Create a group
test-iam-create-group GROUP="readers":
    just iam CreateGroup GroupName={{GROUP}}

# Add a user to a group
test-iam-add-user-to-group USER="alice" GROUP="readers":
    just iam AddUserToGroup GroupName={{GROUP}} UserName={{USER}}

# Create a read-only managed policy
test-iam-create-policy POLICY="read-only":
    just iam CreatePolicy PolicyName={{POLICY}} PolicyDocument='{{read_only_policy}}'

# Attach a managed policy to a group
test-iam-attach-group-policy GROUP="readers" POLICY="read-only":
    just iam AttachGroupPolicy GroupName={{GROUP}} PolicyArn=arn:aws:iam::{{account_id}}:policy/{{POLICY}}

# List a group's attached policies
test-iam-list-attached-group-policies GROUP="readers":
    just iam ListAttachedGroupPolicies GroupName={{GROUP}}

# The whole chain: user, group, membership, policy, attachment, and a look at the result
test-iam-group-policy USER="alice" GROUP="readers" POLICY="read-only": (test-iam-create-user USER) (test-iam-create-group GROUP) (test-iam-add-user-to-group USER GROUP) (test-iam-create-policy POLICY) (test-iam-attach-group-policy GROUP POLICY) (test-iam-list-attached-group-policies GROUP)
    just iam GetGroup GroupName={{GROUP}}
