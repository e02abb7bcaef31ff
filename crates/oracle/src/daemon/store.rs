//! The crash-safe per-frame record: the digest this member computed and signed, the report and
//! every chunk of the extra data it committed, the signatures collected over that digest, the
//! submission. Written atomically (temp file, fsync, rename, fsync of the directory) before
//! anything leaves the process, so a restarted member resumes the frame with the same digest,
//! never signs another, and can still deliver the later chunks (docs/adr/0008).
//!
//! Records written before the chunk format (one `extra_data` blob, `abi.encode(OperatorsReport)`)
//! load with that blob as their only chunk, so their digest and signatures are kept, but the
//! contracts of ADR 0008 refuse such a blob as chunk 0 (`ExtraDataChunkMalformed`: its second word
//! is not `0x40`): [`FrameRecord::submittable`] says so, and the daemon neither submits nor
//! gossips that frame, nor signs a second digest for it (it sits the frame out). A record whose
//! chunks do not hash to its report's `extraDataHash` is refused with an error naming the file.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use alloy::primitives::{Address, B256, Bytes, keccak256};
use serde::{Deserialize, Serialize};

/// One frame's record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "StoredFrameRecord")]
pub struct FrameRecord {
    /// Reference slot of the frame.
    pub ref_slot: u64,
    /// The EIP-712 digest this member signed (the only one it will ever sign for the frame).
    pub digest: B256,
    /// `abi.encode(report)` of the signed report.
    pub report_abi: Bytes,
    /// The extra data committed by the report, chunk 0 first (`keccak256(chunks[0]) ==
    /// extraDataHash`, each chunk names the next one's hash); empty when nothing is committed.
    pub chunks: Vec<Bytes>,
    /// Our 65-byte signature over `digest`.
    pub own_signature: Bytes,
    /// Signatures over `digest` collected from members (ours included), by signer.
    pub signatures: BTreeMap<Address, Bytes>,
    /// Hash of our submission transaction, when we sent one.
    pub submitted_tx: Option<B256>,
    /// Whether the frame is settled (a report for it is on chain, ours or another member's).
    pub done: bool,
}

/// A record as stored, in either format: `chunks` (since docs/adr/0008) or the single
/// `extra_data` blob of older records.
#[derive(Deserialize)]
struct StoredFrameRecord {
    ref_slot: u64,
    digest: B256,
    report_abi: Bytes,
    #[serde(default)]
    chunks: Option<Vec<Bytes>>,
    #[serde(default)]
    extra_data: Option<Bytes>,
    own_signature: Bytes,
    signatures: BTreeMap<Address, Bytes>,
    submitted_tx: Option<B256>,
    done: bool,
}

impl From<StoredFrameRecord> for FrameRecord {
    fn from(r: StoredFrameRecord) -> Self {
        let chunks = match (r.chunks, r.extra_data) {
            (Some(chunks), _) => chunks,
            // an older record: its one blob is chunk 0 (kept as it is)
            (None, Some(blob)) if !blob.is_empty() => vec![blob],
            (None, _) => Vec::new(),
        };
        Self {
            ref_slot: r.ref_slot,
            digest: r.digest,
            report_abi: r.report_abi,
            chunks,
            own_signature: r.own_signature,
            signatures: r.signatures,
            submitted_tx: r.submitted_tx,
            done: r.done,
        }
    }
}

impl FrameRecord {
    /// The signed report.
    pub fn report(&self) -> Result<crate::Report, alloy::sol_types::Error> {
        use alloy::sol_types::SolValue as _;
        crate::Report::abi_decode(&self.report_abi)
    }

    /// Chunk 0 (sent with `submitReport`), or empty.
    #[must_use]
    pub fn first_chunk(&self) -> Bytes {
        self.chunks.first().cloned().unwrap_or_default()
    }

