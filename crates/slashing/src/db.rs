//! The SQLite database.

use crate::{
    Error, NotSafe, PublicKeyBytes, Root,
    interchange::{
        INTERCHANGE_FORMAT_VERSION, Interchange, InterchangeError, InterchangeMetadata,
        InterchangeRecord, SignedAttestation, SignedBlock,
    },
};
use claystack_consensus::{Epoch, Slot};
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use std::{path::Path, sync::Mutex};

/// Schema. Conflicting rows (a slot or target signed twice with different roots) can only come in
/// through an import of history that was already slashable; the checks treat them as "unknown
/// root", so neither table has a uniqueness constraint on slot or target.
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS metadata (
    id INTEGER PRIMARY KEY CHECK (id = 0),
    genesis_validators_root BLOB NOT NULL CHECK (length(genesis_validators_root) = 32)
);
CREATE TABLE IF NOT EXISTS validators (
    id INTEGER PRIMARY KEY,
    public_key BLOB NOT NULL UNIQUE CHECK (length(public_key) = 48),
    block_slot_floor INTEGER,
    source_epoch_floor INTEGER,
    target_epoch_floor INTEGER
);
CREATE TABLE IF NOT EXISTS signed_blocks (
    validator_id INTEGER NOT NULL REFERENCES validators(id),
    slot INTEGER NOT NULL CHECK (slot >= 0),
    signing_root BLOB CHECK (signing_root IS NULL OR length(signing_root) = 32)
);
CREATE INDEX IF NOT EXISTS signed_blocks_by_slot ON signed_blocks (validator_id, slot);
CREATE TABLE IF NOT EXISTS signed_attestations (
    validator_id INTEGER NOT NULL REFERENCES validators(id),
    source_epoch INTEGER NOT NULL CHECK (source_epoch >= 0),
    target_epoch INTEGER NOT NULL CHECK (target_epoch >= source_epoch),
    signing_root BLOB CHECK (signing_root IS NULL OR length(signing_root) = 32)
);
CREATE INDEX IF NOT EXISTS signed_attestations_by_target
    ON signed_attestations (validator_id, target_epoch);
CREATE INDEX IF NOT EXISTS signed_attestations_by_source
    ON signed_attestations (validator_id, source_epoch);
";

/// `PRAGMA user_version` of the schema above; a database written by a newer version is refused
/// rather than misread.
const SCHEMA_VERSION: i64 = 1;

/// Why a check passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Safe {
    /// A new message, now recorded.
    Fresh,
    /// Exactly this message (same signing root) was signed before: re-signing it is harmless.
    SameData,
}

/// What an import did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportSummary {
    /// Validators in the file.
    pub validators: usize,
    /// Block rows added (duplicates of existing rows are not counted).
    pub blocks_added: usize,
    /// Attestation rows added.
    pub attestations_added: usize,
}

/// The slashing protection database: one exclusive SQLite connection.
#[derive(Debug)]
pub struct SlashingDatabase {
    conn: Mutex<Connection>,
}

fn to_sql(what: &'static str, value: u64) -> Result<i64, Error> {
    i64::try_from(value).map_err(|_| Error::OutOfRange { what, value })
}

fn from_sql(value: i64) -> Result<u64, Error> {
    u64::try_from(value).map_err(|_| Error::Corrupt("negative slot or epoch"))
}

fn root_from_sql(v: Option<Vec<u8>>) -> Result<Option<Root>, Error> {
    v.map(|b| Root::try_from(b.as_slice()).map_err(|_| Error::Corrupt("signing root length")))
        .transpose()
}

impl SlashingDatabase {
    /// Opens (creating if needed) the database at `path` and takes its exclusive lock: a second
    /// process opening the same file fails instead of racing this one.
    pub fn open(path: &Path) -> Result<Self, Error> {
        let conn = Connection::open(path)?;
        Self::init(conn, true)
    }

    /// An in-memory database (tests and benchmarks).
    pub fn open_in_memory() -> Result<Self, Error> {
        Self::init(Connection::open_in_memory()?, false)
    }

