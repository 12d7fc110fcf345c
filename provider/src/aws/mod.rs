//! AWS access: one module per service with finders (not-found normalised), typed status enums
//! and small declarative waiters.

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
