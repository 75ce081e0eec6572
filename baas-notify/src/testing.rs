//! Conformance suites for the stores (DESIGN.md rule 2): every backend's tests call
//! them all.

use std::time::{Duration, SystemTime};

use baas_core::{ErrorKind, TenantId};
use uuid::Uuid;

use crate::model::{Attempt, ChannelKind, Notification, Outcome, Status};
use crate::store::{DeliveryLog, Endpoint, EndpointStore, PreferenceStore, Settlement};

fn tenant(name: &str) -> TenantId {
    TenantId::new(name).expect("valid tenant")
}

/// A queued email notification for tests.
pub fn sample_notification(tenant: &TenantId, key: Option<&str>) -> Notification {
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    Notification {
        id: Uuid::now_v7(),
        tenant: tenant.clone(),
        recipient: "ann@example.com".into(),
        channel: ChannelKind::Email,
        category: "account".into(),
        template: Some("welcome".into()),
        locale: "en".into(),
        data: serde_json::json!({"name": "Ann"}),
        idempotency_key: key.map(str::to_owned),
        status: Status::Queued,
        attempts: 0,
        created_at: now,
        updated_at: now,
    }
}

/// The [`DeliveryLog`] contract: idempotent insert, status, attempts, tenancy, sweep.
/// `prefix` makes tenant names unique per run (shared databases).
pub async fn delivery_log_suite(log: &dyn DeliveryLog, prefix: &str) {
    let a = tenant(&format!("{prefix}a"));
    let b = tenant(&format!("{prefix}b"));

    // Insert and read back.
    let n = sample_notification(&a, Some("k1"));
    let ins = log.insert(&n).await.expect("insert");
    assert!(ins.created);
    assert_eq!(log.get(&a, n.id).await.unwrap().unwrap(), n);

    // One idempotency key, one notification (per tenant).
    let again = sample_notification(&a, Some("k1"));
    let ins = log.insert(&again).await.expect("insert again");
    assert!(!ins.created);
    assert_eq!(ins.notification.id, n.id);
    assert!(log.get(&a, again.id).await.unwrap().is_none());
    let other = sample_notification(&b, Some("k1"));
    assert!(
        log.insert(&other).await.unwrap().created,
        "keys are per tenant"
    );
    // No key: always new.
    assert!(
        log.insert(&sample_notification(&a, None))
            .await
            .unwrap()
            .created
    );
    assert!(
        log.insert(&sample_notification(&a, None))
            .await
            .unwrap()
            .created
    );

    // Tenancy: B sees nothing of A's.
    assert!(log.get(&b, n.id).await.unwrap().is_none());
    let t = n.created_at + Duration::from_secs(1);
    let e = log.set_status(&b, n.id, Status::Sent, t).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);

    // Status moves.
    log.set_status(&a, n.id, Status::Sending, t).await.unwrap();
    let got = log.get(&a, n.id).await.unwrap().unwrap();
    assert_eq!(got.status, Status::Sending);
    assert_eq!(got.updated_at, t);

    // Attempts are kept in order and counted.
    for (i, outcome) in [Outcome::Retryable, Outcome::Sent].into_iter().enumerate() {
        let attempt = Attempt {
            notification: n.id,
            number: u32::try_from(i).unwrap() + 1,
            at: t + Duration::from_secs(u64::try_from(i).unwrap()),
            provider: "smtp".into(),
            outcome,
            status_code: (i == 0).then_some(451),
            error: (i == 0).then(|| "deferred".to_owned()),
            latency: Duration::from_millis(12),
        };
        log.record_attempt(&a, &attempt).await.unwrap();
    }
    let attempts = log.attempts(&a, n.id).await.unwrap();
    assert_eq!(attempts.len(), 2);
    assert_eq!(attempts[0].outcome, Outcome::Retryable);
    assert_eq!(attempts[0].status_code, Some(451));
    assert_eq!(attempts[0].error.as_deref(), Some("deferred"));
    assert_eq!(attempts[0].latency, Duration::from_millis(12));
    assert_eq!(attempts[1].outcome, Outcome::Sent);
    assert_eq!(log.get(&a, n.id).await.unwrap().unwrap().attempts, 2);
    assert!(log.attempts(&b, n.id).await.unwrap().is_empty());
    let stray = Attempt {
        notification: n.id,
        ..attempts[0].clone()
    };
    assert_eq!(
        log.record_attempt(&b, &stray).await.unwrap_err().kind(),
        ErrorKind::NotFound
    );

    // Sweep removes finished notifications older than the cut-off, and only those.
    log.set_status(&a, n.id, Status::Sent, t).await.unwrap();
    let pending = sample_notification(&a, Some("k2"));
    log.insert(&pending).await.unwrap();
    log.sweep(t).await.unwrap();
    assert!(
        log.get(&a, n.id).await.unwrap().is_some(),
        "not older than the cut-off"
    );
    log.sweep(t + Duration::from_secs(1)).await.unwrap();
    assert!(log.get(&a, n.id).await.unwrap().is_none());
    assert!(log.attempts(&a, n.id).await.unwrap().is_empty());
    assert!(
        log.get(&a, pending.id).await.unwrap().is_some(),
        "queued stays"
    );

    delivery_log_batch_suite(log, prefix).await;
}

