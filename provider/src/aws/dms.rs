//! AWS DMS: replication subnet groups, replication instances, endpoints, connections,
//! replication tasks and table statistics.
//!
//! DMS describes take filters and answer an EMPTY list for a missing object (always in moto,
//! and in AWS for filter misses) or `ResourceNotFoundFault`: both become `AwsError::NotFound`.
//!
//! Order: finders -> list (paginated) -> status -> waiters, per object kind.

use std::time::Duration;

use aws_sdk_databasemigration::Client;
use aws_sdk_databasemigration::types::{
    Connection, Endpoint, Filter, ReplicationInstance, ReplicationSubnetGroup, ReplicationTask,
    TableStatistics,
};

use super::error::{AwsError, operation_errors};
use super::wait::{WaitError, WaitOptions, WaitSpec, status_enum, wait_for};
use super::{gone, optional, single};

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

// Timeouts: terraform-provider-aws's replication-instance defaults (create 40m, delete 30m)
// and generous task limits (a full load is waited for by the engine, not by these).
/// Default wait for a replication instance to become available.
pub const REPLICATION_INSTANCE_AVAILABLE_TIMEOUT: Duration = Duration::from_secs(40 * 60);
/// Default wait for a replication instance to disappear.
pub const REPLICATION_INSTANCE_DELETED_TIMEOUT: Duration = Duration::from_secs(30 * 60);
/// Default wait for an endpoint to become active or disappear.
pub const ENDPOINT_TIMEOUT: Duration = Duration::from_secs(10 * 60);
/// Default wait for a connection test to finish.
pub const CONNECTION_TEST_TIMEOUT: Duration = Duration::from_secs(10 * 60);
/// Default wait for a task to become ready (after create or modify).
pub const REPLICATION_TASK_READY_TIMEOUT: Duration = Duration::from_secs(20 * 60);
/// Default wait for a task to reach running after a start.
pub const REPLICATION_TASK_RUNNING_TIMEOUT: Duration = Duration::from_secs(20 * 60);
/// Default wait for a task to stop.
pub const REPLICATION_TASK_STOPPED_TIMEOUT: Duration = Duration::from_secs(20 * 60);
/// Default wait for a task to disappear.
pub const REPLICATION_TASK_DELETED_TIMEOUT: Duration = Duration::from_secs(20 * 60);

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

status_enum!(
    /// `ReplicationInstanceStatus`.
    pub ReplicationInstanceStatus {
        /// `available`.
        Available => "available",
        /// `creating`.
        Creating => "creating",
        /// `deleting`.
        Deleting => "deleting",
        /// `modifying`.
        Modifying => "modifying",
        /// `upgrading`.
        Upgrading => "upgrading",
        /// `rebooting`.
        Rebooting => "rebooting",
        /// `resetting-master-credentials`.
        ResettingMasterCredentials => "resetting-master-credentials",
        /// `maintenance`.
        Maintenance => "maintenance",
        /// `storage-full`.
        StorageFull => "storage-full",
        /// `incompatible-credentials`.
        IncompatibleCredentials => "incompatible-credentials",
        /// `incompatible-network`.
        IncompatibleNetwork => "incompatible-network",
        /// `failed`.
        Failed => "failed",
    }
);

status_enum!(
    /// Endpoint `Status`.
    pub EndpointStatus {
        /// `active`.
        Active => "active",
        /// `creating` (moto keeps endpoints here forever; the rdsenc emulator does not).
        Creating => "creating",
        /// `modifying`.
        Modifying => "modifying",
        /// `deleting`.
        Deleting => "deleting",
    }
);

status_enum!(
    /// Connection (endpoint test) `Status`.
    pub ConnectionStatus {
        /// `successful`.
        Successful => "successful",
        /// `testing`.
        Testing => "testing",
        /// `failed`.
        Failed => "failed",
        /// `deleting`.
        Deleting => "deleting",
    }
);

