//! The physical limit on SQL: raw sqlx statements doing what the SQL backend does —
//! enqueue (`INSERT`), claim under a lease (`UPDATE … RETURNING`; on Postgres the
//! candidates picked `FOR UPDATE SKIP LOCKED`) and ack (`DELETE` matching the lease) — on
//! the backend's own table (`baas_queue_messages`, migrated into a fresh database), at
//! the same durability settings and batch size, with no worker runtime around them.
//!
//! `single`: one `INSERT` per job; the consumer claims one row, "handles" it, deletes
//! it. `batched`: one multi-row `INSERT` per batch; the consumer claims up to `batch` rows
//! and deletes them with one statement. `raw1` (batched only) makes the statements the
//! backend makes instead — one `INSERT` per message (the batch in one transaction), one
//! `DELETE` per message — to tell the cost of the statement count from the cost of the
//! layers around it.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use baas_core::BoxError;
// Statements are built from placeholders only (`?` / `$n`), never from values, hence
// `AssertSqlSafe`.
use sea_orm::sqlx::{self, AssertSqlSafe, PgPool, Row as _, SqlitePool};
use tokio::sync::Notify;
use uuid::Uuid;

use crate::baas::Measured;
use crate::latency::Recorder;
use crate::report::Mode;

const LEASE_MS: i64 = 30_000;

