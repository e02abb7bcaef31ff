//! Checked 256-bit helpers with the rounding of OpenZeppelin's `Math.mulDiv`.

use alloy::primitives::{U256, U512};

use crate::error::ComputeError;

/// `floor(a * b / d)` with a 512-bit intermediate, like `Math.mulDiv(a, b, d)`.
pub fn mul_div(a: U256, b: U256, d: U256) -> Result<U256, ComputeError> {
    if d.is_zero() {
        return Err(ComputeError::Arithmetic("division by zero in mulDiv"));
    }
    let p: U512 = a.widening_mul(b);
    let q = p.checked_div(U512::from(d)).ok_or(ComputeError::Arithmetic("mulDiv"))?;
    U256::checked_from_limbs_slice(q.as_limbs())
        .ok_or(ComputeError::Arithmetic("mulDiv result above 2^256"))
}

/// `ceil(a * b / d)`, like `Math.mulDiv(a, b, d, Rounding.Ceil)`.
pub fn mul_div_ceil(a: U256, b: U256, d: U256) -> Result<U256, ComputeError> {
    let down = mul_div(a, b, d)?;
    let p: U512 = a.widening_mul(b);
    let back: U512 = down.widening_mul(d);
    if back == p { Ok(down) } else { add(down, U256::from(1u8)) }
}

/// Checked `a + b`.
pub fn add(a: U256, b: U256) -> Result<U256, ComputeError> {
    a.checked_add(b).ok_or(ComputeError::Arithmetic("addition overflow"))
}

/// Checked `a - b`.
pub fn sub(a: U256, b: U256) -> Result<U256, ComputeError> {
    a.checked_sub(b).ok_or(ComputeError::Arithmetic("subtraction underflow"))
}

/// Checked `a * b`.
pub fn mul(a: U256, b: U256) -> Result<U256, ComputeError> {
    a.checked_mul(b).ok_or(ComputeError::Arithmetic("multiplication overflow"))
}

/// Checked `a / b` (floor).
pub fn div(a: U256, b: U256) -> Result<U256, ComputeError> {
    a.checked_div(b).ok_or(ComputeError::Arithmetic("division by zero"))
}

/// `a - b` or zero.
pub fn sat_sub(a: U256, b: U256) -> U256 {
    a.saturating_sub(b)
}

/// Gwei to wei.
pub fn gwei_to_wei(gwei: u64) -> U256 {
    U256::from(gwei).saturating_mul(U256::from(1_000_000_000u64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn mul_div_matches_u128_reference(a in any::<u64>(), b in any::<u64>(), d in 1u64..) {
            let want = u128::from(a) * u128::from(b) / u128::from(d);
            prop_assert_eq!(mul_div(U256::from(a), U256::from(b), U256::from(d)).unwrap(), U256::from(want));
            let ceil = (u128::from(a) * u128::from(b)).div_ceil(u128::from(d));
            prop_assert_eq!(mul_div_ceil(U256::from(a), U256::from(b), U256::from(d)).unwrap(), U256::from(ceil));
        }
    }

    #[test]
    fn mul_div_uses_a_wide_intermediate() {
        let a = U256::MAX;
        assert_eq!(mul_div(a, a, a).unwrap(), a);
        assert!(mul_div(a, a, U256::from(1u8)).is_err());
        assert!(mul_div(a, a, U256::ZERO).is_err());
    }
}
