//! A bounded fuzz run over real HTTP: requests built from the contract's
//! operations with hostile values (empty, huge, NUL, emoji, quotes, extreme
//! numbers and dates, malformed ids and cursors, unknown enums), sent as
//! variables and written into documents alike. Whatever comes back must be
//! an answer with the contract's codes: no INTERNAL_SERVER_ERROR, no 5xx.
//! The generator is seeded, so a failure replays.

mod common;

use common::{spawn_server, store_with};
use serde_json::{json, Value};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

const REQUESTS: usize = 600;

/// xorshift64*: small, seeded, enough to pick among hostile values.
struct Picker(u64);

impl Picker {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn pick<T: Clone>(&mut self, values: &[T]) -> T {
        values[(self.next() % values.len() as u64) as usize].clone()
    }

    fn chance(&mut self, one_in: u64) -> bool {
        self.next() % one_in == 0
    }
}

fn strings() -> Vec<Value> {
    vec![
        json!(""),
        json!("   "),
        json!("Taliban"),
        json!("kabul-airport-2021"),
        json!("x".repeat(10_000)),
        json!("nul\u{0}inside"),
        json!("emoji 🛫 ü ß 漢字"),
        json!("'; DROP TABLE events; --"),
        json!("%_\\"),
        json!("\"quoted\" or -minus"),
        json!("al-Qaeda or"),
        json!("a ".repeat(200)),
        json!("\u{202e}rtl\u{feff}"),
        json!("\u{200b}\u{2060}\u{feff}"),
        json!("bell\u{7}and\u{9b}csi"),
        json!("  JaVaScRiPt:alert(1)"),
        json!("java\tscript:alert(1)"),
        json!("data:text/html,<script>alert(1)</script>"),
        json!("https://example.org/a?b=<c>"),
        Value::Null,
        json!(12),
    ]
}

fn numbers() -> Vec<Value> {
    vec![
        json!(0),
        json!(-1),
        json!(1),
        json!(500),
        json!(501),
        json!(i32::MAX),
        json!(i32::MIN),
        json!(1.797_693_134_862_315_7e308),
        json!(-1e308),
        json!(1e15),
        json!(0.1),
        json!(-0.0),
        json!("7"),
        Value::Null,
    ]
}

fn dates() -> Vec<Value> {
    vec![
        json!("2021-07-13T00:00:00Z"),
        json!("0000-01-01T00:00:00Z"),
        json!("0001-01-01T00:00:00Z"),
        json!("9999-12-31T23:59:59Z"),
        json!("9999-12-31T23:59:59-12:00"),
        json!("2021-07-13T00:00:00"),
        json!("2021-02-30T00:00:00Z"),
        json!("not a date"),
        json!(1_626_134_400),
        Value::Null,
    ]
}

fn ids(known: &[String]) -> Vec<Value> {
    let mut ids = vec![
        json!("00000000-0000-0000-0000-000000000000"),
        json!("not-a-uuid"),
        json!(uuid::Uuid::now_v7()),
        json!(""),
        Value::Null,
    ];
    ids.extend(known.iter().map(|id| json!(id)));
    ids
}

fn enums() -> Vec<Value> {
    vec![
        json!("DEVELOPING"),
        json!("ONGOING"),
        json!("FINISHED"),
        json!("DAY"),
        json!("MONTH"),
        json!("WEEK"),
        json!("GROUP"),
        json!("AT_LEAST"),
        json!("ABOUT"),
        json!(""),
        json!(3),
        Value::Null,
    ]
}

fn cursors() -> Vec<Value> {
    vec![
        json!("dmVyc2lvbjox"),
        json!("cG9zaXRpb246MA"),
        json!("c3Rvcnk6MC8w"),
        json!("!!!"),
        json!("dmVyc2lvbjotOTk5OTk5OTk5OTk5"),
        json!("x".repeat(5_000)),
        Value::Null,
    ]
}

