//! Whether an operator met the deadlines of its exit requests, from execution-layer data only.
//!
//! The chain records a request (`ExitRequested`, with a Unix-time deadline) and, when a keeper
//! forced the exit through EIP-7002, `ExitEnforced` for that key and deadline. It records no
//! per-key exit: the oracle judges each request in the first report whose reference slot is at or
//! after the deadline's slot (`compute.rs`: deadline slot in `(last ref slot, ref slot]` and the
//! validator still active and not exiting) and charges the operator
//! `missedExitPenalty × missed` as one penalty of kind 2. So per operator and report we know how
//! many of the requests due in that report's window were missed, not which ones. Once the oracle
//! sees a requested validator exiting or exited, its next report closes the request
//! (`exitsStarted` → `ExitRequestCleared`), and the ExitEnforcer can no longer force it. This
//! module turns that into a status per request and says `unknown` where the data cannot tell.

use serde::Serialize;

/// Slot timing of a pool's oracle (`OracleReport.FrameConfigUpdated`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// Genesis time (Unix seconds).
    pub genesis_time: u64,
    /// Seconds per slot (non-zero).
    pub seconds_per_slot: u64,
}

impl Timing {
    /// The slot containing Unix time `t` (slot 0 before genesis), as the oracle computes it.
    pub fn slot_of(&self, t: u64) -> u64 {
        t.saturating_sub(self.genesis_time).checked_div(self.seconds_per_slot).unwrap_or(0)
    }

    /// The start time of `slot`.
    pub fn time_of(&self, slot: u64) -> u64 {
        self.genesis_time.saturating_add(slot.saturating_mul(self.seconds_per_slot))
    }
}

/// One exit request of an operator as indexed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// Key index.
    pub key: u64,
    /// Deadline (Unix seconds).
    pub deadline: u64,
    /// The reference slot of the report that closed it (`ExitRequestCleared`: the oracle saw the
    /// validator exiting or exited by then), if one did.
    pub cleared_in: Option<u64>,
    /// Whether a keeper forced the exit after this deadline (`ExitEnforced`).
    pub forced: bool,
}

/// One oracle report of the pool, as it concerns one operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Judgement {
    /// The report's reference slot.
    pub ref_slot: u64,
    /// Missed exits the report charged the operator (its kind-2 penalties divided by the
    /// missed-exit penalty then in force); `None` when that penalty was zero or unknown, so the
    /// report could not say.
    pub missed: Option<u64>,
    /// Whether chunks of the report's extra data were dropped (a penalty may have been lost).
    pub dropped: bool,
}

/// Where an exit request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The deadline has not passed.
    Pending,
    /// The deadline passed; no report has judged it yet.
    AwaitingReport,
    /// The validator was seen exiting by the judging report (the request was closed by then), or
    /// the judging report charged no missed exit for it.
    Met,
    /// The judging report charged it as missed.
    Missed,
    /// A keeper forced the exit through EIP-7002 after the deadline (so it was missed).
    Forced,
    /// The data cannot tell (some but not all requests of that report were missed, the penalty
    /// was zero, or chunks with penalties may have been dropped).
    Unknown,
}

/// The resolved status of one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resolved {
    /// Status.
    pub status: Status,
    /// The reference slot of the report that judged it, once one did.
    pub judged_by: Option<u64>,
    /// Missed exits that report charged the operator, and how many of its requests it judged.
    pub missed_of: Option<(u64, u64)>,
}

