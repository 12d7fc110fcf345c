//! Scenario tests of cutover, failback, finalize and teardown over the fake AWS on tokio's
//! paused clock. Every test starts from a migration that is `replicating`.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::api::*;
use super::cutover::{
    CutoverSpec, CutoverStrategy, RetireSource, Route53Record, SwitchOp, WriteFence,
};
use super::error::EngineError;
use super::fake::{FakeAws, Op};
use super::fixtures::Switch::{self, Apply, Cutover, Failback, Finalize};
use super::fixtures::{World, failed, mismatched_table, ok};
use super::observe::{KnownIds, Observed};
use super::reconcile::EngineFailure;
use super::spec::Phase;
use super::{describe_cutover, describe_failback, describe_finalize};

pub(crate) const ZONE: &str = "Z0123456789";
pub(crate) const RECORD: &str = "orders-db.internal.example.com";
pub(crate) const SOURCE_ADDR: &str = "orders.fake.us-east-1.rds.amazonaws.com";
pub(crate) const TARGET_ADDR: &str = "orders-encrypted.fake.us-east-1.rds.amazonaws.com";
pub(crate) const FORWARD: &str = "rdsenc-orders";
pub(crate) const REVERSE: &str = "rdsenc-orders-reverse";
pub(crate) const HOURS: Duration = Duration::from_secs(6 * 3600);

pub(crate) fn route53() -> CutoverStrategy {
    CutoverStrategy::Route53(Route53Record {
        zone_id: ZONE.into(),
        record_name: RECORD.into(),
        ttl: 30,
    })
}

pub(crate) fn cut(strategy: CutoverStrategy) -> CutoverSpec {
    CutoverSpec {
        strategy,
        write_fence: WriteFence::SecurityGroups(vec!["sg-fence".into()]),
        max_lag: Duration::from_secs(5),
        require_validation: true,
        retire_source: RetireSource::Keep,
        fence_hold: Duration::from_secs(60),
        switchover_timeout_seconds: None,
    }
}

pub(crate) fn lag(seconds: f64) -> CdcLatency {
    CdcLatency {
        source_seconds: Some(seconds),
        target_seconds: Some(seconds),
        ..Default::default()
    }
}

/// A replicating migration, the application's CNAME on the source, both directions
/// caught up.
/// Sets the forward task's CDC latency to zero once `after` has passed on the clock.
fn lag_drains_after(w: &World, after: Duration) {
    let fake = w.fake.clone();
    tokio::spawn(async move {
        tokio::time::sleep(after).await;
        fake.set_cdc_latency(FORWARD, lag(0.0));
    });
}

pub(crate) async fn replicating() -> World {
    replicating_from(World::test().spec(|s| s.delete_target_on_destroy = true)).await
}

/// [`replicating`] from a world of the caller's making.
pub(crate) async fn replicating_from(w: World) -> World {
    let o = ok(w.reconcile().await);
    assert_eq!(o.phase, Phase::Replicating);
    w.fake.add_hosted_zone(ZONE);
    w.fake.set_cname(ZONE, RECORD, SOURCE_ADDR);
    w.fake.set_cdc_latency(FORWARD, lag(0.0));
    w.fake.set_cdc_latency(REVERSE, lag(0.0));
    w
}

pub(crate) fn task(w: &World, id: &str) -> ReplicationTask {
    w.fake
        .tasks()
        .into_iter()
        .find(|t| t.identifier == id)
        .unwrap_or_else(|| panic!("no task {id}"))
}

/// Whether the instance `id` is encrypted at rest (`None`: it does not exist).
fn encrypted(w: &World, id: &str) -> Option<bool> {
    w.fake.instance(id).map(|i| i.storage_encrypted)
}

fn sgs(w: &World, id: &str) -> Vec<String> {
    w.fake
        .instance(id)
        .unwrap_or_else(|| panic!("no instance {id}"))
        .vpc_security_group_ids
}

pub(crate) fn creates_of(w: &World, id: &str) -> usize {
    w.fake
        .calls()
        .iter()
        .filter(|c| c.op == Op::CreateReplicationTask && c.id == id && !c.failed)
        .count()
}

pub(crate) fn refusal(f: &EngineFailure) -> String {
    match &f.error {
        EngineError::Refused { .. } => f.error.to_string(),
        other => panic!("expected a refusal, got: {other}"),
    }
}

/// The reverse task runs CDC-only from the encrypted instance's own log position: started
/// with `start-replication` and no `CdcStartPosition`, never from a clock time.
fn assert_reverse_from_drain(_o: &Observed, w: &World) {
    let rev = task(w, REVERSE);
    assert_eq!(rev.status, ReplicationTaskStatus::Running);
    assert_eq!(rev.migration_type, MigrationType::Cdc);
    assert_eq!(rev.cdc_start_position, None);
    assert!(
        w.fake
            .calls()
            .iter()
            .any(|c| c.op == Op::StartReplicationTask
                && c.id == format!("start-replication {}", rev.arn)
                && !c.failed),
        "the reverse task is started with start-replication"
    );
}

