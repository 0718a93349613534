//! What a report offers for finding its stories (DESIGN §11): its actors
//! and places, which weigh most, then its most frequent significant words
//! (those the search analyzer does not drop as stop words).

use std::collections::HashMap;

use super::{Extraction, MentionKind};
use crate::domain::search::{actor_query, is_stop_word, search_query};

pub const ACTOR_WEIGHT: f64 = 3.0;
pub const PLACE_WEIGHT: f64 = 3.0;
pub const WORD_WEIGHT: f64 = 1.0;
/// The report's most frequent significant words that are clues.
const WORD_CLUES: usize = 8;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClueKind {
    Actor,
    Place,
    Word,
}

/// A query on the search model, what it stands for, and its weight.
#[derive(Debug, Clone, PartialEq)]
pub struct StoryClue {
    pub kind: ClueKind,
    pub value: String,
    pub query: String,
    pub weight: f64,
}

pub fn story_clues(extraction: &Extraction, text: &str) -> Vec<StoryClue> {
    let mut clues: Vec<StoryClue> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for m in &extraction.mentions {
        let (kind, name, weight) = match (m.kind, &m.actor, &m.location) {
            (MentionKind::Actor, Some(actor), _) => {
                (ClueKind::Actor, actor.name.clone(), ACTOR_WEIGHT)
            }
            (MentionKind::Place, _, Some(place)) => {
                (ClueKind::Place, place.name.clone(), PLACE_WEIGHT)
            }
            _ => continue,
        };
        if !seen.insert(name.to_lowercase()) {
            continue;
        }
        let query = match kind {
            ClueKind::Actor => actor_query(&name).ok().flatten(),
            _ => search_query(&format!("\"{}\"", name.replace('"', " ")))
                .ok()
                .flatten(),
        };
        if let Some(query) = query {
            clues.push(StoryClue {
                kind,
                value: name,
                query: query.as_str().to_owned(),
                weight,
            });
        }
    }
    clues.extend(word_clues(text));
    clues
}

/// The most frequent significant words, ties in order of first use.
fn word_clues(text: &str) -> Vec<StoryClue> {
    let mut counts: HashMap<String, (usize, usize)> = HashMap::new();
    let words = text
        .split(|c: char| !c.is_alphanumeric() && c != '\'' && c != '’')
        .filter(|w| w.chars().count() >= 4 && w.chars().any(char::is_alphabetic))
        .map(|w| w.to_lowercase());
    for (order, word) in words.enumerate() {
        counts.entry(word).or_insert((0, order)).0 += 1;
    }
    let mut ranked: Vec<(String, (usize, usize))> = counts.into_iter().collect();
    ranked.sort_by(|a, b| b.1 .0.cmp(&a.1 .0).then(a.1 .1.cmp(&b.1 .1)));
    ranked
        .into_iter()
        .filter(|(word, _)| !is_stop_word(word))
        .filter_map(|(word, _)| {
            let query = search_query(&word).ok().flatten()?;
            Some(StoryClue {
                kind: ClueKind::Word,
                value: word,
                query: query.as_str().to_owned(),
                weight: WORD_WEIGHT,
            })
        })
        .take(WORD_CLUES)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_words_are_never_clues_and_frequent_words_come_first() {
        let extraction = Extraction {
            mentions: vec![],
            drafts: vec![],
        };
        let clues = story_clues(
            &extraction,
            "The flood and the flood and the levee which broke.",
        );
        let words: Vec<&str> = clues.iter().map(|c| c.value.as_str()).collect();
        assert_eq!(words.first(), Some(&"flood"));
        assert!(!words.contains(&"which") && !words.contains(&"the"));
    }

    #[test]
    fn a_text_of_stop_words_gives_no_clue() {
        let extraction = Extraction {
            mentions: vec![],
            drafts: vec![],
        };
        assert!(story_clues(&extraction, "and the of which there").is_empty());
    }
}
