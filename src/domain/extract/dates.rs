//! DATE: temporal expressions resolved against the report's anchor to the
//! start of the period they name, with its precision (DESIGN §11).

use chrono::{Datelike, Days, Months, NaiveDate, Weekday};

use super::lexicon::{
    AMBIGUOUS_MONTHS, DATE_CUES, DAY_PARTS, MONTHS, RELATIVE_DAYS, WEEKDAYS, YEAR_CUES,
};
use super::text::TokenKind;
use super::words::{without_possessive, Words};
use crate::domain::model::TimePrecision;

#[derive(Debug, Clone, PartialEq)]
pub struct DateMention {
    pub tokens: std::ops::Range<usize>,
    pub date: NaiveDate,
    pub precision: TimePrecision,
}

/// Every DATE mention among tokens `range`.
pub fn find_dates(
    words: &Words,
    range: std::ops::Range<usize>,
    anchor: NaiveDate,
) -> Vec<DateMention> {
    let mut found = Vec::new();
    let mut i = range.start;
    while i < range.end {
        let reader = Reader {
            words,
            end: range.end,
            start: range.start,
            anchor,
        };
        match reader.date_at(i) {
            Some(m) => {
                i = m.tokens.end;
                found.push(m);
            }
            None => i += 1,
        }
    }
    found
}

struct Reader<'w, 'a> {
    words: &'w Words<'a>,
    start: usize,
    end: usize,
    anchor: NaiveDate,
}

fn lookup(table: &[(&str, u32)], word: &str) -> Option<u32> {
    table.iter().find(|(w, _)| *w == word).map(|&(_, v)| v)
}

impl Reader<'_, '_> {
    fn lower(&self, i: usize) -> Option<&str> {
        (i < self.end).then(|| self.words.lower(i)).flatten()
    }

    fn date_at(&self, i: usize) -> Option<DateMention> {
        self.iso_date(i)
            .or_else(|| self.period_phrase(i))
            .or_else(|| self.weekday(i))
            .or_else(|| self.day_then_month(i))
            .or_else(|| self.month(i))
            .or_else(|| self.relative_day(i))
            .or_else(|| self.year(i))
            .or_else(|| self.mid_period(i))
    }

    /// "mid-2024" (YEAR), "mid-March" (MONTH).
    fn mid_period(&self, i: usize) -> Option<DateMention> {
        let rest = self.lower(i)?.strip_prefix("mid-")?;
        if let Ok(year) = rest.parse::<i32>() {
            let date =
                NaiveDate::from_ymd_opt(year, 1, 1).filter(|_| (1000..=2199).contains(&year))?;
            return self.mention(i..i + 1, date, TimePrecision::Year);
        }
        let month = lookup(MONTHS, rest)?;
        self.mention(i..i + 1, self.resolve_month(month)?, TimePrecision::Month)
    }

    fn mention(
        &self,
        tokens: std::ops::Range<usize>,
        date: NaiveDate,
        precision: TimePrecision,
    ) -> Option<DateMention> {
        Some(DateMention {
            tokens,
            date,
            precision,
        })
    }

    /// "2021-07-13".
    fn iso_date(&self, i: usize) -> Option<DateMention> {
        let year = self.year_number(i)?;
        let dash = |k: usize| self.lower(k) == Some("-");
        if !(dash(i + 1) && dash(i + 3)) {
            return None;
        }
        let month: u32 = self.number(i + 2)?;
        let day: u32 = self.number(i + 4)?;
        let date = NaiveDate::from_ymd_opt(year, month, day)?;
        self.mention(i..i + 5, date, TimePrecision::Day)
    }

    fn number(&self, i: usize) -> Option<u32> {
        if i >= self.end || self.words.kind(i) != Some(TokenKind::Number) {
            return None;
        }
        self.words.raw(i).parse().ok()
    }

    /// A day of the month: "13", "13th".
    fn day_number(&self, i: usize) -> Option<u32> {
        let word = self.lower(i)?;
        let digits = ["st", "nd", "rd", "th"]
            .iter()
            .find_map(|s| word.strip_suffix(s))
            .unwrap_or(word);
        let day: u32 = digits.parse().ok()?;
        (1..=31).contains(&day).then_some(day)
    }

