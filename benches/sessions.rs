//! What a request signed with STS session credentials costs to authenticate and authorize,
//! beside the same request signed with an IAM user's long-term key (issue 16's budget: < 2 µs
//! more).
//!
//! The state is a real server's: `labstore::app::start` on port 0 in a temporary directory.
//! In it, user `bench-reader` (an access key, one inline policy allowing `s3:GetObject` on
//! bucket `bench`) and role `bench-role` (the same inline policy; its trust policy trusts the
//! account), and user `bench-assumer`, allowed `sts:AssumeRole` on the role, whose AssumeRole
//! call to the server's IAM port issues the session measured here.
//!
//! The same S3 GetObject is signed with `aws-sigv4` four ways: by the user's key and by the
//! session's, each in the Authorization header (the session token in `X-Amz-Security-Token`,
//! as SDKs send it) and presigned in the query (the token in the query). Each is checked to
//! authenticate and to be allowed before it is measured. Each iteration is what the S3
//! listener does for one request before the bucket is read: `auth::authenticate`, the global
//! condition keys (`authz::context::global`), `Authorizer::new` and
//! `allows("s3:GetObject", …)` (no bucket policy).
//!
//! `session_first_request/*`: a session's first request on this server (its token not yet
//! cached): the token opened (AES-GCM and the claims' JSON), the session cached, its signing
//! key derived, then as above. Each iteration presents a fresh session, sealed in the
//! (untimed) setup with the server's master key exactly as AssumeRole seals one, with the
//! claims of the session AssumeRole issued but a new access key id and secret.
//!
//! Run with `cargo bench --bench sessions`.

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, SystemTime};

use aws_sigv4::http_request::{
    sign, PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest,
    SignatureLocation, SigningSettings, UriPathNormalizationMode,
};
use aws_sigv4::sign::v4::SigningParams;
use bytes::Bytes;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use http::request::Parts;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use labstore::app;
use labstore::auth::session::{self, Claims};
use labstore::auth::{self, Caller};
use labstore::authz::context::{self, Origin};
use labstore::authz::Authorizer;
use labstore::config::{self, Sources};
use labstore::iam_store::attachments::Holder;
use labstore::iam_store::ids;
use labstore::iam_store::roles::Role;
use labstore::state::{Listener, State};
use tokio::runtime::Runtime;

const ROOT_SECRET: &str = "bench-root-secret-bench-root-secret-0000";
/// SHA-256 of the empty body, which SDKs declare for a GET.
const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const HOST: &str = "s3.lab.example:6789";
const URI: &str = "/bench/media/photos/2024/03/IMG_0042.jpg";
const RESOURCE: &str = "arn:aws:s3:::bench/media/photos/2024/03/IMG_0042.jpg";
const READ_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::bench/*"}]}"#;

/// Temporary or long-term credentials to sign with.
#[derive(Clone)]
struct Credentials {
    access_key: String,
    secret: String,
    token: Option<String>,
}

/// A GetObject as the AWS SDK for Rust sends it, before signing.
fn sdk_get_object() -> http::Request<()> {
    http::Request::builder()
        .method("GET")
        .uri(format!("http://{HOST}{URI}"))
        .header("host", HOST)
        .header("x-amz-content-sha256", EMPTY_SHA256)
        .header(
            "amz-sdk-invocation-id",
            "6c1d8a3e-2b7f-4a8e-9d0c-5f3b1e7a9c24",
        )
        .header("amz-sdk-request", "attempt=1; max=3")
        .header(
            "x-amz-user-agent",
            "aws-sdk-rust/1.3.9 api/s3/1.82.0 os/linux",
        )
        .header("user-agent", "aws-sdk-rust/1.3.9 os/linux lang/rust/1.85.0")
        .body(())
        .expect("a valid request")
}

/// The same GetObject as a presigned URL (only `host` signed), fetched by curl.
fn presigned_get_object(credentials: &Credentials) -> Parts {
    let request = http::Request::builder()
        .method("GET")
        .uri(format!("http://{HOST}{URI}"))
        .header("host", HOST)
        .body(())
        .expect("a valid request");
    let mut parts = signed(request, credentials, Some(Duration::from_secs(3600)));
    for (name, value) in [("user-agent", "curl/8.5.0"), ("accept", "*/*")] {
        parts
            .headers
            .insert(name, http::HeaderValue::from_static(value));
    }
    parts
}