    fn init(mut conn: Connection, on_disk: bool) -> Result<Self, Error> {
        // Fail at once rather than wait when another process holds the lock.
        conn.busy_timeout(std::time::Duration::ZERO)?;
        conn.pragma_update(None, "locking_mode", "EXCLUSIVE")?;
        if on_disk {
            let mode: String =
                conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
            if !mode.eq_ignore_ascii_case("wal") {
                return Err(Error::Corrupt("could not enable write-ahead logging"));
            }
        }
        // FULL: a commit is on disk before `COMMIT` returns, so before any signature leaves.
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        // An EXCLUSIVE transaction takes the file lock now and (locking_mode) keeps it.
        let tx = conn.transaction_with_behavior(TransactionBehavior::Exclusive)?;
        let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        match version {
            0 => {
                tx.execute_batch(SCHEMA)?;
                tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
            }
            SCHEMA_VERSION => {}
            other => return Err(Error::UnsupportedSchema(other)),
        }
        tx.commit()?;
        Ok(Self { conn: Mutex::new(conn) })
    }

    fn with_tx<T>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<T, Error>) -> Result<T, Error> {
        let mut conn = self.conn.lock().map_err(|_| Error::Poisoned)?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }

    /// The genesis validators root the database is pinned to, if any.
    pub fn genesis_validators_root(&self) -> Result<Option<Root>, Error> {
        self.with_tx(read_gvr)
    }

    /// Pins the database to a chain; refuses a root different from an already pinned one.
    pub fn pin_genesis_validators_root(&self, root: Root) -> Result<(), Error> {
        self.with_tx(|tx| check_or_pin_gvr(tx, root))
    }

    /// Registers validators (idempotent). Only registered validators may sign.
    pub fn register_validators<'a>(
        &self,
        pubkeys: impl IntoIterator<Item = &'a PublicKeyBytes>,
    ) -> Result<(), Error> {
        self.with_tx(|tx| {
            for pk in pubkeys {
                tx.execute(
                    "INSERT OR IGNORE INTO validators (public_key) VALUES (?1)",
                    params![pk.as_slice()],
                )?;
            }
            Ok(())
        })
    }

    /// Public keys of the registered validators.
    pub fn registered_validators(&self) -> Result<Vec<PublicKeyBytes>, Error> {
        self.with_tx(|tx| {
            let mut stmt = tx.prepare("SELECT public_key FROM validators ORDER BY id")?;
            let rows = stmt.query_map([], |r| r.get::<_, Vec<u8>>(0))?;
            let mut out = Vec::new();
            for row in rows {
                let bytes = row?;
                out.push(
                    PublicKeyBytes::try_from(bytes.as_slice())
                        .map_err(|_| Error::Corrupt("public key length"))?,
                );
            }
            Ok(out)
        })
    }

    /// Checks a block proposal against the history and records it, in one transaction that is
    /// committed before this returns `Ok`. Sign only after `Ok`.
    pub fn check_and_insert_block_proposal(
        &self,
        genesis_validators_root: Root,
        pubkey: &PublicKeyBytes,
        slot: Slot,
        signing_root: Root,
    ) -> Result<Safe, Error> {
        let slot_sql = to_sql("slot", slot.0)?;
        self.with_tx(|tx| {
            check_or_pin_gvr(tx, genesis_validators_root)?;
            let v = validator(tx, pubkey)?;
            // Same slot: a repeat of the same root is safe; anything else is a double proposal.
            let mut same_slot = false;
            {
                let mut stmt = tx.prepare_cached(
                    "SELECT signing_root FROM signed_blocks WHERE validator_id = ?1 AND slot = ?2",
                )?;
                let mut rows = stmt.query(params![v.id, slot_sql])?;
                while let Some(row) = rows.next()? {
                    same_slot = true;
                    if root_from_sql(row.get(0)?)? != Some(signing_root) {
                        return Err(NotSafe::DoubleBlockProposal { slot }.into());
                    }
                }
            }
            if same_slot {
                return Ok(Safe::SameData);
            }
            let min_slot: Option<i64> = tx
                .prepare_cached("SELECT MIN(slot) FROM signed_blocks WHERE validator_id = ?1")?
                .query_row(params![v.id], |r| r.get(0))?;
            let bound = max_opt(min_slot.map(from_sql).transpose()?, v.block_slot_floor);
            if let Some(bound) = bound
                && slot.0 <= bound
            {
                return Err(
                    NotSafe::BlockSlotAtOrBelowLowerBound { slot, bound: Slot(bound) }.into()
                );
            }
            tx.prepare_cached(
                "INSERT INTO signed_blocks (validator_id, slot, signing_root) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![v.id, slot_sql, signing_root.as_slice()])?;
            Ok(Safe::Fresh)
        })
    }

    /// Checks an attestation against the history and records it, in one transaction that is
    /// committed before this returns `Ok`. Sign only after `Ok`.
    pub fn check_and_insert_attestation(
        &self,
        genesis_validators_root: Root,
        pubkey: &PublicKeyBytes,
        source_epoch: Epoch,
        target_epoch: Epoch,
        signing_root: Root,
    ) -> Result<Safe, Error> {
        if source_epoch > target_epoch {
            return Err(NotSafe::SourceExceedsTarget { source_epoch, target_epoch }.into());
        }
        let source = to_sql("source epoch", source_epoch.0)?;
        let target = to_sql("target epoch", target_epoch.0)?;
        self.with_tx(|tx| {
            check_or_pin_gvr(tx, genesis_validators_root)?;
            let v = validator(tx, pubkey)?;
            // Same target: a repeat of the same root is safe; anything else is a double vote.
            let mut same_target = false;
            {
                let mut stmt = tx.prepare_cached(
                    "SELECT signing_root FROM signed_attestations
                     WHERE validator_id = ?1 AND target_epoch = ?2",
                )?;
                let mut rows = stmt.query(params![v.id, target])?;
                while let Some(row) = rows.next()? {
                    same_target = true;
                    if root_from_sql(row.get(0)?)? != Some(signing_root) {
                        return Err(NotSafe::DoubleVote { target_epoch }.into());
                    }
                }
            }
            if same_target {
                return Ok(Safe::SameData);
            }
            // An earlier vote strictly inside the new one: the new one surrounds it.
            let surrounded_prev: Option<(i64, i64)> = tx
                .prepare_cached(
                    // source ≤ target < new target bounds the source range, so the source
                    // index scans only (new source, new target), not the whole history.
                    "SELECT source_epoch, target_epoch FROM signed_attestations
                     INDEXED BY signed_attestations_by_source
                     WHERE validator_id = ?1 AND source_epoch > ?2 AND source_epoch < ?3
                       AND target_epoch < ?3 LIMIT 1",
                )?
                .query_row(params![v.id, source, target], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
            if let Some((ps, pt)) = surrounded_prev {
                return Err(NotSafe::SurroundingVote {
                    source_epoch,
                    target_epoch,
                    prev_source: Epoch(from_sql(ps)?),
                    prev_target: Epoch(from_sql(pt)?),
                }
                .into());
            }
            // An earlier vote strictly around the new one.
            let surrounding_prev: Option<(i64, i64)> = tx
                .prepare_cached(
                    // Targets above the new target are few (the new one is usually the
                    // highest), so scan the target index from there.
                    "SELECT source_epoch, target_epoch FROM signed_attestations
                     INDEXED BY signed_attestations_by_target
                     WHERE validator_id = ?1 AND target_epoch > ?3 AND source_epoch < ?2 LIMIT 1",
                )?
                .query_row(params![v.id, source, target], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
            if let Some((ps, pt)) = surrounding_prev {
                return Err(NotSafe::SurroundedVote {
                    source_epoch,
                    target_epoch,
                    prev_source: Epoch(from_sql(ps)?),
                    prev_target: Epoch(from_sql(pt)?),
                }
                .into());
            }
            let (min_source, min_target): (Option<i64>, Option<i64>) = tx
                .prepare_cached(
                    // Two scalar subqueries: each is one index seek (a combined MIN, MIN
                    // would scan the validator's history).
                    "SELECT (SELECT MIN(source_epoch) FROM signed_attestations
                             WHERE validator_id = ?1),
                            (SELECT MIN(target_epoch) FROM signed_attestations
                             WHERE validator_id = ?1)",
                )?
                .query_row(params![v.id], |r| Ok((r.get(0)?, r.get(1)?)))?;
            let source_bound = max_opt(min_source.map(from_sql).transpose()?, v.source_epoch_floor);
            if let Some(bound) = source_bound
                && source_epoch.0 < bound
            {
                return Err(NotSafe::SourceBelowLowerBound { source_epoch, bound: Epoch(bound) }
                    .into());
            }
            let target_bound = max_opt(min_target.map(from_sql).transpose()?, v.target_epoch_floor);
            if let Some(bound) = target_bound
                && target_epoch.0 <= bound
            {
                return Err(NotSafe::TargetAtOrBelowLowerBound { target_epoch, bound: Epoch(bound) }
                    .into());
            }
            tx.prepare_cached(
                "INSERT INTO signed_attestations (validator_id, source_epoch, target_epoch, signing_root)
                 VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![v.id, source, target, signing_root.as_slice()])?;
            Ok(Safe::Fresh)
        })
    }

    /// Merges an interchange file into the database in one transaction (all or nothing).
    ///
    /// Refuses a file for another chain (and pins an unpinned database to the file's chain).
    /// Every validator in the file is registered. Rows are added unless an identical one exists;
    /// the lower-bound watermarks are raised to the file's maxima, because a minified file says
    /// nothing about what was signed below them, and to the bounds in force before the import,
    /// so that an import never makes signable what was refused before it.
    pub fn import_interchange(&self, interchange: &Interchange) -> Result<ImportSummary, Error> {
        interchange.validate()?;
        let file_root = interchange.metadata.genesis_validators_root;
        self.with_tx(|tx| {
            match read_gvr(tx)? {
                Some(database) if database != file_root => {
                    return Err(InterchangeError::GenesisValidatorsRootMismatch {
                        database,
                        file: file_root,
                    }
                    .into());
                }
                Some(_) => {}
                None => pin_gvr(tx, file_root)?,
            }
            let mut summary =
                ImportSummary { validators: interchange.data.len(), ..ImportSummary::default() };
            for record in &interchange.data {
                tx.execute(
                    "INSERT OR IGNORE INTO validators (public_key) VALUES (?1)",
                    params![record.pubkey.as_slice()],
                )?;
                let v = validator(tx, &record.pubkey)?;
                // The bounds in force before the import: an import must never make signable
                // what was refused before it, so they become watermarks too.
                let (min_slot, min_source, min_target): (Option<i64>, Option<i64>, Option<i64>) =
                    tx.query_row(
                        "SELECT (SELECT MIN(slot) FROM signed_blocks WHERE validator_id = ?1),
                                (SELECT MIN(source_epoch) FROM signed_attestations
                                 WHERE validator_id = ?1),
                                (SELECT MIN(target_epoch) FROM signed_attestations
                                 WHERE validator_id = ?1)",
                        params![v.id],
                        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                    )?;
                for b in &record.signed_blocks {
                    let slot = to_sql("slot", b.slot.0)?;
                    let root = known_root(b.signing_root.as_ref());
                    let exists: bool = tx.query_row(
                        "SELECT EXISTS(SELECT 1 FROM signed_blocks WHERE validator_id = ?1
                         AND slot = ?2 AND signing_root IS ?3)",
                        params![v.id, slot, root],
                        |r| r.get(0),
                    )?;
                    if !exists {
                        tx.execute(
                            "INSERT INTO signed_blocks (validator_id, slot, signing_root)
                             VALUES (?1, ?2, ?3)",
                            params![v.id, slot, root],
                        )?;
                        summary.blocks_added = summary.blocks_added.saturating_add(1);
                    }
                }
                for a in &record.signed_attestations {
                    let source = to_sql("source epoch", a.source_epoch.0)?;
                    let target = to_sql("target epoch", a.target_epoch.0)?;
                    let root = known_root(a.signing_root.as_ref());
                    let exists: bool = tx.query_row(
                        "SELECT EXISTS(SELECT 1 FROM signed_attestations WHERE validator_id = ?1
                         AND source_epoch = ?2 AND target_epoch = ?3 AND signing_root IS ?4)",
                        params![v.id, source, target, root],
                        |r| r.get(0),
                    )?;
                    if !exists {
                        tx.execute(
                            "INSERT INTO signed_attestations
                             (validator_id, source_epoch, target_epoch, signing_root)
                             VALUES (?1, ?2, ?3, ?4)",
                            params![v.id, source, target, root],
                        )?;
                        summary.attestations_added = summary.attestations_added.saturating_add(1);
                    }
                }
                let max_slot = record.signed_blocks.iter().map(|b| b.slot.0).max();
                let max_source = record.signed_attestations.iter().map(|a| a.source_epoch.0).max();
                let max_target = record.signed_attestations.iter().map(|a| a.target_epoch.0).max();
                raise_floors(
                    tx,
                    &v,
                    max_opt(max_slot, min_slot.map(from_sql).transpose()?),
                    max_opt(max_source, min_source.map(from_sql).transpose()?),
                    max_opt(max_target, min_target.map(from_sql).transpose()?),
                )?;
            }
            Ok(summary)
        })
    }

    /// Exports the whole history as an interchange file. A watermark above every row (left by
    /// pruning) is exported as an entry without signing root, so re-importing keeps it.
    pub fn export_interchange(&self) -> Result<Interchange, Error> {
        self.with_tx(|tx| {
            let genesis_validators_root = read_gvr(tx)?.ok_or(Error::NoGenesisValidatorsRoot)?;
            let mut data = Vec::new();
            let mut stmt = tx.prepare(
                "SELECT id, public_key, block_slot_floor, source_epoch_floor, target_epoch_floor
                 FROM validators ORDER BY id",
            )?;
            let validators = stmt
                .query_map([], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, Vec<u8>>(1)?,
                        r.get::<_, Option<i64>>(2)?,
                        r.get::<_, Option<i64>>(3)?,
                        r.get::<_, Option<i64>>(4)?,
                    ))
                })?
                .collect::<Result<Vec<_>, _>>()?;
            for (id, pk, block_floor, source_floor, target_floor) in validators {
                let pubkey = PublicKeyBytes::try_from(pk.as_slice())
                    .map_err(|_| Error::Corrupt("public key length"))?;
                let mut signed_blocks = Vec::new();
                let mut bs = tx.prepare(
                    "SELECT slot, signing_root FROM signed_blocks WHERE validator_id = ?1
                     ORDER BY slot, rowid",
                )?;
                let mut rows = bs.query(params![id])?;
                while let Some(row) = rows.next()? {
                    signed_blocks.push(SignedBlock {
                        slot: Slot(from_sql(row.get(0)?)?),
                        signing_root: root_from_sql(row.get(1)?)?,
                    });
                }
                if let Some(floor) = block_floor.map(from_sql).transpose()?
                    && signed_blocks.iter().all(|b| b.slot.0 < floor)
                {
                    signed_blocks.push(SignedBlock { slot: Slot(floor), signing_root: None });
                }
                let mut signed_attestations = Vec::new();
                let mut ats = tx.prepare(
                    "SELECT source_epoch, target_epoch, signing_root FROM signed_attestations
                     WHERE validator_id = ?1 ORDER BY target_epoch, source_epoch, rowid",
                )?;
                let mut rows = ats.query(params![id])?;
                while let Some(row) = rows.next()? {
                    signed_attestations.push(SignedAttestation {
                        source_epoch: Epoch(from_sql(row.get(0)?)?),
                        target_epoch: Epoch(from_sql(row.get(1)?)?),
                        signing_root: root_from_sql(row.get(2)?)?,
                    });
                }
                let sf = source_floor.map(from_sql).transpose()?;
                let tf = target_floor.map(from_sql).transpose()?;
                if let (Some(sf), Some(tf)) = (sf, tf)
                    && signed_attestations
                        .iter()
                        .all(|a| a.source_epoch.0 < sf || a.target_epoch.0 < tf)
                {
                    signed_attestations.push(SignedAttestation {
                        source_epoch: Epoch(sf.min(tf)),
                        target_epoch: Epoch(tf),
                        signing_root: None,
                    });
                }
                data.push(InterchangeRecord { pubkey, signed_blocks, signed_attestations });
            }
            Ok(Interchange {
                metadata: InterchangeMetadata {
                    interchange_format_version: INTERCHANGE_FORMAT_VERSION,
                    genesis_validators_root,
                },
                data,
            })
        })
    }

    /// Deletes blocks below `keep_from_slot` and attestations with a target below
    /// `keep_from_epoch`, first raising each validator's watermarks to the maxima of what is
    /// deleted, so nothing that was refusable before becomes signable.
    pub fn prune(&self, keep_from_slot: Slot, keep_from_epoch: Epoch) -> Result<(), Error> {
        let slot = to_sql("slot", keep_from_slot.0)?;
        let epoch = to_sql("epoch", keep_from_epoch.0)?;
        self.with_tx(|tx| {
            let ids = tx
                .prepare("SELECT id FROM validators")?
                .query_map([], |r| r.get::<_, i64>(0))?
                .collect::<Result<Vec<_>, _>>()?;
            for id in ids {
                let max_slot: Option<i64> = tx.query_row(
                    "SELECT MAX(slot) FROM signed_blocks WHERE validator_id = ?1 AND slot < ?2",
                    params![id, slot],
                    |r| r.get(0),
                )?;
                let (max_source, max_target): (Option<i64>, Option<i64>) = tx.query_row(
                    "SELECT MAX(source_epoch), MAX(target_epoch) FROM signed_attestations
                     WHERE validator_id = ?1 AND target_epoch < ?2",
                    params![id, epoch],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )?;
                let v = validator_by_id(tx, id)?;
                raise_floors(
                    tx,
                    &v,
                    max_slot.map(from_sql).transpose()?,
                    max_source.map(from_sql).transpose()?,
                    max_target.map(from_sql).transpose()?,
                )?;
                tx.execute(
                    "DELETE FROM signed_blocks WHERE validator_id = ?1 AND slot < ?2",
                    params![id, slot],
                )?;
                tx.execute(
                    "DELETE FROM signed_attestations WHERE validator_id = ?1 AND target_epoch < ?2",
                    params![id, epoch],
                )?;
            }
            Ok(())
        })
    }
}

