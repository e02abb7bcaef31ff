//! One small SQL interface over SQLite (rusqlite, WAL) and PostgreSQL (`postgres`, no TLS), so
//! that the store, its migrations and its queries are written once. SQL is written with `$1`
//! placeholders and only `BIGINT`/`TEXT` columns, which both engines read the same way; amounts
//! (uint256) are decimal `TEXT`.

use std::collections::HashMap;

/// A bound parameter or a read column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Val {
    /// A 64-bit integer (`BIGINT`).
    Int(i64),
    /// Text (`TEXT`).
    Text(String),
    /// SQL `NULL` (only ever read, never bound: PostgreSQL types parameters strictly).
    Null,
}

impl Val {
    /// The integer, if this is one.
    pub fn int(&self) -> Option<i64> {
        match self {
            Self::Int(v) => Some(*v),
            _ => None,
        }
    }

    /// The text, if this is text.
    pub fn text(&self) -> Option<&str> {
        match self {
            Self::Text(v) => Some(v),
            _ => None,
        }
    }
}

impl From<i64> for Val {
    fn from(v: i64) -> Self {
        Self::Int(v)
    }
}

impl From<&str> for Val {
    fn from(v: &str) -> Self {
        Self::Text(v.to_owned())
    }
}

impl From<String> for Val {
    fn from(v: String) -> Self {
        Self::Text(v)
    }
}

/// One result row.
pub type Row = Vec<Val>;

/// A database failure.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// SQLite reported an error.
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// PostgreSQL reported an error.
    #[error("postgres: {0}")]
    Postgres(#[from] postgres::Error),
    /// A column had a type the store never writes.
    #[error("unsupported column type {0}")]
    ColumnType(String),
    /// A stored value could not be interpreted.
    #[error("corrupt stored value in {what}: {value}")]
    Corrupt {
        /// What was being read.
        what: &'static str,
        /// The offending value.
        value: String,
    },
}

/// Which engine is behind a [`Db`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// The few operations the store needs from an SQL engine.
pub trait Db: Send {
    /// The engine.
    fn dialect(&self) -> Dialect;
    /// Runs statements without parameters (DDL, `BEGIN`, `COMMIT`).
    fn batch(&mut self, sql: &str) -> Result<(), DbError>;
    /// Runs one statement, returning the number of rows changed.
    fn exec(&mut self, sql: &str, params: &[Val]) -> Result<u64, DbError>;
    /// Runs one query, returning all rows.
    fn query(&mut self, sql: &str, params: &[Val]) -> Result<Vec<Row>, DbError>;
}

/// SQLite in WAL mode with cached statements.
pub struct SqliteDb {
    conn: rusqlite::Connection,
}

impl std::fmt::Debug for SqliteDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteDb").finish_non_exhaustive()
    }
}

impl SqliteDb {
    /// Opens (creating) the database file, in WAL mode.
    pub fn open(path: &std::path::Path) -> Result<Self, DbError> {
        let conn = rusqlite::Connection::open(path)?;
        Self::configure(conn)
    }

    /// An in-memory database (tests, benchmarks).
    pub fn memory() -> Result<Self, DbError> {
        Self::configure(rusqlite::Connection::open_in_memory()?)
    }

    fn configure(conn: rusqlite::Connection) -> Result<Self, DbError> {
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.set_prepared_statement_cache_capacity(64);
        Ok(Self { conn })
    }
}

/// `$1` → `?1`: SQLite reads `$1` as a *named* parameter, `?1` as the positional one.
fn sqlite_sql(sql: &str) -> String {
    sql.replace('$', "?")
}

fn to_sqlite(v: &Val) -> rusqlite::types::Value {
    match v {
        Val::Int(i) => rusqlite::types::Value::Integer(*i),
        Val::Text(t) => rusqlite::types::Value::Text(t.clone()),
        Val::Null => rusqlite::types::Value::Null,
    }
}

impl Db for SqliteDb {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn batch(&mut self, sql: &str) -> Result<(), DbError> {
        Ok(self.conn.execute_batch(sql)?)
    }

    fn exec(&mut self, sql: &str, params: &[Val]) -> Result<u64, DbError> {
        let mut stmt = self.conn.prepare_cached(&sqlite_sql(sql))?;
        let n = stmt.execute(rusqlite::params_from_iter(params.iter().map(to_sqlite)))?;
        Ok(n as u64)
    }

