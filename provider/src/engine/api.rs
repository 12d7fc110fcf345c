//! The AWS interface the migration engine drives: one method per AWS operation, domain types
//! (never SDK types) and [`AwsError`] as the only error.
//!
//! The `aws` module implements [`AwsApi`] with the AWS SDK; the engine's tests implement it
//! with an in-memory fake on a virtual clock. Nothing here knows Terraform or the SDK.
//!
//! # Contract for implementations
//! - **Finders** (`describe_*`) return [`AwsError::NotFound`] when the object does not exist,
//!   whether AWS answered with a not-found fault or with an empty list (DMS does the latter),
//!   and [`AwsError::TooManyResults`] when a lookup by unique id matches several objects.
//! - **Creates** return [`AwsError::AlreadyExists`] when the identifier is taken; the engine
//!   then adopts the existing object only if it carries the migration's tags.
//! - **Deletes** of an object that is already gone return [`AwsError::NotFound`]; the engine
//!   treats that as success.
//! - Transient failures (throttling after the SDK's retries, 5xx, connection trouble, busy
//!   objects) map to the variants for which [`AwsError::is_transient`] is true; the engine
//!   retries those with backoff and never reads them as "not found".
//! - Status strings are parsed once, at the boundary, with the `from_aws` constructors of the
//!   status enums below; unknown values are kept in an `Other(String)` variant.
//! - Secrets ([`SecretString`]) are passed to AWS as is and never logged.

use std::collections::BTreeMap;
use std::fmt;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;

pub use crate::aws::AwsError;

/// Resource tags, sorted by key so comparisons and logs are stable.
pub type Tags = BTreeMap<String, String>;

