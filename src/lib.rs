//! storyline: an event-sourced backend that tracks developing news stories.
//!
//! - [`domain`] is pure: identifiers, event payloads, validation and the fold.
//! - [`store`] owns every SQL statement: append, read, notify, tokens.
//! - [`api`] is the GraphQL layer over the store and the fold.
//! - [`http`] is the router: GraphQL over HTTP and WebSocket, health,
//!   readiness, metrics, limits.
//! - [`feeds`] follows RSS, Atom, JSON Feed and ninjs feeds into reports.
//! - [`relay`] publishes every event, in order, once, to NATS JetStream.
//! - [`replicas`] sends reads to streaming replicas, waiting for a
//!   reader's own writes to arrive there.
//! - [`offload`] runs CPU-heavy folds and views off the async workers.
//! - [`desk`] is the web desk: its pages (embedded from `desk/`) and a
//!   story's exports.

pub mod api;
pub mod desk;
pub mod domain;
pub mod exchange;
pub mod feeds;
pub mod http;
pub mod metrics;
pub mod offload;
pub mod progress;
pub mod projection;
pub mod relay;
pub mod replicas;
pub mod store;
pub mod telemetry;
