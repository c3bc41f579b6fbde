"""STS end to end: the aws CLI and boto3 taking on a role with `sts assume-role` and using the
temporary credentials with `aws s3`, asking who they are, a session refused once expired, and
a web identity (OIDC token) flow against a stand-in issuer (oidc_issuer.py)."""

import json
import os
import subprocess
import tempfile
import time

from harness import (REGION, STS_MIN_DURATION, TOOL_TIMEOUT, aws, aws_env,
                     boto3_client, expect_client_error)

ACCOUNT = "000000000000"


def _run(server, *args, env=None):
    out = subprocess.run(["aws", "--endpoint-url", server.url("iam"), *args, "--output", "json"],
                         env=env or aws_env(), capture_output=True, text=True,
                         timeout=TOOL_TIMEOUT)
    assert out.returncode == 0, f"aws {' '.join(args)}: {out.stderr}"
    return json.loads(out.stdout) if out.stdout.strip() else {}


def _env_with(access_key, secret, token=None):
    env = dict(aws_env(), AWS_ACCESS_KEY_ID=access_key, AWS_SECRET_ACCESS_KEY=secret)
    if token:
        env["AWS_SESSION_TOKEN"] = token
    return env


def _s3(server, env, *args):
    return subprocess.run(["aws", "--endpoint-url", server.url("s3"), "s3", *args], env=env,
                          capture_output=True, text=True, timeout=TOOL_TIMEOUT)


def check_aws_cli_assumes_a_role_and_copies_with_it(server):
    """A CI job's flow: a user whose only right is to assume a role runs `aws sts assume-role`,
    then `aws s3 cp` with the temporary credentials, which can write the role's bucket and
    nothing else; `aws sts get-caller-identity` names the session."""
    root = aws_env()
    _s3(server, root, "mb", "s3://ci-artifacts")
    _s3(server, root, "mb", "s3://ci-secrets")
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
         "Action": "sts:AssumeRole"}]}
    role_policy = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["s3:PutObject", "s3:GetObject"],
         "Resource": "arn:aws:s3:::ci-artifacts/*"}]})
    user_policy = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "sts:AssumeRole",
         "Resource": f"arn:aws:iam::{ACCOUNT}:role/ci-deploy"}]})
    with tempfile.TemporaryDirectory() as work:
        trust_file = os.path.join(work, "trust.json")
        with open(trust_file, "w") as f:
            json.dump(trust, f)
        role = _run(server, "iam", "create-role", "--role-name", "ci-deploy",
                    "--assume-role-policy-document", f"file://{trust_file}")["Role"]
        try:
            _run(server, "iam", "put-role-policy", "--role-name", "ci-deploy",
                 "--policy-name", "artifacts", "--policy-document", role_policy)
            _run(server, "iam", "create-user", "--user-name", "ci-runner")
            _run(server, "iam", "put-user-policy", "--user-name", "ci-runner",
                 "--policy-name", "assume", "--policy-document", user_policy)
            key = _run(server, "iam", "create-access-key", "--user-name", "ci-runner")["AccessKey"]
            user_env = _env_with(key["AccessKeyId"], key["SecretAccessKey"])
            # The user itself cannot write the bucket.
            artifact = os.path.join(work, "build.tar")
            with open(artifact, "wb") as f:
                f.write(os.urandom(100_000))
            denied = _s3(server, user_env, "cp", artifact, "s3://ci-artifacts/build.tar")
            assert denied.returncode != 0 and "AccessDenied" in denied.stderr, denied.stderr

            out = _run(server, "sts", "assume-role", "--role-arn", role["Arn"],
                       "--role-session-name", "pipeline-42", "--duration-seconds", "900",
                       env=user_env)
            creds = out["Credentials"]
            assert creds["AccessKeyId"].startswith("ASIA"), creds["AccessKeyId"]
            assert out["AssumedRoleUser"]["Arn"] == \
                f"arn:aws:sts::{ACCOUNT}:assumed-role/ci-deploy/pipeline-42", out
            session = _env_with(creds["AccessKeyId"], creds["SecretAccessKey"],
                                creds["SessionToken"])
            me = _run(server, "sts", "get-caller-identity", env=session)
            assert me["Arn"] == out["AssumedRoleUser"]["Arn"], me
            assert me["UserId"] == out["AssumedRoleUser"]["AssumedRoleId"], me
            assert me["Account"] == ACCOUNT, me

            up = _s3(server, session, "cp", artifact, "s3://ci-artifacts/build.tar")
            assert up.returncode == 0, up.stderr
            back = os.path.join(work, "back.tar")
            down = _s3(server, session, "cp", "s3://ci-artifacts/build.tar", back)
            assert down.returncode == 0, down.stderr
            with open(artifact, "rb") as a, open(back, "rb") as b:
                assert a.read() == b.read()
            other = _s3(server, session, "cp", artifact, "s3://ci-secrets/build.tar")
            assert other.returncode != 0 and "AccessDenied" in other.stderr, other.stderr
            # A presigned URL made with the session works for a plain HTTP client.
            url = subprocess.run(
                ["aws", "--endpoint-url", server.url("s3"), "s3", "presign",
                 "s3://ci-artifacts/build.tar"], env=session, capture_output=True, text=True,
                timeout=TOOL_TIMEOUT)
            assert url.returncode == 0, url.stderr
            assert "x-amz-security-token" in url.stdout.lower(), url.stdout
            from harness import fetch
            status, body = fetch(url.stdout.strip())
            assert status == 200 and len(body) == 100_000, (status, url.stdout, body[:300])
        finally:
            _s3(server, root, "rb", "--force", "s3://ci-artifacts")
            _s3(server, root, "rb", "--force", "s3://ci-secrets")
            for key in _run(server, "iam", "list-access-keys",
                            "--user-name", "ci-runner").get("AccessKeyMetadata", []):
                _run(server, "iam", "delete-access-key", "--user-name", "ci-runner",
                     "--access-key-id", key["AccessKeyId"])
            aws(server, "iam", "iam", "delete-user-policy", "--user-name", "ci-runner",
                "--policy-name", "assume")
            aws(server, "iam", "iam", "delete-user", "--user-name", "ci-runner")
            aws(server, "iam", "iam", "delete-role-policy", "--role-name", "ci-deploy",
                "--policy-name", "artifacts")
            aws(server, "iam", "iam", "delete-role", "--role-name", "ci-deploy")


