//! Scenario tests of the create path over the fake AWS on tokio's paused clock.

use std::time::Duration;

use super::api::*;
use super::error::{EngineError, Step};
use super::fake::{Call, Op};
use super::fixtures::{SpecExt, World, failed, ok};
use super::names::{Names, Role};
use super::spec::{MigrationSpec, Phase};

fn first(calls: &[Call], op: Op) -> Duration {
    calls
        .iter()
        .find(|c| c.op == op && !c.failed)
        .map(|c| c.at)
        .unwrap_or_else(|| panic!("no {op:?} call in {calls:#?}"))
}

fn pos(calls: &[Call], op: Op, id: Option<&str>) -> usize {
    calls
        .iter()
        .position(|c| c.op == op && !c.failed && id.is_none_or(|i| c.id == i))
        .unwrap_or_else(|| panic!("no {op:?} call"))
}

fn first_with(calls: &[Call], op: Op, id: &str) -> Duration {
    calls
        .iter()
        .find(|c| c.op == op && c.id == id && !c.failed)
        .map(|c| c.at)
        .unwrap_or_else(|| panic!("no {op:?}({id}) call"))
}

const CREATES: [Op; 8] = [
    Op::CreateDbSnapshot,
    Op::CopyDbSnapshot,
    Op::RestoreDbInstance,
    Op::CreateReplicationSubnetGroup,
    Op::CreateReplicationInstance,
    Op::CreateEndpoint,
    Op::CreateReplicationTask,
    Op::StartReplicationTask,
];

#[tokio::test(start_paused = true)]
async fn create_path_snapshots_copies_restores_then_replicates() {
    let w = World::test();
    let o = ok(w.reconcile().await);
    assert_eq!(o.phase, Phase::Replicating);
    assert_eq!(o.full_load_progress_percent(), Some(100));
    assert_eq!(o.task_status(), Some(&ReplicationTaskStatus::Running));
    assert_eq!(o.validation.to_string(), "validated");
    let target = o.target.as_ref().expect("target observed");
    assert!(target.storage_encrypted);
    assert_eq!(target.kms_key_id.as_deref(), Some(w.key_arn.as_str()));
    assert!(o.encrypted_snapshot.as_ref().is_some_and(|s| s.encrypted));

    let calls = w.fake.calls();
    let order = [
        pos(&calls, Op::CreateDbSnapshot, None),
        pos(&calls, Op::CopyDbSnapshot, None),
        pos(&calls, Op::RestoreDbInstance, None),
        pos(&calls, Op::ModifyDbInstance, None),
        pos(&calls, Op::CreateEndpoint, Some("rdsenc-orders-target")),
        pos(&calls, Op::CreateReplicationTask, None),
        pos(&calls, Op::StartReplicationTask, None),
    ];
    assert!(order.windows(2).all(|p| p[0] < p[1]), "{order:?}");
    for op in CREATES {
        let expected = if op == Op::CreateEndpoint { 2 } else { 1 };
        assert_eq!(w.fake.count(op), expected, "{op:?}");
    }
    // Nothing is ever deleted on the create path, and the source is never modified.
    assert!(w.fake.calls().iter().all(|c| !matches!(
        c.op,
        Op::DeleteDbInstance
            | Op::DeleteDbSnapshot
            | Op::DeleteEndpoint
            | Op::DeleteReplicationTask
            | Op::DeleteReplicationInstance
    )));
    assert!(
        calls
            .iter()
            .filter(|c| c.op == Op::ModifyDbInstance)
            .all(|c| c.id != "orders")
    );
}

#[tokio::test(start_paused = true)]
async fn dms_provisioning_overlaps_the_snapshot_chain() {
    let w = World::test();
    ok(w.reconcile().await);
    let calls = w.fake.calls();
    let ri = first(&calls, Op::CreateReplicationInstance);
    let src_ep = first_with(&calls, Op::CreateEndpoint, "rdsenc-orders-source");
    // Both start while the snapshot is still being taken, not after the restore.
    assert!(ri < first(&calls, Op::CopyDbSnapshot), "{ri:?}");
    assert!(src_ep < first(&calls, Op::CopyDbSnapshot), "{src_ep:?}");
    assert!(ri < Duration::from_secs(60));
}

