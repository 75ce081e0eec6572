//! Collection and field names, document bodies and filters (API.md "Documents").

use baas_core::{Error, ErrorKind};

use super::types::{Filter, ListQuery, MAX_PAGE_LIMIT};

/// The longest collection name.
pub const MAX_COLLECTION_LEN: usize = 64;

/// The longest field name in a filter.
pub const MAX_FIELD_LEN: usize = 128;

fn name_ok(name: &str, max: usize) -> bool {
    !name.is_empty()
        && name.len() <= max
        && name.as_bytes()[0].is_ascii_lowercase()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// A bad name or query part: `Malformed` (HTTP 400: it comes from the path or the query
/// string, API.md "bad path, query"), naming the offending part.
fn malformed(field: String, message: &str) -> Error {
    Error::new(ErrorKind::Malformed, format!("invalid {field}: {message}"))
        .with_field(field, message)
}

/// Check a collection name: 1–64 of `[a-z0-9_-]`, starting with a letter, else
/// `Malformed` (the name comes from the request path).
///
/// ```
/// use baas_store::documents::validate_collection;
/// assert!(validate_collection("orders").is_ok());
/// assert!(validate_collection("Orders").is_err());
/// assert!(validate_collection("1st").is_err());
/// ```
pub fn validate_collection(name: &str) -> Result<(), Error> {
    if name_ok(name, MAX_COLLECTION_LEN) {
        Ok(())
    } else {
        Err(malformed(
            "collection".to_owned(),
            "must be 1-64 characters of a-z, 0-9, '_' and '-', starting with a letter",
        ))
    }
}

/// Check a field name: 1–128 of `[a-z0-9_-]`, starting with a letter, else `Malformed`
/// (field names come from the query string, `filter.<field>=`).
pub fn validate_field(name: &str) -> Result<(), Error> {
    if name_ok(name, MAX_FIELD_LEN) {
        Ok(())
    } else {
        Err(malformed(
            format!("filter.{name}"),
            "field names must be 1-128 characters of a-z, 0-9, '_' and '-', starting with a letter",
        ))
    }
}

/// A document body must be a JSON object, and none of its strings or keys may hold the
/// NUL character (Postgres' `jsonb` cannot store it, so no backend takes it).
pub(crate) fn validate_data(data: &serde_json::Value) -> Result<(), Error> {
    if !data.is_object() {
        return Err(Error::field("data", "a document must be a JSON object"));
    }
    if holds_nul(data) {
        return Err(Error::field("data", NUL_MESSAGE));
    }
    Ok(())
}

const NUL_MESSAGE: &str = "strings and keys may not contain the NUL character (U+0000)";

/// Whether any string or key in `value` holds U+0000 (walked without recursion, so a
/// deep value built in code cannot overflow the stack).
fn holds_nul(value: &serde_json::Value) -> bool {
    use serde_json::Value as J;
    let mut pending = vec![value];
    while let Some(v) = pending.pop() {
        match v {
            J::String(s) if s.contains('\0') => return true,
            J::Array(items) => pending.extend(items),
            J::Object(map) => {
                for (k, v) in map {
                    if k.contains('\0') {
                        return true;
                    }
                    pending.push(v);
                }
            }
            _ => {}
        }
    }
    false
}

/// Every filter names a valid field and holds a JSON scalar (else `Malformed`: filters
/// are part of the query).
pub(crate) fn validate_filters(filters: &[Filter]) -> Result<(), Error> {
    for f in filters {
        validate_field(&f.field)?;
        if f.value.is_object() || f.value.is_array() {
            return Err(malformed(
                format!("filter.{}", f.field),
                "a filter value must be a JSON scalar",
            ));
        }
        if holds_nul(&f.value) {
            return Err(malformed(format!("filter.{}", f.field), NUL_MESSAGE));
        }
    }
    Ok(())
}

/// The limit is 1–1000 (else `Malformed`) and the filters are valid.
pub(crate) fn validate_query(query: &ListQuery) -> Result<(), Error> {
    if query.limit == 0 || query.limit > MAX_PAGE_LIMIT {
        return Err(Error::malformed("limit must be between 1 and 1000"));
    }
    validate_filters(&query.filters)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for ok in ["a", "orders", "a-b_c9", &"x".repeat(64)] {
            assert!(validate_collection(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "9a",
            "_a",
            "-a",
            "A",
            "a.b",
            "a/b",
            "a b",
            "é",
            &"x".repeat(65),
        ] {
            let err = validate_collection(bad).expect_err(bad);
            assert_eq!(
                err.kind(),
                ErrorKind::Malformed,
                "{bad:?}: a bad path is 400"
            );
        }
        assert!(validate_field(&"x".repeat(128)).is_ok());
        let err = validate_field(&"x".repeat(129)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Malformed, "a bad query is 400");
    }
}
