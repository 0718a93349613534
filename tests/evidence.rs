//! DESIGN §9 over HTTP, on a story of the test's own: two conflicting tolls
//! are disputed, a FALSE verdict takes one out of every aggregate, a
//! correction resolves the dispute, and replays before and after see the
//! verdicts and claims recorded by then.

mod common;

use common::{data, error_code, spawn_server};
use serde_json::{json, Value};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

const OPEN: &str =
    "mutation($input: OpenStoryInput!) { openStory(input: $input) { story { id } } }";
const REPORT: &str = "mutation($story: UUID!, $input: DevelopmentInput!) {
    reportDevelopment(storyId: $story, input: $input) {
        story { version } events { recordedAt } } }";
const VERDICT: &str =
    "mutation($story: UUID!, $d: UUID!, $status: VerificationStatus!, $note: String) {
    setVerification(storyId: $story, developmentId: $d, status: $status, note: $note) {
        story { version } events { type recordedAt } } }";
const CORRECT: &str = "mutation($story: UUID!, $d: UUID!, $changes: DevelopmentPatch!) {
    correctDevelopment(storyId: $story, developmentId: $d, changes: $changes, reason: \"hospital revised\") {
        events { recordedAt } } }";
const STATE: &str = "query($story: UUID!, $known: DateTime) { story(id: $story) {
    snapshot { ...state }
    stateAt(knownAt: $known) { ...state } } }
  fragment state on StoryState {
    developments { id verification verificationHistory { status note version } reportedAt
                   figures { value claimedBy low high } sources { kind } }
    confirmed: developments(verification: [CONFIRMED]) { id }
    figures { value claimedBy }
    figureClaims { metric place disputed agreedLow agreedHigh claims { value claimedBy qualifier } } }";

fn toll(id: &str, value: f64, qualifier: &str, by: &str, day: u32) -> Value {
    json!({"developmentId": id, "headline": format!("{by} gives a toll"),
           "occurredAt": format!("2024-03-{day:02}T10:00:00Z"), "precision": "DAY",
           "sources": [{"name": by, "kind": "OFFICIAL"}],
           "figures": [{"metric": "killed", "value": value, "qualifier": qualifier,
                        "place": "Ridgeville", "claimedBy": by}]})
}

