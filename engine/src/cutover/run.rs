//! The cutover run: the entry points, the gate (lag and validation), and the ordered steps.

use super::*;

// ---------------------------------------------------------------------------------------------
// The operation
// ---------------------------------------------------------------------------------------------

impl Engine {
    /// Runs one [`SwitchOp`]. Level-triggered: a re-run after an interruption continues
    /// from what AWS shows (the phase tag, the names, the task states); checks poll within
    /// half of `timeout`.
    ///
    /// **Errors**: [`EngineFailure`] with what exists; `Refused` as each operation says.
    pub async fn switch(
        &self,
        op: SwitchOp,
        spec: &MigrationSpec,
        cut: &CutoverSpec,
        known: &KnownIds,
        timeout: Duration,
        cancel: &CancellationToken,
    ) -> Result<Observed, Box<EngineFailure>> {
        let run = self.run(spec, timeout, cancel);
        let result = run.ops().switch(&run, op, cut, known).await;
        self.finish(spec, known, result).await
    }
}

impl Engine {
    /// One call for an update that touches `cutover` or `finalize`: drives the migration to
    /// the configured switch state. `cutover = true` -> [`SwitchOp::Cutover`] (no-op when cut
    /// over), then [`SwitchOp::Finalize`] when `finalize = true`; `cutover = false` ->
    /// [`SwitchOp::Failback`] (no-op when replicating). `finalize = true` with
    /// `cutover = false` is refused (attribute `finalize`) without touching AWS.
    ///
    /// **Errors**: as the operation it runs.
    #[allow(clippy::too_many_arguments)]
    pub async fn apply_switch(
        &self,
        spec: &MigrationSpec,
        cut: &CutoverSpec,
        cutover: bool,
        finalize: bool,
        known: &KnownIds,
        timeout: Duration,
        cancel: &CancellationToken,
    ) -> Result<Observed, Box<EngineFailure>> {
        match (cutover, finalize) {
            (true, false) => {
                Box::pin(self.switch(SwitchOp::Cutover, spec, cut, known, timeout, cancel)).await
            }
            (true, true) => {
                let started = self.clock.now();
                let o = Box::pin(self.switch(SwitchOp::Cutover, spec, cut, known, timeout, cancel))
                    .await?;
                let left =
                    timeout.saturating_sub(self.clock.now().saturating_duration_since(started));
                Box::pin(self.switch(SwitchOp::Finalize, spec, cut, &o.known_ids(), left, cancel))
                    .await
            }
            (false, false) => {
                Box::pin(self.switch(SwitchOp::Failback, spec, cut, known, timeout, cancel)).await
            }
            (false, true) => {
                let err = refused(
                    "finalize",
                    "finalize",
                    vec!["finalize = true needs cutover = true".into()],
                );
                self.finish(spec, known, Err(err)).await
            }
        }
    }
}

