//! DESIGN §9: verdicts, claimants, and the intervals that make figures
//! disputed. No database.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::events::*;
use super::model::*;
use super::replay::state_at;
use super::tests::{actor, day, development, figure, Stream};
use super::view::{common_interval, story_state, FigureClaims, Interval, StoryState};
use super::StoryId;

fn claim(value: f64, qualifier: FigureQualifier, by: Option<&str>) -> FigureInput {
    FigureInput {
        qualifier,
        claimed_by: by.map(Into::into),
        ..figure("killed", value, "Kabul")
    }
}

fn ranged(value: f64, low: Option<f64>, high: Option<f64>, by: &str) -> FigureInput {
    FigureInput {
        low,
        high,
        ..claim(value, FigureQualifier::Exact, Some(by))
    }
}

/// A development on `on` stating `figures`.
fn stating(on: DateTime<Utc>, figures: Vec<FigureInput>) -> DevelopmentReported {
    DevelopmentReported {
        figures,
        ..development(Uuid::now_v7(), "toll", on)
    }
}

fn verdict(id: Uuid, status: VerificationStatus, note: Option<&str>) -> StoryEvent {
    StoryEvent::DevelopmentVerificationChanged(DevelopmentVerificationChanged {
        schema_version: 1,
        development_id: id,
        status,
        note: note.map(Into::into),
    })
}

fn the_claims(state: &StoryState) -> &FigureClaims {
    &state.figure_claims[0]
}

/// Whether the two figures, each from its own claimant, are disputed, and
/// what they agree on.
fn judge(a: FigureInput, b: FigureInput) -> (bool, Option<f64>, Option<f64>) {
    let mut s = Stream::opened();
    s.report(stating(day(2021, 7, 1), vec![a]))
        .report(stating(day(2021, 7, 2), vec![b]));
    let state = s.state();
    let claims = the_claims(&state);
    assert_eq!(claims.claims.len(), 2, "two claimants");
    (claims.disputed, claims.agreed_low, claims.agreed_high)
}

use FigureQualifier::*;

fn q(value: f64, qualifier: FigureQualifier, by: &str) -> FigureInput {
    claim(value, qualifier, Some(by))
}

#[test]
fn at_least_four_and_exactly_seven_agree_on_seven() {
    assert_eq!(
        judge(q(4.0, AtLeast, "police"), q(7.0, Exact, "hospital")),
        (false, Some(7.0), Some(7.0))
    );
}

#[test]
fn four_and_seven_exactly_are_disputed() {
    assert_eq!(
        judge(q(4.0, Exact, "police"), q(7.0, Exact, "hospital")),
        (true, None, None)
    );
}

#[test]
fn open_and_closed_ends_decide_a_shared_endpoint() {
    // (4, inf) and (-inf, 4] share nothing; [4, inf) and (-inf, 4] share 4.
    assert!(judge(q(4.0, MoreThan, "a"), q(4.0, UpTo, "b")).0);
    assert_eq!(
        judge(q(4.0, AtLeast, "a"), q(4.0, UpTo, "b")),
        (false, Some(4.0), Some(4.0))
    );
    assert!(judge(q(4.0, AtLeast, "a"), q(4.0, FewerThan, "b")).0);
    assert!(judge(q(4.0, Exact, "a"), q(4.0, FewerThan, "b")).0);
    assert!(judge(q(4.0, Exact, "a"), q(4.0, MoreThan, "b")).0);
    assert!(!judge(q(4.0, Exact, "a"), q(4.0, UpTo, "b")).0);
}

#[test]
fn an_open_agreed_end_is_reported_as_its_value() {
    assert_eq!(
        judge(q(4.0, MoreThan, "a"), q(9.0, FewerThan, "b")),
        (false, Some(4.0), Some(9.0))
    );
}

#[test]
fn unbounded_sides_give_null_agreed_bounds() {
    assert_eq!(
        judge(q(4.0, AtLeast, "a"), q(7.0, MoreThan, "b")),
        (false, Some(7.0), None)
    );
    assert_eq!(
        judge(q(4.0, UpTo, "a"), q(7.0, FewerThan, "b")),
        (false, None, Some(4.0))
    );
}

#[test]
fn about_is_ten_percent_either_side() {
    // ABOUT 100 is [90, 110].
    assert_eq!(
        judge(q(100.0, About, "a"), q(110.0, Exact, "b")),
        (false, Some(110.0), Some(110.0))
    );
    assert!(judge(q(100.0, About, "a"), q(111.0, Exact, "b")).0);
    assert_eq!(
        judge(q(100.0, About, "a"), q(90.0, UpTo, "b")),
        (false, Some(90.0), Some(90.0))
    );
    // A negative value keeps a positive margin.
    assert_eq!(
        Interval::of(&super::view::Figure {
            metric: "m".into(),
            value: -10.0,
            qualifier: About,
            unit: None,
            place: None,
            development_id: Uuid::nil(),
            occurred_at: day(2021, 1, 1),
            claimed_by: None,
            low: None,
            high: None,
        })
        .low
        .map(|b| b.value),
        Some(-11.0)
    );
}

