//! The AWS interface the migration engine drives: one method per AWS operation, domain types
//! (never SDK types) and [`AwsError`] as the only error.
//!
//! The `aws` module implements [`AwsApi`] with the AWS SDK; the engine's tests implement it
//! with an in-memory fake on a virtual clock. Nothing here knows Terraform or the SDK.
//!
//! # Contract for implementations
//! - **Finders** (`describe_*`) return [`AwsError::NotFound`] when the object does not exist,
//!   whether AWS answered with a not-found fault or with an empty list (DMS does the latter),
//!   and [`AwsError::TooManyResults`] when a lookup by unique id matches several objects.
//! - **Creates** return [`AwsError::AlreadyExists`] when the identifier is taken; the engine
//!   then adopts the existing object only if it carries the migration's tags.
//! - **Deletes** of an object that is already gone return [`AwsError::NotFound`]; the engine
//!   treats that as success.
//! - Transient failures (throttling after the SDK's retries, 5xx, connection trouble, busy
//!   objects) map to the variants for which [`AwsError::is_transient`] is true; the engine
//!   retries those with backoff and never reads them as "not found".
//! - Status strings are parsed once, at the boundary, with the `from_aws` constructors of the
//!   status enums below; unknown values are kept in an `Other(String)` variant.
//! - Secrets ([`SecretString`]) are passed to AWS as is and never logged.

use std::collections::BTreeMap;
use std::fmt;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;

pub use crate::aws_error::AwsError;

/// Resource tags, sorted by key so comparisons and logs are stable.
pub type Tags = BTreeMap<String, String>;

