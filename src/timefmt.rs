//! Time formats AWS uses (placeholder until the full module lands).

use std::time::{SystemTime, UNIX_EPOCH};

pub fn unix_seconds(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs() as i64,
        Err(e) => -(e.duration().as_secs() as i64),
    }
}
