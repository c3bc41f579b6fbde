"""Object versions as backup users meet them: the aws CLI (enable versioning, overwrite, list
versions, restore an old version by copying it over the current one, delete then undelete by
removing the marker), boto3's `bucket.object_versions`, and rclone's `--s3-versions` listing
and `backend versioning`."""

import json
import os

from harness import (ACCESS_KEY, REGION, SECRET, aws, boto3_client, expect_client_error,
                     read_bytes, require_tool, run_tool, write_file)


def cli(server, *args):
    """`aws s3api ...` on the S3 port that must succeed; its JSON output parsed."""
    require_tool("aws")
    out = aws(server, "s3", "s3api", *args)
    assert out.returncode == 0, f"aws s3api {' '.join(args)}: exit {out.returncode}\n{out.stderr}"
    return json.loads(out.stdout) if out.stdout.strip() else {}


def versions_of(listing):
    """(key, version id, IsLatest, is a marker) of a list-object-versions answer, versions
    and markers merged in list order (this server's ids ascend newest first within a key)."""
    rows = [(v["Key"], v["VersionId"], v["IsLatest"], False) for v in listing.get("Versions", [])]
    rows += [(m["Key"], m["VersionId"], m["IsLatest"], True)
             for m in listing.get("DeleteMarkers", [])]
    return sorted(rows, key=lambda r: (r[0], r[1]))


def remove_every_version(s3, bucket):
    """Deletes every version and delete marker, then the bucket: DeleteBucket refuses a
    bucket that still holds any."""
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        doomed = [{"Key": v["Key"], "VersionId": v["VersionId"]}
                  for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]
        if doomed:
            s3.delete_objects(Bucket=bucket, Delete={"Objects": doomed, "Quiet": True})
    s3.delete_bucket(Bucket=bucket)


def check_versions_aws_cli_overwrite_restore_undelete(server):
    bucket = "e2e-versions-cli"
    work = server.workdir("versions-cli")
    cli(server, "create-bucket", "--bucket", bucket)
    cli(server, "put-bucket-versioning", "--bucket", bucket,
        "--versioning-configuration", "Status=Enabled")
    assert cli(server, "get-bucket-versioning", "--bucket", bucket)["Status"] == "Enabled"
    ids = []
    for n in range(3):
        body = os.path.join(work, f"v{n}.txt")
        write_file(body, f"report, draft {n}\n".encode())
        put = cli(server, "put-object", "--bucket", bucket, "--key", "docs/report.txt",
                  "--body", body)
        ids.append(put["VersionId"])
    cli(server, "put-object", "--bucket", bucket, "--key", "other.txt", "--body", body)

    listing = cli(server, "list-object-versions", "--bucket", bucket)
    assert versions_of(listing)[:3] == [("docs/report.txt", i, i == ids[2], False)
                                        for i in reversed(ids)], listing
    assert listing["Versions"][0]["VersionId"] == ids[2], "newest first"

    # Delete: a marker becomes the latest; the versions stay.
    deleted = cli(server, "delete-object", "--bucket", bucket, "--key", "docs/report.txt")
    assert deleted["DeleteMarker"] is True, deleted
    marker = deleted["VersionId"]
    listing = cli(server, "list-object-versions", "--bucket", bucket, "--prefix", "docs/")
    assert versions_of(listing) == [("docs/report.txt", marker, True, True)] + [
        ("docs/report.txt", i, False, False) for i in reversed(ids)], listing
    assert cli(server, "list-objects-v2", "--bucket", bucket, "--prefix", "docs/").get(
        "Contents", []) == []

    # Undelete: remove the marker.
    cli(server, "delete-object", "--bucket", bucket, "--key", "docs/report.txt",
        "--version-id", marker)
    listing = cli(server, "list-object-versions", "--bucket", bucket, "--prefix", "docs/")
    assert [v[1:3] for v in versions_of(listing)] == [(ids[2], True), (ids[1], False),
                                                       (ids[0], False)], listing

    # Restore the first draft by copying it over the current version.
    cli(server, "copy-object", "--bucket", bucket, "--key", "docs/report.txt",
        "--copy-source", f"{bucket}/docs/report.txt?versionId={ids[0]}")
    out = os.path.join(work, "restored.txt")
    cli(server, "get-object", "--bucket", bucket, "--key", "docs/report.txt", out)
    assert read_bytes(out) == b"report, draft 0\n"

    # Paged by the server one entry at a time, the CLI still sees every version once.
    paged = cli(server, "list-object-versions", "--bucket", bucket, "--page-size", "1")
    whole = cli(server, "list-object-versions", "--bucket", bucket)
    assert versions_of(paged) == versions_of(whole) and len(versions_of(whole)) == 5, paged

    # A version-id marker without a key marker is refused as S3 refuses it.
    refused = aws(server, "s3", "s3api", "list-object-versions", "--bucket", bucket,
                  "--version-id-marker", ids[0])
    assert refused.returncode != 0 and "InvalidArgument" in refused.stderr, refused.stderr

    remove_every_version(boto3_client(server, "s3", "s3"), bucket)


