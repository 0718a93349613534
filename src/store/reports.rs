//! Reports (DESIGN §11): kept whole and never changed, deduplicated by
//! identity, read with their status; what the extractor found in each kept
//! beside it, stamped with the extractor's version.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{Postgres, QueryBuilder, Row};
use uuid::Uuid;

use super::stories::StoryHeader;
use super::{Store, StoreError};
use crate::domain::extract::{extract, Extraction, ReportFacts, EXTRACTOR_VERSION};
use crate::domain::model::SourceKind;
use crate::domain::report::{
    content_hash, Dismissal, ExportedReport, PreparedReport, ReportFormat,
};

/// The channel a kept report's id is sent on.
pub const REPORTS_CHANNEL: &str = "storyline_reports";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportStatus {
    New,
    Used,
    Dismissed,
}

impl ReportStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ReportStatus::New => "NEW",
            ReportStatus::Used => "USED",
            ReportStatus::Dismissed => "DISMISSED",
        }
    }
}

/// A report as stored, with its status.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredReport {
    pub id: Uuid,
    pub uri: Option<String>,
    pub version: i32,
    pub format: ReportFormat,
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
    pub received_at: DateTime<Utc>,
    pub feed: Option<String>,
    pub status: ReportStatus,
    pub dismissed_reason: Option<String>,
    pub previous_version: Option<Uuid>,
}

impl StoredReport {
    /// The calendar date relative dates in the text resolve against.
    pub fn anchor(&self) -> NaiveDate {
        anchor_of(self.published_at, self.received_at)
    }
}

fn anchor_of(published_at: Option<DateTime<Utc>>, received_at: DateTime<Utc>) -> NaiveDate {
    published_at.unwrap_or(received_at).date_naive()
}

/// What `submitReport` did.
#[derive(Debug, Clone, PartialEq)]
pub struct KeptReport {
    pub id: Uuid,
    pub deduplicated: bool,
}

/// Ids of reports as they are kept, for one subscriber.
pub struct ReportArrivals {
    listener: sqlx::postgres::PgListener,
}

impl ReportArrivals {
    /// The next report's id; an error when the connection is lost.
    pub async fn next(&mut self) -> Result<Uuid, StoreError> {
        loop {
            let notification = self.listener.recv().await?;
            if let Ok(id) = Uuid::parse_str(notification.payload()) {
                return Ok(id);
            }
        }
    }
}

/// The inbox's filters.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReportFilter {
    pub status: Option<ReportStatus>,
    pub publisher: Option<String>,
    pub search: Option<String>,
}

/// A place in the inbox: newest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportListKey {
    pub received_at: DateTime<Utc>,
    pub id: Uuid,
}

/// A development citing a report.
#[derive(Debug, Clone, PartialEq)]
pub struct Citation {
    pub story: StoryHeader,
    pub development_id: Uuid,
    pub reported_in_version: i32,
}

/// A story suggested for a report, with why.
#[derive(Debug, Clone, PartialEq)]
pub struct StoryMatch {
    pub story: StoryHeader,
    pub score: f64,
    pub reasons: Vec<String>,
}

/// One clue for suggestions: a label, a tsquery and its weight.
#[derive(Debug, Clone, PartialEq)]
pub struct Clue {
    pub label: String,
    pub query: String,
    pub weight: f64,
}

/// A source kind as stored: the contract's spelling.
pub(super) fn source_kind_text(kind: Option<SourceKind>) -> Option<String> {
    kind.and_then(|k| serde_json::to_value(k).ok())
        .and_then(|v| v.as_str().map(str::to_owned))
}

/// A stored source kind; one this code does not know is none.
pub(super) fn source_kind_of(text: Option<String>) -> Option<SourceKind> {
    text.and_then(|t| serde_json::from_value(serde_json::Value::String(t)).ok())
}

fn status_of(text: &str) -> ReportStatus {
    match text {
        "USED" => ReportStatus::Used,
        "DISMISSED" => ReportStatus::Dismissed,
        _ => ReportStatus::New,
    }
}

