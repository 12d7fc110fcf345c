//! Serving the provider as a go-plugin: socket, TLS accept loop, the tonic router with the
//! Provider, GRPCController, GRPCStdio and health services, signals and debug mode.

use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::PathBuf;
use std::pin::Pin;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use futures::StreamExt as _;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tonic::transport::server::Connected;
use tonic::{Request, Response, Status};

use crate::framework::Provider;

use super::goplugin;
use super::grpc::{GrpcProvider, InFlight};
use super::handshake::{self, AutoMtls, HandshakeError};
use super::logging;
use super::server::ProviderServer;
use super::tfplugin6::provider_server::ProviderServer as ProviderService;

/// tonic's 4 MiB default is too small for large plans; HashiCorp's Go SDK uses 256 MiB.
const MAX_MESSAGE_BYTES: usize = 256 << 20;
/// A TLS handshake that has not finished by then is dropped.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// After GRPCController.Shutdown, how long open connections may linger: Terraform sends no
/// more requests then but may keep its connection open, which would hold a graceful
/// shutdown forever (go-plugin itself stops hard here).
const CONTROLLER_SHUTDOWN_GRACE: Duration = Duration::from_millis(100);
/// Time for the last responses to be written before connections are dropped.
const FLUSH_DELAY: Duration = Duration::from_millis(50);
/// After SIGTERM or Ctrl-C in debug mode, how long running requests may finish.
const SIGNAL_SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
/// The provider address Terraform uses for this provider.
const PROVIDER_ADDRESS: &str = "registry.terraform.io/rdsenc/rdsenc";

/// Starts the server's shutdown: stops accepting, lets running requests finish, and
/// ends serving after the grace period of whoever asked.
#[derive(Clone, Default)]
struct Shutdown {
    token: CancellationToken,
    grace_ms: Arc<AtomicU64>,
    in_flight: Arc<InFlight>,
}

impl Shutdown {
    fn begin(&self, grace: Duration) {
        if !self.token.is_cancelled() {
            let ms = u64::try_from(grace.as_millis()).unwrap_or(u64::MAX);
            self.grace_ms.store(ms, Ordering::SeqCst);
            self.token.cancel();
        }
    }
    /// Resolves once shutdown began and either no request is running any more or the
    /// grace period has passed. Idle client connections do not hold it up.
    async fn deadline(&self) {
        self.token.cancelled().await;
        let ms = self.grace_ms.load(Ordering::SeqCst);
        // A moment for the last responses (e.g. Shutdown's own) to reach the client.
        tokio::time::sleep(FLUSH_DELAY).await;
        let _ = tokio::time::timeout(Duration::from_millis(ms), self.in_flight.idle()).await;
    }
}

