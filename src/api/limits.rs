//! What a request's document may cost, checked before async-graphql sees
//! it: its validation and its depth and complexity checks walk every
//! fragment spread as expanded, so a kilobyte of fragments that each spread
//! the one before twice costs 2^30 visits. Here each fragment is counted
//! once (its expanded size remembered), so the check is linear in the
//! document and refuses such a document in microseconds.
//!
//! The same pass refuses U+0000 in any string of the document or its
//! variables: PostgreSQL stores no NUL character, so such input could only
//! fail later, as an internal error.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use std::time::Duration;

use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, OperationType, Selection, SelectionSet,
};
use async_graphql::ErrorExtensions;
use async_graphql::{Data, Executor, Response};
use async_graphql::{Name, Positioned, Request, ServerError, ServerResult, Value as ConstValue};
use futures_util::stream::{self, BoxStream};
use futures_util::StreamExt;
// Arguments in a document may name variables: async-graphql's own Value
// cannot, the parser's can.
use async_graphql_value::Value;

use super::budget::Budget;
use super::errors::{code, ApiError, UNAVAILABLE_READ, UNAVAILABLE_WRITE};
use super::routing::ReadRouting;
use super::StorylineSchema;

/// Fields a document may select, fragments expanded.
pub const MAX_FIELDS: u64 = 5_000;
/// Aliased fields, fragments expanded.
pub const MAX_ALIASES: u64 = 500;
/// Directives applied, fragments expanded.
pub const MAX_DIRECTIVES: u64 = 100;
/// Variables declared by the operations, and variables sent.
pub const MAX_VARIABLES: usize = 100;
/// How deeply selections may nest, fragment spreads and inline fragments
/// counted as levels: every walk of the document (this one, then
/// async-graphql's validation) recurses once a level, so the bound keeps
/// each far from the end of a worker's stack, whatever a document of 1 MiB
/// holds. The schema's own depth limit (16 fields) is lower still.
pub const MAX_NESTING: usize = 64;

/// The schema with these limits checked before it sees a request: what the
/// WebSocket side executes (the HTTP side calls [`check_request`] and
/// [`execute_bounded`] itself). Queries and mutations on a socket run
/// within the request timeout and a [`Budget`], as on HTTP; subscriptions
/// run as long as the socket, each event bounded by the size of an event.
/// Not a schema extension: with any extension registered, async-graphql
/// resolves every field through the extension chain.
#[derive(Clone)]
pub struct Limited {
    pub schema: StorylineSchema,
    pub request_timeout: Duration,
    /// Where queries read, when the server has replicas.
    pub reads: Option<ReadRouting>,
}

/// How a bounded execution ended.
#[allow(clippy::large_enum_variant)] // one a request, moved once
pub enum Executed {
    Answered(Response),
    /// Past its [`Budget`]: the response holds nothing of its data.
    TooMuch,
    /// Past the request timeout: its work was dropped.
    TimedOut,
}

impl Executed {
    /// The answer a socket sends: the response, or one error saying why
    /// there is none.
    fn into_response(self, mutation: bool) -> Response {
        match self {
            Executed::Answered(response) => response,
            Executed::TooMuch => Response::from_errors(vec![Budget::refusal()]),
            Executed::TimedOut => Response::from_errors(vec![timed_out_error(mutation)]),
        }
    }
}

/// The error of a request that outlived the request timeout.
pub fn timed_out_error(mutation: bool) -> ServerError {
    let error = ApiError::Unavailable(if mutation {
        UNAVAILABLE_WRITE
    } else {
        UNAVAILABLE_READ
    })
    .extend();
    let mut unavailable = ServerError::new(error.message, None);
    unavailable.extensions = error.extensions;
    unavailable
}

/// Executes a query or mutation with a fresh [`Budget`] and within
/// `timeout`.
pub async fn execute_bounded(
    schema: &StorylineSchema,
    request: Request,
    timeout: Duration,
) -> Executed {
    let budget = Budget::for_request();
    let request = request.data(budget.clone());
    within(&budget, timeout, schema.execute(request)).await
}

