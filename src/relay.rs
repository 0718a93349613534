//! The JetStream relay (DESIGN §13): every event, in global position
//! order, published once to NATS JetStream, on `<subject>.<storyId>`, its
//! export line as the body, its id as `Nats-Msg-Id` and its position as
//! `Storyline-Position`.
//!
//! The relay keeps no checkpoint of its own: on start it reads the
//! stream's last message and goes on after its position. Each publish
//! names the stream's sequence it expects to follow
//! (`Nats-Expected-Last-Sequence`), so a relay that lost its lock without
//! knowing is refused rather than interleaved; a publish retried after a
//! lost acknowledgement is dropped by the stream's duplicate window. One
//! relay publishes at a time (an advisory lock in PostgreSQL); another
//! waits and takes over when it dies. NATS or PostgreSQL down: it backs
//! off, starts again from the stream's last message, and skips nothing.

use std::future::Future;
use std::num::NonZeroUsize;
use std::time::Duration;

use async_nats::jetstream::message::PublishMessage;
use async_nats::jetstream::{self, context::PublishAckFuture, stream};
use bytes::Bytes;
use lru::LruCache;

use crate::domain::{Position, StoryId};
use crate::exchange::export_line;
use crate::metrics::Metrics;
use crate::store::{FeedFilter, RecordedEvent, Store, StoreError};

/// The header that carries an event's position.
pub const POSITION_HEADER: &str = "Storyline-Position";

/// Events read from the feed, and published before their acknowledgements
/// are awaited, at a time.
const BATCH: i64 = 256;

/// How long the relay sleeps when the feed has nothing new.
const IDLE: Duration = Duration::from_millis(100);

/// The longest pause between attempts after a failure.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// How often the lag is measured.
const LAG_EVERY: Duration = Duration::from_secs(1);

/// Where the relay publishes.
#[derive(Debug, Clone)]
pub struct RelayConfig {
    pub nats_url: String,
    /// The JetStream stream: used as it is when it exists, created (file
    /// storage, a two-minute duplicate window) when not.
    pub stream: String,
    /// Events go to `<subject>.<storyId>`.
    pub subject: String,
}

/// Why one run of the relay stopped.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("NATS: {0}")]
    Nats(String),
    #[error("the stream {stream} holds a last message without a {POSITION_HEADER} header: it is not storyline's")]
    ForeignStream { stream: String },
    #[error("the lock's connection to PostgreSQL was lost")]
    LockLost,
}

fn nats(error: impl std::fmt::Display) -> RelayError {
    RelayError::Nats(error.to_string())
}

