//! `strategy = "blue_green"`: an RDS blue/green deployment whose green instances are
//! encrypted (`TargetResourceConfigurations`, one entry per instance: the source and each of
//! its read replicas), switched over by RDS.
//!
//! # How it maps onto the migration
//! - **Create** finds the deployment by its deterministic name ([`Names::blue_green_deployment_name`](super::names::Names::blue_green_deployment_name))
//!   and adopts it only when tagged `rdsenc:migration=<source>`; else it creates it. It waits
//!   until the deployment is `AVAILABLE` and every green instance is available, then checks
//!   each green instance is encrypted with the key asked for (a green instance that is not is
//!   an error, and is never switched over to). The green primary is tagged as the migration's
//!   target, so it is recognised after the switchover gives it the source's name.
//! - **Phase** comes from the deployment's status (AWS tells the switch states apart here);
//!   only `finalizing`/`finalized` come from the `rdsenc:phase` tag. Never `failing_back`.
//! - **Cutover** runs SwitchoverBlueGreenDeployment with `switchover_timeout`. What the DMS
//!   strategy checks does not apply: replication lag is RDS's own switchover guardrail (it
//!   refuses to switch when green lags), RDS blocks writes on both sides during the switch,
//!   and RDS renames the instances itself (`X` -> `X-old1`, green -> `X`), so
//!   `max_cutover_lag_seconds`, `require_validation`, `write_fence`, `route53` and the
//!   identifier swap are ignored, and a `route53` block or `write_fence = "security_groups"`
//!   is refused at plan time ([`CutoverSpec::validate`]).
//! - **Failback** is refused ([`blue_green_failback_refusal`]): RDS has no reverse
//!   switchover, and the old instances keep the pre-switchover data but receive no writes.
//! - **Finalize** deletes the deployment object (`DeleteTarget = false`) and applies
//!   `retire_source` to the `-old1` instances.
//! - **Destroy** before the switchover deletes the deployment, and the green instances only
//!   with `delete_target_on_destroy`; after it, only the deployment object: both the serving
//!   (encrypted) instances and the old ones stay.

use std::collections::BTreeSet;
use std::fmt;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::api::*;
use super::core::{Engine, Run, Waiter};
use super::cutover::{
    CutoverRecord, CutoverSpec, CutoverStrategy, RetireSource, TAG_CUTOVER_COMPLETED,
    TAG_CUTOVER_STARTED, TAG_DRAINED, TAG_PHASE, TAG_SWITCHED, TAG_WRITES_PAUSED, WriteFence,
    is_our_target, refused, stamp,
};
use super::error::{EngineError, Step};
use super::names::{RDS_INSTANCE_ID_MAX, Role, fit};
use super::observe::{KnownIds, Observed, ValidationSummary};
use super::reconcile::EngineFailure;
use super::spec::{MigrationSpec, Phase, Strategy};
use super::teardown::TeardownOutcome;

/// Object kind used in messages for blue/green deployments.
pub const KIND_BLUE_GREEN: &str = "RDS Blue/Green Deployment";
/// RDS's default `SwitchoverTimeout`, in seconds.
pub const DEFAULT_SWITCHOVER_TIMEOUT_SECONDS: i32 = 300;
/// The smallest `SwitchoverTimeout` RDS accepts, in seconds.
pub const MIN_SWITCHOVER_TIMEOUT_SECONDS: i32 = 30;
/// What RDS appends to a blue instance's name at switchover.
pub const OLD_SUFFIX: &str = "-old1";

const REPLICA_KEYS: &str = "blue_green.replica_kms_key_ids";

/// Named timeouts of the blue/green waits (each also capped by the caller's deadline).
pub mod timeouts {
    use std::time::Duration;
    /// Green environment creation: a restore of every instance plus catch-up.
    pub const PROVISION: Duration = Duration::from_secs(12 * 3600);
    /// Added to `switchover_timeout`: RDS reports the outcome a little after it.
    pub const SWITCHOVER_MARGIN: Duration = Duration::from_secs(30 * 60);
    /// Deployment object deletion.
    pub const DELETE: Duration = Duration::from_secs(30 * 60);
}

// ---------------------------------------------------------------------------------------------
// Pure checks
// ---------------------------------------------------------------------------------------------

/// `<id>-old1`: the name RDS gives a blue instance at switchover.
pub fn old_name(id: &str) -> String {
    fit(&format!("{id}{OLD_SUFFIX}"), RDS_INSTANCE_ID_MAX)
}

/// The identifier in an RDS instance ARN (`arn:aws:rds:<region>:<account>:db:<id>`), else
/// `s` itself.
pub fn instance_id_of(s: &str) -> &str {
    if s.starts_with("arn:") {
        s.rsplit(':').next().unwrap_or(s)
    } else {
        s
    }
}

fn arn_region(s: &str) -> Option<&str> {
    if s.starts_with("arn:") {
        s.split(':').nth(3).filter(|r| !r.is_empty())
    } else {
        None
    }
}

/// Whether RDS supports blue/green deployments for `engine` at `version` (RDS User Guide,
/// "Supported Regions and DB engines for Amazon RDS Blue/Green Deployments": MySQL 5.7 and
/// higher, MariaDB 10.2 and higher, PostgreSQL 11.1 and higher). Returns why not, without a
/// remedy: [`blue_green_source_problems`] adds it.
///
/// ```
/// use rdsenc::engine::api::DbEngine;
/// use rdsenc::engine::blue_green::blue_green_engine_support;
/// assert!(blue_green_engine_support(&DbEngine::Mysql, "8.0.36").is_ok());
/// assert!(blue_green_engine_support(&DbEngine::Mysql, "5.6.51").is_err());
/// assert!(blue_green_engine_support(&DbEngine::Postgres, "11.1").is_ok());
/// ```
pub fn blue_green_engine_support(engine: &DbEngine, version: &str) -> Result<(), String> {
    let min = match engine {
        DbEngine::Mysql => (5, 7),
        DbEngine::Mariadb => (10, 2),
        DbEngine::Postgres => (11, 1),
        DbEngine::Other(e) => {
            return Err(format!(
                "engine {e} has no RDS blue/green deployments (mysql, mariadb and postgres have)"
            ));
        }
    };
    let mut parts = version.split('.').map(|p| p.parse::<u32>().ok());
    let major = parts.next().flatten();
    let minor = parts.next().flatten().unwrap_or(0);
    match major {
        Some(m) if (m, minor) >= min => Ok(()),
        _ => Err(format!(
            "{engine} {version} has no RDS blue/green deployments (RDS supports them from {engine} {}.{})",
            min.0, min.1
        )),
    }
}

/// Which property of the source rules out an RDS blue/green deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlueGreenSourceIssue {
    /// RDS has no blue/green deployments for the source's engine or version.
    EngineVersion,
    /// The source's master password is managed in Secrets Manager.
    ManagedMasterPassword,
}

/// Something about the source that rules out `strategy = "blue_green"`, with the one text
/// both the plan-time check (`preflight::run`) and the create-path guard show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlueGreenSourceProblem {
    /// What is wrong.
    pub issue: BlueGreenSourceIssue,
    /// What is wrong, in full sentences.
    pub message: String,
    /// What to do about it.
    pub remedy: String,
}

