use super::sink::{Rotating, Writer};
use super::*;

#[test]
fn a_decision_on_the_same_target_replaces_and_a_denial_wins() {
    let d = |action: &str, allowed: bool, by: &str| Decided {
        action: action.into(),
        resource: "arn:aws:s3:::b/k".into(),
        allowed,
        by: by.into(),
    };
    let mut facts = Facts::default();
    facts.decide(d("s3:GetObject", false, "no statement allows"));
    // The bucket ACL granted what no policy did: the later word on the same target stands.
    facts.decide(d("s3:GetObject", true, "bucket ACL"));
    assert_eq!(facts.decided.as_ref().unwrap().by, "bucket ACL");
    // Another action's allow does not replace it; its denial does.
    facts.decide(d("s3:PutObject", true, "policy"));
    assert_eq!(facts.decided.as_ref().unwrap().action, "s3:GetObject");
    facts.decide(d("s3:PutObjectTagging", false, "explicit deny"));
    assert_eq!(facts.decided.as_ref().unwrap().by, "explicit deny");
    // And once denied, a later allow of another action does not hide it.
    facts.decide(d("s3:GetObjectTagging", true, "policy"));
    assert!(!facts.decided.as_ref().unwrap().allowed);
}

#[tokio::test]
async fn decisions_reach_the_facts_only_inside_an_audited_request() {
    assert!(!active());
    decided("s3:GetObject", "r", true, || {
        unreachable!("not built outside a request")
    });
    let ((), facts) = gather(async {
        assert!(active());
        with_facts(|f| f.principal = Some("p".into()));
        decided("s3:GetObject", "r", true, || "root".into());
    })
    .await;
    assert_eq!(facts.principal.as_deref(), Some("p"));
    assert_eq!(facts.decided.unwrap().by, "root");
}

#[test]
fn the_file_rotates_by_size_and_keeps_what_it_is_told() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("logs/audit.log");
    let mut file = Rotating::open(&path, 100, 2).unwrap();
    let line = |n: u8| {
        let mut l = vec![b'a' + n; 39];
        l.push(b'\n');
        l
    };
    // 40-byte lines, 100-byte files: two lines per file.
    for n in 0..7 {
        file.write_batch(&[line(n)]).unwrap();
    }
    let read = |p: &std::path::Path| std::fs::read(p).unwrap();
    let numbered = |n: u32| dir.path().join(format!("logs/audit.log.{n}"));
    assert_eq!(read(&path), line(6));
    assert_eq!(read(&numbered(1)), [line(4), line(5)].concat());
    assert_eq!(read(&numbered(2)), [line(2), line(3)].concat());
    // Only `keep` rotated files: the oldest was removed.
    assert!(!numbered(3).exists());
    // A batch larger than a file rotates within it, no line split.
    file.write_batch(&[line(7), line(8), line(9)]).unwrap();
    for p in [path.clone(), numbered(1), numbered(2)] {
        let bytes = read(&p);
        assert!(bytes.len() <= 100 && bytes.len() % 40 == 0, "{p:?}");
    }
    // Reopened, it appends.
    drop(file);
    let mut file = Rotating::open(&path, 1000, 2).unwrap();
    let before = read(&path).len();
    file.write_batch(&[line(1)]).unwrap();
    assert_eq!(read(&path).len(), before + 40);
}

