//! Reading a feed's body (DESIGN §12): RSS 0.9x to 2.0, RSS 1.0 and Atom by
//! `feed-rs`; JSON Feed 1.1 and ninjs (a JSON array of ninjs items, or an
//! object with one under `items`) read item by item, so that a malformed
//! item is skipped and counted while the rest are kept.

use chrono::{DateTime, Utc};

use crate::domain::report::ReportFormat;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedFormat {
    Rss,
    Atom,
    JsonFeed,
    Ninjs,
}

impl FeedFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            FeedFormat::Rss => "RSS",
            FeedFormat::Atom => "ATOM",
            FeedFormat::JsonFeed => "JSON_FEED",
            FeedFormat::Ninjs => "NINJS",
        }
    }
}

/// One item of a feed, as a report will be made of it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FeedItem {
    /// The item's own id (guid, Atom id, JSON Feed id, ninjs uri); None when
    /// the feed gives none.
    pub id: Option<String>,
    /// A ninjs item's version.
    pub version: Option<i32>,
    pub title: Option<String>,
    pub url: Option<String>,
    pub published_at: Option<DateTime<Utc>>,
    pub byline: Option<String>,
    pub body: String,
    pub format: ReportFormat,
    /// Only a summary came with the item: its linked page may hold the text.
    pub summary_only: bool,
}

/// A feed read: its format, and each item or why it could not be read.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedFeed {
    pub format: FeedFormat,
    pub items: Vec<Result<FeedItem, String>>,
}

/// Reads a feed's body, detecting its format.
pub fn parse_feed(body: &[u8]) -> Result<ParsedFeed, String> {
    let text = String::from_utf8_lossy(body);
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    if trimmed.starts_with('[') || trimmed.starts_with('{') {
        return parse_json(trimmed);
    }
    parse_xml(body)
}

fn parse_json(text: &str) -> Result<ParsedFeed, String> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("not a JSON feed: {e}"))?;
    let is_json_feed = value
        .get("version")
        .and_then(|v| v.as_str())
        .is_some_and(|v| v.contains("jsonfeed.org"));
    let items = match &value {
        serde_json::Value::Array(items) => items,
        _ => value.get("items").and_then(|i| i.as_array()).ok_or(
            "a JSON feed needs an `items` array (JSON Feed) or to be an array of ninjs items",
        )?,
    };
    if is_json_feed {
        Ok(ParsedFeed {
            format: FeedFormat::JsonFeed,
            items: items.iter().map(json_feed_item).collect(),
        })
    } else {
        Ok(ParsedFeed {
            format: FeedFormat::Ninjs,
            items: items.iter().map(ninjs_item).collect(),
        })
    }
}

