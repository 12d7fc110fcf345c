//! Preflight: everything knowable before `apply` that would stop a migration, found at plan
//! time so the reviewer of a pull request sees it in `terraform plan`.
//!
//! [`run`] is plain Rust over the small [`PreflightApi`] trait (implemented for
//! the provider's AWS clients, and by an in-memory fake in the tests). It returns
//! [`Finding`]s; the provider's `preflight::to_diagnostics` is the one place they become Terraform diagnostics.
//! Findings never carry secret values: the input only says whether a password is set, and
//! Secrets Manager secrets are only described, never read.

pub mod api;
mod checks;
pub mod engines;
pub mod inventory;

#[cfg(any(test, feature = "test-util"))]
pub mod fake;
#[cfg(test)]
mod tests;

use std::fmt;

pub use api::{PreflightApi, SecretMetadata, SourceInstance};
pub use checks::run;

use crate::names::Names;

/// The tag the migration puts on every object it creates; its value is the source identifier.
pub use crate::names::TAG_MIGRATION as MIGRATION_TAG;

/// Whether a finding stops the migration. The provider turns it into a Terraform diagnostic's
/// severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// The migration cannot succeed.
    Error,
    /// The reviewer should know; the migration can start.
    Warning,
}

/// What [`run`] checks. Fields the configuration leaves unknown at plan time are `None`: their
/// checks are skipped (and run again on the next plan once known).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PreflightInput {
    /// `source_db_instance_identifier`.
    pub source_db_instance_identifier: String,
    /// `kms_key_id` (key id, key ARN, alias name or alias ARN); `None` when unknown.
    pub kms_key_id: Option<String>,
    /// `target_db_instance_identifier`; `None` means the default `<source>-encrypted`.
    pub target_db_instance_identifier: Option<String>,
    /// `dms.replication_instance_arn`; `None` when the migration makes its own.
    pub replication_instance_arn: Option<String>,
    /// `dms.replication_subnet_ids`: when given, the managed replication instance does not need
    /// the source's DB subnet group.
    pub replication_subnet_ids: Vec<String>,
    /// Credentials as configured; `None` skips the credential checks (the data source has no
    /// credentials to check).
    pub credentials: Option<CredentialsInput>,
    /// `strategy = "blue_green"`: only the checks that apply to an RDS blue/green deployment
    /// run (source, blue/green engine support and master password, backups, key), none of
    /// the DMS ones; the engine adds the read replicas' keys, which need the full spec.
    pub blue_green: bool,
}

impl PreflightInput {
    /// A minimal input for a source and a key.
    pub fn new(source: impl Into<String>, kms_key_id: impl Into<String>) -> Self {
        Self {
            source_db_instance_identifier: source.into(),
            kms_key_id: Some(kms_key_id.into()),
            ..Self::default()
        }
    }

    /// The target identifier: the configured one or `<source>-encrypted`, exactly as the
    /// engine names it.
    pub fn target_identifier(&self) -> String {
        Names::new(
            &self.source_db_instance_identifier,
            self.target_db_instance_identifier.as_deref(),
        )
        .target
    }
}

/// How DMS will authenticate, as far as plan time can tell without reading any secret.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CredentialsInput {
    /// True when `dms.source_password_wo` is set (its value is never passed here).
    pub source_password_set: bool,
    /// `dms.secrets_manager_arn`.
    pub secrets_manager_arn: Option<String>,
    /// `dms.target_secrets_manager_arn`.
    pub target_secrets_manager_arn: Option<String>,
}

