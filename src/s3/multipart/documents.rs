//! The XML documents of multipart uploads: CompleteMultipartUpload's request, and the results
//! of CreateMultipartUpload, CompleteMultipartUpload, ListParts and ListMultipartUploads.

use serde::{Deserialize, Serialize};

use super::super::checksum::Algorithm;
use super::super::xml::{timestamp, Checksum, CommonPrefix, Owner, RequestDocument, Xmlns};
use crate::objects::Part;

/// CompleteMultipartUpload's request document. Each part's checksums (`ChecksumCRC32`…) are
/// compared with the stored part's; the object's checksum is computed from the stored ones.
/// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_CompleteMultipartUpload.html>
#[derive(Debug, Deserialize)]
pub struct CompleteMultipartUpload {
    #[serde(rename = "Part", default)]
    pub parts: Vec<CompletedPart>,
}

/// A part as the request names it; its number is parsed by the caller, so that a number
/// that is no number is `MalformedXML` too.
#[derive(Debug, Deserialize)]
pub struct CompletedPart {
    #[serde(rename = "PartNumber")]
    pub part_number: String,
    #[serde(rename = "ETag")]
    pub etag: String,
    #[serde(rename = "ChecksumCRC32")]
    pub crc32: Option<String>,
    #[serde(rename = "ChecksumCRC32C")]
    pub crc32c: Option<String>,
    #[serde(rename = "ChecksumSHA1")]
    pub sha1: Option<String>,
    #[serde(rename = "ChecksumSHA256")]
    pub sha256: Option<String>,
    #[serde(rename = "ChecksumCRC64NVME")]
    pub crc64nvme: Option<String>,
}

impl CompletedPart {
    /// The checksums the part names, by algorithm, trimmed.
    pub fn checksums(&self) -> Vec<(Algorithm, String)> {
        [
            (Algorithm::Crc32, &self.crc32),
            (Algorithm::Crc32c, &self.crc32c),
            (Algorithm::Sha1, &self.sha1),
            (Algorithm::Sha256, &self.sha256),
            (Algorithm::Crc64Nvme, &self.crc64nvme),
        ]
        .into_iter()
        .filter_map(|(a, v)| v.as_ref().map(|v| (a, v.trim().to_owned())))
        .collect()
    }
}

impl RequestDocument for CompleteMultipartUpload {
    const ROOT: &'static str = "CompleteMultipartUpload";
    /// 10,000 parts of up to eight elements each (`Part`, `PartNumber`, `ETag`, the checksums
    /// an SDK adds), and the root.
    const MAX_ELEMENTS: usize = 80_001;
}

/// CreateMultipartUpload's answer.
#[derive(Debug, Serialize)]
#[serde(rename = "InitiateMultipartUploadResult")]
pub struct InitiateMultipartUploadResult<'a> {
    #[serde(rename = "@xmlns")]
    pub xmlns: Xmlns,
    #[serde(rename = "Bucket")]
    pub bucket: &'a str,
    #[serde(rename = "Key")]
    pub key: &'a str,
    #[serde(rename = "UploadId")]
    pub upload_id: &'a str,
}

/// CompleteMultipartUpload's answer; an upload with a checksum algorithm shows the object's
/// checksum and its type.
#[derive(Debug, Serialize)]
#[serde(rename = "CompleteMultipartUploadResult")]
pub struct CompleteMultipartUploadResult<'a> {
    #[serde(rename = "@xmlns")]
    pub xmlns: Xmlns,
    #[serde(rename = "Location")]
    pub location: &'a str,
    #[serde(rename = "Bucket")]
    pub bucket: &'a str,
    #[serde(rename = "Key")]
    pub key: &'a str,
    #[serde(rename = "ETag")]
    pub etag: &'a str,
    #[serde(rename = "$value", skip_serializing_if = "Option::is_none")]
    pub checksum: Option<Checksum<'a>>,
    #[serde(rename = "ChecksumType", skip_serializing_if = "Option::is_none")]
    pub checksum_type: Option<&'static str>,
}

