//! Feeds (DESIGN §12) against a local HTTP server of the test's own that
//! serves RSS 2.0, Atom, JSON Feed and ninjs written here: every item kept
//! once, conditional GET and 304, changed text as a new version, items
//! without ids, malformed items, article pages by host, failures that back
//! off and are recorded, limits on size and redirects, and `serve` polling
//! on its own.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::json;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use storyline::feeds::{poll_feed, Fetcher};
use storyline::store::{FeedConfig, Store};

/// What the test server answers at each path, and the requests it saw.
#[derive(Default)]
struct Site {
    pages: HashMap<String, Page>,
    requests: Vec<(String, HeaderMap)>,
}

#[derive(Clone)]
enum Page {
    Body {
        body: String,
        etag: Option<String>,
        content_type: &'static str,
    },
    Status(u16),
    Slow(Duration),
    Redirect(String),
    Huge(usize),
}

type Shared = Arc<Mutex<Site>>;

async fn answer(
    State(site): State<Shared>,
    Path(path): Path<String>,
    headers: HeaderMap,
) -> Response {
    let page = {
        let mut site = site.lock().unwrap();
        site.requests.push((path.clone(), headers.clone()));
        site.pages.get(&path).cloned()
    };
    match page {
        None => StatusCode::NOT_FOUND.into_response(),
        Some(Page::Status(code)) => StatusCode::from_u16(code).unwrap().into_response(),
        Some(Page::Slow(wait)) => {
            tokio::time::sleep(wait).await;
            "late".into_response()
        }
        Some(Page::Redirect(to)) => (StatusCode::FOUND, [("location", to)]).into_response(),
        Some(Page::Huge(bytes)) => {
            ([("content-type", "application/rss+xml")], "x".repeat(bytes)).into_response()
        }
        Some(Page::Body {
            body,
            etag,
            content_type,
        }) => {
            if let (Some(etag), Some(sent)) = (&etag, headers.get("if-none-match")) {
                if sent.to_str().ok() == Some(etag.as_str()) {
                    return StatusCode::NOT_MODIFIED.into_response();
                }
            }
            let mut response = ([("content-type", content_type)], body).into_response();
            if let Some(etag) = etag {
                response.headers_mut().insert("etag", etag.parse().unwrap());
                response.headers_mut().insert(
                    "last-modified",
                    "Thu, 07 Mar 2024 10:00:00 GMT".parse().unwrap(),
                );
            }
            response
        }
    }
}

struct TestSite {
    site: Shared,
    base: String,
    host_port: u16,
}

impl TestSite {
    async fn start() -> TestSite {
        let site: Shared = Arc::default();
        let app = Router::new()
            .route("/{*path}", get(answer))
            .with_state(site.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        TestSite {
            site,
            base: format!("http://127.0.0.1:{port}"),
            host_port: port,
        }
    }

    fn serve(&self, path: &str, page: Page) {
        self.site
            .lock()
            .unwrap()
            .pages
            .insert(path.to_owned(), page);
    }

    fn feed(&self, path: &str, body: &str, content_type: &'static str) {
        self.serve(
            path,
            Page::Body {
                body: body.to_owned(),
                etag: Some(format!("\"{:x}\"", body.len())),
                content_type,
            },
        );
    }

    fn url(&self, path: &str) -> String {
        format!("{}/{path}", self.base)
    }

    fn requests_of(&self, path: &str) -> Vec<HeaderMap> {
        self.site
            .lock()
            .unwrap()
            .requests
            .iter()
            .filter(|(p, _)| p == path)
            .map(|(_, h)| h.clone())
            .collect()
    }
}

fn config(name: &str, url: String) -> FeedConfig {
    FeedConfig {
        name: name.to_owned(),
        url,
        every_seconds: 60,
        publisher: Some("Coast Wire".into()),
        source_kind: Some(storyline::domain::model::SourceKind::Wire),
        fetch_articles: false,
        allowed_hosts: vec![],
    }
}

async fn reports_of(store: &Store, feed: &str) -> Vec<(Option<String>, i32, String)> {
    sqlx::query_as(
        "SELECT uri, version, text FROM reports WHERE feed = $1 ORDER BY received_at, id",
    )
    .bind(feed)
    .fetch_all(store.pool())
    .await
    .unwrap()
}

fn rss(items: &[&str]) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Coast Wire</title><link>http://example.org/</link><description>d</description>{}</channel></rss>"#,
        items.join("")
    )
}

