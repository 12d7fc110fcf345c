//! Amazon RDS: DB instances and DB snapshots.
//!
//! Order: finders -> list (paginated) -> status -> waiters, per object kind.

use std::time::Duration;

use aws_sdk_rds::Client;
use aws_sdk_rds::types::{BlueGreenDeployment, DbInstance, DbSnapshot, Filter, Tag};

use super::error::{AwsError, operation_errors};
use super::wait::{WaitError, WaitOptions, WaitSpec, status_enum, wait_for};
use super::{gone, optional, single};

/// Object kind used in messages for DB instances.
pub const KIND_DB_INSTANCE: &str = "RDS DB Instance";
/// Object kind used in messages for DB snapshots.
pub const KIND_DB_SNAPSHOT: &str = "RDS DB Snapshot";
/// Object kind used in messages for blue/green deployments.
pub const KIND_BLUE_GREEN_DEPLOYMENT: &str = "RDS Blue/Green Deployment";

// Timeouts (defaults of the waiters; callers pass their own from the resource's `timeouts`).
/// Default wait for a DB instance to become available (create, restore, modify, rename).
pub const DB_INSTANCE_AVAILABLE_TIMEOUT: Duration = Duration::from_secs(90 * 60);
/// Default wait for a DB instance to disappear.
pub const DB_INSTANCE_DELETED_TIMEOUT: Duration = Duration::from_secs(60 * 60);
/// Default wait for a DB snapshot (create or copy) to become available.
pub const DB_SNAPSHOT_AVAILABLE_TIMEOUT: Duration = Duration::from_secs(4 * 60 * 60);
/// Default wait for a DB snapshot to disappear.
pub const DB_SNAPSHOT_DELETED_TIMEOUT: Duration = Duration::from_secs(20 * 60);
/// Default wait for a blue/green deployment to become available (green created).
pub const BLUE_GREEN_AVAILABLE_TIMEOUT: Duration = Duration::from_secs(12 * 60 * 60);

operation_errors! {
    aws_sdk_rds::operation::describe_db_instances::DescribeDBInstancesError => DbInstanceNotFoundFault;
    aws_sdk_rds::operation::describe_db_snapshots::DescribeDBSnapshotsError => DbSnapshotNotFoundFault;
    aws_sdk_rds::operation::create_db_snapshot::CreateDBSnapshotError => DbInstanceNotFoundFault;
    aws_sdk_rds::operation::copy_db_snapshot::CopyDBSnapshotError => DbSnapshotNotFoundFault;
    aws_sdk_rds::operation::delete_db_snapshot::DeleteDBSnapshotError => DbSnapshotNotFoundFault;
    aws_sdk_rds::operation::restore_db_instance_from_db_snapshot::RestoreDBInstanceFromDBSnapshotError => DbSnapshotNotFoundFault;
    aws_sdk_rds::operation::modify_db_instance::ModifyDBInstanceError => DbInstanceNotFoundFault;
    aws_sdk_rds::operation::delete_db_instance::DeleteDBInstanceError => DbInstanceNotFoundFault;
    aws_sdk_rds::operation::create_db_instance_read_replica::CreateDBInstanceReadReplicaError => DbInstanceNotFoundFault;
    aws_sdk_rds::operation::list_tags_for_resource::ListTagsForResourceError => DbInstanceNotFoundFault, DbSnapshotNotFoundFault;
    aws_sdk_rds::operation::add_tags_to_resource::AddTagsToResourceError => DbInstanceNotFoundFault, DbSnapshotNotFoundFault;
    aws_sdk_rds::operation::stop_db_instance::StopDBInstanceError => DbInstanceNotFoundFault;
    aws_sdk_rds::operation::create_blue_green_deployment::CreateBlueGreenDeploymentError => DbInstanceNotFoundFault;
    aws_sdk_rds::operation::describe_blue_green_deployments::DescribeBlueGreenDeploymentsError => BlueGreenDeploymentNotFoundFault;
    aws_sdk_rds::operation::switchover_blue_green_deployment::SwitchoverBlueGreenDeploymentError => BlueGreenDeploymentNotFoundFault;
    aws_sdk_rds::operation::delete_blue_green_deployment::DeleteBlueGreenDeploymentError => BlueGreenDeploymentNotFoundFault;
}

