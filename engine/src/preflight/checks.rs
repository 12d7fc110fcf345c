//! The checks themselves: one function per area, each pushing findings. A check that cannot
//! run (an AWS error other than not-found) is an error finding of its own, never a silent pass:
//! `ready` means every check ran and passed.

use crate::api::{
    AwsError, DbEngine, DbInstance, DbInstanceStatus, KmsKeyManager, KmsKeySpec, KmsKeyState,
    KmsKeyUsage, ReplicationInstanceStatus,
};
use crate::blue_green::{BlueGreenSourceIssue, blue_green_source_problems};

use super::engines::check_support;
use super::{Check, CredentialsInput, Finding, MIGRATION_TAG, PreflightApi, PreflightInput};

/// Fewer free replication slots or WAL senders than this draws a warning: each DMS task takes
/// one of each, and physical replicas and other logical consumers use them too.
pub(crate) const LOW_REPLICATION_CAPACITY: i64 = 5;

/// Runs every check that the input allows and returns the findings, errors and warnings in
/// the order of [`Check::ALL`] within each area. Never fails: AWS errors become findings.
pub async fn run(api: &dyn PreflightApi, input: &PreflightInput) -> Vec<Finding> {
    let mut out = Vec::new();
    let source = check_source(api, input, &mut out).await;
    if let Some(src) = &source {
        if input.blue_green {
            // Blue/green support differs from DMS support, and RDS refuses more sources.
            check_blue_green_source(src, &mut out);
        } else {
            check_engine(src, &mut out);
        }
        match src.engine {
            DbEngine::Mysql | DbEngine::Mariadb => {
                check_mysql(api, src, input.blue_green, &mut out).await;
            }
            DbEngine::Postgres => check_postgres(api, src, &mut out).await,
            DbEngine::Other(_) => {}
        }
    }
    if let Some(key) = &input.kms_key_id {
        check_kms(api, key, &mut out).await;
    }
    if input.blue_green {
        // No target identifier, replication instance or DMS credentials with blue/green.
        return out;
    }
    check_target(api, input, &mut out).await;
    check_replication(api, input, source.as_ref(), &mut out).await;
    if let Some(creds) = &input.credentials {
        check_credentials(api, creds, &mut out).await;
    }
    out
}

/// The check could not run: an error finding naming what was asked and the IAM action.
fn unverified(check: Check, what: &str, action: &str, err: &AwsError) -> Finding {
    Finding::error(
        check,
        format!("Could not check {what}: {err}."),
        format!(
            "Make sure the provider's credentials allow `{action}` and that AWS is reachable, \
             then plan again; the migration is not vetted until this check runs."
        ),
    )
}

