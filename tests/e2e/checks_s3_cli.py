"""The aws CLI (v1) on the S3 listener, as a user types it: `aws s3` for files and trees,
`aws s3api` for single operations, `aws s3 presign` for links handed to someone else."""

import json
import os
import re
import time
import urllib.parse

from harness import (MIB, assert_same_tree, aws, aws_env, fetch, make_tree, read_bytes,
                     require_tool, run_tool, write_file)


def cli(server, *args, config_file=None):
    """`aws ...` on the S3 port that must succeed; JSON output parsed for s3api."""
    require_tool("aws")
    transfers = (("s3", "cp"), ("s3", "mv"), ("s3", "rm"), ("s3", "sync"))
    quiet = ["--only-show-errors"] if args[:2] in transfers else []
    out = aws(server, "s3", *args, *quiet, config_file=config_file)
    assert out.returncode == 0, f"aws {' '.join(args)}: exit {out.returncode}\n{out.stderr}"
    if args[0] == "s3api":
        return json.loads(out.stdout) if out.stdout.strip() else {}
    return out.stdout


def listed_keys(listing):
    """Keys from `aws s3 ls --recursive` lines: 'DATE TIME SIZE KEY' (keys may hold spaces)."""
    return sorted(line.split(None, 3)[3] for line in listing.splitlines() if line.strip())


def listed_level(listing):
    """(prefixes, names) from a non-recursive `aws s3 ls`: 'PRE dir/' or 'DATE TIME SIZE NAME'."""
    prefixes, names = [], []
    for line in filter(str.strip, listing.splitlines()):
        if line.split()[0] == "PRE":
            prefixes.append(line.split(None, 1)[1])
        else:
            names.append(line.split(None, 3)[3])
    return sorted(prefixes), sorted(names)


def tamper(url, param):
    """The URL with one character of query parameter `param`'s value changed."""
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    changed = [(k, ("B" if v[0] == "A" else "A") + v[1:] if k == param else v)
               for k, v in query]
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(changed)))


def check_aws_cli_s3_round_trip(server):
    """mb, cp up (small, and 20 MiB so the CLI uses multipart), ls, cp down, compare; a pipe
    through stdin and stdout; an S3-to-S3 cp (UploadPartCopy at this size) and mv; rm, rb."""
    work = server.workdir("cli-cp")
    small, big = os.path.join(work, "small.txt"), os.path.join(work, "big.bin")
    write_file(small, b"hello labstore\n")
    data = os.urandom(20 * MIB)
    write_file(big, data)

    assert cli(server, "s3", "mb", "s3://e2e-cli").strip() == "make_bucket: e2e-cli"
    cli(server, "s3", "cp", small, "s3://e2e-cli/docs/small.txt")
    cli(server, "s3", "cp", big, "s3://e2e-cli/big.bin")
    # The CLI splits at 8 MiB: a multipart ETag ends in -<parts>, a PutObject one does not.
    head = cli(server, "s3api", "head-object", "--bucket", "e2e-cli", "--key", "big.bin")
    assert head["ETag"].endswith('-3"') and head["ContentLength"] == 20 * MIB, head
    listing = cli(server, "s3", "ls", "s3://e2e-cli", "--recursive")
    assert listed_keys(listing) == ["big.bin", "docs/small.txt"], listing
    for name, local in [("docs/small.txt", small), ("big.bin", big)]:
        back = os.path.join(work, "back")
        cli(server, "s3", "cp", f"s3://e2e-cli/{name}", back)
        assert read_bytes(back) == read_bytes(local), name

    # `tar c . | aws s3 cp - s3://...`: a stream of unknown length, multipart as it goes.
    endpoint = ["aws", "--endpoint-url", server.url("s3")]
    run_tool([*endpoint, "s3", "cp", "-", "s3://e2e-cli/piped.bin"], env=aws_env(), stdin=data,
             text=False)
    out = run_tool([*endpoint, "s3", "cp", "s3://e2e-cli/piped.bin", "-"], env=aws_env(),
                   text=False)
    assert out.stdout == data, "stdout download differs from the piped upload"

    cli(server, "s3", "cp", "s3://e2e-cli/big.bin", "s3://e2e-cli/copies/big.bin")
    cli(server, "s3", "mv", "s3://e2e-cli/copies/big.bin", "s3://e2e-cli/moved/bïg.bin")
    back = os.path.join(work, "back")
    cli(server, "s3", "cp", "s3://e2e-cli/moved/bïg.bin", back)
    assert read_bytes(back) == data, "the S3-to-S3 copy differs"
    listing = cli(server, "s3", "ls", "s3://e2e-cli", "--recursive")
    assert listed_keys(listing) == ["big.bin", "docs/small.txt", "moved/bïg.bin",
                                    "piped.bin"], listing

    cli(server, "s3", "rm", "s3://e2e-cli/docs", "--recursive")
    assert listed_level(cli(server, "s3", "ls", "s3://e2e-cli"))[0] == ["moved/"]
    out = aws(server, "s3", "s3", "rb", "s3://e2e-cli")
    assert out.returncode != 0 and "BucketNotEmpty" in out.stderr, out.stderr
    cli(server, "s3", "rb", "s3://e2e-cli", "--force")
    assert "e2e-cli" not in cli(server, "s3", "ls")


