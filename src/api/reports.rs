//! Reports in the contract (revision 3, DESIGN §11): the Report type and
//! what hangs off it (mentions, drafts, suggested stories, citations), and
//! the resolvers of `report`, `reports`, `submitReport` and
//! `dismissReport`. Every surface needs a live token; writing needs the
//! write scope.

use std::sync::Arc;

use async_graphql::{Context, Enum, InputObject, Object};
use chrono::{DateTime, NaiveTime, Utc};
use uuid::Uuid;

use super::budget::{charge_list, charge_work, charged, charged_opt, listed, COUNT_WORK};
use super::connection::{count_as_int, Cursor, PageArgs, PageInfo, MAX_PAGE_SIZE};
use super::context::{public_only, store, viewer};
use super::errors::{ApiError, ApiResult};
use super::inputs::{FigureQualifier, SourceKind, TimePrecision};
use super::query::Story;
use super::types::{ActorRef, Location, Source};
use crate::domain::extract::suggest::{story_clues, ClueKind};
use crate::domain::extract::{self, CodePoints, Extraction};
use crate::domain::model;
use crate::domain::report::{ReportFormat as DomainFormat, ReportSubmission};
use crate::store::{
    Clue, Credential, ReportFilter, ReportListKey, ReportStatus as DomainStatus, Scope, Store,
    StoredReport,
};

const NEEDS_TOKEN: &str =
    "reports are newsroom material: send `Authorization: Bearer <token>` with a live token";

/// A live token of any scope, or UNAUTHENTICATED.
pub(super) fn reader(ctx: &Context<'_>) -> ApiResult<Credential> {
    viewer(ctx)
        .0
        .clone()
        .ok_or(ApiError::Unauthenticated(NEEDS_TOKEN))
}

