//! Helpers over the value tree: write-only nulling, unknown marking, defaults, and the
//! comparisons that find which configured or planned value changed.

use super::*;

/// Applies `f` to every object of `block` inside `v` (the root and nested block instances).
pub(super) fn for_each_block_object(
    block: &Block,
    v: &mut Value,
    f: &mut dyn FnMut(&Block, &mut Value),
) {
    if !matches!(v, Value::Object(_)) {
        return;
    }
    f(block, v);
    for nb in &block.blocks {
        let Some(child) = v.get_mut(&nb.name) else {
            continue;
        };
        match nb.nesting {
            Nesting::Single | Nesting::Group => for_each_block_object(&nb.block, child, f),
            Nesting::List | Nesting::Set => {
                if let Value::List(items) | Value::Set(items) = child {
                    for item in items {
                        for_each_block_object(&nb.block, item, f);
                    }
                }
            }
        }
    }
}

/// Sets every write-only attribute to null, at any depth.
pub(crate) fn null_write_only(block: &Block, v: &mut Value) {
    for_each_block_object(block, v, &mut |b, obj| {
        for a in b.attributes.iter().filter(|a| a.write_only) {
            obj.set(&a.name, Value::Null);
        }
    });
}

/// A configured value that is unknown until apply stays unknown in the plan: Terraform
/// rejects a plan that replaces it (a resource filling in defaults cannot tell "unset" from
/// "unknown" in the proposed state, where both are unknown on create).
pub(crate) fn keep_unknown_configured(block: &Block, config: &Value, planned: &mut Value) {
    if config.is_null() || config.is_unknown() || planned.is_null() || planned.is_unknown() {
        return;
    }
    for a in block.attributes.iter().filter(|a| !a.write_only) {
        if config.get(&a.name).is_unknown() && !planned.get(&a.name).is_unknown() {
            planned.set(&a.name, Value::Unknown);
        }
    }
    for nb in &block.blocks {
        let c = config.get(&nb.name);
        let mut p = planned.get(&nb.name).clone();
        match nb.nesting {
            Nesting::Single | Nesting::Group => keep_unknown_configured(&nb.block, c, &mut p),
            Nesting::List => {
                let Value::List(items) = &mut p else { continue };
                if items.len() != c.elements().len() {
                    continue;
                }
                for (x, y) in c.elements().iter().zip(items.iter_mut()) {
                    keep_unknown_configured(&nb.block, x, y);
                }
            }
            // Set elements have no address to pair them by.
            Nesting::Set => continue,
        }
        planned.set(&nb.name, p);
    }
}

/// On create, computed attributes that nothing set become unknown ("known after apply"),
/// in the root and in every nested block instance that exists.
pub(crate) fn mark_computed_unknown(block: &Block, v: &mut Value) {
    for_each_block_object(block, v, &mut |b, obj| {
        for a in b.attributes.iter().filter(|a| a.computed && !a.write_only) {
            if obj.get(&a.name).is_null() {
                obj.set(&a.name, Value::Unknown);
            }
        }
    });
}

/// Plans each attribute's schema default where the planned value is null or unknown, in the
/// root and in every nested block instance that exists (after `mark_computed_unknown`, so on
/// create every unset default applies; on update the proposed state carries the prior value,
/// which is kept). An unknown configured value is restored afterwards by
/// `keep_unknown_configured`.
pub(super) fn apply_defaults(block: &Block, planned: &mut Value) {
    for_each_block_object(block, planned, &mut |b, obj| {
        for a in &b.attributes {
            if let Some(d) = &a.default {
                let v = obj.get(&a.name);
                if v.is_null() || v.is_unknown() {
                    obj.set(&a.name, d.clone());
                }
            }
        }
    });
}

/// Collects the paths of `requires_replace` attributes whose planned value differs from the
/// prior state (an unknown planned value counts as a change).
pub(super) fn replace_paths(
    block: &Block,
    prior: &Value,
    planned: &Value,
    path: &AttributePath,
    out: &mut Vec<AttributePath>,
) {
    for a in block.attributes.iter().filter(|a| a.requires_replace) {
        let before = prior.get(&a.name);
        let after = planned.get(&a.name);
        if !before.semantic_eq(after) {
            out.push(path.at(&a.name));
        }
    }
    for nb in &block.blocks {
        let (p, q) = (prior.get(&nb.name), planned.get(&nb.name));
        let bp = path.at(&nb.name);
        match nb.nesting {
            Nesting::Single | Nesting::Group => replace_paths(&nb.block, p, q, &bp, out),
            Nesting::List => {
                for (i, (x, y)) in p.elements().iter().zip(q.elements()).enumerate() {
                    let idx = i64::try_from(i).unwrap_or(i64::MAX);
                    replace_paths(&nb.block, x, y, &bp.index(idx), out);
                }
            }
            // Set elements have no stable address; a changed set block counts as a whole.
            Nesting::Set => {
                if nb.block.attributes.iter().any(|a| a.requires_replace) && !p.semantic_eq(q) {
                    out.push(bp);
                }
            }
        }
    }
}

