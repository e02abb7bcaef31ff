//! The cluster description (public JSON every node, the front and auditors share) and cluster
//! creation: by DKG (no party ever holds the key) or by splitting an existing key (a trusted
//! dealer, the weaker option).

use crate::bls::{PublicKey, SecretKey};
use crate::dkg::{self, DkgConfig, DkgError};
use crate::threshold::{
    self, Commitments, PartialSignature, PublicKeySet, SecretShare, ShareIndex, ThresholdError,
};
use claystack_consensus::hexutil;
use claystack_consensus::units::Gwei;
use claystack_keys::deposit::{DepositData, DepositDataJson, DepositMessage, DepositNetwork};
use claystack_keys::{Kdf, Keystore, WithdrawalCredentials};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Version of the cluster description format.
pub const CLUSTER_FORMAT_VERSION: u32 = 1;

/// Why a cluster description is invalid or could not be created or written.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// Version this build does not understand.
    #[error("unsupported cluster description version {0}")]
    Version(u32),
    /// Member list, threshold and commitments disagree.
    #[error("inconsistent cluster description: {0}")]
    Inconsistent(String),
    /// Threshold arithmetic.
    #[error(transparent)]
    Threshold(#[from] ThresholdError),
    /// Key generation.
    #[error(transparent)]
    Dkg(#[from] DkgError),
    /// Keystore encryption or decryption.
    #[error("keystore: {0}")]
    Keystore(#[from] claystack_keys::KeystoreError),
    /// File I/O.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// Which file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// JSON encoding or decoding.
    #[error("cluster json: {0}")]
    Json(#[from] serde_json::Error),
}

/// How the key shares were generated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyGenMethod {
    /// Joint-Feldman DKG with complaints, each participant on its own operator's machine
    /// (`claystack dvt dkg run`): the whole key never existed anywhere and no machine saw
    /// another member's share. The only trusted-dealer-free method.
    #[serde(rename = "joint-feldman-dkg-networked")]
    NetworkedDkg,
    /// Joint-Feldman DKG with every participant in one process (`claystack dvt create`): no
    /// key was formed, but that process saw every share — trust it like a dealer. For tests
    /// and devnets. (`joint-feldman-dkg` is what this build wrote before networked runs existed.)
    #[serde(rename = "joint-feldman-dkg-single-process", alias = "joint-feldman-dkg")]
    SingleProcessDkg,
    /// An existing key split by a trusted dealer (whoever ran the split held the whole key).
    #[serde(rename = "trusted-dealer-split")]
    TrustedDealer,
}

/// Provenance of the shares.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyGeneration {
    /// DKG or trusted dealer.
    pub method: KeyGenMethod,
    /// DKG session id (DKG only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
    /// Dealers disqualified during the DKG.
    #[serde(default)]
    pub disqualified: Vec<ShareIndex>,
    /// Hash of the signed cluster definition the members ran the DKG under (networked DKG).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub definition_hash: Option<String>,
}

/// One operator of the cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// Share index (x-coordinate; SSV operator id where applicable).
    pub index: ShareIndex,
    /// Base URL of the member's `claystack dvt node`.
    pub address: String,
    /// The member's public key share.
    pub public_share: PublicKey,
}

/// Everything public about a distributed validator: what nodes, the front, exports and auditors
/// read. Contains no secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterDescription {
    /// Format version ([`CLUSTER_FORMAT_VERSION`]).
    pub version: u32,
    /// Human-readable name.
    pub name: String,
    /// Network name (`mainnet`, `holesky`, …).
    pub network: String,
    /// The network's `GENESIS_FORK_VERSION`.
    #[serde(with = "hexutil::fixed")]
    pub genesis_fork_version: [u8; 4],
    /// Partial signatures needed.
    pub threshold: usize,
    /// The validator public key.
    pub group_public_key: PublicKey,
    /// Feldman commitments to the sharing polynomial (`commitments[0]` is the group key).
    pub commitments: Commitments,
    /// Operators, in index order.
    pub members: Vec<Member>,
    /// Withdrawal credentials of the validator.
    #[serde(with = "hexutil::fixed")]
    pub withdrawal_credentials: [u8; 32],
    /// How the shares were generated.
    pub key_generation: KeyGeneration,
}

impl ClusterDescription {
    /// Checks internal consistency (threshold, distinct indices, group key and every public
    /// share against the commitments) and returns the public key set.
    pub fn validate(&self) -> Result<PublicKeySet, ClusterError> {
        if self.version != CLUSTER_FORMAT_VERSION {
            return Err(ClusterError::Version(self.version));
        }
        if self.commitments.threshold() != self.threshold {
            return Err(ClusterError::Inconsistent(format!(
                "threshold {} but {} commitments",
                self.threshold,
                self.commitments.threshold()
            )));
        }
        let indices: Vec<ShareIndex> = self.members.iter().map(|m| m.index).collect();
        let set = self.commitments.public_key_set(&indices)?;
        if set.group_public_key != self.group_public_key {
            return Err(ClusterError::Inconsistent("group key is not commitments[0]".into()));
        }
        for m in &self.members {
            if set.public_shares.get(&m.index) != Some(&m.public_share) {
                return Err(ClusterError::Inconsistent(format!(
                    "public share of member {} does not match the commitments",
                    m.index
                )));
            }
        }
        Ok(set)
    }

