use std::time::Duration;

use super::list::successor;
use super::*;

pub(super) fn config() -> DbConfig {
    DbConfig {
        max_open_conns: 2,
        max_idle_conns: 2,
        write_chan_cap: 16,
        timeout: Duration::from_secs(5),
        read_cache_size_kib: 1024,
        writer_cache_size_kib: 1024,
        durable: false,
        postgres: None,
    }
}

const OWNER: &str = "111122223333";

fn blob() -> BlobId {
    BlobId::parse(&format!("{:032x}", rand::random::<u128>())).unwrap()
}

pub(super) fn object(bucket: &str, key: &str, etag: &str) -> ObjectMeta {
    ObjectMeta {
        bucket: bucket.into(),
        key: key.into(),
        size: 1,
        etag: etag.into(),
        last_modified: now_ms(),
        headers: ObjectHeaders::default(),
        checksum_algorithm: None,
        checksum: None,
        checksum_type: None,
        parts: None,
        segments: vec![Segment {
            stored: Stored::Blob(blob()),
            size: 1,
            etag: None,
            checksum: None,
            part_number: None,
        }],
        tags: Vec::new(),
        acl: None,
        version: String::new(),
        null_version: false,
        lock: LockState::default(),
        sse: None,
    }
}

async fn index_with(keys: &[&str]) -> (tempfile::TempDir, ObjectIndex) {
    let dir = tempfile::tempdir().unwrap();
    let index = ObjectIndex::open(dir.path(), &config()).unwrap();
    index
        .create_bucket("b".into(), "us-east-1".into(), OWNER.into())
        .await
        .unwrap();
    for key in keys {
        index
            .put_object(object("b", key, "e"), WriteCondition::Always)
            .await
            .unwrap();
    }
    (dir, index)
}

/// Every page of a listing, following the cursor, as (keys, prefixes) flattened in order.
async fn all_pages(
    index: &ObjectIndex,
    prefix: &str,
    delimiter: Option<&str>,
    max: usize,
) -> Vec<String> {
    let mut out = Vec::new();
    let mut cursor = Cursor::Start;
    loop {
        let q = ListQuery {
            prefix: prefix.into(),
            delimiter: delimiter.map(Into::into),
            cursor,
            max,
        };
        let page = index.list_objects("b".into(), q).await.unwrap();
        assert!(page.objects.len() + page.prefixes.len() <= max);
        let mut entries: Vec<String> = page
            .objects
            .iter()
            .map(|o| o.key.clone())
            .chain(page.prefixes.iter().map(|p| format!("{p}*")))
            .collect();
        entries.sort_by(|a, b| a.trim_end_matches('*').cmp(b.trim_end_matches('*')));
        out.extend(entries);
        if !page.truncated {
            return out;
        }
        cursor = page.next_cursor().unwrap();
    }
}

const KEYS: &[&str] = &[
    "a",
    "a/1",
    "a/2",
    "a/b/1",
    "b",
    "b/",
    "c/x",
    "c/y",
    "d\u{e9}",
    "d\u{10ffff}",
    "e",
];

#[tokio::test]
async fn listing_rolls_up_prefixes_and_pages_in_binary_order() {
    let (_dir, index) = index_with(KEYS).await;
    let flat = all_pages(&index, "", None, 1000).await;
    assert_eq!(flat, KEYS.iter().map(|k| k.to_string()).collect::<Vec<_>>());
    let expected = ["a", "a/*", "b", "b/*", "c/*", "d\u{e9}", "d\u{10ffff}", "e"];
    for max in [1, 2, 3, 1000] {
        assert_eq!(
            all_pages(&index, "", Some("/"), max).await,
            expected,
            "max {max}"
        );
        assert_eq!(all_pages(&index, "", None, max).await.len(), KEYS.len());
    }
    assert_eq!(
        all_pages(&index, "a/", Some("/"), 1).await,
        ["a/1", "a/2", "a/b/*"]
    );
    assert_eq!(all_pages(&index, "c", None, 1).await, ["c/x", "c/y"]);
    assert_eq!(
        all_pages(&index, "zzz", None, 5).await,
        Vec::<String>::new()
    );
    // A multi-character delimiter.
    assert_eq!(
        all_pages(&index, "", Some("/b/"), 1000).await,
        [
            "a",
            "a/1",
            "a/2",
            "a/b/*",
            "b",
            "b/",
            "c/x",
            "c/y",
            "d\u{e9}",
            "d\u{10ffff}",
            "e"
        ]
    );
}

/// S3 lists only entries after the marker: a common prefix at or before it (the marker is the
/// prefix, or a key under it) is not listed again, and a key that ends with the delimiter is
/// just a key.
#[tokio::test]
async fn cursors_inside_or_at_a_common_prefix_skip_it() {
    let (_dir, index) = index_with(KEYS).await;
    let page = |prefix: &str, cursor: Cursor, max| {
        let q = ListQuery {
            prefix: prefix.into(),
            delimiter: Some("/".into()),
            cursor,
            max,
        };
        let index = index.clone();
        async move {
            let page = index.list_objects("b".into(), q).await.unwrap();
            let keys: Vec<String> = page.objects.iter().map(|o| o.key.clone()).collect();
            (keys, page.prefixes.clone(), page.truncated)
        }
    };
    let after = |k: &str| Cursor::After(k.into());
    let none = Vec::<String>::new;
    assert_eq!(
        page("", after("a/"), 2).await,
        (vec!["b".into()], vec!["b/".into()], true)
    );
    assert_eq!(
        page("", after("a/2"), 2).await,
        (vec!["b".into()], vec!["b/".into()], true)
    );
    // "b/" is a key and, with the empty prefix, also a common prefix; after it comes "c/".
    assert_eq!(page("b/", after("b/"), 5).await, (none(), none(), false));
    assert_eq!(
        page("b/", Cursor::Start, 1).await,
        (vec!["b/".into()], none(), false)
    );
    // The last entry skipped is not a reason to say more follow.
    assert_eq!(page("", after("e"), 1).await, (none(), none(), false));
    assert_eq!(page("c", after("c/"), 1).await, (none(), none(), false));
}

