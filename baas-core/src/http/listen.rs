//! [`bind`]: the TCP listener every baas HTTP binary serves on.

use axum::serve::{ListenerExt as _, TapIo};
use tokio::net::{TcpListener, TcpStream, ToSocketAddrs};

/// A [`TcpListener`] whose accepted connections have `TCP_NODELAY` set.
pub type NoDelayListener = TapIo<TcpListener, fn(&mut TcpStream)>;

/// Bind `addr` for `axum::serve`, with `TCP_NODELAY` on every accepted connection.
///
/// Responses are often written in several pieces (headers, then a streamed body).
/// Without `TCP_NODELAY`, Nagle's algorithm holds the last piece until the client's
/// delayed ACK, about 40 ms per response.
///
/// ```no_run
/// # async fn run() -> std::io::Result<()> {
/// use axum::serve::Listener as _;
///
/// let listener = baas_core::http::bind("127.0.0.1:8080").await?;
/// let _address = listener.local_addr()?;
/// axum::serve(listener, axum::Router::new()).await?;
/// # Ok(())
/// # }
/// ```
pub async fn bind(addr: impl ToSocketAddrs) -> std::io::Result<NoDelayListener> {
    let listener = TcpListener::bind(addr).await?;
    Ok(listener.tap_io(set_nodelay as fn(&mut TcpStream)))
}

fn set_nodelay(tcp: &mut TcpStream) {
    if let Err(err) = tcp.set_nodelay(true) {
        tracing::warn!(%err, "could not set TCP_NODELAY");
    }
}
