//! Reading a number written in digits, in words, or as a vague quantity.

use super::lexicon::{MULTIPLIERS, NUMBER_WORDS, VAGUE_QUANTITIES};
use super::text::TokenKind;
use super::words::Words;

/// A number read from tokens `start..end`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Number {
    pub value: f64,
    pub start: usize,
    pub end: usize,
    /// A vague quantity ("dozens"), read as the least it says.
    pub vague: bool,
    /// A vague quantity that counts only when "of" follows it.
    pub needs_of: bool,
}

fn lookup(table: &[(&str, f64)], word: &str) -> Option<f64> {
    table.iter().find(|(w, _)| *w == word).map(|&(_, v)| v)
}

/// The number starting at token `i`, if one does.
pub fn read_number(words: &Words, i: usize) -> Option<Number> {
    vague_at(words, i)
        .or_else(|| digits_at(words, i))
        .or_else(|| words_at(words, i))
}

fn vague_at(words: &Words, i: usize) -> Option<Number> {
    VAGUE_QUANTITIES
        .iter()
        .find_map(|&(phrase, value, needs_of)| {
            words.matches(i, phrase).then_some(Number {
                value,
                start: i,
                end: i + phrase.len(),
                vague: true,
                needs_of,
            })
        })
}

fn digits_at(words: &Words, i: usize) -> Option<Number> {
    if words.kind(i) != Some(TokenKind::Number) {
        return None;
    }
    let text = words.raw(i);
    if text.contains(':') {
        return None; // a time of day
    }
    let plain: String = text.chars().filter(|&c| c != ',').collect();
    let mut value: f64 = plain.parse().ok()?;
    let mut end = i + 1;
    while let Some(m) = words.lower(end).and_then(|w| lookup(MULTIPLIERS, w)) {
        value *= m;
        end += 1;
    }
    Some(Number {
        value,
        start: i,
        end,
        vague: false,
        needs_of: false,
    })
}

/// "four", "twenty-one", "two hundred", "a dozen".
fn words_at(words: &Words, i: usize) -> Option<Number> {
    let word = words.lower(i)?;
    let (mut value, mut end) = if word == "a" && words.lower(i + 1) == Some("dozen") {
        (12.0, i + 2)
    } else {
        (word_value(word)?, i + 1)
    };
    while let Some(m) = words.lower(end).and_then(|w| lookup(MULTIPLIERS, w)) {
        value *= m;
        end += 1;
    }
    Some(Number {
        value,
        start: i,
        end,
        vague: false,
        needs_of: false,
    })
}

fn word_value(word: &str) -> Option<f64> {
    if let Some(v) = lookup(NUMBER_WORDS, word) {
        return Some(v);
    }
    let (tens, ones) = word.split_once(['-', '‑'])?;
    let tens = lookup(NUMBER_WORDS, tens).filter(|t| *t >= 20.0)?;
    let ones = lookup(NUMBER_WORDS, ones).filter(|o| *o < 10.0)?;
    Some(tens + ones)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::extract::text::Layout;

    fn read(text: &str) -> Option<(f64, bool)> {
        let layout = Layout::of(text);
        let words = Words::of(&layout);
        read_number(&words, 0).map(|n| (n.value, n.vague))
    }

    #[test]
    fn digits_with_separators_and_multipliers() {
        // "killed more than 3,500 people"; "3.5 million"
        assert_eq!(read("3,500 people"), Some((3500.0, false)));
        assert_eq!(read("3.5 million people"), Some((3_500_000.0, false)));
        assert_eq!(
            read("200,000 of their compatriots"),
            Some((200_000.0, false))
        );
    }

    #[test]
    fn number_words_compounds_and_dozens() {
        // "Twenty-two people had died", "A dozen kindergartens", "two hundred"
        assert_eq!(read("Twenty-two people"), Some((22.0, false)));
        assert_eq!(read("A dozen kindergartens"), Some((12.0, false)));
        assert_eq!(read("two hundred homes"), Some((200.0, false)));
        assert_eq!(read("four men"), Some((4.0, false)));
    }

    #[test]
    fn vague_quantities_read_as_the_least_they_say() {
        // "capturing dozens of districts", "tens of thousands of households"
        assert_eq!(read("dozens of districts"), Some((24.0, true)));
        assert_eq!(read("scores of volunteers"), Some((40.0, true)));
        assert_eq!(read("Several hundred U.S. troops"), Some((300.0, true)));
        assert_eq!(
            read("tens of thousands of households"),
            Some((20_000.0, true))
        );
        assert_eq!(read("hundreds of thousands"), Some((200_000.0, true)));
    }

    #[test]
    fn times_and_plain_words_are_not_numbers() {
        assert_eq!(read("6:52 a.m."), None);
        assert_eq!(read("a man died"), None);
        assert_eq!(read("half the town"), None);
    }
}
