//! GraphQL over HTTP, as the GraphQL-over-HTTP specification asks (checked
//! by the graphql-http audit suite in the tests), and over WebSocket
//! (graphql-transport-ws) on the same path.
//!
//! The stock async-graphql-axum handler answers every request error with
//! 200 and `data: null` and picks its content type loosely; this one
//! decides media type and status itself and only calls `schema.execute`.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_graphql::http::ALL_WEBSOCKET_PROTOCOLS;
use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, OperationType};
use async_graphql::{Data, ServerError, Value, Variables};
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::body::Bytes;
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use axum::extract::{FromRequestParts, RawQuery, Request, State, WebSocketUpgrade};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Map, Value as Json};
use tokio::sync::{mpsc, oneshot};

use super::{AppState, MAX_BODY_BYTES};
use crate::api::budget::{Budget, MAX_RESPONSE_BYTES};
use crate::api::errors::TOKEN_NOT_LIVE;
use crate::api::errors::{code, ApiError};
use crate::api::limits::{self, Executed};
use crate::api::Viewer;
use crate::store::{Credential, Store, WalPosition};

const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";
const APPLICATION_JSON: &str = "application/json";

/// The media type a response is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MediaType {
    /// The specification's own type: request errors get 4xx and no data.
    GraphQLResponse,
    /// The legacy type: every well-formed GraphQL response gets 200.
    Json,
}

impl MediaType {
    fn as_str(self) -> &'static str {
        match self {
            MediaType::GraphQLResponse => "application/graphql-response+json; charset=utf-8",
            MediaType::Json => "application/json; charset=utf-8",
        }
    }

    /// What the client accepts, in the server's order of preference; `None`
    /// when it accepts neither.
    fn negotiate(headers: &HeaderMap) -> Option<MediaType> {
        let Some(accept) = headers.get(header::ACCEPT) else {
            return Some(MediaType::Json);
        };
        let accept = accept.to_str().unwrap_or_default();
        let ranges: Vec<&str> = accept
            .split(',')
            .map(|range| range.split(';').next().unwrap_or_default().trim())
            .collect();
        if ranges.contains(&GRAPHQL_RESPONSE_JSON) {
            Some(MediaType::GraphQLResponse)
        } else if ranges
            .iter()
            .any(|r| *r == APPLICATION_JSON || *r == "application/*" || *r == "*/*" || r.is_empty())
        {
            Some(MediaType::Json)
        } else {
            None
        }
    }
}

/// A request refused before GraphQL sees it.
fn http_error(status: StatusCode, message: &str) -> Response {
    let body = serde_json::json!({ "errors": [{ "message": message }] });
    (
        status,
        [(header::CONTENT_TYPE, MediaType::Json.as_str())],
        body.to_string(),
    )
        .into_response()
}

/// The parameters of a GraphQL request, from a JSON body or a query string.
struct Params {
    query: String,
    operation_name: Option<String>,
    variables: Option<Map<String, Json>>,
}

impl Params {
    /// Reads the request object; the message says which field is wrong.
    fn from_object(mut object: Map<String, Json>) -> Result<Params, String> {
        let query = match object.remove("query") {
            Some(Json::String(query)) => query,
            Some(_) => return Err("`query` must be a string".into()),
            None => return Err("the request has no `query`".into()),
        };
        let operation_name = match object.remove("operationName") {
            None | Some(Json::Null) => None,
            Some(Json::String(name)) => Some(name),
            Some(_) => return Err("`operationName` must be a string".into()),
        };
        let variables = match object.remove("variables") {
            None | Some(Json::Null) => None,
            Some(Json::Object(variables)) => Some(variables),
            Some(_) => return Err("`variables` must be an object".into()),
        };
        match object.remove("extensions") {
            None | Some(Json::Null) | Some(Json::Object(_)) => {}
            Some(_) => return Err("`extensions` must be an object".into()),
        }
        Ok(Params {
            query,
            operation_name,
            variables,
        })
    }

    fn from_body(body: &[u8]) -> Result<Params, String> {
        match serde_json::from_slice::<Json>(body) {
            Ok(Json::Object(object)) => Params::from_object(object),
            Ok(_) => Err("the request body must be a JSON object".into()),
            Err(e) => Err(format!("the request body is not valid JSON: {e}")),
        }
    }

    /// GET: `variables` and `extensions` travel as JSON text.
    fn from_query_string(raw: &str) -> Result<Params, String> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw)
            .map_err(|_| "the query string is not URL-encoded".to_owned())?;
        let mut object = Map::new();
        for (key, value) in pairs {
            let value = match key.as_str() {
                "variables" | "extensions" => serde_json::from_str(&value)
                    .map_err(|_| format!("`{key}` must be URL-encoded JSON"))?,
                _ => Json::String(value),
            };
            object.insert(key, value);
        }
        Params::from_object(object)
    }
}

