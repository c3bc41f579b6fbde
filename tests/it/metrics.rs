//! `/metrics` on the admin listener: storage per bucket kept exact by every write path
//! (compared with a count from the index after each), the exposition text valid (every sample
//! line parses, every family has HELP and TYPE once), and every metric the Grafana dashboard
//! (`deploy/grafana/labstore.json`) queries present on a live server.

use crate::common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant};

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    BucketLifecycleConfiguration, BucketVersioningStatus, CompletedMultipartUpload, CompletedPart,
    ExpirationStatus, LifecycleExpiration, LifecycleRule, LifecycleRuleFilter,
    VersioningConfiguration,
};
use aws_sdk_s3::Client;
use common::TestServer;
use labstore::db::DbError;
use labstore::objects::BucketUsage;

/// The bucket's usage counted from the index's rows, as the triggers must keep it.
fn counted(server: &TestServer, bucket: &str) -> BucketUsage {
    let bucket = bucket.to_owned();
    server
        .block_on(server.state().objects.db().read(move |conn| {
            let n = |sql: &str| -> Result<u64, DbError> {
                let v: i64 = conn.query_row(sql, [&bucket], |r| r.get(0))?;
                Ok(u64::try_from(v).unwrap())
            };
            Ok::<_, DbError>(BucketUsage {
                objects: n("SELECT count(*) FROM objects WHERE bucket = ?1 AND current = 1")?,
                bytes: n("SELECT CAST(coalesce(sum(size), 0) AS BIGINT) FROM objects WHERE bucket = ?1 AND current = 1")?,
                noncurrent: n("SELECT count(*) FROM objects WHERE bucket = ?1 AND current = 0 AND delete_marker = 0")?,
                noncurrent_bytes: n("SELECT CAST(coalesce(sum(size), 0) AS BIGINT) FROM objects WHERE bucket = ?1 AND current = 0 AND delete_marker = 0")?,
                delete_markers: n("SELECT count(*) FROM objects WHERE bucket = ?1 AND delete_marker = 1")?,
                uploads: n("SELECT count(*) FROM uploads WHERE bucket = ?1")?,
            })
        }))
        .unwrap()
}

/// The bucket's usage as `/metrics` shows it; `None` when no family names the bucket.
fn scraped(server: &TestServer, bucket: &str) -> Option<BucketUsage> {
    let text = common::get(server.admin, "/metrics").body;
    let value = |family: &str| -> Option<u64> {
        let prefix = format!("{family}{{bucket=\"{bucket}\"}} ");
        text.lines()
            .find_map(|l| l.strip_prefix(prefix.as_str()))
            .map(|v| v.parse().unwrap())
    };
    Some(BucketUsage {
        objects: value("labstore_bucket_objects")?,
        bytes: value("labstore_bucket_bytes")?,
        noncurrent: value("labstore_bucket_noncurrent_versions")?,
        noncurrent_bytes: value("labstore_bucket_noncurrent_bytes")?,
        delete_markers: value("labstore_bucket_delete_markers")?,
        uploads: value("labstore_bucket_multipart_uploads")?,
    })
}

/// The kept usage equals the index's count, in memory and in `/metrics`, and is `expected`.
#[track_caller]
fn assert_usage(server: &TestServer, bucket: &str, expected: BucketUsage) {
    let counted = counted(server, bucket);
    assert_eq!(
        counted, expected,
        "the index of {bucket} is not as the test expects"
    );
    assert_eq!(
        server.state().objects.storage_stats().usage(bucket),
        Some(counted),
        "kept usage of {bucket}"
    );
    assert_eq!(
        scraped(server, bucket),
        Some(counted),
        "/metrics of {bucket}"
    );
}

fn usage(objects: u64, bytes: u64, noncurrent: u64, noncurrent_bytes: u64) -> BucketUsage {
    BucketUsage {
        objects,
        bytes,
        noncurrent,
        noncurrent_bytes,
        ..BucketUsage::default()
    }
}

