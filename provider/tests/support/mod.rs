//! Shared by the tests that drive the real SDK adapter against the rdsenc emulator: starting
//! the emulator as a child process on a free 127.0.0.1 port (`$RDSENC_PYTHON`,
//! `$RDSENC_EMULATOR`), AWS settings pointing at it, its control API, and [`poll`], a bounded
//! poll for tests that drive `Clients` through `AwsApi` and must wait for the emulator.

#![allow(dead_code)]

use std::fmt::Debug;
use std::future::Future;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rdsenc::aws::{AwsSettings, Clients, Endpoints};
use rdsenc_engine::PollPolicy;
use rdsenc_engine::api::AwsError;

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

    /// POST a JSON body to the emulator's control API; returns (status, body).
    pub(crate) fn control(&self, route: &str, body: &str) -> (u16, String) {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).expect("connect");
        write!(
            stream,
            "POST /_emulator/{route} HTTP/1.1\r\nHost: 127.0.0.1\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .expect("write");
        let mut reader = BufReader::new(stream);
        let mut status_line = String::new();
        reader.read_line(&mut status_line).expect("status line");
        let status = status_line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let mut rest = String::new();
        let _ = reader.read_to_string(&mut rest);
        (status, rest)
    }
}
