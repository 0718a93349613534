//! `storyline import`, `export` and `demo`: the NDJSON exchange format
//! (see [`crate::domain::exchange`]) between files and the store.

use std::collections::HashMap;
use std::io::{BufRead, Seek, SeekFrom, Write};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::domain::events::EventType;
use crate::domain::exchange::{
    parse_import_line, ExchangeLine, ImportLineError, ImportedEvent, RecordLine,
};
use crate::domain::fold::{apply, StoryFold};
use crate::domain::{EventId, Position, StoryId, Version};
use crate::progress::{progress_bar, report_progress};
use crate::store::{EventMetadata, FeedFilter, Kept, NewEvent, Store, StoreError};

/// The demo story, embedded in the binary.
pub const KABUL_FIXTURE: &str = include_str!("../fixtures/kabul-airport-2021.ndjson");

/// Events of one story appended per transaction at most.
const BATCH_SIZE: usize = 500;

/// How long export waits for transactions that were running when it began.
const SETTLE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

#[derive(Debug, thiserror::Error)]
pub enum ExchangeError {
    #[error("line {line}: {message}")]
    BadLine { line: u64, message: String },
    #[error("no story has the slug {0:?}")]
    UnknownStory(String),
    #[error("cannot read input: {0}")]
    Read(#[from] std::io::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(
        "the export is incomplete: {written} events written of the {stored} stored before it began"
    )]
    Incomplete { written: u64, stored: u64 },
}

fn bad_line(line: u64, message: impl ToString) -> ExchangeError {
    ExchangeError::BadLine {
        line,
        message: message.to_string(),
    }
}

/// What an import did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ImportReport {
    pub appended: u64,
    /// Lines whose event was already stored with the same content.
    pub already_present: u64,
    pub stories: u64,
    /// Reports kept (those already kept are not counted).
    pub reports: u64,
    /// Dismissal lines read.
    pub dismissals: u64,
}

/// Where an imported story stands: its id and its fold so far, for checking
/// the next events before anything is written.
struct StoryCursor {
    id: StoryId,
    fold: StoryFold,
}

struct PendingBatch {
    slug: String,
    first_line: u64,
    events: Vec<(u64, ImportedEvent)>,
}

/// Imports NDJSON lines; idempotent by event id. Stops at the first bad line
/// and reports its number; nothing of that line's batch is written, batches
/// before it are. Events are recorded now, whatever the lines say.
pub async fn import(store: &Store, input: impl BufRead) -> Result<ImportReport, ExchangeError> {
    import_lines(store, input, RecordedAt::Now).await
}

/// Imports exported NDJSON keeping each event's `recordedAt` and
/// `metadata` (restoring an export, migrating an archive), so that the
/// known-at axis survives. The whole input is checked first, and nothing
/// is written if any line is bad, lacks `recordedAt`, is recorded in the
/// future, before an earlier line of its story, or before an event the
/// story already holds. Positions are still commit order.
pub async fn import_keeping_recorded_at(
    store: &Store,
    mut input: impl BufRead + Seek,
) -> Result<ImportReport, ExchangeError> {
    check_kept_times(store, &mut input).await?;
    input.seek(SeekFrom::Start(0))?;
    import_lines(store, input, RecordedAt::Kept).await
}

/// When imported events are recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RecordedAt {
    Now,
    /// At the lines' recordedAt (checked before by [`check_kept_times`]).
    Kept,
}

/// Where a story's kept recording times stand while the input is checked.
struct KeptStory {
    /// The last recordedAt of its lines so far.
    last_line: Option<DateTime<Utc>>,
    /// When its last stored event was recorded; `None`: a new story.
    stored_head: Option<DateTime<Utc>>,
}

/// Lines whose ids are looked up in the store at once.
const CHECK_BATCH: usize = 1_000;

