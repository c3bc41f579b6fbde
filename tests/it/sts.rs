//! STS through `aws-sdk-sts` against the server: AssumeRole (trust policies, the caller's own
//! policies, session policies, tags, ExternalId, durations), GetSessionToken,
//! GetCallerIdentity, and the temporary credentials on S3 (header and presigned), IAM and STS:
//! what they may do, a role change reaching live sessions, expired and damaged tokens.
//! <https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html> (and siblings)

use std::net::SocketAddr;
use std::time::Duration;

use aws_sdk_sts::types::{PolicyDescriptorType, Tag};
use labstore::auth::session::{self, Claims, Subject};
use labstore::state::Listener;

use crate::common::{self, allow, error_code, Endpoints, TestServer};

const ACCOUNT: &str = "000000000000";

pub(crate) fn sts_client(
    endpoint: SocketAddr,
    key: &str,
    secret: &str,
    token: Option<&str>,
) -> aws_sdk_sts::Client {
    use aws_sdk_sts::config::{BehaviorVersion, Credentials, Region};
    let credentials = Credentials::new(
        key,
        secret,
        token.map(str::to_owned),
        None,
        "labstore-tests",
    );
    let config = aws_sdk_sts::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(format!("http://{endpoint}"))
        .credentials_provider(credentials)
        .build();
    aws_sdk_sts::Client::from_conf(config)
}

/// Temporary credentials: (access key id, secret, token).
type Temporary = (String, String, String);

fn temporary(c: &aws_sdk_sts::types::Credentials) -> Temporary {
    (
        c.access_key_id().to_owned(),
        c.secret_access_key().to_owned(),
        c.session_token().to_owned(),
    )
}

fn s3_with(server: &TestServer, t: &Temporary) -> aws_sdk_s3::Client {
    use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
    let credentials = Credentials::new(&t.0, &t.1, Some(t.2.clone()), None, "labstore-tests");
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(format!("http://{}", server.addr(Listener::S3)))
        .force_path_style(true)
        .credentials_provider(credentials)
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

fn iam_with(server: &TestServer, t: &Temporary) -> aws_sdk_iam::Client {
    use aws_sdk_iam::config::{BehaviorVersion, Credentials, Region};
    let credentials = Credentials::new(&t.0, &t.1, Some(t.2.clone()), None, "labstore-tests");
    let config = aws_sdk_iam::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(format!("http://{}", server.addr(Listener::Iam)))
        .credentials_provider(credentials)
        .build();
    aws_sdk_iam::Client::from_conf(config)
}

fn trust(principal: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{principal}"}},"Action":["sts:AssumeRole","sts:TagSession"]}}]}}"#
    )
}

async fn role(server: &TestServer, name: &str, trust: &str, policy: &str) -> String {
    let iam = server.root_iam();
    let out = iam
        .create_role()
        .role_name(name)
        .assume_role_policy_document(trust)
        .send()
        .await
        .unwrap();
    iam.put_role_policy()
        .role_name(name)
        .policy_name("p")
        .policy_document(policy)
        .send()
        .await
        .unwrap();
    out.role().unwrap().arn().to_owned()
}

fn service_code<E: aws_sdk_s3::error::ProvideErrorMetadata, R>(
    e: &aws_sdk_s3::error::SdkError<E, R>,
) -> String {
    e.as_service_error()
        .and_then(|s| s.code())
        .unwrap_or("none")
        .to_owned()
}

fn sts_code<E: aws_sdk_sts::error::ProvideErrorMetadata + std::fmt::Debug, R: std::fmt::Debug>(
    result: Result<impl std::fmt::Debug, aws_sdk_sts::error::SdkError<E, R>>,
) -> (String, String) {
    let e = result.expect_err("expected an error");
    let s = e.as_service_error().expect("a service error");
    (
        s.code().unwrap_or_default().to_owned(),
        s.message().unwrap_or_default().to_owned(),
    )
}

