//! The warroom's SQLite database: opening it (WAL, busy timeout), its schema as a list of migrations
//! versioned by `PRAGMA user_version`, and the one way changes are made (a `BEGIN IMMEDIATE` transaction).
//!
//! `BEGIN IMMEDIATE` takes the database's write lock when the transaction starts, not at its first write:
//! two processes that both read "no open incident with this key, the next number is 7" cannot both go on to
//! insert it; the second waits (up to the busy timeout) and then reads what the first committed. The partial
//! unique index on active dedup keys is the second line of that defence.

use super::{werr, DB_FILE};
use crate::{Error, Result};
use rusqlite::{Connection, Transaction, TransactionBehavior};
use std::path::Path;
use std::time::Duration;

/// How long a change waits for another process's transaction before it fails.
pub(crate) const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// The schema, one migration per version: the database at `user_version = n` has had the first `n` applied.
/// Never edit a migration that shipped; append one.
pub(crate) const MIGRATIONS: &[&str] = &[
    // 1: incidents, their timelines, rollbacks.
    "CREATE TABLE incidents (
        n INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        dedup_key TEXT NOT NULL,
        profile TEXT,
        status TEXT NOT NULL,
        opened_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        data TEXT NOT NULL
    );
    CREATE UNIQUE INDEX incidents_active_key ON incidents(dedup_key) WHERE status != 'resolved';
    CREATE INDEX incidents_profile ON incidents(profile, status);
    CREATE TABLE events (
        incident INTEGER NOT NULL REFERENCES incidents(n),
        seq INTEGER NOT NULL,
        who TEXT NOT NULL,
        at TEXT NOT NULL,
        what TEXT NOT NULL,
        data TEXT NOT NULL,
        PRIMARY KEY (incident, seq)
    );
    CREATE TABLE rollbacks (
        n INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        who TEXT NOT NULL,
        case_id TEXT NOT NULL,
        source_run TEXT NOT NULL,
        from_digest TEXT,
        to_digest TEXT NOT NULL,
        incident TEXT,
        data TEXT NOT NULL
    );
    CREATE INDEX rollbacks_incident ON rollbacks(incident);",
];

/// A database error as a `Warroom` error naming the file.
pub(crate) fn sql(e: rusqlite::Error, db: &Path) -> Error {
    werr(format!("warroom database: {e}")).with_file(db)
}

/// Open (and create, and migrate) `<dir>/warroom.db`.
pub(crate) fn open(dir: &Path) -> Result<Connection> {
    std::fs::create_dir_all(dir).map_err(|e| Error::write(&e, dir))?;
    let path = dir.join(DB_FILE);
    let mut conn = Connection::open(&path).map_err(|e| sql(e, &path))?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(|e| sql(e, &path))?;
    // Switching a new database to WAL takes an exclusive lock, and SQLite answers SQLITE_BUSY at once (the
    // busy handler is not called) when another connection is opening the same new file: retry within the
    // busy timeout, as the busy handler would.
    let deadline = std::time::Instant::now() + BUSY_TIMEOUT;
    let mode: String = loop {
        match conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0)) {
            Err(rusqlite::Error::SqliteFailure(f, _))
                if f.code == rusqlite::ErrorCode::DatabaseBusy && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            r => break r.map_err(|e| sql(e, &path))?,
        }
    };
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(werr(format!("warroom database: cannot use WAL mode (the journal is {mode})")).with_file(&path));
    }
    // FULL: a committed change survives a power cut, not only a crash of the process.
    conn.execute_batch("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;")
        .map_err(|e| sql(e, &path))?;
    immediate(&mut conn, &path, |tx| migrate(tx, &path))?;
    Ok(conn)
}

/// Bring the schema to this build's version, inside the caller's transaction (two processes opening a new
/// warroom at once: the second sees the first's schema).
fn migrate(tx: &Transaction<'_>, path: &Path) -> Result<()> {
    let version: i64 = tx
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(|e| sql(e, path))?;
    let known = MIGRATIONS.len() as i64;
    if version > known {
        return Err(werr(format!(
            "warroom database schema version {version} is newer than this build's ({known}): upgrade toron"
        ))
        .with_file(path));
    }
    for (i, m) in MIGRATIONS.iter().enumerate().skip(version.max(0) as usize) {
        tx.execute_batch(m).map_err(|e| sql(e, path))?;
        tx.execute_batch(&format!("PRAGMA user_version = {}", i + 1))
            .map_err(|e| sql(e, path))?;
    }
    Ok(())
}

/// Run `f` in a `BEGIN IMMEDIATE` transaction, committed when it returns `Ok` and rolled back otherwise.
pub(crate) fn immediate<T>(
    conn: &mut Connection,
    path: &Path,
    f: impl FnOnce(&Transaction<'_>) -> Result<T>,
) -> Result<T> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(|e| sql(e, path))?;
    let out = f(&tx)?;
    tx.commit().map_err(|e| sql(e, path))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_database_gets_every_migration_and_reopens() {
        let dir = tempfile::tempdir().unwrap();
        let c = open(dir.path()).unwrap();
        let v: i64 = c.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
        assert_eq!(v, MIGRATIONS.len() as i64);
        let mode: String = c.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
        assert_eq!(mode, "wal");
        drop(c);
        let c = open(dir.path()).unwrap();
        let ok: String = c.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
        assert_eq!(ok, "ok");
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let c = open(dir.path()).unwrap();
        c.execute_batch("PRAGMA user_version = 99").unwrap();
        drop(c);
        let e = open(dir.path()).unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::Warroom);
        assert!(e.to_string().contains("schema version 99 is newer"), "{e}");
    }
}
