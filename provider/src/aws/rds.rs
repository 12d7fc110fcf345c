//! Amazon RDS: DB instances and DB snapshots.
//!
//! Finders only: waiting on a status is the engine's job (`engine::core::Run::wait`), over the
//! domain types the adapter maps these SDK types to.

use aws_sdk_rds::Client;
use aws_sdk_rds::types::{BlueGreenDeployment, DbInstance, DbSnapshot, Filter, Tag};

use super::error::{Classify, operation_errors};
use super::{same_id, single};
use rdsenc_engine::api::AwsError;

/// Object kind used in messages for DB instances.
pub const KIND_DB_INSTANCE: &str = "RDS DB Instance";
/// Object kind used in messages for DB snapshots.
pub const KIND_DB_SNAPSHOT: &str = "RDS DB Snapshot";
/// Object kind used in messages for DB parameter groups.
pub const KIND_DB_PARAMETER_GROUP: &str = "RDS DB Parameter Group";
/// Object kind used in messages for blue/green deployments.
pub const KIND_BLUE_GREEN_DEPLOYMENT: &str = "RDS Blue/Green Deployment";

operation_errors! {
    aws_sdk_rds::operation::describe_db_instances::DescribeDBInstancesError => DbInstanceNotFoundFault;
    aws_sdk_rds::operation::describe_db_snapshots::DescribeDBSnapshotsError => DbSnapshotNotFoundFault;
    aws_sdk_rds::operation::create_db_snapshot::CreateDBSnapshotError => DbInstanceNotFoundFault;
    aws_sdk_rds::operation::copy_db_snapshot::CopyDBSnapshotError => DbSnapshotNotFoundFault;
    aws_sdk_rds::operation::delete_db_snapshot::DeleteDBSnapshotError => DbSnapshotNotFoundFault;
    aws_sdk_rds::operation::restore_db_instance_from_db_snapshot::RestoreDBInstanceFromDBSnapshotError => DbSnapshotNotFoundFault;
    aws_sdk_rds::operation::modify_db_instance::ModifyDBInstanceError => DbInstanceNotFoundFault;
    aws_sdk_rds::operation::modify_db_parameter_group::ModifyDBParameterGroupError => DbParameterGroupNotFoundFault;
    aws_sdk_rds::operation::copy_db_parameter_group::CopyDBParameterGroupError => DbParameterGroupNotFoundFault;
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

/// True when `tags` contains `key` = `value`.
fn has_tag(tags: &[Tag], key: &str, value: &str) -> bool {
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
    let request = client.describe_db_instances().db_instance_identifier(id);
    let out = request.send().await.about(KIND_DB_INSTANCE, id)?;
    let all = out.db_instances.unwrap_or_default();
    single(all, KIND_DB_INSTANCE, id, |i| {
        same_id(i.db_instance_identifier(), id)
    })
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
        .map_err(crate::aws::error::classify)
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

// ---------------------------------------------------------------------------------------------
// DB snapshots

/// The DB snapshot with identifier (or ARN, for shared/copied snapshots) `id`.
pub async fn find_db_snapshot_by_id(client: &Client, id: &str) -> Result<DbSnapshot, AwsError> {
    let request = client.describe_db_snapshots().db_snapshot_identifier(id);
    let out = request.send().await.about(KIND_DB_SNAPSHOT, id)?;
    let all = out.db_snapshots.unwrap_or_default();
    single(all, KIND_DB_SNAPSHOT, id, |s| {
        same_id(s.db_snapshot_identifier(), id) || s.db_snapshot_arn() == Some(id)
    })
}

// ---------------------------------------------------------------------------------------------
// Blue/green deployments

/// The blue/green deployment with identifier `id` (`bgd-...`). `NotFound` when it does not
/// exist (fault or empty result).
pub async fn find_blue_green_deployment_by_id(
    client: &Client,
    id: &str,
) -> Result<BlueGreenDeployment, AwsError> {
    let request = client
        .describe_blue_green_deployments()
        .blue_green_deployment_identifier(id);
    let out = request.send().await.about(KIND_BLUE_GREEN_DEPLOYMENT, id)?;
    let all = out.blue_green_deployments.unwrap_or_default();
    single(all, KIND_BLUE_GREEN_DEPLOYMENT, id, |d| {
        d.blue_green_deployment_identifier() == Some(id)
    })
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
        .map_err(crate::aws::error::context(KIND_BLUE_GREEN_DEPLOYMENT, name))?;
    single(all, KIND_BLUE_GREEN_DEPLOYMENT, name, |d| {
        d.blue_green_deployment_name() == Some(name)
    })
}
