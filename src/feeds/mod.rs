//! Following feeds (DESIGN §12): each poll fetches a feed, reads its
//! items, and keeps each as a report through the same path as
//! `submitReport`; `serve` polls every feed on its schedule.
//!
//! Exactly once, through crashes: an item's report is deduplicated by its
//! identity, and the feed's validators (ETag, Last-Modified) are kept only
//! after every item of the answer was kept, so a poll cut short is simply
//! done again.

pub mod fetch;
pub mod formats;
mod schedule;

use crate::domain::report::{ReportFormat, ReportSubmission};
use crate::domain::validate::InvalidInput;
use crate::metrics::Metrics;
use crate::store::{FeedState, PollRecord, Store, StoreError};
pub use fetch::Fetcher;
pub use formats::{FeedFormat, FeedItem};
pub use schedule::follow_feeds;

#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    #[error("{0}")]
    BadUrl(String),
    #[error("{0}")]
    Http(String),
    #[error("the feed is larger than 5 MiB")]
    TooLarge,
    #[error("{0}")]
    Unreadable(String),
    #[error("no feed is named {0:?}")]
    Unknown(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What one poll did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PollOutcome {
    /// Reports kept for the first time.
    pub added: u64,
    /// Items kept before (the same report again).
    pub already_kept: u64,
    /// Items that could not become a report.
    pub skipped: u64,
    /// The server said nothing changed (304).
    pub not_modified: bool,
}

/// Polls one feed now, waiting for any other poll of it to end first, and
/// records how it went.
pub async fn poll_feed(
    store: &Store,
    fetcher: &Fetcher,
    metrics: Option<&Metrics>,
    name: &str,
) -> Result<PollOutcome, FeedError> {
    let lock = store.lock_feed(name).await?;
    let polled = match store.feed(name).await {
        Ok(Some(feed)) => poll_locked(store, fetcher, metrics, &feed).await,
        Ok(None) => Err(FeedError::Unknown(name.to_owned())),
        Err(e) => Err(e.into()),
    };
    lock.release().await?;
    polled
}

async fn poll_locked(
    store: &Store,
    fetcher: &Fetcher,
    metrics: Option<&Metrics>,
    feed: &FeedState,
) -> Result<PollOutcome, FeedError> {
    let mut outcome = PollOutcome::default();
    let result = fetch_and_keep(store, fetcher, feed, &mut outcome).await;
    let added = i64::try_from(outcome.added).unwrap_or(i64::MAX);
    let name = &feed.config.name;
    let record = match &result {
        Ok(Some((format, etag, last_modified))) => PollRecord::Succeeded {
            format: Some(format.as_str().to_owned()),
            etag: etag.clone(),
            last_modified: last_modified.clone(),
            added,
        },
        Ok(None) => PollRecord::Succeeded {
            format: None,
            etag: None,
            last_modified: None,
            added,
        },
        Err(error) => PollRecord::Failed {
            error: error.to_string(),
            added,
        },
    };
    store.record_poll(name, &record).await?;
    if let Some(metrics) = metrics {
        let label = match &result {
            Ok(None) => "not_modified",
            Ok(Some(_)) => "ok",
            Err(_) => "error",
        };
        metrics.record_feed_poll(name, label, outcome.added, outcome.skipped);
    }
    match &result {
        Ok(None) => tracing::debug!(feed = %name, "not modified"),
        Ok(Some(_)) => {
            tracing::info!(feed = %name, added = outcome.added, skipped = outcome.skipped, "polled")
        }
        Err(error) => tracing::warn!(feed = %name, %error, "poll failed"),
    }
    result.map(|_| outcome)
}

type Validators = (FeedFormat, Option<String>, Option<String>);

/// Fetches the feed and keeps its items; the format and validators to keep
/// (None after a 304).
async fn fetch_and_keep(
    store: &Store,
    fetcher: &Fetcher,
    feed: &FeedState,
    outcome: &mut PollOutcome,
) -> Result<Option<Validators>, FeedError> {
    let fetched = fetcher
        .fetch(
            &feed.config.url,
            feed.etag.as_deref(),
            feed.last_modified.as_deref(),
        )
        .await?;
    let (bytes, etag, last_modified) = match fetched {
        fetch::Fetched::NotModified => {
            outcome.not_modified = true;
            return Ok(None);
        }
        fetch::Fetched::Body {
            bytes,
            etag,
            last_modified,
        } => (bytes, etag, last_modified),
    };
    let parsed = formats::parse_feed(&bytes).map_err(FeedError::Unreadable)?;
    for item in parsed.items {
        let kept = match item {
            Ok(item) => keep_item(store, fetcher, feed, item).await,
            Err(reason) => Err(FeedError::Unreadable(reason)),
        };
        match kept {
            Ok(true) => outcome.added += 1,
            Ok(false) => outcome.already_kept += 1,
            Err(FeedError::Store(e)) if e.is_unavailable() => return Err(FeedError::Store(e)),
            Err(error) => {
                tracing::debug!(feed = %feed.config.name, %error, "item skipped");
                outcome.skipped += 1;
            }
        }
    }
    Ok(Some((parsed.format, etag, last_modified)))
}

/// Keeps one item as a report; true when it was new.
async fn keep_item(
    store: &Store,
    fetcher: &Fetcher,
    feed: &FeedState,
    item: FeedItem,
) -> Result<bool, FeedError> {
    let latest = match &item.id {
        Some(uri) => store.latest_report_of_uri(uri).await?,
        None => None,
    };
    // An article page fetched once is not fetched at every poll.
    let has_article = latest
        .as_ref()
        .is_some_and(|(_, _, format)| *format == ReportFormat::Html);
    if item.summary_only && feed.config.fetch_articles && has_article {
        return Ok(false);
    }
    let item = with_article(fetcher, feed, item).await;
    let submission = ReportSubmission {
        body: item.body,
        format: item.format,
        uri: item.id.clone(),
        version: item.version,
        title: item.title,
        publisher: feed.config.publisher.clone(),
        source_kind: feed.config.source_kind,
        url: item.url.filter(|u| fetch::web_url(u).is_ok()),
        byline: item.byline,
        published_at: item.published_at,
        feed: Some(feed.config.name.clone()),
        ..ReportSubmission::default()
    };
    let mut prepared = submission.prepare().map_err(invalid)?;
    match latest {
        Some((_, hash, _)) if hash == prepared.content_hash => return Ok(false),
        // RSS and Atom have no versions: other text under the same id is
        // the next one. ninjs says its own.
        Some((version, _, _)) if item.version.is_none() => prepared.version = version + 1,
        _ => {}
    }
    let principal = format!("feed:{}", feed.config.name);
    Ok(!store
        .submit_report(&prepared, &principal, None, None)
        .await?
        .deduplicated)
}

/// With --fetch-articles, an item that came with a summary only gets its
/// linked page's article text, when that page is on an allowed host.
async fn with_article(fetcher: &Fetcher, feed: &FeedState, mut item: FeedItem) -> FeedItem {
    let Some(url) = item
        .url
        .clone()
        .filter(|_| feed.config.fetch_articles && item.summary_only)
    else {
        return item;
    };
    if !fetch::may_fetch_article(&feed.config.url, &feed.config.allowed_hosts, &url) {
        return item;
    }
    match fetcher.fetch(&url, None, None).await {
        Ok(fetch::Fetched::Body { bytes, .. }) => {
            let page = String::from_utf8_lossy(&bytes).into_owned();
            let candidate = ReportSubmission {
                body: page.clone(),
                format: ReportFormat::Html,
                ..ReportSubmission::default()
            };
            if candidate.prepare().is_ok() {
                item.body = page;
                item.format = ReportFormat::Html;
                item.summary_only = false;
            }
        }
        Ok(fetch::Fetched::NotModified) => {}
        Err(error) => tracing::debug!(%url, %error, "article page not fetched"),
    }
    item
}

fn invalid(error: InvalidInput) -> FeedError {
    FeedError::Unreadable(error.to_string())
}
