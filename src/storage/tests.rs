use std::collections::HashSet;
use std::io::Read;

use super::*;

fn read(store: &BlobStore, id: &BlobId) -> Vec<u8> {
    let mut out = Vec::new();
    std::fs::File::open(store.path(id))
        .unwrap()
        .read_to_end(&mut out)
        .unwrap();
    out
}

#[tokio::test]
async fn small_and_large_blobs_commit_whole() {
    let dir = tempfile::tempdir().unwrap();
    let store = BlobStore::open(dir.path(), true, 4096).unwrap();
    for size in [0usize, 10, 4096, 10_000, 100_000] {
        let data: Vec<u8> = (0..=250).cycle().take(size).collect();
        let mut w = store.writer();
        for chunk in data.chunks(1000) {
            w.write(chunk).await.unwrap();
        }
        let (id, len) = w.commit().await.unwrap();
        assert_eq!(len, size as u64);
        assert_eq!(read(&store, &id), data);
        assert!(BlobId::parse(id.as_str()).is_some());
    }
    assert_eq!(
        std::fs::read_dir(dir.path().join("objects/tmp"))
            .unwrap()
            .count(),
        0
    );
}

/// Blocking appends and buffered writes interleave in call order, and an abandoned writer
/// that wrote on a blocking thread still leaves nothing behind.
#[tokio::test]
async fn blocking_appends_keep_order_with_buffered_writes() {
    let dir = tempfile::tempdir().unwrap();
    let store = BlobStore::open(dir.path(), true, 4096).unwrap();
    let mut w = store.writer();
    w.write(b"head-").await.unwrap();
    let mut w = tokio::task::spawn_blocking(move || {
        w.write_blocking(&[b'x'; 5000]).unwrap();
        w
    })
    .await
    .unwrap();
    w.write(b"-tail").await.unwrap();
    let (id, len) = w.commit().await.unwrap();
    let mut want = b"head-".to_vec();
    want.extend_from_slice(&[b'x'; 5000]);
    want.extend_from_slice(b"-tail");
    assert_eq!((read(&store, &id), len), (want.clone(), want.len() as u64));

    let mut abandoned = store.writer();
    abandoned.write_blocking(b"partial").unwrap();
    drop(abandoned);
    let tmp = std::fs::read_dir(dir.path().join("objects/tmp")).unwrap();
    assert_eq!(tmp.count(), 0);
}

#[tokio::test]
async fn an_abandoned_write_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = BlobStore::open(dir.path(), false, 1024).unwrap();
    let mut w = store.writer();
    w.write(&[7u8; 5000]).await.unwrap();
    assert_eq!(
        std::fs::read_dir(dir.path().join("objects/tmp"))
            .unwrap()
            .count(),
        1
    );
    drop(w);
    assert_eq!(
        std::fs::read_dir(dir.path().join("objects/tmp"))
            .unwrap()
            .count(),
        0
    );
}

#[tokio::test]
async fn open_clears_tmp_and_sweep_removes_unreferenced_blobs() {
    let dir = tempfile::tempdir().unwrap();
    let store = BlobStore::open(dir.path(), false, 1024).unwrap();
    let mut ids = Vec::new();
    for _ in 0..3 {
        let mut w = store.writer();
        w.write(b"x").await.unwrap();
        ids.push(w.commit().await.unwrap().0);
    }
    std::fs::write(dir.path().join("objects/tmp/leftover"), b"partial").unwrap();
    let store = BlobStore::open(dir.path(), false, 1024).unwrap();
    assert_eq!(
        std::fs::read_dir(dir.path().join("objects/tmp"))
            .unwrap()
            .count(),
        0
    );
    let keep: HashSet<BlobId> = ids[..2].iter().cloned().collect();
    let removed = store
        .sweep(|batch| {
            Ok(batch
                .iter()
                .filter(|id| keep.contains(id))
                .cloned()
                .collect())
        })
        .unwrap();
    assert_eq!(removed, 1);
    assert!(store.path(&ids[0]).exists() && store.path(&ids[1]).exists());
    assert!(!store.path(&ids[2]).exists());
}

