//! The search read model (`story_search`), kept by an asynchronous
//! projector, woken by this process's appends (a new report is searchable
//! about 12 ms after its append returns) and polling for other processes':
//! each step reads the settled feed after its checkpoint,
//! recomputes the search rows of the developments those events touched from
//! `story_developments`, and moves the checkpoint, all in one transaction.
//! Steps are idempotent (rows are recomputed from the current snapshot), so
//! replaying a step after a crash changes nothing.

use std::time::Duration;

use tokio::sync::watch;
use uuid::Uuid;

use super::feed::FIRST_UNSETTLED_POSITION;
use super::{Store, StoreError};

/// The checkpoint row of this projector.
const PROJECTOR: &str = "story_search";

/// Feed events read per step.
const STEP_EVENTS: i64 = 2_000;

/// How long a catch-up waits for older transactions to end.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(30);

/// How often a caught-up projector looks for events that other processes
/// appended; this process's own appends wake it at once.
const POLL_INTERVAL: Duration = Duration::from_millis(100);

/// How long a woken projector lets further appends gather (and commits in
/// flight settle) before it steps: one step for a burst, not one per append.
const GATHER: Duration = Duration::from_millis(10);

/// The search row of a development, from its snapshot row `d`. One
/// definition for the projector and for rebuild.
macro_rules! search_row {
    () => {
        "to_tsvector('english'::regconfig,
             coalesce(d.payload ->> 'headline', '') || ' ' ||
             coalesce(d.payload ->> 'summary', '') || ' ' ||
             coalesce(d.payload #>> '{location,name}', '') || ' ' ||
             coalesce(jsonb_path_query_array(d.payload, '$.actors[*].name')::text, '') || ' ' ||
             coalesce(jsonb_path_query_array(d.payload, '$.quotes[*].text')::text, '') || ' ' ||
             coalesce(d.payload ->> 'tags', '')),
         lower(jsonb_path_query_array(d.payload, '$.actors[*].name')::text)::jsonb"
    };
}

/// Recomputes the rows of the developments in `$1`/`$2` (story, development).
/// Each is looked up by its key (LIMIT 1 keeps the planner from turning a
/// few hundred lookups into a hash join over every development).
const UPSERT_TOUCHED: &str = concat!(
    "INSERT INTO story_search (story_id, development_id, search, actor_names)
     SELECT d.story_id, d.development_id, ",
    search_row!(),
    " FROM unnest($1::uuid[], $2::uuid[]) AS t(story_id, development_id)
     CROSS JOIN LATERAL (
         SELECT * FROM story_developments d
         WHERE d.story_id = t.story_id AND d.development_id = t.development_id
           AND d.retracted_in_version IS NULL
         LIMIT 1
     ) AS d
     ON CONFLICT (story_id, development_id)
     DO UPDATE SET search = EXCLUDED.search, actor_names = EXCLUDED.actor_names"
);

/// Drops the rows of retracted developments (`$1`/`$2`: story,
/// development); a retraction is final, so no snapshot check is needed.
const DROP_RETRACTED: &str = "
    DELETE FROM story_search s
    USING unnest($1::uuid[], $2::uuid[]) AS t(story_id, development_id)
    WHERE s.story_id = t.story_id AND s.development_id = t.development_id";

/// The whole table from the snapshot, for rebuild (inside its transaction).
pub(super) const REBUILD_SEARCH: [&str; 2] = [
    "TRUNCATE story_search",
    concat!(
        "INSERT INTO story_search (story_id, development_id, search, actor_names)
         SELECT d.story_id, d.development_id, ",
        search_row!(),
        " FROM story_developments d WHERE d.retracted_in_version IS NULL"
    ),
];

/// After a rebuild under its lock every event is settled: the model is
/// current up to the last one.
pub(super) const REBUILD_SEARCH_CHECKPOINT: &str = "
    UPDATE projector_checkpoints SET position = (SELECT coalesce(max(position), 0) FROM events)
    WHERE projector = 'story_search'";

#[derive(sqlx::FromRow)]
struct Touched {
    position: i64,
    story_id: Uuid,
    development_id: Option<Uuid>,
    retracted: bool,
}

/// The (story, development) pairs of `events` that `keep` admits, as the
/// two arrays the statements take.
fn pairs(events: &[Touched], keep: impl Fn(&Touched) -> bool) -> (Vec<Uuid>, Vec<Uuid>) {
    events
        .iter()
        .filter(|e| keep(e))
        .filter_map(|e| e.development_id.map(|d| (e.story_id, d)))
        .unzip()
}

impl Store {
    /// One projector step; the number of feed events it consumed (0 when
    /// caught up, or when another instance holds the checkpoint).
    pub async fn project_search_step(&self) -> Result<usize, StoreError> {
        let mut tx = self.pool.begin().await?;
        let checkpoint: Option<i64> = sqlx::query_scalar(
            "SELECT position FROM projector_checkpoints WHERE projector = $1
             FOR UPDATE SKIP LOCKED",
        )
        .bind(PROJECTOR)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(checkpoint) = checkpoint else {
            return Ok(0);
        };
        let sql = format!(
            "SELECT position, story_id,
                    CASE WHEN type IN ('DevelopmentReported', 'DevelopmentCorrected',
                                       'DevelopmentRetracted')
                         THEN (payload ->> 'developmentId')::uuid END AS development_id,
                    type = 'DevelopmentRetracted' AS retracted
             FROM events
             WHERE position > $1 AND position < {FIRST_UNSETTLED_POSITION}
             ORDER BY position LIMIT $2"
        );
        let events: Vec<Touched> = sqlx::query_as(&sql)
            .bind(checkpoint)
            .bind(STEP_EVENTS)
            .fetch_all(&mut *tx)
            .await?;
        let Some(last) = events.last().map(|e| e.position) else {
            return Ok(0);
        };
        let touched = pairs(&events, |_| true);
        let retracted = pairs(&events, |e| e.retracted);
        for (statement, (stories, developments)) in
            [(UPSERT_TOUCHED, touched), (DROP_RETRACTED, retracted)]
        {
            if stories.is_empty() {
                continue;
            }
            sqlx::query(statement)
                .bind(&stories)
                .bind(&developments)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query("UPDATE projector_checkpoints SET position = $2 WHERE projector = $1")
            .bind(PROJECTOR)
            .bind(last)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(events.len())
    }

    /// Brings the search model up to every event committed before the
    /// call (waiting for older transactions to settle first).
    pub async fn catch_up_search(&self) -> Result<(), StoreError> {
        self.wait_until_settled(SETTLE_TIMEOUT).await?;
        self.project_pending_search().await
    }

    /// Steps until no settled event is left. A step that read less than a
    /// full step reached the settled end of the feed: stepping again at once
    /// would spin on the few events committed meanwhile.
    async fn project_pending_search(&self) -> Result<(), StoreError> {
        while self.project_search_step().await? == STEP_EVENTS as usize {}
        Ok(())
    }

    /// Keeps the search model current until `stop` turns true.
    pub async fn run_search_projector(&self, mut stop: watch::Receiver<bool>) {
        loop {
            if let Err(error) = self.project_pending_search().await {
                if matches!(error, StoreError::Database(sqlx::Error::PoolClosed)) {
                    return;
                }
                tracing::warn!(%error, "search projector step failed; retrying");
            }
            tokio::select! {
                () = tokio::time::sleep(POLL_INTERVAL) => {}
                () = async {
                    self.appended.notified().await;
                    tokio::time::sleep(GATHER).await;
                } => {}
                () = async { let _ = stop.wait_for(|stopping| *stopping).await; } => return,
            }
        }
    }
}
