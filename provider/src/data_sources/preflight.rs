//! `rdsenc_preflight`: runs the migration's plan-time checks and exports them, so pipelines can
//! gate on `ready` without planning a migration. It never fails on findings.

use std::collections::BTreeMap;

use async_trait::async_trait;

use crate::framework::{
    Attribute, AttributePath, Block, Ctx, DataSource, Known, ReadDataRequest, ReadDataResponse,
    Schema, Type, ValidateRequest, ValidateResponse, Value,
};
use crate::provider::ProviderData;
use crate::resources::migration::validate::MIGRATION_STRATEGIES;
use crate::validators::{arn, check_string, db_identifier, kms_key_reference, one_of};
use rdsenc_engine::Strategy;
use rdsenc_engine::preflight::{self, Finding, PreflightInput};

/// The `rdsenc_preflight` data source.
#[derive(Debug, Clone, Copy)]
pub struct PreflightDataSource;

/// The type of one element of `findings`.
fn finding_type() -> Type {
    Type::object([
        ("severity", Type::String),
        ("check", Type::String),
        ("message", Type::String),
        ("remedy", Type::String),
    ])
}

/// One finding as an element of `findings`.
fn finding_value(f: &Finding) -> Value {
    Value::Object(BTreeMap::from([
        ("severity".to_owned(), Value::string(f.severity_str())),
        ("check".to_owned(), Value::string(f.check.id())),
        ("message".to_owned(), Value::string(&f.message)),
        ("remedy".to_owned(), Value::string(&f.remedy)),
    ]))
}

fn opt_str(v: &Value) -> Option<String> {
    v.as_str().value().map(str::to_owned)
}

/// What to check, from the configuration; `None` while the source identifier is unknown.
fn input_from_config(c: &Value) -> Option<PreflightInput> {
    let Known::Value(source) = c.get("source_db_instance_identifier").as_str() else {
        return None;
    };
    Some(PreflightInput {
        source_db_instance_identifier: source.to_owned(),
        kms_key_id: opt_str(c.get("kms_key_id")),
        target_db_instance_identifier: opt_str(c.get("target_db_instance_identifier")),
        replication_instance_arn: opt_str(c.get("replication_instance_arn")),
        replication_subnet_ids: Vec::new(),
        credentials: None,
        // Null is the default, "dms"; validate refused anything else.
        blue_green: c.get("strategy").as_str().value() == Some(Strategy::BlueGreen.as_str()),
    })
}