#[tokio::test(start_paused = true)]
async fn route53_cutover_failback_cutover_finalize_and_teardown_keep_the_serving_instance() {
    let w = replicating().await;
    let c = cut(route53());

    // Cutover.
    let o = ok(w.switch(Cutover, &c).await);
    assert_eq!(o.phase, Phase::CutOver);
    assert_eq!(w.fake.cname(ZONE, RECORD).as_deref(), Some(TARGET_ADDR));
    assert_eq!(o.active_db_instance_identifier(), Some("orders-encrypted"));
    assert_eq!(sgs(&w, "orders"), vec!["sg-fence".to_owned()]);
    assert_eq!(task(&w, FORWARD).status, ReplicationTaskStatus::Stopped);
    assert_reverse_from_drain(&o, &w);
    let computed = o.computed();
    assert!(computed.cutover_started_at.is_some());
    assert!(computed.cutover_completed_at.is_some());
    let pause = computed.cutover_write_pause_seconds.unwrap_or(-1.0);
    assert!(pause > 0.0 && pause < 3600.0, "{pause}");

    // Failback.
    let o = ok(w.switch(Failback, &c).await);
    assert_eq!(o.phase, Phase::Replicating);
    assert_eq!(w.fake.cname(ZONE, RECORD).as_deref(), Some(SOURCE_ADDR));
    assert_eq!(o.active_db_instance_identifier(), Some("orders"));
    let fwd = task(&w, FORWARD);
    assert_eq!(fwd.status, ReplicationTaskStatus::Running);
    assert_eq!(fwd.migration_type, MigrationType::Cdc);
    assert_eq!(fwd.cdc_start_position, None);
    let back = o
        .cutover
        .failback_drained_at
        .expect("failback drain recorded");
    assert!(back > o.cutover.drained_at.expect("cutover drain"));
    assert_eq!(task(&w, REVERSE).status, ReplicationTaskStatus::Stopped);
    assert_eq!(sgs(&w, "orders"), vec!["sg-db".to_owned()]);
    assert_eq!(sgs(&w, "orders-encrypted"), vec!["sg-db".to_owned()]);
    assert!(
        w.fake
            .calls()
            .iter()
            .all(|c| !(c.op == Op::StartReplicationTask && c.id.contains("reload-target"))),
        "the target is never reloaded"
    );

    // Cutover again: the reverse task that ran is replaced by one that never ran
    // (start-replication is valid only for a first run), starting at the encrypted
    // instance's position now; the failback likewise created the forward task afresh.
    let o = ok(w.switch(Cutover, &c).await);
    assert_eq!(o.phase, Phase::CutOver);
    assert_eq!(w.fake.cname(ZONE, RECORD).as_deref(), Some(TARGET_ADDR));
    assert_reverse_from_drain(&o, &w);
    assert_eq!(creates_of(&w, REVERSE), 2);
    assert_eq!(creates_of(&w, FORWARD), 2);
    assert_eq!(
        w.fake
            .tasks()
            .iter()
            .filter(|t| t.identifier == REVERSE)
            .count(),
        1
    );

    // Finalize.
    let o = ok(w.switch(Finalize, &c).await);
    assert_eq!(o.phase, Phase::Finalized);
    assert!(
        w.fake.dms_objects().is_empty(),
        "{:?}",
        w.fake.dms_objects()
    );
    let src = w.fake.instance("orders").expect("source kept");
    assert_eq!(src.status, DbInstanceStatus::Available);
    assert_eq!(src.vpc_security_group_ids, vec!["sg-db".to_owned()]);
    assert_eq!(o.active_db_instance_identifier(), Some("orders-encrypted"));

    // Failback after finalize is refused and changes nothing.
    let f = w.refused(w.switch(Failback, &c)).await;
    assert!(refusal(&f).contains("finalized"), "{}", f.error);

    // Teardown keeps the serving (encrypted) instance despite delete_target_on_destroy.
    let out = w.teardown().await;
    assert!(out.is_ok(), "{:?}", out.errors);
    assert!(w.fake.has_instance("orders-encrypted"));
    assert!(w.fake.has_instance("orders"));
    assert_eq!(w.fake.count(Op::DeleteDbInstance), 0);
}

#[tokio::test(start_paused = true)]
async fn identifier_swap_cutover_failback_cutover_finalize_stop_and_teardown() {
    let w = replicating().await;
    let mut c = cut(CutoverStrategy::IdentifierSwap);
    c.retire_source = RetireSource::Stop;

    let o = ok(w.switch(Cutover, &c).await);
    assert_eq!(o.phase, Phase::CutOver);
    let now_orders = w.fake.instance("orders").expect("orders exists");
    assert!(
        now_orders.storage_encrypted,
        "orders now names the encrypted instance"
    );
    let original = w
        .fake
        .instance("orders-unencrypted")
        .expect("original renamed");
    assert!(!original.storage_encrypted);
    assert!(!w.fake.has_instance("orders-encrypted"));
    assert_eq!(o.active_db_instance_identifier(), Some("orders"));
    assert_eq!(
        o.active_endpoint().map(|e| e.address.as_str()),
        Some(SOURCE_ADDR)
    );
    assert!(o.identifiers_swapped);
    assert_reverse_from_drain(&o, &w);
    // The reverse endpoints follow the names: read "orders" (encrypted), write the original.
    assert_eq!(
        o.reverse_source_endpoint
            .as_ref()
            .and_then(|e| e.server_name.as_deref()),
        Some(SOURCE_ADDR)
    );
    assert_eq!(
        o.reverse_target_endpoint
            .as_ref()
            .and_then(|e| e.server_name.as_deref()),
        Some("orders-unencrypted.fake.us-east-1.rds.amazonaws.com")
    );
    assert_eq!(sgs(&w, "orders-unencrypted"), vec!["sg-fence".to_owned()]);
    // RDS keeps "orders" reserved after the first rename: the second one is retried.
    let renames_onto_orders = w
        .fake
        .calls()
        .iter()
        .filter(|c| c.op == Op::ModifyDbInstance && c.id == "orders-encrypted")
        .count();
    assert!(renames_onto_orders >= 2, "{renames_onto_orders}");

    let o = ok(w.switch(Failback, &c).await);
    assert_eq!(o.phase, Phase::Replicating);
    assert!(!w.fake.instance("orders").expect("orders").storage_encrypted);
    assert!(
        w.fake
            .instance("orders-encrypted")
            .expect("target back")
            .storage_encrypted
    );
    assert!(!w.fake.has_instance("orders-unencrypted"));
    assert_eq!(task(&w, FORWARD).status, ReplicationTaskStatus::Running);
    assert_eq!(task(&w, REVERSE).status, ReplicationTaskStatus::Stopped);
    assert_eq!(sgs(&w, "orders"), vec!["sg-db".to_owned()]);

    let o = ok(w.switch(Cutover, &c).await);
    assert_eq!(o.phase, Phase::CutOver);
    assert_eq!(creates_of(&w, REVERSE), 2);
    assert_reverse_from_drain(&o, &w);

    let o = ok(w.switch(Finalize, &c).await);
    assert_eq!(o.phase, Phase::Finalized);
    assert!(w.fake.dms_objects().is_empty());
    let original = w
        .fake
        .instance("orders-unencrypted")
        .expect("kept, stopped");
    assert_eq!(original.status, DbInstanceStatus::Stopped);
    assert_eq!(original.vpc_security_group_ids, vec!["sg-db".to_owned()]);

    let out = w.teardown().await;
    assert!(out.is_ok(), "{:?}", out.errors);
    assert_eq!(encrypted(&w, "orders"), Some(true));
    assert_eq!(w.fake.count(Op::DeleteDbInstance), 0);
}

