//! The search model (`story_search`): one document per story (its title and
//! summary) and per live development, part of the story snapshot
//! projection. The append statements write it with the rest of their
//! projection (`sql/append/`, `sql/project/`), from
//! documents analysed here in Rust (`domain::search`); this module holds
//! what else touches it: re-analysing a corrected development inside its
//! append's transaction, and filling the table wholesale (rebuild, or
//! stored documents of another analyzer version).

use sqlx::PgConnection;
use uuid::Uuid;

use super::{NewEvent, Store, StoreError};
use crate::domain::events::EventType;
use crate::domain::search::{
    development_document, development_document_from_text, story_document,
    write_binary_document_of_fields, SearchDocument, SearchedFields, ANALYZER_VERSION,
};
use crate::domain::StoryId;

/// The search document an appended event brings, if its type has one.
pub(super) fn document_of(event: &NewEvent) -> Option<SearchDocument> {
    let text = |field: &str| event.payload.get(field).and_then(serde_json::Value::as_str);
    match event.event_type {
        EventType::StoryOpened => Some(story_document(
            text("title").unwrap_or_default(),
            text("summary"),
        )),
        EventType::DevelopmentReported => Some(development_document(&event.payload)),
        // A correction's document is its merged development's, analysed
        // once the append has merged it (`reindex_corrected`).
        EventType::DevelopmentCorrected
        | EventType::DevelopmentRetracted
        | EventType::StoryStatusChanged
        | EventType::DevelopmentVerificationChanged
        | EventType::StoryVisibilityChanged => None,
    }
}

/// After a correction's projection merged its changes (inside the same
/// transaction): the development's document from its merged payload.
pub(super) async fn reindex_corrected(
    conn: &mut PgConnection,
    story: StoryId,
    correction: &serde_json::Value,
) -> Result<(), sqlx::Error> {
    let Some(development) = correction
        .get("developmentId")
        .and_then(serde_json::Value::as_str)
        .and_then(|id| Uuid::parse_str(id).ok())
    else {
        return Ok(());
    };
    let merged: Option<String> = sqlx::query_scalar(sql!("search/merged_development"))
        .bind(story.0)
        .bind(development)
        .fetch_optional(&mut *conn)
        .await?;
    let Some(merged) = merged else {
        return Ok(());
    };
    sqlx::query(sql!("search/replace_document"))
        .bind(story.0)
        .bind(development)
        .bind(development_document_from_text(&merged).as_str())
        .execute(conn)
        .await?;
    Ok(())
}

/// What one search document is made of: a development's searched fields,
/// or a story's title (as `headline`) and summary, each as JSON text.
#[derive(sqlx::FromRow)]
struct Source {
    story_id: Uuid,
    development_id: Uuid,
    headline: Option<String>,
    summary: Option<String>,
    location: Option<String>,
    actors: Option<String>,
    quotes: Option<String>,
    tags: Option<String>,
}

impl Source {
    fn fields(&self) -> SearchedFields<'_> {
        SearchedFields {
            headline: self.headline.as_deref(),
            summary: self.summary.as_deref(),
            location: self.location.as_deref(),
            actors: self.actors.as_deref(),
            quotes: self.quotes.as_deref(),
            tags: self.tags.as_deref(),
        }
    }
}

/// The start of a binary COPY: its signature, no flags, no extension.
const COPY_HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";
/// The end of a binary COPY: a row of -1 fields.
const COPY_TRAILER: &[u8] = &(-1i16).to_be_bytes();

/// A chunk of sources analysed, as the rows of a binary COPY into
/// `story_search` (`search/copy_documents.sql`): Postgres reads the
/// documents in `tsvector`'s binary form instead of parsing their text,
/// which was most of the cost of storing them.
struct Analysed {
    copy: Vec<u8>,
}

impl Analysed {
    fn of(sources: &[Source]) -> Analysed {
        let mut copy = Vec::with_capacity(COPY_HEADER.len() + 192 * sources.len());
        copy.extend_from_slice(COPY_HEADER);
        for source in sources {
            copy.extend_from_slice(&3u16.to_be_bytes());
            for id in [source.story_id, source.development_id] {
                copy.extend_from_slice(&16u32.to_be_bytes());
                copy.extend_from_slice(id.as_bytes());
            }
            let length_at = copy.len();
            copy.extend_from_slice(&0u32.to_be_bytes());
            write_binary_document_of_fields(&source.fields(), &mut copy);
            let length = (copy.len() - length_at - 4) as u32;
            copy[length_at..length_at + 4].copy_from_slice(&length.to_be_bytes());
        }
        copy.extend_from_slice(COPY_TRAILER);
        Analysed { copy }
    }
}

/// Writes the document of every story and live development into an empty
/// `story_search`, as `story_search` resolves on `conn`, from the cursor
/// `declare_sources` opens (`search/declare_sources.sql` or a rebuild's).
/// `conn` must be in a transaction: it reads through the cursor, so memory
/// stays flat however many there are. Returns the documents written.
pub(super) async fn fill_search(
    conn: &mut PgConnection,
    declare_sources: &str,
) -> Result<u64, sqlx::Error> {
    sqlx::query(declare_sources).execute(&mut *conn).await?;
    let mut written = 0u64;
    let mut sources = read_sources(&mut *conn).await?;
    while !sources.is_empty() {
        let (analysed, next) = analyse_while_reading_on(&mut *conn, sources).await?;
        written += insert_documents(&mut *conn, &analysed).await?;
        sources = next;
    }
    sqlx::query(sql!("search/close_sources"))
        .execute(&mut *conn)
        .await?;
    Ok(written)
}

