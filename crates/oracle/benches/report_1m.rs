//! Report computation for 1,000,000 validators and 1,000 operators (issue 6 target: ≤ 10 s,
//! ≤ 1 GiB peak RSS). Run with `cargo bench -p claystack-oracle --bench report_1m`; set
//! `ORACLE_BENCH_VALIDATORS` / `ORACLE_BENCH_OPERATORS` to change the size.
//!
//! A plain timing binary rather than criterion: one run of the full computation is the figure
//! that matters, and the peak RSS (VmHWM) is only meaningful for the whole process.

#![allow(clippy::print_stderr, missing_docs)]

use std::time::Instant;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn vm_hwm_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The daemon's per-frame duty tally at the same scale: every pool validator active in each of
/// the frame's epochs, one liveness record per epoch (built as the store hands it back), tallied
/// one epoch at a time.
fn tally(input: &claystack_oracle::OracleInput) -> (f64, u64) {
    use claystack_oracle::duties::{DutyTally, EpochLiveness, ValidatorSpan, frame_epochs};
    let f = input.frame;
    let (first, last) = frame_epochs(f.last_ref_slot.get(), f.ref_slot.get(), f.slots_per_epoch);
    let spans: Vec<ValidatorSpan> = input
        .validators
        .iter()
        .filter(|v| v.status.is_active())
        .map(|v| ValidatorSpan { index: v.index.get(), activation_epoch: 0, exit_epoch: u64::MAX })
        .collect();
    let t = Instant::now();
    let Ok(mut tally) = DutyTally::new(spans) else {
        eprintln!("tally refused the spans");
        std::process::exit(1);
    };
    for e in first..=last {
        let pairs: Vec<(u64, bool)> = tally
            .required(e)
            .into_iter()
            .map(|i| (i, (e.wrapping_mul(31) ^ i.wrapping_mul(17)) % 50 != 0))
            .collect();
        let added = EpochLiveness::from_pairs(e, pairs).map(|r| tally.add_epoch(&r));
        if !matches!(added, Ok(Ok(()))) {
            eprintln!("tally failed at epoch {e}");
            std::process::exit(1);
        }
    }
    let duties = tally.into_map();
    std::hint::black_box(&duties);
    (t.elapsed().as_secs_f64(), last.saturating_sub(first).saturating_add(1))
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else to parse.
    let validators = env_u64("ORACLE_BENCH_VALIDATORS", 1_000_000);
    let operators = env_u64("ORACLE_BENCH_OPERATORS", 1_000);
    let t0 = Instant::now();
    let input = claystack_oracle::generate::synthetic(validators, operators, 42);
    let generated = t0.elapsed();
    let mut best = f64::MAX;
    let mut digest = None;
    let mut last = None;
    for _ in 0..3 {
        let t = Instant::now();
        let out = match claystack_oracle::compute(&input, true) {
            Ok(out) => out,
            Err(e) => {
                eprintln!("compute failed: {e}");
                std::process::exit(1);
            }
        };
        best = best.min(t.elapsed().as_secs_f64());
        let d = claystack_oracle::report_digest(&out.report, 1, alloy::primitives::Address::ZERO);
        if digest.is_some_and(|p| p != d) {
            eprintln!("non-deterministic report");
            std::process::exit(1);
        }
        digest = Some(d);
        last = Some(out);
    }
    if let Some(out) = &last {
        eprintln!(
            "report: {} deposited, {} active, {} exited, {} slashed, cl {} wei, pull {} wei, finalize up to {}; operators: {} pre-deposits, {} scores, {} penalties, {} exited, {} exit requests, root {}, extra data {} chunk(s), {} bytes",
            out.report.validatorsDeposited,
            out.report.validatorsActive,
            out.report.validatorsExited,
            out.report.validatorsSlashed,
            out.report.clBalance,
            out.report.withdrawalVaultPull,
            out.report.finalizeUpToRequestId,
            out.operators.preDeposits.len(),
            out.operators.scores.len(),
            out.operators.penalties.len(),
            out.operators.exited.len(),
            out.operators.exitRequests.len(),
            out.operators.rewardsRoot,
            out.chunks.len(),
            out.chunks.iter().map(Vec::len).sum::<usize>()
        );
    }
    let (tally_secs, epochs) = tally(&input);
    let rss = vm_hwm_kib().unwrap_or(0);
    println!(
        "duties tally: {validators} validators over {epochs} epochs (records built as from the store, then tallied): {tally_secs:.3} s"
    );
    println!(
        "oracle report: {validators} validators, {operators} operators: compute {best:.3} s (best of 3), input generation {:.3} s, peak RSS {:.1} MiB",
        generated.as_secs_f64(),
        rss as f64 / 1024.0
    );
}
