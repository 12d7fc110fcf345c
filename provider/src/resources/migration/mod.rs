//! `rdsenc_migration`: the runbook as one resource.

pub mod schema;
pub mod validate;
