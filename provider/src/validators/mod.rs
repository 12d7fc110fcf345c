//! Validators: tiny types that check one configured value and say what they expect.
//! Each returns early on null or unknown (checked again at apply time once known), and its
//! `description()` feeds both documentation and the diagnostic text.

mod arn;
mod duration;
mod identifier;
mod json;
mod kms_key;
mod one_of;

pub use arn::{Arn, arn};
pub use duration::{duration, parse_go_duration};
pub use identifier::{db_identifier, dms_identifier};
pub use json::json_object;
pub use kms_key::kms_key_reference;
pub use one_of::one_of;

use crate::framework::{AttributePath, Diagnostics, Value};

/// A check of one string value.
pub trait StringValidator: Send + Sync {
    /// What a valid value looks like, in plain words ("one of: a, b").
    fn description(&self) -> String;
    /// Why `value` does not fit, as the rest of a sentence that begins with the attribute's
    /// path (`is "x"; it must be ...`); `None` when it fits.
    fn rejection(&self, value: &str) -> Option<String>;
    /// Checks `value`; adds an error on `path` when it does not fit. Null and unknown pass.
    fn validate(&self, path: &AttributePath, value: &str, diags: &mut Diagnostics) {
        if let Some(why) = self.rejection(value) {
            diags.attribute_error(path.clone(), INVALID, format!("{path} {why}"));
        }
    }
}

/// Runs `validators` on the string at `path` of `v` unless it is null or unknown.
pub fn check_string(
    v: &Value,
    path: &AttributePath,
    validators: &[&dyn StringValidator],
    diags: &mut Diagnostics,
) {
    if let Some(s) = v.as_str().value() {
        for val in validators {
            val.validate(path, s, diags);
        }
    }
}

/// The title-case summary every validator uses for a bad value.
pub(crate) const INVALID: &str = "Invalid Attribute Value";
