//! The SQL [`IdempotencyStore`] and a retention sweeper for any idempotency store.

use std::time::Duration;

use baas_core::Error;
use baas_core::clock::SharedClock;
use baas_core::idempotency::{Claim, ClaimToken, Fingerprint, IdempotencyScope, IdempotencyStore};
use bytes::Bytes;
use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query};

use crate::database::Database;
use crate::schema::IdempotencyRecords as R;
use crate::sql_error;
use crate::util::millis;

/// Idempotency records in the `idempotency_records` table of a [`Database`].
///
/// `claim` is atomic across processes: `INSERT … ON CONFLICT DO NOTHING` takes a free
/// key; an expired record is taken over by a conditional `UPDATE … WHERE expires_at <=
/// now`; otherwise the stored record answers (replay, in flight or mismatch). Time comes
/// from the injected clock, so leases and retention are tested without sleeping. Each
/// claim stores a random token; `complete` and `release` act only on the row holding
/// their token, so a holder whose lease ended cannot settle the next holder's claim.
///
/// ```
/// use baas_store::{Database, idempotency::SqlIdempotencyStore};
/// use baas_store::core::idempotency::{Claim, IdempotencyScope, IdempotencyStore};
/// use std::time::Duration;
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let db = Database::connect("sqlite::memory:").await?;
/// db.migrate().await?;
/// let store = SqlIdempotencyStore::new(db);
/// let scope = IdempotencyScope::Anonymous { route: "/v1/things".into() };
/// let lease = Duration::from_secs(30);
/// assert!(matches!(store.claim(&scope, "k", &[1; 32], lease).await?, Claim::Acquired(_)));
/// assert_eq!(store.claim(&scope, "k", &[1; 32], lease).await?, Claim::InFlight);
/// # Ok::<(), baas_store::core::Error>(())
/// # }).unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct SqlIdempotencyStore {
    db: Database,
    clock: SharedClock,
}

impl SqlIdempotencyStore {
    /// A store over `db` (migrated) on the system clock.
    pub fn new(db: Database) -> Self {
        Self::with_clock(db, baas_core::clock::system())
    }

    /// A store over `db` on `clock`.
    pub fn with_clock(db: Database, clock: SharedClock) -> Self {
        SqlIdempotencyStore { db, clock }
    }

    fn now(&self) -> i64 {
        millis(self.clock.now())
    }
}

fn later(now: i64, by: Duration) -> i64 {
    now.saturating_add(i64::try_from(by.as_millis()).unwrap_or(i64::MAX))
}

fn record_key(scope: &IdempotencyScope, key: &str) -> Expr {
    Expr::col(R::Scope)
        .eq(scope.storage_key())
        .and(Expr::col(R::Key).eq(key))
}

