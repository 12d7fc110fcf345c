//! Failback (`cutover = true -> false`): the mirror of the cutover. Check the reverse task
//! is caught up, pause writes to the encrypted instance, drain reverse CDC, stop it, switch
//! back, restart forward replication as CDC from the failback drain time (see the loop note
//! in [`super::cutover`]), lift the fences, and return to `replicating`.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::api::*;
use super::core::{Engine, Run, Waiter};
use super::cutover::{
    CutoverSpec, CutoverStrategy, TAG_FAILBACK_DRAINED, TAG_PHASE, cdc_start_position, fence_text,
    stamp, unencrypted_name,
};
use super::error::{EngineError, Step};
use super::observe::{KnownIds, Observed, is_replicating};
use super::reconcile::EngineFailure;
use super::spec::{MigrationSpec, Phase};
use super::waiters::WAIT_TASK_MODIFIED;

fn refused(reasons: Vec<String>) -> EngineError {
    EngineError::Refused {
        attribute: "cutover",
        action: "failback",
        reasons,
    }
}

/// [`describe_failback`](crate::describe_failback) for the DMS strategy.
pub(crate) fn describe_dms_failback(
    spec: &MigrationSpec,
    cut: &CutoverSpec,
    o: &Observed,
) -> Vec<String> {
    let n = spec.names();
    if matches!(o.phase, Phase::Finalizing | Phase::Finalized) {
        return vec![format!(
            "Failback is impossible: the migration is {} and its DMS tasks are gone; {} stays the active instance.",
            o.phase, n.target
        )];
    }
    let lag = o
        .reverse_lag
        .target_seconds
        .map_or_else(|| "unknown".to_owned(), |s| format!("{s:.1}s"));
    let mut out = vec![format!(
        "Failback of {} to the original, unencrypted instance: phase {}, reverse task {} is {}, reverse lag {} (allowed {:.0}s).",
        n.migration,
        o.phase,
        n.reverse_task,
        o.reverse_task
            .as_ref()
            .map_or_else(|| "absent".to_owned(), |t| t.status.to_string()),
        lag,
        cut.max_lag.as_secs_f64()
    )];
    out.push(fence_text(
        &cut.write_fence,
        &format!("the encrypted instance {}", n.target),
    ));
    out.push(format!(
        "Reverse CDC drains to lag 0, the reverse task {} stops, and the switch goes back:",
        n.reverse_task
    ));
    out.push(match &cut.strategy {
        CutoverStrategy::Route53(r) => format!(
            "Route 53: CNAME {} points back at the original instance's address {}.",
            r.record_name,
            o.source
                .as_ref()
                .and_then(|s| s.endpoint.as_ref())
                .map_or("(unknown)", |e| e.address.as_str())
        ),
        CutoverStrategy::IdentifierSwap => format!(
            "Identifier swap in reverse: {} -> {}, then {} -> {}.",
            n.migration,
            n.target,
            unencrypted_name(&n),
            n.migration
        ),
        CutoverStrategy::None => format!(
            "active_endpoint and active_db_instance_identifier return to {}.",
            n.migration
        ),
    });
    out.push(format!(
        "Forward task {} restarts as CDC only from the failback drain time (not its old checkpoint, which would replay the reverse task's writes onto the target); phase returns to replicating and the fences are lifted.",
        n.task
    ));
    out
}

