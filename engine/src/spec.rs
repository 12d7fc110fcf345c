//! What the user configured (`MigrationSpec`), the phase enum shown in state, and the DMS
//! documents (table mappings, task settings) derived from them.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde_json::json;

use super::api::{DbEngine, EndpointCredentials, MigrationType, Tags};
use super::error::EngineError;
use super::names::{Names, check_rds_instance_id};

/// Where the migration stands; the `phase` attribute in state.
///
/// ```
/// use rdsenc_engine::Phase;
/// assert_eq!("copying_encrypted".parse::<Phase>(), Ok(Phase::CopyingEncrypted));
/// assert_eq!(Phase::FullLoad.as_str(), "full_load");
/// assert!(!Phase::Replicating.target_may_serve());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum Phase {
    /// Snapshot of the source being taken.
    #[default]
    Snapshotting,
    /// Snapshot being copied with the KMS key.
    CopyingEncrypted,
    /// Encrypted instance being restored (and configured).
    Restoring,
    /// DMS replication instance, endpoints and task being set up.
    ProvisioningReplication,
    /// DMS full load running.
    FullLoad,
    /// Blue/green: the deployment is provisioning, or its green instances are not all
    /// available and encrypted yet.
    ProvisioningGreen,
    /// Full load done; CDC keeps the target in sync (blue/green: the deployment is
    /// available and every green instance is available and encrypted).
    Replicating,
    /// Cutover in progress (write fence, DNS or identifier swap).
    CuttingOver,
    /// The target serves traffic; the reverse task keeps the source in sync for failback.
    CutOver,
    /// Failback to the source in progress.
    FailingBack,
    /// Removing migration scaffolding after a successful cutover.
    Finalizing,
    /// Done: only the encrypted instance remains.
    Finalized,
}

impl Phase {
    /// Every phase, in order.
    pub const ALL: [Phase; 12] = [
        Phase::Snapshotting,
        Phase::CopyingEncrypted,
        Phase::Restoring,
        Phase::ProvisioningReplication,
        Phase::FullLoad,
        Phase::ProvisioningGreen,
        Phase::Replicating,
        Phase::CuttingOver,
        Phase::CutOver,
        Phase::FailingBack,
        Phase::Finalizing,
        Phase::Finalized,
    ];

    /// The state value.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Snapshotting => "snapshotting",
            Phase::CopyingEncrypted => "copying_encrypted",
            Phase::Restoring => "restoring",
            Phase::ProvisioningReplication => "provisioning_replication",
            Phase::FullLoad => "full_load",
            Phase::ProvisioningGreen => "provisioning_green",
            Phase::Replicating => "replicating",
            Phase::CuttingOver => "cutting_over",
            Phase::CutOver => "cut_over",
            Phase::FailingBack => "failing_back",
            Phase::Finalizing => "finalizing",
            Phase::Finalized => "finalized",
        }
    }

    /// True once the target may be serving traffic (cutover started and not failed back);
    /// teardown never deletes the target then.
    pub fn target_may_serve(self) -> bool {
        match self {
            Phase::Snapshotting
            | Phase::CopyingEncrypted
            | Phase::Restoring
            | Phase::ProvisioningReplication
            | Phase::FullLoad
            | Phase::ProvisioningGreen
            | Phase::Replicating => false,
            Phase::CuttingOver
            | Phase::CutOver
            | Phase::FailingBack
            | Phase::Finalizing
            | Phase::Finalized => true,
        }
    }

    /// True for the phases the create path derives from AWS alone (up to `replicating`).
    pub fn is_create_path(self) -> bool {
        !self.target_may_serve()
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A string that is not a phase.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown phase {0:?}")]
pub struct UnknownPhase(pub String);

impl FromStr for Phase {
    type Err = UnknownPhase;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Phase::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| UnknownPhase(s.to_owned()))
    }
}

/// `strategy`: how the encrypted copy is made and kept in sync.
///
/// ```
/// use rdsenc_engine::Strategy;
/// assert_eq!("blue_green".parse::<Strategy>(), Ok(Strategy::BlueGreen));
/// assert_eq!(Strategy::default().as_str(), "dms");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Strategy {
    /// `"dms"`: snapshot, encrypted copy, restore, DMS full load + CDC.
    #[default]
    Dms,
    /// `"blue_green"`: an RDS blue/green deployment whose green instances are encrypted
    /// (`TargetResourceConfigurations`), switched over by RDS.
    BlueGreen,
}

