//! QUOTE: words in double quotation marks, straight or curly. A quotation
//! interrupted by its attribution is one quote; so is one continued into the
//! next paragraph; marks around fewer than four words are never quotes.
//! Who said it is decided in `mod.rs`, sentence by sentence.

use super::text::Layout;

/// One pair of marks (or an opening mark left open at a paragraph's end).
#[derive(Debug, Clone)]
pub struct QuotePart {
    /// Byte of the opening mark.
    pub open: usize,
    /// Byte just after the closing mark, or the paragraph's end.
    pub end: usize,
    /// The quoted words, trimmed.
    pub content: std::ops::Range<usize>,
    pub paragraph: usize,
    pub closed: bool,
}

/// A quotation: its parts and its words, parts joined by a space.
#[derive(Debug, Clone)]
pub struct Quotation {
    pub parts: Vec<QuotePart>,
    pub text: String,
}

impl Quotation {
    pub fn span(&self) -> std::ops::Range<usize> {
        let first = self.parts.first().map_or(0, |p| p.open);
        let last = self.parts.last().map_or(first, |p| p.end);
        first..last
    }
}

const MIN_QUOTE_WORDS: usize = 4;

fn opens(c: char) -> bool {
    matches!(c, '“' | '„' | '«')
}

fn closes(c: char) -> bool {
    matches!(c, '”' | '»')
}

/// Every quotation of the text, in order.
pub fn find_quotations(layout: &Layout) -> Vec<Quotation> {
    let text = layout.text;
    let parts: Vec<QuotePart> = layout
        .paragraphs
        .iter()
        .enumerate()
        .flat_map(|(index, range)| parts_of_paragraph(text, range.clone(), index))
        .collect();
    let mut quotations: Vec<Quotation> = Vec::new();
    for part in parts {
        let joins = quotations
            .last()
            .and_then(|q| q.parts.last())
            .is_some_and(|previous| {
                continues(text, layout, previous, &part) || interrupted(text, previous, &part)
            });
        let words = text[part.content.clone()].to_owned();
        match quotations.last_mut() {
            Some(q) if joins => {
                if !q.text.is_empty() && !words.is_empty() {
                    q.text.push(' ');
                }
                q.text.push_str(&words);
                q.parts.push(part);
            }
            _ => quotations.push(Quotation {
                parts: vec![part],
                text: words,
            }),
        }
    }
    quotations.retain(|q| q.text.split_whitespace().count() >= MIN_QUOTE_WORDS);
    quotations
}

/// Marks paired in one paragraph: a curly mark says which it is, a straight
/// one opens when nothing is open and closes otherwise.
fn parts_of_paragraph(
    text: &str,
    range: std::ops::Range<usize>,
    paragraph: usize,
) -> Vec<QuotePart> {
    let mut parts = Vec::new();
    let mut open: Option<usize> = None;
    for (offset, c) in text[range.clone()].char_indices() {
        let at = range.start + offset;
        let straight = c == '"';
        match open {
            None if opens(c) || straight => open = Some(at),
            Some(start) if closes(c) || straight => {
                parts.push(part(text, start, at, at + c.len_utf8(), paragraph, true));
                open = None;
            }
            Some(_) if opens(c) => open = Some(at),
            _ => {}
        }
    }
    if let Some(start) = open {
        parts.push(part(text, start, range.end, range.end, paragraph, false));
    }
    parts
}

fn part(
    text: &str,
    open: usize,
    content_end: usize,
    end: usize,
    paragraph: usize,
    closed: bool,
) -> QuotePart {
    let mark = text[open..].chars().next().map_or(1, char::len_utf8);
    let inner = &text[open + mark..content_end];
    let lead = inner.len() - inner.trim_start().len();
    let start = open + mark + lead;
    let content = start..start + inner.trim().len();
    QuotePart {
        open,
        end,
        content,
        paragraph,
        closed,
    }
}

/// A quotation left open at a paragraph's end goes on in the next paragraph
/// when that one opens with a mark.
fn continues(text: &str, layout: &Layout, previous: &QuotePart, next: &QuotePart) -> bool {
    !previous.closed
        && next.paragraph == previous.paragraph + 1
        && layout
            .paragraphs
            .get(next.paragraph)
            .is_some_and(|p| p.start == next.open)
        && !text[next.content.clone()].is_empty()
}

/// "… end," X said, "and more …": the attribution ends in a comma and the
/// second part goes on in lower case.
fn interrupted(text: &str, previous: &QuotePart, next: &QuotePart) -> bool {
    if !previous.closed || previous.paragraph != next.paragraph {
        return false;
    }
    let first = text[previous.content.clone()].trim_end();
    let between = text[previous.end..next.open].trim();
    let second = &text[next.content.clone()];
    first.ends_with(',')
        && between.ends_with(',')
        && !between[..between.len() - 1].contains(['.', '!', '?', '"', '“', '”'])
        && second.chars().next().is_some_and(char::is_lowercase)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quotes(text: &str) -> Vec<String> {
        let layout = Layout::of(text);
        find_quotations(&layout)
            .into_iter()
            .map(|q| q.text)
            .collect()
    }

    #[test]
    fn curly_and_straight_marks_both_quote() {
        assert_eq!(
            quotes("“We will rebuild every house,” the mayor said. \"Nobody will be left behind in this town.\""),
            ["We will rebuild every house,", "Nobody will be left behind in this town."]
        );
    }

    #[test]
    fn an_interrupted_quotation_is_one_quote() {
        // "..." X said, "and ...": joined by a space.
        assert_eq!(
            quotes(
                "\"The bridge was closed in time,\" the engineer said, \"and nobody was on it.\""
            ),
            ["The bridge was closed in time, and nobody was on it."]
        );
    }

    #[test]
    fn parts_that_do_not_interrupt_stay_two_quotes() {
        assert_eq!(
            quotes("\"The bridge was closed in time,\" the engineer said. \"Nobody was on it at all.\""),
            ["The bridge was closed in time,", "Nobody was on it at all."]
        );
    }

    #[test]
    fn a_quotation_continued_into_the_next_paragraph_is_one_quote() {
        assert_eq!(
            quotes("She said: \"We will go street by street.\n\n\"Every family will be visited before winter.\""),
            ["We will go street by street. Every family will be visited before winter."]
        );
    }

    #[test]
    fn scare_quotes_of_fewer_than_four_words_are_never_quotes() {
        assert!(quotes("The rebels called the deal “shameful” and an “act of war”.").is_empty());
    }
}