/// The bearer token of `Authorization: Bearer <token>`, if any.
pub fn bearer_token(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    // A header that is there but not `Bearer <token>` is a client's mistake
    // to be told, never a request to be served as anonymous.
    let token = value.to_str().ok().and_then(|value| {
        let (scheme, token) = value.trim().split_once(' ')?;
        let token = token.trim();
        (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty() && !token.contains(' '))
            .then(|| token.to_owned())
    });
    token
        .map(Some)
        .ok_or(ApiError::Unauthenticated(MALFORMED_AUTHORIZATION))
}

const MALFORMED_AUTHORIZATION: &str = "the Authorization header must be `Bearer <token>`";

/// The token of a connection_init payload: absent (or null) is anonymous;
/// anything but a string is refused, never taken for anonymous.
pub fn init_token(payload: &Json) -> Result<Option<&str>, ApiError> {
    match payload.get("token") {
        None | Some(Json::Null) => Ok(None),
        Some(Json::String(token)) if !token.trim().is_empty() => Ok(Some(token.as_str())),
        Some(_) => Err(ApiError::Unauthenticated(
            "connection_init's token must be a string holding a token",
        )),
    }
}

/// How a request's token is checked. A read is answered by this request
/// alone, so its token must be live now (`Now`: one lookup). A mutation's
/// append checks liveness in its own statement, so a token seen live before
/// may be taken from memory (`Remembered`), which keeps appends at one
/// round trip.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenCheck {
    Now,
    Remembered,
}

/// Who a request or socket is from: anonymous without a token, the token's
/// holder when it is live, and refused (UNAUTHENTICATED) when it is
/// unknown or revoked, never taken for anonymous (DESIGN §10).
pub async fn viewer_of(
    state: &AppState,
    token: Option<&str>,
    check: TokenCheck,
) -> Result<Viewer, ApiError> {
    let Some(token) = token else {
        return match state.private {
            false => Ok(Viewer(None)),
            true => Err(ApiError::Unauthenticated(PRIVATE_SERVER)),
        };
    };
    let store: &Store = &state.store;
    let credential = match check {
        TokenCheck::Now => store.live_credential(token).await?,
        TokenCheck::Remembered => store.credential(token).await?,
    };
    match credential {
        Some(credential) => Ok(Viewer(Some(credential))),
        None => Err(ApiError::Unauthenticated(TOKEN_NOT_LIVE)),
    }
}

const PRIVATE_SERVER: &str =
    "this server is private (serve --private): every request needs a live token";

/// A refusal before execution as the error a response carries.
fn refusal(error: &ApiError) -> ServerError {
    let mut refused = ServerError::new(error.to_string(), None);
    refused
        .extensions
        .get_or_insert_with(Default::default)
        .set("code", error.code());
    refused
}

/// The operation a document runs, if it can be told.
fn selected_operation<'a>(
    document: &'a ExecutableDocument,
    name: Option<&str>,
) -> Option<&'a async_graphql::parser::types::OperationDefinition> {
    match (&document.operations, name) {
        (DocumentOperations::Single(op), _) => Some(&op.node),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name).map(|op| &op.node),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => {
            ops.values().next().map(|op| &op.node)
        }
        (DocumentOperations::Multiple(_), None) => None,
    }
}

/// A bounded metrics label: operation type and first root field.
fn operation_label(document: &ExecutableDocument, name: Option<&str>) -> String {
    use async_graphql::parser::types::Selection;
    let Some(op) = selected_operation(document, name) else {
        return "unknown".into();
    };
    let kind = match op.ty {
        OperationType::Query => "query",
        OperationType::Mutation => "mutation",
        OperationType::Subscription => "subscription",
    };
    let field = op
        .selection_set
        .node
        .items
        .iter()
        .find_map(|item| match &item.node {
            Selection::Field(field) => Some(field.node.name.node.as_str()),
            _ => None,
        })
        .unwrap_or("fragment");
    // Labels come from a bounded set: a name the schema does not have
    // (the document will fail validation) is never a label.
    if field != "fragment" && !crate::api::is_root_field(kind, field) {
        return "invalid".into();
    }
    format!("{kind} {field}")
}

pub async fn graphql_get(State(state): State<AppState>, request: Request) -> Response {
    if is_websocket_upgrade(request.headers()) {
        return websocket(state, request).await;
    }
    let Some(media) = MediaType::negotiate(request.headers()) else {
        return http_error(
            StatusCode::NOT_ACCEPTABLE,
            "accept application/graphql-response+json or application/json",
        );
    };
    let headers = request.headers().clone();
    let RawQuery(raw) = RawQuery::from_request_parts(&mut request.into_parts().0, &state)
        .await
        .unwrap_or(RawQuery(None));
    let params = match Params::from_query_string(raw.as_deref().unwrap_or_default()) {
        Ok(params) => params,
        Err(message) => return http_error(StatusCode::BAD_REQUEST, &message),
    };
    execute(state, &headers, media, params, true).await
}

