//! No Docker engine runs here, so the Dockerfile is checked by reading it:
//! every folder the build embeds files from (include_str!, include_bytes!,
//! sqlx::migrate!) must be copied into the build stage.

use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};

/// The repository's top-level folder a path inside it lies in.
fn top_folder(path: &Path) -> Option<String> {
    let mut parts: Vec<String> = Vec::new();
    for component in path.components() {
        match component {
            Component::ParentDir => {
                parts.pop();
            }
            Component::Normal(part) => parts.push(part.to_string_lossy().into_owned()),
            _ => {}
        }
    }
    parts.into_iter().next()
}

/// The string literals of `text`, in order.
fn literals(text: &str) -> Vec<String> {
    text.split('"')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

/// Top-level folders that `file` (relative to the repository) embeds from.
fn embedded_folders(file: &Path, source: &str) -> BTreeSet<String> {
    let mut folders = BTreeSet::new();
    let lines: Vec<&str> = source.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        let window = lines[i..(i + 6).min(lines.len())].join(" ");
        if line.contains("CARGO_MANIFEST_DIR") {
            if let Some(path) = literals(&window).into_iter().find(|l| l.starts_with('/')) {
                folders.extend(top_folder(Path::new(&path[1..])));
            }
        } else if line.contains("include_str!(\"") || line.contains("include_bytes!(\"") {
            if let Some(path) = literals(line).into_iter().next() {
                let base = file.parent().unwrap_or(Path::new(""));
                folders.extend(top_folder(&base.join(path)));
            }
        } else if line.contains("migrate!(\"") {
            if let Some(path) = literals(line).into_iter().next() {
                folders.extend(top_folder(Path::new(&path)));
            }
        }
    }
    folders
}

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

#[test]
fn the_dockerfile_copies_every_folder_the_build_embeds() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    let mut needed = BTreeSet::new();
    for file in files {
        let relative = file.strip_prefix(root).unwrap().to_path_buf();
        needed.extend(embedded_folders(
            &relative,
            &std::fs::read_to_string(&file).unwrap(),
        ));
    }
    for expected in ["src", "migrations", "fixtures", "desk"] {
        assert!(
            needed.contains(expected),
            "the scan finds {expected}: {needed:?}"
        );
    }
    let dockerfile = std::fs::read_to_string(root.join("Dockerfile")).unwrap();
    // The first stage: from the first FROM to the second.
    let build_stage = format!("\n{dockerfile}")
        .split("\nFROM ")
        .nth(1)
        .unwrap_or_default()
        .to_owned();
    let copied: BTreeSet<String> = build_stage
        .lines()
        .filter_map(|line| line.trim().strip_prefix("COPY "))
        .flat_map(|args| {
            let words: Vec<&str> = args
                .split_whitespace()
                .filter(|w| !w.starts_with("--"))
                .collect();
            words[..words.len().saturating_sub(1)]
                .iter()
                .filter_map(|w| top_folder(Path::new(w)))
                .collect::<Vec<_>>()
        })
        .collect();
    let missing: Vec<&String> = needed.difference(&copied).collect();
    assert!(
        missing.is_empty(),
        "the Dockerfile's build stage does not copy {missing:?} (copies {copied:?})"
    );
}
