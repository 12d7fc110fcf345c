//! Between Terraform values and the engine: configuration -> [`MigrationSpec`], state ->
//! [`KnownIds`], [`Observed`] -> computed attributes.

use std::time::Duration;

use crate::framework::{AttributePath, Diagnostics, Value};
use crate::validators::parse_go_duration;
use rdsenc_engine::api::{EndpointCredentials, MigrationType, SecretString, Tags};
use rdsenc_engine::{
    BlueGreenSpec, CutoverSpec, CutoverStrategy, DmsChange, DmsSpec, KnownIds, MigrationSpec,
    Observed, Phase, RetireSource, Route53Record, Strategy, TablePrepMode, TargetOverrides,
    WriteFence, default_fence_hold,
};

/// Default `timeouts.create`: a multi-TB snapshot, copy and restore plus full load.
pub const DEFAULT_CREATE_TIMEOUT: Duration = Duration::from_secs(24 * 3600);
/// Default `timeouts.update`.
pub const DEFAULT_UPDATE_TIMEOUT: Duration = Duration::from_secs(2 * 3600);
/// Default `timeouts.delete`.
pub const DEFAULT_DELETE_TIMEOUT: Duration = Duration::from_secs(2 * 3600);

fn s(v: &Value) -> Option<String> {
    v.as_str().value().map(str::to_owned)
}
fn i32_of(v: &Value) -> Option<i32> {
    v.as_i64().value().and_then(|n| i32::try_from(n).ok())
}
fn strings(v: &Value) -> Vec<String> {
    v.elements().iter().filter_map(s).collect()
}
fn tags(v: &Value) -> Tags {
    v.entries()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), s(v)?)))
                .collect()
        })
        .unwrap_or_default()
}

/// The timeout for `op` ("create", "update", "delete") from the `timeouts` block.
pub fn timeout(v: &Value, op: &str) -> Duration {
    let default = match op {
        "create" => DEFAULT_CREATE_TIMEOUT,
        "update" => DEFAULT_UPDATE_TIMEOUT,
        _ => DEFAULT_DELETE_TIMEOUT,
    };
    s(v.get("timeouts").get(op))
        .and_then(|t| parse_go_duration(&t))
        .unwrap_or(default)
}

/// Which credentials the engine gets. At plan, read and delete time the write-only password
/// is absent (`config = None`): the engine never needs it then, so an empty secret stands in.
fn credentials(
    dms: &Value,
    dms_cfg: Option<&Value>,
    diags: &mut Diagnostics,
) -> (EndpointCredentials, Option<EndpointCredentials>) {
    let role = s(dms.get("secrets_manager_access_role_arn")).unwrap_or_default();
    let username = s(dms.get("source_username")).unwrap_or_default();
    let source_pw = dms_cfg.and_then(|c| s(c.get("source_password_wo")));
    let source = match s(dms.get("secrets_manager_arn")) {
        Some(secret_arn) => EndpointCredentials::SecretsManager {
            secret_arn,
            access_role_arn: role.clone(),
        },
        None => {
            if dms_cfg.is_some() && source_pw.is_none() {
                diags.attribute_error(
                    AttributePath::parse("dms.source_password_wo"),
                    "Missing Credentials",
                    "DMS needs the source password now: set source_password_wo or secrets_manager_arn.",
                );
            }
            EndpointCredentials::Password {
                username: username.clone(),
                password: SecretString::new(source_pw.clone().unwrap_or_default()),
            }
        }
    };
    let target_pw = dms_cfg.and_then(|c| s(c.get("target_password_wo")));
    let target_user = s(dms.get("target_username"));
    let target = match s(dms.get("target_secrets_manager_arn")) {
        Some(secret_arn) => Some(EndpointCredentials::SecretsManager {
            secret_arn,
            access_role_arn: role,
        }),
        None if target_user.is_some() || target_pw.is_some() => {
            Some(EndpointCredentials::Password {
                username: target_user.unwrap_or(username),
                password: SecretString::new(target_pw.or(source_pw).unwrap_or_default()),
            })
        }
        None => None,
    };
    (source, target)
}

