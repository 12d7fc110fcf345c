//! Named timeouts, one per waiter, in one table. Every wait is also capped by the caller's
//! overall deadline (the resource's `timeouts.create`, `timeouts.update`, ...).

use std::time::Duration;

const MINUTE: Duration = Duration::from_secs(60);

/// Source instance becoming available before its snapshot.
pub(crate) const SOURCE_READY: Duration = MINUTE.saturating_mul(60);
/// Manual snapshot of the source (multi-TB sources take hours).
pub(crate) const SNAPSHOT: Duration = MINUTE.saturating_mul(8 * 60);
/// Encrypted copy of the snapshot (copy re-encrypts every block).
pub(crate) const ENCRYPTED_COPY: Duration = MINUTE.saturating_mul(12 * 60);
/// Restore of the target, including its first backup.
pub(crate) const RESTORE: Duration = MINUTE.saturating_mul(8 * 60);
/// A ModifyDBInstance settling.
pub(crate) const MODIFY: Duration = MINUTE.saturating_mul(90);
/// Read replica creation.
pub(crate) const READ_REPLICA: Duration = MINUTE.saturating_mul(8 * 60);
/// DMS replication instance creation.
pub(crate) const REPLICATION_INSTANCE: Duration = MINUTE.saturating_mul(60);
/// A DMS connection test.
pub(crate) const CONNECTION_TEST: Duration = MINUTE.saturating_mul(15);
/// DMS task creation (creating -> ready).
pub(crate) const TASK_READY: Duration = MINUTE.saturating_mul(30);
/// Full load to 100 % with CDC running.
pub(crate) const FULL_LOAD: Duration = MINUTE.saturating_mul(48 * 60);
/// DMS task stop.
pub(crate) const TASK_STOP: Duration = MINUTE.saturating_mul(30);
/// DMS task or replication instance deletion.
pub(crate) const DMS_DELETE: Duration = MINUTE.saturating_mul(60);

// Cutover and failback.
/// Route 53 change INSYNC (terraform-provider-aws uses 30 minutes).
pub(crate) const ROUTE53_INSYNC: Duration = Duration::from_secs(30 * 60);
/// One RDS rename or security-group change.
pub(crate) const RENAME: Duration = Duration::from_secs(30 * 60);
/// CDC draining after the write pause.
pub(crate) const DRAIN: Duration = Duration::from_secs(30 * 60);
/// Reverse task creation and start.
pub(crate) const REVERSE_TASK: Duration = Duration::from_secs(30 * 60);

// Blue/green deployments.
/// Green environment creation: a restore of every instance plus catch-up.
pub(crate) const GREEN_PROVISION: Duration = Duration::from_secs(12 * 3600);
/// Added to `switchover_timeout`: RDS reports the outcome a little after it.
pub(crate) const SWITCHOVER_MARGIN: Duration = Duration::from_secs(30 * 60);
/// Deployment object deletion.
pub(crate) const BLUE_GREEN_DELETE: Duration = Duration::from_secs(30 * 60);
