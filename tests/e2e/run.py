#!/usr/bin/env python3
"""End-to-end checks with the clients users run: the aws CLI and boto3 against a real
`labstore serve`. Usage: tests/e2e/run.py PATH/TO/labstore

Starts the binary in a temp dir on free loopback ports, runs each check, stops it with
SIGTERM, and prints 'N passed, N failed'. Exits non-zero on any failure.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.request

SECRET = "e2e-root-secret-0123456789"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, binary):
        self.dir = tempfile.mkdtemp(prefix="labstore-e2e-")
        self.ports = {name: free_port() for name in ("admin", "iam", "s3")}
        env = dict(os.environ)
        env.pop("RUST_LOG", None)
        env.update({
            "LABSTORE_BACKEND_ADMIN_AUTH_SECRET_KEY": SECRET,
            "LABSTORE_LOG_FORMAT": "json",
        })
        for name, port in self.ports.items():
            env[f"LABSTORE_BACKEND_{name.upper()}_SERVER_HOST"] = "127.0.0.1"
            env[f"LABSTORE_BACKEND_{name.upper()}_SERVER_PORT"] = str(port)
        self.log = open(os.path.join(self.dir, "server.log"), "w")
        self.proc = subprocess.Popen([binary, "serve"], cwd=self.dir, env=env,
                                     stdout=self.log, stderr=self.log)
        deadline = time.time() + 30
        while True:
            try:
                with urllib.request.urlopen(self.url("admin", "/ready"), timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError("labstore did not become ready:\n" + self.logs())
            time.sleep(0.05)

    def url(self, listener, path=""):
        return f"http://127.0.0.1:{self.ports[listener]}{path}"

    def logs(self):
        self.log.flush()
        with open(os.path.join(self.dir, "server.log")) as f:
            return f.read()

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=30)


def aws(server, listener, *args):
    env = dict(os.environ, AWS_ACCESS_KEY_ID="admin", AWS_SECRET_ACCESS_KEY=SECRET,
               AWS_DEFAULT_REGION="us-east-1", AWS_EC2_METADATA_DISABLED="true",
               AWS_MAX_ATTEMPTS="1", AWS_PAGER="")
    return subprocess.run(["aws", "--endpoint-url", server.url(listener), *args],
                          env=env, capture_output=True, text=True, timeout=60)


def boto3_client(server, service, listener):
    import boto3
    from botocore.config import Config
    return boto3.client(service, endpoint_url=server.url(listener), region_name="us-east-1",
                        aws_access_key_id="admin", aws_secret_access_key=SECRET,
                        config=Config(retries={"max_attempts": 1}))


def check_admin_endpoints(server):
    with urllib.request.urlopen(server.url("admin", "/health")) as r:
        assert r.status == 200
    with urllib.request.urlopen(server.url("admin", "/ready")) as r:
        assert json.load(r) == {"status": "ready"}


def check_aws_cli_s3_round_trip(server):
    """mb, cp up (small and multipart), ls, cp down, compare bytes, rm, rb."""
    work = tempfile.mkdtemp(prefix="e2e-s3-")
    small, big = os.path.join(work, "small.txt"), os.path.join(work, "big.bin")
    with open(small, "w") as f:
        f.write("hello labstore\n")
    with open(big, "wb") as f:
        f.write(os.urandom(20 * 1024 * 1024))

    def run(*args):
        quiet = ["--only-show-errors"] if args[1] in ("cp", "rm", "sync") else []
        out = aws(server, "s3", *args, *quiet)
        assert out.returncode == 0, f"aws {' '.join(args)}: {out.stderr}"
        return out.stdout

    run("s3", "mb", "s3://e2e-cli")
    run("s3", "cp", small, "s3://e2e-cli/docs/small.txt")
    run("s3", "cp", big, "s3://e2e-cli/big.bin")
    listing = run("s3", "ls", "s3://e2e-cli", "--recursive")
    assert "docs/small.txt" in listing and "big.bin" in listing, listing
    for name, local in [("docs/small.txt", small), ("big.bin", big)]:
        back = os.path.join(work, "back")
        run("s3", "cp", f"s3://e2e-cli/{name}", back)
        assert open(back, "rb").read() == open(local, "rb").read(), name
    run("s3", "rm", "s3://e2e-cli", "--recursive")
    run("s3", "rb", "s3://e2e-cli")


def check_aws_cli_walks_an_iam_setup(server):
    """A realistic setup with `aws iam`: users, keys, a group, a policy, attach, list, clean up."""
    policy = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"],
         "Resource": "arn:aws:s3:::backups/*"}]})

    def run(*args):
        out = aws(server, "iam", "iam", *args, "--output", "json")
        assert out.returncode == 0, f"aws iam {' '.join(args)}: {out.stderr}"
        return json.loads(out.stdout) if out.stdout.strip() else {}

    user = run("create-user", "--user-name", "backup-bot", "--path", "/service/")["User"]
    assert user["Arn"] == "arn:aws:iam::000000000000:user/service/backup-bot", user
    key = run("create-access-key", "--user-name", "backup-bot")["AccessKey"]
    assert key["AccessKeyId"].startswith("AKIA") and len(key["SecretAccessKey"]) == 40
    run("create-group", "--group-name", "backup-writers")
    run("add-user-to-group", "--group-name", "backup-writers", "--user-name", "backup-bot")
    arn = run("create-policy", "--policy-name", "backup-write",
              "--policy-document", policy)["Policy"]["Arn"]
    run("attach-group-policy", "--group-name", "backup-writers", "--policy-arn", arn)
    run("put-user-policy", "--user-name", "backup-bot", "--policy-name", "inline-read",
        "--policy-document", policy)

    groups = run("list-groups-for-user", "--user-name", "backup-bot")["Groups"]
    assert [g["GroupName"] for g in groups] == ["backup-writers"], groups
    attached = run("list-attached-group-policies", "--group-name", "backup-writers")
    assert [p["PolicyArn"] for p in attached["AttachedPolicies"]] == [arn], attached
    version = run("get-policy-version", "--policy-arn", arn, "--version-id", "v1")
    statement = version["PolicyVersion"]["Document"]["Statement"][0]
    assert statement["Resource"] == "arn:aws:s3:::backups/*", version
    entities = run("list-entities-for-policy", "--policy-arn", arn)
    assert [g["GroupName"] for g in entities["PolicyGroups"]] == ["backup-writers"], entities
    keys = run("list-access-keys", "--user-name", "backup-bot")["AccessKeyMetadata"]
    assert [k["AccessKeyId"] for k in keys] == [key["AccessKeyId"]]
    assert all("SecretAccessKey" not in k for k in keys)

    out = aws(server, "iam", "iam", "delete-user", "--user-name", "backup-bot")
    assert out.returncode != 0 and "(DeleteConflict)" in out.stderr, out.stderr

    run("delete-user-policy", "--user-name", "backup-bot", "--policy-name", "inline-read")
    run("detach-group-policy", "--group-name", "backup-writers", "--policy-arn", arn)
    run("delete-policy", "--policy-arn", arn)
    run("remove-user-from-group", "--group-name", "backup-writers", "--user-name", "backup-bot")
    run("delete-group", "--group-name", "backup-writers")
    run("delete-access-key", "--user-name", "backup-bot", "--access-key-id", key["AccessKeyId"])
    run("delete-user", "--user-name", "backup-bot")
    assert run("list-users")["Users"] == []


def check_aws_cli_iam_through_the_s3_port(server):
    out = aws(server, "s3", "iam", "list-users", "--output", "json")
    assert out.returncode == 0, out.stderr
    assert "Users" in json.loads(out.stdout)


def check_boto3_reads_s3_errors_and_request_ids(server):
    from botocore.exceptions import ClientError
    s3 = boto3_client(server, "s3", "s3")
    try:
        s3.get_object(Bucket="no-such-bucket", Key="k")
    except ClientError as e:
        assert e.response["Error"]["Code"] == "NoSuchBucket", e.response
        assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 404
        assert len(e.response["ResponseMetadata"]["RequestId"]) == 16, e.response
    else:
        raise AssertionError("get_object found a missing bucket")
    s3.create_bucket(Bucket="e2e-boto")
    s3.put_object(Bucket="e2e-boto", Key="k", Body=b"bytes")
    assert s3.get_object(Bucket="e2e-boto", Key="k")["Body"].read() == b"bytes"
    s3.delete_object(Bucket="e2e-boto", Key="k")
    s3.delete_bucket(Bucket="e2e-boto")


def check_boto3_manages_iam_and_reads_its_errors(server):
    from botocore.exceptions import ClientError
    iam = boto3_client(server, "iam", "iam")
    iam.create_user(UserName="boto-user", Tags=[{"Key": "team", "Value": "storage"}])
    got = iam.get_user(UserName="boto-user")
    assert got["User"]["Tags"] == [{"Key": "team", "Value": "storage"}], got
    assert len(got["ResponseMetadata"]["RequestId"]) == 36
    try:
        iam.create_user(UserName="BOTO-USER")
    except ClientError as e:
        assert e.response["Error"]["Code"] == "EntityAlreadyExists", e.response
        assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    else:
        raise AssertionError("a duplicate name (differing in case) was accepted")
    try:
        iam.get_user(UserName="nobody")
    except ClientError as e:
        assert e.response["Error"]["Code"] == "NoSuchEntity", e.response
        assert e.response["Error"]["Type"] == "Sender", e.response
    else:
        raise AssertionError("get_user found nobody")
    for i in range(5):
        iam.create_user(UserName=f"paged-{i}")
    paginator = iam.get_paginator("list_users")
    names = [u["UserName"] for page in paginator.paginate(PaginationConfig={"PageSize": 2})
             for u in page["Users"]]
    assert names == ["boto-user"] + [f"paged-{i}" for i in range(5)], names
    for name in names:
        iam.delete_user(UserName=name)


def check_just_recipes_drive_iam_with_httpie(server):
    """The justfile's hand-poking recipes (httpie + httpie-aws-authv4) work end to end."""
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ, LABSTORE_IAM_ENDPOINT=server.url("iam"), AWS_ACCESS_KEY_ID="admin",
               AWS_SECRET_ACCESS_KEY=SECRET)
    out = subprocess.run(["just", "test-iam-group-policy", "httpie-user", "httpie-group", "httpie-policy"],
                         cwd=repo, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "<UserName>httpie-user</UserName>" in out.stdout, out.stdout
    assert "arn:aws:iam::000000000000:policy/httpie-policy" in out.stdout, out.stdout


CHECKS = [
    check_admin_endpoints,
    check_aws_cli_s3_round_trip,
    check_aws_cli_walks_an_iam_setup,
    check_aws_cli_iam_through_the_s3_port,
    check_boto3_reads_s3_errors_and_request_ids,
    check_boto3_manages_iam_and_reads_its_errors,
    check_just_recipes_drive_iam_with_httpie,
]


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    server = Server(os.path.abspath(sys.argv[1]))
    passed = failed = 0
    try:
        for check in CHECKS:
            try:
                check(server)
                passed += 1
                print(f"ok   {check.__name__}")
            except Exception:
                failed += 1
                print(f"FAIL {check.__name__}")
                traceback.print_exc()
    finally:
        code = server.stop()
    if code != 0:
        failed += 1
        print(f"FAIL labstore exited {code} on SIGTERM\n{server.logs()}")
    else:
        passed += 1
        print("ok   sigterm_exits_zero")
    if SECRET in server.logs():
        failed += 1
        print("FAIL the root secret appeared in the logs")
    print(f"e2e: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
