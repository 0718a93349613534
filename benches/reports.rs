//! Reports: the extractor's speed, and `submitReport` over HTTP beside the
//! raw Postgres baseline in the same run.
//!
//!     cargo bench --bench reports
//!
//! Prints, for `BENCH_SECONDS` each (default 10):
//! - extraction of the Kabul report (the annotated fixture), in process:
//!   reports/s and µs per report, and characters/s;
//! - extraction of 1 MiB texts of pathological shape (10,000 unclosed
//!   quotation marks, a million digits, no sentence end): ms each;
//! - `submitReport` of the Kabul report over HTTP at 8 clients (each
//!   submission another text, so nothing deduplicates) against pgbench's
//!   single-row INSERT at 8 clients on the same database; the ratio.
//!
//! The database is `BENCH_DATABASE_URL`, default
//! postgres://postgres@127.0.0.1:5432/storyline_bench_reports, dropped and
//! recreated.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use storyline::domain::extract::{extract, normal_form, ReportFacts};

const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/storyline_bench_reports";
const LISTEN: &str = "127.0.0.1:18082";
const KABUL: &str = include_str!("../fixtures/reports/kabul-airport-2021-07-13.json");

const SUBMIT: &str =
    "mutation($input: ReportInput!) { submitReport(input: $input) { deduplicated } }";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let seconds: u64 = common::env_number("BENCH_SECONDS", 10);
    let duration = Duration::from_secs(seconds);
    let fixture: serde_json::Value = serde_json::from_str(KABUL)?;
    let text = normal_form(fixture["text"].as_str().unwrap_or_default());
    println!("storyline reports bench: {seconds} s per figure");

    let anchor = chrono::NaiveDate::from_ymd_opt(2021, 7, 13).unwrap_or_default();
    let facts = ReportFacts {
        text: &text,
        anchor,
        dateline: None,
    };
    let started = Instant::now();
    let mut extracted = 0u64;
    while started.elapsed() < duration {
        std::hint::black_box(extract(facts));
        extracted += 1;
    }
    let per_second = extracted as f64 / started.elapsed().as_secs_f64();
    println!(
        "extraction of the Kabul report ({} characters): {per_second:>8.0} reports/s, {:.0} µs each, {:.1} M characters/s",
        text.chars().count(),
        1e6 / per_second,
        per_second * text.chars().count() as f64 / 1e6
    );
    for (name, body) in pathological_texts() {
        let text = normal_form(&body);
        let started = Instant::now();
        let found = extract(ReportFacts {
            text: &text,
            anchor,
            dateline: None,
        });
        println!(
            "extraction of 1 MiB of {name}: {:.0} ms ({} mentions)",
            started.elapsed().as_secs_f64() * 1e3,
            found.mentions.len()
        );
    }

    let (url, store) = common::fresh_store(DEFAULT_URL, 16).await?;
    common::create_raw_table(&url).await?;
    let token = store
        .create_token("bench", storyline::store::Scope::Write)
        .await?;
    store.close().await;
    let _server = common::start_server(env!("CARGO_BIN_EXE_storyline"), &url, LISTEN).await?;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()?;
    let api = Arc::new(format!("http://{LISTEN}/graphql"));
    let raw = common::pgbench_events_per_second(&url, "simple", 8, 1, seconds)?;
    let submitted = submissions_per_second(&client, &api, &token, &text, 8, duration).await?;
    println!(
        "submitReport of the Kabul report over HTTP, 8 clients: {submitted:>8.0} reports/s; \
         pgbench single-row INSERT, 8 clients: {raw:>8.0}/s; ratio {:.3}",
        submitted / raw
    );
    Ok(())
}

fn pathological_texts() -> Vec<(&'static str, String)> {
    const MIB: usize = 1024 * 1024;
    let fill = |unit: &str| unit.repeat(MIB / unit.len());
    vec![
        (
            "10,000 unclosed quotation marks",
            "“word ".repeat(10_000) + &fill("x ")[..MIB - 70_000],
        ),
        ("one million digits", "1".repeat(1_000_000)),
        ("words without a sentence end", fill("again and again ")),
        ("quotation marks around short words", fill("\"a b c d ")),
        ("speech verbs", fill("Smith said ")),
    ]
}

async fn submissions_per_second(
    client: &reqwest::Client,
    api: &Arc<String>,
    token: &str,
    text: &str,
    clients: usize,
    duration: Duration,
) -> anyhow::Result<f64> {
    let started = Instant::now();
    let deadline = started + duration;
    let tasks: Vec<_> = (0..clients)
        .map(|client_number| {
            let (client, api, token, text) = (client.clone(), api.clone(), token.to_owned(), text.to_owned());
            tokio::spawn(async move {
                let mut sent = 0usize;
                while Instant::now() < deadline {
                    // Another last line each time: a new report, never a duplicate.
                    let body = format!("{text}\n\nBench copy {client_number}-{sent}.");
                    let request = json!({"query": SUBMIT, "variables": {"input": {
                        "body": body, "publishedAt": "2021-07-13T18:00:00Z", "publisher": "Bench"}}});
                    let answer = common::post_graphql(&client, &api, Some(&token), &request).await?;
                    if answer["data"]["submitReport"]["deduplicated"] != false {
                        anyhow::bail!("a bench report was deduplicated: {answer}");
                    }
                    sent += 1;
                }
                anyhow::Ok(sent)
            })
        })
        .collect();
    let mut total = 0;
    for task in tasks {
        total += task.await??;
    }
    Ok(total as f64 / started.elapsed().as_secs_f64())
}
