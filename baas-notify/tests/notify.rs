//! Notifications through the queue: validation, idempotency, preferences, failover.

mod common;

use std::sync::Arc;

use baas_core::ErrorKind;
use baas_notify::channel::{DeliveryError, Message};
use baas_notify::providers::MemoryChannel;
use baas_notify::{
    ChannelKind, DeliveryLog as _, Outcome, PreferenceStore as _, SendRequest, Status,
};
use baas_queue::Queue as _;
use serde_json::json;

use common::world;

fn welcome(to: &str) -> SendRequest {
    SendRequest::new(ChannelKind::Email, to, "welcome", json!({"name": "Ann"}))
}

#[tokio::test]
async fn bad_input_is_invalid_and_stores_nothing() {
    let w = world();
    for req in [
        welcome("not-an-address"),
        SendRequest::new(ChannelKind::Email, "a@example.com", "nope", json!({})),
        SendRequest::new(
            ChannelKind::Email,
            "a@example.com",
            "welcome",
            json!({"nom": "x"}),
        ),
        SendRequest::new(ChannelKind::Email, "a@example.com", "welcome", json!([1])),
        welcome("a@example.com").idempotency_key(""),
    ] {
        let e = w.notifier.send(&w.tenant, req).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Invalid);
    }
    assert_eq!(
        w.queue
            .stats("baas-notify")
            .await
            .ok()
            .and_then(|s| s.depth)
            .unwrap_or(0),
        0
    );
}

#[tokio::test]
async fn one_idempotency_key_one_delivery() {
    let w = world();
    let mail = MemoryChannel::new("mem", ChannelKind::Email);
    let d = w.dispatcher().provider(Arc::new(mail.clone())).build();
    let a = w
        .notifier
        .send(&w.tenant, welcome("a@example.com").idempotency_key("k"))
        .await
        .unwrap();
    let b = w
        .notifier
        .send(&w.tenant, welcome("a@example.com").idempotency_key("k"))
        .await
        .unwrap();
    assert_eq!(a.id, b.id);
    d.run_once(&*w.queue, "baas-notify", 10).await.unwrap();
    d.run_once(&*w.queue, "baas-notify", 10).await.unwrap();
    assert_eq!(mail.sent().len(), 1);
    let Message::Email(e) = &mail.sent()[0] else {
        panic!("email")
    };
    assert_eq!(e.subject, "Welcome Ann");
    assert_eq!(e.html.as_deref(), Some("<p>Hello Ann</p>"));
    assert_eq!(
        w.log.get(&w.tenant, a.id).await.unwrap().unwrap().status,
        Status::Sent
    );
}

#[tokio::test]
async fn an_opt_out_suppresses_unless_mandatory() {
    let w = world();
    let mail = MemoryChannel::new("mem", ChannelKind::Email);
    let d = w.dispatcher().provider(Arc::new(mail.clone())).build();
    let who = "a@example.com";
    w.prefs
        .set_opt_out(&w.tenant, who, "*", ChannelKind::Email, true)
        .await
        .unwrap();
    let n = w
        .notifier
        .send(&w.tenant, welcome(who).category("news"))
        .await
        .unwrap();
    assert_eq!(n.status, Status::Suppressed);
    let s = w
        .notifier
        .send(&w.tenant, welcome(who).category("security"))
        .await
        .unwrap();
    assert_eq!(s.status, Status::Queued);
    d.run_once(&*w.queue, "baas-notify", 10).await.unwrap();
    assert_eq!(mail.sent().len(), 1, "only the mandatory one");
    assert_eq!(
        w.log.get(&w.tenant, n.id).await.unwrap().unwrap().status,
        Status::Suppressed
    );
}

