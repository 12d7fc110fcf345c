//! AWS DMS: replication subnet groups, replication instances, endpoints, connections,
//! replication tasks and table statistics.
//!
//! DMS describes take filters and answer an EMPTY list for a missing object (always in moto,
//! and in AWS for filter misses) or `ResourceNotFoundFault`: both become `AwsError::NotFound`.
//!
//! Finders only: waiting on a status is the engine's job (`engine::core::Run::wait`).

use aws_sdk_databasemigration::Client;
use aws_sdk_databasemigration::types::{
    Connection, Endpoint, Filter, ReplicationInstance, ReplicationSubnetGroup, ReplicationTask,
    TableStatistics,
};

use super::error::{Classify, operation_errors};
use super::{same_id, single};
use rdsenc_engine::api::AwsError;

/// Object kind used in messages for replication instances.
pub const KIND_REPLICATION_INSTANCE: &str = "DMS Replication Instance";
/// Object kind used in messages for replication subnet groups.
pub const KIND_REPLICATION_SUBNET_GROUP: &str = "DMS Replication Subnet Group";
/// Object kind used in messages for endpoints.
pub const KIND_ENDPOINT: &str = "DMS Endpoint";
/// Object kind used in messages for connections (endpoint x replication instance tests).
pub const KIND_CONNECTION: &str = "DMS Connection";
/// Object kind used in messages for replication tasks.
pub const KIND_REPLICATION_TASK: &str = "DMS Replication Task";

operation_errors! {
    aws_sdk_databasemigration::operation::describe_replication_instances::DescribeReplicationInstancesError => ResourceNotFoundFault;
    aws_sdk_databasemigration::operation::describe_replication_subnet_groups::DescribeReplicationSubnetGroupsError => ResourceNotFoundFault;
    aws_sdk_databasemigration::operation::describe_endpoints::DescribeEndpointsError => ResourceNotFoundFault;
    aws_sdk_databasemigration::operation::describe_connections::DescribeConnectionsError => ResourceNotFoundFault;
    aws_sdk_databasemigration::operation::describe_replication_tasks::DescribeReplicationTasksError => ResourceNotFoundFault;
    aws_sdk_databasemigration::operation::describe_table_statistics::DescribeTableStatisticsError => ResourceNotFoundFault;
    aws_sdk_databasemigration::operation::create_replication_instance::CreateReplicationInstanceError => ResourceNotFoundFault;
    aws_sdk_databasemigration::operation::create_replication_subnet_group::CreateReplicationSubnetGroupError => ResourceNotFoundFault;
    aws_sdk_databasemigration::operation::create_endpoint::CreateEndpointError => ResourceNotFoundFault;
    aws_sdk_databasemigration::operation::create_replication_task::CreateReplicationTaskError => ResourceNotFoundFault;
    aws_sdk_databasemigration::operation::modify_endpoint::ModifyEndpointError => ResourceNotFoundFault;
    aws_sdk_databasemigration::operation::modify_replication_task::ModifyReplicationTaskError => ResourceNotFoundFault;
    aws_sdk_databasemigration::operation::start_replication_task::StartReplicationTaskError => ResourceNotFoundFault;
    aws_sdk_databasemigration::operation::stop_replication_task::StopReplicationTaskError => ResourceNotFoundFault;
    aws_sdk_databasemigration::operation::delete_replication_task::DeleteReplicationTaskError => ResourceNotFoundFault;
    aws_sdk_databasemigration::operation::delete_endpoint::DeleteEndpointError => ResourceNotFoundFault;
    aws_sdk_databasemigration::operation::delete_replication_instance::DeleteReplicationInstanceError => ResourceNotFoundFault;
    aws_sdk_databasemigration::operation::delete_replication_subnet_group::DeleteReplicationSubnetGroupError => ResourceNotFoundFault;
    aws_sdk_databasemigration::operation::test_connection::TestConnectionError => ResourceNotFoundFault;
    aws_sdk_databasemigration::operation::list_tags_for_resource::ListTagsForResourceError => ResourceNotFoundFault;
    aws_sdk_databasemigration::operation::add_tags_to_resource::AddTagsToResourceError => ResourceNotFoundFault;
    aws_sdk_databasemigration::operation::remove_tags_from_resource::RemoveTagsFromResourceError => ResourceNotFoundFault;
}

/// A describe filter `name` = `value`.
fn filter(name: &str, value: &str) -> Result<Filter, AwsError> {
    Filter::builder()
        .name(name)
        .values(value)
        .build()
        .map_err(|e| AwsError::Service {
            code: "RequestConstructionFailed".to_owned(),
            message: e.to_string(),
            status: None,
        })
}

