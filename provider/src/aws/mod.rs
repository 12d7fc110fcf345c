//! AWS access through the official SDK: one module per service with its finders (not-found
//! normalised) and the SDK calls the adapter needs. No waiting and no status vocabulary here:
//! the adapter maps SDK types to the engine's domain types, whose status enums say which
//! statuses are pending, and the engine's waiter polls.
//!
//! - [`config`]: [`AwsSettings`] (the provider block) -> [`Clients`] (one shared `SdkConfig`,
//!   lazily built per-service clients, STS credential check).
//! - [`error`]: SDK errors are classified once ([`error::from_sdk`]) into the engine's
//!   [`AwsError`], so callers ask `is_not_found()` / `is_transient()`.
//! - [`rds`], [`dms`], [`kms`], [`cloudwatch`], [`route53`], [`secretsmanager`]: per service,
//!   finders first.
//! - [`adapter`]: `impl rdsenc_engine::api::AwsApi for Clients` (SDK <-> domain types).

pub mod adapter;
pub mod cloudwatch;
pub mod config;
pub mod dms;
pub mod error;
pub mod kms;
pub mod rds;
pub mod route53;
pub mod secretsmanager;

pub use config::{AssumeRole, AwsSettings, Clients, ConfigError, Endpoints};
use rdsenc_engine::api::AwsError;

/// SDK `tracing` targets to cap at DEBUG in any subscriber filter (e.g. the one built from
/// `TF_LOG`), as defence in depth: at TRACE the SDK's orchestrator logs the outgoing request
/// with `Debug`, which prints an in-memory body verbatim (DMS CreateEndpoint/ModifyEndpoint
/// bodies carry the database password). The current SDK wraps bodies for stalled-stream
/// protection first, so nothing leaks today (`tests/aws_secrets_logging.rs` checks both), but
/// that is an implementation detail; capping these targets does not depend on it. With
/// `tracing_subscriber::filter::Targets`: `.with_target(t, level.min(LevelFilter::DEBUG))`.
pub const SDK_LOG_TARGETS: &[&str] = &["aws_smithy_runtime", "aws_smithy_http_client", "aws_sigv4"];

/// Exactly one item whose identity matches, else `NotFound` / `TooManyResults`.
pub(crate) fn single<T>(
    items: Vec<T>,
    kind: &'static str,
    id: &str,
    matches: impl Fn(&T) -> bool,
) -> Result<T, AwsError> {
    let mut items: Vec<T> = items.into_iter().filter(|i| matches(i)).collect();
    match items.len() {
        0 => Err(error::not_found(kind, id)),
        1 => Ok(items.remove(0)),
        count => Err(AwsError::TooManyResults {
            kind,
            id: id.to_owned(),
            count,
        }),
    }
}

/// True when the identifier AWS answered is `id` (AWS identifiers ignore case).
pub(crate) fn same_id(answered: Option<&str>, id: &str) -> bool {
    answered.is_some_and(|x| x.eq_ignore_ascii_case(id))
}