pub async fn graphql_post(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(media) = MediaType::negotiate(&headers) else {
        return http_error(
            StatusCode::NOT_ACCEPTABLE,
            "accept application/graphql-response+json or application/json",
        );
    };
    if !is_json_in_utf8(&headers) {
        return http_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send the request as Content-Type: application/json (UTF-8)",
        );
    }
    let params = match Params::from_body(&body) {
        Ok(params) => params,
        Err(message) => return http_error(StatusCode::BAD_REQUEST, &message),
    };
    execute(state, &headers, media, params, false).await
}

/// POST bodies must be JSON in UTF-8 (the charset may be left out).
fn is_json_in_utf8(headers: &HeaderMap) -> bool {
    let Some(content_type) = headers.get(header::CONTENT_TYPE) else {
        return false;
    };
    let content_type = content_type
        .to_str()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let mut parts = content_type.split(';').map(str::trim);
    let essence = parts.next().unwrap_or_default();
    let charset_ok = parts
        .filter_map(|p| p.strip_prefix("charset="))
        .all(|charset| charset.trim_matches('"') == "utf-8");
    essence == APPLICATION_JSON && charset_ok
}

async fn execute(
    state: AppState,
    headers: &HeaderMap,
    media: MediaType,
    params: Params,
    over_get: bool,
) -> Response {
    let started = Instant::now();
    // Kept to tell, should the request fail validation, which arguments
    // were written out in the document (rare: re-parsed only then).
    let query = params.query.clone();
    let mut request = async_graphql::Request::new(params.query);
    if let Some(name) = &params.operation_name {
        request = request.operation_name(name.clone());
    }
    if let Some(variables) = params.variables {
        request = request.variables(Variables::from_json(Json::Object(variables)));
    }
    crate::api::documents::recall(&mut request, &query);
    let label = match request.parsed_query() {
        Ok(document) => {
            crate::api::documents::remember(&query, document);
            let op = selected_operation(document, params.operation_name.as_deref());
            if over_get && op.is_some_and(|op| op.ty != OperationType::Query) {
                let mut response = http_error(
                    StatusCode::METHOD_NOT_ALLOWED,
                    "only queries may be sent with GET; send mutations with POST",
                );
                response
                    .headers_mut()
                    .insert(header::ALLOW, HeaderValue::from_static("POST"));
                return response;
            }
            operation_label(document, params.operation_name.as_deref())
        }
        Err(error) => {
            let error = with_code(error, code::GRAPHQL_PARSE_FAILED);
            state
                .metrics
                .record_request("invalid", code::GRAPHQL_PARSE_FAILED, started.elapsed());
            return request_error(media, vec![error]);
        }
    };
    if let Err(refused) = limits::check_request(&mut request) {
        let code = error_code(&refused).to_owned();
        state
            .metrics
            .record_request(&label, &code, started.elapsed());
        return request_error(media, vec![refused]);
    }
    let check = match label.starts_with("mutation") {
        true => TokenCheck::Remembered,
        false => TokenCheck::Now,
    };
    let token = bearer_token(headers);
    let viewer = match token {
        Ok(token) => viewer_of(&state, token.as_deref(), check).await,
        Err(refused) => Err(refused),
    };
    let viewer = match viewer {
        Ok(viewer) => viewer,
        Err(refused) => {
            state.metrics.record_refused(refused.code());
            state
                .metrics
                .record_request(&label, refused.code(), started.elapsed());
            return request_error(media, vec![refusal(&refused)]);
        }
    };
    let mut request = request.data(viewer);
    let mutation = label.starts_with("mutation");
    if !mutation {
        match read_on_replica(&state, headers, request).await {
            Ok(routed) => request = routed,
            Err(refused) => {
                state
                    .metrics
                    .record_request(&label, refused.code(), started.elapsed());
                return request_error(media, vec![refusal(&refused)]);
            }
        }
    }
    let mut response =
        match limits::execute_bounded(&state.schema, request, state.request_timeout).await {
            Executed::Answered(response) => response,
            Executed::TimedOut => {
                state
                    .metrics
                    .record_request(&label, code::UNAVAILABLE, started.elapsed());
                return unanswered(media, limits::timed_out_error(mutation));
            }
            Executed::TooMuch => {
                state
                    .metrics
                    .record_request(&label, code::BAD_USER_INPUT, started.elapsed());
                return unanswered(media, Budget::refusal());
            }
        };
    let failed_before_execution =
        response.data == Value::Null && response.errors.iter().all(|e| e.path.is_empty());
    let outcome;
    if !response.errors.is_empty() && failed_before_execution {
        let literal_arguments = async_graphql::parser::parse_query(&query)
            .map(|document| literal_argument_positions(&document))
            .unwrap_or_default();
        let errors: Vec<ServerError> = response
            .errors
            .into_iter()
            .map(|e| {
                let code = request_error_code(&e, &literal_arguments);
                with_code(e, code)
            })
            .collect();
        outcome = error_code(&errors[0]).to_owned();
        state
            .metrics
            .record_request(&label, &outcome, started.elapsed());
        return request_error(media, errors);
    }
    for error in &mut response.errors {
        if error_code_opt(error).is_none() {
            // Only argument coercion fails inside execution without a code:
            // every error of ours carries one (see api::errors).
            *error = with_code(error.clone(), code::BAD_USER_INPUT);
        }
    }
    outcome = response
        .errors
        .first()
        .map_or("ok".to_owned(), |e| error_code(e).to_owned());
    state
        .metrics
        .record_request(&label, &outcome, started.elapsed());
    let body = serde_json::to_string(&response)
        .unwrap_or_else(|_| r#"{"errors":[{"message":"internal server error"}]}"#.to_owned());
    // The budget estimates; this is the cap.
    if body.len() as u64 > MAX_RESPONSE_BYTES {
        return unanswered(media, Budget::refusal());
    }
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, media.as_str())],
        body,
    )
        .into_response()
}

