//! The msgpack encoding of Terraform values (`DynamicValue.msgpack`), decoded against the
//! schema type, as Terraform's `cty` library writes it:
//! - null is `nil`; unknown is any extension (Terraform writes ext 0, or ext 12 with
//!   refinements); this side always writes ext 0 with one zero byte (`d4 00 00`);
//! - numbers arrive as ints, float64 or decimal strings (for values float64 cannot hold);
//! - sets are arrays; objects and maps are maps with string keys;
//! - a `dynamic` value is a 2-array `[type JSON, value]`.

use std::collections::BTreeMap;

use rmpv::Value as Mp;

use crate::framework::{AttributePath, Number, Type, Value};

/// Why a value could not be decoded, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} (at {path_display})")]
pub struct DecodeError {
    /// Where in the value the problem is.
    pub path: AttributePath,
    /// What is wrong.
    pub message: String,
    path_display: String,
}

impl DecodeError {
    pub(crate) fn new(path: &AttributePath, message: impl Into<String>) -> Self {
        let path_display = if path.0.is_empty() {
            "root".to_owned()
        } else {
            path.to_string()
        };
        Self {
            path: path.clone(),
            message: message.into(),
            path_display,
        }
    }
}

/// Why a value could not be encoded (a provider bug: the value does not fit its type).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} (at {path_display})")]
pub struct EncodeError {
    /// Where in the value the problem is.
    pub path: AttributePath,
    /// What is wrong.
    pub message: String,
    path_display: String,
}

impl EncodeError {
    fn new(path: &AttributePath, message: impl Into<String>) -> Self {
        let d = DecodeError::new(path, message);
        Self {
            path: d.path,
            message: d.message,
            path_display: d.path_display,
        }
    }
}

/// Extension type for a plain unknown value.
const UNKNOWN_EXT: i8 = 0;

/// Deepest msgpack nesting accepted. rmpv's default (1024) recurses deep enough to overflow
/// a 2 MiB tokio worker stack in debug builds; real schema values nest a few levels.
const MAX_DEPTH: usize = 128;

/// Decodes msgpack `bytes` as a value of type `ty`.
///
/// # Errors
/// A [`DecodeError`] naming the path when the bytes are not msgpack, have trailing data, or
/// do not fit `ty`.
pub fn decode(bytes: &[u8], ty: &Type) -> Result<Value, DecodeError> {
    let root = AttributePath::root();
    let mut rd = bytes;
    let mp = rmpv::decode::read_value_with_max_depth(&mut rd, MAX_DEPTH)
        .map_err(|e| DecodeError::new(&root, format!("invalid msgpack: {e}")))?;
    if !rd.is_empty() {
        return Err(DecodeError::new(
            &root,
            format!("{} unexpected trailing bytes after the value", rd.len()),
        ));
    }
    from_mp(mp, ty, &root)
}

fn describe(mp: &Mp) -> &'static str {
    match mp {
        Mp::Nil => "nil",
        Mp::Boolean(_) => "a bool",
        Mp::Integer(_) => "an integer",
        Mp::F32(_) | Mp::F64(_) => "a float",
        Mp::String(_) => "a string",
        Mp::Binary(_) => "binary data",
        Mp::Array(_) => "an array",
        Mp::Map(_) => "a map",
        Mp::Ext(..) => "an extension",
    }
}

fn mismatch(path: &AttributePath, ty: &Type, mp: &Mp) -> DecodeError {
    DecodeError::new(
        path,
        format!("expected a {} value, found {}", ty.to_json(), describe(mp)),
    )
}

