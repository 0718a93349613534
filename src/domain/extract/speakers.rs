//! Who says what: the attribution of a sentence ("X said", "said X",
//! "according to X"), the speaker's phrase split into name and role, and the
//! people already named, so that "he" and a surname find their full name.

use super::lexicon::{
    DETERMINERS, DOCUMENT_NOUNS, GENERIC_TRAILERS, ISSUED_BY, NAME_PARTICLES, ORGANISATION_WORDS,
    PEOPLE_NOUNS, PERSON_PRONOUNS, PHRASE_BREAKS, SPEAKER_NOUNS, SPEECH_VERBS, TITLE_WORDS,
    VERB_ADVERBS, WELL_KNOWN_ORGANISATIONS,
};
use super::text::TokenKind;
use super::words::Words;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpeakerKind {
    Person,
    Organisation,
    /// "police", "a witness", "residents": the noun, lower-case.
    Unnamed,
    Pronoun,
}

/// A speaker as the text names them.
#[derive(Debug, Clone, PartialEq)]
pub struct Speaker {
    pub kind: SpeakerKind,
    pub name: String,
    pub role: Option<String>,
    /// The tokens naming the speaker.
    pub tokens: std::ops::Range<usize>,
}

/// A sentence's tokens as the attribution rules see them: quoted words
/// folded into one [`Item::Quote`], other quotation marks left out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Item {
    Token(usize),
    Quote,
}

pub fn visible_items(
    words: &Words,
    tokens: std::ops::Range<usize>,
    quoted: impl Fn(usize) -> bool,
) -> Vec<Item> {
    let mut items = Vec::new();
    for i in tokens {
        if quoted(i) {
            if items.last() != Some(&Item::Quote) {
                items.push(Item::Quote);
            }
        } else if !is_quotation_mark(words, i) {
            items.push(Item::Token(i));
        }
    }
    items
}

pub fn is_quotation_mark(words: &Words, i: usize) -> bool {
    words.kind(i) == Some(TokenKind::Punct)
        && matches!(words.raw(i), "\"" | "“" | "”" | "„" | "«" | "»")
}

struct Sentence<'w, 'a> {
    words: &'w Words<'a>,
    items: &'w [Item],
}

impl Sentence<'_, '_> {
    fn token(&self, p: usize) -> Option<usize> {
        match self.items.get(p) {
            Some(Item::Token(i)) => Some(*i),
            _ => None,
        }
    }

    fn lower(&self, p: usize) -> Option<&str> {
        self.token(p).and_then(|i| self.words.lower(i))
    }

    fn is_quote(&self, p: usize) -> bool {
        self.items.get(p) == Some(&Item::Quote)
    }

    fn is_comma(&self, p: usize) -> bool {
        self.lower(p) == Some(",")
    }

    fn is_name_word(&self, p: usize) -> bool {
        self.token(p).is_some_and(|i| self.words.is_capitalized(i))
    }

    fn is_title(&self, p: usize) -> bool {
        self.lower(p).is_some_and(is_title_word)
    }

    /// A word that may belong to a speaker's phrase.
    fn is_phrase_word(&self, p: usize) -> bool {
        let Some(i) = self.token(p) else { return false };
        self.words.is_word(i) && !self.words.is_in(i, PHRASE_BREAKS)
    }

    /// A lower-case word of a role before its title ("police" in
    /// "Regional fire chief").
    fn leads_to_title(&self, p: usize) -> bool {
        if !self.is_phrase_word(p) || self.is_name_word(p) || self.words_is_determiner(p) {
            return false;
        }
        for q in p + 1..p + 4 {
            if self.is_title(q) {
                return true;
            }
            if !self.is_phrase_word(q) || self.is_name_word(q) || self.words_is_determiner(q) {
                return false;
            }
        }
        false
    }

    /// Where a name with the role written before it, starting at `p`, ends:
    /// "Regional fire chief Ana Ruiz" but not the words after the name.
    fn end_of_titled_name(&self, mut p: usize) -> usize {
        let mut named_after_title = false;
        let mut titled = false;
        loop {
            if self.is_title(p) && !named_after_title {
                titled = true;
            } else if self.is_name_word(p) {
                named_after_title |= titled;
            } else {
                let role_word = self.leads_to_title(p) && !named_after_title;
                let joins_names = self.is_connector(p) && self.is_name_word(p + 1);
                if !role_word && !joins_names {
                    return p;
                }
            }
            p += 1;
        }
    }

