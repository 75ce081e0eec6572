//! The SQL backends on SQLite (a temporary file) run their whole suites.

use baas_core::ManualClock;
use baas_core::testing::idempotency_store_suite;
use baas_store::audit::SqlAuditLog;
use baas_store::documents::SqlDocumentStore;
use baas_store::idempotency::SqlIdempotencyStore;
use baas_store::testing::{audit_log_suite, document_store_suite, outbox_suite};
use baas_store::{Database, DatabaseOptions, Engine};

async fn database(dir: &tempfile::TempDir) -> Database {
    // A directory that does not exist yet: opening makes it and the file.
    let path = dir.path().join("data/nested/baas.db");
    let db = Database::connect_with(DatabaseOptions::new(format!("sqlite://{}", path.display())))
        .await
        .expect("open SQLite");
    assert_eq!(db.engine(), Engine::Sqlite);
    db.migrate().await.expect("migrate");
    assert!(path.is_file(), "the database file was made");
    db
}

#[tokio::test]
async fn sqlite_documents_pass_the_suite() {
    let dir = tempfile::tempdir().unwrap();
    document_store_suite(&SqlDocumentStore::new(database(&dir).await)).await;
}

#[tokio::test]
async fn sqlite_audit_log_passes_the_suite() {
    let dir = tempfile::tempdir().unwrap();
    let log = SqlAuditLog::new(database(&dir).await);
    audit_log_suite(&log, &log).await;
}

#[tokio::test]
async fn sqlite_idempotency_store_passes_the_suite() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new();
    let store = SqlIdempotencyStore::with_clock(database(&dir).await, clock.shared());
    idempotency_store_suite(&store, &|d| clock.advance(d)).await;
}

#[tokio::test]
async fn sqlite_outbox_passes_the_suite() {
    let dir = tempfile::tempdir().unwrap();
    outbox_suite(&database(&dir).await).await;
}

#[tokio::test]
async fn sqlite_migrations_are_idempotent_and_health_answers() {
    use baas_core::HealthCheck;
    let dir = tempfile::tempdir().unwrap();
    let db = database(&dir).await;
    db.migrate().await.expect("migrate again");
    // A second process opening the same file migrates nothing new.
    let again = Database::connect(&format!(
        "sqlite://{}",
        dir.path().join("data/nested/baas.db").display()
    ))
    .await
    .expect("reopen");
    again.migrate().await.expect("migrate from another pool");
    db.check().await.expect("health");
    assert_eq!(db.name(), "database");
}

#[tokio::test]
async fn sqlite_pragmas_are_set() {
    use sea_orm::{ConnectionTrait, Statement};
    let dir = tempfile::tempdir().unwrap();
    let db = database(&dir).await;
    let conn = db.connection();
    let pragma = |name: &'static str| {
        let stmt = Statement::from_string(conn.get_database_backend(), format!("PRAGMA {name}"));
        async move {
            let row = conn.query_one_raw(stmt).await.unwrap().unwrap();
            row.try_get_by_index::<String>(0)
                .or_else(|_| row.try_get_by_index::<i64>(0).map(|n| n.to_string()))
                .unwrap()
        }
    };
    assert_eq!(pragma("journal_mode").await, "wal");
    assert_eq!(pragma("foreign_keys").await, "1");
    assert_eq!(pragma("synchronous").await, "1", "NORMAL by default");
    assert_eq!(pragma("busy_timeout").await, "5000");
}

mod app {
    //! An application's own migration, run beside the framework's.
    use sea_orm_migration::prelude::*;

    #[derive(DeriveIden)]
    enum Widgets {
        Table,
        Id,
    }

    #[derive(DeriveMigrationName)]
    struct M20260201CreateWidgets;

    #[allow(elided_lifetimes_in_paths)]
    #[async_trait::async_trait]
    impl MigrationTrait for M20260201CreateWidgets {
        async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            manager
                .create_table(
                    Table::create()
                        .table(Widgets::Table)
                        .col(ColumnDef::new(Widgets::Id).integer().primary_key())
                        .to_owned(),
                )
                .await
        }
    }

    pub(crate) struct AppMigrator;

    impl MigratorTrait for AppMigrator {
        fn migrations() -> Vec<Box<dyn MigrationTrait>> {
            vec![Box::new(M20260201CreateWidgets)]
        }
    }
}

#[tokio::test]
async fn application_migrations_run_beside_the_frameworks() {
    use sea_orm::ConnectionTrait;
    let dir = tempfile::tempdir().unwrap();
    let db = database(&dir).await;
    db.migrate_with::<app::AppMigrator>()
        .await
        .expect("migrate with app");
    db.migrate_with::<app::AppMigrator>()
        .await
        .expect("again: idempotent");
    db.connection()
        .execute_unprepared("INSERT INTO widgets (id) VALUES (1)")
        .await
        .expect("the application's table exists");
}
