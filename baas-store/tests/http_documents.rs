//! The document routes (API.md "Documents") through the router, with `oneshot`.

mod http_support;

use http::Method;
use http_support::{app, call};
use serde_json::json;

const DOCS: &str = "/v1/collections/orders/documents";

#[tokio::test]
async fn create_get_replace_delete() {
    let app = app();
    let created = call(Method::POST, DOCS)
        .tenant("acme")
        .json(json!({"status": "open", "n": 1}))
        .send(&app)
        .await;
    created.expect(201);
    let body = created.json();
    let id = body["id"].as_str().unwrap().to_owned();
    assert_eq!(uuid::Uuid::parse_str(&id).unwrap().get_version_num(), 7);
    assert_eq!(body["version"], 1);
    assert_eq!(body["data"], json!({"status": "open", "n": 1}));
    assert_eq!(
        body.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["data", "id", "version"]
    );
    assert_eq!(created.header("etag"), Some("\"1\""));
    assert_eq!(
        created.header("location"),
        Some(format!("{DOCS}/{id}").as_str())
    );

    let got = call(Method::GET, &format!("{DOCS}/{id}"))
        .tenant("acme")
        .send(&app)
        .await;
    got.expect(200);
    assert_eq!(got.json(), body);
    assert_eq!(got.header("etag"), Some("\"1\""));

    // Replace without If-Match, then with the current version, then with a stale one.
    let put = call(Method::PUT, &format!("{DOCS}/{id}"))
        .tenant("acme")
        .json(json!({"status": "paid"}))
        .send(&app)
        .await;
    put.expect(200);
    assert_eq!(put.json()["version"], 2);
    assert_eq!(put.header("etag"), Some("\"2\""));

    let put = call(Method::PUT, &format!("{DOCS}/{id}"))
        .tenant("acme")
        .header("if-match", "\"2\"")
        .json(json!({"status": "shipped"}))
        .send(&app)
        .await;
    put.expect(200);
    assert_eq!(put.json()["version"], 3);
    assert_eq!(put.json()["data"], json!({"status": "shipped"}));

    for stale in ["\"2\"", "\"1\", \"2\"", "W/\"3\"", "\"x\""] {
        call(Method::PUT, &format!("{DOCS}/{id}"))
            .tenant("acme")
            .header("if-match", stale)
            .json(json!({"status": "lost"}))
            .send(&app)
            .await
            .expect(412);
    }
    // Several tags, one current: accepted. `*`: any existing document.
    let put = call(Method::PUT, &format!("{DOCS}/{id}"))
        .tenant("acme")
        .header("if-match", "\"1\", \"3\"")
        .json(json!({"status": "done"}))
        .send(&app)
        .await;
    put.expect(200);
    assert_eq!(put.json()["version"], 4);
    call(Method::PUT, &format!("{DOCS}/{id}"))
        .tenant("acme")
        .header("if-match", "*")
        .json(json!({"status": "done"}))
        .send(&app)
        .await
        .expect(200);
    let got = call(Method::GET, &format!("{DOCS}/{id}"))
        .tenant("acme")
        .send(&app)
        .await;
    assert_eq!(got.json()["version"], 5);

    call(Method::DELETE, &format!("{DOCS}/{id}"))
        .tenant("acme")
        .send(&app)
        .await
        .expect(204);
    call(Method::DELETE, &format!("{DOCS}/{id}"))
        .tenant("acme")
        .send(&app)
        .await
        .expect(404);
    call(Method::GET, &format!("{DOCS}/{id}"))
        .tenant("acme")
        .send(&app)
        .await
        .expect(404);
}

#[tokio::test]
async fn missing_documents_are_404_whatever_if_match_says() {
    let app = app();
    let missing = uuid::Uuid::now_v7();
    for if_match in [None, Some("\"1\""), Some("*"), Some("\"1\", \"2\"")] {
        let mut c = call(Method::PUT, &format!("{DOCS}/{missing}"))
            .tenant("acme")
            .json(json!({}));
        if let Some(v) = if_match {
            c = c.header("if-match", v);
        }
        c.send(&app).await.expect(404);
    }
    call(Method::GET, &format!("{DOCS}/not-a-uuid"))
        .tenant("acme")
        .send(&app)
        .await
        .expect(404);
    call(Method::DELETE, &format!("{DOCS}/{missing}"))
        .tenant("acme")
        .send(&app)
        .await
        .expect(404);
}

