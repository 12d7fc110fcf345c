//! RDS domain types: instances, snapshots, their inputs, and blue/green deployments.

use super::*;

// ---------------------------------------------------------------------------------------------
// RDS
// ---------------------------------------------------------------------------------------------

aws_enum! {
    /// `DBInstanceStatus`.
    DbInstanceStatus default Other {
        /// `available`: ready to serve.
        Available => "available",
        /// `backing-up`: the first automated backup after create/restore.
        BackingUp => "backing-up",
        /// `creating`.
        Creating => "creating",
        /// `deleting`.
        Deleting => "deleting",
        /// `modifying`.
        Modifying => "modifying",
        /// `renaming`: a NewDBInstanceIdentifier is being applied.
        Renaming => "renaming",
        /// `rebooting`.
        Rebooting => "rebooting",
        /// `starting`.
        Starting => "starting",
        /// `stopped`.
        Stopped => "stopped",
        /// `stopping`.
        Stopping => "stopping",
        /// `configuring-enhanced-monitoring`.
        ConfiguringEnhancedMonitoring => "configuring-enhanced-monitoring",
        /// `configuring-log-exports`.
        ConfiguringLogExports => "configuring-log-exports",
        /// `configuring-iam-database-auth`.
        ConfiguringIamDatabaseAuth => "configuring-iam-database-auth",
        /// `resetting-master-credentials`.
        ResettingMasterCredentials => "resetting-master-credentials",
        /// `storage-optimization`: usable; storage is being reorganised.
        StorageOptimization => "storage-optimization",
        /// `upgrading`.
        Upgrading => "upgrading",
        /// `maintenance`.
        Maintenance => "maintenance",
        /// `failed`: terminal.
        Failed => "failed",
        /// `incompatible-restore`: terminal for a restore.
        IncompatibleRestore => "incompatible-restore",
        /// `incompatible-parameters`.
        IncompatibleParameters => "incompatible-parameters",
        /// `incompatible-network`.
        IncompatibleNetwork => "incompatible-network",
        /// `storage-full`.
        StorageFull => "storage-full",
        /// `inaccessible-encryption-credentials`: the KMS key is disabled or not accessible.
        InaccessibleEncryptionCredentials => "inaccessible-encryption-credentials",
    }
}

impl DbInstanceStatus {
    /// Transitional statuses: the instance returns to `available` without intervention, so a
    /// waiter keeps waiting ("DB instance status" in the RDS User Guide lists each as a
    /// passing state). The one list every instance waiter uses.
    pub const PENDING: &'static [DbInstanceStatus] = &[
        DbInstanceStatus::Creating,
        DbInstanceStatus::BackingUp,
        DbInstanceStatus::Modifying,
        DbInstanceStatus::Renaming,
        DbInstanceStatus::Rebooting,
        DbInstanceStatus::Starting,
        DbInstanceStatus::ConfiguringEnhancedMonitoring,
        DbInstanceStatus::ConfiguringLogExports,
        DbInstanceStatus::ConfiguringIamDatabaseAuth,
        DbInstanceStatus::ResettingMasterCredentials,
        DbInstanceStatus::Upgrading,
        DbInstanceStatus::Maintenance,
    ];
    /// Statuses in which the instance can be used and modified: `available`, and
    /// `storage-optimization` (the instance serves and accepts modifications while storage is
    /// optimised after a change).
    pub const READY: &'static [DbInstanceStatus] = &[
        DbInstanceStatus::Available,
        DbInstanceStatus::StorageOptimization,
    ];

    /// True when the instance can be used and modified ([`Self::READY`]).
    pub fn is_ready(&self) -> bool {
        Self::READY.contains(self)
    }
    /// True for transitional statuses ([`Self::PENDING`]).
    pub fn is_pending(&self) -> bool {
        Self::PENDING.contains(self)
    }
    /// True for states that do not resolve without intervention.
    pub fn is_failed(&self) -> bool {
        matches!(
            self,
            DbInstanceStatus::Failed
                | DbInstanceStatus::IncompatibleRestore
                | DbInstanceStatus::IncompatibleParameters
                | DbInstanceStatus::IncompatibleNetwork
                | DbInstanceStatus::StorageFull
                | DbInstanceStatus::InaccessibleEncryptionCredentials
        )
    }
}

aws_enum! {
    /// The database engine of an RDS instance or snapshot (`Engine`).
    DbEngine default Other {
        /// `mysql`.
        Mysql => "mysql",
        /// `mariadb`.
        Mariadb => "mariadb",
        /// `postgres`.
        Postgres => "postgres",
    }
}

