//! Reports over HTTP (DESIGN §11): the Kabul report submitted, read back
//! with its mentions and drafts, its drafts accepted into a story that
//! then cites it; identity and versions; HTML and ninjs bodies; triage;
//! access; the subscription; and every bad input refused with nothing kept.

mod common;

use common::ws::Subscriber;
use common::{data, error_code, spawn_server, TestServer};
use serde_json::{json, Value};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use storyline::store::Scope;

const SUBMIT: &str = "mutation($input: ReportInput!) { submitReport(input: $input) {
    deduplicated readAfter report { id uri version status contentHash title dateline byline publishedAt
      format text previousVersion { id version } } } }";

const READ: &str = "query($id: UUID!) { report(id: $id) {
    id text status dismissedReason
    mentions { kind span { start end text } date precision
      quote { speaker speakerRole text } speakerSpan { start end text }
      figure { metric value qualifier unit place claimedBy low high }
      actor { name kind role } }
    drafts { headline summary occurredAt precision
      location { name country latitude longitude }
      actors { name kind role } quotes { speaker speakerRole text }
      figures { metric value qualifier unit place claimedBy low high }
      sources { name url publishedAt kind reportId spans { start end text } }
      evidence { kind span { start end } } }
    citedBy { story { id } developmentId reportedInVersion } } }";

const OPEN: &str =
    "mutation($input: OpenStoryInput!) { openStory(input: $input) { story { id } } }";

const ADD: &str = "mutation($story: UUID!, $input: DevelopmentInput!) {
    reportDevelopment(storyId: $story, input: $input) { story { version } readAfter } }";

fn kabul() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/reports/kabul-airport-2021-07-13.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("JSON")
}

async fn submit(server: &TestServer, token: &str, input: Value) -> Value {
    server
        .post(Some(token), SUBMIT, json!({ "input": input }))
        .await
}

async fn report_count(server: &TestServer) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM reports")
        .fetch_one(server.store.pool())
        .await
        .expect("count")
}

fn instant(value: &Value) -> Option<chrono::DateTime<chrono::Utc>> {
    value.as_str().and_then(|t| t.parse().ok())
}

/// A span's text must be exactly the code points start..end of the text.
fn slice(text: &str, span: &Value) -> String {
    let start = span["start"].as_u64().expect("start") as usize;
    let end = span["end"].as_u64().expect("end") as usize;
    text.chars().skip(start).take(end - start).collect()
}

/// A draft as reportDevelopment's input: every field as it is, the spans
/// without their text.
fn as_input(draft: &Value) -> Value {
    let mut input = draft.clone();
    let object = input.as_object_mut().expect("object");
    object.remove("evidence");
    for source in object["sources"].as_array_mut().expect("sources") {
        for span in source["spans"].as_array_mut().expect("spans") {
            span.as_object_mut().expect("span").remove("text");
        }
    }
    input
}

