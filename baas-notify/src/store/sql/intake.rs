//! [`SqlIntake`]: the delivery log's rows and the queue's messages in one transaction,
//! with group commit.
//!
//! A call waits in the intake's pending list while a writer task commits the group
//! before it; the writer then takes everything that waits (up to [`MAX_GROUP`]
//! notifications, never splitting a call) and writes it in one transaction: one
//! multi-row `INSERT … ON CONFLICT DO NOTHING RETURNING id` of the notifications, one
//! `SELECT` of the rows that already had an idempotency key, one multi-row `INSERT` of
//! the jobs of the notifications created `queued` — then the commit, and each call is
//! answered with its own rows. So `n` concurrent publishers cost a handful of
//! transactions rather than `n` each of three statements and two commits.
//!
//! The writer runs as its own task, so a call whose caller stops waiting is still
//! written (or not) as a whole with its group. When a group fails for a reason that is
//! not the database being unavailable, each of its calls is written again alone, so
//! one bad call never fails the others.

use std::collections::{BTreeMap, HashMap, HashSet};

use async_trait::async_trait;
use baas_core::{Error, ErrorKind, TenantId};
use baas_queue::NewMessage;
use baas_queue::queue::MAX_BATCH;
use baas_queue::sql::SqlQueue;
use baas_store::group_commit::{GroupCommit, after_group_failure};
use baas_store::sea_orm::sea_query::{Expr, ExprTrait, InsertStatement, OnConflict, Query};
use baas_store::sea_orm::{ConnectionTrait, DatabaseTransaction};
use tracing::Instrument as _;
use uuid::Uuid;

use super::BaasNotifyNotifications as N;
use super::db;
use super::delivery_log::{CHUNK, COLUMNS, notification_row, read, select};
use crate::error::NotifyError;
use crate::intake::{Accept, Intake, job_message, wants_job};
use crate::model::Status;
use crate::store::Inserted;

/// The most notifications one group (one transaction) carries; a single call larger
/// than this is written alone.
pub const MAX_GROUP: usize = 512;

/// The longest locale and idempotency key the notifications table keeps (checked
/// before a call joins a group, so it cannot fail the others).
const MAX_LOCALE: usize = 64;
const MAX_KEY: usize = 255;

/// One call of [`Intake::accept`], waiting for its group.
#[derive(Debug)]
struct Call {
    queue: String,
    batch: Vec<Accept>,
}

/// An [`Intake`] for a [`SqlDeliveryLog`](super::SqlDeliveryLog) and a [`SqlQueue`] on
/// one database: each notification and its job are written in one transaction, and
/// concurrent calls share it (group commit).
///
/// It writes the delivery log's tables in the queue's database
/// ([`SqlQueue::database`]), so the [`SqlDeliveryLog`](super::SqlDeliveryLog) the
/// notifier and the dispatcher read must be on that same database (as it is when both
/// are built from one [`Database`](baas_store::Database)). The jobs carry no dedupe key:
/// the transaction already makes a job exist exactly when its notification was created.
/// Clones share the pending calls and the writer.
///
/// ```
/// use std::sync::Arc;
/// use baas_notify::intake::{Accept, Intake};
/// use baas_notify::store::sql::{Migrator, SqlIntake};
/// use baas_notify::{ChannelKind, Notification, Status};
/// use baas_queue::sql::SqlQueue;
/// use baas_queue::{Queue, Reserve};
/// use baas_notify::core::TenantId;
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let db = baas_store::Database::connect("sqlite::memory:").await?;
/// let queue = SqlQueue::new(db.clone());
/// queue.migrate().await?;
/// db.migrate_with::<Migrator>().await?;
/// let intake = SqlIntake::new(queue.clone());
/// let now = std::time::SystemTime::now();
/// let n = Notification {
///     id: uuid::Uuid::now_v7(), tenant: TenantId::new("acme")?, recipient: "a@example.com".into(),
///     channel: ChannelKind::Email, category: "welcome".into(), template: Some("welcome".into()),
///     locale: "en".into(), data: serde_json::json!({}), idempotency_key: Some("k".into()),
///     status: Status::Queued, attempts: 0, created_at: now, updated_at: now,
/// };
/// let accept = Accept { notification: n, webhook_id: None };
/// assert!(intake.accept("notify", vec![accept.clone()]).await?[0].created);
/// assert!(!intake.accept("notify", vec![accept]).await?[0].created, "one key, one notification");
/// let jobs = queue.reserve("notify", Reserve::new(10, std::time::Duration::from_secs(30))).await?;
/// assert_eq!(jobs.len(), 1, "and one job");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct SqlIntake {
    queue: SqlQueue,
    calls: GroupCommit<Call, Vec<Inserted>>,
}