#[test]
fn records_are_one_json_line_without_secrets() {
    let facts = Facts {
        principal: Some("arn:aws:iam::000000000000:user/alice".into()),
        access_key_id: Some("AKIAEXAMPLE".into()),
        bucket: Some("b".into()),
        key: Some("k".into()),
        decided: Some(Decided {
            action: "s3:GetObject".into(),
            resource: "arn:aws:s3:::b/k".into(),
            allowed: true,
            by: "managed policy ReadOnly statement 0".into(),
        }),
    };
    let pending = Pending::new(
        facts,
        "REQ1",
        Listener::S3,
        "GetObject",
        "127.0.0.1".parse().unwrap(),
        200,
        None,
        (Instant::now(), Arc::new(AtomicU64::new(5))),
    );
    let line = serde_json::to_string(&pending.record).unwrap();
    assert!(!line.contains('\n'));
    let v: serde_json::Value = serde_json::from_str(&line).unwrap();
    for (key, want) in [
        ("request_id", "REQ1"),
        ("listener", "s3"),
        ("operation", "GetObject"),
        ("principal", "arn:aws:iam::000000000000:user/alice"),
        ("access_key_id", "AKIAEXAMPLE"),
        ("source_ip", "127.0.0.1"),
        ("bucket", "b"),
        ("key", "k"),
        ("action", "s3:GetObject"),
        ("decision", "allow"),
        ("decided_by", "managed policy ReadOnly statement 0"),
    ] {
        assert_eq!(v[key], want, "{key}");
    }
    assert_eq!(v["status"], 200);
    assert!(v["time"].as_str().unwrap().ends_with('Z'));
}

/// A writer that keeps the batches it was given.
struct Kept(Arc<std::sync::Mutex<Vec<usize>>>);

impl Writer for Kept {
    fn write_batch(&mut self, lines: &[Vec<u8>]) -> std::io::Result<()> {
        for line in lines {
            assert!(line.ends_with(b"\n"));
            serde_json::from_slice::<serde_json::Value>(line).unwrap();
        }
        self.0.lock().unwrap().push(lines.len());
        Ok(())
    }
}

fn record(n: u32) -> Record {
    Pending::new(
        Facts::default(),
        &format!("REQ{n}"),
        Listener::S3,
        "GetObject",
        "127.0.0.1".parse().unwrap(),
        200,
        None,
        (Instant::now(), Arc::new(AtomicU64::new(0))),
    )
    .record
}

/// Records are taken in batches, not one wake-up each; a full queue refuses (the caller counts
/// the drop) instead of waiting; `flush` returns once everything queued is written.
#[test]
fn the_queue_batches_refuses_when_full_and_flushes() {
    let batches = Arc::new(std::sync::Mutex::new(Vec::new()));
    let counters = Arc::new(Counters::default());
    let queue = super::sink::start_with(
        Box::new(Kept(Arc::clone(&batches))),
        1000,
        Arc::clone(&counters),
    )
    .unwrap();
    let offered = (0..600).filter(|n| queue.offer(record(*n))).count();
    assert_eq!(offered, 600);
    queue.flush(std::time::Duration::from_secs(10));
    let seen = batches.lock().unwrap().clone();
    assert_eq!(seen.iter().sum::<usize>(), 600);
    assert!(seen.len() < 10, "one batch per record or so: {seen:?}");
    assert!(seen.iter().all(|b| *b <= 512), "{seen:?}");
    assert_eq!(counters.written.load(Ordering::Relaxed), 600);

    // A writer that never returns until told: the queue fills and refuses.
    let gate = Arc::new((std::sync::Mutex::new(false), std::sync::Condvar::new()));
    struct Stuck(Arc<(std::sync::Mutex<bool>, std::sync::Condvar)>);
    impl Writer for Stuck {
        fn write_batch(&mut self, _: &[Vec<u8>]) -> std::io::Result<()> {
            let (open, opened) = &*self.0;
            let guard = open.lock().unwrap();
            drop(opened.wait_while(guard, |open| !*open).unwrap());
            Ok(())
        }
    }
    let counters = Arc::new(Counters::default());
    let queue =
        super::sink::start_with(Box::new(Stuck(Arc::clone(&gate))), 4, Arc::clone(&counters))
            .unwrap();
    assert!(queue.offer(record(0)));
    queue.flush(std::time::Duration::from_millis(200)); // taken, and stuck in the writer
    let accepted = (1..=10).filter(|n| queue.offer(record(*n))).count();
    assert_eq!(
        accepted, 4,
        "the queue holds `capacity` records, then refuses"
    );
    *gate.0.lock().unwrap() = true;
    gate.1.notify_all();
    queue.flush(std::time::Duration::from_secs(10));
    assert_eq!(counters.written.load(Ordering::Relaxed), 5);
}
