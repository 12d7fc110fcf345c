//! Declarative schemas: one definition feeds GetProviderSchema, value decoding, planning
//! and the generated documentation.

use std::collections::BTreeMap;

use std::sync::Arc;

use super::diag::Diagnostics;
use super::path::AttributePath;
use super::validator::{StringValidator, Validators};
use super::value::{Type, Value};

/// A versioned schema (provider, resource or data source).
#[derive(Debug, Clone, PartialEq)]
pub struct Schema {
    /// Bumped when stored state needs upgrading.
    pub version: i64,
    /// The root block.
    pub block: Block,
}

impl Schema {
    /// A version-0 schema over `block`.
    pub fn new(block: Block) -> Self {
        Self { version: 0, block }
    }
    /// The object type of values of this schema.
    pub fn value_type(&self) -> Type {
        self.block.value_type()
    }
}

/// A block: attributes and nested blocks.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Block {
    /// Attributes, in declaration order.
    pub attributes: Vec<Attribute>,
    /// Nested blocks, in declaration order.
    pub blocks: Vec<NestedBlock>,
    /// Markdown description (shown in docs and `terraform providers schema`).
    pub description: String,
    /// Deprecation flag.
    pub deprecated: bool,
}

impl Block {
    /// A block with a description.
    pub fn new(description: impl Into<String>) -> Self {
        Self {
            description: description.into(),
            ..Self::default()
        }
    }
    /// Adds an attribute.
    #[must_use]
    pub fn attribute(mut self, a: Attribute) -> Self {
        self.attributes.push(a);
        self
    }
    /// Adds a nested block.
    #[must_use]
    pub fn block(mut self, b: NestedBlock) -> Self {
        self.blocks.push(b);
        self
    }
    /// The attribute called `name`.
    pub fn find_attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }
    /// The nested block called `name`.
    pub fn find_block(&self, name: &str) -> Option<&NestedBlock> {
        self.blocks.iter().find(|b| b.name == name)
    }
    /// The object type of this block's values: attributes by their type, nested blocks as
    /// object (single), list or set of objects.
    pub fn value_type(&self) -> Type {
        let mut fields: BTreeMap<String, Type> = self
            .attributes
            .iter()
            .map(|a| (a.name.clone(), a.ty.clone()))
            .collect();
        for b in &self.blocks {
            let inner = b.block.value_type();
            let t = match b.nesting {
                Nesting::Single | Nesting::Group => inner,
                Nesting::List => Type::List(Box::new(inner)),
                Nesting::Set => Type::Set(Box::new(inner)),
            };
            fields.insert(b.name.clone(), t);
        }
        Type::Object(fields)
    }
    /// Runs every attribute's validators over `config` (a value of this block at `path`),
    /// in the root and in every nested block instance, adding errors that name the
    /// attribute's path. Null and unknown values pass. Elements of set blocks have no
    /// address: their errors name the block.
    pub fn validate_values(&self, config: &Value, path: &AttributePath, diags: &mut Diagnostics) {
        if !matches!(config, Value::Object(_)) {
            return;
        }
        for a in &self.attributes {
            if let Some(s) = config.get(&a.name).as_str().value() {
                let at = path.at(&a.name);
                for v in &a.validators.0 {
                    v.validate(&at, s, diags);
                }
            }
        }
        for b in &self.blocks {
            let at = path.at(&b.name);
            let child = config.get(&b.name);
            match b.nesting {
                Nesting::Single | Nesting::Group => b.block.validate_values(child, &at, diags),
                Nesting::List => {
                    for (i, item) in (0_i64..).zip(child.elements()) {
                        b.block.validate_values(item, &at.index(i), diags);
                    }
                }
                Nesting::Set => {
                    for item in child.elements() {
                        b.block.validate_values(item, &at, diags);
                    }
                }
            }
        }
    }
    /// An object value for this block with every attribute null and every collection
    /// block empty, the shape Terraform wants for "nothing set".
    pub fn empty_value(&self) -> Value {
        let mut m: BTreeMap<String, Value> = self
            .attributes
            .iter()
            .map(|a| (a.name.clone(), Value::Null))
            .collect();
        for b in &self.blocks {
            let v = match b.nesting {
                Nesting::Single => Value::Null,
                Nesting::Group => b.block.empty_value(),
                Nesting::List => Value::List(Vec::new()),
                Nesting::Set => Value::Set(Vec::new()),
            };
            m.insert(b.name.clone(), v);
        }
        Value::Object(m)
    }
}

/// How a nested block repeats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nesting {
    /// At most one, as an object (null when absent).
    Single,
    /// Exactly one object, always present (absent = all attributes null).
    Group,
    /// An ordered list of objects (`[]` when absent).
    List,
    /// A set of objects (`[]` when absent).
    Set,
}

