//! The few network parameters signing roots depend on beyond what a request carries.

use claystack_consensus::{Epoch, ForkVersion};

/// Network parameters the signer needs: the slot/epoch ratio, the genesis fork version (builder
/// registrations), and the Capella version and Deneb epoch (EIP-7044 voluntary exits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NetworkSpec {
    /// Network name.
    pub name: &'static str,
    /// `SLOTS_PER_EPOCH`.
    pub slots_per_epoch: u64,
    /// `GENESIS_FORK_VERSION`.
    pub genesis_fork_version: ForkVersion,
    /// `CAPELLA_FORK_VERSION`.
    pub capella_fork_version: ForkVersion,
    /// `DENEB_FORK_EPOCH`.
    pub deneb_fork_epoch: Epoch,
}

impl NetworkSpec {
    /// Ethereum mainnet.
    pub const MAINNET: Self = Self {
        name: "mainnet",
        slots_per_epoch: 32,
        genesis_fork_version: [0x00, 0x00, 0x00, 0x00],
        capella_fork_version: [0x03, 0x00, 0x00, 0x00],
        deneb_fork_epoch: Epoch(269_568),
    };
    /// Holešky.
    pub const HOLESKY: Self = Self {
        name: "holesky",
        slots_per_epoch: 32,
        genesis_fork_version: [0x01, 0x01, 0x70, 0x00],
        capella_fork_version: [0x04, 0x01, 0x70, 0x00],
        deneb_fork_epoch: Epoch(29_696),
    };
    /// Sepolia.
    pub const SEPOLIA: Self = Self {
        name: "sepolia",
        slots_per_epoch: 32,
        genesis_fork_version: [0x90, 0x00, 0x00, 0x69],
        capella_fork_version: [0x90, 0x00, 0x00, 0x72],
        deneb_fork_epoch: Epoch(132_608),
    };
    /// Hoodi (Deneb from genesis).
    pub const HOODI: Self = Self {
        name: "hoodi",
        slots_per_epoch: 32,
        genesis_fork_version: [0x10, 0x00, 0x09, 0x10],
        capella_fork_version: [0x40, 0x00, 0x09, 0x10],
        deneb_fork_epoch: Epoch(0),
    };

    /// Every network known by name.
    pub const ALL: [Self; 4] = [Self::MAINNET, Self::HOLESKY, Self::SEPOLIA, Self::HOODI];

    /// Looks a network up by name.
    #[must_use]
    pub fn by_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|n| n.name == name)
    }
}