    /// Whether the contracts accept this record's chunk 0: empty, or `abi.encode(bytes32 next,
    /// OperatorsReport part)` (ADR 0008). A blob of the format before chunks
    /// (`abi.encode(OperatorsReport)`) is refused, with the reason.
    pub fn submittable(&self) -> Result<(), String> {
        use alloy::sol_types::SolValue as _;
        let Some(first) = self.chunks.first() else { return Ok(()) };
        if <(B256, crate::sol::OperatorsReport)>::abi_decode_params(first).is_ok() {
            return Ok(());
        }
        let legacy = crate::sol::OperatorsReport::abi_decode(first).is_ok();
        Err(if legacy {
            format!(
                "frame {}: the recorded extra data is one abi.encode(OperatorsReport) blob (written \
                 before chunked extra data, ADR 0008); the contracts refuse it as chunk 0",
                self.ref_slot
            )
        } else {
            format!(
                "frame {}: the recorded chunk 0 is not abi.encode(bytes32, OperatorsReport)",
                self.ref_slot
            )
        })
    }

    /// The rewards root chunk 0 commits (ADR 0008 puts it there), if any.
    #[must_use]
    pub fn rewards_root(&self) -> Option<B256> {
        use alloy::sol_types::SolValue as _;
        let first = self.chunks.first()?;
        let (_, part) = <(B256, crate::sol::OperatorsReport)>::abi_decode_params(first).ok()?;
        (!part.rewardsRoot.is_zero()).then_some(part.rewardsRoot)
    }

