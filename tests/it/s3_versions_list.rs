//! ListObjectVersions through `aws-sdk-s3` at default settings: paging with max-keys,
//! key-marker and version-id-marker through many versions of few keys and few versions of
//! many keys (every version exactly once, in S3's order), prefix and delimiter, delete
//! markers and IsLatest, Enabled, Suspended and never-versioned buckets, `encoding-type=url`,
//! the errors, and the `s3:ListBucketVersions` permission.

use crate::common;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{BucketVersioningStatus, EncodingType, VersioningConfiguration};
use aws_sdk_s3::Client;

const B: &str = "versions";

async fn setup(
    dir: &std::path::Path,
    status: Option<BucketVersioningStatus>,
) -> (common::TestServer, Client) {
    let (server, s3) = common::start_with_bucket(dir, B).await;
    if let Some(status) = status {
        set_versioning(&s3, status).await;
    }
    (server, s3)
}

async fn set_versioning(s3: &Client, status: BucketVersioningStatus) {
    s3.put_bucket_versioning()
        .bucket(B)
        .versioning_configuration(VersioningConfiguration::builder().status(status).build())
        .send()
        .await
        .unwrap();
}

/// Puts `key` and returns the version id the server gave it.
async fn put(s3: &Client, key: &str, body: &str) -> String {
    let out = s3
        .put_object()
        .bucket(B)
        .key(key)
        .body(ByteStream::from(body.as_bytes().to_vec()))
        .send()
        .await
        .unwrap_or_else(|e| panic!("put {key}: {e:?}"));
    out.version_id().unwrap_or("null").to_owned()
}

/// Deletes `key` without a version id and returns the delete marker's id, if one was added.
async fn delete(s3: &Client, key: &str) -> Option<String> {
    let out = s3.delete_object().bucket(B).key(key).send().await.unwrap();
    out.delete_marker()
        .unwrap_or(false)
        .then(|| out.version_id().unwrap().to_owned())
}

/// One listed entry: key, version id, IsLatest, and whether it is a delete marker.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    key: String,
    id: String,
    latest: bool,
    marker: bool,
}

fn entry(key: &str, id: &str, latest: bool, marker: bool) -> Entry {
    Entry {
        key: key.into(),
        id: id.into(),
        latest,
        marker,
    }
}

/// What a page holds, in list order: the SDK gives versions and delete markers apart, and
/// within a key this server's ids ascend newest first (`null` has no place in that order,
/// so pages merged this way must not hold a null version beside others of its key).
fn page_entries(
    out: &aws_sdk_s3::operation::list_object_versions::ListObjectVersionsOutput,
) -> Vec<Entry> {
    let mut entries: Vec<Entry> = out
        .versions()
        .iter()
        .map(|v| {
            entry(
                v.key().unwrap(),
                v.version_id().unwrap(),
                v.is_latest().unwrap(),
                false,
            )
        })
        .chain(out.delete_markers().iter().map(|m| {
            entry(
                m.key().unwrap(),
                m.version_id().unwrap(),
                m.is_latest().unwrap(),
                true,
            )
        }))
        .collect();
    entries.sort_by(|a, b| (&a.key, &a.id).cmp(&(&b.key, &b.id)));
    entries
}

