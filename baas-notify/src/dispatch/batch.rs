//! A reserved batch, end to end: start every notification with one
//! [`DeliveryLog::start_many`](crate::store::DeliveryLog::start_many), open each webhook
//! endpoint once, deliver concurrently, write every round's attempts and status with one
//! [`DeliveryLog::settle_many`](crate::store::DeliveryLog::settle_many), then settle the
//! queue: one [`Queue::ack_batch`] for the successes, a nack or a dead letter for each
//! of the rest.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::time::Duration;

use baas_core::{Error, ErrorKind, TenantId};
use baas_queue::{Delivery, Queue};
use uuid::Uuid;

use super::round::{Decided, Opened};
use super::{Dispatcher, Disposition};
use crate::model::ChannelKind;
use crate::notifier::DeliveryJob;
use crate::store::Settlement;

/// One decoded job of a batch.
#[derive(Debug)]
pub(super) struct Item {
    pub(super) tenant: TenantId,
    pub(super) job: DeliveryJob,
    /// The queue's delivery count (1 the first time).
    pub(super) round: u32,
}

/// Waits between tries of a batch's log write that failed transiently.
const SETTLE_BACKOFF: [Duration; 2] = [Duration::from_millis(25), Duration::from_millis(100)];

/// A copy of `e` (kind and client-safe message) for the other members of a batch.
fn copy(e: &Error) -> Error {
    Error::new(e.kind(), e.message().to_owned())
}

impl Dispatcher {
    /// Deliver `items` as one batch; one answer per item, in order. Nothing is written
    /// to the queue here.
    pub(super) async fn deliver_many(&self, items: &[Item]) -> Vec<Result<Disposition, Error>> {
        let inner = &self.inner;
        let mut out: Vec<Option<Result<Disposition, Error>>> = items.iter().map(|_| None).collect();

        // A notification twice in one batch (an at-least-once duplicate) is delivered
        // once; the other copy is acknowledged.
        let mut seen = HashSet::with_capacity(items.len());
        let mut keys = Vec::with_capacity(items.len());
        let mut positions = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            if seen.insert((item.tenant.clone(), item.job.notification)) {
                keys.push((item.tenant.clone(), item.job.notification));
                positions.push(i);
            } else {
                out[i] = Some(Ok(Disposition::Ack));
            }
        }

        let started = match inner.log.start_many(&keys, inner.clock.now()).await {
            Ok(started) => started,
            Err(e) => {
                let mut out = Vec::with_capacity(items.len());
                out.extend((1..items.len()).map(|_| Err(copy(&e))));
                out.insert(0, Err(e));
                return out;
            }
        };

        // Open each webhook endpoint of the batch once (from the cache, mostly).
        let mut opened: Opened = HashMap::new();
        let mut open_failed: HashMap<(TenantId, Uuid), Error> = HashMap::new();
        if let Some(endpoints) = &inner.endpoints {
            for n in started.iter().flatten() {
                if n.channel != ChannelKind::Webhook {
                    continue;
                }
                let Ok(id) = Uuid::parse_str(&n.recipient) else {
                    continue;
                };
                let key = (n.tenant.clone(), id);
                if opened.contains_key(&key) || open_failed.contains_key(&key) {
                    continue;
                }
                match endpoints.open(&n.tenant, id).await {
                    Ok(e) => {
                        opened.insert(key, e);
                    }
                    Err(e) => {
                        open_failed.insert(key, e);
                    }
                }
            }
        }

        // Deliver every started notification concurrently.
        let rounds =
            futures_util::future::join_all(started.iter().zip(&positions).filter_map(|(n, &i)| {
                let n = n.as_ref()?;
                let item = &items[i];
                let failed = Uuid::parse_str(&n.recipient)
                    .ok()
                    .filter(|_| n.channel == ChannelKind::Webhook)
                    .and_then(|id| open_failed.get(&(n.tenant.clone(), id)));
                let opened = &opened;
                Some(async move {
                    let decided = match failed {
                        Some(e) if e.kind().is_retryable() => Err(copy(e)),
                        Some(e) => Ok(self.dead(n, e.message().to_owned())),
                        None => self.round(n, &item.job, item.round, opened).await,
                    };
                    (i, decided)
                })
            }))
            .await;
        // Missing, or already sent or suppressed: nothing to do.
        for (n, &i) in started.iter().zip(&positions) {
            if n.is_none() {
                out[i] = Some(Ok(Disposition::Ack));
            }
        }

        let mut decided: Vec<(usize, Decided)> = Vec::with_capacity(rounds.len());
        for (i, d) in rounds {
            match d {
                Ok(d) => decided.push((i, d)),
                // A store could not be reached: the lease expires and the job comes back.
                Err(e) => out[i] = Some(Err(e)),
            }
        }

