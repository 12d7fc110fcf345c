//! What the `AwsApi` adapter puts on the wire, for the choices that can lose data or leak
//! secrets: final snapshots on delete, Multi-AZ vs availability zone on restore, and how
//! endpoint credentials are sent. Requests go to a replaying HTTP client; nothing leaves the
//! process.
//!
//! Run: `cargo test --test aws_adapter_requests`.

use aws_config::{BehaviorVersion, Region};
use aws_credential_types::Credentials;
use aws_smithy_http_client::test_util::{ReplayEvent, StaticReplayClient};
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::retry::RetryConfig;

use rdsenc::aws::{Clients, Endpoints};
use rdsenc_engine::api::AwsError;
use rdsenc_engine::api::{
    AwsApi, BlueGreenRef, BlueGreenStatus, CreateBlueGreenDeploymentInput, CreateEndpointInput,
    DeleteDbInstanceInput, DmsRef, EndpointCredentials, EndpointEngine, EndpointType,
    FinalSnapshot, ModifyDbInstanceInput, ReplicationTaskStatus, RestoreDbInstanceInput,
    SecretString, SslMode, Tags, TargetResourceConfig,
};

fn event(response_body: &str) -> ReplayEvent {
    ReplayEvent::new(
        http::Request::builder()
            .uri("https://example.invalid/")
            .body(SdkBody::empty())
            .expect("request"),
        http::Response::builder()
            .status(200)
            .body(SdkBody::from(response_body.to_owned()))
            .expect("response"),
    )
}

async fn clients(responses: &[&str]) -> (Clients, StaticReplayClient) {
    let http = StaticReplayClient::new(responses.iter().map(|r| event(r)).collect());
    let sdk = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("AKIDTEST", "not-real", None, None, "test"))
        .retry_config(RetryConfig::disabled())
        .http_client(http.clone())
        .load()
        .await;
    (Clients::from_sdk_config(sdk, Endpoints::default()), http)
}

/// Asserts that the request body `sent` carries every one of `parts`.
fn assert_sent(sent: &str, parts: &[&str]) {
    for part in parts {
        assert!(sent.contains(part), "{part} not in {sent}");
    }
}

/// Asserts that the request body `sent` carries none of `parts`.
fn assert_not_sent(sent: &str, parts: &[&str]) {
    for part in parts {
        assert!(!sent.contains(part), "{part} in {sent}");
    }
}

fn bodies(http: &StaticReplayClient) -> Vec<String> {
    http.actual_requests()
        .map(|r| String::from_utf8_lossy(r.body().bytes().unwrap_or_default()).into_owned())
        .collect()
}

const DELETE_OK: &str = r#"<DeleteDBInstanceResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/"><DeleteDBInstanceResult><DBInstance><DBInstanceIdentifier>orders-encrypted</DBInstanceIdentifier><DBInstanceStatus>deleting</DBInstanceStatus></DBInstance></DeleteDBInstanceResult></DeleteDBInstanceResponse>"#;
const RESTORE_OK: &str = r#"<RestoreDBInstanceFromDBSnapshotResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/"><RestoreDBInstanceFromDBSnapshotResult><DBInstance><DBInstanceIdentifier>orders-encrypted</DBInstanceIdentifier><DBInstanceStatus>creating</DBInstanceStatus></DBInstance></RestoreDBInstanceFromDBSnapshotResult></RestoreDBInstanceFromDBSnapshotResponse>"#;

#[tokio::test]
async fn deleting_an_instance_takes_the_final_snapshot_unless_told_to_skip_it() {
    let (clients, http) = clients(&[DELETE_OK, DELETE_OK]).await;
    clients
        .delete_db_instance(&DeleteDbInstanceInput {
            db_instance_identifier: "orders-encrypted".into(),
            final_snapshot: FinalSnapshot::Take("rdsenc-orders-final".into()),
            delete_automated_backups: false,
        })
        .await
        .expect("delete with final snapshot");
    clients
        .delete_db_instance(&DeleteDbInstanceInput {
            db_instance_identifier: "orders-encrypted".into(),
            final_snapshot: FinalSnapshot::Skip,
            delete_automated_backups: false,
        })
        .await
        .expect("delete skipping the snapshot");
    let sent = bodies(&http);
    assert_sent(
        &sent[0],
        &[
            "Action=DeleteDBInstance",
            "SkipFinalSnapshot=false",
            "FinalDBSnapshotIdentifier=rdsenc-orders-final",
            "DeleteAutomatedBackups=false",
        ],
    );
    assert_sent(&sent[1], &["SkipFinalSnapshot=true"]);
    assert_not_sent(&sent[1], &["FinalDBSnapshotIdentifier"]);
}