fn report_of(row: &sqlx::postgres::PgRow) -> Result<StoredReport, sqlx::Error> {
    let format: String = row.try_get("format")?;
    let status: String = row.try_get("status")?;
    Ok(StoredReport {
        id: row.try_get("id")?,
        uri: row.try_get("uri")?,
        version: row.try_get("version")?,
        format: ReportFormat::parse(&format).unwrap_or_default(),
        text: row.try_get("text")?,
        content_hash: row.try_get("content_hash")?,
        title: row.try_get("title")?,
        publisher: row.try_get("publisher")?,
        source_kind: source_kind_of(row.try_get("source_kind")?),
        url: row.try_get("url")?,
        byline: row.try_get("byline")?,
        dateline: row.try_get("dateline")?,
        language: row.try_get("language")?,
        published_at: row.try_get("published_at")?,
        received_at: row.try_get("received_at")?,
        feed: row.try_get("feed")?,
        status: status_of(&status),
        dismissed_reason: row.try_get("dismissed_reason")?,
        previous_version: row.try_get("previous_version")?,
    })
}

impl Store {
    /// Starts listening for reports kept from now on.
    pub async fn report_arrivals(&self) -> Result<ReportArrivals, StoreError> {
        let mut listener = sqlx::postgres::PgListener::connect_with(&self.pool).await?;
        listener.listen(REPORTS_CHANNEL).await?;
        Ok(ReportArrivals { listener })
    }

    /// Keeps a report and what the extractor finds in it, in one
    /// transaction; the same report again writes nothing. `received_at`
    /// is for imports: a report keeps the time it was first received.
    pub async fn submit_report(
        &self,
        report: &PreparedReport,
        principal: &str,
        received_at: Option<DateTime<Utc>>,
        id: Option<Uuid>,
    ) -> Result<KeptReport, StoreError> {
        if let Some(kept) = self.kept_report_of(report).await? {
            return Ok(kept);
        }
        let id = id.unwrap_or_else(Uuid::now_v7);
        if self
            .insert_report(id, report, principal, received_at)
            .await?
        {
            return Ok(KeptReport {
                id,
                deduplicated: false,
            });
        }
        // Another writer kept it between our look and our insert.
        self.kept_report_of(report)
            .await?
            .ok_or(StoreError::ReportIdentityClash)
    }

