//! A story's state as files a desk takes elsewhere: TimelineJS's JSON, a
//! CSV of developments (RFC 4180) and GeoJSON points (RFC 7946). Pure: the
//! state comes from the same fold the API serves, and each file is stamped
//! with the cut it shows.

use chrono::{DateTime, Datelike, Timelike, Utc};
use serde_json::{json, Map, Value};

use crate::domain::model::{TimePrecision, VerificationStatus};
use crate::domain::view::{Development, StoryState};

/// Where a file was cut on the two time axes; `None` is no cut.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cut {
    pub at: Option<DateTime<Utc>>,
    pub known_at: Option<DateTime<Utc>>,
}

impl Cut {
    /// The cut as the export files stamp it.
    fn stamp(&self, slug: &str, state: &StoryState) -> Value {
        json!({
            "slug": slug,
            "version": state.version.0,
            "at": self.at.map(|t| t.to_rfc3339()),
            "knownAt": self.known_at.map(|t| t.to_rfc3339()),
        })
    }

    /// Words for the cut, for a title: "as it stood on … as known on …".
    fn describe(&self) -> String {
        let mut words = Vec::new();
        if let Some(at) = self.at {
            words.push(format!("as it stood at {}", at.to_rfc3339()));
        }
        if let Some(known_at) = self.known_at {
            words.push(format!("as known at {}", known_at.to_rfc3339()));
        }
        if words.is_empty() {
            "as known now".into()
        } else {
            words.join(", ")
        }
    }
}

/// An enum value as the contract spells it: what serde writes for it, so
/// the names live in one place (`domain::model`).
fn contract_name(value: impl serde::Serialize) -> String {
    match serde_json::to_value(value) {
        Ok(Value::String(name)) => name,
        _ => String::new(),
    }
}

/// A TimelineJS date at the development's precision: a MONTH development
/// has no day, so TimelineJS shows "July 2021".
fn timeline_date(at: DateTime<Utc>, p: TimePrecision) -> Value {
    let mut date = Map::new();
    date.insert("year".into(), at.year().to_string().into());
    if p != TimePrecision::Year {
        date.insert("month".into(), at.month().to_string().into());
    }
    if matches!(p, TimePrecision::Day | TimePrecision::Instant) {
        date.insert("day".into(), at.day().to_string().into());
    }
    if p == TimePrecision::Instant {
        date.insert("hour".into(), at.hour().to_string().into());
        date.insert("minute".into(), at.minute().to_string().into());
        date.insert("second".into(), at.second().to_string().into());
    }
    Value::Object(date)
}

/// Text that is safe inside TimelineJS's HTML text fields.
fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn timeline_event(d: &Development) -> Value {
    let mut text = d.summary.as_deref().map(escape_html).unwrap_or_default();
    if d.verification != VerificationStatus::Unverified {
        text.push_str(&format!(" <em>[{}]</em>", contract_name(d.verification)));
    }
    let mut event = json!({
        "unique_id": d.id.to_string(),
        "start_date": timeline_date(d.occurred_at, d.precision),
        "text": { "headline": escape_html(&d.headline), "text": text.trim() },
    });
    // TimelineJS makes the media URL a link and renders the group as HTML.
    let web_source = d.sources.iter().find(|s| {
        s.url
            .as_deref()
            .is_some_and(|u| crate::domain::validate::web_url("url", u).is_ok())
    });
    if let Some(source) = web_source {
        event["media"] = json!({ "url": source.url, "caption": escape_html(&source.name) });
    }
    if let Some(tag) = d.tags.first() {
        event["group"] = escape_html(tag).into();
    }
    event
}

/// The story in TimelineJS's JSON format; the cut is in the title slide and
/// in a `storyline` member TimelineJS ignores.
pub fn timeline_json(slug: &str, title: &str, state: &StoryState, cut: Cut) -> Value {
    let summary = state
        .summary
        .as_deref()
        .map(escape_html)
        .unwrap_or_default();
    json!({
        "title": {
            "text": {
                "headline": escape_html(title),
                "text": format!("{summary} <p><small>storyline: {}, version {}</small></p>",
                                escape_html(&cut.describe()), state.version.0).trim().to_owned(),
            }
        },
        "events": state.developments.iter().map(timeline_event).collect::<Vec<_>>(),
        "storyline": cut.stamp(slug, state),
    })
}

/// The CSV columns, in order. The cut is on every row, so that a row copied
/// elsewhere still says what it was cut from.
pub const CSV_COLUMNS: [&str; 19] = [
    "development_id",
    "occurred_at",
    "precision",
    "headline",
    "summary",
    "verification",
    "location",
    "country",
    "latitude",
    "longitude",
    "actors",
    "tags",
    "sources",
    "reported_in_version",
    "reported_at",
    "corrected_in_versions",
    "cut_at",
    "cut_known_at",
    "story_version",
];

