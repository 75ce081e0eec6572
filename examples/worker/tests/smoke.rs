//! Run the real binary on a SQLite queue in a temporary directory: once as a batch
//! (`--enqueue 3 --until-idle`), once as a service stopped by SIGTERM. The test reads
//! the outcome from the queue itself.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use baas_core::TenantId;
use baas_queue::sql::SqlQueue;
use baas_queue::{Queue, QueueExt};
use baas_store::Database;
use serde_json::json;

/// The queue the binary will open in `dir` (its default `./data/baas.db`).
async fn queue_in(dir: &std::path::Path) -> SqlQueue {
    let url = format!("sqlite://{}/data/baas.db?mode=rwc", dir.display());
    let queue = SqlQueue::new(Database::connect(&url).await.expect("database"));
    queue.migrate().await.expect("migrate");
    queue
}

fn worker(dir: &std::path::Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_worker"));
    cmd.current_dir(dir)
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("BAAS_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    cmd
}

/// Send SIGTERM and wait; whether the process exited with success.
fn terminate(child: &mut Child) -> bool {
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let deadline = Instant::now() + Duration::from_secs(40);
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            return status.success();
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    false
}

#[tokio::test]
async fn until_idle_processes_good_jobs_and_dead_letters_bad_ones() {
    let dir = tempfile::tempdir().expect("tempdir");
    let queue = queue_in(dir.path()).await;
    let acme = TenantId::new("acme").unwrap();
    queue
        .enqueue_json(
            "reports",
            &acme,
            &json!({"to": "nobody", "subject": "Monthly"}),
        )
        .await
        .unwrap();

    let status = worker(dir.path(), &["--enqueue", "3", "--until-idle"])
        .status()
        .expect("run the worker");
    assert!(status.success());

    let stats = queue.stats("reports").await.unwrap();
    assert_eq!(stats.depth, Some(0), "every job was taken");
    assert_eq!(stats.in_flight, Some(0), "and settled");
    assert_eq!(stats.dead, Some(1), "only the bad address is dead");
    let dead = queue.dead_letters("reports", 10).await.unwrap();
    assert!(dead[0].reason.contains("not an email address"), "{dead:?}");
    assert_eq!(dead[0].attempts, 1, "a client error is not retried");
}

#[tokio::test]
async fn works_the_queue_until_sigterm() {
    let dir = tempfile::tempdir().expect("tempdir");
    let queue = queue_in(dir.path()).await;
    let acme = TenantId::new("acme").unwrap();
    for n in 0..2 {
        queue
            .enqueue_json(
                "reports",
                &acme,
                &json!({"to": format!("u{n}@example.com"), "subject": "Daily"}),
            )
            .await
            .unwrap();
    }

    let mut child = worker(dir.path(), &[]).spawn().expect("start the worker");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let stats = queue.stats("reports").await.unwrap();
        if stats.depth == Some(0) && stats.in_flight == Some(0) {
            assert_eq!(stats.dead, Some(0));
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the worker did not drain the queue"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        matches!(child.try_wait(), Ok(None)),
        "still running when idle"
    );
    assert!(terminate(&mut child), "the worker did not stop cleanly");
}
