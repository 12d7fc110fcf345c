//! In-place DMS changes: stop the task, modify task and endpoints, resume from the
//! checkpoint. Password rotation is an endpoint change driven by the write-only password's
//! version attribute.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::api::*;
use super::core::{Engine, Run};
use super::error::{EngineError, Step};
use super::observe::{KnownIds, Observed};
use super::reconcile::EngineFailure;
use super::spec::{Phase, task_settings_json};
use super::waiters::*;

/// What changed between state and plan. `migration_type` and `cdc_start_position` are not
/// here: the lead marks them RequiresReplace (a different start needs a new task).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DmsChange {
    /// `table_mappings`, `target_table_prep_mode` or `validation` changed.
    pub task: bool,
    /// Source credentials changed (password version bump, user, Secrets Manager).
    pub source_endpoint: bool,
    /// Target credentials changed.
    pub target_endpoint: bool,
}

impl DmsChange {
    /// True when nothing changed.
    pub fn is_empty(&self) -> bool {
        !(self.task || self.source_endpoint || self.target_endpoint)
    }
}

impl Engine {
    /// Applies DMS setting changes in place: stop the task (wait stopped), modify the task
    /// and/or endpoints, then resume (`resume-processing`) if it was running. Tables added
    /// to the mappings are loaded on resume; existing tables continue from the checkpoint.
    ///
    /// **Errors**: the failing step with what exists (`observed`). A task left stopped by a
    /// failure is resumed by the next `reconcile_to_replicating`. A task that had failed is
    /// resumed after the change.
    pub async fn update_dms_settings(
        &self,
        spec: &super::spec::MigrationSpec,
        known: &KnownIds,
        change: &DmsChange,
        timeout: Duration,
        cancel: &CancellationToken,
    ) -> Result<Observed, Box<EngineFailure>> {
        let run = self.run(spec, timeout, cancel);
        let result = if change.is_empty() {
            Ok(())
        } else {
            run.ops().update(&run, known, change).await
        };
        self.finish(spec, known, result).await
    }
}

impl Run<'_> {
    pub(crate) async fn update(
        &self,
        known: &KnownIds,
        change: &DmsChange,
    ) -> Result<(), EngineError> {
        let o = self.observe(known).await?;
        let source = o.source.clone().ok_or_else(|| EngineError::Missing {
            attribute: "source_db_instance_identifier",
            kind: "RDS DB Instance",
            id: self.names.migration.clone(),
        })?;
        let was_running = o.task.as_ref().is_some_and(|t| {
            matches!(
                t.status,
                ReplicationTaskStatus::Running | ReplicationTaskStatus::Starting
            )
        });
        // A failed task is resumed after the change: fixing credentials or settings is the
        // usual remedy, and the resource's desired state is "replicating". Not once a
        // cutover began: the forward task then stays stopped (the reverse direction runs,
        // and its checkpoint precedes the reverse task's writes on the source).
        let was_failed = o.phase <= Phase::Replicating
            && o.task
                .as_ref()
                .is_some_and(|t| t.status == ReplicationTaskStatus::Failed);
        if let Some(t) = &o.task
            && was_running
        {
            self.stop_task(t, Phase::Replicating).await?;
        }
        if change.source_endpoint
            && let Some(ep) = &o.source_endpoint
        {
            let creds = self.spec.dms.source_credentials.clone();
            self.set_endpoint_credentials(ep, creds).await?;
        }
        // Target credentials default to the source's, so a source change moves them too.
        let target_follows_source =
            change.source_endpoint && self.spec.dms.target_credentials.is_none();
        if (change.target_endpoint || target_follows_source)
            && let Some(ep) = &o.target_endpoint
        {
            let creds = self.spec.dms.target_credentials_or_source();
            self.set_endpoint_credentials(ep, creds).await?;
        }
        let Some(task) = &o.task else {
            return Ok(());
        };
        if change.task {
            let input = ModifyReplicationTaskInput {
                arn: task.arn.clone(),
                table_mappings: Some(self.table_mappings(&source)),
                task_settings: Some(task_settings_json(&self.spec.dms)),
                ..Default::default()
            };
            self.modify_task(task, &input, &WAIT_TASK_MODIFIED).await?;
        }
        if was_running || was_failed {
            let resumed = Some(&WAIT_TASK_RESUMED);
            self.resume_task(Step::StartTask, task, resumed).await?;
        }
        Ok(())
    }
}