/// A text cell a spreadsheet will not run: one that begins with `=`, `+`,
/// `-`, `@`, a tab or a carriage return gets a leading `'` (OWASP's rule for
/// CSV injection). Numbers and dates are written as they are.
fn spreadsheet_safe(text: String) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text
    }
}

/// One row per development of the timeline, RFC 4180 (CRLF line ends,
/// fields quoted where they must be).
pub fn developments_csv(state: &StoryState, cut: Cut) -> Result<Vec<u8>, csv::Error> {
    let mut out = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    out.write_record(CSV_COLUMNS)?;
    let stamp = |t: Option<DateTime<Utc>>| t.map(|t| t.to_rfc3339()).unwrap_or_default();
    for d in &state.developments {
        let location = d.location.as_ref();
        let number = |n: Option<f64>| n.map(|n| n.to_string()).unwrap_or_default();
        let names: Vec<&str> = d.actors.iter().map(|a| a.name.as_str()).collect();
        let sources: Vec<String> = d
            .sources
            .iter()
            .map(|s| match &s.url {
                Some(url) if crate::domain::validate::web_url("url", url).is_ok() => {
                    format!("{} <{url}>", s.name)
                }
                _ => s.name.clone(),
            })
            .collect();
        let corrected: Vec<String> = d
            .corrected_in_versions
            .iter()
            .map(|v| v.0.to_string())
            .collect();
        out.write_record([
            d.id.to_string(),
            d.occurred_at.to_rfc3339(),
            contract_name(d.precision),
            spreadsheet_safe(d.headline.clone()),
            spreadsheet_safe(d.summary.clone().unwrap_or_default()),
            contract_name(d.verification),
            spreadsheet_safe(location.map(|l| l.name.clone()).unwrap_or_default()),
            spreadsheet_safe(location.and_then(|l| l.country.clone()).unwrap_or_default()),
            number(location.and_then(|l| l.latitude)),
            number(location.and_then(|l| l.longitude)),
            spreadsheet_safe(names.join("; ")),
            spreadsheet_safe(d.tags.join("; ")),
            spreadsheet_safe(sources.join("; ")),
            d.reported_in_version.0.to_string(),
            d.reported_at.to_rfc3339(),
            corrected.join(" "),
            stamp(cut.at),
            stamp(cut.known_at),
            state.version.0.to_string(),
        ])?;
    }
    out.into_inner().map_err(|e| e.into_error().into())
}

