//! The HTTP surface: router, limits, health, readiness and metrics. GraphQL
//! over HTTP and WebSocket is in [`graphql`].

pub mod graphql;
mod server;

pub use server::ConnectionLimits;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use futures_util::StreamExt;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::TraceLayer;

use crate::api::{self, ApiServices, SharedSnapshots, StorylineSchema};
use crate::metrics::Metrics;
use crate::replicas::{Health, ReplicaSet};
use crate::store::{LiveFeed, Store};

/// Request bodies above this are refused with 413 (DESIGN §5).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// How often WebSocket peers are pinged unless configured.
pub const DEFAULT_WS_PING: Duration = Duration::from_secs(15);

/// How long a request may take, unless set (`STORYLINE_REQUEST_TIMEOUT`).
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a WebSocket peer has to send connection_init, unless set.
pub const DEFAULT_WS_INIT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long shutdown waits for WebSocket connections to close.
const SOCKETS_GRACE: Duration = Duration::from_secs(5);

/// How long /readyz waits for the database before calling it unreachable.
const READINESS_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub live: LiveFeed,
    /// How many WebSocket connections are open; shutdown waits for none.
    pub sockets: Arc<watch::Sender<usize>>,
    /// How often WebSocket peers are pinged; three unanswered pings close
    /// the connection.
    pub ws_ping: Duration,
    /// How long a WebSocket peer has to send connection_init before the
    /// socket is closed with 4408.
    pub ws_init_timeout: Duration,
    /// How long a GraphQL request over HTTP may take before it is answered
    /// UNAVAILABLE (its statements are bounded by the same time, see
    /// `ConnectOptions::statement_timeout`).
    pub request_timeout: Duration,
    /// How many connections may be open and how slow a peer may be.
    pub connections: ConnectionLimits,
    pub schema: StorylineSchema,
    pub metrics: Metrics,
    /// Every request but health, readiness and metrics needs a live token.
    pub private: bool,
    /// Streaming replicas that serve queries, if any (DESIGN §13).
    pub replicas: Option<Arc<ReplicaSet>>,
    /// The snapshots kept in memory, whichever database they were read from.
    pub snapshots: SharedSnapshots,
}

impl AppState {
    /// The server's state over `store`.
    pub fn new(store: Store) -> AppState {
        let metrics = Metrics::new();
        let live = store.live_feed();
        let snapshots = SharedSnapshots::default();
        let schema = api::schema(ApiServices {
            store: store.clone(),
            live: live.clone(),
            metrics: metrics.clone(),
            snapshots: snapshots.clone(),
        });
        AppState {
            store,
            live,
            sockets: Arc::new(watch::channel(0).0),
            ws_ping: DEFAULT_WS_PING,
            ws_init_timeout: DEFAULT_WS_INIT_TIMEOUT,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            connections: ConnectionLimits::default(),
            schema,
            metrics,
            private: false,
            replicas: None,
            snapshots,
        }
    }
}

impl AppState {
    /// Where queries read, when the server has replicas.
    pub fn read_routing(&self) -> Option<api::routing::ReadRouting> {
        self.replicas
            .as_ref()
            .map(|replicas| api::routing::ReadRouting {
                replicas: replicas.clone(),
                snapshots: self.snapshots.clone(),
                metrics: self.metrics.clone(),
            })
    }
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route(
            "/graphql",
            get(graphql::graphql_get).post(graphql::graphql_post),
        )
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .merge(crate::desk::routes())
        .layer(axum::middleware::from_fn(no_store_with_a_token))
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(refuse_oversized_bodies))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// An answer to a request that carried a token may hold what only token
/// holders read (INTERNAL stories, reports): no cache keeps it.
async fn no_store_with_a_token(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let with_token = request
        .headers()
        .contains_key(axum::http::header::AUTHORIZATION);
    let mut response = next.run(request).await;
    if with_token {
        response.headers_mut().insert(
            axum::http::header::CACHE_CONTROL,
            axum::http::HeaderValue::from_static("no-store"),
        );
    }
    response
}

/// The most of a refused body read and dropped before answering 413.
const MAX_DRAINED_BYTES: u64 = 16 * 1024 * 1024;
/// How long a refused body may take to arrive before the answer goes out.
const DRAIN_TIME: Duration = Duration::from_secs(5);

