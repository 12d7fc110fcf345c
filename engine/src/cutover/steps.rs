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

    /// Waits until `task`'s CDC latency is below [`DRAINED_BELOW_SECONDS`] for
    /// [`DRAIN_READS`] consecutive reads, counting only reads one metric period after the
    /// call; returns the wall time of the first of them.
    pub(crate) async fn drain(
        &self,
        o: &Observed,
        task: &ReplicationTask,
        phase: Phase,
    ) -> Result<SystemTime, EngineError> {
        let start = self.now();
        let limit = (start + waiters::DRAIN).min(self.deadline);
        let mut seen = 0u32;
        let mut first: Option<SystemTime> = None;
        loop {
            self.check_cancel(Step::DrainReplication)?;
            let l = self.task_lag(o, task).await.unwrap_or_default();
            let drained = |v: Option<f64>| v.is_some_and(|s| s < DRAINED_BELOW_SECONDS);
            // CloudWatch publishes CDC latency once per period: a read within the first
            // period after the pause may still show a datapoint from before it, so only
            // reads a full period (the poll cap, 60 s on AWS) after the pause count.
            let settled = self.now() >= start + self.e.poll.max_interval;
            let ok = settled
                && drained(l.target_seconds)
                && (l.source_seconds.is_none() || drained(l.source_seconds));
            if ok {
                first.get_or_insert_with(|| self.e.clock.wall_time());
                seen += 1;
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
            } else {
                seen = 0;
                first = None;
                self.emit(
                    phase,
                    Step::DrainReplication,
                    &task.identifier,
                    None,
                    &format!("lag {}", lag_text(&l)),
                );
            }
            let now = self.now();
            if now >= limit {
                return Err(EngineError::Timeout {
                    step: Step::DrainReplication,
                    id: task.identifier.clone(),
                    waited: now.saturating_duration_since(start),
                    last_status: Some(format!("lag {}", lag_text(&l))),
                });
            }
            let d = self.e.poll.min_interval.min(limit - now);
            self.sleep(Step::DrainReplication, d).await?;
        }
    }
}
