//! The fold's rules, one test each, and the Kabul fixture. No database.

use chrono::{DateTime, Duration, TimeZone, Utc};
use uuid::Uuid;

use super::events::*;
use super::exchange::parse_import_line;
use super::fold::{apply, FoldError, StoryFold};
use super::model::*;
use super::replay::{changes, fold_known, state_at, RecordedStoryEvent};
use super::view::story_state;
use super::{StoryId, Version};

pub(super) fn day(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, 0, 0, 0).unwrap()
}

pub(super) fn actor(name: &str, kind: ActorKind) -> ActorRef {
    ActorRef {
        name: name.into(),
        kind,
        role: None,
    }
}

pub(super) fn development(
    id: Uuid,
    headline: &str,
    occurred_at: DateTime<Utc>,
) -> DevelopmentReported {
    DevelopmentReported {
        precision: TimePrecision::Day,
        ..DevelopmentReported::new(id, headline, occurred_at)
    }
}

pub(super) fn figure(metric: &str, value: f64, place: &str) -> FigureInput {
    FigureInput {
        metric: metric.into(),
        value,
        qualifier: FigureQualifier::Exact,
        unit: None,
        place: Some(place.into()),
        claimed_by: None,
        low: None,
        high: None,
    }
}

/// A stream under construction; each event is recorded a minute after the
/// last.
pub(super) struct Stream {
    pub(super) events: Vec<RecordedStoryEvent>,
}

impl Stream {
    pub(super) fn opened() -> Stream {
        let mut s = Stream { events: vec![] };
        s.push(StoryEvent::StoryOpened(StoryOpened {
            schema_version: 1,
            slug: "test-story".into(),
            title: "Test story".into(),
            summary: None,
            topics: vec![],
            visibility: None,
            embargo_until: None,
        }));
        s
    }

    pub(super) fn push(&mut self, event: StoryEvent) -> &mut Self {
        let version = Version(self.events.len() as i32 + 1);
        let recorded_at = day(2030, 1, 1) + Duration::minutes(version.0 as i64);
        self.events.push(RecordedStoryEvent {
            version,
            recorded_at,
            event,
        });
        self
    }

    pub(super) fn report(&mut self, d: DevelopmentReported) -> &mut Self {
        self.push(StoryEvent::DevelopmentReported(d))
    }

    pub(super) fn fold(&self) -> StoryFold {
        fold_known(StoryId(Uuid::nil()), &self.events, None).unwrap()
    }

    pub(super) fn state(&self) -> super::view::StoryState {
        story_state(&self.fold(), None, None)
    }
}

#[test]
fn a_new_story_is_developing_at_version_one() {
    let state = Stream::opened().state();
    assert_eq!(state.status, StoryStatus::Developing);
    assert_eq!(state.version, Version(1));
    assert_eq!(state.title, "Test story");
}

#[test]
fn timeline_orders_by_occurrence_with_ties_to_the_earlier_report() {
    let (a, b, c) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let mut s = Stream::opened();
    s.report(development(a, "later", day(2021, 7, 13)))
        .report(development(b, "tie, reported second", day(2021, 7, 1)))
        .report(development(c, "tie, reported third", day(2021, 7, 1)));
    let ids: Vec<Uuid> = s.state().developments.iter().map(|d| d.id).collect();
    assert_eq!(ids, vec![b, c, a]);
}