#[tokio::test]
async fn bad_bodies_and_names() {
    let app = app();
    // Unparseable → 400; valid JSON that is not an object → 422.
    call(Method::POST, DOCS)
        .tenant("acme")
        .raw("application/json", "{not json")
        .send(&app)
        .await
        .expect(400);
    for not_object in [json!([1, 2]), json!("text"), json!(3), json!(null)] {
        call(Method::POST, DOCS)
            .tenant("acme")
            .json(not_object)
            .send(&app)
            .await
            .expect(422);
    }
    // Wrong content type → 400.
    call(Method::POST, DOCS)
        .tenant("acme")
        .raw("text/plain", "{}")
        .send(&app)
        .await
        .expect(400);
    // Bad collection names → 400.
    for bad in ["Orders", "1st", "a.b", &"x".repeat(65)] {
        call(Method::POST, &format!("/v1/collections/{bad}/documents"))
            .tenant("acme")
            .json(json!({}))
            .send(&app)
            .await
            .expect(400);
        call(Method::GET, &format!("/v1/collections/{bad}/documents"))
            .tenant("acme")
            .send(&app)
            .await
            .expect(400);
    }
    // Replace with a non-object body → 422, nothing changed.
    let created = call(Method::POST, DOCS)
        .tenant("acme")
        .json(json!({"a": 1}))
        .send(&app)
        .await;
    let id = created.json()["id"].as_str().unwrap().to_owned();
    call(Method::PUT, &format!("{DOCS}/{id}"))
        .tenant("acme")
        .json(json!([1]))
        .send(&app)
        .await
        .expect(422);
    let got = call(Method::GET, &format!("{DOCS}/{id}"))
        .tenant("acme")
        .send(&app)
        .await;
    assert_eq!(got.json()["version"], 1);
}

#[tokio::test]
async fn unauthenticated_is_401_with_www_authenticate() {
    let app = app();
    for (method, uri) in [
        (Method::POST, DOCS.to_owned()),
        (Method::GET, DOCS.to_owned()),
        (Method::GET, format!("{DOCS}/{}", uuid::Uuid::now_v7())),
        (Method::DELETE, format!("{DOCS}/{}", uuid::Uuid::now_v7())),
    ] {
        let reply = call(method, &uri).json(json!({})).send(&app).await;
        reply.expect(401);
        assert_eq!(reply.header("www-authenticate"), Some("Bearer"));
    }
}