const DAM: &str = "<item><guid>urn:coast:1</guid><title>Dam holds</title><description>The dam held overnight, engineers said on Monday.</description><pubDate>Thu, 07 Mar 2024 10:00:00 GMT</pubDate></item>";
const NO_ID: &str = "<item><title>Ferry</title><description>A ferry sank off the coast; at least 12 people were rescued.</description></item>";
const EMPTY: &str = "<item><guid>urn:coast:empty</guid></item>";

#[sqlx::test]
async fn an_rss_feed_is_kept_once_and_polled_again_with_its_validators(
    pool: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let store = common::store_with(pool, connect, 4).await;
    let site = TestSite::start().await;
    site.feed("rss.xml", &rss(&[DAM, NO_ID, EMPTY]), "application/rss+xml");
    store
        .save_feed(&config("coast", site.url("rss.xml")))
        .await
        .unwrap();
    let fetcher = Fetcher::new().unwrap();

    let first = poll_feed(&store, &fetcher, None, "coast").await.unwrap();
    assert_eq!(
        (first.added, first.skipped),
        (2, 1),
        "the item without text is skipped and counted"
    );
    let kept = reports_of(&store, "coast").await;
    assert_eq!(kept.len(), 2);
    assert_eq!(kept[0].0.as_deref(), Some("urn:coast:1"));
    assert_eq!(kept[1].0, None, "an item without an id has no uri");

    let second = poll_feed(&store, &fetcher, None, "coast").await.unwrap();
    assert!(
        second.not_modified,
        "a 304 is a successful poll that stores nothing"
    );
    let sent = site.requests_of("rss.xml");
    let last = sent.last().unwrap();
    assert!(last.get("if-none-match").is_some() && last.get("if-modified-since").is_some());
    assert!(last
        .get("user-agent")
        .unwrap()
        .to_str()
        .unwrap()
        .starts_with("storyline/"));
    assert_eq!(reports_of(&store, "coast").await.len(), 2);

    // The same items under a new ETag: nothing new.
    site.serve(
        "rss.xml",
        Page::Body {
            body: rss(&[NO_ID, DAM]),
            etag: Some("\"v2\"".into()),
            content_type: "application/rss+xml",
        },
    );
    let third = poll_feed(&store, &fetcher, None, "coast").await.unwrap();
    assert_eq!((third.added, third.already_kept), (0, 2));

    // Other text under the same guid is the next version.
    let changed = DAM.replace("held overnight", "broke at dawn");
    site.serve(
        "rss.xml",
        Page::Body {
            body: rss(&[&changed]),
            etag: Some("\"v3\"".into()),
            content_type: "application/rss+xml",
        },
    );
    assert_eq!(
        poll_feed(&store, &fetcher, None, "coast")
            .await
            .unwrap()
            .added,
        1
    );
    let versions: Vec<i32> = reports_of(&store, "coast")
        .await
        .iter()
        .filter(|r| r.0.as_deref() == Some("urn:coast:1"))
        .map(|r| r.1)
        .collect();
    assert_eq!(versions, [1, 2]);

    let feed = store.feed("coast").await.unwrap().unwrap();
    assert_eq!(feed.format.as_deref(), Some("RSS"));
    assert_eq!(feed.reports_received, 3);
    assert!(feed.last_error.is_none() && feed.last_success_at.is_some());
    let report: (Option<String>, Option<String>) = sqlx::query_as(
        "SELECT publisher, source_kind FROM reports WHERE uri = 'urn:coast:1' LIMIT 1",
    )
    .fetch_one(store.pool())
    .await
    .unwrap();
    assert_eq!(report, (Some("Coast Wire".into()), Some("WIRE".into())));
}

