//! Static checks of an `rdsenc_migration` configuration: everything knowable without AWS
//! that one attribute's validator on the schema cannot see alone. Unknown values pass here
//! and are checked again at apply time.

use crate::framework::{AttributePath, Diagnostics, Known, Value};
use crate::validators::{Arn, StringValidator, check_string, db_identifier, kms_key_reference};

/// `dms.target_table_prep_mode` values. DROP_AND_CREATE is deliberately absent: it would drop
/// the indexes, constraints and auto-increment state the snapshot restore preserved.
pub const PREP_MODES: &[&str] = &["TRUNCATE_BEFORE_LOAD", "DO_NOTHING"];
/// `dms.migration_type` values.
pub const MIGRATION_TYPES: &[&str] = &["full-load-and-cdc", "cdc"];

/// `cutover_strategy` values.
pub const STRATEGIES: &[&str] = &["route53", "identifier_swap", "none"];
/// `strategy` values.
pub const MIGRATION_STRATEGIES: &[&str] = &["dms", "blue_green"];
/// RDS `SwitchoverTimeout` bounds in seconds.
pub const SWITCHOVER_TIMEOUT_RANGE: (i64, i64) = (30, 3600);
/// `write_fence` values.
pub const FENCES: &[&str] = &["none", "security_groups", "read_only"];
/// `retire_source` values.
pub const RETIRE: &[&str] = &["keep", "stop", "snapshot_and_delete"];

/// Validates what the schema's attribute validators cannot see alone (combinations, ranges,
/// map entries), adding diagnostics on the offending attribute paths. The server runs the
/// schema's validators ([`crate::framework::Block::validate_values`]) besides.
pub fn validate_config(cfg: &Value, diags: &mut Diagnostics) {
    let p = AttributePath::attr;
    validate_cutover(cfg, diags);
    if let (Known::Value(src), Known::Value(tgt)) = (
        cfg.get("source_db_instance_identifier").as_str(),
        cfg.get("target_db_instance_identifier").as_str(),
    ) && src.eq_ignore_ascii_case(tgt)
    {
        diags.attribute_error(
            p("target_db_instance_identifier"),
            "Target Identifier Equals Source",
            "target_db_instance_identifier must differ from source_db_instance_identifier: the \
             encrypted twin is a new instance beside the source.",
        );
    }
    validate_tags(cfg.get("tags"), &p("tags"), diags);
    validate_strategy(cfg, diags);
    validate_dms(cfg.get("dms"), &p("dms"), diags);
    validate_target(cfg.get("target"), &p("target"), diags);
}

/// `strategy` and what each strategy needs or cannot use.
fn validate_strategy(cfg: &Value, diags: &mut Diagnostics) {
    let p = AttributePath::attr;
    let strategy = match cfg.get("strategy").as_str() {
        Known::Value(s) => s,
        Known::Null => "dms",
        Known::Unknown => return,
    };
    let bg = cfg.get("blue_green");
    match strategy {
        "dms" => {
            if cfg.get("dms").is_null() {
                diags.attribute_error(
                    p("dms"),
                    "Missing dms Block",
                    "strategy \"dms\" (the default) needs a dms block: at least \
                     source_username and the source password (source_password_wo or \
                     secrets_manager_arn).",
                );
            }
            if !bg.is_null() {
                diags.attribute_error(
                    p("blue_green"),
                    "blue_green Block Without Blue/Green",
                    "The blue_green block applies to strategy = \"blue_green\" only; remove it \
                     or set the strategy.",
                );
            }
            if !cfg.get("switchover_timeout").is_null() {
                diags.attribute_error(
                    p("switchover_timeout"),
                    "Switchover Timeout Without Blue/Green",
                    "switchover_timeout is the RDS blue/green switchover limit; with strategy \
                     \"dms\" the cutover is bounded by timeouts.update.",
                );
            }
        }
        "blue_green" => {
            // Each of these configures the DMS path only; accepting them silently would
            // promise a behaviour the blue/green switchover does not have.
            let unused: [(&str, &str); 7] = [
                (
                    "dms",
                    "RDS replicates from blue to green itself; there is no DMS task.",
                ),
                (
                    "target",
                    "green instances copy the source's settings (use blue_green.* for the \
                     engine version and parameter group).",
                ),
                (
                    "target_db_instance_identifier",
                    "RDS names the green instances, and the switchover gives them the \
                     original identifiers.",
                ),
                (
                    "route53",
                    "the switchover renames the instances, so the source's host name already \
                     reaches the encrypted instance; the CNAME needs no change.",
                ),
                (
                    "fence_security_group_ids",
                    "RDS blocks writes on both sides during the switchover itself.",
                ),
                (
                    "max_cutover_lag_seconds",
                    "RDS checks replica lag itself before it switches (its switchover \
                     guardrails); bound the switchover with switchover_timeout.",
                ),
                (
                    "require_validation",
                    "there is no DMS validation; RDS replicates the whole instance.",
                ),
            ];
            for (name, why) in unused {
                if !cfg.get(name).is_null() {
                    diags.attribute_error(
                        p(name),
                        "Not Used With Blue/Green",
                        format!("`{name}` does not apply to strategy = \"blue_green\": {why}"),
                    );
                }
            }
            for (name, allowed) in [("cutover_strategy", "none"), ("write_fence", "none")] {
                if let Known::Value(v) = cfg.get(name).as_str()
                    && v != allowed
                {
                    diags.attribute_error(
                        p(name),
                        "Not Used With Blue/Green",
                        format!(
                            "`{name} = {v:?}` does not apply to strategy = \"blue_green\": the RDS \
                             switchover itself blocks writes, waits for green to catch up and \
                             renames the instances, so the original identifiers and host names \
                             name the encrypted instances. Leave `{name}` unset."
                        ),
                    );
                }
            }
            let keys = bg.get("replica_kms_key_ids");
            if let Some(m) = keys.entries() {
                let at = p("blue_green").at("replica_kms_key_ids");
                for (replica, key) in m {
                    check_string(
                        &Value::string(replica.clone()),
                        &at,
                        &[&db_identifier()],
                        diags,
                    );
                    check_string(key, &at.key(replica), &[&kms_key_reference()], diags);
                }
            }
            if let Known::Value(n) = cfg.get("switchover_timeout").as_i64() {
                let (lo, hi) = SWITCHOVER_TIMEOUT_RANGE;
                if !(lo..=hi).contains(&n) {
                    diags.attribute_error(
                        p("switchover_timeout"),
                        "Switchover Timeout Out Of Range",
                        format!(
                            "switchover_timeout must be {lo} to {hi} seconds (RDS limits); got {n}."
                        ),
                    );
                }
            }
        }
        _ => {}
    }
}

