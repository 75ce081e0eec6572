//! Measured rows and the printed table.
//!
//! Each row is printed twice: in the human table, and as one `ROW` line
//! (`ROW backend mode impl jobs jobs_per_s p50_ms p99_ms`) that `bench/queue.sh` reads. The
//! apalis baseline (bench/apalis) prints the same `ROW` lines.

use std::fmt;
use std::time::Duration;

/// Enqueue one at a time and reserve one, or batch both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Single,
    Batched,
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Mode::Single => "single",
            Mode::Batched => "batched",
        })
    }
}

/// One measured run.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    pub(crate) backend: &'static str,
    pub(crate) mode: Mode,
    /// `baas`, `raw` (sqlx statements / lapin) or `apalis`.
    pub(crate) imp: &'static str,
    pub(crate) jobs: usize,
    pub(crate) elapsed: Duration,
    pub(crate) p50: Duration,
    pub(crate) p99: Duration,
}

impl Row {
    pub(crate) fn rate(&self) -> f64 {
        self.jobs as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    pub(crate) fn machine_line(&self) -> String {
        format!(
            "ROW {} {} {} {} {:.1} {:.3} {:.3}",
            self.backend,
            self.mode,
            self.imp,
            self.jobs,
            self.rate(),
            ms(self.p50),
            ms(self.p99)
        )
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The table of `rows`, with the ratio baas/raw beside every baas row that has a raw
/// twin.
pub(crate) fn table(rows: &[Row]) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "{:<9} {:<8} {:<7} {:>7} {:>11} {:>9} {:>9} {:>9}\n",
        "backend", "mode", "impl", "jobs", "jobs/s", "p50 ms", "p99 ms", "baas/raw"
    ));
    for row in rows {
        let ratio = if row.imp == "baas" {
            rows.iter()
                .find(|r| r.backend == row.backend && r.mode == row.mode && r.imp == "raw")
                .map(|raw| format!("{:.0}%", 100.0 * row.rate() / raw.rate()))
                .unwrap_or_else(|| "-".to_owned())
        } else {
            String::new()
        };
        out.push_str(&format!(
            "{:<9} {:<8} {:<7} {:>7} {:>11.0} {:>9.2} {:>9.2} {:>9}\n",
            row.backend,
            row.mode.to_string(),
            row.imp,
            row.jobs,
            row.rate(),
            ms(row.p50),
            ms(row.p99),
            ratio
        ));
    }
    out
}
