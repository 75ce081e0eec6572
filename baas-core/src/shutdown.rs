//! Graceful shutdown: a future that resolves when the process is asked to stop.
//!
//! Every binary that serves requests or runs workers waits on the same two signals:
//! SIGINT (Ctrl-C in a terminal) and SIGTERM (what Kubernetes, systemd and
//! `docker stop` send). Pass [`signal`] to axum's `with_graceful_shutdown`, or select on
//! it to cancel a worker runtime's token.
//!
//! ```no_run
//! # async fn run() {
//! // With axum: `axum::serve(listener, app).with_graceful_shutdown(baas_core::shutdown::signal())`.
//! // Elsewhere, fan the signal out to whatever must drain:
//! let (stop, mut stopped) = tokio::sync::watch::channel(false);
//! tokio::spawn(async move {
//!     baas_core::shutdown::signal().await;
//!     let _ = stop.send(true);
//! });
//! stopped.changed().await.unwrap();
//! // stop reserving work, let in-flight work finish…
//! # }
//! ```

/// Resolves on the first SIGINT (Ctrl-C) or, on Unix, SIGTERM. If a handler cannot be
/// installed, that signal is simply never seen (the other still is).
pub async fn signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
