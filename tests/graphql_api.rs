//! The contract through GraphQL only: the real server on a random port,
//! real HTTP, a real database per test.

mod common;

use common::{data, error_code, spawn_server, store_with, TestServer};
use serde_json::{json, Value};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

const OPEN: &str = "mutation($input: OpenStoryInput!) {
    openStory(input: $input) { deduplicated story { id version } events { id version type } }
}";

const REPORT: &str = "mutation($story: UUID!, $expected: Int, $eventId: UUID, $input: DevelopmentInput!) {
    reportDevelopment(storyId: $story, expectedVersion: $expected, eventId: $eventId, input: $input) {
        deduplicated story { version } events { id version type occurredAt recordedAt payload metadata }
    }
}";

const STATE_FIELDS: &str = "storyId title status version at knownAt
    developments { id headline occurredAt reportedInVersion correctedInVersions actors { name kind } }
    retracted { id headline reason retractedInVersion }
    actors { name kind mentions firstSeenAt lastSeenAt stances { target position } }
    figures { metric value qualifier place developmentId }
    quotes { speaker text developmentId }";

async fn open_story(server: &TestServer, token: &str, slug: &str) -> String {
    let response = server
        .post(
            Some(token),
            OPEN,
            json!({"input": {"slug": slug, "title": format!("Story {slug}"), "summary": "A test story"}}),
        )
        .await;
    data(response)["openStory"]["story"]["id"]
        .as_str()
        .expect("story id")
        .to_owned()
}

async fn report(server: &TestServer, token: &str, story: &str, input: Value) -> Value {
    let response = server
        .post(Some(token), REPORT, json!({"story": story, "input": input}))
        .await;
    data(response)["reportDevelopment"].clone()
}

fn headlines(developments: &Value) -> Vec<String> {
    developments
        .as_array()
        .expect("a list")
        .iter()
        .map(|d| d["headline"].as_str().unwrap_or_default().to_owned())
        .collect()
}

async fn server_on(pool: PgPoolOptions, connect: PgConnectOptions) -> TestServer {
    spawn_server(store_with(pool, connect, 20).await).await
}

