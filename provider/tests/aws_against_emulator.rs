//! The AWS layer against the rdsenc emulator (moto plus patches): `Clients` (built by
//! `Clients::load`, the official SDK clients) driven through `AwsApi`, the interface the
//! engine uses, over HTTP on 127.0.0.1. Never real AWS. Where a test must wait for the
//! emulator it uses `support::poll` (the engine's backoff, bounded); waiting itself is the
//! engine's job and is tested with the engine.
//!
//! Run: `cargo test --test aws_against_emulator`.
//!
//! The emulator is started per test as a child process (killed on drop):
//! `$RDSENC_PYTHON` (default `<root>/.venv/bin/python`) runs `$RDSENC_EMULATOR` (default
//! `<root>/acceptance-tests/emulator/rdsenc_emulator.py`); a missing launcher fails the test.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use rdsenc::aws::{Clients, Endpoints};
use rdsenc_engine::api::AwsError;
use rdsenc_engine::api::{
    AwsApi, CdcLatencyQuery, ChangeStatus, ConnectionStatus, CopyDbParameterGroupInput,
    CopyDbSnapshotInput, CreateDbSnapshotInput, CreateEndpointInput, CreateReplicationTaskInput,
    DbInstance, DbInstanceStatus, DmsRef, EndpointCredentials, EndpointEngine, EndpointStatus,
    EndpointType, MigrationType, ModifyDbParameterInput, ModifyEndpointInput,
    ModifyReplicationTaskInput, ReplicationInstanceStatus, ReplicationTask, ReplicationTaskStatus,
    RestoreDbInstanceInput, SecretString, SnapshotStatus, SslMode, StartReplicationTaskInput,
    StartType, Tags, UpsertCnameInput, ValidationState,
};

const WAIT: Duration = Duration::from_secs(120);

// ------------------------------------------------------------------------------------------
// The emulator process

mod support;

use support::{Emulator, poll};

/// The DB instance once it is `available`.
async fn instance_available(clients: &Clients, id: &str) -> DbInstance {
    poll(
        &format!("DB instance {id} available"),
        || clients.describe_db_instance(id),
        |r| matches!(r, Ok(i) if i.status == DbInstanceStatus::Available),
    )
    .await
    .expect("instance available")
}

/// The task once its status has left `pending` (the statuses the old SDK waiters passed
/// through); the caller asserts the status it expects.
async fn task_settled(
    clients: &Clients,
    arn: &str,
    pending: &[ReplicationTaskStatus],
) -> ReplicationTask {
    let which = DmsRef::Arn(arn.to_owned());
    poll(
        &format!("task {arn} out of {pending:?}"),
        || clients.describe_replication_task(&which),
        |r| matches!(r, Ok(t) if !pending.contains(&t.status)),
    )
    .await
    .expect("task")
}

/// Statuses a task passes through on its way to `ready` after a create.
const TASK_READY_PENDING: &[ReplicationTaskStatus] = &[
    ReplicationTaskStatus::Creating,
    ReplicationTaskStatus::Modifying,
    ReplicationTaskStatus::Testing,
];
/// Statuses a started task passes through on its way to `running`.
const TASK_RUNNING_PENDING: &[ReplicationTaskStatus] = &[
    ReplicationTaskStatus::Ready,
    ReplicationTaskStatus::Starting,
];
/// Statuses a task passes through after a stop, or a modify while stopped.
const TASK_STOPPED_PENDING: &[ReplicationTaskStatus] = &[
    ReplicationTaskStatus::Running,
    ReplicationTaskStatus::Starting,
    ReplicationTaskStatus::Stopping,
    ReplicationTaskStatus::Modifying,
];

/// `Ok` while the object exists; done once the answer is NotFound.
fn is_gone<T>(r: &Result<T, AwsError>) -> bool {
    matches!(r, Err(e) if e.is_not_found())
}

fn tags(role: &str) -> Tags {
    BTreeMap::from([
        ("rdsenc:migration".to_owned(), "orders".to_owned()),
        ("rdsenc:role".to_owned(), role.to_owned()),
    ])
}

const TABLE_MAPPINGS: &str = r#"{"rules":[{"rule-type":"selection","rule-id":"1","rule-name":"all","object-locator":{"schema-name":"%","table-name":"%"},"rule-action":"include"}]}"#;
const TASK_SETTINGS: &str = r#"{"FullLoadSettings":{"TargetTablePrepMode":"TRUNCATE_BEFORE_LOAD"},"ValidationSettings":{"EnableValidation":true}}"#;

