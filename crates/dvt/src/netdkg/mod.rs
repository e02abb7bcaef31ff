//! Networked DKG: each operator runs its own [`crate::dkg::Participant`] on its own machine;
//! the participants talk over HTTP, so no machine ever sees another member's share.
//!
//! Trust and message rules (ADR 0100):
//! - The members agree on a [`ClusterDefinition`] (parameters, each member's ed25519 identity
//!   key and X25519 encryption key, a random session) and every member signs its hash; a run
//!   starts only with all signatures. The hash is bound into every message.
//! - Every message is an [`Envelope`] signed by its sender; a forged, tampered, misaddressed or
//!   replayed (other run) message is refused with 400 and never reaches the state machine.
//! - Private shares are sealed to the recipient's X25519 key ([`wire::seal`]).
//! - **Broadcast consistency**: after each broadcast round every participant broadcasts the
//!   SHA-256 of every message of that round as it received it (an *echo*) and compares the
//!   others' echoes with its own. A sender that sent different messages to different peers
//!   (e.g. equivocating commitments) makes the run abort with
//!   [`NetDkgError::BroadcastInconsistent`] naming it; two different signed messages for the
//!   same slot reaching one participant abort with [`NetDkgError::Equivocation`]. Whoever
//!   aborts tells the others ([`Round::Abort`]), so they stop too instead of waiting.
//! - Every round waits for all members' messages until a per-round timeout; a member that
//!   never shows up ends the run with [`NetDkgError::Timeout`] naming it. Key generation needs
//!   every member: a cluster whose member holds no share would start degraded.
//! - Bad shares are handled by the state machine's complaints and justifications: a dealer
//!   that does not answer a complaint with a share matching its commitments is disqualified
//!   (the run continues if at least `t` dealers qualify).
//! - Output: the member's share, the cluster description (its hash is compared across members
//!   in the last round) and the deposit data for the group key, threshold-signed by the
//!   members' partials.

pub mod definition;
pub mod wire;

pub use definition::{
    ClusterDefinition, DefinitionError, DefinitionMember, Identity, IdentityPublic,
};
pub use wire::{Envelope, Round, WireError};

