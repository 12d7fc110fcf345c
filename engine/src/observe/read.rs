//! Reading what exists: one describe per owned object, table statistics and lag.

use super::*;

/// Metrics are best-effort: one retry, so an unavailable API cannot stall a refresh.
pub(super) const METRIC_ATTEMPTS: u32 = 2;

/// How long a CloudWatch window the lag query reads.
pub(super) const LAG_WINDOW: Duration = Duration::from_secs(10 * 60);

impl Engine {
    /// Reads what exists: one describe per owned object (concurrently), table statistics
    /// when validation is on and a task exists, and one metric query when the task runs.
    ///
    /// **Errors**: a non-transient AWS error on a describe (after retries). Table statistics
    /// and metrics are best-effort: their failures leave `Unknown`/`None` and are logged.
    pub async fn observe(
        &self,
        spec: &MigrationSpec,
        known: &KnownIds,
        cancel: &CancellationToken,
    ) -> Result<Observed, EngineError> {
        let run = self.run(spec, Duration::from_secs(15 * 60), cancel);
        run.observe(known).await
    }

    /// The resource's Read: what [`Engine::observe`] returns, without the calls state
    /// already answers. A settled migration then costs one describe per owned object, one
    /// metric query, and table statistics when `dms.validation` is on:
    /// - the reverse task and endpoints (looked up by name) are read only when state's phase
    ///   or the target's `rdsenc:phase` tag says a cutover began. The tag is written before
    ///   any reverse object is made, so a cutover interrupted before state was saved is
    ///   still seen;
    /// - the two intermediate snapshots are read only while state's phase is before
    ///   `provisioning_replication`, state lacks their references, or the target is not
    ///   ready (only then can they decide the phase); otherwise
    ///   [`Observed::kept_snapshots`] carries state's references;
    /// - the managed replication subnet group is read only while the replication instance,
    ///   which cannot exist without it, is not found.
    ///
    /// The engine's own steps (create, switch, teardown) keep the full read, so teardown
    /// still finds every object by name.
    ///
    /// **Errors**: as [`Engine::observe`].
    pub async fn refresh(
        &self,
        spec: &MigrationSpec,
        known: &KnownIds,
        cancel: &CancellationToken,
    ) -> Result<Observed, EngineError> {
        let run = self.run(spec, Duration::from_secs(15 * 60), cancel);
        run.observe_scoped(known, Scope::Refresh).await
    }
}

