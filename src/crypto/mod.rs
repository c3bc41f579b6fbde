//! Secrets at rest: the master key in `keys_dir/master.key`, AES-256-GCM sealing bound to the
//! row a ciphertext belongs to, and `Secret`, the only type that holds a plaintext secret.
//!
//! Invariant: a plaintext secret exists only inside `Secret` (or a `Zeroizing` buffer while
//! being opened). `Secret` never prints its value and wipes it on drop.

pub mod sse;

use std::fmt;
use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use rand::distr::{Alphanumeric, SampleString};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
const KEY_LEN: usize = 32;
pub const MASTER_KEY_FILE: &str = "master.key";
/// The new key while `labstore keys rotate` re-seals everything under it.
pub const NEXT_KEY_FILE: &str = "master.key.next";
/// The key a finished rotation replaced: kept to open session tokens it sealed (at most 12
/// hours), never to seal.
pub const PREVIOUS_KEY_FILE: &str = "master.key.previous";

/// A plaintext secret (a secret access key, the root secret). Redacted in `Debug` and
/// `Display`, compared in constant time, wiped from memory on drop.
#[derive(Clone)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    pub fn new(value: String) -> Secret {
        Secret(Zeroizing::new(value))
    }

    /// A fresh random secret of `len` alphanumeric characters (about 5.95 bits each).
    pub fn generate(len: usize) -> Secret {
        Secret::new(Alphanumeric.sample_string(&mut rand::rng(), len))
    }

    /// The plaintext, for signing and sealing only. Never log or format it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl PartialEq for Secret {
    fn eq(&self, other: &Secret) -> bool {
        self.0.as_bytes().ct_eq(other.0.as_bytes()).into()
    }
}

impl Eq for Secret {}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(\"********\")")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("********")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("sealed value is {0} bytes, shorter than a nonce and tag")]
    TooShort(usize),
    #[error("sealed value does not open with this key and row (wrong key, or moved or altered)")]
    Unseal,
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("{path} holds {len} bytes; a master key is exactly 32")]
    BadKeyFile { path: PathBuf, len: usize },
}

/// The AES-256-GCM key that seals every secret stored in a database.
pub struct MasterKey {
    cipher: Aes256Gcm,
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey(..)")
    }
}

impl MasterKey {
    fn from_bytes(bytes: &[u8; KEY_LEN]) -> MasterKey {
        MasterKey {
            cipher: Aes256Gcm::new(bytes.into()),
        }
    }

    /// Reads `keys_dir/master.key`; `Ok(None)` when it does not exist.
    pub fn load(keys_dir: &Path) -> Result<Option<MasterKey>, CryptoError> {
        MasterKey::load_named(keys_dir, MASTER_KEY_FILE)
    }

    /// Reads `keys_dir/<name>`; `Ok(None)` when it does not exist.
    pub fn load_named(keys_dir: &Path, name: &str) -> Result<Option<MasterKey>, CryptoError> {
        let path = keys_dir.join(name);
        let bytes = match fs::read(&path) {
            Ok(bytes) => Zeroizing::new(bytes),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(CryptoError::Io { path, source }),
        };
        let key: &[u8; KEY_LEN] =
            bytes
                .as_slice()
                .try_into()
                .map_err(|_| CryptoError::BadKeyFile {
                    path: path.clone(),
                    len: bytes.len(),
                })?;
        warn_if_readable_by_others(keys_dir, &path);
        Ok(Some(MasterKey::from_bytes(key)))
    }

    /// Creates a new key from the OS RNG at `keys_dir/master.key` (mode 0600, directory 0700).
    /// Fails rather than overwrite an existing file.
    pub fn create(keys_dir: &Path) -> Result<MasterKey, CryptoError> {
        MasterKey::create_named(keys_dir, MASTER_KEY_FILE)
    }

    /// Creates a new key at `keys_dir/<name>`, as `create` does.
    pub fn create_named(keys_dir: &Path, name: &str) -> Result<MasterKey, CryptoError> {
        let io_err = |path: &Path| {
            let path = path.to_path_buf();
            move |source| CryptoError::Io { path, source }
        };
        create_dir_0700(keys_dir).map_err(io_err(keys_dir))?;
        let key = Aes256Gcm::generate_key(OsRng);
        let bytes: Zeroizing<[u8; KEY_LEN]> = Zeroizing::new(key.into());
        let path = keys_dir.join(name);
        let tmp = keys_dir.join(format!(".{name}.tmp"));
        let _ = fs::remove_file(&tmp);
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(io_err(&tmp))?;
        file.write_all(bytes.as_slice())
            .and_then(|()| file.sync_all())
            .map_err(io_err(&tmp))?;
        // A hard link publishes the key atomically and, unlike rename, fails if a key
        // appeared in the meantime: an existing key is never replaced.
        let linked = fs::hard_link(&tmp, &path).map_err(io_err(&path));
        let _ = fs::remove_file(&tmp);
        linked?;
        fs::File::open(keys_dir)
            .and_then(|dir| dir.sync_all())
            .map_err(io_err(keys_dir))?;
        Ok(MasterKey::from_bytes(&bytes))
    }