/// Signs `request` for S3 now, in the Authorization header or, with `presign`, in the query;
/// a session token goes where the signature goes, signed, as SDKs put it.
fn signed(
    mut request: http::Request<()>,
    credentials: &Credentials,
    presign: Option<Duration>,
) -> Parts {
    let mut settings = SigningSettings::default();
    settings.percent_encoding_mode = PercentEncodingMode::Single;
    settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
    let body = match presign {
        Some(expires) => {
            settings.signature_location = SignatureLocation::QueryParams;
            settings.expires_in = Some(expires);
            SignableBody::UnsignedPayload
        }
        None => {
            settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
            SignableBody::Precomputed(EMPTY_SHA256.to_owned())
        }
    };
    let identity = aws_credential_types::Credentials::new(
        &credentials.access_key,
        &credentials.secret,
        credentials.token.clone(),
        None,
        "bench",
    )
    .into();
    let params = SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("s3")
        .time(SystemTime::now())
        .settings(settings)
        .build()
        .expect("complete signing parameters")
        .into();
    let headers: Vec<(String, String)> = request
        .headers()
        .iter()
        .map(|(name, value)| {
            let value = value.to_str().expect("ASCII header values");
            (name.as_str().to_owned(), value.to_owned())
        })
        .collect();
    let signable = SignableRequest::new(
        request.method().as_str(),
        request.uri().to_string(),
        headers.iter().map(|(n, v)| (n.as_str(), v.as_str())),
        body,
    )
    .expect("a signable request");
    let (instructions, _) = sign(signable, &params)
        .expect("signing succeeds")
        .into_parts();
    instructions.apply_to_request_http1x(&mut request);
    let path_and_query = request.uri().path_and_query().expect("a path").clone();
    *request.uri_mut() = http::Uri::from(path_and_query);
    request.into_parts().0
}

/// The text of `<name>` in `xml`.
fn element<'x>(xml: &'x str, name: &str) -> &'x str {
    let open = format!("<{name}>");
    let start = xml.find(&open).expect("the element") + open.len();
    let end = start + xml[start..].find('<').expect("its end");
    &xml[start..end]
}

/// AssumeRole of `role_arn` by `caller`, through the server's IAM port, as an SDK sends it
/// (a form POST signed for `sts`).
async fn assume_role(iam: SocketAddr, caller: &Credentials, role_arn: &str) -> Credentials {
    let body: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("Action", "AssumeRole")
        .append_pair("Version", "2011-06-15")
        .append_pair("RoleArn", role_arn)
        .append_pair("RoleSessionName", "bench-session")
        .finish();
    let mut request = http::Request::builder()
        .method("POST")
        .uri(format!("http://{iam}/"))
        .header("host", iam.to_string())
        .header(
            "content-type",
            "application/x-www-form-urlencoded; charset=utf-8",
        )
        .body(body.clone())
        .expect("a valid request");
    let identity = aws_credential_types::Credentials::new(
        &caller.access_key,
        &caller.secret,
        None,
        None,
        "bench",
    )
    .into();
    let params = SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("sts")
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .expect("complete signing parameters")
        .into();
    let headers: Vec<(String, String)> = request
        .headers()
        .iter()
        .map(|(n, v)| (n.as_str().to_owned(), v.to_str().expect("ASCII").to_owned()))
        .collect();
    let signable = SignableRequest::new(
        "POST",
        request.uri().to_string(),
        headers.iter().map(|(n, v)| (n.as_str(), v.as_str())),
        SignableBody::Bytes(body.as_bytes()),
    )
    .expect("a signable request");
    let (instructions, _) = sign(signable, &params).expect("signed").into_parts();
    instructions.apply_to_request_http1x(&mut request);
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let response = client
        .request(request.map(|b| Full::new(Bytes::from(b))))
        .await
        .expect("AssumeRole answered");
    let status = response.status();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("the body")
        .to_bytes();
    let xml = String::from_utf8_lossy(&bytes);
    assert!(status.is_success(), "AssumeRole: {status} {xml}");
    Credentials {
        access_key: element(&xml, "AccessKeyId").to_owned(),
        secret: element(&xml, "SecretAccessKey").to_owned(),
        token: Some(element(&xml, "SessionToken").to_owned()),
    }
}

