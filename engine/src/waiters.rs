//! Every waiter in one table: what it waits for, in which phase, and for how long. Every wait
//! is also capped by the caller's overall deadline (the resource's `timeouts.create`,
//! `timeouts.update`, ...).

use std::time::Duration;

use super::api::{
    BlueGreenStatus, ChangeStatus, ConnectionStatus, DbInstanceStatus, ReplicationInstanceStatus,
    ReplicationTaskStatus, SnapshotStatus,
};
use super::blue_green::GreenWait;
use super::core::Waiter;
use super::error::Step;
use super::reconcile::LoadState;
use super::spec::Phase;

const fn minutes(n: u64) -> Duration {
    Duration::from_secs(n * 60)
}

/// CDC draining after the write pause.
pub(crate) const DRAIN: Duration = minutes(30);
/// Added to `switchover_timeout`: RDS reports the outcome a little after it.
pub(crate) const SWITCHOVER_MARGIN: Duration = minutes(30);

/// An RDS instance settling: transitional statuses pass, `available` (or usable) ends it.
const fn instance(step: Step, phase: Phase, timeout: Duration) -> Waiter<DbInstanceStatus> {
    Waiter::new(
        step,
        phase,
        DbInstanceStatus::PENDING,
        DbInstanceStatus::READY,
        timeout,
    )
}

const SNAPSHOT_PENDING: &[SnapshotStatus] = &[
    SnapshotStatus::Creating,
    SnapshotStatus::Pending,
    SnapshotStatus::Copying,
];
const SNAPSHOT_READY: &[SnapshotStatus] = &[SnapshotStatus::Available];

// --- Create path ---

/// Source instance becoming available before its snapshot.
pub(crate) const WAIT_SOURCE: Waiter<DbInstanceStatus> =
    instance(Step::WaitSource, Phase::Snapshotting, minutes(60));
/// Manual snapshot of the source (multi-TB sources take hours).
pub(crate) const WAIT_SNAPSHOT: Waiter<SnapshotStatus> = Waiter::new(
    Step::WaitSnapshot,
    Phase::Snapshotting,
    SNAPSHOT_PENDING,
    SNAPSHOT_READY,
    minutes(8 * 60),
);
/// Encrypted copy of the snapshot (copy re-encrypts every block).
pub(crate) const WAIT_COPY: Waiter<SnapshotStatus> = Waiter {
    step: Step::WaitEncryptedCopy,
    phase: Phase::CopyingEncrypted,
    timeout: minutes(12 * 60),
    ..WAIT_SNAPSHOT
};
/// Restore of the target, including its first backup. A restore flips available ->
/// backing-up -> available; two reads avoid stopping at the first.
pub(crate) const WAIT_TARGET: Waiter<DbInstanceStatus> =
    instance(Step::WaitTarget, Phase::Restoring, minutes(8 * 60)).reads(2);
/// A ModifyDBInstance of the target settling.
pub(crate) const WAIT_TARGET_MODIFIED: Waiter<DbInstanceStatus> =
    instance(Step::ModifyTarget, Phase::Restoring, MODIFY).reads(2);
