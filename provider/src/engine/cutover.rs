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

/// Tag on the target: the phase, once past `replicating`.
pub const TAG_PHASE: &str = "rdsenc:phase";
/// Tag on the target: when the current cutover started (RFC 3339 UTC).
pub const TAG_CUTOVER_STARTED: &str = "rdsenc:cutover-started-at";
/// Tag on the target: when writes to the source were paused (fence or drain start).
pub const TAG_WRITES_PAUSED: &str = "rdsenc:writes-paused-at";
/// Tag on the target: when forward CDC was drained; the reverse task starts here.
pub const TAG_DRAINED: &str = "rdsenc:drained-at";
/// Tag on the target: when the switch (DNS, rename or none) completed; writes resume here.
pub const TAG_SWITCHED: &str = "rdsenc:switched-at";
/// Tag on the target: when the cutover completed.
pub const TAG_CUTOVER_COMPLETED: &str = "rdsenc:cutover-completed-at";
/// Tag on the target: when reverse CDC was drained at failback; forward CDC restarts here.
pub const TAG_FAILBACK_DRAINED: &str = "rdsenc:failback-drained-at";
/// Tag on a fenced instance: its security groups before the fence, space-separated (RDS
/// tag values may not contain commas); empty once the fence is lifted.
pub const TAG_ORIGINAL_SGS: &str = "rdsenc:original-security-groups";

/// Consecutive zero-lag reads that prove CDC drained.
pub const DRAIN_READS: u32 = 3;
/// A CDC latency below this many seconds counts as drained (CloudWatch reports whole
/// seconds).
pub const DRAINED_BELOW_SECONDS: f64 = 1.0;
/// Named timeouts of the switch steps (each also capped by the caller's deadline).
pub mod timeouts {
    use std::time::Duration;
    /// Route 53 change INSYNC (terraform-provider-aws uses 30 minutes).
    pub const ROUTE53_INSYNC: Duration = Duration::from_secs(30 * 60);
    /// One RDS rename or security-group change.
    pub const RENAME: Duration = Duration::from_secs(30 * 60);
    /// CDC draining after the write pause.
    pub const DRAIN: Duration = Duration::from_secs(30 * 60);
    /// Reverse task creation and start.
    pub const REVERSE_TASK: Duration = Duration::from_secs(30 * 60);
}

// ---------------------------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------------------------

/// The `route53` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route53Record {
    /// `route53.zone_id`.
    pub zone_id: String,
    /// `route53.record_name`: the host name the application connects to.
    pub record_name: String,
    /// `route53.ttl` in seconds.
    pub ttl: i64,
}

/// `cutover_strategy`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CutoverStrategy {
    /// `"route53"`: UPSERT the CNAME to the active instance's address.
    Route53(Route53Record),
    /// `"identifier_swap"`: `<source>` -> `<source>-unencrypted`, target -> `<source>`.
    IdentifierSwap,
    /// `"none"`: only `active_endpoint` / `active_db_instance_identifier` change.
    None,
}

impl CutoverStrategy {
    /// From the `cutover_strategy` string and the `route53` block.
    ///
    /// **Errors**: an unknown strategy (attribute `cutover_strategy`), or `route53` without
    /// its block (attribute `route53`).
    pub fn from_config(
        strategy: &str,
        route53: Option<Route53Record>,
    ) -> Result<Self, EngineError> {
        match (strategy, route53) {
            ("route53", Some(r)) => Ok(CutoverStrategy::Route53(r)),
            ("route53", None) => Err(EngineError::InvalidSpec {
                attribute: "route53",
                message: "is required when cutover_strategy is \"route53\"".into(),
            }),
            ("identifier_swap", _) => Ok(CutoverStrategy::IdentifierSwap),
            ("none", _) => Ok(CutoverStrategy::None),
            (other, _) => Err(EngineError::InvalidSpec {
                attribute: "cutover_strategy",
                message: format!(
                    "unknown value {other:?}; use \"route53\", \"identifier_swap\" or \"none\""
                ),
            }),
        }
    }
}

/// `write_fence` (+ `fence_security_group_ids`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteFence {
    /// `"none"`: the user stops writes (maintenance page); the engine only drains.
    None,
    /// `"security_groups"`: the instance losing traffic is moved to these groups, which
    /// admit DMS but not the application.
    SecurityGroups(Vec<String>),
}

/// `retire_source`, applied at finalize.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RetireSource {
    /// `"keep"`: leave the original instance running.
    #[default]
    Keep,
    /// `"stop"`: StopDBInstance (AWS starts it again after 7 days).
    Stop,
    /// `"snapshot_and_delete"`: final snapshot `<source>-rdsenc-final`, then delete.
    SnapshotAndDelete,
}

impl FromStr for RetireSource {
    type Err = EngineError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "keep" => Ok(RetireSource::Keep),
            "stop" => Ok(RetireSource::Stop),
            "snapshot_and_delete" => Ok(RetireSource::SnapshotAndDelete),
            other => Err(EngineError::InvalidSpec {
                attribute: "retire_source",
                message: format!(
                    "unknown value {other:?}; use \"keep\", \"stop\" or \"snapshot_and_delete\""
                ),
            }),
        }
    }
}

/// Everything cutover, failback and finalize need besides the [`MigrationSpec`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CutoverSpec {
    /// `cutover_strategy` (+ `route53`).
    pub strategy: CutoverStrategy,
    /// `write_fence` (+ `fence_security_group_ids`).
    pub write_fence: WriteFence,
    /// `max_cutover_lag_seconds` (default 5).
    pub max_lag: Duration,
    /// `require_validation` (default: `dms.validation`).
    pub require_validation: bool,
    /// `retire_source`.
    pub retire_source: RetireSource,
    /// `switchover_timeout` in seconds (`strategy = "blue_green"`; `None` = RDS's 300).
    /// With blue/green, `max_lag`, `require_validation`, `write_fence` and the DNS /
    /// identifier-swap strategy do not apply: RDS blocks writes during the switchover,
    /// refuses it when green lags (its own guardrail), and renames the instances itself.
    pub switchover_timeout_seconds: Option<i32>,
}

