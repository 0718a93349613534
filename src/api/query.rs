//! The Query root and the Story type: thin resolvers over the store and the
//! fold.

use async_graphql::{Context, Object};
use chrono::{DateTime, Utc};
use tokio::sync::OnceCell;
use uuid::Uuid;

use super::budget::charge_work;
use super::connection::{page_cost, Connection, Page, PageArgs, TotalCount};
use super::context::{current_fold, public_only, store, viewer};
use super::errors::{ApiError, ApiResult};
use super::inputs::{StoryStatus, StoryVisibility};
use super::reports::{Feed, Report, ReportConnection, ReportStatus};
use super::types::{Event, StoryChanges, StoryState};
use crate::domain::events::EventType;
use crate::domain::fold::StoryFold;
use crate::domain::replay::changes;
use crate::domain::view::story_state;
use crate::domain::{Position, StoryId, Version};
use crate::offload::{when_heavy, HEAVY_DEVELOPMENTS};
use crate::store::{
    FeedFilter, HistoryFilter, StoreError, StoryFilter, StoryHeader, StoryListKey, VersionWindow,
};

/// What a snapshot costs beyond its fields, before the budget charges the
/// size of the story it views: a full page of 500 stories with their
/// titles still fits the complexity limit.
pub const SNAPSHOT_COST: usize = 5;

/// What a replay or a comparison costs beyond its fields: at most 50 in
/// one request.
pub const REPLAY_COST: usize = 200;

/// The developments a view of `fold` visits.
fn fold_size(fold: &StoryFold) -> usize {
    fold.developments.len() + fold.retracted.len() + 1
}

pub type StoryConnection = Connection<Story>;
pub type EventConnection = Connection<Event>;

/// Event types from a `types:` argument, each one the contract knows.
fn event_types(types: Option<Vec<String>>) -> ApiResult<Option<Vec<EventType>>> {
    let Some(types) = types else { return Ok(None) };
    let parsed = types.iter().map(|name| {
        name.parse::<EventType>().map_err(|_| {
            let known: Vec<&str> = EventType::ALL.iter().map(|t| t.as_str()).collect();
            ApiError::bad_input(format!(
                "unknown event type {name:?}; the types are {}",
                known.join(", ")
            ))
        })
    });
    parsed.collect::<ApiResult<Vec<_>>>().map(Some)
}

pub struct Query;

#[Object]
impl Query {
    /// A story by id or by slug (exactly one of them); null when it does not exist.
    async fn story(
        &self,
        ctx: &Context<'_>,
        id: Option<Uuid>,
        slug: Option<String>,
    ) -> ApiResult<Option<Story>> {
        let store = store(ctx)?;
        let header = match (id, slug) {
            (Some(id), None) => store.story_header(StoryId(id)).await?,
            (None, Some(slug)) => store.story_header_by_slug(slug.trim()).await?,
            _ => return Err(ApiError::bad_input("give exactly one of `id` and `slug`")),
        };
        // Without a token an INTERNAL story does not exist (DESIGN §10).
        let viewer = viewer(ctx);
        Ok(header
            .filter(|h| viewer.may_read(h))
            .map(Story::from_header))
    }

    /// A report by id; null when it does not exist. Needs a live token (any scope).
    async fn report(&self, ctx: &Context<'_>, id: Uuid) -> ApiResult<Option<Report>> {
        super::reports::report(ctx, id).await
    }

    /// Reports, most recently received first. Needs a live token (any scope). search: full-text over title and text.
    ///
    /// At most 500 reports a page: a larger `first` returns 500 and `hasNextPage`.
    #[graphql(complexity = "page_cost(first, None, child_complexity)")]
    async fn reports(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        status: Option<ReportStatus>,
        publisher: Option<String>,
        search: Option<String>,
    ) -> ApiResult<ReportConnection> {
        super::reports::reports(ctx, first, after, status, publisher, search).await
    }

    /// The feeds this server follows, by name. Needs a live token (any scope).
    async fn feeds(&self, ctx: &Context<'_>) -> ApiResult<Vec<Feed>> {
        super::reports::feeds(ctx).await
    }

