//! An object's checksum as the index keeps it, typed: what GetObject and HeadObject (with
//! `x-amz-checksum-mode: ENABLED`), CompleteMultipartUpload, CopyObject and
//! GetObjectAttributes report.

use super::{Algorithm, ChecksumType};
use crate::objects::ObjectMeta;

/// A stored checksum: its algorithm, its type and its value as S3 sends it in
/// `x-amz-checksum-*` (a composite one ends in `-<number of parts>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredChecksum<'a> {
    pub algorithm: Algorithm,
    pub kind: ChecksumType,
    pub value: &'a str,
}

impl<'a> StoredChecksum<'a> {
    /// The value without a composite checksum's `-<number of parts>`: the form
    /// GetObjectAttributes gives (`<Checksum><ChecksumCRC32>`), where the part count has an
    /// element of its own.
    pub fn bare_value(&self) -> &'a str {
        match self.kind {
            ChecksumType::Composite => self
                .value
                .rsplit_once('-')
                .map_or(self.value, |(value, _)| value),
            ChecksumType::FullObject => self.value,
        }
    }
}

/// The object's checksum and its type, if it has one.
pub fn object_checksum(meta: &ObjectMeta) -> Option<StoredChecksum<'_>> {
    let algorithm = meta
        .checksum_algorithm
        .as_deref()
        .and_then(Algorithm::from_name)?;
    let value = meta.checksum.as_deref()?;
    let kind = meta
        .checksum_type
        .as_deref()
        .and_then(ChecksumType::from_name)
        // Not recorded (never since migration 6): a composite value carries its part count,
        // which standard base64 never holds.
        .unwrap_or(if meta.parts.is_some() && value.contains('-') {
            ChecksumType::Composite
        } else {
            ChecksumType::FullObject
        });
    Some(StoredChecksum {
        algorithm,
        kind,
        value,
    })
}

/// The checksum of part `number` (as uploaded) of a multipart object with a `COMPOSITE` checksum:
/// the part's own, as UploadPart returned it. `None` for other objects: a full-object
/// checksum keeps no part checksums that S3 would report.
pub fn part_checksum(meta: &ObjectMeta, number: usize) -> Option<StoredChecksum<'_>> {
    let whole = object_checksum(meta)?;
    if whole.kind != ChecksumType::Composite || meta.parts.is_none() {
        return None;
    }
    let segment = meta
        .segments
        .iter()
        .enumerate()
        .find(|(idx, s)| usize::try_from(s.number(*idx)).is_ok_and(|n| n == number))?
        .1;
    Some(StoredChecksum {
        value: segment.checksum.as_deref()?,
        ..whole
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::objects::Segment;
    use crate::storage::BlobId;

    fn object(parts: Option<u32>, checksum: Option<(&str, &str, Option<&str>)>) -> ObjectMeta {
        let segment = |c: &str| Segment {
            stored: crate::objects::Stored::Blob(BlobId::parse(&"0".repeat(32)).unwrap()),
            size: 1,
            etag: None,
            checksum: Some(c.into()),
            part_number: None,
        };
        ObjectMeta {
            bucket: "b".into(),
            key: "k".into(),
            size: 2,
            etag: "e".into(),
            last_modified: 0,
            headers: Default::default(),
            checksum_algorithm: checksum.map(|(a, _, _)| a.into()),
            checksum: checksum.map(|(_, v, _)| v.into()),
            checksum_type: checksum.and_then(|(_, _, t)| t.map(Into::into)),
            parts,
            segments: vec![segment("p1=="), segment("p2==")],
            tags: crate::objects::Tags::default(),
            acl: None,
            version: String::new(),
            null_version: true,
            lock: crate::objects::LockState::default(),
            sse: None,
        }
    }

    #[test]
    fn stored_checksums_are_typed() {
        use ChecksumType::{Composite, FullObject};
        let single = object(None, Some(("CRC32", "NhCmhg==", Some("FULL_OBJECT"))));
        let got = object_checksum(&single).unwrap();
        assert_eq!((got.algorithm, got.kind), (Algorithm::Crc32, FullObject));
        assert_eq!((got.value, got.bare_value()), ("NhCmhg==", "NhCmhg=="));
        assert_eq!(part_checksum(&single, 1), None);

        let composite = object(Some(2), Some(("SHA1", "abc+/=-2", Some("COMPOSITE"))));
        let got = object_checksum(&composite).unwrap();
        assert_eq!((got.kind, got.bare_value()), (Composite, "abc+/="));
        assert_eq!(part_checksum(&composite, 2).unwrap().value, "p2==");
        assert_eq!(part_checksum(&composite, 0), None);
        assert_eq!(part_checksum(&composite, 3), None);
        // Parts are found by the numbers they were uploaded as.
        let mut sparse = composite.clone();
        sparse.segments[1].part_number = Some(7);
        assert_eq!(part_checksum(&sparse, 7).unwrap().value, "p2==");
        assert_eq!(part_checksum(&sparse, 2), None);

        let full = object(
            Some(2),
            Some(("CRC64NVME", "AAAAAAAAAAA=", Some("FULL_OBJECT"))),
        );
        assert_eq!(object_checksum(&full).unwrap().kind, FullObject);
        assert_eq!(part_checksum(&full, 1), None);

        // Not recorded: told apart by the part count in the value.
        let old = object(Some(2), Some(("CRC32", "AAAAAA==-2", None)));
        assert_eq!(object_checksum(&old).unwrap().kind, Composite);
        let old = object(None, Some(("CRC32", "AAAAAA==", None)));
        assert_eq!(object_checksum(&old).unwrap().kind, FullObject);

        assert_eq!(object_checksum(&object(None, None)), None);
        let unknown = object(None, Some(("MD5", "x", Some("FULL_OBJECT"))));
        assert_eq!(object_checksum(&unknown), None);
    }
}
