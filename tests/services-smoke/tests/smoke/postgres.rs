//! PostgreSQL through sea-orm.

use baas_core::testing::{service, unique_name};
use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};

#[tokio::test]
async fn postgres_round_trip_through_sea_orm() {
    super::install_crypto_provider();
    let Some(url) = service("BAAS_TEST_POSTGRES_URL") else {
        return;
    };
    let db = Database::connect(url.as_str())
        .await
        .expect("connect to postgres");

    // A schema of its own, so parallel tests never meet.
    let schema = unique_name("smoke");
    db.execute_unprepared(&format!("CREATE SCHEMA {schema}"))
        .await
        .expect("create schema");
    db.execute_unprepared(&format!(
        "CREATE TABLE {schema}.notes (id integer PRIMARY KEY, body text NOT NULL)"
    ))
    .await
    .expect("create table");

    let inserted = db
        .execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            format!("INSERT INTO {schema}.notes (id, body) VALUES ($1, $2)"),
            [1.into(), "hello postgres".into()],
        ))
        .await
        .expect("insert");
    assert_eq!(inserted.rows_affected(), 1);

    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            format!(
                "SELECT body, current_setting('server_version_num')::integer AS version \
                 FROM {schema}.notes WHERE id = $1"
            ),
            [1.into()],
        ))
        .await
        .expect("select")
        .expect("the inserted row");
    assert_eq!(
        row.try_get::<String>("", "body").expect("body"),
        "hello postgres"
    );
    let version: i32 = row.try_get("", "version").expect("version");
    assert!(
        version >= 150_000,
        "expected PostgreSQL 15 or later, got {version}"
    );

    let missing = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            format!("SELECT body FROM {schema}.notes WHERE id = $1"),
            [2.into()],
        ))
        .await
        .expect("select missing");
    assert!(missing.is_none(), "no row 2 was inserted");

    db.execute_unprepared(&format!("DROP SCHEMA {schema} CASCADE"))
        .await
        .expect("drop schema");
    db.close().await.expect("close");
}
