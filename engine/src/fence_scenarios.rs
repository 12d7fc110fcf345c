//! Scenario tests of the `read_only` write fence over the fake AWS on tokio's paused clock.

use std::collections::BTreeMap;

use super::api::*;
use super::cutover::{CutoverSpec, CutoverStrategy, RetireSource, SwitchSettings, WriteFence};
use super::cutover_scenarios::{
    RECORD, REVERSE, ZONE, cut, refusal, replicating_from, route53, task,
};
use super::describe_cutover;
use super::error::EngineError;
use super::fake::{Call, Op};
use super::fixtures::Switch::{Cutover, Failback, Finalize};
use super::fixtures::{World, failed, ok};
use super::spec::Phase;

const SOURCE_GROUP: &str = "orders-params";
const TARGET_GROUP: &str = "orders-encrypted-params";
const TAG: &str = "rdsenc:original-read-only";

fn read_only(strategy: super::cutover::CutoverStrategy) -> CutoverSpec {
    CutoverSpec {
        write_fence: WriteFence::ReadOnly,
        ..cut(strategy)
    }
}

/// A replicating migration whose source and target each have their own custom group, the
/// fence parameter of `engine` at `0` in both.
async fn own_groups(w: World, parameter: &str) -> World {
    let w = w.spec(|s| {
        s.delete_target_on_destroy = true;
        s.target.db_parameter_group_name = Some(TARGET_GROUP.into());
    });
    for g in [SOURCE_GROUP, TARGET_GROUP] {
        w.fake
            .set_db_parameters(g, BTreeMap::from([(parameter.to_owned(), "0".to_owned())]));
    }
    replicating_from(w).await
}

async fn parameter(w: &World, group: &str, name: &str) -> Option<String> {
    w.fake
        .describe_db_parameter(group, name)
        .await
        .expect("group exists")
}

fn tag(w: &World, id: &str) -> Option<String> {
    w.fake.instance(id).and_then(|i| i.tags.get(TAG).cloned())
}

/// Index of the first successful call of `op` on `id` (`contains`), after `from`.
fn first(calls: &[Call], from: usize, op: Op, id: &str) -> usize {
    calls
        .iter()
        .enumerate()
        .skip(from)
        .find(|(_, c)| c.op == op && c.id.contains(id) && !c.failed)
        .map(|(i, _)| i)
        .unwrap_or_else(|| panic!("no {op:?} on {id} after call {from}"))
}

#[tokio::test(start_paused = true)]
async fn the_read_only_fence_holds_the_postgres_source_while_cut_over_and_failback_restores_its_value()
 {
    let w = own_groups(World::test(), "default_transaction_read_only").await;
    let c = read_only(route53());
    let name = "default_transaction_read_only";

    let o = ok(w.switch(Cutover, &c).await);
    assert_eq!(o.phase, Phase::CutOver);
    assert_eq!(
        parameter(&w, SOURCE_GROUP, name).await.as_deref(),
        Some("1")
    );
    assert_eq!(
        parameter(&w, TARGET_GROUP, name).await.as_deref(),
        Some("0")
    );
    assert_eq!(tag(&w, "orders").as_deref(), Some("0"));
    // The reverse task writes into the fenced source: its sessions turn the default off.
    assert_eq!(task(&w, REVERSE).status, ReplicationTaskStatus::Running);
    let ep = w
        .fake
        .describe_endpoint(&DmsRef::Id("rdsenc-orders-reverse-target".into()))
        .await
        .expect("reverse target endpoint");
    assert!(
        ep.after_connect_script
            .as_deref()
            .is_some_and(|s| s.contains("default_transaction_read_only=off")),
        "{:?}",
        ep.after_connect_script
    );
    // The fence was in sync before the drain began: no write reached the source after it.
    let calls = w.fake.calls();
    let fenced = first(&calls, 0, Op::ModifyDbParameterGroup, SOURCE_GROUP);
    assert!(fenced < first(&calls, fenced, Op::CdcLatency, ""));

    w.fake.clear_calls();
    let o = ok(w.switch(Failback, &c).await);
    assert_eq!(o.phase, Phase::Replicating);
    assert_eq!(
        w.fake.cname(ZONE, RECORD).as_deref(),
        Some("orders.fake.us-east-1.rds.amazonaws.com")
    );
    // The target was fenced for the failback's pause, then both were restored.
    let calls = w.fake.calls();
    let target_fenced = first(&calls, 0, Op::ModifyDbParameterGroup, TARGET_GROUP);
    assert!(target_fenced < first(&calls, 0, Op::UpsertCname, ""));
    assert_eq!(
        parameter(&w, SOURCE_GROUP, name).await.as_deref(),
        Some("0")
    );
    assert_eq!(
        parameter(&w, TARGET_GROUP, name).await.as_deref(),
        Some("0")
    );
    assert_eq!(tag(&w, "orders").as_deref(), Some(""));
    assert_eq!(tag(&w, "orders-encrypted").as_deref(), Some(""));
}