def check_aws_cli_s3_sync_tree_round_trip(server):
    """sync a tree (nested dirs, spaces, Unicode, URL-special characters, an empty file) up and
    back into an empty dir; ls by prefix; a second sync finds nothing to do; sync --delete."""
    work = server.workdir("cli-sync")
    up, down = os.path.join(work, "up"), os.path.join(work, "down")
    tree = make_tree(up)
    cli(server, "s3", "mb", "s3://e2e-sync")
    cli(server, "s3", "sync", up, "s3://e2e-sync/project")
    os.mkdir(down)
    cli(server, "s3", "sync", "s3://e2e-sync/project", down)
    assert_same_tree(tree, down)

    listing = cli(server, "s3", "ls", "s3://e2e-sync", "--recursive")
    assert listed_keys(listing) == sorted(f"project/{k}" for k in tree), listing
    # By prefix, not recursive: the objects and common prefixes one level under project/docs/.
    docs = cli(server, "s3", "ls", "s3://e2e-sync/project/docs/")
    assert listed_level(docs) == (["deep/"], ["guide.txt"]), docs
    top = cli(server, "s3", "ls", "s3://e2e-sync/project/")
    assert listed_level(top) == (["docs/", "odd/", "photos/"],
                                 [".hidden", "README.md", "empty.txt"]), top
    partial = cli(server, "s3", "ls", "s3://e2e-sync/project/do")
    assert listed_level(partial) == (["docs/"], []), partial
    photos = cli(server, "s3", "ls", "s3://e2e-sync/project/photos/2024 summer/")
    assert listed_level(photos) == ([], ["crème brûlée — 日本.txt"]), photos

    # Sizes and times the server lists must match what was uploaded: nothing to sync again.
    again = aws(server, "s3", "s3", "sync", up, "s3://e2e-sync/project")
    assert again.returncode == 0 and again.stdout.strip() == "", again.stdout + again.stderr
    os.remove(os.path.join(up, "docs", "guide.txt"))
    cli(server, "s3", "sync", up, "s3://e2e-sync/project", "--delete")
    listing = cli(server, "s3", "ls", "s3://e2e-sync/project/docs/", "--recursive")
    assert listed_keys(listing) == ["project/docs/deep/er/nested.json"], listing

    cli(server, "s3", "rm", "s3://e2e-sync", "--recursive")
    cli(server, "s3", "rb", "s3://e2e-sync")


