//! [`Database::write_script`]: a write transaction of several statements in one round
//! trip to SQLite.
//!
//! sqlx runs every SQLite connection on a thread of its own and sends it one command at a
//! time: a transaction of `BEGIN`, two statements and `COMMIT` crosses between threads
//! four times, and each crossing is a thread switch on both sides. Sent as one script,
//! the same transaction crosses once.

use sea_orm::{DbErr, QueryResult, Statement};

use super::Database;
#[cfg(feature = "sqlite")]
use super::Engine;

impl Database {
    /// Run `statements` in one write transaction and return the rows each one returned
    /// (`RETURNING`), in order: all of them commit, or none.
    ///
    /// On a SQLite file the transaction — `BEGIN IMMEDIATE`, the statements, `COMMIT` —
    /// goes to [`Database::write_connection`] as one script, so it costs one round trip
    /// to sqlx's connection thread instead of one per statement. When a statement fails
    /// the script stops there and the transaction is rolled back; when the caller is
    /// dropped mid-script the connection is closed, which rolls it back too. Elsewhere
    /// (Postgres) it is [`Database::begin_write`] and one round trip per statement.
    ///
    /// Build the statements with sea-query (`backend.build(&stmt)`): on SQLite their
    /// values are bound in order across the whole script, so each statement must use
    /// plain `?` placeholders, as sea-query writes them for SQLite, not numbered ones.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// use baas_store::Database;
    /// use baas_store::sea_orm::{ConnectionTrait, Statement};
    ///
    /// let dir = tempfile::tempdir()?;
    /// let db = Database::connect(&format!("sqlite://{}/app.db", dir.path().display())).await?;
    /// db.connection().execute_unprepared("CREATE TABLE t (x INTEGER PRIMARY KEY)").await?;
    /// let backend = db.connection().get_database_backend();
    /// let rows = db
    ///     .write_script(&[
    ///         Statement::from_sql_and_values(backend, "INSERT INTO t (x) VALUES (?), (?)", [1.into(), 2.into()]),
    ///         Statement::from_sql_and_values(backend, "UPDATE t SET x = x + 10 WHERE x = ? RETURNING x", [2.into()]),
    ///     ])
    ///     .await?;
    /// assert!(rows[0].is_empty());
    /// assert_eq!(rows[1][0].try_get::<i64>("", "x")?, 12);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    ///
    /// # Errors
    ///
    /// The first statement's error (nothing is written), or the connection's.
    pub async fn write_script(
        &self,
        statements: &[Statement],
    ) -> Result<Vec<Vec<QueryResult>>, DbErr> {
        if statements.is_empty() {
            return Ok(Vec::new());
        }
        #[cfg(feature = "sqlite")]
        if self.engine == Engine::Sqlite {
            return sqlite::run(self.writer.get_sqlite_connection_pool(), statements).await;
        }
        let tx = self.begin_write().await?;
        let mut out = Vec::with_capacity(statements.len());
        for stmt in statements {
            out.push(sea_orm::ConnectionTrait::query_all_raw(&tx, stmt.clone()).await?);
        }
        tx.commit().await?;
        Ok(out)
    }
}

#[cfg(feature = "sqlite")]
mod sqlite {
    use futures_util::TryStreamExt as _;
    use sea_orm::sea_query::Values;
    use sea_orm::sqlx::pool::PoolConnection;
    use sea_orm::sqlx::{self, Either, Sqlite, SqlitePool};
    use sea_orm::{DbErr, QueryResult, RuntimeErr, Statement};
    use sea_query_sqlx::SqlxValues;

    /// The script's text and its values, in order.
    fn script(statements: &[Statement]) -> (String, Values) {
        let len = statements.iter().map(|s| s.sql.len() + 2).sum::<usize>();
        let mut sql = String::with_capacity(len + 32);
        let mut values = Vec::new();
        sql.push_str("BEGIN IMMEDIATE;");
        for s in statements {
            sql.push('\n');
            sql.push_str(s.sql.trim_end().trim_end_matches(';'));
            sql.push(';');
            if let Some(v) = &s.values {
                values.extend(v.0.iter().cloned());
            }
        }
        sql.push_str("\nCOMMIT;");
        (sql, Values(values))
    }

