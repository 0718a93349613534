//! Prometheus metrics, served as text at `/metrics`.
//!
//! Labels are bounded: a request's `operation` is its operation type and
//! root field as the schema names them (never a client-chosen operation
//! name), its `outcome` `ok` or the contract's error code.

use std::sync::Arc;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    operation: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FeedPollLabels {
    feed: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FeedLabels {
    feed: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TargetLabels {
    target: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabels {
    operation: String,
}

/// Every metric of the process; cheap to clone.
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    requests: Family<RequestLabels, Counter>,
    latency: Family<OperationLabels, Histogram>,
    appended_events: Counter,
    deduplicated_appends: Counter,
    version_conflicts: Counter,
    refused: Family<ReasonLabels, Counter>,
    feed_polls: Family<FeedPollLabels, Counter>,
    feed_reports: Family<FeedLabels, Counter>,
    feed_items_skipped: Family<FeedLabels, Counter>,
    reads: Family<TargetLabels, Counter>,
    read_fallbacks: Counter,
    relay_published: Counter,
    relay_lag_events: Gauge,
    relay_lag_seconds: Gauge<f64, std::sync::atomic::AtomicU64>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("storyline");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "graphql_requests",
            "GraphQL requests by operation and outcome",
            requests.clone(),
        );
        // 0.25 ms to about 8 s.
        let latency = Family::<OperationLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.000_25, 2.0, 16))
        });
        registry.register(
            "graphql_request_duration_seconds",
            "GraphQL request latency by operation",
            latency.clone(),
        );
        let appended_events = Counter::default();
        registry.register(
            "appended_events",
            "Events appended through the API",
            appended_events.clone(),
        );
        let deduplicated_appends = Counter::default();
        registry.register(
            "deduplicated_appends",
            "Appends answered from an earlier call with the same event id",
            deduplicated_appends.clone(),
        );
        let version_conflicts = Counter::default();
        registry.register(
            "version_conflicts",
            "Appends refused because the story was not at the expected version",
            version_conflicts.clone(),
        );
        let refused = Family::<ReasonLabels, Counter>::default();
        registry.register(
            "refused_requests",
            "Requests and sockets refused for access, by reason (UNAUTHENTICATED, FORBIDDEN)",
            refused.clone(),
        );
        let feed_polls = Family::<FeedPollLabels, Counter>::default();
        registry.register(
            "feed_polls",
            "Feed polls by feed and outcome (ok, not_modified, error)",
            feed_polls.clone(),
        );
        let feed_reports = Family::<FeedLabels, Counter>::default();
        registry.register(
            "feed_reports_received",
            "Reports a feed added (items kept before not counted)",
            feed_reports.clone(),
        );
        let feed_items_skipped = Family::<FeedLabels, Counter>::default();
        registry.register(
            "feed_items_skipped",
            "Feed items that could not become a report",
            feed_items_skipped.clone(),
        );
        let reads = Family::<TargetLabels, Counter>::default();
        registry.register(
            "reads",
            "Reads (queries and feed reads) by the database that served them: primary or a replica's name",
            reads.clone(),
        );
        let read_fallbacks = Counter::default();
        registry.register(
            "read_fallbacks",
            "Reads that went to the primary because no replica was healthy or had replayed the reader's writes in time",
            read_fallbacks.clone(),
        );
        let relay_published = Counter::default();
        registry.register(
            "relay_published",
            "Events the JetStream relay published (duplicates the stream dropped included)",
            relay_published.clone(),
        );
        let relay_lag_events = Gauge::default();
        registry.register(
            "relay_lag_events",
            "Events stored but not yet published by the JetStream relay",
            relay_lag_events.clone(),
        );
        let relay_lag_seconds = Gauge::<f64, std::sync::atomic::AtomicU64>::default();
        registry.register(
            "relay_lag_seconds",
            "Seconds since the oldest event the JetStream relay has not yet published was recorded (0 when none)",
            relay_lag_seconds.clone(),
        );
        Metrics {
            relay_published,
            relay_lag_events,
            relay_lag_seconds,
            reads,
            read_fallbacks,
            refused,
            feed_polls,
            feed_reports,
            feed_items_skipped,
            registry: Arc::new(registry),
            requests,
            latency,
            appended_events,
            deduplicated_appends,
            version_conflicts,
        }
    }

    pub fn record_request(&self, operation: &str, outcome: &str, took: Duration) {
        self.requests
            .get_or_create(&RequestLabels {
                operation: operation.to_owned(),
                outcome: outcome.to_owned(),
            })
            .inc();
        self.latency
            .get_or_create(&OperationLabels {
                operation: operation.to_owned(),
            })
            .observe(took.as_secs_f64());
    }

    /// Events an append wrote.
    pub fn record_appended(&self, events: u64) {
        self.appended_events.inc_by(events);
    }

    /// An append answered from an earlier call with the same event id.
    pub fn record_deduplicated(&self) {
        self.deduplicated_appends.inc();
    }

    /// A request or socket refused for access; `reason` is the contract's
    /// code (a bounded set).
    /// A poll of a feed (named by the operator, so the labels are bounded
    /// by the feeds configured).
    pub fn record_feed_poll(&self, feed: &str, outcome: &str, added: u64, skipped: u64) {
        self.feed_polls
            .get_or_create(&FeedPollLabels {
                feed: feed.to_owned(),
                outcome: outcome.to_owned(),
            })
            .inc();
        let feed = FeedLabels {
            feed: feed.to_owned(),
        };
        self.feed_reports.get_or_create(&feed).inc_by(added);
        self.feed_items_skipped.get_or_create(&feed).inc_by(skipped);
    }

    pub fn record_refused(&self, reason: &str) {
        self.refused
            .get_or_create(&ReasonLabels {
                reason: reason.to_owned(),
            })
            .inc();
    }

    /// A read served by `target` ("primary" or a replica's name, bounded
    /// by the replicas configured); `fell_back` when a replica was wanted.
    pub fn record_read(&self, target: &str, fell_back: bool) {
        self.reads
            .get_or_create(&TargetLabels {
                target: target.to_owned(),
            })
            .inc();
        if fell_back {
            self.read_fallbacks.inc();
        }
    }

    /// Events the relay published.
    pub fn record_relayed(&self, events: u64) {
        self.relay_published.inc_by(events);
    }

    /// How far the relay is behind: events, and seconds since the oldest
    /// of them was recorded.
    pub fn record_relay_lag(&self, events: i64, seconds: f64) {
        self.relay_lag_events.set(events);
        self.relay_lag_seconds.set(seconds);
    }

    /// An append refused because the story had moved on.
    pub fn record_version_conflict(&self) {
        self.version_conflicts.inc();
    }

    /// Every metric in Prometheus's text format (0.0.4): the OpenMetrics
    /// text without its `# EOF` and `# UNIT` lines, a counter's HELP and
    /// TYPE named as its `_total` samples are.
    pub fn render_prometheus_text(&self) -> String {
        openmetrics_to_prometheus(&self.render())
    }

    /// The OpenMetrics text exposition of every metric.
    pub fn render(&self) -> String {
        let mut text = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}

