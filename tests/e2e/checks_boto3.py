"""boto3 on the S3 listener, the way scripts use it: objects, managed transfers, paginated
listings, copies, batch deletes, presigned links, conditional reads and error codes."""

import base64
import hashlib
import os
import urllib.request
from datetime import datetime, timedelta, timezone

from harness import MIB, boto3_client, expect_client_error, fetch, read_bytes, write_file


def s3_client(server, **config):
    # A missing boto3 fails here with ImportError, as loudly as a missing tool.
    return boto3_client(server, "s3", "s3", **config)


def empty_and_delete(s3, bucket):
    keys = [o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
            for o in page.get("Contents", [])]
    for start in range(0, len(keys), 1000):
        s3.delete_objects(Bucket=bucket, Delete={
            "Objects": [{"Key": k} for k in keys[start:start + 1000]], "Quiet": True})
    s3.delete_bucket(Bucket=bucket)


def check_boto3_reads_s3_errors_and_request_ids(server):
    s3 = s3_client(server)
    response = expect_client_error(lambda: s3.get_object(Bucket="no-such-bucket", Key="k"),
                                   "NoSuchBucket", 404)
    assert len(response["ResponseMetadata"]["RequestId"]) == 16, response
    s3.create_bucket(Bucket="e2e-boto")
    s3.put_object(Bucket="e2e-boto", Key="k", Body=b"bytes")
    assert s3.get_object(Bucket="e2e-boto", Key="k")["Body"].read() == b"bytes"
    expect_client_error(lambda: s3.get_object(Bucket="e2e-boto", Key="missing"), "NoSuchKey", 404)
    expect_client_error(lambda: s3.list_objects_v2(Bucket="no-such-bucket"), "NoSuchBucket", 404)
    expect_client_error(lambda: s3.put_object(Bucket="no-such-bucket", Key="k", Body=b"x"),
                        "NoSuchBucket", 404)
    expect_client_error(lambda: s3.delete_bucket(Bucket="e2e-boto"), "BucketNotEmpty", 409)
    # S3's us-east-1 answers 200 to creating a bucket one already owns (409 elsewhere).
    s3.create_bucket(Bucket="e2e-boto")
    assert s3.get_object(Bucket="e2e-boto", Key="k")["Body"].read() == b"bytes"
    s3.delete_object(Bucket="e2e-boto", Key="k")
    s3.delete_bucket(Bucket="e2e-boto")
    expect_client_error(lambda: s3.head_bucket(Bucket="e2e-boto"), "404", 404)


def check_boto3_put_get_head_delete(server):
    """One object through its life: put with metadata, head, get, delete, then gone."""
    s3 = s3_client(server)
    s3.create_bucket(Bucket="e2e-boto-obj")
    at = {"Bucket": "e2e-boto-obj", "Key": "dir/résumé v2.pdf"}
    body = os.urandom(100_000)
    put = s3.put_object(**at, Body=body, ContentType="application/pdf",
                        Metadata={"author": "ana"})
    assert put["ETag"] == f'"{hashlib.md5(body).hexdigest()}"', put
    head = s3.head_object(**at)
    assert (head["ContentLength"], head["ContentType"], head["ETag"], head["Metadata"]) == (
        len(body), "application/pdf", put["ETag"], {"author": "ana"}), head
    got = s3.get_object(**at)
    assert got["Body"].read() == body and got["LastModified"] == head["LastModified"]
    s3.delete_object(**at)
    s3.delete_object(**at)  # S3 answers a delete of a missing key with 204 too
    expect_client_error(lambda: s3.head_object(**at), "404", 404)
    expect_client_error(lambda: s3.get_object(**at), "NoSuchKey", 404)
    s3.delete_bucket(Bucket="e2e-boto-obj")


def check_boto3_transfer_multipart_up_and_down(server):
    """upload_file/download_file with a 5 MiB threshold: a 13 MiB file goes up in 3 parts
    (in parallel) and comes down in ranged GETs, byte for byte."""
    from boto3.s3.transfer import TransferConfig
    s3 = s3_client(server)
    work = server.workdir("boto-transfer")
    data = os.urandom(13 * MIB)
    write_file(os.path.join(work, "up.bin"), data)
    transfer = TransferConfig(multipart_threshold=5 * MIB, multipart_chunksize=5 * MIB,
                              max_concurrency=4)
    s3.create_bucket(Bucket="e2e-boto-xfer")
    s3.upload_file(os.path.join(work, "up.bin"), "e2e-boto-xfer", "big.bin", Config=transfer,
                   ExtraArgs={"Metadata": {"kind": "backup"}})
    head = s3.head_object(Bucket="e2e-boto-xfer", Key="big.bin")
    assert head["ETag"].endswith('-3"') and head["ContentLength"] == len(data), head
    assert head["Metadata"] == {"kind": "backup"}, head
    s3.download_file("e2e-boto-xfer", "big.bin", os.path.join(work, "down.bin"), Config=transfer)
    assert read_bytes(os.path.join(work, "down.bin")) == data
    # 3 MiB ranges straddle the 5 MiB part boundaries the object was stored with.
    odd = TransferConfig(multipart_threshold=3 * MIB, multipart_chunksize=3 * MIB)
    s3.download_file("e2e-boto-xfer", "big.bin", os.path.join(work, "odd.bin"), Config=odd)
    assert read_bytes(os.path.join(work, "odd.bin")) == data
    empty_and_delete(s3, "e2e-boto-xfer")


