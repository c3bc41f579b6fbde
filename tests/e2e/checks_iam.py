"""IAM end to end: the aws CLI, boto3 and the justfile's httpie recipes managing users,
keys, groups, roles and policies on the IAM listener (and through the S3 port, which answers IAM
too)."""

import json
import os
import subprocess

from harness import (ACCESS_KEY, SECRET, TOOL_TIMEOUT, aws, aws_env, boto3_client, require_tool,
                     write_file)


def check_aws_cli_walks_an_iam_setup(server):
    """A realistic setup with `aws iam`: users, keys, a group, a policy, attach, list, clean up."""
    policy = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"],
         "Resource": "arn:aws:s3:::backups/*"}]})

    def run(*args):
        out = aws(server, "iam", "iam", *args, "--output", "json")
        assert out.returncode == 0, f"aws iam {' '.join(args)}: {out.stderr}"
        return json.loads(out.stdout) if out.stdout.strip() else {}

    user = run("create-user", "--user-name", "backup-bot", "--path", "/service/")["User"]
    assert user["Arn"] == "arn:aws:iam::000000000000:user/service/backup-bot", user
    key = run("create-access-key", "--user-name", "backup-bot")["AccessKey"]
    assert key["AccessKeyId"].startswith("AKIA") and len(key["SecretAccessKey"]) == 40
    run("create-group", "--group-name", "backup-writers")
    run("add-user-to-group", "--group-name", "backup-writers", "--user-name", "backup-bot")
    arn = run("create-policy", "--policy-name", "backup-write",
              "--policy-document", policy)["Policy"]["Arn"]
    run("attach-group-policy", "--group-name", "backup-writers", "--policy-arn", arn)
    run("put-user-policy", "--user-name", "backup-bot", "--policy-name", "inline-read",
        "--policy-document", policy)

    groups = run("list-groups-for-user", "--user-name", "backup-bot")["Groups"]
    assert [g["GroupName"] for g in groups] == ["backup-writers"], groups
    attached = run("list-attached-group-policies", "--group-name", "backup-writers")
    assert [p["PolicyArn"] for p in attached["AttachedPolicies"]] == [arn], attached
    version = run("get-policy-version", "--policy-arn", arn, "--version-id", "v1")
    statement = version["PolicyVersion"]["Document"]["Statement"][0]
    assert statement["Resource"] == "arn:aws:s3:::backups/*", version
    entities = run("list-entities-for-policy", "--policy-arn", arn)
    assert [g["GroupName"] for g in entities["PolicyGroups"]] == ["backup-writers"], entities
    keys = run("list-access-keys", "--user-name", "backup-bot")["AccessKeyMetadata"]
    assert [k["AccessKeyId"] for k in keys] == [key["AccessKeyId"]]
    assert all("SecretAccessKey" not in k for k in keys)

    out = aws(server, "iam", "iam", "delete-user", "--user-name", "backup-bot")
    assert out.returncode != 0 and "(DeleteConflict)" in out.stderr, out.stderr

    run("delete-user-policy", "--user-name", "backup-bot", "--policy-name", "inline-read")
    run("detach-group-policy", "--group-name", "backup-writers", "--policy-arn", arn)
    run("delete-policy", "--policy-arn", arn)
    run("remove-user-from-group", "--group-name", "backup-writers", "--user-name", "backup-bot")
    run("delete-group", "--group-name", "backup-writers")
    run("delete-access-key", "--user-name", "backup-bot", "--access-key-id", key["AccessKeyId"])
    run("delete-user", "--user-name", "backup-bot")
    assert run("list-users")["Users"] == []


