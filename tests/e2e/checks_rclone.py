"""rclone (Debian's package) syncing a directory tree, configured the way containers and CI
jobs do it: a remote named `lab` from RCLONE_CONFIG_LAB_* variables, no config file."""

import hashlib
import json
import os

from harness import (ACCESS_KEY, MIB, REGION, SECRET, assert_same_tree, boto3_client, fetch,
                     expect_client_error, make_tree, read_bytes, require_tool, run_tool)

BUCKET = "e2e-rclone"
# Small parts so a 21 MiB file goes up as a 5-part multipart upload; one try per request,
# so a server error fails the check instead of being retried away.
FLAGS = ["--s3-upload-cutoff", "5M", "--s3-chunk-size", "5M",
         "--retries", "1", "--low-level-retries", "1"]


def rclone_env(server, work):
    env = {k: v for k, v in os.environ.items() if not k.startswith("RCLONE_")}
    # rclone 1.60's AWS SDK refuses any AWS_CA_BUNDLE ("LoadCustomCABundleError ...
    # unsupported transport"); the endpoint is plain http, so no CA is needed.
    env.pop("AWS_CA_BUNDLE", None)
    env.update({
        "RCLONE_CONFIG": os.path.join(work, "rclone.conf"),  # absent: only the variables count
        "RCLONE_CONFIG_LAB_TYPE": "s3",
        "RCLONE_CONFIG_LAB_PROVIDER": "Other",
        "RCLONE_CONFIG_LAB_ACCESS_KEY_ID": ACCESS_KEY,
        "RCLONE_CONFIG_LAB_SECRET_ACCESS_KEY": SECRET,
        "RCLONE_CONFIG_LAB_ENDPOINT": server.url("s3"),
        "RCLONE_CONFIG_LAB_REGION": REGION,
        "RCLONE_CONFIG_LAB_FORCE_PATH_STYLE": "true",
    })
    return env


class Rclone:
    """`rclone ARGS` with the lab remote and FLAGS; calling it returns stdout, .run() the
    whole result (rclone reports on stderr)."""

    def __init__(self, server, work):
        self.env = rclone_env(server, work)

    def run(self, *args):
        return run_tool(["rclone", *args, *FLAGS], env=self.env)

    def __call__(self, *args):
        return self.run(*args).stdout


def copy_up_and_check(server, rclone, up, tree):
    rclone("mkdir", f"lab:{BUCKET}")
    rclone("copy", up, f"lab:{BUCKET}/tree")
    head = boto3_client(server, "s3", "s3").head_object(Bucket=BUCKET, Key="tree/media/big.bin")
    assert head["ETag"].endswith('-5"'), f"rclone did not upload in 5 parts: {head}"

    # Sizes and modification times read back as written: a second copy has nothing to do.
    again = rclone.run("copy", up, f"lab:{BUCKET}/tree", "-v")
    assert "There was nothing to transfer" in again.stderr, again.stderr

    # rclone reads a multipart object's MD5 from the metadata it stored with it: a hash it
    # cannot read would be reported as "could not be checked", not as a difference.
    out = rclone.run("check", up, f"lab:{BUCKET}/tree")
    assert "0 differences found" in out.stderr, out.stderr
    assert "could not be checked" not in out.stderr, out.stderr
    sums = dict(reversed(line.split("  ", 1)) for line in
                rclone("md5sum", f"lab:{BUCKET}/tree").splitlines())
    assert sums == {rel: hashlib.md5(data).hexdigest() for rel, data in tree.items()}, sums


def list_and_copy_down(rclone, down, tree):
    dirs = {"docs/", "docs/deep/", "docs/deep/er/", "media/", "odd/", "photos/",
            "photos/2024 summer/"}
    for version in ("1", "2"):
        listed = rclone("lsf", "-R", f"lab:{BUCKET}/tree", "--s3-list-version", version,
                        "--s3-list-chunk", "3")
        assert sorted(listed.splitlines()) == sorted(set(tree) | dirs), (version, listed)
    os.mkdir(down)
    rclone("copy", f"lab:{BUCKET}/tree", down)
    assert_same_tree(tree, down)


def move_within_the_bucket(rclone, work, big):
    """moveto inside one bucket: CopyObject then DeleteObject, no bytes through rclone."""
    out = rclone.run("moveto", f"lab:{BUCKET}/tree/media/big.bin",
                     f"lab:{BUCKET}/archive/big.bin", "-vv", "--dump", "headers")
    assert "x-amz-copy-source:" in out.stderr.lower(), "moveto did not copy server-side"
    rclone("moveto", f"lab:{BUCKET}/tree/README.md", f"lab:{BUCKET}/archive/READ ME.md")
    assert rclone("lsf", f"lab:{BUCKET}/tree/media") == ""
    archive = rclone("lsf", f"lab:{BUCKET}/archive")
    assert sorted(archive.splitlines()) == ["READ ME.md", "big.bin"], archive
    moved = os.path.join(work, "moved.bin")
    rclone("copyto", f"lab:{BUCKET}/archive/big.bin", moved)
    assert read_bytes(moved) == big
    md5 = rclone("md5sum", f"lab:{BUCKET}/archive/big.bin").split()[0]
    assert md5 == hashlib.md5(big).hexdigest(), "the moved object lost its MD5 metadata"