/// Relays until `stopping` resolves, starting again after every failure.
pub async fn relay_events(
    store: Store,
    config: RelayConfig,
    metrics: Metrics,
    stopping: impl Future<Output = ()>,
) {
    tokio::pin!(stopping);
    let mut backoff = Duration::from_millis(100);
    loop {
        let run = relay_once(&store, &config, &metrics);
        tokio::select! {
            () = &mut stopping => return,
            ended = run => match ended {
                Ok(()) => return,
                Err(error) => {
                    tracing::warn!(%error, retry_in = ?backoff, "the relay stopped; starting again");
                }
            },
        }
        tokio::select! {
            () = &mut stopping => return,
            () = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// One run: the lock, the stream, then events until something fails.
async fn relay_once(
    store: &Store,
    config: &RelayConfig,
    metrics: &Metrics,
) -> Result<(), RelayError> {
    let mut lock = store.hold_relay_lock(&config.stream).await?;
    tracing::info!(stream = %config.stream, "the relay holds the lock");
    let client = async_nats::connect(&config.nats_url).await.map_err(nats)?;
    let jetstream = jetstream::new(client);
    let mut stream = jetstream
        .get_or_create_stream(stream::Config {
            name: config.stream.clone(),
            subjects: vec![format!("{}.>", config.subject)],
            storage: stream::StorageType::File,
            duplicate_window: Duration::from_secs(120),
            ..Default::default()
        })
        .await
        .map_err(nats)?;
    let (mut last_sequence, mut after) = checkpoint(&mut stream, &config.stream).await?;
    tracing::info!(last_sequence, after = %after, "the relay goes on after the stream's last message");
    let mut slugs = Slugs::new(store.clone());
    let mut lag_measured = std::time::Instant::now() - LAG_EVERY;
    loop {
        if lag_measured.elapsed() >= LAG_EVERY {
            measure_lag(store, after, metrics).await?;
            lag_measured = std::time::Instant::now();
        }
        let events = store.read_feed(after, BATCH, &FeedFilter::all()).await?;
        if events.is_empty() {
            if !lock.is_held().await {
                return Err(RelayError::LockLost);
            }
            tokio::time::sleep(IDLE).await;
            continue;
        }
        let mut pending: Vec<(Position, PublishAckFuture)> = Vec::with_capacity(events.len());
        for (offset, event) in (1u64..).zip(events) {
            let position = event.position;
            let subject = format!("{}.{}", config.subject, event.story_id);
            let message = message_of(&mut slugs, event)
                .await?
                .expected_last_sequence(last_sequence + offset - 1);
            let ack = jetstream
                .send_publish(subject, message)
                .await
                .map_err(nats)?;
            pending.push((position, ack));
        }
        // In order: the first refusal (a stale relay, a lost message)
        // ends the run, which starts again from the stream's last message.
        for (position, ack) in pending {
            let ack = ack.await.map_err(nats)?;
            last_sequence = ack.sequence;
            after = position;
            metrics.record_relayed(1);
        }
    }
}

/// The stream's last sequence and the position of the event it holds
/// (the feed's start for an empty stream).
async fn checkpoint(
    stream: &mut stream::Stream,
    name: &str,
) -> Result<(u64, Position), RelayError> {
    let last_sequence = stream.info().await.map_err(nats)?.state.last_sequence;
    if last_sequence == 0 {
        return Ok((0, Position::START));
    }
    let message = stream.get_raw_message(last_sequence).await.map_err(nats)?;
    let position = message
        .headers
        .get(POSITION_HEADER)
        .and_then(|value| value.as_str().parse::<Position>().ok())
        .ok_or_else(|| RelayError::ForeignStream {
            stream: name.to_owned(),
        })?;
    Ok((last_sequence, position))
}

/// The message of one event: its export line, id and position.
async fn message_of(slugs: &mut Slugs, event: RecordedEvent) -> Result<PublishMessage, RelayError> {
    let slug = slugs.of(event.story_id).await?;
    let id = event.id.0.to_string();
    let position = event.position.to_string();
    let line = export_line(&slug, event)
        .map_err(|e| RelayError::Nats(format!("cannot write the event as a line: {e}")))?;
    Ok(PublishMessage::build()
        .payload(Bytes::from(line))
        .message_id(id)
        .header(POSITION_HEADER, position.as_str()))
}

async fn measure_lag(store: &Store, after: Position, metrics: &Metrics) -> Result<(), RelayError> {
    let lag = store.relay_lag(after).await?;
    let seconds = lag.oldest_recorded_at.map_or(0.0, |at| {
        (chrono::Utc::now() - at).num_milliseconds().max(0) as f64 / 1000.0
    });
    metrics.record_relay_lag(lag.events, seconds);
    Ok(())
}

/// Stories' slugs, the most recently used kept.
struct Slugs {
    store: Store,
    known: LruCache<StoryId, String>,
}

impl Slugs {
    fn new(store: Store) -> Slugs {
        let capacity = NonZeroUsize::new(10_000).unwrap_or(NonZeroUsize::MIN);
        Slugs {
            store,
            known: LruCache::new(capacity),
        }
    }

    async fn of(&mut self, story: StoryId) -> Result<String, RelayError> {
        if let Some(slug) = self.known.get(&story) {
            return Ok(slug.clone());
        }
        let slug = self
            .store
            .story_header(story)
            .await?
            .map(|header| header.slug)
            .unwrap_or_default();
        self.known.put(story, slug.clone());
        Ok(slug)
    }
}