status_enum!(
    /// `DBInstanceStatus` as RDS documents it.
    pub DbInstanceStatus {
        /// `available`.
        Available => "available",
        /// `backing-up`.
        BackingUp => "backing-up",
        /// `creating`.
        Creating => "creating",
        /// `deleting`.
        Deleting => "deleting",
        /// `modifying`.
        Modifying => "modifying",
        /// `rebooting`.
        Rebooting => "rebooting",
        /// `renaming`.
        Renaming => "renaming",
        /// `starting`.
        Starting => "starting",
        /// `stopping`.
        Stopping => "stopping",
        /// `stopped`.
        Stopped => "stopped",
        /// `upgrading`.
        Upgrading => "upgrading",
        /// `maintenance`.
        Maintenance => "maintenance",
        /// `configuring-enhanced-monitoring`.
        ConfiguringEnhancedMonitoring => "configuring-enhanced-monitoring",
        /// `configuring-log-exports`.
        ConfiguringLogExports => "configuring-log-exports",
        /// `configuring-iam-database-auth`.
        ConfiguringIamDatabaseAuth => "configuring-iam-database-auth",
        /// `resetting-master-credentials`.
        ResettingMasterCredentials => "resetting-master-credentials",
        /// `storage-optimization`.
        StorageOptimization => "storage-optimization",
        /// `storage-full`.
        StorageFull => "storage-full",
        /// `failed`.
        Failed => "failed",
        /// `incompatible-restore`.
        IncompatibleRestore => "incompatible-restore",
        /// `incompatible-parameters`.
        IncompatibleParameters => "incompatible-parameters",
        /// `inaccessible-encryption-credentials`.
        InaccessibleEncryptionCredentials => "inaccessible-encryption-credentials",
    }
);

status_enum!(
    /// `Status` of a DB snapshot.
    pub DbSnapshotStatus {
        /// `available`.
        Available => "available",
        /// `creating`.
        Creating => "creating",
        /// `copying` (a copy in progress).
        Copying => "copying",
        /// `pending`.
        Pending => "pending",
        /// `deleting`.
        Deleting => "deleting",
        /// `failed`.
        Failed => "failed",
    }
);

status_enum!(
    /// `Status` of a blue/green deployment.
    pub BlueGreenDeploymentStatus {
        /// `PROVISIONING`.
        Provisioning => "PROVISIONING",
        /// `AVAILABLE`.
        Available => "AVAILABLE",
        /// `SWITCHOVER_IN_PROGRESS`.
        SwitchoverInProgress => "SWITCHOVER_IN_PROGRESS",
        /// `SWITCHOVER_COMPLETED`.
        SwitchoverCompleted => "SWITCHOVER_COMPLETED",
        /// `INVALID_CONFIGURATION`.
        InvalidConfiguration => "INVALID_CONFIGURATION",
        /// `PROVISIONING_FAILED`.
        ProvisioningFailed => "PROVISIONING_FAILED",
        /// `SWITCHOVER_FAILED`.
        SwitchoverFailed => "SWITCHOVER_FAILED",
        /// `DELETING`.
        Deleting => "DELETING",
    }
);

const BLUE_GREEN_PENDING: &[BlueGreenDeploymentStatus] = &[BlueGreenDeploymentStatus::Provisioning];
const BLUE_GREEN_AVAILABLE: &[BlueGreenDeploymentStatus] = &[BlueGreenDeploymentStatus::Available];

