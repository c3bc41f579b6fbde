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