impl CutoverSpec {
    /// Checks what can be checked without AWS; every error names its attribute.
    ///
    /// **Errors**: one [`EngineError::InvalidSpec`] per problem.
    pub fn validate(&self, spec: &MigrationSpec) -> Result<(), Vec<EngineError>> {
        let mut errs = Vec::new();
        let mut bad = |attribute: &'static str, message: String| {
            errs.push(EngineError::InvalidSpec { attribute, message });
        };
        if let CutoverStrategy::Route53(r) = &self.strategy {
            if r.zone_id.trim().is_empty() {
                bad("route53.zone_id", "must not be empty".into());
            }
            if r.record_name.trim().is_empty() {
                bad("route53.record_name", "must not be empty".into());
            }
            if !(0..=2_147_483_647).contains(&r.ttl) {
                bad(
                    "route53.ttl",
                    format!("must be 0-2147483647, got {}", r.ttl),
                );
            }
        }
        if spec.strategy == super::spec::Strategy::BlueGreen {
            super::blue_green::validate_cutover(self, &mut bad);
        } else if self.strategy == CutoverStrategy::IdentifierSwap {
            let n = spec.names();
            let renamed = format!("{}{UNENCRYPTED_SUFFIX}", n.migration);
            if renamed.len() > RDS_INSTANCE_ID_MAX {
                bad(
                    "cutover_strategy",
                    format!(
                        "identifier_swap renames the source to {renamed:?}, longer than the {RDS_INSTANCE_ID_MAX} characters RDS allows; use \"route53\" or \"none\""
                    ),
                );
            }
        }
        if let WriteFence::SecurityGroups(sgs) = &self.write_fence
            && (sgs.is_empty() || sgs.iter().any(|s| !s.starts_with("sg-")))
        {
            bad(
                "fence_security_group_ids",
                "must list at least one security group id (sg-...) that admits the DMS replication instance but not the application".into(),
            );
        }
        if errs.is_empty() { Ok(()) } else { Err(errs) }
    }
}

// ---------------------------------------------------------------------------------------------
// Names and the record
// ---------------------------------------------------------------------------------------------

const UNENCRYPTED_SUFFIX: &str = "-unencrypted";

/// `<source>-unencrypted`: the original instance's name after an identifier swap.
pub fn unencrypted_name(n: &Names) -> String {
    fit(
        &format!("{}{UNENCRYPTED_SUFFIX}", n.migration),
        RDS_INSTANCE_ID_MAX,
    )
}

/// `rdsenc-<source>-reverse-source`: reads the encrypted instance.
pub fn reverse_source_endpoint_name(n: &Names) -> String {
    format!("{}-source", n.reverse_task)
}

/// `rdsenc-<source>-reverse-target`: writes the original instance.
pub fn reverse_target_endpoint_name(n: &Names) -> String {
    format!("{}-target", n.reverse_task)
}

/// `<source>-rdsenc-final`: the original instance's final snapshot (`snapshot_and_delete`).
pub fn source_final_snapshot_name(n: &Names) -> String {
    format!("{}-rdsenc-final", n.migration)
}

/// True when `i` is this migration's encrypted target (by its tags, whatever its name).
pub fn is_our_target(n: &Names, i: &DbInstance) -> bool {
    n.owns(&i.tags) && i.tags.get(TAG_ROLE).map(String::as_str) == Some(Role::Target.as_str())
}

/// What the target's tags say about the cutover; `None` = not recorded.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CutoverRecord {
    /// The phase recorded by the last switch step.
    pub phase: Option<Phase>,
    /// `cutover_started_at`.
    pub started_at: Option<SystemTime>,
    /// Writes to the source paused (fence applied, or draining began).
    pub writes_paused_at: Option<SystemTime>,
    /// Forward CDC drained; the reverse task's CDC start.
    pub drained_at: Option<SystemTime>,
    /// The switch completed: the application reaches the encrypted instance.
    pub switched_at: Option<SystemTime>,
    /// `cutover_completed_at` (reverse task running too).
    pub completed_at: Option<SystemTime>,
    /// Reverse CDC drained at failback; forward CDC's restart point.
    pub failback_drained_at: Option<SystemTime>,
}

pub(crate) fn stamp(t: SystemTime) -> String {
    humantime::format_rfc3339_seconds(t).to_string()
}

fn parse_stamp(s: Option<&String>) -> Option<SystemTime> {
    s.filter(|s| !s.is_empty())
        .and_then(|s| humantime::parse_rfc3339(s).ok())
}

/// DMS's date form of `CdcStartPosition` ("2026-01-31T12:00:00", UTC, no zone suffix).
pub fn cdc_start_position(t: SystemTime) -> String {
    stamp(t).trim_end_matches('Z').to_owned()
}

impl CutoverRecord {
    /// Reads the record from the target's tags.
    pub fn from_tags(tags: &Tags) -> Self {
        CutoverRecord {
            phase: tags.get(TAG_PHASE).and_then(|p| p.parse().ok()),
            started_at: parse_stamp(tags.get(TAG_CUTOVER_STARTED)),
            writes_paused_at: parse_stamp(tags.get(TAG_WRITES_PAUSED)),
            drained_at: parse_stamp(tags.get(TAG_DRAINED)),
            switched_at: parse_stamp(tags.get(TAG_SWITCHED)),
            completed_at: parse_stamp(tags.get(TAG_CUTOVER_COMPLETED)),
            failback_drained_at: parse_stamp(tags.get(TAG_FAILBACK_DRAINED)),
        }
    }
    /// `cutover_started_at` (RFC 3339 UTC).
    pub fn started_at_rfc3339(&self) -> Option<String> {
        self.started_at.map(stamp)
    }
    /// `cutover_completed_at` (RFC 3339 UTC).
    pub fn completed_at_rfc3339(&self) -> Option<String> {
        self.completed_at.map(stamp)
    }
    /// `cutover_write_pause_seconds`: writes paused -> switch done.
    pub fn write_pause_seconds(&self) -> Option<f64> {
        let (a, b) = (self.writes_paused_at?, self.switched_at?);
        Some(b.duration_since(a).unwrap_or_default().as_secs_f64())
    }
}

// ---------------------------------------------------------------------------------------------
// Plan-time description
// ---------------------------------------------------------------------------------------------

fn addr(i: Option<&DbInstance>) -> String {
    i.and_then(|i| i.endpoint.as_ref())
        .map_or_else(|| "(unknown address)".to_owned(), |e| e.address.clone())
}

fn lag_text(l: &CdcLatency) -> String {
    match l.target_seconds {
        Some(s) => format!("{s:.1}s"),
        None => "unknown (no CDCLatencyTarget datapoint)".into(),
    }
}

pub(crate) fn fence_text(fence: &WriteFence, who: &str) -> String {
    match fence {
        WriteFence::None => format!(
            "Write fence: none; the engine does not stop writes to {who}, so keep the application from writing (maintenance page) until the switch completes."
        ),
        WriteFence::SecurityGroups(sgs) => format!(
            "Write fence: {who} moves to security groups {} (they must admit DMS but not the application); its current groups are recorded in tag {TAG_ORIGINAL_SGS} and restored at failback or finalize.",
            sgs.join(", ")
        ),
    }
}

