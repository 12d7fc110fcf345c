//! `rdsenc_migration`: the runbook as one resource. This module is glue: Terraform values in,
//! the engine does the work, computed attributes out. Every engine failure becomes a
//! diagnostic here, in one place ([`engine_diagnostic`]).

pub mod convert;
pub mod schema;
pub mod validate;

use async_trait::async_trait;

use crate::engine::api::AwsApi;
use crate::engine::names::Names;
use crate::engine::{
    Engine, EngineError, EngineFailure, KnownIds, Observed, Phase, Strategy, ValidationSummary,
    describe_cutover, describe_failback, describe_finalize,
};
use crate::framework::{
    ApplyRequest, ApplyResponse, AttributePath, Ctx, DeleteRequest, Diagnostics, ImportRequest,
    ImportResponse, Known, PlanRequest, PlanResponse, ReadRequest, ReadResponse, Resource, Schema,
    ValidateRequest, ValidateResponse, Value,
};
use crate::provider::ProviderData;
use convert::{cutover_spec_from, dms_change, known_ids, set_observed, spec_from, timeout};

/// Computed attributes that move while a migration runs; unknown in any plan that changes it.
const VOLATILE: &[&str] = &[
    "replication_task_status",
    "full_load_progress_percent",
    "replication_lag_seconds",
    "validation_state",
];

/// Computed attributes that name AWS objects; unknown when a plan may create them.
const OBJECT_IDS: &[&str] = &[
    "source_snapshot_identifier",
    "encrypted_snapshot_arn",
    "kms_key_arn",
    "target_db_instance_arn",
    "target_endpoint",
    "replication_instance_arn",
    "source_endpoint_arn",
    "target_endpoint_arn",
    "replication_task_arn",
    "active_endpoint",
];

/// Computed attributes a cutover, failback or finalize changes.
const SWITCHED: &[&str] = &[
    "phase",
    "active_db_instance_identifier",
    "active_endpoint",
    "target_db_instance_arn",
    "target_endpoint",
    "cutover_started_at",
    "cutover_completed_at",
    "cutover_write_pause_seconds",
    "reverse_replication_task_arn",
    "reverse_replication_task_status",
    "reverse_replication_lag_seconds",
    "replication_instance_arn",
    "source_endpoint_arn",
    "target_endpoint_arn",
    "replication_task_arn",
    "blue_green_deployment_id",
];

/// Computed attributes only the DMS strategy sets: with blue/green the plan shows them as
/// they are (null), not as "known after apply", so the plan reads as the blue/green runbook.
const DMS_ONLY: &[&str] = &[
    "source_snapshot_identifier",
    "encrypted_snapshot_arn",
    "replication_instance_arn",
    "source_endpoint_arn",
    "target_endpoint_arn",
    "replication_task_arn",
    "replication_task_status",
    "full_load_progress_percent",
    "replication_lag_seconds",
    "reverse_replication_task_arn",
    "reverse_replication_task_status",
    "reverse_replication_lag_seconds",
];

/// Arguments that say how to switch: fixed while cut over (fail back first).
const SWITCH_SETTINGS: &[&str] = &[
    "cutover_strategy",
    "route53",
    "write_fence",
    "fence_security_group_ids",
];

fn flag(v: &Value, name: &str) -> bool {
    v.get(name).as_bool().value().unwrap_or(false)
}

/// `strategy = "blue_green"` in a planned state or configuration.
fn is_blue_green(v: &Value) -> bool {
    v.get("strategy").as_str().value() == Some(Strategy::BlueGreen.as_str())
}

fn phase_of(v: &Value) -> Option<Phase> {
    v.get("phase")
        .as_str()
        .value()
        .and_then(|s| s.parse::<Phase>().ok())
}

/// `dms` arguments whose change needs a new replication task (and so a new migration).
const DMS_REPLACING: &[&str] = &[
    "replication_instance_arn",
    "replication_instance_class",
    "replication_instance_allocated_storage",
    "replication_subnet_group_id",
    "vpc_security_group_ids",
    "source_from_read_replica",
    "source_read_replica_identifier",
    "migration_type",
    "cdc_start_position",
];

/// The `rdsenc_migration` resource.
#[derive(Debug, Clone, Copy, Default)]
pub struct MigrationResource;

fn engine(ctx: &Ctx, diags: &mut Diagnostics) -> Option<Engine> {
    let Some(data) = ctx.data::<ProviderData>() else {
        diags.error(
            "Provider Not Configured",
            "The rdsenc provider was not configured before rdsenc_migration was used. This is \
             always a problem with the provider and should be reported.",
        );
        return None;
    };
    Some(data.engine.clone())
}

/// The one place engine errors become diagnostics: title-case summary, the error with its
/// step and cause, and the attribute when the error concerns one.
pub fn engine_diagnostic(e: &EngineError, diags: &mut Diagnostics) {
    let detail = e.detail();
    match e.attribute() {
        Some(a) => diags.attribute_error(AttributePath::parse(a), e.summary(), detail),
        None => diags.error(e.summary(), detail),
    }
}

