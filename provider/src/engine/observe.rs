//! What exists right now, and the phase derived from it by a pure function.

use std::fmt;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::api::*;
use super::core::{Engine, Run};
use super::error::{EngineError, Step};
use super::spec::{MigrationSpec, Phase};

/// Identifiers recorded in state by earlier applies. ARNs let DMS lookups go by ARN; the
/// deterministic names are the fallback, so a crash before state was written loses nothing.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KnownIds {
    /// The phase recorded in state (post-`replicating` phases cannot be derived from AWS).
    pub recorded_phase: Option<Phase>,
    /// `replication_instance_arn` (computed).
    pub replication_instance_arn: Option<String>,
    /// `source_endpoint_arn`.
    pub source_endpoint_arn: Option<String>,
    /// `target_endpoint_arn`.
    pub target_endpoint_arn: Option<String>,
    /// `replication_task_arn`.
    pub replication_task_arn: Option<String>,
    /// `blue_green_deployment_id` (`strategy = "blue_green"`).
    pub blue_green_deployment_id: Option<String>,
    /// `source_snapshot_identifier`: lets a refresh past `restoring` skip the snapshot reads.
    pub source_snapshot_identifier: Option<String>,
    /// `encrypted_snapshot_arn`: as `source_snapshot_identifier`.
    pub encrypted_snapshot_arn: Option<String>,
}

/// How much an observation reads. The engine's own steps (create, switch, teardown) always
/// read everything ([`Scope::Full`]); a refresh of state reads only what can have changed
/// what the resource shows ([`Scope::Refresh`], see [`Engine::refresh`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scope {
    /// Every owned object, by ARN or name, plus the reverse objects.
    Full,
    /// Skips what state already proves, falling back to a full read where it does not.
    Refresh,
}

/// Snapshot references a refresh kept from state instead of describing the snapshots.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KeptSnapshots {
    /// `source_snapshot_identifier` as recorded.
    pub source_snapshot_identifier: String,
    /// `encrypted_snapshot_arn` as recorded.
    pub encrypted_snapshot_arn: String,
}

/// Data validation across all tables, as shown in `validation_state`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ValidationSummary {
    /// Validation is off (or DMS reports it off for every table).
    NotEnabled,
    /// Some tables are not validated yet.
    Pending,
    /// Every table validated.
    Validated,
    /// Tables with mismatched or suspended records.
    Mismatched {
        /// How many tables.
        tables: usize,
    },
    /// Tables DMS cannot validate (table error, no primary key).
    Error {
        /// How many tables.
        tables: usize,
    },
    /// Not known (no task yet, or statistics unavailable).
    #[default]
    Unknown,
}

impl ValidationSummary {
    /// Summarises DMS table statistics; mismatches win over errors over pending.
    pub fn from_tables(tables: &[TableStatistics]) -> Self {
        let count = |f: fn(&ValidationState) -> bool| {
            tables.iter().filter(|t| f(&t.validation_state)).count()
        };
        let mismatched = count(|s| {
            matches!(
                s,
                ValidationState::MismatchedRecords | ValidationState::SuspendedRecords
            )
        });
        let errors = count(|s| {
            matches!(
                s,
                ValidationState::TableError
                    | ValidationState::Error
                    | ValidationState::NoPrimaryKey
            )
        });
        if mismatched > 0 {
            ValidationSummary::Mismatched { tables: mismatched }
        } else if errors > 0 {
            ValidationSummary::Error { tables: errors }
        } else if tables.is_empty() {
            ValidationSummary::Pending
        } else if count(|s| *s == ValidationState::NotEnabled) == tables.len() {
            ValidationSummary::NotEnabled
        } else if count(|s| *s == ValidationState::Validated) == tables.len() {
            ValidationSummary::Validated
        } else {
            ValidationSummary::Pending
        }
    }
}

impl fmt::Display for ValidationSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plural = |n: &usize| if *n == 1 { "table" } else { "tables" };
        match self {
            ValidationSummary::NotEnabled => f.write_str("not_enabled"),
            ValidationSummary::Pending => f.write_str("pending"),
            ValidationSummary::Validated => f.write_str("validated"),
            ValidationSummary::Mismatched { tables } => {
                write!(f, "mismatched: {tables} {}", plural(tables))
            }
            ValidationSummary::Error { tables } => write!(f, "error: {tables} {}", plural(tables)),
            ValidationSummary::Unknown => f.write_str("unknown"),
        }
    }
}

