//! Scenario tests of the create path over the fake AWS on tokio's paused clock.

use std::time::Duration;

use super::api::*;
use super::core::Waiter;
use super::error::{EngineError, Step};
use super::fake::{Call, Op};
use super::fixtures::{SpecExt, World, assert_says, failed, foreign_object, mismatched_table, ok};
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
    // Its own copy of the source's group (the read_only write fence changes one at a time).
    assert_eq!(
        t.db_parameter_group_name.as_deref(),
        Some("rdsenc-orders-encrypted")
    );
    // The default option group is not named: RDS picks it anyway.
    assert_eq!(t.option_group_name, None);
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
    assert!(f.observed_ok);
    assert!(f.observed.task.is_some());
    assert!(f.observed.target.is_some());
    assert_eq!(f.observed.phase, Phase::FullLoad);
}

#[tokio::test(start_paused = true)]
async fn resuming_after_an_interruption_in_any_phase_creates_nothing_twice() {
    let mut phases = Vec::new();
    for minutes in [2u64, 12, 25, 40, 52, 55, 56, 57, 62, 80] {
        let w = World::test();
        let canceller = w.cancel_after(Duration::from_secs(minutes * 60));
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
    assert_eq!(foreign_object(&f), "orders-encrypted");
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
    let start = tokio::time::Instant::now();
    w.cancel_after(Duration::from_secs(7 * 60));
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
        Some("SET session_replication_role=replica; SET default_transaction_read_only=off")
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
    let (w, ri_arn) = World::test().given_replication_instance().await;
    w.fake.clear_calls();
    let o = ok(w.reconcile().await);
    assert_eq!(o.replication_instance.map(|r| r.arn), Some(ri_arn));
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
            ..Default::default()
        },
    );
    w.fake
        .set_table_stats("rdsenc-orders", vec![mismatched_table("items")]);
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

// ----- teardown -----

fn deletes(w: &World) -> Vec<(Op, String)> {
    w.fake
        .calls()
        .into_iter()
        .filter(|c| {
            matches!(
                c.op,
                Op::StopReplicationTask
                    | Op::DeleteReplicationTask
                    | Op::DeleteEndpoint
                    | Op::DeleteReplicationInstance
                    | Op::DeleteReplicationSubnetGroup
                    | Op::DeleteDbInstance
                    | Op::DeleteDbSnapshot
            ) && !c.failed
        })
        .map(|c| (c.op, c.id))
        .collect()
}

#[tokio::test(start_paused = true)]
async fn teardown_removes_dms_before_snapshots_and_keeps_source_and_target() {
    let w = World::test();
    ok(w.reconcile().await);
    w.fake.clear_calls();
    let out = w.teardown().await;
    assert!(out.is_ok(), "{:?}", out.errors);
    let ops: Vec<Op> = deletes(&w).into_iter().map(|(op, _)| op).collect();
    assert_eq!(
        ops,
        vec![
            Op::StopReplicationTask,
            Op::DeleteReplicationTask,
            Op::DeleteEndpoint,
            Op::DeleteEndpoint,
            Op::DeleteReplicationInstance,
            Op::DeleteReplicationSubnetGroup,
            Op::DeleteDbSnapshot,
            Op::DeleteDbSnapshot,
        ]
    );
    assert!(w.fake.has_instance("orders"));
    assert!(w.fake.has_instance("orders-encrypted"));
    assert!(
        w.fake.dms_objects().is_empty(),
        "{:?}",
        w.fake.dms_objects()
    );
    assert!(
        out.kept
            .iter()
            .any(|k| k.contains("delete_target_on_destroy is false"))
    );
    assert!(
        out.kept
            .iter()
            .any(|k| k.contains("source is never deleted"))
    );
}

#[tokio::test(start_paused = true)]
async fn teardown_tolerates_phases_that_never_ran() {
    let w = World::test();
    let out = w.teardown().await;
    assert!(out.is_ok(), "{:?}", out.errors);
    assert!(out.deleted.is_empty());
    assert!(w.fake.has_instance("orders"));
    // Interrupted mid-copy: only what exists is removed.
    let w = World::test();
    w.cancel_after(Duration::from_secs(15 * 60));
    failed(w.reconcile().await);
    let w = World {
        cancel: tokio_util::sync::CancellationToken::new(),
        ..w
    };
    let out = w.teardown().await;
    assert!(out.is_ok(), "{:?}", out.errors);
    assert!(!w.fake.has_snapshot("rdsenc-orders-snapshot"));
    assert!(!w.fake.has_snapshot("rdsenc-orders-encrypted"));
    assert!(w.fake.dms_objects().is_empty());
    assert!(w.fake.has_instance("orders"));
}

