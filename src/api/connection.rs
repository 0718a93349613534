//! Relay cursor connections: opaque cursors, page size caps, page info,
//! and the connection and edge types of events and stories.
//!
//! A cursor is base64 of `kind:value`, so a cursor of one connection is
//! refused by another instead of being misread.

use async_graphql::{Context, Object, OutputType, SimpleObject};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::budget::{charge_list, charge_work, listed, COUNT_WORK};
use super::context::store;
use super::errors::{ApiError, ApiResult};
use super::query::Story;
use super::types::Event;
use crate::domain::{Position, StoryId, Version};
use crate::store::{FeedFilter, HistoryFilter, Store, StoryFilter, StoryListKey};

/// The most a page holds; a larger `first` or `last` gets this many.
pub const MAX_PAGE_SIZE: usize = 500;

/// A value that marks a place in one kind of connection.
pub trait Cursor: Sized + Copy {
    /// Tells cursors of different connections apart.
    const KIND: &'static str;
    fn to_text(self) -> String;
    fn from_text(text: &str) -> Option<Self>;

    fn encode(self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{}:{}", Self::KIND, self.to_text()))
    }

    fn decode(cursor: &str) -> ApiResult<Self> {
        let invalid = || ApiError::bad_input(format!("invalid cursor {cursor:?}"));
        let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
        let text = String::from_utf8(bytes).map_err(|_| invalid())?;
        let value = text
            .strip_prefix(Self::KIND)
            .and_then(|rest| rest.strip_prefix(':'))
            .ok_or_else(invalid)?;
        Self::from_text(value).ok_or_else(invalid)
    }
}

impl Cursor for Version {
    const KIND: &'static str = "version";
    fn to_text(self) -> String {
        self.0.to_string()
    }
    fn from_text(text: &str) -> Option<Self> {
        text.parse().ok().map(Version)
    }
}

impl Cursor for Position {
    const KIND: &'static str = "position";
    fn to_text(self) -> String {
        self.to_string()
    }
    fn from_text(text: &str) -> Option<Self> {
        text.parse().ok()
    }
}

impl Cursor for StoryListKey {
    const KIND: &'static str = "story";
    fn to_text(self) -> String {
        format!("{}/{}", self.updated_at.timestamp_micros(), self.id)
    }
    fn from_text(text: &str) -> Option<Self> {
        let (micros, id) = text.split_once('/')?;
        Some(StoryListKey {
            updated_at: DateTime::<Utc>::from_timestamp_micros(micros.parse().ok()?)?,
            id: StoryId(Uuid::parse_str(id).ok()?),
        })
    }
}

/// The Relay arguments of a connection field, as given.
#[derive(Debug, Clone, Default)]
pub struct PageArgs {
    pub first: Option<i32>,
    pub after: Option<String>,
    pub last: Option<i32>,
    pub before: Option<String>,
}

/// The arguments checked and decoded.
#[derive(Debug, Clone, Copy)]
pub struct Paging<C> {
    pub after: Option<C>,
    pub before: Option<C>,
    first: Option<usize>,
    last: Option<usize>,
}

fn page_size(name: &str, value: Option<i32>) -> ApiResult<Option<usize>> {
    match value {
        None => Ok(None),
        Some(n) if n < 0 => Err(ApiError::bad_input(format!("{name} must not be negative"))),
        Some(n) => Ok(Some(usize::try_from(n).unwrap_or(0).min(MAX_PAGE_SIZE))),
    }
}

impl PageArgs {
    pub fn forward(first: Option<i32>, after: Option<String>) -> PageArgs {
        PageArgs {
            first,
            after,
            ..PageArgs::default()
        }
    }

    pub fn paging<C: Cursor>(&self) -> ApiResult<Paging<C>> {
        Ok(Paging {
            first: page_size("first", self.first)?,
            last: page_size("last", self.last)?,
            after: self.after.as_deref().map(C::decode).transpose()?,
            before: self.before.as_deref().map(C::decode).transpose()?,
        })
    }
}

/// How to read the rows of one page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fetch {
    /// Rows to read: one more than the page holds, to learn if more exist.
    pub limit: i64,
    /// Read the last rows of the window instead of the first.
    pub from_end: bool,
}

