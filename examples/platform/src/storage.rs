//! Opening the storage backends named by the configuration: the database (SQLite file
//! or Postgres), the object store (local files or S3) and the queue (the database or
//! RabbitMQ).

use std::sync::Arc;

use baas_core::{Error, ErrorKind, MasterKey, SharedClock};
use baas_queue::Queue;
use baas_queue::amqp::{AmqpConfig, AmqpQueue};
use baas_queue::sql::SqlQueue;
use baas_store::Database;
use baas_store::blob::{BlobLedger, BlobLimits, ObjectBlobStore, SqlBlobLedger, UrlSigner};

use crate::config::Config;

/// Open the database of `config.database_url` and run the framework's migrations.
pub async fn open_database(config: &Config) -> Result<Database, Error> {
    if let Some(path) = sqlite_file(&config.database_url)
        && let Some(dir) = std::path::Path::new(path).parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir).map_err(|e| {
            Error::new(
                ErrorKind::Unavailable,
                "cannot create the database directory",
            )
            .with_source(e)
        })?;
    }
    let db = Database::connect(&config.database_url).await?;
    db.migrate().await?;
    Ok(db)
}

/// The file path of a `sqlite://` URL, if it names one.
fn sqlite_file(url: &str) -> Option<&str> {
    let rest = url.strip_prefix("sqlite://")?;
    let path = rest.split('?').next().unwrap_or(rest);
    (!path.is_empty() && path != ":memory:").then_some(path)
}

/// Open the object store of `config.object_store_url` (`file://<dir>` or
/// `s3://<bucket>` with the `AWS_*` variables), with its ledger in `db`.
pub fn open_blobs(
    config: &Config,
    db: &Database,
    master_key: &MasterKey,
    clock: SharedClock,
) -> Result<ObjectBlobStore, Error> {
    let ledger: Arc<dyn BlobLedger> = Arc::new(SqlBlobLedger::for_database(db));
    let signer = UrlSigner::new(master_key, clock);
    let limits = BlobLimits {
        max_object_bytes: config.max_object_bytes,
        tenant_quota_bytes: config.tenant_quota_bytes,
    };
    let url = config.object_store_url.as_str();
    let store = if let Some(dir) = url.strip_prefix("file://") {
        ObjectBlobStore::local(dir, ledger, signer)?
    } else if let Some(bucket) = url.strip_prefix("s3://") {
        let bucket = bucket.trim_end_matches('/');
        let s3 = object_store::aws::AmazonS3Builder::from_env()
            .with_bucket_name(bucket)
            .build()
            .map_err(|e| {
                Error::new(
                    ErrorKind::Unavailable,
                    "cannot configure the S3 object store",
                )
                .with_source(e)
            })?;
        ObjectBlobStore::s3(s3, ledger, signer)
    } else {
        return Err(Error::new(
            ErrorKind::Invalid,
            "BAAS_OBJECT_STORE_URL must start with file:// or s3://",
        ));
    };
    Ok(store
        .with_limits(limits)
        .with_cache(config.blob_cache_bytes))
}

/// The queue the configuration picked.
#[derive(Debug, Clone)]
pub struct OpenedQueue {
    /// The queue, whatever its backend.
    pub queue: Arc<dyn Queue>,
    /// The same queue when it is the SQL one in the database (its clone shares the
    /// wake-ups): for enqueueing inside a database transaction and sweeping its dedupe
    /// keys. `None` on RabbitMQ.
    pub sql: Option<SqlQueue>,
}

/// The queue of `BAAS_QUEUE_URL`: RabbitMQ for `amqp://…` (stats through
/// `BAAS_AMQP_MANAGEMENT_URL` when set), else the SQL queue in the database.
pub async fn open_queue(config: &Config, db: &Database) -> Result<OpenedQueue, Error> {
    match config.queue_url.as_deref() {
        Some(url) if url.starts_with("amqp://") || url.starts_with("amqps://") => {
            let mut amqp = AmqpConfig::new(url);
            if let Some(management) = &config.amqp_management_url {
                amqp = amqp.with_management_url(management.clone());
            }
            if let Some(prefix) = &config.amqp_prefix {
                amqp = amqp.with_prefix(prefix.clone());
            }
            Ok(OpenedQueue {
                queue: Arc::new(AmqpQueue::connect(amqp).await?),
                sql: None,
            })
        }
        Some(url) => Err(Error::invalid(format!(
            "BAAS_QUEUE_URL: {} is neither amqp:// nor amqps://",
            url.split(':').next().unwrap_or("")
        ))),
        None => {
            let queue = SqlQueue::new(db.clone());
            queue.migrate().await?;
            Ok(OpenedQueue {
                queue: Arc::new(queue.clone()),
                sql: Some(queue),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::sqlite_file;

    #[test]
    fn sqlite_paths_are_found() {
        assert_eq!(
            sqlite_file("sqlite://./data/baas.db?mode=rwc"),
            Some("./data/baas.db")
        );
        assert_eq!(sqlite_file("sqlite::memory:"), None);
        assert_eq!(sqlite_file("postgres://localhost/db"), None);
    }
}