fn from_mp(mp: Mp, ty: &Type, path: &AttributePath) -> Result<Value, DecodeError> {
    match mp {
        Mp::Nil => return Ok(Value::Null),
        // Every extension is an unknown: ext 0 is plain, ext 12 carries refinements
        // (prefix, bounds) that this provider does not use.
        Mp::Ext(..) => return Ok(Value::Unknown),
        _ => {}
    }
    match ty {
        Type::Bool => match mp {
            Mp::Boolean(b) => Ok(Value::Bool(b)),
            other => Err(mismatch(path, ty, &other)),
        },
        Type::String => match mp {
            Mp::String(s) => s
                .into_str()
                .map(Value::String)
                .ok_or_else(|| DecodeError::new(path, "string is not valid UTF-8")),
            other => Err(mismatch(path, ty, &other)),
        },
        Type::Number => decode_number(mp, path).map(Value::Number),
        Type::List(elem) | Type::Set(elem) => {
            let Mp::Array(items) = mp else {
                return Err(mismatch(path, ty, &mp));
            };
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.into_iter().enumerate() {
                out.push(from_mp(item, elem, &path.index(index_i64(i)))?);
            }
            Ok(if matches!(ty, Type::List(_)) {
                Value::List(out)
            } else {
                Value::Set(out)
            })
        }
        Type::Tuple(elems) => {
            let Mp::Array(items) = mp else {
                return Err(mismatch(path, ty, &mp));
            };
            if items.len() != elems.len() {
                return Err(DecodeError::new(
                    path,
                    format!(
                        "a tuple of {} elements is required ({} given)",
                        elems.len(),
                        items.len()
                    ),
                ));
            }
            let mut out = Vec::with_capacity(items.len());
            for (i, (item, t)) in items.into_iter().zip(elems).enumerate() {
                out.push(from_mp(item, t, &path.index(index_i64(i)))?);
            }
            Ok(Value::Tuple(out))
        }
        Type::Map(elem) => {
            let Mp::Map(entries) = mp else {
                return Err(mismatch(path, ty, &mp));
            };
            let mut out = BTreeMap::new();
            for (k, v) in entries {
                let key = map_key(k, path)?;
                let item = from_mp(v, elem, &path.key(&key))?;
                out.insert(key, item);
            }
            Ok(Value::Map(out))
        }
        Type::Object(fields) => {
            let Mp::Map(entries) = mp else {
                return Err(mismatch(path, ty, &mp));
            };
            let mut out: BTreeMap<String, Value> = BTreeMap::new();
            for (k, v) in entries {
                let key = map_key(k, path)?;
                let Some(t) = fields.get(&key) else {
                    return Err(DecodeError::new(
                        &path.at(&key),
                        "unsupported attribute: it is not in the schema",
                    ));
                };
                let item = from_mp(v, t, &path.at(&key))?;
                out.insert(key, item);
            }
            // Terraform always sends every attribute; tolerate an absent one as null.
            for name in fields.keys() {
                out.entry(name.clone()).or_insert(Value::Null);
            }
            Ok(Value::Object(out))
        }
        Type::Dynamic => {
            let Mp::Array(mut pair) = mp else {
                return Err(DecodeError::new(
                    path,
                    format!(
                        "a dynamic value must be a [type, value] pair, found {}",
                        describe(&mp)
                    ),
                ));
            };
            if pair.len() != 2 {
                return Err(DecodeError::new(
                    path,
                    "a dynamic value must be a [type, value] pair",
                ));
            }
            let value = pair.pop().unwrap_or(Mp::Nil);
            let type_json = match pair.pop() {
                Some(Mp::String(s)) => s.into_bytes(),
                Some(Mp::Binary(b)) => b,
                _ => {
                    return Err(DecodeError::new(
                        path,
                        "a dynamic value's type must be JSON text",
                    ));
                }
            };
            let json: serde_json::Value = serde_json::from_slice(&type_json)
                .map_err(|e| DecodeError::new(path, format!("invalid dynamic type JSON: {e}")))?;
            let inner = type_from_json(&json).ok_or_else(|| {
                DecodeError::new(path, format!("unsupported dynamic type {json}"))
            })?;
            from_mp(value, &inner, path)
        }
    }
}

fn index_i64(i: usize) -> i64 {
    i64::try_from(i).unwrap_or(i64::MAX)
}

fn map_key(k: Mp, path: &AttributePath) -> Result<String, DecodeError> {
    match k {
        Mp::String(s) => s
            .into_str()
            .ok_or_else(|| DecodeError::new(path, "map key is not valid UTF-8")),
        other => Err(DecodeError::new(
            path,
            format!("map keys must be strings, found {}", describe(&other)),
        )),
    }
}

