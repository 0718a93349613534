//! CPU-heavy work (replays, views and comparisons of whole stories) on
//! tokio's blocking threads, as many at a time as there are cores. On the
//! async workers such work would stall every other request on them,
//! `/healthz` included, for as long as it ran; here it waits its turn, and
//! a request that times out while its work waits drops it unstarted.
//! Small work stays where it is: a thread hand-off costs more than folding
//! a short story.

use std::sync::{Arc, LazyLock};

use tokio::sync::Semaphore;

/// Work over more developments than this goes to a blocking thread.
pub const HEAVY_DEVELOPMENTS: usize = 500;

/// Turns on the blocking threads: one per core.
static TURNS: LazyLock<Arc<Semaphore>> = LazyLock::new(|| {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    Arc::new(Semaphore::new(cores))
});

/// Heavy work that did not finish: it panicked, or the runtime is
/// shutting down.
#[derive(Debug, thiserror::Error)]
#[error("heavy work did not finish: {0}")]
pub struct OffloadFailed(String);

/// Runs `work` on a blocking thread when `heavy`, in its turn; inline
/// otherwise. The turn is held until the work ends, even when the caller
/// stops waiting for it, so the threads never run more than the cores.
pub async fn when_heavy<T: Send + 'static>(
    heavy: bool,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, OffloadFailed> {
    if !heavy {
        return Ok(work());
    }
    let turn = TURNS
        .clone()
        .acquire_owned()
        .await
        .map_err(|e| OffloadFailed(e.to_string()))?;
    tokio::task::spawn_blocking(move || {
        let _turn = turn;
        work()
    })
    .await
    .map_err(|e| OffloadFailed(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn heavy_work_runs_on_another_thread_and_light_work_here() {
        let here = std::thread::current().id();
        let light = when_heavy(false, move || std::thread::current().id())
            .await
            .unwrap();
        assert_eq!(light, here);
        let heavy = when_heavy(true, move || std::thread::current().id())
            .await
            .unwrap();
        assert_ne!(heavy, here);
    }

    #[tokio::test]
    async fn a_panic_in_heavy_work_is_an_error_not_a_crash() {
        let failed = when_heavy(true, || -> u8 { panic!("boom") }).await;
        assert!(failed.is_err());
    }
}