def check_boto3_assumes_a_role_and_an_expired_session_is_refused(server):
    """boto3: AssumeRole and GetSessionToken; a session of the server's shortest length is
    refused with ExpiredToken once it has run out, by the aws CLI and by boto3."""
    from botocore.config import Config
    iam = boto3_client(server, "iam", "iam")
    iam.create_role(RoleName="short-lived", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": "sts:AssumeRole"}]}))
    try:
        iam.put_role_policy(RoleName="short-lived", PolicyName="list", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}]}))
        # botocore checks DurationSeconds >= 900 itself; the server allows shorter for tests.
        sts = boto3_client(server, "sts", "iam", parameter_validation=False)
        out = sts.assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT}:role/short-lived",
                              RoleSessionName="brief", DurationSeconds=STS_MIN_DURATION)
        creds = out["Credentials"]
        import boto3
        s3 = boto3.client("s3", endpoint_url=server.url("s3"), region_name=REGION,
                          aws_access_key_id=creds["AccessKeyId"],
                          aws_secret_access_key=creds["SecretAccessKey"],
                          aws_session_token=creds["SessionToken"],
                          config=Config(retries={"max_attempts": 1}))
        s3.list_buckets()
        expect_client_error(lambda: s3.list_objects_v2(Bucket="anything"), "AccessDenied", 403)
        time.sleep(STS_MIN_DURATION + 1)
        expect_client_error(s3.list_buckets, "ExpiredToken", 400)
        env = _env_with(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
        who = subprocess.run(["aws", "--endpoint-url", server.url("iam"), "sts",
                              "get-caller-identity"], env=env, capture_output=True, text=True,
                             timeout=TOOL_TIMEOUT)
        assert who.returncode != 0 and "ExpiredToken" in who.stderr, who.stderr

        # GetSessionToken as the root: the root's own permissions, for a while.
        token = sts.get_session_token(DurationSeconds=900)["Credentials"]
        root_s3 = boto3.client("s3", endpoint_url=server.url("s3"), region_name=REGION,
                               aws_access_key_id=token["AccessKeyId"],
                               aws_secret_access_key=token["SecretAccessKey"],
                               aws_session_token=token["SessionToken"],
                               config=Config(retries={"max_attempts": 1}))
        root_s3.list_buckets()
    finally:
        iam.delete_role_policy(RoleName="short-lived", PolicyName="list")
        iam.delete_role(RoleName="short-lived")


def check_aws_cli_web_identity_flow(server):
    """A CI system's OIDC token buys S3 access with no stored secret: the provider and a role
    trusting it for one subject are set up with `aws iam`; the job runs
    `aws sts assume-role-with-web-identity` (unsigned) and then `aws s3 cp`; a token for
    another subject is refused."""
    from oidc_issuer import Issuer
    issuer = Issuer(server.jwks_dir, "ci.e2e.example")
    provider_arn = f"arn:aws:iam::{ACCOUNT}:oidc-provider/ci.e2e.example"
    root = aws_env()
    _s3(server, root, "mb", "s3://oidc-drop")
    trust = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Federated": provider_arn},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {"ci.e2e.example:sub": "project:deploy",
                                       "ci.e2e.example:aud": "labstore"}}}]})
    policy = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::oidc-drop/*"}]})
    try:
        _run(server, "iam", "create-open-id-connect-provider", "--url", issuer.issuer,
             "--client-id-list", "labstore")
        _run(server, "iam", "create-role", "--role-name", "oidc-deploy",
             "--assume-role-policy-document", trust)
        _run(server, "iam", "put-role-policy", "--role-name", "oidc-deploy",
             "--policy-name", "drop", "--policy-document", policy)
        # No credentials at all: the token is the credential.
        anonymous = {k: v for k, v in aws_env().items()
                     if k not in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
        token = issuer.token(issuer.claims("project:deploy", "labstore"))
        out = _run(server, "sts", "assume-role-with-web-identity",
                   "--role-arn", f"arn:aws:iam::{ACCOUNT}:role/oidc-deploy",
                   "--role-session-name", "deploy-7", "--web-identity-token", token,
                   env=anonymous)
        assert out["SubjectFromWebIdentityToken"] == "project:deploy", out
        creds = out["Credentials"]
        session = _env_with(creds["AccessKeyId"], creds["SecretAccessKey"],
                            creds["SessionToken"])
        with tempfile.NamedTemporaryFile(suffix=".txt") as f:
            f.write(b"released")
            f.flush()
            up = _s3(server, session, "cp", f.name, "s3://oidc-drop/release.txt")
            assert up.returncode == 0, up.stderr
        me = _run(server, "sts", "get-caller-identity", env=session)
        assert me["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/oidc-deploy/deploy-7", me
        other = issuer.token(issuer.claims("project:other", "labstore"))
        refused = subprocess.run(
            ["aws", "--endpoint-url", server.url("iam"), "sts", "assume-role-with-web-identity",
             "--role-arn", f"arn:aws:iam::{ACCOUNT}:role/oidc-deploy",
             "--role-session-name", "x1", "--web-identity-token", other],
            env=anonymous, capture_output=True, text=True, timeout=TOOL_TIMEOUT)
        assert refused.returncode != 0 and "AccessDenied" in refused.stderr, refused.stderr
    finally:
        issuer.remove()
        _s3(server, root, "rb", "--force", "s3://oidc-drop")
        aws(server, "iam", "iam", "delete-role-policy", "--role-name", "oidc-deploy",
            "--policy-name", "drop")
        aws(server, "iam", "iam", "delete-role", "--role-name", "oidc-deploy")
        aws(server, "iam", "iam", "delete-open-id-connect-provider",
            "--open-id-connect-provider-arn", provider_arn)


CHECKS = [
    check_aws_cli_assumes_a_role_and_copies_with_it,
    check_boto3_assumes_a_role_and_an_expired_session_is_refused,
    check_aws_cli_web_identity_flow,
]