def check_boto3_multipart_mistakes_get_their_codes(server):
    """The multipart errors SDKs and users act on: parts out of order, a part under 5 MiB
    that is not the last, an ETag that does not match, a part number out of range, an
    upload that is gone. A failed CompleteMultipartUpload leaves the upload usable."""
    s3 = s3_client(server)
    s3.create_bucket(Bucket="e2e-boto-mpu")
    at = {"Bucket": "e2e-boto-mpu", "Key": "k"}
    upload = s3.create_multipart_upload(**at)["UploadId"]
    etags = [s3.upload_part(**at, UploadId=upload, PartNumber=n, Body=bytes([n]) * 100)["ETag"]
             for n in (1, 2)]

    def complete(*parts):
        return s3.complete_multipart_upload(**at, UploadId=upload, MultipartUpload={
            "Parts": [{"PartNumber": n, "ETag": e} for n, e in parts]})

    expect_client_error(lambda: complete((2, etags[1]), (1, etags[0])), "InvalidPartOrder", 400)
    expect_client_error(lambda: complete((1, etags[0]), (2, etags[1])), "EntityTooSmall", 400)
    expect_client_error(lambda: complete((1, '"%s"' % ("0" * 32))), "InvalidPart", 400)
    expect_client_error(lambda: s3.upload_part(**at, UploadId=upload, PartNumber=10001,
                                               Body=b"x"), "InvalidArgument", 400)
    expect_client_error(lambda: s3.upload_part(**at, UploadId="no-such-upload", PartNumber=1,
                                               Body=b"x"), "NoSuchUpload", 404)
    assert complete((2, etags[1]))["ETag"].endswith('-1"')
    assert s3.get_object(**at)["Body"].read() == bytes([2]) * 100
    expect_client_error(lambda: s3.list_parts(**at, UploadId=upload), "NoSuchUpload", 404)
    empty_and_delete(s3, "e2e-boto-mpu")


def check_boto3_paginates_150_keys_with_delimiter(server):
    """list_objects_v2 (and v1) paginators over 150 keys, pages of 40: every key exactly once,
    in order; with Delimiter the folders come back as CommonPrefixes, each once."""
    s3 = s3_client(server)
    s3.create_bucket(Bucket="e2e-boto-list")
    keys = ([f"logs/2024/{i:03}.log" for i in range(120)] +
            [f"img/{i:02}.png" for i in range(20)] + [f"top-{i}.txt" for i in range(10)])
    for key in keys:
        s3.put_object(Bucket="e2e-boto-list", Key=key, Body=key.encode())

    for operation in ("list_objects_v2", "list_objects"):
        pages = list(s3.get_paginator(operation).paginate(
            Bucket="e2e-boto-list", PaginationConfig={"PageSize": 40}))
        listed = [o["Key"] for p in pages for o in p.get("Contents", [])]
        assert listed == sorted(keys), f"{operation}: {len(listed)} keys"
        assert len(pages) == 4, f"{operation}: {len(pages)} pages"

        pages = list(s3.get_paginator(operation).paginate(
            Bucket="e2e-boto-list", Delimiter="/", PaginationConfig={"PageSize": 4}))
        prefixes = [c["Prefix"] for p in pages for c in p.get("CommonPrefixes", [])]
        top = [o["Key"] for p in pages for o in p.get("Contents", [])]
        assert prefixes == ["img/", "logs/"], f"{operation}: {prefixes}"
        assert top == sorted(k for k in keys if "/" not in k), f"{operation}: {top}"

        pages = list(s3.get_paginator(operation).paginate(
            Bucket="e2e-boto-list", Prefix="logs/", Delimiter="/"))
        assert [c["Prefix"] for p in pages for c in p.get("CommonPrefixes", [])] == ["logs/2024/"]

    page = s3.list_objects_v2(Bucket="e2e-boto-list", StartAfter="logs/2024/117.log")
    assert [o["Key"] for o in page["Contents"]] == sorted(keys)[-12:], page["Contents"]
    assert page["KeyCount"] == 12 and not page["IsTruncated"], page
    empty_and_delete(s3, "e2e-boto-list")


