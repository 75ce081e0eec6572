//! The measured path: baas-queue's real [`Worker`] over a [`Queue`] backend with a no-op
//! handler (it records the job's latency), fed by a producer running at full speed.

use std::sync::Arc;
use std::time::{Duration, Instant};

use baas_core::{BoxError, Error, TenantId};
use baas_queue::worker::{Job, Worker, WorkerConfig};
use baas_queue::{DynQueue, NewMessage, Reserve};
use bytes::Bytes;
use tower::service_fn;

use crate::latency::Recorder;
use crate::report::Mode;

/// What one run measured: the time from the first enqueue until the worker has acked
/// every job, and the latencies.
#[derive(Debug)]
pub(crate) struct Measured {
    /// When the producer had enqueued the last job.
    pub(crate) enqueued: Duration,
    pub(crate) elapsed: Duration,
    pub(crate) p50: Duration,
    pub(crate) p99: Duration,
}

/// The worker's shape per mode: `single` reserves one delivery at a time and runs one
/// job at a time; `batched` reserves up to `batch` deliveries and runs that many at once.
pub(crate) fn worker_config(mode: Mode, batch: usize) -> WorkerConfig {
    let (concurrency, reserve) = match mode {
        Mode::Single => (1, 1),
        Mode::Batched => (batch, batch),
    };
    let defaults = WorkerConfig::default();
    let gather = std::env::var("BENCH_GATHER_US")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .map_or(defaults.gather, Duration::from_micros);
    WorkerConfig {
        concurrency,
        batch: Some(reserve),
        gather,
        ..defaults
    }
}

/// Enqueue `jobs` jobs into `name` (one by one, or `batch` at a time) while a [`Worker`]
/// handles them; returns when the worker has settled all of them.
pub(crate) async fn run(
    queue: Arc<DynQueue>,
    name: &str,
    mode: Mode,
    jobs: usize,
    batch: usize,
) -> Result<Measured, BoxError> {
    let recorder = Arc::new(Recorder::new(jobs));
    let tenant = TenantId::new("bench")?;
    let handler = {
        let recorder = Arc::clone(&recorder);
        service_fn(move |job: Job<Bytes>| {
            recorder.record(&job.payload);
            std::future::ready(Ok::<(), Error>(()))
        })
    };
    let worker = Worker::raw(Arc::clone(&queue), name, handler)?.config(worker_config(mode, batch));
    // Set up before the clock starts, as the raw side does (it declares its queue and
    // starts its consumer first): a reserve of the empty queue declares the backend's
    // topology (RabbitMQ) and starts its prefetching consumer.
    let warm = queue
        .reserve(name, Reserve::new(1, Duration::from_secs(30)))
        .await?;
    if !warm.is_empty() {
        return Err("the queue was not empty before the run".into());
    }
    let start = Instant::now();
    let consumer = {
        let recorder = Arc::clone(&recorder);
        tokio::spawn(worker.run(async move { recorder.all_handled().await }))
    };
    let message =
        |i: usize| NewMessage::new(tenant.clone(), Bytes::copy_from_slice(&recorder.payload(i)));
    match mode {
        Mode::Single => {
            for i in 0..jobs {
                queue.enqueue(name, message(i)).await?;
            }
        }
        Mode::Batched => {
            for first in (0..jobs).step_by(batch) {
                let messages = (first..(first + batch).min(jobs)).map(message).collect();
                queue.enqueue_batch(name, messages).await?;
            }
        }
    }
    let enqueued = start.elapsed();
    let summary = consumer.await?;
    let elapsed = start.elapsed();
    if recorder.handled() < jobs || summary.processed < jobs as u64 {
        return Err(format!(
            "handled {} of {jobs} jobs; worker summary {summary:?}",
            recorder.handled()
        )
        .into());
    }
    let (p50, p99) = recorder.percentiles();
    Ok(Measured {
        enqueued,
        elapsed,
        p50,
        p99,
    })
}
