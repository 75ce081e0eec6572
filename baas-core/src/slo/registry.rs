use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use metrics::Label;
use parking_lot::{Mutex, RwLock};

use super::burn::{BurnRatePair, PAIRS, Severity, WINDOWS, burn_rate};
use super::objective::Slo;
use super::window::BucketRing;
use super::{BURN_RATE, ERROR_BUDGET_REMAINING_RATIO, EVENTS_TOTAL};
use crate::clock::SharedClock;
use crate::error::{Error, ErrorKind};

/// One-minute buckets over the longest burn-rate window (3 days).
const FINE_WIDTH_SECS: u64 = 60;
const FINE_LEN: usize = 3 * 24 * 60;
/// One-hour buckets over the SLO window.
const COARSE_WIDTH_SECS: u64 = 3600;

/// Declared SLOs, their recorded events, and what follows from them: error budget
/// remaining, burn rates, alerts, gauges and Prometheus rules.
///
/// Memory is bounded: per SLO, one-minute buckets over 3 days (burn-rate windows, to the
/// minute) and one-hour buckets over the SLO window (the budget), about 120 KiB.
/// Windows end now and include the current, partial bucket.
///
/// ```
/// use baas_core::slo::{Slo, SloRegistry};
/// use baas_core::ManualClock;
///
/// let clock = ManualClock::new();
/// let slos = SloRegistry::new(clock.shared());
/// slos.declare(Slo::new("checkout", 0.99)?)?;
/// for _ in 0..98 { slos.record("checkout", true)?; }
/// for _ in 0..2 { slos.record("checkout", false)?; }
///
/// let report = slos.report("checkout").unwrap();
/// // 2 % bad against a 1 % budget: burning twice too fast, budget overspent by 100 %.
/// assert!((report.burn_rate("1h").unwrap() - 2.0).abs() < 1e-9);
/// assert!((report.error_budget_remaining - (-1.0)).abs() < 1e-9);
/// slos.export_gauges(); // baas_slo_burn_rate{slo="checkout",window="1h"} 2 …
/// # Ok::<(), baas_core::Error>(())
/// ```
#[derive(Clone)]
pub struct SloRegistry {
    clock: SharedClock,
    slos: Arc<RwLock<BTreeMap<String, Arc<Tracked>>>>,
}

