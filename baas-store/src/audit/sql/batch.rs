//! Writing one batch of entries in one transaction.
//!
//! For each tenant of the batch: read the chain's head, chain the tenant's entries after
//! it in memory, in order. Then, in one transaction sent as one
//! [`Database::write_script`]: one multi-row insert per tenant, and the head moved from
//! the sequence number read (`UPDATE … WHERE seq = read`, or the head row inserted for a
//! new chain). When another process appended first, it inserted the next sequence number
//! before moving the head, so a record's primary key `(tenant, seq)` is taken (or, for a
//! new chain, the head's): the transaction rolls back and the whole batch is read and
//! chained again.

use std::collections::HashMap;

use baas_core::{Error, ErrorKind, TenantId};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ConnectionTrait, DbBackend, Statement};

use super::{COLUMNS, head_on, row_values};
use crate::audit::chain::{AuditEntry, AuditRecord, GENESIS_HASH};
use crate::database::Database;
use crate::schema::{AuditHeads as H, AuditLog as A};
use crate::sql_error;

/// How often a batch is chained again after losing a race for a head.
const ATTEMPTS: usize = 64;

/// Append `entries` (valid, in order) in one transaction; their records, in the same
/// order.
pub(super) async fn write(
    db: &Database,
    entries: &[AuditEntry],
    at_ms: impl Fn() -> i64,
) -> Result<Vec<AuditRecord>, Error> {
    let tenants = by_tenant(entries);
    for _ in 0..ATTEMPTS {
        if let Some(records) = try_write(db, entries, &tenants, at_ms()).await? {
            return Ok(records);
        }
        tokio::task::yield_now().await;
    }
    Err(Error::new(
        ErrorKind::Unavailable,
        "audit log is contended; try again",
    ))
}

/// The positions of each tenant's entries, tenants in order of first appearance.
fn by_tenant(entries: &[AuditEntry]) -> Vec<(&TenantId, Vec<usize>)> {
    let mut index: HashMap<&TenantId, usize> = HashMap::new();
    let mut tenants: Vec<(&TenantId, Vec<usize>)> = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        let slot = *index.entry(&e.tenant).or_insert_with(|| {
            tenants.push((&e.tenant, Vec::new()));
            tenants.len() - 1
        });
        tenants[slot].1.push(i);
    }
    tenants
}

/// One tenant's part of a batch: its records and the head they move.
struct Chained {
    tenant: TenantId,
    /// The head's sequence number as read (`None`: the chain had no head yet).
    read_seq: Option<i64>,
    new_seq: i64,
    new_hash: [u8; 32],
}

/// One attempt: `Ok(None)` when another appender moved a head first.
async fn try_write(
    db: &Database,
    entries: &[AuditEntry],
    tenants: &[(&TenantId, Vec<usize>)],
    at_ms: i64,
) -> Result<Option<Vec<AuditRecord>>, Error> {
    let conn = db.reads();
    let mut records: Vec<Option<AuditRecord>> = vec![None; entries.len()];
    let mut chained = Vec::with_capacity(tenants.len());
    let mut inserts = Vec::with_capacity(tenants.len());
    // Read the heads before the transaction, outside the write lock: the transaction
    // then only writes, and `move_head` finds a head another appender moved meanwhile.
    for (tenant, positions) in tenants {
        let head = head_on(conn, tenant).await?;
        let (mut seq, mut prev) = head.unwrap_or((0, GENESIS_HASH));
        let mut insert = Query::insert()
            .into_table(A::Table)
            .columns(COLUMNS)
            .to_owned();
        for &i in positions {
            seq += 1;
            let record = AuditRecord::seal(entries[i].clone(), seq, at_ms, prev);
            prev = record.hash;
            insert.values_panic(row_values(&record)?);
            records[i] = Some(record);
        }
        inserts.push(insert);
        chained.push(Chained {
            tenant: (*tenant).clone(),
            read_seq: head.map(|(s, _)| to_i64(s)).transpose()?,
            new_seq: to_i64(seq)?,
            new_hash: prev,
        });
    }

    // One write script: the rows, then the heads. Another appender that moved a head
    // since it was read inserted that tenant's next sequence number first, so ours
    // conflicts on the primary key and nothing of the script stays.
    let backend = conn.get_database_backend();
    let mut script: Vec<Statement> = inserts.iter().map(|i| backend.build(i)).collect();
    script.extend(chained.iter().map(|c| move_head(backend, c)));
    match db.write_script(&script).await.map_err(sql_error::db) {
        Ok(_) => Ok(Some(records.into_iter().flatten().collect())),
        Err(e) if e.kind() == ErrorKind::Conflict => Ok(None),
        Err(e) => Err(e),
    }
}

/// The statement that moves `c`'s head from where it was read: an `INSERT` of the first
/// head (which conflicts if another appender made one), or an `UPDATE` of the one read.
fn move_head(backend: DbBackend, c: &Chained) -> Statement {
    match c.read_seq {
        None => backend.build(
            &Query::insert()
                .into_table(H::Table)
                .columns([H::Tenant, H::Seq, H::Hash])
                .values_panic([
                    c.tenant.as_str().into(),
                    c.new_seq.into(),
                    c.new_hash.to_vec().into(),
                ])
                .to_owned(),
        ),
        Some(read_seq) => backend.build(
            &Query::update()
                .table(H::Table)
                .value(H::Seq, c.new_seq)
                .value(H::Hash, c.new_hash.to_vec())
                .and_where(
                    Expr::col(H::Tenant)
                        .eq(c.tenant.as_str())
                        .and(Expr::col(H::Seq).eq(read_seq)),
                )
                .to_owned(),
        ),
    }
}

fn to_i64(seq: u64) -> Result<i64, Error> {
    i64::try_from(seq).map_err(|_| Error::internal("audit chain full"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenants_keep_their_entries_in_order() {
        let t = |s: &str| TenantId::new(s).unwrap();
        let entries: Vec<AuditEntry> = ["a", "b", "a", "c", "b", "a"]
            .iter()
            .map(|s| AuditEntry::new(t(s), "x", "y", "z"))
            .collect();
        let grouped: Vec<(String, Vec<usize>)> = by_tenant(&entries)
            .into_iter()
            .map(|(t, p)| (t.as_str().to_owned(), p))
            .collect();
        assert_eq!(
            grouped,
            vec![
                ("a".to_owned(), vec![0, 2, 5]),
                ("b".to_owned(), vec![1, 4]),
                ("c".to_owned(), vec![3]),
            ]
        );
    }
}
