//! A bucket's default encryption: the `encryption` kind of bucket configuration
//! (`bucket_config`, PutBucketEncryption). The stored document is JSON: the algorithm (always
//! `AES256`: SSE-S3, the only one LabStore implements) and `BucketKeyEnabled` as the client
//! gave it, echoed by GetBucketEncryption (an S3 Bucket Key changes nothing for SSE-S3).

use serde::{Deserialize, Serialize};

use super::bucket_config::ConfigDocument;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Stored {
    algorithm: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    bucket_key_enabled: Option<bool>,
}

/// A bucket's default encryption: applied to every object written without
/// `x-amz-server-side-encryption`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketEncryption {
    text: String,
    /// `BucketKeyEnabled` as given (`None`: absent).
    pub bucket_key_enabled: Option<bool>,
}

impl BucketEncryption {
    /// SSE-S3 (`AES256`) by default.
    pub fn sse_s3(bucket_key_enabled: Option<bool>) -> BucketEncryption {
        let stored = Stored {
            algorithm: "AES256".into(),
            bucket_key_enabled,
        };
        BucketEncryption {
            text: serde_json::to_string(&stored).unwrap_or_default(),
            bucket_key_enabled,
        }
    }

    /// The algorithm objects get: `AES256`.
    pub fn algorithm(&self) -> &'static str {
        "AES256"
    }
}

impl ConfigDocument for BucketEncryption {
    /// A stored document that no longer parses (damage) is logged and read as SSE-S3: the
    /// safe failure encrypts rather than stores plaintext.
    fn load(bucket: &str, text: String) -> BucketEncryption {
        match serde_json::from_str::<Stored>(&text) {
            Ok(stored) if stored.algorithm == "AES256" => BucketEncryption {
                text,
                bucket_key_enabled: stored.bucket_key_enabled,
            },
            _ => {
                tracing::error!(
                    bucket,
                    "the stored default encryption does not parse; the bucket encrypts with SSE-S3"
                );
                BucketEncryption::sse_s3(None)
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
    fn a_default_encryption_round_trips_through_its_stored_document() {
        for key in [None, Some(true), Some(false)] {
            let config = BucketEncryption::sse_s3(key);
            let loaded = BucketEncryption::load("b", config.document().to_owned());
            assert_eq!(loaded, config);
        }
        assert_eq!(
            BucketEncryption::load("b", "not json".into()),
            BucketEncryption::sse_s3(None)
        );
    }
}
