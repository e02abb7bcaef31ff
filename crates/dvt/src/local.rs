//! A whole cluster inside one process — nodes on separate loopback ports, each with its own
//! slashing database, behind a front — for the devnet and for tests. Production clusters run
//! one `claystack dvt node` per operator machine instead.

use crate::cluster::{ClusterError, CreateParams, CreatedCluster, create_with_dkg};
use crate::front::{Front, FrontConfig, front_router, front_state};
use crate::node::{Node, node_router};
use crate::request::SignerEvaluator;
use crate::threshold::ShareIndex;
use claystack_slashing::SlashingDatabase;
use rand::RngCore;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// Why a local cluster could not start.
#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    /// Key generation or description.
    #[error(transparent)]
    Cluster(#[from] ClusterError),
    /// A node refused its configuration.
    #[error(transparent)]
    Node(#[from] crate::node::NodeError),
    /// A slashing database could not be opened.
    #[error("slashing database: {0}")]
    Slashing(#[from] claystack_slashing::Error),
    /// A port could not be bound.
    #[error("bind a loopback port: {0}")]
    Io(#[from] std::io::Error),
}

/// A running in-process cluster. Dropping it stops every node and the front.
#[derive(Debug)]
pub struct LocalCluster {
    /// The created cluster (public description, shares, deposit data).
    pub created: CreatedCluster,
    /// Base URL of the Web3Signer-compatible front.
    pub front_url: String,
    nodes: Vec<(ShareIndex, JoinHandle<()>)>,
    front: JoinHandle<()>,
}

impl LocalCluster {
    /// Runs the DKG for `n` members with threshold `t` (member addresses are filled in with
    /// fresh loopback ports), then starts the nodes and the front. With `db_dir`, slashing
    /// databases live there (`node-<i>.sqlite`, `front.sqlite`), otherwise in memory.
    pub async fn start<R: RngCore + ?Sized>(
        mut params: CreateParams,
        n: u64,
        db_dir: Option<&Path>,
        timeout: Duration,
        rng: &mut R,
    ) -> Result<Self, LocalError> {
        let mut listeners = Vec::new();
        params.members.clear();
        for i in ShareIndex::range(n) {
            let l = TcpListener::bind("127.0.0.1:0").await?;
            params.members.push((i, format!("http://{}", l.local_addr()?)));
            listeners.push(l);
        }
        let created = create_with_dkg(&params, rng)?;
        let spec = created.description.network_spec()?;
        let open = |name: String| -> Result<SlashingDatabase, claystack_slashing::Error> {
            match db_dir {
                Some(dir) => SlashingDatabase::open(&dir.join(name)),
                None => SlashingDatabase::open_in_memory(),
            }
        };
        let mut nodes = Vec::new();
        for (share, listener) in created.shares.iter().zip(listeners) {
            let node = Node::new(
                vec![(created.description.clone(), share.clone())],
                open(format!("node-{}.sqlite", share.index()))?,
                Box::new(SignerEvaluator { spec }),
            )?;
            let app = node_router(Arc::new(node), None);
            let handle = tokio::spawn(async move {
                if let Err(e) = axum::serve(listener, app).await {
                    tracing::error!(target: "dvt::local", error = %e, "node server stopped");
                }
            });
            nodes.push((share.index(), handle));
        }
        let front = Front::new(
            vec![created.description.clone()],
            Box::new(SignerEvaluator { spec }),
            FrontConfig { timeout, node_token: None },
        )?;
        let state = front_state(front, spec, Some(Arc::new(open("front.sqlite".into())?)), None)?;
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let front_url = format!("http://{}", listener.local_addr()?);
        let app = front_router(state);
        let front = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!(target: "dvt::local", error = %e, "front server stopped");
            }
        });
        Ok(Self { created, front_url, nodes, front })
    }

    /// Stops one node (simulates an operator going down). False if there is no such node.
    pub fn stop_node(&self, index: ShareIndex) -> bool {
        match self.nodes.iter().find(|(i, _)| *i == index) {
            Some((_, h)) => {
                h.abort();
                true
            }
            None => false,
        }
    }
}

impl Drop for LocalCluster {
    fn drop(&mut self) {
        for (_, h) in &self.nodes {
            h.abort();
        }
        self.front.abort();
    }
}
