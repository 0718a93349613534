//! The story snapshot as a read model of the events: the append statements
//! keep it in step (in the store); here it is rebuilt from the events
//! (`rebuild`) and checked against a fresh fold of them (`verify`).

use crate::domain::fold::StoryFold;
use crate::domain::replay::fold_known;
use crate::domain::search::documents_of_fold;
use crate::domain::StoryId;
use crate::store::{RebuildReport, SearchDifference, Store, StoreError};

/// One way a stored snapshot disagrees with the fold of its events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    pub story: StoryId,
    pub detail: String,
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "story {}: {}", self.story, self.detail)
    }
}

/// Rebuilds the story snapshot (its tables and search documents) from the
/// events, swapping the fresh tables in at once; appends wait meanwhile.
/// Replay checkpoints of other fold code are dropped. `on_progress` gets
/// the events replayed.
pub async fn rebuild(
    store: &Store,
    on_progress: impl FnMut(u64),
) -> Result<RebuildReport, StoreError> {
    let mut report = store.rebuild_snapshots(on_progress).await?;
    report.reports = store.reextract_stale_reports().await?;
    Ok(report)
}

/// Reports whose stored content hash is not the hash of their text.
pub async fn verify_reports(store: &Store) -> Result<Vec<String>, StoreError> {
    Ok(store
        .reports_with_wrong_hashes()
        .await?
        .into_iter()
        .map(|(id, stored, actual)| {
            format!("report {id}: contentHash {stored} is not its text's hash {actual}")
        })
        .collect())
}

/// Folds every story's events and compares the result with its stored
/// snapshot. `on_progress` gets the stories checked so far.
pub async fn verify(
    store: &Store,
    mut on_progress: impl FnMut(u64),
) -> Result<Vec<Difference>, StoreError> {
    let mut differences = Vec::new();
    let mut checked = 0u64;
    let mut after = None;
    loop {
        let stories = store.story_ids_after(after, 500).await?;
        let Some(&last) = stories.last() else { break };
        after = Some(last);
        for story in stories {
            differences.extend(verify_story(store, story).await?);
            checked += 1;
            on_progress(checked);
        }
    }
    Ok(differences)
}

async fn verify_story(store: &Store, story: StoryId) -> Result<Vec<Difference>, StoreError> {
    let difference = |detail: String| Difference { story, detail };
    let decoded = match store.read_story(story).await {
        Ok(decoded) => decoded,
        Err(StoreError::Undecodable(e)) => return Ok(vec![difference(e.to_string())]),
        Err(e) => return Err(e),
    };
    let expected = match fold_known(story, &decoded, None) {
        Ok(fold) => fold,
        Err(e) => return Ok(vec![difference(format!("its events do not fold: {e}"))]),
    };
    let actual = match store.load_snapshot(story).await {
        Ok(Some(actual)) => actual,
        Ok(None) => return Ok(vec![difference("no stored snapshot".into())]),
        Err(StoreError::Undecodable(e)) => {
            return Ok(vec![difference(format!(
                "its stored snapshot cannot be read: {e}"
            ))])
        }
        Err(e) => return Err(e),
    };
    let mut found = describe_differences(&expected, &actual);
    let documents = documents_of_fold(&expected);
    found.extend(
        store
            .search_differences(story, &documents)
            .await?
            .into_iter()
            .map(describe_search_difference),
    );
    Ok(found.into_iter().map(difference).collect())
}

fn describe_search_difference(found: SearchDifference) -> String {
    let document = |id: uuid::Uuid| match id.is_nil() {
        true => "the story's own search document".to_owned(),
        false => format!("the search document of development {id}"),
    };
    match found {
        SearchDifference::Missing(id) => format!("{} is missing", document(id)),
        SearchDifference::Unexpected(id) => {
            format!("{} is stored but nothing live has it", document(id))
        }
        SearchDifference::Differs(id) => format!("{} differs from its events", document(id)),
    }
}

/// What differs between the fold of the events and the stored snapshot.
pub fn describe_differences(expected: &StoryFold, actual: &StoryFold) -> Vec<String> {
    let mut found = Vec::new();
    let mut field = |name: &str, same: bool, expected: String, actual: String| {
        if !same {
            found.push(format!(
                "{name}: events say {expected}, snapshot says {actual}"
            ));
        }
    };
    field(
        "version",
        expected.version == actual.version,
        expected.version.to_string(),
        actual.version.to_string(),
    );
    field(
        "slug",
        expected.slug == actual.slug,
        expected.slug.clone(),
        actual.slug.clone(),
    );
    field(
        "title",
        expected.title == actual.title,
        expected.title.clone(),
        actual.title.clone(),
    );
    field(
        "summary",
        expected.summary == actual.summary,
        format!("{:?}", expected.summary),
        format!("{:?}", actual.summary),
    );
    field(
        "topics",
        expected.topics == actual.topics,
        format!("{:?}", expected.topics),
        format!("{:?}", actual.topics),
    );
    field(
        "status",
        expected.status == actual.status,
        format!("{:?}", expected.status),
        format!("{:?}", actual.status),
    );
    field(
        "visibility",
        expected.visibility == actual.visibility,
        format!("{:?}", expected.visibility),
        format!("{:?}", actual.visibility),
    );
    field(
        "embargoUntil",
        expected.embargo_until == actual.embargo_until,
        format!("{:?}", expected.embargo_until),
        format!("{:?}", actual.embargo_until),
    );
    field(
        "updatedAt",
        expected.updated_at == actual.updated_at,
        format!("{:?}", expected.updated_at),
        format!("{:?}", actual.updated_at),
    );
    for (id, development) in &expected.developments {
        match actual.developments.get(id) {
            None => found.push(format!("development {id} is missing from the snapshot")),
            Some(stored) if stored != development => {
                found.push(format!("development {id} differs from its events"))
            }
            Some(_) => {}
        }
    }
    for id in actual
        .developments
        .keys()
        .filter(|id| !expected.developments.contains_key(id))
    {
        found.push(format!(
            "development {id} is in the snapshot but not live in the events"
        ));
    }
    if expected.retracted != actual.retracted {
        found.push("the retracted developments differ".into());
    }
    found
}
