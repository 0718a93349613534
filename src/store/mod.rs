//! Every SQL statement of storyline lives under this module, each whole in
//! its own file under `sql/` (see [`sql!`]).

/// The text of `src/store/sql/<name>.sql`, embedded at build time: each
/// statement the store sends is that file, exactly as PostgreSQL receives
/// it, its parameters named at the top. Nothing composes statements at run
/// time, so no statement can drift from its file.
macro_rules! sql {
    ($name:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/src/store/sql/",
            $name,
            ".sql"
        ))
    };
}

mod append;
mod batch;
mod feed;
mod feeds;
mod insert;
mod live;
mod notify;
mod project;
mod rebuild;
mod refusal;
mod relay;
mod replay;
mod replication;
mod reports;
mod search;
mod snapshot;
mod stories;
mod tokens;

use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::migrate::MigrateDatabase;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Postgres};

use crate::domain::events::{DecodeError, EventType, StoryEvent};
use crate::domain::replay::RecordedStoryEvent;
use crate::domain::{EventId, Position, StoryId, Version};

pub use append::{Kept, MAX_EVENTS_PER_TRANSACTION};
pub use feed::{FeedFilter, HistoryFilter, VersionWindow};
pub use feeds::{FeedConfig, FeedLock, FeedState, PollRecord};
pub use live::{FeedSource, LiveEvent, LiveFeed, LiveItem, LiveSubscription, LIVE_BUFFER};
pub use notify::EVENTS_CHANNEL;
pub use rebuild::RebuildReport;
pub use relay::{RelayLag, RelayLock};
pub use replication::{Replayed, WalPosition};
pub use reports::{
    Citation, Clue, KeptReport, ReportArrivals, ReportFilter, ReportListKey, ReportStatus,
    StoredReport, StoryMatch, REPORTS_CHANNEL,
};
pub use search::SearchDifference;
pub use stories::{StoryFilter, StoryHeader, StoryListKey};
pub use tokens::{Credential, Principal, Scope, TokenDigest, TokenError, TokenListing};

/// The default database of the server and the CLI.
pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/storyline";

/// What can go wrong when appending or reading events.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("expected version {expected} but the story is at version {actual}")]
    VersionConflict { expected: Version, actual: Version },
    #[error("event id {0} was already used for different content")]
    EventIdReused(EventId),
    #[error(transparent)]
    Rule(#[from] crate::domain::fold::FoldError),
    #[error("unreadable event: {0}")]
    Undecodable(DecodeError),
    #[error("the slug {0:?} is taken by another story")]
    SlugTaken(String),
    #[error("event id {0} appears twice in one append")]
    EventIdRepeated(EventId),
    #[error("an append needs at least one event")]
    EmptyAppend,
    #[error("at most {MAX_EVENTS_PER_TRANSACTION} events fit in one transaction")]
    TooManyEvents,
    #[error(
        "an older transaction is still running in the database cluster; try again when it ends"
    )]
    NotSettled,
    #[error("the story is under heavy contention; retry the append")]
    Contention,
    #[error("the token is unknown or revoked")]
    TokenNotLive,
    #[error("a report with this uri and version (or, without a uri, this text) holds other text")]
    ReportIdentityClash,
    #[error("no report has the id {0}")]
    UnknownReport(uuid::Uuid),
    #[error(transparent)]
    Search(#[from] crate::domain::search::QueryError),
    #[error(transparent)]
    Offload(#[from] crate::offload::OffloadFailed),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

impl StoreError {
    /// Whether the database could not be reached, or did not answer within
    /// the statement timeout: nothing was read, an append may or may not
    /// have committed, and the same request may succeed later. (NotSettled
    /// and Contention say "retry" too, but of a database that answered.)
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Database(error) => is_unavailable(error),
            _ => false,
        }
    }
}

fn is_unavailable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => true,
        // Cancelled by statement_timeout, a lock not had within
        // lock_timeout, a connection lost, the server shutting down or
        // full.
        sqlx::Error::Database(e) => e.code().is_some_and(|code| {
            matches!(code.as_ref(), "57014" | "55P03" | "53300")
                || code.starts_with("08")
                || code.starts_with("57P")
        }),
        _ => false,
    }
}

/// An event to append: what the caller decides. The store decides the rest
/// (position, version, recorded time).
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub id: EventId,
    pub event_type: EventType,
    pub schema_version: i32,
    pub payload: serde_json::Value,
    /// When it happened in the world (the contract's Event.occurredAt).
    /// `None` lets a one-event append derive it: the development's
    /// occurredAt for development events, the recorded time for story-level
    /// ones. Batches of several events must give it for corrections and
    /// retractions.
    pub occurred_at: Option<DateTime<Utc>>,
}

impl NewEvent {
    /// A domain event to append under a fresh id. `occurred_at` is the
    /// contract's Event.occurredAt: the target development's (corrected)
    /// time, or `None` for story-level events.
    pub fn from_event(event: &StoryEvent, occurred_at: Option<DateTime<Utc>>) -> NewEvent {
        NewEvent {
            id: EventId::generate(),
            event_type: event.event_type(),
            schema_version: crate::domain::events::SCHEMA_VERSION,
            payload: event.to_payload(),
            occurred_at,
        }
    }
}