    fn query(&mut self, sql: &str, params: &[Val]) -> Result<Vec<Row>, DbError> {
        let mut stmt = self.conn.prepare_cached(&sqlite_sql(sql))?;
        let cols = stmt.column_count();
        let mut rows = stmt.query(rusqlite::params_from_iter(params.iter().map(to_sqlite)))?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let mut row = Vec::with_capacity(cols);
            for i in 0..cols {
                row.push(match r.get_ref(i)? {
                    rusqlite::types::ValueRef::Null => Val::Null,
                    rusqlite::types::ValueRef::Integer(v) => Val::Int(v),
                    rusqlite::types::ValueRef::Text(t) => {
                        Val::Text(String::from_utf8_lossy(t).into_owned())
                    }
                    other => return Err(DbError::ColumnType(format!("{:?}", other.data_type()))),
                });
            }
            out.push(row);
        }
        Ok(out)
    }
}

/// PostgreSQL through the synchronous `postgres` client (no TLS), with prepared statements cached
/// per connection. Call it from blocking threads (`spawn_blocking`), never from async code.
pub struct PgDb {
    client: postgres::Client,
    stmts: HashMap<String, postgres::Statement>,
}

impl std::fmt::Debug for PgDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgDb").finish_non_exhaustive()
    }
}

impl PgDb {
    /// Connects with a `postgres://` URL.
    pub fn connect(url: &str) -> Result<Self, DbError> {
        let client = postgres::Client::connect(url, postgres::NoTls)?;
        Ok(Self { client, stmts: HashMap::new() })
    }

    fn prepared(&mut self, sql: &str) -> Result<postgres::Statement, DbError> {
        if let Some(s) = self.stmts.get(sql) {
            return Ok(s.clone());
        }
        let s = self.client.prepare(sql)?;
        self.stmts.insert(sql.to_owned(), s.clone());
        Ok(s)
    }
}

fn pg_params(params: &[Val]) -> Vec<Box<dyn postgres::types::ToSql + Sync>> {
    params
        .iter()
        .map(|v| -> Box<dyn postgres::types::ToSql + Sync> {
            match v {
                Val::Int(i) => Box::new(*i),
                Val::Text(t) => Box::new(t.clone()),
                Val::Null => Box::new(Option::<String>::None),
            }
        })
        .collect()
}

impl Db for PgDb {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn batch(&mut self, sql: &str) -> Result<(), DbError> {
        Ok(self.client.batch_execute(sql)?)
    }

    fn exec(&mut self, sql: &str, params: &[Val]) -> Result<u64, DbError> {
        let stmt = self.prepared(sql)?;
        let boxed = pg_params(params);
        let refs: Vec<&(dyn postgres::types::ToSql + Sync)> =
            boxed.iter().map(|b| b.as_ref()).collect();
        Ok(self.client.execute(&stmt, &refs)?)
    }

    fn query(&mut self, sql: &str, params: &[Val]) -> Result<Vec<Row>, DbError> {
        use postgres::types::Type;
        let stmt = self.prepared(sql)?;
        let boxed = pg_params(params);
        let refs: Vec<&(dyn postgres::types::ToSql + Sync)> =
            boxed.iter().map(|b| b.as_ref()).collect();
        let rows = self.client.query(&stmt, &refs)?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let mut row = Vec::with_capacity(r.len());
            for (i, col) in r.columns().iter().enumerate() {
                let t = col.type_();
                let v = if *t == Type::INT8 {
                    r.try_get::<_, Option<i64>>(i)?.map_or(Val::Null, Val::Int)
                } else if *t == Type::INT4 {
                    r.try_get::<_, Option<i32>>(i)?.map_or(Val::Null, |v| Val::Int(i64::from(v)))
                } else if *t == Type::TEXT || *t == Type::VARCHAR {
                    r.try_get::<_, Option<String>>(i)?.map_or(Val::Null, Val::Text)
                } else {
                    return Err(DbError::ColumnType(t.name().to_owned()));
                };
                row.push(v);
            }
            out.push(row);
        }
        Ok(out)
    }
}

