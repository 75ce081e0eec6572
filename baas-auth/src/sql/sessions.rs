//! [`SqlSessionStore`].

use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use baas_core::{SharedClock, TenantId};
use baas_store::group_commit::{GroupCommit, after_group_failure};
use baas_store::{Database, Engine};
use sea_orm::sea_query::{Expr, ExprTrait, Order, Query, SelectStatement, UpdateStatement};
use sea_orm::{ConnectionTrait, DatabaseTransaction, DbBackend, QueryResult, Statement};

use super::error::{db, store};
use super::schema::{RefreshTokens as T, Sessions as S};
use super::{duration_millis, from_millis, millis};
use crate::error::AuthError;
use crate::ids::{SessionId, UserId};
use crate::secret::RefreshToken;
use crate::sessions::{
    NewSession, RefreshOutcome, RefreshPolicy, Revocation, Session, SessionStore,
};

/// A [`SessionStore`] in `baas_auth_sessions` and `baas_auth_refresh_tokens` (run
/// [`Migrator`](super::Migrator) first). Every process sharing the database sees a
/// revocation as soon as it commits.
///
/// A rotation is one transaction whose first statement is a conditional `UPDATE` of
/// the presented token's row (`rotations = 0`, or `rotations = 1` within the grace
/// window), so concurrent rotations of one token serialise on that row and the
/// rules of [`SessionStore`] hold across processes.
///
/// On SQLite, concurrent rotations are written together: one transaction per group of
/// up to 64, each rotation applied in turn exactly as it would be alone (see
/// [`baas_store::group_commit`]). SQLite runs one write transaction at a time anyway, so
/// a group pays for one `BEGIN` and one `COMMIT`. Postgres keeps a transaction per
/// rotation.
#[derive(Debug, Clone)]
pub struct SqlSessionStore {
    db: Database,
    clock: SharedClock,
    /// Rotations waiting to be written together (SQLite only).
    rotations: Option<GroupCommit<Rotation, Result<RefreshOutcome, AuthError>>>,
}

/// The most rotations one grouped transaction carries.
const ROTATION_GROUP: usize = 64;

/// One [`SessionStore::rotate`] waiting for its group.
#[derive(Debug)]
struct Rotation {
    digest: Vec<u8>,
    policy: RefreshPolicy,
    now: SystemTime,
}

impl SqlSessionStore {
    /// A store on `db`, reading time from `clock`.
    pub fn new(db: Database, clock: SharedClock) -> Self {
        let rotations = (db.engine() == Engine::Sqlite).then(|| GroupCommit::new(ROTATION_GROUP));
        Self {
            db,
            clock,
            rotations,
        }
    }
}

/// One rotation in its own transaction.
async fn rotate_alone(database: &Database, r: &Rotation) -> Result<RefreshOutcome, AuthError> {
    let tx = database.begin_write().await.map_err(db)?;
    let outcome = rotate_in(&tx, &r.digest, &r.policy, r.now).await?;
    tx.commit().await.map_err(db)?;
    Ok(outcome)
}

/// A group of rotations (SQLite). First-time rotations of live tokens — nearly all of
/// them — are written together as one [`Database::write_script`] (one round trip, see
/// [`rotation_script`]); a call the script did not rotate (a token in its grace window,
/// reused, unknown, expired or revoked) wrote nothing there and is then rotated alone,
/// by the rules of [`rotate_in`]. A script that fails as a whole is handled by
/// [`after_group_failure`].
async fn rotate_group(
    database: &Database,
    calls: Vec<Rotation>,
) -> Vec<Result<Result<RefreshOutcome, AuthError>, baas_core::Error>> {
    let scripted = match rotate_scripted(database, &calls).await {
        Ok(scripted) => scripted,
        Err(err) => {
            return after_group_failure(&calls, err.into(), |r| async move {
                Ok(rotate_alone(database, r).await)
            })
            .await;
        }
    };
    let mut out = Vec::with_capacity(calls.len());
    for (r, rotated) in calls.iter().zip(scripted) {
        out.push(Ok(match rotated {
            Some(outcome) => Ok(outcome),
            None => rotate_alone(database, r).await,
        }));
    }
    out
}

