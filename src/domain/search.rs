//! What `stories(search:, actor:)` matches: every story's and every live
//! development's words as a search document, and the words of a search box
//! as a query over them.
//!
//! The analysis (split into words, lower-case, drop English stop words,
//! Snowball-stem) runs here rather than in Postgres's `to_tsvector`, so the
//! append statement only stores a ready document: computing it in the
//! database cost a third of batched append throughput (issue 3). Documents
//! and queries go through the same code, so they always agree; Postgres
//! stores the document as a `tsvector`, indexes it (GIN) and matches a
//! `tsquery` built here. [`ANALYZER_VERSION`] names this analysis: stored
//! documents of another version are recomputed when the store migrates.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt::Write;
use std::sync::LazyLock;

use rust_stemmers::{Algorithm, Stemmer};
use serde::Deserialize;
use uuid::Uuid;

use super::fold::StoryFold;
use super::validate::MAX_NAME_CHARS;
use super::view::name_key;
use lexemes::Lexemes;

mod lexemes;

/// Bump when the analysis changes: stored documents are then recomputed.
pub const ANALYZER_VERSION: i32 = 1;

/// English stop words, as Snowball lists them (Postgres's `english.stop`):
/// they take a position but are not indexed.
const STOP_WORDS: [&str; 127] = [
    "a",
    "about",
    "above",
    "after",
    "again",
    "against",
    "all",
    "am",
    "an",
    "and",
    "any",
    "are",
    "as",
    "at",
    "be",
    "because",
    "been",
    "before",
    "being",
    "below",
    "between",
    "both",
    "but",
    "by",
    "can",
    "did",
    "do",
    "does",
    "doing",
    "don",
    "down",
    "during",
    "each",
    "few",
    "for",
    "from",
    "further",
    "had",
    "has",
    "have",
    "having",
    "he",
    "her",
    "here",
    "hers",
    "herself",
    "him",
    "himself",
    "his",
    "how",
    "i",
    "if",
    "in",
    "into",
    "is",
    "it",
    "its",
    "itself",
    "just",
    "me",
    "more",
    "most",
    "my",
    "myself",
    "no",
    "nor",
    "not",
    "now",
    "of",
    "off",
    "on",
    "once",
    "only",
    "or",
    "other",
    "our",
    "ours",
    "ourselves",
    "out",
    "over",
    "own",
    "s",
    "same",
    "she",
    "should",
    "so",
    "some",
    "such",
    "t",
    "than",
    "that",
    "the",
    "their",
    "theirs",
    "them",
    "themselves",
    "then",
    "there",
    "these",
    "they",
    "this",
    "those",
    "through",
    "to",
    "too",
    "under",
    "until",
    "up",
    "very",
    "was",
    "we",
    "were",
    "what",
    "when",
    "where",
    "which",
    "while",
    "who",
    "whom",
    "why",
    "will",
    "with",
    "you",
    "your",
    "yours",
    "yourself",
    "yourselves",
];

/// Postgres keeps word positions up to this (`MAXENTRYPOS - 1`) ...
const MAX_POSITION: u32 = 16_383;
/// ... and refuses lexemes longer than this (`MAXSTRLEN`); its limits of
/// positions per lexeme and of a document's size are kept in `lexemes`.
const MAX_LEXEME_BYTES: usize = 2_047;

/// The lexeme prefix of actor names: words never contain ':', so an actor
/// key cannot meet a word.
const ACTOR_PREFIX: &str = "actor:";

/// The most words (other than stop words) one search may hold: Postgres
/// evaluates a phrase recursively, and a phrase of thousands of words
/// exhausts its stack.
pub const MAX_SEARCH_WORDS: usize = 64;

/// Why a search box or an actor name cannot be searched for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error("a search may hold at most {MAX_SEARCH_WORDS} words (stop words aside)")]
    TooManyWords,
    #[error("an actor name has at most {MAX_NAME_CHARS} characters")]
    NameTooLong,
}

/// Whether the analyzer drops this (lower-case) word as an English stop word.
pub fn is_stop_word(word: &str) -> bool {
    STOP_WORDS.binary_search(&word).is_ok()
}

