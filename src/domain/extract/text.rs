//! A report's text in DESIGN §11's normal form, and its layout: paragraphs,
//! sentences (by `sentencex`) and word tokens, all as byte ranges of the text;
//! spans in code points are made only at the end.

use unicode_normalization::UnicodeNormalization;

pub use crate::domain::model::Span;

/// The normal form: paragraphs separated by one blank line, runs of
/// whitespace inside a paragraph one space, nothing around, NFC.
pub fn normal_form(raw: &str) -> String {
    let nfc: String = raw.nfc().collect();
    let mut out = String::with_capacity(nfc.len());
    for paragraph in paragraphs_of(&nfc) {
        if !out.is_empty() {
            out.push_str("\n\n");
        }
        let mut words = paragraph.split_whitespace();
        if let Some(first) = words.next() {
            out.push_str(first);
            for word in words {
                out.push(' ');
                out.push_str(word);
            }
        }
    }
    out
}

/// Paragraphs: text between lines that hold only whitespace.
fn paragraphs_of(text: &str) -> impl Iterator<Item = String> + '_ {
    let mut current = String::new();
    let mut lines = text.lines().peekable();
    std::iter::from_fn(move || {
        while let Some(line) = lines.next() {
            if line.trim().is_empty() {
                if !current.trim().is_empty() {
                    return Some(std::mem::take(&mut current));
                }
                current.clear();
            } else {
                current.push_str(line);
                current.push('\n');
            }
            if lines.peek().is_none() && !current.trim().is_empty() {
                return Some(std::mem::take(&mut current));
            }
        }
        None
    })
}

/// Byte offsets to code point offsets, in one pass.
pub struct CodePoints {
    /// The byte offset of every char boundary, and the text's length.
    boundaries: Vec<usize>,
}

impl CodePoints {
    pub fn of(text: &str) -> CodePoints {
        let mut boundaries: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
        boundaries.push(text.len());
        CodePoints { boundaries }
    }

    pub fn at(&self, byte: usize) -> usize {
        self.boundaries.partition_point(|&b| b < byte)
    }

    pub fn span(&self, bytes: std::ops::Range<usize>) -> Span {
        Span {
            start: self.at(bytes.start),
            end: self.at(bytes.end),
        }
    }

    /// The byte range of a span, or None when it lies outside the text.
    pub fn bytes(&self, span: Span) -> Option<std::ops::Range<usize>> {
        if span.start >= span.end {
            return None;
        }
        let start = *self.boundaries.get(span.start)?;
        let end = *self.boundaries.get(span.end)?;
        Some(start..end)
    }

    pub fn len(&self) -> usize {
        self.boundaries.len() - 1
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Word,
    Number,
    Punct,
}

/// A token: a byte range of the text.
#[derive(Debug, Clone, Copy)]
pub struct Token {
    pub kind: TokenKind,
    pub start: usize,
    pub end: usize,
}

/// A sentence: a byte range, its paragraph, and its tokens.
#[derive(Debug, Clone)]
pub struct Sentence {
    pub start: usize,
    pub end: usize,
    pub paragraph: usize,
    pub tokens: std::ops::Range<usize>,
}

/// The text cut into paragraphs, sentences and tokens.
pub struct Layout<'t> {
    pub text: &'t str,
    pub paragraphs: Vec<std::ops::Range<usize>>,
    pub sentences: Vec<Sentence>,
    pub tokens: Vec<Token>,
}

/// sentencex scans for closing quotation marks ahead of every opening one;
/// feeding it pieces of a bounded size keeps a paragraph of ten thousand
/// unclosed marks linear. Real paragraphs are far shorter.
const SENTENCE_PIECE_BYTES: usize = 4_096;