    fn year_number(&self, i: usize) -> Option<i32> {
        let raw = self.lower(i)?;
        if raw.len() != 4 || self.words.kind(i) != Some(TokenKind::Number) {
            return None;
        }
        let year: i32 = raw.parse().ok()?;
        (1000..=2199).contains(&year).then_some(year)
    }

    fn month_name(&self, i: usize) -> Option<u32> {
        if !self.words.is_capitalized(i) || i >= self.end {
            return None;
        }
        lookup(MONTHS, without_possessive(self.lower(i)?))
    }

    /// A month name and the token after it, past an abbreviation's dot
    /// ("Jan. 5", "Sept. 11").
    fn month_at(&self, i: usize) -> Option<(u32, usize)> {
        let month = self.month_name(i)?;
        let abbreviated = self.lower(i).is_some_and(|w| w.len() <= 4);
        let next = if abbreviated && self.lower(i + 1) == Some(".") {
            i + 2
        } else {
            i + 1
        };
        Some((month, next))
    }

    fn weekday_name(&self, i: usize) -> Option<Weekday> {
        if !self.words.is_capitalized(i) || i >= self.end {
            return None;
        }
        let day = lookup(WEEKDAYS, without_possessive(self.lower(i)?))?;
        Weekday::try_from(day as u8).ok()
    }

    fn cue_before(&self, i: usize, cues: &[&str]) -> bool {
        i > self.start && self.words.is_in(i - 1, cues)
    }

    /// "July 13", "July 13, 2021", "Dec. 3".
    fn month_then_day(&self, i: usize) -> Option<DateMention> {
        let (month, at) = self.month_at(i)?;
        let day = self.day_number(at)?;
        if self.words.kind(at) == Some(TokenKind::Number) && self.year_number(at).is_some() {
            return None;
        }
        let comma_year = (self.lower(at + 1) == Some(","))
            .then(|| self.year_number(at + 2))
            .flatten();
        let (year, end) = match comma_year.or_else(|| self.year_number(at + 1)) {
            Some(y) => (Some(y), if comma_year.is_some() { at + 3 } else { at + 2 }),
            None => (None, at + 1),
        };
        let date = self.resolve_day(year, month, day)?;
        self.mention(i..end, date, TimePrecision::Day)
    }

    /// "3 March", "13 July 2021".
    fn day_then_month(&self, i: usize) -> Option<DateMention> {
        let day = self.day_number(i)?;
        let (month, at) = self.month_at(i + 1)?;
        let (year, end) = match self.year_number(at) {
            Some(y) => (Some(y), at + 1),
            None => (None, at),
        };
        let date = self.resolve_day(year, month, day)?;
        self.mention(i..end, date, TimePrecision::Day)
    }

    /// A date without a year takes the anchor's year, the year before when
    /// that would put it more than six calendar months after the anchor.
    fn resolve_day(&self, year: Option<i32>, month: u32, day: u32) -> Option<NaiveDate> {
        if let Some(y) = year {
            return NaiveDate::from_ymd_opt(y, month, day);
        }
        let limit = self.anchor.checked_add_months(Months::new(6))?;
        let this_year = NaiveDate::from_ymd_opt(self.anchor.year(), month, day)?;
        if this_year > limit {
            NaiveDate::from_ymd_opt(self.anchor.year() - 1, month, day)
        } else {
            Some(this_year)
        }
    }

    fn resolve_month(&self, month: u32) -> Option<NaiveDate> {
        let months = |y: i32, m: u32| y * 12 + m as i32;
        let anchor = months(self.anchor.year(), self.anchor.month());
        let year = if months(self.anchor.year(), month) - anchor > 6 {
            self.anchor.year() - 1
        } else {
            self.anchor.year()
        };
        NaiveDate::from_ymd_opt(year, month, 1)
    }