fn attempt(n: Uuid, number: u32, at: SystemTime, outcome: Outcome, code: Option<u16>) -> Attempt {
    Attempt {
        notification: n,
        number,
        at,
        provider: "webhook".into(),
        outcome,
        status_code: code,
        error: (outcome != Outcome::Sent).then(|| format!("provider answered {code:?}")),
        latency: Duration::from_millis(u64::from(number) * 7),
    }
}

/// The batch half of the [`DeliveryLog`] contract (run by [`delivery_log_suite`]):
/// `start_many` marks only what is still to deliver and only the asking tenant's;
/// `settle_many` keeps every attempt, counts them and sets the status, answering
/// `NotFound` (and writing nothing) for a missing or another tenant's notification.
pub async fn delivery_log_batch_suite(log: &dyn DeliveryLog, prefix: &str) {
    let a = tenant(&format!("{prefix}batch-a"));
    let b = tenant(&format!("{prefix}batch-b"));
    let with = |t: &TenantId, status: Status| Notification {
        status,
        ..sample_notification(t, None)
    };
    let q1 = with(&a, Status::Queued);
    let q2 = with(&a, Status::Queued);
    let failed = with(&a, Status::Failed);
    let dead = with(&a, Status::Dead);
    let sent = with(&a, Status::Sent);
    let suppressed = with(&a, Status::Suppressed);
    let others = with(&b, Status::Queued);
    for n in [&q1, &q2, &failed, &dead, &sent, &suppressed, &others] {
        assert!(log.insert(n).await.unwrap().created);
    }
    let missing = Uuid::now_v7();
    let t = q1.created_at + Duration::from_secs(10);

    // start_many: one answer per key, in order.
    assert!(log.start_many(&[], t).await.unwrap().is_empty());
    let keys = [
        (a.clone(), q1.id),
        (a.clone(), sent.id),
        (a.clone(), missing),
        (b.clone(), q2.id),
        (a.clone(), suppressed.id),
        (a.clone(), failed.id),
        (a.clone(), others.id),
        (a.clone(), dead.id),
        (a.clone(), q2.id),
    ];
    let started = log.start_many(&keys, t).await.unwrap();
    assert_eq!(started.len(), keys.len());
    let ids: Vec<Option<Uuid>> = started.iter().map(|n| n.as_ref().map(|n| n.id)).collect();
    assert_eq!(
        ids,
        [
            Some(q1.id),
            None, // sent
            None, // missing
            None, // another tenant's key
            None, // suppressed
            Some(failed.id),
            None, // another tenant's notification
            Some(dead.id),
            Some(q2.id),
        ]
    );
    for n in started.iter().flatten() {
        assert_eq!(n.status, Status::Sending);
        assert_eq!(n.updated_at, t);
        assert_eq!(n.tenant, a);
        let stored = log.get(&a, n.id).await.unwrap().unwrap();
        assert_eq!(&stored, n, "returned as stored");
    }
    assert_eq!(started[0].as_ref().unwrap().data, q1.data);
    for (t, n) in [(&a, &sent), (&a, &suppressed), (&b, &others)] {
        let stored = log.get(t, n.id).await.unwrap().unwrap();
        assert_eq!(&stored, n, "finished or another tenant's: untouched");
    }

    // settle_many: attempts kept in order and counted, statuses set, per settlement.
    assert!(log.settle_many(&[]).await.is_empty());
    let t2 = t + Duration::from_secs(1);
    let t3 = t + Duration::from_secs(2);
    let settle = |t: &TenantId, id: Uuid, attempts: Vec<Attempt>, status, at| Settlement {
        tenant: t.clone(),
        notification: id,
        attempts,
        status,
        at,
    };
    let batch = [
        settle(
            &a,
            q1.id,
            vec![
                attempt(q1.id, 1, t, Outcome::Retryable, Some(500)),
                attempt(q1.id, 2, t, Outcome::Sent, Some(200)),
            ],
            Status::Sent,
            t2,
        ),
        settle(
            &a,
            failed.id,
            vec![attempt(failed.id, 1, t, Outcome::Retryable, Some(503))],
            Status::Failed,
            t2,
        ),
        settle(&a, dead.id, Vec::new(), Status::Dead, t3),
        settle(
            &b,
            q2.id,
            vec![attempt(q2.id, 1, t, Outcome::Sent, Some(200))],
            Status::Sent,
            t2,
        ),
        settle(
            &a,
            missing,
            vec![attempt(missing, 1, t, Outcome::Sent, Some(200))],
            Status::Sent,
            t2,
        ),
        settle(
            &a,
            others.id,
            vec![attempt(others.id, 1, t, Outcome::Sent, Some(200))],
            Status::Sent,
            t2,
        ),
        settle(
            &a,
            q2.id,
            vec![attempt(q2.id, 1, t, Outcome::Gone, Some(410))],
            Status::Dead,
            t2,
        ),
    ];
    let results = log.settle_many(&batch).await;
    let kinds: Vec<Option<ErrorKind>> = results
        .iter()
        .map(|r| r.as_ref().err().map(|e| e.kind()))
        .collect();
    assert_eq!(
        kinds,
        [
            None,
            None,
            None,
            Some(ErrorKind::NotFound),
            Some(ErrorKind::NotFound),
            Some(ErrorKind::NotFound),
            None,
        ]
    );
    for s in [&batch[0], &batch[1], &batch[2], &batch[6]] {
        let n = log.get(&a, s.notification).await.unwrap().unwrap();
        assert_eq!(n.status, s.status);
        assert_eq!(n.updated_at, s.at);
        assert_eq!(n.attempts as usize, s.attempts.len());
        assert_eq!(log.attempts(&a, n.id).await.unwrap(), s.attempts);
    }
    let stored = log.get(&b, others.id).await.unwrap().unwrap();
    assert_eq!(
        stored, others,
        "another tenant's notification: nothing written"
    );
    assert!(log.attempts(&b, others.id).await.unwrap().is_empty());
    assert!(log.attempts(&b, q2.id).await.unwrap().is_empty());

    // A later round counts on.
    let more = [settle(
        &a,
        failed.id,
        vec![attempt(failed.id, 2, t3, Outcome::Sent, Some(204))],
        Status::Sent,
        t3,
    )];
    assert!(log.settle_many(&more).await.into_iter().all(|r| r.is_ok()));
    let n = log.get(&a, failed.id).await.unwrap().unwrap();
    assert_eq!((n.status, n.attempts), (Status::Sent, 2));
    let numbers: Vec<u32> = log
        .attempts(&a, failed.id)
        .await
        .unwrap()
        .iter()
        .map(|a| a.number)
        .collect();
    assert_eq!(numbers, [1, 2]);
    // Sent now: a second start leaves it alone.
    assert_eq!(
        log.start_many(&[(a.clone(), failed.id)], t3).await.unwrap(),
        [None]
    );
}

