//! ListParts and ListMultipartUploads through `aws-sdk-s3` at default settings: paging with
//! max-parts / part-number-marker and max-uploads / key-marker / upload-id-marker, prefix and
//! delimiter.

use crate::common;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::Client;

const B: &str = "multipart";

async fn setup(dir: &std::path::Path) -> (common::TestServer, Client) {
    common::start_with_bucket(dir, B).await
}

async fn create(s3: &Client, key: &str) -> String {
    let out = s3.create_multipart_upload().bucket(B).key(key).send().await;
    out.unwrap().upload_id().unwrap().to_owned()
}

async fn upload(s3: &Client, key: &str, id: &str, number: i32, body: &[u8]) {
    s3.upload_part()
        .bucket(B)
        .key(key)
        .upload_id(id)
        .part_number(number)
        .body(ByteStream::from(body.to_vec()))
        .send()
        .await
        .unwrap_or_else(|e| panic!("part {number}: {e:?}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_parts_pages_with_max_parts_and_a_marker() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = setup(dir.path()).await;
    let id = create(&s3, "parts").await;
    for n in [1, 2, 3, 5, 8, 13, 21] {
        upload(&s3, "parts", &id, n, format!("part {n}").as_bytes()).await;
    }
    let mut seen = Vec::new();
    let mut marker: Option<String> = None;
    let mut pages = 0;
    loop {
        pages += 1;
        let out = s3
            .list_parts()
            .bucket(B)
            .key("parts")
            .upload_id(&id)
            .max_parts(3)
            .set_part_number_marker(marker.take())
            .send()
            .await
            .unwrap();
        assert!(out.parts().len() <= 3);
        assert_eq!(out.max_parts(), Some(3));
        seen.extend(out.parts().iter().map(|p| p.part_number().unwrap()));
        if !out.is_truncated().unwrap() {
            break;
        }
        marker = Some(out.next_part_number_marker().unwrap().to_owned());
    }
    assert_eq!(seen, [1, 2, 3, 5, 8, 13, 21]);
    assert_eq!(pages, 3);
    server.stop();
}

/// The uploads (key, id) and common prefixes a listing must give, each in order.
type Uploads = (Vec<(String, String)>, Vec<String>);

fn model(all: &[(String, String)], prefix: &str, delimiter: Option<&str>) -> Uploads {
    let (mut uploads, mut prefixes) = (Vec::new(), Vec::<String>::new());
    for (key, id) in all.iter().filter(|(k, _)| k.starts_with(prefix)) {
        let rest = &key[prefix.len()..];
        match delimiter.and_then(|d| rest.find(d).map(|at| at + d.len())) {
            Some(end) => {
                let common = &key[..prefix.len() + end];
                if prefixes.last().map(String::as_str) != Some(common) {
                    prefixes.push(common.to_owned());
                }
            }
            None => uploads.push((key.clone(), id.clone())),
        }
    }
    (uploads, prefixes)
}

/// Every page of a ListMultipartUploads walk, following NextKeyMarker / NextUploadIdMarker.
async fn walk(s3: &Client, prefix: &str, delimiter: Option<&str>, max: i32) -> Uploads {
    let (mut uploads, mut prefixes) = (Vec::new(), Vec::new());
    let (mut key_marker, mut id_marker): (Option<String>, Option<String>) = (None, None);
    for page in 0.. {
        assert!(page < 20, "the walk does not end");
        let out = s3
            .list_multipart_uploads()
            .bucket(B)
            .prefix(prefix)
            .set_delimiter(delimiter.map(str::to_owned))
            .max_uploads(max)
            .set_key_marker(key_marker.take())
            .set_upload_id_marker(id_marker.take())
            .send()
            .await
            .unwrap();
        let count = out.uploads().len() + out.common_prefixes().len();
        assert!(
            i32::try_from(count).unwrap() <= max,
            "{count} entries for max-uploads {max}"
        );
        for u in out.uploads() {
            uploads.push((
                u.key().unwrap().to_owned(),
                u.upload_id().unwrap().to_owned(),
            ));
        }
        prefixes.extend(
            out.common_prefixes()
                .iter()
                .map(|p| p.prefix().unwrap().to_owned()),
        );
        if !out.is_truncated().unwrap() {
            return (uploads, prefixes);
        }
        key_marker = Some(out.next_key_marker().expect("a NextKeyMarker").to_owned());
        id_marker = out.next_upload_id_marker().map(str::to_owned);
    }
    unreachable!()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_multipart_uploads_pages_with_prefix_and_delimiter() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = setup(dir.path()).await;
    let keys = ["a/1", "a/2", "a/3/z", "b", "b", "b", "c/d/e", "x"];
    let mut all = Vec::new();
    for key in keys {
        all.push((key.to_owned(), create(&s3, key).await));
    }
    // Listed by key, then by upload id within a key.
    all.sort();
    let cases = [
        ("", None, 1000),
        ("", None, 2),
        ("", None, 1),
        ("a/", None, 1),
        ("", Some("/"), 1000),
        ("", Some("/"), 2),
        ("", Some("/"), 1),
        ("a/", Some("/"), 1),
        ("c", Some("/"), 1),
    ];
    for (prefix, delimiter, max) in cases {
        let got = walk(&s3, prefix, delimiter, max).await;
        let want = model(&all, prefix, delimiter);
        assert_eq!(
            got, want,
            "prefix={prefix:?} delimiter={delimiter:?} max={max}"
        );
    }
    let out = s3
        .list_multipart_uploads()
        .bucket(B)
        .prefix("a/")
        .delimiter("/")
        .send()
        .await
        .unwrap();
    assert_eq!((out.prefix(), out.delimiter()), (Some("a/"), Some("/")));
    server.stop();
}

/// `encoding-type=url` encodes ListMultipartUploads' keys, prefixes, delimiter and markers,
/// as S3 does, and names itself in `EncodingType`; another value is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_multipart_uploads_url_encodes_when_asked() {
    use aws_sdk_s3::types::EncodingType;
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = setup(dir.path()).await;
    create(&s3, "日本/a b").await;
    create(&s3, "日本/c/d").await;
    create(&s3, "z").await;
    let out = s3
        .list_multipart_uploads()
        .bucket(B)
        .prefix("日本/")
        .delimiter("/")
        .key_marker("日本/")
        .max_uploads(1)
        .encoding_type(EncodingType::Url)
        .send()
        .await
        .unwrap();
    assert_eq!(out.encoding_type(), Some(&EncodingType::Url));
    assert_eq!(out.prefix(), Some("%E6%97%A5%E6%9C%AC/"));
    assert_eq!(out.delimiter(), Some("/"));
    assert_eq!(out.key_marker(), Some("%E6%97%A5%E6%9C%AC/"));
    let keys: Vec<&str> = out.uploads().iter().map(|u| u.key().unwrap()).collect();
    assert_eq!(keys, ["%E6%97%A5%E6%9C%AC/a%20b"]);
    assert_eq!(out.next_key_marker(), Some("%E6%97%A5%E6%9C%AC/a%20b"));
    let out = s3
        .list_multipart_uploads()
        .bucket(B)
        .prefix("日本/")
        .delimiter("/")
        .encoding_type(EncodingType::Url)
        .send()
        .await
        .unwrap();
    let prefixes: Vec<&str> = out
        .common_prefixes()
        .iter()
        .map(|p| p.prefix().unwrap())
        .collect();
    assert_eq!(prefixes, ["%E6%97%A5%E6%9C%AC/c/"]);
    // Without it, nothing is encoded and no EncodingType is named.
    let out = s3.list_multipart_uploads().bucket(B).send().await.unwrap();
    assert_eq!(out.encoding_type(), None);
    let keys: Vec<&str> = out.uploads().iter().map(|u| u.key().unwrap()).collect();
    assert_eq!(keys, ["z", "日本/a b", "日本/c/d"]);
    let r = s3
        .list_multipart_uploads()
        .bucket(B)
        .encoding_type(EncodingType::from("base64"))
        .send()
        .await;
    assert_eq!(
        common::error_code_status(r),
        ("InvalidArgument".to_owned(), 400)
    );
    server.stop();
}