#[sqlx::test]
async fn the_kabul_report_is_read_into_resolved_mentions_and_drafts_whose_spans_are_their_slices(
    pool: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let server = spawn_server(common::store_with(pool, connect, 4).await).await;
    let token = server.token("desk").await;
    let fixture = kabul();
    let submitted = data(
        submit(&server, &token, json!({"body": fixture["text"], "publishedAt": fixture["publishedAt"], "publisher": "Wire Desk", "sourceKind": "WIRE"})).await,
    );
    let result = &submitted["submitReport"];
    assert_eq!(result["deduplicated"], false);
    assert!(result["readAfter"]
        .as_str()
        .is_some_and(|lsn| lsn.contains('/')));
    let id = result["report"]["id"].as_str().unwrap().to_owned();
    assert_eq!(result["report"]["status"], "NEW");
    assert_eq!(result["report"]["format"], "TEXT");

    let report = data(server.post(Some(&token), READ, json!({"id": id})).await)["report"].clone();
    let text = report["text"].as_str().unwrap();
    let mentions = report["mentions"].as_array().unwrap();
    for mention in mentions {
        assert_eq!(
            mention["span"]["text"].as_str().unwrap(),
            slice(text, &mention["span"]),
            "{mention}"
        );
        if !mention["speakerSpan"].is_null() {
            assert_eq!(
                mention["speakerSpan"]["text"].as_str().unwrap(),
                slice(text, &mention["speakerSpan"])
            );
        }
    }
    let starts: Vec<u64> = mentions
        .iter()
        .map(|m| m["span"]["start"].as_u64().unwrap())
        .collect();
    assert!(
        starts.windows(2).all(|w| w[0] <= w[1]),
        "mentions in span order"
    );
    let of_kind = |kind: &'static str| mentions.iter().filter(move |m| m["kind"] == kind);
    // "Monday evening" → 12 July 2021, DAY; "last September" → 2020-09, MONTH.
    assert!(of_kind("DATE").any(|m| instant(&m["date"])
        == instant(&json!("2021-07-12T00:00:00Z"))
        && m["precision"] == "DAY"));
    assert!(of_kind("DATE").any(|m| instant(&m["date"])
        == instant(&json!("2020-09-01T00:00:00Z"))
        && m["precision"] == "MONTH"));
    let kirby: Vec<&Value> = of_kind("QUOTE")
        .filter(|m| m["quote"]["speaker"] == "John Kirby")
        .collect();
    assert_eq!(kirby.len(), 2);
    assert_eq!(kirby[0]["quote"]["speakerRole"], "Pentagon Press Secretary");
    assert!(of_kind("FIGURE").any(|m| m["figure"]["metric"] == "killed"
        && m["figure"]["value"] == 4.0
        && m["figure"]["qualifier"] == "AT_LEAST"
        && m["figure"]["unit"] == "people"));

    // Every QUOTE and FIGURE is in exactly one draft.
    let drafts = report["drafts"].as_array().unwrap();
    for mention in of_kind("QUOTE").chain(of_kind("FIGURE")) {
        let holding = drafts
            .iter()
            .filter(|d| {
                d["evidence"].as_array().unwrap().iter().any(|e| {
                    e["span"]
                        == json!({"start": mention["span"]["start"], "end": mention["span"]["end"]})
                })
            })
            .count();
        assert_eq!(holding, 1, "{mention}");
    }
    for draft in drafts {
        let source = &draft["sources"][0];
        assert_eq!(source["reportId"], id.as_str());
        assert_eq!(source["name"], "Wire Desk");
        for span in source["spans"].as_array().unwrap() {
            assert_eq!(span["text"].as_str().unwrap(), slice(text, span));
        }
        assert!(draft["headline"].as_str().unwrap().chars().count() <= 200);
    }
}

