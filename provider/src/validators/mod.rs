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

pub use crate::framework::StringValidator;
use crate::framework::{AttributePath, Diagnostics, Value};

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
