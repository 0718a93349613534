//! What the bench binaries share: settings from the environment and a
//! fresh database per run.

use std::str::FromStr;

use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, PgConnection};

/// A number from the environment, or `default`.
pub fn env_number<T: FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// Drops the database `url` names, so that `Store::connect` creates it anew.
pub async fn drop_database(url: &str) -> anyhow::Result<()> {
    let target = PgConnectOptions::from_str(url)?;
    let name = target
        .get_database()
        .ok_or_else(|| anyhow::anyhow!("{url} names no database"))?
        .to_owned();
    let mut admin = PgConnection::connect_with(&target.clone().database("postgres")).await?;
    sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .execute(&mut admin)
        .await?;
    Ok(())
}