impl Run<'_> {
    pub(crate) async fn cutover(
        &self,
        cut: &CutoverSpec,
        known: &KnownIds,
    ) -> Result<(), EngineError> {
        let o = self.observe_for_switch(cut, known).await?;
        match o.phase {
            Phase::CutOver => return self.keep_reverse_running(&o).await,
            Phase::Finalizing | Phase::Finalized => return Ok(()),
            Phase::FailingBack => {
                return Err(refused(
                    "cutover",
                    "cutover",
                    vec!["a failback is in progress (phase failing_back); set cutover = false and apply to complete it first".into()],
                ));
            }
            Phase::CuttingOver => {}
            Phase::Replicating => {
                let o = Box::pin(self.gate(cut, known)).await?;
                self.check_switch_possible(cut, &o).await?;
                let target = self.require_target(&o)?;
                // A new cutover: forget the previous one's timestamps.
                let now = stamp(self.e.clock.wall_time());
                let mut tags = vec![
                    (TAG_PHASE, Phase::CuttingOver.as_str().to_owned()),
                    (TAG_CUTOVER_STARTED, now),
                    (TAG_WRITES_PAUSED, String::new()),
                    (TAG_DRAINED, String::new()),
                    (TAG_SWITCHED, String::new()),
                    (TAG_CUTOVER_COMPLETED, String::new()),
                ];
                // Import reads them back (the switch settings are not in AWS otherwise).
                tags.extend(switch_settings_tags(cut));
                self.record(&target, &tags).await?;
            }
            p => {
                return Err(refused(
                    "cutover",
                    "cutover",
                    vec![format!("the migration is in phase {p}, not replicating")],
                ));
            }
        }
        Box::pin(self.cutover_steps(cut, known)).await
    }

    /// While cut over, a reverse task that failed or was stopped is resumed from its own
    /// checkpoint (no loop: the forward task is stopped), so failback stays lossless.
    pub(super) async fn keep_reverse_running(&self, o: &Observed) -> Result<(), EngineError> {
        let Some(rt) = &o.reverse_task else {
            return Ok(());
        };
        if !matches!(
            rt.status,
            ReplicationTaskStatus::Failed | ReplicationTaskStatus::Stopped
        ) {
            return Ok(());
        }
        tracing::warn!(
            id = %rt.identifier,
            reason = task_failure(rt).unwrap_or_default(),
            "resuming the reverse replication task"
        );
        self.resume_held(rt, Phase::CutOver).await
    }

    /// Observes until the checks pass or only the lag is wrong and the lag budget is spent.
    pub(super) async fn gate(
        &self,
        cut: &CutoverSpec,
        known: &KnownIds,
    ) -> Result<Observed, EngineError> {
        let start = self.now();
        let budget = self.deadline.saturating_duration_since(start) / 2;
        let mut polls = 0u32;
        loop {
            let o = Box::pin(self.observe(known)).await?;
            let fails = match cutover_checks(&o, cut.max_lag, cut.require_validation) {
                Ok(()) => return Ok(o),
                Err(f) => f,
            };
            let lag_only = fails.iter().all(|f| {
                matches!(
                    f,
                    CheckFailure::LagTooHigh { .. } | CheckFailure::LagUnknown
                )
            });
            let waited = self.now().saturating_duration_since(start);
            if !lag_only || waited >= budget {
                let mut reasons: Vec<String> = fails.iter().map(ToString::to_string).collect();
                if lag_only {
                    reasons.push(format!(
                        "waited {} for the lag to drop",
                        humantime::format_duration(Duration::from_secs(waited.as_secs()))
                    ));
                }
                return Err(refused("cutover", "cutover", reasons));
            }
            self.emit(
                Phase::Replicating,
                Step::CheckCutover,
                &self.names.task,
                None,
                &format!("lag {}", lag_text(&o.lag)),
            );
            let d = self.e.poll.interval(polls).min(budget - waited);
            polls = polls.saturating_add(1);
            self.sleep(Step::CheckCutover, d).await?;
        }
    }

    /// Refuses, before anything changes, a switch that cannot complete or a failback that
    /// could not be lossless.
    pub(super) async fn check_switch_possible(
        &self,
        cut: &CutoverSpec,
        o: &Observed,
    ) -> Result<(), EngineError> {
        let mut reasons = Vec::new();
        // The reverse task reuses the forward table mappings; renaming rules cannot be
        // inverted, so the original would receive changes under the wrong names.
        if o.task.as_ref().is_some_and(|t| {
            serde_json::from_str::<serde_json::Value>(&t.table_mappings)
                .ok()
                .and_then(|v| v.get("rules").and_then(|r| r.as_array()).cloned())
                .unwrap_or_default()
                .iter()
                .any(|r| r.get("rule-type").and_then(|t| t.as_str()) == Some("transformation"))
        }) {
            reasons.push(
                "dms.table_mappings has transformation rules, which the reverse (failback) task cannot invert".to_owned(),
            );
        }
        // MySQL/MariaDB write the binary log the reverse task reads only with backups on.
        if let Some(t) = &o.target
            && matches!(t.engine, DbEngine::Mysql | DbEngine::Mariadb)
            && t.backup_retention_period == 0
        {
            reasons.push(format!(
                "the encrypted instance {} has backup_retention_period 0, so it writes no binary log for the reverse (failback) task; set target.backup_retention_period to 1 or more",
                t.identifier
            ));
        }
        if cut.write_fence == WriteFence::ReadOnly
            && let Some(src) = &o.source
        {
            // The source is fenced now, the target at failback: each alone in its group.
            let all = self
                .call(Step::CheckCutover, &src.identifier, || {
                    self.aws().list_db_instances()
                })
                .await?;
            reasons.extend(read_only_fence_problems(src, &all));
            if let Some(t) = &o.target {
                let others = all.iter().filter(|i| i.identifier != src.identifier);
                reasons.extend(read_only_fence_problems(t, others));
            }
        }
        if !reasons.is_empty() {
            return Err(refused("cutover", "cutover", reasons));
        }
        match &cut.strategy {
            CutoverStrategy::IdentifierSwap => {
                let renamed = unencrypted_name(&self.names);
                let taken = self
                    .find(Step::CheckCutover, &renamed, || {
                        self.aws().describe_db_instance(&renamed)
                    })
                    .await?;
                if taken.is_some() && !o.identifiers_swapped {
                    return Err(refused(
                        "cutover_strategy",
                        "cutover",
                        vec![format!(
                            "identifier_swap needs the name {renamed} for the original instance, but an RDS DB Instance with that name already exists"
                        )],
                    ));
                }
            }
            CutoverStrategy::Route53(r) => {
                let r2 = r.clone();
                match self
                    .call(Step::CheckCutover, &r.zone_id, || {
                        self.aws().describe_cname(&r2.zone_id, &r2.record_name)
                    })
                    .await
                {
                    Ok(_) => {}
                    // The UPSERT creates a missing record; a missing zone is a config error.
                    Err(EngineError::Aws {
                        source:
                            AwsError::NotFound {
                                kind: "Route 53 Record",
                                ..
                            },
                        ..
                    }) => {}
                    Err(EngineError::Aws {
                        source: AwsError::NotFound { .. },
                        ..
                    }) => {
                        return Err(refused(
                            "route53.zone_id",
                            "cutover",
                            vec![format!("Route 53 Hosted Zone {} does not exist", r.zone_id)],
                        ));
                    }
                    Err(e) => return Err(e),
                }
            }
            CutoverStrategy::None => {}
        }
        Ok(())
    }

    pub(crate) fn require_target(&self, o: &Observed) -> Result<DbInstance, EngineError> {
        o.target.clone().ok_or_else(|| {
            EngineError::deleted(
                Step::CheckCutover,
                self.names.target.clone(),
                Some("the encrypted target instance does not exist"),
            )
        })
    }

    pub(crate) fn require_source(&self, o: &Observed) -> Result<DbInstance, EngineError> {
        o.source.clone().ok_or_else(|| EngineError::Missing {
            attribute: "source_db_instance_identifier",
            kind: "RDS DB Instance",
            id: self.names.migration.clone(),
        })
    }

    pub(super) async fn cutover_steps(
        &self,
        cut: &CutoverSpec,
        known: &KnownIds,
    ) -> Result<(), EngineError> {
        let o = Box::pin(self.observe(known)).await?;
        let target = self.require_target(&o)?;
        let source = self.require_source(&o)?;

        // 1. Pause writes to the source.
        if o.cutover.writes_paused_at.is_none() {
            self.record(
                &target,
                &[(TAG_WRITES_PAUSED, stamp(self.e.clock.wall_time()))],
            )
            .await?;
        }
        self.fence(&cut.write_fence, &source, Phase::CuttingOver)
            .await?;
        // The drain counts only evidence from after this moment (fence in place).
        let fenced_at = self.e.clock.wall_time();

        // 2. Drain and stop forward CDC, proven again on every run until the switch began:
        // from then on the application may write to the target, and only the reverse
        // task, already running from before the switch, may carry those writes back.
        let began = o.cutover.switched_at.is_some()
            || o.identifiers_swapped
            || self.switched(cut, &o).await?;
        if !began {
            self.drain_forward(&o, &target, fenced_at).await?;
        }

        // 3. Reverse CDC from the encrypted instance's own position, fixed before the
        // switch while nothing writes there, then the switch.
        let o = Box::pin(self.observe(known)).await?;
        if !began {
            self.start_reverse(&o).await?;
        } else if o.reverse_task.is_none() {
            return Err(EngineError::Failed {
                step: Step::CreateReverseTask,
                id: self.names.reverse_task.clone(),
                status: "absent".into(),
                reason: Some(
                    "the switch began but no reverse task was started before it, so writes made on the encrypted instance since cannot be carried back; fail back is not lossless, resolve by hand"
                        .into(),
                ),
            });
        }
        if matches!(cut.strategy, CutoverStrategy::IdentifierSwap)
            || dms_writes_need_lift(&cut.write_fence, &source)
        {
            Box::pin(self.switch_holding_reverse(cut, known)).await?;
        } else {
            let o = Box::pin(self.observe(known)).await?;
            self.switch(cut, &source, &target, true).await?;
            // Resumed from its own checkpoint if it stopped or failed meanwhile.
            self.keep_reverse_running(&o).await?;
        }
        if o.cutover.switched_at.is_none() {
            // The target may have been renamed: tag it under its current name.
            let now = Box::pin(self.observe(known)).await?;
            let t = self.require_target(&now)?;
            self.record(&t, &[(TAG_SWITCHED, stamp(self.e.clock.wall_time()))])
                .await?;
        }
        let o = Box::pin(self.observe(known)).await?;

        // 5. Done.
        let target = self.require_target(&o)?;
        self.record(
            &target,
            &[
                (TAG_PHASE, Phase::CutOver.as_str().to_owned()),
                (TAG_CUTOVER_COMPLETED, stamp(self.e.clock.wall_time())),
            ],
        )
        .await?;
        self.emit(
            Phase::CutOver,
            Step::RecordPhase,
            &target.identifier,
            None,
            "cut_over",
        );
        Ok(())
    }
}