/// How `answer`, charged to `budget`, ends within `timeout`.
async fn within(
    budget: &Budget,
    timeout: Duration,
    answer: impl Future<Output = Response>,
) -> Executed {
    match tokio::time::timeout(timeout, answer).await {
        Err(_) => Executed::TimedOut,
        Ok(_) if budget.is_exceeded() => Executed::TooMuch,
        Ok(response) => Executed::Answered(response),
    }
}

/// Whether the operation the request selects is a subscription; a
/// document that does not parse is not (async-graphql answers it).
fn is_subscription(request: &mut Request) -> bool {
    let name = request.operation_name.clone();
    let Ok(document) = request.parsed_query() else {
        return false;
    };
    let operation = match (&document.operations, name) {
        (DocumentOperations::Single(operation), _) => Some(operation),
        (DocumentOperations::Multiple(operations), Some(name)) => operations.get(name.as_str()),
        (DocumentOperations::Multiple(operations), None) if operations.len() == 1 => {
            operations.values().next()
        }
        _ => None,
    };
    operation.is_some_and(|o| o.node.ty == OperationType::Subscription)
}

fn is_mutation(request: &mut Request) -> bool {
    let Ok(document) = request.parsed_query() else {
        return false;
    };
    document
        .operations
        .iter()
        .any(|(_, operation)| operation.node.ty == OperationType::Mutation)
}

impl Executor for Limited {
    fn execute(&self, request: Request) -> impl Future<Output = Response> + Send {
        let mut answers = self.execute_stream(request, None);
        async move { answers.next().await.unwrap_or_default() }
    }

    fn execute_stream(
        &self,
        mut request: Request,
        session_data: Option<Arc<Data>>,
    ) -> BoxStream<'static, Response> {
        if let Err(error) = check_request(&mut request) {
            return stream::once(async move { Response::from_errors(vec![error]) }).boxed();
        }
        if is_subscription(&mut request) {
            return Executor::execute_stream(&self.schema, request, session_data);
        }
        // The session's data (its viewer) stays with the request: only
        // the stream form of execution carries it.
        let mutation = is_mutation(&mut request);
        let budget = Budget::for_request();
        let request = request.data(budget.clone());
        let (schema, timeout) = (self.schema.clone(), self.request_timeout);
        let reads = self.reads.clone().filter(|_| !mutation);
        stream::once(async move {
            let answer = async move {
                // A socket carries no Storyline-Read-After: any healthy
                // replica serves its queries.
                let request = match reads {
                    Some(reads) => reads.route(request, None).await,
                    None => request,
                };
                let mut answers = Executor::execute_stream(&schema, request, session_data);
                answers.next().await.unwrap_or_default()
            };
            within(&budget, timeout, answer)
                .await
                .into_response(mutation)
        })
        .boxed()
    }
}

/// Refuses a request over the limits, or with U+0000 in any string. A
/// document that does not parse is left to async-graphql, which says where
/// it fails.
pub fn check_request(request: &mut Request) -> ServerResult<()> {
    check_variables(request)?;
    if let Ok(document) = request.parsed_query() {
        check_document(document)?;
    }
    Ok(())
}

fn refused(code: &str, message: String) -> ServerError {
    let mut error = ServerError::new(message, None);
    error
        .extensions
        .get_or_insert_with(Default::default)
        .set("code", code);
    error
}

fn nul_refused() -> ServerError {
    refused(
        code::BAD_USER_INPUT,
        "strings must not contain U+0000 (the NUL character)".into(),
    )
}

fn check_variables(request: &Request) -> ServerResult<()> {
    if request.variables.len() > MAX_VARIABLES {
        return Err(refused(
            code::GRAPHQL_VALIDATION_FAILED,
            format!("a request may send at most {MAX_VARIABLES} variables"),
        ));
    }
    let has_nul = request
        .variables
        .iter()
        .any(|(name, value)| name.contains('\0') || const_value_has_nul(value));
    if has_nul || request.query.contains('\0') {
        return Err(nul_refused());
    }
    Ok(())
}

/// What a selection set costs with its fragments expanded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Cost {
    fields: u64,
    aliases: u64,
    directives: u64,
    /// Levels of selections and fragments below, the deepest path.
    nesting: u64,
}

impl Cost {
    fn add(self, other: Cost) -> Cost {
        Cost {
            fields: self.fields.saturating_add(other.fields),
            aliases: self.aliases.saturating_add(other.aliases),
            directives: self.directives.saturating_add(other.directives),
            nesting: self.nesting.max(other.nesting),
        }
    }

