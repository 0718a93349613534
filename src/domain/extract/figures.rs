//! FIGURE: a number counting people or things named by a noun, with its
//! qualifier, range and canonical metric (DESIGN §11).

use super::lexicon::{
    COLLECTIVE_NOUNS, CURRENCY_SIGNS, METRIC_NOUNS, METRIC_WORDS, NOT_COUNTED_AFTER, NOT_PLURAL,
    NOUN_PHRASE_BREAKS, PEOPLE_NOUNS, PREDICATE_FILLERS, QUALIFIERS, TOLL_NOUNS,
};
use super::numbers::{read_number, Number};
use super::words::Words;
use crate::domain::model::FigureQualifier;

#[derive(Debug, Clone, PartialEq)]
pub struct FigureMention {
    pub tokens: std::ops::Range<usize>,
    pub metric: String,
    pub value: f64,
    pub qualifier: FigureQualifier,
    pub unit: Option<String>,
    pub low: Option<f64>,
    pub high: Option<f64>,
}

/// What the figure rule needs to know of the tokens around it.
pub struct Context<'a> {
    /// Inside a quotation: only counts of people are figures there.
    pub quoted: &'a dyn Fn(usize) -> bool,
    /// Part of a DATE mention.
    pub dated: &'a dyn Fn(usize) -> bool,
}

/// Every figure among tokens `range`.
pub fn find_figures(
    words: &Words,
    range: std::ops::Range<usize>,
    context: &Context,
) -> Vec<FigureMention> {
    let mut found: Vec<FigureMention> = Vec::new();
    let mut i = range.start;
    while i < range.end {
        match figure_at(words, i, range.clone(), context) {
            Some(mut f) => {
                i = f.tokens.end.max(i + 1);
                part_of_the_one_before(words, &mut f, found.last());
                found.push(f);
            }
            None => i += 1,
        }
    }
    found
}

fn is_canonical(metric: &str) -> bool {
    METRIC_WORDS.iter().any(|(_, m)| *m == metric)
}

/// "killed at least 42 people, including 11 children": the children were
/// killed too.
fn part_of_the_one_before(
    words: &Words,
    figure: &mut FigureMention,
    before: Option<&FigureMention>,
) {
    let Some(before) = before.filter(|b| is_canonical(&b.metric)) else {
        return;
    };
    let introduced =
        figure.tokens.start > 0 && words.is_in(figure.tokens.start - 1, &["including", "among"]);
    if introduced && !is_canonical(&figure.metric) {
        figure.unit = Some(figure.metric.clone());
        figure.metric = before.metric.clone();
    }
}

fn metric_of(word: &str) -> Option<&'static str> {
    METRIC_WORDS
        .iter()
        .find(|(w, _)| *w == word)
        .map(|&(_, m)| m)
}

/// The qualifier phrase ending just before token `i`, and where it starts.
fn qualifier_before(words: &Words, i: usize, floor: usize) -> (FigureQualifier, usize) {
    QUALIFIERS
        .iter()
        .filter(|(phrase, _)| i >= floor + phrase.len())
        .find(|(phrase, _)| words.matches(i - phrase.len(), phrase))
        .map_or((FigureQualifier::Exact, i), |(phrase, q)| {
            (*q, i - phrase.len())
        })
}

fn figure_at(
    words: &Words,
    i: usize,
    range: std::ops::Range<usize>,
    context: &Context,
) -> Option<FigureMention> {
    if (context.dated)(i) {
        return None;
    }
    // "between 8 and 10", "300 to 400"
    let (number, low, high) = range_at(words, i, range.end).or_else(|| {
        let n = read_number(words, i)?;
        Some((n, None, None))
    })?;
    if number.end > range.end || (number.start..number.end).any(|k| (context.dated)(k)) {
        return None;
    }
    if i > range.start && words.is_in(i - 1, CURRENCY_SIGNS) || is_currency_sign_attached(words, i)
    {
        return None;
    }
    let (mut qualifier, start) = qualifier_before(words, i, range.start);
    if number.vague {
        qualifier = FigureQualifier::AtLeast;
    }
    if low.is_some() {
        qualifier = FigureQualifier::AtLeast;
    }
    let mut after = number.end;
    if number.needs_of {
        if words.lower(after) != Some("of") {
            return None;
        }
        after += 1;
    } else if words.lower(after) == Some("of") && !number.vague {
        // "200 of our members", "200,000 of their compatriots"
        after += 1;
    }
    while words.is_in(
        after,
        &["our", "their", "the", "its", "his", "her", "these", "those"],
    ) {
        after += 1;
    }
    if words
        .lower(after)
        .is_some_and(|w| NOT_COUNTED_AFTER.contains(&w))
        || is_measure_word(words, after)
    {
        return None;
    }
    let head = head_noun(words, after, range.end);
    let after_phrase = head.map_or(after, |h| h + 1);
    let from_verb = verb_metric_before(words, start, range.start);
    let from_predicate = predicate_metric(words, after_phrase, range.end);
    let from_head = head.and_then(|h| metric_of(words.lower(h)?));
    let from_toll = head
        .is_none()
        .then(|| toll_before(words, start, range.start))
        .flatten();
    let canonical = from_head.or(from_verb).or(from_predicate).or(from_toll);
    let (metric, unit) = match (canonical, head) {
        (Some(m), Some(h)) if from_head.is_none() => (m.to_owned(), Some(words.raw(h).to_owned())),
        (Some(m), _) => (m.to_owned(), None),
        (None, Some(h)) => (words.lower(h)?.to_owned(), None),
        (None, None) => return None,
    };
    let counts_people = canonical.is_some() || head.is_some_and(|h| words.is_in(h, PEOPLE_NOUNS));
    if (context.quoted)(number.start) && !counts_people {
        return None;
    }
    Some(FigureMention {
        tokens: start..after_phrase.max(number.end),
        metric,
        value: low.unwrap_or(number.value),
        qualifier,
        unit,
        low,
        high,
    })
}