#[tokio::test(start_paused = true)]
async fn teardown_after_an_interruption_in_any_phase_leaves_only_source_and_target() {
    for minutes in [2u64, 15, 40, 52, 56, 62] {
        let w = World::test().spec(|s| s.dms.source_from_read_replica = true);
        w.cancel_after(Duration::from_secs(minutes * 60));
        failed(w.reconcile().await);
        let w = World {
            cancel: tokio_util::sync::CancellationToken::new(),
            ..w
        };
        let out = w.teardown().await;
        assert!(out.is_ok(), "{minutes}m: {:?}", out.errors);
        assert!(
            w.fake.dms_objects().is_empty(),
            "{minutes}m: {:?}",
            w.fake.dms_objects()
        );
        assert!(!w.fake.has_snapshot("rdsenc-orders-snapshot"), "{minutes}m");
        assert!(
            !w.fake.has_snapshot("rdsenc-orders-encrypted"),
            "{minutes}m"
        );
        assert!(w.fake.has_instance("orders"), "{minutes}m");
        tokio::time::sleep(Duration::from_secs(3600)).await;
        assert!(!w.fake.has_instance("rdsenc-orders-replica"), "{minutes}m");
    }
}

#[tokio::test(start_paused = true)]
async fn a_failing_connection_test_stops_before_the_task_with_dms_message() {
    let w = World::test();
    w.fake.fail_connection(
        "rdsenc-orders-source",
        "Can't connect to server: password authentication failed for user \"dms\"",
    );
    let f = failed(w.reconcile().await);
    assert_eq!(f.error.step(), Some(Step::TestConnection));
    assert_says(&f, "password authentication failed");
    assert_eq!(w.fake.count(Op::CreateReplicationTask), 0);
    assert!(f.observed.source_endpoint.is_some());
}

#[tokio::test(start_paused = true)]
async fn teardown_continues_past_failures_and_returns_every_error() {
    let w = World::test();
    ok(w.reconcile().await);
    let denied = AwsError::Service {
        code: "AccessDeniedFault".into(),
        message: "not allowed".into(),
        status: Some(403),
    };
    w.fake.fail(Op::DeleteEndpoint, 0, 1, denied.clone());
    w.fake.fail(Op::DeleteDbSnapshot, 0, 1, denied);
    let out = w.teardown().await;
    assert_eq!(out.errors.len(), 2, "{:?}", out.errors);
    assert!(
        out.errors
            .iter()
            .all(|e| e.to_string().contains("AccessDeniedFault"))
    );
    // The rest went ahead.
    assert_eq!(w.fake.count(Op::DeleteReplicationInstance), 1);
    assert_eq!(w.fake.count(Op::DeleteDbSnapshot), 2);
    assert!(w.fake.has_snapshot("rdsenc-orders-snapshot"));
    assert!(!w.fake.has_snapshot("rdsenc-orders-encrypted"));
    assert_eq!(
        w.fake.dms_objects(),
        vec!["rdsenc-orders-source".to_owned()]
    );
}

#[tokio::test(start_paused = true)]
async fn teardown_deletes_the_target_only_when_asked_with_a_final_snapshot() {
    let w = World::test().spec(|s| s.delete_target_on_destroy = true);
    ok(w.reconcile().await);
    let out = w.teardown().await;
    assert!(out.is_ok(), "{:?}", out.errors);
    let d = deletes(&w);
    assert!(d.contains(&(Op::DeleteDbInstance, "orders-encrypted".into())));
    assert!(
        !d.iter()
            .any(|(op, id)| *op == Op::DeleteDbInstance && id == "orders")
    );
    assert!(w.fake.has_snapshot("rdsenc-orders-target-final"));
    assert!(w.fake.has_instance("orders"));
}

#[tokio::test(start_paused = true)]
async fn teardown_never_turns_off_deletion_protection() {
    let w = World::test().spec(|s| {
        s.delete_target_on_destroy = true;
        s.target.deletion_protection = Some(true);
    });
    ok(w.reconcile().await);
    w.fake.clear_calls();
    let out = w.teardown().await;
    assert_eq!(out.errors.len(), 1, "{:?}", out.errors);
    assert!(matches!(
        out.errors[0],
        EngineError::DeletionProtected { .. }
    ));
    assert_eq!(out.errors[0].attribute(), Some("delete_target_on_destroy"));
    assert!(w.fake.has_instance("orders-encrypted"));
    assert_eq!(w.fake.count(Op::ModifyDbInstance), 0);
    assert_eq!(w.fake.count(Op::DeleteDbInstance), 0);
}

