//! Provider-level AWS settings and the shared SDK clients built from them.
//!
//! An empty provider block works from the standard environment, as terraform-provider-aws users
//! expect: `AWS_REGION`/`AWS_DEFAULT_REGION`, `AWS_PROFILE`, `AWS_ACCESS_KEY_ID`/
//! `AWS_SECRET_ACCESS_KEY`/`AWS_SESSION_TOKEN`, `AWS_CONFIG_FILE`/`AWS_SHARED_CREDENTIALS_FILE`,
//! `AWS_ENDPOINT_URL` and `AWS_ENDPOINT_URL_<SERVICE>` (e.g. `AWS_ENDPOINT_URL_RDS`,
//! `AWS_ENDPOINT_URL_DATABASE_MIGRATION_SERVICE`) are all read by `aws-config`'s default chain.
//! Anything set explicitly in [`AwsSettings`] wins over the environment.
//!
//! Retries: the SDK's *standard* retry mode (exponential backoff with full jitter, capped at
//! [`MAX_BACKOFF`], plus the client-side retry quota that stops retry storms on failing
//! endpoints). Throttling, 5xx and transient network errors are retried by the SDK up to
//! `max_retries` times (default [`DEFAULT_MAX_RETRIES`]). The default is lower than
//! terraform-provider-aws's 25 on purpose: the migration engine already requeues transient
//! failures with its own backoff around whole steps, so long SDK-level retry chains would only
//! delay cancellation and error reporting.
//!
//! Credentials are not checked at configuration: the first real call checks them anyway,
//! and a rejected credential there is an error that names the credential sources (see
//! [`AwsError`]'s classification). A separate STS GetCallerIdentity would cost every
//! provider process one call; [`Clients::caller_identity`] makes it only when asked, once.

use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use aws_config::environment::region::EnvironmentVariableRegionProvider;
use aws_config::meta::region::RegionProviderChain;
use aws_config::profile::region::ProfileFileRegionProvider;
use aws_config::sts::AssumeRoleProvider;
use aws_config::{BehaviorVersion, Region};
use aws_runtime::env_config::file::{EnvConfigFileKind, EnvConfigFiles};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::runtime_components::{
    RuntimeComponents, RuntimeComponentsBuilder,
};
use aws_smithy_types::config_bag::ConfigBag;
use aws_smithy_types::retry::RetryConfig;
use aws_types::SdkConfig;
use tokio::sync::Semaphore;

use rdsenc_engine::api::AwsError;

/// SDK retries after the first attempt when `max_retries` is not set (see the module docs).
pub const DEFAULT_MAX_RETRIES: u32 = 10;
/// Upper bound accepted for `max_retries`, so a typo cannot make a call retry for hours.
pub const MAX_MAX_RETRIES: u32 = 100;
/// First backoff of the standard retry strategy (jittered: the actual sleep is random below it).
pub const INITIAL_BACKOFF: Duration = Duration::from_millis(500);
/// Largest backoff between two SDK attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(20);
/// Most HTTP requests to AWS in flight at once from one provider process, across every
/// client, migration and data source. Each request in flight holds a pooled connection and
/// its buffers: unbounded, 100 migrations created at once opened ~800 connections and took
/// tens of MiB. AWS rate-limits the describe APIs per account anyway, so more in flight
/// would only be throttled; waiting for a slot costs a request milliseconds.
pub const MAX_CONCURRENT_REQUESTS: usize = 16;

/// A role to assume with STS before calling the services.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AssumeRole {
    /// ARN of the role to assume (required).
    pub role_arn: String,
    /// Session name; a generated one when absent.
    pub session_name: Option<String>,
    /// External id the role's trust policy requires, if any.
    pub external_id: Option<String>,
}

