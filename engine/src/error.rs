//! The engine's error: which step failed, on which object, and why. The lead converts it to a
//! diagnostic in one place, using [`EngineError::attribute`] for the attribute path.

use std::fmt;
use std::time::Duration;

use crate::aws_error::AwsError;

/// A step of the migration, named the way error messages read ("creating RDS DB Snapshot").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Step {
    /// Reading the source instance.
    DescribeSource,
    /// Waiting for the source to be available before its snapshot.
    WaitSource,
    /// Resolving and checking the KMS key.
    ResolveKmsKey,
    /// Reading the current state of every owned object.
    Observe,
    /// CreateDBSnapshot of the source.
    CreateSnapshot,
    /// Waiting for the source snapshot.
    WaitSnapshot,
    /// CopyDBSnapshot with the KMS key.
    CopySnapshot,
    /// Waiting for the encrypted copy.
    WaitEncryptedCopy,
    /// RestoreDBInstanceFromDBSnapshot.
    RestoreTarget,
    /// Waiting for the restored target.
    WaitTarget,
    /// ModifyDBInstance on the target (settings restore cannot set).
    ModifyTarget,
    /// Creating the read replica DMS reads from.
    CreateReadReplica,
    /// Waiting for the read replica.
    WaitReadReplica,
    /// CreateReplicationSubnetGroup.
    CreateSubnetGroup,
    /// CreateReplicationInstance.
    CreateReplicationInstance,
    /// Waiting for the replication instance.
    WaitReplicationInstance,
    /// CreateEndpoint (source).
    CreateSourceEndpoint,
    /// CreateEndpoint (target).
    CreateTargetEndpoint,
    /// ModifyEndpoint.
    ModifyEndpoint,
    /// TestConnection between the replication instance and an endpoint.
    TestConnection,
    /// CreateReplicationTask.
    CreateTask,
    /// Waiting for the task to be ready.
    WaitTaskReady,
    /// StartReplicationTask.
    StartTask,
    /// Waiting for full load to finish and CDC to run.
    WaitFullLoad,
    /// StopReplicationTask.
    StopTask,
    /// Waiting for the task to stop.
    WaitTaskStopped,
    /// ModifyReplicationTask.
    ModifyTask,
    /// DeleteReplicationTask (and waiting until gone).
    DeleteTask,
    /// DeleteEndpoint.
    DeleteEndpoint,
    /// DeleteReplicationInstance (and waiting until gone).
    DeleteReplicationInstance,
    /// DeleteReplicationSubnetGroup.
    DeleteSubnetGroup,
    /// DeleteDBSnapshot.
    DeleteSnapshot,
    /// DeleteDBInstance (target or read replica, and waiting until gone).
    DeleteInstance,
    /// Checking lag, validation and the task before a cutover or failback.
    CheckCutover,
    /// Recording the migration's phase and timestamps in the target's tags.
    RecordPhase,
    /// Moving an instance to the fence security groups.
    FenceWrites,
    /// Restoring an instance's original security groups.
    LiftFence,
    /// Waiting until CDC has applied every change (lag 0).
    DrainReplication,
    /// UPSERTing the Route 53 CNAME.
    SwitchRoute53,
    /// Waiting for the Route 53 change to be INSYNC.
    WaitRoute53,
    /// Renaming an RDS DB instance (identifier swap).
    RenameInstance,
    /// Creating the reverse (failback) DMS endpoints.
    CreateReverseEndpoint,
    /// Creating the reverse (failback) DMS task.
    CreateReverseTask,
    /// Starting a DMS task as CDC from the cutover or failback point.
    StartCdc,
    /// Stopping or deleting the source at finalize (`retire_source`).
    RetireSource,
    /// CreateBlueGreenDeployment (`strategy = "blue_green"`).
    CreateBlueGreen,
    /// Waiting for the blue/green deployment and its green instances.
    WaitBlueGreen,
    /// SwitchoverBlueGreenDeployment (and waiting for it to complete).
    SwitchoverBlueGreen,
    /// DeleteBlueGreenDeployment (and waiting until gone).
    DeleteBlueGreen,
}

