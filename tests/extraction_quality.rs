//! The extractor's precision and recall on the annotated reports of
//! `fixtures/reports/`, printed per kind with every miss, and gated
//! (DESIGN §11: DATE, QUOTE and FIGURE at precision >= 0.90, recall >= 0.85).

use storyline::domain::extract::score::{evaluate, table, Annotated, Scores};

fn annotated_reports() -> Vec<Annotated> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/reports");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .expect("fixtures/reports is readable")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(p).expect("fixture is readable");
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        })
        .collect()
}

#[test]
fn extraction_meets_the_precision_and_recall_gates_on_the_annotated_reports() {
    let reports = annotated_reports();
    assert!(reports.len() >= 7, "the annotated reports are all there");
    let mut total = Scores::default();
    for report in &reports {
        total.add(&evaluate(report));
    }
    println!("{}", table(&total));
    for (kind, tally) in [
        ("DATE", &total.dates),
        ("QUOTE", &total.quotes),
        ("FIGURE", &total.figures),
    ] {
        assert!(
            tally.precision() >= 0.90,
            "{kind} precision {:.3} < 0.90",
            tally.precision()
        );
        assert!(
            tally.recall() >= 0.85,
            "{kind} recall {:.3} < 0.85",
            tally.recall()
        );
    }
}
