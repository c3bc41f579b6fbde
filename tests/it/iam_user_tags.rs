//! IAM user tags through `aws-sdk-iam` against the server: tags given to CreateUser,
//! TagUser, UntagUser and ListUserTags, with their validation, quota and paging.
//! <https://docs.aws.amazon.com/IAM/latest/APIReference/API_TagUser.html> (and siblings)

use crate::common;

use aws_sdk_iam::types::Tag;
use aws_sdk_iam::Client;
use common::{all_pages, error_code, error_code_status, root_iam, start_with_root};

fn tag(key: &str, value: &str) -> Tag {
    Tag::builder().key(key).value(value).build().unwrap()
}

/// Tags as sorted (key, value) pairs: AWS does not promise an order.
fn pairs(tags: &[Tag]) -> Vec<(String, String)> {
    let mut pairs: Vec<_> = tags
        .iter()
        .map(|t| (t.key().to_owned(), t.value().to_owned()))
        .collect();
    pairs.sort();
    pairs
}

fn owned(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

async fn list_tags(iam: &Client, user: &str) -> Vec<(String, String)> {
    let out = iam.list_user_tags().user_name(user).send().await.unwrap();
    assert!(!out.is_truncated());
    pairs(out.tags())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_user_with_path_and_tags_then_get_tag_untag() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let iam = root_iam(&server);

    let created = iam
        .create_user()
        .user_name("alice")
        .path("/team/storage/")
        .tags(tag("team", "storage"))
        .tags(tag("env", "dev"))
        .send()
        .await
        .unwrap();
    let user = created.user().unwrap();
    assert_eq!(user.user_name(), "alice");
    assert_eq!(user.path(), "/team/storage/");
    assert_eq!(
        user.arn(),
        "arn:aws:iam::000000000000:user/team/storage/alice"
    );
    let id = user.user_id().to_owned();
    assert_eq!(id.len(), 21, "{id}");
    assert!(id.starts_with("AIDA"), "{id}");
    assert!(id
        .bytes()
        .all(|b| b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".contains(&b)));
    let now: i64 = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        .try_into()
        .unwrap();
    assert!((user.create_date().secs() - now).abs() < 60);
    let both = owned(&[("env", "dev"), ("team", "storage")]);
    assert_eq!(pairs(user.tags()), both);

    let got = iam.get_user().user_name("alice").send().await.unwrap();
    let got = got.user().unwrap();
    assert_eq!(got.user_id(), id);
    assert_eq!(got.path(), "/team/storage/");
    assert_eq!(pairs(got.tags()), both);
    assert_eq!(list_tags(&iam, "alice").await, both);

    // An existing key is overwritten; a new one is added.
    iam.tag_user()
        .user_name("alice")
        .tags(tag("env", "prod"))
        .tags(tag("owner", "bob"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        list_tags(&iam, "alice").await,
        owned(&[("env", "prod"), ("owner", "bob"), ("team", "storage")])
    );

    // Removing a key that is not there is not an error.
    iam.untag_user()
        .user_name("alice")
        .tag_keys("team")
        .tag_keys("no-such-key")
        .send()
        .await
        .unwrap();
    assert_eq!(
        list_tags(&iam, "alice").await,
        owned(&[("env", "prod"), ("owner", "bob")])
    );

    let (code, status) = error_code_status(
        iam.tag_user()
            .user_name("nobody")
            .tags(tag("a", "b"))
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("NoSuchEntity", 404));
    let untag = iam.untag_user().user_name("nobody").tag_keys("a");
    assert_eq!(error_code(untag.send().await), "NoSuchEntity");
    let list = iam.list_user_tags().user_name("nobody");
    assert_eq!(error_code(list.send().await), "NoSuchEntity");
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tags_are_validated_and_limited_to_fifty() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let iam = root_iam(&server);

    let mut create = iam.create_user().user_name("tagged");
    for i in 0..50 {
        create = create.tags(tag(&format!("k{i:02}"), "v"));
    }
    create.send().await.unwrap();
    assert_eq!(list_tags(&iam, "tagged").await.len(), 50);
    // Overwriting one of the fifty stays within the quota; a 51st does not.
    let overwrite = iam.tag_user().user_name("tagged").tags(tag("k07", "w"));
    overwrite.send().await.unwrap();
    let more = iam.tag_user().user_name("tagged").tags(tag("k50", "v"));
    assert_eq!(
        error_code_status(more.send().await),
        ("LimitExceeded".into(), 409)
    );
    let tags = list_tags(&iam, "tagged").await;
    assert_eq!(tags.len(), 50);
    assert!(tags.contains(&("k07".into(), "w".into())));

    let cases = [
        (tag("a#b", "v"), "ValidationError"),
        (tag(&"k".repeat(129), "v"), "ValidationError"),
        (tag("k", &"v".repeat(257)), "ValidationError"),
    ];
    for (bad, expected) in cases {
        let call = iam.tag_user().user_name("tagged").tags(bad.clone());
        assert_eq!(error_code(call.send().await), expected, "{bad:?}");
    }
    // Keys differing only in case are duplicates within one request.
    let dup = iam
        .create_user()
        .user_name("dup")
        .tags(tag("Team", "a"))
        .tags(tag("team", "b"));
    assert_eq!(error_code(dup.send().await), "InvalidInput");
    assert_eq!(
        error_code(iam.get_user().user_name("dup").send().await),
        "NoSuchEntity"
    );
    server.stop();
}

/// The `aws:` prefix belongs to AWS in any case: TagUser and CreateUser refuse it with 400
/// `InvalidInput` and store nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tag_keys_in_the_aws_namespace_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let iam = root_iam(&server);
    iam.create_user().user_name("alice").send().await.unwrap();

    for key in ["aws:team", "AWS:team", "Aws:"] {
        let call = iam
            .tag_user()
            .user_name("alice")
            .tags(tag("team", "storage"))
            .tags(tag(key, "x"));
        assert_eq!(
            error_code_status(call.send().await),
            ("InvalidInput".into(), 400),
            "{key}"
        );
    }
    assert_eq!(list_tags(&iam, "alice").await, owned(&[]));
    let created = iam
        .create_user()
        .user_name("bob")
        .tags(tag("aws:createdBy", "me"));
    assert_eq!(
        error_code_status(created.send().await),
        ("InvalidInput".into(), 400)
    );
    let bob = iam.get_user().user_name("bob").send().await;
    assert_eq!(error_code(bob), "NoSuchEntity");
    // Only the prefix is reserved: "aws" elsewhere in a key is a key like any other.
    let fine = iam
        .tag_user()
        .user_name("alice")
        .tags(tag("team:aws:x", "v"))
        .tags(tag("awsome", "v"));
    fine.send().await.unwrap();
    let expected = owned(&[("awsome", "v"), ("team:aws:x", "v")]);
    assert_eq!(list_tags(&iam, "alice").await, expected);
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_user_tags_pages_cover_every_tag_once() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let iam = root_iam(&server);
    // Mixed case, punctuation and letters outside ASCII, which tag keys allow.
    let keys = [
        "Äb", "ä", "Zeta", "alpha", "_under", "b.c", "Öl", "ö2", "Beta", "ñ", "N",
    ];
    let mut create = iam.create_user().user_name("tagged");
    for key in keys {
        create = create.tags(tag(key, "v"));
    }
    create.send().await.unwrap();
    let whole = iam
        .list_user_tags()
        .user_name("tagged")
        .send()
        .await
        .unwrap();
    let whole: Vec<String> = whole.tags().iter().map(|t| t.key().to_owned()).collect();
    let mut sorted = whole.clone();
    sorted.sort();
    let mut expected: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
    expected.sort();
    assert_eq!(sorted, expected);

    for size in [1, 2, 3] {
        let pages = all_pages(20, |marker| {
            let iam = iam.clone();
            async move {
                let out = iam
                    .list_user_tags()
                    .user_name("tagged")
                    .max_items(size)
                    .set_marker(marker)
                    .send()
                    .await
                    .unwrap();
                let keys = out.tags().iter().map(|t| t.key().to_owned());
                (
                    keys.collect(),
                    out.is_truncated(),
                    out.marker().map(Into::into),
                )
            }
        })
        .await;
        assert!(pages
            .iter()
            .all(|p| p.len() <= usize::try_from(size).unwrap()));
        assert_eq!(pages.concat(), whole, "MaxItems={size}");
    }
    server.stop();
}
