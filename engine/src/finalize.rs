//! Finalize (`finalize = true`, only when cut over): remove the DMS scaffolding (both tasks,
//! every endpoint, the managed replication instance and subnet group) and retire the
//! original instance as `retire_source` says. The encrypted instance and the intermediate
//! snapshots stay (teardown removes the snapshots).

use super::api::*;
use super::core::{Run, with_status};
use super::cutover::{
    CutoverSpec, RetireSource, TAG_PHASE, WriteFence, source_final_snapshot_name,
};
use super::error::{EngineError, Step};
use super::observe::{KnownIds, Observed};
use super::spec::{MigrationSpec, Phase};
use super::teardown::TeardownOutcome;
use super::waiters::WAIT_STOPPED;

fn refused(attribute: &'static str, reasons: Vec<String>) -> EngineError {
    EngineError::Refused {
        attribute,
        action: "finalize",
        reasons,
    }
}

/// [`describe_finalize`](crate::describe_finalize) for the DMS strategy.
pub(crate) fn describe_dms_finalize(
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
    let mut deleted: Vec<String> = o
        .tasks()
        .map(|t| format!("DMS Replication Task {}", t.identifier))
        .collect();
    deleted.extend(
        o.endpoints()
            .map(|e| format!("DMS Endpoint {}", e.identifier)),
    );
    if let (Some(ri), true) = (&o.replication_instance, o.replication_instance_managed) {
        deleted.push(format!("DMS Replication Instance {}", ri.identifier));
    }
    let source = o
        .source
        .as_ref()
        .map_or(n.migration.as_str(), |s| s.identifier.as_str());
    let mut out = vec![format!(
        "Finalize deletes {}. Failback becomes impossible afterwards.",
        if deleted.is_empty() {
            "no DMS objects (none left)".to_owned()
        } else {
            deleted.join(", ")
        }
    )];
    let read_only = if cut.write_fence == WriteFence::ReadOnly
        && cut.retire_source != RetireSource::SnapshotAndDelete
    {
        " It stays read-only (write_fence = \"read_only\"): a write from a stale connection fails instead of being lost."
    } else {
        ""
    };
    out.push(match cut.retire_source {
        RetireSource::Keep => format!(
            "The original instance {source} is kept running (retire_source = \"keep\"), with its security groups restored.{read_only}"
        ),
        RetireSource::Stop => format!(
            "The original instance {source} is stopped (retire_source = \"stop\"); AWS starts stopped instances again after 7 days.{read_only}"
        ),
        RetireSource::SnapshotAndDelete => format!(
            "The original instance {source} is DELETED after a final snapshot {} (retire_source = \"snapshot_and_delete\"); deletion protection is respected, never turned off.",
            source_final_snapshot_name(&n)
        ),
    });
    out.push(format!(
        "Kept: the encrypted instance {} and the migration snapshots (removed on destroy).",
        o.target
            .as_ref()
            .map_or(n.target.as_str(), |t| t.identifier.as_str())
    ));
    out
}

