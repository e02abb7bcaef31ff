//! End to end against a real anvil: a deposit made on the execution layer goes pending → active →
//! earns rewards → exits (EIP-7002 request log) → its withdrawal is credited on the execution
//! layer; everything observed through the Beacon API client. Then a restart resumes from the
//! snapshot.
//!
//! The deposit contract is replaced by a minimal emitter installed with `anvil_setCode`: its
//! runtime code copies the calldata to memory and `LOG1`s it with the `DepositEvent` topic, so a
//! transaction whose calldata is the ABI-encoded event data produces a log byte-identical to the
//! mainnet contract's. A second emitter `LOG0`s its calldata, which is the record format of the
//! EIP-7002 system contract.
//!
//! anvil is found through `CLAYSTACK_ANVIL` or `<workspace>/node_modules/.bin/anvil` (`npm ci`);
//! the test fails, never skips, when it is missing.

use claystack_beacon::{BeaconClient, ClientConfig, StateId, ValidatorId, ValidatorStatus};
use claystack_beacon_sim::core::deposit::{DEPOSIT_EVENT_TOPIC, Deposit, encode_deposit_event};
use claystack_beacon_sim::follower::ExecutionClient;
use claystack_beacon_sim::{ChainConfig, ClockMode, NodeConfig, SimNode};
use claystack_consensus::Gwei;
use serde_json::json;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const ETH_WEI: u128 = 1_000_000_000_000_000_000;
/// anvil's first default account (unlocked).
const FUNDER: &str = "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266";
const DEPOSIT_CONTRACT: [u8; 20] = [0x42; 20];
const EXIT_CONTRACT: [u8; 20] = [0x70; 20];
const WITHDRAWAL_ADDRESS: [u8; 20] = [0xbe; 20];
const FEE_RECIPIENT: [u8; 20] = [0xfe; 20];

struct Anvil {
    child: Child,
    url: String,
}

impl Drop for Anvil {
    fn drop(&mut self) {
        // The process may already be gone; a destructor has nobody to report to.
        if self.child.kill().is_ok() {
            let _reaped = self.child.wait();
        }
    }
}

