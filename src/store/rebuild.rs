//! Rebuilding the story snapshot from the events: fresh tables filled by
//! set-based statements (`sql/rebuild/`), indexed, then swapped in for the
//! live ones, all in one transaction.

use sqlx::{PgConnection, Postgres, Transaction};

use super::{Store, StoreError};
use crate::domain::events::EventType;

/// What a rebuild did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RebuildReport {
    pub stories: u64,
    pub events: u64,
    /// Reports read again by this extractor version (mentions and drafts).
    pub reports: u64,
}

impl Store {
    /// Projects every event into fresh tables and swaps them in, in one
    /// transaction. Appends wait meanwhile (a SHARE lock on events); readers
    /// keep reading the old tables until the swap. `on_progress` gets the
    /// events replayed.
    pub async fn rebuild_snapshots(
        &self,
        mut on_progress: impl FnMut(u64),
    ) -> Result<RebuildReport, StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(sql!("rebuild/lock_events"))
            .execute(&mut *tx)
            .await?;
        // Its DDL runs by the simple protocol: it takes no parameters.
        sqlx::raw_sql(sql!("rebuild/prepare"))
            .execute(&mut *tx)
            .await?;
        let stories = fill_fresh_tables(&mut tx).await?;
        let stage = Stage::begin("index");
        sqlx::raw_sql(sql!("rebuild/index"))
            .execute(&mut *tx)
            .await?;
        stage.end();
        let events: i64 = sqlx::query_scalar(sql!("rebuild/count_events"))
            .fetch_one(&mut *tx)
            .await?;
        let report = RebuildReport {
            stories,
            events: u64::try_from(events).unwrap_or_default(),
            reports: 0,
        };
        on_progress(report.events);
        sqlx::raw_sql(sql!("rebuild/swap"))
            .execute(&mut *tx)
            .await?;
        sqlx::query(sql!("rebuild/forget_stale_checkpoints"))
            .bind(crate::domain::fold::FOLD_VERSION)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(report)
    }
}

/// The set-based statement that projects every event of a type at once,
/// if the type has one of its own. Run in the order of [`EventType::ALL`]:
/// stories first, then developments, their corrections, their retractions,
/// their verdicts.
fn rebuild_stage(event_type: EventType) -> Option<&'static str> {
    match event_type {
        EventType::StoryOpened => Some(sql!("rebuild/stories")),
        EventType::DevelopmentReported => Some(sql!("rebuild/developments")),
        EventType::DevelopmentCorrected => Some(sql!("rebuild/corrections")),
        EventType::DevelopmentRetracted => Some(sql!("rebuild/retractions")),
        EventType::DevelopmentVerificationChanged => Some(sql!("rebuild/verifications")),
        // The stories stage writes each story's latest status and visibility.
        EventType::StoryStatusChanged | EventType::StoryVisibilityChanged => None,
    }
}

/// Fills the fresh tables that `rebuild/prepare.sql` made, stage by stage,
/// then their search documents; returns the stories written.
async fn fill_fresh_tables(tx: &mut Transaction<'_, Postgres>) -> Result<u64, StoreError> {
    let conn: &mut PgConnection = tx;
    let mut stories = 0;
    for event_type in EventType::ALL {
        let Some(stage) = rebuild_stage(event_type) else {
            continue;
        };
        let timer = Stage::begin(event_type.as_str());
        let written = sqlx::query(stage)
            .execute(&mut *conn)
            .await?
            .rows_affected();
        timer.end();
        if event_type == EventType::StoryOpened {
            stories = written;
        }
    }
    // The search documents, analysed here from the fresh tables.
    let timer = Stage::begin("search");
    super::search::fill_search(&mut *conn).await?;
    timer.end();
    super::search::mark_analyzed(&mut *conn).await?;
    Ok(stories)
}

/// A rebuild stage's duration, logged when it ends: where a slow rebuild
/// spends its time.
struct Stage {
    name: &'static str,
    started: std::time::Instant,
}

impl Stage {
    fn begin(name: &'static str) -> Stage {
        Stage {
            name,
            started: std::time::Instant::now(),
        }
    }

    fn end(self) {
        tracing::info!(
            stage = self.name,
            ms = self.started.elapsed().as_millis() as u64,
            "rebuild stage done"
        );
    }
}