#[test]
fn every_qualifier_against_every_other_follows_the_intervals() {
    // 5 against 5 of each pair: disputed exactly when one side excludes 5
    // and the other admits only 5 or lies wholly on the other side.
    let qualifiers = [Exact, AtLeast, MoreThan, About, UpTo, FewerThan];
    for a in qualifiers {
        for b in qualifiers {
            let (disputed, _, _) = judge(q(5.0, a, "a"), q(5.0, b, "b"));
            let opens_up = |x| x == MoreThan;
            let opens_down = |x| x == FewerThan;
            let point = |x| x == Exact;
            let expected = (opens_up(a) && (opens_down(b) || point(b) || b == UpTo))
                || (opens_up(b) && (opens_down(a) || point(a) || a == UpTo))
                || (opens_down(a) && (point(b) || b == AtLeast))
                || (opens_down(b) && (point(a) || a == AtLeast));
            assert_eq!(disputed, expected, "{a:?} 5 vs {b:?} 5");
        }
    }
}

#[test]
fn a_stated_range_overrides_the_qualifier() {
    assert_eq!(
        judge(
            ranged(5.0, Some(4.0), Some(7.0), "a"),
            q(6.0, MoreThan, "b")
        ),
        (false, Some(6.0), Some(7.0))
    );
    assert!(judge(ranged(5.0, Some(4.0), Some(7.0), "a"), q(8.0, Exact, "b")).0);
    // A range open on one side is unbounded there.
    assert_eq!(
        judge(ranged(5.0, Some(4.0), None, "a"), q(100.0, Exact, "b")),
        (false, Some(100.0), Some(100.0))
    );
}

#[test]
fn one_claim_is_never_disputed() {
    let mut s = Stream::opened();
    s.report(stating(day(2021, 7, 1), vec![q(4.0, MoreThan, "police")]));
    let state = s.state();
    let claims = the_claims(&state);
    assert!(!claims.disputed);
    assert_eq!((claims.agreed_low, claims.agreed_high), (Some(4.0), None));
}

#[test]
fn unattributed_figures_count_as_one_claimant() {
    let mut s = Stream::opened();
    s.report(stating(day(2021, 7, 1), vec![claim(4.0, Exact, None)]))
        .report(stating(day(2021, 7, 2), vec![claim(7.0, Exact, None)]))
        .report(stating(day(2021, 7, 3), vec![q(7.0, AtLeast, "hospital")]));
    let state = s.state();
    let claims = the_claims(&state);
    let stated: Vec<(Option<&str>, f64)> = claims
        .claims
        .iter()
        .map(|c| (c.claimed_by.as_deref(), c.value))
        .collect();
    assert_eq!(stated, vec![(Some("hospital"), 7.0), (None, 7.0)]);
    assert!(!claims.disputed);
}

#[test]
fn a_claimants_later_figure_replaces_its_earlier_one() {
    let mut s = Stream::opened();
    s.report(stating(day(2021, 7, 2), vec![q(4.0, Exact, "Police")]))
        .report(stating(day(2021, 7, 1), vec![q(5.0, Exact, "police")]))
        .report(stating(day(2021, 7, 3), vec![q(7.0, Exact, "Hospital")]));
    let state = s.state();
    let claims = the_claims(&state);
    // The police's latest by occurrence is 4 (2 July), reported first.
    let stated: Vec<(Option<&str>, f64)> = claims
        .claims
        .iter()
        .map(|c| (c.claimed_by.as_deref(), c.value))
        .collect();
    assert_eq!(stated, vec![(Some("Hospital"), 7.0), (Some("Police"), 4.0)]);
    assert!(claims.disputed);

    s.report(stating(day(2021, 7, 4), vec![q(7.0, Exact, "POLICE")]));
    let state = s.state();
    let claims = the_claims(&state);
    assert_eq!(
        claims.claims.len(),
        2,
        "claimants compare case-insensitively"
    );
    assert_eq!(
        claims.claims[0].claimed_by.as_deref(),
        Some("Police"),
        "shown as first written"
    );
    assert!(!claims.disputed);
}