/// The header that carries a client's last `readAfter` (DESIGN §13).
pub const READ_AFTER_HEADER: &str = "storyline-read-after";

/// A query sent, when the server has replicas, to the database the replica
/// set chooses: one that has replayed the request's `Storyline-Read-After`,
/// if it carries one. A malformed header is BAD_USER_INPUT.
async fn read_on_replica(
    state: &AppState,
    headers: &HeaderMap,
    request: async_graphql::Request,
) -> Result<async_graphql::Request, ApiError> {
    let Some(routing) = state.read_routing() else {
        return Ok(request);
    };
    let read_after = match headers.get(READ_AFTER_HEADER) {
        None => None,
        Some(value) => Some(
            value
                .to_str()
                .ok()
                .and_then(|text| text.parse::<WalPosition>().ok())
                .ok_or_else(|| {
                    ApiError::bad_input(
                        "Storyline-Read-After: a readAfter such as 0/16B3748 is expected",
                    )
                })?,
        ),
    };
    Ok(routing.route(request, read_after).await)
}

/// The answer to a request whose execution began but gave no data: it
/// outlived its timeout, or asked for more than its budget. `data: null`
/// and the one error, 200 under either media type.
fn unanswered(media: MediaType, error: ServerError) -> Response {
    let body = serde_json::json!({ "data": null, "errors": [error] });
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, media.as_str())],
        body.to_string(),
    )
        .into_response()
}

/// A GraphQL request error: no `data`; 400 under the specification's media
/// type, 200 under the legacy one.
fn request_error(media: MediaType, errors: Vec<ServerError>) -> Response {
    let status = match media {
        MediaType::GraphQLResponse => StatusCode::BAD_REQUEST,
        MediaType::Json => StatusCode::OK,
    };
    let body = serde_json::json!({ "errors": errors });
    (
        status,
        [(header::CONTENT_TYPE, media.as_str())],
        body.to_string(),
    )
        .into_response()
}

/// The contract's code for an error raised before execution: a value sent
/// in a variable that does not fit is bad input; anything else (a value
/// written in the document that does not fit its argument, an unknown
/// field, a limit) makes the document invalid against the schema.
/// `literal_arguments` are where the document's arguments stand whose
/// values name no variable.
fn request_error_code(
    error: &ServerError,
    literal_arguments: &HashSet<(usize, usize)>,
) -> &'static str {
    if let Some(code) = error_code_opt(error) {
        return known_code(code);
    }
    let message = error.message.as_str();
    let written_in_the_document = error
        .locations
        .iter()
        .any(|at| literal_arguments.contains(&(at.line, at.column)));
    let bad_value = (message.starts_with("Invalid value for argument") && !written_in_the_document)
        || message.contains("Invalid value for variable")
        || (message.starts_with("Variable") && message.contains("of type"));
    if bad_value {
        code::BAD_USER_INPUT
    } else {
        code::GRAPHQL_VALIDATION_FAILED
    }
}