#[sqlx::test]
async fn atom_json_feed_and_ninjs_feeds_are_detected_and_kept(
    pool: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let store = common::store_with(pool, connect, 4).await;
    let site = TestSite::start().await;
    let atom = r#"<feed xmlns="http://www.w3.org/2005/Atom"><title>A</title><id>urn:a</id><updated>2024-03-07T10:00:00Z</updated>
        <entry><id>urn:atom:1</id><title>Port</title><updated>2024-03-07T10:00:00Z</updated><author><name>B. Writer</name></author>
        <content type="html">&lt;p&gt;The port reopened on Tuesday.&lt;/p&gt;&lt;p&gt;Ships queued.&lt;/p&gt;</content></entry></feed>"#;
    site.feed("atom.xml", atom, "application/atom+xml");
    let json_feed = json!({"version": "https://jsonfeed.org/version/1.1", "title": "J", "items": [
        {"id": "jf-1", "url": "https://example.org/jf-1", "title": "Bridge", "content_text": "The bridge reopened.", "date_published": "2024-03-07T09:00:00Z"},
        {"id": "jf-2", "title": "Malformed: no content"}]});
    site.feed("feed.json", &json_feed.to_string(), "application/feed+json");
    let ninjs = json!({"items": [{"uri": "urn:ninjs:1", "version": "3", "headline": "Flood", "body_text": "The river rose.", "located": "LIMA"}]});
    site.feed("ninjs.json", &ninjs.to_string(), "application/json");
    let fetcher = Fetcher::new().unwrap();
    for (name, path, format) in [
        ("atom", "atom.xml", "ATOM"),
        ("jf", "feed.json", "JSON_FEED"),
        ("ninjs", "ninjs.json", "NINJS"),
    ] {
        store
            .save_feed(&config(name, site.url(path)))
            .await
            .unwrap();
        poll_feed(&store, &fetcher, None, name).await.unwrap();
        assert_eq!(
            store.feed(name).await.unwrap().unwrap().format.as_deref(),
            Some(format)
        );
    }
    let atom_report = reports_of(&store, "atom").await;
    assert_eq!(
        atom_report[0].2,
        "The port reopened on Tuesday.\n\nShips queued."
    );
    let jf = reports_of(&store, "jf").await;
    assert_eq!(jf.len(), 1, "the malformed item is skipped, the other kept");
    let ninjs_report: (Option<String>, i32, Option<String>) =
        sqlx::query_as("SELECT uri, version, dateline FROM reports WHERE feed = 'ninjs'")
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert_eq!(
        ninjs_report,
        (Some("urn:ninjs:1".into()), 3, Some("LIMA".into()))
    );
}