#[test]
fn claims_are_per_metric_and_place_in_the_order_of_figures() {
    let mut s = Stream::opened();
    s.report(stating(
        day(2021, 7, 1),
        vec![
            figure("wounded", 3.0, "Kabul"),
            figure("killed", 9.0, "Herat"),
            q(4.0, Exact, "police"),
        ],
    ));
    let state = s.state();
    let keys: Vec<(&str, Option<&str>)> = state
        .figure_claims
        .iter()
        .map(|c| (c.metric.as_str(), c.place.as_deref()))
        .collect();
    let figure_keys: Vec<(&str, Option<&str>)> = state
        .figures
        .iter()
        .map(|f| (f.metric.as_str(), f.place.as_deref()))
        .collect();
    assert_eq!(keys, figure_keys);
    assert_eq!(keys.len(), 3);
}

#[test]
fn a_false_development_stays_on_the_timeline_and_leaves_every_aggregate() {
    let id = Uuid::now_v7();
    let mut s = Stream::opened();
    let mut claimed = stating(day(2021, 7, 2), vec![q(7.0, Exact, "hospital")]);
    claimed.development_id = id;
    claimed.actors = vec![actor("Hospital", ActorKind::Organization)];
    claimed.quotes = vec![QuoteInput {
        speaker: "Doctor".into(),
        speaker_role: None,
        text: "Seven".into(),
    }];
    claimed.stances = vec![StanceInput {
        actor: "Hospital".into(),
        target: "Police".into(),
        position: StancePosition::Denies,
        summary: None,
    }];
    s.report(stating(day(2021, 7, 1), vec![q(4.0, Exact, "police")]))
        .report(claimed);
    assert!(the_claims(&s.state()).disputed);

    s.push(verdict(id, VerificationStatus::False, Some("no such toll")));
    let state = s.state();
    assert_eq!(state.developments.len(), 2, "still on the timeline");
    assert_eq!(
        state.developments[1].verification,
        VerificationStatus::False
    );
    assert!(state.actors.is_empty());
    assert!(state.quotes.is_empty());
    assert_eq!(state.figures.len(), 1);
    assert_eq!(state.figures[0].value, 4.0);
    assert_eq!(the_claims(&state).claims.len(), 1);
    assert!(!the_claims(&state).disputed);

    s.push(verdict(id, VerificationStatus::Confirmed, None));
    let state = s.state();
    assert_eq!(state.actors.len(), 1, "a later verdict puts it back");
    assert_eq!(state.quotes.len(), 1);
    assert_eq!(state.figures[0].value, 7.0);
    assert!(the_claims(&state).disputed);
}

#[test]
fn verification_history_starts_with_the_reported_status_and_keeps_every_verdict() {
    let id = Uuid::now_v7();
    let mut s = Stream::opened();
    s.report(DevelopmentReported {
        verification: Some(VerificationStatus::Corroborated),
        ..development(id, "a", day(2021, 7, 1))
    });
    s.push(verdict(
        id,
        VerificationStatus::Confirmed,
        Some("two sources"),
    ));
    s.push(verdict(id, VerificationStatus::Confirmed, Some("a third")));
    let state = s.state();
    let d = &state.developments[0];
    assert_eq!(d.verification, VerificationStatus::Confirmed);
    assert_eq!(d.reported_at, s.events[1].recorded_at);
    let history: Vec<(VerificationStatus, Option<&str>, i32)> = d
        .verification_history
        .iter()
        .map(|v| (v.status, v.note.as_deref(), v.version.0))
        .collect();
    assert_eq!(
        history,
        vec![
            (VerificationStatus::Corroborated, None, 2),
            (VerificationStatus::Confirmed, Some("two sources"), 3),
            (VerificationStatus::Confirmed, Some("a third"), 4),
        ]
    );
    assert_eq!(
        d.verification_history[1].recorded_at,
        s.events[2].recorded_at
    );
}

#[test]
fn a_report_without_a_verdict_is_unverified_with_no_history() {
    let mut s = Stream::opened();
    s.report(development(Uuid::now_v7(), "a", day(2021, 7, 1)));
    let d = &s.state().developments[0];
    assert_eq!(d.verification, VerificationStatus::Unverified);
    assert!(d.verification_history.is_empty());
}

