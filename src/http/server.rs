//! Accepting connections: HTTP/1.1 on hyper with the limits axum::serve
//! does not set. A peer has [`ConnectionLimits::header_read`] to send a
//! request's headers, whether it is a new connection or a kept-alive one
//! (slowloris clients and idle connections otherwise held a descriptor
//! each, 2,515 of them in the probe); beyond [`ConnectionLimits::open`]
//! open connections a new one gets 503 and is closed.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use tower::ServiceExt;

/// How many connections and how slow a peer may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// Connections open at once (WebSocket ones included while they are
    /// being upgraded; an upgraded socket keeps its own count).
    pub open: usize,
    /// How long a peer has to send a request's headers, from the moment
    /// the connection waits for a request.
    pub header_read: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            open: 1024,
            header_read: Duration::from_secs(10),
        }
    }
}

/// A connection's place among the open ones, in each of its requests'
/// extensions: a WebSocket upgrade takes it and holds it while the socket
/// is open, so that sockets count toward the cap as long as they live.
#[derive(Clone)]
pub struct ConnectionPlace(Arc<Mutex<Option<OwnedSemaphorePermit>>>);

impl ConnectionPlace {
    /// The place, once: the first upgrade of the connection takes it.
    pub fn take(&self) -> Option<OwnedSemaphorePermit> {
        self.0.lock().ok().and_then(|mut place| place.take())
    }
}

/// Raises this process's limit of open descriptors to the hard limit, so
/// that the cap on open connections, not the kernel's soft default (often
/// 1,024), decides when a peer is turned away. The new limit, or the error.
pub fn raise_descriptor_limit() -> std::io::Result<u64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write the struct given.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    limit.rlim_cur = limit.rlim_max;
    // SAFETY: as above.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(limit.rlim_cur)
}

/// How long shutdown waits for open connections to finish.
const DRAIN_LIMIT: Duration = Duration::from_secs(30);

/// What a connection past the limit is told before it is closed.
const TOO_MANY: &str = r#"{"errors":[{"message":"too many open connections; retry shortly"}]}"#;

/// Serves `router` on `listener` until `shutdown` completes, then lets the
/// requests in flight finish (kept-alive connections close after them).
pub async fn serve_connections(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
) {
    let open = Arc::new(Semaphore::new(limits.open));
    let (stopping, stop) = watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let tcp = match accepted {
            Ok((tcp, _)) => tcp,
            Err(error) => {
                // Out of descriptors, say: wait a moment rather than spin.
                tracing::warn!(%error, "cannot accept a connection");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        if let Err(error) = tcp.set_nodelay(true) {
            tracing::debug!(%error, "cannot set TCP_NODELAY");
        }
        let Ok(permit) = open.clone().try_acquire_owned() else {
            tokio::spawn(refuse(tcp));
            continue;
        };
        let place = ConnectionPlace(Arc::new(Mutex::new(Some(permit))));
        let service = TowerToHyperService::new(router.clone().map_request(
            move |mut request: axum::extract::Request<hyper::body::Incoming>| {
                request.extensions_mut().insert(place.clone());
                request
            },
        ));
        let stop = stop.clone();
        tokio::spawn(async move {
            // The place goes with the connection, unless a socket took it.
            serve_one(tcp, service, limits, stop).await;
        });
    }
    drop(listener);
    let _ = stopping.send(true);
    // Every connection gives its permit back once it has finished; sockets
    // (which hold one too) are closing meanwhile, and are waited for apart.
    let all = u32::try_from(limits.open).unwrap_or(u32::MAX);
    let _ = tokio::time::timeout(DRAIN_LIMIT, open.acquire_many(all)).await;
}

async fn serve_one<S>(
    tcp: TcpStream,
    service: TowerToHyperService<S>,
    limits: ConnectionLimits,
    mut stop: watch::Receiver<bool>,
) where
    S: tower::Service<
            axum::extract::Request<hyper::body::Incoming>,
            Response = axum::response::Response,
            Error = std::convert::Infallible,
        > + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read)
        .keep_alive(true);
    let connection = builder
        .serve_connection(TokioIo::new(tcp), service)
        .with_upgrades();
    tokio::pin!(connection);
    let served = tokio::select! {
        served = connection.as_mut() => served,
        () = stopped(&mut stop) => {
            connection.as_mut().graceful_shutdown();
            connection.await
        }
    };
    if let Err(error) = served {
        tracing::debug!(%error, "connection ended");
    }
}

/// Completes once the server stops accepting.
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|stopping| *stopping).await;
}

async fn refuse(mut tcp: TcpStream) {
    let answer = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json; charset=utf-8\r\n\
         retry-after: 1\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{TOO_MANY}",
        TOO_MANY.len()
    );
    let _ = tcp.write_all(answer.as_bytes()).await;
    let _ = tcp.shutdown().await;
}