fn endpoint_input(id: &str, kind: EndpointType, server: &str) -> CreateEndpointInput {
    CreateEndpointInput {
        identifier: id.to_owned(),
        endpoint_type: kind,
        engine: EndpointEngine::Postgres,
        server_name: server.to_owned(),
        port: 5432,
        database_name: Some("orders".into()),
        credentials: EndpointCredentials::Password {
            username: "dms".into(),
            password: SecretString::new("not-a-real-password"),
        },
        ssl_mode: SslMode::Require,
        after_connect_script: Some("SET session_replication_role=replica".into()),
        extra_connection_attributes: None,
        tags: tags("endpoint"),
    }
}

/// Creates the DMS side up to a running task; returns (instance arn, instance id, task arn,
/// source endpoint arn).
async fn running_task(clients: &Clients) -> (String, String, String, String) {
    let ri = clients
        .create_replication_instance(&support::replication_instance_input(
            "rdsenc-orders",
            tags("replication-instance"),
        ))
        .await
        .expect("create replication instance (DMS timestamps as epoch numbers)");
    assert_eq!(ri.identifier, "rdsenc-orders");
    let which = DmsRef::Arn(ri.arn.clone());
    let ri = poll(
        "replication instance available",
        || clients.describe_replication_instance(&which),
        |r| matches!(r, Ok(i) if i.status == ReplicationInstanceStatus::Available),
    )
    .await
    .expect("replication instance available");
    let ri_arn = ri.arn.clone();
    let domain_ri = clients
        .describe_replication_instance(&DmsRef::Id("rdsenc-orders".into()))
        .await
        .expect("describe by id");
    assert_eq!(domain_ri.status, ReplicationInstanceStatus::Available);
    assert_eq!(domain_ri.arn, ri_arn);
    assert_eq!(domain_ri.allocated_storage, 50);

    let source = clients
        .create_endpoint(&endpoint_input(
            "rdsenc-orders-source",
            EndpointType::Source,
            "orders.abc.us-east-1.rds.amazonaws.com",
        ))
        .await
        .expect("create source endpoint");
    let target = clients
        .create_endpoint(&endpoint_input(
            "rdsenc-orders-target",
            EndpointType::Target,
            "orders-encrypted.abc.us-east-1.rds.amazonaws.com",
        ))
        .await
        .expect("create target endpoint");
    assert_eq!(source.endpoint_type, EndpointType::Source);
    assert_eq!(target.engine, EndpointEngine::Postgres);
    let which = DmsRef::Arn(source.arn.clone());
    let active = poll(
        "source endpoint out of creating",
        || clients.describe_endpoint(&which),
        |r| matches!(r, Ok(e) if e.status != EndpointStatus::Creating),
    )
    .await
    .expect("source endpoint");
    assert_eq!(
        active.status,
        EndpointStatus::Active,
        "the emulator makes endpoints active"
    );

    let task = clients
        .create_replication_task(&CreateReplicationTaskInput {
            identifier: "rdsenc-orders".into(),
            replication_instance_arn: ri_arn.clone(),
            source_endpoint_arn: source.arn.clone(),
            target_endpoint_arn: target.arn.clone(),
            migration_type: MigrationType::FullLoadAndCdc,
            table_mappings: TABLE_MAPPINGS.into(),
            task_settings: TASK_SETTINGS.into(),
            cdc_start_position: None,
            tags: tags("replication-task"),
        })
        .await
        .expect("create task");
    assert_eq!(task.migration_type, MigrationType::FullLoadAndCdc);
    assert_eq!(task.replication_instance_arn, ri_arn);
    let ready = task_settled(clients, &task.arn, TASK_READY_PENDING).await;
    assert_eq!(
        ready.status,
        ReplicationTaskStatus::Ready,
        "the emulator makes tasks ready"
    );
    clients
        .start_replication_task(&StartReplicationTaskInput {
            arn: task.arn.clone(),
            start_type: StartType::StartReplication,
            cdc_start_position: None,
        })
        .await
        .expect("start task");
    let running = task_settled(clients, &task.arn, TASK_RUNNING_PENDING).await;
    assert_eq!(running.status, ReplicationTaskStatus::Running);
    (ri_arn, "rdsenc-orders".into(), task.arn, source.arn)
}