/// Per-service endpoint overrides (for emulators or VPC endpoints). `None` keeps the standard
/// resolution, which honours `AWS_ENDPOINT_URL_<SERVICE>` and `AWS_ENDPOINT_URL`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Endpoints {
    /// Amazon RDS.
    pub rds: Option<String>,
    /// AWS Database Migration Service.
    pub dms: Option<String>,
    /// AWS KMS.
    pub kms: Option<String>,
    /// Amazon CloudWatch.
    pub cloudwatch: Option<String>,
    /// Amazon Route 53.
    pub route53: Option<String>,
    /// AWS Secrets Manager.
    pub secretsmanager: Option<String>,
    /// AWS STS (credential validation and assume-role).
    pub sts: Option<String>,
    /// Amazon EC2 (reserved: no EC2 client is built yet).
    pub ec2: Option<String>,
}

impl Endpoints {
    /// Every endpoint set to the same URL: convenient for a single emulator process.
    pub fn all(url: &str) -> Self {
        let u = Some(url.to_owned());
        Endpoints {
            rds: u.clone(),
            dms: u.clone(),
            kms: u.clone(),
            cloudwatch: u.clone(),
            route53: u.clone(),
            secretsmanager: u.clone(),
            sts: u.clone(),
            ec2: u,
        }
    }

    /// `(attribute name, value)` for each override, for validation messages.
    fn iter(&self) -> [(&'static str, Option<&str>); 8] {
        [
            ("rds", self.rds.as_deref()),
            ("dms", self.dms.as_deref()),
            ("kms", self.kms.as_deref()),
            ("cloudwatch", self.cloudwatch.as_deref()),
            ("route53", self.route53.as_deref()),
            ("secretsmanager", self.secretsmanager.as_deref()),
            ("sts", self.sts.as_deref()),
            ("ec2", self.ec2.as_deref()),
        ]
    }
}

/// The provider block's AWS settings. Every field is optional (`Default` is an empty block).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AwsSettings {
    /// Region; else `AWS_REGION`/`AWS_DEFAULT_REGION`, else the profile's region.
    pub region: Option<String>,
    /// Named profile; else `AWS_PROFILE`, else `default`.
    pub profile: Option<String>,
    /// Shared config files replacing the default `~/.aws/config` (and `AWS_CONFIG_FILE`).
    pub shared_config_files: Vec<String>,
    /// Shared credentials files replacing the default `~/.aws/credentials`.
    pub shared_credentials_files: Vec<String>,
    /// Role to assume on top of the base credentials.
    pub assume_role: Option<AssumeRole>,
    /// Per-service endpoint overrides.
    pub endpoints: Endpoints,
    /// SDK retries after the first attempt; [`DEFAULT_MAX_RETRIES`] when `None`.
    pub max_retries: Option<u32>,
    /// Deprecated, no effect: configuration no longer calls STS (see the module docs).
    pub skip_credentials_validation: bool,
}

/// Why the AWS clients could not be configured. Each names the provider attribute to fix.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// No region anywhere (settings, environment or profile).
    #[error(
        "no AWS region is configured: set `region` in the provider block, or AWS_REGION / \
         AWS_DEFAULT_REGION in the environment, or `region` in the selected profile"
    )]
    MissingRegion,
    /// A setting has a value that cannot work.
    #[error("invalid `{attribute}`: {message}")]
    InvalidSetting {
        /// The provider attribute, e.g. `endpoints.rds` or `assume_role.role_arn`.
        attribute: String,
        /// What is wrong with it.
        message: String,
    },
    /// STS GetCallerIdentity rejected the credentials (never includes the credentials).
    #[error(
        "validating AWS credentials with STS GetCallerIdentity failed: {source}. Check the \
         credentials source (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, `profile`, \
         `shared_credentials_files`, `assume_role`)"
    )]
    CredentialsValidation {
        /// The classified STS failure.
        #[source]
        source: AwsError,
    },
}

impl ConfigError {
    /// The provider attribute the error is about, for the diagnostic's attribute path.
    pub fn attribute(&self) -> Option<&str> {
        match self {
            ConfigError::MissingRegion => Some("region"),
            ConfigError::InvalidSetting { attribute, .. } => Some(attribute),
            ConfigError::CredentialsValidation { .. } => None,
        }
    }
}

