//! The AWS reads preflight needs: describe and list only, nothing that changes or reveals a
//! secret. Domain types come from [`crate::api`].

use std::collections::BTreeMap;

use async_trait::async_trait;

use crate::api::{AwsError, DbInstance, KmsKey, ReplicationInstance, ReplicationSubnetGroup};

/// A Secrets Manager secret's metadata (DescribeSecret); never its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretMetadata {
    /// The secret's ARN.
    pub arn: String,
    /// The secret's name.
    pub name: String,
}

/// The source instance with what preflight needs beyond the engine's [`DbInstance`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SourceInstance {
    /// The instance.
    pub instance: DbInstance,
    /// `DBParameterGroups[0].ParameterApplyStatus`, e.g. `in-sync` or `pending-reboot`.
    pub parameter_apply_status: Option<String>,
}

/// Read-only AWS access for preflight checks and discovery. Object-safe.
///
/// Finders follow the [`crate::api`] contract: [`AwsError::NotFound`] when the object
/// does not exist.
#[async_trait]
pub trait PreflightApi: Send + Sync {
    /// The provider's region (`None` when unknown: the region check is skipped).
    fn region(&self) -> Option<String>;

    /// `DescribeDBInstances` by identifier.
    async fn describe_db_instance(&self, identifier: &str) -> Result<DbInstance, AwsError>;

    /// `DescribeDBInstances` by identifier, with the parameter group's apply status.
    async fn describe_source(&self, identifier: &str) -> Result<SourceInstance, AwsError>;

    /// Every DB instance in the region (all pages).
    async fn list_db_instances(&self) -> Result<Vec<DbInstance>, AwsError>;

    /// The values of `names` in DB parameter group `group`, engine defaults included (for a
    /// `default.*` group every value is an engine default). A name missing from the map has no
    /// value in the group. `NotFound` when the group does not exist.
    async fn describe_db_parameters(
        &self,
        group: &str,
        names: &[&str],
    ) -> Result<BTreeMap<String, String>, AwsError>;

    /// `DescribeKey`: key id, key ARN, alias name or alias ARN.
    async fn describe_kms_key(&self, key_id: &str) -> Result<KmsKey, AwsError>;

    /// `DescribeReplicationInstances` by ARN.
    async fn describe_replication_instance(
        &self,
        arn: &str,
    ) -> Result<ReplicationInstance, AwsError>;

    /// `DescribeReplicationSubnetGroups` by identifier.
    async fn describe_replication_subnet_group(
        &self,
        identifier: &str,
    ) -> Result<ReplicationSubnetGroup, AwsError>;

    /// `DescribeSecret` (name or ARN). `NotFound` when absent or scheduled for deletion.
    async fn describe_secret(&self, id: &str) -> Result<SecretMetadata, AwsError>;
}
