//! DMS domain types: subnet groups, replication instances, endpoints, tasks, statistics.

use super::*;

// ---------------------------------------------------------------------------------------------
// DMS
// ---------------------------------------------------------------------------------------------

aws_enum! {
    /// `ReplicationInstance.ReplicationInstanceStatus`.
    ReplicationInstanceStatus {
        /// `creating`.
        Creating => "creating",
        /// `available`.
        Available => "available",
        /// `modifying`.
        Modifying => "modifying",
        /// `upgrading`.
        Upgrading => "upgrading",
        /// `rebooting`.
        Rebooting => "rebooting",
        /// `maintenance`.
        Maintenance => "maintenance",
        /// `deleting`.
        Deleting => "deleting",
        /// `failed`: terminal.
        Failed => "failed",
        /// `storage-full`.
        StorageFull => "storage-full",
        /// `incompatible-network`: terminal until the network is fixed.
        IncompatibleNetwork => "incompatible-network",
        /// `inaccessible-encryption-credentials`.
        InaccessibleEncryptionCredentials => "inaccessible-encryption-credentials",
    }
}

aws_enum! {
    /// `ReplicationSubnetGroup.SubnetGroupStatus`.
    SubnetGroupStatus {
        /// `Complete`.
        Complete => "Complete",
    }
}

aws_enum! {
    /// `Endpoint.Status`. Real endpoints are `active` at once; the emulator reports
    /// `creating` forever, so the engine treats any state but `deleting` as usable.
    EndpointStatus {
        /// `active`.
        Active => "active",
        /// `creating`.
        Creating => "creating",
        /// `deleting`.
        Deleting => "deleting",
    }
}

aws_enum! {
    /// `Endpoint.EndpointType`.
    EndpointType {
        /// `source`.
        Source => "source",
        /// `target`.
        Target => "target",
    }
}

aws_enum! {
    /// `Endpoint.EngineName` (DMS spells PostgreSQL `postgres`).
    EndpointEngine {
        /// `mysql`.
        Mysql => "mysql",
        /// `mariadb`.
        Mariadb => "mariadb",
        /// `postgres`.
        Postgres => "postgres",
    }
}

impl EndpointEngine {
    /// The DMS engine for an RDS engine.
    pub fn for_db_engine(engine: &DbEngine) -> Self {
        match engine {
            DbEngine::Mysql => EndpointEngine::Mysql,
            DbEngine::Mariadb => EndpointEngine::Mariadb,
            DbEngine::Postgres => EndpointEngine::Postgres,
            DbEngine::Other(s) => EndpointEngine::Other(s.clone()),
        }
    }
}

aws_enum! {
    /// `Endpoint.SslMode`.
    SslMode {
        /// `none`.
        None => "none",
        /// `require`.
        Require => "require",
        /// `verify-ca`.
        VerifyCa => "verify-ca",
        /// `verify-full`.
        VerifyFull => "verify-full",
    }
}

aws_enum! {
    /// `Connection.Status`.
    ConnectionStatus {
        /// `testing`.
        Testing => "testing",
        /// `successful`.
        Successful => "successful",
        /// `failed`.
        Failed => "failed",
        /// `deleting`.
        Deleting => "deleting",
    }
}

aws_enum! {
    /// `ReplicationTask.Status`.
    ReplicationTaskStatus {
        /// `creating`.
        Creating => "creating",
        /// `ready`: created, never started (or reset).
        Ready => "ready",
        /// `starting`.
        Starting => "starting",
        /// `running`.
        Running => "running",
        /// `stopping`.
        Stopping => "stopping",
        /// `stopped`: see `stop_reason`.
        Stopped => "stopped",
        /// `modifying`.
        Modifying => "modifying",
        /// `deleting`.
        Deleting => "deleting",
        /// `failed`: see `last_failure_message`.
        Failed => "failed",
        /// `failed-move`.
        FailedMove => "failed-move",
        /// `moving`.
        Moving => "moving",
        /// `testing`.
        Testing => "testing",
    }
}

aws_enum! {
    /// `ReplicationTask.MigrationType`.
    MigrationType {
        /// `full-load`.
        FullLoad => "full-load",
        /// `cdc`: changes only, from `cdc_start_position`.
        Cdc => "cdc",
        /// `full-load-and-cdc`: the default.
        FullLoadAndCdc => "full-load-and-cdc",
    }
}

