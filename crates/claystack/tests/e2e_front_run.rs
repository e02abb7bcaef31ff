//! The withdrawal-credential front-run, end to end against a real anvil (1 s blocks) and the
//! beacon simulator, in the KYC pool: its Kyc operator deposits its first registered key itself,
//! straight to the deposit contract, with its own withdrawal credentials (a validly signed first
//! deposit, so the simulator creates the validator with them); the keeper's 1 ETH pre-deposit
//! then lands in that validator; the next report marks the key front-run, the operator's bond pays
//! the lost 1 ETH (`LossCovered`: all from the bond) and the pool's rate does not drop.

use std::time::Duration;

use claystack_beacon::{BeaconClient, ClientConfig, StateId, ValidatorId};
use claystack_bindings::{
    bond_manager::BondManager, deposit_contract::DepositContract,
    operator_registry::OperatorRegistry,
};
use claystack_client::{U256, exits::KeyRing};
use claystack_consensus::{Gwei, HashTreeRoot};
use claystack_devnet::{
    Devnet, DevnetConfig,
    alloy::{
        primitives::{B256, Bytes},
        providers::Provider,
    },
    setup::{self, DEVNET_MNEMONIC},
    testing::{devnet_home, events, free_port, operator_id, poll, wait_validator},
};
use claystack_keys::deposit::{DepositMessage, WithdrawalCredentials};

const ETH: u128 = 1_000_000_000_000_000_000;