static STEMMER: LazyLock<Stemmer> = LazyLock::new(|| Stemmer::create(Algorithm::English));

/// A search document in `tsvector` input syntax (`'lexeme':1,4 ...`),
/// sorted by lexeme.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchDocument(String);

impl SearchDocument {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// A search in `tsquery` input syntax.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchQuery(String);

impl SearchQuery {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The words of a story's own fields (title and summary).
pub fn story_document(title: &str, summary: Option<&str>) -> SearchDocument {
    let mut document = DocumentBuilder::default();
    document.add_text(title);
    document.add_text(summary.unwrap_or_default());
    document.finish()
}

/// The parts of a DevelopmentReported payload (or of one merged with its
/// corrections) that are searched. Borrowed where the JSON allows.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Searchable<'a> {
    #[serde(borrow)]
    headline: Cow<'a, str>,
    #[serde(borrow)]
    summary: Option<Cow<'a, str>>,
    #[serde(borrow)]
    location: Option<Named<'a>>,
    #[serde(borrow)]
    actors: Vec<Named<'a>>,
    #[serde(borrow)]
    quotes: Vec<Quoted<'a>>,
    #[serde(borrow)]
    tags: Vec<Cow<'a, str>>,
}

#[derive(Debug, Deserialize)]
struct Named<'a> {
    #[serde(borrow)]
    name: Cow<'a, str>,
}

#[derive(Debug, Deserialize)]
struct Quoted<'a> {
    #[serde(borrow)]
    text: Cow<'a, str>,
}

impl Searchable<'_> {
    fn document(&self) -> SearchDocument {
        self.analysed().finish()
    }

    /// Headline, summary, place, actor names, quotes and tags, in that
    /// order, plus one key per actor for `stories(actor:)`.
    fn analysed(&self) -> DocumentBuilder {
        let mut document = DocumentBuilder::default();
        document.add_text(&self.headline);
        document.add_text(self.summary.as_deref().unwrap_or_default());
        if let Some(place) = &self.location {
            document.add_text(&place.name);
        }
        for actor in &self.actors {
            document.add_text(&actor.name);
            document.add_actor(&actor.name);
        }
        for quote in &self.quotes {
            document.add_text(&quote.text);
        }
        for tag in &self.tags {
            document.add_text(tag);
        }
        document
    }
}

/// The document of a development from its stored payload (JSON).
pub fn development_document(payload: &serde_json::Value) -> SearchDocument {
    Searchable::deserialize(payload)
        .unwrap_or_default()
        .document()
}

/// [`development_document`] from the payload's JSON text, as replays and
/// rebuilds read it.
pub fn development_document_from_text(payload: &str) -> SearchDocument {
    serde_json::from_str::<Searchable<'_>>(payload)
        .unwrap_or_default()
        .document()
}

/// The searched fields of a development, each as its JSON text (`None`
/// when the payload lacks it), as a rebuild reads them: writing and parsing
/// only these costs a fraction of the whole payload. A story's document is
/// the one of its title (as `headline`) and summary.
#[derive(Debug, Default, Clone, Copy)]
pub struct SearchedFields<'a> {
    pub headline: Option<&'a str>,
    pub summary: Option<&'a str>,
    pub location: Option<&'a str>,
    pub actors: Option<&'a str>,
    pub quotes: Option<&'a str>,
    pub tags: Option<&'a str>,
}

/// The document of a payload holding these fields, field for field (one
/// that does not parse empties it, as it does the whole payload's), in
/// Postgres's binary form of a `tsvector` (what
/// `tsvectorsend` writes and `tsvectorrecv` reads), appended to `out`: a
/// rebuild copies its documents in this form, which Postgres stores without
/// parsing text.
pub fn write_binary_document_of_fields(fields: &SearchedFields<'_>, out: &mut Vec<u8>) {
    searchable_of_fields(fields).analysed().write_binary(out);
}