/// The checks preflight runs, each with a stable id (exported by `rdsenc_preflight`), a
/// title (the diagnostic summary) and the `rdsenc_migration` attribute it concerns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Check {
    /// The source DB instance exists.
    SourceExists,
    /// The source is `available`.
    SourceAvailable,
    /// The source is not encrypted already.
    SourceUnencrypted,
    /// DMS supports the source's engine and version as source and target.
    EngineSupported,
    /// `strategy = "blue_green"`: RDS blue/green deployments support the source's engine
    /// and version.
    BlueGreenEngineSupported,
    /// `strategy = "blue_green"`: the source's master password is not managed in Secrets
    /// Manager (RDS blue/green deployments refuse such a source).
    BlueGreenMasterPassword,
    /// The source is not itself a read replica.
    SourceNotReplica,
    /// The KMS key exists.
    KmsKeyExists,
    /// The KMS key is enabled.
    KmsKeyEnabled,
    /// The KMS key is symmetric and for encrypt/decrypt.
    KmsKeySymmetric,
    /// The KMS key is in the provider's region.
    KmsKeyRegion,
    /// The KMS key is customer managed.
    KmsKeyCustomerManaged,
    /// The parameter group's changes are in effect (not `pending-reboot`).
    ParametersApplied,
    /// MySQL/MariaDB: automated backups are on (binary logs need them).
    AutomatedBackups,
    /// MySQL/MariaDB: `binlog_format = ROW`.
    BinlogFormat,
    /// MySQL/MariaDB: `binlog_row_image = FULL`.
    BinlogRowImage,
    /// MySQL/MariaDB: binlog retention hours (advice; not readable through the API).
    BinlogRetention,
    /// PostgreSQL: `rds.logical_replication = 1`.
    LogicalReplication,
    /// PostgreSQL: `max_replication_slots` leaves room for DMS.
    ReplicationSlots,
    /// PostgreSQL: `max_wal_senders` leaves room for DMS.
    WalSenders,
    /// The target identifier is free, or already this migration's.
    TargetIdentifierFree,
    /// The given DMS replication instance exists.
    ReplicationInstanceExists,
    /// The given DMS replication instance is `available`.
    ReplicationInstanceAvailable,
    /// The given DMS replication instance is in a VPC (the source's).
    ReplicationInstanceVpc,
    /// A managed replication instance can be placed: the source has a DB subnet group.
    SourceSubnetGroup,
    /// A source password or Secrets Manager secret is configured.
    CredentialsPresent,
    /// The source Secrets Manager secret exists and is not deleted.
    SecretExists,
    /// The target Secrets Manager secret exists and is not deleted.
    TargetSecretExists,
}