/// [`fill_search`] with its inserts on a connection of their own (inside
/// its own transaction, writing the table `story_search` resolves to there):
/// Postgres reads the next chunk on `reader`, this process analyses the one
/// before, and `writer` stores the one before that, all at once. A
/// rebuild's fresh table is committed before its workers begin, so both see
/// it.
pub(super) async fn fill_search_beside(
    reader: &mut PgConnection,
    writer: &mut PgConnection,
    declare_sources: &str,
) -> Result<u64, sqlx::Error> {
    sqlx::query(declare_sources).execute(&mut *reader).await?;
    let (analysed, mut to_write) = tokio::sync::mpsc::channel::<Analysed>(2);
    let read_and_analyse = async move {
        let mut sources = read_sources(&mut *reader).await?;
        while !sources.is_empty() {
            let (chunk, next) = analyse_while_reading_on(&mut *reader, sources).await?;
            if analysed.send(chunk).await.is_err() {
                // The writer failed; its error is the one to report.
                break;
            }
            sources = next;
        }
        drop(analysed);
        sqlx::query(sql!("search/close_sources"))
            .execute(&mut *reader)
            .await?;
        Ok::<_, sqlx::Error>(())
    };
    let write = async move {
        let mut written = 0u64;
        while let Some(chunk) = to_write.recv().await {
            written += insert_documents(&mut *writer, &chunk).await?;
        }
        Ok::<_, sqlx::Error>(written)
    };
    let ((), written) = tokio::try_join!(read_and_analyse, write)?;
    Ok(written)
}

/// The next chunk of the cursor `search/declare_sources.sql` (or a
/// rebuild's) opened on `conn`.
async fn read_sources(conn: &mut PgConnection) -> Result<Vec<Source>, sqlx::Error> {
    sqlx::query_as(sql!("search/fetch_sources"))
        .fetch_all(conn)
        .await
}

/// Analyses `sources` on a blocking thread while Postgres reads the next
/// chunk on `conn`: the analysis is a third of the work, and the other core
/// is free.
async fn analyse_while_reading_on(
    conn: &mut PgConnection,
    sources: Vec<Source>,
) -> Result<(Analysed, Vec<Source>), sqlx::Error> {
    let analysing = tokio::task::spawn_blocking(move || Analysed::of(&sources));
    let (next, analysed) = tokio::join!(read_sources(conn), analysing);
    let analysed = analysed.map_err(|_| sqlx::Error::WorkerCrashed)?;
    Ok((analysed, next?))
}

async fn insert_documents(conn: &mut PgConnection, chunk: &Analysed) -> Result<u64, sqlx::Error> {
    let mut copy = conn.copy_in_raw(sql!("search/copy_documents")).await?;
    copy.send(chunk.copy.as_slice()).await?;
    copy.finish().await
}

/// Records that the stored documents are this code's analysis.
pub(super) async fn mark_analyzed(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    sqlx::query(sql!("search/mark_analyzed"))
        .bind(ANALYZER_VERSION)
        .execute(conn)
        .await?;
    Ok(())
}

/// How a stored search document disagrees with the one expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SearchDifference {
    Missing(Uuid),
    Unexpected(Uuid),
    Differs(Uuid),
}

impl Store {
    /// Compares the story's stored search documents with `expected`
    /// (development id, document; the story's own under the nil id).
    pub async fn search_differences(
        &self,
        story: StoryId,
        expected: &[(Uuid, SearchDocument)],
    ) -> Result<Vec<SearchDifference>, StoreError> {
        let ids: Vec<Uuid> = expected.iter().map(|(id, _)| *id).collect();
        let documents: Vec<&str> = expected.iter().map(|(_, d)| d.as_str()).collect();
        let rows: Vec<(Option<Uuid>, Option<Uuid>)> = sqlx::query_as(sql!("search/differences"))
            .bind(story.0)
            .bind(&ids)
            .bind(&documents)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|row| match row {
                (Some(id), None) => Some(SearchDifference::Missing(id)),
                (None, Some(id)) => Some(SearchDifference::Unexpected(id)),
                (Some(id), Some(_)) => Some(SearchDifference::Differs(id)),
                (None, None) => None,
            })
            .collect())
    }

    /// Recomputes every search document when the stored ones were made by
    /// another analysis (an older release, or data from before migration
    /// 0006); does nothing otherwise. Appends wait meanwhile.
    pub async fn reanalyse_search_if_stale(&self) -> Result<Option<u64>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let stored: i32 = sqlx::query_scalar(sql!("search/analyzer_version"))
            .fetch_one(&mut *tx)
            .await?;
        if stored == ANALYZER_VERSION {
            return Ok(None);
        }
        sqlx::query(sql!("search/forget_documents"))
            .execute(&mut *tx)
            .await?;
        let written = fill_search(&mut tx, sql!("search/declare_sources")).await?;
        mark_analyzed(&mut tx).await?;
        tx.commit().await?;
        tracing::info!(
            documents = written,
            from = stored,
            to = ANALYZER_VERSION,
            "search documents re-analysed"
        );
        Ok(Some(written))
    }
}
