//! Progress for long commands (import, rebuild, verify): a bar on a
//! terminal, a log line every 10,000 items otherwise.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

const LOG_EVERY: u64 = 10_000;

/// A bar drawn on standard error when it is a terminal, hidden otherwise.
pub fn progress_bar(template: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style);
    }
    bar
}

/// Moves the bar to `done`; without a terminal, logs each 10,000th.
pub fn report_progress(bar: &ProgressBar, done: u64, what: &str) {
    let step = done.saturating_sub(bar.position());
    bar.inc(step);
    if bar.is_hidden() && done / LOG_EVERY != done.saturating_sub(step) / LOG_EVERY {
        tracing::info!(done, "{what}");
    }
}