    /// Months: "May 2021", "in May", "early May", "next May", "last September".
    fn month(&self, i: usize) -> Option<DateMention> {
        if let Some(m) = self.month_then_day(i) {
            return Some(m);
        }
        let (month, at) = self.month_at(i)?;
        if let Some(year) = self.year_number(at) {
            let date = NaiveDate::from_ymd_opt(year, month, 1)?;
            return self.mention(i..at + 1, date, TimePrecision::Month);
        }
        let before = (i > self.start).then(|| self.words.lower(i - 1)).flatten();
        let anchor_month = self.anchor.month();
        let (start, date) = match before {
            Some("next") => {
                let year = if month > anchor_month {
                    self.anchor.year()
                } else {
                    self.anchor.year() + 1
                };
                (i - 1, NaiveDate::from_ymd_opt(year, month, 1)?)
            }
            Some("last") => {
                let year = if month < anchor_month {
                    self.anchor.year()
                } else {
                    self.anchor.year() - 1
                };
                (i - 1, NaiveDate::from_ymd_opt(year, month, 1)?)
            }
            _ => {
                let word = without_possessive(self.lower(i)?);
                let cued = self.cue_before(i, DATE_CUES);
                if !cued && AMBIGUOUS_MONTHS.contains(&word) {
                    return None;
                }
                if !cued && !self.words.is_capitalized(i) {
                    return None;
                }
                let start = if matches!(before, Some("early" | "late" | "mid" | "mid-")) {
                    i - 1
                } else {
                    i
                };
                (start, self.resolve_month(month)?)
            }
        };
        self.mention(start..i + 1, date, TimePrecision::Month)
    }

    /// Weekdays: "on Tuesday", "Monday evening", "Sunday's vote", "next
    /// Friday", "Tuesday (July 13)", "Tuesday, July 13".
    fn weekday(&self, i: usize) -> Option<DateMention> {
        let day = self.weekday_name(i)?;
        let explicit = self.explicit_after_weekday(i + 1);
        if let Some(m) = explicit {
            return self.mention(i..m.tokens.end, m.date, TimePrecision::Day);
        }
        let before = (i > self.start).then(|| self.words.lower(i - 1)).flatten();
        let (start, date) = match before {
            Some("next") => (i - 1, self.weekday_after(day)?),
            Some("last") => (i - 1, self.weekday_before(day, false)?),
            _ => (i, self.weekday_before(day, true)?),
        };
        let end = if self.words.is_in(i + 1, DAY_PARTS) && i + 1 < self.end {
            i + 2
        } else {
            i + 1
        };
        self.mention(start..end, date, TimePrecision::Day)
    }

    fn explicit_after_weekday(&self, i: usize) -> Option<DateMention> {
        let open = self.lower(i)?;
        if open == "(" {
            let inner = self
                .month_then_day(i + 1)
                .or_else(|| self.day_then_month(i + 1))?;
            let close = inner.tokens.end;
            (self.lower(close) == Some(")")).then(|| DateMention {
                tokens: i..close + 1,
                ..inner
            })
        } else if open == "," {
            self.month_then_day(i + 1)
                .or_else(|| self.day_then_month(i + 1))
        } else {
            None
        }
    }

    fn weekday_before(&self, day: Weekday, inclusive: bool) -> Option<NaiveDate> {
        let from = if inclusive {
            self.anchor
        } else {
            self.anchor.checked_sub_days(Days::new(1))?
        };
        let back = (from.weekday().num_days_from_monday() + 7 - day.num_days_from_monday()) % 7;
        from.checked_sub_days(Days::new(u64::from(back)))
    }

    fn weekday_after(&self, day: Weekday) -> Option<NaiveDate> {
        let ahead =
            (day.num_days_from_monday() + 7 - self.anchor.weekday().num_days_from_monday()) % 7;
        let ahead = if ahead == 0 { 7 } else { ahead };
        self.anchor.checked_add_days(Days::new(u64::from(ahead)))
    }

    /// "today", "tonight", "yesterday", "tomorrow", "this morning".
    fn relative_day(&self, i: usize) -> Option<DateMention> {
        let word = without_possessive(self.lower(i)?);
        if let Some(&(_, offset)) = RELATIVE_DAYS.iter().find(|(w, _)| *w == word) {
            let date = self
                .anchor
                .checked_add_signed(chrono::Duration::days(offset))?;
            return self.mention(i..i + 1, date, TimePrecision::Day);
        }
        if word == "this" && self.words.is_in(i + 1, DAY_PARTS) && i + 1 < self.end {
            return self.mention(i..i + 2, self.anchor, TimePrecision::Day);
        }
        None
    }

