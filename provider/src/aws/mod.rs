//! AWS access: one module per service with finders (not-found normalised), typed status enums
//! and small declarative waiters.
//!
//! - [`config`]: [`AwsSettings`] (the provider block) -> [`Clients`] (one shared `SdkConfig`,
//!   lazily built per-service clients, STS credential check).
//! - [`error`]: [`AwsError`], the only error of this layer; SDK errors are classified once
//!   ([`AwsError::from_sdk`]) so callers ask `is_not_found()` / `is_transient()`.
//! - [`rds`], [`dms`], [`kms`], [`cloudwatch`], [`route53`], [`secretsmanager`]: per service,
//!   in the order finders -> lists (paginated) -> status -> waiters.
//! - [`wait`]: the declarative waiter and the status-enum macro.
//! - [`adapter`]: `impl crate::engine::api::AwsApi for Clients` (SDK <-> domain types).

pub mod adapter;
pub mod cloudwatch;
pub mod config;
pub mod dms;
pub mod error;
pub mod kms;
pub mod rds;
pub mod route53;
pub mod secretsmanager;
pub mod wait;

pub use config::{AssumeRole, AwsSettings, Clients, ConfigError, Endpoints};
pub use error::AwsError;

/// `tracing` filter directives to append to any subscriber filter (e.g. the one built from
/// `TF_LOG`), as defence in depth: at TRACE the SDK's orchestrator logs the outgoing request
/// with `Debug`, which prints an in-memory body verbatim (DMS CreateEndpoint/ModifyEndpoint
/// bodies carry the database password). The current SDK wraps bodies for stalled-stream
/// protection first, so nothing leaks today (`tests/aws_secrets_logging.rs` checks both), but
/// that is an implementation detail; capping these targets at DEBUG does not depend on it.
pub const SDK_LOG_DIRECTIVES: &[&str] = &[
    "aws_smithy_runtime=debug",
    "aws_smithy_http_client=debug",
    "aws_sigv4=debug",
];

/// The targets [`SDK_LOG_DIRECTIVES`] caps, for filters built with
/// `tracing_subscriber::filter::Targets`: `.with_target(t, level.min(LevelFilter::DEBUG))`.
pub const SDK_LOG_TARGETS: &[&str] = &["aws_smithy_runtime", "aws_smithy_http_client", "aws_sigv4"];

use wait::WaitError;

/// Exactly one item whose identity matches, else `NotFound` / `TooManyResults`.
pub(crate) fn single<T>(
    items: Vec<T>,
    kind: &'static str,
    id: &str,
    matches: impl Fn(&T) -> bool,
) -> Result<T, AwsError> {
    let mut items: Vec<T> = items.into_iter().filter(|i| matches(i)).collect();
    match items.len() {
        0 => Err(AwsError::NotFound {
            kind,
            id: id.to_owned(),
        }),
        1 => Ok(items.remove(0)),
        count => Err(AwsError::TooManyResults {
            kind,
            id: id.to_owned(),
            count,
        }),
    }
}

/// `NotFound` -> `Ok(None)`, for status functions.
pub(crate) fn optional<T>(r: Result<T, AwsError>) -> Result<Option<T>, AwsError> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

pub(crate) fn gone(kind: &'static str, id: &str) -> WaitError {
    WaitError::Gone {
        kind,
        id: id.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_directives_and_targets_name_the_same_sdk_targets() {
        let from_directives: Vec<_> = SDK_LOG_DIRECTIVES
            .iter()
            .filter_map(|d| d.strip_suffix("=debug"))
            .collect();
        assert_eq!(from_directives, SDK_LOG_TARGETS);
    }
}
