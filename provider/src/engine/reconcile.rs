//! The create path, level-triggered: every step makes sure one object exists and is ready,
//! adopting what an earlier (interrupted) run left behind when it carries our tags.
//!
//! Order: KMS key and source checks; then, in parallel, the RDS chain (snapshot ->
//! encrypted copy -> restore -> post-restore settings) and the DMS base (replication subnet
//! group + instance, read replica, source endpoint); then the target endpoint, the task,
//! its start, and the wait for full load 100 % with CDC running.
//!
//! The intermediate snapshots stay until teardown: they cost little next to the target, and
//! keeping them lets a failed restore be retried without taking and copying a new snapshot.

use std::fmt;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::api::*;
use super::core::{Engine, Run, Waiter, timeouts, with_status};
use super::error::{EngineError, Step};
use super::names::Role;
use super::observe::{KnownIds, Observed, is_replicating};
use super::spec::{Phase, default_table_mappings, target_after_connect_script, task_settings_json};

/// An engine operation failed; `observed` is what exists afterwards, so state records it.
#[derive(Debug, Clone, PartialEq)]
pub struct EngineFailure {
    /// What failed.
    pub error: EngineError,
    /// What exists now. When `observed_ok` is false, observing failed too and this is a
    /// default: keep the prior state instead (names are deterministic, so the next
    /// refresh finds everything anyway).
    pub observed: Observed,
    /// True when `observed` was actually read from AWS after the failure.
    pub observed_ok: bool,
}

/// Default class of a managed replication instance.
pub const DEFAULT_REPLICATION_INSTANCE_CLASS: &str = "dms.t3.medium";
/// Default storage of a managed replication instance, GiB.
pub const DEFAULT_REPLICATION_INSTANCE_STORAGE: i32 = 50;

const INSTANCE_PENDING: &[DbInstanceStatus] = &[
    DbInstanceStatus::Creating,
    DbInstanceStatus::BackingUp,
    DbInstanceStatus::Modifying,
    DbInstanceStatus::Renaming,
    DbInstanceStatus::Rebooting,
    DbInstanceStatus::Starting,
    DbInstanceStatus::ConfiguringEnhancedMonitoring,
    DbInstanceStatus::ConfiguringLogExports,
    DbInstanceStatus::ConfiguringIamDatabaseAuth,
    DbInstanceStatus::ResettingMasterCredentials,
    DbInstanceStatus::Upgrading,
    DbInstanceStatus::Maintenance,
];
const INSTANCE_READY: &[DbInstanceStatus] = &[
    DbInstanceStatus::Available,
    DbInstanceStatus::StorageOptimization,
];
const SNAPSHOT_PENDING: &[SnapshotStatus] = &[
    SnapshotStatus::Creating,
    SnapshotStatus::Pending,
    SnapshotStatus::Copying,
];
const SNAPSHOT_READY: &[SnapshotStatus] = &[SnapshotStatus::Available];

