//! [`PageRequest`] and [`Page`]: cursor pagination shared by every listing.

use crate::error::AuthError;

/// The largest page a listing returns.
pub const MAX_PAGE_LIMIT: usize = 1000;

/// The page size used when none is asked for.
pub const DEFAULT_PAGE_LIMIT: usize = 50;

/// Which page of a listing to return: at most `limit` items after `cursor`.
///
/// Listings are ordered by id (ids are UUIDv7, so this is creation order). A cursor is
/// opaque: pass back the `next_cursor` of the previous [`Page`].
///
/// ```
/// use baas_auth::PageRequest;
///
/// let first = PageRequest::new(10).unwrap();
/// assert_eq!(first.limit(), 10);
/// assert!(PageRequest::new(0).is_err());
/// assert!(PageRequest::new(1001).is_err());
/// let next = first.after(Some("0190c3a4-0000-7000-8000-000000000000".into()));
/// assert!(next.cursor().is_some());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    limit: usize,
    cursor: Option<String>,
}

impl PageRequest {
    /// The first page of at most `limit` items; `limit` must be 1 to [`MAX_PAGE_LIMIT`]
    /// ([`AuthError::InvalidLimit`] otherwise).
    pub fn new(limit: usize) -> Result<Self, AuthError> {
        if limit == 0 || limit > MAX_PAGE_LIMIT {
            return Err(AuthError::InvalidLimit {
                max: MAX_PAGE_LIMIT,
            });
        }
        Ok(Self {
            limit,
            cursor: None,
        })
    }

    /// The page after `cursor` (`None`: the first page).
    pub fn after(mut self, cursor: Option<String>) -> Self {
        self.cursor = cursor;
        self
    }

    /// The most items to return.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// The cursor to continue after, if any.
    pub fn cursor(&self) -> Option<&str> {
        self.cursor.as_deref()
    }
}

impl Default for PageRequest {
    /// The first page of [`DEFAULT_PAGE_LIMIT`] items.
    fn default() -> Self {
        Self {
            limit: DEFAULT_PAGE_LIMIT,
            cursor: None,
        }
    }
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// The items, in id order.
    pub items: Vec<T>,
    /// The cursor of the next page; `None` at the end.
    pub next_cursor: Option<String>,
}
