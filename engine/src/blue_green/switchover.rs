//! Waiting for green, the switchover, finalize and teardown of a blue/green deployment.

use super::*;

impl Run<'_> {
    /// Waits until the deployment is available with every green instance available.
    pub(super) async fn wait_green(
        &self,
        id: &str,
        fresh: bool,
    ) -> Result<(BlueGreenDeployment, Vec<DbInstance>), EngineError> {
        let aws = self.aws();
        let r = BlueGreenRef::Id(id.to_owned());
        let got = self
            .wait(
                &WAIT_GREEN,
                id,
                fresh,
                || async {
                    let d = match aws.describe_blue_green_deployment(&r).await {
                        Ok(d) => d,
                        Err(e) if e.is_not_found() => return Ok(None),
                        Err(e) => return Err(e),
                    };
                    let mut green = Vec::new();
                    let state = match d.status {
                        BlueGreenStatus::Provisioning => GreenWait::Provisioning,
                        BlueGreenStatus::Available | BlueGreenStatus::SwitchoverFailed => {
                            let mut all = true;
                            for m in &d.switchover_details {
                                if m.target_member.is_empty() {
                                    all = false;
                                    continue;
                                }
                                match aws
                                    .describe_db_instance(instance_id_of(&m.target_member))
                                    .await
                                {
                                    Ok(g) => {
                                        all &= g.status.is_ready();
                                        green.push(g);
                                    }
                                    Err(e) if e.is_not_found() => all = false,
                                    Err(e) => return Err(e),
                                }
                            }
                            if all {
                                GreenWait::Ready
                            } else {
                                GreenWait::GreenBusy
                            }
                        }
                        _ => GreenWait::Broken,
                    };
                    Ok(Some(((d, green), state)))
                },
                |_| None,
                |(d, _): &(BlueGreenDeployment, Vec<DbInstance>)| explain(d),
            )
            .await?;
        got.ok_or_else(|| {
            EngineError::deleted(
                Step::WaitBlueGreen,
                id.to_owned(),
                Some("the blue/green deployment disappeared"),
            )
        })
    }

    // -----------------------------------------------------------------------------------------
    // Switch
    // -----------------------------------------------------------------------------------------

    pub(crate) async fn blue_green_cutover(
        &self,
        cut: &CutoverSpec,
        known: &KnownIds,
    ) -> Result<(), EngineError> {
        let o = self.observe_for_switch(cut, known).await?;
        let d = match o.phase {
            Phase::CutOver | Phase::Finalizing | Phase::Finalized => return Ok(()),
            Phase::CuttingOver => o.blue_green.clone(),
            Phase::Replicating => {
                let d = o.blue_green.clone();
                if let Some(d) = &d {
                    self.start_switchover(cut, &o, d).await?;
                }
                d
            }
            p => {
                return Err(refused(
                    "cutover",
                    "cutover",
                    vec![format!(
                        "the migration is in phase {p}, not replicating (green not available yet); apply again once it is"
                    )],
                ));
            }
        };
        let d = d.ok_or_else(|| {
            EngineError::deleted(
                Step::SwitchoverBlueGreen,
                self.names.blue_green_deployment_name(),
                Some("the blue/green deployment does not exist"),
            )
        })?;
        let secs = cut
            .switchover_timeout_seconds
            .unwrap_or(DEFAULT_SWITCHOVER_TIMEOUT_SECONDS);
        let w = Waiter {
            timeout: Duration::from_secs(u64::try_from(secs).unwrap_or(0))
                + waiters::SWITCHOVER_MARGIN,
            ..WAIT_SWITCHOVER
        };
        self.wait_deployment(&w, &d.identifier).await?;
        let now = Box::pin(self.observe(known)).await?;
        let t = self.require_target(&now)?;
        let at = stamp(self.e.clock.wall_time());
        self.record(
            &t,
            &[
                (TAG_SWITCHED, at.clone()),
                (TAG_CUTOVER_COMPLETED, at),
                (TAG_PHASE, Phase::CutOver.as_str().to_owned()),
            ],
        )
        .await?;
        self.emit(
            Phase::CutOver,
            Step::RecordPhase,
            &t.identifier,
            None,
            "cut_over",
        );
        Ok(())
    }

    /// Checks green once more (available, encrypted with the planned keys), records the
    /// start on the green primary, and asks RDS to switch over.
    pub(super) async fn start_switchover(
        &self,
        cut: &CutoverSpec,
        o: &Observed,
        d: &BlueGreenDeployment,
    ) -> Result<(), EngineError> {
        let source = self.require_source(o)?;
        let key = self.resolve_key().await?;
        let plan = self.green_plan(&source, Some(&key)).await.map_err(first)?;
        let mut green: Vec<&DbInstance> = o.green_replicas.iter().collect();
        green.extend(o.target.iter());
        let mut reasons = green_problems(d, &green, &plan);
        reasons.extend(
            green
                .iter()
                .filter(|g| !g.status.is_ready())
                .map(|g| format!("the green instance {} is {}", g.identifier, g.status)),
        );
        if !reasons.is_empty() {
            reasons.push("the provider never switches over to green instances that are not encrypted as asked".into());
            return Err(refused("cutover", "cutover", reasons));
        }
        let target = self.require_target(o)?;
        // RDS blocks writes on both environments from the switchover's start.
        let now = stamp(self.e.clock.wall_time());
        self.record(
            &target,
            &[
                (TAG_PHASE, Phase::CuttingOver.as_str().to_owned()),
                (TAG_CUTOVER_STARTED, now.clone()),
                (TAG_WRITES_PAUSED, now),
                (TAG_DRAINED, String::new()),
                (TAG_SWITCHED, String::new()),
                (TAG_CUTOVER_COMPLETED, String::new()),
            ],
        )
        .await?;
        let secs = cut
            .switchover_timeout_seconds
            .unwrap_or(DEFAULT_SWITCHOVER_TIMEOUT_SECONDS);
        self.call(Step::SwitchoverBlueGreen, &d.identifier, || {
            self.aws()
                .switchover_blue_green_deployment(&d.identifier, secs)
        })
        .await?;
        self.emit(
            Phase::CuttingOver,
            Step::SwitchoverBlueGreen,
            &d.identifier,
            None,
            BlueGreenStatus::SwitchoverInProgress.as_str(),
        );
        Ok(())
    }

    // -----------------------------------------------------------------------------------------
    // Finalize
    // -----------------------------------------------------------------------------------------

    pub(crate) async fn blue_green_finalize(
        &self,
        cut: &CutoverSpec,
        known: &KnownIds,
    ) -> Result<(), EngineError> {
        let o = Box::pin(self.observe(known)).await?;
        match o.phase {
            Phase::Finalized => return Ok(()),
            Phase::CutOver | Phase::Finalizing => {}
            p => {
                return Err(refused(
                    "finalize",
                    "finalize",
                    vec![format!(
                        "the migration is in phase {p}; finalize needs a completed switchover (cutover = true, phase cut_over)"
                    )],
                ));
            }
        }
        let old = o.source.clone();
        let old_replicas: Vec<String> = old
            .iter()
            .flat_map(|s| s.read_replica_identifiers.iter().cloned())
            .collect();
        if cut.retire_source == RetireSource::Stop && !old_replicas.is_empty() {
            return Err(refused(
                "retire_source",
                "finalize",
                vec![format!(
                    "RDS cannot stop {} while it has read replicas ({}), and cannot stop read replicas; use retire_source = \"keep\" or \"snapshot_and_delete\"",
                    old.as_ref().map_or("", |s| s.identifier.as_str()),
                    old_replicas.join(", ")
                )],
            ));
        }
        self.check_retire(old.as_ref(), cut.retire_source).await?;
        let target = self.require_target(&o)?;
        if o.phase == Phase::CutOver {
            self.record(
                &target,
                &[(TAG_PHASE, Phase::Finalizing.as_str().to_owned())],
            )
            .await?;
        }
        if let Some(d) = &o.blue_green {
            // After the switchover RDS refuses DeleteTarget: the instances stay.
            self.delete_deployment(d, false, Phase::Finalizing).await?;
        }
        if cut.retire_source == RetireSource::SnapshotAndDelete {
            // A replica holds a copy of its primary, whose final snapshot keeps the data.
            for r in &old_replicas {
                let input = DeleteDbInstanceInput {
                    db_instance_identifier: instance_id_of(r).to_owned(),
                    final_snapshot: FinalSnapshot::Skip,
                    delete_automated_backups: true,
                };
                gone_ok(
                    self.call(Step::RetireSource, r, || {
                        self.aws().delete_db_instance(&input)
                    })
                    .await,
                )?;
            }
        }
        if let Some(s) = &old {
            self.retire(s, cut.retire_source).await?;
        }
        self.record_finalized(&target).await
    }

    /// Deletes the deployment object (and the green instances when `delete_target`) and
    /// waits until it is gone. Already gone is success.
    pub(super) async fn delete_deployment(
        &self,
        d: &BlueGreenDeployment,
        delete_target: bool,
        phase: Phase,
    ) -> Result<(), EngineError> {
        let aws = self.aws();
        if d.status != BlueGreenStatus::Deleting {
            let r = self
                .call(Step::DeleteBlueGreen, &d.identifier, || {
                    aws.delete_blue_green_deployment(&d.identifier, delete_target)
                })
                .await;
            if let Err(EngineError::Aws { source, .. }) = &r
                && source.is_not_found()
            {
                return Ok(());
            }
            r?;
        }
        let w = Waiter {
            phase,
            ..WAIT_DELETED
        };
        self.wait_deployment(&w, &d.identifier).await?;
        Ok(())
    }

    /// Polls the deployment's status as `w` declares (fresh: just changed).
    pub(super) async fn wait_deployment(
        &self,
        w: &Waiter<BlueGreenStatus>,
        id: &str,
    ) -> Result<Option<BlueGreenDeployment>, EngineError> {
        let aws = self.aws();
        let r = BlueGreenRef::Id(id.to_owned());
        self.wait(
            w,
            id,
            true,
            || async {
                crate::core::with_status(aws.describe_blue_green_deployment(&r).await, |d| {
                    d.status.clone()
                })
            },
            |_| None,
            explain,
        )
        .await
    }

    // -----------------------------------------------------------------------------------------
    // Teardown
    // -----------------------------------------------------------------------------------------

    /// Before the switchover: delete the deployment, with the green instances only when
    /// `delete_target_on_destroy`. After it: delete only the deployment object; every
    /// instance stays. Never touches the source.
    pub(crate) async fn teardown_blue_green(&self, o: &Observed, out: &mut TeardownOutcome) {
        let switched = o.phase.target_may_serve()
            || o.blue_green
                .as_ref()
                .is_some_and(|d| d.status == BlueGreenStatus::SwitchoverCompleted);
        let green: Vec<&DbInstance> = o.target.iter().chain(o.green_replicas.iter()).collect();
        let mut green_deleted = false;
        if let Some(d) = &o.blue_green {
            let delete_target = !switched && self.spec.delete_target_on_destroy;
            let protected: Vec<&&DbInstance> =
                green.iter().filter(|g| g.deletion_protection).collect();
            if d.status == BlueGreenStatus::SwitchoverInProgress {
                out.errors.push(EngineError::Failed {
                    step: Step::DeleteBlueGreen,
                    id: d.identifier.clone(),
                    status: d.status.to_string(),
                    reason: Some(
                        "RDS cannot delete a deployment while it switches over; wait for the switchover to end, then destroy again".into(),
                    ),
                });
            } else if delete_target && !protected.is_empty() {
                for g in protected {
                    out.errors.push(EngineError::DeletionProtected {
                        id: g.identifier.clone(),
                    });
                }
            } else {
                match self
                    .delete_deployment(d, delete_target, Phase::Finalizing)
                    .await
                {
                    Ok(()) => {
                        out.deleted.push(format!("{KIND_BLUE_GREEN} ({})", d.name));
                        if delete_target {
                            green_deleted = true;
                            out.deleted.extend(green.iter().map(|g| {
                                format!(
                                    "RDS DB Instance ({}): green, with the deployment",
                                    g.identifier
                                )
                            }));
                        }
                    }
                    Err(e) => out.errors.push(e),
                }
            }
        }
        if switched {
            for t in &green {
                out.kept.push(format!(
                    "RDS DB Instance ({}): encrypted, serving traffic under the original name since the switchover; never deleted",
                    t.identifier
                ));
            }
            if let Some(s) = &o.source {
                out.kept.push(format!(
                    "RDS DB Instance ({}): the pre-switchover (unencrypted) instance; kept with its data, it receives no writes",
                    s.identifier
                ));
                for r in &s.read_replica_identifiers {
                    out.kept.push(format!(
                        "RDS DB Instance ({r}): pre-switchover read replica; kept"
                    ));
                }
            }
        } else {
            if !green_deleted {
                for g in &green {
                    out.kept.push(format!(
                        "RDS DB Instance ({}): green instance, kept because delete_target_on_destroy is false",
                        g.identifier
                    ));
                }
            }
            if let Some(s) = &o.source {
                out.kept.push(format!(
                    "RDS DB Instance ({}): the source is never deleted",
                    s.identifier
                ));
            }
        }
    }
}