fn searchable_of_fields<'a>(fields: &SearchedFields<'a>) -> Searchable<'a> {
    fn parse<'a, T: Deserialize<'a> + Default>(
        json: Option<&'a str>,
    ) -> Result<T, serde_json::Error> {
        json.map_or_else(|| Ok(T::default()), serde_json::from_str)
    }
    let searchable = || -> Result<Searchable<'a>, serde_json::Error> {
        Ok(Searchable {
            headline: parse(fields.headline)?,
            summary: parse(fields.summary)?,
            location: parse(fields.location)?,
            actors: parse(fields.actors)?,
            quotes: parse(fields.quotes)?,
            tags: parse(fields.tags)?,
        })
    };
    searchable().unwrap_or_default()
}

/// The documents the search model should hold for a story as `fold`
/// leaves it: its own (under the nil id) and each live development's.
pub fn documents_of_fold(fold: &StoryFold) -> Vec<(Uuid, SearchDocument)> {
    let mut documents = vec![(
        Uuid::nil(),
        story_document(&fold.title, fold.summary.as_deref()),
    )];
    documents.extend(fold.developments.values().map(|development| {
        // A record serialises with the payload's field names.
        let payload = serde_json::to_value(development).unwrap_or_default();
        (development.id, development_document(&payload))
    }));
    documents
}

/// The query matching documents that name this actor (trimmed,
/// case-insensitive, as the fold keys actors); `None` for a blank name.
pub fn actor_query(name: &str) -> Result<Option<SearchQuery>, QueryError> {
    if name.trim().chars().count() > MAX_NAME_CHARS {
        return Err(QueryError::NameTooLong);
    }
    Ok(actor_key(name).map(|key| {
        let mut query = String::new();
        push_quoted(&mut query, &key);
        SearchQuery(query)
    }))
}

/// The fold's key of the actor (`view::name_key`), prefixed.
fn actor_key(name: &str) -> Option<String> {
    let key = name_key(name);
    (!key.is_empty()).then(|| format!("{ACTOR_PREFIX}{key}"))
}

/// Calls `emit(lexeme, position)` for each indexed word of `text`, counting
/// positions on from `*position` (stop words take one too, so a phrase
/// query keeps its gaps).
fn analyse(text: &str, position: &mut u32, mut emit: impl FnMut(&str, u32)) {
    let mut lower = String::new();
    for word in text.split(|c: char| !c.is_alphanumeric()) {
        if word.is_empty() {
            continue;
        }
        *position = (*position + 1).min(MAX_POSITION);
        if is_number(word) {
            emit(word, *position);
            continue;
        }
        lower_case_into(word, &mut lower);
        with_remembered_lexeme(&lower, |lexeme| {
            if let Some(lexeme) = lexeme {
                emit(lexeme, *position);
            }
        });
    }
}

/// Whether a word is a number (ASCII digits), its own lexeme: no stop word
/// is one, and the stemmer leaves digits as they are. Numbers skip the
/// remembered words, which a history's counts, years and ids would
/// otherwise crowd out (each seen once, each emptying the memory sooner).
fn is_number(word: &str) -> bool {
    !word.is_empty() && word.len() <= MAX_LEXEME_BYTES && word.bytes().all(|b| b.is_ascii_digit())
}

/// `word.to_lowercase()` into a buffer kept between words.
fn lower_case_into(word: &str, lower: &mut String) {
    lower.clear();
    if word.is_ascii() {
        lower.push_str(word);
        lower.make_ascii_lowercase();
    } else {
        lower.push_str(&word.to_lowercase());
    }
}

/// Words whose lexemes a thread remembers at most (some 100 bytes each);
/// then it starts afresh, so the memory stays bounded whatever text comes
/// by. At 20,000 a rebuild of the scale bench (a vocabulary of 20,000 and
/// more) started afresh so often that stemming was back in its profile.
const REMEMBERED_WORDS: usize = 50_000;
/// Longer words are analysed every time: rare, and costly to keep.
const REMEMBERED_WORD_BYTES: usize = 32;

thread_local! {
    /// The lexeme of each lower-case word this thread analysed lately
    /// (`None`: a stop word, or too long to index). News text repeats its
    /// words, and stemming them afresh was the largest cost of a rebuild's
    /// search documents (a third of its CPU, by perf).
    ///
    /// Hashed with foldhash, seeded at random per process: SipHash cost
    /// 6 % of a rebuild's analysis, and words chosen to collide could slow
    /// no more than this bounded map.
    static LEXEMES: RefCell<HashMap<Box<str>, Option<Box<str>>, foldhash::fast::RandomState>> =
        RefCell::default();
}

