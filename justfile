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

# What CI runs, in order
ci: lint test e2e

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
