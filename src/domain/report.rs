//! A report as it reached the desk, made ready to keep (DESIGN §11): its
//! format read (plain text, an HTML page, a ninjs document), its text in the
//! normal form, its identity, and every rule it must meet. Pure.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::extract::normal_form;
use super::model::SourceKind;
use super::validate::{InvalidInput, MAX_NAME_CHARS, MAX_TITLE_CHARS, MAX_URL_CHARS};

/// The most a report's body may hold, in bytes.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ReportFormat {
    #[default]
    Text,
    Html,
    Ninjs,
}

impl ReportFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            ReportFormat::Text => "TEXT",
            ReportFormat::Html => "HTML",
            ReportFormat::Ninjs => "NINJS",
        }
    }

    pub fn parse(text: &str) -> Option<ReportFormat> {
        match text {
            "TEXT" => Some(ReportFormat::Text),
            "HTML" => Some(ReportFormat::Html),
            "NINJS" => Some(ReportFormat::Ninjs),
            _ => None,
        }
    }
}

/// A report as submitted: the body and whatever fields the caller gives,
/// which win over those read from the body.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReportSubmission {
    pub body: String,
    pub format: ReportFormat,
    pub uri: Option<String>,
    pub version: Option<i32>,
    pub title: Option<String>,
    pub publisher: Option<String>,
    pub source_kind: Option<SourceKind>,
    pub url: Option<String>,
    pub byline: Option<String>,
    pub dateline: Option<String>,
    pub language: Option<String>,
    pub published_at: Option<DateTime<Utc>>,
    pub feed: Option<String>,
}

/// A report ready to keep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PreparedReport {
    pub uri: Option<String>,
    pub version: i32,
    pub format: ReportFormat,
    pub body: String,
    pub text: String,
    pub content_hash: String,
    pub title: Option<String>,
    pub publisher: Option<String>,
    pub source_kind: Option<SourceKind>,
    pub url: Option<String>,
    pub byline: Option<String>,
    pub dateline: Option<String>,
    pub language: Option<String>,
    pub published_at: Option<DateTime<Utc>>,
    pub feed: Option<String>,
}

/// A report as `export` writes it and `import` reads it: whole, with its
/// id, time of receipt and submitter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportedReport {
    pub id: uuid::Uuid,
    pub received_at: DateTime<Utc>,
    pub principal: String,
    #[serde(flatten)]
    pub report: PreparedReport,
}

impl ExportedReport {
    /// The record, if its text is in normal form and its hash is its
    /// text's (an export is read back exactly, not extracted again).
    pub fn checked(self) -> Result<ExportedReport, InvalidInput> {
        let r = &self.report;
        if r.text.is_empty() || r.text.contains('\0') || normal_form(&r.text) != r.text {
            return Err(invalid(
                "report.text",
                "must be non-empty text in normal form",
            ));
        }
        if content_hash(&r.text) != r.content_hash {
            return Err(invalid(
                "report.contentHash",
                "is not the SHA-256 of the text",
            ));
        }
        if r.version < 1 || r.body.len() > MAX_BODY_BYTES || r.body.contains('\0') {
            return Err(invalid(
                "report",
                "version must be at least 1 and the body at most 1 MiB, without NUL",
            ));
        }
        if let Some(url) = &r.url {
            check_web_url("report.url", url)?;
        }
        Ok(self)
    }
}

/// A dismissal as kept: who set the report aside, when and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Dismissal {
    pub id: uuid::Uuid,
    pub report_id: uuid::Uuid,
    pub reason: String,
    pub principal: String,
    pub dismissed_at: DateTime<Utc>,
}

fn invalid(field: &str, message: impl Into<String>) -> InvalidInput {
    InvalidInput {
        field: field.to_owned(),
        message: message.into(),
    }
}