fn validate_cutover(cfg: &Value, diags: &mut Diagnostics) {
    let p = AttributePath::attr;
    let r53 = cfg.get("route53");
    match cfg.get("cutover_strategy").as_str() {
        Known::Value("route53") if r53.is_null() => diags.attribute_error(
            p("route53"),
            "Missing Route 53 Record",
            "cutover_strategy = \"route53\" switches a CNAME: add a route53 { zone_id, record_name } block.",
        ),
        Known::Value(s) if s != "route53" && !r53.is_null() && !r53.is_unknown() => diags.attribute_error(
            p("route53"),
            "Route 53 Record Not Used",
            format!("The route53 block is only used with cutover_strategy = \"route53\", not {s:?}."),
        ),
        _ => {}
    }
    if !r53.is_null() && !r53.is_unknown() {
        if let Known::Value(z) = r53.get("zone_id").as_str()
            && !(z.starts_with('Z')
                && z.len() >= 2
                && z.len() <= 32
                && z.chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()))
        {
            diags.attribute_error(
                p("route53").at("zone_id"),
                "Invalid Attribute Value",
                format!("route53.zone_id {z:?} is not a hosted zone id such as \"Z0123456789ABCDEFGHIJ\"."),
            );
        }
        if let Known::Value(n) = r53.get("record_name").as_str() {
            let name = n.trim_end_matches('.');
            let ok = name.len() <= 253
                && name.contains('.')
                && name.split('.').all(|l| {
                    !l.is_empty()
                        && l.len() <= 63
                        && !l.starts_with('-')
                        && !l.ends_with('-')
                        && l.chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
                });
            if !ok {
                diags.attribute_error(
                    p("route53").at("record_name"),
                    "Invalid Attribute Value",
                    format!("route53.record_name {n:?} is not a DNS name such as \"orders-db.internal.example.com\"."),
                );
            }
        }
        if let Known::Value(t) = r53.get("ttl").as_i64()
            && !(0..=172_800).contains(&t)
        {
            diags.attribute_error(
                p("route53").at("ttl"),
                "Invalid Attribute Value",
                format!("route53.ttl is {t}; it must be 0 to 172800 seconds."),
            );
        }
    }
    let fence_ids = cfg.get("fence_security_group_ids");
    match cfg.get("write_fence").as_str() {
        Known::Value("security_groups")
            if fence_ids.is_null()
                || (!fence_ids.is_unknown() && fence_ids.elements().is_empty()) =>
        {
            diags.attribute_error(
                p("fence_security_group_ids"),
                "Missing Fence Security Groups",
                "write_fence = \"security_groups\" moves the source to fence_security_group_ids during cutover: list security groups that admit DMS but not the application.",
            );
        }
        Known::Value("none" | "read_only") | Known::Null
            if !fence_ids.is_null() && !fence_ids.is_unknown() =>
        {
            diags.attribute_error(
                p("fence_security_group_ids"),
                "Fence Security Groups Not Used",
                "fence_security_group_ids is only used with write_fence = \"security_groups\".",
            )
        }
        _ => {}
    }
    for (i, id) in fence_ids.elements().iter().enumerate() {
        if let Known::Value(sg) = id.as_str()
            && !(sg.starts_with("sg-")
                && sg.len() > 3
                && sg[3..].chars().all(|c| c.is_ascii_hexdigit()))
        {
            diags.attribute_error(
                p("fence_security_group_ids").index(i64::try_from(i).unwrap_or(0)),
                "Invalid Attribute Value",
                format!("{sg:?} is not a security group id (sg-...)."),
            );
        }
    }
    if let Known::Value(h) = cfg.get("fence_hold_seconds").as_i64()
        && !(0..=rdsenc_engine::FENCE_HOLD_MAX.as_secs().cast_signed()).contains(&h)
    {
        diags.attribute_error(
            p("fence_hold_seconds"),
            "Invalid Attribute Value",
            format!(
                "fence_hold_seconds is {h}; it must be 0 to {}: the DNS TTL plus the application's pool maximum connection lifetime, at most a day.",
                rdsenc_engine::FENCE_HOLD_MAX.as_secs()
            ),
        );
    }
    if let Known::Value(l) = cfg.get("max_cutover_lag_seconds").as_f64()
        && !(l > 0.0 && l <= 3600.0)
    {
        diags.attribute_error(
            p("max_cutover_lag_seconds"),
            "Invalid Attribute Value",
            format!("max_cutover_lag_seconds is {l}; it must be above 0 and at most 3600: a cutover needs a bound it can meet, and a zero lag is never measured."),
        );
    }
    if let (Known::Value(true), Known::Value(false) | Known::Null) =
        (cfg.get("finalize").as_bool(), cfg.get("cutover").as_bool())
    {
        diags.attribute_error(
            p("finalize"),
            "Finalize Without Cutover",
            "finalize = true removes the migration's replication and the failback path; it is only valid once cut over (cutover = true).",
        );
    }
}

