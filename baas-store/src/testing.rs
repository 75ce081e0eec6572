//! Conformance suites (feature `testing`), run by every backend's tests against the real
//! engine (DESIGN.md rule 2): [`document_store_suite`], [`audit_log_suite`] and, for SQL
//! databases, [`outbox_suite`]. The SQL idempotency store runs baas-core's
//! [`idempotency_store_suite`](baas_core::testing::idempotency_store_suite).
//!
//! Every suite works in tenants of its own ([`unique_tenant`]), so backends sharing a
//! database can run the suites in parallel.

use std::collections::HashSet;

use baas_core::{ErrorKind, TenantId};
use serde_json::json;
use uuid::Uuid;

use crate::audit::{AuditEntry, AuditLog, AuditRecord, AuditVerification};
use crate::documents::{DocumentStore, Filter, ListQuery};

/// A tenant id unique to this process and call, valid under [`TenantId`]'s rules.
pub fn unique_tenant(prefix: &str) -> TenantId {
    let name: String = baas_core::testing::unique_name(prefix)
        .to_ascii_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect();
    TenantId::new(name).expect("a sanitised unique name is a valid tenant id")
}

/// Run the whole [`DocumentStore`] contract against `store`.
///
/// # Panics
///
/// On the first broken guarantee, naming it.
pub async fn document_store_suite(store: &dyn DocumentStore) {
    crud(store).await;
    optimistic_concurrency(store).await;
    tenant_isolation(store).await;
    filters(store).await;
    pagination_under_inserts(store).await;
    bad_input_changes_nothing(store).await;
    concurrent_creates(store).await;
    listed_as_stored(store).await;
}