#[test]
fn blob_ids_are_checked_before_use_as_paths() {
    assert!(BlobId::parse("0123456789abcdef0123456789abcdef").is_some());
    for bad in [
        "../../etc/passwd",
        "0123456789ABCDEF0123456789ABCDEF",
        "abc",
        "",
    ] {
        assert!(BlobId::parse(bad).is_none(), "{bad}");
    }
}

mod dir_syncs {
    use std::path::Path;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::mpsc;
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use super::super::DirSyncs;

    const DIR: &str = "/objects/ab";

    /// Waits until `n` threads wait for (or run) an fsync of `DIR`.
    fn until_waiting(syncs: &DirSyncs, n: usize) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while syncs.waiting(Path::new(DIR)) != n {
            assert!(Instant::now() < deadline, "waiters never arrived");
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// Starts a first fsync of `DIR` that runs until the returned sender is used.
    fn hold_first_fsync(
        syncs: &Arc<DirSyncs>,
    ) -> (
        mpsc::Sender<()>,
        std::thread::JoinHandle<std::io::Result<()>>,
    ) {
        let (started_tx, started_rx) = mpsc::channel();
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let first = {
            let syncs = Arc::clone(syncs);
            std::thread::spawn(move || {
                syncs.sync_with(Path::new(DIR), move || {
                    started_tx.send(()).unwrap();
                    release_rx.recv().unwrap();
                    Ok(())
                })
            })
        };
        started_rx.recv().unwrap();
        (release_tx, first)
    }

    /// A writer that arrives while an fsync runs is not covered by it (its rename may have
    /// come after that fsync started): it returns only after a second fsync, which it runs.
    #[test]
    fn a_rename_after_an_fsync_started_waits_for_the_next_one() {
        let syncs = Arc::new(DirSyncs::default());
        let (release, first) = hold_first_fsync(&syncs);
        let ran_own = Arc::new(AtomicBool::new(false));
        let returned = Arc::new(AtomicBool::new(false));
        let second = {
            let (syncs, ran_own, returned) = (
                Arc::clone(&syncs),
                Arc::clone(&ran_own),
                Arc::clone(&returned),
            );
            std::thread::spawn(move || {
                let outcome = syncs.sync_with(Path::new(DIR), || {
                    ran_own.store(true, Ordering::SeqCst);
                    Ok(())
                });
                returned.store(true, Ordering::SeqCst);
                outcome
            })
        };
        until_waiting(&syncs, 2);
        std::thread::sleep(Duration::from_millis(50));
        assert!(
            !returned.load(Ordering::SeqCst),
            "returned during the older fsync"
        );
        release.send(()).unwrap();
        first.join().unwrap().unwrap();
        second.join().unwrap().unwrap();
        assert!(
            ran_own.load(Ordering::SeqCst),
            "no fsync started after its call"
        );
        assert_eq!(syncs.fsyncs(), 2);
        assert_eq!(syncs.requests(), 2);
    }

    /// Writers that arrive while one fsync runs share the next one: nine writers, two fsyncs.
    #[test]
    fn concurrent_waiters_share_one_fsync() {
        let syncs = Arc::new(DirSyncs::default());
        let (release, first) = hold_first_fsync(&syncs);
        let calls = Arc::new(AtomicUsize::new(0));
        let waiters: Vec<_> = (0..8)
            .map(|_| {
                let (syncs, calls) = (Arc::clone(&syncs), Arc::clone(&calls));
                std::thread::spawn(move || {
                    syncs.sync_with(Path::new(DIR), || {
                        calls.fetch_add(1, Ordering::SeqCst);
                        Ok(())
                    })
                })
            })
            .collect();
        until_waiting(&syncs, 9);
        release.send(()).unwrap();
        first.join().unwrap().unwrap();
        for waiter in waiters {
            waiter.join().unwrap().unwrap();
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(syncs.fsyncs(), 2);
        assert_eq!(syncs.requests(), 9);
        // Another directory has its own fsyncs.
        syncs
            .sync_with(Path::new("/objects/cd"), || Ok(()))
            .unwrap();
        assert_eq!(syncs.fsyncs(), 3);
    }

    /// A failed shared fsync fails every writer that waited for it, with its error; the
    /// writer of the earlier, successful fsync succeeds, and the next fsync is tried afresh.
    #[test]
    fn errors_of_a_shared_fsync_reach_every_waiter() {
        let syncs = Arc::new(DirSyncs::default());
        let (release, first) = hold_first_fsync(&syncs);
        let waiters: Vec<_> = (0..4)
            .map(|_| {
                let syncs = Arc::clone(&syncs);
                std::thread::spawn(move || {
                    syncs.sync_with(Path::new(DIR), || {
                        Err(std::io::Error::new(
                            std::io::ErrorKind::StorageFull,
                            "no space left",
                        ))
                    })
                })
            })
            .collect();
        until_waiting(&syncs, 5);
        release.send(()).unwrap();
        first.join().unwrap().unwrap();
        for waiter in waiters {
            let e = waiter.join().unwrap().unwrap_err();
            assert_eq!(e.kind(), std::io::ErrorKind::StorageFull);
            assert!(e.to_string().contains("no space left"), "{e}");
        }
        assert_eq!(syncs.fsyncs(), 2);
        syncs.sync_with(Path::new(DIR), || Ok(())).unwrap();
        assert_eq!(syncs.fsyncs(), 3);
    }

    /// A panicking fsync is an error for its waiters, not a directory stuck forever.
    #[test]
    fn a_panicking_fsync_fails_and_releases_the_directory() {
        let syncs = DirSyncs::default();
        let e = syncs
            .sync_with(Path::new(DIR), || panic!("disk gone"))
            .unwrap_err();
        assert!(e.to_string().contains("panicked"), "{e}");
        syncs.sync_with(Path::new(DIR), || Ok(())).unwrap();
    }
}

/// With fsync on, every commit asks for a directory fsync, and concurrent commits into the
/// same directories share them; with fsync off none is asked for.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_commits_share_directory_fsyncs() {
    for fsync in [true, false] {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(dir.path(), fsync, 4096).unwrap();
        let commits: Vec<_> = (0..64)
            .map(|i| {
                let store = store.clone();
                tokio::spawn(async move {
                    let mut w = store.writer();
                    w.write(format!("blob {i}").as_bytes()).await.unwrap();
                    w.commit().await.unwrap()
                })
            })
            .collect();
        for (i, commit) in commits.into_iter().enumerate() {
            let (id, _) = commit.await.unwrap();
            assert_eq!(read(&store, &id), format!("blob {i}").into_bytes());
        }
        let syncs = store.dir_syncs();
        assert_eq!(syncs.requests(), if fsync { 64 } else { 0 });
        assert!(syncs.fsyncs() <= syncs.requests());
    }
}

/// Consecutive blobs share a fan-out directory, so that concurrent commits share its fsync;
/// the next run of blobs moves to the next directory.
#[tokio::test]
async fn consecutive_blobs_share_a_directory_then_move_on() {
    let dir = tempfile::tempdir().unwrap();
    let store = BlobStore::open(dir.path(), false, 4096).unwrap();
    let prefixes: Vec<String> = (0..2 * BLOBS_PER_DIR)
        .map(|_| store.writer().id().as_str()[..2].to_owned())
        .collect();
    let per_dir = usize::try_from(BLOBS_PER_DIR).unwrap();
    let (first, second) = prefixes.split_at(per_dir);
    assert!(first.iter().all(|p| *p == first[0]), "{first:?}");
    assert!(second.iter().all(|p| *p == second[0]), "{second:?}");
    let next = (u8::from_str_radix(&first[0], 16).unwrap().wrapping_add(1)).to_string();
    assert_eq!(
        u8::from_str_radix(&second[0], 16).unwrap().to_string(),
        next
    );
    // The rest of each id is random.
    let ids: HashSet<String> = (0..100)
        .map(|_| store.writer().id().as_str().to_owned())
        .collect();
    assert_eq!(ids.len(), 100);
}