impl Run<'_> {
    pub(crate) async fn failback(
        &self,
        cut: &CutoverSpec,
        known: &KnownIds,
    ) -> Result<(), EngineError> {
        let o = self.observe_for_switch(cut, known).await?;
        match o.phase {
            Phase::Finalizing | Phase::Finalized => {
                return Err(refused(vec![format!(
                    "the migration is {}: the reverse task and the DMS objects are gone, so the original instance is no longer in sync",
                    o.phase
                )]));
            }
            Phase::FailingBack => {}
            Phase::CutOver => {
                Box::pin(self.gate_reverse(cut, known)).await?;
                self.begin_failback(&o).await?;
            }
            Phase::CuttingOver => {
                // Rolling back a half-done cutover is lossless only if the application
                // cannot have written to the target without the reverse task recording it.
                let reverse_runs = o.reverse_task.as_ref().is_some_and(is_replicating);
                if !reverse_runs && self.switched(cut, &o).await? {
                    return Err(refused(vec![
                        "the interrupted cutover already switched the application to the encrypted instance but the reverse task is not running yet; set cutover = true and apply to complete the cutover, then fail back".into(),
                    ]));
                }
                self.begin_failback(&o).await?;
            }
            _ => return Ok(()),
        }
        Box::pin(self.failback_steps(cut, known)).await
    }

    async fn begin_failback(&self, o: &Observed) -> Result<(), EngineError> {
        let target = self.require_target(o)?;
        self.record(
            &target,
            &[
                (TAG_PHASE, Phase::FailingBack.as_str().to_owned()),
                (TAG_FAILBACK_DRAINED, String::new()),
            ],
        )
        .await
    }

    /// True when the application may already be pointed at the target.
    async fn switched(&self, cut: &CutoverSpec, o: &Observed) -> Result<bool, EngineError> {
        Ok(match &cut.strategy {
            CutoverStrategy::None => false,
            CutoverStrategy::IdentifierSwap => o
                .target
                .as_ref()
                .is_some_and(|t| t.identifier == self.names.migration),
            CutoverStrategy::Route53(r) => {
                let target_addr = o
                    .target
                    .as_ref()
                    .and_then(|t| t.endpoint.as_ref())
                    .map(|e| e.address.clone())
                    .unwrap_or_default();
                self.find(Step::CheckCutover, &r.record_name, || {
                    self.aws().describe_cname(&r.zone_id, &r.record_name)
                })
                .await?
                .is_some_and(|c| c.value.eq_ignore_ascii_case(&target_addr))
            }
        })
    }

    async fn gate_reverse(&self, cut: &CutoverSpec, known: &KnownIds) -> Result<(), EngineError> {
        let start = self.now();
        let budget = self.deadline.saturating_duration_since(start) / 2;
        let max = cut.max_lag.as_secs_f64();
        let mut polls = 0u32;
        loop {
            let o = Box::pin(self.observe(known)).await?;
            let Some(rt) = o.reverse_task.as_ref().filter(|t| is_replicating(t)) else {
                return Err(refused(vec![format!(
                    "the reverse task {} is {}, not running CDC",
                    self.names.reverse_task,
                    o.reverse_task
                        .as_ref()
                        .map_or_else(|| "absent".to_owned(), |t| t.status.to_string())
                )]));
            };
            let lag = o.reverse_lag.target_seconds;
            if lag.is_some_and(|l| l <= max) {
                return Ok(());
            }
            let waited = self.now().saturating_duration_since(start);
            if waited >= budget {
                return Err(refused(vec![match lag {
                    Some(l) => format!(
                        "the reverse replication lag is {l:.1}s, above the allowed {max:.1}s (waited {})",
                        humantime::format_duration(Duration::from_secs(waited.as_secs()))
                    ),
                    None => {
                        "the reverse replication lag is unknown (no CDCLatencyTarget datapoint yet)"
                            .into()
                    }
                }]));
            }
            self.emit(
                Phase::CutOver,
                Step::CheckCutover,
                &rt.identifier,
                None,
                &format!("reverse lag {lag:?}"),
            );
            let d = self.e.poll.interval(polls).min(budget - waited);
            polls = polls.saturating_add(1);
            self.sleep(Step::CheckCutover, d).await?;
        }
    }

    async fn failback_steps(&self, cut: &CutoverSpec, known: &KnownIds) -> Result<(), EngineError> {
        let o = Box::pin(self.observe(known)).await?;
        let target = self.require_target(&o)?;
        let source = self.require_source(&o)?;

        // 1. Pause writes to the encrypted instance.
        self.fence(&cut.write_fence, &target, Phase::FailingBack)
            .await?;

        // 2. Drain reverse CDC and stop it. Without a reverse task (a cutover rolled back
        // before the switch), the forward drain point is where forward CDC resumes.
        let restart_at = match &o.reverse_task {
            Some(rt) if rt.status == ReplicationTaskStatus::Running => {
                let at = self.drain(&o, rt, Phase::FailingBack).await?;
                let target = self.require_target(&Box::pin(self.observe(known)).await?)?;
                self.record(&target, &[(TAG_FAILBACK_DRAINED, stamp(at))])
                    .await?;
                self.stop_task(rt, Phase::FailingBack).await?;
                Some(at)
            }
            Some(rt) => {
                self.stop_task(rt, Phase::FailingBack).await?;
                o.cutover.failback_drained_at.or(o.cutover.drained_at)
            }
            None => o.cutover.drained_at,
        };

        // 3. Switch back.
        self.switch(cut, &source, &target, false).await?;

        // 4. Forward CDC from the failback point.
        let o = Box::pin(self.observe(known)).await?;
        self.admit_dms_writes(o.target.as_ref(), Phase::FailingBack)
            .await?;
        if let Some(task) = &o.task
            && task.status != ReplicationTaskStatus::Running
        {
            let at = restart_at.ok_or_else(|| EngineError::Failed {
                step: Step::StartCdc,
                id: task.identifier.clone(),
                status: task.status.to_string(),
                reason: Some(
                    "no drain time is recorded, so forward replication has no safe start point"
                        .into(),
                ),
            })?;
            self.restart_forward(task, &cdc_start_position(at)).await?;
        }

        // 5. Lift the fences and return to replicating.
        let o = Box::pin(self.observe(known)).await?;
        let target = self.require_target(&o)?;
        let source = self.require_source(&o)?;
        self.lift_fence(&target, Phase::FailingBack).await?;
        self.lift_fence(&source, Phase::FailingBack).await?;
        let target = self.require_target(&Box::pin(self.observe(known)).await?)?;
        self.record(
            &target,
            &[(TAG_PHASE, Phase::Replicating.as_str().to_owned())],
        )
        .await?;
        self.emit(
            Phase::Replicating,
            Step::RecordPhase,
            &target.identifier,
            None,
            "replicating",
        );
        Ok(())
    }

    /// Makes the forward task CDC-only (a restart then never reloads, which would truncate
    /// the target) and starts it from `position`.
    async fn restart_forward(
        &self,
        task: &ReplicationTask,
        position: &str,
    ) -> Result<(), EngineError> {
        let aws = self.aws();
        if task.migration_type != MigrationType::Cdc {
            let input = ModifyReplicationTaskInput {
                arn: task.arn.clone(),
                migration_type: Some(MigrationType::Cdc),
                cdc_start_position: Some(position.to_owned()),
                ..Default::default()
            };
            let w = Waiter {
                phase: Phase::FailingBack,
                ..WAIT_TASK_MODIFIED
            };
            self.modify_task(task, &input, &w).await?;
        }
        let which = DmsRef::Arn(task.arn.clone());
        let now = self
            .find(Step::StartCdc, &task.identifier, || {
                aws.describe_replication_task(&which)
            })
            .await?
            .unwrap_or_else(|| task.clone());
        self.start_cdc(&now, position, Phase::FailingBack).await
    }
}