/// A registered validator's row.
struct ValidatorRow {
    id: i64,
    block_slot_floor: Option<u64>,
    source_epoch_floor: Option<u64>,
    target_epoch_floor: Option<u64>,
}

/// An imported signing root, or `None` when absent or all zeros: some clients write a zero
/// root for "unknown", and no real signing root (a SHA-256 output) is zero, so a zero root must
/// never let a request with a zero root pass as a repeat.
fn known_root(root: Option<&Root>) -> Option<&[u8]> {
    root.filter(|r| **r != [0u8; 32]).map(|r| r.as_slice())
}

fn max_opt(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

fn row_to_validator(r: &rusqlite::Row<'_>) -> rusqlite::Result<(i64, [Option<i64>; 3])> {
    Ok((r.get(0)?, [r.get(1)?, r.get(2)?, r.get(3)?]))
}

fn make_validator((id, [b, s, t]): (i64, [Option<i64>; 3])) -> Result<ValidatorRow, Error> {
    Ok(ValidatorRow {
        id,
        block_slot_floor: b.map(from_sql).transpose()?,
        source_epoch_floor: s.map(from_sql).transpose()?,
        target_epoch_floor: t.map(from_sql).transpose()?,
    })
}

fn validator(tx: &Transaction<'_>, pubkey: &PublicKeyBytes) -> Result<ValidatorRow, Error> {
    let row = tx
        .prepare_cached(
            "SELECT id, block_slot_floor, source_epoch_floor, target_epoch_floor
             FROM validators WHERE public_key = ?1",
        )?
        .query_row(params![pubkey.as_slice()], row_to_validator)
        .optional()?
        .ok_or(NotSafe::UnregisteredValidator(*pubkey))?;
    make_validator(row)
}

fn validator_by_id(tx: &Transaction<'_>, id: i64) -> Result<ValidatorRow, Error> {
    let row = tx.query_row(
        "SELECT id, block_slot_floor, source_epoch_floor, target_epoch_floor
         FROM validators WHERE id = ?1",
        params![id],
        row_to_validator,
    )?;
    make_validator(row)
}

fn raise_floors(
    tx: &Transaction<'_>,
    v: &ValidatorRow,
    slot: Option<u64>,
    source: Option<u64>,
    target: Option<u64>,
) -> Result<(), Error> {
    let b = max_opt(v.block_slot_floor, slot).map(|x| to_sql("slot", x)).transpose()?;
    let s = max_opt(v.source_epoch_floor, source).map(|x| to_sql("epoch", x)).transpose()?;
    let t = max_opt(v.target_epoch_floor, target).map(|x| to_sql("epoch", x)).transpose()?;
    tx.execute(
        "UPDATE validators SET block_slot_floor = ?2, source_epoch_floor = ?3,
         target_epoch_floor = ?4 WHERE id = ?1",
        params![v.id, b, s, t],
    )?;
    Ok(())
}

fn read_gvr(tx: &Transaction<'_>) -> Result<Option<Root>, Error> {
    let v: Option<Vec<u8>> = tx
        .prepare_cached("SELECT genesis_validators_root FROM metadata WHERE id = 0")?
        .query_row([], |r| r.get(0))
        .optional()?;
    v.map(|b| {
        Root::try_from(b.as_slice()).map_err(|_| Error::Corrupt("genesis validators root length"))
    })
    .transpose()
}

fn pin_gvr(tx: &Transaction<'_>, root: Root) -> Result<(), Error> {
    tx.execute(
        "INSERT INTO metadata (id, genesis_validators_root) VALUES (0, ?1)",
        params![root.as_slice()],
    )?;
    Ok(())
}

fn check_or_pin_gvr(tx: &Transaction<'_>, request: Root) -> Result<(), Error> {
    match read_gvr(tx)? {
        Some(database) if database != request => {
            Err(NotSafe::GenesisValidatorsRootMismatch { database, request }.into())
        }
        Some(_) => Ok(()),
        None => pin_gvr(tx, request),
    }
}
