use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::routing::get;
use http::{Request, StatusCode, header};
use tower::{Layer as _, ServiceExt as _};

use super::*;
use crate::{Error, ErrorKind, ManualClock, Principal, PrincipalKind, TenantId};

fn keyed_app(clock: &ManualClock, n: u32, window: Duration) -> axum::Router {
    let key = |req: &Request<Body>| {
        req.headers()
            .get("x-key")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    axum::Router::new()
        .route("/", get(|| async { "ok" }))
        .layer(RateLimitLayer::with_clock(
            quota(n, window).unwrap(),
            key,
            clock.shared(),
        ))
}

fn with_key(key: &str) -> Request<Body> {
    Request::get("/")
        .header("x-key", key)
        .body(Body::empty())
        .unwrap()
}

#[tokio::test]
async fn answers_429_with_headers_after_the_burst_and_recovers() {
    let clock = ManualClock::new();
    let app = keyed_app(&clock, 3, Duration::from_secs(60));

    for remaining in [2, 1, 0] {
        let res = app.clone().oneshot(with_key("a")).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()[RATELIMIT_POLICY], "\"default\";q=3;w=60");
        let rl = res.headers()[RATELIMIT].to_str().unwrap().to_owned();
        assert!(
            rl.starts_with(&format!("\"default\";r={remaining};t=")),
            "{rl}"
        );
    }

    let res = app.clone().oneshot(with_key("a")).await.unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        res.headers()[header::CONTENT_TYPE],
        crate::http::PROBLEM_JSON
    );
    // One request every 20 s: the next conforms in 20 s, the whole burst in 60 s.
    assert_eq!(res.headers()[header::RETRY_AFTER], "20");
    assert_eq!(res.headers()[RATELIMIT_POLICY], "\"default\";q=3;w=60");
    assert_eq!(res.headers()[RATELIMIT], "\"default\";r=0;t=60");

    clock.advance(Duration::from_secs(19));
    let res = app.clone().oneshot(with_key("a")).await.unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(res.headers()[header::RETRY_AFTER], "1");

    clock.advance(Duration::from_secs(1));
    let res = app.clone().oneshot(with_key("a")).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()[RATELIMIT], "\"default\";r=0;t=60");

    // After a whole window the full burst is back.
    clock.advance(Duration::from_secs(60));
    for _ in 0..3 {
        let res = app.clone().oneshot(with_key("a")).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
    }
}