// ------------------------------------------------------------------------------------------
// Tests

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_load_static_profile_credentials_and_ask_sts_only_when_asked() {
    let emu = Emulator::start();
    let clients = emu.clients().await;
    assert_eq!(clients.region(), Some("us-east-1"));
    assert_eq!(clients.account_id(), None, "configuration calls no AWS API");
    let identity = clients.caller_identity().await.expect("STS");
    assert_eq!(identity.account, "123456789012");
    assert_eq!(identity.partition(), "aws");
    assert_eq!(clients.account_id(), Some("123456789012"));
    let debug = format!("{clients:?}");
    assert!(
        !debug.contains("test-secret-not-real"),
        "secret leaked: {debug}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_honour_an_endpoint_url_from_the_shared_config_profile() {
    let emu = Emulator::start();
    let mut settings = emu.settings();
    // No explicit endpoints: the profile's `endpoint_url` (AWS_ENDPOINT_URL's file form)
    // must route every client to the emulator.
    settings.endpoints = Endpoints::default();
    let config = emu.dir.path().join("config");
    std::fs::write(
        &config,
        format!("[profile rdsenc-test]\nendpoint_url = {}\n", emu.url),
    )
    .expect("config file");
    let clients = Clients::load(&settings).await.expect("clients load");
    clients
        .caller_identity()
        .await
        .expect("STS reached through the profile endpoint");
    let err = clients
        .describe_db_instance("does-not-exist")
        .await
        .expect_err("missing instance");
    assert!(err.is_not_found(), "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_validation_failure_is_a_clear_error_without_secrets() {
    let emu = Emulator::start();
    let mut settings = emu.settings();
    // Nothing listens on port 1: STS is unreachable.
    settings.endpoints = Endpoints::all("http://127.0.0.1:1");
    settings.max_retries = Some(0);
    let clients = Clients::load(&settings)
        .await
        .expect("configuration makes no AWS call");
    let err = clients.caller_identity().await.expect_err("must fail");
    let text = err.to_string();
    assert!(text.contains("STS GetCallerIdentity"), "{text}");
    assert!(text.contains("AWS_ACCESS_KEY_ID"), "{text}");
    assert!(!text.contains("test-secret-not-real"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rds_snapshot_encrypted_copy_and_restore_through_the_adapter() {
    let emu = Emulator::start();
    let clients = emu.clients().await;

    support::create_source(&clients)
        .engine_version("16.3")
        .send()
        .await
        .expect("create source instance");
    let source = instance_available(&clients, "orders").await;
    assert!(!source.storage_encrypted);

    let key = support::key_with_alias(&clients, "alias/rdsenc-test").await;
    let resolved = clients
        .describe_kms_key("alias/rdsenc-test")
        .await
        .expect("alias resolves");
    let key_arn = key.arn().expect("key arn").to_owned();
    assert_eq!(resolved.arn, key_arn);
    let missing_key = clients.describe_kms_key("alias/nope").await;
    assert!(
        matches!(&missing_key, Err(e) if e.is_not_found()),
        "{missing_key:?}"
    );

    let snap = clients
        .create_db_snapshot(&CreateDbSnapshotInput {
            snapshot_identifier: "rdsenc-orders-snapshot".into(),
            db_instance_identifier: "orders".into(),
            tags: tags("snapshot"),
        })
        .await
        .expect("create snapshot");
    assert!(!snap.encrypted);
    let available = |r: &Result<rdsenc_engine::api::DbSnapshot, AwsError>| matches!(r, Ok(s) if s.status == SnapshotStatus::Available);
    poll(
        "snapshot available",
        || clients.describe_db_snapshot("rdsenc-orders-snapshot"),
        available,
    )
    .await
    .expect("snapshot available");

    clients
        .copy_db_snapshot(&CopyDbSnapshotInput {
            source_snapshot_identifier: "rdsenc-orders-snapshot".into(),
            target_snapshot_identifier: "rdsenc-orders-encrypted".into(),
            kms_key_id: "alias/rdsenc-test".into(),
            copy_tags: false,
            tags: tags("encrypted-snapshot"),
        })
        .await
        .expect("copy snapshot");
    let copy = poll(
        "copy available",
        || clients.describe_db_snapshot("rdsenc-orders-encrypted"),
        available,
    )
    .await
    .expect("describe copy");
    assert!(copy.encrypted, "copy must be encrypted: {copy:?}");
    assert_eq!(copy.kms_key_id.as_deref(), Some(key_arn.as_str()));
    assert_eq!(copy.status, SnapshotStatus::Available);
    assert_eq!(
        copy.tags.get("rdsenc:role").map(String::as_str),
        Some("encrypted-snapshot")
    );

    let restored = clients
        .restore_db_instance_from_snapshot(&RestoreDbInstanceInput {
            db_instance_identifier: "orders-encrypted".into(),
            db_snapshot_identifier: "rdsenc-orders-encrypted".into(),
            instance_class: Some("db.t3.micro".into()),
            deletion_protection: true,
            copy_tags_to_snapshot: true,
            tags: tags("target"),
            ..RestoreDbInstanceInput::default()
        })
        .await
        .expect("restore");
    assert_eq!(restored.identifier, "orders-encrypted");
    let target = instance_available(&clients, "orders-encrypted").await;
    assert!(target.storage_encrypted);
    assert_eq!(target.kms_key_id.as_deref(), Some(key_arn.as_str()));
    let domain = clients
        .describe_db_instance("orders-encrypted")
        .await
        .expect("describe target");
    assert!(domain.deletion_protection);
    assert!(domain.endpoint.is_some());

    let ours = clients
        .list_db_instances_by_tag("rdsenc:role", "target")
        .await
        .expect("list by tag");
    let ids: Vec<_> = ours.iter().map(|i| i.identifier.as_str()).collect();
    assert_eq!(ids, ["orders-encrypted"]);

    let gone = clients.describe_db_snapshot("rdsenc-orders-nope").await;
    assert!(matches!(&gone, Err(e) if e.is_not_found()), "{gone:?}");
    clients
        .delete_db_snapshot("rdsenc-orders-snapshot")
        .await
        .expect("delete snapshot");
    let gone = poll(
        "snapshot gone",
        || clients.describe_db_snapshot("rdsenc-orders-snapshot"),
        is_gone,
    )
    .await;
    assert!(gone.is_err(), "snapshot gone: {gone:?}");
    let again = clients.delete_db_snapshot("rdsenc-orders-snapshot").await;
    assert!(
        matches!(&again, Err(e) if e.is_not_found()),
        "deleting twice is NotFound: {again:?}"
    );
}

/// DMS timestamps as epoch numbers, endpoint `active`, task status sequence,
/// in-use faults.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dms_instance_endpoints_and_task_lifecycle_through_the_sdk() {
    let emu = Emulator::start();
    let clients = emu.clients().await;
    let (ri_arn, _, task_arn, source_arn) = running_task(&clients).await;

    let dup = clients
        .create_endpoint(&endpoint_input(
            "rdsenc-orders-source",
            EndpointType::Source,
            "elsewhere.example.com",
        ))
        .await;
    assert!(
        matches!(&dup, Err(AwsError::AlreadyExists { .. })),
        "a taken endpoint identifier must not be replaced: {dup:?}"
    );
    let still = clients
        .describe_endpoint(&DmsRef::Arn(source_arn.clone()))
        .await
        .expect("original endpoint kept");
    assert_eq!(
        still.server_name.as_deref(),
        Some("orders.abc.us-east-1.rds.amazonaws.com")
    );
    assert_eq!(still.status, EndpointStatus::Active);
    assert_eq!(
        still.after_connect_script.as_deref(),
        Some("SET session_replication_role=replica")
    );

    let running = clients
        .describe_replication_task(&DmsRef::Arn(task_arn.clone()))
        .await
        .expect("describe task");
    assert_eq!(running.status, ReplicationTaskStatus::Running);
    let stats = running.stats.expect("stats once started");
    assert!((0..=100).contains(&stats.full_load_progress_percent));

    let busy = clients.delete_endpoint(&source_arn).await;
    assert!(
        matches!(&busy, Err(AwsError::InvalidState { .. })),
        "an endpoint in use by a task cannot be deleted: {busy:?}"
    );

    clients
        .stop_replication_task(&task_arn)
        .await
        .expect("stop task");
    let stopped = task_settled(&clients, &task_arn, TASK_STOPPED_PENDING).await;
    assert_eq!(stopped.status, ReplicationTaskStatus::Stopped);

    clients
        .delete_replication_task(&task_arn)
        .await
        .expect("delete task");
    let which = DmsRef::Arn(task_arn.clone());
    let gone = poll(
        "task gone",
        || clients.describe_replication_task(&which),
        is_gone,
    )
    .await;
    assert!(matches!(&gone, Err(e) if e.is_not_found()), "{gone:?}");

    clients
        .delete_endpoint(&source_arn)
        .await
        .expect("endpoint deletable once the task is gone");
    let gone = clients
        .describe_endpoint(&DmsRef::Id("rdsenc-orders-source".into()))
        .await;
    assert!(matches!(&gone, Err(e) if e.is_not_found()), "{gone:?}");
    let listed = clients
        .list_tags(&ri_arn)
        .await
        .expect("tags of the replication instance");
    assert_eq!(
        listed.get("rdsenc:role").map(String::as_str),
        Some("replication-instance")
    );
}

/// The `/_emulator/faults` control route (throttling and 5xx injection).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn injected_throttling_is_retried_by_the_sdk_and_classified_when_retries_run_out() {
    let emu = Emulator::start();
    // max_retries = 1: two attempts per call.
    let clients = emu.clients().await;

    // Two throttles: the first call's retry absorbs one, then fails on the second.
    emu.control(
        "faults",
        r#"{"rules":[{"service":"rds","operation":"DescribeDBInstances","throttle_rate":1.0,"times":2}]}"#,
    );
    let err = clients
        .describe_db_instance("orders")
        .await
        .expect_err("throttled twice");
    assert!(
        matches!(&err, AwsError::Throttled { code, .. } if code == "Throttling"),
        "{err:?}"
    );
    assert!(err.is_transient());
    // The faults are used up: the same call now reaches RDS and gets a real answer.
    let err = clients
        .describe_db_instance("orders")
        .await
        .expect_err("no such instance");
    assert!(err.is_not_found(), "{err:?}");

    // One throttle on DMS: the SDK's retry hides it completely.
    emu.control(
        "faults",
        r#"{"rules":[{"service":"dms","operation":"DescribeReplicationTasks","throttle_rate":1.0,"times":1}]}"#,
    );
    let err = clients
        .describe_replication_task(&DmsRef::Id("rdsenc-orders".into()))
        .await
        .expect_err("no such task");
    assert!(err.is_not_found(), "retried past the throttle: {err:?}");

    // Server errors keep their status and are transient.
    emu.control(
        "faults",
        r#"{"rules":[{"service":"dms","operation":"DescribeEndpoints","error_rate":1.0,"times":2}]}"#,
    );
    let err = clients
        .describe_endpoint(&DmsRef::Id("rdsenc-orders-source".into()))
        .await
        .expect_err("5xx twice");
    assert!(
        matches!(
            &err,
            AwsError::Service {
                status: Some(503),
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.is_transient());
}

/// DMS timestamps, connection tests, modify_endpoint, modify_replication_task,
/// describe_table_statistics and the `/_emulator/table-statistics` control route.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dms_settings_update_stops_modifies_and_resumes_the_task() {
    let emu = Emulator::start();
    let clients = emu.clients().await;
    let (ri_arn, _, task_arn, source_arn) = running_task(&clients).await;

    clients
        .test_connection(&ri_arn, &source_arn)
        .await
        .expect("test connection");
    let conn = poll(
        "connection test finished",
        || clients.describe_connection(&ri_arn, &source_arn),
        |r| matches!(r, Ok(c) if c.status != ConnectionStatus::Testing),
    )
    .await
    .expect("describe connection");
    assert_eq!(conn.status, ConnectionStatus::Successful);
    let never = clients
        .describe_connection(&ri_arn, "arn:aws:dms:us-east-1:123456789012:endpoint:NOPE")
        .await;
    assert!(matches!(&never, Err(e) if e.is_not_found()), "{never:?}");

    emu.control(
        "table-statistics",
        &format!(
            r#"{{"task":"{task_arn}","tables":[
                {{"schema":"public","table":"orders","rows":1000,"validation_state":"Validated"}},
                {{"schema":"public","table":"items","rows":50,"inserts":5,"validation_state":"Mismatched records"}}]}}"#
        ),
    );
    let tables = clients
        .describe_table_statistics(&task_arn)
        .await
        .expect("table statistics");
    let by_name: BTreeMap<_, _> = tables
        .iter()
        .map(|t| (format!("{}.{}", t.schema_name, t.table_name), t))
        .collect();
    assert_eq!(by_name.len(), 2, "{tables:?}");
    assert_eq!(
        by_name["public.orders"].validation_state,
        ValidationState::Validated
    );
    assert_eq!(
        by_name["public.items"].validation_state,
        ValidationState::MismatchedRecords
    );
    assert_eq!(by_name["public.items"].inserts, 5);

    clients
        .stop_replication_task(&task_arn)
        .await
        .expect("stop");
    let stopped = task_settled(&clients, &task_arn, TASK_STOPPED_PENDING).await;
    assert_eq!(stopped.status, ReplicationTaskStatus::Stopped);
    let new_settings = r#"{"FullLoadSettings":{"TargetTablePrepMode":"DO_NOTHING"},"ValidationSettings":{"EnableValidation":true}}"#;
    clients
        .modify_replication_task(&ModifyReplicationTaskInput {
            arn: task_arn.clone(),
            task_settings: Some(new_settings.into()),
            ..ModifyReplicationTaskInput::default()
        })
        .await
        .expect("modify task");
    let modified = task_settled(&clients, &task_arn, TASK_STOPPED_PENDING).await;
    assert_eq!(
        modified.status,
        ReplicationTaskStatus::Stopped,
        "modified and stopped again"
    );
    assert!(
        modified
            .task_settings
            .as_deref()
            .is_some_and(|s| s.contains("DO_NOTHING")),
        "{:?}",
        modified.task_settings
    );

    let rotated = clients
        .modify_endpoint(&ModifyEndpointInput {
            arn: source_arn.clone(),
            credentials: Some(EndpointCredentials::Password {
                username: "dms".into(),
                password: SecretString::new("rotated-not-real"),
            }),
            after_connect_script: Some("SET statement_timeout=0".into()),
            ..ModifyEndpointInput::default()
        })
        .await
        .expect("modify endpoint");
    assert_eq!(rotated.username.as_deref(), Some("dms"));
    assert_eq!(
        rotated.after_connect_script.as_deref(),
        Some("SET statement_timeout=0")
    );

    clients
        .start_replication_task(&StartReplicationTaskInput {
            arn: task_arn.clone(),
            start_type: StartType::ResumeProcessing,
            cdc_start_position: None,
        })
        .await
        .expect("resume");
    let resumed = task_settled(&clients, &task_arn, TASK_RUNNING_PENDING).await;
    assert_eq!(
        resumed.status,
        ReplicationTaskStatus::Running,
        "running again"
    );
}

/// CloudWatch RPCv2 CBOR and the `/_emulator/lag` control route.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cloudwatch_get_metric_data_reads_cdc_latency_of_a_running_task() {
    let emu = Emulator::start();
    let clients = emu.clients().await;
    let (_, ri_id, task_arn, _) = running_task(&clients).await;

    emu.control(
        "lag",
        &format!(r#"{{"task":"{task_arn}","source_seconds":3,"target_seconds":7.5}}"#),
    );

    // The task dimension is the task's resource id, the last segment of its ARN.
    let task_id = task_arn.rsplit(':').next().expect("arn").to_owned();
    let query = |task: &str, window: Duration| CdcLatencyQuery {
        replication_instance_identifier: ri_id.clone(),
        replication_task_identifier: task.to_owned(),
        end: SystemTime::now(),
        window,
        period: Duration::from_secs(60),
    };
    let latency = clients
        .cdc_latency(&query(&task_id, Duration::from_secs(15 * 60)))
        .await
        .expect("GetMetricData deserializes (RPCv2 CBOR)");
    assert_eq!(latency.source_seconds, Some(3.0), "{latency:?}");
    assert_eq!(latency.target_seconds, Some(7.5), "{latency:?}");
    // Each value carries its datapoint's CloudWatch timestamp: the start of the (60 s,
    // epoch-aligned) period it aggregates, the newest one holding now.
    let at = latency.target_at.expect("target timestamp");
    assert_eq!(latency.source_at, Some(at), "{latency:?}");
    let since_epoch = at
        .duration_since(SystemTime::UNIX_EPOCH)
        .expect("after epoch");
    assert_eq!(since_epoch.as_secs() % 60, 0, "{latency:?}");
    let age = SystemTime::now()
        .duration_since(at)
        .expect("not in the future");
    assert!(age < Duration::from_secs(61), "{latency:?}");

    // The data points are fresh: a three-minute window ending now still holds them.
    let recent = clients
        .cdc_latency(&query(&task_id, Duration::from_secs(180)))
        .await
        .expect("recent window");
    assert_eq!(
        (recent.source_seconds, recent.target_seconds),
        (Some(3.0), Some(7.5)),
        "stale datapoints: {recent:?}"
    );

    let unknown = clients
        .cdc_latency(&query("NO-SUCH-TASK", Duration::from_secs(15 * 60)))
        .await
        .expect("no data is not an error");
    assert_eq!(
        (unknown.source_seconds, unknown.target_seconds),
        (None, None)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn route53_cname_upsert_waits_for_insync_and_reads_back() {
    let emu = Emulator::start();
    let clients = emu.clients().await;
    let zone = clients
        .route53()
        .create_hosted_zone()
        .name("example.internal")
        .caller_reference("rdsenc-test")
        .send()
        .await
        .expect("zone")
        .hosted_zone
        .expect("zone in response");
    let zone_id = zone.id().rsplit('/').next().expect("zone id").to_owned();
    let found = clients
        .route53()
        .get_hosted_zone()
        .id(&zone_id)
        .send()
        .await
        .expect("zone found")
        .hosted_zone
        .expect("zone in response");
    assert_eq!(found.name(), "example.internal.");

    let change = clients
        .upsert_cname(&UpsertCnameInput {
            zone_id: zone_id.clone(),
            record_name: "db.example.internal".into(),
            value: "orders-encrypted.abc.us-east-1.rds.amazonaws.com".into(),
            ttl: 30,
            comment: "rdsenc cut-over".into(),
        })
        .await
        .expect("upsert");
    assert!(!change.starts_with('/'), "a bare change id: {change}");
    let insync = poll(
        "change INSYNC",
        || clients.route53_change_status(&change),
        |r| matches!(r, Ok(s) if *s != ChangeStatus::Pending),
    )
    .await
    .expect("change status");
    assert_eq!(insync, ChangeStatus::Insync);
    let record = clients
        .describe_cname(&zone_id, "db.example.internal")
        .await
        .expect("record");
    assert_eq!(
        record.value,
        "orders-encrypted.abc.us-east-1.rds.amazonaws.com"
    );
    let missing = clients
        .describe_cname(&zone_id, "other.example.internal")
        .await;
    assert!(
        matches!(&missing, Err(e) if e.is_not_found()),
        "{missing:?}"
    );
    let no_zone = clients
        .describe_cname("ZNOTAZONE", "db.example.internal")
        .await;
    assert!(
        matches!(&no_zone, Err(e) if e.is_not_found()),
        "{no_zone:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_are_described_by_name_and_missing_ones_are_not_found() {
    let emu = Emulator::start();
    let clients = emu.clients().await;
    clients
        .secretsmanager()
        .create_secret()
        .name("rdsenc/orders/dms")
        .secret_string("{\"username\":\"dms\",\"password\":\"not-a-real-password\"}")
        .send()
        .await
        .expect("create secret");
    let meta = rdsenc::aws::secretsmanager::find_secret_by_id(
        clients.secretsmanager(),
        "rdsenc/orders/dms",
    )
    .await
    .expect("described");
    assert_eq!(meta.name(), Some("rdsenc/orders/dms"));
    assert!(!format!("{meta:?}").contains("not-a-real-password"));
    let missing =
        rdsenc::aws::secretsmanager::find_secret_by_id(clients.secretsmanager(), "nope").await;
    assert!(
        matches!(&missing, Err(e) if e.is_not_found()),
        "{missing:?}"
    );
}

/// The migration engine driving the real SDK adapter end to end: snapshot, encrypted copy,
/// restore, DMS provisioning, full load to CDC, lag from CloudWatch, then teardown.
/// Every DMS and CloudWatch call, with realistic status sequences.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_engine_migrates_through_the_sdk_adapter_from_create_to_teardown() {
    use std::sync::Arc;

    use rdsenc_engine::{Engine, KnownIds, Phase, PollPolicy, SystemClock};
    use tokio_util::sync::CancellationToken;

    let support::World {
        emu,
        clients,
        key,
        ri,
    } = support::World::new(|source| source.engine_version("16.3").backup_retention_period(1))
        .await;
    instance_available(&clients, "orders").await;
    let mut spec = support::spec(&ri);
    spec.dms.database_name = Some("orders".into());
    spec.delete_target_on_destroy = true;
    let engine = Engine::new(
        clients.clone(),
        Arc::new(SystemClock),
        PollPolicy::production().scaled(0.01),
    );
    let cancel = CancellationToken::new();
    let created = engine
        .reconcile_to_replicating(&spec, &KnownIds::default(), WAIT, &cancel)
        .await
        .map_err(|f| f.error.to_string())
        .expect("create reaches replicating");
    assert_eq!(created.phase, Phase::Replicating);
    let c = created.computed();
    assert_eq!(c.replication_task_status.as_deref(), Some("running"));
    assert_eq!(c.full_load_progress_percent, Some(100));
    let target = clients
        .describe_db_instance("orders-encrypted")
        .await
        .expect("target exists");
    assert!(target.storage_encrypted);
    assert_eq!(target.kms_key_id.as_deref(), key.arn());

    let task_arn = c.replication_task_arn.clone().expect("task arn");
    emu.control(
        "lag",
        &format!(r#"{{"task":"{task_arn}","source_seconds":1,"target_seconds":4}}"#),
    );
    let known = created.known_ids();
    let read = engine
        .observe(&spec, &known, &cancel)
        .await
        .expect("observe");
    assert_eq!(read.phase, Phase::Replicating);
    assert_eq!(read.computed().replication_lag_seconds, Some(4.0));

    let out = engine.teardown(&spec, &known, WAIT, &cancel).await;
    assert!(out.is_ok(), "{:?}", out.errors);
    clients
        .describe_db_instance("orders")
        .await
        .expect("the source is never deleted");
    let gone = clients
        .describe_replication_task(&DmsRef::Arn(task_arn))
        .await;
    assert!(matches!(&gone, Err(e) if e.is_not_found()), "{gone:?}");
    clients
        .describe_replication_instance(&DmsRef::Arn(ri.arn))
        .await
        .expect("a user-supplied replication instance is kept");
}

/// The `read_only` write fence's calls: DescribeDBParameters of one parameter,
/// ModifyDBParameterGroup with ApplyMethod immediate, the instance's ParameterApplyStatus,
/// and AWS refusing a change to a default group.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_write_fence_parameter_is_read_and_changed_in_the_instance_group_through_the_sdk() {
    let emu = Emulator::start();
    let clients = emu.clients().await;
    clients
        .rds()
        .create_db_parameter_group()
        .db_parameter_group_name("orders-params")
        .db_parameter_group_family("postgres16")
        .description("the source's own group")
        .send()
        .await
        .expect("create parameter group");
    support::create_source(&clients)
        .engine_version("16.3")
        .db_parameter_group_name("orders-params")
        .send()
        .await
        .expect("create source instance");
    let source = instance_available(&clients, "orders").await;
    assert_eq!(
        source.db_parameter_group_name.as_deref(),
        Some("orders-params")
    );
    assert_eq!(source.parameter_apply_status.as_deref(), Some("in-sync"));

    let name = "default_transaction_read_only";
    let before = clients
        .describe_db_parameter("orders-params", name)
        .await
        .expect("describe parameter");
    assert_ne!(before.as_deref(), Some("1"), "{before:?}");
    clients
        .modify_db_parameter(&ModifyDbParameterInput {
            group: "orders-params".into(),
            name: name.into(),
            value: "1".into(),
        })
        .await
        .expect("modify parameter");
    let after = clients
        .describe_db_parameter("orders-params", name)
        .await
        .expect("describe parameter");
    assert_eq!(after.as_deref(), Some("1"));

    let default = clients
        .modify_db_parameter(&ModifyDbParameterInput {
            group: "default.postgres16".into(),
            name: name.into(),
            value: "1".into(),
        })
        .await;
    assert!(
        matches!(&default, Err(e) if e.code() == Some("InvalidParameterValue")),
        "{default:?}"
    );
    let missing = clients.describe_db_parameter("no-such-group", name).await;
    assert!(
        matches!(&missing, Err(e) if e.is_not_found()),
        "{missing:?}"
    );

    // The target's own copy carries the values; a second copy onto the name is refused.
    let copy = CopyDbParameterGroupInput {
        source_group: "orders-params".into(),
        target_group: "rdsenc-orders-encrypted".into(),
        description: "the target's own group".into(),
        tags: Tags::from([("rdsenc:migration".to_owned(), "orders".to_owned())]),
    };
    clients
        .copy_db_parameter_group(&copy)
        .await
        .expect("copy parameter group");
    let copied = clients
        .describe_db_parameter("rdsenc-orders-encrypted", name)
        .await
        .expect("describe the copy");
    assert_eq!(copied.as_deref(), Some("1"));
    let again = clients.copy_db_parameter_group(&copy).await;
    assert!(
        matches!(&again, Err(AwsError::AlreadyExists { .. })),
        "{again:?}"
    );
    let from_default = clients
        .copy_db_parameter_group(&CopyDbParameterGroupInput {
            source_group: "default.postgres16".into(),
            target_group: "from-default".into(),
            ..copy.clone()
        })
        .await;
    assert!(from_default.is_ok(), "{from_default:?}");
}