impl Engine {
    /// Credentials changed (`change.source_endpoint` / `change.target_endpoint`, e.g. a
    /// password rotation) while cut over: the reverse endpoints get them too (the reverse
    /// task reads the encrypted instance with the target's credentials and writes the
    /// original with the source's). A running reverse task is stopped first and resumed from
    /// its checkpoint afterwards. No-op without a reverse task or without a credential
    /// change. Call it after [`Engine::update_dms_settings`] when `phase` is past
    /// `replicating`.
    ///
    /// **Errors**: [`EngineFailure`] with what exists.
    pub async fn update_reverse_credentials(
        &self,
        spec: &MigrationSpec,
        change: &super::update::DmsChange,
        known: &KnownIds,
        timeout: Duration,
        cancel: &CancellationToken,
    ) -> Result<Observed, Box<EngineFailure>> {
        let run = self.run(spec, timeout, cancel);
        let result = Box::pin(run.update_reverse_credentials(change, known)).await;
        self.finish(spec, known, result).await
    }
}

impl Run<'_> {
    async fn update_reverse_credentials(
        &self,
        change: &super::update::DmsChange,
        known: &KnownIds,
    ) -> Result<(), EngineError> {
        if !(change.source_endpoint || change.target_endpoint) {
            return Ok(());
        }
        let o = Box::pin(self.observe(known)).await?;
        let Some(rt) = &o.reverse_task else {
            return Ok(());
        };
        let was_running = rt.status == ReplicationTaskStatus::Running;
        if was_running {
            self.stop_task(rt, o.phase).await?;
        }
        let dms = &self.spec.dms;
        let target_creds = dms.target_credentials_or_source();
        let updates = [
            (&o.reverse_source_endpoint, target_creds),
            (&o.reverse_target_endpoint, dms.source_credentials.clone()),
        ];
        for (ep, creds) in updates {
            if let Some(ep) = ep {
                self.set_endpoint_credentials(ep, creds).await?;
            }
        }
        if was_running {
            self.resume_task(Step::StartTask, rt, None).await?;
        }
        Ok(())
    }
}
