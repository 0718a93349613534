//! The web desk: the story list at `/`, a story at `/stories/{slug}`,
//! the reports' inbox at `/reports` and a report's review at
//! `/reports/{id}`, the feeds followed at `/feeds`, GraphiQL at `/graphiql`, and a story's exports. The pages are static
//! shells embedded at build time (`desk/` beside `src/`); their scripts
//! read through the same GraphQL API anyone can use. The exports are served
//! here from the same store and fold, under the same access rule.

mod assets;
pub mod exports;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::api::errors::ApiError;
use crate::domain::view::StoryState;
use crate::http::graphql::{bearer_token, viewer_of, TokenCheck};
use crate::http::AppState;
use exports::Cut;

/// The desk's routes; `/graphql` and the operational ones are the API's.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { assets::page("index.html") }))
        .route("/graphiql", get(|| async { assets::page("graphiql.html") }))
        .route("/feeds", get(|| async { assets::page("feeds.html") }))
        .route("/reports", get(|| async { assets::page("reports.html") }))
        .route(
            "/reports/{id}",
            get(|| async { assets::page("review.html") }),
        )
        .route("/desk/{*file}", get(asset))
        .route("/places", get(places))
        .route(
            "/stories/{slug}",
            get(|| async { assets::page("story.html") }),
        )
        .route("/stories/{slug}/{file}", get(export))
}

async fn asset(Path(file): Path<String>) -> Response {
    assets::file(&file)
}

/// Names looked up at once by `/places`.
const MAX_PLACE_NAMES: usize = 200;

/// Where places are, as the reports' gazetteer knows them, for the map of
/// developments whose location has no coordinates:
/// `/places?name=Kabul&name=Qatar` answers `[{"name", "latitude",
/// "longitude"}]`, null coordinates for a name it does not know. Public:
/// the gazetteer is public data.
async fn places(axum::extract::RawQuery(query): axum::extract::RawQuery) -> Response {
    let names: Vec<String> = url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .filter(|(key, _)| key == "name")
        .map(|(_, value)| value.trim().to_owned())
        .filter(|name| !name.is_empty() && name.chars().count() <= 300)
        .take(MAX_PLACE_NAMES)
        .collect();
    let found: Vec<serde_json::Value> = names
        .iter()
        .map(|name| {
            let location = crate::domain::extract::dateline_location(name);
            serde_json::json!({
                "name": name,
                "latitude": location.latitude,
                "longitude": location.longitude,
            })
        })
        .collect();
    axum::Json(found).into_response()
}

/// A cut as the URL gives it: `?at=…&knownAt=…` (RFC 3339).
#[derive(Debug, Deserialize)]
struct CutParams {
    at: Option<String>,
    #[serde(rename = "knownAt")]
    known_at: Option<String>,
}

impl CutParams {
    fn cut(&self) -> Result<Cut, String> {
        let parse = |name: &str, text: &Option<String>| {
            text.as_deref()
                .filter(|t| !t.trim().is_empty())
                .map(|t| {
                    DateTime::parse_from_rfc3339(t.trim())
                        .map(|t| t.with_timezone(&Utc))
                        .map_err(|_| {
                            format!("{name} must be an RFC 3339 date with an offset, e.g. 2021-07-13T00:00:00Z")
                        })
                })
                .transpose()
        };
        Ok(Cut {
            at: parse("at", &self.at)?,
            known_at: parse("knownAt", &self.known_at)?,
        })
    }
}

fn plain(status: StatusCode, message: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        message.to_owned(),
    )
        .into_response()
}

fn refused(error: &ApiError) -> Response {
    let status = match error {
        ApiError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
        ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
        ApiError::BadUserInput(_) => StatusCode::BAD_REQUEST,
        ApiError::NotFound(_) => StatusCode::NOT_FOUND,
        ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        ApiError::VersionConflict { .. } | ApiError::Internal(_) => {
            StatusCode::INTERNAL_SERVER_ERROR
        }
    };
    plain(status, &error.to_string())
}

/// `/stories/{slug}/timeline.json`, `developments.csv` or
/// `developments.geojson`, at the cut the query names.
async fn export(
    State(state): State<AppState>,
    Path((slug, file)): Path<(String, String)>,
    Query(params): Query<CutParams>,
    headers: HeaderMap,
) -> Response {
    let cut = match params.cut() {
        Ok(cut) => cut,
        Err(message) => return plain(StatusCode::BAD_REQUEST, &message),
    };
    let (title, story) = match story_at(&state, &headers, &slug, cut).await {
        Ok(Some(found)) => found,
        Ok(None) => return plain(StatusCode::NOT_FOUND, "no such story"),
        Err(error) => return refused(&error),
    };
    let stem = export_name(&slug, cut);
    match file.as_str() {
        "timeline.json" => file_response(
            "application/json",
            &format!("{stem}.timeline.json"),
            exports::timeline_json(&slug, &title, &story, cut)
                .to_string()
                .into_bytes(),
        ),
        "developments.csv" => match exports::developments_csv(&story, cut) {
            Ok(csv) => file_response(
                "text/csv; charset=utf-8; header=present",
                &format!("{stem}.csv"),
                csv,
            ),
            Err(_) => plain(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the CSV could not be written",
            ),
        },
        "developments.geojson" => file_response(
            "application/geo+json",
            &format!("{stem}.geojson"),
            exports::developments_geojson(&slug, &story, cut)
                .to_string()
                .into_bytes(),
        ),
        _ => plain(
            StatusCode::NOT_FOUND,
            "exports are timeline.json, developments.csv and developments.geojson",
        ),
    }
}

/// The story's title (as known at the cut) and state, if the viewer may
/// see it: an INTERNAL story answers as a missing one does.
async fn story_at(
    state: &AppState,
    headers: &HeaderMap,
    slug: &str,
    cut: Cut,
) -> Result<Option<(String, StoryState)>, ApiError> {
    let token = bearer_token(headers)?;
    let viewer = viewer_of(state, token.as_deref(), TokenCheck::Now).await?;
    let Some(header) = state.store.story_header_by_slug(slug.trim()).await? else {
        return Ok(None);
    };
    if !viewer.may_read(&header) {
        return Ok(None);
    }
    let story = state
        .store
        .state_at(header.id, cut.at, cut.known_at)
        .await?;
    Ok(story.map(|story| (story.title.clone(), story)))
}

/// A file name that says which cut it holds.
fn export_name(slug: &str, cut: Cut) -> String {
    let mut name = slug.to_owned();
    let compact = |t: DateTime<Utc>| t.format("%Y%m%dT%H%M%SZ").to_string();
    if let Some(at) = cut.at {
        name.push_str(&format!("-at-{}", compact(at)));
    }
    if let Some(known_at) = cut.known_at {
        name.push_str(&format!("-known-{}", compact(known_at)));
    }
    name
}

fn file_response(content_type: &'static str, name: &str, body: Vec<u8>) -> Response {
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(disposition) = HeaderValue::from_str(&format!("inline; filename=\"{name}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, disposition);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