/// Every page of a listing with `max_keys`, following NextKeyMarker and NextVersionIdMarker:
/// the entries and common prefixes in order, and the number of pages.
async fn walk(
    s3: &Client,
    prefix: Option<&str>,
    delimiter: Option<&str>,
    max_keys: i32,
) -> (Vec<Entry>, Vec<String>, usize) {
    let (mut entries, mut prefixes, mut pages) = (Vec::new(), Vec::new(), 0);
    let (mut key_marker, mut version_marker) = (None::<String>, None::<String>);
    loop {
        pages += 1;
        assert!(pages < 1000, "the listing does not end");
        let out = s3
            .list_object_versions()
            .bucket(B)
            .set_prefix(prefix.map(Into::into))
            .set_delimiter(delimiter.map(Into::into))
            .max_keys(max_keys)
            .set_key_marker(key_marker.take())
            .set_version_id_marker(version_marker.take())
            .send()
            .await
            .unwrap();
        assert_eq!(out.max_keys(), Some(max_keys));
        let page = page_entries(&out);
        let page_prefixes: Vec<String> = out
            .common_prefixes()
            .iter()
            .map(|p| p.prefix().unwrap().to_owned())
            .collect();
        assert!(
            page.len() + page_prefixes.len() <= usize::try_from(max_keys).unwrap(),
            "page {pages} is over max-keys"
        );
        entries.extend(page);
        prefixes.extend(page_prefixes);
        if !out.is_truncated().unwrap() {
            assert_eq!(out.next_key_marker(), None);
            assert_eq!(out.next_version_id_marker(), None);
            return (entries, prefixes, pages);
        }
        key_marker = Some(
            out.next_key_marker()
                .expect("a truncated page's NextKeyMarker")
                .to_owned(),
        );
        version_marker = out.next_version_id_marker().map(str::to_owned);
    }
}

/// What the listing must show for keys written `versions` times each, newest first.
fn expected(written: &[(String, Vec<String>)]) -> Vec<Entry> {
    written
        .iter()
        .flat_map(|(key, ids)| {
            ids.iter()
                .rev()
                .enumerate()
                .map(move |(i, id)| entry(key, id, i == 0, false))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_versions_of_few_keys_page_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = setup(dir.path(), Some(BucketVersioningStatus::Enabled)).await;
    let mut written = Vec::new();
    for key in ["alpha", "beta", "gamma"] {
        let mut ids = Vec::new();
        for n in 0..9 {
            ids.push(put(&s3, key, &format!("{key} {n}")).await);
        }
        written.push((key.to_owned(), ids));
    }
    let want = expected(&written);
    // Version ids ascend newest first, and are of one form.
    for (_, ids) in &written {
        assert!(ids.windows(2).all(|w| w[0] > w[1]), "{ids:?}");
        assert!(ids
            .iter()
            .all(|id| id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit())));
    }
    for max_keys in [1, 2, 4, 9, 10, 1000] {
        let (entries, prefixes, pages) = walk(&s3, None, None, max_keys).await;
        assert_eq!(entries, want, "max-keys {max_keys}");
        assert!(prefixes.is_empty());
        let per_page = usize::try_from(max_keys).unwrap();
        // A page is truncated only when more follows: a last full page ends the listing.
        assert_eq!(pages, want.len().div_ceil(per_page), "max-keys {max_keys}");
    }
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn few_versions_of_many_keys_page_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = setup(dir.path(), Some(BucketVersioningStatus::Enabled)).await;
    let mut written = Vec::new();
    for n in 0..40 {
        let key = format!("k{n:03}");
        let ids = vec![put(&s3, &key, "one").await, put(&s3, &key, "two").await];
        written.push((key, ids));
    }
    let want = expected(&written);
    for max_keys in [1, 3, 7, 80, 81] {
        let (entries, _, _) = walk(&s3, None, None, max_keys).await;
        assert_eq!(entries, want, "max-keys {max_keys}");
    }
    // A prefix narrows it.
    let (entries, _, _) = walk(&s3, Some("k01"), None, 3).await;
    assert_eq!(entries, want[20..40]);
    server.stop();
}

/// The keys a delimiter rolls up are one common prefix, counted once against max-keys and
/// listed once however the pages fall; a page ending on a common prefix continues after it
/// (NextKeyMarker is the prefix, and no NextVersionIdMarker).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delimiter_and_prefix_roll_up_every_version() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = setup(dir.path(), Some(BucketVersioningStatus::Enabled)).await;
    let mut written = Vec::new();
    for key in ["dir/a", "dir/b", "dir/sub/x", "dir/sub/y", "top", "zz/1"] {
        let ids = vec![put(&s3, key, "1").await, put(&s3, key, "2").await];
        written.push((key.to_owned(), ids));
    }
    let all = expected(&written);
    for max_keys in [1, 2, 3, 1000] {
        let (entries, prefixes, _) = walk(&s3, None, Some("/"), max_keys).await;
        assert_eq!(entries, all[8..10], "max-keys {max_keys}");
        assert_eq!(prefixes, ["dir/", "zz/"], "max-keys {max_keys}");
        let (entries, prefixes, _) = walk(&s3, Some("dir/"), Some("/"), max_keys).await;
        assert_eq!(entries, all[..4], "max-keys {max_keys}");
        assert_eq!(prefixes, ["dir/sub/"], "max-keys {max_keys}");
    }
    // The first page ends on the common prefix `dir/`.
    let out = s3
        .list_object_versions()
        .bucket(B)
        .delimiter("/")
        .max_keys(1)
        .send()
        .await
        .unwrap();
    assert_eq!(out.is_truncated(), Some(true));
    assert_eq!(out.delimiter(), Some("/"));
    assert_eq!(out.common_prefixes().len(), 1);
    assert_eq!(out.next_key_marker(), Some("dir/"));
    assert_eq!(out.next_version_id_marker(), None);
    server.stop();
}

