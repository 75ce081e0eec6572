//! [`SqlKeyStore`]: signing keys in `baas_auth_signing_keys`.

use std::time::SystemTime;

use async_trait::async_trait;
use baas_store::Database;
use sea_orm::sea_query::{Expr, ExprTrait, Order, Query};
use sea_orm::{ConnectionTrait, QueryResult};

use super::error::{db, is_unique, store};
use super::schema::SigningKeys as K;
use super::{from_millis, millis};
use crate::error::AuthError;
use crate::keys::{KeyState, KeyStore, Rotation, SigningAlgorithm, StoredKey};

/// The name of the start-up lock that serialises key creation and rotation.
const LOCK: &str = "baas_auth.signing_keys";

/// A [`KeyStore`] in `baas_auth_signing_keys` (run [`Migrator`](super::Migrator)
/// first). Private halves arrive sealed (the [`KeyManager`](crate::keys::KeyManager)
/// seals them with the master key) and are stored as they are.
///
/// `initialise` and `rotate` run in one transaction under
/// [`Database::startup_lock`] (a Postgres advisory lock; on SQLite the write lock that
/// [`Database::begin_write`] takes), so
/// processes starting together create one first key pair.
///
/// On Postgres the lock holds one pooled connection while the transaction uses
/// another, so the pool needs at least two connections.
#[derive(Debug, Clone)]
pub struct SqlKeyStore {
    db: Database,
}

impl SqlKeyStore {
    /// A store on `db`.
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

const COLUMNS: [K; 8] = [
    K::Kid,
    K::Algorithm,
    K::State,
    K::PublicKey,
    K::SealedPrivate,
    K::CreatedAt,
    K::ActivatedAt,
    K::RetireAfter,
];

fn state_from(name: &str) -> Result<KeyState, AuthError> {
    Ok(match name {
        "next" => KeyState::Next,
        "current" => KeyState::Current,
        "retiring" => KeyState::Retiring,
        "retired" => KeyState::Retired,
        other => return Err(AuthError::internal(format!("unknown key state {other:?}"))),
    })
}

fn decode(row: &QueryResult) -> Result<StoredKey, AuthError> {
    let algorithm: String = row.try_get("", "algorithm").map_err(db)?;
    let state: String = row.try_get("", "state").map_err(db)?;
    let activated: Option<i64> = row.try_get("", "activated_at").map_err(db)?;
    let retire: Option<i64> = row.try_get("", "retire_after").map_err(db)?;
    Ok(StoredKey {
        kid: row.try_get("", "kid").map_err(db)?,
        algorithm: SigningAlgorithm::from_name(&algorithm)
            .ok_or_else(|| AuthError::internal(format!("unknown algorithm {algorithm:?}")))?,
        state: state_from(&state)?,
        public_key: row.try_get("", "public_key").map_err(db)?,
        sealed_private: row.try_get("", "sealed_private").map_err(db)?,
        created_at: from_millis(row.try_get("", "created_at").map_err(db)?),
        activated_at: activated.map(from_millis),
        retire_after: retire.map(from_millis),
    })
}

fn values(key: &StoredKey, state: KeyState) -> [Expr; 8] {
    [
        Expr::val(key.kid.clone()),
        Expr::val(key.algorithm.as_str()),
        Expr::val(state.as_str()),
        Expr::val(key.public_key.clone()),
        Expr::val(key.sealed_private.clone()),
        Expr::val(millis(key.created_at)),
        Expr::val(key.activated_at.map(millis)),
        Expr::val(key.retire_after.map(millis)),
    ]
}

fn insert_err(e: sea_orm::DbErr) -> AuthError {
    if is_unique(&e) {
        AuthError::KeyExists
    } else {
        db(e)
    }
}

#[async_trait]
impl KeyStore for SqlKeyStore {
    #[tracing::instrument(name = "baas_auth.keys.list", skip_all)]
    async fn list(&self) -> Result<Vec<StoredKey>, AuthError> {
        let stmt = Query::select()
            .columns(COLUMNS)
            .from(K::Table)
            .order_by(K::CreatedAt, Order::Asc)
            .order_by(K::Kid, Order::Asc)
            .to_owned();
        let rows = self.db.reads().query_all(&stmt).await.map_err(db)?;
        rows.iter().map(decode).collect()
    }