def check_aws_cli_presigned_urls(server):
    """`aws s3 presign` links fetched with a plain HTTP client: the CLI's default (SigV2
    query auth on S3) and SigV4 (s3.signature_version = s3v4 in the user's config); both
    refused with 403 once expired, and when the signature is tampered with."""
    work = server.workdir("cli-presign")
    body = b"shared with a colleague\n"
    write_file(os.path.join(work, "note.txt"), body)
    cli(server, "s3", "mb", "s3://e2e-presign")
    cli(server, "s3", "cp", os.path.join(work, "note.txt"), "s3://e2e-presign/a note.txt")

    v4_config = os.path.join(work, "aws-config")
    out = aws(server, "s3", "configure", "set", "default.s3.signature_version", "s3v4",
              config_file=v4_config)
    assert out.returncode == 0, out.stderr
    expiring = []
    for config, signature in [(None, "Signature"), (v4_config, "X-Amz-Signature")]:
        url = cli(server, "s3", "presign", "s3://e2e-presign/a note.txt",
                  config_file=config).strip()
        assert f"&{signature}=" in url and url.startswith(server.url("s3")), url
        assert fetch(url) == (200, body), url
        status, error = fetch(tamper(url, signature))
        assert status == 403 and b"<Code>SignatureDoesNotMatch</Code>" in error, (status, error)
        expiring.append(cli(server, "s3", "presign", "s3://e2e-presign/a note.txt",
                            "--expires-in", "1", config_file=config).strip())
    time.sleep(2)
    for url in expiring:
        status, error = fetch(url)
        assert status == 403 and b"<Code>AccessDenied</Code>" in error, (url, status, error)

    cli(server, "s3", "rm", "s3://e2e-presign", "--recursive")
    cli(server, "s3", "rb", "s3://e2e-presign")


def check_aws_cli_s3api_multipart_by_hand(server):
    """create-multipart-upload, upload-part x2, list-multipart-uploads, list-parts,
    complete-multipart-upload, then the object reads back whole; abort drops an upload."""
    work = server.workdir("cli-mpu")
    parts = [os.urandom(5 * MIB), b"the short last part\n"]
    for i, data in enumerate(parts, 1):
        write_file(os.path.join(work, f"part{i}"), data)
    bucket = ["--bucket", "e2e-mpu"]
    cli(server, "s3", "mb", "s3://e2e-mpu")
    upload = cli(server, "s3api", "create-multipart-upload", *bucket, "--key", "joined.bin",
                 "--content-type", "application/x-joined")["UploadId"]
    at = ["--key", "joined.bin", "--upload-id", upload]
    etags = [cli(server, "s3api", "upload-part", *bucket, *at, "--part-number", str(i),
                 "--body", os.path.join(work, f"part{i}"))["ETag"] for i in (1, 2)]

    uploads = cli(server, "s3api", "list-multipart-uploads", *bucket)["Uploads"]
    assert [(u["Key"], u["UploadId"]) for u in uploads] == [("joined.bin", upload)], uploads
    listed = cli(server, "s3api", "list-parts", *bucket, *at)["Parts"]
    assert [(p["PartNumber"], p["ETag"], p["Size"]) for p in listed] == [
        (1, etags[0], len(parts[0])), (2, etags[1], len(parts[1]))], listed

    layout = {"Parts": [{"PartNumber": i, "ETag": e} for i, e in enumerate(etags, 1)]}
    done = cli(server, "s3api", "complete-multipart-upload", *bucket, *at,
               "--multipart-upload", json.dumps(layout))
    assert done["Key"] == "joined.bin" and done["ETag"].endswith('-2"'), done
    back = os.path.join(work, "back")
    got = cli(server, "s3api", "get-object", *bucket, "--key", "joined.bin", back)
    assert got["ContentType"] == "application/x-joined" and got["ETag"] == done["ETag"], got
    assert read_bytes(back) == b"".join(parts)
    assert "Uploads" not in cli(server, "s3api", "list-multipart-uploads", *bucket)

    dropped = cli(server, "s3api", "create-multipart-upload", *bucket,
                  "--key", "dropped")["UploadId"]
    cli(server, "s3api", "abort-multipart-upload", *bucket, "--key", "dropped",
        "--upload-id", dropped)
    out = aws(server, "s3", "s3api", "list-parts", *bucket, "--key", "dropped",
              "--upload-id", dropped)
    assert out.returncode != 0 and "(NoSuchUpload)" in out.stderr, out.stderr

    cli(server, "s3", "rm", "s3://e2e-mpu", "--recursive")
    cli(server, "s3", "rb", "s3://e2e-mpu")