    fn words_is_determiner(&self, p: usize) -> bool {
        self.lower(p).is_some_and(|w| DETERMINERS.contains(&w))
    }

    fn is_connector(&self, p: usize) -> bool {
        matches!(self.lower(p), Some("of" | "and" | "for" | "&"))
    }
}

/// "police", "officials", "residents": nouns for speakers without a name.
fn is_unnamed_speaker_noun(word: &str) -> bool {
    PEOPLE_NOUNS.contains(&word)
        || SPEAKER_NOUNS.contains(&word)
        || ORGANISATION_WORDS.contains(&word)
}

fn is_title_word(word: &str) -> bool {
    TITLE_WORDS.contains(&word)
}

/// The attribution of a sentence, if it has one: the first speech verb whose
/// speaker can be read.
pub fn attribution(words: &Words, items: &[Item], sentence_start: usize) -> Option<Speaker> {
    let s = Sentence { words, items };
    (0..items.len()).find_map(|p| speaker_of_verb(&s, p, sentence_start))
}

fn speaker_of_verb(s: &Sentence, p: usize, sentence_start: usize) -> Option<Speaker> {
    let word = s.lower(p)?;
    if word == "according" && s.lower(p + 1) == Some("to") {
        return phrase_after(s, p + 2, sentence_start);
    }
    if !SPEECH_VERBS.contains(&word) {
        return None;
    }
    let mut prev = p.checked_sub(1);
    while let Some(q) = prev {
        if s.lower(q).is_some_and(|w| VERB_ADVERBS.contains(&w)) {
            prev = q.checked_sub(1);
        } else {
            break;
        }
    }
    match prev {
        None => phrase_after(s, p + 1, sentence_start),
        Some(q) if s.is_quote(q) || (s.is_comma(q) && q > 0 && s.is_quote(q - 1)) => {
            phrase_after(s, p + 1, sentence_start)
        }
        Some(q) if s.is_comma(q) => clause_subject(s, q, sentence_start),
        Some(q) => phrase_before(s, q, sentence_start),
    }
}

/// "said a statement issued by UNICEF", "said Tom Reyes, general
/// secretary of the union", "according to the Interior Ministry".
fn phrase_after(s: &Sentence, from: usize, sentence_start: usize) -> Option<Speaker> {
    let mut p = from;
    while s.lower(p).is_some_and(|w| DETERMINERS.contains(&w)) {
        p += 1;
    }
    let start = p;
    while s.is_phrase_word(p) || (s.is_connector(p) && s.is_name_word(p + 1) && p > start) {
        if p > start && s.lower(p).is_some_and(|w| ISSUED_BY.contains(&w)) {
            break;
        }
        p += 1;
    }
    if p == start {
        return None;
    }
    let last = s.lower(p - 1)?;
    if DOCUMENT_NOUNS.contains(&last) && s.lower(p).is_some_and(|w| ISSUED_BY.contains(&w)) {
        let by = if s.lower(p + 1) == Some("by") {
            p + 2
        } else if s.lower(p + 2) == Some("by") {
            p + 3
        } else {
            p
        };
        if by > p {
            return phrase_after(s, by, sentence_start);
        }
    }
    let speaker = classify(
        s.words,
        s.token(start)?..s.token(p - 1)? + 1,
        sentence_start,
    )?;
    Some(with_apposition(s, p, speaker))
}

/// "Rui Costa, the envoy, said": the role after the comma.
fn with_apposition(s: &Sentence, p: usize, mut speaker: Speaker) -> Speaker {
    if speaker.kind != SpeakerKind::Person || !s.is_comma(p) || speaker.role.is_some() {
        return speaker;
    }
    let mut q = p + 1;
    while s.lower(q).is_some_and(|w| DETERMINERS.contains(&w)) {
        q += 1;
    }
    let start = q;
    while s.token(q).is_some() && !s.is_comma(q) && s.lower(q) != Some(".") && !s.is_quote(q) {
        q += 1;
    }
    let opens_like_a_role = s.token(start).is_some_and(|i| {
        s.words.is_word(i) && !s.words.is_in(i, &["who", "whose", "which", "whom"])
    });
    let has_title = (start..q).any(|k| s.is_title(k));
    if opens_like_a_role && has_title && q > start {
        if let (Some(a), Some(b)) = (s.token(start), s.token(q - 1)) {
            speaker.role = Some(s.words.phrase(a, b + 1).to_owned());
        }
    }
    speaker
}

