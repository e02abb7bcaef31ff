//! Unit newtypes. Money moves only through checked arithmetic: an overflow is an error, never a
//! wrap-around.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// An arithmetic operation on a unit newtype overflowed or underflowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{op} overflowed for {unit}")]
pub struct ArithmeticError {
    /// The operation that failed (`add`, `sub`, `mul`, `div`).
    pub op: &'static str,
    /// The unit of the operands.
    pub unit: &'static str,
}

macro_rules! u64_unit {
    ($(#[$doc:meta])* $name:ident, $unit:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub u64);

        impl $name {
            /// Zero of this unit.
            pub const ZERO: Self = Self(0);
            /// The largest representable value; the spec uses it as "far future".
            pub const MAX: Self = Self(u64::MAX);

            /// The raw integer.
            #[must_use]
            pub const fn get(self) -> u64 {
                self.0
            }
            /// `self + rhs`, or an error on overflow.
            pub fn checked_add(self, rhs: Self) -> Result<Self, ArithmeticError> {
                self.0.checked_add(rhs.0).map(Self).ok_or(ArithmeticError { op: "add", unit: $unit })
            }
            /// `self - rhs`, or an error on underflow.
            pub fn checked_sub(self, rhs: Self) -> Result<Self, ArithmeticError> {
                self.0.checked_sub(rhs.0).map(Self).ok_or(ArithmeticError { op: "sub", unit: $unit })
            }
            /// `self * rhs`, or an error on overflow.
            pub fn checked_mul(self, rhs: u64) -> Result<Self, ArithmeticError> {
                self.0.checked_mul(rhs).map(Self).ok_or(ArithmeticError { op: "mul", unit: $unit })
            }
            /// `self / rhs`, or an error when `rhs` is zero.
            pub fn checked_div(self, rhs: u64) -> Result<Self, ArithmeticError> {
                self.0.checked_div(rhs).map(Self).ok_or(ArithmeticError { op: "div", unit: $unit })
            }
            /// `self - rhs`, clamped at zero.
            #[must_use]
            pub const fn saturating_sub(self, rhs: Self) -> Self {
                Self(self.0.saturating_sub(rhs.0))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }

        impl From<u64> for $name {
            fn from(v: u64) -> Self {
                Self(v)
            }
        }

        // The Beacon API encodes every uint64 as a decimal string.
        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                crate::hexutil::deserialize_u64_lenient(d).map(Self)
            }
        }
    };
}

u64_unit!(
    /// An amount of ether in gwei (1e-9 ETH), as the consensus layer counts balances.
    Gwei,
    "gwei"
);
u64_unit!(
    /// A beacon-chain slot number.
    Slot,
    "slot"
);
u64_unit!(
    /// A beacon-chain epoch number.
    Epoch,
    "epoch"
);
u64_unit!(
    /// The index of a validator in the beacon state's registry.
    ValidatorIndex,
    "validator index"
);

/// Wei per gwei.
pub const WEI_PER_GWEI: u128 = 1_000_000_000;

impl Gwei {
    /// Whole ether in gwei.
    pub const PER_ETH: u64 = 1_000_000_000;

    /// This amount in wei (cannot overflow: u64 gwei fits in u128 wei).
    #[must_use]
    pub fn to_wei(self) -> Wei {
        Wei(u128::from(self.0).saturating_mul(WEI_PER_GWEI))
    }
}

impl Slot {
    /// The epoch this slot belongs to.
    pub fn epoch(self, slots_per_epoch: u64) -> Result<Epoch, ArithmeticError> {
        self.0
            .checked_div(slots_per_epoch)
            .map(Epoch)
            .ok_or(ArithmeticError { op: "div", unit: "slot" })
    }
}

impl Epoch {
    /// The first slot of this epoch.
    pub fn start_slot(self, slots_per_epoch: u64) -> Result<Slot, ArithmeticError> {
        self.0
            .checked_mul(slots_per_epoch)
            .map(Slot)
            .ok_or(ArithmeticError { op: "mul", unit: "epoch" })
    }
}

/// An amount of ether in wei, as the execution layer counts it.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Wei(pub u128);

impl Wei {
    /// Zero wei.
    pub const ZERO: Self = Self(0);

    /// `self + rhs`, or an error on overflow.
    pub fn checked_add(self, rhs: Self) -> Result<Self, ArithmeticError> {
        self.0.checked_add(rhs.0).map(Self).ok_or(ArithmeticError { op: "add", unit: "wei" })
    }
    /// `self - rhs`, or an error on underflow.
    pub fn checked_sub(self, rhs: Self) -> Result<Self, ArithmeticError> {
        self.0.checked_sub(rhs.0).map(Self).ok_or(ArithmeticError { op: "sub", unit: "wei" })
    }
    /// Whole gwei in this amount, rounding down; an error if it does not fit in a u64.
    pub fn to_gwei_floor(self) -> Result<Gwei, ArithmeticError> {
        let g = self.0 / WEI_PER_GWEI;
        u64::try_from(g).map(Gwei).map_err(|_| ArithmeticError { op: "div", unit: "wei" })
    }
}

impl fmt::Display for Wei {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checked_ops_report_overflow() {
        assert_eq!(
            Gwei::MAX.checked_add(Gwei(1)),
            Err(ArithmeticError { op: "add", unit: "gwei" })
        );
        assert_eq!(Gwei(1).checked_sub(Gwei(2)), Err(ArithmeticError { op: "sub", unit: "gwei" }));
        assert_eq!(Gwei(3).checked_add(Gwei(4)), Ok(Gwei(7)));
        assert!(Epoch(1).checked_div(0).is_err());
    }

    #[test]
    fn slot_epoch_round_trip() {
        assert_eq!(Slot(65).epoch(32), Ok(Epoch(2)));
        assert_eq!(Epoch(2).start_slot(32), Ok(Slot(64)));
        assert!(Slot(1).epoch(0).is_err());
    }

    #[test]
    fn gwei_wei_conversion() {
        assert_eq!(Gwei(32 * Gwei::PER_ETH).to_wei(), Wei(32_000_000_000_000_000_000));
        assert_eq!(Wei(1_999_999_999).to_gwei_floor(), Ok(Gwei(1)));
        assert!(Wei(u128::MAX).to_gwei_floor().is_err());
    }

    #[test]
    fn serde_uses_decimal_strings_and_accepts_numbers() {
        assert_eq!(serde_json::to_string(&Slot(42)).unwrap(), "\"42\"");
        assert_eq!(serde_json::from_str::<Slot>("\"42\"").unwrap(), Slot(42));
        assert_eq!(serde_json::from_str::<Slot>("42").unwrap(), Slot(42));
        assert!(serde_json::from_str::<Slot>("\"-1\"").is_err());
        assert!(serde_json::from_str::<Slot>("\"18446744073709551616\"").is_err());
    }
}