/// The [`PreferenceStore`] contract.
pub async fn preference_suite(prefs: &dyn PreferenceStore, prefix: &str) {
    let a = tenant(&format!("{prefix}a"));
    let b = tenant(&format!("{prefix}b"));
    let who = "ann@example.com";
    assert!(
        !prefs
            .is_opted_out(&a, who, "news", ChannelKind::Email)
            .await
            .unwrap()
    );
    prefs
        .set_opt_out(&a, who, "news", ChannelKind::Email, true)
        .await
        .unwrap();
    prefs
        .set_opt_out(&a, who, "news", ChannelKind::Email, true)
        .await
        .unwrap();
    assert!(
        prefs
            .is_opted_out(&a, who, "news", ChannelKind::Email)
            .await
            .unwrap()
    );
    assert!(
        !prefs
            .is_opted_out(&a, who, "news", ChannelKind::Sms)
            .await
            .unwrap()
    );
    assert!(
        !prefs
            .is_opted_out(&a, who, "billing", ChannelKind::Email)
            .await
            .unwrap()
    );
    assert!(
        !prefs
            .is_opted_out(&b, who, "news", ChannelKind::Email)
            .await
            .unwrap()
    );
    assert!(
        !prefs
            .is_opted_out(&a, "bob@example.com", "news", ChannelKind::Email)
            .await
            .unwrap()
    );
    prefs
        .set_opt_out(&a, who, "*", ChannelKind::Sms, true)
        .await
        .unwrap();
    assert!(
        prefs
            .is_opted_out(&a, who, "anything", ChannelKind::Sms)
            .await
            .unwrap()
    );
    prefs
        .set_opt_out(&a, who, "news", ChannelKind::Email, false)
        .await
        .unwrap();
    assert!(
        !prefs
            .is_opted_out(&a, who, "news", ChannelKind::Email)
            .await
            .unwrap()
    );
}

