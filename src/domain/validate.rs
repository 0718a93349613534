//! Payload validation and normalisation: every event passes here before it
//! is stored, so the fold can trust what it reads.
//!
//! Names (actors, speakers, places, stance parties) are trimmed and
//! otherwise kept as written.

use super::events::{
    DevelopmentCorrected, DevelopmentPatch, DevelopmentReported, DevelopmentRetracted,
    DevelopmentVerificationChanged, StoryEvent, StoryOpened, StoryStatusChanged,
    StoryVisibilityChanged,
};
use chrono::{DateTime, Datelike, SubsecRound, Timelike, Utc};

use super::model::{ActorRef, FigureInput, Location, QuoteInput, Source, Span, StanceInput};

pub const MAX_HEADLINE_CHARS: usize = 300;
pub const MAX_TITLE_CHARS: usize = 300;
pub const MAX_TEXT_CHARS: usize = 5_000;
pub const MAX_NAME_CHARS: usize = 300;
pub const MAX_URL_CHARS: usize = 2_000;
pub const MAX_SLUG_CHARS: usize = 100;
pub const MAX_LIST_ITEMS: usize = 200;
/// The largest magnitude a figure may state: every integer up to it is an
/// exact double, and it survives the round trip through PostgreSQL's
/// numbers and back (1.7976931348623157e308, accepted once, made every
/// read of its story fail).
pub const MAX_FIGURE_MAGNITUDE: f64 = 1e15;
/// Dates are years 1 to 9999: what RFC 3339 writes and PostgreSQL reads.
pub const YEARS: std::ops::RangeInclusive<i32> = 1..=9999;

/// Input that breaks a rule; the message names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct InvalidInput {
    pub field: String,
    pub message: String,
}

fn invalid(field: &str, message: impl Into<String>) -> InvalidInput {
    InvalidInput {
        field: field.to_owned(),
        message: message.into(),
    }
}

type Checked<T> = Result<T, InvalidInput>;

impl StoryEvent {
    /// The event with names trimmed, or the first rule it breaks.
    pub fn validated(self) -> Checked<StoryEvent> {
        Ok(match self {
            StoryEvent::StoryOpened(e) => StoryEvent::StoryOpened(story_opened(e)?),
            StoryEvent::DevelopmentReported(e) => {
                StoryEvent::DevelopmentReported(development_reported(e)?)
            }
            StoryEvent::DevelopmentCorrected(e) => {
                StoryEvent::DevelopmentCorrected(development_corrected(e)?)
            }
            StoryEvent::DevelopmentRetracted(e) => {
                StoryEvent::DevelopmentRetracted(DevelopmentRetracted {
                    reason: required_text("reason", e.reason, MAX_TEXT_CHARS)?,
                    ..e
                })
            }
            StoryEvent::StoryStatusChanged(e) => {
                StoryEvent::StoryStatusChanged(StoryStatusChanged {
                    reason: optional_text("reason", e.reason, MAX_TEXT_CHARS)?,
                    ..e
                })
            }
            StoryEvent::DevelopmentVerificationChanged(e) => {
                StoryEvent::DevelopmentVerificationChanged(DevelopmentVerificationChanged {
                    note: optional_text("note", e.note, MAX_TEXT_CHARS)?,
                    ..e
                })
            }
            StoryEvent::StoryVisibilityChanged(e) => {
                StoryEvent::StoryVisibilityChanged(StoryVisibilityChanged {
                    embargo_until: embargo(e.embargo_until)?,
                    ..e
                })
            }
        })
    }
}

/// A slug: lowercase letters, digits and single hyphens, 1–100 characters.
pub fn check_slug(slug: &str) -> Checked<()> {
    let well_formed = !slug.is_empty()
        && slug.len() <= MAX_SLUG_CHARS
        && slug
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !slug.starts_with('-')
        && !slug.ends_with('-')
        && !slug.contains("--");
    if well_formed {
        Ok(())
    } else {
        Err(invalid(
            "slug",
            "must be 1-100 lowercase letters, digits and single hyphens, e.g. kabul-airport-2021",
        ))
    }
}

