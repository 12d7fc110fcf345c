//! Property-based fuzzing of the two decoders that read bytes Terraform hands the provider:
//! msgpack values (every `DynamicValue`) and stored JSON state (UpgradeResourceState). Neither
//! may panic on any input, for any schema; valid encodings of arbitrary schema values decode
//! back unchanged. Case counts are bounded so the targets run inside `cargo test`.

use std::collections::BTreeMap;

use proptest::prelude::*;
use rdsenc::framework::{Attribute, Block, NestedBlock, Nesting, Number, Type, Value};
use rdsenc::protocol::{json, msgpack};

/// Cases per property: 256 by default, enough to shake out panics and small enough for CI on
/// two cores; `PROPTEST_CASES=N` runs a longer campaign.
fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256);
    ProptestConfig {
        cases,
        ..ProptestConfig::default()
    }
}

/// Any type, including `Dynamic` and tuples, nested three deep.
fn any_type() -> BoxedStrategy<Type> {
    types(true)
}

/// A type without `Dynamic` (whose encoding carries its own type, so it does not round-trip
/// through a value alone).
fn static_type() -> BoxedStrategy<Type> {
    types(false)
}

/// Types nested three deep, with `Dynamic` among the leaves when `dynamic`.
fn types(dynamic: bool) -> BoxedStrategy<Type> {
    let mut leaves = vec![Just(Type::Bool), Just(Type::Number), Just(Type::String)];
    if dynamic {
        leaves.push(Just(Type::Dynamic));
    }
    proptest::strategy::Union::new(leaves)
        .prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                inner.clone().prop_map(Type::list_of),
                inner.clone().prop_map(Type::set_of),
                inner.clone().prop_map(Type::map_of),
                proptest::collection::btree_map("[a-z_]{1,6}", inner.clone(), 0..4)
                    .prop_map(Type::Object),
                proptest::collection::vec(inner, 0..3).prop_map(Type::Tuple),
            ]
        })
        .boxed()
}

/// A value that fits `ty` (null and unknown anywhere).
fn value_of(ty: &Type) -> BoxedStrategy<Value> {
    let known: BoxedStrategy<Value> = match ty {
        Type::Bool => any::<bool>().prop_map(Value::Bool).boxed(),
        Type::Number => prop_oneof![
            any::<i64>().prop_map(Value::int),
            any::<f64>()
                .prop_filter_map("finite", Number::from_f64)
                .prop_map(Value::Number),
        ]
        .boxed(),
        Type::String => any::<String>().prop_map(Value::String).boxed(),
        Type::List(e) => proptest::collection::vec(value_of(e), 0..4)
            .prop_map(Value::List)
            .boxed(),
        Type::Set(e) => proptest::collection::vec(value_of(e), 0..4)
            .prop_map(Value::Set)
            .boxed(),
        Type::Map(e) => proptest::collection::btree_map(any::<String>(), value_of(e), 0..4)
            .prop_map(Value::Map)
            .boxed(),
        Type::Object(fields) => fields
            .iter()
            .map(|(k, t)| {
                let k = k.clone();
                value_of(t).prop_map(move |v| (k.clone(), v))
            })
            .collect::<Vec<_>>()
            .prop_map(|kv| Value::Object(kv.into_iter().collect()))
            .boxed(),
        Type::Tuple(elems) => elems
            .iter()
            .map(value_of)
            .collect::<Vec<_>>()
            .prop_map(Value::Tuple)
            .boxed(),
        Type::Dynamic => Just(Value::Null).boxed(),
    };
    prop_oneof![1 => Just(Value::Null), 1 => Just(Value::Unknown), 6 => known].boxed()
}

/// A schema block with attributes of any type and nested blocks of every nesting mode.
fn any_block() -> impl Strategy<Value = Block> {
    let attrs = proptest::collection::btree_map("[a-z]{1,5}", any_type(), 0..4).boxed();
    let leaf = attrs.clone().prop_map(|m| block_with(m, Vec::new()));
    leaf.prop_recursive(2, 12, 3, move |inner| {
        let nested = proptest::collection::vec(
            (
                "[A-Z][a-z]{0,4}",
                prop_oneof![
                    Just(Nesting::Single),
                    Just(Nesting::Group),
                    Just(Nesting::List),
                    Just(Nesting::Set),
                ],
                inner,
            ),
            0..3,
        );
        (attrs.clone(), nested).prop_map(|(m, n)| block_with(m, n))
    })
}