/// The phrase just before a speech verb: "the Cuban Foreign Ministry said",
/// "Health officials in Shymkent said".
fn phrase_before(s: &Sentence, last: usize, sentence_start: usize) -> Option<Speaker> {
    let mut p = last;
    let mut start = None;
    loop {
        let word_ok = s.is_phrase_word(p)
            || (s.is_connector(p) && p > 0 && s.is_name_word(p - 1) && start.is_some());
        let place_after_noun = matches!(s.lower(p), Some("in" | "from" | "at"))
            && start.is_some_and(|st| s.is_name_word(st))
            && p > 0
            && s.is_phrase_word(p - 1)
            && (!s.is_name_word(p - 1) || s.lower(p - 1).is_some_and(is_unnamed_speaker_noun));
        if word_ok || place_after_noun {
            start = Some(p);
        } else {
            break;
        }
        match p.checked_sub(1) {
            Some(q) if last - q < 12 => p = q,
            _ => break,
        }
    }
    let start = start?;
    // "Health officials in Shymkent": the officials speak, not the place.
    let end = (start..=last)
        .find(|&k| matches!(s.lower(k), Some("in" | "from" | "at")))
        .unwrap_or(last + 1);
    classify(
        s.words,
        s.token(start)?..s.token(end - 1)? + 1,
        sentence_start,
    )
}

/// "Priya Nair, 34, who was travelling, said": the name that opens the
/// clause, with a role from the apposition after it.
fn clause_subject(s: &Sentence, comma: usize, sentence_start: usize) -> Option<Speaker> {
    let opening = (0..comma)
        .rev()
        .find(|&k| s.is_quote(k))
        .map_or(0, |k| k + 1);
    let p = s.end_of_titled_name(opening);
    if p == opening || !s.is_comma(p) {
        return None;
    }
    let speaker = classify(
        s.words,
        s.token(opening)?..s.token(p - 1)? + 1,
        sentence_start,
    )?;
    match speaker.kind {
        SpeakerKind::Person | SpeakerKind::Organisation => Some(with_apposition(s, p, speaker)),
        // "A military spokesman, Rear Adm. Jane Roe, told": the name comes
        // in the apposition, the role before it.
        SpeakerKind::Unnamed => named_in_apposition(s, p, speaker.name, sentence_start),
        SpeakerKind::Pronoun => None,
    }
}

fn named_in_apposition(
    s: &Sentence,
    comma: usize,
    role: String,
    sentence_start: usize,
) -> Option<Speaker> {
    let start = comma + 1;
    let end = s.end_of_titled_name(start);
    if end == start || !s.is_comma(end) {
        return None;
    }
    let mut named = classify(
        s.words,
        s.token(start)?..s.token(end - 1)? + 1,
        sentence_start,
    )?;
    if named.kind != SpeakerKind::Person {
        return None;
    }
    named.role = Some(match named.role.take() {
        Some(own) => format!("{role}, {own}"),
        None => role,
    });
    Some(named)
}

/// The person a sentence opens with, if it names one ("Union leader
/// Ana Ruiz accused …", "In Lima, Jorge Paz …").
pub fn opening_person(words: &Words, items: &[Item], sentence_start: usize) -> Option<Speaker> {
    let s = Sentence { words, items };
    let mut p = 0;
    if s.lower(0).is_some_and(|w| {
        matches!(
            w,
            "in" | "on" | "at" | "after" | "before" | "speaking" | "asked"
        )
    }) {
        p = (0..items.len()).find(|&k| s.is_comma(k))? + 1;
    }
    let start = p;
    let p = s.end_of_titled_name(start);
    if p == start {
        return None;
    }
    let speaker = classify(words, s.token(start)?..s.token(p - 1)? + 1, sentence_start)?;
    (speaker.kind == SpeakerKind::Person).then_some(speaker)
}