#[sqlx::test]
async fn a_story_lives_through_report_correct_retract_and_status_over_graphql(
    pool: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let server = server_on(pool, connect).await;
    let token = server.token("desk").await;
    let story = open_story(&server, &token, "ferry-strike").await;

    // Reported out of chronological order.
    let walkout = report(
        &server,
        &token,
        &story,
        json!({
            "headline": "Crews walk out", "occurredAt": "2024-03-05T06:00:00Z",
            "actors": [{"name": "Seafarers Union", "kind": "ORGANIZATION"}],
            "figures": [{"metric": "sailings cancelled", "value": 40, "qualifier": "AT_LEAST"}],
            "stances": [{"actor": "Seafarers Union", "target": "Ferry Co", "position": "DEMANDS"}]
        }),
    )
    .await;
    let ballot = report(&server, &token, &story, json!({
        "headline": "Union ballots members", "occurredAt": "2024-02-20T00:00:00Z", "precision": "DAY",
        "actors": [{"name": " seafarers union ", "kind": "ORGANIZATION"}, {"name": "Ferry Co", "kind": "ORGANIZATION"}],
        "quotes": [{"speaker": "Union chair", "text": "We have no choice."}]
    })).await;
    let rumour = report(
        &server,
        &token,
        &story,
        json!({
            "headline": "Talks said to resume", "occurredAt": "2024-03-06T00:00:00Z",
            "figures": [{"metric": "sailings cancelled", "value": 12}]
        }),
    )
    .await;
    assert_eq!(walkout["events"][0]["metadata"]["principal"], "desk");
    assert_eq!(
        walkout["events"][0]["occurredAt"],
        "2024-03-05T06:00:00+00:00"
    );
    let walkout_id = walkout["events"][0]["payload"]["developmentId"]
        .as_str()
        .unwrap()
        .to_owned();
    let rumour_id = rumour["events"][0]["payload"]["developmentId"]
        .as_str()
        .unwrap()
        .to_owned();
    let known_before_corrections = rumour["events"][0]["recordedAt"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(ballot["story"]["version"], 3);

    // The walkout is corrected to the day before; the rumour retracted.
    let corrected = server.post(Some(&token),
        "mutation($s: UUID!, $d: UUID!) { correctDevelopment(storyId: $s, expectedVersion: 4, developmentId: $d,
            changes: {occurredAt: \"2024-03-04T06:00:00Z\", headline: \"Crews walk out early\"}, reason: \"date was wrong\")
            { story { version } events { occurredAt } } }",
        json!({"s": story, "d": walkout_id})).await;
    let corrected = data(corrected);
    assert_eq!(corrected["correctDevelopment"]["story"]["version"], 5);
    assert_eq!(
        corrected["correctDevelopment"]["events"][0]["occurredAt"],
        "2024-03-04T06:00:00+00:00"
    );
    let retracted = server.post(Some(&token),
        "mutation($s: UUID!, $d: UUID!) { retractDevelopment(storyId: $s, developmentId: $d, reason: \"unconfirmed\")
            { story { version } } }",
        json!({"s": story, "d": rumour_id})).await;
    assert_eq!(data(retracted)["retractDevelopment"]["story"]["version"], 6);
    let status = server.post(Some(&token),
        "mutation($s: UUID!) { setStoryStatus(storyId: $s, status: ONGOING, reason: \"strike continues\") { story { version } } }",
        json!({"s": story})).await;
    assert_eq!(data(status)["setStoryStatus"]["story"]["version"], 7);

    let query = format!("query($s: UUID!, $known: DateTime) {{ story(id: $s) {{
        slug version
        snapshot {{ {STATE_FIELDS} }}
        march4: stateAt(at: \"2024-03-04T23:59:59Z\") {{ {STATE_FIELDS} }}
        before: stateAt(knownAt: $known) {{ {STATE_FIELDS} }}
        changes(from: \"2024-02-21T00:00:00Z\", to: \"2024-03-31T00:00:00Z\") {{
            from to added {{ headline }} figuresChanged {{ metric value }} stancesChanged {{ actor target position }} }}
    }} }}");
    let story_data = data(
        server
            .query(
                &query,
                json!({"s": story, "known": known_before_corrections}),
            )
            .await,
    );
    let s = &story_data["story"];
    assert_eq!(s["slug"], "ferry-strike");
    assert_eq!(s["version"], 7);

    let snapshot = &s["snapshot"];
    assert_eq!(snapshot["status"], "ONGOING");
    assert_eq!(snapshot["version"], 7);
    assert_eq!(
        headlines(&snapshot["developments"]),
        ["Union ballots members", "Crews walk out early"]
    );
    assert_eq!(
        snapshot["developments"][1]["correctedInVersions"],
        json!([5])
    );
    assert_eq!(snapshot["retracted"][0]["reason"], "unconfirmed");
    assert_eq!(snapshot["retracted"][0]["retractedInVersion"], 6);
    // Actors keyed case-insensitively, shown as first written, most mentioned first.
    assert_eq!(snapshot["actors"][0]["name"], "Seafarers Union");
    assert_eq!(snapshot["actors"][0]["mentions"], 2);
    assert_eq!(snapshot["actors"][0]["stances"][0]["position"], "DEMANDS");
    // The retracted rumour's figure is gone; the walkout's stands.
    assert_eq!(
        snapshot["figures"],
        json!([{"metric": "sailings cancelled", "value": 40.0,
        "qualifier": "AT_LEAST", "place": null, "developmentId": walkout_id}])
    );
    assert_eq!(snapshot["quotes"][0]["speaker"], "Union chair");

    // World time: the corrected walkout (4 March) is in by the end of 4 March.
    assert_eq!(
        headlines(&s["march4"]["developments"]),
        ["Union ballots members", "Crews walk out early"]
    );
    assert_eq!(s["march4"]["at"], "2024-03-04T23:59:59+00:00");
    // Transaction time: before the correction and retraction were recorded.
    let before = &s["before"];
    assert_eq!(before["version"], 4);
    assert_eq!(
        headlines(&before["developments"]),
        [
            "Union ballots members",
            "Crews walk out",
            "Talks said to resume"
        ]
    );
    assert_eq!(before["figures"][0]["value"], 12.0);
    assert_eq!(before["status"], "DEVELOPING");

    let changes = &s["changes"];
    assert_eq!(headlines(&changes["added"]), ["Crews walk out early"]);
    assert_eq!(changes["figuresChanged"][0]["value"], 40.0);
    assert_eq!(changes["stancesChanged"][0]["target"], "Ferry Co");
}

