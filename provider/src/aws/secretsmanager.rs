//! AWS Secrets Manager: describe only. The provider never reads a secret's value (no
//! GetSecretValue): DMS reads it itself through `SecretsManagerAccessRoleArn`. Only metadata
//! (ARN, name, KMS key, rotation) is ever returned, so nothing secret can reach logs or state.

use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::operation::describe_secret::DescribeSecretOutput;

use super::error::{Classify, not_found, operation_errors};
use rdsenc_engine::api::AwsError;

/// Object kind used in messages for secrets.
pub const KIND_SECRET: &str = "Secrets Manager Secret";

operation_errors! {
    aws_sdk_secretsmanager::operation::describe_secret::DescribeSecretError => ResourceNotFoundException;
}

/// The metadata of the secret named by `id` (name, ARN or partial ARN). A secret scheduled for
/// deletion counts as not found: DMS could not use it.
pub async fn find_secret_by_id(
    client: &Client,
    id: &str,
) -> Result<DescribeSecretOutput, AwsError> {
    let out = client
        .describe_secret()
        .secret_id(id)
        .send()
        .await
        .about(KIND_SECRET, id)?;
    match out.deleted_date() {
        Some(_) => Err(not_found(KIND_SECRET, id)),
        None => Ok(out),
    }
}
