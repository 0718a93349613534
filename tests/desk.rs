//! The web desk: its pages and exports over HTTP, and the whole desk in
//! headless Chromium (tests/http-audit/desk.mjs, playwright-core driving
//! Debian's chromium; screenshots land in target/desk-screenshots/).

mod common;

use common::{data, spawn_server};
use serde_json::json;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use storyline::store::Scope;

const SLUG: &str = "kabul-airport-2021";

async fn demo_server(pool: PgPoolOptions, connect: PgConnectOptions) -> common::TestServer {
    let store = common::store_with(pool, connect, 8).await;
    storyline::exchange::load_demo(&store).await.unwrap();
    spawn_server(store).await
}

#[sqlx::test]
async fn the_desk_works_in_chromium_offline(pool: PgPoolOptions, connect: PgConnectOptions) {
    let server = demo_server(pool, connect).await;
    let writer = server.token("desk").await;
    let reader = server.store_token("partner", Scope::Read).await;
    let shots = concat!(env!("CARGO_MANIFEST_DIR"), "/target/desk-screenshots");
    assert!(
        std::path::Path::new("/usr/bin/chromium").exists(),
        "install Debian's chromium (./scripts/test does)"
    );
    // A feed that failed its last poll, for the feeds page.
    let feed = storyline::store::FeedConfig {
        name: "coast-wire".into(),
        url: "https://wire.example.org/coast.xml".into(),
        every_seconds: 300,
        publisher: Some("Coast Wire".into()),
        source_kind: None,
        fetch_articles: false,
        allowed_hosts: vec![],
    };
    server.store.save_feed(&feed).await.unwrap();
    let failed = storyline::store::PollRecord::Failed {
        error: "the server answered 503 Service Unavailable".into(),
        added: 0,
    };
    server
        .store
        .record_poll("coast-wire", &failed)
        .await
        .unwrap();
    let args = vec![server.url.clone(), writer, reader, shots.to_owned()];
    let report = common::run_node("desk.mjs", args).await;
    assert!(report.contains("desk: ok"), "{report}");
}