fn validate_tags(tags: &Value, path: &AttributePath, diags: &mut Diagnostics) {
    for k in tags.entries().into_iter().flat_map(|m| m.keys()) {
        if k.starts_with("rdsenc:") || k.starts_with("aws:") {
            diags.attribute_error(
                path.key(k),
                "Reserved Tag Key",
                format!("Tag key {k:?} is reserved: the `rdsenc:` prefix marks objects this provider owns and `aws:` is AWS's. Choose another key."),
            );
        }
    }
}

fn validate_dms(dms: &Value, path: &AttributePath, diags: &mut Diagnostics) {
    if dms.is_null() || dms.is_unknown() {
        return; // validate_strategy says when the block is missing.
    }
    let at = |n: &str| path.at(n);

    if let Known::Value(class) = dms.get("replication_instance_class").as_str()
        && !class.starts_with("dms.")
    {
        diags.attribute_error(
            at("replication_instance_class"),
            "Invalid Attribute Value",
            format!("replication_instance_class {class:?} is not a DMS instance class; it must look like \"dms.t3.medium\" or \"dms.r6i.large\"."),
        );
    }
    if let Known::Value(gb) = dms.get("replication_instance_allocated_storage").as_i64()
        && !(5..=6144).contains(&gb)
    {
        diags.attribute_error(
            at("replication_instance_allocated_storage"),
            "Invalid Attribute Value",
            format!("replication_instance_allocated_storage is {gb}; DMS accepts 5 to 6144 GiB."),
        );
    }
    if dms
        .get("replication_instance_arn")
        .as_str()
        .value()
        .is_some()
    {
        for managed in [
            "replication_instance_class",
            "replication_instance_allocated_storage",
            "replication_subnet_group_id",
            "vpc_security_group_ids",
        ] {
            if !dms.get(managed).is_null() {
                diags.attribute_error(
                    at(managed),
                    "Conflicting Replication Instance Settings",
                    format!("{managed} configures the managed replication instance, but replication_instance_arn names an existing one. Remove one of them."),
                );
            }
        }
    }
    if let Known::Value(u) = dms.get("source_username").as_str()
        && (u.is_empty() || u.len() > 128)
    {
        diags.attribute_error(
            at("source_username"),
            "Invalid Attribute Value",
            "source_username must be 1 to 128 characters.",
        );
    }

    // Credentials: a write-only password or a Secrets Manager secret, not both, not neither.
    // Only presence is checked: diagnostics never echo secret values.
    let pw = dms.get("source_password_wo");
    let secret = dms.get("secrets_manager_arn");
    match (pw.is_null(), secret.is_null()) {
        (false, false) if !pw.is_unknown() && !secret.is_unknown() => diags.attribute_error(
            at("secrets_manager_arn"),
            "Conflicting Credentials",
            "Set either source_password_wo or secrets_manager_arn, not both.",
        ),
        (true, true) => diags.attribute_error(
            at("source_password_wo"),
            "Missing Credentials",
            "DMS needs the source database password: set source_password_wo (write-only, never \
             stored) or secrets_manager_arn with secrets_manager_access_role_arn.",
        ),
        _ => {}
    }
    if !secret.is_null() && dms.get("secrets_manager_access_role_arn").is_null() {
        diags.attribute_error(
            at("secrets_manager_access_role_arn"),
            "Missing Secrets Manager Access Role",
            "secrets_manager_arn needs secrets_manager_access_role_arn: the IAM role DMS assumes to read the secret.",
        );
    }
    if !dms.get("target_password_wo").is_null() && !dms.get("target_secrets_manager_arn").is_null()
    {
        diags.attribute_error(
            at("target_secrets_manager_arn"),
            "Conflicting Credentials",
            "Set either target_password_wo or target_secrets_manager_arn, not both.",
        );
    }
    if !dms.get("target_secrets_manager_arn").is_null()
        && dms.get("secrets_manager_access_role_arn").is_null()
    {
        diags.attribute_error(
            at("secrets_manager_access_role_arn"),
            "Missing Secrets Manager Access Role",
            "target_secrets_manager_arn needs secrets_manager_access_role_arn.",
        );
    }
    for (version, password) in [
        ("source_password_wo_version", "source_password_wo"),
        ("target_password_wo_version", "target_password_wo"),
    ] {
        if !dms.get(version).is_null() && dms.get(password).is_null() {
            diags.attribute_error(
                at(version),
                "Version Without Password",
                format!("{version} only has a meaning together with {password}."),
            );
        }
    }

    match (dms.get("migration_type").as_str(), dms.get("cdc_start_position").is_null()) {
        (Known::Value("cdc"), true) => diags.attribute_error(
            at("cdc_start_position"),
            "Missing CDC Start Position",
            "migration_type = \"cdc\" replicates only changes after a native start point: set \
             cdc_start_position (MySQL binlog file:position at the snapshot, or PostgreSQL LSN), or \
             use the default \"full-load-and-cdc\".",
        ),
        (Known::Value("full-load-and-cdc") | Known::Null, false) => diags.attribute_error(
            at("cdc_start_position"),
            "CDC Start Position Without CDC-Only Migration",
            "cdc_start_position applies only to migration_type = \"cdc\"; a full load starts CDC \
             from the start of the load by itself.",
        ),
        _ => {}
    }
    if !dms.get("source_read_replica_identifier").is_null()
        && !matches!(
            dms.get("source_from_read_replica").as_bool(),
            Known::Value(true) | Known::Unknown
        )
    {
        diags.attribute_error(
            at("source_read_replica_identifier"),
            "Read Replica Not Used",
            "source_read_replica_identifier is only used with source_from_read_replica = true.",
        );
    }
}

