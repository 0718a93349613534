//! Drafts: the mentions grouped into the developments a report describes.
//! Consecutive sentences about one event (the same resolved DATE, or one
//! speaker's quotes) make one draft; every QUOTE and FIGURE is in exactly one.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::text::{CodePoints, Layout, Span};
use super::{dateline_place, Mention, MentionKind, ReportFacts};
use crate::domain::model::{ActorRef, FigureInput, Location, QuoteInput, TimePrecision};

/// A proposed development: DevelopmentInput's fields, and the mentions (by
/// index) it was drawn from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Draft {
    pub headline: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    pub occurred_on: NaiveDate,
    pub precision: TimePrecision,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    pub actors: Vec<ActorRef>,
    pub quotes: Vec<QuoteInput>,
    pub figures: Vec<FigureInput>,
    /// The passages the draft rests on, for its source's citation.
    pub spans: Vec<Span>,
    pub evidence: Vec<usize>,
}

pub const MAX_HEADLINE: usize = 200;
const MAX_SUMMARY: usize = 5_000;

/// A run of sentences becoming one draft.
struct Run {
    sentences: std::ops::Range<usize>,
    date: Option<(NaiveDate, TimePrecision)>,
    speaker: Option<String>,
}

pub fn group(
    layout: &Layout,
    cp: &CodePoints,
    mentions: &[Mention],
    facts: ReportFacts,
) -> Vec<Draft> {
    let sentence_spans: Vec<Span> = layout
        .sentences
        .iter()
        .map(|s| cp.span(s.start..s.end))
        .collect();
    let home = |m: &Mention| sentence_spans.partition_point(|s| s.end <= m.span.start);
    let mut by_sentence: Vec<Vec<usize>> = vec![Vec::new(); sentence_spans.len()];
    for (index, m) in mentions.iter().enumerate() {
        if let Some(slot) = by_sentence.get_mut(home(m)) {
            slot.push(index);
        }
    }
    // Sentences a quotation runs through belong with the sentence it opens in.
    let mut covered = vec![false; sentence_spans.len()];
    for m in mentions.iter().filter(|m| m.kind == MentionKind::Quote) {
        let first = home(m);
        let last = sentence_spans.partition_point(|s| s.end < m.span.end);
        for c in covered.iter_mut().take(last + 1).skip(first + 1) {
            *c = true;
        }
    }
    let significant = |s: usize| {
        by_sentence[s].iter().any(|&i| {
            matches!(
                mentions[i].kind,
                MentionKind::Date | MentionKind::Quote | MentionKind::Figure
            )
        })
    };
    let mut runs: Vec<Run> = Vec::new();
    for s in 0..sentence_spans.len() {
        if covered[s] && !significant(s) {
            if let Some(run) = runs.last_mut().filter(|r| r.sentences.end == s) {
                run.sentences.end = s + 1;
            }
            continue;
        }
        if !significant(s) {
            continue;
        }
        let date = by_sentence[s]
            .iter()
            .find_map(|&i| Some((mentions[i].date?, mentions[i].precision?)));
        let speaker = by_sentence[s]
            .iter()
            .find_map(|&i| mentions[i].quote.as_ref().map(|q| q.speaker.clone()));
        let same_paragraph = |run: &Run| {
            layout.sentences[run.sentences.end - 1].paragraph == layout.sentences[s].paragraph
        };
        // One speaker's quotes go on across paragraphs; anything else
        // joins a run only in its paragraph, with no other date or speaker.
        let joins = |run: &Run| {
            let same_speaker = speaker.is_some() && speaker == run.speaker;
            let compatible = (date.is_none() || run.date.is_none() || date == run.date)
                && (speaker.is_none() || run.speaker.is_none() || speaker == run.speaker);
            run.sentences.end == s
                && (same_speaker && (date.is_none() || date == run.date)
                    || compatible && same_paragraph(run))
        };
        match runs.last_mut() {
            Some(run) if joins(run) => {
                run.sentences.end = s + 1;
                run.date = run.date.or(date);
                run.speaker = run.speaker.clone().or(speaker);
            }
            _ => runs.push(Run {
                sentences: s..s + 1,
                date,
                speaker,
            }),
        }
    }
    runs.into_iter()
        .map(|run| draft_of(layout, mentions, &by_sentence, &sentence_spans, run, facts))
        .collect()
}

