//! A search document's lexemes as its words are read: each distinct lexeme
//! once, with the positions of its words, handed out in byte order (the
//! order Postgres keeps a `tsvector` in).
//!
//! Held in one string and a few flat vectors, found again through a hash
//! table: a map of a `String` and a `Vec` per lexeme cost two allocations
//! each, and its ordered lookups (twice for each new lexeme) were most of
//! a rebuild's analysis time by perf.

use std::hash::BuildHasher;
use std::ops::Range;

use hashbrown::HashTable;

/// Postgres keeps at most this many positions per lexeme (`MAXNUMPOS`).
const MAX_POSITIONS_PER_LEXEME: usize = 256;
/// A document's distinct lexemes are kept well under Postgres's 1 MiB
/// tsvector limit; the request body limit already keeps real ones far below.
const MAX_DOCUMENT_BYTES: usize = 512 * 1024;

pub(super) struct Lexemes {
    /// Every distinct lexeme, one after another, in order of first reading.
    text: String,
    /// Where each distinct lexeme lies in `text`.
    spans: Vec<Range<u32>>,
    /// The distinct lexemes by their text, as indexes into `spans`.
    /// Hashed with foldhash seeded at random per process: a report's words
    /// chosen to collide cannot make a document quadratic.
    by_text: HashTable<u32>,
    hasher: foldhash::fast::RandomState,
    /// Each word read with a position: its lexeme (an index into `spans`)
    /// and its position, in the order read.
    words: Vec<(u32, u32)>,
}

/// Room for a development's lexemes without growing: most hold a few dozen.
const TYPICAL_LEXEMES: usize = 32;

impl Default for Lexemes {
    fn default() -> Lexemes {
        Lexemes {
            text: String::with_capacity(8 * TYPICAL_LEXEMES),
            spans: Vec::with_capacity(TYPICAL_LEXEMES),
            by_text: HashTable::with_capacity(TYPICAL_LEXEMES),
            hasher: foldhash::fast::RandomState::default(),
            words: Vec::with_capacity(TYPICAL_LEXEMES),
        }
    }
}

impl Lexemes {
    /// Adds a lexeme, with the position of the word it came from (none for
    /// a key such as an actor's). A new lexeme past the document's bytes is
    /// left out, as Postgres would refuse the document.
    pub(super) fn add(&mut self, lexeme: &str, at: Option<u32>) {
        let Some(index) = self.index_of(lexeme) else {
            return;
        };
        if let Some(at) = at {
            self.words.push((index, at));
        }
    }

    fn index_of(&mut self, lexeme: &str) -> Option<u32> {
        let Self {
            text,
            spans,
            by_text,
            hasher,
            ..
        } = self;
        let hash = hasher.hash_one(lexeme);
        if let Some(&index) = by_text.find(hash, |&i| span_text(text, spans, i) == lexeme) {
            return Some(index);
        }
        if text.len() + lexeme.len() > MAX_DOCUMENT_BYTES {
            return None;
        }
        let index = spans.len() as u32;
        let start = text.len() as u32;
        text.push_str(lexeme);
        spans.push(start..text.len() as u32);
        by_text.insert_unique(hash, index, |&i| hasher.hash_one(span_text(text, spans, i)));
        Some(index)
    }

    /// How many distinct lexemes, and their bytes.
    pub(super) fn len_and_bytes(&self) -> (usize, usize) {
        (self.spans.len(), self.text.len())
    }

    /// Calls `each(lexeme, positions)` for every lexeme in byte order, with
    /// its positions as Postgres keeps them: ascending, each once, the
    /// first 256.
    pub(super) fn for_each(&self, mut each: impl FnMut(&str, &[u32])) {
        // Sorted by their first eight bytes as a number, the bytes after
        // only where those tie: a call to memcmp for each comparison of a
        // few bytes was the largest cost of the sort.
        let mut order: Vec<(u64, u32)> = (0..self.spans.len() as u32)
            .map(|index| (leading_bytes(self.lexeme(index)), index))
            .collect();
        order.sort_unstable_by(|&(a_lead, a), &(b_lead, b)| {
            a_lead
                .cmp(&b_lead)
                .then_with(|| self.lexeme(a).cmp(self.lexeme(b)))
        });
        let mut rank = vec![0u32; order.len()];
        for (place, &(_, index)) in order.iter().enumerate() {
            rank[index as usize] = place as u32;
        }
        // Positions only grow as words are read (the clamp can repeat the
        // last one), so sorting by (rank, position) keeps each lexeme's in
        // reading order, and equal neighbours are the repeats.
        let mut words: Vec<u64> = self
            .words
            .iter()
            .map(|&(index, at)| (u64::from(rank[index as usize]) << 32) | u64::from(at))
            .collect();
        words.sort_unstable();
        words.dedup();
        let mut words = words.into_iter().peekable();
        let mut positions = Vec::new();
        for (place, &(_, index)) in order.iter().enumerate() {
            positions.clear();
            while let Some(word) = words.next_if(|&word| word >> 32 == place as u64) {
                if positions.len() < MAX_POSITIONS_PER_LEXEME {
                    positions.push(word as u32);
                }
            }
            each(self.lexeme(index), &positions);
        }
    }