aws_enum! {
    /// `StartReplicationTaskType`.
    StartType {
        /// `start-replication`: the first start.
        StartReplication => "start-replication",
        /// `resume-processing`: continue from the last checkpoint (after a settings update).
        ResumeProcessing => "resume-processing",
        /// `reload-target`: full load again (truncates per the prep mode).
        ReloadTarget => "reload-target",
    }
}

aws_enum! {
    /// `TableStatistics.TableState`.
    TableState {
        /// `Table does not exist`.
        DoesNotExist => "Table does not exist",
        /// `Before load`.
        BeforeLoad => "Before load",
        /// `Full load`.
        FullLoad => "Full load",
        /// `Table completed`.
        Completed => "Table completed",
        /// `Table cancelled`.
        Cancelled => "Table cancelled",
        /// `Table error`.
        Error => "Table error",
    }
}

aws_enum! {
    /// `TableStatistics.ValidationState`.
    ValidationState {
        /// `Not enabled`.
        NotEnabled => "Not enabled",
        /// `Pending records`.
        PendingRecords => "Pending records",
        /// `Mismatched records`.
        MismatchedRecords => "Mismatched records",
        /// `Suspended records`.
        SuspendedRecords => "Suspended records",
        /// `No primary key`.
        NoPrimaryKey => "No primary key",
        /// `Table error`.
        TableError => "Table error",
        /// `Validated`.
        Validated => "Validated",
        /// `Error`.
        Error => "Error",
        /// `Pending validation`.
        PendingValidation => "Pending validation",
        /// `Preparing table`.
        PreparingTable => "Preparing table",
        /// `Pending revalidation`.
        PendingRevalidation => "Pending revalidation",
    }
}

/// A DMS replication subnet group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicationSubnetGroup {
    /// `ReplicationSubnetGroupIdentifier`.
    pub identifier: String,
    /// `ReplicationSubnetGroupDescription`.
    pub description: String,
    /// `VpcId`.
    pub vpc_id: String,
    /// `Subnets[*].SubnetIdentifier`.
    pub subnet_ids: Vec<String>,
    /// `SubnetGroupStatus`.
    pub status: SubnetGroupStatus,
}

/// `CreateReplicationSubnetGroup` input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateReplicationSubnetGroupInput {
    /// `ReplicationSubnetGroupIdentifier`.
    pub identifier: String,
    /// `ReplicationSubnetGroupDescription` (required by AWS).
    pub description: String,
    /// `SubnetIds`.
    pub subnet_ids: Vec<String>,
    /// `Tags`.
    pub tags: Tags,
}

/// A DMS replication instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicationInstance {
    /// `ReplicationInstanceIdentifier`.
    pub identifier: String,
    /// `ReplicationInstanceArn`.
    pub arn: String,
    /// `ReplicationInstanceStatus`.
    pub status: ReplicationInstanceStatus,
    /// `ReplicationInstanceClass`.
    pub instance_class: String,
    /// `AllocatedStorage` in GiB.
    pub allocated_storage: i32,
    /// `EngineVersion`.
    pub engine_version: Option<String>,
    /// `MultiAZ`.
    pub multi_az: bool,
    /// `PubliclyAccessible`.
    pub publicly_accessible: bool,
    /// `ReplicationSubnetGroup.ReplicationSubnetGroupIdentifier`.
    pub subnet_group_identifier: Option<String>,
    /// `VpcSecurityGroups[*].VpcSecurityGroupId`.
    pub vpc_security_group_ids: Vec<String>,
    /// `KmsKeyId` of the instance's storage.
    pub kms_key_id: Option<String>,
}

