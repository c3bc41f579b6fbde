//! ListObjects (v1) and ListObjectsV2 through `aws-sdk-s3` at default settings, over a few
//! hundred keys (Unicode, `/`-heavy, a multi-character delimiter): every page walk must give
//! exactly the keys and common prefixes a model computes, in UTF-8 binary order, once each.

use crate::common;

use std::collections::BTreeSet;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::EncodingType;
use aws_sdk_s3::Client;
use common::{error_code_status, s3_client, start_with_root};

const B: &str = "listing";

fn keys() -> Vec<String> {
    let mut keys = Vec::new();
    for year in [2023, 2024] {
        for month in 1..=6 {
            for i in 0..8 {
                keys.push(format!("photos/{year}/{month:02}/img{i}.jpg"));
            }
        }
    }
    for i in 0..100 {
        keys.push(format!("flat-{i:03}"));
    }
    for i in 0..50 {
        keys.push(format!("deep/{}/{}/{i}", i % 5, i % 3));
    }
    for i in 0..10 {
        keys.push(format!("ünïcödé/{i}"));
        keys.push(format!("日本/ファイル{i}"));
        keys.push(format!("emoji/😀{i}"));
    }
    let singles = [
        "docs/",
        "docs/readme.md",
        "docs/a/b/c/d/e.txt",
        "docs/a//double",
        "log--2024--01",
        "log--2024--02",
        "log--2025--01",
        "log-single",
        "log---triple",
        "a",
        "a/b",
        "a/b/c",
        "ab",
        "a+b",
        "a b",
        "a%b",
        "e\u{301}",
        "\u{e9}",
        "\u{fffd}",
        "\u{10ffff}",
        "~tilde",
    ];
    keys.extend(singles.iter().map(|s| s.to_string()));
    // String's order is byte order: UTF-8 binary, S3's listing order.
    keys.sort();
    keys
}

/// What a listing of `keys` must return: the keys and the common prefixes, each in order.
fn model(keys: &[String], prefix: &str, delimiter: Option<&str>) -> (Vec<String>, Vec<String>) {
    let (mut contents, mut prefixes) = (Vec::new(), Vec::<String>::new());
    for key in keys.iter().filter(|k| k.starts_with(prefix)) {
        let rest = &key[prefix.len()..];
        match delimiter.and_then(|d| rest.find(d).map(|at| at + d.len())) {
            Some(end) => {
                let common = &key[..prefix.len() + end];
                if prefixes.last().map(String::as_str) != Some(common) {
                    prefixes.push(common.to_owned());
                }
            }
            None => contents.push(key.clone()),
        }
    }
    (contents, prefixes)
}

