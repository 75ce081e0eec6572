//! A group of [`SqlBlobLedger`](super::SqlBlobLedger) commits on SQLite as one
//! [`Database::write_script`]: one round trip to SQLite's thread for the whole group,
//! where statement by statement it took three per commit plus the transaction's own.
//!
//! Each commit is three statements that need no answer in between, applied in turn
//! inside the script's `BEGIN IMMEDIATE` transaction (so what each reads is what the
//! commits before it left):
//!
//! 1. read the metadata the key has now (the replaced object, if any);
//! 2. move the tenant's usage by the size difference, computed inside the statement
//!    from the stored size — only if the limit allows it (when the object grows) —
//!    returning the usage row when it moved;
//! 3. write the key's metadata, only if statement 2 changed a row (SQLite's
//!    `changes()`).
//!
//! So a commit over quota writes nothing, exactly as the statement-by-statement path.

use baas_core::Error;
use sea_orm::sea_query::{Expr, ExprTrait as _, Func, OnConflict, Query, SelectStatement};
use sea_orm::{DbBackend, Statement};

use super::migration::{BlobObjects as O, TenantUsage as U};
use super::quota::Committed;
use super::sql_ledger::{CommitCall, META_COLUMNS, meta_of, meta_row, replace_on_key, to_i64};
use crate::Database;
use crate::sql_error::db as from_db;

/// Apply `calls` in order as one script; one answer per call.
pub(super) async fn commit_script(
    db: &Database,
    calls: &[CommitCall],
) -> Result<Vec<Committed>, Error> {
    let backend = db.write_connection().get_database_backend();
    debug_assert_eq!(backend, DbBackend::Sqlite);
    let script: Vec<Statement> = calls
        .iter()
        .flat_map(|call| commit_statements(backend, call))
        .collect();
    let results = db.write_script(&script).await.map_err(from_db)?;
    results
        .chunks(3)
        .map(|rows| {
            let old = rows[0].first().map(meta_of).transpose()?;
            Ok(if rows[1].is_empty() {
                Committed::OverQuota
            } else {
                Committed::Stored { replaced: old }
            })
        })
        .collect()
}

/// The three statements of one commit.
fn commit_statements(backend: DbBackend, call: &CommitCall) -> [Statement; 3] {
    let CommitCall {
        tenant,
        meta,
        limit,
    } = call;
    let this_key = |select: &mut SelectStatement| {
        select
            .from(O::Table)
            .and_where(Expr::col(O::Tenant).eq(tenant.as_str()))
            .and_where(Expr::col(O::Key).eq(meta.key.as_str()));
    };
    let mut old = Query::select();
    old.columns(META_COLUMNS);
    this_key(&mut old);

    // size − (the stored size, or 0): what the commit adds to the tenant's usage.
    let mut stored_size = Query::select();
    stored_size.expr(Expr::col(O::Size));
    this_key(&mut stored_size);
    let delta = || {
        Expr::val(to_i64(meta.size)).sub(Func::coalesce([
            Expr::SubQuery(None, Box::new(stored_size.clone().into())),
            Expr::val(0i64),
        ]))
    };
    let mut usage = Query::select();
    usage
        .expr(Expr::val(tenant.as_str()))
        .expr(delta())
        .expr(Expr::val(0i64));
    let mut on_conflict = OnConflict::column(U::Tenant);
    on_conflict.value(
        U::BytesUsed,
        Expr::col((U::Table, U::BytesUsed)).add(Expr::cust("excluded.bytes_used")),
    );
    match limit.map(to_i64) {
        // A new usage row holds only this object.
        Some(limit) => {
            usage.and_where(delta().lte(limit));
            // A row that exists: only growth is checked against the limit.
            on_conflict.action_and_where(
                Expr::cust("excluded.bytes_used")
                    .lte(0i64)
                    .or(Expr::col((U::Table, U::BytesUsed))
                        .add(Expr::col((U::Table, U::BytesReserved)))
                        .add(Expr::cust("excluded.bytes_used"))
                        .lte(limit)),
            );
        }
        // `INSERT … SELECT … ON CONFLICT` needs a WHERE to parse on SQLite.
        None => {
            usage.and_where(Expr::val(true));
        }
    }
    let mut move_usage = Query::insert();
    move_usage
        .into_table(U::Table)
        .columns([U::Tenant, U::BytesUsed, U::BytesReserved])
        .select_from(usage)
        .expect("three columns, three values")
        .on_conflict(on_conflict.to_owned())
        .returning(Query::returning().column(U::Tenant));

    let mut values = Query::select();
    for value in meta_row(tenant, meta) {
        values.expr(value);
    }
    values.and_where(Expr::cust("changes() = 1"));
    let mut write_meta = Query::insert();
    write_meta
        .into_table(O::Table)
        .columns(std::iter::once(O::Tenant).chain(META_COLUMNS))
        .select_from(values)
        .expect("seven columns, seven values")
        .on_conflict(replace_on_key());
    [
        backend.build(&old),
        backend.build(&move_usage),
        backend.build(&write_meta),
    ]
}