/// Reads every line once, writing nothing: each must parse, carry a
/// recordedAt not in the future and not before its story's previous line,
/// and an event not stored yet must not come before its story's head.
async fn check_kept_times(store: &Store, input: &mut impl BufRead) -> Result<(), ExchangeError> {
    let now = Utc::now();
    let mut stories: HashMap<String, KeptStory> = HashMap::new();
    let mut unchecked: Vec<(u64, String, Uuid, DateTime<Utc>)> = Vec::new();
    for line in parsed_lines(input) {
        let (line_number, imported) = match line? {
            (_, ImportLine::Record(_)) => continue,
            (number, ImportLine::Event(imported)) => (number, *imported),
        };
        let Some(recorded_at) = imported.recorded_at else {
            return Err(bad_line(
                line_number,
                "no recordedAt: --keep-recorded-at reads lines that `export` wrote",
            ));
        };
        if recorded_at > now {
            return Err(bad_line(
                line_number,
                format!("recordedAt {recorded_at} is in the future"),
            ));
        }
        let story = match stories.get_mut(&imported.slug) {
            Some(story) => story,
            None => {
                let stored_head = stored_head(store, &imported.slug).await?;
                stories.entry(imported.slug.clone()).or_insert(KeptStory {
                    last_line: None,
                    stored_head,
                })
            }
        };
        if story.last_line.is_some_and(|last| recorded_at < last) {
            return Err(bad_line(
                line_number,
                format!(
                    "recordedAt {recorded_at} is before the previous event of story {:?}:                      recording times follow version order",
                    imported.slug
                ),
            ));
        }
        story.last_line = Some(recorded_at);
        unchecked.push((line_number, imported.slug, imported.id, recorded_at));
        if unchecked.len() >= CHECK_BATCH {
            check_against_heads(store, &stories, std::mem::take(&mut unchecked)).await?;
        }
    }
    check_against_heads(store, &stories, unchecked).await
}

/// When the story with this slug last recorded an event; `None` when no
/// such story is stored.
async fn stored_head(store: &Store, slug: &str) -> Result<Option<DateTime<Utc>>, ExchangeError> {
    let Some(id) = store.find_story_by_slug(slug).await? else {
        return Ok(None);
    };
    Ok(store
        .story_header(id)
        .await?
        .map(|header| header.updated_at))
}

/// Refuses the first line whose event is not stored yet but would be
/// recorded before its story's stored head.
async fn check_against_heads(
    store: &Store,
    stories: &HashMap<String, KeptStory>,
    lines: Vec<(u64, String, Uuid, DateTime<Utc>)>,
) -> Result<(), ExchangeError> {
    let ids: Vec<EventId> = lines.iter().map(|(_, _, id, _)| EventId(*id)).collect();
    let stored: std::collections::HashSet<EventId> = store
        .events_with_ids(&ids)
        .await?
        .into_iter()
        .map(|e| e.id)
        .collect();
    for (line, slug, id, recorded_at) in lines {
        let head = stories.get(&slug).and_then(|s| s.stored_head);
        if !stored.contains(&EventId(id)) && head.is_some_and(|head| recorded_at < head) {
            return Err(bad_line(
                line,
                format!(
                    "recordedAt {recorded_at} is before the last event story {slug:?} holds                      (recorded {})",
                    head.map(|h| h.to_rfc3339()).unwrap_or_default()
                ),
            ));
        }
    }
    Ok(())
}

/// An import appending this many events or more ends by refreshing the
/// planner's statistics: the first queries after a load are not planned on
/// the figures of the tables before it. (About 0.3 s at 1 M events.)
const ANALYZE_AFTER_EVENTS: u64 = 10_000;

async fn import_lines(
    store: &Store,
    input: impl BufRead,
    recorded: RecordedAt,
) -> Result<ImportReport, ExchangeError> {
    let progress = progress_bar("{spinner} {pos} lines imported ({per_sec})");
    let mut report = ImportReport::default();
    let mut stories: HashMap<String, StoryCursor> = HashMap::new();
    let mut pending: Option<PendingBatch> = None;
    for line in parsed_lines(input) {
        let (line_number, line) = line?;
        let imported = match line {
            ImportLine::Event(imported) => *imported,
            ImportLine::Record(record) => {
                if let Some(batch) = pending.take() {
                    write_batch(store, &mut stories, batch, recorded, &mut report).await?;
                }
                import_record(store, record, &mut report)
                    .await
                    .map_err(|e| bad_line(line_number, e))?;
                continue;
            }
        };
        let same_story = pending
            .as_ref()
            .is_some_and(|b| b.slug == imported.slug && b.events.len() < BATCH_SIZE);
        if !same_story {
            if let Some(batch) = pending.take() {
                write_batch(store, &mut stories, batch, recorded, &mut report).await?;
            }
            pending = Some(PendingBatch {
                slug: imported.slug.clone(),
                first_line: line_number,
                events: Vec::new(),
            });
        }
        if let Some(batch) = pending.as_mut() {
            batch.events.push((line_number, imported));
        }
        report_progress(&progress, line_number, "lines imported");
    }
    if let Some(batch) = pending.take() {
        write_batch(store, &mut stories, batch, recorded, &mut report).await?;
    }
    progress.finish_and_clear();
    store.flush_notifications().await;
    if report.appended >= ANALYZE_AFTER_EVENTS {
        store.analyze_after_load().await?;
    }
    report.stories = stories.len() as u64;
    Ok(report)
}

