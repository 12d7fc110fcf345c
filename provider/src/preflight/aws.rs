//! [`PreflightApi`] over the AWS SDK clients: describe and list calls only. SDK types become
//! domain types through the engine adapter's conversions.

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use aws_sdk_rds::types as rds_t;

use super::api::{PreflightApi, SecretMetadata};
use crate::aws::adapter::{db_instance, kms_key, replication_instance, replication_subnet_group};
use crate::aws::error::operation_errors;
use crate::aws::{Clients, dms, kms, rds, secretsmanager};
use crate::engine::api::{
    AwsError, DbInstance, KmsKey, ReplicationInstance, ReplicationSubnetGroup,
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
