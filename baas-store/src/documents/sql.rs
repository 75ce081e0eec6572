//! The SQL [`DocumentStore`] (SQLite and Postgres through sea-orm).
//!
//! Every statement is built with sea-query and runs with bound parameters. Filters are
//! JSON expressions: `json_type(data, '$."f"')` / `json_extract(…)` on SQLite,
//! `data @> '{"f": v}'::jsonb` (containment) on Postgres. The primary key
//! `(tenant, collection, id)` serves get, replace, delete and every list page by keyset.

use baas_core::clock::SharedClock;
use baas_core::{Error, ErrorKind, TenantId};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, Order, Query};
use sea_orm::{ConnectionTrait, DbBackend, QueryResult};
use uuid::Uuid;

use super::DocumentStore;
use super::types::{Document, Filter, ListQuery, Page, page_of};
use super::validate::{validate_collection, validate_data, validate_filters, validate_query};
use crate::database::{Database, Tx};
use crate::group_commit::{GroupCommit, after_group_failure};
use crate::schema::Documents as D;
use crate::sql_error;
use crate::util::{from_millis, millis};

/// Documents in the `documents` table of a [`Database`].
///
/// ```
/// use baas_store::Database;
/// use baas_store::documents::{DocumentStore, SqlDocumentStore};
/// use baas_store::core::TenantId;
/// use serde_json::json;
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let db = Database::connect("sqlite::memory:").await?;
/// db.migrate().await?;
/// let store = SqlDocumentStore::new(db);
/// let acme = TenantId::new("acme")?;
/// let doc = store.create(&acme, "orders", json!({"status": "open"})).await?;
/// assert_eq!(store.get(&acme, "orders", doc.id).await?.version, 1);
/// # Ok::<(), baas_store::core::Error>(())
/// # }).unwrap();
/// ```
///
/// On SQLite, concurrent [`create`](DocumentStore::create)s are written together: one
/// multi-row `INSERT` on [`Database::write_connection`] per group of up to 64 (see
/// [`group_commit`](crate::group_commit)), since SQLite writes one statement at a
/// time anyway. On Postgres each create is its own statement.
#[derive(Debug, Clone)]
pub struct SqlDocumentStore {
    db: Database,
    clock: SharedClock,
    /// Creates waiting to be inserted together (SQLite only).
    creates: Option<GroupCommit<NewDocument, Document>>,
}

impl SqlDocumentStore {
    /// A store over `db` (migrated) on the system clock.
    pub fn new(db: Database) -> Self {
        Self::with_clock(db, baas_core::clock::system())
    }

    /// A store over `db` whose timestamps come from `clock`.
    pub fn with_clock(db: Database, clock: SharedClock) -> Self {
        let creates = (db.connection().get_database_backend() == DbBackend::Sqlite)
            .then(|| GroupCommit::new(CREATE_GROUP));
        SqlDocumentStore { db, clock, creates }
    }

    async fn create_doc(
        &self,
        tenant: &TenantId,
        collection: &str,
        data: serde_json::Value,
    ) -> Result<Document, Error> {
        let Some(creates) = &self.creates else {
            return create_in(self.db.connection(), &self.clock, tenant, collection, data).await;
        };
        let weight = weight(&data);
        let new = NewDocument::new(&self.clock, tenant, collection, data)?;
        let db = self.db.clone();
        creates
            .submit(new, weight, move |docs| {
                let db = db.clone();
                async move { insert_group(&db, docs).await }
            })
            .await
    }
}

/// The document operations inside a transaction ([`Tx::documents`]): they commit or roll
/// back with everything else written through the same [`Tx`], outbox messages included.
#[derive(Debug)]
pub struct TxDocuments<'a> {
    tx: &'a Tx,
    clock: SharedClock,
}

impl TxDocuments<'_> {
    async fn create_doc(
        &self,
        tenant: &TenantId,
        collection: &str,
        data: serde_json::Value,
    ) -> Result<Document, Error> {
        create_in(self.tx.connection(), &self.clock, tenant, collection, data).await
    }
}

impl Tx {
    /// The documents of this transaction, timestamped by the system clock.
    pub fn documents(&self) -> TxDocuments<'_> {
        self.documents_with_clock(baas_core::clock::system())
    }

    /// The documents of this transaction, timestamped by `clock`.
    pub fn documents_with_clock(&self, clock: SharedClock) -> TxDocuments<'_> {
        TxDocuments { tx: self, clock }
    }
}

