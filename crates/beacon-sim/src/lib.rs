//! Deterministic beacon-chain simulator that follows an execution node and serves the standard Beacon API.