fn draft_of(
    layout: &Layout,
    mentions: &[Mention],
    by_sentence: &[Vec<usize>],
    sentence_spans: &[Span],
    run: Run,
    facts: ReportFacts,
) -> Draft {
    let evidence: Vec<usize> = run
        .sentences
        .clone()
        .flat_map(|s| by_sentence[s].iter().copied())
        .collect();
    let of_kind = |kind: MentionKind| {
        evidence
            .iter()
            .map(|&i| &mentions[i])
            .filter(move |m| m.kind == kind)
    };
    let (occurred_on, precision) = of_kind(MentionKind::Date)
        .find_map(|m| Some((m.date?, m.precision?)))
        .unwrap_or((facts.anchor, TimePrecision::Day));
    let location = of_kind(MentionKind::Place)
        .find_map(|m| m.location.clone())
        .or_else(|| {
            dateline_place(facts.dateline).map(|name| super::places::dateline_location(&name))
        });
    let mut actors: Vec<ActorRef> = Vec::new();
    for actor in of_kind(MentionKind::Actor).filter_map(|m| m.actor.clone()) {
        if !actors
            .iter()
            .any(|a| a.name.eq_ignore_ascii_case(&actor.name))
        {
            actors.push(actor);
        }
    }
    let sentence_text = |s: usize| &layout.text[layout.sentences[s].start..layout.sentences[s].end];
    let headline = cut_at_word(sentence_text(run.sentences.start), MAX_HEADLINE);
    let rest: Vec<&str> = run.sentences.clone().skip(1).map(sentence_text).collect();
    let summary = (!rest.is_empty()).then(|| cut_at_word(&rest.join(" "), MAX_SUMMARY));
    Draft {
        headline,
        summary,
        occurred_on,
        precision,
        location,
        actors,
        quotes: of_kind(MentionKind::Quote)
            .filter_map(|m| m.quote.clone())
            .collect(),
        figures: of_kind(MentionKind::Figure)
            .filter_map(|m| m.figure.clone())
            .collect(),
        spans: passages(layout, sentence_spans, run.sentences),
        evidence,
    }
}

/// The run's sentences as passages: one per paragraph it touches.
fn passages(
    layout: &Layout,
    sentence_spans: &[Span],
    sentences: std::ops::Range<usize>,
) -> Vec<Span> {
    let mut out: Vec<Span> = Vec::new();
    let mut paragraph = None;
    for s in sentences {
        let span = sentence_spans[s];
        match out.last_mut() {
            Some(last) if paragraph == Some(layout.sentences[s].paragraph) => last.end = span.end,
            _ => out.push(span),
        }
        paragraph = Some(layout.sentences[s].paragraph);
    }
    out
}

/// At most `max` characters, cut at a word.
pub fn cut_at_word(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let cut: String = text.chars().take(max).collect();
    match cut.rfind(' ') {
        Some(space) if space > 0 => cut[..space].trim_end().to_owned(),
        _ => cut,
    }
}

#[cfg(test)]
mod tests {
    use super::super::{extract, normal_form, ReportFacts};
    use super::*;

    fn drafts(text: &str) -> Vec<Draft> {
        let text = normal_form(text);
        let anchor = NaiveDate::from_ymd_opt(2024, 3, 7).unwrap_or_default();
        extract(ReportFacts {
            text: &text,
            anchor,
            dateline: Some("LIMA"),
        })
        .drafts
    }

    #[test]
    fn one_speakers_quotes_across_paragraphs_make_one_draft() {
        let found = drafts(
            "“The water came in the night and took everything we had,” said Rosa Quispe, a farmer.\n\n\
             “We will rebuild, but it will take a long time,” she said.",
        );
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].quotes.len(), 2);
        assert_eq!(found[0].quotes[1].speaker, "Rosa Quispe");
    }

    #[test]
    fn another_date_starts_another_draft_and_each_figure_is_in_one() {
        let found = drafts(
            "At least 12 people were killed on Monday, police said. \
             On Tuesday, more than 300 homes were evacuated.",
        );
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].occurred_on.to_string(), "2024-03-04");
        assert_eq!(found[1].occurred_on.to_string(), "2024-03-05");
        let figures: usize = found.iter().map(|d| d.figures.len()).sum();
        assert_eq!(figures, 2);
    }

    #[test]
    fn a_draft_without_a_date_happens_on_the_anchor_at_the_datelines_place() {
        let found = drafts("Some 40 families were displaced, officials said.");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].occurred_on.to_string(), "2024-03-07");
        assert_eq!(found[0].precision, TimePrecision::Day);
        let location = found[0]
            .location
            .as_ref()
            .map(|l| (l.name.as_str(), l.country.as_deref()));
        assert_eq!(location, Some(("Lima", Some("Peru"))));
    }

    #[test]
    fn headlines_are_cut_at_a_word_within_200_characters() {
        let long = format!(
            "On Monday, {} were killed.",
            "the storm and the flood ".repeat(20)
        );
        let found = drafts(&long);
        let headline = &found[0].headline;
        assert!(headline.chars().count() <= MAX_HEADLINE);
        assert!(long.starts_with(headline.as_str()));
        assert!(!headline.ends_with(' '));
    }
}