/// The path of the first attribute that is not computed (so Terraform requires its planned
/// value to equal the configuration) whose planned value differs from the configuration.
pub(super) fn changed_configured_value(
    block: &Block,
    config: &Value,
    planned: &Value,
    path: &AttributePath,
) -> Option<AttributePath> {
    for a in block
        .attributes
        .iter()
        .filter(|a| !a.computed && !a.write_only)
    {
        if !config.get(&a.name).semantic_eq(planned.get(&a.name)) {
            return Some(path.at(&a.name));
        }
    }
    for nb in &block.blocks {
        let (c, p) = (config.get(&nb.name), planned.get(&nb.name));
        let bp = path.at(&nb.name);
        let found = match nb.nesting {
            Nesting::Single | Nesting::Group => {
                if c.is_null() || p.is_null() || c.is_unknown() || p.is_unknown() {
                    None
                } else {
                    changed_configured_value(&nb.block, c, p, &bp)
                }
            }
            Nesting::List => {
                c.elements()
                    .iter()
                    .zip(p.elements())
                    .enumerate()
                    .find_map(|(i, (x, y))| {
                        let idx = i64::try_from(i).unwrap_or(i64::MAX);
                        changed_configured_value(&nb.block, x, y, &bp.index(idx))
                    })
            }
            // Set elements have no address to compare by.
            Nesting::Set => None,
        };
        if found.is_some() {
            return found;
        }
    }
    None
}

/// The path of the first unknown value in `v`.
pub(crate) fn first_unknown(v: &Value, path: &AttributePath) -> Option<AttributePath> {
    match v {
        Value::Unknown => Some(path.clone()),
        Value::List(items) | Value::Set(items) | Value::Tuple(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, x)| first_unknown(x, &path.index(i64::try_from(i).unwrap_or(i64::MAX)))),
        Value::Object(m) => m.iter().find_map(|(k, x)| first_unknown(x, &path.at(k))),
        Value::Map(m) => m.iter().find_map(|(k, x)| first_unknown(x, &path.key(k))),
        _ => None,
    }
}

/// Replaces every unknown with null.
pub(super) fn strip_unknowns(v: &mut Value) {
    match v {
        Value::Unknown => *v = Value::Null,
        Value::List(items) | Value::Set(items) | Value::Tuple(items) => {
            items.iter_mut().for_each(strip_unknowns);
        }
        Value::Map(m) | Value::Object(m) => m.values_mut().for_each(strip_unknowns),
        _ => {}
    }
}

pub(super) fn numbers_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            x == y || matches!((x.as_f64(), y.as_f64()), (Some(p), Some(q)) if p == q)
        }
        _ => false,
    }
}

/// The path of the first known planned value that `new` does not carry unchanged.
pub(crate) fn changed_known_value(
    planned: &Value,
    new: &Value,
    path: &AttributePath,
) -> Option<AttributePath> {
    match (planned, new) {
        (Value::Unknown, _) => None,
        (Value::List(a), Value::List(b)) | (Value::Tuple(a), Value::Tuple(b)) => {
            if a.len() != b.len() {
                return Some(path.clone());
            }
            a.iter().zip(b).enumerate().find_map(|(i, (x, y))| {
                changed_known_value(x, y, &path.index(i64::try_from(i).unwrap_or(i64::MAX)))
            })
        }
        // Set elements have no address: compare whole sets once they are fully known.
        (Value::Set(_), Value::Set(_)) => {
            (!planned.contains_unknown() && !planned.semantic_eq(new)).then(|| path.clone())
        }
        (Value::Object(a), Value::Object(b)) => a.iter().find_map(|(k, x)| {
            changed_known_value(x, b.get(k).unwrap_or(&Value::Null), &path.at(k))
        }),
        (Value::Map(a), Value::Map(b)) => {
            if a.len() != b.len() || a.keys().any(|k| !b.contains_key(k)) {
                return Some(path.clone());
            }
            a.iter().find_map(|(k, x)| {
                changed_known_value(x, b.get(k).unwrap_or(&Value::Null), &path.key(k))
            })
        }
        (Value::Number(_), Value::Number(_)) => {
            (!numbers_equal(planned, new)).then(|| path.clone())
        }
        _ => (planned != new).then(|| path.clone()),
    }
}