fn is_currency_sign_attached(words: &Words, i: usize) -> bool {
    i > 0
        && words
            .raw(i - 1)
            .chars()
            .last()
            .is_some_and(|c| CURRENCY_SIGNS.iter().any(|s| s.ends_with(c)))
}

fn is_measure_word(words: &Words, i: usize) -> bool {
    words.lower(i).is_some_and(|w| {
        w.ends_with("-year-old") || w.ends_with("-month-old") || w.starts_with("-")
    })
}

/// "between 8 and 10 fishermen", "300 to 400 children".
fn range_at(words: &Words, i: usize, end: usize) -> Option<(Number, Option<f64>, Option<f64>)> {
    let (first_at, joiner) = if words.lower(i) == Some("between") {
        (i + 1, "and")
    } else {
        (i, "to")
    };
    let first = read_number(words, first_at)?;
    if first.vague
        || words.lower(first.end) != Some(joiner)
            && !(joiner == "to" && words.lower(first.end) == Some("-"))
    {
        return None;
    }
    let second = read_number(words, first.end + 1)?;
    if second.vague || second.end > end || second.value < first.value {
        return None;
    }
    Some((
        Number {
            start: i,
            end: second.end,
            ..second
        },
        Some(first.value),
        Some(second.value),
    ))
}

/// The counted noun: the first plural (or collective) noun after the number,
/// past any modifiers ("U.S. troops", "passenger trains", "extra doses").
fn head_noun(words: &Words, from: usize, end: usize) -> Option<usize> {
    for k in from..(from + 4).min(end) {
        if !words.is_word(k) {
            return None;
        }
        let word = words.lower(k)?;
        if NOUN_PHRASE_BREAKS.contains(&word) || NOT_COUNTED_AFTER.contains(&word) {
            return None;
        }
        if is_counted_noun(word) {
            return Some(k);
        }
    }
    None
}

fn is_counted_noun(word: &str) -> bool {
    if COLLECTIVE_NOUNS.contains(&word) {
        return true;
    }
    if NOT_PLURAL.contains(&word) || word.contains('.') {
        return false;
    }
    word.len() > 3
        && word.ends_with('s')
        && !word.ends_with("ss")
        && !word.ends_with("us")
        && !word.ends_with("'s")
}

/// "killed at least four", "injuring 41", "detained four managers".
fn verb_metric_before(words: &Words, start: usize, floor: usize) -> Option<&'static str> {
    let before = start.checked_sub(1).filter(|&b| b >= floor)?;
    metric_of(words.lower(before)?)
}

/// "people were still missing", "two were confirmed dead", "children have died".
fn predicate_metric(words: &Words, from: usize, end: usize) -> Option<&'static str> {
    // "a mother of six who fled": a relative clause tells of someone else.
    if words.is_in(from, &["who", "that", "which", "of"]) {
        return None;
    }
    let mut k = from;
    while k < end && words.is_in(k, PREDICATE_FILLERS) {
        k += 1;
    }
    // Without a filler, only a participle or an adjective follows: "three
    // injured", "people died"; not a noun ("people deaths").
    if k == from && words.is_in(k, METRIC_NOUNS) {
        return None;
    }
    (k < end).then(|| metric_of(words.lower(k)?)).flatten()
}