/// Everything the migration owns that exists, plus derived progress. Objects with our
/// names but without our tags are never included.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Observed {
    /// The source instance (not owned; never modified or deleted).
    pub source: Option<DbInstance>,
    /// The unencrypted snapshot.
    pub source_snapshot: Option<DbSnapshot>,
    /// The encrypted copy.
    pub encrypted_snapshot: Option<DbSnapshot>,
    /// The encrypted target instance.
    pub target: Option<DbInstance>,
    /// The read replica DMS reads from, when `source_from_read_replica`.
    pub read_replica: Option<DbInstance>,
    /// The managed replication subnet group (left out by [`Engine::refresh`] once the
    /// replication instance, which needs it, is found).
    pub replication_subnet_group: Option<ReplicationSubnetGroup>,
    /// The replication instance (managed or given).
    pub replication_instance: Option<ReplicationInstance>,
    /// True when the replication instance is the migration's own (teardown deletes it).
    pub replication_instance_managed: bool,
    /// The source endpoint.
    pub source_endpoint: Option<Endpoint>,
    /// The target endpoint.
    pub target_endpoint: Option<Endpoint>,
    /// The replication task.
    pub task: Option<ReplicationTask>,
    /// Validation across tables.
    pub validation: ValidationSummary,
    /// Latest CDC latency.
    pub lag: CdcLatency,
    /// The derived phase.
    pub phase: Phase,
    /// The reverse (failback) task, target -> source, once a cutover made it.
    pub reverse_task: Option<ReplicationTask>,
    /// The reverse task's source endpoint (reads the encrypted instance).
    pub reverse_source_endpoint: Option<Endpoint>,
    /// The reverse task's target endpoint (writes the original instance).
    pub reverse_target_endpoint: Option<Endpoint>,
    /// Latest CDC latency of the reverse task (while it runs).
    pub reverse_lag: CdcLatency,
    /// Cutover timestamps, read from the target's tags.
    pub cutover: super::cutover::CutoverRecord,
    /// True when the identifiers are swapped (fully or half-way): the original instance is
    /// named `<source>-unencrypted` or the encrypted one `<source>`.
    pub identifiers_swapped: bool,
    /// The blue/green deployment (`strategy = "blue_green"`). Then `source` is the blue
    /// primary (named `<source>-old1` after switchover) and `target` the green primary
    /// (named `<source>` after switchover).
    pub blue_green: Option<BlueGreenDeployment>,
    /// The green twins of the source's read replicas (after switchover they carry the
    /// replicas' original names).
    pub green_replicas: Vec<DbInstance>,
    /// Set by a refresh that did not describe the snapshots (the target is ready, so they
    /// cannot move the phase): their references as state recorded them. `None` after a
    /// full read, where `source_snapshot` / `encrypted_snapshot` say what exists.
    pub kept_snapshots: Option<KeptSnapshots>,
}

impl Observed {
    /// `full_load_progress_percent`.
    pub fn full_load_progress_percent(&self) -> Option<i32> {
        self.task
            .as_ref()
            .and_then(|t| t.stats.as_ref())
            .map(|s| s.full_load_progress_percent)
    }
    /// `replication_task_status`.
    pub fn task_status(&self) -> Option<&ReplicationTaskStatus> {
        self.task.as_ref().map(|t| &t.status)
    }
    /// `replication_lag_seconds`: end-to-end (target) CDC latency.
    pub fn replication_lag_seconds(&self) -> Option<f64> {
        self.lag.target_seconds
    }
    /// The target's address (`target_endpoint`).
    pub fn target_address(&self) -> Option<&HostPort> {
        self.target.as_ref().and_then(|t| t.endpoint.as_ref())
    }
    /// The instance serving traffic (`active_db_instance_identifier`): the source until
    /// cutover.
    pub fn active_db_instance_identifier(&self) -> Option<&str> {
        if self.phase.target_may_serve() && self.phase != Phase::FailingBack {
            self.target.as_ref().map(|t| t.identifier.as_str())
        } else {
            self.source.as_ref().map(|s| s.identifier.as_str())
        }
    }
    /// The active instance's address (`active_endpoint`).
    pub fn active_endpoint(&self) -> Option<&HostPort> {
        if self.phase.target_may_serve() && self.phase != Phase::FailingBack {
            self.target_address()
        } else {
            self.source.as_ref().and_then(|s| s.endpoint.as_ref())
        }
    }
}

