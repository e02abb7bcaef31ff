//! Execution credits against a scripted execution node (a JSON-RPC stand-in that can move a
//! balance at the worst moment, refuse a call, or take a credit and never answer): a transaction
//! moving a balance while the simulator credits it is not undone, a refused credit is retried,
//! and a crash in the middle of a credit batch pays every credit once — neither the slots before
//! the crash are replayed into a second payment, nor is the credit in flight sent again.

use claystack_beacon_sim::core::AdminOp;
use claystack_beacon_sim::{ChainConfig, ClockMode, NodeConfig, SimNode};
use claystack_consensus::hexutil;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const A: [u8; 20] = [0xaa; 20];
const B: [u8; 20] = [0xbb; 20];
const ETH: u128 = 1_000_000_000_000_000_000;

/// What the scripted execution node holds and will do.
#[derive(Default)]
struct El {
    balances: HashMap<String, u128>,
    /// A transaction that moves `(address, wei)` out the next time a credit touches the address
    /// (after a balance read, before a balance increment): an oracle report pulling from the
    /// WithdrawalVault, mined between the simulator's calls.
    pull: Option<(String, u128)>,
    /// Balance-changing calls so far.
    credit_calls: usize,
    /// The balance-changing call (1-based) that is applied and then never answered.
    hang_on: Option<usize>,
    /// Balance-changing calls refused with a JSON-RPC error before this many were made.
    refuse_next: usize,
}

fn key(a: &Value) -> String {
    a.as_str().unwrap_or_default().to_lowercase()
}