/// What one line of an import holds.
enum ImportLine {
    Record(RecordLine),
    Event(Box<ImportedEvent>),
}

/// The lines of `input` that hold something, each with its number (from
/// 1) and parsed; a line that does not parse is an error at its number.
fn parsed_lines(
    input: impl BufRead,
) -> impl Iterator<Item = Result<(u64, ImportLine), ExchangeError>> {
    input
        .lines()
        .zip(1u64..)
        .filter(|(line, _)| line.as_ref().map_or(true, |l| !l.trim().is_empty()))
        .map(|(line, number)| {
            let line = line?;
            let parsed = match RecordLine::parse(&line) {
                Some(record) => record.map(ImportLine::Record),
                None => parse_import_line(&line).map(|e| ImportLine::Event(Box::new(e))),
            };
            parsed
                .map(|parsed| (number, parsed))
                .map_err(|e: ImportLineError| bad_line(number, e))
        })
}

/// Keeps an exported report or dismissal as it was.
async fn import_record(
    store: &Store,
    record: RecordLine,
    report: &mut ImportReport,
) -> Result<(), StoreError> {
    match record {
        RecordLine::Report(r) => {
            if store
                .import_report(r.id, &r.report, &r.principal, r.received_at)
                .await?
            {
                report.reports += 1;
            }
        }
        RecordLine::Dismissal(d) => {
            store.import_dismissal(&d).await?;
            report.dismissals += 1;
        }
    }
    Ok(())
}

async fn write_batch(
    store: &Store,
    stories: &mut HashMap<String, StoryCursor>,
    batch: PendingBatch,
    recorded: RecordedAt,
    report: &mut ImportReport,
) -> Result<(), ExchangeError> {
    if !stories.contains_key(&batch.slug) {
        let cursor = open_cursor(store, &batch.slug, batch.first_line).await?;
        stories.insert(batch.slug.clone(), cursor);
    }
    let Some(cursor) = stories.get_mut(&batch.slug) else {
        return Ok(());
    };
    let fresh = skip_already_stored(store, cursor.id, batch.events, report).await?;
    if fresh.is_empty() {
        return Ok(());
    }
    // Check the whole batch against the story before writing any of it,
    // folding it into the cursor itself: a bad line or a failed write ends
    // the import, so a cursor holding a batch not written is never read
    // again. (Folding into a copy cost a clone of the story's every
    // development per batch: most of the import's CPU on long stories.)
    let now = chrono::Utc::now();
    let expected = cursor.fold.version;
    let mut events = Vec::with_capacity(fresh.len());
    for (line, imported) in &fresh {
        let recorded_at = match recorded {
            RecordedAt::Now => now,
            RecordedAt::Kept => imported.recorded_at.unwrap_or(now),
        };
        let next = cursor.fold.version.next();
        apply(&mut cursor.fold, next, recorded_at, &imported.event)
            .map_err(|e| bad_line(*line, e))?;
        events.push(new_event(
            imported,
            cursor.fold.development_time(&imported.event),
        ));
    }
    let metadata = EventMetadata {
        source: Some("import".into()),
        ..EventMetadata::by("import")
    };
    let first_line = fresh.first().map_or(0, |(line, _)| *line);
    let appended = match recorded {
        RecordedAt::Now => {
            store
                .append(cursor.id, Some(expected), &events, &metadata)
                .await
        }
        RecordedAt::Kept => {
            let kept: Vec<Kept> = fresh
                .iter()
                .map(|(_, imported)| Kept {
                    recorded_at: imported.recorded_at.unwrap_or(now),
                    metadata: imported
                        .metadata
                        .clone()
                        .unwrap_or_else(|| serde_json::json!(metadata)),
                })
                .collect();
            store
                .append_kept(cursor.id, Some(expected), &events, &kept)
                .await
        }
    };
    let outcome = appended.map_err(|e| match e {
        StoreError::SlugTaken(_)
        | StoreError::EventIdReused(_)
        | StoreError::VersionConflict { .. } => bad_line(first_line, e),
        other => ExchangeError::Store(other),
    })?;
    report.appended += outcome.events.len() as u64;
    if outcome.deduplicated {
        // Another writer stored these events between our look and our
        // append: the story is as the store has it, not as we folded it.
        *cursor = open_cursor(store, &batch.slug, first_line).await?;
    }
    Ok(())
}

