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

/// A bounded memory of parsed documents by their text.
#[derive(Default)]
struct Memory {
    documents: Mutex<HashMap<String, ExecutableDocument>>,
}

impl Memory {
    fn documents(&self) -> std::sync::MutexGuard<'_, HashMap<String, ExecutableDocument>> {
        // A panic elsewhere cannot leave a map half written: its entries are
        // whole documents.
        self.documents
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn recall(&self, request: &mut Request, query: &str) {
        if query.len() > REMEMBERED_QUERY_BYTES {
            return;
        }
        if let Some(document) = self.documents().get(query).cloned() {
            request.set_parsed_query(document);
        }
    }

    fn remember(&self, query: &str, document: &ExecutableDocument) {
        if query.len() > REMEMBERED_QUERY_BYTES {
            return;
        }
        let mut documents = self.documents();
        if documents.contains_key(query) {
            return;
        }
        if documents.len() >= REMEMBERED_DOCUMENTS {
            documents.clear();
        }
        documents.insert(query.to_owned(), document.clone());
    }
}

/// The process's one memory.
static PROCESS_MEMORY: LazyLock<Memory> = LazyLock::new(Memory::default);

/// Gives `request` the document of its text `query` if it was parsed before.
pub fn recall(request: &mut Request, query: &str) {
    PROCESS_MEMORY.recall(request, query);
}

/// Remembers the document parsed from `query`.
pub fn remember(query: &str, document: &ExecutableDocument) {
    PROCESS_MEMORY.remember(query, document);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_remembered_text_brings_back_the_document_it_parsed_to() {
        // A memory of its own: tests run at once, and one clearing the
        // process's memory between these two steps made this fail in CI.
        let memory = Memory::default();
        let query = "query Remembered { stories(first: 2) { nodes { slug } } }";
        let mut first = Request::new(query);
        let parsed = first.parsed_query().cloned().expect("it parses");
        memory.remember(query, &parsed);
        let mut again = Request::new("{ never parsed }");
        memory.recall(&mut again, query);
        let recalled = again.parsed_query().expect("recalled");
        assert_eq!(format!("{recalled:?}"), format!("{parsed:?}"));
    }

    #[test]
    fn ever_new_texts_never_hold_more_than_the_bound() {
        let memory = Memory::default();
        for n in 0..REMEMBERED_DOCUMENTS * 2 + 3 {
            let query = format!("{{ bounded{n} }}");
            let mut request = Request::new(query.clone());
            let parsed = request.parsed_query().cloned().expect("it parses");
            memory.remember(&query, &parsed);
        }
        assert!(memory.documents().len() <= REMEMBERED_DOCUMENTS);
        let long = format!("{{ {} }}", "a ".repeat(REMEMBERED_QUERY_BYTES));
        let mut request = Request::new(long.clone());
        let parsed = request.parsed_query().cloned().expect("it parses");
        memory.remember(&long, &parsed);
        assert!(!memory.documents().contains_key(&long));
    }
}