#[async_trait]
impl DataSource for PreflightDataSource {
    fn type_name(&self) -> &'static str {
        "rdsenc_preflight"
    }

    fn schema(&self) -> Schema {
        let s = |n: &str| Attribute::string(n);
        Schema::new(
            Block::new(
                "Runs the checks `rdsenc_migration` runs at plan time (source state and engine \
                 version, KMS key, binary log or logical replication settings, target \
                 identifier, DMS replication instance) and exports the findings. Reading it never \
                 fails because of a finding: gate on `ready`. Credentials are not checked here. \
                 With `strategy = \"blue_green\"` it runs the blue/green checks instead of the \
                 DMS ones.",
            )
            .attribute(
                s("source_db_instance_identifier")
                    .required()
                    .description("Identifier of the unencrypted DB instance to migrate."),
            )
            .attribute(s("kms_key_id").required().description(
                "KMS key for the encrypted copy: key id, key ARN, `alias/<name>` or alias ARN.",
            ))
            .attribute(s("target_db_instance_identifier").optional().description(
                "Identifier the encrypted instance will get. Default \
                 `<source_db_instance_identifier>-encrypted`; checked to be free (or already \
                 made by this migration).",
            ))
            .attribute(s("replication_instance_arn").optional().description(
                "ARN of an existing DMS replication instance the migration will use; checked to \
                 exist, be available and be in the source's VPC. When absent, the source must \
                 have a DB subnet group for the migration's own replication instance.",
            ))
            .attribute(s("strategy").optional().description(
                "The `strategy` the migration will use: `\"dms\"` (default) or \
                 `\"blue_green\"`. With `\"blue_green\"` the checks are those of an RDS \
                 blue/green deployment (source state, engine version support, a master \
                 password not managed in Secrets Manager, automated backups or logical \
                 replication, key) and none of the DMS-only ones (engine versions DMS supports, \
                 binary log format, target identifier, replication instance); the read \
                 replicas' keys are checked by `rdsenc_migration` only.",
            ))
            .attribute(
                s("id")
                    .computed()
                    .description("Same as `source_db_instance_identifier`."),
            )
            .attribute(
                Attribute::bool("ready")
                    .computed()
                    .description("True when no finding is an error: the migration can start."),
            )
            .attribute(
                Attribute::new("findings", Type::list_of(finding_type()))
                    .computed()
                    .description(
                        "What preflight found, errors and warnings, in check order. Each has \
                         `severity` (`error` or `warning`), `check` (a stable id such as \
                         `binlog_format`), `message` and `remedy`.",
                    ),
            ),
        )
    }

    async fn validate(&self, _ctx: &Ctx, req: ValidateRequest, resp: &mut ValidateResponse) {
        let c = &req.config;
        let d = &mut resp.diagnostics;
        for name in [
            "source_db_instance_identifier",
            "target_db_instance_identifier",
        ] {
            check_string(
                c.get(name),
                &AttributePath::attr(name),
                &[&db_identifier()],
                d,
            );
        }
        check_string(
            c.get("kms_key_id"),
            &AttributePath::attr("kms_key_id"),
            &[&kms_key_reference()],
            d,
        );
        check_string(
            c.get("strategy"),
            &AttributePath::attr("strategy"),
            &[&one_of(MIGRATION_STRATEGIES)],
            d,
        );
        check_string(
            c.get("replication_instance_arn"),
            &AttributePath::attr("replication_instance_arn"),
            &[&arn("dms", "rep:")],
            d,
        );
    }

    async fn read(&self, ctx: &Ctx, req: ReadDataRequest, resp: &mut ReadDataResponse) {
        let Some(data) = ProviderData::of(ctx, "rdsenc_preflight", &mut resp.diagnostics) else {
            return;
        };
        let Some(input) = input_from_config(&req.config) else {
            return;
        };
        let findings = {
            let _slot = data.preflight_slot().await;
            preflight::run(data.clients.as_ref(), &input).await
        };
        let s = &mut resp.state;
        s.set("id", Value::string(&input.source_db_instance_identifier));
        s.set("ready", Value::Bool(preflight::is_ready(&findings)));
        s.set(
            "findings",
            Value::List(findings.iter().map(finding_value).collect()),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rdsenc_engine::preflight::{Check, Severity};

    #[test]
    fn findings_export_as_objects_of_the_declared_type() {
        let f = Finding::error(Check::BinlogFormat, "m", "r");
        let v = finding_value(&f);
        assert_eq!(v.get("severity").as_str(), Known::Value("error"));
        assert_eq!(v.get("check").as_str(), Known::Value("binlog_format"));
        let Type::Object(fields) = finding_type() else {
            panic!("findings elements are objects");
        };
        let keys: Vec<&String> = fields.keys().collect();
        let got: Vec<&String> = v.entries().expect("an object").keys().collect();
        assert_eq!(keys, got);
        assert_eq!(f.severity, Severity::Error);
    }

    #[tokio::test]
    async fn invalid_arguments_are_errors_naming_the_attribute() {
        let mut config = PreflightDataSource.schema().block.empty_value();
        config.set("source_db_instance_identifier", Value::string("bad_id!"));
        config.set("kms_key_id", Value::string("not a key"));
        config.set(
            "replication_instance_arn",
            Value::string("arn:aws:s3:::bucket"),
        );
        config.set("strategy", Value::string("bluegreen"));
        let mut resp = ValidateResponse::default();
        PreflightDataSource
            .validate(&Ctx::detached(), ValidateRequest { config }, &mut resp)
            .await;
        let attrs = resp.diagnostics.attribute_paths();
        for a in [
            "source_db_instance_identifier",
            "kms_key_id",
            "replication_instance_arn",
            "strategy",
        ] {
            assert!(attrs.iter().any(|x| x == a), "no error on {a}: {attrs:?}");
        }
    }

    #[tokio::test]
    async fn both_strategies_are_valid_values() {
        for strategy in MIGRATION_STRATEGIES {
            let mut config = PreflightDataSource.schema().block.empty_value();
            config.set("source_db_instance_identifier", Value::string("orders"));
            config.set("kms_key_id", Value::string("alias/orders"));
            config.set("strategy", Value::string(*strategy));
            let mut resp = ValidateResponse::default();
            PreflightDataSource
                .validate(&Ctx::detached(), ValidateRequest { config }, &mut resp)
                .await;
            assert!(
                resp.diagnostics.is_empty(),
                "{strategy}: {:?}",
                resp.diagnostics
            );
        }
    }

    #[test]
    fn blue_green_selects_the_blue_green_checks_and_the_default_is_dms() {
        let mut config = PreflightDataSource.schema().block.empty_value();
        config.set("source_db_instance_identifier", Value::string("orders"));
        config.set("kms_key_id", Value::string("alias/orders"));
        let input = input_from_config(&config).expect("a known source");
        assert!(!input.blue_green);
        assert_eq!(input.kms_key_id.as_deref(), Some("alias/orders"));
        config.set("strategy", Value::string("dms"));
        assert!(
            !input_from_config(&config)
                .expect("a known source")
                .blue_green
        );
        config.set("strategy", Value::string("blue_green"));
        assert!(
            input_from_config(&config)
                .expect("a known source")
                .blue_green
        );
        config.set("source_db_instance_identifier", Value::Unknown);
        assert_eq!(input_from_config(&config), None);
    }
}
