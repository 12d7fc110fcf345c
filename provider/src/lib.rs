//! rdsenc: a Terraform provider that migrates live Amazon RDS instances to encrypted storage.
//!
//! Layers, each readable and testable alone:
//! - [`framework`]: values, schemas, diagnostics, the `Resource` trait;
//! - `protocol`: the tfplugin6 gRPC server, handshake and msgpack codec;
//! - `aws`: one module per AWS service (finders, status enums, waiters);
//! - `engine`: the migration reconciler over an AWS interface;
//! - `resources` / `data_sources`: the rdsenc schemas and their glue.

pub mod aws;
pub mod data_sources;
pub mod engine;
pub mod framework;
pub mod preflight;
pub mod protocol;
pub mod provider;
pub mod resources;
pub mod validators;
