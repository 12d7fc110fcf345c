//! AWS KMS: resolving the user's key reference (key id, key ARN, alias name or alias ARN) to the
//! key's metadata, and its state.
//!
//! Order: finders -> status -> waiters.

use std::time::Duration;

use aws_sdk_kms::Client;
use aws_sdk_kms::types::{KeyMetadata, KeyState};

use super::error::{AwsError, operation_errors};
use super::wait::{WaitError, WaitOptions, WaitSpec, wait_for};
use super::{gone, optional};

/// Object kind used in messages for keys.
pub const KIND_KEY: &str = "KMS Key";

/// Default wait for a key to become enabled.
pub const KEY_ENABLED_TIMEOUT: Duration = Duration::from_secs(10 * 60);
/// Consecutive `Enabled` observations required, as terraform-provider-aws does for key state
/// (KMS is eventually consistent across its fleet).
pub const KEY_STATE_CONTINUOUS_TARGET: u32 = 15;

operation_errors! {
    aws_sdk_kms::operation::describe_key::DescribeKeyError => NotFoundException;
}

const KEY_PENDING: &[KeyState] = &[
    KeyState::Creating,
    KeyState::PendingImport,
    KeyState::Updating,
];
const KEY_ENABLED: &[KeyState] = &[KeyState::Enabled];

/// The key `key_ref` designates: key id, key ARN, `alias/<name>` or alias ARN. `NotFound` when
/// neither the key nor the alias exists.
pub async fn find_key_by_id(client: &Client, key_ref: &str) -> Result<KeyMetadata, AwsError> {
    let out = client
        .describe_key()
        .key_id(key_ref)
        .send()
        .await
        .map_err(AwsError::context(KIND_KEY, key_ref))?;
    out.key_metadata.ok_or_else(|| AwsError::NotFound {
        kind: KIND_KEY,
        id: key_ref.to_owned(),
    })
}

/// True when `key` can encrypt an RDS snapshot copy: enabled, symmetric, encrypt/decrypt.
pub fn is_usable_for_rds(key: &KeyMetadata) -> bool {
    key.key_state() == Some(&KeyState::Enabled)
        && key.key_spec() == Some(&aws_sdk_kms::types::KeySpec::SymmetricDefault)
        && key.key_usage() == Some(&aws_sdk_kms::types::KeyUsageType::EncryptDecrypt)
}

/// The key and its state, or `None` when it is gone.
pub async fn status_key(
    client: &Client,
    key_ref: &str,
) -> Result<Option<(KeyMetadata, KeyState)>, AwsError> {
    optional(find_key_by_id(client, key_ref).await).map(|o| {
        o.map(|k| {
            let s = k.key_state().cloned().unwrap_or_else(|| KeyState::from(""));
            (k, s)
        })
    })
}

/// Waits until the key is `Enabled`, seen `opts.continuous_target` times in a row (pass
/// [`KEY_STATE_CONTINUOUS_TARGET`] for keys created moments ago).
pub async fn wait_key_enabled(
    client: &Client,
    key_ref: &str,
    timeout: Duration,
    opts: &WaitOptions,
) -> Result<KeyMetadata, WaitError> {
    let spec = WaitSpec {
        kind: KIND_KEY,
        id: key_ref,
        pending: KEY_PENDING,
        target: KEY_ENABLED,
        timeout,
    };
    wait_for(spec, opts, || status_key(client, key_ref))
        .await?
        .ok_or_else(|| gone(KIND_KEY, key_ref))
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_kms::types::{KeySpec, KeyUsageType};

    fn key(state: KeyState, spec: KeySpec, usage: KeyUsageType) -> KeyMetadata {
        KeyMetadata::builder()
            .key_id("k1")
            .key_state(state)
            .key_spec(spec)
            .key_usage(usage)
            .build()
            .expect("key metadata")
    }

    #[test]
    fn only_enabled_symmetric_encrypt_decrypt_keys_can_encrypt_rds_snapshots() {
        assert!(is_usable_for_rds(&key(
            KeyState::Enabled,
            KeySpec::SymmetricDefault,
            KeyUsageType::EncryptDecrypt
        )));
        assert!(!is_usable_for_rds(&key(
            KeyState::Disabled,
            KeySpec::SymmetricDefault,
            KeyUsageType::EncryptDecrypt
        )));
        assert!(!is_usable_for_rds(&key(
            KeyState::Enabled,
            KeySpec::Rsa2048,
            KeyUsageType::EncryptDecrypt
        )));
        assert!(!is_usable_for_rds(&key(
            KeyState::Enabled,
            KeySpec::SymmetricDefault,
            KeyUsageType::GenerateVerifyMac
        )));
    }
}
