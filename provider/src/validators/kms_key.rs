use super::{StringValidator, arn};

struct KmsKeyReference;

/// A KMS key reference as RDS accepts it: key id (UUID or `mrk-...`), key ARN, `alias/name`
/// or alias ARN.
pub fn kms_key_reference() -> impl StringValidator {
    KmsKeyReference
}

fn is_key_id(s: &str) -> bool {
    let uuid = s.len() == 36
        && s.chars().enumerate().all(|(i, c)| {
            if [8, 13, 18, 23].contains(&i) {
                c == '-'
            } else {
                c.is_ascii_hexdigit()
            }
        });
    let mrk = s
        .strip_prefix("mrk-")
        .is_some_and(|h| h.len() == 32 && h.chars().all(|c| c.is_ascii_hexdigit()));
    uuid || mrk
}

fn is_alias(s: &str) -> bool {
    s.strip_prefix("alias/").is_some_and(|n| {
        !n.is_empty()
            && n.len() <= 250
            && !n.starts_with("aws/")
            && n.chars()
                .all(|c| c.is_ascii_alphanumeric() || "/_-".contains(c))
    })
}

impl KmsKeyReference {
    fn problem(s: &str) -> Option<String> {
        if s.starts_with("arn:") {
            let a = match arn::Arn::parse(s) {
                Ok(a) => a,
                Err(e) => return Some(e),
            };
            if a.service != "kms" {
                return Some(format!("is an ARN of service {:?}, not kms", a.service));
            }
            return match a.resource.split_once('/') {
                Some(("key", id)) if is_key_id(id) => None,
                Some(("alias", _)) if is_alias(&a.resource) => None,
                _ => Some("is a KMS ARN but names neither key/<id> nor alias/<name>".to_owned()),
            };
        }
        if s == "alias/aws/rds" || s.starts_with("alias/aws/") {
            return Some(
                "names an AWS managed key; RDS snapshot copies must use a customer managed key \
                 you can share and rotate"
                    .to_owned(),
            );
        }
        if is_key_id(s) || is_alias(s) {
            return None;
        }
        if !s.contains('/') && !s.is_empty() {
            return Some(
                "looks like an alias name without the \"alias/\" prefix, or a malformed key id"
                    .to_owned(),
            );
        }
        Some("is not a key id, key ARN, alias/<name> or alias ARN".to_owned())
    }
}

impl StringValidator for KmsKeyReference {
    fn description(&self) -> String {
        "a KMS key id, key ARN, alias (alias/<name>) or alias ARN of a customer managed key"
            .to_owned()
    }
    fn rejection(&self, value: &str) -> Option<String> {
        Self::problem(value).map(|p| format!("{value:?} {p}. It must be {}.", self.description()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_key_reference_form_is_accepted_and_others_refused() {
        let ok = [
            "1234abcd-12ab-34cd-56ef-1234567890ab",
            "mrk-1234abcd12ab34cd56ef1234567890ab",
            "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            "alias/rds-at-rest",
            "arn:aws:kms:us-east-1:123456789012:alias/rds-at-rest",
        ];
        for v in ok {
            assert_eq!(KmsKeyReference::problem(v), None, "{v}");
        }
        let bad = [
            "rds-at-rest",
            "alias/",
            "alias/aws/rds",
            "arn:aws:s3:::bucket",
            "arn:aws:kms:us-east-1:123456789012:key/nope",
            "1234",
        ];
        for v in bad {
            assert!(KmsKeyReference::problem(v).is_some(), "{v}");
        }
    }
}
