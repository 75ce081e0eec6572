//! Recipient validation per channel, at the edge (DESIGN.md rule 8).

use baas_core::Error;

use crate::error::NotifyError;
use crate::model::ChannelKind;

/// Check `to` for `channel`: an email address (one `@`, no spaces or control
/// characters, at most 254 bytes), an E.164 phone number (`+` and 8–15 digits), a
/// push token (1–4096 printable ASCII characters, no spaces). Webhooks are sent with
/// events, not to a recipient.
pub fn recipient(channel: ChannelKind, to: &str) -> Result<(), Error> {
    let bad = |m: &str| Err(NotifyError::InvalidRecipient(m.to_owned()).into());
    match channel {
        ChannelKind::Email => {
            let Some((local, domain)) = to.rsplit_once('@') else {
                return bad("not an email address");
            };
            let clean = |s: &str| {
                !s.is_empty()
                    && !s.chars().any(|c| {
                        c.is_control()
                            || c.is_whitespace()
                            || matches!(c, '<' | '>' | ',' | ';' | '"')
                    })
            };
            if to.len() > 254
                || !clean(local)
                || !clean(domain)
                || local.contains('@')
                || !domain.contains('.')
                || domain.starts_with('.')
                || domain.ends_with('.')
            {
                return bad("not an email address");
            }
            Ok(())
        }
        ChannelKind::Sms => {
            let digits = to.strip_prefix('+').unwrap_or("");
            if (8..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) {
                Ok(())
            } else {
                bad("not an E.164 phone number (+ and 8–15 digits)")
            }
        }
        ChannelKind::Push => {
            if !to.is_empty() && to.len() <= 4096 && to.bytes().all(|b| b.is_ascii_graphic()) {
                Ok(())
            } else {
                bad("not a device token")
            }
        }
        ChannelKind::Webhook => bad("webhooks are sent with events (publish), not to a recipient"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recipients() {
        assert!(recipient(ChannelKind::Email, "ann@example.com").is_ok());
        for bad in [
            "ann",
            "a b@example.com",
            "ann@example.com\r\nBcc: x@y.z",
            "@example.com",
            "ann@",
            "ann@localhost",
            "<a@b.c>",
        ] {
            assert!(recipient(ChannelKind::Email, bad).is_err(), "{bad}");
        }
        assert!(recipient(ChannelKind::Sms, "+15550100123").is_ok());
        assert!(recipient(ChannelKind::Sms, "5550100").is_err());
        assert!(recipient(ChannelKind::Push, "tok_123").is_ok());
        assert!(recipient(ChannelKind::Push, "a b").is_err());
        assert!(recipient(ChannelKind::Webhook, "x").is_err());
    }
}