#[tokio::test(start_paused = true)]
async fn the_target_inherits_source_settings_and_gets_what_restore_cannot_set() {
    let w = World::test().spec(|s| s.target.instance_class = Some("db.r6g.xlarge".into()));
    let o = ok(w.reconcile().await);
    let t = o.target.expect("target");
    assert_eq!(t.instance_class, "db.r6g.xlarge");
    assert_eq!(t.allocated_storage, 400);
    assert_eq!(t.storage_type.as_deref(), Some("gp3"));
    assert_eq!(t.iops, Some(12000));
    assert_eq!(t.storage_throughput, Some(500));
    assert_eq!(t.db_parameter_group_name.as_deref(), Some("orders-params"));
    assert_eq!(t.option_group_name.as_deref(), Some("default:postgres-16"));
    assert_eq!(
        t.db_subnet_group.map(|g| g.name).as_deref(),
        Some("db-private")
    );
    assert_eq!(t.vpc_security_group_ids, vec!["sg-db".to_owned()]);
    assert_eq!(t.availability_zone.as_deref(), Some("us-east-1a"));
    assert_eq!(t.backup_retention_period, 7);
    assert_eq!(t.monitoring_interval, 60);
    assert!(t.monitoring_role_arn.is_some());
    assert!(t.performance_insights.enabled);
    assert_eq!(t.tags.get("team").map(String::as_str), Some("payments"));
    assert!(Names::new("orders", None).owns(&t.tags));
    assert_eq!(
        t.tags.get("rdsenc:role").map(String::as_str),
        Some(Role::Target.as_str())
    );
}

#[tokio::test(start_paused = true)]
async fn throttling_is_retried_with_backoff_and_never_read_as_missing() {
    let w = World::test();
    let throttled = AwsError::Throttled {
        code: "Throttling".into(),
        message: "Rate exceeded".into(),
    };
    w.fake.fail(Op::CreateDbSnapshot, 0, 3, throttled.clone());
    // Describes during the copy wait are throttled too: must not look like "gone".
    w.fake.fail(Op::DescribeDbSnapshot, 4, 5, throttled);
    let o = ok(w.reconcile().await);
    assert_eq!(o.phase, Phase::Replicating);
    let attempts: Vec<Duration> = w
        .fake
        .calls()
        .iter()
        .filter(|c| c.op == Op::CreateDbSnapshot)
        .map(|c| c.at)
        .collect();
    assert_eq!(attempts.len(), 4);
    let gaps: Vec<Duration> = attempts.windows(2).map(|p| p[1] - p[0]).collect();
    assert!(
        gaps.windows(2).all(|g| g[1] > g[0]),
        "backoff grows: {gaps:?}"
    );
    assert_eq!(w.fake.count(Op::CopyDbSnapshot), 1);
    assert_eq!(w.fake.count(Op::RestoreDbInstance), 1);
}

#[tokio::test(start_paused = true)]
async fn a_failed_task_surfaces_the_dms_failure_message() {
    let w = World::test();
    w.fake.fail_task_after(
        "rdsenc-orders",
        Duration::from_secs(300),
        "Failed to load table public.items: duplicate key value violates unique constraint",
    );
    let f = failed(w.reconcile().await);
    assert_eq!(f.error.step(), Some(Step::WaitFullLoad));
    let msg = f.error.to_string();
    assert!(msg.contains("duplicate key value"), "{msg}");
    assert!(msg.contains("rdsenc-orders"), "{msg}");
    // State still gets everything that exists.
    assert!(f.observed.task.is_some());
    assert!(f.observed.target.is_some());
    assert_eq!(f.observed.phase, Phase::FullLoad);
}

