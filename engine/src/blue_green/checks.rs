//! Pure checks and descriptions for the blue/green strategy: engine support, source problems,
//! failback refusal, plan text and the phase derived from the deployment.

use super::*;

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

pub(super) fn arn_region(s: &str) -> Option<&str> {
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
pub(crate) fn blue_green_engine_support(engine: &DbEngine, version: &str) -> Result<(), String> {
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
pub(crate) enum BlueGreenSourceIssue {
    /// RDS has no blue/green deployments for the source's engine or version.
    EngineVersion,
    /// The source's master password is managed in Secrets Manager.
    ManagedMasterPassword,
}

/// Something about the source that rules out `strategy = "blue_green"`, with the one text
/// both the plan-time check (`preflight::run`) and the create-path guard show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BlueGreenSourceProblem {
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
pub(crate) fn blue_green_source_problems(source: &DbInstance) -> Vec<BlueGreenSourceProblem> {
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
pub(crate) fn blue_green_source_findings(source: &DbInstance) -> Vec<EngineError> {
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
pub(crate) fn validate_cutover(cut: &CutoverSpec, bad: &mut dyn FnMut(&'static str, String)) {
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

pub(super) fn names_of(list: &[&DbInstance]) -> String {
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
/// warnings (what [`describe_cutover`](crate::describe_cutover) returns then). Pure.
pub(crate) fn describe_blue_green_cutover(
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
/// [`describe_failback`](crate::describe_failback) returns then). Pure.
pub(crate) fn describe_blue_green_failback(spec: &MigrationSpec, o: &Observed) -> Vec<String> {
    match blue_green_failback_refusal(spec, o) {
        Some(e) => vec![format!("{e}.")],
        None => vec![format!(
            "No switchover has happened (phase {}): cutover = false changes nothing.",
            o.phase
        )],
    }
}

/// Sentences saying what `finalize = true` will do with blue/green, for plan warnings (what
/// [`describe_finalize`](crate::describe_finalize) returns then). Pure.
pub(crate) fn describe_blue_green_finalize(
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
            crate::cutover::source_final_snapshot_name(&n),
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
pub(super) fn green_problems(
    d: &BlueGreenDeployment,
    green: &[&DbInstance],
    plan: &[Member],
) -> Vec<String> {
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