#[tokio::test(start_paused = true)]
async fn teardown_keeps_a_target_that_may_serve_traffic() {
    let w = World::test().spec(|s| s.delete_target_on_destroy = true);
    ok(w.reconcile().await);
    let known = super::observe::KnownIds {
        recorded_phase: Some(Phase::CutOver),
        ..Default::default()
    };
    let out = w
        .engine
        .teardown(&w.spec, &known, Duration::from_secs(3600), &w.cancel)
        .await;
    assert!(out.is_ok(), "{:?}", out.errors);
    assert!(w.fake.has_instance("orders-encrypted"));
    assert!(out.kept.iter().any(|k| k.contains("serving traffic")));
}

#[tokio::test(start_paused = true)]
async fn teardown_leaves_a_given_replication_instance_alone() {
    let (w, _) = World::test().given_replication_instance().await;
    ok(w.reconcile().await);
    let out = w.teardown().await;
    assert!(out.is_ok(), "{:?}", out.errors);
    assert_eq!(w.fake.count(Op::DeleteReplicationInstance), 0);
    assert_eq!(w.fake.dms_objects(), vec!["shared-dms".to_owned()]);
}

// ----- settings updates -----

#[tokio::test(start_paused = true)]
async fn a_password_rotation_stops_modifies_and_resumes_the_task() {
    let w = World::test();
    ok(w.reconcile().await);
    let w = w.spec(|s| {
        s.dms.source_credentials = EndpointCredentials::Password {
            username: "dms".into(),
            password: SecretString::new("rotated-pw"),
        };
    });
    w.fake.clear_calls();
    let o = w
        .engine
        .update_dms_settings(
            &w.spec,
            &super::observe::KnownIds::default(),
            &super::update::DmsChange {
                source_endpoint: true,
                ..Default::default()
            },
            Duration::from_secs(3600),
            &w.cancel,
        )
        .await;
    let o = ok(o);
    assert_eq!(o.task_status(), Some(&ReplicationTaskStatus::Running));
    assert_eq!(
        w.fake.endpoint_password("rdsenc-orders-source").as_deref(),
        Some("rotated-pw")
    );
    // Target credentials follow the source's by default.
    assert_eq!(
        w.fake.endpoint_password("rdsenc-orders-target").as_deref(),
        Some("rotated-pw")
    );
    let ops: Vec<Op> = w.fake.mutations().into_iter().map(|c| c.op).collect();
    assert_eq!(
        ops,
        vec![
            Op::StopReplicationTask,
            Op::ModifyEndpoint,
            Op::ModifyEndpoint,
            Op::StartReplicationTask
        ]
    );
    assert!(!format!("{o:?}").contains("rotated-pw"));
}

#[tokio::test(start_paused = true)]
async fn a_table_mapping_change_modifies_the_stopped_task_and_resumes_it() {
    let w = World::test();
    ok(w.reconcile().await);
    let mappings = r#"{"rules":[{"rule-type":"selection","rule-id":"1","rule-name":"only-public","object-locator":{"schema-name":"public","table-name":"%"},"rule-action":"include"}]}"#;
    let w = w.spec(|s| s.dms.table_mappings = Some(mappings.into()));
    ok(w.engine
        .update_dms_settings(
            &w.spec,
            &super::observe::KnownIds::default(),
            &super::update::DmsChange {
                task: true,
                ..Default::default()
            },
            Duration::from_secs(3600),
            &w.cancel,
        )
        .await);
    let t = w
        .fake
        .describe_replication_task(&DmsRef::Id("rdsenc-orders".into()))
        .await
        .expect("task");
    assert_eq!(t.table_mappings, mappings);
    assert_eq!(t.status, ReplicationTaskStatus::Running);
    let starts: Vec<String> = w
        .fake
        .calls()
        .into_iter()
        .filter(|c| c.op == Op::StartReplicationTask)
        .map(|c| c.id)
        .collect();
    assert_eq!(starts.len(), 2);
    assert!(starts[0].starts_with("start-replication "));
    assert!(starts[1].starts_with("resume-processing "), "{starts:?}");
}

// ----- cutover checks -----

