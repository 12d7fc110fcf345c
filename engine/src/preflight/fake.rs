//! An in-memory [`PreflightApi`] with builder fixtures: a good MySQL source, a good key, and
//! knobs to break each prerequisite.

use std::collections::BTreeMap;

use async_trait::async_trait;

use super::api::{PreflightApi, SecretMetadata, SourceInstance};
use crate::api::{
    AwsError, DbEngine, DbInstance, DbInstanceStatus, DbSubnetGroupInfo, KmsKey, KmsKeyManager,
    KmsKeySpec, KmsKeyState, KmsKeyUsage, ReplicationInstance, ReplicationInstanceStatus,
    ReplicationSubnetGroup, SubnetGroupStatus,
};

/// The fake's region (the key ARN's).
pub const REGION: &str = "us-east-1";
/// The good key's ARN.
pub const KEY_ARN: &str =
    "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555";
/// A replication instance ARN the tests add.
pub const RI_ARN: &str = "arn:aws:dms:us-east-1:123456789012:rep:RI1";
/// A Secrets Manager secret ARN the tests add.
pub const SECRET_ARN: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:orders-AbCdEf";

/// The fake AWS: maps from ids to objects; `fail` makes every call fail with that error.
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

fn not_found(kind: &'static str, id: &str) -> AwsError {
    AwsError::NotFound {
        kind,
        id: id.to_owned(),
    }
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

    fn check_fail(&self) -> Result<(), AwsError> {
        self.fail.clone().map_or(Ok(()), Err)
    }
}

#[async_trait]
impl PreflightApi for Fake {
    fn region(&self) -> Option<String> {
        Some(REGION.to_owned())
    }

    async fn describe_db_instance(&self, identifier: &str) -> Result<DbInstance, AwsError> {
        self.check_fail()?;
        self.instances
            .get(identifier)
            .cloned()
            .ok_or_else(|| not_found("RDS DB Instance", identifier))
    }

    async fn describe_source(&self, identifier: &str) -> Result<SourceInstance, AwsError> {
        let instance = self.describe_db_instance(identifier).await?;
        Ok(SourceInstance {
            instance,
            parameter_apply_status: Some(
                self.apply_status
                    .get(identifier)
                    .cloned()
                    .unwrap_or_else(|| "in-sync".to_owned()),
            ),
        })
    }

    async fn list_db_instances(&self) -> Result<Vec<DbInstance>, AwsError> {
        self.check_fail()?;
        Ok(self.instances.values().cloned().collect())
    }

    async fn describe_db_parameters(
        &self,
        group: &str,
        names: &[&str],
    ) -> Result<BTreeMap<String, String>, AwsError> {
        self.check_fail()?;
        let all = self
            .parameters
            .get(group)
            .ok_or_else(|| not_found("RDS DB Parameter Group", group))?;
        Ok(all
            .iter()
            .filter(|(k, _)| names.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect())
    }

    async fn describe_kms_key(&self, key_id: &str) -> Result<KmsKey, AwsError> {
        self.check_fail()?;
        self.keys
            .get(key_id)
            .cloned()
            .ok_or_else(|| not_found("KMS Key", key_id))
    }

    async fn describe_replication_instance(
        &self,
        arn: &str,
    ) -> Result<ReplicationInstance, AwsError> {
        self.check_fail()?;
        self.replication_instances
            .get(arn)
            .cloned()
            .ok_or_else(|| not_found("DMS Replication Instance", arn))
    }

    async fn describe_replication_subnet_group(
        &self,
        identifier: &str,
    ) -> Result<ReplicationSubnetGroup, AwsError> {
        self.check_fail()?;
        self.subnet_groups
            .get(identifier)
            .cloned()
            .ok_or_else(|| not_found("DMS Replication Subnet Group", identifier))
    }

    async fn describe_secret(&self, id: &str) -> Result<SecretMetadata, AwsError> {
        self.check_fail()?;
        self.secrets
            .get(id)
            .cloned()
            .ok_or_else(|| not_found("Secrets Manager Secret", id))
    }
}