#[sqlx::test]
async fn summary_items_get_their_article_only_from_allowed_hosts(
    pool: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let store = common::store_with(pool, connect, 4).await;
    let site = TestSite::start().await;
    let paragraph = "Crews reopened the mountain road on Tuesday after a landslide cut off three villages, the governor said. ";
    let page = format!("<html><head><title>Road</title></head><body><nav>Menu</nav><article><p>{}</p><p>{}</p></article></body></html>", paragraph.repeat(3), paragraph.repeat(2));
    site.serve(
        "article/1",
        Page::Body {
            body: page,
            etag: None,
            content_type: "text/html",
        },
    );
    // The same page by another name of the host: "localhost" is not the
    // feed's host (127.0.0.1) unless allowed.
    let other_host = format!("http://localhost:{}/article/1", site.host_port);
    let items = format!(
        "<item><guid>same-host</guid><link>{}</link><description>Road reopens.</description></item>\
         <item><guid>other-host</guid><link>{other_host}</link><description>Road reopens, elsewhere.</description></item>",
        site.url("article/1")
    );
    site.feed("rss.xml", &rss(&[&items]), "application/rss+xml");
    let mut feed = config("roads", site.url("rss.xml"));
    feed.fetch_articles = true;
    store.save_feed(&feed).await.unwrap();
    let fetcher = Fetcher::new().unwrap();
    poll_feed(&store, &fetcher, None, "roads").await.unwrap();
    let kept = reports_of(&store, "roads").await;
    let text_of = |uri: &str| {
        kept.iter()
            .find(|r| r.0.as_deref() == Some(uri))
            .map(|r| r.2.clone())
            .unwrap()
    };
    assert!(
        text_of("same-host").starts_with("Crews reopened"),
        "the article's text"
    );
    assert_eq!(
        text_of("other-host"),
        "Road reopens, elsewhere.",
        "the summary: the host is not allowed"
    );
    assert_eq!(site.requests_of("article/1").len(), 1);

    // Allowing the other host fetches its page too (a new version of the item).
    feed.allowed_hosts = vec!["localhost".into()];
    store.save_feed(&feed).await.unwrap();
    poll_feed(&store, &fetcher, None, "roads").await.unwrap();
    assert_eq!(site.requests_of("article/1").len(), 2);
}

#[sqlx::test]
async fn failures_back_off_record_their_error_and_keep_nothing(
    pool: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let store = common::store_with(pool, connect, 4).await;
    let site = TestSite::start().await;
    site.serve("error", Page::Status(500));
    site.serve("slow", Page::Slow(Duration::from_secs(5)));
    site.serve("huge", Page::Huge(5 * 1024 * 1024 + 1));
    site.serve("loop-a", Page::Redirect(site.url("loop-b")));
    site.serve("loop-b", Page::Redirect(site.url("loop-a")));
    site.serve(
        "garbage",
        Page::Body {
            body: "<html>not a feed</html>".into(),
            etag: None,
            content_type: "text/html",
        },
    );
    let fetcher = Fetcher::with_timeout(Duration::from_secs(1)).unwrap();
    for (name, path, says) in [
        ("error", "error", "500"),
        ("slow", "slow", "time"),
        ("huge", "huge", "5 MiB"),
        ("loop", "loop-a", "redirect"),
        ("garbage", "garbage", "feed"),
    ] {
        store
            .save_feed(&config(name, site.url(path)))
            .await
            .unwrap();
        assert!(
            poll_feed(&store, &fetcher, None, name).await.is_err(),
            "{name}"
        );
        let first = store.feed(name).await.unwrap().unwrap();
        let error = first.last_error.clone().unwrap_or_default();
        assert!(error.contains(says), "{name}: {error}");
        assert_eq!(first.failures, 1);
        assert!(poll_feed(&store, &fetcher, None, name).await.is_err());
        let second = store.feed(name).await.unwrap().unwrap();
        assert_eq!(second.failures, 2);
        let wait = |f: &storyline::store::FeedState| {
            (f.next_poll_at - f.last_polled_at.unwrap()).num_seconds()
        };
        assert_eq!(
            (wait(&first), wait(&second)),
            (120, 240),
            "{name}: the wait doubles"
        );
    }
    let kept: i64 = sqlx::query_scalar("SELECT count(*) FROM reports")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(kept, 0);
    // An hour at most.
    sqlx::query("UPDATE feeds SET failures = 30 WHERE name = 'error'")
        .execute(store.pool())
        .await
        .unwrap();
    assert!(poll_feed(&store, &fetcher, None, "error").await.is_err());
    let capped = store.feed("error").await.unwrap().unwrap();
    assert_eq!(
        (capped.next_poll_at - capped.last_polled_at.unwrap()).num_seconds(),
        3600
    );
}

