//! Temporary credentials (STS sessions) as self-contained tokens: what a session is (its
//! `Claims`), sealing them into the session token a client carries in `X-Amz-Security-Token`,
//! opening that token again, and the cache of opened sessions that makes a session's later
//! requests cost a map lookup. Why tokens rather than a table: `docs/sts.md`.
//!
//! A token is `LSS1.` + base64url(AES-256-GCM(claims as JSON)), sealed with the master key,
//! the associated data binding the version prefix. A token that does not open is refused
//! whole; nothing in it is believed before it opens.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, RwLock};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::crypto::{MasterKey, Secret};
use crate::policy::document::{parse, PolicyKind};
use crate::policy::eval::CompiledPolicy;

/// The prefix, and the associated data, of tokens of this form.
const VERSION: &str = "LSS1";

/// Past this many opened sessions the cache drops the expired ones, and starts over when
/// none has expired: it bounds memory whatever tokens clients present.
const CACHE_CAPACITY: usize = 16_384;

/// Whom a session acts as.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Subject {
    /// AssumeRole / AssumeRoleWithWebIdentity: the role by id (its policies are read from the
    /// view on every request), with its name and ARN as they were at issue, for the session's
    /// ARN.
    Role {
        role_id: String,
        role_name: String,
        role_arn: String,
        session_name: String,
    },
    /// GetSessionToken by an IAM user: the user by id.
    User { user_id: String },
    /// GetSessionToken by the account root.
    Root,
}

/// The OpenID Connect identity a web-identity session was issued for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebIdentity {
    /// `arn:aws:iam::<acct>:oidc-provider/<host/path>`.
    pub provider_arn: String,
    /// The issuer without `https://`, as condition keys name it.
    pub issuer: String,
    pub sub: String,
    pub aud: String,
}

/// Everything a session is. Sealed into its token; never stored.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// `ASIA…`: the access key id the session's requests are signed with.
    pub access_key: String,
    /// The secret access key (in the sealed token only).
    pub secret: String,
    pub subject: Subject,
    /// Unix seconds.
    pub issued: i64,
    pub expires: i64,
    /// Session policies (`Policy`, then the documents of `PolicyArns` as they were at issue):
    /// when any is given, the session may do only what they also allow.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<String>,
    /// Session tags (`aws:PrincipalTag/*`), over the role's own tags.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<(String, String)>,
    /// The session tag keys a role chaining passes on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transitive: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_identity: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub web: Option<WebIdentity>,
}

impl fmt::Debug for Claims {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Claims")
            .field("access_key", &self.access_key)
            .field("secret", &"********")
            .field("subject", &self.subject)
            .field("issued", &self.issued)
            .field("expires", &self.expires)
            .field("policies", &self.policies.len())
            .field("tags", &self.tags)
            .field("source_identity", &self.source_identity)
            .field("web", &self.web)
            .finish_non_exhaustive()
    }
}

impl Drop for Claims {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.secret);
    }
}

/// Why a token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenError {
    /// Not a token of this server, damaged, or sealed with another key.
    Invalid,
    /// Opened, but past its expiry.
    Expired,
}

/// Seals `claims` into a session token.
pub fn seal(master: &MasterKey, claims: &Claims) -> String {
    let json = Zeroizing::new(serde_json::to_vec(claims).expect("claims serialize"));
    let sealed = master.seal(&json, VERSION.as_bytes());
    let mut token = String::with_capacity(VERSION.len() + 1 + sealed.len() * 4 / 3 + 4);
    token.push_str(VERSION);
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(&sealed, &mut token);
    token
}

/// Opens a token made by `seal`. The expiry is not checked here (see `Session::check`).
pub fn open(master: &MasterKey, token: &str) -> Result<Claims, TokenError> {
    let body = token
        .strip_prefix(VERSION)
        .and_then(|rest| rest.strip_prefix('.'))
        .ok_or(TokenError::Invalid)?;
    let sealed = URL_SAFE_NO_PAD
        .decode(body)
        .map_err(|_| TokenError::Invalid)?;
    let json = master
        .open(&sealed, VERSION.as_bytes())
        .map_err(|_| TokenError::Invalid)?;
    serde_json::from_slice(&json).map_err(|_| TokenError::Invalid)
}

