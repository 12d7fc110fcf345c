//! Preflight's Terraform side: the input read from an `rdsenc_migration` configuration and the
//! findings turned into diagnostics. The checks themselves are [`rdsenc_engine::preflight`];
//! [`aws`] implements its `PreflightApi` for [`crate::aws::Clients`].

pub mod aws;

use rdsenc_engine::preflight::{
    CredentialsInput, Finding, PreflightApi, PreflightInput, Severity as FindingSeverity, run,
};

use crate::framework::{AttributePath, Diagnostic, Diagnostics, Severity, Value};

/// The preflight input for an `rdsenc_migration` configuration (or planned state: write-only
/// passwords are only in the configuration, so pass the configuration). `None` when the
/// source identifier is not known yet. Unknown values skip their checks; an unknown
/// password or secret counts as configured.
pub fn input_from_migration_config(config: &Value) -> Option<PreflightInput> {
    let known = |v: &Value| v.as_str().value().map(str::to_owned);
    let source = known(config.get("source_db_instance_identifier"))?;
    let dms = config.block("dms");
    let credentials = (!dms.is_null() && !dms.is_unknown()).then(|| {
        let password = dms.get("source_password_wo");
        let secret = dms.get("secrets_manager_arn");
        CredentialsInput {
            source_password_set: !password.is_null() || secret.is_unknown(),
            secrets_manager_arn: known(secret),
            target_secrets_manager_arn: known(dms.get("target_secrets_manager_arn")),
        }
    });
    Some(PreflightInput {
        source_db_instance_identifier: source,
        kms_key_id: known(config.get("kms_key_id")),
        target_db_instance_identifier: known(config.get("target_db_instance_identifier")),
        replication_instance_arn: known(dms.get("replication_instance_arn")),
        replication_subnet_ids: dms
            .get("replication_subnet_ids")
            .elements()
            .iter()
            .filter_map(known)
            .collect(),
        credentials,
        blue_green: config.get("strategy").as_str().value() == Some("blue_green"),
    })
}

/// The findings as diagnostics on their `rdsenc_migration` attributes: the summary is the
/// check's title, the detail the message, the remedy and the check id (so users can look it
/// up in the `rdsenc_preflight` docs).
pub fn to_diagnostics(findings: &[Finding]) -> Diagnostics {
    let mut diags = Diagnostics::new();
    for f in findings {
        diags.push(Diagnostic {
            severity: severity(f.severity),
            summary: f.check.title().to_owned(),
            detail: format!(
                "{} {} (rdsenc preflight check `{}`.)",
                f.message, f.remedy, f.check
            ),
            attribute: Some(AttributePath::parse(f.attribute)),
        });
    }
    diags
}

/// Preflight for the plan of a new `rdsenc_migration`: the input read from its configuration,
/// every check run, the findings as diagnostics (errors fail the plan, warnings show in it).
/// Nothing when the source identifier is not known yet.
///
/// Call it on create only (prior state null): once a migration runs, its own objects (the
/// target, and after an identifier-swap cutover the encrypted instance under the source's
/// name) would trip the checks that guard its start.
pub async fn check_new_migration(api: &dyn PreflightApi, config: &Value) -> Diagnostics {
    match input_from_migration_config(config) {
        Some(input) => to_diagnostics(&run(api, &input).await),
        None => Diagnostics::new(),
    }
}

/// A finding's severity as a diagnostic's.
pub fn severity(s: FindingSeverity) -> Severity {
    match s {
        FindingSeverity::Error => Severity::Error,
        FindingSeverity::Warning => Severity::Warning,
    }
}

#[cfg(test)]
mod tests {
    use rdsenc_engine::preflight::fake::{Fake, KEY_ARN, SECRET_ARN};
    use rdsenc_engine::preflight::{Check, Finding};

    use super::*;

    fn run_now(f: &Fake, i: &PreflightInput) -> Vec<Finding> {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a test runtime")
            .block_on(run(&f.aws(), i))
    }