/// Why serving failed after the handshake checks.
#[derive(Debug, thiserror::Error)]
enum ServeError {
    /// The handshake could not be completed.
    #[error(transparent)]
    Handshake(#[from] HandshakeError),
    /// Creating or binding the socket failed.
    #[error("creating the plugin socket failed: {0}")]
    Socket(#[source] std::io::Error),
    /// Writing the handshake line failed.
    #[error("writing the handshake line to stdout failed: {0}")]
    Stdout(#[source] std::io::Error),
    /// The gRPC server stopped with an error.
    #[error("the gRPC server failed: {0}")]
    Transport(#[from] tonic::transport::Error),
}

/// Runs the provider as a Terraform plugin until Terraform shuts it down.
///
/// Reads `argv` (`--debug` starts debug mode: no cookie, no TLS, prints a
/// `TF_REATTACH_PROVIDERS` value and serves until Ctrl-C) and the go-plugin environment
/// (`TF_PLUGIN_MAGIC_COOKIE`, `PLUGIN_PROTOCOL_VERSIONS`, `PLUGIN_CLIENT_CERT`,
/// `TF_DISABLE_PLUGIN_TLS`), installs the stderr JSON logger (`TF_LOG_PROVIDER` / `TF_LOG`)
/// and a panic hook Terraform recognises (it prints `panic: <message>` and the location to
/// stderr, then exits with code 2, as a crashing Go provider would), then serves.
///
/// # Guarantees
/// Nothing but the handshake line (or, in debug mode, the reattach instructions) is ever
/// written to stdout. The socket directory is owner-only (0700, socket 0600) and removed on
/// exit. SIGINT is ignored outside debug mode (Terraform follows Ctrl-C with StopProvider,
/// which cancels operations); SIGTERM and `plugin.GRPCController/Shutdown` stop the server.
///
/// # Errors
/// Returns exit code 1 with a message on stderr when not started by Terraform (no magic
/// cookie), when protocol 6 is not offered, or when the socket or TLS cannot be set up.
pub async fn serve(provider: Arc<dyn Provider>) -> ExitCode {
    install_panic_hook();
    logging::init();
    let debug = std::env::args()
        .skip(1)
        .any(|a| a == "--debug" || a == "-debug");
    let result = if debug {
        serve_debug(provider).await
    } else {
        serve_plugin(provider).await
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}

/// Terraform shows stderr lines starting with `panic: ` as a plugin crash; a bare Rust
/// panic message would only surface as "Request cancelled".
fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic payload".to_owned());
        let location = info
            .location()
            .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()))
            .unwrap_or_default();
        let thread = std::thread::current();
        let name = thread.name().unwrap_or("unnamed");
        let _ = writeln!(
            std::io::stderr().lock(),
            "panic: {msg}\n\nthread {name:?} at {location}\n\
             This is always a problem with the provider and should be reported."
        );
        // Crash like a Go provider would: Terraform then reports the plugin crash with the
        // lines above, instead of a half-dead server whose requests vanish.
        std::process::exit(2);
    }));
}

async fn serve_plugin(provider: Arc<dyn Provider>) -> Result<(), ServeError> {
    handshake::check_cookie(std::env::var(handshake::MAGIC_COOKIE_KEY).ok().as_deref())?;
    handshake::negotiate_version(std::env::var("PLUGIN_PROTOCOL_VERSIONS").ok().as_deref())?;
    let tls_disabled = std::env::var("TF_DISABLE_PLUGIN_TLS").is_ok_and(|v| !v.is_empty());
    let tls = match std::env::var("PLUGIN_CLIENT_CERT") {
        Ok(pem) if !tls_disabled && !pem.trim().is_empty() => Some(handshake::auto_mtls(&pem)?),
        _ => None,
    };

    // Signal handlers first: a SIGTERM right after the handshake line must still clean up.
    let shutdown = Shutdown::default();
    watch_signals(shutdown.clone(), false);
    let socket = SocketDir::create().map_err(ServeError::Socket)?;
    let listener = socket.bind().map_err(ServeError::Socket)?;
    let line = handshake::handshake_line(
        "unix",
        &socket.socket_path().to_string_lossy(),
        tls.as_ref().map(|t| t.server_cert_der.as_slice()),
    );
    // The only stdout output of the plugin, written after the listener is bound.
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{line}").map_err(ServeError::Stdout)?;
        out.flush().map_err(ServeError::Stdout)?;
    }

    let result = run_server(provider, listener, tls, shutdown).await;
    drop(socket);
    result
}

async fn serve_debug(provider: Arc<dyn Provider>) -> Result<(), ServeError> {
    // Signal handlers first: a SIGTERM right after the handshake line must still clean up.
    let shutdown = Shutdown::default();
    watch_signals(shutdown.clone(), true);
    let socket = SocketDir::create().map_err(ServeError::Socket)?;
    let listener = socket.bind().map_err(ServeError::Socket)?;
    let reattach = serde_json::json!({
        PROVIDER_ADDRESS: {
            "Protocol": "grpc",
            "ProtocolVersion": handshake::PROTOCOL_VERSION,
            "Pid": std::process::id(),
            "Test": true,
            "Addr": {"Network": "unix", "String": socket.socket_path().to_string_lossy()},
        }
    });
    {
        let mut out = std::io::stdout().lock();
        writeln!(
            out,
            "Provider started in debug mode. To attach Terraform, set this in the shell \
             where you run Terraform:\n\n\tTF_REATTACH_PROVIDERS='{reattach}'\n\n\
             The provider keeps serving (and keeps its configuration between commands) \
             until you press Ctrl-C here."
        )
        .map_err(ServeError::Stdout)?;
        out.flush().map_err(ServeError::Stdout)?;
    }
    let result = run_server(provider, listener, None, shutdown).await;
    drop(socket);
    result
}