    /// The network parameters signing roots depend on; the network must be known by name and
    /// its genesis fork version must match the description's.
    pub fn network_spec(&self) -> Result<claystack_signer::NetworkSpec, ClusterError> {
        let spec = claystack_signer::NetworkSpec::by_name(&self.network).ok_or_else(|| {
            ClusterError::Inconsistent(format!("unknown network {:?}", self.network))
        })?;
        if spec.genesis_fork_version != self.genesis_fork_version {
            return Err(ClusterError::Inconsistent(format!(
                "genesis fork version {} is not {}'s",
                hexutil::encode_prefixed(self.genesis_fork_version),
                self.network
            )));
        }
        Ok(spec)
    }

    /// The member with this index.
    pub fn member(&self, index: ShareIndex) -> Option<&Member> {
        self.members.iter().find(|m| m.index == index)
    }

    /// Reads and validates a description file.
    pub fn read(path: &Path) -> Result<Self, ClusterError> {
        let text = std::fs::read_to_string(path).map_err(|source| ClusterError::Io {
            action: "read cluster description",
            path: path.to_owned(),
            source,
        })?;
        let d: Self = serde_json::from_str(&text)?;
        d.validate()?;
        Ok(d)
    }
}

/// Parameters of a new cluster.
#[derive(Debug, Clone)]
pub struct CreateParams {
    /// Cluster name.
    pub name: String,
    /// Network the deposit is for.
    pub network: DepositNetwork,
    /// Partial signatures needed.
    pub threshold: usize,
    /// `(index, node address)` per member.
    pub members: Vec<(ShareIndex, String)>,
    /// Withdrawal credentials of the validator.
    pub withdrawal_credentials: WithdrawalCredentials,
    /// Deposit amount.
    pub amount: Gwei,
}

/// A freshly created cluster: its public description, each member's share, and the deposit.
#[derive(Debug)]
pub struct CreatedCluster {
    /// Public description.
    pub description: ClusterDescription,
    /// One share per member, in member order. Hand each to its operator only.
    pub shares: Vec<SecretShare>,
    /// Deposit data for the group key, signed by threshold signature.
    pub deposit: DepositDataJson,
}

/// Creates a cluster by running the DKG among the members in-process: every participant's
/// state machine runs here and messages are passed in memory. No dealer key is ever formed,
/// but this process sees every share, so it is recorded as
/// [`KeyGenMethod::SingleProcessDkg`] and must be trusted like a dealer; the networked run
/// ([`crate::netdkg`]) removes that, see `docs/adr/0100-dkg.md`.
pub fn create_with_dkg<R: RngCore + ?Sized>(
    params: &CreateParams,
    rng: &mut R,
) -> Result<CreatedCluster, ClusterError> {
    let indices: Vec<ShareIndex> = params.members.iter().map(|(i, _)| *i).collect();
    let session = dkg::random_session(rng);
    let config = DkgConfig::new(session, params.threshold, indices)?;
    let outputs = dkg::run_local(&config, rng)?;
    let first = outputs.first().ok_or(ClusterError::Inconsistent("no members".into()))?;
    let commitments = first.commitments.clone();
    let disqualified = first.disqualified.clone();
    let shares = outputs.into_iter().map(|o| o.share).collect();
    let keygen = KeyGeneration {
        method: KeyGenMethod::SingleProcessDkg,
        session: Some(hexutil::encode_prefixed(session)),
        disqualified,
        definition_hash: None,
    };
    finish(params, commitments, shares, keygen)
}

/// Creates a cluster by splitting an existing key (trusted dealer). Weaker than
/// [`create_with_dkg`]: the key existed whole, and whoever held it can still sign alone.
pub fn create_with_split<R: RngCore + ?Sized>(
    params: &CreateParams,
    secret: &SecretKey,
    rng: &mut R,
) -> Result<CreatedCluster, ClusterError> {
    let indices: Vec<ShareIndex> = params.members.iter().map(|(i, _)| *i).collect();
    let (shares, commitments) = threshold::split(secret, params.threshold, &indices, rng)?;
    let keygen = KeyGeneration {
        method: KeyGenMethod::TrustedDealer,
        session: None,
        disqualified: vec![],
        definition_hash: None,
    };
    finish(params, commitments, shares, keygen)
}

fn finish(
    params: &CreateParams,
    commitments: Commitments,
    shares: Vec<SecretShare>,
    key_generation: KeyGeneration,
) -> Result<CreatedCluster, ClusterError> {
    let description = describe(params, commitments, key_generation)?;
    let set = description.validate()?;
    // The deposit is signed like any other message: t partials, verified, combined.
    let message = deposit_message(params, &description);
    let root = message.signing_root(params.network.fork_version);
    let partials: Vec<PartialSignature> = shares.iter().map(|s| s.sign(&root)).collect();
    let combined = set.combine(&root, &partials)?;
    let deposit =
        DepositData { message, signature: combined.signature.to_bytes() }.to_json(&params.network);
    Ok(CreatedCluster { description, shares, deposit })
}