macro_rules! aws_enum {
    (
        $(#[$meta:meta])*
        $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident => $wire:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A value this version of the provider does not know, kept verbatim.
            Other(String),
        }

        impl $name {
            /// Parses the AWS wire value (ASCII case-insensitive); unknown values become `Other`.
            pub fn from_aws(s: &str) -> Self {
                $( if s.eq_ignore_ascii_case($wire) { return Self::$variant; } )+
                Self::Other(s.to_owned())
            }

            /// The AWS wire value.
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $wire, )+
                    Self::Other(s) => s,
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

// ---------------------------------------------------------------------------------------------
// Secrets and references
// ---------------------------------------------------------------------------------------------

/// A secret (a database password). `Debug` and `Display` print `<redacted>`; the value is only
/// reachable through [`SecretString::expose`], which the SDK implementation calls when it
/// builds a request. Not `Serialize`, so it cannot end up in state by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretString(String);

impl SecretString {
    /// Wraps a secret.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    /// The secret itself. Call only to hand it to AWS.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl fmt::Display for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// How a DMS object is looked up: by ARN (user-supplied ARNs) or by identifier (the
/// deterministic names the engine derives).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum DmsRef {
    /// `arn:aws:dms:...`; the implementation filters on the `*-arn` filter.
    Arn(String),
    /// The user-visible identifier; the implementation filters on the `*-id` filter.
    Id(String),
}

impl DmsRef {
    /// `Arn` when `s` starts with `arn:`, else `Id` (DMS identifiers cannot contain `:`).
    pub fn parse(s: &str) -> Self {
        if s.starts_with("arn:") {
            DmsRef::Arn(s.to_owned())
        } else {
            DmsRef::Id(s.to_owned())
        }
    }
    /// The ARN or identifier text.
    pub fn as_str(&self) -> &str {
        match self {
            DmsRef::Arn(s) | DmsRef::Id(s) => s,
        }
    }
}

impl fmt::Display for DmsRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

// ---------------------------------------------------------------------------------------------
// RDS
// ---------------------------------------------------------------------------------------------

aws_enum! {
    /// `DBInstanceStatus`.
    DbInstanceStatus {
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
    /// True when the instance can be used and modified (`available` or
    /// `storage-optimization`).
    pub fn is_ready(&self) -> bool {
        matches!(
            self,
            DbInstanceStatus::Available | DbInstanceStatus::StorageOptimization
        )
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
    DbEngine {
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
    SnapshotStatus {
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
    SnapshotType {
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

impl Default for DbInstanceStatus {
    fn default() -> Self {
        DbInstanceStatus::Other(String::new())
    }
}

impl Default for DbEngine {
    fn default() -> Self {
        DbEngine::Other(String::new())
    }
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

impl Default for SnapshotStatus {
    fn default() -> Self {
        SnapshotStatus::Other(String::new())
    }
}

// The macro cannot place `#[default]` on one variant.
#[allow(clippy::derivable_impls)]
impl Default for SnapshotType {
    fn default() -> Self {
        SnapshotType::Manual
    }
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
    BlueGreenStatus {
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

impl Default for BlueGreenStatus {
    fn default() -> Self {
        BlueGreenStatus::Other(String::new())
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

// ---------------------------------------------------------------------------------------------
// KMS
// ---------------------------------------------------------------------------------------------

aws_enum! {
    /// `KeyMetadata.KeyState`.
    KmsKeyState {
        /// `Enabled`: usable.
        Enabled => "Enabled",
        /// `Disabled`.
        Disabled => "Disabled",
        /// `PendingDeletion`.
        PendingDeletion => "PendingDeletion",
        /// `PendingReplicaDeletion`.
        PendingReplicaDeletion => "PendingReplicaDeletion",
        /// `PendingImport`: no key material yet.
        PendingImport => "PendingImport",
        /// `Unavailable`.
        Unavailable => "Unavailable",
        /// `Creating`.
        Creating => "Creating",
        /// `Updating`.
        Updating => "Updating",
    }
}

aws_enum! {
    /// `KeyMetadata.KeyUsage`.
    KmsKeyUsage {
        /// `ENCRYPT_DECRYPT`: the only usage RDS accepts.
        EncryptDecrypt => "ENCRYPT_DECRYPT",
        /// `SIGN_VERIFY`.
        SignVerify => "SIGN_VERIFY",
        /// `GENERATE_VERIFY_MAC`.
        GenerateVerifyMac => "GENERATE_VERIFY_MAC",
        /// `KEY_AGREEMENT`.
        KeyAgreement => "KEY_AGREEMENT",
    }
}

aws_enum! {
    /// `KeyMetadata.KeySpec`.
    KmsKeySpec {
        /// `SYMMETRIC_DEFAULT`: the only spec RDS accepts.
        SymmetricDefault => "SYMMETRIC_DEFAULT",
    }
}

aws_enum! {
    /// `KeyMetadata.KeyManager`.
    KmsKeyManager {
        /// `AWS`: an AWS managed key such as `alias/aws/rds`.
        Aws => "AWS",
        /// `CUSTOMER`: a customer managed key.
        Customer => "CUSTOMER",
    }
}

/// A KMS key resolved from a key id, key ARN, alias name or alias ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KmsKey {
    /// `KeyId` (the UUID).
    pub key_id: String,
    /// `Arn`: the key ARN (never an alias ARN).
    pub arn: String,
    /// `KeyState`.
    pub state: KmsKeyState,
    /// `KeyUsage`.
    pub usage: KmsKeyUsage,
    /// `KeySpec`.
    pub spec: KmsKeySpec,
    /// `KeyManager`.
    pub manager: KmsKeyManager,
    /// `MultiRegion`.
    pub multi_region: bool,
}

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

// ---------------------------------------------------------------------------------------------
// CloudWatch
// ---------------------------------------------------------------------------------------------

/// Which task's CDC latency to read (`AWS/DMS` `CDCLatencySource` / `CDCLatencyTarget`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CdcLatencyQuery {
    /// Dimension `ReplicationInstanceIdentifier`.
    pub replication_instance_identifier: String,
    /// Dimension `ReplicationTaskIdentifier`. AWS publishes the task's resource id here (the
    /// last `:`-separated part of its ARN), not its user-visible identifier.
    pub replication_task_identifier: String,
    /// End of the window (wall clock; from the engine's `Clock`).
    pub end: SystemTime,
    /// Window length; the implementation returns the latest datapoint inside it.
    pub window: Duration,
}

/// The latest CDC latency datapoints, in seconds; `None` when no datapoint exists in the
/// window (task not in CDC yet, or metrics delayed).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct CdcLatency {
    /// `CDCLatencySource`: source commit to read by DMS.
    pub source_seconds: Option<f64>,
    /// `CDCLatencyTarget`: source commit to applied on the target (the end-to-end lag).
    pub target_seconds: Option<f64>,
}

// ---------------------------------------------------------------------------------------------
// Route 53
// ---------------------------------------------------------------------------------------------

aws_enum! {
    /// `ChangeInfo.Status` of a Route 53 change.
    ChangeStatus {
        /// `PENDING`: not yet on every Route 53 name server.
        Pending => "PENDING",
        /// `INSYNC`: served by every Route 53 name server.
        Insync => "INSYNC",
    }
}

/// A simple-routing CNAME record as Route 53 stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CnameRecord {
    /// The record's value (the host name it points at), without a trailing dot.
    pub value: String,
    /// `TTL` in seconds.
    pub ttl: Option<i64>,
}

/// `ChangeResourceRecordSets` with one UPSERT of a CNAME.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpsertCnameInput {
    /// Hosted zone id (with or without `/hostedzone/`).
    pub zone_id: String,
    /// The record name (the application's host name).
    pub record_name: String,
    /// The host name the record points at.
    pub value: String,
    /// TTL in seconds.
    pub ttl: i64,
    /// Change comment (shown in the Route 53 console).
    pub comment: String,
}

// ---------------------------------------------------------------------------------------------
// The trait
// ---------------------------------------------------------------------------------------------

/// Every AWS operation the migration performs. Object-safe: the engine holds an
/// `Arc<dyn AwsApi>`.
///
/// **Errors**: every method returns [`AwsError`]; see the module docs for the not-found,
/// already-exists and transient contract.
#[async_trait]
pub trait AwsApi: Send + Sync {
    // --- RDS instances ---

    /// `DescribeDBInstances` by identifier. `NotFound` when absent.
    async fn describe_db_instance(&self, identifier: &str) -> Result<DbInstance, AwsError>;

    /// Every DB instance carrying tag `key` = `value` (all pages); for adoption and import.
    async fn list_db_instances_by_tag(
        &self,
        key: &str,
        value: &str,
    ) -> Result<Vec<DbInstance>, AwsError>;

    /// `RestoreDBInstanceFromDBSnapshot`. Returns the instance as first described.
    async fn restore_db_instance_from_snapshot(
        &self,
        input: &RestoreDbInstanceInput,
    ) -> Result<DbInstance, AwsError>;

    /// `ModifyDBInstance`.
    async fn modify_db_instance(
        &self,
        input: &ModifyDbInstanceInput,
    ) -> Result<DbInstance, AwsError>;

    /// `DeleteDBInstance`. `NotFound` when already gone.
    async fn delete_db_instance(&self, input: &DeleteDbInstanceInput) -> Result<(), AwsError>;

    /// `StopDBInstance` (retire the source at finalize). `NotFound` when absent.
    async fn stop_db_instance(&self, identifier: &str) -> Result<DbInstance, AwsError>;

    /// `CreateDBInstanceReadReplica`.
    async fn create_read_replica(
        &self,
        input: &CreateReadReplicaInput,
    ) -> Result<DbInstance, AwsError>;

    // --- RDS snapshots ---

    /// `CreateDBSnapshot`.
    async fn create_db_snapshot(
        &self,
        input: &CreateDbSnapshotInput,
    ) -> Result<DbSnapshot, AwsError>;

    /// `DescribeDBSnapshots` by identifier (manual snapshots only). `NotFound` when absent.
    async fn describe_db_snapshot(&self, identifier: &str) -> Result<DbSnapshot, AwsError>;

    /// `CopyDBSnapshot` with a KMS key: the copy is encrypted.
    async fn copy_db_snapshot(&self, input: &CopyDbSnapshotInput) -> Result<DbSnapshot, AwsError>;

    /// `DeleteDBSnapshot`. `NotFound` when already gone.
    async fn delete_db_snapshot(&self, identifier: &str) -> Result<(), AwsError>;

    // --- RDS blue/green deployments ---

    /// `CreateBlueGreenDeployment`. `AlreadyExists` when the name is taken.
    async fn create_blue_green_deployment(
        &self,
        input: &CreateBlueGreenDeploymentInput,
    ) -> Result<BlueGreenDeployment, AwsError>;

    /// `DescribeBlueGreenDeployments` by identifier or by name (filter
    /// `blue-green-deployment-name`). `NotFound` when absent (fault or empty list).
    async fn describe_blue_green_deployment(
        &self,
        which: &BlueGreenRef,
    ) -> Result<BlueGreenDeployment, AwsError>;

    /// `SwitchoverBlueGreenDeployment` with `SwitchoverTimeout` in seconds.
    async fn switchover_blue_green_deployment(
        &self,
        identifier: &str,
        timeout_seconds: i32,
    ) -> Result<BlueGreenDeployment, AwsError>;

    /// `DeleteBlueGreenDeployment`; `delete_target` deletes the green instances too (RDS
    /// refuses it after a switchover). `NotFound` when already gone.
    async fn delete_blue_green_deployment(
        &self,
        identifier: &str,
        delete_target: bool,
    ) -> Result<(), AwsError>;

    // --- KMS ---

    /// `DescribeKey`: resolves a key id, key ARN, alias name (`alias/x`) or alias ARN.
    /// `NotFound` when the key or alias does not exist.
    async fn describe_kms_key(&self, key_id: &str) -> Result<KmsKey, AwsError>;

    // --- DMS replication subnet groups ---

    /// `CreateReplicationSubnetGroup`.
    async fn create_replication_subnet_group(
        &self,
        input: &CreateReplicationSubnetGroupInput,
    ) -> Result<ReplicationSubnetGroup, AwsError>;

    /// `DescribeReplicationSubnetGroups` by identifier. `NotFound` when absent.
    async fn describe_replication_subnet_group(
        &self,
        identifier: &str,
    ) -> Result<ReplicationSubnetGroup, AwsError>;

    /// `DeleteReplicationSubnetGroup`. `NotFound` when already gone.
    async fn delete_replication_subnet_group(&self, identifier: &str) -> Result<(), AwsError>;

    // --- DMS replication instances ---

    /// `CreateReplicationInstance`.
    async fn create_replication_instance(
        &self,
        input: &CreateReplicationInstanceInput,
    ) -> Result<ReplicationInstance, AwsError>;

    /// `DescribeReplicationInstances` filtered by ARN or identifier. `NotFound` when absent
    /// (DMS answers with an empty list).
    async fn describe_replication_instance(
        &self,
        which: &DmsRef,
    ) -> Result<ReplicationInstance, AwsError>;

    /// `DeleteReplicationInstance`. `NotFound` when already gone.
    async fn delete_replication_instance(&self, arn: &str) -> Result<(), AwsError>;

    // --- DMS endpoints ---

    /// `CreateEndpoint`. The implementation must return `AlreadyExists` when the identifier
    /// is taken, checking first if AWS (or the emulator) would silently replace it.
    async fn create_endpoint(&self, input: &CreateEndpointInput) -> Result<Endpoint, AwsError>;

    /// `DescribeEndpoints` filtered by ARN or identifier. `NotFound` when absent.
    async fn describe_endpoint(&self, which: &DmsRef) -> Result<Endpoint, AwsError>;

    /// `ModifyEndpoint`.
    async fn modify_endpoint(&self, input: &ModifyEndpointInput) -> Result<Endpoint, AwsError>;

    /// `DeleteEndpoint`. `NotFound` when already gone.
    async fn delete_endpoint(&self, arn: &str) -> Result<(), AwsError>;

    /// `TestConnection` between a replication instance and an endpoint.
    async fn test_connection(
        &self,
        replication_instance_arn: &str,
        endpoint_arn: &str,
    ) -> Result<Connection, AwsError>;

    /// `DescribeConnections` for one pair. `NotFound` when never tested.
    async fn describe_connection(
        &self,
        replication_instance_arn: &str,
        endpoint_arn: &str,
    ) -> Result<Connection, AwsError>;

    // --- DMS replication tasks ---

    /// `CreateReplicationTask`.
    async fn create_replication_task(
        &self,
        input: &CreateReplicationTaskInput,
    ) -> Result<ReplicationTask, AwsError>;

    /// `DescribeReplicationTasks` filtered by ARN or identifier, with stats. `NotFound` when
    /// absent.
    async fn describe_replication_task(&self, which: &DmsRef) -> Result<ReplicationTask, AwsError>;

    /// `ModifyReplicationTask` (task stopped, ready or failed).
    async fn modify_replication_task(
        &self,
        input: &ModifyReplicationTaskInput,
    ) -> Result<ReplicationTask, AwsError>;

    /// `StartReplicationTask`.
    async fn start_replication_task(
        &self,
        input: &StartReplicationTaskInput,
    ) -> Result<ReplicationTask, AwsError>;

    /// `StopReplicationTask`.
    async fn stop_replication_task(&self, arn: &str) -> Result<ReplicationTask, AwsError>;

    /// `DeleteReplicationTask`. `NotFound` when already gone.
    async fn delete_replication_task(&self, arn: &str) -> Result<(), AwsError>;

    /// `DescribeTableStatistics` for a task (all pages).
    async fn describe_table_statistics(
        &self,
        task_arn: &str,
    ) -> Result<Vec<TableStatistics>, AwsError>;

    // --- CloudWatch ---

    /// The latest `CDCLatencySource` / `CDCLatencyTarget` datapoints for a task.
    async fn cdc_latency(&self, query: &CdcLatencyQuery) -> Result<CdcLatency, AwsError>;

    // --- Route 53 ---

    /// UPSERTs a CNAME and returns the change id (without the `/change/` prefix).
    async fn upsert_cname(&self, input: &UpsertCnameInput) -> Result<String, AwsError>;

    /// `GetChange`: the change's status. `NotFound` when Route 53 does not know the id.
    async fn route53_change_status(&self, change_id: &str) -> Result<ChangeStatus, AwsError>;

    /// The CNAME `record_name` in the zone. `NotFound` when the zone or the record is absent.
    async fn describe_cname(
        &self,
        zone_id: &str,
        record_name: &str,
    ) -> Result<CnameRecord, AwsError>;

    // --- Tags (any RDS or DMS ARN; the implementation dispatches on the ARN's service) ---

    /// `ListTagsForResource`.
    async fn list_tags(&self, arn: &str) -> Result<Tags, AwsError>;

    /// `AddTagsToResource` (merges; existing keys are overwritten).
    async fn add_tags(&self, arn: &str, tags: &Tags) -> Result<(), AwsError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_strings_parse_case_insensitively_and_keep_unknown_values() {
        assert_eq!(
            DbInstanceStatus::from_aws("backing-up"),
            DbInstanceStatus::BackingUp
        );
        assert_eq!(
            DbInstanceStatus::from_aws("Available"),
            DbInstanceStatus::Available
        );
        assert_eq!(
            DbInstanceStatus::from_aws("resetting-master-credentials"),
            DbInstanceStatus::ResettingMasterCredentials
        );
        assert_eq!(
            DbInstanceStatus::from_aws("some-new-state"),
            DbInstanceStatus::Other("some-new-state".into())
        );
        assert_eq!(SnapshotStatus::from_aws("pending"), SnapshotStatus::Pending);
        assert_eq!(
            ValidationState::from_aws("Mismatched records").as_str(),
            "Mismatched records"
        );
        assert_eq!(KmsKeyState::from_aws("Enabled"), KmsKeyState::Enabled);
        assert_eq!(StartType::ResumeProcessing.to_string(), "resume-processing");
        assert_eq!(
            BlueGreenStatus::from_aws("SWITCHOVER_COMPLETED"),
            BlueGreenStatus::SwitchoverCompleted
        );
        assert_eq!(
            BlueGreenStatus::from_aws("PROVISIONING_FAILED"),
            BlueGreenStatus::ProvisioningFailed
        );
    }

    #[test]
    fn secrets_never_print_in_debug_or_display() {
        let creds = EndpointCredentials::Password {
            username: "dms".into(),
            password: SecretString::new("hunter2"),
        };
        let dbg = format!("{creds:?}");
        assert!(!dbg.contains("hunter2"), "{dbg}");
        assert!(dbg.contains("<redacted>"));
        assert_eq!(SecretString::new("x").to_string(), "<redacted>");
        assert_eq!(SecretString::new("x").expose(), "x");
    }

    #[test]
    fn dms_refs_tell_arns_from_identifiers() {
        assert_eq!(
            DmsRef::parse("arn:aws:dms:us-east-1:123456789012:rep:ABC"),
            DmsRef::Arn("arn:aws:dms:us-east-1:123456789012:rep:ABC".into())
        );
        assert_eq!(
            DmsRef::parse("rdsenc-orders"),
            DmsRef::Id("rdsenc-orders".into())
        );
    }

    #[test]
    fn the_trait_is_object_safe() {
        fn takes(_: Option<std::sync::Arc<dyn AwsApi>>) {}
        takes(None);
    }
}
