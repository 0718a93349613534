//! Scoring the extractor against annotated reports by DESIGN §11's matching
//! rules: DATE by (date, precision); QUOTE by speaker (case-insensitive, a
//! surname matches its full name) and text (the gold words contained in the
//! found ones, or 80 % of them); FIGURE by (metric, value, qualifier).
//! Duplicates count once.

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;

use super::{extract, normal_form, Mention, MentionKind, ReportFacts};
use crate::domain::model::{FigureQualifier, TimePrecision};

/// An annotated report, as the files of `fixtures/reports/` hold it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Annotated {
    pub id: String,
    pub text: String,
    pub published_at: DateTime<Utc>,
    #[serde(default)]
    pub dateline: Option<String>,
    pub gold: Gold,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Gold {
    pub dates: Vec<GoldDate>,
    pub quotes: Vec<GoldQuote>,
    pub figures: Vec<GoldFigure>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct GoldDate {
    pub date: NaiveDate,
    pub precision: TimePrecision,
}

#[derive(Debug, Clone, Deserialize)]
pub struct GoldQuote {
    pub speaker: String,
    pub text: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct GoldFigure {
    pub metric: String,
    pub value: f64,
    pub qualifier: FigureQualifier,
}

/// Found and gold items of one kind, counted.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    pub found: usize,
    pub found_matched: usize,
    pub gold: usize,
    pub gold_matched: usize,
    /// Gold items nothing matched.
    pub misses: Vec<String>,
    /// Found items that matched no gold one.
    pub extras: Vec<String>,
}

impl Tally {
    pub fn precision(&self) -> f64 {
        if self.found == 0 {
            return if self.gold == 0 { 1.0 } else { 0.0 };
        }
        self.found_matched as f64 / self.found as f64
    }

    pub fn recall(&self) -> f64 {
        if self.gold == 0 {
            return 1.0;
        }
        self.gold_matched as f64 / self.gold as f64
    }

    pub fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }

    pub fn add(&mut self, other: &Tally) {
        self.found += other.found;
        self.found_matched += other.found_matched;
        self.gold += other.gold;
        self.gold_matched += other.gold_matched;
        self.misses.extend(other.misses.iter().cloned());
        self.extras.extend(other.extras.iter().cloned());
    }
}

#[derive(Debug, Clone, Default)]
pub struct Scores {
    pub dates: Tally,
    pub quotes: Tally,
    pub figures: Tally,
}

impl Scores {
    pub fn add(&mut self, other: &Scores) {
        self.dates.add(&other.dates);
        self.quotes.add(&other.quotes);
        self.figures.add(&other.figures);
    }
}

/// Extracts the annotated report and scores what was found.
pub fn evaluate(report: &Annotated) -> Scores {
    let text = normal_form(&report.text);
    let extraction = extract(ReportFacts {
        text: &text,
        anchor: report.published_at.date_naive(),
        dateline: report.dateline.as_deref(),
    });
    score(&extraction.mentions, &report.gold, &report.id)
}

pub fn score(mentions: &[Mention], gold: &Gold, label: &str) -> Scores {
    Scores {
        dates: score_sets(
            mentions
                .iter()
                .filter(|m| m.kind == MentionKind::Date)
                .filter_map(|m| Some(format!("{} {:?}", m.date?, m.precision?)))
                .collect(),
            gold.dates
                .iter()
                .map(|d| format!("{} {:?}", d.date, d.precision))
                .collect(),
            label,
        ),
        figures: score_sets(
            mentions
                .iter()
                .filter_map(|m| m.figure.as_ref())
                .map(|f| figure_key(&f.metric, f.value, f.qualifier))
                .collect(),
            gold.figures
                .iter()
                .map(|f| figure_key(&f.metric, f.value, f.qualifier))
                .collect(),
            label,
        ),
        quotes: score_quotes(mentions, &gold.quotes, label),
    }
}

