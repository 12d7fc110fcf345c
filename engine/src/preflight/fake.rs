//! The world preflight's tests describe: a good MySQL source, a good key, and knobs to break
//! each prerequisite. [`Fake::aws`] turns it into the engine's [`FakeAws`], which answers
//! [`PreflightApi`](super::PreflightApi) as it answers the engine.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::api::SecretMetadata;
use crate::api::{
    AwsError, DbEngine, DbInstance, DbInstanceStatus, DbSubnetGroupInfo, KmsKey, KmsKeyManager,
    KmsKeySpec, KmsKeyState, KmsKeyUsage, ReplicationInstance, ReplicationInstanceStatus,
    ReplicationSubnetGroup, SubnetGroupStatus,
};
use crate::clock::VirtualClock;
use crate::fake::FakeAws;

/// The fake's region (the key ARN's).
pub const REGION: &str = "us-east-1";
/// The good key's ARN.
pub const KEY_ARN: &str =
    "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555";
/// A replication instance ARN the tests add.
pub const RI_ARN: &str = "arn:aws:dms:us-east-1:123456789012:rep:RI1";
/// A Secrets Manager secret ARN the tests add.
pub const SECRET_ARN: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:orders-AbCdEf";

/// The world: maps from ids to objects; `fail` makes every call fail with that error.
#[derive(Debug, Clone, Default)]
pub struct Fake {
    /// DB instances by identifier.
    pub instances: BTreeMap<String, DbInstance>,
    /// Parameter values by parameter group name.
    pub parameters: BTreeMap<String, BTreeMap<String, String>>,
    /// KMS keys by id, ARN or alias (each way the tests look one up).
    pub keys: BTreeMap<String, KmsKey>,
    /// DMS replication instances by ARN.
    pub replication_instances: BTreeMap<String, ReplicationInstance>,
    /// DMS replication subnet groups by identifier.
    pub subnet_groups: BTreeMap<String, ReplicationSubnetGroup>,
    /// Secrets by ARN.
    pub secrets: BTreeMap<String, SecretMetadata>,
    /// `ParameterApplyStatus` by instance (absent: `in-sync`).
    pub apply_status: BTreeMap<String, String>,
    /// When set, every call fails with this error.
    pub fail: Option<AwsError>,
}

/// An available, unencrypted MySQL 8.0 source with backups on and a binlog parameter group.
pub fn mysql_source(id: &str) -> DbInstance {
    DbInstance {
        identifier: id.to_owned(),
        arn: format!("arn:aws:rds:us-east-1:123456789012:db:{id}"),
        status: DbInstanceStatus::Available,
        engine: DbEngine::Mysql,
        engine_version: "8.0.35".to_owned(),
        allocated_storage: 20,
        backup_retention_period: 7,
        db_parameter_group_name: Some("orders-binlog".to_owned()),
        db_subnet_group: Some(DbSubnetGroupInfo {
            name: "main".to_owned(),
            vpc_id: "vpc-1".to_owned(),
            subnet_ids: vec!["subnet-a".to_owned(), "subnet-b".to_owned()],
        }),
        ..DbInstance::default()
    }
}

/// An enabled, symmetric, customer-managed key under [`KEY_ARN`].
pub fn key() -> KmsKey {
    KmsKey {
        key_id: "11111111-2222-3333-4444-555555555555".to_owned(),
        arn: KEY_ARN.to_owned(),
        state: KmsKeyState::Enabled,
        usage: KmsKeyUsage::EncryptDecrypt,
        spec: KmsKeySpec::SymmetricDefault,
        manager: KmsKeyManager::Customer,
        multi_region: false,
    }
}

