//! The `rdsenc` provider: its configuration (terraform-provider-aws habits) and the list of
//! resources and data sources.

use std::sync::Arc;

use async_trait::async_trait;

use crate::aws::config::{AssumeRole, AwsSettings, Clients, Endpoints};
use crate::data_sources::db_instance::DbInstanceDataSource;
use crate::data_sources::preflight::PreflightDataSource;
use crate::data_sources::unencrypted_db_instances::UnencryptedDbInstancesDataSource;
use crate::framework::{
    Attribute, AttributePath, Block, ConfigureRequest, ConfigureResponse, Ctx, DataSource,
    Diagnostics, Known, NestedBlock, Provider, Resource, Schema, Type, ValidateRequest,
    ValidateResponse, Value,
};
use crate::validators::{arn, check_string};
use rdsenc_engine::{AWS_CALLS_IN_FLIGHT, Engine, PollPolicy, SystemClock};
use tokio::sync::{Semaphore, SemaphorePermit};

/// Services that accept an endpoint override in `endpoints {}`.
pub const ENDPOINT_SERVICES: &[&str] = &[
    "rds",
    "dms",
    "kms",
    "cloudwatch",
    "route53",
    "secretsmanager",
    "sts",
    "ec2",
];

/// What ConfigureProvider hands to every resource and data source.
#[derive(Debug)]
pub struct ProviderData {
    /// The AWS clients, sharing one SDK configuration.
    pub clients: Arc<Clients>,
    /// The migration engine over `clients`, one per provider process: its AWS call slots
    /// are shared by every migration the process works on at once.
    pub engine: Engine,
    /// Preflight runs at once (see [`ProviderData::preflight_slot`]).
    preflight_slots: Semaphore,
}

impl ProviderData {
    /// What ConfigureProvider handed over, or an error diagnostic naming `user` (the resource
    /// or data source that needed it) when the provider was not configured first.
    pub(crate) fn of(ctx: &Ctx, user: &str, diags: &mut Diagnostics) -> Option<Arc<ProviderData>> {
        let data = ctx.data::<ProviderData>();
        if data.is_none() {
            diags.error(
                "Provider Not Configured",
                format!(
                    "The rdsenc provider was not configured before {user} was used. This is \
                     always a problem with the provider and should be reported."
                ),
            );
        }
        data
    }

    /// A slot to run the preflight checks in, once one is free. Each run holds the SDK
    /// requests and parameter pages of its checks; migrations planned (or `rdsenc_preflight`
    /// data sources read) together beyond [`AWS_CALLS_IN_FLIGHT`] wait here with nothing
    /// allocated. `None` only if the semaphore were closed, which it never is: the run then
    /// simply goes unthrottled.
    pub async fn preflight_slot(&self) -> Option<SemaphorePermit<'_>> {
        self.preflight_slots.acquire().await.ok()
    }
}

/// Builds the provider (the binary's entry point serves this).
pub fn new_provider() -> Arc<dyn Provider> {
    Arc::new(RdsencProvider)
}

/// The `rdsenc` provider.
#[derive(Debug, Clone, Copy)]
pub struct RdsencProvider;