#[sqlx::test]
async fn the_cli_refuses_urls_that_are_not_web_urls_and_records_every_change(
    pool: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let admin = pool.connect_with(connect.clone()).await.unwrap();
    let url = common::test_database_url(&connect);
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_storyline"))
            .args(args)
            .env("DATABASE_URL", &url)
            .output()
            .expect("the binary runs")
    };
    for bad in ["file:///etc/passwd", "ftp://example.org/feed.xml"] {
        let refused = run(&["feed", "add", "--name", "bad", "--url", bad]);
        assert!(!refused.status.success(), "{bad}");
    }
    let zero = run(&[
        "feed",
        "add",
        "--name",
        "bad",
        "--url",
        "https://example.org/f",
        "--every",
        "0",
    ]);
    assert!(!zero.status.success(), "--every starts at 1");
    for every in ["300", "60"] {
        let added = run(&[
            "feed",
            "add",
            "--name",
            "wire",
            "--url",
            "https://example.org/f",
            "--every",
            every,
            "--kind",
            "wire",
            "--allow-host",
            "cdn.example.org",
        ]);
        assert!(
            added.status.success(),
            "{}",
            String::from_utf8_lossy(&added.stderr)
        );
    }
    let listed = String::from_utf8_lossy(&run(&["feed", "list"]).stdout).into_owned();
    assert!(
        listed.contains("wire\thttps://example.org/f\t60"),
        "{listed}"
    );
    assert!(run(&["feed", "remove", "--name", "wire"]).status.success());
    assert!(!run(&["feed", "remove", "--name", "wire"]).status.success());
    let changes: Vec<String> = sqlx::query_scalar(
        "SELECT change FROM feed_changes WHERE feed = 'wire' ORDER BY changed_at, id",
    )
    .fetch_all(&admin)
    .await
    .unwrap();
    assert_eq!(changes, ["ADDED", "CHANGED", "REMOVED"]);
}

