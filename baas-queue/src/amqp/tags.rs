//! Delivery tags still open on a consumer's channel, so that a group of acks can go as
//! one `basic.ack` with `multiple` set — when, and only when, it covers exactly that
//! group.
//!
//! `basic.ack(tag, multiple = true)` acknowledges every unacknowledged delivery of the
//! channel up to `tag`: a delivery still buffered, leased to another job, or being
//! settled by someone else would be acknowledged with it (lost), and that someone's own
//! ack would then name an unknown tag, a channel error. So every delivery's tag is
//! *open* from its arrival until the frame settling it has been sent; a group may use
//! one multiple ack up to its tag `t` only if the open tags up to `t` are all its own.
//! Tags only grow on a channel, so none can join below `t` after the check, and a tag
//! leaves the set only once its frame is out, so the multiple ack goes after every
//! other settle of a tag below `t`. Anything the check refuses is acked one by one.

use std::collections::BTreeSet;
use std::sync::Arc;

use lapin::message::Delivery;
use lapin::options::{BasicAckOptions, BasicRejectOptions};
use lapin::{Acker, BasicProperties};
use parking_lot::Mutex;

/// The open delivery tags of one channel (see the module docs).
#[derive(Debug, Default)]
pub(crate) struct OpenTags(Mutex<BTreeSet<u64>>);

impl OpenTags {
    fn closed(&self, tags: impl IntoIterator<Item = u64>) {
        let mut open = self.0.lock();
        for tag in tags {
            open.remove(&tag);
        }
    }

    /// How many of `ours` (sorted, ascending, all open) are the lowest open tags: a
    /// multiple ack of `ours[n - 1]` settles exactly `ours[..n]`.
    fn lowest_run(&self, ours: &[u64]) -> usize {
        let open = self.0.lock();
        open.iter()
            .zip(ours)
            .take_while(|(open, ours)| open == ours)
            .count()
    }

    /// How many tags are open (for tests).
    #[cfg(test)]
    fn len(&self) -> usize {
        self.0.lock().len()
    }
}

/// What the consumer's broker pushed: the message, and its handle for settling.
#[derive(Debug)]
pub(crate) struct Pushed {
    pub(crate) data: Vec<u8>,
    pub(crate) properties: BasicProperties,
    pub(crate) redelivered: bool,
    pub(crate) settle: Tagged,
}

impl Pushed {
    /// Take `delivery` in, opening its tag in `open`.
    pub(crate) fn new(delivery: Delivery, open: &Arc<OpenTags>) -> Self {
        open.0.lock().insert(delivery.delivery_tag);
        Pushed {
            data: delivery.data,
            properties: delivery.properties,
            redelivered: delivery.redelivered,
            settle: Tagged {
                acker: delivery.acker,
                tag: delivery.delivery_tag,
                open: Arc::clone(open),
            },
        }
    }
}

/// One delivery's acker and tag. Settling it through these methods closes the tag once
/// the frame is sent, whatever the outcome (a failed settle means a dead channel, whose
/// tags no longer matter).
#[derive(Debug)]
pub(crate) struct Tagged {
    acker: Acker,
    tag: u64,
    open: Arc<OpenTags>,
}

impl Tagged {
    /// Neither settled nor on a dead channel.
    pub(crate) fn usable(&self) -> bool {
        self.acker.usable()
    }

    /// Its channel died (the broker has requeued the delivery).
    pub(crate) fn poisoned(&self) -> bool {
        self.acker.poisoned()
    }

    /// `basic.ack` this delivery alone. `Ok(false)`: already settled or on a dead channel.
    pub(crate) async fn ack(&self) -> lapin::Result<bool> {
        let outcome = self.acker.ack(BasicAckOptions::default()).await;
        self.open.closed([self.tag]);
        outcome
    }

    /// `basic.reject` this delivery, with or without requeue.
    pub(crate) async fn reject(&self, requeue: bool) -> lapin::Result<bool> {
        let outcome = self.acker.reject(BasicRejectOptions { requeue }).await;
        self.open.closed([self.tag]);
        outcome
    }
}

/// Ack every delivery of `items` (each owned by the caller, none settled yet); one
/// outcome per item, in order, as [`Tagged::ack`] would give it. Per channel, the items
/// whose tags are the channel's lowest open ones go as one multiple ack; the rest one by
/// one, concurrently.
pub(crate) async fn ack_all(items: &[&Tagged]) -> Vec<lapin::Result<bool>> {
    let mut outcomes: Vec<Option<lapin::Result<bool>>> = vec![None; items.len()];
    let mut singles = Vec::new();
    let mut groups: Vec<(&Arc<OpenTags>, Vec<usize>)> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        match groups
            .iter_mut()
            .find(|(open, _)| Arc::ptr_eq(open, &item.open))
        {
            Some((_, members)) => members.push(i),
            None => groups.push((&item.open, vec![i])),
        }
    }
    let mut multiples = Vec::new();
    for (open, mut members) in groups {
        members.sort_unstable_by_key(|&i| items[i].tag);
        let tags: Vec<u64> = members.iter().map(|&i| items[i].tag).collect();
        let run = open.lowest_run(&tags);
        if run >= 2 && members[..run].iter().all(|&i| items[i].usable()) {
            multiples.push((open, members[..run].to_vec()));
            singles.extend_from_slice(&members[run..]);
        } else {
            singles.extend(members);
        }
    }
    let multiple = futures::future::join_all(multiples.iter().map(|(open, members)| {
        let last = items[*members.last().expect("a run of at least two")];
        async move {
            let outcome = last.acker.ack(BasicAckOptions { multiple: true }).await;
            open.closed(members.iter().map(|&i| items[i].tag));
            outcome
        }
    }));
    let single = futures::future::join_all(singles.iter().map(|&i| items[i].ack()));
    let (multiple, single) = futures::future::join(multiple, single).await;
    for ((_, members), outcome) in multiples.iter().zip(multiple) {
        for &i in members {
            outcomes[i] = Some(outcome.clone());
        }
    }
    for (&i, outcome) in singles.iter().zip(single) {
        outcomes[i] = Some(outcome);
    }
    outcomes
        .into_iter()
        .map(|outcome| outcome.expect("every item is acked once"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open_with(tags: &[u64]) -> OpenTags {
        let open = OpenTags::default();
        open.0.lock().extend(tags.iter().copied());
        open
    }

    #[test]
    fn a_run_is_the_lowest_open_tags_only() {
        let open = open_with(&[3, 4, 5, 7, 9]);
        assert_eq!(
            open.lowest_run(&[3, 4, 5]),
            3,
            "exactly the lowest open tags"
        );
        assert_eq!(open.lowest_run(&[3, 4, 5, 7, 9]), 5, "all of them");
        assert_eq!(
            open.lowest_run(&[3, 5, 7]),
            1,
            "4 is someone else's: stop before it"
        );
        assert_eq!(open.lowest_run(&[4, 5]), 0, "3 is open below them");
        assert_eq!(open.lowest_run(&[]), 0);
    }

    #[test]
    fn closing_removes_only_the_named_tags() {
        let open = open_with(&[1, 2, 3]);
        open.closed([2, 8]);
        assert_eq!(open.len(), 2);
        assert_eq!(open.lowest_run(&[1, 3]), 2, "3 is now next to 1");
    }
}