status_enum!(
    /// Replication task `Status`.
    pub ReplicationTaskStatus {
        /// `creating`.
        Creating => "creating",
        /// `ready`: created (or modified) and not started.
        Ready => "ready",
        /// `starting`.
        Starting => "starting",
        /// `running`: full load and/or CDC in progress.
        Running => "running",
        /// `stopping`.
        Stopping => "stopping",
        /// `stopped`: see `StopReason`.
        Stopped => "stopped",
        /// `modifying`.
        Modifying => "modifying",
        /// `deleting`.
        Deleting => "deleting",
        /// `testing`.
        Testing => "testing",
        /// `moving`.
        Moving => "moving",
        /// `failed`: see `LastFailureMessage`.
        Failed => "failed",
        /// `failed-move`.
        FailedMove => "failed-move",
    }
);

const INSTANCE_PENDING: &[ReplicationInstanceStatus] = &[
    ReplicationInstanceStatus::Creating,
    ReplicationInstanceStatus::Modifying,
    ReplicationInstanceStatus::Upgrading,
    ReplicationInstanceStatus::Rebooting,
    ReplicationInstanceStatus::ResettingMasterCredentials,
    ReplicationInstanceStatus::Maintenance,
];
const INSTANCE_AVAILABLE: &[ReplicationInstanceStatus] = &[ReplicationInstanceStatus::Available];
const INSTANCE_DELETING: &[ReplicationInstanceStatus] = &[
    ReplicationInstanceStatus::Available,
    ReplicationInstanceStatus::Deleting,
    ReplicationInstanceStatus::Modifying,
];
const ENDPOINT_PENDING: &[EndpointStatus] = &[EndpointStatus::Creating, EndpointStatus::Modifying];
const ENDPOINT_ACTIVE: &[EndpointStatus] = &[EndpointStatus::Active];
const ENDPOINT_DELETING: &[EndpointStatus] = &[EndpointStatus::Active, EndpointStatus::Deleting];
const CONNECTION_PENDING: &[ConnectionStatus] = &[ConnectionStatus::Testing];
const CONNECTION_SUCCESSFUL: &[ConnectionStatus] = &[ConnectionStatus::Successful];
const TASK_READY_PENDING: &[ReplicationTaskStatus] = &[
    ReplicationTaskStatus::Creating,
    ReplicationTaskStatus::Modifying,
    ReplicationTaskStatus::Testing,
];
const TASK_READY: &[ReplicationTaskStatus] = &[ReplicationTaskStatus::Ready];
const TASK_RUNNING_PENDING: &[ReplicationTaskStatus] = &[
    ReplicationTaskStatus::Ready,
    ReplicationTaskStatus::Starting,
];
const TASK_RUNNING: &[ReplicationTaskStatus] = &[ReplicationTaskStatus::Running];
// Includes `modifying`: after ModifyReplicationTask a stopped task returns to `stopped`.
const TASK_STOPPED_PENDING: &[ReplicationTaskStatus] = &[
    ReplicationTaskStatus::Running,
    ReplicationTaskStatus::Starting,
    ReplicationTaskStatus::Stopping,
    ReplicationTaskStatus::Modifying,
];
const TASK_STOPPED: &[ReplicationTaskStatus] = &[
    ReplicationTaskStatus::Stopped,
    ReplicationTaskStatus::Ready,
    ReplicationTaskStatus::Failed,
];
const TASK_DELETING: &[ReplicationTaskStatus] = &[
    ReplicationTaskStatus::Ready,
    ReplicationTaskStatus::Stopped,
    ReplicationTaskStatus::Failed,
    ReplicationTaskStatus::Deleting,
];

/// The typed status of a replication instance.
pub fn replication_instance_status(ri: &ReplicationInstance) -> ReplicationInstanceStatus {
    ReplicationInstanceStatus::from(ri.replication_instance_status().unwrap_or_default())
}

/// The typed status of an endpoint.
pub fn endpoint_status(e: &Endpoint) -> EndpointStatus {
    EndpointStatus::from(e.status().unwrap_or_default())
}

/// The typed status of a connection test.
pub fn connection_status(c: &Connection) -> ConnectionStatus {
    ConnectionStatus::from(c.status().unwrap_or_default())
}

/// The typed status of a replication task.
pub fn replication_task_status(t: &ReplicationTask) -> ReplicationTaskStatus {
    ReplicationTaskStatus::from(t.status().unwrap_or_default())
}

