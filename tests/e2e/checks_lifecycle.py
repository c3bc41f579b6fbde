"""Lifecycle rules as an operator sets them: `aws s3api put-bucket-lifecycle-configuration`
from a JSON file, read back and removed; the announced expiry on upload (`Expiration` in the
CLI's output); and the worker expiring objects under the rule's prefix, with the e2e server's
one-second lifecycle day (harness.LIFECYCLE_DAY_SECONDS), while other keys stay."""

import json
import os
import time

from harness import aws, boto3_client, require_tool, write_file

BUCKET = "e2e-lifecycle"


def cli(server, *args):
    """`aws s3api ...` that must succeed; its JSON output parsed."""
    require_tool("aws")
    out = aws(server, "s3", "s3api", *args)
    assert out.returncode == 0, f"aws s3api {' '.join(args)}: exit {out.returncode}\n{out.stderr}"
    return json.loads(out.stdout) if out.stdout.strip() else {}


def check_lifecycle_rules_with_the_aws_cli_expire_objects(server):
    work = server.workdir("lifecycle")
    rules = {"Rules": [
        {
            "ID": "tmp",
            "Filter": {"Prefix": "tmp/"},
            "Status": "Enabled",
            "Expiration": {"Days": 2},
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
        },
        {
            "ID": "old-versions",
            "Filter": {},
            "Status": "Disabled",
            "NoncurrentVersionExpiration": {"NoncurrentDays": 30, "NewerNoncurrentVersions": 2},
        },
    ]}
    path = os.path.join(work, "lifecycle.json")
    write_file(path, json.dumps(rules).encode())
    cli(server, "create-bucket", "--bucket", BUCKET)
    out = aws(server, "s3", "s3api", "get-bucket-lifecycle-configuration", "--bucket", BUCKET)
    assert out.returncode != 0 and "(NoSuchLifecycleConfiguration)" in out.stderr, out.stderr
    cli(server, "put-bucket-lifecycle-configuration", "--bucket", BUCKET,
        "--lifecycle-configuration", f"file://{path}")
    got = cli(server, "get-bucket-lifecycle-configuration", "--bucket", BUCKET)
    assert got["Rules"] == rules["Rules"], got

    body = os.path.join(work, "body.txt")
    write_file(body, b"short-lived\n")
    put = cli(server, "put-object", "--bucket", BUCKET, "--key", "tmp/scratch.txt", "--body", body)
    assert 'rule-id="tmp"' in put.get("Expiration", ""), put
    kept = cli(server, "put-object", "--bucket", BUCKET, "--key", "keep/data.txt", "--body", body)
    assert "Expiration" not in kept, kept

    s3 = boto3_client(server, "s3", "s3")
    deadline = time.monotonic() + 30
    while True:
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]
        if keys == ["keep/data.txt"]:
            break
        assert time.monotonic() < deadline, f"tmp/scratch.txt never expired: {keys}"
        time.sleep(0.2)

    # A transition names a storage class this server does not have.
    cold = {"Rules": [{"ID": "cold", "Filter": {}, "Status": "Enabled",
                       "Transitions": [{"Days": 30, "StorageClass": "GLACIER"}]}]}
    write_file(path, json.dumps(cold).encode())
    out = aws(server, "s3", "s3api", "put-bucket-lifecycle-configuration", "--bucket", BUCKET,
              "--lifecycle-configuration", f"file://{path}")
    assert out.returncode != 0 and "(InvalidStorageClass)" in out.stderr, out.stderr

    cli(server, "delete-bucket-lifecycle", "--bucket", BUCKET)
    out = aws(server, "s3", "s3api", "get-bucket-lifecycle-configuration", "--bucket", BUCKET)
    assert out.returncode != 0 and "(NoSuchLifecycleConfiguration)" in out.stderr, out.stderr


CHECKS = [check_lifecycle_rules_with_the_aws_cli_expire_objects]