/// Builds the engine's spec from a planned state or stored state (non-secret values) and,
/// during apply, the configuration (the write-only passwords).
///
/// **Errors**: diagnostics naming the attribute when a value cannot be used.
pub fn spec_from(v: &Value, config: Option<&Value>) -> Result<MigrationSpec, Diagnostics> {
    let mut diags = Diagnostics::new();
    let strategy = match s(v.get("strategy")).map(|st| st.parse::<Strategy>()) {
        Some(Ok(st)) => st,
        Some(Err(e)) => {
            super::engine_diagnostic(&e, &mut diags);
            Strategy::Dms
        }
        None => Strategy::Dms,
    };
    let dms = v.get("dms");
    let (source_credentials, target_credentials) = match strategy {
        Strategy::Dms => credentials(dms, config.map(|c| c.get("dms")), &mut diags),
        // No DMS endpoints: nothing needs credentials.
        Strategy::BlueGreen => (
            EndpointCredentials::Password {
                username: String::new(),
                password: SecretString::new(String::new()),
            },
            None,
        ),
    };
    let bg = v.get("blue_green");
    let migration_type = match dms.get("migration_type").as_str().value() {
        Some(m) => MigrationType::from_aws(m),
        None => MigrationType::FullLoadAndCdc,
    };
    let prep = dms
        .get("target_table_prep_mode")
        .as_str()
        .value()
        .and_then(TablePrepMode::parse)
        .unwrap_or_default();
    let t = v.get("target");
    let spec = MigrationSpec {
        source_db_instance_identifier: s(v.get("source_db_instance_identifier"))
            .unwrap_or_default(),
        kms_key_id: s(v.get("kms_key_id")).unwrap_or_default(),
        target_db_instance_identifier: s(v.get("target_db_instance_identifier")),
        dms: DmsSpec {
            replication_instance_arn: s(dms.get("replication_instance_arn")),
            replication_instance_class: s(dms.get("replication_instance_class")),
            allocated_storage: i32_of(dms.get("replication_instance_allocated_storage")),
            replication_subnet_group_id: s(dms.get("replication_subnet_group_id")),
            vpc_security_group_ids: strings(dms.get("vpc_security_group_ids")),
            source_from_read_replica: dms
                .get("source_from_read_replica")
                .as_bool()
                .value()
                .unwrap_or(false),
            source_credentials,
            target_credentials,
            database_name: s(dms.get("database_name")),
            table_mappings: s(dms.get("table_mappings")),
            target_table_prep_mode: prep,
            migration_type,
            cdc_start_position: s(dms.get("cdc_start_position")),
            validation: dms.get("validation").as_bool().value().unwrap_or(true),
        },
        target: TargetOverrides {
            instance_class: s(t.get("instance_class")),
            storage_type: s(t.get("storage_type")),
            allocated_storage: i32_of(t.get("allocated_storage")),
            iops: i32_of(t.get("iops")),
            storage_throughput: i32_of(t.get("storage_throughput")),
            db_parameter_group_name: s(t.get("parameter_group_name")),
            option_group_name: s(t.get("option_group_name")),
            db_subnet_group_name: s(t.get("db_subnet_group_name")),
            vpc_security_group_ids: (!t.get("vpc_security_group_ids").is_null())
                .then(|| strings(t.get("vpc_security_group_ids"))),
            port: t
                .get("port")
                .as_i64()
                .value()
                .and_then(|p| u16::try_from(p).ok()),
            multi_az: t.get("multi_az").as_bool().value(),
            publicly_accessible: t.get("publicly_accessible").as_bool().value(),
            deletion_protection: t.get("deletion_protection").as_bool().value(),
            backup_retention_period: i32_of(t.get("backup_retention_period")),
            monitoring_interval: i32_of(t.get("monitoring_interval")),
            monitoring_role_arn: s(t.get("monitoring_role_arn")),
            performance_insights_enabled: t.get("performance_insights_enabled").as_bool().value(),
            performance_insights_kms_key_id: s(t.get("performance_insights_kms_key_id")),
            performance_insights_retention_period: i32_of(
                t.get("performance_insights_retention_period"),
            ),
            tags: {
                let mut all = tags(v.get("tags"));
                all.extend(tags(t.get("tags")));
                all
            },
        },
        delete_target_on_destroy: v
            .get("delete_target_on_destroy")
            .as_bool()
            .value()
            .unwrap_or(false),
        skip_final_snapshot: v
            .get("skip_target_final_snapshot")
            .as_bool()
            .value()
            .unwrap_or(false),
        strategy,
        blue_green: BlueGreenSpec {
            replica_kms_key_ids: tags(bg.get("replica_kms_key_ids")),
            target_engine_version: s(bg.get("target_engine_version")),
            target_db_parameter_group_name: s(bg.get("target_db_parameter_group_name")),
        },
    };
    if let Err(errs) = spec.validate() {
        for e in errs {
            super::engine_diagnostic(&e, &mut diags);
        }
    }
    if diags.has_error() {
        Err(diags)
    } else {
        Ok(spec)
    }
}