impl Step {
    /// The phrase used in messages, in the terraform-provider-aws form.
    pub fn describe(self) -> &'static str {
        match self {
            Step::DescribeSource => "reading source RDS DB Instance",
            Step::WaitSource => "waiting for source RDS DB Instance to be available",
            Step::ResolveKmsKey => "reading KMS Key",
            Step::Observe => "reading migration state",
            Step::CreateSnapshot => "creating RDS DB Snapshot",
            Step::WaitSnapshot => "waiting for RDS DB Snapshot",
            Step::CopySnapshot => "copying RDS DB Snapshot with KMS encryption",
            Step::WaitEncryptedCopy => "waiting for encrypted RDS DB Snapshot copy",
            Step::RestoreTarget => "restoring RDS DB Instance from snapshot",
            Step::WaitTarget => "waiting for RDS DB Instance",
            Step::ModifyTarget => "modifying RDS DB Instance",
            Step::CreateReadReplica => "creating RDS DB Instance read replica",
            Step::WaitReadReplica => "waiting for RDS DB Instance read replica",
            Step::CreateSubnetGroup => "creating DMS Replication Subnet Group",
            Step::CreateReplicationInstance => "creating DMS Replication Instance",
            Step::WaitReplicationInstance => "waiting for DMS Replication Instance",
            Step::CreateSourceEndpoint => "creating DMS source Endpoint",
            Step::CreateTargetEndpoint => "creating DMS target Endpoint",
            Step::ModifyEndpoint => "modifying DMS Endpoint",
            Step::TestConnection => "testing DMS Endpoint connection",
            Step::CreateTask => "creating DMS Replication Task",
            Step::WaitTaskReady => "waiting for DMS Replication Task to be ready",
            Step::StartTask => "starting DMS Replication Task",
            Step::WaitFullLoad => "waiting for DMS Replication Task full load",
            Step::StopTask => "stopping DMS Replication Task",
            Step::WaitTaskStopped => "waiting for DMS Replication Task to stop",
            Step::ModifyTask => "modifying DMS Replication Task",
            Step::DeleteTask => "deleting DMS Replication Task",
            Step::DeleteEndpoint => "deleting DMS Endpoint",
            Step::DeleteReplicationInstance => "deleting DMS Replication Instance",
            Step::DeleteSubnetGroup => "deleting DMS Replication Subnet Group",
            Step::DeleteSnapshot => "deleting RDS DB Snapshot",
            Step::DeleteInstance => "deleting RDS DB Instance",
            Step::CheckCutover => "checking replication before switching",
            Step::RecordPhase => "recording the migration phase in RDS DB Instance tags",
            Step::FenceWrites => "fencing writes with security groups on RDS DB Instance",
            Step::LiftFence => "restoring security groups of RDS DB Instance",
            Step::DrainReplication => "waiting for DMS Replication Task to drain",
            Step::SwitchRoute53 => "changing Route 53 Record",
            Step::WaitRoute53 => "waiting for Route 53 Change to be INSYNC",
            Step::RenameInstance => "renaming RDS DB Instance",
            Step::CreateReverseEndpoint => "creating DMS reverse Endpoint",
            Step::CreateReverseTask => "creating DMS reverse Replication Task",
            Step::StartCdc => "starting DMS Replication Task CDC",
            Step::RetireSource => "retiring source RDS DB Instance",
            Step::CreateBlueGreen => "creating RDS Blue/Green Deployment",
            Step::WaitBlueGreen => "waiting for RDS Blue/Green Deployment",
            Step::SwitchoverBlueGreen => "switching over RDS Blue/Green Deployment",
            Step::DeleteBlueGreen => "deleting RDS Blue/Green Deployment",
        }
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// A migration step failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EngineError {
    /// The configuration is invalid; `attribute` is the dotted attribute path.
    #[error("invalid {attribute}: {message}")]
    InvalidSpec {
        /// Dotted attribute path, e.g. `dms.cdc_start_position`.
        attribute: &'static str,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// An object the configuration refers to does not exist (source instance, KMS key,
    /// replication instance ARN).
    #[error("{kind} ({id}) given in {attribute} does not exist")]
    Missing {
        /// Dotted attribute path.
        attribute: &'static str,
        /// What was looked for.
        kind: &'static str,
        /// The identifier or ARN.
        id: String,
    },
    /// An object the configuration refers to cannot be used as it is (a disabled KMS key, an
    /// unsupported engine).
    #[error("{kind} ({id}) given in {attribute} cannot be used: {reason}")]
    Unusable {
        /// Dotted attribute path.
        attribute: &'static str,
        /// What it is.
        kind: &'static str,
        /// The identifier or ARN.
        id: String,
        /// Why.
        reason: String,
    },
    /// An object with one of the migration's deterministic names exists but does not carry
    /// the migration's tags: it belongs to someone else and is left alone.
    #[error(
        "{kind} ({id}) already exists and is not managed by this migration (tag rdsenc:migration={migration} missing)"
    )]
    ForeignObject {
        /// Dotted attribute path the name comes from, when a user-chosen name collides.
        attribute: Option<&'static str>,
        /// What it is.
        kind: &'static str,
        /// Its identifier.
        id: String,
        /// The migration id.
        migration: String,
    },
    /// An AWS call failed (after retries, when transient).
    #[error("{step} ({id}): {source}")]
    Aws {
        /// The step.
        step: Step,
        /// The object identifier or ARN.
        id: String,
        /// The AWS error.
        #[source]
        source: AwsError,
    },
    /// An object reached a failed or unexpected state; `reason` carries AWS's explanation
    /// (DMS `LastFailureMessage` / `StopReason`).
    #[error("{step} ({id}): unexpected status {status}{}", reason.as_ref().map(|r| format!(": {r}")).unwrap_or_default())]
    Failed {
        /// The step.
        step: Step,
        /// The object identifier or ARN.
        id: String,
        /// The status seen.
        status: String,
        /// AWS's explanation, when it gave one.
        reason: Option<String>,
    },
    /// A waiter ran out of time.
    #[error("{step} ({id}): timed out after {}", humantime::format_duration(*waited))]
    Timeout {
        /// The step.
        step: Step,
        /// The object identifier or ARN.
        id: String,
        /// How long it waited.
        waited: Duration,
        /// The last status seen.
        last_status: Option<String>,
    },
    /// Terraform asked the provider to stop (StopProvider / Ctrl-C).
    #[error("{step}: cancelled")]
    Cancelled {
        /// The step that was interrupted.
        step: Step,
    },
    /// Deleting the target was requested but the instance has deletion protection; it is
    /// never turned off silently.
    #[error(
        "RDS DB Instance ({id}) has deletion protection enabled; disable it first to let delete_target_on_destroy remove it"
    )]
    DeletionProtected {
        /// The instance.
        id: String,
    },
    /// A replication task was about to start while the task of the other direction runs:
    /// replication in both directions at once would copy every change back where it came
    /// from. Nothing was started.
    #[error(
        "{step} ({starting}): not started, because {running} (the other direction) is {status}; replication never runs both ways at once"
    )]
    BothDirections {
        /// The step that wanted to start the task.
        step: Step,
        /// The task that was not started.
        starting: String,
        /// The task of the other direction.
        running: String,
        /// Its status.
        status: String,
    },
    /// A cutover, failback or finalize was refused before anything was changed; `reasons`
    /// carry the measured values (lag, validation, the colliding name).
    #[error("{action} refused: {}", reasons.join("; "))]
    Refused {
        /// Dotted attribute path whose change asked for it (`cutover`, `finalize`).
        attribute: &'static str,
        /// What was refused ("cutover", "failback", "finalize").
        action: &'static str,
        /// Every reason, as sentences without a final period.
        reasons: Vec<String>,
    },
}

