//! The access settings a bucket keeps beside its policy, each a kind of bucket configuration
//! (`bucket_config`): S3 Object Ownership (`ownership`), Block Public Access
//! (`public_access_block`) and the bucket's ACL (`acl`); and the ACL type objects and
//! multipart uploads store in their rows (`objects.acl`, `uploads.acl`).
//!
//! What the settings mean (which requests they refuse, what a grant allows) is the S3
//! listener's business; here they are data: validated by the handler that writes them, stored
//! as compact text, parsed once at open. A stored document that no longer parses (a damaged
//! row) is loaded as the setting that grants the least: ACLs disabled, every public access
//! blocked, a private ACL.

use serde::{Deserialize, Serialize};

use super::bucket_config::ConfigDocument;

/// S3 Object Ownership: who owns the objects written to a bucket, and whether ACLs apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ownership {
    /// ACLs are disabled: the bucket owner owns every object and only policies grant access.
    BucketOwnerEnforced,
    /// ACLs apply; objects written with `bucket-owner-full-control` belong to the bucket owner.
    BucketOwnerPreferred,
    /// ACLs apply; the writer owns what it writes.
    ObjectWriter,
}

impl Ownership {
    pub const ALL: [Ownership; 3] = [
        Ownership::BucketOwnerEnforced,
        Ownership::BucketOwnerPreferred,
        Ownership::ObjectWriter,
    ];

    /// The name S3 uses, in `x-amz-object-ownership` and `<ObjectOwnership>`.
    pub fn name(self) -> &'static str {
        match self {
            Ownership::BucketOwnerEnforced => "BucketOwnerEnforced",
            Ownership::BucketOwnerPreferred => "BucketOwnerPreferred",
            Ownership::ObjectWriter => "ObjectWriter",
        }
    }

    pub fn from_name(name: &str) -> Option<Ownership> {
        Ownership::ALL.into_iter().find(|o| o.name() == name)
    }

    /// Whether ACLs are read and enforced on the bucket and its objects.
    pub fn acls_enabled(self) -> bool {
        self != Ownership::BucketOwnerEnforced
    }
}

/// The `ownership` kind: a bucket's Object Ownership rule, stored as its name.
#[derive(Debug)]
pub struct OwnershipControls {
    pub ownership: Ownership,
}

impl OwnershipControls {
    pub fn new(ownership: Ownership) -> OwnershipControls {
        OwnershipControls { ownership }
    }
}

impl ConfigDocument for OwnershipControls {
    /// An unknown name (damage) loads as `BucketOwnerEnforced`: ACLs grant nothing then.
    fn load(bucket: &str, document: String) -> OwnershipControls {
        let ownership = Ownership::from_name(&document).unwrap_or_else(|| {
            tracing::error!(
                bucket,
                document,
                "the stored object ownership does not parse; ACLs are disabled on the bucket until it is replaced"
            );
            Ownership::BucketOwnerEnforced
        });
        OwnershipControls { ownership }
    }

    fn document(&self) -> &str {
        self.ownership.name()
    }
}

/// The four Block Public Access settings; a setting left out of a request is false, as in S3.
#[expect(
    clippy::struct_excessive_bools,
    reason = "four independent switches, as S3 defines them"
)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct PublicAccessSettings {
    pub block_public_acls: bool,
    pub ignore_public_acls: bool,
    pub block_public_policy: bool,
    pub restrict_public_buckets: bool,
}

impl PublicAccessSettings {
    /// Every setting on: what S3 gives a new bucket.
    pub const ALL_BLOCKED: PublicAccessSettings = PublicAccessSettings {
        block_public_acls: true,
        ignore_public_acls: true,
        block_public_policy: true,
        restrict_public_buckets: true,
    };
}

/// The `public_access_block` kind: the settings, stored as JSON.
#[derive(Debug)]
pub struct PublicAccessBlock {
    pub settings: PublicAccessSettings,
    text: String,
}

impl PublicAccessBlock {
    pub fn new(settings: PublicAccessSettings) -> PublicAccessBlock {
        // Four booleans always serialize.
        let text = serde_json::to_string(&settings).unwrap_or_default();
        PublicAccessBlock { settings, text }
    }
}

impl ConfigDocument for PublicAccessBlock {
    /// A document that does not parse (damage) loads as every setting on.
    fn load(bucket: &str, document: String) -> PublicAccessBlock {
        match serde_json::from_str(&document) {
            Ok(settings) => PublicAccessBlock {
                settings,
                text: document,
            },
            Err(e) => {
                tracing::error!(
                    bucket,
                    error = %e,
                    "the stored public access block does not parse; blocking all public access to the bucket until it is replaced"
                );
                PublicAccessBlock::new(PublicAccessSettings::ALL_BLOCKED)
            }
        }
    }

    fn document(&self) -> &str {
        &self.text
    }
}

/// Who an ACL grant is to. LabStore serves one account, so a canonical user is that account
/// (the handlers refuse any other id); the two groups are S3's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Grantee {
    /// A canonical user id (64 hex digits).
    CanonicalUser(String),
    /// `http://acs.amazonaws.com/groups/global/AllUsers`: everyone, anonymous callers included.
    AllUsers,
    /// `http://acs.amazonaws.com/groups/global/AuthenticatedUsers`: every signed request.
    AuthenticatedUsers,
}