/// Default `max_cutover_lag_seconds`.
pub const DEFAULT_MAX_LAG_SECONDS: i64 = 5;
/// Default `route53.ttl`.
pub const DEFAULT_TTL: i64 = 30;
/// Default `switchover_timeout` (RDS's own default `SwitchoverTimeout`).
pub const DEFAULT_SWITCHOVER_TIMEOUT_SECONDS: i64 = 300;

/// The cutover settings the engine needs, from a planned or stored state.
///
/// **Errors**: diagnostics naming the attribute when the settings cannot be used.
pub fn cutover_spec_from(v: &Value, spec: &MigrationSpec) -> Result<CutoverSpec, Diagnostics> {
    let mut diags = Diagnostics::new();
    let r53 = v.get("route53");
    let record = (!r53.is_null()).then(|| Route53Record {
        zone_id: s(r53.get("zone_id")).unwrap_or_default(),
        record_name: s(r53.get("record_name")).unwrap_or_default(),
        ttl: r53.get("ttl").as_i64().value().unwrap_or(DEFAULT_TTL),
    });
    // Engine errors become diagnostics in the resource's one place for that.
    let engine_err =
        |e: rdsenc_engine::EngineError, d: &mut Diagnostics| super::engine_diagnostic(&e, d);
    let strategy = match CutoverStrategy::from_config(
        s(v.get("cutover_strategy")).as_deref().unwrap_or("none"),
        record,
    ) {
        Ok(st) => st,
        Err(e) => {
            engine_err(e, &mut diags);
            CutoverStrategy::None
        }
    };
    let write_fence = match s(v.get("write_fence")).as_deref() {
        Some("security_groups") => {
            WriteFence::SecurityGroups(strings(v.get("fence_security_group_ids")))
        }
        Some("read_only") => WriteFence::ReadOnly,
        _ => WriteFence::None,
    };
    let retire_source = match s(v.get("retire_source")).map(|r| r.parse::<RetireSource>()) {
        Some(Ok(r)) => r,
        Some(Err(e)) => {
            engine_err(e, &mut diags);
            RetireSource::Keep
        }
        None => RetireSource::Keep,
    };
    let max_lag = v
        .get("max_cutover_lag_seconds")
        .as_f64()
        .value()
        .unwrap_or(DEFAULT_MAX_LAG_SECONDS as f64);
    // Negative values are refused at validation; the default follows the DNS TTL.
    let fence_hold = match v.get("fence_hold_seconds").as_i64().value() {
        Some(n) => Duration::from_secs(u64::try_from(n).unwrap_or(0)),
        None => default_fence_hold(&strategy),
    };
    let cut = CutoverSpec {
        strategy,
        write_fence,
        max_lag: Duration::try_from_secs_f64(max_lag.max(0.0)).unwrap_or(Duration::from_secs(5)),
        require_validation: v
            .get("require_validation")
            .as_bool()
            .value()
            .unwrap_or(spec.dms.validation),
        retire_source,
        fence_hold,
        switchover_timeout_seconds: Some(
            i32_of(v.get("switchover_timeout"))
                .unwrap_or(i32::try_from(DEFAULT_SWITCHOVER_TIMEOUT_SECONDS).unwrap_or(300)),
        ),
    };
    if let Err(errs) = cut.validate(spec) {
        for e in errs {
            engine_err(e, &mut diags);
        }
    }
    if diags.has_error() {
        Err(diags)
    } else {
        Ok(cut)
    }
}

