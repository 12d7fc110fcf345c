//! Terraform's value model: types and values as the plugin protocol carries them,
//! independent of the wire encoding (msgpack and JSON live in `protocol`).

use std::collections::BTreeMap;
use std::fmt;

/// A Terraform type (`cty` type).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Type {
    /// `bool`
    Bool,
    /// `number` (arbitrary precision)
    Number,
    /// `string`
    String,
    /// `dynamic`: the value carries its own type on the wire.
    Dynamic,
    /// `list(T)`
    List(Box<Type>),
    /// `set(T)`
    Set(Box<Type>),
    /// `map(T)`
    Map(Box<Type>),
    /// `object({...})`
    Object(BTreeMap<String, Type>),
    /// `tuple([...])`
    Tuple(Vec<Type>),
}

impl Type {
    /// `list(string)`, the most common collection in schemas.
    pub fn list_of(t: Type) -> Type {
        Type::List(Box::new(t))
    }
    /// `set(T)`
    pub fn set_of(t: Type) -> Type {
        Type::Set(Box::new(t))
    }
    /// `map(T)`
    pub fn map_of(t: Type) -> Type {
        Type::Map(Box::new(t))
    }
    /// `object({...})` from `(name, type)` pairs.
    pub fn object<I: IntoIterator<Item = (&'static str, Type)>>(fields: I) -> Type {
        Type::Object(fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
    }

    /// The JSON type constraint Terraform expects in `Schema.Attribute.type`
    /// (e.g. `"string"`, `["list","string"]`, `["object",{"a":"number"}]`).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::{Value as J, json};
        match self {
            Type::Bool => J::from("bool"),
            Type::Number => J::from("number"),
            Type::String => J::from("string"),
            Type::Dynamic => J::from("dynamic"),
            Type::List(t) => json!(["list", t.to_json()]),
            Type::Set(t) => json!(["set", t.to_json()]),
            Type::Map(t) => json!(["map", t.to_json()]),
            Type::Object(f) => {
                let m: serde_json::Map<String, J> =
                    f.iter().map(|(k, v)| (k.clone(), v.to_json())).collect();
                json!(["object", m])
            }
            Type::Tuple(ts) => json!(["tuple", ts.iter().map(Type::to_json).collect::<Vec<_>>()]),
        }
    }
}

/// An arbitrary-precision number, kept as canonical decimal text so no precision is lost
/// between Terraform and the provider.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Number(String);

impl Number {
    /// Parses decimal text (`"42"`, `"-1.5"`, `"1e3"`); `None` when it is not a number.
    pub fn parse(text: &str) -> Option<Number> {
        let t = text.trim();
        if t.is_empty() {
            return None;
        }
        if let Ok(i) = t.parse::<i128>() {
            return Some(Number(i.to_string()));
        }
        // Validate the grammar without losing digits: an optional sign, digits with an
        // optional fraction, and an optional exponent.
        let valid = {
            let b = t.as_bytes();
            let mut i = 0;
            if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
                i += 1;
            }
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            let mut digits = i - start;
            if i < b.len() && b[i] == b'.' {
                i += 1;
                let f = i;
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
                digits += i - f;
            }
            if digits > 0 && i < b.len() && (b[i] == b'e' || b[i] == b'E') {
                i += 1;
                if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
                    i += 1;
                }
                let e = i;
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
                if i == e {
                    return None;
                }
            }
            digits > 0 && i == b.len()
        };
        valid.then(|| Number(t.trim_start_matches('+').to_owned()))
    }
    /// A number from an integer.
    pub fn from_i64(i: i64) -> Number {
        Number(i.to_string())
    }
    /// A number from a float; `None` for NaN or infinities, which Terraform cannot hold.
    pub fn from_f64(f: f64) -> Option<Number> {
        if !f.is_finite() {
            return None;
        }
        if f.fract() == 0.0 && f.abs() < 9.0e15 {
            #[allow(clippy::cast_possible_truncation)]
            return Some(Number((f as i64).to_string()));
        }
        Some(Number(format!("{f}")))
    }
    /// The exact integer, when the number is one that fits in an `i64`.
    pub fn as_i64(&self) -> Option<i64> {
        self.0.parse::<i64>().ok().or_else(|| {
            let f = self.as_f64()?;
            #[allow(clippy::cast_possible_truncation)]
            (f.fract() == 0.0 && f.abs() < 9.0e15).then_some(f as i64)
        })
    }
    /// The nearest `f64`.
    pub fn as_f64(&self) -> Option<f64> {
        self.0.parse::<f64>().ok()
    }
    /// The canonical decimal text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A Terraform value. Objects hold every attribute of their type (null when absent), as