async fn setup(dir: &std::path::Path) -> (common::TestServer, Client, Vec<String>) {
    let server = start_with_root(dir);
    let s3 = s3_client(&server);
    s3.create_bucket().bucket(B).send().await.unwrap();
    let keys = keys();
    let mut tasks = Vec::new();
    for chunk in keys.chunks(keys.len() / 8 + 1) {
        let (s3, chunk) = (s3.clone(), chunk.to_vec());
        tasks.push(tokio::spawn(async move {
            for key in chunk {
                s3.put_object()
                    .bucket(B)
                    .key(&key)
                    .body(ByteStream::from_static(b"."))
                    .send()
                    .await
                    .unwrap_or_else(|e| panic!("{key}: {e:?}"));
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    (server, s3, keys)
}

fn owned<'a>(items: impl Iterator<Item = Option<&'a str>>) -> Vec<String> {
    items.map(|s| s.unwrap().to_owned()).collect()
}

/// One page as any of the three walks sees it.
struct Page {
    contents: Vec<String>,
    prefixes: Vec<String>,
    truncated: bool,
    /// Where the next page starts: a continuation token, a start-after key or a marker.
    next: Option<String>,
}

#[derive(Debug, Clone, Copy)]
enum Walk {
    /// ListObjectsV2, following NextContinuationToken.
    Token,
    /// ListObjectsV2, passing the last key as start-after (only without a delimiter).
    StartAfter,
    /// ListObjects, following NextMarker (with a delimiter) or the last key.
    Marker,
}

async fn page(
    s3: &Client,
    walk: Walk,
    prefix: &str,
    delimiter: Option<&str>,
    max: i32,
    from: Option<String>,
) -> Page {
    match walk {
        Walk::Token | Walk::StartAfter => {
            let mut req = s3
                .list_objects_v2()
                .bucket(B)
                .prefix(prefix)
                .set_delimiter(delimiter.map(str::to_owned))
                .max_keys(max);
            req = match walk {
                Walk::Token => req.set_continuation_token(from.clone()),
                _ => req.set_start_after(from.clone()),
            };
            let out = req.send().await.unwrap();
            let contents = owned(out.contents().iter().map(|o| o.key()));
            let prefixes = owned(out.common_prefixes().iter().map(|p| p.prefix()));
            let count = i32::try_from(contents.len() + prefixes.len()).unwrap();
            assert_eq!(out.key_count(), Some(count), "KeyCount");
            assert_eq!(out.max_keys(), Some(max));
            assert!(count <= max, "{count} entries for max-keys {max}");
            assert!(out.contents().iter().all(|o| o.owner().is_none()));
            if matches!(walk, Walk::Token) {
                assert_eq!(out.continuation_token(), from.as_deref());
            }
            let truncated = out.is_truncated().unwrap();
            let next = match walk {
                Walk::Token => out.next_continuation_token().map(str::to_owned),
                _ => contents.last().cloned(),
            };
            Page {
                contents,
                prefixes,
                truncated,
                next,
            }
        }
        Walk::Marker => {
            let out = s3
                .list_objects()
                .bucket(B)
                .prefix(prefix)
                .set_delimiter(delimiter.map(str::to_owned))
                .max_keys(max)
                .set_marker(from.clone())
                .send()
                .await
                .unwrap();
            let contents = owned(out.contents().iter().map(|o| o.key()));
            let prefixes = owned(out.common_prefixes().iter().map(|p| p.prefix()));
            assert!(i32::try_from(contents.len() + prefixes.len()).unwrap() <= max);
            assert_eq!(out.marker().unwrap_or_default(), from.unwrap_or_default());
            assert!(
                out.contents().iter().all(|o| o.owner().is_some()),
                "v1 lists owners"
            );
            let truncated = out.is_truncated().unwrap();
            // NextMarker comes only with a delimiter; without one the last key is the marker.
            let next = match delimiter {
                Some(_) => {
                    assert_eq!(out.next_marker().is_some(), truncated, "NextMarker");
                    out.next_marker().map(str::to_owned)
                }
                None => {
                    assert_eq!(out.next_marker(), None);
                    contents.last().cloned()
                }
            };
            Page {
                contents,
                prefixes,
                truncated,
                next,
            }
        }
    }
}

/// Walks every page and checks the union against the model.
async fn check_walk(
    s3: &Client,
    keys: &[String],
    walk: Walk,
    prefix: &str,
    delimiter: Option<&str>,
    max: i32,
) {
    let what = format!("{walk:?} prefix={prefix:?} delimiter={delimiter:?} max-keys={max}");
    let (want_contents, want_prefixes) = model(keys, prefix, delimiter);
    let (mut contents, mut prefixes) = (Vec::new(), Vec::new());
    let mut from = None;
    let mut pages = 0;
    loop {
        pages += 1;
        assert!(pages <= keys.len() + 1, "{what}: the walk does not end");
        let p = page(s3, walk, prefix, delimiter, max, from.take()).await;
        contents.extend(p.contents);
        prefixes.extend(p.prefixes);
        if !p.truncated {
            break;
        }
        from = Some(
            p.next
                .unwrap_or_else(|| panic!("{what}: truncated without a next")),
        );
    }
    assert_eq!(contents, want_contents, "{what}: keys");
    assert_eq!(prefixes, want_prefixes, "{what}: common prefixes");
    let distinct: BTreeSet<&String> = contents.iter().chain(&prefixes).collect();
    assert_eq!(
        distinct.len(),
        contents.len() + prefixes.len(),
        "{what}: duplicates"
    );
    let total = want_contents.len() + want_prefixes.len();
    let least = total.div_ceil(usize::try_from(max).unwrap()).max(1);
    assert!(pages >= least, "{what}: {pages} pages for {total} entries");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_walk_returns_the_model_in_binary_order() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3, keys) = setup(dir.path()).await;
    assert!(keys.len() > 250, "{} keys", keys.len());

    let prefixes = [
        "",
        "photos/",
        "photos/2023/0",
        "docs/",
        "日本/",
        "a",
        "log",
        "nope/",
    ];
    for prefix in prefixes {
        for delimiter in [None, Some("/"), Some("--")] {
            for max in [1, 7, 1000] {
                if max == 1 && prefix.is_empty() && delimiter.is_none() {
                    continue; // covered with max-keys 7; each page would be one request
                }
                for walk in [Walk::Token, Walk::StartAfter, Walk::Marker] {
                    if matches!(walk, Walk::StartAfter) && delimiter.is_some() {
                        continue;
                    }
                    check_walk(&s3, &keys, walk, prefix, delimiter, max).await;
                }
            }
        }
    }
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn max_keys_zero_one_and_the_default() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3, keys) = setup(dir.path()).await;
    let zero = s3
        .list_objects_v2()
        .bucket(B)
        .max_keys(0)
        .send()
        .await
        .unwrap();
    assert!(zero.contents().is_empty() && zero.common_prefixes().is_empty());
    assert_eq!(zero.key_count(), Some(0));
    let zero = s3
        .list_objects()
        .bucket(B)
        .max_keys(0)
        .send()
        .await
        .unwrap();
    assert!(zero.contents().is_empty());

    let one = s3
        .list_objects_v2()
        .bucket(B)
        .max_keys(1)
        .send()
        .await
        .unwrap();
    assert_eq!(one.key_count(), Some(1));
    assert_eq!(one.contents()[0].key(), Some(keys[0].as_str()));
    assert_eq!(one.is_truncated(), Some(true));

    let all = s3.list_objects_v2().bucket(B).send().await.unwrap();
    assert_eq!(all.max_keys(), Some(1000));
    assert_eq!(all.key_count(), Some(i32::try_from(keys.len()).unwrap()));
    assert_eq!(all.is_truncated(), Some(false));
    assert_eq!(all.next_continuation_token(), None);
    let object = &all.contents()[0];
    assert_eq!(object.size(), Some(1));
    assert_eq!(object.e_tag(), Some("\"5058f1af8388633f609cadb75a75dc9d\""));
    assert!(object.last_modified().is_some());

    let bad = s3.list_objects_v2().bucket(B).max_keys(-1).send().await;
    assert_eq!(error_code_status(bad), ("InvalidArgument".to_owned(), 400));
    let bad = s3
        .list_objects_v2()
        .bucket(B)
        .continuation_token("not a token we gave")
        .send()
        .await;
    assert_eq!(error_code_status(bad), ("InvalidArgument".to_owned(), 400));
    server.stop();
}

/// Decodes a value of an `encoding-type=url` listing as S3's SDKs do (form decoding, where
/// `+` is a space).
fn url_decode(value: &str) -> String {
    let spaced = value.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8()
        .unwrap()
        .into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn encoding_type_url_encodes_keys_and_prefixes() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3, keys) = setup(dir.path()).await;
    let out = s3
        .list_objects_v2()
        .bucket(B)
        .encoding_type(EncodingType::Url)
        .send()
        .await
        .unwrap();
    assert_eq!(out.encoding_type(), Some(&EncodingType::Url));
    let listed: Vec<String> = out
        .contents()
        .iter()
        .map(|o| o.key().unwrap().to_owned())
        .collect();
    assert!(listed.iter().all(|k| k.is_ascii()), "{listed:?}");
    let decoded: Vec<String> = listed.iter().map(|k| url_decode(k)).collect();
    assert_eq!(decoded, keys);

    let out = s3
        .list_objects_v2()
        .bucket(B)
        .prefix("日本/")
        .delimiter("/")
        .start_after("日本/ファイル3")
        .encoding_type(EncodingType::Url)
        .send()
        .await
        .unwrap();
    assert_eq!(out.prefix(), Some("%E6%97%A5%E6%9C%AC/"));
    assert_eq!(
        out.start_after().map(url_decode).as_deref(),
        Some("日本/ファイル3")
    );
    let listed: Vec<String> = out
        .contents()
        .iter()
        .map(|o| url_decode(o.key().unwrap()))
        .collect();
    let want: Vec<String> = (4..10).map(|i| format!("日本/ファイル{i}")).collect();
    assert_eq!(listed, want);

    let out = s3
        .list_objects()
        .bucket(B)
        .delimiter("/")
        .encoding_type(EncodingType::Url)
        .send()
        .await
        .unwrap();
    let prefixes: Vec<String> = out
        .common_prefixes()
        .iter()
        .map(|p| p.prefix().unwrap().to_owned())
        .collect();
    assert!(prefixes.iter().all(|p| p.is_ascii()), "{prefixes:?}");
    let decoded: Vec<String> = prefixes.iter().map(|p| url_decode(p)).collect();
    assert_eq!(decoded, model(&keys, "", Some("/")).1);
    server.stop();
}

/// Under `encoding-type=url` every key-shaped value is encoded: `Delimiter`, `Marker` and
/// `NextMarker` (v1), `StartAfter` (v2), as well as keys and prefixes.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn encoding_type_url_encodes_delimiters_and_markers() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3, _keys) = setup(dir.path()).await;
    let out = s3
        .list_objects()
        .bucket(B)
        .delimiter("ル")
        .marker("日本/ファイ")
        .max_keys(1)
        .encoding_type(EncodingType::Url)
        .send()
        .await
        .unwrap();
    assert_eq!(out.delimiter(), Some("%E3%83%AB"));
    assert_eq!(out.marker().map(url_decode).as_deref(), Some("日本/ファイ"));
    assert!(out.marker().unwrap().is_ascii());
    assert_eq!(out.is_truncated(), Some(true));
    let next = out.next_marker().unwrap();
    assert!(next.is_ascii(), "{next}");
    assert_eq!(url_decode(next), "日本/ファイル");
    let out = s3
        .list_objects_v2()
        .bucket(B)
        .delimiter("ル")
        .start_after("日本")
        .encoding_type(EncodingType::Url)
        .send()
        .await
        .unwrap();
    assert_eq!(out.delimiter(), Some("%E3%83%AB"));
    assert_eq!(out.start_after(), Some("%E6%97%A5%E6%9C%AC"));
    server.stop();
}

