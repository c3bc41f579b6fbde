//! Crash safety: SIGKILL the server while uploads and overwrites are in flight, restart it,
//! and check that every acknowledged object reads back whole, nothing torn is listed, and no
//! temporary or orphaned file is left behind. Half the writes are small enough to be stored
//! inline in the object index (`backend.s3.inline_max`), half go to blob files. Every object
//! is encrypted (SSE-S3: new buckets have it by default, `docs/encryption.md`).

use crate::common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::signing::{try_send, Signer};
use common::{spawn_with_root, ROOT_SECRET};
use sha2::{Digest, Sha256};

const WRITERS: usize = 6;
const KEYS_PER_WRITER: usize = 4;

/// Per key: the last acknowledged body's hash, and the hash of a write in flight.
#[derive(Default, Clone)]
struct KeyState {
    acked: Option<[u8; 32]>,
    in_flight: Option<[u8; 32]>,
}

/// The default `backend.s3.inline_max`: objects up to it have no blob file.
const INLINE_MAX: usize = labstore::config::INLINE_MAX as usize;

fn body(writer: usize, round: usize) -> Vec<u8> {
    // Content unique per write; every other write is stored inline (up to INLINE_MAX), the
    // others in blobs (up to ~600 KiB).
    let spread = writer * 7919 + round * 104_729;
    let len = match round % 2 {
        0 => 1 + spread % INLINE_MAX,
        _ => INLINE_MAX + 1 + spread % (600 * 1024),
    };
    let mut state = (writer as u64) << 32 | round as u64;
    (0..len)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 56) as u8
        })
        .collect()
}

fn put(addr: std::net::SocketAddr, key: &str, body: &[u8]) -> std::io::Result<u16> {
    let signer = Signer::s3("admin", ROOT_SECRET);
    let path = format!("/crash/{key}");
    let (path, headers) = signer.sign(addr, "PUT", &path, &[], body);
    try_send(addr, "PUT", &path, &headers, body).map(|r| r.status)
}

fn get(addr: std::net::SocketAddr, key: &str) -> (u16, Vec<u8>) {
    get_path(addr, &format!("/crash/{key}"))
}