/// Sentences saying what `cutover = true` will do, for `terraform plan` warnings. Pure.
pub fn describe_cutover(spec: &MigrationSpec, cut: &CutoverSpec, o: &Observed) -> Vec<String> {
    if spec.strategy == super::spec::Strategy::BlueGreen {
        return super::blue_green::describe_blue_green_cutover(spec, cut, o);
    }
    let n = spec.names();
    let src = o.source.as_ref();
    let tgt = o.target.as_ref();
    let mut out = vec![format!(
        "Cutover of {} to the encrypted instance {}: now phase {}, replication lag {} (allowed {:.0}s), validation {}{}.",
        n.migration,
        tgt.map_or(n.target.as_str(), |t| t.identifier.as_str()),
        o.phase,
        lag_text(&o.lag),
        cut.max_lag.as_secs_f64(),
        o.validation,
        if cut.require_validation {
            " (required)"
        } else {
            " (not required)"
        },
    )];
    if let Err(fails) = cutover_checks(o, cut.max_lag, cut.require_validation) {
        let lag_only = fails.iter().all(|f| {
            matches!(
                f,
                CheckFailure::LagTooHigh { .. } | CheckFailure::LagUnknown
            )
        });
        let list: Vec<String> = fails.iter().map(ToString::to_string).collect();
        out.push(if lag_only {
            format!(
                "Not ready yet: {}; apply waits for the lag within the update timeout.",
                list.join("; ")
            )
        } else {
            format!(
                "Apply will refuse and change nothing unless this is fixed: {}.",
                list.join("; ")
            )
        });
    }
    out.push(fence_text(
        &cut.write_fence,
        &format!("the source {}", n.migration),
    ));
    out.push(format!(
        "Writes pause from the fence until the switch completes: DMS drains to lag 0 ({DRAIN_READS} consecutive reads), then the forward task {} is stopped.",
        n.task
    ));
    out.push(match &cut.strategy {
        CutoverStrategy::Route53(r) => format!(
            "Route 53: CNAME {} in zone {} changes from {} to {} (TTL {}s), and apply waits until the change is INSYNC.",
            r.record_name,
            r.zone_id,
            addr(src),
            addr(tgt),
            r.ttl
        ),
        CutoverStrategy::IdentifierSwap => format!(
            "Identifier swap: {} is renamed to {}, then {} to {}, so the application's host name names the encrypted instance (each rename takes minutes; RDS keeps the old name reserved meanwhile).",
            n.migration,
            unencrypted_name(&n),
            n.target,
            n.migration
        ),
        CutoverStrategy::None => format!(
            "No DNS or identifier change: only active_endpoint and active_db_instance_identifier move to {} ({}); repoint the application yourself.",
            n.target,
            addr(tgt)
        ),
    });
    out.push(format!(
        "Failback stays possible: a reverse DMS task {} (CDC only, encrypted -> original, from the drain time) keeps {} up to date until finalize.",
        n.reverse_task, n.migration
    ));
    out
}

// ---------------------------------------------------------------------------------------------
// Waiters
// ---------------------------------------------------------------------------------------------

pub(crate) const INSTANCE_BUSY: &[DbInstanceStatus] = &[
    DbInstanceStatus::Modifying,
    DbInstanceStatus::Renaming,
    DbInstanceStatus::Rebooting,
    DbInstanceStatus::Starting,
    DbInstanceStatus::BackingUp,
    DbInstanceStatus::ConfiguringEnhancedMonitoring,
    DbInstanceStatus::ConfiguringLogExports,
    DbInstanceStatus::Maintenance,
];
pub(crate) const INSTANCE_READY: &[DbInstanceStatus] = &[
    DbInstanceStatus::Available,
    DbInstanceStatus::StorageOptimization,
];

const WAIT_RENAMED: Waiter<DbInstanceStatus> = Waiter {
    step: Step::RenameInstance,
    phase: Phase::CuttingOver,
    pending: INSTANCE_BUSY,
    target: INSTANCE_READY,
    gone_is_target: false,
    timeout: timeouts::RENAME,
    // A modify shows `available` for a moment before `modifying`/`renaming`.
    continuous_target: Some(2),
};

const WAIT_ROUTE53: Waiter<ChangeStatus> = Waiter {
    step: Step::WaitRoute53,
    phase: Phase::CuttingOver,
    pending: &[ChangeStatus::Pending],
    target: &[ChangeStatus::Insync],
    gone_is_target: false,
    timeout: timeouts::ROUTE53_INSYNC,
    continuous_target: None,
};

const WAIT_CDC_RUNNING: Waiter<ReplicationTaskStatus> = Waiter {
    step: Step::StartCdc,
    phase: Phase::CuttingOver,
    pending: &[
        ReplicationTaskStatus::Creating,
        ReplicationTaskStatus::Modifying,
        ReplicationTaskStatus::Starting,
        ReplicationTaskStatus::Ready,
        ReplicationTaskStatus::Stopped,
    ],
    target: &[ReplicationTaskStatus::Running],
    gone_is_target: false,
    timeout: timeouts::REVERSE_TASK,
    continuous_target: None,
};

const WAIT_TASK_IDLE: Waiter<ReplicationTaskStatus> = Waiter {
    step: Step::CreateReverseTask,
    phase: Phase::CuttingOver,
    pending: &[
        ReplicationTaskStatus::Creating,
        ReplicationTaskStatus::Modifying,
    ],
    target: &[
        ReplicationTaskStatus::Ready,
        ReplicationTaskStatus::Stopped,
        ReplicationTaskStatus::Failed,
        ReplicationTaskStatus::Running,
    ],
    gone_is_target: false,
    timeout: timeouts::REVERSE_TASK,
    continuous_target: None,
};

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

// ---------------------------------------------------------------------------------------------
// The operation
// ---------------------------------------------------------------------------------------------

impl Engine {
    /// `cutover = false -> true`. Level-triggered: a re-run after an interruption continues
    /// from what AWS shows (the phase tag, the names, the task states).
    ///
    /// From `replicating`: checks task running, full load complete, validation (when
    /// `require_validation`), and lag <= `max_lag`, polling for the lag within half of
    /// `timeout`; a failed check returns [`EngineError::Refused`] with the measured values
    /// and changes nothing. Then: phase tag `cutting_over` -> write fence -> drain forward
    /// CDC -> stop forward task -> switch per strategy -> reverse endpoints and CDC-only
    /// reverse task from the drain time -> phase tag `cut_over`.
    ///
    /// Already `cut_over`/`finalizing`/`finalized`: returns the observed state (no-op).
    ///
    /// **Errors**: [`EngineFailure`] with what exists; `Refused` when a check fails, the
    /// swap's names collide, or a failback is in progress.
    pub async fn cutover(
        &self,
        spec: &MigrationSpec,
        cut: &CutoverSpec,
        known: &KnownIds,
        timeout: Duration,
        cancel: &CancellationToken,
    ) -> Result<Observed, Box<EngineFailure>> {
        let run = self.run(spec, timeout, cancel);
        let result = Box::pin(run.cutover(cut, known)).await;
        self.finish(spec, known, result).await
    }
}