/// SIGTERM stops the server. SIGINT stops it only in debug mode: as a plugin, Ctrl-C
/// reaches the whole process group and Terraform follows it with StopProvider; dying here
/// would lose the state of a running apply.
fn watch_signals(shutdown: Shutdown, debug: bool) {
    use tokio::signal::unix::{SignalKind, signal};
    // Registering a handler replaces the default action (terminate) for the process.
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        tracing::warn!("could not install signal handlers");
        return;
    };
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = term.recv() => {
                    tracing::info!("SIGTERM received: shutting down");
                    shutdown.begin(SIGNAL_SHUTDOWN_GRACE);
                    return;
                }
                _ = int.recv() => {
                    if debug {
                        shutdown.begin(SIGNAL_SHUTDOWN_GRACE);
                        return;
                    }
                    tracing::debug!("SIGINT ignored: Terraform will call StopProvider");
                }
                () = shutdown.token.cancelled() => return,
            }
        }
    });
}

async fn run_server(
    provider: Arc<dyn Provider>,
    listener: UnixListener,
    tls: Option<AutoMtls>,
    shutdown: Shutdown,
) -> Result<(), ServeError> {
    let server = Arc::new(ProviderServer::new(provider));
    let provider_svc = ProviderService::new(GrpcProvider::new(server, shutdown.in_flight.clone()))
        .max_decoding_message_size(MAX_MESSAGE_BYTES)
        .max_encoding_message_size(MAX_MESSAGE_BYTES);
    let controller = goplugin::grpc_controller_server::GrpcControllerServer::new(Controller {
        shutdown: shutdown.clone(),
    });
    let stdio = goplugin::grpc_stdio_server::GrpcStdioServer::new(Stdio {
        shutdown: shutdown.token.clone(),
    });
    let (health, health_svc) = tonic_health::server::health_reporter();
    health
        .set_service_status("plugin", tonic_health::ServingStatus::Serving)
        .await;

    let (tx, rx) = mpsc::channel::<std::io::Result<Conn>>(16);
    tokio::spawn(accept_loop(
        listener,
        tls.map(|t| t.config),
        tx,
        shutdown.token.clone(),
    ));
    let incoming = tokio_stream::wrappers::ReceiverStream::new(rx);

    tracing::info!("plugin server started");
    let serving = tonic::transport::Server::builder()
        .add_service(provider_svc)
        .add_service(controller)
        .add_service(stdio)
        .add_service(health_svc)
        .serve_with_incoming_shutdown(incoming, shutdown.token.clone().cancelled_owned());
    tokio::select! {
        r = serving => r?,
        () = shutdown.deadline() => tracing::debug!("grace period over: closing connections"),
    }
    tracing::info!("plugin server stopped");
    Ok(())
}

/// Accepts connections; with TLS, each handshake runs in its own task so a slow or
/// rejected client (wrong or missing certificate) never blocks the others.
async fn accept_loop(
    listener: UnixListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    tx: mpsc::Sender<std::io::Result<Conn>>,
    shutdown: CancellationToken,
) {
    let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
    loop {
        let stream = tokio::select! {
            () = shutdown.cancelled() => return,
            r = listener.accept() => match r {
                Ok((s, _)) => s,
                Err(e) => {
                    tracing::warn!(error = %e, "accepting a connection failed");
                    continue;
                }
            },
        };
        match &acceptor {
            None => {
                if tx.send(Ok(Conn::Plain(stream))).await.is_err() {
                    return;
                }
            }
            Some(acceptor) => {
                let acceptor = acceptor.clone();
                let tx = tx.clone();
                tokio::spawn(async move {
                    match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await
                    {
                        Ok(Ok(s)) => {
                            let _ = tx.send(Ok(Conn::Tls(Box::new(s)))).await;
                        }
                        Ok(Err(e)) => {
                            tracing::warn!(error = %e, "TLS handshake refused");
                        }
                        Err(_) => tracing::warn!("TLS handshake timed out"),
                    }
                });
            }
        }
    }
}