fn validate_target(t: &Value, path: &AttributePath, diags: &mut Diagnostics) {
    if t.is_null() || t.is_unknown() {
        return;
    }
    validate_tags(t.get("tags"), &path.at("tags"), diags);
    if let Known::Value(p) = t.get("port").as_i64()
        && !(1150..=65535).contains(&p)
    {
        diags.attribute_error(
            path.at("port"),
            "Invalid Attribute Value",
            format!("port is {p}; RDS accepts 1150 to 65535."),
        );
    }
    if let Known::Value(n) = t.get("monitoring_interval").as_i64()
        && ![0, 1, 5, 10, 15, 30, 60].contains(&n)
    {
        diags.attribute_error(
            path.at("monitoring_interval"),
            "Invalid Attribute Value",
            format!("monitoring_interval is {n}; RDS accepts 0, 1, 5, 10, 15, 30 or 60."),
        );
    }
    if let Known::Value(n) = t.get("iops").as_i64()
        && n <= 0
    {
        diags.attribute_error(
            path.at("iops"),
            "Invalid Attribute Value",
            format!("iops is {n}; it must be positive."),
        );
    }
    if let Known::Value(n) = t.get("backup_retention_period").as_i64()
        && !(0..=35).contains(&n)
    {
        diags.attribute_error(
            path.at("backup_retention_period"),
            "Invalid Attribute Value",
            format!("backup_retention_period is {n}; RDS accepts 0 to 35 days."),
        );
    }
    if let Known::Value(c) = t.get("instance_class").as_str()
        && !c.starts_with("db.")
    {
        diags.attribute_error(
            path.at("instance_class"),
            "Invalid Attribute Value",
            format!("instance_class {c:?} is not an RDS instance class; it must look like \"db.r6g.large\"."),
        );
    }
}

/// The partition of `region` (`cn-north-1` -> `aws-cn`).
fn partition_of(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else if region.starts_with("us-isob-") {
        "aws-iso-b"
    } else if region.starts_with("us-iso-") {
        "aws-iso"
    } else if region.starts_with("eusc-") {
        "aws-eusc"
    } else {
        "aws"
    }
}

/// Plan-time check, once the provider's region is known: ARNs given for the KMS key, the
/// replication instance and the secrets must be in that region and its partition. RDS, DMS
/// and Secrets Manager only reach these in their own region, so AWS would refuse them late,
/// after the snapshot was taken.
pub fn validate_arn_regions(cfg: &Value, region: &str, diags: &mut Diagnostics) {
    let p = AttributePath::attr;
    let want_partition = partition_of(region);
    let dms = p("dms");
    let target = p("target");
    let checks = [
        (cfg.get("kms_key_id"), p("kms_key_id")),
        (
            cfg.get("dms").get("replication_instance_arn"),
            dms.at("replication_instance_arn"),
        ),
        (
            cfg.get("dms").get("secrets_manager_arn"),
            dms.at("secrets_manager_arn"),
        ),
        (
            cfg.get("dms").get("target_secrets_manager_arn"),
            dms.at("target_secrets_manager_arn"),
        ),
        (
            cfg.get("target").get("performance_insights_kms_key_id"),
            target.at("performance_insights_kms_key_id"),
        ),
    ];
    for (v, path) in checks {
        let Known::Value(s) = v.as_str() else {
            continue;
        };
        let Ok(a) = Arn::parse(s) else { continue }; // not an ARN: validate_config's business
        if a.partition != want_partition {
            diags.attribute_error(
                path.clone(),
                "ARN In Another Partition",
                format!(
                    "{path} is in partition {:?}, but the provider works in region {region} \
                     (partition {want_partition:?}). Use a resource of the provider's partition.",
                    a.partition
                ),
            );
        } else if !a.region.is_empty() && a.region != region {
            diags.attribute_error(
                path.clone(),
                "ARN In Another Region",
                format!(
                    "{path} is in region {:?}, but the provider works in region {region}; AWS \
                     only uses it in its own region. Use one in {region}, or configure the \
                     provider for {:?}.",
                    a.region, a.region
                ),
            );
        }
    }
}