fn text_of(value: &serde_json::Value, key: &str) -> Option<String> {
    value
        .get(key)
        .and_then(|v| v.as_str())
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn time_of(value: &serde_json::Value, key: &str) -> Option<DateTime<Utc>> {
    text_of(value, key)
        .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
        .map(|t| t.with_timezone(&Utc))
}

/// A JSON Feed 1.1 item: id, url, title, content_html or content_text,
/// summary, date_published, authors.
fn json_feed_item(item: &serde_json::Value) -> Result<FeedItem, String> {
    if !item.is_object() {
        return Err("a JSON Feed item is not an object".into());
    }
    let id = match item.get("id") {
        Some(serde_json::Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Some(serde_json::Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    let (body, format, summary_only) = if let Some(html) = text_of(item, "content_html") {
        (html, ReportFormat::Html, false)
    } else if let Some(text) = text_of(item, "content_text") {
        (text, ReportFormat::Text, false)
    } else if let Some(summary) = text_of(item, "summary") {
        (summary, ReportFormat::Text, true)
    } else {
        return Err("a JSON Feed item has no content_html, content_text or summary".into());
    };
    let authors = item
        .get("authors")
        .and_then(|a| a.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|p| text_of(p, "name"))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .filter(|a| !a.is_empty())
        .or_else(|| item.get("author").and_then(|a| text_of(a, "name")));
    Ok(FeedItem {
        id,
        version: None,
        title: text_of(item, "title"),
        url: text_of(item, "url"),
        published_at: time_of(item, "date_published").or_else(|| time_of(item, "date_modified")),
        byline: authors,
        body,
        format,
        summary_only,
    })
}

/// A ninjs item: the whole item is the report's body (its uri, version,
/// headline, byline and times are read by the report's own path).
fn ninjs_item(item: &serde_json::Value) -> Result<FeedItem, String> {
    if !item.is_object() {
        return Err("a ninjs item is not an object".into());
    }
    let has_text = ["body_text", "body_html", "bodies"]
        .iter()
        .any(|k| item.get(k).is_some());
    if !has_text {
        return Err("a ninjs item has no body_text, body_html or bodies".into());
    }
    let version = match item.get("version") {
        Some(serde_json::Value::String(v)) => v.trim().parse().ok(),
        Some(serde_json::Value::Number(n)) => n.as_i64().and_then(|n| i32::try_from(n).ok()),
        _ => None,
    };
    Ok(FeedItem {
        id: text_of(item, "uri"),
        version,
        title: None,
        url: None,
        published_at: None,
        byline: None,
        body: item.to_string(),
        format: ReportFormat::Ninjs,
        summary_only: false,
    })
}

/// RSS and Atom through feed-rs. feed-rs makes up an id for an item that
/// has none; here such an item keeps none, and is known by its text's hash.
fn parse_xml(body: &[u8]) -> Result<ParsedFeed, String> {
    let parser = feed_rs::parser::Builder::new()
        .id_generator(|_, _, _| String::new())
        .build();
    let feed = parser
        .parse(body)
        .map_err(|e| format!("not an RSS, Atom or JSON feed: {e}"))?;
    let format = match feed.feed_type {
        feed_rs::model::FeedType::Atom => FeedFormat::Atom,
        _ => FeedFormat::Rss,
    };
    Ok(ParsedFeed {
        format,
        items: feed.entries.into_iter().map(xml_item).collect(),
    })
}

fn xml_item(entry: feed_rs::model::Entry) -> Result<FeedItem, String> {
    let content = entry
        .content
        .as_ref()
        .and_then(|c| c.body.clone())
        .filter(|b| !b.trim().is_empty());
    let summary = entry
        .summary
        .as_ref()
        .map(|s| s.content.clone())
        .filter(|s| !s.trim().is_empty());
    let (body, summary_only) = match (content, summary) {
        (Some(content), _) => (content, false),
        (None, Some(summary)) => (summary, true),
        (None, None) => return Err("an item has neither content nor a summary".into()),
    };
    let byline = entry
        .authors
        .iter()
        .filter_map(|a| a.name.as_deref())
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .collect::<Vec<_>>()
        .join(", ");
    Ok(FeedItem {
        id: Some(entry.id.trim().to_owned()).filter(|id| !id.is_empty()),
        version: None,
        title: entry.title.map(|t| t.content),
        url: entry.links.first().map(|l| l.href.clone()),
        published_at: entry.published.or(entry.updated),
        byline: Some(byline).filter(|b| !b.is_empty()),
        format: if body.contains('<') {
            ReportFormat::Html
        } else {
            ReportFormat::Text
        },
        body,
        summary_only,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rss_items_keep_their_guid_and_an_item_without_one_gets_none() {
        let rss = r#"<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>
            <item><guid>urn:wire:1</guid><title>Dam holds</title><link>https://example.org/1</link>
              <description>The dam held overnight.</description><pubDate>Thu, 07 Mar 2024 10:00:00 GMT</pubDate></item>
            <item><title>No id</title><description>A ferry sank.</description></item>
            </channel></rss>"#;
        let feed = parse_feed(rss.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(feed.format, FeedFormat::Rss);
        let items: Vec<FeedItem> = feed.items.into_iter().flatten().collect();
        assert_eq!(items[0].id.as_deref(), Some("urn:wire:1"));
        assert_eq!(items[0].url.as_deref(), Some("https://example.org/1"));
        assert!(items[0].summary_only);
        assert_eq!(items[1].id, None);
    }

    #[test]
    fn atom_and_json_feed_and_ninjs_are_told_apart() {
        let atom = r#"<feed xmlns="http://www.w3.org/2005/Atom"><title>A</title><id>urn:a</id><updated>2024-03-07T10:00:00Z</updated>
            <entry><id>urn:a:1</id><title>T</title><updated>2024-03-07T10:00:00Z</updated><content type="html">&lt;p&gt;The port reopened.&lt;/p&gt;</content></entry></feed>"#;
        assert_eq!(
            parse_feed(atom.as_bytes()).map(|f| f.format),
            Ok(FeedFormat::Atom)
        );
        let json_feed = r#"{"version": "https://jsonfeed.org/version/1.1", "title": "J", "items": [{"id": "1", "content_text": "A bridge reopened."}, {"id": "2"}]}"#;
        let parsed = parse_feed(json_feed.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(parsed.format, FeedFormat::JsonFeed);
        assert!(
            parsed.items[0].is_ok() && parsed.items[1].is_err(),
            "the empty item is skipped alone"
        );
        let ninjs = r#"[{"uri": "urn:n:1", "version": "2", "body_text": "A fire broke out."}, 7]"#;
        let parsed = parse_feed(ninjs.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(parsed.format, FeedFormat::Ninjs);
        assert_eq!(parsed.items[0].as_ref().map(|i| i.version), Ok(Some(2)));
        assert!(parsed.items[1].is_err());
    }

    #[test]
    fn garbage_is_no_feed() {
        assert!(parse_feed(b"<html><body>not a feed</body></html>").is_err());
        assert!(parse_feed(b"{\"no\": \"items\"}").is_err());
    }
}
