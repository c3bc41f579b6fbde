"""Authorization end to end with the aws CLI: the home-folder setup as a user builds it (a
group, a managed policy with ${aws:username}, two users with their own keys) and each user's
`aws s3` commands reaching exactly their own folder; a public static site through a bucket
policy, read without credentials; a policy simulation; and an object made public by its ACL
(`aws s3 cp --acl public-read`) once the bucket enables ACLs and allows public access."""

import json
import os
import subprocess

from harness import TOOL_TIMEOUT, aws, aws_env, fetch, read_bytes, write_file

BUCKET = "homes-e2e"
NO_PUBLIC_ACCESS_BLOCK = ("BlockPublicAcls=false,IgnorePublicAcls=false,"
                          "BlockPublicPolicy=false,RestrictPublicBuckets=false")
HOME_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Sid": "ListOwnHome", "Effect": "Allow", "Action": "s3:ListBucket",
         "Resource": f"arn:aws:s3:::{BUCKET}",
         "Condition": {"StringLike": {"s3:prefix": ["", "home/", "home/${aws:username}/*"]}}},
        {"Sid": "OwnHome", "Effect": "Allow",
         "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
         "Resource": f"arn:aws:s3:::{BUCKET}/home/${{aws:username}}/*"},
    ],
}


def iam(server, *args):
    out = aws(server, "iam", "iam", *args, "--output", "json")
    assert out.returncode == 0, f"aws iam {' '.join(args)}: {out.stderr}"
    return json.loads(out.stdout) if out.stdout.strip() else {}


def as_user(server, key, *args):
    """The aws CLI on the S3 port with one IAM user's access key."""
    env = dict(aws_env(), AWS_ACCESS_KEY_ID=key["AccessKeyId"],
               AWS_SECRET_ACCESS_KEY=key["SecretAccessKey"])
    return subprocess.run(["aws", "--endpoint-url", server.url("s3"), *args], env=env,
                          capture_output=True, text=True, timeout=TOOL_TIMEOUT)


def ok(out):
    assert out.returncode == 0, f"exit {out.returncode}\n{out.stdout}\n{out.stderr}"
    return out.stdout


def denied(out):
    assert out.returncode != 0 and "AccessDenied" in out.stderr + out.stdout, (
        f"expected AccessDenied, got exit {out.returncode}\n{out.stdout}\n{out.stderr}")


