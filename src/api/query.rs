//! The Query root and the Story type: thin resolvers over the store and the
//! fold.

use std::collections::HashMap;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};

use async_graphql::dataloader::{DataLoader, Loader};
use async_graphql::{Context, Object};
use chrono::{DateTime, Utc};
use lru::LruCache;
use tokio::sync::OnceCell;
use uuid::Uuid;

use super::connection::{count_as_int, page_cost, Page, PageArgs, PageInfo};
use super::errors::{ApiError, ApiResult};
use super::inputs::StoryStatus;
use super::types::{Event, StoryChanges, StoryState};
use crate::domain::events::EVENT_TYPES;
use crate::domain::fold::StoryFold;
use crate::domain::replay::changes;
use crate::domain::view::story_state;
use crate::domain::{Position, StoryId, Version};
use crate::store::{
    FeedFilter, HistoryFilter, Store, StoryFilter, StoryHeader, StoryListKey, VersionWindow,
};

/// The store every resolver works on.
pub(super) fn store<'a>(ctx: &Context<'a>) -> ApiResult<&'a Store> {
    ctx.data::<Store>()
        .map_err(|_| ApiError::Internal("the server is misconfigured"))
}

/// Stories whose folded snapshot is kept in memory, the most recently read.
const CACHED_SNAPSHOTS: usize = 1024;

/// The most developments the kept snapshots may hold together (about 100 MB
/// of typical developments): one long story must not crowd memory.
const CACHED_DEVELOPMENTS: usize = 100_000;

/// Snapshots by (story, version), and how many developments they hold.
struct SnapshotCache {
    folds: LruCache<(StoryId, Version), Arc<StoryFold>>,
    developments: usize,
}

impl SnapshotCache {
    fn weight(fold: &StoryFold) -> usize {
        fold.developments.len() + fold.retracted.len() + 1
    }

    /// Keeps `fold`, dropping the least recently read ones beyond either
    /// bound.
    fn keep(&mut self, fold: Arc<StoryFold>) {
        let weight = SnapshotCache::weight(&fold);
        if weight > CACHED_DEVELOPMENTS {
            return;
        }
        self.developments += weight;
        let key = (fold.story_id, fold.version);
        if let Some((_, old)) = self.folds.push(key, fold) {
            self.developments -= SnapshotCache::weight(&old);
        }
        while self.developments > CACHED_DEVELOPMENTS {
            match self.folds.pop_lru() {
                Some((_, old)) => self.developments -= SnapshotCache::weight(&old),
                None => break,
            }
        }
    }
}

/// Loads the snapshots of every story a response shows in one batch, so a
/// page of stories costs the same few statements however long it is. A
/// snapshot is keyed by its story's version: events never change, so the
/// projection at a version never does, and a cached fold is reused until
/// the story moves on.
pub struct SnapshotLoader {
    store: Store,
    cache: Mutex<SnapshotCache>,
}

impl SnapshotLoader {
    pub fn new(store: Store) -> SnapshotLoader {
        let capacity = NonZeroUsize::new(CACHED_SNAPSHOTS).unwrap_or(NonZeroUsize::MIN);
        SnapshotLoader {
            store,
            cache: Mutex::new(SnapshotCache {
                folds: LruCache::new(capacity),
                developments: 0,
            }),
        }
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, SnapshotCache> {
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Loader<(StoryId, Version)> for SnapshotLoader {
    type Value = Arc<StoryFold>;
    type Error = ApiError;

    async fn load(
        &self,
        keys: &[(StoryId, Version)],
    ) -> Result<HashMap<(StoryId, Version), Arc<StoryFold>>, ApiError> {
        let mut found = HashMap::with_capacity(keys.len());
        let mut missing = Vec::new();
        {
            let mut cache = self.cache();
            for key in keys {
                match cache.folds.get(key) {
                    Some(fold) => {
                        found.insert(*key, fold.clone());
                    }
                    None => missing.push(key.0),
                }
            }
        }
        if missing.is_empty() {
            return Ok(found);
        }
        let loaded = self.store.load_snapshots(&missing).await?;
        let mut cache = self.cache();
        for (id, fold) in loaded {
            let fold = Arc::new(fold);
            cache.keep(fold.clone());
            // Asked for at the version its header showed; the story may
            // have moved on since, and the newer state is as good an answer.
            for key in keys.iter().filter(|key| key.0 == id) {
                found.insert(*key, fold.clone());
            }
        }
        Ok(found)
    }
}

/// The story's folded snapshot at (or after) `version`.
async fn current_fold(
    ctx: &Context<'_>,
    story: StoryId,
    version: Version,
) -> ApiResult<Arc<StoryFold>> {
    let loader = ctx
        .data::<DataLoader<SnapshotLoader>>()
        .map_err(|_| ApiError::Internal("the server is misconfigured"))?;
    let fold = loader.load_one((story, version)).await?;
    // The story row exists (we read its header); only a concurrent rebuild
    // swapping tables could hide it for a moment.
    Ok(fold.unwrap_or_else(|| Arc::new(StoryFold::empty(story))))
}

/// Event type names from a `types:` argument, each one the contract knows.
fn event_types(types: Option<Vec<String>>) -> ApiResult<Option<Vec<String>>> {
    if let Some(unknown) = types
        .iter()
        .flatten()
        .find(|t| !EVENT_TYPES.contains(&t.as_str()))
    {
        return Err(ApiError::bad_input(format!(
            "unknown event type {unknown:?}; the types are {}",
            EVENT_TYPES.join(", ")
        )));
    }
    Ok(types)
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
        Ok(header.map(Story::from_header))
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
        };
        let rows = store
            .list_stories(&filter, paging.after, paging.fetch().limit)
            .await?;
        let page = paging.page(rows, StoryHeader::list_key);
        Ok(StoryConnection {
            page: page_of(page, Story::from_header),
            filter,
        })
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
        };
        let rows = store
            .read_feed(
                paging.after.unwrap_or(Position::START),
                paging.fetch().limit,
                &filter,
            )
            .await?;
        let page = paging.page(rows, |e| e.position);
        Ok(EventConnection {
            page: page_of(page, Event::from),
            count: EventCount::Feed(filter),
        })
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
    async fn updated_at(&self, ctx: &Context<'_>) -> ApiResult<DateTime<Utc>> {
        match self.appended {
            Some((_, updated_at)) => Ok(updated_at),
            None => Ok(self.header(ctx).await?.updated_at),
        }
    }

    /// The current state, from the projection.
    async fn snapshot(&self, ctx: &Context<'_>) -> ApiResult<StoryState> {
        let version = self.known_version(ctx).await?;
        let fold = current_fold(ctx, self.id, version).await?;
        Ok(StoryState(story_state(&fold, None, None)))
    }

    /// The state replayed from events. at: world (valid) time, only developments that occurred at or before it. knownAt: transaction time, only events recorded at or before it. Either or both may be omitted: no cut on that axis (a development dated in the future, such as a deadline, is then included).
    async fn state_at(
        &self,
        ctx: &Context<'_>,
        at: Option<DateTime<Utc>>,
        known_at: Option<DateTime<Utc>>,
    ) -> ApiResult<StoryState> {
        let story = self.id;
        let state = store(ctx)?.state_at(story, at, known_at).await?;
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
        Ok(EventConnection {
            page: page_of(page, Event::from),
            count: EventCount::History(self.id, filter),
        })
    }

    /// What changed in the story's world-time state between two instants.
    async fn changes(
        &self,
        ctx: &Context<'_>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> ApiResult<StoryChanges> {
        if from > to {
            return Err(ApiError::bad_input("`from` must not be after `to`"));
        }
        let version = self.known_version(ctx).await?;
        let fold = current_fold(ctx, self.id, version).await?;
        Ok(StoryChanges(changes(&fold, from, to)))
    }
}

/// What `totalCount` of an event connection counts.
enum EventCount {
    Feed(FeedFilter),
    History(StoryId, HistoryFilter),
}

pub struct EventConnection {
    page: Page<Event>,
    count: EventCount,
}

pub struct EventEdge<'a> {
    cursor: &'a str,
    node: &'a Event,
}

