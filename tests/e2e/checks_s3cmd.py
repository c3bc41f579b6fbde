"""s3cmd (Debian's package) with a generated config file, once signing with SigV4 and once
with SigV2 (`signature_v2 = True`), so both signers see every operation it sends."""

import hashlib
import os

from harness import (ACCESS_KEY, MIB, REGION, SECRET, assert_same_tree, boto3_client,
                     expect_client_error, make_tree, read_bytes, require_tool, run_tool,
                     write_file)

# A non-ASCII key with characters SigV2 and SigV4 each encode differently in the signed path.
NOTE = "notes/été — 日本 & co+1.txt"


def write_config(server, path, signature_v2, secret=SECRET):
    """host_bucket without %(bucket)s makes s3cmd address buckets path-style."""
    with open(path, "w") as f:
        f.write("[default]\n"
                f"access_key = {ACCESS_KEY}\n"
                f"secret_key = {secret}\n"
                f"host_base = {server.host('s3')}\n"
                f"host_bucket = {server.host('s3')}\n"
                f"bucket_location = {REGION}\n"
                "use_https = False\n"
                f"signature_v2 = {signature_v2}\n")


class S3cmd:
    """`s3cmd -c CONFIG ARGS` in a check's work dir; calling it returns stdout."""

    def __init__(self, server, work, signature_v2):
        self.work = work
        self.config = os.path.join(work, "s3cfg")
        write_config(server, self.config, signature_v2)
        # The signature is really checked: the same request with a wrong secret is refused.
        wrong = os.path.join(work, "s3cfg-wrong-secret")
        write_config(server, wrong, signature_v2, secret="not-the-secret")
        out = run_tool(["s3cmd", "-c", wrong, "ls"], cwd=work, ok=False)
        assert out.returncode != 0 and "SignatureDoesNotMatch" in out.stderr, out.stderr

    def __call__(self, *args):
        out = run_tool(["s3cmd", "-c", self.config, *args], cwd=self.work)
        # s3cmd retries a failed request (5xx, timeouts) up to 5 times with no switch to turn
        # that off: a retry is a server fault this check must report, not hide.
        assert "WARNING" not in out.stderr and "ERROR" not in out.stderr, out.stderr
        return out.stdout


def put_and_list(server, s3cmd, bucket, big, note):
    s3cmd("put", "--multipart-chunk-size-mb=5", os.path.join(s3cmd.work, "big.bin"),
          f"s3://{bucket}/data/big.bin")
    s3cmd("put", os.path.join(s3cmd.work, "note.txt"), f"s3://{bucket}/{NOTE}")
    head = boto3_client(server, "s3", "s3").head_object(Bucket=bucket, Key="data/big.bin")
    assert head["ETag"].endswith('-3"'), f"s3cmd did not upload in 3 parts: {head}"

    top = s3cmd("ls", f"s3://{bucket}")
    assert sorted(line.split()[-1] for line in top.splitlines()) == [
        f"s3://{bucket}/data/", f"s3://{bucket}/notes/"], top
    data = s3cmd("ls", f"s3://{bucket}/data/")
    assert data.split()[-2:] == [str(len(big)), f"s3://{bucket}/data/big.bin"], data
    everything = s3cmd("la", "--recursive")
    for key in ("data/big.bin", NOTE):
        assert f"s3://{bucket}/{key}" in everything, everything


def get_and_info(s3cmd, bucket, big, note):
    for key, data in [("data/big.bin", big), (NOTE, note)]:
        back = os.path.join(s3cmd.work, "back")
        s3cmd("get", "--force", f"s3://{bucket}/{key}", back)
        assert read_bytes(back) == data, key
    info = s3cmd("info", f"s3://{bucket}/data/big.bin")
    assert f"File size: {len(big)}" in info, info
    assert f"MD5 sum:   {hashlib.md5(big).hexdigest()}" in info, info
    assert f"Location:  {REGION}" in s3cmd("info", f"s3://{bucket}")


def sync_tree_both_ways(s3cmd, bucket):
    up, down = os.path.join(s3cmd.work, "tree"), os.path.join(s3cmd.work, "tree.back")
    tree = make_tree(up)
    s3cmd("sync", up + "/", f"s3://{bucket}/tree/")
    os.mkdir(down)
    s3cmd("sync", f"s3://{bucket}/tree/", down + "/")
    assert_same_tree(tree, down)
    s3cmd("del", "--recursive", f"s3://{bucket}/tree/")


def s3cmd_round_trip(server, signature_v2):
    require_tool("s3cmd")
    version = 2 if signature_v2 else 4
    work = server.workdir(f"s3cmd-v{version}")
    s3cmd = S3cmd(server, work, signature_v2)
    bucket = f"e2e-s3cmd-v{version}"
    big, note = os.urandom(12 * MIB), "été\n".encode() * 10
    write_file(os.path.join(work, "big.bin"), big)
    write_file(os.path.join(work, "note.txt"), note)

    s3cmd("mb", f"s3://{bucket}")
    put_and_list(server, s3cmd, bucket, big, note)
    get_and_info(s3cmd, bucket, big, note)
    s3cmd("cp", f"s3://{bucket}/{NOTE}", f"s3://{bucket}/copies/note.txt")
    s3cmd("get", f"s3://{bucket}/copies/note.txt", os.path.join(work, "copy.back"))
    assert read_bytes(os.path.join(work, "copy.back")) == note
    sync_tree_both_ways(s3cmd, bucket)

    s3cmd("del", f"s3://{bucket}/data/big.bin", f"s3://{bucket}/{NOTE}")
    remaining = s3cmd("ls", "--recursive", f"s3://{bucket}")
    assert remaining.split()[-1:] == [f"s3://{bucket}/copies/note.txt"], remaining
    s3cmd("del", "--recursive", "--force", f"s3://{bucket}")
    s3cmd("rb", f"s3://{bucket}")
    expect_client_error(lambda: boto3_client(server, "s3", "s3").head_bucket(Bucket=bucket),
                        "404", 404)


def check_s3cmd_round_trip_sigv4(server):
    """mb, put (a 12 MiB file in 5 MiB parts, a Unicode key), ls, la, get and compare, info,
    cp, sync a tree up and back, del, rb, all signed with SigV4; a wrong secret is refused."""
    s3cmd_round_trip(server, signature_v2=False)


def check_s3cmd_round_trip_sigv2(server):
    """The same round trip with `signature_v2 = True`: every request signed with SigV2."""
    s3cmd_round_trip(server, signature_v2=True)


CHECKS = [check_s3cmd_round_trip_sigv4, check_s3cmd_round_trip_sigv2]