impl Engine {
    /// One call for an update that touches `cutover` or `finalize`: drives the migration to
    /// the configured switch state. `cutover = true` -> [`Engine::cutover`] (no-op when cut
    /// over), then [`Engine::finalize`] when `finalize = true`; `cutover = false` ->
    /// [`Engine::failback`] (no-op when replicating). `finalize = true` with
    /// `cutover = false` is refused (attribute `finalize`) without touching AWS.
    ///
    /// **Errors**: as the operation it runs.
    #[allow(clippy::too_many_arguments)]
    pub async fn apply_switch(
        &self,
        spec: &MigrationSpec,
        cut: &CutoverSpec,
        cutover: bool,
        finalize: bool,
        known: &KnownIds,
        timeout: Duration,
        cancel: &CancellationToken,
    ) -> Result<Observed, Box<EngineFailure>> {
        if spec.strategy == super::spec::Strategy::BlueGreen {
            return Box::pin(
                self.blue_green_switch(spec, cut, cutover, finalize, known, timeout, cancel),
            )
            .await;
        }
        match (cutover, finalize) {
            (true, false) => Box::pin(self.cutover(spec, cut, known, timeout, cancel)).await,
            (true, true) => {
                let started = self.clock.now();
                let o = Box::pin(self.cutover(spec, cut, known, timeout, cancel)).await?;
                let left =
                    timeout.saturating_sub(self.clock.now().saturating_duration_since(started));
                Box::pin(self.finalize(spec, cut, &o.known_ids(), left, cancel)).await
            }
            (false, false) => Box::pin(self.failback(spec, cut, known, timeout, cancel)).await,
            (false, true) => {
                let err = refused(
                    "finalize",
                    "finalize",
                    vec!["finalize = true needs cutover = true".into()],
                );
                self.finish(spec, known, Err(err)).await
            }
        }
    }
}

