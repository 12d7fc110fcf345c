//! Renders a schema as the registry-style "Schema" section of a documentation page, so the
//! docs under `docs/` come from the same descriptions Terraform shows (one source of truth).

use std::fmt::Write as _;

use super::schema::{Attribute, Block, Nesting};
use super::value::Type;

fn type_name(t: &Type) -> String {
    match t {
        Type::Bool => "Boolean".into(),
        Type::Number => "Number".into(),
        Type::String => "String".into(),
        Type::Dynamic => "Dynamic".into(),
        Type::List(e) => format!("List of {}", type_name(e)),
        Type::Set(e) => format!("Set of {}", type_name(e)),
        Type::Map(e) => format!("Map of {}", type_name(e)),
        Type::Object(_) => "Object".into(),
        Type::Tuple(_) => "Tuple".into(),
    }
}

fn attribute_line(a: &Attribute) -> String {
    let mut flags = vec![type_name(&a.ty)];
    if a.sensitive {
        flags.push("Sensitive".into());
    }
    if a.write_only {
        flags.push("Write-only".into());
    }
    if a.requires_replace {
        flags.push("Forces replacement".into());
    }
    if a.deprecated {
        flags.push("Deprecated".into());
    }
    format!("- `{}` ({}) {}\n", a.name, flags.join(", "), a.description)
}

/// The "Schema" section for `block`: required, optional and read-only attributes, then one
/// "Nested Schema" section per nested block.
pub fn render_schema(block: &Block) -> String {
    let mut out = String::from("## Schema\n");
    render_block(block, "", &mut out);
    out
}

fn render_block(block: &Block, prefix: &str, out: &mut String) {
    type Pick = fn(&Attribute) -> bool;
    let groups: [(&str, Pick); 3] = [
        ("Required", |a| a.required),
        ("Optional", |a| a.optional),
        ("Read-Only", |a| a.computed && !a.optional && !a.required),
    ];
    for (title, pick) in groups {
        let attrs: Vec<&Attribute> = block.attributes.iter().filter(|a| pick(a)).collect();
        let blocks: Vec<_> = block
            .blocks
            .iter()
            .filter(|b| match title {
                "Required" => b.min_items > 0,
                "Optional" => b.min_items == 0,
                _ => false,
            })
            .collect();
        if attrs.is_empty() && blocks.is_empty() {
            continue;
        }
        let _ = write!(out, "\n### {title}\n\n");
        for a in attrs {
            out.push_str(&attribute_line(a));
        }
        for b in blocks {
            let kind = match b.nesting {
                Nesting::Single | Nesting::Group => "Block",
                Nesting::List => "Block List",
                Nesting::Set => "Block Set",
            };
            let anchor = format!("{prefix}{}", b.name);
            let _ = writeln!(
                out,
                "- `{}` ({kind}) {} (see [below for nested schema](#nested-schema-for-{}))",
                b.name,
                b.block.description,
                anchor.replace('.', "--")
            );
        }
    }
    for b in &block.blocks {
        let path = format!("{prefix}{}", b.name);
        let _ = write!(
            out,
            "\n<a id=\"nested-schema-for-{}\"></a>\n### Nested Schema for `{path}`\n",
            path.replace('.', "--")
        );
        render_block(&b.block, &format!("{path}."), out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::{Attribute, NestedBlock};

    #[test]
    fn every_attribute_is_listed_with_its_description_under_its_kind() {
        let b = Block::new("x")
            .attribute(
                Attribute::string("name")
                    .required()
                    .description("The name."),
            )
            .attribute(
                Attribute::string("pw")
                    .optional()
                    .write_only()
                    .description("A password."),
            )
            .attribute(Attribute::string("arn").computed().description("The ARN."))
            .block(NestedBlock::single(
                "inner",
                Block::new("Inner.")
                    .attribute(Attribute::bool("on").optional().description("Switch.")),
            ));
        let md = render_schema(&b);
        assert!(md.contains("### Required\n\n- `name` (String) The name."));
        assert!(md.contains("- `pw` (String, Sensitive, Write-only) A password."));
        assert!(md.contains("### Read-Only\n\n- `arn` (String) The ARN."));
        assert!(md.contains("### Nested Schema for `inner`"));
        assert!(md.contains("- `on` (Boolean) Switch."));
    }
}
