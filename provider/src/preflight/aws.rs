//! [`PreflightApi`] over the AWS SDK clients: describe and list calls only. SDK types become
//! domain types through the engine adapter's conversions.

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use aws_sdk_rds::types as rds_t;

use crate::aws::error::operation_errors;
use crate::aws::rds::KIND_DB_PARAMETER_GROUP;
use crate::aws::{Clients, secretsmanager};
use rdsenc_engine::api::{
    AwsApi, AwsError, DbInstance, DmsRef, KmsKey, ReplicationInstance, ReplicationSubnetGroup,
};
use rdsenc_engine::preflight::{PreflightApi, SecretMetadata, SourceInstance};

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

/// The values of `names` in DB parameter group `group` (all pages), engine defaults included.
/// `NotFound` when the group does not exist. For a `default.<family>` group that
/// DescribeDBParameters does not answer for, the family's engine defaults
/// (DescribeEngineDefaultParameters) are its values.
pub async fn find_db_parameters(
    client: &aws_sdk_rds::Client,
    group: &str,
    names: &[&str],
) -> Result<BTreeMap<String, String>, AwsError> {
    let names: BTreeSet<&str> = names.iter().copied().collect();
    let listed: Result<Vec<rds_t::Parameter>, _> = client
        .describe_db_parameters()
        .db_parameter_group_name(group)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await;
    match listed.map_err(crate::aws::error::context(KIND_DB_PARAMETER_GROUP, group)) {
        Ok(params) => Ok(wanted(&params, &names)),
        Err(e) if e.is_not_found() && group.starts_with("default.") => {
            let family = group.trim_start_matches("default.");
            let params: Result<Vec<rds_t::Parameter>, _> = client
                .describe_engine_default_parameters()
                .db_parameter_group_family(family)
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await;
            params
                .map(|p| wanted(&p, &names))
                .map_err(crate::aws::error::context(KIND_DB_PARAMETER_GROUP, group))
        }
        Err(e) => Err(e),
    }
}

#[async_trait]
impl PreflightApi for Clients {
    fn region(&self) -> Option<String> {
        Clients::region(self).map(str::to_owned)
    }

    async fn describe_db_instance(&self, identifier: &str) -> Result<DbInstance, AwsError> {
        AwsApi::describe_db_instance(self, identifier).await
    }

    async fn describe_source(&self, identifier: &str) -> Result<SourceInstance, AwsError> {
        let instance = AwsApi::describe_db_instance(self, identifier).await?;
        Ok(SourceInstance {
            parameter_apply_status: instance.parameter_apply_status.clone(),
            instance,
        })
    }

    async fn list_db_instances(&self) -> Result<Vec<DbInstance>, AwsError> {
        AwsApi::list_db_instances(self).await
    }

    async fn describe_db_parameters(
        &self,
        group: &str,
        names: &[&str],
    ) -> Result<BTreeMap<String, String>, AwsError> {
        find_db_parameters(self.rds(), group, names).await
    }

    async fn describe_kms_key(&self, key_id: &str) -> Result<KmsKey, AwsError> {
        AwsApi::describe_kms_key(self, key_id).await
    }

    async fn describe_replication_instance(
        &self,
        arn: &str,
    ) -> Result<ReplicationInstance, AwsError> {
        AwsApi::describe_replication_instance(self, &DmsRef::Arn(arn.to_owned())).await
    }

    async fn describe_replication_subnet_group(
        &self,
        identifier: &str,
    ) -> Result<ReplicationSubnetGroup, AwsError> {
        AwsApi::describe_replication_subnet_group(self, identifier).await
    }