    /// Keeps an exported report under its own id and time of receipt;
    /// false when that id holds it already. A report whose identity is
    /// kept under another id, or whose id holds other text, is refused.
    pub async fn import_report(
        &self,
        id: Uuid,
        report: &PreparedReport,
        principal: &str,
        received_at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        if self
            .insert_report(id, report, principal, Some(received_at))
            .await?
        {
            return Ok(true);
        }
        let kept: Option<String> = sqlx::query_scalar(sql!("reports/by_id_hash"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        match kept {
            Some(hash) if hash == report.content_hash => Ok(false),
            _ => Err(StoreError::ReportIdentityClash),
        }
    }

    /// Inserts a report and its reading in one transaction; false when a
    /// report of its id or identity is kept already (nothing written).
    async fn insert_report(
        &self,
        id: Uuid,
        report: &PreparedReport,
        principal: &str,
        received_at: Option<DateTime<Utc>>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let inserted: Option<DateTime<Utc>> = sqlx::query_scalar(sql!("reports/insert"))
            .bind(id)
            .bind(&report.uri)
            .bind(report.version)
            .bind(report.format.as_str())
            .bind(&report.body)
            .bind(&report.text)
            .bind(&report.content_hash)
            .bind(&report.title)
            .bind(&report.publisher)
            .bind(source_kind_text(report.source_kind))
            .bind(&report.url)
            .bind(&report.byline)
            .bind(&report.dateline)
            .bind(&report.language)
            .bind(report.published_at)
            .bind(&report.feed)
            .bind(principal)
            .bind(received_at)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(received_at) = inserted else {
            tx.rollback().await?;
            return Ok(false);
        };
        let extraction = extract(ReportFacts {
            text: &report.text,
            anchor: anchor_of(report.published_at, received_at),
            dateline: report.dateline.as_deref(),
        });
        keep_extraction(&mut tx, id, &extraction).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Reports whole for `export`, a page at a time in the order received.
    pub async fn export_reports(
        &self,
        after: Option<(DateTime<Utc>, Uuid)>,
        limit: i64,
    ) -> Result<Vec<ExportedReport>, StoreError> {
        let rows = sqlx::query(sql!("reports/export_page"))
            .bind(after.map(|(at, _)| at))
            .bind(after.map_or(Uuid::nil(), |(_, id)| id))
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                let format: String = row.try_get("format")?;
                Ok(ExportedReport {
                    id: row.try_get("id")?,
                    received_at: row.try_get("received_at")?,
                    principal: row.try_get("principal")?,
                    report: PreparedReport {
                        uri: row.try_get("uri")?,
                        version: row.try_get("version")?,
                        format: ReportFormat::parse(&format).unwrap_or_default(),
                        body: row.try_get("body")?,
                        text: row.try_get("text")?,
                        content_hash: row.try_get("content_hash")?,
                        title: row.try_get("title")?,
                        publisher: row.try_get("publisher")?,
                        source_kind: source_kind_of(row.try_get("source_kind")?),
                        url: row.try_get("url")?,
                        byline: row.try_get("byline")?,
                        dateline: row.try_get("dateline")?,
                        language: row.try_get("language")?,
                        published_at: row.try_get("published_at")?,
                        feed: row.try_get("feed")?,
                    },
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()
            .map_err(Into::into)
    }

    /// Every dismissal, oldest first, for `export`.
    pub async fn export_dismissals(&self) -> Result<Vec<Dismissal>, StoreError> {
        let rows: Vec<(Uuid, Uuid, String, String, DateTime<Utc>)> =
            sqlx::query_as(sql!("reports/export_dismissals"))
                .fetch_all(&self.pool)
                .await?;
        Ok(rows
            .into_iter()
            .map(
                |(id, report_id, reason, principal, dismissed_at)| Dismissal {
                    id,
                    report_id,
                    reason,
                    principal,
                    dismissed_at,
                },
            )
            .collect())
    }

    /// Keeps an exported dismissal; one already kept is left alone.
    pub async fn import_dismissal(&self, dismissal: &Dismissal) -> Result<(), StoreError> {
        sqlx::query(sql!("reports/import_dismissal"))
            .bind(dismissal.id)
            .bind(dismissal.report_id)
            .bind(&dismissal.reason)
            .bind(&dismissal.principal)
            .bind(dismissal.dismissed_at)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The kept report with this report's identity: the same again, or an
    /// error when the identity holds other text.
    async fn kept_report_of(
        &self,
        report: &PreparedReport,
    ) -> Result<Option<KeptReport>, StoreError> {
        let row: Option<(Uuid, String)> = sqlx::query_as(sql!("reports/by_identity"))
            .bind(&report.uri)
            .bind(report.version)
            .bind(&report.content_hash)
            .fetch_optional(&self.pool)
            .await?;
        match row {
            None => Ok(None),
            Some((id, hash)) if hash == report.content_hash => Ok(Some(KeptReport {
                id,
                deduplicated: true,
            })),
            Some(_) => Err(StoreError::ReportIdentityClash),
        }
    }

    pub async fn reports_by_ids(&self, ids: &[Uuid]) -> Result<Vec<StoredReport>, StoreError> {
        let rows = sqlx::query(sql!("reports/by_ids"))
            .bind(ids)
            .fetch_all(&self.pool)
            .await?;
        let mut reports = rows.iter().map(report_of).collect::<Result<Vec<_>, _>>()?;
        reports.sort_by_key(|r| ids.iter().position(|id| *id == r.id));
        Ok(reports)
    }

    pub async fn report(&self, id: Uuid) -> Result<Option<StoredReport>, StoreError> {
        Ok(self.reports_by_ids(&[id]).await?.into_iter().next())
    }

    /// The extractor's reading of a report, computed now when none of this
    /// extractor's version is kept yet (a rebuild will keep it).
    pub async fn report_extraction(&self, report: &StoredReport) -> Result<Extraction, StoreError> {
        let row: Option<(i32, serde_json::Value, serde_json::Value)> =
            sqlx::query_as(sql!("reports/extraction"))
                .bind(report.id)
                .fetch_optional(&self.pool)
                .await?;
        if let Some((version, mentions, drafts)) = row.filter(|(v, _, _)| *v == EXTRACTOR_VERSION) {
            let _ = version;
            if let (Ok(mentions), Ok(drafts)) = (
                serde_json::from_value(mentions),
                serde_json::from_value(drafts),
            ) {
                return Ok(Extraction { mentions, drafts });
            }
        }
        Ok(extract(ReportFacts {
            text: &report.text,
            anchor: report.anchor(),
            dateline: report.dateline.as_deref(),
        }))
    }

    /// Appends a dismissal; `UnknownReport` for an id never kept.
    pub async fn dismiss_report(
        &self,
        report: Uuid,
        reason: &str,
        principal: &str,
    ) -> Result<(), StoreError> {
        let dismissed: Option<Uuid> = sqlx::query_scalar(sql!("reports/dismiss"))
            .bind(Uuid::now_v7())
            .bind(report)
            .bind(reason)
            .bind(principal)
            .fetch_optional(&self.pool)
            .await?;
        dismissed
            .map(|_| ())
            .ok_or(StoreError::UnknownReport(report))
    }

    pub async fn report_citations(&self, report: Uuid) -> Result<Vec<Citation>, StoreError> {
        let rows = sqlx::query(sql!("reports/cited_by"))
            .bind(report)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                Ok(Citation {
                    story: super::stories::header_of(row)?,
                    development_id: row.try_get("development_id")?,
                    reported_in_version: row.try_get("reported_in_version")?,
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()
            .map_err(Into::into)
    }

    /// The length in code points of each named report's text that exists.
    pub async fn report_text_lengths(
        &self,
        ids: &[Uuid],
    ) -> Result<Vec<(Uuid, usize)>, StoreError> {
        let rows: Vec<(Uuid, i64)> = sqlx::query_as(sql!("reports/text_lengths"))
            .bind(ids)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .into_iter()
            .map(|(id, length)| (id, usize::try_from(length).unwrap_or(0)))
            .collect())
    }

    /// Stories ranked by the clues they match.
    pub async fn suggest_stories(
        &self,
        clues: &[Clue],
        public_only: bool,
        limit: i64,
    ) -> Result<Vec<StoryMatch>, StoreError> {
        if clues.is_empty() {
            return Ok(Vec::new());
        }
        let labels: Vec<&str> = clues.iter().map(|c| c.label.as_str()).collect();
        let queries: Vec<&str> = clues.iter().map(|c| c.query.as_str()).collect();
        let weights: Vec<f64> = clues.iter().map(|c| c.weight).collect();
        let rows = sqlx::query(sql!("reports/suggest"))
            .bind(&labels)
            .bind(&queries)
            .bind(&weights)
            .bind(public_only)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                Ok(StoryMatch {
                    story: super::stories::header_of(row)?,
                    score: row.try_get("score")?,
                    reasons: row.try_get("reasons")?,
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()
            .map_err(Into::into)
    }

    /// A page of the inbox, newest first (the one statement built from
    /// optional filters, a line each).
    pub async fn list_reports(
        &self,
        filter: &ReportFilter,
        after: Option<ReportListKey>,
        limit: i64,
    ) -> Result<Vec<StoredReport>, StoreError> {
        let mut query = QueryBuilder::<Postgres>::new("SELECT r.id FROM reports r WHERE true");
        push_filter(&mut query, filter);
        if let Some(after) = after {
            query
                .push(" AND (r.received_at, r.id) < (")
                .push_bind(after.received_at);
            query.push(", ").push_bind(after.id).push(")");
        }
        query
            .push(" ORDER BY r.received_at DESC, r.id DESC LIMIT ")
            .push_bind(limit);
        let ids: Vec<Uuid> = query.build_query_scalar().fetch_all(&self.pool).await?;
        self.reports_by_ids(&ids).await
    }

    pub async fn count_reports(&self, filter: &ReportFilter) -> Result<i64, StoreError> {
        let mut query = QueryBuilder::<Postgres>::new("SELECT count(*) FROM reports r WHERE true");
        push_filter(&mut query, filter);
        Ok(query.build_query_scalar().fetch_one(&self.pool).await?)
    }

    /// Recomputes the readings of reports read by another extractor
    /// version (or never); how many.
    pub async fn reextract_stale_reports(&self) -> Result<u64, StoreError> {
        const BATCH: i64 = 200;
        let mut after = Uuid::nil();
        let mut done = 0;
        loop {
            let rows: Vec<StaleReading> = sqlx::query_as(sql!("reports/stale_extractions"))
                .bind(EXTRACTOR_VERSION)
                .bind(after)
                .bind(BATCH)
                .fetch_all(&self.pool)
                .await?;
            let Some(last) = rows.last() else {
                return Ok(done);
            };
            after = last.0;
            let mut tx = self.pool.begin().await?;
            for (id, text, published_at, received_at, dateline) in &rows {
                let extraction = extract(ReportFacts {
                    text,
                    anchor: anchor_of(*published_at, *received_at),
                    dateline: dateline.as_deref(),
                });
                keep_extraction(&mut tx, *id, &extraction).await?;
            }
            tx.commit().await?;
            done += rows.len() as u64;
        }
    }

    /// Reports whose stored hash is not their text's: (id, stored, actual).
    pub async fn reports_with_wrong_hashes(
        &self,
    ) -> Result<Vec<(Uuid, String, String)>, StoreError> {
        const BATCH: i64 = 500;
        let mut after = Uuid::nil();
        let mut wrong = Vec::new();
        loop {
            let rows: Vec<(Uuid, String, String)> = sqlx::query_as(sql!("reports/hashes"))
                .bind(after)
                .bind(BATCH)
                .fetch_all(&self.pool)
                .await?;
            let Some(last) = rows.last() else {
                return Ok(wrong);
            };
            after = last.0;
            for (id, text, stored) in rows {
                let actual = content_hash(&text);
                if actual != stored {
                    wrong.push((id, stored, actual));
                }
            }
        }
    }
}

/// A report to read again: id, text, published, received, dateline.
type StaleReading = (
    Uuid,
    String,
    Option<DateTime<Utc>>,
    DateTime<Utc>,
    Option<String>,
);

fn push_filter(query: &mut QueryBuilder<'_, Postgres>, filter: &ReportFilter) {
    if let Some(status) = filter.status {
        query
            .push(" AND storyline_report_status(r.id) = ")
            .push_bind(status.as_str());
    }
    if let Some(publisher) = &filter.publisher {
        query
            .push(" AND lower(r.publisher) = lower(")
            .push_bind(publisher.clone())
            .push(")");
    }
    if let Some(search) = &filter.search {
        query
            .push(" AND to_tsvector('english'::regconfig, coalesce(r.title, '') || ' ' || r.text) @@ websearch_to_tsquery('english'::regconfig, ")
            .push_bind(search.clone())
            .push(")");
    }
}

async fn keep_extraction(
    tx: &mut sqlx::Transaction<'_, Postgres>,
    report: Uuid,
    extraction: &Extraction,
) -> Result<(), StoreError> {
    let mentions = serde_json::to_value(&extraction.mentions)
        .map_err(|e| StoreError::Database(sqlx::Error::Decode(Box::new(e))))?;
    let drafts = serde_json::to_value(&extraction.drafts)
        .map_err(|e| StoreError::Database(sqlx::Error::Decode(Box::new(e))))?;
    sqlx::query(sql!("reports/keep_extraction"))
        .bind(report)
        .bind(EXTRACTOR_VERSION)
        .bind(mentions)
        .bind(drafts)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
