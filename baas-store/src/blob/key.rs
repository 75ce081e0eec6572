//! Key and prefix validation, and where a tenant's key lives in the object store.
//!
//! A key is a `/`-separated name such as `photos/2026/cat.png`. It is refused
//! ([`ErrorKind::Malformed`]) when it is empty, longer than [`MAX_KEY_BYTES`], starts or
//! ends with `/`, has an empty segment (`a//b`), contains `..` anywhere (even inside a
//! segment), is a `.` segment, or contains a control character or U+10FFFF (a
//! noncharacter). Keys are never object-store paths: an object's bytes live at
//! `tenants/<tenant>/blobs/<version>`, found through the tenant's ledger, so no key can
//! reach another tenant's objects.
//!
//! ```
//! use baas_store::blob::{validate_key, validate_prefix};
//!
//! assert!(validate_key("photos/2026/cat.png").is_ok());
//! assert!(validate_key("../other-tenant/x").is_err());
//! assert!(validate_key("a..b").is_err());
//! assert!(validate_key("/abs").is_err());
//! assert!(validate_prefix("photos/").is_ok());
//! assert!(validate_prefix("").is_ok());
//! ```

use baas_core::{Error, ErrorKind, TenantId};
use object_store::path::{Path, PathPart};

/// The longest key accepted, in bytes.
pub const MAX_KEY_BYTES: usize = 1024;

/// The longest content type accepted, in bytes.
pub const MAX_CONTENT_TYPE_BYTES: usize = 255;

fn malformed(what: &str, why: &str) -> Error {
    Error::new(ErrorKind::Malformed, format!("invalid {what}: {why}")).with_field(what, why)
}

/// Check a key: non-empty, at most [`MAX_KEY_BYTES`], no leading or trailing `/`, no
/// empty or `.` segment, no `..` anywhere, no control character, no U+10FFFF. Errors
/// are [`ErrorKind::Malformed`].
pub fn validate_key(key: &str) -> Result<(), Error> {
    if key.is_empty() {
        return Err(malformed("key", "must not be empty"));
    }
    if key.ends_with('/') {
        return Err(malformed("key", "must not end with '/'"));
    }
    check_common("key", key)
}

/// Check a listing prefix: the key rules, except that it may be empty and may end with
/// `/`. Errors are [`ErrorKind::Malformed`].
pub fn validate_prefix(prefix: &str) -> Result<(), Error> {
    if prefix.is_empty() {
        return Ok(());
    }
    check_common("prefix", prefix.strip_suffix('/').unwrap_or(prefix))?;
    if prefix.len() > MAX_KEY_BYTES {
        return Err(malformed("prefix", "must be at most 1024 bytes"));
    }
    Ok(())
}

fn check_common(what: &str, s: &str) -> Result<(), Error> {
    if s.len() > MAX_KEY_BYTES {
        return Err(malformed(what, "must be at most 1024 bytes"));
    }
    if s.is_empty() || s.starts_with('/') {
        return Err(malformed(what, "must not start with '/'"));
    }
    if s.contains("..") {
        return Err(malformed(what, "must not contain '..'"));
    }
    if s.chars().any(char::is_control) {
        return Err(malformed(what, "must not contain control characters"));
    }
    // A noncharacter; refusing it lets SQL ledgers list a prefix as a key range.
    if s.contains('\u{10FFFF}') {
        return Err(malformed(what, "must not contain U+10FFFF"));
    }
    for segment in s.split('/') {
        if segment.is_empty() {
            return Err(malformed(what, "must not contain an empty segment"));
        }
        if segment == "." {
            return Err(malformed(what, "must not contain a '.' segment"));
        }
    }
    Ok(())
}

/// Check a content type: 1–255 bytes of printable ASCII. Errors are
/// [`ErrorKind::Malformed`].
pub fn validate_content_type(content_type: &str) -> Result<(), Error> {
    if content_type.is_empty() || content_type.len() > MAX_CONTENT_TYPE_BYTES {
        return Err(malformed("content_type", "must be 1-255 bytes"));
    }
    if !content_type.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return Err(malformed("content_type", "must be printable ASCII"));
    }
    Ok(())
}

/// Where the bytes of `meta` (an object of `tenant`) live: see [`version_path`]; or, for
/// an object stored before versions existed, `tenants/<tenant>/objects/<key>`.
pub(crate) fn data_path(tenant: &TenantId, key: &str, version: &str) -> Path {
    if version.is_empty() {
        legacy_object_path(tenant, key)
    } else {
        version_path(tenant, version)
    }
}

