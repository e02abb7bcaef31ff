//! Deterministic, order-independent randomness: every draw is a hash of the seed and the
//! coordinates of the event (epoch, validator, purpose), so the outcome of one validator never
//! depends on how many others were processed before it.

use sha2::{Digest, Sha256};

/// Purposes of draws, so two draws at the same coordinates are independent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Purpose {
    /// Whether a validator attested in an epoch.
    Attest = 1,
    /// Who proposes a slot.
    Proposer = 2,
    /// Whether the proposer showed up.
    Propose = 3,
    /// A validator's performance at creation.
    Performance = 4,
    /// Synthetic roots and keys.
    Root = 5,
}

/// A 64-bit draw for `(seed, purpose, a, b)`.
#[must_use]
pub fn draw(seed: u64, purpose: Purpose, a: u64, b: u64) -> u64 {
    // splitmix64 finaliser over the mixed inputs: fast and well distributed.
    let mut z = seed
        ^ (purpose as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ a.wrapping_mul(0xBF58_476D_1CE4_E5B9)
        ^ b.rotate_left(32).wrapping_mul(0x94D0_49BB_1331_11EB);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z = (z ^ (z >> 31)).wrapping_add(a ^ b.rotate_left(17));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z ^ (z >> 31)
}

/// A draw in `0..1_000_000` (parts per million).
#[must_use]
pub fn draw_ppm(seed: u64, purpose: Purpose, a: u64, b: u64) -> u32 {
    // The remainder is below 1_000_000, so it fits a u32.
    u32::try_from(draw(seed, purpose, a, b) % 1_000_000).unwrap_or(0)
}

/// A synthetic 32-byte root for `(seed, a, b)` (block, state and body roots).
#[must_use]
pub fn root(seed: u64, tag: &[u8], a: u64, b: u64) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(seed.to_le_bytes());
    h.update(tag);
    h.update(a.to_le_bytes());
    h.update(b.to_le_bytes());
    h.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_are_deterministic_and_spread() {
        assert_eq!(draw(7, Purpose::Attest, 1, 2), draw(7, Purpose::Attest, 1, 2));
        assert_ne!(draw(7, Purpose::Attest, 1, 2), draw(8, Purpose::Attest, 1, 2));
        assert_ne!(draw(7, Purpose::Attest, 1, 2), draw(7, Purpose::Propose, 1, 2));
        let hits = (0..10_000u64).filter(|i| draw_ppm(1, Purpose::Attest, *i, 0) < 500_000).count();
        assert!((4_500..5_500).contains(&hits), "{hits}");
    }
}