/// The server, and the user's and the session's credentials.
struct Setup {
    running: app::Running,
    user: Credentials,
    session: Credentials,
}

async fn setup(dir: &std::path::Path) -> Setup {
    let env = [
        ("LABSTORE_BACKEND_ADMIN_SERVER_HOST", "127.0.0.1"),
        ("LABSTORE_BACKEND_IAM_SERVER_HOST", "127.0.0.1"),
        ("LABSTORE_BACKEND_S3_SERVER_HOST", "127.0.0.1"),
        ("LABSTORE_BACKEND_ADMIN_SERVER_PORT", "0"),
        ("LABSTORE_BACKEND_IAM_SERVER_PORT", "0"),
        ("LABSTORE_BACKEND_S3_SERVER_PORT", "0"),
        ("LABSTORE_BACKEND_ADMIN_AUTH_SECRET_KEY", ROOT_SECRET),
    ];
    let sources = Sources {
        cwd: dir.to_path_buf(),
        env: env
            .iter()
            .map(|&(n, v)| (n.to_owned(), v.to_owned()))
            .collect(),
        ..Sources::default()
    };
    let mut config = config::load(&sources).expect("the configuration");
    let storage = &mut config.backend.storage;
    for path in [&mut storage.data_dir, &mut storage.keys_dir] {
        if path.is_relative() {
            *path = dir.join(&*path);
        }
    }
    let running = app::start(config).await.expect("the server starts");
    let state = running.state().clone();
    let store = &state.iam;
    let account = state.config.backend.iam.account_id.clone();
    let role_arn = ids::role_arn(&account, "/", "bench-role");

    store
        .create_user("bench-reader".into(), "/".into(), Vec::new(), None)
        .await
        .expect("CreateUser");
    store
        .put_inline_policy(
            Holder::User,
            "bench-reader".into(),
            "read".into(),
            READ_POLICY.into(),
        )
        .await
        .expect("PutUserPolicy");
    let (key, secret) = store
        .create_access_key("bench-reader".into())
        .await
        .expect("CreateAccessKey");
    let user = Credentials {
        access_key: key.id,
        secret: secret.expose().to_owned(),
        token: None,
    };

    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{account}:root"}},"Action":"sts:AssumeRole"}}]}}"#
    );
    store
        .create_role(
            Role {
                id: String::new(),
                name: "bench-role".into(),
                path: "/".into(),
                description: None,
                max_session_duration: 3600,
                trust_policy: trust,
                created_at: 0,
                permissions_boundary: None,
            },
            Vec::new(),
            None,
        )
        .await
        .expect("CreateRole");
    store
        .put_inline_policy(
            Holder::Role,
            "bench-role".into(),
            "read".into(),
            READ_POLICY.into(),
        )
        .await
        .expect("PutRolePolicy");

    store
        .create_user("bench-assumer".into(), "/".into(), Vec::new(), None)
        .await
        .expect("CreateUser");
    store
        .put_inline_policy(
            Holder::User,
            "bench-assumer".into(),
            "assume".into(),
            format!(
                r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"{role_arn}"}}]}}"#
            ),
        )
        .await
        .expect("PutUserPolicy");
    let (key, secret) = store
        .create_access_key("bench-assumer".into())
        .await
        .expect("CreateAccessKey");
    let assumer = Credentials {
        access_key: key.id,
        secret: secret.expose().to_owned(),
        token: None,
    };
    let session = assume_role(running.addr(Listener::Iam), &assumer, &role_arn).await;
    Setup {
        running,
        user,
        session,
    }
}

const ORIGIN: Origin = Origin {
    source_ip: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 10)),
    secure: false,
};

