//! Every check trips against the fake and passes against the good fixture.

use std::collections::BTreeSet;

use super::fake::{Fake, KEY_ARN, RI_ARN, SECRET_ARN, mysql_source};
use super::inventory::{InventoryFilter, select};
use super::*;
use crate::api::{
    AwsError, DbEngine, DbInstanceStatus, KmsKeyManager, KmsKeySpec, KmsKeyState, KmsKeyUsage,
    ReplicationInstanceStatus,
};

fn input() -> PreflightInput {
    PreflightInput::new("orders", KEY_ARN)
}

fn run_now(f: &Fake, i: &PreflightInput) -> Vec<Finding> {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a test runtime")
        .block_on(run(&f.aws(), i))
}

fn found(fs: &[Finding], check: Check) -> Option<&Finding> {
    fs.iter().find(|f| f.check == check)
}

fn error_of(fs: &[Finding], check: Check) -> &Finding {
    let f = found(fs, check).unwrap_or_else(|| panic!("no {check} finding in {fs:#?}"));
    assert_eq!(f.severity, Severity::Error, "{f:#?}");
    f
}

fn warning_of(fs: &[Finding], check: Check) -> &Finding {
    let f = found(fs, check).unwrap_or_else(|| panic!("no {check} finding in {fs:#?}"));
    assert_eq!(f.severity, Severity::Warning, "{f:#?}");
    f
}

/// Runs preflight on `f` and returns its `check` warning, asserting the migration may
/// still go ahead: a warning never blocks it.
fn ready_with_warning(f: &Fake, check: Check) -> Finding {
    let fs = run_now(f, &input());
    assert!(is_ready(&fs), "{fs:#?}");
    warning_of(&fs, check).clone()
}

fn checks(fs: &[Finding]) -> Vec<Check> {
    fs.iter().map(|f| f.check).collect()
}

// --- the good fixtures pass everything ---

#[test]
fn a_good_mysql_source_is_ready_with_only_the_binlog_retention_advice() {
    let fs = run_now(&Fake::good_mysql(), &input());
    assert_eq!(checks(&fs), vec![Check::BinlogRetention]);
    warning_of(&fs, Check::BinlogRetention);
    assert!(fs[0].remedy.contains("binlog retention hours"));
    assert!(is_ready(&fs));
}

#[test]
fn a_good_postgres_source_has_no_findings_at_all() {
    let fs = run_now(&Fake::good_postgres(), &input());
    assert_eq!(fs, Vec::<Finding>::new());
    assert!(is_ready(&fs));
}

#[test]
fn a_key_given_by_alias_resolves_and_passes() {
    let fs = run_now(
        &Fake::good_mysql(),
        &PreflightInput::new("orders", "alias/orders"),
    );
    assert_eq!(checks(&fs), vec![Check::BinlogRetention]);
}

// --- source ---

#[test]
fn a_missing_source_is_an_error_and_skips_the_checks_that_need_it() {
    let fs = run_now(&Fake::good_mysql(), &PreflightInput::new("nope", KEY_ARN));
    let f = error_of(&fs, Check::SourceExists);
    assert!(f.message.contains("\"nope\"") && f.message.contains("us-east-1"));
    assert_eq!(f.attribute, "source_db_instance_identifier");
    assert!(found(&fs, Check::BinlogRetention).is_none());
    assert!(!is_ready(&fs));
}

#[test]
fn a_stopped_source_is_an_error_with_the_start_command() {
    let mut f = Fake::good_mysql();
    f.source_mut().status = DbInstanceStatus::Stopped;
    let fs = run_now(&f, &input());
    let e = error_of(&fs, Check::SourceAvailable);
    assert!(e.remedy.contains("start-db-instance"));
}

#[test]
fn a_failed_source_is_an_error() {
    let mut f = Fake::good_mysql();
    f.source_mut().status = DbInstanceStatus::IncompatibleParameters;
    error_of(&run_now(&f, &input()), Check::SourceAvailable);
}

#[test]
fn a_modifying_source_is_only_a_warning_because_the_migration_waits() {
    let mut f = Fake::good_mysql();
    f.source_mut().status = DbInstanceStatus::Modifying;
    ready_with_warning(&f, Check::SourceAvailable);
}

