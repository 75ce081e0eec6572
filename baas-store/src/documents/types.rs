//! The values a [`DocumentStore`](super::DocumentStore) takes and returns.

use baas_core::Error;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use time::OffsetDateTime;
use uuid::Uuid;

/// The page size when none is asked for.
pub const DEFAULT_PAGE_LIMIT: u32 = 50;

/// The largest page.
pub const MAX_PAGE_LIMIT: u32 = 1000;

/// A stored document.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Document {
    /// Server-made UUIDv7.
    pub id: Uuid,
    /// 1 when created, one more with every replace.
    pub version: u64,
    /// The JSON object.
    pub data: serde_json::Value,
    /// When it was created.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When it was last written.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// Equality on one top-level field: `data[field] == value`.
///
/// The value is a JSON scalar (string, number, boolean or null); numbers compare as
/// numbers (`3` equals `3.0`); `null` matches an explicit `null`, not a missing field.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    /// The field name (validated: 1–128 of `[a-z0-9_-]`, starting with a letter).
    pub field: String,
    /// The scalar it must equal.
    pub value: serde_json::Value,
}

impl Filter {
    /// `field == value`.
    pub fn eq(field: impl Into<String>, value: impl Into<serde_json::Value>) -> Self {
        Filter {
            field: field.into(),
            value: value.into(),
        }
    }

    /// Read a filter the way the HTTP API does (`filter.<field>=<value>`): the value is a
    /// JSON scalar when it parses as one (`true`, `3`, `"x"`), else a string.
    ///
    /// ```
    /// use baas_store::documents::Filter;
    /// use serde_json::json;
    /// assert_eq!(Filter::parse("n", "3").value, json!(3));
    /// assert_eq!(Filter::parse("s", "open").value, json!("open"));
    /// assert_eq!(Filter::parse("s", "[1]").value, json!("[1]"));
    /// ```
    pub fn parse(field: impl Into<String>, raw: &str) -> Self {
        let value = match serde_json::from_str::<serde_json::Value>(raw) {
            Ok(v) if !v.is_object() && !v.is_array() => v,
            _ => serde_json::Value::String(raw.to_owned()),
        };
        Filter {
            field: field.into(),
            value,
        }
    }
}

/// What [`list`](super::DocumentStore::list) returns.
#[derive(Debug, Clone, PartialEq)]
pub struct ListQuery {
    /// Every filter must hold.
    pub filters: Vec<Filter>,
    /// Page size, 1–1000.
    pub limit: u32,
    /// Where to continue: a [`Page::next_cursor`] from an earlier page.
    pub cursor: Option<String>,
}

impl Default for ListQuery {
    fn default() -> Self {
        ListQuery {
            filters: Vec::new(),
            limit: DEFAULT_PAGE_LIMIT,
            cursor: None,
        }
    }
}

impl ListQuery {
    /// The first page of everything, 50 at a time.
    pub fn new() -> Self {
        Self::default()
    }

    /// Set the page size.
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = limit;
        self
    }

    /// Add a filter.
    pub fn filter(mut self, filter: Filter) -> Self {
        self.filters.push(filter);
        self
    }

    /// Continue after `cursor`.
    pub fn cursor(mut self, cursor: Option<String>) -> Self {
        self.cursor = cursor;
        self
    }

    /// The id the page starts after, decoded from the cursor (`Malformed` when bad).
    pub(crate) fn after(&self) -> Result<Option<Uuid>, Error> {
        self.cursor.as_deref().map(decode_cursor).transpose()
    }
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// The documents, ordered by id.
    pub items: Vec<Document>,
    /// The cursor of the next page; `None` at the end.
    pub next_cursor: Option<String>,
}

const CURSOR_VERSION: u8 = 1;

/// An opaque cursor: a version byte and the last id, base64url.
pub(crate) fn encode_cursor(id: Uuid) -> String {
    let mut raw = [0u8; 17];
    raw[0] = CURSOR_VERSION;
    raw[1..].copy_from_slice(id.as_bytes());
    URL_SAFE_NO_PAD.encode(raw)
}

fn decode_cursor(cursor: &str) -> Result<Uuid, Error> {
    let bad = || Error::malformed("invalid cursor");
    let raw = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad())?;
    match raw.split_first() {
        Some((&CURSOR_VERSION, rest)) => Uuid::from_slice(rest).map_err(|_| bad()),
        _ => Err(bad()),
    }
}

/// Build a page from up to `limit + 1` rows in id order.
pub(crate) fn page_of(mut items: Vec<Document>, limit: u32) -> Page {
    let limit = limit as usize;
    let next_cursor = if items.len() > limit {
        items.truncate(limit);
        items.last().map(|d| encode_cursor(d.id))
    } else {
        None
    };
    Page { items, next_cursor }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_garbage() {
        let id = Uuid::now_v7();
        let q = ListQuery::new().cursor(Some(encode_cursor(id)));
        assert_eq!(q.after().unwrap(), Some(id));
        for bad in ["", "!!", "AAAA", &URL_SAFE_NO_PAD.encode([2u8; 17])] {
            let q = ListQuery::new().cursor(Some(bad.to_owned()));
            assert_eq!(
                q.after().unwrap_err().kind(),
                baas_core::ErrorKind::Malformed,
                "{bad}"
            );
        }
    }
}
