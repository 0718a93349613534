//! The pure core: no I/O, no async.

mod ids;

pub use ids::{EventId, Position, StoryId, Version};
