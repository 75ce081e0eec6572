use std::time::Duration;

use metrics_util::debugging::{DebugValue, DebuggingRecorder};

use super::*;
use crate::ManualClock;

const MINUTE: Duration = Duration::from_secs(60);

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

#[track_caller]
fn assert_rate(report: &SloReport, window: &str, want: f64) {
    let got = report.burn_rate(window).unwrap();
    assert!(
        close(got, want),
        "burn rate over {window}: got {got}, want {want}"
    );
}

/// Record `good` and `bad` events in each of `minutes` minutes, moving the clock on a
/// minute after each. The manual clock starts on a minute boundary.
fn minutes(slos: &SloRegistry, clock: &ManualClock, minutes: u32, good: u64, bad: u64) {
    for _ in 0..minutes {
        slos.record_many("api", good, bad).unwrap();
        clock.advance(MINUTE);
    }
}

#[test]
fn burn_rates_and_budget_match_hand_computed_values() {
    let clock = ManualClock::new();
    let slos = SloRegistry::new(clock.shared());
    slos.declare(Slo::new("api", 0.99).unwrap()).unwrap(); // budget 1 %

    // Minutes 0..=54: 100 good a minute. Minutes 55..=59: 90 good, 10 bad a minute.
    minutes(&slos, &clock, 55, 100, 0);
    minutes(&slos, &clock, 4, 90, 10);
    slos.record_many("api", 90, 10).unwrap(); // minute 59, clock stays inside it
    clock.advance(Duration::from_secs(30));

    let r = slos.report("api").unwrap();
    // 5m = minutes 55..=59: 50 bad / 500 = 0.1;       0.1 / 0.01 = 10
    assert_rate(&r, "5m", 10.0);
    // 30m = minutes 30..=59: 50 bad / 3000 = 1/60;    (1/60) / 0.01 = 1.6667
    assert_rate(&r, "30m", 100.0 / 60.0);
    // 1h = 6h = 3d = all 60 minutes: 50 / 6000 = 1/120; (1/120) / 0.01 = 0.8333
    assert_rate(&r, "1h", 100.0 / 120.0);
    assert_rate(&r, "6h", 100.0 / 120.0);
    assert_rate(&r, "3d", 100.0 / 120.0);
    // Budget over 30 d: 1 - 0.8333 = 0.1667 left.
    assert_eq!((r.good, r.bad), (5950, 50));
    assert!(close(r.error_budget_remaining, 1.0 - 100.0 / 120.0));
    // The 5m window alone exceeds 6 (pair 2's factor) but 30m does not: nothing fires.
    assert_eq!(r.alert.severity(), None);

    // Minutes 60..=64: 100 bad a minute, nothing good. Read at minute 64.
    clock.advance(Duration::from_secs(30)); // minute 60
    minutes(&slos, &clock, 4, 0, 100);
    slos.record_many("api", 0, 100).unwrap();
    let r = slos.report("api").unwrap();
    // 5m = minutes 60..=64: 500 / 500 = 1;                       1 / 0.01 = 100
    assert_rate(&r, "5m", 100.0);
    // 30m = minutes 35..=64: good 20*100 + 5*90 = 2450, bad 50 + 500 = 550, total 3000
    //   550 / 3000 = 0.18333;                                  / 0.01 = 18.333
    assert_rate(&r, "30m", 550.0 / 3000.0 / 0.01);
    // 1h = minutes 5..=64: good 50*100 + 450 = 5450, bad 550, total 6000
    //   550 / 6000 = 0.091667;                                 / 0.01 = 9.1667
    assert_rate(&r, "1h", 550.0 / 6000.0 / 0.01);
    // 6h = 3d = minutes 0..=64: good 5950, bad 550, total 6500 → 8.4615
    assert_rate(&r, "6h", 550.0 / 6500.0 / 0.01);
    assert_rate(&r, "3d", 550.0 / 6500.0 / 0.01);
    // Budget: 1 - 8.4615 = -7.4615 (overspent).
    assert!(close(r.error_budget_remaining, 1.0 - 550.0 / 6500.0 / 0.01));
    // Pair 1 (1h 9.17 / 5m 100 at 14.4): no. Pair 2 (6h 8.46 / 30m 18.3 at 6): page.
    // Pair 3 (3d 8.46 / 6h 8.46 at 1): ticket.
    let firing: Vec<_> = r.alert.firing.iter().map(|p| p.long.label).collect();
    assert_eq!(firing, ["6h", "3d"]);
    assert_eq!(r.alert.severity(), Some(Severity::Page));
    assert!(r.alert.page());

    // Four days later the burn-rate windows are empty, the 30-day budget still counts.
    clock.advance(Duration::from_secs(4 * 86_400));
    let r = slos.report("api").unwrap();
    for w in WINDOWS {
        assert_rate(&r, w.label, 0.0);
    }
    assert_eq!((r.good, r.bad), (5950, 550));
    assert!(r.alert.firing.is_empty());
    // And after the SLO window, the budget is whole again.
    clock.advance(Duration::from_secs(30 * 86_400));
    let r = slos.report("api").unwrap();
    assert_eq!((r.good, r.bad), (0, 0));
    assert!(close(r.error_budget_remaining, 1.0));
}