#[sqlx::test]
async fn serve_polls_each_feed_on_its_schedule_and_the_feeds_query_shows_it(
    pool: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let store = common::store_with(pool, connect, 4).await;
    let site = TestSite::start().await;
    site.feed("rss.xml", &rss(&[DAM, NO_ID]), "application/rss+xml");
    let mut feed = config("coast", site.url("rss.xml"));
    feed.every_seconds = 1;
    store.save_feed(&feed).await.unwrap();
    // Two followers on one database, as two servers would run.
    let metrics = storyline::metrics::Metrics::new();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    for _ in 0..2 {
        let mut stopped = stopped.clone();
        let stopping = async move {
            let _ = stopped.wait_for(|s| *s).await;
        };
        tokio::spawn(storyline::feeds::follow_feeds(
            store.clone(),
            metrics.clone(),
            stopping,
        ));
    }
    let mut polled = 0;
    for _ in 0..100 {
        polled = site.requests_of("rss.xml").len();
        if polled >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stop.send(true).unwrap();
    assert!(polled >= 3, "polled {polled} times");
    assert_eq!(reports_of(&store, "coast").await.len(), 2, "each item once");
    let server = common::spawn_server(store.clone()).await;
    let token = server.token("desk").await;
    let feeds = common::data(server.post(Some(&token), "{ feeds { name url format everySeconds lastSuccessAt lastError reportsReceived nextPollAt } }", json!({})).await);
    assert_eq!(feeds["feeds"][0]["name"], "coast");
    assert_eq!(feeds["feeds"][0]["format"], "RSS");
    assert_eq!(feeds["feeds"][0]["reportsReceived"], 2);
    let reports = common::data(
        server
            .post(
                Some(&token),
                "{ reports { totalCount nodes { feed drafts { headline } } } }",
                json!({}),
            )
            .await,
    );
    assert_eq!(reports["reports"]["totalCount"], 2);
    assert_eq!(reports["reports"]["nodes"][0]["feed"], "coast");
    let mut exposition = String::new();
    prometheus_client_text(&metrics, &mut exposition);
    assert!(exposition.contains("feed=\"coast\""), "{exposition}");
}

fn prometheus_client_text(metrics: &storyline::metrics::Metrics, out: &mut String) {
    out.push_str(&metrics.render());
}

/// A `storyline serve` process over the test's database; killed (-9) when
/// dropped.
struct Serving(std::process::Child);

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve(database_url: &str) -> Serving {
    Serving(
        std::process::Command::new(env!("CARGO_BIN_EXE_storyline"))
            .args(["serve", "--listen", "127.0.0.1:0"])
            .env("DATABASE_URL", database_url)
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("the binary starts"),
    )
}

async fn until(mut done: impl FnMut() -> bool) {
    for _ in 0..300 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("waited 15 s in vain");
}

#[sqlx::test]
async fn a_server_killed_mid_poll_and_started_again_keeps_each_item_once(
    pool: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let store = common::store_with(pool, connect.clone(), 4).await;
    let url = common::test_database_url(&connect);
    let site = TestSite::start().await;
    let paragraph = "Crews reopened the mountain road on Tuesday after a landslide cut off three villages, the governor said. ";
    let page = format!(
        "<html><body><article><p>{}</p><p>{}</p></article></body></html>",
        paragraph.repeat(3),
        paragraph.repeat(2)
    );
    // The second item's page does not answer before the kill.
    site.serve("article/slow", Page::Slow(Duration::from_secs(30)));
    let items = format!(
        "<item><guid>one</guid><description>The first item, whole.</description></item>\
         <item><guid>two</guid><link>{}</link><description>Only a summary.</description></item>\
         <item><guid>three</guid><description>The third item, whole.</description></item>",
        site.url("article/slow")
    );
    site.feed("rss.xml", &rss(&[&items]), "application/rss+xml");
    let mut feed = config("wire", site.url("rss.xml"));
    feed.every_seconds = 1;
    feed.fetch_articles = true;
    store.save_feed(&feed).await.unwrap();

    let first = serve(&url);
    until(|| !site.requests_of("article/slow").is_empty()).await;
    drop(first); // kill -9, mid-poll: one item kept, the second's page awaited
    let kept = reports_of(&store, "wire").await;
    assert_eq!(kept.len(), 1, "{kept:?}");
    let untouched = store.feed("wire").await.unwrap().unwrap();
    assert!(untouched.etag.is_none() && untouched.last_success_at.is_none());

    site.serve(
        "article/slow",
        Page::Body {
            body: page,
            etag: None,
            content_type: "text/html",
        },
    );
    let _second = serve(&url);
    let done = || async {
        store
            .feed("wire")
            .await
            .unwrap()
            .unwrap()
            .last_success_at
            .is_some()
    };
    for _ in 0..300 {
        if done().await {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let kept = reports_of(&store, "wire").await;
    let mut uris: Vec<String> = kept.iter().filter_map(|r| r.0.clone()).collect();
    uris.sort();
    assert_eq!(uris, ["one", "three", "two"], "each item exactly once");
    let two = kept.iter().find(|r| r.0.as_deref() == Some("two")).unwrap();
    assert!(two.2.starts_with("Crews reopened"));
}

#[sqlx::test]
async fn two_servers_on_one_database_poll_a_feed_once_per_interval(
    pool: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let store = common::store_with(pool, connect.clone(), 4).await;
    let url = common::test_database_url(&connect);
    let site = TestSite::start().await;
    site.feed("rss.xml", &rss(&[DAM]), "application/rss+xml");
    let mut feed = config("wire", site.url("rss.xml"));
    feed.every_seconds = 3600;
    store.save_feed(&feed).await.unwrap();
    let _servers = [serve(&url), serve(&url)];
    until(|| !site.requests_of("rss.xml").is_empty()).await;
    // Both servers keep claiming due feeds every half second; none is due
    // again for an hour.
    let mut polled_by_then = 0;
    for _ in 0..20 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        polled_by_then = site.requests_of("rss.xml").len();
    }
    assert_eq!(
        polled_by_then, 1,
        "one poll per interval, whichever server made it"
    );
    assert_eq!(reports_of(&store, "wire").await.len(), 1);
}