async fn put(s3: &Client, bucket: &str, key: &str, len: usize) -> Option<String> {
    s3.put_object()
        .bucket(bucket)
        .key(key)
        .body(ByteStream::from(common::pattern(len, 7)))
        .send()
        .await
        .unwrap()
        .version_id()
        .map(str::to_owned)
}

async fn delete(s3: &Client, bucket: &str, key: &str, version: Option<&str>) {
    s3.delete_object()
        .bucket(bucket)
        .key(key)
        .set_version_id(version.map(str::to_owned))
        .send()
        .await
        .unwrap();
}

async fn versioning(s3: &Client, bucket: &str, status: BucketVersioningStatus) {
    s3.put_bucket_versioning()
        .bucket(bucket)
        .versioning_configuration(VersioningConfiguration::builder().status(status).build())
        .send()
        .await
        .unwrap();
}

/// 100 KiB: above the default `inline_max` (64 KiB), so in a blob file.
const LARGE: usize = 100 * 1024;

#[test]
fn inline_objects_count_as_they_are_written_replaced_and_deleted() {
    let server = TestServer::start();
    let s3 = server.block_on(server.with_bucket("inline"));
    assert_usage(&server, "inline", BucketUsage::default());
    server.block_on(put(&s3, "inline", "a", 10));
    server.block_on(put(&s3, "inline", "b", 20));
    assert_usage(&server, "inline", usage(2, 30, 0, 0));
    // An unversioned overwrite replaces the row: no noncurrent version.
    server.block_on(put(&s3, "inline", "a", 5));
    assert_usage(&server, "inline", usage(2, 25, 0, 0));
    server.block_on(delete(&s3, "inline", "a", None));
    assert_usage(&server, "inline", usage(1, 20, 0, 0));
    // Deleting what is not there changes nothing.
    server.block_on(delete(&s3, "inline", "a", None));
    assert_usage(&server, "inline", usage(1, 20, 0, 0));
}

#[test]
fn blob_objects_and_copies_count_their_bytes() {
    let server = TestServer::start();
    let s3 = server.block_on(server.with_bucket("blobs"));
    server.block_on(server.with_bucket("copies"));
    server.block_on(put(&s3, "blobs", "big", LARGE));
    assert_usage(&server, "blobs", usage(1, LARGE as u64, 0, 0));
    server.block_on(async {
        s3.copy_object()
            .bucket("copies")
            .key("copy")
            .copy_source("blobs/big")
            .send()
            .await
            .unwrap();
        // A copy onto itself (a metadata change) keeps one object.
        s3.copy_object()
            .bucket("blobs")
            .key("big")
            .copy_source("blobs/big")
            .metadata_directive(aws_sdk_s3::types::MetadataDirective::Replace)
            .content_type("text/plain")
            .send()
            .await
            .unwrap();
    });
    assert_usage(&server, "blobs", usage(1, LARGE as u64, 0, 0));
    assert_usage(&server, "copies", usage(1, LARGE as u64, 0, 0));
}

