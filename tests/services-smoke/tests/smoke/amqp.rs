//! RabbitMQ through lapin: a confirmed publish, a `basic.get`, and the management API.

use baas_core::testing::{service, unique_name};
use lapin::options::{
    BasicAckOptions, BasicGetOptions, BasicPublishOptions, ConfirmSelectOptions,
    QueueDeclareOptions, QueueDeleteOptions,
};
use lapin::types::FieldTable;
use lapin::{BasicProperties, Connection, ConnectionProperties};

#[tokio::test]
async fn amqp_confirmed_publish_then_get_through_lapin() {
    super::install_crypto_provider();
    let Some(url) = service("BAAS_TEST_AMQP_URL") else {
        return;
    };
    let Some(management) = service("BAAS_TEST_AMQP_MANAGEMENT_URL") else {
        return;
    };
    let conn = Connection::connect(&url, ConnectionProperties::default())
        .await
        .expect("connect to rabbitmq");
    let channel = conn.create_channel().await.expect("channel");
    channel
        .confirm_select(ConfirmSelectOptions::default())
        .await
        .expect("confirm.select");

    // A queue of its own, so parallel tests never meet.
    let queue = unique_name("smoke");
    channel
        .queue_declare(
            queue.as_str().into(),
            QueueDeclareOptions {
                durable: true,
                ..QueueDeclareOptions::default()
            },
            FieldTable::default(),
        )
        .await
        .expect("queue.declare");

    let payload = b"hello rabbitmq";
    let confirmation = channel
        .basic_publish(
            "".into(),
            queue.as_str().into(),
            BasicPublishOptions {
                mandatory: true,
                ..BasicPublishOptions::default()
            },
            payload,
            BasicProperties::default().with_delivery_mode(2),
        )
        .await
        .expect("basic.publish")
        .await
        .expect("publisher confirm");
    assert!(
        confirmation.is_ack(),
        "broker did not ack: {confirmation:?}"
    );
    assert!(
        confirmation.take_message().is_none(),
        "message was returned unroutable"
    );

    let got = channel
        .basic_get(queue.as_str().into(), BasicGetOptions::default())
        .await
        .expect("basic.get")
        .expect("the published message");
    assert_eq!(got.delivery.data, payload);
    assert_eq!(got.message_count, 0, "nothing else is in the queue");
    got.delivery
        .ack(BasicAckOptions::default())
        .await
        .expect("basic.ack");
    let empty = channel
        .basic_get(queue.as_str().into(), BasicGetOptions::default())
        .await
        .expect("basic.get on empty queue");
    assert!(empty.is_none(), "the acked message came back");

    // The management API (queue statistics for the queue backend) knows the queue.
    let info: serde_json::Value = reqwest::Client::new()
        .get(format!("{management}/api/queues/%2f/{queue}"))
        .send()
        .await
        .expect("management API")
        .error_for_status()
        .expect("management API status")
        .json()
        .await
        .expect("management API json");
    assert_eq!(info["name"], queue.as_str());
    assert_eq!(info["durable"], true);

    let deleted = channel
        .queue_delete(queue.as_str().into(), QueueDeleteOptions::default())
        .await
        .expect("queue.delete");
    assert_eq!(deleted, 0, "the queue was empty when deleted");
    conn.close(200, "done".into()).await.expect("close");
}