/// Who the credentials belong to (STS GetCallerIdentity).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerIdentity {
    /// The account id.
    pub account: String,
    /// The caller's ARN; its second field is the partition (`aws`, `aws-cn`, ...).
    pub arn: String,
}

impl CallerIdentity {
    /// The partition, from the caller's ARN (`aws` when the ARN is malformed).
    pub fn partition(&self) -> &str {
        self.arn
            .split(':')
            .nth(1)
            .filter(|p| !p.is_empty())
            .unwrap_or("aws")
    }
}

/// The SDK clients the provider uses: one shared [`SdkConfig`] (credentials, region, retry,
/// HTTP client) and one client per service, each built on first use.
pub struct Clients {
    sdk_config: SdkConfig,
    endpoints: Endpoints,
    identity: tokio::sync::OnceCell<CallerIdentity>,
    rds: OnceLock<aws_sdk_rds::Client>,
    dms: OnceLock<aws_sdk_databasemigration::Client>,
    kms: OnceLock<aws_sdk_kms::Client>,
    cloudwatch: OnceLock<aws_sdk_cloudwatch::Client>,
    route53: OnceLock<aws_sdk_route53::Client>,
    secretsmanager: OnceLock<aws_sdk_secretsmanager::Client>,
    sts: OnceLock<aws_sdk_sts::Client>,
}

impl fmt::Debug for Clients {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Clients")
            .field("region", &self.sdk_config.region())
            .field("endpoints", &self.endpoints)
            .field("identity", &self.identity.get())
            .finish_non_exhaustive()
    }
}