/// A token live now with the write scope.
async fn writer(ctx: &Context<'_>) -> ApiResult<Credential> {
    let credential = viewer(ctx).0.clone().ok_or(ApiError::Unauthenticated(
        "submitting and dismissing reports need a write token",
    ))?;
    if !store(ctx)?.is_credential_live(&credential).await? {
        return Err(ApiError::Unauthenticated(super::errors::TOKEN_NOT_LIVE));
    }
    match credential.principal.scope {
        Scope::Write => Ok(credential),
        Scope::Read => Err(ApiError::Forbidden(
            "this token has the read scope; submitting and dismissing reports need a write token",
        )),
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum ReportFormat {
    Text,
    Html,
    Ninjs,
}

impl From<ReportFormat> for DomainFormat {
    fn from(f: ReportFormat) -> Self {
        match f {
            ReportFormat::Text => DomainFormat::Text,
            ReportFormat::Html => DomainFormat::Html,
            ReportFormat::Ninjs => DomainFormat::Ninjs,
        }
    }
}

impl From<DomainFormat> for ReportFormat {
    fn from(f: DomainFormat) -> Self {
        match f {
            DomainFormat::Text => ReportFormat::Text,
            DomainFormat::Html => ReportFormat::Html,
            DomainFormat::Ninjs => ReportFormat::Ninjs,
        }
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum ReportStatus {
    New,
    Used,
    Dismissed,
}

impl From<DomainStatus> for ReportStatus {
    fn from(s: DomainStatus) -> Self {
        match s {
            DomainStatus::New => ReportStatus::New,
            DomainStatus::Used => ReportStatus::Used,
            DomainStatus::Dismissed => ReportStatus::Dismissed,
        }
    }
}

impl From<ReportStatus> for DomainStatus {
    fn from(s: ReportStatus) -> Self {
        match s {
            ReportStatus::New => DomainStatus::New,
            ReportStatus::Used => DomainStatus::Used,
            ReportStatus::Dismissed => DomainStatus::Dismissed,
        }
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum MentionKind {
    Date,
    Quote,
    Figure,
    Place,
    Actor,
}

impl From<extract::MentionKind> for MentionKind {
    fn from(k: extract::MentionKind) -> Self {
        match k {
            extract::MentionKind::Date => MentionKind::Date,
            extract::MentionKind::Quote => MentionKind::Quote,
            extract::MentionKind::Figure => MentionKind::Figure,
            extract::MentionKind::Place => MentionKind::Place,
            extract::MentionKind::Actor => MentionKind::Actor,
        }
    }
}

#[derive(InputObject)]
pub struct ReportInput {
    /// Plain text, an HTML page, or a ninjs JSON document, as format says. At most 1 MiB.
    pub body: String,
    /// TEXT when absent.
    pub format: Option<ReportFormat>,
    /// The source's own identifier; with it, identity is (uri, version).
    pub uri: Option<String>,
    /// 1 when absent (a ninjs body gives its own).
    pub version: Option<i32>,
    pub title: Option<String>,
    pub publisher: Option<String>,
    pub source_kind: Option<SourceKind>,
    pub url: Option<String>,
    pub byline: Option<String>,
    pub dateline: Option<String>,
    pub language: Option<String>,
    /// When the source published it; relative dates in the text resolve against it (receivedAt when absent).
    pub published_at: Option<DateTime<Utc>>,
}

impl From<ReportInput> for ReportSubmission {
    fn from(i: ReportInput) -> Self {
        ReportSubmission {
            body: i.body,
            format: i.format.map(Into::into).unwrap_or_default(),
            uri: i.uri,
            version: i.version,
            title: i.title,
            publisher: i.publisher,
            source_kind: i.source_kind.map(Into::into),
            url: i.url,
            byline: i.byline,
            dateline: i.dateline,
            language: i.language,
            published_at: i.published_at,
            feed: None,
        }
    }
}

/// A report's text with its code points counted once, for every span.
pub struct ReportText {
    text: String,
    code_points: CodePoints,
}

impl ReportText {
    fn new(text: String) -> ReportText {
        let code_points = CodePoints::of(&text);
        ReportText { text, code_points }
    }

    fn slice(&self, span: model::Span) -> &str {
        self.code_points
            .bytes(span)
            .and_then(|range| self.text.get(range))
            .unwrap_or("")
    }
}

pub struct Span {
    span: model::Span,
    text: Arc<ReportText>,
}

#[Object]
impl Span {
    async fn start(&self) -> i32 {
        i32::try_from(self.span.start).unwrap_or(i32::MAX)
    }
    async fn end(&self) -> i32 {
        i32::try_from(self.span.end).unwrap_or(i32::MAX)
    }
    async fn text(&self, ctx: &Context<'_>) -> ApiResult<&str> {
        charged(ctx, self.text.slice(self.span))
    }
}

/// The spans of a source, when the viewer may read its report.
pub(super) async fn source_spans(
    ctx: &Context<'_>,
    source: &model::Source,
) -> ApiResult<Vec<Span>> {
    let (Some(report), Some(_)) = (source.report_id, viewer(ctx).0.as_ref()) else {
        return Ok(Vec::new());
    };
    if source.spans.is_empty() {
        return Ok(Vec::new());
    }
    let Some(stored) = store(ctx)?.report(report).await? else {
        return Ok(Vec::new());
    };
    let text = Arc::new(ReportText::new(stored.text));
    Ok(source
        .spans
        .iter()
        .map(|&span| Span {
            span,
            text: text.clone(),
        })
        .collect())
}

/// The report a source cites; null without a live token.
pub(super) async fn source_report(
    ctx: &Context<'_>,
    source: &model::Source,
) -> ApiResult<Option<Report>> {
    let (Some(report), Some(_)) = (source.report_id, viewer(ctx).0.as_ref()) else {
        return Ok(None);
    };
    Ok(store(ctx)?.report(report).await?.map(Report::new))
}

pub struct Mention {
    mention: extract::Mention,
    text: Arc<ReportText>,
}

#[Object]
impl Mention {
    async fn kind(&self) -> MentionKind {
        self.mention.kind.into()
    }
    async fn span(&self) -> Span {
        Span {
            span: self.mention.span,
            text: self.text.clone(),
        }
    }
    /// DATE: the start of the period meant, and its precision.
    async fn date(&self) -> Option<DateTime<Utc>> {
        self.mention.date.map(midnight)
    }
    async fn precision(&self) -> Option<TimePrecision> {
        self.mention.precision.map(Into::into)
    }
    /// QUOTE: the quoted words (without the quotation marks) and who said them; speakerSpan is where the speaker is named.
    async fn quote(&self) -> Option<QuoteDraft<'_>> {
        self.mention.quote.as_ref().map(QuoteDraft)
    }
    async fn speaker_span(&self) -> Option<Span> {
        self.mention.speaker_span.map(|span| Span {
            span,
            text: self.text.clone(),
        })
    }
    /// FIGURE: the figure as reportDevelopment would take it.
    async fn figure(&self) -> Option<FigureDraft<'_>> {
        self.mention.figure.as_ref().map(FigureDraft)
    }
    /// PLACE: the place, with coordinates when the gazetteer knows it.
    async fn location(&self) -> Option<Location<'_>> {
        self.mention.location.as_ref().map(Location)
    }
    /// ACTOR: the actor.
    async fn actor(&self) -> Option<ActorRef<'_>> {
        self.mention.actor.as_ref().map(ActorRef)
    }
}

fn midnight(date: chrono::NaiveDate) -> DateTime<Utc> {
    date.and_time(NaiveTime::MIN).and_utc()
}

/// A quote as QuoteInput takes it.
pub struct QuoteDraft<'a>(&'a model::QuoteInput);

#[Object]
impl QuoteDraft<'_> {
    async fn speaker(&self) -> &str {
        &self.0.speaker
    }
    async fn speaker_role(&self) -> Option<&str> {
        self.0.speaker_role.as_deref()
    }
    async fn text(&self, ctx: &Context<'_>) -> ApiResult<&str> {
        charged(ctx, &self.0.text)
    }
}

