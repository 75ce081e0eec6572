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

    /// Forwards only the single-item methods, so the suite checks the trait's default
    /// `start_many` and `settle_many`.
    #[derive(Debug)]
    struct SingleOnly(MemoryDeliveryLog);

    #[async_trait::async_trait]
    impl crate::DeliveryLog for SingleOnly {
        async fn insert(
            &self,
            n: &crate::Notification,
        ) -> Result<crate::store::Inserted, crate::core::Error> {
            self.0.insert(n).await
        }
        async fn get(
            &self,
            tenant: &crate::core::TenantId,
            id: uuid::Uuid,
        ) -> Result<Option<crate::Notification>, crate::core::Error> {
            self.0.get(tenant, id).await
        }
        async fn set_status(
            &self,
            tenant: &crate::core::TenantId,
            id: uuid::Uuid,
            status: crate::Status,
            at: std::time::SystemTime,
        ) -> Result<(), crate::core::Error> {
            self.0.set_status(tenant, id, status, at).await
        }
        async fn record_attempt(
            &self,
            tenant: &crate::core::TenantId,
            attempt: &crate::Attempt,
        ) -> Result<(), crate::core::Error> {
            self.0.record_attempt(tenant, attempt).await
        }
        async fn attempts(
            &self,
            tenant: &crate::core::TenantId,
            id: uuid::Uuid,
        ) -> Result<Vec<crate::Attempt>, crate::core::Error> {
            self.0.attempts(tenant, id).await
        }
        async fn sweep(&self, before: std::time::SystemTime) -> Result<u64, crate::core::Error> {
            self.0.sweep(before).await
        }
    }

    #[tokio::test]
    async fn default_batch_methods() {
        testing::delivery_log_suite(&SingleOnly(MemoryDeliveryLog::new()), "d").await;
    }

    #[tokio::test]
    async fn memory_intake() {
        let log = std::sync::Arc::new(MemoryDeliveryLog::new());
        let queue = std::sync::Arc::new(baas_queue::MemoryQueue::new());
        let intake = crate::intake::QueueIntake::new(log.clone(), queue.clone());
        testing::intake_suite(&intake, log.as_ref(), queue.as_ref(), "m").await;
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
pub mod intake;
pub mod notifier;
pub mod validate;

pub use dispatch::{Dispatcher, Disposition, ProviderOptions};
pub use intake::{Accept, Intake, QueueIntake};
pub use notifier::{DeliveryJob, Notifier, PublishedEvent, SendRequest};