fn block_with(attrs: BTreeMap<String, Type>, nested: Vec<(String, Nesting, Block)>) -> Block {
    let mut b = Block::new("fuzzed");
    for (name, ty) in attrs {
        b = b.attribute(Attribute::new(&name, ty).optional());
    }
    // Block names start upper case and attribute names lower case, so they never collide.
    let mut seen = std::collections::BTreeSet::new();
    for (name, nesting, inner) in nested {
        if !seen.insert(name.clone()) {
            continue;
        }
        let mut nb = NestedBlock::list(&name, inner);
        nb.nesting = nesting;
        b = b.block(nb);
    }
    b
}

/// Arbitrary JSON, nested a few levels: the shapes a hand-edited or older state file may hold.
fn any_json() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::Bool),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>().prop_map(serde_json::Value::from),
        "[ -~]{0,8}".prop_map(serde_json::Value::String),
    ];
    leaf.prop_recursive(4, 48, 5, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..5).prop_map(serde_json::Value::Array),
            proptest::collection::btree_map("[a-zA-Z_]{1,6}", inner, 0..5)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

/// JSON that follows `block`'s shape, with leaves that may or may not fit the declared type.
fn json_for_block(block: &Block) -> BoxedStrategy<serde_json::Value> {
    let mut parts: Vec<BoxedStrategy<(String, serde_json::Value)>> = Vec::new();
    for a in &block.attributes {
        let name = a.name.clone();
        parts.push(
            json_for_type(&a.ty)
                .prop_map(move |v| (name.clone(), v))
                .boxed(),
        );
    }
    for nb in &block.blocks {
        let name = nb.name.clone();
        let inner = json_for_block(&nb.block);
        let v = match nb.nesting {
            Nesting::Single | Nesting::Group => {
                prop_oneof![1 => Just(serde_json::Value::Null), 4 => inner].boxed()
            }
            Nesting::List | Nesting::Set => proptest::collection::vec(inner, 0..3)
                .prop_map(serde_json::Value::Array)
                .boxed(),
        };
        parts.push(v.prop_map(move |v| (name.clone(), v)).boxed());
    }
    parts
        .prop_map(|kv| serde_json::Value::Object(kv.into_iter().collect()))
        .boxed()
}

fn json_for_type(ty: &Type) -> BoxedStrategy<serde_json::Value> {
    let fitting: BoxedStrategy<serde_json::Value> = match ty {
        Type::Bool => any::<bool>().prop_map(serde_json::Value::Bool).boxed(),
        Type::Number => prop_oneof![
            any::<i64>().prop_map(serde_json::Value::from),
            any::<f64>().prop_map(serde_json::Value::from),
        ]
        .boxed(),
        Type::String => any::<String>().prop_map(serde_json::Value::String).boxed(),
        Type::List(e) | Type::Set(e) => proptest::collection::vec(json_for_type(e), 0..3)
            .prop_map(serde_json::Value::Array)
            .boxed(),
        Type::Map(e) => proptest::collection::btree_map(any::<String>(), json_for_type(e), 0..3)
            .prop_map(|m| serde_json::Value::Object(m.into_iter().collect()))
            .boxed(),
        Type::Object(fields) => fields
            .iter()
            .map(|(k, t)| {
                let k = k.clone();
                json_for_type(t).prop_map(move |v| (k.clone(), v))
            })
            .collect::<Vec<_>>()
            .prop_map(|kv| serde_json::Value::Object(kv.into_iter().collect()))
            .boxed(),
        Type::Tuple(elems) => elems
            .iter()
            .map(json_for_type)
            .collect::<Vec<_>>()
            .prop_map(serde_json::Value::Array)
            .boxed(),
        Type::Dynamic => any_json().boxed(),
    };
    prop_oneof![1 => Just(serde_json::Value::Null), 1 => any_json(), 6 => fitting].boxed()
}

/// Overwrites, inserts or drops bytes of a valid encoding: the inputs most likely to reach deep
/// into the decoder before going wrong.
fn mutate(mut bytes: Vec<u8>, edits: &[(usize, u8, u8)]) -> Vec<u8> {
    for &(at, byte, op) in edits {
        if bytes.is_empty() {
            bytes.push(byte);
            continue;
        }
        let i = at % bytes.len();
        match op % 3 {
            0 => bytes[i] = byte,
            1 => bytes.insert(i, byte),
            _ => {
                bytes.remove(i);
            }
        }
    }
    bytes
}