impl<'t> Layout<'t> {
    pub fn of(text: &'t str) -> Layout<'t> {
        let paragraphs = paragraph_ranges(text);
        let mut sentences = Vec::new();
        let mut tokens = Vec::new();
        for (index, range) in paragraphs.iter().enumerate() {
            for piece in pieces(text, range.clone()) {
                for boundary in sentencex::get_sentence_boundaries("en", &text[piece.clone()]) {
                    let start = piece.start + boundary.start_byte;
                    let raw_end = piece.start + boundary.end_byte;
                    let end = start + text[start..raw_end].trim_end().len();
                    let lead = text[start..end].len() - text[start..end].trim_start().len();
                    let start = start + lead;
                    if start >= end {
                        continue;
                    }
                    let first = tokens.len();
                    tokenize(text, start..end, &mut tokens);
                    sentences.push(Sentence {
                        start,
                        end,
                        paragraph: index,
                        tokens: first..tokens.len(),
                    });
                }
            }
        }
        Layout {
            text,
            paragraphs,
            sentences,
            tokens,
        }
    }

    pub fn token_text(&self, index: usize) -> &'t str {
        let token = self.tokens[index];
        &self.text[token.start..token.end]
    }

    /// The sentence holding a byte offset.
    pub fn sentence_at(&self, byte: usize) -> Option<usize> {
        let index = self.sentences.partition_point(|s| s.end <= byte);
        (index < self.sentences.len() && self.sentences[index].start <= byte)
            .then_some(index)
            .or_else(|| index.checked_sub(1))
    }
}

fn paragraph_ranges(text: &str) -> Vec<std::ops::Range<usize>> {
    let mut ranges = Vec::new();
    let mut start = 0;
    while let Some(found) = text[start..].find("\n\n") {
        ranges.push(start..start + found);
        start += found + 2;
    }
    if start < text.len() {
        ranges.push(start..text.len());
    }
    ranges.retain(|r| !text[r.clone()].trim().is_empty());
    ranges
}

/// A paragraph in pieces of at most SENTENCE_PIECE_BYTES, cut after a
/// sentence-ending mark followed by a space where there is one, else at a
/// space, else at a char boundary.
fn pieces(text: &str, range: std::ops::Range<usize>) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut start = range.start;
    while range.end - start > SENTENCE_PIECE_BYTES {
        let mut limit = start + SENTENCE_PIECE_BYTES;
        while !text.is_char_boundary(limit) {
            limit -= 1;
        }
        let window = &text[start..limit];
        let cut = window
            .rfind(". ")
            .map(|i| i + 2)
            .or_else(|| window.rfind(' ').map(|i| i + 1))
            .filter(|&i| i > 0)
            .unwrap_or(window.len());
        out.push(start..start + cut);
        start += cut;
    }
    if start < range.end {
        out.push(start..range.end);
    }
    out
}

/// Words (letters, with inner apostrophes, hyphens and the dots of "U.S."),
/// numbers (digits with inner commas, dots and colons) and single marks.
fn tokenize(text: &str, range: std::ops::Range<usize>, out: &mut Vec<Token>) {
    let slice = &text[range.clone()];
    let chars: Vec<(usize, char)> = slice.char_indices().collect();
    let mut i = 0;
    while i < chars.len() {
        let (offset, c) = chars[i];
        let start = range.start + offset;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let (kind, next) = if c.is_alphabetic() {
            (TokenKind::Word, word_end(&chars, i))
        } else if c.is_ascii_digit() {
            number_end(&chars, i)
        } else {
            (TokenKind::Punct, i + 1)
        };
        let end = chars.get(next).map_or(range.end, |&(o, _)| range.start + o);
        out.push(Token { kind, start, end });
        i = next;
    }
}

fn is_apostrophe(c: char) -> bool {
    c == '\'' || c == '’'
}

fn word_end(chars: &[(usize, char)], mut i: usize) -> usize {
    let begin = i;
    while i < chars.len() {
        let c = chars[i].1;
        let next = chars.get(i + 1).map(|&(_, c)| c);
        let joined =
            (is_apostrophe(c) || c == '-' || c == '‑') && next.is_some_and(|n| n.is_alphanumeric());
        // the plural possessive: "Merchants’ Guild", "officers' figures"
        let plural_possessive = is_apostrophe(c)
            && i > begin
            && chars[i - 1].1 == 's'
            && !next.is_some_and(|n| n.is_alphanumeric());
        let initialism =
            c == '.' && (is_initialism(chars, begin, i) || is_title_abbreviation(chars, begin, i));
        if c.is_alphanumeric() || c == '\u{0301}' || joined || plural_possessive || initialism {
            i += 1;
        } else {
            break;
        }
    }
    i
}

