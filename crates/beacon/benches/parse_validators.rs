//! Benchmark of the streaming all-validators parser (issue target: 1,000,000 validators in ≤ 5 s
//! and ≤ 512 MiB peak RSS).
//!
//! 1. Generates `/eth/v1/beacon/states/head/validators` for N validators with the simulator's own
//!    serializer into a temp file (streamed, never held in memory).
//! 2. Parses the file with the streaming scanner + typed decoding + validation (the client's exact
//!    per-element path), in 64 KiB chunks.
//! 3. Serves the file over loopback HTTP and reads it with `BeaconClient::stream_validators`.
//!
//! Reports wall time of each phase and the process's peak RSS (`VmHWM`). Run:
//! `cargo bench -p claystack-beacon --bench parse_validators -- 1000000`.

use axum::Router;
use axum::body::Body;
use axum::response::Response;
use axum::routing::get;
use claystack_beacon::stream::{ArrayStream, FeedError};
use claystack_beacon::{
    BeaconClient, ClientConfig, StateId, Validator, ValidatorData, ValidatorStatus,
    validate_validator,
};
use claystack_consensus::{Epoch, Gwei, ValidatorIndex};
use std::io::{BufWriter, Read};
use std::path::PathBuf;
use std::time::Instant;

fn synthetic(i: u64) -> ValidatorData {
    let mut pubkey = [0u8; 48];
    for (k, b) in pubkey.iter_mut().enumerate() {
        *b = u8::try_from(i.wrapping_mul(31).wrapping_add(k as u64) % 251).unwrap_or(0);
    }
    let mut wc = [0u8; 32];
    wc[0] = 0x01;
    wc[31] = u8::try_from(i % 256).unwrap_or(0);
    let exited = i.is_multiple_of(10);
    ValidatorData {
        index: ValidatorIndex(i),
        balance: Gwei(32_000_000_000 + i % 100_000_000),
        status: if exited {
            ValidatorStatus::ExitedUnslashed
        } else {
            ValidatorStatus::ActiveOngoing
        },
        validator: Validator {
            pubkey,
            withdrawal_credentials: wc,
            effective_balance: Gwei(32_000_000_000),
            slashed: false,
            activation_eligibility_epoch: Epoch(i % 1000),
            activation_epoch: Epoch(i % 1000 + 5),
            exit_epoch: if exited { Epoch(200_000) } else { Epoch::MAX },
            withdrawable_epoch: if exited { Epoch(200_256) } else { Epoch::MAX },
        },
    }
}

fn vm_hwm_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

fn parse_file(path: &PathBuf) -> (u64, u128) {
    let mut f = std::fs::File::open(path).unwrap();
    let mut parser = ArrayStream::new("data", 64 * 1024);
    let mut buf = vec![0u8; 64 * 1024];
    let (mut n, mut sum) = (0u64, 0u128);
    let mut handler = |raw: &[u8]| -> Result<(), String> {
        let v: ValidatorData = serde_json::from_slice(raw).map_err(|e| e.to_string())?;
        validate_validator(&v)?;
        n += 1;
        sum += u128::from(v.balance.get());
        Ok(())
    };
    loop {
        let k = f.read(&mut buf).unwrap();
        if k == 0 {
            break;
        }
        match parser.feed(&buf[..k], &mut handler) {
            Ok(()) => {}
            Err(FeedError::Malformed(e)) => panic!("malformed: {e}"),
            Err(FeedError::Handler(e)) => panic!("invalid element: {e}"),
        }
    }
    parser.finish().unwrap();
    (n, sum)
}

fn main() {
    let n: u64 = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .find_map(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("validators.json");

    let t = Instant::now();
    {
        let f = BufWriter::with_capacity(1 << 20, std::fs::File::create(&path).unwrap());
        claystack_beacon_sim::api_json::write_validators_response(
            f,
            false,
            true,
            (0..n).map(synthetic),
        )
        .unwrap();
    }
    let size = std::fs::metadata(&path).unwrap().len();
    println!("generate: {n} validators, {:.1} MiB in {:.2?}", size as f64 / 1048576.0, t.elapsed());
    let expected_sum: u128 = (0..n).map(|i| u128::from(32_000_000_000 + i % 100_000_000)).sum();

    let t = Instant::now();
    let (count, sum) = parse_file(&path);
    let parse = t.elapsed();
    assert_eq!((count, sum), (n, expected_sum));
    println!(
        "parse (file, streaming + typed + validated): {parse:.2?} ({:.0} MiB/s), peak RSS so far {} MiB",
        size as f64 / 1048576.0 / parse.as_secs_f64(),
        vm_hwm_kib() / 1024
    );

    let rt =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    rt.block_on(async {
        let served = path.clone();
        let app = Router::new().route(
            "/eth/v1/beacon/states/{state}/validators",
            get(move || {
                let p = served.clone();
                async move {
                    let file = tokio::fs::File::open(p).await.unwrap();
                    let stream = futures::stream::unfold(file, |mut f| async move {
                        use tokio::io::AsyncReadExt;
                        let mut b = vec![0u8; 64 * 1024];
                        match f.read(&mut b).await {
                            Ok(0) => None,
                            Ok(k) => {
                                b.truncate(k);
                                Some((Ok::<_, std::io::Error>(b), f))
                            }
                            Err(e) => Some((Err(e), f)),
                        }
                    });
                    Response::builder()
                        .header("content-type", "application/json")
                        .body(Body::from_stream(stream))
                        .unwrap()
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        let client = BeaconClient::new(&url, ClientConfig::default()).unwrap();
        let t = Instant::now();
        let (mut count, mut sum) = (0u64, 0u128);
        let meta = client
            .stream_validators(StateId::Head, &[], |v| {
                count += 1;
                sum += u128::from(v.balance.get());
                Ok::<(), String>(())
            })
            .await
            .unwrap();
        let http = t.elapsed();
        assert_eq!((count, sum), (n, expected_sum));
        assert_eq!(meta.finalized, Some(true));
        println!("parse (HTTP loopback, BeaconClient::stream_validators): {http:.2?}");
    });
    let peak = vm_hwm_kib();
    println!("peak RSS (VmHWM, whole process): {} MiB", peak / 1024);
    println!(
        "RESULT n={n} bytes={size} parse_file_s={:.3} peak_rss_mib={}",
        parse.as_secs_f64(),
        peak / 1024
    );
}