impl Check {
    /// Every check, in the order [`run`] reports them.
    pub const ALL: &'static [Check] = &[
        Check::SourceExists,
        Check::SourceAvailable,
        Check::SourceUnencrypted,
        Check::EngineSupported,
        Check::BlueGreenEngineSupported,
        Check::BlueGreenMasterPassword,
        Check::SourceNotReplica,
        Check::ParametersApplied,
        Check::KmsKeyExists,
        Check::KmsKeyEnabled,
        Check::KmsKeySymmetric,
        Check::KmsKeyRegion,
        Check::KmsKeyCustomerManaged,
        Check::AutomatedBackups,
        Check::BinlogFormat,
        Check::BinlogRowImage,
        Check::BinlogRetention,
        Check::LogicalReplication,
        Check::ReplicationSlots,
        Check::WalSenders,
        Check::TargetIdentifierFree,
        Check::ReplicationInstanceExists,
        Check::ReplicationInstanceAvailable,
        Check::ReplicationInstanceVpc,
        Check::SourceSubnetGroup,
        Check::CredentialsPresent,
        Check::SecretExists,
        Check::TargetSecretExists,
    ];

    /// The stable id, e.g. `source_available` (exported by `rdsenc_preflight`).
    pub fn id(self) -> &'static str {
        match self {
            Check::SourceExists => "source_exists",
            Check::SourceAvailable => "source_available",
            Check::SourceUnencrypted => "source_unencrypted",
            Check::EngineSupported => "engine_supported",
            Check::BlueGreenEngineSupported => "blue_green_engine_supported",
            Check::BlueGreenMasterPassword => "blue_green_master_password_unmanaged",
            Check::SourceNotReplica => "source_not_replica",
            Check::ParametersApplied => "parameters_applied",
            Check::KmsKeyExists => "kms_key_exists",
            Check::KmsKeyEnabled => "kms_key_enabled",
            Check::KmsKeySymmetric => "kms_key_symmetric",
            Check::KmsKeyRegion => "kms_key_region",
            Check::KmsKeyCustomerManaged => "kms_key_customer_managed",
            Check::AutomatedBackups => "automated_backups",
            Check::BinlogFormat => "binlog_format",
            Check::BinlogRowImage => "binlog_row_image",
            Check::BinlogRetention => "binlog_retention",
            Check::LogicalReplication => "logical_replication",
            Check::ReplicationSlots => "replication_slots",
            Check::WalSenders => "wal_senders",
            Check::TargetIdentifierFree => "target_identifier_free",
            Check::ReplicationInstanceExists => "replication_instance_exists",
            Check::ReplicationInstanceAvailable => "replication_instance_available",
            Check::ReplicationInstanceVpc => "replication_instance_vpc",
            Check::SourceSubnetGroup => "source_subnet_group",
            Check::CredentialsPresent => "credentials_present",
            Check::SecretExists => "secret_exists",
            Check::TargetSecretExists => "target_secret_exists",
        }
    }

    /// The short, title-case summary of a finding of this check.
    pub fn title(self) -> &'static str {
        match self {
            Check::SourceExists => "Source DB Instance Not Found",
            Check::SourceAvailable => "Source DB Instance Not Available",
            Check::SourceUnencrypted => "Source DB Instance Already Encrypted",
            Check::EngineSupported => "Engine Version Not Supported by AWS DMS",
            Check::BlueGreenEngineSupported => "Engine Version Not Supported by RDS Blue/Green",
            Check::BlueGreenMasterPassword => "Master Password Managed in Secrets Manager",
            Check::SourceNotReplica => "Source Is a Read Replica",
            Check::ParametersApplied => "Parameter Group Changes Not Applied",
            Check::KmsKeyExists => "KMS Key Not Found",
            Check::KmsKeyEnabled => "KMS Key Not Enabled",
            Check::KmsKeySymmetric => "KMS Key Not Usable by RDS",
            Check::KmsKeyRegion => "KMS Key in Another Region",
            Check::KmsKeyCustomerManaged => "AWS Managed KMS Key",
            Check::AutomatedBackups => "Automated Backups Off",
            Check::BinlogFormat => "Binary Log Format Not ROW",
            Check::BinlogRowImage => "Binary Log Row Image Not FULL",
            Check::BinlogRetention => "Binary Log Retention Not Verifiable",
            Check::LogicalReplication => "Logical Replication Off",
            Check::ReplicationSlots => "Few Replication Slots",
            Check::WalSenders => "Few WAL Senders",
            Check::TargetIdentifierFree => "Target Identifier Taken",
            Check::ReplicationInstanceExists => "Replication Instance Not Found",
            Check::ReplicationInstanceAvailable => "Replication Instance Not Available",
            Check::ReplicationInstanceVpc => "Replication Instance Network",
            Check::SourceSubnetGroup => "Source Has No DB Subnet Group",
            Check::CredentialsPresent => "No Source Credentials",
            Check::SecretExists => "Secrets Manager Secret Not Found",
            Check::TargetSecretExists => "Target Secrets Manager Secret Not Found",
        }
    }

    /// The `rdsenc_migration` attribute the check concerns, as a dotted path
    /// (`dms.replication_instance_arn`).
    pub fn attribute(self) -> &'static str {
        match self {
            Check::SourceExists
            | Check::SourceAvailable
            | Check::SourceUnencrypted
            | Check::EngineSupported
            | Check::SourceNotReplica
            | Check::ParametersApplied
            | Check::AutomatedBackups
            | Check::BinlogFormat
            | Check::BinlogRowImage
            | Check::BinlogRetention
            | Check::LogicalReplication
            | Check::ReplicationSlots
            | Check::WalSenders => "source_db_instance_identifier",
            Check::KmsKeyExists
            | Check::KmsKeyEnabled
            | Check::KmsKeySymmetric
            | Check::KmsKeyRegion
            | Check::KmsKeyCustomerManaged => "kms_key_id",
            // The source is fine for DMS: the strategy is what does not fit it.
            Check::BlueGreenEngineSupported | Check::BlueGreenMasterPassword => "strategy",
            Check::TargetIdentifierFree => "target_db_instance_identifier",
            Check::ReplicationInstanceExists
            | Check::ReplicationInstanceAvailable
            | Check::ReplicationInstanceVpc => "dms.replication_instance_arn",
            Check::SourceSubnetGroup => "dms.replication_subnet_ids",
            Check::CredentialsPresent => "dms.source_password_wo",
            Check::SecretExists => "dms.secrets_manager_arn",
            Check::TargetSecretExists => "dms.target_secrets_manager_arn",
        }
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// One thing that will stop the migration (error) or that the reviewer should know (warning).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Error (the migration cannot succeed) or warning.
    pub severity: Severity,
    /// Which check found it.
    pub check: Check,
    /// What is wrong, in full sentences.
    pub message: String,
    /// What to do about it.
    pub remedy: String,
    /// The `rdsenc_migration` attribute it concerns, as a dotted path.
    pub attribute: &'static str,
}

impl Finding {
    /// An error finding of `check`.
    pub fn error(check: Check, message: impl Into<String>, remedy: impl Into<String>) -> Self {
        Self {
            severity: Severity::Error,
            check,
            message: message.into(),
            remedy: remedy.into(),
            attribute: check.attribute(),
        }
    }

    /// A warning finding of `check`.
    pub fn warning(check: Check, message: impl Into<String>, remedy: impl Into<String>) -> Self {
        Self {
            severity: Severity::Warning,
            check,
            message: message.into(),
            remedy: remedy.into(),
            attribute: check.attribute(),
        }
    }

    /// `"error"` or `"warning"`, as `rdsenc_preflight` exports it.
    pub fn severity_str(&self) -> &'static str {
        match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// True when no finding is an error: the migration can start.
pub fn is_ready(findings: &[Finding]) -> bool {
    findings.iter().all(|f| f.severity != Severity::Error)
}