#[tokio::test]
async fn start_after_and_max_zero() {
    let (_dir, index) = index_with(KEYS).await;
    let q = ListQuery {
        prefix: String::new(),
        delimiter: None,
        cursor: Cursor::After("c/x".into()),
        max: 2,
    };
    let page = index.list_objects("b".into(), q).await.unwrap();
    assert_eq!(
        page.objects
            .iter()
            .map(|o| o.key.as_str())
            .collect::<Vec<_>>(),
        ["c/y", "d\u{e9}"]
    );
    assert!(page.truncated);
    let q = ListQuery {
        prefix: String::new(),
        delimiter: None,
        cursor: Cursor::Start,
        max: 0,
    };
    let page = index.list_objects("b".into(), q).await.unwrap();
    assert!(page.objects.is_empty() && !page.truncated);
}

#[tokio::test]
async fn overwrite_returns_replaced_blobs_and_conditions_hold() {
    let (_dir, index) = index_with(&[]).await;
    let first = object("b", "k", "one");
    let first_blob = first.segments[0].stored.blob().cloned().unwrap();
    assert!(index
        .put_object(first, WriteCondition::IfAbsent)
        .await
        .unwrap()
        .replaced
        .is_empty());
    let err = index
        .put_object(object("b", "k", "two"), WriteCondition::IfAbsent)
        .await
        .unwrap_err();
    assert!(matches!(err, IndexError::PreconditionFailed));
    let err = index
        .put_object(
            object("b", "k", "two"),
            WriteCondition::IfEtag("nope".into()),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, IndexError::PreconditionFailed));
    let replaced = index
        .put_object(
            object("b", "k", "two"),
            WriteCondition::IfEtag("one".into()),
        )
        .await
        .unwrap();
    assert_eq!(replaced.replaced, vec![first_blob]);
    assert_eq!(replaced.version_id, None, "never versioned");
    assert_eq!(
        index
            .get_object("b".into(), "k".into(), VersionRef::Current)
            .await
            .unwrap()
            .etag,
        "two"
    );
    let err = index
        .put_object(object("nobucket", "k", "x"), WriteCondition::Always)
        .await
        .unwrap_err();
    assert!(matches!(err, IndexError::NoSuchBucket));
}

/// A size SQLite's INTEGER cannot hold is refused on write, and a negative one (only a damaged
/// database holds one) is an error on every read: never a wrapped length.
/// Listings read each object's storage class from its stored headers: `None` (STANDARD)
/// when the headers name none, and when a damaged document cannot be read, rather than
/// failing the page.
#[tokio::test]
async fn listings_carry_each_objects_storage_class() {
    let (_dir, index) = index_with(&["plain", "damaged"]).await;
    let mut cold = object("b", "cold", "e");
    cold.headers.storage_class = Some("GLACIER".into());
    index
        .put_object(cold, WriteCondition::Always)
        .await
        .unwrap();
    index
        .db()
        .write(|conn| {
            conn.execute(
                r#"UPDATE objects SET headers = '{"storage_class":' WHERE key = 'damaged'"#,
                [],
            )?;
            Ok::<_, IndexError>(())
        })
        .await
        .unwrap();
    let q = ListQuery {
        prefix: String::new(),
        delimiter: None,
        cursor: Cursor::Start,
        max: 10,
    };
    let listed = index.list_objects("b".into(), q).await.unwrap();
    let classes: Vec<(&str, Option<&str>)> = listed
        .objects
        .iter()
        .map(|o| (o.key.as_str(), o.storage_class.as_deref()))
        .collect();
    assert_eq!(
        classes,
        [
            ("cold", Some("GLACIER")),
            ("damaged", None),
            ("plain", None)
        ]
    );
    let got = index
        .get_object("b".into(), "cold".into(), VersionRef::Current)
        .await
        .unwrap();
    assert_eq!(got.headers.storage_class(), "GLACIER");
}

#[tokio::test]
async fn sizes_out_of_range_are_errors_not_wrapped_lengths() {
    let (_dir, index) = index_with(&["k"]).await;
    let mut huge = object("b", "huge", "e");
    huge.size = u64::MAX;
    let put = index.put_object(huge, WriteCondition::Always).await;
    assert!(matches!(put, Err(IndexError::Db(_))), "{put:?}");

    index
        .db()
        .write(|conn| {
            conn.execute("UPDATE objects SET size = -1 WHERE key = 'k'", [])?;
            Ok::<_, IndexError>(())
        })
        .await
        .unwrap();
    let got = index
        .get_object("b".into(), "k".into(), VersionRef::Current)
        .await;
    assert!(matches!(got, Err(IndexError::Db(_))), "{got:?}");
    let q = ListQuery {
        prefix: String::new(),
        delimiter: None,
        cursor: Cursor::Start,
        max: 10,
    };
    let listed = index.list_objects("b".into(), q).await;
    assert!(matches!(listed, Err(IndexError::Db(_))), "{listed:?}");
}

