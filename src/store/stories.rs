//! The story list and story headers, read from the snapshot projection.

use chrono::{DateTime, Utc};
use sqlx::{Postgres, QueryBuilder};
use uuid::Uuid;

use super::{Store, StoreError};
use crate::domain::fold::effective_visibility;
use crate::domain::model::{StoryStatus, StoryVisibility};
use crate::domain::search::{actor_query, search_query, QueryError, SearchQuery};
use crate::domain::{StoryId, Version};

/// What every story answers without folding: its row in `stories`.
#[derive(Debug, Clone, PartialEq)]
pub struct StoryHeader {
    pub id: StoryId,
    pub slug: String,
    pub version: Version,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// As set; [`StoryHeader::visibility_at`] says what is in force.
    pub visibility: StoryVisibility,
    pub embargo_until: Option<DateTime<Utc>>,
}

impl StoryHeader {
    /// The visibility in force at `now` (an embargo lifts itself).
    pub fn visibility_at(&self, now: DateTime<Utc>) -> StoryVisibility {
        effective_visibility(self.visibility, self.embargo_until, now)
    }
}

#[derive(sqlx::FromRow)]
struct HeaderRow {
    story_id: Uuid,
    slug: String,
    version: i32,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    visibility: String,
    embargo_until: Option<DateTime<Utc>>,
}

/// A story header from a row holding the header's columns.
pub(super) fn header_of(row: &sqlx::postgres::PgRow) -> Result<StoryHeader, sqlx::Error> {
    use sqlx::FromRow;
    HeaderRow::from_row(row).map(StoryHeader::from)
}

impl From<HeaderRow> for StoryHeader {
    fn from(row: HeaderRow) -> Self {
        StoryHeader {
            id: StoryId(row.story_id),
            slug: row.slug,
            version: Version(row.version),
            created_at: row.created_at,
            updated_at: row.updated_at,
            // A value this code does not know hides the story rather than
            // showing it.
            visibility: match row.visibility.as_str() {
                "PUBLIC" => StoryVisibility::Public,
                _ => StoryVisibility::Internal,
            },
            embargo_until: row.embargo_until,
        }
    }
}

/// Which stories a list shows. Empty fields do not filter.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StoryFilter {
    pub status: Option<StoryStatus>,
    /// Words, as a web search box takes them (see `domain::search::search_query`).
    pub search: Option<String>,
    /// An actor's name, matched case-insensitively.
    pub actor: Option<String>,
    /// Only stories readable without a token (DESIGN §10), filtered by the
    /// database so that pages stay full and counts true.
    pub public_only: bool,
}

/// A place in the story list: the story's (updated_at, id); the list goes
/// from the most recently updated down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoryListKey {
    pub updated_at: DateTime<Utc>,
    pub id: StoryId,
}

impl StoryHeader {
    pub fn list_key(&self) -> StoryListKey {
        StoryListKey {
            updated_at: self.updated_at,
            id: self.id,
        }
    }
}

/// The filter's words and actor as queries; `None` when either can match
/// nothing (a search of stop words only, a blank actor).
struct FilterQueries {
    status: Option<&'static str>,
    search: Option<SearchQuery>,
    actor: Option<SearchQuery>,
}

impl StoryFilter {
    fn queries(&self) -> Result<Option<FilterQueries>, QueryError> {
        let search = self.search.as_deref().map(search_query).transpose()?;
        let actor = self.actor.as_deref().map(actor_query).transpose()?;
        // A filter given that has nothing to match matches no story.
        if matches!(search, Some(None)) || matches!(actor, Some(None)) {
            return Ok(None);
        }
        Ok(Some(FilterQueries {
            status: self.status.map(status_text),
            search: search.flatten(),
            actor: actor.flatten(),
        }))
    }
}

impl FilterQueries {
    /// Whether one prepared plan serves every call: not when words are
    /// matched. How common a word is decides between probing each story's
    /// documents (a word in most of them: 3 ms at 1 M events) and one
    /// bitmap of the documents matching (a rare word: 0.2 ms; a common
    /// one: 224 ms), and a generic plan knows no word. Planning anew costs
    /// about 0.5 ms.
    fn keeps_one_plan(&self) -> bool {
        self.search.is_none() && self.actor.is_none()
    }
}

