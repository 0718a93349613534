//! Group commit for one-event appends of reported developments.
//!
//! Concurrent callers (one per HTTP request, say) hand their append to one
//! dispatcher, which sends everything waiting as a single statement: one
//! round trip, one plan execution and one commit for many appends, where
//! each alone would pay all three. A batch holds at most one append per
//! story, so its appends never race each other for a version; each keeps its
//! own expected version and token check, and one whose check fails is left
//! out of the batch's result, not failing the others. A batch that fails as
//! a whole (a used event id or development id, a writer elsewhere taking a
//! version first) is retried append by append by the callers, which then
//! learn exactly what went wrong.
//!
//! Nothing waits for a batch to fill: an append goes out at once when no
//! batch is in the database, and batches form only while one is.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;
use tokio::sync::{mpsc, oneshot, Semaphore};
use uuid::Uuid;

use super::tokens::TokenDigest;

/// Batches a process has in flight at once. One: the next batch gathers
/// while the current one runs, and two batches never race for one story.
/// (At 8 HTTP clients one gave 6,400 appends/s, two 6,100, three 5,600,
/// four 5,400: more slots make smaller batches and more commits.)
const BATCHES_IN_FLIGHT: usize = 1;

/// The most appends one statement carries.
const MAX_BATCH: usize = 128;

/// How long a batch waits for its connection (say, the server is at its
/// connection limit) before its appends go alone.
const BATCH_CONNECTION_WAIT: Duration = Duration::from_secs(2);

/// Appends that may wait for a slot before callers wait to hand theirs in.
const QUEUE_CAPACITY: usize = 4096;

/// One append handed to the dispatcher.
pub(super) struct Submission {
    pub story: Uuid,
    pub expected: Option<i32>,
    pub id: Uuid,
    pub schema_version: i32,
    /// JSON text: serialised once by the caller, parsed once by Postgres.
    pub payload: String,
    pub occurred_at: Option<DateTime<Utc>>,
    pub metadata: String,
    pub token: Option<TokenDigest>,
    /// The development's search document (tsvector text).
    pub search: Option<String>,
}

/// What the database decided for one appended event.
#[derive(Debug, sqlx::FromRow)]
pub(super) struct Placement {
    pub position: i64,
    pub version: i32,
    pub occurred_at: DateTime<Utc>,
    pub recorded_at: DateTime<Utc>,
}

/// The fate of one submission.
pub(super) enum Batched {
    Placed(Placement),
    /// A check failed for this append alone (version, token, story).
    NotPlaced,
    /// The batch failed as a whole: append on your own.
    Failed,
}

struct Pending {
    submission: Submission,
    reply: oneshot::Sender<Batched>,
}

#[derive(Clone)]
pub(super) struct Batcher {
    queue: mpsc::Sender<Pending>,
    pool: PgPool,
}

impl Batcher {
    /// Starts the dispatcher.
    pub(super) fn start(pool: &PgPool) -> Batcher {
        let (queue, inbox) = mpsc::channel(QUEUE_CAPACITY);
        let pool = batch_pool(pool);
        tokio::spawn(dispatch(pool.clone(), inbox));
        Batcher { queue, pool }
    }

    /// Closes the batches' connections; later appends go alone.
    pub(super) async fn close(&self) {
        self.pool.close().await;
    }

    pub(super) async fn submit(&self, submission: Submission) -> Batched {
        let (reply, decided) = oneshot::channel();
        let pending = Pending { submission, reply };
        if self.queue.send(pending).await.is_err() {
            return Batched::Failed;
        }
        decided.await.unwrap_or(Batched::Failed)
    }
}

/// Connections of their own for batches, to the same database as `pool`,
/// opened when first needed. Their statements always run a generic plan:
/// Postgres would otherwise plan the batch statement afresh on every call
/// (a plan that knows the array lengths looks cheaper than the generic one),
/// which costs more than executing it.
fn batch_pool(pool: &PgPool) -> PgPool {
    let options = (*pool.connect_options())
        .clone()
        .options([("plan_cache_mode", "force_generic_plan")]);
    PgPoolOptions::new()
        .max_connections(BATCHES_IN_FLIGHT as u32)
        // A batch that cannot get its connection soon fails, and its
        // appends go alone on the main pool rather than queue behind it.
        .acquire_timeout(BATCH_CONNECTION_WAIT)
        .test_before_acquire(false)
        .connect_lazy_with(options)
}

