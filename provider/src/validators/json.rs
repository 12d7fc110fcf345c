use super::StringValidator;

struct JsonObject;

/// The value must be a JSON object (e.g. DMS table mappings or task settings).
pub fn json_object() -> impl StringValidator {
    JsonObject
}

impl StringValidator for JsonObject {
    fn description(&self) -> String {
        "a JSON object (use jsonencode({...}))".to_owned()
    }
    fn rejection(&self, value: &str) -> Option<String> {
        match serde_json::from_str::<serde_json::Value>(value) {
            Ok(serde_json::Value::Object(_)) => None,
            Ok(_) => Some(format!(
                "must be {}, not another JSON value.",
                self.description()
            )),
            // The parser's message names line and column but never echoes the document.
            Err(e) => Some(format!(
                "is not valid JSON ({e}); it must be {}.",
                self.description()
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::{AttributePath, Diagnostics};

    #[test]
    fn malformed_or_non_object_json_is_refused() {
        for (v, n) in [("{\"rules\":[]}", 0), ("{", 1), ("[1]", 1), ("", 1)] {
            let mut d = Diagnostics::new();
            json_object().validate(&AttributePath::attr("m"), v, &mut d);
            assert_eq!(d.iter().count(), n, "{v:?}");
        }
    }
}