/// What rules the source out for blue/green, from its description alone: engine version and
/// a Secrets-Manager-managed master password. The one producer of these texts:
/// [`crate::preflight::run`] reports them at plan time (on `strategy`), and the create path
/// refuses the source with them ([`blue_green_source_findings`]). Storage already encrypted
/// is preflight's own finding; the create path guards it with [`already_encrypted`].
pub fn blue_green_source_problems(source: &DbInstance) -> Vec<BlueGreenSourceProblem> {
    let id = &source.identifier;
    let mut out = Vec::new();
    if let Err(why) = blue_green_engine_support(&source.engine, &source.engine_version) {
        out.push(BlueGreenSourceProblem {
            issue: BlueGreenSourceIssue::EngineVersion,
            message: format!("The source DB instance {id:?}: {why}."),
            remedy: "Upgrade the source to a version RDS blue/green deployments support first, \
                     or use strategy = \"dms\" (see the `rdsenc_preflight` documentation for \
                     the versions AWS DMS supports)."
                .to_owned(),
        });
    }
    if let Some(secret) = &source.master_user_secret_arn {
        out.push(BlueGreenSourceProblem {
            issue: BlueGreenSourceIssue::ManagedMasterPassword,
            message: format!(
                "The source DB instance {id:?} has its master password managed in Secrets \
                 Manager ({secret}), which RDS blue/green deployments do not support."
            ),
            remedy: format!(
                "Turn that off on the source (`aws rds modify-db-instance \
                 --db-instance-identifier {id} --no-manage-master-user-password \
                 --master-user-password <new password> --apply-immediately`), or use \
                 strategy = \"dms\"."
            ),
        });
    }
    out
}

/// [`blue_green_source_problems`] as errors on `strategy`: the create path's guard (a plan
/// that passed preflight may be applied after the source changed).
pub fn blue_green_source_findings(source: &DbInstance) -> Vec<EngineError> {
    blue_green_source_problems(source)
        .into_iter()
        .map(|p| EngineError::InvalidSpec {
            attribute: "strategy",
            // The diagnostic adds the final full stop.
            message: format!("{} {}", p.message, p.remedy.trim_end_matches('.')),
        })
        .collect()
}

/// The create path's guard against a source that is already encrypted (a plan that passed
/// preflight may be applied after someone encrypted the source by other means).
pub(crate) fn already_encrypted(source: &DbInstance) -> Option<EngineError> {
    source.storage_encrypted.then(|| EngineError::InvalidSpec {
        attribute: "source_db_instance_identifier",
        message: format!(
            "the source {} is already encrypted; there is nothing to migrate",
            source.identifier
        ),
    })
}