#[Object]
impl EventEdge<'_> {
    async fn cursor(&self) -> &str {
        self.cursor
    }
    async fn node(&self) -> &Event {
        self.node
    }
}

#[Object]
impl EventConnection {
    async fn edges(&self) -> Vec<EventEdge<'_>> {
        self.page
            .edges
            .iter()
            .map(|(cursor, node)| EventEdge { cursor, node })
            .collect()
    }
    async fn nodes(&self) -> Vec<&Event> {
        self.page.edges.iter().map(|(_, node)| node).collect()
    }
    async fn page_info(&self) -> &PageInfo {
        &self.page.page_info
    }
    /// The number of events the filters keep, whatever the page.
    async fn total_count(&self, ctx: &Context<'_>) -> ApiResult<i32> {
        let store = store(ctx)?;
        let count = match &self.count {
            EventCount::Feed(filter) => store.count_feed(filter).await?,
            EventCount::History(story, filter) => store.count_history(*story, filter).await?,
        };
        Ok(count_as_int(count))
    }
}

pub struct StoryConnection {
    page: Page<Story>,
    filter: StoryFilter,
}

pub struct StoryEdge<'a> {
    cursor: &'a str,
    node: &'a Story,
}

#[Object]
impl StoryEdge<'_> {
    async fn cursor(&self) -> &str {
        self.cursor
    }
    async fn node(&self) -> &Story {
        self.node
    }
}

#[Object]
impl StoryConnection {
    async fn edges(&self) -> Vec<StoryEdge<'_>> {
        self.page
            .edges
            .iter()
            .map(|(cursor, node)| StoryEdge { cursor, node })
            .collect()
    }
    async fn nodes(&self) -> Vec<&Story> {
        self.page.edges.iter().map(|(_, node)| node).collect()
    }
    async fn page_info(&self) -> &PageInfo {
        &self.page.page_info
    }
    /// The number of stories the filters keep, whatever the page.
    async fn total_count(&self, ctx: &Context<'_>) -> ApiResult<i32> {
        Ok(count_as_int(store(ctx)?.count_stories(&self.filter).await?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fold(version: i32) -> Arc<StoryFold> {
        let mut fold = StoryFold::empty(StoryId(Uuid::nil()));
        fold.version = Version(version);
        Arc::new(fold)
    }

    #[test]
    fn the_snapshot_cache_counts_what_it_holds_through_replacement_and_eviction() {
        let mut cache = SnapshotCache {
            folds: LruCache::new(NonZeroUsize::new(2).unwrap()),
            developments: 0,
        };
        cache.keep(fold(1));
        cache.keep(fold(1));
        assert_eq!(
            cache.developments, 1,
            "a replaced fold is no longer counted"
        );
        cache.keep(fold(2));
        cache.keep(fold(3));
        assert_eq!(cache.folds.len(), 2);
        assert_eq!(
            cache.developments, 2,
            "an evicted fold is no longer counted"
        );
        assert!(cache
            .folds
            .get(&(StoryId(Uuid::nil()), Version(1)))
            .is_none());
    }
}
