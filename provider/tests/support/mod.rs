//! Shared by the tests that drive the real SDK adapter against the rdsenc emulator: starting
//! the emulator as a child process on a free 127.0.0.1 port (`$RDSENC_PYTHON`,
//! `$RDSENC_EMULATOR`), AWS settings pointing at it, its control API, and [`poll`], a bounded
//! poll for tests that drive `Clients` through `AwsApi` and must wait for the emulator.

#![allow(dead_code)]

use std::fmt::Debug;
use std::future::Future;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_rds::operation::create_db_instance::builders::CreateDBInstanceFluentBuilder;
use rdsenc::aws::{AwsSettings, Clients, Endpoints};
use rdsenc_engine::api::{
    AwsApi, AwsError, CreateReplicationInstanceInput, DmsRef, EndpointCredentials,
    ReplicationInstance, ReplicationInstanceStatus, SecretString, Tags,
};
use rdsenc_engine::fixtures::SpecExt;
use rdsenc_engine::{MigrationSpec, PollPolicy};

/// How long [`poll`] waits before failing the test (the emulator runs at 1000x).
pub(crate) const POLL_LIMIT: Duration = Duration::from_secs(120);

/// Reads `read` until `done` accepts its answer, sleeping the engine's own backoff
/// ([`PollPolicy::interval`], scaled to the emulator) between reads; returns that answer.
/// Transient AWS errors are read again, as the engine's waiter does. Panics naming `what`
/// and the last answer after [`POLL_LIMIT`].
pub(crate) async fn poll<T, F, Fut>(
    what: &str,
    mut read: F,
    done: impl Fn(&Result<T, AwsError>) -> bool,
) -> Result<T, AwsError>
where
    T: Debug,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, AwsError>>,
{
    let policy = PollPolicy::production().scaled(0.005);
    let deadline = tokio::time::Instant::now() + POLL_LIMIT;
    let mut polls = 0u32;
    loop {
        let answer = read().await;
        if done(&answer) {
            return answer;
        }
        let transient = matches!(&answer, Err(e) if e.is_transient() && !e.is_not_found());
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: not done after {POLL_LIMIT:?}; last answer {answer:?}"
        );
        if !transient {
            polls = polls.saturating_add(1);
        }
        tokio::time::sleep(policy.interval(polls)).await;
    }
}

/// The master password of the test source, also the DMS user's password in [`spec`].
pub(crate) const PASSWORD: &str = "not-a-real-password";

/// A CreateDBInstance request for the unencrypted PostgreSQL source `orders`; callers add
/// what their test needs before sending it.
pub(crate) fn create_source(clients: &Clients) -> CreateDBInstanceFluentBuilder {
    clients
        .rds()
        .create_db_instance()
        .db_instance_identifier("orders")
        .engine("postgres")
        .db_instance_class("db.t3.micro")
        .allocated_storage(20)
        .master_username("postgres")
        .master_user_password(PASSWORD)
}

/// A new KMS key reachable as `alias` (`alias/...`); its metadata.
pub(crate) async fn key_with_alias(
    clients: &Clients,
    alias: &str,
) -> aws_sdk_kms::types::KeyMetadata {
    let key = clients
        .kms()
        .create_key()
        .send()
        .await
        .expect("create key")
        .key_metadata
        .expect("metadata");
    clients
        .kms()
        .create_alias()
        .alias_name(alias)
        .target_key_id(key.key_id())
        .send()
        .await
        .expect("alias");
    key
}

/// A dms.t3.medium replication instance of 50 GiB, in no subnet group or security group.
pub(crate) fn replication_instance_input(
    identifier: &str,
    tags: Tags,
) -> CreateReplicationInstanceInput {
    CreateReplicationInstanceInput {
        identifier: identifier.to_owned(),
        instance_class: "dms.t3.medium".into(),
        allocated_storage: Some(50),
        subnet_group_identifier: None,
        vpc_security_group_ids: Vec::new(),
        multi_az: false,
        publicly_accessible: false,
        engine_version: None,
        kms_key_id: None,
        tags,
    }
}

/// A user-supplied replication instance `shared-dms`, once available: a managed one would
/// need the source's DB subnet group, whose subnets need EC2 (not a client this provider has).
pub(crate) async fn shared_replication_instance(clients: &Clients) -> ReplicationInstance {
    let ri = clients
        .create_replication_instance(&replication_instance_input("shared-dms", Tags::new()))
        .await
        .expect("replication instance");
    let which = DmsRef::Arn(ri.arn);
    poll(
        "replication instance available",
        || clients.describe_replication_instance(&which),
        |r| matches!(r, Ok(i) if i.status == ReplicationInstanceStatus::Available),
    )
    .await
    .expect("replication instance available")
}