/// A body declared larger than [`MAX_BODY_BYTES`] gets 413. It is read and
/// dropped first (up to [`MAX_DRAINED_BYTES`], within [`DRAIN_TIME`]):
/// closing a connection with unread data makes the kernel reset it, and the
/// client then sees a reset instead of the answer.
async fn refuse_oversized_bodies(request: Request, next: Next) -> Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    let Some(declared) = declared.filter(|&n| n > MAX_BODY_BYTES as u64) else {
        return next.run(request).await;
    };
    if declared <= MAX_DRAINED_BYTES {
        let mut body = request.into_body().into_data_stream();
        let drained = async { while let Some(Ok(_)) = body.next().await {} };
        let _ = tokio::time::timeout(DRAIN_TIME, drained).await;
    }
    let mut response = (
        StatusCode::PAYLOAD_TOO_LARGE,
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        r#"{"errors":[{"message":"the request body is larger than 1 MiB"}]}"#,
    )
        .into_response();
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// The process is up.
async fn healthz() -> &'static str {
    "ok"
}

/// The process can serve: its database answers. When it cannot, whether
/// the database is out of reach or every pooled connection is busy.
async fn readyz(State(state): State<AppState>) -> Response {
    let exhausted_before = state.store.is_pool_exhausted();
    let reachable = tokio::time::timeout(READINESS_TIMEOUT, state.store.is_reachable()).await;
    let (status, text) = match reachable {
        Ok(true) => (StatusCode::OK, "ready"),
        _ if exhausted_before && state.store.is_pool_exhausted() => {
            (StatusCode::SERVICE_UNAVAILABLE, "pool exhausted")
        }
        _ => (StatusCode::SERVICE_UNAVAILABLE, "database unreachable"),
    };
    match &state.replicas {
        None => (status, text).into_response(),
        // With replicas, what each is: readiness is the primary's alone.
        Some(replicas) => (status, axum::Json(replica_report(text, replicas))).into_response(),
    }
}

/// `/readyz` with replicas: the primary's readiness and each replica's
/// state and lag in seconds.
fn replica_report(primary: &str, replicas: &ReplicaSet) -> serde_json::Value {
    let listed: Vec<serde_json::Value> = replicas
        .replicas()
        .iter()
        .map(|replica| match replica.health() {
            Health::Up { lag, .. } => serde_json::json!({
                "name": replica.name,
                "state": if lag <= replicas.max_lag() { "up" } else { "lagging" },
                "lag": if lag == Duration::MAX { None } else { Some(lag.as_secs_f64()) },
            }),
            Health::Down(why) => serde_json::json!({
                "name": replica.name, "state": "down", "lag": null, "error": why,
            }),
            Health::Unknown => serde_json::json!({
                "name": replica.name, "state": "unknown", "lag": null,
            }),
        })
        .collect();
    serde_json::json!({ "status": primary, "replicas": listed })
}

/// The metrics in OpenMetrics when the scraper asks for it, in
/// Prometheus's text format otherwise (what Prometheus reads by default).
async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> impl IntoResponse {
    let wants_openmetrics = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .any(|accept| accept.contains("application/openmetrics-text"));
    if wants_openmetrics {
        (
            [(header::CONTENT_TYPE, OPENMETRICS_TEXT)],
            state.metrics.render(),
        )
    } else {
        (
            [(header::CONTENT_TYPE, PROMETHEUS_TEXT)],
            state.metrics.render_prometheus_text(),
        )
    }
}

const OPENMETRICS_TEXT: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Serves until SIGTERM or Ctrl-C, then lets in-flight requests finish.
pub async fn serve(listener: TcpListener, state: AppState) -> std::io::Result<()> {
    match server::raise_descriptor_limit() {
        Ok(limit) => tracing::debug!(limit, "open descriptors allowed"),
        Err(error) => tracing::warn!(%error, "cannot raise the limit of open descriptors"),
    }
    serve_until(listener, state, shutdown_signal()).await
}

/// Serves until `shutdown` completes: subscriptions then complete and their
/// sockets close, and HTTP requests in flight finish.
pub async fn serve_until(
    listener: TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    match listener.local_addr() {
        Ok(address) => tracing::info!(%address, "listening"),
        Err(error) => tracing::warn!(%error, "listening on an address it cannot tell"),
    }
    let live = state.live.clone();
    let mut sockets = state.sockets.subscribe();
    let limits = state.connections;
    let shutdown = async move {
        shutdown.await;
        live.shutdown();
    };
    server::serve_connections(listener, router(state), limits, shutdown).await;
    // Upgraded connections are not HTTP requests: wait for them apart.
    let closed = tokio::time::timeout(SOCKETS_GRACE, sockets.wait_for(|open| *open == 0)).await;
    if closed.is_err() {
        tracing::warn!("WebSocket connections still open at shutdown");
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::warn!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}
