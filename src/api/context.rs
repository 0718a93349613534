//! What resolvers take from the schema's context: the store, and the
//! loader of story snapshots with its cache.

use std::collections::HashMap;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};

use async_graphql::dataloader::{DataLoader, Loader};
use async_graphql::Context;
use chrono::Utc;
use lru::LruCache;

use super::errors::{ApiError, ApiResult};
use crate::domain::fold::StoryFold;
use crate::domain::model::StoryVisibility;
use crate::domain::{StoryId, Version};
use crate::store::{Credential, Store, StoryHeader};

/// Who asks: the holder of a token that was live when the request (or the
/// socket) began, or nobody. The HTTP handler and the socket's
/// connection_init set it; an unknown or revoked token never gets this far.
#[derive(Debug, Clone, Default)]
pub struct Viewer(pub Option<Credential>);

impl Viewer {
    /// Whether this viewer may read the story (DESIGN §10): any live
    /// token reads everything; without one, only what is PUBLIC now.
    pub fn may_read(&self, story: &StoryHeader) -> bool {
        self.0.is_some() || story.visibility_at(Utc::now()) == StoryVisibility::Public
    }
}

/// The request's viewer; anonymous when none was set.
pub(super) fn viewer<'a>(ctx: &Context<'a>) -> &'a Viewer {
    static ANONYMOUS: Viewer = Viewer(None);
    ctx.data_opt::<Viewer>().unwrap_or(&ANONYMOUS)
}

/// Whether the request may see only PUBLIC stories (DESIGN §10: a live
/// token of any scope sees everything).
pub(super) fn public_only(ctx: &Context<'_>) -> bool {
    viewer(ctx).0.is_none()
}

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
    cache: SharedSnapshots,
}

/// The snapshots kept in memory, shared by the loaders of every database
/// a read may go to (the primary, a replica): a story's snapshot at a
/// version is the same wherever it was read.
#[derive(Clone)]
pub struct SharedSnapshots(Arc<Mutex<SnapshotCache>>);

impl Default for SharedSnapshots {
    fn default() -> Self {
        let capacity = NonZeroUsize::new(CACHED_SNAPSHOTS).unwrap_or(NonZeroUsize::MIN);
        SharedSnapshots(Arc::new(Mutex::new(SnapshotCache {
            folds: LruCache::new(capacity),
            developments: 0,
        })))
    }
}

impl SharedSnapshots {
    /// A loader that reads the snapshots missing here from `store`.
    pub fn loader_on(&self, store: Store) -> DataLoader<SnapshotLoader> {
        DataLoader::new(
            SnapshotLoader {
                store,
                cache: self.clone(),
            },
            tokio::spawn,
        )
    }
}

impl SnapshotLoader {
    fn cache(&self) -> std::sync::MutexGuard<'_, SnapshotCache> {
        self.cache.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A story's snapshot, or why it cannot be read (that story alone fails).
type Loaded = Result<Arc<StoryFold>, ApiError>;

impl Loader<(StoryId, Version)> for SnapshotLoader {
    type Value = Loaded;
    type Error = ApiError;

    async fn load(
        &self,
        keys: &[(StoryId, Version)],
    ) -> Result<HashMap<(StoryId, Version), Loaded>, ApiError> {
        let mut found = HashMap::with_capacity(keys.len());
        let mut missing = Vec::new();
        {
            let mut cache = self.cache();
            for key in keys {
                match cache.folds.get(key) {
                    Some(fold) => {
                        found.insert(*key, Ok(fold.clone()));
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
            let fold = fold.map(Arc::new).map_err(ApiError::from);
            if let Ok(fold) = &fold {
                cache.keep(fold.clone());
            }
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
pub(super) async fn current_fold(
    ctx: &Context<'_>,
    story: StoryId,
    version: Version,
) -> ApiResult<Arc<StoryFold>> {
    let loader = ctx
        .data::<DataLoader<SnapshotLoader>>()
        .map_err(|_| ApiError::Internal("the server is misconfigured"))?;
    match loader.load_one((story, version)).await? {
        Some(fold) => fold,
        // The story row exists (we read its header); only a concurrent
        // rebuild swapping tables could hide it for a moment.
        None => Ok(Arc::new(StoryFold::empty(story))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

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
