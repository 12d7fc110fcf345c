//! `Clients::load` without any AWS endpoint: region resolution, retry settings and validation
//! errors. Credential validation is skipped (or fails before the network), so nothing leaves
//! the machine.
//!
//! Run: `cargo test --test aws_config`.

use std::path::Path;

use rdsenc::aws::config::DEFAULT_MAX_RETRIES;
use rdsenc::aws::{AwsSettings, Clients, ConfigError, Endpoints};

/// Settings reading only the given profile files (never ~/.aws), validation skipped.
fn settings(dir: &Path, config: &str) -> AwsSettings {
    let config_file = dir.join("config");
    std::fs::write(&config_file, config).expect("config file");
    let creds = dir.join("credentials");
    std::fs::write(
        &creds,
        "[rdsenc-test]\naws_access_key_id = AKIDTEST\naws_secret_access_key = not-real\n",
    )
    .expect("credentials file");
    AwsSettings {
        profile: Some("rdsenc-test".into()),
        shared_config_files: vec![config_file.display().to_string()],
        shared_credentials_files: vec![creds.display().to_string()],
        skip_credentials_validation: true,
        ..AwsSettings::default()
    }
}

/// The region the environment supplies, if any (it outranks the profile, as in the AWS CLI).
fn env_region() -> Option<String> {
    ["AWS_REGION", "AWS_DEFAULT_REGION"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
}

#[tokio::test]
async fn without_any_region_loading_fails_naming_the_region_attribute() {
    let dir = tempfile::tempdir().expect("tempdir");
    let result = Clients::load(&settings(dir.path(), "[profile rdsenc-test]\n")).await;
    match env_region() {
        None => {
            let err = result.expect_err("no region anywhere");
            assert!(matches!(err, ConfigError::MissingRegion), "{err:?}");
            assert_eq!(err.attribute(), Some("region"));
        }
        // The environment supplies one: then it must be the one used.
        Some(env) => {
            let clients = result.expect("environment region");
            assert_eq!(clients.region(), Some(env.as_str()));
        }
    }
}

#[tokio::test]
async fn the_profile_region_applies_unless_the_environment_sets_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = settings(dir.path(), "[profile rdsenc-test]\nregion = eu-central-1\n");
    let clients = Clients::load(&s).await.expect("loads");
    let expected = env_region().unwrap_or_else(|| "eu-central-1".to_owned());
    assert_eq!(clients.region(), Some(expected.as_str()));
}

#[tokio::test]
async fn an_explicit_region_wins_over_environment_and_profile() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut s = settings(dir.path(), "[profile rdsenc-test]\nregion = eu-central-1\n");
    s.region = Some("us-west-2".into());
    let clients = Clients::load(&s).await.expect("loads");
    assert_eq!(clients.region(), Some("us-west-2"));
    assert_eq!(
        clients.rds().config().region().map(|r| r.as_ref()),
        Some("us-west-2")
    );
}

#[tokio::test]
async fn max_retries_sets_the_sdk_attempts_with_a_documented_default() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut s = settings(dir.path(), "[profile rdsenc-test]\n");
    s.region = Some("eu-west-1".into());
    let clients = Clients::load(&s).await.expect("loads");
    let attempts = clients
        .dms()
        .config()
        .retry_config()
        .map(|r| r.max_attempts());
    assert_eq!(attempts, Some(DEFAULT_MAX_RETRIES + 1));

    s.max_retries = Some(4);
    let clients = Clients::load(&s).await.expect("loads");
    let retry = clients.rds().config().retry_config().expect("retry config");
    assert_eq!(retry.max_attempts(), 5);
    assert_eq!(retry.mode(), aws_smithy_types::retry::RetryMode::Standard);
}

#[tokio::test]
async fn invalid_settings_fail_before_any_network_call_naming_the_attribute() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut s = settings(dir.path(), "[profile rdsenc-test]\n");
    s.region = Some("eu-west-1".into());
    s.endpoints = Endpoints {
        route53: Some("127.0.0.1:4566".into()),
        ..Endpoints::default()
    };
    s.skip_credentials_validation = false;
    let err = Clients::load(&s).await.expect_err("bad endpoint");
    assert_eq!(err.attribute(), Some("endpoints.route53"));
    assert!(err.to_string().contains("127.0.0.1:4566"), "{err}");
}
