//! What state records: the computed attributes and the summary of a migration found by its
//! tags.

use super::*;

/// A migration found by its tags (for data sources and import).
#[derive(Debug, Clone, PartialEq)]
pub struct MigrationSummary {
    /// The migration id (source identifier).
    pub migration: String,
    /// Its target instance.
    pub target: DbInstance,
}

impl Engine {
    /// Every migration target in the account/region, found by the `rdsenc:role=target` tag.
    ///
    /// **Errors**: the AWS error after retries.
    pub async fn list_migrations(
        &self,
        cancel: &CancellationToken,
    ) -> Result<Vec<MigrationSummary>, EngineError> {
        use crate::names::{Role, TAG_MIGRATION, TAG_ROLE};
        // Not tied to one migration: only the retry machinery of a run is used.
        let spec = crate::spec::MigrationSpec::detached();
        let run = self.run(&spec, Duration::from_secs(5 * 60), cancel);
        let role = Role::Target.as_str();
        let found = run
            .call(Step::Observe, role, || {
                self.aws.list_db_instances_by_tag(TAG_ROLE, role)
            })
            .await?;
        let mut out: Vec<MigrationSummary> = found
            .into_iter()
            .filter_map(|t| {
                let migration = t.tags.get(TAG_MIGRATION)?.clone();
                Some(MigrationSummary {
                    migration,
                    target: t,
                })
            })
            .collect();
        out.sort_by(|a, b| a.migration.cmp(&b.migration));
        Ok(out)
    }
}

/// The resource's computed attributes, read off an [`Observed`]: one field per attribute,
/// named as in the schema. `None` = null in state.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Computed {
    /// `phase`.
    pub phase: String,
    /// `source_snapshot_identifier`.
    pub source_snapshot_identifier: Option<String>,
    /// `encrypted_snapshot_arn`.
    pub encrypted_snapshot_arn: Option<String>,
    /// `target_db_instance_arn`.
    pub target_db_instance_arn: Option<String>,
    /// `target_endpoint` ("address:port").
    pub target_endpoint: Option<String>,
    /// `replication_instance_arn`.
    pub replication_instance_arn: Option<String>,
    /// `source_endpoint_arn`.
    pub source_endpoint_arn: Option<String>,
    /// `target_endpoint_arn`.
    pub target_endpoint_arn: Option<String>,
    /// `replication_task_arn`.
    pub replication_task_arn: Option<String>,
    /// `replication_task_status`.
    pub replication_task_status: Option<String>,
    /// `full_load_progress_percent`.
    pub full_load_progress_percent: Option<i64>,
    /// `replication_lag_seconds`.
    pub replication_lag_seconds: Option<f64>,
    /// `validation_state`.
    pub validation_state: String,
    /// `active_db_instance_identifier`.
    pub active_db_instance_identifier: Option<String>,
    /// `active_endpoint` ("address:port").
    pub active_endpoint: Option<String>,
    /// `cutover_started_at` (RFC 3339 UTC).
    pub cutover_started_at: Option<String>,
    /// `cutover_completed_at` (RFC 3339 UTC).
    pub cutover_completed_at: Option<String>,
    /// `cutover_write_pause_seconds`: writes paused -> switch done.
    pub cutover_write_pause_seconds: Option<f64>,
    /// `reverse_replication_task_arn`.
    pub reverse_replication_task_arn: Option<String>,
    /// `reverse_replication_task_status`.
    pub reverse_replication_task_status: Option<String>,
    /// `reverse_replication_lag_seconds`.
    pub reverse_replication_lag_seconds: Option<f64>,
    /// `blue_green_deployment_id`.
    pub blue_green_deployment_id: Option<String>,
}

pub(super) fn host_port(h: &HostPort) -> String {
    format!("{}:{}", h.address, h.port)
}

impl Observed {
    /// The computed attributes for state.
    pub fn computed(&self) -> Computed {
        Computed {
            phase: self.phase.as_str().to_owned(),
            source_snapshot_identifier: self.source_snapshot_identifier(),
            encrypted_snapshot_arn: self.encrypted_snapshot_arn(),
            target_db_instance_arn: self.target.as_ref().map(|t| t.arn.clone()),
            target_endpoint: self.target_address().map(host_port),
            replication_instance_arn: self.replication_instance.as_ref().map(|r| r.arn.clone()),
            source_endpoint_arn: self.source_endpoint.as_ref().map(|e| e.arn.clone()),
            target_endpoint_arn: self.target_endpoint.as_ref().map(|e| e.arn.clone()),
            replication_task_arn: self.task.as_ref().map(|t| t.arn.clone()),
            replication_task_status: self.task_status().map(|s| s.as_str().to_owned()),
            full_load_progress_percent: self.full_load_progress_percent().map(i64::from),
            replication_lag_seconds: self.replication_lag_seconds(),
            validation_state: self.validation.to_string(),
            active_db_instance_identifier: self.active_db_instance_identifier().map(str::to_owned),
            active_endpoint: self.active_endpoint().map(host_port),
            cutover_started_at: self.cutover.started_at_rfc3339(),
            cutover_completed_at: self.cutover.completed_at_rfc3339(),
            cutover_write_pause_seconds: self.cutover.write_pause_seconds(),
            reverse_replication_task_arn: self.reverse_task.as_ref().map(|t| t.arn.clone()),
            reverse_replication_task_status: self
                .reverse_task
                .as_ref()
                .map(|t| t.status.as_str().to_owned()),
            reverse_replication_lag_seconds: crate::checks::larger_lag(&self.reverse_lag),
            blue_green_deployment_id: self.blue_green.as_ref().map(|d| d.identifier.clone()),
        }
    }

    /// `source_snapshot_identifier`: the snapshot read, else the one a refresh kept.
    pub fn source_snapshot_identifier(&self) -> Option<String> {
        match (&self.source_snapshot, &self.kept_snapshots) {
            (Some(s), _) => Some(s.identifier.clone()),
            (None, Some(k)) => Some(k.source_snapshot_identifier.clone()),
            (None, None) => None,
        }
    }

    /// `encrypted_snapshot_arn`: the copy read, else the one a refresh kept.
    pub fn encrypted_snapshot_arn(&self) -> Option<String> {
        match (&self.encrypted_snapshot, &self.kept_snapshots) {
            (Some(s), _) => Some(s.arn.clone()),
            (None, Some(k)) => Some(k.encrypted_snapshot_arn.clone()),
            (None, None) => None,
        }
    }

    /// The ids to pass back as [`KnownIds`] next time (what state records).
    pub fn known_ids(&self) -> KnownIds {
        KnownIds {
            recorded_phase: Some(self.phase),
            replication_instance_arn: self.replication_instance.as_ref().map(|r| r.arn.clone()),
            source_endpoint_arn: self.source_endpoint.as_ref().map(|e| e.arn.clone()),
            target_endpoint_arn: self.target_endpoint.as_ref().map(|e| e.arn.clone()),
            replication_task_arn: self.task.as_ref().map(|t| t.arn.clone()),
            blue_green_deployment_id: self.blue_green.as_ref().map(|d| d.identifier.clone()),
            source_snapshot_identifier: self.source_snapshot_identifier(),
            encrypted_snapshot_arn: self.encrypted_snapshot_arn(),
        }
    }
}
