//! The physical limit on RabbitMQ: raw lapin. A durable queue; persistent messages
//! published `mandatory` on a channel in confirm mode (`single`: one publish, then its
//! confirm; `batched`: `batch` publishes, then their confirms); one consumer with
//! `basic.qos(prefetch)` — the backend's prefetch — and manual acks (`single`: one ack
//! per message; `batched`: one `multiple` ack per chunk of up to `batch` deliveries).

use std::sync::Arc;
use std::time::Instant;

use baas_core::BoxError;
use futures::StreamExt as _;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicPublishOptions, BasicQosOptions,
    ConfirmSelectOptions, QueueDeclareOptions, QueueDeleteOptions,
};
use lapin::types::FieldTable;
use lapin::{BasicProperties, Confirmation, Connection, ConnectionProperties};

use crate::baas::Measured;
use crate::latency::Recorder;
use crate::report::Mode;

/// Publish and consume `jobs` messages through a fresh durable queue `queue`.
pub(crate) async fn run(
    url: &str,
    queue: &str,
    mode: Mode,
    jobs: usize,
    batch: usize,
    prefetch: u16,
) -> Result<Measured, BoxError> {
    let connection = Connection::connect(url, ConnectionProperties::default()).await?;
    let publisher = connection.create_channel().await?;
    publisher
        .confirm_select(ConfirmSelectOptions::default())
        .await?;
    publisher
        .queue_declare(
            queue.into(),
            QueueDeclareOptions {
                durable: true,
                ..QueueDeclareOptions::default()
            },
            FieldTable::default(),
        )
        .await?;
    let subscriber = connection.create_channel().await?;
    subscriber
        .basic_qos(prefetch, BasicQosOptions::default())
        .await?;
    let consumer = subscriber
        .basic_consume(
            queue.into(),
            "".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await?;

    let recorder = Arc::new(Recorder::new(jobs));
    let chunk = match mode {
        Mode::Single => 1,
        Mode::Batched => batch,
    };
    let start = Instant::now();
    let consuming = {
        let recorder = Arc::clone(&recorder);
        tokio::spawn(async move {
            let mut chunks = consumer.ready_chunks(chunk);
            while recorder.handled() < recorder.jobs() {
                let Some(chunk) = chunks.next().await else {
                    return Err::<(), BoxError>("the consumer ended".into());
                };
                let mut last = None;
                for delivery in chunk {
                    let delivery = delivery?;
                    recorder.record(&delivery.data);
                    last = Some(delivery);
                }
                if let Some(last) = last {
                    last.acker
                        .ack(BasicAckOptions {
                            multiple: mode == Mode::Batched,
                        })
                        .await?;
                }
            }
            Ok(())
        })
    };
    let properties = BasicProperties::default().with_delivery_mode(2);
    for first in (0..jobs).step_by(chunk) {
        // Started together, so lapin's I/O loop writes the chunk in one go (awaited one
        // by one, each publish waits for its own write).
        let payloads: Vec<_> = (first..(first + chunk).min(jobs))
            .map(|i| recorder.payload(i))
            .collect();
        let publishes = payloads.iter().map(|payload| {
            publisher.basic_publish(
                "".into(),
                queue.into(),
                BasicPublishOptions {
                    mandatory: true,
                    ..BasicPublishOptions::default()
                },
                payload,
                properties.clone(),
            )
        });
        let confirms = futures::future::join_all(publishes)
            .await
            .into_iter()
            .collect::<Result<Vec<_>, _>>()?;
        for confirm in confirms {
            match confirm.await? {
                Confirmation::Ack(None) => {}
                other => return Err(format!("publish not confirmed: {other:?}").into()),
            }
        }
    }
    let enqueued = start.elapsed();
    consuming.await??;
    let elapsed = start.elapsed();
    let (p50, p99) = recorder.percentiles();
    let _ = publisher
        .queue_delete(queue.into(), QueueDeleteOptions::default())
        .await;
    let _ = connection.close(200, "bench done".into()).await;
    Ok(Measured {
        enqueued,
        elapsed,
        p50,
        p99,
    })
}
