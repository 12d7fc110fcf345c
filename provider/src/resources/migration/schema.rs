//! The `rdsenc_migration` schema: one definition feeds Terraform, validation and docs.

use super::convert::DEFAULT_TTL;
use super::validate::{
    FENCES, MIGRATION_STRATEGIES, MIGRATION_TYPES, PREP_MODES, RETIRE, STRATEGIES, name_like,
};
use crate::framework::{Attribute, Block, NestedBlock, Schema, Type, Value};
use crate::validators::{arn, db_identifier, duration, json_object, kms_key_reference, one_of};
use rdsenc_engine::Strategy;

/// Phases in the order a migration passes them (documented in the schema and docs).
pub const PHASES_DOC: &str = "`snapshotting`, `copying_encrypted`, `restoring`, \
`provisioning_replication`, `full_load`, `provisioning_green`, `replicating`, `cutting_over`, `cut_over`, \
`failing_back`, `finalizing`, `finalized`";

/// The resource's schema.
pub fn schema() -> Schema {
    let s = |n: &str| Attribute::string(n);
    let computed_str = |n: &str, d: &str| Attribute::string(n).computed().description(d);
    Schema::new(
        Block::new(
            "Migrates a live, unencrypted Amazon RDS DB instance (MySQL, MariaDB or PostgreSQL) to \
             encrypted storage: snapshot, encrypted copy with `kms_key_id`, restore of an encrypted \
             twin that inherits the source's settings, then AWS DMS full load and ongoing change data \
             capture (CDC) that keep the twin in sync. `terraform apply` returns once the twin is \
             replicating; `terraform plan` shows the phase, lag and validation state.",
        )
        .attribute(computed_str("id", "The migration id: the source DB instance identifier."))
        .attribute(
            s("source_db_instance_identifier")
                .validate(db_identifier())
                .required()
                .requires_replace()
                .description(
                    "Identifier of the unencrypted source DB instance. It is never modified or \
                     deleted by this resource before cutover. Changing it replaces the migration.",
                ),
        )
        .attribute(
            s("strategy").validate(one_of(MIGRATION_STRATEGIES)).optional().computed().default(Value::string(Strategy::Dms.as_str())).requires_replace().description(
                "How the encrypted twin is made and kept in sync: `dms` (default: snapshot, \
                 encrypted copy, restore, then AWS DMS full load and CDC; failback by a reverse DMS \
                 task) or `blue_green` (an RDS blue/green deployment whose green instances, the \
                 source and each of its read replicas, are encrypted with `kms_key_id`; RDS \
                 replication keeps them in sync; cutover is an RDS switchover, after which the \
                 original identifiers name the encrypted instances; no failback). See the \
                 strategies guide. Changing it replaces the migration.",
            ),
        )
        .attribute(
            s("kms_key_id").validate(kms_key_reference()).required().description(
                "Customer managed KMS key for the encrypted copy and the target instance: key id, \
                 key ARN, `alias/<name>` or alias ARN. Changing it replaces the migration.",
            ),
        )
        .attribute(
            s("target_db_instance_identifier")
                .validate(db_identifier())
                .optional()
                .computed()
                .requires_replace()
                .description(
                    "Identifier of the encrypted target instance. Defaults to \
                     `<source_db_instance_identifier>-encrypted`. Refused if an instance with this \
                     identifier exists and was not made by this migration.",
                ),
        )
        .attribute(Attribute::bool("skip_target_final_snapshot").optional().computed().default(Value::Bool(false)).description(
            "With `delete_target_on_destroy`, skip the final snapshot of the target. Default \
             `false`: a final snapshot is taken before the target is deleted.",
        ))
        .attribute(Attribute::bool("delete_target_on_destroy").optional().computed().default(Value::Bool(false)).description(
            "Whether `terraform destroy` deletes the encrypted target instance (with a final \
             snapshot). Default `false`: destroy removes only the DMS objects and intermediate \
             snapshots and leaves both databases in place.",
        ))
        .attribute(Attribute::new("tags", Type::map_of(Type::String)).optional().description(
            "Tags added to every AWS object this migration creates, besides the `rdsenc:*` tags \
             that identify them.",
        ))
        .attribute(Attribute::bool("cutover").optional().computed().default(Value::Bool(false)).description(
            "Point the application at the encrypted instance. Flip `false -> true` in a reviewed \
             change on a replicating migration: the plan says what will switch, from what to what, \
             at which lag; apply checks the task, lag (`max_cutover_lag_seconds`) and validation, \
             fences writes (`write_fence`), waits for CDC to drain, switches per \
             `cutover_strategy` and starts a reverse DMS task so writes on the encrypted instance \
             flow back to the source. `true -> false` fails back losslessly. Default `false`.",
        ))
        .attribute(s("cutover_strategy").validate(one_of(STRATEGIES)).optional().computed().default(Value::string("none")).description(
            "How the application is switched: `route53` (UPSERT the CNAME in `route53` to the active \
             instance), `identifier_swap` (rename source -> `<source>-unencrypted`, then target -> \
             `<source>`, so the existing hostname names the encrypted instance) or `none` (only \
             `active_endpoint` / `active_db_instance_identifier` change, for other resources to \
             use). Default `none`.",
        ))
        .attribute(s("write_fence").validate(one_of(FENCES)).optional().computed().description(
            "How writes are stopped at cutover before CDC drains: `read_only` (the source, and on \
             failback the target, gets `read_only` / `default_transaction_read_only` = 1 through its \
             own custom DB parameter group, applied immediately: open sessions' writes fail with a \
             read-only error, reads go on; the previous value is restored afterwards), `none` (you \
             run a maintenance page) or `security_groups` (the instance is moved to \
             `fence_security_group_ids`, which admit DMS but not the application; connections \
             already open stay open, so pooled sessions can still write). Default `read_only`; \
             with `none`, writes that reach the source after the drain begins are not replicated \
             and are lost from the encrypted instance. Blue/green ignores it (RDS blocks writes \
             during its switchover) and plans `none`.",
        ))
        .attribute(Attribute::number("fence_hold_seconds").optional().description(
            "With `write_fence = \"read_only\"` on MySQL/MariaDB: after the switch (cutover, and \
             failback), the instance that lost traffic stays read-only this many seconds before \
             its fence is lifted so the held DMS task can write into it. Set it to at least the \
             DNS TTL plus the application's connection-pool maximum connection lifetime: until \
             then a stale connection's write fails with a read-only error (the application \
             retries on a new connection, which reaches the new primary); a write arriving after \
             the hold succeeds on the old primary and is lost. Default: `route53.ttl` + 60 with \
             `cutover_strategy = \"route53\"`, otherwise 60. 0 to 86400. Ignored with other \
             fences, on PostgreSQL (DMS writes past the fence there, so it is never lifted \
             early) and with blue/green.",
        ))
        .attribute(Attribute::new("fence_security_group_ids", Type::list_of(Type::String)).optional().description(
            "Security groups for `write_fence = \"security_groups\"`: they must admit the DMS \
             replication instance and nothing else.",
        ))
        .attribute(Attribute::number("max_cutover_lag_seconds").optional().computed().description(
            "Cutover and failback wait (within the update timeout) until replication lag is at most \
             this many seconds, and refuse otherwise. Default 5.",
        ))
        .attribute(Attribute::bool("require_validation").optional().computed().description(
            "Refuse cutover unless DMS validation reports every table validated. Default: \
             `dms.validation`.",
        ))
        .attribute(Attribute::bool("finalize").optional().computed().default(Value::Bool(false)).description(
            "After a cutover the team is sure of: delete the DMS tasks (both directions), endpoints \
             and managed replication instance, and retire the source per `retire_source`. Failback \
             is impossible afterwards. Only valid with `cutover = true`. Default `false`.",
        ))
        .attribute(s("retire_source").validate(one_of(RETIRE)).optional().computed().default(Value::string("keep")).description(
            "What finalize does with the unencrypted source: `keep` (default), `stop` \
             (StopDBInstance; AWS restarts a stopped instance after 7 days) or \
             `snapshot_and_delete` (a final snapshot `<source>-rdsenc-final`, then delete; \
             deletion protection is respected, never turned off).",
        ))
        // Computed progress, refreshed on every read so `terraform plan` shows where it stands.
        .attribute(computed_str(
            "phase",
            &format!("Where the migration stands: one of {PHASES_DOC}."),
        ))
        .attribute(computed_str(
            "source_snapshot_identifier",
            "The manual snapshot of the source that the encrypted copy was made from.",
        ))
        .attribute(computed_str("encrypted_snapshot_arn", "ARN of the encrypted snapshot copy."))
        .attribute(computed_str("kms_key_arn", "ARN of the KMS key `kms_key_id` resolves to."))
        .attribute(computed_str("target_db_instance_arn", "ARN of the encrypted target instance."))
        .attribute(computed_str(
            "target_endpoint",
            "Address and port (`host:port`) of the encrypted target instance.",
        ))
        .attribute(computed_str(
            "replication_instance_arn",
            "ARN of the DMS replication instance in use (given in `dms` or managed by this resource).",
        ))
        .attribute(computed_str("source_endpoint_arn", "ARN of the DMS source endpoint."))
        .attribute(computed_str("target_endpoint_arn", "ARN of the DMS target endpoint."))
        .attribute(computed_str("replication_task_arn", "ARN of the DMS replication task."))
        .attribute(computed_str(
            "replication_task_status",
            "Status of the DMS replication task as DMS reports it (e.g. `running`).",
        ))
        .attribute(Attribute::number("full_load_progress_percent").computed().description(
            "Full-load progress of the replication task, 0 to 100.",
        ))
        .attribute(Attribute::number("replication_lag_seconds").computed().description(
            "Current CDC lag in seconds (the larger of the DMS `CDCLatencySource` and \
             `CDCLatencyTarget` metrics); null while no CDC is running.",
        ))
        .attribute(computed_str(
            "validation_state",
            "Summary of DMS data validation over all tables: `validated`, `pending`, \
             `mismatched: <n> tables`, `error: <n> tables` (tables DMS cannot validate), `not_enabled` or `unknown`.",
        ))
        .attribute(computed_str(
            "active_db_instance_identifier",
            "The DB instance serving the application: the source until cutover, the encrypted instance after (under the source's identifier after an `identifier_swap`).",
        ))
        .attribute(computed_str(
            "active_endpoint",
            "Address and port (`host:port`) of the instance serving the application.",
        ))
        .attribute(computed_str("cutover_started_at", "When the last cutover started (RFC 3339, UTC)."))
        .attribute(computed_str("cutover_completed_at", "When the last cutover completed (RFC 3339, UTC)."))
        .attribute(Attribute::number("cutover_write_pause_seconds").computed().description(
            "How long writes were paused during the last cutover: from the write fence (or the \
             start of the drain) until the switch completed.",
        ))
        .attribute(computed_str(
            "reverse_replication_task_arn",
            "ARN of the reverse DMS task (encrypted target -> source) that keeps failback lossless \
             while cut over.",
        ))
        .attribute(computed_str("reverse_replication_task_status", "Status of the reverse DMS task."))
        .attribute(Attribute::number("reverse_replication_lag_seconds").computed().description(
            "CDC lag of the reverse task in seconds; failback waits for it like cutover does.",
        ))
        .attribute(Attribute::number("switchover_timeout").optional().computed().description(
            "With `strategy = \"blue_green\"`: seconds RDS may take for the switchover \
             (`SwitchoverTimeout`, 30 to 3600). Past it RDS rolls the switchover back and the \
             source keeps serving. Default 300.",
        ))
        .attribute(computed_str(
            "blue_green_deployment_id",
            "With `strategy = \"blue_green\"`: the RDS blue/green deployment identifier \
             (`bgd-...`), until finalize deletes the deployment.",
        ))
        .block(NestedBlock::single("dms", dms_block()))
        .block(NestedBlock::single("blue_green", blue_green_block()))
        .block(NestedBlock::single("route53", route53_block()))
        .block(NestedBlock::single("target", target_block()))
        .block(NestedBlock::single("timeouts", timeouts_block())),
    )
}

