//! Planning: the switch (cutover, failback, finalize) and the create/update path.

use super::*;

impl MigrationResource {
    /// Plans a cutover, failback or finalize (or refuses one). Returns true when the plan
    /// switches, so the caller skips the create-path planning.
    pub(super) async fn plan_switch(
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
            let old = rdsenc_engine::old_name(source);
            diags.attribute_error(
                p("cutover"),
                "Failback Not Available With Blue/Green",
                rdsenc_engine::blue_green_failback_reasons(&old).join("; "),
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
    pub(super) async fn plan_any(&self, ctx: &Ctx, req: &PlanRequest, resp: &mut PlanResponse) {
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

        // Defaults of optional+computed arguments, known at plan time so the plan reads fully:
        // the static ones are in the schema (`Attribute::default`, applied by the server before
        // this runs); these depend on other arguments.
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
        let mut dms = planned.get("dms").clone();
        if !dms.is_null() && !dms.is_unknown() {
            let managed = dms.get("replication_instance_arn").is_null();
            let class = if managed {
                Value::string(rdsenc_engine::DEFAULT_REPLICATION_INSTANCE_CLASS)
            } else {
                Value::Null
            };
            let storage = if managed {
                Value::int(rdsenc_engine::DEFAULT_REPLICATION_INSTANCE_STORAGE.into())
            } else {
                Value::Null
            };
            default_if_unset(&mut dms, "replication_instance_class", class);
            default_if_unset(&mut dms, "replication_instance_allocated_storage", storage);
            planned.set("dms", dms);
        }
        // The fence that stops open sessions too; blue/green's switchover blocks writes itself.
        default_if_unset(
            planned,
            "write_fence",
            Value::string(if blue_green { "none" } else { "read_only" }),
        );
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
