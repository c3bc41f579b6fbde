//! The integration suite on PostgreSQL: with `TEST_POSTGRES_URL` set (`just
//! test-postgres` starts a throwaway cluster and sets it), every in-process server keeps its
//! metadata there instead of in SQLite files, each server directory in schemas of its own.

use std::path::Path;

/// The variable naming the cluster the suite runs on; unset: SQLite.
pub const URL_VAR: &str = "TEST_POSTGRES_URL";

/// The PostgreSQL URL when the suite runs on PostgreSQL.
pub fn url() -> Option<String> {
    std::env::var(URL_VAR).ok().filter(|u| !u.is_empty())
}

/// Whether the suite runs on PostgreSQL.
pub fn enabled() -> bool {
    url().is_some()
}

/// The schema prefix of the server in `dir`: the same for the same directory (a server
/// restarted on it finds its data), different for every other.
pub fn schema_for(dir: &Path) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    dir.hash(&mut h);
    format!("t{:016x}", h.finish())
}

/// The configuration variables that put the server in `dir` on PostgreSQL, when the suite
/// runs there.
pub fn engine_for(dir: &Path) -> Vec<(String, String)> {
    let Some(url) = url() else {
        return Vec::new();
    };
    vec![
        ("LABSTORE_BACKEND_METADATA_ENGINE".into(), "postgres".into()),
        ("LABSTORE_BACKEND_METADATA_POSTGRES_URL".into(), url),
        (
            "LABSTORE_BACKEND_METADATA_POSTGRES_SCHEMA".into(),
            schema_for(dir),
        ),
        (
            "LABSTORE_BACKEND_METADATA_POSTGRES_POOL_SIZE".into(),
            "4".into(),
        ),
    ]
}

/// For a test of what only the SQLite engine has (its files, the offline commands that work
/// on them, point reads in place): `true`, after saying so, when the suite runs on
/// PostgreSQL; the test then returns. Each caller says why.
pub fn sqlite_only(why: &str) -> bool {
    if enabled() {
        eprintln!("not on PostgreSQL: {why}");
    }
    enabled()
}
