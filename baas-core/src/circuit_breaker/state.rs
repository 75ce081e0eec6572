//! The circuits and their state machine.

use std::collections::HashMap;
use std::fmt;
use std::hash::Hash;
use std::sync::Arc;
use std::time::Instant;

use parking_lot::Mutex;

use super::policy::BreakerPolicy;
use crate::clock::SharedClock;
use crate::error::{Error, ErrorKind};

/// The gauge of each circuit's state: 0 closed, 1 open, 2 half-open.
pub const STATE_GAUGE: &str = "baas_circuit_breaker_state";
/// The counter of state transitions (labels `from`, `to`).
pub const TRANSITIONS_COUNTER: &str = "baas_circuit_breaker_transitions_total";

/// What identifies a downstream: hashable, and printable for the `downstream` label.
pub trait CircuitKey: Hash + Eq + Clone + fmt::Display {}

impl<K: Hash + Eq + Clone + fmt::Display> CircuitKey for K {}

/// The state of one circuit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CircuitState {
    /// Calls flow; failures are counted.
    Closed,
    /// Calls are refused until the cool-down ends.
    Open,
    /// A few probe calls test the downstream.
    HalfOpen,
}

impl CircuitState {
    /// The value of the [`STATE_GAUGE`].
    pub fn gauge_value(self) -> f64 {
        match self {
            CircuitState::Closed => 0.0,
            CircuitState::Open => 1.0,
            CircuitState::HalfOpen => 2.0,
        }
    }

    /// `closed`, `open` or `half_open`.
    pub fn as_str(self) -> &'static str {
        match self {
            CircuitState::Closed => "closed",
            CircuitState::Open => "open",
            CircuitState::HalfOpen => "half_open",
        }
    }
}

#[derive(Debug)]
enum Phase {
    Closed { failures: u32 },
    Open { until: Instant },
    HalfOpen { in_flight: u32, successes: u32 },
}

impl Phase {
    fn state(&self) -> CircuitState {
        match self {
            Phase::Closed { .. } => CircuitState::Closed,
            Phase::Open { .. } => CircuitState::Open,
            Phase::HalfOpen { .. } => CircuitState::HalfOpen,
        }
    }
}

#[derive(Debug)]
struct Circuit {
    phase: Phase,
    /// Bumped on every transition, so late outcomes of an earlier phase are ignored.
    epoch: u64,
}

/// How a guarded call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Outcome {
    Success,
    Failure,
    Cancelled,
}

/// Admission to a circuit, returned by [`Breakers::admit`].
#[derive(Debug, Clone, Copy)]
pub(super) struct Ticket {
    epoch: u64,
    probe: bool,
}

/// The circuits of one breaker, one per downstream key, on an injected clock.
///
/// One circuit is kept per key ever seen: keys are downstreams (hosts, providers), a
/// small set.
pub struct Breakers<K> {
    name: Arc<str>,
    policy: BreakerPolicy,
    clock: SharedClock,
    circuits: Mutex<HashMap<K, Circuit>>,
}

impl<K> fmt::Debug for Breakers<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Breakers")
            .field("name", &self.name)
            .field("policy", &self.policy)
            .field("circuits", &self.circuits.lock().len())
            .finish_non_exhaustive()
    }
}

impl<K: CircuitKey> Breakers<K> {
    /// Circuits named `name` (the `breaker` label of the metrics).
    pub fn new(name: impl Into<Arc<str>>, policy: BreakerPolicy, clock: SharedClock) -> Self {
        Breakers {
            name: name.into(),
            policy,
            clock,
            circuits: Mutex::new(HashMap::new()),
        }
    }

    /// The name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The policy.
    pub fn policy(&self) -> &BreakerPolicy {
        &self.policy
    }

    /// The clock.
    pub fn clock(&self) -> &SharedClock {
        &self.clock
    }

    /// The state of `key`'s circuit (closed if never seen). An open circuit whose
    /// cool-down has ended reports half-open only once a call arrives.
    pub fn state(&self, key: &K) -> CircuitState {
        self.circuits
            .lock()
            .get(key)
            .map_or(CircuitState::Closed, |c| c.phase.state())
    }

