# LabStore tasks. `just ci` runs everything CI runs.

# Recipe arguments reach scripts as "$1", "$@": values such as JSON documents keep their quoting.
set positional-arguments
set shell := ["bash", "-euo", "pipefail", "-c"]

# Start the server on the embedded defaults (ports 6787 admin, 6788 IAM, 6789 S3)
run *ARGS:
    cargo run --release -- serve "$@"

# The test suite: unit tests and the integration tests (one binary, tests/it)
test:
    cargo test

# The integration suite again with the metadata on PostgreSQL (Debian's `postgresql`; .ci/run
# installs it): a throwaway cluster under a temporary directory, stopped afterwards. Also
# checks the PostgreSQL schemas against what the SQLite migrations leave.
test-postgres *ARGS:
    #!/usr/bin/env bash
    set -euo pipefail
    dir=$(mktemp -d /tmp/labstore-pg.XXXXXX)
    trap 'tests/pg/cluster.sh stop "$dir" >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT
    url=$(tests/pg/cluster.sh start "$dir")
    python3 tests/pg/check_schema.py --url "$url" >/dev/null
    TEST_POSTGRES_URL="$url" cargo test --test it "$@"

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
    source tests/perf/serve.sh
    trap 'stop_labstore; rm -rf "$dir"' EXIT
    start_labstore "$bin" "$dir"
    run() { "$bin" bench "$@" --endpoint "http://$LABSTORE_S3" --pid "$LABSTORE_PID" \
        --concurrency 4 --size 64KiB --warmup 500ms --duration 2s; }
    run put --payload streaming
    run get --objects 200
    run mixed --objects 200

# Every performance target of docs/benchmarks.md, against a release build (several minutes;
# writes about 20 GiB). JSON results go to DIR.
bench-targets DIR="bench-results":
    #!/usr/bin/env bash
    set -euo pipefail
    cargo build --release
    bin="${CARGO_TARGET_DIR:-target}/release/labstore"
    out=$(mkdir -p "{{DIR}}" && cd "{{DIR}}" && pwd)
    export AWS_ACCESS_KEY_ID=admin AWS_SECRET_ACCESS_KEY=bench-targets-secret
    source tests/perf/serve.sh
    dir=$(mktemp -d)
    trap 'stop_labstore; rm -rf "$dir"' EXIT
    run() { name=$1; shift; echo "== $name: labstore bench $*"
        "$bin" bench "$@" --endpoint "http://$LABSTORE_S3" --pid "$LABSTORE_PID" --json "$out/$name.json"; }
    fresh() { stop_labstore; rm -rf "$dir/server"; start_labstore "$bin" "$dir/server"; }
    long="--warmup 3s --duration 15s"
    fresh
    run get-4k get --size 4KiB --concurrency 16 --objects 1000 $long
    run head-4k head --size 4KiB --concurrency 16 --objects 1000 $long
    run put-4k-fsync put --size 4KiB --concurrency 16 $long
    run put-64m-unsigned put --size 64MiB --concurrency 4 --payload unsigned $long
    run put-64m-signed put --size 64MiB --concurrency 4 --payload signed $long
    run put-64m-streaming put --size 64MiB --concurrency 4 --payload streaming $long
    run get-64m get --size 64MiB --concurrency 4 --objects 16 $long
    LABSTORE_BACKEND_S3_IO_FSYNC=false fresh
    run put-4k-nofsync put --size 4KiB --concurrency 16 $long
    fresh
    run memory-64x256m put --size 256MiB --concurrency 64 --ops 64 --payload streaming

# AssumeRole calls per second against a fresh release `labstore serve`, at each concurrency
# (comma-separated), SECONDS each after a 2 s warmup (docs/benchmarks.md, "STS sessions")
bench-assume-role SECONDS="10" CONCURRENCY="1,4,16,64":
    #!/usr/bin/env bash
    set -euo pipefail
    cargo build --release --bin labstore --example assume_role_load
    target="${CARGO_TARGET_DIR:-target}/release"
    export AWS_ACCESS_KEY_ID=admin AWS_SECRET_ACCESS_KEY=bench-assume-role-secret
    source tests/perf/serve.sh
    dir=$(mktemp -d)
    trap 'stop_labstore; rm -rf "$dir"' EXIT
    start_labstore "$target/labstore" "$dir"
    "$target/examples/assume_role_load" "http://$LABSTORE_IAM" admin "$AWS_SECRET_ACCESS_KEY" \
        {{SECONDS}} {{CONCURRENCY}}

# What CI runs, in order
ci: lint test test-postgres e2e bench-smoke

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