    fn lexeme(&self, index: u32) -> &str {
        span_text(&self.text, &self.spans, index)
    }
}

/// A lexeme's first eight bytes as a big-endian number, zeros after a
/// shorter one: two lexemes' numbers order as their bytes do, or tie.
fn leading_bytes(lexeme: &str) -> u64 {
    let mut lead = [0u8; 8];
    let bytes = lexeme.as_bytes();
    let n = bytes.len().min(8);
    lead[..n].copy_from_slice(&bytes[..n]);
    u64::from_be_bytes(lead)
}

fn span_text<'a>(text: &'a str, spans: &[Range<u32>], index: u32) -> &'a str {
    let span = &spans[index as usize];
    &text[span.start as usize..span.end as usize]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(lexemes: &Lexemes) -> Vec<(String, Vec<u32>)> {
        let mut found = Vec::new();
        lexemes.for_each(|lexeme, positions| found.push((lexeme.to_owned(), positions.to_vec())));
        found
    }

    #[test]
    fn lexemes_come_in_byte_order_with_their_positions_once_each() {
        let mut lexemes = Lexemes::default();
        for (lexeme, at) in [
            ("kabul", 1),
            ("airport", 2),
            ("Zulu", 3),
            ("kabul", 4),
            ("kabul", 4),
        ] {
            lexemes.add(lexeme, Some(at));
        }
        lexemes.add("actor:taliban", None);
        assert_eq!(
            listed(&lexemes),
            [
                ("Zulu".to_owned(), vec![3]),
                ("actor:taliban".to_owned(), vec![]),
                ("airport".to_owned(), vec![2]),
                ("kabul".to_owned(), vec![1, 4]),
            ]
        );
    }

    proptest::proptest! {
        /// The rules as an ordered map of each lexeme's positions states
        /// them, which is how this was built before.
        #[test]
        fn lexemes_agree_with_an_ordered_map_of_their_positions(
            words in proptest::collection::vec(("[a-c\u{e9}]{0,10}", proptest::option::of(0u32..5)), 0..200)
        ) {
            let mut lexemes = Lexemes::default();
            let mut expected = std::collections::BTreeMap::<String, Vec<u32>>::new();
            let mut at = 0;
            for (lexeme, step) in &words {
                let position = step.map(|step| { at += step; at });
                lexemes.add(lexeme, position);
                let positions = expected.entry(lexeme.clone()).or_default();
                if let Some(position) = position {
                    if positions.len() < MAX_POSITIONS_PER_LEXEME && positions.last() != Some(&position) {
                        positions.push(position);
                    }
                }
            }
            proptest::prop_assert_eq!(listed(&lexemes), expected.into_iter().collect::<Vec<_>>());
        }
    }

    #[test]
    fn a_lexeme_keeps_its_first_256_positions() {
        let mut lexemes = Lexemes::default();
        for at in 1..=300 {
            lexemes.add("again", Some(at));
        }
        let found = listed(&lexemes);
        assert_eq!(found[0].1, (1..=256).collect::<Vec<u32>>());
    }

    #[test]
    fn new_lexemes_past_the_document_bytes_are_left_out_but_known_ones_still_count() {
        let mut lexemes = Lexemes::default();
        let long = "x".repeat(2_000);
        let mut at = 0;
        while lexemes.len_and_bytes().1 + 2_001 <= MAX_DOCUMENT_BYTES {
            at += 1;
            lexemes.add(&format!("{long}{at}"), Some(at));
        }
        let (count, bytes) = lexemes.len_and_bytes();
        lexemes.add(&format!("{long}-refused"), Some(at + 1));
        lexemes.add(&format!("{long}1"), Some(at + 2));
        assert_eq!(lexemes.len_and_bytes(), (count, bytes));
        let found = listed(&lexemes);
        let first = found.iter().find(|(l, _)| *l == format!("{long}1"));
        assert_eq!(first.map(|(_, p)| p.clone()), Some(vec![1, at + 2]));
    }
}
