//! [`SqlUserStore`].

use async_trait::async_trait;
use baas_core::{SharedClock, TenantId};
use baas_store::Database;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Order, Query, SelectStatement};
use sea_orm::{ConnectionTrait, QueryResult};

use super::error::{db, is_unique};
use super::schema::{Tenants, Users as U};
use super::{from_millis, millis, roles_from_json, roles_json};
use crate::email::Email;
use crate::error::AuthError;
use crate::ids::UserId;
use crate::page::{Page, PageRequest};
use crate::roles::normalise_roles;
use crate::users::memory::cursor_id;
use crate::users::{NewUser, User, UserStore};

/// A [`UserStore`] in `baas_auth_users` (run [`Migrator`](super::Migrator) first).
///
/// Email uniqueness is a unique index on (tenant, email); "first user of a tenant" is
/// decided by inserting the tenant's row into `baas_auth_tenants` in the same
/// transaction, which concurrent sign-ups serialise on.
#[derive(Debug, Clone)]
pub struct SqlUserStore {
    db: Database,
    clock: SharedClock,
}

impl SqlUserStore {
    /// A store on `db`, reading time from `clock`.
    pub fn new(db: Database, clock: SharedClock) -> Self {
        Self { db, clock }
    }
}

const COLUMNS: [U; 8] = [
    U::Id,
    U::Tenant,
    U::Email,
    U::PasswordHash,
    U::Roles,
    U::Disabled,
    U::CreatedAt,
    U::UpdatedAt,
];

fn select(tenant: &TenantId) -> SelectStatement {
    Query::select()
        .columns(COLUMNS)
        .from(U::Table)
        .and_where(Expr::col(U::Tenant).eq(tenant.as_str()))
        .to_owned()
}

fn decode(row: &QueryResult) -> Result<User, AuthError> {
    let id: String = row.try_get("", "id").map_err(db)?;
    let tenant: String = row.try_get("", "tenant").map_err(db)?;
    let email: String = row.try_get("", "email").map_err(db)?;
    let roles: String = row.try_get("", "roles").map_err(db)?;
    Ok(User {
        id: UserId::parse(&id).map_err(AuthError::internal)?,
        tenant: TenantId::new(tenant).map_err(AuthError::internal)?,
        email: Email::parse(&email).map_err(AuthError::internal)?,
        password_hash: row.try_get("", "password_hash").map_err(db)?,
        roles: roles_from_json(&roles)?,
        disabled: row.try_get("", "disabled").map_err(db)?,
        created_at: from_millis(row.try_get("", "created_at").map_err(db)?),
        updated_at: from_millis(row.try_get("", "updated_at").map_err(db)?),
    })
}

impl SqlUserStore {
    async fn one(&self, stmt: SelectStatement) -> Result<Option<User>, AuthError> {
        self.db
            .reads()
            .query_one(&stmt)
            .await
            .map_err(db)?
            .as_ref()
            .map(decode)
            .transpose()
    }

    async fn update(
        &self,
        tenant: &TenantId,
        id: &UserId,
        mut stmt: sea_orm::sea_query::UpdateStatement,
    ) -> Result<(), AuthError> {
        stmt.table(U::Table)
            .value(U::UpdatedAt, millis(self.clock.now()))
            .and_where(Expr::col(U::Tenant).eq(tenant.as_str()))
            .and_where(Expr::col(U::Id).eq(id.to_string()));
        let done = self.db.connection().execute(&stmt).await.map_err(db)?;
        if done.rows_affected() == 0 {
            return Err(AuthError::UserNotFound);
        }
        Ok(())
    }
}

