//! The accept loop: hyper with the limits `axum::serve` does not expose. A client gets a bounded
//! time to send its request head (slowloris), the number of open connections is capped, and
//! every request learns its peer address (the login limiter counts per address).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

/// Connection limits.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Time from accept (or the end of the previous request) to a complete request head.
    pub header_read_timeout: Duration,
    /// Open connections at once; beyond it new connections wait in the kernel's backlog.
    pub max_connections: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self { header_read_timeout: Duration::from_secs(10), max_connections: 10_000 }
    }
}

/// Tags each request with the connection's peer (`ConnectInfo`, as axum's own server does).
fn with_peer<B>(peer: SocketAddr) -> impl Fn(axum::http::Request<B>) -> axum::http::Request<B> + Clone {
    move |mut req| {
        req.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
        req
    }
}

/// Serves `app` on `listener` until `shutdown` resolves, then lets open requests finish.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send,
) -> std::io::Result<()> {
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let mut builder = Builder::new(TokioExecutor::new());
    builder.http1().timer(TokioTimer::new()).header_read_timeout(limits.header_read_timeout);
    let builder = Arc::new(builder);
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            p = permits.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and similar: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let svc = tower::ServiceBuilder::new().map_request(with_peer(peer)).service(app.clone());
        let svc = hyper_util::service::TowerToHyperService::new(svc);
        let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), svc).into_owned();
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
            drop(permit);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}