#[async_trait]
impl Provider for RdsencProvider {
    fn type_name(&self) -> &'static str {
        "rdsenc"
    }

    fn schema(&self) -> Schema {
        let s = |n: &str, d: &str| Attribute::string(n).optional().description(d);
        let mut endpoints = Block::new(
            "Custom service endpoints, e.g. an emulator (`http://127.0.0.1:4566`) or VPC endpoints. \
             Unset services use the standard resolution, which honours `AWS_ENDPOINT_URL_<SERVICE>` \
             and `AWS_ENDPOINT_URL`.",
        );
        for svc in ENDPOINT_SERVICES {
            endpoints = endpoints.attribute(s(svc, &format!("Endpoint URL for the {svc} API.")));
        }
        Schema::new(
            Block::new(
                "Configures AWS access for rdsenc. With an empty block, the standard AWS environment \
                 is used (`AWS_REGION`, `AWS_PROFILE`, `AWS_ACCESS_KEY_ID`, ...), as in the AWS provider.",
            )
            .attribute(s("region", "AWS region, e.g. `eu-west-1`. Default: `AWS_REGION`, then the profile's region."))
            .attribute(s("profile", "Named profile from the shared config files. Default: `AWS_PROFILE`, then `default`."))
            .attribute(
                Attribute::new("shared_config_files", Type::list_of(Type::String))
                    .optional()
                    .description("Shared config files to read instead of `~/.aws/config`."),
            )
            .attribute(
                Attribute::new("shared_credentials_files", Type::list_of(Type::String))
                    .optional()
                    .description("Shared credentials files to read instead of `~/.aws/credentials`."),
            )
            .attribute(Attribute::number("max_retries").optional().description(
                "How many times the AWS SDK retries a throttled or failed call (0 to 100). Default 10; \
                 long waits additionally retry whole steps with backoff.",
            ))
            .attribute(Attribute::bool("skip_credentials_validation").optional().deprecated().description(
                "No effect, kept so existing configurations load: configuration makes no AWS call. \
                 Credentials are checked by the first real call, whose error names the credential sources.",
            ))
            .block(NestedBlock::single(
                "assume_role",
                Block::new("An IAM role to assume before calling AWS.")
                    .attribute(Attribute::string("role_arn").required().description("ARN of the role to assume."))
                    .attribute(s("session_name", "Session name. Default: generated."))
                    .attribute(s("external_id", "External id required by the role's trust policy.")),
            ))
            .block(NestedBlock::single("endpoints", endpoints)),
        )
    }

    async fn validate(&self, req: ValidateRequest, resp: &mut ValidateResponse) {
        let c = &req.config;
        let d = &mut resp.diagnostics;
        check_string(
            c.get("assume_role").get("role_arn"),
            &AttributePath::parse("assume_role.role_arn"),
            &[&arn("iam", "role/")],
            d,
        );
        if let Known::Value(n) = c.get("max_retries").as_i64()
            && !(0..=100).contains(&n)
        {
            d.attribute_error(
                AttributePath::attr("max_retries"),
                "Invalid Attribute Value",
                format!("max_retries is {n}; it must be 0 to 100."),
            );
        }
        if let Known::Value(r) = c.get("region").as_str()
            && !is_region(r)
        {
            d.attribute_error(
                AttributePath::attr("region"),
                "Invalid Attribute Value",
                format!("region {r:?} is not an AWS region name such as \"us-east-1\"."),
            );
        }
        for svc in ENDPOINT_SERVICES {
            if let Known::Value(u) = c.get("endpoints").get(svc).as_str()
                && !(u.starts_with("http://") || u.starts_with("https://"))
            {
                d.attribute_error(
                    AttributePath::parse(&format!("endpoints.{svc}")),
                    "Invalid Attribute Value",
                    format!("endpoints.{svc} {u:?} must be an http:// or https:// URL."),
                );
            }
        }
    }

    async fn configure(&self, _ctx: &Ctx, req: ConfigureRequest, resp: &mut ConfigureResponse) {
        if req.config.contains_unknown() {
            resp.diagnostics.error(
                "Provider Configuration Not Known Yet",
                "The rdsenc provider configuration depends on values known only after apply. \
                 Configure the provider from variables or data sources known at plan time, or \
                 apply the resources it depends on first (-target).",
            );
            return;
        }
        let settings = settings_from_config(&req.config);
        match Clients::load(&settings).await {
            Ok(clients) => {
                tracing::info!(region = ?clients.region(), terraform = %req.terraform_version, "configured AWS clients");
                // Multiplier for the engine's poll intervals. 1.0 in production; the
                // emulator's tests set `RDSENC_POLL_SCALE` (e.g. 0.01) so a scaled-down
                // migration is not polled at AWS pace.
                let poll_scale = std::env::var("RDSENC_POLL_SCALE")
                    .ok()
                    .and_then(|v| v.parse::<f64>().ok())
                    .filter(|f| *f > 0.0 && *f <= 1.0)
                    .unwrap_or(1.0);
                let clients = Arc::new(clients);
                let engine = Engine::new(
                    clients.clone(),
                    Arc::new(SystemClock),
                    PollPolicy::production().scaled(poll_scale),
                );
                resp.provider_data = Some(Arc::new(ProviderData {
                    clients,
                    engine,
                    preflight_slots: Semaphore::new(AWS_CALLS_IN_FLIGHT),
                }));
            }
            Err(e) => {
                let detail = format!("Configuring AWS access: {e}.");
                match e.attribute() {
                    Some(a) => resp.diagnostics.attribute_error(
                        AttributePath::parse(a),
                        "Invalid AWS Configuration",
                        detail,
                    ),
                    None => resp.diagnostics.error("Invalid AWS Configuration", detail),
                }
            }
        }
    }

    fn resources(&self) -> Vec<Arc<dyn Resource>> {
        crate::resources::all()
    }

    fn data_sources(&self) -> Vec<Arc<dyn DataSource>> {
        vec![
            Arc::new(DbInstanceDataSource),
            Arc::new(PreflightDataSource),
            Arc::new(UnencryptedDbInstancesDataSource),
        ]
    }
}