/// How far one object has got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Does not exist.
    Absent,
    /// Being created or changed.
    Busy,
    /// Usable.
    Ready,
    /// In a failed state.
    Broken,
}

/// How far the replication task has got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskStage {
    /// No task.
    Absent,
    /// Created but never started.
    Provisioning,
    /// Starting or loading.
    Loading,
    /// Running with full load done (or CDC only): replicating.
    Replicating,
    /// Failed or stopped.
    Halted,
}

/// The create-path phase from how far each object has got: the furthest object decides.
/// Post-`replicating` phases come from state (`recorded`), since AWS cannot tell them apart.
pub fn derive_phase(
    snapshot: Stage,
    encrypted: Stage,
    target: Stage,
    task: TaskStage,
    recorded: Option<Phase>,
) -> Phase {
    if let Some(p) = recorded.filter(|p| !p.is_create_path()) {
        return p;
    }
    use Stage::{Absent, Broken, Busy, Ready};
    match (task, target, encrypted, snapshot) {
        (TaskStage::Replicating, _, _, _) => Phase::Replicating,
        (TaskStage::Loading | TaskStage::Halted, _, _, _) => Phase::FullLoad,
        (TaskStage::Provisioning, _, _, _) | (TaskStage::Absent, Ready, _, _) => {
            Phase::ProvisioningReplication
        }
        (TaskStage::Absent, Busy | Broken, _, _) => Phase::Restoring,
        (TaskStage::Absent, Absent, Ready, _) => Phase::Restoring,
        (TaskStage::Absent, Absent, Busy | Broken, _) => Phase::CopyingEncrypted,
        (TaskStage::Absent, Absent, Absent, Ready) => Phase::CopyingEncrypted,
        (TaskStage::Absent, Absent, Absent, Absent | Busy | Broken) => Phase::Snapshotting,
    }
}

pub(crate) fn snapshot_stage(s: Option<&DbSnapshot>) -> Stage {
    match s.map(|s| &s.status) {
        None => Stage::Absent,
        Some(SnapshotStatus::Available) => Stage::Ready,
        Some(SnapshotStatus::Failed) => Stage::Broken,
        Some(
            SnapshotStatus::Creating
            | SnapshotStatus::Pending
            | SnapshotStatus::Copying
            | SnapshotStatus::Deleting
            | SnapshotStatus::Other(_),
        ) => Stage::Busy,
    }
}

pub(crate) fn instance_stage(i: Option<&DbInstance>) -> Stage {
    match i {
        None => Stage::Absent,
        Some(i) if i.status.is_ready() => Stage::Ready,
        Some(i) if i.status.is_failed() => Stage::Broken,
        Some(_) => Stage::Busy,
    }
}

/// True when the task is running with its full load complete (or is CDC-only).
pub fn is_replicating(t: &ReplicationTask) -> bool {
    t.status == ReplicationTaskStatus::Running
        && (t.migration_type == MigrationType::Cdc
            || t.stats.as_ref().is_some_and(|s| {
                s.full_load_progress_percent >= 100 && s.tables_loading == 0 && s.tables_queued == 0
            }))
}

pub(crate) fn task_stage(t: Option<&ReplicationTask>) -> TaskStage {
    match t {
        None => TaskStage::Absent,
        Some(t) if is_replicating(t) => TaskStage::Replicating,
        Some(t) => match t.status {
            ReplicationTaskStatus::Failed
            | ReplicationTaskStatus::FailedMove
            | ReplicationTaskStatus::Stopped
            | ReplicationTaskStatus::Stopping => TaskStage::Halted,
            ReplicationTaskStatus::Creating | ReplicationTaskStatus::Ready => {
                TaskStage::Provisioning
            }
            ReplicationTaskStatus::Starting
            | ReplicationTaskStatus::Running
            | ReplicationTaskStatus::Modifying
            | ReplicationTaskStatus::Deleting
            | ReplicationTaskStatus::Moving
            | ReplicationTaskStatus::Testing
            | ReplicationTaskStatus::Other(_) => TaskStage::Loading,
        },
    }
}

