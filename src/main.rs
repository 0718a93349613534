//! The `storyline` command line: serve, migrate, manage tokens.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use storyline::domain::report::{ReportFormat, ReportSubmission};
use storyline::http::{self, AppState};
use storyline::progress::{progress_bar, report_progress};
use storyline::replicas::ReplicaSet;
use storyline::store::{ConnectOptions, Store, DEFAULT_CHECKPOINT_EVERY, DEFAULT_DATABASE_URL};
use storyline::{exchange, projection};

#[derive(Parser)]
#[command(
    name = "storyline",
    version,
    about = "Event-sourced tracking of developing news stories"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The database options, on the commands that use a database (and, for
/// `token` and `feed`, on each of their subcommands).
#[derive(Args)]
struct DatabaseArgs {
    /// PostgreSQL URL; the database is created when missing.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = DEFAULT_DATABASE_URL,
        global = true,
        display_order = 900
    )]
    database_url: String,
    /// Connections in the pool.
    #[arg(
        long,
        env = "STORYLINE_DB_MAX_CONNECTIONS",
        default_value_t = 16,
        global = true,
        display_order = 901
    )]
    db_max_connections: u32,
    /// Store a replay checkpoint (a story's fold, for replays to start
    /// from) every this many versions of a story [default: 100].
    #[arg(
        long,
        env = "STORYLINE_CHECKPOINT_EVERY",
        global = true,
        display_order = 902
    )]
    checkpoint_every: Option<u32>,
    /// The former name of --checkpoint-every, still read.
    #[arg(long, env = "STORYLINE_SNAPSHOT_EVERY", global = true, hide = true)]
    snapshot_every: Option<u32>,
}

impl DatabaseArgs {
    fn checkpoint_every(&self) -> u32 {
        self.checkpoint_every
            .or(self.snapshot_every)
            .unwrap_or(DEFAULT_CHECKPOINT_EVERY)
    }
}