/// Terraform requires on the wire.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Value {
    /// A null value of any type.
    #[default]
    Null,
    /// A value not known until apply (refinements are dropped).
    Unknown,
    /// A known bool.
    Bool(bool),
    /// A known number.
    Number(Number),
    /// A known string.
    String(String),
    /// A list (also used for list-nested blocks).
    List(Vec<Value>),
    /// A set; element order is not significant.
    Set(Vec<Value>),
    /// A map.
    Map(BTreeMap<String, Value>),
    /// An object (also used for single-nested blocks and the root block).
    Object(BTreeMap<String, Value>),
    /// A tuple.
    Tuple(Vec<Value>),
}

/// A typed view of one value: known, null or unknown, with `Option`-like helpers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Known<T> {
    /// The value is known.
    Value(T),
    /// The value is null.
    Null,
    /// The value is unknown (computed later, or not yet decided at plan time).
    Unknown,
}

impl<T> Known<T> {
    /// The known value, or `None` for null and unknown.
    pub fn value(self) -> Option<T> {
        match self {
            Known::Value(v) => Some(v),
            _ => None,
        }
    }
    /// True when the value is unknown.
    pub fn is_unknown(&self) -> bool {
        matches!(self, Known::Unknown)
    }
    /// True when the value is null.
    pub fn is_null(&self) -> bool {
        matches!(self, Known::Null)
    }
    /// Maps the known value.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Known<U> {
        match self {
            Known::Value(v) => Known::Value(f(v)),
            Known::Null => Known::Null,
            Known::Unknown => Known::Unknown,
        }
    }
}

static NULL: Value = Value::Null;