#[test]
fn an_encrypted_source_is_an_error_naming_its_key() {
    let mut f = Fake::good_mysql();
    f.source_mut().storage_encrypted = true;
    f.source_mut().kms_key_id = Some("arn:aws:kms:us-east-1:1:key/old".to_owned());
    let e = error_of(&run_now(&f, &input()), Check::SourceUnencrypted).clone();
    assert!(e.message.contains("key/old"));
}

#[test]
fn an_engine_version_dms_does_not_support_is_an_error() {
    let mut f = Fake::good_mysql();
    f.source_mut().engine_version = "5.6.51".to_owned();
    let e = error_of(&run_now(&f, &input()), Check::EngineSupported).clone();
    assert!(e.message.contains("5.6.51"));
}

#[test]
fn an_engine_rdsenc_does_not_migrate_is_an_error() {
    let mut f = Fake::good_mysql();
    f.source_mut().engine = DbEngine::from_aws("oracle-ee");
    f.source_mut().engine_version = "19.0".to_owned();
    let fs = run_now(&f, &input());
    error_of(&fs, Check::EngineSupported);
    // Engine-specific parameter checks do not apply.
    assert!(found(&fs, Check::BinlogRetention).is_none());
}

// --- strategy = "blue_green" ---

fn blue_green() -> PreflightInput {
    PreflightInput {
        blue_green: true,
        ..input()
    }
}

#[test]
fn an_engine_version_without_blue_green_support_is_an_error_on_strategy() {
    // PostgreSQL 10: AWS DMS supports it, RDS blue/green deployments start at 11.1.
    let mut f = Fake::good_postgres();
    f.source_mut().engine_version = "10.21".to_owned();
    let fs = run_now(&f, &blue_green());
    let e = error_of(&fs, Check::BlueGreenEngineSupported);
    assert_eq!(e.attribute, "strategy");
    assert!(
        e.message.contains("\"orders\"") && e.message.contains("10.21"),
        "{e:#?}"
    );
    assert!(
        e.message.contains("11.1"),
        "names the first supported version: {e:#?}"
    );
    assert!(e.remedy.contains("strategy = \"dms\""), "{e:#?}");
    assert_eq!(checks(&fs), vec![Check::BlueGreenEngineSupported]);
    assert!(!is_ready(&fs));
    // Under "dms" the same source is fine: the check belongs to the strategy.
    assert_eq!(run_now(&f, &input()), Vec::<Finding>::new());
}

#[test]
fn a_secrets_manager_managed_master_password_is_an_error_on_strategy() {
    let mut f = Fake::good_postgres();
    f.source_mut().master_user_secret_arn =
        Some("arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!db-1".to_owned());
    let fs = run_now(&f, &blue_green());
    let e = error_of(&fs, Check::BlueGreenMasterPassword);
    assert_eq!(e.attribute, "strategy");
    assert!(
        e.message.contains("Secrets Manager") && e.message.contains("rds!db-1"),
        "{e:#?}"
    );
    assert!(
        e.remedy.contains("--no-manage-master-user-password"),
        "{e:#?}"
    );
    assert!(e.remedy.contains("strategy = \"dms\""), "{e:#?}");
    assert_eq!(checks(&fs), vec![Check::BlueGreenMasterPassword]);
    // DMS logs in with the configured credentials, whoever manages the master password.
    assert!(found(&run_now(&f, &input()), Check::BlueGreenMasterPassword).is_none());
}

#[test]
fn blue_green_skips_the_dms_only_checks_and_keeps_the_shared_ones() {
    // A MySQL source that trips every DMS-only check: a version DMS does not support (5.6),
    // MIXED binlogs, no DB subnet group, a foreign instance on the target identifier, a
    // missing replication instance, no credentials. Blue/green also refuses 5.6, and a
    // disabled key and backups off stop both strategies.
    let mut f = Fake::good_mysql();
    f.source_mut().engine_version = "5.6.51".to_owned();
    f.source_mut().db_parameter_group_name = Some("default.mysql8.0".to_owned());
    f.source_mut().db_subnet_group = None;
    f.source_mut().backup_retention_period = 0;
    f.key_mut().state = KmsKeyState::Disabled;
    f.instances.insert(
        "orders-encrypted".to_owned(),
        mysql_source("orders-encrypted"),
    );
    let both = |blue_green: bool| PreflightInput {
        replication_instance_arn: Some(RI_ARN.to_owned()),
        credentials: Some(CredentialsInput::default()),
        blue_green,
        ..input()
    };
    let dms = checks(&run_now(&f, &both(false)));
    for c in [
        Check::EngineSupported,
        Check::BinlogFormat,
        Check::BinlogRetention,
        Check::TargetIdentifierFree,
        Check::ReplicationInstanceExists,
        Check::CredentialsPresent,
    ] {
        assert!(dms.contains(&c), "the dms run reports {c}: {dms:?}");
    }
    assert!(!dms.contains(&Check::BlueGreenEngineSupported), "{dms:?}");
    let bg = checks(&run_now(&f, &both(true)));
    assert_eq!(
        bg,
        vec![
            Check::BlueGreenEngineSupported,
            Check::AutomatedBackups,
            Check::KmsKeyEnabled,
        ]
    );
}

