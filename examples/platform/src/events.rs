//! Events, webhooks and notifications: baas-notify on the SQL stores and the queue, with
//! the example's `welcome` template, SMTP (or the log) for email, and signed webhooks.

use std::sync::Arc;

use baas_core::{Error, MasterKey, SharedClock};
use baas_notify::dispatch::DispatcherBuilder;
use baas_notify::http::NotifyState;
use baas_notify::providers::{LogChannel, SmtpChannel, SmtpConfig, WebhookChannel};
use baas_notify::store::sql::{
    Migrator, SqlDeliveryLog, SqlEndpointStore, SqlIntake, SqlPreferenceStore,
};
use baas_notify::{
    ChannelKind, Dispatcher, Notifier, RetrySchedule, TargetPolicy, TemplateSource, Templates,
    WebhookEndpoints,
};
use baas_store::Database;

use crate::config::Config;
use crate::storage::OpenedQueue;

/// The notifier the routes use and the dispatcher the workers run.
#[derive(Debug, Clone)]
pub struct Events {
    /// Accepts notifications and events (the routes' side).
    pub notifier: Notifier,
    /// The tenant's webhook endpoints.
    pub endpoints: WebhookEndpoints,
    /// Delivers what the notifier queued (the workers' side).
    pub dispatcher: Dispatcher,
}

impl Events {
    /// The routes' state.
    pub fn state(&self) -> NotifyState {
        NotifyState::new(self.notifier.clone(), self.endpoints.clone())
    }
}

/// The templates the example ships: `welcome` (variable `name`).
pub fn templates() -> Result<Templates, Error> {
    let mut templates = Templates::new("en");
    templates.add(
        "welcome",
        "en",
        TemplateSource::new(
            "Welcome, {{ name }}",
            "Hello {{ name }},\n\nwelcome aboard.\n",
        )
        .html("<p>Hello {{ name }},</p><p>welcome aboard.</p>"),
    )?;
    Ok(templates)
}

/// Migrate baas-notify's tables and build the notifier and the dispatcher.
pub async fn start(
    config: &Config,
    db: &Database,
    master_key: &MasterKey,
    queue: &OpenedQueue,
    clock: SharedClock,
) -> Result<Events, Error> {
    db.migrate_with::<Migrator>().await?;
    let log = Arc::new(SqlDeliveryLog::new(db.clone()));
    let policy = TargetPolicy::new().allow_private(config.webhook_allow_private);
    let endpoints = WebhookEndpoints::new(
        Arc::new(SqlEndpointStore::new(db.clone())),
        master_key.clone(),
        policy,
    )
    .with_clock(clock.clone());
    let templates = Arc::new(templates()?);
    // The SQL queue shares `db` (storage::open_queue): record and enqueue in one
    // transaction, concurrent requests grouped into one commit.
    let intake = queue.sql.clone().map(SqlIntake::new);
    let mut notifier = Notifier::new(
        log.clone(),
        Arc::new(SqlPreferenceStore::new(db.clone())),
        templates.clone(),
        queue.queue.clone(),
    )
    .with_endpoints(endpoints.clone())
    .mandatory_categories(["security"])
    .with_clock(clock.clone());
    if let Some(intake) = intake {
        notifier = notifier.with_intake(Arc::new(intake));
    }
    let dispatcher = providers(config, Dispatcher::builder(log, templates), policy)?
        .schedule(
            ChannelKind::Webhook,
            RetrySchedule::new(config.webhook_retry_schedule.clone())?,
        )
        .endpoints(endpoints.clone())
        .clock(clock)
        .build();
    Ok(Events {
        notifier,
        endpoints,
        dispatcher,
    })
}

/// Email through SMTP when `BAAS_SMTP_URL` is set, else to the log; SMS and push to the
/// log (a team adds its HTTP provider here); webhooks signed and SSRF-guarded.
fn providers(
    config: &Config,
    builder: DispatcherBuilder,
    policy: TargetPolicy,
) -> Result<DispatcherBuilder, Error> {
    let builder = match &config.smtp_url {
        Some(url) => builder.provider(Arc::new(SmtpChannel::new(SmtpConfig::from_url(
            url,
            config.smtp_from.clone(),
        )?)?)),
        None => builder.provider(Arc::new(LogChannel::new(ChannelKind::Email))),
    };
    Ok(builder
        .provider(Arc::new(LogChannel::new(ChannelKind::Sms)))
        .provider(Arc::new(LogChannel::new(ChannelKind::Push)))
        .provider(Arc::new(WebhookChannel::new(policy)?)))
}