/// The [`EndpointStore`] contract.
pub async fn endpoint_suite(store: &dyn EndpointStore, prefix: &str) {
    let a = tenant(&format!("{prefix}a"));
    let b = tenant(&format!("{prefix}b"));
    let ep = Endpoint {
        id: Uuid::now_v7(),
        tenant: a.clone(),
        url: "https://example.com/hook".into(),
        event_types: vec!["user.created".into(), "*".into()],
        disabled: false,
        created_at: SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000),
        sealed_secret: vec![1, 2, 3, 0, 255],
    };
    store.insert(&ep).await.unwrap();
    assert_eq!(
        store.insert(&ep).await.unwrap_err().kind(),
        ErrorKind::Conflict
    );
    assert_eq!(store.get(&a, ep.id).await.unwrap().unwrap(), ep);
    let second = Endpoint {
        id: Uuid::now_v7(),
        ..ep.clone()
    };
    store.insert(&second).await.unwrap();
    let list = store.list(&a).await.unwrap();
    assert_eq!(
        list.iter().map(|e| e.id).collect::<Vec<_>>(),
        vec![ep.id, second.id]
    );

    // Tenancy.
    assert!(store.get(&b, ep.id).await.unwrap().is_none());
    assert!(store.list(&b).await.unwrap().is_empty());
    assert_eq!(
        store
            .set_disabled(&b, ep.id, true)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );
    assert_eq!(
        store.delete(&b, ep.id).await.unwrap_err().kind(),
        ErrorKind::NotFound
    );

    store.set_disabled(&a, ep.id, true).await.unwrap();
    assert!(store.get(&a, ep.id).await.unwrap().unwrap().disabled);
    store.delete(&a, ep.id).await.unwrap();
    assert!(store.get(&a, ep.id).await.unwrap().is_none());
    assert_eq!(
        store.delete(&a, ep.id).await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
}