#[test]
fn a_read_replica_source_is_an_error_pointing_at_its_primary() {
    let mut f = Fake::good_mysql();
    f.source_mut().read_replica_source = Some("orders-primary".to_owned());
    let e = error_of(&run_now(&f, &input()), Check::SourceNotReplica).clone();
    assert!(e.remedy.contains("orders-primary"));
}

#[test]
fn a_pending_reboot_is_a_warning_on_mysql_and_an_error_on_postgres() {
    let mut f = Fake::good_mysql();
    f.apply_status
        .insert("orders".to_owned(), "pending-reboot".to_owned());
    let fs = run_now(&f, &input());
    assert!(
        warning_of(&fs, Check::ParametersApplied)
            .remedy
            .contains("reboot-db-instance")
    );
    let mut f = Fake::good_postgres();
    f.apply_status
        .insert("orders".to_owned(), "pending-reboot".to_owned());
    error_of(&run_now(&f, &input()), Check::ParametersApplied);
    f.apply_status
        .insert("orders".to_owned(), "applying".to_owned());
    assert!(found(&run_now(&f, &input()), Check::ParametersApplied).is_none());
}

// --- KMS ---

#[test]
fn a_missing_key_is_an_error_on_kms_key_id() {
    let fs = run_now(
        &Fake::good_mysql(),
        &PreflightInput::new("orders", "alias/nope"),
    );
    let e = error_of(&fs, Check::KmsKeyExists);
    assert_eq!(e.attribute, "kms_key_id");
    assert!(e.message.contains("alias/nope"));
}

#[test]
fn an_unknown_key_skips_the_key_checks() {
    let mut i = PreflightInput::new("orders", "alias/nope");
    i.kms_key_id = None;
    let fs = run_now(&Fake::good_mysql(), &i);
    assert!(found(&fs, Check::KmsKeyExists).is_none());
}

#[test]
fn a_disabled_key_is_an_error_with_enable_key() {
    let mut f = Fake::good_mysql();
    f.key_mut().state = KmsKeyState::Disabled;
    assert!(
        error_of(&run_now(&f, &input()), Check::KmsKeyEnabled)
            .remedy
            .contains("enable-key")
    );
}

#[test]
fn a_key_pending_deletion_is_an_error_with_cancel_key_deletion() {
    let mut f = Fake::good_mysql();
    f.key_mut().state = KmsKeyState::PendingDeletion;
    let fs = run_now(&f, &input());
    assert!(
        error_of(&fs, Check::KmsKeyEnabled)
            .remedy
            .contains("cancel-key-deletion")
    );
}

#[test]
fn an_asymmetric_or_signing_key_is_an_error() {
    let mut f = Fake::good_mysql();
    f.key_mut().spec = KmsKeySpec::from_aws("RSA_2048");
    error_of(&run_now(&f, &input()), Check::KmsKeySymmetric);
    let mut f = Fake::good_mysql();
    f.key_mut().usage = KmsKeyUsage::SignVerify;
    error_of(&run_now(&f, &input()), Check::KmsKeySymmetric);
}

#[test]
fn a_key_in_another_region_is_an_error() {
    let mut f = Fake::good_mysql();
    f.key_mut().arn = "arn:aws:kms:eu-west-1:123456789012:key/x".to_owned();
    let e = error_of(&run_now(&f, &input()), Check::KmsKeyRegion).clone();
    assert!(e.message.contains("eu-west-1") && e.message.contains("us-east-1"));
}

