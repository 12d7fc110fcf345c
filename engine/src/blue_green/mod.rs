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
use super::spec::{MigrationSpec, Phase, Strategy};
use super::teardown::TeardownOutcome;
use super::waiters::{self, *};

mod checks;
mod run;
mod switchover;

pub use checks::*;

/// Object kind used in messages for blue/green deployments.
pub(crate) const KIND_BLUE_GREEN: &str = "RDS Blue/Green Deployment";
/// RDS's default `SwitchoverTimeout`, in seconds.
pub(crate) const DEFAULT_SWITCHOVER_TIMEOUT_SECONDS: i32 = 300;
/// The smallest `SwitchoverTimeout` RDS accepts, in seconds.
pub(crate) const MIN_SWITCHOVER_TIMEOUT_SECONDS: i32 = 30;
/// What RDS appends to a blue instance's name at switchover.
pub const OLD_SUFFIX: &str = "-old1";

const REPLICA_KEYS: &str = "blue_green.replica_kms_key_ids";

// ---------------------------------------------------------------------------------------------
// Waiters
// ---------------------------------------------------------------------------------------------

/// The create wait's view of the deployment and its green instances.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GreenWait {
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
}

impl Run<'_> {
    /// Failback for blue/green: a no-op before the switchover, refused after it (RDS has no
    /// way back). Nothing changes in AWS.
    pub(crate) async fn blue_green_failback(&self, known: &KnownIds) -> Result<(), EngineError> {
        let o = Box::pin(self.observe(known)).await?;
        blue_green_failback_refusal(self.spec, &o).map_or(Ok(()), Err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blue_green_engine_support_follows_the_rds_minimum_versions() {
        assert!(blue_green_engine_support(&DbEngine::Mysql, "8.0.36").is_ok());
        assert!(blue_green_engine_support(&DbEngine::Mysql, "5.6.51").is_err());
        assert!(blue_green_engine_support(&DbEngine::Postgres, "11.1").is_ok());
    }

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
            fence_hold: Duration::from_secs(60),
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
