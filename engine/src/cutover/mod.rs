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
//! # Why forward and reverse CDC never loop
//! Only one direction runs at a time. At cutover the forward task is drained and stopped
//! before the reverse task starts; the reverse task starts as CDC from the drain time
//! (`CdcStartPosition` = that time), so it reads only what the application writes to the
//! encrypted instance after the switch. At failback the reverse task is drained and
//! stopped, and the forward task is turned into a CDC-only task started from the failback
//! drain time, not resumed from its old checkpoint: resuming would re-read, from the
//! source's log, every change the reverse task wrote into the source while cut over and
//! replay it onto the target where it came from. The same holds for a second cutover: the
//! reverse task restarts from the new drain time, never from its checkpoint.
//!
//! # What the write pause is made of, and why
//! The pause runs from the fence (or the drain start) to the switch. No write may be lost, so
//! the switch waits until every change written before the pause is applied on the target:
//! CDC latency (`CDCLatencySource` and `CDCLatencyTarget`) below 1 s, read only once one
//! CloudWatch period has passed since the pause, because DMS publishes one datapoint a
//! minute and an earlier read may show one from before the pause. That period is the floor
//! of the pause while the evidence is CloudWatch. Everything after the drain is kept off
//! the pause where it can be: the forward task is stopped while the switch is made
//! (drained with writes paused it has nothing left to apply; only the reverse task must
//! wait for it), and the switch's own wait polls at the waits' adaptive interval. The drain
//! time, once recorded, is never re-measured: a re-run after an interrupted switch would
//! otherwise start the reverse task after writes the application already made on the
//! target.

use std::str::FromStr;
use std::time::{Duration, SystemTime};

use tokio_util::sync::CancellationToken;

use super::api::*;
use super::checks::{CheckFailure, cutover_checks};
use super::core::{Engine, Run, Waiter, with_status};
use super::error::{EngineError, Step};
use super::names::{Names, RDS_INSTANCE_ID_MAX, Role, TAG_ROLE, fit};
use super::observe::{KnownIds, Observed, is_replicating};
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
    /// complete, validation (when `require_validation`), and lag <= `max_lag`; a failed check
    /// returns [`EngineError::Refused`] with the measured values and changes nothing. Then:
    /// phase tag `cutting_over` -> write fence -> drain forward CDC -> stop forward task ->
    /// switch per strategy -> reverse endpoints and CDC-only reverse task from the drain
    /// time -> phase tag `cut_over`. Already `cut_over`/`finalizing`/`finalized`: returns
    /// the observed state (no-op). Also refused when the swap's names collide or a failback
    /// is in progress.
    Cutover,
    /// `cutover = true -> false`. It also rolls back a half-done cutover (`cutting_over`) as
    /// long as no write can have reached the target unreplicated. From `cut_over`: reverse
    /// task running and reverse lag <= `max_lag`, else [`EngineError::Refused`] with nothing
    /// changed. Then: phase tag `failing_back` -> fence the target (if configured) -> drain
    /// and stop reverse -> switch back -> forward task made CDC-only and started from the
    /// failback drain time -> lift fences -> phase `replicating`. `replicating` (or
    /// earlier): no-op. `finalizing`/`finalized`: refused.
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
/// Tag on the target: when forward CDC was drained; the reverse task starts here.
pub(crate) const TAG_DRAINED: &str = "rdsenc:drained-at";
/// Tag on the target: when the switch (DNS, rename or none) completed; writes resume here.
pub(crate) const TAG_SWITCHED: &str = "rdsenc:switched-at";
/// Tag on the target: when the cutover completed.
pub(crate) const TAG_CUTOVER_COMPLETED: &str = "rdsenc:cutover-completed-at";
/// Tag on the target: when reverse CDC was drained at failback; forward CDC restarts here.
pub(crate) const TAG_FAILBACK_DRAINED: &str = "rdsenc:failback-drained-at";
/// Tag on a fenced instance: its security groups before the fence, space-separated (RDS
/// tag values may not contain commas); empty once the fence is lifted.
pub(crate) const TAG_ORIGINAL_SGS: &str = "rdsenc:original-security-groups";

/// Consecutive zero-lag reads that prove CDC drained.
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