#[test]
fn actors_are_keyed_case_insensitively_shown_as_first_written_and_ranked() {
    let mut s = Stream::opened();
    let mut first = development(Uuid::now_v7(), "one", day(2021, 7, 1));
    first.actors = vec![
        actor("Taliban", ActorKind::Group),
        actor("Turkey", ActorKind::Country),
    ];
    let mut second = development(Uuid::now_v7(), "two", day(2021, 6, 1));
    second.actors = vec![
        actor("TALIBAN", ActorKind::Organization),
        actor("Akar", ActorKind::Person),
    ];
    let mut third = development(Uuid::now_v7(), "three", day(2021, 7, 5));
    third.actors = vec![actor("Akar", ActorKind::Person)];
    s.report(first).report(second).report(third);
    let actors = s.state().actors;
    let names: Vec<(&str, i32)> = actors
        .iter()
        .map(|a| (a.name.as_str(), a.mentions))
        .collect();
    assert_eq!(
        names,
        vec![("Akar", 2), ("Taliban", 2), ("Turkey", 1)],
        "mentions, then name"
    );
    let taliban = &actors[1];
    assert_eq!(
        taliban.kind,
        ActorKind::Group,
        "kind from the latest-occurring mention"
    );
    assert_eq!(taliban.first_seen_at, day(2021, 6, 1));
    assert_eq!(taliban.last_seen_at, day(2021, 7, 1));
}

#[test]
fn an_actor_keeps_its_latest_stance_per_target() {
    let mut s = Stream::opened();
    let stance = |position, summary: &str| StanceInput {
        actor: "Taliban".into(),
        target: "Turkey".into(),
        position,
        summary: Some(summary.into()),
    };
    let mut late = development(Uuid::now_v7(), "threat", day(2021, 7, 13));
    late.actors = vec![actor("Taliban", ActorKind::Group)];
    late.stances = vec![stance(StancePosition::Warns, "jihad")];
    let mut early = development(Uuid::now_v7(), "earlier", day(2021, 7, 1));
    early.actors = vec![actor("Taliban", ActorKind::Group)];
    early.stances = vec![stance(StancePosition::Opposes, "reported later")];
    s.report(late).report(early);
    let taliban = &s.state().actors[0];
    assert_eq!(taliban.stances.len(), 1);
    assert_eq!(taliban.stances[0].position, StancePosition::Warns);
}

#[test]
fn figures_per_metric_and_place_come_from_the_latest_occurrence_not_the_latest_report() {
    let mut s = Stream::opened();
    let mut july = development(Uuid::now_v7(), "july", day(2021, 7, 13));
    july.figures = vec![figure("killed", 4.0, "Kabul")];
    let mut june = development(Uuid::now_v7(), "june, reported after", day(2021, 6, 1));
    june.figures = vec![
        figure("killed", 2.0, "Kabul"),
        figure("killed", 9.0, "Herat"),
    ];
    s.report(july).report(june);
    let figures = s.state().figures;
    let by_place: Vec<(Option<&str>, f64)> = figures
        .iter()
        .map(|f| (f.place.as_deref(), f.value))
        .collect();
    assert_eq!(by_place, vec![(Some("Herat"), 9.0), (Some("Kabul"), 4.0)]);
}

#[test]
fn a_figure_tie_in_occurrence_goes_to_the_later_version() {
    let mut s = Stream::opened();
    let mut first = development(Uuid::now_v7(), "a", day(2021, 7, 13));
    first.figures = vec![figure("killed", 4.0, "Kabul")];
    let mut second = development(Uuid::now_v7(), "b", day(2021, 7, 13));
    second.figures = vec![figure("killed", 5.0, "Kabul")];
    s.report(first).report(second);
    assert_eq!(s.state().figures[0].value, 5.0);
}

#[test]
fn a_correction_replaces_present_fields_and_whole_lists() {
    let id = Uuid::now_v7();
    let mut s = Stream::opened();
    let mut d = development(id, "Bomb in Kabul", day(2021, 7, 13));
    d.actors = vec![
        actor("Afghan government", ActorKind::Government),
        actor("Taliban", ActorKind::Group),
    ];
    d.tags = vec!["violence".into()];
    s.report(d);
    s.push(StoryEvent::DevelopmentCorrected(DevelopmentCorrected {
        schema_version: 1,
        development_id: id,
        changes: DevelopmentPatch {
            headline: Some("Bomb kills four in Kabul".into()),
            actors: Some(vec![actor("Kabul police", ActorKind::Organization)]),
            ..Default::default()
        },
        reason: "casualty figure confirmed".into(),
    }));
    let state = s.state();
    let corrected = &state.developments[0];
    assert_eq!(corrected.headline, "Bomb kills four in Kabul");
    assert_eq!(corrected.actors.len(), 1, "lists replace whole lists");
    assert_eq!(
        corrected.tags,
        vec!["violence".to_string()],
        "absent fields stay"
    );
    assert_eq!(corrected.corrected_in_versions, vec![Version(3)]);
    assert_eq!(state.actors.len(), 1);
}