impl Run<'_> {
    pub(crate) async fn owned_dms<T, F, Fut>(
        &self,
        arn: Option<&String>,
        name: &str,
        arn_of: fn(&T) -> &str,
        f: F,
    ) -> Result<Option<T>, EngineError>
    where
        F: Fn(DmsRef) -> Fut,
        Fut: std::future::Future<Output = Result<T, AwsError>>,
    {
        // Known ARN first (written by us into state); it may be stale after a manual delete,
        // so fall back to the deterministic name.
        if let Some(a) = arn {
            let r = DmsRef::Arn(a.clone());
            if let Some(v) = self.find(Step::Observe, a, || f(r.clone())).await? {
                return Ok(Some(v));
            }
        }
        let r = DmsRef::Id(name.to_owned());
        let Some(v) = self.find(Step::Observe, name, || f(r.clone())).await? else {
            return Ok(None);
        };
        let tags = self
            .find(Step::Observe, arn_of(&v), || {
                self.aws().list_tags(arn_of(&v))
            })
            .await?
            .unwrap_or_default();
        if self.names.owns(&tags) {
            Ok(Some(v))
        } else {
            tracing::warn!(
                id = name,
                "ignoring DMS object with the migration's name but without its tags"
            );
            Ok(None)
        }
    }

    /// Checks `cut` against the spec (the first problem is the error), then observes: the
    /// start of every switch operation.
    pub(crate) async fn observe_for_switch(
        &self,
        cut: &crate::cutover::CutoverSpec,
        known: &KnownIds,
    ) -> Result<Observed, EngineError> {
        if let Err(mut errs) = cut.validate(self.spec) {
            return Err(errs.remove(0));
        }
        Box::pin(self.observe(known)).await
    }

    pub(crate) async fn observe(&self, known: &KnownIds) -> Result<Observed, EngineError> {
        self.observe_scoped(known, Scope::Full).await
    }

    pub(crate) async fn observe_scoped(
        &self,
        known: &KnownIds,
        scope: Scope,
    ) -> Result<Observed, EngineError> {
        self.ops().observe(self, known, scope).await
    }

    /// [`Run::observe_scoped`] for the DMS strategy.
    pub(crate) async fn observe_dms(
        &self,
        known: &KnownIds,
        scope: Scope,
    ) -> Result<Observed, EngineError> {
        let n = &self.names;
        let spec = self.spec;
        let owned_rds = |i: Option<DbInstance>| i.filter(|i| n.owns(&i.tags));
        let owned_snap = |s: Option<DbSnapshot>| s.filter(|s| n.owns(&s.tags));
        let aws = self.aws();
        let refresh = scope == Scope::Refresh;
        let managed = spec.dms.replication_instance_arn.is_none();
        let managed_sg = managed && spec.dms.replication_subnet_group_id.is_none();

        // What a refresh may leave out (each decision is re-checked against what the first
        // round finds, below).
        let mut kept = match (
            refresh && known.recorded_phase >= Some(Phase::ProvisioningReplication),
            &known.source_snapshot_identifier,
            &known.encrypted_snapshot_arn,
        ) {
            (true, Some(s), Some(e)) => Some(KeptSnapshots {
                source_snapshot_identifier: s.clone(),
                encrypted_snapshot_arn: e.clone(),
            }),
            _ => None,
        };
        let reverse_now = !refresh || known.recorded_phase.is_some_and(|p| !p.is_create_path());
        let sg_now = managed_sg && !(refresh && known.replication_instance_arn.is_some());

        let snapshots = || async {
            let (snap, enc) = tokio::join!(
                self.find(Step::Observe, &n.source_snapshot, || aws
                    .describe_db_snapshot(&n.source_snapshot)),
                self.find(Step::Observe, &n.encrypted_snapshot, || aws
                    .describe_db_snapshot(&n.encrypted_snapshot)),
            );
            Ok::<_, EngineError>((owned_snap(snap?), owned_snap(enc?)))
        };
        let subnet_group = || async {
            self.find(Step::Observe, &n.replication_subnet_group, || {
                aws.describe_replication_subnet_group(&n.replication_subnet_group)
            })
            .await
        };
        let rev_src_name = crate::cutover::reverse_source_endpoint_name(n);
        let rev_tgt_name = crate::cutover::reverse_target_endpoint_name(n);
        let reverse = || async {
            let (task, se, te) = tokio::join!(
                self.owned_dms(
                    None,
                    &n.reverse_task,
                    |t: &ReplicationTask| &t.arn,
                    |r| async move { aws.describe_replication_task(&r).await },
                ),
                self.owned_dms(
                    None,
                    &rev_src_name,
                    |e: &Endpoint| &e.arn,
                    |r| async move { aws.describe_endpoint(&r).await },
                ),
                self.owned_dms(
                    None,
                    &rev_tgt_name,
                    |e: &Endpoint| &e.arn,
                    |r| async move { aws.describe_endpoint(&r).await },
                ),
            );
            Ok::<_, EngineError>((task?, se?, te?))
        };

        let rds = async {
            let (src, snaps, tgt, replica) = tokio::join!(
                self.find(Step::Observe, &n.migration, || aws
                    .describe_db_instance(&n.migration)),
                async {
                    if kept.is_none() {
                        snapshots().await
                    } else {
                        Ok((None, None))
                    }
                },
                self.find(Step::Observe, &n.target, || aws
                    .describe_db_instance(&n.target)),
                async {
                    if spec.dms.source_from_read_replica {
                        self.find(Step::Observe, &n.read_replica, || {
                            aws.describe_db_instance(&n.read_replica)
                        })
                        .await
                    } else {
                        Ok(None)
                    }
                },
            );
            let (snap, enc) = snaps?;
            Ok::<_, EngineError>((src?, snap, enc, owned_rds(tgt?), owned_rds(replica?)))
        };
        let dms = async {
            let (sg, ri, se, te, task) = tokio::join!(
                async {
                    if sg_now {
                        subnet_group().await
                    } else {
                        Ok(None)
                    }
                },
                async {
                    match &spec.dms.replication_instance_arn {
                        Some(arn) => {
                            let r = DmsRef::Arn(arn.clone());
                            self.find(Step::Observe, arn, || aws.describe_replication_instance(&r))
                                .await
                        }
                        None => {
                            self.owned_dms(
                                known.replication_instance_arn.as_ref(),
                                &n.replication_instance,
                                |r: &ReplicationInstance| &r.arn,
                                |r| async move { aws.describe_replication_instance(&r).await },
                            )
                            .await
                        }
                    }
                },
                self.owned_dms(
                    known.source_endpoint_arn.as_ref(),
                    &n.source_endpoint,
                    |e: &Endpoint| &e.arn,
                    |r| async move { aws.describe_endpoint(&r).await },
                ),
                self.owned_dms(
                    known.target_endpoint_arn.as_ref(),
                    &n.target_endpoint,
                    |e: &Endpoint| &e.arn,
                    |r| async move { aws.describe_endpoint(&r).await },
                ),
                self.owned_dms(
                    known.replication_task_arn.as_ref(),
                    &n.task,
                    |t: &ReplicationTask| &t.arn,
                    |r| async move { aws.describe_replication_task(&r).await },
                ),
            );
            Ok::<_, EngineError>((sg?, ri?, se?, te?, task?))
        };
        let reverse_first = async {
            if reverse_now {
                reverse().await
            } else {
                Ok((None, None, None))
            }
        };
        let (rds, dms, reverse_first) = tokio::join!(rds, dms, reverse_first);
        let (mut source, mut source_snapshot, mut encrypted_snapshot, mut target, read_replica) =
            rds?;
        let (mut reverse_task, mut reverse_source_endpoint, mut reverse_target_endpoint) =
            reverse_first?;
        // Identifier swap: `<source>` may name the encrypted instance, and the original
        // may be `<source>-unencrypted` (also half-way through a swap).
        let mut identifiers_swapped = false;
        if source
            .as_ref()
            .is_some_and(|s| crate::cutover::is_our_target(n, s))
        {
            target = source.take();
            identifiers_swapped = true;
        }
        if source.is_none() {
            let renamed = crate::cutover::unencrypted_name(n);
            source = self
                .find(Step::Observe, &renamed, || {
                    aws.describe_db_instance(&renamed)
                })
                .await?;
            identifiers_swapped |= source.is_some();
        }
        let (
            mut replication_subnet_group,
            replication_instance,
            source_endpoint,
            target_endpoint,
            task,
        ) = dms?;
        let cutover = target
            .as_ref()
            .map(|t| crate::cutover::CutoverRecord::from_tags(&t.tags))
            .unwrap_or_default();

        // A refresh's second round, only where the first contradicts what state implied.
        // The phase tag is written on the target before any reverse object is made, so a
        // cutover interrupted before state was saved is still found here.
        if !reverse_now && cutover.phase.is_some() {
            (
                reverse_task,
                reverse_source_endpoint,
                reverse_target_endpoint,
            ) = reverse().await?;
        }
        // Only a target that is not ready lets the snapshots decide the phase.
        if kept.is_some() && instance_stage(target.as_ref()) != Stage::Ready {
            (source_snapshot, encrypted_snapshot) = snapshots().await?;
            kept = None;
        }
        // The replication instance cannot exist without its subnet group.
        if managed_sg && !sg_now && replication_instance.is_none() {
            replication_subnet_group = subnet_group().await?;
        }

        let mut o = Observed {
            source,
            source_snapshot,
            encrypted_snapshot,
            target,
            read_replica,
            replication_subnet_group,
            replication_instance,
            replication_instance_managed: managed,
            source_endpoint,
            target_endpoint,
            task,
            validation: if spec.dms.validation {
                ValidationSummary::Unknown
            } else {
                ValidationSummary::NotEnabled
            },
            lag: CdcLatency::default(),
            tables_in_error: Vec::new(),
            phase: Phase::Snapshotting,
            cutover,
            reverse_task,
            reverse_source_endpoint,
            reverse_target_endpoint,
            reverse_lag: CdcLatency::default(),
            identifiers_swapped,
            blue_green: None,
            green_replicas: Vec::new(),
            kept_snapshots: kept,
        };
        self.observe_metrics(&mut o).await;
        // The phase tag on the target is written at each switch step, so it is newer than
        // state after an interrupted apply.
        let recorded = o.cutover.phase.or(known.recorded_phase);
        o.derive_phase(recorded);
        Ok(o)
    }

    /// Validation and lag; best-effort (metrics must not block state refresh).
    pub(crate) async fn observe_metrics(&self, o: &mut Observed) {
        let Some(task) = &o.task else { return };
        if self.spec.dms.validation || tables_errored(task) > 0 {
            match self
                .call_attempts(Step::Observe, &task.arn, METRIC_ATTEMPTS, || {
                    self.aws().describe_table_statistics(&task.arn)
                })
                .await
            {
                Ok(t) => {
                    if self.spec.dms.validation {
                        o.validation = ValidationSummary::from_tables(&t);
                    }
                    o.tables_in_error = tables_in_error(&t);
                }
                Err(e) => tracing::warn!(error = %e, "table statistics unavailable"),
            }
        }
        if let Some(l) = self.task_lag(o, task).await {
            o.lag = l;
        }
        if let Some(rt) = o.reverse_task.clone()
            && let Some(l) = self.task_lag(o, &rt).await
        {
            o.reverse_lag = l;
        }
    }

    /// The task's CDC latency when it runs; best-effort (`None` on failure or not running).
    pub(crate) async fn task_lag(
        &self,
        o: &Observed,
        task: &ReplicationTask,
    ) -> Option<CdcLatency> {
        if task.status != ReplicationTaskStatus::Running {
            return None;
        }
        let ri = o.replication_instance.as_ref()?;
        let q = CdcLatencyQuery {
            replication_instance_identifier: ri.identifier.clone(),
            replication_task_identifier: task
                .arn
                .rsplit(':')
                .next()
                .unwrap_or(&task.identifier)
                .to_owned(),
            end: self.e.clock.wall_time(),
            window: LAG_WINDOW,
            period: self.e.poll.metric_period,
        };
        match self
            .call_attempts(Step::Observe, &task.arn, METRIC_ATTEMPTS, || {
                self.aws().cdc_latency(&q)
            })
            .await
        {
            Ok(l) => Some(l),
            Err(e) => {
                tracing::warn!(error = %e, "CDC latency unavailable");
                None
            }
        }
    }
}