/// A speaker's phrase read as a pronoun, a person (with the role written
/// before the name), an organisation, or an unnamed speaker.
pub fn classify(
    words: &Words,
    tokens: std::ops::Range<usize>,
    sentence_start: usize,
) -> Option<Speaker> {
    let mut a = tokens.start;
    let b = tokens.end;
    while a < b && words.is_in(a, DETERMINERS) {
        a += 1;
    }
    if a >= b {
        return None;
    }
    if b - a == 1 && words.is_in(a, PERSON_PRONOUNS) {
        return Some(Speaker {
            kind: SpeakerKind::Pronoun,
            name: words.lower(a)?.to_owned(),
            role: None,
            tokens: a..b,
        });
    }
    if let Some(t) = (a..b)
        .rev()
        .find(|&k| words.lower(k).is_some_and(is_title_word))
    {
        return Some(titled(words, a..b, t, sentence_start));
    }
    // "Police said": a sentence's capital on a noun for unnamed speakers.
    if b - a == 1 && a == sentence_start && words.lower(a).is_some_and(is_unnamed_speaker_noun) {
        return unnamed(words, a..b, sentence_start);
    }
    let capitals = (a..b).filter(|&k| words.is_capitalized(k)).count();
    if capitals == 0 {
        return unnamed(words, a..b, sentence_start);
    }
    // "the state-run Anadolu Agency": the name starts at its first capital.
    let first_capital = (a..b).find(|&k| words.is_capitalized(k))?;
    let mut end = b;
    if end - first_capital > 1
        && words.is_in(end - 1, GENERIC_TRAILERS)
        && words.is_capitalized(end - 2)
    {
        end -= 1;
    }
    let all_named = (first_capital..end)
        .all(|k| words.is_capitalized(k) || words.is_in(k, &["of", "and", "for", "&"]));
    if !all_named {
        return unnamed(words, a..b, sentence_start);
    }
    let name = words.phrase(first_capital, end).to_owned();
    let kind = if is_organisation(words, first_capital..end, &name) {
        SpeakerKind::Organisation
    } else {
        SpeakerKind::Person
    };
    Some(Speaker {
        kind,
        name,
        role: None,
        tokens: first_capital..end,
    })
}

fn is_organisation(words: &Words, tokens: std::ops::Range<usize>, name: &str) -> bool {
    let acronym = |k: usize| {
        let raw = words.raw(k);
        raw.chars().filter(|c| c.is_alphabetic()).count() >= 2
            && raw
                .chars()
                .filter(|c| c.is_alphabetic())
                .all(char::is_uppercase)
    };
    // "Kabul says", "Aktobe has reported": a place speaks for its
    // government.
    super::places::is_place_name(name)
        || WELL_KNOWN_ORGANISATIONS
            .iter()
            .any(|o| o.eq_ignore_ascii_case(name))
        || tokens
            .clone()
            .any(|k| words.is_in(k, ORGANISATION_WORDS) || acronym(k))
        || tokens.len() > 4
}

/// "Senate Press Secretary Maria Holt": role up to the title, the name
/// after it; "Chief Inspector of Mine Safety Olga Brandt": a name after
/// an "of" phrase is its last two words.
fn titled(
    words: &Words,
    tokens: std::ops::Range<usize>,
    title: usize,
    sentence_start: usize,
) -> Speaker {
    let mut name_start = tokens.end;
    // "Mohammed bin Abdulrahman Al Thani": lower-case particles inside a
    // name belong to it.
    let in_name = |k: usize, start: usize| {
        (words.is_capitalized(k) && !words.is_in(k, TITLE_WORDS))
            || (words.is_in(k, NAME_PARTICLES)
                && k + 1 < tokens.end
                && k + 1 == start
                && k > title + 1
                && words.is_capitalized(k - 1))
    };
    while name_start > title + 1 && in_name(name_start - 1, name_start) {
        name_start -= 1;
    }
    let after_of = (title + 1..name_start.max(title + 1)).any(|k| words.is_in(k, &["of"]))
        || (name_start > 0 && words.is_in(name_start - 1, &["of"]));
    if after_of && tokens.end - name_start > 2 {
        name_start = tokens.end - 2;
    }
    if name_start >= tokens.end {
        let mut unnamed = unnamed(words, tokens.clone(), sentence_start).unwrap_or(Speaker {
            kind: SpeakerKind::Unnamed,
            name: words.phrase(tokens.start, tokens.end).to_lowercase(),
            role: None,
            tokens: tokens.clone(),
        });
        unnamed.kind = SpeakerKind::Unnamed;
        return unnamed;
    }
    Speaker {
        kind: SpeakerKind::Person,
        name: words.phrase(name_start, tokens.end).to_owned(),
        role: (name_start > tokens.start)
            .then(|| words.phrase(tokens.start, name_start).to_owned()),
        tokens: name_start..tokens.end,
    }
}