/// A signed GET of `path`, its status and raw body bytes.
fn get_path(addr: std::net::SocketAddr, path: &str) -> (u16, Vec<u8>) {
    let signer = Signer::s3("admin", ROOT_SECRET);
    let (path, headers) = signer.sign(addr, "GET", path, &[], b"");
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    use std::io::{Read, Write};
    let mut head = format!("GET {path} HTTP/1.1\r\n");
    for (n, v) in &headers {
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    head.push_str("Connection: close\r\n\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let status = String::from_utf8_lossy(&raw[9..12]).parse().unwrap();
    (status, raw[split + 4..].to_vec())
}

#[test]
fn acknowledged_writes_survive_kill_9_and_nothing_torn_is_listed() {
    let dir = tempfile::tempdir().unwrap();
    let server = spawn_with_root(dir.path());
    let signer = Signer::s3("admin", ROOT_SECRET);
    let (path, headers) = signer.sign(server.s3, "PUT", "/crash", &[], b"");
    assert_eq!(
        try_send(server.s3, "PUT", &path, &headers, b"")
            .unwrap()
            .status,
        200
    );

    let states: Arc<Mutex<HashMap<String, KeyState>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let addr = server.s3;
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let (states, stop) = (Arc::clone(&states), Arc::clone(&stop));
            std::thread::spawn(move || {
                let mut acked = 0;
                for round in 0.. {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let key = format!("w{w}/k{}", round % KEYS_PER_WRITER);
                    let data = body(w, round);
                    let hash: [u8; 32] = Sha256::digest(&data).into();
                    states
                        .lock()
                        .unwrap()
                        .entry(key.clone())
                        .or_default()
                        .in_flight = Some(hash);
                    match put(addr, &key, &data) {
                        Ok(200) => {
                            acked += 1;
                            let mut all = states.lock().unwrap();
                            let state = all.get_mut(&key).unwrap();
                            (state.acked, state.in_flight) = (Some(hash), None);
                        }
                        // The server is gone: whatever was in flight stays in flight.
                        _ => break,
                    }
                }
                acked
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(1500));
    drop(server); // SIGKILL, then wait for the exit.
    stop.store(true, Ordering::Relaxed);
    let acked: usize = writers.into_iter().map(|w| w.join().unwrap()).sum();
    assert!(
        acked > 20,
        "too few writes were acknowledged before the kill ({acked}) for the test to mean much"
    );

    let server = spawn_with_root(dir.path());
    let states = states.lock().unwrap().clone();
    for (key, state) in &states {
        let (status, data) = get(server.s3, key);
        let hash: [u8; 32] = Sha256::digest(&data).into();
        match status {
            200 => assert!(
                Some(hash) == state.acked || Some(hash) == state.in_flight,
                "{key}: the stored object is neither the last acknowledged write nor the one in flight"
            ),
            404 => assert!(state.acked.is_none(), "{key}: an acknowledged write was lost"),
            other => panic!("{key}: GET answered {other}"),
        }
    }
    // Every listed object reads back whole, with its listed size.
    let (path, headers) = signer.sign(server.s3, "GET", "/crash?list-type=2", &[], b"");
    let listing = try_send(server.s3, "GET", &path, &headers, b"")
        .unwrap()
        .body;
    let (mut listed, mut in_blobs) = (0, 0);
    for entry in listing.split("<Contents>").skip(1) {
        let key = &entry[entry.find("<Key>").unwrap() + 5..entry.find("</Key>").unwrap()];
        let size: usize = entry[entry.find("<Size>").unwrap() + 6..entry.find("</Size>").unwrap()]
            .parse()
            .unwrap();
        let (status, data) = get(server.s3, key);
        assert_eq!((status, data.len()), (200, size), "{key}");
        listed += 1;
        in_blobs += usize::from(size > INLINE_MAX);
    }
    assert!(
        in_blobs > 0 && in_blobs < listed,
        "the kill should leave both inline and blob-stored objects ({in_blobs} of {listed} in blobs)"
    );
    // No temporary file survives a restart, and no blob is left that no object uses. On
    // PostgreSQL the data directory may be shared with other nodes, whose uploads in flight
    // look the same: a restart keeps them, for the scrub's orphan sweep after its grace.
    if !common::postgres::enabled() {
        let objects = dir.path().join("data/objects");
        assert_eq!(std::fs::read_dir(objects.join("tmp")).unwrap().count(), 0);
        let blobs = common::blob_files(dir.path());
        assert_eq!(blobs, in_blobs, "blob files and blob-stored objects differ");
    }
    server.stop();
}

/// A signed request to the versioned bucket; `None` when the server is gone.
fn call(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    body: &[u8],
) -> Option<common::Response> {
    let signer = Signer::s3("admin", ROOT_SECRET);
    let (path, headers) = signer.sign(addr, method, path, &[], body);
    try_send(addr, method, &path, &headers, body).ok()
}

/// What a writer saw acknowledged: versions with their content, delete markers, and the
/// markers whose removal was acknowledged.
#[derive(Default)]
struct History {
    versions: Vec<(String, String, [u8; 32])>,
    markers: Vec<(String, String)>,
    removed: Vec<(String, String)>,
}

/// Versioned overwrites, deletes (markers) and marker removals, killed mid-flight: every
/// acknowledged version reads back whole, every acknowledged marker is still one, every
/// acknowledged removal stays removed, every version the index holds reads back whole, and no
/// blob is left that no version refers to (nor is one missing).
#[test]
fn acknowledged_versions_survive_kill_9() {
    if crate::common::postgres::sqlite_only("reads the SQLite index after the kill") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let server = spawn_with_root(dir.path());
    let addr = server.s3;
    assert_eq!(call(addr, "PUT", "/crashv", b"").unwrap().status, 200);
    let enable = b"<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>";
    assert_eq!(
        call(addr, "PUT", "/crashv?versioning", enable)
            .unwrap()
            .status,
        200
    );
    let stop = Arc::new(AtomicBool::new(false));
    let written = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let stop = Arc::clone(&stop);
            let written = Arc::clone(&written);
            std::thread::spawn(move || {
                let mut seen = History::default();
                for round in 0.. {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let key = format!("w{w}/k{}", round % 2);
                    let path = format!("/crashv/{key}");
                    let done = match round % 5 {
                        3 => call(addr, "DELETE", &path, b"").map(|r| {
                            let id = r.header("x-amz-version-id").unwrap_or_default();
                            seen.markers.push((key.clone(), id.to_owned()));
                            r.status
                        }),
                        4 => match seen.markers.iter().rposition(|(k, _)| *k == key) {
                            Some(at) => {
                                let (key, id) = seen.markers.remove(at);
                                let path = format!("/crashv/{key}?versionId={id}");
                                call(addr, "DELETE", &path, b"").map(|r| {
                                    seen.removed.push((key, id));
                                    r.status
                                })
                            }
                            None => Some(204),
                        },
                        _ => {
                            let data = body(w, round);
                            let hash: [u8; 32] = Sha256::digest(&data).into();
                            call(addr, "PUT", &path, &data).map(|r| {
                                let id = r.header("x-amz-version-id").unwrap_or_default();
                                seen.versions.push((key.clone(), id.to_owned(), hash));
                                written.fetch_add(1, Ordering::Relaxed);
                                r.status
                            })
                        }
                    };
                    match done {
                        Some(200 | 204) => {}
                        // The server is gone: what was in flight was not acknowledged.
                        _ => {
                            seen.versions.retain(|(_, id, _)| !id.is_empty());
                            seen.markers.retain(|(_, id)| !id.is_empty());
                            break;
                        }
                    }
                }
                seen
            })
        })
        .collect();
    // Long enough for a good number of writes, however loaded the machine is.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    std::thread::sleep(Duration::from_millis(1500));
    while written.load(Ordering::Relaxed) < 40 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(server); // SIGKILL, then wait for the exit.
    stop.store(true, Ordering::Relaxed);
    let histories: Vec<History> = writers.into_iter().map(|w| w.join().unwrap()).collect();
    let acked: usize = histories.iter().map(|h| h.versions.len()).sum();
    assert!(acked > 20, "too few versions acknowledged ({acked})");

    let server = spawn_with_root(dir.path());
    let addr = server.s3;
    let get = |key: &str, id: &str| {
        let path = format!("/crashv/{key}?versionId={id}");
        let signer = Signer::s3("admin", ROOT_SECRET);
        let (path, headers) = signer.sign(addr, "GET", &path, &[], b"");
        let response = try_send(addr, "GET", &path, &headers, b"").unwrap();
        (response.status, response.body)
    };
    for history in &histories {
        for (key, id, hash) in &history.versions {
            let (status, data) = get_bytes(addr, key, id);
            assert_eq!(status, 200, "{key} {id}: an acknowledged version was lost");
            let got: [u8; 32] = Sha256::digest(&data).into();
            assert_eq!(&got, hash, "{key} {id}: torn");
        }
        for (key, id) in &history.markers {
            assert_eq!(
                get(key, id).0,
                405,
                "{key} {id}: an acknowledged marker was lost"
            );
        }
        for (key, id) in &history.removed {
            assert_eq!(
                get(key, id).0,
                404,
                "{key} {id}: a removed marker came back"
            );
        }
    }
    server.stop();
    // Every version the index holds reads back with its size, and the blob files are exactly
    // those of the versions too large to be inline (one each: these are single PUTs).
    let db = rusqlite::Connection::open(dir.path().join("data/metadata/objects.db")).unwrap();
    let rows: Vec<(String, String, i64)> = db
        .prepare("SELECT key, version, size FROM objects WHERE bucket = 'crashv' AND delete_marker = 0 AND null_version = 0")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let current: i64 = db
        .query_row(
            "SELECT count(*) FROM objects WHERE bucket = 'crashv' AND current = 1 AND delete_marker = 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(current, 0, "a delete marker is never current");
    drop(db);
    let server = spawn_with_root(dir.path());
    for (key, id, size) in &rows {
        let (status, data) = get_bytes(server.s3, key, id);
        assert_eq!(
            (status, data.len()),
            (200, usize::try_from(*size).unwrap()),
            "{key} {id}"
        );
    }
    server.stop();
    let objects = dir.path().join("data/objects");
    assert_eq!(std::fs::read_dir(objects.join("tmp")).unwrap().count(), 0);
    let blobs = common::blob_files(dir.path());
    let in_blobs = rows
        .iter()
        .filter(|(_, _, size)| usize::try_from(*size).unwrap() > INLINE_MAX)
        .count();
    assert!(
        in_blobs > 0 && in_blobs < rows.len(),
        "both kinds of versions were stored"
    );
    assert_eq!(
        blobs, in_blobs,
        "blob files and blob-stored versions differ"
    );
}

/// GET of one version, raw bytes.
fn get_bytes(addr: std::net::SocketAddr, key: &str, id: &str) -> (u16, Vec<u8>) {
    get_path(addr, &format!("/crashv/{key}?versionId={id}"))
}