def check_boto3_copy_object_and_delete_objects(server):
    """copy_object between buckets (a key with spaces and Unicode as the source), then
    delete_objects reports each key, including one that never existed (S3 calls it deleted)."""
    s3 = s3_client(server)
    for bucket in ("e2e-boto-src", "e2e-boto-dst"):
        s3.create_bucket(Bucket=bucket)
    source = "raw/café & bar+1.txt"
    s3.put_object(Bucket="e2e-boto-src", Key=source, Body=b"original", Metadata={"v": "1"})
    copied = s3.copy_object(Bucket="e2e-boto-dst", Key="copy.txt",
                            CopySource={"Bucket": "e2e-boto-src", "Key": source})
    got = s3.get_object(Bucket="e2e-boto-dst", Key="copy.txt")
    assert got["Body"].read() == b"original" and got["Metadata"] == {"v": "1"}, got
    assert got["ETag"] == copied["CopyObjectResult"]["ETag"], (got, copied)

    for i in range(3):
        s3.put_object(Bucket="e2e-boto-dst", Key=f"batch/{i}", Body=b"x")
    wanted = [f"batch/{i}" for i in range(3)] + ["copy.txt", "never-existed"]
    result = s3.delete_objects(Bucket="e2e-boto-dst",
                               Delete={"Objects": [{"Key": k} for k in wanted]})
    assert sorted(d["Key"] for d in result["Deleted"]) == sorted(wanted), result
    assert not result.get("Errors"), result
    assert s3.list_objects_v2(Bucket="e2e-boto-dst")["KeyCount"] == 0
    quiet = s3.delete_objects(Bucket="e2e-boto-src",
                              Delete={"Objects": [{"Key": source}], "Quiet": True})
    assert not quiet.get("Deleted") and not quiet.get("Errors"), quiet
    for bucket in ("e2e-boto-src", "e2e-boto-dst"):
        s3.delete_bucket(Bucket=bucket)


def check_boto3_presigned_urls_v4(server):
    """generate_presigned_url with SigV4: a GET link read with urllib, a PUT link written with
    urllib; a link for one key does not open another."""
    s3 = s3_client(server, signature_version="s3v4")
    s3.create_bucket(Bucket="e2e-boto-presign")
    s3.put_object(Bucket="e2e-boto-presign", Key="report 2024.csv", Body=b"a,b\n1,2\n")
    url = s3.generate_presigned_url("get_object", ExpiresIn=300, Params={
        "Bucket": "e2e-boto-presign", "Key": "report 2024.csv"})
    assert "X-Amz-Algorithm=AWS4-HMAC-SHA256" in url, url
    assert fetch(url) == (200, b"a,b\n1,2\n"), url
    status, _ = fetch(url.replace("report%202024.csv", "other.csv"))
    assert status == 403, status

    url = s3.generate_presigned_url("put_object", ExpiresIn=300, Params={
        "Bucket": "e2e-boto-presign", "Key": "upload.txt"})
    request = urllib.request.Request(url, data=b"dropped off", method="PUT")
    with urllib.request.urlopen(request, timeout=30) as r:
        assert r.status == 200
    assert s3.get_object(Bucket="e2e-boto-presign", Key="upload.txt")["Body"].read() == \
        b"dropped off"
    empty_and_delete(s3, "e2e-boto-presign")


def check_boto3_checksums_and_content_md5(server):
    """Additional checksums (SHA256, CRC32) stored with an object come back on GET and boto3
    verifies them; a Content-MD5 that does not match the body is refused with BadDigest."""
    s3 = s3_client(server)
    s3.create_bucket(Bucket="e2e-boto-sums")
    body = b"checked on the way in and on the way out\n"
    for algorithm in ("SHA256", "CRC32"):
        put = s3.put_object(Bucket="e2e-boto-sums", Key=algorithm, Body=body,
                            ChecksumAlgorithm=algorithm)
        got = s3.get_object(Bucket="e2e-boto-sums", Key=algorithm, ChecksumMode="ENABLED")
        field = f"Checksum{algorithm}"
        assert got.get(field) and got[field] == put[field], (put, got)
        assert got["Body"].read() == body
    # The stored value is the body's own digest, not just whatever the client sent.
    head = s3.head_object(Bucket="e2e-boto-sums", Key="SHA256", ChecksumMode="ENABLED")
    assert head.get("ChecksumSHA256") == base64.b64encode(hashlib.sha256(body).digest()).decode()
    wrong = base64.b64encode(hashlib.md5(b"something else").digest()).decode()
    expect_client_error(lambda: s3.put_object(Bucket="e2e-boto-sums", Key="md5", Body=body,
                                              ContentMD5=wrong), "BadDigest", 400)
    expect_client_error(lambda: s3.head_object(Bucket="e2e-boto-sums", Key="md5"), "404", 404)
    empty_and_delete(s3, "e2e-boto-sums")


