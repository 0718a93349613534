//! Rebuilding the story snapshot from the events: fresh tables filled by
//! set-based statements (`sql/rebuild/`) and indexed by two workers at once,
//! each on connections of its own (one writes the stories and their
//! developments, the other analyses the search documents), then swapped in
//! for the live ones by the transaction that held appends off throughout.

use sqlx::{ConnectOptions, Connection, PgConnection};

use super::{Store, StoreError};

/// What a rebuild did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RebuildReport {
    pub stories: u64,
    pub events: u64,
    /// Reports read again by this extractor version (mentions and drafts).
    pub reports: u64,
}

impl Store {
    /// Projects every event into fresh tables and swaps them in. Appends
    /// wait meanwhile (a SHARE lock on events, held by the transaction that
    /// swaps); readers keep reading the old tables until the swap.
    /// `on_progress` gets the events replayed.
    pub async fn rebuild_snapshots(
        &self,
        mut on_progress: impl FnMut(u64),
    ) -> Result<RebuildReport, StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(sql!("rebuild/take_turn"))
            .execute(&mut *tx)
            .await?;
        // Committed at once, so that the workers' connections see the
        // fresh tables. Its DDL runs by the simple protocol.
        sqlx::raw_sql(sql!("rebuild/prepare"))
            .execute(&self.pool)
            .await?;
        sqlx::query(sql!("rebuild/lock_events"))
            .execute(&mut *tx)
            .await?;
        // Both workers begin after the lock: they read the same events, and
        // every event there is. The events are counted meanwhile, on the
        // transaction that waits for them.
        let workers =
            async { tokio::try_join!(self.fill_story_tables(), self.fill_search_table()) };
        let count = sqlx::query_scalar::<_, i64>(sql!("rebuild/count_events")).fetch_one(&mut *tx);
        let (filled, counted) = tokio::join!(workers, count);
        let (stories, events) = match (filled, counted.map_err(StoreError::from)) {
            (Ok((stories, ())), Ok(events)) => (stories, events),
            (Err(e), _) | (_, Err(e)) => {
                drop(tx);
                self.discard_fresh_tables().await;
                return Err(e);
            }
        };
        let stage = Stage::begin("swap");
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
        super::search::mark_analyzed(&mut tx).await?;
        tx.commit().await?;
        stage.end();
        Ok(report)
    }

    /// The first worker: the fresh `stories` and `story_developments`,
    /// filled and indexed. Returns the stories written.
    async fn fill_story_tables(&self) -> Result<u64, StoreError> {
        let mut conn = self.rebuild_worker().await?;
        let mut tx = conn.begin().await?;
        enter_fresh_tables(
            &mut tx,
            "stories,story_developments",
            "btree,gin",
            Share::WHOLE,
        )
        .await?;
        let stage = Stage::begin("stories");
        let stories = sqlx::query(sql!("rebuild/stories"))
            .execute(&mut *tx)
            .await?
            .rows_affected();
        stage.end();
        let stage = Stage::begin("developments");
        sqlx::query(sql!("rebuild/developments"))
            .execute(&mut *tx)
            .await?;
        stage.end();
        index_fresh_tables(&mut tx, "indexes of stories, developments").await?;
        tx.commit().await?;
        Ok(stories)
    }

    /// The second worker: the fresh `story_search`, its documents analysed
    /// here from the events (the other worker's tables are not visible
    /// until it commits), read on one connection and written on another,
    /// then indexed on three at once: the key on the reader, the GIN
    /// indexes of the two shards (migrations/0014) on the writer and a
    /// third.
    async fn fill_search_table(&self) -> Result<(), StoreError> {
        let (mut reader, mut writer, mut third) = tokio::try_join!(
            self.rebuild_worker(),
            self.rebuild_worker(),
            self.rebuild_worker()
        )?;
        let mut reading = reader.begin().await?;
        enter_fresh_tables(&mut reading, "story_search", "btree", Share::WHOLE).await?;
        let mut writing = writer.begin().await?;
        // No index methods: this transaction only writes; the writer builds
        // its share of the indexes in the next, once the documents commit.
        enter_fresh_tables(&mut writing, "story_search", "", Share::WHOLE).await?;
        let stage = Stage::begin("search documents");
        super::search::fill_search_beside(
            &mut reading,
            &mut writing,
            sql!("rebuild/declare_search_sources"),
        )
        .await?;
        // Committed first, for the indexes to see every document.
        writing.commit().await?;
        stage.end();
        // Whichever attaches its lock first, the others wait for it to
        // end: each commits as soon as it is done.
        let key = async {
            index_fresh_tables(&mut reading, "search key").await?;
            reading.commit().await?;
            Ok::<_, StoreError>(())
        };
        tokio::try_join!(
            key,
            build_search_gin_share(
                &mut writer,
                Share { place: 0, of: 2 },
                "search GIN, shard 0"
            ),
            build_search_gin_share(&mut third, Share { place: 1, of: 2 }, "search GIN, shard 1"),
        )?;
        Ok(())
    }

    /// A connection of a worker's own, outside the pool: a rebuild must not
    /// wait for a pool that a server's requests (or a pool of one) hold.
    /// Its statements run for seconds by design: not logged as slow.
    async fn rebuild_worker(&self) -> Result<PgConnection, StoreError> {
        let options = (*self.pool.connect_options())
            .clone()
            .log_slow_statements(log::LevelFilter::Off, std::time::Duration::ZERO);
        Ok(PgConnection::connect_with(&options).await?)
    }

    /// Drops what a failed rebuild filled; the next one would anyway.
    async fn discard_fresh_tables(&self) {
        if let Err(e) = sqlx::query(sql!("rebuild/discard"))
            .execute(&self.pool)
            .await
        {
            tracing::warn!(error = %e, "could not drop a failed rebuild's tables");
        }
    }
}

/// Which of the indexes a worker's access methods select it builds: those
/// whose place in name order is `place` modulo `of`. Workers given every
/// share of one whole build each index once, at once.
#[derive(Debug, Clone, Copy)]
struct Share {
    place: u32,
    of: u32,
}

impl Share {
    const WHOLE: Share = Share { place: 0, of: 1 };
}

/// Begins a worker's transaction (`rebuild/enter.sql`): the fresh `tables`
/// first on its search path, to be indexed with the access `methods`, its
/// `share` of them.
async fn enter_fresh_tables(
    conn: &mut PgConnection,
    tables: &str,
    methods: &str,
    share: Share,
) -> Result<(), StoreError> {
    sqlx::query(sql!("rebuild/enter"))
        .bind(tables)
        .bind(methods)
        .bind(format!("{}/{}", share.place, share.of))
        .execute(conn)
        .await?;
    Ok(())
}

/// Builds, in a transaction of its own on `conn`, this share of the fresh
/// search documents' GIN indexes, and commits.
async fn build_search_gin_share(
    conn: &mut PgConnection,
    share: Share,
    name: &'static str,
) -> Result<(), StoreError> {
    let mut indexing = conn.begin().await?;
    enter_fresh_tables(&mut indexing, "story_search", "gin", share).await?;
    index_fresh_tables(&mut indexing, name).await?;
    indexing.commit().await?;
    Ok(())
}

async fn index_fresh_tables(conn: &mut PgConnection, name: &'static str) -> Result<(), StoreError> {
    let stage = Stage::begin(name);
    // Its DDL runs by the simple protocol: it takes no parameters.
    sqlx::raw_sql(sql!("rebuild/index")).execute(conn).await?;
    stage.end();
    Ok(())
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