/// Lower-case hex SHA-256 of the text as UTF-8.
pub fn content_hash(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Fields read from the body (a ninjs document's, or an HTML page's title).
#[derive(Debug, Default)]
struct BodyFields {
    text: String,
    uri: Option<String>,
    version: Option<i32>,
    title: Option<String>,
    byline: Option<String>,
    dateline: Option<String>,
    language: Option<String>,
    published_at: Option<DateTime<Utc>>,
}

impl ReportSubmission {
    /// The report as it will be kept, or the first rule it breaks.
    pub fn prepare(self) -> Result<PreparedReport, InvalidInput> {
        if self.body.len() > MAX_BODY_BYTES {
            return Err(invalid(
                "body",
                format!(
                    "is {} bytes; at most {MAX_BODY_BYTES} (1 MiB) are allowed",
                    self.body.len()
                ),
            ));
        }
        if self.body.contains('\0') {
            return Err(invalid(
                "body",
                "must not contain U+0000 (the NUL character)",
            ));
        }
        let read = match self.format {
            ReportFormat::Text => BodyFields {
                text: normal_form(&self.body),
                ..BodyFields::default()
            },
            ReportFormat::Html => html_fields(&self.body),
            ReportFormat::Ninjs => ninjs_fields(&self.body)?,
        };
        if read.text.is_empty() {
            return Err(invalid("body", "has no text once extracted"));
        }
        let version = self.version.or(read.version).unwrap_or(1);
        if version < 1 {
            return Err(invalid("version", "must be at least 1"));
        }
        let url = optional("url", self.url, MAX_URL_CHARS)?;
        if let Some(url) = &url {
            check_web_url("url", url)?;
        }
        Ok(PreparedReport {
            uri: optional("uri", self.uri.or(read.uri), MAX_URL_CHARS)?,
            version,
            format: self.format,
            content_hash: content_hash(&read.text),
            text: read.text,
            body: self.body,
            title: optional("title", self.title.or(read.title), MAX_TITLE_CHARS)?,
            publisher: optional("publisher", self.publisher, MAX_NAME_CHARS)?,
            source_kind: self.source_kind,
            url,
            byline: optional("byline", self.byline.or(read.byline), MAX_NAME_CHARS)?,
            dateline: optional("dateline", self.dateline.or(read.dateline), MAX_NAME_CHARS)?,
            language: optional("language", self.language.or(read.language), 35)?,
            published_at: self.published_at.or(read.published_at),
            feed: optional("feed", self.feed, MAX_NAME_CHARS)?,
        })
    }
}

/// Trimmed, blank as absent, NUL and over-long refused.
fn optional(field: &str, text: Option<String>, max: usize) -> Result<Option<String>, InvalidInput> {
    let Some(text) = text else { return Ok(None) };
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Ok(None);
    }
    if trimmed.contains('\0') {
        return Err(invalid(
            field,
            "must not contain U+0000 (the NUL character)",
        ));
    }
    let chars = trimmed.chars().count();
    if chars > max {
        return Err(invalid(
            field,
            format!("is {chars} characters; at most {max} are allowed"),
        ));
    }
    Ok(Some(trimmed.to_owned()))
}

/// Only http and https URLs are kept: anything else could run as script
/// where a URL becomes a link.
pub fn check_web_url(field: &str, url: &str) -> Result<(), InvalidInput> {
    super::validate::web_url(field, url)
}

/// An HTML page's article text (readability, boilerplate dropped) and title.
fn html_fields(html: &str) -> BodyFields {
    let config = dom_smoothie::Config {
        text_mode: dom_smoothie::TextMode::Formatted,
        ..dom_smoothie::Config::default()
    };
    let article =
        dom_smoothie::Readability::new(html, None, Some(config)).and_then(|mut r| r.parse());
    match article {
        Ok(article) => BodyFields {
            text: normal_form(&article.text_content),
            title: Some(article.title).filter(|t| !t.trim().is_empty()),
            byline: article.byline,
            ..BodyFields::default()
        },
        Err(_) => BodyFields {
            text: fragment_text(html),
            ..BodyFields::default()
        },
    }
}

/// The text of an HTML fragment (a ninjs body_html): too short for
/// readability to take it for an article, its paragraphs kept apart.
fn fragment_text(html: &str) -> String {
    normal_form(&paragraphs_of_fragment(html))
}

