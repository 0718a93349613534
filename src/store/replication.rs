//! Streaming replicas (DESIGN §13): a store over a standby, where it
//! stands in the primary's WAL, and the positions `readAfter` carries.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use super::{ConnectOptions, Store, StoreError};

/// A position in the primary's WAL, as PostgreSQL writes a `pg_lsn`
/// ("16/B374D848"): what `readAfter` carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WalPosition(pub u64);

impl FromStr for WalPosition {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let invalid = || format!("{text:?} is not a WAL position such as 0/16B3748");
        let (high, low) = text.trim().split_once('/').ok_or_else(invalid)?;
        let parse = |part: &str| {
            (!part.is_empty() && part.len() <= 8)
                .then(|| u32::from_str_radix(part, 16).ok())
                .flatten()
                .ok_or_else(invalid)
        };
        Ok(WalPosition(
            (u64::from(parse(high)?) << 32) | u64::from(parse(low)?),
        ))
    }
}

impl fmt::Display for WalPosition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:X}/{:X}", self.0 >> 32, self.0 & 0xFFFF_FFFF)
    }
}

/// Where a standby stands.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Replayed {
    /// The last WAL position it replayed; `None` on a database that is no
    /// standby.
    pub position: Option<WalPosition>,
    /// Time since the last commit it replayed.
    pub since_last_commit: Option<Duration>,
}

impl Store {
    /// A store over a standby: no database created, no migration run (a
    /// standby takes both from its primary), positions computed with the
    /// primary's offset. Its connections open when first used, so that a
    /// standby down at start is only a replica to skip.
    pub fn connect_replica(
        options: &ConnectOptions,
        position_offset: i64,
    ) -> Result<Store, StoreError> {
        let connect = PgConnectOptions::from_str(&options.database_url)?;
        let offset = position_offset.to_string();
        let mut connect = connect.options([("storyline.position_offset", offset.as_str())]);
        if let Some(timeout) = options.statement_timeout {
            let millis = timeout.as_millis().max(1).to_string();
            connect = connect.options([("statement_timeout", millis.as_str())]);
        }
        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections)
            .acquire_timeout(options.statement_timeout.unwrap_or(Duration::from_secs(5)))
            .connect_lazy_with(connect);
        Ok(Store::from_pool(pool).with_checkpoint_every(options.checkpoint_every))
    }

    /// The primary's WAL insert position now.
    pub async fn wal_position(&self) -> Result<WalPosition, StoreError> {
        let text = self.read_after().await?;
        text.parse()
            .map_err(|e: String| StoreError::Database(sqlx::Error::Decode(e.into())))
    }

    /// Where this database, a standby, stands in the primary's WAL.
    pub async fn replayed(&self) -> Result<Replayed, StoreError> {
        let (position, since): (Option<String>, Option<f64>) =
            sqlx::query_as(sql!("replication/replayed"))
                .fetch_one(&self.pool)
                .await?;
        Ok(Replayed {
            position: position.and_then(|p| p.parse().ok()),
            since_last_commit: since
                .filter(|s| s.is_finite())
                .map(|s| Duration::from_secs_f64(s.max(0.0))),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wal_positions_read_and_write_as_postgres_does_and_order_by_value() {
        let position: WalPosition = "16/B374D848".parse().unwrap();
        assert_eq!(position.0, 0x16_B374_D848);
        assert_eq!(position.to_string(), "16/B374D848");
        assert!("0/FF".parse::<WalPosition>().unwrap() < "1/0".parse().unwrap());
        for bad in ["", "16", "x/1", "1/", "123456789/0", "-1/0"] {
            assert!(bad.parse::<WalPosition>().is_err(), "{bad:?}");
        }
    }
}