#[test]
fn a_user_assumes_a_role_and_its_session_has_the_roles_permissions() {
    let server = common::start_with_root(&tempfile::tempdir().unwrap().keep());
    server.block_on(async {
        let root_s3 = server.with_bucket("sts-data").await;
        root_s3
            .put_object()
            .bucket("sts-data")
            .key("report.txt")
            .body("numbers".as_bytes().to_vec().into())
            .send()
            .await
            .unwrap();
        let reader = role(&server, "Reader", &trust(ACCOUNT), &allow("s3:GetObject")).await;
        assert_eq!(reader, format!("arn:aws:iam::{ACCOUNT}:role/Reader"));
        // A user allowed to assume it (the trust policy names the account: the user's own
        // policy must allow too).
        let user = server.with_user(&allow("sts:AssumeRole")).await;
        let sts = sts_client(
            server.addr(Listener::Iam),
            &user.access_key,
            &user.secret,
            None,
        );
        let out = sts
            .assume_role()
            .role_arn(&reader)
            .role_session_name("nightly-job")
            .send()
            .await
            .unwrap();
        let creds = out.credentials().unwrap();
        assert!(creds.access_key_id().starts_with("ASIA"), "{creds:?}");
        assert_eq!(creds.secret_access_key().len(), 40);
        let expires = creds.expiration().secs()
            - aws_sdk_sts::primitives::DateTime::from(std::time::SystemTime::now()).secs();
        assert!(
            (3590..=3600).contains(&expires),
            "default one hour: {expires}"
        );
        let assumed = out.assumed_role_user().unwrap();
        assert_eq!(
            assumed.arn(),
            format!("arn:aws:sts::{ACCOUNT}:assumed-role/Reader/nightly-job")
        );
        assert!(assumed.assumed_role_id().starts_with("AROA"));
        assert!(assumed.assumed_role_id().ends_with(":nightly-job"));
        let t = temporary(creds);

        // Who am I, with the session, on the IAM port and on the S3 port.
        for port in [Listener::Iam, Listener::S3] {
            let me = sts_client(server.addr(port), &t.0, &t.1, Some(&t.2))
                .get_caller_identity()
                .send()
                .await
                .unwrap();
            assert_eq!(me.arn(), Some(assumed.arn()));
            assert_eq!(me.user_id(), Some(assumed.assumed_role_id()));
            assert_eq!(me.account(), Some(ACCOUNT));
        }

        // The role's permissions, no more.
        let s3 = s3_with(&server, &t);
        let got = s3
            .get_object()
            .bucket("sts-data")
            .key("report.txt")
            .send()
            .await
            .unwrap();
        assert_eq!(
            got.body.collect().await.unwrap().into_bytes().as_ref(),
            b"numbers"
        );
        let put = s3
            .put_object()
            .bucket("sts-data")
            .key("new")
            .body(Vec::new().into())
            .send()
            .await
            .unwrap_err();
        assert_eq!(service_code(&put), "AccessDenied");
        // A presigned GET carries the token in the query.
        let presigned = s3
            .get_object()
            .bucket("sts-data")
            .key("report.txt")
            .presigned(
                aws_sdk_s3::presigning::PresigningConfig::expires_in(Duration::from_secs(60))
                    .unwrap(),
            )
            .await
            .unwrap();
        assert!(presigned.uri().contains("X-Amz-Security-Token="));
        let path = presigned
            .uri()
            .split_once(&server.addr(Listener::S3).to_string())
            .unwrap()
            .1
            .to_owned();
        let response = common::get(server.addr(Listener::S3), &path);
        assert_eq!(response.status, 200, "{}", response.body);
        assert_eq!(response.body, "numbers");

        // A change to the role reaches the live session on its next request.
        server
            .root_iam()
            .delete_role_policy()
            .role_name("Reader")
            .policy_name("p")
            .send()
            .await
            .unwrap();
        let denied = s3
            .get_object()
            .bucket("sts-data")
            .key("report.txt")
            .send()
            .await
            .unwrap_err();
        assert_eq!(service_code(&denied), "AccessDenied");
        server
            .root_iam()
            .delete_role()
            .role_name("Reader")
            .send()
            .await
            .unwrap();
        let gone = s3
            .get_object()
            .bucket("sts-data")
            .key("report.txt")
            .send()
            .await
            .unwrap_err();
        assert_eq!(service_code(&gone), "InvalidToken");
    });
}