#[tokio::test(start_paused = true)]
async fn cutover_checks_list_every_reason_to_wait() {
    use super::checks::{CheckFailure, cutover_checks};
    let w = World::test();
    let early = w.observe().await;
    let fails = cutover_checks(&early, Duration::from_secs(5), true)
        .err()
        .unwrap_or_default();
    assert!(fails.contains(&CheckFailure::NotReplicating {
        phase: Phase::Snapshotting
    }));
    assert!(fails.contains(&CheckFailure::LagUnknown));
    assert!(fails.contains(&CheckFailure::TargetMissing));

    ok(w.reconcile().await);
    w.fake.set_cdc_latency(
        "rdsenc-orders",
        CdcLatency {
            source_seconds: Some(1.0),
            target_seconds: Some(30.0),
            ..Default::default()
        },
    );
    let o = w.observe().await;
    let fails = cutover_checks(&o, Duration::from_secs(5), true)
        .err()
        .unwrap_or_default();
    assert_eq!(fails.len(), 1, "{fails:?}");
    assert!(fails[0].to_string().contains("30.0s"));
    w.fake.set_cdc_latency(
        "rdsenc-orders",
        CdcLatency {
            source_seconds: Some(0.0),
            target_seconds: Some(1.0),
            ..Default::default()
        },
    );
    let o = w.observe().await;
    assert_eq!(cutover_checks(&o, Duration::from_secs(5), true), Ok(()));
}

// ----- the waiter itself -----

/// The snapshot waiter the waiter tests drive (creating -> available), with their timeout.
const fn snapshot_waiter(timeout_secs: u64) -> Waiter<SnapshotStatus> {
    Waiter::new(
        Step::WaitSnapshot,
        Phase::Snapshotting,
        &[SnapshotStatus::Creating],
        &[SnapshotStatus::Available],
        Duration::from_secs(timeout_secs),
    )
}

#[tokio::test(start_paused = true)]
async fn a_waiter_is_pending_just_before_its_deadline_and_fails_after() {
    const W: Waiter<SnapshotStatus> = snapshot_waiter(600);
    let w = World::test();
    let spec = w.spec.clone();
    let engine = w.engine.clone();
    let cancel = w.cancel.clone();
    let handle = tokio::spawn(async move {
        let run = engine.run(&spec, Duration::from_secs(3600), &cancel);
        run.wait(
            &W,
            "never-ready",
            false,
            || async { Ok(Some(((), SnapshotStatus::Creating))) },
            |_| None,
            |_| None,
        )
        .await
    });
    tokio::time::sleep(Duration::from_secs(599)).await;
    assert!(!handle.is_finished(), "pending just before the deadline");
    tokio::time::sleep(Duration::from_secs(2)).await;
    tokio::task::yield_now().await;
    assert!(handle.is_finished(), "finished right after the deadline");
    match handle.await.expect("join") {
        Err(EngineError::Timeout {
            step,
            waited,
            last_status,
            ..
        }) => {
            assert_eq!(step, Step::WaitSnapshot);
            assert_eq!(waited, Duration::from_secs(600));
            assert_eq!(last_status.as_deref(), Some("creating"));
        }
        other => panic!("expected timeout, got {other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn a_waiter_needs_consecutive_target_reads_where_consistency_bites() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    const W: Waiter<SnapshotStatus> = snapshot_waiter(3600).reads(2);
    let w = World::test();
    let run = w.engine.run(&w.spec, Duration::from_secs(3600), &w.cancel);
    let n = AtomicUsize::new(0);
    // available, creating (flap), available, available
    let seq = [
        SnapshotStatus::Available,
        SnapshotStatus::Creating,
        SnapshotStatus::Available,
        SnapshotStatus::Available,
    ];
    let r = run
        .wait(
            &W,
            "flapping",
            false,
            || {
                let i = n.fetch_add(1, Ordering::SeqCst);
                let s = seq[i.min(3)].clone();
                async move { Ok(Some((i, s))) }
            },
            |_| None,
            |_| None,
        )
        .await;
    assert_eq!(r, Ok(Some(3)));
}

#[tokio::test(start_paused = true)]
async fn a_cdc_only_migration_starts_at_the_given_position_without_truncating() {
    let w = World::test().mysql().spec(|s| {
        s.dms.migration_type = MigrationType::Cdc;
        s.dms.cdc_start_position = Some("mysql-bin-changelog.000024:373".into());
    });
    let o = ok(w.reconcile().await);
    assert_eq!(o.phase, Phase::Replicating);
    let t = o.task.expect("task");
    assert_eq!(t.migration_type, MigrationType::Cdc);
    assert_eq!(
        t.cdc_start_position.as_deref(),
        Some("mysql-bin-changelog.000024:373")
    );
    assert!(
        t.task_settings
            .as_deref()
            .is_some_and(|s| s.contains("\"TargetTablePrepMode\":\"DO_NOTHING\"")),
        "{:?}",
        t.task_settings
    );
}

#[tokio::test(start_paused = true)]
async fn migrations_are_listed_by_their_target_tags() {
    let w = World::test();
    let none = w.engine.list_migrations(&w.cancel).await.expect("list");
    assert!(none.is_empty());
    ok(w.reconcile().await);
    let found = w.engine.list_migrations(&w.cancel).await.expect("list");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].migration, "orders");
    assert_eq!(found[0].target.identifier, "orders-encrypted");
}