fn story_opened(e: StoryOpened) -> Checked<StoryOpened> {
    let slug = e.slug.trim().to_owned();
    check_slug(&slug)?;
    Ok(StoryOpened {
        slug,
        title: required_text("title", e.title, MAX_TITLE_CHARS)?,
        summary: optional_text("summary", e.summary, MAX_TEXT_CHARS)?,
        topics: names("topics", e.topics)?,
        embargo_until: embargo(e.embargo_until)?,
        ..e
    })
}

fn development_reported(e: DevelopmentReported) -> Checked<DevelopmentReported> {
    Ok(DevelopmentReported {
        occurred_at: date("occurredAt", e.occurred_at)?,
        headline: required_text("headline", e.headline, MAX_HEADLINE_CHARS)?,
        summary: optional_text("summary", e.summary, MAX_TEXT_CHARS)?,
        location: e.location.map(location).transpose()?,
        actors: list("actors", e.actors, actor)?,
        quotes: list("quotes", e.quotes, quote)?,
        figures: list("figures", e.figures, figure)?,
        stances: list("stances", e.stances, stance)?,
        sources: list("sources", e.sources, source)?,
        tags: names("tags", e.tags)?,
        ..e
    })
}

fn development_corrected(e: DevelopmentCorrected) -> Checked<DevelopmentCorrected> {
    let c = e.changes;
    let changes = DevelopmentPatch {
        headline: c
            .headline
            .map(|h| required_text("changes.headline", h, MAX_HEADLINE_CHARS))
            .transpose()?,
        summary: optional_text("changes.summary", c.summary, MAX_TEXT_CHARS)?,
        occurred_at: c
            .occurred_at
            .map(|at| date("changes.occurredAt", at))
            .transpose()?,
        precision: c.precision,
        location: c.location.map(location).transpose()?,
        actors: c
            .actors
            .map(|l| list("changes.actors", l, actor))
            .transpose()?,
        quotes: c
            .quotes
            .map(|l| list("changes.quotes", l, quote))
            .transpose()?,
        figures: c
            .figures
            .map(|l| list("changes.figures", l, figure))
            .transpose()?,
        stances: c
            .stances
            .map(|l| list("changes.stances", l, stance))
            .transpose()?,
        sources: c
            .sources
            .map(|l| list("changes.sources", l, source))
            .transpose()?,
        tags: c.tags.map(|l| names("changes.tags", l)).transpose()?,
    };
    if changes == DevelopmentPatch::default() {
        return Err(invalid(
            "changes",
            "a correction must change at least one field",
        ));
    }
    Ok(DevelopmentCorrected {
        changes,
        reason: required_text("reason", e.reason, MAX_TEXT_CHARS)?,
        ..e
    })
}

/// Characters that show nothing: zero-width ones, the byte order mark,
/// and the bidi marks. A text made only of these is empty.
fn is_invisible(c: char) -> bool {
    c.is_whitespace()
        || matches!(c, '\u{200B}'..='\u{200F}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}' | '\u{061C}' | '\u{180E}')
        || is_bidi_control(c)
}

/// Overrides and isolates that make text read otherwise than it is stored.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Control characters other than tab and newline (C0, DEL and C1).
fn is_refused_control(c: char) -> bool {
    c.is_control() && c != '\t' && c != '\n'
}

fn required_text(field: &str, text: String, max: usize) -> Checked<String> {
    let trimmed = text.trim();
    if trimmed.chars().all(is_invisible) {
        return Err(invalid(field, "must not be empty"));
    }
    if trimmed.contains('\0') {
        return Err(invalid(
            field,
            "must not contain U+0000 (the NUL character)",
        ));
    }
    if trimmed
        .chars()
        .any(|c| is_refused_control(c) || is_bidi_control(c))
    {
        return Err(invalid(
            field,
            "must not contain control characters (other than tab and newline) or bidi overrides",
        ));
    }
    let chars = trimmed.chars().count();
    if chars > max {
        return Err(invalid(
            field,
            format!("is {chars} characters; at most {max} are allowed"),
        ));
    }
    Ok(trimmed.to_owned())
}