    /// Ask to call `key`'s downstream: a ticket, or `Unavailable` with the remaining
    /// cool-down as retry-after.
    pub(super) fn admit(&self, key: &K) -> Result<Ticket, Error> {
        let now = self.clock.monotonic();
        let mut circuits = self.circuits.lock();
        let circuit = match circuits.get_mut(key) {
            Some(circuit) => circuit,
            None => {
                metrics::gauge!(STATE_GAUGE, "breaker" => self.name.to_string(), "downstream" => key.to_string())
                    .set(CircuitState::Closed.gauge_value());
                circuits.entry(key.clone()).or_insert(Circuit {
                    phase: Phase::Closed { failures: 0 },
                    epoch: 0,
                })
            }
        };
        if let Phase::Open { until } = circuit.phase {
            if now < until {
                return Err(Error::new(
                    ErrorKind::Unavailable,
                    format!("circuit `{}` is open for `{key}`", self.name),
                )
                .with_retry_after(until - now));
            }
            self.transition(
                key,
                circuit,
                Phase::HalfOpen {
                    in_flight: 0,
                    successes: 0,
                },
            );
        }
        match &mut circuit.phase {
            Phase::Closed { .. } => Ok(Ticket {
                epoch: circuit.epoch,
                probe: false,
            }),
            Phase::HalfOpen { in_flight, .. } => {
                if *in_flight >= self.policy.get_half_open_probes() {
                    return Err(Error::new(
                        ErrorKind::Unavailable,
                        format!("circuit `{}` is probing `{key}`", self.name),
                    ));
                }
                *in_flight += 1;
                Ok(Ticket {
                    epoch: circuit.epoch,
                    probe: true,
                })
            }
            Phase::Open { .. } => unreachable!("an open circuit was handled above"),
        }
    }

    /// Record how an admitted call ended.
    pub(super) fn record(&self, key: &K, ticket: Ticket, outcome: Outcome) {
        let mut circuits = self.circuits.lock();
        let Some(circuit) = circuits.get_mut(key) else {
            return;
        };
        if circuit.epoch != ticket.epoch {
            return;
        }
        let open = || Phase::Open {
            until: self.clock.monotonic() + self.policy.get_cool_down(),
        };
        match (&mut circuit.phase, outcome) {
            (Phase::Closed { failures }, Outcome::Success) => *failures = 0,
            (Phase::Closed { failures }, Outcome::Failure) => {
                *failures += 1;
                if *failures >= self.policy.get_failure_threshold() {
                    self.transition(key, circuit, open());
                }
            }
            (
                Phase::HalfOpen {
                    in_flight,
                    successes,
                },
                outcome,
            ) if ticket.probe => {
                *in_flight = in_flight.saturating_sub(1);
                match outcome {
                    Outcome::Success => {
                        *successes += 1;
                        if *successes >= self.policy.get_success_threshold() {
                            self.transition(key, circuit, Phase::Closed { failures: 0 });
                        }
                    }
                    Outcome::Failure => self.transition(key, circuit, open()),
                    Outcome::Cancelled => {}
                }
            }
            _ => {}
        }
    }

    fn transition(&self, key: &K, circuit: &mut Circuit, to: Phase) {
        let from = circuit.phase.state();
        let to_state = to.state();
        circuit.phase = to;
        circuit.epoch += 1;
        tracing::info!(
            breaker = %self.name,
            downstream = %key,
            from = from.as_str(),
            to = to_state.as_str(),
            "circuit breaker transition"
        );
        let downstream = key.to_string();
        metrics::gauge!(STATE_GAUGE, "breaker" => self.name.to_string(), "downstream" => downstream.clone())
            .set(to_state.gauge_value());
        metrics::counter!(
            TRANSITIONS_COUNTER,
            "breaker" => self.name.to_string(),
            "downstream" => downstream,
            "from" => from.as_str(),
            "to" => to_state.as_str()
        )
        .increment(1);
    }
}