#[sqlx::test]
async fn conflicting_tolls_are_disputed_until_a_verdict_or_a_correction_settles_them(
    pool: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let server = spawn_server(common::store_with(pool, connect, 4).await).await;
    let token = server.token("desk").await;
    let t = Some(token.as_str());
    let opened = data(
        server
            .post(
                t,
                OPEN,
                json!({"input": {"slug": "ridgeville-fire", "title": "Ridgeville fire"}}),
            )
            .await,
    );
    let story = opened["openStory"]["story"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let police = "0192f0c4-0000-7000-8000-0000000000a1";
    let hospital = "0192f0c4-0000-7000-8000-0000000000a2";
    data(
        server
            .post(
                t,
                REPORT,
                json!({"story": story, "input": toll(police, 4.0, "EXACT", "Police", 1)}),
            )
            .await,
    );
    let reported = data(server.post(t, REPORT, json!({"story": story, "input": toll(hospital, 7.0, "EXACT", "County hospital", 2)})).await);
    let both_known = reported["reportDevelopment"]["events"][0]["recordedAt"].clone();

    let state = data(server.query(STATE, json!({"story": story})).await);
    let claims = &state["story"]["snapshot"]["figureClaims"][0];
    assert_eq!(claims["disputed"], true, "{claims}");
    assert_eq!(claims["agreedLow"], Value::Null);
    assert_eq!(
        claims["claims"][0]["claimedBy"], "County hospital",
        "latest first"
    );
    assert_eq!(claims["claims"][1]["claimedBy"], "Police");
    assert_eq!(
        state["story"]["snapshot"]["developments"][0]["sources"][0]["kind"],
        "OFFICIAL"
    );
    assert_eq!(
        state["story"]["snapshot"]["developments"][0]["verification"],
        "UNVERIFIED"
    );

    // The hospital's figure is judged false: it stays on the timeline but
    // leaves the figures and the claims.
    let judged = data(
        server
            .post(
                t,
                VERDICT,
                json!({"story": story, "d": hospital, "status": "FALSE", "note": "double-counted"}),
            )
            .await,
    );
    assert_eq!(
        judged["setVerification"]["events"][0]["type"],
        "DevelopmentVerificationChanged"
    );
    let state = data(server.query(STATE, json!({"story": story})).await);
    let snapshot = &state["story"]["snapshot"];
    assert_eq!(snapshot["developments"].as_array().unwrap().len(), 2);
    assert_eq!(snapshot["developments"][1]["verification"], "FALSE");
    assert_eq!(
        snapshot["developments"][1]["verificationHistory"][0]["note"],
        "double-counted"
    );
    assert_eq!(
        snapshot["figures"],
        json!([{"value": 4.0, "claimedBy": "Police"}])
    );
    assert_eq!(snapshot["figureClaims"][0]["disputed"], false);
    assert_eq!(
        snapshot, &state["story"]["stateAt"],
        "snapshot equals stateAt()"
    );

    // Replayed as known before the verdict: still disputed.
    let before = data(
        server
            .query(STATE, json!({"story": story, "known": both_known}))
            .await,
    );
    assert_eq!(
        before["story"]["stateAt"]["figureClaims"][0]["disputed"],
        true
    );
    assert_eq!(
        before["story"]["stateAt"]["developments"][1]["verification"],
        "UNVERIFIED"
    );

    // The verdict is reversed, and the hospital corrects its toll to a
    // range that admits the police's: no longer disputed, agreed 4..4.
    data(
        server
            .post(
                t,
                VERDICT,
                json!({"story": story, "d": hospital, "status": "CONFIRMED"}),
            )
            .await,
    );
    data(
        server
            .post(
                t,
                CORRECT,
                json!({"story": story, "d": hospital, "changes": {
        "figures": [{"metric": "killed", "value": 5.0, "low": 3.0, "high": 7.0,
                     "place": "Ridgeville", "claimedBy": "county hospital"}]}}),
            )
            .await,
    );
    let state = data(server.query(STATE, json!({"story": story})).await);
    let snapshot = &state["story"]["snapshot"];
    let claims = &snapshot["figureClaims"][0];
    assert_eq!(claims["disputed"], false, "{claims}");
    assert_eq!(
        (claims["agreedLow"].clone(), claims["agreedHigh"].clone()),
        (json!(4.0), json!(4.0))
    );
    // The correction replaced the figure list: the claimant is now written
    // as the correction writes it.
    assert_eq!(claims["claims"][0]["claimedBy"], "county hospital");
    assert_eq!(snapshot["confirmed"], json!([{"id": hospital}]));
    let history: Vec<&str> = snapshot["developments"][1]["verificationHistory"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["status"].as_str().unwrap())
        .collect();
    assert_eq!(history, ["FALSE", "CONFIRMED"]);
    assert_eq!(snapshot, &state["story"]["stateAt"]);
}

#[sqlx::test]
async fn a_range_that_does_not_hold_its_value_and_a_verdict_on_nothing_are_refused(
    pool: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let server = spawn_server(common::store_with(pool, connect, 4).await).await;
    let token = server.token("desk").await;
    let t = Some(token.as_str());
    let opened = data(
        server
            .post(
                t,
                OPEN,
                json!({"input": {"slug": "ranges", "title": "Ranges"}}),
            )
            .await,
    );
    let story = opened["openStory"]["story"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut input = toll(
        "0192f0c4-0000-7000-8000-0000000000b1",
        9.0,
        "EXACT",
        "Police",
        1,
    );
    input["figures"][0]["high"] = json!(8.0);
    let refused = server
        .post(t, REPORT, json!({"story": story, "input": input}))
        .await;
    assert_eq!(error_code(&refused), "BAD_USER_INPUT");
    assert!(refused["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("figures[0].high"));
    let nothing = server
        .post(
            t,
            VERDICT,
            json!({"story": story,
        "d": "0192f0c4-0000-7000-8000-0000000000b2", "status": "CONFIRMED"}),
        )
        .await;
    assert_eq!(error_code(&nothing), "BAD_USER_INPUT");
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