/// The dot of a short title: "Gen.", "Adm.", "Dr.".
fn is_title_abbreviation(chars: &[(usize, char)], begin: usize, dot: usize) -> bool {
    let word: String = chars[begin..dot]
        .iter()
        .map(|&(_, c)| c)
        .collect::<String>()
        .to_lowercase();
    super::lexicon::TITLE_ABBREVIATIONS.contains(&word.as_str())
}

/// A dot inside or after an initialism: "U.S.", "a.m.", "U.S.-led".
fn is_initialism(chars: &[(usize, char)], begin: usize, dot: usize) -> bool {
    let segment_start = chars[begin..dot]
        .iter()
        .rposition(|&(_, c)| c == '.')
        .map_or(begin, |p| begin + p + 1);
    let single_letter = dot - segment_start == 1;
    let next = chars.get(dot + 1).map(|&(_, c)| c);
    let inside = next.is_some_and(|n| n.is_alphabetic())
        && chars.get(dot + 2).is_some_and(|&(_, c)| c == '.');
    let after_inner = segment_start > begin;
    single_letter && (inside || after_inner)
}

fn number_end(chars: &[(usize, char)], mut i: usize) -> (TokenKind, usize) {
    while i < chars.len() {
        let c = chars[i].1;
        let next = chars.get(i + 1).map(|&(_, c)| c);
        let separator = matches!(c, ',' | '.' | ':') && next.is_some_and(|n| n.is_ascii_digit());
        if c.is_ascii_digit() || separator {
            i += 1;
        } else if c.is_alphabetic()
            || ((c == '-' || c == '‑') && next.is_some_and(|n| n.is_alphabetic()))
        {
            // "1990s", "3rd", "44-year-old": a word, never a count.
            return (TokenKind::Word, word_end(chars, i));
        } else {
            break;
        }
    }
    (TokenKind::Number, i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_form_keeps_one_blank_line_between_paragraphs_and_one_space_inside() {
        let raw = "  First  line\twrapped\nhere.\n\n\n  Second\u{00a0}para.  \n";
        assert_eq!(normal_form(raw), "First line wrapped here.\n\nSecond para.");
    }

    #[test]
    fn normal_form_composes_to_nfc() {
        assert_eq!(normal_form("Cu\u{0301}cuta"), "Cúcuta");
    }

    #[test]
    fn tokens_keep_initialisms_and_numbers_whole() {
        let text = "Several hundred U.S. troops, 3,500 people and 44-year-old men at 6:52 a.m.";
        let layout = Layout::of(text);
        let words: Vec<&str> = (0..layout.tokens.len())
            .map(|i| layout.token_text(i))
            .collect();
        assert_eq!(
            words,
            [
                "Several",
                "hundred",
                "U.S.",
                "troops",
                ",",
                "3,500",
                "people",
                "and",
                "44-year-old",
                "men",
                "at",
                "6:52",
                "a.m."
            ]
        );
    }

    #[test]
    fn a_paragraph_of_unclosed_quotation_marks_splits_in_linear_time() {
        let text = "“x ".repeat(100_000);
        let layout = Layout::of(&text);
        assert!(!layout.sentences.is_empty());
    }

    #[test]
    fn code_points_count_chars_not_bytes() {
        let text = "Cúcuta, Kraków";
        let cp = CodePoints::of(text);
        let at = text.find("Kraków").unwrap_or(0);
        assert_eq!(cp.at(at), 8);
        assert_eq!(cp.bytes(Span { start: 8, end: 14 }), Some(at..text.len()));
    }
}