/// What earlier applies recorded: the phase, the DMS ARNs and the snapshot references.
pub fn known_ids(state: &Value) -> KnownIds {
    KnownIds {
        recorded_phase: state
            .get("phase")
            .as_str()
            .value()
            .and_then(|p| p.parse::<Phase>().ok()),
        replication_instance_arn: s(state.get("replication_instance_arn")),
        source_endpoint_arn: s(state.get("source_endpoint_arn")),
        target_endpoint_arn: s(state.get("target_endpoint_arn")),
        replication_task_arn: s(state.get("replication_task_arn")),
        blue_green_deployment_id: s(state.get("blue_green_deployment_id")),
        source_snapshot_identifier: s(state.get("source_snapshot_identifier")),
        encrypted_snapshot_arn: s(state.get("encrypted_snapshot_arn")),
    }
}

/// Writes the computed attributes of `o` into `state`.
pub fn set_observed(state: &mut Value, o: &Observed) {
    let c = o.computed();
    let id = s(state.get("source_db_instance_identifier"));
    let key_arn = o
        .target
        .as_ref()
        .and_then(|t| t.kms_key_id.clone())
        .or_else(|| {
            o.encrypted_snapshot
                .as_ref()
                .and_then(|e| e.kms_key_id.clone())
        });
    // Once known, the key ARN stays: an observation that found neither target nor snapshot
    // does not erase it.
    if key_arn.is_some() || state.get("kms_key_arn").is_unknown() {
        state.set("kms_key_arn", Value::opt_string(key_arn));
    }
    let num = |f: Option<f64>| {
        f.and_then(crate::framework::Number::from_f64)
            .map_or(Value::Null, Value::Number)
    };
    let text = Value::opt_string;
    for (name, value) in [
        ("id", text(id)),
        ("phase", Value::string(c.phase)),
        (
            "source_snapshot_identifier",
            text(c.source_snapshot_identifier),
        ),
        ("encrypted_snapshot_arn", text(c.encrypted_snapshot_arn)),
        ("target_db_instance_arn", text(c.target_db_instance_arn)),
        ("target_endpoint", text(c.target_endpoint)),
        ("replication_instance_arn", text(c.replication_instance_arn)),
        ("source_endpoint_arn", text(c.source_endpoint_arn)),
        ("target_endpoint_arn", text(c.target_endpoint_arn)),
        ("replication_task_arn", text(c.replication_task_arn)),
        ("replication_task_status", text(c.replication_task_status)),
        (
            "full_load_progress_percent",
            Value::opt_int(c.full_load_progress_percent),
        ),
        ("replication_lag_seconds", num(c.replication_lag_seconds)),
        ("validation_state", Value::string(c.validation_state)),
        (
            "active_db_instance_identifier",
            text(c.active_db_instance_identifier),
        ),
        ("active_endpoint", text(c.active_endpoint)),
        ("cutover_started_at", text(c.cutover_started_at)),
        ("cutover_completed_at", text(c.cutover_completed_at)),
        (
            "cutover_write_pause_seconds",
            num(c.cutover_write_pause_seconds),
        ),
        (
            "reverse_replication_task_arn",
            text(c.reverse_replication_task_arn),
        ),
        (
            "reverse_replication_task_status",
            text(c.reverse_replication_task_status),
        ),
        (
            "reverse_replication_lag_seconds",
            num(c.reverse_replication_lag_seconds),
        ),
        ("blue_green_deployment_id", text(c.blue_green_deployment_id)),
    ] {
        state.set(name, value);
    }
}