#[sqlx::test]
async fn pages_and_assets_are_served_from_the_binary(
    pool: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let server = demo_server(pool, connect).await;
    for (path, content_type) in [
        ("/", "text/html"),
        ("/stories/kabul-airport-2021", "text/html"),
        ("/graphiql", "text/html"),
        ("/feeds", "text/html"),
        ("/reports", "text/html"),
        ("/reports/0192f0c4-1111-7000-8000-000000000002", "text/html"),
        ("/desk/reports.js", "text/javascript"),
        ("/desk/review.js", "text/javascript"),
        ("/desk/feeds.js", "text/javascript"),
        ("/desk/desk.css", "text/css"),
        ("/desk/story.js", "text/javascript"),
        ("/desk/vendor/graphiql/graphiql.min.js", "text/javascript"),
    ] {
        let response = server
            .client()
            .get(format!("{}{path}", server.url))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
        let served = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(served.starts_with(content_type), "{path}: {served}");
        let body = response.text().await.unwrap();
        if content_type == "text/html" {
            // Every script and style a page names is one of ours.
            let named = body
                .split(['"', '\''])
                .filter(|s| s.ends_with(".js") || s.ends_with(".css"));
            for reference in named {
                assert!(reference.starts_with("/desk/"), "{path} loads {reference}");
            }
        }
    }
    let missing = server
        .client()
        .get(format!("{}/desk/nope.js", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}

#[sqlx::test]
async fn exports_have_their_content_types_quote_csv_and_hold_the_cut(
    pool: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let server = demo_server(pool, connect).await;
    let get = |path: String| {
        let client = server.client().clone();
        let url = format!("{}{path}", server.url);
        async move { client.get(url).send().await.unwrap() }
    };
    let cut = "?at=2021-07-10T00:00:00Z";
    let csv = get(format!("/stories/{SLUG}/developments.csv{cut}")).await;
    assert_eq!(csv.status(), 200);
    assert!(csv.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let disposition = csv.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        disposition.contains("kabul-airport-2021-at-20210710T000000Z.csv"),
        "{disposition}"
    );
    let text = csv.text().await.unwrap();
    assert!(text.contains("\r\n"), "RFC 4180 line ends");
    // A summary with commas is quoted whole.
    assert!(text.contains(",\"Since early May the Taliban have captured dozens of districts, often without resistance, nearly encircling the major cities.\","), "{text}");
    let answer = data(server.query(
        "query($s: String!) { story(slug: $s) { stateAt(at: \"2021-07-10T00:00:00Z\") { developments { id } } } }",
        json!({"s": SLUG}),
    ).await);
    let rows = text.trim_end().split("\r\n").count() - 1;
    assert_eq!(
        rows,
        answer["story"]["stateAt"]["developments"]
            .as_array()
            .unwrap()
            .len()
    );

    let geo = get(format!("/stories/{SLUG}/developments.geojson")).await;
    assert_eq!(geo.headers()["content-type"], "application/geo+json");
    let geo: serde_json::Value = geo.json().await.unwrap();
    assert_eq!(geo["type"], "FeatureCollection");
    for feature in geo["features"].as_array().unwrap() {
        assert_eq!(feature["type"], "Feature");
        assert_eq!(feature["geometry"]["type"], "Point");
        let at = feature["geometry"]["coordinates"].as_array().unwrap();
        let (longitude, latitude) = (at[0].as_f64().unwrap(), at[1].as_f64().unwrap());
        assert!((-180.0..=180.0).contains(&longitude) && (-90.0..=90.0).contains(&latitude));
    }
    assert_eq!(
        geo["features"].as_array().unwrap().len(),
        1,
        "the demo places one development"
    );

    let timeline = get(format!("/stories/{SLUG}/timeline.json{cut}")).await;
    assert_eq!(timeline.headers()["content-type"], "application/json");
    let timeline: serde_json::Value = timeline.json().await.unwrap();
    assert_eq!(timeline["events"].as_array().unwrap().len(), rows);
    assert_eq!(
        timeline["events"][0]["start_date"],
        json!({"year": "2020", "month": "2"}),
        "MONTH precision"
    );
    assert_eq!(timeline["storyline"]["at"], "2021-07-10T00:00:00+00:00");

    assert_eq!(
        get(format!("/stories/{SLUG}/developments.csv?at=yesterday"))
            .await
            .status(),
        400
    );
    assert_eq!(
        get(format!("/stories/{SLUG}/other.txt")).await.status(),
        404
    );
    assert_eq!(
        get("/stories/no-such-story/developments.csv".into())
            .await
            .status(),
        404
    );
}

#[sqlx::test]
async fn an_internal_story_has_no_exports_without_a_token(
    pool: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let server = demo_server(pool, connect).await;
    let writer = server.token("desk").await;
    let story = data(
        server
            .query("{ story(slug: \"kabul-airport-2021\") { id } }", json!({}))
            .await,
    );
    data(server.post(Some(&writer), "mutation($s: UUID!) { setStoryVisibility(storyId: $s, visibility: INTERNAL) { story { id } } }",
        json!({"s": story["story"]["id"]})).await);
    let url = format!("{}/stories/{SLUG}/developments.csv", server.url);
    assert_eq!(
        server.client().get(&url).send().await.unwrap().status(),
        404
    );
    let with_token = server
        .client()
        .get(&url)
        .bearer_auth(&writer)
        .send()
        .await
        .unwrap();
    assert_eq!(with_token.status(), 200);
    let revoked = server
        .client()
        .get(&url)
        .bearer_auth("sl_never_issued")
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 401);
}

#[sqlx::test]
async fn pages_forbid_inline_script_framing_sniffing_and_referrers(
    pool: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let server = demo_server(pool, connect).await;
    for path in [
        "/",
        "/stories/kabul-airport-2021",
        "/graphiql",
        "/feeds",
        "/desk/desk.js",
    ] {
        let response = server
            .client()
            .get(format!("{}{path}", server.url))
            .send()
            .await
            .unwrap();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned()
        };
        let csp = header("content-security-policy");
        let script_src = csp
            .split(';')
            .find(|d| d.trim().starts_with("script-src"))
            .unwrap_or("");
        assert!(
            !script_src.contains("unsafe-inline") && script_src.contains("'self'"),
            "{path}: {csp}"
        );
        assert!(
            csp.contains("frame-ancestors 'none'") && csp.contains("connect-src 'self'"),
            "{path}: {csp}"
        );
        assert_eq!(header("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(header("referrer-policy"), "no-referrer", "{path}");
        assert_eq!(header("x-frame-options"), "DENY", "{path}");
    }
    let token = server.token("desk").await;
    let query = format!("{}/graphql?query=%7B__typename%7D", server.url);
    let with_token = server
        .client()
        .get(&query)
        .bearer_auth(&token)
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(
        with_token
            .headers()
            .get("cache-control")
            .and_then(|v| v.to_str().ok()),
        Some("no-store")
    );
    let export = server
        .client()
        .get(format!("{}/stories/{SLUG}/developments.csv", server.url))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        export
            .headers()
            .get("cache-control")
            .and_then(|v| v.to_str().ok()),
        Some("no-store")
    );
}

/// Every form of a script URL seen in the wild: schemes in any case, with
/// leading blanks and controls, split by tabs and newlines (which browsers
/// strip), data: and vbscript:, and a protocol-relative URL.
const HOSTILE_URLS: &[&str] = &[
    "javascript:alert(1)",
    "  JaVaScRiPt:alert(document.domain)",
    "\tjavascript:alert(1)",
    "java\nscript:alert(1)",
    "java\tscript:alert(1)",
    "javascript://example.org/%0aalert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "//evil.example/steal",
    "https:javascript:alert(1)",
];

#[sqlx::test]
async fn hostile_urls_stored_by_hand_never_become_links_on_the_desk(
    pool: PgPoolOptions,
    connect: PgConnectOptions,
) {
    use storyline::domain::events::StoryEvent;
    use storyline::domain::model::Source;
    use storyline::store::NewEvent;

    let server = demo_server(pool, connect).await;
    let token = server.token("desk").await;
    // The API refuses each of them...
    for url in HOSTILE_URLS {
        let refused = server
            .post(
                Some(&token),
                "mutation($url: String!) { reportDevelopment(storyId: \"00000000-0000-0000-0000-000000000000\",
                   input: {headline: \"x\", occurredAt: \"2021-07-13T00:00:00Z\",
                           sources: [{name: \"x\", url: $url}]}) { story { version } } }",
                json!({ "url": url }),
            )
            .await;
        assert_eq!(
            common::error_code(&refused),
            "BAD_USER_INPUT",
            "{url:?}: {refused}"
        );
    }
    // ...so they are written past it, as an older version might have.
    let story = data(
        server
            .query(
                &format!("{{ story(slug: \"{SLUG}\") {{ id }} }}"),
                json!({}),
            )
            .await,
    )["story"]["id"]
        .as_str()
        .and_then(|id| id.parse().ok())
        .map(storyline::domain::StoryId)
        .expect("the demo story");
    let mut reported = common::reported("Sources with hostile links");
    reported.sources = HOSTILE_URLS
        .iter()
        .enumerate()
        .map(|(n, url)| Source {
            name: format!("Hostile source {n}"),
            url: Some((*url).to_owned()),
            published_at: None,
            kind: None,
            report_id: None,
            spans: vec![],
        })
        .collect();
    let event = NewEvent::from_event(&StoryEvent::DevelopmentReported(reported), None);
    server
        .store
        .append(story, None, &[event], &common::by_tester())
        .await
        .expect("written past the API");
    let feed = storyline::store::FeedConfig {
        name: "hostile-feed".into(),
        url: "javascript:alert(1)".into(),
        every_seconds: 300,
        publisher: None,
        source_kind: None,
        fetch_articles: false,
        allowed_hosts: vec![],
    };
    server.store.save_feed(&feed).await.unwrap();

    let mut args = vec![server.url.clone(), SLUG.to_owned(), token];
    args.extend((0..HOSTILE_URLS.len()).map(|n| format!("Hostile source {n}")));
    let report = common::run_node("desk-urls.mjs", args).await;
    assert!(report.contains("desk-urls: ok"), "{report}");
}

#[sqlx::test]
async fn an_editor_reviews_a_report_and_adds_its_drafts_in_chromium(
    pool: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let server = demo_server(pool, connect).await;
    let writer = server.token("desk").await;
    let shots = concat!(env!("CARGO_MANIFEST_DIR"), "/target/desk-screenshots");
    let report = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/reports/kabul-airport-2021-07-13.json"
    );
    let args = vec![
        server.url.clone(),
        writer,
        report.to_owned(),
        shots.to_owned(),
    ];
    let output = common::run_node("desk-reports.mjs", args).await;
    assert!(output.contains("desk-reports: ok"), "{output}");
}
