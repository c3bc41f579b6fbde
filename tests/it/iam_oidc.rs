//! IAM OpenID Connect providers through `aws-sdk-iam`: the ten provider actions, their
//! validation and errors, who may manage them, GetAccountSummary's `Providers`; and the
//! server's web identity verifier against a test issuer (`common::oidc`): keys from the
//! issuer's discovery document (cached, fetched again for a new kid, rate-limited) and from
//! a JWKS file.
//! <https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateOpenIDConnectProvider.html>

use crate::common;

use aws_sdk_iam::types::{SummaryKeyType, Tag};
use aws_sdk_iam::Client;
use common::oidc::{now, Alg, TestIssuer, EC_KID, RSA_KID};
use common::{error_code, error_code_status, root_iam, start_with_root};
use labstore::state::State;

const ACCOUNT: &str = "000000000000";
const THUMB: &str = "9e99a48a9960b14926bb7f3b02e22da2b0ab7280";

fn tag(key: &str, value: &str) -> Tag {
    Tag::builder().key(key).value(value).build().unwrap()
}

fn arn(url: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:oidc-provider/{url}")
}

async fn create(iam: &Client, url: &str, client_ids: &[&str]) -> String {
    let mut req = iam.create_open_id_connect_provider().url(url);
    for id in client_ids {
        req = req.client_id_list(*id);
    }
    let out = req
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreateOpenIDConnectProvider {url}: {e:?}"));
    out.open_id_connect_provider_arn().unwrap().to_owned()
}

async fn client_ids(iam: &Client, arn: &str) -> Vec<String> {
    let out = iam
        .get_open_id_connect_provider()
        .open_id_connect_provider_arn(arn)
        .send()
        .await
        .unwrap();
    out.client_id_list().to_vec()
}