fn paragraphs_of_fragment(html: &str) -> String {
    let document = dom_query::Document::from(html);
    document
        .select("script, style, noscript, template")
        .remove();
    let blocks = document.select("p, h1, h2, h3, h4, li, blockquote, pre");
    if blocks.length() == 0 {
        return document.select("body").text().to_string();
    }
    blocks
        .iter()
        .map(|b| b.text().to_string())
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// A ninjs document of version 1.x, 2.x or 3.x (DESIGN §11).
fn ninjs_fields(body: &str) -> Result<BodyFields, InvalidInput> {
    let value: serde_json::Value = serde_json::from_str(body)
        .map_err(|e| invalid("body", format!("is not valid ninjs JSON: {e}")))?;
    let doc = value.as_object().ok_or_else(|| {
        invalid(
            "body",
            "is not valid ninjs: a ninjs document is a JSON object",
        )
    })?;
    let text_of = |key: &str| doc.get(key).and_then(|v| v.as_str()).map(str::to_owned);
    let plain = text_of("body_text")
        .map(|t| normal_form(&t))
        .or_else(|| text_of("body_html").map(|h| fragment_text(&h)))
        .or_else(|| bodies_text(doc.get("bodies")))
        .unwrap_or_default();
    let title = text_of("headline").or_else(|| first_value(doc.get("headlines")));
    let version = match doc.get("version") {
        Some(serde_json::Value::String(v)) => v.trim().parse::<i32>().ok(),
        Some(serde_json::Value::Number(n)) => n.as_i64().and_then(|n| i32::try_from(n).ok()),
        _ => None,
    };
    let published_at = ["versioncreated", "firstcreated"]
        .iter()
        .find_map(|key| text_of(key).and_then(|t| DateTime::parse_from_rfc3339(&t).ok()))
        .map(|t| t.with_timezone(&Utc));
    let located = text_of("located").or_else(|| {
        doc.get("places")
            .and_then(|p| p.as_array())
            .and_then(|p| p.first())
            .and_then(|p| p.get("name"))
            .and_then(|n| n.as_str())
            .map(str::to_owned)
    });
    let byline = text_of("byline").or_else(|| text_of("by")).or_else(|| {
        doc.get("by").and_then(|b| b.as_array()).map(|people| {
            people
                .iter()
                .filter_map(|p| p.get("name").and_then(|n| n.as_str()).or(p.as_str()))
                .collect::<Vec<_>>()
                .join(", ")
        })
    });
    Ok(BodyFields {
        text: plain,
        uri: text_of("uri"),
        version,
        title,
        byline,
        dateline: located,
        language: text_of("language"),
        published_at,
    })
}

/// ninjs 2.x and 3.x: `headlines: [{value}]`.
fn first_value(list: Option<&serde_json::Value>) -> Option<String> {
    list?
        .as_array()?
        .iter()
        .find_map(|h| h.get("value")?.as_str().map(str::to_owned))
}

/// ninjs 2.x and 3.x: `bodies: [{value, contenttype}]`, plain text first.
fn bodies_text(list: Option<&serde_json::Value>) -> Option<String> {
    let bodies = list?.as_array()?;
    let of_type = |kind: &str| {
        bodies.iter().find_map(|b| {
            let content_type = b
                .get("contenttype")
                .and_then(|c| c.as_str())
                .unwrap_or("text/plain");
            content_type
                .starts_with(kind)
                .then(|| b.get("value")?.as_str())
                .flatten()
        })
    };
    of_type("text/plain")
        .map(normal_form)
        .or_else(|| of_type("text/html").map(fragment_text))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn submitted(body: &str, format: ReportFormat) -> Result<PreparedReport, InvalidInput> {
        ReportSubmission {
            body: body.to_owned(),
            format,
            ..ReportSubmission::default()
        }
        .prepare()
    }

    #[test]
    fn plain_text_is_kept_in_normal_form_with_its_hash() {
        let report = submitted(
            "  The river rose.\n\n\n\tIt fell   again. ",
            ReportFormat::Text,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(report.text, "The river rose.\n\nIt fell again.");
        assert_eq!(
            report.content_hash,
            content_hash("The river rose.\n\nIt fell again.")
        );
        assert_eq!(report.version, 1);
    }

    #[test]
    fn an_html_page_gives_its_article_text_without_the_boilerplate() {
        let paragraph = "The flood reached the old town on Monday, and the mayor said the water would stay for days while crews pumped it out of cellars and shops. ";
        let page = format!(
            "<html><head><title>Flood in the old town</title></head><body><nav>Home | News | Sport</nav><article><h1>Flood in the old town</h1><p>{}</p><p>{}</p></article><footer>Copyright 2024</footer></body></html>",
            paragraph.repeat(3),
            paragraph.repeat(2)
        );
        let report = submitted(&page, ReportFormat::Html).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            report.text.starts_with("The flood reached"),
            "{}",
            report.text
        );
        assert!(!report.text.contains("Copyright"));
        assert!(report.text.contains("\n\n"));
        assert_eq!(report.title.as_deref(), Some("Flood in the old town"));
    }

    #[test]
    fn ninjs_1_fills_its_fields() {
        let doc = r#"{"uri": "urn:x:1", "version": "3", "headline": "Dam holds", "body_text": "The dam held.\n\nWater fell.", "byline": "A. Writer", "located": "LIMA", "versioncreated": "2024-03-07T10:00:00Z", "language": "en"}"#;
        let report = submitted(doc, ReportFormat::Ninjs).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (report.uri.as_deref(), report.version),
            (Some("urn:x:1"), 3)
        );
        assert_eq!(report.title.as_deref(), Some("Dam holds"));
        assert_eq!(report.dateline.as_deref(), Some("LIMA"));
        assert_eq!(report.text, "The dam held.\n\nWater fell.");
        assert_eq!(
            report.published_at.map(|t| t.to_rfc3339()),
            Some("2024-03-07T10:00:00+00:00".into())
        );
    }

    #[test]
    fn ninjs_2_reads_headlines_and_html_bodies() {
        let doc = r#"{"uri": "urn:x:2", "headlines": [{"value": "Port reopens"}], "bodies": [{"contenttype": "text/html", "value": "<p>The port reopened.</p><p>Ships queued.</p>"}], "by": "B. Writer", "firstcreated": "2024-03-06T08:00:00Z"}"#;
        let report = submitted(doc, ReportFormat::Ninjs).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(report.title.as_deref(), Some("Port reopens"));
        assert_eq!(report.text, "The port reopened.\n\nShips queued.");
        assert_eq!(report.byline.as_deref(), Some("B. Writer"));
    }

    #[test]
    fn bad_bodies_are_refused_with_the_field_named() {
        for (body, format) in [
            ("{not json", ReportFormat::Ninjs),
            ("[1, 2]", ReportFormat::Ninjs),
            ("   \n\n ", ReportFormat::Text),
            ("a\0b", ReportFormat::Text),
            (
                "<html><body><script>x()</script></body></html>",
                ReportFormat::Html,
            ),
        ] {
            assert!(submitted(body, format).is_err(), "{body:?}");
        }
        let huge = "a".repeat(MAX_BODY_BYTES + 1);
        assert!(submitted(&huge, ReportFormat::Text).is_err());
    }

    #[test]
    fn given_fields_win_over_the_bodys_and_urls_must_be_web_urls() {
        let doc = r#"{"uri": "urn:x:3", "headline": "From the body", "body_text": "Text."}"#;
        let report = ReportSubmission {
            body: doc.into(),
            format: ReportFormat::Ninjs,
            title: Some("Given".into()),
            ..ReportSubmission::default()
        }
        .prepare()
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(report.title.as_deref(), Some("Given"));
        let script = ReportSubmission {
            body: "Text.".into(),
            url: Some("  JaVaScRiPt:alert(1)".into()),
            ..ReportSubmission::default()
        };
        assert!(script.prepare().is_err());
    }
}
