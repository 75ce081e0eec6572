//! The SQL [`DeliveryLog`].

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use baas_core::{Error, ErrorKind, TenantId};
use baas_store::Database;
use baas_store::sea_orm::sea_query::{
    Expr, ExprTrait, InsertStatement, Order, Query, SelectStatement, SimpleExpr,
};
use baas_store::sea_orm::{ConnectionTrait, QueryResult};
use uuid::Uuid;

use super::{BaasNotifyAttempts as A, BaasNotifyNotifications as N, db, from_millis, millis};
use crate::model::{Attempt, Notification, Status};
use crate::store::{DeliveryLog, Inserted, Settlement, not_found};

/// The delivery log in `baas_notify_notifications` and `baas_notify_attempts`.
#[derive(Debug, Clone)]
pub struct SqlDeliveryLog {
    db: Database,
}

impl SqlDeliveryLog {
    /// A log over `db` (migrated with [`Migrator`](super::Migrator)).
    pub fn new(db: Database) -> Self {
        SqlDeliveryLog { db }
    }

    async fn by_key(&self, tenant: &TenantId, key: &str) -> Result<Option<Notification>, Error> {
        let stmt = select()
            .and_where(
                Expr::col(N::Tenant)
                    .eq(tenant.as_str())
                    .and(Expr::col(N::IdempotencyKey).eq(key)),
            )
            .to_owned();
        let row = self.db.connection().query_one(&stmt).await.map_err(db)?;
        row.as_ref().map(read).transpose()
    }

    /// [`DeliveryLog::settle_many`] in one transaction; returns the (tenant, id) pairs
    /// that were found (and written).
    async fn settle_tx<'a>(
        &self,
        batch: &'a [Settlement],
    ) -> Result<HashSet<(&'a str, Uuid)>, Error> {
        // Group by what the UPDATE sets: (status, time, attempts made).
        type Group<'s> = BTreeMap<(&'static str, i64, usize), Vec<&'s Settlement>>;
        let mut groups: Group<'a> = BTreeMap::new();
        for s in batch {
            groups
                .entry((s.status.as_str(), millis(s.at), s.attempts.len()))
                .or_default()
                .push(s);
        }
        let tx = self.db.begin_write().await.map_err(db)?;
        let mut found: HashSet<(&'a str, Uuid)> = HashSet::with_capacity(batch.len());
        for ((status, at, made), members) in groups {
            for chunk in members.chunks(CHUNK) {
                let mut update = Query::update()
                    .table(N::Table)
                    .value(N::Status, status)
                    .value(N::UpdatedAt, at)
                    .and_where(any_of(chunk.iter().map(|s| (&s.tenant, s.notification))))
                    .returning(Query::returning().columns([N::Tenant, N::Id]))
                    .to_owned();
                if made > 0 {
                    let made = i32::try_from(made).unwrap_or(i32::MAX);
                    update.value(N::Attempts, Expr::col(N::Attempts).add(made));
                }
                for row in tx.query_all(&update).await.map_err(db)? {
                    let tenant: String = row.try_get("", "tenant").map_err(db)?;
                    let id: String = row.try_get("", "id").map_err(db)?;
                    let id = Uuid::parse_str(&id)
                        .map_err(|_| Error::internal("corrupt notification row"))?;
                    if let Some(s) = chunk
                        .iter()
                        .find(|s| s.notification == id && s.tenant.as_str() == tenant)
                    {
                        found.insert((s.tenant.as_str(), id));
                    }
                }
            }
        }
        let attempts: Vec<(&TenantId, &Attempt)> = batch
            .iter()
            .filter(|s| found.contains(&(s.tenant.as_str(), s.notification)))
            .flat_map(|s| s.attempts.iter().map(move |a| (&s.tenant, a)))
            .collect();
        for chunk in attempts.chunks(ATTEMPT_CHUNK) {
            tx.execute(&attempt_insert(chunk.iter().copied()))
                .await
                .map_err(db)?;
        }
        tx.commit().await.map_err(db)?;
        Ok(found)
    }
}

