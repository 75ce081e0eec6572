//! The SQL [`PreferenceStore`]: a row per opt-out.

use async_trait::async_trait;
use baas_core::{Error, ErrorKind, TenantId};
use baas_store::Database;
use baas_store::sea_orm::ConnectionTrait;
use baas_store::sea_orm::sea_query::{Expr, ExprTrait, Query};

use super::{BaasNotifyPreferences as P, db};
use crate::model::ChannelKind;
use crate::store::PreferenceStore;

/// Opt-outs in `baas_notify_preferences`.
#[derive(Debug, Clone)]
pub struct SqlPreferenceStore {
    db: Database,
}

impl SqlPreferenceStore {
    /// A store over `db` (migrated with [`Migrator`](super::Migrator)).
    pub fn new(db: Database) -> Self {
        SqlPreferenceStore { db }
    }
}

#[async_trait]
impl PreferenceStore for SqlPreferenceStore {
    async fn set_opt_out(
        &self,
        tenant: &TenantId,
        recipient: &str,
        category: &str,
        channel: ChannelKind,
        opted_out: bool,
    ) -> Result<(), Error> {
        let conn = self.db.connection();
        if opted_out {
            let stmt = Query::insert()
                .into_table(P::Table)
                .columns([P::Tenant, P::Recipient, P::Category, P::Channel])
                .values_panic([
                    tenant.as_str().into(),
                    recipient.into(),
                    category.into(),
                    channel.as_str().into(),
                ])
                .to_owned();
            match conn.execute(&stmt).await.map_err(db) {
                Ok(_) => Ok(()),
                Err(e) if e.kind() == ErrorKind::Conflict => Ok(()),
                Err(e) => Err(e),
            }
        } else {
            let stmt = Query::delete()
                .from_table(P::Table)
                .and_where(
                    Expr::col(P::Tenant)
                        .eq(tenant.as_str())
                        .and(Expr::col(P::Recipient).eq(recipient))
                        .and(Expr::col(P::Category).eq(category))
                        .and(Expr::col(P::Channel).eq(channel.as_str())),
                )
                .to_owned();
            conn.execute(&stmt).await.map_err(db)?;
            Ok(())
        }
    }

    async fn is_opted_out(
        &self,
        tenant: &TenantId,
        recipient: &str,
        category: &str,
        channel: ChannelKind,
    ) -> Result<bool, Error> {
        let stmt = Query::select()
            .column(P::Category)
            .from(P::Table)
            .and_where(
                Expr::col(P::Tenant)
                    .eq(tenant.as_str())
                    .and(Expr::col(P::Recipient).eq(recipient))
                    .and(Expr::col(P::Category).is_in([category, "*"]))
                    .and(Expr::col(P::Channel).eq(channel.as_str())),
            )
            .limit(1)
            .to_owned();
        Ok(self
            .db
            .connection()
            .query_one(&stmt)
            .await
            .map_err(db)?
            .is_some())
    }
}
