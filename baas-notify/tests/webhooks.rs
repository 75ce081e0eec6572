//! Events to webhooks, end to end: a real local axum receiver verifies every
//! signature; the queue and delivery log are in memory on a manual clock.

mod common;

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use baas_notify::DeliveryLog as _;
use baas_notify::dispatch::Disposition;
use baas_notify::providers::WebhookChannel;
use baas_notify::schedule::RetrySchedule;
use baas_notify::signing::{Verifier, WebhookSecret};
use baas_notify::ssrf::TargetPolicy;
use baas_notify::{ChannelKind, Outcome, Status};
use baas_queue::{Queue as _, QueueExt as _};
use parking_lot::Mutex;
use secrecy::ExposeSecret as _;

use common::world;

/// A scripted answer: status and an optional `Retry-After`.
type Answer = (u16, Option<&'static str>);

#[derive(Clone, Default)]
struct Receiver {
    verifier: Arc<Mutex<Option<Arc<Verifier>>>>,
    script: Arc<Mutex<VecDeque<Answer>>>,
    received: Arc<Mutex<Vec<(String, serde_json::Value)>>>,
    rejected: Arc<Mutex<usize>>,
}

async fn hook(
    State(r): State<Receiver>,
    headers: HeaderMap,
    body: Bytes,
) -> axum::response::Response {
    let verifier = r.verifier.lock().clone().expect("secret set");
    if verifier.verify(&headers, &body).is_err() {
        *r.rejected.lock() += 1;
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let (status, retry_after) = r.script.lock().pop_front().unwrap_or((200, None));
    if status == 200 {
        let id = headers["webhook-id"].to_str().unwrap().to_owned();
        r.received
            .lock()
            .push((id, serde_json::from_slice(&body).unwrap()));
    }
    let mut resp = StatusCode::from_u16(status).unwrap().into_response();
    if let Some(after) = retry_after {
        resp.headers_mut()
            .insert("retry-after", after.parse().unwrap());
    }
    resp
}

async fn receiver() -> (Receiver, String) {
    let r = Receiver::default();
    let app = axum::Router::new()
        .route("/hook", axum::routing::post(hook))
        .with_state(r.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (r, format!("http://{addr}/hook"))
}

fn channel() -> Arc<WebhookChannel> {
    Arc::new(WebhookChannel::new(TargetPolicy::new().allow_private(true)).unwrap())
}

async fn register(w: &common::World, r: &Receiver, url: &str, types: &[&str]) -> uuid::Uuid {
    let (ep, secret) = w
        .endpoints
        .create(
            &w.tenant,
            url,
            types.iter().map(|t| (*t).to_owned()).collect(),
        )
        .await
        .unwrap();
    let secret = WebhookSecret::parse(secret.expose_secret()).unwrap();
    *r.verifier.lock() = Some(Arc::new(Verifier::new(secret)));
    ep.id
}

#[tokio::test]
async fn an_event_reaches_each_matching_endpoint_signed_and_once() {
    let w = world();
    let (r, url) = receiver().await;
    register(&w, &r, &url, &["user.created"]).await;
    let d = w.dispatcher().provider(channel()).build();

    let other = w
        .notifier
        .publish(&w.tenant, "user.deleted", serde_json::json!({}))
        .await
        .unwrap();
    assert!(
        other.deliveries.is_empty(),
        "no endpoint wants user.deleted"
    );
    let event = w
        .notifier
        .publish(&w.tenant, "user.created", serde_json::json!({"id": 7}))
        .await
        .unwrap();
    assert_eq!(event.deliveries.len(), 1);
    assert_eq!(d.run_once(&*w.queue, "baas-notify", 10).await.unwrap(), 1);
    // Nothing left to do: delivered exactly once.
    assert_eq!(d.run_once(&*w.queue, "baas-notify", 10).await.unwrap(), 0);

    let got = r.received.lock().clone();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0, event.id, "webhook-id is the event id");
    assert_eq!(got[0].1["type"], "user.created");
    assert_eq!(got[0].1["data"], serde_json::json!({"id": 7}));
    assert!(got[0].1["timestamp"].is_string());
    assert_eq!(*r.rejected.lock(), 0);
    let n = w
        .log
        .get(&w.tenant, event.deliveries[0])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(n.status, Status::Sent);
    let attempts = w.log.attempts(&w.tenant, n.id).await.unwrap();
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0].outcome, Outcome::Sent);
    assert_eq!(attempts[0].status_code, Some(200));
    assert_eq!(attempts[0].provider, "webhook");
}

#[tokio::test]
async fn retries_follow_the_schedule_and_honour_retry_after() {
    let w = world();
    let (r, url) = receiver().await;
    register(&w, &r, &url, &["*"]).await;
    r.script.lock().extend([(500, None), (429, Some("120"))]);
    let d = w
        .dispatcher()
        .provider(channel())
        .schedule(
            ChannelKind::Webhook,
            "0s,5s,60s,1h"
                .parse::<RetrySchedule>()
                .unwrap()
                .with_jitter(0.0),
        )
        .build();
    let event = w
        .notifier
        .publish(&w.tenant, "a", serde_json::json!(1))
        .await
        .unwrap();
    let id = event.deliveries[0];

    d.run_once(&*w.queue, "baas-notify", 10).await.unwrap();
    assert_eq!(
        w.log.get(&w.tenant, id).await.unwrap().unwrap().status,
        Status::Failed
    );
    w.clock.advance(Duration::from_secs(4));
    assert_eq!(
        d.run_once(&*w.queue, "baas-notify", 10).await.unwrap(),
        0,
        "not before 5 s"
    );
    w.clock.advance(Duration::from_secs(1));
    assert_eq!(d.run_once(&*w.queue, "baas-notify", 10).await.unwrap(), 1);
    // 429 with Retry-After: 120 outweighs the scheduled 60 s.
    w.clock.advance(Duration::from_secs(119));
    assert_eq!(d.run_once(&*w.queue, "baas-notify", 10).await.unwrap(), 0);
    w.clock.advance(Duration::from_secs(1));
    assert_eq!(d.run_once(&*w.queue, "baas-notify", 10).await.unwrap(), 1);

    let n = w.log.get(&w.tenant, id).await.unwrap().unwrap();
    assert_eq!(n.status, Status::Sent);
    let codes: Vec<_> = w
        .log
        .attempts(&w.tenant, id)
        .await
        .unwrap()
        .iter()
        .map(|a| a.status_code)
        .collect();
    assert_eq!(codes, [Some(500), Some(429), Some(200)]);
    assert_eq!(r.received.lock().len(), 1);
}

