//! Feeds (DESIGN §12): their configuration, recorded change by change, and
//! the state of their polling; the claim that lets one server poll a feed
//! per interval, and the lock that keeps two polls of one feed apart.

use chrono::{DateTime, Utc};
use sqlx::pool::PoolConnection;
use sqlx::{Postgres, Row};
use uuid::Uuid;

use super::reports::{source_kind_of, source_kind_text};
use super::{Store, StoreError};
use crate::domain::model::SourceKind;
use crate::domain::report::ReportFormat;

/// What `feed add` sets.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FeedConfig {
    pub name: String,
    pub url: String,
    pub every_seconds: i32,
    pub publisher: Option<String>,
    pub source_kind: Option<SourceKind>,
    pub fetch_articles: bool,
    pub allowed_hosts: Vec<String>,
}

/// A feed with the state of its polling.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedState {
    pub config: FeedConfig,
    pub format: Option<String>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub last_polled_at: Option<DateTime<Utc>>,
    pub last_success_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub failures: i32,
    pub next_poll_at: DateTime<Utc>,
    pub reports_received: i64,
}

/// How a poll ended, as the feed keeps it.
#[derive(Debug, Clone, PartialEq)]
pub enum PollRecord {
    Succeeded {
        format: Option<String>,
        etag: Option<String>,
        last_modified: Option<String>,
        added: i64,
    },
    Failed {
        error: String,
        added: i64,
    },
}

/// The lock of one feed's polling, held on a connection of its own until
/// released (or until the process dies and its connection with it).
pub struct FeedLock {
    connection: PoolConnection<Postgres>,
    name: String,
}

impl FeedLock {
    pub async fn release(mut self) -> Result<(), StoreError> {
        sqlx::query(sql!("feeds/unlock"))
            .bind(&self.name)
            .execute(&mut *self.connection)
            .await?;
        Ok(())
    }
}

fn feed_of(row: &sqlx::postgres::PgRow) -> Result<FeedState, sqlx::Error> {
    Ok(FeedState {
        config: FeedConfig {
            name: row.try_get("name")?,
            url: row.try_get("url")?,
            every_seconds: row.try_get("every_seconds")?,
            publisher: row.try_get("publisher")?,
            source_kind: source_kind_of(row.try_get("source_kind")?),
            fetch_articles: row.try_get("fetch_articles")?,
            allowed_hosts: row.try_get("allowed_hosts")?,
        },
        format: row.try_get("format")?,
        etag: row.try_get("etag")?,
        last_modified: row.try_get("last_modified")?,
        last_polled_at: row.try_get("last_polled_at")?,
        last_success_at: row.try_get("last_success_at")?,
        last_error: row.try_get("last_error")?,
        failures: row.try_get("failures")?,
        next_poll_at: row.try_get("next_poll_at")?,
        reports_received: row.try_get("reports_received")?,
    })
}

impl Store {
    /// Adds a feed or changes one, recording the change; true when added.
    pub async fn save_feed(&self, config: &FeedConfig) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let added: bool = sqlx::query_scalar(sql!("feeds/save"))
            .bind(&config.name)
            .bind(&config.url)
            .bind(config.every_seconds)
            .bind(&config.publisher)
            .bind(source_kind_text(config.source_kind))
            .bind(config.fetch_articles)
            .bind(&config.allowed_hosts)
            .fetch_one(&mut *tx)
            .await?;
        let recorded = serde_json::to_value(config)
            .map_err(|e| StoreError::Database(sqlx::Error::Decode(Box::new(e))))?;
        sqlx::query(sql!("feeds/record_change"))
            .bind(Uuid::now_v7())
            .bind(&config.name)
            .bind(if added { "ADDED" } else { "CHANGED" })
            .bind(recorded)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(added)
    }

    /// Stops following a feed, recording it; false when there was none.
    pub async fn remove_feed(&self, name: &str) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let config: Option<serde_json::Value> = sqlx::query_scalar(sql!("feeds/remove"))
            .bind(name)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(config) = config else {
            return Ok(false);
        };
        sqlx::query(sql!("feeds/record_change"))
            .bind(Uuid::now_v7())
            .bind(name)
            .bind("REMOVED")
            .bind(config)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    pub async fn list_feeds(&self) -> Result<Vec<FeedState>, StoreError> {
        let rows = sqlx::query(sql!("feeds/list"))
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(feed_of).collect::<Result<Vec<_>, _>>()?)
    }

    pub async fn feed(&self, name: &str) -> Result<Option<FeedState>, StoreError> {
        let row = sqlx::query(sql!("feeds/by_name"))
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(feed_of).transpose()?)
    }

    /// The most overdue feed, claimed for this poll, if one is due.
    pub async fn claim_due_feed(&self) -> Result<Option<FeedState>, StoreError> {
        let row = sqlx::query(sql!("feeds/claim_due"))
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(feed_of).transpose()?)
    }

    /// Waits until no other process polls this feed, then holds its lock.
    pub async fn lock_feed(&self, name: &str) -> Result<FeedLock, StoreError> {
        let mut connection = self.pool.acquire().await?;
        sqlx::query(sql!("feeds/lock"))
            .bind(name)
            .execute(&mut *connection)
            .await?;
        Ok(FeedLock {
            connection,
            name: name.to_owned(),
        })
    }

    /// Keeps how a poll ended.
    pub async fn record_poll(&self, name: &str, record: &PollRecord) -> Result<(), StoreError> {
        match record {
            PollRecord::Succeeded {
                format,
                etag,
                last_modified,
                added,
            } => {
                sqlx::query(sql!("feeds/succeeded"))
                    .bind(name)
                    .bind(format)
                    .bind(etag)
                    .bind(last_modified)
                    .bind(added)
                    .execute(&self.pool)
                    .await?;
            }
            PollRecord::Failed { error, added } => {
                sqlx::query(sql!("feeds/failed"))
                    .bind(name)
                    .bind(error)
                    .bind(added)
                    .execute(&self.pool)
                    .await?;
            }
        }
        Ok(())
    }

    /// The highest version kept of a uri: its number, its text's hash and
    /// its format.
    pub async fn latest_report_of_uri(
        &self,
        uri: &str,
    ) -> Result<Option<(i32, String, ReportFormat)>, StoreError> {
        let row: Option<(i32, String, String)> = sqlx::query_as(sql!("reports/latest_of_uri"))
            .bind(uri)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|(version, hash, format)| {
            (
                version,
                hash,
                ReportFormat::parse(&format).unwrap_or_default(),
            )
        }))
    }
}