/// One request: a document and its variables.
fn request(p: &mut Picker, stories: &[String], developments: &[String]) -> (String, Value) {
    let story = p.pick(&ids(stories));
    let development = p.pick(&ids(developments));
    match p.next() % 15 {
        0 => (
            "query($s: String, $i: UUID) { story(slug: $s, id: $i) { id version slug } }".into(),
            json!({"s": p.pick(&strings()), "i": if p.chance(2) { story } else { Value::Null }}),
        ),
        1 => (
            "query($f: Int, $a: String, $st: StoryStatus, $q: String, $ac: String) {
                stories(first: $f, after: $a, status: $st, search: $q, actor: $ac) {
                    totalCount pageInfo { hasNextPage endCursor } nodes { slug } } }"
                .into(),
            json!({"f": p.pick(&numbers()), "a": p.pick(&cursors()), "st": p.pick(&enums()),
                   "q": p.pick(&strings()), "ac": p.pick(&strings())}),
        ),
        2 => (
            "query($f: Int, $a: String, $s: UUID, $t: [String!]) {
                events(first: $f, after: $a, storyId: $s, types: $t) { totalCount nodes { position type } } }"
                .into(),
            json!({"f": p.pick(&numbers()), "a": p.pick(&cursors()), "s": story,
                   "t": [p.pick(&strings())]}),
        ),
        3 => (
            "query($i: UUID!, $f: Int, $l: Int, $a: String, $b: String, $from: DateTime, $to: DateTime) {
                story(id: $i) { history(first: $f, last: $l, after: $a, before: $b,
                    occurredFrom: $from, occurredTo: $to) { totalCount nodes { version } } } }"
                .into(),
            json!({"i": story, "f": p.pick(&numbers()), "l": p.pick(&numbers()),
                   "a": p.pick(&cursors()), "b": p.pick(&cursors()),
                   "from": p.pick(&dates()), "to": p.pick(&dates())}),
        ),
        4 => (
            "query($i: UUID!, $at: DateTime, $k: DateTime, $from: DateTime!, $to: DateTime!) {
                story(id: $i) { stateAt(at: $at, knownAt: $k) { version developments { headline } }
                    changes(from: $from, to: $to) { added { headline } } } }"
                .into(),
            json!({"i": story, "at": p.pick(&dates()), "k": p.pick(&dates()),
                   "from": p.pick(&dates()), "to": p.pick(&dates())}),
        ),
        5 | 6 => (
            "mutation($s: UUID!, $v: Int, $e: UUID, $input: DevelopmentInput!) {
                reportDevelopment(storyId: $s, expectedVersion: $v, eventId: $e, input: $input) {
                    deduplicated story { version } } }"
                .into(),
            json!({"s": story, "v": if p.chance(3) { p.pick(&numbers()) } else { Value::Null },
                   "e": if p.chance(2) { p.pick(&ids(&[])) } else { Value::Null },
                   "input": {
                "headline": p.pick(&strings()), "summary": p.pick(&strings()),
                "occurredAt": p.pick(&dates()), "precision": p.pick(&enums()),
                "location": {"name": p.pick(&strings()), "latitude": p.pick(&numbers()),
                             "longitude": p.pick(&numbers())},
                "actors": [{"name": p.pick(&strings()), "kind": p.pick(&enums())}],
                "figures": [{"metric": p.pick(&strings()), "value": p.pick(&numbers()),
                             "qualifier": p.pick(&enums()), "place": p.pick(&strings())}],
                "quotes": [{"speaker": p.pick(&strings()), "text": p.pick(&strings())}],
                "stances": [{"actor": p.pick(&strings()), "target": p.pick(&strings()),
                             "position": p.pick(&enums())}],
                "sources": [{"name": p.pick(&strings()), "url": p.pick(&strings()),
                             "publishedAt": p.pick(&dates())}],
                "tags": [p.pick(&strings())]}}),
        ),
        7 => (
            "mutation($input: OpenStoryInput!) { openStory(input: $input) { story { id } } }".into(),
            json!({"input": {"slug": p.pick(&strings()), "title": p.pick(&strings()),
                             "summary": p.pick(&strings()), "topics": [p.pick(&strings())]}}),
        ),
        8 => (
            "mutation($s: UUID!, $d: UUID!, $c: DevelopmentPatch!, $r: String!) {
                correctDevelopment(storyId: $s, developmentId: $d, changes: $c, reason: $r) {
                    story { version } } }"
                .into(),
            json!({"s": story, "d": development, "r": p.pick(&strings()), "c": {
                "headline": p.pick(&strings()), "occurredAt": p.pick(&dates()),
                "figures": [{"metric": p.pick(&strings()), "value": p.pick(&numbers())}]}}),
        ),
        9 => (
            "mutation($s: UUID!, $d: UUID!, $r: String!) {
                retractDevelopment(storyId: $s, developmentId: $d, reason: $r) { story { version } } }"
                .into(),
            json!({"s": story, "d": development, "r": p.pick(&strings())}),
        ),
        10 => (
            "mutation($s: UUID!, $st: StoryStatus!) { setStoryStatus(storyId: $s, status: $st) {
                story { version } } }"
                .into(),
            json!({"s": story, "st": p.pick(&enums())}),
        ),
        // Aliases of what costs the most: states, replays, comparisons and
        // counts, in numbers around the limits.
        12 | 13 => {
            let aliases = p.pick(&[1, 10, 49, 51, 150, 499, 501]);
            let field = p.pick(&[
                "snapshot { quotes { text } developments { headline } }",
                "stateAt(at: \"2021-07-12T00:00:00Z\") { figures { value } }",
                "changes(from: \"2021-07-01T00:00:00Z\", to: \"2021-07-20T00:00:00Z\") { added { id } }",
                "history(first: 1) { totalCount }",
                "history(first: 500) { nodes { payload metadata } }",
            ]);
            let selections: String = (0..aliases).map(|n| format!("a{n}: {field} ")).collect();
            (
                format!("query($i: UUID!) {{ story(id: $i) {{ {selections} }} }}"),
                json!({"i": story}),
            )
        }
        // Nesting deeper than any check allows, by fragments and inline
        // fragments.
        14 => {
            let depth = p.pick(&[10, 63, 65, 2_000]);
            let nested = format!(
                "{{ {}__typename{} }}",
                "... on Query { ".repeat(depth),
                " }".repeat(depth)
            );
            (nested, json!({}))
        }
        // Values written into the document itself, not sent as variables.
        _ => {
            let text = serde_json::to_string(&p.pick(&strings())).unwrap_or_default();
            let number = p.pick(&numbers()).to_string();
            (
                format!(
                    "{{ stories(first: {number}, search: {text}) {{ totalCount }} \
                       story(slug: {text}) {{ id }} }}"
                ),
                json!({}),
            )
        }
    }
}