/// Defines a lazily built client accessor honouring the per-service endpoint override.
macro_rules! client_accessor {
    ($(#[$doc:meta])* $name:ident, $krate:ident) => {
        $(#[$doc])*
        pub fn $name(&self) -> &$krate::Client {
            self.$name.get_or_init(|| {
                let mut builder = $krate::config::Builder::from(&self.sdk_config);
                if let Some(url) = &self.endpoints.$name {
                    builder = builder.endpoint_url(url);
                }
                $krate::Client::from_conf(builder.build())
            })
        }
    };
}

impl Clients {
    /// Resolves credentials and region from `settings` over the standard environment and
    /// returns the clients. No AWS call is made: credentials are resolved and checked by the
    /// first real call (see the module docs).
    pub async fn load(settings: &AwsSettings) -> Result<Clients, ConfigError> {
        validate(settings)?;
        let max_retries = settings.max_retries.unwrap_or(DEFAULT_MAX_RETRIES);
        let retry = RetryConfig::standard()
            .with_max_attempts(max_retries + 1)
            .with_initial_backoff(INITIAL_BACKOFF)
            .with_max_backoff(MAX_BACKOFF);

        let region = resolve_region(settings)
            .await
            .ok_or(ConfigError::MissingRegion)?;
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .retry_config(retry)
            .region(region);
        if let Some(profile) = &settings.profile {
            loader = loader.profile_name(profile);
        }
        if let Some(files) = profile_files(settings) {
            loader = loader.profile_files(files);
        }
        let mut sdk_config = loader
            .http_client(LimitedHttpClient::new(
                default_https_client(),
                MAX_CONCURRENT_REQUESTS,
            ))
            .load()
            .await;

        if let Some(role) = &settings.assume_role {
            // The assume-role call itself goes to STS, so it must see the STS endpoint override.
            let mut base = sdk_config.clone();
            if let Some(sts) = &settings.endpoints.sts {
                base = base.into_builder().endpoint_url(sts).build();
            }
            let mut builder = AssumeRoleProvider::builder(&role.role_arn).configure(&base);
            if let Some(name) = &role.session_name {
                builder = builder.session_name(name);
            }
            if let Some(external_id) = &role.external_id {
                builder = builder.external_id(external_id);
            }
            let provider = builder.build().await;
            sdk_config = sdk_config
                .into_builder()
                .credentials_provider(
                    aws_credential_types::provider::SharedCredentialsProvider::new(provider),
                )
                .build();
        }

        Ok(Clients::from_sdk_config(
            sdk_config,
            settings.endpoints.clone(),
        ))
    }

    /// Who the credentials belong to: STS GetCallerIdentity on the first call, then cached
    /// for the life of the process.
    ///
    /// **Errors**: [`ConfigError::CredentialsValidation`] when STS rejects the credentials
    /// or cannot be reached (never includes the credentials).
    pub async fn caller_identity(&self) -> Result<&CallerIdentity, ConfigError> {
        self.identity
            .get_or_try_init(|| async {
                let out = self.sts().get_caller_identity().send().await.map_err(|e| {
                    ConfigError::CredentialsValidation {
                        source: crate::aws::error::classify(e),
                    }
                })?;
                Ok(CallerIdentity {
                    account: out.account.unwrap_or_default(),
                    arn: out.arn.unwrap_or_default(),
                })
            })
            .await
    }

    /// Clients over an already resolved configuration (tests, or callers with their own
    /// credential chain). No validation is done.
    pub fn from_sdk_config(sdk_config: SdkConfig, endpoints: Endpoints) -> Clients {
        Clients {
            sdk_config,
            endpoints,
            identity: tokio::sync::OnceCell::new(),
            rds: OnceLock::new(),
            dms: OnceLock::new(),
            kms: OnceLock::new(),
            cloudwatch: OnceLock::new(),
            route53: OnceLock::new(),
            secretsmanager: OnceLock::new(),
            sts: OnceLock::new(),
        }
    }

    /// The shared SDK configuration.
    pub fn sdk_config(&self) -> &SdkConfig {
        &self.sdk_config
    }

    /// The resolved region.
    pub fn region(&self) -> Option<&str> {
        self.sdk_config.region().map(|r| r.as_ref())
    }

    /// The caller's account id, when [`Clients::caller_identity`] has been asked.
    pub fn account_id(&self) -> Option<&str> {
        self.identity.get().map(|i| i.account.as_str())
    }

    client_accessor!(
        /// The Amazon RDS client.
        rds,
        aws_sdk_rds
    );
    client_accessor!(
        /// The AWS DMS client.
        dms,
        aws_sdk_databasemigration
    );
    client_accessor!(
        /// The AWS KMS client.
        kms,
        aws_sdk_kms
    );
    client_accessor!(
        /// The Amazon CloudWatch client (Smithy RPCv2 CBOR protocol).
        cloudwatch,
        aws_sdk_cloudwatch
    );
    client_accessor!(
        /// The Amazon Route 53 client.
        route53,
        aws_sdk_route53
    );
    client_accessor!(
        /// The AWS Secrets Manager client (the provider only describes secrets).
        secretsmanager,
        aws_sdk_secretsmanager
    );
    client_accessor!(
        /// The AWS STS client.
        sts,
        aws_sdk_sts
    );
}

/// The HTTPS client the SDK builds by default (hyper 1, rustls with aws-lc, proxy settings
/// from the environment), built here so it can be wrapped. One client, so one connection
/// pool for every service.
fn default_https_client() -> SharedHttpClient {
    use aws_smithy_http_client::proxy::ProxyConfig;
    use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
    aws_smithy_http_client::Builder::new().build_with_connector_fn(|settings, components| {
        let mut b = aws_smithy_http_client::ConnectorBuilder::default()
            .tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc));
        b.set_connector_settings(settings.cloned());
        if let Some(c) = components {
            b.set_sleep_impl(c.sleep_impl());
        }
        b.set_proxy_config(Some(ProxyConfig::from_env()));
        b.build()
    })
}

/// The SDK's HTTP client with at most `limit` requests in flight (see
/// [`MAX_CONCURRENT_REQUESTS`]); a request waits for a slot before it is sent. The slot is
/// taken per HTTP attempt, so SDK retry backoff does not hold one.
#[derive(Debug)]
struct LimitedHttpClient {
    inner: SharedHttpClient,
    slots: Arc<Semaphore>,
}