/// Logs of the devnet's daemons in the test output (shown when a test fails); `RUST_LOG`
/// overrides the default filter.
fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "warn,devnet=info,oracle::daemon=info".into());
    static INIT: std::sync::Once = std::sync::Once::new();
    INIT.call_once(|| tracing_subscriber::fmt().with_env_filter(filter).with_test_writer().init());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_withdrawal_credential_front_run_costs_the_front_runner_not_the_stakers() {
    init_tracing();
    let root = devnet_home();
    assert!(
        root.join("node_modules/.bin/anvil").exists(),
        "the pinned toolchain is missing: run `npm ci` in {}",
        root.display()
    );
    let state = tempfile::tempdir().unwrap();
    let devnet = Devnet::start(DevnetConfig {
        home: root,
        port: free_port(),
        beacon_listen: "127.0.0.1:0".parse().unwrap(),
        state_dir: state.path().to_path_buf(),
        persistent: false,
        epochs_per_frame: 8,
        populate: true,
        oracle_members: 3,
        keeper: false,
    })
    .await
    .expect("bring the devnet up");
    let d = devnet.deployment.clone();
    let provider = devnet.provider().unwrap();
    let beacon = BeaconClient::new(&devnet.beacon_url, ClientConfig::default()).unwrap();
    let kyc_registry_addr = d.address("kycOperatorRegistry").unwrap();
    let kyc_registry = OperatorRegistry::new(kyc_registry_addr, provider.clone());
    let kyc_bonds = d.address("kycBondManager").unwrap();
    let start_block = provider.get_block_number().await.unwrap();

    // kyc-1 deposits its first registered key itself, with its own withdrawal credentials
    let kyc_id = operator_id(&provider, kyc_registry_addr, "kyc-1").await.unwrap();
    let key0: [u8; 48] = kyc_registry
        .getKey(kyc_id, U256::ZERO)
        .call()
        .await
        .unwrap()
        .pubkey
        .as_ref()
        .try_into()
        .unwrap();
    let front_runner = setup::account("kyc-1");
    let position = setup::sample_operators().iter().position(|o| o.label == "kyc-1").unwrap();
    let ring = KeyRing::from_mnemonic(DEVNET_MNEMONIC, setup::key_start(position), 2).unwrap();
    let sk = ring.get(&key0).expect("the operator holds its key");
    let mut own_wc = [0u8; 32];
    own_wc[0] = 1;
    own_wc[12..].copy_from_slice(front_runner.address().as_slice());
    let fork = claystack_beacon_sim::ChainConfig::devnet().genesis_fork_version;
    let signed = DepositMessage {
        pubkey: key0,
        withdrawal_credentials: WithdrawalCredentials(own_wc),
        amount: Gwei(Gwei::PER_ETH),
    }
    .sign(sk, fork);
    let dc = DepositContract::new(
        d.deposit_contract,
        setup::provider(&devnet.rpc, &front_runner).unwrap(),
    );
    let receipt = dc
        .deposit(
            Bytes::from(key0.to_vec()),
            Bytes::from(own_wc.to_vec()),
            Bytes::from(signed.signature.to_vec()),
            B256::from(signed.hash_tree_root()),
        )
        .value(U256::from(ETH))
        .send()
        .await
        .expect("send the front-running deposit")
        .get_receipt()
        .await
        .unwrap();
    assert!(receipt.status(), "the front-running deposit reverted");
    let seen = wait_validator(
        &beacon,
        key0,
        Duration::from_secs(60),
        "the front-run deposit on the beacon chain",
        |_| true,
    )
    .await
    .unwrap();
    assert_eq!(
        seen.validator.withdrawal_credentials, own_wc,
        "the first deposit's credentials win"
    );
    let rate_before = devnet.status(true).await.unwrap().share_rate;
    let bond_before =
        BondManager::new(kyc_bonds, provider.clone()).bondValue(kyc_id).call().await.unwrap();

    // the keeper pre-deposits the pool's keys, the front-run one included: its 1 ETH tops up
    // the front-runner's validator
    let done = devnet.keeper_once().await.expect("run the keeper");
    assert!(done.iter().any(|l| l.contains("pre-deposited")), "keeper did nothing: {done:?}");
    poll(Duration::from_secs(60), "the pre-deposit topping up the front-run validator", || async {
        let v = beacon
            .validator(StateId::Head, ValidatorId::Pubkey(key0))
            .await
            .map_err(|e| e.to_string())?;
        let balance = v.data.balance.get();
        if balance >= 2 * Gwei::PER_ETH { Ok(()) } else { Err(format!("{balance} gwei")) }
    })
    .await
    .unwrap();

    // the report marks the key front-run; the bond pays; the rate holds
    let op = poll(Duration::from_secs(150), "the KYC report marking the front-run key", || async {
        let op = kyc_registry.getOperator(kyc_id).call().await.map_err(|e| e.to_string())?;
        if op.frontRun >= 1 { Ok(op) } else { Err(format!("{op:?}")) }
    })
    .await
    .unwrap();
    // both pre-deposits were settled by the report (the cursor passed them), one as front-run,
    // and a front-run stops the operator: no more deposits go to it
    assert_eq!((op.frontRun, op.confirmed), (1, 2), "{op:?}");
    assert!(op.stopped, "the front-runner is stopped: {op:?}");
    let losses =
        events::<BondManager::LossCovered>(&provider, kyc_bonds, start_block).await.unwrap();
    let loss = losses
        .iter()
        .find(|l| l.operatorId == kyc_id)
        .unwrap_or_else(|| panic!("no LossCovered for the front-runner: {losses:?}"));
    assert_eq!(loss.loss, U256::from(ETH), "the forfeited pre-deposit: {loss:?}");
    assert_eq!(loss.fromBond, U256::from(ETH), "the front-runner's bond pays it all: {loss:?}");
    assert!(
        loss.fromVfp.is_zero() && loss.fromInsurance.is_zero() && loss.uncovered.is_zero(),
        "{loss:?}"
    );
    let bond_after =
        BondManager::new(kyc_bonds, provider.clone()).bondValue(kyc_id).call().await.unwrap();
    assert!(
        bond_after + U256::from(ETH) <= bond_before + U256::from(ETH / 100),
        "bond {bond_before} → {bond_after}"
    );
    let now = devnet.status(true).await.unwrap();
    assert!(
        now.share_rate >= rate_before,
        "the front-run cost the institution: {rate_before} → {}",
        now.share_rate
    );
    devnet.shutdown().await;
}