def check_versions_boto3_object_versions(server):
    import boto3
    from botocore.config import Config
    s3 = boto3_client(server, "s3", "s3")
    resource = boto3.resource("s3", endpoint_url=server.url("s3"), region_name=REGION,
                              aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET,
                              config=Config(retries={"max_attempts": 1}))
    bucket = resource.Bucket("e2e-versions-boto")
    bucket.create()
    # Before versioning: every object is its null version.
    bucket.put_object(Key="old.txt", Body=b"unversioned")
    assert [(v.object_key, v.id, v.is_latest) for v in bucket.object_versions.all()] == [
        ("old.txt", "null", True)]
    bucket.Versioning().enable()
    written = {}
    for key in ["logs/a.txt", "logs/b.txt", "photos/c.jpg"]:
        written[key] = [bucket.put_object(Key=key, Body=f"{key} {n}".encode()).version_id
                        for n in range(4)]
    bucket.Object("logs/b.txt").delete()

    listed = [(v.object_key, v.id, v.is_latest) for v in bucket.object_versions.all()]
    assert len(listed) == 1 + 12 + 1, listed
    assert ("old.txt", "null", True) in listed
    for key, ids in written.items():
        mine = [(k, i) for k, i, _ in listed if k == key and i in ids]
        assert [i for _, i in mine] == list(reversed(ids)), (key, listed)
    logs = list(bucket.object_versions.filter(Prefix="logs/"))
    assert {v.object_key for v in logs} == {"logs/a.txt", "logs/b.txt"}, logs
    assert len(logs) == 9, [(v.object_key, v.id) for v in logs]
    latest_b = [v for v in logs if v.object_key == "logs/b.txt" and v.is_latest]
    assert len(latest_b) == 1 and latest_b[0].size is None, "the marker is the latest of b"

    # Small pages through the paginator: every version exactly once.
    paged = [(v["Key"], v["VersionId"])
             for page in s3.get_paginator("list_object_versions").paginate(
                 Bucket=bucket.name, PaginationConfig={"PageSize": 2})
             for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]
    assert sorted(paged) == sorted((k, i) for k, i, _ in listed)
    assert len(set(paged)) == len(paged)

    # The bucket cannot go while any version remains; object_versions.delete() empties it.
    expect_client_error(lambda: bucket.delete(), "BucketNotEmpty", 409)
    bucket.object_versions.delete()
    assert list(bucket.object_versions.all()) == []
    bucket.delete()


def rclone_in(server, work):
    """`rclone ARGS` (stdout) with a remote `lab` from RCLONE_CONFIG_LAB_* variables, as
    checks_rclone configures it, one try per request."""
    require_tool("rclone")
    env = {k: v for k, v in os.environ.items() if not k.startswith("RCLONE_")}
    env.pop("AWS_CA_BUNDLE", None)
    env.update({
        "RCLONE_CONFIG": os.path.join(work, "rclone.conf"),
        "RCLONE_CONFIG_LAB_TYPE": "s3",
        "RCLONE_CONFIG_LAB_PROVIDER": "Other",
        "RCLONE_CONFIG_LAB_ACCESS_KEY_ID": ACCESS_KEY,
        "RCLONE_CONFIG_LAB_SECRET_ACCESS_KEY": SECRET,
        "RCLONE_CONFIG_LAB_ENDPOINT": server.url("s3"),
        "RCLONE_CONFIG_LAB_REGION": REGION,
        "RCLONE_CONFIG_LAB_FORCE_PATH_STYLE": "true",
    })
    flags = ["--retries", "1", "--low-level-retries", "1"]
    return lambda *args: run_tool(["rclone", *args, *flags], env=env).stdout


def check_versions_rclone_listing_and_backend_versioning(server):
    work = server.workdir("versions-rclone")
    rclone = rclone_in(server, work)
    bucket = "e2e-versions-rclone"
    rclone("mkdir", f"lab:{bucket}")
    before = rclone("backend", "versioning", f"lab:{bucket}")
    assert "Enabled" not in before and "Suspended" not in before, before
    out = rclone("backend", "versioning", f"lab:{bucket}", "Enabled")
    assert "Enabled" in out, out
    assert "Enabled" in rclone("backend", "versioning", f"lab:{bucket}")

    src = os.path.join(work, "notes.txt")
    for text in [b"first\n", b"second, longer\n"]:
        write_file(src, text)
        rclone("copyto", src, f"lab:{bucket}/notes.txt")
    plain = rclone("ls", f"lab:{bucket}")
    assert [line.split(None, 1)[1] for line in plain.splitlines()] == ["notes.txt"], plain
    versions = rclone("ls", "--s3-versions", f"lab:{bucket}")
    names = sorted(line.split(None, 1)[1] for line in versions.splitlines())
    sizes = sorted(int(line.split(None, 1)[0]) for line in versions.splitlines())
    assert len(names) == 2 and "notes.txt" in names, versions
    old = [n for n in names if n != "notes.txt"][0]
    assert old.startswith("notes-v") and old.endswith(".txt"), old
    assert sizes == [6, 15], versions
    # The old version reads back through its version name.
    got = rclone("cat", "--s3-versions", f"lab:{bucket}/{old}")
    assert got == "first\n", got

    remove_every_version(boto3_client(server, "s3", "s3"), bucket)


CHECKS = [
    check_versions_aws_cli_overwrite_restore_undelete,
    check_versions_boto3_object_versions,
    check_versions_rclone_listing_and_backend_versioning,
]