aws_enum! {
    /// `DBSnapshot.Status`.
    SnapshotStatus default Other {
        /// `creating` (also reported while a copy is in progress).
        Creating => "creating",
        /// `copying`.
        Copying => "copying",
        /// `pending`: a copy queued before it starts copying.
        Pending => "pending",
        /// `available`.
        Available => "available",
        /// `deleting`.
        Deleting => "deleting",
        /// `failed`: terminal.
        Failed => "failed",
    }
}

aws_enum! {
    /// `DBSnapshot.SnapshotType`.
    SnapshotType default Manual {
        /// `manual`: made by a CreateDBSnapshot or CopyDBSnapshot call.
        Manual => "manual",
        /// `automated`: made by the backup window.
        Automated => "automated",
    }
}

/// A host and port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPort {
    /// DNS name.
    pub address: String,
    /// TCP port.
    pub port: u16,
}

/// The DB subnet group an instance lives in (RDS returns it inline with the instance).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DbSubnetGroupInfo {
    /// `DBSubnetGroupName`.
    pub name: String,
    /// The VPC.
    pub vpc_id: String,
    /// The subnets, in AWS order.
    pub subnet_ids: Vec<String>,
}

/// Performance Insights settings.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PerformanceInsights {
    /// Whether Performance Insights is on.
    pub enabled: bool,
    /// The KMS key for Performance Insights data (only meaningful when enabled).
    pub kms_key_id: Option<String>,
    /// Retention in days (7, 731, or a multiple of 31).
    pub retention_period_days: Option<i32>,
}

/// An RDS DB instance as `DescribeDBInstances` reports it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DbInstance {
    /// `DBInstanceIdentifier`.
    pub identifier: String,
    /// `DBInstanceArn`.
    pub arn: String,
    /// `DBInstanceStatus`.
    pub status: DbInstanceStatus,
    /// `Engine`.
    pub engine: DbEngine,
    /// `EngineVersion`.
    pub engine_version: String,
    /// `DBInstanceClass`.
    pub instance_class: String,
    /// `AllocatedStorage` in GiB.
    pub allocated_storage: i32,
    /// `StorageType` (gp2, gp3, io1, io2, standard).
    pub storage_type: Option<String>,
    /// `Iops`.
    pub iops: Option<i32>,
    /// `StorageThroughput` (gp3), MiB/s.
    pub storage_throughput: Option<i32>,
    /// `MaxAllocatedStorage` (storage autoscaling).
    pub max_allocated_storage: Option<i32>,
    /// `StorageEncrypted`.
    pub storage_encrypted: bool,
    /// `KmsKeyId` (a key ARN) when encrypted.
    pub kms_key_id: Option<String>,
    /// `Endpoint`, absent while creating.
    pub endpoint: Option<HostPort>,
    /// `DbInstancePort` / configured port.
    pub port: Option<u16>,
    /// `DBName` (the initial database, when one was created).
    pub db_name: Option<String>,
    /// `MasterUsername`.
    pub master_username: Option<String>,
    /// `MultiAZ`.
    pub multi_az: bool,
    /// `AvailabilityZone`.
    pub availability_zone: Option<String>,
    /// `PubliclyAccessible`.
    pub publicly_accessible: bool,
    /// `DeletionProtection`.
    pub deletion_protection: bool,
    /// `CopyTagsToSnapshot`.
    pub copy_tags_to_snapshot: bool,
    /// `AutoMinorVersionUpgrade`.
    pub auto_minor_version_upgrade: bool,
    /// `IAMDatabaseAuthenticationEnabled`.
    pub iam_database_authentication_enabled: bool,
    /// `DBParameterGroups[0].DBParameterGroupName`.
    pub db_parameter_group_name: Option<String>,
    /// `DBParameterGroups[0].ParameterApplyStatus` (`in-sync` once the group's values apply).
    pub parameter_apply_status: Option<String>,
    /// `OptionGroupMemberships[0].OptionGroupName`.
    pub option_group_name: Option<String>,
    /// `DBSubnetGroup`.
    pub db_subnet_group: Option<DbSubnetGroupInfo>,
    /// `VpcSecurityGroups[*].VpcSecurityGroupId`.
    pub vpc_security_group_ids: Vec<String>,
    /// `CACertificateIdentifier`.
    pub ca_certificate_identifier: Option<String>,
    /// `EnabledCloudwatchLogsExports`.
    pub enabled_cloudwatch_logs_exports: Vec<String>,
    /// `BackupRetentionPeriod` in days (0 = automated backups off).
    pub backup_retention_period: i32,
    /// `PreferredBackupWindow`.
    pub preferred_backup_window: Option<String>,
    /// `PreferredMaintenanceWindow`.
    pub preferred_maintenance_window: Option<String>,
    /// `MonitoringInterval` in seconds (0 = enhanced monitoring off).
    pub monitoring_interval: i32,
    /// `MonitoringRoleArn`.
    pub monitoring_role_arn: Option<String>,
    /// Performance Insights settings.
    pub performance_insights: PerformanceInsights,
    /// `ReadReplicaSourceDBInstanceIdentifier`: set when this instance is a read replica.
    pub read_replica_source: Option<String>,
    /// `ReadReplicaDBInstanceIdentifiers`.
    pub read_replica_identifiers: Vec<String>,
    /// `InstanceCreateTime`.
    pub create_time: Option<SystemTime>,
    /// `MasterUserSecret.SecretArn`: set when RDS manages the master password in Secrets
    /// Manager (blue/green deployments refuse such instances).
    pub master_user_secret_arn: Option<String>,
    /// `TagList`.
    pub tags: Tags,
}