/// Who appended, and in answer to what. Stored with every event.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventMetadata {
    pub principal: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<uuid::Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub causation_id: Option<uuid::Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

impl EventMetadata {
    pub fn by(principal: impl Into<String>) -> Self {
        Self {
            principal: principal.into(),
            ..Self::default()
        }
    }
}

/// An event as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedEvent {
    pub position: Position,
    pub id: EventId,
    pub story_id: StoryId,
    pub version: Version,
    pub event_type: EventType,
    pub schema_version: i32,
    pub payload: serde_json::Value,
    pub metadata: serde_json::Value,
    pub occurred_at: DateTime<Utc>,
    pub recorded_at: DateTime<Utc>,
}

impl RecordedEvent {
    /// The domain event, its payload upcast to the current schema.
    pub fn decode(&self) -> Result<RecordedStoryEvent, DecodeError> {
        Ok(RecordedStoryEvent {
            version: self.version,
            recorded_at: self.recorded_at,
            event: StoryEvent::from_payload(
                self.event_type,
                self.schema_version,
                self.payload.clone(),
            )?,
        })
    }
}

/// The answer to an append.
#[derive(Debug, Clone, PartialEq)]
pub struct AppendOutcome {
    /// The events appended, or on an idempotent retry those stored by the
    /// first call.
    pub events: Vec<RecordedEvent>,
    /// True when this call was a retry of an earlier one and wrote nothing.
    pub deduplicated: bool,
}

/// Settings for [`Store::connect`].
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    pub database_url: String,
    pub max_connections: u32,
    /// Replay checkpoints are stored every this many versions.
    pub checkpoint_every: u32,
    /// How long a statement, a lock wait or a wait for a connection may
    /// take before it fails; `None`: no limit (the CLI's rebuild and import).
    pub statement_timeout: Option<Duration>,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        Self {
            database_url: DEFAULT_DATABASE_URL.to_owned(),
            max_connections: 16,
            checkpoint_every: DEFAULT_CHECKPOINT_EVERY,
            statement_timeout: None,
        }
    }
}

/// Versions between stored replay checkpoints, unless configured.
pub const DEFAULT_CHECKPOINT_EVERY: u32 = 100;

/// The event store: a pool plus the notifier that wakes live readers.
#[derive(Clone)]
pub struct Store {
    pool: PgPool,
    notifier: notify::Notifier,
    batcher: batch::Batcher,
    /// Whether one-event reports go through `batcher` (see batch.rs).
    group_appends: bool,
    known_tokens: tokens::KnownTokens,
    checkpoint_every: i32,
    recent_folds: replay::RecentFolds,
}

impl Store {
    /// Connects, creating the database when it is missing, and migrates it.
    /// The migration runs first on a connection of its own, without the
    /// statement timeout (re-analysing a large search model may take longer
    /// than a request may); it also settles the position offset (see
    /// migrations/0009), which every serving connection is then told.
    pub async fn connect(options: &ConnectOptions) -> Result<Store, StoreError> {
        create_database_if_missing(&options.database_url).await?;
        let connect = PgConnectOptions::from_str(&options.database_url)?;
        let migrating = PgPoolOptions::new()
            .max_connections(1)
            .connect_with(connect.clone())
            .await?;
        let offset = Store::from_pool(migrating).migrate_and_close().await?;
        let pool = serving_pool(options, connect, offset).await?;
        Ok(Store::from_pool(pool).with_checkpoint_every(options.checkpoint_every))
    }

    /// Migrates, then tells the position offset the migration settled.
    async fn migrate_and_close(self) -> Result<i64, StoreError> {
        let migrated = match self.migrate().await {
            Ok(()) => self.position_offset().await,
            Err(e) => Err(e),
        };
        self.close().await;
        migrated
    }

