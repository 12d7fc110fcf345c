//! Steps shared by cutover and failback: the tag record, readiness waits, the write fence and
//! the CDC drain.

use super::*;

impl Run<'_> {
    /// Merges tags into an instance (the record of phase and timestamps).
    pub(crate) async fn record(
        &self,
        inst: &DbInstance,
        tags: &[(&str, String)],
    ) -> Result<(), EngineError> {
        let tags: Tags = tags
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect();
        self.call(Step::RecordPhase, &inst.identifier, || {
            self.aws().add_tags(&inst.arn, &tags)
        })
        .await
    }

    pub(super) async fn wait_ready(
        &self,
        step: Step,
        phase: Phase,
        id: &str,
    ) -> Result<DbInstance, EngineError> {
        let w = Waiter {
            step,
            phase,
            ..WAIT_RENAMED
        };
        self.wait(
            &w,
            id,
            true,
            || async {
                with_status(self.aws().describe_db_instance(id).await, |i| {
                    i.status.clone()
                })
            },
            no_percent,
            |_| None,
        )
        .await?
        .ok_or_else(|| EngineError::deleted(step, id.to_owned(), None))
    }

    /// Fences writes to `inst` as `fence` says (`none`: nothing to do).
    pub(crate) async fn fence(
        &self,
        fence: &WriteFence,
        inst: &DbInstance,
        phase: Phase,
    ) -> Result<(), EngineError> {
        match fence {
            WriteFence::None => Ok(()),
            WriteFence::SecurityGroups(sgs) => self.fence_security_groups(inst, sgs, phase).await,
            WriteFence::ReadOnly => self.fence_read_only(inst, phase).await,
        }
    }

    /// Moves `inst` to the fence groups, remembering its own in a tag first (a crash
    /// between the two then still knows what to restore).
    async fn fence_security_groups(
        &self,
        inst: &DbInstance,
        sgs: &[String],
        phase: Phase,
    ) -> Result<(), EngineError> {
        if sorted(&inst.vpc_security_group_ids) == sorted(sgs) {
            return Ok(());
        }
        let remembered = inst
            .tags
            .get(TAG_ORIGINAL_SGS)
            .is_some_and(|v| !v.is_empty());
        if !remembered {
            self.record(
                inst,
                &[(TAG_ORIGINAL_SGS, inst.vpc_security_group_ids.join(" "))],
            )
            .await?;
        }
        let input = ModifyDbInstanceInput {
            db_instance_identifier: inst.identifier.clone(),
            vpc_security_group_ids: Some(sgs.to_vec()),
            apply_immediately: true,
            ..Default::default()
        };
        self.call(Step::FenceWrites, &inst.identifier, || {
            self.aws().modify_db_instance(&input)
        })
        .await?;
        self.emit(phase, Step::FenceWrites, &inst.identifier, None, "fenced");
        self.wait_ready(Step::FenceWrites, phase, &inst.identifier)
            .await?;
        Ok(())
    }

    /// Lifts every fence recorded on `inst` (whatever `write_fence` says now: the tags are
    /// the record); no-op when none is.
    pub(crate) async fn lift_fence(
        &self,
        inst: &DbInstance,
        phase: Phase,
    ) -> Result<(), EngineError> {
        self.lift_read_only(inst, phase).await?;
        self.lift_security_groups(inst, phase).await
    }

    /// Restores the groups recorded by [`Run::fence`]; no-op when none are recorded.
    pub(crate) async fn lift_security_groups(
        &self,
        inst: &DbInstance,
        phase: Phase,
    ) -> Result<(), EngineError> {
        let Some(original) = inst.tags.get(TAG_ORIGINAL_SGS).filter(|v| !v.is_empty()) else {
            return Ok(());
        };
        let original: Vec<String> = original.split_whitespace().map(str::to_owned).collect();
        if sorted(&inst.vpc_security_group_ids) != sorted(&original) {
            let input = ModifyDbInstanceInput {
                db_instance_identifier: inst.identifier.clone(),
                vpc_security_group_ids: Some(original),
                apply_immediately: true,
                ..Default::default()
            };
            self.call(Step::LiftFence, &inst.identifier, || {
                self.aws().modify_db_instance(&input)
            })
            .await?;
            self.wait_ready(Step::LiftFence, phase, &inst.identifier)
                .await?;
        }
        // Empty = no fence in place; a later fence records the groups afresh.
        let now = self
            .find(Step::LiftFence, &inst.identifier, || {
                self.aws().describe_db_instance(&inst.identifier)
            })
            .await?
            .unwrap_or_else(|| inst.clone());
        self.record(&now, &[(TAG_ORIGINAL_SGS, String::new())])
            .await?;
        self.emit(phase, Step::LiftFence, &inst.identifier, None, "unfenced");
        Ok(())
    }

    /// Names the task's tables in `Table error` (suspended: DMS no longer applies their
    /// changes), read when `TablesErrored` counts any; `None` when it counts none.
    pub(crate) async fn table_errors(&self, task: &ReplicationTask) -> Option<String> {
        if tables_errored(task) <= 0 {
            return None;
        }
        let names = self
            .call_attempts(Step::CheckCutover, &task.arn, 2, || {
                self.aws().describe_table_statistics(&task.arn)
            })
            .await
            .map(|ts| tables_in_error(&ts))
            .unwrap_or_default();
        tables_error_text(tables_errored(task), &names)
    }

    /// Waits until CloudWatch shows `task` drained after the fence at `fenced_at` (the
    /// runner's clock), and returns the wall time of the first counted read.
    ///
    /// The evidence is [`DRAIN_READS`] reads, each of a datapoint newer than the last one
    /// counted, where both `CDCLatencySource` and `CDCLatencyTarget` are below
    /// [`DRAINED_BELOW_SECONDS`] and stamped at or after `fenced_at` + one metric period: a
    /// datapoint covers a whole period, so an earlier one may hold samples from before the
    /// fence. A missing datapoint, or one above the bound, starts the count again. It is
    /// evidence in time, not in log position: CloudWatch gives a latency per period.
    ///
    /// The task is described on every poll; one that is no longer running, or that has
    /// tables in error, ends the drain with [`EngineError::Failed`] naming it and DMS's
    /// reason (nothing is switched; the caller leaves the phase `cutting_over`).
    pub(crate) async fn drain(
        &self,
        o: &Observed,
        task: &ReplicationTask,
        phase: Phase,
        fenced_at: SystemTime,
    ) -> Result<SystemTime, EngineError> {
        let start = self.now();
        let limit = (start + waiters::DRAIN).min(self.deadline);
        let from = fenced_at + self.e.poll.metric_period;
        let which = DmsRef::Arn(task.arn.clone());
        let mut seen = 0u32;
        let mut last: Option<SystemTime> = None;
        let mut first: Option<SystemTime> = None;
        loop {
            self.check_cancel(Step::DrainReplication)?;
            let t = self
                .find(Step::DrainReplication, &task.identifier, || {
                    self.aws().describe_replication_task(&which)
                })
                .await?
                .ok_or_else(|| {
                    EngineError::deleted(
                        Step::DrainReplication,
                        task.identifier.clone(),
                        Some("the replication task disappeared while draining"),
                    )
                })?;
            let stopped = t.status != ReplicationTaskStatus::Running;
            let errored = self.table_errors(&t).await;
            if stopped || errored.is_some() {
                let why: Vec<String> = [task_failure(&t), errored].into_iter().flatten().collect();
                let why = if why.is_empty() {
                    "the task stopped while draining".to_owned()
                } else {
                    why.join("; ")
                };
                let remedy = if phase == Phase::CuttingOver {
                    "nothing was switched and writes stay fenced: fix the task, or set cutover = false and apply to roll back"
                } else {
                    "nothing was switched back: fix the task and apply again"
                };
                return Err(EngineError::Failed {
                    step: Step::DrainReplication,
                    id: t.identifier.clone(),
                    status: t.status.to_string(),
                    reason: Some(format!("{why}; {remedy}")),
                });
            }
            let l = self.task_lag(o, &t).await.unwrap_or_default();
            let under = |v: Option<f64>| v.is_some_and(|s| s < DRAINED_BELOW_SECONDS);
            // The datapoint a read shows: the older of the two, both after the fence.
            let at = match (l.source_at, l.target_at) {
                (Some(s), Some(t)) if s.min(t) >= from => Some(s.min(t)),
                _ => None,
            };
            let drained = under(l.source_seconds) && under(l.target_seconds);
            match at {
                Some(at) if drained && last.is_none_or(|p| at > p) => {
                    first.get_or_insert_with(|| self.e.clock.wall_time());
                    last = Some(at);
                    seen += 1;
                }
                // The datapoint already counted, read again: no new evidence, none against.
                Some(_) if drained => {}
                _ => {
                    (seen, last, first) = (0, None, None);
                }
            }
            if seen >= DRAIN_READS {
                self.emit(
                    phase,
                    Step::DrainReplication,
                    &task.identifier,
                    None,
                    "drained",
                );
                return first.ok_or_else(|| EngineError::Failed {
                    step: Step::DrainReplication,
                    id: task.identifier.clone(),
                    status: "unknown".into(),
                    reason: None,
                });
            }
            let progress = format!(
                "lag {}, {seen} of {DRAIN_READS} datapoints from {} on",
                lag_text(&l),
                stamp(from)
            );
            self.emit(
                phase,
                Step::DrainReplication,
                &task.identifier,
                None,
                &progress,
            );
            let now = self.now();
            if now >= limit {
                return Err(EngineError::Timeout {
                    step: Step::DrainReplication,
                    id: task.identifier.clone(),
                    waited: now.saturating_duration_since(start),
                    last_status: Some(progress),
                });
            }
            let d = self.e.poll.min_interval.min(limit - now);
            self.sleep(Step::DrainReplication, d).await?;
        }
    }
}
