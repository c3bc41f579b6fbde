//! What one listener allows: how many connections at once, how many from one client address,
//! and how long a client may stay silent; and the counters `/metrics` reports about them.
//!
//! At the listener's cap the serve loop stops accepting until a connection ends: waiting
//! clients queue in the kernel's backlog and are served in arrival order, and no descriptor
//! is spent on a connection that would only be closed again. A client address over its own
//! cap is accepted (only then is its address known) and closed at once, so that one client
//! cannot take every slot. Reverse proxies (`backend.trusted_proxies`) carry everyone's
//! connections and are exempt from the per-client cap.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::cidr::Cidr;

/// One listener's limits, from the configuration.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Connections served at once; at the cap, accepting pauses.
    pub max_connections: usize,
    /// Connections one client address may hold at once; over it, new ones are closed.
    pub max_connections_per_client: usize,
    /// Addresses exempt from the per-client cap (reverse proxies).
    pub exempt: Vec<Cidr>,
    /// Longest wait for a request's headers, including the wait for the next request on a
    /// kept-alive connection (hyper arms it again as soon as a response is written).
    pub header_read_timeout: Duration,
    /// Longest a request body may go without a byte while a handler waits for one.
    pub body_read_timeout: Duration,
}

/// Counters for `/metrics`. Relaxed atomics: each is independent and read only to report.
#[derive(Debug, Default)]
pub struct ConnectionStats {
    open: AtomicU64,
    waits: AtomicU64,
    refused: AtomicU64,
    body_timeouts: AtomicU64,
}

impl ConnectionStats {
    /// Connections being served now.
    pub fn open(&self) -> u64 {
        self.open.load(Ordering::Relaxed)
    }

    /// Times the listener was full and paused accepting until a connection ended.
    pub fn waits(&self) -> u64 {
        self.waits.load(Ordering::Relaxed)
    }

    /// Connections closed on arrival because their client address held its cap.
    pub fn refused(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }

    /// Request bodies abandoned because the client went quiet.
    pub fn body_timeouts(&self) -> u64 {
        self.body_timeouts.load(Ordering::Relaxed)
    }

    pub(super) fn waited(&self) {
        self.waits.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn refused_one(&self) {
        self.refused.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn body_timed_out(&self) {
        self.body_timeouts.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a connection as open until the returned guard drops.
    pub(super) fn opened(self: &Arc<Self>) -> OpenGuard {
        self.open.fetch_add(1, Ordering::Relaxed);
        OpenGuard(Arc::clone(self))
    }
}

/// Holds one count in [`ConnectionStats::open`].
pub(super) struct OpenGuard(Arc<ConnectionStats>);

impl Drop for OpenGuard {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::Relaxed);
    }
}

/// How many connections each client address holds on one listener.
#[derive(Debug, Default)]
pub(super) struct Clients {
    held: Mutex<HashMap<IpAddr, usize>>,
}

impl Clients {
    /// Admits a connection from `ip` unless that address already holds `cap`; the guard
    /// gives the slot back when the connection ends.
    pub(super) fn admit(self: &Arc<Self>, ip: IpAddr, cap: usize) -> Option<ClientGuard> {
        // An IPv4 client of a dual-stack listener shows as ::ffff:a.b.c.d; one client, one key.
        let ip = ip.to_canonical();
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        let count = held.entry(ip).or_default();
        if *count >= cap {
            return None;
        }
        *count += 1;
        Some(ClientGuard {
            clients: Arc::clone(self),
            ip,
        })
    }
}

/// One connection's place in [`Clients`].
pub(super) struct ClientGuard {
    clients: Arc<Clients>,
    ip: IpAddr,
}

impl Drop for ClientGuard {
    fn drop(&mut self) {
        let mut held = self.clients.held.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = held.get_mut(&self.ip) {
            *count -= 1;
            // Forget addresses with nothing open, so the map holds only current clients.
            if *count == 0 {
                held.remove(&self.ip);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_address_is_held_to_its_cap_and_gets_slots_back() {
        let clients = Arc::new(Clients::default());
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let first = clients.admit(a, 2).unwrap();
        let _second = clients.admit(a, 2).unwrap();
        assert!(clients.admit(a, 2).is_none());
        // The same client through a dual-stack listener is the same client.
        assert!(clients
            .admit("::ffff:10.0.0.1".parse().unwrap(), 2)
            .is_none());
        let _other = clients
            .admit(b, 2)
            .expect("another address has its own cap");
        drop(first);
        assert!(clients.admit(a, 2).is_some());
    }

    #[test]
    fn addresses_with_nothing_open_are_forgotten() {
        let clients = Arc::new(Clients::default());
        let guard = clients.admit("10.0.0.1".parse().unwrap(), 1).unwrap();
        drop(guard);
        assert!(clients.held.lock().unwrap().is_empty());
    }

    #[test]
    fn open_connections_are_counted_while_their_guard_lives() {
        let stats = Arc::new(ConnectionStats::default());
        let one = stats.opened();
        let two = stats.opened();
        assert_eq!(stats.open(), 2);
        drop(one);
        drop(two);
        assert_eq!(stats.open(), 0);
    }
}
