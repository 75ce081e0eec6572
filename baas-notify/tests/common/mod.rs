//! Shared set-up for the dispatch tests (included with `mod common;`).
#![allow(dead_code, unreachable_pub)]

use std::sync::Arc;

use baas_core::{ManualClock, MasterKey, TenantId};
use baas_notify::endpoints::WebhookEndpoints;
use baas_notify::ssrf::TargetPolicy;
use baas_notify::store::{MemoryDeliveryLog, MemoryEndpointStore, MemoryPreferenceStore};
use baas_notify::template::{TemplateSource, Templates};
use baas_notify::{Dispatcher, Notifier};
use baas_queue::MemoryQueue;

pub struct World {
    pub clock: ManualClock,
    pub queue: Arc<MemoryQueue>,
    pub log: Arc<MemoryDeliveryLog>,
    pub prefs: Arc<MemoryPreferenceStore>,
    pub endpoints: WebhookEndpoints,
    pub templates: Arc<Templates>,
    pub notifier: Notifier,
    pub tenant: TenantId,
}

pub fn world() -> World {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let clock = ManualClock::new();
    let queue = Arc::new(MemoryQueue::with_clock(clock.shared()));
    let log = Arc::new(MemoryDeliveryLog::new());
    let prefs = Arc::new(MemoryPreferenceStore::new());
    let endpoints = WebhookEndpoints::new(
        Arc::new(MemoryEndpointStore::new()),
        MasterKey::generate(),
        TargetPolicy::new().allow_private(true),
    );
    let mut templates = Templates::new("en");
    templates
        .add(
            "welcome",
            "en",
            TemplateSource::new("Welcome {{ name }}", "Hello {{ name }}")
                .html("<p>Hello {{ name }}</p>"),
        )
        .unwrap();
    let templates = Arc::new(templates);
    let notifier = Notifier::new(log.clone(), prefs.clone(), templates.clone(), queue.clone())
        .with_endpoints(endpoints.clone())
        .mandatory_categories(["security"])
        .with_clock(clock.shared());
    World {
        clock,
        queue,
        log,
        prefs,
        endpoints,
        templates,
        notifier,
        tenant: TenantId::new("acme").unwrap(),
    }
}

impl World {
    pub fn dispatcher(&self) -> baas_notify::dispatch::DispatcherBuilder {
        Dispatcher::builder(self.log.clone(), self.templates.clone())
            .endpoints(self.endpoints.clone())
            .clock(self.clock.shared())
    }
}