fn quantity(v: &Value) -> u128 {
    u128::from_str_radix(v.as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
}

async fn serve(el: Arc<Mutex<El>>) -> String {
    let handler = move |axum::Json(req): axum::Json<Value>| {
        let el = Arc::clone(&el);
        async move {
            let p = &req["params"];
            let mut hang = false;
            let result = {
                let mut el = el.lock().unwrap();
                match req["method"].as_str().unwrap_or_default() {
                    "eth_blockNumber" | "eth_chainId" => json!("0x1"),
                    "eth_getLogs" => json!([]),
                    "eth_getBalance" => {
                        let a = key(&p[0]);
                        let b = el.balances.get(&a).copied().unwrap_or(0);
                        if el.pull.as_ref().is_some_and(|(pa, _)| *pa == a)
                            && let Some((_, wei)) = el.pull.take()
                        {
                            el.balances.insert(a, b - wei);
                        }
                        json!(format!("{b:#x}"))
                    }
                    m @ ("anvil_setBalance" | "anvil_addBalance") => {
                        if el.refuse_next > 0 {
                            el.refuse_next -= 1;
                            let err = json!({"code": -32603, "message": "refused by the test"});
                            return axum::Json(
                                json!({"jsonrpc": "2.0", "id": req["id"], "error": err}),
                            );
                        }
                        let a = key(&p[0]);
                        if m == "anvil_addBalance"
                            && el.pull.as_ref().is_some_and(|(pa, _)| *pa == a)
                            && let Some((_, wei)) = el.pull.take()
                        {
                            *el.balances.entry(a.clone()).or_default() -= wei;
                        }
                        let wei = quantity(&p[1]);
                        let b = el.balances.entry(a).or_default();
                        *b = if m == "anvil_addBalance" { *b + wei } else { wei };
                        el.credit_calls += 1;
                        hang = el.hang_on == Some(el.credit_calls);
                        Value::Null
                    }
                    other => panic!("unexpected call {other}"),
                }
            };
            if hang {
                // applied, never answered: the simulator crashes while waiting
                std::future::pending::<()>().await;
            }
            axum::Json(json!({"jsonrpc": "2.0", "id": req["id"], "result": result}))
        }
    };
    let app = axum::Router::new().route("/", axum::routing::post(handler));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

fn cfg(el: &str, snapshot: Option<PathBuf>) -> NodeConfig {
    NodeConfig {
        chain: ChainConfig {
            genesis_validators: 2,
            default_performance_ppm: 1_000_000,
            performance_jitter_ppm: 0,
            genesis_time: 1_700_000_000,
            // a generous EL APR: every block pays a visible priority fee
            el_apr_bps: 5_000,
            ..ChainConfig::devnet()
        },
        listen: "127.0.0.1:0".parse().unwrap(),
        execution_rpc: Some(el.to_owned()),
        execution_start_block: 0,
        follow_distance: 0,
        exit_request_contract: None,
        apply_el_credits: true,
        snapshot_path: snapshot,
        clock: ClockMode::Manual,
    }
}

/// Validator 0 pays its priority fees to A, validator 1 to B.
fn fee_recipients(node: &SimNode) {
    for (index, address) in [(0, A), (1, B)] {
        node.shared().admin(&AdminOp::SetFeeRecipient { index, address: Some(address) }).unwrap();
    }
}

/// Wei the simulator owes each address: the priority fees of every block produced so far.
fn owed(node: &SimNode) -> HashMap<String, u128> {
    let inner = node.shared().read().unwrap();
    let mut out = HashMap::new();
    for p in inner.state.recent_proposals.iter().filter(|p| p.produced) {
        if let Some(a) = p.fee_recipient {
            *out.entry(hexutil::encode_prefixed(a)).or_default() += p.priority_fees.to_wei().0;
        }
    }
    out
}

fn balance(el: &Mutex<El>, a: [u8; 20]) -> u128 {
    el.lock().unwrap().balances.get(&hexutil::encode_prefixed(a)).copied().unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transaction_moving_the_balance_during_a_credit_is_not_undone() {
    let el = Arc::new(Mutex::new(El::default()));
    let a = hexutil::encode_prefixed(A);
    el.lock().unwrap().balances.insert(a.clone(), 100 * ETH);
    el.lock().unwrap().pull = Some((a.clone(), 40 * ETH));
    let url = serve(Arc::clone(&el)).await;
    let node = SimNode::start(cfg(&url, None), None).await.unwrap();
    fee_recipients(&node);
    node.advance(12).await.unwrap();
    let fees = owed(&node).get(&a).copied().unwrap_or(0);
    assert!(fees > 0, "validator 0 proposed no block with fees");
    assert!(el.lock().unwrap().pull.is_none(), "the pull happened");
    assert_eq!(
        balance(&el, A),
        100 * ETH - 40 * ETH + fees,
        "the 40 ETH pulled while the simulator credited were paid back"
    );
    node.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_credit_stays_pending_and_is_applied_later() {
    let el = Arc::new(Mutex::new(El::default()));
    let url = serve(Arc::clone(&el)).await;
    let dir = tempfile::tempdir().unwrap();
    let node =
        SimNode::start(cfg(&url, Some(dir.path().join("beacon.snapshot"))), None).await.unwrap();
    fee_recipients(&node);
    node.advance(4).await.unwrap();
    el.lock().unwrap().refuse_next = 1;
    node.advance(8).await.unwrap();
    let status = node.shared().read().unwrap().last_error.clone().unwrap_or_default();
    assert!(status.contains("refused by the test"), "{status}");
    assert!(node.shared().read().unwrap().pending_credits.is_some(), "kept for a retry");
    node.advance(1).await.unwrap();
    let owed = owed(&node);
    assert_eq!(balance(&el, A), owed[&hexutil::encode_prefixed(A)]);
    assert_eq!(balance(&el, B), owed[&hexutil::encode_prefixed(B)]);
    node.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_in_the_middle_of_a_credit_batch_pays_every_credit_once() {
    let el = Arc::new(Mutex::new(El::default()));
    let url = serve(Arc::clone(&el)).await;
    let dir = tempfile::tempdir().unwrap();
    let snapshot = dir.path().join("beacon.snapshot");
    let node = SimNode::start(cfg(&url, Some(snapshot.clone())), None).await.unwrap();
    fee_recipients(&node);
    // an epoch (a snapshot), then a batch crediting both addresses: the execution node applies
    // the second credit and never answers, and the simulator dies waiting (no final snapshot)
    node.advance(4).await.unwrap();
    {
        let mut el = el.lock().unwrap();
        el.hang_on = Some(el.credit_calls + 2);
    }
    let crashed = tokio::time::timeout(Duration::from_secs(3), node.advance(8)).await;
    assert!(crashed.is_err(), "the batch did not reach the hanging call: {crashed:?}");
    let crash_head = 12;
    drop(node);
    el.lock().unwrap().hang_on = None;
    let before = (balance(&el, A), balance(&el, B));
    assert!(before.0 > 0 && before.1 > 0, "both addresses credited before the crash: {before:?}");

    let node = SimNode::start(cfg(&url, Some(snapshot.clone())), None).await.unwrap();
    let head = node.shared().read().unwrap().state.slot.get();
    assert!(head <= crash_head, "resumed at {head}");
    node.advance(crash_head + 4 - head).await.unwrap();
    let owed = owed(&node);
    assert_eq!(balance(&el, A), owed[&hexutil::encode_prefixed(A)], "A paid once");
    assert_eq!(balance(&el, B), owed[&hexutil::encode_prefixed(B)], "B paid once");
    // the credit in flight at the crash was not sent again, and the node said which it was
    let said = node.shared().read().unwrap().last_error.clone().unwrap_or_default();
    assert!(said.contains("was being applied at the crash"), "{said:?}");
    assert!(
        said.contains(&hexutil::encode_prefixed(B)) || said.contains(&hexutil::encode_prefixed(A)),
        "{said}"
    );
    node.shutdown().await.unwrap();

    // a second restart does not judge the credit in flight again
    let node = SimNode::start(cfg(&url, Some(snapshot)), None).await.unwrap();
    assert_eq!(node.shared().read().unwrap().last_error, None);
    node.shutdown().await.unwrap();
}