/// Where the arguments of `document` stand (line, column of the name) whose
/// values are written out in full, naming no variable.
fn literal_argument_positions(document: &ExecutableDocument) -> HashSet<(usize, usize)> {
    use async_graphql::parser::types::{Directive, Selection, SelectionSet};
    use async_graphql::parser::Positioned;
    fn names_a_variable(value: &async_graphql_value::Value) -> bool {
        use async_graphql_value::Value;
        match value {
            Value::Variable(_) => true,
            Value::List(items) => items.iter().any(names_a_variable),
            Value::Object(fields) => fields.values().any(names_a_variable),
            _ => false,
        }
    }
    fn directives(found: &mut HashSet<(usize, usize)>, list: &[Positioned<Directive>]) {
        for directive in list {
            for (name, value) in &directive.node.arguments {
                if !names_a_variable(&value.node) {
                    found.insert((name.pos.line, name.pos.column));
                }
            }
        }
    }
    fn walk(found: &mut HashSet<(usize, usize)>, set: &Positioned<SelectionSet>) {
        for item in &set.node.items {
            match &item.node {
                Selection::Field(field) => {
                    for (name, value) in &field.node.arguments {
                        if !names_a_variable(&value.node) {
                            found.insert((name.pos.line, name.pos.column));
                        }
                    }
                    directives(found, &field.node.directives);
                    walk(found, &field.node.selection_set);
                }
                Selection::FragmentSpread(spread) => directives(found, &spread.node.directives),
                Selection::InlineFragment(inline) => {
                    directives(found, &inline.node.directives);
                    walk(found, &inline.node.selection_set);
                }
            }
        }
    }
    let mut found = HashSet::new();
    for (_, operation) in document.operations.iter() {
        directives(&mut found, &operation.node.directives);
        walk(&mut found, &operation.node.selection_set);
    }
    for fragment in document.fragments.values() {
        directives(&mut found, &fragment.node.directives);
        walk(&mut found, &fragment.node.selection_set);
    }
    found
}

fn known_code(code: &str) -> &'static str {
    [
        code::UNAUTHENTICATED,
        code::BAD_USER_INPUT,
        code::NOT_FOUND,
        code::VERSION_CONFLICT,
        code::GRAPHQL_VALIDATION_FAILED,
        code::GRAPHQL_PARSE_FAILED,
        code::UNAVAILABLE,
    ]
    .into_iter()
    .find(|known| *known == code)
    .unwrap_or(code::INTERNAL_SERVER_ERROR)
}

fn error_code_opt(error: &ServerError) -> Option<&str> {
    match error.extensions.as_ref()?.get("code")? {
        Value::String(code) => Some(code.as_str()),
        _ => None,
    }
}

fn error_code(error: &ServerError) -> &str {
    error_code_opt(error).unwrap_or(code::INTERNAL_SERVER_ERROR)
}

fn with_code(mut error: ServerError, code: &str) -> ServerError {
    let extensions = error.extensions.get_or_insert_with(Default::default);
    if extensions.get("code").is_none() {
        extensions.set("code", code);
    }
    error
}

fn is_websocket_upgrade(headers: &HeaderMap) -> bool {
    headers
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

/// graphql-transport-ws (and the older graphql-ws) on `/graphql`. A token
/// in the connection_init payload (`{"token": ...}`) authenticates
/// mutations sent over the socket, as the header does over HTTP.
async fn websocket(state: AppState, request: Request) -> Response {
    let (mut parts, _body) = request.into_parts();
    let protocol = match GraphQLProtocol::from_request_parts(&mut parts, &state).await {
        Ok(protocol) => protocol,
        Err(status) => {
            return http_error(
                status,
                "unsupported WebSocket subprotocol; use graphql-transport-ws",
            )
        }
    };
    let upgrade = match WebSocketUpgrade::from_request_parts(&mut parts, &state).await {
        Ok(upgrade) => upgrade,
        Err(rejection) => return rejection.into_response(),
    };
    // An upgraded socket outlives its HTTP connection: it takes the
    // connection's place among the open ones and holds it while it is
    // open, so that sockets too stay under the cap (and the descriptors
    // with them).
    let place = parts
        .extensions
        .get::<super::server::ConnectionPlace>()
        .and_then(super::server::ConnectionPlace::take);
    let Some(place) = place else {
        let mut refused = http_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "too many open connections; retry shortly",
        );
        refused
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        return refused;
    };
    upgrade
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        // Clients send small messages. tungstenite zero-fills its whole read
        // buffer on every read attempt, and the GraphQL side polls for input
        // once per message it sends: at the default 128 KiB, filling buffers
        // took a third of the server's time fanning events out.
        .read_buffer_size(4 * 1024)
        // The limits of the HTTP side: a message, like a body, is at most
        // 1 MiB.
        .max_message_size(MAX_BODY_BYTES)
        .max_frame_size(MAX_BODY_BYTES)
        .on_upgrade(move |socket| async move {
            serve_socket(socket, state, protocol).await;
            drop(place);
        })
}

