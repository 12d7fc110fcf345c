//! Helpers of import and update: the blue/green import, key comparison, switch flags.

use super::*;

/// The imported state of a blue/green migration, recognised by its deployment; `None` when
/// the migration has none (a DMS migration, or a blue/green one already finalized, which then
/// imports as what remains: an encrypted instance).
pub(super) async fn import_blue_green(
    engine: &Engine,
    base: &Value,
    target: &rdsenc_engine::api::DbInstance,
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
            .find(|d| rdsenc_engine::instance_id_of(&d.target_member) == g.identifier)
        else {
            continue;
        };
        let blue = rdsenc_engine::instance_id_of(&detail.source_member);
        let blue = blue.strip_suffix(rdsenc_engine::OLD_SUFFIX).unwrap_or(blue);
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
pub(super) async fn same_keys_by_other_names(ctx: &Ctx, prior: &Value, planned: &Value) -> bool {
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

/// `cutover_strategy`, `route53`, `write_fence` and `fence_security_group_ids` as the last
/// cutover recorded them; when nothing is recorded (never cut over), what a configuration
/// that sets neither plans: strategy `none`, fence `read_only`.
pub(super) fn set_switch_settings(
    state: &mut Value,
    settings: Option<&rdsenc_engine::SwitchSettings>,
) {
    use rdsenc_engine::{CutoverStrategy, WriteFence};
    let (strategy, fence) = settings.map_or((&CutoverStrategy::None, &WriteFence::ReadOnly), |s| {
        (&s.strategy, &s.write_fence)
    });
    let name = match strategy {
        CutoverStrategy::Route53(r) => {
            let mut block = schema::schema()
                .block
                .find_block("route53")
                .map(|b| b.block.empty_value())
                .unwrap_or_default();
            block.set("zone_id", Value::string(r.zone_id.clone()));
            block.set("record_name", Value::string(r.record_name.clone()));
            block.set("ttl", Value::int(r.ttl));
            state.set("route53", block);
            "route53"
        }
        CutoverStrategy::IdentifierSwap => "identifier_swap",
        CutoverStrategy::None => "none",
    };
    state.set("cutover_strategy", Value::string(name));
    let name = match fence {
        WriteFence::SecurityGroups(sgs) => {
            state.set(
                "fence_security_group_ids",
                Value::List(sgs.iter().cloned().map(Value::string).collect()),
            );
            "security_groups"
        }
        WriteFence::ReadOnly => "read_only",
        WriteFence::None => "none",
    };
    state.set("write_fence", Value::string(name));
}

/// `cutover` and `finalize` as an imported migration's phase says they were applied.
pub(super) fn set_switch_flags(state: &mut Value, phase: Phase) {
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

pub(super) fn json_eq(a: &str, b: &str) -> bool {
    match (
        serde_json::from_str::<serde_json::Value>(a),
        serde_json::from_str::<serde_json::Value>(b),
    ) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rdsenc_engine::{CutoverStrategy, Route53Record, SwitchSettings, WriteFence};

    #[test]
    fn import_sets_the_switch_settings_the_cutover_recorded_and_none_without_a_record() {
        let mut state = schema::schema().block.empty_value();
        let recorded = SwitchSettings {
            strategy: CutoverStrategy::Route53(Route53Record {
                zone_id: "Z123".into(),
                record_name: "orders-db.example.com".into(),
                ttl: 30,
            }),
            write_fence: WriteFence::SecurityGroups(vec!["sg-1".into()]),
        };
        set_switch_settings(&mut state, Some(&recorded));
        assert_eq!(
            state.get("cutover_strategy").as_str(),
            Known::Value("route53")
        );
        assert_eq!(
            state.get("route53").get("zone_id").as_str(),
            Known::Value("Z123")
        );
        assert_eq!(state.get("route53").get("ttl").as_i64(), Known::Value(30));
        assert_eq!(
            state.get("write_fence").as_str(),
            Known::Value("security_groups")
        );
        assert_eq!(
            state.get("fence_security_group_ids").elements()[0].as_str(),
            Known::Value("sg-1")
        );

        let mut state = schema::schema().block.empty_value();
        set_switch_settings(&mut state, None);
        assert_eq!(state.get("cutover_strategy").as_str(), Known::Value("none"));
        assert_eq!(state.get("write_fence").as_str(), Known::Value("read_only"));
    }
}