/// `key-marker` alone starts after every version of that key; with `version-id-marker`,
/// after that version; `null` names the null version. The request's markers are echoed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_marker_and_version_id_marker_start_where_s3_starts() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = setup(dir.path(), None).await;
    let null_a = put(&s3, "a", "before versioning").await;
    assert_eq!(null_a, "null");
    put(&s3, "b", "before versioning").await;
    set_versioning(&s3, BucketVersioningStatus::Enabled).await;
    let a1 = put(&s3, "a", "1").await;
    let a2 = put(&s3, "a", "2").await;
    let b1 = put(&s3, "b", "1").await;
    let c1 = put(&s3, "c", "1").await;
    let list = |key_marker: &str, version_marker: Option<&str>| {
        let s3 = s3.clone();
        let (key_marker, version_marker) =
            (key_marker.to_owned(), version_marker.map(str::to_owned));
        async move {
            let out = s3
                .list_object_versions()
                .bucket(B)
                .key_marker(&key_marker)
                .set_version_id_marker(version_marker.clone())
                .send()
                .await
                .unwrap();
            assert_eq!(out.key_marker(), Some(key_marker.as_str()));
            assert_eq!(
                out.version_id_marker().unwrap_or_default(),
                version_marker.as_deref().unwrap_or_default()
            );
            // The null version sorts by when it was written (before a1), as S3 lists it.
            let mut listed: Vec<Entry> = Vec::new();
            for v in out.versions() {
                listed.push(entry(
                    v.key().unwrap(),
                    v.version_id().unwrap(),
                    v.is_latest().unwrap(),
                    false,
                ));
            }
            listed
        }
    };
    let a = |id: &str, latest| entry("a", id, latest, false);
    let b = |id: &str, latest| entry("b", id, latest, false);
    let c = entry("c", &c1, true, false);
    // Without markers: a2, a1, a's null version (oldest), then b, c.
    let whole = list("", None).await;
    assert_eq!(
        whole,
        [
            a(&a2, true),
            a(&a1, false),
            a("null", false),
            b(&b1, true),
            b("null", false),
            c.clone()
        ]
    );
    assert_eq!(list("a", None).await, whole[3..]);
    assert_eq!(list("a", Some(&a2)).await, whole[1..]);
    assert_eq!(list("a", Some(&a1)).await, whole[2..]);
    assert_eq!(list("a", Some("null")).await, whole[3..]);
    assert_eq!(list("b", Some("null")).await, whole[5..]);
    assert_eq!(list("b", Some(&b1)).await, whole[4..]);
    // A key marker between keys, or past them all.
    assert_eq!(list("aa", None).await, whole[3..]);
    assert_eq!(list("c", None).await, []);
    // A marker naming a version that is not there still is a position in the order.
    assert_eq!(list("a", Some(&"0".repeat(32))).await, whole);
    assert_eq!(list("a", Some(&"f".repeat(32))).await, whole[3..]);
    server.stop();
}

