//! [`PreflightApi`] over the AWS SDK clients: describe and list calls only.
//!
//! The SDK -> domain conversions here fill the fields preflight reads; the rest keep their
//! defaults.

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use aws_sdk_databasemigration::types as dms_t;
use aws_sdk_rds::types as rds_t;

use super::api::{PreflightApi, SecretMetadata};
use crate::aws::error::operation_errors;
use crate::aws::{Clients, dms, kms, rds, secretsmanager};
use crate::engine::api::{
    AwsError, DbEngine, DbInstance, DbInstanceStatus, DbSubnetGroupInfo, KmsKey, KmsKeyManager,
    KmsKeySpec, KmsKeyState, KmsKeyUsage, ReplicationInstance, ReplicationInstanceStatus,
    ReplicationSubnetGroup, SubnetGroupStatus, Tags,
};

/// Object kind used in messages for DB parameter groups.
const KIND_DB_PARAMETER_GROUP: &str = "RDS DB Parameter Group";

operation_errors! {
    aws_sdk_rds::operation::describe_db_parameters::DescribeDBParametersError => DbParameterGroupNotFoundFault;
    aws_sdk_rds::operation::describe_engine_default_parameters::DescribeEngineDefaultParametersError => ;
}

fn text(s: Option<&str>) -> String {
    s.unwrap_or_default().to_owned()
}

fn rds_tags(tags: &[rds_t::Tag]) -> Tags {
    tags.iter()
        .filter_map(|t| Some((t.key()?.to_owned(), text(t.value()))))
        .collect()
}

/// SDK DB instance -> domain (the fields preflight and discovery read).
fn db_instance(i: &rds_t::DbInstance) -> DbInstance {
    DbInstance {
        identifier: text(i.db_instance_identifier()),
        arn: text(i.db_instance_arn()),
        status: DbInstanceStatus::from_aws(i.db_instance_status().unwrap_or_default()),
        engine: DbEngine::from_aws(i.engine().unwrap_or_default()),
        engine_version: text(i.engine_version()),
        instance_class: text(i.db_instance_class()),
        allocated_storage: i.allocated_storage().unwrap_or_default(),
        storage_encrypted: i.storage_encrypted().unwrap_or_default(),
        kms_key_id: i.kms_key_id().map(str::to_owned),
        backup_retention_period: i.backup_retention_period().unwrap_or_default(),
        db_parameter_group_name: i
            .db_parameter_groups()
            .first()
            .and_then(|g| g.db_parameter_group_name())
            .map(str::to_owned),
        db_subnet_group: i.db_subnet_group().map(|g| DbSubnetGroupInfo {
            name: text(g.db_subnet_group_name()),
            vpc_id: text(g.vpc_id()),
            subnet_ids: g
                .subnets()
                .iter()
                .filter_map(|s| s.subnet_identifier().map(str::to_owned))
                .collect(),
        }),
        read_replica_source: i
            .read_replica_source_db_instance_identifier()
            .map(str::to_owned),
        tags: rds_tags(i.tag_list()),
        ..DbInstance::default()
    }
}

fn kms_key(k: &aws_sdk_kms::types::KeyMetadata) -> KmsKey {
    KmsKey {
        key_id: k.key_id().to_owned(),
        arn: text(k.arn()),
        state: KmsKeyState::from_aws(k.key_state().map(|s| s.as_str()).unwrap_or_default()),
        usage: KmsKeyUsage::from_aws(k.key_usage().map(|s| s.as_str()).unwrap_or_default()),
        spec: KmsKeySpec::from_aws(k.key_spec().map(|s| s.as_str()).unwrap_or_default()),
        manager: KmsKeyManager::from_aws(k.key_manager().map(|s| s.as_str()).unwrap_or_default()),
        multi_region: k.multi_region().unwrap_or_default(),
    }
}

fn replication_instance(r: &dms_t::ReplicationInstance) -> ReplicationInstance {
    ReplicationInstance {
        identifier: text(r.replication_instance_identifier()),
        arn: text(r.replication_instance_arn()),
        status: ReplicationInstanceStatus::from_aws(
            r.replication_instance_status().unwrap_or_default(),
        ),
        instance_class: text(r.replication_instance_class()),
        allocated_storage: r.allocated_storage(),
        engine_version: r.engine_version().map(str::to_owned),
        multi_az: r.multi_az(),
        publicly_accessible: r.publicly_accessible(),
        subnet_group_identifier: r
            .replication_subnet_group()
            .and_then(|g| g.replication_subnet_group_identifier())
            .map(str::to_owned),
        vpc_security_group_ids: r
            .vpc_security_groups()
            .iter()
            .filter_map(|g| g.vpc_security_group_id().map(str::to_owned))
            .collect(),
        kms_key_id: r.kms_key_id().map(str::to_owned),
    }
}

