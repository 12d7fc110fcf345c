//! `rdsenc_migration`: the runbook as one resource. This module is glue: Terraform values in,
//! the engine does the work, computed attributes out. Every engine failure becomes a
//! diagnostic here, in one place ([`engine_diagnostic`]).

pub mod convert;
pub mod schema;
pub mod validate;

use async_trait::async_trait;

use crate::framework::{
    ApplyRequest, ApplyResponse, AttributePath, Ctx, DeleteRequest, Diagnostics, ImportRequest,
    ImportResponse, Known, PlanRequest, PlanResponse, ReadRequest, ReadResponse, Resource, Schema,
    ValidateRequest, ValidateResponse, Value,
};
use crate::provider::ProviderData;
use convert::{cutover_spec_from, dms_change, known_ids, set_observed, spec_from, timeout};
use rdsenc_engine::Names;
use rdsenc_engine::api::AwsApi;
use rdsenc_engine::{
    Engine, EngineError, EngineFailure, KnownIds, Observed, Phase, Strategy, ValidationSummary,
    describe_cutover, describe_failback, describe_finalize,
};

mod import;
mod plan;

use import::*;

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
    ProviderData::of(ctx, "rdsenc_migration", diags).map(|data| data.engine.clone())
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
                    .map(|s| rdsenc_engine::default_table_mappings(&s.engine));
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
            // The flags read off the phase; the switch settings as the last cutover recorded
            // them on the target (`none` when it recorded none), so a failback after import
            // moves DNS back and fences as the cutover did.
            set_switch_flags(&mut state, o.phase);
            set_switch_settings(&mut state, o.cutover.settings.as_ref());
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
