//! Destroy: tolerant and best-effort. It tolerates earlier phases never having run,
//! continues past failures and returns every error. It never touches the source, and
//! deletes the target only when asked to and while it is not serving traffic.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::api::*;
use super::core::{Engine, Run, Waiter, with_status};
use super::error::{EngineError, Step};
use super::observe::{KnownIds, Observed};
use super::reconcile::subnet_group_description;
use super::spec::{MigrationSpec, Phase};
use super::waiters::*;

/// What teardown did.
#[derive(Debug, Clone, PartialEq, Default)]
#[must_use]
pub struct TeardownOutcome {
    /// Objects deleted (or whose deletion started), as "kind (id)".
    pub deleted: Vec<String>,
    /// Objects deliberately left in place, with the reason (the lead may show these as
    /// warnings).
    pub kept: Vec<String>,
    /// Every failure; teardown went on past each one.
    pub errors: Vec<EngineError>,
}

impl TeardownOutcome {
    /// True when nothing failed.
    pub fn is_ok(&self) -> bool {
        self.errors.is_empty()
    }
}

fn none<T>(_: &T) -> Option<i32> {
    None
}

/// `Ok(())` when the object is already gone.
fn gone_ok(r: Result<(), EngineError>) -> Result<(), EngineError> {
    match r {
        Err(EngineError::Aws { source, .. }) if source.is_not_found() => Ok(()),
        other => other,
    }
}

impl Engine {
    /// Removes what the migration made, in dependency order: stop task -> delete task (wait
    /// gone) -> endpoints -> managed replication instance (wait gone) -> managed subnet group
    /// -> read replica -> target (only if `delete_target_on_destroy`, not serving, with a
    /// final snapshot unless `skip_final_snapshot`) -> the snapshots it took. Reads the
    /// current state first, so a stale `known` loses nothing.
    ///
    /// **Guarantees**: never deletes the source; never deletes an object without the
    /// migration's tags; never turns deletion protection off (that is an error).
    pub async fn teardown(
        &self,
        spec: &MigrationSpec,
        known: &KnownIds,
        timeout: Duration,
        cancel: &CancellationToken,
    ) -> TeardownOutcome {
        let run = self.run(spec, timeout, cancel);
        let mut out = TeardownOutcome::default();
        match run.observe(known).await {
            Ok(o) => run.ops().teardown(&run, &o, &mut out).await,
            Err(e) => out.errors.push(e),
        }
        out
    }
}