/// The list's conditions, a line per filter in use: no condition stays for
/// an absent one, where a prepared statement's `$n IS NULL OR ...` skewed
/// its generic plan.
fn push_filter<'q>(
    query: &mut QueryBuilder<'q, Postgres>,
    queries: &'q FilterQueries,
    public_only: bool,
) {
    if let Some(status) = queries.status {
        query.push(" AND s.status = ").push_bind(status);
    }
    // A story matches a query when one of its documents in the search model
    // does (its own, or a live development's); the search and the actor
    // may be matched by different documents. Both shards named, for the
    // planner to read both halves' indexes where it reads an index
    // (migrations/0014).
    for words in [&queries.search, &queries.actor].into_iter().flatten() {
        query
            .push(" AND EXISTS (SELECT 1 FROM story_search d WHERE d.story_id = s.story_id AND d.search @@ ")
            .push_bind(words.as_str())
            .push("::tsquery AND (d.shard = 0 OR d.shard = 1))");
    }
    if public_only {
        query.push(" AND storyline_is_public(s.visibility, s.embargo_until)");
    }
}

fn status_text(status: StoryStatus) -> &'static str {
    match status {
        StoryStatus::Developing => "DEVELOPING",
        StoryStatus::Ongoing => "ONGOING",
        StoryStatus::Concluded => "CONCLUDED",
        StoryStatus::Dormant => "DORMANT",
    }
}

impl Store {
    /// The story's header, or `None` when no such story exists.
    pub async fn story_header(&self, story: StoryId) -> Result<Option<StoryHeader>, StoreError> {
        let row: Option<HeaderRow> = sqlx::query_as(sql!("stories/header"))
            .bind(story.0)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(StoryHeader::from))
    }

    /// The header of the story opened with this slug.
    pub async fn story_header_by_slug(
        &self,
        slug: &str,
    ) -> Result<Option<StoryHeader>, StoreError> {
        let row: Option<HeaderRow> = sqlx::query_as(sql!("stories/header_by_slug"))
            .bind(slug)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(StoryHeader::from))
    }

    /// Up to `limit` stories matching `filter`, most recently updated first,
    /// starting after `after`.
    pub async fn list_stories(
        &self,
        filter: &StoryFilter,
        after: Option<StoryListKey>,
        limit: i64,
    ) -> Result<Vec<StoryHeader>, StoreError> {
        let Some(queries) = filter.queries()? else {
            return Ok(Vec::new());
        };
        let mut list = QueryBuilder::<Postgres>::new(
            "SELECT s.story_id, s.slug, s.version, s.created_at, s.updated_at, s.visibility, \
             s.embargo_until FROM stories s WHERE true",
        );
        push_filter(&mut list, &queries, filter.public_only);
        if let Some(after) = after {
            list.push(" AND (s.updated_at, s.story_id) < (")
                .push_bind(after.updated_at)
                .push(", ")
                .push_bind(after.id.0)
                .push(")");
        }
        list.push(" ORDER BY s.updated_at DESC, s.story_id DESC LIMIT ")
            .push_bind(limit);
        let rows = list
            .build_query_as::<HeaderRow>()
            .persistent(queries.keeps_one_plan())
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(StoryHeader::from).collect())
    }

    /// How many stories match `filter`.
    pub async fn count_stories(&self, filter: &StoryFilter) -> Result<i64, StoreError> {
        let Some(queries) = filter.queries()? else {
            return Ok(0);
        };
        let mut count = QueryBuilder::<Postgres>::new("SELECT count(*) FROM stories s WHERE true");
        push_filter(&mut count, &queries, filter.public_only);
        let count = count
            .build_query_scalar::<i64>()
            .persistent(queries.keeps_one_plan());
        Ok(count.fetch_one(&self.pool).await?)
    }
}