#[sqlx::test]
async fn history_pages_forward_and_backward_and_filters_by_type_and_time(
    pool: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let server = server_on(pool, connect).await;
    let token = server.token("desk").await;
    let story = open_story(&server, &token, "pages").await;
    for day in 1..=9 {
        report(
            &server,
            &token,
            &story,
            json!({
                "headline": format!("Day {day}"), "occurredAt": format!("2024-01-0{day}T12:00:00Z")
            }),
        )
        .await;
    }
    let history = "query($s: UUID!, $first: Int, $after: String, $last: Int, $before: String,
                         $types: [String!], $from: DateTime, $to: DateTime) {
        story(id: $s) { history(first: $first, after: $after, last: $last, before: $before,
                                types: $types, occurredFrom: $from, occurredTo: $to) {
            totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
            edges { cursor node { version type occurredAt } } nodes { version } } } }";
    let versions = |page: &Value| -> Vec<i64> {
        page["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["version"].as_i64().unwrap())
            .collect()
    };

    // Forward through all ten events, four at a time.
    let mut after: Option<String> = None;
    let mut seen = Vec::new();
    loop {
        let page = data(
            server
                .query(history, json!({"s": story, "first": 4, "after": after}))
                .await,
        );
        let page = &page["story"]["history"];
        assert_eq!(page["totalCount"], 10);
        seen.extend(versions(page));
        assert_eq!(page["pageInfo"]["hasPreviousPage"], after.is_some());
        if page["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = page["pageInfo"]["endCursor"].as_str().map(str::to_owned);
    }
    assert_eq!(seen, (1..=10).collect::<Vec<_>>());

    // Backward: the last three, then the three before them.
    let last = data(server.query(history, json!({"s": story, "last": 3})).await);
    let last = &last["story"]["history"];
    assert_eq!(versions(last), [8, 9, 10]);
    assert_eq!(last["pageInfo"]["hasPreviousPage"], true);
    let start = last["pageInfo"]["startCursor"].as_str().unwrap();
    let earlier = data(
        server
            .query(history, json!({"s": story, "last": 3, "before": start}))
            .await,
    );
    assert_eq!(versions(&earlier["story"]["history"]), [5, 6, 7]);

    // Filters: type, and occurredAt inclusive at both ends.
    let opened = data(
        server
            .query(history, json!({"s": story, "types": ["StoryOpened"]}))
            .await,
    );
    assert_eq!(opened["story"]["history"]["totalCount"], 1);
    let window = data(
        server
            .query(
                history,
                json!({"s": story,
        "from": "2024-01-03T12:00:00Z", "to": "2024-01-05T12:00:00Z"}),
            )
            .await,
    );
    assert_eq!(versions(&window["story"]["history"]), [4, 5, 6]);
    assert_eq!(window["story"]["history"]["totalCount"], 3);

    // Bad paging arguments are bad input.
    let negative = server
        .query(history, json!({"s": story, "first": -1}))
        .await;
    assert_eq!(error_code(&negative), "BAD_USER_INPUT");
    let garbage = server
        .query(history, json!({"s": story, "after": "bm9wZQ"}))
        .await;
    assert_eq!(error_code(&garbage), "BAD_USER_INPUT");
    let unknown_type = server
        .query(history, json!({"s": story, "types": ["StoryDeleted"]}))
        .await;
    assert_eq!(error_code(&unknown_type), "BAD_USER_INPUT");
}

#[sqlx::test]
async fn global_events_page_in_position_order_with_story_and_type_filters(
    pool: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let server = server_on(pool, connect).await;
    let token = server.token("desk").await;
    let a = open_story(&server, &token, "story-a").await;
    let b = open_story(&server, &token, "story-b").await;
    for i in 0..4 {
        for story in [&a, &b] {
            report(
                &server,
                &token,
                story,
                json!({"headline": format!("n{i}"), "occurredAt": "2024-01-01T00:00:00Z"}),
            )
            .await;
        }
    }
    server
        .store
        .wait_until_settled(std::time::Duration::from_secs(10))
        .await
        .unwrap();
    let events = "query($first: Int, $after: String, $story: UUID, $types: [String!]) {
        events(first: $first, after: $after, storyId: $story, types: $types) {
            totalCount pageInfo { hasNextPage endCursor } nodes { position storyId type } } }";
    let mut after: Option<String> = None;
    let mut positions: Vec<i64> = Vec::new();
    loop {
        let page = data(
            server
                .query(events, json!({"first": 3, "after": after}))
                .await,
        );
        let page = &page["events"];
        assert_eq!(page["totalCount"], 10);
        for node in page["nodes"].as_array().unwrap() {
            positions.push(node["position"].as_str().unwrap().parse().unwrap());
        }
        if page["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = page["pageInfo"]["endCursor"].as_str().map(str::to_owned);
    }
    assert_eq!(positions.len(), 10);
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");

    let only_b = data(
        server
            .query(
                events,
                json!({"story": b, "types": ["DevelopmentReported"]}),
            )
            .await,
    );
    assert_eq!(only_b["events"]["totalCount"], 4);
    assert!(only_b["events"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .all(|n| n["storyId"] == json!(b)));
}

#[sqlx::test]
async fn stories_are_listed_by_update_and_found_by_words_actor_and_status(
    pool: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let server = server_on(pool, connect).await;
    let token = server.token("desk").await;
    storyline::exchange::load_demo(&server.store).await.unwrap();
    let ferry = open_story(&server, &token, "ferry-strike").await;
    report(&server, &token, &ferry, json!({"headline": "Crews walk out at Dover harbour",
        "occurredAt": "2024-03-05T06:00:00Z", "actors": [{"name": "Seafarers Union", "kind": "ORGANIZATION"}]})).await;
    let retracted = open_story(&server, &token, "retracted-words").await;
    let gone = report(&server, &token, &retracted, json!({"headline": "Zeppelin sighted",
        "occurredAt": "2024-03-05T06:00:00Z", "actors": [{"name": "Airship Society", "kind": "GROUP"}]})).await;
    let gone_id = gone["events"][0]["payload"]["developmentId"]
        .as_str()
        .unwrap();
    data(server.post(Some(&token), "mutation($s: UUID!, $d: UUID!) { retractDevelopment(storyId: $s, developmentId: $d, reason: \"hoax\") { deduplicated } }",
        json!({"s": retracted, "d": gone_id})).await);

    // No waiting: each append wrote its search document.
    let list = "query($first: Int, $after: String, $search: String, $actor: String, $status: StoryStatus) {
        stories(first: $first, after: $after, search: $search, actor: $actor, status: $status) {
            totalCount pageInfo { hasNextPage endCursor } nodes { slug } edges { cursor node { slug } } } }";
    let slugs = |v: &Value| -> Vec<String> {
        v["stories"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["slug"].as_str().unwrap().to_owned())
            .collect()
    };
    let all = data(server.query(list, json!({})).await);
    assert_eq!(
        slugs(&all),
        ["retracted-words", "ferry-strike", "kabul-airport-2021"]
    );
    assert_eq!(all["stories"]["totalCount"], 3);
    let first = data(server.query(list, json!({"first": 1})).await);
    assert_eq!(first["stories"]["pageInfo"]["hasNextPage"], true);
    let rest = data(
        server
            .query(
                list,
                json!({"first": 5, "after": first["stories"]["pageInfo"]["endCursor"]}),
            )
            .await,
    );
    assert_eq!(slugs(&rest), ["ferry-strike", "kabul-airport-2021"]);

    // Words from a development (stemmed), from a title, and from nowhere.
    assert_eq!(
        slugs(&data(
            server.query(list, json!({"search": "harbours"})).await
        )),
        ["ferry-strike"]
    );
    assert_eq!(
        slugs(&data(
            server.query(list, json!({"search": "Kabul airport"})).await
        )),
        ["kabul-airport-2021"]
    );
    assert!(
        slugs(&data(
            server.query(list, json!({"search": "zeppelin"})).await
        ))
        .is_empty(),
        "retracted developments are not searchable"
    );
    // Actor names match case-insensitively, live developments only.
    assert_eq!(
        slugs(&data(server.query(list, json!({"actor": "taliban"})).await)),
        ["kabul-airport-2021"]
    );
    assert_eq!(
        slugs(&data(
            server
                .query(list, json!({"actor": "SEAFARERS UNION"}))
                .await
        )),
        ["ferry-strike"]
    );
    assert!(slugs(&data(
        server
            .query(list, json!({"actor": "Airship Society"}))
            .await
    ))
    .is_empty());
    let ongoing = data(server.query(list, json!({"status": "ONGOING"})).await);
    assert_eq!(ongoing["stories"]["totalCount"], 0);
}

#[sqlx::test]
async fn searches_past_their_limits_are_bad_user_input_not_database_errors(
    pool: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let server = server_on(pool, connect).await;
    storyline::exchange::load_demo(&server.store).await.unwrap();
    let list = "query($search: String, $actor: String) {
        stories(search: $search, actor: $actor) { totalCount nodes { slug } } }";
    let words = |n: usize| {
        (0..n)
            .map(|i| format!("w{i}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    // A phrase of thousands of words would exhaust Postgres's stack.
    for search in [words(65), format!("\"{}\"", words(20_000))] {
        let refused = server.query(list, json!({ "search": search })).await;
        assert_eq!(error_code(&refused), "BAD_USER_INPUT", "{refused}");
    }
    let refused = server
        .query(list, json!({ "actor": "x".repeat(301) }))
        .await;
    assert_eq!(error_code(&refused), "BAD_USER_INPUT", "{refused}");
    let within = data(
        server
            .query(list, json!({ "search": format!("kabul {}", words(63)) }))
            .await,
    );
    assert_eq!(within["stories"]["totalCount"], 0);
}

#[sqlx::test]
async fn the_kabul_story_replays_to_10_and_12_july_through_graphql(
    pool: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let server = server_on(pool, connect).await;
    storyline::exchange::load_demo(&server.store).await.unwrap();
    let response = data(server.query("{ story(slug: \"kabul-airport-2021\") {
        july10: stateAt(at: \"2021-07-10T00:00:00Z\") { developments { headline } }
        july12: stateAt(at: \"2021-07-12T23:59:59Z\") { developments { headline } quotes { speaker } }
        snapshot { actors { name mentions } figures { metric place value qualifier } } } }", json!({})).await);
    let story = &response["story"];
    assert_eq!(story["july10"]["developments"].as_array().unwrap().len(), 5);
    let july12 = story["july12"]["developments"].as_array().unwrap().len();
    assert_eq!(july12, 7, "Kirby and Akar added by 12 July");
    let actors: Vec<(String, i64)> = story["snapshot"]["actors"]
        .as_array()
        .unwrap()
        .iter()
        .take(3)
        .map(|a| {
            (
                a["name"].as_str().unwrap().to_owned(),
                a["mentions"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        actors,
        [
            ("United States".to_owned(), 8),
            ("Taliban".to_owned(), 6),
            ("Turkey".to_owned(), 4)
        ]
    );
}

#[sqlx::test]
async fn a_retry_with_the_same_event_id_is_deduplicated_and_other_content_is_refused(
    pool: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let server = server_on(pool, connect).await;
    let token = server.token("desk").await;
    let open = json!({"input": {"eventId": "0190a1b2-0000-7000-8000-000000000001", "slug": "retry", "title": "Retry"}});
    let first = data(server.post(Some(&token), OPEN, open.clone()).await);
    let again = data(server.post(Some(&token), OPEN, open).await);
    assert_eq!(again["openStory"]["deduplicated"], true);
    assert_eq!(
        again["openStory"]["story"]["id"],
        first["openStory"]["story"]["id"]
    );
    assert_eq!(again["openStory"]["events"], first["openStory"]["events"]);
    let story = first["openStory"]["story"]["id"].as_str().unwrap();

    let event_id = "0190a1b2-0000-7000-8000-000000000002";
    let input = json!({"headline": "Once", "occurredAt": "2024-01-01T00:00:00Z"});
    let vars = json!({"story": story, "expected": 1, "eventId": event_id, "input": input});
    let reported = data(server.post(Some(&token), REPORT, vars.clone()).await);
    assert_eq!(reported["reportDevelopment"]["deduplicated"], false);
    // The retry still carries its original, now stale, expectedVersion.
    let retried = data(server.post(Some(&token), REPORT, vars).await);
    assert_eq!(retried["reportDevelopment"]["deduplicated"], true);
    assert_eq!(
        retried["reportDevelopment"]["events"],
        reported["reportDevelopment"]["events"]
    );
    assert_eq!(retried["reportDevelopment"]["story"]["version"], 2);

    let other = json!({"story": story, "eventId": event_id,
        "input": {"headline": "Something else", "occurredAt": "2024-01-01T00:00:00Z"}});
    let refused = server.post(Some(&token), REPORT, other).await;
    assert_eq!(error_code(&refused), "BAD_USER_INPUT");
    let version = data(
        server
            .query(
                "query($s: UUID!) { story(id: $s) { version } }",
                json!({"s": story}),
            )
            .await,
    );
    assert_eq!(version["story"]["version"], 2, "nothing appended");
}

#[sqlx::test]
async fn sixteen_concurrent_writers_at_one_version_give_one_success_and_fifteen_conflicts(
    pool: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let server = std::sync::Arc::new(server_on(pool, connect).await);
    let token = server.token("desk").await;
    let story = open_story(&server, &token, "race").await;
    let writers = (0..16).map(|i| {
        let server = server.clone();
        let token = token.clone();
        let story = story.clone();
        tokio::spawn(async move {
            server.post(Some(&token), REPORT, json!({"story": story, "expected": 1,
                "input": {"headline": format!("writer {i}"), "occurredAt": "2024-01-01T00:00:00Z"}})).await
        })
    });
    let mut successes = 0;
    let mut conflicts = 0;
    for writer in writers {
        let response = writer.await.unwrap();
        if response.get("errors").is_none() {
            successes += 1;
            continue;
        }
        assert_eq!(error_code(&response), "VERSION_CONFLICT", "{response}");
        let extensions = &response["errors"][0]["extensions"];
        assert_eq!(extensions["expectedVersion"], 1);
        assert_eq!(extensions["actualVersion"], 2);
        conflicts += 1;
    }
    assert_eq!((successes, conflicts), (1, 15));
}

#[sqlx::test]
async fn mutations_without_a_live_token_are_unauthenticated_and_change_nothing(
    pool: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let server = server_on(pool, connect).await;
    let input = json!({"input": {"slug": "nobody", "title": "Nobody"}});
    let missing = server.post(None, OPEN, input.clone()).await;
    assert_eq!(error_code(&missing), "UNAUTHENTICATED");
    let unknown = server.post(Some("sl_0000"), OPEN, input.clone()).await;
    assert_eq!(error_code(&unknown), "UNAUTHENTICATED");
    let never_used = server.token("temp").await;
    server.store.revoke_token("temp").await.unwrap();
    let revoked = server.post(Some(&never_used), OPEN, input.clone()).await;
    assert_eq!(error_code(&revoked), "UNAUTHENTICATED");
    // A token the server has seen live is refused from the next mutation
    // after its revocation too.
    let used = server.token("desk").await;
    let story = open_story(&server, &used, "before-revocation").await;
    server.store.revoke_token("desk").await.unwrap();
    let after = server.post(Some(&used), OPEN, input).await;
    assert_eq!(error_code(&after), "UNAUTHENTICATED");
    // Input the mutation refuses before appending (an empty headline) does
    // not tell a revoked token what it lacked either.
    for headline in ["late", ""] {
        let report = server
            .post(
                Some(&used),
                REPORT,
                json!({"story": story, "input": {"headline": headline, "occurredAt": "2024-01-01T00:00:00Z"}}),
            )
            .await;
        assert_eq!(error_code(&report), "UNAUTHENTICATED", "{headline:?}");
    }
    let stories = data(
        server
            .query("{ stories { totalCount nodes { version } } }", json!({}))
            .await,
    );
    assert_eq!(stories["stories"]["totalCount"], 1);
    assert_eq!(stories["stories"]["nodes"][0]["version"], 1);
}

#[sqlx::test]
async fn bad_input_is_refused_with_its_code_and_writes_nothing(
    pool: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let server = server_on(pool, connect).await;
    let token = server.token("desk").await;
    let story = open_story(&server, &token, "limits").await;
    let long_headline = "x".repeat(301);
    let too_many_tags: Vec<String> = (0..201).map(|i| format!("t{i}")).collect();
    let bad_inputs = [
        json!({"headline": "", "occurredAt": "2024-01-01T00:00:00Z"}),
        json!({"headline": long_headline, "occurredAt": "2024-01-01T00:00:00Z"}),
        json!({"headline": "tags", "occurredAt": "2024-01-01T00:00:00Z", "tags": too_many_tags}),
        json!({"headline": "no offset", "occurredAt": "2024-01-01T00:00:00"}),
        json!({"headline": "bad enum", "occurredAt": "2024-01-01T00:00:00Z", "precision": "WEEK"}),
    ];
    for input in bad_inputs {
        let response = server
            .post(
                Some(&token),
                REPORT,
                json!({"story": story, "input": input}),
            )
            .await;
        assert_eq!(
            error_code(&response),
            "BAD_USER_INPUT",
            "{input} → {response}"
        );
    }
    let unknown_development = server.post(Some(&token),
        "mutation($s: UUID!) { retractDevelopment(storyId: $s, developmentId: \"0190a1b2-0000-7000-8000-00000000dead\", reason: \"x\") { deduplicated } }",
        json!({"s": story})).await;
    assert_eq!(error_code(&unknown_development), "BAD_USER_INPUT");
    let taken = server
        .post(
            Some(&token),
            OPEN,
            json!({"input": {"slug": "limits", "title": "Again"}}),
        )
        .await;
    assert_eq!(error_code(&taken), "BAD_USER_INPUT");
    let no_story = server
        .post(
            Some(&token),
            REPORT,
            json!({"story": "0190a1b2-0000-7000-8000-000000000000",
        "input": {"headline": "x", "occurredAt": "2024-01-01T00:00:00Z"}}),
        )
        .await;
    assert_eq!(error_code(&no_story), "NOT_FOUND");
    let both = server
        .query(
            "{ story(slug: \"limits\", id: \"0190a1b2-0000-7000-8000-000000000000\") { id } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&both), "BAD_USER_INPUT");
    let neither = server.query("{ story { id } }", json!({})).await;
    assert_eq!(error_code(&neither), "BAD_USER_INPUT");
    let absent = data(
        server
            .query("{ story(slug: \"nope\") { id } }", json!({}))
            .await,
    );
    assert_eq!(absent["story"], Value::Null);

    let version = data(
        server
            .query(
                "query($s: UUID!) { story(id: $s) { version } }",
                json!({"s": story}),
            )
            .await,
    );
    assert_eq!(version["story"]["version"], 1, "nothing was written");
}

#[sqlx::test]
async fn oversized_bodies_deep_and_complex_queries_are_refused(
    pool: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let server = server_on(pool, connect).await;
    let huge = format!(
        "{{\"query\": \"{{ stories {{ totalCount }} }}\", \"pad\": \"{}\"}}",
        "x".repeat(1024 * 1024)
    );
    let response = server
        .client()
        .post(server.graphql_url())
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);

    let reasonable = "{ stories { nodes { snapshot { actors { stances { actor } } } } } }";
    assert!(
        server
            .query(reasonable, json!({}))
            .await
            .get("errors")
            .is_none(),
        "a reasonable depth passes"
    );
    let of_type_chain = (0..20).fold(String::from("name"), |inner, _| {
        format!("ofType {{ {inner} }}")
    });
    let nested =
        format!("{{ __schema {{ types {{ fields {{ type {{ {of_type_chain} }} }} }} }} }}");
    let refused = server.query(&nested, json!({})).await;
    assert_eq!(
        error_code(&refused),
        "GRAPHQL_VALIDATION_FAILED",
        "{refused}"
    );

    let aliases: String = (0..2_000)
        .map(|i| format!("a{i}: stories(first: 5) {{ totalCount nodes {{ slug }} }} "))
        .collect();
    let complex = server.query(&format!("{{ {aliases} }}"), json!({})).await;
    assert_eq!(
        error_code(&complex),
        "GRAPHQL_VALIDATION_FAILED",
        "{complex}"
    );

    let malformed = server
        .client()
        .post(server.graphql_url())
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), 400);
}

#[sqlx::test]
async fn graphiql_is_served_and_the_standard_introspection_query_passes_the_limits(
    pool: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let server = server_on(pool, connect).await;
    let page = server.client().get(&server.url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("graphiql"));
    let introspection = include_str!("introspection.graphql");
    let schema = data(server.query(introspection, json!({})).await);
    assert_eq!(schema["__schema"]["queryType"]["name"], "Query");
    assert_eq!(
        schema["__schema"]["subscriptionType"]["name"],
        "Subscription"
    );
}

#[sqlx::test]
async fn mutations_over_get_are_refused_with_405(pool: PgPoolOptions, connect: PgConnectOptions) {
    let server = server_on(pool, connect).await;
    let response = server
        .client()
        .get(server.graphql_url())
        .query(&[(
            "query",
            "mutation { openStory(input: {slug: \"g\", title: \"g\"}) { deduplicated } }",
        )])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    assert_eq!(response.headers()["allow"], "POST");
    let query = server
        .client()
        .get(server.graphql_url())
        .query(&[("query", "{ stories { totalCount } }")])
        .send()
        .await
        .unwrap();
    assert_eq!(query.status(), 200);
}

#[sqlx::test]
async fn metrics_count_requests_by_operation_and_outcome(
    pool: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let server = server_on(pool, connect).await;
    let token = server.token("desk").await;
    let story = open_story(&server, &token, "metered").await;
    let conflict = server
        .post(
            Some(&token),
            REPORT,
            json!({"story": story, "expected": 7,
        "input": {"headline": "x", "occurredAt": "2024-01-01T00:00:00Z"}}),
        )
        .await;
    assert_eq!(error_code(&conflict), "VERSION_CONFLICT");
    let text = server
        .client()
        .get(format!("{}/metrics", server.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains(
            "storyline_graphql_requests_total{operation=\"mutation openStory\",outcome=\"ok\"} 1"
        ),
        "{text}"
    );
    assert!(text.contains("outcome=\"VERSION_CONFLICT\"} 1"), "{text}");
    assert!(
        text.contains("storyline_version_conflicts_total 1"),
        "{text}"
    );
    assert!(text.contains("storyline_appended_events_total 1"), "{text}");
    assert!(
        text.contains("storyline_graphql_request_duration_seconds_bucket"),
        "{text}"
    );
}

/// Every audit of the graphql-http suite (MUST, SHOULD and MAY), run by
/// Node against this server.
#[sqlx::test]
async fn every_graphql_over_http_audit_passes(pool: PgPoolOptions, connect: PgConnectOptions) {
    let server = server_on(pool, connect).await;
    let report = common::run_node("audit.mjs", vec![server.graphql_url()]).await;
    assert!(report.contains("61/61 audits ok"), "{report}");
}

#[sqlx::test]
async fn a_first_above_500_returns_500_and_says_there_is_more(
    pool: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let server = server_on(pool, connect).await;
    let story = storyline::domain::StoryId::generate();
    let mut events = vec![common::opening("long")];
    events.extend((0..600).map(|i| common::development(&format!("n{i}"))));
    server
        .store
        .append(story, None, &events, &common::by_tester())
        .await
        .unwrap();
    let page = data(
        server
            .query(
                "query($s: UUID!) { story(id: $s) { history(first: 10000) {
                    totalCount pageInfo { hasNextPage } nodes { version } } } }",
                json!({"s": story.to_string()}),
            )
            .await,
    );
    let history = &page["story"]["history"];
    assert_eq!(history["nodes"].as_array().unwrap().len(), 500);
    assert_eq!(history["pageInfo"]["hasNextPage"], true);
    assert_eq!(history["totalCount"], 601);
}