#[test]
fn versions_and_delete_markers_count_as_noncurrent() {
    let server = TestServer::start();
    let s3 = server.block_on(server.with_bucket("versioned"));
    let b = "versioned";
    server.block_on(versioning(&s3, b, BucketVersioningStatus::Enabled));
    let v1 = server.block_on(put(&s3, b, "k", 10)).unwrap();
    let v2 = server.block_on(put(&s3, b, "k", 30)).unwrap();
    assert_usage(&server, b, usage(1, 30, 1, 10));
    // A delete marker: the current version becomes noncurrent.
    server.block_on(delete(&s3, b, "k", None));
    let marker = BucketUsage {
        delete_markers: 1,
        ..usage(0, 0, 2, 40)
    };
    assert_usage(&server, b, marker);
    // Removing the marker brings v2 back as current.
    let listed =
        server.block_on(async { s3.list_object_versions().bucket(b).send().await.unwrap() });
    let marker_id = listed.delete_markers()[0].version_id().unwrap().to_owned();
    server.block_on(delete(&s3, b, "k", Some(&marker_id)));
    assert_usage(&server, b, usage(1, 30, 1, 10));
    // Removing a noncurrent version, then the current one (v1 becomes current).
    server.block_on(delete(&s3, b, "k", Some(&v1)));
    assert_usage(&server, b, usage(1, 30, 0, 0));
    server.block_on(put(&s3, b, "k", 7));
    server.block_on(delete(&s3, b, "k", Some(&v2)));
    assert_usage(&server, b, usage(1, 7, 0, 0));
    // Suspended: a write replaces the null version; the versioned one stays noncurrent.
    server.block_on(versioning(&s3, b, BucketVersioningStatus::Suspended));
    server.block_on(put(&s3, b, "k", 3));
    server.block_on(put(&s3, b, "k", 4));
    assert_usage(&server, b, usage(1, 4, 1, 7));
    // A delete under Suspended: the null version becomes a null delete marker.
    server.block_on(delete(&s3, b, "k", None));
    let suspended = BucketUsage {
        delete_markers: 1,
        ..usage(0, 0, 1, 7)
    };
    assert_usage(&server, b, suspended);
}

#[test]
fn multipart_uploads_count_until_completed_or_aborted() {
    let server = TestServer::start();
    let s3 = server.block_on(server.with_bucket("parts"));
    let b = "parts";
    let (done, aborted) = server.block_on(async {
        let done = s3
            .create_multipart_upload()
            .bucket(b)
            .key("done")
            .send()
            .await
            .unwrap();
        let aborted = s3
            .create_multipart_upload()
            .bucket(b)
            .key("gone")
            .send()
            .await
            .unwrap();
        (
            done.upload_id().unwrap().to_owned(),
            aborted.upload_id().unwrap().to_owned(),
        )
    });
    assert_usage(
        &server,
        b,
        BucketUsage {
            uploads: 2,
            ..BucketUsage::default()
        },
    );
    server.block_on(async {
        let part = s3
            .upload_part()
            .bucket(b)
            .key("done")
            .upload_id(&done)
            .part_number(1)
            .body(ByteStream::from(common::pattern(1000, 1)))
            .send()
            .await
            .unwrap();
        s3.complete_multipart_upload()
            .bucket(b)
            .key("done")
            .upload_id(&done)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .parts(
                        CompletedPart::builder()
                            .part_number(1)
                            .e_tag(part.e_tag().unwrap())
                            .build(),
                    )
                    .build(),
            )
            .send()
            .await
            .unwrap();
    });
    assert_usage(
        &server,
        b,
        BucketUsage {
            uploads: 1,
            ..usage(1, 1000, 0, 0)
        },
    );
    server.block_on(async {
        s3.abort_multipart_upload()
            .bucket(b)
            .key("gone")
            .upload_id(&aborted)
            .send()
            .await
            .unwrap();
    });
    assert_usage(&server, b, usage(1, 1000, 0, 0));
}

#[test]
fn deleting_a_bucket_removes_its_series_and_a_new_one_starts_at_zero() {
    let server = TestServer::start();
    let s3 = server.block_on(server.with_bucket("short-lived"));
    let b = "short-lived";
    server.block_on(async {
        put(&s3, b, "k", 10).await;
        s3.create_multipart_upload()
            .bucket(b)
            .key("u")
            .send()
            .await
            .unwrap();
        delete(&s3, b, "k", None).await;
    });
    assert_usage(
        &server,
        b,
        BucketUsage {
            uploads: 1,
            ..BucketUsage::default()
        },
    );
    // DeleteBucket aborts the upload in progress in its own transaction.
    server.block_on(async { s3.delete_bucket().bucket(b).send().await.unwrap() });
    assert_eq!(server.state().objects.storage_stats().usage(b), None);
    assert_eq!(scraped(&server, b), None);
    server.block_on(async { s3.create_bucket().bucket(b).send().await.unwrap() });
    assert_usage(&server, b, BucketUsage::default());
}