/// `*-arn` filter for ARNs, `*-id` filter for identifiers.
fn id_filter(prefix: &str, id_or_arn: &str) -> Result<Filter, AwsError> {
    if id_or_arn.starts_with("arn:") {
        filter(&format!("{prefix}-arn"), id_or_arn)
    } else {
        filter(&format!("{prefix}-id"), id_or_arn)
    }
}

/// True when an object answered with `arn` and `identifier` is the one `id_or_arn` names.
fn arn_or_id(arn: Option<&str>, identifier: Option<&str>, id_or_arn: &str) -> bool {
    arn == Some(id_or_arn) || same_id(identifier, id_or_arn)
}

// ---------------------------------------------------------------------------------------------
// Replication subnet groups

/// The replication subnet group named `id`.
pub async fn find_replication_subnet_group_by_id(
    client: &Client,
    id: &str,
) -> Result<ReplicationSubnetGroup, AwsError> {
    let request = client
        .describe_replication_subnet_groups()
        .filters(filter("replication-subnet-group-id", id)?);
    let out = request
        .send()
        .await
        .about(KIND_REPLICATION_SUBNET_GROUP, id)?;
    let all = out.replication_subnet_groups.unwrap_or_default();
    single(all, KIND_REPLICATION_SUBNET_GROUP, id, |g| {
        same_id(g.replication_subnet_group_identifier(), id)
    })
}

// ---------------------------------------------------------------------------------------------
// Replication instances

/// The replication instance with identifier or ARN `id`.
pub async fn find_replication_instance_by_id(
    client: &Client,
    id: &str,
) -> Result<ReplicationInstance, AwsError> {
    let request = client
        .describe_replication_instances()
        .filters(id_filter("replication-instance", id)?);
    let out = request.send().await.about(KIND_REPLICATION_INSTANCE, id)?;
    let all = out.replication_instances.unwrap_or_default();
    single(all, KIND_REPLICATION_INSTANCE, id, |ri| {
        arn_or_id(
            ri.replication_instance_arn(),
            ri.replication_instance_identifier(),
            id,
        )
    })
}

// ---------------------------------------------------------------------------------------------
// Endpoints

/// The endpoint with identifier or ARN `id`.
pub async fn find_endpoint_by_id(client: &Client, id: &str) -> Result<Endpoint, AwsError> {
    let request = client
        .describe_endpoints()
        .filters(id_filter("endpoint", id)?);
    let out = request.send().await.about(KIND_ENDPOINT, id)?;
    let all = out.endpoints.unwrap_or_default();
    single(all, KIND_ENDPOINT, id, |e| {
        arn_or_id(e.endpoint_arn(), e.endpoint_identifier(), id)
    })
}

// ---------------------------------------------------------------------------------------------
// Connections (TestConnection results)

/// The connection test result of `endpoint_arn` from `replication_instance_arn`.
pub async fn find_connection(
    client: &Client,
    endpoint_arn: &str,
    replication_instance_arn: &str,
) -> Result<Connection, AwsError> {
    let id = format!("{endpoint_arn} @ {replication_instance_arn}");
    let request = client
        .describe_connections()
        .filters(filter("endpoint-arn", endpoint_arn)?)
        .filters(filter(
            "replication-instance-arn",
            replication_instance_arn,
        )?);
    let out = request.send().await.about(KIND_CONNECTION, &id)?;
    let all = out.connections.unwrap_or_default();
    single(all, KIND_CONNECTION, &id, |c| {
        c.endpoint_arn() == Some(endpoint_arn)
            && c.replication_instance_arn() == Some(replication_instance_arn)
    })
}

// ---------------------------------------------------------------------------------------------
// Replication tasks

/// The replication task with identifier or ARN `id`.
pub async fn find_replication_task_by_id(
    client: &Client,
    id: &str,
) -> Result<ReplicationTask, AwsError> {
    let request = client
        .describe_replication_tasks()
        .filters(id_filter("replication-task", id)?);
    let out = request.send().await.about(KIND_REPLICATION_TASK, id)?;
    let all = out.replication_tasks.unwrap_or_default();
    single(all, KIND_REPLICATION_TASK, id, |t| {
        arn_or_id(
            t.replication_task_arn(),
            t.replication_task_identifier(),
            id,
        )
    })
}

/// Per-table statistics of a task (all pages).
pub async fn find_table_statistics(
    client: &Client,
    task_arn: &str,
) -> Result<Vec<TableStatistics>, AwsError> {
    client
        .describe_table_statistics()
        .replication_task_arn(task_arn)
        .into_paginator()
        .send()
        .try_collect()
        .await
        .map_err(|e| crate::aws::error::from_sdk(e, KIND_REPLICATION_TASK, task_arn))
        .map(|pages| {
            pages
                .into_iter()
                .flat_map(|p| p.table_statistics.unwrap_or_default())
                .collect()
        })
}
