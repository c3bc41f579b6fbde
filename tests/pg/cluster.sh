#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests that run LabStore's metadata on PostgreSQL.
#
#   tests/pg/cluster.sh start DIR   initialise (once) and start a cluster under DIR; prints one
#                                   line on stdout: postgres://labstore@127.0.0.1:PORT/labstore
#   tests/pg/cluster.sh stop DIR    stop it (pg_ctl stop -m fast); DIR is left as it is
#
# Everything lives in DIR: the data directory (DIR/data), the unix socket (DIR/run) and the
# server's log (DIR/postgres.log). The server listens on 127.0.0.1 only, on a free TCP port
# picked at start, with trust authentication for the superuser `labstore`, fsync off, small
# shared buffers and room for 300 connections. It needs only Debian's `postgresql` package
# (any version from 15 on); the system cluster is not used. PostgreSQL refuses to run as root:
# run as root, the script creates the system user `labstore-pg` (if missing), gives DIR to it
# and runs the server as that user. Messages go to stderr; stdout carries only the URL.
set -euo pipefail

PG_USER=labstore-pg
DB_USER=labstore
DB_NAME=labstore

die() {
    echo "cluster.sh: $*" >&2
    exit 1
}

usage() {
    echo "usage: $0 start DIR | stop DIR" >&2
    exit 2
}

# The directory holding initdb, pg_ctl, postgres and psql: pg_config's (when it has the
# server), else the newest of Debian's /usr/lib/postgresql/*/bin, else wherever PATH finds
# initdb.
find_bindir() {
    local dir
    if command -v pg_config >/dev/null 2>&1; then
        dir=$(pg_config --bindir 2>/dev/null || true)
        if [ -n "$dir" ] && [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
            echo "$dir"
            return
        fi
    fi
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    if [ -n "$dir" ] && [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
        echo "$dir"
        return
    fi
    if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
        dirname "$(command -v initdb)"
        return
    fi
    die "no PostgreSQL server binaries (initdb, pg_ctl) found: install Debian's postgresql package"
}

# Runs a command as the cluster's owner: the caller itself, or `labstore-pg` when run as root.
as_owner() {
    if [ "$(id -u)" -ne 0 ]; then
        "$@"
    elif command -v runuser >/dev/null 2>&1; then
        runuser -u "$PG_USER" -- "$@"
    else
        local quoted
        quoted=$(printf '%q ' "$@")
        su -s /bin/sh "$PG_USER" -c "$quoted"
    fi
}

ensure_owner_user() {
    [ "$(id -u)" -eq 0 ] || return 0
    if ! id -u "$PG_USER" >/dev/null 2>&1; then
        if command -v useradd >/dev/null 2>&1; then
            useradd --system --user-group --no-create-home --home-dir /nonexistent \
                --shell /usr/sbin/nologin "$PG_USER" >&2
        else
            adduser --system --group --no-create-home --home /nonexistent \
                --shell /usr/sbin/nologin "$PG_USER" >&2
        fi
    fi
}

# Whether something accepts TCP connections on 127.0.0.1:$1.
port_in_use() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

pick_port() {
    local port tries=0
    while [ $tries -lt 200 ]; do
        port=$((20000 + RANDOM % 30000))
        if ! port_in_use "$port"; then
            echo "$port"
            return
        fi
        tries=$((tries + 1))
    done
    die "no free TCP port found on 127.0.0.1"
}

start() {
    local dir=$1 bindir data run log port attempt
    bindir=$(find_bindir)
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd -P)
    data=$dir/data
    run=$dir/run
    log=$dir/postgres.log
    # A unix socket path is at most 107 bytes: DIR/run/.s.PGSQL.NNNNN must fit.
    [ ${#run} -le 90 ] || die "$dir is too long a path for the server's unix socket"

    ensure_owner_user
    mkdir -p "$run"
    if [ "$(id -u)" -eq 0 ]; then
        chown -R "$PG_USER:" "$dir"
        as_owner test -x "$dir" -a -w "$dir" \
            || die "$PG_USER cannot reach $dir: a parent directory is closed to other users"
    fi
    chmod 0700 "$dir"
    if as_owner "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1; then
        die "a server is already running on $data"
    fi

    cd "$dir"
    if [ ! -f "$data/PG_VERSION" ]; then
        as_owner "$bindir/initdb" -D "$data" --auth=trust -U "$DB_USER" \
            --encoding=UTF8 --locale=C --no-sync >"$dir/initdb.log" 2>&1 \
            || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
    fi

    # The port is picked anew at every start; another process may take it between the check
    # and the server's bind, so a start that fails is tried again on another port.
    for attempt in 1 2 3 4 5; do
        port=$(pick_port)
        as_owner tee "$data/postgresql.auto.conf" >/dev/null <<EOF
# Written by tests/pg/cluster.sh at every start.
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$run'
max_connections = 300
shared_buffers = 32MB
fsync = off
synchronous_commit = off
full_page_writes = off
logging_collector = off
EOF
        if as_owner "$bindir/pg_ctl" -D "$data" -l "$log" -w -t 60 -s start >&2; then
            break
        fi
        if [ "$attempt" -eq 5 ]; then
            tail -n 20 "$log" >&2 || true
            die "the server did not start (log: $log)"
        fi
        echo "cluster.sh: start on port $port failed, trying another port" >&2
    done

    # pg_ctl -w waits for the socket; wait for TCP connections too.
    local waited=0
    until "$bindir/pg_isready" -q -h 127.0.0.1 -p "$port" -U "$DB_USER" -d postgres; do
        waited=$((waited + 1))
        [ $waited -lt 120 ] || die "the server does not accept connections on 127.0.0.1:$port"
        sleep 0.5
    done

    local psql=("$bindir/psql" -X -q -h 127.0.0.1 -p "$port" -U "$DB_USER" -d postgres -v ON_ERROR_STOP=1)
    if [ "$("${psql[@]}" -tA -c "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'")" != 1 ]; then
        "${psql[@]}" -c "CREATE DATABASE $DB_NAME" >&2
    fi
    echo "postgres://$DB_USER@127.0.0.1:$port/$DB_NAME"
}

stop() {
    local dir=$1 bindir data
    bindir=$(find_bindir)
    [ -d "$dir" ] || die "no directory $dir"
    dir=$(cd "$dir" && pwd -P)
    data=$dir/data
    [ -f "$data/PG_VERSION" ] || die "no cluster in $dir"
    cd "$dir"
    if ! as_owner "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1; then
        echo "cluster.sh: no server running on $data" >&2
        return 0
    fi
    as_owner "$bindir/pg_ctl" -D "$data" -m fast -w -t 60 -s stop >&2
}

[ $# -eq 2 ] || usage
[ -n "$2" ] || usage
case $1 in
    start) start "$2" ;;
    stop) stop "$2" ;;
    *) usage ;;
esac