/// "police", "Afghan officials", "rail accident investigators": the phrase
/// without its article, its opening capital dropped where only the sentence
/// start put it there. Only a noun for people or a plural counts.
fn unnamed(
    words: &Words,
    tokens: std::ops::Range<usize>,
    sentence_start: usize,
) -> Option<Speaker> {
    let head = words.lower(tokens.end - 1)?;
    let speaks = PEOPLE_NOUNS.contains(&head)
        || SPEAKER_NOUNS.contains(&head)
        || DOCUMENT_NOUNS.contains(&head)
        || is_title_word(head)
        || ORGANISATION_WORDS.contains(&head)
        || matches!(
            head,
            "witness"
                | "source"
                | "sources"
                | "operator"
                | "spokesman"
                | "spokeswoman"
                | "military"
        )
        || (head.ends_with('s') && !head.ends_with("ss") && head.len() > 3);
    if !speaks {
        return None;
    }
    let written = words.phrase(tokens.start, tokens.end);
    let proper_adjective = |w: &str| {
        ["an", "ese", "ish", "i", "ch"]
            .iter()
            .any(|s| w.ends_with(s))
    };
    let possessive = words.lower(tokens.start)?.ends_with("'s");
    let name = if tokens.start == sentence_start
        && !possessive
        && !proper_adjective(words.lower(tokens.start)?)
    {
        lower_first(written)
    } else {
        written.to_owned()
    };
    Some(Speaker {
        kind: SpeakerKind::Unnamed,
        name,
        role: None,
        tokens,
    })
}

fn lower_first(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_lowercase().chain(chars).collect())
        .unwrap_or_default()
}

/// The people named so far, in order: a pronoun is the last of them, a
/// surname alone the full name first written, and a role stays with its
/// person.
#[derive(Debug, Default)]
pub struct People {
    people: Vec<(String, Option<String>)>,
    /// Lower-cased full names and surnames to the person first written so.
    index: std::collections::HashMap<String, usize>,
    last: Option<usize>,
}

impl People {
    /// The speaker as the report means them, remembering people and roles.
    pub fn resolve(&mut self, speaker: Speaker) -> Option<Speaker> {
        match speaker.kind {
            SpeakerKind::Pronoun => {
                let (name, role) = self.people.get(self.last?)?.clone();
                Some(Speaker {
                    kind: SpeakerKind::Person,
                    name,
                    role,
                    tokens: speaker.tokens,
                })
            }
            SpeakerKind::Person => Some(self.remember(speaker)),
            SpeakerKind::Organisation | SpeakerKind::Unnamed => {
                if let Some(index) = self.known(&speaker.name) {
                    let (name, role) = self.people[index].clone();
                    self.last = Some(index);
                    return Some(Speaker {
                        kind: SpeakerKind::Person,
                        name,
                        role,
                        ..speaker
                    });
                }
                Some(speaker)
            }
        }
    }

    fn known(&self, name: &str) -> Option<usize> {
        self.index.get(&name.to_lowercase()).copied()
    }