    /// This cost one level further down.
    fn nested(self) -> Cost {
        Cost {
            nesting: self.nesting.saturating_add(1),
            ..self
        }
    }
}

/// Expanded costs of the fragments worked out so far; `None` while one is
/// being worked out, so that a spread reaching it again is a cycle.
struct Fragments<'a> {
    document: &'a ExecutableDocument,
    costs: HashMap<&'a str, Option<Cost>>,
}

fn too_deep() -> ServerError {
    refused(
        code::GRAPHQL_VALIDATION_FAILED,
        format!("the document nests selections and fragments more than {MAX_NESTING} levels deep"),
    )
}

impl<'a> Fragments<'a> {
    fn cost_of_set(
        &mut self,
        set: &'a Positioned<SelectionSet>,
        depth: usize,
    ) -> ServerResult<Cost> {
        if depth > MAX_NESTING {
            return Err(too_deep());
        }
        let mut total = Cost::default();
        for item in &set.node.items {
            let cost = match &item.node {
                Selection::Field(field) => {
                    let field = &field.node;
                    if field.arguments.iter().any(|(_, v)| value_has_nul(&v.node)) {
                        return Err(nul_refused());
                    }
                    Cost {
                        fields: 1,
                        aliases: u64::from(field.alias.is_some()),
                        directives: field.directives.len() as u64,
                        nesting: 0,
                    }
                    .add(self.cost_of_set(&field.selection_set, depth + 1)?.nested())
                }
                Selection::FragmentSpread(spread) => Cost {
                    directives: spread.node.directives.len() as u64,
                    ..Cost::default()
                }
                .add(
                    self.cost_of_fragment(&spread.node.fragment_name.node, depth + 1)?
                        .nested(),
                ),
                Selection::InlineFragment(inline) => Cost {
                    directives: inline.node.directives.len() as u64,
                    ..Cost::default()
                }
                .add(
                    self.cost_of_set(&inline.node.selection_set, depth + 1)?
                        .nested(),
                ),
            };
            total = total.add(cost);
        }
        Ok(total)
    }

    fn cost_of_fragment(&mut self, name: &'a Name, depth: usize) -> ServerResult<Cost> {
        if depth > MAX_NESTING {
            return Err(too_deep());
        }
        match self.costs.get(name.as_str()) {
            Some(Some(cost)) => return Ok(*cost),
            Some(None) => {
                return Err(refused(
                    code::GRAPHQL_VALIDATION_FAILED,
                    format!("fragment {name} spreads itself"),
                ))
            }
            None => {}
        }
        // An unknown fragment is left to validation, which names it.
        let Some(fragment) = self.document.fragments.get(name) else {
            return Ok(Cost::default());
        };
        self.costs.insert(name.as_str(), None);
        let cost = self.cost_of_set(&fragment.node.selection_set, depth)?;
        self.costs.insert(name.as_str(), Some(cost));
        Ok(cost)
    }
}

/// Refuses a document over the limits, or with U+0000 in an argument.
pub fn check_document(document: &ExecutableDocument) -> ServerResult<()> {
    let mut fragments = Fragments {
        document,
        costs: HashMap::new(),
    };
    let mut total = Cost::default();
    let mut variables = 0usize;
    for (_, operation) in document.operations.iter() {
        let operation = &operation.node;
        variables += operation.variable_definitions.len();
        let defaults_have_nul = operation.variable_definitions.iter().any(|v| {
            v.node
                .default_value
                .as_ref()
                .is_some_and(|d| const_value_has_nul(&d.node))
        });
        if defaults_have_nul {
            return Err(nul_refused());
        }
        total = total.add(Cost {
            directives: operation.directives.len() as u64,
            ..Cost::default()
        });
        total = total.add(fragments.cost_of_set(&operation.selection_set, 0)?);
    }
    // Fragments no operation spreads are refused by validation; they still
    // cost their walk there.
    for name in document.fragments.keys() {
        fragments.cost_of_fragment(name, 0)?;
    }
    let limits = [
        ("fields", total.fields, MAX_FIELDS),
        ("aliases", total.aliases, MAX_ALIASES),
        ("directives", total.directives, MAX_DIRECTIVES),
        ("variables", variables as u64, MAX_VARIABLES as u64),
        ("levels of nesting", total.nesting, MAX_NESTING as u64),
    ];
    for (what, count, limit) in limits {
        if count > limit {
            return Err(refused(
                code::GRAPHQL_VALIDATION_FAILED,
                format!(
                    "the document has {count} {what} with its fragments expanded; \
                     at most {limit} are allowed"
                ),
            ));
        }
    }
    Ok(())
}