/// An empty `continuation-token` is no token: the listing starts from the beginning (or
/// from `start-after`) and no `ContinuationToken` is echoed.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_empty_continuation_token_is_no_token() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3, keys) = setup(dir.path()).await;
    let out = s3
        .list_objects_v2()
        .bucket(B)
        .continuation_token("")
        .max_keys(2)
        .send()
        .await
        .unwrap();
    let listed: Vec<&str> = out.contents().iter().map(|o| o.key().unwrap()).collect();
    assert_eq!(listed, keys[..2]);
    assert_eq!(out.continuation_token(), None);
    let out = s3
        .list_objects_v2()
        .bucket(B)
        .continuation_token("")
        .start_after(&keys[0])
        .max_keys(1)
        .send()
        .await
        .unwrap();
    let listed: Vec<&str> = out.contents().iter().map(|o| o.key().unwrap()).collect();
    assert_eq!(listed, keys[1..2]);
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fetch_owner_and_the_sdk_paginator() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3, keys) = setup(dir.path()).await;
    let plain = s3
        .list_objects_v2()
        .bucket(B)
        .max_keys(3)
        .send()
        .await
        .unwrap();
    assert!(plain.contents().iter().all(|o| o.owner().is_none()));
    let with_owner = s3
        .list_objects_v2()
        .bucket(B)
        .max_keys(3)
        .fetch_owner(true)
        .send()
        .await
        .unwrap();
    let owner_id = s3
        .list_buckets()
        .send()
        .await
        .unwrap()
        .owner()
        .unwrap()
        .id()
        .unwrap()
        .to_owned();
    for object in with_owner.contents() {
        assert_eq!(object.owner().and_then(|o| o.id()), Some(owner_id.as_str()));
    }

    let mut pages = s3
        .list_objects_v2()
        .bucket(B)
        .max_keys(13)
        .into_paginator()
        .send();
    let mut listed = Vec::new();
    let mut count = 0;
    while let Some(page) = pages.next().await {
        let page = page.unwrap();
        count += 1;
        listed.extend(page.contents().iter().map(|o| o.key().unwrap().to_owned()));
    }
    assert_eq!(listed, keys);
    assert_eq!(count, keys.len().div_ceil(13));

    // Items of every page, with a prefix: the paginator stops on the last page.
    let mut pages = s3
        .list_objects_v2()
        .bucket(B)
        .prefix("deep/")
        .max_keys(4)
        .into_paginator()
        .send();
    let mut listed = Vec::new();
    while let Some(page) = pages.next().await {
        listed.extend(owned(page.unwrap().contents().iter().map(|o| o.key())));
    }
    assert_eq!(listed, model(&keys, "deep/", None).0);
    server.stop();
}