    fn input() -> PreflightInput {
        PreflightInput::new("orders", KEY_ARN)
    }

    #[test]
    fn findings_become_diagnostics_on_their_attributes_with_title_remedy_and_check_id() {
        let mut f = Fake::good_mysql();
        f.source_mut().backup_retention_period = 0;
        let fs = run_now(&f, &input());
        let diags = to_diagnostics(&fs);
        assert!(diags.has_error());
        let d = diags
            .iter()
            .find(|d| d.summary == "Automated Backups Off")
            .expect("a diagnostic for the backups finding");
        assert_eq!(d.severity, Severity::Error);
        assert_eq!(
            d.attribute,
            Some(AttributePath::attr("source_db_instance_identifier"))
        );
        assert!(
            d.detail.contains("--backup-retention-period")
                && d.detail.contains("`automated_backups`")
        );
        let w = diags
            .iter()
            .find(|d| d.summary == Check::BinlogRetention.title())
            .expect("the retention warning");
        assert_eq!(w.severity, Severity::Warning);
    }

    // --- input from the migration's configuration ---

    #[test]
    fn the_input_is_read_from_a_migration_configuration_without_the_password_value() {
        let schema = crate::resources::migration::schema::schema();
        let mut config = schema.block.empty_value();
        config.set("source_db_instance_identifier", Value::string("orders"));
        config.set("kms_key_id", Value::Unknown);
        let mut dms = schema
            .block
            .find_block("dms")
            .expect("dms block")
            .block
            .empty_value();
        dms.set("source_password_wo", Value::string("hunter2-secret"));
        dms.set("replication_subnet_ids", Value::string_list(["subnet-a"]));
        dms.set("target_secrets_manager_arn", Value::string(SECRET_ARN));
        config.set("dms", dms);
        let i = input_from_migration_config(&config).expect("a known source");
        assert_eq!(i.source_db_instance_identifier, "orders");
        assert_eq!(i.kms_key_id, None, "an unknown key skips the key checks");
        assert_eq!(i.target_identifier(), "orders-encrypted");
        assert_eq!(i.replication_subnet_ids, vec!["subnet-a".to_owned()]);
        let c = i
            .credentials
            .clone()
            .expect("credentials from the dms block");
        assert!(c.source_password_set);
        assert_eq!(c.target_secrets_manager_arn.as_deref(), Some(SECRET_ARN));
        assert!(
            !format!("{i:?}").contains("hunter2"),
            "the password never enters the input"
        );
        let fs = run_now(&Fake::good_mysql(), &i);
        assert!(
            fs.iter()
                .all(|f| !f.message.contains("hunter2") && !f.remedy.contains("hunter2"))
        );
        assert!(
            fs.iter()
                .any(|f| f.check == Check::TargetSecretExists
                    && f.severity == FindingSeverity::Error),
            "{fs:#?}"
        );

        config.set("source_db_instance_identifier", Value::Unknown);
        assert_eq!(input_from_migration_config(&config), None);
    }

    #[test]
    fn a_new_migration_with_backups_off_gets_an_error_diagnostic_on_the_source() {
        let schema = crate::resources::migration::schema::schema();
        let mut config = schema.block.empty_value();
        config.set("source_db_instance_identifier", Value::string("orders"));
        config.set("kms_key_id", Value::string(KEY_ARN));
        let mut f = Fake::good_mysql();
        f.source_mut().backup_retention_period = 0;
        let aws = f.aws();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a test runtime");
        let diags = rt.block_on(check_new_migration(&aws, &config));
        assert!(diags.has_error());
        assert!(
            diags
                .iter()
                .any(|d| d.summary == Check::AutomatedBackups.title()
                    && d.attribute == Some(AttributePath::attr("source_db_instance_identifier")))
        );
        config.set("source_db_instance_identifier", Value::Unknown);
        assert!(rt.block_on(check_new_migration(&aws, &config)).is_empty());
    }
}