#[tokio::test(start_paused = true)]
async fn a_mysql_source_without_binary_logging_is_refused_before_anything_is_made() {
    let w = World::test();
    let mut src = super::fixtures::source_instance(DbEngine::Mysql);
    src.backup_retention_period = 0;
    w.fake.add_instance(src);
    let f = failed(w.reconcile().await);
    assert_eq!(f.error.attribute(), Some("source_db_instance_identifier"));
    assert_says(&f, "binary logging");
    assert!(w.fake.mutations().is_empty());
}

#[tokio::test(start_paused = true)]
async fn snapshots_left_by_an_earlier_apply_are_adopted_not_retaken() {
    let w = World::test();
    let n = Names::new("orders", None);
    w.fake.add_snapshot(DbSnapshot {
        identifier: n.source_snapshot.clone(),
        db_instance_identifier: "orders".into(),
        engine: DbEngine::Postgres,
        allocated_storage: 400,
        tags: n.tags(Role::SourceSnapshot),
        ..Default::default()
    });
    w.fake.add_snapshot(DbSnapshot {
        identifier: n.encrypted_snapshot.clone(),
        db_instance_identifier: "orders".into(),
        engine: DbEngine::Postgres,
        allocated_storage: 400,
        encrypted: true,
        kms_key_id: Some(w.key_arn.clone()),
        tags: n.tags(Role::EncryptedSnapshot),
        ..Default::default()
    });
    assert_eq!(w.observe().await.phase, Phase::Restoring);
    let o = ok(w.reconcile().await);
    assert_eq!(o.phase, Phase::Replicating);
    assert_eq!(w.fake.count(Op::CreateDbSnapshot), 0);
    assert_eq!(w.fake.count(Op::CopyDbSnapshot), 0);
    assert_eq!(w.fake.count(Op::RestoreDbInstance), 1);
}

#[tokio::test(start_paused = true)]
async fn a_foreign_snapshot_with_our_name_is_refused() {
    let w = World::test();
    w.fake.add_snapshot(DbSnapshot {
        identifier: "rdsenc-orders-snapshot".into(),
        db_instance_identifier: "orders".into(),
        engine: DbEngine::Postgres,
        ..Default::default()
    });
    let f = failed(w.reconcile().await);
    assert_eq!(foreign_object(&f), "rdsenc-orders-snapshot");
    assert_eq!(w.fake.count(Op::CopyDbSnapshot), 0);
    assert!(f.observed.source_snapshot.is_none());
}

#[tokio::test(start_paused = true)]
async fn a_foreign_dms_endpoint_with_our_name_is_refused_and_left_alone() {
    let w = World::test();
    w.fake
        .create_endpoint(&CreateEndpointInput {
            identifier: "rdsenc-orders-source".into(),
            endpoint_type: EndpointType::Source,
            engine: EndpointEngine::Postgres,
            server_name: "elsewhere".into(),
            port: 5432,
            database_name: None,
            credentials: EndpointCredentials::SecretsManager {
                secret_arn: "arn:aws:secretsmanager:us-east-1:123456789012:secret:x".into(),
                access_role_arn: "arn:aws:iam::123456789012:role/x".into(),
            },
            ssl_mode: SslMode::None,
            after_connect_script: None,
            extra_connection_attributes: None,
            tags: Tags::new(),
        })
        .await
        .expect("seed endpoint");
    let f = failed(w.reconcile().await);
    assert_eq!(foreign_object(&f), "rdsenc-orders-source");
    assert!(f.observed.source_endpoint.is_none());
    let out = w.teardown().await;
    assert!(out.is_ok(), "{:?}", out.errors);
    assert!(
        w.fake
            .dms_objects()
            .contains(&"rdsenc-orders-source".to_owned())
    );
}