#[tokio::test]
async fn buckets_with_objects_are_not_deleted_and_uploads_are_aborted_with_theirs() {
    let (_dir, index) = index_with(&["k"]).await;
    assert!(matches!(
        index
            .create_bucket("b".into(), "r".into(), OWNER.into())
            .await,
        Err(IndexError::BucketExists)
    ));
    assert!(matches!(
        index.delete_bucket("b".into()).await,
        Err(IndexError::BucketNotEmpty)
    ));
    let done = index
        .delete_objects(
            "b".into(),
            vec![
                ("k".into(), VersionRef::Current),
                ("missing".into(), VersionRef::Current),
            ],
            false,
        )
        .await
        .unwrap();
    let blobs: Vec<usize> = done.into_iter().map(|d| d.unwrap().blobs.len()).collect();
    assert_eq!(blobs, [1, 0]);
    // Uploads in progress do not keep a bucket: deleting it aborts them and hands back their
    // parts' blobs.
    let upload = index
        .create_upload(
            "b".into(),
            "u".into(),
            ObjectHeaders::default(),
            None,
            Vec::new(),
            None,
            LockState::default(),
            None,
        )
        .await
        .unwrap();
    let blob = crate::storage::BlobId::parse(&"7".repeat(32)).unwrap();
    index
        .put_part(
            "b".into(),
            "u".into(),
            upload.id.clone(),
            Part {
                blob: Some(blob.clone()),
                ..part(1, 5, "e")
            },
            Stored::Blob(blob.clone()),
        )
        .await
        .unwrap();
    assert_eq!(index.delete_bucket("b".into()).await.unwrap(), vec![blob]);
    assert!(matches!(index.bucket("b"), Err(IndexError::NoSuchBucket)));
    index
        .create_bucket("b".into(), "r".into(), OWNER.into())
        .await
        .unwrap();
    assert!(matches!(
        index.upload("b".into(), "u".into(), upload.id).await,
        Err(IndexError::NoSuchUpload)
    ));
}

fn part(number: u32, size: u64, etag: &str) -> Part {
    Part {
        number,
        blob: None,
        size,
        etag: etag.into(),
        checksum: None,
        last_modified: now_ms(),
    }
}

#[tokio::test]
async fn completing_an_upload_checks_parts_as_s3_does() {
    let (_dir, index) = index_with(&[]).await;
    let up = index
        .create_upload(
            "b".into(),
            "big".into(),
            ObjectHeaders::default(),
            None,
            Vec::new(),
            None,
            LockState::default(),
            None,
        )
        .await
        .unwrap();
    let (b, k, id) = ("b".to_string(), "big".to_string(), up.id.clone());
    for (n, size, etag) in [(1, MIN, "e1"), (2, 10, "e2"), (3, MIN, "e3")] {
        index
            .put_part(
                b.clone(),
                k.clone(),
                id.clone(),
                part(n, size, etag),
                Stored::Blob(blob()),
            )
            .await
            .unwrap();
    }
    let done = |_: &Upload, _: &[Part]| {
        Ok::<_, IndexError>(multipart::Completion {
            etag: "m-2".into(),
            checksum: None,
            checksum_type: None,
        })
    };
    let complete = |chosen: Vec<(u32, &str)>| {
        let chosen = chosen
            .into_iter()
            .map(|(n, e)| (n, e.to_string()))
            .collect();
        index.complete_upload(
            b.clone(),
            k.clone(),
            id.clone(),
            chosen,
            WriteCondition::Always,
            done,
        )
    };
    assert!(matches!(
        complete(vec![(2, "e2"), (1, "e1")]).await,
        Err(IndexError::InvalidPartOrder)
    ));
    assert!(matches!(
        complete(vec![(1, "wrong")]).await,
        Err(IndexError::InvalidPart(_))
    ));
    assert!(matches!(
        complete(vec![(2, "e2"), (3, "e3")]).await,
        Err(IndexError::EntityTooSmall)
    ));
    let (object, unused, _) = complete(vec![(1, "\"e1\""), (3, "e3")]).await.unwrap();
    assert_eq!(
        (
            object.size,
            object.parts,
            object.segments.len(),
            unused.len()
        ),
        (2 * MIN, Some(2), 2, 1)
    );
    assert!(matches!(
        complete(vec![(1, "e1")]).await,
        Err(IndexError::NoSuchUpload)
    ));
}

const MIN: u64 = multipart::MIN_PART_SIZE;

#[test]
fn a_completed_object_may_not_exceed_five_tib() {
    let five_gib = 5 * 1024 * 1024 * 1024;
    let parts: Vec<Part> = (1..=1025)
        .map(|n| part(n, five_gib, &format!("e{n}")))
        .collect();
    let chosen: Vec<(u32, String)> = parts.iter().map(|p| (p.number, p.etag.clone())).collect();
    assert!(matches!(
        multipart::choose(&parts, &chosen),
        Err(IndexError::EntityTooLarge)
    ));
    assert!(multipart::choose(&parts[..1024], &chosen[..1024]).is_ok());
}

#[test]
fn successors_bound_every_extension() {
    assert_eq!(successor("a/").as_deref(), Some("a0"));
    assert_eq!(successor("a\u{d7ff}").as_deref(), Some("a\u{e000}"));
    assert_eq!(successor("a\u{10ffff}").as_deref(), Some("b"));
    assert_eq!(successor("\u{10ffff}"), None);
    for ext in ["", "x", "\u{10ffff}\u{10ffff}", "/deep/er"] {
        assert!(format!("a/{ext}").as_str() < "a0");
    }
}