/// Read replica creation.
pub(crate) const WAIT_REPLICA: Waiter<DbInstanceStatus> = instance(
    Step::WaitReadReplica,
    Phase::ProvisioningReplication,
    minutes(8 * 60),
);
/// DMS replication instance creation.
pub(crate) const WAIT_REPLICATION_INSTANCE: Waiter<ReplicationInstanceStatus> = Waiter::new(
    Step::WaitReplicationInstance,
    Phase::ProvisioningReplication,
    &[
        ReplicationInstanceStatus::Creating,
        ReplicationInstanceStatus::Modifying,
        ReplicationInstanceStatus::Upgrading,
        ReplicationInstanceStatus::Rebooting,
        ReplicationInstanceStatus::Maintenance,
    ],
    &[ReplicationInstanceStatus::Available],
    minutes(60),
);
/// DMS task creation (creating -> ready).
pub(crate) const WAIT_TASK_SETTLED: Waiter<ReplicationTaskStatus> = Waiter::new(
    Step::WaitTaskReady,
    Phase::ProvisioningReplication,
    &[
        ReplicationTaskStatus::Creating,
        ReplicationTaskStatus::Modifying,
        ReplicationTaskStatus::Starting,
        ReplicationTaskStatus::Stopping,
        ReplicationTaskStatus::Moving,
        ReplicationTaskStatus::Testing,
    ],
    &[
        ReplicationTaskStatus::Ready,
        ReplicationTaskStatus::Stopped,
        ReplicationTaskStatus::Running,
        ReplicationTaskStatus::Failed,
    ],
    TASK_READY,
);
/// A DMS connection test.
pub(crate) const WAIT_CONNECTION: Waiter<ConnectionStatus> = Waiter::new(
    Step::TestConnection,
    Phase::ProvisioningReplication,
    &[ConnectionStatus::Testing],
    &[ConnectionStatus::Successful],
    minutes(15),
);
/// Full load to 100 % with CDC running.
pub(crate) const WAIT_FULL_LOAD: Waiter<LoadState> = Waiter::new(
    Step::WaitFullLoad,
    Phase::FullLoad,
    &[LoadState::Starting, LoadState::Loading],
    &[LoadState::Replicating],
    minutes(48 * 60),
);
/// Green environment creation: a restore of every instance plus catch-up.
pub(crate) const WAIT_GREEN: Waiter<GreenWait> = Waiter::new(
    Step::WaitBlueGreen,
    Phase::ProvisioningGreen,
    &[GreenWait::Provisioning, GreenWait::GreenBusy],
    &[GreenWait::Ready],
    minutes(12 * 60),
);

// --- Updates ---

/// DMS task creation or resume.
const TASK_READY: Duration = minutes(30);
/// DMS task stop or modification.
const TASK_STOP: Duration = minutes(30);
/// A ModifyDBInstance settling.
const MODIFY: Duration = minutes(90);

/// A task resumed after a settings change running again.
pub(crate) const WAIT_TASK_RESUMED: Waiter<ReplicationTaskStatus> = Waiter::new(
    Step::StartTask,
    Phase::Replicating,
    &[
        ReplicationTaskStatus::Starting,
        ReplicationTaskStatus::Stopped,
        ReplicationTaskStatus::Modifying,
    ],
    &[ReplicationTaskStatus::Running],
    TASK_READY,
);
/// A ModifyReplicationTask settling (in `replicating`; failback uses it in its own phase).
pub(crate) const WAIT_TASK_MODIFIED: Waiter<ReplicationTaskStatus> = Waiter::new(
    Step::ModifyTask,
    Phase::Replicating,
    &[ReplicationTaskStatus::Modifying],
    &[
        ReplicationTaskStatus::Stopped,
        ReplicationTaskStatus::Ready,
        ReplicationTaskStatus::Failed,
    ],
    TASK_STOP,
);

// --- Cutover and failback ---

/// One RDS rename or security-group change. A modify shows `available` for a moment before
/// `modifying`/`renaming`.
pub(crate) const WAIT_RENAMED: Waiter<DbInstanceStatus> =
    instance(Step::RenameInstance, Phase::CuttingOver, minutes(30)).reads(2);