use crate::cluster::{
    ClusterDescription, ClusterError, CreateParams, KeyGenMethod, KeyGeneration, deposit_message,
    describe,
};
use crate::dkg::{
    Complaint, DealerBroadcast, DealerShare, DkgConfig, DkgError, Justification, Participant,
};
use crate::node::ErrorBody;
use crate::threshold::{PartialSignature, SecretShare, ShareIndex};
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use claystack_consensus::hexutil;
use claystack_consensus::units::Gwei;
use claystack_keys::WithdrawalCredentials;
use claystack_keys::deposit::{
    DepositData, DepositDataJson, DepositNetwork, parse_execution_address,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;
use tokio::time::Instant;

/// Path of the DKG message endpoint, relative to a member's `dkg_address`.
pub const MESSAGE_PATH: &str = "/dkg/v1/message";

/// Largest message a DKG endpoint accepts (a 13-member justification list is ~5 KiB).
const MAX_BODY_BYTES: usize = 256 * 1024;

/// Longest single HTTP attempt to deliver a message.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// How long an abort notice is retried.
const ABORT_NOTICE_TIMEOUT: Duration = Duration::from_secs(2);

/// Longest abort reason relayed from a peer.
const MAX_REASON_CHARS: usize = 200;

/// Why a networked DKG run failed.
#[derive(Debug, thiserror::Error)]
pub enum NetDkgError {
    /// The definition is unsigned, inconsistent or does not list this identity.
    #[error(transparent)]
    Definition(#[from] DefinitionError),
    /// A member's messages of a round did not arrive in time.
    #[error(
        "timed out after {after:?} waiting for the {round} messages of member(s) {}",
        list(missing)
    )]
    Timeout {
        /// Round.
        round: Round,
        /// Members whose messages are missing.
        missing: Vec<ShareIndex>,
        /// The round timeout.
        after: Duration,
    },
    /// `sender` sent different messages for the same round to different members: our copy and
    /// the copy `witness` echoed differ.
    #[error(
        "broadcast inconsistency in round {round}: member {sender}'s message differs between \
         this member and member {witness} (sender equivocated, or the witness lied in its echo)"
    )]
    BroadcastInconsistent {
        /// Round.
        round: Round,
        /// Whose broadcast differs.
        sender: ShareIndex,
        /// Who reported the other version.
        witness: ShareIndex,
    },
    /// `sender` sent this member two different signed messages for the same round.
    #[error("member {sender} sent two different signed {round} messages")]
    Equivocation {
        /// Round.
        round: Round,
        /// Sender.
        sender: ShareIndex,
    },
    /// A member's message is well signed but unusable (malformed echo, description mismatch).
    #[error("member {sender}'s {round} message: {reason}")]
    BadMessage {
        /// Round.
        round: Round,
        /// Sender.
        sender: ShareIndex,
        /// What is wrong.
        reason: String,
    },
    /// Another member aborted the run.
    #[error("member {peer} aborted the run: {reason}")]
    AbortedByPeer {
        /// Who aborted.
        peer: ShareIndex,
        /// Its reason (truncated, sanitised).
        reason: String,
    },
    /// The DKG state machine failed (e.g. fewer than t dealers qualified).
    #[error(transparent)]
    Dkg(#[from] DkgError),
    /// Building the cluster description or the deposit failed.
    #[error(transparent)]
    Cluster(#[from] ClusterError),
    /// A local encoding, encryption or server error.
    #[error("{0}")]
    Local(String),
    /// Binding or serving the DKG endpoint.
    #[error("dkg endpoint: {0}")]
    Io(#[from] std::io::Error),
}

/// Deliberate protocol faults, for the attack tests only (feature `test-faults`).
#[cfg(feature = "test-faults")]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Send `victim` the broadcast of a second, different polynomial (validly proven).
    EquivocateDeal {
        /// Who gets the other version.
        victim: ShareIndex,
    },
    /// Send `victim` a wrong share and never justify it.
    BadShare {
        /// Who gets the wrong share.
        victim: ShareIndex,
    },
}

/// Run settings.
#[derive(Clone, Debug)]
pub struct NetDkgConfig {
    /// How long to wait for the members' messages of one round (the first round also waits
    /// for every member to come up).
    pub round_timeout: Duration,
    /// Deliberate fault (tests only).
    #[cfg(feature = "test-faults")]
    pub fault: Option<Fault>,
}

impl NetDkgConfig {
    /// Honest run with this round timeout.
    pub fn new(round_timeout: Duration) -> Self {
        Self {
            round_timeout,
            #[cfg(feature = "test-faults")]
            fault: None,
        }
    }
}

/// What a member takes home from a successful run.
#[derive(Debug)]
pub struct NetDkgOutput {
    /// This member's share of the group key.
    pub share: SecretShare,
    /// The public cluster description (identical on every member; checked in the last round).
    pub description: ClusterDescription,
    /// Deposit data for the group key, signed by threshold signature.
    pub deposit: DepositDataJson,
}

/// The creation parameters a definition stands for.
pub fn create_params(definition: &ClusterDefinition) -> Result<CreateParams, DefinitionError> {
    let network = DepositNetwork::by_name(&definition.network).ok_or_else(|| {
        DefinitionError::Invalid(format!("unknown network {:?}", definition.network))
    })?;
    let address = parse_execution_address(&definition.withdrawal_address).map_err(|e| {
        DefinitionError::Invalid(format!(
            "withdrawal address {:?}: {e}",
            definition.withdrawal_address
        ))
    })?;
    Ok(CreateParams {
        name: definition.name.clone(),
        network,
        threshold: definition.threshold,
        members: definition.members.iter().map(|m| (m.index, m.node_address.clone())).collect(),
        withdrawal_credentials: WithdrawalCredentials::execution(&address, false),
        amount: Gwei(definition.amount_gwei),
    })
}

/// Messages received, verified, by (round, sender).
#[derive(Debug, Default)]
struct Inbox {
    messages: Mutex<HashMap<(Round, ShareIndex), Vec<u8>>>,
    conflict: Mutex<Option<(Round, ShareIndex)>>,
    notify: Notify,
}

#[derive(Debug)]
struct Shared {
    definition: ClusterDefinition,
    hash: [u8; 32],
    me: ShareIndex,
    inbox: Inbox,
}

/// Why the endpoint refused a message.
#[derive(Debug, thiserror::Error)]
enum Refusal {
    #[error(transparent)]
    Wire(#[from] WireError),
    #[error("a different {0} message from member {1} was already received")]
    Conflict(Round, ShareIndex),
    #[error("inbox lock poisoned")]
    Poisoned,
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let status = match self {
            Self::Wire(_) => StatusCode::BAD_REQUEST,
            Self::Conflict(..) => StatusCode::CONFLICT,
            Self::Poisoned => StatusCode::INTERNAL_SERVER_ERROR,
        };
        (status, axum::Json(ErrorBody { error: self.to_string() })).into_response()
    }
}

async fn receive(
    State(shared): State<Arc<Shared>>,
    axum::Json(envelope): axum::Json<Envelope>,
) -> Result<StatusCode, Refusal> {
    let body = envelope.verify(&shared.definition, &shared.hash, shared.me).inspect_err(|e| {
        tracing::warn!(target: "dvt::dkg", error = %e, "refused a dkg message");
    })?;
    let key = (envelope.round, envelope.from);
    {
        let mut messages = shared.inbox.messages.lock().map_err(|_| poisoned())?;
        match messages.get(&key) {
            Some(existing) if *existing == body => return Ok(StatusCode::OK),
            Some(_) => {
                if let Ok(mut c) = shared.inbox.conflict.lock() {
                    c.get_or_insert(key);
                }
                shared.inbox.notify.notify_waiters();
                return Err(Refusal::Conflict(key.0, key.1));
            }
            None => {
                messages.insert(key, body);
            }
        }
    }
    shared.inbox.notify.notify_waiters();
    Ok(StatusCode::OK)
}

fn poisoned() -> Refusal {
    Refusal::Poisoned
}

/// The router of a member's DKG endpoint (`POST /dkg/v1/message`, `GET /upcheck`).
fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route(MESSAGE_PATH, post(receive))
        .route("/upcheck", get(|| async { StatusCode::OK }))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(shared)
}