impl LimitedHttpClient {
    fn new(inner: SharedHttpClient, limit: usize) -> Self {
        Self {
            inner,
            slots: Arc::new(Semaphore::new(limit)),
        }
    }
}

impl HttpClient for LimitedHttpClient {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(LimitedConnector {
            inner: self.inner.http_connector(settings, components),
            slots: self.slots.clone(),
        })
    }

    fn validate_base_client_config(
        &self,
        runtime_components: &RuntimeComponentsBuilder,
        cfg: &ConfigBag,
    ) -> Result<(), BoxError> {
        self.inner
            .validate_base_client_config(runtime_components, cfg)
    }

    fn validate_final_config(
        &self,
        runtime_components: &RuntimeComponents,
        cfg: &ConfigBag,
    ) -> Result<(), BoxError> {
        self.inner.validate_final_config(runtime_components, cfg)
    }

    fn connector_metadata(&self) -> Option<ConnectorMetadata> {
        self.inner.connector_metadata()
    }
}

#[derive(Debug)]
struct LimitedConnector {
    inner: SharedHttpConnector,
    slots: Arc<Semaphore>,
}

impl HttpConnector for LimitedConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let inner = self.inner.clone();
        let slots = self.slots.clone();
        HttpConnectorFuture::new(async move {
            // Never closed; were it, the request would simply go unbounded.
            let _slot = slots.acquire_owned().await.ok();
            inner.call(request).await
        })
    }
}

/// Region: explicit setting, else `AWS_REGION`/`AWS_DEFAULT_REGION`, else the selected
/// profile's `region`. Deliberately not EC2 instance metadata (aws-config's default chain
/// would try it): on laptops and most CI runners that costs a timeout per `terraform` run,
/// and a region guessed from the runner's location is a poor default for a migration.
async fn resolve_region(settings: &AwsSettings) -> Option<Region> {
    if let Some(region) = &settings.region {
        return Some(Region::new(region.clone()));
    }
    let mut profile = ProfileFileRegionProvider::builder();
    if let Some(files) = profile_files(settings) {
        profile = profile.profile_files(files);
    }
    if let Some(name) = &settings.profile {
        profile = profile.profile_name(name);
    }
    RegionProviderChain::first_try(EnvironmentVariableRegionProvider::new())
        .or_else(profile.build())
        .region()
        .await
}

/// Checks the settings that can be checked without calling AWS.
fn validate(settings: &AwsSettings) -> Result<(), ConfigError> {
    if let Some(region) = &settings.region {
        let ok = !region.is_empty()
            && region
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !ok {
            return Err(invalid(
                "region",
                format!("{region:?} is not an AWS region name (e.g. \"eu-west-1\")"),
            ));
        }
    }
    if settings.profile.as_deref() == Some("") {
        return Err(invalid("profile", "must not be empty".to_owned()));
    }
    if let Some(n) = settings.max_retries
        && n > MAX_MAX_RETRIES
    {
        return Err(invalid(
            "max_retries",
            format!("{n} is more than the allowed {MAX_MAX_RETRIES}"),
        ));
    }
    if let Some(role) = &settings.assume_role {
        if !role.role_arn.starts_with("arn:") || !role.role_arn.contains(":role/") {
            return Err(invalid(
                "assume_role.role_arn",
                format!(
                    "{:?} is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)",
                    role.role_arn
                ),
            ));
        }
        if let Some(name) = &role.session_name {
            let ok = (2..=64).contains(&name.len())
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "=,.@-_".contains(c));
            if !ok {
                return Err(invalid(
                    "assume_role.session_name",
                    "must be 2-64 characters of letters, digits and =,.@-_".to_owned(),
                ));
            }
        }
    }
    for (name, url) in settings.endpoints.iter() {
        if let Some(url) = url {
            let ok = (url.starts_with("http://") || url.starts_with("https://"))
                && url.split("://").nth(1).is_some_and(|rest| !rest.is_empty());
            if !ok {
                return Err(invalid(
                    &format!("endpoints.{name}"),
                    format!("{url:?} is not an http:// or https:// URL"),
                ));
            }
        }
    }
    for (attribute, files) in [
        ("shared_config_files", &settings.shared_config_files),
        (
            "shared_credentials_files",
            &settings.shared_credentials_files,
        ),
    ] {
        if files.iter().any(String::is_empty) {
            return Err(invalid(attribute, "contains an empty path".to_owned()));
        }
    }
    Ok(())
}

