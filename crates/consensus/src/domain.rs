//! Signing domains and signing roots (consensus specs, phase0 `compute_domain`,
//! `compute_signing_root`).

use crate::ssz::{HashTreeRoot, Root, container_root};

/// A 4-byte fork version.
pub type ForkVersion = [u8; 4];

/// A 4-byte domain type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DomainType(pub [u8; 4]);

impl DomainType {
    /// `DOMAIN_BEACON_PROPOSER`.
    pub const BEACON_PROPOSER: Self = Self([0, 0, 0, 0]);
    /// `DOMAIN_BEACON_ATTESTER`.
    pub const BEACON_ATTESTER: Self = Self([1, 0, 0, 0]);
    /// `DOMAIN_RANDAO`.
    pub const RANDAO: Self = Self([2, 0, 0, 0]);
    /// `DOMAIN_DEPOSIT`.
    pub const DEPOSIT: Self = Self([3, 0, 0, 0]);
    /// `DOMAIN_VOLUNTARY_EXIT`.
    pub const VOLUNTARY_EXIT: Self = Self([4, 0, 0, 0]);
    /// `DOMAIN_SELECTION_PROOF`.
    pub const SELECTION_PROOF: Self = Self([5, 0, 0, 0]);
    /// `DOMAIN_AGGREGATE_AND_PROOF`.
    pub const AGGREGATE_AND_PROOF: Self = Self([6, 0, 0, 0]);
    /// `DOMAIN_SYNC_COMMITTEE`.
    pub const SYNC_COMMITTEE: Self = Self([7, 0, 0, 0]);
    /// `DOMAIN_SYNC_COMMITTEE_SELECTION_PROOF`.
    pub const SYNC_COMMITTEE_SELECTION_PROOF: Self = Self([8, 0, 0, 0]);
    /// `DOMAIN_CONTRIBUTION_AND_PROOF`.
    pub const CONTRIBUTION_AND_PROOF: Self = Self([9, 0, 0, 0]);
    /// `DOMAIN_APPLICATION_BUILDER` (builder-spec validator registrations).
    pub const APPLICATION_BUILDER: Self = Self([0, 0, 0, 1]);
}

/// `ForkData(current_version, genesis_validators_root)` root.
#[must_use]
pub fn compute_fork_data_root(current_version: ForkVersion, genesis_validators_root: Root) -> Root {
    container_root(&[current_version.hash_tree_root(), genesis_validators_root])
}

/// `compute_domain(domain_type, fork_version, genesis_validators_root)`.
#[must_use]
pub fn compute_domain(
    domain_type: DomainType,
    fork_version: ForkVersion,
    genesis_validators_root: Root,
) -> Root {
    let fork_data_root = compute_fork_data_root(fork_version, genesis_validators_root);
    let mut domain = [0u8; 32];
    let (head, tail) = domain.split_at_mut(4);
    head.copy_from_slice(&domain_type.0);
    if let Some(src) = fork_data_root.get(..28) {
        tail.copy_from_slice(src);
    }
    domain
}

/// `compute_signing_root(object, domain)`: the root of `SigningData(object_root, domain)`.
#[must_use]
pub fn compute_signing_root(object_root: Root, domain: Root) -> Root {
    container_root(&[object_root, domain])
}

/// Known network fork versions, for deposit data and for checking what a file claims.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainSpecForks {
    /// Network name as the deposit CLI writes it (`mainnet`, `holesky`, …).
    pub name: &'static str,
    /// `GENESIS_FORK_VERSION`: the fork version deposits are signed under.
    pub genesis_fork_version: ForkVersion,
}

impl ChainSpecForks {
    /// Ethereum mainnet.
    pub const MAINNET: Self = Self { name: "mainnet", genesis_fork_version: [0, 0, 0, 0] };
    /// Holešky testnet.
    pub const HOLESKY: Self =
        Self { name: "holesky", genesis_fork_version: [0x01, 0x01, 0x70, 0x00] };
    /// Sepolia testnet.
    pub const SEPOLIA: Self =
        Self { name: "sepolia", genesis_fork_version: [0x90, 0x00, 0x00, 0x69] };
    /// Hoodi testnet.
    pub const HOODI: Self = Self { name: "hoodi", genesis_fork_version: [0x10, 0x00, 0x09, 0x10] };

    /// Every network known by name.
    pub const ALL: [Self; 4] = [Self::MAINNET, Self::HOLESKY, Self::SEPOLIA, Self::HOODI];

    /// Looks a network up by its deposit-CLI name.
    #[must_use]
    pub fn by_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|n| n.name == name)
    }

    /// Looks a network up by its genesis fork version.
    #[must_use]
    pub fn by_fork_version(v: ForkVersion) -> Option<Self> {
        Self::ALL.into_iter().find(|n| n.genesis_fork_version == v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hexutil::decode_fixed;

    /// From `../shared/vectors/README.md` (consensus specs, phase0).
    #[test]
    fn deposit_domain_matches_spec_value() {
        let d = compute_domain(DomainType::DEPOSIT, [0x12; 4], [0u8; 32]);
        let expect: Root =
            decode_fixed("0x030000000d66608af557f4fadbfce248ac37f6e7639ce371100c43d15aad05cb")
                .unwrap();
        assert_eq!(d, expect);
    }

    #[test]
    fn networks_resolve_both_ways() {
        assert_eq!(ChainSpecForks::by_name("holesky"), Some(ChainSpecForks::HOLESKY));
        assert_eq!(ChainSpecForks::by_fork_version([0, 0, 0, 0]), Some(ChainSpecForks::MAINNET));
        assert_eq!(ChainSpecForks::by_name("nope"), None);
    }
}
