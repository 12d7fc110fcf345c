//! The switch itself (Route 53 CNAME or identifier swap) and the reverse task that keeps the
//! original instance in sync for a failback.

use super::*;

impl Run<'_> {
    /// Points the application at the target (`forward`) or back at the source. Idempotent:
    /// each strategy checks where things point first. Identifier swap is a small state
    /// machine over which names exist, so a half-done swap is completed in the direction
    /// asked for.
    pub(crate) async fn switch(
        &self,
        cut: &CutoverSpec,
        source: &DbInstance,
        target: &DbInstance,
        forward: bool,
    ) -> Result<(), EngineError> {
        let phase = if forward {
            Phase::CuttingOver
        } else {
            Phase::FailingBack
        };
        match &cut.strategy {
            CutoverStrategy::None => Ok(()),
            CutoverStrategy::Route53(r) => {
                let to = if forward { target } else { source };
                let value = to
                    .endpoint
                    .as_ref()
                    .map(|e| e.address.clone())
                    .ok_or_else(|| EngineError::Failed {
                        step: Step::SwitchRoute53,
                        id: to.identifier.clone(),
                        status: to.status.to_string(),
                        reason: Some("the instance has no endpoint address".into()),
                    })?;
                self.point_cname(r, &value, phase).await
            }
            CutoverStrategy::IdentifierSwap => self.swap(forward, phase).await,
        }
    }

    pub(super) async fn point_cname(
        &self,
        r: &Route53Record,
        value: &str,
        phase: Phase,
    ) -> Result<(), EngineError> {
        let aws = self.aws();
        let current = self
            .find(Step::SwitchRoute53, &r.record_name, || {
                aws.describe_cname(&r.zone_id, &r.record_name)
            })
            .await?;
        if current.is_some_and(|c| c.value.trim_end_matches('.').eq_ignore_ascii_case(value)) {
            return Ok(());
        }
        let input = UpsertCnameInput {
            zone_id: r.zone_id.clone(),
            record_name: r.record_name.clone(),
            value: value.to_owned(),
            ttl: r.ttl,
            comment: format!("rdsenc migration {}: {phase}", self.names.migration),
        };
        let change = self
            .call(Step::SwitchRoute53, &r.record_name, || {
                aws.upsert_cname(&input)
            })
            .await?;
        let w = Waiter {
            phase,
            ..WAIT_ROUTE53
        };
        self.wait(
            &w,
            &change,
            true,
            || async { with_status(aws.route53_change_status(&change).await, Clone::clone) },
            no_percent,
            |_| None,
        )
        .await?;
        Ok(())
    }

    pub(super) async fn rename(
        &self,
        from: &str,
        to: &str,
        phase: Phase,
    ) -> Result<(), EngineError> {
        let input = ModifyDbInstanceInput {
            db_instance_identifier: from.to_owned(),
            new_db_instance_identifier: Some(to.to_owned()),
            apply_immediately: true,
            ..Default::default()
        };
        // RDS keeps a name reserved for a while after the instance holding it was renamed
        // away: retry "already exists" until the deadline when no instance holds it.
        let mut attempt = 1u32;
        loop {
            match self
                .call(Step::RenameInstance, from, || {
                    self.aws().modify_db_instance(&input)
                })
                .await
            {
                Ok(_) => break,
                Err(EngineError::Aws { source, .. })
                    if matches!(source, AwsError::AlreadyExists { .. })
                        && self
                            .find(Step::RenameInstance, to, || {
                                self.aws().describe_db_instance(to)
                            })
                            .await?
                            .is_none() =>
                {
                    let d = self.e.poll.interval(attempt);
                    if self.now() + d >= self.deadline {
                        return Err(EngineError::aws(Step::RenameInstance, from, source));
                    }
                    attempt += 1;
                    self.sleep(Step::RenameInstance, d).await?;
                }
                Err(e) => return Err(e),
            }
        }
        self.emit(
            phase,
            Step::RenameInstance,
            from,
            None,
            &format!("renaming to {to}"),
        );
        let w = Waiter {
            phase,
            ..WAIT_RENAMED
        };
        self.wait(
            &w,
            to,
            true,
            || async {
                with_status(self.aws().describe_db_instance(to).await, |i| {
                    i.status.clone()
                })
            },
            no_percent,
            |_| None,
        )
        .await?;
        Ok(())
    }

    pub(crate) async fn swap(&self, forward: bool, phase: Phase) -> Result<(), EngineError> {
        let n = &self.names;
        let original = n.migration.clone();
        let renamed = unencrypted_name(n);
        let encrypted = n.target.clone();
        // At most two renames either way; the bound guards against a loop on odd states.
        for _ in 0..4 {
            let aws = self.aws();
            let (a, b, t) = tokio::join!(
                self.find(Step::RenameInstance, &original, || aws
                    .describe_db_instance(&original)),
                self.find(Step::RenameInstance, &renamed, || aws
                    .describe_db_instance(&renamed)),
                self.find(Step::RenameInstance, &encrypted, || aws
                    .describe_db_instance(&encrypted)),
            );
            let (a, b, t) = (a?, b?, t?);
            let a_is_target = a.as_ref().is_some_and(|i| is_our_target(n, i));
            let t_is_target = t.as_ref().is_some_and(|i| is_our_target(n, i));
            match (forward, a.is_some(), a_is_target, b.is_some(), t_is_target) {
                // Forward done: <source> names the encrypted instance.
                (true, true, true, _, _) => return Ok(()),
                // Forward step 1: the original moves out of the way.
                (true, true, false, false, _) => self.rename(&original, &renamed, phase).await?,
                // Forward step 2: the encrypted instance takes the name.
                (true, false, _, true, true) => self.rename(&encrypted, &original, phase).await?,
                // Back done: <source> is the original again.
                (false, true, false, false, _) => return Ok(()),
                // Back step 1: the encrypted instance returns to its own name.
                (false, true, true, _, false) => self.rename(&original, &encrypted, phase).await?,
                // Back step 2: the original takes its name back.
                (false, false, _, true, _) => self.rename(&renamed, &original, phase).await?,
                _ => {
                    return Err(EngineError::Failed {
                        step: Step::RenameInstance,
                        id: original.clone(),
                        status: format!(
                            "{original}: {}, {renamed}: {}, {encrypted}: {}",
                            presence(a.as_ref(), a_is_target),
                            presence(b.as_ref(), false),
                            presence(t.as_ref(), t_is_target)
                        ),
                        reason: Some(
                            "the identifier swap found names in a state it cannot continue from; fix the names by hand and apply again".into(),
                        ),
                    });
                }
            }
        }
        Err(EngineError::Failed {
            step: Step::RenameInstance,
            id: original,
            status: "renaming".into(),
            reason: Some("the identifier swap did not settle".into()),
        })
    }

    /// The reverse endpoints, at the instances' current addresses (created when missing,
    /// moved when a swap moved the names): (reads the encrypted instance, writes the
    /// original).
    pub(super) async fn reverse_endpoints(
        &self,
        o: &Observed,
    ) -> Result<(Endpoint, Endpoint), EngineError> {
        let source = self.require_source(o)?;
        let target = self.require_target(o)?;
        let n = &self.names;
        let target_creds = self.spec.dms.target_credentials_or_source();
        let db_name = self.database_name(&source);
        let rev_src = self
            .ensure_reverse_endpoint(
                o.reverse_source_endpoint.as_ref(),
                &reverse_source_endpoint_name(n),
                EndpointType::Source,
                &target,
                &source.engine,
                db_name.clone(),
                target_creds,
                None,
            )
            .await?;
        let rev_tgt = self
            .ensure_reverse_endpoint(
                o.reverse_target_endpoint.as_ref(),
                &reverse_target_endpoint_name(n),
                EndpointType::Target,
                &source,
                &source.engine,
                db_name,
                self.spec.dms.source_credentials.clone(),
                target_after_connect_script(&source.engine),
            )
            .await?;
        Ok((rev_src, rev_tgt))
    }

    /// Starts reverse CDC for this cutover and waits until it runs. Called while nothing
    /// writes to the encrypted instance (forward task stopped, application not switched),
    /// so the current end of its log is exactly where the application's writes will begin.
    /// The task is CDC-only and started with `start-replication` and no
    /// `CdcStartPosition`: DMS then reads from the current end of the log (MySQL/MariaDB:
    /// the binlog position at the start; PostgreSQL: the slot DMS creates at the start).
    /// No position comes from the runner's clock.
    pub(super) async fn start_reverse(&self, o: &Observed) -> Result<(), EngineError> {
        let source = self.require_source(o)?;
        let ri = o.replication_instance.clone().ok_or_else(|| {
            EngineError::deleted(
                Step::CreateReverseTask,
                self.names.replication_instance.clone(),
                Some("the DMS replication instance does not exist"),
            )
        })?;
        let (rev_src, rev_tgt) = self.reverse_endpoints(o).await?;
        let n = &self.names;
        let input = CreateReplicationTaskInput {
            identifier: n.reverse_task.clone(),
            replication_instance_arn: ri.arn.clone(),
            source_endpoint_arn: rev_src.arn.clone(),
            target_endpoint_arn: rev_tgt.arn.clone(),
            migration_type: MigrationType::Cdc,
            table_mappings: o
                .task
                .as_ref()
                .map(|t| t.table_mappings.clone())
                .unwrap_or_else(|| crate::spec::default_table_mappings(&source.engine)),
            task_settings: self.cdc_task_settings(),
            cdc_start_position: None,
            tags: n.tags(Role::ReverseTask),
        };
        let task = self
            .fresh_task(
                o.reverse_task.as_ref(),
                &input,
                Step::CreateReverseTask,
                Phase::CuttingOver,
            )
            .await?;
        self.start_fresh(&task, Phase::CuttingOver).await
    }

    /// The task settings of a CDC-only task (the configured ones, no load).
    pub(crate) fn cdc_task_settings(&self) -> String {
        let mut dms = self.spec.dms.clone();
        dms.migration_type = MigrationType::Cdc;
        task_settings_json(&dms)
    }

    /// A task named `input.identifier` that has never run (or already runs), for
    /// [`Run::start_fresh`]. `start-replication` is valid only for a task's first run
    /// (DMS API, `StartReplicationTaskType`), and a task that ran before would otherwise
    /// resume from its own checkpoint, in a direction that has since changed: such a task
    /// is deleted and created again.
    pub(crate) async fn fresh_task(
        &self,
        existing: Option<&ReplicationTask>,
        input: &CreateReplicationTaskInput,
        step: Step,
        phase: Phase,
    ) -> Result<ReplicationTask, EngineError> {
        use ReplicationTaskStatus as S;
        let aws = self.aws();
        let id = &input.identifier;
        let w = Waiter {
            step,
            phase,
            ..WAIT_TASK_IDLE
        };
        if let Some(t) = existing {
            match t.status {
                S::Creating | S::Ready | S::Running | S::Starting => {
                    let which = DmsRef::Arn(t.arn.clone());
                    let now = self.wait_task(&w, id, &which, false).await?;
                    return Ok(now.unwrap_or_else(|| t.clone()));
                }
                _ => self.delete_task(t, phase).await?,
            }
        }
        let t = self
            .create_dms(
                step,
                id,
                "DMS Replication Task",
                || aws.create_replication_task(input),
                |t: &ReplicationTask| &t.arn,
                |r| async move { aws.describe_replication_task(&r).await },
            )
            .await?;
        self.emit(phase, step, id, None, "creating");
        let which = DmsRef::Arn(t.arn.clone());
        Ok(self.wait_task(&w, id, &which, true).await?.unwrap_or(t))
    }

    /// Starts a task from [`Run::fresh_task`] with `start-replication` and no position (CDC
    /// from the current end of its source's log), unless it runs already, and waits until
    /// it runs.
    pub(crate) async fn start_fresh(
        &self,
        task: &ReplicationTask,
        phase: Phase,
    ) -> Result<(), EngineError> {
        let which = DmsRef::Arn(task.arn.clone());
        let w = Waiter {
            phase,
            ..WAIT_CDC_RUNNING
        };
        if task.status == ReplicationTaskStatus::Ready {
            let input = StartReplicationTaskInput {
                arn: task.arn.clone(),
                start_type: StartType::StartReplication,
                cdc_start_position: None,
            };
            self.start_task(Step::StartCdc, &task.identifier, &input)
                .await?;
            self.emit(
                phase,
                Step::StartCdc,
                &task.identifier,
                None,
                "starting CDC at the current end of the log",
            );
        }
        let t = self.wait_task(&w, &task.identifier, &which, true).await?;
        if t.as_ref()
            .is_some_and(|t| !is_replicating(t) && t.status != ReplicationTaskStatus::Running)
        {
            return Err(EngineError::Failed {
                step: Step::StartCdc,
                id: task.identifier.clone(),
                status: "not running".into(),
                reason: None,
            });
        }
        Ok(())
    }

    /// Resumes a task held stopped across an identifier swap from its own checkpoint (the
    /// direction it ran in), unless it runs already, and waits until it runs.
    pub(crate) async fn resume_held(
        &self,
        t: &ReplicationTask,
        phase: Phase,
    ) -> Result<(), EngineError> {
        if t.status == ReplicationTaskStatus::Running {
            return Ok(());
        }
        let w = Waiter {
            phase,
            ..WAIT_CDC_RUNNING
        };
        self.resume_task(Step::StartCdc, t, Some(&w)).await
    }

    /// Points a DMS endpoint at `inst`'s current address (an identifier swap moves the
    /// addresses with the names); returns the endpoint as it is now.
    pub(crate) async fn follow_address(
        &self,
        e: &Endpoint,
        inst: &DbInstance,
    ) -> Result<Endpoint, EngineError> {
        let address = inst.endpoint.clone().ok_or_else(|| EngineError::Failed {
            step: Step::ModifyEndpoint,
            id: inst.identifier.clone(),
            status: inst.status.to_string(),
            reason: Some("the instance has no endpoint address".into()),
        })?;
        if e.server_name.as_deref() == Some(address.address.as_str())
            && e.port == Some(address.port)
        {
            return Ok(e.clone());
        }
        let input = ModifyEndpointInput {
            arn: e.arn.clone(),
            server_name: Some(address.address.clone()),
            port: Some(address.port),
            ..Default::default()
        };
        let aws = self.aws();
        self.call(Step::ModifyEndpoint, &e.identifier, || {
            aws.modify_endpoint(&input)
        })
        .await
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) async fn ensure_reverse_endpoint(
        &self,
        existing: Option<&Endpoint>,
        id: &str,
        endpoint_type: EndpointType,
        inst: &DbInstance,
        engine: &DbEngine,
        database_name: Option<String>,
        credentials: EndpointCredentials,
        after_connect_script: Option<String>,
    ) -> Result<Endpoint, EngineError> {
        let aws = self.aws();
        let address = inst.endpoint.clone().ok_or_else(|| EngineError::Failed {
            step: Step::CreateReverseEndpoint,
            id: inst.identifier.clone(),
            status: inst.status.to_string(),
            reason: Some("the instance has no endpoint address".into()),
        })?;
        if let Some(e) = existing {
            // The addresses follow the names: after a swap the instances answer elsewhere.
            return self.follow_address(e, inst).await;
        }
        let mut tags = self.names.tags(Role::ReverseTask);
        tags.insert(
            TAG_ROLE.to_owned(),
            match endpoint_type {
                EndpointType::Source => "reverse-source-endpoint".to_owned(),
                _ => "reverse-target-endpoint".to_owned(),
            },
        );
        let input = CreateEndpointInput {
            identifier: id.to_owned(),
            endpoint_type,
            engine: EndpointEngine::for_db_engine(engine),
            server_name: address.address,
            port: address.port,
            database_name,
            credentials,
            ssl_mode: SslMode::Require,
            after_connect_script,
            extra_connection_attributes: None,
            tags,
        };
        self.create_dms(
            Step::CreateReverseEndpoint,
            id,
            "DMS Endpoint",
            || aws.create_endpoint(&input),
            |e: &Endpoint| &e.arn,
            |r| async move { aws.describe_endpoint(&r).await },
        )
        .await
    }
}