#[test]
fn verdicts_and_claims_are_cut_on_both_axes() {
    let false_one = Uuid::now_v7();
    let mut s = Stream::opened();
    let mut seven = stating(day(2021, 7, 5), vec![q(7.0, Exact, "hospital")]);
    seven.development_id = false_one;
    s.report(stating(day(2021, 7, 1), vec![q(4.0, Exact, "police")]))
        .report(seven);
    s.push(verdict(false_one, VerificationStatus::False, None));
    let story = StoryId(Uuid::nil());
    let before_verdict = s.events[2].recorded_at;

    // Known before the verdict: both claims, disputed.
    let known = state_at(story, &s.events, None, Some(before_verdict)).unwrap();
    assert!(the_claims(&known).disputed);
    assert_eq!(
        known.developments[1].verification,
        VerificationStatus::Unverified
    );
    // Known now: the FALSE one leaves the claims.
    let now = state_at(story, &s.events, None, None).unwrap();
    assert!(!the_claims(&now).disputed);
    // At 3 July the hospital's claim had not happened: one claim.
    let early = state_at(
        story,
        &s.events,
        Some(day(2021, 7, 3)),
        Some(before_verdict),
    )
    .unwrap();
    assert_eq!(the_claims(&early).claims.len(), 1);
    assert!(!the_claims(&early).disputed);
    // The snapshot equals stateAt() with no cut.
    assert_eq!(story_state(&s.fold(), None, None), now);
}

#[test]
fn a_verdict_on_an_unknown_or_retracted_development_is_refused() {
    let id = Uuid::now_v7();
    let mut fold = Stream::opened().fold();
    assert_eq!(
        fold.check(&verdict(id, VerificationStatus::False, None)),
        Err(super::fold::FoldError::UnknownDevelopment(id))
    );
    let mut s = Stream::opened();
    s.report(development(id, "a", day(2021, 7, 1)));
    s.push(StoryEvent::DevelopmentRetracted(DevelopmentRetracted {
        schema_version: 1,
        development_id: id,
        reason: "r".into(),
    }));
    fold = s.fold();
    assert_eq!(
        fold.check(&verdict(id, VerificationStatus::False, None)),
        Err(super::fold::FoldError::DevelopmentRetracted(id))
    );
}

#[test]
fn the_common_interval_of_nothing_is_everything() {
    let all = common_interval(std::iter::empty()).unwrap();
    assert_eq!((all.low, all.high), (None, None));
}

#[test]
fn an_embargo_keeps_a_story_internal_until_it_passes() {
    use super::fold::effective_visibility;
    let until = day(2030, 1, 1);
    assert_eq!(
        effective_visibility(StoryVisibility::Public, Some(until), day(2029, 12, 31)),
        StoryVisibility::Internal
    );
    assert_eq!(
        effective_visibility(StoryVisibility::Public, Some(until), until),
        StoryVisibility::Public
    );
    assert_eq!(
        effective_visibility(StoryVisibility::Internal, None, until),
        StoryVisibility::Internal
    );
    let mut s = Stream::opened();
    s.push(StoryEvent::StoryVisibilityChanged(StoryVisibilityChanged {
        schema_version: 1,
        visibility: StoryVisibility::Internal,
        embargo_until: Some(until),
    }));
    assert_eq!(
        s.fold().visibility_at(day(2031, 1, 1)),
        StoryVisibility::Internal
    );
    s.push(StoryEvent::StoryVisibilityChanged(StoryVisibilityChanged {
        schema_version: 1,
        visibility: StoryVisibility::Public,
        embargo_until: None,
    }));
    assert_eq!(
        s.fold().visibility_at(day(2029, 1, 1)),
        StoryVisibility::Public
    );
}

#[test]
fn a_range_must_hold_its_value_and_be_finite() {
    let check = |low: Option<f64>, high: Option<f64>| {
        StoryEvent::DevelopmentReported(stating(
            day(2021, 7, 1),
            vec![ranged(5.0, low, high, "police")],
        ))
        .validated()
        .map(|_| ())
        .map_err(|e| e.field)
    };
    assert_eq!(check(Some(4.0), Some(7.0)), Ok(()));
    assert_eq!(check(Some(5.0), Some(5.0)), Ok(()));
    assert_eq!(check(Some(6.0), None), Err("figures[0].low".into()));
    assert_eq!(check(None, Some(4.0)), Err("figures[0].high".into()));
    assert_eq!(
        check(Some(f64::NEG_INFINITY), None),
        Err("figures[0].low".into())
    );
    assert_eq!(check(None, Some(f64::NAN)), Err("figures[0].high".into()));
}

#[test]
fn claimants_are_trimmed_and_blank_ones_are_no_claimant() {
    let validated = StoryEvent::DevelopmentReported(stating(
        day(2021, 7, 1),
        vec![q(4.0, Exact, "  Police "), q(5.0, Exact, "   ")],
    ))
    .validated()
    .unwrap();
    let StoryEvent::DevelopmentReported(d) = validated else {
        unreachable!("validation keeps the event's type")
    };
    assert_eq!(d.figures[0].claimed_by.as_deref(), Some("Police"));
    assert_eq!(d.figures[1].claimed_by, None);
}