/// Run [`rotation_script`] for `calls`: each call's outcome when the script rotated its
/// token, `None` when it wrote nothing for it.
async fn rotate_scripted(
    database: &Database,
    calls: &[Rotation],
) -> Result<Vec<Option<RefreshOutcome>>, AuthError> {
    let backend = database.write_connection().get_database_backend();
    let mut script = Vec::with_capacity(calls.len() * 3);
    let mut tokens = Vec::with_capacity(calls.len());
    for r in calls {
        let token = RefreshToken::generate();
        script.extend(rotation_script(backend, r, &token)?);
        tokens.push(token);
    }
    let results = database.write_script(&script).await.map_err(db)?;
    // Three statements per call; the third returns the slid session when it rotated.
    results
        .chunks(3)
        .zip(tokens)
        .map(|(rows, token)| match rows.get(2).and_then(|r| r.first()) {
            Some(row) => Ok(Some(RefreshOutcome::Rotated {
                session: decode(row)?,
                token,
            })),
            None => Ok(None),
        })
        .collect()
}

/// A first-time rotation of `r`'s token to `next`, as three SQLite statements that need
/// no answer in between:
///
/// 1. mark the presented token rotated — only if it never was (`rotations = 0`) and its
///    session is live;
/// 2. insert `next` in the same session — only if statement 1 changed a row
///    (SQLite's `changes()`);
/// 3. slide the session's expiry — the session of `next`, so only if statement 2
///    inserted it — returning the session.
///
/// When statement 1 changes nothing, none of them writes, and the rotation is left to
/// [`rotate_in`] (grace window, reuse, or refusal).
fn rotation_script(
    backend: DbBackend,
    r: &Rotation,
    next: &RefreshToken,
) -> Result<[Statement; 3], AuthError> {
    let now_ms = millis(r.now);
    let presented = || Expr::col(T::Digest).eq(r.digest.clone());
    let next_digest = next.digest().as_bytes().to_vec();
    let mark = first_rotation(&r.digest, now_ms);
    let successor = Query::insert()
        .into_table(T::Table)
        .columns(TOKEN_COLUMNS)
        .select_from(
            Query::select()
                .expr(Expr::val(next_digest.clone()))
                .column(T::SessionId)
                .expr(Expr::val(0i32))
                .expr(Expr::val(Option::<i64>::None))
                .expr(Expr::val(now_ms))
                .from(T::Table)
                .and_where(presented())
                .and_where(Expr::cust("changes() = 1"))
                .and_where(Expr::col(T::Rotations).eq(1i32))
                .and_where(Expr::col(T::RotatedAt).eq(now_ms))
                .to_owned(),
        )
        .map_err(AuthError::internal)?
        .to_owned();
    let slide = Query::update()
        .table(S::Table)
        .value(S::ExpiresAt, millis(r.now + r.policy.ttl))
        .value(S::LastRotatedAt, now_ms)
        .and_where(
            Expr::col(S::Id).in_subquery(
                Query::select()
                    .column(T::SessionId)
                    .from(T::Table)
                    .and_where(Expr::col(T::Digest).eq(next_digest))
                    .to_owned(),
            ),
        )
        .returning(Query::returning().columns(COLUMNS))
        .to_owned();
    Ok([
        backend.build(&mark),
        backend.build(&successor),
        backend.build(&slide),
    ])
}

const COLUMNS: [S; 8] = [
    S::Id,
    S::Tenant,
    S::UserId,
    S::ClientId,
    S::CreatedAt,
    S::ExpiresAt,
    S::LastRotatedAt,
    S::RevokedAt,
];

/// The columns of a new refresh-token row, in the order its values are given.
const TOKEN_COLUMNS: [T; 5] = [
    T::Digest,
    T::SessionId,
    T::Rotations,
    T::RotatedAt,
    T::CreatedAt,
];

fn select() -> SelectStatement {
    Query::select().columns(COLUMNS).from(S::Table).to_owned()
}

fn decode(row: &QueryResult) -> Result<Session, AuthError> {
    let id: String = row.try_get("", "id").map_err(db)?;
    let tenant: String = row.try_get("", "tenant").map_err(db)?;
    let user: String = row.try_get("", "user_id").map_err(db)?;
    let last: Option<i64> = row.try_get("", "last_rotated_at").map_err(db)?;
    let revoked: Option<i64> = row.try_get("", "revoked_at").map_err(db)?;
    Ok(Session {
        id: SessionId::parse(&id).map_err(AuthError::internal)?,
        tenant: TenantId::new(tenant).map_err(AuthError::internal)?,
        user_id: UserId::parse(&user).map_err(AuthError::internal)?,
        client_id: row.try_get("", "client_id").map_err(db)?,
        created_at: from_millis(row.try_get("", "created_at").map_err(db)?),
        expires_at: from_millis(row.try_get("", "expires_at").map_err(db)?),
        last_rotated_at: last.map(from_millis),
        revoked_at: revoked.map(from_millis),
    })
}