fn not_found() -> Error {
    Error::not_found("document not found")
}

fn read(row: &QueryResult) -> Result<Document, Error> {
    let id: Uuid = row.try_get("", "id").map_err(sql_error::db)?;
    let version: i64 = row.try_get("", "version").map_err(sql_error::db)?;
    let data: serde_json::Value = row.try_get("", "data").map_err(sql_error::db)?;
    let created: i64 = row.try_get("", "created_at").map_err(sql_error::db)?;
    let updated: i64 = row.try_get("", "updated_at").map_err(sql_error::db)?;
    Ok(stored(id, version, data, created, updated))
}

/// A document from its columns as stored (times in ms since the epoch).
fn stored(id: Uuid, version: i64, data: serde_json::Value, created: i64, updated: i64) -> Document {
    Document {
        id,
        version: u64::try_from(version).unwrap_or(0),
        data,
        created_at: from_millis(created),
        updated_at: from_millis(updated),
    }
}

const COLUMNS: [D; 5] = [D::Id, D::Version, D::Data, D::CreatedAt, D::UpdatedAt];

fn key(tenant: &TenantId, collection: &str) -> Expr {
    Expr::col(D::Tenant)
        .eq(tenant.as_str())
        .and(Expr::col(D::Collection).eq(collection))
}

/// One equality filter as a JSON expression of the engine, values bound.
#[cfg_attr(not(feature = "postgres"), allow(unused_variables))]
fn filter_expr(backend: DbBackend, f: &Filter) -> Expr {
    use serde_json::Value as J;
    #[cfg(feature = "postgres")]
    if backend == DbBackend::Postgres {
        use sea_orm::sea_query::extension::postgres::PgBinOper;
        let mut object = serde_json::Map::new();
        object.insert(f.field.clone(), f.value.clone());
        return Expr::col(D::Data).binary(PgBinOper::Contains, Expr::val(J::Object(object)));
    }
    // SQLite: the JSON type decides the comparison, so `true` never equals `1` and a
    // string never equals a number.
    let path = format!("$.\"{}\"", f.field);
    let json_type = || {
        Func::cust("json_type")
            .arg(Expr::col(D::Data))
            .arg(path.clone())
    };
    let extract = || {
        Func::cust("json_extract")
            .arg(Expr::col(D::Data))
            .arg(path.clone())
    };
    match &f.value {
        J::Null => json_type().eq("null"),
        J::Bool(true) => json_type().eq("true"),
        J::Bool(false) => json_type().eq("false"),
        J::String(s) => json_type().eq("text").and(extract().eq(s.as_str())),
        J::Number(n) => {
            let is_number = json_type().is_in(["integer", "real"]);
            match (n.as_i64(), n.as_f64()) {
                (Some(i), _) => is_number.and(extract().eq(i)),
                (None, Some(x)) => is_number.and(extract().eq(x)),
                (None, None) => Expr::val(false),
            }
        }
        // Refused by validation before any statement is built.
        J::Array(_) | J::Object(_) => Expr::val(false),
    }
}

/// A document about to be created, already validated, stamped and given its id.
#[derive(Debug)]
struct NewDocument {
    tenant: TenantId,
    collection: String,
    /// Its creation time in ms since the epoch, as stored.
    now: i64,
    document: Document,
}

impl NewDocument {
    fn new(
        clock: &SharedClock,
        tenant: &TenantId,
        collection: &str,
        data: serde_json::Value,
    ) -> Result<Self, Error> {
        validate_collection(collection)?;
        validate_data(&data)?;
        let now = millis(clock.now());
        Ok(NewDocument {
            tenant: tenant.clone(),
            collection: collection.to_owned(),
            now,
            document: Document {
                id: Uuid::now_v7(),
                version: 1,
                data,
                created_at: from_millis(now),
                updated_at: from_millis(now),
            },
        })
    }
}

