//! # baas-notify
//!
//! Email, webhooks, SMS and push delivered through the baas queue: templates,
//! preferences, Standard Webhooks signing, retries, failover and delivery tracking.
#![cfg_attr(docsrs, feature(doc_cfg))]

pub use baas_core as core;

pub mod error;
pub mod signing;
pub mod template;

pub use error::NotifyError;
pub use signing::{Verifier, WebhookSecret};
pub use template::{Rendered, TemplateSource, Templates};
pub mod channel;
pub mod model;
pub mod providers;
pub mod schedule;
pub mod ssrf;

pub use channel::{Channel, DeliveryError, DynChannel, FailureClass, Message, Receipt};
pub use model::{Attempt, ChannelKind, Notification, Outcome, Status};
pub use schedule::RetrySchedule;
pub use ssrf::TargetPolicy;
pub mod endpoints;
#[cfg(feature = "http")]
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
pub mod http;
pub mod store;

#[cfg(any(test, feature = "testing"))]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;

pub use endpoints::WebhookEndpoints;
pub use store::{DeliveryLog, Endpoint, EndpointStore, PreferenceStore};

#[cfg(test)]
mod memory_suites {
    use crate::store::{MemoryDeliveryLog, MemoryEndpointStore, MemoryPreferenceStore};
    use crate::testing;

    #[tokio::test]
    async fn memory_delivery_log() {
        testing::delivery_log_suite(&MemoryDeliveryLog::new(), "m").await;
    }

    #[tokio::test]
    async fn memory_preferences() {
        testing::preference_suite(&MemoryPreferenceStore::new(), "m").await;
    }

    #[tokio::test]
    async fn memory_endpoints() {
        testing::endpoint_suite(&MemoryEndpointStore::new(), "m").await;
    }
}
pub mod dispatch;
pub mod notifier;
pub mod validate;

pub use dispatch::{Dispatcher, Disposition, ProviderOptions};
pub use notifier::{DeliveryJob, Notifier, PublishedEvent, SendRequest};