/// A listing gives back every document exactly as created and as `get` reads it —
/// numbers at the edges of their types, escapes, Unicode, nesting — whatever the
/// page size (some backends read short pages another way than long ones).
async fn listed_as_stored(store: &dyn DocumentStore) {
    let t = unique_tenant("docs-fidelity");
    let bodies = [
        json!({"u64": u64::MAX, "i64": i64::MIN, "zero": 0, "neg": -1}),
        json!({"float": 0.1, "tiny": 5e-324, "huge": 1.7976931348623157e308, "third": 1.0 / 3.0}),
        json!({"text": "quote \" backslash \\ tab \t nl \n bell \u{7} ls \u{2028}", "emoji": "👩‍💻", "cjk": "漢字"}),
        json!({"nested": {"a": [1, [2, [3, {"b": null}]], true, false]}, "empty": {}, "list": []}),
        json!({"long": "x".repeat(1_000)}),
    ];
    let mut created = Vec::new();
    for body in &bodies {
        created.push(store.create(&t, "fidelity", body.clone()).await.unwrap());
    }
    for (doc, body) in created.iter().zip(&bodies) {
        assert_eq!(&doc.data, body);
        assert_eq!(&store.get(&t, "fidelity", doc.id).await.unwrap(), doc);
    }
    for limit in [1, 2, 50, 1000] {
        let mut listed = Vec::new();
        let mut cursor = None;
        loop {
            let page = store
                .list(
                    &t,
                    "fidelity",
                    &ListQuery::new().limit(limit).cursor(cursor),
                )
                .await
                .unwrap();
            listed.extend(page.items);
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        assert_eq!(listed, created, "pages of {limit}");
    }
}

/// Creates running at once (written in groups by some backends) each get their own
/// document, under their own tenant and collection, and a bad one among them fails
/// alone.
async fn concurrent_creates(store: &dyn DocumentStore) {
    let a = unique_tenant("docs-burst");
    let b = unique_tenant("docs-burst");
    let creates = (0..60).map(|i| {
        let (tenant, collection) = if i % 2 == 0 {
            (&a, "even")
        } else {
            (&b, "odd")
        };
        store.create(tenant, collection, json!({ "i": i }))
    });
    let bad = store.create(&a, "Not A Collection", json!({"i": -1}));
    let (created, bad) = futures::join!(futures::future::join_all(creates), bad);
    assert_eq!(
        bad.expect_err("an invalid collection").kind(),
        ErrorKind::Malformed,
        "the bad create fails alone"
    );
    let mut ids = HashSet::new();
    for (i, doc) in created.into_iter().enumerate() {
        let doc = doc.expect("each create succeeds");
        assert!(ids.insert(doc.id), "ids are distinct");
        assert_eq!(doc.data, json!({ "i": i }), "each gets its own data back");
        let (tenant, collection, other) = if i % 2 == 0 {
            (&a, "even", &b)
        } else {
            (&b, "odd", &a)
        };
        let got = store.get(tenant, collection, doc.id).await.expect("stored");
        assert_eq!(got.data, doc.data);
        assert_eq!(
            store
                .get(other, collection, doc.id)
                .await
                .expect_err("other tenant")
                .kind(),
            ErrorKind::NotFound,
            "tenants stay apart"
        );
    }
    assert_eq!(store.count(&a, "even", &[]).await.expect("count"), 30);
    assert_eq!(store.count(&b, "odd", &[]).await.expect("count"), 30);
}

async fn crud(store: &dyn DocumentStore) {
    let t = unique_tenant("docs");
    let doc = store
        .create(&t, "notes", json!({"title": "hello", "n": 1}))
        .await
        .expect("create");
    assert_eq!(doc.version, 1, "new documents start at version 1");
    assert_eq!(doc.id.get_version_num(), 7, "ids are UUIDv7");
    let got = store.get(&t, "notes", doc.id).await.expect("get");
    assert_eq!(
        got.data,
        json!({"title": "hello", "n": 1}),
        "get returns the data"
    );
    assert_eq!(got.version, 1);

    let replaced = store
        .replace(&t, "notes", doc.id, json!({"title": "bye"}), None)
        .await
        .expect("replace without version");
    assert_eq!(replaced.version, 2, "replace bumps the version");
    assert_eq!(replaced.data, json!({"title": "bye"}));
    assert_eq!(
        store.get(&t, "notes", doc.id).await.expect("get").version,
        2
    );

    // The same id in another collection is another document.
    let other = store
        .get(&t, "other", doc.id)
        .await
        .expect_err("other collection");
    assert_eq!(
        other.kind(),
        ErrorKind::NotFound,
        "collections are separate"
    );

    store.delete(&t, "notes", doc.id).await.expect("delete");
    let gone = store.get(&t, "notes", doc.id).await.expect_err("deleted");
    assert_eq!(gone.kind(), ErrorKind::NotFound, "get after delete");
    let again = store
        .delete(&t, "notes", doc.id)
        .await
        .expect_err("delete twice");
    assert_eq!(
        again.kind(),
        ErrorKind::NotFound,
        "delete of a missing document"
    );
    let missing = store
        .replace(&t, "notes", doc.id, json!({}), None)
        .await
        .expect_err("replace missing");
    assert_eq!(
        missing.kind(),
        ErrorKind::NotFound,
        "replace of a missing document"
    );
    let missing = store
        .replace(&t, "notes", doc.id, json!({}), Some(1))
        .await
        .expect_err("replace missing with version");
    assert_eq!(
        missing.kind(),
        ErrorKind::NotFound,
        "a missing document is NotFound whatever the expected version"
    );
    let page = store
        .list(&t, "notes", &ListQuery::new())
        .await
        .expect("list");
    assert!(
        page.items.is_empty() && page.next_cursor.is_none(),
        "empty after delete"
    );
}

async fn optimistic_concurrency(store: &dyn DocumentStore) {
    let t = unique_tenant("docs");
    let doc = store
        .create(&t, "cas", json!({"v": 0}))
        .await
        .expect("create");
    let stale = store
        .replace(&t, "cas", doc.id, json!({"v": 1}), Some(1))
        .await
        .expect("replace at the current version");
    assert_eq!(stale.version, 2);
    let err = store
        .replace(&t, "cas", doc.id, json!({"v": 2}), Some(1))
        .await
        .expect_err("stale version");
    assert_eq!(
        err.kind(),
        ErrorKind::PreconditionFailed,
        "stale expected version"
    );
    assert_eq!(
        store.get(&t, "cas", doc.id).await.expect("get").data,
        json!({"v": 1}),
        "a refused replace changes nothing"
    );

    // Two writers holding version 2: exactly one wins, again and again.
    for round in 0..10u64 {
        let version = 2 + round;
        let (a, b) = futures_util::future::join(
            store.replace(&t, "cas", doc.id, json!({"w": "a"}), Some(version)),
            store.replace(&t, "cas", doc.id, json!({"w": "b"}), Some(version)),
        )
        .await;
        let wins = [&a, &b].iter().filter(|r| r.is_ok()).count();
        assert_eq!(
            wins, 1,
            "exactly one of two writers with version {version} wins"
        );
        for r in [a, b] {
            if let Err(e) = r {
                assert_eq!(e.kind(), ErrorKind::PreconditionFailed, "the loser's error");
            }
        }
        assert_eq!(
            store.get(&t, "cas", doc.id).await.expect("get").version,
            version + 1
        );
    }
}

async fn tenant_isolation(store: &dyn DocumentStore) {
    let a = unique_tenant("docs-a");
    let b = unique_tenant("docs-b");
    let doc = store
        .create(&a, "secrets", json!({"k": "a's"}))
        .await
        .expect("create");

    assert_eq!(
        kind_of(store.get(&b, "secrets", doc.id).await),
        ErrorKind::NotFound,
        "B reads A's document"
    );
    assert_eq!(
        kind_of(
            store
                .replace(&b, "secrets", doc.id, json!({"k": "b's"}), None)
                .await
        ),
        ErrorKind::NotFound,
        "B overwrites A's document"
    );
    assert_eq!(
        kind_of(
            store
                .replace(&b, "secrets", doc.id, json!({"k": "b's"}), Some(1))
                .await
        ),
        ErrorKind::NotFound,
        "B overwrites A's document with a version"
    );
    assert_eq!(
        kind_of(store.delete(&b, "secrets", doc.id).await),
        ErrorKind::NotFound,
        "B deletes A's document"
    );
    let page = store
        .list(&b, "secrets", &ListQuery::new())
        .await
        .expect("list");
    assert!(page.items.is_empty(), "B lists A's documents");
    assert_eq!(
        store.count(&b, "secrets", &[]).await.expect("count"),
        0,
        "B counts A's documents"
    );

    let still = store
        .get(&a, "secrets", doc.id)
        .await
        .expect("A still reads it");
    assert_eq!(still.data, json!({"k": "a's"}), "A's document unchanged");
    assert_eq!(still.version, 1);
    assert_eq!(store.count(&a, "secrets", &[]).await.expect("count"), 1);
}

fn kind_of<T: std::fmt::Debug>(r: Result<T, baas_core::Error>) -> ErrorKind {
    r.expect_err("must fail").kind()
}

async fn filters(store: &dyn DocumentStore) {
    let t = &unique_tenant("docs");
    let c = "things";
    for data in [
        json!({"status": "open", "n": 3, "flag": true, "gone": null}),
        json!({"status": "open", "n": 3.0, "flag": false}),
        json!({"status": "closed", "n": 1, "flag": 1}),
        json!({"status": "3", "n": "3", "nested": {"status": "open"}}),
        json!({"other-field": "open", "tags": ["open"]}),
    ] {
        store.create(t, c, data).await.expect("create");
    }
    let count = |filters: Vec<Filter>| async move {
        let n = store.count(t, c, &filters).await.expect("count");
        let page = store
            .list(
                t,
                c,
                &ListQuery {
                    filters,
                    limit: 100,
                    cursor: None,
                },
            )
            .await
            .expect("list");
        assert_eq!(page.items.len() as u64, n, "list and count agree");
        n
    };
    assert_eq!(count(vec![]).await, 5);
    assert_eq!(
        count(vec![Filter::eq("status", "open")]).await,
        2,
        "string equality"
    );
    assert_eq!(
        count(vec![Filter::eq("n", 3)]).await,
        2,
        "numbers compare as numbers (3 == 3.0)"
    );
    assert_eq!(
        count(vec![Filter::eq("n", "3")]).await,
        1,
        "a string is not a number"
    );
    assert_eq!(
        count(vec![Filter::eq("status", 3)]).await,
        0,
        "a number is not a string"
    );
    assert_eq!(count(vec![Filter::eq("flag", true)]).await, 1, "booleans");
    assert_eq!(
        count(vec![Filter::eq("flag", false)]).await,
        1,
        "false is not missing"
    );
    assert_eq!(count(vec![Filter::eq("flag", 1)]).await, 1, "1 is not true");
    assert_eq!(
        count(vec![Filter::eq("gone", json!(null))]).await,
        1,
        "null matches an explicit null only"
    );
    assert_eq!(
        count(vec![Filter::eq("other-field", "open")]).await,
        1,
        "hyphenated fields"
    );
    assert_eq!(
        count(vec![Filter::eq("status", "open"), Filter::eq("flag", true)]).await,
        1,
        "every filter must hold"
    );
    assert_eq!(
        count(vec![
            Filter::eq("status", "open"),
            Filter::eq("status", "closed")
        ])
        .await,
        0,
        "two filters on one field"
    );
    assert_eq!(
        count(vec![Filter::eq("missing", "open")]).await,
        0,
        "missing field"
    );
    assert_eq!(
        count(vec![Filter::eq("tags", "open")]).await,
        0,
        "arrays are not searched"
    );

    // Filtered listing pages like any other.
    let mut seen = 0;
    let mut cursor = None;
    loop {
        let page = store
            .list(
                t,
                c,
                &ListQuery::new()
                    .limit(1)
                    .filter(Filter::eq("status", "open"))
                    .cursor(cursor),
            )
            .await
            .expect("list");
        seen += page.items.len();
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(seen, 2, "filtered pages");
}

async fn pagination_under_inserts(store: &dyn DocumentStore) {
    let t = unique_tenant("docs");
    let c = "pages";
    let mut before = HashSet::new();
    for i in 0..25 {
        before.insert(
            store
                .create(&t, c, json!({"i": i}))
                .await
                .expect("create")
                .id,
        );
    }
    let mut seen: Vec<Uuid> = Vec::new();
    let mut cursor = None;
    let mut pages = 0;
    loop {
        let page = store
            .list(&t, c, &ListQuery::new().limit(7).cursor(cursor))
            .await
            .expect("list");
        pages += 1;
        assert!(page.items.len() <= 7, "page larger than its limit");
        seen.extend(page.items.iter().map(|d| d.id));
        // Insert while paging.
        for i in 0..3 {
            if pages < 5 {
                store
                    .create(&t, c, json!({"late": i}))
                    .await
                    .expect("create");
            }
        }
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
        assert!(pages < 100, "pagination does not end");
    }
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(seen, sorted, "pages are ordered by id");
    let unique: HashSet<_> = seen.iter().copied().collect();
    assert_eq!(unique.len(), seen.len(), "a document was returned twice");
    for id in &before {
        assert!(
            unique.contains(id),
            "a document existing before listing was skipped"
        );
    }

    // Exact page boundaries: 25 + 12 late ones = 37 documents, pages of 37 then nothing.
    let total = store.count(&t, c, &[]).await.expect("count");
    assert_eq!(total, 37);
    let page = store
        .list(&t, c, &ListQuery::new().limit(37))
        .await
        .expect("list");
    assert_eq!(page.items.len(), 37);
    assert!(
        page.next_cursor.is_none(),
        "no next cursor on the last page"
    );
}

async fn bad_input_changes_nothing(store: &dyn DocumentStore) {
    let t = unique_tenant("docs");
    let doc = store
        .create(&t, "good", json!({"a": 1}))
        .await
        .expect("create");
    for bad in [
        "",
        "Upper",
        "1st",
        "-x",
        "a.b",
        "a/b",
        "a b",
        "ünï",
        &"x".repeat(65),
    ] {
        let err = store.create(&t, bad, json!({"a": 1})).await.expect_err(bad);
        assert_eq!(err.kind(), ErrorKind::Malformed, "collection {bad:?}");
        let err = store.list(&t, bad, &ListQuery::new()).await.expect_err(bad);
        assert_eq!(err.kind(), ErrorKind::Malformed, "list collection {bad:?}");
        let err = store.get(&t, bad, doc.id).await.expect_err(bad);
        assert_eq!(err.kind(), ErrorKind::Malformed, "get collection {bad:?}");
    }
    // No backend stores NUL in a string or key (Postgres' jsonb cannot).
    for body in [
        json!([1]),
        json!("s"),
        json!(3),
        json!(null),
        json!({"a": "x\u{0}y"}),
        json!({"a\u{0}": 1}),
        json!({"a": [{"b": ["\u{0}"]}]}),
    ] {
        let err = store
            .create(&t, "good", body.clone())
            .await
            .expect_err("non-object");
        assert_eq!(err.kind(), ErrorKind::Invalid, "body {body}");
        let err = store
            .replace(&t, "good", doc.id, body.clone(), None)
            .await
            .expect_err("non-object replace");
        assert_eq!(err.kind(), ErrorKind::Invalid, "replace body {body}");
    }
    for f in [
        Filter::eq("Bad", 1),
        Filter::eq("", 1),
        Filter::eq("a'b", 1),
        Filter::eq("a\"b", 1),
        Filter::eq("x".repeat(129), 1),
        Filter::eq("a", json!([1])),
        Filter::eq("a", json!({"b": 1})),
        Filter::eq("a", "x\u{0}"),
    ] {
        let err = store
            .list(&t, "good", &ListQuery::new().filter(f.clone()))
            .await
            .expect_err("bad filter");
        assert_eq!(err.kind(), ErrorKind::Malformed, "filter {f:?}");
        let err = store
            .count(&t, "good", std::slice::from_ref(&f))
            .await
            .expect_err("bad filter");
        assert_eq!(err.kind(), ErrorKind::Malformed, "count filter {f:?}");
    }
    for limit in [0, 1001] {
        let err = store
            .list(&t, "good", &ListQuery::new().limit(limit))
            .await
            .expect_err("bad limit");
        assert_eq!(err.kind(), ErrorKind::Malformed, "limit {limit}");
    }
    for cursor in ["", "not a cursor", "AAAA", "%%%"] {
        let err = store
            .list(
                &t,
                "good",
                &ListQuery::new().cursor(Some(cursor.to_owned())),
            )
            .await
            .expect_err("bad cursor");
        assert_eq!(err.kind(), ErrorKind::Malformed, "cursor {cursor:?}");
    }
    assert_eq!(
        store.count(&t, "good", &[]).await.expect("count"),
        1,
        "bad input wrote something"
    );
    assert_eq!(
        store.get(&t, "good", doc.id).await.expect("get").version,
        1,
        "bad input changed the document"
    );
}

/// Raw access to an audit log's storage, so the suite can prove `verify` notices
/// tampering. SQL backends tamper with raw statements; the memory backend edits its map.
#[async_trait::async_trait]
pub trait AuditTamper: Send + Sync {
    /// Overwrite the `action` of record `seq`, leaving its hash alone.
    async fn set_action(&self, tenant: &TenantId, seq: u64, action: &str);
    /// Delete record `seq`, leaving the head alone.
    async fn remove(&self, tenant: &TenantId, seq: u64);
    /// Store `record` as it is, leaving the head alone.
    async fn insert_raw(&self, record: &AuditRecord);
}

/// Run the whole [`AuditLog`] contract against `log`; `tamper` reaches the same storage
/// behind the trait's back.
///
/// # Panics
///
/// On the first broken guarantee, naming it.
pub async fn audit_log_suite(log: &dyn AuditLog, tamper: &dyn AuditTamper) {
    let t = unique_tenant("audit");
    let other = unique_tenant("audit-other");
    assert_eq!(
        log.verify(&t).await.expect("verify"),
        AuditVerification::Intact { records: 0 },
        "empty chain"
    );

    let entry = |i: usize| {
        AuditEntry::new(
            t.clone(),
            "alice",
            "document.replace",
            format!("orders/{i}"),
        )
        .from_client(Some("203.0.113.7".into()), Some("curl/8".into()))
    };
    let first = log.append(entry(1)).await.expect("append");
    assert_eq!(first.seq, 1);
    assert_eq!(
        first.prev_hash,
        crate::audit::GENESIS_HASH,
        "the first record starts the chain"
    );
    assert_eq!(first.hash, first.compute_hash());
    let second = log.append(entry(2)).await.expect("append");
    assert_eq!(second.seq, 2);
    assert_eq!(
        second.prev_hash, first.hash,
        "records link to the one before"
    );

    // Concurrent appends never fork the chain.
    let appends = futures_util::future::join_all((3..11).map(|i| log.append(entry(i)))).await;
    for a in appends {
        a.expect("concurrent append");
    }
    log.append(AuditEntry::new(other.clone(), "bob", "x", "y"))
        .await
        .expect("append other");
    assert_eq!(
        log.verify(&t).await.expect("verify"),
        AuditVerification::Intact { records: 10 },
        "intact chain"
    );

    let records = log.list(&t, 0, 1000).await.expect("list");
    assert_eq!(records.len(), 10, "one record per append");
    assert!(
        records
            .iter()
            .enumerate()
            .all(|(i, r)| r.seq == i as u64 + 1),
        "sequence 1..=10"
    );
    assert!(
        records.iter().all(|r| r.entry.tenant == t),
        "another tenant's records listed"
    );
    assert_eq!(records[0], first, "list returns what append returned");
    let page = log.list(&t, 4, 3).await.expect("list");
    assert_eq!(
        page.iter().map(|r| r.seq).collect::<Vec<_>>(),
        vec![5, 6, 7],
        "list after/limit"
    );
    assert_eq!(
        log.list(&t, 0, 0).await.expect_err("limit 0").kind(),
        ErrorKind::Malformed
    );

    let bad = AuditEntry::new(t.clone(), "", "", "x");
    assert_eq!(
        log.append(bad).await.expect_err("empty").kind(),
        ErrorKind::Invalid
    );
    let long = AuditEntry::new(t.clone(), "a", "b", "x".repeat(5000));
    assert_eq!(
        log.append(long).await.expect_err("long").kind(),
        ErrorKind::Invalid
    );
    assert_eq!(
        log.list(&t, 0, 1000).await.expect("list").len(),
        10,
        "bad entries wrote something"
    );

    // Tampering: each case on a fresh chain of five records.
    let chain = |name: &'static str| async move {
        let tenant = unique_tenant(name);
        let mut records = Vec::new();
        for i in 0..5 {
            records.push(
                log.append(AuditEntry::new(
                    tenant.clone(),
                    "alice",
                    "act",
                    format!("t{i}"),
                ))
                .await
                .expect("append"),
            );
        }
        (tenant, records)
    };
    let broken_at = |v: AuditVerification| match v {
        AuditVerification::Broken { seq, .. } => seq,
        other => panic!("tampering not detected: {other:?}"),
    };

    let (tenant, _) = chain("edit").await;
    tamper.set_action(&tenant, 3, "innocent").await;
    assert_eq!(
        broken_at(log.verify(&tenant).await.expect("verify")),
        3,
        "edited record"
    );

    let (tenant, _) = chain("delete").await;
    tamper.remove(&tenant, 2).await;
    assert_eq!(
        broken_at(log.verify(&tenant).await.expect("verify")),
        3,
        "deleted record"
    );

    let (tenant, _) = chain("truncate").await;
    tamper.remove(&tenant, 5).await;
    broken_at(log.verify(&tenant).await.expect("verify"));

    let (tenant, records) = chain("insert").await;
    let last = &records[4];
    let mut forged = last.clone();
    forged.seq = 6;
    forged.entry.action = "forged".into();
    forged.prev_hash = last.hash;
    forged.hash = forged.compute_hash();
    tamper.insert_raw(&forged).await;
    broken_at(log.verify(&tenant).await.expect("verify"));

    let (tenant, records) = chain("replace").await;
    // Replace record 3 by a well-formed forgery that links to record 2.
    tamper.remove(&tenant, 3).await;
    let mut forged = records[2].clone();
    forged.entry.target = "elsewhere".into();
    forged.hash = forged.compute_hash();
    tamper.insert_raw(&forged).await;
    assert_eq!(
        broken_at(log.verify(&tenant).await.expect("verify")),
        4,
        "replaced record"
    );

    assert!(
        log.verify(&t).await.expect("verify").is_intact(),
        "tampering elsewhere broke this chain"
    );
    assert!(log.verify(&other).await.expect("verify").is_intact());
}

/// [`Database::write_script`](crate::Database::write_script): each statement's rows come
/// back in order; a failing statement leaves nothing of the script behind; the
/// connection serves the next script either way; an empty script does nothing.
#[cfg(feature = "sql")]
#[cfg_attr(docsrs, doc(cfg(feature = "sql")))]
pub async fn write_script_suite(db: &crate::Database) {
    use sea_orm::{ConnectionTrait, Statement, Value};
    let table = format!("script_{}", Uuid::new_v4().simple());
    db.connection()
        .execute_unprepared(&format!(
            "CREATE TABLE {table} (k BIGINT PRIMARY KEY, v TEXT NOT NULL)"
        ))
        .await
        .expect("create the table");
    let backend = db.connection().get_database_backend();
    // `?` for SQLite, `$n` for Postgres, as sea-query writes them.
    let mark = |n: usize| match backend {
        sea_orm::DbBackend::Postgres => format!("${n}"),
        _ => "?".to_owned(),
    };
    let stmt =
        |sql: String, values: Vec<Value>| Statement::from_sql_and_values(backend, sql, values);
    let insert = |k: i64, v: &str| {
        stmt(
            format!(
                "INSERT INTO {table} (k, v) VALUES ({}, {})",
                mark(1),
                mark(2)
            ),
            vec![k.into(), v.into()],
        )
    };
    let all = || async {
        let rows = db
            .connection()
            .query_all_raw(Statement::from_string(
                backend,
                format!("SELECT k, v FROM {table} ORDER BY k"),
            ))
            .await
            .expect("select");
        rows.iter()
            .map(|r| {
                (
                    r.try_get::<i64>("", "k").expect("k"),
                    r.try_get::<String>("", "v").expect("v"),
                )
            })
            .collect::<Vec<_>>()
    };

    assert!(db.write_script(&[]).await.expect("empty").is_empty());

    let out = db
        .write_script(&[
            insert(1, "one"),
            insert(2, "two"),
            stmt(
                format!(
                    "UPDATE {table} SET v = {} WHERE k >= {} RETURNING k",
                    mark(1),
                    mark(2)
                ),
                vec!["changed".into(), 1i64.into()],
            ),
        ])
        .await
        .expect("script");
    assert_eq!(out.len(), 3, "one answer per statement");
    assert!(out[0].is_empty() && out[1].is_empty());
    let mut returned: Vec<i64> = out[2]
        .iter()
        .map(|r| r.try_get("", "k").expect("k"))
        .collect();
    returned.sort_unstable();
    assert_eq!(returned, [1, 2]);
    assert_eq!(all().await, [(1, "changed".into()), (2, "changed".into())]);

    // The second statement breaks the primary key: the first one's row is gone too.
    let err = db
        .write_script(&[insert(3, "three"), insert(1, "again"), insert(4, "four")])
        .await
        .expect_err("a duplicate key fails the script");
    assert_eq!(
        crate::sql_error::db(err).kind(),
        ErrorKind::Conflict,
        "a unique violation reads as a conflict"
    );
    assert_eq!(all().await.len(), 2, "nothing of the failed script stayed");

    // The connection is not left inside a transaction: the next scripts commit.
    for k in 5..8 {
        db.write_script(&[insert(k, "later")])
            .await
            .expect("next script");
    }
    assert_eq!(all().await.len(), 5);

    // A script whose caller stops waiting mid-way (a long one, given 5 ms) stays whole:
    // all of it or none of it, and the next script still commits.
    let many = |from: i64| {
        Statement::from_string(
            backend,
            format!(
                "WITH RECURSIVE c(x) AS (SELECT {from} UNION ALL SELECT x + 1 FROM c \
                 WHERE x < {from} + 199999) INSERT INTO {table} (k, v) SELECT x, 'bulk' FROM c"
            ),
        )
    };
    let script = [many(1_000_000), many(2_000_000), many(3_000_000)];
    let _ = tokio::time::timeout(
        std::time::Duration::from_millis(5),
        db.write_script(&script),
    )
    .await;
    let after = all().await.len();
    assert!(
        after == 5 || after == 5 + 600_000,
        "a dropped script left {} of its rows",
        after - 5
    );
    db.write_script(&[insert(8, "after the drop")])
        .await
        .expect("a script after a dropped one");
    assert_eq!(all().await.len(), after + 1);
    db.connection()
        .execute_unprepared(&format!("DROP TABLE {table}"))
        .await
        .expect("drop the table");
}

/// The outbox seam on a migrated SQL database: a committed transaction's document and
/// message are both there; a rolled-back (or dropped) one left neither.
#[cfg(feature = "sql")]
#[cfg_attr(docsrs, doc(cfg(feature = "sql")))]
pub async fn outbox_suite(db: &crate::Database) {
    use crate::outbox::{self, Outbox, OutboxMessage};
    let t = unique_tenant("outbox");
    let relay = Outbox::new(db.clone());
    let mine = |rows: Vec<outbox::OutboxRow>| -> Vec<outbox::OutboxRow> {
        rows.into_iter().filter(|r| r.tenant == t).collect()
    };

    let tx = db.begin().await.expect("begin");
    let doc = tx
        .documents()
        .create(&t, "orders", json!({"n": 1}))
        .await
        .expect("create in tx");
    let id = outbox::stage(
        &tx,
        OutboxMessage::new(t.clone(), "orders", doc.id.to_string()).header("type", "order.created"),
    )
    .await
    .expect("stage");
    tx.commit().await.expect("commit");
    let store = crate::documents::SqlDocumentStore::new(db.clone());
    assert_eq!(
        store
            .get(&t, "orders", doc.id)
            .await
            .expect("committed document")
            .version,
        1
    );
    let pending = mine(relay.pending(1000).await.expect("pending"));
    assert_eq!(pending.len(), 1, "committed message visible");
    let row = &pending[0];
    assert_eq!(row.id, id);
    assert_eq!(row.queue, "orders");
    assert_eq!(row.payload, doc.id.to_string().as_bytes());
    assert_eq!(
        row.headers.get("type").map(String::as_str),
        Some("order.created")
    );
    assert!(row.published_at.is_none());

    for how in ["rollback", "drop"] {
        let tx = db.begin().await.expect("begin");
        let doc = tx
            .documents()
            .create(&t, "orders", json!({"n": 2}))
            .await
            .expect("create in tx");
        outbox::stage(&tx, OutboxMessage::new(t.clone(), "orders", "x"))
            .await
            .expect("stage");
        if how == "rollback" {
            tx.rollback().await.expect("rollback");
        } else {
            drop(tx);
        }
        let err = store
            .get(&t, "orders", doc.id)
            .await
            .expect_err("rolled back document");
        assert_eq!(
            err.kind(),
            ErrorKind::NotFound,
            "{how}: document left behind"
        );
        assert_eq!(
            mine(relay.pending(1000).await.expect("pending")).len(),
            1,
            "{how}: message left behind"
        );
    }

    let bad = OutboxMessage::new(t.clone(), "", "x");
    let tx = db.begin().await.expect("begin");
    assert_eq!(
        outbox::stage(&tx, bad)
            .await
            .expect_err("empty queue")
            .kind(),
        ErrorKind::Invalid
    );
    tx.rollback().await.expect("rollback");

    // A delayed message is not due yet.
    let tx = db.begin().await.expect("begin");
    let later = std::time::SystemTime::now() + std::time::Duration::from_secs(3600);
    let delayed = outbox::stage(
        &tx,
        OutboxMessage::new(t.clone(), "orders", "later").available_at(later),
    )
    .await
    .expect("stage delayed");
    tx.commit().await.expect("commit");
    let due = mine(relay.pending(1000).await.expect("pending"));
    assert!(
        due.iter().all(|r| r.id != delayed),
        "a delayed message is due early"
    );

    assert_eq!(relay.mark_published(&[id]).await.expect("mark"), 1);
    assert_eq!(
        relay.mark_published(&[id]).await.expect("mark again"),
        0,
        "published twice"
    );
    assert!(
        mine(relay.pending(1000).await.expect("pending")).is_empty(),
        "published message still pending"
    );
}

/// A migrated Postgres database at `url` in a fresh schema of its own, so tests sharing a
/// server never see each other's rows.
///
/// # Panics
///
/// When the server cannot be reached or the schema cannot be made.
#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
pub async fn postgres_database(url: &str) -> crate::Database {
    use sea_orm::ConnectionTrait;
    let schema = unique_tenant("t").as_str().replace('-', "_");
    let admin = crate::Database::connect_with(crate::DatabaseOptions::new(url).max_connections(1))
        .await
        .expect("connect to Postgres");
    // DDL takes no bound parameters; the name is `[a-z0-9_]` by construction.
    admin
        .connection()
        .execute_unprepared(&format!("CREATE SCHEMA \"{schema}\""))
        .await
        .expect("create the test schema");
    drop(admin);
    let db = crate::Database::connect_with(crate::DatabaseOptions::new(url).schema(schema))
        .await
        .expect("connect to the test schema");
    db.migrate().await.expect("migrate");
    db
}