#[tokio::test]
async fn keys_are_independent_and_keyless_requests_pass() {
    let clock = ManualClock::new();
    let app = keyed_app(&clock, 1, Duration::from_secs(10));
    assert_eq!(
        app.clone().oneshot(with_key("a")).await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(
        app.clone().oneshot(with_key("a")).await.unwrap().status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        app.clone().oneshot(with_key("b")).await.unwrap().status(),
        StatusCode::OK
    );
    for _ in 0..3 {
        let res = app
            .clone()
            .oneshot(Request::get("/").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert!(!res.headers().contains_key(RATELIMIT));
    }
}

fn from_peer(peer: &str, xff: Option<&str>) -> Request<Body> {
    let mut req = Request::get("/").body(Body::empty()).unwrap();
    if let Some(xff) = xff {
        req.headers_mut()
            .insert(X_FORWARDED_FOR, xff.parse().unwrap());
    }
    let peer: SocketAddr = peer.parse().unwrap();
    req.extensions_mut().insert(ConnectInfo(peer));
    req
}

#[test]
fn forwarded_for_is_believed_only_from_trusted_peers() {
    let by_ip = ByClientIp::new(TrustedProxies::parse(["10.0.0.0/8", "fd00::/8"]).unwrap());
    let ip = |s: &str| s.parse::<IpAddr>().unwrap();

    // Untrusted peer: a forged header is ignored.
    let req = from_peer("198.51.100.7:5555", Some("1.2.3.4"));
    assert_eq!(by_ip.extract(&req), Some(ip("198.51.100.7")));
    // Trusted peer: the right-most untrusted hop.
    let req = from_peer("10.0.0.1:5555", Some("6.6.6.6, 203.0.113.9, 10.2.3.4"));
    assert_eq!(by_ip.extract(&req), Some(ip("203.0.113.9")));
    // Trusted peer without the header: the peer.
    let req = from_peer("10.0.0.1:5555", None);
    assert_eq!(by_ip.extract(&req), Some(ip("10.0.0.1")));
    // Garbage stops the walk at the last trusted hop.
    let req = from_peer("10.0.0.1:5555", Some("203.0.113.9, nonsense"));
    assert_eq!(by_ip.extract(&req), Some(ip("10.0.0.1")));
    // IPv4-mapped peers are trusted like their IPv4 form; IPv6 clients group by /64.
    let req = from_peer("[::ffff:10.0.0.1]:5555", Some("2001:db8:1:2:3:4:5:6"));
    assert_eq!(by_ip.extract(&req), Some(ip("2001:db8:1:2::")));
    // No peer information: not limited.
    assert_eq!(by_ip.extract(&Request::new(Body::empty())), None);
    assert!(TrustedProxies::parse(["not-a-net"]).is_err());
}

#[tokio::test]
async fn per_ip_limit_behind_a_trusted_proxy() {
    let clock = ManualClock::new();
    let by_ip = ByClientIp::new(TrustedProxies::parse(["10.0.0.0/8"]).unwrap());
    let app = axum::Router::new()
        .route("/", get(|| async { "ok" }))
        .layer(RateLimitLayer::with_clock(
            quota(1, Duration::from_secs(10)).unwrap(),
            by_ip,
            clock.shared(),
        ));
    let send = |peer: &str, xff: Option<&str>| app.clone().oneshot(from_peer(peer, xff));

    // Two clients behind the same proxy have their own buckets.
    assert_eq!(
        send("10.0.0.1:1", Some("203.0.113.1"))
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        send("10.0.0.1:1", Some("203.0.113.2"))
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    // The same client through another trusted proxy shares its bucket.
    assert_eq!(
        send("10.9.9.9:1", Some("203.0.113.1"))
            .await
            .unwrap()
            .status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    // An untrusted client cannot dodge its limit by forging the header.
    assert_eq!(
        send("198.51.100.1:1", Some("1.1.1.1"))
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        send("198.51.100.1:1", Some("2.2.2.2"))
            .await
            .unwrap()
            .status(),
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn generic_services_get_a_rate_limited_error() {
    let clock = ManualClock::new();
    let principal = |subject: &str| {
        Principal::new(subject, TenantId::new("acme").unwrap(), PrincipalKind::User)
    };
    let svc = RateLimitLayer::with_clock(
        quota(1, Duration::from_secs(2)).unwrap(),
        ByPrincipal,
        clock.shared(),
    )
    .layer(tower::service_fn(|_p: Principal| async {
        Ok::<_, Error>(())
    }));

    svc.clone().oneshot(principal("u1")).await.unwrap();
    let err = svc.clone().oneshot(principal("u1")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert_eq!(err.retry_after(), Some(Duration::from_secs(2)));
    svc.clone().oneshot(principal("u2")).await.unwrap();
    clock.advance(Duration::from_secs(2));
    svc.oneshot(principal("u1")).await.unwrap();
}

#[test]
fn key_memory_is_swept() {
    let clock = ManualClock::new();
    let limiter = KeyedLimiter::new(quota(5, Duration::from_secs(1)).unwrap(), clock.shared())
        .with_housekeeping(10, 8);
    for k in 0..8u32 {
        limiter.check(&k);
    }
    assert_eq!(limiter.len(), 8);
    limiter.sweep();
    assert_eq!(limiter.len(), 8, "recent keys stay");
    clock.advance(Duration::from_secs(2));
    limiter.sweep();
    assert!(limiter.is_empty(), "full buckets are forgotten");

    // Automatic housekeeping once more than max_keys are held.
    for k in 0..16u32 {
        limiter.check(&k);
    }
    assert_eq!(limiter.len(), 16);
    clock.advance(Duration::from_secs(2));
    for k in 100..108u32 {
        limiter.check(&k);
    }
    assert!(
        limiter.len() <= 8,
        "old keys dropped, {} held",
        limiter.len()
    );
}