impl Run<'_> {
    /// Creates the DMS object `id`; on `AlreadyExists` (created by an interrupted call
    /// whose answer was lost) adopts the object of that name when it carries our tags.
    async fn create_dms<T, C, CF, D, DF>(
        &self,
        step: Step,
        id: &str,
        kind: &'static str,
        create: C,
        arn_of: fn(&T) -> &str,
        describe: D,
    ) -> Result<T, EngineError>
    where
        C: FnMut() -> CF,
        CF: std::future::Future<Output = Result<T, AwsError>>,
        D: Fn(DmsRef) -> DF,
        DF: std::future::Future<Output = Result<T, AwsError>>,
    {
        match self.call(step, id, create).await {
            Ok(t) => Ok(t),
            Err(EngineError::Aws {
                source: AwsError::AlreadyExists { .. },
                ..
            }) => self
                .owned_dms(None, id, arn_of, describe)
                .await?
                .ok_or_else(|| EngineError::ForeignObject {
                    attribute: None,
                    kind,
                    id: id.to_owned(),
                    migration: self.names.migration.clone(),
                }),
            Err(e) => Err(e),
        }
    }
}

pub(super) fn presence(i: Option<&DbInstance>, ours: bool) -> &'static str {
    match (i, ours) {
        (None, _) => "absent",
        (Some(_), true) => "the encrypted target",
        (Some(_), false) => "another instance",
    }
}