/// A describe filter `name` = `value`.
pub fn filter(name: &str, value: &str) -> Result<Filter, AwsError> {
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

// ---------------------------------------------------------------------------------------------
// Replication subnet groups

/// The replication subnet group named `id`.
pub async fn find_replication_subnet_group_by_id(
    client: &Client,
    id: &str,
) -> Result<ReplicationSubnetGroup, AwsError> {
    let out = client
        .describe_replication_subnet_groups()
        .filters(filter("replication-subnet-group-id", id)?)
        .send()
        .await
        .map_err(AwsError::context(KIND_REPLICATION_SUBNET_GROUP, id))?;
    single(
        out.replication_subnet_groups.unwrap_or_default(),
        KIND_REPLICATION_SUBNET_GROUP,
        id,
        |g| {
            g.replication_subnet_group_identifier()
                .is_some_and(|x| x.eq_ignore_ascii_case(id))
        },
    )
}

// ---------------------------------------------------------------------------------------------
// Replication instances

/// The replication instance with identifier or ARN `id`.
pub async fn find_replication_instance_by_id(
    client: &Client,
    id: &str,
) -> Result<ReplicationInstance, AwsError> {
    let out = client
        .describe_replication_instances()
        .filters(id_filter("replication-instance", id)?)
        .send()
        .await
        .map_err(AwsError::context(KIND_REPLICATION_INSTANCE, id))?;
    single(
        out.replication_instances.unwrap_or_default(),
        KIND_REPLICATION_INSTANCE,
        id,
        |ri| {
            ri.replication_instance_arn() == Some(id)
                || ri
                    .replication_instance_identifier()
                    .is_some_and(|x| x.eq_ignore_ascii_case(id))
        },
    )
}

/// Every replication instance (all pages), optionally filtered.
pub async fn find_replication_instances(
    client: &Client,
    filters: Vec<Filter>,
) -> Result<Vec<ReplicationInstance>, AwsError> {
    client
        .describe_replication_instances()
        .set_filters((!filters.is_empty()).then_some(filters))
        .into_paginator()
        .send()
        .try_collect()
        .await
        .map_err(AwsError::classify)
        .map(|pages| {
            pages
                .into_iter()
                .flat_map(|p| p.replication_instances.unwrap_or_default())
                .collect()
        })
}

/// The replication instance and its status, or `None` when it is gone.
pub async fn status_replication_instance(
    client: &Client,
    id: &str,
) -> Result<Option<(ReplicationInstance, ReplicationInstanceStatus)>, AwsError> {
    optional(find_replication_instance_by_id(client, id).await).map(|o| {
        o.map(|ri| {
            let s = replication_instance_status(&ri);
            (ri, s)
        })
    })
}

/// Waits until the replication instance is `available`.
pub async fn wait_replication_instance_available(
    client: &Client,
    id: &str,
    timeout: Duration,
    opts: &WaitOptions,
) -> Result<ReplicationInstance, WaitError> {
    let spec = WaitSpec {
        kind: KIND_REPLICATION_INSTANCE,
        id,
        pending: INSTANCE_PENDING,
        target: INSTANCE_AVAILABLE,
        timeout,
    };
    wait_for(spec, opts, || status_replication_instance(client, id))
        .await?
        .ok_or_else(|| gone(KIND_REPLICATION_INSTANCE, id))
}

/// Waits until the replication instance no longer exists.
pub async fn wait_replication_instance_deleted(
    client: &Client,
    id: &str,
    timeout: Duration,
    opts: &WaitOptions,
) -> Result<(), WaitError> {
    let spec = WaitSpec {
        kind: KIND_REPLICATION_INSTANCE,
        id,
        pending: INSTANCE_DELETING,
        target: &[],
        timeout,
    };
    wait_for(spec, opts, || status_replication_instance(client, id))
        .await
        .map(|_| ())
}

// ---------------------------------------------------------------------------------------------
// Endpoints

/// The endpoint with identifier or ARN `id`.
pub async fn find_endpoint_by_id(client: &Client, id: &str) -> Result<Endpoint, AwsError> {
    let out = client
        .describe_endpoints()
        .filters(id_filter("endpoint", id)?)
        .send()
        .await
        .map_err(AwsError::context(KIND_ENDPOINT, id))?;
    single(out.endpoints.unwrap_or_default(), KIND_ENDPOINT, id, |e| {
        e.endpoint_arn() == Some(id)
            || e.endpoint_identifier()
                .is_some_and(|x| x.eq_ignore_ascii_case(id))
    })
}

/// Every endpoint (all pages), optionally filtered.
pub async fn find_endpoints(
    client: &Client,
    filters: Vec<Filter>,
) -> Result<Vec<Endpoint>, AwsError> {
    client
        .describe_endpoints()
        .set_filters((!filters.is_empty()).then_some(filters))
        .into_paginator()
        .send()
        .try_collect()
        .await
        .map_err(AwsError::classify)
        .map(|pages| {
            pages
                .into_iter()
                .flat_map(|p| p.endpoints.unwrap_or_default())
                .collect()
        })
}

/// The endpoint and its status, or `None` when it is gone.
pub async fn status_endpoint(
    client: &Client,
    id: &str,
) -> Result<Option<(Endpoint, EndpointStatus)>, AwsError> {
    optional(find_endpoint_by_id(client, id).await).map(|o| {
        o.map(|e| {
            let s = endpoint_status(&e);
            (e, s)
        })
    })
}

/// Waits until the endpoint is `active`.
pub async fn wait_endpoint_active(
    client: &Client,
    id: &str,
    timeout: Duration,
    opts: &WaitOptions,
) -> Result<Endpoint, WaitError> {
    let spec = WaitSpec {
        kind: KIND_ENDPOINT,
        id,
        pending: ENDPOINT_PENDING,
        target: ENDPOINT_ACTIVE,
        timeout,
    };
    wait_for(spec, opts, || status_endpoint(client, id))
        .await?
        .ok_or_else(|| gone(KIND_ENDPOINT, id))
}

/// Waits until the endpoint no longer exists.
pub async fn wait_endpoint_deleted(
    client: &Client,
    id: &str,
    timeout: Duration,
    opts: &WaitOptions,
) -> Result<(), WaitError> {
    let spec = WaitSpec {
        kind: KIND_ENDPOINT,
        id,
        pending: ENDPOINT_DELETING,
        target: &[],
        timeout,
    };
    wait_for(spec, opts, || status_endpoint(client, id))
        .await
        .map(|_| ())
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
    let out = client
        .describe_connections()
        .filters(filter("endpoint-arn", endpoint_arn)?)
        .filters(filter(
            "replication-instance-arn",
            replication_instance_arn,
        )?)
        .send()
        .await
        .map_err(AwsError::context(KIND_CONNECTION, &id))?;
    single(
        out.connections.unwrap_or_default(),
        KIND_CONNECTION,
        &id,
        |c| {
            c.endpoint_arn() == Some(endpoint_arn)
                && c.replication_instance_arn() == Some(replication_instance_arn)
        },
    )
}

/// The connection and its status, or `None` when no test exists.
pub async fn status_connection(
    client: &Client,
    endpoint_arn: &str,
    replication_instance_arn: &str,
) -> Result<Option<(Connection, ConnectionStatus)>, AwsError> {
    optional(find_connection(client, endpoint_arn, replication_instance_arn).await).map(|o| {
        o.map(|c| {
            let s = connection_status(&c);
            (c, s)
        })
    })
}

/// Waits until the connection test is `successful`; a `failed` test ends the wait with
/// `UnexpectedStatus` (the caller reads `LastFailureMessage` with [`find_connection`]).
pub async fn wait_connection_successful(
    client: &Client,
    endpoint_arn: &str,
    replication_instance_arn: &str,
    timeout: Duration,
    opts: &WaitOptions,
) -> Result<Connection, WaitError> {
    let spec = WaitSpec {
        kind: KIND_CONNECTION,
        id: endpoint_arn,
        pending: CONNECTION_PENDING,
        target: CONNECTION_SUCCESSFUL,
        timeout,
    };
    wait_for(spec, opts, || {
        status_connection(client, endpoint_arn, replication_instance_arn)
    })
    .await?
    .ok_or_else(|| gone(KIND_CONNECTION, endpoint_arn))
}

// ---------------------------------------------------------------------------------------------
// Replication tasks

/// The replication task with identifier or ARN `id`.
pub async fn find_replication_task_by_id(
    client: &Client,
    id: &str,
) -> Result<ReplicationTask, AwsError> {
    let out = client
        .describe_replication_tasks()
        .filters(id_filter("replication-task", id)?)
        .send()
        .await
        .map_err(AwsError::context(KIND_REPLICATION_TASK, id))?;
    single(
        out.replication_tasks.unwrap_or_default(),
        KIND_REPLICATION_TASK,
        id,
        |t| {
            t.replication_task_arn() == Some(id)
                || t.replication_task_identifier()
                    .is_some_and(|x| x.eq_ignore_ascii_case(id))
        },
    )
}

/// Every replication task (all pages), optionally filtered (e.g. `replication-instance-arn`).
pub async fn find_replication_tasks(
    client: &Client,
    filters: Vec<Filter>,
) -> Result<Vec<ReplicationTask>, AwsError> {
    client
        .describe_replication_tasks()
        .set_filters((!filters.is_empty()).then_some(filters))
        .into_paginator()
        .send()
        .try_collect()
        .await
        .map_err(AwsError::classify)
        .map(|pages| {
            pages
                .into_iter()
                .flat_map(|p| p.replication_tasks.unwrap_or_default())
                .collect()
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
        .map_err(|e| AwsError::from_sdk(e, KIND_REPLICATION_TASK, task_arn))
        .map(|pages| {
            pages
                .into_iter()
                .flat_map(|p| p.table_statistics.unwrap_or_default())
                .collect()
        })
}

/// The task and its status, or `None` when it is gone.
pub async fn status_replication_task(
    client: &Client,
    id: &str,
) -> Result<Option<(ReplicationTask, ReplicationTaskStatus)>, AwsError> {
    optional(find_replication_task_by_id(client, id).await).map(|o| {
        o.map(|t| {
            let s = replication_task_status(&t);
            (t, s)
        })
    })
}

async fn wait_task(
    client: &Client,
    id: &str,
    pending: &'static [ReplicationTaskStatus],
    target: &'static [ReplicationTaskStatus],
    timeout: Duration,
    opts: &WaitOptions,
) -> Result<Option<ReplicationTask>, WaitError> {
    let spec = WaitSpec {
        kind: KIND_REPLICATION_TASK,
        id,
        pending,
        target,
        timeout,
    };
    wait_for(spec, opts, || status_replication_task(client, id)).await
}

/// Waits until a created or modified task is `ready`.
pub async fn wait_replication_task_ready(
    client: &Client,
    id: &str,
    timeout: Duration,
    opts: &WaitOptions,
) -> Result<ReplicationTask, WaitError> {
    wait_task(client, id, TASK_READY_PENDING, TASK_READY, timeout, opts)
        .await?
        .ok_or_else(|| gone(KIND_REPLICATION_TASK, id))
}

/// Waits until a started task is `running`.
pub async fn wait_replication_task_running(
    client: &Client,
    id: &str,
    timeout: Duration,
    opts: &WaitOptions,
) -> Result<ReplicationTask, WaitError> {
    wait_task(
        client,
        id,
        TASK_RUNNING_PENDING,
        TASK_RUNNING,
        timeout,
        opts,
    )
    .await?
    .ok_or_else(|| gone(KIND_REPLICATION_TASK, id))
}

/// Waits until a task is no longer running or being modified (`stopped`, `ready` or
/// `failed`): after StopReplicationTask, and after ModifyReplicationTask on a stopped task.
pub async fn wait_replication_task_stopped(
    client: &Client,
    id: &str,
    timeout: Duration,
    opts: &WaitOptions,
) -> Result<ReplicationTask, WaitError> {
    wait_task(
        client,
        id,
        TASK_STOPPED_PENDING,
        TASK_STOPPED,
        timeout,
        opts,
    )
    .await?
    .ok_or_else(|| gone(KIND_REPLICATION_TASK, id))
}

/// Waits until the task no longer exists.
pub async fn wait_replication_task_deleted(
    client: &Client,
    id: &str,
    timeout: Duration,
    opts: &WaitOptions,
) -> Result<(), WaitError> {
    wait_task(client, id, TASK_DELETING, &[], timeout, opts)
        .await
        .map(|_| ())
}