/// Keys (or settlements) per statement: two bound values each, and an `OR` chain well
/// inside SQLite's expression depth limit (1000).
pub(super) const CHUNK: usize = 200;

/// Attempts per `INSERT` (nine bound values each: under SQLite's and Postgres' limits).
const ATTEMPT_CHUNK: usize = 500;

/// `(tenant = ? AND id = ?) OR …` over `keys` (false when empty).
fn any_of<'a>(keys: impl Iterator<Item = (&'a TenantId, Uuid)>) -> SimpleExpr {
    keys.map(|(tenant, id)| {
        Expr::col(N::Tenant)
            .eq(tenant.as_str())
            .and(Expr::col(N::Id).eq(id.to_string()))
    })
    .reduce(ExprTrait::or)
    .unwrap_or_else(|| Expr::value(false))
}

fn attempt_insert<'a>(rows: impl Iterator<Item = (&'a TenantId, &'a Attempt)>) -> InsertStatement {
    let mut insert = Query::insert()
        .into_table(A::Table)
        .columns([
            A::Tenant,
            A::Notification,
            A::Number,
            A::At,
            A::Provider,
            A::Outcome,
            A::StatusCode,
            A::Error,
            A::LatencyMs,
        ])
        .to_owned();
    for (tenant, a) in rows {
        insert.values_panic([
            tenant.as_str().into(),
            a.notification.to_string().into(),
            i32::try_from(a.number).unwrap_or(i32::MAX).into(),
            millis(a.at).into(),
            a.provider.as_str().into(),
            a.outcome.as_str().into(),
            a.status_code.map(i32::from).into(),
            a.error.clone().into(),
            i64::try_from(a.latency.as_millis())
                .unwrap_or(i64::MAX)
                .into(),
        ]);
    }
    insert
}

pub(super) const COLUMNS: [N; 13] = [
    N::Id,
    N::Tenant,
    N::Recipient,
    N::Channel,
    N::Category,
    N::Template,
    N::Locale,
    N::Data,
    N::IdempotencyKey,
    N::Status,
    N::Attempts,
    N::CreatedAt,
    N::UpdatedAt,
];

/// `n` in [`COLUMNS`]' order.
pub(super) fn notification_row(n: &Notification) -> Result<[SimpleExpr; 13], Error> {
    let data = serde_json::to_string(&n.data).map_err(|_| Error::invalid("data is not JSON"))?;
    Ok([
        n.id.to_string().into(),
        n.tenant.as_str().into(),
        n.recipient.as_str().into(),
        n.channel.as_str().into(),
        n.category.as_str().into(),
        n.template.clone().into(),
        n.locale.as_str().into(),
        data.into(),
        n.idempotency_key.clone().into(),
        n.status.as_str().into(),
        i32::try_from(n.attempts).unwrap_or(i32::MAX).into(),
        millis(n.created_at).into(),
        millis(n.updated_at).into(),
    ])
}

pub(super) fn select() -> SelectStatement {
    Query::select().columns(COLUMNS).from(N::Table).to_owned()
}

pub(super) fn read(row: &QueryResult) -> Result<Notification, Error> {
    let s = |c: &str| row.try_get::<String>("", c).map_err(db);
    let o = |c: &str| row.try_get::<Option<String>>("", c).map_err(db);
    let i = |c: &str| row.try_get::<i64>("", c).map_err(db);
    let bad = |_| Error::internal("corrupt notification row");
    Ok(Notification {
        id: Uuid::parse_str(&s("id")?).map_err(bad)?,
        tenant: TenantId::new(s("tenant")?)?,
        recipient: s("recipient")?,
        channel: s("channel")?.parse()?,
        category: s("category")?,
        template: o("template")?,
        locale: s("locale")?,
        data: serde_json::from_str(&s("data")?)
            .map_err(|_| Error::internal("corrupt notification row"))?,
        idempotency_key: o("idempotency_key")?,
        status: s("status")?.parse()?,
        attempts: u32::try_from(row.try_get::<i32>("", "attempts").map_err(db)?).unwrap_or(0),
        created_at: from_millis(i("created_at")?),
        updated_at: from_millis(i("updated_at")?),
    })
}