/// The [`Intake`](crate::intake::Intake) contract, with the `log` it records in and the
/// `queue` it enqueues on: every notification stored and its job enqueued (with the
/// notification's tenant) when it was created `queued`; one (tenant, idempotency key),
/// one notification and one job — within a batch, across calls and under concurrent
/// calls; keys per tenant; `suppressed` recorded without a job; a bad queue name stores
/// nothing.
pub async fn intake_suite(
    intake: &dyn crate::intake::Intake,
    log: &dyn DeliveryLog,
    queue: &dyn baas_queue::Queue,
    prefix: &str,
) {
    use crate::intake::Accept;
    use crate::notifier::DeliveryJob;
    use baas_queue::Reserve;

    let a = tenant(&format!("{prefix}ia"));
    let b = tenant(&format!("{prefix}ib"));
    let q = format!("{prefix}-intake");
    let accept = |n: Notification, hook: Option<&str>| Accept {
        notification: n,
        webhook_id: hook.map(str::to_owned),
    };
    let qn = q.as_str();
    let jobs = move || async move {
        let got = queue
            .reserve(qn, Reserve::new(1000, Duration::from_secs(60)))
            .await
            .expect("reserve");
        let mut out: Vec<(TenantId, DeliveryJob)> = got
            .iter()
            .map(|d| (d.message.tenant.clone(), d.message.json().expect("a job")))
            .collect();
        let leases: Vec<_> = got.iter().map(|d| d.lease.clone()).collect();
        for r in queue.ack_batch(&leases).await {
            r.expect("ack");
        }
        out.sort_by_key(|(_, j)| j.notification);
        out
    };

    // A batch over two tenants: all stored, one job each, tenant carried.
    let n1 = sample_notification(&a, None);
    let n2 = sample_notification(&a, Some("k1"));
    let n3 = sample_notification(&b, Some("k1"));
    let batch = vec![
        accept(n1.clone(), Some("evt_1")),
        accept(n2.clone(), None),
        accept(n3.clone(), None),
    ];
    let answers = intake.accept(&q, batch).await.expect("accept");
    assert_eq!(answers.len(), 3);
    assert!(answers.iter().all(|i| i.created), "keys are per tenant");
    assert_eq!(answers[0].notification, n1);
    assert_eq!(log.get(&a, n1.id).await.unwrap().unwrap(), n1);
    assert_eq!(log.get(&a, n2.id).await.unwrap().unwrap(), n2);
    assert_eq!(log.get(&b, n3.id).await.unwrap().unwrap(), n3);
    assert!(log.get(&b, n1.id).await.unwrap().is_none(), "tenancy");
    let mut want = vec![
        (
            a.clone(),
            DeliveryJob {
                notification: n1.id,
                webhook_id: Some("evt_1".into()),
            },
        ),
        (
            a.clone(),
            DeliveryJob {
                notification: n2.id,
                webhook_id: None,
            },
        ),
        (
            b.clone(),
            DeliveryJob {
                notification: n3.id,
                webhook_id: None,
            },
        ),
    ];
    want.sort_by_key(|(_, j)| j.notification);
    assert_eq!(jobs().await, want);

    // The same key again, alone and twice in one batch: the first is answered, nothing
    // is added; a new key in the same batch is created once.
    let again = sample_notification(&a, Some("k1"));
    let fresh = sample_notification(&a, Some("k2"));
    let fresh_twice = sample_notification(&a, Some("k2"));
    let answers = intake
        .accept(
            &q,
            vec![
                accept(again.clone(), None),
                accept(fresh.clone(), None),
                accept(fresh_twice.clone(), None),
            ],
        )
        .await
        .expect("accept again");
    assert!(!answers[0].created);
    assert_eq!(answers[0].notification, n2);
    assert!(answers[1].created);
    assert!(!answers[2].created);
    assert_eq!(answers[2].notification.id, fresh.id);
    assert!(log.get(&a, again.id).await.unwrap().is_none());
    assert!(log.get(&a, fresh_twice.id).await.unwrap().is_none());
    let got = jobs().await;
    assert_eq!(got.len(), 1, "one job for the one created: {got:?}");
    assert_eq!(got[0].1.notification, fresh.id);

    // Suppressed: recorded, no job.
    let mut quiet = sample_notification(&a, None);
    quiet.status = Status::Suppressed;
    let answers = intake
        .accept(&q, vec![accept(quiet.clone(), None)])
        .await
        .expect("suppressed");
    assert!(answers[0].created);
    assert_eq!(
        log.get(&a, quiet.id).await.unwrap().unwrap().status,
        Status::Suppressed
    );
    assert!(
        jobs().await.is_empty(),
        "a suppressed notification has no job"
    );

    // Concurrent calls, five per key: one notification and one job per key.
    let calls = (0..40).map(|i| {
        let n = sample_notification(&b, Some(&format!("c{}", i % 8)));
        intake.accept(&q, vec![accept(n, None)])
    });
    let answers: Vec<_> = futures_util::future::join_all(calls)
        .await
        .into_iter()
        .map(|r| r.expect("concurrent accept").remove(0))
        .collect();
    assert_eq!(answers.iter().filter(|i| i.created).count(), 8);
    for (i, answer) in answers.iter().enumerate() {
        assert_eq!(
            answer.notification.id,
            answers[i % 8].notification.id,
            "every call with one key answers the same notification"
        );
    }
    assert_eq!(jobs().await.len(), 8);

    // Empty and bad input.
    assert!(intake.accept(&q, Vec::new()).await.unwrap().is_empty());
    let lost = sample_notification(&a, None);
    let err = intake
        .accept("bad queue name", vec![accept(lost.clone(), None)])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Malformed);
    assert!(
        log.get(&a, lost.id).await.unwrap().is_none(),
        "nothing stored"
    );
}
