//! The crash-safe per-frame record: the digest this member computed and signed, the report and
//! extra data it signed, the signatures collected over that digest, the submission. Written
//! atomically (temp file, fsync, rename, fsync of the directory) before anything leaves the
//! process, so a restarted member resumes the frame with the same digest and never signs another.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use alloy::primitives::{Address, B256, Bytes};
use serde::{Deserialize, Serialize};

/// One frame's record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrameRecord {
    /// Reference slot of the frame.
    pub ref_slot: u64,
    /// The EIP-712 digest this member signed (the only one it will ever sign for the frame).
    pub digest: B256,
    /// `abi.encode(report)` of the signed report.
    pub report_abi: Bytes,
    /// The extra data committed by the report (empty when none).
    pub extra_data: Bytes,
    /// Our 65-byte signature over `digest`.
    pub own_signature: Bytes,
    /// Signatures over `digest` collected from members (ours included), by signer.
    pub signatures: BTreeMap<Address, Bytes>,
    /// Hash of our submission transaction, when we sent one.
    pub submitted_tx: Option<B256>,
    /// Whether the frame is settled (a report for it is on chain, ours or another member's).
    pub done: bool,
}

impl FrameRecord {
    /// The signed report.
    pub fn report(&self) -> Result<crate::Report, alloy::sol_types::Error> {
        use alloy::sol_types::SolValue as _;
        crate::Report::abi_decode(&self.report_abi)
    }
}

/// Error of the state directory.
#[derive(Debug, thiserror::Error)]
#[error("{action} {path}: {source}")]
pub struct StoreError {
    /// What failed.
    pub action: &'static str,
    /// The file.
    pub path: PathBuf,
    /// Cause.
    #[source]
    pub source: std::io::Error,
}

/// The state directory.
#[derive(Debug, Clone)]
pub struct Store {
    dir: PathBuf,
}

impl Store {
    /// Opens (creates) the directory.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(dir).map_err(|source| StoreError {
            action: "create state dir",
            path: dir.to_path_buf(),
            source,
        })?;
        Ok(Self { dir: dir.to_path_buf() })
    }

    fn path(&self, ref_slot: u64) -> PathBuf {
        self.dir.join(format!("frame-{ref_slot:020}.json"))
    }

    /// The record of `ref_slot`, if any. A record that does not parse is an error, never
    /// silently replaced (it may hold the digest we signed).
    pub fn load(&self, ref_slot: u64) -> Result<Option<FrameRecord>, StoreError> {
        let path = self.path(ref_slot);
        let text = match std::fs::read(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(StoreError { action: "read frame record", path, source }),
        };
        serde_json::from_slice(&text).map(Some).map_err(|e| StoreError {
            action: "parse frame record",
            path,
            source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
        })
    }

    /// Writes `record` atomically.
    pub fn save(&self, record: &FrameRecord) -> Result<(), StoreError> {
        let path = self.path(record.ref_slot);
        let body = serde_json::to_vec_pretty(record).map_err(|e| StoreError {
            action: "encode frame record",
            path: path.clone(),
            source: std::io::Error::other(e),
        })?;
        write_atomic(&self.dir, &path, &body)
    }

    /// The directory.
    #[must_use]
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

/// Writes `body` to `path` (inside `dir`) atomically: a temporary file, fsync, rename, fsync of
/// the directory. A crash leaves either the old file or the new one, never a torn one.
pub fn write_atomic(dir: &Path, path: &Path, body: &[u8]) -> Result<(), StoreError> {
    let tmp = path.with_extension("tmp");
    let err = |action: &'static str, p: &Path| {
        let p = p.to_path_buf();
        move |source| StoreError { action, path: p, source }
    };
    let mut f = std::fs::File::create(&tmp).map_err(err("create", &tmp))?;
    f.write_all(body).map_err(err("write", &tmp))?;
    f.sync_all().map_err(err("sync", &tmp))?;
    drop(f);
    std::fs::rename(&tmp, path).map_err(err("rename into", path))?;
    std::fs::File::open(dir).and_then(|d| d.sync_all()).map_err(err("sync state dir", dir))?;
    Ok(())
}

/// Reads `path` if it exists, refusing files above `max_bytes` (a state file never grows that
/// large; a bigger one is damage, not data).
pub fn read_capped(path: &Path, max_bytes: u64) -> Result<Option<Vec<u8>>, StoreError> {
    use std::io::Read as _;
    let err = |action: &'static str| {
        let p = path.to_path_buf();
        move |source| StoreError { action, path: p, source }
    };
    let f = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(err("open")(e)),
    };
    let mut body = Vec::new();
    f.take(max_bytes.saturating_add(1)).read_to_end(&mut body).map_err(err("read"))?;
    if u64::try_from(body.len()).unwrap_or(u64::MAX) > max_bytes {
        return Err(err("read")(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("larger than {max_bytes} bytes"),
        )));
    }
    Ok(Some(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_garbage() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.load(7).unwrap(), None);
        let mut rec = FrameRecord {
            ref_slot: 7,
            digest: B256::repeat_byte(1),
            report_abi: Bytes::from(vec![1, 2, 3]),
            extra_data: Bytes::new(),
            own_signature: Bytes::from(vec![9; 65]),
            signatures: BTreeMap::new(),
            submitted_tx: None,
            done: false,
        };
        rec.signatures.insert(Address::repeat_byte(3), Bytes::from(vec![4; 65]));
        store.save(&rec).unwrap();
        assert_eq!(store.load(7).unwrap(), Some(rec));
        std::fs::write(dir.path().join(format!("frame-{:020}.json", 8)), b"{").unwrap();
        assert!(store.load(8).is_err());
    }
}
