//! Authentication of the IAM API with raw signed requests: the malformed, stale and forged
//! cases no SDK sends, the presigned form, and IAM calls arriving on the S3 port.

use crate::common;

use std::time::{Duration, SystemTime};

use common::signing::{iam_call, send, Signer, FORM};
use common::{root_iam, start_with_root, TestServer, ROOT_SECRET};

const LIST_USERS: &str = "Action=ListUsers&Version=2010-05-08";

fn code(body: &str) -> &str {
    let start = body.find("<Code>").map(|i| i + 6).unwrap_or(0);
    let end = body.find("</Code>").unwrap_or(start);
    &body[start..end]
}

fn root(server: &TestServer) -> Signer<'static> {
    let _ = server;
    Signer::new("admin", ROOT_SECRET)
}

#[test]
fn a_correctly_signed_call_succeeds_with_any_region_even_empty() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    for region in ["us-east-1", "eu-central-1", "homelab", ""] {
        let signer = Signer {
            region,
            ..root(&server)
        };
        let r = iam_call(server.iam, &signer, LIST_USERS);
        assert_eq!(r.status, 200, "region {region:?}: {}", r.body);
        assert!(r.body.contains("<ListUsersResponse"), "{}", r.body);
    }
}

#[test]
fn forged_unknown_and_stale_requests_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let now = SystemTime::now();
    let cases: Vec<(&str, Signer<'_>, u16, &str)> = vec![
        (
            "unknown key",
            Signer::new("AKIAIOSFODNN7EXAMPLE", ROOT_SECRET),
            403,
            "InvalidClientTokenId",
        ),
        (
            "wrong secret",
            Signer::new("admin", "not-the-root-secret"),
            403,
            "SignatureDoesNotMatch",
        ),
        (
            "16 minutes old",
            Signer {
                time: now - Duration::from_secs(16 * 60),
                ..root(&server)
            },
            400,
            "RequestExpired",
        ),
        (
            "16 minutes ahead",
            Signer {
                time: now + Duration::from_secs(16 * 60),
                ..root(&server)
            },
            400,
            "RequestExpired",
        ),
    ];
    for (what, signer, status, expected) in cases {
        let r = iam_call(server.iam, &signer, LIST_USERS);
        assert_eq!(
            (r.status, code(&r.body)),
            (status, expected),
            "{what}: {}",
            r.body
        );
        assert!(r.header("x-amzn-RequestId").is_some());
    }
    // 14 minutes of skew is tolerated.
    let signer = Signer {
        time: now - Duration::from_secs(14 * 60),
        ..root(&server)
    };
    assert_eq!(iam_call(server.iam, &signer, LIST_USERS).status, 200);
}

#[test]
fn missing_and_malformed_authorization_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let form = ("content-type".to_owned(), FORM.to_owned());
    let cases = [
        (vec![form.clone()], 403, "MissingAuthenticationToken"),
        (
            vec![
                form.clone(),
                ("authorization".into(), "AWS admin:c2lnbmF0dXJl".into()),
            ],
            400,
            "IncompleteSignature",
        ),
        (
            vec![
                form.clone(),
                (
                    "authorization".into(),
                    "AWS4-HMAC-SHA256 Credential=admin".into(),
                ),
            ],
            400,
            "IncompleteSignature",
        ),
    ];
    for (headers, status, expected) in cases {
        let r = send(server.iam, "POST", "/", &headers, LIST_USERS);
        assert_eq!(
            (r.status, code(&r.body)),
            (status, expected),
            "{headers:?}: {}",
            r.body
        );
    }
}

#[test]
fn a_body_changed_after_signing_does_not_verify() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let (path, headers) = root(&server).sign(
        server.iam,
        "POST",
        "/",
        &[("content-type", FORM)],
        LIST_USERS,
    );
    let tampered = "Action=CreateUser&UserName=mallory&Version=2010-05-08";
    let r = send(server.iam, "POST", &path, &headers, tampered);
    assert_eq!(
        (r.status, code(&r.body)),
        (403, "SignatureDoesNotMatch"),
        "{}",
        r.body
    );
}

/// Signers such as httpie's AWS plugin send `x-amz-content-sha256` without listing it in
/// SignedHeaders; IAM hashes the body itself, so the header changes nothing and is accepted.
/// Any other unsigned `x-amz-*` header is refused.
#[test]
fn an_unlisted_content_sha256_is_accepted_other_unsigned_amz_headers_are_not() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let signed = || {
        root(&server).sign(
            server.iam,
            "POST",
            "/",
            &[("content-type", FORM)],
            LIST_USERS,
        )
    };
    let (path, mut headers) = signed();
    headers.push(("x-amz-content-sha256".into(), "UNSIGNED-PAYLOAD".into()));
    let r = send(server.iam, "POST", &path, &headers, LIST_USERS);
    assert_eq!(r.status, 200, "{}", r.body);
    let (path, mut headers) = signed();
    headers.push(("x-amz-security-token".into(), "anything".into()));
    let r = send(server.iam, "POST", &path, &headers, LIST_USERS);
    assert_eq!(
        (r.status, code(&r.body)),
        (400, "IncompleteSignature"),
        "{}",
        r.body
    );
    assert!(r.body.contains("x-amz-security-token"), "{}", r.body);
}

#[test]
fn presigned_calls_work_until_they_expire() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let query = format!("/?{LIST_USERS}");
    let fresh = Signer {
        presign: Some(Duration::from_secs(300)),
        ..root(&server)
    };
    let (path, headers) = fresh.sign(server.iam, "GET", &query, &[], "");
    assert!(path.contains("X-Amz-Signature="), "{path}");
    let r = send(server.iam, "GET", &path, &headers, "");
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("<ListUsersResponse"));

    let stale = Signer {
        presign: Some(Duration::from_secs(60)),
        time: SystemTime::now() - Duration::from_secs(120),
        ..root(&server)
    };
    let (path, headers) = stale.sign(server.iam, "GET", &query, &[], "");
    let r = send(server.iam, "GET", &path, &headers, "");
    assert_eq!(
        (r.status, code(&r.body)),
        (400, "RequestExpired"),
        "{}",
        r.body
    );
}

