//! Attribute validators: tiny types declared on the schema ([`Attribute::validate`]), run by
//! the server on every configuration it validates, as terraform-plugin-framework's
//! `validator.String`. A validator checks one known string; null and unknown values pass
//! (unknown ones are checked again once known, at apply).
//!
//! [`Attribute::validate`]: super::Attribute::validate

use std::fmt;
use std::sync::Arc;

use super::diag::Diagnostics;
use super::path::AttributePath;

/// The title-case summary every validator uses for a bad value.
pub(crate) const INVALID: &str = "Invalid Attribute Value";

/// A check of one string value.
pub trait StringValidator: Send + Sync {
    /// What a valid value looks like, in plain words ("one of: a, b").
    fn description(&self) -> String;
    /// Why `value` does not fit, as the rest of a sentence that begins with the attribute's
    /// path (`is "x"; it must be ...`); `None` when it fits.
    fn rejection(&self, value: &str) -> Option<String>;
    /// Checks `value`; adds an error on `path` when it does not fit.
    fn validate(&self, path: &AttributePath, value: &str, diags: &mut Diagnostics) {
        if let Some(why) = self.rejection(value) {
            diags.attribute_error(path.clone(), INVALID, format!("{path} {why}"));
        }
    }
}

/// The validators declared on one attribute, in declaration order. Compared and printed by
/// their descriptions (a schema is data; its validators are what they accept).
#[derive(Clone, Default)]
pub struct Validators(pub Vec<Arc<dyn StringValidator>>);

impl Validators {
    fn descriptions(&self) -> Vec<String> {
        self.0.iter().map(|v| v.description()).collect()
    }
}

impl fmt::Debug for Validators {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.descriptions()).finish()
    }
}

impl PartialEq for Validators {
    fn eq(&self, other: &Self) -> bool {
        self.descriptions() == other.descriptions()
    }
}

#[cfg(test)]
mod tests {
    use crate::framework::{Attribute, AttributePath, Block, Diagnostics, NestedBlock, Value};
    use crate::validators::one_of;

    #[test]
    fn schema_validators_run_on_known_strings_at_every_depth_naming_the_path() {
        let mode = || {
            Attribute::string("mode")
                .optional()
                .validate(one_of(&["a", "b"]))
        };
        let inner = Block::new("i").attribute(mode());
        let block = Block::new("r")
            .attribute(mode())
            .block(NestedBlock::single("one", inner.clone()))
            .block(NestedBlock::list("many", inner));
        let with_mode = |v: Value| Value::Object([("mode".to_owned(), v)].into());
        let mut config = with_mode(Value::string("x"));
        config.set("one", with_mode(Value::Unknown));
        config.set(
            "many",
            Value::List(vec![
                with_mode(Value::string("a")),
                with_mode(Value::string("z")),
                with_mode(Value::Null),
            ]),
        );
        let mut d = Diagnostics::new();
        block.validate_values(&config, &AttributePath::root(), &mut d);
        assert_eq!(d.attribute_paths(), ["mode", "many[1].mode"]);
        let detail = &d.iter().next().expect("a diagnostic").detail;
        assert_eq!(detail, "mode is \"x\"; it must be one of: \"a\", \"b\".");
    }
}
