//! Stored state as JSON (UpgradeResourceState's `raw_state.json`), read against the
//! current schema: attributes the schema no longer has are dropped, attributes it gained
//! become null, and absent list/set blocks become `[]` as Terraform requires.

use std::collections::BTreeMap;

use crate::framework::{AttributePath, Block, Nesting, Number, Type, Value};

use super::msgpack::{DecodeError, type_from_json};

/// Decodes stored JSON state for a resource whose current schema block is `block`.
///
/// # Errors
/// A [`DecodeError`] naming the path when the text is not JSON or a value does not fit.
pub fn decode_state(bytes: &[u8], block: &Block) -> Result<Value, DecodeError> {
    let root = AttributePath::root();
    let j: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| DecodeError::new(&root, format!("invalid JSON state: {e}")))?;
    if j.is_null() {
        return Ok(Value::Null);
    }
    decode_block(&j, block, &root)
}

fn decode_block(
    j: &serde_json::Value,
    block: &Block,
    path: &AttributePath,
) -> Result<Value, DecodeError> {
    let Some(obj) = j.as_object() else {
        return Err(DecodeError::new(path, "expected a JSON object for a block"));
    };
    let mut out = BTreeMap::new();
    for a in &block.attributes {
        let v = match obj.get(&a.name) {
            None => Value::Null,
            Some(v) => from_json(v, &a.ty, &path.at(&a.name))?,
        };
        out.insert(a.name.clone(), v);
    }
    for b in &block.blocks {
        let p = path.at(&b.name);
        let raw = obj.get(&b.name).filter(|v| !v.is_null());
        let v = match (b.nesting, raw) {
            (Nesting::Single, None) => Value::Null,
            (Nesting::Group, None) => b.block.empty_value(),
            (Nesting::Single | Nesting::Group, Some(v)) => decode_block(v, &b.block, &p)?,
            (Nesting::List | Nesting::Set, None) => empty_collection(b.nesting),
            (Nesting::List | Nesting::Set, Some(v)) => {
                let Some(items) = v.as_array() else {
                    return Err(DecodeError::new(
                        &p,
                        "expected a JSON array for a block list",
                    ));
                };
                let mut vals = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    let idx = i64::try_from(i).unwrap_or(i64::MAX);
                    vals.push(decode_block(item, &b.block, &p.index(idx))?);
                }
                if b.nesting == Nesting::List {
                    Value::List(vals)
                } else {
                    Value::Set(vals)
                }
            }
        };
        out.insert(b.name.clone(), v);
    }
    Ok(Value::Object(out))
}

fn empty_collection(n: Nesting) -> Value {
    if n == Nesting::List {
        Value::List(Vec::new())
    } else {
        Value::Set(Vec::new())
    }
}

