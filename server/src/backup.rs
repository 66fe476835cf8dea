//! `kasse backup`: a consistent copy of a SQLite database taken while Kasse
//! serves it (`VACUUM INTO`, a read transaction, so writers go on). The
//! server secret and the vault key stay out of it, by design: a stolen
//! backup without them reveals nothing. PostgreSQL has `pg_dump` for this.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection, Row};

/// What a backup wrote.
#[derive(Debug)]
pub struct Backup {
    pub database: PathBuf,
    pub bytes: u64,
    pub payments: i64,
}

/// The SQLite file a `sqlite://` URL names.
fn sqlite_path(database_url: &str) -> anyhow::Result<PathBuf> {
    let path = database_url
        .strip_prefix("sqlite://")
        .or_else(|| database_url.strip_prefix("sqlite:"))
        .map(|p| p.split('?').next().unwrap_or(p))
        .filter(|p| !p.is_empty() && !p.contains(":memory:"));
    match path {
        Some(path) => Ok(PathBuf::from(path)),
        None if database_url.starts_with("postgres") => anyhow::bail!(
            "kasse backup copies a SQLite database; back PostgreSQL up with pg_dump \
             (pg_dump --format=custom --file kasse.dump \"$KASSE_DATABASE_URL\")"
        ),
        None => anyhow::bail!("{database_url} is not a SQLite file Kasse can back up"),
    }
}

/// Copies the database at `database_url` to `to` (which must not exist),
/// consistently, while Kasse may be writing to it.
pub async fn sqlite(database_url: &str, to: &Path) -> anyhow::Result<Backup> {
    let from = sqlite_path(database_url)?;
    anyhow::ensure!(
        from.is_file(),
        "there is no database at {}: nothing to back up",
        from.display()
    );
    anyhow::ensure!(
        !to.exists(),
        "{} exists already; a backup never overwrites a file: choose another name",
        to.display()
    );
    let to_text = to
        .to_str()
        .context("the backup's path must be valid UTF-8")?;
    let partial = PathBuf::from(format!("{to_text}.partial"));
    let _ = std::fs::remove_file(&partial);
    let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", from.display()))?
        .read_only(true)
        .busy_timeout(Duration::from_secs(30));
    let mut source = options
        .connect()
        .await
        .with_context(|| format!("could not open {}", from.display()))?;
    // One read transaction: the copy is the database as of one moment.
    sqlx::query("VACUUM INTO ?")
        .bind(partial.to_str().expect("UTF-8, as checked"))
        .execute(&mut source)
        .await
        .context("VACUUM INTO failed")?;
    source.close().await?;

    let mut copy = SqliteConnectOptions::from_str(&format!("sqlite://{}", partial.display()))?
        .read_only(true)
        .connect()
        .await?;
    let check: String = sqlx::query("PRAGMA integrity_check")
        .fetch_one(&mut copy)
        .await?
        .try_get(0)?;
    anyhow::ensure!(check == "ok", "the copy fails its integrity check: {check}");
    let payments: i64 = sqlx::query("SELECT count(*) FROM payments")
        .fetch_one(&mut copy)
        .await?
        .try_get(0)?;
    copy.close().await?;
    std::fs::File::open(&partial)?.sync_all()?;
    std::fs::rename(&partial, to)?;

    Ok(Backup {
        database: to.to_path_buf(),
        bytes: std::fs::metadata(to)?.len(),
        payments,
    })
}