const WAIT_SOURCE: Waiter<DbInstanceStatus> = Waiter {
    step: Step::WaitSource,
    phase: Phase::Snapshotting,
    pending: INSTANCE_PENDING,
    target: INSTANCE_READY,
    gone_is_target: false,
    timeout: timeouts::SOURCE_READY,
    continuous_target: None,
};
const WAIT_SNAPSHOT: Waiter<SnapshotStatus> = Waiter {
    step: Step::WaitSnapshot,
    phase: Phase::Snapshotting,
    pending: SNAPSHOT_PENDING,
    target: SNAPSHOT_READY,
    gone_is_target: false,
    timeout: timeouts::SNAPSHOT,
    continuous_target: None,
};
const WAIT_COPY: Waiter<SnapshotStatus> = Waiter {
    step: Step::WaitEncryptedCopy,
    phase: Phase::CopyingEncrypted,
    pending: SNAPSHOT_PENDING,
    target: SNAPSHOT_READY,
    gone_is_target: false,
    timeout: timeouts::ENCRYPTED_COPY,
    continuous_target: None,
};
const WAIT_TARGET: Waiter<DbInstanceStatus> = Waiter {
    step: Step::WaitTarget,
    phase: Phase::Restoring,
    pending: INSTANCE_PENDING,
    target: INSTANCE_READY,
    gone_is_target: false,
    timeout: timeouts::RESTORE,
    // A restore flips available -> backing-up -> available; two reads avoid stopping at
    // the first.
    continuous_target: Some(2),
};
const WAIT_TARGET_MODIFIED: Waiter<DbInstanceStatus> = Waiter {
    step: Step::ModifyTarget,
    phase: Phase::Restoring,
    pending: INSTANCE_PENDING,
    target: INSTANCE_READY,
    gone_is_target: false,
    timeout: timeouts::MODIFY,
    continuous_target: Some(2),
};
const WAIT_REPLICA: Waiter<DbInstanceStatus> = Waiter {
    step: Step::WaitReadReplica,
    phase: Phase::ProvisioningReplication,
    pending: INSTANCE_PENDING,
    target: INSTANCE_READY,
    gone_is_target: false,
    timeout: timeouts::READ_REPLICA,
    continuous_target: None,
};
pub(crate) const WAIT_REPLICATION_INSTANCE: Waiter<ReplicationInstanceStatus> = Waiter {
    step: Step::WaitReplicationInstance,
    phase: Phase::ProvisioningReplication,
    pending: &[
        ReplicationInstanceStatus::Creating,
        ReplicationInstanceStatus::Modifying,
        ReplicationInstanceStatus::Upgrading,
        ReplicationInstanceStatus::Rebooting,
        ReplicationInstanceStatus::Maintenance,
    ],
    target: &[ReplicationInstanceStatus::Available],
    gone_is_target: false,
    timeout: timeouts::REPLICATION_INSTANCE,
    continuous_target: None,
};
const WAIT_TASK_SETTLED: Waiter<ReplicationTaskStatus> = Waiter {
    step: Step::WaitTaskReady,
    phase: Phase::ProvisioningReplication,
    pending: &[
        ReplicationTaskStatus::Creating,
        ReplicationTaskStatus::Modifying,
        ReplicationTaskStatus::Starting,
        ReplicationTaskStatus::Stopping,
        ReplicationTaskStatus::Moving,
        ReplicationTaskStatus::Testing,
    ],
    target: &[
        ReplicationTaskStatus::Ready,
        ReplicationTaskStatus::Stopped,
        ReplicationTaskStatus::Running,
        ReplicationTaskStatus::Failed,
    ],
    gone_is_target: false,
    timeout: timeouts::TASK_READY,
    continuous_target: None,
};

const WAIT_CONNECTION: Waiter<ConnectionStatus> = Waiter {
    step: Step::TestConnection,
    phase: Phase::ProvisioningReplication,
    pending: &[ConnectionStatus::Testing],
    target: &[ConnectionStatus::Successful],
    gone_is_target: false,
    timeout: timeouts::CONNECTION_TEST,
    continuous_target: None,
};

/// The full-load wait's view of a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LoadState {
    Starting,
    Loading,
    Replicating,
    Stopped,
    Failed,
}

impl fmt::Display for LoadState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LoadState::Starting => "starting",
            LoadState::Loading => "running (full load)",
            LoadState::Replicating => "running (cdc)",
            LoadState::Stopped => "stopped",
            LoadState::Failed => "failed",
        })
    }
}

fn load_state(t: &ReplicationTask) -> LoadState {
    if is_replicating(t) {
        return LoadState::Replicating;
    }
    match t.status {
        ReplicationTaskStatus::Running => LoadState::Loading,
        ReplicationTaskStatus::Stopped | ReplicationTaskStatus::Stopping => LoadState::Stopped,
        ReplicationTaskStatus::Failed
        | ReplicationTaskStatus::FailedMove
        | ReplicationTaskStatus::Deleting => LoadState::Failed,
        ReplicationTaskStatus::Creating
        | ReplicationTaskStatus::Ready
        | ReplicationTaskStatus::Starting
        | ReplicationTaskStatus::Modifying
        | ReplicationTaskStatus::Moving
        | ReplicationTaskStatus::Testing
        | ReplicationTaskStatus::Other(_) => LoadState::Starting,
    }
}