#[tokio::test(start_paused = true)]
async fn strategy_none_moves_only_the_active_endpoint_and_finalize_snapshots_then_deletes_the_source()
 {
    let w = replicating().await;
    let mut c = cut(CutoverStrategy::None);
    c.write_fence = WriteFence::None;
    c.retire_source = RetireSource::SnapshotAndDelete;

    let o = ok(w.switch(Cutover, &c).await);
    assert_eq!(o.phase, Phase::CutOver);
    assert_eq!(
        o.active_endpoint().map(|e| e.address.as_str()),
        Some(TARGET_ADDR)
    );
    assert_eq!(w.fake.cname(ZONE, RECORD).as_deref(), Some(SOURCE_ADDR));
    assert_eq!(w.fake.count(Op::UpsertCname), 0);
    assert_eq!(sgs(&w, "orders"), vec!["sg-db".to_owned()]);
    assert_reverse_from_drain(&o, &w);

    let o = ok(w.switch(Failback, &c).await);
    assert_eq!(
        o.active_endpoint().map(|e| e.address.as_str()),
        Some(SOURCE_ADDR)
    );
    let o = ok(w.switch(Cutover, &c).await);
    assert_eq!(o.phase, Phase::CutOver);

    let o = ok(w.switch(Finalize, &c).await);
    assert_eq!(o.phase, Phase::Finalized);
    assert!(w.fake.has_snapshot("orders-rdsenc-final"));
    assert!(
        w.fake
            .calls()
            .iter()
            .any(|c| c.op == Op::DeleteDbInstance && c.id == "orders")
    );
    let out = w.teardown().await;
    assert!(out.is_ok(), "{:?}", out.errors);
    assert!(w.fake.has_instance("orders-encrypted"));
}

#[tokio::test(start_paused = true)]
async fn a_lag_above_the_bound_is_refused_with_the_measured_value_and_nothing_changes() {
    let w = replicating().await;
    w.fake.set_cdc_latency(FORWARD, lag(12.0));
    w.fake.clear_calls();
    let r = w
        .switch_within(Cutover, &cut(route53()), Duration::from_secs(20 * 60))
        .await;
    let f = failed(r);
    let msg = refusal(&f);
    assert!(msg.contains("12.0s"), "{msg}");
    assert!(msg.contains("5.0s"), "{msg}");
    assert_eq!(f.error.attribute(), Some("cutover"));
    assert!(w.fake.mutations().is_empty(), "{:?}", w.fake.mutations());
    assert_eq!(f.observed.phase, Phase::Replicating);
}

#[tokio::test(start_paused = true)]
async fn cutover_waits_for_the_lag_to_drop_within_the_timeout() {
    let w = replicating().await;
    w.fake.set_cdc_latency(FORWARD, lag(30.0));
    lag_drains_after(&w, Duration::from_secs(10 * 60));
    let o = ok(w.switch(Cutover, &cut(route53())).await);
    assert_eq!(o.phase, Phase::CutOver);
}

#[tokio::test(start_paused = true)]
async fn a_validation_mismatch_is_refused_and_nothing_changes() {
    let w = replicating().await;
    w.fake
        .set_table_stats(FORWARD, vec![mismatched_table("orders")]);
    let f = w.refused(w.switch(Cutover, &cut(route53()))).await;
    assert!(refusal(&f).contains("mismatched: 1 table"), "{}", f.error);
}

#[tokio::test(start_paused = true)]
async fn a_taken_swap_name_is_refused_before_any_rename() {
    let w = replicating().await;
    let mut squatter = super::fixtures::source_instance(DbEngine::Postgres);
    squatter.identifier = "orders-unencrypted".into();
    squatter.arn = String::new();
    squatter.endpoint = None;
    w.fake.add_instance(squatter);
    let f = w
        .refused(w.switch(Cutover, &cut(CutoverStrategy::IdentifierSwap)))
        .await;
    let msg = refusal(&f);
    assert!(msg.contains("orders-unencrypted"), "{msg}");
    assert_eq!(f.error.attribute(), Some("cutover_strategy"));
}

#[tokio::test(start_paused = true)]
async fn finalize_before_cutover_is_refused_and_nothing_changes() {
    let w = replicating().await;
    let f = w.refused(w.switch(Finalize, &cut(route53()))).await;
    assert!(refusal(&f).contains("replicating"), "{}", f.error);
    assert_eq!(f.error.attribute(), Some("finalize"));
}

#[tokio::test(start_paused = true)]
async fn snapshot_and_delete_of_a_protected_source_is_refused_before_anything_is_deleted() {
    let w = replicating().await;
    let mut c = cut(route53());
    c.retire_source = RetireSource::SnapshotAndDelete;
    ok(w.switch(Cutover, &c).await);
    let mut protected = w.fake.instance("orders").expect("source");
    protected.deletion_protection = true;
    w.fake.add_instance(protected);
    let f = w.refused(w.switch(Finalize, &c)).await;
    assert!(refusal(&f).contains("deletion protection"), "{}", f.error);
    assert_eq!(f.error.attribute(), Some("retire_source"));
    assert_eq!(f.observed.phase, Phase::CutOver);
}