/// What the S3 listener does for a GetObject before it reads the bucket: authenticate,
/// the global condition keys, the authorizer, the decision. Returns the caller and whether it
/// was allowed.
fn authorize(state: &State, parts: &Parts, payload_hash: &str) -> (Caller, bool) {
    let account = state.config.backend.iam.account_id.as_str();
    let now = SystemTime::now();
    let verified =
        auth::authenticate(state, parts, payload_hash, now, false).expect("authenticated");
    let caller = verified.caller;
    let allowed = {
        let keys = context::global(Some(&caller), account, &ORIGIN, now);
        let authorizer = Authorizer::new(Some(&caller), account, keys);
        authorizer.allows("s3:GetObject", RESOURCE, None)
    };
    (caller, allowed)
}

/// Cached sessions and long-term keys, header-signed and presigned.
fn steady(c: &mut Criterion, state: &State, user: &Credentials, session: &Credentials) {
    let cases = [
        (
            "user_header",
            signed(sdk_get_object(), user, None),
            EMPTY_SHA256,
        ),
        (
            "session_header",
            signed(sdk_get_object(), session, None),
            EMPTY_SHA256,
        ),
        (
            "user_presigned",
            presigned_get_object(user),
            "UNSIGNED-PAYLOAD",
        ),
        (
            "session_presigned",
            presigned_get_object(session),
            "UNSIGNED-PAYLOAD",
        ),
    ];
    let mut group = c.benchmark_group("authenticate_authorize");
    for (name, parts, payload_hash) in &cases {
        // Also caches the signing key and, for the session, the opened token.
        let (caller, allowed) = authorize(state, parts, payload_hash);
        assert!(allowed, "{name}: allowed");
        let expected = match name.starts_with("session") {
            true => {
                caller.access_key() == session.access_key
                    && matches!(&caller, Caller::Role { arn, .. }
                        if arn.ends_with(":assumed-role/bench-role/bench-session"))
            }
            false => {
                caller.access_key() == user.access_key
                    && matches!(&caller, Caller::User { principal, .. }
                        if principal.name == "bench-reader")
            }
        };
        assert!(expected, "{name}: signed as {}", caller.arn());
        group.bench_function(*name, |b| {
            b.iter(|| authorize(state, black_box(parts), payload_hash))
        });
    }
    group.finish();
}

/// A session's first request: a fresh session (AssumeRole's claims, a new key id and secret)
/// per iteration, sealed and signed in the untimed setup.
fn first_request(c: &mut Criterion, state: &State, issued: &Credentials) {
    let master = state.iam.master_key();
    let template = session::open(master, issued.token.as_deref().expect("a session token"))
        .expect("the issued token opens");
    let fresh = || {
        let secret = labstore::crypto::Secret::generate(40);
        let mut claims: Claims = template.clone();
        claims.access_key = ids::session_access_key_id();
        secret.expose().clone_into(&mut claims.secret);
        Credentials {
            access_key: claims.access_key.clone(),
            secret: claims.secret.clone(),
            token: Some(session::seal(master, &claims)),
        }
    };
    let mut group = c.benchmark_group("session_first_request");
    type Case = (&'static str, fn(&Credentials) -> Parts, &'static str);
    let cases: [Case; 2] = [
        (
            "header",
            |s| signed(sdk_get_object(), s, None),
            EMPTY_SHA256,
        ),
        ("presigned", presigned_get_object, "UNSIGNED-PAYLOAD"),
    ];
    for (name, sign_with, payload_hash) in cases {
        let credentials = fresh();
        let (caller, allowed) = authorize(state, &sign_with(&credentials), payload_hash);
        assert!(
            allowed && matches!(caller, Caller::Role { .. }),
            "{name}: a fresh session is allowed"
        );
        group.bench_function(name, |b| {
            b.iter_batched(
                || sign_with(&fresh()),
                |parts| authorize(state, &parts, payload_hash),
                BatchSize::SmallInput,
            )
        });
    }
    group.finish();
}

fn sessions(c: &mut Criterion) {
    let runtime = Runtime::new().expect("a tokio runtime");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let Setup {
        running,
        user,
        session,
    } = runtime.block_on(setup(dir.path()));
    let state = running.state().clone();
    steady(c, &state, &user, &session);
    first_request(c, &state, &session);
    runtime.block_on(running.stop());
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = sessions
}
criterion_main!(benches);
