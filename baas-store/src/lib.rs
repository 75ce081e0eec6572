//! # baas-store
//!
//! Data for a baas installation: one way to open a database (SQLite embedded by default,
//! Postgres in production) and migrate it, tenant-scoped JSON documents, the SQL
//! idempotency store, a tamper-evident audit log and the transactional outbox seam.
//!
//! | capability | trait | backends |
//! |---|---|---|
//! | documents | [`DocumentStore`] | [`documents::MemoryDocumentStore`], `documents::SqlDocumentStore` |
//! | audit log | [`audit::AuditLog`] | [`audit::MemoryAuditLog`], `audit::SqlAuditLog` |
//! | idempotency | [`core::idempotency::IdempotencyStore`] | baas-core's memory store, `idempotency::SqlIdempotencyStore` |
//! | outbox | `outbox::stage` in a `Tx` | SQL |
//!
//! ## Opening a database
//!
//! ```
//! use baas_store::{Database, DatabaseOptions, Synchronous};
//! use baas_store::documents::{DocumentStore, ListQuery, SqlDocumentStore};
//! use baas_store::core::{HealthCheck, TenantId};
//! use serde_json::json;
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! # let dir = tempfile::tempdir().unwrap();
//! # let url = format!("sqlite://{}/data/baas.db", dir.path().display());
//! // `sqlite://data/baas.db` or `postgres://user:pass@host/db`; the file and its
//! // directory are made when missing.
//! let db = Database::connect_with(DatabaseOptions::new(url).synchronous(Synchronous::Normal)).await?;
//! db.migrate().await?; // idempotent; serialised across processes on Postgres
//! db.check().await?;   // a HealthCheck for /readyz
//!
//! let docs = SqlDocumentStore::new(db.clone());
//! let acme = TenantId::new("acme")?;
//! docs.create(&acme, "orders", json!({"status": "open"})).await?;
//! assert_eq!(docs.list(&acme, "orders", &ListQuery::new()).await?.items.len(), 1);
//! # Ok::<(), baas_store::core::Error>(())
//! # }).unwrap();
//! ```
//!
//! ## Your own entities and migrations
//!
//! The framework keeps its migration history in `baas_migrations`; your migrator keeps
//! its own (sea-orm's default `seaql_migrations`), so neither list names the other's
//! migrations. [`Database::migrate_with`] runs both under one start-up lock, and
//! [`Database::connection`] is a plain sea-orm connection for your entities. The crate
//! re-exports [`sea_orm`] and [`sea_orm_migration`] so the versions match.
//!
//! ```
//! use baas_store::Database;
//! use baas_store::sea_orm::{ConnectionTrait, EntityTrait};
//! use baas_store::sea_orm_migration::prelude::*;
//!
//! // An entity of the application.
//! mod widget {
//!     use baas_store::sea_orm::entity::prelude::*;
//!
//!     #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
//!     #[sea_orm(table_name = "widgets")]
//!     pub struct Model {
//!         #[sea_orm(primary_key)]
//!         pub id: i32,
//!         pub name: String,
//!     }
//!
//!     #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
//!     pub enum Relation {}
//!
//!     impl ActiveModelBehavior for ActiveModel {}
//! }
//!
//! // Its migration.
//! #[derive(DeriveIden)]
//! enum Widgets { Table, Id, Name }
//!
//! #[derive(DeriveMigrationName)]
//! struct M20260201CreateWidgets;
//!
//! #[async_trait::async_trait]
//! impl MigrationTrait for M20260201CreateWidgets {
//!     async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
//!         manager
//!             .create_table(
//!                 Table::create()
//!                     .table(Widgets::Table)
//!                     .col(ColumnDef::new(Widgets::Id).integer().not_null().primary_key())
//!                     .col(ColumnDef::new(Widgets::Name).string().not_null())
//!                     .to_owned(),
//!             )
//!             .await
//!     }
//! }
//!
//! struct AppMigrator;
//!
//! impl MigratorTrait for AppMigrator {
//!     fn migrations() -> Vec<Box<dyn MigrationTrait>> {
//!         vec![Box::new(M20260201CreateWidgets)]
//!     }
//! }
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let db = Database::connect("sqlite::memory:").await?;
//! db.migrate_with::<AppMigrator>().await?; // the framework's tables, then yours
//! db.connection()
//!     .execute_unprepared("INSERT INTO widgets (id, name) VALUES (1, 'sprocket')")
//!     .await
//!     .unwrap();
//! let found = widget::Entity::find_by_id(1).one(db.connection()).await.unwrap();
//! assert_eq!(found.unwrap().name, "sprocket");
//! # Ok::<(), baas_store::core::Error>(())
//! # }).unwrap();
//! ```
//!
//! ## Writes and messages in one transaction
//!
//! [`Database::begin`] gives a [`Tx`]: documents written through [`Tx::documents`] and
//! messages staged with [`outbox::stage`] commit together or not at all; baas-queue's
//! relay publishes the staged rows after commit ([`outbox::Outbox`]).
//!
//! ## Observability
//!
//! Every backend call runs in a `tracing` span and records
//! `baas_store_operation_duration_seconds` (histogram; labels `backend`, `op`,
//! `outcome` = `ok` or the error kind) through the `metrics` facade; blob bytes are
//! counted in `baas_blob_bytes_total` (label `direction`: `in`, `out`). Install a
//! recorder (baas-core's telemetry set-up does) to export them.
//!
//! ## Features
//!
//! | feature | what it adds |
//! |---|---|
//! | `sqlite` (default) | SQLite through sea-orm/sqlx; enables `sql` |
//! | `postgres` | Postgres through sea-orm/sqlx; enables `sql` |
//! | `sql` | [`Database`], migrations, the SQL backends (pick an engine with the two above) |
//! | `testing` | the conformance suites ([`testing`]) |
//! | `http` | axum routes for documents and files, with their OpenAPI description (`http`) |
//!
//! The memory backends are always compiled.
#![cfg_attr(docsrs, feature(doc_cfg))]

pub use baas_core as core;

pub mod audit;
pub mod blob;
pub mod documents;
pub mod group_commit;

#[cfg(feature = "sql")]
mod database;
#[cfg(feature = "http")]
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
pub mod http;
#[cfg(feature = "sql")]
#[cfg_attr(docsrs, doc(cfg(feature = "sql")))]
pub mod idempotency;
#[cfg(feature = "sql")]
#[cfg_attr(docsrs, doc(cfg(feature = "sql")))]
pub mod migrations;
#[cfg(feature = "sql")]
#[cfg_attr(docsrs, doc(cfg(feature = "sql")))]
pub mod outbox;
#[cfg(feature = "sql")]
mod schema;
#[cfg(feature = "sql")]
mod sql_error;

mod telemetry;
mod util;

#[cfg(any(test, feature = "testing"))]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;

#[cfg(feature = "sql")]
#[cfg_attr(docsrs, doc(cfg(feature = "sql")))]
pub use database::{
    Database, DatabaseOptions, Engine, ReadConnection, SQLITE_DEFAULT_MAX_CONNECTIONS, StartupLock,
    Synchronous, Tx,
};
pub use documents::{Document, DocumentStore, DynDocumentStore, Filter, ListQuery, Page};
#[cfg(feature = "sql")]
#[cfg_attr(docsrs, doc(cfg(feature = "sql")))]
pub use {sea_orm, sea_orm_migration};
