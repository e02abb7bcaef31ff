//! The slot clock: wall-clock slots for devnets, or manual slots advanced through `/admin/advance`
//! for tests.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How slots advance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockMode {
    /// Slot `n` starts at `genesis_time + n × slot_duration`. A `slot_duration` shorter than the
    /// spec's `SECONDS_PER_SLOT` speeds the chain up (clients should then follow the head slot
    /// from `/eth/v1/node/syncing`, not compute it from genesis time).
    Wall {
        /// Real duration of one slot.
        slot_duration: Duration,
    },
    /// Slots advance only through [`crate::node::SimNode::advance`] or `POST /admin/advance`.
    Manual,
}

/// The slot the wall clock is in, `genesis_time` in Unix seconds; 0 before genesis.
#[must_use]
pub fn wall_slot(genesis_time: u64, slot_duration: Duration, now: SystemTime) -> u64 {
    let since_epoch = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    let elapsed = since_epoch.saturating_sub(Duration::from_secs(genesis_time));
    let per = slot_duration.as_millis().max(1);
    u64::try_from(elapsed.as_millis().checked_div(per).unwrap_or(0)).unwrap_or(u64::MAX)
}

/// Time until the wall clock enters slot `slot`.
#[must_use]
pub fn until_slot(
    genesis_time: u64,
    slot_duration: Duration,
    slot: u64,
    now: SystemTime,
) -> Duration {
    let start = Duration::from_secs(genesis_time)
        .saturating_add(slot_duration.saturating_mul(u32::try_from(slot).unwrap_or(u32::MAX)));
    let since_epoch = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    start.saturating_sub(since_epoch)
}

/// The current Unix time in seconds.
#[must_use]
pub fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_from_wall_time() {
        let genesis = 1_000;
        let d = Duration::from_millis(500);
        let at = |ms: u64| UNIX_EPOCH + Duration::from_millis(ms);
        assert_eq!(wall_slot(genesis, d, at(999_000)), 0);
        assert_eq!(wall_slot(genesis, d, at(1_000_000)), 0);
        assert_eq!(wall_slot(genesis, d, at(1_000_499)), 0);
        assert_eq!(wall_slot(genesis, d, at(1_000_500)), 1);
        assert_eq!(wall_slot(genesis, d, at(1_003_100)), 6);
        assert_eq!(until_slot(genesis, d, 7, at(1_003_100)), Duration::from_millis(400));
        assert_eq!(until_slot(genesis, d, 2, at(1_003_100)), Duration::ZERO);
    }
}