/// The public description of a cluster with these parameters and joint commitments (checked
/// with [`ClusterDescription::validate`]).
pub fn describe(
    params: &CreateParams,
    commitments: Commitments,
    key_generation: KeyGeneration,
) -> Result<ClusterDescription, ClusterError> {
    let group = commitments.group_public_key()?;
    let members = params
        .members
        .iter()
        .map(|(i, address)| {
            Ok(Member {
                index: *i,
                address: address.clone(),
                public_share: commitments.public_share(*i)?,
            })
        })
        .collect::<Result<Vec<_>, ClusterError>>()?;
    let description = ClusterDescription {
        version: CLUSTER_FORMAT_VERSION,
        name: params.name.clone(),
        network: params.network.name.clone(),
        genesis_fork_version: params.network.fork_version,
        threshold: params.threshold,
        group_public_key: group,
        commitments,
        members,
        withdrawal_credentials: params.withdrawal_credentials.0,
        key_generation,
    };
    description.validate()?;
    Ok(description)
}

/// The deposit message of a described cluster's group key.
pub fn deposit_message(params: &CreateParams, description: &ClusterDescription) -> DepositMessage {
    DepositMessage {
        pubkey: description.group_public_key.to_bytes(),
        withdrawal_credentials: params.withdrawal_credentials,
        amount: params.amount,
    }
}

/// Files written for one member by [`write_cluster_dir`].
#[derive(Debug, Clone)]
pub struct MemberFiles {
    /// Member index.
    pub index: ShareIndex,
    /// EIP-2335 keystore of the share.
    pub keystore: PathBuf,
    /// Password of the keystore (mode 0600).
    pub password: PathBuf,
}

/// Writes `cluster.json`, `deposit_data.json` and, per member, `node-<index>/keystore.json`
/// (EIP-2335, the share's secret) with `node-<index>/password.txt`. Refuses to overwrite.
pub fn write_cluster_dir<R: RngCore + ?Sized>(
    dir: &Path,
    created: &CreatedCluster,
    kdf: &Kdf,
    rng: &mut R,
) -> Result<Vec<MemberFiles>, ClusterError> {
    let io = |action: &'static str, path: &Path| {
        let path = path.to_owned();
        move |source| ClusterError::Io { action, path, source }
    };
    std::fs::create_dir_all(dir).map_err(io("create cluster directory", dir))?;
    let cluster_path = dir.join("cluster.json");
    write_new(
        &cluster_path,
        serde_json::to_string_pretty(&created.description)?.as_bytes(),
        0o644,
    )?;
    let deposit_path = dir.join("deposit_data.json");
    let deposit_json = claystack_keys::to_deposit_cli_json(std::slice::from_ref(&created.deposit))
        .map_err(|e| ClusterError::Inconsistent(format!("deposit data: {e}")))?;
    write_new(&deposit_path, deposit_json.as_bytes(), 0o644)?;
    let mut out = Vec::new();
    for share in &created.shares {
        let node_dir = dir.join(format!("node-{}", share.index()));
        std::fs::create_dir_all(&node_dir).map_err(io("create node directory", &node_dir))?;
        let mut pw_bytes = [0u8; 24];
        rng.fill_bytes(&mut pw_bytes);
        let password = zeroize::Zeroizing::new(hex::encode(pw_bytes));
        let sk = claystack_keys::SecretKey::from_bytes(share.to_bytes().as_slice())
            .map_err(|e| ClusterError::Inconsistent(format!("share {}: {e}", share.index())))?;
        let description = format!(
            "claystack dvt share {} of {}",
            share.index(),
            created.description.group_public_key
        );
        let ks = Keystore::encrypt(&sk, &password, kdf, "", &description)?;
        let keystore = node_dir.join("keystore.json");
        claystack_keys::write_keystore_file(&keystore, &ks)?;
        let password_path = node_dir.join("password.txt");
        write_new(&password_path, password.as_bytes(), 0o600)?;
        out.push(MemberFiles { index: share.index(), keystore, password: password_path });
    }
    Ok(out)
}

/// Loads a member's share from its keystore and checks it against the cluster's commitments.
pub fn load_share(
    description: &ClusterDescription,
    index: ShareIndex,
    keystore: &Path,
    password: &str,
) -> Result<SecretShare, ClusterError> {
    let sk = claystack_keys::decrypt_keystore_file(keystore, password)?;
    let share = SecretShare::from_bytes(index, sk.to_bytes().as_slice())?;
    if !description.commitments.verify_share(&share) {
        return Err(ThresholdError::ShareMismatch(index).into());
    }
    Ok(share)
}

fn write_new(path: &Path, bytes: &[u8], mode: u32) -> Result<(), ClusterError> {
    use std::io::Write;
    let io = |source| ClusterError::Io { action: "write", path: path.to_owned(), source };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, mode);
    #[cfg(not(unix))]
    let _ = mode;
    let mut f = options.open(path).map_err(io)?;
    f.write_all(bytes).map_err(io)?;
    f.sync_all().map_err(io)
}