def check_aws_cli_walks_a_role(server):
    """A role with `aws iam`: a trust policy from a JSON file, inline and attached policies,
    listed, then taken apart in the order AWS requires."""
    import tempfile
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::000000000000:root"},
         "Action": "sts:AssumeRole"}]}
    policy = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::builds/*"}]})

    def run(*args):
        out = aws(server, "iam", "iam", *args, "--output", "json")
        assert out.returncode == 0, f"aws iam {' '.join(args)}: {out.stderr}"
        return json.loads(out.stdout) if out.stdout.strip() else {}

    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(trust, f)
        trust_file = f.name
    try:
        role = run("create-role", "--role-name", "ci-deployer", "--path", "/ci/",
                   "--assume-role-policy-document", f"file://{trust_file}",
                   "--max-session-duration", "7200")["Role"]
    finally:
        os.unlink(trust_file)
    assert role["Arn"] == "arn:aws:iam::000000000000:role/ci/ci-deployer", role
    assert role["RoleId"].startswith("AROA"), role
    got = run("get-role", "--role-name", "ci-deployer")["Role"]
    # The CLI decodes the URL-encoded document back to JSON.
    assert got["AssumeRolePolicyDocument"] == trust, got
    assert got["MaxSessionDuration"] == 7200, got

    run("put-role-policy", "--role-name", "ci-deployer", "--policy-name", "read-builds",
        "--policy-document", policy)
    arn = run("create-policy", "--policy-name", "deploy",
              "--policy-document", policy)["Policy"]["Arn"]
    run("attach-role-policy", "--role-name", "ci-deployer", "--policy-arn", arn)
    roles = run("list-roles", "--path-prefix", "/ci/")["Roles"]
    assert [r["RoleName"] for r in roles] == ["ci-deployer"], roles
    assert run("list-role-policies", "--role-name", "ci-deployer")["PolicyNames"] == ["read-builds"]
    attached = run("list-attached-role-policies", "--role-name", "ci-deployer")
    assert [p["PolicyArn"] for p in attached["AttachedPolicies"]] == [arn], attached

    out = aws(server, "iam", "iam", "delete-role", "--role-name", "ci-deployer")
    assert out.returncode != 0 and "(DeleteConflict)" in out.stderr, out.stderr
    bad = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole",
         "Resource": "*"}]})
    out = aws(server, "iam", "iam", "update-assume-role-policy", "--role-name", "ci-deployer",
              "--policy-document", bad)
    assert out.returncode != 0 and "Has prohibited field Resource" in out.stderr, out.stderr

    run("detach-role-policy", "--role-name", "ci-deployer", "--policy-arn", arn)
    run("delete-role-policy", "--role-name", "ci-deployer", "--policy-name", "read-builds")
    run("delete-role", "--role-name", "ci-deployer")
    run("delete-policy", "--policy-arn", arn)
    assert run("list-roles")["Roles"] == []


def check_aws_cli_iam_through_the_s3_port(server):
    out = aws(server, "s3", "iam", "list-users", "--output", "json")
    assert out.returncode == 0, out.stderr
    assert "Users" in json.loads(out.stdout)


def check_boto3_manages_iam_and_reads_its_errors(server):
    from botocore.exceptions import ClientError
    iam = boto3_client(server, "iam", "iam")
    iam.create_user(UserName="boto-user", Tags=[{"Key": "team", "Value": "storage"}])
    got = iam.get_user(UserName="boto-user")
    assert got["User"]["Tags"] == [{"Key": "team", "Value": "storage"}], got
    assert len(got["ResponseMetadata"]["RequestId"]) == 36
    try:
        iam.create_user(UserName="BOTO-USER")
    except ClientError as e:
        assert e.response["Error"]["Code"] == "EntityAlreadyExists", e.response
        assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    else:
        raise AssertionError("a duplicate name (differing in case) was accepted")
    try:
        iam.get_user(UserName="nobody")
    except ClientError as e:
        assert e.response["Error"]["Code"] == "NoSuchEntity", e.response
        assert e.response["Error"]["Type"] == "Sender", e.response
    else:
        raise AssertionError("get_user found nobody")
    for i in range(5):
        iam.create_user(UserName=f"paged-{i}")
    paginator = iam.get_paginator("list_users")
    names = [u["UserName"] for page in paginator.paginate(PaginationConfig={"PageSize": 2})
             for u in page["Users"]]
    assert names == ["boto-user"] + [f"paged-{i}" for i in range(5)], names
    for name in names:
        iam.delete_user(UserName=name)


def check_just_recipes_drive_iam_with_httpie(server):
    """The justfile's hand-poking recipes (httpie + httpie-aws-authv4) work end to end."""
    require_tool("just")
    require_tool("http")
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ, LABSTORE_IAM_ENDPOINT=server.url("iam"), AWS_ACCESS_KEY_ID=ACCESS_KEY,
               AWS_SECRET_ACCESS_KEY=SECRET)
    out = subprocess.run(["just", "test-iam-group-policy", "httpie-user", "httpie-group",
                          "httpie-policy"],
                         cwd=repo, env=env, capture_output=True, text=True, timeout=TOOL_TIMEOUT)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "<UserName>httpie-user</UserName>" in out.stdout, out.stdout
    assert "arn:aws:iam::000000000000:policy/httpie-policy" in out.stdout, out.stdout


def check_aws_cli_user_with_an_aws_managed_policy(server):
    """AmazonS3ReadOnlyAccess, built in: attached to a user with `aws iam`, that user's
    `aws s3 ls` works and its `aws s3 cp` upload is AccessDenied."""
    def run(*args):
        out = aws(server, "iam", "iam", *args, "--output", "json")
        assert out.returncode == 0, f"aws iam {' '.join(args)}: {out.stderr}"
        return json.loads(out.stdout) if out.stdout.strip() else {}

    arn = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
    policy = run("get-policy", "--policy-arn", arn)["Policy"]
    assert policy["DefaultVersionId"] == "v3", policy
    out = aws(server, "s3", "s3", "mb", "s3://managed-read")
    assert out.returncode == 0, out.stderr
    run("create-user", "--user-name", "s3-reader")
    key = run("create-access-key", "--user-name", "s3-reader")["AccessKey"]
    run("attach-user-policy", "--user-name", "s3-reader", "--policy-arn", arn)
    listed = run("list-policies", "--scope", "AWS")["Policies"]
    assert arn in [p["Arn"] for p in listed], listed

    env = dict(aws_env(), AWS_ACCESS_KEY_ID=key["AccessKeyId"],
               AWS_SECRET_ACCESS_KEY=key["SecretAccessKey"])

    def as_reader(*args):
        return subprocess.run(["aws", "--endpoint-url", server.url("s3"), *args], env=env,
                              capture_output=True, text=True, timeout=TOOL_TIMEOUT)

    out = as_reader("s3", "ls")
    assert out.returncode == 0 and "managed-read" in out.stdout, out.stdout + out.stderr
    local = os.path.join(server.workdir("managed"), "upload.txt")
    write_file(local, b"not allowed")
    out = as_reader("s3", "cp", local, "s3://managed-read/upload.txt")
    assert out.returncode != 0 and "AccessDenied" in out.stderr, out.stdout + out.stderr
    out = aws(server, "iam", "iam", "delete-policy", "--policy-arn", arn)
    assert out.returncode != 0 and "(AccessDenied)" in out.stderr, out.stderr
    # Leave the account as it was: later checks list its users.
    run("detach-user-policy", "--user-name", "s3-reader", "--policy-arn", arn)
    run("delete-access-key", "--user-name", "s3-reader", "--access-key-id", key["AccessKeyId"])
    run("delete-user", "--user-name", "s3-reader")
def check_aws_cli_permissions_boundary_cuts_a_users_s3_access(server):
    """`aws iam put-user-permissions-boundary` with AmazonS3ReadOnlyAccess on a user whose own
    policy allows all of S3: `get-user` shows the boundary, an upload is AccessDenied while a
    listing works; `delete-user-permissions-boundary` gives the upload back."""
    def run(*args):
        out = aws(server, "iam", "iam", *args, "--output", "json")
        assert out.returncode == 0, f"aws iam {' '.join(args)}: {out.stderr}"
        return json.loads(out.stdout) if out.stdout.strip() else {}

    boundary = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
    out = aws(server, "s3", "s3", "mb", "s3://bounded")
    assert out.returncode == 0, out.stderr
    run("create-user", "--user-name", "bounded-user")
    key = run("create-access-key", "--user-name", "bounded-user")["AccessKey"]
    everything = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]})
    run("put-user-policy", "--user-name", "bounded-user", "--policy-name", "all-s3",
        "--policy-document", everything)
    run("put-user-permissions-boundary", "--user-name", "bounded-user",
        "--permissions-boundary", boundary)
    user = run("get-user", "--user-name", "bounded-user")["User"]
    assert user["PermissionsBoundary"] == {"PermissionsBoundaryType": "Policy",
                                           "PermissionsBoundaryArn": boundary}, user

    env = dict(aws_env(), AWS_ACCESS_KEY_ID=key["AccessKeyId"],
               AWS_SECRET_ACCESS_KEY=key["SecretAccessKey"])

    def as_user(*args):
        return subprocess.run(["aws", "--endpoint-url", server.url("s3"), *args], env=env,
                              capture_output=True, text=True, timeout=TOOL_TIMEOUT)

    local = os.path.join(server.workdir("bounded"), "upload.txt")
    write_file(local, b"bounded")
    out = as_user("s3", "cp", local, "s3://bounded/upload.txt")
    assert out.returncode != 0 and "AccessDenied" in out.stderr, out.stdout + out.stderr
    out = as_user("s3", "ls", "s3://bounded")
    assert out.returncode == 0, out.stdout + out.stderr
    run("delete-user-permissions-boundary", "--user-name", "bounded-user")
    assert "PermissionsBoundary" not in run("get-user", "--user-name", "bounded-user")["User"]
    out = as_user("s3", "cp", local, "s3://bounded/upload.txt")
    assert out.returncode == 0, out.stdout + out.stderr
    # Leave the account as it was: later checks list its users.
    run("delete-user-policy", "--user-name", "bounded-user", "--policy-name", "all-s3")
    run("delete-access-key", "--user-name", "bounded-user", "--access-key-id", key["AccessKeyId"])
    run("delete-user", "--user-name", "bounded-user")
    out = aws(server, "s3", "s3", "rb", "s3://bounded", "--force")
    assert out.returncode == 0, out.stderr


def check_aws_cli_manages_the_roots_own_keys(server):
    """`aws iam create-access-key` as the root (no --user-name) makes a root key; the CLI
    signing with it is the root on S3 and IAM until the key is deactivated, then refused."""
    def run(*args, env=None):
        out = subprocess.run(["aws", "--endpoint-url", server.url(args[0]), *args[1:],
                              "--output", "json"],
                             env=env or aws_env(), capture_output=True, text=True,
                             timeout=TOOL_TIMEOUT)
        return out

    out = run("iam", "iam", "create-access-key")
    assert out.returncode == 0, out.stderr
    key = json.loads(out.stdout)["AccessKey"]
    assert key["AccessKeyId"].startswith("AKIA") and len(key["SecretAccessKey"]) == 40, key
    assert "UserName" not in key, key
    listed = json.loads(run("iam", "iam", "list-access-keys").stdout)["AccessKeyMetadata"]
    assert [k["AccessKeyId"] for k in listed] == [key["AccessKeyId"]], listed

    as_key = dict(aws_env(), AWS_ACCESS_KEY_ID=key["AccessKeyId"],
                  AWS_SECRET_ACCESS_KEY=key["SecretAccessKey"])
    out = run("s3", "s3", "mb", "s3://root-key-bucket", env=as_key)
    assert out.returncode == 0, out.stderr
    out = run("iam", "iam", "list-users", env=as_key)
    assert out.returncode == 0, out.stderr

    out = run("iam", "iam", "update-access-key", "--access-key-id", key["AccessKeyId"],
              "--status", "Inactive")
    assert out.returncode == 0, out.stderr
    out = run("s3", "s3", "ls", env=as_key)
    assert out.returncode != 0 and "InvalidAccessKeyId" in out.stderr, out.stderr
    out = run("iam", "iam", "delete-access-key", "--access-key-id", key["AccessKeyId"])
    assert out.returncode == 0, out.stderr
    out = run("iam", "iam", "list-users", env=as_key)
    assert out.returncode != 0 and "InvalidClientTokenId" in out.stderr, out.stderr
    assert run("s3", "s3", "rb", "s3://root-key-bucket").returncode == 0


def check_aws_cli_manages_an_openid_connect_provider(server):
    """`aws iam` OpenID Connect provider actions: create, get, list, add a client id, delete;
    and the e2e issuer helper's key file and token (what AssumeRoleWithWebIdentity reads)."""
    from oidc_issuer import Issuer

    def run(*args, ok=True):
        out = aws(server, "iam", "iam", *args, "--output", "json")
        if not ok:
            return out
        assert out.returncode == 0, f"aws iam {' '.join(args)}: {out.stderr}"
        return json.loads(out.stdout) if out.stdout.strip() else {}

    issuer = Issuer(server.jwks_dir, "idp.e2e.example/tenant")
    arn = "arn:aws:iam::000000000000:oidc-provider/idp.e2e.example/tenant"
    try:
        token = issuer.token(issuer.claims("alice", "e2e-app"))
        assert issuer.verify(token)["sub"] == "alice"
        thumb = "9e99a48a9960b14926bb7f3b02e22da2b0ab7280"
        created = run("create-open-id-connect-provider", "--url", issuer.issuer,
                      "--client-id-list", "e2e-app", "--thumbprint-list", thumb,
                      "--tags", "Key=team,Value=e2e")["OpenIDConnectProviderArn"]
        assert created == arn, created
        again = run("create-open-id-connect-provider", "--url", issuer.issuer, ok=False)
        assert again.returncode != 0 and "(EntityAlreadyExists)" in again.stderr, again.stderr
        bad = run("create-open-id-connect-provider", "--url", "http://idp.e2e.example", ok=False)
        assert bad.returncode != 0 and "(InvalidInput)" in bad.stderr, bad.stderr
        run("add-client-id-to-open-id-connect-provider", "--open-id-connect-provider-arn", arn,
            "--client-id", "e2e-cli")
        got = run("get-open-id-connect-provider", "--open-id-connect-provider-arn", arn)
        assert got["Url"] == "idp.e2e.example/tenant", got
        assert got["ClientIDList"] == ["e2e-app", "e2e-cli"], got
        assert got["ThumbprintList"] == [thumb], got
        assert got["Tags"] == [{"Key": "team", "Value": "e2e"}], got
        listed = run("list-open-id-connect-providers")["OpenIDConnectProviderList"]
        assert {"Arn": arn} in listed, listed
        run("delete-open-id-connect-provider", "--open-id-connect-provider-arn", arn)
        gone = run("get-open-id-connect-provider", "--open-id-connect-provider-arn", arn, ok=False)
        assert gone.returncode != 0 and "(NoSuchEntity)" in gone.stderr, gone.stderr
    finally:
        issuer.remove()
        # Checks share one server: a failure above must not leave the provider behind.
        run("delete-open-id-connect-provider", "--open-id-connect-provider-arn", arn, ok=False)
def check_aws_cli_simulates_a_role_and_meets_unoffered_actions(server):
    """`aws iam simulate-principal-policy` with a role as the source: its inline policy, read
    with the session keys every session of the role has; then an IAM action AWS has and this
    server does not offer, answered NotImplemented by name."""
    trust = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::000000000000:root"},
         "Action": "sts:AssumeRole"}]})
    policy = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject",
         "Resource": "arn:aws:s3:::reports/${aws:PrincipalTag/team}/*",
         "Condition": {"StringEquals": {"aws:PrincipalType": "AssumedRole"}}}]})

    def run(*args):
        out = aws(server, "iam", "iam", *args, "--output", "json")
        assert out.returncode == 0, f"aws iam {' '.join(args)}: {out.stderr}"
        return json.loads(out.stdout) if out.stdout.strip() else {}

    role = run("create-role", "--role-name", "report-reader", "--path", "/sim/",
               "--assume-role-policy-document", trust,
               "--tags", "Key=team,Value=finance")["Role"]
    try:
        run("put-role-policy", "--role-name", "report-reader", "--policy-name", "team-reports",
            "--policy-document", policy)
        results = run("simulate-principal-policy", "--policy-source-arn", role["Arn"],
                      "--action-names", "s3:GetObject", "s3:PutObject",
                      "--resource-arns", "arn:aws:s3:::reports/finance/q3.csv",
                      "arn:aws:s3:::reports/legal/q3.csv")["EvaluationResults"]
        decisions = [(r["EvalActionName"], r["EvalResourceName"], r["EvalDecision"])
                     for r in results]
        assert decisions == [
            ("s3:GetObject", "arn:aws:s3:::reports/finance/q3.csv", "allowed"),
            ("s3:GetObject", "arn:aws:s3:::reports/legal/q3.csv", "implicitDeny"),
            ("s3:PutObject", "arn:aws:s3:::reports/finance/q3.csv", "implicitDeny"),
            ("s3:PutObject", "arn:aws:s3:::reports/legal/q3.csv", "implicitDeny"),
        ], results
        matched = results[0]["MatchedStatements"][0]
        assert (matched["SourcePolicyId"], matched["SourcePolicyType"]) == \
            ("team-reports", "role"), matched
        out = aws(server, "iam", "iam", "simulate-principal-policy", "--policy-source-arn",
                  "arn:aws:iam::000000000000:role/sim/nobody", "--action-names", "s3:GetObject")
        assert out.returncode != 0 and "(NoSuchEntity)" in out.stderr, out.stderr
        out = aws(server, "iam", "iam", "list-instance-profiles")
        assert out.returncode != 0, out.stdout
        assert "(NotImplemented)" in out.stderr, out.stderr
        assert "ListInstanceProfiles is not implemented by this server." in out.stderr, \
            out.stderr
    finally:
        aws(server, "iam", "iam", "delete-role-policy", "--role-name", "report-reader",
            "--policy-name", "team-reports")
        aws(server, "iam", "iam", "delete-role", "--role-name", "report-reader")


CHECKS = [
    check_aws_cli_manages_an_openid_connect_provider,
    check_aws_cli_walks_an_iam_setup,
    check_aws_cli_walks_a_role,
    check_aws_cli_user_with_an_aws_managed_policy,
    check_aws_cli_permissions_boundary_cuts_a_users_s3_access,
    check_aws_cli_manages_the_roots_own_keys,
    check_aws_cli_simulates_a_role_and_meets_unoffered_actions,
    check_aws_cli_iam_through_the_s3_port,
    check_boto3_manages_iam_and_reads_its_errors,
    check_just_recipes_drive_iam_with_httpie,
]