/// Route 53 change INSYNC (terraform-provider-aws uses 30 minutes).
pub(crate) const WAIT_ROUTE53: Waiter<ChangeStatus> = Waiter::new(
    Step::WaitRoute53,
    Phase::CuttingOver,
    &[ChangeStatus::Pending],
    &[ChangeStatus::Insync],
    minutes(30),
);
/// Reverse (or forward CDC-only) task start.
pub(crate) const WAIT_CDC_RUNNING: Waiter<ReplicationTaskStatus> = Waiter::new(
    Step::StartCdc,
    Phase::CuttingOver,
    &[
        ReplicationTaskStatus::Creating,
        ReplicationTaskStatus::Modifying,
        ReplicationTaskStatus::Starting,
        ReplicationTaskStatus::Ready,
        ReplicationTaskStatus::Stopped,
    ],
    &[ReplicationTaskStatus::Running],
    REVERSE_TASK,
);
/// Reverse task creation, until it can be started.
pub(crate) const WAIT_TASK_IDLE: Waiter<ReplicationTaskStatus> = Waiter::new(
    Step::CreateReverseTask,
    Phase::CuttingOver,
    &[
        ReplicationTaskStatus::Creating,
        ReplicationTaskStatus::Modifying,
    ],
    &[
        ReplicationTaskStatus::Ready,
        ReplicationTaskStatus::Stopped,
        ReplicationTaskStatus::Failed,
        ReplicationTaskStatus::Running,
    ],
    REVERSE_TASK,
);
/// Reverse task creation and start.
const REVERSE_TASK: Duration = minutes(30);
/// A blue/green switchover (the caller adds `switchover_timeout`). Right after the call,
/// describe may still show AVAILABLE.
pub(crate) const WAIT_SWITCHOVER: Waiter<BlueGreenStatus> = Waiter::new(
    Step::SwitchoverBlueGreen,
    Phase::CuttingOver,
    &[
        BlueGreenStatus::Available,
        BlueGreenStatus::SwitchoverInProgress,
    ],
    &[BlueGreenStatus::SwitchoverCompleted],
    SWITCHOVER_MARGIN,
);

// --- Finalize and teardown ---

/// The retired source stopping.
pub(crate) const WAIT_STOPPED: Waiter<DbInstanceStatus> = Waiter::new(
    Step::RetireSource,
    Phase::Finalizing,
    &[
        DbInstanceStatus::Stopping,
        DbInstanceStatus::Available,
        DbInstanceStatus::Modifying,
    ],
    &[DbInstanceStatus::Stopped],
    MODIFY,
);
/// A DMS task stopping before its deletion.
pub(crate) const WAIT_TASK_STOPPED: Waiter<ReplicationTaskStatus> = Waiter::new(
    Step::WaitTaskStopped,
    Phase::Finalizing,
    &[
        ReplicationTaskStatus::Stopping,
        ReplicationTaskStatus::Running,
        ReplicationTaskStatus::Starting,
        ReplicationTaskStatus::Modifying,
        ReplicationTaskStatus::Creating,
    ],
    &[
        ReplicationTaskStatus::Stopped,
        ReplicationTaskStatus::Failed,
        ReplicationTaskStatus::Ready,
    ],
    TASK_STOP,
);
/// DMS task deletion. Right after the call, describe may still show the previous state.
pub(crate) const WAIT_TASK_GONE: Waiter<ReplicationTaskStatus> = Waiter::gone(
    Step::DeleteTask,
    Phase::Finalizing,
    &[
        ReplicationTaskStatus::Deleting,
        ReplicationTaskStatus::Stopped,
        ReplicationTaskStatus::Failed,
        ReplicationTaskStatus::Ready,
    ],
    DMS_DELETE,
);
/// DMS replication instance deletion.
pub(crate) const WAIT_INSTANCE_GONE: Waiter<ReplicationInstanceStatus> = Waiter::gone(
    Step::DeleteReplicationInstance,
    Phase::Finalizing,
    &[
        ReplicationInstanceStatus::Deleting,
        ReplicationInstanceStatus::Available,
        ReplicationInstanceStatus::Modifying,
        ReplicationInstanceStatus::Creating,
    ],
    DMS_DELETE,
);
/// DMS task or replication instance deletion.
const DMS_DELETE: Duration = minutes(60);
/// Blue/green deployment object deletion.
pub(crate) const WAIT_DELETED: Waiter<BlueGreenStatus> = Waiter::gone(
    Step::DeleteBlueGreen,
    Phase::Finalizing,
    &[
        BlueGreenStatus::Deleting,
        BlueGreenStatus::Provisioning,
        BlueGreenStatus::Available,
        BlueGreenStatus::SwitchoverCompleted,
        BlueGreenStatus::SwitchoverFailed,
        BlueGreenStatus::InvalidConfiguration,
        BlueGreenStatus::ProvisioningFailed,
    ],
    minutes(30),
);
