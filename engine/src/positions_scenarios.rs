//! Scenario tests of where each direction's CDC starts (issue 17): at the database's own log
//! position, fixed while nothing writes there, never at a time read from the runner's
//! clock; and of the invariant that replication never runs both ways at once.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::api::*;
use super::clock::{Clock, PollPolicy, VirtualClock};
use super::core::Engine;
use super::cutover::CutoverStrategy;
use super::cutover_scenarios::{
    FORWARD, HOURS, RECORD, REVERSE, SOURCE_ADDR, TARGET_ADDR, ZONE, creates_of, cut, interrupted,
    refusal, replicating, route53, task,
};
use super::error::{EngineError, Step};
use super::fake::Op;
use super::fixtures::Switch::{Cutover, Failback};
use super::fixtures::{World, ok};
use super::observe::KnownIds;
use super::spec::Phase;
use super::update::DmsChange;

fn active(s: &ReplicationTaskStatus) -> bool {
    matches!(
        s,
        ReplicationTaskStatus::Running
            | ReplicationTaskStatus::Starting
            | ReplicationTaskStatus::Stopping
    )
}

/// Samples both tasks every virtual second; the flag is set once both directions were
/// active (running, starting or stopping) at the same moment.
fn watch_both_ways(w: &World) -> Arc<AtomicBool> {
    let seen = Arc::new(AtomicBool::new(false));
    let flag = seen.clone();
    let fake = w.fake.clone();
    tokio::spawn(async move {
        loop {
            let tasks = fake.tasks();
            let on = |id: &str| {
                tasks
                    .iter()
                    .any(|t| t.identifier == id && active(&t.status))
            };
            if on(FORWARD) && on(REVERSE) {
                flag.store(true, Ordering::SeqCst);
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
    seen
}

/// Successful StartReplicationTask calls of `kind` (`start-replication`, ...) for `arn`.
fn starts(w: &World, kind: &str, arn: &str) -> usize {
    let id = format!("{kind} {arn}");
    w.fake
        .calls()
        .iter()
        .filter(|c| c.op == Op::StartReplicationTask && !c.failed && c.id == id)
        .count()
}

/// When the first successful call of `op` on `id` was made.
fn first_at(w: &World, op: Op, id: &str) -> Duration {
    w.fake
        .calls()
        .iter()
        .find(|c| c.op == op && c.id == id && !c.failed)
        .map(|c| c.at)
        .unwrap_or_else(|| panic!("no {op:?} on {id}"))
}

/// A clock whose wall time is `skew` ahead of (or behind) the fake AWS's.
struct Skewed {
    inner: VirtualClock,
    ahead: bool,
    skew: Duration,
}

#[async_trait]
impl Clock for Skewed {
    fn now(&self) -> Instant {
        self.inner.now()
    }
    fn wall_time(&self) -> SystemTime {
        if self.ahead {
            self.inner.wall_time() + self.skew
        } else {
            self.inner.wall_time() - self.skew
        }
    }
    async fn sleep(&self, d: Duration) {
        self.inner.sleep(d).await;
    }
}

#[tokio::test(start_paused = true)]
async fn the_reverse_task_starts_at_the_target_s_log_position_not_the_runner_s_clock() {
    let w = replicating().await;
    let both = watch_both_ways(&w);
    let forward = task(&w, FORWARD);
    let o = ok(w.switch(Cutover, &cut(route53())).await);
    assert_eq!(o.phase, Phase::CutOver);
    let rev = task(&w, REVERSE);
    assert_eq!(rev.status, ReplicationTaskStatus::Running);
    assert_eq!(rev.migration_type, MigrationType::Cdc);
    // No CdcStartPosition anywhere: DMS starts at the current end of the target's log.
    assert_eq!(rev.cdc_start_position, None);
    assert_eq!(starts(&w, "start-replication", &rev.arn), 1);
    assert_eq!(w.fake.count(Op::ModifyReplicationTask), 0);
    // Forward stopped, then the reverse started, then the switch: nothing writes to the
    // target between the first and the last.
    let stopped = first_at(&w, Op::StopReplicationTask, &forward.arn);
    let started = first_at(
        &w,
        Op::StartReplicationTask,
        &format!("start-replication {}", rev.arn),
    );
    let switched = first_at(&w, Op::UpsertCname, &format!("{RECORD} {TARGET_ADDR}"));
    assert!(
        stopped < started && started < switched,
        "{stopped:?} {started:?} {switched:?}"
    );
    assert!(!both.load(Ordering::SeqCst), "both directions ran at once");
}

#[tokio::test(start_paused = true)]
async fn with_an_identifier_swap_the_reverse_position_is_fixed_before_the_renames_and_held_across_them()
 {
    let w = replicating().await;
    let both = watch_both_ways(&w);
    let o = ok(w
        .switch(Cutover, &cut(CutoverStrategy::IdentifierSwap))
        .await);
    assert_eq!(o.phase, Phase::CutOver);
    let rev = task(&w, REVERSE);
    assert_eq!(rev.status, ReplicationTaskStatus::Running);
    assert_eq!(rev.cdc_start_position, None);
    let started = first_at(
        &w,
        Op::StartReplicationTask,
        &format!("start-replication {}", rev.arn),
    );
    let held = first_at(&w, Op::StopReplicationTask, &rev.arn);
    // The second rename: the encrypted instance takes the application's name (the
    // first ModifyDbInstance on it since the create path configured it).
    let renamed = w
        .fake
        .calls()
        .iter()
        .find(|c| c.op == Op::ModifyDbInstance && c.id == "orders-encrypted" && c.at > started)
        .map(|c| c.at)
        .expect("second rename");
    let resumed = first_at(
        &w,
        Op::StartReplicationTask,
        &format!("resume-processing {}", rev.arn),
    );
    assert!(
        started < held && held < renamed && renamed < resumed,
        "{started:?} {held:?} {renamed:?} {resumed:?}"
    );
    assert_eq!(starts(&w, "start-replication", &rev.arn), 1);
    // Resumed after the endpoints followed the names.
    assert_eq!(
        o.reverse_source_endpoint
            .as_ref()
            .and_then(|e| e.server_name.as_deref()),
        Some(SOURCE_ADDR)
    );
    assert!(!both.load(Ordering::SeqCst), "both directions ran at once");
}

#[tokio::test(start_paused = true)]
async fn a_provider_clock_90_s_fast_or_slow_changes_no_start_position() {
    for ahead in [true, false] {
        let mut w = replicating().await;
        let clock = Skewed {
            inner: VirtualClock::default(),
            ahead,
            skew: Duration::from_secs(90),
        };
        let poll = PollPolicy {
            jitter: 0.0,
            ..PollPolicy::production()
        };
        w.engine = Engine::new(Arc::new(w.fake.clone()), Arc::new(clock), poll);
        let c = cut(route53());
        assert_eq!(ok(w.switch(Cutover, &c).await).phase, Phase::CutOver);
        assert_eq!(ok(w.switch(Failback, &c).await).phase, Phase::Replicating);
        for t in w.fake.tasks() {
            assert_eq!(
                t.cdc_start_position, None,
                "{} (ahead {ahead})",
                t.identifier
            );
        }
        // No position was set on a task either (the old failback modified one in).
        assert_eq!(w.fake.count(Op::ModifyReplicationTask), 0);
        assert_eq!(task(&w, FORWARD).status, ReplicationTaskStatus::Running);
    }
}

#[tokio::test(start_paused = true)]
async fn failback_never_resumes_the_forward_task_from_a_checkpoint_taken_before_the_cutover() {
    for strategy in [route53(), CutoverStrategy::IdentifierSwap] {
        let w = replicating().await;
        let both = watch_both_ways(&w);
        let c = cut(strategy.clone());
        let old = task(&w, FORWARD);
        ok(w.switch(Cutover, &c).await);
        w.fake.clear_calls();
        let o = ok(w.switch(Failback, &c).await);
        assert_eq!(o.phase, Phase::Replicating);
        let new = task(&w, FORWARD);
        assert_ne!(
            new.arn, old.arn,
            "{strategy:?}: a forward task that never ran"
        );
        assert_eq!(starts(&w, "resume-processing", &old.arn), 0);
        assert_eq!(starts(&w, "start-replication", &new.arn), 1);
        assert_eq!(new.status, ReplicationTaskStatus::Running);
        assert_eq!(new.migration_type, MigrationType::Cdc);
        assert_eq!(new.cdc_start_position, None);
        assert_eq!(task(&w, REVERSE).status, ReplicationTaskStatus::Stopped);
        if matches!(strategy, CutoverStrategy::IdentifierSwap) {
            // Held in its checkpoint across the renames back, then resumed once.
            assert_eq!(starts(&w, "resume-processing", &new.arn), 1);
        }
        // The forward endpoints read the original and write the encrypted instance.
        assert_eq!(
            o.source_endpoint
                .as_ref()
                .and_then(|e| e.server_name.as_deref()),
            Some(SOURCE_ADDR)
        );
        assert_eq!(
            o.target_endpoint
                .as_ref()
                .and_then(|e| e.server_name.as_deref()),
            Some(TARGET_ADDR)
        );
        assert!(
            !both.load(Ordering::SeqCst),
            "{strategy:?}: both ways at once"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn a_failback_interrupted_after_creating_the_new_forward_task_continues_that_one() {
    for strategy in [route53(), CutoverStrategy::IdentifierSwap] {
        let w = replicating().await;
        let c = cut(strategy.clone());
        ok(w.switch(Cutover, &c).await);
        let f = interrupted(&w, Failback, &c, |p| creates_of(p, FORWARD) == 2).await;
        assert_eq!(f.observed.phase, Phase::FailingBack);
        let o = ok(w.switch(Failback, &c).await);
        assert_eq!(o.phase, Phase::Replicating);
        assert_eq!(
            creates_of(&w, FORWARD),
            2,
            "{strategy:?}: no third forward task"
        );
        let fwd = task(&w, FORWARD);
        assert_eq!(fwd.status, ReplicationTaskStatus::Running);
        assert_eq!(starts(&w, "start-replication", &fwd.arn), 1, "{strategy:?}");
        assert_eq!(fwd.cdc_start_position, None);
    }
}

#[tokio::test(start_paused = true)]
async fn a_re_run_after_a_kill_before_the_switch_drains_again() {
    let w = replicating().await;
    let both = watch_both_ways(&w);
    let c = cut(route53());
    let forward = task(&w, FORWARD);
    let f = interrupted(&w, Cutover, &c, |p| {
        task(p, FORWARD).status == ReplicationTaskStatus::Stopped
    })
    .await;
    let first = f.observed.cutover.drained_at.expect("first drain recorded");
    assert_eq!(w.fake.cname(ZONE, RECORD).as_deref(), Some(SOURCE_ADDR));
    tokio::time::sleep(Duration::from_secs(600)).await;

    let o = ok(w.switch(Cutover, &c).await);
    assert_eq!(o.phase, Phase::CutOver);
    let again = o.cutover.drained_at.expect("second drain recorded");
    assert!(again > first, "{again:?} vs {first:?}");
    // The forward task resumed in its own direction to prove the drain again.
    assert_eq!(starts(&w, "resume-processing", &forward.arn), 1);
    assert_eq!(task(&w, FORWARD).status, ReplicationTaskStatus::Stopped);
    let rev = task(&w, REVERSE);
    assert_eq!(rev.status, ReplicationTaskStatus::Running);
    assert_eq!(rev.cdc_start_position, None);
    assert_eq!(w.fake.cname(ZONE, RECORD).as_deref(), Some(TARGET_ADDR));
    assert!(!both.load(Ordering::SeqCst), "both directions ran at once");
}

#[tokio::test(start_paused = true)]
async fn a_failback_that_finds_the_reverse_task_stopped_without_its_drain_refuses_and_changes_nothing()
 {
    let w = replicating().await;
    let c = cut(route53());
    ok(w.switch(Cutover, &c).await);
    // Interrupted while draining the reverse task, after the target was fenced.
    let f = interrupted(&w, Failback, &c, |p| {
        p.fake
            .instance("orders-encrypted")
            .is_some_and(|i| i.vpc_security_group_ids == vec!["sg-fence".to_owned()])
    })
    .await;
    assert_eq!(f.observed.phase, Phase::FailingBack);
    assert_eq!(f.observed.cutover.failback_drained_at, None);
    // Stopped by hand before the re-run.
    w.fake
        .force_task_status(REVERSE, ReplicationTaskStatus::Stopped);
    w.fake.clear_calls();
    let f = w.refused(w.switch(Failback, &c)).await;
    let msg = refusal(&f);
    assert!(msg.contains("recorded no drain"), "{msg}");
    assert!(w.fake.mutations().is_empty(), "{:?}", w.fake.mutations());
    assert_eq!(w.fake.cname(ZONE, RECORD).as_deref(), Some(TARGET_ADDR));
}

#[tokio::test(start_paused = true)]
async fn starting_the_forward_task_while_the_reverse_runs_is_refused() {
    let w = replicating().await;
    let c = cut(route53());
    ok(w.switch(Cutover, &c).await);
    let run = w.engine.run(&w.spec, HOURS, &w.cancel);
    let forward = task(&w, FORWARD);
    w.fake.clear_calls();
    let err = run
        .resume_task(Step::StartTask, &forward, None)
        .await
        .expect_err("refused");
    assert!(
        matches!(&err, EngineError::BothDirections { running, .. } if running == REVERSE),
        "{err}"
    );
    assert_eq!(w.fake.count(Op::StartReplicationTask), 0);

    // And the reverse task while the forward one runs.
    ok(w.switch(Failback, &c).await);
    let reverse = task(&w, REVERSE);
    w.fake.clear_calls();
    let err = run
        .resume_task(Step::StartCdc, &reverse, None)
        .await
        .expect_err("refused");
    assert!(
        matches!(&err, EngineError::BothDirections { running, .. } if running == FORWARD),
        "{err}"
    );
    assert_eq!(w.fake.count(Op::StartReplicationTask), 0);
}

#[tokio::test(start_paused = true)]
async fn a_credential_change_while_cut_over_leaves_a_failed_forward_task_stopped() {
    let w = replicating().await;
    ok(w.switch(Cutover, &cut(route53())).await);
    w.fake
        .force_task_status(FORWARD, ReplicationTaskStatus::Failed);
    let forward = task(&w, FORWARD);
    w.fake.clear_calls();
    let change = DmsChange {
        source_endpoint: true,
        ..Default::default()
    };
    let o = ok(w
        .engine
        .update_dms_settings(
            &w.spec,
            &KnownIds::default(),
            &change,
            HOURS,
            &CancellationToken::new(),
        )
        .await);
    assert_eq!(o.phase, Phase::CutOver);
    assert_eq!(starts(&w, "resume-processing", &forward.arn), 0);
    assert_eq!(task(&w, FORWARD).status, ReplicationTaskStatus::Failed);
    assert_eq!(task(&w, REVERSE).status, ReplicationTaskStatus::Running);
}