/// `CreateReplicationInstance` input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateReplicationInstanceInput {
    /// `ReplicationInstanceIdentifier`.
    pub identifier: String,
    /// `ReplicationInstanceClass`, e.g. `dms.t3.medium`.
    pub instance_class: String,
    /// `AllocatedStorage` in GiB.
    pub allocated_storage: Option<i32>,
    /// `ReplicationSubnetGroupIdentifier`.
    pub subnet_group_identifier: Option<String>,
    /// `VpcSecurityGroupIds`.
    pub vpc_security_group_ids: Vec<String>,
    /// `MultiAZ`.
    pub multi_az: bool,
    /// `PubliclyAccessible` (the engine sends false).
    pub publicly_accessible: bool,
    /// `EngineVersion`.
    pub engine_version: Option<String>,
    /// `KmsKeyId`: the engine encrypts the DMS storage with the migration's key.
    pub kms_key_id: Option<String>,
    /// `Tags`.
    pub tags: Tags,
}

/// How DMS authenticates to a database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndpointCredentials {
    /// `Username` + `Password`.
    Password {
        /// `Username`.
        username: String,
        /// `Password` (never logged).
        password: SecretString,
    },
    /// `<Engine>Settings.SecretsManagerSecretId` + `SecretsManagerAccessRoleArn`.
    SecretsManager {
        /// The secret's ARN.
        secret_arn: String,
        /// The IAM role DMS assumes to read the secret.
        access_role_arn: String,
    },
}

/// A DMS endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `EndpointIdentifier`.
    pub identifier: String,
    /// `EndpointArn`.
    pub arn: String,
    /// `EndpointType`.
    pub endpoint_type: EndpointType,
    /// `EngineName`.
    pub engine: EndpointEngine,
    /// `Status`.
    pub status: EndpointStatus,
    /// `ServerName`.
    pub server_name: Option<String>,
    /// `Port`.
    pub port: Option<u16>,
    /// `DatabaseName`.
    pub database_name: Option<String>,
    /// `Username` (absent with Secrets Manager).
    pub username: Option<String>,
    /// The Secrets Manager secret, when used.
    pub secrets_manager_arn: Option<String>,
    /// `SslMode`.
    pub ssl_mode: SslMode,
    /// `MySQLSettings.AfterConnectScript` / `PostgreSQLSettings.AfterConnectScript`.
    pub after_connect_script: Option<String>,
    /// `ExtraConnectionAttributes`.
    pub extra_connection_attributes: Option<String>,
}

/// `CreateEndpoint` input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateEndpointInput {
    /// `EndpointIdentifier`.
    pub identifier: String,
    /// `EndpointType`.
    pub endpoint_type: EndpointType,
    /// `EngineName`.
    pub engine: EndpointEngine,
    /// `ServerName`.
    pub server_name: String,
    /// `Port`.
    pub port: u16,
    /// `DatabaseName` (required for PostgreSQL, absent for MySQL/MariaDB).
    pub database_name: Option<String>,
    /// Credentials.
    pub credentials: EndpointCredentials,
    /// `SslMode`.
    pub ssl_mode: SslMode,
    /// Sent as `MySQLSettings.AfterConnectScript` for MySQL/MariaDB and
    /// `PostgreSQLSettings.AfterConnectScript` for PostgreSQL.
    pub after_connect_script: Option<String>,
    /// `ExtraConnectionAttributes`.
    pub extra_connection_attributes: Option<String>,
    /// `Tags`.
    pub tags: Tags,
}

/// `ModifyEndpoint` input. Every `None` field is left unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ModifyEndpointInput {
    /// `EndpointArn`.
    pub arn: String,
    /// `ServerName`.
    pub server_name: Option<String>,
    /// `Port`.
    pub port: Option<u16>,
    /// `DatabaseName`.
    pub database_name: Option<String>,
    /// New credentials (password rotation, switch to Secrets Manager).
    pub credentials: Option<EndpointCredentials>,
    /// `SslMode`.
    pub ssl_mode: Option<SslMode>,
    /// After-connect script (see [`CreateEndpointInput::after_connect_script`]).
    pub after_connect_script: Option<String>,
    /// `ExtraConnectionAttributes`.
    pub extra_connection_attributes: Option<String>,
}

/// A DMS connection test result (`DescribeConnections`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    /// `ReplicationInstanceArn`.
    pub replication_instance_arn: String,
    /// `EndpointArn`.
    pub endpoint_arn: String,
    /// `Status`.
    pub status: ConnectionStatus,
    /// `LastFailureMessage`.
    pub last_failure_message: Option<String>,
}