/// Plan-time check of the cutover settings for blue/green (called by
/// [`CutoverSpec::validate`]).
pub(crate) fn validate_cutover(cut: &CutoverSpec, bad: &mut impl FnMut(&'static str, String)) {
    if let CutoverStrategy::Route53(_) = cut.strategy {
        bad(
            "route53",
            "does not apply with strategy = \"blue_green\": RDS gives the encrypted instance the source's name, so the application's host name follows without a DNS change; remove the block".into(),
        );
    }
    if let WriteFence::SecurityGroups(_) = cut.write_fence {
        bad(
            "write_fence",
            "\"security_groups\" does not apply with strategy = \"blue_green\": RDS blocks writes on both environments during the switchover; use \"none\"".into(),
        );
    }
    if let Some(t) = cut.switchover_timeout_seconds
        && t < MIN_SWITCHOVER_TIMEOUT_SECONDS
    {
        bad(
            "switchover_timeout",
            format!("must be at least {MIN_SWITCHOVER_TIMEOUT_SECONDS} seconds, got {t}"),
        );
    }
}

/// The plan-time refusal of `cutover = true -> false` once a blue/green switchover has
/// happened (or is under way); `None` when a failback is not refused. Pure: call it with
/// the last observed state.
pub fn blue_green_failback_refusal(spec: &MigrationSpec, o: &Observed) -> Option<EngineError> {
    if spec.strategy != Strategy::BlueGreen || !o.phase.target_may_serve() {
        return None;
    }
    let n = spec.names();
    let old = o
        .source
        .as_ref()
        .map_or_else(|| old_name(&n.migration), |s| s.identifier.clone());
    Some(EngineError::Refused {
        attribute: "cutover",
        action: "failback",
        reasons: blue_green_failback_reasons(&old),
    })
}

/// Why a blue/green migration has no failback, and what to do instead: the one text shared
/// by the plan-time refusal (the resource, from state) and [`blue_green_failback_refusal`]
/// (the apply-time guard, from AWS). `old` names the instance the switchover retired.
pub fn blue_green_failback_reasons(old: &str) -> Vec<String> {
    vec![
        format!(
            "strategy = \"blue_green\" has no failback: RDS has no reverse switchover, and the old instance {old} keeps the data from before the switchover but receives no writes"
        ),
        "keep cutover = true; to go back, copy what you need from the old instances, or migrate back with a new rdsenc_migration from the encrypted instance (strategy = \"dms\" keeps a reverse task for a lossless failback: see the strategies guide)".into(),
    ]
}

fn names_of(list: &[&DbInstance]) -> String {
    if list.is_empty() {
        "none".into()
    } else {
        list.iter()
            .map(|i| i.identifier.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Sentences saying what `cutover = true` will do with blue/green, for `terraform plan`
/// warnings (what [`describe_cutover`](super::cutover::describe_cutover) returns then). Pure.
pub fn describe_blue_green_cutover(
    spec: &MigrationSpec,
    cut: &CutoverSpec,
    o: &Observed,
) -> Vec<String> {
    let n = spec.names();
    let d = o.blue_green.as_ref();
    let green = o
        .target
        .as_ref()
        .map_or("(not created yet)", |t| t.identifier.as_str());
    let replicas: Vec<&DbInstance> = o.green_replicas.iter().collect();
    let mut out = vec![format!(
        "Switchover of {} to its encrypted green twin {green} (blue/green deployment {}, status {}, phase {}): RDS renames {} to {} and {green} to {}, and likewise each read replica's green twin ({}), so the application's host names reach the encrypted instances.",
        n.migration,
        d.map_or(n.blue_green_deployment_name(), |d| d.name.clone()),
        d.map_or("absent", |d| d.status.as_str()),
        o.phase,
        n.migration,
        old_name(&n.migration),
        n.migration,
        names_of(&replicas),
    )];
    let mut green_all: Vec<&DbInstance> = o.target.iter().collect();
    green_all.extend(replicas.iter().copied());
    let unencrypted: Vec<&DbInstance> = green_all
        .iter()
        .copied()
        .filter(|g| !g.storage_encrypted)
        .collect();
    if matches!(
        o.phase,
        Phase::CuttingOver | Phase::CutOver | Phase::Finalizing | Phase::Finalized
    ) {
        out.push(format!("Already {}: apply changes nothing.", o.phase));
    } else if o.phase != Phase::Replicating {
        out.push(format!(
            "Apply will refuse and change nothing: the migration is {}, not replicating (green not available yet).",
            o.phase
        ));
    } else if !unencrypted.is_empty() {
        out.push(format!(
            "Apply will refuse and change nothing: green instances {} are not encrypted.",
            names_of(&unencrypted)
        ));
    }
    out.push(format!(
        "RDS blocks writes on both environments while it switches and rolls back if the switchover does not finish within switchover_timeout = {}s; it refuses to start while green lags. max_cutover_lag_seconds, require_validation, write_fence and cutover_strategy do not apply to blue_green.",
        cut.switchover_timeout_seconds
            .unwrap_or(DEFAULT_SWITCHOVER_TIMEOUT_SECONDS)
    ));
    out.push(format!(
        "No failback afterwards: RDS cannot switch back; the old instances ({}, ...) keep the pre-switchover data but receive no writes.",
        old_name(&n.migration)
    ));
    out
}

/// What `cutover = true -> false` would do with blue/green, for plan warnings (what
/// [`describe_failback`](super::failback::describe_failback) returns then). Pure.
pub fn describe_blue_green_failback(spec: &MigrationSpec, o: &Observed) -> Vec<String> {
    match blue_green_failback_refusal(spec, o) {
        Some(e) => vec![format!("{e}.")],
        None => vec![format!(
            "No switchover has happened (phase {}): cutover = false changes nothing.",
            o.phase
        )],
    }
}

/// Sentences saying what `finalize = true` will do with blue/green, for plan warnings (what
/// [`describe_finalize`](super::finalize::describe_finalize) returns then). Pure.
pub fn describe_blue_green_finalize(
    spec: &MigrationSpec,
    cut: &CutoverSpec,
    o: &Observed,
) -> Vec<String> {
    let n = spec.names();
    if o.phase != Phase::CutOver && o.phase != Phase::Finalizing {
        return vec![format!(
            "Finalize will be refused: the migration is {}, and finalize needs cut_over.",
            o.phase
        )];
    }
    let old = o
        .source
        .as_ref()
        .map_or_else(|| old_name(&n.migration), |s| s.identifier.clone());
    let old_replicas = o
        .source
        .as_ref()
        .map(|s| s.read_replica_identifiers.join(", "))
        .filter(|s| !s.is_empty());
    let mut out = vec![format!(
        "Finalize deletes the blue/green deployment {} (the deployment object only; no instance).",
        o.blue_green
            .as_ref()
            .map_or(n.blue_green_deployment_name(), |d| d.name.clone())
    )];
    out.push(match (cut.retire_source, &old_replicas) {
        (RetireSource::Keep, _) => format!(
            "The old instance {old} and its replicas are kept running (retire_source = \"keep\")."
        ),
        (RetireSource::Stop, Some(r)) => format!(
            "Finalize will be refused: RDS cannot stop {old} while it has read replicas ({r}); use retire_source = \"keep\" or \"snapshot_and_delete\"."
        ),
        (RetireSource::Stop, None) => format!(
            "The old instance {old} is stopped (retire_source = \"stop\"); AWS starts stopped instances again after 7 days."
        ),
        (RetireSource::SnapshotAndDelete, r) => format!(
            "The old instance {old} is DELETED after a final snapshot {}{} (retire_source = \"snapshot_and_delete\"); deletion protection is respected, never turned off.",
            super::cutover::source_final_snapshot_name(&n),
            r.as_ref()
                .map(|r| format!(", and its read replicas {r} without one (they are copies of it)"))
                .unwrap_or_default()
        ),
    });
    out.push(format!(
        "Kept: the encrypted instances serving under the original names ({}).",
        n.migration
    ));
    out
}

/// The phase of a blue/green migration from what exists. The deployment's status decides;
/// the `rdsenc:phase` tag on the encrypted instance only adds `finalizing`/`finalized`
/// (and, once the deployment is gone after finalize, what was recorded).
pub fn derive_blue_green_phase(o: &Observed, recorded: Option<Phase>) -> Phase {
    let tag = o.cutover.phase;
    let finalizing = tag.filter(|p| matches!(p, Phase::Finalizing | Phase::Finalized));
    let past = |p: &Phase| !p.is_create_path() && *p != Phase::FailingBack;
    let usable = |i: &DbInstance| i.status.is_ready() && i.storage_encrypted;
    let green_ready = || {
        let expected = o
            .blue_green
            .as_ref()
            .map_or(0, |d| d.switchover_details.len().saturating_sub(1));
        o.target.as_ref().is_some_and(usable)
            && o.green_replicas.len() >= expected
            && o.green_replicas.iter().all(usable)
    };
    match o.blue_green.as_ref().map(|d| &d.status) {
        None => match &o.target {
            Some(_) => finalizing
                .or(tag.filter(past))
                .or(recorded.filter(past))
                .unwrap_or(Phase::CutOver),
            None => Phase::ProvisioningGreen,
        },
        Some(BlueGreenStatus::SwitchoverCompleted) => finalizing.unwrap_or(Phase::CutOver),
        Some(BlueGreenStatus::SwitchoverInProgress) => Phase::CuttingOver,
        Some(BlueGreenStatus::Available | BlueGreenStatus::SwitchoverFailed) => {
            if green_ready() {
                Phase::Replicating
            } else {
                Phase::ProvisioningGreen
            }
        }
        Some(BlueGreenStatus::Deleting) => finalizing
            .or(recorded.filter(past))
            .unwrap_or(Phase::ProvisioningGreen),
        Some(
            BlueGreenStatus::Provisioning
            | BlueGreenStatus::InvalidConfiguration
            | BlueGreenStatus::ProvisioningFailed
            | BlueGreenStatus::Other(_),
        ) => Phase::ProvisioningGreen,
    }
}

/// One blue instance and the key its green twin must be encrypted with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Member {
    pub(crate) blue_id: String,
    pub(crate) blue_arn: String,
    pub(crate) key_arn: String,
}

/// Why green must not be switched over to: unencrypted members, or members under another
/// key than planned. Empty when every green member is fine.
fn green_problems(d: &BlueGreenDeployment, green: &[&DbInstance], plan: &[Member]) -> Vec<String> {
    let mut out = Vec::new();
    for detail in &d.switchover_details {
        let blue = instance_id_of(&detail.source_member);
        let Some(g) = green.iter().find(|g| {
            !detail.target_member.is_empty()
                && (g.arn == detail.target_member
                    || g.identifier == instance_id_of(&detail.target_member))
        }) else {
            out.push(format!("the green twin of {blue} does not exist"));
            continue;
        };
        if !g.storage_encrypted {
            out.push(format!(
                "the green instance {} (twin of {blue}) is not encrypted",
                g.identifier
            ));
            continue;
        }
        let want = plan
            .iter()
            .find(|m| m.blue_arn == detail.source_member || m.blue_id == blue)
            .map(|m| m.key_arn.as_str());
        if let Some(want) = want
            && g.kms_key_id.as_deref() != Some(want)
        {
            out.push(format!(
                "the green instance {} (twin of {blue}) is encrypted with {} instead of {want}",
                g.identifier,
                g.kms_key_id.as_deref().unwrap_or("(no key)")
            ));
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Waiters
// ---------------------------------------------------------------------------------------------

/// The create wait's view of the deployment and its green instances.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum GreenWait {
    Provisioning,
    GreenBusy,
    Ready,
    Broken,
}

impl fmt::Display for GreenWait {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            GreenWait::Provisioning => "PROVISIONING",
            GreenWait::GreenBusy => "AVAILABLE (green instances starting)",
            GreenWait::Ready => "AVAILABLE",
            GreenWait::Broken => "failed",
        })
    }
}

const WAIT_GREEN: Waiter<GreenWait> = Waiter {
    step: Step::WaitBlueGreen,
    phase: Phase::ProvisioningGreen,
    pending: &[GreenWait::Provisioning, GreenWait::GreenBusy],
    target: &[GreenWait::Ready],
    gone_is_target: false,
    timeout: timeouts::PROVISION,
    continuous_target: None,
};

const WAIT_SWITCHOVER: Waiter<BlueGreenStatus> = Waiter {
    step: Step::SwitchoverBlueGreen,
    phase: Phase::CuttingOver,
    // Right after the call, describe may still show AVAILABLE.
    pending: &[
        BlueGreenStatus::Available,
        BlueGreenStatus::SwitchoverInProgress,
    ],
    target: &[BlueGreenStatus::SwitchoverCompleted],
    gone_is_target: false,
    timeout: timeouts::SWITCHOVER_MARGIN,
    continuous_target: None,
};

const WAIT_DELETED: Waiter<BlueGreenStatus> = Waiter {
    step: Step::DeleteBlueGreen,
    phase: Phase::Finalizing,
    pending: &[
        BlueGreenStatus::Deleting,
        BlueGreenStatus::Provisioning,
        BlueGreenStatus::Available,
        BlueGreenStatus::SwitchoverCompleted,
        BlueGreenStatus::SwitchoverFailed,
        BlueGreenStatus::InvalidConfiguration,
        BlueGreenStatus::ProvisioningFailed,
    ],
    target: &[],
    gone_is_target: true,
    timeout: timeouts::DELETE,
    continuous_target: Some(2),
};

fn explain(d: &BlueGreenDeployment) -> Option<String> {
    let what = match &d.status_details {
        Some(s) if !s.is_empty() => format!("deployment {}: {s}", d.status),
        _ => format!("deployment {}", d.status),
    };
    Some(match d.status {
        BlueGreenStatus::InvalidConfiguration | BlueGreenStatus::ProvisioningFailed => format!(
            "{what}; RDS cannot recover this deployment: destroy the migration (it deletes the deployment, and the green instances with delete_target_on_destroy) and apply again"
        ),
        BlueGreenStatus::SwitchoverFailed => {
            format!("{what}; RDS rolled the switchover back and the original instances still serve")
        }
        _ => what,
    })
}

fn first(mut errs: Vec<EngineError>) -> EngineError {
    // `green_plan` returns at least one error when it fails.
    if errs.is_empty() {
        EngineError::InvalidSpec {
            attribute: REPLICA_KEYS,
            message: "could not be checked".into(),
        }
    } else {
        errs.remove(0)
    }
}

fn gone_ok(r: Result<(), EngineError>) -> Result<(), EngineError> {
    match r {
        Err(EngineError::Aws { source, .. }) if source.is_not_found() => Ok(()),
        other => other,
    }
}

// ---------------------------------------------------------------------------------------------
// Engine entry points
// ---------------------------------------------------------------------------------------------

impl Engine {
    /// Plan-time checks for blue/green that need the spec: the read replicas' keys
    /// (`blue_green.replica_kms_key_ids`: a replica in another region or not found without
    /// an entry, an entry naming an instance that is not a replica of the source, an
    /// unusable key). Everything about the source alone (engine version support and a
    /// Secrets-Manager-managed master password on `strategy`, already encrypted) and
    /// `kms_key_id` itself and a missing source are [`crate::preflight::run`]'s, which the
    /// resource runs beside this: each problem is reported once. Every error's `attribute()`
    /// names the attribute; empty when all is well.
    pub async fn blue_green_preflight(
        &self,
        spec: &MigrationSpec,
        cancel: &CancellationToken,
    ) -> Vec<EngineError> {
        let run = self.run(spec, Duration::from_secs(5 * 60), cancel);
        Box::pin(run.blue_green_preflight()).await
    }

    /// `apply_switch` for blue/green: `cutover = true` switches over (then finalizes when
    /// `finalize = true`); `cutover = false` is a no-op before the switchover and refused
    /// after it; `finalize` without `cutover` is refused. Nothing changes in AWS when
    /// refused.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn blue_green_switch(
        &self,
        spec: &MigrationSpec,
        cut: &CutoverSpec,
        cutover: bool,
        finalize: bool,
        known: &KnownIds,
        timeout: Duration,
        cancel: &CancellationToken,
    ) -> Result<Observed, Box<EngineFailure>> {
        let run = self.run(spec, timeout, cancel);
        let result = match (cutover, finalize) {
            (true, f) => {
                let r = Box::pin(run.blue_green_cutover(cut, known)).await;
                if r.is_ok() && f {
                    Box::pin(run.blue_green_finalize(cut, known)).await
                } else {
                    r
                }
            }
            (false, false) => {
                let o = Box::pin(run.observe(known)).await;
                match o {
                    Ok(o) => blue_green_failback_refusal(spec, &o).map_or(Ok(()), Err),
                    Err(e) => Err(e),
                }
            }
            (false, true) => Err(refused(
                "finalize",
                "finalize",
                vec!["finalize = true needs cutover = true".into()],
            )),
        };
        self.finish(spec, known, result).await
    }
}

impl Run<'_> {
    async fn instance(&self, id: &str) -> Result<Option<DbInstance>, EngineError> {
        self.find(Step::Observe, id, || self.aws().describe_db_instance(id))
            .await
    }

    /// The migration's deployment: by the id recorded in state, else by name. A same-named
    /// deployment without the migration's tag is refused when `strict`, else ignored.
    async fn find_deployment(
        &self,
        known: &KnownIds,
        strict: bool,
    ) -> Result<Option<BlueGreenDeployment>, EngineError> {
        let aws = self.aws();
        if let Some(id) = &known.blue_green_deployment_id {
            let r = BlueGreenRef::Id(id.clone());
            if let Some(d) = self
                .find(Step::Observe, id, || aws.describe_blue_green_deployment(&r))
                .await?
                && self.names.owns(&d.tags)
            {
                return Ok(Some(d));
            }
        }
        let name = self.names.blue_green_deployment_name();
        let r = BlueGreenRef::Name(name.clone());
        let Some(d) = self
            .find(Step::Observe, &name, || {
                aws.describe_blue_green_deployment(&r)
            })
            .await?
        else {
            return Ok(None);
        };
        if self.names.owns(&d.tags) {
            Ok(Some(d))
        } else if strict {
            Err(EngineError::ForeignObject {
                attribute: None,
                kind: KIND_BLUE_GREEN,
                id: name,
                migration: self.names.migration.clone(),
            })
        } else {
            tracing::warn!(
                id = name,
                "ignoring a blue/green deployment with the migration's name but without its tags"
            );
            Ok(None)
        }
    }

    /// Every blue instance with the key for its green twin. Collects every problem (for
    /// preflight); `key` is the resolved `kms_key_id` (`None` when it did not resolve).
    pub(crate) async fn green_plan(
        &self,
        source: &DbInstance,
        key: Option<&KmsKey>,
    ) -> Result<Vec<Member>, Vec<EngineError>> {
        let map = &self.spec.blue_green.replica_kms_key_ids;
        let region = arn_region(&source.arn);
        let mut errs = Vec::new();
        let mut members = Vec::new();
        if let Some(k) = key {
            members.push(Member {
                blue_id: source.identifier.clone(),
                blue_arn: source.arn.clone(),
                key_arn: k.arn.clone(),
            });
        }
        let mut matched = BTreeSet::new();
        for r in &source.read_replica_identifiers {
            let id = instance_id_of(r);
            let entry = map
                .iter()
                .find(|(k, _)| *k == r || instance_id_of(k).eq_ignore_ascii_case(id));
            if let Some((k, _)) = entry {
                matched.insert(k.clone());
            }
            let elsewhere = arn_region(r).filter(|rr| Some(*rr) != region);
            let described = if elsewhere.is_some() {
                None
            } else {
                match self.instance(id).await {
                    Ok(d) => d,
                    Err(e) => {
                        errs.push(e);
                        continue;
                    }
                }
            };
            let blue_arn = match &described {
                Some(d) => d.arn.clone(),
                None if r.starts_with("arn:") => r.clone(),
                // Not found in this region: its ARN is the source's with its name.
                None => format!(
                    "{}:{id}",
                    source.arn.rsplit_once(':').map_or("", |(p, _)| p)
                ),
            };
            let key_arn = match entry {
                Some((_, v)) => {
                    let key_region = arn_region(v);
                    if key_region.is_some() && key_region != region {
                        // Another region's key cannot be described here; RDS checks it.
                        v.clone()
                    } else {
                        match self.resolve_key_at(v, REPLICA_KEYS).await {
                            Ok(k) => k.arn,
                            Err(e) => {
                                errs.push(e);
                                continue;
                            }
                        }
                    }
                }
                None if elsewhere.is_some() || described.is_none() => {
                    let where_ = elsewhere.map_or_else(
                        || "could not be found in this region".to_owned(),
                        |rr| format!("is in region {rr}"),
                    );
                    errs.push(EngineError::InvalidSpec {
                        attribute: REPLICA_KEYS,
                        message: format!(
                            "read replica {r} of {} {where_}; give the key for its green twin (a KMS key in the replica's region) in blue_green.replica_kms_key_ids",
                            source.identifier
                        ),
                    });
                    continue;
                }
                None => match key {
                    Some(k) => k.arn.clone(),
                    None => continue,
                },
            };
            members.push(Member {
                blue_id: id.to_owned(),
                blue_arn,
                key_arn,
            });
        }
        for k in map.keys().filter(|k| !matched.contains(*k)) {
            let replicas = if source.read_replica_identifiers.is_empty() {
                "it has none".to_owned()
            } else {
                format!(
                    "its replicas are {}",
                    source.read_replica_identifiers.join(", ")
                )
            };
            errs.push(EngineError::InvalidSpec {
                attribute: REPLICA_KEYS,
                message: format!(
                    "{k} is not a read replica of {} ({replicas})",
                    source.identifier
                ),
            });
        }
        if errs.is_empty() {
            Ok(members)
        } else {
            Err(errs)
        }
    }

    async fn blue_green_preflight(&self) -> Vec<EngineError> {
        let id = &self.names.migration;
        let source = match self
            .find(Step::DescribeSource, id, || {
                self.aws().describe_db_instance(id)
            })
            .await
        {
            Ok(Some(s)) => s,
            // preflight::run reports a missing source (`source_exists`); without it there
            // are no replicas to check.
            Ok(None) => return Vec::new(),
            Err(e) => return vec![e],
        };
        // An unusable `kms_key_id` is preflight's finding; here it only stops the replicas
        // without an entry from being checked against it.
        let key = self.resolve_key().await.ok();
        self.green_plan(&source, key.as_ref())
            .await
            .err()
            .unwrap_or_default()
    }

    // -----------------------------------------------------------------------------------------
    // Observe
    // -----------------------------------------------------------------------------------------

    /// One DescribeBlueGreenDeployments, then one DescribeDBInstances per member needed.
    pub(crate) async fn observe_blue_green(
        &self,
        known: &KnownIds,
    ) -> Result<Observed, EngineError> {
        let n = &self.names;
        let dep = self.find_deployment(known, false).await?;
        let mut green_replicas = Vec::new();
        let switched = dep.as_ref().is_some_and(|d| {
            matches!(
                d.status,
                BlueGreenStatus::SwitchoverCompleted | BlueGreenStatus::Deleting
            )
        });
        let (source, target) = match dep.as_ref() {
            Some(d) if !switched => {
                let blue = if d.source_arn.is_empty() {
                    n.migration.as_str()
                } else {
                    instance_id_of(&d.source_arn)
                };
                let source = self.instance(blue).await?;
                let target = if d.target_arn.is_empty() {
                    None
                } else {
                    self.instance(instance_id_of(&d.target_arn)).await?
                };
                for detail in &d.switchover_details {
                    if detail.target_member.is_empty() || detail.target_member == d.target_arn {
                        continue;
                    }
                    if let Some(g) = self.instance(instance_id_of(&detail.target_member)).await? {
                        green_replicas.push(g);
                    }
                }
                (source, target)
            }
            // Switched over (or finalized, deployment deleted or being deleted): `<source>`
            // names the encrypted instance when it carries the migration's target tags, and
            // the old primary is `<source>-old1`. Names decide, not the deployment's ARNs,
            // whose form after a switchover this code does not rely on.
            _ => {
                let completed = dep
                    .as_ref()
                    .is_some_and(|d| d.status == BlueGreenStatus::SwitchoverCompleted);
                let current = self.instance(&n.migration).await?;
                match current {
                    Some(c) if completed || is_our_target(n, &c) => {
                        let old = self.instance(&old_name(&n.migration)).await?;
                        for r in old.iter().flat_map(|o| o.read_replica_identifiers.iter()) {
                            let new = instance_id_of(r).trim_end_matches(OLD_SUFFIX);
                            if let Some(g) = self.instance(new).await? {
                                green_replicas.push(g);
                            }
                        }
                        (old, Some(c))
                    }
                    other => (other, None),
                }
            }
        };
        let cutover = target
            .as_ref()
            .map(|t| CutoverRecord::from_tags(&t.tags))
            .unwrap_or_default();
        let mut o = Observed {
            source,
            target,
            validation: ValidationSummary::NotEnabled,
            cutover,
            blue_green: dep,
            green_replicas,
            ..Observed::default()
        };
        o.phase = derive_blue_green_phase(&o, known.recorded_phase);
        Ok(o)
    }

    // -----------------------------------------------------------------------------------------
    // Create
    // -----------------------------------------------------------------------------------------

    pub(crate) async fn reconcile_blue_green(&self, known: &KnownIds) -> Result<(), EngineError> {
        if let Err(mut errs) = self.spec.validate() {
            return Err(errs.remove(0));
        }
        let existing = self.find_deployment(known, true).await?;
        if existing.as_ref().is_some_and(|d| {
            matches!(
                d.status,
                BlueGreenStatus::SwitchoverInProgress | BlueGreenStatus::SwitchoverCompleted
            )
        }) {
            // Past the create path: apply_switch owns it from here.
            return Ok(());
        }
        let key = self.resolve_key().await?;
        let source = self.source().await?;
        if let Some(e) = blue_green_source_findings(&source)
            .into_iter()
            .next()
            .or_else(|| already_encrypted(&source))
        {
            return Err(e);
        }
        let plan = self.green_plan(&source, Some(&key)).await.map_err(first)?;
        let (dep, fresh) = match existing {
            Some(d) => (d, false),
            None => (self.create_deployment(&source, &plan).await?, true),
        };
        let (dep, green) = self.wait_green(&dep.identifier, fresh).await?;
        let refs: Vec<&DbInstance> = green.iter().collect();
        let problems = green_problems(&dep, &refs, &plan);
        if !problems.is_empty() {
            return Err(EngineError::Failed {
                step: Step::WaitBlueGreen,
                id: dep.name.clone(),
                status: "green not encrypted as asked".into(),
                reason: Some(format!(
                    "{}; the provider never switches over to it. Destroy the migration to delete the deployment (set delete_target_on_destroy to delete the green instances too) and check the keys",
                    problems.join("; ")
                )),
            });
        }
        // The green primary carries the source's name after the switchover; these tags
        // are how observe, teardown and list_migrations recognise it then.
        if let Some(g) = green
            .iter()
            .find(|g| g.arn == dep.target_arn || g.identifier == instance_id_of(&dep.target_arn))
            && !is_our_target(&self.names, g)
        {
            let tags = self.names.tags(Role::Target);
            self.call(Step::RecordPhase, &g.identifier, || {
                self.aws().add_tags(&g.arn, &tags)
            })
            .await?;
        }
        self.emit(
            Phase::Replicating,
            Step::WaitBlueGreen,
            &dep.identifier,
            None,
            dep.status.as_str(),
        );
        Ok(())
    }

    async fn create_deployment(
        &self,
        source: &DbInstance,
        plan: &[Member],
    ) -> Result<BlueGreenDeployment, EngineError> {
        let name = self.names.blue_green_deployment_name();
        let mut tags = self.spec.target.tags.clone();
        tags.extend(self.names.tags(Role::BlueGreenDeployment));
        let bg = &self.spec.blue_green;
        let input = CreateBlueGreenDeploymentInput {
            name: name.clone(),
            source_arn: source.arn.clone(),
            target_resource_configurations: plan
                .iter()
                .map(|m| TargetResourceConfig {
                    source_arn: m.blue_arn.clone(),
                    kms_key_id: m.key_arn.clone(),
                })
                .collect(),
            target_engine_version: bg.target_engine_version.clone(),
            target_db_parameter_group_name: bg.target_db_parameter_group_name.clone(),
            tags,
        };
        match self
            .call(Step::CreateBlueGreen, &name, || {
                self.aws().create_blue_green_deployment(&input)
            })
            .await
        {
            Ok(d) => {
                self.emit(
                    Phase::ProvisioningGreen,
                    Step::CreateBlueGreen,
                    &d.identifier,
                    None,
                    d.status.as_str(),
                );
                Ok(d)
            }
            // A concurrent or interrupted create got there first: adopt it if ours.
            Err(EngineError::Aws {
                source: AwsError::AlreadyExists { .. },
                ..
            }) => self
                .find_deployment(&KnownIds::default(), true)
                .await?
                .ok_or_else(|| EngineError::Failed {
                    step: Step::CreateBlueGreen,
                    id: name,
                    status: "deleted".into(),
                    reason: Some("RDS said the name is taken, but no deployment has it".into()),
                }),
            Err(e) => Err(e),
        }
    }

    /// Waits until the deployment is available with every green instance available.
    async fn wait_green(
        &self,
        id: &str,
        fresh: bool,
    ) -> Result<(BlueGreenDeployment, Vec<DbInstance>), EngineError> {
        let aws = self.aws();
        let r = BlueGreenRef::Id(id.to_owned());
        let got = self
            .wait(
                &WAIT_GREEN,
                id,
                fresh,
                || async {
                    let d = match aws.describe_blue_green_deployment(&r).await {
                        Ok(d) => d,
                        Err(e) if e.is_not_found() => return Ok(None),
                        Err(e) => return Err(e),
                    };
                    let mut green = Vec::new();
                    let state = match d.status {
                        BlueGreenStatus::Provisioning => GreenWait::Provisioning,
                        BlueGreenStatus::Available | BlueGreenStatus::SwitchoverFailed => {
                            let mut all = true;
                            for m in &d.switchover_details {
                                if m.target_member.is_empty() {
                                    all = false;
                                    continue;
                                }
                                match aws
                                    .describe_db_instance(instance_id_of(&m.target_member))
                                    .await
                                {
                                    Ok(g) => {
                                        all &= g.status.is_ready();
                                        green.push(g);
                                    }
                                    Err(e) if e.is_not_found() => all = false,
                                    Err(e) => return Err(e),
                                }
                            }
                            if all {
                                GreenWait::Ready
                            } else {
                                GreenWait::GreenBusy
                            }
                        }
                        _ => GreenWait::Broken,
                    };
                    Ok(Some(((d, green), state)))
                },
                |_| None,
                |(d, _): &(BlueGreenDeployment, Vec<DbInstance>)| explain(d),
            )
            .await?;
        got.ok_or_else(|| EngineError::Failed {
            step: Step::WaitBlueGreen,
            id: id.to_owned(),
            status: "deleted".into(),
            reason: Some("the blue/green deployment disappeared".into()),
        })
    }

    // -----------------------------------------------------------------------------------------
    // Switch
    // -----------------------------------------------------------------------------------------

    async fn blue_green_cutover(
        &self,
        cut: &CutoverSpec,
        known: &KnownIds,
    ) -> Result<(), EngineError> {
        if let Err(mut errs) = cut.validate(self.spec) {
            return Err(errs.remove(0));
        }
        let o = Box::pin(self.observe(known)).await?;
        let d = match o.phase {
            Phase::CutOver | Phase::Finalizing | Phase::Finalized => return Ok(()),
            Phase::CuttingOver => o.blue_green.clone(),
            Phase::Replicating => {
                let d = o.blue_green.clone();
                if let Some(d) = &d {
                    self.start_switchover(cut, &o, d).await?;
                }
                d
            }
            p => {
                return Err(refused(
                    "cutover",
                    "cutover",
                    vec![format!(
                        "the migration is in phase {p}, not replicating (green not available yet); apply again once it is"
                    )],
                ));
            }
        };
        let d = d.ok_or_else(|| EngineError::Failed {
            step: Step::SwitchoverBlueGreen,
            id: self.names.blue_green_deployment_name(),
            status: "deleted".into(),
            reason: Some("the blue/green deployment does not exist".into()),
        })?;
        let secs = cut
            .switchover_timeout_seconds
            .unwrap_or(DEFAULT_SWITCHOVER_TIMEOUT_SECONDS);
        let w = Waiter {
            timeout: Duration::from_secs(u64::try_from(secs).unwrap_or(0))
                + timeouts::SWITCHOVER_MARGIN,
            ..WAIT_SWITCHOVER
        };
        self.wait_deployment(&w, &d.identifier).await?;
        let now = Box::pin(self.observe(known)).await?;
        let t = self.require_target(&now)?;
        let at = stamp(self.e.clock.wall_time());
        self.record(
            &t,
            &[
                (TAG_SWITCHED, at.clone()),
                (TAG_CUTOVER_COMPLETED, at),
                (TAG_PHASE, Phase::CutOver.as_str().to_owned()),
            ],
        )
        .await?;
        self.emit(
            Phase::CutOver,
            Step::RecordPhase,
            &t.identifier,
            None,
            "cut_over",
        );
        Ok(())
    }

    /// Checks green once more (available, encrypted with the planned keys), records the
    /// start on the green primary, and asks RDS to switch over.
    async fn start_switchover(
        &self,
        cut: &CutoverSpec,
        o: &Observed,
        d: &BlueGreenDeployment,
    ) -> Result<(), EngineError> {
        let source = self.require_source(o)?;
        let key = self.resolve_key().await?;
        let plan = self.green_plan(&source, Some(&key)).await.map_err(first)?;
        let mut green: Vec<&DbInstance> = o.green_replicas.iter().collect();
        green.extend(o.target.iter());
        let mut reasons = green_problems(d, &green, &plan);
        reasons.extend(
            green
                .iter()
                .filter(|g| !g.status.is_ready())
                .map(|g| format!("the green instance {} is {}", g.identifier, g.status)),
        );
        if !reasons.is_empty() {
            reasons.push("the provider never switches over to green instances that are not encrypted as asked".into());
            return Err(refused("cutover", "cutover", reasons));
        }
        let target = self.require_target(o)?;
        // RDS blocks writes on both environments from the switchover's start.
        let now = stamp(self.e.clock.wall_time());
        self.record(
            &target,
            &[
                (TAG_PHASE, Phase::CuttingOver.as_str().to_owned()),
                (TAG_CUTOVER_STARTED, now.clone()),
                (TAG_WRITES_PAUSED, now),
                (TAG_DRAINED, String::new()),
                (TAG_SWITCHED, String::new()),
                (TAG_CUTOVER_COMPLETED, String::new()),
            ],
        )
        .await?;
        let secs = cut
            .switchover_timeout_seconds
            .unwrap_or(DEFAULT_SWITCHOVER_TIMEOUT_SECONDS);
        self.call(Step::SwitchoverBlueGreen, &d.identifier, || {
            self.aws()
                .switchover_blue_green_deployment(&d.identifier, secs)
        })
        .await?;
        self.emit(
            Phase::CuttingOver,
            Step::SwitchoverBlueGreen,
            &d.identifier,
            None,
            BlueGreenStatus::SwitchoverInProgress.as_str(),
        );
        Ok(())
    }

    // -----------------------------------------------------------------------------------------
    // Finalize
    // -----------------------------------------------------------------------------------------

    async fn blue_green_finalize(
        &self,
        cut: &CutoverSpec,
        known: &KnownIds,
    ) -> Result<(), EngineError> {
        let o = Box::pin(self.observe(known)).await?;
        match o.phase {
            Phase::Finalized => return Ok(()),
            Phase::CutOver | Phase::Finalizing => {}
            p => {
                return Err(refused(
                    "finalize",
                    "finalize",
                    vec![format!(
                        "the migration is in phase {p}; finalize needs a completed switchover (cutover = true, phase cut_over)"
                    )],
                ));
            }
        }
        let old = o.source.clone();
        let old_replicas: Vec<String> = old
            .iter()
            .flat_map(|s| s.read_replica_identifiers.iter().cloned())
            .collect();
        if cut.retire_source == RetireSource::Stop && !old_replicas.is_empty() {
            return Err(refused(
                "retire_source",
                "finalize",
                vec![format!(
                    "RDS cannot stop {} while it has read replicas ({}), and cannot stop read replicas; use retire_source = \"keep\" or \"snapshot_and_delete\"",
                    old.as_ref().map_or("", |s| s.identifier.as_str()),
                    old_replicas.join(", ")
                )],
            ));
        }
        self.check_retire(old.as_ref(), cut.retire_source).await?;
        let target = self.require_target(&o)?;
        if o.phase == Phase::CutOver {
            self.record(
                &target,
                &[(TAG_PHASE, Phase::Finalizing.as_str().to_owned())],
            )
            .await?;
        }
        if let Some(d) = &o.blue_green {
            // After the switchover RDS refuses DeleteTarget: the instances stay.
            self.delete_deployment(d, false, Phase::Finalizing).await?;
        }
        if cut.retire_source == RetireSource::SnapshotAndDelete {
            // A replica holds a copy of its primary, whose final snapshot keeps the data.
            for r in &old_replicas {
                let input = DeleteDbInstanceInput {
                    db_instance_identifier: instance_id_of(r).to_owned(),
                    final_snapshot: FinalSnapshot::Skip,
                    delete_automated_backups: true,
                };
                gone_ok(
                    self.call(Step::RetireSource, r, || {
                        self.aws().delete_db_instance(&input)
                    })
                    .await,
                )?;
            }
        }
        if let Some(s) = &old {
            self.retire(s, cut.retire_source).await?;
        }
        self.record_finalized(&target).await
    }

    /// Deletes the deployment object (and the green instances when `delete_target`) and
    /// waits until it is gone. Already gone is success.
    async fn delete_deployment(
        &self,
        d: &BlueGreenDeployment,
        delete_target: bool,
        phase: Phase,
    ) -> Result<(), EngineError> {
        let aws = self.aws();
        if d.status != BlueGreenStatus::Deleting {
            let r = self
                .call(Step::DeleteBlueGreen, &d.identifier, || {
                    aws.delete_blue_green_deployment(&d.identifier, delete_target)
                })
                .await;
            if let Err(EngineError::Aws { source, .. }) = &r
                && source.is_not_found()
            {
                return Ok(());
            }
            r?;
        }
        let w = Waiter {
            phase,
            ..WAIT_DELETED
        };
        self.wait_deployment(&w, &d.identifier).await?;
        Ok(())
    }

    /// Polls the deployment's status as `w` declares (fresh: just changed).
    async fn wait_deployment(
        &self,
        w: &Waiter<BlueGreenStatus>,
        id: &str,
    ) -> Result<Option<BlueGreenDeployment>, EngineError> {
        let aws = self.aws();
        let r = BlueGreenRef::Id(id.to_owned());
        self.wait(
            w,
            id,
            true,
            || async {
                super::core::with_status(aws.describe_blue_green_deployment(&r).await, |d| {
                    d.status.clone()
                })
            },
            |_| None,
            explain,
        )
        .await
    }

    // -----------------------------------------------------------------------------------------
    // Teardown
    // -----------------------------------------------------------------------------------------

    /// Before the switchover: delete the deployment, with the green instances only when
    /// `delete_target_on_destroy`. After it: delete only the deployment object; every
    /// instance stays. Never touches the source.
    pub(crate) async fn teardown_blue_green(&self, o: &Observed, out: &mut TeardownOutcome) {
        let switched = o.phase.target_may_serve()
            || o.blue_green
                .as_ref()
                .is_some_and(|d| d.status == BlueGreenStatus::SwitchoverCompleted);
        let green: Vec<&DbInstance> = o.target.iter().chain(o.green_replicas.iter()).collect();
        let mut green_deleted = false;
        if let Some(d) = &o.blue_green {
            let delete_target = !switched && self.spec.delete_target_on_destroy;
            let protected: Vec<&&DbInstance> =
                green.iter().filter(|g| g.deletion_protection).collect();
            if d.status == BlueGreenStatus::SwitchoverInProgress {
                out.errors.push(EngineError::Failed {
                    step: Step::DeleteBlueGreen,
                    id: d.identifier.clone(),
                    status: d.status.to_string(),
                    reason: Some(
                        "RDS cannot delete a deployment while it switches over; wait for the switchover to end, then destroy again".into(),
                    ),
                });
            } else if delete_target && !protected.is_empty() {
                for g in protected {
                    out.errors.push(EngineError::DeletionProtected {
                        id: g.identifier.clone(),
                    });
                }
            } else {
                match self
                    .delete_deployment(d, delete_target, Phase::Finalizing)
                    .await
                {
                    Ok(()) => {
                        out.deleted.push(format!("{KIND_BLUE_GREEN} ({})", d.name));
                        if delete_target {
                            green_deleted = true;
                            out.deleted.extend(green.iter().map(|g| {
                                format!(
                                    "RDS DB Instance ({}): green, with the deployment",
                                    g.identifier
                                )
                            }));
                        }
                    }
                    Err(e) => out.errors.push(e),
                }
            }
        }
        if switched {
            for t in &green {
                out.kept.push(format!(
                    "RDS DB Instance ({}): encrypted, serving traffic under the original name since the switchover; never deleted",
                    t.identifier
                ));
            }
            if let Some(s) = &o.source {
                out.kept.push(format!(
                    "RDS DB Instance ({}): the pre-switchover (unencrypted) instance; kept with its data, it receives no writes",
                    s.identifier
                ));
                for r in &s.read_replica_identifiers {
                    out.kept.push(format!(
                        "RDS DB Instance ({r}): pre-switchover read replica; kept"
                    ));
                }
            }
        } else {
            if !green_deleted {
                for g in &green {
                    out.kept.push(format!(
                        "RDS DB Instance ({}): green instance, kept because delete_target_on_destroy is false",
                        g.identifier
                    ));
                }
            }
            if let Some(s) = &o.source {
                out.kept.push(format!(
                    "RDS DB Instance ({}): the source is never deleted",
                    s.identifier
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn instance(engine: DbEngine, version: &str) -> DbInstance {
        DbInstance {
            identifier: "orders".into(),
            engine,
            engine_version: version.into(),
            ..Default::default()
        }
    }

    #[test]
    fn engine_versions_follow_the_documented_minimums() {
        assert!(blue_green_engine_support(&DbEngine::Mysql, "5.7.44").is_ok());
        assert!(blue_green_engine_support(&DbEngine::Mysql, "8.4.3").is_ok());
        assert!(blue_green_engine_support(&DbEngine::Mysql, "5.6.51").is_err());
        assert!(blue_green_engine_support(&DbEngine::Mariadb, "10.2.44").is_ok());
        assert!(blue_green_engine_support(&DbEngine::Mariadb, "10.1.48").is_err());
        assert!(blue_green_engine_support(&DbEngine::Postgres, "11.22").is_ok());
        assert!(blue_green_engine_support(&DbEngine::Postgres, "10.21").is_err());
        assert!(blue_green_engine_support(&DbEngine::Other("oracle-ee".into()), "19").is_err());
        assert!(blue_green_engine_support(&DbEngine::Postgres, "garbage").is_err());
    }

    #[test]
    fn the_create_guard_refuses_with_the_very_text_preflight_reports() {
        let mut s = instance(DbEngine::Postgres, "10.21");
        s.master_user_secret_arn = Some("arn:aws:secretsmanager:us-east-1:1:secret:rds!db".into());
        let problems = blue_green_source_problems(&s);
        let issues: Vec<_> = problems.iter().map(|p| p.issue).collect();
        assert_eq!(
            issues,
            vec![
                BlueGreenSourceIssue::EngineVersion,
                BlueGreenSourceIssue::ManagedMasterPassword
            ]
        );
        assert!(problems[0].message.contains("10.21") && problems[0].message.contains("11.1"));
        assert!(
            problems[1]
                .remedy
                .contains("--no-manage-master-user-password")
        );
        let errs = blue_green_source_findings(&s);
        assert_eq!(errs.len(), problems.len());
        for (e, p) in errs.iter().zip(&problems) {
            assert_eq!(e.attribute(), Some("strategy"));
            let text = e.to_string();
            assert!(text.contains(&p.message), "{text}");
            assert!(text.contains(p.remedy.trim_end_matches('.')), "{text}");
            assert!(text.contains("strategy = \"dms\""), "{text}");
        }
    }

    #[test]
    fn a_managed_master_password_is_a_finding_and_an_encrypted_source_is_left_to_preflight() {
        let mut s = instance(DbEngine::Postgres, "16.4");
        assert!(blue_green_source_findings(&s).is_empty());
        assert!(already_encrypted(&s).is_none());
        s.master_user_secret_arn = Some("arn:aws:secretsmanager:us-east-1:1:secret:rds!db".into());
        s.storage_encrypted = true;
        let attrs: Vec<_> = blue_green_source_findings(&s)
            .iter()
            .map(EngineError::attribute)
            .collect();
        // preflight::run reports the encrypted source at plan; reporting it here too would
        // show the reviewer the same problem twice.
        assert_eq!(attrs, vec![Some("strategy")]);
        assert_eq!(
            already_encrypted(&s)
                .as_ref()
                .and_then(EngineError::attribute),
            Some("source_db_instance_identifier")
        );
    }

    #[test]
    fn the_phase_follows_the_deployment_status() {
        let green = DbInstance {
            identifier: "orders-green-1".into(),
            status: DbInstanceStatus::Available,
            storage_encrypted: true,
            ..Default::default()
        };
        let dep = |status| BlueGreenDeployment {
            status,
            switchover_details: vec![SwitchoverDetail::default()],
            ..Default::default()
        };
        let o = |status, target: Option<DbInstance>| Observed {
            blue_green: Some(dep(status)),
            target,
            ..Default::default()
        };
        use BlueGreenStatus as S;
        assert_eq!(
            derive_blue_green_phase(&o(S::Provisioning, None), None),
            Phase::ProvisioningGreen
        );
        assert_eq!(
            derive_blue_green_phase(&o(S::Available, Some(green.clone())), None),
            Phase::Replicating
        );
        let unencrypted = DbInstance {
            storage_encrypted: false,
            ..green.clone()
        };
        assert_eq!(
            derive_blue_green_phase(&o(S::Available, Some(unencrypted)), None),
            Phase::ProvisioningGreen
        );
        assert_eq!(
            derive_blue_green_phase(&o(S::SwitchoverInProgress, Some(green.clone())), None),
            Phase::CuttingOver
        );
        assert_eq!(
            derive_blue_green_phase(&o(S::SwitchoverCompleted, Some(green.clone())), None),
            Phase::CutOver
        );
        assert_eq!(
            derive_blue_green_phase(&Observed::default(), Some(Phase::CutOver)),
            Phase::ProvisioningGreen
        );
    }

    #[test]
    fn route53_and_security_group_fences_are_refused_for_blue_green() {
        let cut = CutoverSpec {
            strategy: CutoverStrategy::Route53(super::super::cutover::Route53Record {
                zone_id: "Z1".into(),
                record_name: "db.example.com".into(),
                ttl: 60,
            }),
            write_fence: WriteFence::SecurityGroups(vec!["sg-1".into()]),
            max_lag: Duration::from_secs(5),
            require_validation: false,
            retire_source: RetireSource::Keep,
            switchover_timeout_seconds: Some(10),
        };
        let mut attrs = Vec::new();
        validate_cutover(&cut, &mut |a, _| attrs.push(a));
        assert_eq!(attrs, vec!["route53", "write_fence", "switchover_timeout"]);
    }

    #[test]
    fn arns_give_their_instance_identifier_and_region() {
        assert_eq!(
            instance_id_of("arn:aws:rds:eu-west-1:123456789012:db:orders-replica"),
            "orders-replica"
        );
        assert_eq!(instance_id_of("orders"), "orders");
        assert_eq!(
            arn_region("arn:aws:rds:eu-west-1:123456789012:db:x"),
            Some("eu-west-1")
        );
        assert_eq!(old_name("orders"), "orders-old1");
    }
}
