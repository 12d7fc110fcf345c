//! The DMS side of the create path: subnet group, replication instance, endpoints, task.

use super::*;

impl Run<'_> {
    // ----- DMS base -----

    pub(super) async fn ensure_dms_base(
        &self,
        source: &DbInstance,
        key: &KmsKey,
    ) -> Result<(ReplicationInstance, Endpoint), EngineError> {
        let (ri, ep) = tokio::join!(
            self.ensure_replication_instance(source, key),
            self.ensure_source_endpoint(source)
        );
        first_error(ri, ep)
    }

    pub(super) async fn ensure_subnet_group(
        &self,
        source: &DbInstance,
    ) -> Result<String, EngineError> {
        if let Some(g) = &self.spec.dms.replication_subnet_group_id {
            return Ok(g.clone());
        }
        let id = &self.names.replication_subnet_group;
        let description = subnet_group_description(&self.names.migration);
        let existing = self
            .find(Step::CreateSubnetGroup, id, || {
                self.aws().describe_replication_subnet_group(id)
            })
            .await?;
        match existing {
            Some(g) if g.description != description => {
                Err(self.foreign(None, "DMS Replication Subnet Group", id))
            }
            Some(_) => Ok(id.clone()),
            None => {
                let subnets = source
                    .db_subnet_group
                    .as_ref()
                    .map(|g| g.subnet_ids.clone())
                    .unwrap_or_default();
                if subnets.is_empty() {
                    return Err(EngineError::InvalidSpec {
                        attribute: "dms.replication_subnet_group_id",
                        message: format!(
                            "the source {} has no DB subnet group to derive one from; set replication_subnet_group_id or replication_instance_arn",
                            source.identifier
                        ),
                    });
                }
                let input = CreateReplicationSubnetGroupInput {
                    identifier: id.clone(),
                    description,
                    subnet_ids: subnets,
                    tags: self.names.tags(Role::ReplicationSubnetGroup),
                };
                self.create_or_adopt(Step::CreateSubnetGroup, id, || {
                    self.aws().create_replication_subnet_group(&input)
                })
                .await?;
                Ok(id.clone())
            }
        }
    }

    pub(super) async fn ensure_replication_instance(
        &self,
        source: &DbInstance,
        key: &KmsKey,
    ) -> Result<ReplicationInstance, EngineError> {
        let aws = self.aws();
        let (which, fresh) = if let Some(arn) = &self.spec.dms.replication_instance_arn {
            let r = DmsRef::Arn(arn.clone());
            if self
                .find(Step::WaitReplicationInstance, arn, || {
                    aws.describe_replication_instance(&r)
                })
                .await?
                .is_none()
            {
                return Err(EngineError::Missing {
                    attribute: "dms.replication_instance_arn",
                    kind: "DMS Replication Instance",
                    id: arn.clone(),
                });
            }
            (r, false)
        } else {
            let id = &self.names.replication_instance;
            let existing = self
                .owned_or_foreign(
                    id,
                    "DMS Replication Instance",
                    |r: &ReplicationInstance| r.arn.clone(),
                    |r| async move { aws.describe_replication_instance(&r).await },
                )
                .await?;
            let fresh = if existing.is_some() {
                false
            } else {
                let subnet_group = self.ensure_subnet_group(source).await?;
                let d = &self.spec.dms;
                let input = CreateReplicationInstanceInput {
                    identifier: id.clone(),
                    instance_class: d
                        .replication_instance_class
                        .clone()
                        .unwrap_or_else(|| DEFAULT_REPLICATION_INSTANCE_CLASS.into()),
                    allocated_storage: Some(
                        d.allocated_storage
                            .unwrap_or(DEFAULT_REPLICATION_INSTANCE_STORAGE),
                    ),
                    subnet_group_identifier: Some(subnet_group),
                    vpc_security_group_ids: if d.vpc_security_group_ids.is_empty() {
                        source.vpc_security_group_ids.clone()
                    } else {
                        d.vpc_security_group_ids.clone()
                    },
                    multi_az: false,
                    publicly_accessible: false,
                    engine_version: None,
                    // DMS spills changes to its own storage: encrypt it with the same key.
                    kms_key_id: Some(key.arn.clone()),
                    tags: self.names.tags(Role::ReplicationInstance),
                };
                self.create_or_adopt(Step::CreateReplicationInstance, id, || {
                    aws.create_replication_instance(&input)
                })
                .await?;
                self.emit(
                    Phase::ProvisioningReplication,
                    Step::CreateReplicationInstance,
                    id,
                    None,
                    "creating",
                );
                true
            };
            (DmsRef::Id(id.clone()), fresh)
        };
        let id = which.as_str().to_owned();
        self.wait(
            &WAIT_REPLICATION_INSTANCE,
            &id,
            fresh,
            || async {
                with_status(aws.describe_replication_instance(&which).await, |r| {
                    r.status.clone()
                })
            },
            none,
            no_reason,
        )
        .await?
        .ok_or_else(|| EngineError::deleted(Step::WaitReplicationInstance, id, None))
    }

    /// Finds a DMS object by deterministic name; refuses it when it lacks our tags.
    pub(super) async fn owned_or_foreign<T, F, Fut>(
        &self,
        id: &str,
        kind: &'static str,
        arn_of: fn(&T) -> String,
        f: F,
    ) -> Result<Option<T>, EngineError>
    where
        F: Fn(DmsRef) -> Fut,
        Fut: std::future::Future<Output = Result<T, AwsError>>,
    {
        let r = DmsRef::Id(id.to_owned());
        let Some(v) = self.find(Step::Observe, id, || f(r.clone())).await? else {
            return Ok(None);
        };
        let arn = arn_of(&v);
        let tags = self
            .find(Step::Observe, &arn, || self.aws().list_tags(&arn))
            .await?
            .unwrap_or_default();
        if self.names.owns(&tags) {
            Ok(Some(v))
        } else {
            Err(self.foreign(None, kind, id))
        }
    }

    pub(super) async fn ensure_read_replica(
        &self,
        source: &DbInstance,
    ) -> Result<DbInstance, EngineError> {
        let id = &self.names.read_replica;
        let existing = self
            .find(Step::CreateReadReplica, id, || {
                self.aws().describe_db_instance(id)
            })
            .await?;
        let fresh = match existing {
            Some(r) if !self.names.owns(&r.tags) => {
                return Err(self.foreign(None, "RDS DB Instance", id));
            }
            Some(_) => false,
            None => {
                let input = CreateReadReplicaInput {
                    db_instance_identifier: id.clone(),
                    source_db_instance_identifier: source.identifier.clone(),
                    instance_class: None,
                    availability_zone: None,
                    db_parameter_group_name: source.db_parameter_group_name.clone(),
                    vpc_security_group_ids: source.vpc_security_group_ids.clone(),
                    publicly_accessible: source.publicly_accessible,
                    tags: self.names.tags(Role::ReadReplica),
                };
                self.create_or_adopt(Step::CreateReadReplica, id, || {
                    self.aws().create_read_replica(&input)
                })
                .await?;
                true
            }
        };
        let replica = self.wait_instance(&WAIT_REPLICA, id, fresh).await?;
        // A MySQL/MariaDB replica writes the binary log DMS reads only with backups on, and
        // RDS creates replicas with backups off.
        if matches!(source.engine, DbEngine::Mysql | DbEngine::Mariadb)
            && replica.backup_retention_period == 0
        {
            let input = ModifyDbInstanceInput {
                db_instance_identifier: id.clone(),
                backup_retention_period: Some(1),
                apply_immediately: true,
                ..Default::default()
            };
            self.call(Step::CreateReadReplica, id, || {
                self.aws().modify_db_instance(&input)
            })
            .await?;
            return self.wait_instance(&WAIT_REPLICA, id, true).await;
        }
        Ok(replica)
    }

    /// The database DMS connects to: `dms.database_name`, else for PostgreSQL the source's
    /// DBName or `postgres` (MySQL and MariaDB endpoints name none).
    pub(crate) fn database_name(&self, source: &DbInstance) -> Option<String> {
        match source.engine {
            DbEngine::Postgres => Some(
                self.spec
                    .dms
                    .database_name
                    .clone()
                    .or_else(|| source.db_name.clone())
                    .unwrap_or_else(|| "postgres".into()),
            ),
            _ => self.spec.dms.database_name.clone(),
        }
    }

    pub(super) async fn ensure_endpoint(
        &self,
        input: CreateEndpointInput,
        step: Step,
    ) -> Result<Endpoint, EngineError> {
        let aws = self.aws();
        let existing = self
            .owned_or_foreign(
                &input.identifier,
                "DMS Endpoint",
                |e: &Endpoint| e.arn.clone(),
                |r| async move { aws.describe_endpoint(&r).await },
            )
            .await?;
        if let Some(e) = existing {
            return Ok(e);
        }
        let id = input.identifier.clone();
        self.create_or_adopt(step, &id, || aws.create_endpoint(&input))
            .await?;
        self.owned_or_foreign(
            &id,
            "DMS Endpoint",
            |e: &Endpoint| e.arn.clone(),
            |r| async move { aws.describe_endpoint(&r).await },
        )
        .await?
        .ok_or_else(|| {
            let why = "the endpoint disappeared right after it was created";
            EngineError::deleted(step, id, Some(why))
        })
    }

    pub(super) async fn ensure_source_endpoint(
        &self,
        source: &DbInstance,
    ) -> Result<Endpoint, EngineError> {
        let reader = if self.spec.dms.source_from_read_replica {
            self.ensure_read_replica(source).await?
        } else {
            source.clone()
        };
        let addr = reader.endpoint.clone().ok_or_else(|| EngineError::Failed {
            step: Step::CreateSourceEndpoint,
            id: reader.identifier.clone(),
            status: reader.status.to_string(),
            reason: Some("the instance has no endpoint address".into()),
        })?;
        let input = CreateEndpointInput {
            identifier: self.names.source_endpoint.clone(),
            endpoint_type: EndpointType::Source,
            engine: EndpointEngine::for_db_engine(&source.engine),
            server_name: addr.address,
            port: addr.port,
            database_name: self.database_name(source),
            credentials: self.spec.dms.source_credentials.clone(),
            ssl_mode: SslMode::Require,
            after_connect_script: None,
            extra_connection_attributes: None,
            tags: self.names.tags(Role::SourceEndpoint),
        };
        self.ensure_endpoint(input, Step::CreateSourceEndpoint)
            .await
    }

    pub(crate) fn target_endpoint_input(
        &self,
        source: &DbInstance,
        target: &DbInstance,
    ) -> Option<CreateEndpointInput> {
        let addr = target.endpoint.clone()?;
        Some(CreateEndpointInput {
            identifier: self.names.target_endpoint.clone(),
            endpoint_type: EndpointType::Target,
            engine: EndpointEngine::for_db_engine(&source.engine),
            server_name: addr.address,
            port: addr.port,
            database_name: self.database_name(source),
            credentials: self.spec.dms.target_credentials_or_source(),
            ssl_mode: SslMode::Require,
            after_connect_script: target_after_connect_script(&source.engine),
            extra_connection_attributes: None,
            tags: self.names.tags(Role::TargetEndpoint),
        })
    }

    pub(super) async fn ensure_target_endpoint(
        &self,
        source: &DbInstance,
        target: &DbInstance,
    ) -> Result<Endpoint, EngineError> {
        let input =
            self.target_endpoint_input(source, target)
                .ok_or_else(|| EngineError::Failed {
                    step: Step::CreateTargetEndpoint,
                    id: target.identifier.clone(),
                    status: target.status.to_string(),
                    reason: Some("the target has no endpoint address".into()),
                })?;
        self.ensure_endpoint(input, Step::CreateTargetEndpoint)
            .await
    }

    pub(super) async fn ensure_connection(
        &self,
        ri: &ReplicationInstance,
        ep: &Endpoint,
    ) -> Result<(), EngineError> {
        let aws = self.aws();
        let id = &ep.identifier;
        let existing = self
            .find(Step::TestConnection, id, || {
                aws.describe_connection(&ri.arn, &ep.arn)
            })
            .await?;
        let fresh = match existing.map(|c| c.status) {
            Some(ConnectionStatus::Successful) => return Ok(()),
            Some(ConnectionStatus::Testing) => false,
            _ => {
                self.call(Step::TestConnection, id, || {
                    aws.test_connection(&ri.arn, &ep.arn)
                })
                .await?;
                true
            }
        };
        self.wait(
            &WAIT_CONNECTION,
            id,
            fresh,
            || async {
                with_status(aws.describe_connection(&ri.arn, &ep.arn).await, |c| {
                    c.status.clone()
                })
            },
            none,
            |c: &Connection| c.last_failure_message.clone(),
        )
        .await?;
        Ok(())
    }

    // ----- task -----

    pub(crate) fn table_mappings(&self, source: &DbInstance) -> String {
        self.spec
            .dms
            .table_mappings
            .clone()
            .unwrap_or_else(|| default_table_mappings(&source.engine))
    }

    pub(super) async fn ensure_task(
        &self,
        source: &DbInstance,
        ri: &ReplicationInstance,
        src: &Endpoint,
        tgt: &Endpoint,
    ) -> Result<ReplicationTask, EngineError> {
        let aws = self.aws();
        let id = &self.names.task;
        let existing = self
            .owned_or_foreign(
                id,
                "DMS Replication Task",
                |t: &ReplicationTask| t.arn.clone(),
                |r| async move { aws.describe_replication_task(&r).await },
            )
            .await?;
        let fresh = if existing.is_some() {
            false
        } else {
            let d = &self.spec.dms;
            let input = CreateReplicationTaskInput {
                identifier: id.clone(),
                replication_instance_arn: ri.arn.clone(),
                source_endpoint_arn: src.arn.clone(),
                target_endpoint_arn: tgt.arn.clone(),
                migration_type: d.migration_type.clone(),
                table_mappings: self.table_mappings(source),
                task_settings: task_settings_json(d),
                cdc_start_position: d.cdc_start_position.clone(),
                tags: self.names.tags(Role::ReplicationTask),
            };
            self.create_or_adopt(Step::CreateTask, id, || aws.create_replication_task(&input))
                .await?;
            self.emit(
                Phase::ProvisioningReplication,
                Step::CreateTask,
                id,
                None,
                "creating",
            );
            true
        };
        let which = DmsRef::Id(id.clone());
        self.wait_task(&WAIT_TASK_SETTLED, id, &which, fresh)
            .await?
            .ok_or_else(|| EngineError::deleted(Step::WaitTaskReady, id.clone(), None))
    }

    pub(super) async fn ensure_replicating(
        &self,
        task: &ReplicationTask,
    ) -> Result<(), EngineError> {
        let aws = self.aws();
        let start_type = match task.status {
            ReplicationTaskStatus::Ready => Some(StartType::StartReplication),
            // Stopped by an interrupted settings update (or by hand), or failed in an
            // earlier apply (which reported DMS's message): continue from the checkpoint;
            // never reload, which would truncate the target again.
            ReplicationTaskStatus::Stopped | ReplicationTaskStatus::Failed => {
                if task.status == ReplicationTaskStatus::Failed {
                    tracing::warn!(
                        id = %task.identifier,
                        reason = task_failure(task).unwrap_or_default(),
                        "resuming a replication task that failed in an earlier apply"
                    );
                }
                Some(StartType::ResumeProcessing)
            }
            _ => None,
        };
        let fresh = start_type.is_some();
        if let Some(start_type) = start_type {
            // A position goes with start-replication only: resume-processing continues
            // from the task's own checkpoint (DMS API, StartReplicationTaskType).
            let position = match (&self.spec.dms.migration_type, &start_type) {
                (MigrationType::Cdc, StartType::StartReplication) => {
                    self.spec.dms.cdc_start_position.clone()
                }
                _ => None,
            };
            let input = StartReplicationTaskInput {
                arn: task.arn.clone(),
                start_type,
                cdc_start_position: position,
            };
            self.start_task(Step::StartTask, &task.identifier, &input)
                .await?;
            self.emit(
                Phase::FullLoad,
                Step::StartTask,
                &task.identifier,
                Some(0),
                "starting",
            );
        }
        let which = DmsRef::Arn(task.arn.clone());
        self.wait(
            &WAIT_FULL_LOAD,
            &task.identifier,
            fresh,
            || async { with_status(aws.describe_replication_task(&which).await, load_state) },
            task_percent,
            task_failure,
        )
        .await?;
        Ok(())
    }
}
