//! The desk's files, embedded at build time from `desk/` (so the binary
//! serves them on a closed network, and `cargo build` needs no Node).
//! Vendored files are pinned copies from npm (see `desk/vendor/README.md`).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

macro_rules! embedded {
    ($($path:literal),* $(,)?) => {
        &[$(($path, include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/desk/", $path)) as &[u8])),*]
    };
}

/// Every file the desk serves, by its path under `desk/`.
pub const FILES: &[(&str, &[u8])] = embedded![
    "index.html",
    "story.html",
    "graphiql.html",
    "desk.css",
    "desk.js",
    "list.js",
    "story.js",
    "chart.js",
    "feeds.html",
    "feeds.js",
    "reports.html",
    "reports.js",
    "review.html",
    "review.js",
    "graphiql.js",
    "vendor/graphql-ws.min.js",
    "vendor/topojson-client.min.js",
    "vendor/world-atlas/land-110m.json",
    "map.js",
    "vendor/graphiql/graphiql.min.css",
    "vendor/graphiql/graphiql.min.js",
    "vendor/graphiql/react.production.min.js",
    "vendor/graphiql/react-dom.production.min.js",
];

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("json") => "application/json",
        _ => "application/octet-stream",
    }
}

/// An embedded file, or 404.
pub fn file(path: &str) -> Response {
    let Some((_, body)) = FILES.iter().find(|(name, _)| *name == path) else {
        return (StatusCode::NOT_FOUND, "no such file").into_response();
    };
    let mut response = (StatusCode::OK, *body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(path)),
    );
    // Scripts only from files of this server (no inline script, so stored
    // text can never run as one), connections only to it (its socket
    // included), no framing (the write forms cannot be clickjacked), no
    // referrer sent, no content sniffed.
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; connect-src 'self'; img-src 'self' data:; \
             font-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; \
             frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'",
        ),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

/// A page shell: the same as [`file`], never cached (a new release brings
/// new scripts).
pub fn page(path: &str) -> Response {
    let mut response = file(path);
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}
