//! What one request may make the server do and send, charged while it
//! runs. The document's complexity (see [`super::MAX_COMPLEXITY`]) is
//! known before execution but not the size of the stories it reads: one
//! `snapshot { quotes { text } }` costs the same few points on a story of
//! ten quotes and on one of twenty thousand. So resolvers charge as they
//! go:
//!
//! - **work**: the developments a state, a replay or a comparison visits,
//!   and a fixed share for each count, so aliasing them cannot buy minutes
//!   of CPU or hold the pool;
//! - **bytes**: what a list will put in the response (its items times the
//!   fields selected on them) and the long texts exactly, so aliasing them
//!   cannot build a response of gigabytes.
//!
//! Past either, the field fails, and the whole response is replaced by one
//! clear error (see [`Budget::refusal`]): a client gets neither a giant
//! body nor a half-answer that looks whole.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use async_graphql::{Context, ErrorExtensions, ServerError};

use super::errors::{ApiError, ApiResult};

/// The largest response a request may get.
pub const MAX_RESPONSE_BYTES: u64 = 16 * 1024 * 1024;

/// Developments a request may have visited by states, replays and
/// comparisons: twenty full views of a story of 50,000 developments.
pub const MAX_WORK: u64 = 1_000_000;

/// What one `totalCount` is charged: at most 32 counts a request, so 500
/// aliases of it cannot hold every pooled connection.
pub const COUNT_WORK: u64 = MAX_WORK / 32;

/// What a response spends on one selected field of a listed item, beyond
/// the long texts charged exactly: its name, quotes, punctuation and a
/// short value.
const FIELD_BYTES: u64 = 48;

/// The budget of one request, shared by its resolvers.
#[derive(Debug)]
pub struct Budget {
    bytes_left: AtomicU64,
    work_left: AtomicU64,
    exceeded: AtomicBool,
}

impl Default for Budget {
    fn default() -> Self {
        Budget::new(MAX_RESPONSE_BYTES, MAX_WORK)
    }
}

impl Budget {
    pub fn new(bytes: u64, work: u64) -> Budget {
        Budget {
            bytes_left: AtomicU64::new(bytes),
            work_left: AtomicU64::new(work),
            exceeded: AtomicBool::new(false),
        }
    }

    /// A budget to put in a request's data.
    pub fn for_request() -> Arc<Budget> {
        Arc::new(Budget::default())
    }

    fn spend(&self, left: &AtomicU64, amount: u64) -> ApiResult<()> {
        let spent = left.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| {
            left.checked_sub(amount)
        });
        if spent.is_err() {
            self.exceeded.store(true, Ordering::Relaxed);
            return Err(too_much());
        }
        Ok(())
    }

    pub fn charge_bytes(&self, bytes: u64) -> ApiResult<()> {
        self.spend(&self.bytes_left, bytes)
    }

    pub fn charge_work(&self, work: u64) -> ApiResult<()> {
        self.spend(&self.work_left, work)
    }

    /// Whether a resolver was refused for want of budget.
    pub fn is_exceeded(&self) -> bool {
        self.exceeded.load(Ordering::Relaxed)
    }

    /// The one error a request over its budget gets instead of its data.
    pub fn refusal() -> ServerError {
        let error = too_much().extend();
        let mut refused = ServerError::new(error.message, None);
        refused.extensions = error.extensions;
        refused
    }
}

fn too_much() -> ApiError {
    ApiError::bad_input(format!(
        "the request asks for too much: its response would pass {} MiB, or it \
         would visit more than {MAX_WORK} developments or run more than {} counts; \
         ask for fewer fields, aliases or stories, or smaller pages",
        MAX_RESPONSE_BYTES / (1024 * 1024),
        MAX_WORK / COUNT_WORK,
    ))
}

/// The request's budget; a request without one (a subscription's events)
/// is not charged.
fn budget<'a>(ctx: &Context<'a>) -> Option<&'a Budget> {
    ctx.data_opt::<Arc<Budget>>().map(Arc::as_ref)
}

