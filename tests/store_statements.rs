//! Every statement the store sends is one file under `src/store/sql/`, used
//! whole (`sql!`), its parameters named at the top. These tests hold the
//! files to that: each is used, names exactly the parameters it uses, and
//! is valid SQL against the migrated schema.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use sqlx::Executor;

fn sql_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src/store/sql")
}

/// Every statement file, by its name as `sql!` takes it ("append/several").
fn statement_files() -> Vec<(String, String)> {
    let mut files = Vec::new();
    let mut dirs = vec![sql_dir()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "sql") {
                let name = path
                    .strip_prefix(sql_dir())
                    .unwrap()
                    .with_extension("")
                    .to_string_lossy()
                    .replace('\\', "/");
                files.push((name, std::fs::read_to_string(&path).unwrap()));
            }
        }
    }
    files.sort();
    assert!(
        files.len() > 50,
        "found only {} statement files",
        files.len()
    );
    files
}

/// The store's Rust sources, concatenated.
fn store_sources() -> String {
    store_sources_except(&[])
}

fn store_sources_except(skipped: &[&str]) -> String {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/store");
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "rs"))
        .filter(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            !skipped.contains(&name.as_str())
        })
        .map(|path| std::fs::read_to_string(path).unwrap())
        .collect()
}

/// `$n` parameters named in the leading comment (`-- $3  event_id  uuid`),
/// and those of them marked unused.
fn declared_parameters(text: &str) -> (BTreeSet<u32>, BTreeSet<u32>) {
    let mut declared = BTreeSet::new();
    let mut unused = BTreeSet::new();
    for line in text.lines().take_while(|l| l.starts_with("--")) {
        let Some(rest) = line.strip_prefix("-- $") else {
            continue;
        };
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        let Ok(n) = digits.parse() else { continue };
        declared.insert(n);
        if line.contains("unused") {
            unused.insert(n);
        }
    }
    (declared, unused)
}

/// `$n` parameters the statement itself uses, outside comments and quotes.
fn used_parameters(text: &str) -> BTreeSet<u32> {
    let mut used = BTreeSet::new();
    for line in text.lines() {
        let code = line.split("--").next().unwrap_or_default();
        let mut in_quote = false;
        let chars: Vec<char> = code.chars().collect();
        for (i, c) in chars.iter().enumerate() {
            if *c == '\'' {
                in_quote = !in_quote;
            }
            if *c == '$' && !in_quote {
                let digits: String = chars[i + 1..]
                    .iter()
                    .take_while(|c| c.is_ascii_digit())
                    .collect();
                // `$1$I` inside format() strings and `$tag$` quotes are not
                // parameters; they are quoted or not digits.
                if let Ok(n) = digits.parse() {
                    used.insert(n);
                }
            }
        }
    }
    used
}

/// Statements sent by the simple protocol or needing a cursor or a
/// transaction of their own: checked by the tests that run them (rebuild,
/// migrate), not by PREPARE.
fn is_run_unprepared(text: &str) -> bool {
    let first = text
        .lines()
        .find(|l| !l.starts_with("--") && !l.trim().is_empty())
        .unwrap_or_default();
    ["DO ", "DECLARE ", "FETCH ", "CLOSE ", "LOCK ", "COPY "]
        .iter()
        .any(|word| first.starts_with(word))
        || text.contains("Run by the simple protocol")
}

#[test]
fn every_statement_file_is_used_by_the_store() {
    let sources = store_sources();
    let unused: Vec<String> = statement_files()
        .into_iter()
        .map(|(name, _)| name)
        .filter(|name| !sources.contains(&format!("sql!(\"{name}\")")))
        .collect();
    assert!(
        unused.is_empty(),
        "statement files no code sends: {unused:?}"
    );
}

/// The one exception to a statement a file: a list with optional filters
/// is built by one function with sqlx's QueryBuilder, a line per filter,
/// rather than by a file per combination of filters.
const FILTERED_LISTS: &[&str] = &["reports.rs", "stories.rs"];

#[test]
fn only_a_filtered_list_builds_its_statement_and_in_one_function() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/store");
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let builders = text.matches("QueryBuilder::<Postgres>::new").count();
        if FILTERED_LISTS.contains(&name.as_str()) {
            assert!(
                text.matches("fn push_filter").count() == 1,
                "{name}: the filters are pushed by one function"
            );
        } else {
            assert_eq!(builders, 0, "{name} builds a statement with QueryBuilder");
        }
    }
}

#[test]
fn the_store_composes_no_statement_at_run_time() {
    let sources = store_sources_except(FILTERED_LISTS);
    for composer in [
        "QueryBuilder",
        "format!(\"SELECT",
        "format!(\"INSERT",
        "push_str(\"",
    ] {
        assert!(
            !sources.contains(composer),
            "the store builds statements with {composer}"
        );
    }
    assert_eq!(
        sources.matches("concat!(").count(),
        1,
        "concat! serves sql! alone, naming a file"
    );
}

#[test]
fn every_statement_names_exactly_the_parameters_it_uses() {
    for (name, text) in statement_files() {
        let (declared, unused) = declared_parameters(&text);
        let used = used_parameters(&text);
        let expected: BTreeSet<u32> = declared.difference(&unused).copied().collect();
        assert_eq!(
            used, expected,
            "{name}: parameters used vs. named at the top"
        );
        let numbering: BTreeSet<u32> = (1..=declared.len() as u32).collect();
        assert_eq!(declared, numbering, "{name}: parameters are $1..$n");
    }
}

#[sqlx::test]
async fn every_prepared_statement_is_valid_against_the_schema(pool: sqlx::PgPool) {
    storyline::store::MIGRATOR.run(&pool).await.unwrap();
    // The rebuild's statements read the view its first statement makes, on
    // a search path that finds the fresh tables first; the others resolve
    // to tables of the same shape there.
    let mut conn = pool.acquire().await.unwrap();
    sqlx::raw_sql(include_str!("../src/store/sql/rebuild/prepare.sql"))
        .execute(&mut *conn)
        .await
        .unwrap();
    sqlx::query("SET search_path TO storyline_rebuild, public")
        .execute(&mut *conn)
        .await
        .unwrap();
    let mut checked = 0;
    for (name, text) in statement_files() {
        if is_run_unprepared(&text) {
            continue;
        }
        if let Err(e) = (&mut *conn).prepare(text.as_str()).await {
            panic!("{name} does not prepare: {e}");
        }
        checked += 1;
    }
    assert!(checked > 40, "prepared only {checked} statements");
}