    /// "this month", "the end of next month", "last year".
    fn period_phrase(&self, i: usize) -> Option<DateMention> {
        let (lead, at) = self.period_lead(i);
        let which = self.lower(at)?;
        let offset: i32 = match which {
            "this" => 0,
            "last" => -1,
            "next" => 1,
            _ => return None,
        };
        let unit = without_possessive(self.lower(at + 1)?);
        let (date, precision) = match unit {
            "month" => {
                let first = self.anchor.with_day(1)?;
                let date = if offset >= 0 {
                    first.checked_add_months(Months::new(offset as u32))?
                } else {
                    first.checked_sub_months(Months::new(offset.unsigned_abs()))?
                };
                (date, TimePrecision::Month)
            }
            "year" => (
                NaiveDate::from_ymd_opt(self.anchor.year() + offset, 1, 1)?,
                TimePrecision::Year,
            ),
            _ => return None,
        };
        self.mention(lead..at + 2, date, precision)
    }

    /// "the end of", "the beginning of", "end of" before a period word.
    fn period_lead(&self, i: usize) -> (usize, usize) {
        const LEADS: &[&[&str]] = &[
            &["the", "end", "of"],
            &["the", "beginning", "of"],
            &["the", "start", "of"],
            &["the", "middle", "of"],
            &["end", "of"],
            &["early"],
            &["late"],
        ];
        LEADS
            .iter()
            .find(|lead| self.words.matches(i, lead) && i + lead.len() < self.end)
            .map_or((i, i), |lead| (i, i + lead.len()))
    }

