//! Bucket tags: the `tagging` kind of bucket configuration (`bucket_config`). The stored
//! document is the tag set as a JSON array of `[key, value]` pairs, in the order the client
//! gave them: GetBucketTagging writes S3's XML from the parsed pairs, so the client's own XML
//! (whitespace, namespace prefixes) need not be kept.

use super::bucket_config::ConfigDocument;
use super::Tags;

/// A bucket's tag set: never empty (PutBucketTagging with no tags removes the document).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketTagging {
    text: String,
    pub tags: Tags,
}

impl BucketTagging {
    /// A tag set the caller has validated (S3's limits and characters).
    pub fn new(tags: Tags) -> BucketTagging {
        BucketTagging {
            text: serde_json::to_string(&tags).unwrap_or_else(|_| "[]".into()),
            tags,
        }
    }
}

impl ConfigDocument for BucketTagging {
    /// A stored document that no longer parses (damage) is logged and read as no tags: tags
    /// grant nothing, so losing them is the harmless failure.
    fn load(bucket: &str, text: String) -> BucketTagging {
        match serde_json::from_str::<Tags>(&text) {
            Ok(tags) => BucketTagging { text, tags },
            Err(e) => {
                tracing::error!(
                    bucket,
                    error = %e,
                    "the stored bucket tag set does not parse; the bucket reads as untagged"
                );
                BucketTagging {
                    text,
                    tags: Vec::new(),
                }
            }
        }
    }

    fn document(&self) -> &str {
        &self.text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tag_set_round_trips_through_its_stored_document() {
        let tags = vec![
            ("Key".to_owned(), "Value".to_owned()),
            ("é ü".to_owned(), String::new()),
        ];
        let stored = BucketTagging::new(tags.clone());
        let loaded = BucketTagging::load("b", stored.document().to_owned());
        assert_eq!(loaded, stored);
        assert_eq!(loaded.tags, tags);
        assert!(BucketTagging::load("b", "not json".into()).tags.is_empty());
    }
}