#[test]
fn lifecycle_expiry_counts_as_a_delete() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_with(
        dir.path(),
        &[
            ("LABSTORE_BACKEND_S3_LIFECYCLE_DAY_SECONDS", "1"),
            ("LABSTORE_BACKEND_S3_LIFECYCLE_INTERVAL_MS", "50"),
        ],
    )
    .unwrap();
    let s3 = server.block_on(server.with_bucket("aging"));
    let b = "aging";
    server.block_on(async {
        put(&s3, b, "old/a", 10).await;
        put(&s3, b, "old/b", LARGE).await;
        put(&s3, b, "keep", 5).await;
    });
    assert_usage(&server, b, usage(3, 15 + LARGE as u64, 0, 0));
    server.block_on(async {
        s3.put_bucket_lifecycle_configuration()
            .bucket(b)
            .lifecycle_configuration(
                BucketLifecycleConfiguration::builder()
                    .rules(
                        LifecycleRule::builder()
                            .id("old")
                            .status(ExpirationStatus::Enabled)
                            .filter(LifecycleRuleFilter::builder().prefix("old/").build())
                            .expiration(LifecycleExpiration::builder().days(1).build())
                            .build()
                            .unwrap(),
                    )
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .unwrap();
    });
    let deadline = Instant::now() + Duration::from_secs(15);
    while counted(&server, b).objects > 1 {
        assert!(Instant::now() < deadline, "lifecycle never expired old/*");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_usage(&server, b, usage(1, 5, 0, 0));
}

/// The object index of an existing data directory (written before migration 0013) is
/// counted by the migration, and kept from there.
#[test]
fn the_migration_counts_what_the_index_already_holds() {
    if crate::common::postgres::sqlite_only("SQLite's migration 13 counts what the index held; PostgreSQL's schema starts with the counts") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let b = "existing";
    {
        let server = TestServer::start_with(dir.path(), &[]).unwrap();
        let s3 = server.block_on(server.with_bucket(b));
        server.block_on(async {
            versioning(&s3, b, BucketVersioningStatus::Enabled).await;
            put(&s3, b, "k", 10).await;
            put(&s3, b, "k", 20).await;
            put(&s3, b, "j", LARGE).await;
            delete(&s3, b, "j", None).await;
            s3.create_multipart_upload()
                .bucket(b)
                .key("u")
                .send()
                .await
                .unwrap();
        });
        server.stop();
    }
    // Back to schema 12: no table, no triggers; the rows stay. (The later migrations' tables
    // and columns go too, so that they apply again after it.)
    {
        let conn = rusqlite::Connection::open(dir.path().join("data/metadata/objects.db")).unwrap();
        conn.execute_batch(
            "DROP TRIGGER bucket_stats_bucket; DROP TRIGGER bucket_stats_object_in;
             DROP TRIGGER bucket_stats_object_out; DROP TRIGGER bucket_stats_object_change;
             DROP TRIGGER bucket_stats_upload_in; DROP TRIGGER bucket_stats_upload_out;
             DROP TABLE bucket_stats;
             DROP TABLE backup_holds; DROP TABLE deferred_blobs;
             ALTER TABLE segments DROP COLUMN damaged; ALTER TABLE parts DROP COLUMN damaged;
             DROP TABLE scrub_progress;
             PRAGMA user_version = 12;",
        )
        .unwrap();
    }
    let server = TestServer::start_with(dir.path(), &[]).unwrap();
    let expected = BucketUsage {
        delete_markers: 1,
        uploads: 1,
        ..usage(1, 20, 2, 10 + LARGE as u64)
    };
    assert_usage(&server, b, expected);
    let s3 = server.root_s3();
    server.block_on(put(&s3, b, "k", 1));
    assert_usage(
        &server,
        b,
        BucketUsage {
            objects: 1,
            bytes: 1,
            noncurrent: 3,
            noncurrent_bytes: 30 + LARGE as u64,
            ..expected
        },
    );
}

/// One parsed sample line: its metric name, labels and value.
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
}