#[derive(Subcommand)]
enum Command {
    /// Serve the GraphQL API (HTTP and WebSocket at /graphql), the web
    /// desk at /, GraphiQL at /graphiql, /healthz, /readyz and /metrics,
    /// and follow the feeds, until SIGTERM or Ctrl-C.
    Serve {
        #[command(flatten)]
        database: DatabaseArgs,
        /// Address to listen on.
        #[arg(long, env = "STORYLINE_LISTEN", default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Load the demo story (idempotent) before serving.
        #[arg(long)]
        demo: bool,
        /// Seconds between WebSocket pings; a peer that leaves three
        /// unanswered is disconnected.
        #[arg(long, env = "STORYLINE_WS_PING_SECONDS", default_value_t = 15)]
        ws_ping_seconds: u64,
        /// Seconds a request's database work may take before it is
        /// answered UNAVAILABLE (statements, lock waits and waits for a
        /// connection alike).
        #[arg(long, env = "STORYLINE_REQUEST_TIMEOUT", default_value_t = 5)]
        request_timeout: u64,
        /// HTTP connections open at once; past it a new one gets 503.
        #[arg(long, env = "STORYLINE_MAX_OPEN_CONNECTIONS", default_value_t = 1024)]
        max_open_connections: usize,
        /// Seconds a peer has to send a request's headers (also closes
        /// idle kept-alive connections).
        #[arg(long, env = "STORYLINE_HEADER_TIMEOUT_SECONDS", default_value_t = 10)]
        header_timeout_seconds: u64,
        /// Every request but /healthz, /readyz and /metrics needs a live
        /// token (reads too).
        #[arg(long, env = "STORYLINE_PRIVATE")]
        private: bool,
        /// A streaming replica of the database (repeatable): queries are
        /// read there, writes and token checks stay on the primary.
        #[arg(
            long = "replica-url",
            value_name = "URL",
            env = "STORYLINE_REPLICA_URLS",
            value_delimiter = ','
        )]
        replica_urls: Vec<String>,
        /// How long a read carrying Storyline-Read-After waits for a
        /// replica to replay that position before going to the primary.
        #[arg(long, env = "STORYLINE_REPLICA_WAIT_MS", default_value_t = 50)]
        replica_wait_ms: u64,
        /// Seconds a replica may lag (0 once it has replayed the primary's
        /// position, else the time since its last replayed commit) before
        /// reads skip it.
        #[arg(long, env = "STORYLINE_REPLICA_MAX_LAG", default_value_t = 10)]
        replica_max_lag: u64,
        /// Also relay every event to NATS JetStream at this URL (as
        /// `storyline relay` does, with its default stream and subject).
        #[arg(long, value_name = "URL", env = "STORYLINE_RELAY_NATS")]
        relay_nats: Option<String>,
    },
    /// Publish every event, in global position order and exactly once, to
    /// a NATS JetStream stream, until SIGTERM or Ctrl-C; one relay
    /// publishes at a time, another waits and takes over.
    Relay {
        #[command(flatten)]
        database: DatabaseArgs,
        /// The NATS server, such as nats://127.0.0.1:4222.
        #[arg(long, value_name = "URL", env = "STORYLINE_RELAY_NATS")]
        nats: String,
        /// The JetStream stream (created when missing).
        #[arg(long, default_value = DEFAULT_RELAY_STREAM)]
        stream: String,
        /// Events go to <SUBJECT>.<storyId>.
        #[arg(long, default_value = DEFAULT_RELAY_SUBJECT)]
        subject: String,
    },
    /// Import NDJSON events from FILE, or standard input with `-`.
    Import {
        #[command(flatten)]
        database: DatabaseArgs,
        /// An NDJSON file of events (what `export` writes, or lines of
        /// {"story", "type", "id", "data"}); `-` reads standard input.
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// Keep each event's recordedAt and metadata from the lines (an
        /// export being restored); the whole input is checked first and
        /// nothing is written if any line is bad or out of time order.
        #[arg(long)]
        keep_recorded_at: bool,
    },
    /// Export events as NDJSON that `import` reads back.
    Export {
        #[command(flatten)]
        database: DatabaseArgs,
        /// Only this story.
        #[arg(long)]
        story: Option<String>,
    },
    /// Load the demo story (Kabul airport, July 2021); idempotent.
    Demo {
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Replay every event into fresh snapshot tables and swap them in.
    Rebuild {
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Fold every story and compare with its stored snapshot; exit 1 and
    /// list the differences when they disagree.
    Verify {
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Apply pending database migrations and exit.
    Migrate {
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Print the served GraphQL schema (SDL); needs no database.
    /// `storyline schema > schema/schema.graphql` refreshes the checked-in copy;
    /// `storyline schema --events schema/events` writes the JSON Schemas of
    /// the event payloads there instead.
    Schema {
        /// Write one JSON Schema per event type into this directory.
        #[arg(long, value_name = "DIR")]
        events: Option<PathBuf>,
    },
    /// Manage API tokens.
    Token {
        #[command(flatten)]
        database: DatabaseArgs,
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Follow feeds (RSS, Atom, JSON Feed, ninjs): `serve` polls each on
    /// its schedule and keeps every item as a report.
    Feed {
        #[command(flatten)]
        database: DatabaseArgs,
        #[command(subcommand)]
        command: FeedCommand,
    },
    /// Keep reports (wire items, articles, ninjs documents) and score the
    /// extractor.
    Report {
        #[command(subcommand)]
        command: ReportCommand,
    },
}

#[derive(Subcommand)]
enum FeedCommand {
    /// Follow a feed, or change how one is followed (the change is
    /// recorded).
    Add {
        /// The feed's name: reports it brings say so (Report.feed).
        #[arg(long)]
        name: String,
        /// The feed's http or https URL.
        #[arg(long)]
        url: String,
        /// Seconds between polls (a whole number from 1 up).
        #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(i32).range(1..))]
        every: i32,
        /// The publisher its reports name.
        #[arg(long)]
        publisher: Option<String>,
        /// WIRE, NEWSPAPER, BROADCAST, OFFICIAL, NGO, WITNESS, SOCIAL_MEDIA or OTHER.
        #[arg(long)]
        kind: Option<String>,
        /// Fetch the linked page of an item that carries only a summary.
        #[arg(long)]
        fetch_articles: bool,
        /// A host (no port) article pages may also come from; repeatable.
        #[arg(long = "allow-host", value_name = "HOST")]
        allowed_hosts: Vec<String>,
    },
    /// List the feeds followed, with the state of their polling.
    List,
    /// Stop following a feed (its reports stay).
    Remove {
        /// The name it was added with.
        #[arg(long)]
        name: String,
    },
    /// Poll a feed once, now; waits for another process's poll of it to
    /// end first. Exits 0 when the poll succeeded.
    Poll {
        /// The name it was added with.
        #[arg(long)]
        name: String,
    },
}

#[derive(Subcommand)]
enum ReportCommand {
    /// Keep reports from files (`-` reads standard input); prints each
    /// report's id, whether it was new, and the file.
    Submit {
        #[command(flatten)]
        database: DatabaseArgs,
        /// Files to submit; `-` is standard input.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        /// text, html or ninjs; by default from the extension (.html/.htm,
        /// .json/.ninjs; anything else is text).
        #[arg(long, value_parser = ["text", "html", "ninjs"])]
        format: Option<String>,
        /// Who published it (the source's name in drafts).
        #[arg(long)]
        publisher: Option<String>,
        /// WIRE, NEWSPAPER, BROADCAST, OFFICIAL, NGO, WITNESS, SOCIAL_MEDIA or OTHER.
        #[arg(long)]
        kind: Option<String>,
        /// When the source published it (RFC 3339); relative dates in the
        /// text resolve against it.
        #[arg(long, value_name = "RFC3339")]
        published_at: Option<chrono::DateTime<chrono::Utc>>,
    },
    /// Score the extractor on the annotated reports (*.json) of DIR:
    /// precision and recall per kind, and every miss. Needs no database.
    Eval {
        /// A directory of annotated reports.
        #[arg(default_value = "fixtures/reports", value_name = "DIR")]
        dir: PathBuf,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create a token; it is printed once, as the last line.
    Create {
        /// A name for the token, unique among live ones (it labels the
        /// events appended with it).
        #[arg(long)]
        name: String,
        /// read: query and subscribe; write: also append.
        #[arg(long, default_value = "write", value_parser = ["read", "write"])]
        scope: String,
    },
    /// List every token: name, scope, created and revoked times (never the
    /// token).
    List,
    /// Revoke the live token of that name; it fails from the next request on.
    Revoke {
        /// The name it was created with.
        #[arg(long)]
        name: String,
    },
}

/// The relay's stream and subject when `serve --relay-nats` runs it.
const DEFAULT_RELAY_STREAM: &str = "STORYLINE";
const DEFAULT_RELAY_SUBJECT: &str = "storyline.events";

/// Resolves on SIGTERM or Ctrl-C.
async fn shutdown_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
    }
}

async fn load_demo(store: &Store) -> anyhow::Result<()> {
    let report = exchange::load_demo(store)
        .await
        .context("cannot load the demo story")?;
    print_import_report(&report);
    Ok(())
}

/// The SDL to standard output, or the payload schemas into `events`.
fn write_schemas(events: Option<&std::path::Path>) -> anyhow::Result<()> {
    let Some(dir) = events else {
        print!("{}", storyline::api::sdl());
        return Ok(());
    };
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    for (event_type, schema) in storyline::domain::events::payload_schemas() {
        let path = dir.join(format!("{event_type}.json"));
        let text = serde_json::to_string_pretty(&schema)? + "\n";
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

fn print_import_report(report: &exchange::ImportReport) {
    eprintln!(
        "{} events appended, {} already present, {} stories",
        report.appended, report.already_present, report.stories
    );
    if report.reports + report.dismissals > 0 {
        eprintln!(
            "{} reports kept, {} dismissals read",
            report.reports, report.dismissals
        );
    }
}

async fn run_feed_command(store: &Store, command: FeedCommand) -> anyhow::Result<()> {
    match command {
        FeedCommand::Add {
            name,
            url,
            every,
            publisher,
            kind,
            fetch_articles,
            allowed_hosts,
        } => {
            storyline::feeds::fetch::web_url(&url)?;
            let name = name.trim().to_owned();
            anyhow::ensure!(!name.is_empty(), "a feed needs a name");
            let config = storyline::store::FeedConfig {
                name: name.clone(),
                url: url.trim().to_owned(),
                every_seconds: every,
                publisher,
                source_kind: source_kind(kind)?,
                fetch_articles,
                allowed_hosts: allowed_hosts
                    .iter()
                    .map(|h| h.trim().to_lowercase())
                    .collect(),
            };
            let added = store.save_feed(&config).await?;
            eprintln!("{} feed {name:?}.", if added { "Added" } else { "Changed" });
        }
        FeedCommand::List => {
            println!("NAME\tURL\tEVERY\tFORMAT\tLAST POLLED\tLAST ERROR\tREPORTS");
            for feed in store.list_feeds().await? {
                let at = feed.last_polled_at.map(|t| t.to_rfc3339());
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    feed.config.name,
                    feed.config.url,
                    feed.config.every_seconds,
                    feed.format.as_deref().unwrap_or("-"),
                    at.as_deref().unwrap_or("-"),
                    feed.last_error.as_deref().unwrap_or("-"),
                    feed.reports_received
                );
            }
        }
        FeedCommand::Remove { name } => {
            anyhow::ensure!(store.remove_feed(&name).await?, "no feed is named {name:?}");
            eprintln!("Removed feed {name:?}; its reports stay.");
        }
        FeedCommand::Poll { name } => {
            let fetcher = storyline::feeds::Fetcher::new()?;
            let outcome = storyline::feeds::poll_feed(store, &fetcher, None, &name).await?;
            if outcome.not_modified {
                eprintln!("{name}: not modified since the last poll.");
            } else {
                eprintln!(
                    "{name}: {} new reports, {} kept before, {} items skipped.",
                    outcome.added, outcome.already_kept, outcome.skipped
                );
            }
        }
    }
    Ok(())
}

/// A source kind as the contract spells it, in any case.
fn source_kind(
    kind: Option<String>,
) -> anyhow::Result<Option<storyline::domain::model::SourceKind>> {
    kind.map(|k| serde_json::from_value(serde_json::Value::String(k.trim().to_uppercase())))
        .transpose()
        .context("--kind is one of WIRE, NEWSPAPER, BROADCAST, OFFICIAL, NGO, WITNESS, SOCIAL_MEDIA, OTHER")
}

/// The format a file's extension suggests.
fn format_of(path: &std::path::Path, given: Option<&str>) -> ReportFormat {
    let named = given.map(str::to_owned).or_else(|| {
        path.extension()
            .map(|e| e.to_string_lossy().to_lowercase())
            .map(|e| match e.as_str() {
                "html" | "htm" => "html".to_owned(),
                "json" | "ninjs" => "ninjs".to_owned(),
                _ => "text".to_owned(),
            })
    });
    match named.as_deref() {
        Some("html") => ReportFormat::Html,
        Some("ninjs") => ReportFormat::Ninjs,
        _ => ReportFormat::Text,
    }
}

/// `report submit`: each file kept, its id and whether it was new printed
/// as it goes; a bad file stops the command with its name.
async fn submit_reports(
    store: &Store,
    files: &[PathBuf],
    format: Option<&str>,
    defaults: &ReportSubmission,
) -> anyhow::Result<()> {
    let progress = progress_bar("{bar:30} {pos}/{len} reports");
    progress.set_length(files.len() as u64);
    for (done, file) in files.iter().enumerate() {
        let body = if file.as_os_str() == "-" {
            std::io::read_to_string(std::io::stdin().lock())
                .context("cannot read standard input")?
        } else {
            std::fs::read_to_string(file)
                .with_context(|| format!("cannot read {}", file.display()))?
        };
        let submission = ReportSubmission {
            body,
            format: format_of(file, format),
            ..defaults.clone()
        };
        let prepared = submission
            .prepare()
            .with_context(|| format!("{} is not a report storyline can keep", file.display()))?;
        let kept = store
            .submit_report(&prepared, "cli", None, None)
            .await
            .with_context(|| format!("cannot keep {}", file.display()))?;
        let state = if kept.deduplicated {
            "deduplicated"
        } else {
            "new"
        };
        progress.suspend(|| println!("{}\t{state}\t{}", kept.id, file.display()));
        report_progress(&progress, done as u64 + 1, "reports submitted");
    }
    progress.finish_and_clear();
    Ok(())
}

/// `report eval`: the extractor scored on annotated reports.
fn evaluate_extractor(dir: &std::path::Path) -> anyhow::Result<()> {
    use storyline::domain::extract::score::{evaluate, table, Annotated, Scores};
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    let mut total = Scores::default();
    for path in &paths {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let annotated: Annotated = serde_json::from_str(&text)
            .with_context(|| format!("{} is not an annotated report", path.display()))?;
        total.add(&evaluate(&annotated));
    }
    println!("{} annotated reports in {}", paths.len(), dir.display());
    print!("{}", table(&total));
    Ok(())
}

/// mimalloc instead of glibc's allocator: the snapshot query serves 18%
/// more requests a second and an HTTP append 8% more (`cargo bench --bench
/// api`); the server allocates many small, short-lived objects per request.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    storyline::telemetry::init_logging();
    let cli = Cli::parse();
    match connect_and_run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            // The chain of causes, without a backtrace: this is for operators.
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

impl Command {
    /// The database options of a command that uses a database.
    fn database(&self) -> Option<&DatabaseArgs> {
        match self {
            Command::Serve { database, .. }
            | Command::Import { database, .. }
            | Command::Export { database, .. }
            | Command::Demo { database }
            | Command::Rebuild { database }
            | Command::Verify { database }
            | Command::Migrate { database }
            | Command::Relay { database, .. }
            | Command::Token { database, .. }
            | Command::Feed { database, .. }
            | Command::Report {
                command: ReportCommand::Submit { database, .. },
            } => Some(database),
            Command::Schema { .. }
            | Command::Report {
                command: ReportCommand::Eval { .. },
            } => None,
        }
    }
}

async fn connect_and_run(cli: Cli) -> anyhow::Result<()> {
    if let Command::Schema { events } = &cli.command {
        return write_schemas(events.as_deref());
    }
    if let Command::Report {
        command: ReportCommand::Eval { dir },
    } = &cli.command
    {
        return evaluate_extractor(dir);
    }
    let Some(database) = cli.command.database() else {
        anyhow::bail!("this command needs no database");
    };
    let store = Store::connect(&ConnectOptions {
        database_url: database.database_url.clone(),
        max_connections: database.db_max_connections,
        checkpoint_every: database.checkpoint_every(),
        statement_timeout: serving_timeout(&cli.command),
    })
    .await
    .context("cannot open the database")?;
    let outcome = run(cli.command, &store).await;
    store.close().await;
    outcome
}

/// The statement timeout of the server's pool: its request timeout. The
/// other commands (import, rebuild, export) take as long as they take.
fn serving_timeout(command: &Command) -> Option<std::time::Duration> {
    match command {
        Command::Serve {
            request_timeout, ..
        } => Some(std::time::Duration::from_secs((*request_timeout).max(1))),
        _ => None,
    }
}

async fn run(command: Command, store: &Store) -> anyhow::Result<()> {
    match command {
        Command::Serve {
            listen,
            demo,
            ws_ping_seconds,
            request_timeout,
            max_open_connections,
            header_timeout_seconds,
            private,
            replica_urls,
            replica_wait_ms,
            replica_max_lag,
            relay_nats,
            database,
        } => {
            if demo {
                load_demo(store).await?;
            }
            let listener = tokio::net::TcpListener::bind(listen)
                .await
                .with_context(|| format!("cannot listen on {listen}"))?;
            let state = AppState {
                ws_ping: std::time::Duration::from_secs(ws_ping_seconds.max(1)),
                request_timeout: std::time::Duration::from_secs(request_timeout.max(1)),
                connections: http::ConnectionLimits {
                    open: max_open_connections.max(1),
                    header_read: std::time::Duration::from_secs(header_timeout_seconds.max(1)),
                },
                private,
                ..AppState::new(store.clone())
            };
            let replicas = if replica_urls.is_empty() {
                None
            } else {
                // Each replica's pool as the primary's, at its own URL.
                let options = ConnectOptions {
                    database_url: database.database_url.clone(),
                    max_connections: database.db_max_connections,
                    checkpoint_every: database.checkpoint_every(),
                    statement_timeout: Some(std::time::Duration::from_secs(request_timeout.max(1))),
                };
                let set = ReplicaSet::new(
                    store.clone(),
                    &replica_urls,
                    &options,
                    std::time::Duration::from_millis(replica_wait_ms),
                    std::time::Duration::from_secs(replica_max_lag),
                )
                .await
                .context("cannot set up the replicas")?;
                let set = std::sync::Arc::new(set);
                tokio::spawn(set.clone().watch(state.live.stopping()));
                state
                    .live
                    .read_through(set.feed_source(state.metrics.clone()));
                tracing::info!(replicas = replica_urls.len(), "reads go to replicas");
                Some(set)
            };
            let state = AppState { replicas, ..state };
            if let Some(nats_url) = relay_nats {
                let config = storyline::relay::RelayConfig {
                    nats_url,
                    stream: DEFAULT_RELAY_STREAM.into(),
                    subject: DEFAULT_RELAY_SUBJECT.into(),
                };
                tokio::spawn(storyline::relay::relay_events(
                    store.clone(),
                    config,
                    state.metrics.clone(),
                    state.live.stopping(),
                ));
            }
            // Feeds are polled beside the requests until shutdown.
            let following = tokio::spawn(storyline::feeds::follow_feeds(
                store.clone(),
                state.metrics.clone(),
                state.live.stopping(),
            ));
            http::serve(listener, state).await?;
            following.abort();
        }
        Command::Schema { .. }
        | Command::Report {
            command: ReportCommand::Eval { .. },
        } => unreachable!("handled before connecting"),
        Command::Feed { command, .. } => run_feed_command(store, command).await?,
        Command::Report {
            command:
                ReportCommand::Submit {
                    files,
                    format,
                    publisher,
                    kind,
                    published_at,
                    ..
                },
        } => {
            let defaults = ReportSubmission {
                publisher,
                source_kind: source_kind(kind)?,
                published_at,
                ..ReportSubmission::default()
            };
            submit_reports(store, &files, format.as_deref(), &defaults).await?;
        }
        Command::Relay {
            nats,
            stream,
            subject,
            ..
        } => {
            let config = storyline::relay::RelayConfig {
                nats_url: nats,
                stream,
                subject,
            };
            let metrics = storyline::metrics::Metrics::new();
            storyline::relay::relay_events(store.clone(), config, metrics, shutdown_signal()).await;
        }
        Command::Migrate { .. } => {
            // Store::connect has migrated already.
            tracing::info!("database is up to date");
        }
        Command::Import {
            file,
            keep_recorded_at,
            ..
        } => {
            let report = match (file.as_os_str() == "-", keep_recorded_at) {
                (true, false) => exchange::import(store, std::io::stdin().lock()).await?,
                // Checked whole before anything is written, standard input
                // is read twice from memory.
                (true, true) => {
                    let mut input = Vec::new();
                    std::io::Read::read_to_end(&mut std::io::stdin().lock(), &mut input)?;
                    exchange::import_keeping_recorded_at(store, std::io::Cursor::new(input)).await?
                }
                (false, keep) => {
                    let opened = std::fs::File::open(&file)
                        .with_context(|| format!("cannot open {}", file.display()))?;
                    let input = std::io::BufReader::new(opened);
                    if keep {
                        exchange::import_keeping_recorded_at(store, input).await?
                    } else {
                        exchange::import(store, input).await?
                    }
                }
            };
            print_import_report(&report);
        }
        Command::Export { story, .. } => {
            let stdout = std::io::stdout().lock();
            exchange::export(store, story.as_deref(), std::io::BufWriter::new(stdout)).await?;
        }
        Command::Demo { .. } => load_demo(store).await?,
        Command::Rebuild { .. } => {
            let progress = progress_bar("{spinner} {pos} events replayed ({per_sec})");
            let report = projection::rebuild(store, |events| {
                report_progress(&progress, events, "events replayed")
            })
            .await?;
            progress.finish_and_clear();
            eprintln!(
                "Rebuilt {} stories from {} events; {} reports read again.",
                report.stories, report.events, report.reports
            );
        }
        Command::Verify { .. } => {
            let progress = progress_bar("{spinner} {pos} stories verified");
            let differences = projection::verify(store, |stories| {
                report_progress(&progress, stories, "stories verified")
            })
            .await?;
            progress.finish_and_clear();
            let mut differences: Vec<String> =
                differences.iter().map(ToString::to_string).collect();
            differences.extend(projection::verify_reports(store).await?);
            if !differences.is_empty() {
                for difference in &differences {
                    println!("{difference}");
                }
                anyhow::bail!(
                    "{} differences between events and snapshots",
                    differences.len()
                );
            }
            eprintln!("Every snapshot equals the fold of its events; every report its hash.");
        }
        Command::Token {
            command: TokenCommand::Create { name, scope },
            ..
        } => {
            let token = store.create_token(&name, scope.parse()?).await?;
            eprintln!("Created {scope} token {name:?}. It is shown only now; keep it secret.");
            println!("{token}");
        }
        Command::Token {
            command: TokenCommand::Revoke { name },
            ..
        } => {
            store.revoke_token(&name).await?;
            eprintln!("Revoked token {name:?}.");
        }
        Command::Token {
            command: TokenCommand::List,
            ..
        } => {
            println!("NAME\tSCOPE\tCREATED\tREVOKED");
            for token in store.list_tokens().await? {
                let revoked = token.revoked_at.map(|at| at.to_rfc3339());
                println!(
                    "{}\t{}\t{}\t{}",
                    token.name,
                    token.scope,
                    token.created_at.to_rfc3339(),
                    revoked.as_deref().unwrap_or("-")
                );
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// Every subcommand and every argument a user can see, with the path
    /// that leads to it.
    fn undescribed(command: &clap::Command, path: &str, missing: &mut Vec<String>) {
        for argument in command.get_arguments() {
            let id = argument.get_id().as_str();
            if argument.is_hide_set() || id == "help" || id == "version" {
                continue;
            }
            if argument.get_help().is_none() && argument.get_long_help().is_none() {
                missing.push(format!("{path} {id}"));
            }
        }
        for sub in command.get_subcommands() {
            let path = format!("{path} {}", sub.get_name());
            if sub.get_about().is_none() && sub.get_name() != "help" {
                missing.push(path.clone());
            }
            undescribed(sub, &path, missing);
        }
    }

    #[test]
    fn database_options_are_offered_only_where_a_database_is_used() {
        let mut cli = super::Cli::command();
        // Global options reach the subcommands when the tree is built.
        cli.build();
        let offers_database = |path: &[&str]| {
            let mut command = &cli;
            for name in path {
                command = command.find_subcommand(name).expect("a subcommand");
            }
            command
                .get_arguments()
                .any(|a| a.get_id().as_str() == "database_url")
        };
        assert!(!offers_database(&[]), "not before the command");
        assert!(!offers_database(&["schema"]));
        assert!(!offers_database(&["report", "eval"]));
        assert!(offers_database(&["serve"]));
        assert!(offers_database(&["report", "submit"]));
        assert!(offers_database(&["token", "create"]));
    }

    #[test]
    fn every_subcommand_and_argument_says_what_it_is() {
        let mut missing = Vec::new();
        undescribed(&super::Cli::command(), "storyline", &mut missing);
        assert!(missing.is_empty(), "no help text: {missing:?}");
    }
}
