//! One segment's check, on a thread that may block: its stored length against what the index
//! says, then (unless only lengths are asked for) every byte read and digested, an encrypted
//! segment's GCM tags verified chunk by chunk; the reads paced by `Throttle`.

use std::fs::File;
use std::io::{self, Cursor, Read, Seek};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use md5::{Digest, Md5};
use tokio_util::sync::CancellationToken;

use crate::crypto::sse::{self, DataKey};

/// Where a segment's stored bytes are.
pub enum Source {
    File(PathBuf),
    Inline(Bytes),
    /// Inline bytes not read (a check of lengths only).
    Unread,
}

/// What a check expects of a segment.
pub struct Expect {
    /// Plaintext bytes.
    pub size: u64,
    /// The hex MD5 of the plaintext, when known.
    pub md5: Option<String>,
    /// For an encrypted segment: its data key and the part its chunks are bound to.
    pub key: Option<(Arc<DataKey>, u32)>,
    /// An encrypted segment whose data key is not at hand (no master key): only its length
    /// can be checked.
    pub sealed_without_key: bool,
}

impl Expect {
    fn stored_len(&self) -> u64 {
        match self.key.is_some() || self.sealed_without_key {
            true => sse::stored_len(self.size),
            false => self.size,
        }
    }
}

/// A check's finding.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The bytes are as the index says; this many were read.
    Whole(u64),
    /// Only the length could be checked (an encrypted segment without its key, or a check
    /// of lengths only), and it is right.
    LengthOnly,
    /// The blob file is not there.
    Missing,
    /// The bytes are not what the index says: why.
    Corrupt(String),
    /// The scrub was stopped (shutdown).
    Stopped,
}

/// Paces reads to a rate in bytes per second (`None`: as fast as the disk goes). Credit for
/// an idle spell is not saved up beyond a second, so a pause is never followed by a burst.
#[derive(Debug)]
pub struct Throttle {
    rate: Option<u64>,
    anchor: Instant,
    since: u64,
}

/// Sleeps are cut into steps this long, so that a shutdown is noticed.
const STEP: Duration = Duration::from_millis(100);

impl Throttle {
    pub fn new(rate: Option<u64>) -> Throttle {
        Throttle {
            rate: rate.filter(|r| *r > 0),
            anchor: Instant::now(),
            since: 0,
        }
    }

    /// Accounts for `n` bytes read, sleeping until the rate allows them; false when `stop`
    /// was cancelled.
    pub fn consume(&mut self, n: u64, stop: &CancellationToken) -> bool {
        let Some(rate) = self.rate else {
            return !stop.is_cancelled();
        };
        self.since += n;
        let due = Duration::from_millis(
            u64::try_from(u128::from(self.since) * 1000 / u128::from(rate)).unwrap_or(u64::MAX),
        );
        let elapsed = self.anchor.elapsed();
        if elapsed > due + Duration::from_secs(1) {
            self.anchor = Instant::now();
            self.since = 0;
        } else {
            let mut wait = due.saturating_sub(elapsed);
            while !wait.is_zero() && !stop.is_cancelled() {
                let step = wait.min(STEP);
                std::thread::sleep(step);
                wait -= step;
            }
        }
        !stop.is_cancelled()
    }
}

/// Whether an I/O error says the stored bytes are bad (rather than the process being short
/// of something): authentication failures, a short file, the device's read errors.
fn is_damage(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::InvalidData | io::ErrorKind::UnexpectedEof
    ) || e.raw_os_error() == Some(libc::EIO)
}

/// Checks one segment. `contents` false checks lengths only. An I/O error that is not
/// damage (out of descriptors, permissions) is returned as an error: the segment is not
/// judged.
pub fn check(
    source: &Source,
    expect: &Expect,
    contents: bool,
    buffer: usize,
    throttle: &mut Throttle,
    stop: &CancellationToken,
) -> io::Result<Outcome> {
    let expected_len = expect.stored_len();
    let outcome = match source {
        Source::Unread => Ok(Outcome::LengthOnly),
        Source::Inline(data) => {
            let len = data.len() as u64;
            if len != expected_len {
                return Ok(length_mismatch(len, expected_len));
            }
            match contents {
                true => digest(&mut Cursor::new(data), expect, buffer, throttle, stop),
                false => Ok(Outcome::LengthOnly),
            }
        }
        Source::File(path) => {
            let mut file = match File::open(path) {
                Ok(file) => file,
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Outcome::Missing),
                Err(e) => return Err(e),
            };
            let len = file.metadata()?.len();
            if len != expected_len {
                return Ok(length_mismatch(len, expected_len));
            }
            match contents {
                true => digest(&mut file, expect, buffer, throttle, stop),
                false => Ok(Outcome::LengthOnly),
            }
        }
    };
    match outcome {
        Err(e) if is_damage(&e) => Ok(Outcome::Corrupt(format!("reading failed: {e}"))),
        other => other,
    }
}