def check_boto3_full_object_multipart_checksum(server):
    """A FULL_OBJECT CRC32 multipart upload: its checksum is the CRC32 of the whole object
    (zlib's, computed here), asserted at completion, and read back with its type; a wrong
    asserted value is refused with BadDigest and the upload stays."""
    import zlib
    s3 = s3_client(server)
    bucket = "e2e-boto-fullsum"
    s3.create_bucket(Bucket=bucket)
    parts_data = [os.urandom(5 * MIB), os.urandom(123_457)]
    whole = b"".join(parts_data)
    crc32 = base64.b64encode(zlib.crc32(whole).to_bytes(4, "big")).decode()
    created = s3.create_multipart_upload(Bucket=bucket, Key="big", ChecksumAlgorithm="CRC32",
                                         ChecksumType="FULL_OBJECT")
    assert created.get("ChecksumType") == "FULL_OBJECT", created
    upload = {"Bucket": bucket, "Key": "big", "UploadId": created["UploadId"]}
    parts = []
    for number, data in enumerate(parts_data, start=1):
        out = s3.upload_part(**upload, PartNumber=number, Body=data, ChecksumAlgorithm="CRC32")
        part_crc = base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()
        assert out.get("ChecksumCRC32") == part_crc, out
        parts.append({"PartNumber": number, "ETag": out["ETag"], "ChecksumCRC32": part_crc})
    wrong = base64.b64encode(zlib.crc32(parts_data[0]).to_bytes(4, "big")).decode()
    expect_client_error(lambda: s3.complete_multipart_upload(
        **upload, MultipartUpload={"Parts": parts}, ChecksumType="FULL_OBJECT",
        ChecksumCRC32=wrong), "BadDigest", 400)
    done = s3.complete_multipart_upload(**upload, MultipartUpload={"Parts": parts},
                                        ChecksumType="FULL_OBJECT", ChecksumCRC32=crc32)
    assert (done.get("ChecksumCRC32"), done.get("ChecksumType")) == (crc32, "FULL_OBJECT"), done
    got = s3.get_object(Bucket=bucket, Key="big", ChecksumMode="ENABLED")
    assert (got.get("ChecksumCRC32"), got.get("ChecksumType")) == (crc32, "FULL_OBJECT"), got
    # boto3 checks the body against a full-object checksum as it reads it.
    assert got["Body"].read() == whole
    head = s3.head_object(Bucket=bucket, Key="big", ChecksumMode="ENABLED")
    assert (head.get("ChecksumCRC32"), head.get("ChecksumType")) == (crc32, "FULL_OBJECT"), head
    empty_and_delete(s3, bucket)


def check_boto3_conditional_get(server):
    """If-None-Match / If-Modified-Since answer 304; If-Match / If-Unmodified-Since 412."""
    s3 = s3_client(server)
    s3.create_bucket(Bucket="e2e-boto-cond")
    etag = s3.put_object(Bucket="e2e-boto-cond", Key="k", Body=b"v1")["ETag"]
    at = {"Bucket": "e2e-boto-cond", "Key": "k"}
    later = datetime.now(timezone.utc) + timedelta(days=1)
    earlier = datetime.now(timezone.utc) - timedelta(days=1)
    expect_client_error(lambda: s3.get_object(**at, IfNoneMatch=etag), "304", 304)
    expect_client_error(lambda: s3.get_object(**at, IfModifiedSince=later), "304", 304)
    expect_client_error(lambda: s3.get_object(**at, IfMatch='"0000"'), "PreconditionFailed", 412)
    expect_client_error(lambda: s3.get_object(**at, IfUnmodifiedSince=earlier),
                        "PreconditionFailed", 412)
    assert s3.get_object(**at, IfMatch=etag)["Body"].read() == b"v1"
    assert s3.get_object(**at, IfNoneMatch='"0000"')["Body"].read() == b"v1"
    assert s3.get_object(**at, IfModifiedSince=earlier)["Body"].read() == b"v1"
    expect_client_error(lambda: s3.head_object(**at, IfNoneMatch=etag), "304", 304)
    empty_and_delete(s3, "e2e-boto-cond")


CHECKS = [
    check_boto3_reads_s3_errors_and_request_ids,
    check_boto3_put_get_head_delete,
    check_boto3_transfer_multipart_up_and_down,
    check_boto3_multipart_mistakes_get_their_codes,
    check_boto3_paginates_150_keys_with_delimiter,
    check_boto3_copy_object_and_delete_objects,
    check_boto3_presigned_urls_v4,
    check_boto3_checksums_and_content_md5,
    check_boto3_full_object_multipart_checksum,
    check_boto3_conditional_get,
]