#[tokio::test]
async fn a_multi_az_restore_never_sends_an_availability_zone() {
    let (clients, http) = clients(&[RESTORE_OK, RESTORE_OK]).await;
    let base = RestoreDbInstanceInput {
        db_instance_identifier: "orders-encrypted".into(),
        db_snapshot_identifier: "rdsenc-orders-encrypted".into(),
        availability_zone: Some("us-east-1a".into()),
        vpc_security_group_ids: vec!["sg-1".into(), "sg-2".into()],
        port: Some(5433),
        deletion_protection: true,
        tags: Tags::from([("rdsenc:role".to_owned(), "target".to_owned())]),
        ..RestoreDbInstanceInput::default()
    };
    let restored = clients
        .restore_db_instance_from_snapshot(&RestoreDbInstanceInput {
            multi_az: true,
            ..base.clone()
        })
        .await
        .expect("multi-az restore");
    assert_eq!(restored.identifier, "orders-encrypted");
    clients
        .restore_db_instance_from_snapshot(&base)
        .await
        .expect("single-az restore");
    let sent = bodies(&http);
    assert_sent(&sent[0], &["MultiAZ=true"]);
    assert_not_sent(&sent[0], &["AvailabilityZone"]);
    assert_sent(&sent[1], &["MultiAZ=false", "AvailabilityZone=us-east-1a"]);
    for body in &sent {
        assert_sent(
            body,
            &[
                "VpcSecurityGroupIds.VpcSecurityGroupId.2=sg-2",
                "Port=5433",
                "DeletionProtection=true",
                "DBSnapshotIdentifier=rdsenc-orders-encrypted",
            ],
        );
    }
}

#[tokio::test]
async fn renaming_onto_a_taken_identifier_is_refused_before_any_modify_call() {
    let taken = r#"<DescribeDBInstancesResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/"><DescribeDBInstancesResult><DBInstances><DBInstance><DBInstanceIdentifier>orders</DBInstanceIdentifier><DBInstanceStatus>available</DBInstanceStatus></DBInstance></DBInstances></DescribeDBInstancesResult></DescribeDBInstancesResponse>"#;
    let (clients, http) = clients(&[taken]).await;
    let err = clients
        .modify_db_instance(&ModifyDbInstanceInput {
            db_instance_identifier: "orders-encrypted".into(),
            new_db_instance_identifier: Some("orders".into()),
            apply_immediately: true,
            ..ModifyDbInstanceInput::default()
        })
        .await
        .expect_err("must refuse");
    assert!(
        matches!(&err, AwsError::AlreadyExists { code, .. } if code == "DBInstanceAlreadyExists"),
        "{err:?}"
    );
    let sent = bodies(&http);
    assert_eq!(sent.len(), 1, "only the collision check was sent: {sent:?}");
    assert_sent(
        &sent[0],
        &["Action=DescribeDBInstances", "DBInstanceIdentifier=orders"],
    );
}

fn endpoint_input(credentials: EndpointCredentials) -> CreateEndpointInput {
    CreateEndpointInput {
        identifier: "rdsenc-orders-source".into(),
        endpoint_type: EndpointType::Source,
        engine: EndpointEngine::Postgres,
        server_name: "orders.abc.us-east-1.rds.amazonaws.com".into(),
        port: 5432,
        database_name: Some("orders".into()),
        credentials,
        ssl_mode: SslMode::Require,
        after_connect_script: None,
        extra_connection_attributes: None,
        tags: Tags::new(),
    }
}

const NO_ENDPOINTS: &str = r#"{"Endpoints":[]}"#;
const ENDPOINT_OK: &str = r#"{"Endpoint":{"EndpointIdentifier":"rdsenc-orders-source","EndpointArn":"arn:aws:dms:us-east-1:123456789012:endpoint:SRC","EndpointType":"SOURCE","EngineName":"postgres","Status":"active","SslMode":"require"}}"#;

#[tokio::test]
async fn secrets_manager_credentials_send_no_username_or_password() {
    let (clients, http) = clients(&[NO_ENDPOINTS, ENDPOINT_OK]).await;
    let created = clients
        .create_endpoint(&endpoint_input(EndpointCredentials::SecretsManager {
            secret_arn: "arn:aws:secretsmanager:us-east-1:123456789012:secret:dms-AbCdEf".into(),
            access_role_arn: "arn:aws:iam::123456789012:role/dms-secrets".into(),
        }))
        .await
        .expect("created");
    assert_eq!(created.endpoint_type, EndpointType::Source);
    assert_eq!(created.ssl_mode, SslMode::Require);
    let sent = bodies(&http);
    assert_eq!(sent.len(), 2, "describe first, then create");
    assert_sent(
        &sent[1],
        &[
            r#""SecretsManagerSecretId":"arn:aws:secretsmanager:us-east-1:123456789012:secret:dms-AbCdEf""#,
            "PostgreSQLSettings",
        ],
    );
    assert_not_sent(&sent[1], &["Password", "Username"]);
}

