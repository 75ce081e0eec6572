//! `/v1/collections/{collection}/documents`: create, read, replace, delete, list.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use baas_core::http::Json;
use baas_core::{Error, ErrorKind};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use uuid::Uuid;

use super::extract::{CallerTenant, page_limit};
use crate::documents::{
    DEFAULT_PAGE_LIMIT, Document, DynDocumentStore, Filter, ListQuery, MAX_PAGE_LIMIT,
    validate_collection, validate_field,
};
use baas_core::http::{Path, Query};

type Docs = Arc<DynDocumentStore>;

/// A document as the API shows it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct DocumentBody {
    /// Server-made UUIDv7.
    pub id: Uuid,
    /// 1 when created, one more with every replace (also the `ETag`).
    pub version: u64,
    /// The JSON object.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

impl From<Document> for DocumentBody {
    fn from(doc: Document) -> Self {
        DocumentBody {
            id: doc.id,
            version: doc.version,
            data: doc.data,
        }
    }
}

/// One page of documents.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct DocumentPage {
    /// The documents, ordered by id.
    pub items: Vec<DocumentBody>,
    /// Pass back as `cursor` for the next page; `null` at the end.
    pub next_cursor: Option<String>,
}

pub(super) fn router<S>(docs: Docs) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    Router::new()
        .route(
            "/v1/collections/{collection}/documents",
            get(list_documents).post(create_document),
        )
        .route(
            "/v1/collections/{collection}/documents/{id}",
            get(get_document)
                .put(replace_document)
                .delete(delete_document),
        )
        .with_state(docs)
}

/// A bad collection name is a bad path: 400.
fn collection(name: &str) -> Result<(), Error> {
    validate_collection(name).map_err(|_| {
        Error::malformed(
            "invalid collection name: 1-64 characters of a-z, 0-9, '_' and '-', starting with a letter",
        )
        .with_field("collection", "invalid collection name")
    })
}

/// A document id; anything but a UUID names no document (404).
fn document_id(raw: &str) -> Result<Uuid, Error> {
    Uuid::parse_str(raw).map_err(|_| Error::not_found("document not found"))
}

fn etag(version: u64) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{version}\"")).expect("digits and quotes")
}

