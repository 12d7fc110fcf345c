//! Managed resources.

pub mod migration;

use std::sync::Arc;

use crate::framework::Resource;

/// Every managed resource type of the provider.
pub fn all() -> Vec<Arc<dyn Resource>> {
    vec![Arc::new(migration::MigrationResource)]
}
