//! A database of its own on PostgreSQL for each test app: the server at
//! `KASSE_TEST_POSTGRES_URL`, else postgres://postgres@127.0.0.1:5432.
//! `make test` starts one when none answers; a test never skips silently.

use std::str::FromStr;
use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{ConnectOptions, Connection, Executor, Row};
use tokio::sync::OnceCell;

pub fn server_url() -> String {
    std::env::var("KASSE_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_string())
}

/// The test apps' database: PostgreSQL when `KASSE_TEST_STORE=postgres`.
pub fn wanted() -> bool {
    std::env::var("KASSE_TEST_STORE").is_ok_and(|s| s == "postgres")
}

async fn admin_at(url: &str) -> PgConnection {
    let options = PgConnectOptions::from_str(url)
        .unwrap_or_else(|e| panic!("KASSE_TEST_POSTGRES_URL {url:?} is not a PostgreSQL URL: {e}"))
        .database("postgres")
        .disable_statement_logging();
    options.connect().await.unwrap_or_else(|e| {
        panic!(
            "PostgreSQL does not answer at {url}: {e}\n\
             `make test` starts one from Debian's packages; or set KASSE_TEST_POSTGRES_URL"
        )
    })
}

/// Drops the databases of test runs whose process has ended.
async fn clean_up_after_earlier_runs(admin: &mut PgConnection) {
    let rows = admin
        .fetch_all("SELECT datname FROM pg_database WHERE datname LIKE 'kasse_t%'")
        .await
        .unwrap();
    for row in rows {
        let name: String = row.get(0);
        let pid = name
            .strip_prefix("kasse_t")
            .and_then(|rest| rest.split('_').next())
            .and_then(|pid| pid.parse::<u32>().ok());
        let Some(pid) = pid else { continue };
        if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
            let _ = admin
                .execute(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)").as_str())
                .await;
        }
    }
}

/// A new, empty database on the test server, and its URL.
pub async fn fresh_database() -> String {
    fresh_database_at(&server_url()).await
}

/// Drops a database `fresh_database` made, if it is still there.
pub async fn drop_database(url: &str) {
    let Ok(parsed) = reqwest::Url::parse(url) else {
        return;
    };
    let name = parsed.path().trim_start_matches('/').to_string();
    let mut server = parsed.clone();
    server.set_path("");
    let mut admin = admin_at(server.as_str()).await;
    let _ = admin
        .execute(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)").as_str())
        .await;
}

/// A new, empty database on the PostgreSQL server at `server`, and its URL.
pub async fn fresh_database_at(server: &str) -> String {
    static CLEANED: OnceCell<()> = OnceCell::const_new();
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let mut admin = admin_at(server).await;
    CLEANED
        .get_or_init(|| async {
            clean_up_after_earlier_runs(&mut admin).await;
        })
        .await;
    let name = format!(
        "kasse_t{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    admin
        .execute(format!("CREATE DATABASE \"{name}\"").as_str())
        .await
        .unwrap();
    admin.close().await.unwrap();
    let mut url = reqwest::Url::parse(server).unwrap();
    url.set_path(&format!("/{name}"));
    url.to_string()
}