/// Records an engine outcome in `state`. After a failure, state records what exists (so
/// nothing is orphaned and the next apply adopts it). For an update, `prior` is the state
/// before it: a failed update keeps the prior arguments (so the next plan proposes the change
/// again) with the observed values on top, or the prior state as it was when even observing
/// failed.
fn record(
    state: &mut Value,
    result: Result<Observed, Box<EngineFailure>>,
    prior: Option<&Value>,
    diags: &mut Diagnostics,
) {
    match result {
        Ok(o) => set_observed(state, &o),
        Err(f) => {
            if let Some(prior) = prior {
                *state = prior.clone();
            }
            if f.observed_ok {
                set_observed(state, &f.observed);
            }
            engine_diagnostic(&f.error, diags);
        }
    }
}

fn set_unknown(v: &mut Value, names: &[&str]) {
    for n in names {
        v.set(n, Value::Unknown);
    }
}

fn default_if_unset(block: &mut Value, name: &str, default: Value) {
    if block.get(name).is_unknown() || block.get(name).is_null() {
        block.set(name, default);
    }
}

impl MigrationResource {
    /// Plans a cutover, failback or finalize (or refuses one). Returns true when the plan
    /// switches, so the caller skips the create-path planning.
    async fn plan_switch(
        &self,
        ctx: &Ctx,
        prior: &Value,
        planned: &mut Value,
        diags: &mut Diagnostics,
    ) -> bool {
        let p = AttributePath::attr;
        let prior_phase = phase_of(prior).unwrap_or_default();
        let (was_cut, was_fin) = (flag(prior, "cutover"), flag(prior, "finalize"));
        let (cut_v, fin_v) = (
            planned.get("cutover").as_bool(),
            planned.get("finalize").as_bool(),
        );
        if cut_v.is_unknown() || fin_v.is_unknown() {
            set_unknown(planned, SWITCHED);
            return true;
        }
        let (want_cut, want_fin) = (
            cut_v.value().unwrap_or(false),
            fin_v.value().unwrap_or(false),
        );
        if matches!(prior_phase, Phase::Finalized | Phase::Finalizing) || was_fin {
            if !want_cut {
                diags.attribute_error(
                    p("cutover"),
                    "Failback Impossible After Finalize",
                    "The migration is finalized: its DMS tasks, including the reverse task that kept the \
                     source in sync, are gone, so the source is stale. Keep cutover = true.",
                );
            }
            if !want_fin {
                diags.attribute_error(
                    p("finalize"),
                    "Finalize Cannot Be Undone",
                    "The migration's replication was removed at finalize; keep finalize = true.",
                );
            }
        }
        let blue_green = is_blue_green(planned);
        if blue_green && was_cut && !want_cut {
            let source = planned
                .get("source_db_instance_identifier")
                .as_str()
                .value()
                .unwrap_or_default();
            let old = crate::engine::blue_green::old_name(source);
            diags.attribute_error(
                p("cutover"),
                "Failback Not Available With Blue/Green",
                crate::engine::blue_green::blue_green_failback_reasons(&old).join("; "),
            );
            return true;
        }
        let transitional = matches!(
            prior_phase,
            Phase::CuttingOver | Phase::FailingBack | Phase::Finalizing
        );
        if was_cut && !transitional {
            for n in SWITCH_SETTINGS {
                if !prior.get(n).semantic_eq(planned.get(n)) {
                    diags.attribute_error(
                        p(n),
                        "Switch Settings Fixed While Cut Over",
                        format!(
                            "`{n}` says how traffic was switched; it cannot change while cut over. \
                             Fail back first (cutover = false), or revert it."
                        ),
                    );
                }
            }
        }
        let switching = want_cut != was_cut || want_fin != was_fin || transitional;
        if !prior_phase.is_create_path() && dms_change(prior, planned).task {
            diags.attribute_error(
                p("dms"),
                "DMS Task Settings Fixed After Replicating",
                "table_mappings, target_table_prep_mode and validation describe the forward load; \
                 after cutover the forward task is stopped and the reverse task mirrors them. Change \
                 them while replicating (fail back first), or revert the change. Credentials can \
                 still be rotated.",
            );
        }
        if !switching {
            return false;
        }
        if !dms_change(prior, planned).is_empty() {
            diags.attribute_error(
                p("dms"),
                "DMS Settings And Switch Together",
                "Change the DMS settings and cutover/finalize in separate applies: task settings \
                 change on a replicating migration, the switch happens on a settled one.",
            );
        }
        set_unknown(planned, SWITCHED);
        let to = if want_fin {
            Phase::Finalized
        } else if want_cut {
            Phase::CutOver
        } else {
            Phase::Replicating
        };
        planned.set("phase", Value::string(to.as_str()));
        if diags.has_error() {
            return true;
        }
        // The plan is the change-review artifact: say what will happen, from the latest state.
        let mut d = Diagnostics::new();
        let (Some(engine), Ok(spec)) = (engine(ctx, &mut d), spec_from(planned, None)) else {
            return true;
        };
        let cut = match cutover_spec_from(planned, &spec) {
            Ok(c) => c,
            Err(d) => {
                diags.append(d);
                return true;
            }
        };
        let observed = match engine.observe(&spec, &known_ids(prior), &ctx.cancel).await {
            Ok(o) => o,
            Err(e) => {
                diags.warning(
                    "Could Not Read The Migration",
                    format!("The plan cannot describe the switch: {e}"),
                );
                return true;
            }
        };
        let (summary, mut lines) = if want_cut && !was_cut {
            (
                "Cutover: Traffic Moves To The Encrypted Instance",
                describe_cutover(&spec, &cut, &observed),
            )
        } else if !want_cut && was_cut {
            (
                "Failback: Traffic Moves Back To The Source",
                describe_failback(&spec, &cut, &observed),
            )
        } else if want_fin {
            (
                "Finalize: Replication Is Removed",
                describe_finalize(&spec, &cut, &observed),
            )
        } else {
            (
                "Migration Will Complete A Switch",
                vec![format!(
                    "The last switch stopped in phase {prior_phase}; this apply completes it."
                )],
            )
        };
        if want_cut && !was_cut && want_fin {
            lines.extend(describe_finalize(&spec, &cut, &observed));
        }
        diags.warning(summary, lines.join("\n"));
        true
    }
}