#[test]
fn a_retraction_removes_the_development_from_every_aggregate() {
    let id = Uuid::now_v7();
    let mut s = Stream::opened();
    let mut d = development(id, "False report", day(2021, 7, 13));
    d.actors = vec![actor("Taliban", ActorKind::Group)];
    d.figures = vec![figure("killed", 100.0, "Kabul")];
    d.quotes = vec![QuoteInput {
        speaker: "Anon".into(),
        speaker_role: None,
        text: "x".into(),
    }];
    d.stances = vec![StanceInput {
        actor: "Taliban".into(),
        target: "Turkey".into(),
        position: StancePosition::Warns,
        summary: None,
    }];
    s.report(d);
    s.push(StoryEvent::DevelopmentRetracted(DevelopmentRetracted {
        schema_version: 1,
        development_id: id,
        reason: "unverified".into(),
    }));
    let state = s.state();
    assert!(state.developments.is_empty());
    assert!(state.actors.is_empty() && state.figures.is_empty() && state.quotes.is_empty());
    assert_eq!(state.retracted.len(), 1);
    assert_eq!(state.retracted[0].retracted_in_version, Version(3));
    assert_eq!(state.retracted[0].reason, "unverified");
}

#[test]
fn invalid_sequences_are_refused() {
    let id = Uuid::now_v7();
    let mut state = StoryFold::empty(StoryId(Uuid::nil()));
    let report = StoryEvent::DevelopmentReported(development(id, "x", day(2021, 1, 1)));
    assert_eq!(
        apply(&mut state, Version(1), day(2030, 1, 1), &report),
        Err(FoldError::NotOpened)
    );

    let s = Stream::opened();
    let mut state = s.fold();
    let open_again = s.events[0].event.clone();
    assert_eq!(
        apply(&mut state, Version(2), day(2030, 1, 1), &open_again),
        Err(FoldError::AlreadyOpened)
    );
    apply(&mut state, Version(2), day(2030, 1, 1), &report).unwrap();
    assert_eq!(
        apply(&mut state, Version(3), day(2030, 1, 1), &report),
        Err(FoldError::DuplicateDevelopment(id))
    );
    let nil = StoryEvent::DevelopmentReported(development(Uuid::nil(), "x", day(2021, 1, 1)));
    assert_eq!(
        apply(&mut state, Version(3), day(2030, 1, 1), &nil),
        Err(FoldError::NilDevelopmentId)
    );
    let unknown = Uuid::now_v7();
    let retract = |id| {
        StoryEvent::DevelopmentRetracted(DevelopmentRetracted {
            schema_version: 1,
            development_id: id,
            reason: "r".into(),
        })
    };
    assert_eq!(
        apply(&mut state, Version(3), day(2030, 1, 1), &retract(unknown)),
        Err(FoldError::UnknownDevelopment(unknown))
    );
    apply(&mut state, Version(3), day(2030, 1, 1), &retract(id)).unwrap();
    assert_eq!(
        apply(&mut state, Version(4), day(2030, 1, 1), &retract(id)),
        Err(FoldError::DevelopmentRetracted(id))
    );
    assert!(matches!(
        apply(&mut state, Version(9), day(2030, 1, 1), &retract(id)),
        Err(FoldError::VersionGap { .. })
    ));
}