#[tokio::test(start_paused = true)]
async fn a_mysql_source_stays_read_only_through_the_switch_and_the_reverse_task_is_held_until_the_fence_is_lifted()
 {
    let w = own_groups(World::test().mysql(), "read_only").await;
    // RDS's engine default in a custom group is a formula; tag values cannot hold braces.
    w.fake.set_db_parameters(
        SOURCE_GROUP,
        BTreeMap::from([("read_only".to_owned(), "{TrueIfReplica}".to_owned())]),
    );
    let c = read_only(route53());

    let o = ok(w.switch(Cutover, &c).await);
    assert_eq!(o.phase, Phase::CutOver);
    let calls = w.fake.calls();
    let fenced = first(&calls, 0, Op::ModifyDbParameterGroup, SOURCE_GROUP);
    let switched = first(&calls, fenced, Op::UpsertCname, "");
    // The reverse task fixes its position before the switch, then is held (stopped) until
    // the fence is lifted: no RDS user writes past read_only, DMS included.
    let reverse = first(&calls, 0, Op::CreateReplicationTask, REVERSE);
    let held = first(&calls, reverse, Op::StopReplicationTask, "");
    let lifted = first(&calls, fenced + 1, Op::ModifyDbParameterGroup, SOURCE_GROUP);
    let resumed = first(
        &calls,
        lifted,
        Op::StartReplicationTask,
        "resume-processing",
    );
    assert!(
        fenced < reverse
            && reverse < held
            && held < switched
            && switched < lifted
            && lifted < resumed,
        "{calls:?}"
    );
    // Restored as the plain value the formula means on a primary.
    assert_eq!(
        parameter(&w, SOURCE_GROUP, "read_only").await.as_deref(),
        Some("0")
    );
    assert_eq!(tag(&w, "orders").as_deref(), Some(""));
    assert_eq!(
        parameter(&w, TARGET_GROUP, "read_only").await.as_deref(),
        Some("0")
    );
}

#[tokio::test(start_paused = true)]
async fn the_read_only_fence_is_refused_before_anything_changes_when_source_and_target_share_a_parameter_group()
 {
    // The target configured with the source's own group (or restored with it before rdsenc
    // gave the target a group of its own).
    let w = replicating_from(World::test().spec(|s| {
        s.target.db_parameter_group_name = Some(SOURCE_GROUP.into());
    }))
    .await;
    let o = w.observe().await;
    let plan = describe_cutover(&w.spec, &read_only(route53()), &o).join("\n");
    assert!(
        plan.contains("Apply will refuse") && plan.contains(SOURCE_GROUP),
        "{plan}"
    );
    let f = w.refused(w.switch(Cutover, &read_only(route53()))).await;
    let text = refusal(&f);
    assert!(
        text.contains(SOURCE_GROUP) && text.contains("orders-encrypted") && text.contains("orders"),
        "{text}"
    );
}

#[tokio::test(start_paused = true)]
async fn create_gives_the_target_its_own_tagged_copy_of_the_source_group_once_and_keeps_a_configured_one()
 {
    let mut values = BTreeMap::from([("read_only".to_owned(), "0".to_owned())]);
    values.insert("binlog_format".into(), "ROW".into());
    let w = World::test().mysql();
    w.fake.set_db_parameters(SOURCE_GROUP, values.clone());
    let w = replicating_from(w).await;
    let copy = "rdsenc-orders-encrypted";
    let target = w.fake.instance("orders-encrypted").expect("target");
    assert_eq!(target.db_parameter_group_name.as_deref(), Some(copy));
    assert_eq!(
        parameter(&w, copy, "binlog_format").await.as_deref(),
        Some("ROW")
    );
    let tags = w.fake.parameter_group_tags(copy).expect("copied");
    assert_eq!(
        tags.get("rdsenc:role").map(String::as_str),
        Some("target-parameter-group")
    );
    assert_eq!(
        tags.get("rdsenc:migration").map(String::as_str),
        Some("orders")
    );
    // A re-run finds the copy and makes no second one.
    ok(w.reconcile().await);
    assert_eq!(w.fake.count(Op::CopyDbParameterGroup), 1);

    // A configured target group wins: nothing is copied.
    let w = own_groups(World::test(), "default_transaction_read_only").await;
    assert_eq!(w.fake.count(Op::CopyDbParameterGroup), 0);
    let target = w.fake.instance("orders-encrypted").expect("target");
    assert_eq!(
        target.db_parameter_group_name.as_deref(),
        Some(TARGET_GROUP)
    );
}

