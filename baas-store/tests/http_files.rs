//! The file routes (API.md "Files") through the router, with `oneshot`.

mod http_support;

use std::time::Duration;

use axum::body::Body;
use baas_core::TenantId;
use bytes::Bytes;
use http::Method;
use http_support::{MAX_OBJECT, QUOTA, app, call};
use serde_json::json;
use sha2::{Digest as _, Sha256};

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A body of several chunks and no length, as a streaming client sends it.
fn chunked(chunks: &[&'static [u8]]) -> Body {
    let chunks: Vec<Result<Bytes, std::io::Error>> =
        chunks.iter().map(|c| Ok(Bytes::from_static(c))).collect();
    Body::from_stream(futures::stream::iter(chunks))
}

#[tokio::test]
async fn upload_replace_download_delete() {
    let app = app();
    let put = call(Method::PUT, "/v1/files/docs/a.txt")
        .tenant("acme")
        .raw("text/plain", "hello world")
        .send(&app)
        .await;
    put.expect(201);
    let sum = sha256(b"hello world");
    assert_eq!(
        put.json(),
        json!({"key": "docs/a.txt", "size": 11, "content_type": "text/plain", "sha256": sum})
    );
    assert_eq!(put.header("etag"), Some(format!("\"{sum}\"").as_str()));

    let got = call(Method::GET, "/v1/files/docs/a.txt")
        .tenant("acme")
        .send(&app)
        .await;
    got.expect(200);
    assert_eq!(got.body, b"hello world");
    assert_eq!(got.header("content-type"), Some("text/plain"));
    assert_eq!(got.header("content-length"), Some("11"));
    assert_eq!(got.header("etag"), Some(format!("\"{sum}\"").as_str()));
    assert_eq!(got.header("accept-ranges"), Some("bytes"));

    // Replaced (streamed in chunks, no Content-Length, no Content-Type): 200.
    let put = call(Method::PUT, "/v1/files/docs/a.txt")
        .tenant("acme")
        .body(chunked(&[b"new ", b"con", b"tent"]))
        .send(&app)
        .await;
    put.expect(200);
    assert_eq!(put.json()["size"], 11);
    assert_eq!(put.json()["content_type"], "application/octet-stream");
    assert_eq!(put.json()["sha256"], sha256(b"new content"));
    let got = call(Method::GET, "/v1/files/docs/a.txt")
        .tenant("acme")
        .send(&app)
        .await;
    assert_eq!(got.body, b"new content");
    assert_eq!(got.header("content-type"), Some("application/octet-stream"));

    call(Method::DELETE, "/v1/files/docs/a.txt")
        .tenant("acme")
        .send(&app)
        .await
        .expect(204);
    call(Method::DELETE, "/v1/files/docs/a.txt")
        .tenant("acme")
        .send(&app)
        .await
        .expect(404);
    call(Method::GET, "/v1/files/docs/a.txt")
        .tenant("acme")
        .send(&app)
        .await
        .expect(404);
}

#[tokio::test]
async fn odd_keys_round_trip_percent_encoded() {
    let app = app();
    let put = call(Method::PUT, "/v1/files/dir/we%20ird%23name%3F.txt")
        .tenant("acme")
        .raw("text/plain", "x")
        .send(&app)
        .await;
    put.expect(201);
    assert_eq!(put.json()["key"], "dir/we ird#name?.txt");
    let got = call(Method::GET, "/v1/files/dir/we%20ird%23name%3F.txt")
        .tenant("acme")
        .send(&app)
        .await;
    got.expect(200);
    assert_eq!(got.body, b"x");
}

#[tokio::test]
async fn bad_keys_are_400() {
    let app = app();
    let long = format!("/v1/files/{}", "k".repeat(1025));
    for uri in [
        "/v1/files/a/../b",
        "/v1/files/..",
        "/v1/files/a..b",
        "/v1/files//abs",
        "/v1/files/trailing/",
        "/v1/files/a//b",
        "/v1/files/ctl%01char",
        "/v1/files/bad%FFutf8",
        long.as_str(),
    ] {
        call(Method::PUT, uri)
            .tenant("acme")
            .raw("text/plain", "x")
            .send(&app)
            .await
            .expect(400);
        call(Method::GET, uri)
            .tenant("acme")
            .send(&app)
            .await
            .expect(400);
    }
    call(Method::PUT, &format!("/v1/files/{}", "k".repeat(1024)))
        .tenant("acme")
        .raw("text/plain", "x")
        .send(&app)
        .await
        .expect(201);
    // A content type that is not a header value we accept.
    call(Method::PUT, "/v1/files/ok")
        .tenant("acme")
        .raw(&"x".repeat(300), "x")
        .send(&app)
        .await
        .expect(400);
    let list = call(Method::GET, "/v1/files")
        .tenant("acme")
        .send(&app)
        .await;
    assert_eq!(list.json()["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn size_limit_is_413_and_leaves_nothing() {
    let app = app();
    let big = vec![b'x'; MAX_OBJECT as usize + 1];
    // Declared length over the limit: refused before reading.
    call(Method::PUT, "/v1/files/big")
        .tenant("acme")
        .raw("application/octet-stream", big.clone())
        .send(&app)
        .await
        .expect(413);
    // Streamed without a length: refused as the bytes cross the limit.
    let half: &'static [u8] = Box::leak(vec![b'y'; MAX_OBJECT as usize / 2 + 1].into_boxed_slice());
    call(Method::PUT, "/v1/files/big")
        .tenant("acme")
        .body(chunked(&[half, half]))
        .send(&app)
        .await
        .expect(413);
    call(Method::GET, "/v1/files/big")
        .tenant("acme")
        .send(&app)
        .await
        .expect(404);
    let usage = app
        .blobs
        .usage(&TenantId::new("acme").unwrap())
        .await
        .unwrap();
    assert_eq!((usage.bytes_used, usage.bytes_reserved), (0, 0));
    // Exactly the limit is fine.
    call(Method::PUT, "/v1/files/big")
        .tenant("acme")
        .raw("application/octet-stream", vec![b'x'; MAX_OBJECT as usize])
        .send(&app)
        .await
        .expect(201);
}

#[tokio::test]
async fn quota_is_403_quota_exceeded_and_leaves_nothing() {
    let app = app();
    let first = vec![b'a'; 60];
    call(Method::PUT, "/v1/files/one")
        .tenant("acme")
        .raw("application/octet-stream", first)
        .send(&app)
        .await
        .expect(201);
    let reply = call(Method::PUT, "/v1/files/two")
        .tenant("acme")
        .raw(
            "application/octet-stream",
            vec![b'b'; (QUOTA - 60 + 1) as usize],
        )
        .send(&app)
        .await;
    reply.expect(403);
    assert!(
        reply.json()["type"]
            .as_str()
            .unwrap()
            .ends_with("/quota-exceeded"),
        "{}",
        reply.json()
    );
    call(Method::GET, "/v1/files/two")
        .tenant("acme")
        .send(&app)
        .await
        .expect(404);
    let usage = app
        .blobs
        .usage(&TenantId::new("acme").unwrap())
        .await
        .unwrap();
    assert_eq!((usage.bytes_used, usage.bytes_reserved), (60, 0));
    // Another tenant has its own quota.
    call(Method::PUT, "/v1/files/two")
        .tenant("umbrella")
        .raw("application/octet-stream", vec![b'b'; 60])
        .send(&app)
        .await
        .expect(201);
}

#[tokio::test]
async fn ranges() {
    ranges_on(&app()).await;
}

#[tokio::test]
async fn ranges_on_local_files() {
    let dir = tempfile::tempdir().unwrap();
    ranges_on(&http_support::local_app(dir.path())).await;
}

async fn ranges_on(app: &http_support::App) {
    call(Method::PUT, "/v1/files/digits")
        .tenant("acme")
        .raw("text/plain", "0123456789")
        .send(app)
        .await
        .expect(201);
    let get = |range: &'static str| async move {
        call(Method::GET, "/v1/files/digits")
            .tenant("acme")
            .header("range", range)
            .send(app)
            .await
    };
    for (range, body, content_range) in [
        ("bytes=0-4", &b"01234"[..], "bytes 0-4/10"),
        ("bytes=7-", b"789", "bytes 7-9/10"),
        ("bytes=-3", b"789", "bytes 7-9/10"),
        ("bytes=8-100", b"89", "bytes 8-9/10"),
        ("bytes=-100", b"0123456789", "bytes 0-9/10"),
    ] {
        let r = get(range).await;
        r.expect(206);
        assert_eq!(r.body, body, "{range}");
        assert_eq!(r.header("content-range"), Some(content_range), "{range}");
        assert_eq!(
            r.header("content-length"),
            Some(body.len().to_string().as_str())
        );
        assert_eq!(r.header("content-type"), Some("text/plain"));
        assert!(r.header("etag").is_some());
    }
    // Several ranges, or a header that does not parse: the whole object.
    for range in [
        "bytes=0-1,4-5",
        "bytes=0-1, 20-30",
        "lines=1-2",
        "bytes=5-2",
    ] {
        let r = get(range).await;
        r.expect(200);
        assert_eq!(r.body, b"0123456789", "{range}");
        assert!(r.header("content-range").is_none());
    }
    // Unsatisfiable: 416 with the size.
    for range in ["bytes=10-", "bytes=10-20", "bytes=-0"] {
        let r = get(range).await;
        r.expect(416);
        assert_eq!(r.header("content-range"), Some("bytes */10"), "{range}");
    }
    // A missing object is 404 whatever the range.
    call(Method::GET, "/v1/files/nothing")
        .tenant("acme")
        .header("range", "bytes=0-1")
        .send(app)
        .await
        .expect(404);
}

#[tokio::test]
async fn listing() {
    let app = app();
    for key in ["a/1", "a/2", "a/3", "b/1", "a/4"] {
        call(Method::PUT, &format!("/v1/files/{key}"))
            .tenant("acme")
            .raw("text/plain", "x")
            .send(&app)
            .await
            .expect(201);
    }
    let mut keys = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let uri = match &cursor {
            Some(c) => format!("/v1/files?prefix=a/&limit=2&cursor={c}"),
            None => "/v1/files?prefix=a/&limit=2".to_owned(),
        };
        let page = call(Method::GET, &uri).tenant("acme").send(&app).await;
        page.expect(200);
        let body = page.json();
        for item in body["items"].as_array().unwrap() {
            assert_eq!(item["size"], 1);
            assert_eq!(item["content_type"], "text/plain");
            keys.push(item["key"].as_str().unwrap().to_owned());
        }
        match &body["next_cursor"] {
            serde_json::Value::Null => break,
            serde_json::Value::String(c) => cursor = Some(c.clone()),
            other => panic!("{other}"),
        }
    }
    assert_eq!(keys, ["a/1", "a/2", "a/3", "a/4"]);
    let all = call(Method::GET, "/v1/files")
        .tenant("acme")
        .send(&app)
        .await;
    assert_eq!(all.json()["items"].as_array().unwrap().len(), 5);
    assert!(all.json()["next_cursor"].is_null());
    for bad in [
        "limit=0",
        "limit=1001",
        "limit=many",
        "cursor=%21%21",
        "prefix=../x",
        "prefix=/x",
    ] {
        call(Method::GET, &format!("/v1/files?{bad}"))
            .tenant("acme")
            .send(&app)
            .await
            .expect(400);
    }
}

#[tokio::test]
async fn tenants_are_isolated() {
    let app = app();
    call(Method::PUT, "/v1/files/secret.txt")
        .tenant("acme")
        .raw("text/plain", "acme only")
        .send(&app)
        .await
        .expect(201);
    let other = |method: Method| call(method, "/v1/files/secret.txt").tenant("umbrella");
    other(Method::GET).send(&app).await.expect(404);
    other(Method::DELETE).send(&app).await.expect(404);
    call(Method::POST, "/v1/files/secret.txt/signed-url")
        .tenant("umbrella")
        .json(json!({"expires_in": 60}))
        .send(&app)
        .await
        .expect(404);
    let list = call(Method::GET, "/v1/files")
        .tenant("umbrella")
        .send(&app)
        .await;
    list.expect(200);
    assert_eq!(list.json(), json!({"items": [], "next_cursor": null}));
    // The same key in B is B's own object.
    other(Method::PUT)
        .raw("text/plain", "umbrella's")
        .send(&app)
        .await
        .expect(201);
    let a = call(Method::GET, "/v1/files/secret.txt")
        .tenant("acme")
        .send(&app)
        .await;
    assert_eq!(a.body, b"acme only");
}

#[tokio::test]
async fn unauthenticated_is_401() {
    let app = app();
    for (method, uri) in [
        (Method::PUT, "/v1/files/k"),
        (Method::GET, "/v1/files/k"),
        (Method::DELETE, "/v1/files/k"),
        (Method::GET, "/v1/files"),
        (Method::POST, "/v1/files/k/signed-url"),
    ] {
        let r = call(method, uri)
            .json(json!({"expires_in": 5}))
            .send(&app)
            .await;
        r.expect(401);
        assert_eq!(r.header("www-authenticate"), Some("Bearer"));
    }
}

#[tokio::test]
async fn signed_urls_work_without_credentials_until_they_expire() {
    let app = app();
    call(Method::PUT, "/v1/files/pics/cat%20one.png")
        .tenant("acme")
        .raw("image/png", "meow-bytes")
        .send(&app)
        .await
        .expect(201);
    let signed = call(Method::POST, "/v1/files/pics/cat%20one.png/signed-url")
        .tenant("acme")
        .json(json!({"expires_in": 60}))
        .send(&app)
        .await;
    signed.expect(200);
    let url = signed.json()["url"].as_str().unwrap().to_owned();
    assert!(
        url.starts_with("/v1/files-signed/acme/pics/cat%20one.png?"),
        "{url}"
    );

    let got = call(Method::GET, &url).send(&app).await;
    got.expect(200);
    assert_eq!(got.body, b"meow-bytes");
    assert_eq!(got.header("content-type"), Some("image/png"));
    assert_eq!(
        got.header("etag"),
        Some(format!("\"{}\"", sha256(b"meow-bytes")).as_str())
    );
    let part = call(Method::GET, &url)
        .header("range", "bytes=0-3")
        .send(&app)
        .await;
    part.expect(206);
    assert_eq!(part.body, b"meow");

    // Tampering: another key, another tenant, a later expiry, a broken signature.
    let tampered = [
        url.replace("cat%20one", "dog"),
        url.replace("/acme/", "/umbrella/"),
        url.replace("expires=", "expires=9"),
        format!("{url}x"),
        "/v1/files-signed/acme/pics/cat%20one.png".to_owned(),
    ];
    for bad in &tampered {
        call(Method::GET, bad).send(&app).await.expect(403);
    }

    app.clock.advance(Duration::from_secs(59));
    call(Method::GET, &url).send(&app).await.expect(200);
    app.clock.advance(Duration::from_secs(1));
    call(Method::GET, &url).send(&app).await.expect(403);
}

#[tokio::test]
async fn signed_url_requests_are_validated() {
    let app = app();
    call(Method::PUT, "/v1/files/k")
        .tenant("acme")
        .raw("text/plain", "x")
        .send(&app)
        .await
        .expect(201);
    for (body, status) in [
        (json!({"expires_in": 0}), 422),
        (json!({"expires_in": 604_801}), 422),
        (json!({"expires_in": -5}), 422),
        (json!({"expires_in": "soon"}), 422),
        (json!({}), 422),
    ] {
        call(Method::POST, "/v1/files/k/signed-url")
            .tenant("acme")
            .json(body)
            .send(&app)
            .await
            .expect(status);
    }
    call(Method::POST, "/v1/files/k/signed-url")
        .tenant("acme")
        .raw("application/json", "{oops")
        .send(&app)
        .await
        .expect(400);
    call(Method::POST, "/v1/files/k/signed-url")
        .tenant("acme")
        .json(json!({"expires_in": 604_800}))
        .send(&app)
        .await
        .expect(200);
    call(Method::POST, "/v1/files/missing/signed-url")
        .tenant("acme")
        .json(json!({"expires_in": 60}))
        .send(&app)
        .await
        .expect(404);
    call(Method::POST, "/v1/files/../signed-url")
        .tenant("acme")
        .json(json!({"expires_in": 60}))
        .send(&app)
        .await
        .expect(400);
    // POST on a key without the action is not a route.
    let r = call(Method::POST, "/v1/files/k")
        .tenant("acme")
        .json(json!({"expires_in": 60}))
        .send(&app)
        .await;
    r.expect(405);
    assert!(r.header("allow").unwrap().contains("PUT"));
}