    fn remember(&mut self, speaker: Speaker) -> Speaker {
        let index = match self.known(&speaker.name) {
            Some(index) => {
                if speaker.role.is_some() && self.people[index].1.is_none() {
                    self.people[index].1 = speaker.role.clone();
                }
                index
            }
            None => {
                let index = self.people.len();
                let full = speaker.name.to_lowercase();
                if let Some(surname) = full.rsplit(' ').next().filter(|s| *s != full) {
                    self.index.entry(surname.to_owned()).or_insert(index);
                }
                self.index.insert(full, index);
                self.people
                    .push((speaker.name.clone(), speaker.role.clone()));
                index
            }
        };
        self.last = Some(index);
        let (name, role) = self.people[index].clone();
        Speaker {
            name,
            role: speaker.role.or(role),
            ..speaker
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::extract::text::Layout;

    fn speaker_in(sentence: &str) -> Option<(String, Option<String>)> {
        let layout = Layout::of(sentence);
        let words = Words::of(&layout);
        let marks: Vec<usize> = (0..words.len())
            .filter(|&i| is_quotation_mark(&words, i))
            .collect();
        let quoted = |i: usize| marks.len() >= 2 && i >= marks[0] && i <= marks[marks.len() - 1];
        let items = visible_items(&words, 0..words.len(), quoted);
        let speaker = attribution(&words, &items, 0)?;
        Some((speaker.name, speaker.role))
    }

    fn named(name: &str, role: Option<&str>) -> Option<(String, Option<String>)> {
        Some((name.to_owned(), role.map(str::to_owned)))
    }

    #[test]
    fn the_speaker_before_the_verb_with_the_role_before_the_name() {
        assert_eq!(
            speaker_in("Senate Press Secretary Maria Holt said the talks went on."),
            named("Maria Holt", Some("Senate Press Secretary"))
        );
        assert_eq!(
            speaker_in("Chief Inspector of Mine Safety Olga Brandt told reporters in Leeds that work was late."),
            named("Olga Brandt", Some("Chief Inspector of Mine Safety"))
        );
        assert_eq!(
            speaker_in("The Peruvian Foreign Ministry said in a statement."),
            named("Peruvian Foreign Ministry", None)
        );
    }

    #[test]
    fn the_speaker_after_an_inverted_verb_and_the_issuer_of_a_document() {
        assert_eq!(
            speaker_in(
                "\"We will go on,\" said Tom Reyes, general secretary of the dockers' union."
            ),
            named("Tom Reyes", Some("general secretary of the dockers' union"))
        );
        assert_eq!(
            speaker_in("\"It is over,\" said a press release issued by the Hezbollah group."),
            named("Hezbollah", None)
        );
        assert_eq!(
            speaker_in("\"It is over,\" said a statement issued by UNICEF."),
            named("UNICEF", None)
        );
    }

    #[test]
    fn according_to_names_the_speaker() {
        assert_eq!(
            speaker_in("Schools closed early, according to Anna Kowal, head of the regional education office."),
            named("Anna Kowal", Some("head of the regional education office"))
        );
    }

    #[test]
    fn unnamed_speakers_are_their_noun_without_the_article() {
        assert_eq!(
            speaker_in("Twenty people had died by Monday, police said."),
            named("police", None)
        );
        assert_eq!(
            speaker_in("Health officials in Lyon said on Monday that cases rose."),
            named("health officials", None)
        );
        assert_eq!(
            speaker_in("As many as 30 men were on board, the owner said."),
            named("owner", None)
        );
    }

    #[test]
    fn particles_stay_inside_a_name_and_a_possessive_keeps_its_capital() {
        assert_eq!(
            speaker_in(
                "Oman's Foreign Minister Badr bin Hamad Al Busaidi said the talks would resume."
            ),
            named("Badr bin Hamad Al Busaidi", Some("Oman's Foreign Minister"))
        );
        assert_eq!(
            speaker_in("Peru's army said the road was open."),
            named("Peru's army", None)
        );
    }

    #[test]
    fn a_name_after_an_unnamed_role_is_the_speaker() {
        assert_eq!(
            speaker_in("A military spokesman, Rear Adm. Jane Roe, told reporters that the army would stay."),
            named("Jane Roe", Some("military spokesman, Rear Adm."))
        );
    }

    #[test]
    fn a_capital_at_the_sentence_start_does_not_name_police() {
        assert_eq!(
            speaker_in("Police in Lyon said on Monday that 12 were held."),
            named("police", None)
        );
    }

    #[test]
    fn an_apposition_between_name_and_verb_is_skipped_and_kept_as_role() {
        assert_eq!(
            speaker_in("Jan Olsen, 61, who was sitting in the front row, said he was thrown."),
            named("Jan Olsen", None)
        );
        assert_eq!(
            speaker_in("Rui Costa, Portugal's special envoy to the summit, said this on Friday."),
            named("Rui Costa", Some("Portugal's special envoy to the summit"))
        );
    }

    #[test]
    fn a_pronoun_and_a_surname_find_the_person_named_before() {
        let mut people = People::default();
        let kirby = Speaker {
            kind: SpeakerKind::Person,
            name: "Maria Holt".into(),
            role: Some("Press Secretary".into()),
            tokens: 0..2,
        };
        people.resolve(kirby);
        let surname = Speaker {
            kind: SpeakerKind::Person,
            name: "Holt".into(),
            role: None,
            tokens: 5..6,
        };
        let resolved = people.resolve(surname).map(|s| (s.name, s.role));
        assert_eq!(resolved, named("Maria Holt", Some("Press Secretary")));
        let pronoun = Speaker {
            kind: SpeakerKind::Pronoun,
            name: "he".into(),
            role: None,
            tokens: 9..10,
        };
        assert_eq!(
            people.resolve(pronoun).map(|s| s.name),
            Some("Maria Holt".into())
        );
    }
}
