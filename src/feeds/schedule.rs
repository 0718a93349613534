//! `serve` follows every feed on its schedule. Each server claims a due
//! feed (its next poll moves one interval on in the same statement), so
//! with several servers on one database each feed is polled once per
//! interval; polls run beside requests, a few at a time.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;

use super::{poll_feed, Fetcher};
use crate::metrics::Metrics;
use crate::store::Store;

/// Polls at once, at most, per server.
const CONCURRENT_POLLS: usize = 4;

/// How long the follower waits when no feed is due.
const IDLE_WAIT: Duration = Duration::from_millis(500);

/// Follows the feeds until `stopping` resolves.
pub async fn follow_feeds(
    store: Store,
    metrics: Metrics,
    stopping: impl std::future::Future<Output = ()>,
) {
    let fetcher = match Fetcher::new() {
        Ok(fetcher) => fetcher,
        Err(error) => {
            tracing::error!(%error, "feeds are not followed: no HTTP client");
            return;
        }
    };
    let slots = Arc::new(Semaphore::new(CONCURRENT_POLLS));
    tokio::pin!(stopping);
    loop {
        let Ok(slot) = slots.clone().acquire_owned().await else {
            return;
        };
        let claimed = tokio::select! {
            () = &mut stopping => return,
            claimed = store.claim_due_feed() => claimed,
        };
        match claimed {
            Ok(Some(feed)) => {
                let (store, fetcher, metrics) = (store.clone(), fetcher.clone(), metrics.clone());
                tokio::spawn(async move {
                    let name = feed.config.name;
                    if let Err(error) = poll_feed(&store, &fetcher, Some(&metrics), &name).await {
                        tracing::debug!(feed = %name, %error, "poll ended in error");
                    }
                    drop(slot);
                });
            }
            Ok(None) => {
                drop(slot);
                tokio::select! {
                    () = &mut stopping => return,
                    () = tokio::time::sleep(IDLE_WAIT) => {}
                }
            }
            Err(error) => {
                drop(slot);
                tracing::warn!(%error, "cannot claim a feed to poll");
                tokio::select! {
                    () = &mut stopping => return,
                    () = tokio::time::sleep(IDLE_WAIT * 4) => {}
                }
            }
        }
    }
}