/// One accepted connection, plain (debug mode, TF_DISABLE_PLUGIN_TLS) or TLS.
enum Conn {
    Plain(UnixStream),
    Tls(Box<tokio_rustls::server::TlsStream<UnixStream>>),
}

impl Connected for Conn {
    type ConnectInfo = ();
    fn connect_info(&self) -> Self::ConnectInfo {}
}

impl AsyncRead for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_flush(cx),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
        }
    }
    fn is_write_vectored(&self) -> bool {
        match self {
            Conn::Plain(s) => s.is_write_vectored(),
            Conn::Tls(s) => s.is_write_vectored(),
        }
    }
}

/// `plugin.GRPCController`: Terraform's way to end the plugin process.
struct Controller {
    shutdown: Shutdown,
}

#[tonic::async_trait]
impl goplugin::grpc_controller_server::GrpcController for Controller {
    async fn shutdown(
        &self,
        _req: Request<goplugin::Empty>,
    ) -> Result<Response<goplugin::Empty>, Status> {
        tracing::info!("shutdown requested by Terraform");
        // This response still goes out: the server stops after a short grace period.
        self.shutdown.begin(CONTROLLER_SHUTDOWN_GRACE);
        Ok(Response::new(goplugin::Empty {}))
    }
}

/// `plugin.GRPCStdio`: this provider never writes to stdout/stderr through it (logs go to
/// stderr directly), so the stream stays open and silent until shutdown.
struct Stdio {
    shutdown: CancellationToken,
}

type StdioStream =
    Pin<Box<dyn futures::Stream<Item = Result<goplugin::StdioData, Status>> + Send + 'static>>;

#[tonic::async_trait]
impl goplugin::grpc_stdio_server::GrpcStdio for Stdio {
    type StreamStdioStream = StdioStream;

    async fn stream_stdio(
        &self,
        _req: Request<()>,
    ) -> Result<Response<Self::StreamStdioStream>, Status> {
        let shutdown = self.shutdown.clone();
        // Ends at shutdown so graceful shutdown does not wait on it forever.
        let stream = futures::stream::once(async move { shutdown.cancelled_owned().await })
            .filter_map(|()| async { None });
        Ok(Response::new(Box::pin(stream)))
    }
}

/// An owner-only temporary directory holding the plugin socket, removed on drop.
struct SocketDir {
    dir: PathBuf,
}

impl SocketDir {
    /// Creates `<tmp>/tfrdsenc-<pid>-<random>` with mode 0700. The path stays short
    /// because unix socket paths are limited to ~100 bytes.
    fn create() -> std::io::Result<Self> {
        let base = std::env::temp_dir();
        let mut last = None;
        for _ in 0..8 {
            let dir = base.join(format!(
                "tfrdsenc-{}-{:08x}",
                std::process::id(),
                fastrand::u32(..)
            ));
            match std::fs::DirBuilder::new().mode(0o700).create(&dir) {
                Ok(()) => {
                    // The umask cannot widen 0700, but set it explicitly anyway.
                    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))?;
                    return Ok(Self { dir });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| std::io::Error::other("no free socket directory name")))
    }

    fn socket_path(&self) -> PathBuf {
        self.dir.join("plugin.sock")
    }

    /// Binds the socket and makes it owner-only (0600).
    fn bind(&self) -> std::io::Result<UnixListener> {
        let path = self.socket_path();
        let listener = UnixListener::bind(&path)?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
        Ok(listener)
    }

    #[cfg(test)]
    fn path(&self) -> &std::path::Path {
        &self.dir
    }
}

impl Drop for SocketDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(self.socket_path());
        let _ = std::fs::remove_dir(&self.dir);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    #[tokio::test]
    async fn the_socket_directory_is_owner_only_and_removed_on_drop() {
        let dir = SocketDir::create().expect("dir");
        let _l = dir.bind().expect("bind");
        let d = dir.path().to_owned();
        assert_eq!(std::fs::metadata(&d).expect("meta").mode() & 0o777, 0o700);
        assert_eq!(
            std::fs::metadata(dir.socket_path()).expect("meta").mode() & 0o777,
            0o600
        );
        assert!(dir.socket_path().as_os_str().len() < 100);
        drop(dir);
        assert!(!d.exists());
    }
}