/// Runs the GraphQL protocol over `socket`, while a writer task sends a
/// WebSocket ping every `state.ws_ping` and closes a peer that has sent
/// nothing (not even the pong every client owes a ping) for three of them. On shutdown, once the subscriptions have completed,
/// the socket is closed with 1001 (going away).
async fn serve_socket(socket: WebSocket, state: AppState, protocol: GraphQLProtocol) {
    state.sockets.send_modify(|open| *open += 1);
    let sockets = state.sockets.clone();
    let _open = scopeguard(move || sockets.send_modify(|open| *open -= 1));
    let (sink, incoming) = socket.split();
    let (outgoing, to_send) = mpsc::channel::<Message>(OUTGOING_BUFFER);
    let heard = Arc::new(Mutex::new(Instant::now()));
    let (dead, is_dead) = oneshot::channel::<()>();
    let writer = tokio::spawn(write_socket(
        sink,
        to_send,
        Liveness {
            heard: heard.clone(),
            ping_every: state.ws_ping,
            dead,
        },
        state.live.stopping(),
    ));
    let initialised = Arc::new(AtomicBool::new(false));
    let init_timed_out = Box::pin(close_unless_initialised(
        outgoing.downgrade(),
        initialised.clone(),
        state.ws_init_timeout,
    ));
    let credential: Arc<Mutex<Option<Credential>>> = Arc::default();
    let revoked = Box::pin(close_when_revoked(
        outgoing.downgrade(),
        credential.clone(),
        state.store.clone(),
    ));
    let protocol_state: Arc<Mutex<ProtocolState>> = Arc::default();
    let (violated, is_violated) = oneshot::channel::<()>();
    let referee = Referee {
        state: protocol_state.clone(),
        outgoing: outgoing.downgrade(),
        violated: Mutex::new(Some(violated)),
    };
    let referee = Arc::new(referee);
    let incoming = incoming
        .inspect(move |_| {
            *heard.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
        })
        .then({
            let referee = referee.clone();
            move |message| {
                let referee = referee.clone();
                async move { referee.judge(message).await }
            }
        })
        .take_while(|message| std::future::ready(message.is_some()))
        .filter_map(std::future::ready)
        .take_until(futures_util::future::select(
            futures_util::future::select(is_dead, is_violated),
            futures_util::future::select(init_timed_out, revoked),
        ));
    let outgoing = futures_util::sink::unfold(
        (outgoing, protocol_state),
        |(outgoing, state), message: Message| async move {
            ProtocolState::saw_outgoing(&state, &message);
            outgoing
                .send(message)
                .await
                .map_err(|_| axum::Error::new("the socket is closed"))?;
            Ok::<_, axum::Error>((outgoing, state))
        },
    );
    let schema = limits::Limited {
        schema: state.schema.clone(),
        request_timeout: state.request_timeout,
        reads: state.read_routing(),
    };
    let state_at_init = state.clone();
    let metrics = state.metrics.clone();
    GraphQLWebSocket::new_with_pair(outgoing, incoming, schema, protocol)
        .on_connection_init(move |payload| async move {
            initialised.store(true, Ordering::Relaxed);
            let checked = match init_token(&payload) {
                Ok(token) => viewer_of(&state_at_init, token, TokenCheck::Now).await,
                Err(refused) => Err(refused),
            };
            let viewer = checked.map_err(|refused| {
                metrics.record_refused(refused.code());
                async_graphql::Error::new(refused.to_string())
            })?;
            *credential.lock().unwrap_or_else(|e| e.into_inner()) = viewer.0.clone();
            let mut data = Data::default();
            data.insert(viewer);
            Ok(data)
        })
        .serve()
        .await;
    let _ = writer.await;
}

/// Closes the socket with 4408, as graphql-transport-ws asks, when no
/// connection_init has come within `timeout`, and then
/// completes, to stop the reading; never completes otherwise. A socket that
/// never says hello would else hold its descriptor as long as it answers
/// pings.
async fn close_unless_initialised(
    outgoing: mpsc::WeakSender<Message>,
    initialised: Arc<AtomicBool>,
    timeout: Duration,
) {
    tokio::time::sleep(timeout).await;
    if initialised.load(Ordering::Relaxed) {
        return std::future::pending().await;
    }
    if let Some(outgoing) = outgoing.upgrade() {
        let _ = outgoing
            .send(close(4408, "Connection initialisation timeout"))
            .await;
    }
}

/// What graphql-transport-ws requires of a peer that async-graphql does
/// not close the socket for with the protocol's own codes: no subscribe
/// before connection_init (4401), no id reused while its operation runs
/// (4409), no message over 1 MiB (1009).
#[derive(Default)]
struct ProtocolState {
    initialised: bool,
    running: std::collections::HashSet<String>,
}

