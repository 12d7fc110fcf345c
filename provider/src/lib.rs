//! rdsenc: a Terraform provider that migrates live Amazon RDS instances to encrypted storage.
//!
//! Layers, each readable and testable alone:
//! - [`framework`]: values, schemas, diagnostics, the `Resource` trait;
//! - `protocol`: the tfplugin6 gRPC server, handshake and msgpack codec;
//! - `aws`: one module per AWS service (finders) and the `AwsApi` adapter over the SDK;
//! - the migration engine itself is the `rdsenc-engine` crate (`rdsenc_engine`): domain types,
//!   the `AwsApi` traits `aws` implements, the phases and preflight's checks, no SDK;
//! - `preflight`: preflight's Terraform side (input from configuration, findings as
//!   diagnostics) and its SDK glue;
//! - `resources` / `data_sources`: the rdsenc schemas and their glue.

pub mod aws;
pub mod data_sources;
pub mod framework;
pub mod preflight;
pub mod protocol;
pub mod provider;
pub mod resources;
pub mod validators;