/// Whether the refresh-token row's session can still be refreshed at `now`: a
/// correlated `EXISTS`, one primary-key lookup per row. (An `IN (SELECT id …)` of every
/// live session made each rotation scan all the installation's sessions.)
fn session_is_live(now: i64) -> Expr {
    Expr::exists(
        Query::select()
            .expr(Expr::val(1))
            .from(S::Table)
            .and_where(Expr::col((S::Table, S::Id)).equals((T::Table, T::SessionId)))
            .and_where(Expr::col((S::Table, S::RevokedAt)).is_null())
            .and_where(Expr::col((S::Table, S::ExpiresAt)).gt(now))
            .to_owned(),
    )
}

/// Mark the token of `digest` rotated at `now_ms` — only if it never was
/// (`rotations = 0`) and its session is live: the first step of every rotation.
fn first_rotation(digest: &[u8], now_ms: i64) -> UpdateStatement {
    Query::update()
        .table(T::Table)
        .value(T::Rotations, 1i32)
        .value(T::RotatedAt, now_ms)
        .and_where(Expr::col(T::Digest).eq(digest.to_vec()))
        .and_where(Expr::col(T::Rotations).eq(0i32))
        .and_where(session_is_live(now_ms))
        .to_owned()
}

async fn insert_token(
    conn: &impl ConnectionTrait,
    session: &SessionId,
    now: i64,
) -> Result<RefreshToken, AuthError> {
    let token = RefreshToken::generate();
    let stmt = Query::insert()
        .into_table(T::Table)
        .columns(TOKEN_COLUMNS)
        .values_panic([
            token.digest().as_bytes().to_vec().into(),
            session.to_string().into(),
            0i32.into(),
            Option::<i64>::None.into(),
            now.into(),
        ])
        .to_owned();
    conn.execute(&stmt).await.map_err(db)?;
    Ok(token)
}

async fn session_of_token(
    conn: &impl ConnectionTrait,
    digest: &[u8],
) -> Result<Option<Session>, AuthError> {
    let stmt = select()
        .and_where(
            Expr::col(S::Id).in_subquery(
                Query::select()
                    .column(T::SessionId)
                    .from(T::Table)
                    .and_where(Expr::col(T::Digest).eq(digest.to_vec()))
                    .to_owned(),
            ),
        )
        .to_owned();
    conn.query_one(&stmt)
        .await
        .map_err(db)?
        .as_ref()
        .map(decode)
        .transpose()
}

async fn revoke_on(
    conn: &impl ConnectionTrait,
    id: &SessionId,
    now: i64,
) -> Result<bool, AuthError> {
    let stmt = Query::update()
        .table(S::Table)
        .value(S::RevokedAt, now)
        .and_where(Expr::col(S::Id).eq(id.to_string()))
        .and_where(Expr::col(S::RevokedAt).is_null())
        .to_owned();
    Ok(conn.execute(&stmt).await.map_err(db)?.rows_affected() == 1)
}

/// The rotation itself, inside `tx`.
async fn rotate_in(
    tx: &DatabaseTransaction,
    digest: &[u8],
    policy: &RefreshPolicy,
    now: SystemTime,
) -> Result<RefreshOutcome, AuthError> {
    let now_ms = millis(now);
    let mine = || Expr::col(T::Digest).eq(digest.to_vec());
    let first = first_rotation(digest, now_ms);
    let mut rotated = tx.execute(&first).await.map_err(db)?.rows_affected() == 1;
    if !rotated {
        let grace = Query::update()
            .table(T::Table)
            .value(T::Rotations, 2i32)
            .and_where(mine())
            .and_where(Expr::col(T::Rotations).eq(1i32))
            .and_where(
                Expr::col(T::RotatedAt).gt(now_ms.saturating_sub(duration_millis(policy.grace))),
            )
            .and_where(session_is_live(now_ms))
            .to_owned();
        rotated = tx.execute(&grace).await.map_err(db)?.rows_affected() == 1;
    }
    let session = session_of_token(tx, digest)
        .await?
        .filter(|s| s.is_active_at(now))
        .ok_or(AuthError::InvalidRefreshToken)?;
    if !rotated {
        revoke_on(tx, &session.id, now_ms).await?;
        let session = Session {
            revoked_at: Some(now),
            ..session
        };
        return Ok(RefreshOutcome::ReuseDetected { session });
    }
    let token = insert_token(tx, &session.id, now_ms).await?;
    let expires_at = now + policy.ttl;
    let slide = Query::update()
        .table(S::Table)
        .value(S::ExpiresAt, millis(expires_at))
        .value(S::LastRotatedAt, now_ms)
        .and_where(Expr::col(S::Id).eq(session.id.to_string()))
        .to_owned();
    tx.execute(&slide).await.map_err(db)?;
    let session = Session {
        expires_at: from_millis(millis(expires_at)),
        last_rotated_at: Some(from_millis(now_ms)),
        ..session
    };
    Ok(RefreshOutcome::Rotated { session, token })
}