    /// Checks that the chunks are the ones the signed report commits to: chunk 0 hashes to
    /// `extraDataHash` (none when it is zero). A failure names what differs.
    pub fn check_chunks(&self) -> Result<(), String> {
        let report =
            self.report().map_err(|e| format!("the recorded report does not decode: {e}"))?;
        let first = self.chunks.first().map_or(B256::ZERO, keccak256);
        if first != report.extraDataHash {
            return Err(format!(
                "chunk 0 hashes to {first}, the signed report commits to {}",
                report.extraDataHash
            ));
        }
        Ok(())
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
        let record: FrameRecord = serde_json::from_slice(&text).map_err(|e| StoreError {
            action: "parse frame record",
            path: path.clone(),
            source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
        })?;
        record.check_chunks().map_err(|e| StoreError {
            action: "check the extra data of frame record",
            path,
            source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
        })?;
        Ok(Some(record))
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

    use alloy::sol_types::SolValue as _;

    fn record(ref_slot: u64, chunks: Vec<Bytes>) -> FrameRecord {
        let report = crate::Report {
            refSlot: alloy::primitives::U256::from(ref_slot),
            extraDataHash: chunks.first().map_or(B256::ZERO, keccak256),
            ..crate::Report::default()
        };
        let mut rec = FrameRecord {
            ref_slot,
            digest: B256::repeat_byte(1),
            report_abi: Bytes::from(report.abi_encode()),
            chunks,
            own_signature: Bytes::from(vec![9; 65]),
            signatures: BTreeMap::new(),
            submitted_tx: None,
            done: false,
        };
        rec.signatures.insert(Address::repeat_byte(3), Bytes::from(vec![4; 65]));
        rec
    }

    #[test]
    fn round_trips_and_refuses_garbage() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.load(7).unwrap(), None);
        let rec = record(7, Vec::new());
        store.save(&rec).unwrap();
        assert_eq!(store.load(7).unwrap(), Some(rec));
        let chained = record(9, vec![Bytes::from(vec![5; 96]), Bytes::from(vec![6; 96])]);
        store.save(&chained).unwrap();
        assert_eq!(store.load(9).unwrap(), Some(chained));
        std::fs::write(dir.path().join(format!("frame-{:020}.json", 8)), b"{").unwrap();
        assert!(store.load(8).is_err());
    }

    /// A record written before the chunk format (`extra_data`, one blob) loads with the blob as
    /// chunk 0, the digest and signatures untouched; saved again, it is in the new format.
    #[test]
    fn old_records_load_with_their_extra_data_as_chunk_0() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let blob = Bytes::from(vec![0xAB; 160]);
        let new = record(11, vec![blob.clone()]);
        let mut old = serde_json::to_value(&new).unwrap();
        let obj = old.as_object_mut().unwrap();
        obj.remove("chunks");
        obj.insert("extra_data".into(), serde_json::to_value(&blob).unwrap());
        let path = dir.path().join(format!("frame-{:020}.json", 11));
        std::fs::write(&path, serde_json::to_vec(&old).unwrap()).unwrap();
        let loaded = store.load(11).unwrap().unwrap();
        assert_eq!(loaded, new);
        assert_eq!(loaded.first_chunk(), blob);
        store.save(&loaded).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("\"chunks\"") && !text.contains("extra_data"), "{text}");
        // an old record without extra data has no chunks
        let empty = record(12, Vec::new());
        let mut old = serde_json::to_value(&empty).unwrap();
        let obj = old.as_object_mut().unwrap();
        obj.remove("chunks");
        obj.insert("extra_data".into(), serde_json::json!("0x"));
        std::fs::write(
            dir.path().join(format!("frame-{:020}.json", 12)),
            serde_json::to_vec(&old).unwrap(),
        )
        .unwrap();
        assert_eq!(store.load(12).unwrap(), Some(empty));
    }

    /// An old record's blob (`abi.encode(OperatorsReport)`) is what the contracts refuse as
    /// chunk 0 (`ExtraDataChunkMalformed`): the record says it cannot be submitted; a record of
    /// the chunk format (or without extra data) can.
    #[test]
    fn an_old_format_extra_data_blob_is_not_submittable() {
        let part = crate::sol::OperatorsReport {
            refSlot: alloy::primitives::U256::from(15),
            rewardsRoot: B256::repeat_byte(0x77),
            ..crate::sol::OperatorsReport::default()
        };
        let legacy = record(15, vec![Bytes::from(part.abi_encode())]);
        // the second word of a legacy blob is the report's first field, not the 0x40 the
        // contract checks
        assert_ne!(
            legacy.chunks[0][32..64],
            alloy::primitives::U256::from(0x40).to_be_bytes::<32>()
        );
        let err = legacy.submittable().unwrap_err();
        assert!(err.contains("abi.encode(OperatorsReport)") && err.contains("frame 15"), "{err}");
        assert_eq!(legacy.rewards_root(), None);
        let chunked = |parts: &[crate::sol::OperatorsReport]| {
            record(15, crate::sol::encode_chain(parts).into_iter().map(Bytes::from).collect())
        };
        // one chunk (zero next hash) and a chain (chunk 0 names the next one's hash)
        let second = crate::sol::OperatorsReport { refSlot: part.refSlot, ..Default::default() };
        for rec in [chunked(std::slice::from_ref(&part)), chunked(&[part.clone(), second])] {
            assert_eq!(rec.submittable(), Ok(()), "{} chunk(s)", rec.chunks.len());
            assert_eq!(rec.rewards_root(), Some(B256::repeat_byte(0x77)));
        }
        assert_eq!(record(15, Vec::new()).submittable(), Ok(()));
        assert!(record(15, vec![Bytes::from(vec![0xAB; 160])]).submittable().is_err());
    }

    /// Chunks that are not what the signed report commits to are an error naming the file.
    #[test]
    fn a_record_whose_chunk_0_is_not_committed_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let mut rec = record(13, vec![Bytes::from(vec![1; 64])]);
        rec.chunks = vec![Bytes::from(vec![2; 64])];
        store.save(&rec).unwrap();
        let err = store.load(13).unwrap_err().to_string();
        assert!(
            err.contains("frame-00000000000000000013.json") && err.contains("chunk 0"),
            "{err}"
        );
    }
}