impl Strategy {
    /// The configuration value.
    pub fn as_str(self) -> &'static str {
        match self {
            Strategy::Dms => "dms",
            Strategy::BlueGreen => "blue_green",
        }
    }
}

impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Strategy {
    type Err = EngineError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "dms" => Ok(Strategy::Dms),
            "blue_green" => Ok(Strategy::BlueGreen),
            other => Err(EngineError::InvalidSpec {
                attribute: "strategy",
                message: format!("unknown value {other:?}; use \"dms\" or \"blue_green\""),
            }),
        }
    }
}

/// The `blue_green` block (used with `strategy = "blue_green"`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BlueGreenSpec {
    /// `blue_green.replica_kms_key_ids`: read replica identifier -> KMS key (id/ARN/alias) for its
    /// green twin. Replicas not listed use `kms_key_id` (only valid for same-region replicas).
    pub replica_kms_key_ids: BTreeMap<String, String>,
    /// `blue_green.target_engine_version` (optional upgrade on green).
    pub target_engine_version: Option<String>,
    /// `blue_green.target_db_parameter_group_name`.
    pub target_db_parameter_group_name: Option<String>,
}

/// `dms.target_table_prep_mode`. `DROP_AND_CREATE` is deliberately absent: it would replace
/// the tables restored from the snapshot, losing indexes and other schema details DMS does
/// not recreate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TablePrepMode {
    /// `TRUNCATE_BEFORE_LOAD` (default): the target's restored rows are replaced by the
    /// full load, so the two databases start identical.
    #[default]
    TruncateBeforeLoad,
    /// `DO_NOTHING`: keep the target's rows (with `migration_type = "cdc"`).
    DoNothing,
}

impl TablePrepMode {
    /// The DMS value.
    pub fn as_str(self) -> &'static str {
        match self {
            TablePrepMode::TruncateBeforeLoad => "TRUNCATE_BEFORE_LOAD",
            TablePrepMode::DoNothing => "DO_NOTHING",
        }
    }
    /// Parses the configuration value.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "TRUNCATE_BEFORE_LOAD" => Some(TablePrepMode::TruncateBeforeLoad),
            "DO_NOTHING" => Some(TablePrepMode::DoNothing),
            _ => None,
        }
    }
}

/// The `dms` block.
#[derive(Debug, Clone, PartialEq)]
pub struct DmsSpec {
    /// `replication_instance_arn`: use this instance; `None` = a managed one.
    pub replication_instance_arn: Option<String>,
    /// `replication_instance_class` of the managed instance (default `dms.t3.medium`).
    pub replication_instance_class: Option<String>,
    /// `allocated_storage` of the managed instance in GiB (default 50).
    pub allocated_storage: Option<i32>,
    /// `replication_subnet_group_id`: an existing group for the managed instance; `None` =
    /// a managed group over the source's DB subnet group subnets.
    pub replication_subnet_group_id: Option<String>,
    /// `vpc_security_group_ids` of the managed instance; empty = the source's.
    pub vpc_security_group_ids: Vec<String>,
    /// `source_from_read_replica`: read changes from a read replica of the source.
    pub source_from_read_replica: bool,
    /// Source credentials (`source_username` + `source_password_wo`, or Secrets Manager).
    pub source_credentials: EndpointCredentials,
    /// Target credentials; `None` = the source's (the target is a restore of it).
    pub target_credentials: Option<EndpointCredentials>,
    /// `database_name` (PostgreSQL; default: the source's DBName, else `postgres`).
    pub database_name: Option<String>,
    /// `table_mappings` JSON; `None` = every table of every user schema.
    pub table_mappings: Option<String>,
    /// `target_table_prep_mode`.
    pub target_table_prep_mode: TablePrepMode,
    /// `migration_type`.
    pub migration_type: MigrationType,
    /// `cdc_start_position` (with `migration_type = "cdc"`).
    pub cdc_start_position: Option<String>,
    /// `validation`.
    pub validation: bool,
}

