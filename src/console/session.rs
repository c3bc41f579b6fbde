//! Console sessions: kept by the server, named to the browser only by an opaque random id in
//! an `HttpOnly`, `SameSite=Strict` cookie (`Secure` over TLS). A session holds the
//! credentials' access key id (and a temporary credential's session token), never the secret,
//! which sign-in checked once; a CSRF token that every change must carry; and its two
//! expiries, idle and absolute. Sessions live in memory: a restart signs everyone out.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::RngCore;

use crate::auth::Delegated;

/// The cookie that names a session.
pub const COOKIE: &str = "labstore_console";

/// One signed-in browser.
pub struct Session {
    pub id: String,
    pub delegated: Delegated,
    /// The principal's ARN at sign-in, for the page header.
    pub arn: String,
    /// Every change (a POST) carries it, in a form field or the `x-csrf-token` header.
    pub csrf: String,
    started: Instant,
    last_used: Mutex<Instant>,
    /// A message for the next page (what the last change did, or why it was refused).
    flash: Mutex<Option<Flash>>,
}

/// A one-time message shown on the next page.
#[derive(Debug, Clone)]
pub struct Flash {
    pub ok: bool,
    pub text: String,
}

impl Session {
    pub fn set_flash(&self, ok: bool, text: impl Into<String>) {
        *lock(&self.flash) = Some(Flash {
            ok,
            text: text.into(),
        });
    }

    pub fn take_flash(&self) -> Option<Flash> {
        lock(&self.flash).take()
    }

    /// Whether `presented` is this session's CSRF token (constant time).
    pub fn csrf_matches(&self, presented: &str) -> bool {
        use subtle::ConstantTimeEq;
        self.csrf.as_bytes().ct_eq(presented.as_bytes()).into()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// 256 random bits, hex.
fn random_id() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// Every live session, and the sign-in attempts per client address.
pub struct Sessions {
    idle: Duration,
    max: Duration,
    per_minute: u32,
    live: Mutex<HashMap<String, Arc<Session>>>,
    attempts: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

impl Sessions {
    pub fn new(idle: Duration, max: Duration, per_minute: u32) -> Sessions {
        Sessions {
            idle,
            max,
            per_minute,
            live: Mutex::default(),
            attempts: Mutex::default(),
        }
    }

    /// Starts a session for credentials sign-in proved.
    pub fn start(&self, delegated: Delegated, arn: String) -> Arc<Session> {
        let now = Instant::now();
        let session = Arc::new(Session {
            id: random_id(),
            delegated,
            arn,
            csrf: random_id(),
            started: now,
            last_used: Mutex::new(now),
            flash: Mutex::default(),
        });
        let mut live = lock(&self.live);
        // Sessions past an expiry go whenever one starts: the map stays as large as the
        // sessions in use.
        live.retain(|_, s| !self.expired(s, now));
        live.insert(session.id.clone(), Arc::clone(&session));
        session
    }

    fn expired(&self, session: &Session, now: Instant) -> bool {
        now.duration_since(session.started) >= self.max
            || now.duration_since(*lock(&session.last_used)) >= self.idle
    }

    /// The live session `id` names, its idle clock restarted; `None` when there is none or it
    /// expired (then it is removed).
    pub fn get(&self, id: &str) -> Option<Arc<Session>> {
        let now = Instant::now();
        let mut live = lock(&self.live);
        let session = live.get(id)?;
        if self.expired(session, now) {
            live.remove(id);
            return None;
        }
        *lock(&session.last_used) = now;
        Some(Arc::clone(session))
    }

    /// Ends session `id` (sign-out).
    pub fn end(&self, id: &str) {
        lock(&self.live).remove(id);
    }

    /// Counts a sign-in attempt from `ip`; `false` when it is over the per-minute limit.
    pub fn attempt(&self, ip: IpAddr) -> bool {
        let now = Instant::now();
        let mut attempts = lock(&self.attempts);
        if attempts.len() > 10_000 {
            attempts.retain(|_, (start, _)| now.duration_since(*start) < Duration::from_secs(60));
        }
        let (start, count) = attempts.entry(ip).or_insert((now, 0));
        if now.duration_since(*start) >= Duration::from_secs(60) {
            *start = now;
            *count = 0;
        }
        *count += 1;
        *count <= self.per_minute
    }

    /// Sessions live now (for tests and metrics).
    pub fn len(&self) -> usize {
        lock(&self.live).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delegated() -> Delegated {
        Delegated {
            access_key: "AKIA".into(),
            token: None,
        }
    }

    #[test]
    fn sessions_expire_idle_and_absolutely_and_end_on_sign_out() {
        let sessions = Sessions::new(Duration::from_millis(100), Duration::from_secs(60), 5);
        let s = sessions.start(delegated(), "arn".into());
        assert_eq!(s.id.len(), 64);
        assert_ne!(s.id, s.csrf);
        assert!(sessions.get(&s.id).is_some());
        std::thread::sleep(Duration::from_millis(150));
        assert!(sessions.get(&s.id).is_none(), "idle too long");

        let sessions = Sessions::new(Duration::from_secs(60), Duration::from_millis(400), 5);
        let s = sessions.start(delegated(), "arn".into());
        for _ in 0..3 {
            std::thread::sleep(Duration::from_millis(50));
            assert!(sessions.get(&s.id).is_some());
        }
        std::thread::sleep(Duration::from_millis(300));
        assert!(
            sessions.get(&s.id).is_none(),
            "past the absolute expiry, however used"
        );

        let sessions = Sessions::new(Duration::from_secs(60), Duration::from_secs(60), 5);
        let s = sessions.start(delegated(), "arn".into());
        sessions.end(&s.id);
        assert!(sessions.get(&s.id).is_none());
        assert!(sessions.get("").is_none());
        assert!(s.csrf_matches(&s.csrf.clone()));
        assert!(!s.csrf_matches(""));
    }

    #[test]
    fn sign_in_attempts_are_limited_per_address() {
        let sessions = Sessions::new(Duration::from_secs(60), Duration::from_secs(60), 3);
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        assert!((0..3).all(|_| sessions.attempt(a)));
        assert!(!sessions.attempt(a));
        assert!(sessions.attempt(b), "another address has its own count");
    }
}