/// One member's side of a run: the endpoint's shared state, the outgoing client and the
/// send tasks still in flight.
struct Session<'a> {
    shared: Arc<Shared>,
    identity: &'a Identity,
    client: reqwest::Client,
    timeout: Duration,
    sends: Vec<tokio::task::JoinHandle<()>>,
    /// Fault injection: the peer that gets a different `deal` broadcast.
    #[cfg(feature = "test-faults")]
    withhold_deal_from: Option<ShareIndex>,
}

impl Session<'_> {
    fn me(&self) -> ShareIndex {
        self.shared.me
    }

    fn peers(&self) -> Vec<ShareIndex> {
        let me = self.me();
        self.shared.definition.members.iter().map(|m| m.index).filter(|i| *i != me).collect()
    }

    /// Sends one signed message to `to` in the background, retrying until it is accepted or
    /// the round timeout passes (the peer may not be up yet).
    fn post(&mut self, to: ShareIndex, envelope: Envelope) {
        self.post_within(to, envelope, self.timeout);
    }

    fn post_within(&mut self, to: ShareIndex, envelope: Envelope, within: Duration) {
        let Some(member) = self.shared.definition.member(to) else { return };
        let url = format!("{}{MESSAGE_PATH}", member.dkg_address.trim_end_matches('/'));
        let client = self.client.clone();
        let deadline = Instant::now().checked_add(within);
        self.sends.push(tokio::spawn(async move {
            loop {
                // A peer that accepts connections but never answers must not outlast the
                // deadline.
                let left = deadline.map_or(Duration::ZERO, |d| d.saturating_duration_since(Instant::now()));
                let attempt = left.clamp(Duration::from_millis(100), REQUEST_TIMEOUT);
                match client.post(&url).json(&envelope).timeout(attempt).send().await {
                    Ok(r) if r.status().is_success() => return,
                    Ok(r) if r.status().is_client_error() => {
                        tracing::warn!(target: "dvt::dkg", to = %to, round = %envelope.round, status = %r.status(), "member refused our message");
                        return;
                    }
                    Ok(_) | Err(_) => {}
                }
                if deadline.is_none_or(|d| Instant::now() >= d) {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }));
    }

    /// Signs `body` as a broadcast of `round` and sends it to every peer.
    fn broadcast(&mut self, round: Round, body: &[u8]) {
        let env = Envelope::sign(self.identity, &self.shared.hash, round, self.me(), None, body);
        for p in self.peers() {
            #[cfg(feature = "test-faults")]
            if round == Round::Deal && self.withhold_deal_from == Some(p) {
                continue;
            }
            self.post(p, env.clone());
        }
    }

    /// Signs `body` as a broadcast of `round`, for one peer only (used to fake equivocation).
    #[cfg(feature = "test-faults")]
    fn broadcast_to(&mut self, round: Round, to: ShareIndex, body: &[u8]) {
        let env = Envelope::sign(self.identity, &self.shared.hash, round, self.me(), None, body);
        self.post(to, env);
    }

    /// Seals `plaintext` to `to` and sends it.
    fn send_private(
        &mut self,
        round: Round,
        to: ShareIndex,
        plaintext: &[u8],
    ) -> Result<(), NetDkgError> {
        let member = self
            .shared
            .definition
            .member(to)
            .ok_or_else(|| NetDkgError::Local(format!("no member {to}")))?;
        let sealed = wire::seal(
            &self.shared.hash,
            round,
            self.me(),
            to,
            &member.identity,
            plaintext,
            &mut rand::rngs::OsRng,
        )
        .ok_or_else(|| NetDkgError::Local(format!("seal the {round} message to {to}")))?;
        let env =
            Envelope::sign(self.identity, &self.shared.hash, round, self.me(), Some(to), &sealed);
        self.post(to, env);
        Ok(())
    }

    /// Waits for every peer's message of `round`; returns them by sender.
    async fn collect(&self, round: Round) -> Result<BTreeMap<ShareIndex, Vec<u8>>, NetDkgError> {
        let deadline = Instant::now().checked_add(self.timeout);
        let peers = self.peers();
        loop {
            let notified = self.shared.inbox.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if let Some((round, sender)) = self.shared.inbox.conflict.lock().ok().and_then(|c| *c) {
                return Err(NetDkgError::Equivocation { round, sender });
            }
            let mut missing = Vec::new();
            let mut got = BTreeMap::new();
            {
                let messages = self
                    .shared
                    .inbox
                    .messages
                    .lock()
                    .map_err(|_| NetDkgError::Local("inbox lock poisoned".into()))?;
                for p in &peers {
                    if let Some(reason) = messages.get(&(Round::Abort, *p)) {
                        return Err(NetDkgError::AbortedByPeer {
                            peer: *p,
                            reason: sanitize(reason),
                        });
                    }
                    match messages.get(&(round, *p)) {
                        Some(body) => {
                            got.insert(*p, body.clone());
                        }
                        None => missing.push(*p),
                    }
                }
            }
            if missing.is_empty() {
                return Ok(got);
            }
            let remaining =
                deadline.map_or(Duration::ZERO, |d| d.saturating_duration_since(Instant::now()));
            if remaining.is_zero() {
                return Err(NetDkgError::Timeout { round, missing, after: self.timeout });
            }
            // Woken by a new message or the deadline; the loop checks again either way.
            tokio::time::timeout(remaining, notified).await.ok();
        }
    }

    /// Broadcasts `mine` for `round`, collects everyone's, then runs the echo round: every
    /// member's view of the round must be identical. Returns all bodies by sender (ours
    /// included).
    async fn consistent_broadcast(
        &mut self,
        round: Round,
        echo: Round,
        mine: Vec<u8>,
    ) -> Result<BTreeMap<ShareIndex, Vec<u8>>, NetDkgError> {
        self.broadcast(round, &mine);
        let mut all = self.collect(round).await?;
        all.insert(self.me(), mine);
        self.check_echoes(round, echo, &all).await?;
        Ok(all)
    }

    async fn check_echoes(
        &mut self,
        round: Round,
        echo: Round,
        all: &BTreeMap<ShareIndex, Vec<u8>>,
    ) -> Result<(), NetDkgError> {
        let view: BTreeMap<ShareIndex, String> =
            all.iter().map(|(i, b)| (*i, hexutil::encode_prefixed(Sha256::digest(b)))).collect();
        let body = serde_json::to_vec(&view).map_err(|e| NetDkgError::Local(e.to_string()))?;
        self.broadcast(echo, &body);
        let echoes = self.collect(echo).await?;
        for (witness, body) in echoes {
            let theirs: BTreeMap<ShareIndex, String> =
                serde_json::from_slice(&body).map_err(|e| NetDkgError::BadMessage {
                    round: echo,
                    sender: witness,
                    reason: format!("malformed echo: {e}"),
                })?;
            for (sender, hash) in &view {
                if theirs.get(sender) != Some(hash) {
                    return Err(NetDkgError::BroadcastInconsistent {
                        round,
                        sender: *sender,
                        witness,
                    });
                }
            }
        }
        Ok(())
    }

    /// Stops sending the run's messages and tells every peer we give up (best effort, for a
    /// few seconds at most).
    async fn abort(&mut self, reason: &str) {
        for h in self.sends.drain(..) {
            h.abort();
        }
        let env = Envelope::sign(
            self.identity,
            &self.shared.hash,
            Round::Abort,
            self.me(),
            None,
            reason.as_bytes(),
        );
        for p in self.peers() {
            self.post_within(p, env.clone(), ABORT_NOTICE_TIMEOUT.min(self.timeout));
        }
        self.drain().await;
    }

    async fn drain(&mut self) {
        for h in self.sends.drain(..) {
            if let Err(e) = h.await
                && !e.is_cancelled()
            {
                tracing::warn!(target: "dvt::dkg", error = %e, "send task failed");
            }
        }
    }
}

fn list(indices: &[ShareIndex]) -> String {
    let items: Vec<String> = indices.iter().map(ToString::to_string).collect();
    format!("[{}]", items.join(", "))
}

fn sanitize(reason: &[u8]) -> String {
    String::from_utf8_lossy(reason)
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_REASON_CHARS)
        .collect()
}

