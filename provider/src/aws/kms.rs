//! AWS KMS: resolving the user's key reference (key id, key ARN, alias name or alias ARN) to the
//! key's metadata. Whether a key can encrypt RDS storage is the preflight's and the engine's
//! question, asked of the domain type the adapter maps the metadata to.

use aws_sdk_kms::Client;
use aws_sdk_kms::types::KeyMetadata;

use super::error::{Classify, not_found, operation_errors};
use rdsenc_engine::api::AwsError;

/// Object kind used in messages for keys.
pub const KIND_KEY: &str = "KMS Key";

operation_errors! {
    aws_sdk_kms::operation::describe_key::DescribeKeyError => NotFoundException;
}

/// The key `key_ref` designates: key id, key ARN, `alias/<name>` or alias ARN. `NotFound` when
/// neither the key nor the alias exists.
pub async fn find_key_by_id(client: &Client, key_ref: &str) -> Result<KeyMetadata, AwsError> {
    let out = client
        .describe_key()
        .key_id(key_ref)
        .send()
        .await
        .about(KIND_KEY, key_ref)?;
    out.key_metadata.ok_or_else(|| not_found(KIND_KEY, key_ref))
}
