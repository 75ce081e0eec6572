//! The SQL [`EndpointStore`].

use async_trait::async_trait;
use baas_core::{Error, TenantId};
use baas_store::Database;
use baas_store::sea_orm::sea_query::{Expr, ExprTrait, Order, Query, SimpleExpr};
use baas_store::sea_orm::{ConnectionTrait, QueryResult};
use uuid::Uuid;

use super::{BaasNotifyEndpoints as E, db, from_millis, millis};
use crate::store::{Endpoint, EndpointStore, not_found};

/// Webhook endpoints in `baas_notify_endpoints` (secrets stored sealed).
#[derive(Debug, Clone)]
pub struct SqlEndpointStore {
    db: Database,
}

impl SqlEndpointStore {
    /// A store over `db` (migrated with [`Migrator`](super::Migrator)).
    pub fn new(db: Database) -> Self {
        SqlEndpointStore { db }
    }
}

const COLUMNS: [E; 7] = [
    E::Id,
    E::Tenant,
    E::Url,
    E::EventTypes,
    E::Disabled,
    E::CreatedAt,
    E::Secret,
];

fn read(row: &QueryResult) -> Result<Endpoint, Error> {
    let corrupt = || Error::internal("corrupt endpoint row");
    let types: String = row.try_get("", "event_types").map_err(db)?;
    Ok(Endpoint {
        id: Uuid::parse_str(&row.try_get::<String>("", "id").map_err(db)?)
            .map_err(|_| corrupt())?,
        tenant: TenantId::new(row.try_get::<String>("", "tenant").map_err(db)?)?,
        url: row.try_get("", "url").map_err(db)?,
        event_types: serde_json::from_str(&types).map_err(|_| corrupt())?,
        disabled: row.try_get("", "disabled").map_err(db)?,
        created_at: from_millis(row.try_get("", "created_at").map_err(db)?),
        sealed_secret: row.try_get("", "secret").map_err(db)?,
    })
}

fn scoped(tenant: &TenantId, id: Uuid) -> SimpleExpr {
    Expr::col(E::Tenant)
        .eq(tenant.as_str())
        .and(Expr::col(E::Id).eq(id.to_string()))
}

#[async_trait]
impl EndpointStore for SqlEndpointStore {
    async fn insert(&self, e: &Endpoint) -> Result<(), Error> {
        let types = serde_json::to_string(&e.event_types)
            .map_err(|_| Error::internal("cannot encode event types"))?;
        let stmt = Query::insert()
            .into_table(E::Table)
            .columns(COLUMNS)
            .values_panic([
                e.id.to_string().into(),
                e.tenant.as_str().into(),
                e.url.as_str().into(),
                types.into(),
                e.disabled.into(),
                millis(e.created_at).into(),
                e.sealed_secret.clone().into(),
            ])
            .to_owned();
        self.db.connection().execute(&stmt).await.map_err(db)?;
        Ok(())
    }

    async fn get(&self, tenant: &TenantId, id: Uuid) -> Result<Option<Endpoint>, Error> {
        let stmt = Query::select()
            .columns(COLUMNS)
            .from(E::Table)
            .and_where(scoped(tenant, id))
            .to_owned();
        let row = self.db.connection().query_one(&stmt).await.map_err(db)?;
        row.as_ref().map(read).transpose()
    }

    async fn list(&self, tenant: &TenantId) -> Result<Vec<Endpoint>, Error> {
        let stmt = Query::select()
            .columns(COLUMNS)
            .from(E::Table)
            .and_where(Expr::col(E::Tenant).eq(tenant.as_str()))
            .order_by(E::Id, Order::Asc)
            .to_owned();
        let rows = self.db.connection().query_all(&stmt).await.map_err(db)?;
        rows.iter().map(read).collect()
    }

    async fn set_disabled(&self, tenant: &TenantId, id: Uuid, disabled: bool) -> Result<(), Error> {
        let stmt = Query::update()
            .table(E::Table)
            .value(E::Disabled, disabled)
            .and_where(scoped(tenant, id))
            .to_owned();
        if self
            .db
            .connection()
            .execute(&stmt)
            .await
            .map_err(db)?
            .rows_affected()
            == 0
        {
            return Err(not_found("endpoint"));
        }
        Ok(())
    }

    async fn delete(&self, tenant: &TenantId, id: Uuid) -> Result<(), Error> {
        let stmt = Query::delete()
            .from_table(E::Table)
            .and_where(scoped(tenant, id))
            .to_owned();
        if self
            .db
            .connection()
            .execute(&stmt)
            .await
            .map_err(db)?
            .rows_affected()
            == 0
        {
            return Err(not_found("endpoint"));
        }
        Ok(())
    }
}