#[tokio::test]
async fn failover_to_the_second_provider_and_permanent_failures_are_dead() {
    let w = world();
    let first = MemoryChannel::new("primary", ChannelKind::Email);
    let second = MemoryChannel::new("secondary", ChannelKind::Email);
    first.fail_always(|| DeliveryError::retryable("connection refused"));
    let d = w
        .dispatcher()
        .provider(Arc::new(first.clone()))
        .provider(Arc::new(second.clone()))
        .build();
    let n = w
        .notifier
        .send(&w.tenant, welcome("a@example.com"))
        .await
        .unwrap();
    d.run_once(&*w.queue, "baas-notify", 10).await.unwrap();
    assert_eq!(second.sent().len(), 1);
    let attempts = w.log.attempts(&w.tenant, n.id).await.unwrap();
    let seen: Vec<_> = attempts
        .iter()
        .map(|a| (a.provider.as_str(), a.outcome))
        .collect();
    assert_eq!(
        seen,
        [
            ("primary", Outcome::Retryable),
            ("secondary", Outcome::Sent)
        ]
    );

    // A 4xx from an email provider is permanent: dead at once, no failover.
    first.recover();
    first.fail_next(1, || DeliveryError::from_status(400, false, None));
    let m = w
        .notifier
        .send(&w.tenant, welcome("b@example.com"))
        .await
        .unwrap();
    d.run_once(&*w.queue, "baas-notify", 10).await.unwrap();
    assert_eq!(
        w.log.get(&w.tenant, m.id).await.unwrap().unwrap().status,
        Status::Dead
    );
    assert_eq!(second.sent().len(), 1);
}

#[tokio::test]
async fn an_open_circuit_moves_straight_to_the_next_provider() {
    use baas_core::circuit_breaker::BreakerPolicy;
    use baas_notify::ProviderOptions;
    let w = world();
    let first = MemoryChannel::new("primary", ChannelKind::Email);
    let second = MemoryChannel::new("secondary", ChannelKind::Email);
    first.fail_always(|| DeliveryError::retryable("down"));
    let opts = ProviderOptions {
        breaker: BreakerPolicy::new().failure_threshold(1),
        ..ProviderOptions::default()
    };
    let d = w
        .dispatcher()
        .provider_with(Arc::new(first.clone()), opts)
        .provider(Arc::new(second.clone()))
        .build();
    for to in ["a@example.com", "b@example.com"] {
        w.notifier.send(&w.tenant, welcome(to)).await.unwrap();
        d.run_once(&*w.queue, "baas-notify", 10).await.unwrap();
    }
    assert_eq!(first.calls(), 1, "the open circuit spared the primary");
    assert_eq!(second.sent().len(), 2);
}

#[cfg(feature = "smtp")]
#[tokio::test]
async fn smtp_delivers_to_the_real_server_and_crlf_adds_no_header() {
    use baas_notify::channel::{Channel as _, EmailMessage};
    use baas_notify::providers::{SmtpChannel, SmtpConfig};
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let Some(addr) = baas_core::testing::service("BAAS_TEST_SMTP_ADDR") else {
        return;
    };
    let maildir = baas_core::testing::service("BAAS_TEST_SMTP_MAILDIR")
        .expect("maildir with the SMTP server");
    let smtp = SmtpChannel::new(
        SmtpConfig::from_url(&format!("smtp://{addr}"), "Baas <noreply@example.com>").unwrap(),
    )
    .unwrap();
    let marker = uuid::Uuid::new_v4().simple().to_string();
    let msg = Message::Email(EmailMessage {
        id: marker.clone(),
        to: "ann@example.com".into(),
        subject: format!("Hi {marker}\r\nBcc: evil@example.com"),
        text: "plain".into(),
        html: Some("<b>html</b>".into()),
    });
    smtp.send(&msg).await.expect("sent");
    // Find the message in the Maildir.
    let mut found = None;
    for _ in 0..50 {
        for dir in ["new", "cur"] {
            if let Ok(entries) = std::fs::read_dir(format!("{maildir}/{dir}")) {
                for e in entries.flatten() {
                    let text = std::fs::read_to_string(e.path()).unwrap_or_default();
                    if text.contains(&marker) {
                        found = Some(text);
                    }
                }
            }
        }
        if found.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let text = found.expect("the message reached the Maildir");
    let headers = text.split("\r\n\r\n").next().unwrap().replace("\r\n", "\n");
    let headers = headers.split("\n\n").next().unwrap();
    assert!(
        !headers
            .lines()
            .any(|l| l.to_ascii_lowercase().starts_with("bcc:")),
        "{headers}"
    );
    assert!(headers.contains("multipart/alternative"), "{headers}");
    assert!(text.contains("plain") && text.contains("<b>html</b>"));

    // A malformed recipient is a permanent failure, never sent.
    let bad = Message::Email(EmailMessage {
        id: "x".into(),
        to: "not an address".into(),
        subject: "s".into(),
        text: "t".into(),
        html: None,
    });
    let e = smtp.send(&bad).await.unwrap_err();
    assert_eq!(e.class(), baas_notify::FailureClass::Permanent);
}