impl SqlIntake {
    /// An intake writing into `queue`'s database.
    pub fn new(queue: SqlQueue) -> Self {
        SqlIntake {
            queue,
            calls: GroupCommit::new(MAX_GROUP),
        }
    }

    /// Write `group`, one answer per call; on a failure that is not the database's
    /// unavailability, write each call alone, so one bad call never fails the others.
    async fn commit(&self, group: Vec<Call>) -> Vec<Result<Vec<Inserted>, Error>> {
        let span = tracing::debug_span!("baas_notify.intake.group", calls = group.len());
        let written = self.write(&group).instrument(span).await;
        match written {
            Ok(answers) => answers.into_iter().map(Ok).collect(),
            Err(err) => {
                after_group_failure(&group, err, |call| async move {
                    let mut answer = self.write(std::slice::from_ref(call)).await?;
                    Ok(answer.remove(0))
                })
                .await
            }
        }
    }

    /// One transaction for `calls`; one answer per call. First as if every notification
    /// is new, in one write script; when one was not (an idempotency key seen before),
    /// the way that reads what exists.
    async fn write(&self, calls: &[Call]) -> Result<Vec<Vec<Inserted>>, Error> {
        match self.write_all_new(calls).await {
            Err(e) if e.kind() == ErrorKind::Conflict => self.write_reading(calls).await,
            written => written,
        }
    }

    /// `calls` when every notification is new: the notifications' `INSERT`s and the
    /// jobs' in one [`Database::write_script`](baas_store::Database::write_script)
    /// (one round trip on SQLite). `Conflict`, and nothing written, when a notification
    /// (its idempotency key) already exists.
    async fn write_all_new(&self, calls: &[Call]) -> Result<Vec<Vec<Inserted>>, Error> {
        let database = self.queue.database();
        let backend = database.connection().get_database_backend();
        let items: Vec<&Accept> = calls.iter().flat_map(|c| &c.batch).collect();
        let mut script = Vec::new();
        for chunk in items.chunks(CHUNK) {
            script.push(backend.build(&insert_notifications(chunk)?));
        }
        let mut jobs: BTreeMap<&str, Vec<NewMessage>> = BTreeMap::new();
        for call in calls {
            for accept in call
                .batch
                .iter()
                .filter(|a| a.notification.status == Status::Queued)
            {
                jobs.entry(call.queue.as_str())
                    .or_default()
                    .push(job_message(accept, false)?);
            }
        }
        for (queue, chunk) in in_batches(jobs) {
            script.push(backend.build(&self.queue.enqueue_statement(queue, chunk)?));
        }
        database.write_script(&script).await.map_err(db)?;
        self.queue.notify_enqueued();
        Ok(calls
            .iter()
            .map(|call| {
                call.batch
                    .iter()
                    .map(|a| Inserted {
                        notification: a.notification.clone(),
                        created: true,
                    })
                    .collect()
            })
            .collect())
    }

    /// One transaction for `calls` that inserts what is new, reads what existed, and
    /// enqueues the jobs of what it created; one answer per call.
    async fn write_reading(&self, calls: &[Call]) -> Result<Vec<Vec<Inserted>>, Error> {
        let items: Vec<&Accept> = calls.iter().flat_map(|c| &c.batch).collect();
        let tx = self.queue.database().begin_write().await.map_err(db)?;
        let created = insert_new(&tx, &items).await?;
        let existing = read_existing(&tx, &items, &created).await?;
        let mut answers = Vec::with_capacity(calls.len());
        let mut jobs: BTreeMap<&str, Vec<NewMessage>> = BTreeMap::new();
        for call in calls {
            let mut answer = Vec::with_capacity(call.batch.len());
            for accept in &call.batch {
                let n = &accept.notification;
                let inserted = if created.contains(&n.id) {
                    Inserted {
                        notification: n.clone(),
                        created: true,
                    }
                } else {
                    let found = n
                        .idempotency_key
                        .as_deref()
                        .and_then(|key| existing.get(&(n.tenant.as_str(), key)));
                    match found {
                        Some(first) => Inserted {
                            notification: first.clone(),
                            created: false,
                        },
                        None => return Err(Error::new(ErrorKind::Conflict, "already exists")),
                    }
                };
                if wants_job(&inserted) {
                    jobs.entry(call.queue.as_str())
                        .or_default()
                        .push(job_message(accept, false)?);
                }
                answer.push(inserted);
            }
            answers.push(answer);
        }
        for (queue, chunk) in in_batches(jobs) {
            self.queue.enqueue_in(&tx, queue, chunk).await?;
        }
        tx.commit().await.map_err(db)?;
        self.queue.notify_enqueued();
        Ok(answers)
    }
}