#[async_trait]
impl DeliveryLog for SqlDeliveryLog {
    async fn insert(&self, n: &Notification) -> Result<Inserted, Error> {
        let stmt = Query::insert()
            .into_table(N::Table)
            .columns(COLUMNS)
            .values_panic(notification_row(n)?)
            .to_owned();
        match self.db.connection().execute(&stmt).await.map_err(db) {
            Ok(_) => Ok(Inserted {
                notification: n.clone(),
                created: true,
            }),
            Err(e) if e.kind() == ErrorKind::Conflict => {
                let Some(key) = &n.idempotency_key else {
                    return Err(e);
                };
                match self.by_key(&n.tenant, key).await? {
                    Some(existing) => Ok(Inserted {
                        notification: existing,
                        created: false,
                    }),
                    None => Err(e),
                }
            }
            Err(e) => Err(e),
        }
    }

    async fn get(&self, tenant: &TenantId, id: Uuid) -> Result<Option<Notification>, Error> {
        let stmt = select()
            .and_where(
                Expr::col(N::Tenant)
                    .eq(tenant.as_str())
                    .and(Expr::col(N::Id).eq(id.to_string())),
            )
            .to_owned();
        let row = self.db.connection().query_one(&stmt).await.map_err(db)?;
        row.as_ref().map(read).transpose()
    }

    async fn set_status(
        &self,
        tenant: &TenantId,
        id: Uuid,
        status: Status,
        at: SystemTime,
    ) -> Result<(), Error> {
        let stmt = Query::update()
            .table(N::Table)
            .value(N::Status, status.as_str())
            .value(N::UpdatedAt, millis(at))
            .and_where(
                Expr::col(N::Tenant)
                    .eq(tenant.as_str())
                    .and(Expr::col(N::Id).eq(id.to_string())),
            )
            .to_owned();
        let done = self.db.connection().execute(&stmt).await.map_err(db)?;
        if done.rows_affected() == 0 {
            return Err(not_found("notification"));
        }
        Ok(())
    }

    async fn record_attempt(&self, tenant: &TenantId, a: &Attempt) -> Result<(), Error> {
        let tx = self.db.begin_write().await.map_err(db)?;
        let bump = Query::update()
            .table(N::Table)
            .value(N::Attempts, Expr::col(N::Attempts).add(1))
            .and_where(
                Expr::col(N::Tenant)
                    .eq(tenant.as_str())
                    .and(Expr::col(N::Id).eq(a.notification.to_string())),
            )
            .to_owned();
        if tx.execute(&bump).await.map_err(db)?.rows_affected() == 0 {
            return Err(not_found("notification"));
        }
        tx.execute(&attempt_insert(std::iter::once((tenant, a))))
            .await
            .map_err(db)?;
        tx.commit().await.map_err(db)
    }

    /// One `UPDATE … RETURNING` per 200 keys: loads and marks in the same
    /// statement.
    async fn start_many(
        &self,
        keys: &[(TenantId, Uuid)],
        at: SystemTime,
    ) -> Result<Vec<Option<Notification>>, Error> {
        let mut found: HashMap<Uuid, Notification> = HashMap::with_capacity(keys.len());
        for chunk in keys.chunks(CHUNK) {
            let stmt = Query::update()
                .table(N::Table)
                .value(N::Status, Status::Sending.as_str())
                .value(N::UpdatedAt, millis(at))
                .and_where(any_of(chunk.iter().map(|(t, id)| (t, *id))))
                .and_where(
                    Expr::col(N::Status)
                        .is_not_in([Status::Sent.as_str(), Status::Suppressed.as_str()]),
                )
                .returning(Query::returning().columns(COLUMNS))
                .to_owned();
            let rows = self.db.connection().query_all(&stmt).await.map_err(db)?;
            for row in &rows {
                let n = read(row)?;
                found.insert(n.id, n);
            }
        }
        Ok(keys
            .iter()
            .map(|(tenant, id)| found.get(id).filter(|n| &n.tenant == tenant).cloned())
            .collect())
    }