/// ListParts' answer.
#[derive(Debug, Serialize)]
#[serde(rename = "ListPartsResult")]
pub struct ListPartsResult<'a> {
    #[serde(rename = "@xmlns")]
    pub xmlns: Xmlns,
    #[serde(rename = "Bucket")]
    pub bucket: &'a str,
    #[serde(rename = "Key")]
    pub key: &'a str,
    #[serde(rename = "UploadId")]
    pub upload_id: &'a str,
    #[serde(rename = "Initiator")]
    pub initiator: &'a Owner,
    #[serde(rename = "Owner")]
    pub owner: &'a Owner,
    #[serde(rename = "StorageClass")]
    pub storage_class: &'a str,
    #[serde(rename = "PartNumberMarker")]
    pub part_number_marker: u32,
    #[serde(
        rename = "NextPartNumberMarker",
        skip_serializing_if = "Option::is_none"
    )]
    pub next_part_number_marker: Option<u32>,
    #[serde(rename = "MaxParts")]
    pub max_parts: usize,
    #[serde(rename = "IsTruncated")]
    pub is_truncated: bool,
    #[serde(rename = "ChecksumAlgorithm", skip_serializing_if = "Option::is_none")]
    pub checksum_algorithm: Option<&'a str>,
    #[serde(rename = "ChecksumType", skip_serializing_if = "Option::is_none")]
    pub checksum_type: Option<&'a str>,
    #[serde(rename = "Part")]
    pub parts: Vec<ListedPart<'a>>,
}

/// A part of ListParts' answer.
#[derive(Debug, Serialize)]
pub struct ListedPart<'a> {
    #[serde(rename = "PartNumber")]
    pub part_number: u32,
    #[serde(rename = "LastModified")]
    pub last_modified: String,
    #[serde(rename = "ETag")]
    pub etag: String,
    #[serde(rename = "Size")]
    pub size: u64,
    #[serde(rename = "$value", skip_serializing_if = "Option::is_none")]
    pub checksum: Option<Checksum<'a>>,
}

impl<'a> ListedPart<'a> {
    /// A stored part; its checksum is shown when the upload has a checksum algorithm.
    pub fn new(part: &'a Part, algorithm: Option<Algorithm>) -> ListedPart<'a> {
        ListedPart {
            part_number: part.number,
            last_modified: timestamp(part.last_modified),
            etag: format!("\"{}\"", part.etag),
            size: part.size,
            checksum: algorithm
                .zip(part.checksum.as_deref())
                .map(|(algorithm, value)| Checksum { algorithm, value }),
        }
    }
}

/// ListMultipartUploads' answer.
#[derive(Debug, Serialize)]
#[serde(rename = "ListMultipartUploadsResult")]
pub struct ListMultipartUploadsResult<'a> {
    #[serde(rename = "@xmlns")]
    pub xmlns: Xmlns,
    #[serde(rename = "Bucket")]
    pub bucket: &'a str,
    #[serde(rename = "KeyMarker")]
    pub key_marker: &'a str,
    #[serde(rename = "UploadIdMarker")]
    pub upload_id_marker: &'a str,
    #[serde(rename = "NextKeyMarker", skip_serializing_if = "Option::is_none")]
    pub next_key_marker: Option<&'a str>,
    #[serde(rename = "NextUploadIdMarker", skip_serializing_if = "Option::is_none")]
    pub next_upload_id_marker: Option<&'a str>,
    #[serde(rename = "Prefix")]
    pub prefix: &'a str,
    #[serde(rename = "Delimiter", skip_serializing_if = "Option::is_none")]
    pub delimiter: Option<&'a str>,
    #[serde(rename = "MaxUploads")]
    pub max_uploads: usize,
    #[serde(rename = "IsTruncated")]
    pub is_truncated: bool,
    #[serde(rename = "Upload")]
    pub uploads: Vec<ListedUpload<'a>>,
    #[serde(rename = "CommonPrefixes")]
    pub common_prefixes: Vec<CommonPrefix<'a>>,
    /// `url` when the request asked for `encoding-type=url`: the keys, markers, prefixes and
    /// delimiter above are then URL-encoded.
    #[serde(rename = "EncodingType", skip_serializing_if = "Option::is_none")]
    pub encoding_type: Option<&'static str>,
}

