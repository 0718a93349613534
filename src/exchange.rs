//! `storyline import`, `export` and `demo`: the NDJSON exchange format
//! (see [`crate::domain::exchange`]) between files and the store.

use std::collections::HashMap;
use std::io::{BufRead, Write};

use crate::domain::events::EventType;
use crate::domain::exchange::{
    parse_import_line, ExchangeLine, ImportLineError, ImportedEvent, RecordLine,
};
use crate::domain::fold::{apply, StoryFold};
use crate::domain::{EventId, Position, StoryId, Version};
use crate::progress::{progress_bar, report_progress};
use crate::store::{EventMetadata, FeedFilter, NewEvent, Store, StoreError};

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
/// before it are.
pub async fn import(store: &Store, input: impl BufRead) -> Result<ImportReport, ExchangeError> {
    let progress = progress_bar("{spinner} {pos} lines imported ({per_sec})");
    let mut report = ImportReport::default();
    let mut stories: HashMap<String, StoryCursor> = HashMap::new();
    let mut pending: Option<PendingBatch> = None;
    let mut line_number = 0u64;
    for line in input.lines() {
        line_number += 1;
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        if let Some(record) = RecordLine::parse(&line) {
            let record = record.map_err(|e| bad_line(line_number, e))?;
            if let Some(batch) = pending.take() {
                write_batch(store, &mut stories, batch, &mut report).await?;
            }
            import_record(store, record, &mut report)
                .await
                .map_err(|e| bad_line(line_number, e))?;
            continue;
        }
        let imported =
            parse_import_line(&line).map_err(|e: ImportLineError| bad_line(line_number, e))?;
        let same_story = pending
            .as_ref()
            .is_some_and(|b| b.slug == imported.slug && b.events.len() < BATCH_SIZE);
        if !same_story {
            if let Some(batch) = pending.take() {
                write_batch(store, &mut stories, batch, &mut report).await?;
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
        write_batch(store, &mut stories, batch, &mut report).await?;
    }
    progress.finish_and_clear();
    store.flush_notifications().await;
    report.stories = stories.len() as u64;
    Ok(report)
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
    // Check the whole batch against the story before writing any of it.
    let mut fold = cursor.fold.clone();
    let now = chrono::Utc::now();
    let mut events = Vec::with_capacity(fresh.len());
    for (line, imported) in &fresh {
        let next = fold.version.next();
        apply(&mut fold, next, now, &imported.event).map_err(|e| bad_line(*line, e))?;
        events.push(new_event(imported, fold.development_time(&imported.event)));
    }
    let metadata = EventMetadata {
        source: Some("import".into()),
        ..EventMetadata::by("import")
    };
    let first_line = fresh.first().map_or(0, |(line, _)| *line);
    let outcome = store
        .append(cursor.id, Some(cursor.fold.version), &events, &metadata)
        .await
        .map_err(|e| match e {
            StoreError::SlugTaken(_)
            | StoreError::EventIdReused(_)
            | StoreError::VersionConflict { .. } => bad_line(first_line, e),
            other => ExchangeError::Store(other),
        })?;
    report.appended += outcome.events.len() as u64;
    for (recorded, (_, imported)) in outcome.events.iter().zip(&fresh) {
        apply(
            &mut cursor.fold,
            recorded.version,
            recorded.recorded_at,
            &imported.event,
        )
        .map_err(|e| bad_line(first_line, e))?;
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
    let mut slugs: HashMap<StoryId, String> = HashMap::new();
    let mut after = Position::START;
    let mut written_before_it_began = 0u64;
    loop {
        let page = store.read_feed(after, 1_000, &FeedFilter::all()).await?;
        let Some(last) = page.last() else { break };
        after = last.position;
        for event in page {
            if event.event_type == EventType::StoryOpened {
                if let Some(slug) = event
                    .payload
                    .get("slug")
                    .and_then(serde_json::Value::as_str)
                {
                    slugs.insert(event.story_id, slug.to_owned());
                }
            }
            let slug = slugs.get(&event.story_id).cloned().unwrap_or_default();
            written_before_it_began += u64::from(event.recorded_at < began);
            write_line(&mut out, &slug, event)?;
            written += 1;
        }
    }
    out.flush()?;
    // Every event recorded before the export began was settled by then
    // (wait_until_settled), so the feed must have given each one; fewer
    // means the feed hides some (stored positions ahead of the cluster, say).
    let stored = store.events_recorded_before(began).await?;
    if stored > written_before_it_began {
        return Err(ExchangeError::Incomplete {
            written: written_before_it_began,
            stored,
        });
    }
    Ok(written)
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
    out.write_all(text.as_bytes())?;
    out.write_all(b"\n")
}

/// Loads the Kabul story; a second run adds nothing.
pub async fn load_demo(store: &Store) -> Result<ImportReport, ExchangeError> {
    import(store, KABUL_FIXTURE.as_bytes()).await
}
