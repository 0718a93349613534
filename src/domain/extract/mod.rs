//! The report extractor: what a report mentions (dates, quotes, figures,
//! places, actors) and the developments it describes, by DESIGN §11's rules.
//! Pure and deterministic: the same text, anchor and dateline give the same
//! mentions. One rule a file; the words they react to are in `lexicon`.

mod dates;
mod drafts;
mod figures;
mod lexicon;
mod numbers;
mod places;
mod quotes;
pub mod score;
mod speakers;
pub mod suggest;
pub mod text;
mod words;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::domain::model::{ActorKind, ActorRef, FigureInput, Location, QuoteInput, TimePrecision};
pub use drafts::Draft;
pub use places::dateline_location;
pub use text::{normal_form, CodePoints, Span};

use speakers::{People, Speaker, SpeakerKind};
use text::Layout;
use words::Words;

/// Bump when mentions or drafts come out differently for the same report:
/// stored extractions of other versions are then recomputed by `rebuild`.
pub const EXTRACTOR_VERSION: i32 = 2;

/// How far back in its paragraph a quotation looks for its speaker; keeps a
/// paragraph of ten thousand quotations linear.
const MAX_LOOKBACK_SENTENCES: usize = 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MentionKind {
    Date,
    Quote,
    Figure,
    Place,
    Actor,
}

/// Something recognised in the text, with what it resolved to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Mention {
    pub kind: MentionKind,
    pub span: Span,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub precision: Option<TimePrecision>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quote: Option<QuoteInput>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speaker_span: Option<Span>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub figure: Option<FigureInput>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<ActorRef>,
}

impl Mention {
    fn new(kind: MentionKind, span: Span) -> Mention {
        Mention {
            kind,
            span,
            date: None,
            precision: None,
            quote: None,
            speaker_span: None,
            figure: None,
            location: None,
            actor: None,
        }
    }
}

/// What the extractor reads: the text in normal form, the calendar date
/// relative dates resolve against, and the dateline's place.
#[derive(Debug, Clone, Copy)]
pub struct ReportFacts<'a> {
    pub text: &'a str,
    pub anchor: NaiveDate,
    pub dateline: Option<&'a str>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Extraction {
    pub mentions: Vec<Mention>,
    pub drafts: Vec<Draft>,
}

/// Everything the report mentions, in order of span start, and its drafts.
pub fn extract(facts: ReportFacts) -> Extraction {
    let layout = Layout::of(facts.text);
    let words = Words::of(&layout);
    let cp = CodePoints::of(facts.text);
    let reading = Reading::new(&layout, &words, facts);
    let mut mentions = reading.mentions(&cp);
    mentions.sort_by_key(|m| (m.span.start, m.span.end));
    let drafts = drafts::group(&layout, &cp, &mentions, facts);
    Extraction { mentions, drafts }
}

/// The dateline's place in normal capitalisation: "LIMA, Peru" is
/// "Lima".
pub fn dateline_place(dateline: Option<&str>) -> Option<String> {
    let place = dateline?.split([',', '(', '—', '-']).next()?.trim();
    if place.is_empty() {
        return None;
    }
    let words: Vec<String> = place
        .split_whitespace()
        .map(|w| {
            let lower = w.to_lowercase();
            let mut chars = lower.chars();
            chars
                .next()
                .map(|c| c.to_uppercase().chain(chars).collect())
                .unwrap_or_default()
        })
        .collect();
    Some(words.join(" "))
}

struct Reading<'l, 'a> {
    layout: &'l Layout<'a>,
    words: &'l Words<'a>,
    facts: ReportFacts<'a>,
    quotations: Vec<quotes::Quotation>,
    /// Byte ranges inside quotations, sorted.
    quoted: Vec<std::ops::Range<usize>>,
}

impl<'l, 'a> Reading<'l, 'a> {
    fn new(layout: &'l Layout<'a>, words: &'l Words<'a>, facts: ReportFacts<'a>) -> Self {
        let quotations = quotes::find_quotations(layout);
        let mut quoted: Vec<std::ops::Range<usize>> = quotations
            .iter()
            .flat_map(|q| q.parts.iter().map(|p| p.open..p.end))
            .collect();
        quoted.sort_by_key(|r| r.start);
        Reading {
            layout,
            words,
            facts,
            quotations,
            quoted,
        }
    }

    fn is_quoted(&self, token: usize) -> bool {
        let at = self.layout.tokens[token].start;
        let index = self.quoted.partition_point(|r| r.start <= at);
        index > 0 && self.quoted[index - 1].end > at
    }