def check_aws_cli_home_folders(server):
    work = server.workdir("home-folders")
    policy_file = os.path.join(work, "home.json")
    with open(policy_file, "w") as f:
        json.dump(HOME_POLICY, f)
    assert aws(server, "s3", "s3", "mb", f"s3://{BUCKET}").returncode == 0

    iam(server, "create-group", "--group-name", "staff")
    arn = iam(server, "create-policy", "--policy-name", "home-folders",
              "--policy-document", f"file://{policy_file}")["Policy"]["Arn"]
    iam(server, "attach-group-policy", "--group-name", "staff", "--policy-arn", arn)
    keys = {}
    for user in ("alice", "bob"):
        iam(server, "create-user", "--user-name", user)
        iam(server, "add-user-to-group", "--group-name", "staff", "--user-name", user)
        keys[user] = iam(server, "create-access-key", "--user-name", user)["AccessKey"]
    alice, bob = keys["alice"], keys["bob"]

    notes = os.path.join(work, "notes.txt")
    write_file(notes, b"alice's notes\n" * 1000)
    ok(as_user(server, alice, "s3", "cp", notes, f"s3://{BUCKET}/home/alice/notes.txt"))
    todo = os.path.join(work, "todo.txt")
    write_file(todo, b"bob's list\n")
    ok(as_user(server, bob, "s3", "cp", todo, f"s3://{BUCKET}/home/bob/todo.txt"))

    listing = ok(as_user(server, alice, "s3", "ls", f"s3://{BUCKET}/home/alice/"))
    assert "notes.txt" in listing, listing
    # The top of the bucket and home/ can be browsed down to one's own folder.
    top = ok(as_user(server, alice, "s3", "ls", f"s3://{BUCKET}/"))
    assert "PRE home/" in top, top
    homes = ok(as_user(server, alice, "s3", "ls", f"s3://{BUCKET}/home/"))
    assert "PRE alice/" in homes and "PRE bob/" in homes, homes
    back = os.path.join(work, "back.txt")
    ok(as_user(server, alice, "s3", "cp", f"s3://{BUCKET}/home/alice/notes.txt", back))
    assert read_bytes(back) == read_bytes(notes)

    denied(as_user(server, alice, "s3", "ls", f"s3://{BUCKET}/home/bob/"))
    denied(as_user(server, alice, "s3api", "get-object", "--bucket", BUCKET,
                   "--key", "home/bob/todo.txt", os.path.join(work, "stolen")))
    denied(as_user(server, alice, "s3", "cp", notes, f"s3://{BUCKET}/home/bob/planted.txt"))
    denied(as_user(server, alice, "s3", "cp", notes, f"s3://{BUCKET}/shared.txt"))
    denied(as_user(server, bob, "s3", "rm", f"s3://{BUCKET}/home/alice/notes.txt"))
    denied(as_user(server, alice, "s3", "ls"))
    ok(as_user(server, bob, "s3", "rm", f"s3://{BUCKET}/home/bob/todo.txt"))

    # Removing alice from the group takes her access away on the next command.
    iam(server, "remove-user-from-group", "--group-name", "staff", "--user-name", "alice")
    denied(as_user(server, alice, "s3", "ls", f"s3://{BUCKET}/home/alice/"))

    for user, key in keys.items():
        iam(server, "delete-access-key", "--user-name", user,
            "--access-key-id", key["AccessKeyId"])
        if user != "alice":
            iam(server, "remove-user-from-group", "--group-name", "staff", "--user-name", user)
        iam(server, "delete-user", "--user-name", user)
    iam(server, "detach-group-policy", "--group-name", "staff", "--policy-arn", arn)
    iam(server, "delete-policy", "--policy-arn", arn)
    iam(server, "delete-group", "--group-name", "staff")



def check_aws_cli_public_site_and_policy_simulation(server):
    """A public static site with `aws s3api put-bucket-policy`, read by a browser-like GET
    without credentials; then `aws iam simulate-principal-policy` answering what a user may
    do, as the request path would."""
    bucket = "site-e2e"
    work = server.workdir("public-site")
    assert aws(server, "s3", "s3", "mb", f"s3://{bucket}").returncode == 0
    # A new bucket blocks public access, as in S3: one call lets a public policy in.
    out = aws(server, "s3", "s3api", "put-public-access-block", "--bucket", bucket,
              "--public-access-block-configuration", NO_PUBLIC_ACCESS_BLOCK)
    assert out.returncode == 0, out.stderr
    page = os.path.join(work, "index.html")
    write_file(page, b"<h1>LabStore</h1>\n")
    assert aws(server, "s3", "s3", "cp", page, f"s3://{bucket}/www/index.html").returncode == 0
    assert aws(server, "s3", "s3", "cp", page, f"s3://{bucket}/drafts/next.html").returncode == 0

    status, _ = fetch(server.url("s3", f"/{bucket}/www/index.html"))
    assert status == 403, status
    site_policy = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "PublicRead", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
         "Resource": f"arn:aws:s3:::{bucket}/www/*"}]})
    out = aws(server, "s3", "s3api", "put-bucket-policy", "--bucket", bucket,
              "--policy", site_policy)
    assert out.returncode == 0, out.stderr
    out = aws(server, "s3", "s3api", "get-bucket-policy-status", "--bucket", bucket,
              "--output", "json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["PolicyStatus"]["IsPublic"] is True, out.stdout
    status, body = fetch(server.url("s3", f"/{bucket}/www/index.html"))
    assert (status, body) == (200, read_bytes(page)), (status, body)
    status, _ = fetch(server.url("s3", f"/{bucket}/drafts/next.html"))
    assert status == 403, status

    iam(server, "create-user", "--user-name", "viewer")
    viewer = iam(server, "get-user", "--user-name", "viewer")["User"]["Arn"]
    read_drafts = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject",
         "Resource": f"arn:aws:s3:::{bucket}/drafts/*"}]})
    iam(server, "put-user-policy", "--user-name", "viewer", "--policy-name", "drafts",
        "--policy-document", read_drafts)
    results = iam(server, "simulate-principal-policy", "--policy-source-arn", viewer,
                  "--action-names", "s3:GetObject", "s3:PutObject",
                  "--resource-arns", f"arn:aws:s3:::{bucket}/drafts/next.html")
    decisions = {r["EvalActionName"]: r["EvalDecision"] for r in results["EvaluationResults"]}
    assert decisions == {"s3:GetObject": "allowed", "s3:PutObject": "implicitDeny"}, results
    iam(server, "delete-user-policy", "--user-name", "viewer", "--policy-name", "drafts")
    iam(server, "delete-user", "--user-name", "viewer")