fn optional_text(field: &str, text: Option<String>, max: usize) -> Checked<Option<String>> {
    match text {
        Some(t) if t.trim().chars().all(is_invisible) => Ok(None),
        Some(t) => required_text(field, t, max).map(Some),
        None => Ok(None),
    }
}

fn name(field: &str, text: String) -> Checked<String> {
    required_text(field, text, MAX_NAME_CHARS)
}

fn optional_name(field: &str, text: Option<String>) -> Checked<Option<String>> {
    optional_text(field, text, MAX_NAME_CHARS)
}

fn list<T>(field: &str, items: Vec<T>, check: impl Fn(&str, T) -> Checked<T>) -> Checked<Vec<T>> {
    if items.len() > MAX_LIST_ITEMS {
        return Err(invalid(
            field,
            format!(
                "has {} items; at most {MAX_LIST_ITEMS} are allowed",
                items.len()
            ),
        ));
    }
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| check(&format!("{field}[{i}]"), item))
        .collect()
}

fn names(field: &str, items: Vec<String>) -> Checked<Vec<String>> {
    list(field, items, name)
}

fn figure_number(field: &str, value: f64) -> Checked<f64> {
    if value.is_finite() && value.abs() <= MAX_FIGURE_MAGNITUDE {
        Ok(value)
    } else {
        Err(invalid(
            field,
            format!("must be a finite number between -{MAX_FIGURE_MAGNITUDE:e} and {MAX_FIGURE_MAGNITUDE:e}"),
        ))
    }
}

/// A date at what PostgreSQL keeps: microseconds, and no leap second (one
/// is folded into the last microsecond of its minute), so that the stored
/// event and its fold name the same instant and `verify` agrees with both.
fn date(field: &str, at: DateTime<Utc>) -> Checked<DateTime<Utc>> {
    if !YEARS.contains(&at.year()) {
        return Err(invalid(field, "must fall in the years 1 to 9999"));
    }
    let at = if at.nanosecond() >= 1_000_000_000 {
        at.with_nanosecond(999_999_000).unwrap_or(at)
    } else {
        at
    };
    Ok(at.trunc_subsecs(6))
}

/// An embargo's end, at the microseconds PostgreSQL keeps: the story row
/// and the fold of its event must name the same instant.
fn embargo(until: Option<DateTime<Utc>>) -> Checked<Option<DateTime<Utc>>> {
    until
        .map(|at| date("embargoUntil", at.trunc_subsecs(6)))
        .transpose()
}

fn in_range(field: &str, value: Option<f64>, limit: f64) -> Checked<Option<f64>> {
    match value {
        Some(v) if !v.is_finite() || v.abs() > limit => Err(invalid(
            field,
            format!("must lie between -{limit} and {limit}"),
        )),
        other => Ok(other),
    }
}

fn location(l: Location) -> Checked<Location> {
    Ok(Location {
        name: name("location.name", l.name)?,
        country: optional_name("location.country", l.country)?,
        latitude: in_range("location.latitude", l.latitude, 90.0)?,
        longitude: in_range("location.longitude", l.longitude, 180.0)?,
    })
}

fn actor(field: &str, a: ActorRef) -> Checked<ActorRef> {
    Ok(ActorRef {
        name: name(&format!("{field}.name"), a.name)?,
        role: optional_name(&format!("{field}.role"), a.role)?,
        ..a
    })
}

fn quote(field: &str, q: QuoteInput) -> Checked<QuoteInput> {
    Ok(QuoteInput {
        speaker: name(&format!("{field}.speaker"), q.speaker)?,
        speaker_role: optional_name(&format!("{field}.speakerRole"), q.speaker_role)?,
        text: required_text(&format!("{field}.text"), q.text, MAX_TEXT_CHARS)?,
    })
}