/// Converts a JSON value of type `ty` (attributes, not blocks).
fn from_json(j: &serde_json::Value, ty: &Type, path: &AttributePath) -> Result<Value, DecodeError> {
    use serde_json::Value as J;
    let wrong = || {
        DecodeError::new(
            path,
            format!("expected a {} value, found {j}", ty.to_json()),
        )
    };
    if j.is_null() {
        return Ok(Value::Null);
    }
    match ty {
        Type::Bool => j.as_bool().map(Value::Bool).ok_or_else(wrong),
        Type::String => match j {
            J::String(s) => Ok(Value::String(s.clone())),
            // Terraform converts primitives to strings when a type changed; do the same.
            J::Number(n) => Ok(Value::String(n.to_string())),
            J::Bool(b) => Ok(Value::String(b.to_string())),
            _ => Err(wrong()),
        },
        Type::Number => match j {
            J::Number(n) => Number::parse(&n.to_string())
                .map(Value::Number)
                .ok_or_else(wrong),
            J::String(s) => Number::parse(s).map(Value::Number).ok_or_else(wrong),
            _ => Err(wrong()),
        },
        Type::List(elem) | Type::Set(elem) => {
            let items = j.as_array().ok_or_else(wrong)?;
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                let idx = i64::try_from(i).unwrap_or(i64::MAX);
                out.push(from_json(item, elem, &path.index(idx))?);
            }
            Ok(if matches!(ty, Type::List(_)) {
                Value::List(out)
            } else {
                Value::Set(out)
            })
        }
        Type::Tuple(elems) => {
            let items = j.as_array().ok_or_else(wrong)?;
            if items.len() != elems.len() {
                return Err(wrong());
            }
            let mut out = Vec::with_capacity(items.len());
            for (i, (item, t)) in items.iter().zip(elems).enumerate() {
                let idx = i64::try_from(i).unwrap_or(i64::MAX);
                out.push(from_json(item, t, &path.index(idx))?);
            }
            Ok(Value::Tuple(out))
        }
        Type::Map(elem) => {
            let m = j.as_object().ok_or_else(wrong)?;
            let mut out = BTreeMap::new();
            for (k, v) in m {
                out.insert(k.clone(), from_json(v, elem, &path.key(k))?);
            }
            Ok(Value::Map(out))
        }
        Type::Object(fields) => {
            let m = j.as_object().ok_or_else(wrong)?;
            let mut out = BTreeMap::new();
            // Unknown attributes are dropped, missing ones are null: the schema moved on.
            for (k, t) in fields {
                let v = match m.get(k) {
                    None => Value::Null,
                    Some(v) => from_json(v, t, &path.at(k))?,
                };
                out.insert(k.clone(), v);
            }
            Ok(Value::Object(out))
        }
        Type::Dynamic => {
            // State stores dynamic values as {"value": ..., "type": ...}.
            let m = j.as_object().ok_or_else(wrong)?;
            let (Some(t), Some(v)) = (m.get("type"), m.get("value")) else {
                return Err(wrong());
            };
            let inner = type_from_json(t)
                .ok_or_else(|| DecodeError::new(path, format!("unsupported dynamic type {t}")))?;
            from_json(v, &inner, path)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::{Attribute, NestedBlock};

    fn block() -> Block {
        Block::new("root")
            .attribute(Attribute::string("id").computed())
            .attribute(Attribute::number("port").optional())
            .attribute(Attribute::new("tags", Type::map_of(Type::String)).optional())
            .attribute(Attribute::string("added_later").optional())
            .block(NestedBlock::list(
                "dms",
                Block::new("d").attribute(Attribute::string("task").optional()),
            ))
            .block(NestedBlock::set(
                "rules",
                Block::new("r").attribute(Attribute::string("k").optional()),
            ))
            .block(NestedBlock::single(
                "cutover",
                Block::new("c").attribute(Attribute::bool("dns").optional()),
            ))
    }

    #[test]
    fn stored_json_state_follows_the_current_schema() {
        let json = br#"{"id":"m-1","port":5432,"tags":{"a":"b"},"removed_attr":"gone",
                        "dms":[{"task":"t1","old":1}],"cutover":{"dns":true}}"#;
        let v = decode_state(json, &block()).expect("decode");
        assert_eq!(v.get("id").as_str().value(), Some("m-1"));
        assert_eq!(v.get("port").as_i64().value(), Some(5432));
        assert_eq!(v.get("tags").get("a").as_str().value(), Some("b"));
        assert!(v.get("added_later").is_null());
        assert!(v.get("removed_attr").is_null());
        assert_eq!(
            v.entries().map(|m| m.contains_key("removed_attr")),
            Some(false)
        );
        assert_eq!(v.block("dms").get("task").as_str().value(), Some("t1"));
        assert_eq!(
            v.get("dms").elements()[0].entries().map(|m| m.len()),
            Some(1)
        );
        assert_eq!(v.get("rules"), &Value::Set(vec![]));
        assert_eq!(v.get("cutover").get("dns").as_bool().value(), Some(true));
    }

    #[test]
    fn null_or_absent_list_blocks_become_empty_lists() {
        let v = decode_state(br#"{"id":"x","dms":null}"#, &block()).expect("decode");
        assert_eq!(v.get("dms"), &Value::List(vec![]));
        assert!(v.get("cutover").is_null());
    }

    #[test]
    fn json_type_errors_name_the_attribute() {
        let err = decode_state(br#"{"port":"not-a-number"}"#, &block()).expect_err("bad number");
        assert_eq!(err.path, AttributePath::attr("port"));
        let err = decode_state(br#"{"dms":[{"task":[1]}]}"#, &block()).expect_err("bad task");
        assert_eq!(err.path, AttributePath::parse("dms[0].task"));
        assert!(decode_state(b"{not json", &block()).is_err());
    }
}