async fn providers(iam: &Client) -> Vec<String> {
    let out = iam.list_open_id_connect_providers().send().await.unwrap();
    out.open_id_connect_provider_list()
        .iter()
        .map(|p| p.arn().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_get_list_and_delete_a_provider() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let iam = root_iam(&server);

    let out = iam
        .create_open_id_connect_provider()
        .url("https://IdP.Example.com/tenant")
        .client_id_list("app-1")
        .client_id_list("app-2")
        .thumbprint_list(THUMB.to_uppercase())
        .tags(tag("team", "web"))
        .send()
        .await
        .unwrap();
    let created = arn("idp.example.com/tenant");
    assert_eq!(out.open_id_connect_provider_arn(), Some(created.as_str()));
    assert_eq!(out.tags().len(), 1);

    let got = iam
        .get_open_id_connect_provider()
        .open_id_connect_provider_arn(&created)
        .send()
        .await
        .unwrap();
    assert_eq!(got.url(), Some("idp.example.com/tenant"));
    assert_eq!(got.client_id_list(), ["app-1", "app-2"]);
    assert_eq!(got.thumbprint_list(), [THUMB]);
    assert!(got.create_date().is_some());
    assert_eq!(got.tags()[0].key(), "team");

    // The same URL again, whatever the case of its scheme and host.
    let again = iam
        .create_open_id_connect_provider()
        .url("HTTPS://idp.example.COM/tenant")
        .send()
        .await;
    assert_eq!(
        error_code_status(again),
        ("EntityAlreadyExists".into(), 409)
    );
    // Another path is another provider.
    let other = create(&iam, "https://idp.example.com/tenant2", &[]).await;
    assert_eq!(providers(&iam).await, [created.clone(), other.clone()]);

    let summary = iam.get_account_summary().send().await.unwrap();
    let map = summary.summary_map().unwrap();
    assert_eq!(map.get(&SummaryKeyType::Providers), Some(&2));

    // Kept across a restart.
    server.stop();
    let server = start_with_root(dir.path());
    let iam = root_iam(&server);
    assert_eq!(client_ids(&iam, &created).await, ["app-1", "app-2"]);

    iam.delete_open_id_connect_provider()
        .open_id_connect_provider_arn(&created)
        .send()
        .await
        .unwrap();
    let gone = iam
        .get_open_id_connect_provider()
        .open_id_connect_provider_arn(&created)
        .send()
        .await;
    assert_eq!(error_code_status(gone), ("NoSuchEntity".into(), 404));
    let twice = iam
        .delete_open_id_connect_provider()
        .open_id_connect_provider_arn(&created)
        .send()
        .await;
    assert_eq!(error_code(twice), "NoSuchEntity");
    assert_eq!(providers(&iam).await, [other]);
    // Its tags went with it.
    create(&iam, "https://idp.example.com/tenant", &[]).await;
    let tags = iam
        .list_open_id_connect_provider_tags()
        .open_id_connect_provider_arn(&created)
        .send()
        .await
        .unwrap();
    assert!(tags.tags().is_empty());
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn urls_arns_and_lists_are_validated() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let iam = root_iam(&server);
    for (url, code) in [
        ("http://idp.example.com", "InvalidInput"),
        ("idp.example.com", "InvalidInput"),
        ("https://idp.example.com?x=1", "InvalidInput"),
        ("https://idp.example.com#f", "InvalidInput"),
        ("https://user@idp.example.com", "InvalidInput"),
        ("https://idp.example.com:99999", "InvalidInput"),
        ("https://", "InvalidInput"),
    ] {
        let r = iam.create_open_id_connect_provider().url(url).send().await;
        assert_eq!(error_code(r), code, "{url}");
    }
    let long = format!("https://{}.example.com", "a".repeat(250));
    let r = iam.create_open_id_connect_provider().url(long).send().await;
    assert_eq!(error_code(r), "ValidationError");
    let r = iam
        .create_open_id_connect_provider()
        .url("https://idp.example.com")
        .client_id_list("x".repeat(256))
        .send()
        .await;
    assert_eq!(error_code(r), "ValidationError");
    let r = iam
        .create_open_id_connect_provider()
        .url("https://idp.example.com")
        .thumbprint_list("abc")
        .send()
        .await;
    assert_eq!(error_code(r), "ValidationError");
    let r = iam
        .create_open_id_connect_provider()
        .url("https://idp.example.com")
        .thumbprint_list("z".repeat(40))
        .send()
        .await;
    assert_eq!(error_code(r), "InvalidInput");
    let mut six = iam
        .create_open_id_connect_provider()
        .url("https://idp.example.com");
    for i in 0..6 {
        six = six.thumbprint_list(format!("{i}").repeat(40));
    }
    assert_eq!(error_code(six.send().await), "ValidationError");
    let mut many = iam
        .create_open_id_connect_provider()
        .url("https://idp.example.com");
    for i in 0..101 {
        many = many.client_id_list(format!("app-{i}"));
    }
    assert_eq!(error_code(many.send().await), "LimitExceeded");
    // Nothing was created by the refusals.
    assert!(providers(&iam).await.is_empty());

    // An ARN too short for the parameter; a well-formed ARN of nothing; another account's.
    let r = iam
        .get_open_id_connect_provider()
        .open_id_connect_provider_arn("arn:short")
        .send()
        .await;
    assert_eq!(error_code(r), "ValidationError");
    for missing in [
        arn("nothing.example.com"),
        "arn:aws:iam::123456789012:oidc-provider/idp.example.com".into(),
        format!("arn:aws:iam::{ACCOUNT}:role/idp.example.com"),
    ] {
        let r = iam
            .get_open_id_connect_provider()
            .open_id_connect_provider_arn(&missing)
            .send()
            .await;
        assert_eq!(error_code(r), "NoSuchEntity", "{missing}");
        let r = iam
            .add_client_id_to_open_id_connect_provider()
            .open_id_connect_provider_arn(&missing)
            .client_id("a")
            .send()
            .await;
        assert_eq!(error_code(r), "NoSuchEntity", "{missing}");
        let r = iam
            .tag_open_id_connect_provider()
            .open_id_connect_provider_arn(&missing)
            .tags(tag("a", "b"))
            .send()
            .await;
        assert_eq!(error_code(r), "NoSuchEntity", "{missing}");
    }
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_ids_and_thumbprints_change() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let iam = root_iam(&server);
    let provider = create(&iam, "https://idp.example.com", &["app-1"]).await;

    let add = |id: &str| {
        iam.add_client_id_to_open_id_connect_provider()
            .open_id_connect_provider_arn(&provider)
            .client_id(id)
            .send()
    };
    add("app-2").await.unwrap();
    add("app-1").await.unwrap(); // already there: no error, no duplicate
    assert_eq!(client_ids(&iam, &provider).await, ["app-1", "app-2"]);
    let long = add(&"x".repeat(256)).await;
    assert_eq!(error_code(long), "ValidationError");
    let remove = |id: &str| {
        iam.remove_client_id_from_open_id_connect_provider()
            .open_id_connect_provider_arn(&provider)
            .client_id(id)
            .send()
    };
    remove("app-1").await.unwrap();
    remove("never-added").await.unwrap();
    assert_eq!(client_ids(&iam, &provider).await, ["app-2"]);
    for i in 0..99 {
        add(&format!("more-{i}")).await.unwrap();
    }
    assert_eq!(client_ids(&iam, &provider).await.len(), 100);
    assert_eq!(error_code(add("one-too-many").await), "LimitExceeded");

    let update = |list: &[&str]| {
        let mut req = iam
            .update_open_id_connect_provider_thumbprint()
            .open_id_connect_provider_arn(&provider);
        for t in list {
            req = req.thumbprint_list(*t);
        }
        if list.is_empty() {
            req = req.set_thumbprint_list(Some(vec![]));
        }
        req.send()
    };
    let other = "a".repeat(40);
    update(&[THUMB, &other]).await.unwrap();
    let got = iam
        .get_open_id_connect_provider()
        .open_id_connect_provider_arn(&provider)
        .send()
        .await
        .unwrap();
    assert_eq!(got.thumbprint_list(), [THUMB, other.as_str()]);
    assert_eq!(error_code(update(&["abc"]).await), "ValidationError");
    let six: Vec<String> = (0..6).map(|i| format!("{i}").repeat(40)).collect();
    let six: Vec<&str> = six.iter().map(String::as_str).collect();
    assert_eq!(error_code(update(&six).await), "ValidationError");
    update(&[]).await.unwrap();
    let got = iam
        .get_open_id_connect_provider()
        .open_id_connect_provider_arn(&provider)
        .send()
        .await
        .unwrap();
    assert!(got.thumbprint_list().is_empty());
    let missing = iam
        .update_open_id_connect_provider_thumbprint()
        .open_id_connect_provider_arn(arn("nothing.example.com"))
        .thumbprint_list(THUMB)
        .send()
        .await;
    assert_eq!(error_code(missing), "NoSuchEntity");
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_tags() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let iam = root_iam(&server);
    let provider = create(&iam, "https://idp.example.com", &[]).await;
    iam.tag_open_id_connect_provider()
        .open_id_connect_provider_arn(&provider)
        .tags(tag("b", "2"))
        .tags(tag("a", "1"))
        .tags(tag("c", "3"))
        .send()
        .await
        .unwrap();
    let page = iam
        .list_open_id_connect_provider_tags()
        .open_id_connect_provider_arn(&provider)
        .max_items(2)
        .send()
        .await
        .unwrap();
    let keys: Vec<&str> = page.tags().iter().map(Tag::key).collect();
    assert_eq!(keys, ["a", "b"]);
    assert!(page.is_truncated());
    let rest = iam
        .list_open_id_connect_provider_tags()
        .open_id_connect_provider_arn(&provider)
        .marker(page.marker().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(rest.tags()[0].key(), "c");
    assert!(!rest.is_truncated());

    iam.untag_open_id_connect_provider()
        .open_id_connect_provider_arn(&provider)
        .tag_keys("A")
        .tag_keys("absent")
        .send()
        .await
        .unwrap();
    let left = iam
        .list_open_id_connect_provider_tags()
        .open_id_connect_provider_arn(&provider)
        .send()
        .await
        .unwrap();
    assert_eq!(left.tags().len(), 2);
    let reserved = iam
        .tag_open_id_connect_provider()
        .open_id_connect_provider_arn(&provider)
        .tags(tag("aws:x", "1"))
        .send()
        .await;
    assert_eq!(error_code(reserved), "InvalidInput");
    let mut too_many = iam
        .tag_open_id_connect_provider()
        .open_id_connect_provider_arn(&provider);
    for i in 0..49 {
        too_many = too_many.tags(tag(&format!("k{i}"), "v"));
    }
    assert_eq!(error_code(too_many.send().await), "LimitExceeded");
    let none = iam
        .untag_open_id_connect_provider()
        .open_id_connect_provider_arn(&provider)
        .send()
        .await;
    assert_eq!(error_code(none), "ValidationError");
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_need_iam_permission_on_the_provider_arn() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let root = root_iam(&server);
    let policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":["iam:CreateOpenIDConnectProvider","iam:GetOpenIDConnectProvider","iam:AddClientIDToOpenIDConnectProvider"],"Resource":"{}"}}]}}"#,
        arn("mine.example.com")
    );
    let user = server.with_user(&policy).await;
    let mine = create(&user.iam, "https://mine.example.com", &[]).await;
    user.iam
        .add_client_id_to_open_id_connect_provider()
        .open_id_connect_provider_arn(&mine)
        .client_id("app")
        .send()
        .await
        .unwrap();
    let theirs = user
        .iam
        .create_open_id_connect_provider()
        .url("https://theirs.example.com")
        .send()
        .await;
    assert_eq!(error_code_status(theirs), ("AccessDenied".into(), 403));
    let other = create(&root, "https://other.example.com", &[]).await;
    for denied in [
        error_code(
            user.iam
                .get_open_id_connect_provider()
                .open_id_connect_provider_arn(&other)
                .send()
                .await,
        ),
        error_code(
            user.iam
                .delete_open_id_connect_provider()
                .open_id_connect_provider_arn(&mine)
                .send()
                .await,
        ),
        error_code(user.iam.list_open_id_connect_providers().send().await),
    ] {
        assert_eq!(denied, "AccessDenied");
    }
    server.stop();
}

/// The provider `arn` as the verifier reads it, and a token's verdict at now.
async fn verify(state: &State, arn: &str, token: &str) -> Result<String, String> {
    let provider = state.iam.oidc_provider_by_arn(arn).await.unwrap();
    state
        .oidc
        .verify(&provider, token, now())
        .await
        .map(|id| id.subject)
        .map_err(|e| e.code().to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_verifier_fetches_caches_and_refreshes_the_issuers_keys() {
    let issuer = TestIssuer::start();
    issuer.publish(&[RSA_KID]);
    let dir = tempfile::tempdir().unwrap();
    let server = issuer.server(
        dir.path(),
        &[("LABSTORE_BACKEND_IAM_OIDC_REFRESH_INTERVAL_MS", "0")],
    );
    let iam = root_iam(&server);
    let provider = create(&iam, &issuer.url, &["app"]).await;
    assert_eq!(provider, issuer.arn());
    let state = server.state();

    let alice = issuer.token(Alg::Rs256, &issuer.claims("alice", "app"));
    assert_eq!(verify(state, &provider, &alice).await, Ok("alice".into()));
    assert_eq!(issuer.hits(), (1, 1), "discovery, then the JWKS");
    // Cached: a second token costs no fetch.
    let bob = issuer.token(Alg::Rs256, &issuer.claims("bob", "app"));
    assert_eq!(verify(state, &provider, &bob).await, Ok("bob".into()));
    assert_eq!(issuer.hits(), (1, 1));
    // A kid the cache lacks fetches again; once the issuer publishes it, it verifies.
    let ec = issuer.token(Alg::Es256, &issuer.claims("carol", "app"));
    assert_eq!(
        verify(state, &provider, &ec).await,
        Err("InvalidIdentityToken".into())
    );
    assert_eq!(issuer.hits(), (2, 2));
    issuer.publish(&[RSA_KID, EC_KID]);
    assert_eq!(verify(state, &provider, &ec).await, Ok("carol".into()));
    assert_eq!(issuer.hits(), (3, 3));
    // The claims are checked against the provider.
    let wrong_aud = issuer.token(Alg::Rs256, &issuer.claims("dave", "other-app"));
    assert_eq!(
        verify(state, &provider, &wrong_aud).await,
        Err("InvalidIdentityToken".into())
    );
    let mut expired = issuer.claims("erin", "app");
    expired["exp"] = (now() - 3600).into();
    let expired = issuer.token(Alg::Es256, &expired);
    assert_eq!(
        verify(state, &provider, &expired).await,
        Err("ExpiredTokenException".into())
    );
    assert_eq!(issuer.hits(), (3, 3));
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_kids_do_not_hammer_the_issuer() {
    let issuer = TestIssuer::start();
    let dir = tempfile::tempdir().unwrap();
    // The default refresh interval (a minute).
    let server = issuer.server(dir.path(), &[]);
    let provider = create(&root_iam(&server), &issuer.url, &["app"]).await;
    let state = server.state();
    let good = issuer.token(Alg::Rs256, &issuer.claims("alice", "app"));
    assert_eq!(verify(state, &provider, &good).await, Ok("alice".into()));
    for i in 0..20 {
        let kid = format!("bogus-{i}");
        let bad = issuer.token_with_kid(Alg::Rs256, Some(&kid), &issuer.claims("x", "app"));
        assert_eq!(
            verify(state, &provider, &bad).await,
            Err("InvalidIdentityToken".into())
        );
    }
    assert_eq!(issuer.hits(), (1, 1), "one fetch per refresh interval");
    assert_eq!(state.oidc.fetches(), 1);
    // The cached keys still serve.
    assert_eq!(verify(state, &provider, &good).await, Ok("alice".into()));
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_issuer_is_a_communication_error() {
    let issuer = TestIssuer::start();
    let dir = tempfile::tempdir().unwrap();
    // Without the issuer's CA, its certificate is not trusted: nothing is fetched.
    let server = start_with_root(dir.path());
    let provider = create(&root_iam(&server), &issuer.url, &["app"]).await;
    let token = issuer.token(Alg::Rs256, &issuer.claims("alice", "app"));
    assert_eq!(
        verify(server.state(), &provider, &token).await,
        Err("IDPCommunicationError".into())
    );
    assert_eq!(issuer.hits(), (0, 0));
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_jwks_file_stands_in_for_the_issuer() {
    let issuer = TestIssuer::start();
    issuer.publish(&[]);
    let jwks = tempfile::tempdir().unwrap();
    issuer.jwks_file(jwks.path());
    let dir = tempfile::tempdir().unwrap();
    let jwks_dir = jwks.path().display().to_string();
    let server = common::TestServer::start_with(
        dir.path(),
        &[("LABSTORE_BACKEND_IAM_OIDC_JWKS_DIR", jwks_dir.as_str())],
    )
    .unwrap();
    let provider = create(&root_iam(&server), &issuer.url, &["app"]).await;
    let state = server.state();
    for (alg, sub) in [(Alg::Rs256, "alice"), (Alg::Es256, "bob")] {
        let token = issuer.token(alg, &issuer.claims(sub, "app"));
        assert_eq!(verify(state, &provider, &token).await, Ok(sub.into()));
    }
    assert_eq!(issuer.hits(), (0, 0), "the issuer is never asked");
    assert_eq!(state.oidc.fetches(), 0);
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thumbprint_stands_in_for_an_untrusted_ca() {
    let issuer = TestIssuer::start();
    let dir = tempfile::tempdir().unwrap();
    // The issuer's CA is not trusted: only a thumbprint can make its certificate so.
    let server = common::TestServer::start_with(
        dir.path(),
        &[("LABSTORE_BACKEND_IAM_OIDC_REFRESH_INTERVAL_MS", "0")],
    )
    .unwrap();
    let iam = root_iam(&server);
    let provider = iam
        .create_open_id_connect_provider()
        .url(&issuer.url)
        .client_id_list("app")
        .thumbprint_list(THUMB)
        .send()
        .await
        .unwrap()
        .open_id_connect_provider_arn()
        .unwrap()
        .to_owned();
    let state = server.state();
    let token = issuer.token(Alg::Rs256, &issuer.claims("alice", "app"));
    assert_eq!(
        verify(state, &provider, &token).await,
        Err("IDPCommunicationError".into()),
        "another certificate's thumbprint trusts nothing"
    );
    assert_eq!(issuer.hits(), (0, 0));
    iam.update_open_id_connect_provider_thumbprint()
        .open_id_connect_provider_arn(&provider)
        .thumbprint_list(THUMB)
        .thumbprint_list(&issuer.ca_thumbprint)
        .send()
        .await
        .unwrap();
    assert_eq!(verify(state, &provider, &token).await, Ok("alice".into()));
    assert_eq!(issuer.hits(), (1, 1));
    server.stop();
}
