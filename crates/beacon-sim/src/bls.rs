//! BLS checks the simulator makes with real signatures (blst through `claystack-keys`): the
//! signing root of a voluntary exit under the EIP-7044 domain, and a [`DepositVerifier`] that
//! checks first deposits as mainnet does.

use crate::core::DepositVerifier;
use crate::core::deposit::Deposit;
use claystack_consensus::{
    DomainType, Epoch, ForkVersion, HashTreeRoot, Root, compute_domain, compute_signing_root,
    ssz::container_root,
};
use claystack_keys::deposit::{DepositMessage, WithdrawalCredentials};

/// `compute_signing_root(VoluntaryExit(epoch, validator_index), domain)` with
/// `domain = compute_domain(DOMAIN_VOLUNTARY_EXIT, fork_version, genesis_validators_root)`; from
/// Deneb on `fork_version` is always `CAPELLA_FORK_VERSION` (EIP-7044).
#[must_use]
pub fn voluntary_exit_signing_root(
    epoch: Epoch,
    validator_index: u64,
    fork_version: ForkVersion,
    genesis_validators_root: Root,
) -> Root {
    let message = container_root(&[epoch.0.hash_tree_root(), validator_index.hash_tree_root()]);
    let domain = compute_domain(DomainType::VOLUNTARY_EXIT, fork_version, genesis_validators_root);
    compute_signing_root(message, domain)
}

/// Checks a first deposit's signature over its `DepositMessage` under
/// `compute_domain(DOMAIN_DEPOSIT, GENESIS_FORK_VERSION, ZERO_HASH)`, as `apply_deposit` does.
#[derive(Debug, Clone, Copy)]
pub struct BlsDepositVerifier {
    /// `GENESIS_FORK_VERSION` of the chain.
    pub genesis_fork_version: ForkVersion,
}

impl DepositVerifier for BlsDepositVerifier {
    fn verify(&self, d: &Deposit) -> bool {
        let message = DepositMessage {
            pubkey: d.pubkey,
            withdrawal_credentials: WithdrawalCredentials(d.withdrawal_credentials),
            amount: d.amount,
        };
        let root = message.signing_root(self.genesis_fork_version);
        // a malformed key or signature is an invalid deposit, as on mainnet
        claystack_keys::bls::verify(&d.pubkey, &root, &d.signature).unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use claystack_consensus::Gwei;
    use claystack_keys::SecretKey;

    fn key(b: u8) -> SecretKey {
        SecretKey::from_bytes(&[b; 32]).unwrap()
    }

    #[test]
    fn exit_root_binds_epoch_index_fork_and_genesis() {
        let base = voluntary_exit_signing_root(Epoch(3), 7, [3, 0, 0, 0], [1; 32]);
        assert_ne!(base, voluntary_exit_signing_root(Epoch(4), 7, [3, 0, 0, 0], [1; 32]));
        assert_ne!(base, voluntary_exit_signing_root(Epoch(3), 8, [3, 0, 0, 0], [1; 32]));
        assert_ne!(base, voluntary_exit_signing_root(Epoch(3), 7, [4, 0, 0, 0], [1; 32]));
        assert_ne!(base, voluntary_exit_signing_root(Epoch(3), 7, [3, 0, 0, 0], [2; 32]));
        // hash_tree_root(VoluntaryExit{0, 0}) = sha256(zero32 ‖ zero32)
        let zero = claystack_consensus::ssz::sha256(&[0u8; 64]);
        let domain = compute_domain(DomainType::VOLUNTARY_EXIT, [0; 4], [0; 32]);
        assert_eq!(
            voluntary_exit_signing_root(Epoch(0), 0, [0; 4], [0; 32]),
            compute_signing_root(zero, domain)
        );
    }

    #[test]
    fn deposits_verify_only_with_their_own_signature_and_fork() {
        let sk = key(7);
        let wc = [1u8; 32];
        let message = DepositMessage {
            pubkey: sk.public_key(),
            withdrawal_credentials: WithdrawalCredentials(wc),
            amount: Gwei(1_000_000_000),
        };
        let fork = [0x10, 0, 0, 0x38];
        let signed = message.sign(&sk, fork);
        let mut d = Deposit {
            pubkey: sk.public_key(),
            withdrawal_credentials: wc,
            amount: Gwei(1_000_000_000),
            signature: signed.signature.to_vec(),
            index: 0,
        };
        let v = BlsDepositVerifier { genesis_fork_version: fork };
        assert!(v.verify(&d));
        assert!(!BlsDepositVerifier { genesis_fork_version: [0; 4] }.verify(&d));
        d.amount = Gwei(2_000_000_000);
        assert!(!v.verify(&d), "the amount is signed");
        d.amount = Gwei(1_000_000_000);
        d.signature = vec![0; 96];
        assert!(!v.verify(&d), "a malformed signature is invalid, not a panic");
        d.signature = key(8).sign(&message.signing_root(fork)).to_vec();
        assert!(!v.verify(&d), "another key's signature");
    }
}