/// `w` under a token that is cancelled once `done` holds (checked every virtual second).
pub(crate) fn cancel_when(w: &World, done: impl Fn(&World) -> bool + Send + 'static) -> World {
    let cancel = CancellationToken::new();
    let probe = w.with_cancel(CancellationToken::new());
    let token = cancel.clone();
    tokio::spawn(async move {
        loop {
            if done(&probe) {
                token.cancel();
                return;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
    w.with_cancel(cancel)
}

/// Runs `op` until `done` holds, then cancels it; returns the failure, asserting it is
/// the cancellation.
pub(crate) async fn interrupted(
    w: &World,
    op: Switch,
    c: &CutoverSpec,
    done: impl Fn(&World) -> bool + Send + 'static,
) -> EngineFailure {
    let f = failed(cancel_when(w, done).switch(op, c).await);
    assert!(f.error.is_cancelled(), "{}", f.error);
    f
}

#[tokio::test(start_paused = true)]
async fn an_identifier_swap_interrupted_after_the_first_rename_completes_on_rerun() {
    let w = replicating().await;
    let c = cut(CutoverStrategy::IdentifierSwap);
    let f = interrupted(&w, Cutover, &c, |p| {
        p.fake.has_instance("orders-unencrypted")
    })
    .await;
    assert_eq!(f.observed.phase, Phase::CuttingOver);
    assert!(f.observed.identifiers_swapped);

    let o = ok(w.switch(Cutover, &c).await);
    assert_eq!(o.phase, Phase::CutOver);
    assert_eq!(encrypted(&w, "orders"), Some(true));
    assert!(w.fake.has_instance("orders-unencrypted"));
    assert_eq!(creates_of(&w, REVERSE), 1);
    assert_reverse_from_drain(&o, &w);
}

#[tokio::test(start_paused = true)]
async fn a_cutover_interrupted_after_the_reverse_task_was_created_never_creates_a_second() {
    let w = replicating().await;
    let c = cut(route53());
    interrupted(&w, Cutover, &c, |p| {
        p.fake.tasks().iter().any(|t| t.identifier == REVERSE)
    })
    .await;
    let o = ok(w.switch(Cutover, &c).await);
    assert_eq!(o.phase, Phase::CutOver);
    assert_eq!(creates_of(&w, REVERSE), 1);
    assert_eq!(w.fake.cname(ZONE, RECORD).as_deref(), Some(TARGET_ADDR));
}

#[tokio::test(start_paused = true)]
async fn a_half_done_swap_is_rolled_back_deterministically_by_failback() {
    let w = replicating().await;
    let c = cut(CutoverStrategy::IdentifierSwap);
    interrupted(&w, Cutover, &c, |p| {
        p.fake.has_instance("orders-unencrypted")
    })
    .await;

    let o = ok(w.switch(Failback, &c).await);
    assert_eq!(o.phase, Phase::Replicating);
    assert_eq!(encrypted(&w, "orders"), Some(false));
    assert_eq!(encrypted(&w, "orders-encrypted"), Some(true));
    assert!(!w.fake.has_instance("orders-unencrypted"));
    assert_eq!(task(&w, FORWARD).status, ReplicationTaskStatus::Running);
    assert_eq!(sgs(&w, "orders"), vec!["sg-db".to_owned()]);
    // The reverse task was started (and stopped, holding its position) before the first
    // rename; nothing reached the target, so the forward task continues from its own
    // checkpoint and is not recreated.
    assert_eq!(creates_of(&w, REVERSE), 1);
    assert_eq!(task(&w, REVERSE).status, ReplicationTaskStatus::Stopped);
    assert_eq!(creates_of(&w, FORWARD), 1);
}

#[tokio::test(start_paused = true)]
async fn plan_descriptions_say_what_changes_from_what_to_what() {
    let w = replicating().await;
    let c = cut(route53());
    let o = w.observe().await;
    let text = describe_cutover(&w.spec, &c, &o).join("\n");
    assert!(text.contains(RECORD), "{text}");
    assert!(
        text.contains(&format!("from {SOURCE_ADDR} to {TARGET_ADDR}")),
        "{text}"
    );
    assert!(text.contains("replication lag 0.0s"), "{text}");
    assert!(text.contains("validation validated"), "{text}");
    assert!(text.contains("sg-fence"), "{text}");
    assert!(text.contains(REVERSE), "{text}");
    let swap = describe_cutover(&w.spec, &cut(CutoverStrategy::IdentifierSwap), &o).join("\n");
    assert!(
        swap.contains("orders is renamed to orders-unencrypted, then orders-encrypted to orders"),
        "{swap}"
    );
    w.fake.set_cdc_latency(FORWARD, lag(9.0));
    let o = w.observe().await;
    let waiting = describe_cutover(&w.spec, &c, &o).join("\n");
    assert!(waiting.contains("9.0s"), "{waiting}");

    w.fake.set_cdc_latency(FORWARD, lag(0.0));
    let o = ok(w.switch(Cutover, &c).await);
    let back = describe_failback(&w.spec, &c, &o).join("\n");
    assert!(
        back.contains(&format!(
            "points back at the original instance's address {SOURCE_ADDR}"
        )),
        "{back}"
    );
    assert!(
        back.contains("starts as CDC only at the original instance's current log position"),
        "{back}"
    );
    let mut fin = c.clone();
    fin.retire_source = RetireSource::SnapshotAndDelete;
    let text = describe_finalize(&w.spec, &fin, &o).join("\n");
    assert!(
        text.contains("DMS Replication Task rdsenc-orders-reverse"),
        "{text}"
    );
    assert!(text.contains("orders-rdsenc-final"), "{text}");
    assert!(
        text.contains("Kept: the encrypted instance orders-encrypted"),
        "{text}"
    );
}

#[tokio::test(start_paused = true)]
async fn switch_futures_are_no_larger_than_the_create_path_so_worker_stacks_hold() {
    let w = World::test();
    let k = KnownIds::default();
    let c = CancellationToken::new();
    let cs = cut(CutoverStrategy::IdentifierSwap);
    let d = Duration::from_secs(1);
    let create = std::mem::size_of_val(&w.engine.reconcile_to_replicating(&w.spec, &k, d, &c));
    let sizes = [
        std::mem::size_of_val(&w.engine.switch(SwitchOp::Cutover, &w.spec, &cs, &k, d, &c)),
        std::mem::size_of_val(&w.engine.switch(SwitchOp::Failback, &w.spec, &cs, &k, d, &c)),
        std::mem::size_of_val(&w.engine.switch(SwitchOp::Finalize, &w.spec, &cs, &k, d, &c)),
    ];
    assert!(
        sizes.iter().all(|s| *s <= create + 64),
        "{sizes:?} vs {create}"
    );
}

#[tokio::test(start_paused = true)]
async fn apply_switch_cuts_over_and_finalizes_in_one_call_and_refuses_finalize_without_cutover() {
    let w = replicating().await;
    let c = cut(route53());
    let f = w.refused(w.switch(Apply(false, true), &c)).await;
    assert_eq!(f.error.attribute(), Some("finalize"));

    let o = ok(w.switch(Apply(false, false), &c).await);
    assert_eq!(
        o.phase,
        Phase::Replicating,
        "failback of a replicating migration is a no-op"
    );
    assert!(w.fake.mutations().is_empty());

    let o = ok(w.switch(Apply(true, true), &c).await);
    assert_eq!(o.phase, Phase::Finalized);
    assert_eq!(w.fake.cname(ZONE, RECORD).as_deref(), Some(TARGET_ADDR));
    assert!(w.fake.dms_objects().is_empty());
}

#[tokio::test(start_paused = true)]
async fn failback_after_finalize_is_refused_and_nothing_changes() {
    let w = replicating().await;
    let c = cut(CutoverStrategy::None);
    ok(w.switch(Cutover, &c).await);
    ok(w.switch(Finalize, &c).await);
    let f = w.refused(w.switch(Failback, &c)).await;
    let msg = refusal(&f);
    assert!(msg.contains("finalized"), "{msg}");
    assert_eq!(f.error.attribute(), Some("cutover"));
    assert_eq!(f.observed.phase, Phase::Finalized);
}

#[tokio::test(start_paused = true)]
async fn teardown_after_a_failback_removes_both_tasks_and_the_unserving_target_with_a_final_snapshot()
 {
    let w = replicating().await;
    let c = cut(route53());
    ok(w.switch(Cutover, &c).await);
    ok(w.switch(Failback, &c).await);
    let out = w.teardown().await;
    assert!(out.is_ok(), "{:?}", out.errors);
    assert!(
        out.deleted
            .contains(&"DMS Replication Task (rdsenc-orders-reverse)".to_owned()),
        "{:?}",
        out.deleted
    );
    assert!(
        w.fake.dms_objects().is_empty(),
        "{:?}",
        w.fake.dms_objects()
    );
    assert!(w.fake.has_snapshot("rdsenc-orders-target-final"));
    assert_eq!(encrypted(&w, "orders"), Some(false));
}

#[tokio::test(start_paused = true)]
async fn teardown_while_cut_over_keeps_the_serving_target_and_reports_the_fenced_source() {
    let w = replicating().await;
    ok(w.switch(Cutover, &cut(route53())).await);
    let out = w.teardown().await;
    assert!(out.is_ok(), "{:?}", out.errors);
    assert!(w.fake.has_instance("orders-encrypted"));
    assert_eq!(w.fake.count(Op::DeleteDbInstance), 0);
    assert!(
        w.fake.dms_objects().is_empty(),
        "{:?}",
        w.fake.dms_objects()
    );
    let kept = out.kept.join("\n");
    assert!(kept.contains("may be serving traffic"), "{kept}");
    assert!(kept.contains("still fenced"), "{kept}");
    assert!(kept.contains("sg-db"), "{kept}");
}

#[tokio::test(start_paused = true)]
async fn the_switch_waits_until_cdc_has_drained_to_zero_after_the_fence() {
    let w = replicating().await;
    // Within the bound, so the checks pass, but not drained.
    w.fake.set_cdc_latency(FORWARD, lag(3.0));
    lag_drains_after(&w, Duration::from_secs(5 * 60));
    w.fake.clear_calls();
    let o = ok(w.switch(Cutover, &cut(route53())).await);
    let calls = w.fake.calls();
    let fenced = calls
        .iter()
        .find(|c| c.op == Op::ModifyDbInstance && c.id == "orders")
        .map(|c| c.at)
        .expect("fence");
    let switched = calls
        .iter()
        .find(|c| c.op == Op::UpsertCname)
        .map(|c| c.at)
        .expect("switch");
    let stopped = calls
        .iter()
        .find(|c| c.op == Op::StopReplicationTask)
        .map(|c| c.at)
        .expect("forward stopped");
    // Drained, the forward task is stopped; the reverse task starts once it has stopped
    // and runs before the switch.
    assert!(fenced < stopped && stopped < switched);
    assert!(stopped >= Duration::from_secs(5 * 60), "{stopped:?}");
    let reverse_created = calls
        .iter()
        .find(|c| c.op == Op::CreateReplicationTask && c.id == REVERSE)
        .map(|c| c.at)
        .expect("reverse task");
    assert!(
        reverse_created > stopped,
        "{reverse_created:?} vs {stopped:?}"
    );
    let reverse_started = calls
        .iter()
        .find(|c| c.op == Op::StartReplicationTask && c.id.starts_with("start-replication"))
        .map(|c| c.at)
        .expect("reverse started");
    assert!(
        reverse_created < reverse_started && reverse_started < switched,
        "{reverse_started:?} vs {switched:?}"
    );
    let pause = o.computed().cutover_write_pause_seconds.unwrap_or(0.0);
    assert!(pause >= 240.0, "{pause}");
    let r = &o.cutover;
    assert!(r.switched_at <= r.completed_at, "{r:?}");
}

#[tokio::test(start_paused = true)]
async fn failback_with_the_reverse_lag_above_the_bound_is_refused_and_nothing_changes() {
    let w = replicating().await;
    let c = cut(route53());
    ok(w.switch(Cutover, &c).await);
    w.fake.set_cdc_latency(REVERSE, lag(20.0));
    w.fake.clear_calls();
    let r = w
        .switch_within(Failback, &c, Duration::from_secs(20 * 60))
        .await;
    let f = failed(r);
    let msg = refusal(&f);
    assert!(msg.contains("20.0s") && msg.contains("5.0s"), "{msg}");
    assert!(w.fake.mutations().is_empty(), "{:?}", w.fake.mutations());
    assert_eq!(f.observed.phase, Phase::CutOver);
    assert_eq!(w.fake.cname(ZONE, RECORD).as_deref(), Some(TARGET_ADDR));
}

#[tokio::test(start_paused = true)]
async fn a_failback_interrupted_mid_swap_completes_on_rerun_and_restarts_forward_once() {
    let w = replicating().await;
    let c = cut(CutoverStrategy::IdentifierSwap);
    ok(w.switch(Cutover, &c).await);
    // After the first reverse rename, "orders-encrypted" exists again.
    let f = interrupted(&w, Failback, &c, |p| {
        p.fake.has_instance("orders-encrypted")
    })
    .await;
    assert_eq!(f.observed.phase, Phase::FailingBack);

    let o = ok(w.switch(Failback, &c).await);
    assert_eq!(o.phase, Phase::Replicating);
    assert_eq!(encrypted(&w, "orders"), Some(false));
    assert!(!w.fake.has_instance("orders-unencrypted"));
    let forward_starts = w
        .fake
        .calls()
        .iter()
        .filter(|c| {
            c.op == Op::StartReplicationTask
                && c.id.starts_with("resume-processing")
                && !c.failed
                && o.task.as_ref().is_some_and(|t| c.id.ends_with(&t.arn))
        })
        .count();
    assert_eq!(forward_starts, 1);
    assert_eq!(task(&w, FORWARD).status, ReplicationTaskStatus::Running);
}

#[tokio::test(start_paused = true)]
async fn a_cutover_whose_failback_could_not_be_lossless_is_refused_before_anything_changes() {
    let w = World::test().mysql().spec(|s| {
        s.target.backup_retention_period = Some(0);
        s.dms.table_mappings = Some(
            r#"{"rules":[{"rule-type":"selection","rule-id":"1","rule-name":"all","object-locator":{"schema-name":"%","table-name":"%"},"rule-action":"include"},{"rule-type":"transformation","rule-id":"2","rule-name":"rename","rule-target":"schema","object-locator":{"schema-name":"app"},"rule-action":"rename","value":"app2"}]}"#.into(),
        );
    });
    ok(w.reconcile().await);
    w.fake.set_cdc_latency(FORWARD, lag(0.0));
    let f = w
        .refused(w.switch(Cutover, &cut(CutoverStrategy::None)))
        .await;
    let msg = refusal(&f);
    assert!(msg.contains("transformation rules"), "{msg}");
    assert!(msg.contains("backup_retention_period 0"), "{msg}");
}

#[tokio::test(start_paused = true)]
async fn a_reverse_task_that_failed_while_cut_over_is_resumed_by_the_next_apply() {
    let w = replicating().await;
    let c = cut(route53());
    w.fake
        .fail_task_after(REVERSE, Duration::from_secs(10 * 60), "connection reset");
    ok(w.switch(Cutover, &c).await);
    tokio::time::sleep(Duration::from_secs(20 * 60)).await;
    let o = w.observe().await;
    assert_eq!(
        o.computed().reverse_replication_task_status.as_deref(),
        Some("failed")
    );
    w.fake.clear_calls();
    let o = ok(w.switch(Cutover, &c).await);
    assert_eq!(o.phase, Phase::CutOver);
    assert_eq!(task(&w, REVERSE).status, ReplicationTaskStatus::Running);
    assert!(
        w.fake
            .calls()
            .iter()
            .any(|c| c.op == Op::StartReplicationTask && c.id.starts_with("resume-processing"))
    );
    assert_eq!(creates_of(&w, REVERSE), 0);
    assert_eq!(w.fake.count(Op::UpsertCname), 0);
}

#[tokio::test(start_paused = true)]
async fn a_password_rotation_while_cut_over_reaches_the_reverse_endpoints() {
    let mut w = replicating().await;
    ok(w.switch(Cutover, &cut(route53())).await);
    w.spec.dms.source_credentials = EndpointCredentials::Password {
        username: "dms".into(),
        password: SecretString::new("rotated-pw"),
    };
    let change = super::update::DmsChange {
        source_endpoint: true,
        ..Default::default()
    };
    let o = ok(w
        .engine
        .update_reverse_credentials(
            &w.spec,
            &change,
            &KnownIds::default(),
            HOURS,
            &CancellationToken::new(),
        )
        .await);
    assert_eq!(
        w.fake
            .endpoint_password("rdsenc-orders-reverse-source")
            .as_deref(),
        Some("rotated-pw")
    );
    assert_eq!(
        w.fake
            .endpoint_password("rdsenc-orders-reverse-target")
            .as_deref(),
        Some("rotated-pw")
    );
    assert_eq!(o.phase, Phase::CutOver);
    tokio::time::sleep(Duration::from_secs(5 * 60)).await;
    assert_eq!(task(&w, REVERSE).status, ReplicationTaskStatus::Running);
}

#[tokio::test(start_paused = true)]
async fn a_refresh_with_state_from_before_an_interrupted_cutover_still_sees_the_cutover() {
    let w = replicating().await;
    // State as the last apply saved it: replicating, no reverse objects.
    let stale = w.observe().await.known_ids();
    assert_eq!(stale.recorded_phase, Some(Phase::Replicating));
    w.fake.clear_calls();
    let settled = w.refresh(&stale).await;
    assert_eq!(settled.phase, Phase::Replicating);
    assert_eq!(
        w.fake.count(Op::DescribeReplicationTask),
        1,
        "no reverse lookups before a cutover"
    );

    let c = cut(route53());
    let wc = cancel_when(&w, |p| {
        p.fake.tasks().iter().any(|t| t.identifier == REVERSE)
    });
    let f = failed(
        w.engine
            .switch(SwitchOp::Cutover, &w.spec, &c, &stale, HOURS, &wc.cancel)
            .await,
    );
    assert!(f.error.is_cancelled(), "{}", f.error);

    // Terraform saved nothing: the refresh still starts from the stale state.
    let o = w.refresh(&stale).await;
    assert_eq!(o.phase, Phase::CuttingOver);
    assert!(
        o.reverse_task.is_some(),
        "the reverse task is found by name"
    );
    let full = w.observe_known(&stale).await;
    assert_eq!(o.computed(), full.computed());
}

#[tokio::test(start_paused = true)]
async fn a_cutover_interrupted_after_the_switch_keeps_the_recorded_drain_time() {
    let w = replicating().await;
    let c = cut(route53());
    let f = interrupted(&w, Cutover, &c, |p| {
        p.fake.cname(ZONE, RECORD).as_deref() == Some(TARGET_ADDR)
    })
    .await;
    let drained = f.observed.cutover.drained_at.expect("drain recorded");
    // The application may write to the target from here on: a second drain would start
    // the reverse task after those writes.
    tokio::time::sleep(Duration::from_secs(600)).await;
    let o = ok(w.switch(Cutover, &c).await);
    assert_eq!(o.phase, Phase::CutOver);
    assert_eq!(o.cutover.drained_at, Some(drained));
    assert_reverse_from_drain(&o, &w);
    assert_eq!(creates_of(&w, REVERSE), 1);
}

// ---------------------------------------------------------------------------------------------
// The drain proof
// ---------------------------------------------------------------------------------------------

const DRAIN_BUDGET: Duration = Duration::from_secs(20 * 60);

/// A cutover whose drain was not proven: the phase stays `cutting_over` with the source
/// fenced, the application's name is not moved and no reverse task exists.
fn assert_nothing_switched(w: &World, f: &EngineFailure) {
    assert_eq!(f.observed.phase, Phase::CuttingOver, "{}", f.error);
    assert_eq!(w.fake.cname(ZONE, RECORD).as_deref(), Some(SOURCE_ADDR));
    assert_eq!(w.fake.count(Op::UpsertCname), 0);
    assert_eq!(sgs(w, "orders"), vec!["sg-fence".to_owned()]);
    assert_eq!(creates_of(w, REVERSE), 0);
}

fn assert_drain_timed_out(f: &EngineFailure) {
    assert!(
        matches!(
            f.error,
            EngineError::Timeout {
                step: super::error::Step::DrainReplication,
                ..
            }
        ),
        "{}",
        f.error
    );
}

/// The drain progress reports, in order.
fn drain_reports(w: &World) -> Vec<String> {
    w.progress()
        .into_iter()
        .filter(|p| p.step == super::error::Step::DrainReplication)
        .map(|p| p.status)
        .collect()
}

/// Runs `then` on the fake once the source is fenced (the drain is then under way).
fn when_fenced(w: &World, then: impl FnOnce(&FakeAws) + Send + 'static) {
    let fake = w.fake.clone();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(1)).await;
            if fake
                .instance("orders")
                .is_some_and(|i| i.vpc_security_group_ids == ["sg-fence"])
            {
                then(&fake);
                break;
            }
        }
    });
}

