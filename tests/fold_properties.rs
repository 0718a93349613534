//! Property: for random valid event sequences (verdicts, claimed figures
//! and visibility changes among them), the inline snapshot, a fresh fold, a
//! rebuild and state_at without a cut agree; and state_at as known when
//! event k was recorded equals the fold of the first k events.

use chrono::{DateTime, Duration, TimeZone, Utc};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use sqlx::postgres::PgPoolOptions;
use storyline::domain::events::*;
use storyline::domain::model::{
    ActorKind, ActorRef, FigureInput, FigureQualifier, StanceInput, StancePosition, StoryStatus,
    StoryVisibility, VerificationStatus,
};
use storyline::domain::replay::{fold_known, state_at};
use storyline::domain::view::story_state;
use storyline::domain::StoryId;
use storyline::store::{EventMetadata, NewEvent, Store};
use uuid::Uuid;

/// What a generated step asks for; steps that would break a rule (say,
/// correcting when nothing is live) are skipped when turned into events.
#[derive(Debug, Clone)]
enum Step {
    Report {
        day: i64,
        actors: Vec<usize>,
        killed: Option<Claim>,
        stance: bool,
        verdict: Option<usize>,
    },
    Correct {
        pick: usize,
        day: Option<i64>,
        actors: Option<Vec<usize>>,
    },
    Retract {
        pick: usize,
    },
    Status(u8),
    Verify {
        pick: usize,
        verdict: usize,
        note: bool,
    },
    Visibility {
        internal: bool,
        embargo_days: Option<i64>,
    },
}

/// A generated "killed" figure: value, qualifier, claimant, range.
#[derive(Debug, Clone)]
struct Claim {
    value: u32,
    qualifier: usize,
    claimant: Option<usize>,
    spread: Option<u32>,
}

const QUALIFIERS: [FigureQualifier; 6] = [
    FigureQualifier::Exact,
    FigureQualifier::AtLeast,
    FigureQualifier::MoreThan,
    FigureQualifier::About,
    FigureQualifier::UpTo,
    FigureQualifier::FewerThan,
];
const CLAIMANTS: [&str; 3] = ["Police", "POLICE ", "Hospital"];
const VERDICTS: [VerificationStatus; 5] = [
    VerificationStatus::Unverified,
    VerificationStatus::Corroborated,
    VerificationStatus::Confirmed,
    VerificationStatus::Disputed,
    VerificationStatus::False,
];

fn claim() -> impl Strategy<Value = Claim> {
    (
        0u32..50,
        0..QUALIFIERS.len(),
        prop::option::of(0..CLAIMANTS.len()),
        prop::option::of(0u32..5),
    )
        .prop_map(|(value, qualifier, claimant, spread)| Claim {
            value,
            qualifier,
            claimant,
            spread,
        })
}

const NAMES: [&str; 4] = ["Taliban", "TALIBAN", "Turkey", "United States"];

fn step() -> impl Strategy<Value = Step> {
    let actors = prop::collection::vec(0..NAMES.len(), 0..3);
    prop_oneof![
        4 => (0i64..40, actors.clone(), prop::option::of(claim()), any::<bool>(),
              prop::option::of(0..VERDICTS.len()))
            .prop_map(|(day, actors, killed, stance, verdict)| Step::Report {
                day, actors, killed, stance, verdict
            }),
        2 => (any::<usize>(), 0..VERDICTS.len(), any::<bool>())
            .prop_map(|(pick, verdict, note)| Step::Verify { pick, verdict, note }),
        1 => (any::<bool>(), prop::option::of(-5i64..5))
            .prop_map(|(internal, embargo_days)| Step::Visibility { internal, embargo_days }),
        2 => (any::<usize>(), prop::option::of(0i64..40), prop::option::of(actors))
            .prop_map(|(pick, day, actors)| Step::Correct { pick, day, actors }),
        1 => any::<usize>().prop_map(|pick| Step::Retract { pick }),
        1 => (0u8..4).prop_map(Step::Status),
    ]
}

