//! The providers: a [`Channel`](crate::channel::Channel) each.
//!
//! | provider | channels | feature |
//! |---|---|---|
//! | [`LogChannel`] | any (writes a `tracing` event) | always |
//! | [`MemoryChannel`] | any (keeps messages; scriptable failures, for tests) | always |
//! | `WebhookChannel` | webhook (reqwest, Standard Webhooks signatures, SSRF guard) | `webhook` |
//! | `HttpChannel` | SMS, push (URL, auth header, body template) | `webhook` |
//! | `SmtpChannel` | email (lettre, pooled) | `smtp` |

mod log;
mod memory;

#[cfg(feature = "webhook")]
mod http;
#[cfg(feature = "smtp")]
mod smtp;
#[cfg(feature = "webhook")]
mod webhook;

#[cfg(feature = "webhook")]
#[cfg_attr(docsrs, doc(cfg(feature = "webhook")))]
pub use http::{HttpChannel, HttpChannelConfig};
pub use log::LogChannel;
pub use memory::MemoryChannel;
#[cfg(feature = "smtp")]
#[cfg_attr(docsrs, doc(cfg(feature = "smtp")))]
pub use smtp::{SmtpChannel, SmtpConfig, SmtpSecurity};
#[cfg(feature = "webhook")]
#[cfg_attr(docsrs, doc(cfg(feature = "webhook")))]
pub use webhook::{WEBHOOK_TIMEOUT, WebhookChannel};
