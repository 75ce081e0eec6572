//! SMTP (aiosmtpd with a Maildir) through lettre.

use std::net::SocketAddr;
use std::path::Path;

use baas_core::testing::{service, unique_name};
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

#[tokio::test]
async fn smtp_send_through_lettre_lands_in_the_maildir() {
    super::install_crypto_provider();
    let (Some(addr), Some(maildir)) = (
        service("BAAS_TEST_SMTP_ADDR"),
        service("BAAS_TEST_SMTP_MAILDIR"),
    ) else {
        return;
    };
    let addr: SocketAddr = addr.parse().expect("BAAS_TEST_SMTP_ADDR is host:port");

    // A subject of its own, so parallel tests find only their mail.
    let subject = unique_name("smoke");
    let from: Mailbox = "baas smoke <smoke@baas.test>".parse().expect("from");
    let to: Mailbox = "someone@baas.test".parse().expect("to");
    let message = Message::builder()
        .from(from)
        .to(to)
        .subject(subject.as_str())
        .body(String::from("hello smtp"))
        .expect("message");

    let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(addr.ip().to_string())
        .port(addr.port())
        .build();
    let response = transport.send(message).await.expect("send");
    assert!(response.is_positive(), "server refused: {response:?}");

    // The Mailbox handler writes the message before it answers 250.
    let found = find_mail(Path::new(&maildir), &subject).expect("mail in the Maildir");
    let text = std::fs::read_to_string(&found).expect("read mail");
    assert!(text.contains("hello smtp"), "body missing: {text}");
    assert!(
        text.contains("someone@baas.test"),
        "recipient missing: {text}"
    );
    std::fs::remove_file(found).expect("clean up");
}

/// The file under `maildir/new` (or `cur`) whose content mentions `subject`.
fn find_mail(maildir: &Path, subject: &str) -> Option<std::path::PathBuf> {
    ["new", "cur"]
        .iter()
        .filter_map(|sub| std::fs::read_dir(maildir.join(sub)).ok())
        .flatten()
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .find(|path| std::fs::read_to_string(path).is_ok_and(|text| text.contains(subject)))
}
