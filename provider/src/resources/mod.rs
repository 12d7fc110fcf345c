//! Managed resources.

pub mod migration;