/// An RDS DB snapshot (manual snapshot or encrypted copy).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DbSnapshot {
    /// `DBSnapshotIdentifier`.
    pub identifier: String,
    /// `DBSnapshotArn`.
    pub arn: String,
    /// `DBInstanceIdentifier`: the instance the data came from.
    pub db_instance_identifier: String,
    /// `Status`.
    pub status: SnapshotStatus,
    /// `PercentProgress`, 0-100.
    pub percent_progress: i32,
    /// `SnapshotType`.
    pub snapshot_type: SnapshotType,
    /// `Engine`.
    pub engine: DbEngine,
    /// `EngineVersion`.
    pub engine_version: String,
    /// `AllocatedStorage` in GiB.
    pub allocated_storage: i32,
    /// `Encrypted`.
    pub encrypted: bool,
    /// `KmsKeyId` (a key ARN) when encrypted.
    pub kms_key_id: Option<String>,
    /// `SourceDBSnapshotIdentifier`: for a copy, the ARN of the snapshot it was copied from.
    pub source_db_snapshot_identifier: Option<String>,
    /// `SnapshotCreateTime`.
    pub create_time: Option<SystemTime>,
    /// `TagList`.
    pub tags: Tags,
}

/// `ModifyDBParameterGroup` input for one dynamic parameter, `ApplyMethod` `immediate`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModifyDbParameterInput {
    /// `DBParameterGroupName`.
    pub group: String,
    /// `Parameters[0].ParameterName`.
    pub name: String,
    /// `Parameters[0].ParameterValue`.
    pub value: String,
}

/// `CopyDBParameterGroup` input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyDbParameterGroupInput {
    /// `SourceDBParameterGroupIdentifier`.
    pub source_group: String,
    /// `TargetDBParameterGroupIdentifier`.
    pub target_group: String,
    /// `TargetDBParameterGroupDescription`.
    pub description: String,
    /// `Tags`.
    pub tags: Tags,
}

/// `CreateDBSnapshot` input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateDbSnapshotInput {
    /// `DBSnapshotIdentifier`.
    pub snapshot_identifier: String,
    /// `DBInstanceIdentifier`.
    pub db_instance_identifier: String,
    /// `Tags`.
    pub tags: Tags,
}

/// `CopyDBSnapshot` input: the copy is encrypted with `kms_key_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyDbSnapshotInput {
    /// `SourceDBSnapshotIdentifier` (identifier or ARN).
    pub source_snapshot_identifier: String,
    /// `TargetDBSnapshotIdentifier`.
    pub target_snapshot_identifier: String,
    /// `KmsKeyId`: key id, key ARN, alias name or alias ARN.
    pub kms_key_id: String,
    /// `CopyTags`: copy the source snapshot's tags (in addition to `tags`).
    pub copy_tags: bool,
    /// `Tags`.
    pub tags: Tags,
}