#[tokio::test(start_paused = true)]
async fn a_fence_that_would_wait_for_a_reboot_stops_the_cutover_before_the_switch() {
    let w = own_groups(World::test(), "default_transaction_read_only").await;
    w.fake
        .set_parameter_apply_status("orders", "pending-reboot");
    let f = failed(w.switch(Cutover, &read_only(route53())).await);
    match &f.error {
        EngineError::Failed { status, reason, .. } => {
            assert_eq!(status, "pending-reboot");
            assert!(
                reason.as_deref().is_some_and(|r| r.contains("reboot")),
                "{reason:?}"
            );
        }
        other => panic!("expected the fence to fail, got {other}"),
    }
    assert_eq!(
        w.fake.cname(ZONE, RECORD).as_deref(),
        Some("orders.fake.us-east-1.rds.amazonaws.com")
    );
    assert_eq!(w.fake.count(Op::UpsertCname), 0);
}

#[tokio::test(start_paused = true)]
async fn finalize_leaves_the_retired_source_read_only_for_keep_and_stop() {
    for (engine, name, retire) in [
        (
            DbEngine::Postgres,
            "default_transaction_read_only",
            RetireSource::Keep,
        ),
        (DbEngine::Mysql, "read_only", RetireSource::Stop),
    ] {
        let w = own_groups(World::test().engine(engine.clone()), name).await;
        let c = CutoverSpec {
            retire_source: retire,
            ..read_only(route53())
        };
        ok(w.switch(Cutover, &c).await);
        let o = ok(w.switch(Finalize, &c).await);
        assert_eq!(o.phase, Phase::Finalized);
        assert_eq!(
            parameter(&w, SOURCE_GROUP, name).await.as_deref(),
            Some("1"),
            "{engine:?}"
        );
        // The value to restore stays recorded, should someone reuse the instance.
        assert_eq!(tag(&w, "orders").as_deref(), Some("0"), "{engine:?}");
        assert_eq!(
            parameter(&w, TARGET_GROUP, name).await.as_deref(),
            Some("0")
        );
    }
}

