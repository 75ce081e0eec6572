//! Email addresses: normalised (trim, Unicode NFKC, lowercase) and validated before any
//! lookup, so `Ａlice@Example.com ` and `alice@example.com` are one account.

use std::fmt;

use unicode_normalization::UnicodeNormalization as _;

use crate::error::AuthError;

/// The longest address accepted (RFC 5321's path limit less the brackets).
pub const MAX_EMAIL_LEN: usize = 254;
/// The longest local part accepted (RFC 5321).
pub const MAX_LOCAL_LEN: usize = 64;

/// A normalised, syntactically plausible email address.
///
/// The check is deliberately pragmatic: one `@`, a non-empty local part of at most 64
/// bytes, a domain with a dot and no empty labels, no whitespace or control characters,
/// at most 254 bytes in all. Whether the mailbox exists is for a confirmation email to
/// find out.
///
/// ```
/// use baas_auth::Email;
///
/// let email = Email::parse("  Alice@Example.COM ")?;
/// assert_eq!(email.as_str(), "alice@example.com");
/// // NFKC folds compatibility characters (here full-width letters).
/// assert_eq!(Email::parse("ａｌｉｃｅ@example.com")?, email);
/// assert!(Email::parse("alice@localhost").is_err());
/// assert!(Email::parse("a b@example.com").is_err());
/// # Ok::<(), baas_auth::AuthError>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Email(String);

impl Email {
    /// Normalise and validate `input`.
    pub fn parse(input: &str) -> Result<Self, AuthError> {
        let normalised: String = input.trim().nfkc().collect::<String>().to_lowercase();
        validate(&normalised)?;
        Ok(Email(normalised))
    }

    /// The normalised address.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The domain part.
    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map_or("", |(_, d)| d)
    }
}

/// Unicode format characters (category Cf) that render as nothing or reorder text: soft
/// hyphen, zero-width and joiner characters, bidirectional embeddings, overrides and
/// isolates, the byte-order mark, interlinear annotation and tag characters. They let
/// two addresses look alike (or one look like another), so none is accepted.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{115F}'..='\u{1160}'
            | '\u{17B4}'..='\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF9}'..='\u{FFFB}'
            | '\u{E0000}'..='\u{E0FFF}'
    )
}

fn validate(email: &str) -> Result<(), AuthError> {
    let fail = |reason| Err(AuthError::InvalidEmail { reason });
    if email.is_empty() {
        return fail("must not be empty");
    }
    if email.len() > MAX_EMAIL_LEN {
        return fail("must be at most 254 characters");
    }
    if email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return fail("must not contain spaces or control characters");
    }
    if email.chars().any(is_invisible) {
        return fail("must not contain invisible or bidirectional formatting characters");
    }
    let mut parts = email.split('@');
    let (Some(local), Some(domain), None) = (parts.next(), parts.next(), parts.next()) else {
        return fail("must contain exactly one @");
    };
    if local.is_empty() {
        return fail("needs a name before the @");
    }
    if local.len() > MAX_LOCAL_LEN {
        return fail("the part before the @ must be at most 64 characters");
    }
    if !domain.contains('.') {
        return fail("the domain needs a dot");
    }
    if domain.split('.').any(str::is_empty) {
        return fail("the domain has an empty label");
    }
    if domain.starts_with('-')
        || domain
            .split('.')
            .any(|l| l.starts_with('-') || l.ends_with('-'))
    {
        return fail("a domain label may not start or end with a hyphen");
    }
    Ok(())
}

impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Email({:?})", self.0)
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Email {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for Email {
    type Err = AuthError;
    fn from_str(s: &str) -> Result<Self, AuthError> {
        Email::parse(s)
    }
}

impl serde::Serialize for Email {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Email {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Email::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_case_width_and_whitespace() {
        let a = Email::parse("\tBob.Smith+tag@Mail.Example.org\n").unwrap();
        assert_eq!(a.as_str(), "bob.smith+tag@mail.example.org");
        assert_eq!(a.domain(), "mail.example.org");
        // Full-width @ and letters fold under NFKC.
        assert_eq!(
            Email::parse("ＢＯＢ＠example.org").unwrap().as_str(),
            "bob@example.org"
        );
        // Unicode local parts survive, lowercased.
        assert_eq!(
            Email::parse("Ünï@example.de").unwrap().as_str(),
            "ünï@example.de"
        );
    }

    #[test]
    fn refuses_implausible_addresses() {
        let long_local = format!("{}@example.com", "a".repeat(65));
        let long_total = format!("a@{}.com", "b".repeat(260));
        for bad in [
            "",
            "   ",
            "plain",
            "@example.com",
            "a@",
            "a@b@example.com",
            "a@example",
            "a@.example.com",
            "a@example..com",
            "a@example.com.",
            "a@-example.com",
            "a b@example.com",
            "a@exa\u{0}mple.com",
            "a\u{7}@example.com",
            "\u{202E}moc.elpmaxe@a",
            "a\u{200B}@example.com",
            "a@exam\u{FEFF}ple.com",
            "a\u{2066}@example.com",
            &long_local,
            &long_total,
        ] {
            let err = Email::parse(bad).unwrap_err();
            assert!(matches!(err, AuthError::InvalidEmail { .. }), "{bad:?}");
        }
        assert!(Email::parse(&format!("{}@example.com", "a".repeat(64))).is_ok());
    }

    #[test]
    fn deserialising_normalises() {
        let e: Email = serde_json::from_str("\"X@Y.io\"").unwrap();
        assert_eq!(e.as_str(), "x@y.io");
        assert!(serde_json::from_str::<Email>("\"nope\"").is_err());
    }
}
