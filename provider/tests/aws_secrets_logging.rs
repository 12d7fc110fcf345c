//! Secrets never reach logs: a DMS endpoint password, the secret access key and the session
//! token stay out of TRACE-level SDK logs (a guard against SDK upgrades changing that), and
//! capping `rdsenc::aws::SDK_LOG_TARGETS` at DEBUG (as the provider's subscriber does) keeps
//! the SDK's internals below TRACE.
//!
//! Run: `cargo test --test aws_secrets_logging`.

use std::io::Write;
use std::sync::{Arc, Mutex};

use aws_sdk_databasemigration as dms_sdk;
use aws_smithy_mocks::{mock, mock_client};
use dms_sdk::operation::create_endpoint::CreateEndpointOutput;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

const PASSWORD: &str = "pw-must-not-be-logged-4711";
const SECRET_KEY: &str = "secret-key-must-not-be-logged-0815";
const SESSION_TOKEN: &str = "session-token-must-not-be-logged-1234";

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Buffer {
    type Writer = Buffer;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// Runs a CreateEndpoint with a password under a TRACE subscriber filtered by `filter`;
/// returns everything logged.
fn logged_with(filter: &str) -> String {
    let buffer = Buffer::default();
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::new(filter))
        .with_writer(buffer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let rule = mock!(dms_sdk::Client::create_endpoint)
            .then_output(|| CreateEndpointOutput::builder().build());
        let client = mock_client!(
            aws_sdk_databasemigration,
            aws_smithy_mocks::RuleMode::Sequential,
            [&rule],
            |c| c.credentials_provider(aws_credential_types::Credentials::new(
                "AKIDTEST",
                SECRET_KEY,
                Some(SESSION_TOKEN.to_owned()),
                None,
                "test",
            ))
        );
        client
            .create_endpoint()
            .endpoint_identifier("rdsenc-orders-source")
            .endpoint_type(dms_sdk::types::ReplicationEndpointTypeValue::Source)
            .engine_name("postgres")
            .username("dms")
            .password(PASSWORD)
            .send()
            .await
            .expect("mocked create");
    });
    let bytes = buffer.0.lock().expect("lock").clone();
    String::from_utf8_lossy(&bytes).into_owned()
}

const SECRETS: [&str; 3] = [PASSWORD, SECRET_KEY, SESSION_TOKEN];

#[test]
fn trace_level_sdk_logs_carry_no_password_secret_key_or_session_token() {
    let logs = logged_with("trace");
    // The capture works: the SDK's own TRACE events are there.
    assert!(
        logs.lines()
            .any(|l| l.contains("TRACE") && l.contains("aws_smithy_runtime")),
        "no SDK trace events captured"
    );
    assert!(logs.contains("CreateEndpoint"));
    for secret in SECRETS {
        assert!(!logs.contains(secret), "{secret} leaked into TRACE logs");
    }
}

#[test]
fn sdk_log_targets_capped_at_debug_keep_sdk_internals_below_trace() {
    let filter = std::iter::once("trace".to_owned())
        .chain(
            rdsenc::aws::SDK_LOG_TARGETS
                .iter()
                .map(|t| format!("{t}=debug")),
        )
        .collect::<Vec<_>>()
        .join(",");
    let logs = logged_with(&filter);
    let sdk_trace = logs.lines().find(|l| {
        l.contains("TRACE") && (l.contains(" aws_smithy_runtime") || l.contains(" aws_sigv4"))
    });
    assert_eq!(sdk_trace, None, "SDK internals still traced");
    assert!(
        logs.contains("CreateEndpoint"),
        "the operation itself stays visible"
    );
    for secret in SECRETS {
        assert!(!logs.contains(secret), "{secret} leaked into logs");
    }
}