#[tokio::test(start_paused = true)]
async fn a_stale_datapoint_from_before_the_fence_does_not_drain() {
    let w = replicating().await;
    let c = cut(route53());
    // CloudWatch stopped publishing before the cutover: its newest datapoint says 0 s.
    let before = w.fake.wall_time();
    w.fake.set_cdc_latency(
        FORWARD,
        CdcLatency {
            source_at: Some(before),
            target_at: Some(before),
            ..lag(0.0)
        },
    );
    w.fake.clear_calls();
    let f = failed(w.switch_within(Cutover, &c, DRAIN_BUDGET).await);
    assert_drain_timed_out(&f);
    assert_nothing_switched(&w, &f);
    assert_eq!(task(&w, FORWARD).status, ReplicationTaskStatus::Running);
    assert!(
        drain_reports(&w).iter().all(|r| r.contains("0 of 3")),
        "{:?}",
        drain_reports(&w)
    );

    // Datapoints from after the fence prove it: the re-run completes the cutover.
    w.fake.set_cdc_latency(FORWARD, lag(0.0));
    let o = ok(w.switch(Cutover, &c).await);
    assert_eq!(o.phase, Phase::CutOver);
    assert_eq!(w.fake.cname(ZONE, RECORD).as_deref(), Some(TARGET_ADDR));
}