/// Parses a sample line of the text exposition format: `name{l="v",...} value`, with label
/// values escaped (`\\`, `\"`, `\n`), or `name value`.
fn parse_sample(line: &str) -> Result<Sample, String> {
    let name_end = line.find(['{', ' ']).ok_or("no value")?;
    let name = &line[..name_end];
    let valid_name = |n: &str| {
        !n.is_empty()
            && n.chars().enumerate().all(|(i, c)| {
                c.is_ascii_alphabetic() || c == '_' || c == ':' || (i > 0 && c.is_ascii_digit())
            })
    };
    if !valid_name(name) {
        return Err(format!("bad metric name {name:?}"));
    }
    let mut rest = &line[name_end..];
    let mut labels = BTreeMap::new();
    if let Some(after) = rest.strip_prefix('{') {
        let mut chars = after.char_indices().peekable();
        let mut end = None;
        loop {
            let start = match chars.peek() {
                Some((_, '}')) => {
                    end = Some(chars.next().unwrap().0);
                    break;
                }
                Some((i, _)) => *i,
                None => break,
            };
            let eq = after[start..].find('=').ok_or("label without =")? + start;
            let label = &after[start..eq];
            if !valid_name(label) || label.contains(':') {
                return Err(format!("bad label name {label:?}"));
            }
            if after.as_bytes().get(eq + 1) != Some(&b'"') {
                return Err("label value not quoted".into());
            }
            while chars.peek().is_some_and(|(i, _)| *i <= eq + 1) {
                chars.next();
            }
            let mut value = String::new();
            loop {
                match chars.next() {
                    Some((_, '\\')) => match chars.next() {
                        Some((_, 'n')) => value.push('\n'),
                        Some((_, c @ ('\\' | '"'))) => value.push(c),
                        _ => return Err("bad escape".into()),
                    },
                    Some((_, '"')) => break,
                    Some((_, c)) => value.push(c),
                    None => return Err("unterminated label value".into()),
                }
            }
            if labels.insert(label.to_owned(), value).is_some() {
                return Err(format!("label {label} twice"));
            }
            match chars.next() {
                Some((_, ',')) => {}
                Some((i, '}')) => {
                    end = Some(i);
                    break;
                }
                _ => return Err("expected , or }".into()),
            }
        }
        let end = end.ok_or("unterminated labels")?;
        rest = &after[end + 1..];
    }
    let value = rest.strip_prefix(' ').ok_or("no space before the value")?;
    let value = value.split(' ').next().unwrap_or_default();
    match value {
        "+Inf" | "-Inf" | "NaN" => {}
        v => {
            v.parse::<f64>().map_err(|_| format!("bad value {v:?}"))?;
        }
    }
    Ok(Sample {
        name: name.to_owned(),
        labels,
    })
}