impl Observed {
    /// Recomputes `phase` from the objects.
    pub fn derive_phase(&mut self, recorded: Option<Phase>) {
        self.phase = derive_phase(
            snapshot_stage(self.source_snapshot.as_ref()),
            snapshot_stage(self.encrypted_snapshot.as_ref()),
            instance_stage(self.target.as_ref()),
            task_stage(self.task.as_ref()),
            recorded,
        );
    }
}

/// Metrics are best-effort: one retry, so an unavailable API cannot stall a refresh.
const METRIC_ATTEMPTS: u32 = 2;

/// How long a CloudWatch window the lag query reads.
const LAG_WINDOW: Duration = Duration::from_secs(10 * 60);

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

    pub(crate) async fn observe(&self, known: &KnownIds) -> Result<Observed, EngineError> {
        self.observe_scoped(known, Scope::Full).await
    }

    pub(crate) async fn observe_scoped(
        &self,
        known: &KnownIds,
        scope: Scope,
    ) -> Result<Observed, EngineError> {
        if self.spec.strategy == super::spec::Strategy::BlueGreen {
            return Box::pin(self.observe_blue_green(known)).await;
        }
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
        let rev_src_name = super::cutover::reverse_source_endpoint_name(n);
        let rev_tgt_name = super::cutover::reverse_target_endpoint_name(n);
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
            .is_some_and(|s| super::cutover::is_our_target(n, s))
        {
            target = source.take();
            identifiers_swapped = true;
        }
        if source.is_none() {
            let renamed = super::cutover::unencrypted_name(n);
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
            .map(|t| super::cutover::CutoverRecord::from_tags(&t.tags))
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
        if self.spec.dms.validation {
            match self
                .call_attempts(Step::Observe, &task.arn, METRIC_ATTEMPTS, || {
                    self.aws().describe_table_statistics(&task.arn)
                })
                .await
            {
                Ok(t) => o.validation = ValidationSummary::from_tables(&t),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn table(state: ValidationState) -> TableStatistics {
        TableStatistics {
            schema_name: "s".into(),
            table_name: "t".into(),
            table_state: TableState::Completed,
            full_load_rows: 0,
            inserts: 0,
            updates: 0,
            deletes: 0,
            validation_state: state,
            validation_pending_records: 0,
            validation_failed_records: 0,
            validation_suspended_records: 0,
        }
    }

    #[test]
    fn validation_summary_reports_mismatched_tables_first() {
        use ValidationState as V;
        let s = ValidationSummary::from_tables(&[
            table(V::Validated),
            table(V::MismatchedRecords),
            table(V::SuspendedRecords),
            table(V::NoPrimaryKey),
        ]);
        assert_eq!(s.to_string(), "mismatched: 2 tables");
        assert_eq!(
            ValidationSummary::from_tables(&[table(V::Validated), table(V::Validated)]).to_string(),
            "validated"
        );
        assert_eq!(
            ValidationSummary::from_tables(&[table(V::Validated), table(V::PendingRecords)])
                .to_string(),
            "pending"
        );
        assert_eq!(
            ValidationSummary::from_tables(&[table(V::NotEnabled)]).to_string(),
            "not_enabled"
        );
        assert_eq!(
            ValidationSummary::from_tables(&[table(V::TableError)]).to_string(),
            "error: 1 table"
        );
    }

    #[test]
    fn the_furthest_object_decides_the_phase() {
        use Stage::*;
        let p = |s, e, t, k| derive_phase(s, e, t, k, None);
        assert_eq!(
            p(Absent, Absent, Absent, TaskStage::Absent),
            Phase::Snapshotting
        );
        assert_eq!(
            p(Busy, Absent, Absent, TaskStage::Absent),
            Phase::Snapshotting
        );
        assert_eq!(
            p(Ready, Absent, Absent, TaskStage::Absent),
            Phase::CopyingEncrypted
        );
        assert_eq!(
            p(Ready, Busy, Absent, TaskStage::Absent),
            Phase::CopyingEncrypted
        );
        assert_eq!(p(Ready, Ready, Absent, TaskStage::Absent), Phase::Restoring);
        assert_eq!(p(Ready, Ready, Busy, TaskStage::Absent), Phase::Restoring);
        // Snapshots deleted after the restore do not move the phase back.
        assert_eq!(
            p(Absent, Absent, Ready, TaskStage::Absent),
            Phase::ProvisioningReplication
        );
        assert_eq!(
            p(Absent, Absent, Ready, TaskStage::Provisioning),
            Phase::ProvisioningReplication
        );
        assert_eq!(
            p(Absent, Absent, Ready, TaskStage::Loading),
            Phase::FullLoad
        );
        assert_eq!(
            p(Absent, Absent, Ready, TaskStage::Replicating),
            Phase::Replicating
        );
        assert_eq!(
            derive_phase(
                Absent,
                Absent,
                Ready,
                TaskStage::Replicating,
                Some(Phase::CutOver)
            ),
            Phase::CutOver
        );
        assert_eq!(
            derive_phase(
                Absent,
                Absent,
                Ready,
                TaskStage::Replicating,
                Some(Phase::Restoring)
            ),
            Phase::Replicating
        );
    }
}

/// A migration found by its tags (for data sources and import).
#[derive(Debug, Clone, PartialEq)]
pub struct MigrationSummary {
    /// The migration id (source identifier).
    pub migration: String,
    /// Its target instance.
    pub target: DbInstance,
}

impl Engine {
    /// Every migration target in the account/region, found by the `rdsenc:role=target` tag.
    ///
    /// **Errors**: the AWS error after retries.
    pub async fn list_migrations(
        &self,
        cancel: &CancellationToken,
    ) -> Result<Vec<MigrationSummary>, EngineError> {
        use super::names::{Role, TAG_MIGRATION, TAG_ROLE};
        // Not tied to one migration: only the retry machinery of a run is used.
        let spec = super::spec::MigrationSpec::detached();
        let run = self.run(&spec, Duration::from_secs(5 * 60), cancel);
        let role = Role::Target.as_str();
        let found = run
            .call(Step::Observe, role, || {
                self.aws.list_db_instances_by_tag(TAG_ROLE, role)
            })
            .await?;
        let mut out: Vec<MigrationSummary> = found
            .into_iter()
            .filter_map(|t| {
                let migration = t.tags.get(TAG_MIGRATION)?.clone();
                Some(MigrationSummary {
                    migration,
                    target: t,
                })
            })
            .collect();
        out.sort_by(|a, b| a.migration.cmp(&b.migration));
        Ok(out)
    }
}

/// The resource's computed attributes, read off an [`Observed`]: one field per attribute,
/// named as in the schema. `None` = null in state.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Computed {
    /// `phase`.
    pub phase: String,
    /// `source_snapshot_identifier`.
    pub source_snapshot_identifier: Option<String>,
    /// `encrypted_snapshot_arn`.
    pub encrypted_snapshot_arn: Option<String>,
    /// `target_db_instance_arn`.
    pub target_db_instance_arn: Option<String>,
    /// `target_endpoint` ("address:port").
    pub target_endpoint: Option<String>,
    /// `replication_instance_arn`.
    pub replication_instance_arn: Option<String>,
    /// `source_endpoint_arn`.
    pub source_endpoint_arn: Option<String>,
    /// `target_endpoint_arn`.
    pub target_endpoint_arn: Option<String>,
    /// `replication_task_arn`.
    pub replication_task_arn: Option<String>,
    /// `replication_task_status`.
    pub replication_task_status: Option<String>,
    /// `full_load_progress_percent`.
    pub full_load_progress_percent: Option<i64>,
    /// `replication_lag_seconds`.
    pub replication_lag_seconds: Option<f64>,
    /// `validation_state`.
    pub validation_state: String,
    /// `active_db_instance_identifier`.
    pub active_db_instance_identifier: Option<String>,
    /// `active_endpoint` ("address:port").
    pub active_endpoint: Option<String>,
    /// `cutover_started_at` (RFC 3339 UTC).
    pub cutover_started_at: Option<String>,
    /// `cutover_completed_at` (RFC 3339 UTC).
    pub cutover_completed_at: Option<String>,
    /// `cutover_write_pause_seconds`: writes paused -> switch done.
    pub cutover_write_pause_seconds: Option<f64>,
    /// `reverse_replication_task_arn`.
    pub reverse_replication_task_arn: Option<String>,
    /// `reverse_replication_task_status`.
    pub reverse_replication_task_status: Option<String>,
    /// `reverse_replication_lag_seconds`.
    pub reverse_replication_lag_seconds: Option<f64>,
    /// `blue_green_deployment_id`.
    pub blue_green_deployment_id: Option<String>,
}

fn host_port(h: &HostPort) -> String {
    format!("{}:{}", h.address, h.port)
}

impl Observed {
    /// The computed attributes for state.
    pub fn computed(&self) -> Computed {
        Computed {
            phase: self.phase.as_str().to_owned(),
            source_snapshot_identifier: self.source_snapshot_identifier(),
            encrypted_snapshot_arn: self.encrypted_snapshot_arn(),
            target_db_instance_arn: self.target.as_ref().map(|t| t.arn.clone()),
            target_endpoint: self.target_address().map(host_port),
            replication_instance_arn: self.replication_instance.as_ref().map(|r| r.arn.clone()),
            source_endpoint_arn: self.source_endpoint.as_ref().map(|e| e.arn.clone()),
            target_endpoint_arn: self.target_endpoint.as_ref().map(|e| e.arn.clone()),
            replication_task_arn: self.task.as_ref().map(|t| t.arn.clone()),
            replication_task_status: self.task_status().map(|s| s.as_str().to_owned()),
            full_load_progress_percent: self.full_load_progress_percent().map(i64::from),
            replication_lag_seconds: self.replication_lag_seconds(),
            validation_state: self.validation.to_string(),
            active_db_instance_identifier: self.active_db_instance_identifier().map(str::to_owned),
            active_endpoint: self.active_endpoint().map(host_port),
            cutover_started_at: self.cutover.started_at_rfc3339(),
            cutover_completed_at: self.cutover.completed_at_rfc3339(),
            cutover_write_pause_seconds: self.cutover.write_pause_seconds(),
            reverse_replication_task_arn: self.reverse_task.as_ref().map(|t| t.arn.clone()),
            reverse_replication_task_status: self
                .reverse_task
                .as_ref()
                .map(|t| t.status.as_str().to_owned()),
            reverse_replication_lag_seconds: self.reverse_lag.target_seconds,
            blue_green_deployment_id: self.blue_green.as_ref().map(|d| d.identifier.clone()),
        }
    }

    /// `source_snapshot_identifier`: the snapshot read, else the one a refresh kept.
    pub fn source_snapshot_identifier(&self) -> Option<String> {
        match (&self.source_snapshot, &self.kept_snapshots) {
            (Some(s), _) => Some(s.identifier.clone()),
            (None, Some(k)) => Some(k.source_snapshot_identifier.clone()),
            (None, None) => None,
        }
    }

    /// `encrypted_snapshot_arn`: the copy read, else the one a refresh kept.
    pub fn encrypted_snapshot_arn(&self) -> Option<String> {
        match (&self.encrypted_snapshot, &self.kept_snapshots) {
            (Some(s), _) => Some(s.arn.clone()),
            (None, Some(k)) => Some(k.encrypted_snapshot_arn.clone()),
            (None, None) => None,
        }
    }

    /// The ids to pass back as [`KnownIds`] next time (what state records).
    pub fn known_ids(&self) -> KnownIds {
        KnownIds {
            recorded_phase: Some(self.phase),
            replication_instance_arn: self.replication_instance.as_ref().map(|r| r.arn.clone()),
            source_endpoint_arn: self.source_endpoint.as_ref().map(|e| e.arn.clone()),
            target_endpoint_arn: self.target_endpoint.as_ref().map(|e| e.arn.clone()),
            replication_task_arn: self.task.as_ref().map(|t| t.arn.clone()),
            blue_green_deployment_id: self.blue_green.as_ref().map(|d| d.identifier.clone()),
            source_snapshot_identifier: self.source_snapshot_identifier(),
            encrypted_snapshot_arn: self.encrypted_snapshot_arn(),
        }
    }
}

#[cfg(test)]
mod refresh_tests {
    use tokio_util::sync::CancellationToken;

    use super::*;
    use crate::engine::AwsApi;
    use crate::engine::fake::Op;
    use crate::engine::fixtures::{World, ok};

    async fn refresh(w: &World, known: &KnownIds) -> Observed {
        w.engine
            .refresh(&w.spec, known, &CancellationToken::new())
            .await
            .unwrap_or_else(|e| panic!("refresh failed: {e}"))
    }

    async fn full(w: &World, known: &KnownIds) -> Observed {
        w.engine
            .observe(&w.spec, known, &CancellationToken::new())
            .await
            .unwrap_or_else(|e| panic!("observe failed: {e}"))
    }

    #[tokio::test(start_paused = true)]
    async fn a_settled_refresh_makes_one_describe_per_owned_object_and_shows_what_a_full_read_shows()
     {
        let w = World::test();
        let known = ok(w.reconcile().await).known_ids();
        assert!(
            known.source_snapshot_identifier.is_some() && known.encrypted_snapshot_arn.is_some()
        );
        w.fake.clear_calls();
        let o = refresh(&w, &known).await;
        let count = |op| w.fake.count(op);
        assert_eq!(count(Op::DescribeDbInstance), 2, "source and target");
        assert_eq!(count(Op::DescribeReplicationInstance), 1);
        assert_eq!(count(Op::DescribeEndpoint), 2, "forward endpoints only");
        assert_eq!(count(Op::DescribeReplicationTask), 1, "forward task only");
        assert_eq!(count(Op::CdcLatency), 1);
        assert_eq!(count(Op::DescribeTableStatistics), 1, "validation is on");
        assert_eq!(count(Op::DescribeDbSnapshot), 0);
        assert_eq!(count(Op::DescribeReplicationSubnetGroup), 0);
        assert_eq!(count(Op::ListTags), 0);
        assert_eq!(w.fake.calls().len(), 8);

        assert_eq!(o.phase, Phase::Replicating);
        assert!(o.kept_snapshots.is_some());
        assert_eq!(o.computed(), full(&w, &known).await.computed());
    }

    #[tokio::test(start_paused = true)]
    async fn validation_off_saves_the_table_statistics_call() {
        let w = World::test().spec(|s| s.dms.validation = false);
        let known = ok(w.reconcile().await).known_ids();
        w.fake.clear_calls();
        let o = refresh(&w, &known).await;
        assert_eq!(w.fake.count(Op::DescribeTableStatistics), 0);
        assert_eq!(w.fake.calls().len(), 7);
        assert_eq!(o.validation, ValidationSummary::NotEnabled);
    }

    #[tokio::test(start_paused = true)]
    async fn a_target_that_is_not_ready_makes_the_refresh_read_the_snapshots_again() {
        let w = World::test();
        let known = ok(w.reconcile().await).known_ids();
        let delete = DeleteDbInstanceInput {
            db_instance_identifier: "orders-encrypted".into(),
            final_snapshot: FinalSnapshot::Skip,
            delete_automated_backups: true,
        };
        if let Err(e) = w.fake.delete_db_instance(&delete).await {
            panic!("delete: {e}");
        }
        w.fake.clear_calls();
        let o = refresh(&w, &known).await;
        assert_eq!(w.fake.count(Op::DescribeDbSnapshot), 2);
        assert!(o.kept_snapshots.is_none() && o.encrypted_snapshot.is_some());
        let f = full(&w, &known).await;
        assert_eq!(o.phase, f.phase);
        assert_eq!(o.computed(), f.computed());
    }

    #[tokio::test(start_paused = true)]
    async fn a_recorded_replication_instance_that_is_gone_makes_the_refresh_read_its_subnet_group()
    {
        let w = World::test();
        let known = KnownIds {
            replication_instance_arn: Some("arn:aws:dms:us-east-1:123456789012:rep:GONE".into()),
            ..KnownIds::default()
        };
        let o = refresh(&w, &known).await;
        assert!(o.replication_instance.is_none());
        assert_eq!(w.fake.count(Op::DescribeReplicationSubnetGroup), 1);
        assert_eq!(o.phase, Phase::Snapshotting);
        assert_eq!(
            w.fake.count(Op::DescribeDbSnapshot),
            2,
            "nothing recorded: read"
        );
    }
}
