//! Snapshots: the whole simulator state on disk, written atomically (temp file, fsync, rename) and
//! checksummed so a torn or edited file is reported, never silently replaced.

use crate::config::ChainConfig;
use crate::core::BeaconState;
use crate::credits::CreditBatch;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};

const MAGIC: &str = "claystack-beacon-sim-snapshot";
/// Version of the snapshot format.
pub const FORMAT_VERSION: u32 = 1;

/// What a snapshot holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// The chain parameters it was made with.
    pub config: ChainConfig,
    /// Last execution block whose logs were read.
    pub el_cursor: u64,
    /// Milliseconds the wall clock was warped forward (0 when never).
    #[serde(default)]
    pub clock_offset_ms: u64,
    /// The beacon state.
    pub state: BeaconState,
    /// Execution credits taken from the state's outbox and being applied when the snapshot was
    /// written (see [`crate::credits`]); resumed through the credit journal at a restart.
    #[serde(default)]
    pub pending_credits: Option<CreditBatch>,
    /// Id of the last credit batch (0 when none yet).
    #[serde(default)]
    pub credit_batches: u64,
}

/// A snapshot could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// File system error.
    #[error("{action} snapshot {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a valid snapshot (truncated, edited, other format).
    #[error("snapshot {path} is corrupt: {reason}; move it away to start a fresh chain")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// Serialization failed.
    #[error("serialize snapshot: {0}")]
    Serialize(#[from] serde_json::Error),
}

/// Serializes `snap` into the on-disk format: a header line with the checksum, then JSON.
pub fn encode(snap: &Snapshot) -> Result<Vec<u8>, SnapshotError> {
    let body = serde_json::to_vec(snap)?;
    let digest = hex::encode(Sha256::digest(&body));
    let mut out = format!("{MAGIC} v{FORMAT_VERSION} sha256={digest}\n").into_bytes();
    out.extend_from_slice(&body);
    Ok(out)
}

/// Parses the on-disk format, verifying header and checksum.
pub fn decode(path: &Path, bytes: &[u8]) -> Result<Snapshot, SnapshotError> {
    let corrupt = |reason: String| SnapshotError::Corrupt { path: path.to_path_buf(), reason };
    let nl =
        bytes.iter().position(|b| *b == b'\n').ok_or_else(|| corrupt("no header line".into()))?;
    let (header, rest) = bytes.split_at(nl);
    let body = rest.get(1..).unwrap_or_default();
    let header = std::str::from_utf8(header).map_err(|_| corrupt("header is not text".into()))?;
    let mut parts = header.split(' ');
    if parts.next() != Some(MAGIC) {
        return Err(corrupt("not a beacon-sim snapshot".into()));
    }
    let version = parts.next().unwrap_or_default();
    if version != format!("v{FORMAT_VERSION}") {
        return Err(corrupt(format!("format {version:?}, this build reads v{FORMAT_VERSION}")));
    }
    let want = parts
        .next()
        .and_then(|p| p.strip_prefix("sha256="))
        .ok_or_else(|| corrupt("header has no checksum".into()))?;
    let got = hex::encode(Sha256::digest(body));
    if want != got {
        return Err(corrupt(format!("checksum mismatch (header {want}, content {got})")));
    }
    let mut snap: Snapshot =
        serde_json::from_slice(body).map_err(|e| corrupt(format!("invalid content: {e}")))?;
    snap.state.rebuild_index();
    Ok(snap)
}

/// Writes `snap` to `path` atomically: a sibling temp file, fsync, rename, fsync of the directory.
pub fn save(path: &Path, snap: &Snapshot) -> Result<(), SnapshotError> {
    let bytes = encode(snap)?;
    let io = |action: &'static str, p: &Path| {
        let p = p.to_path_buf();
        move |source| SnapshotError::Io { action, path: p, source }
    };
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(io("create directory for", dir))?;
    let tmp = path.with_extension("tmp");
    {
        let mut f = std::fs::File::create(&tmp).map_err(io("create", &tmp))?;
        f.write_all(&bytes).map_err(io("write", &tmp))?;
        f.sync_all().map_err(io("sync", &tmp))?;
    }
    std::fs::rename(&tmp, path).map_err(io("rename into place", path))?;
    if let Ok(d) = std::fs::File::open(dir) {
        // Best effort: some file systems cannot fsync a directory; the rename is already done.
        if let Err(e) = d.sync_all() {
            tracing::debug!(target: "beacon_sim::snapshot", error = %e, "directory fsync failed");
        }
    }
    Ok(())
}

/// Loads the snapshot at `path`; `Ok(None)` when there is none.
pub fn load(path: &Path) -> Result<Option<Snapshot>, SnapshotError> {
    match std::fs::read(path) {
        Ok(bytes) => decode(path, &bytes).map(Some),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(SnapshotError::Io { action: "read", path: path.to_path_buf(), source }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap() -> Snapshot {
        let config = ChainConfig { genesis_validators: 3, ..ChainConfig::devnet() };
        let state = BeaconState::genesis(&config).unwrap();
        Snapshot {
            config,
            el_cursor: 12,
            clock_offset_ms: 86_400_000,
            state,
            pending_credits: None,
            credit_batches: 0,
        }
    }

    #[test]
    fn round_trips_atomically() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/state.snapshot");
        assert!(load(&path).unwrap().is_none());
        save(&path, &snap()).unwrap();
        let back = load(&path).unwrap().unwrap();
        assert_eq!(back, snap());
        assert!(back.state.index_of(&back.state.validators[0].record.pubkey).is_some());
        assert!(!path.with_extension("tmp").exists());
    }

    #[test]
    fn corrupt_files_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.snapshot");
        save(&path, &snap()).unwrap();
        let good = std::fs::read(&path).unwrap();
        // Truncated.
        std::fs::write(&path, &good[..good.len() - 10]).unwrap();
        let e = load(&path).unwrap_err().to_string();
        assert!(e.contains("corrupt") && e.contains("checksum"), "{e}");
        // One byte flipped in the body.
        let mut flipped = good;
        let last = flipped.len() - 2;
        flipped[last] ^= 1;
        std::fs::write(&path, &flipped).unwrap();
        assert!(load(&path).unwrap_err().to_string().contains("checksum"));
        // Garbage.
        std::fs::write(&path, b"hello").unwrap();
        assert!(load(&path).unwrap_err().to_string().contains("corrupt"));
        // The file is left in place for inspection.
        assert_eq!(std::fs::read(&path).unwrap(), b"hello");
    }
}
