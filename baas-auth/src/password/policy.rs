//! What a new password must satisfy.

use secrecy::{ExposeSecret, SecretString};

use crate::error::AuthError;

/// The rules a new password must satisfy: a length in characters (not bytes) and not
/// being one of the most common passwords. Defaults: 8–128 characters, common ones
/// refused (NIST SP 800-63B, OWASP ASVS 2.1).
#[derive(Debug, Clone)]
pub struct PasswordPolicy {
    /// The fewest characters allowed.
    pub min_chars: usize,
    /// The most characters allowed.
    pub max_chars: usize,
    /// Whether to refuse the passwords on [`is_common`](super::is_common)'s list.
    pub refuse_common: bool,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        PasswordPolicy {
            min_chars: 8,
            max_chars: 128,
            refuse_common: true,
        }
    }
}

impl PasswordPolicy {
    /// Check `password`; the error says which rule failed and never contains the password.
    ///
    /// ```
    /// use baas_auth::{AuthError, password::PasswordPolicy};
    /// use secrecy::SecretString;
    ///
    /// let policy = PasswordPolicy::default();
    /// assert!(matches!(policy.check(&SecretString::from("short")), Err(AuthError::PasswordTooShort { min: 8 })));
    /// assert!(policy.check(&SecretString::from("ünïcödé-pässwörd")).is_ok());
    /// ```
    pub fn check(&self, password: &SecretString) -> Result<(), AuthError> {
        let password = password.expose_secret();
        let chars = password.chars().count();
        if chars < self.min_chars {
            return Err(AuthError::PasswordTooShort {
                min: self.min_chars,
            });
        }
        if chars > self.max_chars {
            return Err(AuthError::PasswordTooLong {
                max: self.max_chars,
            });
        }
        if self.refuse_common && super::is_common(password) {
            return Err(AuthError::PasswordTooCommon);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(p: &str) -> Result<(), AuthError> {
        PasswordPolicy::default().check(&SecretString::from(p))
    }

    #[test]
    fn length_counts_characters_not_bytes() {
        // 7 characters, 14 bytes: too short.
        assert!(matches!(
            check("ééééééé"),
            Err(AuthError::PasswordTooShort { .. })
        ));
        // 8 characters: fine.
        assert!(check("éééééééé").is_ok());
        // 128 multi-byte characters: fine; 129: too long.
        assert!(check(&"ж".repeat(128)).is_ok());
        assert!(matches!(
            check(&"ж".repeat(129)),
            Err(AuthError::PasswordTooLong { max: 128 })
        ));
    }

    #[test]
    fn common_passwords_are_refused_case_insensitively() {
        for p in [
            "password",
            "PASSWORD1",
            "Qwerty123",
            "iloveyou",
            "12345678",
            "P@ssw0rd",
        ] {
            assert!(matches!(check(p), Err(AuthError::PasswordTooCommon)), "{p}");
        }
        let lax = PasswordPolicy {
            refuse_common: false,
            ..PasswordPolicy::default()
        };
        assert!(lax.check(&SecretString::from("password")).is_ok());
    }

    #[test]
    fn errors_never_contain_the_password() {
        let err = check("iloveyou1").unwrap_err();
        assert!(!err.to_string().contains("iloveyou1"));
    }
}