/// `RestoreDBInstanceFromDBSnapshot` input, carrying every setting the target inherits from
/// the source (or its overrides). `None` means "let AWS choose its default".
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RestoreDbInstanceInput {
    /// `DBInstanceIdentifier` of the new instance.
    pub db_instance_identifier: String,
    /// `DBSnapshotIdentifier` (identifier or ARN of the encrypted copy).
    pub db_snapshot_identifier: String,
    /// `DBInstanceClass`.
    pub instance_class: Option<String>,
    /// `StorageType`.
    pub storage_type: Option<String>,
    /// `AllocatedStorage` in GiB (may only grow relative to the snapshot).
    pub allocated_storage: Option<i32>,
    /// `Iops`.
    pub iops: Option<i32>,
    /// `StorageThroughput`.
    pub storage_throughput: Option<i32>,
    /// `DBParameterGroupName`.
    pub db_parameter_group_name: Option<String>,
    /// `OptionGroupName`.
    pub option_group_name: Option<String>,
    /// `DBSubnetGroupName`.
    pub db_subnet_group_name: Option<String>,
    /// `VpcSecurityGroupIds`.
    pub vpc_security_group_ids: Vec<String>,
    /// `Port`.
    pub port: Option<u16>,
    /// `MultiAZ`.
    pub multi_az: bool,
    /// `AvailabilityZone`: only sent when single-AZ (AWS rejects it with MultiAZ).
    pub availability_zone: Option<String>,
    /// `PubliclyAccessible`.
    pub publicly_accessible: bool,
    /// `DeletionProtection`.
    pub deletion_protection: bool,
    /// `CopyTagsToSnapshot`.
    pub copy_tags_to_snapshot: bool,
    /// `AutoMinorVersionUpgrade`.
    pub auto_minor_version_upgrade: bool,
    /// `EnableIAMDatabaseAuthentication`.
    pub iam_database_authentication_enabled: bool,
    /// `CACertificateIdentifier`.
    pub ca_certificate_identifier: Option<String>,
    /// `EnableCloudwatchLogsExports`.
    pub enabled_cloudwatch_logs_exports: Vec<String>,
    /// `Tags`.
    pub tags: Tags,
}

/// `ModifyDBInstance` input. Every `None` field is left unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ModifyDbInstanceInput {
    /// `DBInstanceIdentifier` (current name).
    pub db_instance_identifier: String,
    /// `NewDBInstanceIdentifier`: rename (identifier-swap cutover). The implementation must
    /// not rely on AWS to refuse a rename onto an existing name (the emulator does not);
    /// the engine checks collisions before calling.
    pub new_db_instance_identifier: Option<String>,
    /// `BackupRetentionPeriod` in days.
    pub backup_retention_period: Option<i32>,
    /// `PreferredBackupWindow`.
    pub preferred_backup_window: Option<String>,
    /// `PreferredMaintenanceWindow`.
    pub preferred_maintenance_window: Option<String>,
    /// `MonitoringInterval` in seconds.
    pub monitoring_interval: Option<i32>,
    /// `MonitoringRoleArn`.
    pub monitoring_role_arn: Option<String>,
    /// `EnablePerformanceInsights` + `PerformanceInsightsKMSKeyId` +
    /// `PerformanceInsightsRetentionPeriod`.
    pub performance_insights: Option<PerformanceInsights>,
    /// `DeletionProtection`.
    pub deletion_protection: Option<bool>,
    /// `MaxAllocatedStorage`.
    pub max_allocated_storage: Option<i32>,
    /// `VpcSecurityGroupIds` (replaces the whole list; the cutover write fence).
    pub vpc_security_group_ids: Option<Vec<String>>,
    /// `ApplyImmediately`.
    pub apply_immediately: bool,
}

/// What happens to the data when an instance is deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FinalSnapshot {
    /// `FinalDBSnapshotIdentifier`: take this snapshot first.
    Take(String),
    /// `SkipFinalSnapshot = true`: only when the configuration plainly says so.
    Skip,
}

/// `DeleteDBInstance` input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteDbInstanceInput {
    /// `DBInstanceIdentifier`.
    pub db_instance_identifier: String,
    /// Final snapshot or skip.
    pub final_snapshot: FinalSnapshot,
    /// `DeleteAutomatedBackups`.
    pub delete_automated_backups: bool,
}