/// `ReplicationTaskStats`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReplicationTaskStats {
    /// `FullLoadProgressPercent`, 0-100.
    pub full_load_progress_percent: i32,
    /// `TablesLoaded`.
    pub tables_loaded: i32,
    /// `TablesLoading`.
    pub tables_loading: i32,
    /// `TablesQueued`.
    pub tables_queued: i32,
    /// `TablesErrored`.
    pub tables_errored: i32,
    /// `ElapsedTimeMillis`.
    pub elapsed_time_millis: i64,
    /// `FullLoadFinishDate`: set once the full load has completed.
    pub full_load_finish: Option<SystemTime>,
}

/// A DMS replication task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicationTask {
    /// `ReplicationTaskIdentifier`.
    pub identifier: String,
    /// `ReplicationTaskArn`.
    pub arn: String,
    /// `Status`.
    pub status: ReplicationTaskStatus,
    /// `MigrationType`.
    pub migration_type: MigrationType,
    /// `ReplicationInstanceArn`.
    pub replication_instance_arn: String,
    /// `SourceEndpointArn`.
    pub source_endpoint_arn: String,
    /// `TargetEndpointArn`.
    pub target_endpoint_arn: String,
    /// `TableMappings` JSON.
    pub table_mappings: String,
    /// `ReplicationTaskSettings` JSON.
    pub task_settings: Option<String>,
    /// `CdcStartPosition`.
    pub cdc_start_position: Option<String>,
    /// `RecoveryCheckpoint`: where a resume continues.
    pub recovery_checkpoint: Option<String>,
    /// `StopReason`, e.g. "Stop Reason FULL_LOAD_ONLY_FINISHED".
    pub stop_reason: Option<String>,
    /// `LastFailureMessage`.
    pub last_failure_message: Option<String>,
    /// `ReplicationTaskStats` (absent before the first start).
    pub stats: Option<ReplicationTaskStats>,
}

/// `CreateReplicationTask` input. The engine builds the JSON documents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateReplicationTaskInput {
    /// `ReplicationTaskIdentifier`.
    pub identifier: String,
    /// `ReplicationInstanceArn`.
    pub replication_instance_arn: String,
    /// `SourceEndpointArn`.
    pub source_endpoint_arn: String,
    /// `TargetEndpointArn`.
    pub target_endpoint_arn: String,
    /// `MigrationType`.
    pub migration_type: MigrationType,
    /// `TableMappings` JSON.
    pub table_mappings: String,
    /// `ReplicationTaskSettings` JSON.
    pub task_settings: String,
    /// `CdcStartPosition` (only with [`MigrationType::Cdc`]).
    pub cdc_start_position: Option<String>,
    /// `Tags`.
    pub tags: Tags,
}

/// `ModifyReplicationTask` input (the task must be stopped). `None` = unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ModifyReplicationTaskInput {
    /// `ReplicationTaskArn`.
    pub arn: String,
    /// `MigrationType`.
    pub migration_type: Option<MigrationType>,
    /// `TableMappings` JSON.
    pub table_mappings: Option<String>,
    /// `ReplicationTaskSettings` JSON.
    pub task_settings: Option<String>,
    /// `CdcStartPosition`.
    pub cdc_start_position: Option<String>,
}

/// `StartReplicationTask` input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartReplicationTaskInput {
    /// `ReplicationTaskArn`.
    pub arn: String,
    /// `StartReplicationTaskType`.
    pub start_type: StartType,
    /// `CdcStartPosition`.
    pub cdc_start_position: Option<String>,
}

/// One row of `DescribeTableStatistics`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableStatistics {
    /// `SchemaName`.
    pub schema_name: String,
    /// `TableName`.
    pub table_name: String,
    /// `TableState`.
    pub table_state: TableState,
    /// `FullLoadRows`.
    pub full_load_rows: i64,
    /// `Inserts`.
    pub inserts: i64,
    /// `Updates`.
    pub updates: i64,
    /// `Deletes`.
    pub deletes: i64,
    /// `ValidationState`.
    pub validation_state: ValidationState,
    /// `ValidationPendingRecords`.
    pub validation_pending_records: i64,
    /// `ValidationFailedRecords`.
    pub validation_failed_records: i64,
    /// `ValidationSuspendedRecords`.
    pub validation_suspended_records: i64,
}
