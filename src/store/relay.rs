//! What the JetStream relay needs of the database (DESIGN §13): a lock so
//! that one relay publishes at a time, and how far it is behind.

use chrono::{DateTime, Utc};
use sqlx::pool::PoolConnection;
use sqlx::Postgres;

use super::{Store, StoreError};
use crate::domain::Position;

/// The relay's lock on a stream, held by a connection of its own until
/// dropped (or until that connection is lost).
pub struct RelayLock {
    connection: PoolConnection<Postgres>,
}

impl RelayLock {
    /// Whether the connection that holds the lock still answers; a lost
    /// one has let the lock go.
    pub async fn is_held(&mut self) -> bool {
        sqlx::query(sql!("read/ping"))
            .execute(&mut *self.connection)
            .await
            .is_ok()
    }
}

impl Drop for RelayLock {
    fn drop(&mut self) {
        // The lock lives as long as the session: never hand this
        // connection back to the pool with it.
        self.connection.close_on_drop();
    }
}

/// How far the relay is behind.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RelayLag {
    pub events: i64,
    pub oldest_recorded_at: Option<DateTime<Utc>>,
}

impl Store {
    /// Waits for, then takes, the relay's lock on `stream`.
    pub async fn hold_relay_lock(&self, stream: &str) -> Result<RelayLock, StoreError> {
        let mut connection = self.pool.acquire().await?;
        sqlx::query(sql!("relay/wait_without_timeout"))
            .execute(&mut *connection)
            .await?;
        sqlx::query(sql!("relay/lock"))
            .bind(stream)
            .execute(&mut *connection)
            .await?;
        Ok(RelayLock { connection })
    }

    /// How many events lie after `after`, and when the first was recorded.
    pub async fn relay_lag(&self, after: Position) -> Result<RelayLag, StoreError> {
        let (events, oldest_recorded_at): (i64, Option<DateTime<Utc>>) =
            sqlx::query_as(sql!("relay/lag"))
                .bind(after.0)
                .fetch_one(&self.pool)
                .await?;
        Ok(RelayLag {
            events,
            oldest_recorded_at,
        })
    }
}