impl Grantee {
    /// Whether a grant to this grantee makes a bucket or object public (S3's "The meaning of
    /// public": a grant to either global group).
    pub fn is_public(&self) -> bool {
        matches!(self, Grantee::AllUsers | Grantee::AuthenticatedUsers)
    }
}

/// An ACL permission, as S3 names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AclPermission {
    #[serde(rename = "READ")]
    Read,
    #[serde(rename = "WRITE")]
    Write,
    #[serde(rename = "READ_ACP")]
    ReadAcp,
    #[serde(rename = "WRITE_ACP")]
    WriteAcp,
    #[serde(rename = "FULL_CONTROL")]
    FullControl,
}

impl AclPermission {
    pub const ALL: [AclPermission; 5] = [
        AclPermission::Read,
        AclPermission::Write,
        AclPermission::ReadAcp,
        AclPermission::WriteAcp,
        AclPermission::FullControl,
    ];

    pub fn name(self) -> &'static str {
        match self {
            AclPermission::Read => "READ",
            AclPermission::Write => "WRITE",
            AclPermission::ReadAcp => "READ_ACP",
            AclPermission::WriteAcp => "WRITE_ACP",
            AclPermission::FullControl => "FULL_CONTROL",
        }
    }

    pub fn from_name(name: &str) -> Option<AclPermission> {
        AclPermission::ALL.into_iter().find(|p| p.name() == name)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    pub grantee: Grantee,
    pub permission: AclPermission,
}

/// An access control list: its grants, in the order they were given. The owner is not kept:
/// every bucket and object belongs to the one account.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Acl {
    pub grants: Vec<Grant>,
}

impl Acl {
    /// The default ACL: the owner's FULL_CONTROL.
    pub fn private(owner_id: &str) -> Acl {
        Acl {
            grants: vec![Grant {
                grantee: Grantee::CanonicalUser(owner_id.to_owned()),
                permission: AclPermission::FullControl,
            }],
        }
    }

    /// Whether a grant is to everyone or to every signed caller.
    pub fn is_public(&self) -> bool {
        self.grants.iter().any(|g| g.grantee.is_public())
    }

    /// Whether the ACL grants nothing beyond the owner's own access (what a bucket with ACLs
    /// disabled accepts).
    pub fn owner_only(&self, owner_id: &str) -> bool {
        self.grants
            .iter()
            .all(|g| g.grantee == Grantee::CanonicalUser(owner_id.to_owned()))
    }

    /// The text stored in a row.
    pub fn to_text(&self) -> String {
        // Enums and strings always serialize.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// A stored ACL; one that does not parse (damage) reads as no grant at all, which the
    /// owner's own access does not need.
    pub fn from_text(text: &str) -> Acl {
        serde_json::from_str(text).unwrap_or_else(|e| {
            tracing::error!(error = %e, "a stored ACL does not parse; it grants nothing until it is replaced");
            Acl::default()
        })
    }
}

/// The `acl` kind: a bucket's ACL, stored as JSON.
#[derive(Debug)]
pub struct BucketAcl {
    pub acl: Acl,
    text: String,
}

impl BucketAcl {
    pub fn new(acl: Acl) -> BucketAcl {
        let text = acl.to_text();
        BucketAcl { acl, text }
    }
}

impl ConfigDocument for BucketAcl {
    fn load(bucket: &str, document: String) -> BucketAcl {
        match serde_json::from_str(&document) {
            Ok(acl) => BucketAcl {
                acl,
                text: document,
            },
            Err(e) => {
                tracing::error!(
                    bucket,
                    error = %e,
                    "the stored bucket ACL does not parse; it grants nothing until it is replaced"
                );
                BucketAcl::new(Acl::default())
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
    fn stored_forms_round_trip_and_damage_grants_least() {
        let acl = Acl {
            grants: vec![
                Grant {
                    grantee: Grantee::CanonicalUser("ab".into()),
                    permission: AclPermission::FullControl,
                },
                Grant {
                    grantee: Grantee::AllUsers,
                    permission: AclPermission::Read,
                },
            ],
        };
        assert_eq!(Acl::from_text(&acl.to_text()), acl);
        assert!(acl.is_public());
        assert!(!acl.owner_only("ab"));
        assert!(Acl::private("ab").owner_only("ab"));
        assert_eq!(Acl::from_text("{not json"), Acl::default());
        let bucket = BucketAcl::load("b", BucketAcl::new(acl.clone()).document().to_owned());
        assert_eq!(bucket.acl, acl);
        assert_eq!(BucketAcl::load("b", "[".into()).acl, Acl::default());

        for o in Ownership::ALL {
            let stored = OwnershipControls::new(o).document().to_owned();
            assert_eq!(OwnershipControls::load("b", stored).ownership, o);
        }
        assert_eq!(
            OwnershipControls::load("b", "Nobody".into()).ownership,
            Ownership::BucketOwnerEnforced
        );

        let some = PublicAccessSettings {
            block_public_policy: true,
            ..PublicAccessSettings::default()
        };
        let stored = PublicAccessBlock::new(some).document().to_owned();
        assert_eq!(PublicAccessBlock::load("b", stored).settings, some);
        assert_eq!(
            PublicAccessBlock::load("b", "{}x".into()).settings,
            PublicAccessSettings::ALL_BLOCKED
        );
    }
}