def check_rclone_copy_check_move_and_purge(server):
    """mkdir, copy a tree up (with a multipart file), check hashes, lsf -R through both list
    versions in small pages, copy back down and compare, moveto server-side, delete, purge,
    rmdir the bucket."""
    require_tool("rclone")
    work = server.workdir("rclone")
    rclone = Rclone(server, work)
    up, down = os.path.join(work, "up"), os.path.join(work, "down")
    big = os.urandom(21 * MIB)
    tree = make_tree(up, {"media/big.bin": big})

    copy_up_and_check(server, rclone, up, tree)
    list_and_copy_down(rclone, down, tree)
    move_within_the_bucket(rclone, work, big)

    rclone("delete", f"lab:{BUCKET}/tree/photos")
    assert "photos/" not in rclone("lsf", f"lab:{BUCKET}/tree")
    rclone("purge", f"lab:{BUCKET}/tree")
    rclone("delete", f"lab:{BUCKET}/archive")
    assert rclone("lsf", "-R", f"lab:{BUCKET}") == ""
    rclone("rmdir", f"lab:{BUCKET}")
    s3 = boto3_client(server, "s3", "s3")
    expect_client_error(lambda: s3.head_bucket(Bucket=BUCKET), "404", 404)


def check_rclone_metadata_and_tags_round_trip(server):
    """`rclone copyto -M --metadata-set` stores user metadata that boto3 and `rclone lsjson
    -M` read back; a tagged object keeps its tags (and its metadata) through rclone's
    server-side moveto and a copy down and up again."""
    require_tool("rclone")
    work = server.workdir("rclone-meta")
    rclone = Rclone(server, work)
    src = os.path.join(work, "note.txt")
    with open(src, "wb") as f:
        f.write(b"metadata round trip\n")
    bucket = BUCKET + "-meta"
    rclone("mkdir", f"lab:{bucket}")
    rclone("copyto", "-M", "--metadata-set", "color=blue", "--metadata-set",
           "content-type=text/x-note", src, f"lab:{bucket}/note.txt")
    s3 = boto3_client(server, "s3", "s3")
    head = s3.head_object(Bucket=bucket, Key="note.txt")
    assert head["Metadata"].get("color") == "blue", head["Metadata"]
    assert head["ContentType"] == "text/x-note", head
    listed = json.loads(rclone("lsjson", "-M", f"lab:{bucket}/note.txt"))
    assert listed[0]["Metadata"].get("color") == "blue", listed

    s3.put_object_tagging(Bucket=bucket, Key="note.txt",
                          Tagging={"TagSet": [{"Key": "team", "Value": "blue"}]})
    rclone("moveto", f"lab:{bucket}/note.txt", f"lab:{bucket}/moved/note.txt")
    tags = s3.get_object_tagging(Bucket=bucket, Key="moved/note.txt")["TagSet"]
    assert tags == [{"Key": "team", "Value": "blue"}], tags
    moved = s3.head_object(Bucket=bucket, Key="moved/note.txt")
    assert moved["Metadata"].get("color") == "blue", moved["Metadata"]
    assert moved.get("TagCount") == 1, moved

    down = os.path.join(work, "down.txt")
    rclone("copyto", "-M", f"lab:{bucket}/moved/note.txt", down)
    assert read_bytes(down) == read_bytes(src)
    rclone("copyto", "-M", down, f"lab:{bucket}/again.txt")
    again = s3.head_object(Bucket=bucket, Key="again.txt")
    assert again["Metadata"].get("color") == "blue", again["Metadata"]
    rclone("purge", f"lab:{bucket}")


def check_rclone_s3_acl(server):
    """`rclone --s3-acl public-read`: refused on a new bucket (ACLs disabled, as S3 answers),
    stored and enforced once the bucket's Object Ownership enables ACLs and its Block Public
    Access is lifted, so that the object is then read without credentials; a copy with the
    default `private` ACL is not."""
    require_tool("rclone")
    work = server.workdir("rclone-acl")
    rclone = Rclone(server, work)
    src = os.path.join(work, "shared.txt")
    with open(src, "wb") as f:
        f.write(b"shared by rclone\n")
    bucket = BUCKET + "-acl"
    rclone("mkdir", f"lab:{bucket}")
    # The bucket exists: rclone is told not to create it (it would send the ACL with
    # CreateBucket too, which a bucket with ACLs disabled refuses as well).
    acl = ["--s3-no-check-bucket", "--s3-acl", "public-read"]
    refused = run_tool(["rclone", "copyto", *acl, src, f"lab:{bucket}/shared.txt", *FLAGS],
                       env=rclone.env, ok=False)
    assert refused.returncode != 0, refused.stderr
    assert "AccessControlListNotSupported" in refused.stderr, refused.stderr

    s3 = boto3_client(server, "s3", "s3")
    s3.put_bucket_ownership_controls(
        Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]})
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={
        "BlockPublicAcls": False, "IgnorePublicAcls": False,
        "BlockPublicPolicy": False, "RestrictPublicBuckets": False})
    rclone("copyto", *acl, src, f"lab:{bucket}/shared.txt")
    rclone("copyto", "--s3-no-check-bucket", src, f"lab:{bucket}/private.txt")
    grants = s3.get_object_acl(Bucket=bucket, Key="shared.txt")["Grants"]
    public = [(g["Grantee"].get("URI"), g["Permission"]) for g in grants]
    assert ("http://acs.amazonaws.com/groups/global/AllUsers", "READ") in public, grants
    status, body = fetch(server.url("s3", f"/{bucket}/shared.txt"))
    assert (status, body) == (200, b"shared by rclone\n"), (status, body)
    status, _ = fetch(server.url("s3", f"/{bucket}/private.txt"))
    assert status == 403, status


CHECKS = [check_rclone_copy_check_move_and_purge, check_rclone_metadata_and_tags_round_trip,
          check_rclone_s3_acl]
