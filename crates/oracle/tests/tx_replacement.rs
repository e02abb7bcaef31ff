//! Regression (security review, finding 3): a member's transaction that is never mined must not
//! freeze its loop. Against a real anvil that does not mine (`--no-mining`, as a node that
//! dropped or underpriced the transaction): the receipt wait gives up after the sender's timeout
//! (it used to wait forever), and the next transaction takes the stuck one's nonce with fees
//! raised by more than 10 %, so the node replaces it instead of queueing behind it; once a block
//! is mined, only the replacement is in it.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use alloy::network::{EthereumWallet, TransactionBuilder as _};
use alloy::primitives::{Address, U256};
use alloy::providers::{Provider, ProviderBuilder};
use alloy::rpc::types::TransactionRequest;
use alloy::signers::local::PrivateKeySigner;
use claystack_oracle::daemon::chain::TxSender;

/// anvil's first default key (public test key, never a secret).
const KEY: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stuck_transaction_times_out_and_is_replaced_at_its_nonce() {
    let anvil_bin = repo_root().join("node_modules/.bin/anvil");
    assert!(
        anvil_bin.exists(),
        "the pinned toolchain is missing: run `npm ci` (scripts/test does)"
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut anvil = tokio::process::Command::new(anvil_bin)
        .args(["--port", &port.to_string(), "--no-mining", "--silent"])
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start anvil");
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(start.elapsed() < Duration::from_secs(30), "anvil did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let key: PrivateKeySigner = KEY.parse().unwrap();
    let me = key.address();
    // the daemon's provider: gas estimation, nonces from the node
    let provider = ProviderBuilder::default()
        .with_gas_estimation()
        .with_simple_nonce_management()
        .fetch_chain_id()
        .wallet(EthereumWallet::from(key))
        .connect_http(format!("http://127.0.0.1:{port}").parse().unwrap())
        .erased();
    let sender = TxSender::new(me, Duration::from_secs(2));
    let (a, b) = (Address::repeat_byte(0xA1), Address::repeat_byte(0xB2));
    let pay = |to: Address| TransactionRequest::default().with_to(to).with_value(U256::from(7));

    // never mined: the wait ends with an error instead of blocking for ever
    let sent =
        tokio::time::timeout(Duration::from_secs(60), sender.send(&provider, pay(a), "pay a"))
            .await
            .expect("the receipt wait must time out by itself");
    let err = sent.unwrap_err().to_string();
    assert!(err.contains("pay a") && err.contains("next tick"), "{err}");
    let first = sender.last().unwrap();
    assert_eq!(first.nonce, 0);
    let pending = provider.get_transaction_count(me).pending().await.unwrap();
    assert_eq!(pending, 1, "the first transaction is still in the pool");

    // the next transaction replaces it (same nonce, fees +12.5 %), not queued at nonce 1
    let sent =
        tokio::time::timeout(Duration::from_secs(60), sender.send(&provider, pay(b), "pay b"))
            .await
            .expect("the receipt wait must time out by itself");
    assert!(sent.is_err());
    let second = sender.last().unwrap();
    assert_eq!(second.nonce, 0);
    assert!(second.max_fee_per_gas * 10 >= first.max_fee_per_gas * 11, "{first:?} {second:?}");
    assert!(
        second.max_priority_fee_per_gas * 10 >= first.max_priority_fee_per_gas * 11,
        "{first:?} {second:?}"
    );
    assert_eq!(provider.get_transaction_count(me).pending().await.unwrap(), 1);

    // one block: only the replacement is mined
    let _: String = provider.raw_request("evm_mine".into(), ()).await.unwrap();
    assert_eq!(provider.get_transaction_count(me).latest().await.unwrap(), 1);
    assert_eq!(provider.get_balance(b).await.unwrap(), U256::from(7));
    assert_eq!(provider.get_balance(a).await.unwrap(), U256::ZERO);
    // nothing of ours is pending: the next transaction takes a fresh nonce and is mined
    let send = sender.send(&provider, pay(a), "pay a again");
    let mine = async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let _: String = provider.raw_request("evm_mine".into(), ()).await.unwrap();
    };
    let (sent, ()) = tokio::join!(send, mine);
    assert!(sent.unwrap().status());
    assert_eq!(sender.last().unwrap().nonce, 1);
    assert_eq!(provider.get_balance(a).await.unwrap(), U256::from(7));
    anvil.kill().await.unwrap();
}
