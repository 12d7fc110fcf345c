//! Discovery for `rdsenc_unencrypted_db_instances`: the region's unencrypted DB instances a
//! migration could take on.
//!
//! Read replicas are left out: a replica follows its primary, so it is migrated with it (the
//! primary's migration, then a new replica of the encrypted target), never on its own.

use crate::api::{AwsError, DbInstance, Tags};

use super::PreflightApi;
use super::engines::SUPPORTED_ENGINES;

/// Which instances to keep.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InventoryFilter {
    /// Engines to keep (`Engine` values, e.g. `mysql`); `None` keeps the engines rdsenc
    /// migrates (mysql, mariadb, postgres).
    pub engines: Option<Vec<String>>,
    /// Tags every kept instance must carry with these exact values.
    pub tags: Tags,
}

impl InventoryFilter {
    /// True when `db` is unencrypted, not a read replica, and passes the engine and tag filters.
    pub fn keeps(&self, db: &DbInstance) -> bool {
        let engine = db.engine.as_str();
        let engine_ok = match &self.engines {
            Some(list) => list.iter().any(|e| e.eq_ignore_ascii_case(engine)),
            None => SUPPORTED_ENGINES
                .iter()
                .any(|e| e.eq_ignore_ascii_case(engine)),
        };
        !db.storage_encrypted
            && db.read_replica_source.is_none()
            && engine_ok
            && self.tags.iter().all(|(k, v)| db.tags.get(k) == Some(v))
    }
}

/// The instances `filter` keeps, sorted by identifier.
pub fn select(instances: Vec<DbInstance>, filter: &InventoryFilter) -> Vec<DbInstance> {
    let mut kept: Vec<DbInstance> = instances.into_iter().filter(|d| filter.keeps(d)).collect();
    kept.sort_by(|a, b| a.identifier.cmp(&b.identifier));
    kept
}

/// Lists every DB instance of the region (all pages) and keeps what `filter` keeps, sorted.
pub async fn list_unencrypted(
    api: &dyn PreflightApi,
    filter: &InventoryFilter,
) -> Result<Vec<DbInstance>, AwsError> {
    Ok(select(api.list_db_instances().await?, filter))
}