/// Insert every document of `docs` in one statement.
async fn insert_all<C: ConnectionTrait>(conn: &C, docs: &[NewDocument]) -> Result<(), Error> {
    let mut stmt = Query::insert()
        .into_table(D::Table)
        .columns([
            D::Tenant,
            D::Collection,
            D::Id,
            D::Version,
            D::Data,
            D::CreatedAt,
            D::UpdatedAt,
        ])
        .to_owned();
    for new in docs {
        let doc = &new.document;
        stmt.values_panic([
            new.tenant.as_str().into(),
            new.collection.as_str().into(),
            doc.id.into(),
            1i64.into(),
            doc.data.clone().into(),
            new.now.into(),
            new.now.into(),
        ]);
    }
    conn.execute(&stmt).await.map_err(sql_error::db)?;
    Ok(())
}

async fn create_in<C: ConnectionTrait>(
    conn: &C,
    clock: &SharedClock,
    tenant: &TenantId,
    collection: &str,
    data: serde_json::Value,
) -> Result<Document, Error> {
    let new = NewDocument::new(clock, tenant, collection, data)?;
    insert_all(conn, std::slice::from_ref(&new)).await?;
    Ok(new.document)
}

/// The most documents one grouped `INSERT` carries (counting one per 64 KiB of data).
const CREATE_GROUP: usize = 64;

/// The weight of a document in a group: one per started 64 KiB of its data, so a group
/// of large documents stays a modest statement.
fn weight(data: &serde_json::Value) -> usize {
    // `validate_data` bounds the size; serialising again here would cost more than it
    // saves, so the estimate walks the value.
    fn size(v: &serde_json::Value) -> usize {
        use serde_json::Value as J;
        match v {
            J::Null | J::Bool(_) | J::Number(_) => 8,
            J::String(s) => s.len() + 2,
            J::Array(items) => items.iter().map(size).sum::<usize>() + 2,
            J::Object(map) => {
                map.iter()
                    .map(|(k, v)| k.len() + 3 + size(v))
                    .sum::<usize>()
                    + 2
            }
        }
    }
    1 + size(data) / (64 * 1024)
}

/// Concurrent creates of a group in one multi-row `INSERT` on the write connection (a
/// lone create on the statement pool, as before there were groups); if it fails for a
/// reason other than the database's unavailability, each document is inserted alone,
/// so one bad document never fails the others.
async fn insert_group(db: &Database, docs: Vec<NewDocument>) -> Vec<Result<Document, Error>> {
    if let [new] = docs.as_slice() {
        let one = insert_all(db.connection(), std::slice::from_ref(new)).await;
        return vec![one.map(|()| docs.into_iter().next().expect("one").document)];
    }
    let writer = db.write_connection();
    match insert_all(writer, &docs).await {
        Ok(()) => docs.into_iter().map(|new| Ok(new.document)).collect(),
        Err(err) => {
            after_group_failure(&docs, err, |new| async move {
                insert_all(writer, std::slice::from_ref(new)).await?;
                Ok(new.document.clone())
            })
            .await
        }
    }
}

async fn get_in<C: ConnectionTrait>(
    conn: &C,
    tenant: &TenantId,
    collection: &str,
    id: Uuid,
) -> Result<Document, Error> {
    validate_collection(collection)?;
    let stmt = Query::select()
        .columns(COLUMNS)
        .from(D::Table)
        .and_where(key(tenant, collection).and(Expr::col(D::Id).eq(id)))
        .to_owned();
    match conn.query_one(&stmt).await.map_err(sql_error::db)? {
        Some(row) => read(&row),
        None => Err(not_found()),
    }
}

async fn replace_in<C: ConnectionTrait>(
    conn: &C,
    clock: &SharedClock,
    tenant: &TenantId,
    collection: &str,
    id: Uuid,
    data: serde_json::Value,
    expected_version: Option<u64>,
) -> Result<Document, Error> {
    validate_collection(collection)?;
    validate_data(&data)?;
    let now = millis(clock.now());
    let mut condition = key(tenant, collection).and(Expr::col(D::Id).eq(id));
    if let Some(v) = expected_version {
        let Ok(v) = i64::try_from(v) else {
            return Err(precondition_or_missing(conn, tenant, collection, id).await);
        };
        condition = condition.and(Expr::col(D::Version).eq(v));
    }
    // Compare-and-set: the WHERE clause holds the expected version, and the row count
    // (here: the returned row) says whether it held.
    let stmt = Query::update()
        .table(D::Table)
        .value(D::Data, data)
        .value(D::Version, Expr::col(D::Version).add(1))
        .value(D::UpdatedAt, now)
        .and_where(condition)
        .returning(Query::returning().columns(COLUMNS))
        .to_owned();
    match conn.query_one(&stmt).await.map_err(sql_error::db)? {
        Some(row) => read(&row),
        None => Err(precondition_or_missing(conn, tenant, collection, id).await),
    }
}

