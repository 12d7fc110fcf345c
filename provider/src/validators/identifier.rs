use super::StringValidator;

struct Identifier {
    what: &'static str,
    max: usize,
}

/// An RDS DB instance identifier: 1-63 letters, digits or hyphens; first a letter; no two
/// consecutive hyphens; no trailing hyphen.
///
/// ```
/// use rdsenc::validators::{db_identifier, StringValidator};
/// assert!(db_identifier().description().contains("63"));
/// ```
pub fn db_identifier() -> impl StringValidator {
    Identifier {
        what: "an RDS DB instance identifier",
        max: 63,
    }
}

/// A DMS resource identifier (replication instance, endpoint or task): same character rules,
/// up to 255 characters.
pub fn dms_identifier() -> impl StringValidator {
    Identifier {
        what: "a DMS identifier",
        max: 255,
    }
}

impl Identifier {
    fn problem(&self, v: &str) -> Option<String> {
        if v.is_empty() || v.len() > self.max {
            return Some(format!(
                "must be 1 to {} characters long (it has {})",
                self.max,
                v.len()
            ));
        }
        if !v.starts_with(|c: char| c.is_ascii_alphabetic()) {
            return Some("must start with a letter".to_owned());
        }
        if let Some(c) = v
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '-'))
        {
            return Some(format!(
                "may contain only letters, digits and hyphens (found {c:?})"
            ));
        }
        if v.contains("--") {
            return Some("must not contain two consecutive hyphens".to_owned());
        }
        if v.ends_with('-') {
            return Some("must not end with a hyphen".to_owned());
        }
        None
    }
}

impl StringValidator for Identifier {
    fn description(&self) -> String {
        format!(
            "{}: 1 to {} letters, digits or hyphens, starting with a letter, without `--` or a trailing hyphen",
            self.what, self.max
        )
    }
    fn rejection(&self, value: &str) -> Option<String> {
        self.problem(value)
            .map(|p| format!("{value:?} is not {}: it {p}.", self.what))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::{AttributePath, Diagnostics};

    fn errs(v: &str) -> usize {
        let mut d = Diagnostics::new();
        db_identifier().validate(&AttributePath::attr("id"), v, &mut d);
        d.iter().count()
    }

    #[test]
    fn rds_identifier_rules_are_enforced() {
        assert_eq!(errs("orders-encrypted"), 0);
        for bad in [
            "",
            "1orders",
            "orders_db",
            "orders--x",
            "orders-",
            &"a".repeat(64),
            "ordérs",
        ] {
            assert_eq!(errs(bad), 1, "{bad:?} should be refused");
        }
    }
}