/// A pool on a database whose `baas_queue_messages` table exists.
#[derive(Debug, Clone)]
pub(crate) enum RawDb {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// `?, ?, …` (SQLite) or `$from, $from+1, …` (Postgres) for `n` parameters.
fn params(pg: bool, from: usize, n: usize) -> String {
    (0..n)
        .map(|k| {
            if pg {
                format!("${}", from + k)
            } else {
                "?".to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The `INSERT` of `rows` messages (the backend's columns; headers `{}`).
fn insert_sql(pg: bool, rows: usize) -> String {
    let headers = if pg { "'{}'::jsonb" } else { "'{}'" };
    let values = (0..rows)
        .map(|r| {
            format!(
                "({}, {headers}, NULL, {}, NULL, 0, 0)",
                params(pg, 1 + r * 6, 4),
                params(pg, 5 + r * 6, 2)
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "INSERT INTO baas_queue_messages (id, queue, tenant, payload, headers, dedupe_key, \
         enqueued_at, visible_at, lease_token, attempts, status) VALUES {values}"
    )
}

const SQLITE_CLAIM: &str = "UPDATE baas_queue_messages SET lease_token = ?, visible_at = ?, \
     attempts = attempts + 1 WHERE id IN (SELECT id FROM baas_queue_messages WHERE queue = ? \
     AND status = 0 AND visible_at <= ? ORDER BY visible_at ASC, id ASC LIMIT ?) AND status = 0 \
     AND visible_at <= ? RETURNING id, tenant, payload, headers, dedupe_key, enqueued_at, attempts";

const PG_CLAIM: &str = "WITH picked AS (SELECT id FROM baas_queue_messages WHERE queue = $1 \
     AND status = 0 AND visible_at <= $2 ORDER BY visible_at ASC, id ASC LIMIT $3 \
     FOR UPDATE SKIP LOCKED) UPDATE baas_queue_messages m SET lease_token = $4, visible_at = $5, \
     attempts = m.attempts + 1 FROM picked WHERE m.id = picked.id \
     RETURNING m.id, m.tenant, m.payload, m.headers, m.dedupe_key, m.enqueued_at, m.attempts";

impl RawDb {
    fn is_pg(&self) -> bool {
        matches!(self, RawDb::Postgres(_))
    }

    /// Insert one row per payload, in one statement.
    async fn insert(&self, queue: &str, payloads: &[[u8; 16]]) -> Result<(), BoxError> {
        let sql = insert_sql(self.is_pg(), payloads.len());
        let now = now_ms();
        macro_rules! bind_all {
            ($q:expr) => {{
                let mut q = $q;
                for payload in payloads {
                    q = q
                        .bind(Uuid::now_v7())
                        .bind(queue)
                        .bind("bench")
                        .bind(payload.to_vec())
                        .bind(now)
                        .bind(now);
                }
                q
            }};
        }
        match self {
            RawDb::Sqlite(pool) => {
                bind_all!(sqlx::query(AssertSqlSafe(sql.as_str())))
                    .execute(pool)
                    .await?;
            }
            RawDb::Postgres(pool) => {
                bind_all!(sqlx::query(AssertSqlSafe(sql.as_str())))
                    .execute(pool)
                    .await?;
            }
        }
        Ok(())
    }

    /// Insert one row per payload, one statement each, in one transaction (the
    /// statements `SqlQueue::enqueue_batch` makes).
    async fn insert_each(&self, queue: &str, payloads: &[[u8; 16]]) -> Result<(), BoxError> {
        let sql = insert_sql(self.is_pg(), 1);
        let now = now_ms();
        macro_rules! each {
            ($pool:expr) => {{
                let mut tx = $pool.begin().await?;
                for payload in payloads {
                    sqlx::query(AssertSqlSafe(sql.as_str()))
                        .bind(Uuid::now_v7())
                        .bind(queue)
                        .bind("bench")
                        .bind(payload.to_vec())
                        .bind(now)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
            }};
        }
        match self {
            RawDb::Sqlite(pool) => each!(pool),
            RawDb::Postgres(pool) => each!(pool),
        }
        Ok(())
    }

    /// Claim up to `max` ready rows under a new lease token; their ids and payloads.
    async fn claim(
        &self,
        queue: &str,
        max: usize,
    ) -> Result<(Uuid, Vec<(Uuid, Vec<u8>)>), BoxError> {
        let now = now_ms();
        let token = Uuid::new_v4();
        let limit = i64::try_from(max).unwrap_or(i64::MAX);
        macro_rules! read {
            ($rows:expr) => {
                $rows
                    .iter()
                    .map(|row| {
                        // Decode every column the backend reads, as it does.
                        let _: String = row.try_get("tenant")?;
                        let _: Option<String> = row.try_get("dedupe_key")?;
                        let _: i64 = row.try_get("enqueued_at")?;
                        let _: i32 = row.try_get("attempts")?;
                        Ok((row.try_get("id")?, row.try_get("payload")?))
                    })
                    .collect::<Result<Vec<_>, sqlx::Error>>()?
            };
        }
        let rows = match self {
            RawDb::Sqlite(pool) => {
                let rows = sqlx::query(SQLITE_CLAIM)
                    .bind(token)
                    .bind(now + LEASE_MS)
                    .bind(queue)
                    .bind(now)
                    .bind(limit)
                    .bind(now)
                    .fetch_all(pool)
                    .await?;
                read!(rows)
            }
            RawDb::Postgres(pool) => {
                let rows = sqlx::query(PG_CLAIM)
                    .bind(queue)
                    .bind(now)
                    .bind(limit)
                    .bind(token)
                    .bind(now + LEASE_MS)
                    .fetch_all(pool)
                    .await?;
                read!(rows)
            }
        };
        Ok((token, rows))
    }

    /// Delete the rows `ids` held under `token` (one statement).
    async fn ack(&self, queue: &str, token: Uuid, ids: &[Uuid]) -> Result<u64, BoxError> {
        let now = now_ms();
        let done = match self {
            RawDb::Sqlite(pool) => {
                let sql = format!(
                    "DELETE FROM baas_queue_messages WHERE id IN ({}) AND queue = ? AND \
                     lease_token = ? AND status = 0 AND visible_at > ?",
                    params(false, 0, ids.len())
                );
                let mut q = sqlx::query(AssertSqlSafe(sql.as_str()));
                for id in ids {
                    q = q.bind(*id);
                }
                q.bind(queue)
                    .bind(token)
                    .bind(now)
                    .execute(pool)
                    .await?
                    .rows_affected()
            }
            RawDb::Postgres(pool) => sqlx::query(
                "DELETE FROM baas_queue_messages WHERE id = ANY($1) AND queue = $2 AND \
                 lease_token = $3 AND status = 0 AND visible_at > $4",
            )
            .bind(ids)
            .bind(queue)
            .bind(token)
            .bind(now)
            .execute(pool)
            .await?
            .rows_affected(),
        };
        Ok(done)
    }
}

/// How the raw statements settle a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Statements {
    /// One multi-row `INSERT` per enqueued batch, one `DELETE` per claimed batch: the
    /// physical limit (`raw`).
    PerBatch,
    /// One `INSERT` per message (a batch in one transaction) and one `DELETE` per
    /// message: the statement count of the SQL backend under the worker (`raw1`).
    PerMessage,
}

/// Enqueue `jobs` jobs while one consumer claims, handles and acks them.
pub(crate) async fn run(
    db: RawDb,
    queue: &str,
    mode: Mode,
    jobs: usize,
    batch: usize,
    statements: Statements,
) -> Result<Measured, BoxError> {
    let recorder = Arc::new(Recorder::new(jobs));
    let wake = Arc::new(Notify::new());
    let per_claim = match mode {
        Mode::Single => 1,
        Mode::Batched => batch,
    };
    let start = Instant::now();
    let consumer = {
        let (db, recorder, wake, queue) = (
            db.clone(),
            Arc::clone(&recorder),
            Arc::clone(&wake),
            queue.to_owned(),
        );
        tokio::spawn(async move {
            let mut nap = Duration::from_millis(10);
            while recorder.handled() < recorder.jobs() {
                let woken = wake.notified();
                let (token, rows) = db.claim(&queue, per_claim).await?;
                if rows.is_empty() {
                    // Woken by the producer, as the backend is by its own enqueues.
                    let _ = tokio::time::timeout(nap, woken).await;
                    nap = (nap * 2).min(Duration::from_millis(250));
                    continue;
                }
                nap = Duration::from_millis(10);
                let ids: Vec<Uuid> = rows.iter().map(|(id, _)| *id).collect();
                for (_, payload) in &rows {
                    recorder.record(payload);
                }
                let acked = match statements {
                    Statements::PerBatch => db.ack(&queue, token, &ids).await?,
                    Statements::PerMessage => {
                        let mut acked = 0;
                        for id in &ids {
                            acked += db.ack(&queue, token, std::slice::from_ref(id)).await?;
                        }
                        acked
                    }
                };
                if acked != ids.len() as u64 {
                    return Err::<(), BoxError>(format!("acked {acked} of {}", ids.len()).into());
                }
            }
            Ok(())
        })
    };
    let step = match mode {
        Mode::Single => 1,
        Mode::Batched => batch,
    };
    for first in (0..jobs).step_by(step) {
        let payloads: Vec<[u8; 16]> = (first..(first + step).min(jobs))
            .map(|i| recorder.payload(i))
            .collect();
        match statements {
            Statements::PerMessage if payloads.len() > 1 => {
                db.insert_each(queue, &payloads).await?;
            }
            _ => db.insert(queue, &payloads).await?,
        }
        wake.notify_waiters();
    }
    let enqueued = start.elapsed();
    consumer.await??;
    let elapsed = start.elapsed();
    let (p50, p99) = recorder.percentiles();
    Ok(Measured {
        enqueued,
        elapsed,
        p50,
        p99,
    })
}