#[async_trait]
impl UserStore for SqlUserStore {
    #[tracing::instrument(name = "baas_auth.users.create", skip_all)]
    async fn create(&self, tenant: &TenantId, user: NewUser) -> Result<User, AuthError> {
        let roles = normalise_roles(&user.roles)?;
        let first_roles = user
            .first_user_roles
            .as_deref()
            .map(normalise_roles)
            .transpose()?;
        let now = self.clock.now();
        let tx = self.db.begin_write().await.map_err(db)?;
        // Concurrent sign-ups of one tenant take turns: on SQLite `begin_write` holds
        // the write lock; on Postgres, writing first takes the row lock on the tenant.
        let mark = Query::insert()
            .into_table(Tenants::Table)
            .columns([Tenants::Tenant, Tenants::CreatedAt])
            .values_panic([tenant.as_str().into(), millis(now).into()])
            .on_conflict(OnConflict::column(Tenants::Tenant).do_nothing().to_owned())
            .to_owned();
        let first = tx.execute(&mark).await.map_err(db)?.rows_affected() == 1;
        let created = User {
            id: UserId::generate(),
            tenant: tenant.clone(),
            email: user.email,
            password_hash: user.password_hash,
            roles: match first_roles {
                Some(r) if first => r,
                _ => roles,
            },
            disabled: false,
            created_at: now,
            updated_at: now,
        };
        let insert = Query::insert()
            .into_table(U::Table)
            .columns(COLUMNS)
            .values_panic([
                created.id.to_string().into(),
                tenant.as_str().into(),
                created.email.as_str().into(),
                created.password_hash.clone().into(),
                roles_json(&created.roles).into(),
                false.into(),
                millis(now).into(),
                millis(now).into(),
            ])
            .to_owned();
        match tx.execute(&insert).await {
            Ok(_) => {}
            Err(e) if is_unique(&e) => return Err(AuthError::EmailTaken),
            Err(e) => return Err(db(e)),
        }
        tx.commit().await.map_err(db)?;
        Ok(created)
    }

    #[tracing::instrument(name = "baas_auth.users.find_by_email", skip_all)]
    async fn find_by_email(
        &self,
        tenant: &TenantId,
        email: &Email,
    ) -> Result<Option<User>, AuthError> {
        self.one(
            select(tenant)
                .and_where(Expr::col(U::Email).eq(email.as_str()))
                .to_owned(),
        )
        .await
    }

    #[tracing::instrument(name = "baas_auth.users.get", skip_all)]
    async fn get(&self, tenant: &TenantId, id: &UserId) -> Result<Option<User>, AuthError> {
        self.one(
            select(tenant)
                .and_where(Expr::col(U::Id).eq(id.to_string()))
                .to_owned(),
        )
        .await
    }

    #[tracing::instrument(name = "baas_auth.users.list", skip_all)]
    async fn list(&self, tenant: &TenantId, page: &PageRequest) -> Result<Page<User>, AuthError> {
        let after = cursor_id(page)?;
        let mut stmt = select(tenant);
        if let Some(after) = after {
            stmt.and_where(Expr::col(U::Id).gt(after.to_string()));
        }
        stmt.order_by(U::Id, Order::Asc)
            .limit(page.limit() as u64 + 1);
        let rows = self.db.reads().query_all(&stmt).await.map_err(db)?;
        let mut items = rows.iter().map(decode).collect::<Result<Vec<_>, _>>()?;
        let next_cursor = if items.len() > page.limit() {
            items.truncate(page.limit());
            items.last().map(|u| u.id.to_string())
        } else {
            None
        };
        Ok(Page { items, next_cursor })
    }

    #[tracing::instrument(name = "baas_auth.users.set_password_hash", skip_all)]
    async fn set_password_hash(
        &self,
        tenant: &TenantId,
        id: &UserId,
        password_hash: &str,
    ) -> Result<(), AuthError> {
        let stmt = Query::update()
            .value(U::PasswordHash, password_hash)
            .to_owned();
        self.update(tenant, id, stmt).await
    }

    #[tracing::instrument(name = "baas_auth.users.set_roles", skip_all)]
    async fn set_roles(
        &self,
        tenant: &TenantId,
        id: &UserId,
        roles: &[String],
    ) -> Result<User, AuthError> {
        let roles = normalise_roles(roles)?;
        let stmt = Query::update()
            .value(U::Roles, roles_json(&roles))
            .to_owned();
        self.update(tenant, id, stmt).await?;
        self.get(tenant, id).await?.ok_or(AuthError::UserNotFound)
    }

    #[tracing::instrument(name = "baas_auth.users.disable", skip_all)]
    async fn disable(&self, tenant: &TenantId, id: &UserId) -> Result<(), AuthError> {
        if self.get(tenant, id).await?.is_some_and(|u| u.disabled) {
            return Ok(());
        }
        let stmt = Query::update().value(U::Disabled, true).to_owned();
        self.update(tenant, id, stmt).await
    }
}
