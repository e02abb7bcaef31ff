//! Key derivation and deposit data for 1,000 validators, and the cost of one keystore.
//!
//! `cargo bench -p claystack-keys -- --sample-size 10`

// criterion's macros generate undocumented public functions.
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use claystack_consensus::Gwei;
use claystack_keys::{
    DepositNetwork, Kdf, Keystore, Mnemonic, WithdrawalTarget, deposit_data_for, derive_validators,
    to_deposit_cli_json,
};
use criterion::{Criterion, criterion_group, criterion_main};

const MNEMONIC: &str = "test test test test test test test test test test test waste";
const VALIDATORS: u32 = 1_000;

fn validators(c: &mut Criterion) {
    let seed = Mnemonic::parse(MNEMONIC).map(|m| m.to_seed("")).unwrap_or_else(|e| panic!("{e}"));
    let network = DepositNetwork::by_name("mainnet").unwrap_or_else(|| panic!("mainnet"));
    let target = WithdrawalTarget::Execution([0x0f; 20]);
    let mut g = c.benchmark_group("validators_1000");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    g.bench_function("derive_signing_and_withdrawal_keys", |b| {
        b.iter(|| derive_validators(black_box(seed.as_slice()), 0, VALIDATORS, &|_| {}));
    });
    g.bench_function("derive_and_deposit_data_json", |b| {
        b.iter(|| {
            let keys = derive_validators(black_box(seed.as_slice()), 0, VALIDATORS, &|_| {})
                .unwrap_or_else(|e| panic!("{e}"));
            let entries = deposit_data_for(&keys, target, Gwei(32_000_000_000), &network, &|_| {});
            to_deposit_cli_json(&entries).unwrap_or_else(|e| panic!("{e}"))
        });
    });
    g.finish();
}

fn keystore(c: &mut Criterion) {
    let seed = Mnemonic::parse(MNEMONIC).map(|m| m.to_seed("")).unwrap_or_else(|e| panic!("{e}"));
    let keys = derive_validators(seed.as_slice(), 0, 1, &|_| {}).unwrap_or_else(|e| panic!("{e}"));
    let sk = &keys.first().unwrap_or_else(|| panic!("one key")).signing;
    let mut g = c.benchmark_group("keystore_one");
    g.sample_size(10);
    g.bench_function("mnemonic_to_seed", |b| {
        let m = Mnemonic::parse(MNEMONIC).unwrap_or_else(|e| panic!("{e}"));
        b.iter(|| m.to_seed(black_box("")));
    });
    for (name, kdf) in
        [("scrypt_n2e18", Kdf::scrypt_default()), ("pbkdf2_c2e18", Kdf::pbkdf2_default())]
    {
        g.bench_function(format!("encrypt_{name}"), |b| {
            b.iter(|| {
                Keystore::encrypt(sk, black_box("password123"), &kdf, "m/12381/3600/0/0/0", "")
            });
        });
    }
    g.finish();
}

criterion_group!(benches, validators, keystore);
criterion_main!(benches);