#[tokio::test(start_paused = true)]
async fn the_same_datapoint_read_three_times_does_not_drain() {
    let w = replicating().await;
    let c = cut(route53());
    // One datapoint after the fence (which takes 3 minutes to apply) and its period, then
    // nothing newer: every read returns it.
    let pinned = std::sync::Arc::new(std::sync::Mutex::new(None));
    let set = pinned.clone();
    when_fenced(&w, move |fake| {
        let at = fake.wall_time() + Duration::from_secs(6 * 60);
        *set.lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(at);
        fake.set_cdc_latency(
            FORWARD,
            CdcLatency {
                source_at: Some(at),
                target_at: Some(at),
                ..lag(0.0)
            },
        );
    });
    w.fake.clear_calls();
    let f = failed(w.switch_within(Cutover, &c, DRAIN_BUDGET).await);
    let pinned = pinned
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .expect("pinned once fenced");
    assert_drain_timed_out(&f);
    assert_nothing_switched(&w, &f);
    let paused = f.observed.cutover.writes_paused_at.expect("paused");
    assert!(paused + Duration::from_secs(60) <= pinned, "{paused:?}");
    // Read every poll for the ten minutes it stayed in the window, it counted once: the
    // count went to 1 and stayed there until the datapoint aged out.
    let reports = drain_reports(&w);
    let counted = reports.iter().position(|r| r.contains("lag 0.0s, 1 of 3"));
    let aged_out = reports.iter().rposition(|r| r.contains("unknown"));
    assert!(counted.is_some() && counted < aged_out, "{reports:?}");
    assert!(!reports.iter().any(|r| r.contains("2 of 3")), "{reports:?}");
    assert!(w.fake.count(Op::CdcLatency) >= 60, "{reports:?}");
}