impl DmsSpec {
    /// The credentials DMS uses on the target: the configured ones, else the source's (the
    /// target is a restore of the source, so its users are the same).
    pub(crate) fn target_credentials_or_source(&self) -> EndpointCredentials {
        self.target_credentials
            .clone()
            .unwrap_or_else(|| self.source_credentials.clone())
    }
}

/// The `target` block: overrides of settings the target otherwise inherits from the source.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TargetOverrides {
    /// `instance_class`.
    pub instance_class: Option<String>,
    /// `storage_type`.
    pub storage_type: Option<String>,
    /// `allocated_storage`.
    pub allocated_storage: Option<i32>,
    /// `iops`.
    pub iops: Option<i32>,
    /// `storage_throughput`.
    pub storage_throughput: Option<i32>,
    /// `db_parameter_group_name`.
    pub db_parameter_group_name: Option<String>,
    /// `option_group_name`.
    pub option_group_name: Option<String>,
    /// `db_subnet_group_name`.
    pub db_subnet_group_name: Option<String>,
    /// `vpc_security_group_ids`.
    pub vpc_security_group_ids: Option<Vec<String>>,
    /// `port`.
    pub port: Option<u16>,
    /// `multi_az`.
    pub multi_az: Option<bool>,
    /// `publicly_accessible`.
    pub publicly_accessible: Option<bool>,
    /// `deletion_protection`.
    pub deletion_protection: Option<bool>,
    /// `backup_retention_period`.
    pub backup_retention_period: Option<i32>,
    /// `monitoring_interval`.
    pub monitoring_interval: Option<i32>,
    /// `monitoring_role_arn`.
    pub monitoring_role_arn: Option<String>,
    /// `performance_insights_enabled`.
    pub performance_insights_enabled: Option<bool>,
    /// `performance_insights_kms_key_id`.
    pub performance_insights_kms_key_id: Option<String>,
    /// `performance_insights_retention_period`.
    pub performance_insights_retention_period: Option<i32>,
    /// `tags` added to the target (besides the migration's own).
    pub tags: Tags,
}

/// The whole `rdsenc_migration` configuration the engine needs.
#[derive(Debug, Clone, PartialEq)]
pub struct MigrationSpec {
    /// `source_db_instance_identifier`: the migration id.
    pub source_db_instance_identifier: String,
    /// `kms_key_id`: key id, key ARN, alias name or alias ARN.
    pub kms_key_id: String,
    /// `target_db_instance_identifier`; `None` = `<source>-encrypted`.
    pub target_db_instance_identifier: Option<String>,
    /// The `dms` block.
    pub dms: DmsSpec,
    /// The `target` block.
    pub target: TargetOverrides,
    /// `delete_target_on_destroy`.
    pub delete_target_on_destroy: bool,
    /// Skip the final snapshot when the target is deleted (default false: take one).
    pub skip_final_snapshot: bool,
    /// `strategy` (default `dms`).
    pub strategy: Strategy,
    /// The `blue_green` block (only read with `strategy = "blue_green"`).
    pub blue_green: BlueGreenSpec,
}

impl MigrationSpec {
    /// A DMS migration of `source` encrypted with `kms_key_id`, every other attribute at
    /// the schema's default (managed DMS, full load and CDC, validation on).
    pub fn new(
        source: impl Into<String>,
        kms_key_id: impl Into<String>,
        source_credentials: EndpointCredentials,
    ) -> Self {
        MigrationSpec {
            source_db_instance_identifier: source.into(),
            kms_key_id: kms_key_id.into(),
            target_db_instance_identifier: None,
            dms: DmsSpec {
                replication_instance_arn: None,
                replication_instance_class: None,
                allocated_storage: None,
                replication_subnet_group_id: None,
                vpc_security_group_ids: Vec::new(),
                source_from_read_replica: false,
                source_credentials,
                target_credentials: None,
                database_name: None,
                table_mappings: None,
                target_table_prep_mode: TablePrepMode::default(),
                migration_type: MigrationType::FullLoadAndCdc,
                cdc_start_position: None,
                validation: true,
            },
            target: TargetOverrides::default(),
            delete_target_on_destroy: false,
            skip_final_snapshot: false,
            strategy: Strategy::Dms,
            blue_green: BlueGreenSpec::default(),
        }
    }