#[test]
fn a_fast_burn_pages_through_the_first_pair() {
    let clock = ManualClock::new();
    let slos = SloRegistry::new(clock.shared());
    slos.declare(Slo::new("api", 0.999).unwrap()).unwrap();
    // An hour of 2 % errors: burn rate 0.02 / 0.001 = 20 on every window > 14.4.
    minutes(&slos, &clock, 60, 980, 20);
    let r = slos.report("api").unwrap();
    assert_rate(&r, "1h", 20.0);
    assert_rate(&r, "5m", 20.0);
    assert_eq!(r.alert.firing.len(), 3);
    assert!(r.alert.page());
}

#[test]
fn http_selectors_pick_routes_and_good_statuses() {
    let clock = ManualClock::new();
    let slos = SloRegistry::new(clock.shared());
    slos.declare(Slo::new("all", 0.9).unwrap().with_http(HttpSelector::all()))
        .unwrap();
    slos.declare(
        Slo::new("docs", 0.9)
            .unwrap()
            .with_http(HttpSelector::routes(["/docs/{id}"]).good_when(|s| s < 400)),
    )
    .unwrap();
    slos.declare(Slo::new("manual", 0.9).unwrap()).unwrap();
    slos.record_http("/docs/{id}", 200);
    slos.record_http("/docs/{id}", 404);
    slos.record_http("/other", 503);
    let all = slos.report("all").unwrap();
    assert_eq!((all.good, all.bad), (2, 1));
    let docs = slos.report("docs").unwrap();
    assert_eq!((docs.good, docs.bad), (1, 1));
    let manual = slos.report("manual").unwrap();
    assert_eq!((manual.good, manual.bad), (0, 0));
}

#[test]
fn bad_declarations_and_unknown_slos_are_refused() {
    let slos = SloRegistry::new(ManualClock::new().shared());
    slos.declare(Slo::new("a", 0.99).unwrap()).unwrap();
    assert_eq!(
        slos.declare(Slo::new("a", 0.9).unwrap())
            .unwrap_err()
            .kind(),
        crate::ErrorKind::Conflict
    );
    assert_eq!(
        slos.record("b", true).unwrap_err().kind(),
        crate::ErrorKind::NotFound
    );
    for objective in [0.0, 1.0, -0.5, 1.5, f64::NAN] {
        assert!(Slo::new("x", objective).is_err(), "{objective}");
    }
    for name in ["", "with space", "quote\"", &"x".repeat(65)] {
        assert!(Slo::new(name, 0.9).is_err(), "{name:?}");
    }
    let slo = Slo::new("x", 0.9).unwrap();
    assert!(slo.clone().with_window(Duration::from_secs(90)).is_err());
    assert!(
        slo.clone()
            .with_window(Duration::from_secs(91 * 86_400))
            .is_err()
    );
    assert!(slo.with_window(Duration::from_secs(7 * 86_400)).is_ok());
}