/// Resolves every request of one operator. `reports` are the pool's reports in any order; `now`
/// is the chain time.
pub fn resolve(
    requests: &[Request],
    reports: &[Judgement],
    timing: Option<Timing>,
    now: u64,
) -> Vec<Resolved> {
    let mut by_slot: Vec<Judgement> = reports.to_vec();
    by_slot.sort_by_key(|r| r.ref_slot);
    // The judging report of a request: the first with ref slot at or after the deadline's slot.
    let judge = |r: &Request| -> Option<Judgement> {
        let timing = timing?;
        let due = timing.slot_of(r.deadline);
        by_slot.iter().find(|j| j.ref_slot >= due).copied()
    };
    let judges: Vec<Option<Judgement>> = requests.iter().map(judge).collect();
    // Closed by the oracle at or before its judging report: the exit was seen started in time.
    let seen_in_time = |r: &Request, j: Option<Judgement>| match (r.cleared_in, j) {
        (Some(c), Some(j)) => c <= j.ref_slot,
        (Some(_), None) => true,
        (None, _) => false,
    };
    requests
        .iter()
        .zip(&judges)
        .map(|(r, j)| {
            let judged_by = j.map(|j| j.ref_slot);
            if r.forced {
                return Resolved { status: Status::Forced, judged_by, missed_of: None };
            }
            if seen_in_time(r, *j) {
                return Resolved { status: Status::Met, judged_by, missed_of: None };
            }
            let Some(j) = j else {
                let status = match (now > r.deadline, timing) {
                    (false, _) => Status::Pending,
                    // without the frame timing no report can be matched to the deadline
                    (true, None) => Status::Unknown,
                    (true, Some(_)) => Status::AwaitingReport,
                };
                return Resolved { status, judged_by: None, missed_of: None };
            };
            // The requests this report judged that were still open then: forced ones may or may
            // not be among those it counted (a forced exit started before the ref slot is not).
            let same: Vec<&Request> = requests
                .iter()
                .zip(&judges)
                .filter(|(q, o)| o.map(|o| o.ref_slot) == Some(j.ref_slot) && !seen_in_time(q, **o))
                .map(|(q, _)| q)
                .collect();
            let total = same.len() as u64;
            let forced = same.iter().filter(|q| q.forced).count() as u64;
            let open = total.saturating_sub(forced);
            let Some(missed) = j.missed else {
                return Resolved { status: Status::Unknown, judged_by, missed_of: None };
            };
            let missed_of = Some((missed, total));
            // bounds of the missed count among the requests that were not forced
            let low = missed.saturating_sub(forced);
            let high = missed.min(open);
            let status = if high == 0 && !j.dropped {
                Status::Met
            } else if low >= open {
                Status::Missed
            } else {
                Status::Unknown
            };
            Resolved { status, judged_by, missed_of }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Timing = Timing { genesis_time: 1_000, seconds_per_slot: 12 };

    fn req(key: u64, deadline: u64) -> Request {
        Request { key, deadline, cleared_in: None, forced: false }
    }

    fn report(ref_slot: u64, missed: Option<u64>) -> Judgement {
        Judgement { ref_slot, missed, dropped: false }
    }

    fn statuses(requests: &[Request], reports: &[Judgement], now: u64) -> Vec<Status> {
        resolve(requests, reports, Some(T), now).into_iter().map(|r| r.status).collect()
    }

    #[test]
    fn a_request_is_pending_until_its_deadline_then_awaits_the_next_report() {
        // deadline at slot 100 (t = 2,200); the only report is at slot 50
        let r = [req(0, T.time_of(100))];
        assert_eq!(statuses(&r, &[report(50, Some(0))], 2_199), [Status::Pending]);
        assert_eq!(statuses(&r, &[report(50, Some(0))], 2_201), [Status::AwaitingReport]);
    }

    #[test]
    fn the_first_report_at_or_after_the_deadline_slot_judges_it() {
        let r = [req(0, T.time_of(100) + 5)]; // inside slot 100
        let res = resolve(&r, &[report(150, Some(1)), report(100, Some(0))], Some(T), 9_999);
        assert_eq!((res[0].status, res[0].judged_by), (Status::Met, Some(100)));
        let res = resolve(&r, &[report(99, Some(1)), report(120, Some(1))], Some(T), 9_999);
        assert_eq!(
            (res[0].status, res[0].judged_by, res[0].missed_of),
            (Status::Missed, Some(120), Some((1, 1)))
        );
    }

    #[test]
    fn partly_missed_reports_are_unknown_per_key_unless_forced_exits_explain_them() {
        let two = [req(0, T.time_of(90)), req(1, T.time_of(95))];
        assert_eq!(statuses(&two, &[report(100, Some(1))], 9_999), [Status::Unknown; 2]);
        assert_eq!(statuses(&two, &[report(100, Some(2))], 9_999), [Status::Missed; 2]);
        assert_eq!(statuses(&two, &[report(100, Some(0))], 9_999), [Status::Met; 2]);
        // one forced: the single missed exit may be the forced one or the other
        let mut forced = two;
        forced[0].forced = true;
        assert_eq!(
            statuses(&forced, &[report(100, Some(1))], 9_999),
            [Status::Forced, Status::Unknown]
        );
        // two missed with one forced: the other one missed too
        assert_eq!(
            statuses(&forced, &[report(100, Some(2))], 9_999),
            [Status::Forced, Status::Missed]
        );
        assert_eq!(
            statuses(&forced, &[report(100, Some(0))], 9_999),
            [Status::Forced, Status::Met]
        );
    }

    #[test]
    fn without_a_penalty_or_with_dropped_chunks_the_report_cannot_say_met() {
        let r = [req(0, T.time_of(90))];
        assert_eq!(statuses(&r, &[report(100, None)], 9_999), [Status::Unknown]);
        let dropped = Judgement { ref_slot: 100, missed: Some(0), dropped: true };
        assert_eq!(statuses(&r, &[dropped], 9_999), [Status::Unknown]);
        let dropped = Judgement { ref_slot: 100, missed: Some(1), dropped: true };
        assert_eq!(statuses(&r, &[dropped], 9_999), [Status::Missed]);
    }

    #[test]
    fn closed_requests_and_missing_timing() {
        // closed by the report at slot 80 (before the deadline's slot 90): met
        let mut r = [req(0, T.time_of(90)), req(1, T.time_of(95))];
        r[0].cleared_in = Some(80);
        assert_eq!(statuses(&r, &[report(100, Some(1))], 9_999), [Status::Met, Status::Missed]);
        assert_eq!(statuses(&r, &[], 9_999), [Status::Met, Status::AwaitingReport]);
        // closed by the judging report itself: seen exiting at its ref slot, not counted missed
        r[0].cleared_in = Some(100);
        assert_eq!(statuses(&r, &[report(100, Some(1))], 9_999), [Status::Met, Status::Missed]);
        // closed only by a later report: the judging report decides (one missed of two)
        r[0].cleared_in = Some(200);
        let two = [report(100, Some(1)), report(200, Some(0))];
        assert_eq!(statuses(&r, &two, 9_999), [Status::Unknown, Status::Unknown]);
        let r = [req(0, 5_000)];
        let res = resolve(&r, &[report(100, Some(0))], None, 9_999);
        assert_eq!(res[0].status, Status::Unknown, "no timing: no report can be matched");
        let res = resolve(&r, &[], None, 4_000);
        assert_eq!(res[0].status, Status::Pending);
    }
}