/// The DMS changes between the prior state and the plan (credentials come from the write-only
/// version numbers, since the passwords themselves are never stored).
pub fn dms_change(prior: &Value, planned: &Value) -> DmsChange {
    let (p, n) = (prior.get("dms"), planned.get("dms"));
    let changed = |names: &[&str]| names.iter().any(|k| !p.get(k).semantic_eq(n.get(k)));
    DmsChange {
        task: changed(&["table_mappings", "target_table_prep_mode", "validation"]),
        source_endpoint: changed(&[
            "source_username",
            "source_password_wo_version",
            "secrets_manager_arn",
            "secrets_manager_access_role_arn",
            "database_name",
        ]),
        target_endpoint: changed(&[
            "target_username",
            "target_password_wo_version",
            "target_secrets_manager_arn",
            "secrets_manager_access_role_arn",
            "database_name",
        ]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::migration::schema::schema;

    #[test]
    fn observing_settles_every_computed_only_attribute() {
        // A plan marks computed attributes unknown; after apply none may stay unknown, or
        // Terraform rejects the new state.
        let sch = schema();
        let mut state = base();
        let computed: Vec<&str> = sch
            .block
            .attributes
            .iter()
            .filter(|a| a.computed && !a.optional)
            .map(|a| a.name.as_str())
            .collect();
        for name in &computed {
            state.set(name, Value::Unknown);
        }
        set_observed(&mut state, &Observed::default());
        let left: Vec<_> = computed
            .iter()
            .filter(|n| state.get(n).is_unknown())
            .collect();
        assert!(left.is_empty(), "still unknown after observing: {left:?}");
        assert_eq!(state.get("id"), &Value::string("orders"));
    }

    fn base() -> Value {
        let sch = schema();
        let mut v = sch.block.empty_value();
        v.set("source_db_instance_identifier", Value::string("orders"));
        v.set("kms_key_id", Value::string("alias/rds-at-rest"));
        let mut dms = sch
            .block
            .find_block("dms")
            .map(|b| b.block.empty_value())
            .unwrap_or_default();
        dms.set("source_username", Value::string("dms"));
        v.set("dms", dms);
        v
    }

    #[test]
    fn the_write_only_password_comes_from_config_only() {
        let planned = base();
        let mut cfg = base();
        let mut dms = cfg.get("dms").clone();
        dms.set("source_password_wo", Value::string("pw-from-config"));
        cfg.set("dms", dms);
        let spec = spec_from(&planned, Some(&cfg))
            .map_err(|d| format!("{d:?}"))
            .expect("valid spec");
        match spec.dms.source_credentials {
            EndpointCredentials::Password { username, password } => {
                assert_eq!(username, "dms");
                assert_eq!(password.expose(), "pw-from-config");
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(
            spec.dms.target_credentials.is_none(),
            "target defaults to the source's"
        );
        // Without config (read, delete) no password is demanded.
        assert!(spec_from(&planned, None).is_ok());
        // At apply time a missing password is an error on its attribute.
        let d = spec_from(&planned, Some(&base())).err().unwrap_or_default();
        assert!(
            d.iter()
                .any(|d| d.attribute.as_ref().map(ToString::to_string).as_deref()
                    == Some("dms.source_password_wo"))
        );
    }

    #[test]
    fn timeouts_default_and_parse() {
        let mut v = base();
        assert_eq!(timeout(&v, "create"), DEFAULT_CREATE_TIMEOUT);
        v.set(
            "timeouts",
            Value::Object([("create".to_owned(), Value::string("90m"))].into()),
        );
        assert_eq!(timeout(&v, "create"), Duration::from_secs(5400));
    }

    #[test]
    fn a_password_version_bump_changes_the_source_endpoint_only() {
        let prior = base();
        let mut planned = base();
        let mut dms = planned.get("dms").clone();
        dms.set("source_password_wo_version", Value::int(2));
        planned.set("dms", dms);
        let c = dms_change(&prior, &planned);
        assert!(c.source_endpoint && !c.task && !c.target_endpoint);
        assert!(dms_change(&prior, &prior).is_empty());
    }
}