const WAIT_FULL_LOAD: Waiter<LoadState> = Waiter {
    step: Step::WaitFullLoad,
    phase: Phase::FullLoad,
    pending: &[LoadState::Starting, LoadState::Loading],
    target: &[LoadState::Replicating],
    gone_is_target: false,
    timeout: timeouts::FULL_LOAD,
    continuous_target: None,
};

pub(crate) fn task_failure(t: &ReplicationTask) -> Option<String> {
    match (&t.last_failure_message, &t.stop_reason) {
        (Some(m), Some(r)) => Some(format!("{m} ({r})")),
        (Some(m), None) => Some(m.clone()),
        (None, Some(r)) => Some(r.clone()),
        (None, None) => None,
    }
}

fn snapshot_percent(s: &DbSnapshot) -> Option<i32> {
    Some(s.percent_progress)
}
fn task_percent(t: &ReplicationTask) -> Option<i32> {
    t.stats.as_ref().map(|s| s.full_load_progress_percent)
}
fn none<T>(_: &T) -> Option<i32> {
    None
}
fn no_reason<T>(_: &T) -> Option<String> {
    None
}

/// Keys the target does not inherit: AWS-reserved and the migration's own.
fn inheritable(tags: &Tags) -> Tags {
    tags.iter()
        .filter(|(k, _)| !k.starts_with("aws:") && !k.starts_with("rdsenc:"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// The description that marks a replication subnet group as ours (DMS subnet groups carry
/// no ARN in describe output, so tags cannot be read without guessing one).
pub(crate) fn subnet_group_description(migration: &str) -> String {
    format!("Managed by terraform-provider-rdsenc for migration {migration}")
}

fn first_error<A, B>(
    a: Result<A, EngineError>,
    b: Result<B, EngineError>,
) -> Result<(A, B), EngineError> {
    match (a, b) {
        (Ok(a), Ok(b)) => Ok((a, b)),
        // A branch cancelled because its sibling failed reports the sibling's error.
        (Err(e), Err(f)) if e.is_cancelled() && !f.is_cancelled() => Err(f),
        (Err(e), _) | (_, Err(e)) => Err(e),
    }
}

impl Engine {
    /// Drives the migration to `replicating`: every step idempotent, adopting objects that
    /// exist by deterministic name and our tags, refusing same-named objects that are not
    /// ours. Skips the snapshot chain when the target exists.
    ///
    /// **Errors**: the first failing step, with the objects that exist (`observed`), so
    /// nothing is orphaned. `timeout` bounds the whole call; `cancel` stops it promptly.
    ///
    /// **Guarantees**: never modifies or deletes the source; never deletes anything.
    pub async fn reconcile_to_replicating(
        &self,
        spec: &super::spec::MigrationSpec,
        known: &KnownIds,
        timeout: Duration,
        cancel: &CancellationToken,
    ) -> Result<Observed, Box<EngineFailure>> {
        let run = self.run(spec, timeout, cancel);
        let result = if spec.strategy == super::spec::Strategy::BlueGreen {
            Box::pin(run.reconcile_blue_green(known)).await
        } else {
            run.reconcile().await
        };
        self.finish(spec, known, result).await
    }

    /// Observes after an operation, pairing any error with what exists.
    pub(crate) async fn finish(
        &self,
        spec: &super::spec::MigrationSpec,
        known: &KnownIds,
        result: Result<(), EngineError>,
    ) -> Result<Observed, Box<EngineFailure>> {
        // A fresh token: after StopProvider the state must still be recorded; a few
        // describes are quick.
        let fresh = CancellationToken::new();
        let observed = self
            .run(spec, Duration::from_secs(120), &fresh)
            .observe(known)
            .await;
        match (result, observed) {
            (Ok(()), Ok(o)) => Ok(o),
            (Ok(()), Err(error)) => Err(Box::new(EngineFailure {
                error,
                observed: Observed::default(),
                observed_ok: false,
            })),
            (Err(error), Ok(observed)) => Err(Box::new(EngineFailure {
                error,
                observed,
                observed_ok: true,
            })),
            (Err(error), Err(obs_err)) => {
                tracing::warn!(error = %obs_err, "could not observe after a failure");
                Err(Box::new(EngineFailure {
                    error,
                    observed: Observed::default(),
                    observed_ok: false,
                }))
            }
        }
    }
}

impl Run<'_> {
    async fn reconcile(&self) -> Result<(), EngineError> {
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

    fn foreign(
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

    async fn ensure_target(
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

    async fn wait_instance(
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
        .ok_or_else(|| EngineError::Failed {
            step: w.step,
            id: id.to_owned(),
            status: "deleted".into(),
            reason: None,
        })
    }

    async fn wait_snapshot(
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
        .ok_or_else(|| EngineError::Failed {
            step: w.step,
            id: id.to_owned(),
            status: "deleted".into(),
            reason: None,
        })
    }

    async fn ensure_source_snapshot(&self, source: &DbInstance) -> Result<DbSnapshot, EngineError> {
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
    async fn create_or_adopt<T, F, Fut>(
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

    async fn ensure_encrypted_snapshot(
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
            // A default group is what RDS picks anyway when none is named, so only custom
            // groups are passed on (default option groups cannot always be named).
            db_parameter_group_name: o.db_parameter_group_name.clone().or_else(|| {
                source
                    .db_parameter_group_name
                    .clone()
                    .filter(|g| !g.starts_with("default."))
            }),
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

    async fn restore(&self, source: &DbInstance, snap: &DbSnapshot) -> Result<(), EngineError> {
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

    async fn ensure_target_settings(
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

    // ----- DMS base -----

    async fn ensure_dms_base(
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

    async fn ensure_subnet_group(&self, source: &DbInstance) -> Result<String, EngineError> {
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

    async fn ensure_replication_instance(
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
        .ok_or_else(|| EngineError::Failed {
            step: Step::WaitReplicationInstance,
            id,
            status: "deleted".into(),
            reason: None,
        })
    }

    /// Finds a DMS object by deterministic name; refuses it when it lacks our tags.
    async fn owned_or_foreign<T, F, Fut>(
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

    async fn ensure_read_replica(&self, source: &DbInstance) -> Result<DbInstance, EngineError> {
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

    fn database_name(&self, source: &DbInstance) -> Option<String> {
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

    async fn ensure_endpoint(
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
        .ok_or_else(|| EngineError::Failed {
            step,
            id,
            status: "deleted".into(),
            reason: Some("the endpoint disappeared right after it was created".into()),
        })
    }

    async fn ensure_source_endpoint(&self, source: &DbInstance) -> Result<Endpoint, EngineError> {
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
            credentials: self
                .spec
                .dms
                .target_credentials
                .clone()
                .unwrap_or_else(|| self.spec.dms.source_credentials.clone()),
            ssl_mode: SslMode::Require,
            after_connect_script: target_after_connect_script(&source.engine),
            extra_connection_attributes: None,
            tags: self.names.tags(Role::TargetEndpoint),
        })
    }

    async fn ensure_target_endpoint(
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

    async fn ensure_connection(
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

    async fn ensure_task(
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
        self.wait(
            &WAIT_TASK_SETTLED,
            id,
            fresh,
            || async {
                with_status(aws.describe_replication_task(&which).await, |t| {
                    t.status.clone()
                })
            },
            none,
            task_failure,
        )
        .await?
        .ok_or_else(|| EngineError::Failed {
            step: Step::WaitTaskReady,
            id: id.clone(),
            status: "deleted".into(),
            reason: None,
        })
    }

    async fn ensure_replicating(&self, task: &ReplicationTask) -> Result<(), EngineError> {
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
            let input = StartReplicationTaskInput {
                arn: task.arn.clone(),
                start_type,
                cdc_start_position: match self.spec.dms.migration_type {
                    MigrationType::Cdc => self.spec.dms.cdc_start_position.clone(),
                    _ => None,
                },
            };
            self.call(Step::StartTask, &task.identifier, || {
                aws.start_replication_task(&input)
            })
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
