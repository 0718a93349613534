//! The GraphQL layer: the contract's schema, thin resolvers over the store
//! and the fold, and (in [`errors`]) the one mapping of errors to codes.

pub mod budget;
pub mod connection;
mod context;
pub mod documents;
pub mod errors;
pub mod inputs;
pub mod limits;
pub mod mutation;
pub mod query;
pub mod reports;
pub mod routing;
pub mod subscription;
pub mod types;

use async_graphql::{Schema, SchemaBuilder};

pub use context::{SharedSnapshots, Viewer};
pub use mutation::{AppendResult, Mutation};
pub use query::Query;
pub use subscription::Subscription;

use crate::metrics::Metrics;
use crate::store::{LiveFeed, Store};

pub type StorylineSchema = Schema<Query, Mutation, Subscription>;

/// Deep enough for the standard introspection query (13 levels) and for a
/// story's state with its nested lists; no deeper.
pub const MAX_DEPTH: usize = 16;

/// Each field costs 1; a connection costs its page size times what one node
/// asks for (see `connection::page_cost`). A full page of 500 events with a
/// dozen fields each fits; 500 stories with their whole snapshots do not.
pub const MAX_COMPLEXITY: usize = 10_000;

/// What the schema needs at run time.
pub struct ApiServices {
    pub store: Store,
    pub live: LiveFeed,
    pub metrics: Metrics,
    /// Kept snapshots, shared with the loaders of reads on replicas.
    pub snapshots: SharedSnapshots,
}

fn builder() -> SchemaBuilder<Query, Mutation, Subscription> {
    Schema::build(Query, Mutation, Subscription)
        .limit_depth(MAX_DEPTH)
        .limit_complexity(MAX_COMPLEXITY)
}

/// The schema the server serves.
pub fn schema(services: ApiServices) -> StorylineSchema {
    let loader = services.snapshots.loader_on(services.store.clone());
    builder()
        .data(services.store)
        .data(services.live)
        .data(services.metrics)
        .data(loader)
        .finish()
}

/// The served schema as SDL (what `schema/schema.graphql` holds). Needs no
/// database.
pub fn sdl() -> String {
    builder().finish().sdl()
}

/// The root fields of the served schema, by operation type ("query",
/// "mutation", "subscription"), introspection's included.
static ROOT_FIELDS: std::sync::LazyLock<std::collections::HashSet<(String, String)>> =
    std::sync::LazyLock::new(|| {
        use async_graphql::parser::types::{TypeKind, TypeSystemDefinition};
        let mut fields = std::collections::HashSet::new();
        for kind in ["query", "mutation", "subscription"] {
            for introspection in ["__typename", "__schema", "__type"] {
                fields.insert((kind.to_owned(), introspection.to_owned()));
            }
        }
        let Ok(document) = async_graphql::parser::parse_schema(sdl()) else {
            return fields;
        };
        for definition in document.definitions {
            let TypeSystemDefinition::Type(ty) = definition else {
                continue;
            };
            let kind = match ty.node.name.node.as_str() {
                "Query" => "query",
                "Mutation" => "mutation",
                "Subscription" => "subscription",
                _ => continue,
            };
            if let TypeKind::Object(object) = &ty.node.kind {
                for field in &object.fields {
                    fields.insert((kind.to_owned(), field.node.name.node.to_string()));
                }
            }
        }
        fields
    });

/// Whether `field` is a root field of `kind` operations in the schema.
pub fn is_root_field(kind: &str, field: &str) -> bool {
    ROOT_FIELDS.contains(&(kind.to_owned(), field.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::is_root_field;

    #[test]
    fn root_fields_are_the_schemas_own() {
        assert!(is_root_field("query", "stories"));
        assert!(is_root_field("mutation", "submitReport"));
        assert!(is_root_field("subscription", "reports"));
        assert!(is_root_field("query", "__schema"));
        assert!(!is_root_field("query", "submitReport"));
        assert!(!is_root_field("query", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
    }
}