impl Run<'_> {
    /// Drains forward CDC with writes fenced, records the drain time (progress only: no
    /// position is derived from it) and stops the forward task, waiting until it stopped.
    /// A forward task an interrupted run already stopped after its drain is resumed from
    /// its own checkpoint (same direction) and drained again; a reverse task such a run
    /// started is stopped first (it has carried nothing: no switch yet) and started afresh
    /// afterwards.
    async fn drain_forward(
        &self,
        o: &Observed,
        target: &DbInstance,
        fenced_at: SystemTime,
    ) -> Result<(), EngineError> {
        let task = o.task.clone().ok_or_else(|| {
            EngineError::deleted(
                Step::DrainReplication,
                self.names.task.clone(),
                Some("the forward replication task does not exist"),
            )
        })?;
        let task = match &task.status {
            ReplicationTaskStatus::Running => task,
            _ if o.cutover.drained_at.is_some() => {
                if let Some(rt) = &o.reverse_task {
                    self.stop_settled(rt, Phase::CuttingOver).await?;
                }
                self.stop_task(&task, Phase::CuttingOver).await?;
                let w = Waiter {
                    phase: Phase::CuttingOver,
                    ..WAIT_TASK_RESUMED
                };
                self.resume_task(Step::StartTask, &task, Some(&w)).await?;
                let which = DmsRef::Arn(task.arn.clone());
                self.find(Step::DrainReplication, &task.identifier, || {
                    self.aws().describe_replication_task(&which)
                })
                .await?
                .unwrap_or(task)
            }
            _ => return Err(EngineError::Failed {
                step: Step::DrainReplication,
                id: task.identifier.clone(),
                status: task.status.to_string(),
                reason: Some(
                    "the forward task is not running and no drain was recorded, so no change can be proven applied; resume the task (apply with cutover = false) and try again"
                        .into(),
                ),
            }),
        };
        let at = self.drain(o, &task, Phase::CuttingOver, fenced_at).await?;
        self.record(target, &[(TAG_DRAINED, stamp(at))]).await?;
        self.stop_task(&task, Phase::CuttingOver).await
    }

    /// Stops `t`, first letting a start in progress finish (DMS stops running tasks).
    pub(crate) async fn stop_settled(
        &self,
        t: &ReplicationTask,
        phase: Phase,
    ) -> Result<(), EngineError> {
        let t = if t.status == ReplicationTaskStatus::Starting {
            let w = Waiter {
                phase,
                ..WAIT_CDC_RUNNING
            };
            let which = DmsRef::Arn(t.arn.clone());
            self.wait_task(&w, &t.identifier, &which, false)
                .await?
                .unwrap_or_else(|| t.clone())
        } else {
            t.clone()
        };
        self.stop_task(&t, phase).await
    }

    /// The switch with the reverse task's position fixed before it, for the identifier swap
    /// and for a MySQL/MariaDB `read_only` fence (DMS cannot write past it, so the reverse
    /// task may apply nothing until the old primary is writable again, after the switch).
    /// The renames move the addresses under the endpoints, so the running reverse task is stopped
    /// (its `RecoveryCheckpoint` holds the position it started at, plus whatever it
    /// applied: nothing, as nothing writes to the target yet), the names are swapped, its
    /// endpoints follow the addresses, and it resumes from that checkpoint in the same
    /// direction. The writes the application makes on the renamed target after the second
    /// rename all lie after the checkpoint in its log, so none is skipped, and the forward
    /// task, stopped, writes nothing that could come back.
    async fn switch_holding_reverse(
        &self,
        cut: &CutoverSpec,
        known: &KnownIds,
    ) -> Result<(), EngineError> {
        let o = Box::pin(self.observe(known)).await?;
        if let Some(rt) = &o.reverse_task {
            self.stop_settled(rt, Phase::CuttingOver).await?;
        }
        if matches!(cut.strategy, CutoverStrategy::IdentifierSwap) {
            self.swap(true, Phase::CuttingOver).await?;
        } else {
            let source = self.require_source(&o)?;
            let target = self.require_target(&o)?;
            self.switch(cut, &source, &target, true).await?;
        }
        let o = Box::pin(self.observe(known)).await?;
        // The application now points at the encrypted instance; on MySQL/MariaDB the reverse
        // task can only write into the old primary once its read_only fence is lifted, after
        // the hold (stale connections may still reach the old primary until then).
        self.admit_dms_writes(o.source.as_ref(), cut.fence_hold, Phase::CuttingOver)
            .await?;
        self.reverse_endpoints(&o).await?;
        let rt = o.reverse_task.clone().ok_or_else(|| {
            EngineError::deleted(Step::StartCdc, self.names.reverse_task.clone(), None)
        })?;
        self.resume_held(&rt, Phase::CuttingOver).await
    }
}