def check_aws_cli_s3api_copy_head_and_range(server):
    """copy-object with --metadata-directive REPLACE (and the default COPY), head-object sees
    the metadata each should carry, get-object --range returns exactly the asked bytes."""
    work = server.workdir("cli-copy")
    data = bytes(range(256)) * 64
    write_file(os.path.join(work, "data.bin"), data)
    bucket = ["--bucket", "e2e-copy"]
    cli(server, "s3", "mb", "s3://e2e-copy")
    cli(server, "s3api", "put-object", *bucket, "--key", "src/data.bin", "--body",
        os.path.join(work, "data.bin"), "--content-type", "application/x-original",
        "--metadata", "origin=camera,take=1")

    cli(server, "s3api", "copy-object", *bucket, "--key", "kept.bin",
        "--copy-source", "e2e-copy/src/data.bin")
    kept = cli(server, "s3api", "head-object", *bucket, "--key", "kept.bin")
    assert kept["Metadata"] == {"origin": "camera", "take": "1"}, kept
    assert kept["ContentType"] == "application/x-original", kept

    cli(server, "s3api", "copy-object", *bucket, "--key", "replaced.bin",
        "--copy-source", "e2e-copy/src/data.bin", "--metadata-directive", "REPLACE",
        "--metadata", "origin=edit", "--content-type", "application/x-edited")
    head = cli(server, "s3api", "head-object", *bucket, "--key", "replaced.bin")
    assert head["Metadata"] == {"origin": "edit"}, head
    assert head["ContentType"] == "application/x-edited", head
    assert head["ContentLength"] == len(data) and head["ETag"] == kept["ETag"], head

    for spec, first, last in [("bytes=100-299", 100, 299), ("bytes=-10", 16374, 16383),
                              ("bytes=16000-", 16000, 16383)]:
        out = os.path.join(work, "range")
        got = cli(server, "s3api", "get-object", *bucket, "--key", "replaced.bin",
                  "--range", spec, out)
        assert read_bytes(out) == data[first:last + 1], spec
        assert got["ContentRange"] == f"bytes {first}-{last}/{len(data)}", (spec, got)
        assert got["ContentLength"] == last + 1 - first, (spec, got)

    cli(server, "s3", "rm", "s3://e2e-copy", "--recursive")
    cli(server, "s3", "rb", "s3://e2e-copy")