fn anvil_path() -> PathBuf {
    if let Some(p) = std::env::var_os("CLAYSTACK_ANVIL") {
        return PathBuf::from(p);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../node_modules/.bin/anvil")
}

async fn start_anvil() -> Anvil {
    let path = anvil_path();
    assert!(
        path.exists(),
        "anvil not found at {} — run `npm ci` at the workspace root or set CLAYSTACK_ANVIL",
        path.display()
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new(&path)
        .args(["--port", &port.to_string(), "--host", "127.0.0.1", "--silent"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("start anvil at {}: {e}", path.display()));
    let anvil = Anvil { child, url: format!("http://127.0.0.1:{port}") };
    let client = ExecutionClient::new(&anvil.url).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while client.block_number().await.is_err() {
        assert!(Instant::now() < deadline, "anvil did not answer on {}", anvil.url);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    anvil
}

fn hex(b: impl AsRef<[u8]>) -> String {
    claystack_consensus::hexutil::encode_prefixed(b)
}

/// Runtime code: `calldatacopy(0, 0, calldatasize)`, then `LOG1(0, calldatasize, topic)` (or
/// `LOG0` without a topic), then `STOP`.
fn emitter_code(topic: Option<[u8; 32]>) -> Vec<u8> {
    let mut code = vec![0x36, 0x60, 0x00, 0x60, 0x00, 0x37];
    if let Some(t) = topic {
        code.push(0x7f);
        code.extend_from_slice(&t);
    }
    code.extend_from_slice(&[0x36, 0x60, 0x00]);
    code.push(if topic.is_some() { 0xa1 } else { 0xa0 });
    code.push(0x00);
    code
}

async fn send(el: &ExecutionClient, to: &[u8; 20], data: &[u8], value_wei: u128) {
    let tx = json!({"from": FUNDER, "to": hex(to), "data": hex(data), "value": format!("{value_wei:#x}"), "gas": "0x100000"});
    let hash = el.call("eth_sendTransaction", json!([tx])).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let receipt = loop {
        let r = el.call("eth_getTransactionReceipt", json!([hash])).await.unwrap();
        if !r.is_null() {
            break r;
        }
        assert!(Instant::now() < deadline, "transaction {hash} was not mined");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(receipt["status"], "0x1", "transaction failed: {receipt}");
    assert_eq!(receipt["logs"].as_array().map(Vec::len), Some(1), "no log emitted: {receipt}");
}

fn node_config(anvil: &Anvil, snapshot: PathBuf) -> NodeConfig {
    NodeConfig {
        chain: ChainConfig {
            genesis_validators: 4,
            default_performance_ppm: 1_000_000,
            performance_jitter_ppm: 0,
            seed: 7,
            genesis_time: 1_700_000_000,
            deposit_contract: DEPOSIT_CONTRACT,
            default_fee_recipient: Some(FEE_RECIPIENT),
            ..ChainConfig::devnet()
        },
        listen: "127.0.0.1:0".parse().unwrap(),
        execution_rpc: Some(anvil.url.clone()),
        execution_start_block: 0,
        follow_distance: 0,
        exit_request_contract: Some(EXIT_CONTRACT),
        apply_el_credits: true,
        snapshot_path: Some(snapshot),
        clock: ClockMode::Manual,
    }
}

async fn status_of(client: &BeaconClient, pk: [u8; 48]) -> ValidatorStatus {
    client.validator(StateId::Head, ValidatorId::Pubkey(pk)).await.unwrap().data.status
}

/// Advances slot by slot until the validator reaches `want`, recording every status seen.
async fn advance_until(
    node: &SimNode,
    client: &BeaconClient,
    pk: [u8; 48],
    want: ValidatorStatus,
    max_slots: u64,
    seen: &mut Vec<ValidatorStatus>,
) {
    for _ in 0..max_slots {
        let s = status_of(client, pk).await;
        if seen.last() != Some(&s) {
            seen.push(s);
        }
        if s == want {
            return;
        }
        node.advance(1).await.unwrap();
    }
    panic!("validator did not reach {want} within {max_slots} slots; seen {seen:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deposit_to_withdrawal_on_anvil() {
    let anvil = start_anvil().await;
    let el = ExecutionClient::new(&anvil.url).unwrap();
    el.call(
        "anvil_setCode",
        json!([hex(DEPOSIT_CONTRACT), hex(emitter_code(Some(DEPOSIT_EVENT_TOPIC)))]),
    )
    .await
    .unwrap();
    el.call("anvil_setCode", json!([hex(EXIT_CONTRACT), hex(emitter_code(None))])).await.unwrap();

    let dir = tempfile::tempdir().unwrap();
    let snapshot = dir.path().join("beacon.snapshot");
    let node = SimNode::start(node_config(&anvil, snapshot.clone()), None).await.unwrap();
    let client = BeaconClient::new(&node.url(), ClientConfig::default()).unwrap();

    let genesis = client.genesis().await.unwrap();
    assert_eq!(genesis.genesis_time, 1_700_000_000);
    assert_ne!(genesis.genesis_validators_root, [0; 32]);
    let spec = client.spec().await.unwrap();
    assert_eq!(spec.slots_per_epoch, 4);
    assert_eq!(spec.deposit_contract_address, Some(DEPOSIT_CONTRACT));
    let spe = spec.slots_per_epoch;

    // A 32 ETH deposit with 0x01 credentials, made on the execution layer.
    let pubkey = [0x99; 48];
    let mut wc = [0u8; 32];
    wc[0] = 0x01;
    wc[12..].copy_from_slice(&WITHDRAWAL_ADDRESS);
    let deposit = Deposit {
        pubkey,
        withdrawal_credentials: wc,
        amount: Gwei(32_000_000_000),
        signature: vec![0xab; 96],
        index: 0,
    };
    send(&el, &DEPOSIT_CONTRACT, &encode_deposit_event(&deposit), 32 * ETH_WEI).await;
    assert!(
        client
            .validator(StateId::Head, ValidatorId::Pubkey(pubkey))
            .await
            .unwrap_err()
            .is_not_found()
    );

    node.advance(1).await.unwrap();
    let mut seen = Vec::new();
    advance_until(&node, &client, pubkey, ValidatorStatus::ActiveOngoing, 12 * spe, &mut seen)
        .await;
    assert_eq!(
        seen,
        [
            ValidatorStatus::PendingInitialized,
            ValidatorStatus::PendingQueued,
            ValidatorStatus::ActiveOngoing
        ]
    );
    let v = client.validator(StateId::Head, ValidatorId::Pubkey(pubkey)).await.unwrap().data;
    assert_eq!(v.validator.withdrawal_credentials, wc);
    assert_eq!(v.validator.effective_balance, Gwei(32_000_000_000));
    let index = v.index;

    // Rewards: two epochs later the balance has grown (partial withdrawals sweep the excess, so
    // count what reached the execution layer too).
    let el_before = el.balance(&WITHDRAWAL_ADDRESS).await.unwrap();
    let cl_before = v.balance;
    node.advance(2 * spe).await.unwrap();
    let balances =
        client.validator_balances(StateId::Head, &[ValidatorId::Index(index)]).await.unwrap();
    let cl_after = balances.data[0].balance;
    let el_after = el.balance(&WITHDRAWAL_ADDRESS).await.unwrap();
    let earned = (u128::from(cl_after.get()) + (el_after - el_before) / 1_000_000_000)
        .checked_sub(u128::from(cl_before.get()))
        .expect("balance went down");
    assert!(earned > 0, "no rewards: cl {cl_before} → {cl_after}");

    // Finality and headers are served like a real node's.
    let fc = client.finality_checkpoints(StateId::Head).await.unwrap();
    assert!(fc.data.finalized.epoch.get() > 0);
    assert_eq!(fc.finalized, Some(false));
    let head = client.header(claystack_beacon::BlockId::Head).await.unwrap();
    assert!(head.data.header.message.slot.get() > 0);
    let fin = client.finality_checkpoints(StateId::Finalized).await.unwrap();
    assert_eq!(fin.finalized, Some(true));

    // Priority fees reached the default fee recipient on the execution layer.
    let fees = el.balance(&FEE_RECIPIENT).await.unwrap();
    let proposed = {
        let inner = node.shared().read().unwrap();
        inner.state.recent_proposals.iter().any(|p| p.produced && p.proposer_index == index)
    };
    assert_eq!(fees > 0, proposed, "fee recipient balance {fees}, proposed {proposed}");

    // Crash right after a mid-epoch batch that credited the execution layer (priority fees of
    // our validator's proposal): no final snapshot. The restart resumes from the snapshot written
    // after that batch, so re-running the slots up to the crash point pays nothing twice.
    let mut credited_mid_epoch = false;
    for _ in 0..64 * spe {
        let before = el.balance(&FEE_RECIPIENT).await.unwrap();
        let head = node.advance(1).await.unwrap();
        if el.balance(&FEE_RECIPIENT).await.unwrap() != before && head.get() % spe != 0 {
            credited_mid_epoch = true;
            break;
        }
    }
    assert!(credited_mid_epoch, "our validator never proposed mid-epoch");
    let head_before = client.syncing().await.unwrap().head_slot;
    let fees_at_crash = el.balance(&FEE_RECIPIENT).await.unwrap();
    let w_at_crash = el.balance(&WITHDRAWAL_ADDRESS).await.unwrap();
    drop(node);
    let node = SimNode::start(node_config(&anvil, snapshot.clone()), None).await.unwrap();
    let client = BeaconClient::new(&node.url(), ClientConfig::default()).unwrap();
    let resumed = client.syncing().await.unwrap().head_slot;
    assert!(resumed <= head_before, "resumed at {resumed}, crashed at {head_before}");
    node.advance(head_before.get() - resumed.get()).await.unwrap();
    assert_eq!(
        el.balance(&FEE_RECIPIENT).await.unwrap(),
        fees_at_crash,
        "priority fees paid twice"
    );
    assert_eq!(
        el.balance(&WITHDRAWAL_ADDRESS).await.unwrap(),
        w_at_crash,
        "withdrawals paid twice"
    );

    // Exit through an EIP-7002 request log from the withdrawal address.
    let mut request = WITHDRAWAL_ADDRESS.to_vec();
    request.extend_from_slice(&pubkey);
    request.extend_from_slice(&0u64.to_be_bytes());
    send(&el, &EXIT_CONTRACT, &request, 0).await;
    let mut seen = Vec::new();
    advance_until(&node, &client, pubkey, ValidatorStatus::WithdrawalDone, 12 * spe, &mut seen)
        .await;
    assert_eq!(seen[0], ValidatorStatus::ActiveOngoing);
    assert!(seen.contains(&ValidatorStatus::ActiveExiting), "{seen:?}");
    assert!(seen.contains(&ValidatorStatus::ExitedUnslashed), "{seen:?}");

    // Full withdrawal credited on the execution layer: everything the validator ever withdrew is
    // at the withdrawal address, and it is at least the 32 ETH deposited.
    let withdrawn: u128 = {
        let inner = node.shared().read().unwrap();
        inner
            .state
            .recent_withdrawals
            .iter()
            .filter(|w| w.address == WITHDRAWAL_ADDRESS)
            .map(|w| w.amount.to_wei().0)
            .sum()
    };
    let el_final = el.balance(&WITHDRAWAL_ADDRESS).await.unwrap();
    assert_eq!(el_final, withdrawn);
    assert!(el_final > 32 * ETH_WEI, "withdrawal address holds {el_final} wei");
    let done = client.validator(StateId::Head, ValidatorId::Index(index)).await.unwrap().data;
    assert_eq!(done.balance, Gwei(0));

    // The streamed all-validators read sees the same registry.
    let (meta, all) = client.all_validators(StateId::Head).await.unwrap();
    assert_eq!(all.len(), 5);
    assert_eq!(meta.execution_optimistic, Some(false));
    assert_eq!(all[4].validator.pubkey, pubkey);

    // Graceful restart: the final snapshot has the exact head.
    node.advance(spe).await.unwrap();
    let head_before = client.syncing().await.unwrap().head_slot;
    node.shutdown().await.unwrap();
    let node = SimNode::start(node_config(&anvil, snapshot.clone()), None).await.unwrap();
    let client = BeaconClient::new(&node.url(), ClientConfig::default()).unwrap();
    assert_eq!(client.syncing().await.unwrap().head_slot, head_before);
    node.shutdown().await.unwrap();

    // A fresh execution chain behind the snapshot's cursor is reported, not silently followed.
    let anvil2 = start_anvil().await;
    let node = SimNode::start(node_config(&anvil2, snapshot.clone()), None).await.unwrap();
    node.advance(1).await.unwrap();
    let err = node.shared().read().unwrap().last_error.clone().unwrap_or_default();
    assert!(err.contains("was the execution node reset"), "{err:?}");
    node.shutdown().await.unwrap();
    drop(anvil2);

    // A corrupt snapshot is a clear error, and the file is kept.
    let mut bytes = std::fs::read(&snapshot).unwrap();
    let last = bytes.len() - 3;
    bytes[last] ^= 0x01;
    std::fs::write(&snapshot, &bytes).unwrap();
    let err = SimNode::start(node_config(&anvil, snapshot.clone()), None).await.unwrap_err();
    assert!(err.to_string().contains("corrupt"), "{err}");
    assert_eq!(std::fs::read(&snapshot).unwrap(), bytes);
}