impl ProtocolState {
    /// An operation the server completed (or failed) frees its id.
    fn saw_outgoing(state: &Mutex<ProtocolState>, message: &Message) {
        let Message::Text(text) = message else { return };
        if !(text.contains("\"complete\"") || text.contains("\"error\"")) {
            return;
        }
        let Ok(parsed) = serde_json::from_str::<Json>(text.as_str()) else {
            return;
        };
        if matches!(
            parsed.get("type").and_then(Json::as_str),
            Some("complete" | "error")
        ) {
            if let Some(id) = parsed.get("id").and_then(Json::as_str) {
                state
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .running
                    .remove(id);
            }
        }
    }
}

/// Watches what a peer sends and closes the socket with the protocol's
/// code when it breaks a rule.
struct Referee {
    state: Arc<Mutex<ProtocolState>>,
    outgoing: mpsc::WeakSender<Message>,
    violated: Mutex<Option<oneshot::Sender<()>>>,
}

impl Referee {
    /// The message, passed on; None once the socket is to be closed.
    async fn judge(
        &self,
        message: Result<Message, axum::Error>,
    ) -> Option<Result<Message, axum::Error>> {
        let verdict = match &message {
            Err(error) if is_too_big(error) => Some(close(1009, "Message too big")),
            Ok(Message::Text(text)) => self.rule_for(text.as_str()),
            _ => None,
        };
        let Some(closing) = verdict else {
            return Some(message);
        };
        if let Some(outgoing) = self.outgoing.upgrade() {
            let _ = outgoing.send(closing).await;
        }
        if let Some(violated) = self
            .violated
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
        {
            let _ = violated.send(());
        }
        None
    }

    fn rule_for(&self, text: &str) -> Option<Message> {
        let parsed: Json = serde_json::from_str(text).ok()?;
        let kind = parsed.get("type").and_then(Json::as_str)?;
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        match kind {
            "connection_init" => state.initialised = true,
            "subscribe" if !state.initialised => return Some(close(4401, "Unauthorized")),
            "subscribe" => {
                let id = parsed.get("id").and_then(Json::as_str)?.to_owned();
                if !state.running.insert(id) {
                    return Some(close(4409, "Subscriber for this id already exists"));
                }
            }
            "complete" => {
                if let Some(id) = parsed.get("id").and_then(Json::as_str) {
                    state.running.remove(id);
                }
            }
            _ => {}
        }
        None
    }
}

/// Whether reading failed on a message or frame over the size limit.
fn is_too_big(error: &axum::Error) -> bool {
    let text = error.to_string().to_ascii_lowercase();
    text.contains("too long")
        || text.contains("too big")
        || text.contains("space limit")
        || text.contains("capacity")
}

/// How often a socket opened with a token checks that it is still live.
const REVOCATION_CHECK: Duration = Duration::from_millis(500);

/// Closes the socket with 4403 (forbidden) once the token it was opened
/// with is revoked, ending its subscriptions with it, as a new request
/// with that token would be refused; never completes otherwise. Sockets
/// without a token (the public) cost nothing here.
async fn close_when_revoked(
    outgoing: mpsc::WeakSender<Message>,
    credential: Arc<Mutex<Option<Credential>>>,
    store: Store,
) {
    loop {
        tokio::time::sleep(REVOCATION_CHECK).await;
        let held = credential.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let Some(held) = held else { continue };
        if let Ok(false) = store.is_credential_live(&held).await {
            if let Some(outgoing) = outgoing.upgrade() {
                let _ = outgoing
                    .send(close(4403, "Forbidden: the token was revoked"))
                    .await;
            }
            return;
        }
    }
}

/// Runs `f` when dropped.
fn scopeguard(f: impl FnOnce()) -> impl Drop {
    struct Guard<F: FnOnce()>(Option<F>);
    impl<F: FnOnce()> Drop for Guard<F> {
        fn drop(&mut self) {
            if let Some(f) = self.0.take() {
                f();
            }
        }
    }
    Guard(Some(f))
}

/// Pings a peer may leave unanswered before it is taken for dead.
const MISSED_PINGS: u32 = 3;

/// Messages waiting for a slow socket; beyond it the GraphQL side waits.
const OUTGOING_BUFFER: usize = 64;

/// What the writer needs to tell a live peer from a dead one.
struct Liveness {
    /// When the peer last sent anything.
    heard: Arc<Mutex<Instant>>,
    ping_every: Duration,
    /// Ends the reading side when the peer is taken for dead.
    dead: oneshot::Sender<()>,
}

