//! The thin SDK wrappers against `aws-smithy-mocks` rules: not-found normalisation (typed fault
//! and empty list), TooManyResults, error classification from real wire-format error bodies
//! (throttling after the SDK's retries, 5xx, already-exists, invalid-state) and pagination.
//!
//! Run: `cargo test --test aws_mocked`.

use aws_sdk_databasemigration as dms_sdk;
use aws_sdk_rds as rds_sdk;
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use aws_smithy_types::error::ErrorMetadata;
use aws_smithy_types::retry::RetryConfig;

use rdsenc::aws::{dms, rds};
use rdsenc_engine::api::AwsError;
use rdsenc_engine::api::{DbInstanceStatus, ReplicationTaskStatus};

use dms_sdk::operation::create_endpoint::CreateEndpointError;
use dms_sdk::operation::describe_replication_tasks::{
    DescribeReplicationTasksError, DescribeReplicationTasksOutput,
};
use dms_sdk::operation::describe_table_statistics::DescribeTableStatisticsOutput;
use dms_sdk::types::ReplicationTask;
use rds_sdk::operation::describe_db_instances::{
    DescribeDBInstancesError, DescribeDbInstancesOutput,
};
use rds_sdk::types::DbInstance;

fn instance(id: &str) -> DbInstance {
    DbInstance::builder()
        .db_instance_identifier(id)
        .db_instance_status("available")
        .build()
}

fn task(id: &str) -> ReplicationTask {
    ReplicationTask::builder()
        .replication_task_identifier(id)
        .replication_task_arn(format!("arn:aws:dms:us-east-1:123456789012:task:{id}"))
        .status("running")
        .build()
}

fn rds_error_xml(code: &str, message: &str) -> String {
    format!(
        "<ErrorResponse xmlns=\"http://rds.amazonaws.com/doc/2014-10-31/\"><Error>\
         <Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>\
         <RequestId>req-1</RequestId></ErrorResponse>"
    )
}

fn dms_error_json(code: &str, message: &str) -> String {
    format!("{{\"__type\":\"{code}\",\"message\":\"{message}\"}}")
}

// ------------------------------------------------------------------------------------------
// RDS

#[tokio::test]
async fn rds_instance_not_found_fault_becomes_not_found_naming_the_instance() {
    let rule = mock!(rds_sdk::Client::describe_db_instances).then_error(|| {
        DescribeDBInstancesError::DbInstanceNotFoundFault(
            rds_sdk::types::error::DbInstanceNotFoundFault::builder()
                .message("DBInstance orders not found.")
                .build(),
        )
    });
    let client = mock_client!(aws_sdk_rds, [&rule]);
    let err = rds::find_db_instance_by_id(&client, "orders")
        .await
        .expect_err("must fail");
    assert!(err.is_not_found(), "{err:?}");
    assert!(!err.is_transient());
    assert_eq!(err.to_string(), "RDS DB Instance (orders) not found");
}

#[tokio::test]
async fn rds_instance_not_found_on_the_wire_is_matched_as_the_typed_fault() {
    let rule = mock!(rds_sdk::Client::describe_db_instances).then_http_response(|| {
        aws_smithy_runtime_api::http::Response::new(
            aws_smithy_runtime_api::http::StatusCode::try_from(404).expect("status"),
            aws_smithy_types::body::SdkBody::from(rds_error_xml(
                "DBInstanceNotFound",
                "DBInstance orders not found.",
            )),
        )
    });
    let client = mock_client!(aws_sdk_rds, [&rule]);
    let err = rds::find_db_instance_by_id(&client, "orders")
        .await
        .expect_err("must fail");
    assert!(
        matches!(&err, AwsError::NotFound { kind: "RDS DB Instance", id } if id == "orders"),
        "{err:?}"
    );
}

#[tokio::test]
async fn rds_empty_describe_result_is_not_found() {
    let rule = mock!(rds_sdk::Client::describe_db_instances)
        .then_output(|| DescribeDbInstancesOutput::builder().build());
    let client = mock_client!(aws_sdk_rds, [&rule]);
    let err = rds::find_db_instance_by_id(&client, "orders")
        .await
        .expect_err("must fail");
    assert!(err.is_not_found(), "{err:?}");
}