/// Versioned migrations, the same SQL for both engines. Append only: never edit a shipped one.
pub const MIGRATIONS: &[(i64, &str)] = &[
    (
        1,
    "
    CREATE TABLE cursor (id BIGINT PRIMARY KEY, block_number BIGINT NOT NULL, block_hash TEXT NOT NULL);
    CREATE TABLE blocks (number BIGINT PRIMARY KEY, hash TEXT NOT NULL, time BIGINT NOT NULL);
    CREATE TABLE raw_logs (
        block_number BIGINT NOT NULL, log_index BIGINT NOT NULL, block_hash TEXT NOT NULL,
        tx_hash TEXT NOT NULL, address TEXT NOT NULL, topics TEXT NOT NULL, data TEXT NOT NULL,
        PRIMARY KEY (block_number, log_index));
    CREATE TABLE events (
        block_number BIGINT NOT NULL, log_index BIGINT NOT NULL, block_time BIGINT NOT NULL,
        contract TEXT NOT NULL, pool TEXT NOT NULL, name TEXT NOT NULL, args TEXT NOT NULL,
        PRIMARY KEY (block_number, log_index));
    CREATE INDEX events_name ON events (name, block_number);
    CREATE TABLE pool_states (
        pool TEXT NOT NULL, block_number BIGINT NOT NULL, log_index BIGINT NOT NULL,
        block_time BIGINT NOT NULL, data TEXT NOT NULL,
        PRIMARY KEY (pool, block_number, log_index));
    CREATE TABLE rates (
        pool TEXT NOT NULL, block_number BIGINT NOT NULL, log_index BIGINT NOT NULL,
        block_time BIGINT NOT NULL, ref_slot BIGINT NOT NULL, total_pooled TEXT NOT NULL,
        total_shares TEXT NOT NULL, rate_e27 TEXT NOT NULL,
        PRIMARY KEY (pool, block_number, log_index));
    CREATE TABLE reports (
        pool TEXT NOT NULL, block_number BIGINT NOT NULL, log_index BIGINT NOT NULL,
        block_time BIGINT NOT NULL, ref_slot BIGINT NOT NULL, data TEXT NOT NULL,
        PRIMARY KEY (pool, block_number, log_index));
    CREATE TABLE positions (
        pool TEXT NOT NULL, account TEXT NOT NULL, block_number BIGINT NOT NULL,
        log_index BIGINT NOT NULL, shares TEXT NOT NULL,
        PRIMARY KEY (pool, account, block_number, log_index));
    CREATE TABLE tickets (
        pool TEXT NOT NULL, request_id BIGINT NOT NULL, block_number BIGINT NOT NULL,
        log_index BIGINT NOT NULL, owner TEXT NOT NULL, data TEXT NOT NULL,
        PRIMARY KEY (pool, request_id, block_number, log_index));
    CREATE INDEX tickets_owner ON tickets (pool, owner);
    CREATE TABLE operators (
        operator_id BIGINT NOT NULL, block_number BIGINT NOT NULL, log_index BIGINT NOT NULL,
        data TEXT NOT NULL, PRIMARY KEY (operator_id, block_number, log_index));
    CREATE TABLE operator_notices (
        operator_id BIGINT NOT NULL, block_number BIGINT NOT NULL, log_index BIGINT NOT NULL,
        block_time BIGINT NOT NULL, kind TEXT NOT NULL, data TEXT NOT NULL,
        PRIMARY KEY (operator_id, block_number, log_index));
    CREATE TABLE webhooks (
        id BIGINT PRIMARY KEY, operator_id BIGINT NOT NULL, url TEXT NOT NULL,
        secret TEXT NOT NULL, created_at BIGINT NOT NULL);
    CREATE TABLE webhook_deliveries (
        webhook_id BIGINT NOT NULL, notice_key TEXT NOT NULL, attempt BIGINT NOT NULL,
        status TEXT NOT NULL, at BIGINT NOT NULL,
        PRIMARY KEY (webhook_id, notice_key, attempt));
    ",
    ),
    (
        2,
        "
    ALTER TABLE operators ADD COLUMN pool TEXT NOT NULL DEFAULT 'public';
    ALTER TABLE operator_notices ADD COLUMN pool TEXT NOT NULL DEFAULT 'public';
    ALTER TABLE webhooks ADD COLUMN pool TEXT NOT NULL DEFAULT 'public';
    CREATE INDEX operators_pool ON operators (pool, operator_id);
    CREATE INDEX operator_notices_pool ON operator_notices (pool, operator_id);
    ",
    ),
    (
        3,
        "
    CREATE TABLE report_parts (
        pool TEXT NOT NULL, block_number BIGINT NOT NULL, log_index BIGINT NOT NULL,
        block_time BIGINT NOT NULL, tx_hash TEXT NOT NULL, ref_slot BIGINT NOT NULL,
        kind TEXT NOT NULL, data TEXT NOT NULL,
        PRIMARY KEY (pool, block_number, log_index));
    CREATE INDEX report_parts_slot ON report_parts (pool, ref_slot, block_number);
    CREATE TABLE exit_requests (
        pool TEXT NOT NULL, operator_id BIGINT NOT NULL, key_index BIGINT NOT NULL,
        block_number BIGINT NOT NULL, log_index BIGINT NOT NULL, block_time BIGINT NOT NULL,
        tx_hash TEXT NOT NULL, ref_slot BIGINT NOT NULL, kind TEXT NOT NULL,
        deadline BIGINT NOT NULL, data TEXT NOT NULL,
        PRIMARY KEY (pool, block_number, log_index));
    CREATE INDEX exit_requests_operator ON exit_requests (pool, operator_id, block_number);
    CREATE TABLE losses (
        pool TEXT NOT NULL, operator_id BIGINT NOT NULL, block_number BIGINT NOT NULL,
        log_index BIGINT NOT NULL, block_time BIGINT NOT NULL, tx_hash TEXT NOT NULL,
        ref_slot BIGINT NOT NULL, cause TEXT NOT NULL, data TEXT NOT NULL,
        PRIMARY KEY (pool, block_number, log_index));
    CREATE INDEX losses_operator ON losses (pool, operator_id, block_number);
    CREATE INDEX losses_tx ON losses (tx_hash);
    CREATE TABLE rewards (
        pool TEXT NOT NULL, block_number BIGINT NOT NULL, log_index BIGINT NOT NULL,
        block_time BIGINT NOT NULL, tx_hash TEXT NOT NULL, kind TEXT NOT NULL,
        account TEXT NOT NULL, data TEXT NOT NULL,
        PRIMARY KEY (pool, block_number, log_index));
    CREATE INDEX rewards_account ON rewards (pool, account, block_number);
    CREATE TABLE parameters (
        pool TEXT NOT NULL, contract TEXT NOT NULL, address TEXT NOT NULL, name TEXT NOT NULL,
        block_number BIGINT NOT NULL, log_index BIGINT NOT NULL, block_time BIGINT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (pool, address, name, block_number, log_index));
    CREATE INDEX parameters_name ON parameters (pool, contract, name, block_number);
    CREATE TABLE pool_events (
        pool TEXT NOT NULL, block_number BIGINT NOT NULL, log_index BIGINT NOT NULL,
        block_time BIGINT NOT NULL, tx_hash TEXT NOT NULL, contract TEXT NOT NULL,
        address TEXT NOT NULL, kind TEXT NOT NULL, data TEXT NOT NULL,
        PRIMARY KEY (pool, block_number, log_index));
    CREATE INDEX pool_events_kind ON pool_events (pool, kind, block_number);
    ",
    ),
];