impl<C: Cursor> Paging<C> {
    /// The read that answers this page: `last` alone reads from the end;
    /// otherwise the first `first` rows (all of a page when absent).
    pub fn fetch(&self) -> Fetch {
        match (self.first, self.last) {
            (None, Some(last)) => Fetch {
                limit: last as i64 + 1,
                from_end: true,
            },
            (first, _) => Fetch {
                limit: first.unwrap_or(MAX_PAGE_SIZE) as i64 + 1,
                from_end: false,
            },
        }
    }

    /// Cuts the rows of [`Paging::fetch`] to the page, in window order.
    pub fn page<N>(&self, mut rows: Vec<N>, cursor_of: impl Fn(&N) -> C) -> Page<N> {
        let fetch = self.fetch();
        let size = (fetch.limit - 1) as usize;
        let more = rows.len() > size;
        let (has_next, mut has_previous);
        if fetch.from_end {
            if more {
                rows.drain(..rows.len() - size);
            }
            has_previous = more;
            has_next = self.before.is_some();
        } else {
            rows.truncate(size);
            has_next = more;
            has_previous = self.after.is_some();
            if let Some(last) = self.last.filter(|&last| rows.len() > last) {
                rows.drain(..rows.len() - last);
                has_previous = true;
            }
        }
        let edges: Vec<(String, N)> = rows
            .into_iter()
            .map(|node| (cursor_of(&node).encode(), node))
            .collect();
        Page {
            page_info: PageInfo {
                has_next_page: has_next,
                has_previous_page: has_previous,
                start_cursor: edges.first().map(|(cursor, _)| cursor.clone()),
                end_cursor: edges.last().map(|(cursor, _)| cursor.clone()),
            },
            edges,
        }
    }
}

/// One page: nodes with their cursors, in connection order.
pub struct Page<N> {
    pub edges: Vec<(String, N)>,
    pub page_info: PageInfo,
}

#[derive(SimpleObject, Debug, Clone, PartialEq, Eq)]
pub struct PageInfo {
    pub has_next_page: bool,
    pub has_previous_page: bool,
    pub start_cursor: Option<String>,
    pub end_cursor: Option<String>,
}

/// The complexity of a connection field: what one node costs, times the
/// nodes a page can hold (a page without `first`/`last` holds the most).
pub fn page_cost(first: Option<i32>, last: Option<i32>, child_complexity: usize) -> usize {
    let requested = |n: Option<i32>| n.map(|n| usize::try_from(n).unwrap_or(0));
    let nodes = match (requested(first), requested(last)) {
        (Some(first), Some(last)) => first.min(last),
        (Some(n), None) | (None, Some(n)) => n,
        (None, None) => MAX_PAGE_SIZE,
    };
    nodes
        .clamp(1, MAX_PAGE_SIZE)
        .saturating_mul(child_complexity)
}

/// `totalCount` as the contract's Int.
pub fn count_as_int(count: i64) -> i32 {
    i32::try_from(count).unwrap_or(i32::MAX)
}

/// What a connection's `totalCount` counts: the rows its filter keeps.
pub enum TotalCount {
    Feed(FeedFilter),
    History(StoryId, HistoryFilter),
    Stories(StoryFilter),
}

impl TotalCount {
    async fn count(&self, store: &Store) -> ApiResult<i64> {
        Ok(match self {
            TotalCount::Feed(filter) => store.count_feed(filter).await?,
            TotalCount::History(story, filter) => store.count_history(*story, filter).await?,
            TotalCount::Stories(filter) => store.count_stories(filter).await?,
        })
    }
}

/// A Relay connection of events or stories: one page and what its
/// `totalCount` counts.
pub struct Connection<N> {
    edges: Vec<Edge<N>>,
    page_info: PageInfo,
    count: TotalCount,
}

impl<N> Connection<N> {
    pub fn new(page: Page<N>, count: TotalCount) -> Connection<N> {
        let edges = page
            .edges
            .into_iter()
            .map(|(cursor, node)| Edge { cursor, node })
            .collect();
        Connection {
            edges,
            page_info: page.page_info,
            count,
        }
    }
}

pub struct Edge<N> {
    cursor: String,
    node: N,
}