    /// Stories, most recently updated first; search is full-text over titles, summaries and developments.
    ///
    /// At most 500 stories a page: a larger `first` returns 500 and `hasNextPage`.
    #[graphql(complexity = "page_cost(first, None, child_complexity)")]
    async fn stories(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        status: Option<StoryStatus>,
        search: Option<String>,
        actor: Option<String>,
    ) -> ApiResult<StoryConnection> {
        let store = store(ctx)?;
        let paging = PageArgs::forward(first, after).paging::<StoryListKey>()?;
        let filter = StoryFilter {
            status: status.map(Into::into),
            search: search.filter(|s| !s.trim().is_empty()),
            actor: actor.filter(|a| !a.trim().is_empty()),
            public_only: public_only(ctx),
        };
        let rows = store
            .list_stories(&filter, paging.after, paging.fetch().limit)
            .await?;
        let page = paging.page(rows, StoryHeader::list_key);
        Ok(Connection::new(
            page_of(page, Story::from_header),
            TotalCount::Stories(filter),
        ))
    }

    /// Every event of every story in global commit order (position), for consumers and audits.
    ///
    /// At most 500 events a page: a larger `first` returns 500 and `hasNextPage`.
    #[graphql(complexity = "page_cost(first, None, child_complexity)")]
    async fn events(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        story_id: Option<Uuid>,
        types: Option<Vec<String>>,
    ) -> ApiResult<EventConnection> {
        let store = store(ctx)?;
        let paging = PageArgs::forward(first, after).paging::<Position>()?;
        let filter = FeedFilter {
            story: story_id.map(StoryId),
            types: event_types(types)?,
            public_only: public_only(ctx),
        };
        let rows = store
            .read_feed(
                paging.after.unwrap_or(Position::START),
                paging.fetch().limit,
                &filter,
            )
            .await?;
        let page = paging.page(rows, |e| e.position);
        Ok(Connection::new(
            page_of(page, Event::from),
            TotalCount::Feed(filter),
        ))
    }
}

fn page_of<N, T>(page: Page<N>, wrap: impl Fn(N) -> T) -> Page<T> {
    Page {
        edges: page
            .edges
            .into_iter()
            .map(|(cursor, node)| (cursor, wrap(node)))
            .collect(),
        page_info: page.page_info,
    }
}

/// A story as the API shows it. Lists and lookups bring its header along;
/// after an append only its id, version and update time are known, and the
/// rest is read if a field asks for it.
pub struct Story {
    id: StoryId,
    /// The version and update time an append just gave the story.
    appended: Option<(Version, DateTime<Utc>)>,
    header: OnceCell<StoryHeader>,
}

impl Story {
    pub fn from_header(header: StoryHeader) -> Story {
        Story {
            id: header.id,
            appended: None,
            header: OnceCell::from(header),
        }
    }

    /// The story right after an append that took it to `version`.
    pub fn after_append(id: StoryId, version: Version, updated_at: DateTime<Utc>) -> Story {
        Story {
            id,
            appended: Some((version, updated_at)),
            header: OnceCell::new(),
        }
    }

    async fn header(&self, ctx: &Context<'_>) -> ApiResult<&StoryHeader> {
        self.header
            .get_or_try_init(|| async {
                store(ctx)?
                    .story_header(self.id)
                    .await?
                    .ok_or(ApiError::Internal("the story vanished"))
            })
            .await
    }

    /// `work` over the story's current fold: charged to the request for
    /// the developments it visits, and off the async workers when the
    /// story is long.
    async fn over_current_fold<T: Send + 'static>(
        &self,
        ctx: &Context<'_>,
        work: impl FnOnce(&StoryFold) -> T + Send + 'static,
    ) -> ApiResult<T> {
        let version = self.known_version(ctx).await?;
        let fold = current_fold(ctx, self.id, version).await?;
        charge_work(ctx, fold_size(&fold))?;
        let heavy = fold.developments.len() > HEAVY_DEVELOPMENTS;
        Ok(when_heavy(heavy, move || work(&fold))
            .await
            .map_err(StoreError::from)?)
    }

    async fn known_version(&self, ctx: &Context<'_>) -> ApiResult<Version> {
        match self.appended {
            Some((version, _)) => Ok(version),
            None => Ok(self.header(ctx).await?.version),
        }
    }
}