/// Pending statuses of an instance on its way to `available` (create, restore, modify, rename).
pub const DB_INSTANCE_PENDING: &[DbInstanceStatus] = &[
    DbInstanceStatus::Creating,
    DbInstanceStatus::BackingUp,
    DbInstanceStatus::Modifying,
    DbInstanceStatus::Rebooting,
    DbInstanceStatus::Renaming,
    DbInstanceStatus::Starting,
    DbInstanceStatus::Upgrading,
    DbInstanceStatus::Maintenance,
    DbInstanceStatus::ConfiguringEnhancedMonitoring,
    DbInstanceStatus::ConfiguringLogExports,
    DbInstanceStatus::ConfiguringIamDatabaseAuth,
    DbInstanceStatus::ResettingMasterCredentials,
    DbInstanceStatus::StorageOptimization,
];
const DB_INSTANCE_AVAILABLE: &[DbInstanceStatus] = &[DbInstanceStatus::Available];
const DB_INSTANCE_DELETING: &[DbInstanceStatus] = &[
    DbInstanceStatus::Available,
    DbInstanceStatus::BackingUp,
    DbInstanceStatus::Modifying,
    DbInstanceStatus::Deleting,
    DbInstanceStatus::Stopped,
    DbInstanceStatus::Stopping,
];
const DB_SNAPSHOT_PENDING: &[DbSnapshotStatus] = &[
    DbSnapshotStatus::Creating,
    DbSnapshotStatus::Copying,
    DbSnapshotStatus::Pending,
];
const DB_SNAPSHOT_AVAILABLE: &[DbSnapshotStatus] = &[DbSnapshotStatus::Available];
const DB_SNAPSHOT_DELETING: &[DbSnapshotStatus] =
    &[DbSnapshotStatus::Available, DbSnapshotStatus::Deleting];

/// The typed status of an instance (`Other("")` when RDS sent none).
pub fn db_instance_status(instance: &DbInstance) -> DbInstanceStatus {
    DbInstanceStatus::from(instance.db_instance_status().unwrap_or_default())
}

/// The typed status of a snapshot (`Other("")` when RDS sent none).
pub fn db_snapshot_status(snapshot: &DbSnapshot) -> DbSnapshotStatus {
    DbSnapshotStatus::from(snapshot.status().unwrap_or_default())
}

/// True when `tags` contains `key` = `value`.
pub fn has_tag(tags: &[Tag], key: &str, value: &str) -> bool {
    tags.iter()
        .any(|t| t.key() == Some(key) && t.value() == Some(value))
}

// ---------------------------------------------------------------------------------------------
// DB instances

/// The DB instance with identifier `id`. `NotFound` when it does not exist (fault or empty
/// result); `TooManyResults` when RDS answers with more than one.
pub async fn find_db_instance_by_id(
    client: &aws_sdk_rds::Client,
    id: &str,
) -> Result<aws_sdk_rds::types::DbInstance, AwsError> {
    let out = client
        .describe_db_instances()
        .db_instance_identifier(id)
        .send()
        .await
        .map_err(AwsError::context(KIND_DB_INSTANCE, id))?;
    single(
        out.db_instances.unwrap_or_default(),
        KIND_DB_INSTANCE,
        id,
        |i| {
            i.db_instance_identifier()
                .is_some_and(|x| x.eq_ignore_ascii_case(id))
        },
    )
}

/// Every DB instance matching `filters` (all pages).
pub async fn find_db_instances(
    client: &Client,
    filters: Vec<Filter>,
) -> Result<Vec<DbInstance>, AwsError> {
    client
        .describe_db_instances()
        .set_filters((!filters.is_empty()).then_some(filters))
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(AwsError::classify)
}