    /// One transaction for the whole batch: an `UPDATE … RETURNING id` per distinct
    /// (status, time, number of attempts) — usually one — then one multi-row `INSERT` of
    /// the attempts of the notifications that were found.
    async fn settle_many(&self, batch: &[Settlement]) -> Vec<Result<(), Error>> {
        if batch.is_empty() {
            return Vec::new();
        }
        match self.settle_tx(batch).await {
            Ok(found) => batch
                .iter()
                .map(|s| {
                    if found.contains(&(s.tenant.as_str(), s.notification)) {
                        Ok(())
                    } else {
                        Err(not_found("notification"))
                    }
                })
                .collect(),
            Err(e) => {
                // One transaction: nothing of the batch was written. Each gets the
                // failure (the first with its source).
                let (kind, message) = (e.kind(), e.message().to_owned());
                let mut out = Vec::with_capacity(batch.len());
                out.push(Err(e));
                out.extend((1..batch.len()).map(|_| Err(Error::new(kind, message.clone()))));
                out
            }
        }
    }

    async fn attempts(&self, tenant: &TenantId, id: Uuid) -> Result<Vec<Attempt>, Error> {
        let stmt = Query::select()
            .columns([
                A::Number,
                A::At,
                A::Provider,
                A::Outcome,
                A::StatusCode,
                A::Error,
                A::LatencyMs,
            ])
            .from(A::Table)
            .and_where(
                Expr::col(A::Tenant)
                    .eq(tenant.as_str())
                    .and(Expr::col(A::Notification).eq(id.to_string())),
            )
            .order_by(A::Number, Order::Asc)
            .order_by(A::At, Order::Asc)
            .to_owned();
        let rows = self.db.connection().query_all(&stmt).await.map_err(db)?;
        rows.iter()
            .map(|row| {
                Ok(Attempt {
                    notification: id,
                    number: u32::try_from(row.try_get::<i32>("", "number").map_err(db)?)
                        .unwrap_or(0),
                    at: from_millis(row.try_get("", "at").map_err(db)?),
                    provider: row.try_get("", "provider").map_err(db)?,
                    outcome: row.try_get::<String>("", "outcome").map_err(db)?.parse()?,
                    status_code: row
                        .try_get::<Option<i32>>("", "status_code")
                        .map_err(db)?
                        .and_then(|c| u16::try_from(c).ok()),
                    error: row.try_get("", "error").map_err(db)?,
                    latency: Duration::from_millis(
                        u64::try_from(row.try_get::<i64>("", "latency_ms").map_err(db)?)
                            .unwrap_or(0),
                    ),
                })
            })
            .collect()
    }

    async fn sweep(&self, before: SystemTime) -> Result<u64, Error> {
        let finished = Expr::col(N::Status)
            .is_in([
                Status::Sent.as_str(),
                Status::Dead.as_str(),
                Status::Suppressed.as_str(),
            ])
            .and(Expr::col(N::UpdatedAt).lt(millis(before)));
        let ids = Query::select()
            .column(N::Id)
            .from(N::Table)
            .and_where(finished.clone())
            .to_owned();
        let tx = self.db.begin_write().await.map_err(db)?;
        let attempts = Query::delete()
            .from_table(A::Table)
            .and_where(Expr::col(A::Notification).in_subquery(ids))
            .to_owned();
        tx.execute(&attempts).await.map_err(db)?;
        let notifications = Query::delete()
            .from_table(N::Table)
            .and_where(finished)
            .to_owned();
        let n = tx
            .execute(&notifications)
            .await
            .map_err(db)?
            .rows_affected();
        tx.commit().await.map_err(db)?;
        Ok(n)
    }
}