#[test]
fn an_aws_managed_key_is_a_warning_about_sharing() {
    let mut f = Fake::good_mysql();
    f.key_mut().manager = KmsKeyManager::Aws;
    let w = ready_with_warning(&f, Check::KmsKeyCustomerManaged);
    assert!(w.message.contains("another account"), "{w:#?}");
}

// --- MySQL / MariaDB ---

#[test]
fn backups_off_on_mysql_is_an_error() {
    let mut f = Fake::good_mysql();
    f.source_mut().backup_retention_period = 0;
    let e = error_of(&run_now(&f, &input()), Check::AutomatedBackups).clone();
    assert!(e.remedy.contains("--backup-retention-period"));
}

#[test]
fn backups_off_on_postgres_is_not_a_finding() {
    let mut f = Fake::good_postgres();
    f.source_mut().backup_retention_period = 0;
    assert!(found(&run_now(&f, &input()), Check::AutomatedBackups).is_none());
}

#[test]
fn the_default_parameter_group_fails_binlog_format_and_says_to_create_a_custom_group() {
    let mut f = Fake::good_mysql();
    f.source_mut().db_parameter_group_name = Some("default.mysql8.0".to_owned());
    let fs = run_now(&f, &input());
    let e = error_of(&fs, Check::BinlogFormat);
    assert!(e.message.contains("\"MIXED\""), "{}", e.message);
    assert!(
        e.remedy.contains("cannot be changed") && e.remedy.contains("custom DB parameter group")
    );
    // binlog_row_image defaults to full, which passes (case-insensitively).
    assert!(found(&fs, Check::BinlogRowImage).is_none());
}

#[test]
fn a_custom_group_with_a_minimal_row_image_is_an_error_to_fix_in_that_group() {
    let mut f = Fake::good_mysql();
    f.set_param("orders-binlog", "binlog_row_image", "MINIMAL");
    let fs = run_now(&f, &input());
    let e = error_of(&fs, Check::BinlogRowImage);
    assert!(e.remedy.starts_with("Set binlog_format = ROW and binlog_row_image = FULL in the DB parameter group \"orders-binlog\""));
    assert!(found(&fs, Check::BinlogFormat).is_none());
}

#[test]
fn a_parameter_missing_from_the_group_is_an_error() {
    let mut f = Fake::good_mysql();
    f.parameters
        .insert("orders-binlog".to_owned(), Default::default());
    let fs = run_now(&f, &input());
    assert!(
        error_of(&fs, Check::BinlogFormat)
            .message
            .contains("not set")
    );
    error_of(&fs, Check::BinlogRowImage);
}

#[test]
fn mariadb_gets_the_same_binlog_checks() {
    let mut f = Fake::good_mysql();
    f.source_mut().engine = DbEngine::Mariadb;
    f.source_mut().engine_version = "10.11.10".to_owned();
    f.set_param("orders-binlog", "binlog_format", "STATEMENT");
    let fs = run_now(&f, &input());
    error_of(&fs, Check::BinlogFormat);
    warning_of(&fs, Check::BinlogRetention);
}

// --- PostgreSQL ---

#[test]
fn logical_replication_off_in_the_default_group_is_an_error_with_a_reboot() {
    let mut f = Fake::good_postgres();
    f.source_mut().db_parameter_group_name = Some("default.postgres16".to_owned());
    let e = error_of(&run_now(&f, &input()), Check::LogicalReplication).clone();
    assert!(e.remedy.contains("custom DB parameter group") && e.remedy.contains("reboot"));
}

#[test]
fn few_replication_slots_or_wal_senders_are_warnings_and_none_are_errors() {
    let mut f = Fake::good_postgres();
    f.set_param("pg-logical", "max_replication_slots", "2");
    f.set_param("pg-logical", "max_wal_senders", "0");
    let fs = run_now(&f, &input());
    warning_of(&fs, Check::ReplicationSlots);
    error_of(&fs, Check::WalSenders);
}

#[test]
fn a_replication_setting_preflight_cannot_evaluate_is_a_warning() {
    let mut f = Fake::good_postgres();
    f.set_param(
        "pg-logical",
        "max_replication_slots",
        "{DBInstanceClassMemory/1000}",
    );
    let w = ready_with_warning(&f, Check::ReplicationSlots);
    assert!(w.message.contains("cannot evaluate"), "{w:#?}");
}

// --- target identifier ---

