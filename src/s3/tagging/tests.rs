use super::*;
use crate::s3::xml::{assert_documented, to_xml};

fn tags(pairs: &[(&str, &str)]) -> Tags {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn refusal(set: &Tags, owner: Tagged) -> (Code, String) {
    let e = validate(set, owner).expect_err("refused");
    (e.code, e.message.into_owned())
}

#[test]
fn s3s_characters_and_lengths() {
    let ok = [
        ("a", ""),
        ("Project", "Project One"),
        ("+-=._:/@", "+-=._:/@"),
        ("ключ", "значение"),
        ("名前", "値 ٣"),
        ("nbsp\u{a0}", "x"),
        (&*"k".repeat(128), &*"v".repeat(256)),
        (&*"é".repeat(128), &*"ü".repeat(256)),
    ];
    for (k, v) in ok {
        validate(&tags(&[(k, v)]), Tagged::Object).unwrap_or_else(|e| panic!("{k:?}={v:?}: {e}"));
    }
    let key = (
        Code::InvalidTag,
        "The TagKey you have provided is invalid".to_owned(),
    );
    let value = (
        Code::InvalidTag,
        "The TagValue you have provided is invalid".to_owned(),
    );
    for (k, v, expected) in [
        ("", "v", &key),
        (&*"k".repeat(129), "v", &key),
        ("a,b", "v", &key),
        ("tab\t", "v", &key),
        ("k", "a&b", &value),
        ("k", "line\nfeed", &value),
        ("k", "(x)", &value),
        ("k", &*"v".repeat(257), &value),
    ] {
        assert_eq!(
            &refusal(&tags(&[(k, v)]), Tagged::Object),
            expected,
            "{k:?}={v:?}"
        );
    }
}

#[test]
fn reserved_prefix_duplicates_and_counts() {
    assert_eq!(
        refusal(&tags(&[("aws:x", "1")]), Tagged::Object),
        (
            Code::InvalidTag,
            "Your TagKey cannot be prefixed with aws:".into()
        )
    );
    assert_eq!(
        refusal(&tags(&[("AWS:x", "1")]), Tagged::Bucket),
        (
            Code::InvalidTag,
            "System tags cannot be added/updated by requester".into()
        )
    );
    assert_eq!(
        refusal(&tags(&[("a", "1"), ("b", "2"), ("a", "3")]), Tagged::Bucket),
        (
            Code::InvalidTag,
            "Cannot provide multiple Tags with the same key".into()
        )
    );
    // Keys are case-sensitive: `a` and `A` are two tags.
    validate(&tags(&[("a", "1"), ("A", "2")]), Tagged::Object).unwrap();
    let many = |n: usize| -> Tags { (0..n).map(|i| (format!("k{i}"), String::new())).collect() };
    validate(&many(10), Tagged::Object).unwrap();
    assert_eq!(
        refusal(&many(11), Tagged::Object),
        (
            Code::BadRequest,
            "Object tags cannot be greater than 10".into()
        )
    );
    validate(&many(50), Tagged::Bucket).unwrap();
    assert_eq!(refusal(&many(51), Tagged::Bucket).0, Code::BadRequest);
    // An invalid tag is reported before the count, as S3 checks tag by tag first.
    let mut bad = many(11);
    bad.push(("bad,key".into(), String::new()));
    assert_eq!(refusal(&bad, Tagged::Object).0, Code::InvalidTag);
}

fn header(value: &str) -> S3Result<Option<Tags>> {
    let mut headers = HeaderMap::new();
    headers.insert("x-amz-tagging", value.parse().unwrap());
    header_tags(&headers)
}

#[test]
fn the_tagging_header_is_url_query_encoded() {
    assert_eq!(header_tags(&HeaderMap::new()).unwrap(), None);
    assert_eq!(header("").unwrap(), Some(Vec::new()));
    assert_eq!(
        header("k1=v1&k2=v%202&k3=a+b&k4").unwrap(),
        Some(tags(&[
            ("k1", "v1"),
            ("k2", "v 2"),
            ("k3", "a b"),
            ("k4", "")
        ]))
    );
    assert_eq!(
        header("%D0%BA%D0%BB%D1%8E%D1%87=%2B%2F&&x=a%3Db").unwrap(),
        Some(tags(&[("ключ", "+/"), ("x", "a=b")]))
    );
    let malformed = "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates.";
    for bad in ["=", "=v", "a=1&a=2", "k=%FF"] {
        let e = header(bad).expect_err(bad);
        assert_eq!(
            (e.code, &*e.message),
            (Code::InvalidArgument, malformed),
            "{bad}"
        );
    }
    assert_eq!(header("k=a%26b").unwrap_err().code, Code::InvalidTag);
    let eleven: Vec<String> = (0..11).map(|i| format!("k{i}=v")).collect();
    assert_eq!(
        header(&eleven.join("&")).unwrap_err().code,
        Code::BadRequest
    );
}

/// AWS's example of PutObjectTagging's body, and of GetObjectTagging's and GetBucketTagging's
/// answers.
/// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObjectTagging.html#API_PutObjectTagging_Examples>
/// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObjectTagging.html#API_GetObjectTagging_Examples>
/// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketTagging.html#API_GetBucketTagging_Examples>
#[test]
fn documents_read_and_write_as_documented() {
    let put = "<Tagging>\n  <TagSet>\n     <Tag>\n       <Key>tag1</Key>\n       <Value>val1</Value>\n     </Tag>\n     <Tag>\n       <Key>tag2</Key>\n       <Value>val2</Value>\n     </Tag>\n  </TagSet>\n</Tagging>";
    let doc: Tagging = read(put.as_bytes()).unwrap();
    let read_back: Tags = doc
        .tag_set
        .tags
        .into_iter()
        .map(|t| (t.key, t.value))
        .collect();
    assert_eq!(read_back, tags(&[("tag1", "val1"), ("tag2", "val2")]));

    let get_object = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Tagging xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\n  <TagSet>\n     <Tag>\n       <Key>tag1</Key>\n       <Value>val1</Value>\n     </Tag>\n  </TagSet>\n</Tagging>";
    assert_documented(
        &to_xml(None, &Tagging::of(&tags(&[("tag1", "val1")]))).unwrap(),
        get_object,
    );
    let get_bucket = "<Tagging>\n  <TagSet>\n     <Tag>\n       <Key>Project</Key>\n       <Value>Project One</Value>\n     </Tag>\n     <Tag>\n       <Key>User</Key>\n       <Value>jsmith</Value>\n     </Tag>\n  </TagSet>\n</Tagging>";
    let ours = to_xml(
        None,
        &Tagging::of(&tags(&[("Project", "Project One"), ("User", "jsmith")])),
    )
    .unwrap();
    assert_documented(&ours, get_bucket);
    assert_eq!(
        ours,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Tagging xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><TagSet>\
         <Tag><Key>Project</Key><Value>Project One</Value></Tag><Tag><Key>User</Key><Value>jsmith</Value></Tag>\
         </TagSet></Tagging>"
    );
    // No tags: an empty TagSet, as GetObjectTagging answers for an untagged object.
    assert_documented(
        &to_xml(None, &Tagging::of(&Vec::new())).unwrap(),
        "<Tagging><TagSet/></Tagging>",
    );
}

#[test]
fn values_keep_their_spaces_and_missing_elements_are_malformed() {
    let doc: Tagging =
        read(b"<Tagging><TagSet><Tag><Key> k </Key><Value/></Tag></TagSet></Tagging>").unwrap();
    assert_eq!(doc.tag_set.tags[0].key, " k ");
    assert_eq!(doc.tag_set.tags[0].value, "");
    let empty: Tagging = read(b"<Tagging><TagSet/></Tagging>").unwrap();
    assert!(empty.tag_set.tags.is_empty());
    for bad in [
        "<Tagging/>",
        "<Tagging><TagSet><Tag><Key>k</Key></Tag></TagSet></Tagging>",
        "<Tagging><TagSet><Tag><Value>v</Value></Tag></TagSet></Tagging>",
        "<Tagging><TagSet><Tag><Key>k</Key><Value>v</Value></Tag></TagSet>",
        "<Other><TagSet/></Other>",
    ] {
        assert_eq!(
            read::<Tagging>(bad.as_bytes()).unwrap_err().code,
            Code::MalformedXML,
            "{bad}"
        );
    }
}

/// S3 names the refused tag in its `InvalidTag` body: `<TagKey>` for a key it refuses (but an
/// empty one) or repeats, `<TagKey>` and `<TagValue>` for a value it refuses.
#[test]
fn invalid_tags_name_the_tag() {
    let details = |set: &[(&str, &str)]| {
        let e = validate(&tags(set), Tagged::Object).expect_err("refused");
        assert_eq!(e.code, Code::InvalidTag);
        e.details
            .into_iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
    };
    assert_eq!(details(&[("ke&y", "v")]), ["TagKey=ke&y"]);
    assert_eq!(details(&[("", "v")]), Vec::<String>::new());
    assert_eq!(
        details(&[("key", "inv&alid")]),
        ["TagKey=key", "TagValue=inv&alid"]
    );
    assert_eq!(details(&[("k", "1"), ("k", "2")]), ["TagKey=k"]);
}
