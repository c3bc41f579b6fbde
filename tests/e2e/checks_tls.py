"""HTTPS end to end: a server of its own in the development mode (every listener on one
self-signed certificate), used the way the startup message says: the aws CLI with
--ca-bundle (s3 cp, ls, iam list-users), boto3 with verify=<certificate>, rclone with
--ca-cert. Plain HTTP to the HTTPS port is answered 400, and clients that do not trust the
certificate are refused."""

import os
import subprocess
import urllib.error
import urllib.request

from harness import (ACCESS_KEY, REGION, SECRET, Server, assert_same_tree, aws, boto3_client,
                     make_tree, read_bytes, require_tool, run_tool, write_file)

BUCKET = "e2e-tls"


def check_tls_clients(server):
    tls = Server(server.binary, server.workdir("tls-server"), tls="self-signed")
    try:
        assert tls.url("s3").startswith("https://")
        # The certificate to trust is announced on standard output.
        logs = tls.logs()
        assert "--ca-bundle " + os.path.realpath(tls.ca_bundle) in logs, logs
        work = tls.workdir("tls")
        aws_cli(tls, work)
        with_boto3(tls)
        with_rclone(tls, work)
        refusals(tls)
    finally:
        assert tls.stop() == 0


def aws_cli(tls, work):
    require_tool("aws")
    def ok(listener, *args):
        out = aws(tls, listener, *args)
        assert out.returncode == 0, f"aws {' '.join(args)}: {out.stderr}"
        return out.stdout
    ok("s3", "s3", "mb", f"s3://{BUCKET}")
    local = os.path.join(work, "up.bin")
    write_file(local, os.urandom(300_000))
    ok("s3", "s3", "cp", local, f"s3://{BUCKET}/cli/up.bin")
    assert "up.bin" in ok("s3", "s3", "ls", f"s3://{BUCKET}/cli/")
    down = os.path.join(work, "down.bin")
    ok("s3", "s3", "cp", f"s3://{BUCKET}/cli/up.bin", down)
    assert read_bytes(down) == read_bytes(local)
    ok("iam", "iam", "create-user", "--user-name", "tls-user")
    assert "tls-user" in ok("iam", "iam", "list-users")
    ok("iam", "iam", "delete-user", "--user-name", "tls-user")
    # Without --ca-bundle the CLI's own bundle does not know the certificate.
    out = subprocess.run(["aws", "--endpoint-url", tls.url("s3"), "s3", "ls"],
                         env=dict(os.environ, AWS_ACCESS_KEY_ID=ACCESS_KEY,
                                  AWS_SECRET_ACCESS_KEY=SECRET, AWS_DEFAULT_REGION=REGION,
                                  AWS_MAX_ATTEMPTS="1"),
                         capture_output=True, text=True, timeout=120)
    assert out.returncode != 0 and "SSL" in out.stderr.upper(), out.stderr


def with_boto3(tls):
    s3 = boto3_client(tls, "s3", "s3")
    s3.put_object(Bucket=BUCKET, Key="boto3/k", Body=b"over https")
    assert s3.get_object(Bucket=BUCKET, Key="boto3/k")["Body"].read() == b"over https"
    iam = boto3_client(tls, "iam", "iam")
    assert isinstance(iam.list_users()["Users"], list)
    # A bucket policy that denies insecure transport does not stop requests over HTTPS.
    policy = ('{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*",'
              '"Action":"s3:*","Resource":["arn:aws:s3:::%s","arn:aws:s3:::%s/*"],'
              '"Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}' % (BUCKET, BUCKET))
    s3.put_bucket_policy(Bucket=BUCKET, Policy=policy)
    assert s3.get_object(Bucket=BUCKET, Key="boto3/k")["Body"].read() == b"over https"
    s3.delete_bucket_policy(Bucket=BUCKET)


def with_rclone(tls, work):
    require_tool("rclone")
    env = {k: v for k, v in os.environ.items() if not k.startswith("RCLONE_")}
    env.pop("AWS_CA_BUNDLE", None)
    env.update({
        "RCLONE_CONFIG": os.path.join(work, "rclone.conf"),
        "RCLONE_CONFIG_LAB_TYPE": "s3",
        "RCLONE_CONFIG_LAB_PROVIDER": "Other",
        "RCLONE_CONFIG_LAB_ACCESS_KEY_ID": ACCESS_KEY,
        "RCLONE_CONFIG_LAB_SECRET_ACCESS_KEY": SECRET,
        "RCLONE_CONFIG_LAB_ENDPOINT": tls.url("s3"),
        "RCLONE_CONFIG_LAB_REGION": REGION,
        "RCLONE_CONFIG_LAB_FORCE_PATH_STYLE": "true",
    })
    flags = ["--ca-cert", tls.ca_bundle, "--retries", "1", "--low-level-retries", "1"]
    up = os.path.join(work, "tree")
    tree = make_tree(up)
    run_tool(["rclone", "copy", up, f"lab:{BUCKET}/rclone", *flags], env=env)
    listed = run_tool(["rclone", "lsf", "-R", "--files-only", f"lab:{BUCKET}/rclone", *flags],
                      env=env).stdout
    assert sorted(listed.splitlines()) == sorted(tree), listed
    down = os.path.join(work, "rclone-down")
    run_tool(["rclone", "copy", f"lab:{BUCKET}/rclone", down, *flags], env=env)
    assert_same_tree(tree, down)
    run_tool(["rclone", "purge", f"lab:{BUCKET}", *flags], env=env)


def refusals(tls):
    # Plain HTTP to the HTTPS port: a 400 saying so, in plain HTTP.
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{tls.ports['s3']}/", timeout=10)
        raise AssertionError("plain HTTP was served on the HTTPS port")
    except urllib.error.HTTPError as e:
        assert e.code == 400 and b"HTTPS" in e.read()
    # The admin port is HTTPS too.
    with urllib.request.urlopen(tls.url("admin", "/health"), context=tls.ssl_context()) as r:
        assert r.status == 200


CHECKS = [check_tls_clients]