#[tokio::test(start_paused = true)]
async fn resuming_after_an_interruption_in_any_phase_creates_nothing_twice() {
    let mut phases = Vec::new();
    for minutes in [2u64, 12, 25, 40, 52, 55, 56, 57, 62, 80] {
        let w = World::test();
        let cancel = w.cancel.clone();
        let canceller = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(minutes * 60)).await;
            cancel.cancel();
        });
        let interrupted = failed(w.reconcile().await);
        assert!(
            interrupted.error.is_cancelled(),
            "{minutes}m: {}",
            interrupted.error
        );
        phases.push(interrupted.observed.phase);
        canceller.await.expect("canceller");

        let w2 = World {
            cancel: tokio_util::sync::CancellationToken::new(),
            ..w
        };
        let o = ok(w2.reconcile().await);
        assert_eq!(o.phase, Phase::Replicating);
        for op in CREATES {
            let expected = if op == Op::CreateEndpoint { 2 } else { 1 };
            assert_eq!(w2.fake.count(op), expected, "{op:?} after {minutes}m");
        }
    }
    for p in [
        Phase::Snapshotting,
        Phase::CopyingEncrypted,
        Phase::Restoring,
        Phase::ProvisioningReplication,
        Phase::FullLoad,
    ] {
        assert!(phases.contains(&p), "{p} not covered: {phases:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_foreign_instance_with_the_target_name_is_refused() {
    let w = World::test();
    w.fake.add_instance(DbInstance {
        identifier: "orders-encrypted".into(),
        engine: DbEngine::Postgres,
        tags: Tags::from([("team".to_owned(), "other".to_owned())]),
        ..Default::default()
    });
    let f = failed(w.reconcile().await);
    assert!(
        matches!(f.error, EngineError::ForeignObject { .. }),
        "{}",
        f.error
    );
    assert_eq!(f.error.attribute(), Some("target_db_instance_identifier"));
    assert_eq!(w.fake.count(Op::RestoreDbInstance), 0);
    assert_eq!(w.fake.count(Op::CreateDbSnapshot), 0);
    assert!(
        f.observed.target.is_none(),
        "a foreign object is never in state"
    );
}

#[tokio::test(start_paused = true)]
async fn a_timeout_names_the_step_and_the_time_waited() {
    let w = World::test();
    let f = failed(w.reconcile_within(Duration::from_secs(15 * 60)).await);
    match &f.error {
        EngineError::Timeout { step, waited, .. } => {
            assert_eq!(*step, Step::WaitEncryptedCopy);
            assert!(*waited > Duration::ZERO);
        }
        other => panic!("expected a timeout, got {other}"),
    }
    let msg = f.error.to_string();
    assert!(
        msg.starts_with(
            "waiting for encrypted RDS DB Snapshot copy (rdsenc-orders-encrypted): timed out after"
        ),
        "{msg}"
    );
}

#[tokio::test(start_paused = true)]
async fn cancellation_stops_promptly() {
    let w = World::test();
    let cancel = w.cancel.clone();
    let start = tokio::time::Instant::now();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(7 * 60)).await;
        cancel.cancel();
    });
    let f = failed(w.reconcile().await);
    assert!(f.error.is_cancelled(), "{}", f.error);
    let took = start.elapsed();
    assert!(
        took < Duration::from_secs(7 * 60 + 5),
        "returned {took:?} after start"
    );
    // What the interrupted run made is in the result.
    assert!(f.observed.source_snapshot.is_some());
}

#[tokio::test(start_paused = true)]
async fn an_existing_target_of_ours_skips_the_snapshot_chain() {
    let w = World::test();
    ok(w.reconcile().await);
    // The snapshots are gone (e.g. cleaned by hand); the target is still there.
    for id in ["rdsenc-orders-snapshot", "rdsenc-orders-encrypted"] {
        w.fake
            .delete_db_snapshot(id)
            .await
            .expect("delete snapshot");
    }
    w.fake.clear_calls();
    let o = ok(w.reconcile().await);
    assert_eq!(o.phase, Phase::Replicating);
    assert!(w.fake.mutations().is_empty(), "{:#?}", w.fake.mutations());
}