/// An opened session: its claims, its secret, and its session policies compiled.
pub struct Session {
    /// The token it was opened from: a cached session answers only to the same token.
    token: Box<str>,
    pub claims: Claims,
    pub secret: Secret,
    /// `claims.policies`, compiled. A document that no longer parses denies everything.
    pub policies: Vec<CompiledPolicy>,
    /// `aws:TokenIssueTime`: `claims.issued` in ISO 8601, formatted once at open.
    pub issue_time: String,
    /// A role session's `aws:userid`, `<role id>:<session name>`, formatted once at open.
    pub role_userid: Option<String>,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("claims", &self.claims)
            .finish_non_exhaustive()
    }
}

impl Session {
    pub(crate) fn new(token: &str, claims: Claims) -> Session {
        let policies = claims
            .policies
            .iter()
            .map(|text| match parse(text, PolicyKind::Identity) {
                Ok(doc) => CompiledPolicy::compile(&doc),
                Err(_) => CompiledPolicy::deny_all(),
            })
            .collect();
        let issue_time =
            crate::timefmt::format_iso8601(crate::timefmt::from_unix_seconds(claims.issued));
        let role_userid = match &claims.subject {
            Subject::Role {
                role_id,
                session_name,
                ..
            } => Some(format!("{role_id}:{session_name}")),
            _ => None,
        };
        Session {
            token: token.into(),
            secret: Secret::new(claims.secret.clone()),
            claims,
            policies,
            issue_time,
            role_userid,
        }
    }

    /// A session made from `claims` directly, for tests of what uses sessions.
    #[cfg(test)]
    pub(crate) fn for_tests(claims: Claims) -> Session {
        Session::new("", claims)
    }

    /// Whether the session is past its expiry at `now` (Unix seconds).
    pub fn expired(&self, now: i64) -> bool {
        now >= self.claims.expires
    }
}

/// Opened sessions by access key id, each answering only to the token it was opened from.
/// Thread-safe: readers share a lock held for one lookup.
pub struct SessionCache {
    sessions: RwLock<HashMap<Box<str>, Arc<Session>>>,
}

impl Default for SessionCache {
    fn default() -> Self {
        SessionCache {
            sessions: RwLock::new(HashMap::new()),
        }
    }
}

impl SessionCache {
    /// The session `token` names for `access_key`, opened once and then cached. A token that
    /// does not open, or that was issued for another access key, is `Invalid`; an expired one
    /// `Expired`.
    pub fn session(
        &self,
        (master, previous): (&MasterKey, Option<&MasterKey>),
        access_key: &str,
        token: &str,
        now: i64,
    ) -> Result<Arc<Session>, TokenError> {
        let cached = self
            .sessions
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(access_key)
            .filter(|s| *s.token == *token)
            .cloned();
        let session = match cached {
            Some(session) => session,
            None => {
                // A token sealed before a key rotation opens with the previous key.
                let claims = match (open(master, token), previous) {
                    (Err(TokenError::Invalid), Some(previous)) => open(previous, token)?,
                    (opened, _) => opened?,
                };
                if claims.access_key != access_key {
                    return Err(TokenError::Invalid);
                }
                let session = Arc::new(Session::new(token, claims));
                if !session.expired(now) {
                    self.insert(Arc::clone(&session), now);
                }
                session
            }
        };
        match session.expired(now) {
            true => Err(TokenError::Expired),
            false => Ok(session),
        }
    }

