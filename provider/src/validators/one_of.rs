use super::StringValidator;

struct OneOf(&'static [&'static str]);

/// The value must be one of `values` (exact, case-sensitive).
///
/// ```
/// use rdsenc::validators::{one_of, StringValidator};
/// assert_eq!(one_of(&["a", "b"]).description(), "one of: \"a\", \"b\"");
/// ```
pub fn one_of(values: &'static [&'static str]) -> impl StringValidator {
    OneOf(values)
}

impl StringValidator for OneOf {
    fn description(&self) -> String {
        let vals: Vec<String> = self.0.iter().map(|v| format!("{v:?}")).collect();
        format!("one of: {}", vals.join(", "))
    }
    fn rejection(&self, value: &str) -> Option<String> {
        (!self.0.contains(&value))
            .then(|| format!("is {value:?}; it must be {}.", self.description()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::{AttributePath, Diagnostics};

    #[test]
    fn values_outside_the_list_are_refused_with_the_list() {
        let mut d = Diagnostics::new();
        one_of(&["cdc", "full-load"]).validate(&AttributePath::attr("m"), "x", &mut d);
        let diag = d.iter().next().expect("one diagnostic");
        assert!(diag.detail.contains("\"cdc\", \"full-load\""));
        let mut ok = Diagnostics::new();
        one_of(&["cdc"]).validate(&AttributePath::attr("m"), "cdc", &mut ok);
        assert!(ok.is_empty());
    }
}
