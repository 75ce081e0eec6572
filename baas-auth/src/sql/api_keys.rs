//! [`SqlApiKeyStore`].

use std::time::Duration;

use async_trait::async_trait;
use baas_core::{SharedClock, TenantId};
use baas_store::Database;
use sea_orm::sea_query::{Expr, ExprTrait, Order, Query, SelectStatement};
use sea_orm::{ConnectionTrait, QueryResult};

use super::error::db;
use super::schema::ApiKeys as K;
use super::{duration_millis, from_millis, millis, roles_from_json, roles_json};
use crate::api_keys::memory::cursor_id;
use crate::api_keys::{ApiKey, ApiKeyStore, LAST_USED_GRANULARITY, NewApiKey, validate_name};
use crate::error::AuthError;
use crate::ids::ApiKeyId;
use crate::page::{Page, PageRequest};
use crate::roles::normalise_roles;
use crate::secret::{ApiKeySecret, SecretDigest};

/// An [`ApiKeyStore`] in `baas_auth_api_keys` (run [`Migrator`](super::Migrator)
/// first). No cache: a deletion holds for every process at once.
#[derive(Debug, Clone)]
pub struct SqlApiKeyStore {
    db: Database,
    clock: SharedClock,
}

impl SqlApiKeyStore {
    /// A store on `db`, reading time from `clock`.
    pub fn new(db: Database, clock: SharedClock) -> Self {
        Self { db, clock }
    }
}

const COLUMNS: [K; 9] = [
    K::Id,
    K::Tenant,
    K::Name,
    K::Roles,
    K::Digest,
    K::CreatedBy,
    K::CreatedAt,
    K::ExpiresAt,
    K::LastUsedAt,
];

fn select() -> SelectStatement {
    Query::select().columns(COLUMNS).from(K::Table).to_owned()
}

fn decode(row: &QueryResult) -> Result<(ApiKey, Vec<u8>), AuthError> {
    let id: String = row.try_get("", "id").map_err(db)?;
    let tenant: String = row.try_get("", "tenant").map_err(db)?;
    let roles: String = row.try_get("", "roles").map_err(db)?;
    let expires: Option<i64> = row.try_get("", "expires_at").map_err(db)?;
    let used: Option<i64> = row.try_get("", "last_used_at").map_err(db)?;
    let key = ApiKey {
        id: ApiKeyId::parse(&id).map_err(AuthError::internal)?,
        tenant: TenantId::new(tenant).map_err(AuthError::internal)?,
        name: row.try_get("", "name").map_err(db)?,
        roles: roles_from_json(&roles)?,
        created_by: row.try_get("", "created_by").map_err(db)?,
        created_at: from_millis(row.try_get("", "created_at").map_err(db)?),
        expires_at: expires.map(from_millis),
        last_used_at: used.map(from_millis),
    };
    Ok((key, row.try_get("", "digest").map_err(db)?))
}

#[async_trait]
impl ApiKeyStore for SqlApiKeyStore {
    #[tracing::instrument(name = "baas_auth.api_keys.create", skip_all)]
    async fn create(
        &self,
        tenant: &TenantId,
        key: NewApiKey,
    ) -> Result<(ApiKey, ApiKeySecret), AuthError> {
        validate_name(&key.name)?;
        let roles = normalise_roles(&key.roles)?;
        let now = from_millis(millis(self.clock.now()));
        let id = ApiKeyId::generate();
        let secret = ApiKeySecret::generate(id);
        let created = ApiKey {
            id,
            tenant: tenant.clone(),
            name: key.name,
            roles,
            created_by: key.created_by,
            created_at: now,
            expires_at: key.expires_in.map(|ttl| from_millis(millis(now + ttl))),
            last_used_at: None,
        };
        let stmt = Query::insert()
            .into_table(K::Table)
            .columns(COLUMNS)
            .values_panic([
                id.to_string().into(),
                tenant.as_str().into(),
                created.name.clone().into(),
                roles_json(&created.roles).into(),
                secret.digest().as_bytes().to_vec().into(),
                created.created_by.clone().into(),
                millis(now).into(),
                created.expires_at.map(millis).into(),
                Option::<i64>::None.into(),
            ])
            .to_owned();
        self.db.connection().execute(&stmt).await.map_err(db)?;
        Ok((created, secret))
    }