async fn check_source(
    api: &dyn PreflightApi,
    input: &PreflightInput,
    out: &mut Vec<Finding>,
) -> Option<DbInstance> {
    let id = &input.source_db_instance_identifier;
    let (src, apply_status) = match api.describe_source(id).await {
        Ok(s) => (s.instance, s.parameter_apply_status),
        Err(e) if e.is_not_found() => {
            let region = api
                .region()
                .unwrap_or_else(|| "the provider's region".to_owned());
            out.push(Finding::error(
                Check::SourceExists,
                format!("No RDS DB instance {id:?} exists in {region}."),
                "Check `source_db_instance_identifier`, the provider's `region` and the account \
                 of its credentials.",
            ));
            return None;
        }
        Err(e) => {
            out.push(unverified(
                Check::SourceExists,
                &format!("the source DB instance {id:?}"),
                "rds:DescribeDBInstances",
                &e,
            ));
            return None;
        }
    };
    if !src.status.is_ready() {
        let pending = matches!(
            src.status,
            DbInstanceStatus::BackingUp
                | DbInstanceStatus::Creating
                | DbInstanceStatus::Modifying
                | DbInstanceStatus::Rebooting
                | DbInstanceStatus::Renaming
                | DbInstanceStatus::Starting
                | DbInstanceStatus::Upgrading
                | DbInstanceStatus::Maintenance
                | DbInstanceStatus::ConfiguringEnhancedMonitoring
                | DbInstanceStatus::ConfiguringLogExports
        );
        let message = format!("The source DB instance {id:?} is {}.", src.status);
        if pending {
            out.push(Finding::warning(
                Check::SourceAvailable,
                message,
                "The migration waits for it to become `available` before taking its snapshot; \
                 nothing to do unless it stays in this state.",
            ));
        } else if src.status == DbInstanceStatus::Stopped
            || src.status == DbInstanceStatus::Stopping
        {
            out.push(Finding::error(
                Check::SourceAvailable,
                message,
                format!(
                    "Start it (`aws rds start-db-instance --db-instance-identifier {id}`): a \
                     stopped instance can be neither snapshotted nor replicated from."
                ),
            ));
        } else {
            out.push(Finding::error(
                Check::SourceAvailable,
                message,
                "Bring the instance back to `available` (see its events in the RDS console) \
                 before migrating it.",
            ));
        }
    }
    if src.storage_encrypted {
        let key = src.kms_key_id.as_deref().unwrap_or("an unknown key");
        out.push(Finding::error(
            Check::SourceUnencrypted,
            format!("The source DB instance {id:?} is already encrypted (with {key}): there is nothing to migrate."),
            "Remove this migration, or point `source_db_instance_identifier` at an unencrypted \
             instance.",
        ));
    }
    if let Some(primary) = &src.read_replica_source {
        out.push(Finding::error(
            Check::SourceNotReplica,
            format!("The source DB instance {id:?} is a read replica of {primary:?}."),
            format!(
                "Migrate the primary {primary:?} instead; its replicas are then recreated from \
                 the encrypted target (a replica of an unencrypted primary stays unencrypted)."
            ),
        ));
    }
    if apply_status.as_deref() == Some("pending-reboot") {
        let group = src
            .db_parameter_group_name
            .as_deref()
            .unwrap_or("its DB parameter group");
        let message = format!(
            "Changes to the DB parameter group {group:?} wait for a reboot of {id:?}: the values \
             preflight reads from the group are not all in effect yet."
        );
        let remedy = format!(
            "Reboot the instance (`aws rds reboot-db-instance --db-instance-identifier {id}`) \
             in a quiet moment before the migration starts."
        );
        // rds.logical_replication is static: PostgreSQL cannot decode changes before a reboot.
        out.push(if src.engine == DbEngine::Postgres {
            Finding::error(Check::ParametersApplied, message, remedy)
        } else {
            Finding::warning(Check::ParametersApplied, message, remedy)
        });
    }
    Some(src)
}

fn check_engine(src: &DbInstance, out: &mut Vec<Finding>) {
    if let Err(why) = check_support(&src.engine, &src.engine_version) {
        out.push(Finding::error(
            Check::EngineSupported,
            format!("The source DB instance {:?}: {why}.", src.identifier),
            "Upgrade the source to a supported version first (see the `rdsenc_preflight` \
             documentation for the table), or encrypt it another way.",
        ));
    }
}

/// What rules the source out for an RDS blue/green deployment; the texts are the engine's,
/// shared with its create-path guard, so plan and apply say the same.
fn check_blue_green_source(src: &DbInstance, out: &mut Vec<Finding>) {
    for p in blue_green_source_problems(src) {
        let check = match p.issue {
            BlueGreenSourceIssue::EngineVersion => Check::BlueGreenEngineSupported,
            BlueGreenSourceIssue::ManagedMasterPassword => Check::BlueGreenMasterPassword,
        };
        out.push(Finding::error(check, p.message, p.remedy));
    }
}

/// The remedy for a parameter the source's group lacks: a default group cannot be changed.
fn parameter_remedy(group: &str, settings: &str, static_param: bool) -> String {
    let apply = if static_param {
        "then reboot the instance (the parameter is static)"
    } else {
        "then apply it; reboot the instance if RDS shows the group as `pending-reboot`"
    };
    if group.starts_with("default.") {
        format!(
            "The instance uses the default DB parameter group {group:?}, which cannot be \
             changed: create a custom DB parameter group of the same family, set {settings} in \
             it, attach it to the instance, {apply}."
        )
    } else {
        format!("Set {settings} in the DB parameter group {group:?}, {apply}.")
    }
}