fn value_has_nul(value: &Value) -> bool {
    match value {
        Value::String(s) => s.contains('\0'),
        Value::List(items) => items.iter().any(value_has_nul),
        Value::Object(fields) => fields
            .iter()
            .any(|(k, v)| k.contains('\0') || value_has_nul(v)),
        _ => false,
    }
}

fn const_value_has_nul(value: &ConstValue) -> bool {
    match value {
        ConstValue::String(s) => s.contains('\0'),
        ConstValue::List(items) => items.iter().any(const_value_has_nul),
        ConstValue::Object(fields) => fields
            .iter()
            .any(|(k, v)| k.contains('\0') || const_value_has_nul(v)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::parser::parse_query;

    fn check(query: &str) -> ServerResult<()> {
        check_document(&parse_query(query).unwrap())
    }

    fn code_of(result: ServerResult<()>) -> String {
        let error = result.unwrap_err();
        match error.extensions.and_then(|e| e.get("code").cloned()) {
            Some(ConstValue::String(code)) => code,
            other => panic!("no code: {other:?}"),
        }
    }

    /// 30 fragments, each spreading the one before twice: 2^30 fields.
    fn fragment_bomb(levels: usize) -> String {
        let mut query = String::from("query { ...F0 }\nfragment F0 on Query { __typename }\n");
        for n in 1..levels {
            query.push_str(&format!(
                "fragment F{n} on Query {{ ...F{p} ...F{p} }}\n",
                p = n - 1
            ));
        }
        query.replace(
            "query { ...F0 }",
            &format!("query {{ ...F{} }}", levels - 1),
        )
    }

    #[test]
    fn a_fragment_bomb_is_refused_as_invalid_without_expanding_it() {
        let bomb = fragment_bomb(30);
        assert!(bomb.len() < 1_500, "the bomb is {} bytes", bomb.len());
        assert_eq!(code_of(check(&bomb)), code::GRAPHQL_VALIDATION_FAILED);
    }

    #[test]
    fn fragments_spread_within_the_limit_pass() {
        assert!(check(&fragment_bomb(10)).is_ok(), "2^9 fields");
        assert!(
            check("{ a: __typename b: __typename ...F } fragment F on Query { __typename }")
                .is_ok()
        );
    }

    #[test]
    fn a_fragment_cycle_is_refused_rather_than_followed() {
        let cycle = "{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }";
        assert_eq!(code_of(check(cycle)), code::GRAPHQL_VALIDATION_FAILED);
    }

    #[test]
    fn aliases_directives_and_variables_are_counted() {
        let aliases: String = (0..=MAX_ALIASES)
            .map(|n| format!("a{n}: __typename "))
            .collect();
        assert_eq!(
            code_of(check(&format!("{{ {aliases} }}"))),
            code::GRAPHQL_VALIDATION_FAILED
        );
        let directives: String = (0..=MAX_DIRECTIVES)
            .map(|_| "@include(if: true) ")
            .collect();
        assert_eq!(
            code_of(check(&format!("{{ __typename {directives} }}"))),
            code::GRAPHQL_VALIDATION_FAILED
        );
        let variables: Vec<String> = (0..=MAX_VARIABLES).map(|n| format!("$v{n}: Int")).collect();
        assert_eq!(
            code_of(check(&format!(
                "query ({}) {{ __typename }}",
                variables.join(", ")
            ))),
            code::GRAPHQL_VALIDATION_FAILED
        );
    }

    #[test]
    fn a_nul_character_in_an_argument_is_bad_input() {
        let query = "{ story(slug: \"kabul\\u0000\") { id } }";
        assert_eq!(code_of(check(query)), code::BAD_USER_INPUT);
        assert!(check("{ story(slug: \"kabul\") { id } }").is_ok());
    }
}