impl MigrationResource {
    /// Planning common to both strategies (the strategy-specific touch-ups follow in `plan`).
    async fn plan_any(&self, ctx: &Ctx, req: &PlanRequest, resp: &mut PlanResponse) {
        let planned = &mut resp.planned_state;
        if planned.is_null() {
            return;
        }
        let creating = req.prior_state.is_null();
        if let Some(data) = ctx.data::<ProviderData>()
            && let Some(region) = data.clients.region()
        {
            validate::validate_arn_regions(&req.config, region, &mut resp.diagnostics);
        }
        let source = planned
            .get("source_db_instance_identifier")
            .as_str()
            .value()
            .map(str::to_owned);

        // Defaults of optional+computed arguments, known at plan time so the plan reads fully.
        default_if_unset(planned, "strategy", Value::string(Strategy::Dms.as_str()));
        let blue_green = is_blue_green(planned);
        if let Some(src) = &source {
            // RDS names green instances itself; `active_db_instance_identifier` follows them.
            let target = if blue_green {
                Value::Null
            } else {
                Value::string(Names::new(src, None).target)
            };
            default_if_unset(planned, "target_db_instance_identifier", target);
            planned.set("id", Value::string(src.clone()));
        }
        default_if_unset(
            planned,
            "switchover_timeout",
            if blue_green {
                Value::int(convert::DEFAULT_SWITCHOVER_TIMEOUT_SECONDS)
            } else {
                Value::Null
            },
        );
        default_if_unset(planned, "delete_target_on_destroy", Value::Bool(false));
        default_if_unset(planned, "skip_target_final_snapshot", Value::Bool(false));
        let mut dms = planned.get("dms").clone();
        if !dms.is_null() && !dms.is_unknown() {
            let managed = dms.get("replication_instance_arn").is_null();
            let class = if managed {
                Value::string(crate::engine::reconcile::DEFAULT_REPLICATION_INSTANCE_CLASS)
            } else {
                Value::Null
            };
            let storage = if managed {
                Value::int(crate::engine::reconcile::DEFAULT_REPLICATION_INSTANCE_STORAGE.into())
            } else {
                Value::Null
            };
            default_if_unset(&mut dms, "replication_instance_class", class);
            default_if_unset(&mut dms, "replication_instance_allocated_storage", storage);
            default_if_unset(&mut dms, "source_from_read_replica", Value::Bool(false));
            default_if_unset(
                &mut dms,
                "target_table_prep_mode",
                Value::string("TRUNCATE_BEFORE_LOAD"),
            );
            default_if_unset(
                &mut dms,
                "migration_type",
                Value::string("full-load-and-cdc"),
            );
            default_if_unset(&mut dms, "validation", Value::Bool(true));
            planned.set("dms", dms);
        }
        default_if_unset(planned, "cutover", Value::Bool(false));
        default_if_unset(planned, "cutover_strategy", Value::string("none"));
        default_if_unset(planned, "write_fence", Value::string("none"));
        if !blue_green {
            // Blue/green has no DMS lag or validation: RDS guards its own switchover.
            default_if_unset(
                planned,
                "max_cutover_lag_seconds",
                Value::int(convert::DEFAULT_MAX_LAG_SECONDS),
            );
            let validation = planned.get("dms").get("validation").clone();
            default_if_unset(
                planned,
                "require_validation",
                if validation.is_null() {
                    Value::Bool(true)
                } else {
                    validation
                },
            );
        } else {
            for n in ["max_cutover_lag_seconds", "require_validation"] {
                if planned.get(n).is_unknown() {
                    planned.set(n, Value::Null);
                }
            }
        }
        default_if_unset(planned, "finalize", Value::Bool(false));
        default_if_unset(planned, "retire_source", Value::string("keep"));
        let mut r53 = planned.get("route53").clone();
        if !r53.is_null() && !r53.is_unknown() {
            default_if_unset(&mut r53, "ttl", Value::int(convert::DEFAULT_TTL));
            planned.set("route53", r53);
        }

        if creating {
            // Everything knowable before apply that would stop the migration: errors fail the
            // plan on their attribute, warnings show in it. Only on create: a running
            // migration's own target would trip the checks that guard its start.
            if let Some(data) = ctx.data::<ProviderData>() {
                let _slot = data.preflight_slot().await;
                resp.diagnostics.append(
                    crate::preflight::check_new_migration(data.clients.as_ref(), &req.config).await,
                );
            }
            if blue_green
                && source.is_some()
                && !planned.get("kms_key_id").is_unknown()
                && !planned.get("blue_green").contains_unknown()
                && let Ok(spec) = spec_from(planned, None)
                && let Some(engine) = engine(ctx, &mut Diagnostics::new())
            {
                for e in engine.blue_green_preflight(&spec, &ctx.cancel).await {
                    engine_diagnostic(&e, &mut resp.diagnostics);
                }
            }
            if flag(planned, "cutover") {
                resp.diagnostics.attribute_error(
                    AttributePath::attr("cutover"),
                    "Cutover On A New Migration",
                    "A migration is created with cutover = false and reaches replicating first; \
                     switching the application is a separate, reviewed change (flip cutover to true \
                     once the plan shows the lag and validation you expect).",
                );
            }
            // Create ends when the target replicates; the source keeps serving until cutover.
            planned.set("phase", Value::string(Phase::Replicating.as_str()));
            if let Some(src) = &source {
                planned.set("active_db_instance_identifier", Value::string(src.clone()));
            }
            return;
        }

        let prior = &req.prior_state;
        // Nothing to change: the plan stays empty, whatever a refresh brought. Unless an
        // earlier apply stopped part-way (a create before `replicating`, or a switch): then
        // this plan must propose finishing it, or the migration would stay stuck.
        let unfinished = phase_of(prior).is_some_and(|ph| {
            (ph.is_create_path() && ph != Phase::Replicating)
                || matches!(
                    ph,
                    Phase::CuttingOver | Phase::FailingBack | Phase::Finalizing
                )
        });
        if planned.semantic_eq(prior) && !unfinished {
            return;
        }
        let p = |n: &str| AttributePath::attr(n);
        // Any update re-reads progress: its values after apply cannot be promised now.
        set_unknown(planned, VOLATILE);
        if self
            .plan_switch(ctx, prior, planned, &mut resp.diagnostics)
            .await
        {
            return;
        }
        for n in DMS_REPLACING {
            if !prior
                .get("dms")
                .get(n)
                .semantic_eq(planned.get("dms").get(n))
            {
                resp.requires_replace.push(p("dms").at(n));
            }
        }
        for (name, why) in [
            ("target", "is applied when the encrypted target is restored"),
            (
                "blue_green",
                "is applied when the blue/green deployment is created",
            ),
            (
                "tags",
                "is applied to the AWS objects when they are created",
            ),
        ] {
            let unchanged = prior.get(name).semantic_eq(planned.get(name))
                || planned.get(name).contains_unknown()
                || (name == "blue_green"
                    && same_keys_by_other_names(ctx, prior.get(name), planned.get(name)).await);
            if !unchanged {
                resp.diagnostics.attribute_error(
                    p(name),
                    "Setting Cannot Change After Creation",
                    format!(
                        "`{name}` {why}; changing it on an existing migration would not change \
                         those objects. Revert the change, or change the instance itself \
                         (e.g. with aws_db_instance) once the migration is finalized."
                    ),
                );
            }
        }

        let prior_phase = prior
            .get("phase")
            .as_str()
            .value()
            .and_then(|s| s.parse::<Phase>().ok());
        let resuming =
            prior_phase.is_some_and(|ph| ph.is_create_path() && ph != Phase::Replicating);
        let changes = dms_change(prior, planned);
        if resuming {
            // An earlier apply stopped before `replicating` (timeout, interruption): this
            // apply continues it, so the plan says where it will end.
            planned.set("phase", Value::string(Phase::Replicating.as_str()));
            set_unknown(planned, VOLATILE);
            for n in OBJECT_IDS {
                if planned.get(n).is_null() {
                    planned.set(n, Value::Unknown);
                }
            }
            resp.diagnostics.warning(
                "Migration Will Resume",
                format!(
                    "The migration of {} stopped in phase {}. This apply continues it until the \
                     target is replicating; objects made earlier are adopted, none is made twice.",
                    source.as_deref().unwrap_or("?"),
                    prior_phase.map_or("?", Phase::as_str)
                ),
            );
        } else if !changes.is_empty() {
            set_unknown(planned, VOLATILE);
            let mut what = Vec::new();
            if changes.task {
                what.push(
                    "the replication task settings (the task is stopped, modified and resumed)",
                );
            }
            if changes.source_endpoint {
                what.push("the source endpoint credentials");
            }
            if changes.target_endpoint {
                what.push("the target endpoint credentials");
            }
            resp.diagnostics.warning(
                "DMS Settings Will Change",
                format!(
                    "This apply changes {}. CDC pauses briefly and resumes from its checkpoint.",
                    what.join(" and ")
                ),
            );
        }

        // kms_key_id may be written as an alias and stored (after import) as an ARN: only a
        // different key replaces the migration.
        if !prior
            .get("kms_key_id")
            .semantic_eq(planned.get("kms_key_id"))
        {
            let same_key = match (
                planned.get("kms_key_id").as_str(),
                prior.get("kms_key_arn").as_str(),
            ) {
                (Known::Value(cfg), Known::Value(arn)) => match ctx.data::<ProviderData>() {
                    Some(data) => data
                        .clients
                        .describe_kms_key(cfg)
                        .await
                        .is_ok_and(|k| k.arn == arn),
                    None => false,
                },
                _ => false,
            };
            if !same_key {
                resp.requires_replace.push(p("kms_key_id"));
            }
        }
    }
}

