//! The pure core: no I/O, no async.
//!
//! - [`model`]: value types spelled as in the contract;
//! - [`events`]: the five event payloads, decoding and upcasting;
//! - [`validate`]: rules every payload obeys before it is stored;
//! - [`fold`]: `apply(state, event)`, the only way state changes;
//! - [`view`]: the contract's StoryState derived from a fold, under a cut;
//! - [`replay`]: `state_at` and `changes` on the two time axes;
//! - [`search`]: the search documents of stories and developments, and queries;
//! - [`exchange`]: the NDJSON lines of import and export.

pub mod events;
pub mod exchange;
pub mod extract;
pub mod fold;
mod ids;
pub mod model;
pub mod replay;
pub mod report;
pub mod search;
pub mod validate;
pub mod view;

pub use ids::{EventId, Position, StoryId, Version};

#[cfg(test)]
mod evidence_tests;
#[cfg(test)]
mod tests;