    /// What this database adds to transaction ids to make positions.
    pub async fn position_offset(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar(sql!("positions/offset"))
            .fetch_one(&self.pool)
            .await?)
    }

    /// Raises the position offset if the stored positions lie ahead of the
    /// cluster's transaction ids (a restore into another cluster).
    async fn rebase_positions_if_restored(&self) -> Result<(), StoreError> {
        let raised: Option<i64> = sqlx::query_scalar(sql!("positions/rebase"))
            .fetch_optional(&self.pool)
            .await?;
        if let Some(offset) = raised {
            tracing::warn!(
                offset,
                "stored positions were ahead of this cluster's transactions (a restore?): \
                 new positions now go above them"
            );
        }
        Ok(())
    }

    /// Wraps an existing pool (tests get theirs from `#[sqlx::test]`). Must
    /// be called inside a Tokio runtime: it starts the notifier and the append
    /// batcher.
    pub fn from_pool(pool: PgPool) -> Store {
        let notifier = notify::Notifier::start(pool.clone());
        let batcher = batch::Batcher::start(&pool);
        Store {
            pool,
            notifier,
            batcher,
            group_appends: true,
            known_tokens: tokens::KnownTokens::new(),
            checkpoint_every: DEFAULT_CHECKPOINT_EVERY as i32,
            recent_folds: replay::RecentFolds::new(),
        }
    }

    /// Stores a replay checkpoint every `versions` versions (at least 1).
    /// The replays it keeps in memory start afresh.
    pub fn with_checkpoint_every(mut self, versions: u32) -> Store {
        self.checkpoint_every = i32::try_from(versions.max(1)).unwrap_or(i32::MAX);
        self.recent_folds = replay::RecentFolds::new();
        self
    }

    /// With `false`, every append is its own transaction: concurrent
    /// one-event reports no longer share statements and commits. For
    /// measuring; grouping is on by default.
    pub fn with_grouped_appends(mut self, grouped: bool) -> Store {
        self.group_appends = grouped;
        self
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Applies the embedded migrations that have not run yet.
    /// Stored search documents of another analysis are then recomputed.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let applied: std::collections::HashSet<i64> =
            sqlx::query_scalar(sql!("read/applied_migrations"))
                .fetch_all(&self.pool)
                .await
                .unwrap_or_default()
                .into_iter()
                .collect();
        MIGRATOR
            .run(&self.pool)
            .await
            .map_err(|e| StoreError::Database(e.into()))?;
        for migration in MIGRATOR.iter() {
            if !applied.contains(&migration.version) {
                tracing::info!(
                    version = migration.version,
                    migration = %migration.description,
                    "migration applied"
                );
            }
        }
        self.rebase_positions_if_restored().await?;
        self.reanalyse_search_if_stale().await?;
        Ok(())
    }

    /// The `readAfter` of a write that has committed: the WAL insert
    /// position now (DESIGN §13).
    pub async fn read_after(&self) -> Result<String, StoreError> {
        Ok(sqlx::query_scalar(sql!("read/wal_insert_position"))
            .fetch_one(&self.pool)
            .await?)
    }

    /// True when the database answers a trivial query.
    pub async fn is_reachable(&self) -> bool {
        sqlx::query(sql!("read/ping"))
            .execute(&self.pool)
            .await
            .is_ok()
    }

    /// Whether every connection of the pool is in use: a request now waits
    /// for one, however well the database answers.
    pub fn is_pool_exhausted(&self) -> bool {
        let max = self.pool.options().get_max_connections();
        self.pool.size() >= max && self.pool.num_idle() == 0
    }

    /// Fresh planner statistics for the tables a large load filled
    /// (`sql/maintenance/analyze_after_load.sql`).
    pub async fn analyze_after_load(&self) -> Result<(), StoreError> {
        sqlx::raw_sql(sql!("maintenance/analyze_after_load"))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Waits until every wake-up queued so far has been sent to Postgres.
    /// Short-lived processes (the CLI) call it before exiting.
    pub async fn flush_notifications(&self) {
        self.notifier.flush().await;
    }

    /// Closes the pool after flushing notifications.
    pub async fn close(&self) {
        self.flush_notifications().await;
        self.batcher.close().await;
        self.pool.close().await;
    }
}

/// The pool a store serves from. With a timeout, every statement and lock
/// wait on its connections gives up after it, and so does waiting for a
/// connection: a request then fails at once (UNAVAILABLE) rather than
/// waiting for as long as a lock is held.
async fn serving_pool(
    options: &ConnectOptions,
    connect: PgConnectOptions,
    position_offset: i64,
) -> Result<PgPool, StoreError> {
    let offset = position_offset.to_string();
    let connect = connect.options([("storyline.position_offset", offset.as_str())]);
    let (connect, acquire_timeout) = match options.statement_timeout {
        Some(timeout) => {
            let millis = timeout.as_millis().max(1).to_string();
            let connect = connect.options([
                ("statement_timeout", millis.as_str()),
                ("lock_timeout", millis.as_str()),
            ]);
            (connect, timeout)
        }
        None => (connect, Duration::from_secs(10)),
    };
    Ok(PgPoolOptions::new()
        .max_connections(options.max_connections)
        .acquire_timeout(acquire_timeout)
        // A ping before every acquire would double the round trips of a
        // one-statement append; a broken connection fails the statement
        // and is replaced anyway.
        .test_before_acquire(false)
        .connect_with(connect)
        .await?)
}

/// The migrations, embedded in the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

async fn create_database_if_missing(url: &str) -> Result<(), StoreError> {
    if Postgres::database_exists(url).await? {
        return Ok(());
    }
    match Postgres::create_database(url).await {
        Ok(()) => {
            let name = url.rsplit('/').next().unwrap_or_default();
            let name = name.split('?').next().unwrap_or_default();
            tracing::info!(database = name, "created the database");
            Ok(())
        }
        // Another process created it between our check and our create.
        Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42P04") => Ok(()),
        Err(e) => Err(e.into()),
    }
}