/// After a failed compare-and-set: `NotFound` when the document is gone, else
/// `PreconditionFailed`.
async fn precondition_or_missing<C: ConnectionTrait>(
    conn: &C,
    tenant: &TenantId,
    collection: &str,
    id: Uuid,
) -> Error {
    match get_in(conn, tenant, collection, id).await {
        Ok(_) => Error::new(
            ErrorKind::PreconditionFailed,
            "document version does not match",
        ),
        Err(e) => e,
    }
}

async fn delete_in<C: ConnectionTrait>(
    conn: &C,
    tenant: &TenantId,
    collection: &str,
    id: Uuid,
) -> Result<(), Error> {
    validate_collection(collection)?;
    let stmt = Query::delete()
        .from_table(D::Table)
        .and_where(key(tenant, collection).and(Expr::col(D::Id).eq(id)))
        .to_owned();
    let result = conn.execute(&stmt).await.map_err(sql_error::db)?;
    if result.rows_affected() == 0 {
        return Err(not_found());
    }
    Ok(())
}

async fn list_in<C: ConnectionTrait>(
    conn: &C,
    tenant: &TenantId,
    collection: &str,
    query: &ListQuery,
) -> Result<Page, Error> {
    validate_collection(collection)?;
    validate_query(query)?;
    let after = query.after()?;
    let backend = conn.get_database_backend();
    let mut stmt = Query::select();
    stmt.columns(COLUMNS)
        .from(D::Table)
        .and_where(key(tenant, collection));
    if let Some(after) = after {
        stmt.and_where(Expr::col(D::Id).gt(after));
    }
    for f in &query.filters {
        stmt.and_where(filter_expr(backend, f));
    }
    stmt.order_by(D::Id, Order::Asc)
        .limit(u64::from(query.limit) + 1);
    #[cfg(feature = "sqlite")]
    if backend == DbBackend::Sqlite && query.limit <= ONE_VALUE_PAGE {
        let items = sqlite_page(conn, &stmt).await?;
        return Ok(page_of(items, query.limit));
    }
    let rows = conn.query_all(&stmt).await.map_err(sql_error::db)?;
    let items = rows.iter().map(read).collect::<Result<Vec<_>, _>>()?;
    Ok(page_of(items, query.limit))
}

/// Pages of up to this many documents come back from SQLite as one JSON value.
#[cfg(feature = "sqlite")]
const ONE_VALUE_PAGE: u32 = 100;

/// Run the page query `rows` on SQLite folded into one JSON array of
/// `[id (hex), version, data, created_at, updated_at]`, in id order.
///
/// sqlx runs each SQLite connection on a thread of its own and hands every row across
/// as a message, copying each of its values; one value is one message, whatever the
/// page's length. Every part of the statement but the fold is `rows`, values bound.
#[cfg(feature = "sqlite")]
async fn sqlite_page<C: ConnectionTrait>(
    conn: &C,
    rows: &sea_orm::sea_query::SelectStatement,
) -> Result<Vec<Document>, Error> {
    let inner = conn.get_database_backend().build(rows);
    let sql = format!(
        "SELECT json_group_array(json_array(hex(\"id\"), \"version\", json(\"data\"), \
         \"created_at\", \"updated_at\") ORDER BY \"id\") AS \"page\" FROM ({})",
        inner.sql
    );
    let values = inner.values.map(|v| v.0).unwrap_or_default();
    let stmt = sea_orm::Statement::from_sql_and_values(DbBackend::Sqlite, sql, values);
    let row = conn
        .query_one_raw(stmt)
        .await
        .map_err(sql_error::db)?
        .ok_or_else(|| Error::internal("an aggregate query returned no row"))?;
    let page: String = row.try_get("", "page").map_err(sql_error::db)?;
    type Folded = (String, i64, serde_json::Value, i64, i64);
    let folded: Vec<Folded> = serde_json::from_str(&page)
        .map_err(|e| Error::internal("a page of documents did not parse").with_source(e))?;
    folded
        .into_iter()
        .map(|(id, version, data, created, updated)| {
            let id = Uuid::try_parse(&id).map_err(|e| {
                Error::internal("a stored document id did not parse").with_source(e)
            })?;
            Ok(stored(id, version, data, created, updated))
        })
        .collect()
}

