//! The devnet's anvil enforces mainnet's per-transaction gas cap (EIP-7825, 2^24 gas), so a
//! report or extra-data chunk too heavy for mainnet fails on the devnet too.
//!
//! Needs the pinned toolchain (`npm ci`; `Toolchain::ensure` runs it when missing).

use std::{path::PathBuf, time::Duration};

use alloy::{
    network::TransactionBuilder, primitives::Address, providers::Provider,
    rpc::types::TransactionRequest,
};
use claystack_devnet::{Toolchain, setup};

/// EIP-7825's cap.
const TX_GAS_CAP: u64 = 1 << 24;

#[tokio::test]
async fn anvil_refuses_a_transaction_above_the_eip7825_cap() {
    let home = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap();
    let tools = Toolchain::ensure(&home).await.expect("the pinned toolchain");
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut anvil = tools.start_anvil(port, 1, None).expect("start anvil");
    let rpc = format!("http://127.0.0.1:{port}");
    let provider = setup::provider(&rpc, &setup::deployer()).unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while provider.get_block_number().await.is_err() {
        assert!(std::time::Instant::now() < deadline, "anvil did not answer on {rpc}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let tx = |gas: u64| {
        TransactionRequest::default()
            .with_to(Address::repeat_byte(0x22))
            .with_value(alloy::primitives::U256::from(1u64))
            .with_gas_limit(gas)
    };
    let refused = provider.send_transaction(tx(TX_GAS_CAP + 1)).await;
    let err = refused.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(err.contains("gas"), "a transaction above 2^24 gas was accepted (error: {err:?})");
    let at_cap = provider.send_transaction(tx(TX_GAS_CAP)).await.expect("send at the cap");
    let receipt = tokio::time::timeout(Duration::from_secs(30), at_cap.get_receipt())
        .await
        .expect("the transaction at the cap was never mined")
        .expect("read the receipt");
    assert!(receipt.status());
    let _killed = anvil.kill().await;
}
