//! The phase, derived by an exhaustive match over how far each object has got.

use super::*;

/// How far one object has got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stage {
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
pub(crate) enum TaskStage {
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
pub(crate) fn derive_phase(
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
pub(crate) fn is_replicating(t: &ReplicationTask) -> bool {
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