    /// An empty spec for operations not tied to one migration (listing).
    pub(crate) fn detached() -> Self {
        let none = EndpointCredentials::SecretsManager {
            secret_arn: String::new(),
            access_role_arn: String::new(),
        };
        let mut spec = MigrationSpec::new("", "", none);
        spec.dms.validation = false;
        spec
    }

    /// The deterministic names of this migration.
    pub fn names(&self) -> Names {
        Names::new(
            &self.source_db_instance_identifier,
            self.target_db_instance_identifier.as_deref(),
        )
    }

    /// Checks what can be checked without AWS. Every error names its attribute.
    ///
    /// **Errors**: one [`EngineError::InvalidSpec`] per problem found.
    pub fn validate(&self) -> Result<(), Vec<EngineError>> {
        let mut errs = Vec::new();
        let mut bad = |attribute: &'static str, message: String| {
            errs.push(EngineError::InvalidSpec { attribute, message });
        };
        if let Err(m) = check_rds_instance_id(&self.source_db_instance_identifier) {
            bad("source_db_instance_identifier", m);
        }
        if self.kms_key_id.trim().is_empty() {
            bad(
                "kms_key_id",
                "must be a key id, key ARN, alias name or alias ARN".into(),
            );
        }
        let names = self.names();
        if let Some(t) = &self.target_db_instance_identifier
            && let Err(m) = check_rds_instance_id(t)
        {
            bad("target_db_instance_identifier", m);
        }
        if names.target == names.migration {
            bad(
                "target_db_instance_identifier",
                "must differ from source_db_instance_identifier".into(),
            );
        }
        match (&self.dms.migration_type, &self.dms.cdc_start_position) {
            (MigrationType::Cdc, None) => bad(
                "dms.cdc_start_position",
                "is required when migration_type is \"cdc\" (the binlog position or LSN the snapshot was taken at)".into(),
            ),
            (MigrationType::Cdc, Some(_)) | (MigrationType::FullLoadAndCdc, None) => {}
            (MigrationType::FullLoadAndCdc, Some(_)) => bad(
                "dms.cdc_start_position",
                "may only be set when migration_type is \"cdc\"".into(),
            ),
            (MigrationType::FullLoad, _) => bad(
                "dms.migration_type",
                "must be \"full-load-and-cdc\" or \"cdc\": a full load alone leaves the target behind the source".into(),
            ),
            (MigrationType::Other(s), _) => bad(
                "dms.migration_type",
                format!("unknown value {s:?}; use \"full-load-and-cdc\" or \"cdc\""),
            ),
        }
        if let Some(m) = &self.dms.table_mappings {
            let ok = serde_json::from_str::<serde_json::Value>(m)
                .ok()
                .and_then(|v| v.get("rules").map(serde_json::Value::is_array))
                .unwrap_or(false);
            if !ok {
                bad(
                    "dms.table_mappings",
                    "must be a JSON object with a \"rules\" array (DMS table mapping document)"
                        .into(),
                );
            }
        }
        if self.dms.replication_instance_arn.is_some()
            && (self.dms.replication_instance_class.is_some()
                || self.dms.allocated_storage.is_some()
                || self.dms.replication_subnet_group_id.is_some())
        {
            bad(
                "dms.replication_instance_arn",
                "conflicts with the managed instance settings (replication_instance_class, allocated_storage, replication_subnet_group_id)".into(),
            );
        }
        if self.strategy == Strategy::BlueGreen {
            for (replica, key) in &self.blue_green.replica_kms_key_ids {
                // Cross-region replicas are named by ARN; others by identifier.
                let id = replica.rsplit(':').next().unwrap_or(replica);
                if let Err(m) = check_rds_instance_id(id) {
                    bad(
                        "blue_green.replica_kms_key_ids",
                        format!("key {replica:?} is not a DB instance identifier or ARN: {m}"),
                    );
                }
                if key.trim().is_empty() {
                    bad(
                        "blue_green.replica_kms_key_ids",
                        format!(
                            "the key for {replica:?} must be a key id, key ARN, alias name or alias ARN"
                        ),
                    );
                }
            }
            if self
                .blue_green
                .target_engine_version
                .as_ref()
                .is_some_and(|v| v.trim().is_empty())
            {
                bad(
                    "blue_green.target_engine_version",
                    "must not be empty".into(),
                );
            }
        }
        if errs.is_empty() { Ok(()) } else { Err(errs) }
    }
}