#[tokio::test(start_paused = true)]
async fn engine_futures_are_send_so_grpc_handlers_can_spawn_them() {
    fn send<T: Send>(t: T) -> T {
        t
    }
    let w = World::test();
    let known = super::observe::KnownIds::default();
    let day = Duration::from_secs(86_400);
    let engine = w.engine.clone();
    let spec = w.spec.clone();
    let cancel = w.cancel.clone();
    // Spawning requires 'static + Send futures: exactly what a tonic handler does.
    let handle = tokio::spawn(async move {
        send(engine.reconcile_to_replicating(&spec, &known, day, &cancel)).await
    });
    let o = ok(handle.await.expect("join"));
    assert_eq!(o.phase, Phase::Replicating);
    let known = o.known_ids();
    drop(send(w.engine.observe(&w.spec, &known, &w.cancel)));
    drop(send(w.engine.teardown(&w.spec, &known, day, &w.cancel)));
    drop(send(w.engine.update_dms_settings(
        &w.spec,
        &known,
        &super::update::DmsChange::default(),
        day,
        &w.cancel,
    )));
}

#[tokio::test(start_paused = true)]
async fn a_task_that_failed_in_an_earlier_apply_is_resumed_not_reloaded() {
    let w = World::test();
    w.fake.fail_task_after(
        "rdsenc-orders",
        Duration::from_secs(600),
        "connection reset",
    );
    failed(w.reconcile().await);
    w.fake.clear_calls();
    let o = ok(w.reconcile().await);
    assert_eq!(o.phase, Phase::Replicating);
    let starts: Vec<Call> = w
        .fake
        .calls()
        .into_iter()
        .filter(|c| c.op == Op::StartReplicationTask)
        .collect();
    assert_eq!(starts.len(), 1);
    assert!(
        starts[0].id.starts_with("resume-processing "),
        "{}",
        starts[0].id
    );
    assert_eq!(w.fake.count(Op::CreateReplicationTask), 0);
    assert_eq!(o.full_load_progress_percent(), Some(100));
}

#[tokio::test(start_paused = true)]
async fn a_waiter_tolerates_a_freshly_created_object_not_being_visible_yet() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    const W: Waiter<SnapshotStatus> = snapshot_waiter(3600);
    let w = World::test();
    let run = w.engine.run(&w.spec, Duration::from_secs(3600), &w.cancel);
    for fresh in [true, false] {
        let n = AtomicUsize::new(0);
        let r = run
            .wait(
                &W,
                "new-snapshot",
                fresh,
                || {
                    let i = n.fetch_add(1, Ordering::SeqCst);
                    async move {
                        Ok(if i < 2 {
                            None
                        } else {
                            Some((i, SnapshotStatus::Available))
                        })
                    }
                },
                |_| None,
                |_| None,
            )
            .await;
        if fresh {
            assert_eq!(r, Ok(Some(2)));
        } else {
            assert!(
                matches!(&r, Err(EngineError::Failed { status, .. }) if status == "deleted"),
                "{r:?}"
            );
        }
    }
}

#[tokio::test(start_paused = true)]
async fn a_mysql_read_replica_gets_backups_on_so_it_writes_the_binlog_dms_reads() {
    let w = World::test()
        .mysql()
        .spec(|s| s.dms.source_from_read_replica = true);
    let o = ok(w.reconcile().await);
    let replica = o.read_replica.expect("replica");
    assert_eq!(replica.backup_retention_period, 1);
    assert!(
        w.fake
            .calls()
            .iter()
            .any(|c| c.op == Op::ModifyDbInstance && c.id == "rdsenc-orders-replica")
    );
    // The source itself is never modified.
    assert!(
        !w.fake
            .calls()
            .iter()
            .any(|c| c.op == Op::ModifyDbInstance && c.id == "orders")
    );
}

#[tokio::test(start_paused = true)]
async fn when_observing_also_fails_the_failure_says_so() {
    let w = World::test();
    let denied = AwsError::Service {
        code: "AccessDenied".into(),
        message: "no".into(),
        status: Some(403),
    };
    // The KMS check fails, then every describe of the source fails too.
    w.fake.fail(Op::DescribeKmsKey, 0, 1, denied.clone());
    w.fake.fail(Op::DescribeDbInstance, 0, 100, denied);
    let f = failed(w.reconcile().await);
    assert_eq!(f.error.step(), Some(Step::ResolveKmsKey));
    assert!(!f.observed_ok);
}
