//! The SQLite and PostgreSQL migrations end in the same schema: the same
//! tables with the same columns, so that one store serves both.

use std::collections::BTreeSet;

use kasse_server::secrets::ServerSecret;
use sqlx::Row;

/// (table, column) for every column of Kasse's tables.
async fn columns(url: &str) -> BTreeSet<(String, String)> {
    kasse_server::store::connect(url, &ServerSecret::new(b"schema".to_vec()))
        .await
        .unwrap();
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(url).await.unwrap();
    let query = if url.starts_with("postgres") {
        "SELECT table_name::text AS t, column_name::text AS c FROM information_schema.columns
         WHERE table_schema = 'public' AND table_name NOT LIKE '\\_sqlx%'"
    } else {
        "SELECT m.name AS t, p.name AS c FROM sqlite_master AS m, pragma_table_info(m.name) AS p
         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\'
           AND m.name NOT LIKE '\\_sqlx%' ESCAPE '\\'"
    };
    let rows = sqlx::query(query).fetch_all(&pool).await.unwrap();
    pool.close().await;
    rows.iter()
        .map(|r| (r.get::<String, _>("t"), r.get::<String, _>("c")))
        // SQLite gives every table a `rowid` of its own; PostgreSQL's
        // tables that are read in insertion order declare one.
        .filter(|(_, c)| c != "rowid")
        .collect()
}

#[tokio::test]
async fn sqlite_and_postgres_end_in_the_same_tables_and_columns() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = columns(&format!("sqlite://{}", dir.path().join("k.db").display())).await;
    let postgres = columns(&crate::postgres::fresh_database().await).await;
    assert!(sqlite.contains(&("payments".into(), "card_fingerprint".into())));
    let only_sqlite: Vec<_> = sqlite.difference(&postgres).collect();
    let only_postgres: Vec<_> = postgres.difference(&sqlite).collect();
    assert!(
        only_sqlite.is_empty() && only_postgres.is_empty(),
        "only in SQLite: {only_sqlite:?}; only in PostgreSQL: {only_postgres:?}"
    );
}