#[tokio::test(start_paused = true)]
async fn a_missing_source_datapoint_does_not_drain() {
    let w = replicating().await;
    let c = cut(route53());
    // The gate saw both datapoints; once the fence is up only the target one is published.
    when_fenced(&w, |fake| {
        fake.set_cdc_latency(
            FORWARD,
            CdcLatency {
                source_seconds: None,
                ..lag(0.0)
            },
        );
    });
    let f = failed(w.switch_within(Cutover, &c, DRAIN_BUDGET).await);
    assert_drain_timed_out(&f);
    assert_nothing_switched(&w, &f);
    assert_eq!(task(&w, FORWARD).status, ReplicationTaskStatus::Running);
}

#[tokio::test(start_paused = true)]
async fn the_forward_task_failing_during_the_drain_aborts_the_cutover_and_nothing_is_switched() {
    let w = replicating().await;
    let c = cut(route53());
    // The task fails once the fence is up, while the drain waits for datapoints.
    when_fenced(&w, |fake| {
        fake.fail_task_after(FORWARD, Duration::ZERO, "Error reading binary log");
    });
    let f = failed(w.switch(Cutover, &c).await);
    match &f.error {
        EngineError::Failed {
            step: super::error::Step::DrainReplication,
            id,
            status,
            reason,
        } => {
            assert_eq!(id, FORWARD);
            assert_eq!(status, "failed");
            let reason = reason.as_deref().unwrap_or_default();
            assert!(reason.contains("Error reading binary log"), "{reason}");
            assert!(reason.contains("cutover = false"), "{reason}");
        }
        other => panic!("expected the drain to fail, got: {other}"),
    }
    assert_nothing_switched(&w, &f);
    assert_eq!(f.observed.cutover.drained_at, None);

    // cutover = false rolls it back: the fence is lifted and the forward task resumes from
    // its own checkpoint (nothing was written on the target, so nothing can be replayed).
    let o = ok(w.switch(Failback, &c).await);
    assert_eq!(o.phase, Phase::Replicating);
    assert_eq!(sgs(&w, "orders"), vec!["sg-db".to_owned()]);
    assert_eq!(w.fake.cname(ZONE, RECORD).as_deref(), Some(SOURCE_ADDR));
    assert_eq!(task(&w, FORWARD).status, ReplicationTaskStatus::Running);
    assert_eq!(creates_of(&w, REVERSE), 0);
}