/// Every DB instance carrying the tag `key` = `value` (DescribeDBInstances cannot filter by
/// tag, so this pages through all instances and checks their `TagList`).
pub async fn find_db_instances_by_tag(
    client: &Client,
    key: &str,
    value: &str,
) -> Result<Vec<DbInstance>, AwsError> {
    let all = find_db_instances(client, Vec::new()).await?;
    Ok(all
        .into_iter()
        .filter(|i| has_tag(i.tag_list(), key, value))
        .collect())
}

/// The instance and its status, or `None` when it is gone.
pub async fn status_db_instance(
    client: &Client,
    id: &str,
) -> Result<Option<(DbInstance, DbInstanceStatus)>, AwsError> {
    optional(find_db_instance_by_id(client, id).await).map(|o| {
        o.map(|i| {
            let s = db_instance_status(&i);
            (i, s)
        })
    })
}

/// Waits until the instance is `available`.
pub async fn wait_db_instance_available(
    client: &Client,
    id: &str,
    timeout: Duration,
    opts: &WaitOptions,
) -> Result<DbInstance, WaitError> {
    let spec = WaitSpec {
        kind: KIND_DB_INSTANCE,
        id,
        pending: DB_INSTANCE_PENDING,
        target: DB_INSTANCE_AVAILABLE,
        timeout,
    };
    wait_for(spec, opts, || status_db_instance(client, id))
        .await?
        .ok_or_else(|| gone(KIND_DB_INSTANCE, id))
}

/// Waits until the instance no longer exists.
pub async fn wait_db_instance_deleted(
    client: &Client,
    id: &str,
    timeout: Duration,
    opts: &WaitOptions,
) -> Result<(), WaitError> {
    let spec = WaitSpec {
        kind: KIND_DB_INSTANCE,
        id,
        pending: DB_INSTANCE_DELETING,
        target: &[],
        timeout,
    };
    wait_for(spec, opts, || status_db_instance(client, id))
        .await
        .map(|_| ())
}

// ---------------------------------------------------------------------------------------------
// DB snapshots

/// The DB snapshot with identifier (or ARN, for shared/copied snapshots) `id`.
pub async fn find_db_snapshot_by_id(client: &Client, id: &str) -> Result<DbSnapshot, AwsError> {
    let out = client
        .describe_db_snapshots()
        .db_snapshot_identifier(id)
        .send()
        .await
        .map_err(AwsError::context(KIND_DB_SNAPSHOT, id))?;
    single(
        out.db_snapshots.unwrap_or_default(),
        KIND_DB_SNAPSHOT,
        id,
        |s| {
            s.db_snapshot_identifier()
                .is_some_and(|x| x.eq_ignore_ascii_case(id))
                || s.db_snapshot_arn() == Some(id)
        },
    )
}

/// Manual snapshots (all pages), optionally of one instance. Automated snapshots are excluded:
/// the provider never adopts or deletes them.
pub async fn find_db_snapshots(
    client: &Client,
    db_instance_id: Option<&str>,
) -> Result<Vec<DbSnapshot>, AwsError> {
    client
        .describe_db_snapshots()
        .set_db_instance_identifier(db_instance_id.map(str::to_owned))
        .snapshot_type("manual")
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| match db_instance_id {
            Some(id) => AwsError::from_sdk(e, KIND_DB_INSTANCE, id),
            None => AwsError::classify(e),
        })
}

/// The snapshot and its status, or `None` when it is gone.
pub async fn status_db_snapshot(
    client: &Client,
    id: &str,
) -> Result<Option<(DbSnapshot, DbSnapshotStatus)>, AwsError> {
    optional(find_db_snapshot_by_id(client, id).await).map(|o| {
        o.map(|s| {
            let st = db_snapshot_status(&s);
            (s, st)
        })
    })
}

/// Waits until the snapshot (a new one or a copy) is `available`.
pub async fn wait_db_snapshot_available(
    client: &Client,
    id: &str,
    timeout: Duration,
    opts: &WaitOptions,
) -> Result<DbSnapshot, WaitError> {
    let spec = WaitSpec {
        kind: KIND_DB_SNAPSHOT,
        id,
        pending: DB_SNAPSHOT_PENDING,
        target: DB_SNAPSHOT_AVAILABLE,
        timeout,
    };
    wait_for(spec, opts, || status_db_snapshot(client, id))
        .await?
        .ok_or_else(|| gone(KIND_DB_SNAPSHOT, id))
}

