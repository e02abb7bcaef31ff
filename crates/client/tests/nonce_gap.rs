//! A long-running process (keeper, CLI session) must survive a refused transaction: the signing
//! connection must not reserve a nonce for a transaction whose gas estimate failed, or every
//! later transaction of that account waits forever behind the gap.
//!
//! Needs anvil: `CLAYSTACK_ANVIL` or `<workspace>/node_modules/.bin/anvil` (`npm ci`).

use std::{
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use alloy::{
    network::TransactionBuilder,
    primitives::{Address, U256},
    providers::Provider,
    rpc::types::TransactionRequest,
};
use claystack_client::wallet::{Connection, KeySource, load_signer};

/// anvil's first default account (a public test key).
const ANVIL0: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

struct Anvil(Child);

impl Drop for Anvil {
    fn drop(&mut self) {
        if self.0.kill().is_ok() {
            let _reaped = self.0.wait();
        }
    }
}

fn anvil_path() -> PathBuf {
    std::env::var_os("CLAYSTACK_ANVIL").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../node_modules/.bin/anvil"),
        PathBuf::from,
    )
}

#[tokio::test]
async fn a_refused_transaction_leaves_no_nonce_gap() {
    let path = anvil_path();
    assert!(
        path.exists(),
        "anvil not found at {} — run `npm ci` at the workspace root or set CLAYSTACK_ANVIL",
        path.display()
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let _anvil = Anvil(
        Command::new(&path)
            .args(["--port", &port.to_string(), "--host", "127.0.0.1", "--silent"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("start anvil at {}: {e}", path.display())),
    );
    let signer = load_signer(&KeySource::PrivateKey(ANVIL0.into())).unwrap();
    let conn = Connection::connect(&format!("http://127.0.0.1:{port}"), Some(signer)).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while conn.provider.get_block_number().await.is_err() {
        assert!(Instant::now() < deadline, "anvil did not answer on port {port}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let to = Address::repeat_byte(0x11);

    // refused before it is signed: the value exceeds the balance, so the gas estimate fails
    let too_much = TransactionRequest::default().with_to(to).with_value(U256::MAX);
    assert!(conn.provider.send_transaction(too_much).await.is_err(), "an unpayable transfer sent");

    // the next transaction must use the node's nonce (0), not a reserved 1
    let ok = TransactionRequest::default().with_to(to).with_value(U256::from(1u64));
    let pending = conn.provider.send_transaction(ok).await.expect("send a payable transfer");
    let receipt = tokio::time::timeout(Duration::from_secs(20), pending.get_receipt())
        .await
        .expect("the transfer after a refused one was never mined (nonce gap)")
        .expect("read the receipt");
    assert!(receipt.status());
    assert_eq!(conn.provider.get_balance(to).await.unwrap(), U256::from(1u64));
}