    #[tracing::instrument(name = "baas_auth.api_keys.authenticate", skip_all)]
    async fn authenticate(&self, presented: &ApiKeySecret) -> Result<ApiKey, AuthError> {
        let id = presented.id().ok_or(AuthError::InvalidApiKey)?;
        let conn = self.db.connection();
        let stmt = select()
            .and_where(Expr::col(K::Id).eq(id.to_string()))
            .to_owned();
        let row = conn
            .query_one(&stmt)
            .await
            .map_err(db)?
            .ok_or(AuthError::InvalidApiKey)?;
        let (mut key, stored) = decode(&row)?;
        let now = from_millis(millis(self.clock.now()));
        let matches = SecretDigest::from_bytes(&stored).is_some_and(|d| d == presented.digest());
        if !matches || !key.is_valid_at(now) {
            return Err(AuthError::InvalidApiKey);
        }
        if key
            .last_used_at
            .is_none_or(|t| t + LAST_USED_GRANULARITY <= now)
        {
            let stale = millis(now) - duration_millis(LAST_USED_GRANULARITY);
            let touch = Query::update()
                .table(K::Table)
                .value(K::LastUsedAt, millis(now))
                .and_where(Expr::col(K::Id).eq(id.to_string()))
                .cond_where(
                    Expr::col(K::LastUsedAt)
                        .is_null()
                        .or(Expr::col(K::LastUsedAt).lte(stale)),
                )
                .to_owned();
            conn.execute(&touch).await.map_err(db)?;
            key.last_used_at = Some(now);
        }
        Ok(key)
    }

    #[tracing::instrument(name = "baas_auth.api_keys.get", skip_all)]
    async fn get(&self, tenant: &TenantId, id: &ApiKeyId) -> Result<Option<ApiKey>, AuthError> {
        let stmt = select()
            .and_where(Expr::col(K::Tenant).eq(tenant.as_str()))
            .and_where(Expr::col(K::Id).eq(id.to_string()))
            .to_owned();
        Ok(self
            .db
            .reads()
            .query_one(&stmt)
            .await
            .map_err(db)?
            .as_ref()
            .map(decode)
            .transpose()?
            .map(|(k, _)| k))
    }

    #[tracing::instrument(name = "baas_auth.api_keys.list", skip_all)]
    async fn list(&self, tenant: &TenantId, page: &PageRequest) -> Result<Page<ApiKey>, AuthError> {
        let after = cursor_id(page)?;
        let mut stmt = select()
            .and_where(Expr::col(K::Tenant).eq(tenant.as_str()))
            .to_owned();
        if let Some(after) = after {
            stmt.and_where(Expr::col(K::Id).gt(after.to_string()));
        }
        stmt.order_by(K::Id, Order::Asc)
            .limit(page.limit() as u64 + 1);
        let rows = self.db.reads().query_all(&stmt).await.map_err(db)?;
        let mut items = rows
            .iter()
            .map(|r| decode(r).map(|(k, _)| k))
            .collect::<Result<Vec<_>, _>>()?;
        let next_cursor = if items.len() > page.limit() {
            items.truncate(page.limit());
            items.last().map(|k| k.id.to_string())
        } else {
            None
        };
        Ok(Page { items, next_cursor })
    }

    #[tracing::instrument(name = "baas_auth.api_keys.delete", skip_all)]
    async fn delete(&self, tenant: &TenantId, id: &ApiKeyId) -> Result<(), AuthError> {
        let stmt = Query::delete()
            .from_table(K::Table)
            .and_where(Expr::col(K::Tenant).eq(tenant.as_str()))
            .and_where(Expr::col(K::Id).eq(id.to_string()))
            .to_owned();
        let done = self.db.connection().execute(&stmt).await.map_err(db)?;
        if done.rows_affected() == 0 {
            return Err(AuthError::ApiKeyNotFound);
        }
        Ok(())
    }

    #[tracing::instrument(name = "baas_auth.api_keys.sweep", skip_all)]
    async fn sweep(&self, retention: Duration) -> Result<u64, AuthError> {
        let cutoff = millis(self.clock.now()).saturating_sub(duration_millis(retention));
        let stmt = Query::delete()
            .from_table(K::Table)
            .and_where(Expr::col(K::ExpiresAt).lte(cutoff))
            .to_owned();
        Ok(self
            .db
            .connection()
            .execute(&stmt)
            .await
            .map_err(db)?
            .rows_affected())
    }
}
