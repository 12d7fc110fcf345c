//! `rdsenc_unencrypted_db_instances`: the region's unencrypted DB instances, for a compliance
//! team to `for_each` migrations over.

use std::collections::BTreeMap;

use async_trait::async_trait;

use crate::framework::{
    Attribute, AttributePath, Block, Ctx, DataSource, ReadDataRequest, ReadDataResponse, Schema,
    Type, ValidateRequest, ValidateResponse, Value,
};
use crate::provider::ProviderData;
use rdsenc_engine::api::DbInstance;
use rdsenc_engine::preflight::inventory::{InventoryFilter, list_unencrypted};

/// The `rdsenc_unencrypted_db_instances` data source.
#[derive(Debug, Clone, Copy)]
pub struct UnencryptedDbInstancesDataSource;

fn instance_type() -> Type {
    Type::object([
        ("identifier", Type::String),
        ("arn", Type::String),
        ("engine", Type::String),
        ("engine_version", Type::String),
        ("allocated_storage", Type::Number),
        ("tags", Type::map_of(Type::String)),
    ])
}

fn instance_value(db: &DbInstance) -> Value {
    Value::Object(BTreeMap::from([
        ("identifier".to_owned(), Value::string(&db.identifier)),
        ("arn".to_owned(), Value::string(&db.arn)),
        ("engine".to_owned(), Value::string(db.engine.as_str())),
        (
            "engine_version".to_owned(),
            Value::string(&db.engine_version),
        ),
        (
            "allocated_storage".to_owned(),
            Value::int(i64::from(db.allocated_storage)),
        ),
        ("tags".to_owned(), Value::string_map(&db.tags)),
    ]))
}

/// The filter from the configuration (`engines` null: rdsenc's engines).
fn filter_from(config: &Value) -> InventoryFilter {
    let engines = config.get("engines");
    InventoryFilter {
        engines: (!engines.is_null()).then(|| {
            engines
                .elements()
                .iter()
                .filter_map(|e| e.as_str().value().map(str::to_owned))
                .collect()
        }),
        tags: config
            .get("tags")
            .entries()
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.as_str().value()?.to_owned())))
                    .collect()
            })
            .unwrap_or_default(),
    }
}

#[async_trait]
impl DataSource for UnencryptedDbInstancesDataSource {
    fn type_name(&self) -> &'static str {
        "rdsenc_unencrypted_db_instances"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            Block::new(
                "Lists the unencrypted RDS DB instances of the provider's region (all pages), \
                 sorted by identifier. Encrypted instances and read replicas are left out: a \
                 replica is migrated with its primary (migrate the primary, then recreate the \
                 replica from the encrypted target).",
            )
            .attribute(
                Attribute::new("engines", Type::list_of(Type::String))
                    .optional()
                    .description(
                        "Keep only these engines (`Engine` values such as `mysql`, `mariadb`, \
                         `postgres`). Default: the engines rdsenc migrates, `mariadb`, `mysql` \
                         and `postgres`.",
                    ),
            )
            .attribute(
                Attribute::new("tags", Type::map_of(Type::String))
                    .optional()
                    .description(
                        "Keep only instances carrying all of these tags with these exact values.",
                    ),
            )
            .attribute(
                Attribute::string("id")
                    .computed()
                    .description("The provider's region."),
            )
            .attribute(
                Attribute::new("db_instance_identifiers", Type::list_of(Type::String))
                    .computed()
                    .description("Identifiers of the instances found, sorted."),
            )
            .attribute(
                Attribute::new("db_instances", Type::list_of(instance_type()))
                    .computed()
                    .description(
                        "The instances found, in the same order: `identifier`, `arn`, \
                         `engine`, `engine_version`, `allocated_storage` (GiB) and `tags`.",
                    ),
            ),
        )
    }

    async fn validate(&self, _ctx: &Ctx, req: ValidateRequest, resp: &mut ValidateResponse) {
        for (i, e) in req.config.get("engines").elements().iter().enumerate() {
            if e.as_str().value().is_some_and(|s| s.trim().is_empty()) {
                resp.diagnostics.attribute_error(
                    AttributePath::attr("engines").index(i64::try_from(i).unwrap_or(i64::MAX)),
                    "Invalid Attribute Value",
                    "An engine name cannot be empty; use values such as `mysql`, `mariadb` or `postgres`.",
                );
            }
        }
    }

    async fn read(&self, ctx: &Ctx, req: ReadDataRequest, resp: &mut ReadDataResponse) {
        let Some(data) = ProviderData::of(
            ctx,
            "rdsenc_unencrypted_db_instances",
            &mut resp.diagnostics,
        ) else {
            return;
        };
        let filter = filter_from(&req.config);
        let found = match list_unencrypted(data.clients.as_ref(), &filter).await {
            Ok(f) => f,
            Err(e) => {
                resp.diagnostics.error(
                    "Listing RDS DB Instances Failed",
                    format!("listing RDS DB Instances: {e}"),
                );
                return;
            }
        };
        let s = &mut resp.state;
        s.set(
            "id",
            Value::string(data.clients.region().unwrap_or_default()),
        );
        s.set(
            "db_instance_identifiers",
            Value::string_list(found.iter().map(|d| d.identifier.as_str())),
        );
        s.set(
            "db_instances",
            Value::List(found.iter().map(instance_value).collect()),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_null_engines_filter_means_rdsencs_engines_and_tags_are_read_as_a_map() {
        let mut config = UnencryptedDbInstancesDataSource
            .schema()
            .block
            .empty_value();
        assert_eq!(filter_from(&config), InventoryFilter::default());
        config.set("engines", Value::string_list(["mysql"]));
        config.set(
            "tags",
            Value::Map(BTreeMap::from([(
                "team".to_owned(),
                Value::string("payments"),
            )])),
        );
        let f = filter_from(&config);
        assert_eq!(f.engines, Some(vec!["mysql".to_owned()]));
        assert_eq!(f.tags.get("team").map(String::as_str), Some("payments"));
    }

    #[test]
    fn instances_export_with_every_declared_field() {
        let db = DbInstance {
            identifier: "orders".to_owned(),
            allocated_storage: 20,
            ..DbInstance::default()
        };
        let v = instance_value(&db);
        let Type::Object(fields) = instance_type() else {
            panic!("elements are objects");
        };
        let want: Vec<&String> = fields.keys().collect();
        let got: Vec<&String> = v.entries().expect("an object").keys().collect();
        assert_eq!(want, got);
        assert_eq!(v.get("allocated_storage").as_i64().value(), Some(20));
    }
}