fn blue_green_block() -> Block {
    let s = |n: &str, d: &str| Attribute::string(n).optional().description(d);
    Block::new(
        "Settings of the blue/green deployment, for `strategy = \"blue_green\"`. Applied when \
         the deployment is created; they cannot change afterwards.",
    )
    .attribute(
        Attribute::new("replica_kms_key_ids", Type::map_of(Type::String))
            .optional()
            .description(
                "KMS key for the green twin of each read replica of the source, by replica \
                 identifier. Replicas not listed use `kms_key_id`; a replica in another region \
                 must be listed with a key of its region.",
            ),
    )
    .attribute(s(
        "target_engine_version",
        "Engine version for the green instances (an upgrade in the same switchover). Default: \
         the source's version.",
    ))
    .attribute(s(
        "target_db_parameter_group_name",
        "DB parameter group for the green instances. Default: the source's group.",
    ))
}

fn route53_block() -> Block {
    Block::new("The DNS record the application connects to, for `cutover_strategy = \"route53\"`.")
        .attribute(Attribute::string("zone_id").required().description("Route 53 hosted zone id (`Z...`)."))
        .attribute(Attribute::string("record_name").required().description(
            "The CNAME the application uses, inside the zone, e.g. `orders-db.internal.example.com`.",
        ))
        .attribute(Attribute::number("ttl").optional().computed().default(Value::int(DEFAULT_TTL)).description(
            "TTL of the CNAME in seconds. Default 30: keep it short so a switch takes effect quickly.",
        ))
}

