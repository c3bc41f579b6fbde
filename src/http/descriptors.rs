//! The process's file-descriptor budget. Every connection costs a descriptor; once they run
//! out, `accept` fails with EMFILE and every client is refused, not just the one who took
//! them. So at startup the soft `RLIMIT_NOFILE` is raised to the hard limit, and the
//! listeners' connection caps are scaled down, with a warning, if together they could still
//! exhaust it.

/// Most descriptors asked for when the hard limit is unlimited: more than any cap here needs.
const UNLIMITED_TARGET: u64 = 1 << 20;

/// Raises the soft `RLIMIT_NOFILE` to the hard limit and returns the soft limit in force.
// `rlim_t` is u64 on 64-bit Linux but narrower on some targets: the casts are not useless there.
#[allow(clippy::unnecessary_cast)]
pub fn raise_nofile_limit() -> std::io::Result<u64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct we pass and has no other preconditions.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &raw mut limit) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    let hard = if limit.rlim_max == libc::RLIM_INFINITY {
        UNLIMITED_TARGET as libc::rlim_t
    } else {
        limit.rlim_max
    };
    if limit.rlim_cur != libc::RLIM_INFINITY && limit.rlim_cur < hard {
        let raised = libc::rlimit {
            rlim_cur: hard,
            rlim_max: limit.rlim_max,
        };
        // SAFETY: setrlimit reads the struct we pass; raising the soft limit up to the hard
        // one needs no privilege.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raw const raised) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        limit.rlim_cur = hard;
    }
    Ok(limit.rlim_cur as u64)
}

/// One listener's claim on the budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Claim {
    /// The listener's connection cap.
    pub connections: usize,
    /// Descriptors one connection may hold: its socket, plus a blob file on S3 (an upload's
    /// temporary file or a download's segment).
    pub per_connection: u64,
}

/// Caps that fit `limit` descriptors once `reserve` (standard streams, listeners, the
/// databases' files) is set aside: the caps as they are when they fit, otherwise each scaled
/// down in proportion (never below one connection). `None` when no change was needed.
pub fn fit(claims: &[Claim], reserve: u64, limit: u64) -> Option<Vec<usize>> {
    let wanted: u64 = claims
        .iter()
        .map(|c| c.connections as u64 * c.per_connection)
        .sum();
    let available = limit.saturating_sub(reserve);
    if wanted <= available {
        return None;
    }
    let scaled = claims
        .iter()
        .map(|c| {
            let share = c.connections as u128 * u128::from(available) / u128::from(wanted);
            (share as usize).max(1)
        })
        .collect();
    Some(scaled)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(admin: usize, iam: usize, s3: usize) -> Vec<Claim> {
        vec![
            Claim {
                connections: admin,
                per_connection: 1,
            },
            Claim {
                connections: iam,
                per_connection: 1,
            },
            Claim {
                connections: s3,
                per_connection: 2,
            },
        ]
    }

    #[test]
    fn caps_that_fit_are_kept() {
        assert_eq!(fit(&claims(64, 256, 1024), 200, 65536), None);
        assert_eq!(
            fit(&claims(64, 256, 1024), 200, 64 + 256 + 2048 + 200),
            None
        );
    }

    #[test]
    fn caps_that_do_not_fit_are_scaled_down_in_proportion() {
        // The reported case: 1024 descriptors.
        let scaled = fit(&claims(64, 256, 1024), 200, 1024).unwrap();
        let used: u64 = scaled[0] as u64 + scaled[1] as u64 + 2 * scaled[2] as u64;
        assert!(used + 200 <= 1024, "{scaled:?} uses {used}");
        assert!(scaled[2] > scaled[1] && scaled[1] > scaled[0], "{scaled:?}");
    }

    #[test]
    fn no_listener_is_scaled_to_nothing() {
        assert_eq!(fit(&claims(64, 256, 1024), 200, 100), Some(vec![1, 1, 1]));
    }

    #[test]
    fn the_soft_limit_can_be_raised_to_the_hard_one() {
        let soft = raise_nofile_limit().expect("getrlimit/setrlimit");
        assert!(soft > 0);
        // Raising again changes nothing.
        assert_eq!(raise_nofile_limit().unwrap(), soft);
    }
}
