//! The Subscription root: the global feed, live.

use std::collections::VecDeque;
use std::time::Duration;

use async_graphql::{Context, Subscription as SubscriptionRoot};
use futures_util::stream::{self, Stream};
use uuid::Uuid;

use super::errors::ApiError;
use super::query::store;
use super::types::Event;
use crate::domain::{Position, StoryId};
use tokio::sync::watch;

use crate::store::{FeedFilter, LiveFeed, RecordedEvent, Store, StoreError};

/// Events read from the feed at a time.
const READ_BATCH: i64 = 500;

/// How long a subscriber waits for a wake-up before reading anyway: the
/// bound on delay should a notification be lost.
const POLL_INTERVAL: Duration = Duration::from_secs(1);

pub struct Subscription;

#[SubscriptionRoot]
impl Subscription {
    /// Events as they commit, in global position order. With afterPosition it first replays what came after that position, then goes live, with no gap and no duplicate.
    async fn events(
        &self,
        ctx: &Context<'_>,
        story_id: Option<Uuid>,
        after_position: Option<String>,
    ) -> async_graphql::Result<impl Stream<Item = Event>> {
        let store = store(ctx)?.clone();
        let live = ctx
            .data::<LiveFeed>()
            .map_err(|_| ApiError::Internal("the server is misconfigured"))?
            .clone();
        let after = match after_position {
            Some(text) => text.trim().parse::<Position>().map_err(|_| {
                ApiError::bad_input(format!(
                    "afterPosition {text:?} is not a position (a decimal integer)"
                ))
            })?,
            None => store.settled_head().await.map_err(ApiError::from)?,
        };
        let wake = live.subscribe().await.map_err(ApiError::from)?;
        let reader = FeedReader {
            store,
            wake,
            filter: FeedFilter {
                story: story_id.map(StoryId),
                types: None,
            },
            after,
            ready: VecDeque::new(),
        };
        Ok(stream::unfold(reader, |mut reader| async move {
            let event = reader.next().await?;
            Some((Event(event), reader))
        }))
    }
}

/// One subscriber's place in the feed.
struct FeedReader {
    store: Store,
    /// Held for the subscription's life: it keeps the LISTEN open.
    wake: watch::Receiver<u64>,
    filter: FeedFilter,
    after: Position,
    ready: VecDeque<RecordedEvent>,
}

impl FeedReader {
    /// The next event after the last one delivered, waiting for it if
    /// need be; `None` ends the stream (the server is shutting down).
    async fn next(&mut self) -> Option<RecordedEvent> {
        loop {
            if let Some(event) = self.ready.pop_front() {
                self.after = event.position;
                return Some(event);
            }
            // Wake-ups that arrive while we read are kept for `changed`.
            self.wake.borrow_and_update();
            match self
                .store
                .read_feed(self.after, READ_BATCH, &self.filter)
                .await
            {
                Ok(events) if !events.is_empty() => {
                    self.ready.extend(events);
                    continue;
                }
                Ok(_) => {}
                // The server is shutting down.
                Err(StoreError::Database(sqlx::Error::PoolClosed)) => return None,
                Err(error) => tracing::warn!(%error, "subscription could not read the feed"),
            }
            if let Ok(Err(_closed)) = tokio::time::timeout(POLL_INTERVAL, self.wake.changed()).await
            {
                return None;
            }
        }
    }
}