struct NameLike;
/// A DB parameter group name.
pub(crate) fn name_like() -> impl StringValidator {
    NameLike
}
impl StringValidator for NameLike {
    fn description(&self) -> String {
        "a name of 1 to 255 letters, digits, hyphens, underscores or periods".to_owned()
    }
    fn rejection(&self, value: &str) -> Option<String> {
        let fits = !value.is_empty()
            && value.len() <= 255
            && value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
        (!fits).then(|| format!("{value:?} must be {}.", self.description()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::Value as V;
    use std::collections::BTreeMap;

    fn obj(pairs: &[(&str, V)]) -> V {
        V::Object(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect::<BTreeMap<_, _>>(),
        )
    }
    fn base_dms() -> Vec<(&'static str, V)> {
        vec![
            ("source_username", V::string("dms")),
            ("source_password_wo", V::string("s3cret-pw")),
        ]
    }
    fn config(dms: Vec<(&'static str, V)>, top: &[(&str, V)]) -> V {
        let mut pairs = vec![
            ("source_db_instance_identifier", V::string("orders")),
            ("kms_key_id", V::string("alias/rds-at-rest")),
            ("dms", obj(&dms)),
        ];
        pairs.extend(top.iter().cloned());
        obj(&pairs)
    }
    /// What the server reports: the schema's validators, then `validate_config`.
    fn check(cfg: &V) -> Diagnostics {
        let mut d = Diagnostics::new();
        let root = AttributePath::root();
        super::super::schema::schema()
            .block
            .validate_values(cfg, &root, &mut d);
        validate_config(cfg, &mut d);
        d
    }
    fn paths(cfg: &V) -> Vec<String> {
        check(cfg).attribute_paths()
    }

    #[test]
    fn a_minimal_configuration_is_valid() {
        assert!(paths(&config(base_dms(), &[])).is_empty());
    }

    #[test]
    fn each_bad_input_is_reported_on_its_attribute() {
        let cases: Vec<(V, &str)> = vec![
            (
                config(
                    base_dms(),
                    &[("source_db_instance_identifier", V::string("orders_db"))],
                ),
                "source_db_instance_identifier",
            ),
            (
                config(
                    base_dms(),
                    &[("target_db_instance_identifier", V::string("orders"))],
                ),
                "target_db_instance_identifier",
            ),
            (
                config(base_dms(), &[("kms_key_id", V::string("rds-at-rest"))]),
                "kms_key_id",
            ),
            (
                config(
                    base_dms(),
                    &[(
                        "tags",
                        V::Map([("rdsenc:role".to_owned(), V::string("x"))].into()),
                    )],
                ),
                "tags[\"rdsenc:role\"]",
            ),
            (
                config(
                    base_dms(),
                    &[("timeouts", obj(&[("create", V::string("forever"))]))],
                ),
                "timeouts.create",
            ),
            (
                config(vec![("source_username", V::string("dms"))], &[]),
                "dms.source_password_wo",
            ),
            (
                config(
                    [
                        base_dms(),
                        vec![
                            (
                                "secrets_manager_arn",
                                V::string("arn:aws:secretsmanager:us-east-1:123456789012:secret:x"),
                            ),
                            (
                                "secrets_manager_access_role_arn",
                                V::string("arn:aws:iam::123456789012:role/r"),
                            ),
                        ],
                    ]
                    .concat(),
                    &[],
                ),
                "dms.secrets_manager_arn",
            ),
            (
                config(
                    [base_dms(), vec![("table_mappings", V::string("{not json"))]].concat(),
                    &[],
                ),
                "dms.table_mappings",
            ),
            (
                config(
                    [
                        base_dms(),
                        vec![("target_table_prep_mode", V::string("DROP_AND_CREATE"))],
                    ]
                    .concat(),
                    &[],
                ),
                "dms.target_table_prep_mode",
            ),
            (
                config(
                    [base_dms(), vec![("migration_type", V::string("cdc"))]].concat(),
                    &[],
                ),
                "dms.cdc_start_position",
            ),
            (
                config(
                    [
                        base_dms(),
                        vec![(
                            "replication_instance_arn",
                            V::string("arn:aws:rds:us-east-1:123456789012:db:x"),
                        )],
                    ]
                    .concat(),
                    &[],
                ),
                "dms.replication_instance_arn",
            ),
            (
                config(
                    [
                        base_dms(),
                        vec![("replication_instance_class", V::string("t3.medium"))],
                    ]
                    .concat(),
                    &[],
                ),
                "dms.replication_instance_class",
            ),
            (
                config(
                    [
                        base_dms(),
                        vec![("replication_instance_allocated_storage", V::int(0))],
                    ]
                    .concat(),
                    &[],
                ),
                "dms.replication_instance_allocated_storage",
            ),
            (
                config(
                    base_dms(),
                    &[("target", obj(&[("backup_retention_period", V::int(99))]))],
                ),
                "target.backup_retention_period",
            ),
        ];
        for (cfg, want) in cases {
            let got = paths(&cfg);
            assert!(
                got.iter().any(|p| p == want),
                "expected a diagnostic on {want}, got {got:?}"
            );
        }
    }

    #[test]
    fn cutover_settings_are_checked_on_their_attributes() {
        let cases: Vec<(V, &str)> = vec![
            (
                config(base_dms(), &[("cutover_strategy", V::string("dns"))]),
                "cutover_strategy",
            ),
            (
                config(base_dms(), &[("cutover_strategy", V::string("route53"))]),
                "route53",
            ),
            (
                config(
                    base_dms(),
                    &[
                        ("cutover_strategy", V::string("route53")),
                        (
                            "route53",
                            obj(&[
                                ("zone_id", V::string("zone1")),
                                ("record_name", V::string("db.example.com")),
                            ]),
                        ),
                    ],
                ),
                "route53.zone_id",
            ),
            (
                config(
                    base_dms(),
                    &[
                        ("cutover_strategy", V::string("route53")),
                        (
                            "route53",
                            obj(&[
                                ("zone_id", V::string("Z123")),
                                ("record_name", V::string("not a name")),
                            ]),
                        ),
                    ],
                ),
                "route53.record_name",
            ),
            (
                config(base_dms(), &[("write_fence", V::string("security_groups"))]),
                "fence_security_group_ids",
            ),
            (
                config(
                    base_dms(),
                    &[
                        ("write_fence", V::string("read_only")),
                        (
                            "fence_security_group_ids",
                            V::List(vec![V::string("sg-0123456789abcdef0")]),
                        ),
                    ],
                ),
                "fence_security_group_ids",
            ),
            (
                config(base_dms(), &[("max_cutover_lag_seconds", V::int(0))]),
                "max_cutover_lag_seconds",
            ),
            (
                config(base_dms(), &[("max_cutover_lag_seconds", V::int(-5))]),
                "max_cutover_lag_seconds",
            ),
            (
                config(base_dms(), &[("fence_hold_seconds", V::int(-1))]),
                "fence_hold_seconds",
            ),
            (
                config(base_dms(), &[("fence_hold_seconds", V::int(86_401))]),
                "fence_hold_seconds",
            ),
            (
                config(base_dms(), &[("finalize", V::Bool(true))]),
                "finalize",
            ),
            (
                config(base_dms(), &[("retire_source", V::string("delete"))]),
                "retire_source",
            ),
        ];
        for (cfg, want) in cases {
            let got = paths(&cfg);
            assert!(
                got.iter().any(|p| p == want),
                "expected a diagnostic on {want}, got {got:?}"
            );
        }
    }

    #[test]
    fn unknown_values_are_left_for_apply_time() {
        let cfg = config(
            vec![
                ("source_username", V::Unknown),
                ("source_password_wo", V::Unknown),
            ],
            &[("kms_key_id", V::Unknown)],
        );
        assert!(paths(&cfg).is_empty());
    }

    #[test]
    fn diagnostics_never_echo_the_password() {
        let cfg = config(
            [
                base_dms(),
                vec![(
                    "secrets_manager_arn",
                    V::string("arn:aws:secretsmanager:us-east-1:123456789012:secret:x"),
                )],
            ]
            .concat(),
            &[],
        );
        let d = check(&cfg);
        assert!(d.has_error());
        assert!(
            d.iter()
                .all(|d| !d.detail.contains("s3cret-pw") && !d.summary.contains("s3cret-pw"))
        );
    }

    #[test]
    fn arns_outside_the_providers_region_or_partition_are_reported_on_their_attribute() {
        let key = "1234abcd-12ab-34cd-56ef-1234567890ab";
        let rep = "arn:aws:dms:eu-west-1:123456789012:rep:ABC";
        let cfg = config(
            [
                base_dms(),
                vec![("replication_instance_arn", V::string(rep))],
            ]
            .concat(),
            &[(
                "kms_key_id",
                V::string(format!("arn:aws-cn:kms:us-east-1:123456789012:key/{key}")),
            )],
        );
        let mut d = Diagnostics::new();
        validate_arn_regions(&cfg, "us-east-1", &mut d);
        let got = d.attribute_paths();
        assert_eq!(got, ["kms_key_id", "dms.replication_instance_arn"]);
        let mut ok = Diagnostics::new();
        validate_arn_regions(&cfg, "eu-west-1", &mut ok);
        assert_eq!(
            ok.iter().count(),
            1,
            "only the aws-cn key is wrong in eu-west-1"
        );
        let mut cn = Diagnostics::new();
        validate_arn_regions(
            &config(
                base_dms(),
                &[(
                    "kms_key_id",
                    V::string(format!("arn:aws-cn:kms:cn-north-1:123456789012:key/{key}")),
                )],
            ),
            "cn-north-1",
            &mut cn,
        );
        assert!(!cn.has_error());
    }

    /// The acceptance table (acceptance-tests/tests/test_bad_input.py), case for case where the
    /// check is static: the same ids, refused on the same attribute path.
    #[test]
    fn the_acceptance_bad_input_table_is_refused_on_the_same_attributes() {
        const ACCT: &str = "123456789012";
        let key = "1234abcd-12ab-34cd-56ef-1234567890ab";
        let secret = format!("arn:aws:secretsmanager:us-east-1:{ACCT}:secret:orders-dms-AbCdEf");
        let role = format!("arn:aws:iam::{ACCT}:role/dms-secrets");
        let top = |k: &'static str, v: V| config(base_dms(), &[(k, v)]);
        let dms = |extra: Vec<(&'static str, V)>| config([base_dms(), extra].concat(), &[]);
        let target = |k: &'static str, v: V| config(base_dms(), &[("target", obj(&[(k, v)]))]);
        let timeout = |k: &'static str, v: &str| {
            config(base_dms(), &[("timeouts", obj(&[(k, V::string(v))]))])
        };
        let tags = |k: &str| V::Map([(k.to_owned(), V::string("x"))].into());
        let src = "source_db_instance_identifier";
        let tgt = "target_db_instance_identifier";
        let cases: Vec<(&str, V, String)> = vec![
            (
                "source-id-underscore",
                top(src, V::string("orders_db")),
                src.into(),
            ),
            (
                "source-id-starts-with-digit",
                top(src, V::string("1orders")),
                src.into(),
            ),
            (
                "source-id-too-long",
                top(src, V::string("o".repeat(64))),
                src.into(),
            ),
            (
                "source-id-double-hyphen",
                top(src, V::string("orders--db")),
                src.into(),
            ),
            (
                "source-id-trailing-hyphen",
                top(src, V::string("orders-")),
                src.into(),
            ),
            ("source-id-empty", top(src, V::string("")), src.into()),
            (
                "target-id-dot",
                top(tgt, V::string("orders.enc")),
                tgt.into(),
            ),
            (
                "target-id-equals-source",
                top(tgt, V::string("orders")),
                tgt.into(),
            ),
            (
                "target-id-equals-source-other-case",
                top(tgt, V::string("Orders")),
                tgt.into(),
            ),
            (
                "kms-alias-without-prefix",
                top("kms_key_id", V::string("orders-at-rest")),
                "kms_key_id".into(),
            ),
            (
                "kms-aws-managed-key",
                top("kms_key_id", V::string("alias/aws/rds")),
                "kms_key_id".into(),
            ),
            (
                "kms-arn-of-another-service",
                top(
                    "kms_key_id",
                    V::string(format!("arn:aws:rds:us-east-1:{ACCT}:key/{key}")),
                ),
                "kms_key_id".into(),
            ),
            (
                "kms-arn-unknown-partition",
                top(
                    "kms_key_id",
                    V::string(format!("arn:awz:kms:us-east-1:{ACCT}:key/{key}")),
                ),
                "kms_key_id".into(),
            ),
            (
                "kms-arn-short-account",
                top(
                    "kms_key_id",
                    V::string(format!("arn:aws:kms:us-east-1:12345:key/{key}")),
                ),
                "kms_key_id".into(),
            ),
            (
                "kms-key-id-malformed",
                top("kms_key_id", V::string("1234abcd-12ab-34cd-56ef")),
                "kms_key_id".into(),
            ),
            (
                "kms-empty",
                top("kms_key_id", V::string("")),
                "kms_key_id".into(),
            ),
            (
                "tag-key-rdsenc-reserved",
                top("tags", tags("rdsenc:migration")),
                "tags[\"rdsenc:migration\"]".into(),
            ),
            (
                "tag-key-aws-reserved",
                top("tags", tags("aws:createdBy")),
                "tags[\"aws:createdBy\"]".into(),
            ),
            (
                "target-tag-key-reserved",
                target("tags", tags("rdsenc:role")),
                "target.tags[\"rdsenc:role\"]".into(),
            ),
            (
                "timeout-create-not-a-duration",
                timeout("create", "forever"),
                "timeouts.create".into(),
            ),
            (
                "timeout-delete-without-unit",
                timeout("delete", "10"),
                "timeouts.delete".into(),
            ),
            (
                "timeout-update-negative",
                timeout("update", "-5m"),
                "timeouts.update".into(),
            ),
            (
                "credentials-missing",
                dms(vec![("source_password_wo", V::Null)]),
                "dms.source_password_wo".into(),
            ),
            (
                "credentials-password-and-secret",
                dms(vec![
                    ("secrets_manager_arn", V::string(&secret)),
                    ("secrets_manager_access_role_arn", V::string(&role)),
                ]),
                "dms.secrets_manager_arn".into(),
            ),
            (
                "secret-without-access-role",
                dms(vec![
                    ("source_password_wo", V::Null),
                    ("secrets_manager_arn", V::string(&secret)),
                ]),
                "dms.secrets_manager_access_role_arn".into(),
            ),
            (
                "secret-arn-of-another-service",
                dms(vec![
                    ("source_password_wo", V::Null),
                    (
                        "secrets_manager_arn",
                        V::string(format!("arn:aws:ssm:us-east-1:{ACCT}:parameter/x")),
                    ),
                    ("secrets_manager_access_role_arn", V::string(&role)),
                ]),
                "dms.secrets_manager_arn".into(),
            ),
            (
                "access-role-arn-is-a-user",
                dms(vec![
                    ("source_password_wo", V::Null),
                    ("secrets_manager_arn", V::string(&secret)),
                    (
                        "secrets_manager_access_role_arn",
                        V::string(format!("arn:aws:iam::{ACCT}:user/dms")),
                    ),
                ]),
                "dms.secrets_manager_access_role_arn".into(),
            ),
            (
                "target-password-and-target-secret",
                dms(vec![
                    ("target_password_wo", V::string("pw")),
                    ("target_secrets_manager_arn", V::string(&secret)),
                    ("secrets_manager_access_role_arn", V::string(&role)),
                ]),
                "dms.target_secrets_manager_arn".into(),
            ),
            (
                "password-version-without-password",
                dms(vec![
                    ("source_password_wo", V::Null),
                    ("source_password_wo_version", V::int(2)),
                    ("secrets_manager_arn", V::string(&secret)),
                    ("secrets_manager_access_role_arn", V::string(&role)),
                ]),
                "dms.source_password_wo_version".into(),
            ),
            (
                "source-username-empty",
                dms(vec![("source_username", V::string(""))]),
                "dms.source_username".into(),
            ),
            (
                "migration-type-unknown",
                dms(vec![("migration_type", V::string("full-load"))]),
                "dms.migration_type".into(),
            ),
            (
                "prep-mode-drop-and-create",
                dms(vec![(
                    "target_table_prep_mode",
                    V::string("DROP_AND_CREATE"),
                )]),
                "dms.target_table_prep_mode".into(),
            ),
            (
                "prep-mode-lower-case",
                dms(vec![(
                    "target_table_prep_mode",
                    V::string("truncate_before_load"),
                )]),
                "dms.target_table_prep_mode".into(),
            ),
            (
                "table-mappings-malformed-json",
                dms(vec![("table_mappings", V::string("{not json"))]),
                "dms.table_mappings".into(),
            ),
            (
                "table-mappings-not-an-object",
                dms(vec![("table_mappings", V::string("[\"rules\"]"))]),
                "dms.table_mappings".into(),
            ),
            (
                "cdc-without-start-position",
                dms(vec![("migration_type", V::string("cdc"))]),
                "dms.cdc_start_position".into(),
            ),
            (
                "start-position-without-cdc",
                dms(vec![(
                    "cdc_start_position",
                    V::string("mysql-bin-changelog.000024:373"),
                )]),
                "dms.cdc_start_position".into(),
            ),
            (
                "replication-instance-arn-of-rds",
                dms(vec![(
                    "replication_instance_arn",
                    V::string(format!("arn:aws:rds:us-east-1:{ACCT}:db:orders")),
                )]),
                "dms.replication_instance_arn".into(),
            ),
            (
                "replication-instance-arn-and-class",
                dms(vec![
                    (
                        "replication_instance_arn",
                        V::string(format!("arn:aws:dms:us-east-1:{ACCT}:rep:ABC")),
                    ),
                    ("replication_instance_class", V::string("dms.t3.large")),
                ]),
                "dms.replication_instance_class".into(),
            ),
            (
                "replication-instance-class-without-dms-prefix",
                dms(vec![("replication_instance_class", V::string("t3.medium"))]),
                "dms.replication_instance_class".into(),
            ),
            (
                "replication-storage-zero",
                dms(vec![("replication_instance_allocated_storage", V::int(0))]),
                "dms.replication_instance_allocated_storage".into(),
            ),
            (
                "replication-storage-negative",
                dms(vec![(
                    "replication_instance_allocated_storage",
                    V::int(-50),
                )]),
                "dms.replication_instance_allocated_storage".into(),
            ),
            (
                "replication-storage-too-large",
                dms(vec![(
                    "replication_instance_allocated_storage",
                    V::int(7000),
                )]),
                "dms.replication_instance_allocated_storage".into(),
            ),
            (
                "replica-identifier-without-replica-mode",
                dms(vec![(
                    "source_read_replica_identifier",
                    V::string("orders-replica"),
                )]),
                "dms.source_read_replica_identifier".into(),
            ),
            (
                "replica-identifier-illegal",
                dms(vec![
                    ("source_from_read_replica", V::Bool(true)),
                    (
                        "source_read_replica_identifier",
                        V::string("orders_replica"),
                    ),
                ]),
                "dms.source_read_replica_identifier".into(),
            ),
            (
                "target-port-privileged",
                target("port", V::int(80)),
                "target.port".into(),
            ),
            (
                "target-backup-retention-too-long",
                target("backup_retention_period", V::int(99)),
                "target.backup_retention_period".into(),
            ),
            (
                "target-monitoring-interval-odd",
                target("monitoring_interval", V::int(7)),
                "target.monitoring_interval".into(),
            ),
            (
                "target-iops-zero",
                target("iops", V::int(0)),
                "target.iops".into(),
            ),
            (
                "target-instance-class-without-db-prefix",
                target("instance_class", V::string("r6g.large")),
                "target.instance_class".into(),
            ),
            (
                "target-monitoring-role-not-a-role",
                target(
                    "monitoring_role_arn",
                    V::string(format!("arn:aws:iam::{ACCT}:policy/x")),
                ),
                "target.monitoring_role_arn".into(),
            ),
            (
                "target-pi-key-without-alias-prefix",
                target("performance_insights_kms_key_id", V::string("pi-key")),
                "target.performance_insights_kms_key_id".into(),
            ),
            (
                "target-parameter-group-illegal",
                target("parameter_group_name", V::string("bad name!")),
                "target.parameter_group_name".into(),
            ),
        ];
        assert!(cases.len() >= 50, "{} cases", cases.len());
        for (id, cfg, want) in cases {
            let got = paths(&cfg);
            assert!(
                got.contains(&want),
                "{id}: expected a diagnostic on {want}, got {got:?}"
            );
        }
        // The region and partition cases need the provider's region (checked at plan).
        for (id, cfg, want) in [
            (
                "kms-arn-other-region",
                top(
                    "kms_key_id",
                    V::string(format!("arn:aws:kms:eu-west-1:{ACCT}:key/{key}")),
                ),
                "kms_key_id",
            ),
            (
                "kms-arn-other-partition",
                top(
                    "kms_key_id",
                    V::string(format!("arn:aws-cn:kms:us-east-1:{ACCT}:key/{key}")),
                ),
                "kms_key_id",
            ),
            (
                "secret-arn-other-region",
                dms(vec![
                    ("source_password_wo", V::Null),
                    (
                        "secrets_manager_arn",
                        V::string(secret.replace("us-east-1", "eu-central-1")),
                    ),
                    ("secrets_manager_access_role_arn", V::string(&role)),
                ]),
                "dms.secrets_manager_arn",
            ),
            (
                "replication-instance-arn-other-region",
                dms(vec![(
                    "replication_instance_arn",
                    V::string(format!("arn:aws:dms:ap-south-1:{ACCT}:rep:ABC")),
                )]),
                "dms.replication_instance_arn",
            ),
        ] {
            let mut d = Diagnostics::new();
            validate_arn_regions(&cfg, "us-east-1", &mut d);
            let got = d.attribute_paths();
            assert_eq!(got, [want], "{id}");
        }
    }
}