fn day(offset: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2021, 7, 1, 0, 0, 0).unwrap() + Duration::days(offset)
}

fn actor_refs(picks: &[usize]) -> Vec<ActorRef> {
    picks
        .iter()
        .map(|&i| ActorRef {
            name: NAMES[i].into(),
            kind: ActorKind::Group,
            role: None,
        })
        .collect()
}

/// Turns steps into a valid event sequence (after StoryOpened), with each
/// event's occurredAt.
fn events_of(slug: &str, steps: &[Step]) -> Vec<(StoryEvent, Option<DateTime<Utc>>)> {
    let opened = StoryEvent::StoryOpened(StoryOpened {
        schema_version: 1,
        slug: slug.into(),
        title: "Generated".into(),
        summary: None,
        topics: vec![],
        visibility: None,
        embargo_until: None,
    });
    let mut events = vec![(opened, None)];
    let mut live: Vec<(Uuid, DateTime<Utc>)> = Vec::new();
    for step in steps {
        match step {
            Step::Report {
                day: d,
                actors,
                killed,
                stance,
                verdict,
            } => {
                let id = Uuid::now_v7();
                let event = DevelopmentReported {
                    schema_version: 1,
                    development_id: id,
                    headline: format!("development {}", events.len()),
                    summary: None,
                    occurred_at: day(*d),
                    precision: Default::default(),
                    location: None,
                    actors: actor_refs(actors),
                    quotes: vec![],
                    figures: killed
                        .iter()
                        .map(|k| FigureInput {
                            metric: "killed".into(),
                            value: k.value as f64,
                            qualifier: QUALIFIERS[k.qualifier],
                            unit: None,
                            place: Some("Kabul".into()),
                            claimed_by: k.claimant.map(|c| CLAIMANTS[c].trim().into()),
                            low: k.spread.map(|s| k.value.saturating_sub(s) as f64),
                            high: k.spread.map(|s| (k.value + s) as f64),
                        })
                        .collect(),
                    stances: if *stance {
                        vec![StanceInput {
                            actor: "Taliban".into(),
                            target: "Turkey".into(),
                            position: StancePosition::Warns,
                            summary: None,
                        }]
                    } else {
                        vec![]
                    },
                    sources: vec![],
                    tags: vec![],
                    verification: verdict.map(|v| VERDICTS[v]),
                };
                live.push((id, day(*d)));
                events.push((StoryEvent::DevelopmentReported(event), Some(day(*d))));
            }
            Step::Correct {
                pick,
                day: d,
                actors,
            } if !live.is_empty() => {
                let index = pick % live.len();
                if let Some(d) = d {
                    live[index].1 = day(*d);
                }
                let changes = DevelopmentPatch {
                    occurred_at: d.map(day),
                    actors: actors.as_deref().map(actor_refs),
                    headline: Some(format!("corrected at {}", events.len())),
                    ..Default::default()
                };
                let event = DevelopmentCorrected {
                    schema_version: 1,
                    development_id: live[index].0,
                    changes,
                    reason: "r".into(),
                };
                events.push((StoryEvent::DevelopmentCorrected(event), Some(live[index].1)));
            }
            Step::Retract { pick } if !live.is_empty() => {
                let (id, occurred) = live.remove(pick % live.len());
                let event = DevelopmentRetracted {
                    schema_version: 1,
                    development_id: id,
                    reason: "r".into(),
                };
                events.push((StoryEvent::DevelopmentRetracted(event), Some(occurred)));
            }
            Step::Status(s) => {
                let status = [
                    StoryStatus::Developing,
                    StoryStatus::Ongoing,
                    StoryStatus::Concluded,
                    StoryStatus::Dormant,
                ][*s as usize];
                events.push((
                    StoryEvent::StoryStatusChanged(StoryStatusChanged {
                        schema_version: 1,
                        status,
                        reason: None,
                    }),
                    None,
                ));
            }
            Step::Verify {
                pick,
                verdict,
                note,
            } if !live.is_empty() => {
                let (id, occurred) = live[pick % live.len()];
                let event = DevelopmentVerificationChanged {
                    schema_version: 1,
                    development_id: id,
                    status: VERDICTS[*verdict],
                    note: note.then(|| format!("verdict {}", events.len())),
                };
                events.push((
                    StoryEvent::DevelopmentVerificationChanged(event),
                    Some(occurred),
                ));
            }
            Step::Visibility {
                internal,
                embargo_days,
            } => {
                let event = StoryVisibilityChanged {
                    schema_version: 1,
                    visibility: if *internal {
                        StoryVisibility::Internal
                    } else {
                        StoryVisibility::Public
                    },
                    embargo_until: embargo_days.map(|d| day(d * 400)),
                };
                events.push((StoryEvent::StoryVisibilityChanged(event), None));
            }
            _ => {}
        }
    }
    events
}

