//! Bucket policies through `aws-sdk-s3` at default settings, against the server:
//! PutBucketPolicy, GetBucketPolicy, DeleteBucketPolicy and GetBucketPolicyStatus, their
//! refusals, and a policy's life with its bucket and across a restart. Raw signed requests
//! check what the SDK hides: status codes, headers and bodies on the wire.

use crate::common;

use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::Client;
use common::signing::{s3_call, Signer};
use common::{error_code_status, s3_client, start_with_root, TestServer, ROOT_SECRET};

const B: &str = "policed";

async fn setup(dir: &std::path::Path) -> (TestServer, Client) {
    let server = start_with_root(dir);
    let s3 = s3_client(&server);
    s3.create_bucket().bucket(B).send().await.unwrap();
    // New buckets block public policies; these tests put public ones.
    common::allow_public_access(&s3, B).await;
    (server, s3)
}

/// A one-statement policy on `B`: `principal` and `extra` are JSON members of the statement.
fn policy(principal: &str, resource: &str, extra: &str) -> String {
    format!(
        "{{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [{{\"Sid\": \"Read\", \
         \"Effect\": \"Allow\", {principal}, \"Action\": \"s3:GetObject\", \
         \"Resource\": \"{resource}\"{extra}}}]\n}}"
    )
}

fn public_read() -> String {
    policy(r#""Principal": "*""#, &format!("arn:aws:s3:::{B}/*"), "")
}

async fn put(s3: &Client, text: &str) -> Result<(), String> {
    s3.put_bucket_policy()
        .bucket(B)
        .policy(text)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| format!("{e:?}"))
}

/// The code, HTTP status and message of a refused call.
fn refusal<T: std::fmt::Debug, E: ProvideErrorMetadata + std::fmt::Debug>(
    result: Result<T, SdkError<E, aws_sdk_s3::config::http::HttpResponse>>,
) -> (String, u16, String) {
    match result {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(SdkError::ServiceError(e)) => (
            e.err().code().unwrap_or_default().to_owned(),
            e.raw().status().as_u16(),
            e.err().message().unwrap_or_default().to_owned(),
        ),
        Err(e) => panic!("not a service error: {e:?}"),
    }
}

async fn stored_policy(s3: &Client) -> Option<String> {
    match s3.get_bucket_policy().bucket(B).send().await {
        Ok(out) => Some(out.policy().expect("a policy body").to_owned()),
        Err(e) => {
            let (code, status, message) = refusal::<(), _>(Err(e));
            assert_eq!(
                (code.as_str(), status, message.as_str()),
                (
                    "NoSuchBucketPolicy",
                    404,
                    "The bucket policy does not exist"
                )
            );
            None
        }
    }
}

