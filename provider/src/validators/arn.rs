use super::StringValidator;

/// The parts of an ARN: `arn:partition:service:region:account:resource`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arn {
    /// `aws`, `aws-cn`, `aws-us-gov`, ...
    pub partition: String,
    /// e.g. `dms`, `kms`, `iam`.
    pub service: String,
    /// Empty for global services (IAM).
    pub region: String,
    /// 12 digits, or empty for some services.
    pub account: String,
    /// Everything after the fifth colon.
    pub resource: String,
}

impl Arn {
    /// Splits an ARN; the error says what is wrong, never echoing more than the ARN itself.
    pub fn parse(s: &str) -> Result<Arn, String> {
        let parts: Vec<&str> = s.splitn(6, ':').collect();
        if parts.len() != 6 || parts[0] != "arn" {
            return Err("is not an ARN (arn:partition:service:region:account:resource)".to_owned());
        }
        if ![
            "aws",
            "aws-cn",
            "aws-us-gov",
            "aws-iso",
            "aws-iso-b",
            "aws-iso-e",
            "aws-iso-f",
            "aws-eusc",
        ]
        .contains(&parts[1])
        {
            return Err(format!("has an unknown partition {:?}", parts[1]));
        }
        let account_ok = parts[4].is_empty()
            || (parts[4].len() == 12 && parts[4].chars().all(|c| c.is_ascii_digit()));
        if !account_ok {
            return Err(format!(
                "has an account id {:?} that is not 12 digits",
                parts[4]
            ));
        }
        if parts[5].is_empty() {
            return Err("has no resource part".to_owned());
        }
        Ok(Arn {
            partition: parts[1].to_owned(),
            service: parts[2].to_owned(),
            region: parts[3].to_owned(),
            account: parts[4].to_owned(),
            resource: parts[5].to_owned(),
        })
    }
}

struct ServiceArn {
    service: &'static str,
    resource_prefix: &'static str,
}

/// An ARN of `service` whose resource part starts with `resource_prefix` (e.g. `dms`, `rep:`;
/// `iam`, `role/`; `secretsmanager`, `secret:`).
pub fn arn(service: &'static str, resource_prefix: &'static str) -> impl StringValidator {
    ServiceArn {
        service,
        resource_prefix,
    }
}

impl StringValidator for ServiceArn {
    fn description(&self) -> String {
        format!(
            "an ARN of the form arn:<partition>:{}:<region>:<account>:{}...",
            self.service, self.resource_prefix
        )
    }
    fn rejection(&self, value: &str) -> Option<String> {
        let problem = match Arn::parse(value) {
            Err(e) => Some(e),
            Ok(a) if a.service != self.service => {
                Some(format!("belongs to service {:?}", a.service))
            }
            Ok(a) if !a.resource.starts_with(self.resource_prefix) => Some(format!(
                "does not name a {}... resource",
                self.resource_prefix
            )),
            Ok(a) if self.service != "iam" && a.region.is_empty() => {
                Some("has no region".to_owned())
            }
            Ok(_) => None,
        };
        problem.map(|p| format!("{value:?} {p}. It must be {}.", self.description()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::{AttributePath, Diagnostics};

    fn n(v: &StringValidatorBox, s: &str) -> usize {
        let mut d = Diagnostics::new();
        v.0.validate(&AttributePath::attr("a"), s, &mut d);
        d.iter().count()
    }
    struct StringValidatorBox(Box<dyn StringValidator>);

    #[test]
    fn service_arns_check_service_partition_account_and_resource() {
        let dms = StringValidatorBox(Box::new(arn("dms", "rep:")));
        assert_eq!(n(&dms, "arn:aws:dms:us-east-1:123456789012:rep:ABC"), 0);
        assert_eq!(n(&dms, "arn:aws:rds:us-east-1:123456789012:db:orders"), 1);
        assert_eq!(
            n(&dms, "arn:aws:dms:us-east-1:123456789012:endpoint:ABC"),
            1
        );
        assert_eq!(n(&dms, "arn:aws:dms:us-east-1:12345:rep:ABC"), 1);
        assert_eq!(n(&dms, "arn:awz:dms:us-east-1:123456789012:rep:ABC"), 1);
        assert_eq!(n(&dms, "arn:aws:dms::123456789012:rep:ABC"), 1);
        let role = StringValidatorBox(Box::new(arn("iam", "role/")));
        assert_eq!(n(&role, "arn:aws:iam::123456789012:role/dms-secrets"), 0);
    }
}