/// A new version name: `<shard>.<UUIDv7, 32 hex digits>`, the shard being the UUID's
/// last two hex digits (random bits, so concurrent puts spread over 256 shards).
pub(crate) fn new_version() -> String {
    let id = uuid::Uuid::now_v7().simple().to_string();
    format!("{}.{id}", &id[id.len() - 2..])
}

/// One stored version of an object: `tenants/<tenant>/blobs/<shard>/<version>` for a
/// version named by [`new_version`]; `tenants/<tenant>/blobs/<version>` for one stored
/// before versions were sharded (a bare UUID). On local files every put creates and
/// renames a file in that directory, under the directory's lock: one directory for all of
/// a tenant's objects made concurrent puts queue on it.
pub(crate) fn version_path(tenant: &TenantId, version: &str) -> Path {
    let shard = version
        .split_once('.')
        .map(|(shard, _)| shard)
        .filter(|shard| shard.len() == 2 && shard.bytes().all(|b| b.is_ascii_hexdigit()));
    let base = ["tenants", tenant.as_str(), "blobs"].into_iter();
    match shard {
        Some(shard) => Path::from_iter(base.chain([shard, version]).map(PathPart::from)),
        None => Path::from_iter(base.chain([version]).map(PathPart::from)),
    }
}

/// Where `key` of `tenant` lived before versions: `tenants/<tenant>/objects/<key>`, each
/// key segment percent-encoded by object_store where a backend could misread it. The
/// key must have passed [`validate_key`].
pub(crate) fn legacy_object_path(tenant: &TenantId, key: &str) -> Path {
    let parts = ["tenants", tenant.as_str(), "objects"]
        .into_iter()
        .chain(key.split('/'))
        .map(PathPart::from);
    Path::from_iter(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_sharded_and_old_ones_stay_where_they_were() {
        let t = TenantId::new("acme").unwrap();
        let v = new_version();
        let (shard, id) = v.split_once('.').expect("<shard>.<uuid>");
        assert_eq!(shard, &id[30..], "the UUID's last two digits");
        assert_eq!(
            version_path(&t, &v).as_ref(),
            format!("tenants/acme/blobs/{shard}/{v}")
        );
        let old = "01a22539008e75dba0ec6e587a848939";
        assert_eq!(
            version_path(&t, old).as_ref(),
            format!("tenants/acme/blobs/{old}"),
            "a version written before sharding is read where it was written"
        );
        assert_eq!(
            data_path(&t, "a/b.txt", &v),
            version_path(&t, &v),
            "data_path follows the version"
        );
    }

    #[test]
    fn good_keys() {
        for key in [
            "a",
            "a/b/c",
            "photo.png",
            "x y",
            "ünïcode/ok",
            "a.b/c-d_e~f",
            "%2E%2E",
        ] {
            validate_key(key).unwrap_or_else(|e| panic!("{key}: {e:?}"));
        }
        validate_key(&"k".repeat(MAX_KEY_BYTES)).expect("1024 bytes is fine");
    }

    #[test]
    fn bad_keys_are_malformed() {
        let long = "k".repeat(MAX_KEY_BYTES + 1);
        for key in [
            "",
            "/a",
            "a/",
            "a//b",
            "..",
            "../a",
            "a/../b",
            "a/..",
            "a..b",
            ".",
            "a/./b",
            "a\nb",
            "a\0b",
            "a\u{7f}b",
            "a\u{85}b",
            "a\u{10FFFF}",
            long.as_str(),
        ] {
            let err = validate_key(key).expect_err(key);
            assert_eq!(err.kind(), ErrorKind::Malformed, "{key:?}");
        }
    }

    #[test]
    fn prefixes() {
        for p in ["", "a", "a/", "a/b/", "a/b-"] {
            validate_prefix(p).unwrap_or_else(|e| panic!("{p}: {e:?}"));
        }
        for p in ["/", "/a", "a//", "..", "a/../", "a\n"] {
            assert_eq!(
                validate_prefix(p).expect_err(p).kind(),
                ErrorKind::Malformed,
                "{p:?}"
            );
        }
    }

    #[test]
    fn content_types() {
        validate_content_type("text/plain; charset=utf-8").unwrap();
        assert!(validate_content_type("").is_err());
        assert!(validate_content_type("text/plain\r\nX-Evil: 1").is_err());
    }

    #[test]
    fn keys_stay_inside_their_tenant() {
        let t = TenantId::new("acme").unwrap();
        let p = legacy_object_path(&t, "a/b#1/c?d");
        let s = p.as_ref();
        assert!(s.starts_with("tenants/acme/objects/a/"), "{s}");
        assert_eq!(p.parts().count(), 6, "{s}");
        assert!(!s.contains('#') && !s.contains('?'), "{s}");
    }
}