#[tokio::test]
async fn password_credentials_are_sent_to_aws_but_never_echoed_by_debug() {
    let (clients, http) = clients(&[NO_ENDPOINTS, ENDPOINT_OK]).await;
    let input = endpoint_input(EndpointCredentials::Password {
        username: "dms".into(),
        password: SecretString::new("pw-not-real-9731"),
    });
    assert!(!format!("{input:?}").contains("pw-not-real-9731"));
    clients.create_endpoint(&input).await.expect("created");
    let sent = bodies(&http);
    assert_sent(
        &sent[1],
        &[r#""Password":"pw-not-real-9731""#, r#""Username":"dms""#],
    );
}

const BGD: &str = r#"<BlueGreenDeployment><BlueGreenDeploymentIdentifier>bgd-abc123</BlueGreenDeploymentIdentifier><BlueGreenDeploymentName>rdsenc-orders</BlueGreenDeploymentName><Source>arn:aws:rds:us-east-1:123456789012:db:orders</Source><Target>arn:aws:rds:us-east-1:123456789012:db:orders-green-abcdef</Target><SwitchoverDetails><member><SourceMember>arn:aws:rds:us-east-1:123456789012:db:orders</SourceMember><TargetMember>arn:aws:rds:us-east-1:123456789012:db:orders-green-abcdef</TargetMember><Status>AVAILABLE</Status></member></SwitchoverDetails><Status>PROVISIONING</Status><TagList><Tag><Key>rdsenc:migration</Key><Value>orders</Value></Tag></TagList></BlueGreenDeployment>"#;

fn wrap(action: &str, inner: &str) -> String {
    format!(
        r#"<{action}Response xmlns="http://rds.amazonaws.com/doc/2014-10-31/"><{action}Result>{inner}</{action}Result></{action}Response>"#
    )
}

#[tokio::test]
async fn a_blue_green_deployment_is_created_with_a_target_key_for_every_instance() {
    let created = wrap("CreateBlueGreenDeployment", BGD);
    let (clients, http) = clients(&[&created]).await;
    let d = clients
        .create_blue_green_deployment(&CreateBlueGreenDeploymentInput {
            name: "rdsenc-orders".into(),
            source_arn: "arn:aws:rds:us-east-1:123456789012:db:orders".into(),
            target_resource_configurations: vec![
                TargetResourceConfig {
                    source_arn: "arn:aws:rds:us-east-1:123456789012:db:orders".into(),
                    kms_key_id: "arn:aws:kms:us-east-1:123456789012:key/k1".into(),
                },
                TargetResourceConfig {
                    source_arn: "arn:aws:rds:us-east-1:123456789012:db:orders-replica".into(),
                    kms_key_id: "arn:aws:kms:us-east-1:123456789012:key/k2".into(),
                },
            ],
            target_engine_version: Some("16.6".into()),
            target_db_parameter_group_name: None,
            tags: Tags::from([("rdsenc:migration".to_owned(), "orders".to_owned())]),
        })
        .await
        .expect("create");
    assert_eq!(d.identifier, "bgd-abc123");
    assert_eq!(d.status, BlueGreenStatus::Provisioning);
    assert_eq!(d.switchover_details.len(), 1);
    assert_eq!(
        d.tags.get("rdsenc:migration").map(String::as_str),
        Some("orders")
    );
    let body = bodies(&http).remove(0);
    let body = body.replace("%3A", ":").replace("%2F", "/");
    assert_sent(
        &body,
        &[
            "Action=CreateBlueGreenDeployment",
            "BlueGreenDeploymentName=rdsenc-orders",
            "Source=arn:aws:rds:us-east-1:123456789012:db:orders&",
            "TargetResourceConfigurations.TargetResourceConfiguration.1.SourceArn=arn:aws:rds:us-east-1:123456789012:db:orders&",
            "TargetResourceConfigurations.TargetResourceConfiguration.1.TargetKmsKeyId=arn:aws:kms:us-east-1:123456789012:key/k1",
            "TargetResourceConfigurations.TargetResourceConfiguration.2.SourceArn=arn:aws:rds:us-east-1:123456789012:db:orders-replica",
            "TargetResourceConfigurations.TargetResourceConfiguration.2.TargetKmsKeyId=arn:aws:kms:us-east-1:123456789012:key/k2",
            "TargetEngineVersion=16.6",
        ],
    );
    assert_not_sent(&body, &["TargetDBParameterGroupName"]);
}

#[tokio::test]
async fn blue_green_lookups_filter_by_name_and_treat_an_empty_answer_as_not_found() {
    let found = wrap(
        "DescribeBlueGreenDeployments",
        &format!(
            "<BlueGreenDeployments>{}</BlueGreenDeployments>",
            BGD.replace("BlueGreenDeployment>", "member>")
        ),
    );
    let empty = wrap(
        "DescribeBlueGreenDeployments",
        "<BlueGreenDeployments></BlueGreenDeployments>",
    );
    let (clients, http) = clients(&[&found, &empty]).await;
    let d = clients
        .describe_blue_green_deployment(&BlueGreenRef::Name("rdsenc-orders".into()))
        .await
        .expect("found by name");
    assert_eq!(d.identifier, "bgd-abc123");
    assert_eq!(
        d.target_arn,
        "arn:aws:rds:us-east-1:123456789012:db:orders-green-abcdef"
    );
    let gone = clients
        .describe_blue_green_deployment(&BlueGreenRef::Id("bgd-gone".into()))
        .await;
    assert!(matches!(gone, Err(ref e) if e.is_not_found()), "{gone:?}");
    let sent = bodies(&http);
    assert_sent(
        &sent[0],
        &[
            "Filters.Filter.1.Name=blue-green-deployment-name",
            "Filters.Filter.1.Values.Value.1=rdsenc-orders",
        ],
    );
    assert_sent(&sent[1], &["BlueGreenDeploymentIdentifier=bgd-gone"]);
}

#[tokio::test]
async fn switchover_sends_its_timeout_and_delete_says_whether_green_goes_too() {
    let switched = wrap("SwitchoverBlueGreenDeployment", BGD);
    let deleted = wrap("DeleteBlueGreenDeployment", BGD);
    let (clients, http) = clients(&[&switched, &deleted]).await;
    clients
        .switchover_blue_green_deployment("bgd-abc123", 600)
        .await
        .expect("switchover");
    clients
        .delete_blue_green_deployment("bgd-abc123", false)
        .await
        .expect("delete");
    let sent = bodies(&http);
    assert_sent(
        &sent[0],
        &[
            "Action=SwitchoverBlueGreenDeployment",
            "BlueGreenDeploymentIdentifier=bgd-abc123",
            "SwitchoverTimeout=600",
        ],
    );
    assert_sent(
        &sent[1],
        &["Action=DeleteBlueGreenDeployment", "DeleteTarget=false"],
    );
}

fn dms_task(status: &str, failure: Option<&str>) -> String {
    let failure = failure
        .map(|m| format!(r#","LastFailureMessage":"{m}""#))
        .unwrap_or_default();
    format!(
        r#"{{"ReplicationTasks":[{{"ReplicationTaskIdentifier":"t1","ReplicationTaskArn":"arn:aws:dms:us-east-1:123456789012:task:T1","Status":"{status}"{failure}}}]}}"#
    )
}

/// The statuses the engine's waiter polls on: DMS's task statuses arrive in the domain
/// vocabulary, one DescribeReplicationTasks per read, and a failed task carries AWS's
/// reason (the engine's `Failed` error quotes it).
#[tokio::test]
async fn dms_task_statuses_and_failure_reason_reach_the_engine_vocabulary() {
    let bodies = [
        dms_task("ready", None),
        dms_task("starting", None),
        dms_task("running", None),
        dms_task("failed", Some("Last Error Table error")),
    ];
    let refs: Vec<&str> = bodies.iter().map(String::as_str).collect();
    let (clients, http) = clients(&refs).await;
    let which = DmsRef::Id("t1".into());
    let mut seen = Vec::new();
    for _ in &bodies {
        let t = clients
            .describe_replication_task(&which)
            .await
            .expect("task");
        seen.push((t.status, t.last_failure_message));
    }
    assert_eq!(
        seen,
        [
            (ReplicationTaskStatus::Ready, None),
            (ReplicationTaskStatus::Starting, None),
            (ReplicationTaskStatus::Running, None),
            (
                ReplicationTaskStatus::Failed,
                Some("Last Error Table error".to_owned())
            ),
        ]
    );
    assert_eq!(http.actual_requests().count(), 4);
}