/// A figure as FigureInput takes it.
pub struct FigureDraft<'a>(&'a model::FigureInput);

#[Object]
impl FigureDraft<'_> {
    async fn metric(&self) -> &str {
        &self.0.metric
    }
    async fn value(&self) -> f64 {
        self.0.value
    }
    async fn qualifier(&self) -> FigureQualifier {
        self.0.qualifier.into()
    }
    async fn unit(&self) -> Option<&str> {
        self.0.unit.as_deref()
    }
    async fn place(&self) -> Option<&str> {
        self.0.place.as_deref()
    }
    async fn claimed_by(&self) -> Option<&str> {
        self.0.claimed_by.as_deref()
    }
    async fn low(&self) -> Option<f64> {
        self.0.low
    }
    async fn high(&self) -> Option<f64> {
        self.0.high
    }
}

/// A proposed development: the fields of DevelopmentInput, and the mentions it was drawn from.
pub struct DevelopmentDraft {
    draft: extract::Draft,
    source: model::Source,
    evidence: Vec<extract::Mention>,
    text: Arc<ReportText>,
}

#[Object]
impl DevelopmentDraft {
    async fn headline(&self, ctx: &Context<'_>) -> ApiResult<&str> {
        charged(ctx, &self.draft.headline)
    }
    async fn summary(&self, ctx: &Context<'_>) -> ApiResult<Option<&str>> {
        charged_opt(ctx, self.draft.summary.as_deref())
    }
    async fn occurred_at(&self) -> DateTime<Utc> {
        midnight(self.draft.occurred_on)
    }
    async fn precision(&self) -> TimePrecision {
        self.draft.precision.into()
    }
    async fn location(&self) -> Option<Location<'_>> {
        self.draft.location.as_ref().map(Location)
    }
    async fn actors(&self, ctx: &Context<'_>) -> ApiResult<Vec<ActorRef<'_>>> {
        listed(ctx, self.draft.actors.iter().map(ActorRef).collect())
    }
    async fn quotes(&self, ctx: &Context<'_>) -> ApiResult<Vec<QuoteDraft<'_>>> {
        listed(ctx, self.draft.quotes.iter().map(QuoteDraft).collect())
    }
    async fn figures(&self, ctx: &Context<'_>) -> ApiResult<Vec<FigureDraft<'_>>> {
        listed(ctx, self.draft.figures.iter().map(FigureDraft).collect())
    }
    async fn sources(&self, ctx: &Context<'_>) -> ApiResult<Vec<Source<'_>>> {
        listed(ctx, vec![Source(&self.source)])
    }
    /// The mentions this draft was drawn from, in span order.
    async fn evidence(&self, ctx: &Context<'_>) -> ApiResult<Vec<Mention>> {
        listed(
            ctx,
            self.evidence
                .iter()
                .map(|m| Mention {
                    mention: m.clone(),
                    text: self.text.clone(),
                })
                .collect(),
        )
    }
}

pub struct StoryMatch {
    story: Story,
    score: f64,
    reasons: Vec<String>,
}

#[Object]
impl StoryMatch {
    async fn story(&self) -> &Story {
        &self.story
    }
    /// In (0, 1]; higher is a better match.
    async fn score(&self) -> f64 {
        self.score
    }
    /// Why, e.g. "actor: Taliban", "place: Kabul", "words: airport, troops".
    async fn reasons(&self) -> &[String] {
        &self.reasons
    }
}

pub struct ReportCitation(crate::store::Citation);

#[Object]
impl ReportCitation {
    async fn story(&self) -> Story {
        Story::from_header(self.0.story.clone())
    }
    async fn development_id(&self) -> Uuid {
        self.0.development_id
    }
    async fn reported_in_version(&self) -> i32 {
        self.0.reported_in_version
    }
}

/// A document as it reached the desk: a wire item, an article, a press release, a transcript. Kept whole and never changed.
pub struct Report {
    stored: StoredReport,
    text: Arc<ReportText>,
    extraction: tokio::sync::OnceCell<Extraction>,
}

impl Report {
    pub fn new(stored: StoredReport) -> Report {
        let text = Arc::new(ReportText::new(stored.text.clone()));
        Report {
            stored,
            text,
            extraction: tokio::sync::OnceCell::new(),
        }
    }

    async fn extraction(&self, ctx: &Context<'_>) -> ApiResult<&Extraction> {
        let store = store(ctx)?;
        self.extraction
            .get_or_try_init(|| async {
                store
                    .report_extraction(&self.stored)
                    .await
                    .map_err(ApiError::from)
            })
            .await
    }

    /// The source a draft's development cites: this report, with the draft's passages.
    fn source_of(&self, spans: Vec<model::Span>) -> model::Source {
        let r = &self.stored;
        model::Source {
            name: r
                .publisher
                .clone()
                .or_else(|| r.title.clone())
                .unwrap_or_else(|| "Report".to_owned()),
            url: r.url.clone(),
            published_at: r.published_at,
            kind: r.source_kind,
            report_id: Some(r.id),
            spans,
        }
    }
}

#[Object]
impl Report {
    async fn id(&self) -> Uuid {
        self.stored.id
    }
    /// The source's own identifier (ninjs uri, feed guid or Atom id); null when none was given.
    async fn uri(&self) -> Option<&str> {
        self.stored.uri.as_deref()
    }
    /// The source's version of that uri (ninjs version; 1 otherwise).
    async fn version(&self) -> i32 {
        self.stored.version
    }
    /// The report this one replaces: the same uri at a lower version.
    async fn previous_version(&self, ctx: &Context<'_>) -> ApiResult<Option<Report>> {
        let Some(previous) = self.stored.previous_version else {
            return Ok(None);
        };
        Ok(store(ctx)?.report(previous).await?.map(Report::new))
    }
    async fn title(&self) -> Option<&str> {
        self.stored.title.as_deref()
    }
    async fn publisher(&self) -> Option<&str> {
        self.stored.publisher.as_deref()
    }
    async fn source_kind(&self) -> Option<SourceKind> {
        self.stored.source_kind.map(Into::into)
    }
    async fn url(&self) -> Option<&str> {
        self.stored.url.as_deref()
    }
    async fn byline(&self) -> Option<&str> {
        self.stored.byline.as_deref()
    }
    /// The dateline's place as written (e.g. KABUL).
    async fn dateline(&self) -> Option<&str> {
        self.stored.dateline.as_deref()
    }
    async fn language(&self) -> Option<&str> {
        self.stored.language.as_deref()
    }
    async fn published_at(&self) -> Option<DateTime<Utc>> {
        self.stored.published_at
    }
    /// When storyline recorded it (transaction time).
    async fn received_at(&self) -> DateTime<Utc> {
        self.stored.received_at
    }
    async fn format(&self) -> ReportFormat {
        self.stored.format.into()
    }
    /// The plain text that every mention's span points into (DESIGN.md §11).
    async fn text(&self, ctx: &Context<'_>) -> ApiResult<&str> {
        charged(ctx, &self.stored.text)
    }
    /// Lower-case hex SHA-256 of text as UTF-8.
    async fn content_hash(&self) -> &str {
        &self.stored.content_hash
    }
    /// The feed it came from, if any.
    async fn feed(&self) -> Option<&str> {
        self.stored.feed.as_deref()
    }
    async fn status(&self) -> ReportStatus {
        self.stored.status.into()
    }
    /// The latest dismissal's reason, while DISMISSED.
    async fn dismissed_reason(&self) -> Option<&str> {
        (self.stored.status == DomainStatus::Dismissed)
            .then_some(self.stored.dismissed_reason.as_deref())
            .flatten()
    }
    /// Everything recognised in text, in order of span start.
    async fn mentions(
        &self,
        ctx: &Context<'_>,
        kinds: Option<Vec<MentionKind>>,
    ) -> ApiResult<Vec<Mention>> {
        let extraction = self.extraction(ctx).await?;
        let mentions = extraction
            .mentions
            .iter()
            .filter(|m| kinds.as_ref().is_none_or(|k| k.contains(&m.kind.into())))
            .map(|m| Mention {
                mention: m.clone(),
                text: self.text.clone(),
            })
            .collect();
        listed(ctx, mentions)
    }
    /// Proposed developments, each ready to send as reportDevelopment's input (sources cite this report).
    async fn drafts(&self, ctx: &Context<'_>) -> ApiResult<Vec<DevelopmentDraft>> {
        let extraction = self.extraction(ctx).await?;
        let drafts = extraction
            .drafts
            .iter()
            .map(|draft| DevelopmentDraft {
                source: self.source_of(draft.spans.clone()),
                evidence: draft
                    .evidence
                    .iter()
                    .filter_map(|&i| extraction.mentions.get(i).cloned())
                    .collect(),
                draft: draft.clone(),
                text: self.text.clone(),
            })
            .collect();
        listed(ctx, drafts)
    }
    /// Stories this report is likely about, best first; only stories the viewer may read; none when nothing matches.
    async fn suggested_stories(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
    ) -> ApiResult<Vec<StoryMatch>> {
        let limit = i64::from(first.unwrap_or(5).clamp(0, 50));
        let extraction = self.extraction(ctx).await?;
        let clues = story_clues(extraction, &self.stored.text);
        let total: f64 = clues.iter().map(|c| c.weight).sum();
        let labels: Vec<Clue> = clues
            .iter()
            .map(|c| Clue {
                label: match c.kind {
                    ClueKind::Actor => format!("actor: {}", c.value),
                    ClueKind::Place => format!("place: {}", c.value),
                    ClueKind::Word => format!("word: {}", c.value),
                },
                query: c.query.clone(),
                weight: c.weight,
            })
            .collect();
        let matches = store(ctx)?
            .suggest_stories(&labels, public_only(ctx), limit)
            .await?;
        let matches = matches
            .into_iter()
            .map(|m| StoryMatch {
                story: Story::from_header(m.story),
                score: if total > 0.0 {
                    (m.score / total).clamp(f64::MIN_POSITIVE, 1.0)
                } else {
                    1.0
                },
                reasons: merged_reasons(m.reasons),
            })
            .collect();
        listed(ctx, matches)
    }
    /// Live developments whose sources cite this report.
    async fn cited_by(&self, ctx: &Context<'_>) -> ApiResult<Vec<ReportCitation>> {
        let citations = store(ctx)?
            .report_citations(self.stored.id)
            .await?
            .into_iter()
            .map(ReportCitation)
            .collect();
        listed(ctx, citations)
    }
}

/// "word: airport", "word: troops" become "words: airport, troops".
fn merged_reasons(reasons: Vec<String>) -> Vec<String> {
    let (words, mut others): (Vec<String>, Vec<String>) =
        reasons.into_iter().partition(|r| r.starts_with("word: "));
    if !words.is_empty() {
        let words: Vec<&str> = words
            .iter()
            .map(|w| w.trim_start_matches("word: "))
            .collect();
        others.push(format!("words: {}", words.join(", ")));
    }
    others
}

pub struct ReportResult {
    report: Report,
    deduplicated: bool,
}

#[Object]
impl ReportResult {
    async fn report(&self) -> &Report {
        &self.report
    }
    async fn deduplicated(&self) -> bool {
        self.deduplicated
    }
    /// As AppendResult.readAfter.
    async fn read_after(&self, ctx: &Context<'_>) -> ApiResult<String> {
        Ok(store(ctx)?.read_after().await?)
    }
}

impl Cursor for ReportListKey {
    const KIND: &'static str = "report";
    fn to_text(self) -> String {
        format!("{}/{}", self.received_at.timestamp_micros(), self.id)
    }
    fn from_text(text: &str) -> Option<Self> {
        let (micros, id) = text.split_once('/')?;
        Some(ReportListKey {
            received_at: DateTime::<Utc>::from_timestamp_micros(micros.parse().ok()?)?,
            id: Uuid::parse_str(id).ok()?,
        })
    }
}

pub struct ReportEdge {
    cursor: String,
    node: Report,
}

#[Object]
impl ReportEdge {
    async fn cursor(&self) -> &str {
        &self.cursor
    }
    async fn node(&self) -> &Report {
        &self.node
    }
}

pub struct ReportConnection {
    edges: Vec<ReportEdge>,
    page_info: PageInfo,
    filter: ReportFilter,
}

#[Object]
impl ReportConnection {
    async fn edges(&self, ctx: &Context<'_>) -> ApiResult<&[ReportEdge]> {
        charge_list(ctx, self.edges.len())?;
        Ok(&self.edges)
    }
    async fn nodes(&self, ctx: &Context<'_>) -> ApiResult<Vec<&Report>> {
        listed(ctx, self.edges.iter().map(|e| &e.node).collect())
    }
    async fn page_info(&self) -> &PageInfo {
        &self.page_info
    }
    async fn total_count(&self, ctx: &Context<'_>) -> ApiResult<i32> {
        charge_work(ctx, COUNT_WORK as usize)?;
        Ok(count_as_int(store(ctx)?.count_reports(&self.filter).await?))
    }
}

/// A feed storyline polls for new reports (DESIGN.md §12).
pub struct Feed(crate::store::FeedState);

#[Object]
impl Feed {
    async fn name(&self) -> &str {
        &self.0.config.name
    }
    async fn url(&self) -> &str {
        &self.0.config.url
    }
    /// RSS, ATOM, JSON_FEED or NINJS as detected on the last successful poll; null before one.
    async fn format(&self) -> Option<&str> {
        self.0.format.as_deref()
    }
    async fn publisher(&self) -> Option<&str> {
        self.0.config.publisher.as_deref()
    }
    async fn source_kind(&self) -> Option<SourceKind> {
        self.0.config.source_kind.map(Into::into)
    }
    async fn every_seconds(&self) -> i32 {
        self.0.config.every_seconds
    }
    async fn last_polled_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_polled_at
    }
    async fn last_success_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_success_at
    }
    /// The last poll's error, null when it succeeded.
    async fn last_error(&self) -> Option<&str> {
        self.0.last_error.as_deref()
    }
    async fn next_poll_at(&self) -> Option<DateTime<Utc>> {
        Some(self.0.next_poll_at)
    }
    /// Reports this feed has added (deduplicated items not counted).
    async fn reports_received(&self) -> i32 {
        count_as_int(self.0.reports_received)
    }
}

// ---- resolvers ------------------------------------------------------------

pub(super) async fn report(ctx: &Context<'_>, id: Uuid) -> ApiResult<Option<Report>> {
    reader(ctx)?;
    Ok(store(ctx)?.report(id).await?.map(Report::new))
}

pub(super) async fn reports(
    ctx: &Context<'_>,
    first: Option<i32>,
    after: Option<String>,
    status: Option<ReportStatus>,
    publisher: Option<String>,
    search: Option<String>,
) -> ApiResult<ReportConnection> {
    reader(ctx)?;
    let paging = PageArgs::forward(first, after).paging::<ReportListKey>()?;
    let fetch = paging.fetch();
    let filter = ReportFilter {
        status: status.map(Into::into),
        publisher: publisher
            .map(|p| p.trim().to_owned())
            .filter(|p| !p.is_empty()),
        search: search
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty()),
    };
    let rows = store(ctx)?
        .list_reports(
            &filter,
            paging.after,
            fetch.limit.min(MAX_PAGE_SIZE as i64 + 1),
        )
        .await?;
    let page = paging.page(rows, |r| ReportListKey {
        received_at: r.received_at,
        id: r.id,
    });
    Ok(ReportConnection {
        edges: page
            .edges
            .into_iter()
            .map(|(cursor, stored)| ReportEdge {
                cursor,
                node: Report::new(stored),
            })
            .collect(),
        page_info: page.page_info,
        filter,
    })
}

