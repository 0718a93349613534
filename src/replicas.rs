//! Reads on PostgreSQL streaming replicas (DESIGN §13). Queries and the
//! live feed's reads go to a healthy replica; mutations, LISTEN and token
//! checks stay on the primary. A read that carries `Storyline-Read-After`
//! goes to a replica that has replayed that position, waiting a little for
//! one, else to the primary: a reader always sees their own writes.
//!
//! Each replica's health is watched in the background: one that cannot be
//! reached, or lags more than the allowed lag (0 when it has replayed the
//! primary's current position, else the time since its last replayed
//! commit), is skipped until it recovers, and reads fall back to the
//! primary without an error.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::metrics::Metrics;
use crate::store::{ConnectOptions, FeedSource, Store, StoreError, WalPosition};

/// How often each replica's health is read.
const WATCH_EVERY: Duration = Duration::from_millis(200);

/// How often a read that waits for its position asks the replicas again.
const WAIT_POLL: Duration = Duration::from_millis(5);

/// How long a health check may take before the replica counts as down.
const CHECK_TIMEOUT: Duration = Duration::from_secs(1);

/// What a replica was last seen to be.
#[derive(Debug, Clone, PartialEq)]
pub enum Health {
    /// Not checked yet.
    Unknown,
    /// Reachable, with its lag and the position it had replayed.
    Up {
        lag: Duration,
        replayed: Option<WalPosition>,
    },
    /// Not reachable, or not a standby; why.
    Down(String),
}

/// One replica: a store over it and its health.
pub struct Replica {
    /// How `/readyz` and `/metrics` name it: host, port and database, never
    /// a password.
    pub name: String,
    store: Store,
    /// What it was last seen to be, and when it was last seen to have
    /// replayed all the primary had written.
    health: Mutex<(Health, Instant)>,
}