    fn mentions(&self, cp: &CodePoints) -> Vec<Mention> {
        let mut out = Vec::new();
        let mut dated = vec![false; self.words.len()];
        for sentence in &self.layout.sentences {
            for date in dates::find_dates(self.words, sentence.tokens.clone(), self.facts.anchor) {
                dated[date.tokens.clone()]
                    .iter_mut()
                    .for_each(|d| *d = true);
                let mut m = Mention::new(
                    MentionKind::Date,
                    cp.span(self.words.bytes(date.tokens.start, date.tokens.end)),
                );
                m.date = Some(date.date);
                m.precision = Some(date.precision);
                out.push(m);
            }
        }
        let (mut attributions, named) = self.attributions();
        self.quote_mentions(cp, &mut attributions, &mut out);
        let places = self.place_mentions(&named);
        self.figure_mentions(cp, &attributions, &dated, &places, &mut out);
        for place in places.iter().flatten() {
            let bytes = self.words.bytes(place.tokens.start, place.tokens.end);
            let mut m = Mention::new(MentionKind::Place, cp.span(bytes.clone()));
            m.location = Some(place.location.clone());
            out.push(m);
            if place.is_country && self.acts(place.tokens.start, place.tokens.end) {
                let mut actor = Mention::new(MentionKind::Actor, cp.span(bytes.clone()));
                actor.actor = Some(ActorRef {
                    name: self.layout.text[bytes].to_owned(),
                    kind: ActorKind::Country,
                    role: None,
                });
                out.push(actor);
            }
        }
        self.actor_mentions(cp, &attributions, &mut out);
        out
    }

    /// Whether the word after a country's name makes it the subject of a
    /// verb: a country named as an actor ("Turkey has asked", "Kabul
    /// says").
    fn acts(&self, start: usize, next: usize) -> bool {
        let word = self.words.lower(next).unwrap_or_default();
        let governed = start > 0
            && self.words.lower(start - 1).is_some_and(|w| {
                lexicon::NOUN_PHRASE_BREAKS.contains(&w) && !matches!(w, "the" | "and" | "but")
            });
        !governed && (lexicon::VERB_HINTS.contains(&word) || lexicon::SPEECH_VERBS.contains(&word))
    }

    /// Each sentence's places; people's names are no places.
    fn place_mentions(&self, named: &[std::ops::Range<usize>]) -> Vec<Vec<places::PlaceMention>> {
        let excluded = |i: usize| {
            let index = named.partition_point(|r| r.end <= i);
            named.get(index).is_some_and(|r| r.start <= i)
        };
        let found: Vec<Vec<places::FoundName>> = self
            .layout
            .sentences
            .iter()
            .map(|s| places::find_places(self.words, s.tokens.clone(), &excluded))
            .collect();
        let all: Vec<places::FoundName> = found.iter().flatten().cloned().collect();
        let mut resolved = places::resolve_places(&all).into_iter();
        found
            .iter()
            .map(|sentence| resolved.by_ref().take(sentence.len()).collect())
            .collect()
    }

    /// Each sentence's speaker, from its own speech verb, resolved against
    /// the people named before it; and the tokens naming people, in order.
    fn attributions(&self) -> (Vec<Option<Speaker>>, Vec<std::ops::Range<usize>>) {
        let mut people = People::default();
        let mut named = Vec::new();
        let attributions = self
            .layout
            .sentences
            .iter()
            .map(|sentence| {
                let items = speakers::visible_items(self.words, sentence.tokens.clone(), |i| {
                    self.is_quoted(i)
                });
                let start = sentence.tokens.start;
                // The person a sentence opens with is named before any "he".
                if let Some(subject) = speakers::opening_person(self.words, &items, start) {
                    named.push(subject.tokens.clone());
                    people.resolve(subject);
                }
                let found = speakers::attribution(self.words, &items, start)?;
                if found.kind == SpeakerKind::Person {
                    named.push(found.tokens.clone());
                }
                people.resolve(found)
            })
            .collect();
        named.sort_by_key(|r| r.start);
        (attributions, named)
    }

    fn sentence_of(&self, byte: usize) -> usize {
        self.layout.sentence_at(byte).unwrap_or(0)
    }

    fn quote_mentions(
        &self,
        cp: &CodePoints,
        attributions: &mut [Option<Speaker>],
        out: &mut Vec<Mention>,
    ) {
        for quotation in &self.quotations {
            let span = quotation.span();
            let first = self.sentence_of(span.start);
            let last = self.sentence_of(span.end.saturating_sub(1)).max(first);
            let Some(speaker) = self.speaker_of_quote(quotation, first, last, attributions) else {
                continue;
            };
            for slot in attributions.iter_mut().take(last + 1).skip(first) {
                if slot.is_none() {
                    *slot = Some(speaker.clone());
                }
            }
            let mut m = Mention::new(MentionKind::Quote, cp.span(span));
            m.quote = Some(QuoteInput {
                speaker: speaker.name.clone(),
                speaker_role: speaker.role.clone(),
                text: quotation.text.clone(),
            });
            m.speaker_span =
                Some(cp.span(self.words.bytes(speaker.tokens.start, speaker.tokens.end)));
            out.push(m);
        }
    }