fn figure(field: &str, f: FigureInput) -> Checked<FigureInput> {
    let value = figure_number(&format!("{field}.value"), f.value)?;
    let low = f
        .low
        .map(|low| figure_number(&format!("{field}.low"), low))
        .transpose()?;
    let high = f
        .high
        .map(|high| figure_number(&format!("{field}.high"), high))
        .transpose()?;
    if low.is_some_and(|low| low > value) {
        return Err(invalid(
            &format!("{field}.low"),
            "must not exceed value (low <= value <= high)",
        ));
    }
    if high.is_some_and(|high| high < value) {
        return Err(invalid(
            &format!("{field}.high"),
            "must not be below value (low <= value <= high)",
        ));
    }
    Ok(FigureInput {
        metric: name(&format!("{field}.metric"), f.metric)?,
        value,
        unit: optional_name(&format!("{field}.unit"), f.unit)?,
        place: optional_name(&format!("{field}.place"), f.place)?,
        claimed_by: optional_name(&format!("{field}.claimedBy"), f.claimed_by)?,
        low,
        high,
        ..f
    })
}

fn stance(field: &str, s: StanceInput) -> Checked<StanceInput> {
    Ok(StanceInput {
        actor: name(&format!("{field}.actor"), s.actor)?,
        target: name(&format!("{field}.target"), s.target)?,
        summary: optional_text(&format!("{field}.summary"), s.summary, MAX_TEXT_CHARS)?,
        ..s
    })
}

fn source(field: &str, s: Source) -> Checked<Source> {
    let url = optional_text(&format!("{field}.url"), s.url, MAX_URL_CHARS)?;
    if let Some(url) = &url {
        web_url(&format!("{field}.url"), url)?;
    }
    Ok(Source {
        name: name(&format!("{field}.name"), s.name)?,
        url,
        published_at: s
            .published_at
            .map(|at| date(&format!("{field}.publishedAt"), at))
            .transpose()?,
        kind: s.kind,
        spans: spans(field, s.report_id.is_some(), s.spans)?,
        report_id: s.report_id,
    })
}

/// A URL anyone may follow: http or https. Any other scheme (javascript:,
/// data:, file:) could run or read something where the URL becomes a link.
pub fn web_url(field: &str, url: &str) -> Checked<()> {
    let lower = url.trim().to_ascii_lowercase();
    let has_host = lower
        .split_once("://")
        .is_some_and(|(_, rest)| !rest.is_empty() && !rest.starts_with('/'));
    if (lower.starts_with("http://") || lower.starts_with("https://")) && has_host {
        Ok(())
    } else {
        Err(invalid(field, "must be an http or https URL"))
    }
}