async fn check_mysql(
    api: &dyn PreflightApi,
    src: &DbInstance,
    blue_green: bool,
    out: &mut Vec<Finding>,
) {
    let id = &src.identifier;
    if src.backup_retention_period <= 0 {
        out.push(Finding::error(
            Check::AutomatedBackups,
            format!(
                "The source DB instance {id:?} has automated backups off (backup retention \
                 period 0): RDS keeps no binary logs without them, so neither DMS nor a blue/green deployment can replicate changes."
            ),
            format!(
                "Set a backup retention period of 1 day or more (`aws rds modify-db-instance \
                 --db-instance-identifier {id} --backup-retention-period 7 --apply-immediately`); \
                 turning backups on causes a brief outage, so pick a quiet moment."
            ),
        ));
    }
    if blue_green {
        // RDS replicates blue -> green with its own binary log settings; only backups matter.
        return;
    }
    let Some(group) = src.db_parameter_group_name.as_deref() else {
        out.push(Finding::error(
            Check::BinlogFormat,
            format!("The source DB instance {id:?} reports no DB parameter group, so its binary log settings cannot be checked."),
            "Attach a custom DB parameter group with binlog_format = ROW and binlog_row_image = FULL.",
        ));
        return;
    };
    match api
        .describe_db_parameters(group, &["binlog_format", "binlog_row_image"])
        .await
    {
        Ok(values) => {
            let both = "binlog_format = ROW and binlog_row_image = FULL";
            for (check, name, want) in [
                (Check::BinlogFormat, "binlog_format", "ROW"),
                (Check::BinlogRowImage, "binlog_row_image", "FULL"),
            ] {
                let value = values.get(name);
                if !value.is_some_and(|v| v.eq_ignore_ascii_case(want)) {
                    let shown = value.map_or("not set".to_owned(), |v| format!("{v:?}"));
                    out.push(Finding::error(
                        check,
                        format!(
                            "{name} is {shown} in the DB parameter group {group:?} of {id:?}; \
                             DMS change data capture needs {want}."
                        ),
                        parameter_remedy(group, both, false),
                    ));
                }
            }
        }
        Err(e) => out.push(unverified(
            Check::BinlogFormat,
            &format!("the binary log settings in DB parameter group {group:?}"),
            "rds:DescribeDBParameters",
            &e,
        )),
    }
    out.push(Finding::warning(
        Check::BinlogRetention,
        format!(
            "The binary log retention of {id:?} cannot be read through the AWS API. By default \
             RDS purges binary logs within minutes, and DMS fails if a log it still needs is gone."
        ),
        "On the source, run `CALL mysql.rds_set_configuration('binlog retention hours', 24);` \
         (check with `CALL mysql.rds_show_configuration;`), and make sure the storage can hold \
         a day of binary logs.",
    ));
}

