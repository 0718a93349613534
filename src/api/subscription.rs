//! The Subscription root: the global feed, replayed from a position and
//! then live, with no gap and no duplicate at the seam.
//!
//! A subscriber joins the process's live feed first and only then replays
//! from the table: every event the live feed sent before it joined is at or
//! below the feed's head at that moment, which the replay reaches (it reads
//! until the settled end of the feed); every later event is on its receiver.
//! Positions only grow, so anything at or below the last one delivered is a
//! duplicate and is skipped.

use std::collections::VecDeque;
use std::sync::Arc;

use async_graphql::{Context, ErrorExtensions, Subscription as SubscriptionRoot};
use futures_util::stream::{self, Stream};
use uuid::Uuid;

use super::context::{public_only, store};
use super::errors::ApiError;
use super::reports::Report;
use super::types::Event;
use crate::domain::{Position, StoryId};
use crate::store::{
    Credential, FeedFilter, LiveFeed, LiveItem, LiveSubscription, RecordedEvent, ReportArrivals,
    Store,
};

/// Events replayed from the table per statement.
const REPLAY_BATCH: i64 = 500;

/// The code of the error that ends a subscription which fell too far
/// behind; `resumeAfterPosition` in its extensions says where to pick up.
pub const RESUME_REQUIRED: &str = "RESUME_REQUIRED";

pub struct Subscription;

#[SubscriptionRoot]
impl Subscription {
    /// Events as they commit, in global position order. With afterPosition it first replays what came after that position, then goes live, with no gap and no duplicate.
    ///
    /// A subscriber that falls more than 4,096 events behind gets a RESUME_REQUIRED error whose extensions carry `resumeAfterPosition`, and the subscription ends; subscribe again with that afterPosition.
    async fn events(
        &self,
        ctx: &Context<'_>,
        story_id: Option<Uuid>,
        after_position: Option<String>,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<Event>>> {
        let store = store(ctx)?.clone();
        let live = ctx
            .data::<LiveFeed>()
            .map_err(|_| ApiError::Internal("the server is misconfigured"))?;
        let after = after_position
            .map(|text| {
                text.trim().parse::<Position>().map_err(|_| {
                    ApiError::bad_input(format!(
                        "afterPosition {text:?} is not a position (a decimal integer)"
                    ))
                })
            })
            .transpose()?;
        let subscription = live.subscribe().await.map_err(ApiError::from)?;
        let delivered = after.unwrap_or(subscription.head_at_start);
        let feed = Feed {
            store,
            filter: FeedFilter {
                story: story_id.map(StoryId),
                types: None,
                public_only: public_only(ctx),
            },
            live: subscription,
            delivered,
            replaying: after.is_some(),
            ready: VecDeque::new(),
            ended: false,
        };
        Ok(stream::unfold(feed, |mut feed| async move {
            let item = feed.next().await?;
            Some((item, feed))
        }))
    }

    /// Reports as they are received (needs a live token).
    ///
    /// The token is checked again before each report is sent: a revoked
    /// token's subscription ends with UNAUTHENTICATED.
    async fn reports(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<Report>>> {
        let credential = super::reports::reader(ctx)?;
        let store = store(ctx)?.clone();
        let arrivals = store.report_arrivals().await.map_err(ApiError::from)?;
        Ok(stream::unfold(
            Some((store, arrivals, credential)),
            |state| async move {
                let (store, mut arrivals, credential) = state?;
                let item = next_report(&store, &mut arrivals, &credential).await;
                let ended = item.is_err();
                Some((item, (!ended).then_some((store, arrivals, credential))))
            },
        ))
    }
}

/// The next report received, read whole, if its subscriber's token is live.
async fn next_report(
    store: &Store,
    arrivals: &mut ReportArrivals,
    credential: &Credential,
) -> async_graphql::Result<Report> {
    loop {
        let id = arrivals.next().await.map_err(ApiError::from)?;
        if !store
            .is_credential_live(credential)
            .await
            .map_err(ApiError::from)?
        {
            return Err(ApiError::Unauthenticated(super::errors::TOKEN_NOT_LIVE).into());
        }
        if let Some(stored) = store.report(id).await.map_err(ApiError::from)? {
            return Ok(Report::new(stored));
        }
    }
}

/// One subscriber's place in the feed.
struct Feed {
    store: Store,
    filter: FeedFilter,
    live: LiveSubscription,
    /// The last position delivered (or the one to start after).
    delivered: Position,
    /// Still reading from the table; live events wait on the receiver.
    replaying: bool,
    ready: VecDeque<Arc<RecordedEvent>>,
    ended: bool,
}

impl Feed {
    /// The next event, an error that ends the subscription, or `None`.
    async fn next(&mut self) -> Option<async_graphql::Result<Event>> {
        if self.ended {
            return None;
        }
        loop {
            if let Some(event) = self.ready.pop_front() {
                self.delivered = event.position;
                return Some(Ok(Event(event)));
            }
            if self.replaying {
                match self.replay_batch().await {
                    Ok(()) => continue,
                    Err(error) => return Some(Err(self.end_with(error))),
                }
            }
            match self.live.next().await? {
                LiveItem::Event(live) => {
                    let fresh = live.event.position > self.delivered;
                    if fresh && self.filter.admits(&live.event, live.public) {
                        self.ready.push_back(live.event);
                    }
                }
                LiveItem::FellBehind => {
                    self.ended = true;
                    return Some(Err(resume_required(self.delivered)));
                }
            }
        }
    }

    /// Reads the next batch after the last delivered event; an incomplete
    /// batch means the settled end of the feed, where the live feed takes
    /// over.
    async fn replay_batch(&mut self) -> Result<(), ApiError> {
        let events = self
            .store
            .read_feed(self.delivered, REPLAY_BATCH, &self.filter)
            .await?;
        if events.len() < REPLAY_BATCH as usize {
            self.replaying = false;
        }
        self.ready.extend(events.into_iter().map(Arc::new));
        Ok(())
    }

    fn end_with(&mut self, error: ApiError) -> async_graphql::Error {
        self.ended = true;
        error.into()
    }
}

/// The error that ends a subscription which fell too far behind.
fn resume_required(resume: Position) -> async_graphql::Error {
    async_graphql::Error::new(format!(
        "this subscriber fell too far behind the live feed; \
         subscribe again with afterPosition: \"{resume}\""
    ))
    .extend_with(|_, extensions| {
        extensions.set("code", RESUME_REQUIRED);
        extensions.set("resumeAfterPosition", resume.to_string());
    })
}