#[test]
fn the_trust_policy_and_the_callers_policies_decide_together() {
    let server = common::start_with_root(&tempfile::tempdir().unwrap().keep());
    server.block_on(async {
        let sts_as = |u: &crate::common::in_process::User| sts_client(server.addr(Listener::Iam), &u.access_key, &u.secret, None);
        let nobody = server.with_user(&allow("s3:ListAllMyBuckets")).await;
        let allowed = server.with_user(&allow("sts:AssumeRole")).await;
        let account_role = role(&server, "AccountTrust", &trust(ACCOUNT), &allow("s3:*")).await;
        let assume = |c: aws_sdk_sts::Client, arn: String| async move {
            c.assume_role().role_arn(arn).role_session_name("job").send().await
        };
        // The account is trusted: the caller's own allow is needed.
        let (code, message) = sts_code(assume(sts_as(&nobody), account_role.clone()).await);
        assert_eq!(code, "AccessDenied");
        assert_eq!(
            message,
            format!(
                "User: arn:aws:iam::{ACCOUNT}:user/{} is not authorized to perform: sts:AssumeRole on resource: {account_role}",
                nobody.name
            )
        );
        assume(sts_as(&allowed), account_role.clone()).await.unwrap();
        // The root needs no allow of its own.
        assume(sts_client(server.addr(Listener::Iam), "admin", common::ROOT_SECRET, None), account_role.clone())
            .await
            .unwrap();
        // A trust policy naming the user itself is enough on its own.
        let named = role(
            &server,
            "NamedTrust",
            &trust(&format!("arn:aws:iam::{ACCOUNT}:user/{}", nobody.name)),
            &allow("s3:*"),
        )
        .await;
        assume(sts_as(&nobody), named.clone()).await.unwrap();
        let (code, _) = sts_code(assume(sts_as(&allowed), named).await);
        assert_eq!(code, "AccessDenied", "not named, and the account is not trusted");
        // An explicit deny in the caller's policies wins over the trust policy.
        let denied = server
            .with_user(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"},{"Effect":"Deny","Action":"sts:AssumeRole","Resource":"arn:aws:iam::000000000000:role/AccountTrust"}]}"#)
            .await;
        let (code, _) = sts_code(assume(sts_as(&denied), account_role.clone()).await);
        assert_eq!(code, "AccessDenied");
        // Unknown roles, and roles of other accounts, answer the same.
        for arn in [
            format!("arn:aws:iam::{ACCOUNT}:role/Missing"),
            "arn:aws:iam::111122223333:role/AccountTrust".to_owned(),
            format!("arn:aws:iam::{ACCOUNT}:role/team/AccountTrust"),
        ] {
            let (code, _) = sts_code(assume(sts_as(&allowed), arn.clone()).await);
            assert_eq!(code, "AccessDenied", "{arn}");
        }
        // ExternalId, as a trust condition.
        let external = role(
            &server,
            "External",
            &format!(
                r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{ACCOUNT}"}},"Action":"sts:AssumeRole","Condition":{{"StringEquals":{{"sts:ExternalId":"s3cret-id"}}}}}}]}}"#
            ),
            &allow("s3:*"),
        )
        .await;
        let (code, _) = sts_code(assume(sts_as(&allowed), external.clone()).await);
        assert_eq!(code, "AccessDenied");
        sts_as(&allowed)
            .assume_role()
            .role_arn(&external)
            .role_session_name("job")
            .external_id("s3cret-id")
            .send()
            .await
            .unwrap();
    });
}

#[test]
fn session_policies_and_tags_narrow_and_label_a_session() {
    let server = common::start_with_root(&tempfile::tempdir().unwrap().keep());
    server.block_on(async {
        let root_s3 = server.with_bucket("tagged").await;
        for key in ["blue/a", "red/a"] {
            root_s3.put_object().bucket("tagged").key(key).body(Vec::new().into()).send().await.unwrap();
        }
        // The role lets a session read the prefix named by its `team` tag.
        let arn = role(
            &server,
            "Team",
            &trust(ACCOUNT),
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::tagged/${aws:PrincipalTag/team}/*"}]}"#,
        )
        .await;
        let root_sts = sts_client(server.addr(Listener::Iam), "admin", common::ROOT_SECRET, None);
        let tag = Tag::builder().key("team").value("blue").build().unwrap();
        let out = root_sts
            .assume_role()
            .role_arn(&arn)
            .role_session_name("tagged")
            .tags(tag)
            .policy(allow("s3:GetObject"))
            .send()
            .await
            .unwrap();
        let s3 = s3_with(&server, &temporary(out.credentials().unwrap()));
        s3.get_object().bucket("tagged").key("blue/a").send().await.unwrap();
        let other = s3.get_object().bucket("tagged").key("red/a").send().await.unwrap_err();
        assert_eq!(service_code(&other), "AccessDenied", "the tag decides the prefix");
        // The session policy allows only reads, though the role allows writes.
        let put = s3.put_object().bucket("tagged").key("blue/b").body(Vec::new().into()).send().await.unwrap_err();
        assert_eq!(service_code(&put), "AccessDenied");

        // A managed policy as a session policy.
        let iam = server.root_iam();
        let policy = iam
            .create_policy()
            .policy_name("ReadOnlyTagged")
            .policy_document(allow("s3:GetObject"))
            .send()
            .await
            .unwrap();
        let policy_arn = policy.policy().unwrap().arn().unwrap().to_owned();
        let out = root_sts
            .assume_role()
            .role_arn(&arn)
            .role_session_name("managed")
            .tags(Tag::builder().key("team").value("blue").build().unwrap())
            .policy_arns(PolicyDescriptorType::builder().arn(&policy_arn).build())
            .send()
            .await
            .unwrap();
        let s3 = s3_with(&server, &temporary(out.credentials().unwrap()));
        s3.get_object().bucket("tagged").key("blue/a").send().await.unwrap();
        let put = s3.put_object().bucket("tagged").key("blue/b").body(Vec::new().into()).send().await.unwrap_err();
        assert_eq!(service_code(&put), "AccessDenied");

        // Tags need sts:TagSession in the trust policy.
        let untaggable = role(
            &server,
            "NoTags",
            &format!(r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{ACCOUNT}"}},"Action":"sts:AssumeRole"}}]}}"#),
            &allow("s3:*"),
        )
        .await;
        let (code, _) = sts_code(
            root_sts
                .assume_role()
                .role_arn(&untaggable)
                .role_session_name("job")
                .tags(Tag::builder().key("team").value("blue").build().unwrap())
                .send()
                .await,
        );
        assert_eq!(code, "AccessDenied");
    });
}

#[test]
fn assume_role_checks_its_parameters_as_sts_does() {
    let server = common::start_with_root(&tempfile::tempdir().unwrap().keep());
    server.block_on(async {
        let arn = role(&server, "Checked", &trust(ACCOUNT), &allow("s3:*")).await;
        let sts = sts_client(server.addr(Listener::Iam), "admin", common::ROOT_SECRET, None);
        let try_with = |name: &str, duration: Option<i32>, policy: Option<&str>| {
            let mut call = sts.assume_role().role_arn(&arn).role_session_name(name);
            if let Some(d) = duration {
                call = call.duration_seconds(d);
            }
            if let Some(p) = policy {
                call = call.policy(p);
            }
            call.send()
        };
        let (code, message) = sts_code(try_with("a", None, None).await);
        assert_eq!(code, "ValidationError");
        assert!(message.contains("roleSessionName"), "{message}");
        let (code, _) = sts_code(try_with("has space", None, None).await);
        assert_eq!(code, "ValidationError");
        let (code, _) = sts_code(try_with("ok", Some(899), None).await);
        assert_eq!(code, "ValidationError");
        let (code, message) = sts_code(try_with("ok", Some(7200), None).await);
        assert_eq!(code, "ValidationError");
        assert_eq!(message, "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.");
        server
            .root_iam()
            .update_role()
            .role_name("Checked")
            .max_session_duration(7200)
            .send()
            .await
            .unwrap();
        let out = try_with("ok", Some(7200), None).await.unwrap();
        let lasts = out.credentials().unwrap().expiration().secs()
            - aws_sdk_sts::primitives::DateTime::from(std::time::SystemTime::now()).secs();
        assert!((7190..=7200).contains(&lasts), "{lasts}");
        let (code, _) = sts_code(try_with("ok", None, Some("{not json")).await);
        assert_eq!(code, "MalformedPolicyDocument");
        let big = format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::{}"}}]}}"#,
            "x".repeat(2000)
        );
        let (code, _) = sts_code(try_with("ok", None, Some(&big)).await);
        assert!(code == "PackedPolicyTooLarge" || code == "ValidationError", "{code}");
        // Unknown and unoffered actions are refused by name.
        let (code, _) = sts_code(sts.get_federation_token().name("bob").send().await);
        assert_eq!(code, "NotImplemented");
    });
}

#[test]
fn get_session_token_carries_the_users_permissions_but_not_iam() {
    let server = common::start_with_root(&tempfile::tempdir().unwrap().keep());
    server.block_on(async {
        server.with_bucket("own").await;
        let user = server.with_user(&allow("*")).await;
        let sts = sts_client(
            server.addr(Listener::Iam),
            &user.access_key,
            &user.secret,
            None,
        );
        let out = sts
            .get_session_token()
            .duration_seconds(900)
            .send()
            .await
            .unwrap();
        let t = temporary(out.credentials().unwrap());
        s3_with(&server, &t)
            .list_objects_v2()
            .bucket("own")
            .send()
            .await
            .unwrap();
        let me = sts_client(server.addr(Listener::Iam), &t.0, &t.1, Some(&t.2))
            .get_caller_identity()
            .send()
            .await
            .unwrap();
        assert_eq!(
            me.arn(),
            Some(format!("arn:aws:iam::{ACCOUNT}:user/{}", user.name).as_str())
        );
        let iam = iam_with(&server, &t).list_users().send().await;
        assert_eq!(error_code(iam), "AccessDenied");
        let again = sts_client(server.addr(Listener::Iam), &t.0, &t.1, Some(&t.2))
            .get_session_token()
            .send()
            .await;
        assert_eq!(sts_code(again).0, "AccessDenied");
        let (code, _) = sts_code(
            sts.get_session_token()
                .duration_seconds(200_000)
                .send()
                .await,
        );
        assert_eq!(code, "ValidationError");
    });
}

#[test]
fn expired_and_damaged_tokens_are_refused_with_awss_codes() {
    let server = common::start_with_root(&tempfile::tempdir().unwrap().keep());
    server.block_on(async {
        server.with_bucket("tokens").await;
        let out = sts_client(
            server.addr(Listener::Iam),
            "admin",
            common::ROOT_SECRET,
            None,
        )
        .get_session_token()
        .send()
        .await
        .unwrap();
        let good = temporary(out.credentials().unwrap());
        s3_with(&server, &good)
            .list_objects_v2()
            .bucket("tokens")
            .send()
            .await
            .unwrap();
        // The same session, sealed as if issued two hours ago for one hour.
        let now = labstore::timefmt::unix_seconds(std::time::SystemTime::now());
        let expired_claims = Claims {
            access_key: "ASIAEXPIREDEXAMPLE1".into(),
            secret: "expired-secret-expired-secret-expired-00".into(),
            subject: Subject::Root,
            issued: now - 7200,
            expires: now - 3600,
            policies: Vec::new(),
            tags: Vec::new(),
            transitive: Vec::new(),
            source_identity: None,
            web: None,
        };
        let token = session::seal(server.state().iam.master_key(), &expired_claims);
        let expired = (
            expired_claims.access_key.clone(),
            expired_claims.secret.clone(),
            token,
        );
        let e = s3_with(&server, &expired)
            .list_objects_v2()
            .bucket("tokens")
            .send()
            .await
            .unwrap_err();
        assert_eq!(service_code(&e), "ExpiredToken");
        let e = sts_client(
            server.addr(Listener::Iam),
            &expired.0,
            &expired.1,
            Some(&expired.2),
        )
        .get_caller_identity()
        .send()
        .await;
        assert_eq!(sts_code(e).0, "ExpiredToken");
        let e = iam_with(&server, &expired).list_users().send().await;
        assert_eq!(error_code(e), "ExpiredToken");

        // Damaged, another session's, or with a long-term key: invalid.
        let mut damaged = good.clone();
        damaged
            .2
            .replace_range(10..11, if &damaged.2[10..11] == "A" { "B" } else { "A" });
        let e = s3_with(&server, &damaged)
            .list_objects_v2()
            .bucket("tokens")
            .send()
            .await
            .unwrap_err();
        assert_eq!(service_code(&e), "InvalidToken");
        let mut swapped = expired.clone();
        swapped.2 = good.2.clone();
        let e = s3_with(&server, &swapped)
            .list_objects_v2()
            .bucket("tokens")
            .send()
            .await
            .unwrap_err();
        assert_eq!(service_code(&e), "InvalidToken");
        let e = sts_client(
            server.addr(Listener::Iam),
            &damaged.0,
            &damaged.1,
            Some(&damaged.2),
        )
        .get_caller_identity()
        .send()
        .await;
        assert_eq!(sts_code(e).0, "InvalidClientTokenId");
        let long_term = (
            "admin".to_owned(),
            common::ROOT_SECRET.to_owned(),
            good.2.clone(),
        );
        let e = s3_with(&server, &long_term)
            .list_objects_v2()
            .bucket("tokens")
            .send()
            .await
            .unwrap_err();
        assert_eq!(service_code(&e), "InvalidToken");
        // Without the token, the temporary key id is unknown.
        let e = common::s3_client_as(&server, &good.0, &good.1)
            .list_objects_v2()
            .bucket("tokens")
            .send()
            .await
            .unwrap_err();
        assert_eq!(service_code(&e), "InvalidAccessKeyId");
    });
}

#[test]
fn a_web_identity_token_buys_a_session_of_a_role_that_trusts_its_provider() {
    use crate::common::oidc::{Alg, TestIssuer};
    let issuer = TestIssuer::start();
    let server = issuer.server(&tempfile::tempdir().unwrap().keep(), &[]);
    server.block_on(async {
        server.with_bucket("web-ci").await;
        let iam = server.root_iam();
        iam.create_open_id_connect_provider()
            .url(&issuer.url)
            .client_id_list("ci-app")
            .send()
            .await
            .unwrap();
        let host = issuer.host();
        let trust = format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"Federated":"{}"}},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{{"StringEquals":{{"{host}:sub":"repo:main","{host}:aud":"ci-app"}}}}}}]}}"#,
            issuer.arn()
        );
        let arn = role(&server, "WebCi", &trust, &allow("s3:ListBucket")).await;
        // AssumeRoleWithWebIdentity is unsigned: the token is the credential.
        let sts = sts_client(server.addr(Listener::Iam), "unused", "unused", None);
        let assume = |token: String| {
            sts.assume_role_with_web_identity()
                .role_arn(&arn)
                .role_session_name("pipeline")
                .web_identity_token(token)
                .send()
        };
        for alg in [Alg::Rs256, Alg::Es256] {
            let token = issuer.token(alg, &issuer.claims("repo:main", "ci-app"));
            let out = assume(token).await.unwrap();
            assert_eq!(out.subject_from_web_identity_token(), Some("repo:main"));
            assert_eq!(out.audience(), Some("ci-app"));
            assert_eq!(
                out.assumed_role_user().unwrap().arn(),
                format!("arn:aws:sts::{ACCOUNT}:assumed-role/WebCi/pipeline")
            );
            let t = temporary(out.credentials().unwrap());
            s3_with(&server, &t).list_objects_v2().bucket("web-ci").send().await.unwrap();
            let put = s3_with(&server, &t)
                .put_object()
                .bucket("web-ci")
                .key("x")
                .body(Vec::new().into())
                .send()
                .await
                .unwrap_err();
            assert_eq!(service_code(&put), "AccessDenied");
        }
        // Another subject: the trust policy's condition refuses it.
        let other = issuer.token(Alg::Rs256, &issuer.claims("repo:feature", "ci-app"));
        assert_eq!(sts_code(assume(other).await).0, "AccessDenied");
        // Another audience: not a client id of the provider.
        let foreign = issuer.token(Alg::Rs256, &issuer.claims("repo:main", "other-app"));
        assert_eq!(sts_code(assume(foreign).await).0, "InvalidIdentityToken");
        // Expired.
        let mut claims = issuer.claims("repo:main", "ci-app");
        claims["exp"] = serde_json::json!(crate::common::oidc::now() - 3600);
        claims["iat"] = serde_json::json!(crate::common::oidc::now() - 7200);
        let expired = issuer.token(Alg::Rs256, &claims);
        assert_eq!(sts_code(assume(expired).await).0, "ExpiredTokenException");
        // Damaged, or from an issuer with no provider here.
        let token = issuer.token(Alg::Rs256, &issuer.claims("repo:main", "ci-app"));
        let damaged = format!("{}x", &token[..token.len() - 1]);
        assert_eq!(sts_code(assume(damaged).await).0, "InvalidIdentityToken");
        let mut elsewhere = issuer.claims("repo:main", "ci-app");
        elsewhere["iss"] = serde_json::json!("https://idp.elsewhere.example");
        let stranger = issuer.token(Alg::Rs256, &elsewhere);
        assert_eq!(sts_code(assume(stranger).await).0, "InvalidIdentityToken");
    });
}

/// What STS does not understand is refused by name, never served as another action: a made-up
/// action is `InvalidAction`, an unsigned call other than AssumeRoleWithWebIdentity is
/// `MissingAuthenticationToken` (in STS's namespace when it names an STS action, in IAM's
/// otherwise), and STS's missing parameters are `ValidationError`; on both ports.
#[test]
fn sts_refuses_what_it_does_not_understand() {
    use crate::common::signing::{iam_call, send, Signer, FORM};
    let server = common::start_with_root(&tempfile::tempdir().unwrap().keep());
    let signer = Signer {
        service: "sts",
        ..Signer::new("admin", common::ROOT_SECRET)
    };
    let code = |body: &str| {
        body.split_once("<Code>")
            .and_then(|(_, rest)| rest.split_once("</Code>"))
            .map_or(String::new(), |(code, _)| code.to_owned())
    };
    for port in [server.addr(Listener::Iam), server.addr(Listener::S3)] {
        let made_up = iam_call(port, &signer, "Action=AssumeEverything&Version=2011-06-15");
        assert_eq!(
            (made_up.status, code(&made_up.body)),
            (400, "InvalidAction".into()),
            "{}",
            made_up.body
        );
        assert!(made_up
            .body
            .contains("https://sts.amazonaws.com/doc/2011-06-15/"));
        // An IAM action signed for STS is not an STS action.
        let iam_action = iam_call(port, &signer, "Action=ListUsers&Version=2011-06-15");
        assert_eq!(
            code(&iam_action.body),
            "InvalidAction",
            "{}",
            iam_action.body
        );
        let missing = iam_call(port, &signer, "Action=AssumeRole&Version=2011-06-15");
        assert_eq!(
            (missing.status, code(&missing.body)),
            (400, "ValidationError".into()),
            "{}",
            missing.body
        );
    }
    let iam = server.addr(Listener::Iam);
    let unsigned = |body: &str| {
        send(
            iam,
            "POST",
            "/",
            &[("content-type".into(), FORM.into())],
            body,
        )
    };
    let sts_call = unsigned("Action=GetCallerIdentity&Version=2011-06-15");
    assert_eq!(
        (sts_call.status, code(&sts_call.body)),
        (403, "MissingAuthenticationToken".into()),
        "{}",
        sts_call.body
    );
    assert!(sts_call
        .body
        .contains("https://sts.amazonaws.com/doc/2011-06-15/"));
    let iam_call_unsigned = unsigned("Action=ListUsers&Version=2010-05-08");
    assert_eq!(code(&iam_call_unsigned.body), "MissingAuthenticationToken");
    assert!(iam_call_unsigned
        .body
        .contains("https://iam.amazonaws.com/doc/2010-05-08/"));
    // Web identity without a token is a validation error, not an anonymous session.
    let no_token = unsigned(
        "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=arn:aws:iam::000000000000:role/x&RoleSessionName=abc",
    );
    assert_eq!(
        (no_token.status, code(&no_token.body)),
        (400, "ValidationError".into()),
        "{}",
        no_token.body
    );
}