/// An upload of ListMultipartUploads' answer.
#[derive(Debug, Serialize)]
pub struct ListedUpload<'a> {
    #[serde(rename = "Key")]
    pub key: &'a str,
    #[serde(rename = "UploadId")]
    pub upload_id: &'a str,
    #[serde(rename = "Initiator")]
    pub initiator: &'a Owner,
    #[serde(rename = "Owner")]
    pub owner: &'a Owner,
    #[serde(rename = "StorageClass")]
    pub storage_class: &'a str,
    #[serde(rename = "Initiated")]
    pub initiated: String,
    #[serde(rename = "ChecksumAlgorithm", skip_serializing_if = "Option::is_none")]
    pub checksum_algorithm: Option<&'a str>,
    #[serde(rename = "ChecksumType", skip_serializing_if = "Option::is_none")]
    pub checksum_type: Option<&'a str>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::s3::error::Code;
    use crate::s3::xml::{assert_documented, read, to_xml, S3_XMLNS};

    const DECLARATION: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

    fn owner(id: &str, name: &str) -> Owner {
        Owner {
            id: id.into(),
            display_name: name.into(),
        }
    }

    /// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateMultipartUpload.html#API_CreateMultipartUpload_Examples>
    #[test]
    fn create_multipart_upload_answers_as_documented() {
        let doc = InitiateMultipartUploadResult {
            xmlns: Xmlns::default(),
            bucket: "example-bucket",
            key: "example-object",
            upload_id: "VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA",
        };
        let ours = to_xml(None, &doc).unwrap();
        assert_documented(
            &ours,
            r#"<?xml version="1.0" encoding="UTF-8"?>
            <InitiateMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
              <Bucket>example-bucket</Bucket>
              <Key>example-object</Key>
              <UploadId>VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA</UploadId>
            </InitiateMultipartUploadResult>"#,
        );
        assert_eq!(
            ours,
            format!(
                "{DECLARATION}<InitiateMultipartUploadResult xmlns=\"{S3_XMLNS}\">\
                 <Bucket>example-bucket</Bucket><Key>example-object</Key><UploadId>\
                 VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA</UploadId>\
                 </InitiateMultipartUploadResult>"
            )
        );
    }

    fn parts(body: &str) -> Result<Vec<(String, String)>, Code> {
        let doc: CompleteMultipartUpload = read(body.as_bytes()).map_err(|e| e.code)?;
        Ok(doc
            .parts
            .into_iter()
            .map(|p| (p.part_number, p.etag))
            .collect())
    }

    /// AWS's example of CompleteMultipartUpload, request and answer. The example's Location
    /// is an absolute URL; LabStore's is the object's path, as it has always been.
    /// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_CompleteMultipartUpload.html#API_CompleteMultipartUpload_Examples>
    #[test]
    fn complete_multipart_upload_reads_and_answers_as_documented() {
        let request = r#"<CompleteMultipartUpload>
              <Part>
                <PartNumber>1</PartNumber>
                <ETag>"a54357aff0632cce46d942af68356b38"</ETag>
              </Part>
              <Part>
                <PartNumber>2</PartNumber>
                <ETag>"0c78aef83f66abc1fa1e8477f296d394"</ETag>
              </Part>
              <Part>
                <PartNumber>3</PartNumber>
                <ETag>"acbd18db4cc2f85cedef654fccc4a4d8"</ETag>
              </Part>
            </CompleteMultipartUpload>"#;
        let quoted = |etag: &str| format!("\"{etag}\"");
        assert_eq!(
            parts(request).unwrap(),
            [
                ("1".into(), quoted("a54357aff0632cce46d942af68356b38")),
                ("2".into(), quoted("0c78aef83f66abc1fa1e8477f296d394")),
                ("3".into(), quoted("acbd18db4cc2f85cedef654fccc4a4d8")),
            ]
        );
        let doc = CompleteMultipartUploadResult {
            xmlns: Xmlns::default(),
            location: "http://Example-Bucket.s3.amazonaws.com/Example-Object",
            bucket: "Example-Bucket",
            key: "Example-Object",
            etag: "\"3858f62230ac3c915f300c664312c11f-9\"",
            checksum: None,
            checksum_type: None,
        };
        assert_documented(
            &to_xml(None, &doc).unwrap(),
            r#"<?xml version="1.0" encoding="UTF-8"?>
            <CompleteMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
              <Location>http://Example-Bucket.s3.amazonaws.com/Example-Object</Location>
              <Bucket>Example-Bucket</Bucket>
              <Key>Example-Object</Key>
              <ETag>"3858f62230ac3c915f300c664312c11f-9"</ETag>
            </CompleteMultipartUploadResult>"#,
        );
        let doc = CompleteMultipartUploadResult {
            location: "/Example-Bucket/Example-Object",
            checksum: Some(Checksum {
                algorithm: Algorithm::Crc32,
                value: "1yHzVQ==-9",
            }),
            checksum_type: Some("COMPOSITE"),
            ..doc
        };
        assert_eq!(
            to_xml(None, &doc).unwrap(),
            format!(
                "{DECLARATION}<CompleteMultipartUploadResult xmlns=\"{S3_XMLNS}\">\
                 <Location>/Example-Bucket/Example-Object</Location>\
                 <Bucket>Example-Bucket</Bucket><Key>Example-Object</Key>\
                 <ETag>&quot;3858f62230ac3c915f300c664312c11f-9&quot;</ETag>\
                 <ChecksumCRC32>1yHzVQ==-9</ChecksumCRC32><ChecksumType>COMPOSITE</ChecksumType>\
                 </CompleteMultipartUploadResult>"
            )
        );
    }

    /// What SDKs send besides the part list (namespaces, checksums, interleaved elements) is
    /// accepted; a part without its number or ETag, or a document not of this root, is not.
    /// 10,000 parts with a checksum each fit the element bound.
    #[test]
    fn complete_multipart_upload_requests_are_bounded() {
        let body = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
            <Part><ETag> \"e1\" </ETag><ChecksumCRC32>AAAAAA==</ChecksumCRC32>\
            <PartNumber> 1 </PartNumber></Part><Other/><Part><PartNumber>2</PartNumber>\
            <ETag>e2</ETag></Part></CompleteMultipartUpload>";
        assert_eq!(
            parts(body).unwrap(),
            [(" 1 ".into(), " \"e1\" ".into()), ("2".into(), "e2".into())]
        );
        // Each part's checksums are read, by algorithm.
        let doc: CompleteMultipartUpload = read(body.as_bytes()).unwrap();
        assert_eq!(
            doc.parts[0].checksums(),
            [(Algorithm::Crc32, "AAAAAA==".to_owned())]
        );
        assert_eq!(doc.parts[1].checksums(), []);
        let every = "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>e</ETag>\
            <ChecksumCRC64NVME> n </ChecksumCRC64NVME><ChecksumSHA256>s2</ChecksumSHA256>\
            <ChecksumSHA1>s1</ChecksumSHA1><ChecksumCRC32C>c</ChecksumCRC32C></Part>\
            </CompleteMultipartUpload>";
        let doc: CompleteMultipartUpload = read(every.as_bytes()).unwrap();
        assert_eq!(
            doc.parts[0].checksums(),
            [
                (Algorithm::Crc32c, "c".to_owned()),
                (Algorithm::Sha1, "s1".to_owned()),
                (Algorithm::Sha256, "s2".to_owned()),
                (Algorithm::Crc64Nvme, "n".to_owned()),
            ]
        );
        for bad in [
            "<CompleteMultipartUpload><Part><ETag>e</ETag></Part></CompleteMultipartUpload>",
            "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber></Part>\
             </CompleteMultipartUpload>",
            "<Complete><Part><PartNumber>1</PartNumber><ETag>e</ETag></Part></Complete>",
        ] {
            assert_eq!(parts(bad).unwrap_err(), Code::MalformedXML, "{bad}");
        }
        let part = |n: u32| {
            format!(
                "<Part><PartNumber>{n}</PartNumber><ETag>\"{n:032x}\"</ETag>\
                 <ChecksumCRC32>AAAAAA==</ChecksumCRC32></Part>"
            )
        };
        let all: String = (1..=10_000).map(part).collect();
        let body = format!("<CompleteMultipartUpload>{all}</CompleteMultipartUpload>");
        assert!(body.len() < 4 * 1024 * 1024);
        assert_eq!(parts(&body).unwrap().len(), 10_000);
    }

    /// AWS's example of ListParts' answer, in LabStore's order.
    /// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListParts.html#API_ListParts_Examples>
    #[test]
    fn list_parts_answers_as_documented() {
        let initiator = owner(
            "arn:aws:iam::111122223333:user/some-user-11116a31-17b5-4fb7-9df5-b288870f11xx",
            "umat-user-11116a31-17b5-4fb7-9df5-b288870f11xx",
        );
        let owner = owner(
            "75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a",
            "someName",
        );
        let part = |number, last_modified, etag: &str| ListedPart {
            part_number: number,
            last_modified: timestamp(last_modified),
            etag: format!("\"{etag}\""),
            size: 10_485_760,
            checksum: None,
        };
        let doc = ListPartsResult {
            xmlns: Xmlns::default(),
            bucket: "example-bucket",
            key: "example-object",
            upload_id: "XXBsb2FkIElEIGZvciBlbHZpbmcncyVcdS1tb3ZpZS5tMnRzEEEwbG9hZA",
            initiator: &initiator,
            owner: &owner,
            storage_class: "STANDARD",
            part_number_marker: 1,
            next_part_number_marker: Some(3),
            max_parts: 2,
            is_truncated: true,
            checksum_algorithm: None,
            checksum_type: None,
            parts: vec![
                part(2, 1_289_422_114_000, "7778aef83f66abc1fa1e8477f296d394"),
                part(3, 1_289_422_113_000, "aaaa18db4cc2f85cedef654fccc4a4x8"),
            ],
        };
        assert_documented(
            &to_xml(None, &doc).unwrap(),
            r#"<?xml version="1.0" encoding="UTF-8"?>
            <ListPartsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
              <Bucket>example-bucket</Bucket>
              <Key>example-object</Key>
              <UploadId>XXBsb2FkIElEIGZvciBlbHZpbmcncyVcdS1tb3ZpZS5tMnRzEEEwbG9hZA</UploadId>
              <Initiator>
                  <ID>arn:aws:iam::111122223333:user/some-user-11116a31-17b5-4fb7-9df5-b288870f11xx</ID>
                  <DisplayName>umat-user-11116a31-17b5-4fb7-9df5-b288870f11xx</DisplayName>
              </Initiator>
              <Owner>
                <ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a</ID>
                <DisplayName>someName</DisplayName>
              </Owner>
              <StorageClass>STANDARD</StorageClass>
              <PartNumberMarker>1</PartNumberMarker>
              <NextPartNumberMarker>3</NextPartNumberMarker>
              <MaxParts>2</MaxParts>
              <IsTruncated>true</IsTruncated>
              <Part>
                <PartNumber>2</PartNumber>
                <LastModified>2010-11-10T20:48:34.000Z</LastModified>
                <ETag>"7778aef83f66abc1fa1e8477f296d394"</ETag>
                <Size>10485760</Size>
              </Part>
              <Part>
                <PartNumber>3</PartNumber>
                <LastModified>2010-11-10T20:48:33.000Z</LastModified>
                <ETag>"aaaa18db4cc2f85cedef654fccc4a4x8"</ETag>
                <Size>10485760</Size>
              </Part>
            </ListPartsResult>"#,
        );
        // With a checksum algorithm: after IsTruncated, and each part's checksum after its
        // size.
        let mut doc = doc;
        doc.checksum_algorithm = Some("CRC32");
        doc.checksum_type = Some("FULL_OBJECT");
        doc.parts.truncate(1);
        doc.parts[0].checksum = Some(Checksum {
            algorithm: Algorithm::Crc32,
            value: "AAAAAA==",
        });
        let ours = to_xml(None, &doc).unwrap();
        assert!(ours.contains(
            "<IsTruncated>true</IsTruncated><ChecksumAlgorithm>CRC32</ChecksumAlgorithm>\
             <ChecksumType>FULL_OBJECT</ChecksumType><Part>"
        ));
        assert!(ours.contains(
            "<Size>10485760</Size><ChecksumCRC32>AAAAAA==</ChecksumCRC32></Part>\
             </ListPartsResult>"
        ));
    }

    /// AWS's first example of ListMultipartUploads' answer. LabStore always writes Prefix,
    /// which the example (a request without one) leaves out.
    /// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListMultipartUploads.html#API_ListMultipartUploads_Examples>
    #[test]
    fn list_multipart_uploads_answers_as_documented() {
        let owners = [
            owner(
                "arn:aws:iam::111122223333:user/user1-11111a31-17b5-4fb7-9df5-b111111f13de",
                "user1-11111a31-17b5-4fb7-9df5-b111111f13de",
            ),
            owner(
                "75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a",
                "OwnerDisplayName",
            ),
        ];
        let doc = ListMultipartUploadsResult {
            xmlns: Xmlns::default(),
            bucket: "bucket",
            key_marker: "",
            upload_id_marker: "",
            next_key_marker: Some("my-movie.m2ts"),
            next_upload_id_marker: Some("YW55IGlkZWEgd2h5IGVsdmluZydzIHVwbG9hZCBmYWlsZWQ"),
            prefix: "",
            delimiter: None,
            max_uploads: 3,
            is_truncated: true,
            uploads: vec![ListedUpload {
                key: "my-divisor",
                upload_id: "XMgbGlrZSBlbHZpbmcncyBub3QgaGF2aW5nIG11Y2ggbHVjaw",
                initiator: &owners[0],
                owner: &owners[1],
                storage_class: "STANDARD",
                initiated: timestamp(1_289_422_113_000),
                checksum_algorithm: None,
                checksum_type: None,
            }],
            common_prefixes: Vec::new(),
            encoding_type: None,
        };
        let documented = r#"<?xml version="1.0" encoding="UTF-8"?>
            <ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
              <Bucket>bucket</Bucket>
              <KeyMarker></KeyMarker>
              <UploadIdMarker></UploadIdMarker>
              <NextKeyMarker>my-movie.m2ts</NextKeyMarker>
              <NextUploadIdMarker>YW55IGlkZWEgd2h5IGVsdmluZydzIHVwbG9hZCBmYWlsZWQ</NextUploadIdMarker>
              <MaxUploads>3</MaxUploads>
              <IsTruncated>true</IsTruncated>
              <Upload>
                <Key>my-divisor</Key>
                <UploadId>XMgbGlrZSBlbHZpbmcncyBub3QgaGF2aW5nIG11Y2ggbHVjaw</UploadId>
                <Initiator>
                  <ID>arn:aws:iam::111122223333:user/user1-11111a31-17b5-4fb7-9df5-b111111f13de</ID>
                  <DisplayName>user1-11111a31-17b5-4fb7-9df5-b111111f13de</DisplayName>
                </Initiator>
                <Owner>
                  <ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a</ID>
                  <DisplayName>OwnerDisplayName</DisplayName>
                </Owner>
                <StorageClass>STANDARD</StorageClass>
                <Initiated>2010-11-10T20:48:33.000Z</Initiated>
              </Upload>
            </ListMultipartUploadsResult>"#;
        assert_documented(
            &to_xml(None, &doc).unwrap(),
            &documented.replace("<MaxUploads>", "<Prefix></Prefix><MaxUploads>"),
        );
        // With a delimiter: after Prefix, and the common prefixes after the uploads.
        let doc = ListMultipartUploadsResult {
            prefix: "photos/2006/",
            delimiter: Some("/"),
            common_prefixes: vec![CommonPrefix {
                prefix: "photos/2006/February/".into(),
            }],
            ..doc
        };
        let ours = to_xml(None, &doc).unwrap();
        assert!(ours.contains(
            "<Prefix>photos/2006/</Prefix><Delimiter>/</Delimiter><MaxUploads>3</MaxUploads>"
        ));
        assert!(ours.ends_with(
            "</Upload><CommonPrefixes><Prefix>photos/2006/February/</Prefix></CommonPrefixes>\
             </ListMultipartUploadsResult>"
        ));
    }
}