#[sqlx::test]
async fn accepted_drafts_cite_the_report_and_make_it_used(
    pool: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let server = spawn_server(common::store_with(pool, connect, 4).await).await;
    let token = server.token("desk").await;
    let fixture = kabul();
    let submitted = data(
        submit(
            &server,
            &token,
            json!({"body": fixture["text"], "publishedAt": fixture["publishedAt"]}),
        )
        .await,
    );
    let id = submitted["submitReport"]["report"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let opened = data(
        server
            .post(
                Some(&token),
                OPEN,
                json!({"input": {"slug": "airport", "title": "The airport"}}),
            )
            .await,
    );
    let story = opened["openStory"]["story"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let report = data(server.post(Some(&token), READ, json!({"id": id})).await)["report"].clone();
    let drafts = report["drafts"].as_array().unwrap();
    assert!(drafts.len() >= 3, "{} drafts", drafts.len());
    // Every draft, sent unchanged, is accepted; three are added here.
    for draft in drafts.iter().take(3) {
        let added = server
            .post(
                Some(&token),
                ADD,
                json!({"story": story, "input": as_input(draft)}),
            )
            .await;
        data(added);
    }
    let read = data(server.post(Some(&token), READ, json!({"id": id})).await)["report"].clone();
    assert_eq!(read["status"], "USED");
    let cited = read["citedBy"].as_array().unwrap();
    assert_eq!(cited.len(), 3);
    assert!(cited.iter().all(|c| c["story"]["id"] == story.as_str()));

    let sources = "query($s: UUID!) { story(id: $s) { snapshot { developments { sources { reportId report { id } spans { text } } } } } }";
    let with_token = data(
        server
            .post(Some(&token), sources, json!({"s": story}))
            .await,
    );
    let first = &with_token["story"]["snapshot"]["developments"][0]["sources"][0];
    assert_eq!(first["report"]["id"], id.as_str());
    assert!(!first["spans"].as_array().unwrap().is_empty());
    let anonymous = data(server.query(sources, json!({"s": story})).await);
    let first = &anonymous["story"]["snapshot"]["developments"][0]["sources"][0];
    assert_eq!(first["reportId"], id.as_str());
    assert!(first["report"].is_null(), "no report without a token");
    assert_eq!(first["spans"], json!([]));

    // USED wins over DISMISSED.
    let dismiss =
        "mutation($r: UUID!) { dismissReport(reportId: $r, reason: \"covered\") { status } }";
    let dismissed = data(server.post(Some(&token), dismiss, json!({"r": id})).await);
    assert_eq!(dismissed["dismissReport"]["status"], "USED");
}

#[sqlx::test]
async fn identity_is_uri_and_version_or_the_texts_hash(
    pool: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let server = spawn_server(common::store_with(pool, connect, 4).await).await;
    let token = server.token("desk").await;
    let first = data(
        submit(
            &server,
            &token,
            json!({"body": "The levee held overnight.", "uri": "urn:wire:1"}),
        )
        .await,
    );
    let again = data(
        submit(
            &server,
            &token,
            json!({"body": "The levee held overnight.", "uri": "urn:wire:1"}),
        )
        .await,
    );
    assert_eq!(again["submitReport"]["deduplicated"], true);
    assert_eq!(
        again["submitReport"]["report"]["id"],
        first["submitReport"]["report"]["id"]
    );
    let clash = submit(
        &server,
        &token,
        json!({"body": "Other words entirely.", "uri": "urn:wire:1"}),
    )
    .await;
    assert_eq!(error_code(&clash), "BAD_USER_INPUT");
    let newer = data(
        submit(
            &server,
            &token,
            json!({"body": "The levee broke at dawn.", "uri": "urn:wire:1", "version": 2}),
        )
        .await,
    );
    assert_eq!(
        newer["submitReport"]["report"]["previousVersion"]["id"],
        first["submitReport"]["report"]["id"]
    );

    let plain = data(submit(&server, &token, json!({"body": "  A ferry  sank.\n\n\n"})).await);
    let same_text = data(submit(&server, &token, json!({"body": "A ferry sank."})).await);
    assert_eq!(same_text["submitReport"]["deduplicated"], true);
    assert_eq!(
        same_text["submitReport"]["report"]["id"],
        plain["submitReport"]["report"]["id"]
    );
    assert_eq!(report_count(&server).await, 3);
}

#[sqlx::test]
async fn html_and_ninjs_bodies_fill_their_fields(pool: PgPoolOptions, connect: PgConnectOptions) {
    let server = spawn_server(common::store_with(pool, connect, 4).await).await;
    let token = server.token("desk").await;
    let paragraph = "Crews reopened the mountain road on Tuesday after a landslide had cut off three villages, the regional governor said in a statement. ";
    let page = format!(
        "<html><head><title>Road reopens</title></head><body><nav>Home | World</nav><article><h1>Road reopens</h1><p>{}</p><p>{}</p></article><footer>All rights reserved</footer></body></html>",
        paragraph.repeat(3),
        paragraph.repeat(2)
    );
    let html = data(submit(&server, &token, json!({"body": page, "format": "HTML"})).await);
    let report = &html["submitReport"]["report"];
    assert_eq!(report["format"], "HTML");
    assert_eq!(report["title"], "Road reopens");
    assert!(report["text"]
        .as_str()
        .unwrap()
        .starts_with("Crews reopened"));
    assert!(!report["text"].as_str().unwrap().contains("rights reserved"));

    let ninjs1 = json!({"uri": "urn:ninjs:1", "version": "2", "headline": "Dam holds", "body_text": "The dam held overnight.\n\nEngineers stayed.",
        "byline": "A. Writer", "located": "LIMA", "versioncreated": "2024-03-07T10:00:00Z", "language": "en"});
    let one = data(
        submit(
            &server,
            &token,
            json!({"body": ninjs1.to_string(), "format": "NINJS"}),
        )
        .await,
    );
    let report = &one["submitReport"]["report"];
    assert_eq!(
        (report["uri"].as_str(), report["version"].as_i64()),
        (Some("urn:ninjs:1"), Some(2))
    );
    assert_eq!(report["title"], "Dam holds");
    assert_eq!(report["dateline"], "LIMA");
    assert_eq!(report["byline"], "A. Writer");
    assert_eq!(
        instant(&report["publishedAt"]),
        instant(&json!("2024-03-07T10:00:00Z"))
    );
    assert_eq!(
        report["text"],
        "The dam held overnight.\n\nEngineers stayed."
    );

    let ninjs2 = json!({"uri": "urn:ninjs:2", "headlines": [{"value": "Port reopens"}],
        "bodies": [{"contenttype": "text/html", "value": "<p>The port reopened.</p><p>Ships queued.</p>"}],
        "by": "B. Writer", "firstcreated": "2024-03-06T08:00:00Z"});
    let two = data(
        submit(
            &server,
            &token,
            json!({"body": ninjs2.to_string(), "format": "NINJS", "title": "Given title wins"}),
        )
        .await,
    );
    let report = &two["submitReport"]["report"];
    assert_eq!(report["title"], "Given title wins");
    assert_eq!(report["text"], "The port reopened.\n\nShips queued.");
    assert_eq!(report["version"], 1);
}

#[sqlx::test]
async fn reports_need_a_live_token_and_writing_them_a_write_token(
    pool: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let server = spawn_server(common::store_with(pool, connect, 4).await).await;
    let writer = server.token("desk").await;
    let reader = server.store_token("partner", Scope::Read).await;
    let kept = data(
        submit(
            &server,
            &writer,
            json!({"body": "The bridge reopened on Monday."}),
        )
        .await,
    );
    let id = kept["submitReport"]["report"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    for (query, variables) in [
        (
            "query($id: UUID!) { report(id: $id) { id } }",
            json!({"id": id}),
        ),
        ("{ reports { totalCount } }", json!({})),
        ("{ feeds { name } }", json!({})),
        (
            "mutation { submitReport(input: {body: \"A fire.\"}) { deduplicated } }",
            json!({}),
        ),
    ] {
        assert_eq!(
            error_code(&server.query(query, variables).await),
            "UNAUTHENTICATED",
            "{query}"
        );
    }
    let read = data(server.post(Some(&reader), "query($id: UUID!) { report(id: $id) { id } reports { totalCount } feeds { name } }", json!({"id": id})).await);
    assert_eq!(read["report"]["id"], id.as_str());
    assert_eq!(read["reports"]["totalCount"], 1);
    let refused = submit(&server, &reader, json!({"body": "A fire broke out."})).await;
    assert_eq!(error_code(&refused), "FORBIDDEN");
    let dismiss = "mutation($r: UUID!) { dismissReport(reportId: $r, reason: \"dup\") { id } }";
    assert_eq!(
        error_code(&server.post(Some(&reader), dismiss, json!({"r": id})).await),
        "FORBIDDEN"
    );
    assert_eq!(report_count(&server).await, 1);

    let mut anonymous = Subscriber::connect(&server.url, json!({})).await;
    anonymous
        .subscribe("r", "subscription { reports { id } }", json!({}))
        .await;
    let answer = anonymous.message().await.unwrap_or_default();
    assert_eq!(
        answer["payload"]["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
        "{answer}"
    );
}

#[sqlx::test]
async fn the_inbox_filters_pages_and_counts_and_dismissals_are_kept(
    pool: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let server = spawn_server(common::store_with(pool, connect, 4).await).await;
    let token = server.token("desk").await;
    let mut ids = Vec::new();
    for (body, publisher) in [
        ("Floods closed the harbour road.", "Coast Wire"),
        ("The harbour reopened to ships.", "Coast Wire"),
        ("A new mayor was sworn in.", "City Paper"),
    ] {
        let kept = data(
            submit(
                &server,
                &token,
                json!({"body": body, "publisher": publisher}),
            )
            .await,
        );
        ids.push(
            kept["submitReport"]["report"]["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let list = "query($first: Int, $after: String, $status: ReportStatus, $publisher: String, $search: String) {
        reports(first: $first, after: $after, status: $status, publisher: $publisher, search: $search) {
          totalCount nodes { id } pageInfo { hasNextPage endCursor } } }";
    let page = data(server.post(Some(&token), list, json!({"first": 2})).await)["reports"].clone();
    assert_eq!(page["totalCount"], 3);
    assert_eq!(page["nodes"][0]["id"], ids[2].as_str(), "newest first");
    assert_eq!(page["pageInfo"]["hasNextPage"], true);
    let rest = data(
        server
            .post(
                Some(&token),
                list,
                json!({"first": 2, "after": page["pageInfo"]["endCursor"]}),
            )
            .await,
    )["reports"]
        .clone();
    assert_eq!(rest["nodes"].as_array().unwrap().len(), 1);
    assert_eq!(rest["nodes"][0]["id"], ids[0].as_str());

    let coast = data(
        server
            .post(Some(&token), list, json!({"publisher": "coast wire"}))
            .await,
    )["reports"]
        .clone();
    assert_eq!(coast["totalCount"], 2);
    let harbour = data(
        server
            .post(Some(&token), list, json!({"search": "harbour"}))
            .await,
    )["reports"]
        .clone();
    assert_eq!(harbour["totalCount"], 2);

    let dismiss = "mutation($r: UUID!, $why: String!) { dismissReport(reportId: $r, reason: $why) { status dismissedReason } }";
    data(
        server
            .post(
                Some(&token),
                dismiss,
                json!({"r": ids[2], "why": "not our beat"}),
            )
            .await,
    );
    let again = data(
        server
            .post(
                Some(&token),
                dismiss,
                json!({"r": ids[2], "why": "duplicate"}),
            )
            .await,
    );
    assert_eq!(
        again["dismissReport"],
        json!({"status": "DISMISSED", "dismissedReason": "duplicate"})
    );
    let dismissed = data(
        server
            .post(Some(&token), list, json!({"status": "DISMISSED"}))
            .await,
    )["reports"]
        .clone();
    assert_eq!(dismissed["nodes"], json!([{"id": ids[2]}]));
    let unknown = server
        .post(
            Some(&token),
            dismiss,
            json!({"r": "0192f0c4-0000-7000-8000-0000000000c1", "why": "x"}),
        )
        .await;
    assert_eq!(error_code(&unknown), "NOT_FOUND");
    let kept: i64 = sqlx::query_scalar("SELECT count(*) FROM report_dismissals")
        .fetch_one(server.store.pool())
        .await
        .unwrap();
    assert_eq!(kept, 2, "both dismissals are kept");
}

#[sqlx::test]
async fn a_subscriber_receives_each_report_as_it_is_kept(
    pool: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let server = spawn_server(common::store_with(pool, connect, 4).await).await;
    let token = server.token("desk").await;
    let mut subscriber = Subscriber::connect(&server.url, json!({"token": token})).await;
    subscriber
        .subscribe("r", "subscription { reports { id title } }", json!({}))
        .await;
    // The subscription listens once the server has the subscribe message.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let kept = data(
        submit(
            &server,
            &token,
            json!({"body": "The tunnel reopened.", "title": "Tunnel"}),
        )
        .await,
    );
    let message = subscriber.message().await.expect("a report");
    assert_eq!(
        message["payload"]["data"]["reports"]["id"],
        kept["submitReport"]["report"]["id"]
    );
    assert_eq!(message["payload"]["data"]["reports"]["title"], "Tunnel");
}

#[sqlx::test]
async fn bad_report_input_is_refused_and_keeps_nothing(
    pool: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let server = spawn_server(common::store_with(pool, connect, 4).await).await;
    let token = server.token("desk").await;
    let kept = data(
        submit(
            &server,
            &token,
            json!({"body": "The mine flooded.", "uri": "urn:x"}),
        )
        .await,
    );
    let id = kept["submitReport"]["report"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for input in [
        json!({"body": "{not json", "format": "NINJS"}),
        json!({"body": "[1, 2]", "format": "NINJS"}),
        json!({"body": "   \n\n  "}),
        json!({"body": "<html><body><script>x()</script></body></html>", "format": "HTML"}),
        json!({"body": "Other text.", "uri": "urn:x"}),
        json!({"body": "Zero\u{0}byte"}),
        json!({"body": "Fine.", "title": "nul\u{0}"}),
        json!({"body": "Fine.", "url": "javascript:alert(1)"}),
        json!({"body": "Fine.", "version": 0}),
    ] {
        let refused = submit(&server, &token, input.clone()).await;
        assert_eq!(error_code(&refused), "BAD_USER_INPUT", "{input}: {refused}");
    }
    assert_eq!(report_count(&server).await, 1);

    let opened = data(
        server
            .post(
                Some(&token),
                OPEN,
                json!({"input": {"slug": "mine", "title": "The mine"}}),
            )
            .await,
    );
    let story = opened["openStory"]["story"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let development = |sources: Value| json!({"story": story, "input": {"headline": "Flood", "occurredAt": "2024-03-07T00:00:00Z", "sources": sources}});
    for sources in [
        json!([{"name": "Wire", "reportId": "0192f0c4-0000-7000-8000-0000000000c1"}]),
        json!([{"name": "Wire", "reportId": id, "spans": [{"start": 0, "end": 999}]}]),
        json!([{"name": "Wire", "reportId": id, "spans": [{"start": 5, "end": 2}]}]),
        json!([{"name": "Wire", "reportId": id, "spans": [{"start": -1, "end": 2}]}]),
        json!([{"name": "Wire", "spans": [{"start": 0, "end": 2}]}]),
    ] {
        let refused = server
            .post(Some(&token), ADD, development(sources.clone()))
            .await;
        assert_eq!(
            error_code(&refused),
            "BAD_USER_INPUT",
            "{sources}: {refused}"
        );
    }
    let version = "query($s: UUID!) { story(id: $s) { version } }";
    assert_eq!(
        data(
            server
                .post(Some(&token), version, json!({"s": story}))
                .await
        )["story"]["version"],
        1
    );
    let fine = server
        .post(
            Some(&token),
            ADD,
            development(
                json!([{"name": "Wire", "reportId": id, "spans": [{"start": 0, "end": 8}]}]),
            ),
        )
        .await;
    data(fine);
}

#[sqlx::test]
async fn reports_and_dismissals_round_trip_exactly_through_export_and_import(
    pool: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let admin = pool.connect_with(connect.clone()).await.unwrap();
    let store = storyline::store::Store::from_pool(admin.clone());
    let server = spawn_server(store.clone()).await;
    let token = server.token("desk").await;
    let fixture = kabul();
    let kept = data(submit(&server, &token, json!({"body": fixture["text"], "publishedAt": fixture["publishedAt"], "uri": "urn:wire:kabul", "publisher": "Wire"})).await);
    let id = kept["submitReport"]["report"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    data(submit(&server, &token, json!({"body": "<p>A short page.</p>", "format": "HTML", "url": "https://example.org/a"})).await);
    let dismiss =
        "mutation($r: UUID!) { dismissReport(reportId: $r, reason: \"background\") { id } }";
    data(server.post(Some(&token), dismiss, json!({"r": id})).await);
    let mut exported = Vec::new();
    storyline::exchange::export(&store, None, &mut exported)
        .await
        .unwrap();

    let fresh_name = format!("storyline_fresh_{}", uuid::Uuid::now_v7().simple());
    let fresh = storyline::store::Store::connect(&storyline::store::ConnectOptions {
        database_url: common::database_url(&connect, &fresh_name),
        max_connections: 2,
        ..storyline::store::ConnectOptions::default()
    })
    .await
    .unwrap();
    let imported = storyline::exchange::import(&fresh, exported.as_slice())
        .await
        .unwrap();
    assert_eq!((imported.reports, imported.dismissals), (2, 1));
    let again = storyline::exchange::import(&fresh, exported.as_slice())
        .await
        .unwrap();
    assert_eq!(again.reports, 0, "importing twice keeps nothing twice");
    let mut exported_again = Vec::new();
    storyline::exchange::export(&fresh, None, &mut exported_again)
        .await
        .unwrap();
    let report = fresh
        .report(uuid::Uuid::parse_str(&id).unwrap())
        .await
        .unwrap()
        .expect("kept");
    let dismissals: i64 = sqlx::query_scalar("SELECT count(*) FROM report_dismissals")
        .fetch_one(fresh.pool())
        .await
        .unwrap();
    fresh.close().await;
    sqlx::query(&format!("DROP DATABASE {fresh_name} WITH (FORCE)"))
        .execute(&admin)
        .await
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&exported_again),
        String::from_utf8_lossy(&exported),
        "the round trip is exact"
    );
    assert_eq!(report.status, storyline::store::ReportStatus::Dismissed);
    assert_eq!(dismissals, 1);
}

#[sqlx::test]
async fn the_cli_submits_files_and_verify_checks_every_hash(
    pool: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let admin = pool.connect_with(connect.clone()).await.unwrap();
    let url = common::test_database_url(&connect);
    let dir = std::env::temp_dir().join(format!(
        "storyline-reports-{}",
        uuid::Uuid::now_v7().simple()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let text = dir.join("flood.txt");
    std::fs::write(
        &text,
        "The river burst its banks on Monday, and at least 12 people were killed, police said.",
    )
    .unwrap();
    let ninjs = dir.join("dam.json");
    std::fs::write(
        &ninjs,
        json!({"uri": "urn:cli:1", "headline": "Dam", "body_text": "The dam held overnight."})
            .to_string(),
    )
    .unwrap();
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_storyline"))
            .args(args)
            .env("DATABASE_URL", &url)
            .output()
            .expect("the binary runs")
    };
    let first = run(&[
        "report",
        "submit",
        text.to_str().unwrap(),
        ninjs.to_str().unwrap(),
        "--publisher",
        "City Wire",
        "--kind",
        "wire",
        "--published-at",
        "2024-03-06T09:00:00Z",
    ]);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let out = String::from_utf8_lossy(&first.stdout).into_owned();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(
        lines[0].contains("\tnew\t") && lines[0].ends_with("flood.txt"),
        "{out}"
    );
    let second = run(&[
        "report",
        "submit",
        text.to_str().unwrap(),
        "--publisher",
        "City Wire",
        "--kind",
        "wire",
        "--published-at",
        "2024-03-06T09:00:00Z",
    ]);
    assert!(String::from_utf8_lossy(&second.stdout).contains("\tdeduplicated\t"));
    let row: (String, Option<String>, Option<String>) = sqlx::query_as(
        "SELECT format, publisher, source_kind FROM reports WHERE uri = 'urn:cli:1'",
    )
    .fetch_one(&admin)
    .await
    .unwrap();
    assert_eq!(
        row,
        (
            "NINJS".into(),
            Some("City Wire".into()),
            Some("WIRE".into())
        )
    );
    let bad = dir.join("bad.json");
    std::fs::write(&bad, "{not ninjs").unwrap();
    let refused = run(&["report", "submit", bad.to_str().unwrap()]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("bad.json"));

    let verified = run(&["verify"]);
    assert!(
        verified.status.success(),
        "{}",
        String::from_utf8_lossy(&verified.stdout)
    );
    // A hash that is not the text's is found. The table refuses changes, so
    // the check is shown a tampered copy through a trigger-free session.
    sqlx::query("ALTER TABLE reports DISABLE TRIGGER reports_no_update_delete")
        .execute(&admin)
        .await
        .unwrap();
    sqlx::query("UPDATE reports SET text = text || ' Tampered.' WHERE uri = 'urn:cli:1'")
        .execute(&admin)
        .await
        .unwrap();
    sqlx::query("ALTER TABLE reports ENABLE ALWAYS TRIGGER reports_no_update_delete")
        .execute(&admin)
        .await
        .unwrap();
    let caught = run(&["verify"]);
    assert!(!caught.status.success());
    assert!(String::from_utf8_lossy(&caught.stdout).contains("contentHash"));
    std::fs::remove_dir_all(&dir).ok();
}

#[sqlx::test]
async fn reports_refuse_update_delete_and_truncate(pool: PgPoolOptions, connect: PgConnectOptions) {
    let server = spawn_server(common::store_with(pool, connect, 2).await).await;
    let token = server.token("desk").await;
    let kept = data(submit(&server, &token, json!({"body": "The ferry sank."})).await);
    let id = kept["submitReport"]["report"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    data(
        server
            .post(
                Some(&token),
                "mutation($r: UUID!) { dismissReport(reportId: $r, reason: \"old\") { id } }",
                json!({"r": id}),
            )
            .await,
    );
    for statement in [
        "UPDATE reports SET title = 'x'",
        "DELETE FROM reports",
        "TRUNCATE reports CASCADE",
        "UPDATE report_dismissals SET reason = 'x'",
        "DELETE FROM report_dismissals",
        "TRUNCATE report_dismissals",
    ] {
        let refused = sqlx::query(statement).execute(server.store.pool()).await;
        assert!(refused.is_err(), "{statement} was allowed");
    }
    assert_eq!(report_count(&server).await, 1);
}

#[sqlx::test]
async fn rebuild_reads_again_the_reports_of_another_extractor_version(
    pool: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let server = spawn_server(common::store_with(pool, connect, 2).await).await;
    let token = server.token("desk").await;
    data(
        submit(
            &server,
            &token,
            json!({"body": "At least 12 people were killed on Monday, police said."}),
        )
        .await,
    );
    sqlx::query(
        "UPDATE report_extractions SET extractor_version = 0, mentions = '[]', drafts = '[]'",
    )
    .execute(server.store.pool())
    .await
    .unwrap();
    let rebuilt = storyline::projection::rebuild(&server.store, |_| {})
        .await
        .unwrap();
    assert_eq!(rebuilt.reports, 1);
    let (version, mentions): (i32, Value) =
        sqlx::query_as("SELECT extractor_version, mentions FROM report_extractions")
            .fetch_one(server.store.pool())
            .await
            .unwrap();
    assert_eq!(version, storyline::domain::extract::EXTRACTOR_VERSION);
    assert!(mentions.as_array().is_some_and(|m| !m.is_empty()));
    let again = storyline::projection::rebuild(&server.store, |_| {})
        .await
        .unwrap();
    assert_eq!(again.reports, 0, "a current reading is kept");
}