#[sqlx::test]
async fn a_seeded_fuzz_run_gets_no_internal_error_and_no_5xx(
    pool: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let store = store_with(pool, connect, 8).await;
    storyline::exchange::load_demo(&store).await.unwrap();
    let server = spawn_server(store.clone()).await;
    let token = server.token("fuzz").await;
    let demo = store
        .story_header_by_slug("kabul-airport-2021")
        .await
        .unwrap()
        .expect("the demo story");
    let stories = vec![demo.id.0.to_string()];
    let developments: Vec<String> = store
        .load_snapshot(demo.id)
        .await
        .unwrap()
        .expect("its snapshot")
        .developments
        .keys()
        .map(|id| id.to_string())
        .collect();

    let mut picker = Picker(0x5EED_F022_0F0F);
    let mut failures = Vec::new();
    let mut codes: std::collections::BTreeMap<String, usize> = Default::default();
    for n in 0..REQUESTS {
        let (query, variables) = request(&mut picker, &stories, &developments);
        let mut post = server
            .client()
            .post(server.graphql_url())
            .json(&json!({"query": query, "variables": variables}));
        if picker.chance(4) || query.trim_start().starts_with("mutation") {
            post = post.bearer_auth(&token);
        }
        let response = post.send().await.expect("the server answers");
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        let internal = body["errors"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|e| e["extensions"]["code"] == "INTERNAL_SERVER_ERROR");
        let code = body["errors"][0]["extensions"]["code"]
            .as_str()
            .unwrap_or(if body["errors"].is_array() {
                "no code"
            } else {
                "ok"
            })
            .to_owned();
        *codes.entry(code).or_default() += 1;
        if status.is_server_error() || internal {
            failures.push(format!("#{n} {status}: {query} {variables} -> {body}"));
        }
    }
    eprintln!("fuzz answers by code: {codes:?}");
    assert!(
        codes.get("ok").is_some_and(|&n| n > 50),
        "the run reached the resolvers: {codes:?}"
    );
    assert!(
        failures.is_empty(),
        "{} of {REQUESTS}:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
