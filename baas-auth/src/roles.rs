//! Role names: validation shared by users and API keys.

use crate::error::AuthError;

/// The most roles one user or API key may hold.
pub const MAX_ROLES: usize = 32;

/// The longest role name.
pub const MAX_ROLE_LEN: usize = 64;

/// Check a set of roles: at most [`MAX_ROLES`], each 1–[`MAX_ROLE_LEN`] characters of
/// `[a-z0-9_.:-]` starting with a letter. Returns them sorted and deduplicated, as
/// stores keep them.
///
/// ```
/// use baas_auth::normalise_roles;
///
/// assert_eq!(normalise_roles(&["member".into(), "admin".into(), "member".into()]).unwrap(),
///            vec!["admin".to_owned(), "member".to_owned()]);
/// assert!(normalise_roles(&["Admin".into()]).is_err());
/// assert!(normalise_roles(&["".into()]).is_err());
/// ```
pub fn normalise_roles(roles: &[String]) -> Result<Vec<String>, AuthError> {
    if roles.len() > MAX_ROLES {
        return Err(AuthError::InvalidRole {
            reason: "too many roles",
        });
    }
    for role in roles {
        if role.is_empty() || role.len() > MAX_ROLE_LEN {
            return Err(AuthError::InvalidRole {
                reason: "a role name must be 1 to 64 characters",
            });
        }
        if !role.as_bytes()[0].is_ascii_lowercase()
            || !role
                .bytes()
                .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_' | b'.' | b':' | b'-'))
        {
            return Err(AuthError::InvalidRole {
                reason: "a role name is lowercase letters, digits and _ . : - starting with a letter",
            });
        }
    }
    let mut out = roles.to_vec();
    out.sort();
    out.dedup();
    Ok(out)
}
