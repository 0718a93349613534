//! What the bench binaries share: settings from the environment and a
//! fresh database per run.
#![allow(dead_code)] // each bench binary uses a part

use std::process::Command;
use std::str::FromStr;

use serde_json::json;

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

/// A development payload of typical size: the bench's rows and appends.
pub fn payload() -> serde_json::Value {
    json!({
        "schemaVersion": 1,
        "developmentId": "de74e538-5616-5a7e-b6ab-30180f0aa230",
        "headline": "Taliban warn Turkey against keeping troops at Kabul airport",
        "occurredAt": "2021-07-13T00:00:00Z",
        "precision": "DAY",
        "actors": [{"name": "Taliban", "kind": "GROUP"}, {"name": "Turkey", "kind": "COUNTRY"}],
        "quotes": [], "figures": [], "stances": [],
        "sources": [{"name": "Press report"}],
        "tags": ["military"]
    })
}

/// The baseline's table: storyline's columns and unique keys, no triggers.
pub async fn create_raw_table(url: &str) -> anyhow::Result<()> {
    let mut conn = PgConnection::connect(url).await?;
    sqlx::query(
        "CREATE TABLE raw_events (
            position bigserial PRIMARY KEY, id uuid NOT NULL UNIQUE, story_id uuid NOT NULL,
            version int NOT NULL, type text NOT NULL, schema_version int NOT NULL,
            payload jsonb NOT NULL, metadata jsonb NOT NULL, occurred_at timestamptz NOT NULL,
            recorded_at timestamptz NOT NULL, UNIQUE (story_id, version))",
    )
    .execute(&mut conn)
    .await?;
    Ok(())
}

/// What one pgbench run measured: its rate (transactions a second, or
/// events for [`pgbench_events`]) and the latency of its transactions.
#[derive(Debug, Clone, Copy)]
pub struct Pgbench {
    pub per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

/// Rows of the same shape as storyline's, `batch` per transaction, sent as
/// one multi-row INSERT whose text carries every payload, as a client must.
pub fn pgbench_events(
    url: &str,
    mode: &str,
    clients: usize,
    batch: usize,
    seconds: u64,
) -> anyhow::Result<Pgbench> {
    let payload = payload().to_string();
    let rows: Vec<String> = (1..=batch)
        .map(|n| {
            format!(
                "(gen_random_uuid(), md5(:client_id::text || '-' || :story)::uuid, {n}, 'DevelopmentReported', 1, \
                 '{payload}', '{{\"principal\":\"bench\"}}', '2021-07-13T00:00:00Z', clock_timestamp())"
            )
        })
        .collect();
    // A fresh story per transaction keeps (story_id, version) unique.
    let script = format!(
        "\\set story random(1, 1000000000000)\n\
         INSERT INTO raw_events (id, story_id, version, type, schema_version, payload, metadata, occurred_at, recorded_at) VALUES\n{};\n",
        rows.join(",\n")
    );
    let run = pgbench(url, mode, clients, &script, seconds)?;
    Ok(Pgbench {
        per_second: run.per_second * batch as f64,
        ..run
    })
}

/// [`pgbench_events`]' events a second.
pub fn pgbench_events_per_second(
    url: &str,
    mode: &str,
    clients: usize,
    batch: usize,
    seconds: u64,
) -> anyhow::Result<f64> {
    Ok(pgbench_events(url, mode, clients, batch, seconds)?.per_second)
}

/// Transactions per second of pgbench running `script` (no vacuum, `mode`
/// -M, `clients` clients and threads) against `url`.
pub fn pgbench_tps(
    url: &str,
    mode: &str,
    clients: usize,
    script: &str,
    seconds: u64,
) -> anyhow::Result<f64> {
    Ok(pgbench(url, mode, clients, script, seconds)?.per_second)
}

/// pgbench running `script` as [`pgbench_tps`] says, each transaction's
/// latency logged (`--log`, a line each) to a folder of its own and read
/// back: pgbench itself prints only their mean.
pub fn pgbench(
    url: &str,
    mode: &str,
    clients: usize,
    script: &str,
    seconds: u64,
) -> anyhow::Result<Pgbench> {
    static RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let run = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let folder =
        std::env::temp_dir().join(format!("storyline-pgbench-{}-{run}", std::process::id()));
    std::fs::create_dir_all(&folder)?;
    let measured = run_pgbench(url, mode, clients, script, seconds, &folder);
    let _ = std::fs::remove_dir_all(&folder);
    measured
}

fn run_pgbench(
    url: &str,
    mode: &str,
    clients: usize,
    script: &str,
    seconds: u64,
    folder: &std::path::Path,
) -> anyhow::Result<Pgbench> {
    let path = folder.join("script.sql");
    std::fs::write(&path, script)?;
    let output = Command::new("pgbench")
        .args([
            "-n",
            "-M",
            mode,
            "-c",
            &clients.to_string(),
            "-j",
            &clients.to_string(),
            "-T",
            &seconds.to_string(),
            "--log",
        ])
        .arg(format!("--log-prefix={}", folder.join("log").display()))
        .arg("-f")
        .arg(&path)
        .arg(url)
        .output()?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let per_second = stdout
        .lines()
        .find_map(|line| line.strip_prefix("tps = "))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse::<f64>().ok())
        .ok_or_else(|| {
            anyhow::anyhow!(
                "pgbench gave no tps: {}",
                String::from_utf8_lossy(&output.stderr)
            )
        })?;
    let mut latencies = logged_latencies(folder)?;
    latencies.sort_unstable();
    Ok(Pgbench {
        per_second,
        p50_ms: quantile_ms(&latencies, 0.5),
        p99_ms: quantile_ms(&latencies, 0.99),
    })
}