fn length_mismatch(found: u64, expected: u64) -> Outcome {
    Outcome::Corrupt(format!(
        "stored length is {found} bytes where the index expects {expected}"
    ))
}

/// Reads every byte of `stored` (decrypting an encrypted segment, every tag verified) and
/// compares the plaintext's MD5 with the expected one.
fn digest<R: Read + Seek>(
    stored: &mut R,
    expect: &Expect,
    buffer: usize,
    throttle: &mut Throttle,
    stop: &CancellationToken,
) -> io::Result<Outcome> {
    if expect.sealed_without_key {
        return Ok(Outcome::LengthOnly);
    }
    let mut md5 = Md5::new();
    let mut read = 0u64;
    let mut stopped = false;
    match &expect.key {
        Some((key, part)) => {
            let authenticated = sse::read_range(
                stored,
                key,
                *part,
                expect.size,
                0,
                expect.size,
                buffer,
                |piece| {
                    md5.update(&piece);
                    read += piece.len() as u64;
                    stopped = !throttle.consume(piece.len() as u64, stop);
                    !stopped
                },
            );
            if let Err(e) = authenticated {
                if e.kind() == io::ErrorKind::InvalidData {
                    return Ok(Outcome::Corrupt(e.to_string()));
                }
                return Err(e);
            }
        }
        None => {
            stored.rewind()?;
            let mut buf = vec![0u8; buffer.max(4096)];
            loop {
                let n = stored.read(&mut buf)?;
                if n == 0 {
                    break;
                }
                md5.update(&buf[..n]);
                read += n as u64;
                if !throttle.consume(n as u64, stop) {
                    stopped = true;
                    break;
                }
            }
        }
    }
    if stopped {
        return Ok(Outcome::Stopped);
    }
    if read != expect.size {
        return Ok(Outcome::Corrupt(format!(
            "read {read} bytes where the index expects {}",
            expect.size
        )));
    }
    let found = hex::encode(md5.finalize());
    match &expect.md5 {
        Some(md5) if *md5 != found => Ok(Outcome::Corrupt(format!(
            "the MD5 of its bytes is {found} where the index stores {md5}"
        ))),
        _ => Ok(Outcome::Whole(read)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(data: &[u8]) -> Expect {
        Expect {
            size: data.len() as u64,
            md5: Some(hex::encode(Md5::digest(data))),
            key: None,
            sealed_without_key: false,
        }
    }

    fn run(source: &Source, expect: &Expect) -> Outcome {
        let mut throttle = Throttle::new(None);
        check(
            source,
            expect,
            true,
            4096,
            &mut throttle,
            &CancellationToken::new(),
        )
        .unwrap()
    }

    #[test]
    fn whole_bytes_pass_and_a_flipped_byte_fails() {
        let data = vec![7u8; 10_000];
        let expect = plain(&data);
        assert_eq!(
            run(&Source::Inline(Bytes::from(data.clone())), &expect),
            Outcome::Whole(10_000)
        );
        let mut bad = data;
        bad[5000] ^= 1;
        assert!(matches!(
            run(&Source::Inline(Bytes::from(bad)), &expect),
            Outcome::Corrupt(_)
        ));
    }

    #[test]
    fn a_wrong_length_and_a_missing_file_are_found() {
        let expect = plain(b"hello");
        assert!(matches!(
            run(&Source::Inline(Bytes::from_static(b"hell")), &expect),
            Outcome::Corrupt(_)
        ));
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            run(&Source::File(dir.path().join("absent")), &expect),
            Outcome::Missing
        );
    }

    #[test]
    fn the_throttle_paces_reads_and_stops_on_cancel() {
        let stop = CancellationToken::new();
        let mut throttle = Throttle::new(Some(100_000));
        let started = Instant::now();
        assert!(throttle.consume(20_000, &stop));
        assert!(started.elapsed() >= Duration::from_millis(150));
        stop.cancel();
        assert!(!throttle.consume(1_000_000, &stop));
        assert!(started.elapsed() < Duration::from_secs(2));
    }
}