/// `CreateDBInstanceReadReplica` input (DMS may read changes from a replica of the source).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CreateReadReplicaInput {
    /// `DBInstanceIdentifier` of the replica.
    pub db_instance_identifier: String,
    /// `SourceDBInstanceIdentifier`.
    pub source_db_instance_identifier: String,
    /// `DBInstanceClass` (None: same as the source).
    pub instance_class: Option<String>,
    /// `AvailabilityZone`.
    pub availability_zone: Option<String>,
    /// `DBParameterGroupName` (binlog / logical replication settings for DMS).
    pub db_parameter_group_name: Option<String>,
    /// `VpcSecurityGroupIds`.
    pub vpc_security_group_ids: Vec<String>,
    /// `PubliclyAccessible`.
    pub publicly_accessible: bool,
    /// `Tags`.
    pub tags: Tags,
}

// ---------------------------------------------------------------------------------------------
// RDS blue/green deployments
// ---------------------------------------------------------------------------------------------

aws_enum! {
    /// `BlueGreenDeployment.Status`.
    BlueGreenStatus default Other {
        /// `PROVISIONING`: the green environment is being created.
        Provisioning => "PROVISIONING",
        /// `AVAILABLE`: green exists and replicates from blue.
        Available => "AVAILABLE",
        /// `SWITCHOVER_IN_PROGRESS`.
        SwitchoverInProgress => "SWITCHOVER_IN_PROGRESS",
        /// `SWITCHOVER_COMPLETED`: green now carries the production names.
        SwitchoverCompleted => "SWITCHOVER_COMPLETED",
        /// `INVALID_CONFIGURATION`: terminal; `StatusDetails` says why.
        InvalidConfiguration => "INVALID_CONFIGURATION",
        /// `PROVISIONING_FAILED`: terminal; `StatusDetails` says why.
        ProvisioningFailed => "PROVISIONING_FAILED",
        /// `SWITCHOVER_FAILED`: RDS rolled the switchover back; blue still serves.
        SwitchoverFailed => "SWITCHOVER_FAILED",
        /// `DELETING`.
        Deleting => "DELETING",
    }
}

/// How a blue/green deployment is looked up.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum BlueGreenRef {
    /// `BlueGreenDeploymentIdentifier` (`bgd-...`, recorded in state).
    Id(String),
    /// The deterministic name; the implementation filters on `blue-green-deployment-name`.
    Name(String),
}

impl BlueGreenRef {
    /// The identifier or name text.
    pub fn as_str(&self) -> &str {
        match self {
            BlueGreenRef::Id(s) | BlueGreenRef::Name(s) => s,
        }
    }
}

impl fmt::Display for BlueGreenRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One `SwitchoverDetails` entry: a blue instance and its green twin.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SwitchoverDetail {
    /// `SourceMember`: ARN of the blue instance.
    pub source_member: String,
    /// `TargetMember`: ARN of the green instance (empty while not yet created).
    pub target_member: String,
    /// `Status` of the pair, as RDS reports it (shown, never compared).
    pub status: String,
}

/// An RDS blue/green deployment.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BlueGreenDeployment {
    /// `BlueGreenDeploymentIdentifier`.
    pub identifier: String,
    /// `BlueGreenDeploymentName`.
    pub name: String,
    /// `Source`: ARN of the blue primary.
    pub source_arn: String,
    /// `Target`: ARN of the green primary (empty while not yet created).
    pub target_arn: String,
    /// `Status`.
    pub status: BlueGreenStatus,
    /// `StatusDetails`: RDS's explanation of a failed status.
    pub status_details: Option<String>,
    /// `SwitchoverDetails`: one entry per instance (primary and each read replica).
    pub switchover_details: Vec<SwitchoverDetail>,
    /// `TagList`.
    pub tags: Tags,
}

/// One `TargetResourceConfigurations` entry: the key the green twin of `source_arn` is
/// encrypted with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetResourceConfig {
    /// `SourceArn`: a blue instance (the primary or one of its read replicas).
    pub source_arn: String,
    /// `TargetKmsKeyId`: a key ARN.
    pub kms_key_id: String,
}

/// `CreateBlueGreenDeployment` input.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CreateBlueGreenDeploymentInput {
    /// `BlueGreenDeploymentName`.
    pub name: String,
    /// `Source`: ARN of the blue primary.
    pub source_arn: String,
    /// `TargetResourceConfigurations`: the primary and every read replica.
    pub target_resource_configurations: Vec<TargetResourceConfig>,
    /// `TargetEngineVersion`.
    pub target_engine_version: Option<String>,
    /// `TargetDBParameterGroupName`.
    pub target_db_parameter_group_name: Option<String>,
    /// `Tags` (on the deployment object).
    pub tags: Tags,
}