/// A nested block.
#[derive(Debug, Clone, PartialEq)]
pub struct NestedBlock {
    /// The block type name.
    pub name: String,
    /// How it repeats.
    pub nesting: Nesting,
    /// Its contents.
    pub block: Block,
    /// Minimum number of items (list/set).
    pub min_items: i64,
    /// Maximum number of items (list/set; 0 = unlimited).
    pub max_items: i64,
}

impl NestedBlock {
    /// A single-nested block (at most one, object valued).
    pub fn single(name: &str, block: Block) -> Self {
        Self {
            name: name.to_owned(),
            nesting: Nesting::Single,
            block,
            min_items: 0,
            max_items: 0,
        }
    }
    /// A list-nested block.
    pub fn list(name: &str, block: Block) -> Self {
        Self {
            name: name.to_owned(),
            nesting: Nesting::List,
            block,
            min_items: 0,
            max_items: 0,
        }
    }
    /// A set-nested block.
    pub fn set(name: &str, block: Block) -> Self {
        Self {
            name: name.to_owned(),
            nesting: Nesting::Set,
            block,
            min_items: 0,
            max_items: 0,
        }
    }
    /// Sets min/max items.
    #[must_use]
    pub fn items(mut self, min: i64, max: i64) -> Self {
        self.min_items = min;
        self.max_items = max;
        self
    }
}

/// One attribute.
#[derive(Debug, Clone, PartialEq)]
pub struct Attribute {
    /// Its name.
    pub name: String,
    /// Its type.
    pub ty: Type,
    /// Markdown description.
    pub description: String,
    /// Must be set in configuration.
    pub required: bool,
    /// May be set in configuration.
    pub optional: bool,
    /// Set by the provider (with `optional`: defaulted by the provider when absent).
    pub computed: bool,
    /// Redacted in plan output.
    pub sensitive: bool,
    /// Never stored in plan or state (Terraform >= 1.11).
    pub write_only: bool,
    /// Deprecated.
    pub deprecated: bool,
    /// Changing it forces replacement (applied by the server's planning).
    pub requires_replace: bool,
    /// The value planned when the attribute is null or unknown in the proposed new state, for
    /// an `optional` + `computed` attribute, also inside nested blocks that are present
    /// (applied by the server's planning, before the resource's own `plan`, so the resource
    /// reads it as set).
    pub default: Option<Value>,
    /// Checks of its configured value, run by the server when it validates a configuration
    /// ([`Block::validate_values`]).
    pub validators: Validators,
}

impl Attribute {
    /// An attribute of type `ty`; chain `required()`, `optional()`, `computed()`.
    pub fn new(name: &str, ty: Type) -> Self {
        Self {
            name: name.to_owned(),
            ty,
            description: String::new(),
            required: false,
            optional: false,
            computed: false,
            sensitive: false,
            write_only: false,
            deprecated: false,
            requires_replace: false,
            default: None,
            validators: Validators::default(),
        }
    }
    /// A string attribute.
    pub fn string(name: &str) -> Self {
        Self::new(name, Type::String)
    }
    /// A number attribute.
    pub fn number(name: &str) -> Self {
        Self::new(name, Type::Number)
    }
    /// A bool attribute.
    pub fn bool(name: &str) -> Self {
        Self::new(name, Type::Bool)
    }
    /// Must be configured.
    #[must_use]
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }
    /// May be configured.
    #[must_use]
    pub fn optional(mut self) -> Self {
        self.optional = true;
        self
    }
    /// Set by the provider.
    #[must_use]
    pub fn computed(mut self) -> Self {
        self.computed = true;
        self
    }
    /// Redacted in plans.
    #[must_use]
    pub fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }
    /// Never persisted (implies optional + sensitive).
    #[must_use]
    pub fn write_only(mut self) -> Self {
        self.write_only = true;
        self.sensitive = true;
        self
    }
    /// Replacing on change.
    #[must_use]
    pub fn requires_replace(mut self) -> Self {
        self.requires_replace = true;
        self
    }
    /// Planned as `v` when null or unknown (see [`Attribute::default`]); only meaningful with
    /// `optional()` + `computed()`.
    #[must_use]
    pub fn default(mut self, v: Value) -> Self {
        self.default = Some(v);
        self
    }
    /// Adds a check of the configured value (see [`Attribute::validators`]).
    #[must_use]
    pub fn validate(mut self, v: impl StringValidator + 'static) -> Self {
        self.validators.0.push(Arc::new(v));
        self
    }
    /// Deprecated.
    #[must_use]
    pub fn deprecated(mut self) -> Self {
        self.deprecated = true;
        self
    }
    /// The description.
    #[must_use]
    pub fn description(mut self, d: impl Into<String>) -> Self {
        self.description = d.into();
        self
    }
}