impl EngineError {
    /// [`EngineError::Failed`] with status `deleted`: the object `id` that `step` needs is
    /// gone, for `reason` when one is known.
    pub(crate) fn deleted(step: Step, id: impl Into<String>, reason: Option<&str>) -> Self {
        EngineError::Failed {
            step,
            id: id.into(),
            status: "deleted".into(),
            reason: reason.map(str::to_owned),
        }
    }

    /// True when retrying the same operation later may succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            EngineError::Aws { source, .. } => source.is_transient(),
            _ => false,
        }
    }

    /// The dotted attribute path the error concerns, when there is one.
    pub fn attribute(&self) -> Option<&'static str> {
        match self {
            EngineError::InvalidSpec { attribute, .. }
            | EngineError::Missing { attribute, .. }
            | EngineError::Unusable { attribute, .. }
            | EngineError::Refused { attribute, .. } => Some(attribute),
            EngineError::ForeignObject { attribute, .. } => *attribute,
            EngineError::DeletionProtected { .. } => Some("delete_target_on_destroy"),
            _ => None,
        }
    }

    /// The step that failed, when the error comes from one.
    pub fn step(&self) -> Option<Step> {
        match self {
            EngineError::Aws { step, .. }
            | EngineError::Failed { step, .. }
            | EngineError::Timeout { step, .. }
            | EngineError::BothDirections { step, .. }
            | EngineError::Cancelled { step } => Some(*step),
            _ => None,
        }
    }

    /// A short, title-case diagnostic summary.
    pub fn summary(&self) -> &'static str {
        match self {
            EngineError::InvalidSpec { .. } => "Invalid Migration Configuration",
            EngineError::Missing { .. } => "Referenced Object Not Found",
            EngineError::Unusable { .. } => "Referenced Object Not Usable",
            EngineError::ForeignObject { .. } => "Name Taken By An Unmanaged Object",
            EngineError::Aws { .. } => "AWS Request Failed",
            EngineError::Failed { .. } => "Migration Step Failed",
            EngineError::Timeout { .. } => "Migration Step Timed Out",
            EngineError::Cancelled { .. } => "Migration Interrupted",
            EngineError::DeletionProtected { .. } => "Target Has Deletion Protection",
            EngineError::Refused { .. } => "Migration Switch Refused",
            EngineError::BothDirections { .. } => "Replication Would Run Both Ways",
        }
    }

    /// The diagnostic detail: what happened, in full sentences, and the remedy. Progress is
    /// never lost on failure (every step is idempotent), which the remedies rely on.
    pub fn detail(&self) -> String {
        const RESUME: &str = "Apply again to resume where it stopped; work already done is kept.";
        match self {
            EngineError::InvalidSpec { .. } => format!("{self}."),
            EngineError::Missing { .. } => format!(
                "{self}. Check the value, and that the provider is configured for the right account and region."
            ),
            EngineError::Unusable { .. } => format!("{self}. Fix it or choose another one."),
            EngineError::ForeignObject { attribute, .. } => {
                let remedy = match attribute {
                    Some(a) => format!("Choose another {a}, or remove or rename the existing object."),
                    None => "Remove or rename the existing object; the migration never adopts or deletes objects it did not create.".into(),
                };
                format!("{self}. {remedy}")
            }
            EngineError::Aws { source, .. } if source.is_transient() => {
                format!("{self}. This looks temporary (throttling or an AWS-side error). {RESUME}")
            }
            EngineError::Aws { .. } => {
                format!("{self}. Check permissions and the configuration, then apply again.")
            }
            EngineError::Failed { .. } => {
                format!(
                    "{self}. Fix the cause AWS reports, then apply again; the migration resumes where it stopped."
                )
            }
            EngineError::Timeout { .. } => format!(
                "{self}. The operation is still running in AWS. Wait or raise timeouts, then apply again; work already done is kept."
            ),
            EngineError::Cancelled { step } => {
                format!("Terraform interrupted the provider while {step}. {RESUME}")
            }
            EngineError::DeletionProtected { .. } => format!("{self}."),
            EngineError::BothDirections { .. } => format!(
                "{self}. Nothing was started. Apply again once the other direction's task has stopped (a cutover or failback stops it)."
            ),
            EngineError::Refused { .. } => format!(
                "{self}. Nothing was changed in AWS. Fix the cause or wait, then apply again."
            ),
        }
    }

    /// True for [`EngineError::Cancelled`].
    pub fn is_cancelled(&self) -> bool {
        matches!(self, EngineError::Cancelled { .. })
    }

    pub(crate) fn aws(step: Step, id: impl Into<String>, source: AwsError) -> Self {
        EngineError::Aws {
            step,
            id: id.into(),
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_step_the_object_and_the_cause() {
        let e = EngineError::Failed {
            step: Step::WaitFullLoad,
            id: "rdsenc-orders".into(),
            status: "failed".into(),
            reason: Some("Table orders.items: duplicate key".into()),
        };
        assert_eq!(
            e.to_string(),
            "waiting for DMS Replication Task full load (rdsenc-orders): unexpected status failed: Table orders.items: duplicate key"
        );
        let t = EngineError::Timeout {
            step: Step::WaitSnapshot,
            id: "rdsenc-orders-snapshot".into(),
            waited: Duration::from_secs(5400),
            last_status: None,
        };
        assert_eq!(
            t.to_string(),
            "waiting for RDS DB Snapshot (rdsenc-orders-snapshot): timed out after 1h 30m"
        );
        let a = EngineError::aws(
            Step::CreateSnapshot,
            "x",
            AwsError::Throttled {
                code: "Throttling".into(),
                message: "slow down".into(),
            },
        );
        assert!(a.is_transient());
        assert!(std::error::Error::source(&a).is_some());
        assert!(
            a.detail().contains("Apply again to resume"),
            "{}",
            a.detail()
        );
        assert_eq!(
            e.detail(),
            "waiting for DMS Replication Task full load (rdsenc-orders): unexpected status failed: Table orders.items: duplicate key. Fix the cause AWS reports, then apply again; the migration resumes where it stopped."
        );
        assert_eq!(
            EngineError::Cancelled {
                step: Step::WaitSnapshot
            }
            .detail(),
            "Terraform interrupted the provider while waiting for RDS DB Snapshot. Apply again to resume where it stopped; work already done is kept."
        );
        let f = EngineError::ForeignObject {
            attribute: Some("target_db_instance_identifier"),
            kind: "RDS DB Instance",
            id: "orders-encrypted".into(),
            migration: "orders".into(),
        };
        assert!(
            f.detail()
                .contains("Choose another target_db_instance_identifier")
        );
        assert_eq!(f.summary(), "Name Taken By An Unmanaged Object");
    }
}