/// Calls `use_lexeme` with the lexeme of a lower-case word, from the
/// thread's memory if it can: lent, not copied, as most words of a
/// document are already in it.
fn with_remembered_lexeme<T>(lower: &str, use_lexeme: impl FnOnce(Option<&str>) -> T) -> T {
    if lower.len() > REMEMBERED_WORD_BYTES {
        return use_lexeme(lexeme(lower).as_deref());
    }
    LEXEMES.with_borrow_mut(|known| {
        if let Some(found) = known.get(lower) {
            return use_lexeme(found.as_deref());
        }
        if known.len() >= REMEMBERED_WORDS {
            known.clear();
        }
        let found = known
            .entry(lower.into())
            .or_insert_with(|| lexeme(lower).map(Into::into));
        use_lexeme(found.as_deref())
    })
}

/// The lexeme of a lower-case word: `None` for a stop word, or one too long
/// for Postgres.
fn lexeme(lower: &str) -> Option<String> {
    if is_stop_word(lower) {
        return None;
    }
    Some(STEMMER.stem(lower).into_owned()).filter(|lexeme| lexeme.len() <= MAX_LEXEME_BYTES)
}

#[derive(Default)]
struct DocumentBuilder {
    lexemes: Lexemes,
    position: u32,
}

impl DocumentBuilder {
    fn add_text(&mut self, text: &str) {
        let Self { lexemes, position } = self;
        analyse(text, position, |lexeme, at| lexemes.add(lexeme, Some(at)));
    }

    fn add_actor(&mut self, name: &str) {
        if let Some(key) = actor_key(name).filter(|key| key.len() <= MAX_LEXEME_BYTES) {
            self.lexemes.add(&key, None);
        }
    }

    fn finish(self) -> SearchDocument {
        let (count, bytes) = self.lexemes.len_and_bytes();
        let mut text = String::with_capacity(bytes + 8 * count);
        self.lexemes.for_each(|lexeme, positions| {
            if !text.is_empty() {
                text.push(' ');
            }
            push_quoted(&mut text, lexeme);
            for (n, at) in positions.iter().enumerate() {
                text.push(if n == 0 { ':' } else { ',' });
                let _ = write!(text, "{at}");
            }
        });
        SearchDocument(text)
    }

    /// The lexemes in `tsvectorsend`'s form: their count, then each as a
    /// NUL-terminated string, its number of positions and the positions
    /// (weight D: the top two bits clear), all big-endian. Lexemes come in
    /// byte order, Postgres's own; words hold no NUL (it splits at them).
    fn write_binary(self, out: &mut Vec<u8>) {
        let (count, _) = self.lexemes.len_and_bytes();
        out.extend_from_slice(&(count as u32).to_be_bytes());
        self.lexemes.for_each(|lexeme, positions| {
            out.extend_from_slice(lexeme.as_bytes());
            out.push(0);
            out.extend_from_slice(&(positions.len() as u16).to_be_bytes());
            for &at in positions {
                out.extend_from_slice(&(at as u16).to_be_bytes());
            }
        });
    }
}