#[Object]
impl Story {
    async fn id(&self) -> Uuid {
        self.id.0
    }
    async fn slug(&self, ctx: &Context<'_>) -> ApiResult<&str> {
        Ok(&self.header(ctx).await?.slug)
    }
    /// Number of events in the story's stream (its current version).
    async fn version(&self, ctx: &Context<'_>) -> ApiResult<i32> {
        Ok(self.known_version(ctx).await?.0)
    }
    async fn created_at(&self, ctx: &Context<'_>) -> ApiResult<DateTime<Utc>> {
        Ok(self.header(ctx).await?.created_at)
    }
    /// Visibility in force now: INTERNAL while an embargo runs, whatever was set.
    async fn visibility(&self, ctx: &Context<'_>) -> ApiResult<StoryVisibility> {
        Ok(self.header(ctx).await?.visibility_at(Utc::now()).into())
    }
    async fn embargo_until(&self, ctx: &Context<'_>) -> ApiResult<Option<DateTime<Utc>>> {
        Ok(self.header(ctx).await?.embargo_until)
    }
    async fn updated_at(&self, ctx: &Context<'_>) -> ApiResult<DateTime<Utc>> {
        match self.appended {
            Some((_, updated_at)) => Ok(updated_at),
            None => Ok(self.header(ctx).await?.updated_at),
        }
    }

    /// The current state, from the projection.
    #[graphql(complexity = "SNAPSHOT_COST + child_complexity")]
    async fn snapshot(&self, ctx: &Context<'_>) -> ApiResult<StoryState> {
        let state = self
            .over_current_fold(ctx, |fold| story_state(fold, None, None))
            .await?;
        Ok(StoryState(state))
    }

    /// The state replayed from events. at: world (valid) time, only developments that occurred at or before it. knownAt: transaction time, only events recorded at or before it. Either or both may be omitted: no cut on that axis (a development dated in the future, such as a deadline, is then included).
    #[graphql(complexity = "REPLAY_COST + child_complexity")]
    async fn state_at(
        &self,
        ctx: &Context<'_>,
        at: Option<DateTime<Utc>>,
        known_at: Option<DateTime<Utc>>,
    ) -> ApiResult<StoryState> {
        let story = self.id;
        let state = store(ctx)?.state_at(story, at, known_at).await?;
        if let Some(state) = &state {
            charge_work(ctx, state.developments.len() + state.retracted.len() + 1)?;
        }
        // Known at a time before the story was opened: nothing was known.
        Ok(StoryState(state.unwrap_or_else(|| {
            story_state(&StoryFold::empty(story), at, known_at)
        })))
    }

    /// The story's own events in version order (Relay cursor connection).
    ///
    /// At most 500 events a page: a larger `first` or `last` returns 500 and says there is more.
    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    async fn history(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        types: Option<Vec<String>>,
        occurred_from: Option<DateTime<Utc>>,
        occurred_to: Option<DateTime<Utc>>,
    ) -> ApiResult<EventConnection> {
        let store = store(ctx)?;
        let args = PageArgs {
            first,
            after,
            last,
            before,
        };
        let paging = args.paging::<Version>()?;
        let filter = HistoryFilter {
            types: event_types(types)?,
            occurred_from,
            occurred_to,
        };
        let window = VersionWindow {
            after: paging.after,
            before: paging.before,
        };
        let fetch = paging.fetch();
        let rows = store
            .read_history(self.id, &filter, window, fetch.limit, fetch.from_end)
            .await?;
        let page = paging.page(rows, |e| e.version);
        Ok(Connection::new(
            page_of(page, Event::from),
            TotalCount::History(self.id, filter),
        ))
    }

    /// What changed in the story's world-time state between two instants.
    #[graphql(complexity = "REPLAY_COST + child_complexity")]
    async fn changes(
        &self,
        ctx: &Context<'_>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> ApiResult<StoryChanges> {
        if from > to {
            return Err(ApiError::bad_input("`from` must not be after `to`"));
        }
        let changed = self
            .over_current_fold(ctx, move |fold| changes(fold, from, to))
            .await?;
        Ok(StoryChanges(changed))
    }
}