pub(super) async fn feeds(ctx: &Context<'_>) -> ApiResult<Vec<Feed>> {
    reader(ctx)?;
    Ok(store(ctx)?
        .list_feeds()
        .await?
        .into_iter()
        .map(Feed)
        .collect())
}

pub(super) async fn submit_report(
    ctx: &Context<'_>,
    input: ReportInput,
) -> ApiResult<ReportResult> {
    let credential = writer(ctx).await?;
    let prepared = ReportSubmission::from(input).prepare()?;
    let store = store(ctx)?;
    let kept = store
        .submit_report(&prepared, &credential.principal.name, None, None)
        .await?;
    let stored = store
        .report(kept.id)
        .await?
        .ok_or(ApiError::Internal("a kept report could not be read back"))?;
    Ok(ReportResult {
        report: Report::new(stored),
        deduplicated: kept.deduplicated,
    })
}

pub(super) async fn dismiss_report(
    ctx: &Context<'_>,
    report_id: Uuid,
    reason: String,
) -> ApiResult<Report> {
    let credential = writer(ctx).await?;
    let reason = reason.trim();
    if reason.is_empty()
        || reason.contains('\0')
        || reason.chars().count() > crate::domain::validate::MAX_TEXT_CHARS
    {
        return Err(ApiError::bad_input(
            "reason: must be 1 to 5000 characters, without NUL",
        ));
    }
    let store = store(ctx)?;
    store
        .dismiss_report(report_id, reason, &credential.principal.name)
        .await?;
    let stored = store
        .report(report_id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no report has the id {report_id}")))?;
    Ok(Report::new(stored))
}

/// Sources citing reports must name stored reports, and their spans must
/// lie inside those reports' texts.
pub(super) async fn check_citations(store: &Store, sources: &[model::Source]) -> ApiResult<()> {
    let ids: Vec<Uuid> = sources.iter().filter_map(|s| s.report_id).collect();
    if ids.is_empty() {
        return Ok(());
    }
    let lengths = store.report_text_lengths(&ids).await?;
    for (index, source) in sources.iter().enumerate() {
        let Some(id) = source.report_id else { continue };
        let Some(&(_, length)) = lengths.iter().find(|(known, _)| *known == id) else {
            return Err(ApiError::bad_input(format!(
                "sources[{index}].reportId: no report has the id {id}"
            )));
        };
        if let Some(span) = source.spans.iter().find(|s| s.end > length) {
            return Err(ApiError::bad_input(format!(
                "sources[{index}].spans: {}..{} lies outside the report's text of {length} characters",
                span.start, span.end
            )));
        }
    }
    Ok(())
}