fn replication_subnet_group(g: &dms_t::ReplicationSubnetGroup) -> ReplicationSubnetGroup {
    ReplicationSubnetGroup {
        identifier: text(g.replication_subnet_group_identifier()),
        description: text(g.replication_subnet_group_description()),
        vpc_id: text(g.vpc_id()),
        subnet_ids: g
            .subnets()
            .iter()
            .filter_map(|s| s.subnet_identifier().map(str::to_owned))
            .collect(),
        status: SubnetGroupStatus::from_aws(g.subnet_group_status().unwrap_or_default()),
    }
}

/// Keeps the wanted parameters that have a value.
fn wanted(params: &[rds_t::Parameter], names: &BTreeSet<&str>) -> BTreeMap<String, String> {
    params
        .iter()
        .filter_map(|p| {
            let name = p.parameter_name()?;
            let value = p.parameter_value()?;
            names
                .contains(name)
                .then(|| (name.to_owned(), value.to_owned()))
        })
        .collect()
}

#[async_trait]
impl PreflightApi for Clients {
    fn region(&self) -> Option<String> {
        Clients::region(self).map(str::to_owned)
    }

    async fn describe_db_instance(&self, identifier: &str) -> Result<DbInstance, AwsError> {
        rds::find_db_instance_by_id(self.rds(), identifier)
            .await
            .map(|i| db_instance(&i))
    }

    async fn list_db_instances(&self) -> Result<Vec<DbInstance>, AwsError> {
        Ok(rds::find_db_instances(self.rds(), Vec::new())
            .await?
            .iter()
            .map(db_instance)
            .collect())
    }

    async fn describe_db_parameters(
        &self,
        group: &str,
        names: &[&str],
    ) -> Result<BTreeMap<String, String>, AwsError> {
        let names: BTreeSet<&str> = names.iter().copied().collect();
        let listed: Result<Vec<rds_t::Parameter>, _> = self
            .rds()
            .describe_db_parameters()
            .db_parameter_group_name(group)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await;
        match listed.map_err(AwsError::context(KIND_DB_PARAMETER_GROUP, group)) {
            Ok(params) => Ok(wanted(&params, &names)),
            // A `default.<family>` group holds only engine defaults; where DescribeDBParameters
            // does not answer for it, ask for the family's defaults directly.
            Err(e) if e.is_not_found() && group.starts_with("default.") => {
                let family = group.trim_start_matches("default.");
                let params: Result<Vec<rds_t::Parameter>, _> = self
                    .rds()
                    .describe_engine_default_parameters()
                    .db_parameter_group_family(family)
                    .into_paginator()
                    .items()
                    .send()
                    .try_collect()
                    .await;
                params
                    .map(|p| wanted(&p, &names))
                    .map_err(AwsError::context(KIND_DB_PARAMETER_GROUP, group))
            }
            Err(e) => Err(e),
        }
    }

    async fn describe_kms_key(&self, key_id: &str) -> Result<KmsKey, AwsError> {
        kms::find_key_by_id(self.kms(), key_id)
            .await
            .map(|k| kms_key(&k))
    }

    async fn describe_replication_instance(
        &self,
        arn: &str,
    ) -> Result<ReplicationInstance, AwsError> {
        dms::find_replication_instance_by_id(self.dms(), arn)
            .await
            .map(|r| replication_instance(&r))
    }

    async fn describe_replication_subnet_group(
        &self,
        identifier: &str,
    ) -> Result<ReplicationSubnetGroup, AwsError> {
        dms::find_replication_subnet_group_by_id(self.dms(), identifier)
            .await
            .map(|g| replication_subnet_group(&g))
    }

    async fn describe_secret(&self, id: &str) -> Result<SecretMetadata, AwsError> {
        let out = secretsmanager::find_secret_by_id(self.secretsmanager(), id).await?;
        Ok(SecretMetadata {
            arn: text(out.arn()),
            name: text(out.name()),
        })
    }
}