    #[tracing::instrument(name = "baas_auth.keys.initialise", skip_all)]
    async fn initialise(&self, current: StoredKey, next: StoredKey) -> Result<bool, AuthError> {
        if current.kid == next.kid {
            return Err(AuthError::KeyExists);
        }
        let lock = self.db.startup_lock(LOCK).await.map_err(store)?;
        let tx = self.db.begin_write().await.map_err(db)?;
        // INSERT … SELECT … WHERE NOT EXISTS (a current key): one atomic statement.
        let no_current = Query::select()
            .expr(Expr::val(1))
            .from(K::Table)
            .and_where(Expr::col(K::State).eq(KeyState::Current.as_str()))
            .to_owned();
        let mut select = Query::select();
        for v in values(&current, KeyState::Current) {
            select.expr(v);
        }
        select.and_where(Expr::exists(no_current).not());
        let insert = Query::insert()
            .into_table(K::Table)
            .columns(COLUMNS)
            .select_from(select)
            .map_err(AuthError::internal)?
            .to_owned();
        let inserted = tx
            .execute(&insert)
            .await
            .map_err(insert_err)?
            .rows_affected()
            == 1;
        if !inserted {
            drop(tx);
            lock.release().await.map_err(store)?;
            return Ok(false);
        }
        // A stray `next` without a `current` (impossible through this API) is replaced.
        let stray = Query::delete()
            .from_table(K::Table)
            .and_where(Expr::col(K::State).eq(KeyState::Next.as_str()))
            .to_owned();
        tx.execute(&stray).await.map_err(db)?;
        let insert_next = Query::insert()
            .into_table(K::Table)
            .columns(COLUMNS)
            .values_panic(values(&next, KeyState::Next))
            .to_owned();
        tx.execute(&insert_next).await.map_err(insert_err)?;
        tx.commit().await.map_err(db)?;
        lock.release().await.map_err(store)?;
        Ok(true)
    }

    #[tracing::instrument(name = "baas_auth.keys.rotate", skip_all)]
    async fn rotate(&self, rotation: Rotation) -> Result<(), AuthError> {
        let lock = self.db.startup_lock(LOCK).await.map_err(store)?;
        let tx = self.db.begin_write().await.map_err(db)?;
        let retire = Query::update()
            .table(K::Table)
            .value(K::State, KeyState::Retiring.as_str())
            .value(K::RetireAfter, millis(rotation.retire_after))
            .and_where(Expr::col(K::Kid).eq(rotation.expected_current.as_str()))
            .and_where(Expr::col(K::State).eq(KeyState::Current.as_str()))
            .to_owned();
        let promote = Query::update()
            .table(K::Table)
            .value(K::State, KeyState::Current.as_str())
            .value(K::ActivatedAt, millis(rotation.now))
            .and_where(Expr::col(K::Kid).eq(rotation.expected_next.as_str()))
            .and_where(Expr::col(K::State).eq(KeyState::Next.as_str()))
            .to_owned();
        let ok = tx.execute(&retire).await.map_err(db)?.rows_affected() == 1
            && tx.execute(&promote).await.map_err(db)?.rows_affected() == 1;
        if !ok {
            drop(tx);
            lock.release().await.map_err(store)?;
            return Err(AuthError::RotationConflict);
        }
        let insert = Query::insert()
            .into_table(K::Table)
            .columns(COLUMNS)
            .values_panic(values(&rotation.new_next, KeyState::Next))
            .to_owned();
        tx.execute(&insert).await.map_err(insert_err)?;
        tx.commit().await.map_err(db)?;
        lock.release().await.map_err(store)?;
        Ok(())
    }

    #[tracing::instrument(name = "baas_auth.keys.retire_expired", skip_all)]
    async fn retire_expired(&self, now: SystemTime) -> Result<Vec<String>, AuthError> {
        let due = || {
            Expr::col(K::State)
                .eq(KeyState::Retiring.as_str())
                .and(Expr::col(K::RetireAfter).lte(millis(now)))
        };
        let tx = self.db.begin_write().await.map_err(db)?;
        // A no-op write first locks the due rows on Postgres: a concurrent retire waits,
        // then finds them retired. (On SQLite `begin_write` holds the write lock already.)
        let stmt = Query::update()
            .table(K::Table)
            .value(K::State, KeyState::Retiring.as_str())
            .cond_where(due())
            .to_owned();
        tx.execute(&stmt).await.map_err(db)?;
        let select = Query::select()
            .column(K::Kid)
            .from(K::Table)
            .cond_where(due())
            .order_by(K::Kid, Order::Asc)
            .to_owned();
        let kids = tx
            .query_all(&select)
            .await
            .map_err(db)?
            .iter()
            .map(|r| r.try_get::<String>("", "kid").map_err(db))
            .collect::<Result<Vec<_>, _>>()?;
        let retire = Query::update()
            .table(K::Table)
            .value(K::State, KeyState::Retired.as_str())
            .value(K::SealedPrivate, Option::<Vec<u8>>::None)
            .cond_where(due())
            .to_owned();
        tx.execute(&retire).await.map_err(db)?;
        tx.commit().await.map_err(db)?;
        Ok(kids)
    }
}
