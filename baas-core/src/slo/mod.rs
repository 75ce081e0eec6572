//! Service-level objectives: declare them, record good and bad events, and see the
//! error budget left, the burn rates and whether to page — in process, as gauges, and as
//! Prometheus rules.
//!
//! An [`Slo`] names an objective (say 99.9 % of requests good over 30 days). Events are
//! recorded in an [`SloRegistry`] — directly ([`SloRegistry::record`]) or from HTTP
//! responses picked by an [`HttpSelector`] ([`SloRegistry::record_http`]) — with times
//! from the injected [`Clock`](crate::Clock), in bounded per-minute and per-hour buckets.
//!
//! The burn rate over a window is `(bad / total) / (1 - objective)`: 1 spends the budget
//! exactly over the SLO window. Alerts follow the Google SRE workbook's multi-window,
//! multi-burn-rate scheme ([`PAIRS`]): page when both the 1 h and 5 min burn rates exceed
//! 14.4, or both the 6 h and 30 min exceed 6; open a ticket when both the 3 d and 6 h
//! exceed 1.
//!
//! Metrics:
//!
//! | metric | kind | labels |
//! |---|---|---|
//! | `baas_slo_events_total` | counter | `slo`, `outcome` = `good` / `bad` |
//! | `baas_slo_error_budget_remaining_ratio` | gauge ([`SloRegistry::export_gauges`]) | `slo` |
//! | `baas_slo_burn_rate` | gauge | `slo`, `window` = `5m` `30m` `1h` `6h` `3d` |
//!
//! [`rules_yaml`] writes the same computation as Prometheus recording and alerting rules
//! over `baas_slo_events_total`, for a Prometheus that scrapes several replicas.

mod burn;
mod objective;
mod registry;
mod rules;
mod window;

pub use burn::{
    BurnRatePair, BurnWindow, PAIRS, Severity, W1H, W3D, W5M, W6H, W30M, WINDOWS, burn_rate,
};
pub use objective::{DEFAULT_WINDOW, HttpSelector, Slo};
pub use registry::{AlertDecision, SloRegistry, SloReport};
pub use rules::{error_ratio_rule, rules_yaml};

/// Counter of SLO events: `slo`, `outcome` (`good` or `bad`).
pub const EVENTS_TOTAL: &str = "baas_slo_events_total";
/// Gauge of the share of the error budget left: `slo`.
pub const ERROR_BUDGET_REMAINING_RATIO: &str = "baas_slo_error_budget_remaining_ratio";
/// Gauge of the burn rate: `slo`, `window`.
pub const BURN_RATE: &str = "baas_slo_burn_rate";

/// Register descriptions for the SLO metrics (the Prometheus installer calls it).
pub fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge};
    describe_counter!(EVENTS_TOTAL, Unit::Count, "SLO events, good or bad");
    describe_gauge!(
        ERROR_BUDGET_REMAINING_RATIO,
        "Share of the SLO's error budget left over its window (negative when overspent)"
    );
    describe_gauge!(
        BURN_RATE,
        "Error budget burn rate over a window (1 = on budget)"
    );
}

#[cfg(test)]
mod tests;