async fn check_postgres(api: &dyn PreflightApi, src: &DbInstance, out: &mut Vec<Finding>) {
    let id = &src.identifier;
    let Some(group) = src.db_parameter_group_name.as_deref() else {
        out.push(Finding::error(
            Check::LogicalReplication,
            format!("The source DB instance {id:?} reports no DB parameter group, so its logical replication setting cannot be checked."),
            "Attach a custom DB parameter group with rds.logical_replication = 1 and reboot the instance.",
        ));
        return;
    };
    let names = [
        "rds.logical_replication",
        "max_replication_slots",
        "max_wal_senders",
    ];
    let values = match api.describe_db_parameters(group, &names).await {
        Ok(v) => v,
        Err(e) => {
            out.push(unverified(
                Check::LogicalReplication,
                &format!("the replication settings in DB parameter group {group:?}"),
                "rds:DescribeDBParameters",
                &e,
            ));
            return;
        }
    };
    let logical = values.get("rds.logical_replication");
    if logical.map(|v| v.trim()) != Some("1") {
        let shown = logical.map_or("not set".to_owned(), |v| format!("{v:?}"));
        out.push(Finding::error(
            Check::LogicalReplication,
            format!(
                "rds.logical_replication is {shown} in the DB parameter group {group:?} of \
                 {id:?}; change data capture (DMS or blue/green) needs 1."
            ),
            parameter_remedy(group, "rds.logical_replication = 1", true),
        ));
    }
    for (check, name, used_for) in [
        (
            Check::ReplicationSlots,
            "max_replication_slots",
            "a logical replication slot",
        ),
        (Check::WalSenders, "max_wal_senders", "a WAL sender"),
    ] {
        let raw = values.get(name);
        match raw.and_then(|v| v.trim().parse::<i64>().ok()) {
            Some(n) if n < 1 => out.push(Finding::error(
                check,
                format!(
                    "{name} is {n} in the DB parameter group {group:?} of {id:?}; each DMS \
                     task or blue/green deployment needs {used_for}."
                ),
                parameter_remedy(group, &format!("{name} to at least {LOW_REPLICATION_CAPACITY}"), true),
            )),
            Some(n) if n < LOW_REPLICATION_CAPACITY => out.push(Finding::warning(
                check,
                format!(
                    "{name} is only {n} in the DB parameter group {group:?} of {id:?}; each DMS \
                     task or blue/green deployment needs {used_for}, and replicas or other \
                     logical consumers may already use some."
                ),
                parameter_remedy(group, &format!("{name} to at least {LOW_REPLICATION_CAPACITY}"), true),
            )),
            Some(_) => {}
            None => out.push(Finding::warning(
                check,
                format!(
                    "{name} in the DB parameter group {group:?} of {id:?} is {}, which preflight \
                     cannot evaluate; each DMS task or blue/green deployment needs {used_for}.",
                    raw.map_or("not set".to_owned(), |v| format!("{v:?}"))
                ),
                format!("Make sure {name} leaves at least one free beyond what replicas and other consumers use."),
            )),
        }
    }
}

async fn check_kms(api: &dyn PreflightApi, key_ref: &str, out: &mut Vec<Finding>) {
    let key = match api.describe_kms_key(key_ref).await {
        Ok(k) => k,
        Err(e) if e.is_not_found() => {
            out.push(Finding::error(
                Check::KmsKeyExists,
                format!("No KMS key or alias {key_ref:?} exists in this account and region."),
                "Check `kms_key_id` (key id, key ARN, `alias/<name>` or alias ARN) and the \
                 provider's `region`; create the key first if it is new.",
            ));
            return;
        }
        Err(e) => {
            out.push(unverified(
                Check::KmsKeyExists,
                &format!("the KMS key {key_ref:?}"),
                "kms:DescribeKey",
                &e,
            ));
            return;
        }
    };
    if key.state != KmsKeyState::Enabled {
        let remedy = if key.state == KmsKeyState::PendingDeletion {
            format!(
                "Cancel its deletion (`aws kms cancel-key-deletion --key-id {}`) and enable it, or use another key.",
                key.key_id
            )
        } else {
            format!(
                "Enable it (`aws kms enable-key --key-id {}`), or use another key.",
                key.key_id
            )
        };
        out.push(Finding::error(
            Check::KmsKeyEnabled,
            format!("The KMS key {} is {}, not Enabled.", key.arn, key.state),
            remedy,
        ));
    }
    // A SYMMETRIC_DEFAULT key can only be ENCRYPT_DECRYPT, so an absent usage (the emulator
    // omits it) is no reason to refuse; a reported other usage is.
    let usage_ok = matches!(&key.usage, KmsKeyUsage::EncryptDecrypt)
        || matches!(&key.usage, KmsKeyUsage::Other(u) if u.is_empty());
    if key.spec != KmsKeySpec::SymmetricDefault || !usage_ok {
        out.push(Finding::error(
            Check::KmsKeySymmetric,
            format!(
                "The KMS key {} is {} for {}; RDS encrypts only with SYMMETRIC_DEFAULT keys for ENCRYPT_DECRYPT.",
                key.arn, key.spec, key.usage
            ),
            "Use a symmetric encryption key (`aws_kms_key` with the default key spec and usage).",
        ));
    }
    let key_region = key.arn.split(':').nth(3).filter(|r| !r.is_empty());
    if let (Some(key_region), Some(region)) = (key_region, api.region())
        && key_region != region
    {
        out.push(Finding::error(
            Check::KmsKeyRegion,
            format!(
                "The KMS key {} is in {key_region}, but the provider works in {region}; RDS \
                     only encrypts with keys of the instance's region.",
                key.arn
            ),
            format!(
                "Use a key in {region} (a multi-Region replica key works), or configure the \
                     provider for {key_region}."
            ),
        ));
    }
    if key.manager == KmsKeyManager::Aws {
        out.push(Finding::warning(
            Check::KmsKeyCustomerManaged,
            format!(
                "The KMS key {} is AWS managed (such as `alias/aws/rds`): its key policy cannot \
                 be changed, so the encrypted instance's snapshots can never be shared or copied \
                 to another account.",
                key.arn
            ),
            "Prefer a customer managed key (`aws_kms_key`) unless the database will never leave \
             this account.",
        ));
    }
}