#[tokio::test(start_paused = true)]
async fn a_table_suspended_during_the_drain_aborts_the_cutover_naming_it() {
    let w = replicating().await;
    let c = cut(route53());
    when_fenced(&w, |fake| {
        let mut t = mismatched_table("items");
        t.table_state = TableState::Error;
        fake.set_table_stats(FORWARD, vec![t]);
    });
    let f = failed(w.switch(Cutover, &c).await);
    let msg = f.error.to_string();
    assert!(
        matches!(
            f.error,
            EngineError::Failed {
                step: super::error::Step::DrainReplication,
                ..
            }
        ),
        "{msg}"
    );
    assert!(msg.contains("public.items"), "{msg}");
    assert_nothing_switched(&w, &f);
}

// ---------------------------------------------------------------------------------------------
// The gates
// ---------------------------------------------------------------------------------------------

/// A table DMS suspended (`Table error`).
fn errored_table(name: &str) -> TableStatistics {
    TableStatistics {
        table_state: TableState::Error,
        validation_state: ValidationState::TableError,
        ..mismatched_table(name)
    }
}

#[tokio::test(start_paused = true)]
async fn a_target_lag_under_the_bound_with_a_source_lag_over_it_is_refused() {
    let w = replicating().await;
    // DMS reads the source 30 s late; what it has read is applied at once.
    w.fake.set_cdc_latency(
        FORWARD,
        CdcLatency {
            source_seconds: Some(30.0),
            ..lag(0.0)
        },
    );
    let f = w
        .refused(w.switch_within(Cutover, &cut(route53()), DRAIN_BUDGET))
        .await;
    let msg = refusal(&f);
    assert!(msg.contains("30.0s") && msg.contains("5.0s"), "{msg}");
    assert_eq!(f.observed.phase, Phase::Replicating);
}

#[tokio::test(start_paused = true)]
async fn an_errored_table_is_refused_at_once_naming_it() {
    let w = replicating().await;
    w.fake.set_table_stats(
        FORWARD,
        vec![mismatched_table("orders"), errored_table("items")],
    );
    let mut c = cut(route53());
    c.require_validation = false;
    let f = w.refused(w.switch(Cutover, &c)).await;
    let msg = refusal(&f);
    assert!(msg.contains("1 table in error: public.items"), "{msg}");
    assert!(!msg.contains("public.orders"), "{msg}");
    // Not a lag to wait for: refused on the first look, without a wait reported.
    assert!(
        w.progress()
            .iter()
            .all(|p| p.step != super::error::Step::CheckCutover),
        "{:?}",
        w.progress()
    );
}

#[tokio::test(start_paused = true)]
async fn failback_is_refused_on_an_errored_reverse_table_or_a_reverse_source_lag_over_the_bound() {
    let w = replicating().await;
    let c = cut(route53());
    ok(w.switch(Cutover, &c).await);

    w.fake
        .set_table_stats(REVERSE, vec![errored_table("items")]);
    let f = w.refused(w.switch(Failback, &c)).await;
    let msg = refusal(&f);
    assert!(
        msg.contains(REVERSE) && msg.contains("public.items"),
        "{msg}"
    );
    assert_eq!(f.observed.phase, Phase::CutOver);

    w.fake.set_table_stats(REVERSE, Vec::new());
    w.fake.set_cdc_latency(
        REVERSE,
        CdcLatency {
            source_seconds: Some(40.0),
            ..lag(0.0)
        },
    );
    let f = w.refused(w.switch_within(Failback, &c, DRAIN_BUDGET)).await;
    let msg = refusal(&f);
    assert!(msg.contains("40.0s") && msg.contains("5.0s"), "{msg}");
    assert_eq!(w.fake.cname(ZONE, RECORD).as_deref(), Some(TARGET_ADDR));
}
