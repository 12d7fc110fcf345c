//! The migration engine: phases and steps as plain Rust over the [`api::AwsApi`] interface.
//! It knows neither Terraform nor the AWS SDK.

pub mod api;
