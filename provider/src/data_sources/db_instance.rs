//! `rdsenc_db_instance`: one RDS DB instance, as the migration sees it.

use async_trait::async_trait;

use crate::aws::rds::find_db_instance_by_id;
use crate::framework::{
    Attribute, AttributePath, Block, Ctx, DataSource, Known, ReadDataRequest, ReadDataResponse,
    Schema, Type, ValidateRequest, ValidateResponse, Value,
};
use crate::provider::ProviderData;
use crate::validators::{check_string, db_identifier};

/// The `rdsenc_db_instance` data source.
#[derive(Debug, Clone, Copy)]
pub struct DbInstanceDataSource;

#[async_trait]
impl DataSource for DbInstanceDataSource {
    fn type_name(&self) -> &'static str {
        "rdsenc_db_instance"
    }

    fn schema(&self) -> Schema {
        let c = |n: &str, d: &str| Attribute::string(n).computed().description(d);
        let n = |n: &str, d: &str| Attribute::number(n).computed().description(d);
        let b = |n: &str, d: &str| Attribute::bool(n).computed().description(d);
        Schema::new(
            Block::new("Reads one Amazon RDS DB instance: whether it is encrypted, and the settings a migration inherits.")
                .attribute(Attribute::string("db_instance_identifier").required().description("Identifier of the DB instance."))
                .attribute(c("id", "Same as `db_instance_identifier`."))
                .attribute(c("arn", "ARN of the DB instance."))
                .attribute(c("engine", "Engine: `mysql`, `mariadb`, `postgres`, ..."))
                .attribute(c("engine_version", "Engine version."))
                .attribute(c("instance_class", "DB instance class."))
                .attribute(b("storage_encrypted", "Whether storage is encrypted at rest."))
                .attribute(c("kms_key_id", "ARN of the KMS key encrypting the storage; null when unencrypted."))
                .attribute(c("endpoint_address", "DNS address of the instance."))
                .attribute(n("endpoint_port", "Port the instance listens on."))
                .attribute(c("status", "Instance status, e.g. `available`."))
                .attribute(n("allocated_storage", "Allocated storage in GiB."))
                .attribute(n("backup_retention_period", "Automated backup retention in days (0 = backups off, which also disables binlogs on MySQL)."))
                .attribute(b("multi_az", "Whether the instance is Multi-AZ."))
                .attribute(
                    Attribute::new("parameter_group_names", Type::list_of(Type::String))
                        .computed()
                        .description("Names of the DB parameter groups attached to the instance."),
                )
                .attribute(Attribute::new("tags", Type::map_of(Type::String)).computed().description("Tags of the instance.")),
        )
    }

    async fn validate(&self, _ctx: &Ctx, req: ValidateRequest, resp: &mut ValidateResponse) {
        check_string(
            req.config.get("db_instance_identifier"),
            &AttributePath::attr("db_instance_identifier"),
            &[&db_identifier()],
            &mut resp.diagnostics,
        );
    }

    async fn read(&self, ctx: &Ctx, req: ReadDataRequest, resp: &mut ReadDataResponse) {
        let Some(data) = ProviderData::of(ctx, "rdsenc_db_instance", &mut resp.diagnostics) else {
            return;
        };
        let Known::Value(id) = req.config.get("db_instance_identifier").as_str() else {
            return;
        };
        let db = match find_db_instance_by_id(data.clients.rds(), id).await {
            Ok(db) => db,
            Err(e) if e.is_not_found() => {
                resp.diagnostics.attribute_error(
                    AttributePath::attr("db_instance_identifier"),
                    "DB Instance Not Found",
                    format!("No RDS DB instance {id:?} exists in this account and region. Check the identifier, `region` and the account of the credentials."),
                );
                return;
            }
            Err(e) => {
                resp.diagnostics.error(
                    "Reading RDS DB Instance Failed",
                    format!("reading RDS DB Instance ({id}): {e}"),
                );
                return;
            }
        };
        let s = &mut resp.state;
        s.set("id", Value::string(id));
        s.set("arn", Value::opt_string(db.db_instance_arn()));
        s.set("engine", Value::opt_string(db.engine()));
        s.set("engine_version", Value::opt_string(db.engine_version()));
        s.set("instance_class", Value::opt_string(db.db_instance_class()));
        s.set("storage_encrypted", Value::opt_bool(db.storage_encrypted()));
        s.set("kms_key_id", Value::opt_string(db.kms_key_id()));
        s.set(
            "endpoint_address",
            Value::opt_string(db.endpoint().and_then(|e| e.address())),
        );
        s.set(
            "endpoint_port",
            Value::opt_int(db.endpoint().and_then(|e| e.port()).map(i64::from)),
        );
        s.set("status", Value::opt_string(db.db_instance_status()));
        s.set(
            "allocated_storage",
            Value::opt_int(db.allocated_storage().map(i64::from)),
        );
        s.set(
            "backup_retention_period",
            Value::opt_int(db.backup_retention_period().map(i64::from)),
        );
        s.set("multi_az", Value::opt_bool(db.multi_az()));
        s.set(
            "parameter_group_names",
            Value::string_list(
                db.db_parameter_groups()
                    .iter()
                    .filter_map(|g| g.db_parameter_group_name()),
            ),
        );
        s.set(
            "tags",
            Value::Map(
                db.tag_list()
                    .iter()
                    .filter_map(|t| {
                        Some((
                            t.key()?.to_owned(),
                            Value::string(t.value().unwrap_or_default()),
                        ))
                    })
                    .collect(),
            ),
        );
    }
}