fn params(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

impl Fake {
    /// A MySQL source `orders` that passes every check, a good key under its ARN and
    /// `alias/orders`, and the default parameter groups as RDS defines them.
    pub fn good_mysql() -> Self {
        let mut f = Fake::default();
        f.instances
            .insert("orders".to_owned(), mysql_source("orders"));
        f.parameters.insert(
            "orders-binlog".to_owned(),
            params(&[("binlog_format", "ROW"), ("binlog_row_image", "full")]),
        );
        f.parameters.insert(
            "default.mysql8.0".to_owned(),
            params(&[("binlog_format", "MIXED"), ("binlog_row_image", "full")]),
        );
        f.parameters.insert(
            "default.postgres16".to_owned(),
            params(&[
                ("rds.logical_replication", "0"),
                ("max_replication_slots", "20"),
                ("max_wal_senders", "20"),
            ]),
        );
        f.parameters.insert(
            "pg-logical".to_owned(),
            params(&[
                ("rds.logical_replication", "1"),
                ("max_replication_slots", "20"),
                ("max_wal_senders", "20"),
            ]),
        );
        f.keys.insert(KEY_ARN.to_owned(), key());
        f.keys.insert("alias/orders".to_owned(), key());
        f
    }

    /// The same, with the source turned into PostgreSQL 16 with logical replication on.
    pub fn good_postgres() -> Self {
        let mut f = Self::good_mysql();
        f.source_mut().engine = DbEngine::Postgres;
        f.source_mut().engine_version = "16.6".to_owned();
        f.source_mut().db_parameter_group_name = Some("pg-logical".to_owned());
        f
    }

    /// The source `orders`.
    pub fn source_mut(&mut self) -> &mut DbInstance {
        self.instances
            .get_mut("orders")
            .expect("the fixture has a source")
    }

    /// The key under [`KEY_ARN`].
    pub fn key_mut(&mut self) -> &mut KmsKey {
        self.keys.get_mut(KEY_ARN).expect("the fixture has a key")
    }

    /// Sets one parameter of a parameter group (creating the group).
    pub fn set_param(&mut self, group: &str, name: &str, value: &str) {
        self.parameters
            .entry(group.to_owned())
            .or_default()
            .insert(name.to_owned(), value.to_owned());
    }

    /// Adds an available replication instance in `vpc`.
    pub fn with_replication_instance(&mut self, vpc: &str) -> &mut ReplicationInstance {
        self.subnet_groups.insert(
            "ri-subnets".to_owned(),
            ReplicationSubnetGroup {
                identifier: "ri-subnets".to_owned(),
                description: "test".to_owned(),
                vpc_id: vpc.to_owned(),
                subnet_ids: vec!["subnet-a".to_owned()],
                status: SubnetGroupStatus::Complete,
            },
        );
        self.replication_instances
            .entry(RI_ARN.to_owned())
            .or_insert(ReplicationInstance {
                identifier: "ri1".to_owned(),
                arn: RI_ARN.to_owned(),
                status: ReplicationInstanceStatus::Available,
                instance_class: "dms.t3.medium".to_owned(),
                allocated_storage: 50,
                engine_version: None,
                multi_az: false,
                publicly_accessible: false,
                subnet_group_identifier: Some("ri-subnets".to_owned()),
                vpc_security_group_ids: Vec::new(),
                kms_key_id: None,
            })
    }

    /// The fake AWS holding this world (on its own virtual clock): preflight reads it through
    /// the same [`FakeAws`] the engine's tests drive.
    pub fn aws(&self) -> FakeAws {
        let aws = FakeAws::new(Arc::new(VirtualClock::default()));
        for v in self.instances.values() {
            aws.add_instance(v.clone());
        }
        for (group, values) in &self.parameters {
            aws.set_db_parameters(group, values.clone());
        }
        for (lookup, key) in &self.keys {
            aws.add_kms_key_as(key.clone(), &[lookup]);
        }
        for v in self.replication_instances.values() {
            aws.add_replication_instance(v.clone());
        }
        for g in self.subnet_groups.values() {
            aws.add_replication_subnet_group(g.clone());
        }
        for (lookup, secret) in &self.secrets {
            aws.add_secret(lookup, secret.clone());
        }
        for (id, status) in &self.apply_status {
            aws.set_parameter_apply_status(id, status);
        }
        if let Some(e) = &self.fail {
            aws.fail_every_call(e.clone());
        }
        aws
    }
}