#[test]
fn iam_calls_signed_for_iam_are_served_on_the_s3_port() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let r = iam_call(
        server.s3,
        &root(&server),
        "Action=CreateUser&UserName=via-s3&Version=2010-05-08",
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("<CreateUserResponse"));
    assert!(r.header("x-amzn-RequestId").is_some());
    let r = iam_call(
        server.iam,
        &root(&server),
        "Action=GetUser&UserName=via-s3&Version=2010-05-08",
    );
    assert_eq!(r.status, 200, "{}", r.body);
}

#[test]
fn unknown_and_missing_actions_are_client_errors() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let cases = [
        ("Action=AssumeRole&Version=2010-05-08", 400, "InvalidAction"),
        ("Version=2010-05-08", 400, "MissingAction"),
        (
            "Action=CreateUser&Version=2010-05-08",
            400,
            "ValidationError",
        ),
        (
            "Action=CreateUser&UserName=a%20b&Version=2010-05-08",
            400,
            "ValidationError",
        ),
        (
            "Action=ListUsers&MaxItems=0&Version=2010-05-08",
            400,
            "ValidationError",
        ),
    ];
    for (body, status, expected) in cases {
        let r = iam_call(server.iam, &root(&server), body);
        assert_eq!(
            (r.status, code(&r.body)),
            (status, expected),
            "{body}: {}",
            r.body
        );
        assert!(r.body.contains("<Type>Sender</Type>"), "{}", r.body);
    }
}

/// A real IAM action this server does not offer is `NotImplemented` by name (501, Receiver), on
/// both ports, after the signature; a made-up name (or another API's) stays `InvalidAction`.
#[test]
fn real_iam_actions_not_offered_are_not_implemented() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    for port in [server.iam, server.s3] {
        for body in [
            "Action=CreateLoginProfile&UserName=alice&Password=p4ssw0rd!Secret&Version=2010-05-08",
            "Action=ListInstanceProfiles&Version=2010-05-08",
            "Action=GenerateCredentialReport&Version=2010-05-08",
        ] {
            let r = iam_call(port, &root(&server), body);
            assert_eq!((r.status, code(&r.body)), (501, "NotImplemented"), "{body}");
            let action = body
                .split('&')
                .next()
                .unwrap()
                .trim_start_matches("Action=");
            let message = format!("<Message>{action} is not implemented by this server.</Message>");
            assert!(r.body.contains(&message), "{}", r.body);
            assert!(r.body.contains("<Type>Receiver</Type>"), "{}", r.body);
        }
        for body in [
            "Action=CreateLoginProfiles&Version=2010-05-08",
            "Action=createloginprofile&Version=2010-05-08",
            "Action=GetFederationToken&Version=2010-05-08",
        ] {
            let r = iam_call(port, &root(&server), body);
            assert_eq!((r.status, code(&r.body)), (400, "InvalidAction"), "{body}");
        }
    }
    // Unsigned, the name tells nothing.
    let r = send(
        server.iam,
        "POST",
        "/",
        &[("content-type".to_owned(), FORM.to_owned())],
        "Action=CreateLoginProfile&Version=2010-05-08",
    );
    assert_eq!(
        (r.status, code(&r.body)),
        (403, "MissingAuthenticationToken")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sdk_sees_not_implemented() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let iam = root_iam(&server);
    iam.create_user().user_name("dana").send().await.unwrap();
    let refused = iam
        .create_login_profile()
        .user_name("dana")
        .password("Corr3ct-Horse-Battery")
        .send()
        .await;
    assert_eq!(
        common::error_code_status(refused),
        ("NotImplemented".to_owned(), 501)
    );
    let refused = iam.create_account_alias().account_alias("lab").send().await;
    assert_eq!(
        common::error_code_status(refused),
        ("NotImplemented".to_owned(), 501)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inactive_and_deleted_keys_are_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let iam = root_iam(&server);
    iam.create_user().user_name("carol").send().await.unwrap();
    let key = iam
        .create_access_key()
        .user_name("carol")
        .send()
        .await
        .unwrap();
    let key = key.access_key().unwrap();
    let (id, secret) = (
        key.access_key_id().to_owned(),
        key.secret_access_key().to_owned(),
    );
    let addr = server.iam;
    let call = move || {
        let (id, secret) = (id.clone(), secret.clone());
        std::thread::spawn(move || {
            let r = iam_call(addr, &Signer::new(&id, &secret), LIST_USERS);
            (r.status, code(&r.body).to_owned())
        })
        .join()
        .unwrap()
    };
    // Authenticated, but not yet allowed anything.
    assert_eq!(call(), (403, "AccessDenied".into()));
    let key_id = key.access_key_id();
    iam.update_access_key()
        .user_name("carol")
        .access_key_id(key_id)
        .status("Inactive".into())
        .send()
        .await
        .unwrap();
    assert_eq!(call(), (403, "InvalidClientTokenId".into()));
    iam.update_access_key()
        .user_name("carol")
        .access_key_id(key_id)
        .status("Active".into())
        .send()
        .await
        .unwrap();
    assert_eq!(call(), (403, "AccessDenied".into()));
    iam.delete_access_key()
        .user_name("carol")
        .access_key_id(key_id)
        .send()
        .await
        .unwrap();
    assert_eq!(call(), (403, "InvalidClientTokenId".into()));
}
