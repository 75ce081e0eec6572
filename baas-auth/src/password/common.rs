//! The list of the most common passwords, shipped in the crate.

use std::collections::HashSet;
use std::sync::OnceLock;

const LIST: &str = include_str!("../../data/common-passwords.txt");

fn set() -> &'static HashSet<&'static str> {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| {
        LIST.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect()
    })
}

/// Whether `password` (compared case-insensitively) is one of the few thousand most
/// common passwords.
///
/// ```
/// assert!(baas_auth::password::is_common("Password123"));
/// assert!(baas_auth::password::is_common("QWERTYUIOP"));
/// assert!(!baas_auth::password::is_common("violet-otter-mandolin"));
/// ```
pub fn is_common(password: &str) -> bool {
    set().contains(password.to_lowercase().as_str())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_list_is_large_lowercase_and_long_enough() {
        let set = super::set();
        assert!(set.len() >= 1000, "{}", set.len());
        for p in set {
            assert_eq!(*p, p.to_lowercase());
            assert!(p.chars().count() >= 8, "{p}");
        }
    }
}
