//! The served schema against the public contract (schema/contract.graphql)
//! and against its checked-in SDL (schema/schema.graphql). No database.

use std::collections::HashMap;

use async_graphql::parser::parse_schema;
use async_graphql::parser::types::{TypeDefinition, TypeKind, TypeSystemDefinition};

const CONTRACT: &str = include_str!("../schema/contract.graphql");
const CHECKED_IN_SDL: &str = include_str!("../schema/schema.graphql");

fn types_of(sdl: &str) -> HashMap<String, TypeDefinition> {
    let document = parse_schema(sdl).expect("SDL parses");
    document
        .definitions
        .into_iter()
        .filter_map(|definition| match definition {
            TypeSystemDefinition::Type(t) => Some((t.node.name.node.to_string(), t.node)),
            _ => None,
        })
        .collect()
}

/// Every way in which `served` fails to contain the contract's `wanted`.
fn shortfalls(wanted: &TypeDefinition, served: &TypeDefinition) -> Vec<String> {
    let name = &wanted.name.node;
    let mut missing = Vec::new();
    match (&wanted.kind, &served.kind) {
        (TypeKind::Scalar, TypeKind::Scalar) => {}
        (TypeKind::Object(wanted), TypeKind::Object(served)) => {
            for field in &wanted.fields {
                let field = &field.node;
                let Some(served_field) = served
                    .fields
                    .iter()
                    .find(|f| f.node.name.node == field.name.node)
                else {
                    missing.push(format!("{name}.{} is missing", field.name.node));
                    continue;
                };
                let served_field = &served_field.node;
                if served_field.ty.node.to_string() != field.ty.node.to_string() {
                    missing.push(format!(
                        "{name}.{}: contract {}, served {}",
                        field.name.node, field.ty.node, served_field.ty.node
                    ));
                }
                for argument in &field.arguments {
                    let argument = &argument.node;
                    match served_field
                        .arguments
                        .iter()
                        .find(|a| a.node.name.node == argument.name.node)
                    {
                        None => missing.push(format!(
                            "{name}.{}({}) is missing",
                            field.name.node, argument.name.node
                        )),
                        Some(served)
                            if served.node.ty.node.to_string() != argument.ty.node.to_string() =>
                        {
                            missing.push(format!(
                                "{name}.{}({}): contract {}, served {}",
                                field.name.node,
                                argument.name.node,
                                argument.ty.node,
                                served.node.ty.node
                            ))
                        }
                        Some(_) => {}
                    }
                }
                for added in &served_field.arguments {
                    let known = field
                        .arguments
                        .iter()
                        .any(|a| a.node.name.node == added.node.name.node);
                    if !known && !added.node.ty.node.nullable {
                        missing.push(format!(
                            "{name}.{}({}) is an added argument and must be optional",
                            field.name.node, added.node.name.node
                        ));
                    }
                }
            }
        }
        (TypeKind::InputObject(wanted), TypeKind::InputObject(served)) => {
            for field in &wanted.fields {
                let field = &field.node;
                match served
                    .fields
                    .iter()
                    .find(|f| f.node.name.node == field.name.node)
                {
                    None => missing.push(format!("{name}.{} is missing", field.name.node)),
                    Some(served)
                        if served.node.ty.node.to_string() != field.ty.node.to_string() =>
                    {
                        missing.push(format!(
                            "{name}.{}: contract {}, served {}",
                            field.name.node, field.ty.node, served.node.ty.node
                        ))
                    }
                    Some(_) => {}
                }
            }
        }
        (TypeKind::Enum(wanted), TypeKind::Enum(served)) => {
            for value in &wanted.values {
                let value = &value.node.value.node;
                if !served.values.iter().any(|v| &v.node.value.node == value) {
                    missing.push(format!("{name}.{value} is missing"));
                }
            }
        }
        _ => missing.push(format!("{name} is served as another kind of type")),
    }
    missing
}

#[test]
fn served_schema_contains_every_type_field_argument_and_value_of_the_contract() {
    let contract = types_of(CONTRACT);
    let served = types_of(&storyline::api::sdl());
    assert!(
        contract.len() > 30,
        "the contract parsed: {} types",
        contract.len()
    );
    let mut problems: Vec<String> = Vec::new();
    for (name, wanted) in &contract {
        match served.get(name) {
            None => problems.push(format!("type {name} is missing")),
            Some(served) => problems.extend(shortfalls(wanted, served)),
        }
    }
    problems.sort();
    assert!(
        problems.is_empty(),
        "served schema breaks the contract:\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_contract_check_notices_a_missing_field_and_a_changed_type() {
    let contract = types_of("type Story { id: UUID! version: Int! }");
    let served = types_of("type Story { id: UUID }");
    let problems = shortfalls(&contract["Story"], &served["Story"]);
    assert_eq!(problems.len(), 2, "{problems:?}");
}

#[test]
fn root_types_are_named_query_mutation_and_subscription() {
    let served = types_of(&storyline::api::sdl());
    for root in ["Query", "Mutation", "Subscription"] {
        assert!(served.contains_key(root), "{root} is served");
    }
}

#[test]
fn checked_in_sdl_matches_the_served_schema() {
    assert!(
        CHECKED_IN_SDL == storyline::api::sdl(),
        "schema/schema.graphql is stale; refresh it with \
         `cargo run -- schema > schema/schema.graphql`"
    );
}
