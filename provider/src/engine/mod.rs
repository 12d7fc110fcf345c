//! The migration engine: phases and steps as plain Rust over the [`api::AwsApi`] interface.
//! It knows neither Terraform nor the AWS SDK.

pub mod api;
pub mod checks;
pub mod clock;
pub mod core;
pub mod error;
pub mod fake;
pub mod names;
pub mod observe;
pub mod reconcile;
pub mod spec;
pub mod teardown;
pub mod update;

#[cfg(test)]
pub(crate) mod fixtures;
#[cfg(test)]
mod scenarios;