    async fn describe_secret(&self, id: &str) -> Result<SecretMetadata, AwsError> {
        let out = secretsmanager::find_secret_by_id(self.secretsmanager(), id).await?;
        Ok(SecretMetadata {
            arn: text(out.arn()),
            name: text(out.name()),
        })
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_rds::operation::describe_db_parameters::{
        DescribeDBParametersError, DescribeDbParametersOutput,
    };
    use aws_sdk_rds::operation::describe_engine_default_parameters::DescribeEngineDefaultParametersOutput;
    use aws_sdk_rds::types::error::DbParameterGroupNotFoundFault;
    use aws_sdk_rds::types::{EngineDefaults, Parameter};
    use aws_smithy_mocks::{RuleMode, mock, mock_client};

    use super::*;

    fn param(name: &str, value: Option<&str>) -> Parameter {
        Parameter::builder()
            .parameter_name(name)
            .set_parameter_value(value.map(str::to_owned))
            .build()
    }

    #[tokio::test]
    async fn parameters_are_collected_across_pages_and_only_the_wanted_ones_kept() {
        let first = mock!(aws_sdk_rds::Client::describe_db_parameters)
            .match_requests(|r| r.marker().is_none())
            .then_output(|| {
                DescribeDbParametersOutput::builder()
                    .parameters(param("binlog_format", Some("ROW")))
                    .parameters(param("autocommit", Some("1")))
                    .marker("page-2")
                    .build()
            });
        let second = mock!(aws_sdk_rds::Client::describe_db_parameters)
            .match_requests(|r| r.marker() == Some("page-2"))
            .then_output(|| {
                DescribeDbParametersOutput::builder()
                    .parameters(param("binlog_row_image", Some("FULL")))
                    .parameters(param("binlog_checksum", None))
                    .build()
            });
        let client = mock_client!(aws_sdk_rds, RuleMode::MatchAny, [&first, &second]);
        let got = find_db_parameters(
            &client,
            "orders-binlog",
            &["binlog_format", "binlog_row_image", "binlog_checksum"],
        )
        .await
        .expect("parameters");
        assert_eq!(
            got,
            BTreeMap::from([
                ("binlog_format".to_owned(), "ROW".to_owned()),
                ("binlog_row_image".to_owned(), "FULL".to_owned()),
            ])
        );
    }

    #[tokio::test]
    async fn a_default_group_falls_back_to_the_familys_engine_defaults() {
        let missing = mock!(aws_sdk_rds::Client::describe_db_parameters).then_error(|| {
            DescribeDBParametersError::DbParameterGroupNotFoundFault(
                DbParameterGroupNotFoundFault::builder().build(),
            )
        });
        let defaults = mock!(aws_sdk_rds::Client::describe_engine_default_parameters)
            .match_requests(|r| r.db_parameter_group_family() == Some("mysql8.0"))
            .then_output(|| {
                DescribeEngineDefaultParametersOutput::builder()
                    .engine_defaults(
                        EngineDefaults::builder()
                            .db_parameter_group_family("mysql8.0")
                            .parameters(param("binlog_format", Some("MIXED")))
                            .build(),
                    )
                    .build()
            });
        let client = mock_client!(aws_sdk_rds, RuleMode::MatchAny, [&missing, &defaults]);
        let got = find_db_parameters(&client, "default.mysql8.0", &["binlog_format"])
            .await
            .expect("engine defaults");
        assert_eq!(got.get("binlog_format").map(String::as_str), Some("MIXED"));
        assert_eq!(defaults.num_calls(), 1);
    }

    #[tokio::test]
    async fn a_missing_custom_group_is_not_found() {
        let missing = mock!(aws_sdk_rds::Client::describe_db_parameters).then_error(|| {
            DescribeDBParametersError::DbParameterGroupNotFoundFault(
                DbParameterGroupNotFoundFault::builder().build(),
            )
        });
        let client = mock_client!(aws_sdk_rds, [&missing]);
        let err = find_db_parameters(&client, "gone", &["binlog_format"])
            .await
            .expect_err("no such group");
        assert!(
            matches!(&err, AwsError::NotFound { kind: KIND_DB_PARAMETER_GROUP, id } if id == "gone"),
            "{err:?}"
        );
    }
}