#[async_trait::async_trait]
impl IdempotencyStore for SqlIdempotencyStore {
    #[tracing::instrument(name = "baas_store.idempotency.claim", skip_all)]
    async fn claim(
        &self,
        scope: &IdempotencyScope,
        key: &str,
        fingerprint: &Fingerprint,
        lease: Duration,
    ) -> Result<Claim, Error> {
        crate::telemetry::observed("sql", "idempotency.claim", async {
            let conn = self.db.connection();
            // A concurrent release or sweep can remove the record between our statements;
            // then we simply try again.
            for _ in 0..5 {
                let now = self.now();
                let token = ClaimToken::generate();
                let insert = Query::insert()
                    .into_table(R::Table)
                    .columns([
                        R::Scope,
                        R::Key,
                        R::Fingerprint,
                        R::Response,
                        R::ExpiresAt,
                        R::Token,
                    ])
                    .values_panic([
                        scope.storage_key().into(),
                        key.into(),
                        fingerprint.to_vec().into(),
                        Option::<Vec<u8>>::None.into(),
                        later(now, lease).into(),
                        token.as_bytes().to_vec().into(),
                    ])
                    .on_conflict(
                        OnConflict::columns([R::Scope, R::Key])
                            .do_nothing()
                            .to_owned(),
                    )
                    .to_owned();
                if conn
                    .execute(&insert)
                    .await
                    .map_err(sql_error::db)?
                    .rows_affected()
                    == 1
                {
                    return Ok(Claim::Acquired(token));
                }
                let take_over = Query::update()
                    .table(R::Table)
                    .value(R::Fingerprint, fingerprint.to_vec())
                    .value(R::Response, Option::<Vec<u8>>::None)
                    .value(R::ExpiresAt, later(now, lease))
                    .value(R::Token, token.as_bytes().to_vec())
                    .and_where(record_key(scope, key).and(Expr::col(R::ExpiresAt).lte(now)))
                    .to_owned();
                if conn
                    .execute(&take_over)
                    .await
                    .map_err(sql_error::db)?
                    .rows_affected()
                    == 1
                {
                    return Ok(Claim::Acquired(token));
                }
                let select = Query::select()
                    .columns([R::Fingerprint, R::Response, R::ExpiresAt])
                    .from(R::Table)
                    .and_where(record_key(scope, key))
                    .to_owned();
                let Some(row) = conn.query_one(&select).await.map_err(sql_error::db)? else {
                    continue;
                };
                let stored: Vec<u8> = row.try_get("", "fingerprint").map_err(sql_error::db)?;
                let response: Option<Vec<u8>> =
                    row.try_get("", "response").map_err(sql_error::db)?;
                let expires: i64 = row.try_get("", "expires_at").map_err(sql_error::db)?;
                if expires <= now {
                    continue;
                }
                return Ok(if stored.as_slice() != fingerprint.as_slice() {
                    Claim::Mismatch
                } else if let Some(response) = response {
                    Claim::Replay(Bytes::from(response))
                } else {
                    Claim::InFlight
                });
            }
            Err(Error::new(
                baas_core::ErrorKind::Conflict,
                "idempotency key is contended; try again",
            ))
        })
        .await
    }

    #[tracing::instrument(name = "baas_store.idempotency.complete", skip_all)]
    async fn complete(
        &self,
        scope: &IdempotencyScope,
        key: &str,
        token: &ClaimToken,
        fingerprint: &Fingerprint,
        response: Bytes,
        ttl: Duration,
    ) -> Result<bool, Error> {
        crate::telemetry::observed("sql", "idempotency.complete", async {
            let expires = later(self.now(), ttl);
            let stmt = Query::update()
                .table(R::Table)
                .value(R::Fingerprint, fingerprint.to_vec())
                .value(R::Response, Some(response.to_vec()))
                .value(R::ExpiresAt, expires)
                .and_where(
                    record_key(scope, key)
                        .and(Expr::col(R::Token).eq(token.as_bytes().to_vec()))
                        .and(Expr::col(R::Response).is_null()),
                )
                .to_owned();
            let done = self
                .db
                .connection()
                .execute(&stmt)
                .await
                .map_err(sql_error::db)?;
            Ok(done.rows_affected() == 1)
        })
        .await
    }

    #[tracing::instrument(name = "baas_store.idempotency.release", skip_all)]
    async fn release(
        &self,
        scope: &IdempotencyScope,
        key: &str,
        token: &ClaimToken,
    ) -> Result<(), Error> {
        crate::telemetry::observed("sql", "idempotency.release", async {
            let stmt = Query::delete()
                .from_table(R::Table)
                .and_where(
                    record_key(scope, key)
                        .and(Expr::col(R::Token).eq(token.as_bytes().to_vec()))
                        .and(Expr::col(R::Response).is_null()),
                )
                .to_owned();
            self.db
                .connection()
                .execute(&stmt)
                .await
                .map_err(sql_error::db)?;
            Ok(())
        })
        .await
    }

    #[tracing::instrument(name = "baas_store.idempotency.sweep", skip_all)]
    async fn sweep(&self) -> Result<u64, Error> {
        crate::telemetry::observed("sql", "idempotency.sweep", async {
            let stmt = Query::delete()
                .from_table(R::Table)
                .and_where(Expr::col(R::ExpiresAt).lte(self.now()))
                .to_owned();
            let result = self
                .db
                .connection()
                .execute(&stmt)
                .await
                .map_err(sql_error::db)?;
            Ok(result.rows_affected())
        })
        .await
    }
}

/// The retention sweeper for any idempotency store, this one included: baas-core's
/// `spawn_sweeper`, re-exported so SQL users
/// find it here (DESIGN.md rule 11: everything grows old and goes).
pub use baas_core::idempotency::spawn_sweeper;