impl Run<'_> {
    async fn cutover(&self, cut: &CutoverSpec, known: &KnownIds) -> Result<(), EngineError> {
        if let Err(mut errs) = cut.validate(self.spec) {
            return Err(errs.remove(0));
        }
        let o = Box::pin(self.observe(known)).await?;
        match o.phase {
            Phase::CutOver => return self.keep_reverse_running(&o).await,
            Phase::Finalizing | Phase::Finalized => return Ok(()),
            Phase::FailingBack => {
                return Err(refused(
                    "cutover",
                    "cutover",
                    vec!["a failback is in progress (phase failing_back); set cutover = false and apply to complete it first".into()],
                ));
            }
            Phase::CuttingOver => {}
            Phase::Replicating => {
                let o = Box::pin(self.gate(cut, known)).await?;
                self.check_switch_possible(cut, &o).await?;
                let target = self.require_target(&o)?;
                // A new cutover: forget the previous one's timestamps.
                let now = stamp(self.e.clock.wall_time());
                self.record(
                    &target,
                    &[
                        (TAG_PHASE, Phase::CuttingOver.as_str().to_owned()),
                        (TAG_CUTOVER_STARTED, now),
                        (TAG_WRITES_PAUSED, String::new()),
                        (TAG_DRAINED, String::new()),
                        (TAG_SWITCHED, String::new()),
                        (TAG_CUTOVER_COMPLETED, String::new()),
                    ],
                )
                .await?;
            }
            p => {
                return Err(refused(
                    "cutover",
                    "cutover",
                    vec![format!("the migration is in phase {p}, not replicating")],
                ));
            }
        }
        Box::pin(self.cutover_steps(cut, known)).await
    }

    /// While cut over, a reverse task that failed or was stopped is resumed from its own
    /// checkpoint (no loop: the forward task is stopped), so failback stays lossless.
    async fn keep_reverse_running(&self, o: &Observed) -> Result<(), EngineError> {
        let Some(rt) = &o.reverse_task else {
            return Ok(());
        };
        if !matches!(
            rt.status,
            ReplicationTaskStatus::Failed | ReplicationTaskStatus::Stopped
        ) {
            return Ok(());
        }
        tracing::warn!(
            id = %rt.identifier,
            reason = task_failure(rt).unwrap_or_default(),
            "resuming the reverse replication task"
        );
        let aws = self.aws();
        let input = StartReplicationTaskInput {
            arn: rt.arn.clone(),
            start_type: StartType::ResumeProcessing,
            cdc_start_position: None,
        };
        self.call(Step::StartCdc, &rt.identifier, || {
            aws.start_replication_task(&input)
        })
        .await?;
        let which = DmsRef::Arn(rt.arn.clone());
        let w = Waiter {
            phase: Phase::CutOver,
            ..WAIT_CDC_RUNNING
        };
        self.wait(
            &w,
            &rt.identifier,
            true,
            || async {
                with_status(aws.describe_replication_task(&which).await, |t| {
                    t.status.clone()
                })
            },
            no_percent,
            task_failure,
        )
        .await?;
        Ok(())
    }

    /// Observes until the checks pass or only the lag is wrong and the lag budget is spent.
    async fn gate(&self, cut: &CutoverSpec, known: &KnownIds) -> Result<Observed, EngineError> {
        let start = self.now();
        let budget = self.deadline.saturating_duration_since(start) / 2;
        let mut polls = 0u32;
        loop {
            let o = Box::pin(self.observe(known)).await?;
            let fails = match cutover_checks(&o, cut.max_lag, cut.require_validation) {
                Ok(()) => return Ok(o),
                Err(f) => f,
            };
            let lag_only = fails.iter().all(|f| {
                matches!(
                    f,
                    CheckFailure::LagTooHigh { .. } | CheckFailure::LagUnknown
                )
            });
            let waited = self.now().saturating_duration_since(start);
            if !lag_only || waited >= budget {
                let mut reasons: Vec<String> = fails.iter().map(ToString::to_string).collect();
                if lag_only {
                    reasons.push(format!(
                        "waited {} for the lag to drop",
                        humantime::format_duration(Duration::from_secs(waited.as_secs()))
                    ));
                }
                return Err(refused("cutover", "cutover", reasons));
            }
            self.emit(
                Phase::Replicating,
                Step::CheckCutover,
                &self.names.task,
                None,
                &format!("lag {}", lag_text(&o.lag)),
            );
            let d = self.e.poll.interval(polls).min(budget - waited);
            polls = polls.saturating_add(1);
            self.sleep(Step::CheckCutover, d).await?;
        }
    }

    /// Refuses, before anything changes, a switch that cannot complete or a failback that
    /// could not be lossless.
    async fn check_switch_possible(
        &self,
        cut: &CutoverSpec,
        o: &Observed,
    ) -> Result<(), EngineError> {
        let mut reasons = Vec::new();
        // The reverse task reuses the forward table mappings; renaming rules cannot be
        // inverted, so the original would receive changes under the wrong names.
        if o.task.as_ref().is_some_and(|t| {
            serde_json::from_str::<serde_json::Value>(&t.table_mappings)
                .ok()
                .and_then(|v| v.get("rules").and_then(|r| r.as_array()).cloned())
                .unwrap_or_default()
                .iter()
                .any(|r| r.get("rule-type").and_then(|t| t.as_str()) == Some("transformation"))
        }) {
            reasons.push(
                "dms.table_mappings has transformation rules, which the reverse (failback) task cannot invert".to_owned(),
            );
        }
        // MySQL/MariaDB write the binary log the reverse task reads only with backups on.
        if let Some(t) = &o.target
            && matches!(t.engine, DbEngine::Mysql | DbEngine::Mariadb)
            && t.backup_retention_period == 0
        {
            reasons.push(format!(
                "the encrypted instance {} has backup_retention_period 0, so it writes no binary log for the reverse (failback) task; set target.backup_retention_period to 1 or more",
                t.identifier
            ));
        }
        if !reasons.is_empty() {
            return Err(refused("cutover", "cutover", reasons));
        }
        match &cut.strategy {
            CutoverStrategy::IdentifierSwap => {
                let renamed = unencrypted_name(&self.names);
                let taken = self
                    .find(Step::CheckCutover, &renamed, || {
                        self.aws().describe_db_instance(&renamed)
                    })
                    .await?;
                if taken.is_some() && !o.identifiers_swapped {
                    return Err(refused(
                        "cutover_strategy",
                        "cutover",
                        vec![format!(
                            "identifier_swap needs the name {renamed} for the original instance, but an RDS DB Instance with that name already exists"
                        )],
                    ));
                }
            }
            CutoverStrategy::Route53(r) => {
                let r2 = r.clone();
                match self
                    .call(Step::CheckCutover, &r.zone_id, || {
                        self.aws().describe_cname(&r2.zone_id, &r2.record_name)
                    })
                    .await
                {
                    Ok(_) => {}
                    // The UPSERT creates a missing record; a missing zone is a config error.
                    Err(EngineError::Aws {
                        source:
                            AwsError::NotFound {
                                kind: "Route 53 Record",
                                ..
                            },
                        ..
                    }) => {}
                    Err(EngineError::Aws {
                        source: AwsError::NotFound { .. },
                        ..
                    }) => {
                        return Err(refused(
                            "route53.zone_id",
                            "cutover",
                            vec![format!("Route 53 Hosted Zone {} does not exist", r.zone_id)],
                        ));
                    }
                    Err(e) => return Err(e),
                }
            }
            CutoverStrategy::None => {}
        }
        Ok(())
    }

    pub(crate) fn require_target(&self, o: &Observed) -> Result<DbInstance, EngineError> {
        o.target.clone().ok_or_else(|| EngineError::Failed {
            step: Step::CheckCutover,
            id: self.names.target.clone(),
            status: "deleted".into(),
            reason: Some("the encrypted target instance does not exist".into()),
        })
    }

    pub(crate) fn require_source(&self, o: &Observed) -> Result<DbInstance, EngineError> {
        o.source.clone().ok_or_else(|| EngineError::Missing {
            attribute: "source_db_instance_identifier",
            kind: "RDS DB Instance",
            id: self.names.migration.clone(),
        })
    }

    async fn cutover_steps(&self, cut: &CutoverSpec, known: &KnownIds) -> Result<(), EngineError> {
        let o = Box::pin(self.observe(known)).await?;
        let target = self.require_target(&o)?;
        let source = self.require_source(&o)?;

        // 1. Pause writes to the source.
        if o.cutover.writes_paused_at.is_none() {
            self.record(
                &target,
                &[(TAG_WRITES_PAUSED, stamp(self.e.clock.wall_time()))],
            )
            .await?;
        }
        if let WriteFence::SecurityGroups(sgs) = &cut.write_fence {
            self.fence(&source, sgs, Phase::CuttingOver).await?;
        }

        // 2. Drain forward CDC, record the drain time, stop the forward task.
        let task = o.task.clone().ok_or_else(|| EngineError::Failed {
            step: Step::DrainReplication,
            id: self.names.task.clone(),
            status: "deleted".into(),
            reason: Some("the forward replication task does not exist".into()),
        })?;
        let drained_at = match (o.cutover.drained_at, &task.status) {
            // Recorded by an interrupted run: every change written before it was applied,
            // and writes have stayed paused since (a new cutover clears the tag). Draining
            // again could move the reverse task's start past writes the application made
            // on the target after a switch that already happened.
            (Some(at), _) => at,
            (None, ReplicationTaskStatus::Running) => {
                let at = self.drain(&o, &task, Phase::CuttingOver).await?;
                self.record(&target, &[(TAG_DRAINED, stamp(at))]).await?;
                at
            }
            (None, _) => return Err(EngineError::Failed {
                step: Step::DrainReplication,
                id: task.identifier.clone(),
                status: task.status.to_string(),
                reason: Some(
                    "the forward task is not running and no drain was recorded, so no change can be proven applied; resume the task (apply with cutover = false) and try again"
                        .into(),
                ),
            }),
        };

        // 3. Stop the forward task and switch. Drained with writes paused, the forward task
        // has nothing left to apply, so the switch (the end of the write pause) does not
        // wait for it to stop; the reverse task, which must not run beside it, does. An
        // identifier swap renames the instances under the task's endpoints, so it waits.
        if matches!(cut.strategy, CutoverStrategy::IdentifierSwap) {
            self.stop_task(&task, Phase::CuttingOver).await?;
            self.switch(cut, &source, &target, true).await?;
        } else {
            let (stopped, switched) = tokio::join!(
                self.stop_task(&task, Phase::CuttingOver),
                self.switch(cut, &source, &target, true)
            );
            stopped?;
            switched?;
        }
        if o.cutover.switched_at.is_none() {
            // The target may have been renamed: tag it under its current name.
            let now = Box::pin(self.observe(known)).await?;
            let t = self.require_target(&now)?;
            self.record(&t, &[(TAG_SWITCHED, stamp(self.e.clock.wall_time()))])
                .await?;
        }

        // 4. Reverse replication from the drain point.
        let o = Box::pin(self.observe(known)).await?;
        self.ensure_reverse(&o, drained_at).await?;

        // 5. Done.
        let target = self.require_target(&o)?;
        self.record(
            &target,
            &[
                (TAG_PHASE, Phase::CutOver.as_str().to_owned()),
                (TAG_CUTOVER_COMPLETED, stamp(self.e.clock.wall_time())),
            ],
        )
        .await?;
        self.emit(
            Phase::CutOver,
            Step::RecordPhase,
            &target.identifier,
            None,
            "cut_over",
        );
        Ok(())
    }

    /// Merges tags into an instance (the record of phase and timestamps).
    pub(crate) async fn record(
        &self,
        inst: &DbInstance,
        tags: &[(&str, String)],
    ) -> Result<(), EngineError> {
        let tags: Tags = tags
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect();
        self.call(Step::RecordPhase, &inst.identifier, || {
            self.aws().add_tags(&inst.arn, &tags)
        })
        .await
    }

    async fn wait_ready(
        &self,
        step: Step,
        phase: Phase,
        id: &str,
    ) -> Result<DbInstance, EngineError> {
        let w = Waiter {
            step,
            phase,
            ..WAIT_RENAMED
        };
        self.wait(
            &w,
            id,
            true,
            || async {
                with_status(self.aws().describe_db_instance(id).await, |i| {
                    i.status.clone()
                })
            },
            no_percent,
            |_| None,
        )
        .await?
        .ok_or_else(|| EngineError::Failed {
            step,
            id: id.to_owned(),
            status: "deleted".into(),
            reason: None,
        })
    }

    /// Moves `inst` to the fence groups, remembering its own in a tag first (a crash
    /// between the two then still knows what to restore).
    pub(crate) async fn fence(
        &self,
        inst: &DbInstance,
        sgs: &[String],
        phase: Phase,
    ) -> Result<(), EngineError> {
        if sorted(&inst.vpc_security_group_ids) == sorted(sgs) {
            return Ok(());
        }
        let remembered = inst
            .tags
            .get(TAG_ORIGINAL_SGS)
            .is_some_and(|v| !v.is_empty());
        if !remembered {
            self.record(
                inst,
                &[(TAG_ORIGINAL_SGS, inst.vpc_security_group_ids.join(" "))],
            )
            .await?;
        }
        let input = ModifyDbInstanceInput {
            db_instance_identifier: inst.identifier.clone(),
            vpc_security_group_ids: Some(sgs.to_vec()),
            apply_immediately: true,
            ..Default::default()
        };
        self.call(Step::FenceWrites, &inst.identifier, || {
            self.aws().modify_db_instance(&input)
        })
        .await?;
        self.emit(phase, Step::FenceWrites, &inst.identifier, None, "fenced");
        self.wait_ready(Step::FenceWrites, phase, &inst.identifier)
            .await?;
        Ok(())
    }

    /// Restores the groups recorded by [`Run::fence`]; no-op when none are recorded.
    pub(crate) async fn lift_fence(
        &self,
        inst: &DbInstance,
        phase: Phase,
    ) -> Result<(), EngineError> {
        let Some(original) = inst.tags.get(TAG_ORIGINAL_SGS).filter(|v| !v.is_empty()) else {
            return Ok(());
        };
        let original: Vec<String> = original.split_whitespace().map(str::to_owned).collect();
        if sorted(&inst.vpc_security_group_ids) != sorted(&original) {
            let input = ModifyDbInstanceInput {
                db_instance_identifier: inst.identifier.clone(),
                vpc_security_group_ids: Some(original),
                apply_immediately: true,
                ..Default::default()
            };
            self.call(Step::LiftFence, &inst.identifier, || {
                self.aws().modify_db_instance(&input)
            })
            .await?;
            self.wait_ready(Step::LiftFence, phase, &inst.identifier)
                .await?;
        }
        // Empty = no fence in place; a later fence records the groups afresh.
        let now = self
            .find(Step::LiftFence, &inst.identifier, || {
                self.aws().describe_db_instance(&inst.identifier)
            })
            .await?
            .unwrap_or_else(|| inst.clone());
        self.record(&now, &[(TAG_ORIGINAL_SGS, String::new())])
            .await?;
        self.emit(phase, Step::LiftFence, &inst.identifier, None, "unfenced");
        Ok(())
    }

    /// Waits until `task`'s CDC latency is below [`DRAINED_BELOW_SECONDS`] for
    /// [`DRAIN_READS`] consecutive reads, counting only reads one metric period after the
    /// call; returns the wall time of the first of them.
    pub(crate) async fn drain(
        &self,
        o: &Observed,
        task: &ReplicationTask,
        phase: Phase,
    ) -> Result<SystemTime, EngineError> {
        let start = self.now();
        let limit = (start + timeouts::DRAIN).min(self.deadline);
        let mut seen = 0u32;
        let mut first: Option<SystemTime> = None;
        loop {
            self.check_cancel(Step::DrainReplication)?;
            let l = self.task_lag(o, task).await.unwrap_or_default();
            let drained = |v: Option<f64>| v.is_some_and(|s| s < DRAINED_BELOW_SECONDS);
            // CloudWatch publishes CDC latency once per period: a read within the first
            // period after the pause may still show a datapoint from before it, so only
            // reads a full period (the poll cap, 60 s on AWS) after the pause count.
            let settled = self.now() >= start + self.e.poll.max_interval;
            let ok = settled
                && drained(l.target_seconds)
                && (l.source_seconds.is_none() || drained(l.source_seconds));
            if ok {
                first.get_or_insert_with(|| self.e.clock.wall_time());
                seen += 1;
                if seen >= DRAIN_READS {
                    self.emit(
                        phase,
                        Step::DrainReplication,
                        &task.identifier,
                        None,
                        "drained",
                    );
                    return first.ok_or_else(|| EngineError::Failed {
                        step: Step::DrainReplication,
                        id: task.identifier.clone(),
                        status: "unknown".into(),
                        reason: None,
                    });
                }
            } else {
                seen = 0;
                first = None;
                self.emit(
                    phase,
                    Step::DrainReplication,
                    &task.identifier,
                    None,
                    &format!("lag {}", lag_text(&l)),
                );
            }
            let now = self.now();
            if now >= limit {
                return Err(EngineError::Timeout {
                    step: Step::DrainReplication,
                    id: task.identifier.clone(),
                    waited: now.saturating_duration_since(start),
                    last_status: Some(format!("lag {}", lag_text(&l))),
                });
            }
            let d = self.e.poll.min_interval.min(limit - now);
            self.sleep(Step::DrainReplication, d).await?;
        }
    }

    /// Points the application at the target (`forward`) or back at the source. Idempotent:
    /// each strategy checks where things point first. Identifier swap is a small state
    /// machine over which names exist, so a half-done swap is completed in the direction
    /// asked for.
    pub(crate) async fn switch(
        &self,
        cut: &CutoverSpec,
        source: &DbInstance,
        target: &DbInstance,
        forward: bool,
    ) -> Result<(), EngineError> {
        let phase = if forward {
            Phase::CuttingOver
        } else {
            Phase::FailingBack
        };
        match &cut.strategy {
            CutoverStrategy::None => Ok(()),
            CutoverStrategy::Route53(r) => {
                let to = if forward { target } else { source };
                let value = to
                    .endpoint
                    .as_ref()
                    .map(|e| e.address.clone())
                    .ok_or_else(|| EngineError::Failed {
                        step: Step::SwitchRoute53,
                        id: to.identifier.clone(),
                        status: to.status.to_string(),
                        reason: Some("the instance has no endpoint address".into()),
                    })?;
                self.point_cname(r, &value, phase).await
            }
            CutoverStrategy::IdentifierSwap => self.swap(forward, phase).await,
        }
    }

    async fn point_cname(
        &self,
        r: &Route53Record,
        value: &str,
        phase: Phase,
    ) -> Result<(), EngineError> {
        let aws = self.aws();
        let current = self
            .find(Step::SwitchRoute53, &r.record_name, || {
                aws.describe_cname(&r.zone_id, &r.record_name)
            })
            .await?;
        if current.is_some_and(|c| c.value.trim_end_matches('.').eq_ignore_ascii_case(value)) {
            return Ok(());
        }
        let input = UpsertCnameInput {
            zone_id: r.zone_id.clone(),
            record_name: r.record_name.clone(),
            value: value.to_owned(),
            ttl: r.ttl,
            comment: format!("rdsenc migration {}: {phase}", self.names.migration),
        };
        let change = self
            .call(Step::SwitchRoute53, &r.record_name, || {
                aws.upsert_cname(&input)
            })
            .await?;
        let w = Waiter {
            phase,
            ..WAIT_ROUTE53
        };
        self.wait(
            &w,
            &change,
            true,
            || async { with_status(aws.route53_change_status(&change).await, Clone::clone) },
            no_percent,
            |_| None,
        )
        .await?;
        Ok(())
    }

    async fn rename(&self, from: &str, to: &str, phase: Phase) -> Result<(), EngineError> {
        let input = ModifyDbInstanceInput {
            db_instance_identifier: from.to_owned(),
            new_db_instance_identifier: Some(to.to_owned()),
            apply_immediately: true,
            ..Default::default()
        };
        // RDS keeps a name reserved for a while after the instance holding it was renamed
        // away: retry "already exists" until the deadline when no instance holds it.
        let mut attempt = 1u32;
        loop {
            match self
                .call(Step::RenameInstance, from, || {
                    self.aws().modify_db_instance(&input)
                })
                .await
            {
                Ok(_) => break,
                Err(EngineError::Aws { source, .. })
                    if matches!(source, AwsError::AlreadyExists { .. })
                        && self
                            .find(Step::RenameInstance, to, || {
                                self.aws().describe_db_instance(to)
                            })
                            .await?
                            .is_none() =>
                {
                    let d = self.e.poll.interval(attempt);
                    if self.now() + d >= self.deadline {
                        return Err(EngineError::aws(Step::RenameInstance, from, source));
                    }
                    attempt += 1;
                    self.sleep(Step::RenameInstance, d).await?;
                }
                Err(e) => return Err(e),
            }
        }
        self.emit(
            phase,
            Step::RenameInstance,
            from,
            None,
            &format!("renaming to {to}"),
        );
        let w = Waiter {
            phase,
            ..WAIT_RENAMED
        };
        self.wait(
            &w,
            to,
            true,
            || async {
                with_status(self.aws().describe_db_instance(to).await, |i| {
                    i.status.clone()
                })
            },
            no_percent,
            |_| None,
        )
        .await?;
        Ok(())
    }

    async fn swap(&self, forward: bool, phase: Phase) -> Result<(), EngineError> {
        let n = &self.names;
        let original = n.migration.clone();
        let renamed = unencrypted_name(n);
        let encrypted = n.target.clone();
        // At most two renames either way; the bound guards against a loop on odd states.
        for _ in 0..4 {
            let aws = self.aws();
            let (a, b, t) = tokio::join!(
                self.find(Step::RenameInstance, &original, || aws
                    .describe_db_instance(&original)),
                self.find(Step::RenameInstance, &renamed, || aws
                    .describe_db_instance(&renamed)),
                self.find(Step::RenameInstance, &encrypted, || aws
                    .describe_db_instance(&encrypted)),
            );
            let (a, b, t) = (a?, b?, t?);
            let a_is_target = a.as_ref().is_some_and(|i| is_our_target(n, i));
            let t_is_target = t.as_ref().is_some_and(|i| is_our_target(n, i));
            match (forward, a.is_some(), a_is_target, b.is_some(), t_is_target) {
                // Forward done: <source> names the encrypted instance.
                (true, true, true, _, _) => return Ok(()),
                // Forward step 1: the original moves out of the way.
                (true, true, false, false, _) => self.rename(&original, &renamed, phase).await?,
                // Forward step 2: the encrypted instance takes the name.
                (true, false, _, true, true) => self.rename(&encrypted, &original, phase).await?,
                // Back done: <source> is the original again.
                (false, true, false, false, _) => return Ok(()),
                // Back step 1: the encrypted instance returns to its own name.
                (false, true, true, _, false) => self.rename(&original, &encrypted, phase).await?,
                // Back step 2: the original takes its name back.
                (false, false, _, true, _) => self.rename(&renamed, &original, phase).await?,
                _ => {
                    return Err(EngineError::Failed {
                        step: Step::RenameInstance,
                        id: original.clone(),
                        status: format!(
                            "{original}: {}, {renamed}: {}, {encrypted}: {}",
                            presence(a.as_ref(), a_is_target),
                            presence(b.as_ref(), false),
                            presence(t.as_ref(), t_is_target)
                        ),
                        reason: Some(
                            "the identifier swap found names in a state it cannot continue from; fix the names by hand and apply again".into(),
                        ),
                    });
                }
            }
        }
        Err(EngineError::Failed {
            step: Step::RenameInstance,
            id: original,
            status: "renaming".into(),
            reason: Some("the identifier swap did not settle".into()),
        })
    }

    /// The reverse endpoints (at the instances' current addresses) and the CDC-only reverse
    /// task, running from `from`. A stopped reverse task (an earlier cutover) is restarted
    /// from `from`, never resumed from its checkpoint; a second one is never created.
    async fn ensure_reverse(&self, o: &Observed, from: SystemTime) -> Result<(), EngineError> {
        let source = self.require_source(o)?;
        let target = self.require_target(o)?;
        let ri = o
            .replication_instance
            .clone()
            .ok_or_else(|| EngineError::Failed {
                step: Step::CreateReverseTask,
                id: self.names.replication_instance.clone(),
                status: "deleted".into(),
                reason: Some("the DMS replication instance does not exist".into()),
            })?;
        let n = &self.names;
        let target_creds = self
            .spec
            .dms
            .target_credentials
            .clone()
            .unwrap_or_else(|| self.spec.dms.source_credentials.clone());
        let db_name = match source.engine {
            DbEngine::Postgres => Some(
                self.spec
                    .dms
                    .database_name
                    .clone()
                    .or_else(|| source.db_name.clone())
                    .unwrap_or_else(|| "postgres".into()),
            ),
            _ => self.spec.dms.database_name.clone(),
        };
        let rev_src = self
            .ensure_reverse_endpoint(
                o.reverse_source_endpoint.as_ref(),
                &reverse_source_endpoint_name(n),
                EndpointType::Source,
                &target,
                &source.engine,
                db_name.clone(),
                target_creds,
                None,
            )
            .await?;
        let rev_tgt = self
            .ensure_reverse_endpoint(
                o.reverse_target_endpoint.as_ref(),
                &reverse_target_endpoint_name(n),
                EndpointType::Target,
                &source,
                &source.engine,
                db_name,
                self.spec.dms.source_credentials.clone(),
                target_after_connect_script(&source.engine),
            )
            .await?;
        let position = cdc_start_position(from);
        let aws = self.aws();
        let (task, fresh) = match &o.reverse_task {
            Some(t) => (t.clone(), false),
            None => {
                let mut dms = self.spec.dms.clone();
                dms.migration_type = MigrationType::Cdc;
                let input = CreateReplicationTaskInput {
                    identifier: n.reverse_task.clone(),
                    replication_instance_arn: ri.arn.clone(),
                    source_endpoint_arn: rev_src.arn.clone(),
                    target_endpoint_arn: rev_tgt.arn.clone(),
                    migration_type: MigrationType::Cdc,
                    table_mappings: o
                        .task
                        .as_ref()
                        .map(|t| t.table_mappings.clone())
                        .unwrap_or_else(|| super::spec::default_table_mappings(&source.engine)),
                    task_settings: task_settings_json(&dms),
                    cdc_start_position: Some(position.clone()),
                    tags: n.tags(Role::ReverseTask),
                };
                let t = match self
                    .call(Step::CreateReverseTask, &n.reverse_task, || {
                        aws.create_replication_task(&input)
                    })
                    .await
                {
                    Ok(t) => t,
                    // Created by an interrupted call whose answer was lost.
                    Err(EngineError::Aws {
                        source: AwsError::AlreadyExists { .. },
                        ..
                    }) => self
                        .owned_dms(
                            None,
                            &n.reverse_task,
                            |t: &ReplicationTask| &t.arn,
                            |r| async move { aws.describe_replication_task(&r).await },
                        )
                        .await?
                        .ok_or_else(|| EngineError::ForeignObject {
                            attribute: None,
                            kind: "DMS Replication Task",
                            id: n.reverse_task.clone(),
                            migration: n.migration.clone(),
                        })?,
                    Err(e) => return Err(e),
                };
                self.emit(
                    Phase::CuttingOver,
                    Step::CreateReverseTask,
                    &t.identifier,
                    None,
                    "creating",
                );
                (t, true)
            }
        };
        let which = DmsRef::Arn(task.arn.clone());
        let task = self
            .wait(
                &WAIT_TASK_IDLE,
                &task.identifier,
                fresh,
                || async {
                    with_status(aws.describe_replication_task(&which).await, |t| {
                        t.status.clone()
                    })
                },
                no_percent,
                task_failure,
            )
            .await?
            .unwrap_or(task);
        if task.status == ReplicationTaskStatus::Running {
            return Ok(());
        }
        self.start_cdc(&task, &position, Phase::CuttingOver).await
    }

    /// Starts `task` as CDC from `position`: `start-replication` on a task that never ran,
    /// otherwise `resume-processing` with the position (which replaces the checkpoint).
    pub(crate) async fn start_cdc(
        &self,
        task: &ReplicationTask,
        position: &str,
        phase: Phase,
    ) -> Result<(), EngineError> {
        let aws = self.aws();
        let input = StartReplicationTaskInput {
            arn: task.arn.clone(),
            start_type: if task.status == ReplicationTaskStatus::Ready {
                StartType::StartReplication
            } else {
                StartType::ResumeProcessing
            },
            cdc_start_position: Some(position.to_owned()),
        };
        self.call(Step::StartCdc, &task.identifier, || {
            aws.start_replication_task(&input)
        })
        .await?;
        self.emit(
            phase,
            Step::StartCdc,
            &task.identifier,
            None,
            &format!("starting CDC from {position}"),
        );
        let which = DmsRef::Arn(task.arn.clone());
        let w = Waiter {
            phase,
            ..WAIT_CDC_RUNNING
        };
        let t = self
            .wait(
                &w,
                &task.identifier,
                true,
                || async {
                    with_status(aws.describe_replication_task(&which).await, |t| {
                        t.status.clone()
                    })
                },
                no_percent,
                task_failure,
            )
            .await?;
        if t.as_ref()
            .is_some_and(|t| !is_replicating(t) && t.status != ReplicationTaskStatus::Running)
        {
            return Err(EngineError::Failed {
                step: Step::StartCdc,
                id: task.identifier.clone(),
                status: "not running".into(),
                reason: None,
            });
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    async fn ensure_reverse_endpoint(
        &self,
        existing: Option<&Endpoint>,
        id: &str,
        endpoint_type: EndpointType,
        inst: &DbInstance,
        engine: &DbEngine,
        database_name: Option<String>,
        credentials: EndpointCredentials,
        after_connect_script: Option<String>,
    ) -> Result<Endpoint, EngineError> {
        let aws = self.aws();
        let address = inst.endpoint.clone().ok_or_else(|| EngineError::Failed {
            step: Step::CreateReverseEndpoint,
            id: inst.identifier.clone(),
            status: inst.status.to_string(),
            reason: Some("the instance has no endpoint address".into()),
        })?;
        if let Some(e) = existing {
            // The addresses follow the names: after a swap the instances answer elsewhere.
            if e.server_name.as_deref() != Some(address.address.as_str())
                || e.port != Some(address.port)
            {
                let input = ModifyEndpointInput {
                    arn: e.arn.clone(),
                    server_name: Some(address.address.clone()),
                    port: Some(address.port),
                    ..Default::default()
                };
                return self
                    .call(Step::ModifyEndpoint, id, || aws.modify_endpoint(&input))
                    .await;
            }
            return Ok(e.clone());
        }
        let mut tags = self.names.tags(Role::ReverseTask);
        tags.insert(
            TAG_ROLE.to_owned(),
            match endpoint_type {
                EndpointType::Source => "reverse-source-endpoint".to_owned(),
                _ => "reverse-target-endpoint".to_owned(),
            },
        );
        let input = CreateEndpointInput {
            identifier: id.to_owned(),
            endpoint_type,
            engine: EndpointEngine::for_db_engine(engine),
            server_name: address.address,
            port: address.port,
            database_name,
            credentials,
            ssl_mode: SslMode::Require,
            after_connect_script,
            extra_connection_attributes: None,
            tags,
        };
        match self
            .call(Step::CreateReverseEndpoint, id, || {
                aws.create_endpoint(&input)
            })
            .await
        {
            Ok(e) => Ok(e),
            Err(EngineError::Aws {
                source: AwsError::AlreadyExists { .. },
                ..
            }) => self
                .owned_dms(
                    None,
                    id,
                    |e: &Endpoint| &e.arn,
                    |r| async move { aws.describe_endpoint(&r).await },
                )
                .await?
                .ok_or_else(|| EngineError::ForeignObject {
                    attribute: None,
                    kind: "DMS Endpoint",
                    id: id.to_owned(),
                    migration: self.names.migration.clone(),
                }),
            Err(e) => Err(e),
        }
    }
}

fn presence(i: Option<&DbInstance>, ours: bool) -> &'static str {
    match (i, ours) {
        (None, _) => "absent",
        (Some(_), true) => "the encrypted target",
        (Some(_), false) => "another instance",
    }
}