fn decode_number(mp: Mp, path: &AttributePath) -> Result<Number, DecodeError> {
    match mp {
        Mp::Integer(i) => {
            if let Some(v) = i.as_i64() {
                Ok(Number::from_i64(v))
            } else if let Some(v) = i.as_u64() {
                Number::parse(&v.to_string())
                    .ok_or_else(|| DecodeError::new(path, "invalid integer"))
            } else {
                Err(DecodeError::new(path, "invalid integer"))
            }
        }
        Mp::F64(f) => Number::from_f64(f)
            .ok_or_else(|| DecodeError::new(path, "numbers cannot be NaN or infinite")),
        Mp::F32(f) => Number::from_f64(f64::from(f))
            .ok_or_else(|| DecodeError::new(path, "numbers cannot be NaN or infinite")),
        // Terraform sends numbers float64 cannot represent exactly as decimal text.
        Mp::String(s) => {
            let text = s
                .into_str()
                .ok_or_else(|| DecodeError::new(path, "number text is not valid UTF-8"))?;
            Number::parse(&text)
                .ok_or_else(|| DecodeError::new(path, format!("{text:?} is not a number")))
        }
        other => Err(mismatch(path, &Type::Number, &other)),
    }
}

/// Parses a `cty` JSON type constraint (`"string"`, `["list","number"]`, ...).
pub fn type_from_json(j: &serde_json::Value) -> Option<Type> {
    use serde_json::Value as J;
    match j {
        J::String(s) => match s.as_str() {
            "bool" => Some(Type::Bool),
            "number" => Some(Type::Number),
            "string" => Some(Type::String),
            "dynamic" => Some(Type::Dynamic),
            _ => None,
        },
        J::Array(a) if a.len() == 2 => {
            let kind = a[0].as_str()?;
            match kind {
                "list" => Some(Type::List(Box::new(type_from_json(&a[1])?))),
                "set" => Some(Type::Set(Box::new(type_from_json(&a[1])?))),
                "map" => Some(Type::Map(Box::new(type_from_json(&a[1])?))),
                "object" => {
                    let fields = a[1].as_object()?;
                    let mut out = BTreeMap::new();
                    for (k, v) in fields {
                        out.insert(k.clone(), type_from_json(v)?);
                    }
                    Some(Type::Object(out))
                }
                "tuple" => {
                    let elems = a[1].as_array()?;
                    elems
                        .iter()
                        .map(type_from_json)
                        .collect::<Option<Vec<_>>>()
                        .map(Type::Tuple)
                }
                _ => None,
            }
        }
        // `["object", {...}, [optional attrs]]` appears in type constraints, not values.
        J::Array(a) if a.len() == 3 && a[0].as_str() == Some("object") => {
            type_from_json(&J::Array(a[..2].to_vec()))
        }
        _ => None,
    }
}

/// Encodes `value` as msgpack for type `ty`.
///
/// # Errors
/// An [`EncodeError`] naming the path when the value does not fit `ty` (a provider bug).
pub fn encode(value: &Value, ty: &Type) -> Result<Vec<u8>, EncodeError> {
    let mp = to_mp(value, ty, &AttributePath::root())?;
    let mut buf = Vec::new();
    rmpv::encode::write_value(&mut buf, &mp)
        .map_err(|e| EncodeError::new(&AttributePath::root(), format!("msgpack write: {e}")))?;
    Ok(buf)
}

fn unknown_mp() -> Mp {
    Mp::Ext(UNKNOWN_EXT, vec![0])
}

fn encode_number(n: &Number) -> Mp {
    if let Ok(i) = n.as_str().parse::<i64>() {
        return Mp::from(i);
    }
    if let Ok(u) = n.as_str().parse::<u64>() {
        return Mp::from(u);
    }
    // A float only when it carries the exact same value; otherwise the decimal text,
    // which Terraform reads without loss.
    if let Some(f) = n.as_f64()
        && Number::from_f64(f).as_ref() == Some(n)
    {
        return Mp::F64(f);
    }
    Mp::from(n.as_str())
}