/// S3 lists only entries after the marker or start-after: a common prefix at or before it is
/// not listed again, even when later keys roll up into it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn markers_inside_a_common_prefix_resume_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3, _keys) = setup(dir.path()).await;
    let want = ["photos/2023/04/", "photos/2023/05/", "photos/2023/06/"];
    for from in ["photos/2023/03/", "photos/2023/03/img2.jpg"] {
        let v2 = s3
            .list_objects_v2()
            .bucket(B)
            .prefix("photos/2023/")
            .delimiter("/")
            .start_after(from)
            .send()
            .await
            .unwrap();
        let prefixes = owned(v2.common_prefixes().iter().map(|p| p.prefix()));
        assert_eq!(prefixes, want, "start-after {from}");
        let v1 = s3
            .list_objects()
            .bucket(B)
            .prefix("photos/2023/")
            .delimiter("/")
            .marker(from)
            .send()
            .await
            .unwrap();
        let prefixes = owned(v1.common_prefixes().iter().map(|p| p.prefix()));
        assert_eq!(prefixes, want, "marker {from}");
    }
    server.stop();
}

/// The page sizes a listing row takes as typed fields (`MaxKeys`, `MaxUploads`, `MaxParts`):
/// a value that is no non-negative integer is `InvalidArgument` naming the parameter, before
/// anything is read; a valid one sizes the page, capped at 1000.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn page_sizes_are_checked_and_capped() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let s3 = s3_client(&server);
    s3.create_bucket().bucket("pages").send().await.unwrap();
    for key in ["a", "b", "c"] {
        s3.put_object()
            .bucket("pages")
            .key(key)
            .body(ByteStream::from_static(b"x"))
            .send()
            .await
            .unwrap();
    }
    let upload = s3
        .create_multipart_upload()
        .bucket("pages")
        .key("big")
        .send()
        .await
        .unwrap();
    let id = upload.upload_id().unwrap();

    let signer = common::signing::Signer::s3("admin", common::ROOT_SECRET);
    let get = |path: &str| common::signing::s3_call(server.s3, &signer, "GET", path, &[], "");
    for (path, name) in [
        ("/pages?max-keys=-1", "max-keys"),
        ("/pages?list-type=2&max-keys=abc", "max-keys"),
        ("/pages?uploads&max-uploads=x", "max-uploads"),
        (
            &format!("/pages/big?uploadId={id}&max-parts=-1") as &str,
            "max-parts",
        ),
    ] {
        let r = get(path);
        assert_eq!(r.status, 400, "{path}: {}", r.body);
        assert!(
            r.body.contains("<Code>InvalidArgument</Code>"),
            "{path}: {}",
            r.body
        );
        let message = format!("Provided {name} not an integer or within integer range");
        assert!(r.body.contains(&message), "{path}: {}", r.body);
    }

    let r = get("/pages?list-type=2&max-keys=2");
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("<MaxKeys>2</MaxKeys>"), "{}", r.body);
    assert!(r.body.contains("<KeyCount>2</KeyCount>"), "{}", r.body);
    assert!(
        r.body.contains("<IsTruncated>true</IsTruncated>"),
        "{}",
        r.body
    );
    let r = get("/pages?max-keys=5000");
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("<MaxKeys>1000</MaxKeys>"), "{}", r.body);
    let r = get("/pages?uploads&max-uploads=5000");
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body.contains("<MaxUploads>1000</MaxUploads>"),
        "{}",
        r.body
    );
    let parts = s3
        .list_parts()
        .bucket("pages")
        .key("big")
        .upload_id(id)
        .max_parts(7)
        .send()
        .await
        .unwrap();
    assert_eq!(parts.max_parts(), Some(7));
}
