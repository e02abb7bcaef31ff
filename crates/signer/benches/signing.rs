//! Signing latency and throughput for one key with slashing protection on (an on-disk SQLite
//! database with `synchronous=FULL`): attestations with increasing epochs, through the HTTP API
//! on loopback and in process, plus the two parts (BLS signing, check-and-record) on their own.
//!
//! After the criterion groups, a fixed run of sequential requests prints p50/p99 latencies and
//! throughput, and a concurrent run prints throughput with several clients (the database
//! serializes one key's messages, so this shows the cost of that serialization).

#![allow(clippy::print_stdout, clippy::unwrap_used, missing_docs)]

use claystack_consensus::Epoch;
use claystack_keys::SecretKey;
use claystack_signer::{
    LocalKeystoreBackend, NetworkSpec, SignRequest, SignerState, SigningBackend,
};
use claystack_slashing::SlashingDatabase;
use criterion::{Criterion, criterion_group};
use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

const GVR: &str = "0x4b363db94e286120d76eb905340fdd4e54bfe9f06bf33ff6cf5ad27f511bfe95";

fn attestation_json(target: u64) -> String {
    format!(
        r#"{{"type":"ATTESTATION","fork_info":{{"fork":{{"previous_version":"0x04000000","current_version":"0x05000000","epoch":"364032"}},"genesis_validators_root":"{GVR}"}},"attestation":{{"slot":"{slot}","index":"0","beacon_block_root":"0x{b}","source":{{"epoch":"{source}","root":"0x{b}"}},"target":{{"epoch":"{target}","root":"0x{b}"}}}}}}"#,
        slot = target * 32,
        source = target - 1,
        b = "ab".repeat(32),
    )
}

struct Fixture {
    state: Arc<SignerState<LocalKeystoreBackend>>,
    pubkey: [u8; 48],
    _dir: tempfile::TempDir,
}

fn fixture() -> Fixture {
    // On the target disk, not a tmpfs: the fsync of every commit is part of the cost.
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let sk = SecretKey::from_blst(blst::min_pk::SecretKey::key_gen(&[7; 32], &[]).unwrap());
    let pubkey = sk.public_key();
    let backend = LocalKeystoreBackend::from_secret_keys([sk]);
    let db = Arc::new(SlashingDatabase::open(&dir.path().join("slashing.sqlite")).unwrap());
    let state = Arc::new(SignerState::new(backend, db, NetworkSpec::MAINNET).unwrap());
    Fixture { state, pubkey, _dir: dir }
}

async fn spawn_http(state: Arc<SignerState<LocalKeystoreBackend>>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(claystack_signer::serve(listener, state, std::future::pending()));
    base
}

async fn http_sign(client: &reqwest::Client, url: &str, target: u64) {
    let resp = client
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json")
        .body(attestation_json(target))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), reqwest::StatusCode::OK, "{}", resp.text().await.unwrap());
    resp.bytes().await.unwrap();
}

fn benches(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let mut group = c.benchmark_group("signer");
    group.measurement_time(Duration::from_secs(8));

    let f = fixture();
    let root = [5u8; 32];
    group.bench_function("bls_sign_only", |b| {
        b.iter(|| f.state.backend().sign_now(&f.pubkey, &root).unwrap());
    });

    let db = SlashingDatabase::open(&f._dir.path().join("only-db.sqlite")).unwrap();
    db.register_validators([&f.pubkey]).unwrap();
    let gvr = claystack_consensus::hexutil::decode_fixed(GVR).unwrap();
    let mut epoch = 1u64;
    group.bench_function("slashing_check_and_record_only", |b| {
        b.iter(|| {
            epoch += 1;
            db.check_and_insert_attestation(gvr, &f.pubkey, Epoch(epoch - 1), Epoch(epoch), root)
                .unwrap()
        });
    });

    // The same with two years of history (~160k attestations): the checks must stay index
    // seeks, not scans of the history.
    let big = SlashingDatabase::open(&f._dir.path().join("history-db.sqlite")).unwrap();
    const HISTORY: u64 = 160_000;
    let history = claystack_slashing::Interchange {
        metadata: claystack_slashing::InterchangeMetadata {
            interchange_format_version: 5,
            genesis_validators_root: gvr,
        },
        data: vec![claystack_slashing::InterchangeRecord {
            pubkey: f.pubkey,
            signed_blocks: vec![],
            signed_attestations: (1..HISTORY)
                .map(|t| claystack_slashing::SignedAttestation {
                    source_epoch: Epoch(t - 1),
                    target_epoch: Epoch(t),
                    signing_root: Some(root),
                })
                .collect(),
        }],
    };
    big.import_interchange(&history).unwrap();
    let mut epoch = HISTORY;
    group.bench_function("slashing_check_and_record_160k_history", |b| {
        b.iter(|| {
            epoch += 1;
            big.check_and_insert_attestation(gvr, &f.pubkey, Epoch(epoch - 1), Epoch(epoch), root)
                .unwrap()
        });
    });

    let mut target = 1u64;
    group.bench_function("in_process_attestation", |b| {
        b.iter(|| {
            target += 1;
            let req = SignRequest::from_json(attestation_json(target).as_bytes()).unwrap();
            rt.block_on(f.state.sign_request_inline(&f.pubkey, &req)).unwrap()
        });
    });

    let h = fixture();
    let base = rt.block_on(spawn_http(Arc::clone(&h.state)));
    let url = format!("{base}/api/v1/eth2/sign/0x{}", hex::encode(h.pubkey));
    let client = reqwest::Client::new();
    let mut target = 1u64;
    group.bench_function("http_attestation", |b| {
        b.iter(|| {
            target += 1;
            rt.block_on(http_sign(&client, &url, target));
        });
    });
    group.finish();
}

