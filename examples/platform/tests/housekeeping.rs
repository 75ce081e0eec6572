//! The retention sweepers the worker role runs (DESIGN.md rule 11): every one of them is
//! wired to the installation's real stores and runs on a fresh SQLite installation.

use platform::app::App;
use platform::config::Config;

#[tokio::test]
async fn every_sweeper_of_the_installation_runs() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().display().to_string();
    let mut config = Config::from_lookup(|name| match name {
        "BAAS_DATABASE_URL" => Some(format!("sqlite://{root}/baas.db?mode=rwc")),
        "BAAS_OBJECT_STORE_URL" => Some(format!("file://{root}/objects")),
        "BAAS_SWEEP_INTERVAL" => Some("120".to_owned()),
        _ => None,
    })
    .unwrap();
    config.master_key_file = dir.path().join("master.key");
    let app = App::build(&config).await.unwrap();

    assert_eq!(app.housekeeping.interval().as_secs(), 120);
    assert_eq!(
        app.housekeeping.task_names(),
        [
            "idempotency",
            "sessions",
            "api_keys",
            "login_failures",
            "deliveries",
            "queue_dedupe"
        ]
    );
    let report = app.housekeeping.run_once().await;
    assert_eq!(report.len(), 6);
    for (task, outcome) in report {
        assert_eq!(
            outcome.ok(),
            Some(0),
            "{task}: a fresh installation has nothing to sweep"
        );
    }
}