    pub(super) async fn run(
        pool: &SqlitePool,
        statements: &[Statement],
    ) -> Result<Vec<Vec<QueryResult>>, DbErr> {
        let (sql, values) = script(statements);
        let conn = pool.acquire().await.map_err(acquire_err)?;
        let mut conn = CloseUnlessDone { conn, done: false };
        // One result per statement, `BEGIN` and `COMMIT` included.
        let mut out: Vec<Vec<QueryResult>> = Vec::with_capacity(statements.len() + 2);
        let mut rows = Vec::new();
        let result = {
            // sqlx 0.9 deprecates `fetch_many` because only SQLite runs several
            // statements in one query; that is exactly what this is for, and it is the
            // only way to see where one statement's rows end.
            #[allow(deprecated, reason = "one query of several statements, on SQLite")]
            let mut stream = sqlx::query_with(sqlx::AssertSqlSafe(sql), SqlxValues(values))
                .fetch_many(&mut *conn.conn);
            loop {
                match stream.try_next().await {
                    Ok(Some(Either::Right(row))) => rows.push(QueryResult::from(row)),
                    Ok(Some(Either::Left(_))) => out.push(std::mem::take(&mut rows)),
                    Ok(None) => break Ok(()),
                    Err(e) => break Err(e),
                }
            }
        };
        match result {
            Ok(()) if out.len() == statements.len() + 2 => {
                conn.done = true;
                out.pop();
                out.remove(0);
                Ok(out)
            }
            Ok(()) => Err(DbErr::Custom(
                "a write script ended before its last statement".into(),
            )),
            Err(e) => {
                // The script stopped at `e`: roll back what it began. Should even that
                // fail, the connection is closed (which rolls back) rather than reused.
                if sqlx::query("ROLLBACK")
                    .execute(&mut *conn.conn)
                    .await
                    .is_ok()
                    || out.is_empty()
                {
                    conn.done = true;
                }
                Err(DbErr::Query(RuntimeErr::SqlxError(e.into())))
            }
        }
    }

    fn acquire_err(e: sqlx::Error) -> DbErr {
        match e {
            sqlx::Error::PoolTimedOut => {
                DbErr::ConnectionAcquire(sea_orm::error::ConnAcquireErr::Timeout)
            }
            sqlx::Error::PoolClosed => {
                DbErr::ConnectionAcquire(sea_orm::error::ConnAcquireErr::ConnectionClosed)
            }
            e => DbErr::Conn(RuntimeErr::SqlxError(e.into())),
        }
    }

    /// A connection that goes back to the pool only when its script ended cleanly;
    /// otherwise (dropped mid-script, or a failed rollback) it is closed, and SQLite
    /// rolls back whatever it left open.
    struct CloseUnlessDone {
        conn: PoolConnection<Sqlite>,
        done: bool,
    }

    impl Drop for CloseUnlessDone {
        fn drop(&mut self) {
            if !self.done {
                self.conn.close_on_drop();
            }
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use sea_orm::DbBackend;

        #[test]
        fn the_script_wraps_the_statements_and_keeps_their_values_in_order() {
            let s = |sql: &str, v: Vec<sea_orm::Value>| {
                Statement::from_sql_and_values(DbBackend::Sqlite, sql, v)
            };
            let (sql, values) = script(&[
                s("INSERT INTO t VALUES (?, ?);", vec![1.into(), 2.into()]),
                s("DELETE FROM t WHERE x = ?", vec![3.into()]),
            ]);
            assert_eq!(
                sql,
                "BEGIN IMMEDIATE;\nINSERT INTO t VALUES (?, ?);\nDELETE FROM t WHERE x = ?;\nCOMMIT;"
            );
            assert_eq!(values.0, vec![1.into(), 2.into(), 3.into()]);
        }
    }
}