async fn write_socket(
    mut sink: SplitSink<WebSocket, Message>,
    mut to_send: mpsc::Receiver<Message>,
    liveness: Liveness,
    stopping: impl std::future::Future<Output = ()>,
) {
    let Liveness {
        heard,
        ping_every,
        dead,
    } = liveness;
    let idle_timeout = ping_every * MISSED_PINGS;
    let mut pings = tokio::time::interval(ping_every);
    pings.tick().await;
    tokio::pin!(stopping);
    let mut shutting_down = false;
    loop {
        tokio::select! {
            message = to_send.recv() => {
                let Some(message) = message else { break };
                // Under load, write what has queued up with one flush.
                let mut written = sink.feed(message).await;
                while let (Ok(()), Ok(more)) = (&written, to_send.try_recv()) {
                    written = sink.feed(more).await;
                }
                if written.is_err() || sink.flush().await.is_err() {
                    break;
                }
            }
            _ = pings.tick() => {
                let silent_for = heard.lock().unwrap_or_else(|e| e.into_inner()).elapsed();
                if silent_for > idle_timeout {
                    let _ = sink.send(close(1001, "no answer to pings")).await;
                    let _ = dead.send(());
                    return;
                }
                if sink.send(Message::Ping(Bytes::new())).await.is_err() {
                    break;
                }
            }
            () = &mut stopping, if !shutting_down => {
                shutting_down = true;
                // Let the completions of the ending subscriptions go first.
                pings.reset_after(SHUTDOWN_GRACE);
            }
        }
        if shutting_down && to_send.is_empty() {
            tokio::time::sleep(SHUTDOWN_GRACE).await;
            if to_send.is_empty() {
                let _ = sink.send(close(1001, "server shutting down")).await;
                let _ = dead.send(());
                return;
            }
        }
    }
}

/// How long a shutting-down socket waits for its last messages.
const SHUTDOWN_GRACE: Duration = Duration::from_millis(100);

fn close(code: u16, reason: &'static str) -> Message {
    Message::Close(Some(CloseFrame {
        code,
        reason: reason.into(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn the_specification_media_type_wins_when_accepted() {
        let headers = accept("application/json, application/graphql-response+json");
        assert_eq!(
            MediaType::negotiate(&headers),
            Some(MediaType::GraphQLResponse)
        );
    }

    #[test]
    fn json_is_used_for_json_wildcards_and_no_accept_header() {
        assert_eq!(
            MediaType::negotiate(&accept("application/json")),
            Some(MediaType::Json)
        );
        assert_eq!(MediaType::negotiate(&accept("*/*")), Some(MediaType::Json));
        assert_eq!(
            MediaType::negotiate(&HeaderMap::new()),
            Some(MediaType::Json)
        );
        assert_eq!(MediaType::negotiate(&accept("text/html")), None);
    }

    #[test]
    fn get_parameters_carry_variables_as_json_text() {
        let params =
            Params::from_query_string("query=%7B%20a%20%7D&variables=%7B%22x%22%3A1%7D").unwrap();
        assert_eq!(params.query, "{ a }");
        assert_eq!(params.variables.unwrap()["x"], 1);
        assert!(Params::from_query_string("query=%7Ba%7D&variables=nope").is_err());
    }

    #[test]
    fn request_fields_of_the_wrong_type_are_refused() {
        let object = |v: Json| v.as_object().cloned().unwrap();
        assert!(Params::from_object(object(serde_json::json!({"query": 1}))).is_err());
        assert!(
            Params::from_object(object(serde_json::json!({"query": "{a}", "variables": []})))
                .is_err()
        );
        assert!(Params::from_object(object(
            serde_json::json!({"query": "{a}", "extensions": "x"})
        ))
        .is_err());
        assert!(Params::from_object(object(
            serde_json::json!({"query": "{a}", "operationName": null})
        ))
        .is_ok());
    }

    #[test]
    fn bearer_tokens_are_read_case_insensitively() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("bearer sl_abc"),
        );
        assert_eq!(
            bearer_token(&headers).ok().flatten().as_deref(),
            Some("sl_abc")
        );
        assert!(matches!(bearer_token(&HeaderMap::new()), Ok(None)));
    }

    #[test]
    fn a_malformed_authorization_header_is_refused_not_anonymous() {
        for malformed in ["Basic xyz", "Bearer", "Bearer ", "sl_abc", "Bearer a b"] {
            let mut headers = HeaderMap::new();
            headers.insert(header::AUTHORIZATION, HeaderValue::from_static(malformed));
            assert!(
                matches!(bearer_token(&headers), Err(ApiError::Unauthenticated(_))),
                "{malformed}"
            );
        }
    }

    #[test]
    fn a_token_in_connection_init_must_be_a_string() {
        assert!(matches!(init_token(&serde_json::json!({})), Ok(None)));
        assert!(matches!(
            init_token(&serde_json::json!({"token": null})),
            Ok(None)
        ));
        assert!(matches!(
            init_token(&serde_json::json!({"token": "sl_x"})),
            Ok(Some("sl_x"))
        ));
        for bad in [
            serde_json::json!({"token": 7}),
            serde_json::json!({"token": ["sl_x"]}),
            serde_json::json!({"token": ""}),
        ] {
            assert!(init_token(&bad).is_err(), "{bad}");
        }
    }
}