impl Replica {
    pub fn health(&self) -> Health {
        self.lock().0.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, (Health, Instant)> {
        self.health.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn is_healthy(&self, max_lag: Duration) -> bool {
        matches!(self.health(), Health::Up { lag, .. } if lag <= max_lag)
    }

    fn replayed(&self) -> Option<WalPosition> {
        match self.health() {
            Health::Up { replayed, .. } => replayed,
            _ => None,
        }
    }
}

/// The primary and its replicas, and how reads choose among them.
pub struct ReplicaSet {
    primary: Store,
    replicas: Vec<Arc<Replica>>,
    wait: Duration,
    max_lag: Duration,
    next: AtomicUsize,
}

/// Where one read goes.
pub struct ReadTarget {
    pub store: Store,
    /// "primary" or the replica's name.
    pub name: String,
    /// A replica was wanted but none would do.
    pub fell_back: bool,
}

/// An instant long ago, for a replica never seen caught up.
fn far_past() -> Instant {
    let now = Instant::now();
    now.checked_sub(Duration::from_secs(86_400 * 365))
        .unwrap_or(now)
}

/// A replica URL's name: what follows the credentials.
fn name_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let rest = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    rest.split('?').next().unwrap_or(rest).to_owned()
}

impl ReplicaSet {
    /// The replicas at `urls` beside `primary`; none is contacted yet.
    pub async fn new(
        primary: Store,
        urls: &[String],
        options: &ConnectOptions,
        wait: Duration,
        max_lag: Duration,
    ) -> Result<ReplicaSet, StoreError> {
        let offset = primary.position_offset().await?;
        let replicas = urls
            .iter()
            .map(|url| {
                let options = ConnectOptions {
                    database_url: url.clone(),
                    ..options.clone()
                };
                Ok(Arc::new(Replica {
                    name: name_of(url),
                    store: Store::connect_replica(&options, offset)?,
                    // Never seen caught up: as late as its commits say.
                    health: Mutex::new((Health::Unknown, far_past())),
                }))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(ReplicaSet {
            primary,
            replicas,
            wait,
            max_lag,
            next: AtomicUsize::new(0),
        })
    }

    pub fn replicas(&self) -> &[Arc<Replica>] {
        &self.replicas
    }

    pub fn max_lag(&self) -> Duration {
        self.max_lag
    }

    /// Reads each replica's health now.
    pub async fn check(&self) {
        let primary_at = self.primary.wal_position().await.ok();
        for replica in &self.replicas {
            let caught_up_at = replica.lock().1;
            let mut now_caught_up = false;
            let health = match tokio::time::timeout(CHECK_TIMEOUT, replica.store.replayed()).await {
                Err(_) => Health::Down("no answer within a second".into()),
                Ok(Err(error)) => Health::Down(error.to_string()),
                Ok(Ok(replayed)) => match replayed.position {
                    None => Health::Down("not a standby (pg_last_wal_replay_lsn is null)".into()),
                    Some(position) => {
                        let caught_up = primary_at.is_some_and(|at| position >= at);
                        now_caught_up = caught_up;
                        // Behind: the time since its last replayed commit,
                        // but no more than the time since it was last seen
                        // caught up (after a quiet hour, the first write
                        // must not make it an hour late).
                        let lag = if caught_up {
                            Duration::ZERO
                        } else {
                            replayed
                                .since_last_commit
                                .unwrap_or(Duration::MAX)
                                .min(caught_up_at.elapsed())
                        };
                        Health::Up {
                            lag,
                            replayed: Some(position),
                        }
                    }
                },
            };
            let caught_up_at = if now_caught_up {
                Instant::now()
            } else {
                caught_up_at
            };
            *replica.lock() = (health, caught_up_at);
        }
    }

    /// Watches the replicas' health until `stopping` resolves.
    pub async fn watch(self: Arc<Self>, stopping: impl std::future::Future<Output = ()>) {
        tokio::pin!(stopping);
        loop {
            self.check().await;
            tokio::select! {
                () = &mut stopping => return,
                () = tokio::time::sleep(WATCH_EVERY) => {}
            }
        }
    }

    /// The healthy replicas, starting from the next in turn.
    fn healthy_in_turn(&self) -> Vec<Arc<Replica>> {
        let count = self.replicas.len();
        if count == 0 {
            return Vec::new();
        }
        let start = self.next.fetch_add(1, Ordering::Relaxed) % count;
        (0..count)
            .map(|i| &self.replicas[(start + i) % count])
            .filter(|r| r.is_healthy(self.max_lag))
            .cloned()
            .collect()
    }

    fn primary(&self, fell_back: bool) -> ReadTarget {
        ReadTarget {
            store: self.primary.clone(),
            name: "primary".into(),
            fell_back,
        }
    }

    fn replica(replica: &Replica) -> ReadTarget {
        ReadTarget {
            store: replica.store.clone(),
            name: replica.name.clone(),
            fell_back: false,
        }
    }

    /// Where the live feed reads at each wake-up: a replica that has
    /// replayed the primary's position taken now, else the primary; each
    /// choice counted in `metrics`.
    pub fn feed_source(self: &Arc<Self>, metrics: Metrics) -> FeedSource {
        let set = self.clone();
        Arc::new(move || {
            let (set, metrics) = (set.clone(), metrics.clone());
            Box::pin(async move {
                let at = set.primary.wal_position().await.ok();
                let target = set.choose(at).await;
                metrics.record_read(&target.name, target.fell_back);
                target.store
            })
        })
    }

    /// Where a read goes: a healthy replica, one that has replayed
    /// `read_after` when given (waiting up to the replica wait for one),
    /// else the primary.
    pub async fn choose(&self, read_after: Option<WalPosition>) -> ReadTarget {
        if self.replicas.is_empty() {
            return self.primary(false);
        }
        let healthy = self.healthy_in_turn();
        let Some(wanted) = read_after else {
            return healthy
                .first()
                .map_or_else(|| self.primary(true), |r| Self::replica(r));
        };
        if let Some(ready) = healthy
            .iter()
            .find(|r| r.replayed().is_some_and(|p| p >= wanted))
        {
            return Self::replica(ready);
        }
        // Ask again, outside any snapshot, until the wait is over.
        let deadline = Instant::now() + self.wait;
        loop {
            for replica in &healthy {
                let replayed = tokio::time::timeout(WAIT_POLL * 4, replica.store.replayed()).await;
                if let Ok(Ok(replayed)) = replayed {
                    if replayed.position.is_some_and(|p| p >= wanted) {
                        return Self::replica(replica);
                    }
                }
            }
            if healthy.is_empty() || Instant::now() + WAIT_POLL > deadline {
                return self.primary(true);
            }
            tokio::time::sleep(WAIT_POLL).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::name_of;

    #[test]
    fn a_replica_is_named_without_its_credentials() {
        assert_eq!(
            name_of("postgres://reader:secret@10.0.0.7:5433/storyline?sslmode=require"),
            "10.0.0.7:5433/storyline"
        );
        assert_eq!(name_of("postgres://127.0.0.1:5433/s"), "127.0.0.1:5433/s");
    }
}