/// Charges the response for `items` items of the list this resolver
/// returns, each with the fields the document selects on it.
pub(super) fn charge_list(ctx: &Context<'_>, items: usize) -> ApiResult<()> {
    let Some(budget) = budget(ctx) else {
        return Ok(());
    };
    let fields = ctx.field().selection_set().count().max(1) as u64;
    let bytes = (items as u64)
        .saturating_mul(fields.saturating_mul(FIELD_BYTES))
        .saturating_add(2);
    budget.charge_bytes(bytes)
}

/// Returns `items` after charging the response for them.
pub(super) fn listed<T>(ctx: &Context<'_>, items: Vec<T>) -> ApiResult<Vec<T>> {
    charge_list(ctx, items.len())?;
    Ok(items)
}

/// Charges the response for a long text, as JSON escapes it at most
/// (a short text is covered by its field's share).
pub(super) fn charged<'a>(ctx: &Context<'_>, text: &'a str) -> ApiResult<&'a str> {
    if let Some(budget) = budget(ctx) {
        budget.charge_bytes(text.len() as u64)?;
    }
    Ok(text)
}

/// [`charged`] for an optional text.
pub(super) fn charged_opt<'a>(
    ctx: &Context<'_>,
    text: Option<&'a str>,
) -> ApiResult<Option<&'a str>> {
    text.map(|text| charged(ctx, text)).transpose()
}

/// Charges the bytes a JSON value will take, estimated from its strings
/// and values (no serialisation).
pub(super) fn charge_json(ctx: &Context<'_>, value: &serde_json::Value) -> ApiResult<()> {
    match budget(ctx) {
        Some(budget) => budget.charge_bytes(json_bytes(value)),
        None => Ok(()),
    }
}

fn json_bytes(value: &serde_json::Value) -> u64 {
    use serde_json::Value;
    match value {
        Value::String(s) => s.len() as u64 + 2,
        Value::Array(items) => items.iter().map(json_bytes).sum::<u64>() + 2,
        Value::Object(fields) => {
            fields
                .iter()
                .map(|(k, v)| k.len() as u64 + 4 + json_bytes(v))
                .sum::<u64>()
                + 2
        }
        _ => 16,
    }
}

/// Charges the work of visiting `developments` developments.
pub(super) fn charge_work(ctx: &Context<'_>, developments: usize) -> ApiResult<()> {
    match budget(ctx) {
        Some(budget) => budget.charge_work(developments as u64),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_budget_refuses_what_passes_it_and_remembers_it_did() {
        let budget = Budget::new(100, 10);
        assert!(budget.charge_bytes(60).is_ok());
        assert!(!budget.is_exceeded());
        assert!(matches!(
            budget.charge_bytes(60),
            Err(ApiError::BadUserInput(_))
        ));
        assert!(budget.is_exceeded());
        // What was refused was not spent.
        assert!(budget.charge_bytes(40).is_ok());
        assert!(budget.charge_work(10).is_ok());
        assert!(budget.charge_work(1).is_err());
    }

    #[test]
    fn json_is_estimated_from_its_strings_and_values() {
        let value = serde_json::json!({ "headline": "abcd", "figures": [1, 2] });
        // {"headline":"abcd","figures":[1,2]} is 35 bytes.
        let estimate = json_bytes(&value);
        assert!((35..=90).contains(&estimate), "{estimate}");
    }

    #[test]
    fn the_refusal_says_bad_user_input_and_why() {
        let refusal = Budget::refusal();
        assert!(refusal.message.contains("16 MiB"), "{}", refusal.message);
        let code = refusal.extensions.and_then(|e| e.get("code").cloned());
        assert_eq!(
            code,
            Some(async_graphql::Value::String("BAD_USER_INPUT".into()))
        );
    }
}