    /// A year after "in", "since", "by", "until", "from" or "of", or with
    /// "early", "late" or "mid" ("late 2001").
    fn year(&self, i: usize) -> Option<DateMention> {
        let year = self.year_number(i)?;
        if !self.cue_before(i, YEAR_CUES) {
            return None;
        }
        let start = if matches!(
            self.words.lower(i - 1),
            Some("early" | "late" | "mid" | "mid-")
        ) {
            i - 1
        } else {
            i
        };
        self.mention(
            start..i + 1,
            NaiveDate::from_ymd_opt(year, 1, 1)?,
            TimePrecision::Year,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::extract::text::Layout;

    fn dates(text: &str, anchor: &str) -> Vec<(String, String, TimePrecision)> {
        let layout = Layout::of(text);
        let words = Words::of(&layout);
        let anchor = NaiveDate::parse_from_str(anchor, "%Y-%m-%d").unwrap_or_default();
        find_dates(&words, 0..words.len(), anchor)
            .into_iter()
            .map(|m| {
                let written = words.phrase(m.tokens.start, m.tokens.end).to_owned();
                (written, m.date.to_string(), m.precision)
            })
            .collect()
    }

    fn one(text: &str, anchor: &str) -> (String, String, TimePrecision) {
        let found = dates(text, anchor);
        assert_eq!(found.len(), 1, "{found:?}");
        found.into_iter().next().unwrap_or_default()
    }

    use TimePrecision::{Day, Month, Year};

    fn as_written(
        text: &str,
        date: &str,
        precision: TimePrecision,
    ) -> (String, String, TimePrecision) {
        (text.to_owned(), date.to_owned(), precision)
    }

    const THURSDAY: &str = "2024-03-07";

    #[test]
    fn a_weekday_with_its_date_in_brackets_is_one_day() {
        let found = one(
            "The union warned Thursday (March 7) that it would strike.",
            THURSDAY,
        );
        assert_eq!(found, as_written("Thursday (March 7)", "2024-03-07", Day));
    }

    #[test]
    fn a_weekday_alone_is_the_latest_on_or_before_the_anchor() {
        assert_eq!(
            one("The minister said on Friday that talks went on.", THURSDAY).1,
            "2024-03-01"
        );
        let evening = one("after a board meeting Monday evening", THURSDAY);
        assert_eq!(evening, as_written("Monday evening", "2024-03-04", Day));
        assert_eq!(one("Sunday's vote was close.", THURSDAY).1, "2024-03-03");
        assert_eq!(one("The dam failed on Thursday.", THURSDAY).1, "2024-03-07");
    }

    #[test]
    fn next_weekday_is_the_first_after_the_anchor() {
        let monday = one("It will vote next Monday.", THURSDAY);
        assert_eq!(monday, as_written("next Monday", "2024-03-11", Day));
        assert_eq!(
            one("The panel meets next Thursday.", THURSDAY).1,
            "2024-03-14"
        );
    }

    #[test]
    fn a_date_without_a_year_stays_within_six_months_after_the_anchor() {
        // "on November 28" in a March report is last November.
        assert_eq!(
            one("a ferry sank there on November 28, and", THURSDAY).1,
            "2023-11-28"
        );
        assert_eq!(
            one("a census on June 2 in the north", THURSDAY).1,
            "2024-06-02"
        );
        assert_eq!(
            one("had complained on 1 March about leaks", THURSDAY).1,
            "2024-03-01"
        );
        assert_eq!(
            one("The tax applies from April 6, 2025.", THURSDAY).1,
            "2025-04-06"
        );
    }

    #[test]
    fn months_alone_take_the_nearer_year_and_next_or_last_move_it() {
        let early = one("prices fell in early January", THURSDAY);
        assert_eq!(early, as_written("early January", "2024-01-01", Month));
        assert_eq!(one("an audit in October", THURSDAY).1, "2023-10-01");
        let last = one("the strike began last April", THURSDAY);
        assert_eq!(last, as_written("last April", "2023-04-01", Month));
        assert_eq!(
            one("warned last February about it", THURSDAY).1,
            "2024-02-01"
        );
        assert_eq!(one("a vote next February", THURSDAY).1, "2025-02-01");
        let written = one("In June 2018, the sides met.", THURSDAY);
        assert_eq!(written, as_written("June 2018", "2018-06-01", Month));
    }

    #[test]
    fn abbreviated_months_keep_their_dot() {
        let found = one("declared an emergency on Jan. 5 in the south", THURSDAY);
        assert_eq!(found, as_written("Jan. 5", "2024-01-05", Day));
        let attack = one("The attack on Sept. 11, 2001, changed the city.", THURSDAY);
        assert_eq!(attack, as_written("Sept. 11, 2001", "2001-09-11", Day));
        assert_eq!(one("in Dec. 2019 the plant shut", THURSDAY).1, "2019-12-01");
    }

    #[test]
    fn mid_years_and_mid_months() {
        assert_eq!(
            one("talks go on until mid-2025", THURSDAY),
            as_written("mid-2025", "2025-01-01", Year)
        );
        assert_eq!(
            one("cases recorded in mid-January", THURSDAY).1,
            "2024-01-01"
        );
    }

    #[test]
    fn may_the_verb_is_no_month() {
        assert!(dates("Officials said the price may rise.", THURSDAY).is_empty());
        assert_eq!(one("a plan first raised in May.", THURSDAY).1, "2024-05-01");
    }

    #[test]
    fn month_periods_relative_to_the_anchor() {
        let end = one("the rules change by the end of next month.", THURSDAY);
        assert_eq!(
            end,
            as_written("the end of next month", "2024-04-01", Month)
        );
        assert_eq!(
            one("a report by the end of next month", "2024-12-07").1,
            "2025-01-01"
        );
    }

    #[test]
    fn years_need_a_cue_and_modifiers_are_not_dates() {
        let late = one("in late 1998, the bank failed", THURSDAY);
        assert_eq!(late, as_written("late 1998", "1998-01-01", Year));
        assert_eq!(one("closed in 2017 after a fire", THURSDAY).1, "2017-01-01");
        assert!(dates("the 2025 plan and the 1980s", THURSDAY).is_empty());
        let last = one("Prices rose last year.", THURSDAY);
        assert_eq!(last, as_written("last year", "2023-01-01", Year));
    }

    #[test]
    fn day_words_resolve_against_the_anchor() {
        assert_eq!(
            one("The senate tonight passed the bill.", THURSDAY).1,
            "2024-03-07"
        );
        assert_eq!(one("still closed yesterday", THURSDAY).1, "2024-03-06");
        assert_eq!(one("due to open tomorrow", THURSDAY).1, "2024-03-08");
    }

    #[test]
    fn weeks_seasons_offsets_and_durations_are_not_dates() {
        for text in [
            "complained last week",
            "last summer",
            "two years ago",
            "the previous day",
            "for two weeks",
            "by Christmas",
            "in recent days",
        ] {
            assert!(dates(text, THURSDAY).is_empty(), "{text}");
        }
    }
}