/// Developments with coordinates as Point features; the cut in a
/// `storyline` foreign member.
pub fn developments_geojson(slug: &str, state: &StoryState, cut: Cut) -> Value {
    let features: Vec<Value> = state
        .developments
        .iter()
        .filter_map(|d| {
            let location = d.location.as_ref()?;
            let (latitude, longitude) = (location.latitude?, location.longitude?);
            Some(json!({
                "type": "Feature",
                "id": d.id.to_string(),
                "geometry": { "type": "Point", "coordinates": [longitude, latitude] },
                "properties": {
                    "headline": d.headline,
                    "occurredAt": d.occurred_at.to_rfc3339(),
                    "precision": contract_name(d.precision),
                    "verification": contract_name(d.verification),
                    "location": location.name,
                    "country": location.country,
                },
            }))
        })
        .collect();
    json!({
        "type": "FeatureCollection",
        "features": features,
        "storyline": cut.stamp(slug, state),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::model::{Location, Source};
    use crate::domain::{StoryId, Version};

    fn development(headline: &str, p: TimePrecision) -> Development {
        Development {
            id: uuid::Uuid::nil(),
            headline: headline.into(),
            summary: Some("said \"no\", twice,\nthen left".into()),
            occurred_at: "2021-07-13T09:30:00Z".parse().unwrap(),
            precision: p,
            location: Some(Location {
                name: "Kabul".into(),
                country: Some("Afghanistan".into()),
                latitude: Some(34.5),
                longitude: Some(69.2),
            }),
            actors: vec![],
            quotes: vec![],
            figures: vec![],
            stances: vec![],
            sources: vec![Source {
                name: "Wire".into(),
                url: Some("https://example.org/a".into()),
                published_at: None,
                kind: None,
                report_id: None,
                spans: vec![],
            }],
            tags: vec!["violence".into()],
            reported_in_version: Version(2),
            corrected_in_versions: vec![],
            reported_at: "2026-01-01T00:00:00Z".parse().unwrap(),
            verification: VerificationStatus::Confirmed,
            verification_history: vec![],
        }
    }

    fn state(developments: Vec<Development>) -> StoryState {
        StoryState {
            story_id: StoryId(uuid::Uuid::nil()),
            title: "T".into(),
            summary: None,
            topics: vec![],
            status: Default::default(),
            version: Version(5),
            at: None,
            known_at: None,
            developments,
            retracted: vec![],
            actors: vec![],
            figures: vec![],
            quotes: vec![],
            figure_claims: vec![],
        }
    }

    #[test]
    fn csv_cells_a_spreadsheet_would_run_get_a_leading_quote() {
        let mut d = development("=HYPERLINK(\"http://evil\")", TimePrecision::Day);
        d.summary = None;
        d.tags = vec!["@SUM(1)".into()];
        d.location = Some(Location {
            name: "+cmd".into(),
            country: Some("-1+1".into()),
            latitude: Some(-12.5),
            longitude: Some(-77.0),
        });
        let csv = developments_csv(
            &state(vec![d]),
            Cut {
                at: None,
                known_at: None,
            },
        )
        .unwrap();
        let text = String::from_utf8(csv).unwrap();
        let row = text.lines().nth(1).unwrap();
        assert!(
            row.contains("\"'=HYPERLINK(\"\"http://evil\"\")\""),
            "{row}"
        );
        assert!(
            row.contains(",'@SUM(1),") && row.contains(",'+cmd,") && row.contains(",'-1+1,"),
            "{row}"
        );
        assert!(row.contains(",-12.5,-77,"), "numbers stay numbers: {row}");
    }

    #[test]
    fn timelinejs_escapes_its_group_and_links_only_web_urls() {
        let mut d = development("h", TimePrecision::Day);
        d.tags = vec!["<img src=x onerror=alert(1)>".into()];
        d.sources[0].url = Some("javascript:alert(1)".into());
        let timeline = timeline_json(
            "slug",
            "T",
            &state(vec![d]),
            Cut {
                at: None,
                known_at: None,
            },
        );
        let event = &timeline["events"][0];
        assert_eq!(event["group"], "&lt;img src=x onerror=alert(1)&gt;");
        assert!(event.get("media").is_none(), "{event}");
    }

    #[test]
    fn timeline_dates_keep_only_what_the_precision_knows() {
        let at: DateTime<Utc> = "2021-07-13T09:30:00Z".parse().unwrap();
        assert_eq!(
            timeline_date(at, TimePrecision::Month),
            json!({"year": "2021", "month": "7"})
        );
        assert_eq!(
            timeline_date(at, TimePrecision::Year),
            json!({"year": "2021"})
        );
        assert_eq!(
            timeline_date(at, TimePrecision::Instant),
            json!({"year": "2021", "month": "7", "day": "13", "hour": "9", "minute": "30", "second": "0"})
        );
    }

    #[test]
    fn csv_quotes_commas_quotes_and_line_breaks_and_stamps_every_row() {
        let cut = Cut {
            at: Some("2021-07-10T00:00:00Z".parse().unwrap()),
            known_at: None,
        };
        let csv = developments_csv(
            &state(vec![development("A, \"B\"", TimePrecision::Day)]),
            cut,
        )
        .unwrap();
        let text = String::from_utf8(csv).unwrap();
        let lines: Vec<&str> = text.split("\r\n").collect();
        assert_eq!(lines[0], CSV_COLUMNS.join(","));
        assert!(text.contains("\"A, \"\"B\"\"\""), "{text}");
        assert!(
            text.contains("\"said \"\"no\"\", twice,\nthen left\""),
            "{text}"
        );
        assert!(text.contains(",2021-07-10T00:00:00+00:00,,5\r\n"), "{text}");
    }

    #[test]
    fn geojson_points_are_longitude_then_latitude() {
        let mut unplaced = development("nowhere", TimePrecision::Day);
        unplaced.location = None;
        let geo = developments_geojson(
            "s",
            &state(vec![development("here", TimePrecision::Day), unplaced]),
            Cut::default(),
        );
        assert_eq!(geo["features"].as_array().unwrap().len(), 1);
        assert_eq!(
            geo["features"][0]["geometry"]["coordinates"],
            json!([69.2, 34.5])
        );
        assert_eq!(geo["storyline"]["version"], 5);
    }

    #[test]
    fn timeline_text_is_escaped_and_carries_the_verdict() {
        let timeline = timeline_json(
            "s",
            "<b>T</b>",
            &state(vec![development("x < y", TimePrecision::Month)]),
            Cut::default(),
        );
        assert_eq!(
            timeline["title"]["text"]["headline"],
            "&lt;b&gt;T&lt;/b&gt;"
        );
        assert_eq!(timeline["events"][0]["text"]["headline"], "x &lt; y");
        assert!(timeline["events"][0]["text"]["text"]
            .as_str()
            .unwrap()
            .contains("[CONFIRMED]"));
        assert_eq!(
            timeline["events"][0]["media"]["url"],
            "https://example.org/a"
        );
    }
}
