"""SSE-S3 and SSE-C over HTTPS, the way users ask for them: a server of its own in the
development TLS mode, the aws CLI with --ca-bundle (`s3 cp --sse AES256`, `--sse-c AES256
--sse-c-key`, the copy-source forms, `s3api head-object` with and without the key), boto3
(SSECustomerKey on puts, managed multipart transfers, copies; a missing or wrong key refused)
and rclone (`--s3-server-side-encryption AES256`, `--s3-sse-customer-key`). The shared
plain-HTTP server refuses customer keys, as S3 does."""

import base64
import hashlib
import json
import os

from harness import (MIB, Server, aws, boto3_client, expect_client_error, read_bytes,
                     require_tool, write_file)
from checks_rclone import Rclone

BUCKET = "e2e-sse-https"


def check_sse_and_sse_c_over_https(server):
    tls = Server(server.binary, server.workdir("sse-https-server"), tls="self-signed")
    try:
        work = tls.workdir("sse-https")
        s3 = boto3_client(tls, "s3", "s3")
        s3.create_bucket(Bucket=BUCKET)
        with_aws_cli(tls, work)
        with_boto3(tls, s3, work)
        with_rclone(tls, work)
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
            for item in page.get("Contents", []):
                s3.delete_object(Bucket=BUCKET, Key=item["Key"])
        s3.delete_bucket(Bucket=BUCKET)
    finally:
        assert tls.stop() == 0


def check_sse_c_is_refused_over_plain_http(server):
    require_tool("aws")
    work = server.workdir("sse-c-plain")
    s3 = boto3_client(server, "s3", "s3")
    bucket = "e2e-sse-c-plain"
    s3.create_bucket(Bucket=bucket)
    key_file = os.path.join(work, "key.bin")
    write_file(key_file, os.urandom(32))
    src = os.path.join(work, "f.txt")
    write_file(src, b"must not be stored")
    out = aws(server, "s3", "s3", "cp", src, f"s3://{bucket}/f.txt",
              "--sse-c", "AES256", "--sse-c-key", f"fileb://{key_file}")
    assert out.returncode != 0 and "secure connection" in out.stderr, out.stderr
    expect_client_error(lambda: s3.put_object(Bucket=bucket, Key="f", Body=b"x",
                                              SSECustomerAlgorithm="AES256",
                                              SSECustomerKey=os.urandom(32)),
                        "InvalidRequest", 400)
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0
    s3.delete_bucket(Bucket=bucket)


def s3api(tls, *args, ok=True):
    out = aws(tls, "s3", "s3api", *args)
    if ok:
        assert out.returncode == 0, f"aws s3api {' '.join(args)}: {out.stderr}"
        return json.loads(out.stdout) if out.stdout.strip() else {}
    return out


def with_aws_cli(tls, work):
    require_tool("aws")

    def cp(*args):
        out = aws(tls, "s3", "s3", "cp", *args)
        assert out.returncode == 0, f"aws s3 cp {' '.join(args)}: {out.stderr}"

    key1, key2 = os.path.join(work, "key1.bin"), os.path.join(work, "key2.bin")
    write_file(key1, os.urandom(32))
    write_file(key2, os.urandom(32))
    for name, size in (("small.bin", 1000), ("big.bin", 9 * MIB)):  # big: multipart
        src = os.path.join(work, name)
        data = os.urandom(size)
        write_file(src, data)
        # SSE-S3.
        cp(src, f"s3://{BUCKET}/cli/s3-{name}", "--sse", "AES256")
        head = s3api(tls, "head-object", "--bucket", BUCKET, "--key", f"cli/s3-{name}")
        assert head["ServerSideEncryption"] == "AES256", head
        # SSE-C: up, head with and without the key, down.
        cp(src, f"s3://{BUCKET}/cli/c-{name}", "--sse-c", "AES256", "--sse-c-key",
           f"fileb://{key1}")
        head = s3api(tls, "head-object", "--bucket", BUCKET, "--key", f"cli/c-{name}",
                     "--sse-customer-algorithm", "AES256", "--sse-customer-key",
                     f"fileb://{key1}")
        assert head["SSECustomerAlgorithm"] == "AES256", head
        assert head["ContentLength"] == size, head
        out = s3api(tls, "head-object", "--bucket", BUCKET, "--key", f"cli/c-{name}", ok=False)
        assert out.returncode != 0 and "400" in out.stderr, out.stderr
        down = os.path.join(work, f"down-{name}")
        cp(f"s3://{BUCKET}/cli/c-{name}", down, "--sse-c", "AES256", "--sse-c-key",
           f"fileb://{key1}")
        assert read_bytes(down) == data
        # A copy that re-keys it: the source's key, then the new one.
        cp(f"s3://{BUCKET}/cli/c-{name}", f"s3://{BUCKET}/cli/c2-{name}",
           "--sse-c-copy-source", "AES256", "--sse-c-copy-source-key", f"fileb://{key1}",
           "--sse-c", "AES256", "--sse-c-key", f"fileb://{key2}")
        down2 = os.path.join(work, f"down2-{name}")
        cp(f"s3://{BUCKET}/cli/c2-{name}", down2, "--sse-c", "AES256", "--sse-c-key",
           f"fileb://{key2}")
        assert read_bytes(down2) == data
        # The old key does not read the copy.
        out = aws(tls, "s3", "s3", "cp", f"s3://{BUCKET}/cli/c2-{name}",
                  os.path.join(work, "wrong"), "--sse-c", "AES256", "--sse-c-key",
                  f"fileb://{key1}")
        assert out.returncode != 0 and "403" in out.stderr, out.stderr