#[test]
fn known_at_cuts_events_including_corrections_by_when_they_were_recorded() {
    let id = Uuid::now_v7();
    let mut s = Stream::opened();
    s.report(development(id, "Original", day(2021, 7, 13)));
    s.push(StoryEvent::DevelopmentCorrected(DevelopmentCorrected {
        schema_version: 1,
        development_id: id,
        changes: DevelopmentPatch {
            headline: Some("Corrected".into()),
            ..Default::default()
        },
        reason: "r".into(),
    }));
    let story = StoryId(Uuid::nil());
    let before_correction =
        state_at(story, &s.events, None, Some(s.events[1].recorded_at)).unwrap();
    assert_eq!(before_correction.developments[0].headline, "Original");
    assert_eq!(before_correction.version, Version(2));
    let now = state_at(story, &s.events, None, Some(s.events[2].recorded_at)).unwrap();
    assert_eq!(now.developments[0].headline, "Corrected");
}

#[test]
fn a_correction_moving_occurrence_across_the_cut_moves_the_development() {
    let id = Uuid::now_v7();
    let mut s = Stream::opened();
    s.report(development(id, "Dated wrongly", day(2021, 8, 1)));
    let cut = Some(day(2021, 7, 15));
    let story = StoryId(Uuid::nil());
    assert!(state_at(story, &s.events, cut, None)
        .unwrap()
        .developments
        .is_empty());
    s.push(StoryEvent::DevelopmentCorrected(DevelopmentCorrected {
        schema_version: 1,
        development_id: id,
        changes: DevelopmentPatch {
            occurred_at: Some(day(2021, 7, 10)),
            ..Default::default()
        },
        reason: "date".into(),
    }));
    assert_eq!(
        state_at(story, &s.events, cut, None)
            .unwrap()
            .developments
            .len(),
        1
    );
    let known_before = Some(s.events[1].recorded_at);
    assert!(state_at(story, &s.events, cut, known_before)
        .unwrap()
        .developments
        .is_empty());
}

#[test]
fn future_dated_developments_appear_only_without_a_cut_or_past_them() {
    let mut s = Stream::opened();
    s.report(development(
        Uuid::now_v7(),
        "Withdrawal deadline",
        day(2099, 8, 31),
    ));
    let story = StoryId(Uuid::nil());
    assert_eq!(
        state_at(story, &s.events, None, None)
            .unwrap()
            .developments
            .len(),
        1
    );
    assert!(state_at(story, &s.events, Some(day(2021, 7, 13)), None)
        .unwrap()
        .developments
        .is_empty());
}

#[test]
fn changes_report_new_developments_figures_and_stances_between_two_instants() {
    let mut s = Stream::opened();
    let mut early = development(Uuid::now_v7(), "early", day(2021, 7, 1));
    early.figures = vec![
        figure("killed", 2.0, "Kabul"),
        figure("displaced", 10.0, "Kabul"),
    ];
    early.stances = vec![StanceInput {
        actor: "Turkey".into(),
        target: "Airport".into(),
        position: StancePosition::Supports,
        summary: None,
    }];
    let mut late = development(Uuid::now_v7(), "late", day(2021, 7, 13));
    late.figures = vec![
        figure("killed", 4.0, "Kabul"),
        figure("displaced", 10.0, "Kabul"),
    ];
    late.stances = vec![
        StanceInput {
            actor: "turkey".into(),
            target: "airport".into(),
            position: StancePosition::Supports,
            summary: None,
        },
        StanceInput {
            actor: "Taliban".into(),
            target: "Turkey".into(),
            position: StancePosition::Warns,
            summary: None,
        },
    ];
    s.report(early).report(late);
    let diff = changes(&s.fold(), day(2021, 7, 5), day(2021, 7, 13));
    assert_eq!(diff.added.len(), 1);
    assert_eq!(diff.added[0].headline, "late");
    let figures: Vec<(&str, f64)> = diff
        .figures_changed
        .iter()
        .map(|f| (f.metric.as_str(), f.value))
        .collect();
    assert_eq!(figures, vec![("killed", 4.0)]);
    assert_eq!(diff.stances_changed.len(), 1);
    assert_eq!(diff.stances_changed[0].actor, "Taliban");
}

