//! Cutover: gate on lag and validation, pause writes, drain CDC, switch the application to the
//! encrypted instance (Route 53 CNAME, identifier swap, or nothing), and start the reverse
//! task that keeps the original instance in sync for a lossless failback.
//!
//! # Where progress is recorded
//! The phase and the cutover timestamps live in tags on the target instance (`rdsenc:phase`,
//! `rdsenc:cutover-started-at`, ...), written at each step, and the fenced instance's
//! original security groups in its own `rdsenc:original-security-groups` tag. AWS is then the
//! record: a crash between an AWS change and the state write loses nothing, and
//! [`Engine::observe`] reads the phase back from the tag.
//!
//! # Why forward and reverse CDC never loop, and where each starts
//! Only one direction runs at a time, and the engine checks it: every StartReplicationTask
//! goes through [`Run::start_task`], which refuses (`EngineError::BothDirections`, nothing
//! started) to start one direction while the other task runs, starts or stops.
//!
//! No CDC position comes from the runner's clock. Each new direction starts at the
//! database's own log position, taken while nothing can write there: its task is CDC-only,
//! has never run (a task that ran is deleted and created again, since `start-replication`
//! is valid only for a task's first run and resuming would read from its old checkpoint),
//! and is started with `start-replication` and no `CdcStartPosition`, so DMS reads from
//! the current end of the log (MySQL/MariaDB: the binlog position at the start;
//! PostgreSQL: a slot DMS creates at the start). The engine waits until it runs, which on
//! the emulator means connected and positioned.
//! - Cutover: fence the source -> drain forward -> stop forward (wait stopped) -> start the
//!   reverse task -> switch. Between the forward stop and the switch nothing writes to the
//!   encrypted instance, so the reverse task's start is exactly where the application's
//!   writes begin: no gap, and the forward task's writes (before it) are never carried back.
//! - Identifier swap: the renames move the addresses under the endpoints, so the reverse
//!   task is started before the renames (fixing its position), stopped (its
//!   `RecoveryCheckpoint` holds that position: it applied nothing, nothing wrote there),
//!   the names are swapped, its endpoints follow the addresses, and it resumes from that
//!   checkpoint: the same direction, and every write made on the renamed target lies after
//!   it in the log.
//! - Failback mirrors it: fence the target -> drain reverse -> stop reverse -> a forward
//!   task created afresh, CDC-only, started at the source's current position (never the old
//!   one resumed: its checkpoint, or its PostgreSQL slot, precedes every write the reverse
//!   task made on the source, which it would replay onto the target) -> switch back -> lift
//!   the fences. With an identifier swap the forward task is held in its checkpoint across
//!   the renames back, as the reverse task was.
//! - `resume-processing` only continues a task from its own checkpoint in the direction it
//!   last ran (a reverse task that failed while cut over, a settings update while
//!   replicating, a swap's held task).
//!
//! # Re-runs
//! Progress is in tags on the target, so an interrupted run resumes. A re-run of a cutover
//! proves the drain again unless the switch already began (a rename, the CNAME on the
//! target, or the recorded switch): a forward task it finds stopped is resumed from its
//! own checkpoint (a reverse task started before the kill is stopped first: it carried
//! nothing) and drained. Once the switch began, only the reverse task, started before it,
//! may carry the application's writes back, so the run completes from there. A re-run of a
//! failback continues only from a reverse drain that failback recorded; a reverse task
//! found stopped or failed without it is refused, with nothing changed. The forward task a
//! failback created is recorded by ARN (`rdsenc:failback-forward-task`), so a re-run
//! continues that one and never the one from before the cutover.
//!
//! # What the write pause is made of, and why
//! The pause runs from the fence (or the drain start) to the switch. No write may be lost, so
//! the switch waits for CloudWatch's evidence that the changes written before the pause are
//! applied on the target: three datapoints, each newer than the last one counted,
//! where `CDCLatencySource` and `CDCLatencyTarget` are both present, below 1 s and stamped
//! one period (60 s) or more after the fence (a datapoint aggregates its whole period, so an
//! earlier one may hold samples from before the fence). The forward task is described on every
//! poll: one that stops, fails or suspends a table ends the cutover before anything is
//! switched. This is evidence in time, not in log position (a latency per period), and it
//! costs the pause two to four minutes on AWS. Everything after the drain is kept off
//! the pause where it can be: the forward task is stopped while the switch is made
//! (drained with writes paused it has nothing left to apply; only the reverse task must
//! wait for it), and the switch's own wait polls at the waits' adaptive interval. The
//! forward task's stop and the reverse task's start are on the pause: the reverse task must
//! be positioned before the application can write to the target.

use std::str::FromStr;
use std::time::{Duration, SystemTime};

use tokio_util::sync::CancellationToken;

use super::api::*;
use super::checks::{CheckFailure, cutover_checks, larger_lag, tables_error_text};
use super::core::{Engine, Run, Waiter, with_status};
use super::error::{EngineError, Step};
use super::names::{Names, RDS_INSTANCE_ID_MAX, Role, TAG_ROLE, fit};
use super::observe::{KnownIds, Observed, is_replicating, tables_errored, tables_in_error};
use super::reconcile::{EngineFailure, task_failure};
use super::spec::{MigrationSpec, Phase, target_after_connect_script, task_settings_json};
use super::waiters::{self, *};