/// Delete markers are listed among the versions, in order; the key's newest row is
/// IsLatest, a marker or not; removing the marker makes the version under it the latest.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_markers_and_is_latest() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = setup(dir.path(), Some(BucketVersioningStatus::Enabled)).await;
    let v1 = put(&s3, "doc", "1").await;
    let v2 = put(&s3, "doc", "2").await;
    let marker = delete(&s3, "doc").await.expect("a delete marker");
    let keep = put(&s3, "keep", "k").await;
    let (entries, _, _) = walk(&s3, None, None, 1000).await;
    assert_eq!(
        entries,
        [
            entry("doc", &marker, true, true),
            entry("doc", &v2, false, false),
            entry("doc", &v1, false, false),
            entry("keep", &keep, true, false),
        ]
    );
    for max_keys in [1, 2, 3] {
        assert_eq!(walk(&s3, None, None, max_keys).await.0, entries);
    }
    // The markers' elements.
    let out = s3.list_object_versions().bucket(B).send().await.unwrap();
    let m = &out.delete_markers()[0];
    assert_eq!(m.key(), Some("doc"));
    assert!(m.owner().and_then(|o| o.id()).is_some());
    assert!(m.last_modified().is_some());
    let v = out
        .versions()
        .iter()
        .find(|v| v.version_id() == Some(&v2))
        .unwrap();
    assert_eq!(v.size(), Some(1));
    assert_eq!(v.e_tag(), Some("\"c81e728d9d4c2f636f067f89cc14862c\""));
    assert_eq!(v.storage_class().map(|c| c.as_str()), Some("STANDARD"));
    assert!(v.owner().and_then(|o| o.id()).is_some());
    // ListObjectsV2 does not show the deleted key.
    let listed = s3.list_objects_v2().bucket(B).send().await.unwrap();
    assert_eq!(listed.contents().len(), 1);

    // Undelete: the marker removed, v2 is the latest again.
    s3.delete_object()
        .bucket(B)
        .key("doc")
        .version_id(&marker)
        .send()
        .await
        .unwrap();
    assert_eq!(
        walk(&s3, None, None, 1000).await.0,
        [
            entry("doc", &v2, true, false),
            entry("doc", &v1, false, false),
            entry("keep", &keep, true, false),
        ]
    );
    server.stop();
}

/// A Suspended bucket writes the null version: an overwrite replaces it, a delete puts a
/// null delete marker in its place; the versions written while Enabled stay listed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn suspended_buckets_list_their_null_versions() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = setup(dir.path(), Some(BucketVersioningStatus::Enabled)).await;
    let v1 = put(&s3, "k", "1").await;
    set_versioning(&s3, BucketVersioningStatus::Suspended).await;
    assert_eq!(put(&s3, "k", "2").await, "null");
    assert_eq!(put(&s3, "k", "3").await, "null");
    let out = s3.list_object_versions().bucket(B).send().await.unwrap();
    let versions: Vec<(&str, bool, Option<i64>)> = out
        .versions()
        .iter()
        .map(|v| (v.version_id().unwrap(), v.is_latest().unwrap(), v.size()))
        .collect();
    assert_eq!(
        versions,
        [("null", true, Some(1)), (v1.as_str(), false, Some(1))]
    );
    assert!(out.delete_markers().is_empty());
    assert_eq!(delete(&s3, "k").await.as_deref(), Some("null"));
    let out = s3.list_object_versions().bucket(B).send().await.unwrap();
    assert_eq!(out.delete_markers().len(), 1);
    let m = &out.delete_markers()[0];
    assert_eq!((m.version_id(), m.is_latest()), (Some("null"), Some(true)));
    let versions: Vec<(&str, bool)> = out
        .versions()
        .iter()
        .map(|v| (v.version_id().unwrap(), v.is_latest().unwrap()))
        .collect();
    assert_eq!(versions, [(v1.as_str(), false)]);
    // Paging through a null marker: key-marker with version-id-marker=null.
    let out = s3
        .list_object_versions()
        .bucket(B)
        .max_keys(1)
        .send()
        .await
        .unwrap();
    assert_eq!(out.next_version_id_marker(), Some("null"));
    let out = s3
        .list_object_versions()
        .bucket(B)
        .key_marker(out.next_key_marker().unwrap())
        .version_id_marker("null")
        .send()
        .await
        .unwrap();
    assert_eq!(out.versions().len(), 1);
    assert_eq!(out.versions()[0].version_id(), Some(v1.as_str()));
    server.stop();
}