impl fmt::Debug for SloRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let slos = self.slos.read();
        f.debug_struct("SloRegistry")
            .field("slos", &slos.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

struct Tracked {
    slo: Slo,
    rings: Mutex<Rings>,
}

struct Rings {
    fine: BucketRing,
    coarse: BucketRing,
}

/// What an SLO looks like now.
#[derive(Debug, Clone, PartialEq)]
pub struct SloReport {
    /// The SLO's name.
    pub name: String,
    /// Its objective.
    pub objective: f64,
    /// Good events over the SLO window.
    pub good: u64,
    /// Bad events over the SLO window.
    pub bad: u64,
    /// The share of the window's error budget left: 1 with no bad events, 0 when spent,
    /// negative when overspent. `1 - burn rate over the whole window`.
    pub error_budget_remaining: f64,
    /// The burn rate over each of [`WINDOWS`](super::WINDOWS), by label.
    pub burn_rates: Vec<(&'static str, f64)>,
    /// The alert decision.
    pub alert: AlertDecision,
}

impl SloReport {
    /// The burn rate over the window labelled `window` (`5m`, `30m`, `1h`, `6h`, `3d`).
    pub fn burn_rate(&self, window: &str) -> Option<f64> {
        self.burn_rates
            .iter()
            .find(|(label, _)| *label == window)
            .map(|(_, rate)| *rate)
    }
}

/// Which burn-rate alerts fire for an SLO.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AlertDecision {
    /// The pairs whose long and short windows both exceed their factor.
    pub firing: Vec<BurnRatePair>,
}

impl AlertDecision {
    /// The most urgent severity among the firing pairs; `None` when nothing fires.
    pub fn severity(&self) -> Option<Severity> {
        self.firing.iter().map(|p| p.severity).max()
    }

    /// Whether someone should be paged.
    pub fn page(&self) -> bool {
        self.severity() == Some(Severity::Page)
    }
}

impl SloRegistry {
    /// An empty registry reading time from `clock`.
    pub fn new(clock: SharedClock) -> Self {
        SloRegistry {
            clock,
            slos: Arc::new(RwLock::new(BTreeMap::new())),
        }
    }

    /// Declare `slo`. Its event counters are created at zero, so Prometheus sees both
    /// series from the start.
    ///
    /// # Errors
    ///
    /// `Conflict` when an SLO of that name is already declared.
    pub fn declare(&self, slo: Slo) -> Result<(), Error> {
        let mut slos = self.slos.write();
        if slos.contains_key(slo.name()) {
            return Err(Error::new(
                ErrorKind::Conflict,
                format!("the SLO {} is already declared", slo.name()),
            ));
        }
        for outcome in ["good", "bad"] {
            events_counter(slo.name(), outcome).increment(0);
        }
        let coarse_len = slo.window().as_secs().div_ceil(COARSE_WIDTH_SECS);
        let rings = Rings {
            fine: BucketRing::new(FINE_WIDTH_SECS, FINE_LEN),
            coarse: BucketRing::new(COARSE_WIDTH_SECS, usize::try_from(coarse_len).unwrap_or(1)),
        };
        slos.insert(
            slo.name().to_owned(),
            Arc::new(Tracked {
                slo,
                rings: Mutex::new(rings),
            }),
        );
        Ok(())
    }

    /// The declared SLOs.
    pub fn slos(&self) -> Vec<Slo> {
        self.slos.read().values().map(|t| t.slo.clone()).collect()
    }

    /// Record one event of the SLO `name`, good or bad, now.
    ///
    /// # Errors
    ///
    /// `NotFound` when no SLO of that name is declared.
    pub fn record(&self, name: &str, good: bool) -> Result<(), Error> {
        self.record_many(name, u64::from(good), u64::from(!good))
    }

    /// Record `good` good and `bad` bad events of the SLO `name`, now.
    ///
    /// # Errors
    ///
    /// `NotFound` when no SLO of that name is declared.
    pub fn record_many(&self, name: &str, good: u64, bad: u64) -> Result<(), Error> {
        let tracked = self.slos.read().get(name).cloned().ok_or_else(|| {
            Error::new(
                ErrorKind::NotFound,
                format!("no SLO named {name} is declared"),
            )
        })?;
        self.add(&tracked, good, bad);
        Ok(())
    }

    /// Record an HTTP response for every SLO whose [`HttpSelector`](super::HttpSelector)
    /// counts it. `route` is the route template, as in the metrics' `route` label.
    pub fn record_http(&self, route: &str, status: u16) {
        let slos = self.slos.read();
        for tracked in slos.values() {
            if let Some(good) = tracked.slo.http().and_then(|s| s.classify(route, status)) {
                self.add(tracked, u64::from(good), u64::from(!good));
            }
        }
    }

    fn add(&self, tracked: &Tracked, good: u64, bad: u64) {
        let now = self.clock.unix_seconds();
        {
            let mut rings = tracked.rings.lock();
            rings.fine.record(now, good, bad);
            rings.coarse.record(now, good, bad);
        }
        let name = tracked.slo.name();
        if good > 0 {
            events_counter(name, "good").increment(good);
        }
        if bad > 0 {
            events_counter(name, "bad").increment(bad);
        }
    }

    /// The report of the SLO `name` now, or `None` when it is not declared.
    pub fn report(&self, name: &str) -> Option<SloReport> {
        let tracked = self.slos.read().get(name).cloned()?;
        Some(self.report_of(&tracked))
    }

    /// The reports of every declared SLO, by name.
    pub fn reports(&self) -> Vec<SloReport> {
        let slos: Vec<_> = self.slos.read().values().cloned().collect();
        slos.iter().map(|t| self.report_of(t)).collect()
    }

    fn report_of(&self, tracked: &Tracked) -> SloReport {
        let now = self.clock.unix_seconds();
        let slo = &tracked.slo;
        let objective = slo.objective();
        let rings = tracked.rings.lock();
        let (good, bad) = rings
            .coarse
            .sum(now, rings.coarse.buckets_for(slo.window().as_secs()));
        let burn_rates: Vec<(&'static str, f64)> = WINDOWS
            .iter()
            .map(|w| {
                let n = rings.fine.buckets_for(w.duration.as_secs());
                let (g, b) = rings.fine.sum(now, n);
                (w.label, burn_rate(b, g + b, objective))
            })
            .collect();
        drop(rings);
        let rate = |label: &str| {
            burn_rates
                .iter()
                .find(|(l, _)| *l == label)
                .map_or(0.0, |(_, r)| *r)
        };
        let firing = PAIRS
            .iter()
            .filter(|p| rate(p.long.label) > p.factor && rate(p.short.label) > p.factor)
            .copied()
            .collect();
        SloReport {
            name: slo.name().to_owned(),
            objective,
            good,
            bad,
            error_budget_remaining: 1.0 - burn_rate(bad, good + bad, objective),
            burn_rates,
            alert: AlertDecision { firing },
        }
    }

    /// Set the gauges `baas_slo_error_budget_remaining_ratio{slo}` and
    /// `baas_slo_burn_rate{slo,window}` for every declared SLO; call it before rendering
    /// `/metrics` (or on a timer). Returns the reports it exported.
    pub fn export_gauges(&self) -> Vec<SloReport> {
        let reports = self.reports();
        for report in &reports {
            let slo = Label::new("slo", report.name.clone());
            metrics::gauge!(ERROR_BUDGET_REMAINING_RATIO, vec![slo.clone()])
                .set(report.error_budget_remaining);
            for (window, rate) in &report.burn_rates {
                metrics::gauge!(BURN_RATE, vec![slo.clone(), Label::new("window", *window)])
                    .set(*rate);
            }
        }
        reports
    }

    /// Prometheus recording and alerting rules for every declared SLO; see
    /// [`rules_yaml`](super::rules_yaml).
    pub fn rules_yaml(&self) -> String {
        super::rules_yaml(&self.slos())
    }
}

fn events_counter(slo: &str, outcome: &'static str) -> metrics::Counter {
    metrics::counter!(
        EVENTS_TOTAL,
        vec![
            Label::new("slo", slo.to_owned()),
            Label::new("outcome", outcome)
        ]
    )
}