/// A lexeme quoted for `tsvector`/`tsquery` input.
fn push_quoted(out: &mut String, lexeme: &str) {
    out.push('\'');
    for c in lexeme.chars() {
        match c {
            '\'' => out.push_str("''"),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out.push('\'');
}

/// The query of a search box, web-search style: every term must match
/// (`kabul airport`); `"quoted words"` must match as a phrase, as must the
/// words of one term (`al-Qaeda`); `or` between terms matches either
/// (binding tighter than the implicit "and": `kabul or kandahar bomb`);
/// `-term` excludes. All terms match within one document: the story's own
/// fields or one development. `None` when nothing searchable is left
/// (stop words or punctuation only): such a search matches no story.
pub fn search_query(text: &str) -> Result<Option<SearchQuery>, QueryError> {
    let mut groups: Vec<Vec<String>> = Vec::new();
    let mut join_next = false;
    let mut words = 0;
    for term in terms(text) {
        if !term.quoted && term.text.eq_ignore_ascii_case("or") {
            join_next = !groups.is_empty();
            continue;
        }
        let Some((phrase, lexemes)) = phrase_query(&term.text) else {
            continue;
        };
        words += lexemes;
        if words > MAX_SEARCH_WORDS {
            return Err(QueryError::TooManyWords);
        }
        let clause = if term.negated {
            format!("!{phrase}")
        } else {
            phrase
        };
        match groups.last_mut() {
            Some(group) if join_next => group.push(clause),
            _ => groups.push(vec![clause]),
        }
        join_next = false;
    }
    if groups.is_empty() {
        return Ok(None);
    }
    let query = groups
        .iter()
        .map(|group| match group.as_slice() {
            [one] => one.clone(),
            many => format!("( {} )", many.join(" | ")),
        })
        .collect::<Vec<_>>()
        .join(" & ");
    Ok(Some(SearchQuery(query)))
}

/// The lexemes of `text` as one phrase (`'a' <-> 'b' <2> 'c'`), keeping
/// the distance of stop words between them, parenthesised when several;
/// and how many lexemes it holds.
fn phrase_query(text: &str) -> Option<(String, usize)> {
    let mut words = Vec::new();
    let mut position = 0;
    analyse(text, &mut position, |lexeme, at| {
        words.push((lexeme.to_owned(), at))
    });
    let ((first, mut previous), rest) = words.split_first().map(|(f, r)| (f.clone(), r))?;
    let mut phrase = String::new();
    push_quoted(&mut phrase, &first);
    if rest.is_empty() {
        return Some((phrase, 1));
    }
    for (lexeme, at) in rest {
        match at - previous {
            1 => phrase.push_str(" <-> "),
            distance => {
                let _ = write!(phrase, " <{distance}> ");
            }
        }
        push_quoted(&mut phrase, lexeme);
        previous = *at;
    }
    Some((format!("( {phrase} )"), words.len()))
}

struct Term {
    text: String,
    quoted: bool,
    negated: bool,
}

/// Splits a search box into terms: runs of non-space, or `"..."` (an
/// unclosed quote runs to the end); a leading `-` negates.
fn terms(text: &str) -> Vec<Term> {
    let mut terms = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        let negated = c == '-';
        if negated {
            chars.next();
        }
        let quoted = chars.peek() == Some(&'"');
        let mut term = String::new();
        if quoted {
            chars.next();
            for c in chars.by_ref() {
                if c == '"' {
                    break;
                }
                term.push(c);
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() || c == '"' {
                    break;
                }
                term.push(c);
                chars.next();
            }
        }
        terms.push(Term {
            text: term,
            quoted,
            negated,
        });
    }
    terms
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [`development_document_from_text`] of a payload holding these
    /// fields, read field by field as a rebuild reads them.
    fn document_of_fields(fields: &SearchedFields<'_>) -> SearchDocument {
        searchable_of_fields(fields).document()
    }

    fn doc(text: &str) -> String {
        story_document(text, None).0
    }

    fn query(text: &str) -> Option<String> {
        search_query(text).unwrap().map(|q| q.0)
    }

    #[test]
    fn stop_words_are_sorted_for_binary_search() {
        assert!(STOP_WORDS.windows(2).all(|pair| pair[0] < pair[1]));
    }

    #[test]
    fn documents_are_stemmed_lower_cased_and_keep_positions_past_stop_words() {
        assert_eq!(
            doc("Taliban warn Turkey against keeping troops at Kabul airport"),
            "'airport':9 'kabul':8 'keep':5 'taliban':1 'troop':6 'turkey':3 'warn':2"
        );
    }

    #[test]
    fn a_repeated_word_lists_every_position_once() {
        assert_eq!(doc("Bomb, bombs; BOMBING"), "'bomb':1,2,3");
    }

    #[test]
    fn a_payload_read_field_by_field_gives_the_document_of_the_whole_payload() {
        let payloads = [
            serde_json::json!({"headline": "Blast at the \"Abbey\" gate", "summary": null,
                "location": {"name": "Kabul", "country": "AF"},
                "actors": [{"name": "ISIS-K", "kind": "GROUP"}],
                "quotes": [{"speaker": "Kirby", "text": "a complex attack"}],
                "tags": ["attack"], "figures": [{"metric": "killed", "value": 13}]}),
            serde_json::json!({"headline": "Only a headline"}),
            // An actor without a name: neither form can read it.
            serde_json::json!({"headline": "Broken", "actors": [{"kind": "GROUP"}]}),
        ];
        for payload in payloads {
            let text = |field: &str| payload.get(field).map(ToString::to_string);
            let (headline, summary, location) =
                (text("headline"), text("summary"), text("location"));
            let (actors, quotes, tags) = (text("actors"), text("quotes"), text("tags"));
            let fields = SearchedFields {
                headline: headline.as_deref(),
                summary: summary.as_deref(),
                location: location.as_deref(),
                actors: actors.as_deref(),
                quotes: quotes.as_deref(),
                tags: tags.as_deref(),
            };
            assert_eq!(
                document_of_fields(&fields),
                development_document_from_text(&payload.to_string()),
                "{payload}"
            );
        }
        let story = SearchedFields {
            headline: Some("\"Kabul airport\""),
            summary: Some("\"Evacuation\""),
            ..SearchedFields::default()
        };
        assert_eq!(
            document_of_fields(&story),
            story_document("Kabul airport", Some("Evacuation"))
        );
    }

    fn remembered_lexeme(lower: &str) -> Option<String> {
        with_remembered_lexeme(lower, |lexeme| lexeme.map(str::to_owned))
    }

    #[test]
    fn a_word_seen_before_gets_the_lexeme_it_got_the_first_time_and_memory_stays_bounded() {
        let first = doc("Talks resumed at the airport; ΟΔΟΣ closed");
        for n in 0..REMEMBERED_WORDS + 10 {
            remembered_lexeme(&format!("word{n}"));
        }
        assert!(LEXEMES.with_borrow(|known| known.len()) <= REMEMBERED_WORDS);
        assert_eq!(doc("Talks resumed at the airport; ΟΔΟΣ closed"), first);
        assert_eq!(remembered_lexeme("the"), None);
        assert_eq!(remembered_lexeme("resumed").as_deref(), Some("resum"));
        let long = "a".repeat(REMEMBERED_WORD_BYTES + 1);
        assert_eq!(remembered_lexeme(&long), lexeme(&long));
        assert!(LEXEMES.with_borrow(|known| !known.contains_key(long.as_str())));
    }

    #[test]
    fn words_split_at_punctuation_and_keep_letters_of_any_script() {
        assert_eq!(
            doc("Erdoğan's al-Qaeda 3,500"),
            "'3':5 '500':6 'al':3 'erdoğan':1 'qaeda':4"
        );
    }

    #[test]
    fn a_document_of_stop_words_only_is_empty() {
        assert_eq!(doc("the and of ..."), "");
    }

    #[test]
    fn development_documents_hold_every_searched_field_and_each_actor_key() {
        let payload = serde_json::json!({
            "headline": "Strike",
            "summary": "Dockers walk out",
            "location": {"name": "Dover"},
            "actors": [{"name": " United States ", "kind": "COUNTRY"}, {"name": "O'Brien", "kind": "PERSON"}],
            "quotes": [{"speaker": "Kirby", "text": "Concerned"}],
            "tags": ["labour"],
            "figures": [{"metric": "ignored", "value": 1}]
        });
        assert_eq!(
            development_document(&payload).0,
            "'actor:o''brien' 'actor:united states' 'brien':9 'concern':10 'docker':2 \
             'dover':5 'labour':11 'o':8 'state':7 'strike':1 'unit':6 'walk':3"
        );
    }

    #[test]
    fn the_payload_text_and_its_json_give_the_same_document() {
        let text =
            r#"{"headline":"Bomb at \"Abbey Gate\"","actors":[{"name":"ISIS-K","kind":"GROUP"}]}"#;
        let value: serde_json::Value = serde_json::from_str(text).unwrap();
        assert_eq!(
            development_document_from_text(text),
            development_document(&value)
        );
        assert!(development_document_from_text(text)
            .0
            .contains("'actor:isis-k'"));
    }

    #[test]
    fn numbers_are_their_own_lexemes_as_the_stemmer_would_leave_them() {
        let numbers = (0..200_000u64)
            .step_by(37)
            .chain([u64::MAX])
            .map(|n| n.to_string())
            .chain(["007".to_owned(), "0".repeat(300)]);
        for number in numbers {
            assert!(is_number(&number));
            assert_eq!(lexeme(&number).as_deref(), Some(number.as_str()));
        }
        assert_eq!(
            doc("1,500 killed in 2021"),
            "'1':1 '2021':5 '500':2 'kill':3"
        );
        assert!(!is_number("1990s") && !is_number("\u{663}") && !is_number(""));
    }

    #[test]
    fn lexemes_with_quotes_and_backslashes_are_escaped() {
        let mut out = String::new();
        push_quoted(&mut out, r"it's a\b");
        assert_eq!(out, r"'it''s a\\b'");
    }

    #[test]
    fn positions_stop_at_the_postgres_limit_without_repeating() {
        let text = "word ".repeat(20_000);
        let document = doc(&text);
        let positions = document.trim_start_matches("'word':").split(',').count();
        assert_eq!(
            positions, 256,
            "Postgres keeps 256 positions a lexeme (MAXNUMPOS)"
        );
        let many = (0..17_000).map(|n| format!("w{n}")).collect::<Vec<_>>();
        let document = doc(&many.join(" "));
        assert!(document.contains(&format!("'w16999':{MAX_POSITION}")));
        assert!(!document.contains(&format!(":{}", MAX_POSITION + 1)));
    }

    #[test]
    fn terms_are_all_required_and_stemmed_like_documents() {
        assert_eq!(
            query("Kabul airports").as_deref(),
            Some("'kabul' & 'airport'")
        );
    }

    #[test]
    fn quoted_words_and_the_words_of_one_term_form_phrases() {
        assert_eq!(
            query(r#""troops at Kabul" al-Qaeda"#).as_deref(),
            Some("( 'troop' <2> 'kabul' ) & ( 'al' <-> 'qaeda' )")
        );
    }

    #[test]
    fn or_joins_its_neighbours_and_binds_tighter_than_and() {
        assert_eq!(
            query("kabul OR kandahar bomb").as_deref(),
            Some("( 'kabul' | 'kandahar' ) & 'bomb'")
        );
        assert_eq!(query("or bomb or").as_deref(), Some("'bomb'"));
    }

    #[test]
    fn a_leading_minus_excludes_a_term() {
        assert_eq!(
            query("bomb -airport").as_deref(),
            Some("'bomb' & !'airport'")
        );
    }

    #[test]
    fn a_search_of_stop_words_or_punctuation_has_no_query() {
        assert_eq!(query("the of -- \"\""), None);
        assert_eq!(query(""), None);
    }

    #[test]
    fn an_unclosed_quote_runs_to_the_end() {
        assert_eq!(
            query("\"abbey gate").as_deref(),
            Some("( 'abbey' <-> 'gate' )")
        );
    }

    #[test]
    fn actor_queries_key_names_as_the_document_does() {
        assert_eq!(
            actor_query("  TALIBAN ").unwrap().map(|q| q.0).as_deref(),
            Some("'actor:taliban'")
        );
        assert_eq!(actor_query("   "), Ok(None));
    }

    #[test]
    fn a_search_holds_at_most_64_words_and_stop_words_do_not_count() {
        let words = |n: usize| {
            (0..n)
                .map(|i| format!("w{i}"))
                .collect::<Vec<_>>()
                .join(" ")
        };
        assert!(search_query(&words(MAX_SEARCH_WORDS)).is_ok());
        assert!(search_query(&format!("{} the of and", words(MAX_SEARCH_WORDS))).is_ok());
        assert_eq!(
            search_query(&format!("\"{}\"", words(MAX_SEARCH_WORDS + 1))),
            Err(QueryError::TooManyWords)
        );
    }

    #[test]
    fn an_actor_name_longer_than_any_stored_one_is_refused() {
        assert!(actor_query(&"x".repeat(MAX_NAME_CHARS)).is_ok());
        assert_eq!(
            actor_query(&"x".repeat(MAX_NAME_CHARS + 1)),
            Err(QueryError::NameTooLong)
        );
    }
}
