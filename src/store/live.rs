//! Wake-ups for live readers of the feed: one LISTEN connection per process,
//! open while someone is listening.
//!
//! A notification only says "the feed may have grown"; readers then read by
//! position (see `feed`), so a lost or coalesced notification costs at most
//! a poll interval, never an event. When the LISTEN connection drops, sqlx
//! reconnects it and every reader is woken to catch up by position.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::postgres::PgListener;
use tokio::sync::watch;

use super::notify::EVENTS_CHANNEL;
use super::{Store, StoreError};

/// How long to wait before listening again after the database refused.
const RETRY_DELAY: Duration = Duration::from_secs(1);

/// Wakes live readers whenever events may have been appended, by any
/// process on the database.
#[derive(Clone)]
pub struct LiveFeed {
    store: Store,
    /// The running listener's channel; its receivers are the live readers.
    wake: Arc<Mutex<Option<watch::Sender<u64>>>>,
}

impl Store {
    /// Live wake-ups over this store's database. Nothing is opened until
    /// the first reader subscribes.
    pub fn live_feed(&self) -> LiveFeed {
        LiveFeed {
            store: self.clone(),
            wake: Arc::new(Mutex::new(None)),
        }
    }
}

impl LiveFeed {
    /// A receiver that fires on every wake-up after this call. The LISTEN
    /// connection stays open while any receiver lives.
    pub async fn subscribe(&self) -> Result<watch::Receiver<u64>, StoreError> {
        if let Some(receiver) = self.running() {
            return Ok(receiver);
        }
        let mut listener = PgListener::connect_with(&self.store.pool).await?;
        listener.listen(EVENTS_CHANNEL).await?;
        let mut running = self.wake.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(wake) = running.as_ref().filter(|wake| !wake.is_closed()) {
            // Another reader started a listener meanwhile; ours is dropped.
            return Ok(wake.subscribe());
        }
        let (wake, receiver) = watch::channel(0u64);
        *running = Some(wake.clone());
        tokio::spawn(listen(listener, wake));
        Ok(receiver)
    }

    fn running(&self) -> Option<watch::Receiver<u64>> {
        let running = self.wake.lock().unwrap_or_else(|e| e.into_inner());
        running
            .as_ref()
            .filter(|wake| !wake.is_closed())
            .map(watch::Sender::subscribe)
    }
}

/// Turns notifications into wake-ups until the last reader goes or the
/// pool closes.
async fn listen(mut listener: PgListener, wake: watch::Sender<u64>) {
    loop {
        let received = tokio::select! {
            received = listener.try_recv() => received,
            () = wake.closed() => return,
        };
        match received {
            // `None`: the connection dropped and was re-established;
            // events may have been missed, so wake everyone.
            Ok(_) => {}
            Err(sqlx::Error::PoolClosed) => return,
            Err(error) => {
                tracing::warn!(%error, "LISTEN connection failed; retrying");
                tokio::time::sleep(RETRY_DELAY).await;
            }
        }
        wake.send_modify(|n| *n = n.wrapping_add(1));
    }
}