/// The engine fixture's spec for the source `orders` over the replication instance `ri`,
/// the DMS user's password being the source's.
pub(crate) fn spec(ri: &ReplicationInstance) -> MigrationSpec {
    let mut spec = MigrationSpec::test();
    spec.dms.replication_instance_arn = Some(ri.arn.clone());
    spec.dms.source_credentials = EndpointCredentials::Password {
        username: "dms".into(),
        password: SecretString::new(PASSWORD),
    };
    spec
}

/// What a migration through the engine starts from, on a fresh emulator.
pub(crate) struct World {
    /// The emulator (stopped on drop).
    pub emu: Emulator,
    /// Clients for it, shareable with an engine.
    pub clients: Arc<Clients>,
    /// The key behind `alias/rds-at-rest`.
    pub key: aws_sdk_kms::types::KeyMetadata,
    /// The available replication instance `shared-dms`.
    pub ri: ReplicationInstance,
}

impl World {
    /// Starts the emulator and creates the source `orders` (`source` adds to its request),
    /// the key `alias/rds-at-rest` and the replication instance `shared-dms`.
    pub(crate) async fn new(
        source: impl FnOnce(CreateDBInstanceFluentBuilder) -> CreateDBInstanceFluentBuilder,
    ) -> World {
        let emu = Emulator::start();
        let clients = Arc::new(emu.clients().await);
        source(create_source(&clients))
            .send()
            .await
            .expect("create source");
        let key = key_with_alias(&clients, "alias/rds-at-rest").await;
        let ri = shared_replication_instance(&clients).await;
        World {
            emu,
            clients,
            key,
            ri,
        }
    }
}

pub(crate) struct Emulator {
    pub child: Child,
    pub url: String,
    pub port: u16,
    /// Holds the shared config/credentials files for the life of the test.
    pub dir: tempfile::TempDir,
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

impl Emulator {
    pub(crate) fn start() -> Emulator {
        let root = root();
        let python = std::env::var_os("RDSENC_PYTHON")
            .map(PathBuf::from)
            .unwrap_or_else(|| root.join(".venv/bin/python"));
        let launcher = std::env::var_os("RDSENC_EMULATOR")
            .map(PathBuf::from)
            .unwrap_or_else(|| root.join("acceptance-tests/emulator/rdsenc_emulator.py"));
        assert!(
            launcher.exists(),
            "{} not found: the SDK-against-emulator tests need the rdsenc emulator",
            launcher.display()
        );
        let port = free_port();
        let mut cmd = Command::new(&python);
        cmd.arg(&launcher).args([
            "--host",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--time-scale",
            "0.001",
        ]);
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", python.display()));
        let emulator = Emulator {
            child,
            url: format!("http://127.0.0.1:{port}"),
            port,
            dir: tempfile::tempdir().expect("tempdir"),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "emulator did not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        emulator
    }

    /// Static test credentials in a shared credentials file, under a named profile.
    pub(crate) fn settings(&self) -> AwsSettings {
        let creds = self.dir.path().join("credentials");
        std::fs::write(
            &creds,
            "[rdsenc-test]\naws_access_key_id = AKIDTESTTESTTESTTEST\n\
             aws_secret_access_key = test-secret-not-real\n",
        )
        .expect("credentials file");
        let config = self.dir.path().join("config");
        std::fs::write(&config, "[profile rdsenc-test]\n").expect("config file");
        AwsSettings {
            region: Some("us-east-1".into()),
            profile: Some("rdsenc-test".into()),
            shared_config_files: vec![config.display().to_string()],
            shared_credentials_files: vec![creds.display().to_string()],
            endpoints: Endpoints::all(&self.url),
            max_retries: Some(1),
            ..AwsSettings::default()
        }
    }

    pub(crate) async fn clients(&self) -> Clients {
        Clients::load(&self.settings()).await.expect("clients load")
    }

    /// POSTs a JSON body to the emulator's control API; panics unless it answers 200.
    pub(crate) fn control(&self, route: &str, body: &str) {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).expect("connect");
        write!(
            stream,
            "POST /_emulator/{route} HTTP/1.1\r\nHost: 127.0.0.1\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .expect("write");
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer);
        let status = answer.split_whitespace().nth(1).unwrap_or_default();
        assert_eq!(status, "200", "control API {route}: {answer}");
    }
}