    /// Its own sentences' attribution; for a quotation that is a whole
    /// paragraph, the sentence before (else after); otherwise the nearest
    /// earlier sentence of its paragraph that has one.
    fn speaker_of_quote(
        &self,
        quotation: &quotes::Quotation,
        first: usize,
        last: usize,
        attributions: &[Option<Speaker>],
    ) -> Option<Speaker> {
        if let Some(own) = attributions[first..=last].iter().flatten().next() {
            return Some(own.clone());
        }
        let sentences = &self.layout.sentences;
        let paragraph = sentences[first].paragraph;
        let whole = quotation
            .parts
            .first()
            .is_some_and(|p| self.layout.paragraphs[p.paragraph].start == p.open)
            && quotation.parts.last().is_some_and(|p| {
                let end = self.layout.paragraphs[p.paragraph].end;
                self.layout.text[p.end..end].trim().is_empty()
            });
        if whole {
            let before = first.checked_sub(1).and_then(|s| attributions[s].clone());
            return before.or_else(|| attributions.get(last + 1).cloned().flatten());
        }
        (0..first)
            .rev()
            .take_while(|&s| sentences[s].paragraph == paragraph)
            .take(MAX_LOOKBACK_SENTENCES)
            .find_map(|s| attributions[s].clone())
    }

    fn figure_mentions(
        &self,
        cp: &CodePoints,
        attributions: &[Option<Speaker>],
        dated: &[bool],
        places: &[Vec<places::PlaceMention>],
        out: &mut Vec<Mention>,
    ) {
        let quoted = |i: usize| self.is_quoted(i);
        let is_dated = |i: usize| dated.get(i).copied().unwrap_or(false);
        let context = figures::Context {
            quoted: &quoted,
            dated: &is_dated,
        };
        let place = dateline_place(self.facts.dateline);
        for (index, sentence) in self.layout.sentences.iter().enumerate() {
            for f in figures::find_figures(self.words, sentence.tokens.clone(), &context) {
                let mut m = Mention::new(
                    MentionKind::Figure,
                    cp.span(self.words.bytes(f.tokens.start, f.tokens.end)),
                );
                m.figure = Some(FigureInput {
                    metric: f.metric,
                    value: f.value,
                    qualifier: f.qualifier,
                    unit: f.unit,
                    place: places[index]
                        .first()
                        .map(|p| p.location.name.clone())
                        .or_else(|| place.clone()),
                    claimed_by: attributions[index].as_ref().map(|s| s.name.clone()),
                    low: f.low,
                    high: f.high,
                });
                out.push(m);
            }
        }
    }

    /// People and organisations named as speakers.
    fn actor_mentions(
        &self,
        cp: &CodePoints,
        attributions: &[Option<Speaker>],
        out: &mut Vec<Mention>,
    ) {
        let mut seen: std::collections::HashSet<usize> = out
            .iter()
            .filter(|m| m.kind == MentionKind::Actor)
            .map(|m| m.span.start)
            .collect();
        for speaker in attributions.iter().flatten() {
            let kind = match speaker.kind {
                _ if places::country_named(&speaker.name).is_some() => ActorKind::Country,
                _ if places::is_place_name(&speaker.name) => ActorKind::Government,
                SpeakerKind::Person => ActorKind::Person,
                SpeakerKind::Organisation => ActorKind::Organization,
                SpeakerKind::Unnamed | SpeakerKind::Pronoun => continue,
            };
            // "he" stands for a person named elsewhere; it names no one.
            if self
                .words
                .is_in(speaker.tokens.start, lexicon::PERSON_PRONOUNS)
            {
                continue;
            }
            let span = cp.span(self.words.bytes(speaker.tokens.start, speaker.tokens.end));
            if !seen.insert(span.start) {
                continue;
            }
            let mut m = Mention::new(MentionKind::Actor, span);
            m.actor = Some(ActorRef {
                name: speaker.name.clone(),
                kind,
                role: speaker.role.clone(),
            });
            out.push(m);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn extract_text(text: &str) -> Extraction {
        let anchor = NaiveDate::from_ymd_opt(2024, 3, 1).unwrap_or_default();
        extract(ReportFacts {
            text,
            anchor,
            dateline: Some("LIMA"),
        })
    }

    #[test]
    fn every_span_is_a_slice_of_the_text() {
        let text = normal_form("Rescuers said on Monday that “at least 12 people were killed in Cúcuta,” and Ana Ruiz, the mayor, said, “We will rebuild every house.”\n\n“Nobody will be left behind,” she said.");
        let cp = CodePoints::of(&text);
        let extraction = extract_text(&text);
        assert!(extraction
            .mentions
            .iter()
            .any(|m| m.kind == MentionKind::Quote));
        for m in &extraction.mentions {
            assert!(cp.bytes(m.span).is_some(), "{m:?}");
        }
    }

    #[test]
    fn pathological_megabyte_texts_are_read_in_one_pass() {
        // 10,000 quotation marks, a million digits, no sentence ends.
        let texts = [
            "“word ".repeat(10_000) + &"x ".repeat(480_000),
            "1".repeat(1_048_000),
            "again and again ".repeat(65_000),
            "\"a b c d ".repeat(100_000),
            "Smith said ".repeat(95_000),
        ];
        for text in texts {
            let extraction = extract_text(&text);
            assert!(extraction.drafts.len() <= extraction.mentions.len() + 1);
        }
    }
}