    fn insert(&self, session: Arc<Session>, now: i64) {
        let mut sessions = self
            .sessions
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if sessions.len() >= CACHE_CAPACITY {
            sessions.retain(|_, s| !s.expired(now));
            if sessions.len() >= CACHE_CAPACITY {
                sessions.clear();
            }
        }
        sessions.insert(session.claims.access_key.as_str().into(), session);
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.sessions.read().unwrap().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn master() -> MasterKey {
        let dir = tempfile::tempdir().unwrap();
        MasterKey::create(dir.path()).unwrap()
    }

    fn claims(access_key: &str, expires: i64) -> Claims {
        Claims {
            access_key: access_key.into(),
            secret: "s3cr3t".into(),
            subject: Subject::Role {
                role_id: "AROAEXAMPLE".into(),
                role_name: "r".into(),
                role_arn: "arn:aws:iam::123456789012:role/r".into(),
                session_name: "ci".into(),
            },
            issued: 100,
            expires,
            policies: vec![
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#.into(),
            ],
            tags: vec![("team".into(), "blue".into())],
            transitive: Vec::new(),
            source_identity: Some("alice".into()),
            web: None,
        }
    }

    #[test]
    fn a_sealed_token_opens_to_its_claims_and_only_with_its_key() {
        let key = master();
        let token = seal(&key, &claims("ASIAONE", 200));
        assert!(token.starts_with("LSS1."), "{token}");
        assert!(!token.contains("s3cr3t"));
        assert_eq!(open(&key, &token).unwrap(), claims("ASIAONE", 200));
        assert_eq!(open(&master(), &token), Err(TokenError::Invalid));
        // Any change to the sealed text is refused.
        let mut damaged = token.clone().into_bytes();
        let at = damaged.len() - 5;
        damaged[at] = if damaged[at] == b'A' { b'B' } else { b'A' };
        let damaged = String::from_utf8(damaged).unwrap();
        assert_eq!(open(&key, &damaged), Err(TokenError::Invalid));
        for junk in ["", "LSS1.", "LSS1.!!!", "LSS2.AAAA", &token[5..]] {
            assert_eq!(open(&key, junk), Err(TokenError::Invalid), "{junk}");
        }
        assert!(!format!("{:?}", claims("A", 1)).contains("s3cr3t"));
    }

    #[test]
    fn a_session_formats_its_issue_time_and_role_userid_once_at_open() {
        let key = master();
        let cache = SessionCache::default();
        let token = seal(&key, &claims("ASIAONE", 200));
        let session = cache.session((&key, None), "ASIAONE", &token, 150).unwrap();
        assert_eq!(session.issue_time, "1970-01-01T00:01:40Z");
        assert_eq!(session.role_userid.as_deref(), Some("AROAEXAMPLE:ci"));
        let mut user = claims("ASIATWO", 200);
        user.subject = Subject::User {
            user_id: "AIDAEXAMPLE".into(),
        };
        let session = cache
            .session((&key, None), "ASIATWO", &seal(&key, &user), 150)
            .unwrap();
        assert_eq!(session.role_userid, None);
    }

    #[test]
    fn the_cache_answers_only_to_the_same_token_and_access_key() {
        let key = master();
        let cache = SessionCache::default();
        let token = seal(&key, &claims("ASIAONE", 200));
        let session = cache.session((&key, None), "ASIAONE", &token, 150).unwrap();
        assert_eq!(session.secret.expose(), "s3cr3t");
        assert_eq!(session.policies.len(), 1);
        assert_eq!(cache.len(), 1);
        let again = cache.session((&key, None), "ASIAONE", &token, 150).unwrap();
        assert!(Arc::ptr_eq(&session, &again), "served from the cache");
        // Another session's token presented with this key id.
        let other = seal(&key, &claims("ASIATWO", 200));
        assert_eq!(
            cache
                .session((&key, None), "ASIAONE", &other, 150)
                .unwrap_err(),
            TokenError::Invalid
        );
        assert_eq!(
            cache
                .session((&key, None), "ASIATWO", &token, 150)
                .unwrap_err(),
            TokenError::Invalid
        );
        // Expiry is checked on every use, cached or not.
        assert_eq!(
            cache
                .session((&key, None), "ASIAONE", &token, 200)
                .unwrap_err(),
            TokenError::Expired
        );
        let expired = seal(&key, &claims("ASIAOLD", 120));
        assert_eq!(
            cache
                .session((&key, None), "ASIAOLD", &expired, 150)
                .unwrap_err(),
            TokenError::Expired
        );
    }
}