#[Object(
    concrete(name = "EventEdge", params(Event)),
    concrete(name = "StoryEdge", params(Story))
)]
impl<N: OutputType> Edge<N> {
    async fn cursor(&self) -> &str {
        &self.cursor
    }
    async fn node(&self) -> &N {
        &self.node
    }
}

#[Object(
    concrete(name = "EventConnection", params(Event)),
    concrete(name = "StoryConnection", params(Story))
)]
impl<N: OutputType> Connection<N>
where
    Edge<N>: OutputType,
{
    async fn edges(&self, ctx: &Context<'_>) -> ApiResult<&[Edge<N>]> {
        charge_list(ctx, self.edges.len())?;
        Ok(&self.edges)
    }
    async fn nodes(&self, ctx: &Context<'_>) -> ApiResult<Vec<&N>> {
        listed(ctx, self.edges.iter().map(|edge| &edge.node).collect())
    }
    async fn page_info(&self) -> &PageInfo {
        &self.page_info
    }
    /// The number of nodes the filters keep, whatever the page.
    async fn total_count(&self, ctx: &Context<'_>) -> ApiResult<i32> {
        charge_work(ctx, COUNT_WORK as usize)?;
        Ok(count_as_int(self.count.count(store(ctx)?).await?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn versions(range: std::ops::RangeInclusive<i32>) -> Vec<Version> {
        range.map(Version).collect()
    }

    #[test]
    fn cursors_round_trip_and_refuse_another_connections_kind() {
        let cursor = Version(7).encode();
        assert_eq!(Version::decode(&cursor), Ok(Version(7)));
        assert!(Position::decode(&cursor).is_err());
        assert!(Version::decode("not base64!").is_err());
    }

    #[test]
    fn story_cursors_keep_microseconds() {
        let key = StoryListKey {
            updated_at: DateTime::<Utc>::from_timestamp_micros(1_626_134_400_123_456).unwrap(),
            id: StoryId(Uuid::now_v7()),
        };
        assert_eq!(StoryListKey::decode(&key.encode()), Ok(key));
    }

    #[test]
    fn negative_page_sizes_are_bad_input() {
        let args = PageArgs::forward(Some(-1), None);
        assert!(matches!(
            args.paging::<Version>(),
            Err(ApiError::BadUserInput(_))
        ));
    }

    #[test]
    fn oversized_first_is_capped_at_the_maximum() {
        let paging = PageArgs::forward(Some(10_000), None)
            .paging::<Version>()
            .unwrap();
        assert_eq!(paging.fetch().limit, MAX_PAGE_SIZE as i64 + 1);
    }

    #[test]
    fn a_forward_page_reports_more_when_the_extra_row_came_back() {
        let paging = PageArgs::forward(Some(3), None)
            .paging::<Version>()
            .unwrap();
        let page = paging.page(versions(1..=4), |v| *v);
        let nodes: Vec<_> = page.edges.iter().map(|(_, v)| v.0).collect();
        assert_eq!(nodes, [1, 2, 3]);
        assert!(page.page_info.has_next_page);
        assert!(!page.page_info.has_previous_page);
        assert_eq!(page.page_info.end_cursor, Some(Version(3).encode()));
    }

    #[test]
    fn a_backward_page_keeps_the_last_rows_in_order() {
        let args = PageArgs {
            last: Some(2),
            before: Some(Version(5).encode()),
            ..PageArgs::default()
        };
        let paging = args.paging::<Version>().unwrap();
        assert!(paging.fetch().from_end);
        // Rows come back in window order: versions 2..=4, one extra.
        let page = paging.page(versions(2..=4), |v| *v);
        let nodes: Vec<_> = page.edges.iter().map(|(_, v)| v.0).collect();
        assert_eq!(nodes, [3, 4]);
        assert!(page.page_info.has_previous_page);
        assert!(page.page_info.has_next_page);
    }

    #[test]
    fn first_and_last_together_take_the_last_of_the_first() {
        let args = PageArgs {
            first: Some(4),
            last: Some(2),
            ..PageArgs::default()
        };
        let paging = args.paging::<Version>().unwrap();
        let page = paging.page(versions(1..=5), |v| *v);
        let nodes: Vec<_> = page.edges.iter().map(|(_, v)| v.0).collect();
        assert_eq!(nodes, [3, 4]);
        assert!(page.page_info.has_next_page);
        assert!(page.page_info.has_previous_page);
    }
}