impl Run<'_> {
    /// Deletes the DMS objects the migration made (both tasks, every endpoint, the managed
    /// replication instance and subnet group), going on past failures. Teardown and
    /// finalize share it.
    pub(crate) async fn delete_dms(&self, o: &Observed, out: &mut TeardownOutcome) {
        let aws = self.aws();
        let record = |out: &mut TeardownOutcome, what: String, r: Result<(), EngineError>| match r {
            Ok(()) => out.deleted.push(what),
            Err(e) => out.errors.push(e),
        };
        // Both directions: the reverse task exists once a cutover happened.
        for t in o.tasks() {
            let r = self.delete_task(t, Phase::Finalizing).await;
            record(out, format!("DMS Replication Task ({})", t.identifier), r);
        }
        for ep in o.endpoints() {
            let r = gone_ok(
                self.call(Step::DeleteEndpoint, &ep.identifier, || {
                    aws.delete_endpoint(&ep.arn)
                })
                .await,
            );
            record(out, format!("DMS Endpoint ({})", ep.identifier), r);
        }
        match (&o.replication_instance, o.replication_instance_managed) {
            (Some(ri), true) => {
                let r = self.delete_replication_instance(ri).await;
                record(out, format!("DMS Replication Instance ({})", ri.identifier), r);
            }
            (Some(ri), false) => out.kept.push(format!(
                "DMS Replication Instance ({}): given in dms.replication_instance_arn, not managed by the migration",
                ri.identifier
            )),
            (None, _) => {}
        }
        if let Some(g) = &o.replication_subnet_group {
            if g.description == subnet_group_description(&self.names.migration) {
                let r = gone_ok(
                    self.call(Step::DeleteSubnetGroup, &g.identifier, || {
                        aws.delete_replication_subnet_group(&g.identifier)
                    })
                    .await,
                );
                record(
                    out,
                    format!("DMS Replication Subnet Group ({})", g.identifier),
                    r,
                );
            } else {
                out.kept.push(format!(
                    "DMS Replication Subnet Group ({}): not created by the migration",
                    g.identifier
                ));
            }
        }
    }

    pub(crate) async fn teardown(&self, o: &Observed, out: &mut TeardownOutcome) {
        let aws = self.aws();
        let record = |out: &mut TeardownOutcome, what: String, r: Result<(), EngineError>| match r {
            Ok(()) => out.deleted.push(what),
            Err(e) => out.errors.push(e),
        };
        self.delete_dms(o, out).await;
        if let Some(r) = &o.read_replica
            && r.status != DbInstanceStatus::Deleting
        {
            // A replica holds only a copy of the source's data: no final snapshot.
            let input = DeleteDbInstanceInput {
                db_instance_identifier: r.identifier.clone(),
                final_snapshot: FinalSnapshot::Skip,
                delete_automated_backups: true,
            };
            let res = gone_ok(
                self.call(Step::DeleteInstance, &r.identifier, || {
                    aws.delete_db_instance(&input)
                })
                .await,
            );
            record(out, format!("RDS DB Instance ({})", r.identifier), res);
        }
        if let Some(t) = &o.target {
            self.teardown_target(o, t, out).await;
        }
        for s in [&o.source_snapshot, &o.encrypted_snapshot]
            .into_iter()
            .flatten()
        {
            let r = gone_ok(
                self.call(Step::DeleteSnapshot, &s.identifier, || {
                    aws.delete_db_snapshot(&s.identifier)
                })
                .await,
            );
            record(out, format!("RDS DB Snapshot ({})", s.identifier), r);
        }
        if let Some(s) = &o.source {
            out.kept.push(format!(
                "RDS DB Instance ({}): the source is never deleted",
                s.identifier
            ));
            // A destroy while cut over leaves the write fence on: lifting it would let the
            // application write to the stale original.
            if let Some(sgs) = s
                .tags
                .get(super::cutover::TAG_ORIGINAL_SGS)
                .filter(|v| !v.is_empty())
            {
                out.kept.push(format!(
                    "RDS DB Instance ({}): still fenced by the cutover; its original security groups were {}",
                    s.identifier,
                    sgs.split_whitespace().collect::<Vec<_>>().join(", ")
                ));
            }
        }
    }

    async fn teardown_target(&self, o: &Observed, t: &DbInstance, out: &mut TeardownOutcome) {
        let what = format!("RDS DB Instance ({})", t.identifier);
        if !self.spec.delete_target_on_destroy {
            out.kept
                .push(format!("{what}: delete_target_on_destroy is false"));
            return;
        }
        if o.phase.target_may_serve() {
            out.kept.push(format!(
                "{what}: it may be serving traffic (phase {}), so it is kept despite delete_target_on_destroy",
                o.phase
            ));
            return;
        }
        if t.status == DbInstanceStatus::Deleting {
            out.deleted.push(what);
            return;
        }
        if t.deletion_protection {
            out.errors.push(EngineError::DeletionProtected {
                id: t.identifier.clone(),
            });
            return;
        }
        let input = DeleteDbInstanceInput {
            db_instance_identifier: t.identifier.clone(),
            final_snapshot: if self.spec.skip_final_snapshot {
                FinalSnapshot::Skip
            } else {
                FinalSnapshot::Take(self.names.target_final_snapshot.clone())
            },
            delete_automated_backups: false,
        };
        let r = gone_ok(
            self.call(Step::DeleteInstance, &t.identifier, || {
                self.aws().delete_db_instance(&input)
            })
            .await,
        );
        match r {
            Ok(()) => out.deleted.push(what),
            Err(e) => out.errors.push(e),
        }
    }

    /// Stops the task and waits until it is stopped; `phase` labels the progress reports.
    pub(crate) async fn stop_task(
        &self,
        t: &ReplicationTask,
        phase: Phase,
    ) -> Result<(), EngineError> {
        let waiter = Waiter {
            phase,
            ..WAIT_TASK_STOPPED
        };
        let aws = self.aws();
        let fresh = matches!(
            t.status,
            ReplicationTaskStatus::Running | ReplicationTaskStatus::Starting
        );
        if fresh {
            self.call(Step::StopTask, &t.identifier, || {
                aws.stop_replication_task(&t.arn)
            })
            .await?;
        }
        let which = DmsRef::Arn(t.arn.clone());
        self.wait_task(&waiter, &t.identifier, &which, fresh)
            .await?;
        Ok(())
    }

    /// Stops (if needed) and deletes the task, and waits until it is gone.
    pub(crate) async fn delete_task(
        &self,
        t: &ReplicationTask,
        phase: Phase,
    ) -> Result<(), EngineError> {
        let aws = self.aws();
        if t.status != ReplicationTaskStatus::Deleting {
            self.stop_task(t, phase).await?;
            gone_ok(
                self.call(Step::DeleteTask, &t.identifier, || {
                    aws.delete_replication_task(&t.arn)
                })
                .await,
            )?;
        }
        let which = DmsRef::Arn(t.arn.clone());
        let w = Waiter {
            phase,
            ..WAIT_TASK_GONE
        };
        self.wait_task(&w, &t.identifier, &which, true).await?;
        Ok(())
    }

    async fn delete_replication_instance(
        &self,
        ri: &ReplicationInstance,
    ) -> Result<(), EngineError> {
        let aws = self.aws();
        let which = DmsRef::Arn(ri.arn.clone());
        if matches!(
            ri.status,
            ReplicationInstanceStatus::Creating | ReplicationInstanceStatus::Modifying
        ) {
            // DMS refuses to delete an instance mid-create; let it settle first.
            self.wait(
                &WAIT_REPLICATION_INSTANCE,
                &ri.identifier,
                false,
                || async {
                    with_status(aws.describe_replication_instance(&which).await, |r| {
                        r.status.clone()
                    })
                },
                none,
                |_| None,
            )
            .await?;
        }
        if ri.status != ReplicationInstanceStatus::Deleting {
            gone_ok(
                self.call(Step::DeleteReplicationInstance, &ri.identifier, || {
                    aws.delete_replication_instance(&ri.arn)
                })
                .await,
            )?;
        }
        self.wait(
            &WAIT_INSTANCE_GONE,
            &ri.identifier,
            true,
            || async {
                with_status(aws.describe_replication_instance(&which).await, |r| {
                    r.status.clone()
                })
            },
            none,
            |_| None,
        )
        .await?;
        Ok(())
    }
}
