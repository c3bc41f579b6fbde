"""Disk full on a real, small volume (docs/operations.md, "Disk full"): a 32 MiB tmpfs mounted
as the data directory of a server of this check's own, with the free-space floor off
(`backend.s3.min_free_bytes: 0`) so that writes run into ENOSPC itself. boto3 fills it with
1 MiB objects until a PUT is refused, and the check asserts that the refusal is an S3 503
SlowDown (never a 500, never a hang), that nothing torn is left (no temporary file), that
every acknowledged object reads back byte-identical, that the server still serves, and that
once objects are deleted, writes work again. Then the floor: the same volume with a floor
above its size refuses writes at once and /ready says degraded. Needs root (mount), which
CI has; unmounts after."""

import json
import os
import subprocess
import urllib.request

from harness import MIB, Server, boto3_client


def mounted_tmpfs(path, size):
    os.makedirs(path)
    assert os.geteuid() == 0, "this check mounts a tmpfs: run it as root (CI does)"
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", path], check=True)


def ready(server):
    with urllib.request.urlopen(server.url("admin", "/ready"), timeout=10) as r:
        return r.status, json.load(r)


def check_diskfull_enospc_refuses_with_503_and_loses_nothing(server):
    from botocore.exceptions import ClientError
    work = server.workdir("diskfull")
    data = os.path.join(work, "volume")
    keys = os.path.join(work, "keys")
    mounted_tmpfs(data, "32m")
    try:
        os.mkdir(os.path.join(work, "run"))
        full = Server(server.binary, os.path.join(work, "run"), env={
            "LABSTORE_BACKEND_STORAGE_DATA_DIR": data,
            "LABSTORE_BACKEND_STORAGE_KEYS_DIR": keys,
            "LABSTORE_BACKEND_S3_MIN_FREE_BYTES": "0",
        })
        try:
            s3 = boto3_client(full, "s3", "s3")
            bucket = "e2e-diskfull"
            s3.create_bucket(Bucket=bucket)
            acked = {}
            refusal = None
            for n in range(100):
                key, body = f"fill-{n:03}", os.urandom(MIB)
                try:
                    s3.put_object(Bucket=bucket, Key=key, Body=body)
                    acked[key] = body
                except ClientError as e:
                    refusal = e.response
                    break
            assert refusal is not None, "32 MiB never filled up"
            assert len(acked) > 10, f"refused too early, after {len(acked)} objects: {refusal}"
            status = refusal["ResponseMetadata"]["HTTPStatusCode"]
            assert (status, refusal["Error"]["Code"]) == (503, "SlowDown"), refusal
            assert "storage space" in refusal["Error"]["Message"], refusal
            # Nothing torn: the refused upload's temporary file is gone.
            assert os.listdir(os.path.join(data, "objects", "tmp")) == []
            # Every acknowledged object is whole, and the server still serves.
            for key, body in acked.items():
                assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == body, key
            listed = s3.list_objects_v2(Bucket=bucket)["KeyCount"]
            assert listed == len(acked), (listed, len(acked))
            assert ready(full)[0] == 200
            # Deletes work on a full volume, and free it: writes are accepted again.
            for key in list(acked)[:4]:
                s3.delete_object(Bucket=bucket, Key=key)
                del acked[key]
            body = os.urandom(MIB)
            s3.put_object(Bucket=bucket, Key="after", Body=body)
            assert s3.get_object(Bucket=bucket, Key="after")["Body"].read() == body
            for key in list(acked) + ["after"]:
                s3.delete_object(Bucket=bucket, Key=key)
            s3.delete_bucket(Bucket=bucket)
        finally:
            assert full.stop() == 0, full.logs()
        assert "panicked" not in full.logs(), full.logs()

        # The floor: above the volume's size, writes are refused before a byte is written,
        # reads go on, and /ready says degraded while /health stays ok.
        os.mkdir(os.path.join(work, "floored"))
        floored = Server(server.binary, os.path.join(work, "floored"), env={
            "LABSTORE_BACKEND_STORAGE_DATA_DIR": data,
            "LABSTORE_BACKEND_STORAGE_KEYS_DIR": keys,
            "LABSTORE_BACKEND_S3_MIN_FREE_BYTES": str(64 * MIB),
        })
        try:
            s3 = boto3_client(floored, "s3", "s3")
            s3.create_bucket(Bucket="e2e-floor")
            try:
                s3.put_object(Bucket="e2e-floor", Key="k", Body=b"x" * 1000)
                raise AssertionError("a write below the floor was accepted")
            except ClientError as e:
                assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 503, e.response
                assert e.response["Error"]["Code"] == "SlowDown", e.response
            status, body = ready(floored)
            assert status == 200 and body["status"] == "degraded", body
            with urllib.request.urlopen(floored.url("admin", "/health"), timeout=10) as r:
                assert r.status == 200
            s3.delete_bucket(Bucket="e2e-floor")
        finally:
            assert floored.stop() == 0, floored.logs()
    finally:
        subprocess.run(["umount", data], check=True)


CHECKS = [check_diskfull_enospc_refuses_with_503_and_loses_nothing]
