//! Bucket policies: the `policy` kind of bucket configuration (`bucket_config`). The document
//! is kept as the client sent it and, in the bucket's in-memory state, compiled, so that
//! authorizing a request neither queries SQLite nor parses JSON.

use std::sync::Arc;

use super::bucket_config::ConfigDocument;
use super::ObjectIndex;
use crate::policy::document::{
    self, ActionSpec, Effect, PolicyDocument, PolicyKind, PrincipalSpec, Principals, ResourceSpec,
    Statement, Version,
};
use crate::policy::eval::CompiledPolicy;

/// A bucket's policy: the document as the client sent it, and its compiled form.
#[derive(Debug)]
pub struct BucketPolicy {
    /// Returned by GetBucketPolicy byte for byte.
    pub text: String,
    /// What the authorizer evaluates.
    pub compiled: CompiledPolicy,
    /// Whether the policy is public (S3's "meaning of public", `policy::public`): what
    /// GetBucketPolicyStatus reports and Block Public Access acts on.
    pub public: bool,
}

impl BucketPolicy {
    /// A policy from a document the caller has already parsed and validated.
    pub fn new(text: String, document: &PolicyDocument) -> BucketPolicy {
        BucketPolicy {
            text,
            compiled: CompiledPolicy::compile(document),
            public: crate::policy::public::is_public(document),
        }
    }
}

/// `Deny` of every action on every resource to everyone.
fn deny_everything() -> PolicyDocument {
    PolicyDocument {
        version: Version::V2012_10_17,
        id: None,
        statements: vec![Statement {
            sid: Some("UnreadableStoredPolicy".into()),
            effect: Effect::Deny,
            actions: ActionSpec::Action(vec!["*".into()]),
            resources: Some(ResourceSpec::Resource(vec!["*".into()])),
            principals: Some(PrincipalSpec::Principal(Principals::Any)),
            conditions: Vec::new(),
        }],
    }
}

impl ConfigDocument for BucketPolicy {
    /// A stored document, parsed again at open. Every stored document passed validation when
    /// it was written, so a failure here means the table was damaged or a newer parser is
    /// stricter. Such a policy denies every request to the bucket: losing access until the
    /// policy is replaced or deleted is safer than granting what the owner may have denied.
    fn load(bucket: &str, text: String) -> BucketPolicy {
        match document::parse(&text, PolicyKind::Resource) {
            Ok(document) => BucketPolicy::new(text, &document),
            Err(e) => {
                tracing::error!(
                    bucket,
                    error = %e,
                    "the stored bucket policy does not parse; denying every request to the bucket until it is replaced or deleted"
                );
                BucketPolicy {
                    text,
                    compiled: CompiledPolicy::compile(&deny_everything()),
                    public: false,
                }
            }
        }
    }

    fn document(&self) -> &str {
        &self.text
    }
}

impl ObjectIndex {
    /// The bucket's policy as last committed, if it has one. Cheap: a read lock and an `Arc`
    /// clone; no SQLite, no parsing. Meant for the request path (authorization).
    pub fn bucket_policy(&self, bucket: &str) -> Option<Arc<BucketPolicy>> {
        self.bucket_state(bucket)?.configs.policy.clone()
    }
}

#[cfg(test)]
mod tests;
