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
        let w = Waiter {
            phase: Phase::CutOver,
            ..WAIT_CDC_RUNNING
        };
        self.resume_task(Step::StartCdc, rt, Some(&w)).await
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

        // 2. Drain forward CDC, record the drain time, stop the forward task.
        let task = o.task.clone().ok_or_else(|| {
            EngineError::deleted(
                Step::DrainReplication,
                self.names.task.clone(),
                Some("the forward replication task does not exist"),
            )
        })?;
        let drained_at = match (o.cutover.drained_at, &task.status) {
            // Recorded by an interrupted run: every change written before it was applied,
            // and writes have stayed paused since (a new cutover clears the tag). Draining
            // again could move the reverse task's start past writes the application made
            // on the target after a switch that already happened.
            (Some(at), _) => at,
            (None, ReplicationTaskStatus::Running) => {
                let at = self.drain(&o, &task, Phase::CuttingOver).await?;
                self.record(&target, &[(TAG_DRAINED, stamp(at))]).await?;
                at
            }
            (None, _) => return Err(EngineError::Failed {
                step: Step::DrainReplication,
                id: task.identifier.clone(),
                status: task.status.to_string(),
                reason: Some(
                    "the forward task is not running and no drain was recorded, so no change can be proven applied; resume the task (apply with cutover = false) and try again"
                        .into(),
                ),
            }),
        };

        // 3. Stop the forward task and switch. Drained with writes paused, the forward task
        // has nothing left to apply, so the switch (the end of the write pause) does not
        // wait for it to stop; the reverse task, which must not run beside it, does. An
        // identifier swap renames the instances under the task's endpoints, so it waits.
        if matches!(cut.strategy, CutoverStrategy::IdentifierSwap) {
            self.stop_task(&task, Phase::CuttingOver).await?;
            self.switch(cut, &source, &target, true).await?;
        } else {
            let (stopped, switched) = tokio::join!(
                self.stop_task(&task, Phase::CuttingOver),
                self.switch(cut, &source, &target, true)
            );
            stopped?;
            switched?;
        }
        if o.cutover.switched_at.is_none() {
            // The target may have been renamed: tag it under its current name.
            let now = Box::pin(self.observe(known)).await?;
            let t = self.require_target(&now)?;
            self.record(&t, &[(TAG_SWITCHED, stamp(self.e.clock.wall_time()))])
                .await?;
        }

        // 4. Reverse replication from the drain point.
        let o = Box::pin(self.observe(known)).await?;
        self.admit_dms_writes(o.source.as_ref(), Phase::CuttingOver)
            .await?;
        self.ensure_reverse(&o, drained_at).await?;

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
