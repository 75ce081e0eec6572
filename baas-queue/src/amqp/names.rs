//! Broker names for a logical queue, and the choice of delay tier.

use std::time::Duration;

/// The longest AMQP queue name, in bytes.
const MAX_AMQP_NAME: usize = 255;

/// The characters allowed in prefixes.
pub(crate) fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | ':')
}

/// Why a logical queue name cannot be used on RabbitMQ (beyond the crate-wide name
/// rules, checked first by the caller): it would collide with another queue's derived
/// names, or its longest derived name would exceed AMQP's 255 bytes.
pub(crate) fn refuse_queue(prefix: &str, name: &str, tiers: &[Duration]) -> Option<String> {
    if name.ends_with(".dead") || name.contains(".delay.") {
        return Some(
            "names ending in .dead or containing .delay. are reserved by the AMQP backend"
                .to_owned(),
        );
    }
    let longest = Names::new(prefix, name).longest(tiers);
    if longest > MAX_AMQP_NAME {
        let max = name.len() - (longest - MAX_AMQP_NAME);
        return Some(format!(
            "the AMQP backend takes names of at most {max} bytes with this prefix"
        ));
    }
    None
}

/// The broker-side names of one logical queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Names {
    /// The main, durable work queue.
    pub(crate) main: String,
    /// The dead-letter queue, bound to the DLX under its own name.
    pub(crate) dead: String,
    /// The dead-letter exchange shared by every queue with this prefix.
    pub(crate) dlx: String,
    prefix_and_queue: String,
}

impl Names {
    pub(crate) fn new(prefix: &str, queue: &str) -> Self {
        let main = format!("{prefix}.{queue}");
        Self {
            dead: format!("{main}.dead"),
            dlx: format!("{prefix}.dlx"),
            prefix_and_queue: main.clone(),
            main,
        }
    }

    /// The length of the longest broker name derived from this queue.
    fn longest(&self, tiers: &[Duration]) -> usize {
        let delay = tiers
            .iter()
            .map(|tier| self.delay(*tier).len())
            .max()
            .unwrap_or(0);
        delay.max(self.dead.len())
    }

    /// The delay queue of the tier `tier` (messages wait there `tier`, then dead-letter
    /// into the main queue).
    pub(crate) fn delay(&self, tier: Duration) -> String {
        format!("{}.delay.{}ms", self.prefix_and_queue, tier.as_millis())
    }
}

/// The tier a delay of `delay` waits in: the shortest tier not shorter than `delay`, or
/// the longest tier when `delay` exceeds them all (the message then hops again on
/// arrival). `None` when there is nothing to wait.
pub(crate) fn tier_for(tiers: &[Duration], delay: Duration) -> Option<Duration> {
    if delay.is_zero() {
        return None;
    }
    tiers
        .iter()
        .copied()
        .find(|tier| *tier >= delay)
        .or_else(|| tiers.last().copied())
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: fn(u64) -> Duration = Duration::from_secs;

    #[test]
    fn delays_round_up_to_the_next_tier() {
        let tiers = [S(1), S(5), S(30)];
        assert_eq!(tier_for(&tiers, Duration::ZERO), None);
        assert_eq!(tier_for(&tiers, Duration::from_millis(1)), Some(S(1)));
        assert_eq!(tier_for(&tiers, S(1)), Some(S(1)));
        assert_eq!(tier_for(&tiers, Duration::from_millis(1001)), Some(S(5)));
        assert_eq!(tier_for(&tiers, S(30)), Some(S(30)));
        assert_eq!(
            tier_for(&tiers, S(31)),
            Some(S(30)),
            "longer delays hop through the last tier"
        );
    }

    #[test]
    fn names_are_derived_from_prefix_and_queue() {
        let names = Names::new("baas", "emails");
        assert_eq!(names.main, "baas.emails");
        assert_eq!(names.dead, "baas.emails.dead");
        assert_eq!(names.dlx, "baas.dlx");
        assert_eq!(
            names.delay(Duration::from_millis(1500)),
            "baas.emails.delay.1500ms"
        );
    }

    #[test]
    fn reserved_and_overlong_names_are_refused() {
        let tiers = [S(1), S(3600)];
        for bad in ["x.dead", "a.delay.b"] {
            assert!(refuse_queue("baas", bad, &tiers).is_some(), "{bad:?}");
        }
        for good in ["emails", "a.b_c-d", "Q1", "tenant:jobs"] {
            assert!(refuse_queue("baas", good, &tiers).is_none(), "{good:?}");
        }
        // "baas." + name + ".delay.3600000ms" must fit in 255 bytes.
        let fits = "a".repeat(255 - 5 - ".delay.3600000ms".len());
        assert!(refuse_queue("baas", &fits, &tiers).is_none());
        let message = refuse_queue("baas", &format!("{fits}a"), &tiers).unwrap();
        assert!(message.contains(&fits.len().to_string()), "{message}");
    }
}