def check_aws_cli_public_read_acl(server):
    """`aws s3 cp --acl public-read`: refused on a new bucket (ACLs disabled), accepted once
    `put-bucket-ownership-controls` enables ACLs and `put-public-access-block` lifts the
    block, and then the object is read without credentials, while a private one is not."""
    bucket = "acl-e2e"
    work = server.workdir("public-acl")
    page = os.path.join(work, "shared.txt")
    write_file(page, b"shared by its ACL\n")
    assert aws(server, "s3", "s3", "mb", f"s3://{bucket}").returncode == 0
    out = aws(server, "s3", "s3", "cp", page, f"s3://{bucket}/shared.txt", "--acl", "public-read")
    assert out.returncode != 0 and "AccessControlListNotSupported" in out.stderr, out.stderr

    out = aws(server, "s3", "s3api", "put-bucket-ownership-controls", "--bucket", bucket,
              "--ownership-controls", "Rules=[{ObjectOwnership=ObjectWriter}]")
    assert out.returncode == 0, out.stderr
    out = aws(server, "s3", "s3", "cp", page, f"s3://{bucket}/shared.txt", "--acl", "public-read")
    assert out.returncode != 0 and "AccessDenied" in out.stderr, out.stderr
    out = aws(server, "s3", "s3api", "put-public-access-block", "--bucket", bucket,
              "--public-access-block-configuration", NO_PUBLIC_ACCESS_BLOCK)
    assert out.returncode == 0, out.stderr
    out = aws(server, "s3", "s3", "cp", page, f"s3://{bucket}/shared.txt", "--acl", "public-read")
    assert out.returncode == 0, out.stderr
    out = aws(server, "s3", "s3", "cp", page, f"s3://{bucket}/private.txt")
    assert out.returncode == 0, out.stderr

    out = aws(server, "s3", "s3api", "get-object-acl", "--bucket", bucket, "--key", "shared.txt",
              "--output", "json")
    assert out.returncode == 0, out.stderr
    grants = [(g["Grantee"].get("URI"), g["Permission"]) for g in json.loads(out.stdout)["Grants"]]
    assert ("http://acs.amazonaws.com/groups/global/AllUsers", "READ") in grants, grants
    status, body = fetch(server.url("s3", f"/{bucket}/shared.txt"))
    assert (status, body) == (200, read_bytes(page)), (status, body)
    status, _ = fetch(server.url("s3", f"/{bucket}/private.txt"))
    assert status == 403, status


CHECKS = [check_aws_cli_home_folders, check_aws_cli_public_site_and_policy_simulation,
          check_aws_cli_public_read_acl]
