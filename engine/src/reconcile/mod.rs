//! The create path, level-triggered: every step makes sure one object exists and is ready,
//! adopting what an earlier (interrupted) run left behind when it carries our tags.
//!
//! Order: KMS key and source checks; then, in parallel, the RDS chain (snapshot ->
//! encrypted copy -> restore -> post-restore settings) and the DMS base (replication subnet
//! group + instance, read replica, source endpoint); then the target endpoint, the task,
//! its start, and the wait for full load 100 % with CDC running.
//!
//! The intermediate snapshots stay until teardown: they cost little next to the target, and
//! keeping them lets a failed restore be retried without taking and copying a new snapshot.

use std::fmt;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::api::*;
use super::core::{Engine, Run, Waiter, with_status};
use super::error::{EngineError, Step};
use super::names::Role;
use super::observe::{KnownIds, Observed, is_replicating};
use super::spec::{Phase, default_table_mappings, target_after_connect_script, task_settings_json};
use super::waiters::*;

mod dms;
mod rds;

/// An engine operation failed; `observed` is what exists afterwards, so state records it.
#[derive(Debug, Clone, PartialEq)]
pub struct EngineFailure {
    /// What failed.
    pub error: EngineError,
    /// What exists now. When `observed_ok` is false, observing failed too and this is a
    /// default: keep the prior state instead (names are deterministic, so the next
    /// refresh finds everything anyway).
    pub observed: Observed,
    /// True when `observed` was actually read from AWS after the failure.
    pub observed_ok: bool,
}

/// Default class of a managed replication instance.
pub const DEFAULT_REPLICATION_INSTANCE_CLASS: &str = "dms.t3.medium";
/// Default storage of a managed replication instance, GiB.
pub const DEFAULT_REPLICATION_INSTANCE_STORAGE: i32 = 50;

/// The full-load wait's view of a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LoadState {
    Starting,
    Loading,
    Replicating,
    Stopped,
    Failed,
}

impl fmt::Display for LoadState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LoadState::Starting => "starting",
            LoadState::Loading => "running (full load)",
            LoadState::Replicating => "running (cdc)",
            LoadState::Stopped => "stopped",
            LoadState::Failed => "failed",
        })
    }
}

fn load_state(t: &ReplicationTask) -> LoadState {
    if is_replicating(t) {
        return LoadState::Replicating;
    }
    match t.status {
        ReplicationTaskStatus::Running => LoadState::Loading,
        ReplicationTaskStatus::Stopped | ReplicationTaskStatus::Stopping => LoadState::Stopped,
        ReplicationTaskStatus::Failed
        | ReplicationTaskStatus::FailedMove
        | ReplicationTaskStatus::Deleting => LoadState::Failed,
        ReplicationTaskStatus::Creating
        | ReplicationTaskStatus::Ready
        | ReplicationTaskStatus::Starting
        | ReplicationTaskStatus::Modifying
        | ReplicationTaskStatus::Moving
        | ReplicationTaskStatus::Testing
        | ReplicationTaskStatus::Other(_) => LoadState::Starting,
    }
}

impl Run<'_> {
    /// Waits for replication task `which` (shown as `id`) to pass `w`, with its failure
    /// message as the explanation: every task waiter reads the task the same way.
    pub(crate) async fn wait_task(
        &self,
        w: &Waiter<ReplicationTaskStatus>,
        id: &str,
        which: &DmsRef,
        fresh: bool,
    ) -> Result<Option<ReplicationTask>, EngineError> {
        let aws = self.aws();
        let status = || async {
            with_status(aws.describe_replication_task(which).await, |t| {
                t.status.clone()
            })
        };
        self.wait(w, id, fresh, status, none, task_failure).await
    }

    /// ModifyReplicationTask, then waits for `w` (the task settles stopped or ready).
    pub(crate) async fn modify_task(
        &self,
        task: &ReplicationTask,
        input: &ModifyReplicationTaskInput,
        w: &Waiter<ReplicationTaskStatus>,
    ) -> Result<(), EngineError> {
        let aws = self.aws();
        self.call(Step::ModifyTask, &task.identifier, || {
            aws.modify_replication_task(input)
        })
        .await?;
        let which = DmsRef::Arn(task.arn.clone());
        self.wait_task(w, &task.identifier, &which, true).await?;
        Ok(())
    }

    /// StartReplicationTask from the task's checkpoint (`resume-processing`) as `step`,
    /// then waits for `w` when given. Only for a task continuing in the direction it last
    /// ran: a new direction starts a task that never ran ([`Run::start_task`] with
    /// `start-replication`).
    pub(crate) async fn resume_task(
        &self,
        step: Step,
        task: &ReplicationTask,
        w: Option<&Waiter<ReplicationTaskStatus>>,
    ) -> Result<(), EngineError> {
        let input = StartReplicationTaskInput {
            arn: task.arn.clone(),
            start_type: StartType::ResumeProcessing,
            cdc_start_position: None,
        };
        self.start_task(step, &task.identifier, &input).await?;
        if let Some(w) = w {
            let which = DmsRef::Arn(task.arn.clone());
            self.wait_task(w, &task.identifier, &which, true).await?;
        }
        Ok(())
    }

    /// The one StartReplicationTask call of the engine. The invariant "never both
    /// directions" is checked here, before the call: the forward task (`rdsenc-<source>`)
    /// is not started while the reverse task runs, starts or stops, nor the reverse while
    /// the forward does (a stopping task may still apply its last transaction).
    pub(crate) async fn start_task(
        &self,
        step: Step,
        id: &str,
        input: &StartReplicationTaskInput,
    ) -> Result<(), EngineError> {
        let aws = self.aws();
        let other = if id == self.names.reverse_task {
            &self.names.task
        } else {
            &self.names.reverse_task
        };
        let which = DmsRef::Id(other.clone());
        let seen = self
            .find(step, other, || aws.describe_replication_task(&which))
            .await?;
        if let Some(o) = seen
            && matches!(
                o.status,
                ReplicationTaskStatus::Running
                    | ReplicationTaskStatus::Starting
                    | ReplicationTaskStatus::Stopping
            )
        {
            return Err(EngineError::BothDirections {
                step,
                starting: id.to_owned(),
                running: o.identifier.clone(),
                status: o.status.to_string(),
            });
        }
        self.call(step, id, || aws.start_replication_task(input))
            .await?;
        Ok(())
    }

    /// ModifyEndpoint with new credentials (a password rotation reaching DMS).
    pub(crate) async fn set_endpoint_credentials(
        &self,
        ep: &Endpoint,
        credentials: EndpointCredentials,
    ) -> Result<(), EngineError> {
        let aws = self.aws();
        let input = ModifyEndpointInput {
            arn: ep.arn.clone(),
            credentials: Some(credentials),
            ..Default::default()
        };
        self.call(Step::ModifyEndpoint, &ep.identifier, || {
            aws.modify_endpoint(&input)
        })
        .await?;
        Ok(())
    }
}

