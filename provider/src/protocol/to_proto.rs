//! The server's hand-written types to wire messages. Pure functions.

use crate::framework::{
    Attribute, AttributePath, Block, Diagnostic, Diagnostics, NestedBlock, Nesting, PathStep,
    Schema, Severity,
};

use super::server::WireValue;
use super::tfplugin6 as pb;
use pb::attribute_path::step::Selector;
use pb::schema::nested_block::NestingMode;

/// A wire value as a `DynamicValue`.
pub(crate) fn dynamic(v: Option<WireValue>) -> Option<pb::DynamicValue> {
    v.map(|w| pb::DynamicValue {
        msgpack: w.msgpack,
        json: w.json,
    })
}

/// An attribute path.
pub(crate) fn attribute_path(p: &AttributePath) -> pb::AttributePath {
    pb::AttributePath {
        steps: p
            .0
            .iter()
            .map(|s| pb::attribute_path::Step {
                selector: Some(match s {
                    PathStep::Attribute(a) => Selector::AttributeName(a.clone()),
                    PathStep::ElementKeyString(k) => Selector::ElementKeyString(k.clone()),
                    PathStep::ElementKeyInt(i) => Selector::ElementKeyInt(*i),
                }),
            })
            .collect(),
    }
}

/// One diagnostic.
pub(crate) fn diagnostic(d: &Diagnostic) -> pb::Diagnostic {
    pb::Diagnostic {
        severity: match d.severity {
            Severity::Error => pb::diagnostic::Severity::Error,
            Severity::Warning => pb::diagnostic::Severity::Warning,
        } as i32,
        summary: d.summary.clone(),
        detail: d.detail.clone(),
        attribute: d.attribute.as_ref().map(attribute_path),
    }
}

/// Every diagnostic, in order.
pub(crate) fn diagnostics(d: &Diagnostics) -> Vec<pb::Diagnostic> {
    d.iter().map(diagnostic).collect()
}

/// A schema; descriptions are markdown.
pub(crate) fn schema(s: &Schema) -> pb::Schema {
    pb::Schema {
        version: s.version,
        block: Some(block(&s.block)),
    }
}

fn block(b: &Block) -> pb::schema::Block {
    pb::schema::Block {
        version: 0,
        attributes: b.attributes.iter().map(attribute).collect(),
        block_types: b.blocks.iter().map(nested_block).collect(),
        description: b.description.clone(),
        description_kind: pb::StringKind::Markdown as i32,
        deprecated: b.deprecated,
    }
}

fn attribute(a: &Attribute) -> pb::schema::Attribute {
    pb::schema::Attribute {
        name: a.name.clone(),
        // Serialising a `serde_json::Value` cannot fail.
        r#type: serde_json::to_vec(&a.ty.to_json()).unwrap_or_default(),
        nested_type: None,
        description: a.description.clone(),
        required: a.required,
        // A write-only attribute is configurable: Terraform requires optional or required.
        optional: a.optional || (a.write_only && !a.required),
        computed: a.computed,
        sensitive: a.sensitive,
        description_kind: pb::StringKind::Markdown as i32,
        deprecated: a.deprecated,
        write_only: a.write_only,
    }
}

fn nested_block(n: &NestedBlock) -> pb::schema::NestedBlock {
    pb::schema::NestedBlock {
        type_name: n.name.clone(),
        block: Some(block(&n.block)),
        nesting: match n.nesting {
            Nesting::Single => NestingMode::Single,
            Nesting::Group => NestingMode::Group,
            Nesting::List => NestingMode::List,
            Nesting::Set => NestingMode::Set,
        } as i32,
        min_items: n.min_items,
        max_items: n.max_items,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::Type;

    #[test]
    fn schemas_carry_json_types_markdown_descriptions_and_write_only() {
        let s = Schema::new(
            Block::new("The **migration**.")
                .attribute(Attribute::new("ids", Type::list_of(Type::String)).computed())
                .attribute(
                    Attribute::string("password")
                        .write_only()
                        .description("Never stored."),
                )
                .block(NestedBlock::list("dms", Block::new("DMS")).items(0, 1)),
        );
        let p = schema(&s);
        let b = p.block.expect("block");
        assert_eq!(b.description_kind, pb::StringKind::Markdown as i32);
        assert_eq!(b.attributes[0].r#type, br#"["list","string"]"#.to_vec());
        let pw = &b.attributes[1];
        assert!(pw.write_only && pw.sensitive && pw.optional);
        assert_eq!(pw.description, "Never stored.");
        assert_eq!(b.block_types[0].nesting, NestingMode::List as i32);
        assert_eq!(b.block_types[0].max_items, 1);
    }

    #[test]
    fn diagnostics_keep_severity_and_attribute_path() {
        let mut d = Diagnostics::new();
        d.attribute_error(
            AttributePath::parse("dms[0].tags").key("k"),
            "Bad",
            "Fix it.",
        );
        d.warning("Careful", "Read this.");
        let out = diagnostics(&d);
        assert_eq!(out[0].severity, pb::diagnostic::Severity::Error as i32);
        let steps = &out[0].attribute.as_ref().expect("path").steps;
        assert_eq!(steps.len(), 4);
        assert_eq!(steps[1].selector, Some(Selector::ElementKeyInt(0)));
        assert_eq!(
            steps[3].selector,
            Some(Selector::ElementKeyString("k".into()))
        );
        assert_eq!(out[1].severity, pb::diagnostic::Severity::Warning as i32);
        assert!(out[1].attribute.is_none());
    }
}
