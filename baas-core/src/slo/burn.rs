use std::time::Duration;

/// How urgent a firing burn-rate alert is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Open a ticket: the budget burns steadily and will run out within the window.
    Ticket,
    /// Page someone: at this rate the budget is gone within days.
    Page,
}

impl Severity {
    /// `ticket` or `page`, as in the alert's `severity` label.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Ticket => "ticket",
            Severity::Page => "page",
        }
    }
}

/// A window over which a burn rate is computed, with its label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BurnWindow {
    /// The window.
    pub duration: Duration,
    /// Its label, in Prometheus duration syntax (`5m`, `1h`, `3d`).
    pub label: &'static str,
}

const fn w(secs: u64, label: &'static str) -> BurnWindow {
    BurnWindow {
        duration: Duration::from_secs(secs),
        label,
    }
}

/// 5 minutes.
pub const W5M: BurnWindow = w(300, "5m");
/// 30 minutes.
pub const W30M: BurnWindow = w(1800, "30m");
/// 1 hour.
pub const W1H: BurnWindow = w(3600, "1h");
/// 6 hours.
pub const W6H: BurnWindow = w(6 * 3600, "6h");
/// 3 days.
pub const W3D: BurnWindow = w(3 * 86_400, "3d");

/// Every window a burn rate is computed (and exported) for, shortest first.
pub const WINDOWS: [BurnWindow; 5] = [W5M, W30M, W1H, W6H, W3D];

/// A multi-window burn-rate alert: it fires when the burn rate over *both* windows
/// exceeds `factor` — the long window shows the budget is really burning, the short one
/// that it still is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BurnRatePair {
    /// The long window.
    pub long: BurnWindow,
    /// The short window (1/12 of the long one).
    pub short: BurnWindow,
    /// The burn rate both windows must exceed.
    pub factor: f64,
    /// What a firing alert asks for.
    pub severity: Severity,
}

/// The Google SRE workbook's multi-window, multi-burn-rate alerts (chapter "Alerting on
/// SLOs"), for a 30-day window: 2 % of the budget in 1 hour, 5 % in 6 hours (page), 10 %
/// in 3 days (ticket).
pub const PAIRS: [BurnRatePair; 3] = [
    BurnRatePair {
        long: W1H,
        short: W5M,
        factor: 14.4,
        severity: Severity::Page,
    },
    BurnRatePair {
        long: W6H,
        short: W30M,
        factor: 6.0,
        severity: Severity::Page,
    },
    BurnRatePair {
        long: W3D,
        short: W6H,
        factor: 1.0,
        severity: Severity::Ticket,
    },
];

/// The burn rate of `bad` out of `total` events against an error budget of
/// `1 - objective`: 1.0 spends the budget exactly over the SLO window; 0 when there were
/// no events.
///
/// ```
/// // 0.5 % errors against a 99.9 % objective burn the budget five times too fast.
/// let rate = baas_core::slo::burn_rate(5, 1000, 0.999);
/// assert!((rate - 5.0).abs() < 1e-9);
/// ```
pub fn burn_rate(bad: u64, total: u64, objective: f64) -> f64 {
    if total == 0 {
        return 0.0;
    }
    (bad as f64 / total as f64) / (1.0 - objective)
}
