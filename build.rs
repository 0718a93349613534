// sqlx::migrate! embeds migrations/ at compile time, but cargo only
// rebuilds when a Rust file changes: without this, a new migration would
// be left out of the binary until something else changed.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