fn encode<T: Serialize>(v: &T) -> Result<Vec<u8>, NetDkgError> {
    serde_json::to_vec(v).map_err(|e| NetDkgError::Local(format!("encode: {e}")))
}

/// The last round's message: the sender's partial signature over the deposit and the hash of
/// the cluster description it computed.
#[derive(Serialize, Deserialize)]
struct DepositPartial {
    partial: PartialSignature,
    #[serde(with = "hexutil::fixed")]
    description_hash: [u8; 32],
}

/// Runs this member's side of a networked DKG: serves the DKG endpoint on `listener`, talks
/// to the other members at their `dkg_address`, and returns this member's share, the cluster
/// description and the deposit data. On failure the other members are told to abort.
pub async fn run(
    definition: &ClusterDefinition,
    identity: &Identity,
    listener: tokio::net::TcpListener,
    config: &NetDkgConfig,
) -> Result<NetDkgOutput, NetDkgError> {
    let hash = definition.verify()?;
    let me = definition.member_of(identity)?;
    let params = create_params(definition)?;
    let shared =
        Arc::new(Shared { definition: definition.clone(), hash, me, inbox: Inbox::default() });
    let server = tokio::spawn({
        let app = router(Arc::clone(&shared));
        async move { axum::serve(listener, app).await }
    });
    let client = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(2))
        .timeout(REQUEST_TIMEOUT)
        .build()
        .map_err(|e| NetDkgError::Local(format!("http client: {e}")))?;
    let mut session = Session {
        shared,
        identity,
        client,
        timeout: config.round_timeout,
        sends: Vec::new(),
        #[cfg(feature = "test-faults")]
        withhold_deal_from: match config.fault {
            Some(Fault::EquivocateDeal { victim }) => Some(victim),
            _ => None,
        },
    };
    let result = protocol(&mut session, &params, config).await;
    match &result {
        Ok(_) => session.drain().await,
        Err(e) => {
            let reason = e.to_string();
            if !matches!(e, NetDkgError::AbortedByPeer { .. }) {
                session.abort(&reason).await;
            }
        }
    }
    server.abort();
    result
}

