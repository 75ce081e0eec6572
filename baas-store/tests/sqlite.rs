//! The SQL backends on SQLite (a temporary file) run their whole suites.

use baas_core::ManualClock;
use baas_core::testing::idempotency_store_suite;
use baas_store::audit::SqlAuditLog;
use baas_store::documents::SqlDocumentStore;
use baas_store::idempotency::SqlIdempotencyStore;
use baas_store::testing::{
    audit_log_suite, document_store_suite, outbox_suite, write_script_suite,
};
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
async fn sqlite_write_scripts_pass_the_suite() {
    let dir = tempfile::tempdir().unwrap();
    write_script_suite(&database(&dir).await).await;
}

#[tokio::test]
async fn sqlite_reads_see_every_commit_and_serve_more_readers_than_connections() {
    use baas_store::sea_orm::{ConnectionTrait, Statement};
    let dir = tempfile::tempdir().unwrap();
    let db = database(&dir).await;
    let backend = db.reads().get_database_backend();
    db.connection()
        .execute_unprepared("CREATE TABLE r (x INTEGER)")
        .await
        .unwrap();
    let count = || async {
        db.reads()
            .query_one_raw(Statement::from_string(
                backend,
                "SELECT COUNT(*) AS n FROM r",
            ))
            .await
            .unwrap()
            .unwrap()
            .try_get::<i64>("", "n")
            .unwrap()
    };
    for n in 1..=3 {
        // Written on the writer, read at once on a held connection.
        db.write_script(&[Statement::from_string(backend, "INSERT INTO r VALUES (1)")])
            .await
            .unwrap();
        assert_eq!(count().await, n);
    }
    // Four times as many concurrent reads as held connections: each waits its turn.
    let all = futures::future::join_all((0..16).map(|_| count())).await;
    assert_eq!(all, vec![3; 16]);
    // A read that fails (no such table) leaves the connection usable.
    assert!(
        db.reads()
            .query_all_raw(Statement::from_string(backend, "SELECT * FROM missing"))
            .await
            .is_err()
    );
    assert_eq!(count().await, 3);
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

#[tokio::test]
async fn sqlite_file_pools_are_four_for_statements_and_one_for_write_transactions() {
    let dir = tempfile::tempdir().unwrap();
    let db = database(&dir).await;
    let size = |c: &sea_orm::DatabaseConnection| {
        c.get_sqlite_connection_pool()
            .options()
            .get_max_connections()
    };
    assert_eq!(
        size(db.connection()),
        baas_store::SQLITE_DEFAULT_MAX_CONNECTIONS
    );
    assert_eq!(
        size(db.write_connection()),
        1,
        "write transactions take turns"
    );

    let chosen = Database::connect_with(
        DatabaseOptions::new(format!("sqlite://{}", dir.path().join("b.db").display()))
            .max_connections(2),
    )
    .await
    .unwrap();
    assert_eq!(size(chosen.connection()), 2, "the option wins");
    assert_eq!(size(chosen.write_connection()), 1);

    let memory = Database::connect("sqlite::memory:").await.unwrap();
    assert_eq!(
        size(memory.connection()),
        1,
        "each :memory: connection is its own database"
    );
    assert_eq!(size(memory.write_connection()), 1);
}

/// A write transaction that reads before it writes commits even while single-statement
/// writers on the other pool commit between its read and its write. Begun `DEFERRED`,
/// SQLite would refuse its first write (`SQLITE_BUSY`: its read snapshot is stale).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_write_transactions_that_read_first_commit_beside_other_writers() {
    use sea_orm::{ConnectionTrait, Statement};
    let dir = tempfile::tempdir().unwrap();
    let db = database(&dir).await;
    let sql = |q: &str| Statement::from_string(sea_orm::DbBackend::Sqlite, q.to_owned());
    db.connection()
        .execute_raw(sql("CREATE TABLE counters (n INTEGER NOT NULL)"))
        .await
        .unwrap();
    let writers: Vec<_> = (0..3)
        .map(|_| {
            let db = db.clone();
            tokio::spawn(async move {
                for _ in 0..200 {
                    db.connection()
                        .execute_raw(sql("INSERT INTO counters (n) VALUES (1)"))
                        .await
                        .expect("a single-statement write");
                }
            })
        })
        .collect();
    for _ in 0..200 {
        let tx = db.begin_write().await.expect("begin");
        let row = tx
            .query_one_raw(sql("SELECT count(*) FROM counters"))
            .await
            .expect("read")
            .expect("a row");
        let count: i64 = row.try_get_by_index(0).unwrap();
        tokio::task::yield_now().await;
        tx.execute_raw(sql(&format!(
            "INSERT INTO counters (n) VALUES ({})",
            count + 1
        )))
        .await
        .expect("the write after the read");
        tx.commit().await.expect("commit");
    }
    for writer in writers {
        writer.await.unwrap();
    }
    let total = db
        .connection()
        .query_one_raw(sql("SELECT count(*) FROM counters"))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index::<i64>(0)
        .unwrap();
    assert_eq!(total, 800);
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