#[tokio::test]
async fn list_pages_filters_and_validates() {
    let app = app();
    let mut ids = Vec::new();
    for i in 0..7 {
        let r = call(Method::POST, DOCS)
            .tenant("acme")
            .json(json!({"i": i, "even": i % 2 == 0, "tag": if i < 3 { "low" } else { "high" }, "s": "3"}))
            .send(&app)
            .await;
        ids.push(r.json()["id"].as_str().unwrap().to_owned());
    }
    // Pages of 3, in id order, next_cursor null at the end.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let uri = match &cursor {
            Some(c) => format!("{DOCS}?limit=3&cursor={c}"),
            None => format!("{DOCS}?limit=3"),
        };
        let page = call(Method::GET, &uri).tenant("acme").send(&app).await;
        page.expect(200);
        let body = page.json();
        let items = body["items"].as_array().unwrap();
        assert!(items.len() <= 3);
        seen.extend(items.iter().map(|d| d["id"].as_str().unwrap().to_owned()));
        match &body["next_cursor"] {
            serde_json::Value::Null => break,
            serde_json::Value::String(c) => cursor = Some(c.clone()),
            other => panic!("next_cursor {other}"),
        }
    }
    assert_eq!(seen, ids);

    // Default limit 50; the last page has next_cursor null.
    let all = call(Method::GET, DOCS).tenant("acme").send(&app).await;
    assert_eq!(all.json()["items"].as_array().unwrap().len(), 7);
    assert!(all.json()["next_cursor"].is_null());

    // Filters: JSON scalars when they parse, else strings.
    let count = |uri: String| {
        let app = &app;
        async move {
            let r = call(Method::GET, &uri).tenant("acme").send(app).await;
            r.expect(200);
            r.json()["items"].as_array().unwrap().len()
        }
    };
    assert_eq!(count(format!("{DOCS}?filter.even=true")).await, 4);
    assert_eq!(count(format!("{DOCS}?filter.i=3")).await, 1);
    assert_eq!(count(format!("{DOCS}?filter.tag=low")).await, 3);
    assert_eq!(count(format!("{DOCS}?filter.tag=%22high%22")).await, 4);
    assert_eq!(
        count(format!("{DOCS}?filter.tag=low&filter.even=true")).await,
        2
    );
    assert_eq!(
        count(format!("{DOCS}?filter.s=3")).await,
        0,
        "3 is a number"
    );
    assert_eq!(count(format!("{DOCS}?filter.s=%223%22")).await, 7);
    assert_eq!(count(format!("{DOCS}?filter.missing=1")).await, 0);

    for bad in [
        "limit=0",
        "limit=1001",
        "limit=x",
        "limit=-1",
        "cursor=garbage!",
        "cursor=AAAA",
        "filter.Bad=1",
        "filter.=1",
    ] {
        call(Method::GET, &format!("{DOCS}?{bad}"))
            .tenant("acme")
            .send(&app)
            .await
            .expect(400);
    }
    call(Method::GET, &format!("{DOCS}?limit=1000"))
        .tenant("acme")
        .send(&app)
        .await
        .expect(200);
}

#[tokio::test]
async fn tenants_are_isolated() {
    let app = app();
    let a = call(Method::POST, DOCS)
        .tenant("acme")
        .json(json!({"secret": true}))
        .send(&app)
        .await;
    let id = a.json()["id"].as_str().unwrap().to_owned();
    let doc = format!("{DOCS}/{id}");

    call(Method::GET, &doc)
        .tenant("umbrella")
        .send(&app)
        .await
        .expect(404);
    call(Method::PUT, &doc)
        .tenant("umbrella")
        .json(json!({"stolen": true}))
        .send(&app)
        .await
        .expect(404);
    call(Method::PUT, &doc)
        .tenant("umbrella")
        .header("if-match", "\"1\"")
        .json(json!({"stolen": true}))
        .send(&app)
        .await
        .expect(404);
    call(Method::DELETE, &doc)
        .tenant("umbrella")
        .send(&app)
        .await
        .expect(404);
    let list = call(Method::GET, DOCS).tenant("umbrella").send(&app).await;
    list.expect(200);
    assert_eq!(list.json(), json!({"items": [], "next_cursor": null}));

    // A's document is untouched.
    let got = call(Method::GET, &doc).tenant("acme").send(&app).await;
    got.expect(200);
    assert_eq!(got.json()["data"], json!({"secret": true}));
    assert_eq!(got.json()["version"], 1);
}

#[tokio::test]
async fn openapi_describes_the_routes_with_problem_responses() {
    let spec = baas_store::http::openapi();
    let json = serde_json::to_value(&spec).unwrap();
    assert!(json["openapi"].as_str().unwrap().starts_with("3.1"));
    let paths = json["paths"].as_object().unwrap();
    for path in [
        "/v1/collections/{collection}/documents",
        "/v1/collections/{collection}/documents/{id}",
        "/v1/files",
        "/v1/files/{key}",
        "/v1/files/{key}/signed-url",
        "/v1/files-signed/{tenant}/{key}",
    ] {
        assert!(paths.contains_key(path), "{path}");
    }
    let get = &json["paths"]["/v1/collections/{collection}/documents/{id}"]["get"];
    assert!(get["responses"]["404"]["content"]["application/problem+json"].is_object());
    let put = &json["paths"]["/v1/files/{key}"]["put"]["responses"];
    for status in ["200", "201", "400", "403", "413"] {
        assert!(put[status].is_object(), "{status}");
    }
    assert!(json["components"]["schemas"]["Problem"].is_object());
    assert!(json["components"]["securitySchemes"]["bearer"].is_object());
}
