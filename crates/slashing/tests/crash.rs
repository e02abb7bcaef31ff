//! Crash safety: a child process signs in a loop and is killed with SIGKILL at random moments;
//! after each kill the database must hold no slashable pair and must contain every message the
//! child reported as handed out (the child reports a message only after the database said `Ok`,
//! exactly where a signer would release the signature).

#![allow(clippy::print_stderr)] // the seed is printed so that a failure can be replayed

use claystack_consensus::{Epoch, Slot};
use claystack_slashing::{Interchange, SlashingDatabase};
use std::{
    io::{BufRead, BufReader, Write},
    path::Path,
    process::{Command, Stdio},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

const CHILD_DB_ENV: &str = "CLAYSTACK_SLASHING_CRASH_CHILD_DB";
const CHILD_SEED_ENV: &str = "CLAYSTACK_SLASHING_CRASH_CHILD_SEED";
const GVR: [u8; 32] = [0x42; 32];
const PK: [u8; 48] = [0x11; 48];
const ROUNDS: u64 = 25;

/// xorshift64*: enough randomness for scheduling kills and choosing messages.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A signing root determined by the message (as a real one is), with a variant byte standing for
/// the rest of the message's content.
fn block_root(slot: u64, variant: u8) -> [u8; 32] {
    let mut r = [variant; 32];
    r[..8].copy_from_slice(&slot.to_le_bytes());
    r
}

fn att_root(source: u64, target: u64, variant: u8) -> [u8; 32] {
    let mut r = [variant; 32];
    r[..8].copy_from_slice(&source.to_le_bytes());
    r[8..16].copy_from_slice(&target.to_le_bytes());
    r
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HandedOut {
    Block { slot: u64, root: u8 },
    Att { source: u64, target: u64, root: u8 },
}

fn parse_line(line: &str) -> Option<HandedOut> {
    let mut it = line.strip_prefix("SIGNED ")?.split(' ');
    match it.next()? {
        "B" => Some(HandedOut::Block {
            slot: it.next()?.parse().ok()?,
            root: it.next()?.parse().ok()?,
        }),
        "A" => Some(HandedOut::Att {
            source: it.next()?.parse().ok()?,
            target: it.next()?.parse().ok()?,
            root: it.next()?.parse().ok()?,
        }),
        _ => None,
    }
}

/// The child: signs forever (until killed), reporting each message once the database accepted it.
#[test]
#[ignore = "child process of kill9_never_allows_a_slashable_pair, which starts it"]
fn crash_child() {
    let path = std::env::var(CHILD_DB_ENV).expect("child started without a database path");
    let seed: u64 = std::env::var(CHILD_SEED_ENV).unwrap().parse().unwrap();
    let db = SlashingDatabase::open(Path::new(&path)).unwrap();
    db.register_validators([&PK]).unwrap();
    let mut rng = Rng(seed | 1);
    let mut out = std::io::stdout().lock();
    // Continue from where the previous child stopped, so that the histories overlap.
    let history = db.export_interchange().ok();
    let mut base = history
        .and_then(|h| h.data.into_iter().next())
        .and_then(|r| r.signed_blocks.iter().map(|b| b.slot.0).max())
        .unwrap_or(0);
    loop {
        base += rng.below(2);
        let root = u8::try_from(rng.below(3)).unwrap();
        if rng.below(2) == 0 {
            let slot = (base + rng.below(6)).saturating_sub(3);
            if db
                .check_and_insert_block_proposal(GVR, &PK, Slot(slot), block_root(slot, root))
                .is_ok()
            {
                writeln!(out, "SIGNED B {slot} {root}").unwrap();
                out.flush().unwrap();
            }
        } else {
            let target = (base / 4 + rng.below(6)).saturating_sub(2);
            let source = target.saturating_sub(rng.below(4));
            if db
                .check_and_insert_attestation(
                    GVR,
                    &PK,
                    Epoch(source),
                    Epoch(target),
                    att_root(source, target, root),
                )
                .is_ok()
            {
                writeln!(out, "SIGNED A {source} {target} {root}").unwrap();
                out.flush().unwrap();
            }
        }
    }
}

fn check_no_slashable_pair(i: &Interchange) {
    for rec in &i.data {
        for (n, a) in rec.signed_blocks.iter().enumerate() {
            for b in &rec.signed_blocks[n + 1..] {
                assert!(
                    !(a.slot == b.slot
                        && (a.signing_root != b.signing_root || a.signing_root.is_none())),
                    "double proposal recorded: {a:?} {b:?}"
                );
            }
        }
        for (n, a) in rec.signed_attestations.iter().enumerate() {
            for b in &rec.signed_attestations[n + 1..] {
                let double = a.target_epoch == b.target_epoch
                    && (a.signing_root != b.signing_root || a.signing_root.is_none());
                let surround = (a.source_epoch < b.source_epoch && a.target_epoch > b.target_epoch)
                    || (b.source_epoch < a.source_epoch && b.target_epoch > a.target_epoch);
                assert!(!double && !surround, "slashable attestations recorded: {a:?} {b:?}");
            }
        }
    }
}

fn check_recorded(i: &Interchange, handed: &[HandedOut]) {
    let rec = i.data.iter().find(|r| r.pubkey == PK).expect("validator missing after restart");
    for h in handed {
        let found = match *h {
            HandedOut::Block { slot, root } => rec
                .signed_blocks
                .iter()
                .any(|b| b.slot == Slot(slot) && b.signing_root == Some(block_root(slot, root))),
            HandedOut::Att { source, target, root } => rec.signed_attestations.iter().any(|a| {
                a.source_epoch == Epoch(source)
                    && a.target_epoch == Epoch(target)
                    && a.signing_root == Some(att_root(source, target, root))
            }),
        };
        assert!(found, "handed out but not recorded after restart: {h:?}");
    }
}

#[test]
fn kill9_never_allows_a_slashable_pair() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("slashing.sqlite");
    let exe = std::env::current_exe().unwrap();
    let seed: u64 = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().subsec_nanos().into();
    eprintln!("crash test seed {seed}");
    let mut rng = Rng(seed | 1);
    let mut handed: Vec<HandedOut> = Vec::new();
    let mut killed_mid_run = 0;
    for round in 0..ROUNDS {
        let mut child = Command::new(&exe)
            .args(["crash_child", "--exact", "--ignored", "--nocapture", "--test-threads=1"])
            .env(CHILD_DB_ENV, &path)
            .env(CHILD_SEED_ENV, rng.next().to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            // Only complete lines count: a partial line was not handed out.
            let mut r = BufReader::new(stdout);
            let mut lines = Vec::new();
            let mut buf = Vec::new();
            while r.read_until(b'\n', &mut buf).unwrap_or(0) > 0 {
                if buf.ends_with(b"\n")
                    && let Some(h) = parse_line(String::from_utf8_lossy(&buf).trim_end())
                {
                    lines.push(h);
                }
                buf.clear();
            }
            lines
        });
        std::thread::sleep(Duration::from_millis(20 + rng.below(200)));
        if child.try_wait().unwrap().is_none() {
            killed_mid_run += 1;
        }
        child.kill().unwrap(); // SIGKILL on Unix
        child.wait().unwrap();
        let got = reader.join().unwrap();
        handed.extend(got);

        let db = SlashingDatabase::open(&path)
            .unwrap_or_else(|e| panic!("round {round}: reopen after SIGKILL: {e}"));
        if let Ok(export) = db.export_interchange() {
            check_no_slashable_pair(&export);
            check_recorded(&export, &handed);
        } else {
            assert!(handed.is_empty(), "round {round}: signatures handed out, database empty");
        }
        drop(db);
    }
    assert_eq!(killed_mid_run, ROUNDS, "a child exited on its own instead of being killed");
    assert!(
        handed.len() > 25,
        "the children handed out only {} signatures; the test did not exercise the database",
        handed.len()
    );
    eprintln!("crash test: {} signatures handed out across {ROUNDS} kills", handed.len());
}