#[test]
fn a_target_identifier_taken_by_a_foreign_instance_is_an_error() {
    let mut f = Fake::good_mysql();
    f.instances.insert(
        "orders-encrypted".to_owned(),
        mysql_source("orders-encrypted"),
    );
    let e = error_of(&run_now(&f, &input()), Check::TargetIdentifierFree).clone();
    assert_eq!(e.attribute, "target_db_instance_identifier");
    assert!(e.message.contains("rdsenc:migration"));
}

#[test]
fn a_target_made_by_this_migration_passes() {
    let mut f = Fake::good_mysql();
    let mut ours = mysql_source("orders-encrypted");
    ours.tags
        .insert(MIGRATION_TAG.to_owned(), "orders".to_owned());
    f.instances.insert("orders-encrypted".to_owned(), ours);
    assert!(found(&run_now(&f, &input()), Check::TargetIdentifierFree).is_none());
}

#[test]
fn a_target_identifier_equal_to_the_source_is_an_error() {
    let mut i = input();
    i.target_db_instance_identifier = Some("ORDERS".to_owned());
    error_of(
        &run_now(&Fake::good_mysql(), &i),
        Check::TargetIdentifierFree,
    );
}

// --- DMS replication instance ---

fn with_ri() -> PreflightInput {
    let mut i = input();
    i.replication_instance_arn = Some(RI_ARN.to_owned());
    i
}

#[test]
fn an_available_replication_instance_in_the_source_vpc_passes() {
    let mut f = Fake::good_mysql();
    f.with_replication_instance("vpc-1");
    assert_eq!(
        checks(&run_now(&f, &with_ri())),
        vec![Check::BinlogRetention]
    );
}

#[test]
fn a_missing_replication_instance_is_an_error_on_the_dms_block() {
    let e = error_of(
        &run_now(&Fake::good_mysql(), &with_ri()),
        Check::ReplicationInstanceExists,
    )
    .clone();
    assert_eq!(e.attribute.to_string(), "dms.replication_instance_arn");
}

#[test]
fn a_failed_replication_instance_is_an_error_and_a_creating_one_a_warning() {
    let mut f = Fake::good_mysql();
    f.with_replication_instance("vpc-1").status = ReplicationInstanceStatus::Failed;
    error_of(
        &run_now(&f, &with_ri()),
        Check::ReplicationInstanceAvailable,
    );
    f.with_replication_instance("vpc-1").status = ReplicationInstanceStatus::Creating;
    warning_of(
        &run_now(&f, &with_ri()),
        Check::ReplicationInstanceAvailable,
    );
}

#[test]
fn a_replication_instance_outside_any_vpc_is_an_error() {
    let mut f = Fake::good_mysql();
    f.with_replication_instance("vpc-1").subnet_group_identifier = None;
    error_of(&run_now(&f, &with_ri()), Check::ReplicationInstanceVpc);
}

#[test]
fn a_replication_instance_in_another_vpc_is_a_warning() {
    let mut f = Fake::good_mysql();
    f.with_replication_instance("vpc-2");
    let fs = run_now(&f, &with_ri());
    assert!(
        warning_of(&fs, Check::ReplicationInstanceVpc)
            .message
            .contains("vpc-2")
    );
}

#[test]
fn a_managed_replication_instance_needs_the_source_subnet_group_or_explicit_subnets() {
    let mut f = Fake::good_mysql();
    f.source_mut().db_subnet_group = None;
    let fs = run_now(&f, &input());
    assert_eq!(
        error_of(&fs, Check::SourceSubnetGroup)
            .attribute
            .to_string(),
        "dms.replication_subnet_ids"
    );
    let mut i = input();
    i.replication_subnet_ids = vec!["subnet-a".to_owned()];
    assert!(found(&run_now(&f, &i), Check::SourceSubnetGroup).is_none());
}

// --- credentials ---

fn with_creds(c: CredentialsInput) -> PreflightInput {
    let mut i = input();
    i.credentials = Some(c);
    i
}

#[test]
fn no_password_and_no_secret_is_an_error() {
    let fs = run_now(
        &Fake::good_mysql(),
        &with_creds(CredentialsInput::default()),
    );
    assert_eq!(
        error_of(&fs, Check::CredentialsPresent)
            .attribute
            .to_string(),
        "dms.source_password_wo"
    );
}