#[async_trait]
impl Resource for MigrationResource {
    fn type_name(&self) -> &'static str {
        "rdsenc_migration"
    }

    fn schema(&self) -> Schema {
        schema::schema()
    }

    async fn validate(&self, _ctx: &Ctx, req: ValidateRequest, resp: &mut ValidateResponse) {
        validate::validate_config(&req.config, &mut resp.diagnostics);
    }

    async fn plan(&self, ctx: &Ctx, req: PlanRequest, resp: &mut PlanResponse) {
        self.plan_any(ctx, &req, resp).await;
        let planned = &mut resp.planned_state;
        if planned.is_null() {
            return;
        }
        let id = "blue_green_deployment_id";
        if !is_blue_green(planned) {
            if planned.get(id).is_unknown() {
                planned.set(id, Value::Null);
            }
        } else {
            // The deployment keeps its id through the switchover; only finalize deletes it.
            let prior_id = req.prior_state.get(id);
            if planned.get(id).is_unknown() && !prior_id.is_null() && !flag(planned, "finalize") {
                planned.set(id, prior_id.clone());
            }
            for n in DMS_ONLY {
                if planned.get(n).is_unknown() {
                    planned.set(n, Value::Null);
                }
            }
            if planned.get("validation_state").is_unknown() {
                planned.set(
                    "validation_state",
                    Value::string(ValidationSummary::NotEnabled.to_string()),
                );
            }
        }
    }

    async fn create(&self, ctx: &Ctx, req: ApplyRequest, resp: &mut ApplyResponse) {
        let Some(engine) = engine(ctx, &mut resp.diagnostics) else {
            return;
        };
        let spec = match spec_from(&req.planned_state, Some(&req.config)) {
            Ok(s) => s,
            Err(d) => {
                resp.diagnostics.append(d);
                resp.new_state = Value::Null;
                return;
            }
        };
        tracing::info!(migration = %spec.source_db_instance_identifier, "creating migration");
        let result = engine
            .reconcile_to_replicating(
                &spec,
                &KnownIds::default(),
                timeout(&req.planned_state, "create"),
                &ctx.cancel,
            )
            .await;
        record(&mut resp.new_state, result, None, &mut resp.diagnostics);
    }

    async fn read(&self, ctx: &Ctx, req: ReadRequest, resp: &mut ReadResponse) {
        let Some(engine) = engine(ctx, &mut resp.diagnostics) else {
            return;
        };
        let spec = match spec_from(&req.current_state, None) {
            Ok(s) => s,
            Err(d) => {
                resp.diagnostics.append(d);
                return;
            }
        };
        match engine
            .refresh(&spec, &known_ids(&req.current_state), &ctx.cancel)
            .await
        {
            Ok(o) => {
                let nothing_left = o.source.is_none()
                    && o.target.is_none()
                    && o.task.is_none()
                    && o.source_endpoint.is_none()
                    && o.target_endpoint.is_none()
                    && o.source_snapshot.is_none()
                    && o.encrypted_snapshot.is_none()
                    && (o.replication_instance.is_none() || !o.replication_instance_managed);
                if nothing_left {
                    tracing::warn!(migration = %spec.source_db_instance_identifier, "no object of the migration exists any more; removing it from state");
                    resp.new_state = Value::Null;
                    return;
                }
                if o.source.is_none() && !o.phase.target_may_serve() {
                    resp.diagnostics.attribute_warning(
                        AttributePath::attr("source_db_instance_identifier"),
                        "Source Instance Missing",
                        format!(
                            "The source DB instance {} no longer exists, but the migration has \
                             not cut over. Replication cannot continue.",
                            spec.source_db_instance_identifier
                        ),
                    );
                }
                set_observed(&mut resp.new_state, &o);
            }
            Err(e) => engine_diagnostic(&e, &mut resp.diagnostics),
        }
    }

    async fn update(&self, ctx: &Ctx, req: ApplyRequest, resp: &mut ApplyResponse) {
        let Some(engine) = engine(ctx, &mut resp.diagnostics) else {
            return;
        };
        let spec = match spec_from(&req.planned_state, Some(&req.config)) {
            Ok(s) => s,
            Err(d) => {
                resp.diagnostics.append(d);
                resp.new_state = req.prior_state.clone();
                return;
            }
        };
        let known = known_ids(&req.prior_state);
        let limit = timeout(&req.planned_state, "update");
        let changes = dms_change(&req.prior_state, &req.planned_state);
        let prior_phase = phase_of(&req.prior_state).unwrap_or_default();
        let mut result = if prior_phase.is_create_path() {
            let mut r = engine
                .update_dms_settings(&spec, &known, &changes, limit, &ctx.cancel)
                .await;
            if let Ok(o) = &r
                && o.phase.is_create_path()
                && o.phase != Phase::Replicating
            {
                r = engine
                    .reconcile_to_replicating(&spec, &o.known_ids(), limit, &ctx.cancel)
                    .await;
            }
            r
        } else if changes.source_endpoint || changes.target_endpoint {
            // A password rotation while cut over reaches both directions' endpoints (the plan
            // refuses task-setting changes here: the forward task is stopped on purpose).
            match engine
                .update_dms_settings(&spec, &known, &changes, limit, &ctx.cancel)
                .await
            {
                Ok(o) => {
                    engine
                        .update_reverse_credentials(
                            &spec,
                            &changes,
                            &o.known_ids(),
                            limit,
                            &ctx.cancel,
                        )
                        .await
                }
                Err(f) => Err(f),
            }
        } else {
            // Past replicating the forward task may be stopped on purpose: only observe here;
            // apply_switch below drives cutover, failback and finalize.
            engine
                .observe(&spec, &known, &ctx.cancel)
                .await
                .map_err(|error| {
                    Box::new(EngineFailure {
                        error,
                        observed: Observed::default(),
                        observed_ok: false,
                    })
                })
        };
        let (cutover, finalize) = (
            flag(&req.planned_state, "cutover"),
            flag(&req.planned_state, "finalize"),
        );
        let switching = cutover != flag(&req.prior_state, "cutover")
            || finalize != flag(&req.prior_state, "finalize")
            || matches!(
                prior_phase,
                Phase::CuttingOver | Phase::FailingBack | Phase::Finalizing
            );
        if switching && let Ok(o) = &result {
            let cut = match cutover_spec_from(&req.planned_state, &spec) {
                Ok(c) => c,
                Err(d) => {
                    resp.diagnostics.append(d);
                    resp.new_state = req.prior_state.clone();
                    return;
                }
            };
            let known = o.known_ids();
            result = engine
                .apply_switch(&spec, &cut, cutover, finalize, &known, limit, &ctx.cancel)
                .await;
        }
        record(
            &mut resp.new_state,
            result,
            Some(&req.prior_state),
            &mut resp.diagnostics,
        );
    }

    async fn delete(&self, ctx: &Ctx, req: DeleteRequest, resp: &mut ApplyResponse) {
        let Some(engine) = engine(ctx, &mut resp.diagnostics) else {
            return;
        };
        let spec = match spec_from(&req.prior_state, None) {
            Ok(s) => s,
            Err(d) => {
                resp.diagnostics.append(d);
                return;
            }
        };
        let outcome = engine
            .teardown(
                &spec,
                &known_ids(&req.prior_state),
                timeout(&req.prior_state, "delete"),
                &ctx.cancel,
            )
            .await;
        for e in &outcome.errors {
            engine_diagnostic(e, &mut resp.diagnostics);
        }
        if !outcome.kept.is_empty() {
            resp.diagnostics.warning(
                "Databases Kept",
                format!(
                    "Destroy removed the migration's DMS objects and snapshots ({} deleted) and kept: {}.",
                    outcome.deleted.len(),
                    outcome.kept.join("; ")
                ),
            );
        }
    }

    async fn import(&self, ctx: &Ctx, req: ImportRequest, resp: &mut ImportResponse) {
        let Some(engine) = engine(ctx, &mut resp.diagnostics) else {
            return;
        };
        let mut d = Diagnostics::new();
        crate::validators::check_string(
            &Value::string(req.id.clone()),
            &AttributePath::attr("source_db_instance_identifier"),
            &[&crate::validators::db_identifier()],
            &mut d,
        );
        if d.has_error() {
            resp.diagnostics.error(
                "Invalid Import ID",
                format!("Import rdsenc_migration by the source DB instance identifier; {:?} is not one.", req.id),
            );
            return;
        }
        let found = match engine.list_migrations(&ctx.cancel).await {
            Ok(all) => all.into_iter().find(|m| m.migration == req.id),
            Err(e) => {
                engine_diagnostic(&e, &mut resp.diagnostics);
                return;
            }
        };
        let Some(m) = found else {
            resp.diagnostics.error(
                "Migration Not Found",
                format!(
                    "No encrypted target tagged rdsenc:migration={} exists in this account and \
                     region, so there is no rdsenc migration of {} to import.",
                    req.id, req.id
                ),
            );
            return;
        };
        let sch = schema::schema();
        let mut state = sch.block.empty_value();
        state.set("id", Value::string(req.id.clone()));
        state.set(
            "source_db_instance_identifier",
            Value::string(req.id.clone()),
        );
        if let Some(bg) = import_blue_green(&engine, &state, &m.target, &ctx.cancel).await {
            resp.state = bg;
            return;
        }
        state.set("strategy", Value::string(Strategy::Dms.as_str()));
        state.set(
            "target_db_instance_identifier",
            Value::string(m.target.identifier.clone()),
        );
        state.set("kms_key_id", Value::opt_string(m.target.kms_key_id.clone()));
        state.set("delete_target_on_destroy", Value::Bool(false));
        state.set("skip_target_final_snapshot", Value::Bool(false));
        let mut dms = sch
            .block
            .find_block("dms")
            .map(|b| b.block.empty_value())
            .unwrap_or_default();
        dms.set(
            "source_username",
            Value::string(m.target.master_username.clone().unwrap_or_default()),
        );
        state.set("dms", dms.clone());
        // Fill the DMS arguments from the objects themselves.
        if let Ok(spec) = spec_from(&state, None)
            && let Ok(o) = engine
                .observe(&spec, &KnownIds::default(), &ctx.cancel)
                .await
        {
            if let Some(ep) = &o.source_endpoint {
                if let Some(u) = &ep.username {
                    dms.set("source_username", Value::string(u.clone()));
                }
                dms.set(
                    "secrets_manager_arn",
                    Value::opt_string(ep.secrets_manager_arn.clone()),
                );
                // Only a database other than the engine's default was configured explicitly.
                let default_db = o
                    .source
                    .as_ref()
                    .and_then(|s| s.db_name.clone())
                    .unwrap_or_else(|| "postgres".to_owned());
                if ep.database_name.as_ref().is_some_and(|d| *d != default_db) {
                    dms.set("database_name", Value::opt_string(ep.database_name.clone()));
                }
            }
            if let Some(ri) = &o.replication_instance {
                if o.replication_instance_managed {
                    dms.set(
                        "replication_instance_class",
                        Value::string(ri.instance_class.clone()),
                    );
                    dms.set(
                        "replication_instance_allocated_storage",
                        Value::int(ri.allocated_storage.into()),
                    );
                } else {
                    dms.set("replication_instance_arn", Value::string(ri.arn.clone()));
                }
            }
            if let Some(t) = &o.task {
                dms.set("migration_type", Value::string(t.migration_type.as_str()));
                dms.set(
                    "cdc_start_position",
                    Value::opt_string(t.cdc_start_position.clone()),
                );
                let default = o
                    .source
                    .as_ref()
                    .map(|s| crate::engine::spec::default_table_mappings(&s.engine));
                let same_as_default = default.is_some_and(|d| json_eq(&d, &t.table_mappings));
                if !same_as_default {
                    dms.set("table_mappings", Value::string(t.table_mappings.clone()));
                }
                let settings: serde_json::Value = t
                    .task_settings
                    .as_deref()
                    .and_then(|s| serde_json::from_str(s).ok())
                    .unwrap_or_default();
                if let Some(m) = settings
                    .pointer("/FullLoadSettings/TargetTablePrepMode")
                    .and_then(|v| v.as_str())
                {
                    dms.set("target_table_prep_mode", Value::string(m));
                }
                if let Some(v) = settings
                    .pointer("/ValidationSettings/EnableValidation")
                    .and_then(serde_json::Value::as_bool)
                {
                    dms.set("validation", Value::Bool(v));
                }
            }
            dms.set(
                "source_from_read_replica",
                Value::Bool(o.read_replica.is_some()),
            );
            let validation = dms.get("validation").as_bool().value().unwrap_or(true);
            state.set("dms", dms);
            set_observed(&mut state, &o);
            // Switch arguments at their defaults, with the flags read off the phase: how an
            // earlier cutover switched is not recorded in AWS, so configure it as it was.
            set_switch_flags(&mut state, o.phase);
            state.set("cutover_strategy", Value::string("none"));
            state.set("write_fence", Value::string("none"));
            state.set(
                "max_cutover_lag_seconds",
                Value::int(convert::DEFAULT_MAX_LAG_SECONDS),
            );
            state.set("require_validation", Value::Bool(validation));
            state.set("retire_source", Value::string("keep"));
        }
        resp.state = state;
    }
}

