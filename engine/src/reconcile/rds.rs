//! The RDS chain of the create path: source, snapshot, encrypted copy, restore, target settings.

use super::*;

impl Run<'_> {
    pub(crate) async fn reconcile(&self) -> Result<(), EngineError> {
        if let Err(mut errs) = self.spec.validate() {
            return Err(errs.remove(0));
        }
        let key = self.resolve_key().await?;
        let source = self.source().await?;

        let branches = self.cancel.child_token();
        let rds_run = self.child(branches.clone());
        let dms_run = self.child(branches.clone());
        let rds = async {
            let r = rds_run.ensure_target(&source, &key).await;
            if r.is_err() {
                branches.cancel();
            }
            r
        };
        let dms = async {
            let r = dms_run.ensure_dms_base(&source, &key).await;
            if r.is_err() {
                branches.cancel();
            }
            r
        };
        let (target, dms) = tokio::join!(rds, dms);
        let (target, (ri, source_endpoint)) = first_error(target, dms)?;

        let target_endpoint = self.ensure_target_endpoint(&source, &target).await?;
        // Prove both connections before the task: a wrong password or security group
        // then fails in minutes with DMS's message, not deep inside a task start.
        let (s, t) = tokio::join!(
            self.ensure_connection(&ri, &source_endpoint),
            self.ensure_connection(&ri, &target_endpoint)
        );
        first_error(s, t)?;
        let task = self
            .ensure_task(&source, &ri, &source_endpoint, &target_endpoint)
            .await?;
        self.ensure_replicating(&task).await?;
        self.emit(
            Phase::Replicating,
            Step::WaitFullLoad,
            &task.identifier,
            Some(100),
            "running",
        );
        Ok(())
    }

    pub(crate) async fn resolve_key(&self) -> Result<KmsKey, EngineError> {
        self.resolve_key_at(&self.spec.kms_key_id, "kms_key_id")
            .await
    }

    /// Resolves and checks the key `id` given in `attribute` (an RDS-usable key: enabled,
    /// symmetric, encrypt/decrypt).
    pub(crate) async fn resolve_key_at(
        &self,
        id: &str,
        attribute: &'static str,
    ) -> Result<KmsKey, EngineError> {
        let key = self
            .find(Step::ResolveKmsKey, id, || self.aws().describe_kms_key(id))
            .await?
            .ok_or_else(|| EngineError::Missing {
                attribute,
                kind: "KMS Key",
                id: id.to_owned(),
            })?;
        let unusable = |reason: String| EngineError::Unusable {
            attribute,
            kind: "KMS Key",
            id: id.to_owned(),
            reason,
        };
        if key.state != KmsKeyState::Enabled {
            return Err(unusable(format!(
                "key state is {}; RDS needs an Enabled key",
                key.state
            )));
        }
        // Refuse only what is known to be wrong: an absent field (some emulators omit it)
        // is left for RDS to judge.
        let unknown = |s: &str| s.is_empty();
        let usage_ok = key.usage == KmsKeyUsage::EncryptDecrypt || unknown(key.usage.as_str());
        let spec_ok = key.spec == KmsKeySpec::SymmetricDefault || unknown(key.spec.as_str());
        if !(usage_ok && spec_ok) {
            return Err(unusable(format!(
                "key is {} / {}; RDS needs a SYMMETRIC_DEFAULT ENCRYPT_DECRYPT key",
                key.spec, key.usage
            )));
        }
        Ok(key)
    }

    pub(crate) async fn source(&self) -> Result<DbInstance, EngineError> {
        let id = &self.names.migration;
        let src = self
            .find(Step::DescribeSource, id, || {
                self.aws().describe_db_instance(id)
            })
            .await?
            .ok_or_else(|| EngineError::Missing {
                attribute: "source_db_instance_identifier",
                kind: "RDS DB Instance",
                id: id.clone(),
            })?;
        if !matches!(
            src.engine,
            DbEngine::Mysql | DbEngine::Mariadb | DbEngine::Postgres
        ) {
            return Err(EngineError::Unusable {
                attribute: "source_db_instance_identifier",
                kind: "RDS DB Instance",
                id: id.clone(),
                reason: format!(
                    "engine {} is not supported (mysql, mariadb, postgres)",
                    src.engine
                ),
            });
        }
        if self.spec.dms.source_from_read_replica && src.backup_retention_period == 0 {
            return Err(EngineError::Unusable {
                attribute: "source_db_instance_identifier",
                kind: "RDS DB Instance",
                id: id.clone(),
                reason: "automated backups are off, and RDS creates read replicas only of instances with backups on (dms.source_from_read_replica); set backup_retention_period > 0".into(),
            });
        }
        if matches!(src.engine, DbEngine::Mysql | DbEngine::Mariadb)
            && src.backup_retention_period == 0
        {
            return Err(EngineError::Unusable {
                attribute: "source_db_instance_identifier",
                kind: "RDS DB Instance",
                id: id.clone(),
                reason: "automated backups are off, so binary logging is off and DMS cannot capture changes; set backup_retention_period > 0 (and binlog_format = ROW in its parameter group)".into(),
            });
        }
        if src.read_replica_source.is_some() {
            return Err(EngineError::Unusable {
                attribute: "source_db_instance_identifier",
                kind: "RDS DB Instance",
                id: id.clone(),
                reason: "it is a read replica; migrate its primary (use dms.source_from_read_replica to read changes from a replica)".into(),
            });
        }
        Ok(src)
    }

    pub(super) fn foreign(
        &self,
        attribute: Option<&'static str>,
        kind: &'static str,
        id: &str,
    ) -> EngineError {
        EngineError::ForeignObject {
            attribute,
            kind,
            id: id.to_owned(),
            migration: self.names.migration.clone(),
        }
    }

    // ----- RDS chain -----

    pub(super) async fn ensure_target(
        &self,
        source: &DbInstance,
        key: &KmsKey,
    ) -> Result<DbInstance, EngineError> {
        let id = &self.names.target;
        let existing = self
            .find(Step::WaitTarget, id, || self.aws().describe_db_instance(id))
            .await?;
        let fresh = match existing {
            Some(t) if !self.names.owns(&t.tags) => {
                return Err(self.foreign(
                    Some("target_db_instance_identifier"),
                    "RDS DB Instance",
                    id,
                ));
            }
            Some(_) => false,
            None => {
                let snap = self.ensure_encrypted_snapshot(source, key).await?;
                self.restore(source, &snap).await?;
                true
            }
        };
        let target = self.wait_instance(&WAIT_TARGET, id, fresh).await?;
        self.ensure_target_settings(source, target).await
    }

    pub(super) async fn wait_instance(
        &self,
        w: &Waiter<DbInstanceStatus>,
        id: &str,
        fresh: bool,
    ) -> Result<DbInstance, EngineError> {
        let aws = self.aws();
        self.wait(
            w,
            id,
            fresh,
            || async { with_status(aws.describe_db_instance(id).await, |i| i.status.clone()) },
            none,
            no_reason,
        )
        .await?
        .ok_or_else(|| EngineError::deleted(w.step, id.to_owned(), None))
    }

    pub(super) async fn wait_snapshot(
        &self,
        w: &Waiter<SnapshotStatus>,
        id: &str,
        fresh: bool,
    ) -> Result<DbSnapshot, EngineError> {
        let aws = self.aws();
        self.wait(
            w,
            id,
            fresh,
            || async { with_status(aws.describe_db_snapshot(id).await, |s| s.status.clone()) },
            snapshot_percent,
            no_reason,
        )
        .await?
        .ok_or_else(|| EngineError::deleted(w.step, id.to_owned(), None))
    }

    pub(super) async fn ensure_source_snapshot(
        &self,
        source: &DbInstance,
    ) -> Result<DbSnapshot, EngineError> {
        let id = &self.names.source_snapshot;
        let existing = self
            .find(Step::WaitSnapshot, id, || {
                self.aws().describe_db_snapshot(id)
            })
            .await?;
        let fresh = match existing {
            Some(s) if !self.names.owns(&s.tags) => {
                return Err(self.foreign(None, "RDS DB Snapshot", id));
            }
            Some(_) => false,
            None => {
                // A snapshot needs an available source (not backing-up or modifying).
                self.wait_instance(&WAIT_SOURCE, &source.identifier, false)
                    .await?;
                let input = CreateDbSnapshotInput {
                    snapshot_identifier: id.clone(),
                    db_instance_identifier: source.identifier.clone(),
                    tags: self.names.tags(Role::SourceSnapshot),
                };
                self.create_or_adopt(Step::CreateSnapshot, id, || {
                    self.aws().create_db_snapshot(&input)
                })
                .await?;
                self.emit(
                    Phase::Snapshotting,
                    Step::CreateSnapshot,
                    id,
                    Some(0),
                    "creating",
                );
                true
            }
        };
        self.wait_snapshot(&WAIT_SNAPSHOT, id, fresh).await
    }

    /// Runs a create; `AlreadyExists` (a concurrent or earlier run won the race) is fine,
    /// since the caller re-reads and checks ownership next.
    pub(super) async fn create_or_adopt<T, F, Fut>(
        &self,
        step: Step,
        id: &str,
        f: F,
    ) -> Result<(), EngineError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, AwsError>>,
    {
        match self.call(step, id, f).await {
            Ok(_) => Ok(()),
            Err(EngineError::Aws {
                source: AwsError::AlreadyExists { .. },
                ..
            }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    pub(super) async fn ensure_encrypted_snapshot(
        &self,
        source: &DbInstance,
        key: &KmsKey,
    ) -> Result<DbSnapshot, EngineError> {
        let id = &self.names.encrypted_snapshot;
        let existing = self
            .find(Step::WaitEncryptedCopy, id, || {
                self.aws().describe_db_snapshot(id)
            })
            .await?;
        let fresh = match existing {
            Some(s) if !self.names.owns(&s.tags) => {
                return Err(self.foreign(None, "RDS DB Snapshot", id));
            }
            Some(_) => false,
            None => {
                let snap = self.ensure_source_snapshot(source).await?;
                let input = CopyDbSnapshotInput {
                    source_snapshot_identifier: snap.arn.clone(),
                    target_snapshot_identifier: id.clone(),
                    kms_key_id: key.arn.clone(),
                    copy_tags: false,
                    tags: self.names.tags(Role::EncryptedSnapshot),
                };
                self.create_or_adopt(Step::CopySnapshot, id, || {
                    self.aws().copy_db_snapshot(&input)
                })
                .await?;
                self.emit(
                    Phase::CopyingEncrypted,
                    Step::CopySnapshot,
                    id,
                    Some(0),
                    "creating",
                );
                true
            }
        };
        let snap = self.wait_snapshot(&WAIT_COPY, id, fresh).await?;
        if !snap.encrypted {
            return Err(EngineError::Failed {
                step: Step::WaitEncryptedCopy,
                id: id.clone(),
                status: "unencrypted".into(),
                reason: Some("the copy is not encrypted".into()),
            });
        }
        Ok(snap)
    }

    /// The restore input: everything inherited from the source unless overridden.
    pub(crate) fn restore_input(
        &self,
        source: &DbInstance,
        snap: &DbSnapshot,
    ) -> RestoreDbInstanceInput {
        let o = &self.spec.target;
        let multi_az = o.multi_az.unwrap_or(source.multi_az);
        let mut tags = inheritable(&source.tags);
        tags.extend(o.tags.clone());
        tags.extend(self.names.tags(Role::Target));
        RestoreDbInstanceInput {
            db_instance_identifier: self.names.target.clone(),
            db_snapshot_identifier: snap.identifier.clone(),
            instance_class: o
                .instance_class
                .clone()
                .or_else(|| Some(source.instance_class.clone())),
            storage_type: o
                .storage_type
                .clone()
                .or_else(|| source.storage_type.clone()),
            allocated_storage: o.allocated_storage.or(Some(source.allocated_storage)),
            iops: o.iops.or(source.iops),
            storage_throughput: o.storage_throughput.or(source.storage_throughput),
            db_parameter_group_name: self.target_parameter_group(source),
            option_group_name: o.option_group_name.clone().or_else(|| {
                source
                    .option_group_name
                    .clone()
                    .filter(|g| !g.starts_with("default:"))
            }),
            db_subnet_group_name: o
                .db_subnet_group_name
                .clone()
                .or_else(|| source.db_subnet_group.as_ref().map(|g| g.name.clone())),
            vpc_security_group_ids: o
                .vpc_security_group_ids
                .clone()
                .unwrap_or_else(|| source.vpc_security_group_ids.clone()),
            port: o
                .port
                .or(source.port)
                .or_else(|| source.endpoint.as_ref().map(|e| e.port)),
            multi_az,
            availability_zone: if multi_az {
                None
            } else {
                source.availability_zone.clone()
            },
            publicly_accessible: o.publicly_accessible.unwrap_or(source.publicly_accessible),
            deletion_protection: o.deletion_protection.unwrap_or(source.deletion_protection),
            copy_tags_to_snapshot: source.copy_tags_to_snapshot,
            auto_minor_version_upgrade: source.auto_minor_version_upgrade,
            iam_database_authentication_enabled: source.iam_database_authentication_enabled,
            ca_certificate_identifier: source.ca_certificate_identifier.clone(),
            enabled_cloudwatch_logs_exports: source.enabled_cloudwatch_logs_exports.clone(),
            tags,
        }
    }

    /// The target's DB parameter group: the configured one, else its own copy of the
    /// source's (sharing one would let the `read_only` write fence stop both instances).
    fn target_parameter_group(&self, source: &DbInstance) -> Option<String> {
        self.spec
            .target
            .db_parameter_group_name
            .clone()
            .or_else(|| {
                source
                    .db_parameter_group_name
                    .as_ref()
                    .map(|_| self.names.target_parameter_group())
            })
    }

    /// Copies the source's DB parameter group for the target unless one is configured;
    /// an earlier run's copy (the name is derived from the target) is kept.
    async fn ensure_target_parameter_group(&self, source: &DbInstance) -> Result<(), EngineError> {
        let (None, Some(from)) = (
            &self.spec.target.db_parameter_group_name,
            &source.db_parameter_group_name,
        ) else {
            return Ok(());
        };
        let input = CopyDbParameterGroupInput {
            source_group: from.clone(),
            target_group: self.names.target_parameter_group(),
            description: format!(
                "rdsenc: {}'s own copy of {from}, so a write fence on one instance never fences the other",
                self.names.target
            ),
            tags: self.names.tags(Role::TargetParameterGroup),
        };
        self.create_or_adopt(Step::RestoreTarget, &input.target_group, || {
            self.aws().copy_db_parameter_group(&input)
        })
        .await
    }

    pub(super) async fn restore(
        &self,
        source: &DbInstance,
        snap: &DbSnapshot,
    ) -> Result<(), EngineError> {
        self.ensure_target_parameter_group(source).await?;
        let input = self.restore_input(source, snap);
        let id = &self.names.target;
        self.create_or_adopt(Step::RestoreTarget, id, || {
            self.aws().restore_db_instance_from_snapshot(&input)
        })
        .await?;
        // Re-read: if a concurrent run restored first, it must still be ours.
        if let Some(t) = self
            .find(Step::RestoreTarget, id, || {
                self.aws().describe_db_instance(id)
            })
            .await?
            && !self.names.owns(&t.tags)
        {
            return Err(self.foreign(Some("target_db_instance_identifier"), "RDS DB Instance", id));
        }
        self.emit(Phase::Restoring, Step::RestoreTarget, id, None, "creating");
        Ok(())
    }

    /// What restore cannot set, inherited from the source unless overridden; `None` when
    /// the target already matches.
    pub(crate) fn target_settings(
        &self,
        source: &DbInstance,
        t: &DbInstance,
    ) -> Option<ModifyDbInstanceInput> {
        let o = &self.spec.target;
        let mut m = ModifyDbInstanceInput {
            db_instance_identifier: t.identifier.clone(),
            apply_immediately: true,
            ..Default::default()
        };
        let backup = o
            .backup_retention_period
            .unwrap_or(source.backup_retention_period);
        if backup != t.backup_retention_period {
            m.backup_retention_period = Some(backup);
        }
        let interval = o.monitoring_interval.unwrap_or(source.monitoring_interval);
        let role = o
            .monitoring_role_arn
            .clone()
            .or_else(|| source.monitoring_role_arn.clone());
        if interval != t.monitoring_interval || (interval > 0 && role != t.monitoring_role_arn) {
            m.monitoring_interval = Some(interval);
            if interval > 0 {
                m.monitoring_role_arn = role;
            }
        }
        let pi = PerformanceInsights {
            enabled: o
                .performance_insights_enabled
                .unwrap_or(source.performance_insights.enabled),
            kms_key_id: o
                .performance_insights_kms_key_id
                .clone()
                .or_else(|| source.performance_insights.kms_key_id.clone()),
            retention_period_days: o
                .performance_insights_retention_period
                .or(source.performance_insights.retention_period_days),
        };
        let mut pi = pi;
        if t.performance_insights.enabled {
            // The Performance Insights key cannot change once set.
            pi.kms_key_id = None;
        }
        if pi.enabled != t.performance_insights.enabled
            || (pi.enabled
                && pi.retention_period_days.is_some()
                && pi.retention_period_days != t.performance_insights.retention_period_days)
        {
            m.performance_insights = Some(pi);
        }
        if source.preferred_backup_window.is_some()
            && source.preferred_backup_window != t.preferred_backup_window
        {
            m.preferred_backup_window = source.preferred_backup_window.clone();
        }
        if source.preferred_maintenance_window.is_some()
            && source.preferred_maintenance_window != t.preferred_maintenance_window
        {
            m.preferred_maintenance_window = source.preferred_maintenance_window.clone();
        }
        if source.max_allocated_storage.is_some()
            && source.max_allocated_storage != t.max_allocated_storage
        {
            m.max_allocated_storage = source.max_allocated_storage;
        }
        let unchanged = ModifyDbInstanceInput {
            db_instance_identifier: t.identifier.clone(),
            apply_immediately: true,
            ..Default::default()
        };
        (m != unchanged).then_some(m)
    }

    pub(super) async fn ensure_target_settings(
        &self,
        source: &DbInstance,
        target: DbInstance,
    ) -> Result<DbInstance, EngineError> {
        let Some(input) = self.target_settings(source, &target) else {
            return Ok(target);
        };
        let id = &target.identifier;
        self.call(Step::ModifyTarget, id, || {
            self.aws().modify_db_instance(&input)
        })
        .await?;
        self.emit(Phase::Restoring, Step::ModifyTarget, id, None, "modifying");
        self.wait_instance(&WAIT_TARGET_MODIFIED, id, true).await
    }
}
