//! Web3Signer-compatible remote signer for validator clients, guarded by slashing protection.