def check_aws_cli_s3api_tagging(server):
    """put-object --tagging, put/get/delete-object-tagging, put/get/delete-bucket-tagging,
    head-object's TagCount, the tags a multipart `aws s3 cp` and an S3-to-S3 `aws s3 cp`
    carry, and the errors of a bucket without tags and of an invalid tag."""
    work = server.workdir("cli-tagging")
    small, big = os.path.join(work, "small.txt"), os.path.join(work, "big.bin")
    write_file(small, b"tagged\n")
    write_file(big, os.urandom(9 * MIB))
    bucket = ["--bucket", "e2e-tags"]
    cli(server, "s3", "mb", "s3://e2e-tags")

    def tags(key):
        got = cli(server, "s3api", "get-object-tagging", *bucket, "--key", key)
        return {t["Key"]: t["Value"] for t in got["TagSet"]}

    cli(server, "s3api", "put-object", *bucket, "--key", "doc.txt", "--body", small,
        "--tagging", "team=blue&stage=draft%20one")
    assert tags("doc.txt") == {"team": "blue", "stage": "draft one"}
    head = cli(server, "s3api", "head-object", *bucket, "--key", "doc.txt")
    assert head.get("TagCount") == 2, head

    cli(server, "s3api", "put-object-tagging", *bucket, "--key", "doc.txt", "--tagging",
        "TagSet=[{Key=team,Value=red},{Key=owner,Value=alice}]")
    assert tags("doc.txt") == {"team": "red", "owner": "alice"}
    # An invalid tag set changes nothing.
    out = aws(server, "s3", "s3api", "put-object-tagging", *bucket, "--key", "doc.txt",
              "--tagging", "TagSet=[{Key=a,Value=1},{Key=a,Value=2}]")
    assert out.returncode != 0 and "(InvalidTag)" in out.stderr, out.stderr
    assert tags("doc.txt") == {"team": "red", "owner": "alice"}

    # `aws s3 cp` copies S3-to-S3 with CopyObject, whose default directive keeps the tags.
    cli(server, "s3", "cp", "s3://e2e-tags/doc.txt", "s3://e2e-tags/copy.txt")
    assert tags("copy.txt") == {"team": "red", "owner": "alice"}
    # A 9 MiB upload is multipart in the CLI; the tags given at the start are the object's.
    cli(server, "s3api", "create-multipart-upload", *bucket, "--key", "mp.bin",
        "--tagging", "kind=multipart")
    uploads = cli(server, "s3api", "list-multipart-uploads", *bucket)["Uploads"]
    upload_id = uploads[0]["UploadId"]
    part = cli(server, "s3api", "upload-part", *bucket, "--key", "mp.bin", "--upload-id",
               upload_id, "--part-number", "1", "--body", big)
    parts = json.dumps({"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    cli(server, "s3api", "complete-multipart-upload", *bucket, "--key", "mp.bin",
        "--upload-id", upload_id, "--multipart-upload", parts)
    assert tags("mp.bin") == {"kind": "multipart"}

    cli(server, "s3api", "delete-object-tagging", *bucket, "--key", "doc.txt")
    assert tags("doc.txt") == {}
    head = cli(server, "s3api", "head-object", *bucket, "--key", "doc.txt")
    assert "TagCount" not in head, head

    out = aws(server, "s3", "s3api", "get-bucket-tagging", *bucket)
    assert out.returncode != 0 and "(NoSuchTagSet)" in out.stderr, out.stderr
    cli(server, "s3api", "put-bucket-tagging", *bucket, "--tagging",
        "TagSet=[{Key=Project,Value=Project One},{Key=User,Value=jsmith}]")
    got = cli(server, "s3api", "get-bucket-tagging", *bucket)["TagSet"]
    assert got == [{"Key": "Project", "Value": "Project One"},
                   {"Key": "User", "Value": "jsmith"}], got
    cli(server, "s3api", "delete-bucket-tagging", *bucket)
    out = aws(server, "s3", "s3api", "get-bucket-tagging", *bucket)
    assert out.returncode != 0 and "(NoSuchTagSet)" in out.stderr, out.stderr

    cli(server, "s3", "rm", "s3://e2e-tags", "--recursive")
    cli(server, "s3", "rb", "s3://e2e-tags")


# What S3 answers each `aws s3api` read on a fresh bucket (and an object in it): None for
# success, else the error code. Every get-bucket-*/get-object-*/list-bucket-* command the
# installed CLI has must be here, so a new one is noticed.
FRESH_BUCKET_READS = {
    "get-bucket-abac": "NotImplemented",
    "get-bucket-accelerate-configuration": None,
    "get-bucket-acl": None,
    "get-bucket-analytics-configuration": "NoSuchConfiguration",
    "get-bucket-cors": "NoSuchCORSConfiguration",
    # A new bucket gets SSE-S3 by default, as on S3 (docs/s3.md, "Server-side encryption").
    "get-bucket-encryption": None,
    "get-bucket-intelligent-tiering-configuration": "NoSuchConfiguration",
    "get-bucket-inventory-configuration": "NoSuchConfiguration",
    "get-bucket-lifecycle": "NoSuchLifecycleConfiguration",
    "get-bucket-lifecycle-configuration": "NoSuchLifecycleConfiguration",
    "get-bucket-location": None,
    "get-bucket-logging": None,
    "get-bucket-metadata-configuration": "NotImplemented",
    "get-bucket-metadata-table-configuration": "NotImplemented",
    "get-bucket-metrics-configuration": "NoSuchConfiguration",
    "get-bucket-notification": None,
    "get-bucket-notification-configuration": None,
    # A new bucket has Object Ownership BucketOwnerEnforced and Block Public Access on.
    "get-bucket-ownership-controls": None,
    "get-bucket-policy": "NoSuchBucketPolicy",
    "get-bucket-policy-status": "NoSuchBucketPolicy",
    "get-bucket-replication": "ReplicationConfigurationNotFoundError",
    "get-bucket-request-payment": None,
    "get-bucket-tagging": "NoSuchTagSet",
    "get-bucket-versioning": None,
    "get-bucket-website": "NoSuchWebsiteConfiguration",
    "get-object-acl": None,
    "get-object-attributes": None,
    "get-object-legal-hold": "InvalidRequest",
    "get-object-lock-configuration": "ObjectLockConfigurationNotFoundError",
    "get-object-retention": "InvalidRequest",
    "get-object-tagging": None,
    "get-object-torrent": "NotImplemented",
    "get-public-access-block": None,
    "list-bucket-analytics-configurations": None,
    "list-bucket-intelligent-tiering-configurations": None,
    "list-bucket-inventory-configurations": None,
    "list-bucket-metrics-configurations": None,
}


def s3api_reads():
    """The read commands of the installed CLI that address one bucket or object."""
    require_tool("aws")
    env = dict(aws_env(), PAGER="cat", MANPAGER="cat")
    out = run_tool(["aws", "s3api", "help"], env=env).stdout
    # Not `write-get-object-response`: the name must not continue another.
    words = set(re.findall(
        r"(?<![-\w])((?:get-bucket|get-object|list-bucket)-[a-z-]+|get-public-access-block)\b",
        out))
    return sorted(words)


def check_aws_cli_fresh_bucket_reads(server):
    """Every `aws s3api get-bucket-*` / `get-object-*` / `list-bucket-*` on a fresh bucket
    answers as S3 answers it (FRESH_BUCKET_READS)."""
    cli(server, "s3", "mb", "s3://e2e-fresh")
    work = server.workdir("cli-fresh")
    small = os.path.join(work, "k.txt")
    write_file(small, b"fresh\n")
    cli(server, "s3", "cp", small, "s3://e2e-fresh/k")
    commands = s3api_reads()
    missing = [c for c in commands if c not in FRESH_BUCKET_READS]
    assert not missing, f"not in FRESH_BUCKET_READS: {missing}"
    assert "get-bucket-cors" in commands and "get-object-retention" in commands, commands
    extra = {
        "get-bucket-analytics-configuration": ["--id", "a"],
        "get-bucket-intelligent-tiering-configuration": ["--id", "t"],
        "get-bucket-inventory-configuration": ["--id", "i"],
        "get-bucket-metrics-configuration": ["--id", "m"],
        "get-object-attributes": ["--object-attributes", "ETag", "ObjectSize"],
        "get-object-torrent": [os.path.join(work, "torrent.out")],
    }
    checked = 0
    for command in commands:
        want = FRESH_BUCKET_READS[command]
        args = ["s3api", command, "--bucket", "e2e-fresh"]
        if command.startswith("get-object-") and command != "get-object-lock-configuration":
            args += ["--key", "k"]
        out = aws(server, "s3", *args, *extra.get(command, []))
        code = re.search(r"An error occurred \(([A-Za-z]+)\)", out.stderr)
        got = code.group(1) if code else None
        if out.returncode == 0:
            got = None
        else:
            assert code, f"{command}: exit {out.returncode} without an error code\n{out.stderr}"
        assert got == want, f"{command}: got {got}, want {want}\n{out.stderr}"
        checked += 1
    assert checked >= 25, checked
    cli(server, "s3", "rb", "s3://e2e-fresh", "--force")


def check_aws_cli_versioning_restore_and_undelete(server):
    """put-bucket-versioning, overwrite, read an old version, restore it by copying it over
    the current one, delete (a marker) and undelete by removing the marker."""
    work = server.workdir("cli-versions")
    bucket = "e2e-versions"
    cli(server, "s3api", "create-bucket", "--bucket", bucket)
    assert cli(server, "s3api", "get-bucket-versioning", "--bucket", bucket) == {}
    cli(server, "s3api", "put-bucket-versioning", "--bucket", bucket,
        "--versioning-configuration", "Status=Enabled")
    got = cli(server, "s3api", "get-bucket-versioning", "--bucket", bucket)
    assert got.get("Status") == "Enabled", got
    ids = []
    for content in (b"first draft\n", b"oops, overwritten\n"):
        path = os.path.join(work, "doc.txt")
        write_file(path, content)
        out = cli(server, "s3api", "put-object", "--bucket", bucket, "--key", "doc.txt",
                  "--body", path)
        ids.append(out["VersionId"])
    first, second = ids
    assert first != second and re.fullmatch(r"[0-9a-f]{32}", first), ids
    old = os.path.join(work, "old.txt")
    out = cli(server, "s3api", "get-object", "--bucket", bucket, "--key", "doc.txt",
              "--version-id", first, old)
    assert out["VersionId"] == first and read_bytes(old) == b"first draft\n", out
    # Restore: copy the old version over the current one.
    out = cli(server, "s3api", "copy-object", "--bucket", bucket, "--key", "doc.txt",
              "--copy-source", f"{bucket}/doc.txt?versionId={first}")
    assert out["CopySourceVersionId"] == first and out["VersionId"] not in ids, out
    current = os.path.join(work, "current.txt")
    cli(server, "s3api", "get-object", "--bucket", bucket, "--key", "doc.txt", current)
    assert read_bytes(current) == b"first draft\n"
    # Delete: a marker; the key is gone, its versions are not.
    out = cli(server, "s3api", "delete-object", "--bucket", bucket, "--key", "doc.txt")
    assert out["DeleteMarker"] is True, out
    marker = out["VersionId"]
    gone = aws(server, "s3", "s3api", "head-object", "--bucket", bucket, "--key", "doc.txt")
    assert gone.returncode != 0 and "404" in gone.stderr, gone.stderr
    assert cli(server, "s3", "ls", f"s3://{bucket}/").strip() == ""
    out = cli(server, "s3api", "head-object", "--bucket", bucket, "--key", "doc.txt",
              "--version-id", second)
    assert out["VersionId"] == second, out
    # Undelete: remove the marker.
    out = cli(server, "s3api", "delete-object", "--bucket", bucket, "--key", "doc.txt",
              "--version-id", marker)
    assert out["DeleteMarker"] is True and out["VersionId"] == marker, out
    cli(server, "s3api", "get-object", "--bucket", bucket, "--key", "doc.txt", current)
    assert read_bytes(current) == b"first draft\n"
    # A bucket with versions is not empty.
    left = aws(server, "s3", "s3api", "delete-bucket", "--bucket", bucket)
    assert left.returncode != 0 and "BucketNotEmpty" in left.stderr, left.stderr


def check_aws_cli_s3api_object_lock(server):
    """Object Lock as the aws CLI drives it: a bucket created with Object Lock, GOVERNANCE
    retention blocking `delete-object --version-id` until `--bypass-governance-retention`, and
    COMPLIANCE blocking even the root, bypass or not, while the version stays readable."""
    bucket = "e2e-locked"
    cli(server, "s3api", "create-bucket", "--bucket", bucket, "--object-lock-enabled-for-bucket")
    status = cli(server, "s3api", "get-bucket-versioning", "--bucket", bucket)
    assert status.get("Status") == "Enabled", status
    config = cli(server, "s3api", "get-object-lock-configuration", "--bucket", bucket)
    assert config["ObjectLockConfiguration"]["ObjectLockEnabled"] == "Enabled", config
    work = server.workdir("cli-lock")
    body = os.path.join(work, "body.txt")
    write_file(body, b"keep me\n")
    until = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 86400))

    def refused(*args):
        out = aws(server, "s3", *args)
        assert out.returncode != 0, f"aws {' '.join(args)} succeeded"
        assert "(AccessDenied)" in out.stderr, out.stderr

    gov = cli(server, "s3api", "put-object", "--bucket", bucket, "--key", "gov", "--body", body)
    cli(server, "s3api", "put-object-retention", "--bucket", bucket, "--key", "gov",
        "--version-id", gov["VersionId"],
        "--retention", json.dumps({"Mode": "GOVERNANCE", "RetainUntilDate": until}))
    got = cli(server, "s3api", "get-object-retention", "--bucket", bucket, "--key", "gov",
              "--version-id", gov["VersionId"])
    assert got["Retention"]["Mode"] == "GOVERNANCE", got
    refused("s3api", "delete-object", "--bucket", bucket, "--key", "gov",
            "--version-id", gov["VersionId"])
    cli(server, "s3api", "delete-object", "--bucket", bucket, "--key", "gov",
        "--version-id", gov["VersionId"], "--bypass-governance-retention")

    comp = cli(server, "s3api", "put-object", "--bucket", bucket, "--key", "comp", "--body", body,
               "--object-lock-mode", "COMPLIANCE", "--object-lock-retain-until-date", until)
    version = comp["VersionId"]
    refused("s3api", "delete-object", "--bucket", bucket, "--key", "comp", "--version-id", version)
    refused("s3api", "delete-object", "--bucket", bucket, "--key", "comp", "--version-id", version,
            "--bypass-governance-retention")
    refused("s3api", "put-object-retention", "--bucket", bucket, "--key", "comp",
            "--version-id", version, "--bypass-governance-retention",
            "--retention", json.dumps({"Mode": "GOVERNANCE", "RetainUntilDate": until}))
    # A delete without a version id adds a marker; the locked version stays readable.
    marker = cli(server, "s3api", "delete-object", "--bucket", bucket, "--key", "comp")
    assert marker.get("DeleteMarker") is True, marker
    out = os.path.join(work, "out.txt")
    cli(server, "s3api", "get-object", "--bucket", bucket, "--key", "comp",
        "--version-id", version, out)
    assert read_bytes(out) == b"keep me\n"
    head = cli(server, "s3api", "head-object", "--bucket", bucket, "--key", "comp",
               "--version-id", version)
    assert head.get("ObjectLockMode") == "COMPLIANCE", head


CHECKS = [
    check_aws_cli_s3_round_trip,
    check_aws_cli_s3_sync_tree_round_trip,
    check_aws_cli_presigned_urls,
    check_aws_cli_s3api_multipart_by_hand,
    check_aws_cli_s3api_copy_head_and_range,
    check_aws_cli_s3api_tagging,
    check_aws_cli_fresh_bucket_reads,
    check_aws_cli_versioning_restore_and_undelete,
    check_aws_cli_s3api_object_lock,
]
