//! Scenario tests of `strategy = "blue_green"` over the fake AWS on tokio's paused clock:
//! create, switchover, failback refusal, finalize, teardown and the plan-time checks.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::api::*;
use super::blue_green::blue_green_failback_refusal;
use super::cutover::{CutoverSpec, CutoverStrategy, RetireSource, WriteFence};
use super::error::EngineError;
use super::fake::Op;
use super::fixtures::Switch::{Apply, Cutover, Failback};
use super::fixtures::{World, assert_says, failed, foreign_object, ok};
use super::names::Names;
use super::observe::KnownIds;
use super::spec::Phase;

const HOURS: Duration = Duration::from_secs(6 * 3600);

fn cut(retire: RetireSource) -> CutoverSpec {
    CutoverSpec {
        strategy: CutoverStrategy::None,
        write_fence: WriteFence::None,
        max_lag: Duration::from_secs(5),
        require_validation: false,
        retire_source: retire,
        fence_hold: Duration::from_secs(60),
        switchover_timeout_seconds: Some(600),
    }
}

/// A blue/green migration that reached `replicating`, and the replica key's ARN.
async fn replicating() -> (World, String) {
    let (w, replica_key) = World::test().blue_green();
    let o = ok(w.reconcile().await);
    assert_eq!(o.phase, Phase::Replicating);
    (w, replica_key)
}

fn instance(w: &World, id: &str) -> DbInstance {
    w.fake
        .instance(id)
        .unwrap_or_else(|| panic!("no instance {id}"))
}

#[tokio::test(start_paused = true)]
async fn create_reaches_replicating_with_encrypted_green_twins_of_the_source_and_its_replica() {
    let (w, replica_key) = World::test().blue_green();
    let o = ok(w.reconcile().await);

    assert_eq!(o.phase, Phase::Replicating);
    let d = o.blue_green.clone().unwrap_or_default();
    assert_eq!(d.name, "rdsenc-orders");
    assert_eq!(d.status, BlueGreenStatus::Available);
    assert_eq!(
        d.tags.get("rdsenc:migration").map(String::as_str),
        Some("orders")
    );
    let green = o.target.clone().unwrap_or_default();
    assert!(
        green.identifier.starts_with("orders-green-"),
        "{}",
        green.identifier
    );
    assert!(green.storage_encrypted);
    assert_eq!(green.kms_key_id.as_deref(), Some(w.key_arn.as_str()));
    assert_eq!(o.green_replicas.len(), 1);
    assert!(
        o.green_replicas[0]
            .identifier
            .starts_with("orders-replica-green-")
    );
    assert_eq!(
        o.green_replicas[0].kms_key_id.as_deref(),
        Some(replica_key.as_str())
    );
    // Blue is untouched and still serves.
    assert!(!instance(&w, "orders").storage_encrypted);
    assert_eq!(o.active_db_instance_identifier(), Some("orders"));
    assert_eq!(
        o.computed().blue_green_deployment_id,
        Some(d.identifier.clone())
    );
    assert_eq!(o.known_ids().blue_green_deployment_id, Some(d.identifier));
    assert_eq!(w.fake.count(Op::CreateBlueGreenDeployment), 1);
    assert!(
        w.progress()
            .iter()
            .any(|p| p.phase == Phase::ProvisioningGreen)
    );
    // No DMS object and no snapshot was made.
    assert!(w.fake.dms_objects().is_empty());
    assert_eq!(w.fake.count(Op::CreateDbSnapshot), 0);
}