/// Uploads page by (key, upload id); with a delimiter each common prefix is one entry, listed
/// once however many pages its keys span.
#[tokio::test]
async fn upload_listings_roll_up_and_page_like_object_listings() {
    let (_dir, index) = index_with(&[]).await;
    let mut all = Vec::new();
    for key in ["a/1", "a/2", "b", "b", "c/d"] {
        let upload = index
            .create_upload(
                "b".into(),
                key.into(),
                ObjectHeaders::default(),
                None,
                Vec::new(),
                None,
                LockState::default(),
                None,
            )
            .await
            .unwrap();
        all.push((key.to_owned(), upload.id));
    }
    all.sort();
    let walk = |delimiter: Option<&str>, max| {
        let (index, delimiter) = (index.clone(), delimiter.map(str::to_owned));
        async move {
            let mut entries = Vec::new();
            let mut next: Option<(String, Option<String>)> = None;
            loop {
                let q = multipart::UploadQuery {
                    delimiter: delimiter.clone(),
                    key_marker: next.as_ref().map(|(k, _)| k.clone()),
                    upload_id_marker: next.as_ref().and_then(|(_, id)| id.clone()),
                    max,
                    ..Default::default()
                };
                let page = index.list_uploads("b".into(), q).await.unwrap();
                assert!(page.uploads.len() + page.prefixes.len() <= max);
                entries.extend(page.uploads.iter().map(|u| u.key.clone()));
                entries.extend(page.prefixes.iter().map(|p| format!("{p}*")));
                if !page.truncated {
                    return entries;
                }
                next = page.next;
            }
        }
    };
    for max in [1, 2, 1000] {
        assert_eq!(
            walk(None, max).await,
            ["a/1", "a/2", "b", "b", "c/d"],
            "{max}"
        );
        let mut rolled = walk(Some("/"), max).await;
        rolled.sort();
        assert_eq!(rolled, ["a/*", "b", "b", "c/*"], "max {max}");
    }
    let q = multipart::UploadQuery {
        key_marker: Some(all[2].0.clone()),
        upload_id_marker: Some(all[2].1.clone()),
        max: 10,
        ..Default::default()
    };
    let page = index.list_uploads("b".into(), q).await.unwrap();
    let after: Vec<_> = page
        .uploads
        .iter()
        .map(|u| (u.key.clone(), u.id.clone()))
        .collect();
    assert_eq!(after, all[3..]);
}

/// Every bucket name in the table, read through SQLite rather than the map.
async fn stored_buckets(index: &ObjectIndex) -> Vec<String> {
    index
        .db()
        .read(|conn| {
            let mut stmt = conn.prepare("SELECT name FROM buckets ORDER BY name")?;
            let names = stmt.query_map([], |r| r.get(0))?;
            Ok::<_, IndexError>(names.collect::<Result<_, _>>()?)
        })
        .await
        .unwrap()
}

fn mapped_buckets(index: &ObjectIndex) -> Vec<String> {
    index
        .list_buckets()
        .iter()
        .map(|b| b.name.clone())
        .collect()
}

#[tokio::test]
async fn buckets_are_loaded_at_open() {
    let (dir, index) = index_with(&["k"]).await;
    index
        .create_bucket("a".into(), "eu-west-3".into(), OWNER.into())
        .await
        .unwrap();
    // A bucket created before owners were recorded.
    index
        .db()
        .write(|conn| {
            conn.execute(
                "INSERT INTO buckets (name, created_at, region) VALUES ('old', 7, 'us-east-1')",
                [],
            )?;
            Ok::<_, IndexError>(())
        })
        .await
        .unwrap();
    let before = ["a", "b"].map(|b| index.bucket(b).unwrap());
    index.db().close().await;

    let index = ObjectIndex::open(dir.path(), &config()).unwrap();
    assert_eq!(mapped_buckets(&index), ["a", "b", "old"]);
    for was in before {
        let now = index.bucket(&was.name).unwrap();
        assert_eq!(
            (&now.region, now.created_at, &now.owner),
            (&was.region, was.created_at, &was.owner)
        );
    }
    assert_eq!(index.bucket("a").unwrap().region, "eu-west-3");
    assert_eq!(index.bucket("b").unwrap().owner.as_deref(), Some(OWNER));
    let old = index.bucket("old").unwrap();
    assert_eq!((old.created_at, old.owner.as_deref()), (7, None));
}

#[tokio::test]
async fn creating_and_deleting_a_bucket_update_the_map() {
    let dir = tempfile::tempdir().unwrap();
    let index = ObjectIndex::open(dir.path(), &config()).unwrap();
    assert!(matches!(index.bucket("x"), Err(IndexError::NoSuchBucket)));
    index
        .create_bucket("x".into(), "us-east-1".into(), OWNER.into())
        .await
        .unwrap();
    let created = index.bucket("x").unwrap();
    assert_eq!(
        (created.name.as_str(), created.region.as_str()),
        ("x", "us-east-1")
    );
    assert!(created.configs.policy.is_none());

    // A refused creation leaves the state as it was, not a new one.
    let again = index
        .create_bucket("x".into(), "eu-west-3".into(), OWNER.into())
        .await;
    assert!(matches!(again, Err(IndexError::BucketExists)), "{again:?}");
    assert!(Arc::ptr_eq(&created, &index.bucket("x").unwrap()));

    index.delete_bucket("x".into()).await.unwrap();
    assert!(index.bucket_state("x").is_none());
    assert!(index.list_buckets().is_empty());
    // A request holding the state keeps a consistent view of it.
    assert_eq!(created.region, "us-east-1");
    let deleted = index.delete_bucket("x".into()).await;
    assert!(
        matches!(deleted, Err(IndexError::NoSuchBucket)),
        "{deleted:?}"
    );
}

