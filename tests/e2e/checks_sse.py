"""SSE-S3 (server-side encryption at rest, docs/encryption.md) the way clients ask for it: the
aws CLI's `s3 cp --sse AES256` and `s3api head-object`, boto3's ServerSideEncryption on puts,
multipart transfers and copies, the bucket default encryption, and rclone's
`--s3-server-side-encryption AES256`. The e2e server gives new buckets SSE-S3 by default."""

import json
import os

from harness import (MIB, aws, boto3_client, expect_client_error, read_bytes, require_tool,
                     run_tool, write_file)
from checks_rclone import Rclone


def s3api(server, *args):
    out = aws(server, "s3", "s3api", *args)
    assert out.returncode == 0, f"aws s3api {' '.join(args)}: {out.stderr}"
    return json.loads(out.stdout) if out.stdout.strip() else {}


def check_sse_aws_cli_cp_with_sse_and_head_object(server):
    require_tool("aws")
    work = server.workdir("sse-cli")
    bucket = "e2e-sse-cli"
    s3api(server, "create-bucket", "--bucket", bucket)
    rule = s3api(server, "get-bucket-encryption", "--bucket", bucket)
    algorithm = (rule["ServerSideEncryptionConfiguration"]["Rules"][0]
                 ["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"])
    assert algorithm == "AES256", rule
    for name, size in (("small.txt", 1000), ("big.bin", 9 * MIB)):
        src = os.path.join(work, name)
        data = os.urandom(size)
        write_file(src, data)
        out = aws(server, "s3", "s3", "cp", src, f"s3://{bucket}/{name}", "--sse", "AES256")
        assert out.returncode == 0, out.stderr
        head = s3api(server, "head-object", "--bucket", bucket, "--key", name)
        assert head["ServerSideEncryption"] == "AES256", head
        down = os.path.join(work, f"down-{name}")
        out = aws(server, "s3", "s3", "cp", f"s3://{bucket}/{name}", down)
        assert out.returncode == 0, out.stderr
        assert read_bytes(down) == data
    # SSE-KMS is refused, never accepted and ignored.
    out = aws(server, "s3", "s3", "cp", os.path.join(work, "small.txt"),
              f"s3://{bucket}/kms.txt", "--sse", "aws:kms")
    assert out.returncode != 0 and "NotImplemented" in out.stderr, out.stderr
    for name in ("small.txt", "big.bin"):
        s3api(server, "delete-object", "--bucket", bucket, "--key", name)
    s3api(server, "delete-bucket", "--bucket", bucket)


def check_sse_boto3_puts_multipart_copies_and_default(server):
    s3 = boto3_client(server, "s3", "s3")
    bucket = "e2e-sse-boto"
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [{
        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"},
        "BucketKeyEnabled": True}]})
    rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["BucketKeyEnabled"] is True, rule
    body = os.urandom(200_000)
    put = s3.put_object(Bucket=bucket, Key="k", Body=body, ServerSideEncryption="AES256")
    assert put["ServerSideEncryption"] == "AES256", put
    got = s3.get_object(Bucket=bucket, Key="k", Range="bytes=1000-70999")
    assert got["ServerSideEncryption"] == "AES256" and got["Body"].read() == body[1000:71000]
    copied = s3.copy_object(Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": "k"},
                            ServerSideEncryption="AES256")
    assert copied["ServerSideEncryption"] == "AES256", copied
    assert s3.get_object(Bucket=bucket, Key="copy")["Body"].read() == body
    # A managed multipart upload with the header: every part and the object say AES256.
    import boto3.s3.transfer
    work = server.workdir("sse-boto")
    src, down = os.path.join(work, "up.bin"), os.path.join(work, "down.bin")
    big = os.urandom(13 * MIB)
    write_file(src, big)
    config = boto3.s3.transfer.TransferConfig(multipart_threshold=5 * MIB,
                                              multipart_chunksize=5 * MIB)
    s3.upload_file(src, bucket, "big", ExtraArgs={"ServerSideEncryption": "AES256"},
                   Config=config)
    head = s3.head_object(Bucket=bucket, Key="big")
    assert head["ServerSideEncryption"] == "AES256" and head["ETag"].endswith('-3"'), head
    s3.download_file(bucket, "big", down, Config=config)
    assert read_bytes(down) == big
    expect_client_error(lambda: s3.put_object(Bucket=bucket, Key="kms", Body=b"x",
                                              ServerSideEncryption="aws:kms"),
                        "NotImplemented", 501)
    for key in ("k", "copy", "big"):
        s3.delete_object(Bucket=bucket, Key=key)
    s3.delete_bucket_encryption(Bucket=bucket)
    s3.delete_bucket(Bucket=bucket)


def check_sse_rclone_server_side_encryption(server):
    require_tool("rclone")
    work = server.workdir("sse-rclone")
    rclone = Rclone(server, work)
    bucket = "e2e-sse-rclone"
    src = os.path.join(work, "file.bin")
    data = os.urandom(12 * MIB)
    write_file(src, data)
    rclone("mkdir", f"lab:{bucket}")
    rclone("copyto", src, f"lab:{bucket}/file.bin", "--s3-server-side-encryption", "AES256")
    head = boto3_client(server, "s3", "s3").head_object(Bucket=bucket, Key="file.bin")
    assert head["ServerSideEncryption"] == "AES256", head
    out = rclone.run("check", os.path.dirname(src), f"lab:{bucket}", "--include", "file.bin")
    assert "0 differences found" in out.stderr, out.stderr
    down = os.path.join(work, "down.bin")
    rclone("copyto", f"lab:{bucket}/file.bin", down)
    assert read_bytes(down) == data
    rclone("purge", f"lab:{bucket}")


CHECKS = [check_sse_aws_cli_cp_with_sse_and_head_object,
          check_sse_boto3_puts_multipart_copies_and_default,
          check_sse_rclone_server_side_encryption]
