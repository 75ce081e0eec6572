//! Metrics of every backend call, through the `metrics` facade (DESIGN.md rule 7). The
//! spans come from `tracing::instrument` on each method.
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `baas_store_operation_duration_seconds` | histogram | `backend` (`sql`, `memory`, `local`, `s3`, `object_store`), `op` (`documents.create`, `blob.put`, …), `outcome` (`ok` or the error kind) |
//! | `baas_blob_bytes_total` | counter | `direction` (`in`: stored by puts, `out`: served by gets) |
//! | `baas_blob_cache_lookups_total` | counter | `outcome` (`hit`, `miss`): reads of small objects when [`ObjectBlobStore::with_cache`](crate::blob::ObjectBlobStore::with_cache) is on |
//!
//! Without an installed recorder each call costs a few atomic loads.

use std::future::Future;
use std::time::Instant;

use baas_core::Error;

/// The duration histogram's name.
pub(crate) const OPERATION_DURATION: &str = "baas_store_operation_duration_seconds";

/// The blob byte counter's name.
pub(crate) const BLOB_BYTES: &str = "baas_blob_bytes_total";

/// The blob cache's lookup counter's name.
pub(crate) const BLOB_CACHE_LOOKUPS: &str = "baas_blob_cache_lookups_total";

/// Run `fut`, recording its duration and outcome under `backend` and `op`.
pub(crate) async fn observed<T>(
    backend: &'static str,
    op: &'static str,
    fut: impl Future<Output = Result<T, Error>>,
) -> Result<T, Error> {
    let start = Instant::now();
    let result = fut.await;
    let outcome = match &result {
        Ok(_) => "ok",
        Err(err) => err.kind().as_str(),
    };
    metrics::histogram!(OPERATION_DURATION, "backend" => backend, "op" => op, "outcome" => outcome)
        .record(start.elapsed().as_secs_f64());
    result
}

/// Count blob bytes stored (`in`) or served (`out`).
pub(crate) fn blob_bytes(direction: &'static str, bytes: u64) {
    metrics::counter!(BLOB_BYTES, "direction" => direction).increment(bytes);
}

/// Count a lookup in the blob cache.
pub(crate) fn blob_cache(hit: bool) {
    let outcome = if hit { "hit" } else { "miss" };
    metrics::counter!(BLOB_CACHE_LOOKUPS, "outcome" => outcome).increment(1);
}

#[cfg(test)]
mod tests {
    use super::*;
    use metrics_util::debugging::{DebugValue, DebuggingRecorder};

    #[test]
    fn records_duration_with_outcome_and_bytes() {
        let recorder = DebuggingRecorder::new();
        let snapshotter = recorder.snapshotter();
        metrics::with_local_recorder(&recorder, || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap();
            rt.block_on(async {
                observed("sql", "documents.get", async { Ok::<_, Error>(()) })
                    .await
                    .unwrap();
                let _ = observed("sql", "documents.get", async {
                    Err::<(), _>(Error::not_found("gone"))
                })
                .await;
            });
            blob_bytes("in", 42);
        });
        let snapshot = snapshotter.snapshot().into_vec();
        let mut outcomes = Vec::new();
        let mut bytes = 0;
        for (key, _, _, value) in snapshot {
            let key = key.key();
            if key.name() == OPERATION_DURATION {
                let labels: Vec<_> = key
                    .labels()
                    .map(|l| format!("{}={}", l.key(), l.value()))
                    .collect();
                assert!(labels.contains(&"backend=sql".to_owned()), "{labels:?}");
                assert!(
                    labels.contains(&"op=documents.get".to_owned()),
                    "{labels:?}"
                );
                outcomes.extend(labels.into_iter().filter(|l| l.starts_with("outcome=")));
            } else if key.name() == BLOB_BYTES
                && let DebugValue::Counter(n) = value
            {
                bytes = n;
            }
        }
        outcomes.sort();
        assert_eq!(outcomes, ["outcome=not_found", "outcome=ok"]);
        assert_eq!(bytes, 42);
    }
}