/// DMS's `ReplicationTaskSettings` document for this configuration. A CDC-only task always
/// gets `DO_NOTHING`: it applies changes on top of the restored rows, which truncating
/// would delete.
pub(crate) fn task_settings_json(dms: &DmsSpec) -> String {
    let prep = match dms.migration_type {
        MigrationType::Cdc => TablePrepMode::DoNothing,
        _ => dms.target_table_prep_mode,
    };
    json!({
        // Full LOB mode: limited mode silently truncates LOBs above LobMaxSize, and the
        // full load replaces the restored (complete) rows.
        "TargetMetadata": {
            "SupportLobs": true,
            "FullLobMode": true,
            "LobChunkSize": 64,
            "LimitedSizeLobMode": false
        },
        "FullLoadSettings": {
            "TargetTablePrepMode": prep.as_str(),
            "StopTaskCachedChangesApplied": false,
            "StopTaskCachedChangesNotApplied": false,
            "MaxFullLoadSubTasks": 8,
            "CommitRate": 10000
        },
        "ValidationSettings": {
            "EnableValidation": dms.validation,
            "ValidationMode": "ROW_LEVEL",
            "ThreadCount": 5
        },
        // Errors stop, not skip (CHAP_Tasks.CustomizingTasks.TaskSettings.ErrorHandling.html):
        // DMS's default suspends a failing table (SUSPEND_TABLE) while the task runs on, so a
        // cutover could switch to a target missing its changes; STOP_TASK fails the task,
        // which the gate and the drain see. A duplicate key on insert means the target holds
        // a row the source never sent (or sent twice): stop too. An update matching no row
        // and a delete of a missing row stay DMS's defaults (LOG_ERROR to the task log and
        // `awsdms_apply_exceptions`, IGNORE_RECORD): MySQL reports an update that changes
        // nothing as 0 rows, which a change applied twice also gives. Conflicts while a full
        // load's cached changes are applied are expected and stay ignored (DMS's default).
        "ErrorBehavior": {
            "TableErrorPolicy": "STOP_TASK",
            "ApplyErrorInsertPolicy": "STOP_TASK",
            "ApplyErrorUpdatePolicy": "LOG_ERROR",
            "ApplyErrorDeletePolicy": "IGNORE_RECORD",
            "FullLoadIgnoreConflicts": true
        }
    })
    .to_string()
}

/// Schemas that belong to the engine itself, never migrated.
pub(crate) fn system_schemas(engine: &DbEngine) -> &'static [&'static str] {
    match engine {
        DbEngine::Mysql | DbEngine::Mariadb => {
            &["mysql", "sys", "information_schema", "performance_schema"]
        }
        DbEngine::Postgres => &["pg_catalog", "information_schema", "pg_toast", "pg_temp%"],
        DbEngine::Other(_) => &[],
    }
}

/// The default table mappings: include every table of every schema, then exclude the
/// engine's system schemas.
pub fn default_table_mappings(engine: &DbEngine) -> String {
    let mut rules = vec![json!({
        "rule-type": "selection",
        "rule-id": "1",
        "rule-name": "include-all-user-schemas",
        "object-locator": { "schema-name": "%", "table-name": "%" },
        "rule-action": "include"
    })];
    for (i, schema) in system_schemas(engine).iter().enumerate() {
        rules.push(json!({
            "rule-type": "selection",
            "rule-id": (i + 2).to_string(),
            "rule-name": format!("exclude-{}", schema.trim_end_matches('%')),
            "object-locator": { "schema-name": schema, "table-name": "%" },
            "rule-action": "exclude"
        }));
    }
    json!({ "rules": rules }).to_string()
}

