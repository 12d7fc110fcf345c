//! Failback (`cutover = true -> false`): the mirror of the cutover. Check the reverse task
//! is caught up, pause writes to the encrypted instance, drain reverse CDC, stop it, start
//! forward replication afresh as CDC at the source's current log position, switch back (see
//! "Why forward and reverse CDC never loop" in [`super::cutover`]), lift the fences, and
//! return to `replicating`.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::api::*;
use super::checks::larger_lag;
use super::core::{Engine, Run, Waiter};
use super::cutover::{
    CutoverSpec, CutoverStrategy, TAG_FAILBACK_DRAINED, TAG_FORWARD_FRESH, TAG_PHASE,
    dms_writes_need_lift, fence_text, hold_text, lag_text, stamp, unencrypted_name,
};
use super::error::{EngineError, Step};
use super::names::Role;
use super::observe::{KnownIds, Observed, is_replicating};
use super::reconcile::EngineFailure;
use super::spec::{MigrationSpec, Phase};
use super::waiters::WAIT_TASK_RESUMED;

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
    let lag = lag_text(&o.reverse_lag);
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
    out.extend(hold_text(
        cut,
        o.target.as_ref(),
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
        "Forward task {} is created afresh and starts as CDC only at the original instance's current log position, before the switch back (never resumed from its old checkpoint, which would replay the reverse task's writes onto the target); phase returns to replicating and the fences are lifted.",
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
            Phase::FailingBack => self.check_reverse_drained(cut, &o).await?,
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
                (TAG_FORWARD_FRESH, String::new()),
            ],
        )
        .await
    }

    /// True when the application may already be pointed at the target.
    pub(crate) async fn switched(
        &self,
        cut: &CutoverSpec,
        o: &Observed,
    ) -> Result<bool, EngineError> {
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
            // Errors stop, not wait: a suspended table's changes never reach the original.
            if let Some(tables) = self.table_errors(rt).await {
                return Err(refused(vec![format!(
                    "the reverse task {} has {tables}; DMS no longer applies their changes to the original instance",
                    rt.identifier
                )]));
            }
            let lag = larger_lag(&o.reverse_lag);
            if lag.is_some_and(|l| l <= max) {
                return Ok(());
            }
            let waited = self.now().saturating_duration_since(start);
            if waited >= budget {
                return Err(refused(vec![match lag {
                    Some(l) => format!(
                        "the reverse replication lag (the larger of CDCLatencySource and CDCLatencyTarget) is {l:.1}s, above the allowed {max:.1}s (waited {})",
                        humantime::format_duration(Duration::from_secs(waited.as_secs()))
                    ),
                    None => {
                        "the reverse replication lag is unknown (no CDCLatencySource and CDCLatencyTarget datapoints yet)"
                            .into()
                    }
                }]));
            }
            self.emit(
                Phase::CutOver,
                Step::CheckCutover,
                &rt.identifier,
                None,
                &format!("reverse lag {}", lag_text(&o.reverse_lag)),
            );
            let d = self.e.poll.interval(polls).min(budget - waited);
            polls = polls.saturating_add(1);
            self.sleep(Step::CheckCutover, d).await?;
        }
    }

    /// A re-run of an interrupted failback continues only from what that failback proved:
    /// a reverse task that is not running and whose drain this failback did not record
    /// (it failed or was stopped by hand) may not have carried every write back, so the
    /// failback refuses, changing nothing, instead of guessing a point to restart from.
    async fn check_reverse_drained(
        &self,
        cut: &CutoverSpec,
        o: &Observed,
    ) -> Result<(), EngineError> {
        if o.cutover.failback_drained_at.is_some() || !self.switch_began(cut, o).await? {
            return Ok(());
        }
        match &o.reverse_task {
            Some(rt) if rt.status == ReplicationTaskStatus::Running => Ok(()),
            rt => Err(refused(vec![format!(
                "the reverse task {} is {} and this failback recorded no drain of it, so writes made on the encrypted instance may not have reached the original; set cutover = true and apply (the reverse task resumes from its checkpoint), then fail back",
                self.names.reverse_task,
                rt.as_ref()
                    .map_or_else(|| "absent".to_owned(), |t| t.status.to_string())
            )])),
        }
    }

    /// True once the application may have written to the target: the switch was
    /// recorded, or the CNAME or the name `<source>` points there (a swap after only its
    /// first rename does not: the target is not reachable under the application's name).
    async fn switch_began(&self, cut: &CutoverSpec, o: &Observed) -> Result<bool, EngineError> {
        Ok(o.cutover.switched_at.is_some() || self.switched(cut, o).await?)
    }

    async fn failback_steps(&self, cut: &CutoverSpec, known: &KnownIds) -> Result<(), EngineError> {
        let o = Box::pin(self.observe(known)).await?;
        let target = self.require_target(&o)?;

        // 1. Pause writes to the encrypted instance.
        self.fence(&cut.write_fence, &target, Phase::FailingBack)
            .await?;
        let fenced_at = self.e.clock.wall_time();

        // 2. Drain reverse CDC and stop it (waiting until it stopped).
        let began = self.switch_began(cut, &o).await?;
        if let Some(rt) = &o.reverse_task {
            if rt.status == ReplicationTaskStatus::Running && began {
                let at = self.drain(&o, rt, Phase::FailingBack, fenced_at).await?;
                let target = self.require_target(&Box::pin(self.observe(known)).await?)?;
                self.record(&target, &[(TAG_FAILBACK_DRAINED, stamp(at))])
                    .await?;
            }
            self.stop_task(rt, Phase::FailingBack).await?;
        }

        // 3. Forward CDC again, and the switch back.
        if began {
            Box::pin(self.restart_forward(cut, known)).await?;
        } else {
            // A cutover rolled back before its switch: nothing reached the target but the
            // forward task's own changes, so it continues from its checkpoint.
            let o = Box::pin(self.observe(known)).await?;
            let source = self.require_source(&o)?;
            self.switch(cut, &source, &target, false).await?;
            if let Some(task) = &o.task
                && task.status != ReplicationTaskStatus::Running
            {
                self.stop_task(task, Phase::FailingBack).await?;
                let w = Waiter {
                    phase: Phase::FailingBack,
                    ..WAIT_TASK_RESUMED
                };
                self.resume_task(Step::StartTask, task, Some(&w)).await?;
            }
        }

        // 4. Lift the fences and return to replicating.
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

    /// Forward CDC after a cutover that switched: a forward task created afresh, CDC-only
    /// (a restart never reloads, which would truncate the target), started with
    /// `start-replication` and no position while both instances are fenced and the reverse
    /// task has stopped, so it reads the source's log from its current end (PostgreSQL: a
    /// new slot DMS creates at the start, not the old one, whose unconfirmed changes
    /// include every write the reverse task made on the source and would be replayed onto
    /// the target). Then the switch back. With an identifier swap the forward endpoints
    /// first follow the swapped addresses, the task is stopped once running (its
    /// checkpoint holds the position), the names swap back, the endpoints follow again and
    /// it resumes from that checkpoint in the same direction.
    async fn restart_forward(
        &self,
        cut: &CutoverSpec,
        known: &KnownIds,
    ) -> Result<(), EngineError> {
        let o = Box::pin(self.observe(known)).await?;
        let source = self.require_source(&o)?;
        let target = self.require_target(&o)?;
        let old = o.task.clone();
        let ours = old
            .as_ref()
            .is_some_and(|t| target.tags.get(TAG_FORWARD_FRESH) == Some(&t.arn));
        let never_ran = old.as_ref().is_some_and(|t| {
            matches!(
                t.status,
                ReplicationTaskStatus::Creating | ReplicationTaskStatus::Ready
            )
        });
        let swap = matches!(cut.strategy, CutoverStrategy::IdentifierSwap);
        let swapped_back = swap && !o.identifiers_swapped;
        if !ours || never_ran {
            let (src, tgt) = self.forward_endpoints(&o).await?;
            let ri = o.replication_instance.clone().ok_or_else(|| {
                EngineError::deleted(
                    Step::StartCdc,
                    self.names.replication_instance.clone(),
                    None,
                )
            })?;
            let input = CreateReplicationTaskInput {
                identifier: self.names.task.clone(),
                replication_instance_arn: ri.arn.clone(),
                source_endpoint_arn: src.arn.clone(),
                target_endpoint_arn: tgt.arn.clone(),
                migration_type: MigrationType::Cdc,
                table_mappings: self.table_mappings(&source),
                task_settings: self.cdc_task_settings(),
                cdc_start_position: None,
                tags: self.names.tags(Role::ReplicationTask),
            };
            // A forward task this failback did not create never continues, even if
            // something started it by hand: it is stopped and replaced.
            let old = match old.as_ref().filter(|t| {
                !ours
                    && matches!(
                        t.status,
                        ReplicationTaskStatus::Running
                            | ReplicationTaskStatus::Starting
                            | ReplicationTaskStatus::Stopping
                    )
            }) {
                Some(t) => {
                    self.stop_settled(t, Phase::FailingBack).await?;
                    let which = DmsRef::Arn(t.arn.clone());
                    self.find(Step::StopTask, &t.identifier, || {
                        self.aws().describe_replication_task(&which)
                    })
                    .await?
                }
                None => old,
            };
            let fresh = self
                .fresh_task(old.as_ref(), &input, Step::CreateTask, Phase::FailingBack)
                .await?;
            if !ours {
                self.record(&target, &[(TAG_FORWARD_FRESH, fresh.arn.clone())])
                    .await?;
            }
            self.start_fresh(&fresh, Phase::FailingBack).await?;
        }
        // Held across the switch back as the reverse task was at cutover: for the swap's
        // renames, and for a MySQL/MariaDB read_only fence on the encrypted instance, which
        // DMS cannot write past until it is lifted after the switch.
        let hold = dms_writes_need_lift(&cut.write_fence, &target);
        if !swap && !hold {
            self.switch(cut, &source, &target, false).await?;
            return Ok(());
        }
        let o = Box::pin(self.observe(known)).await?;
        let task = o
            .task
            .clone()
            .ok_or_else(|| EngineError::deleted(Step::StartCdc, self.names.task.clone(), None))?;
        if swap && !swapped_back {
            self.stop_task(&task, Phase::FailingBack).await?;
            self.swap(false, Phase::FailingBack).await?;
        } else if !swap {
            self.stop_task(&task, Phase::FailingBack).await?;
            self.switch(cut, &source, &target, false).await?;
        }
        let o = Box::pin(self.observe(known)).await?;
        self.admit_dms_writes(o.target.as_ref(), cut.fence_hold, Phase::FailingBack)
            .await?;
        self.forward_endpoints(&o).await?;
        let task = o.task.clone().unwrap_or(task);
        self.resume_held(&task, Phase::FailingBack).await
    }

    /// The forward endpoints at the instances' current addresses.
    async fn forward_endpoints(&self, o: &Observed) -> Result<(Endpoint, Endpoint), EngineError> {
        let missing = |id: &str| EngineError::deleted(Step::ModifyEndpoint, id.to_owned(), None);
        let src = o
            .source_endpoint
            .as_ref()
            .ok_or_else(|| missing(&self.names.source_endpoint))?;
        let tgt = o
            .target_endpoint
            .as_ref()
            .ok_or_else(|| missing(&self.names.target_endpoint))?;
        let src = self.follow_address(src, &self.require_source(o)?).await?;
        let tgt = self.follow_address(tgt, &self.require_target(o)?).await?;
        Ok((src, tgt))
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