#[tokio::test(start_paused = true)]
async fn an_interrupted_create_resumes_without_a_second_deployment() {
    let (w, _) = World::test().blue_green();
    let f = failed(w.reconcile_within(Duration::from_secs(10 * 60)).await);
    assert!(
        matches!(f.error, EngineError::Timeout { .. }),
        "{}",
        f.error
    );
    assert_eq!(f.observed.phase, Phase::ProvisioningGreen);

    let o = ok(w.reconcile().await);
    assert_eq!(o.phase, Phase::Replicating);
    assert_eq!(w.fake.count(Op::CreateBlueGreenDeployment), 1);
    assert_eq!(w.fake.blue_green_deployments().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_deployment_with_our_name_but_without_our_tag_is_refused() {
    let (w, _) = World::test().blue_green();
    let source = instance(&w, "orders");
    let foreign = CreateBlueGreenDeploymentInput {
        name: Names::new("orders", None).blue_green_deployment_name(),
        source_arn: source.arn,
        ..Default::default()
    };
    let made = w.fake.create_blue_green_deployment(&foreign).await;
    assert!(made.is_ok());

    let f = failed(w.reconcile().await);
    let name = Names::new("orders", None).blue_green_deployment_name();
    assert_eq!(foreign_object(&f), name);
    assert_eq!(w.fake.count(Op::CreateBlueGreenDeployment), 1);
    // Observe ignores it: it is not the migration's.
    assert!(f.observed.blue_green.is_none());
}

#[tokio::test(start_paused = true)]
async fn green_created_unencrypted_is_an_error_and_never_switched_over_to() {
    let (w, _) = World::test().blue_green();
    w.fake.set_blue_green_ignores_keys(true);
    let f = failed(w.reconcile().await);
    assert_says(&f, "is not encrypted");
    assert_eq!(f.observed.phase, Phase::ProvisioningGreen);

    let s = failed(w.switch(Cutover, &cut(RetireSource::Keep)).await);
    assert_eq!(s.error.attribute(), Some("cutover"));
    assert_eq!(w.fake.count(Op::SwitchoverBlueGreenDeployment), 0);
    assert!(!instance(&w, "orders").storage_encrypted);
}

#[tokio::test(start_paused = true)]
async fn green_under_another_key_is_refused_before_switchover() {
    let (w, _) = replicating().await;
    let o = w.observe().await;
    let replica = o.green_replicas[0].clone();
    // Someone re-created the green replica under another key.
    w.fake.add_instance(DbInstance {
        kms_key_id: Some(w.key_arn.clone()),
        ..replica
    });

    let f = w.refused(w.switch(Cutover, &cut(RetireSource::Keep))).await;
    assert_eq!(f.error.attribute(), Some("cutover"));
    assert_says(&f, "instead of");
    assert_eq!(w.fake.count(Op::SwitchoverBlueGreenDeployment), 0);
}

#[tokio::test(start_paused = true)]
async fn switchover_gives_the_original_identifiers_to_the_encrypted_instances() {
    let (w, replica_key) = replicating().await;
    let o = ok(w.switch(Cutover, &cut(RetireSource::Keep)).await);

    assert_eq!(o.phase, Phase::CutOver);
    let orders = instance(&w, "orders");
    assert!(orders.storage_encrypted);
    assert_eq!(orders.kms_key_id.as_deref(), Some(w.key_arn.as_str()));
    let replica = instance(&w, "orders-replica");
    assert!(replica.storage_encrypted);
    assert_eq!(replica.kms_key_id.as_deref(), Some(replica_key.as_str()));
    assert!(!instance(&w, "orders-old1").storage_encrypted);
    assert!(!instance(&w, "orders-replica-old1").storage_encrypted);

    assert_eq!(o.active_db_instance_identifier(), Some("orders"));
    assert_eq!(
        o.active_endpoint().map(|e| e.address.as_str()),
        Some("orders.fake.us-east-1.rds.amazonaws.com")
    );
    assert_eq!(
        o.source.as_ref().map(|s| s.identifier.as_str()),
        Some("orders-old1")
    );
    let c = o.computed();
    assert!(c.cutover_started_at.is_some());
    assert!(c.cutover_completed_at.is_some());
    assert!(c.cutover_write_pause_seconds.is_some());
    assert_eq!(w.fake.count(Op::SwitchoverBlueGreenDeployment), 1);

    // Level-triggered: a second apply changes nothing, and a refresh agrees.
    w.fake.clear_calls();
    let again = ok(w.switch(Cutover, &cut(RetireSource::Keep)).await);
    assert_eq!(again.phase, Phase::CutOver);
    assert!(w.fake.mutations().is_empty(), "{:?}", w.fake.mutations());
    assert_eq!(w.observe().await.phase, Phase::CutOver);
}

#[tokio::test(start_paused = true)]
async fn failback_after_the_switchover_is_refused_and_aws_is_untouched() {
    let (w, _) = replicating().await;
    let o = ok(w.switch(Cutover, &cut(RetireSource::Keep)).await);
    let plan = blue_green_failback_refusal(&w.spec, &o);
    assert_eq!(
        plan.as_ref().and_then(EngineError::attribute),
        Some("cutover")
    );

    let f = w
        .refused(w.switch(Failback, &cut(RetireSource::Keep)))
        .await;
    assert_eq!(f.error.attribute(), Some("cutover"));
    assert_says(&f, "no failback");
    assert_eq!(f.observed.phase, Phase::CutOver);

    // Before the switchover, cutover = false is simply where it is.
    let (w2, _) = replicating().await;
    let o2 = w2.observe().await;
    assert!(blue_green_failback_refusal(&w2.spec, &o2).is_none());
    w2.fake.clear_calls();
    let same = ok(w2.switch(Failback, &cut(RetireSource::Keep)).await);
    assert_eq!(same.phase, Phase::Replicating);
    assert!(w2.fake.mutations().is_empty());
}

#[tokio::test(start_paused = true)]
async fn finalize_deletes_the_deployment_and_retires_the_old_instances() {
    let (w, _) = replicating().await;
    let c = cut(RetireSource::SnapshotAndDelete);
    let o = ok(w.switch(Apply(true, true), &c).await);

    assert_eq!(o.phase, Phase::Finalized);
    assert!(w.fake.blue_green_deployments().is_empty());
    assert!(
        w.fake
            .calls()
            .iter()
            .any(|c| c.op == Op::DeleteBlueGreenDeployment && c.id.ends_with("delete_target=false"))
    );
    assert!(w.fake.has_snapshot("orders-rdsenc-final"));
    assert!(
        w.fake
            .instance("orders-old1")
            .is_none_or(|i| i.status == DbInstanceStatus::Deleting)
    );
    assert!(
        w.fake
            .instance("orders-replica-old1")
            .is_none_or(|i| i.status == DbInstanceStatus::Deleting)
    );
    assert!(instance(&w, "orders").storage_encrypted);
    assert!(instance(&w, "orders-replica").storage_encrypted);
    // After the deployment is gone, the tags still say what happened.
    let after = w.observe().await;
    assert_eq!(after.phase, Phase::Finalized);
    assert_eq!(after.active_db_instance_identifier(), Some("orders"));
}

#[tokio::test(start_paused = true)]
async fn stopping_old_instances_that_have_replicas_is_refused_before_anything_changes() {
    let (w, _) = replicating().await;
    ok(w.switch(Cutover, &cut(RetireSource::Keep)).await);
    let f = w
        .refused(w.switch(Apply(true, true), &cut(RetireSource::Stop)))
        .await;
    assert_eq!(f.error.attribute(), Some("retire_source"));
    assert_eq!(w.fake.blue_green_deployments().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn teardown_before_the_switchover_keeps_green_without_delete_target_on_destroy() {
    let (w, _) = replicating().await;
    let o = w.observe().await;
    let green = o.target.clone().unwrap_or_default().identifier;
    let out = w.teardown().await;
    assert!(out.is_ok(), "{:?}", out.errors);
    assert!(w.fake.blue_green_deployments().is_empty());
    assert!(w.fake.has_instance(&green));
    assert!(w.fake.has_instance("orders"));
    assert!(out.kept.iter().any(|k| k.contains(&green)));
    assert!(
        w.fake
            .calls()
            .iter()
            .any(|c| c.op == Op::DeleteBlueGreenDeployment && c.id.ends_with("delete_target=false"))
    );
}

#[tokio::test(start_paused = true)]
async fn teardown_before_the_switchover_deletes_green_with_delete_target_on_destroy() {
    let (w, _) = World::test().blue_green();
    let w = w.spec(|s| s.delete_target_on_destroy = true);
    ok(w.reconcile().await);
    let o = w.observe().await;
    let green = o.target.clone().unwrap_or_default().identifier;
    let out = w.teardown().await;
    assert!(out.is_ok(), "{:?}", out.errors);
    assert!(
        w.fake
            .calls()
            .iter()
            .any(|c| c.op == Op::DeleteBlueGreenDeployment && c.id.ends_with("delete_target=true"))
    );
    assert!(
        w.fake
            .instance(&green)
            .is_none_or(|i| i.status == DbInstanceStatus::Deleting)
    );
    assert!(out.deleted.iter().any(|d| d.contains(&green)));
    // The source and its replica are never touched.
    assert_eq!(instance(&w, "orders").status, DbInstanceStatus::Available);
    assert_eq!(
        instance(&w, "orders-replica").status,
        DbInstanceStatus::Available
    );
}

#[tokio::test(start_paused = true)]
async fn teardown_after_the_switchover_deletes_only_the_deployment_and_keeps_every_instance() {
    let (w, _) = World::test().blue_green();
    let w = w.spec(|s| s.delete_target_on_destroy = true);
    ok(w.reconcile().await);
    ok(w.switch(Cutover, &cut(RetireSource::Keep)).await);
    let out = w.teardown().await;
    assert!(out.is_ok(), "{:?}", out.errors);
    assert!(w.fake.blue_green_deployments().is_empty());
    assert_eq!(w.fake.count(Op::DeleteDbInstance), 0);
    for id in [
        "orders",
        "orders-replica",
        "orders-old1",
        "orders-replica-old1",
    ] {
        assert_eq!(instance(&w, id).status, DbInstanceStatus::Available, "{id}");
        assert!(
            out.kept.iter().any(|k| k.contains(&format!("({id})"))),
            "{id}: {:?}",
            out.kept
        );
    }
}

#[tokio::test(start_paused = true)]
async fn preflight_findings_each_name_their_attribute() {
    let (w, _) = World::test().blue_green();
    assert!(
        w.engine
            .blue_green_preflight(&w.spec, &CancellationToken::new())
            .await
            .is_empty()
    );

    let disabled = w.fake.add_kms_key(&["alias/disabled"]);
    w.fake.set_kms_key_state(&disabled, KmsKeyState::Disabled);
    let mut src = instance(&w, "orders");
    src.engine_version = "10.21".into();
    src.master_user_secret_arn =
        Some("arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!db-1".into());
    src.read_replica_identifiers
        .push("arn:aws:rds:eu-west-1:123456789012:db:orders-eu".into());
    w.fake.add_instance(src);
    let w = w.spec(|s| {
        let m = &mut s.blue_green.replica_kms_key_ids;
        m.insert("orders-replica".into(), "alias/disabled".into());
        m.insert("billing".into(), "alias/rds-at-rest".into());
    });
    let errs = w
        .engine
        .blue_green_preflight(&w.spec, &CancellationToken::new())
        .await;
    let text: Vec<String> = errs.iter().map(ToString::to_string).collect();
    let on = |attr: &str, needle: &str| {
        errs.iter()
            .any(|e| e.attribute() == Some(attr) && e.to_string().contains(needle))
    };
    assert!(
        on("blue_green.replica_kms_key_ids", "orders-eu"),
        "{text:?}"
    );
    assert!(
        on(
            "blue_green.replica_kms_key_ids",
            "billing is not a read replica"
        ),
        "{text:?}"
    );
    assert!(on("blue_green.replica_kms_key_ids", "Disabled"), "{text:?}");
    // The engine version and the managed master password are preflight::run's findings on
    // `strategy` (the resource runs both at plan): reported here too, the reviewer would
    // read each twice.
    assert!(
        !errs.iter().any(|e| e.attribute() == Some("strategy")),
        "{text:?}"
    );
    assert_eq!(errs.len(), 3, "{text:?}");
    assert!(w.fake.mutations().is_empty());

    let mut enc = instance(&w, "orders");
    enc.storage_encrypted = true;
    enc.engine_version = "16.4".into();
    enc.master_user_secret_arn = None;
    w.fake.add_instance(enc);
    let errs = w
        .engine
        .blue_green_preflight(&w.spec, &CancellationToken::new())
        .await;
    // An encrypted source is preflight::run's finding at plan (the resource runs both);
    // the create path still refuses it before creating anything.
    assert!(
        !errs
            .iter()
            .any(|e| e.attribute() == Some("source_db_instance_identifier")),
        "{errs:?}"
    );
    let f = w.refused(w.reconcile()).await;
    assert_eq!(f.error.attribute(), Some("source_db_instance_identifier"));
    assert_says(&f, "already encrypted");
}

#[tokio::test(start_paused = true)]
async fn a_missing_source_is_left_to_preflight_at_plan_and_refused_by_the_create_path() {
    let (w, _) = World::test().blue_green();
    let w = w.spec(|s| s.source_db_instance_identifier = "no-such-db".into());
    let errs = w
        .engine
        .blue_green_preflight(&w.spec, &CancellationToken::new())
        .await;
    // preflight::run reports it as `source_exists`: here it would be the same problem twice.
    assert!(errs.is_empty(), "{errs:?}");
    let f = w.refused(w.reconcile()).await;
    assert_eq!(f.error.attribute(), Some("source_db_instance_identifier"));
}

#[tokio::test(start_paused = true)]
async fn the_create_path_refuses_a_source_blue_green_does_not_support_before_creating_anything() {
    // A plan that passed preflight may be applied after the source changed: the create path
    // checks the source again, with the text preflight shows at plan.
    let (w, _) = World::test().blue_green();
    let mut src = instance(&w, "orders");
    src.engine_version = "10.21".into();
    w.fake.add_instance(src.clone());
    let f = w.refused(w.reconcile()).await;
    assert_eq!(f.error.attribute(), Some("strategy"));
    let text = f.error.to_string();
    let problems = super::blue_green::blue_green_source_problems(&src);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(text.contains(&problems[0].message), "{text}");
    assert!(text.contains("strategy = \"dms\""), "{text}");

    src.engine_version = "16.4".into();
    src.master_user_secret_arn =
        Some("arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!db-1".into());
    w.fake.add_instance(src);
    let f = failed(w.reconcile().await);
    assert_eq!(f.error.attribute(), Some("strategy"));
    assert_says(&f, "Secrets Manager");
    assert!(w.fake.mutations().is_empty(), "{:?}", w.fake.mutations());
}

#[tokio::test(start_paused = true)]
async fn dms_settings_updates_are_a_no_op_for_blue_green() {
    let (w, _) = replicating().await;
    w.fake.clear_calls();
    let change = super::update::DmsChange {
        task: true,
        source_endpoint: true,
        target_endpoint: false,
    };
    let o = ok(w
        .engine
        .update_dms_settings(&w.spec, &KnownIds::default(), &change, HOURS, &w.cancel)
        .await);
    assert_eq!(o.phase, Phase::Replicating);
    assert!(w.fake.mutations().is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_deployment_that_fails_to_provision_is_an_error_with_its_status_details() {
    let (w, _) = World::test().blue_green();
    w.fake.fail_blue_green(
        BlueGreenStatus::ProvisioningFailed,
        "Storage type gp1 is not supported for the green environment",
    );
    let f = failed(w.reconcile().await);
    let text = f.error.to_string();
    assert!(text.contains("PROVISIONING_FAILED"), "{text}");
    assert!(text.contains("Storage type gp1"), "{text}");
    assert_eq!(f.observed.phase, Phase::ProvisioningGreen);
}

#[tokio::test(start_paused = true)]
async fn a_failed_switchover_is_an_error_and_blue_keeps_serving() {
    let (w, _) = replicating().await;
    w.fake.fail_blue_green(
        BlueGreenStatus::SwitchoverFailed,
        "Replica lag exceeded the switchover timeout",
    );
    let f = failed(w.switch(Cutover, &cut(RetireSource::Keep)).await);
    let text = f.error.to_string();
    assert!(text.contains("SWITCHOVER_FAILED"), "{text}");
    assert!(text.contains("Replica lag"), "{text}");
    // RDS rolled back: the original names still name the unencrypted instances.
    assert!(!instance(&w, "orders").storage_encrypted);
    assert!(!w.fake.has_instance("orders-old1"));
    assert_eq!(f.observed.phase, Phase::Replicating);
    assert_eq!(f.observed.active_db_instance_identifier(), Some("orders"));

    // Applying again retries the switchover.
    let o = ok(w.switch(Cutover, &cut(RetireSource::Keep)).await);
    assert_eq!(o.phase, Phase::CutOver);
    assert_eq!(w.fake.count(Op::SwitchoverBlueGreenDeployment), 2);
    assert!(instance(&w, "orders").storage_encrypted);
}

#[tokio::test(start_paused = true)]
async fn plan_descriptions_speak_of_the_switchover_not_of_dms() {
    let (w, _) = replicating().await;
    let c = cut(RetireSource::SnapshotAndDelete);
    let o = w.observe().await;
    let text = super::describe_cutover(&w.spec, &c, &o).join(" ");
    assert!(text.contains("renames orders to orders-old1"), "{text}");
    assert!(text.contains("switchover_timeout = 600s"), "{text}");
    assert!(!text.contains("reverse DMS task"), "{text}");
    assert!(!text.contains("Apply will refuse"), "{text}");
    assert!(
        super::describe_failback(&w.spec, &c, &o)
            .join(" ")
            .contains("changes nothing")
    );

    let o = ok(w.switch(Cutover, &c).await);
    let failback = super::describe_failback(&w.spec, &c, &o).join(" ");
    assert!(failback.contains("no failback"), "{failback}");
    let fin = super::describe_finalize(&w.spec, &c, &o).join(" ");
    assert!(
        fin.contains("deletes the blue/green deployment rdsenc-orders"),
        "{fin}"
    );
    assert!(fin.contains("orders-rdsenc-final"), "{fin}");
    assert!(fin.contains("orders-replica-old1"), "{fin}");
}

#[tokio::test(start_paused = true)]
async fn a_refresh_reads_the_deployment_once_and_each_member_once() {
    let (w, _) = replicating().await;
    let id = w.observe().await.blue_green.unwrap_or_default().identifier;
    let known = KnownIds {
        blue_green_deployment_id: Some(id.clone()),
        ..Default::default()
    };
    w.fake.clear_calls();
    let o = w.observe_known(&known).await;
    assert_eq!(o.phase, Phase::Replicating);
    let calls = w.fake.calls();
    let by_id: Vec<_> = calls
        .iter()
        .filter(|c| c.op == Op::DescribeBlueGreenDeployment)
        .collect();
    assert_eq!(by_id.len(), 1, "{calls:?}");
    assert_eq!(by_id[0].id, id);
    // Blue primary, green primary, green replica.
    assert_eq!(w.fake.count(Op::DescribeDbInstance), 3, "{calls:?}");
    assert_eq!(calls.len(), 4, "{calls:?}");
}

#[tokio::test(start_paused = true)]
async fn ctrl_c_while_green_provisions_stops_promptly_and_the_next_apply_adopts_the_deployment() {
    let (w, _) = World::test().blue_green();
    let cancel = w.cancel.clone();
    let engine = w.engine.clone();
    let spec = w.spec.clone();
    let run = tokio::spawn(async move {
        engine
            .reconcile_to_replicating(&spec, &KnownIds::default(), HOURS, &cancel)
            .await
    });
    tokio::time::sleep(Duration::from_secs(5 * 60)).await;
    w.cancel.cancel();
    let f = match run.await {
        Ok(r) => failed(r),
        Err(e) => panic!("join: {e}"),
    };
    assert!(f.error.is_cancelled(), "{}", f.error);
    assert_eq!(f.observed.phase, Phase::ProvisioningGreen);

    let again = World {
        cancel: CancellationToken::new(),
        ..w
    };
    let o = ok(again.reconcile().await);
    assert_eq!(o.phase, Phase::Replicating);
    assert_eq!(again.fake.count(Op::CreateBlueGreenDeployment), 1);
}

#[test]
fn replica_key_entries_are_checked_without_aws() {
    let mut s = <super::spec::MigrationSpec as super::fixtures::SpecExt>::test();
    s.strategy = super::spec::Strategy::BlueGreen;
    s.blue_green
        .replica_kms_key_ids
        .insert("-bad-".into(), " ".into());
    let errs = s.validate().err().unwrap_or_default();
    assert_eq!(errs.len(), 2, "{errs:?}");
    assert!(
        errs.iter()
            .all(|e| e.attribute() == Some("blue_green.replica_kms_key_ids"))
    );
    // The same entries are not looked at with the DMS strategy.
    s.strategy = super::spec::Strategy::Dms;
    assert_eq!(s.validate(), Ok(()));
}