async fn check(store: &Store, steps: &[Step]) -> Result<(), TestCaseError> {
    let story = StoryId::generate();
    let events = events_of(&format!("story-{}", story.0.simple()), steps);
    for (event, occurred) in &events {
        let new = NewEvent::from_event(event, *occurred);
        store
            .append(story, None, &[new], &EventMetadata::by("proptest"))
            .await
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
    }
    let stored: Vec<_> = store.read_story(story).await.unwrap();
    let fresh = fold_known(story, &stored, None).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let inline = store
        .load_snapshot(story)
        .await
        .unwrap()
        .expect("snapshot exists");
    prop_assert_eq!(&inline, &fresh, "inline snapshot vs fresh fold");
    let no_cut = store
        .state_at(story, None, None)
        .await
        .unwrap()
        .expect("state exists");
    prop_assert_eq!(
        &no_cut,
        &story_state(&fresh, None, None),
        "state_at() vs fold"
    );
    for k in 1..=stored.len() {
        let known_at = stored[k - 1].recorded_at;
        let replayed = store
            .state_at(story, None, Some(known_at))
            .await
            .unwrap()
            .expect("state exists");
        let first_k = fold_known(story, &stored[..k], None).unwrap();
        prop_assert_eq!(
            &replayed,
            &story_state(&first_k, None, Some(known_at)),
            "known at event {}",
            k
        );
        let at = Some(day(20));
        let expected_at = state_at(story, &stored[..k], at, Some(known_at)).unwrap();
        let replayed_at = store
            .state_at(story, at, Some(known_at))
            .await
            .unwrap()
            .unwrap();
        prop_assert_eq!(replayed_at, expected_at, "at and known at event {}", k);
    }
    Ok(())
}

#[test]
fn snapshot_fold_rebuild_and_replay_agree_on_random_event_sequences() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let base = std::env::var("DATABASE_URL").expect("DATABASE_URL names the test server");
    let name = format!("storyline_prop_{}", Uuid::now_v7().simple());
    let (admin, url) = runtime.block_on(async {
        let admin = PgPoolOptions::new()
            .max_connections(1)
            .connect(&base)
            .await
            .unwrap();
        let url = format!("{}/{name}", base.rsplit_once('/').unwrap().0);
        (admin, url)
    });
    let store = runtime.block_on(async {
        let options = storyline::store::ConnectOptions {
            database_url: url,
            max_connections: 4,
            checkpoint_every: 3,
            statement_timeout: None,
        };
        Store::connect(&options).await.unwrap()
    });
    let mut runner = TestRunner::new(Config {
        cases: 24,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&prop::collection::vec(step(), 0..14), |steps| {
        runtime.block_on(check(&store, &steps))
    });
    let rebuilt = runtime.block_on(async {
        let before = storyline::projection::verify(&store, |_| {}).await.unwrap();
        store.rebuild_snapshots(|_| {}).await.unwrap();
        let after = storyline::projection::verify(&store, |_| {}).await.unwrap();
        store.close().await;
        sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)"))
            .execute(&admin)
            .await
            .unwrap();
        (before, after)
    });
    result.unwrap();
    assert!(rebuilt.0.is_empty(), "before rebuild: {:?}", rebuilt.0);
    assert!(rebuilt.1.is_empty(), "after rebuild: {:?}", rebuilt.1);
}