/// On a bucket never versioned every object is its `null` version, the latest; a delete
/// removes it, leaving no marker.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn never_versioned_buckets_list_null_versions() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = setup(dir.path(), None).await;
    for key in ["x", "y/1", "y/2", "z"] {
        put(&s3, key, key).await;
    }
    put(&s3, "x", "again").await;
    assert_eq!(delete(&s3, "z").await, None);
    for max_keys in [1, 2, 1000] {
        let (entries, _, _) = walk(&s3, None, None, max_keys).await;
        assert_eq!(
            entries,
            [
                entry("x", "null", true, false),
                entry("y/1", "null", true, false),
                entry("y/2", "null", true, false),
            ]
        );
    }
    let out = s3.list_object_versions().bucket(B).send().await.unwrap();
    assert_eq!(out.versions()[0].size(), Some(5));
    let (entries, prefixes, _) = walk(&s3, None, Some("/"), 1).await;
    assert_eq!(entries, [entry("x", "null", true, false)]);
    assert_eq!(prefixes, ["y/"]);
    server.stop();
}

fn url_decode(value: &str) -> String {
    percent_encoding::percent_decode_str(value)
        .decode_utf8()
        .unwrap()
        .into_owned()
}

/// `encoding-type=url` encodes keys, prefixes, the delimiter and the key markers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn encoding_type_url_encodes_keys_and_markers() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = setup(dir.path(), Some(BucketVersioningStatus::Enabled)).await;
    for key in ["日本 1", "日本 2", "日本/ファイル", "plain"] {
        put(&s3, key, "x").await;
    }
    let out = s3
        .list_object_versions()
        .bucket(B)
        .prefix("日本")
        .delimiter("/")
        .key_marker("日本 0")
        .max_keys(1)
        .encoding_type(EncodingType::Url)
        .send()
        .await
        .unwrap();
    assert_eq!(out.encoding_type(), Some(&EncodingType::Url));
    assert_eq!(out.prefix(), Some("%E6%97%A5%E6%9C%AC"));
    assert_eq!(out.delimiter(), Some("/"));
    assert_eq!(out.key_marker(), Some("%E6%97%A5%E6%9C%AC%200"));
    let key = out.versions()[0].key().unwrap();
    assert!(key.is_ascii(), "{key}");
    assert_eq!(url_decode(key), "日本 1");
    let next = out.next_key_marker().unwrap();
    assert!(next.is_ascii(), "{next}");
    assert_eq!(url_decode(next), "日本 1");
    let out = s3
        .list_object_versions()
        .bucket(B)
        .prefix("日本")
        .delimiter("/")
        .key_marker("日本 2")
        .encoding_type(EncodingType::Url)
        .send()
        .await
        .unwrap();
    let prefix = out.common_prefixes()[0].prefix().unwrap();
    assert_eq!(url_decode(prefix), "日本/");
    assert!(prefix.is_ascii());
    // Without it, the keys as they are.
    let out = s3
        .list_object_versions()
        .bucket(B)
        .prefix("日本 ")
        .send()
        .await
        .unwrap();
    assert_eq!(out.versions()[0].key(), Some("日本 1"));
    assert_eq!(out.encoding_type(), None);
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_markers_and_parameters_are_refused_as_s3_refuses_them() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = setup(dir.path(), Some(BucketVersioningStatus::Enabled)).await;
    let id = put(&s3, "k", "x").await;
    // A version-id-marker without a key-marker.
    let r = s3
        .list_object_versions()
        .bucket(B)
        .version_id_marker(&id)
        .send()
        .await;
    let err = r.unwrap_err();
    let service = err.as_service_error().unwrap();
    assert_eq!(service.meta().code(), Some("InvalidArgument"));
    assert_eq!(
        service.meta().message(),
        Some("A version-id marker cannot be specified without a key marker.")
    );
    // A version id this server never issued.
    for bad in [
        "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY",
        "NULL",
        &id.to_uppercase(),
    ] {
        let r = s3
            .list_object_versions()
            .bucket(B)
            .key_marker("k")
            .version_id_marker(bad)
            .send()
            .await;
        let err = r.unwrap_err();
        let service = err.as_service_error().unwrap();
        assert_eq!(service.meta().code(), Some("InvalidArgument"), "{bad}");
        assert_eq!(
            service.meta().message(),
            Some("Invalid version id specified"),
            "{bad}"
        );
    }
    // No such bucket.
    let r = s3.list_object_versions().bucket("absent").send().await;
    assert_eq!(common::error_code(r), "NoSuchBucket");

    // What no SDK sends: a bad max-keys or encoding-type, the error's ArgumentName.
    let signer = common::signing::Signer::s3("admin", common::ROOT_SECRET);
    let get = |path: &str| common::signing::s3_call(server.s3, &signer, "GET", path, &[], "");
    let r = get("/versions?versions&max-keys=-1");
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(
        r.body
            .contains("Provided max-keys not an integer or within integer range"),
        "{}",
        r.body
    );
    let r = get("/versions?versions&encoding-type=base64");
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(
        r.body.contains("<Code>InvalidArgument</Code>"),
        "{}",
        r.body
    );
    let r = get("/versions?versions&version-id-marker=null");
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(
        r.body
            .contains("<ArgumentName>version-id-marker</ArgumentName>"),
        "{}",
        r.body
    );
    assert!(
        r.body.contains("<ArgumentValue>null</ArgumentValue>"),
        "{}",
        r.body
    );
    // max-keys=0: an empty page, not truncated; over the cap: the cap.
    let r = get("/versions?versions&max-keys=0");
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body.contains("<IsTruncated>false</IsTruncated>"),
        "{}",
        r.body
    );
    assert!(!r.body.contains("<Version>"), "{}", r.body);
    let r = get("/versions?versions&max-keys=5000");
    assert!(r.body.contains("<MaxKeys>1000</MaxKeys>"), "{}", r.body);
    server.stop();
}

/// ListObjectVersions asks for `s3:ListBucketVersions`, not `s3:ListBucket`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listing_versions_needs_list_bucket_versions() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = setup(dir.path(), Some(BucketVersioningStatus::Enabled)).await;
    put(&s3, "k", "x").await;
    let iam = common::root_iam(&server);
    let (key, secret) = common::user_with_key(&iam, "lister").await;
    iam.put_user_policy()
        .user_name("lister")
        .policy_name("list")
        .policy_document(common::allow("s3:ListBucket"))
        .send()
        .await
        .unwrap();
    let user = common::s3_client_as(&server, &key, &secret);
    let r = user.list_object_versions().bucket(B).send().await;
    assert_eq!(common::error_code(r), "AccessDenied");
    user.list_objects_v2().bucket(B).send().await.unwrap();
    iam.put_user_policy()
        .user_name("lister")
        .policy_name("versions")
        .policy_document(common::allow("s3:ListBucketVersions"))
        .send()
        .await
        .unwrap();
    let out = user.list_object_versions().bucket(B).send().await.unwrap();
    assert_eq!(out.versions().len(), 1);
    server.stop();
}