/// The story's id and fold: an existing story by slug, or a new id for a
/// story this import opens.
async fn open_cursor(store: &Store, slug: &str, line: u64) -> Result<StoryCursor, ExchangeError> {
    match store.find_story_by_slug(slug).await? {
        // The snapshot projection is the story's current fold; replaying its
        // events again would only repeat that work.
        Some(id) => match store.load_snapshot(id).await? {
            Some(fold) => Ok(StoryCursor { id, fold }),
            None => Err(bad_line(
                line,
                format!("story {slug:?} has no snapshot; run `storyline rebuild`"),
            )),
        },
        None => {
            let id = StoryId::generate();
            Ok(StoryCursor {
                id,
                fold: StoryFold::empty(id),
            })
        }
    }
}

/// Drops events stored before with the same content; a reused id with other
/// content is an error at its line.
async fn skip_already_stored(
    store: &Store,
    story: StoryId,
    events: Vec<(u64, ImportedEvent)>,
    report: &mut ImportReport,
) -> Result<Vec<(u64, ImportedEvent)>, ExchangeError> {
    let ids: Vec<EventId> = events.iter().map(|(_, e)| EventId(e.id)).collect();
    let stored: HashMap<EventId, _> = store
        .events_with_ids(&ids)
        .await?
        .into_iter()
        .map(|e| (e.id, e))
        .collect();
    let mut fresh = Vec::with_capacity(events.len());
    for (line, imported) in events {
        match stored.get(&EventId(imported.id)) {
            None => fresh.push((line, imported)),
            Some(existing) => {
                let same = existing.story_id == story
                    && existing.event_type == imported.event.event_type()
                    && existing.decode().is_ok_and(|e| e.event == imported.event);
                if !same {
                    return Err(bad_line(
                        line,
                        StoreError::EventIdReused(EventId(imported.id)),
                    ));
                }
                report.already_present += 1;
            }
        }
    }
    Ok(fresh)
}

fn new_event(
    imported: &ImportedEvent,
    occurred_at: Option<chrono::DateTime<chrono::Utc>>,
) -> NewEvent {
    NewEvent {
        id: EventId(imported.id),
        event_type: imported.event.event_type(),
        schema_version: crate::domain::events::SCHEMA_VERSION,
        payload: imported.event.to_payload(),
        occurred_at,
    }
}

