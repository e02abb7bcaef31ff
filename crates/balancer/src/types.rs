//! Inputs, parameters and outputs of the allocation algorithm.

use serde::{Deserialize, Serialize};

use crate::error::AllocationError;

/// Basis points in one whole (100 %).
pub const BPS: u64 = 10_000;
/// Highest performance score (100 %, in bps).
pub const MAX_SCORE: u64 = BPS;
/// Hard upper bound of `max_operators_per_type` (bounds the gas of one allocation).
pub const MAX_OPERATORS_PER_TYPE: u64 = 200;
/// Most operators [`crate::select_exits_off_chain`] takes (keeps its sums exact in 128 bits; the
/// oracle passes one entry per operator of the registry).
pub const MAX_OFF_CHAIN_OPERATORS: u64 = 1 << 20;
/// Hard upper bound of the validators one call allocates or selects for exit.
pub const MAX_REQUEST: u64 = 256;
/// Hard lower bound of `operator_cap_bps` (1 %).
pub const MIN_OPERATOR_CAP_BPS: u64 = 100;
/// Hard upper bound of `capacity_saturation`.
pub const MAX_CAPACITY_SATURATION: u64 = 1_024;

/// Operator type; the discriminant is the Solidity enum value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[repr(u8)]
pub enum OperatorType {
    /// Professional node operator admitted by governance.
    Professional = 0,
    /// KYC-ringfenced operator.
    Kyc = 1,
    /// DVT cluster.
    Dvt = 2,
    /// Permissionless home staker.
    Home = 3,
}

impl OperatorType {
    /// All types in enum order (the order used to break ties between types).
    pub const ALL: [Self; 4] = [Self::Professional, Self::Kyc, Self::Dvt, Self::Home];

    /// The type with the given Solidity enum value, if any.
    pub const fn from_u8(value: u8) -> Option<Self> {
        match value {
            0 => Some(Self::Professional),
            1 => Some(Self::Kyc),
            2 => Some(Self::Dvt),
            3 => Some(Self::Home),
            _ => None,
        }
    }
}

/// Target share of the pool's active validators per operator type, in bps (sum 10,000).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetShares {
    /// Target of Professional operators.
    pub professional: u16,
    /// Target of Kyc operators.
    pub kyc: u16,
    /// Target of Dvt clusters.
    pub dvt: u16,
    /// Target of Home operators.
    pub home: u16,
}

impl TargetShares {
    /// The target of one type.
    pub const fn of(&self, operator_type: OperatorType) -> u16 {
        match operator_type {
            OperatorType::Professional => self.professional,
            OperatorType::Kyc => self.kyc,
            OperatorType::Dvt => self.dvt,
            OperatorType::Home => self.home,
        }
    }

    /// The sum of the four targets (10,000 when valid).
    pub fn sum(&self) -> u64 {
        OperatorType::ALL.iter().map(|t| u64::from(self.of(*t))).sum()
    }
}

/// Governance parameters of one allocator (one per pool).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllocationParams {
    /// Target share per type, bps, summing to 10,000; a type with target 0 never receives deposits.
    pub target_bps: TargetShares,
    /// Per-operator cap as a share of the pool's active validators, bps in [100, 10,000].
    pub operator_cap_bps: u16,
    /// Per-operator absolute cap on active validators, in [1, u64::MAX].
    pub operator_cap_absolute: u64,
    /// `K` in `weight = max(score, 1) × min(available, K)`, in [1, 1,024].
    pub capacity_saturation: u64,
    /// Most operators of one type an input may hold, in [1, 200].
    pub max_operators_per_type: u16,
}

impl AllocationParams {
    /// Defaults of the public pool: 35/10/35/20 %, cap 25 %, no absolute cap, K = 32, 100 per type.
    pub const fn public_pool() -> Self {
        Self {
            target_bps: TargetShares { professional: 3_500, kyc: 1_000, dvt: 3_500, home: 2_000 },
            operator_cap_bps: 2_500,
            operator_cap_absolute: u64::MAX,
            capacity_saturation: 32,
            max_operators_per_type: 100,
        }
    }

    /// Defaults of the KYC pool: Kyc operators only (10,000 bps), no share cap.
    pub const fn kyc_pool() -> Self {
        Self {
            target_bps: TargetShares { professional: 0, kyc: 10_000, dvt: 0, home: 0 },
            operator_cap_bps: 10_000,
            operator_cap_absolute: u64::MAX,
            capacity_saturation: 32,
            max_operators_per_type: 100,
        }
    }

    /// Checks every parameter against its hard bound, as the contract's setters do.
    pub fn validate(&self) -> Result<(), AllocationError> {
        let sum = self.target_bps.sum();
        if sum != BPS {
            return Err(AllocationError::InvalidTargets { sum });
        }
        check("operatorCapBps", self.operator_cap_bps.into(), MIN_OPERATOR_CAP_BPS, BPS)?;
        check("operatorCapAbsolute", self.operator_cap_absolute, 1, u64::MAX)?;
        check("capacitySaturation", self.capacity_saturation, 1, MAX_CAPACITY_SATURATION)?;
        check("maxOperatorsPerType", self.max_operators_per_type.into(), 1, MAX_OPERATORS_PER_TYPE)
    }
}

fn check(parameter: &'static str, value: u64, min: u64, max: u64) -> Result<(), AllocationError> {
    if value < min || value > max {
        return Err(AllocationError::ParameterOutOfBounds { parameter, value, min, max });
    }
    Ok(())
}

/// What the allocator knows about one operator (fed by the OperatorRegistry).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorData {
    /// Registry id; inputs are sorted by strictly increasing id.
    pub id: u64,
    /// Operator type.
    pub operator_type: OperatorType,
    /// Not paused or stopped: only active operators receive deposits (any operator may exit).
    pub is_active: bool,
    /// Active validators: deposited minus exited.
    pub active_validators: u64,
    /// Keys that are vetted, undeposited and covered by free bond.
    pub available_keys: u64,
    /// Performance score in bps, 0..=10,000.
    pub score: u16,
}

/// Validators given to (or taken from) one operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllocationEntry {
    /// Operator id.
    pub operator_id: u64,
    /// Number of validators.
    pub count: u64,
}

/// Result of a deposit allocation or an exit selection.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Allocation {
    /// One entry per operator with a non-zero count, by increasing operator id.
    pub entries: Vec<AllocationEntry>,
    /// Sum of the counts; below the request when no operator can take more.
    pub total: u64,
}