/// The imported state of a blue/green migration, recognised by its deployment; `None` when
/// the migration has none (a DMS migration, or a blue/green one already finalized, which then
/// imports as what remains: an encrypted instance).
async fn import_blue_green(
    engine: &Engine,
    base: &Value,
    target: &crate::engine::api::DbInstance,
    cancel: &tokio_util::sync::CancellationToken,
) -> Option<Value> {
    let mut state = base.clone();
    state.set("strategy", Value::string(Strategy::BlueGreen.as_str()));
    state.set("kms_key_id", Value::opt_string(target.kms_key_id.clone()));
    let spec = spec_from(&state, None).ok()?;
    let o = engine
        .observe(&spec, &KnownIds::default(), cancel)
        .await
        .ok()?;
    let dep = o.blue_green.as_ref()?;
    // Each green replica's key, by the identifier of the blue replica it twins.
    let migration = spec.source_db_instance_identifier.as_str();
    let mut keys = std::collections::BTreeMap::new();
    for g in &o.green_replicas {
        let Some(detail) = dep
            .switchover_details
            .iter()
            .find(|d| crate::engine::blue_green::instance_id_of(&d.target_member) == g.identifier)
        else {
            continue;
        };
        let blue = crate::engine::blue_green::instance_id_of(&detail.source_member);
        let blue = blue
            .strip_suffix(crate::engine::blue_green::OLD_SUFFIX)
            .unwrap_or(blue);
        if blue != migration
            && let Some(k) = &g.kms_key_id
        {
            keys.insert(blue.to_owned(), Value::string(k.clone()));
        }
    }
    let mut block = schema::schema()
        .block
        .find_block("blue_green")
        .map(|b| b.block.empty_value())
        .unwrap_or_default();
    if !keys.is_empty() {
        block.set("replica_kms_key_ids", Value::Map(keys));
    }
    state.set("blue_green", block);
    set_switch_flags(&mut state, o.phase);
    state.set("delete_target_on_destroy", Value::Bool(false));
    state.set("skip_target_final_snapshot", Value::Bool(false));
    state.set("cutover_strategy", Value::string("none"));
    state.set("write_fence", Value::string("none"));
    state.set("retire_source", Value::string("keep"));
    state.set(
        "switchover_timeout",
        Value::int(convert::DEFAULT_SWITCHOVER_TIMEOUT_SECONDS),
    );
    set_observed(&mut state, &o);
    Some(state)
}