async fn dispatch(pool: PgPool, mut inbox: mpsc::Receiver<Pending>) {
    let slots = Arc::new(Semaphore::new(BATCHES_IN_FLIGHT));
    let mut waiting: VecDeque<Pending> = VecDeque::new();
    loop {
        let Ok(slot) = slots.clone().acquire_owned().await else {
            return;
        };
        if waiting.is_empty() {
            match inbox.recv().await {
                Some(pending) => waiting.push_back(pending),
                None => return,
            }
        }
        while let Ok(pending) = inbox.try_recv() {
            waiting.push_back(pending);
        }
        let batch = take_one_per_story(&mut waiting, MAX_BATCH);
        let pool = pool.clone();
        tokio::spawn(async move {
            run_batch(&pool, batch).await;
            drop(slot);
        });
    }
}

/// Up to `limit` appends from the front of `waiting`, no two for one
/// story, ordered by story; the rest stay, in order, for later batches.
fn take_one_per_story(waiting: &mut VecDeque<Pending>, limit: usize) -> Vec<Pending> {
    let mut stories = HashSet::new();
    let mut batch = Vec::new();
    let mut left = VecDeque::with_capacity(waiting.len());
    for pending in waiting.drain(..) {
        if batch.len() < limit && stories.insert(pending.submission.story) {
            batch.push(pending);
        } else {
            left.push_back(pending);
        }
    }
    *waiting = left;
    // Batches from several servers lock story rows and version keys in the
    // order of their rows: one order for all, so two can never deadlock.
    batch.sort_unstable_by_key(|pending| pending.submission.story);
    batch
}

#[derive(sqlx::FromRow)]
struct PlacedRow {
    id: Uuid,
    #[sqlx(flatten)]
    placement: Placement,
}

/// Sends the batch as `sql/append/reports_of_many_stories.sql` and tells
/// each caller its fate.
async fn run_batch(pool: &PgPool, batch: Vec<Pending>) {
    let submissions: Vec<&Submission> = batch.iter().map(|p| &p.submission).collect();
    let placed = sqlx::query_as::<_, PlacedRow>(sql!("append/reports_of_many_stories"))
        .bind(column(&submissions, |s| s.story))
        .bind(column(&submissions, |s| s.expected))
        .bind(column(&submissions, |s| s.id))
        .bind(column(&submissions, |s| s.schema_version))
        .bind(column(&submissions, |s| s.payload.as_str()))
        .bind(column(&submissions, |s| s.occurred_at))
        .bind(column(&submissions, |s| s.metadata.as_str()))
        .bind(column(&submissions, |s| {
            s.token.map(|t| t.as_bytes().to_vec())
        }))
        .bind(column(&submissions, |s| s.search.as_deref()))
        .fetch_all(pool)
        .await;
    match placed {
        Ok(rows) => {
            let mut rows: Vec<PlacedRow> = rows;
            for pending in batch {
                let fate = match rows.iter().position(|r| r.id == pending.submission.id) {
                    Some(at) => Batched::Placed(rows.swap_remove(at).placement),
                    None => Batched::NotPlaced,
                };
                let _ = pending.reply.send(fate);
            }
        }
        Err(error) => {
            tracing::debug!(%error, size = batch.len(), "append batch failed; its appends go alone");
            for pending in batch {
                let _ = pending.reply.send(Batched::Failed);
            }
        }
    }
}

fn column<'a, T>(submissions: &[&'a Submission], field: impl Fn(&'a Submission) -> T) -> Vec<T> {
    submissions.iter().map(|s| field(s)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending(story: u128, id: u128) -> Pending {
        let (reply, _) = oneshot::channel();
        Pending {
            submission: Submission {
                story: Uuid::from_u128(story),
                expected: None,
                id: Uuid::from_u128(id),
                schema_version: 1,
                payload: "{}".into(),
                occurred_at: None,
                metadata: "{}".into(),
                token: None,
                search: None,
            },
            reply,
        }
    }

    fn ids(appends: &[Pending]) -> Vec<u128> {
        appends.iter().map(|p| p.submission.id.as_u128()).collect()
    }

    #[test]
    fn a_batch_takes_one_append_per_story_in_story_order_and_leaves_the_rest_in_turn() {
        let mut waiting: VecDeque<Pending> = [(9, 1), (3, 2), (9, 3), (5, 4), (3, 5), (9, 6)]
            .into_iter()
            .map(|(story, id)| pending(story, id))
            .collect();
        let batch = take_one_per_story(&mut waiting, 10);
        assert_eq!(ids(&batch), [2, 4, 1], "stories 3, 5, 9");
        let left: Vec<Pending> = waiting.drain(..).collect();
        assert_eq!(
            ids(&left),
            [3, 5, 6],
            "the same story's appends keep their turn"
        );
    }

    #[test]
    fn a_batch_holds_at_most_its_limit() {
        let mut waiting: VecDeque<Pending> = (0..5).map(|i| pending(i, i)).collect();
        let batch = take_one_per_story(&mut waiting, 3);
        assert_eq!(ids(&batch), [0, 1, 2]);
        assert_eq!(waiting.len(), 2);
    }
}