impl Run<'_> {
    pub(crate) async fn finalize(
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
                    vec![format!(
                        "the migration is in phase {p}; finalize needs a completed cutover (cutover = true, phase cut_over)"
                    )],
                ));
            }
        }
        let source = o.source.clone();
        self.check_retire(source.as_ref(), cut.retire_source)
            .await?;
        let target = self.require_target(&o)?;
        if o.phase == Phase::CutOver {
            self.record(
                &target,
                &[(TAG_PHASE, Phase::Finalizing.as_str().to_owned())],
            )
            .await?;
        }

        let mut out = TeardownOutcome::default();
        Box::pin(self.delete_dms(&o, &mut out)).await;
        if let Some(e) = out.errors.into_iter().next() {
            return Err(e);
        }
        for d in &out.deleted {
            self.emit(Phase::Finalizing, Step::DeleteTask, d, None, "deleted");
        }

        if let Some(s) = &source {
            // The retired source stays read-only: a stale connection's write would be lost.
            // The reverse task, which needed it writable on MySQL/MariaDB, is gone by now.
            if cut.write_fence == WriteFence::ReadOnly
                && cut.retire_source != RetireSource::SnapshotAndDelete
            {
                self.fence(&cut.write_fence, s, Phase::Finalizing).await?;
            }
            self.retire(s, cut.retire_source).await?;
        }
        let target = self.require_target(&Box::pin(self.observe(known)).await?)?;
        self.record_finalized(&target).await
    }

    /// Records `finalized` on the encrypted instance (the last finalize step).
    pub(crate) async fn record_finalized(&self, target: &DbInstance) -> Result<(), EngineError> {
        self.record(target, &[(TAG_PHASE, Phase::Finalized.as_str().to_owned())])
            .await?;
        self.emit(
            Phase::Finalized,
            Step::RecordPhase,
            &target.identifier,
            None,
            "finalized",
        );
        Ok(())
    }

    /// Refuses, before anything changes, a `snapshot_and_delete` of a source with deletion
    /// protection or whose final snapshot name is taken.
    pub(crate) async fn check_retire(
        &self,
        source: Option<&DbInstance>,
        how: RetireSource,
    ) -> Result<(), EngineError> {
        if how == RetireSource::SnapshotAndDelete
            && let Some(s) = source
            && s.status != DbInstanceStatus::Deleting
        {
            if s.deletion_protection {
                return Err(refused(
                    "retire_source",
                    vec![format!(
                        "the original instance {} has deletion protection enabled; disable it yourself or use retire_source = \"stop\" or \"keep\" (the provider never turns it off)",
                        s.identifier
                    )],
                ));
            }
            let snap = source_final_snapshot_name(&self.names);
            if self
                .find(Step::RetireSource, &snap, || {
                    self.aws().describe_db_snapshot(&snap)
                })
                .await?
                .is_some()
            {
                return Err(refused(
                    "retire_source",
                    vec![format!(
                        "the final snapshot name {snap} is taken by an existing RDS DB Snapshot"
                    )],
                ));
            }
        }
        Ok(())
    }

    pub(crate) async fn retire(
        &self,
        s: &DbInstance,
        how: RetireSource,
    ) -> Result<(), EngineError> {
        let aws = self.aws();
        match how {
            RetireSource::Keep => self.lift_security_groups(s, Phase::Finalizing).await,
            RetireSource::Stop => {
                self.lift_security_groups(s, Phase::Finalizing).await?;
                let id = s.identifier.clone();
                let cur = self
                    .find(Step::RetireSource, &id, || aws.describe_db_instance(&id))
                    .await?;
                let fresh = match cur.map(|c| c.status) {
                    None | Some(DbInstanceStatus::Stopped) => return Ok(()),
                    Some(DbInstanceStatus::Stopping) => false,
                    Some(_) => {
                        self.call(Step::RetireSource, &id, || aws.stop_db_instance(&id))
                            .await?;
                        true
                    }
                };
                self.wait(
                    &WAIT_STOPPED,
                    &id,
                    fresh,
                    || async {
                        with_status(aws.describe_db_instance(&id).await, |i| i.status.clone())
                    },
                    |_| None,
                    |_| None,
                )
                .await?;
                Ok(())
            }
            RetireSource::SnapshotAndDelete => {
                if s.status == DbInstanceStatus::Deleting {
                    return Ok(());
                }
                let input = DeleteDbInstanceInput {
                    db_instance_identifier: s.identifier.clone(),
                    final_snapshot: FinalSnapshot::Take(source_final_snapshot_name(&self.names)),
                    delete_automated_backups: false,
                };
                match self
                    .call(Step::RetireSource, &s.identifier, || {
                        aws.delete_db_instance(&input)
                    })
                    .await
                {
                    Ok(()) => Ok(()),
                    Err(EngineError::Aws { source, .. }) if source.is_not_found() => Ok(()),
                    Err(e) => Err(e),
                }
            }
        }
    }
}