#[test]
fn events_counters_and_gauges_are_exported() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    metrics::with_local_recorder(&recorder, || {
        let clock = ManualClock::new();
        let slos = SloRegistry::new(clock.shared());
        slos.declare(Slo::new("api", 0.99).unwrap()).unwrap();
        slos.record_many("api", 95, 5).unwrap();
        slos.export_gauges();
    });
    let snapshot = snapshotter.snapshot().into_vec(); // drains: take it once
    let find = |name: &str, labels: &[(&str, &str)]| {
        snapshot
            .iter()
            .find(|(k, _, _, _)| {
                let key = k.key();
                key.name() == name
                    && labels
                        .iter()
                        .all(|(lk, lv)| key.labels().any(|l| l.key() == *lk && l.value() == *lv))
            })
            .map(|(_, _, _, v)| v)
    };
    assert_eq!(
        find(EVENTS_TOTAL, &[("slo", "api"), ("outcome", "bad")]),
        Some(&DebugValue::Counter(5))
    );
    assert_eq!(
        find(EVENTS_TOTAL, &[("slo", "api"), ("outcome", "good")]),
        Some(&DebugValue::Counter(95))
    );
    // 5 % bad against a 1 % budget: burn rate 5, budget remaining 1 - 5 = -4.
    match find(BURN_RATE, &[("slo", "api"), ("window", "1h")]) {
        Some(&DebugValue::Gauge(v)) => assert!(close(v.into_inner(), 5.0)),
        other => panic!("{other:?}"),
    }
    match find(ERROR_BUDGET_REMAINING_RATIO, &[("slo", "api")]) {
        Some(&DebugValue::Gauge(v)) => assert!(close(v.into_inner(), -4.0)),
        other => panic!("{other:?}"),
    }
}

#[test]
fn rules_cover_every_window_and_pair() {
    let slo = Slo::new("checkout", 0.999)
        .unwrap()
        .with_description("Checkout's requests don't fail");
    let yaml = rules_yaml(&[slo]);
    for window in ["5m", "30m", "1h", "6h", "3d", "30d"] {
        assert!(
            yaml.contains(&format!("record: baas_slo:error_ratio:rate{window}\n")),
            "{yaml}"
        );
    }
    assert!(yaml.contains(
        "expr: 'baas_slo:error_ratio:rate1h{slo=\"checkout\"} > (14.4 * 0.001) and \
         baas_slo:error_ratio:rate5m{slo=\"checkout\"} > (14.4 * 0.001)'"
    ));
    assert!(yaml.contains("> (6 * 0.001)"));
    assert!(yaml.contains("> (1 * 0.001)"));
    assert_eq!(yaml.matches("severity: page").count(), 2);
    assert_eq!(yaml.matches("severity: ticket").count(), 1);
    assert!(yaml.contains("don''t fail"));
    assert!(yaml.contains("expr: '1 - baas_slo:error_ratio:rate30d{slo=\"checkout\"} / 0.001'"));
}

/// `promtool check rules` accepts the generated rules (Debian package `prometheus`).
#[test]
#[allow(clippy::print_stderr)]
fn promtool_accepts_the_rules() {
    let Some(promtool) = find_on_path("promtool") else {
        let required = std::env::var(crate::testing::REQUIRE_SERVICES_ENV).is_ok_and(|v| v == "1");
        assert!(
            !required,
            "promtool is not on PATH but BAAS_REQUIRE_SERVICES=1"
        );
        eprintln!("SKIPPED: promtool is not on PATH (apt-get install prometheus)");
        return;
    };
    let clock = ManualClock::new();
    let slos = SloRegistry::new(clock.shared());
    slos.declare(Slo::new("api", 0.999).unwrap().with_description("it's up"))
        .unwrap();
    slos.declare(
        Slo::new("jobs", 0.99)
            .unwrap()
            .with_window(Duration::from_secs(36 * 3600))
            .unwrap(),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("slo.rules.yml");
    std::fs::write(&path, slos.rules_yaml()).unwrap();
    let out = std::process::Command::new(promtool)
        .arg("check")
        .arg("rules")
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "promtool refused the rules:\n{}\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        slos.rules_yaml()
    );
}

fn find_on_path(program: &str) -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
}
