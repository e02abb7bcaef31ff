//! Exit agents: one per sample operator, each an [`ExitWatcher`] holding that operator's keys
//! (derived from the devnet mnemonic) that answers the oracle's exit requests with signed
//! voluntary exits through the Beacon API — what an operator's tooling does
//! (`claystack operator exit --watch`). Operators listed as negligent get no agent: their exit
//! requests run past the deadline and the keeper forces the exits through EIP-7002.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use alloy::primitives::U256;
use claystack_bindings::Deployment;
use claystack_client::{
    exits::{ExitOutcome, ExitWatcher, KeyRing},
    operator::Operators,
};
use tokio::sync::watch;

use crate::{
    DevnetError,
    setup::{self, DEVNET_MNEMONIC, SampleOperator},
};

/// Voluntary exits the agents submitted (all operators), for the frame line.
#[derive(Debug, Default)]
pub struct AgentStats {
    /// Exits accepted by the beacon node.
    pub exits_submitted: AtomicU64,
}

/// An agent ready to run.
#[derive(Debug)]
pub struct Agent {
    /// The operator's label.
    pub label: String,
    /// Its registry id.
    pub operator_id: U256,
    watcher: ExitWatcher,
}

/// The agents of `operators` except the `negligent` ones, with ids read from the chain (so that
/// a kept `--state` works too).
pub async fn agents(
    rpc: &str,
    d: &Deployment,
    beacon_url: &str,
    operators: &[SampleOperator],
    negligent: &[String],
) -> Result<Vec<Agent>, DevnetError> {
    let provider = setup::provider(rpc, &setup::deployer())?;
    let mut out = Vec::new();
    for (position, op) in operators.iter().enumerate() {
        if negligent.contains(&op.label) {
            tracing::info!(target: "devnet::exits", label = %op.label, "negligent operator: its exit requests are ignored");
            continue;
        }
        let (registry, bonds) = if op.kyc_pool {
            (d.address("kycOperatorRegistry")?, d.address("kycBondManager")?)
        } else {
            (d.address("operatorRegistry")?, d.address("bondManager")?)
        };
        let ops = Operators::new(provider.clone(), registry, bonds);
        let manager = setup::account(&op.label).address();
        let Some(id) = ops.operators_of(manager).await?.last().copied() else {
            return Err(DevnetError::Tool(format!("{} is not registered", op.label)));
        };
        let keys = KeyRing::from_mnemonic(DEVNET_MNEMONIC, setup::key_start(position), op.keys)?;
        let watcher = ExitWatcher::new(ops, id, beacon_url, keys)?;
        out.push(Agent { label: op.label.clone(), operator_id: id, watcher });
    }
    Ok(out)
}

impl Agent {
    /// Runs until `stop` turns true, polling every `poll`.
    pub async fn run(
        mut self,
        poll: Duration,
        mut stop: watch::Receiver<bool>,
        stats: Arc<AgentStats>,
    ) {
        let label = self.label.clone();
        let shutdown = async move {
            let _closed = stop.wait_for(|s| *s).await;
        };
        self.watcher
            .run(poll, shutdown, |outcome| match outcome {
                ExitOutcome::Submitted { key_index, validator_index, deadline } => {
                    stats.exits_submitted.fetch_add(1, Ordering::Relaxed);
                    tracing::info!(target: "devnet::exits", %label, %key_index, validator_index, %deadline, "voluntary exit submitted for an exit request");
                }
                ExitOutcome::Skipped { key_index, reason } => {
                    tracing::info!(target: "devnet::exits", %label, %key_index, %reason, "exit request not answered this round");
                }
            })
            .await;
    }
}
