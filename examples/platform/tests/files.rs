//! API.md's "Files" section over HTTP against the real binary.

mod common;

use std::time::Duration;

use common::{Answer, Server};
use serde_json::json;

async fn put(server: &Server, token: &str, key: &str, body: &'static [u8]) -> Answer {
    let res = server
        .http
        .put(server.url(&format!("/v1/files/{key}")))
        .bearer_auth(token)
        .header("content-type", "text/plain")
        .body(body)
        .send()
        .await
        .unwrap();
    Answer::read(res).await
}

#[tokio::test]
async fn upload_replace_download_ranges_and_delete() {
    let server = Server::start(&[]).await;
    let alice = server.user("acme", "alice@example.com").await;
    let t = alice.access_token.as_str();

    let created = put(&server, t, "docs/a.txt", b"hello world").await;
    assert_eq!(created.status, 201, "{}", created.json);
    assert_eq!(created.json["key"], "docs/a.txt");
    assert_eq!(created.json["size"], 11);
    assert_eq!(created.json["content_type"], "text/plain");
    let sha = created.json["sha256"].as_str().unwrap().to_owned();
    assert_eq!(created.header("etag"), Some(format!("\"{sha}\"").as_str()));
    let replaced = put(&server, t, "docs/a.txt", b"hello again").await;
    assert_eq!(replaced.status, 200);

    let res = server
        .http
        .get(server.url("/v1/files/docs/a.txt"))
        .bearer_auth(t)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "text/plain");
    assert!(res.headers().contains_key("etag"));
    assert_eq!(&res.bytes().await.unwrap()[..], b"hello again");

    let range = |spec: &'static str| {
        server
            .http
            .get(server.url("/v1/files/docs/a.txt"))
            .bearer_auth(t)
            .header("range", spec)
            .send()
    };
    let partial = range("bytes=0-4").await.unwrap();
    assert_eq!(partial.status(), 206);
    assert_eq!(partial.headers()["content-range"], "bytes 0-4/11");
    assert_eq!(&partial.bytes().await.unwrap()[..], b"hello");
    let several = range("bytes=0-1,3-4").await.unwrap();
    assert_eq!(several.status(), 200);
    assert_eq!(several.bytes().await.unwrap().len(), 11);
    let beyond = range("bytes=100-200").await.unwrap();
    assert_eq!(beyond.status(), 416);

    let list = server.get("/v1/files?prefix=docs/", Some(t)).await;
    assert_eq!(list.status, 200);
    assert_eq!(list.json["items"][0]["key"], "docs/a.txt");
    assert_eq!(list.json["items"][0]["size"], 11);
    assert!(list.json["next_cursor"].is_null());

    assert_eq!(server.delete("/v1/files/docs/a.txt", t).await.status, 204);
    server
        .get("/v1/files/docs/a.txt", Some(t))
        .await
        .assert_problem(404);
}

#[tokio::test]
async fn bad_keys_sizes_and_quotas_are_refused_leaving_nothing() {
    let server = Server::start(&[
        ("BAAS_MAX_OBJECT_BYTES", "16"),
        ("BAAS_TENANT_QUOTA_BYTES", "24"),
    ])
    .await;
    let alice = server.user("acme", "alice@example.com").await;
    let t = alice.access_token.as_str();
    for key in ["..%2Fb", "a/..%2Fb", "a//b", "a/", "%2Fabs", "ctl%01x"] {
        put(&server, t, key, b"x").await.assert_problem(400);
    }
    let long = "k".repeat(1025);
    put(&server, t, &long, b"x").await.assert_problem(400);
    put(&server, t, "big", b"0123456789abcdefg")
        .await
        .assert_problem(413);
    assert_eq!(
        put(&server, t, "one", b"0123456789abcdef").await.status,
        201
    );
    let over = put(&server, t, "two", b"0123456789").await;
    over.assert_problem(403);
    assert!(
        over.json["type"]
            .as_str()
            .unwrap()
            .ends_with("quota-exceeded")
    );
    let list = server.get("/v1/files", Some(t)).await;
    assert_eq!(
        list.json["items"].as_array().unwrap().len(),
        1,
        "{}",
        list.json
    );
}

#[tokio::test]
async fn signed_urls_work_without_credentials_until_they_expire() {
    let server = Server::start(&[]).await;
    let alice = server.user("acme", "alice@example.com").await;
    let t = alice.access_token.as_str();
    assert_eq!(put(&server, t, "pic.txt", b"signed!").await.status, 201);
    for bad in [json!({"expires_in": 0}), json!({"expires_in": 604_801})] {
        let res = server
            .post_json("/v1/files/pic.txt/signed-url", Some(t), bad)
            .await;
        assert!(res.status == 400 || res.status == 422, "{}", res.status);
    }
    let signed = server
        .post_json(
            "/v1/files/pic.txt/signed-url",
            Some(t),
            json!({"expires_in": 1}),
        )
        .await;
    assert_eq!(signed.status, 200, "{}", signed.json);
    let url = signed.json["url"].as_str().unwrap();
    let url = if url.starts_with('/') {
        server.url(url)
    } else {
        url.to_owned()
    };
    let fresh = server.http.get(&url).send().await.unwrap();
    assert_eq!(fresh.status(), 200);
    assert_eq!(&fresh.bytes().await.unwrap()[..], b"signed!");
    let tampered = server
        .http
        .get(url.replace("pic.txt", "pic.txx"))
        .send()
        .await
        .unwrap();
    assert_eq!(tampered.status(), 403);
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(
        server.http.get(&url).send().await.unwrap().status(),
        403,
        "expired"
    );
}

#[tokio::test]
async fn tenants_never_see_each_others_files() {
    let server = Server::start(&[]).await;
    let alice = server.user("acme", "alice@example.com").await;
    let mallory = server.user("evil", "mallory@example.com").await;
    assert_eq!(
        put(&server, &alice.access_token, "secret.txt", b"mine")
            .await
            .status,
        201
    );
    let m = mallory.access_token.as_str();
    server
        .get("/v1/files/secret.txt", Some(m))
        .await
        .assert_problem(404);
    server
        .delete("/v1/files/secret.txt", m)
        .await
        .assert_problem(404);
    assert_eq!(
        server.get("/v1/files", Some(m)).await.json["items"],
        json!([])
    );
    server
        .post_json(
            "/v1/files/secret.txt/signed-url",
            Some(m),
            json!({"expires_in": 60}),
        )
        .await
        .assert_problem(404);
    assert_eq!(
        server
            .get("/v1/files/secret.txt", Some(&alice.access_token))
            .await
            .status,
        200
    );
}