#[tokio::test]
async fn a_missing_bucket_is_no_such_bucket_for_reads_and_writes() {
    let (_dir, index) = index_with(&[]).await;
    let nothing = |r: IndexResult<()>| matches!(r, Err(IndexError::NoSuchBucket));
    let q = ListQuery {
        prefix: String::new(),
        delimiter: None,
        cursor: Cursor::Start,
        max: 10,
    };
    let get = index
        .get_object("nope".into(), "k".into(), VersionRef::Current)
        .await;
    assert!(nothing(get.map(drop)));
    assert!(nothing(
        index.list_objects("nope".into(), q).await.map(drop)
    ));
    let put = index.put_object(object("nope", "k", "e"), WriteCondition::Always);
    assert!(nothing(put.await.map(drop)));
    let delete = index.delete_objects(
        "nope".into(),
        vec![("k".into(), VersionRef::Current)],
        false,
    );
    assert!(nothing(delete.await.map(drop)));
}

/// Object writes check the bucket inside their transaction, not in the map: a bucket gone from
/// the table but (for a moment) still in the map refuses the write.
#[tokio::test]
async fn object_writes_check_the_bucket_in_their_transaction() {
    let (_dir, index) = index_with(&[]).await;
    index
        .db()
        .write(|conn| {
            conn.execute("DELETE FROM buckets WHERE name = 'b'", [])?;
            Ok::<_, IndexError>(())
        })
        .await
        .unwrap();
    assert!(index.bucket_state("b").is_some());
    let put = index
        .put_object(object("b", "k", "e"), WriteCondition::Always)
        .await;
    assert!(matches!(put, Err(IndexError::NoSuchBucket)), "{put:?}");
    // Reads trust the map: the bucket as it was just before its deletion, empty.
    let get = index
        .get_object("b".into(), "k".into(), VersionRef::Current)
        .await;
    assert!(matches!(get, Err(IndexError::NoSuchKey)), "{get:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_put_object_racing_delete_bucket_loses_or_wins_whole() {
    let dir = tempfile::tempdir().unwrap();
    let index = ObjectIndex::open(dir.path(), &config()).unwrap();
    for round in 0..20 {
        index
            .create_bucket("r".into(), "us-east-1".into(), OWNER.into())
            .await
            .unwrap();
        let put = {
            let index = index.clone();
            tokio::spawn(async move {
                index
                    .put_object(object("r", "k", "e"), WriteCondition::Always)
                    .await
            })
        };
        let delete = index.delete_bucket("r".into()).await;
        let put = put.await.unwrap();
        match (&put, &delete) {
            (Ok(_), Err(IndexError::BucketNotEmpty)) => {
                assert!(index.bucket_state("r").is_some());
                index
                    .delete_objects("r".into(), vec![("k".into(), VersionRef::Current)], false)
                    .await
                    .unwrap();
                index.delete_bucket("r".into()).await.unwrap();
            }
            (Err(IndexError::NoSuchBucket), Ok(blobs)) if blobs.is_empty() => {}
            _ => panic!("round {round}: put {put:?}, delete {delete:?}"),
        }
        assert!(index.bucket_state("r").is_none());
        assert!(stored_buckets(&index).await.is_empty());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_bucket_writes_leave_the_map_equal_to_the_table() {
    let dir = tempfile::tempdir().unwrap();
    let index = ObjectIndex::open(dir.path(), &config()).unwrap();
    let mut tasks = Vec::new();
    for i in 0..30 {
        let index = index.clone();
        let name = format!("b{}", i % 4);
        tasks.push(tokio::spawn(async move {
            match i % 3 {
                2 => index.delete_bucket(name).await.map(drop),
                _ => {
                    index
                        .create_bucket(name, "us-east-1".into(), OWNER.into())
                        .await
                }
            }
        }));
    }
    for task in tasks {
        let _ = task.await.unwrap();
    }
    assert_eq!(mapped_buckets(&index), stored_buckets(&index).await);
}

/// A CreateBucket dropped while its write is in flight (a client hanging up) must not leave the
/// commit out of the map.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_create_bucket_still_updates_the_map() {
    use std::future::Future;
    let dir = tempfile::tempdir().unwrap();
    let index = ObjectIndex::open(dir.path(), &config()).unwrap();
    let mut create = Box::pin(index.create_bucket("d".into(), "us-east-1".into(), OWNER.into()));
    // Polled once (the write is queued, its answer not yet in), then dropped.
    let _ = std::future::poll_fn(|cx| std::task::Poll::Ready(create.as_mut().poll(cx))).await;
    drop(create);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while stored_buckets(&index).await.is_empty() || index.bucket_state("d").is_none() {
        assert!(
            std::time::Instant::now() < deadline,
            "the creation never landed in the map"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Migration 6 records the checksum type of what was stored before it: multipart checksums
/// were composite and every other one full-object; an upload in progress takes S3's default
/// for its algorithm (CRC64NVME: full-object).
#[tokio::test]
async fn the_checksum_type_migration_types_earlier_rows() {
    use crate::db::Db;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("metadata").join("objects.db");
    {
        let old = Db::open("objects", &path, &config(), &MIGRATIONS[..3]).unwrap();
        old.write(|conn| {
            conn.execute_batch(
                "INSERT INTO buckets (name, created_at, region) VALUES ('b', 1, 'us-east-1');
                 INSERT INTO objects (bucket, key, size, etag, last_modified, headers,
                                      checksum_algorithm, checksum, parts)
                 VALUES ('b', 'single', 1, 'e', 1, '{}', 'CRC32', 'AAAAAA==', NULL),
                        ('b', 'multi', 1, 'e-2', 1, '{}', 'SHA1', 'x-2', 2),
                        ('b', 'plain', 1, 'e', 1, '{}', NULL, NULL, NULL);
                 INSERT INTO uploads (id, bucket, key, initiated, headers, checksum_algorithm)
                 VALUES ('u1', 'b', 'a', 1, '{}', 'CRC32C'),
                        ('u2', 'b', 'b', 1, '{}', 'CRC64NVME'),
                        ('u3', 'b', 'c', 1, '{}', NULL);",
            )?;
            Ok::<_, IndexError>(())
        })
        .await
        .unwrap();
        old.close().await;
    }
    let index = ObjectIndex::open(dir.path(), &config()).unwrap();
    for (key, kind) in [
        ("single", Some("FULL_OBJECT")),
        ("multi", Some("COMPOSITE")),
        ("plain", None),
    ] {
        let o = index
            .get_object("b".into(), key.into(), VersionRef::Current)
            .await
            .unwrap();
        assert_eq!(o.checksum_type.as_deref(), kind, "{key}");
    }
    for (key, id, kind) in [
        ("a", "u1", Some("COMPOSITE")),
        ("b", "u2", Some("FULL_OBJECT")),
        ("c", "u3", None),
    ] {
        let u = index
            .upload("b".into(), key.into(), id.into())
            .await
            .unwrap();
        assert_eq!(u.checksum_type.as_deref(), kind, "{id}");
    }
}

/// Migration 5 (`objects.acl`, `uploads.acl`): rows written before it read as the default
/// ACL; ACLs written after it, and the configurations a bucket is created with, survive a
/// reopen.
#[tokio::test]
async fn acls_and_initial_configurations_are_kept_and_old_rows_read_as_private() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("metadata").join("objects.db");
    {
        let old = Db::open("objects", &path, &config(), &MIGRATIONS[..3]).unwrap();
        old.write(|conn| {
            conn.execute(
                "INSERT INTO buckets (name, created_at, region) VALUES ('b', 5, 'us-east-1')",
                [],
            )?;
            conn.execute(
                "INSERT INTO objects (bucket, key, size, etag, last_modified, headers)
                 VALUES ('b', 'old', 0, 'e', 5, '{}')",
                [],
            )?;
            conn.execute(
                "INSERT INTO uploads (id, bucket, key, initiated, headers)
                 VALUES ('u1', 'b', 'up', 5, '{}')",
                [],
            )?;
            Ok::<_, IndexError>(())
        })
        .await
        .unwrap();
        old.close().await;
    }
    let public = Acl {
        grants: vec![Grant {
            grantee: Grantee::AllUsers,
            permission: AclPermission::Read,
        }],
    };
    {
        let index = ObjectIndex::open(dir.path(), &config()).unwrap();
        let old = index
            .get_object("b".into(), "old".into(), VersionRef::Current)
            .await
            .unwrap();
        assert_eq!(old.acl, None);
        let upload = index
            .upload("b".into(), "up".into(), "u1".into())
            .await
            .unwrap();
        assert_eq!(upload.acl, None);
        let old_bucket = index.bucket("b").unwrap();
        assert!(old_bucket.configs.ownership.is_none());
        assert!(old_bucket.configs.public_access_block.is_none());

        index
            .set_object_acl(
                "b".into(),
                "old".into(),
                VersionRef::Current,
                public.clone(),
            )
            .await
            .unwrap();
        let missing = index
            .set_object_acl(
                "b".into(),
                "none".into(),
                VersionRef::Current,
                public.clone(),
            )
            .await;
        assert!(matches!(missing, Err(IndexError::NoSuchKey)));
        let mut with_acl = object("b", "new", "e");
        with_acl.acl = Some(public.clone());
        index
            .put_object(with_acl, WriteCondition::Always)
            .await
            .unwrap();
        let configs = vec![
            BucketConfig::Ownership(OwnershipControls::new(Ownership::ObjectWriter).into()),
            BucketConfig::PublicAccessBlock(
                PublicAccessBlock::new(PublicAccessSettings::ALL_BLOCKED).into(),
            ),
            BucketConfig::Acl(BucketAcl::new(public.clone()).into()),
        ];
        index
            .create_bucket_with("n".into(), "us-east-1".into(), OWNER.into(), configs)
            .await
            .unwrap();
        let up = index
            .create_upload(
                "b".into(),
                "up2".into(),
                ObjectHeaders::default(),
                None,
                Vec::new(),
                Some(public.clone()),
                LockState::default(),
                None,
            )
            .await
            .unwrap();
        assert_eq!(
            index
                .upload("b".into(), "up2".into(), up.id)
                .await
                .unwrap()
                .acl,
            Some(public.clone())
        );
        index.db().close().await;
    }
    let index = ObjectIndex::open(dir.path(), &config()).unwrap();
    for key in ["old", "new"] {
        let object = index
            .get_object("b".into(), key.into(), VersionRef::Current)
            .await
            .unwrap();
        assert_eq!(object.acl.as_ref(), Some(&public), "{key}");
    }
    let created = index.bucket("n").unwrap();
    assert_eq!(
        created.configs.ownership.as_ref().map(|o| o.ownership),
        Some(Ownership::ObjectWriter)
    );
    assert_eq!(
        created
            .configs
            .public_access_block
            .as_ref()
            .map(|b| b.settings),
        Some(PublicAccessSettings::ALL_BLOCKED)
    );
    assert_eq!(created.configs.acl.as_ref().map(|a| &a.acl), Some(&public));
    // A bucket that exists is not created again, nor are its configurations touched.
    let again = index
        .create_bucket_with("n".into(), "us-east-1".into(), OWNER.into(), Vec::new())
        .await;
    assert!(matches!(again, Err(IndexError::BucketExists)));
    assert!(index.bucket("n").unwrap().configs.acl.is_some());
}

/// Numbers handed out to work on other branches and not merged yet (`docs/ARCHITECTURE.md`,
/// "Migrations"): the only gaps allowed, each filled (and removed from here) before a release.
const HANDED_OUT: &[u32] = &[];

/// The migrations that ship are numbered 1, 2, 3… without a gap but the numbers handed out
/// ahead: a database recorded at a version never applies a lower one added later, so a gap
/// must be filled before it lands.
#[test]
fn shipped_migrations_are_numbered_without_gaps() {
    let mut expected = 1;
    for migration in MIGRATIONS {
        while HANDED_OUT.contains(&expected) && migration.version != expected {
            expected += 1;
        }
        assert_eq!(migration.version, expected, "{}", migration.name);
        expected += 1;
        let file = format!("{:04}_{}.sql", migration.version, migration.name);
        assert!(!migration.sql.is_empty(), "{file}");
    }
}

/// Migration 7 copies each stored object's storage class out of its headers document into
/// the column listings read; a document without one (or a damaged one) leaves STANDARD.
#[tokio::test]
async fn the_storage_class_migration_fills_the_column() {
    use crate::db::Db;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("metadata").join("objects.db");
    {
        let old = Db::open("objects", &path, &config(), &MIGRATIONS[..6]).unwrap();
        old.write(|conn| {
            conn.execute_batch(
                r#"INSERT INTO buckets (name, created_at, region) VALUES ('b', 1, 'us-east-1');
                 INSERT INTO objects (bucket, key, size, etag, last_modified, headers)
                 VALUES ('b', 'cold', 1, 'e', 1, '{"storage_class":"GLACIER"}'),
                        ('b', 'plain', 1, 'e', 1, '{}'),
                        ('b', 'torn', 1, 'e', 1, '{"storage_class":');"#,
            )?;
            Ok::<_, IndexError>(())
        })
        .await
        .unwrap();
        old.close().await;
    }
    let index = ObjectIndex::open(dir.path(), &config()).unwrap();
    let q = ListQuery {
        prefix: String::new(),
        delimiter: None,
        cursor: Cursor::Start,
        max: 10,
    };
    let listed = index.list_objects("b".into(), q).await.unwrap();
    let classes: Vec<(&str, Option<&str>)> = listed
        .objects
        .iter()
        .map(|o| (o.key.as_str(), o.storage_class.as_deref()))
        .collect();
    assert_eq!(
        classes,
        [("cold", Some("GLACIER")), ("plain", None), ("torn", None)]
    );
}

/// A completed upload's segments keep the part numbers they were uploaded as (1 and 3), read
/// back with the object; a segment stored before migration 8 has none, and its number is its
/// position.
#[tokio::test]
async fn segments_keep_their_part_numbers() {
    use crate::db::Db;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("metadata").join("objects.db");
    {
        let old = Db::open("objects", &path, &config(), &MIGRATIONS[..7]).unwrap();
        old.write(|conn| {
            conn.execute_batch(&format!(
                "INSERT INTO buckets (name, created_at, region) VALUES ('b', 1, 'us-east-1');
                 INSERT INTO objects (id, bucket, key, size, etag, last_modified, headers, parts)
                 VALUES (1, 'b', 'old', 2, 'e-2', 1, '{{}}', 2);
                 INSERT INTO segments (object_id, idx, blob, size, etag)
                 VALUES (1, 0, '{0}', 1, 'a'), (1, 1, '{0}', 1, 'b');",
                blob().as_str()
            ))?;
            Ok::<_, IndexError>(())
        })
        .await
        .unwrap();
        old.close().await;
    }
    let index = ObjectIndex::open(dir.path(), &config()).unwrap();
    let old = index
        .get_object("b".into(), "old".into(), VersionRef::Current)
        .await
        .unwrap();
    let numbers: Vec<(Option<u32>, u32)> = old
        .segments
        .iter()
        .enumerate()
        .map(|(idx, s)| (s.part_number, s.number(idx)))
        .collect();
    assert_eq!(numbers, [(None, 1), (None, 2)]);

    let up = index
        .create_upload(
            "b".into(),
            "new".into(),
            ObjectHeaders::default(),
            None,
            Vec::new(),
            None,
            LockState::default(),
            None,
        )
        .await
        .unwrap();
    for (n, size, etag) in [(1, MIN, "e1"), (2, MIN, "e2"), (3, 10, "e3")] {
        index
            .put_part(
                "b".into(),
                "new".into(),
                up.id.clone(),
                part(n, size, etag),
                Stored::Blob(blob()),
            )
            .await
            .unwrap();
    }
    let done = |_: &Upload, _: &[Part]| {
        Ok::<_, IndexError>(multipart::Completion {
            etag: "m-2".into(),
            checksum: None,
            checksum_type: None,
        })
    };
    let chosen = vec![(1, "e1".to_owned()), (3, "e3".to_owned())];
    index
        .complete_upload(
            "b".into(),
            "new".into(),
            up.id,
            chosen,
            WriteCondition::Always,
            done,
        )
        .await
        .unwrap();
    let new = index
        .get_object("b".into(), "new".into(), VersionRef::Current)
        .await
        .unwrap();
    let numbers: Vec<(Option<u32>, u32)> = new
        .segments
        .iter()
        .enumerate()
        .map(|(idx, s)| (s.part_number, s.number(idx)))
        .collect();
    assert_eq!(numbers, [(Some(1), 1), (Some(3), 3)]);
}

/// The object listings' seeks read the covering index of current versions alone: no table
/// lookup per key, no sort, whatever the bucket's history.
#[tokio::test]
async fn listing_seeks_read_only_the_covering_index() {
    let (_dir, index) = index_with(&["a", "b"]).await;
    let plans = index
        .db()
        .read(|conn| {
            let mut plans = Vec::new();
            for sql in [super::list::FROM_KEY, super::list::AFTER_KEY] {
                let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))?;
                let rows = stmt.query_map(("b", "a", 5), |r| r.get::<_, String>(3))?;
                plans.push(rows.collect::<Result<Vec<_>, _>>()?.join("; "));
            }
            Ok::<_, IndexError>(plans)
        })
        .await
        .unwrap();
    for plan in plans {
        assert!(
            plan.contains("USING COVERING INDEX objects_listed"),
            "{plan}"
        );
        assert!(!plan.contains("TEMP B-TREE"), "{plan}");
    }
}

/// Migration 10 keeps every segment and part where it was (in its blob) and lets new rows
/// hold their bytes instead; a row with both, or neither, is refused by the tables' CHECK.
#[tokio::test]
async fn the_inline_migration_keeps_blobs_and_checks_rows() {
    use crate::db::Db;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("metadata").join("objects.db");
    let id = blob();
    let stored = id.clone();
    {
        let old = Db::open("objects", &path, &config(), &MIGRATIONS[..9]).unwrap();
        old.write(move |conn| {
            conn.execute_batch(&format!(
                "INSERT INTO buckets (name, created_at, region) VALUES ('b', 1, 'us-east-1');
                 INSERT INTO objects (id, bucket, key, version, null_version, size, etag, last_modified, headers)
                 VALUES (1, 'b', 'old', '0', 1, 1, 'e', 1, '{{}}');
                 INSERT INTO segments (object_id, idx, blob, size) VALUES (1, 0, '{0}', 1);
                 INSERT INTO uploads (id, bucket, key, initiated, headers) VALUES ('u', 'b', 'up', 1, '{{}}');
                 INSERT INTO parts (upload_id, number, blob, size, etag, last_modified)
                 VALUES ('u', 4, '{0}', 3, 'p', 1);",
                stored.as_str()
            ))?;
            Ok::<_, IndexError>(())
        })
        .await
        .unwrap();
        old.close().await;
    }
    let index = ObjectIndex::open(dir.path(), &config()).unwrap();
    let old = index
        .get_object("b".into(), "old".into(), VersionRef::Current)
        .await
        .unwrap();
    assert_eq!(old.segments[0].stored, Stored::Blob(id.clone()));
    let (_, parts, _) = index
        .list_parts("b".into(), "up".into(), "u".into(), 0, 10)
        .await
        .unwrap();
    assert_eq!(parts[0].blob, Some(id.clone()));
    let known = index.referenced_blobs(std::slice::from_ref(&id)).unwrap();
    assert!(known.contains(&id));
    for (blob, data) in [("NULL", "NULL"), ("'x'", "x'00'")] {
        let refused = index
            .db()
            .write(move |conn| {
                conn.execute_batch(&format!(
                    "INSERT INTO segments (object_id, idx, blob, size, data) VALUES (1, 9, {blob}, 1, {data})"
                ))?;
                Ok::<_, IndexError>(())
            })
            .await;
        assert!(refused.is_err(), "blob {blob}, data {data}");
    }
}

/// A metadata read leaves inline bytes in the index (`Unread`), a read with bytes brings them;
/// writing an object whose bytes were not read is refused rather than stored empty.
#[tokio::test]
async fn metadata_reads_leave_inline_bytes_unread() {
    let (_dir, index) = index_with(&[]).await;
    let mut small = object("b", "small", "e");
    small.segments[0].stored = Stored::Inline(bytes::Bytes::from_static(b"x"));
    index
        .put_object(small, WriteCondition::Always)
        .await
        .unwrap();
    let read = |bytes: bool| {
        let index = index.clone();
        async move {
            let (b, k, v) = ("b".to_owned(), "small".to_owned(), VersionRef::Current);
            match bytes {
                true => index.get_object_bytes(b, k, v).await,
                false => index.get_object(b, k, v).await,
            }
            .unwrap()
        }
    };
    let meta = read(false).await;
    assert_eq!(meta.segments[0].stored, Stored::Unread);
    let full = read(true).await;
    assert_eq!(
        full.segments[0].stored,
        Stored::Inline(bytes::Bytes::from_static(b"x"))
    );
    assert!(index
        .put_object(meta, WriteCondition::Always)
        .await
        .is_err());
    assert_eq!(read(true).await.segments[0].stored, full.segments[0].stored);
}
