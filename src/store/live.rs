//! Live delivery: one reader per process follows the global feed and fans
//! each new event out to every subscriber.
//!
//! The reader LISTENs on a dedicated connection; a notification only says
//! "the feed may have grown". It then reads by position (honouring the
//! ordering guarantee of `feed`), so a lost or coalesced notification, or a
//! LISTEN connection that dropped and was re-established, costs at most a
//! poll interval, never an event. Every server process on the database runs
//! its own reader, so each delivers every event to its own subscribers.
//!
//! Fan-out is a bounded ring (`tokio::sync::broadcast`): a subscriber that
//! stops reading cannot hold the reader back or make it buffer without
//! bound; once it has fallen a whole ring behind it is told so, with the
//! position to resume after.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use sqlx::postgres::PgListener;
use tokio::sync::{broadcast, watch};

use super::notify::EVENTS_CHANNEL;
use super::{RecordedEvent, Store, StoreError};
use crate::domain::Position;

/// Events the ring holds: how far a subscriber may fall behind.
pub const LIVE_BUFFER: usize = 4096;

/// How long the reader waits for a notification before reading anyway.
const POLL_INTERVAL: Duration = Duration::from_millis(500);

/// Events read from the feed per statement.
const READ_BATCH: i64 = 1000;

/// How long to wait before reading again after the database failed.
const RETRY_DELAY: Duration = Duration::from_secs(1);

/// The process's live feed. Cheap to clone; the reader starts with the
/// first subscriber and stops when the last one has gone.
#[derive(Clone)]
pub struct LiveFeed {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    /// Where the reader reads at each wake-up, when not from `store` (a
    /// replica that has replayed the primary's position, DESIGN §13).
    source: OnceLock<FeedSource>,
    reader: Mutex<Option<Reader>>,
    shutdown: watch::Sender<bool>,
}

/// Gives, at each wake-up of the reader, the store to read the feed from.
pub type FeedSource =
    Arc<dyn Fn() -> futures_util::future::BoxFuture<'static, Store> + Send + Sync>;

/// The running reader: its ring and the last position it has sent.
#[derive(Clone)]
struct Reader {
    ring: broadcast::Sender<LiveEvent>,
    head: Arc<AtomicI64>,
}

/// An event as the reader sent it, with whether its story was readable
/// without a token when the reader read it (DESIGN §10: a story that turns
/// PUBLIC flows to anonymous subscribers from then on).
#[derive(Debug, Clone, PartialEq)]
pub struct LiveEvent {
    pub event: Arc<RecordedEvent>,
    pub public: bool,
}

/// What a live subscriber gets next.
#[derive(Debug, Clone, PartialEq)]
pub enum LiveItem {
    Event(LiveEvent),
    /// The subscriber fell more than [`LIVE_BUFFER`] events behind; it must
    /// resubscribe after the last position it received.
    FellBehind,
}

/// One subscriber: the ring from the moment it subscribed, and where the
/// reader stood then.
pub struct LiveSubscription {
    ring: broadcast::Receiver<LiveEvent>,
    /// Every event at or below it had been sent on the ring before this
    /// subscription existed; every later one will be on its receiver.
    pub head_at_start: Position,
    shutdown: watch::Receiver<bool>,
}

impl LiveSubscription {
    /// The next event the reader sends, `FellBehind`, or `None` when the
    /// server is shutting down.
    pub async fn next(&mut self) -> Option<LiveItem> {
        if *self.shutdown.borrow() {
            return None;
        }
        tokio::select! {
            received = self.ring.recv() => match received {
                Ok(event) => Some(LiveItem::Event(event)),
                Err(broadcast::error::RecvError::Lagged(_)) => Some(LiveItem::FellBehind),
                Err(broadcast::error::RecvError::Closed) => None,
            },
            () = stopping(&mut self.shutdown) => None,
        }
    }
}

impl Store {
    /// The live feed over this store's database. Nothing is opened until
    /// the first subscriber arrives.
    pub fn live_feed(&self) -> LiveFeed {
        LiveFeed {
            inner: Arc::new(Inner {
                store: self.clone(),
                source: OnceLock::new(),
                reader: Mutex::new(None),
                shutdown: watch::channel(false).0,
            }),
        }
    }
}

impl LiveFeed {
    /// Reads the feed where `source` says at each wake-up (LISTEN stays on
    /// this feed's own store). Set once, before the first subscriber.
    pub fn read_through(&self, source: FeedSource) {
        let _ = self.inner.source.set(source);
    }