fn dms_block() -> Block {
    let s = |n: &str| Attribute::string(n);
    Block::new(
        "How AWS DMS keeps the encrypted target in sync with the source. Required with \
         `strategy = \"dms\"` (the default); not used with `blue_green`.",
    )
        .attribute(s("replication_instance_arn").validate(arn("dms", "rep:")).optional().description(
            "ARN of an existing DMS replication instance to use. When absent, the migration \
             creates and later removes its own (see the `replication_instance_*` arguments).",
        ))
        .attribute(s("replication_instance_class").optional().computed().description(
            "Class of the managed replication instance. Default `dms.t3.medium`.",
        ))
        .attribute(Attribute::number("replication_instance_allocated_storage").optional().computed().description(
            "Storage (GiB) of the managed replication instance. Default 50.",
        ))
        .attribute(s("replication_subnet_group_id").optional().description(
            "An existing DMS replication subnet group for the managed replication instance. \
             Default: a group the migration creates over the subnets of the source's DB subnet \
             group, so DMS reaches both instances.",
        ))
        .attribute(Attribute::new("vpc_security_group_ids", Type::list_of(Type::String)).optional().description(
            "Security groups for the managed replication instance. Default: the source's VPC \
             security groups.",
        ))
        .attribute(Attribute::bool("source_from_read_replica").optional().computed().default(Value::Bool(false)).description(
            "Read changes from a read replica of the source instead of the primary (the runbook's \
             primary -> replica -> encrypted chain), to spare the primary. Default `false`.",
        ))
        .attribute(s("source_read_replica_identifier").validate(db_identifier()).optional().description(
            "An existing read replica to read from when `source_from_read_replica` is true. When \
             absent, the migration creates one named `<source>-rdsenc-replica`.",
        ))
        .attribute(s("source_username").required().description(
            "Database user DMS connects as, on the source and (by default) the target.",
        ))
        .attribute(Attribute::string("source_password_wo").optional().write_only().description(
            "Password of `source_username`. Write-only: never stored in plan or state. Bump \
             `source_password_wo_version` to apply a new password. Exactly one of this and \
             `secrets_manager_arn` is required.",
        ))
        .attribute(Attribute::number("source_password_wo_version").optional().description(
            "Change this number to make a new `source_password_wo` take effect.",
        ))
        .attribute(s("secrets_manager_arn").validate(arn("secretsmanager", "secret:")).optional().description(
            "Secrets Manager secret holding the source credentials, read by DMS itself (the \
             provider never reads the secret value). Requires `secrets_manager_access_role_arn`.",
        ))
        .attribute(s("secrets_manager_access_role_arn").validate(arn("iam", "role/")).optional().description(
            "IAM role DMS assumes to read `secrets_manager_arn`.",
        ))
        .attribute(s("target_username").optional().description(
            "Database user on the target. Default: `source_username` (the target is a restore \
             of the source, so the same users exist).",
        ))
        .attribute(Attribute::string("target_password_wo").optional().write_only().description(
            "Password of `target_username`. Write-only. Default: the source password.",
        ))
        .attribute(Attribute::number("target_password_wo_version").optional().description(
            "Change this number to make a new `target_password_wo` take effect.",
        ))
        .attribute(s("target_secrets_manager_arn").validate(arn("secretsmanager", "secret:")).optional().description(
            "Secrets Manager secret with the target credentials. Default: `secrets_manager_arn`.",
        ))
        .attribute(s("database_name").optional().description(
            "Database DMS connects to (PostgreSQL). Default: the source's DB name, else `postgres`.",
        ))
        .attribute(s("table_mappings").validate(json_object()).optional().description(
            "DMS table mappings JSON. Default: every table of every user schema (system schemas \
             excluded per engine).",
        ))
        .attribute(s("target_table_prep_mode").validate(one_of(PREP_MODES)).optional().computed().default(Value::string("TRUNCATE_BEFORE_LOAD")).description(
            "What DMS does to target tables before the full load: `TRUNCATE_BEFORE_LOAD` (default: \
             the restored twin's rows are replaced, keeping schema, indexes and auto-increment) or \
             `DO_NOTHING`.",
        ))
        .attribute(s("migration_type").validate(one_of(MIGRATION_TYPES)).optional().computed().default(Value::string("full-load-and-cdc")).description(
            "`full-load-and-cdc` (default) or `cdc` (advanced: CDC only, from `cdc_start_position`, \
             e.g. the binlog position or LSN at the snapshot).",
        ))
        .attribute(s("cdc_start_position").optional().description(
            "Native CDC start point for `migration_type = \"cdc\"` (MySQL `mysql-bin-changelog.000024:373`, \
             PostgreSQL LSN).",
        ))
        .attribute(Attribute::bool("validation").optional().computed().default(Value::Bool(true)).description(
            "Whether DMS validates the replicated rows. Default `true`.",
        ))
}

