//! Bulk work for many validators: EIP-2334 keys and deposit data, spread over every core.
//!
//! Derivation (Lamport trees of SHA-256) and signing are CPU-bound and independent per
//! validator, so a scoped thread per core pulls indices from a shared counter.

use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicUsize, Ordering};

use claystack_consensus::Gwei;

use crate::bls::{PublicKeyBytes, SecretKey};
use crate::deposit::{
    DepositDataJson, DepositMessage, DepositNetwork, WithdrawalCredentials, WithdrawalTarget,
};
use crate::eip2333::{DerivationError, derive_child_sk, derive_from, derive_master_sk};
use crate::path::{COIN_TYPE, KeyPath, PURPOSE};

/// The keys of one validator. The withdrawal secret is not kept, only its public key.
#[derive(Debug, Clone)]
pub struct ValidatorKeys {
    /// EIP-2334 validator index.
    pub index: u32,
    /// Signing key at `m/12381/3600/<index>/0/0`.
    pub signing: SecretKey,
    /// Public key of the withdrawal key at `m/12381/3600/<index>/0`.
    pub withdrawal_pubkey: PublicKeyBytes,
}

impl ValidatorKeys {
    /// The signing key's public key.
    #[must_use]
    pub fn pubkey(&self) -> PublicKeyBytes {
        self.signing.public_key()
    }

    /// The signing key's path.
    #[must_use]
    pub fn signing_path(&self) -> KeyPath {
        KeyPath::signing(self.index)
    }

    /// Withdrawal credentials for `target`.
    #[must_use]
    pub fn withdrawal_credentials(&self, target: WithdrawalTarget) -> WithdrawalCredentials {
        match target {
            WithdrawalTarget::Bls => WithdrawalCredentials::bls(&self.withdrawal_pubkey),
            WithdrawalTarget::Execution(a) => WithdrawalCredentials::execution(&a, false),
            WithdrawalTarget::Compounding(a) => WithdrawalCredentials::execution(&a, true),
        }
    }

    /// The signed deposit-CLI entry for `amount` to `target` on `network`.
    #[must_use]
    pub fn deposit_data(
        &self,
        target: WithdrawalTarget,
        amount: Gwei,
        network: &DepositNetwork,
    ) -> DepositDataJson {
        let message = DepositMessage {
            pubkey: self.pubkey(),
            withdrawal_credentials: self.withdrawal_credentials(target),
            amount,
        };
        message.sign(&self.signing, network.fork_version).to_json(network)
    }
}

/// Runs `f` over `items` on every available core, keeping the order; `on_progress(done)` is
/// called after each item from whichever thread finished it.
pub fn par_map<T: Sync, R: Send>(
    items: &[T],
    f: impl Fn(&T) -> R + Sync,
    on_progress: &(dyn Fn(usize) + Sync),
) -> Vec<R> {
    par_map_threads(usize::MAX, items, f, on_progress)
}

/// [`par_map`] on at most `max_threads` threads (e.g. to bound scrypt's 256 MiB per thread).
pub fn par_map_threads<T: Sync, R: Send>(
    max_threads: usize,
    items: &[T],
    f: impl Fn(&T) -> R + Sync,
    on_progress: &(dyn Fn(usize) + Sync),
) -> Vec<R> {
    let threads =
        std::thread::available_parallelism().map_or(1, NonZeroUsize::get).min(max_threads);
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let mut results: Vec<(usize, R)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads.min(items.len()).max(1))
            .map(|_| {
                s.spawn(|| {
                    let mut out = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(item) = items.get(i) else { break };
                        out.push((i, f(item)));
                        on_progress(done.fetch_add(1, Ordering::Relaxed).saturating_add(1));
                    }
                    out
                })
            })
            .collect();
        // A worker only panics if `f` does; re-raise it on the caller's thread.
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    });
    results.sort_unstable_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

/// Derives validators `start .. start + count` from a BIP-39 seed, in parallel.
pub fn derive_validators(
    seed: &[u8],
    start: u32,
    count: u32,
    on_progress: &(dyn Fn(usize) + Sync),
) -> Result<Vec<ValidatorKeys>, DerivationError> {
    let master = derive_master_sk(seed)?;
    // m/12381/3600 is shared by every validator: derive it once.
    let base = derive_from(&master, &[PURPOSE, COIN_TYPE]);
    drop(master);
    let end = start.checked_add(count).ok_or(DerivationError::IndexOverflow { start, count })?;
    let indices: Vec<u32> = (start..end).collect();
    Ok(par_map(
        &indices,
        |&index| {
            let withdrawal = derive_from(&base, &[index, 0]);
            let signing = derive_child_sk(&withdrawal, 0);
            ValidatorKeys { index, signing, withdrawal_pubkey: withdrawal.public_key() }
        },
        on_progress,
    ))
}

/// Signed deposit-CLI entries for `keys`, in parallel.
pub fn deposit_data_for(
    keys: &[ValidatorKeys],
    target: WithdrawalTarget,
    amount: Gwei,
    network: &DepositNetwork,
    on_progress: &(dyn Fn(usize) + Sync),
) -> Vec<DepositDataJson> {
    par_map(keys, |k| k.deposit_data(target, amount, network), on_progress)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eip2333::derive_path;

    #[test]
    fn parallel_derivation_equals_path_derivation_in_order() {
        let seed = [42u8; 64];
        let calls = AtomicUsize::new(0);
        let keys = derive_validators(&seed, 5, 6, &|_| {
            calls.fetch_add(1, Ordering::Relaxed);
        })
        .unwrap();
        assert_eq!(calls.load(Ordering::Relaxed), 6);
        for (k, index) in keys.iter().zip(5u32..) {
            assert_eq!(k.index, index);
            let s = derive_path(&seed, &KeyPath::signing(index)).unwrap();
            let w = derive_path(&seed, &KeyPath::withdrawal(index)).unwrap();
            assert_eq!(k.pubkey(), s.public_key());
            assert_eq!(k.withdrawal_pubkey, w.public_key());
        }
        assert!(matches!(
            derive_validators(&seed, u32::MAX, 2, &|_| {}),
            Err(DerivationError::IndexOverflow { .. })
        ));
        assert!(derive_validators(&seed, 0, 0, &|_| {}).unwrap().is_empty());
    }

    #[test]
    fn par_map_keeps_order_with_any_thread_count() {
        let items: Vec<u32> = (0..50).collect();
        for threads in [0, 1, 2, 7] {
            let out = par_map_threads(threads, &items, |x| x * 2, &|_| {});
            assert_eq!(out, items.iter().map(|x| x * 2).collect::<Vec<_>>());
        }
    }
}