/// Waits until the snapshot no longer exists.
pub async fn wait_db_snapshot_deleted(
    client: &Client,
    id: &str,
    timeout: Duration,
    opts: &WaitOptions,
) -> Result<(), WaitError> {
    let spec = WaitSpec {
        kind: KIND_DB_SNAPSHOT,
        id,
        pending: DB_SNAPSHOT_DELETING,
        target: &[],
        timeout,
    };
    wait_for(spec, opts, || status_db_snapshot(client, id))
        .await
        .map(|_| ())
}

// ---------------------------------------------------------------------------------------------
// Blue/green deployments

/// The typed status of a blue/green deployment (`Other("")` when RDS sent none).
pub fn blue_green_deployment_status(d: &BlueGreenDeployment) -> BlueGreenDeploymentStatus {
    BlueGreenDeploymentStatus::from(d.status().unwrap_or_default())
}

/// The blue/green deployment with identifier `id` (`bgd-...`). `NotFound` when it does not
/// exist (fault or empty result).
pub async fn find_blue_green_deployment_by_id(
    client: &Client,
    id: &str,
) -> Result<BlueGreenDeployment, AwsError> {
    let out = client
        .describe_blue_green_deployments()
        .blue_green_deployment_identifier(id)
        .send()
        .await
        .map_err(AwsError::context(KIND_BLUE_GREEN_DEPLOYMENT, id))?;
    single(
        out.blue_green_deployments.unwrap_or_default(),
        KIND_BLUE_GREEN_DEPLOYMENT,
        id,
        |d| d.blue_green_deployment_identifier() == Some(id),
    )
}

/// The blue/green deployment named `name` (filter `blue-green-deployment-name`).
/// `NotFound` when none; `TooManyResults` when several carry the name.
pub async fn find_blue_green_deployment_by_name(
    client: &Client,
    name: &str,
) -> Result<BlueGreenDeployment, AwsError> {
    let filter = Filter::builder()
        .name("blue-green-deployment-name")
        .values(name)
        .build();
    let all: Vec<BlueGreenDeployment> = client
        .describe_blue_green_deployments()
        .filters(filter)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(AwsError::context(KIND_BLUE_GREEN_DEPLOYMENT, name))?;
    single(all, KIND_BLUE_GREEN_DEPLOYMENT, name, |d| {
        d.blue_green_deployment_name() == Some(name)
    })
}

/// The deployment and its status, or `None` when it is gone.
pub async fn status_blue_green_deployment(
    client: &Client,
    id: &str,
) -> Result<Option<(BlueGreenDeployment, BlueGreenDeploymentStatus)>, AwsError> {
    optional(find_blue_green_deployment_by_id(client, id).await).map(|o| {
        o.map(|d| {
            let s = blue_green_deployment_status(&d);
            (d, s)
        })
    })
}

/// Waits until the deployment is `AVAILABLE` (its green instances are checked by the
/// engine).
pub async fn wait_blue_green_deployment_available(
    client: &Client,
    id: &str,
    timeout: Duration,
    opts: &WaitOptions,
) -> Result<BlueGreenDeployment, WaitError> {
    let spec = WaitSpec {
        kind: KIND_BLUE_GREEN_DEPLOYMENT,
        id,
        pending: BLUE_GREEN_PENDING,
        target: BLUE_GREEN_AVAILABLE,
        timeout,
    };
    wait_for(spec, opts, || status_blue_green_deployment(client, id))
        .await?
        .ok_or_else(|| gone(KIND_BLUE_GREEN_DEPLOYMENT, id))
}