fn target_block() -> Block {
    let s = |n: &str, d: &str| Attribute::string(n).optional().description(d);
    let n = |n: &str, d: &str| Attribute::number(n).optional().description(d);
    let b = |n: &str, d: &str| Attribute::bool(n).optional().description(d);
    let list = Type::list_of(Type::String);
    Block::new(
        "Overrides for the encrypted target, applied when it is restored. Everything not set \
         here is inherited from the source: instance class, storage type/size/IOPS, the \
         parameter group (as the target's own copy), the option group, subnet group, security groups, port, Multi-AZ, backup retention, \
         deletion protection, monitoring and Performance Insights settings, and tags.",
    )
    .attribute(s("instance_class", "DB instance class of the target."))
    .attribute(s("storage_type", "Storage type (gp3, io1, io2, ...)."))
    .attribute(n(
        "allocated_storage",
        "Allocated storage in GiB (at least the source's).",
    ))
    .attribute(n("iops", "Provisioned IOPS."))
    .attribute(n("storage_throughput", "gp3 storage throughput in MiB/s."))
    .attribute(s("parameter_group_name", "DB parameter group. Default: the target's own copy of the source's group, `rdsenc-<target identifier>` (CopyDBParameterGroup at create, tagged like the other objects), so the `read_only` write fence on one instance never fences the other.").validate(name_like()))
    .attribute(s("option_group_name", "Option group (MySQL/MariaDB)."))
    .attribute(s("db_subnet_group_name", "DB subnet group."))
    .attribute(
        Attribute::new("vpc_security_group_ids", list)
            .optional()
            .description("VPC security groups."),
    )
    .attribute(n("port", "Port the target listens on."))
    .attribute(b("multi_az", "Multi-AZ deployment."))
    .attribute(b(
        "publicly_accessible",
        "Whether the target gets a public address.",
    ))
    .attribute(b("deletion_protection", "Deletion protection."))
    .attribute(n(
        "backup_retention_period",
        "Automated backup retention in days.",
    ))
    .attribute(n(
        "monitoring_interval",
        "Enhanced Monitoring interval in seconds (0 = off).",
    ))
    .attribute(
        s("monitoring_role_arn", "IAM role for Enhanced Monitoring.").validate(arn("iam", "role/")),
    )
    .attribute(b(
        "performance_insights_enabled",
        "Whether Performance Insights is on.",
    ))
    .attribute(
        s(
            "performance_insights_kms_key_id",
            "KMS key for Performance Insights data.",
        )
        .validate(kms_key_reference()),
    )
    .attribute(n(
        "performance_insights_retention_period",
        "Performance Insights retention in days (7, 731, or a multiple of 31).",
    ))
    .attribute(
        Attribute::new("tags", Type::map_of(Type::String))
            .optional()
            .description("Tags for the target only, added to the source's tags it inherits."),
    )
}

