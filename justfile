# LabStore tasks. `just ci` runs everything CI runs.

# Start the server on the embedded defaults (ports 6787 admin, 6788 IAM, 6789 S3)
run *ARGS:
    cargo run --release -- serve {{ARGS}}

# The test suite: unit tests and integration tests against the real binary
test:
    cargo test

# End-to-end checks with the aws CLI and boto3 (pip install awscli boto3)
e2e:
    cargo build
    python3 tests/e2e/run.py target/debug/labstore

# Format the code
fmt:
    cargo fmt

# Formatting and lints, as CI checks them
lint:
    cargo fmt --check
    cargo clippy --all-targets -- -D warnings

# What CI runs, in order
ci: lint test e2e