/// Checks the whole text; answers every sample's family by name (histogram and summary
/// samples under their family's name).
fn check_exposition(text: &str) -> BTreeMap<String, String> {
    let mut families: BTreeMap<String, String> = BTreeMap::new();
    let mut helped: BTreeSet<String> = BTreeSet::new();
    let mut finished: BTreeSet<String> = BTreeSet::new();
    let mut current: Option<String> = None;
    let mut series: BTreeSet<String> = BTreeSet::new();
    assert!(text.ends_with('\n'), "the text ends with a newline");
    for line in text.lines() {
        if let Some(help) = line.strip_prefix("# HELP ") {
            let (name, doc) = help.split_once(' ').expect("HELP has a name and text");
            assert!(!doc.trim().is_empty(), "{line}");
            assert!(helped.insert(name.to_owned()), "HELP twice for {name}");
            continue;
        }
        if let Some(ty) = line.strip_prefix("# TYPE ") {
            let (name, kind) = ty.split_once(' ').expect("TYPE has a name and a type");
            assert!(
                ["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind),
                "{line}"
            );
            assert!(helped.contains(name), "TYPE before HELP for {name}");
            assert!(
                families.insert(name.to_owned(), kind.to_owned()).is_none(),
                "TYPE twice for {name}"
            );
            if let Some(previous) = current.replace(name.to_owned()) {
                finished.insert(previous);
            }
            continue;
        }
        assert!(
            !line.starts_with('#') && !line.is_empty(),
            "stray line {line:?}"
        );
        let sample = parse_sample(line).unwrap_or_else(|e| panic!("{e}: {line:?}"));
        let family = current
            .as_deref()
            .unwrap_or_else(|| panic!("{line} before any TYPE"));
        let kind = &families[family];
        let allowed: Vec<String> = match kind.as_str() {
            "histogram" => ["_bucket", "_sum", "_count"]
                .iter()
                .map(|s| format!("{family}{s}"))
                .collect(),
            _ => vec![family.to_owned()],
        };
        assert!(
            allowed.contains(&sample.name),
            "{} is not of the family being written ({family}, {kind}): samples of a family are together",
            sample.name
        );
        if kind == "histogram" && sample.name.ends_with("_bucket") {
            assert!(sample.labels.contains_key("le"), "{line}");
        }
        if kind == "counter" {
            assert!(
                family.ends_with("_total"),
                "counter {family} without _total"
            );
        }
        let key = format!("{}{:?}", sample.name, sample.labels);
        assert!(series.insert(key), "series twice: {line}");
    }
    assert_eq!(
        helped,
        families.keys().cloned().collect::<BTreeSet<_>>(),
        "every HELP has its TYPE"
    );
    families
}

/// Makes one request of each family, so that every series the dashboard reads exists.
fn exercise(server: &TestServer) {
    let s3 = server.block_on(server.with_bucket("exercise"));
    server.block_on(async {
        put(&s3, "exercise", "k", 10).await;
        s3.get_object()
            .bucket("exercise")
            .key("k")
            .send()
            .await
            .unwrap();
        let _ = s3
            .get_object()
            .bucket("exercise")
            .key("missing")
            .send()
            .await;
        s3.list_objects_v2()
            .bucket("exercise")
            .send()
            .await
            .unwrap();
        // An authentication failure, and an authorization denial.
        let stranger = common::s3_client_as(server, "AKIDNOSUCHKEY0000000", "secret");
        let _ = stranger.list_buckets().send().await;
        let user = server
            .with_user(&common::allow("s3:ListAllMyBuckets"))
            .await;
        let _ = user
            .s3
            .get_object()
            .bucket("exercise")
            .key("k")
            .send()
            .await;
        server.root_iam().list_users().send().await.unwrap();
    });
}

#[test]
fn the_exposition_text_is_valid_and_names_every_family_once() {
    let server = TestServer::start();
    exercise(&server);
    let response = common::get(server.admin, "/metrics");
    assert_eq!(response.status, 200);
    assert_eq!(
        response.header("content-type"),
        Some("text/plain; version=0.0.4")
    );
    let families = check_exposition(&response.body);
    for (family, kind) in [
        ("labstore_requests_total", "counter"),
        ("labstore_request_duration_seconds", "histogram"),
        ("labstore_bucket_objects", "gauge"),
        ("labstore_db_commit_duration_seconds", "histogram"),
        ("labstore_db_writer_batch_tasks", "histogram"),
        ("labstore_db_read_pool_wait_seconds", "histogram"),
        ("labstore_db_writer_queue_depth", "gauge"),
        ("labstore_db_busy_total", "counter"),
        ("labstore_blocking_tasks", "gauge"),
        ("labstore_auth_failures_total", "counter"),
        ("labstore_authz_denials_total", "counter"),
        ("labstore_connections_open", "gauge"),
        ("process_cpu_seconds_total", "counter"),
        ("process_resident_memory_bytes", "gauge"),
        ("process_open_fds", "gauge"),
        ("process_max_fds", "gauge"),
        ("process_start_time_seconds", "gauge"),
        ("labstore_build_info", "gauge"),
    ] {
        assert_eq!(
            families.get(family).map(String::as_str),
            Some(kind),
            "{family}"
        );
    }
    let text = &response.body;
    for line in [
        format!(
            "labstore_build_info{{version=\"{}\"}} 1",
            env!("CARGO_PKG_VERSION")
        ),
        "labstore_auth_failures_total{listener=\"s3\",code=\"InvalidAccessKeyId\"} 1".to_owned(),
        "labstore_authz_denials_total{listener=\"s3\",operation=\"GetObject\"} 1".to_owned(),
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "{line} missing from\n{text}"
        );
    }
    // Every write so far was committed by the objects writer: its batches are counted.
    let commits = text
        .lines()
        .find_map(|l| l.strip_prefix("labstore_db_commit_duration_seconds_count{db=\"objects\"} "))
        .map(|v| v.parse::<u64>().unwrap())
        .unwrap();
    assert!(commits >= 2, "{commits}");
}