/// Tables whose rows belong to a block and are deleted on a rollback past it.
pub const BLOCK_TABLES: &[&str] = &[
    "blocks",
    "raw_logs",
    "events",
    "pool_states",
    "rates",
    "reports",
    "positions",
    "tickets",
    "operators",
    "operator_notices",
    "report_parts",
    "exit_requests",
    "losses",
    "rewards",
    "parameters",
    "pool_events",
];

/// Applies the migrations not yet applied, each in its own transaction.
pub fn migrate(db: &mut dyn Db) -> Result<i64, DbError> {
    db.batch("CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)")?;
    let rows = db.query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", &[])?;
    let current = rows.first().and_then(|r| r.first()).and_then(Val::int).unwrap_or(0);
    let mut last = current;
    for (version, sql) in MIGRATIONS {
        if *version <= current {
            continue;
        }
        db.batch("BEGIN")?;
        let applied = db.batch(sql).and_then(|()| {
            db.exec(
                "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
                &[Val::Int(*version), Val::Int(unix_now())],
            )
        });
        match applied {
            Ok(_) => db.batch("COMMIT")?,
            Err(e) => {
                db.batch("ROLLBACK")?;
                return Err(e);
            }
        }
        last = *version;
    }
    Ok(last)
}

/// Seconds since the Unix epoch (0 if the clock is before it).
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_apply_once_and_reach_the_latest_schema() {
        let mut db = SqliteDb::memory().unwrap();
        let latest = MIGRATIONS.last().map(|(v, _)| *v).unwrap();
        assert_eq!(migrate(&mut db).unwrap(), latest);
        assert_eq!(migrate(&mut db).unwrap(), latest, "second run is a no-op");
        db.exec("INSERT INTO operators (pool, operator_id, block_number, log_index, data) VALUES ('kyc', 1, 1, 0, '{}')", &[]).unwrap();
        let rows = db.query("SELECT pool FROM operators", &[]).unwrap();
        assert_eq!(rows, vec![vec![Val::Text("kyc".into())]]);
    }

    #[test]
    fn placeholders_are_positional_on_sqlite() {
        let mut db = SqliteDb::memory().unwrap();
        let rows = db.query("SELECT $2, $1", &[Val::Int(1), Val::from("two")]).unwrap();
        assert_eq!(rows, vec![vec![Val::Text("two".into()), Val::Int(1)]]);
    }
}