    /// Joins the live feed, starting the reader if none runs.
    pub async fn subscribe(&self) -> Result<LiveSubscription, StoreError> {
        if let Some(subscription) = self.join_running_reader() {
            return Ok(subscription);
        }
        let listener = self.listen().await?;
        // The reader starts from the settled head: every event at or below
        // it is readable now, every later one it will send.
        let head = self.inner.store.settled_head().await?;
        let mut slot = self.lock_reader();
        if let Some(reader) = slot.as_ref().filter(|r| r.ring.receiver_count() > 0) {
            // Another subscriber started a reader meanwhile; ours is dropped.
            return Ok(reader.join(self.inner.shutdown.subscribe()));
        }
        let reader = Reader {
            ring: broadcast::channel(LIVE_BUFFER).0,
            head: Arc::new(AtomicI64::new(head.0)),
        };
        let subscription = reader.join(self.inner.shutdown.subscribe());
        *slot = Some(reader.clone());
        drop(slot);
        tokio::spawn(follow_the_feed(self.clone(), listener, reader));
        Ok(subscription)
    }

    /// Resolves once [`LiveFeed::shutdown`] has been called.
    pub fn stopping(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let mut shutdown = self.inner.shutdown.subscribe();
        async move { stopping(&mut shutdown).await }
    }

    /// Ends every live subscription (the server is shutting down).
    pub fn shutdown(&self) {
        self.inner.shutdown.send_replace(true);
    }

    fn lock_reader(&self) -> std::sync::MutexGuard<'_, Option<Reader>> {
        self.inner.reader.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Joins the reader if one runs. Under the same lock as
    /// [`LiveFeed::retire_if_unheard`], so a reader never retires between a
    /// subscriber finding it and joining it.
    fn join_running_reader(&self) -> Option<LiveSubscription> {
        self.lock_reader()
            .as_ref()
            .filter(|r| r.ring.receiver_count() > 0)
            .map(|r| r.join(self.inner.shutdown.subscribe()))
    }

    async fn listen(&self) -> Result<PgListener, StoreError> {
        let mut listener = PgListener::connect_with(&self.inner.store.pool).await?;
        listener.listen(EVENTS_CHANNEL).await?;
        Ok(listener)
    }

    /// Ends the reader if nobody listens any more; true if it did.
    fn retire_if_unheard(&self, reader: &Reader) -> bool {
        let mut slot = self.lock_reader();
        if reader.ring.receiver_count() > 0 {
            return false;
        }
        if slot
            .as_ref()
            .is_some_and(|r| r.ring.same_channel(&reader.ring))
        {
            *slot = None;
        }
        true
    }
}

impl Reader {
    fn join(&self, shutdown: watch::Receiver<bool>) -> LiveSubscription {
        // Subscribe before reading the head: an event sent in between is
        // then both at or below the head and on the receiver, never neither.
        let ring = self.ring.subscribe();
        LiveSubscription {
            ring,
            head_at_start: Position(self.head.load(Ordering::SeqCst)),
            shutdown,
        }
    }
}

/// The reader: reads every settled event after its head and sends it on the
/// ring, then waits for a notification (or the poll interval).
async fn follow_the_feed(live: LiveFeed, mut listener: PgListener, reader: Reader) {
    let store = live.inner.store.clone();
    let mut shutdown = live.inner.shutdown.subscribe();
    loop {
        // The reader's head is a position, so whichever database is read,
        // nothing is skipped or sent twice.
        let source = match live.inner.source.get() {
            Some(source) => source().await,
            None => store.clone(),
        };
        loop {
            let after = Position(reader.head.load(Ordering::SeqCst));
            match source.read_feed_marked(after, READ_BATCH).await {
                Ok(events) => {
                    let complete = events.len() < READ_BATCH as usize;
                    for (event, public) in events {
                        reader.head.store(event.position.0, Ordering::SeqCst);
                        let event = LiveEvent {
                            event: Arc::new(event),
                            public,
                        };
                        // No receiver: nobody to tell; checked below.
                        let _ = reader.ring.send(event);
                    }
                    if complete {
                        break;
                    }
                }
                Err(StoreError::Database(sqlx::Error::PoolClosed)) => return,
                Err(error) => {
                    tracing::warn!(%error, "live reader could not read the feed; retrying");
                    tokio::time::sleep(RETRY_DELAY).await;
                    break;
                }
            }
        }
        if live.retire_if_unheard(&reader) {
            return;
        }
        tokio::select! {
            received = tokio::time::timeout(POLL_INTERVAL, listener.try_recv()) => match received {
                // A notification, a re-established connection (`None`: events
                // may have been missed) or the poll interval: read again.
                Ok(Ok(_)) | Err(_) => {}
                Ok(Err(sqlx::Error::PoolClosed)) => return,
                Ok(Err(error)) => {
                    tracing::warn!(%error, "LISTEN connection failed; retrying");
                    tokio::time::sleep(RETRY_DELAY).await;
                }
            },
            () = stopping(&mut shutdown) => return,
        }
    }
}

/// Resolves once the server starts shutting down.
async fn stopping(shutdown: &mut watch::Receiver<bool>) {
    // An error means the sender is gone: the process is ending anyway.
    let _ = shutdown.wait_for(|stopping| *stopping).await.map(|_| ());
}