/// Writes every event (or one story's) as NDJSON that `import` reads back.
pub async fn export(
    store: &Store,
    slug: Option<&str>,
    mut out: impl Write,
) -> Result<u64, ExchangeError> {
    let mut written = 0u64;
    let began = store.database_time().await?;
    store.wait_until_settled(SETTLE_TIMEOUT).await?;
    if let Some(slug) = slug {
        let story = store
            .find_story_by_slug(slug)
            .await?
            .ok_or_else(|| ExchangeError::UnknownStory(slug.to_owned()))?;
        for event in store.read_stream(story, Version(1), None).await? {
            write_line(&mut out, slug, event)?;
            written += 1;
        }
        return Ok(written);
    }
    written += export_reports(store, &mut out).await?;
    let mut feed = FeedExport {
        slugs: HashMap::new(),
        after: Position::START,
        written_before_it_began: 0,
    };
    let deadline = std::time::Instant::now() + SETTLE_TIMEOUT;
    loop {
        written += feed.write_to_head(store, began, &mut out).await?;
        out.flush()?;
        // A writer whose statement began before the export, but whose
        // transaction took its id after the export waited, commits later:
        // its event was recorded before the export began, so wait for it
        // and read on from where the feed ended.
        let stored = store.events_recorded_before(began).await?;
        if stored <= feed.written_before_it_began {
            return Ok(written);
        }
        if std::time::Instant::now() >= deadline {
            // Never settled: the feed hides some events (stored positions
            // ahead of the cluster, say).
            return Err(ExchangeError::Incomplete {
                written: feed.written_before_it_began,
                stored,
            });
        }
        store.wait_until_settled(SETTLE_TIMEOUT).await?;
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

/// Where an export of the global feed stands.
struct FeedExport {
    slugs: HashMap<StoryId, String>,
    after: Position,
    /// Events written that were recorded before the export began.
    written_before_it_began: u64,
}

impl FeedExport {
    /// Writes the feed from where it stopped to its settled head.
    async fn write_to_head(
        &mut self,
        store: &Store,
        began: DateTime<Utc>,
        out: &mut impl Write,
    ) -> Result<u64, ExchangeError> {
        let mut written = 0;
        loop {
            let page = store
                .read_feed(self.after, 1_000, &FeedFilter::all())
                .await?;
            let Some(last) = page.last() else {
                return Ok(written);
            };
            self.after = last.position;
            for event in page {
                if event.event_type == EventType::StoryOpened {
                    if let Some(slug) = event
                        .payload
                        .get("slug")
                        .and_then(serde_json::Value::as_str)
                    {
                        self.slugs.insert(event.story_id, slug.to_owned());
                    }
                }
                let slug = self.slugs.get(&event.story_id).cloned().unwrap_or_default();
                self.written_before_it_began += u64::from(event.recorded_at < began);
                write_line(out, &slug, event)?;
                written += 1;
            }
        }
    }
}

/// Every report whole, then every dismissal: the lines before the events.
async fn export_reports(store: &Store, out: &mut impl Write) -> Result<u64, ExchangeError> {
    let mut written = 0;
    let mut after = None;
    loop {
        let page = store.export_reports(after, 200).await?;
        let Some(last) = page.last() else { break };
        after = Some((last.received_at, last.id));
        for report in page {
            write_record(out, &RecordLine::Report(Box::new(report)))?;
            written += 1;
        }
    }
    for dismissal in store.export_dismissals().await? {
        write_record(out, &RecordLine::Dismissal(dismissal))?;
        written += 1;
    }
    Ok(written)
}

fn write_record(out: &mut impl Write, record: &RecordLine) -> std::io::Result<()> {
    serde_json::to_writer(&mut *out, record)?;
    out.write_all(b"\n")
}

fn write_line(
    out: &mut impl Write,
    slug: &str,
    event: crate::store::RecordedEvent,
) -> std::io::Result<()> {
    let text = export_line(slug, event)?;
    out.write_all(text.as_bytes())?;
    out.write_all(b"\n")
}

/// An event as one line of `export` (without its newline): what `import`
/// reads back, and the body of the relay's messages.
pub fn export_line(slug: &str, event: crate::store::RecordedEvent) -> serde_json::Result<String> {
    // A payload the store could not read comes as its stored text (see
    // store::feed): written back verbatim, so that export loses nothing.
    let (data, raw) = match event.payload {
        serde_json::Value::String(text) => (serde_json::Value::Null, Some(text)),
        payload => (payload, None),
    };
    let line = ExchangeLine {
        story: slug.to_owned(),
        event_type: event.event_type.as_str().to_owned(),
        id: event.id.0,
        data,
        position: Some(event.position.to_string()),
        version: Some(event.version.0),
        recorded_at: Some(event.recorded_at),
        metadata: Some(event.metadata),
    };
    let mut text = serde_json::to_string(&line)?;
    if let Some(raw) = raw {
        // The fields before `data` are a slug, a type name and a UUID, none
        // of which can hold this text.
        text = text.replacen(",\"data\":null,", &format!(",\"data\":{raw},"), 1);
    }
    Ok(text)
}

/// Loads the Kabul story with the times the newsroom learned each event
/// (9 to 14 July 2021), so that its known-at axis shows something; a
/// second run adds nothing.
pub async fn load_demo(store: &Store) -> Result<ImportReport, ExchangeError> {
    import_keeping_recorded_at(store, std::io::Cursor::new(KABUL_FIXTURE.as_bytes())).await
}