#[async_trait]
impl SessionStore for SqlSessionStore {
    #[tracing::instrument(name = "baas_auth.sessions.create", skip_all)]
    async fn create(
        &self,
        tenant: &TenantId,
        session: NewSession,
    ) -> Result<(Session, RefreshToken), AuthError> {
        let now = from_millis(millis(self.clock.now()));
        let created = Session {
            id: SessionId::generate(),
            tenant: tenant.clone(),
            user_id: session.user_id,
            client_id: session.client_id,
            created_at: now,
            expires_at: from_millis(millis(now + session.ttl)),
            last_rotated_at: None,
            revoked_at: None,
        };
        let tx = self.db.begin_write().await.map_err(db)?;
        let stmt = Query::insert()
            .into_table(S::Table)
            .columns(COLUMNS)
            .values_panic([
                created.id.to_string().into(),
                tenant.as_str().into(),
                created.user_id.to_string().into(),
                created.client_id.clone().into(),
                millis(created.created_at).into(),
                millis(created.expires_at).into(),
                Option::<i64>::None.into(),
                Option::<i64>::None.into(),
            ])
            .to_owned();
        tx.execute(&stmt).await.map_err(db)?;
        let token = insert_token(&tx, &created.id, millis(now)).await?;
        tx.commit().await.map_err(db)?;
        Ok((created, token))
    }

    #[tracing::instrument(name = "baas_auth.sessions.rotate", skip_all)]
    async fn rotate(
        &self,
        presented: &RefreshToken,
        policy: &RefreshPolicy,
    ) -> Result<RefreshOutcome, AuthError> {
        let rotation = Rotation {
            digest: presented.digest().as_bytes().to_vec(),
            policy: *policy,
            now: from_millis(millis(self.clock.now())),
        };
        let Some(group) = &self.rotations else {
            return rotate_alone(&self.db, &rotation).await;
        };
        let database = self.db.clone();
        group
            .submit(rotation, 1, move |calls| {
                let database = database.clone();
                async move { rotate_group(&database, calls).await }
            })
            .await
            .map_err(store)?
    }

    #[tracing::instrument(name = "baas_auth.sessions.get", skip_all)]
    async fn get(&self, tenant: &TenantId, id: &SessionId) -> Result<Option<Session>, AuthError> {
        let stmt = select()
            .and_where(Expr::col(S::Tenant).eq(tenant.as_str()))
            .and_where(Expr::col(S::Id).eq(id.to_string()))
            .to_owned();
        self.db
            .reads()
            .query_one(&stmt)
            .await
            .map_err(db)?
            .as_ref()
            .map(decode)
            .transpose()
    }

    #[tracing::instrument(name = "baas_auth.sessions.revoke", skip_all)]
    async fn revoke(&self, tenant: &TenantId, id: &SessionId) -> Result<bool, AuthError> {
        let stmt = Query::update()
            .table(S::Table)
            .value(S::RevokedAt, millis(self.clock.now()))
            .and_where(Expr::col(S::Tenant).eq(tenant.as_str()))
            .and_where(Expr::col(S::Id).eq(id.to_string()))
            .and_where(Expr::col(S::RevokedAt).is_null())
            .to_owned();
        let done = self.db.connection().execute(&stmt).await.map_err(db)?;
        Ok(done.rows_affected() == 1)
    }

    #[tracing::instrument(name = "baas_auth.sessions.revoke_family", skip_all)]
    async fn revoke_family(&self, presented: &RefreshToken) -> Result<Option<Session>, AuthError> {
        let conn = self.db.connection();
        let digest = presented.digest();
        let Some(session) = session_of_token(conn, digest.as_bytes()).await? else {
            return Ok(None);
        };
        revoke_on(conn, &session.id, millis(self.clock.now())).await?;
        session_of_token(conn, digest.as_bytes()).await
    }