#[tokio::test]
async fn gone_disables_the_endpoint() {
    let w = world();
    let (r, url) = receiver().await;
    let ep = register(&w, &r, &url, &["*"]).await;
    r.script.lock().push_back((410, None));
    let d = w.dispatcher().provider(channel()).build();
    let event = w
        .notifier
        .publish(&w.tenant, "a", serde_json::json!({}))
        .await
        .unwrap();
    d.run_once(&*w.queue, "baas-notify", 10).await.unwrap();
    assert!(
        w.endpoints
            .get(&w.tenant, ep)
            .await
            .unwrap()
            .unwrap()
            .disabled
    );
    let n = w
        .log
        .get(&w.tenant, event.deliveries[0])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(n.status, Status::Dead);
    assert_eq!(
        w.log.attempts(&w.tenant, n.id).await.unwrap()[0].outcome,
        Outcome::Gone
    );
    // A disabled endpoint gets no further events.
    let later = w
        .notifier
        .publish(&w.tenant, "a", serde_json::json!({}))
        .await
        .unwrap();
    assert!(later.deliveries.is_empty());
}

#[tokio::test]
async fn dead_letter_after_the_last_try_then_redrive_delivers() {
    let w = world();
    let (r, url) = receiver().await;
    register(&w, &r, &url, &["*"]).await;
    r.script.lock().extend([(503, None), (500, None)]);
    let d = w
        .dispatcher()
        .provider(channel())
        .schedule(
            ChannelKind::Webhook,
            "0s,1s".parse::<RetrySchedule>().unwrap().with_jitter(0.0),
        )
        .build();
    let event = w
        .notifier
        .publish(&w.tenant, "a", serde_json::json!({}))
        .await
        .unwrap();
    let id = event.deliveries[0];
    d.run_once(&*w.queue, "baas-notify", 10).await.unwrap();
    w.clock.advance(Duration::from_secs(1));
    d.run_once(&*w.queue, "baas-notify", 10).await.unwrap();
    assert_eq!(
        w.log.get(&w.tenant, id).await.unwrap().unwrap().status,
        Status::Dead
    );
    assert_eq!(
        w.queue.dead_letters("baas-notify", 10).await.unwrap().len(),
        1
    );
    assert!(r.received.lock().is_empty());

    assert_eq!(w.queue.redrive_all("baas-notify").await.unwrap(), 1);
    d.run_once(&*w.queue, "baas-notify", 10).await.unwrap();
    assert_eq!(
        w.log.get(&w.tenant, id).await.unwrap().unwrap().status,
        Status::Sent
    );
    assert_eq!(r.received.lock().len(), 1);
    assert_eq!(r.received.lock()[0].0, event.id);
    assert_eq!(w.log.attempts(&w.tenant, id).await.unwrap().len(), 3);
}

#[tokio::test]
async fn a_hanging_receiver_times_out_and_is_retried() {
    let w = world();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    // Accepts connections and never answers.
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = listener.accept().await {
            held.push(s);
        }
    });
    w.endpoints
        .create(&w.tenant, &url, vec!["*".into()])
        .await
        .unwrap();
    let ch = WebhookChannel::with_options(
        TargetPolicy::new().allow_private(true),
        Duration::from_millis(300),
        baas_core::clock::system(),
    )
    .unwrap();
    let d = w.dispatcher().provider(Arc::new(ch)).build();
    let event = w
        .notifier
        .publish(&w.tenant, "a", serde_json::json!({}))
        .await
        .unwrap();
    let job = w
        .queue
        .reserve_one("baas-notify", Duration::from_secs(60))
        .await
        .unwrap()
        .unwrap();
    let disposition = d.handle(&*w.queue, job).await.unwrap();
    assert!(
        matches!(disposition, Disposition::Retry(_)),
        "{disposition:?}"
    );
    let a = &w
        .log
        .attempts(&w.tenant, event.deliveries[0])
        .await
        .unwrap()[0];
    assert_eq!(a.outcome, Outcome::Retryable);
}

#[tokio::test]
async fn ssrf_targets_are_refused_at_send_time_too() {
    let w = world();
    // Registered while private targets were allowed; the provider refuses them.
    w.endpoints
        .create(&w.tenant, "http://127.0.0.1:9/", vec!["*".into()])
        .await
        .unwrap();
    let strict = Arc::new(WebhookChannel::new(TargetPolicy::new()).unwrap());
    let d = w.dispatcher().provider(strict).build();
    let event = w
        .notifier
        .publish(&w.tenant, "a", serde_json::json!({}))
        .await
        .unwrap();
    d.run_once(&*w.queue, "baas-notify", 10).await.unwrap();
    let a = &w
        .log
        .attempts(&w.tenant, event.deliveries[0])
        .await
        .unwrap()[0];
    assert_eq!(a.outcome, Outcome::Permanent);
    assert!(a.error.as_deref().unwrap().contains("refused"), "{a:?}");
}