#[test]
fn the_parser_refuses_what_is_not_exposition_text() {
    for bad in [
        "1abc 3",
        "name{l=\"v\" 3",
        "name{l=v} 3",
        "name{l=\"v\",l=\"w\"} 3",
        "name 3x",
        "name{l=\"v\\q\"} 3",
        "name",
    ] {
        assert!(parse_sample(bad).is_err(), "{bad} was accepted");
    }
    let good = parse_sample("a_b:c{x=\"1\\\"2\",le=\"+Inf\"} 7").unwrap();
    assert_eq!(good.name, "a_b:c");
    assert_eq!(good.labels["x"], "1\"2");
}

/// Every metric name in a PromQL expression: identifiers that are not functions, keywords,
/// label names (inside `{}` or the list of `by (...)`/`without (...)`), nor label values (in
/// quotes) or durations (`[5m]`). Histogram series (`_bucket`, `_sum`, `_count`) are
/// answered under their family's name when `histograms` names it.
fn metric_names(expr: &str, histograms: &BTreeSet<String>) -> BTreeSet<String> {
    const FUNCTIONS: &[&str] = &[
        "sum",
        "rate",
        "irate",
        "increase",
        "histogram_quantile",
        "topk",
        "bottomk",
        "avg",
        "max",
        "min",
        "count",
        "delta",
        "deriv",
        "by",
        "without",
        "on",
        "ignoring",
        "group_left",
        "group_right",
        "and",
        "or",
        "unless",
        "clamp_min",
        "clamp_max",
        "abs",
        "label_replace",
        "time",
        "vector",
        "scalar",
        "offset",
        "bool",
        "max_over_time",
        "avg_over_time",
        "changes",
        "resets",
    ];
    let bytes = expr.as_bytes();
    let mut names = BTreeSet::new();
    let mut i = 0;
    let mut braces = 0;
    let mut grouping = false;
    while i < bytes.len() {
        let c = bytes[i] as char;
        match c {
            '"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            '[' => {
                while i < bytes.len() && bytes[i] != b']' {
                    i += 1;
                }
                i += 1;
            }
            '{' => {
                braces += 1;
                i += 1;
            }
            '}' => {
                braces -= 1;
                i += 1;
            }
            ')' => {
                grouping = false;
                i += 1;
            }
            c if c.is_ascii_alphabetic() || c == '_' || c == ':' => {
                let start = i;
                while i < bytes.len()
                    && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_' || bytes[i] == b':')
                {
                    i += 1;
                }
                let word = &expr[start..i];
                if word == "by" || word == "without" || word == "on" || word == "ignoring" {
                    grouping = true;
                } else if braces == 0
                    && !grouping
                    && !FUNCTIONS.contains(&word)
                    && !word.starts_with('$')
                {
                    names.insert(word.to_owned());
                }
            }
            c if c.is_ascii_digit() => {
                // A number, or a duration unit after it (5m).
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'.') {
                    i += 1;
                }
            }
            '$' => {
                // A Grafana variable: $__rate_interval, ${bucket}.
                i += 1;
                while i < bytes.len()
                    && (bytes[i].is_ascii_alphanumeric()
                        || bytes[i] == b'_'
                        || bytes[i] == b'{'
                        || bytes[i] == b'}')
                {
                    i += 1;
                }
            }
            _ => i += 1,
        }
    }
    names
        .into_iter()
        .map(|n| {
            for suffix in ["_bucket", "_sum", "_count"] {
                if let Some(family) = n.strip_suffix(suffix) {
                    if histograms.contains(family) {
                        return family.to_owned();
                    }
                }
            }
            n
        })
        .collect()
}