        // 410s: disable each endpoint once.
        let mut disabled: HashMap<(TenantId, Uuid), Result<(), Error>> = HashMap::new();
        if let Some(endpoints) = &inner.endpoints {
            for (_, d) in &decided {
                let Some(id) = d.disable else { continue };
                let tenant = &d.settlement.tenant;
                if let Entry::Vacant(slot) = disabled.entry((tenant.clone(), id)) {
                    slot.insert(endpoints.set_disabled(tenant, id, true).await);
                }
            }
        }

        // Every round's attempts and status in one write.
        let settlements: Vec<Settlement> =
            decided.iter().map(|(_, d)| d.settlement.clone()).collect();
        let written = self.settle_log(settlements).await;
        for ((i, d), w) in decided.into_iter().zip(written) {
            let disable = d
                .disable
                .and_then(|id| disabled.get(&(d.settlement.tenant.clone(), id)));
            out[i] = Some(match (w, disable) {
                (Err(e), _) if e.kind() != ErrorKind::NotFound => Err(e),
                (_, Some(Err(e))) => Err(copy(e)),
                // Swept meanwhile: nothing left to track.
                (Err(_), _) => Ok(Disposition::Ack),
                (Ok(()), _) => Ok(d.disposition),
            });
        }
        out.into_iter()
            .map(|r| r.unwrap_or_else(|| Err(Error::internal("delivery not decided"))))
            .collect()
    }

    /// [`DeliveryLog::settle_many`](crate::store::DeliveryLog::settle_many), trying the
    /// transiently failed members again (twice, after 25 ms and 100 ms) so an attempt
    /// made is an attempt kept.
    async fn settle_log(&self, settlements: Vec<Settlement>) -> Vec<Result<(), Error>> {
        let log = &self.inner.log;
        let mut results = log.settle_many(&settlements).await;
        for backoff in SETTLE_BACKOFF {
            let again: Vec<usize> = results
                .iter()
                .enumerate()
                .filter(|(_, r)| matches!(r, Err(e) if e.kind().is_retryable()))
                .map(|(i, _)| i)
                .collect();
            if again.is_empty() {
                break;
            }
            tokio::time::sleep(backoff).await;
            let retry: Vec<Settlement> = again.iter().map(|&i| settlements[i].clone()).collect();
            for (i, r) in again.into_iter().zip(log.settle_many(&retry).await) {
                results[i] = r;
            }
        }
        results
    }

    /// Deliver a reserved batch and settle each delivery with the queue: one
    /// [`Queue::ack_batch`] for every `Ack`, a nack or a dead letter for the others.
    /// One answer per delivery, in order; an `Err` leaves that lease to expire (so the
    /// job comes back).
    pub async fn handle_batch(
        &self,
        queue: &dyn Queue,
        deliveries: Vec<Delivery>,
    ) -> Vec<Result<Disposition, Error>> {
        let mut out: Vec<Option<Result<Disposition, Error>>> =
            deliveries.iter().map(|_| None).collect();
        let mut items = Vec::with_capacity(deliveries.len());
        let mut positions = Vec::with_capacity(deliveries.len());
        let mut undecodable = Vec::new();
        for (i, d) in deliveries.iter().enumerate() {
            match d.message.json::<DeliveryJob>() {
                Ok(job) => {
                    items.push(Item {
                        tenant: d.message.tenant.clone(),
                        job,
                        round: d.attempt.max(1),
                    });
                    positions.push(i);
                }
                Err(_) => undecodable.push(i),
            }
        }
        let decided = self.deliver_many(&items).await;

        let mut acks = Vec::new();
        let mut ack_positions = Vec::new();
        let mut others = Vec::new();
        for (r, &i) in decided.into_iter().zip(&positions) {
            match r {
                Ok(Disposition::Ack) => {
                    acks.push(deliveries[i].lease.clone());
                    ack_positions.push(i);
                }
                Ok(d) => others.push((i, d)),
                Err(e) => out[i] = Some(Err(e)),
            }
        }
        for i in undecodable {
            others.push((i, Disposition::DeadLetter("not a delivery job".into())));
        }
        let acked = async {
            if acks.is_empty() {
                Vec::new()
            } else {
                queue.ack_batch(&acks).await
            }
        };
        let settled = futures_util::future::join_all(others.iter().map(|(i, d)| {
            let lease = &deliveries[*i].lease;
            async move {
                match d {
                    Disposition::Retry(delay) => queue.nack(lease, *delay).await,
                    Disposition::DeadLetter(reason) => queue.dead_letter(lease, reason).await,
                    Disposition::Ack => queue.ack(lease).await,
                }
            }
        }));
        let (acked, settled) = futures_util::future::join(acked, settled).await;
        for (r, i) in acked.into_iter().zip(ack_positions) {
            out[i] = Some(r.map(|()| Disposition::Ack).map_err(Error::from));
        }
        for ((i, d), r) in others.into_iter().zip(settled) {
            out[i] = Some(r.map(|()| d).map_err(Error::from));
        }
        out.into_iter()
            .map(|r| r.unwrap_or_else(|| Err(Error::internal("delivery not settled"))))
            .collect()
    }
}