async fn count_in<C: ConnectionTrait>(
    conn: &C,
    tenant: &TenantId,
    collection: &str,
    filters: &[Filter],
) -> Result<u64, Error> {
    validate_collection(collection)?;
    validate_filters(filters)?;
    let backend = conn.get_database_backend();
    let mut stmt = Query::select();
    stmt.expr_as(Func::count(Expr::col(D::Id)), Alias::new("n"))
        .from(D::Table)
        .and_where(key(tenant, collection));
    for f in filters {
        stmt.and_where(filter_expr(backend, f));
    }
    let row = conn.query_one(&stmt).await.map_err(sql_error::db)?;
    let n: i64 = match row {
        Some(row) => row.try_get("", "n").map_err(sql_error::db)?,
        None => 0,
    };
    Ok(u64::try_from(n).unwrap_or(0))
}

macro_rules! document_store_impl {
    ($ty:ty, $conn:ident, $self:ident => $conn_expr:expr, reads => $reads_expr:expr) => {
        #[async_trait::async_trait]
        impl DocumentStore for $ty {
            #[tracing::instrument(name = "baas_store.documents.create", skip_all, fields(tenant = %tenant, collection = %collection))]
            async fn create(
                &$self,
                tenant: &TenantId,
                collection: &str,
                data: serde_json::Value,
            ) -> Result<Document, Error> {
                crate::telemetry::observed("sql", "documents.create", $self.create_doc(tenant, collection, data)).await
            }

            #[tracing::instrument(name = "baas_store.documents.get", skip_all, fields(tenant = %tenant, collection = %collection))]
            async fn get(
                &$self,
                tenant: &TenantId,
                collection: &str,
                id: Uuid,
            ) -> Result<Document, Error> {
                crate::telemetry::observed("sql", "documents.get", get_in($reads_expr, tenant, collection, id)).await
            }

            #[tracing::instrument(name = "baas_store.documents.replace", skip_all, fields(tenant = %tenant, collection = %collection))]
            async fn replace(
                &$self,
                tenant: &TenantId,
                collection: &str,
                id: Uuid,
                data: serde_json::Value,
                expected_version: Option<u64>,
            ) -> Result<Document, Error> {
                crate::telemetry::observed(
                    "sql",
                    "documents.replace",
                    replace_in($conn_expr, &$self.clock, tenant, collection, id, data, expected_version),
                )
                .await
            }

            #[tracing::instrument(name = "baas_store.documents.delete", skip_all, fields(tenant = %tenant, collection = %collection))]
            async fn delete(
                &$self,
                tenant: &TenantId,
                collection: &str,
                id: Uuid,
            ) -> Result<(), Error> {
                crate::telemetry::observed("sql", "documents.delete", delete_in($conn_expr, tenant, collection, id)).await
            }

            #[tracing::instrument(name = "baas_store.documents.list", skip_all, fields(tenant = %tenant, collection = %collection))]
            async fn list(
                &$self,
                tenant: &TenantId,
                collection: &str,
                query: &ListQuery,
            ) -> Result<Page, Error> {
                crate::telemetry::observed("sql", "documents.list", list_in($reads_expr, tenant, collection, query)).await
            }

            #[tracing::instrument(name = "baas_store.documents.count", skip_all, fields(tenant = %tenant, collection = %collection))]
            async fn count(
                &$self,
                tenant: &TenantId,
                collection: &str,
                filters: &[Filter],
            ) -> Result<u64, Error> {
                crate::telemetry::observed("sql", "documents.count", count_in($reads_expr, tenant, collection, filters)).await
            }
        }
    };
}

document_store_impl!(SqlDocumentStore, conn, self => self.db.connection(), reads => self.db.reads());
document_store_impl!(TxDocuments<'_>, conn, self => self.tx.connection(), reads => self.tx.connection());