#[test]
fn promql_names_are_told_from_functions_labels_and_values() {
    let histograms: BTreeSet<String> = ["req_seconds".to_owned()].into();
    let names = metric_names(
        r#"histogram_quantile(0.99, sum by (le, operation) (rate(req_seconds_bucket{listener="s3", operation=~"Get.*"}[$__rate_interval]))) / on (db) other_total offset 5m"#,
        &histograms,
    );
    assert_eq!(
        names,
        ["other_total".to_owned(), "req_seconds".to_owned()].into()
    );
}

/// Every `expr` in the dashboard's panels (rows' panels included), and the selector of each
/// templating variable's `label_values(selector, label)`.
fn expressions(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            if map.get("type").and_then(|t| t.as_str()) == Some("query") {
                if let Some(definition) = map.get("definition").and_then(|d| d.as_str()) {
                    let inner = definition
                        .strip_prefix("label_values(")
                        .and_then(|d| d.rsplit_once(','))
                        .map(|(selector, _)| selector)
                        .unwrap_or_else(|| {
                            panic!("a variable query of another kind: {definition}")
                        });
                    out.push(inner.to_owned());
                }
                return;
            }
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("expr", serde_json::Value::String(e)) if !e.is_empty() => out.push(e.clone()),
                    _ => expressions(v, out),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| expressions(v, out)),
        _ => {}
    }
}

fn dashboard(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn every_metric_the_dashboard_queries_is_served() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let board = dashboard(&root.join("deploy/grafana/labstore.json"));
    let mut exprs = Vec::new();
    expressions(&board, &mut exprs);
    assert!(exprs.len() >= 10, "{} queries", exprs.len());
    let server = TestServer::start();
    exercise(&server);
    let text = common::get(server.admin, "/metrics").body;
    let families = check_exposition(&text);
    let histograms: BTreeSet<String> = families
        .iter()
        .filter(|(_, kind)| *kind == "histogram")
        .map(|(name, _)| name.clone())
        .collect();
    let present: BTreeSet<String> = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| parse_sample(l).unwrap().name)
        .collect();
    let mut named = BTreeSet::new();
    for expr in &exprs {
        let names = metric_names(expr, &histograms);
        assert!(!names.is_empty(), "no metric in {expr}");
        for name in names {
            // A histogram's family has samples under its suffixed names only.
            let served = present.contains(&name) || histograms.contains(&name);
            assert!(served, "{name} (in {expr}) is not in /metrics:\n{text}");
            named.insert(name);
        }
    }
    // The dashboard covers what the issue asks for.
    for family in [
        "labstore_requests_total",
        "labstore_request_duration_seconds",
        "labstore_response_body_bytes_total",
        "labstore_bucket_bytes",
        "labstore_db_commit_duration_seconds",
        "labstore_auth_failures_total",
        "labstore_authz_denials_total",
    ] {
        assert!(named.contains(family), "the dashboard never reads {family}");
    }
    assert_eq!(board["uid"], "labstore");
}