fn figure_key(metric: &str, value: f64, qualifier: FigureQualifier) -> String {
    format!("{} {} {:?}", metric.to_lowercase(), value, qualifier)
}

fn score_sets(found: BTreeSet<String>, gold: BTreeSet<String>, label: &str) -> Tally {
    let matched = found.intersection(&gold).count();
    Tally {
        found: found.len(),
        found_matched: matched,
        gold: gold.len(),
        gold_matched: matched,
        misses: gold
            .difference(&found)
            .map(|g| format!("{label}: {g}"))
            .collect(),
        extras: found
            .difference(&gold)
            .map(|f| format!("{label}: {f}"))
            .collect(),
    }
}

fn words_of(text: &str) -> Vec<String> {
    text.split_whitespace()
        .map(|w| w.replace('’', "'"))
        .collect()
}

fn speakers_match(found: &str, gold: &str) -> bool {
    let (f, g) = (found.to_lowercase(), gold.to_lowercase());
    let last = |s: &str| s.rsplit(' ').next().map(str::to_owned).unwrap_or_default();
    f == g || (!f.contains(' ') && last(&g) == f) || (!g.contains(' ') && last(&f) == g)
}

fn texts_match(found: &str, gold: &str) -> bool {
    let (f, g) = (words_of(found), words_of(gold));
    if f.join(" ").contains(&g.join(" ")) {
        return true;
    }
    let present = g.iter().filter(|w| f.contains(w)).count();
    !g.is_empty() && present * 5 >= g.len() * 4
}

fn score_quotes(mentions: &[Mention], gold: &[GoldQuote], label: &str) -> Tally {
    let found: BTreeSet<(String, String)> = mentions
        .iter()
        .filter_map(|m| m.quote.as_ref())
        .map(|q| (q.speaker.clone(), words_of(&q.text).join(" ")))
        .collect();
    let gold: BTreeSet<(String, String)> = gold
        .iter()
        .map(|q| (q.speaker.clone(), words_of(&q.text).join(" ")))
        .collect();
    let matches = |(fs, ft): &(String, String), (gs, gt): &(String, String)| {
        speakers_match(fs, gs) && texts_match(ft, gt)
    };
    let found_matched = found
        .iter()
        .filter(|f| gold.iter().any(|g| matches(f, g)))
        .count();
    let gold_matched = gold
        .iter()
        .filter(|g| found.iter().any(|f| matches(f, g)))
        .count();
    Tally {
        found: found.len(),
        found_matched,
        gold: gold.len(),
        gold_matched,
        misses: gold
            .iter()
            .filter(|g| !found.iter().any(|f| matches(f, g)))
            .map(|(s, t)| format!("{label}: {s}: {t}"))
            .collect(),
        extras: found
            .iter()
            .filter(|f| !gold.iter().any(|g| matches(f, g)))
            .map(|(s, t)| format!("{label}: {s}: {t}"))
            .collect(),
    }
}

/// The table `report eval` and the quality test print.
pub fn table(scores: &Scores) -> String {
    let mut out = String::from("kind     found  gold  precision  recall  f1\n");
    for (name, t) in [
        ("DATE", &scores.dates),
        ("QUOTE", &scores.quotes),
        ("FIGURE", &scores.figures),
    ] {
        out.push_str(&format!(
            "{name:<8} {:>5} {:>5}  {:>9.3}  {:>6.3}  {:.3}\n",
            t.found,
            t.gold,
            t.precision(),
            t.recall(),
            t.f1()
        ));
    }
    for (name, t) in [
        ("DATE", &scores.dates),
        ("QUOTE", &scores.quotes),
        ("FIGURE", &scores.figures),
    ] {
        for miss in &t.misses {
            out.push_str(&format!("missed {name} {miss}\n"));
        }
        for extra in &t.extras {
            out.push_str(&format!("extra  {name} {extra}\n"));
        }
    }
    out
}
