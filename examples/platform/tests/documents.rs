//! API.md's "Documents" section over HTTP against the real binary.

mod common;

use common::Server;
use serde_json::json;

#[tokio::test]
async fn create_get_replace_delete_with_versions_and_etags() {
    let server = Server::start(&[]).await;
    let alice = server.user("acme", "alice@example.com").await;
    let t = Some(alice.access_token.as_str());

    let created = server
        .post_json(
            "/v1/collections/notes/documents",
            t,
            json!({"title": "hi", "n": 1}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.json);
    assert_eq!(created.json["version"], 1);
    assert_eq!(created.json["data"], json!({"title": "hi", "n": 1}));
    assert_eq!(created.header("etag"), Some("\"1\""));
    let id = created.json["id"].as_str().unwrap().to_owned();
    assert_eq!(uuid_version(&id), Some('7'), "ids are UUIDv7: {id}");
    let path = format!("/v1/collections/notes/documents/{id}");

    let got = server.get(&path, t).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.json, created.json);

    let put = |if_match: Option<&'static str>, body: serde_json::Value| {
        let mut req = server
            .http
            .put(server.url(&path))
            .bearer_auth(&alice.access_token)
            .json(&body);
        if let Some(tag) = if_match {
            req = req.header("if-match", tag);
        }
        async move { common::Answer::read(req.send().await.unwrap()).await }
    };
    let replaced = put(Some("\"1\""), json!({"title": "two"})).await;
    assert_eq!(replaced.status, 200, "{}", replaced.json);
    assert_eq!(replaced.json["version"], 2);
    assert_eq!(replaced.header("etag"), Some("\"2\""));
    put(Some("\"1\""), json!({"title": "stale"}))
        .await
        .assert_problem(412);
    let unconditional = put(None, json!({"title": "three"})).await;
    assert_eq!(unconditional.json["version"], 3);
    assert_eq!(
        server.get(&path, t).await.json["data"]["title"],
        "three",
        "a stale write changed nothing"
    );

    assert_eq!(server.delete(&path, &alice.access_token).await.status, 204);
    server.get(&path, t).await.assert_problem(404);
    server
        .delete(&path, &alice.access_token)
        .await
        .assert_problem(404);
    put(Some("\"3\""), json!({})).await.assert_problem(404);
}

#[tokio::test]
async fn list_pages_by_id_with_filters_and_bounded_limits() {
    let server = Server::start(&[]).await;
    let alice = server.user("acme", "alice@example.com").await;
    let t = Some(alice.access_token.as_str());
    let mut ids = Vec::new();
    for i in 0..5 {
        let doc = server
            .post_json(
                "/v1/collections/tasks/documents",
                t,
                json!({"i": i, "done": i % 2 == 0, "tag": "x"}),
            )
            .await;
        ids.push(doc.json["id"].as_str().unwrap().to_owned());
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/collections/tasks/documents?limit=2&cursor={c}"),
            None => "/v1/collections/tasks/documents?limit=2".to_owned(),
        };
        let page = server.get(&path, t).await;
        assert_eq!(page.status, 200, "{}", page.json);
        for item in page.json["items"].as_array().unwrap() {
            seen.push(item["id"].as_str().unwrap().to_owned());
        }
        match page.json["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, ids, "ordered by id, every document once");

    let done = server
        .get("/v1/collections/tasks/documents?filter.done=true", t)
        .await;
    assert_eq!(done.json["items"].as_array().unwrap().len(), 3);
    let three = server
        .get("/v1/collections/tasks/documents?filter.i=3", t)
        .await;
    assert_eq!(three.json["items"].as_array().unwrap().len(), 1);
    let tagged = server
        .get("/v1/collections/tasks/documents?filter.tag=x", t)
        .await;
    assert_eq!(tagged.json["items"].as_array().unwrap().len(), 5);

    for bad in [
        "limit=0",
        "limit=1001",
        "limit=-1",
        "limit=many",
        "cursor=not-a-cursor",
    ] {
        server
            .get(&format!("/v1/collections/tasks/documents?{bad}"), t)
            .await
            .assert_problem(400);
    }
}

#[tokio::test]
async fn tenants_never_see_each_other() {
    let server = Server::start(&[]).await;
    let alice = server.user("acme", "alice@example.com").await;
    let mallory = server.user("evil", "mallory@example.com").await;
    let doc = server
        .post_json(
            "/v1/collections/notes/documents",
            Some(&alice.access_token),
            json!({"secret": 1}),
        )
        .await;
    let path = format!(
        "/v1/collections/notes/documents/{}",
        doc.json["id"].as_str().unwrap()
    );
    let m = Some(mallory.access_token.as_str());
    server.get(&path, m).await.assert_problem(404);
    server
        .delete(&path, &mallory.access_token)
        .await
        .assert_problem(404);
    let list = server.get("/v1/collections/notes/documents", m).await;
    assert_eq!(list.json["items"], json!([]));
    assert_eq!(
        server.get(&path, Some(&alice.access_token)).await.status,
        200
    );
}

#[tokio::test]
async fn bad_documents_are_refused() {
    let server = Server::start(&[]).await;
    let alice = server.user("acme", "alice@example.com").await;
    let t = Some(alice.access_token.as_str());
    server
        .get("/v1/collections/notes/documents", None)
        .await
        .assert_problem(401);
    server
        .post_json("/v1/collections/Bad-Name/documents", t, json!({}))
        .await
        .assert_problem(400);
    server
        .post_json("/v1/collections/notes/documents", t, json!([1, 2]))
        .await
        .assert_problem(422);
    let garbage = server
        .http
        .post(server.url("/v1/collections/notes/documents"))
        .bearer_auth(&alice.access_token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    common::Answer::read(garbage).await.assert_problem(400);
    let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    let deep = server
        .http
        .post(server.url("/v1/collections/notes/documents"))
        .bearer_auth(&alice.access_token)
        .header("content-type", "application/json")
        .body(format!("{{\"a\":{deep}}}"))
        .send()
        .await
        .unwrap();
    common::Answer::read(deep).await.assert_problem(400);
    let list = server.get("/v1/collections/notes/documents", t).await;
    assert_eq!(list.json["items"], json!([]), "nothing was stored");
}

#[tokio::test]
async fn json_bodies_over_the_limit_answer_413() {
    let server = Server::start(&[("BAAS_MAX_JSON_BYTES", "1024")]).await;
    let alice = server.user("acme", "alice@example.com").await;
    let big = json!({"blob": "x".repeat(4096)});
    server
        .post_json(
            "/v1/collections/notes/documents",
            Some(&alice.access_token),
            big,
        )
        .await
        .assert_problem(413);
}

fn uuid_version(id: &str) -> Option<char> {
    id.chars().nth(14)
}