/// GetBucketPolicyStatus's `IsPublic`.
async fn is_public(s3: &Client) -> Option<bool> {
    let out = s3.get_bucket_policy_status().bucket(B).send().await;
    out.unwrap().policy_status().and_then(|s| s.is_public())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_policy_round_trips_as_sent_and_deletes() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = setup(dir.path()).await;
    assert_eq!(stored_policy(&s3).await, None);

    let text = public_read();
    put(&s3, &text).await.unwrap();
    assert_eq!(stored_policy(&s3).await.as_deref(), Some(text.as_str()));
    let replaced = policy(
        r#""Principal": {"AWS": "arn:aws:iam::000000000000:user/alice"}"#,
        &format!("arn:aws:s3:::{B}"),
        "",
    );
    put(&s3, &replaced).await.unwrap();
    assert_eq!(stored_policy(&s3).await, Some(replaced.clone()));

    let signer = Signer::new("admin", ROOT_SECRET);
    let r = s3_call(server.s3, &signer, "GET", &format!("/{B}?policy"), &[], "");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.body, replaced);

    // 204 whether or not there was a policy to delete, as S3 answers.
    for attempt in ["existing", "already gone"] {
        let r = s3_call(
            server.s3,
            &signer,
            "DELETE",
            &format!("/{B}?policy"),
            &[],
            "",
        );
        assert_eq!((r.status, r.body.as_str()), (204, ""), "{attempt}");
    }
    assert_eq!(stored_policy(&s3).await, None);
    s3.delete_bucket_policy().bucket(B).send().await.unwrap();
    let r = s3_call(
        server.s3,
        &signer,
        "PUT",
        &format!("/{B}?policy"),
        &[],
        &text,
    );
    assert_eq!((r.status, r.body.as_str()), (204, ""));
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_policies_are_refused_and_nothing_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = setup(dir.path()).await;
    let elsewhere = policy(r#""Principal": "*""#, "arn:aws:s3:::another-bucket/*", "");
    let no_principal = public_read().replace(r#""Principal": "*", "#, "");
    let foreign_action = public_read().replace("s3:GetObject", "iam:CreateUser");
    let rows = [
        (
            "{\"Version\": \"2012-10-17\", \"Statement\": [",
            "Policies must be valid JSON and the first byte must be '{'",
        ),
        (
            "[]",
            "Policies must be valid JSON and the first byte must be '{'",
        ),
        (no_principal.as_str(), "Missing required field Principal"),
        (elsewhere.as_str(), "Policy has invalid resource"),
        (foreign_action.as_str(), "Policy has invalid action"),
    ];
    for (text, message) in rows {
        let result = s3.put_bucket_policy().bucket(B).policy(text).send().await;
        assert_eq!(
            refusal(result),
            ("MalformedPolicy".to_owned(), 400, message.to_owned()),
            "{text}"
        );
    }
    let huge = public_read().replace("\"Read\"", &format!("\"{}\"", "r".repeat(21 * 1024)));
    let result = s3.put_bucket_policy().bucket(B).policy(huge).send().await;
    assert_eq!(
        error_code_status(result),
        ("PolicyTooLarge".to_owned(), 400)
    );
    assert_eq!(stored_policy(&s3).await, None);

    // The body is checked against Content-MD5 and x-amz-checksum-* like any other.
    let signer = Signer::new("admin", ROOT_SECRET);
    for wrong in [
        ("content-md5", "1B2M2Y8AsgTpgAmY7PhCfg=="),
        ("x-amz-checksum-crc32", "AAAAAA=="),
    ] {
        let path = format!("/{B}?policy");
        let r = s3_call(server.s3, &signer, "PUT", &path, &[wrong], &public_read());
        assert_eq!(r.status, 400, "{wrong:?}");
        assert!(r.body.contains("<Code>BadDigest</Code>"), "{}", r.body);
    }
    assert_eq!(stored_policy(&s3).await, None);
    // An object has no policy.
    let r = s3_call(
        server.s3,
        &signer,
        "GET",
        &format!("/{B}/key?policy"),
        &[],
        "",
    );
    assert_eq!(r.status, 405);
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_policy_operation_on_a_missing_bucket_is_no_such_bucket() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let s3 = s3_client(&server);
    let missing = "no-such-bucket";
    let no_such_bucket = ("NoSuchBucket".to_owned(), 404);
    let text = public_read().replace(B, missing);
    let put = s3.put_bucket_policy().bucket(missing).policy(text).send();
    assert_eq!(error_code_status(put.await), no_such_bucket);
    let get = s3.get_bucket_policy().bucket(missing).send();
    assert_eq!(error_code_status(get.await), no_such_bucket);
    let delete = s3.delete_bucket_policy().bucket(missing).send();
    assert_eq!(error_code_status(delete.await), no_such_bucket);
    let status = s3.get_bucket_policy_status().bucket(missing).send();
    assert_eq!(error_code_status(status.await), no_such_bucket);
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policy_status_tells_public_from_non_public() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = setup(dir.path()).await;
    let status = s3.get_bucket_policy_status().bucket(B).send().await;
    assert_eq!(
        error_code_status(status),
        ("NoSuchBucketPolicy".to_owned(), 404)
    );
    let objects = format!("arn:aws:s3:::{B}/*");
    let rows = [
        (public_read(), true),
        (policy(r#""Principal": {"AWS": "*"}"#, &objects, ""), true),
        (
            policy(
                r#""Principal": {"AWS": "arn:aws:iam::000000000000:user/alice"}"#,
                &objects,
                "",
            ),
            false,
        ),
        (
            policy(
                r#""Principal": "*""#,
                &objects,
                r#", "Condition": {"IpAddress": {"aws:SourceIp": "192.0.2.0/24"}}"#,
            ),
            false,
        ),
        (
            policy(
                r#""Principal": "*""#,
                &objects,
                r#", "Condition": {"StringLike": {"aws:SourceVpc": "vpc-*"}}"#,
            ),
            true,
        ),
    ];
    for (text, public) in rows {
        put(&s3, &text).await.unwrap();
        assert_eq!(is_public(&s3).await, Some(public), "{text}");
    }
    let signer = Signer::new("admin", ROOT_SECRET);
    let r = s3_call(
        server.s3,
        &signer,
        "GET",
        &format!("/{B}?policyStatus"),
        &[],
        "",
    );
    assert_eq!(r.status, 200);
    assert!(
        r.body.contains(
            "<PolicyStatus xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><IsPublic>true</IsPublic></PolicyStatus>"
        ),
        "{}",
        r.body
    );
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bucket_created_again_has_no_policy() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = setup(dir.path()).await;
    put(&s3, &public_read()).await.unwrap();
    s3.delete_bucket().bucket(B).send().await.unwrap();
    s3.create_bucket().bucket(B).send().await.unwrap();
    assert_eq!(stored_policy(&s3).await, None);
    let status = s3.get_bucket_policy_status().bucket(B).send().await;
    assert_eq!(
        error_code_status(status),
        ("NoSuchBucketPolicy".to_owned(), 404)
    );
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policies_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = setup(dir.path()).await;
    let text = public_read();
    put(&s3, &text).await.unwrap();
    server.stop();

    let server = start_with_root(dir.path());
    let s3 = s3_client(&server);
    assert_eq!(stored_policy(&s3).await, Some(text));
    assert_eq!(is_public(&s3).await, Some(true));
    server.stop();
}