// --- The Kabul fixture --------------------------------------------------

const KABUL: &str = include_str!("../../fixtures/kabul-airport-2021.ndjson");

fn kabul() -> Vec<RecordedStoryEvent> {
    KABUL
        .lines()
        .enumerate()
        .map(|(i, line)| RecordedStoryEvent {
            version: Version(i as i32 + 1),
            recorded_at: day(2021, 7, 13) + Duration::seconds(i as i64),
            event: parse_import_line(line).unwrap().event,
        })
        .collect()
}

fn headlines_at(at: &str) -> Vec<String> {
    let at: DateTime<Utc> = at.parse().unwrap();
    let state = state_at(StoryId(Uuid::nil()), &kabul(), Some(at), None).unwrap();
    state.developments.into_iter().map(|d| d.headline).collect()
}

#[test]
fn kabul_on_10_july_has_the_five_developments_dated_up_to_then() {
    let headlines = headlines_at("2021-07-10T00:00:00Z");
    assert_eq!(headlines.len(), 5, "{headlines:#?}");
    for expected in [
        "withdrawal deal",
        "Qatar",
        "begin withdrawing",
        "asks Turkey",
        "Erdogan",
    ] {
        assert!(
            headlines.iter().any(|h| h.contains(expected)),
            "{expected} missing from {headlines:#?}"
        );
    }
}

#[test]
fn kabul_by_the_end_of_12_july_adds_kirby_and_akar() {
    let headlines = headlines_at("2021-07-12T23:59:59Z");
    assert_eq!(headlines.len(), 7, "{headlines:#?}");
    assert!(headlines.iter().any(|h| h.contains("Pentagon")));
    assert!(headlines.iter().any(|h| h.contains("defence minister")));
}

#[test]
fn kabul_full_state_has_its_figures_and_ranked_actors() {
    let state = state_at(StoryId(Uuid::nil()), &kabul(), None, None).unwrap();
    let figure = |metric: &str, place: &str| {
        let found = state
            .figures
            .iter()
            .find(|f| f.metric == metric && f.place.as_deref() == Some(place));
        found
            .map(|f| (f.value, f.qualifier))
            .unwrap_or_else(|| panic!("no {metric} in {place}"))
    };
    // The claimants the report names, and no others.
    let claimant = |metric: &str, place: &str| {
        state
            .figures
            .iter()
            .find(|f| f.metric == metric && f.place.as_deref() == Some(place))
            .and_then(|f| f.claimed_by.clone())
    };
    let foreign_ministry = Some("Afghan Foreign Ministry".to_owned());
    assert_eq!(claimant("killed", "Afghanistan"), foreign_ministry);
    assert_eq!(claimant("displaced", "Afghanistan"), foreign_ministry);
    assert_eq!(
        claimant("insurgents killed", "Afghanistan"),
        Some("Afghan officials".to_owned())
    );
    assert_eq!(
        claimant("killed", "Kabul"),
        None,
        "the bomb's toll is unattributed"
    );
    // "at least 4", "more than 3,500", "more than 200,000".
    assert_eq!(figure("killed", "Kabul"), (4.0, FigureQualifier::AtLeast));
    assert_eq!(
        figure("killed", "Afghanistan"),
        (3_500.0, FigureQualifier::MoreThan)
    );
    assert_eq!(
        figure("displaced", "Afghanistan"),
        (200_000.0, FigureQualifier::MoreThan)
    );
    let ranked: Vec<(&str, i32)> = state
        .actors
        .iter()
        .take(3)
        .map(|a| (a.name.as_str(), a.mentions))
        .collect();
    assert_eq!(
        ranked,
        vec![("United States", 8), ("Taliban", 6), ("Turkey", 4)]
    );
    assert_eq!(state.version, Version(14));
    assert_eq!(state.status, StoryStatus::Developing);
}