def with_boto3(tls, s3, work):
    import boto3.s3.transfer
    key, other = os.urandom(32), os.urandom(32)
    sse_c = {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": key}
    body = os.urandom(300_000)
    put = s3.put_object(Bucket=BUCKET, Key="boto3/c", Body=body, **sse_c)
    assert put["SSECustomerAlgorithm"] == "AES256", put
    assert put["SSECustomerKeyMD5"] == base64.b64encode(hashlib.md5(key).digest()).decode()
    # S3's SSE-C ETags are not the MD5 of the data.
    assert put["ETag"].strip('"') != hashlib.md5(body).hexdigest()
    got = s3.get_object(Bucket=BUCKET, Key="boto3/c", Range="bytes=1000-70999", **sse_c)
    assert got["Body"].read() == body[1000:71000]
    expect_client_error(lambda: s3.get_object(Bucket=BUCKET, Key="boto3/c"),
                        "InvalidRequest", 400)
    expect_client_error(lambda: s3.get_object(Bucket=BUCKET, Key="boto3/c",
                                              SSECustomerAlgorithm="AES256",
                                              SSECustomerKey=other),
                        "AccessDenied", 403)
    # Copied to SSE-S3 with the source's key.
    s3.copy_object(Bucket=BUCKET, Key="boto3/s3", CopySource={"Bucket": BUCKET, "Key": "boto3/c"},
                   CopySourceSSECustomerAlgorithm="AES256", CopySourceSSECustomerKey=key,
                   ServerSideEncryption="AES256")
    got = s3.get_object(Bucket=BUCKET, Key="boto3/s3")
    assert got["ServerSideEncryption"] == "AES256" and got["Body"].read() == body
    # A managed multipart transfer under the key, both ways.
    src, down = os.path.join(work, "mp.bin"), os.path.join(work, "mp-down.bin")
    big = os.urandom(13 * MIB)
    write_file(src, big)
    config = boto3.s3.transfer.TransferConfig(multipart_threshold=5 * MIB,
                                              multipart_chunksize=5 * MIB)
    s3.upload_file(src, BUCKET, "boto3/mp", ExtraArgs=dict(sse_c), Config=config)
    head = s3.head_object(Bucket=BUCKET, Key="boto3/mp", **sse_c)
    assert head["ETag"].endswith('-3"') and head["ContentLength"] == len(big), head
    s3.download_file(BUCKET, "boto3/mp", down, ExtraArgs=dict(sse_c), Config=config)
    assert read_bytes(down) == big


def with_rclone(tls, work):
    require_tool("rclone")
    rclone = Rclone(tls, work)
    trust = ["--ca-cert", tls.ca_bundle]
    customer = ["--s3-sse-customer-algorithm", "AES256",
                "--s3-sse-customer-key", "0123456789abcdef0123456789abcdef"]
    src = os.path.join(work, "rclone.bin")
    data = os.urandom(12 * MIB)  # over the 5 MiB cutoff: multipart
    write_file(src, data)
    rclone("copyto", src, f"lab:{BUCKET}/rclone/s3.bin", "--s3-server-side-encryption",
           "AES256", *trust)
    head = boto3_client(tls, "s3", "s3").head_object(Bucket=BUCKET, Key="rclone/s3.bin")
    assert head["ServerSideEncryption"] == "AES256", head
    rclone("copyto", src, f"lab:{BUCKET}/rclone/c.bin", *customer, *trust)
    down = os.path.join(work, "rclone-down.bin")
    rclone("copyto", f"lab:{BUCKET}/rclone/c.bin", down, *customer, *trust)
    assert read_bytes(down) == data
    small = os.path.join(work, "rclone-small.txt")
    write_file(small, b"small and secret")
    rclone("copyto", small, f"lab:{BUCKET}/rclone/small.txt", *customer, *trust)
    assert rclone("cat", f"lab:{BUCKET}/rclone/small.txt", *customer, *trust) == \
        "small and secret"


CHECKS = [check_sse_and_sse_c_over_https, check_sse_c_is_refused_over_plain_http]