    /// Encrypts `plaintext` with a fresh random nonce, binding it to `aad` (the identity of the
    /// row it is stored in). Output: nonce || ciphertext || tag.
    pub fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Vec<u8> {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let payload = Payload {
            msg: plaintext,
            aad,
        };
        // Encryption only fails for inputs larger than GCM's 64 GiB limit.
        let ciphertext = self
            .cipher
            .encrypt(&nonce, payload)
            .unwrap_or_else(|_| unreachable!("AES-GCM input over 64 GiB"));
        let mut out = Vec::with_capacity(NONCE_LEN + ciphertext.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ciphertext);
        out
    }

    /// Opens a value made by `seal` with the same `aad`.
    pub fn open(&self, sealed: &[u8], aad: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        if sealed.len() < NONCE_LEN + TAG_LEN {
            return Err(CryptoError::TooShort(sealed.len()));
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        let payload = Payload {
            msg: ciphertext,
            aad,
        };
        self.cipher
            .decrypt(Nonce::from_slice(nonce), payload)
            .map(Zeroizing::new)
            .map_err(|_| CryptoError::Unseal)
    }

    /// Seals a `Secret`.
    pub fn seal_secret(&self, secret: &Secret, aad: &[u8]) -> Vec<u8> {
        self.seal(secret.expose().as_bytes(), aad)
    }

    /// Opens a value sealed with `seal_secret`.
    pub fn open_secret(&self, sealed: &[u8], aad: &[u8]) -> Result<Secret, CryptoError> {
        let bytes = self.open(sealed, aad)?;
        let text = std::str::from_utf8(&bytes).map_err(|_| CryptoError::Unseal)?;
        Ok(Secret::new(text.to_owned()))
    }
}

fn create_dir_0700(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    if dir.is_dir() {
        return Ok(());
    }
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

fn warn_if_readable_by_others(dir: &Path, key: &Path) {
    for (path, loosest) in [(dir, 0o700), (key, 0o600)] {
        if let Ok(meta) = fs::metadata(path) {
            let mode = meta.permissions().mode() & 0o777;
            if mode & !loosest != 0 {
                tracing::warn!(
                    path = %path.display(),
                    mode = format!("{mode:o}"),
                    "master key file or directory is accessible to other users; chmod it to {loosest:o}"
                );
            }
        }
    }
}

/// Serialized masked, so that no serializer (`config show`, a JSON log field) can leak it.
impl serde::Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("********")
    }
}

impl<'de> serde::Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Secret, D::Error> {
        String::deserialize(d).map(Secret::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_then_open_round_trips_and_binds_the_row() {
        let dir = tempfile::tempdir().unwrap();
        let key = MasterKey::create(&dir.path().join("keys")).unwrap();
        let sealed = key.seal(b"wJalrXUtnFEMI/K7MDENG", b"access_key:AKIA1");
        assert_eq!(sealed.len(), NONCE_LEN + 21 + TAG_LEN);
        assert_eq!(
            key.open(&sealed, b"access_key:AKIA1").unwrap().as_slice(),
            b"wJalrXUtnFEMI/K7MDENG"
        );
        // Moved to another row: refused.
        assert!(matches!(
            key.open(&sealed, b"access_key:AKIA2"),
            Err(CryptoError::Unseal)
        ));
        // Altered: refused.
        let mut flipped = sealed.clone();
        flipped[NONCE_LEN] ^= 1;
        assert!(matches!(
            key.open(&flipped, b"access_key:AKIA1"),
            Err(CryptoError::Unseal)
        ));
        // Truncated: refused before decryption is attempted.
        assert!(matches!(
            key.open(&sealed[..20], b"x"),
            Err(CryptoError::TooShort(20))
        ));
    }

    #[test]
    fn each_seal_uses_a_fresh_nonce() {
        let dir = tempfile::tempdir().unwrap();
        let key = MasterKey::create(dir.path()).unwrap();
        assert_ne!(key.seal(b"same", b"row"), key.seal(b"same", b"row"));
    }

    #[test]
    fn master_key_file_is_private_and_reloads() {
        let dir = tempfile::tempdir().unwrap();
        let keys = dir.path().join("keys");
        let key = MasterKey::create(&keys).unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&keys), 0o700);
        assert_eq!(mode(&keys.join(MASTER_KEY_FILE)), 0o600);
        assert_eq!(fs::read(keys.join(MASTER_KEY_FILE)).unwrap().len(), 32);
        let sealed = key.seal(b"v", b"r");
        let again = MasterKey::load(&keys).unwrap().unwrap();
        assert_eq!(again.open(&sealed, b"r").unwrap().as_slice(), b"v");
        // Never overwritten.
        assert!(MasterKey::create(&keys).is_err());
        assert!(MasterKey::load(&dir.path().join("nowhere"))
            .unwrap()
            .is_none());
    }

    #[test]
    fn a_short_key_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(MASTER_KEY_FILE), b"short").unwrap();
        assert!(matches!(
            MasterKey::load(dir.path()),
            Err(CryptoError::BadKeyFile { len: 5, .. })
        ));
    }

    #[test]
    fn secrets_never_format_their_value() {
        let s = Secret::new("hunter2-very-secret".into());
        assert!(!format!("{s:?} {s} {:?}", Some(&s)).contains("hunter2"));
        assert_eq!(s, Secret::new("hunter2-very-secret".into()));
        assert_ne!(s, Secret::new("hunter3-very-secret".into()));
        let generated = Secret::generate(40);
        assert_eq!(generated.len(), 40);
        assert!(generated
            .expose()
            .chars()
            .all(|c| c.is_ascii_alphanumeric()));
    }
}