async fn protocol(
    session: &mut Session<'_>,
    params: &CreateParams,
    #[cfg_attr(not(feature = "test-faults"), allow(unused_variables))] config: &NetDkgConfig,
) -> Result<NetDkgOutput, NetDkgError> {
    let me = session.me();
    let hash = session.shared.hash;
    let indices: Vec<ShareIndex> = params.members.iter().map(|(i, _)| *i).collect();
    let dkg = DkgConfig::new(hash, params.threshold, indices)?;
    let mut rng = rand::rngs::OsRng;
    let (mut participant, round1) = Participant::new(dkg.clone(), me, &mut rng)?;
    #[cfg(feature = "test-faults")]
    let fault = config.fault;

    // Round 1: deal. Shares first, so that they are waiting when the peers start verifying.
    for s in &round1.shares {
        #[allow(unused_mut)]
        let mut s = s.clone();
        #[cfg(feature = "test-faults")]
        if let Some(Fault::BadShare { victim }) = fault
            && s.share.index() == victim
        {
            let wrong = s.share.secret().add(&crate::curve::Scalar::from_u64(1));
            s.share = SecretShare::new(victim, wrong);
        }
        let body = zeroize::Zeroizing::new(encode(&s)?);
        session.send_private(Round::Share, s.share.index(), &body)?;
    }
    let mine = encode(&round1.broadcast)?;
    #[cfg(feature = "test-faults")]
    if let Some(Fault::EquivocateDeal { victim }) = fault {
        let (_, other) = Participant::new(dkg.clone(), me, &mut rng)?;
        session.broadcast_to(Round::Deal, victim, &encode(&other.broadcast)?);
    }
    let deals = session.consistent_broadcast(Round::Deal, Round::DealEcho, mine).await?;
    let broadcasts: Vec<DealerBroadcast> = deals
        .iter()
        .filter_map(|(from, body)| {
            serde_json::from_slice::<DealerBroadcast>(body).ok().filter(|b| b.dealer == *from)
        })
        .collect();
    let sealed = session.collect(Round::Share).await?;
    let mut shares = Vec::new();
    for (from, body) in sealed {
        let plain = match wire::open(session.identity, &hash, Round::Share, from, me, &body) {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(target: "dvt::dkg", dealer = %from, error = %e, "unusable share: complaining");
                continue;
            }
        };
        match serde_json::from_slice::<DealerShare>(&plain) {
            Ok(s) if s.dealer == from => shares.push(s),
            _ => tracing::warn!(target: "dvt::dkg", dealer = %from, "malformed share: complaining"),
        }
    }

    // Round 2: complaints (consistent broadcast, so every member judges the same ones).
    let complaints = participant.round2(&broadcasts, &shares)?;
    drop(shares);
    for c in &complaints {
        tracing::warn!(target: "dvt::dkg", dealer = %c.dealer, "share missing or wrong: complaint broadcast");
    }
    let all = session
        .consistent_broadcast(Round::Complaints, Round::ComplaintsEcho, encode(&complaints)?)
        .await?;
    let complaints: Vec<Complaint> = all
        .iter()
        .flat_map(|(from, body)| {
            serde_json::from_slice::<Vec<Complaint>>(body)
                .unwrap_or_default()
                .into_iter()
                .filter(move |c| c.complainer == *from)
        })
        .collect();

    // Round 3: justifications.
    #[allow(unused_mut)]
    let mut answers = participant.round3(&complaints)?;
    #[cfg(feature = "test-faults")]
    if let Some(Fault::BadShare { victim }) = fault {
        answers.retain(|j| j.share.index() != victim);
    }
    let all = session
        .consistent_broadcast(Round::Justifications, Round::JustificationsEcho, encode(&answers)?)
        .await?;
    let justifications: Vec<Justification> = all
        .iter()
        .flat_map(|(from, body)| {
            serde_json::from_slice::<Vec<Justification>>(body)
                .unwrap_or_default()
                .into_iter()
                .filter(move |j| j.dealer == *from)
        })
        .collect();
    let output = participant.finish(&justifications)?;
    if !output.disqualified.is_empty() {
        tracing::warn!(target: "dvt::dkg", disqualified = ?output.disqualified, "dealers disqualified");
    }

    // Round 4: the cluster description (compared by hash) and the deposit, threshold-signed.
    let keygen = KeyGeneration {
        method: KeyGenMethod::NetworkedDkg,
        session: Some(hexutil::encode_prefixed(hash)),
        disqualified: output.disqualified.clone(),
        definition_hash: Some(hexutil::encode_prefixed(hash)),
    };
    let description = describe(params, output.commitments.clone(), keygen)?;
    let description_hash: [u8; 32] = Sha256::digest(encode(&description)?).into();
    let message = deposit_message(params, &description);
    let root = message.signing_root(params.network.fork_version);
    let partial = output.share.sign(&root);
    session.broadcast(Round::Deposit, &encode(&DepositPartial { partial, description_hash })?);
    let received = session.collect(Round::Deposit).await?;
    let mut partials = vec![partial];
    for (from, body) in received {
        let p: DepositPartial =
            serde_json::from_slice(&body).map_err(|e| NetDkgError::BadMessage {
                round: Round::Deposit,
                sender: from,
                reason: format!("malformed: {e}"),
            })?;
        if p.description_hash != description_hash {
            return Err(NetDkgError::BadMessage {
                round: Round::Deposit,
                sender: from,
                reason: "computed a different cluster description".into(),
            });
        }
        if p.partial.index == from {
            partials.push(p.partial);
        }
    }
    let combined = output.public_key_set.combine(&root, &partials).map_err(DkgError::from)?;
    if !combined.rejected.is_empty() {
        tracing::warn!(target: "dvt::dkg", rejected = ?combined.rejected, "invalid deposit partials excluded");
    }
    let deposit =
        DepositData { message, signature: combined.signature.to_bytes() }.to_json(&params.network);
    Ok(NetDkgOutput { share: output.share, description, deposit })
}
