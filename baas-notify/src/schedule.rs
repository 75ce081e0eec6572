//! Retry schedules: how long to wait before each attempt.
//!
//! A schedule lists the delay before every attempt, the first included (API.md's
//! webhook default: at once, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h), with
//! ±10% jitter. After the last attempt fails, the delivery is dead-lettered.
//!
//! ```
//! use std::time::Duration;
//! use baas_notify::schedule::RetrySchedule;
//!
//! let s: RetrySchedule = "0s,5s,5m".parse()?;
//! assert_eq!(s.attempts(), 3);
//! let s = s.with_jitter(0.0);
//! assert_eq!(s.delay_after(1, None), Some(Duration::from_secs(5)));
//! assert_eq!(s.delay_after(2, Some(Duration::from_secs(900))), Some(Duration::from_secs(900)));
//! assert_eq!(s.delay_after(3, None), None); // dead letter
//! assert_eq!(RetrySchedule::webhook_default().attempts(), 10);
//! # Ok::<(), baas_notify::core::Error>(())
//! ```

use std::str::FromStr;
use std::time::Duration;

use baas_core::Error;
use rand::Rng as _;

use crate::error::NotifyError;

/// The environment variable API.md names for the webhook schedule.
pub const WEBHOOK_RETRY_SCHEDULE_ENV: &str = "BAAS_WEBHOOK_RETRY_SCHEDULE";

/// The most a `Retry-After` may push an attempt out.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);

/// The delay before each attempt, and the jitter applied to every delay.
#[derive(Debug, Clone, PartialEq)]
pub struct RetrySchedule {
    delays: Vec<Duration>,
    jitter: f64,
}

impl RetrySchedule {
    /// A schedule of these delays (the first is before the first attempt), ±10% jitter.
    /// At least one attempt.
    pub fn new(delays: Vec<Duration>) -> Result<Self, Error> {
        if delays.is_empty() {
            return Err(NotifyError::InvalidSchedule("at least one attempt".into()).into());
        }
        Ok(RetrySchedule {
            delays,
            jitter: 0.1,
        })
    }

    /// API.md's webhook schedule: at once, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h,
    /// 20 h, 24 h.
    pub fn webhook_default() -> Self {
        const H: u64 = 3600;
        let secs = [
            0,
            5,
            300,
            1800,
            2 * H,
            5 * H,
            10 * H,
            14 * H,
            20 * H,
            24 * H,
        ];
        RetrySchedule {
            delays: secs.into_iter().map(Duration::from_secs).collect(),
            jitter: 0.1,
        }
    }

    /// The default for email, SMS and push: at once, 10 s, 1 min, 5 min, 30 min, 2 h.
    pub fn message_default() -> Self {
        let secs = [0, 10, 60, 300, 1800, 7200];
        RetrySchedule {
            delays: secs.into_iter().map(Duration::from_secs).collect(),
            jitter: 0.1,
        }
    }

    /// Read `BAAS_WEBHOOK_RETRY_SCHEDULE`, or the default when unset or empty.
    pub fn webhook_from_env() -> Result<Self, Error> {
        match std::env::var(WEBHOOK_RETRY_SCHEDULE_ENV) {
            Ok(v) if !v.trim().is_empty() => v.parse(),
            _ => Ok(Self::webhook_default()),
        }
    }

    /// Set the jitter as a fraction (0.1 = ±10%), clamped to 0–1.
    pub fn with_jitter(mut self, fraction: f64) -> Self {
        self.jitter = if fraction.is_finite() {
            fraction.clamp(0.0, 1.0)
        } else {
            0.0
        };
        self
    }

    /// How many attempts in all.
    pub fn attempts(&self) -> u32 {
        u32::try_from(self.delays.len()).unwrap_or(u32::MAX)
    }

    /// The delays, without jitter.
    pub fn delays(&self) -> &[Duration] {
        &self.delays
    }

    /// The delay before the first attempt (jittered).
    pub fn initial_delay(&self) -> Duration {
        self.jittered(self.delays[0])
    }

    /// After `attempts_made` attempts failed, how long until the next — the longer of
    /// the (jittered) schedule and `retry_after` (capped at 24 h) — or `None` when the
    /// schedule is exhausted.
    pub fn delay_after(
        &self,
        attempts_made: u32,
        retry_after: Option<Duration>,
    ) -> Option<Duration> {
        let next = self.delays.get(usize::try_from(attempts_made).ok()?)?;
        let scheduled = self.jittered(*next);
        Some(match retry_after {
            Some(after) => scheduled.max(after.min(MAX_RETRY_AFTER)),
            None => scheduled,
        })
    }

    fn jittered(&self, d: Duration) -> Duration {
        if self.jitter == 0.0 || d.is_zero() {
            return d;
        }
        let factor = rand::rng().random_range((1.0 - self.jitter)..=(1.0 + self.jitter));
        d.mul_f64(factor)
    }
}

impl FromStr for RetrySchedule {
    type Err = Error;

    /// Comma-separated durations: `0s,5s,5m,30m,2h` (humantime syntax).
    fn from_str(s: &str) -> Result<Self, Error> {
        let delays = s
            .split(',')
            .map(|part| {
                humantime::parse_duration(part.trim()).map_err(|e| {
                    Error::from(NotifyError::InvalidSchedule(format!(
                        "`{}`: {e}",
                        part.trim()
                    )))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Self::new(delays)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_refuses() {
        let s: RetrySchedule = "0s, 5s,5m,1h".parse().unwrap();
        assert_eq!(
            s.delays(),
            [0, 5, 300, 3600].map(Duration::from_secs).as_slice()
        );
        assert!("".parse::<RetrySchedule>().is_err());
        assert!("5s,soon".parse::<RetrySchedule>().is_err());
    }

    #[test]
    fn jitter_stays_within_ten_percent() {
        let s = RetrySchedule::webhook_default();
        for _ in 0..200 {
            let d = s.delay_after(2, None).unwrap().as_secs_f64();
            assert!((270.0..=330.0).contains(&d), "{d}");
        }
        assert_eq!(s.delay_after(10, None), None);
        assert_eq!(s.initial_delay(), Duration::ZERO);
    }

    #[test]
    fn retry_after_wins_when_longer_and_is_capped() {
        let s = RetrySchedule::webhook_default().with_jitter(0.0);
        assert_eq!(
            s.delay_after(1, Some(Duration::from_secs(60))),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            s.delay_after(2, Some(Duration::from_secs(60))),
            Some(Duration::from_secs(300))
        );
        assert_eq!(
            s.delay_after(1, Some(Duration::from_secs(10 * 24 * 3600))),
            Some(MAX_RETRY_AFTER)
        );
    }
}