fn timeouts_block() -> Block {
    let t = |n: &str, d: &str| {
        Attribute::string(n)
            .optional()
            .validate(duration())
            .description(d)
    };
    Block::new("Operation timeouts, as Go durations (`30m`, `24h`).")
        .attribute(t(
            "create",
            "How long create may take until the target is replicating. Default `24h`.",
        ))
        .attribute(t("update", "How long an update may take. Default `2h`."))
        .attribute(t("delete", "How long destroy may take. Default `2h`."))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_attributes(b: &Block, out: &mut Vec<(String, String)>) {
        for a in &b.attributes {
            out.push((a.name.clone(), a.description.clone()));
        }
        for nb in &b.blocks {
            all_attributes(&nb.block, out);
        }
    }

    #[test]
    fn every_attribute_has_a_description() {
        let mut attrs = Vec::new();
        all_attributes(&schema().block, &mut attrs);
        for (name, desc) in attrs {
            assert!(desc.len() > 10, "{name} lacks a description");
        }
    }

    #[test]
    fn passwords_are_write_only_and_sensitive() {
        let s = schema();
        let dms = &s.block.find_block("dms").expect("dms block").block;
        for n in ["source_password_wo", "target_password_wo"] {
            let a = dms.find_attribute(n).expect("password attribute");
            assert!(a.write_only && a.sensitive && a.optional);
        }
    }
}
