//! The EIP-7002 withdrawal-request system contract on anvil. anvil (Prague rules) has no system
//! contract at the canonical address, so the devnet installs `Eip7002Mock`'s deployed bytecode
//! there with `anvil_setCode`: the same interface (an empty call returns the fee, a 56-byte call
//! with the fee queues a request) and the same `LOG0` record the beacon simulator reads as a
//! withdrawal request. With it, `ExitEnforcer.enforceExit` → `WithdrawalVault` → system contract →
//! simulator exits a validator whose operator ignored its exit request.

use std::path::Path;

use alloy::{
    primitives::{Address, Bytes},
    providers::{DynProvider, Provider, ext::AnvilApi as _},
};

use crate::DevnetError;

/// The canonical address of the EIP-7002 system contract.
pub const SYSTEM_CONTRACT: Address =
    alloy::primitives::address!("00000961Ef480Eb55e80D19ad83579A64c007002");

/// Path of the mock's forge artifact under the Foundry project.
const ARTIFACT: &str = "out/Eip7002Mock.sol/Eip7002Mock.json";

/// The mock's deployed bytecode from its forge artifact (written by the deployment's build).
pub fn mock_code(contracts: &Path) -> Result<Bytes, DevnetError> {
    let path = contracts.join(ARTIFACT);
    let text = std::fs::read_to_string(&path).map_err(|source| DevnetError::Io {
        action: "read the Eip7002Mock artifact (build the contracts: forge build)",
        source,
    })?;
    let json: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| DevnetError::Tool(format!("parse {}: {e}", path.display())))?;
    let hex = json
        .pointer("/deployedBytecode/object")
        .and_then(serde_json::Value::as_str)
        .ok_or_else(|| DevnetError::Tool(format!("{} has no deployedBytecode", path.display())))?;
    let code: Bytes = hex
        .parse()
        .map_err(|e| DevnetError::Tool(format!("deployed bytecode in {}: {e}", path.display())))?;
    if code.is_empty() {
        return Err(DevnetError::Tool(format!("{} has empty deployed bytecode", path.display())));
    }
    Ok(code)
}

/// Installs the mock at [`SYSTEM_CONTRACT`] unless code is already there (a kept `--state`).
/// Returns whether it installed it.
pub async fn install(provider: &DynProvider, contracts: &Path) -> Result<bool, DevnetError> {
    let chain = |action: &'static str| {
        move |e: alloy::transports::TransportError| DevnetError::Chain {
            action,
            detail: e.to_string(),
        }
    };
    let present =
        provider.get_code_at(SYSTEM_CONTRACT).await.map_err(chain("read the 7002 code"))?;
    if !present.is_empty() {
        return Ok(false);
    }
    let code = mock_code(contracts)?;
    provider
        .anvil_set_code(SYSTEM_CONTRACT, code)
        .await
        .map_err(chain("install the EIP-7002 system contract"))?;
    // an empty call returns the fee: the contract answers as the system contract does
    let fee = provider
        .call(alloy::rpc::types::TransactionRequest::default().to(SYSTEM_CONTRACT))
        .await
        .map_err(chain("read the EIP-7002 fee"))?;
    if fee.len() != 32 {
        return Err(DevnetError::Tool(format!(
            "the installed EIP-7002 contract answered {} bytes for its fee, not 32",
            fee.len()
        )));
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_is_the_eips_and_the_simulators() {
        assert_eq!(SYSTEM_CONTRACT.into_array(), claystack_beacon_sim::follower::EIP7002_ADDRESS);
    }

    #[test]
    fn a_missing_artifact_says_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        let err = mock_code(dir.path()).unwrap_err().to_string();
        assert!(err.contains("forge build"), "{err}");
    }
}