/// One multi-row `INSERT` of `chunk`'s notifications.
fn insert_notifications(chunk: &[&Accept]) -> Result<InsertStatement, Error> {
    let mut insert = Query::insert()
        .into_table(N::Table)
        .columns(COLUMNS)
        .to_owned();
    for a in chunk {
        insert.values_panic(notification_row(&a.notification)?);
    }
    Ok(insert)
}

/// Each queue's jobs in batches of at most [`MAX_BATCH`] (one enqueue each).
fn in_batches(
    jobs: BTreeMap<&str, Vec<NewMessage>>,
) -> impl Iterator<Item = (&str, Vec<NewMessage>)> {
    jobs.into_iter().flat_map(|(queue, messages)| {
        let mut messages = messages.into_iter().peekable();
        std::iter::from_fn(move || {
            messages.peek()?;
            Some((queue, messages.by_ref().take(MAX_BATCH).collect()))
        })
    })
}

/// Insert `items`, skipping any whose (tenant, idempotency key) — or id — exists;
/// returns the ids inserted.
async fn insert_new(tx: &DatabaseTransaction, items: &[&Accept]) -> Result<HashSet<Uuid>, Error> {
    let mut created = HashSet::with_capacity(items.len());
    for chunk in items.chunks(CHUNK) {
        let insert = insert_notifications(chunk)?
            .on_conflict(OnConflict::new().do_nothing().to_owned())
            .returning_col(N::Id)
            .to_owned();
        for row in tx.query_all(&insert).await.map_err(db)? {
            let id: String = row.try_get("", "id").map_err(db)?;
            created.insert(
                Uuid::parse_str(&id).map_err(|_| Error::internal("corrupt notification row"))?,
            );
        }
    }
    Ok(created)
}

/// The stored notifications that hold the idempotency keys of the `items` that were not
/// created, by (tenant, key).
async fn read_existing<'a>(
    tx: &DatabaseTransaction,
    items: &[&'a Accept],
    created: &HashSet<Uuid>,
) -> Result<HashMap<(&'a str, &'a str), crate::model::Notification>, Error> {
    let keys: Vec<(&'a TenantId, &'a str)> = items
        .iter()
        .filter(|a| !created.contains(&a.notification.id))
        .filter_map(|a| {
            let n = &a.notification;
            n.idempotency_key.as_deref().map(|k| (&n.tenant, k))
        })
        .collect();
    let mut found = HashMap::new();
    for chunk in keys.chunks(CHUNK) {
        let any = chunk
            .iter()
            .map(|(tenant, key)| {
                Expr::col(N::Tenant)
                    .eq(tenant.as_str())
                    .and(Expr::col(N::IdempotencyKey).eq(*key))
            })
            .reduce(ExprTrait::or)
            .unwrap_or_else(|| Expr::value(false));
        let stmt = select().and_where(any).to_owned();
        for row in tx.query_all(&stmt).await.map_err(db)? {
            let n = read(&row)?;
            // Answer with the caller's own borrowed key (the row's are owned).
            let mine = chunk
                .iter()
                .find(|(t, k)| **t == n.tenant && n.idempotency_key.as_deref() == Some(*k))
                .copied();
            if let Some((tenant, key)) = mine {
                found.insert((tenant.as_str(), key), n);
            }
        }
    }
    Ok(found)
}

/// Check what the table cannot keep, so a bad call fails alone, before it joins a group.
fn check(batch: &[Accept]) -> Result<(), Error> {
    for a in batch {
        let n = &a.notification;
        if n.locale.len() > MAX_LOCALE {
            return Err(NotifyError::Invalid {
                field: "locale",
                message: format!("at most {MAX_LOCALE} bytes"),
            }
            .into());
        }
        if n.idempotency_key
            .as_ref()
            .is_some_and(|k| k.len() > MAX_KEY)
        {
            return Err(NotifyError::Invalid {
                field: "idempotency_key",
                message: format!("at most {MAX_KEY} bytes"),
            }
            .into());
        }
    }
    Ok(())
}

#[async_trait]
impl Intake for SqlIntake {
    async fn accept(&self, queue: &str, batch: Vec<Accept>) -> Result<Vec<Inserted>, Error> {
        baas_queue::validate_queue_name(queue)?;
        check(&batch)?;
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        let weight = batch.len();
        let call = Call {
            queue: queue.to_owned(),
            batch,
        };
        let this = self.clone();
        self.calls
            .submit(call, weight, move |group| {
                let this = this.clone();
                async move { this.commit(group).await }
            })
            .await
    }
}