/// Spans need the report they point into; its length is checked where the
/// report is read (the API), the rest here.
fn spans(field: &str, cites_report: bool, spans: Vec<Span>) -> Checked<Vec<Span>> {
    if spans.is_empty() {
        return Ok(spans);
    }
    if !cites_report {
        return Err(invalid(&format!("{field}.spans"), "spans need a reportId"));
    }
    if spans.len() > MAX_LIST_ITEMS {
        return Err(invalid(
            &format!("{field}.spans"),
            format!("at most {MAX_LIST_ITEMS} spans are allowed"),
        ));
    }
    if let Some(bad) = spans.iter().find(|s| s.start >= s.end) {
        return Err(invalid(
            &format!("{field}.spans"),
            format!(
                "a span must start before it ends ({}..{})",
                bad.start, bad.end
            ),
        ));
    }
    Ok(spans)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::model::ActorKind;
    use chrono::TimeZone;

    fn reported(headline: &str) -> DevelopmentReported {
        let occurred_at = chrono::Utc.with_ymd_and_hms(2021, 7, 13, 0, 0, 0).unwrap();
        DevelopmentReported::new(uuid::Uuid::now_v7(), headline, occurred_at)
    }

    fn check(e: DevelopmentReported) -> Checked<StoryEvent> {
        StoryEvent::DevelopmentReported(e).validated()
    }

    fn with_figure(value: f64) -> DevelopmentReported {
        let mut e = reported("h");
        e.figures = vec![FigureInput {
            metric: "killed".into(),
            value,
            qualifier: Default::default(),
            unit: None,
            place: None,
            claimed_by: None,
            low: None,
            high: None,
        }];
        e
    }

    #[test]
    fn figures_beyond_the_stored_number_bound_are_refused() {
        for value in [
            1.797_693_134_862_315_7e308,
            1e16,
            -1e16,
            f64::NAN,
            f64::INFINITY,
        ] {
            let refused = check(with_figure(value)).unwrap_err();
            assert_eq!(refused.field, "figures[0].value", "{value}");
        }
        assert!(check(with_figure(MAX_FIGURE_MAGNITUDE)).is_ok());
        assert!(check(with_figure(-MAX_FIGURE_MAGNITUDE)).is_ok());
        assert!(check(with_figure(3.5)).is_ok());
    }

    #[test]
    fn dates_before_year_1_or_after_9999_are_refused() {
        let year_zero = chrono::Utc.with_ymd_and_hms(0, 7, 1, 0, 0, 0).unwrap();
        let mut e = reported("h");
        e.occurred_at = year_zero;
        assert_eq!(check(e).unwrap_err().field, "occurredAt");
        let mut e = reported("h");
        e.sources = vec![Source {
            name: "Wire".into(),
            url: None,
            published_at: Some(chrono::Utc.with_ymd_and_hms(-5, 1, 1, 0, 0, 0).unwrap()),
            kind: None,
            report_id: None,
            spans: vec![],
        }];
        assert_eq!(check(e).unwrap_err().field, "sources[0].publishedAt");
        let correction = StoryEvent::DevelopmentCorrected(DevelopmentCorrected {
            schema_version: 1,
            development_id: uuid::Uuid::now_v7(),
            changes: DevelopmentPatch {
                occurred_at: Some(year_zero),
                ..DevelopmentPatch::default()
            },
            reason: "date".into(),
        });
        assert_eq!(
            correction.validated().unwrap_err().field,
            "changes.occurredAt"
        );
        let mut e = reported("h");
        e.occurred_at = chrono::Utc.with_ymd_and_hms(1, 1, 1, 0, 0, 0).unwrap();
        assert!(check(e).is_ok());
    }

    #[test]
    fn text_with_a_nul_character_is_refused_where_it_is() {
        assert_eq!(
            check(reported("Deal\0struck")).unwrap_err().field,
            "headline"
        );
        let mut e = reported("h");
        e.tags = vec!["ok".into(), "b\0d".into()];
        assert_eq!(check(e).unwrap_err().field, "tags[1]");
    }

    #[test]
    fn source_urls_are_http_or_https_and_nothing_else() {
        for bad in [
            "javascript:alert(1)",
            "  JaVaScRiPt:alert(1)",
            "data:text/html,x",
            "file:///etc/passwd",
            "//evil.example",
            "https://",
        ] {
            let mut e = reported("h");
            e.sources = vec![Source {
                name: "Wire".into(),
                url: Some(bad.into()),
                published_at: None,
                kind: None,
                report_id: None,
                spans: vec![],
            }];
            assert_eq!(check(e).unwrap_err().field, "sources[0].url", "{bad}");
        }
        let mut e = reported("h");
        e.sources = vec![Source {
            name: "Wire".into(),
            url: Some("HTTPS://example.org/a".into()),
            published_at: None,
            kind: None,
            report_id: None,
            spans: vec![],
        }];
        assert!(check(e).is_ok());
    }

    #[test]
    fn invisible_text_is_empty_and_controls_and_bidi_overrides_are_refused() {
        for empty in ["\u{200B}\u{FEFF}", "\u{200E}\u{2060}", " \u{00A0}\u{200B} "] {
            assert_eq!(
                check(reported(empty)).unwrap_err().message,
                "must not be empty",
                "{empty:?}"
            );
        }
        for refused in [
            "a\u{202E}b",
            "bell\u{0007}",
            "c1\u{0085}x",
            "cr\rlf",
            "iso\u{2066}late",
        ] {
            assert_eq!(
                check(reported(refused)).unwrap_err().field,
                "headline",
                "{refused:?}"
            );
        }
        let mut fine = reported("tab\there");
        fine.summary = Some("two\nlines".into());
        assert!(check(fine).is_ok());
    }

    #[test]
    fn dates_keep_microseconds_and_fold_a_leap_second() {
        let mut e = reported("h");
        e.occurred_at = "2016-12-31T23:59:59.123456789Z".parse().unwrap();
        let StoryEvent::DevelopmentReported(checked) = check(e).unwrap() else {
            unreachable!()
        };
        assert_eq!(
            checked.occurred_at.to_rfc3339(),
            "2016-12-31T23:59:59.123456+00:00"
        );
        let mut leap = reported("h");
        leap.occurred_at = chrono::NaiveDate::from_ymd_opt(2016, 12, 31)
            .unwrap()
            .and_hms_nano_opt(23, 59, 59, 1_500_000_000)
            .unwrap()
            .and_utc();
        let StoryEvent::DevelopmentReported(checked) = check(leap).unwrap() else {
            unreachable!()
        };
        assert_eq!(checked.occurred_at.nanosecond(), 999_999_000);
    }

    #[test]
    fn headline_must_have_1_to_300_characters() {
        assert!(check(reported("  ")).is_err());
        assert!(check(reported(&"x".repeat(300))).is_ok());
        let too_long = check(reported(&"x".repeat(301))).unwrap_err();
        assert_eq!(too_long.field, "headline");
    }

    #[test]
    fn summaries_and_quotes_are_capped_at_5000_characters() {
        let mut e = reported("h");
        e.summary = Some("s".repeat(5_001));
        assert_eq!(check(e).unwrap_err().field, "summary");
        let mut e = reported("h");
        e.quotes = vec![QuoteInput {
            speaker: "Kirby".into(),
            speaker_role: None,
            text: "q".repeat(5_001),
        }];
        assert_eq!(check(e).unwrap_err().field, "quotes[0].text");
    }

    #[test]
    fn lists_hold_at_most_200_items() {
        let mut e = reported("h");
        e.tags = vec!["t".into(); 201];
        assert_eq!(check(e).unwrap_err().field, "tags");
    }

    #[test]
    fn figures_must_be_finite_and_coordinates_on_earth() {
        let mut e = reported("h");
        e.figures = vec![FigureInput {
            metric: "killed".into(),
            value: f64::NAN,
            qualifier: Default::default(),
            unit: None,
            place: None,
            claimed_by: None,
            low: None,
            high: None,
        }];
        assert_eq!(check(e).unwrap_err().field, "figures[0].value");
        let mut e = reported("h");
        e.location = Some(Location {
            name: "Kabul".into(),
            country: None,
            latitude: Some(91.0),
            longitude: None,
        });
        assert_eq!(check(e).unwrap_err().field, "location.latitude");
    }

    #[test]
    fn names_are_trimmed_and_otherwise_kept() {
        let mut e = reported("  Bomb in Kabul ");
        e.actors = vec![ActorRef {
            name: "  United States ".into(),
            kind: ActorKind::Country,
            role: None,
        }];
        let StoryEvent::DevelopmentReported(e) = check(e).unwrap() else {
            unreachable!()
        };
        assert_eq!(e.headline, "Bomb in Kabul");
        assert_eq!(e.actors[0].name, "United States");
    }

    #[test]
    fn slugs_are_lowercase_words_joined_by_hyphens() {
        assert!(check_slug("kabul-airport-2021").is_ok());
        for bad in [
            "",
            "Kabul",
            "kabul airport",
            "-kabul",
            "kabul-",
            "kabul--airport",
        ] {
            assert!(check_slug(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn an_empty_correction_is_refused() {
        let e = DevelopmentCorrected {
            schema_version: 1,
            development_id: uuid::Uuid::now_v7(),
            changes: DevelopmentPatch::default(),
            reason: "typo".into(),
        };
        let error = StoryEvent::DevelopmentCorrected(e).validated().unwrap_err();
        assert_eq!(error.field, "changes");
    }
}