async fn check_target(api: &dyn PreflightApi, input: &PreflightInput, out: &mut Vec<Finding>) {
    let source = &input.source_db_instance_identifier;
    let target = input.target_identifier();
    if target.eq_ignore_ascii_case(source) {
        out.push(Finding::error(
            Check::TargetIdentifierFree,
            format!("The target identifier {target:?} is the source's own identifier."),
            "Choose another `target_db_instance_identifier`, or leave it unset for \
             `<source>-encrypted`.",
        ));
        return;
    }
    match api.describe_db_instance(&target).await {
        Err(e) if e.is_not_found() => {}
        Ok(existing) => {
            let ours = existing
                .tags
                .get(MIGRATION_TAG)
                .is_some_and(|v| v.eq_ignore_ascii_case(source));
            if !ours {
                out.push(Finding::error(
                    Check::TargetIdentifierFree,
                    format!(
                        "An RDS DB instance {target:?} already exists and was not made by this \
                         migration (it has no tag {MIGRATION_TAG} = {source:?}). rdsenc never \
                         adopts or overwrites an instance it did not create."
                    ),
                    "Choose another `target_db_instance_identifier`, or rename that instance \
                     if it is not the one you mean.",
                ));
            }
        }
        Err(e) => out.push(unverified(
            Check::TargetIdentifierFree,
            &format!("whether the target identifier {target:?} is free"),
            "rds:DescribeDBInstances",
            &e,
        )),
    }
}