#[tokio::test]
async fn rds_two_instances_for_one_identifier_is_too_many_results() {
    let rule = mock!(rds_sdk::Client::describe_db_instances).then_output(|| {
        DescribeDbInstancesOutput::builder()
            .db_instances(instance("orders"))
            .db_instances(instance("orders"))
            .build()
    });
    let client = mock_client!(aws_sdk_rds, [&rule]);
    let err = rds::find_db_instance_by_id(&client, "orders")
        .await
        .expect_err("must fail");
    assert!(
        matches!(err, AwsError::TooManyResults { count: 2, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn rds_identifier_lookup_is_case_insensitive_like_rds() {
    let rule = mock!(rds_sdk::Client::describe_db_instances)
        .match_requests(|r| r.db_instance_identifier() == Some("Orders"))
        .then_output(|| {
            DescribeDbInstancesOutput::builder()
                .db_instances(instance("orders"))
                .build()
        });
    let client = mock_client!(aws_sdk_rds, [&rule]);
    let found = rds::find_db_instance_by_id(&client, "Orders")
        .await
        .expect("found");
    assert_eq!(found.db_instance_identifier(), Some("orders"));
    assert_eq!(
        DbInstanceStatus::from_aws(found.db_instance_status().unwrap_or_default()),
        DbInstanceStatus::Available
    );
}

#[tokio::test(start_paused = true)]
async fn rds_throttling_is_retried_by_the_sdk_then_succeeds() {
    let throttle = rds_error_xml("Throttling", "Rate exceeded");
    let rule = mock!(rds_sdk::Client::describe_db_instances)
        .sequence()
        .http_status(400, Some(throttle))
        .times(2)
        .output(|| {
            DescribeDbInstancesOutput::builder()
                .db_instances(instance("orders"))
                .build()
        })
        .build();
    let client = mock_client!(aws_sdk_rds, RuleMode::Sequential, [&rule], |c| c
        .retry_config(RetryConfig::standard().with_max_attempts(3)));
    let found = rds::find_db_instance_by_id(&client, "orders")
        .await
        .expect("third attempt succeeds");
    assert_eq!(found.db_instance_identifier(), Some("orders"));
    assert_eq!(rule.num_calls(), 3);
}

#[tokio::test(start_paused = true)]
async fn rds_throttling_that_outlasts_the_retries_is_classified_throttled_and_transient() {
    let throttle = rds_error_xml("Throttling", "Rate exceeded");
    let rule = mock!(rds_sdk::Client::describe_db_instances)
        .sequence()
        .http_status(400, Some(throttle))
        .times(2)
        .build();
    let client = mock_client!(aws_sdk_rds, RuleMode::Sequential, [&rule], |c| c
        .retry_config(RetryConfig::standard().with_max_attempts(2)));
    let err = rds::find_db_instance_by_id(&client, "orders")
        .await
        .expect_err("must fail");
    assert!(
        matches!(&err, AwsError::Throttled { code, .. } if code == "Throttling"),
        "{err:?}"
    );
    assert!(err.is_transient() && !err.is_not_found());
}

#[tokio::test]
async fn rds_server_errors_keep_their_status_and_are_transient() {
    let rule = mock!(rds_sdk::Client::describe_db_instances)
        .sequence()
        .http_status(
            503,
            Some(rds_error_xml("ServiceUnavailable", "Try again later")),
        )
        .build();
    let client = mock_client!(aws_sdk_rds, RuleMode::Sequential, [&rule], |c| c
        .retry_config(RetryConfig::disabled()));
    let err = rds::find_db_instance_by_id(&client, "orders")
        .await
        .expect_err("must fail");
    assert!(
        matches!(&err, AwsError::Service { status: Some(503), code, .. } if code == "ServiceUnavailable"),
        "{err:?}"
    );
    assert!(err.is_transient());
}

#[tokio::test]
async fn dms_success_responses_the_sdk_cannot_read_are_transport_errors() {
    // Stock moto's DMS dates are ISO strings where the protocol wants epoch numbers.
    let body = r#"{"ReplicationTasks":[{"ReplicationTaskIdentifier":"t1","ReplicationTaskCreationDate":"2026-11-28T07:57:42.242709"}]}"#;
    let rule = mock!(dms_sdk::Client::describe_replication_tasks)
        .sequence()
        .http_status(200, Some(body.to_owned()))
        .build();
    let client = mock_client!(
        aws_sdk_databasemigration,
        RuleMode::Sequential,
        [&rule],
        |c| c.retry_config(RetryConfig::disabled())
    );
    let err = dms::find_replication_task_by_id(&client, "t1")
        .await
        .expect_err("must fail");
    assert!(
        matches!(&err, AwsError::Transport(m) if m.contains("unreadable response (HTTP 200)")),
        "{err:?}"
    );
}

#[tokio::test]
async fn rds_invalid_state_codes_are_classified_invalid_state() {
    let rule = mock!(rds_sdk::Client::describe_db_instances).then_error(|| {
        DescribeDBInstancesError::generic(
            ErrorMetadata::builder()
                .code("InvalidDBInstanceState")
                .message("Instance is not available")
                .build(),
        )
    });
    let client = mock_client!(aws_sdk_rds, [&rule]);
    let err = rds::find_db_instance_by_id(&client, "orders")
        .await
        .expect_err("must fail");
    assert!(
        matches!(&err, AwsError::InvalidState { code, .. } if code == "InvalidDBInstanceState"),
        "{err:?}"
    );
    assert!(err.is_transient());
}

#[tokio::test]
async fn rds_listing_follows_markers_across_pages() {
    let first = mock!(rds_sdk::Client::describe_db_instances)
        .match_requests(|r| r.marker().is_none())
        .then_output(|| {
            DescribeDbInstancesOutput::builder()
                .db_instances(instance("a"))
                .db_instances(instance("b"))
                .marker("page-2")
                .build()
        });
    let second = mock!(rds_sdk::Client::describe_db_instances)
        .match_requests(|r| r.marker() == Some("page-2"))
        .then_output(|| {
            DescribeDbInstancesOutput::builder()
                .db_instances(instance("c"))
                .build()
        });
    let client = mock_client!(aws_sdk_rds, RuleMode::MatchAny, [&first, &second]);
    let all = rds::find_db_instances(&client, Vec::new())
        .await
        .expect("listed");
    let ids: Vec<_> = all
        .iter()
        .filter_map(|i| i.db_instance_identifier())
        .collect();
    assert_eq!(ids, ["a", "b", "c"]);
    assert_eq!((first.num_calls(), second.num_calls()), (1, 1));
}

#[tokio::test]
async fn rds_instances_are_selected_by_tag_across_pages() {
    let tagged = |id: &str, role: &str| {
        DbInstance::builder()
            .db_instance_identifier(id)
            .tag_list(
                rds_sdk::types::Tag::builder()
                    .key("rdsenc:migration")
                    .value(role)
                    .build(),
            )
            .build()
    };
    let first = mock!(rds_sdk::Client::describe_db_instances)
        .match_requests(|r| r.marker().is_none())
        .then_output(move || {
            DescribeDbInstancesOutput::builder()
                .db_instances(tagged("orders-encrypted", "orders"))
                .db_instances(tagged("billing-encrypted", "billing"))
                .marker("m")
                .build()
        });
    let second = mock!(rds_sdk::Client::describe_db_instances)
        .match_requests(|r| r.marker() == Some("m"))
        .then_output(move || {
            DescribeDbInstancesOutput::builder()
                .db_instances(tagged("orders-replica", "orders"))
                .build()
        });
    let client = mock_client!(aws_sdk_rds, RuleMode::MatchAny, [&first, &second]);
    let found = rds::find_db_instances_by_tag(&client, "rdsenc:migration", "orders")
        .await
        .expect("listed");
    let ids: Vec<_> = found
        .iter()
        .filter_map(|i| i.db_instance_identifier())
        .collect();
    assert_eq!(ids, ["orders-encrypted", "orders-replica"]);
}

// ------------------------------------------------------------------------------------------
// DMS

#[tokio::test]
async fn dms_empty_task_list_is_normalised_to_not_found() {
    let rule = mock!(dms_sdk::Client::describe_replication_tasks)
        .then_output(|| DescribeReplicationTasksOutput::builder().build());
    let client = mock_client!(aws_sdk_databasemigration, [&rule]);
    let err = dms::find_replication_task_by_id(&client, "rdsenc-orders")
        .await
        .expect_err("must fail");
    assert!(
        matches!(&err, AwsError::NotFound { kind: "DMS Replication Task", id } if id == "rdsenc-orders"),
        "{err:?}"
    );
}

#[tokio::test]
async fn dms_resource_not_found_fault_is_normalised_to_not_found() {
    let rule = mock!(dms_sdk::Client::describe_replication_tasks).then_error(|| {
        DescribeReplicationTasksError::ResourceNotFoundFault(
            dms_sdk::types::error::ResourceNotFoundFault::builder()
                .message("No tasks found matching provided filters")
                .build(),
        )
    });
    let client = mock_client!(aws_sdk_databasemigration, [&rule]);
    let err = dms::find_replication_task_by_id(&client, "rdsenc-orders")
        .await
        .expect_err("must fail");
    assert!(err.is_not_found(), "{err:?}");
}

#[tokio::test]
async fn dms_lookups_filter_by_identifier_or_by_arn() {
    let arn = "arn:aws:dms:us-east-1:123456789012:task:rdsenc-orders";
    let by_arn = mock!(dms_sdk::Client::describe_replication_tasks)
        .match_requests(move |r| {
            r.filters()
                .iter()
                .any(|f| f.name() == "replication-task-arn" && f.values() == [arn])
        })
        .then_output(|| {
            DescribeReplicationTasksOutput::builder()
                .replication_tasks(task("rdsenc-orders"))
                .build()
        });
    let by_id = mock!(dms_sdk::Client::describe_replication_tasks)
        .match_requests(|r| {
            r.filters()
                .iter()
                .any(|f| f.name() == "replication-task-id" && f.values() == ["rdsenc-orders"])
        })
        .then_output(|| {
            DescribeReplicationTasksOutput::builder()
                .replication_tasks(task("rdsenc-orders"))
                .build()
        });
    let client = mock_client!(
        aws_sdk_databasemigration,
        RuleMode::MatchAny,
        [&by_arn, &by_id]
    );
    let t = dms::find_replication_task_by_id(&client, arn)
        .await
        .expect("by arn");
    assert_eq!(t.replication_task_arn(), Some(arn));
    let t = dms::find_replication_task_by_id(&client, "rdsenc-orders")
        .await
        .expect("by id");
    assert_eq!(
        ReplicationTaskStatus::from_aws(t.status().unwrap_or_default()),
        ReplicationTaskStatus::Running
    );
    assert_eq!((by_arn.num_calls(), by_id.num_calls()), (1, 1));
}

#[tokio::test]
async fn dms_two_tasks_for_one_identifier_is_too_many_results() {
    let rule = mock!(dms_sdk::Client::describe_replication_tasks).then_output(|| {
        DescribeReplicationTasksOutput::builder()
            .replication_tasks(task("rdsenc-orders"))
            .replication_tasks(task("rdsenc-orders"))
            .build()
    });
    let client = mock_client!(aws_sdk_databasemigration, [&rule]);
    let err = dms::find_replication_task_by_id(&client, "rdsenc-orders")
        .await
        .expect_err("must fail");
    assert!(
        matches!(err, AwsError::TooManyResults { count: 2, .. }),
        "{err:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn dms_throttling_exception_outlasting_retries_is_throttled() {
    let body = dms_error_json("ThrottlingException", "Rate exceeded");
    let rule = mock!(dms_sdk::Client::describe_replication_tasks)
        .sequence()
        .http_status(400, Some(body))
        .times(2)
        .build();
    let client = mock_client!(
        aws_sdk_databasemigration,
        RuleMode::Sequential,
        [&rule],
        |c| c.retry_config(RetryConfig::standard().with_max_attempts(2))
    );
    let err = dms::find_replication_task_by_id(&client, "rdsenc-orders")
        .await
        .expect_err("must fail");
    assert!(
        matches!(&err, AwsError::Throttled { code, .. } if code == "ThrottlingException"),
        "{err:?}"
    );
    assert_eq!(rule.num_calls(), 2, "the SDK retried once");
}

#[tokio::test]
async fn dms_already_exists_and_invalid_state_faults_are_classified_from_the_wire() {
    let exists = mock!(dms_sdk::Client::create_endpoint)
        .sequence()
        .http_status(
            400,
            Some(dms_error_json(
                "ResourceAlreadyExistsFault",
                "Endpoint already exists",
            )),
        )
        .build();
    let client = mock_client!(
        aws_sdk_databasemigration,
        RuleMode::Sequential,
        [&exists],
        |c| c.retry_config(RetryConfig::disabled())
    );
    let err = client
        .create_endpoint()
        .endpoint_identifier("rdsenc-orders-source")
        .send()
        .await
        .map_err(rdsenc::aws::error::context(
            "DMS Endpoint",
            "rdsenc-orders-source",
        ))
        .expect_err("must fail");
    assert!(
        matches!(&err, AwsError::AlreadyExists { code, .. } if code == "ResourceAlreadyExistsFault"),
        "{err:?}"
    );

    let busy = mock!(dms_sdk::Client::delete_endpoint)
        .sequence()
        .http_status(
            400,
            Some(dms_error_json(
                "InvalidResourceStateFault",
                "Endpoint is in use by a task",
            )),
        )
        .build();
    let client = mock_client!(
        aws_sdk_databasemigration,
        RuleMode::Sequential,
        [&busy],
        |c| c.retry_config(RetryConfig::disabled())
    );
    let err = client
        .delete_endpoint()
        .endpoint_arn("arn:aws:dms:us-east-1:123456789012:endpoint:X")
        .send()
        .await
        .map_err(rdsenc::aws::error::context("DMS Endpoint", "X"))
        .expect_err("must fail");
    assert!(
        matches!(&err, AwsError::InvalidState { code, .. } if code == "InvalidResourceStateFault"),
        "{err:?}"
    );
    assert!(err.is_transient());
}

#[tokio::test]
async fn dms_modelled_errors_without_wire_codes_still_classify_not_found_by_variant() {
    // A typed fault built in code carries no error code: only the typed match can catch it.
    let rule = mock!(dms_sdk::Client::create_endpoint).then_error(|| {
        CreateEndpointError::ResourceNotFoundFault(
            dms_sdk::types::error::ResourceNotFoundFault::builder().build(),
        )
    });
    let client = mock_client!(aws_sdk_databasemigration, [&rule]);
    let err = client
        .create_endpoint()
        .send()
        .await
        .map_err(rdsenc::aws::error::context("DMS Endpoint", "e1"))
        .expect_err("must fail");
    assert!(err.is_not_found(), "{err:?}");
}

#[tokio::test]
async fn dms_table_statistics_follow_markers_across_pages() {
    let stats = |table: &str| {
        dms_sdk::types::TableStatistics::builder()
            .schema_name("public")
            .table_name(table)
            .build()
    };
    let first = mock!(dms_sdk::Client::describe_table_statistics)
        .match_requests(|r| r.marker().is_none())
        .then_output(move || {
            DescribeTableStatisticsOutput::builder()
                .table_statistics(stats("t1"))
                .marker("next")
                .build()
        });
    let second = mock!(dms_sdk::Client::describe_table_statistics)
        .match_requests(|r| r.marker() == Some("next"))
        .then_output(move || {
            DescribeTableStatisticsOutput::builder()
                .table_statistics(stats("t2"))
                .table_statistics(stats("t3"))
                .build()
        });
    let client = mock_client!(
        aws_sdk_databasemigration,
        RuleMode::MatchAny,
        [&first, &second]
    );
    let all = dms::find_table_statistics(&client, "arn:aws:dms:us-east-1:123456789012:task:T1")
        .await
        .expect("listed");
    let tables: Vec<_> = all.iter().filter_map(|t| t.table_name()).collect();
    assert_eq!(tables, ["t1", "t2", "t3"]);
}