mod config;
mod fence;
mod plan;
mod record;
mod run;
mod steps;
mod switch;

pub use config::*;
pub(crate) use fence::*;
pub(crate) use plan::*;
pub use record::*;

/// An operation that moves a migration between `replicating`, `cut_over` and `finalized`,
/// run by [`Engine::switch`]. The variants describe the DMS strategy; with blue/green the
/// cutover is the RDS switchover, failback is refused once it happened, and finalize deletes
/// the deployment and retires the old instances (`blue_green/`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SwitchOp {
    /// `cutover = false -> true`. From `replicating`: checks task running, full load
    /// complete, no table in error, validation (when `require_validation`), and the larger of
    /// source and target lag <= `max_lag`; a failed check
    /// returns [`EngineError::Refused`] with the measured values and changes nothing. Then:
    /// phase tag `cutting_over` -> write fence -> drain forward CDC -> stop forward task
    /// (wait stopped) -> reverse endpoints and a CDC-only reverse task started at the
    /// encrypted instance's current log position -> switch per strategy -> phase tag
    /// `cut_over` (see the module docs for the identifier swap). Already `cut_over`/`finalizing`/`finalized`: returns
    /// the observed state (no-op). Also refused when the swap's names collide or a failback
    /// is in progress.
    Cutover,
    /// `cutover = true -> false`. It also rolls back a half-done cutover (`cutting_over`) as
    /// long as no write can have reached the target unreplicated. From `cut_over`: reverse
    /// task running with no table in error and the larger of its source and target lag <=
    /// `max_lag`, else [`EngineError::Refused`] with nothing
    /// changed. Then: phase tag `failing_back` -> fence the target (if configured) -> drain
    /// and stop reverse -> forward task created afresh, CDC-only, started at the source's
    /// current log position -> switch back -> lift fences -> phase `replicating`. A re-run
    /// that finds the reverse task stopped without a recorded drain refuses, changing
    /// nothing. `replicating` (or earlier): no-op. `finalizing`/`finalized`: refused.
    Failback,
    /// `finalize = true`. Only from `cut_over` (or a re-run from `finalizing`); `finalized`
    /// is a no-op. Refuses, before changing anything, a `snapshot_and_delete` of a source
    /// with deletion protection or whose final snapshot name is taken. DMS deletions go on
    /// past failures and the first error is returned (the phase stays `finalizing` so a
    /// re-run continues).
    Finalize,
}

/// Tag on the target: the phase, once past `replicating`.
pub(crate) const TAG_PHASE: &str = "rdsenc:phase";
/// Tag on the target: when the current cutover started (RFC 3339 UTC).
pub(crate) const TAG_CUTOVER_STARTED: &str = "rdsenc:cutover-started-at";
/// Tag on the target: when writes to the source were paused (fence or drain start).
pub(crate) const TAG_WRITES_PAUSED: &str = "rdsenc:writes-paused-at";
/// Tag on the target: when forward CDC was drained (progress; no position derives from it).
pub(crate) const TAG_DRAINED: &str = "rdsenc:drained-at";
/// Tag on the target: when the switch (DNS, rename or none) completed; writes resume here.
pub(crate) const TAG_SWITCHED: &str = "rdsenc:switched-at";
/// Tag on the target: when the cutover completed.
pub(crate) const TAG_CUTOVER_COMPLETED: &str = "rdsenc:cutover-completed-at";
/// Tag on the target: when reverse CDC was drained at failback; a re-run continues only
/// from such a recorded drain.
pub(crate) const TAG_FAILBACK_DRAINED: &str = "rdsenc:failback-drained-at";
/// Tag on the target: the ARN of the forward task a failback created afresh (CDC from the
/// source's position at that moment); empty until then. A re-run tells by it whether the
/// forward task is that one (continue it) or the one from before the cutover (never
/// resumed: its checkpoint precedes the reverse task's writes on the source).
pub(crate) const TAG_FORWARD_FRESH: &str = "rdsenc:failback-forward-task";
/// Tag on a fenced instance: its security groups before the fence, space-separated (RDS
/// tag values may not contain commas); empty once the fence is lifted.
pub(crate) const TAG_ORIGINAL_SGS: &str = "rdsenc:original-security-groups";

/// Drained reads, each of a newer datapoint than the last, that prove CDC drained.
pub(crate) const DRAIN_READS: u32 = 3;
/// A CDC latency below this many seconds counts as drained (CloudWatch reports whole
/// seconds).
pub(crate) const DRAINED_BELOW_SECONDS: f64 = 1.0;

// ---------------------------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------
// Waiters
// ---------------------------------------------------------------------------------------------

fn no_percent<T>(_: &T) -> Option<i32> {
    None
}

pub(crate) fn refused(
    attribute: &'static str,
    action: &'static str,
    reasons: Vec<String>,
) -> EngineError {
    EngineError::Refused {
        attribute,
        action,
        reasons,
    }
}

fn sorted(v: &[String]) -> Vec<String> {
    let mut v = v.to_vec();
    v.sort();
    v
}