#[tokio::test(start_paused = true)]
async fn a_cutover_records_its_switch_settings_on_the_target_for_import_to_read_back() {
    let w = own_groups(World::test(), "default_transaction_read_only").await;
    assert_eq!(w.observe().await.cutover.settings, None);
    let c = read_only(route53());
    ok(w.switch(Cutover, &c).await);
    let settings = w.observe().await.cutover.settings.expect("recorded");
    assert_eq!(settings.strategy, c.strategy);
    assert_eq!(settings.write_fence, WriteFence::ReadOnly);

    // Security groups and the identifier swap round-trip too.
    let tags = [
        ("rdsenc:cutover-strategy", "identifier_swap"),
        ("rdsenc:route53", ""),
        ("rdsenc:write-fence", "security_groups"),
        ("rdsenc:fence-security-groups", "sg-1 sg-2"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let s = SwitchSettings::from_tags(&tags).expect("readable");
    assert_eq!(s.strategy, CutoverStrategy::IdentifierSwap);
    assert_eq!(
        s.write_fence,
        WriteFence::SecurityGroups(vec!["sg-1".into(), "sg-2".into()])
    );
}

#[tokio::test(start_paused = true)]
async fn the_read_only_fence_is_refused_when_any_other_instance_shares_the_source_group() {
    let w = own_groups(World::test(), "default_transaction_read_only").await;
    // A read replica made outside rdsenc keeps its source's group (RDS's default for one).
    let mut replica = super::fixtures::source_instance(DbEngine::Postgres);
    replica.identifier = "orders-reports".into();
    w.fake.add_instance(replica);
    let f = w.refused(w.switch(Cutover, &read_only(route53()))).await;
    let text = refusal(&f);
    assert!(
        text.contains(SOURCE_GROUP) && text.contains("orders-reports"),
        "{text}"
    );
}

/// Virtual time of the first successful call of `op` on `id` after call `from`.
fn at(calls: &[Call], from: usize, op: Op, id: &str) -> std::time::Duration {
    calls[first(calls, from, op, id)].at
}

#[tokio::test(start_paused = true)]
async fn the_mysql_fence_is_lifted_for_dms_no_earlier_than_the_switch_plus_the_fence_hold_in_both_directions()
 {
    let w = own_groups(World::test().mysql(), "read_only").await;
    let hold = std::time::Duration::from_secs(900);
    let c = CutoverSpec {
        fence_hold: hold,
        ..read_only(route53())
    };
    let plan = describe_cutover(&w.spec, &c, &w.observe().await).join("\n");
    assert!(plan.contains("fence_hold_seconds = 900s"), "{plan}");

    // The group fenced, the CNAME moved, then the same group restored.
    for (op, group) in [(Cutover, SOURCE_GROUP), (Failback, TARGET_GROUP)] {
        w.fake.clear_calls();
        ok(w.switch(op, &c).await);
        let calls = w.fake.calls();
        let fenced = first(&calls, 0, Op::ModifyDbParameterGroup, group);
        let switched = at(&calls, fenced, Op::UpsertCname, "");
        let lifted = at(&calls, fenced + 1, Op::ModifyDbParameterGroup, group);
        assert!(
            lifted >= switched + hold,
            "{group}: {switched:?} + {hold:?} > {lifted:?}"
        );
    }
    for (id, group) in [("orders", SOURCE_GROUP), ("orders-encrypted", TARGET_GROUP)] {
        let value = parameter(&w, group, "read_only").await;
        assert_eq!(
            (tag(&w, id).as_deref(), value.as_deref()),
            (Some(""), Some("0"))
        );
    }
}

#[tokio::test(start_paused = true)]
async fn a_re_run_after_a_kill_mid_hold_waits_out_only_the_rest_of_the_hold_before_lifting_the_fence()
 {
    let w = own_groups(World::test().mysql(), "read_only").await;
    // Far longer than the cutover's own steps, so the kill lands inside the hold.
    let hold = std::time::Duration::from_secs(6 * 3600);
    let c = CutoverSpec {
        fence_hold: hold,
        ..read_only(route53())
    };
    let killed = w.with_cancel(tokio_util::sync::CancellationToken::new());
    let timer = killed.cancel_after(std::time::Duration::from_secs(3 * 3600));
    let f = failed(killed.switch(Cutover, &c).await);
    timer.await.expect("timer");
    assert!(
        matches!(f.error, EngineError::Cancelled { .. }),
        "{:?}",
        f.error
    );
    let calls = w.fake.calls();
    let fenced = first(&calls, 0, Op::ModifyDbParameterGroup, SOURCE_GROUP);
    let switched = at(&calls, fenced, Op::UpsertCname, "");
    // Killed mid-hold: still read-only, the hold's end recorded on the source.
    assert_eq!(
        parameter(&w, SOURCE_GROUP, "read_only").await.as_deref(),
        Some("1")
    );
    let until = w
        .fake
        .instance("orders")
        .and_then(|i| i.tags.get("rdsenc:fence-held-until").cloned())
        .unwrap_or_default();
    assert!(!until.is_empty());
    assert_eq!(task(&w, REVERSE).status, ReplicationTaskStatus::Stopped);

    let rerun = calls.len();
    let rerun_at = calls.last().map(|c| c.at).unwrap_or_default();
    ok(w.switch(Cutover, &c).await);
    let calls = w.fake.calls();
    // The re-run sets the fence again (in place already), then lifts it.
    let refenced = first(&calls, rerun, Op::ModifyDbParameterGroup, SOURCE_GROUP);
    let lifted = at(
        &calls,
        refenced + 1,
        Op::ModifyDbParameterGroup,
        SOURCE_GROUP,
    );
    assert!(
        lifted >= switched + hold,
        "{switched:?} + {hold:?} > {lifted:?}"
    );
    // The rest of the hold, not a new one from the re-run.
    assert!(
        lifted < rerun_at + hold,
        "{rerun_at:?} + {hold:?} <= {lifted:?}"
    );
    assert_eq!(task(&w, REVERSE).status, ReplicationTaskStatus::Running);
    assert_eq!(tag(&w, "orders").as_deref(), Some(""));
}
