//! The `object_lock` bucket configuration kind: present when the bucket has Object Lock
//! enabled. The document is the configuration as received.

/// A bucket's Object Lock configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectLockConfig {
    document: String,
}

impl ObjectLockConfig {
    pub fn new(document: String) -> ObjectLockConfig {
        ObjectLockConfig { document }
    }
}

impl super::ConfigDocument for ObjectLockConfig {
    fn load(_bucket: &str, document: String) -> ObjectLockConfig {
        ObjectLockConfig { document }
    }

    fn document(&self) -> &str {
        &self.document
    }
}