fn edits() -> impl Strategy<Value = Vec<(usize, u8, u8)>> {
    proptest::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 1..6)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn random_bytes_never_panic_the_msgpack_decoder_for_any_type(
        ty in any_type(),
        bytes in proptest::collection::vec(any::<u8>(), 0..512),
    ) {
        // The property is "returns": a panic fails the test; Ok or Err are both acceptable.
        let _ = msgpack::decode(&bytes, &ty);
    }

    #[test]
    fn any_static_value_round_trips_through_msgpack(
        (ty, v) in static_type().prop_flat_map(|t| { let vs = value_of(&t); (Just(t), vs) })
    ) {
        let bytes = msgpack::encode(&v, &ty).expect("a value of the type encodes");
        prop_assert_eq!(msgpack::decode(&bytes, &ty).expect("its encoding decodes"), v);
    }

    #[test]
    fn mutated_encodings_of_valid_values_never_panic_the_msgpack_decoder(
        (ty, v) in any_type().prop_flat_map(|t| { let vs = value_of(&t); (Just(t), vs) }),
        edits in edits(),
    ) {
        let bytes = msgpack::encode(&v, &ty).expect("a value of the type encodes");
        let _ = msgpack::decode(&mutate(bytes, &edits), &ty);
    }

    #[test]
    fn any_schema_blocks_empty_value_round_trips_and_random_bytes_never_panic(
        block in any_block(),
        bytes in proptest::collection::vec(any::<u8>(), 0..256),
    ) {
        let ty = block.value_type();
        let empty = block.empty_value();
        let enc = msgpack::encode(&empty, &ty).expect("a block's empty value encodes");
        prop_assert_eq!(msgpack::decode(&enc, &ty).expect("and decodes"), empty);
        let _ = msgpack::decode(&bytes, &ty);
        let _ = msgpack::decode(&mutate(enc, &[(bytes.len(), 0xc1, 0)]), &ty);
    }

    #[test]
    fn any_schema_blocks_values_round_trip_through_msgpack(
        (ty, v) in any_block().prop_flat_map(|b| {
            // Dynamic attributes only take null here (see value_of), so every value fits.
            let t = b.value_type();
            let vs = value_of(&t);
            (Just(t), vs)
        })
    ) {
        let bytes = msgpack::encode(&v, &ty).expect("a value of the block type encodes");
        prop_assert_eq!(msgpack::decode(&bytes, &ty).expect("its encoding decodes"), v);
    }

    #[test]
    fn arbitrary_json_state_never_panics_the_state_decoder(
        block in any_block(),
        j in any_json(),
    ) {
        let text = serde_json::to_vec(&j).expect("serialises");
        let _ = json::decode_state(&text, &block);
    }

    #[test]
    fn schema_shaped_json_state_decodes_or_errors_and_never_panics(
        (block, j) in any_block().prop_flat_map(|b| { let js = json_for_block(&b); (Just(b), js) })
    ) {
        let text = serde_json::to_vec(&j).expect("serialises");
        if let Ok(v) = json::decode_state(&text, &block) {
            // What decodes must fit the schema's type: it is sent back to Terraform as msgpack.
            let ty = block.value_type();
            let bytes = msgpack::encode(&v, &ty).expect("decoded state fits its schema");
            prop_assert_eq!(msgpack::decode(&bytes, &ty).expect("re-decodes"), v);
        }
    }

    #[test]
    fn random_bytes_and_mangled_json_never_panic_the_state_decoder_for_the_migration_schema(
        bytes in proptest::collection::vec(any::<u8>(), 0..256),
        j in any_json(),
        edits in edits(),
    ) {
        let block = rdsenc::resources::migration::schema::schema().block;
        let _ = json::decode_state(&bytes, &block);
        let text = serde_json::to_vec(&j).expect("serialises");
        let _ = json::decode_state(&mutate(text, &edits), &block);
    }

    #[test]
    fn migration_schema_shaped_json_state_never_panics(
        j in json_for_block(&rdsenc::resources::migration::schema::schema().block),
    ) {
        let block = rdsenc::resources::migration::schema::schema().block;
        let text = serde_json::to_vec(&j).expect("serialises");
        if let Ok(v) = json::decode_state(&text, &block) {
            let ty = block.value_type();
            prop_assert!(msgpack::encode(&v, &ty).is_ok(), "decoded state must encode: {v:?}");
        }
    }
}

#[test]
fn deeply_nested_msgpack_is_an_error_not_a_stack_overflow() {
    // 100 000 nested one-element arrays under a dynamic type.
    let mut bytes = vec![0x91; 100_000];
    bytes.push(0xc0);
    assert!(msgpack::decode(&bytes, &Type::Dynamic).is_err());
    let deep = (0..64).fold(Type::String, |t, _| Type::list_of(t));
    let _ = msgpack::decode(&bytes, &deep);
}

#[test]
fn deeply_nested_json_state_is_an_error_not_a_stack_overflow() {
    let block = rdsenc::resources::migration::schema::schema().block;
    let text = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert!(json::decode_state(text.as_bytes(), &block).is_err());
    let obj = format!(
        "{{\"id\":{}1{}}}",
        "{\"a\":".repeat(50_000),
        "}".repeat(50_000)
    );
    assert!(json::decode_state(obj.as_bytes(), &block).is_err());
}