fn to_mp(value: &Value, ty: &Type, path: &AttributePath) -> Result<Mp, EncodeError> {
    let wrong = || {
        EncodeError::new(
            path,
            format!("value does not fit type {}: {value:?}", ty.to_json()),
        )
    };
    match (value, ty) {
        (Value::Null, _) => Ok(Mp::Nil),
        (Value::Unknown, _) => Ok(unknown_mp()),
        (_, Type::Dynamic) => {
            let inferred = infer_type(value);
            let type_json = serde_json::to_vec(&inferred.to_json())
                .map_err(|e| EncodeError::new(path, format!("type JSON: {e}")))?;
            Ok(Mp::Array(vec![
                Mp::Binary(type_json),
                to_mp(value, &inferred, path)?,
            ]))
        }
        (Value::Bool(b), Type::Bool) => Ok(Mp::Boolean(*b)),
        (Value::String(s), Type::String) => Ok(Mp::from(s.as_str())),
        (Value::Number(n), Type::Number) => Ok(encode_number(n)),
        (Value::List(items), Type::List(elem))
        | (Value::Set(items), Type::Set(elem))
        // A list value for a set type (or the reverse) is a common slip; the wire form
        // is the same array, so accept it.
        | (Value::List(items), Type::Set(elem))
        | (Value::Set(items), Type::List(elem)) => items
            .iter()
            .enumerate()
            .map(|(i, v)| to_mp(v, elem, &path.index(index_i64(i))))
            .collect::<Result<Vec<_>, _>>()
            .map(Mp::Array),
        (Value::Tuple(items), Type::Tuple(elems)) | (Value::List(items), Type::Tuple(elems)) => {
            if items.len() != elems.len() {
                return Err(wrong());
            }
            items
                .iter()
                .zip(elems)
                .enumerate()
                .map(|(i, (v, t))| to_mp(v, t, &path.index(index_i64(i))))
                .collect::<Result<Vec<_>, _>>()
                .map(Mp::Array)
        }
        (Value::Map(m), Type::Map(elem)) | (Value::Object(m), Type::Map(elem)) => m
            .iter()
            .map(|(k, v)| Ok((Mp::from(k.as_str()), to_mp(v, elem, &path.key(k))?)))
            .collect::<Result<Vec<_>, _>>()
            .map(Mp::Map),
        (Value::Object(m), Type::Object(fields)) | (Value::Map(m), Type::Object(fields)) => {
            if let Some(extra) = m.keys().find(|k| !fields.contains_key(*k)) {
                return Err(EncodeError::new(
                    &path.at(extra),
                    "attribute is not in the schema",
                ));
            }
            // Every attribute of the type, nil when absent: Terraform rejects objects
            // with missing attributes.
            fields
                .iter()
                .map(|(k, t)| {
                    let v = m.get(k).unwrap_or(&Value::Null);
                    Ok((Mp::from(k.as_str()), to_mp(v, t, &path.at(k))?))
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Mp::Map)
        }
        _ => Err(wrong()),
    }
}

/// The type a known value most plausibly has, for encoding `dynamic` attributes.
fn infer_type(v: &Value) -> Type {
    match v {
        Value::Null | Value::Unknown => Type::Dynamic,
        Value::Bool(_) => Type::Bool,
        Value::Number(_) => Type::Number,
        Value::String(_) => Type::String,
        Value::List(items) => Type::List(Box::new(common_type(items))),
        Value::Set(items) => Type::Set(Box::new(common_type(items))),
        Value::Map(m) => Type::Map(Box::new(common_type(
            &m.values().cloned().collect::<Vec<_>>(),
        ))),
        Value::Object(m) => {
            Type::Object(m.iter().map(|(k, v)| (k.clone(), infer_type(v))).collect())
        }
        Value::Tuple(items) => Type::Tuple(items.iter().map(infer_type).collect()),
    }
}

fn common_type(items: &[Value]) -> Type {
    items
        .iter()
        .find(|v| !v.is_null() && !v.is_unknown())
        .map_or(Type::String, infer_type)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::{Attribute, Block, NestedBlock};

    fn obj(pairs: &[(&str, Value)]) -> Value {
        Value::Object(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect(),
        )
    }

    fn roundtrip(v: &Value, ty: &Type) -> Value {
        let bytes = encode(v, ty).expect("encode");
        decode(&bytes, ty).expect("decode")
    }

    #[test]
    fn null_is_nil_and_unknown_is_extension_zero() {
        assert_eq!(
            encode(&Value::Null, &Type::String).expect("enc"),
            vec![0xc0]
        );
        assert_eq!(
            encode(&Value::Unknown, &Type::String).expect("enc"),
            vec![0xd4, 0, 0]
        );
        assert_eq!(decode(&[0xc0], &Type::Number), Ok(Value::Null));
        assert_eq!(decode(&[0xd4, 0, 0], &Type::Number), Ok(Value::Unknown));
    }

    #[test]
    fn refined_unknowns_with_extension_twelve_decode_as_unknown() {
        // ext 12 holding a small map (refinement: not null).
        let mut buf = Vec::new();
        let refinement = Mp::Map(vec![(Mp::from(1), Mp::Boolean(true))]);
        let mut payload = Vec::new();
        rmpv::encode::write_value(&mut payload, &refinement).expect("write");
        rmpv::encode::write_value(&mut buf, &Mp::Ext(12, payload)).expect("write");
        assert_eq!(decode(&buf, &Type::String), Ok(Value::Unknown));
    }

    #[test]
    fn scalars_round_trip() {
        assert_eq!(
            roundtrip(&Value::Bool(true), &Type::Bool),
            Value::Bool(true)
        );
        assert_eq!(
            roundtrip(&Value::string("héllo"), &Type::String),
            Value::string("héllo")
        );
        assert_eq!(roundtrip(&Value::int(-42), &Type::Number), Value::int(-42));
    }

    #[test]
    fn numbers_arrive_as_ints_floats_or_decimal_strings_without_loss() {
        let mut b = Vec::new();
        rmpv::encode::write_value(&mut b, &Mp::F64(1.5)).expect("write");
        assert_eq!(
            decode(&b, &Type::Number).expect("dec").as_f64().value(),
            Some(1.5)
        );
        let mut b = Vec::new();
        rmpv::encode::write_value(&mut b, &Mp::from(u64::MAX)).expect("write");
        assert_eq!(
            decode(&b, &Type::Number),
            Ok(Value::Number(
                Number::parse("18446744073709551615").expect("n")
            ))
        );
        let big = Number::parse("123456789012345678901234567890.5").expect("n");
        let enc = encode(&Value::Number(big.clone()), &Type::Number).expect("enc");
        // Encoded as text because float64 would lose digits.
        assert!(matches!(enc[0], 0xa0..=0xbf | 0xd9), "{enc:?}");
        assert_eq!(decode(&enc, &Type::Number), Ok(Value::Number(big)));
        let mut b = Vec::new();
        rmpv::encode::write_value(&mut b, &Mp::from("abc")).expect("write");
        assert!(decode(&b, &Type::Number).is_err());
    }

    #[test]
    fn collections_round_trip_with_unknown_elements() {
        let lt = Type::list_of(Type::String);
        let v = Value::List(vec![Value::string("a"), Value::Unknown, Value::Null]);
        assert_eq!(roundtrip(&v, &lt), v);
        let st = Type::set_of(Type::Number);
        let v = Value::Set(vec![Value::int(1), Value::Unknown]);
        assert_eq!(roundtrip(&v, &st), v);
        let mt = Type::map_of(Type::Bool);
        let v = Value::Map(
            [
                ("x".to_owned(), Value::Bool(false)),
                ("y".to_owned(), Value::Unknown),
            ]
            .into(),
        );
        assert_eq!(roundtrip(&v, &mt), v);
        let tt = Type::Tuple(vec![Type::String, Type::Number]);
        let v = Value::Tuple(vec![Value::string("a"), Value::int(2)]);
        assert_eq!(roundtrip(&v, &tt), v);
        assert_eq!(roundtrip(&Value::Unknown, &lt), Value::Unknown);
    }

    #[test]
    fn objects_carry_every_attribute_and_reject_unknown_names() {
        let ty = Type::object([("a", Type::String), ("b", Type::Number)]);
        let enc = encode(&obj(&[("a", Value::string("x"))]), &ty).expect("enc");
        let back = decode(&enc, &ty).expect("dec");
        assert_eq!(back, obj(&[("a", Value::string("x")), ("b", Value::Null)]));
        let err = encode(&obj(&[("zzz", Value::Null)]), &ty).expect_err("extra attribute");
        assert_eq!(err.path, AttributePath::attr("zzz"));
        let bad = Mp::Map(vec![(Mp::from("nope"), Mp::Nil)]);
        let mut b = Vec::new();
        rmpv::encode::write_value(&mut b, &bad).expect("write");
        assert_eq!(
            decode(&b, &ty).expect_err("extra").path,
            AttributePath::attr("nope")
        );
    }

    #[test]
    fn decode_errors_name_the_nested_path() {
        let ty = Type::object([("dms", Type::list_of(Type::object([("port", Type::Number)])))]);
        let bad = Mp::Map(vec![(
            Mp::from("dms"),
            Mp::Array(vec![Mp::Map(vec![(Mp::from("port"), Mp::Boolean(true))])]),
        )]);
        let mut b = Vec::new();
        rmpv::encode::write_value(&mut b, &bad).expect("write");
        let err = decode(&b, &ty).expect_err("bool is no number");
        assert_eq!(err.path, AttributePath::parse("dms[0].port"));
        assert!(err.to_string().contains("dms[0].port"), "{err}");
    }

    #[test]
    fn nested_blocks_decode_through_the_block_value_type_with_unknowns_inside() {
        let block = Block::new("root")
            .attribute(Attribute::string("id").computed())
            .block(NestedBlock::single(
                "one",
                Block::new("s").attribute(Attribute::string("x").optional()),
            ))
            .block(NestedBlock::list(
                "many",
                Block::new("l").attribute(Attribute::number("n").optional()),
            ))
            .block(NestedBlock::set(
                "tags",
                Block::new("t").attribute(Attribute::string("k").optional()),
            ));
        let ty = block.value_type();
        let v = obj(&[
            ("id", Value::Unknown),
            ("one", obj(&[("x", Value::Unknown)])),
            (
                "many",
                Value::List(vec![
                    obj(&[("n", Value::Unknown)]),
                    obj(&[("n", Value::int(3))]),
                ]),
            ),
            ("tags", Value::Unknown),
        ]);
        assert_eq!(roundtrip(&v, &ty), v);
        let empty = block.empty_value();
        assert_eq!(roundtrip(&empty, &ty), empty);
        assert_eq!(empty.get("many"), &Value::List(vec![]));
    }

    #[test]
    fn dynamic_values_use_the_type_and_value_pair() {
        let v = obj(&[("a", Value::string("x")), ("n", Value::int(1))]);
        let enc = encode(&v, &Type::Dynamic).expect("enc");
        assert_eq!(decode(&enc, &Type::Dynamic), Ok(v));
        // Terraform's form: the type JSON as a string.
        let wire = Mp::Array(vec![
            Mp::from("[\"list\",\"string\"]"),
            Mp::Array(vec![Mp::from("q")]),
        ]);
        let mut b = Vec::new();
        rmpv::encode::write_value(&mut b, &wire).expect("write");
        assert_eq!(
            decode(&b, &Type::Dynamic),
            Ok(Value::List(vec![Value::string("q")]))
        );
        assert_eq!(roundtrip(&Value::Null, &Type::Dynamic), Value::Null);
        assert_eq!(roundtrip(&Value::Unknown, &Type::Dynamic), Value::Unknown);
    }

    #[test]
    fn garbage_and_trailing_bytes_are_errors_not_panics() {
        assert!(decode(&[], &Type::String).is_err());
        assert!(decode(&[0xc0, 0xc0], &Type::String).is_err());
        assert!(
            decode(
                &[0xdd, 0xff, 0xff, 0xff, 0xff],
                &Type::list_of(Type::String)
            )
            .is_err()
        );
    }
}