#[test]
fn a_write_only_password_is_enough() {
    let c = CredentialsInput {
        source_password_set: true,
        ..CredentialsInput::default()
    };
    assert_eq!(
        checks(&run_now(&Fake::good_mysql(), &with_creds(c))),
        vec![Check::BinlogRetention]
    );
}

#[test]
fn a_missing_or_deleted_secret_is_an_error_and_an_existing_one_passes() {
    let c = CredentialsInput {
        secrets_manager_arn: Some(SECRET_ARN.to_owned()),
        target_secrets_manager_arn: Some(format!("{SECRET_ARN}-target")),
        ..CredentialsInput::default()
    };
    let mut f = Fake::good_mysql();
    let fs = run_now(&f, &with_creds(c.clone()));
    error_of(&fs, Check::SecretExists);
    error_of(&fs, Check::TargetSecretExists);
    assert!(found(&fs, Check::CredentialsPresent).is_none());
    f.secrets.insert(
        SECRET_ARN.to_owned(),
        SecretMetadata {
            arn: SECRET_ARN.to_owned(),
            name: "orders".to_owned(),
        },
    );
    let fs = run_now(&f, &with_creds(c));
    assert!(found(&fs, Check::SecretExists).is_none());
    error_of(&fs, Check::TargetSecretExists);
}

// --- AWS failures and conversion ---

#[test]
fn an_aws_failure_is_an_unverified_error_never_a_pass() {
    let mut f = Fake::good_mysql();
    f.fail = Some(AwsError::Service {
        code: "AccessDenied".to_owned(),
        message: "not allowed".to_owned(),
        status: Some(403),
    });
    let fs = run_now(&f, &input());
    let e = error_of(&fs, Check::SourceExists);
    assert!(
        e.message.starts_with("Could not check") && e.remedy.contains("rds:DescribeDBInstances")
    );
    error_of(&fs, Check::KmsKeyExists);
    error_of(&fs, Check::TargetIdentifierFree);
    assert!(!is_ready(&fs));
}

#[test]
fn check_ids_and_titles_are_unique() {
    let ids: BTreeSet<&str> = Check::ALL.iter().map(|c| c.id()).collect();
    let titles: BTreeSet<&str> = Check::ALL.iter().map(|c| c.title()).collect();
    assert_eq!(ids.len(), Check::ALL.len());
    assert_eq!(titles.len(), Check::ALL.len());
    assert!(Check::ALL.iter().all(|c| !c.attribute().is_empty()));
}

// --- discovery ---

#[test]
fn discovery_keeps_unencrypted_primaries_of_supported_engines_sorted() {
    let mut f = Fake::good_mysql();
    let mut enc = mysql_source("a-encrypted");
    enc.storage_encrypted = true;
    let mut replica = mysql_source("b-replica");
    replica.read_replica_source = Some("orders".to_owned());
    let mut pg = mysql_source("accounts");
    pg.engine = DbEngine::Postgres;
    let mut oracle = mysql_source("c-oracle");
    oracle.engine = DbEngine::from_aws("oracle-ee");
    for db in [enc, replica, pg, oracle] {
        f.instances.insert(db.identifier.clone(), db);
    }
    let all = f.instances.values().cloned().collect::<Vec<_>>();
    let ids =
        |v: Vec<crate::api::DbInstance>| v.into_iter().map(|d| d.identifier).collect::<Vec<_>>();
    assert_eq!(
        ids(select(all.clone(), &InventoryFilter::default())),
        vec!["accounts", "orders"]
    );
    let engines = InventoryFilter {
        engines: Some(vec!["POSTGRES".to_owned(), "oracle-ee".to_owned()]),
        ..InventoryFilter::default()
    };
    assert_eq!(
        ids(select(all.clone(), &engines)),
        vec!["accounts", "c-oracle"]
    );
}

#[test]
fn discovery_tag_filters_must_all_match() {
    let mut a = mysql_source("a");
    a.tags.insert("team".to_owned(), "payments".to_owned());
    a.tags.insert("env".to_owned(), "prod".to_owned());
    let mut b = mysql_source("b");
    b.tags.insert("team".to_owned(), "payments".to_owned());
    let mut filter = InventoryFilter::default();
    filter.tags.insert("team".to_owned(), "payments".to_owned());
    assert_eq!(select(vec![a.clone(), b.clone()], &filter).len(), 2);
    filter.tags.insert("env".to_owned(), "prod".to_owned());
    let kept = select(vec![b, a], &filter);
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].identifier, "a");
}