#[tokio::test(start_paused = true)]
async fn an_unusable_kms_key_is_refused_naming_kms_key_id() {
    let w = World::test();
    w.fake.set_kms_key_state(&w.key_arn, KmsKeyState::Disabled);
    let f = failed(w.reconcile().await);
    assert_eq!(f.error.attribute(), Some("kms_key_id"));
    assert!(f.error.to_string().contains("Disabled"));
    let w = World::test().spec(|s| s.kms_key_id = "alias/missing".into());
    let f = failed(w.reconcile().await);
    assert!(matches!(f.error, EngineError::Missing { .. }));
    assert_eq!(f.error.attribute(), Some("kms_key_id"));
    assert!(w.fake.mutations().is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_missing_source_is_reported_on_its_attribute() {
    let w = World::test().spec(|s| s.source_db_instance_identifier = "nope".into());
    let f = failed(w.reconcile().await);
    assert_eq!(f.error.attribute(), Some("source_db_instance_identifier"));
    assert!(w.fake.mutations().is_empty());
}

#[tokio::test(start_paused = true)]
async fn mysql_targets_load_with_foreign_key_checks_off() {
    let w = World::test().mysql();
    ok(w.reconcile().await);
    let ep = w
        .fake
        .describe_endpoint(&DmsRef::Id("rdsenc-orders-target".into()))
        .await
        .expect("target endpoint");
    assert_eq!(ep.engine, EndpointEngine::Mysql);
    assert_eq!(
        ep.after_connect_script.as_deref(),
        Some("SET FOREIGN_KEY_CHECKS=0")
    );
    let src = w
        .fake
        .describe_endpoint(&DmsRef::Id("rdsenc-orders-source".into()))
        .await
        .expect("source endpoint");
    assert_eq!(src.after_connect_script, None);
    assert_eq!(src.database_name, None);
    let task = w
        .fake
        .describe_replication_task(&DmsRef::Id("rdsenc-orders".into()))
        .await
        .expect("task");
    assert!(task.table_mappings.contains("performance_schema"));
    assert!(
        task.task_settings
            .as_deref()
            .is_some_and(|s| s.contains("TRUNCATE_BEFORE_LOAD"))
    );
}

#[tokio::test(start_paused = true)]
async fn postgres_targets_replicate_with_session_replication_role_replica() {
    let w = World::test().postgres();
    ok(w.reconcile().await);
    let ep = w
        .fake
        .describe_endpoint(&DmsRef::Id("rdsenc-orders-target".into()))
        .await
        .expect("target endpoint");
    assert_eq!(
        ep.after_connect_script.as_deref(),
        Some("SET session_replication_role=replica")
    );
    assert_eq!(ep.database_name.as_deref(), Some("app"));
    assert_eq!(
        ep.server_name.as_deref(),
        Some("orders-encrypted.fake.us-east-1.rds.amazonaws.com")
    );
}

#[tokio::test(start_paused = true)]
async fn changes_can_be_read_from_a_read_replica_of_the_source() {
    let w = World::test().spec(|s| s.dms.source_from_read_replica = true);
    let o = ok(w.reconcile().await);
    let replica = o.read_replica.expect("replica observed");
    assert_eq!(replica.read_replica_source.as_deref(), Some("orders"));
    let ep = o.source_endpoint.expect("source endpoint");
    assert_eq!(
        ep.server_name.as_deref(),
        Some("rdsenc-orders-replica.fake.us-east-1.rds.amazonaws.com")
    );
}

#[tokio::test(start_paused = true)]
async fn a_given_replication_instance_is_used_instead_of_a_managed_one() {
    let w = World::test();
    let ri = w
        .fake
        .create_replication_instance(&CreateReplicationInstanceInput {
            identifier: "shared-dms".into(),
            instance_class: "dms.r5.large".into(),
            allocated_storage: None,
            subnet_group_identifier: None,
            vpc_security_group_ids: Vec::new(),
            multi_az: false,
            publicly_accessible: false,
            engine_version: None,
            kms_key_id: None,
            tags: Tags::new(),
        })
        .await
        .expect("seed instance");
    let w = w.spec(|s| s.dms.replication_instance_arn = Some(ri.arn.clone()));
    w.fake.clear_calls();
    let o = ok(w.reconcile().await);
    assert_eq!(o.replication_instance.map(|r| r.arn), Some(ri.arn));
    assert!(!o.replication_instance_managed);
    assert_eq!(w.fake.count(Op::CreateReplicationInstance), 0);
    assert_eq!(w.fake.count(Op::CreateReplicationSubnetGroup), 0);
}

#[tokio::test(start_paused = true)]
async fn progress_is_reported_as_phases_pass() {
    let w = World::test();
    ok(w.reconcile().await);
    let p = w.progress();
    let phases: Vec<Phase> = p.iter().map(|p| p.phase).collect();
    for ph in [
        Phase::Snapshotting,
        Phase::CopyingEncrypted,
        Phase::Restoring,
        Phase::ProvisioningReplication,
        Phase::FullLoad,
        Phase::Replicating,
    ] {
        assert!(phases.contains(&ph), "{ph} missing");
    }
    let loads: Vec<i32> = p
        .iter()
        .filter(|p| p.phase == Phase::FullLoad)
        .filter_map(|p| p.percent)
        .collect();
    assert!(loads.windows(2).all(|w| w[0] <= w[1]), "{loads:?}");
    assert!(loads.iter().any(|p| *p > 0 && *p < 100), "{loads:?}");
    assert!(p.iter().any(|p| p.to_string().starts_with(
        "phase=copying_encrypted id=rdsenc-orders-encrypted status=creating progress="
    )));
}

#[tokio::test(start_paused = true)]
async fn observe_reports_lag_and_validation() {
    let w = World::test();
    ok(w.reconcile().await);
    w.fake.set_cdc_latency(
        "rdsenc-orders",
        CdcLatency {
            source_seconds: Some(1.0),
            target_seconds: Some(4.5),
        },
    );
    w.fake.set_table_stats(
        "rdsenc-orders",
        vec![TableStatistics {
            schema_name: "public".into(),
            table_name: "items".into(),
            table_state: TableState::Completed,
            full_load_rows: 10,
            inserts: 0,
            updates: 0,
            deletes: 0,
            validation_state: ValidationState::MismatchedRecords,
            validation_pending_records: 0,
            validation_failed_records: 3,
            validation_suspended_records: 0,
        }],
    );
    w.fake.clear_calls();
    let o = w.observe().await;
    assert_eq!(o.replication_lag_seconds(), Some(4.5));
    assert_eq!(o.validation.to_string(), "mismatched: 1 table");
    assert_eq!(o.active_db_instance_identifier(), Some("orders"));
    assert!(w.fake.mutations().is_empty());
    assert_eq!(w.fake.count(Op::CdcLatency), 1);
}

#[test]
fn spec_fixture_is_valid() {
    assert_eq!(MigrationSpec::test().validate(), Ok(()));
}