/// True when two `blue_green` blocks differ only in how `replica_kms_key_ids` names the same
/// keys (an alias in the configuration, the key ARN after import): the apply then only records
/// the configured spelling.
async fn same_keys_by_other_names(ctx: &Ctx, prior: &Value, planned: &Value) -> bool {
    let field = "replica_kms_key_ids";
    let (Some(a), Some(b)) = (prior.get(field).entries(), planned.get(field).entries()) else {
        return false;
    };
    let mut rest = (prior.clone(), planned.clone());
    rest.0.set(field, Value::Null);
    rest.1.set(field, Value::Null);
    if !rest.0.semantic_eq(&rest.1) || a.keys().ne(b.keys()) {
        return false;
    }
    let Some(data) = ctx.data::<ProviderData>() else {
        return false;
    };
    for (replica, was) in a {
        let (Known::Value(was), Known::Value(now)) = (was.as_str(), b[replica].as_str()) else {
            return false;
        };
        if was == now {
            continue;
        }
        let (x, y) = (
            data.clients.describe_kms_key(was).await,
            data.clients.describe_kms_key(now).await,
        );
        if !matches!((x, y), (Ok(x), Ok(y)) if x.arn == y.arn) {
            return false;
        }
    }
    true
}

/// `cutover` and `finalize` as an imported migration's phase says they were applied.
fn set_switch_flags(state: &mut Value, phase: Phase) {
    let cut = matches!(
        phase,
        Phase::CuttingOver | Phase::CutOver | Phase::Finalizing | Phase::Finalized
    );
    state.set("cutover", Value::Bool(cut));
    state.set(
        "finalize",
        Value::Bool(matches!(phase, Phase::Finalizing | Phase::Finalized)),
    );
}

fn json_eq(a: &str, b: &str) -> bool {
    match (
        serde_json::from_str::<serde_json::Value>(a),
        serde_json::from_str::<serde_json::Value>(b),
    ) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}