fn openmetrics_to_prometheus(openmetrics: &str) -> String {
    let counters: Vec<&str> = openmetrics
        .lines()
        .filter_map(|line| line.strip_prefix("# TYPE "))
        .filter_map(|rest| rest.strip_suffix(" counter"))
        .collect();
    let mut text = String::with_capacity(openmetrics.len());
    for line in openmetrics.lines() {
        if line == "# EOF" || line.starts_with("# UNIT ") {
            continue;
        }
        let renamed = ["# HELP ", "# TYPE "].iter().find_map(|prefix| {
            let rest = line.strip_prefix(prefix)?;
            let (name, tail) = rest.split_once(' ')?;
            (counters.contains(&name) && !name.ends_with("_total"))
                .then(|| format!("{prefix}{name}_total {tail}"))
        });
        text.push_str(renamed.as_deref().unwrap_or(line));
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prometheus_text_names_counters_as_their_samples_and_has_no_eof() {
        let metrics = Metrics::new();
        metrics.record_appended(2);
        let text = metrics.render_prometheus_text();
        assert!(!text.contains("# EOF"), "{text}");
        assert!(
            text.contains("# TYPE storyline_appended_events_total counter"),
            "{text}"
        );
        assert!(text.contains("storyline_appended_events_total 2"), "{text}");
        assert!(metrics.render().ends_with("# EOF\n"));
    }
}
