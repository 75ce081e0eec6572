//! The SQL [`DeliveryLog`].

use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use baas_core::{Error, ErrorKind, TenantId};
use baas_store::Database;
use baas_store::sea_orm::sea_query::{Expr, ExprTrait, Order, Query, SelectStatement};
use baas_store::sea_orm::{ConnectionTrait, QueryResult, TransactionTrait};
use uuid::Uuid;

use super::{BaasNotifyAttempts as A, BaasNotifyNotifications as N, db, from_millis, millis};
use crate::model::{Attempt, Notification, Status};
use crate::store::{DeliveryLog, Inserted, not_found};

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
}

const COLUMNS: [N; 13] = [
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

fn select() -> SelectStatement {
    Query::select().columns(COLUMNS).from(N::Table).to_owned()
}

fn read(row: &QueryResult) -> Result<Notification, Error> {
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
        let data =
            serde_json::to_string(&n.data).map_err(|_| Error::invalid("data is not JSON"))?;
        let stmt = Query::insert()
            .into_table(N::Table)
            .columns(COLUMNS)
            .values_panic([
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
        let tx = self.db.connection().begin().await.map_err(db)?;
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
        let insert = Query::insert()
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
            .values_panic([
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
            ])
            .to_owned();
        tx.execute(&insert).await.map_err(db)?;
        tx.commit().await.map_err(db)
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
        let tx = self.db.connection().begin().await.map_err(db)?;
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