fn is_region(r: &str) -> bool {
    let parts: Vec<&str> = r.split('-').collect();
    parts.len() >= 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
        && parts
            .last()
            .is_some_and(|p| p.chars().all(|c| c.is_ascii_digit()))
}

fn opt_str(v: &Value) -> Option<String> {
    v.as_str().value().map(str::to_owned)
}

fn str_list(v: &Value) -> Vec<String> {
    v.elements().iter().filter_map(opt_str).collect()
}

/// Maps the provider block onto the AWS layer's settings.
pub fn settings_from_config(c: &Value) -> AwsSettings {
    let ar = c.get("assume_role");
    let ep = c.get("endpoints");
    AwsSettings {
        region: opt_str(c.get("region")),
        profile: opt_str(c.get("profile")),
        shared_config_files: str_list(c.get("shared_config_files")),
        shared_credentials_files: str_list(c.get("shared_credentials_files")),
        assume_role: opt_str(ar.get("role_arn")).map(|role_arn| AssumeRole {
            role_arn,
            session_name: opt_str(ar.get("session_name")),
            external_id: opt_str(ar.get("external_id")),
        }),
        endpoints: Endpoints {
            rds: opt_str(ep.get("rds")),
            dms: opt_str(ep.get("dms")),
            kms: opt_str(ep.get("kms")),
            cloudwatch: opt_str(ep.get("cloudwatch")),
            route53: opt_str(ep.get("route53")),
            secretsmanager: opt_str(ep.get("secretsmanager")),
            sts: opt_str(ep.get("sts")),
            ec2: opt_str(ep.get("ec2")),
        },
        max_retries: c
            .get("max_retries")
            .as_i64()
            .value()
            .and_then(|n| u32::try_from(n).ok()),
        skip_credentials_validation: c
            .get("skip_credentials_validation")
            .as_bool()
            .value()
            .unwrap_or(false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_provider_block_maps_onto_aws_settings() {
        let mut c = RdsencProvider.schema().block.empty_value();
        c.set("region", Value::string("eu-west-1"));
        c.set("max_retries", Value::int(3));
        let mut ep = RdsencProvider
            .schema()
            .block
            .find_block("endpoints")
            .map(|b| b.block.empty_value())
            .unwrap_or_default();
        ep.set("dms", Value::string("http://127.0.0.1:5000"));
        c.set("endpoints", ep);
        let s = settings_from_config(&c);
        assert_eq!(s.region.as_deref(), Some("eu-west-1"));
        assert_eq!(s.max_retries, Some(3));
        assert_eq!(s.endpoints.dms.as_deref(), Some("http://127.0.0.1:5000"));
        assert!(s.assume_role.is_none() && !s.skip_credentials_validation);
    }

    #[tokio::test]
    async fn bad_provider_settings_name_their_attribute() {
        let mut c = RdsencProvider.schema().block.empty_value();
        c.set("region", Value::string("Mars"));
        c.set("max_retries", Value::int(1000));
        let mut ep = Value::null_object(&Type::object([("rds", Type::String)]));
        ep.set("rds", Value::string("127.0.0.1:5000"));
        c.set("endpoints", ep);
        let mut resp = ValidateResponse::default();
        RdsencProvider
            .validate(ValidateRequest { config: c }, &mut resp)
            .await;
        let paths = resp.diagnostics.attribute_paths();
        assert_eq!(paths, vec!["max_retries", "region", "endpoints.rds"]);
    }
}