    #[tracing::instrument(name = "baas_auth.sessions.revoke_all_for_user", skip_all)]
    async fn revoke_all_for_user(
        &self,
        tenant: &TenantId,
        user: &UserId,
        except: Option<&SessionId>,
    ) -> Result<u64, AuthError> {
        let mut stmt = Query::update()
            .table(S::Table)
            .value(S::RevokedAt, millis(self.clock.now()))
            .and_where(Expr::col(S::Tenant).eq(tenant.as_str()))
            .and_where(Expr::col(S::UserId).eq(user.to_string()))
            .and_where(Expr::col(S::RevokedAt).is_null())
            .to_owned();
        if let Some(except) = except {
            stmt.and_where(Expr::col(S::Id).ne(except.to_string()));
        }
        let done = self.db.connection().execute(&stmt).await.map_err(db)?;
        Ok(done.rows_affected())
    }

    #[tracing::instrument(name = "baas_auth.sessions.is_revoked", skip_all)]
    async fn is_revoked(&self, tenant: &TenantId, id: &SessionId) -> Result<bool, AuthError> {
        let stmt = Query::select()
            .column(S::RevokedAt)
            .from(S::Table)
            .and_where(Expr::col(S::Tenant).eq(tenant.as_str()))
            .and_where(Expr::col(S::Id).eq(id.to_string()))
            .to_owned();
        match self.db.reads().query_one(&stmt).await.map_err(db)? {
            None => Ok(true),
            Some(row) => {
                let revoked: Option<i64> = row.try_get("", "revoked_at").map_err(db)?;
                Ok(revoked.is_some())
            }
        }
    }

    #[tracing::instrument(name = "baas_auth.sessions.revoked_since", skip_all)]
    async fn revoked_since(
        &self,
        since: SystemTime,
        limit: usize,
    ) -> Result<Vec<Revocation>, AuthError> {
        let stmt = Query::select()
            .columns([S::Tenant, S::Id, S::UserId, S::RevokedAt])
            .from(S::Table)
            .and_where(Expr::col(S::RevokedAt).gte(millis(since)))
            .order_by(S::RevokedAt, Order::Asc)
            .order_by(S::Id, Order::Asc)
            .limit(limit as u64)
            .to_owned();
        let rows = self.db.reads().query_all(&stmt).await.map_err(db)?;
        rows.iter()
            .map(|row| {
                let tenant: String = row.try_get("", "tenant").map_err(db)?;
                let id: String = row.try_get("", "id").map_err(db)?;
                let user: String = row.try_get("", "user_id").map_err(db)?;
                let at: i64 = row.try_get("", "revoked_at").map_err(db)?;
                Ok(Revocation {
                    tenant: TenantId::new(tenant).map_err(AuthError::internal)?,
                    session_id: SessionId::parse(&id).map_err(AuthError::internal)?,
                    user_id: UserId::parse(&user).map_err(AuthError::internal)?,
                    revoked_at: from_millis(at),
                })
            })
            .collect()
    }

    #[tracing::instrument(name = "baas_auth.sessions.sweep", skip_all)]
    async fn sweep(&self, retention: Duration) -> Result<u64, AuthError> {
        let cutoff = millis(self.clock.now()).saturating_sub(duration_millis(retention));
        let done = || {
            Query::select()
                .column(S::Id)
                .from(S::Table)
                .cond_where(
                    Expr::col(S::RevokedAt)
                        .lte(cutoff)
                        .or(Expr::col(S::ExpiresAt).lte(cutoff)),
                )
                .to_owned()
        };
        let tx = self.db.begin_write().await.map_err(db)?;
        let tokens = Query::delete()
            .from_table(T::Table)
            .and_where(Expr::col(T::SessionId).in_subquery(done()))
            .to_owned();
        tx.execute(&tokens).await.map_err(db)?;
        let sessions = Query::delete()
            .from_table(S::Table)
            .cond_where(
                Expr::col(S::RevokedAt)
                    .lte(cutoff)
                    .or(Expr::col(S::ExpiresAt).lte(cutoff)),
            )
            .to_owned();
        let n = tx.execute(&sessions).await.map_err(db)?.rows_affected();
        tx.commit().await.map_err(db)?;
        Ok(n)
    }
}