/// "the death toll … rose to at least 31".
fn toll_before(words: &Words, start: usize, floor: usize) -> Option<&'static str> {
    let window = start.saturating_sub(12).max(floor)..start;
    window
        .clone()
        .any(|k| words.is_in(k, TOLL_NOUNS))
        .then_some("killed")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::extract::text::Layout;

    fn figures(text: &str) -> Vec<(String, f64, FigureQualifier, Option<String>)> {
        let layout = Layout::of(text);
        let words = Words::of(&layout);
        let context = Context {
            quoted: &|_| false,
            dated: &|_| false,
        };
        find_figures(&words, 0..words.len(), &context)
            .into_iter()
            .map(|f| (f.metric, f.value, f.qualifier, f.unit))
            .collect()
    }

    fn one(text: &str) -> (String, f64, FigureQualifier) {
        let found = figures(text);
        assert_eq!(found.len(), 1, "{text}: {found:?}");
        found
            .into_iter()
            .next()
            .map(|(m, v, q, _)| (m, v, q))
            .unwrap_or_default()
    }

    use FigureQualifier::*;

    #[test]
    fn a_canonical_verb_before_the_number_names_the_metric() {
        assert_eq!(
            figures("A blast killed at least six people in the market."),
            [("killed".into(), 6.0, AtLeast, Some("people".into()))]
        );
        assert_eq!(
            one("The storm hit the coast, injuring 23."),
            ("injured".into(), 23.0, Exact)
        );
        assert_eq!(
            one("Police detained five protesters."),
            ("arrested".into(), 5.0, Exact)
        );
    }

    #[test]
    fn a_predicate_after_the_noun_names_the_metric() {
        assert_eq!(
            one("Three sailors were still missing on Friday."),
            ("missing".into(), 3.0, Exact)
        );
        assert_eq!(
            one("More than 9,000 people were evacuated from the valley."),
            ("evacuated".into(), 9000.0, MoreThan)
        );
        assert_eq!(
            one("Two were confirmed dead."),
            ("killed".into(), 2.0, Exact)
        );
        assert_eq!(
            one("Fifteen children have died of the fever."),
            ("killed".into(), 15.0, Exact)
        );
    }

    #[test]
    fn otherwise_the_counted_noun_is_the_metric() {
        assert_eq!(
            one("Several hundred U.N. troops will stay."),
            ("troops".into(), 300.0, AtLeast)
        );
        assert_eq!(
            one("Fewer than a dozen freight trains use the line."),
            ("trains".into(), 12.0, FewerThan)
        );
        assert_eq!(
            one("The clinic shipped roughly 8,000 extra doses."),
            ("doses".into(), 8000.0, About)
        );
        assert_eq!(
            one("The region has 512 measles cases."),
            ("cases".into(), 512.0, Exact)
        );
    }

    #[test]
    fn vague_quantities_need_of_and_count_as_at_least() {
        assert_eq!(
            one("Rebels took dozens of towns."),
            ("towns".into(), 24.0, AtLeast)
        );
        assert_eq!(
            one("Tens of thousands of homes lost power."),
            ("homes".into(), 20000.0, AtLeast)
        );
        assert!(figures("The team scores often.").is_empty());
    }

    #[test]
    fn ranges_keep_both_ends_and_read_as_at_least() {
        let layout = Layout::of("Between 5 and 9 climbers were missing.");
        let words = Words::of(&layout);
        let context = Context {
            quoted: &|_| false,
            dated: &|_| false,
        };
        let found = find_figures(&words, 0..words.len(), &context);
        assert_eq!(found.len(), 1);
        assert_eq!(
            (found[0].low, found[0].high, found[0].qualifier),
            (Some(5.0), Some(9.0), AtLeast)
        );
        assert_eq!(found[0].metric, "missing");
    }

    #[test]
    fn a_part_counted_with_including_shares_the_metric_and_relatives_are_no_figures() {
        let found =
            figures("Shelling killed at least 30 people, including nine children, medics said.");
        assert_eq!(
            found[1],
            ("killed".into(), 9.0, Exact, Some("children".into()))
        );
        assert!(figures("said a mother of six who fled the town.").is_empty());
    }

    #[test]
    fn the_death_toll_before_a_bare_number_is_killed() {
        assert_eq!(
            one("The death toll from the quake rose to at least 57 on Monday."),
            ("killed".into(), 57.0, AtLeast)
        );
    }

    #[test]
    fn money_shares_measures_times_ages_and_durations_are_not_figures() {
        for text in [
            "The fund holds $40 million.",
            "Fares rose by 20% and 6.5 percent.",
            "Winds of 180 kilometres per hour.",
            "It struck at 6:52 a.m. and at 11 p.m.",
            "A 52-year-old man and Anna Berg, 71, who lives there.",
            "It cost 2.4 billion pesos.",
            "After six decades of war.",
            "a budget of 310 million zlotys",
        ] {
            assert!(figures(text).is_empty(), "{text}: {:?}", figures(text));
        }
    }
}