/// Every logged transaction's latency: the third field, in microseconds,
/// of each line of pgbench's logs (`client transaction latency ...`; a
/// failed one has a word there, and is left out).
fn logged_latencies(folder: &std::path::Path) -> anyhow::Result<Vec<std::time::Duration>> {
    let mut latencies = Vec::new();
    for entry in std::fs::read_dir(folder)? {
        let path = entry?.path();
        let is_log = path
            .file_name()
            .and_then(|name| name.to_str())
            .is_some_and(|name| name.starts_with("log."));
        if is_log {
            let text = std::fs::read_to_string(&path)?;
            latencies.extend(
                text.lines()
                    .filter_map(|line| line.split_whitespace().nth(2)?.parse::<u64>().ok())
                    .map(std::time::Duration::from_micros),
            );
        }
    }
    Ok(latencies)
}

/// A `storyline serve` process; killed when dropped.
pub struct Server(pub std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `binary serve` on `listen` over `database_url` and waits until it
/// answers /readyz.
pub async fn start_server(
    binary: &str,
    database_url: &str,
    listen: &str,
) -> anyhow::Result<Server> {
    start_server_with(binary, database_url, listen, &[]).await
}

/// [`start_server`] with more `serve` arguments.
pub async fn start_server_with(
    binary: &str,
    database_url: &str,
    listen: &str,
    arguments: &[&str],
) -> anyhow::Result<Server> {
    let server = Server(
        Command::new(binary)
            .args(["serve", "--listen", listen])
            .args(arguments)
            .env("DATABASE_URL", database_url)
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .spawn()?,
    );
    let client = reqwest::Client::new();
    for _ in 0..200 {
        let ready = client.get(format!("http://{listen}/readyz")).send().await;
        if ready.is_ok_and(|r| r.status().is_success()) {
            return Ok(server);
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    anyhow::bail!("the server did not become ready")
}

/// The bench's database (`BENCH_DATABASE_URL`, else `default_url`), dropped
/// and created afresh, and a store on it with `max_connections`.
pub async fn fresh_store(
    default_url: &str,
    max_connections: u32,
) -> anyhow::Result<(String, storyline::store::Store)> {
    let url = std::env::var("BENCH_DATABASE_URL").unwrap_or_else(|_| default_url.to_owned());
    drop_database(&url).await?;
    let store = storyline::store::Store::connect(&storyline::store::ConnectOptions {
        database_url: url.clone(),
        max_connections,
        ..storyline::store::ConnectOptions::default()
    })
    .await?;
    Ok((url, store))
}

/// Does what autovacuum does soon after a load (PG 13+ vacuums after
/// inserts, and analyses a table a tenth of which changed), and returns
/// the seconds it took: the first reads of freshly written pages would
/// otherwise set their hint bits, and the first stage measured alone would
/// pay it; and a search would be planned on the statistics of a tenth of
/// the documents (a rare word at 10 M: 6.7 ms so, 0.3 ms once analysed).
/// A bench's database may run without autovacuum (this machine's does).
/// Then a checkpoint, so that the load's writes are on the disk, as they
/// are long before any later work in production: the kernel otherwise
/// writes gigabytes of them back during the first stage measured (a
/// rebuild of 1.1 M events after its load 13.0 s vacuumed, 11.0 s
/// vacuumed and checkpointed).
pub async fn settle_after_load(store: &storyline::store::Store) -> anyhow::Result<f64> {
    let started = std::time::Instant::now();
    sqlx::raw_sql("VACUUM (ANALYZE) events, stories, story_developments, story_search")
        .execute(store.pool())
        .await?;
    sqlx::raw_sql("CHECKPOINT").execute(store.pool()).await?;
    Ok(started.elapsed().as_secs_f64())
}

/// POSTs a GraphQL request (with a bearer token when given); its JSON answer,
/// or an error when it carries GraphQL errors.
pub async fn post_graphql(
    client: &reqwest::Client,
    api: &str,
    token: Option<&str>,
    body: &serde_json::Value,
) -> anyhow::Result<serde_json::Value> {
    let mut request = client.post(api).json(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response: serde_json::Value = request.send().await?.json().await?;
    if let Some(errors) = response.get("errors") {
        anyhow::bail!("GraphQL errors: {errors}");
    }
    Ok(response)
}

/// The `q` quantile of `sorted` latencies in milliseconds (NaN for none).
pub fn quantile_ms(sorted: &[std::time::Duration], q: f64) -> f64 {
    sorted
        .get(((sorted.len().max(1) - 1) as f64 * q) as usize)
        .map_or(f64::NAN, |d| d.as_secs_f64() * 1e3)
}

/// What a read load measured.
pub struct Reads {
    pub per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub errors: usize,
}

/// `connections` clients posting `body` for `duration`, after a warm-up:
/// answers a second and their latency.
pub async fn reads_per_second(
    client: &reqwest::Client,
    api: &std::sync::Arc<String>,
    body: &serde_json::Value,
    connections: usize,
    duration: std::time::Duration,
) -> anyhow::Result<Reads> {
    let body = std::sync::Arc::new(body.clone());
    // Warm up: connections open, statements prepared.
    for _ in 0..50 {
        post_graphql(client, api, None, &body).await?;
    }
    let started = std::time::Instant::now();
    let deadline = started + duration;
    let tasks: Vec<_> = (0..connections)
        .map(|_| {
            let (client, api, body) = (client.clone(), api.clone(), body.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut errors = 0usize;
                while std::time::Instant::now() < deadline {
                    let sent = std::time::Instant::now();
                    match post_graphql(&client, &api, None, &body).await {
                        Ok(_) => latencies.push(sent.elapsed()),
                        Err(_) => errors += 1,
                    }
                }
                (latencies, errors)
            })
        })
        .collect();
    let mut latencies = Vec::new();
    let mut errors = 0;
    for task in tasks {
        let (mine, failed) = task.await?;
        latencies.extend(mine);
        errors += failed;
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort_unstable();
    Ok(Reads {
        per_second: latencies.len() as f64 / elapsed,
        p50_ms: quantile_ms(&latencies, 0.50),
        p99_ms: quantile_ms(&latencies, 0.99),
        errors,
    })
}

/// The append the API benches load the server with.
pub const REPORT_DEVELOPMENT: &str = "mutation($story: UUID!, $input: DevelopmentInput!) {
    reportDevelopment(storyId: $story, input: $input) { story { version } } }";

/// A POST of a body serialized once, answered without errors: the load
/// generator's own work kept as small as pgbench's, so that the two cores
/// go to the server and Postgres.
pub async fn post_prepared(
    client: &reqwest::Client,
    api: &str,
    token: &str,
    body: &bytes::Bytes,
) -> anyhow::Result<()> {
    let response = client
        .post(api)
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body.clone())
        .send()
        .await?
        .bytes()
        .await?;
    if response.starts_with(b"{\"errors\"") || memchr_errors(&response) {
        anyhow::bail!("GraphQL errors: {}", String::from_utf8_lossy(&response));
    }
    Ok(())
}

/// Whether a response carries an `errors` entry.
fn memchr_errors(response: &[u8]) -> bool {
    response.windows(9).any(|w| w == b"\"errors\":")
}

/// `clients` clients, each on a story of its own, reporting developments
/// through `api` for `duration`: developments a second.
pub async fn report_developments_per_second(
    client: &reqwest::Client,
    api: &std::sync::Arc<String>,
    token: &str,
    clients: usize,
    duration: std::time::Duration,
) -> anyhow::Result<f64> {
    let started = std::time::Instant::now();
    let deadline = started + duration;
    let tasks: Vec<_> = (0..clients)
        .map(|i| {
            let (client, api, token) = (client.clone(), api.clone(), token.to_owned());
            tokio::spawn(async move {
                let opened = post_graphql(&client, &api, Some(&token), &json!({
                    "query": "mutation($input: OpenStoryInput!) { openStory(input: $input) { story { id } } }",
                    "variables": {"input": {"slug": format!("bench-{i}-{}", uuid::Uuid::now_v7().simple()),
                                            "title": "Bench story"}}
                }))
                .await?;
                let story = opened["data"]["openStory"]["story"]["id"].clone();
                let mut input = payload();
                if let Some(fields) = input.as_object_mut() {
                    fields.remove("schemaVersion");
                    fields.remove("developmentId");
                }
                let body = json!({"query": REPORT_DEVELOPMENT, "variables": {"story": story, "input": input}});
                let body = bytes::Bytes::from(body.to_string());
                let mut appended = 0usize;
                while std::time::Instant::now() < deadline {
                    post_prepared(&client, &api, &token, &body).await?;
                    appended += 1;
                }
                anyhow::Ok(appended)
            })
        })
        .collect();
    let mut total = 0;
    for task in tasks {
        total += task.await??;
    }
    Ok(total as f64 / started.elapsed().as_secs_f64())
}
