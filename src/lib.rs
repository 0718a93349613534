//! storyline: an event-sourced backend that tracks developing news stories.
//!
//! - [`domain`] is pure: identifiers, event payloads, validation and the fold.
//! - [`store`] owns every SQL statement: append, read, notify, tokens.
//! - [`http`] is the router: health, readiness, limits.

pub mod domain;
pub mod exchange;
pub mod http;
pub mod progress;
pub mod projection;
pub mod store;
pub mod telemetry;