/// The target endpoint's after-connect script: integrity is the source's job while DMS
/// writes, so foreign keys (MySQL/MariaDB) and triggers plus foreign keys (PostgreSQL,
/// via `session_replication_role`) are off for DMS's sessions only. On PostgreSQL DMS's
/// sessions also write while the `read_only` write fence holds the instance
/// (`default_transaction_read_only` is only a default a session may override).
pub(crate) fn target_after_connect_script(engine: &DbEngine) -> Option<String> {
    match engine {
        DbEngine::Mysql | DbEngine::Mariadb => Some("SET FOREIGN_KEY_CHECKS=0".into()),
        DbEngine::Postgres => Some(
            "SET session_replication_role=replica; SET default_transaction_read_only=off".into(),
        ),
        DbEngine::Other(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::SpecExt;

    #[test]
    fn phases_round_trip_through_their_state_strings() {
        for p in Phase::ALL {
            assert_eq!(p.as_str().parse::<Phase>(), Ok(p));
        }
        assert!("done".parse::<Phase>().is_err());
        assert!(!Phase::Replicating.target_may_serve());
        assert!(Phase::CutOver.target_may_serve());
    }

    #[test]
    fn cdc_without_a_start_position_is_refused_naming_the_attribute() {
        let mut s = MigrationSpec::test();
        s.dms.migration_type = MigrationType::Cdc;
        let errs = s.validate().err().unwrap_or_default();
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].attribute(), Some("dms.cdc_start_position"));
    }

    #[test]
    fn a_target_named_like_the_source_is_refused() {
        let s = MigrationSpec::test().target_id("orders");
        let errs = s.validate().err().unwrap_or_default();
        assert!(
            errs.iter()
                .any(|e| e.attribute() == Some("target_db_instance_identifier"))
        );
        assert_eq!(MigrationSpec::test().validate(), Ok(()));
    }

    #[test]
    fn table_mappings_must_be_a_rules_document() {
        let mut s = MigrationSpec::test();
        s.dms.table_mappings = Some("[]".into());
        let errs = s.validate().err().unwrap_or_default();
        assert_eq!(errs[0].attribute(), Some("dms.table_mappings"));
    }

    #[test]
    fn default_mappings_include_everything_and_exclude_system_schemas() {
        let v: serde_json::Value =
            serde_json::from_str(&default_table_mappings(&DbEngine::Postgres)).unwrap_or_default();
        let rules = v["rules"].as_array().cloned().unwrap_or_default();
        assert_eq!(rules[0]["rule-action"], "include");
        assert_eq!(rules[0]["object-locator"]["schema-name"], "%");
        let excluded: Vec<_> = rules[1..]
            .iter()
            .map(|r| r["object-locator"]["schema-name"].as_str().unwrap_or(""))
            .collect();
        assert!(excluded.contains(&"pg_catalog"));
        assert!(excluded.contains(&"information_schema"));
        let my: serde_json::Value =
            serde_json::from_str(&default_table_mappings(&DbEngine::Mysql)).unwrap_or_default();
        assert!(my.to_string().contains("performance_schema"));
    }

    #[test]
    fn task_settings_carry_the_prep_mode_and_validation() {
        let mut s = MigrationSpec::test();
        s.dms.target_table_prep_mode = TablePrepMode::DoNothing;
        s.dms.validation = false;
        let v: serde_json::Value =
            serde_json::from_str(&task_settings_json(&s.dms)).unwrap_or_default();
        assert_eq!(v["FullLoadSettings"]["TargetTablePrepMode"], "DO_NOTHING");
        assert_eq!(v["ValidationSettings"]["EnableValidation"], false);
        assert_eq!(v["TargetMetadata"]["FullLobMode"], true);
        assert_eq!(v["TargetMetadata"]["LimitedSizeLobMode"], false);
        // Errors stop the task rather than suspend a table or skip a row.
        let errors = &v["ErrorBehavior"];
        assert_eq!(errors["TableErrorPolicy"], "STOP_TASK");
        assert_eq!(errors["ApplyErrorInsertPolicy"], "STOP_TASK");
        assert_eq!(errors["ApplyErrorUpdatePolicy"], "LOG_ERROR");
        assert_eq!(errors["ApplyErrorDeletePolicy"], "IGNORE_RECORD");
        assert_eq!(errors["FullLoadIgnoreConflicts"], true);
    }
}