macro_rules! aws_enum {
    // `default Other`: the enum defaults to `Other("")` (a field no response filled in);
    // `default Variant`: to that variant.
    (@default $name:ident Other) => {
        impl Default for $name {
            fn default() -> Self {
                Self::Other(String::new())
            }
        }
    };
    (@default $name:ident $def:ident) => {
        impl Default for $name {
            fn default() -> Self {
                Self::$def
            }
        }
    };
    (
        $(#[$meta:meta])*
        $name:ident $(default $def:ident)? {
            $( $(#[$vmeta:meta])* $variant:ident => $wire:literal ),+ $(,)?
        }
    ) => {
        $( aws_enum!(@default $name $def); )?

        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A value this version of the provider does not know, kept verbatim.
            Other(String),
        }

        impl $name {
            /// Parses the AWS wire value (ASCII case-insensitive); unknown values become `Other`.
            pub fn from_aws(s: &str) -> Self {
                $( if s.eq_ignore_ascii_case($wire) { return Self::$variant; } )+
                Self::Other(s.to_owned())
            }

            /// The AWS wire value.
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $wire, )+
                    Self::Other(s) => s,
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

// ---------------------------------------------------------------------------------------------
// Secrets and references

// ---------------------------------------------------------------------------------------------

/// A secret (a database password). `Debug` and `Display` print `<redacted>`; the value is only
/// reachable through [`SecretString::expose`], which the SDK implementation calls when it
/// builds a request. Not `Serialize`, so it cannot end up in state by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretString(String);

impl SecretString {
    /// Wraps a secret.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    /// The secret itself. Call only to hand it to AWS.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl fmt::Display for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// How a DMS object is looked up: by ARN (user-supplied ARNs) or by identifier (the
/// deterministic names the engine derives).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum DmsRef {
    /// `arn:aws:dms:...`; the implementation filters on the `*-arn` filter.
    Arn(String),
    /// The user-visible identifier; the implementation filters on the `*-id` filter.
    Id(String),
}

impl DmsRef {
    /// `Arn` when `s` starts with `arn:`, else `Id` (DMS identifiers cannot contain `:`).
    pub fn parse(s: &str) -> Self {
        if s.starts_with("arn:") {
            DmsRef::Arn(s.to_owned())
        } else {
            DmsRef::Id(s.to_owned())
        }
    }
    /// The ARN or identifier text.
    pub fn as_str(&self) -> &str {
        match self {
            DmsRef::Arn(s) | DmsRef::Id(s) => s,
        }
    }
}

impl fmt::Display for DmsRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

mod dms;
mod kms;
mod metrics_dns;
mod rds;

pub use dms::*;
pub use kms::*;
pub use metrics_dns::*;
pub use rds::*;

// ---------------------------------------------------------------------------------------------
// The trait
// ---------------------------------------------------------------------------------------------

/// Every AWS operation the migration performs. Object-safe: the engine holds an
/// `Arc<dyn AwsApi>`.
///
/// **Errors**: every method returns [`AwsError`]; see the module docs for the not-found,
/// already-exists and transient contract.
#[async_trait]
pub trait AwsApi: Send + Sync {
    // --- RDS instances ---

    /// `DescribeDBInstances` by identifier. `NotFound` when absent.
    async fn describe_db_instance(&self, identifier: &str) -> Result<DbInstance, AwsError>;

    /// `DescribeDBInstances` of the whole region (all pages): who else uses a DB parameter
    /// group the `read_only` write fence would change.
    async fn list_db_instances(&self) -> Result<Vec<DbInstance>, AwsError>;

    /// Every DB instance carrying tag `key` = `value` (all pages); for adoption and import.
    async fn list_db_instances_by_tag(
        &self,
        key: &str,
        value: &str,
    ) -> Result<Vec<DbInstance>, AwsError>;

    /// `RestoreDBInstanceFromDBSnapshot`. Returns the instance as first described.
    async fn restore_db_instance_from_snapshot(
        &self,
        input: &RestoreDbInstanceInput,
    ) -> Result<DbInstance, AwsError>;

    /// `ModifyDBInstance`.
    async fn modify_db_instance(
        &self,
        input: &ModifyDbInstanceInput,
    ) -> Result<DbInstance, AwsError>;

    /// `DescribeDBParameters`: the value of parameter `name` in DB parameter group `group`
    /// (`None`: the group sets none, the engine default applies). `NotFound` without the group.
    async fn describe_db_parameter(
        &self,
        group: &str,
        name: &str,
    ) -> Result<Option<String>, AwsError>;

    /// `ModifyDBParameterGroup` of one dynamic parameter with `ApplyMethod` `immediate`.
    async fn modify_db_parameter(&self, input: &ModifyDbParameterInput) -> Result<(), AwsError>;

    /// `CopyDBParameterGroup`. `AlreadyExists` when the target group's name is taken.
    async fn copy_db_parameter_group(
        &self,
        input: &CopyDbParameterGroupInput,
    ) -> Result<(), AwsError>;

    /// `DeleteDBInstance`. `NotFound` when already gone.
    async fn delete_db_instance(&self, input: &DeleteDbInstanceInput) -> Result<(), AwsError>;

    /// `StopDBInstance` (retire the source at finalize). `NotFound` when absent.
    async fn stop_db_instance(&self, identifier: &str) -> Result<DbInstance, AwsError>;

    /// `CreateDBInstanceReadReplica`.
    async fn create_read_replica(
        &self,
        input: &CreateReadReplicaInput,
    ) -> Result<DbInstance, AwsError>;

    // --- RDS snapshots ---

    /// `CreateDBSnapshot`.
    async fn create_db_snapshot(
        &self,
        input: &CreateDbSnapshotInput,
    ) -> Result<DbSnapshot, AwsError>;

    /// `DescribeDBSnapshots` by identifier (manual snapshots only). `NotFound` when absent.
    async fn describe_db_snapshot(&self, identifier: &str) -> Result<DbSnapshot, AwsError>;

    /// `CopyDBSnapshot` with a KMS key: the copy is encrypted.
    async fn copy_db_snapshot(&self, input: &CopyDbSnapshotInput) -> Result<DbSnapshot, AwsError>;

    /// `DeleteDBSnapshot`. `NotFound` when already gone.
    async fn delete_db_snapshot(&self, identifier: &str) -> Result<(), AwsError>;

    // --- RDS blue/green deployments ---

    /// `CreateBlueGreenDeployment`. `AlreadyExists` when the name is taken.
    async fn create_blue_green_deployment(
        &self,
        input: &CreateBlueGreenDeploymentInput,
    ) -> Result<BlueGreenDeployment, AwsError>;

    /// `DescribeBlueGreenDeployments` by identifier or by name (filter
    /// `blue-green-deployment-name`). `NotFound` when absent (fault or empty list).
    async fn describe_blue_green_deployment(
        &self,
        which: &BlueGreenRef,
    ) -> Result<BlueGreenDeployment, AwsError>;

    /// `SwitchoverBlueGreenDeployment` with `SwitchoverTimeout` in seconds.
    async fn switchover_blue_green_deployment(
        &self,
        identifier: &str,
        timeout_seconds: i32,
    ) -> Result<BlueGreenDeployment, AwsError>;

    /// `DeleteBlueGreenDeployment`; `delete_target` deletes the green instances too (RDS
    /// refuses it after a switchover). `NotFound` when already gone.
    async fn delete_blue_green_deployment(
        &self,
        identifier: &str,
        delete_target: bool,
    ) -> Result<(), AwsError>;

    // --- KMS ---

    /// `DescribeKey`: resolves a key id, key ARN, alias name (`alias/x`) or alias ARN.
    /// `NotFound` when the key or alias does not exist.
    async fn describe_kms_key(&self, key_id: &str) -> Result<KmsKey, AwsError>;

    // --- DMS replication subnet groups ---

    /// `CreateReplicationSubnetGroup`.
    async fn create_replication_subnet_group(
        &self,
        input: &CreateReplicationSubnetGroupInput,
    ) -> Result<ReplicationSubnetGroup, AwsError>;

    /// `DescribeReplicationSubnetGroups` by identifier. `NotFound` when absent.
    async fn describe_replication_subnet_group(
        &self,
        identifier: &str,
    ) -> Result<ReplicationSubnetGroup, AwsError>;

    /// `DeleteReplicationSubnetGroup`. `NotFound` when already gone.
    async fn delete_replication_subnet_group(&self, identifier: &str) -> Result<(), AwsError>;

    // --- DMS replication instances ---

    /// `CreateReplicationInstance`.
    async fn create_replication_instance(
        &self,
        input: &CreateReplicationInstanceInput,
    ) -> Result<ReplicationInstance, AwsError>;

    /// `DescribeReplicationInstances` filtered by ARN or identifier. `NotFound` when absent
    /// (DMS answers with an empty list).
    async fn describe_replication_instance(
        &self,
        which: &DmsRef,
    ) -> Result<ReplicationInstance, AwsError>;

    /// `DeleteReplicationInstance`. `NotFound` when already gone.
    async fn delete_replication_instance(&self, arn: &str) -> Result<(), AwsError>;

    // --- DMS endpoints ---

    /// `CreateEndpoint`. The implementation must return `AlreadyExists` when the identifier
    /// is taken, checking first if AWS (or the emulator) would silently replace it.
    async fn create_endpoint(&self, input: &CreateEndpointInput) -> Result<Endpoint, AwsError>;

    /// `DescribeEndpoints` filtered by ARN or identifier. `NotFound` when absent.
    async fn describe_endpoint(&self, which: &DmsRef) -> Result<Endpoint, AwsError>;

    /// `ModifyEndpoint`.
    async fn modify_endpoint(&self, input: &ModifyEndpointInput) -> Result<Endpoint, AwsError>;

    /// `DeleteEndpoint`. `NotFound` when already gone.
    async fn delete_endpoint(&self, arn: &str) -> Result<(), AwsError>;

    /// `TestConnection` between a replication instance and an endpoint.
    async fn test_connection(
        &self,
        replication_instance_arn: &str,
        endpoint_arn: &str,
    ) -> Result<Connection, AwsError>;

    /// `DescribeConnections` for one pair. `NotFound` when never tested.
    async fn describe_connection(
        &self,
        replication_instance_arn: &str,
        endpoint_arn: &str,
    ) -> Result<Connection, AwsError>;

    // --- DMS replication tasks ---

    /// `CreateReplicationTask`.
    async fn create_replication_task(
        &self,
        input: &CreateReplicationTaskInput,
    ) -> Result<ReplicationTask, AwsError>;

    /// `DescribeReplicationTasks` filtered by ARN or identifier, with stats. `NotFound` when
    /// absent.
    async fn describe_replication_task(&self, which: &DmsRef) -> Result<ReplicationTask, AwsError>;

    /// `ModifyReplicationTask` (task stopped, ready or failed).
    async fn modify_replication_task(
        &self,
        input: &ModifyReplicationTaskInput,
    ) -> Result<ReplicationTask, AwsError>;

    /// `StartReplicationTask`.
    async fn start_replication_task(
        &self,
        input: &StartReplicationTaskInput,
    ) -> Result<ReplicationTask, AwsError>;

    /// `StopReplicationTask`.
    async fn stop_replication_task(&self, arn: &str) -> Result<ReplicationTask, AwsError>;

    /// `DeleteReplicationTask`. `NotFound` when already gone.
    async fn delete_replication_task(&self, arn: &str) -> Result<(), AwsError>;

    /// `DescribeTableStatistics` for a task (all pages).
    async fn describe_table_statistics(
        &self,
        task_arn: &str,
    ) -> Result<Vec<TableStatistics>, AwsError>;

    // --- CloudWatch ---

    /// The latest `CDCLatencySource` / `CDCLatencyTarget` datapoints for a task.
    async fn cdc_latency(&self, query: &CdcLatencyQuery) -> Result<CdcLatency, AwsError>;

    // --- Route 53 ---

    /// UPSERTs a CNAME and returns the change id (without the `/change/` prefix).
    async fn upsert_cname(&self, input: &UpsertCnameInput) -> Result<String, AwsError>;

    /// `GetChange`: the change's status. `NotFound` when Route 53 does not know the id.
    async fn route53_change_status(&self, change_id: &str) -> Result<ChangeStatus, AwsError>;

    /// The CNAME `record_name` in the zone. `NotFound` when the zone or the record is absent.
    async fn describe_cname(
        &self,
        zone_id: &str,
        record_name: &str,
    ) -> Result<CnameRecord, AwsError>;

    // --- Tags (any RDS or DMS ARN; the implementation dispatches on the ARN's service) ---

    /// `ListTagsForResource`.
    async fn list_tags(&self, arn: &str) -> Result<Tags, AwsError>;

    /// `AddTagsToResource` (merges; existing keys are overwritten).
    async fn add_tags(&self, arn: &str, tags: &Tags) -> Result<(), AwsError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_statuses_are_pending_or_ready_never_both() {
        for st in DbInstanceStatus::PENDING {
            assert!(st.is_pending() && !st.is_ready(), "{st}");
        }
        for st in DbInstanceStatus::READY {
            assert!(st.is_ready() && !st.is_pending(), "{st}");
        }
        // Transitional per the RDS "DB instance status" page; the cutover rename waiter used to
        // fail on these instead of waiting.
        for st in [
            "configuring-iam-database-auth",
            "resetting-master-credentials",
            "upgrading",
        ] {
            assert!(DbInstanceStatus::from_aws(st).is_pending(), "{st}");
        }
        assert!(!DbInstanceStatus::Failed.is_pending() && !DbInstanceStatus::Failed.is_ready());
    }

    #[test]
    fn status_strings_parse_case_insensitively_and_keep_unknown_values() {
        assert_eq!(
            DbInstanceStatus::from_aws("backing-up"),
            DbInstanceStatus::BackingUp
        );
        assert_eq!(
            DbInstanceStatus::from_aws("Available"),
            DbInstanceStatus::Available
        );
        assert_eq!(
            DbInstanceStatus::from_aws("resetting-master-credentials"),
            DbInstanceStatus::ResettingMasterCredentials
        );
        assert_eq!(
            DbInstanceStatus::from_aws("some-new-state"),
            DbInstanceStatus::Other("some-new-state".into())
        );
        assert_eq!(SnapshotStatus::from_aws("pending"), SnapshotStatus::Pending);
        assert_eq!(
            ValidationState::from_aws("Mismatched records").as_str(),
            "Mismatched records"
        );
        assert_eq!(KmsKeyState::from_aws("Enabled"), KmsKeyState::Enabled);
        assert_eq!(StartType::ResumeProcessing.to_string(), "resume-processing");
        assert_eq!(
            BlueGreenStatus::from_aws("SWITCHOVER_COMPLETED"),
            BlueGreenStatus::SwitchoverCompleted
        );
        assert_eq!(
            BlueGreenStatus::from_aws("PROVISIONING_FAILED"),
            BlueGreenStatus::ProvisioningFailed
        );
    }

    #[test]
    fn secrets_never_print_in_debug_or_display() {
        let creds = EndpointCredentials::Password {
            username: "dms".into(),
            password: SecretString::new("hunter2"),
        };
        let dbg = format!("{creds:?}");
        assert!(!dbg.contains("hunter2"), "{dbg}");
        assert!(dbg.contains("<redacted>"));
        assert_eq!(SecretString::new("x").to_string(), "<redacted>");
        assert_eq!(SecretString::new("x").expose(), "x");
    }

    #[test]
    fn dms_refs_tell_arns_from_identifiers() {
        assert_eq!(
            DmsRef::parse("arn:aws:dms:us-east-1:123456789012:rep:ABC"),
            DmsRef::Arn("arn:aws:dms:us-east-1:123456789012:rep:ABC".into())
        );
        assert_eq!(
            DmsRef::parse("rdsenc-orders"),
            DmsRef::Id("rdsenc-orders".into())
        );
    }

    #[test]
    fn the_trait_is_object_safe() {
        fn takes(_: Option<std::sync::Arc<dyn AwsApi>>) {}
        takes(None);
    }
}