fn document_response(status: StatusCode, doc: Document, location: Option<&str>) -> Response {
    let tag = etag(doc.version);
    let mut response = (status, Json(DocumentBody::from(doc))).into_response();
    response.headers_mut().insert(header::ETAG, tag);
    if let Some(location) = location.and_then(|l| HeaderValue::from_str(l).ok()) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

/// Create a document.
#[utoipa::path(
    post,
    path = "/v1/collections/{collection}/documents",
    tag = "documents",
    operation_id = "create_document",
    params(("collection" = String, Path, description = "1-64 of [a-z0-9_-], starting with a letter")),
    request_body(content = Object, description = "the document: a JSON object"),
    responses(
        (status = 201, description = "created", body = DocumentBody,
            headers(("ETag" = String, description = "\"<version>\""), ("Location" = String))),
        (status = 400, description = "unparseable body or bad collection name", body = baas_core::http::Problem, content_type = "application/problem+json"),
        (status = 401, description = "no credentials", body = baas_core::http::Problem, content_type = "application/problem+json"),
        (status = 413, description = "body too large", body = baas_core::http::Problem, content_type = "application/problem+json"),
        (status = 422, description = "the body is not a JSON object", body = baas_core::http::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn create_document(
    CallerTenant(tenant): CallerTenant,
    State(docs): State<Docs>,
    Path(name): Path<String>,
    Json(data): Json<serde_json::Value>,
) -> Result<Response, Error> {
    collection(&name)?;
    let doc = docs.create(&tenant, &name, data).await?;
    let location = format!("/v1/collections/{name}/documents/{}", doc.id);
    Ok(document_response(StatusCode::CREATED, doc, Some(&location)))
}

/// Read a document.
#[utoipa::path(
    get,
    path = "/v1/collections/{collection}/documents/{id}",
    tag = "documents",
    operation_id = "get_document",
    params(
        ("collection" = String, Path, description = "the collection"),
        ("id" = String, Path, description = "the document id (UUID)"),
    ),
    responses(
        (status = 200, description = "the document", body = DocumentBody,
            headers(("ETag" = String, description = "\"<version>\""))),
        (status = 400, description = "bad collection name", body = baas_core::http::Problem, content_type = "application/problem+json"),
        (status = 401, description = "no credentials", body = baas_core::http::Problem, content_type = "application/problem+json"),
        (status = 404, description = "missing or another tenant's", body = baas_core::http::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn get_document(
    CallerTenant(tenant): CallerTenant,
    State(docs): State<Docs>,
    Path((name, id)): Path<(String, String)>,
) -> Result<Response, Error> {
    collection(&name)?;
    let id = document_id(&id)?;
    let doc = docs.get(&tenant, &name, id).await?;
    Ok(document_response(StatusCode::OK, doc, None))
}

/// What an `If-Match` header asks for.
#[derive(Debug, PartialEq, Eq)]
enum IfMatch {
    /// No header, or `*`: any existing document.
    Any,
    /// These versions (strong tags that are integers); empty when no tag can match.
    Versions(Vec<u64>),
}

fn if_match(headers: &HeaderMap) -> Result<IfMatch, Error> {
    let mut versions = Vec::new();
    let mut present = false;
    for value in headers.get_all(header::IF_MATCH) {
        present = true;
        let value = value
            .to_str()
            .map_err(|_| Error::malformed("invalid If-Match header"))?;
        for tag in value.split(',').map(str::trim).filter(|t| !t.is_empty()) {
            if tag == "*" {
                return Ok(IfMatch::Any);
            }
            // Strong comparison (RFC 9110 §13.1.1): a weak tag never matches.
            if let Some(v) = tag
                .strip_prefix('"')
                .and_then(|t| t.strip_suffix('"'))
                .and_then(|t| t.parse::<u64>().ok())
            {
                versions.push(v);
            }
        }
    }
    Ok(if present {
        IfMatch::Versions(versions)
    } else {
        IfMatch::Any
    })
}

fn stale() -> Error {
    Error::new(
        ErrorKind::PreconditionFailed,
        "the document has changed: If-Match does not name its current version",
    )
}

/// Replace a document.
#[utoipa::path(
    put,
    path = "/v1/collections/{collection}/documents/{id}",
    tag = "documents",
    operation_id = "replace_document",
    params(
        ("collection" = String, Path, description = "the collection"),
        ("id" = String, Path, description = "the document id (UUID)"),
        ("If-Match" = Option<String>, Header, description = "\"<version>\": replace only that version"),
    ),
    request_body(content = Object, description = "the new data: a JSON object"),
    responses(
        (status = 200, description = "replaced; version + 1", body = DocumentBody,
            headers(("ETag" = String, description = "\"<version>\""))),
        (status = 400, description = "unparseable body or bad collection name", body = baas_core::http::Problem, content_type = "application/problem+json"),
        (status = 401, description = "no credentials", body = baas_core::http::Problem, content_type = "application/problem+json"),
        (status = 404, description = "missing or another tenant's (whatever If-Match says)", body = baas_core::http::Problem, content_type = "application/problem+json"),
        (status = 412, description = "If-Match names a stale version", body = baas_core::http::Problem, content_type = "application/problem+json"),
        (status = 413, description = "body too large", body = baas_core::http::Problem, content_type = "application/problem+json"),
        (status = 422, description = "the body is not a JSON object", body = baas_core::http::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn replace_document(
    CallerTenant(tenant): CallerTenant,
    State(docs): State<Docs>,
    Path((name, id)): Path<(String, String)>,
    headers: HeaderMap,
    Json(data): Json<serde_json::Value>,
) -> Result<Response, Error> {
    collection(&name)?;
    let id = document_id(&id)?;
    let expected = match if_match(&headers)? {
        IfMatch::Any => None,
        IfMatch::Versions(v) if v.len() == 1 => Some(v[0]),
        IfMatch::Versions(v) => {
            // Several tags (or none usable): compare with the current version, then
            // replace that version only.
            let current = docs.get(&tenant, &name, id).await?;
            if !v.contains(&current.version) {
                return Err(stale());
            }
            Some(current.version)
        }
    };
    let doc = docs.replace(&tenant, &name, id, data, expected).await?;
    Ok(document_response(StatusCode::OK, doc, None))
}

/// Delete a document.
#[utoipa::path(
    delete,
    path = "/v1/collections/{collection}/documents/{id}",
    tag = "documents",
    operation_id = "delete_document",
    params(
        ("collection" = String, Path, description = "the collection"),
        ("id" = String, Path, description = "the document id (UUID)"),
    ),
    responses(
        (status = 204, description = "deleted"),
        (status = 400, description = "bad collection name", body = baas_core::http::Problem, content_type = "application/problem+json"),
        (status = 401, description = "no credentials", body = baas_core::http::Problem, content_type = "application/problem+json"),
        (status = 404, description = "missing or another tenant's", body = baas_core::http::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn delete_document(
    CallerTenant(tenant): CallerTenant,
    State(docs): State<Docs>,
    Path((name, id)): Path<(String, String)>,
) -> Result<StatusCode, Error> {
    collection(&name)?;
    let id = document_id(&id)?;
    docs.delete(&tenant, &name, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Read the list query: `limit`, `cursor` and `filter.<field>=<value>`.
fn list_query(params: &[(String, String)]) -> Result<ListQuery, Error> {
    let mut limit = None;
    let mut query = ListQuery::new();
    for (name, value) in params {
        match name.as_str() {
            "limit" => limit = Some(value.as_str()),
            "cursor" if value.is_empty() => query.cursor = None,
            "cursor" => query.cursor = Some(value.clone()),
            _ => {
                if let Some(field) = name.strip_prefix("filter.") {
                    validate_field(field).map_err(|_| {
                        Error::malformed(format!(
                            "invalid filter field {field:?}: 1-128 characters of a-z, 0-9, '_' and '-', starting with a letter"
                        ))
                        .with_field(name.clone(), "invalid field name")
                    })?;
                    query.filters.push(Filter::parse(field, value));
                }
            }
        }
    }
    query.limit = page_limit(limit, DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT)?;
    Ok(query)
}

/// List documents.
#[utoipa::path(
    get,
    path = "/v1/collections/{collection}/documents",
    tag = "documents",
    operation_id = "list_documents",
    params(
        ("collection" = String, Path, description = "the collection"),
        ("limit" = Option<u32>, Query, description = "1-1000, default 50"),
        ("cursor" = Option<String>, Query, description = "next_cursor of the previous page"),
        ("filter.<field>" = Option<String>, Query, description = "equality on a top-level field; the value is read as a JSON scalar when it parses as one (true, 3, \"x\"), else as a string"),
    ),
    responses(
        (status = 200, description = "one page, ordered by id", body = DocumentPage),
        (status = 400, description = "bad limit, cursor, filter field or collection name", body = baas_core::http::Problem, content_type = "application/problem+json"),
        (status = 401, description = "no credentials", body = baas_core::http::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn list_documents(
    CallerTenant(tenant): CallerTenant,
    State(docs): State<Docs>,
    Path(name): Path<String>,
    Query(params): Query<Vec<(String, String)>>,
) -> Result<Json<DocumentPage>, Error> {
    collection(&name)?;
    let query = list_query(&params)?;
    let page = docs.list(&tenant, &name, &query).await.map_err(|err| {
        // A bad cursor is a bad query (400), whatever kind the backend chose.
        if query.cursor.is_some() && err.kind() == ErrorKind::Invalid {
            Error::malformed(err.message().to_owned())
        } else {
            err
        }
    })?;
    Ok(Json(DocumentPage {
        items: page.items.into_iter().map(DocumentBody::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(header::IF_MATCH, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn if_match_forms() {
        assert_eq!(if_match(&headers(&[])).unwrap(), IfMatch::Any);
        assert_eq!(if_match(&headers(&["*"])).unwrap(), IfMatch::Any);
        assert_eq!(
            if_match(&headers(&["\"3\""])).unwrap(),
            IfMatch::Versions(vec![3])
        );
        assert_eq!(
            if_match(&headers(&["\"1\", W/\"2\"", "\"5\""])).unwrap(),
            IfMatch::Versions(vec![1, 5])
        );
        assert_eq!(
            if_match(&headers(&["\"abc\""])).unwrap(),
            IfMatch::Versions(vec![])
        );
    }

    #[test]
    fn list_queries() {
        let p = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
                .collect::<Vec<_>>()
        };
        let q = list_query(&p(&[
            ("limit", "10"),
            ("filter.n", "3"),
            ("filter.s", "open"),
            ("filter.b", "true"),
            ("filter.q", "\"3\""),
            ("other", "x"),
        ]))
        .unwrap();
        assert_eq!(q.limit, 10);
        assert_eq!(
            q.filters,
            vec![
                Filter::eq("n", 3),
                Filter::eq("s", "open"),
                Filter::eq("b", true),
                Filter::eq("q", "3"),
            ]
        );
        assert_eq!(list_query(&p(&[])).unwrap().limit, 50);
        for bad in [
            p(&[("limit", "0")]),
            p(&[("limit", "1001")]),
            p(&[("filter.", "x")]),
            p(&[("filter.Bad", "x")]),
        ] {
            assert_eq!(
                list_query(&bad).unwrap_err().kind(),
                ErrorKind::Malformed,
                "{bad:?}"
            );
        }
    }
}