pub(crate) fn task_failure(t: &ReplicationTask) -> Option<String> {
    match (&t.last_failure_message, &t.stop_reason) {
        (Some(m), Some(r)) => Some(format!("{m} ({r})")),
        (Some(m), None) => Some(m.clone()),
        (None, Some(r)) => Some(r.clone()),
        (None, None) => None,
    }
}

fn snapshot_percent(s: &DbSnapshot) -> Option<i32> {
    Some(s.percent_progress)
}
fn task_percent(t: &ReplicationTask) -> Option<i32> {
    t.stats.as_ref().map(|s| s.full_load_progress_percent)
}
fn none<T>(_: &T) -> Option<i32> {
    None
}
fn no_reason<T>(_: &T) -> Option<String> {
    None
}

/// Keys the target does not inherit: AWS-reserved and the migration's own.
fn inheritable(tags: &Tags) -> Tags {
    tags.iter()
        .filter(|(k, _)| !k.starts_with("aws:") && !k.starts_with("rdsenc:"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// The description that marks a replication subnet group as ours (DMS subnet groups carry
/// no ARN in describe output, so tags cannot be read without guessing one).
pub(crate) fn subnet_group_description(migration: &str) -> String {
    format!("Managed by terraform-provider-rdsenc for migration {migration}")
}

fn first_error<A, B>(
    a: Result<A, EngineError>,
    b: Result<B, EngineError>,
) -> Result<(A, B), EngineError> {
    match (a, b) {
        (Ok(a), Ok(b)) => Ok((a, b)),
        // A branch cancelled because its sibling failed reports the sibling's error.
        (Err(e), Err(f)) if e.is_cancelled() && !f.is_cancelled() => Err(f),
        (Err(e), _) | (_, Err(e)) => Err(e),
    }
}

impl Engine {
    /// Drives the migration to `replicating`: every step idempotent, adopting objects that
    /// exist by deterministic name and our tags, refusing same-named objects that are not
    /// ours. Skips the snapshot chain when the target exists.
    ///
    /// **Errors**: the first failing step, with the objects that exist (`observed`), so
    /// nothing is orphaned. `timeout` bounds the whole call; `cancel` stops it promptly.
    ///
    /// **Guarantees**: never modifies or deletes the source; never deletes anything.
    pub async fn reconcile_to_replicating(
        &self,
        spec: &super::spec::MigrationSpec,
        known: &KnownIds,
        timeout: Duration,
        cancel: &CancellationToken,
    ) -> Result<Observed, Box<EngineFailure>> {
        let run = self.run(spec, timeout, cancel);
        let result = run.ops().create(&run, known).await;
        self.finish(spec, known, result).await
    }

    /// Observes after an operation, pairing any error with what exists.
    pub(crate) async fn finish(
        &self,
        spec: &super::spec::MigrationSpec,
        known: &KnownIds,
        result: Result<(), EngineError>,
    ) -> Result<Observed, Box<EngineFailure>> {
        // A fresh token: after StopProvider the state must still be recorded; a few
        // describes are quick.
        let fresh = CancellationToken::new();
        let observed = self
            .run(spec, Duration::from_secs(120), &fresh)
            .observe(known)
            .await;
        match (result, observed) {
            (Ok(()), Ok(o)) => Ok(o),
            (Ok(()), Err(error)) => Err(Box::new(EngineFailure {
                error,
                observed: Observed::default(),
                observed_ok: false,
            })),
            (Err(error), Ok(observed)) => Err(Box::new(EngineFailure {
                error,
                observed,
                observed_ok: true,
            })),
            (Err(error), Err(obs_err)) => {
                tracing::warn!(error = %obs_err, "could not observe after a failure");
                Err(Box::new(EngineFailure {
                    error,
                    observed: Observed::default(),
                    observed_ok: false,
                }))
            }
        }
    }
}
