//! The README's shell examples, read from the README itself (never copied
//! here), run in order by bash against the real server with the demo
//! loaded, and then all again, as a newcomer pasting them twice would.
//! `cargo run --release [-q] --` becomes this build's binary, and
//! http://127.0.0.1:8080 the test server's address.
//!
//! A block preceded by `<!-- readme-test: skip (why) -->` is not run; one
//! preceded by `<!-- readme-test: expect CODE -->` may get that error code
//! (and only it). Any other GraphQL error, HTTP error or failing command
//! fails the test.

mod common;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

const README: &str = include_str!("../README.md");

/// One shell block of the README and what it may answer.
struct Example {
    line: usize,
    script: String,
    expected_codes: Vec<String>,
}

/// The shell blocks in order, with their annotations.
fn examples() -> Vec<Example> {
    let mut examples = Vec::new();
    let mut annotation: Option<String> = None;
    let mut lines = README.lines().enumerate();
    while let Some((number, line)) = lines.next() {
        let trimmed = line.trim();
        if let Some(note) = trimmed
            .strip_prefix("<!-- readme-test:")
            .and_then(|rest| rest.strip_suffix("-->"))
        {
            annotation = Some(note.trim().to_owned());
            continue;
        }
        if trimmed != "```sh" {
            if !trimmed.is_empty() {
                annotation = None;
            }
            continue;
        }
        let body: Vec<&str> = lines
            .by_ref()
            .map(|(_, l)| l)
            .take_while(|l| l.trim() != "```")
            .collect();
        let note = annotation.take().unwrap_or_default();
        if note.starts_with("skip") {
            continue;
        }
        let expected_codes = note
            .strip_prefix("expect")
            .map(|codes| codes.split_whitespace().map(str::to_owned).collect())
            .unwrap_or_default();
        examples.push(Example {
            line: number + 1,
            script: body.join("\n"),
            expected_codes,
        });
    }
    examples
}

/// The whole script: a `curl` that fails on an HTTP error or an
/// unexpected GraphQL error code, then each block with what it may get.
fn script(examples: &[Example], binary: &str, base: &str) -> String {
    let mut script = String::from(
        r#"set -euo pipefail
curl() {
    local out
    out=$(command curl --fail-with-body "$@") || { printf '%s\n' "$out"; echo "curl failed in the block at README line $BLOCK" >&2; return 1; }
    printf '%s\n' "$out"
    local code
    for code in $(printf '%s' "$out" | grep -o '"code":"[A-Z_]*"' | sed 's/"code":"//; s/"//'); do
        case " $EXPECTED " in
            *" $code "*) ;;
            *) echo "unexpected $code in the block at README line $BLOCK: $out" >&2; return 1 ;;
        esac
    done
}
"#,
    );
    for example in examples {
        let body = example
            .script
            .replace("cargo run --release -q --", binary)
            .replace("cargo run --release --", binary)
            .replace("http://127.0.0.1:8080", base);
        script.push_str(&format!(
            "BLOCK={}\nEXPECTED='{}'\n{}\n",
            example.line,
            example.expected_codes.join(" "),
            body
        ));
    }
    script.push_str("echo 'readme: every block ran'\n");
    script
}

#[sqlx::test]
async fn every_shell_example_of_the_readme_runs_twice_against_the_demo(
    pool: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let database_url = common::test_database_url(&connect);
    let store = common::store_with(pool, connect, 8).await;
    storyline::exchange::load_demo(&store).await.unwrap();
    let server = common::spawn_server(store).await;

    let examples = examples();
    assert!(
        examples.len() >= 15,
        "the README's examples were found ({} blocks)",
        examples.len()
    );
    let script = script(&examples, env!("CARGO_BIN_EXE_storyline"), &server.url);
    for round in ["first", "second"] {
        let script = script.clone();
        let database_url = database_url.clone();
        let output = tokio::task::spawn_blocking(move || {
            std::process::Command::new("bash")
                .arg("-c")
                .arg(script)
                .current_dir(env!("CARGO_MANIFEST_DIR"))
                .env("DATABASE_URL", database_url)
                .env("RUST_LOG", "warn")
                .output()
        })
        .await
        .expect("bash's task")
        .expect("bash runs");
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.success() && stdout.contains("readme: every block ran"),
            "the {round} run failed\n--- stderr\n{stderr}\n--- stdout (last 4,000 bytes)\n{}",
            &stdout[stdout.len().saturating_sub(4_000)..]
        );
    }
}

#[test]
fn every_file_the_readme_and_the_design_link_is_in_the_repository() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for (document, text) in [
        ("README.md", README),
        ("docs/design.md", include_str!("../docs/design.md")),
    ] {
        let base = root.join(document);
        let base = base.parent().unwrap_or(root);
        for link in text.split("](").skip(1) {
            let Some(target) = link.split(')').next() else {
                continue;
            };
            let path = target.split('#').next().unwrap_or_default();
            if path.is_empty() || path.contains("://") {
                continue;
            }
            assert!(
                base.join(path).exists(),
                "{document} links {target}, which a clone does not have"
            );
        }
    }
}