criterion_group!(signing, benches);

/// Nearest-rank percentile (`per_mille` of 1000) of sorted latencies.
fn percentile(sorted: &[Duration], per_mille: usize) -> Duration {
    let rank = (sorted.len() * per_mille).div_ceil(1000).max(1);
    sorted[rank - 1]
}

/// Fixed-count runs for p50/p99 and throughput (criterion reports means and medians only).
fn latency_report(quick: bool) {
    let n: u64 = if quick { 50 } else { 3000 };
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();

    let f = fixture();
    let mut lat = Vec::new();
    let start = Instant::now();
    for target in 1..=n {
        let t = Instant::now();
        let req = SignRequest::from_json(attestation_json(target).as_bytes()).unwrap();
        rt.block_on(f.state.sign_request_inline(&f.pubkey, &req)).unwrap();
        lat.push(t.elapsed());
    }
    report("in-process, sequential", n, start.elapsed(), &mut lat);

    let h = fixture();
    let base = rt.block_on(spawn_http(Arc::clone(&h.state)));
    let url = format!("{base}/api/v1/eth2/sign/0x{}", hex::encode(h.pubkey));
    let client = reqwest::Client::new();
    let mut lat = Vec::new();
    let start = Instant::now();
    for target in 1..=n {
        let t = Instant::now();
        rt.block_on(http_sign(&client, &url, target));
        lat.push(t.elapsed());
    }
    report("http loopback, sequential", n, start.elapsed(), &mut lat);

    // Several clients at once, one key: targets handed out by a shared counter; (t-1, t) pairs
    // never surround each other, so all are accepted whatever order they commit in.
    let clients = 8;
    let next = Arc::new(AtomicU64::new(n + 1));
    let end = 2 * n;
    let start = Instant::now();
    let lat: Vec<Duration> = rt.block_on(async {
        let mut tasks = Vec::new();
        for _ in 0..clients {
            let (client, url, next) = (client.clone(), url.clone(), Arc::clone(&next));
            tasks.push(tokio::spawn(async move {
                let mut lat = Vec::new();
                loop {
                    let target = next.fetch_add(1, Ordering::Relaxed);
                    if target > end {
                        return lat;
                    }
                    let t = Instant::now();
                    http_sign(&client, &url, target).await;
                    lat.push(t.elapsed());
                }
            }));
        }
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await.unwrap());
        }
        all
    });
    let mut lat = lat;
    report(&format!("http loopback, {clients} concurrent clients"), n, start.elapsed(), &mut lat);
    assert_eq!(h.state.backend().public_keys().len(), 1);
}

fn report(name: &str, n: u64, total: Duration, lat: &mut [Duration]) {
    lat.sort();
    println!(
        "{name}: n={n} p50={:.3} ms p99={:.3} ms max={:.3} ms throughput={:.0} signatures/s",
        percentile(lat, 500).as_secs_f64() * 1e3,
        percentile(lat, 990).as_secs_f64() * 1e3,
        lat.last().unwrap().as_secs_f64() * 1e3,
        n as f64 / total.as_secs_f64(),
    );
}

fn main() {
    // `cargo bench` passes `--bench`; `--test` (or `cargo test --benches`) wants a quick run.
    let args: Vec<String> = std::env::args().collect();
    let bench_mode = args.iter().any(|a| a == "--bench") && !args.iter().any(|a| a == "--test");
    signing();
    criterion::Criterion::default().configure_from_args().final_summary();
    latency_report(!bench_mode);
}