fn invalid(attribute: &str, message: String) -> ConfigError {
    ConfigError::InvalidSetting {
        attribute: attribute.to_owned(),
        message,
    }
}

/// Explicit shared files replace the default ones of the same kind, as in terraform-provider-aws.
fn profile_files(settings: &AwsSettings) -> Option<EnvConfigFiles> {
    if settings.shared_config_files.is_empty() && settings.shared_credentials_files.is_empty() {
        return None;
    }
    let mut builder = EnvConfigFiles::builder()
        .include_default_config_file(settings.shared_config_files.is_empty())
        .include_default_credentials_file(settings.shared_credentials_files.is_empty());
    for file in &settings.shared_config_files {
        builder = builder.with_file(EnvConfigFileKind::Config, expand_home(file));
    }
    for file in &settings.shared_credentials_files {
        builder = builder.with_file(EnvConfigFileKind::Credentials, expand_home(file));
    }
    Some(builder.build())
}

/// `~/x` -> `$HOME/x`, as users write in Terraform configurations.
fn expand_home(path: &str) -> PathBuf {
    match (path.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => PathBuf::from(path),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_provider_block_passes_static_validation() {
        assert!(validate(&AwsSettings::default()).is_ok());
    }

    #[test]
    fn a_malformed_endpoint_is_rejected_naming_the_service_attribute() {
        let settings = AwsSettings {
            endpoints: Endpoints {
                dms: Some("localhost:4566".into()),
                ..Endpoints::default()
            },
            ..AwsSettings::default()
        };
        let err = validate(&settings).expect_err("must fail");
        assert_eq!(err.attribute(), Some("endpoints.dms"));
        assert!(err.to_string().contains("localhost:4566"), "{err}");
    }

    #[test]
    fn an_assume_role_without_a_role_arn_is_rejected() {
        let settings = AwsSettings {
            assume_role: Some(AssumeRole {
                role_arn: "rds-admin".into(),
                ..AssumeRole::default()
            }),
            ..AwsSettings::default()
        };
        let err = validate(&settings).expect_err("must fail");
        assert_eq!(err.attribute(), Some("assume_role.role_arn"));
    }

    #[test]
    fn too_many_retries_and_bad_regions_are_rejected() {
        let settings = AwsSettings {
            max_retries: Some(1000),
            ..AwsSettings::default()
        };
        assert_eq!(
            validate(&settings).expect_err("must fail").attribute(),
            Some("max_retries")
        );
        let settings = AwsSettings {
            region: Some("EU West".into()),
            ..AwsSettings::default()
        };
        assert_eq!(
            validate(&settings).expect_err("must fail").attribute(),
            Some("region")
        );
    }

    #[test]
    fn missing_region_error_names_the_region_attribute() {
        let err = ConfigError::MissingRegion;
        assert_eq!(err.attribute(), Some("region"));
        assert!(err.to_string().contains("`region`"));
    }

    #[test]
    fn explicit_credentials_files_replace_only_their_own_kind() {
        assert!(profile_files(&AwsSettings::default()).is_none());
        let settings = AwsSettings {
            shared_credentials_files: vec!["/tmp/creds".into()],
            ..AwsSettings::default()
        };
        let files = profile_files(&settings).expect("files");
        let debug = format!("{files:?}");
        assert!(debug.contains("/tmp/creds"), "{debug}");
    }
}
