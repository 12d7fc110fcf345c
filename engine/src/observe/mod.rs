//! What exists right now, and the phase derived from it by a pure function.

use std::fmt;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::api::*;
use super::core::{Engine, Run};
use super::error::{EngineError, Step};
use super::spec::{MigrationSpec, Phase};

mod phase;
mod read;
mod summary;

pub(crate) use phase::*;
pub use summary::*;

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

/// The tables DMS reports in `Table error`, as `schema.table`.
pub(crate) fn tables_in_error(tables: &[TableStatistics]) -> Vec<String> {
    tables
        .iter()
        .filter(|t| t.table_state == TableState::Error)
        .map(|t| format!("{}.{}", t.schema_name, t.table_name))
        .collect()
}

/// `TablesErrored` of a task (0 before its first statistics).
pub(crate) fn tables_errored(task: &ReplicationTask) -> i32 {
    task.stats.as_ref().map_or(0, |s| s.tables_errored)
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
    /// The forward task's tables in `Table error` (suspended: DMS no longer applies their
    /// changes), as `schema.table`; read when validation is on or `TablesErrored` counts any.
    pub tables_in_error: Vec<String>,
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
    /// The replication tasks that exist: forward, then reverse (once a cutover happened).
    pub(crate) fn tasks(&self) -> impl Iterator<Item = &ReplicationTask> {
        [&self.task, &self.reverse_task].into_iter().flatten()
    }

    /// The DMS endpoints that exist: the forward pair, then the reverse pair.
    pub(crate) fn endpoints(&self) -> impl Iterator<Item = &Endpoint> {
        [
            &self.source_endpoint,
            &self.target_endpoint,
            &self.reverse_source_endpoint,
            &self.reverse_target_endpoint,
        ]
        .into_iter()
        .flatten()
    }

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
    /// `replication_lag_seconds`: the larger of source and target CDC latency, the lag the
    /// cutover gate compares (as documented).
    pub fn replication_lag_seconds(&self) -> Option<f64> {
        super::checks::larger_lag(&self.lag)
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
#[cfg(test)]
mod refresh_tests {
    use tokio_util::sync::CancellationToken;

    use super::*;
    use crate::AwsApi;
    use crate::fake::Op;
    use crate::fixtures::{World, ok};

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
