//! Parsed GraphQL documents, remembered by their text. Clients send the
//! same few operations again and again with new variables, and parsing one
//! (pest, and its recursion guard) was about a tenth of the server's CPU
//! under appends at 8 clients (perf). A document is the same whatever
//! request brings its text, so one memory serves the process.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use async_graphql::parser::types::ExecutableDocument;
use async_graphql::Request;

/// Documents remembered at most; then the memory starts afresh, so a
/// client sending ever new texts cannot grow it.
const REMEMBERED_DOCUMENTS: usize = 256;
/// Longer texts are parsed every time: real operations are far shorter.
const REMEMBERED_QUERY_BYTES: usize = 4 * 1024;

static DOCUMENTS: LazyLock<Mutex<HashMap<String, ExecutableDocument>>> =
    LazyLock::new(Mutex::default);

fn documents() -> std::sync::MutexGuard<'static, HashMap<String, ExecutableDocument>> {
    // A panic elsewhere cannot leave a map half written: its entries are
    // whole documents.
    DOCUMENTS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Gives `request` the document of its text `query` if it was parsed before.
pub fn recall(request: &mut Request, query: &str) {
    if query.len() > REMEMBERED_QUERY_BYTES {
        return;
    }
    if let Some(document) = documents().get(query).cloned() {
        request.set_parsed_query(document);
    }
}

/// Remembers the document parsed from `query`.
pub fn remember(query: &str, document: &ExecutableDocument) {
    if query.len() > REMEMBERED_QUERY_BYTES {
        return;
    }
    let mut documents = documents();
    if documents.contains_key(query) {
        return;
    }
    if documents.len() >= REMEMBERED_DOCUMENTS {
        documents.clear();
    }
    documents.insert(query.to_owned(), document.clone());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_remembered_text_brings_back_the_document_it_parsed_to() {
        let query = "query Remembered { stories(first: 2) { nodes { slug } } }";
        let mut first = Request::new(query);
        let parsed = first.parsed_query().cloned().expect("it parses");
        remember(query, &parsed);
        let mut again = Request::new("{ never parsed }");
        recall(&mut again, query);
        let recalled = again.parsed_query().expect("recalled");
        assert_eq!(format!("{recalled:?}"), format!("{parsed:?}"));
    }

    #[test]
    fn ever_new_texts_never_hold_more_than_the_bound() {
        for n in 0..REMEMBERED_DOCUMENTS * 2 + 3 {
            let query = format!("{{ bounded{n} }}");
            let mut request = Request::new(query.clone());
            let parsed = request.parsed_query().cloned().expect("it parses");
            remember(&query, &parsed);
        }
        assert!(documents().len() <= REMEMBERED_DOCUMENTS);
        let long = format!("{{ {} }}", "a ".repeat(REMEMBERED_QUERY_BYTES));
        let mut request = Request::new(long.clone());
        let parsed = request.parsed_query().cloned().expect("it parses");
        remember(&long, &parsed);
        assert!(!documents().contains_key(&long));
    }
}
