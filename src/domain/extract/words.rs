//! Tokens seen as words: their text, lower-cased once, and their shape.

use super::text::{Layout, TokenKind};

pub struct Words<'a> {
    pub layout: &'a Layout<'a>,
    lower: Vec<String>,
}

impl<'a> Words<'a> {
    pub fn of(layout: &'a Layout<'a>) -> Words<'a> {
        let lower = (0..layout.tokens.len())
            .map(|i| layout.token_text(i).to_lowercase().replace('’', "'"))
            .collect();
        Words { layout, lower }
    }

    pub fn len(&self) -> usize {
        self.lower.len()
    }

    /// The token lower-cased, with curly apostrophes made straight.
    pub fn lower(&self, i: usize) -> Option<&str> {
        self.lower.get(i).map(String::as_str)
    }

    pub fn raw(&self, i: usize) -> &'a str {
        self.layout.token_text(i)
    }

    pub fn kind(&self, i: usize) -> Option<TokenKind> {
        self.layout.tokens.get(i).map(|t| t.kind)
    }

    pub fn is_word(&self, i: usize) -> bool {
        self.kind(i) == Some(TokenKind::Word)
    }

    /// A word written with a capital first letter.
    pub fn is_capitalized(&self, i: usize) -> bool {
        self.is_word(i) && self.raw(i).chars().next().is_some_and(char::is_uppercase)
    }

    /// Whether the tokens from `i` are the lower-case words of `phrase`.
    pub fn matches(&self, i: usize, phrase: &[&str]) -> bool {
        phrase
            .iter()
            .enumerate()
            .all(|(k, w)| self.lower(i + k) == Some(*w))
    }

    pub fn is_in(&self, i: usize, list: &[&str]) -> bool {
        self.lower(i).is_some_and(|w| list.contains(&w))
    }

    /// The byte range from the start of token `a` to the end of token `b - 1`.
    pub fn bytes(&self, a: usize, b: usize) -> std::ops::Range<usize> {
        self.layout.tokens[a].start..self.layout.tokens[b - 1].end
    }

    /// Tokens `a..b` as written.
    pub fn phrase(&self, a: usize, b: usize) -> &'a str {
        &self.layout.text[self.bytes(a, b)]
    }
}

/// The word without a possessive ending: "Sunday's" is "sunday".
pub fn without_possessive(word: &str) -> &str {
    word.strip_suffix("'s").unwrap_or(word)
}