async fn check_replication(
    api: &dyn PreflightApi,
    input: &PreflightInput,
    source: Option<&DbInstance>,
    out: &mut Vec<Finding>,
) {
    let source_vpc = source
        .and_then(|s| s.db_subnet_group.as_ref())
        .map(|g| g.vpc_id.as_str())
        .filter(|v| !v.is_empty());
    let Some(arn) = &input.replication_instance_arn else {
        // A managed replication instance goes into the source's subnets unless told otherwise.
        if let Some(src) = source {
            let has_subnets = src
                .db_subnet_group
                .as_ref()
                .is_some_and(|g| !g.subnet_ids.is_empty());
            if !has_subnets && input.replication_subnet_ids.is_empty() {
                out.push(Finding::error(
                    Check::SourceSubnetGroup,
                    format!(
                        "The source DB instance {:?} has no DB subnet group with subnets, so the \
                         migration cannot place its DMS replication instance next to it.",
                        src.identifier
                    ),
                    "Set `dms.replication_subnet_ids` to subnets that reach the source, or \
                     `dms.replication_instance_arn` to an existing replication instance.",
                ));
            }
        }
        return;
    };
    let ri = match api.describe_replication_instance(arn).await {
        Ok(ri) => ri,
        Err(e) if e.is_not_found() => {
            out.push(Finding::error(
                Check::ReplicationInstanceExists,
                format!("No DMS replication instance {arn:?} exists in this account and region."),
                "Check `dms.replication_instance_arn`, or leave it unset so the migration makes \
                 its own replication instance.",
            ));
            return;
        }
        Err(e) => {
            out.push(unverified(
                Check::ReplicationInstanceExists,
                &format!("the DMS replication instance {arn:?}"),
                "dms:DescribeReplicationInstances",
                &e,
            ));
            return;
        }
    };
    if ri.status != ReplicationInstanceStatus::Available {
        let pending = matches!(
            ri.status,
            ReplicationInstanceStatus::Creating
                | ReplicationInstanceStatus::Modifying
                | ReplicationInstanceStatus::Upgrading
                | ReplicationInstanceStatus::Rebooting
                | ReplicationInstanceStatus::Maintenance
        );
        let message = format!(
            "The DMS replication instance {:?} is {}.",
            ri.identifier, ri.status
        );
        if pending {
            out.push(Finding::warning(
                Check::ReplicationInstanceAvailable,
                message,
                "The migration waits for it to become `available`; nothing to do unless it stays \
                 in this state.",
            ));
        } else {
            out.push(Finding::error(
                Check::ReplicationInstanceAvailable,
                message,
                "Repair or replace the replication instance, or leave \
                 `dms.replication_instance_arn` unset so the migration makes its own.",
            ));
        }
    }
    let Some(group_id) = ri.subnet_group_identifier.as_deref() else {
        out.push(Finding::error(
            Check::ReplicationInstanceVpc,
            format!(
                "The DMS replication instance {:?} has no replication subnet group, so it is not \
                 in a VPC and cannot reach an RDS instance privately.",
                ri.identifier
            ),
            "Use a replication instance in the source's VPC, or leave \
             `dms.replication_instance_arn` unset.",
        ));
        return;
    };
    match api.describe_replication_subnet_group(group_id).await {
        Ok(group) => {
            if let Some(src_vpc) = source_vpc
                && group.vpc_id != src_vpc
            {
                out.push(Finding::warning(
                    Check::ReplicationInstanceVpc,
                    format!(
                        "The DMS replication instance {:?} is in {}, the source in {src_vpc}.",
                        ri.identifier, group.vpc_id
                    ),
                    "Make sure a route (VPC peering or a transit gateway) and security group \
                         rules let it reach both the source and the target, or use a \
                         replication instance in the source's VPC.",
                ));
            }
        }
        Err(e) => out.push(unverified(
            Check::ReplicationInstanceVpc,
            &format!("the replication subnet group {group_id:?}"),
            "dms:DescribeReplicationSubnetGroups",
            &e,
        )),
    }
}

async fn check_credentials(
    api: &dyn PreflightApi,
    creds: &CredentialsInput,
    out: &mut Vec<Finding>,
) {
    if !creds.source_password_set && creds.secrets_manager_arn.is_none() {
        out.push(Finding::error(
            Check::CredentialsPresent,
            "Neither `dms.source_password_wo` nor `dms.secrets_manager_arn` is set, so DMS \
             cannot log in to the source.",
            "Set `dms.source_password_wo` (write-only: never stored in plan or state), or \
             `dms.secrets_manager_arn` with `dms.secrets_manager_access_role_arn`.",
        ));
    }
    for (check, arn) in [
        (Check::SecretExists, &creds.secrets_manager_arn),
        (Check::TargetSecretExists, &creds.target_secrets_manager_arn),
    ] {
        let Some(arn) = arn else { continue };
        match api.describe_secret(arn).await {
            Ok(_) => {}
            Err(e) if e.is_not_found() => out.push(Finding::error(
                check,
                format!("The Secrets Manager secret {arn:?} does not exist or is scheduled for deletion."),
                "Check the ARN, or restore the secret (`aws secretsmanager restore-secret`).",
            )),
            Err(e) => out.push(unverified(
                check,
                &format!("the Secrets Manager secret {arn:?}"),
                "secretsmanager:DescribeSecret",
                &e,
            )),
        }
    }
}