impl Value {
    /// A string value.
    pub fn string(s: impl Into<String>) -> Value {
        Value::String(s.into())
    }
    /// A number value from an integer.
    pub fn int(i: i64) -> Value {
        Value::Number(Number::from_i64(i))
    }
    /// A string, or null for `None`.
    pub fn opt_string(s: Option<impl Into<String>>) -> Value {
        s.map_or(Value::Null, |s| Value::String(s.into()))
    }
    /// A number, or null for `None`.
    pub fn opt_int(i: Option<i64>) -> Value {
        i.map_or(Value::Null, Value::int)
    }
    /// A bool, or null for `None`.
    pub fn opt_bool(b: Option<bool>) -> Value {
        b.map_or(Value::Null, Value::Bool)
    }
    /// A map of strings.
    pub fn string_map<'a, I: IntoIterator<Item = (&'a String, &'a String)>>(m: I) -> Value {
        Value::Map(
            m.into_iter()
                .map(|(k, v)| (k.clone(), Value::string(v.clone())))
                .collect(),
        )
    }
    /// A list of strings.
    pub fn string_list<S: AsRef<str>, I: IntoIterator<Item = S>>(items: I) -> Value {
        Value::List(
            items
                .into_iter()
                .map(|s| Value::string(s.as_ref()))
                .collect(),
        )
    }

    /// True for null.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
    /// True for an unknown value (only the value itself, not its elements).
    pub fn is_unknown(&self) -> bool {
        matches!(self, Value::Unknown)
    }
    /// True when the value or anything inside it is unknown.
    pub fn contains_unknown(&self) -> bool {
        match self {
            Value::Unknown => true,
            Value::List(v) | Value::Set(v) | Value::Tuple(v) => {
                v.iter().any(Value::contains_unknown)
            }
            Value::Map(m) | Value::Object(m) => m.values().any(Value::contains_unknown),
            _ => false,
        }
    }

    /// The attribute `name` of an object (null when absent or when `self` is not an object).
    pub fn get(&self, name: &str) -> &Value {
        match self {
            Value::Object(m) | Value::Map(m) => m.get(name).unwrap_or(&NULL),
            _ => &NULL,
        }
    }
    /// Mutable access to attribute `name` of an object (inserted as null when absent).
    /// Does nothing useful on non-objects: returns a scratch null.
    pub fn get_mut(&mut self, name: &str) -> Option<&mut Value> {
        match self {
            Value::Object(m) => Some(m.entry(name.to_owned()).or_insert(Value::Null)),
            _ => None,
        }
    }
    /// Sets attribute `name` of an object; ignored when `self` is not an object.
    pub fn set(&mut self, name: &str, v: Value) {
        if let Value::Object(m) = self {
            m.insert(name.to_owned(), v);
        }
    }
    /// The single element of a single/list-nested block with at most one item, or the
    /// object itself for a single-nested block; null when absent.
    pub fn block(&self, name: &str) -> &Value {
        match self.get(name) {
            Value::List(v) | Value::Set(v) => v.first().unwrap_or(&NULL),
            other => other,
        }
    }

    /// Typed view as a string.
    pub fn as_str(&self) -> Known<&str> {
        match self {
            Value::String(s) => Known::Value(s),
            Value::Unknown => Known::Unknown,
            _ => Known::Null,
        }
    }
    /// Typed view as a bool.
    pub fn as_bool(&self) -> Known<bool> {
        match self {
            Value::Bool(b) => Known::Value(*b),
            Value::Unknown => Known::Unknown,
            _ => Known::Null,
        }
    }
    /// Typed view as an integer (null when not a whole number).
    pub fn as_i64(&self) -> Known<i64> {
        match self {
            Value::Number(n) => n.as_i64().map_or(Known::Null, Known::Value),
            Value::Unknown => Known::Unknown,
            _ => Known::Null,
        }
    }
    /// Typed view as a float.
    pub fn as_f64(&self) -> Known<f64> {
        match self {
            Value::Number(n) => n.as_f64().map_or(Known::Null, Known::Value),
            Value::Unknown => Known::Unknown,
            _ => Known::Null,
        }
    }
    /// Elements of a list, set or tuple (empty for null/unknown).
    pub fn elements(&self) -> &[Value] {
        match self {
            Value::List(v) | Value::Set(v) | Value::Tuple(v) => v,
            _ => &[],
        }
    }
    /// Entries of a map or object (`None` for null/unknown).
    pub fn entries(&self) -> Option<&BTreeMap<String, Value>> {
        match self {
            Value::Map(m) | Value::Object(m) => Some(m),
            _ => None,
        }
    }

    /// The null value shaped for `ty`: for an object type, an object with every attribute
    /// null (useful for building state); otherwise null.
    pub fn null_object(ty: &Type) -> Value {
        match ty {
            Type::Object(f) => Value::Object(f.keys().map(|k| (k.clone(), Value::Null)).collect()),
            _ => Value::Null,
        }
    }

    /// Semantic equality: sets compare without order.
    pub fn semantic_eq(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Set(a), Value::Set(b)) => {
                a.len() == b.len() && a.iter().all(|x| b.iter().any(|y| x.semantic_eq(y)))
            }
            (Value::List(a), Value::List(b)) | (Value::Tuple(a), Value::Tuple(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.semantic_eq(y))
            }
            (Value::Map(a), Value::Map(b)) | (Value::Object(a), Value::Object(b)) => {
                a.len() == b.len()
                    && a.iter()
                        .all(|(k, v)| b.get(k).is_some_and(|w| v.semantic_eq(w)))
            }
            _ => self == other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_keep_their_digits_and_reject_garbage() {
        assert_eq!(
            Number::parse("12345678901234567890123").map(|n| n.to_string()),
            Some("12345678901234567890123".to_owned())
        );
        assert_eq!(
            Number::parse("-1.50").map(|n| n.to_string()),
            Some("-1.50".to_owned())
        );
        assert_eq!(Number::parse("1e3").and_then(|n| n.as_i64()), Some(1000));
        assert!(Number::parse("1e").is_none());
        assert!(Number::parse("abc").is_none());
        assert!(Number::parse(".").is_none());
        assert_eq!(
            Number::from_f64(3.0).map(|n| n.to_string()),
            Some("3".to_owned())
        );
        assert!(Number::from_f64(f64::NAN).is_none());
    }

    #[test]
    fn object_accessors_treat_missing_attributes_as_null() {
        let mut v = Value::null_object(&Type::object([("a", Type::String)]));
        assert!(v.get("a").is_null());
        assert!(v.get("missing").is_null());
        v.set("a", Value::string("x"));
        assert_eq!(v.get("a").as_str(), Known::Value("x"));
        assert!(Value::List(vec![Value::Unknown]).contains_unknown());
    }

    #[test]
    fn sets_compare_without_order() {
        let a = Value::Set(vec![Value::string("x"), Value::string("y")]);
        let b = Value::Set(vec![Value::string("y"), Value::string("x")]);
        assert!(a.semantic_eq(&b));
        assert_ne!(a, b);
    }
}
