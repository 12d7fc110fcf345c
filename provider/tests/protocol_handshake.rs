//! The built plugin binary, started the way Terraform starts it: magic cookie, protocol
//! versions and a P-521 CA-flagged client certificate in `PLUGIN_CLIENT_CERT`. A tiny
//! hand-rolled gRPC client then talks to it over the unix socket with mutual TLS.

#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use hyper_util::rt::TokioIo;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use tonic::codegen::http::uri::PathAndQuery;
use tonic::transport::{Channel, Endpoint};

use rdsenc::framework::{DataSource, Value};

const COOKIE: &str = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";

// ---- just enough of tfplugin6 / go-plugin, by hand, to call the server ----

#[derive(Clone, PartialEq, prost::Message)]
struct Empty {}

#[derive(Clone, PartialEq, prost::Message)]
struct SchemaMsg {
    #[prost(int64, tag = "1")]
    version: i64,
}

#[derive(Clone, PartialEq, prost::Message)]
struct Capabilities {
    #[prost(bool, tag = "1")]
    plan_destroy: bool,
    #[prost(bool, tag = "2")]
    get_provider_schema_optional: bool,
}

#[derive(Clone, PartialEq, prost::Message)]
struct GetProviderSchemaResponse {
    #[prost(message, optional, tag = "1")]
    provider: Option<SchemaMsg>,
    #[prost(map = "string, message", tag = "3")]
    data_source_schemas: HashMap<String, SchemaMsg>,
    #[prost(message, repeated, tag = "4")]
    diagnostics: Vec<DiagnosticMsg>,
    #[prost(message, optional, tag = "6")]
    server_capabilities: Option<Capabilities>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct DynamicValue {
    #[prost(bytes = "vec", tag = "1")]
    msgpack: Vec<u8>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct DiagnosticMsg {
    #[prost(int32, tag = "1")]
    severity: i32,
    #[prost(string, tag = "2")]
    summary: String,
}

#[derive(Clone, PartialEq, prost::Message)]
struct ReadDataSourceRequest {
    #[prost(string, tag = "1")]
    type_name: String,
    #[prost(message, optional, tag = "2")]
    config: Option<DynamicValue>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct ReadDataSourceResponse {
    #[prost(message, optional, tag = "1")]
    state: Option<DynamicValue>,
    #[prost(message, repeated, tag = "2")]
    diagnostics: Vec<DiagnosticMsg>,
}

async fn unary<Req, Resp>(ch: Channel, path: &'static str, req: Req) -> Result<Resp, String>
where
    Req: prost::Message + Send + Sync + 'static,
    Resp: prost::Message + Default + Send + Sync + 'static,
{
    let mut grpc = tonic::client::Grpc::new(ch);
    grpc.ready().await.map_err(|e| e.to_string())?;
    let codec = tonic_prost::ProstCodec::<Req, Resp>::default();
    grpc.unary(
        tonic::Request::new(req),
        PathAndQuery::from_static(path),
        codec,
    )
    .await
    .map(tonic::Response::into_inner)
    .map_err(|e| e.to_string())
}

// ---- certificates ----

/// A certificate like Terraform's: P-521, self-signed, flagged as a CA, for localhost.
fn terraform_like_client_cert() -> (CertificateDer<'static>, PrivateKeyDer<'static>, String) {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P521_SHA512).unwrap();
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(rcgen::DnType::OrganizationName, "HashiCorp");
    params.key_usages = vec![
        rcgen::KeyUsagePurpose::DigitalSignature,
        rcgen::KeyUsagePurpose::KeyEncipherment,
        rcgen::KeyUsagePurpose::KeyCertSign,
    ];
    params.extended_key_usages = vec![
        rcgen::ExtendedKeyUsagePurpose::ClientAuth,
        rcgen::ExtendedKeyUsagePurpose::ServerAuth,
    ];
    let cert = params.self_signed(&key).unwrap();
    let pem = cert.pem();
    (
        cert.der().clone(),
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        pem,
    )
}

/// Trusts exactly the server certificate from the handshake line, as go-plugin does.
#[derive(Debug)]
struct PinnedServer {
    der: Vec<u8>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for PinnedServer {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.der.as_slice() {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General(
                "unexpected server certificate".into(),
            ))
        }
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

fn client_tls(
    server_der: &[u8],
    client: Option<(CertificateDer<'static>, PrivateKeyDer<'static>)>,
) -> rustls::ClientConfig {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let b = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(PinnedServer {
            der: server_der.to_vec(),
            provider,
        }));
    let mut cfg = match client {
        Some((cert, key)) => b.with_client_auth_cert(vec![cert], key).unwrap(),
        None => b.with_no_client_auth(),
    };
    cfg.alpn_protocols = vec![b"h2".to_vec()];
    cfg
}

async fn connect(socket: PathBuf, tls: rustls::ClientConfig) -> Result<Channel, String> {
    let connector = tokio_rustls::TlsConnector::from(Arc::new(tls));
    Endpoint::from_static("http://localhost")
        .connect_with_connector(tower::service_fn(move |_| {
            let socket = socket.clone();
            let connector = connector.clone();
            async move {
                let stream = tokio::net::UnixStream::connect(socket).await?;
                let name = ServerName::try_from("localhost").map_err(std::io::Error::other)?;
                let tls = connector.connect(name, stream).await?;
                Ok::<_, std::io::Error>(TokioIo::new(tls))
            }
        }))
        .await
        .map_err(|e| e.to_string())
}

// ---- the plugin process ----

struct Plugin {
    child: Child,
    socket: PathBuf,
    server_der: Vec<u8>,
    line: String,
}

impl Drop for Plugin {
    /// SIGTERM first, so the plugin removes its socket directory; SIGKILL if it hangs.
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        if wait_exit(&mut self.child, Duration::from_secs(5)).is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn start(client_pem: &str) -> Plugin {
    let mut child = Command::new(env!("CARGO_BIN_EXE_terraform-provider-rdsenc"))
        .env("TF_PLUGIN_MAGIC_COOKIE", COOKIE)
        .env("PLUGIN_PROTOCOL_VERSIONS", "5,6")
        .env("PLUGIN_CLIENT_CERT", client_pem)
        .env_remove("TF_DISABLE_PLUGIN_TLS")
        .env_remove("TF_LOG")
        .env_remove("TF_LOG_PROVIDER")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let line = line.trim_end_matches('\n').to_owned();
    let parts: Vec<&str> = line.split('|').collect();
    assert_eq!(parts.len(), 6, "handshake line {line:?}");
    let socket = PathBuf::from(parts[3]);
    let server_der = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(parts[5])
        .unwrap_or_else(|e| panic!("certificate is not unpadded standard base64: {e}"));
    Plugin {
        child,
        socket,
        server_der,
        line,
    }
}

fn wait_exit(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

// ---- tests ----

#[tokio::test]
async fn the_handshake_line_is_well_formed_and_the_socket_is_owner_only() {
    let (_, _, pem) = terraform_like_client_cert();
    let p = start(&pem);
    let parts: Vec<&str> = p.line.split('|').collect();
    assert_eq!(&parts[..3], &["1", "6", "unix"]);
    assert_eq!(parts[4], "grpc");
    assert!(!parts[5].contains('='), "padding in {:?}", parts[5]);
    assert!(!p.server_der.is_empty());
    let sock = std::fs::metadata(&p.socket).unwrap();
    assert_eq!(sock.mode() & 0o777, 0o600);
    let dir = std::fs::metadata(p.socket.parent().unwrap()).unwrap();
    assert_eq!(dir.mode() & 0o777, 0o700);
    let socket = p.socket.clone();
    drop(p); // SIGTERM
    assert!(
        !socket.parent().unwrap().exists(),
        "socket directory left behind"
    );
}

#[tokio::test]
async fn a_client_presenting_terraforms_certificate_gets_the_schema_and_reads_data() {
    let (cert, key, pem) = terraform_like_client_cert();
    let p = start(&pem);
    let ch = connect(
        p.socket.clone(),
        client_tls(&p.server_der, Some((cert, key))),
    )
    .await
    .unwrap();
    let schema: GetProviderSchemaResponse = unary(
        ch.clone(),
        "/tfplugin6.Provider/GetProviderSchema",
        Empty {},
    )
    .await
    .unwrap();
    assert!(schema.provider.is_some());
    assert!(
        schema
            .data_source_schemas
            .contains_key("rdsenc_db_instance")
    );
    assert!(schema.diagnostics.is_empty());
    let caps = schema.server_capabilities.unwrap();
    assert!(!caps.plan_destroy && !caps.get_provider_schema_optional);

    // A real data source round trip: the config is decoded against its schema and dispatched;
    // before ConfigureProvider the data source answers with a diagnostic, not a transport error.
    let schema = rdsenc::data_sources::db_instance::DbInstanceDataSource.schema();
    let ty = schema.value_type();
    let mut config = schema.block.empty_value();
    config.set("db_instance_identifier", Value::string("orders"));
    let bytes = rdsenc::protocol::msgpack::encode(&config, &ty).unwrap();
    let read: ReadDataSourceResponse = unary(
        ch.clone(),
        "/tfplugin6.Provider/ReadDataSource",
        ReadDataSourceRequest {
            type_name: "rdsenc_db_instance".into(),
            config: Some(DynamicValue { msgpack: bytes }),
        },
    )
    .await
    .unwrap();
    assert_eq!(read.diagnostics.len(), 1, "{:?}", read.diagnostics);
    assert_eq!(read.diagnostics[0].severity, 1);
    assert_eq!(read.diagnostics[0].summary, "Provider Not Configured");

    // Health service "plugin" is SERVING (status 1).
    #[derive(Clone, PartialEq, prost::Message)]
    struct HealthReq {
        #[prost(string, tag = "1")]
        service: String,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    struct HealthResp {
        #[prost(int32, tag = "1")]
        status: i32,
    }
    let h: HealthResp = unary(
        ch,
        "/grpc.health.v1.Health/Check",
        HealthReq {
            service: "plugin".into(),
        },
    )
    .await
    .unwrap();
    assert_eq!(h.status, 1);
}

async fn schema_call(p: &Plugin, tls: rustls::ClientConfig) -> Result<(), String> {
    let ch = connect(p.socket.clone(), tls).await?;
    unary::<Empty, GetProviderSchemaResponse>(ch, "/tfplugin6.Provider/GetProviderSchema", Empty {})
        .await
        .map(|_| ())
}

#[tokio::test]
async fn a_client_presenting_a_different_certificate_is_refused() {
    let (_, _, pem) = terraform_like_client_cert();
    let p = start(&pem);
    let (other_cert, other_key, _) = terraform_like_client_cert();
    let r = schema_call(&p, client_tls(&p.server_der, Some((other_cert, other_key)))).await;
    assert!(r.is_err(), "a foreign certificate was accepted");
}

#[tokio::test]
async fn a_client_without_a_certificate_is_refused() {
    let (_, _, pem) = terraform_like_client_cert();
    let p = start(&pem);
    let r = schema_call(&p, client_tls(&p.server_der, None)).await;
    assert!(r.is_err(), "a client without certificate was accepted");
}

#[tokio::test]
async fn grpc_controller_shutdown_ends_the_process_and_removes_the_socket() {
    let (cert, key, pem) = terraform_like_client_cert();
    let mut p = start(&pem);
    let ch = connect(
        p.socket.clone(),
        client_tls(&p.server_der, Some((cert, key))),
    )
    .await
    .unwrap();
    // GRPCStdio: the stream opens and stays silent.
    #[derive(Clone, PartialEq, prost::Message)]
    struct StdioData {
        #[prost(int32, tag = "1")]
        channel: i32,
        #[prost(bytes = "vec", tag = "2")]
        data: Vec<u8>,
    }
    let mut grpc = tonic::client::Grpc::new(ch.clone());
    grpc.ready().await.unwrap();
    let mut stdio = grpc
        .server_streaming(
            tonic::Request::new(()),
            PathAndQuery::from_static("/plugin.GRPCStdio/StreamStdio"),
            tonic_prost::ProstCodec::<(), StdioData>::default(),
        )
        .await
        .unwrap()
        .into_inner();
    let quiet = tokio::time::timeout(Duration::from_millis(200), stdio.message()).await;
    assert!(quiet.is_err(), "GRPCStdio sent something: {quiet:?}");

    // Terraform may keep its connection open after Shutdown; the process must end anyway.
    let kept_open = ch.clone();
    let _: Empty = unary(ch, "/plugin.GRPCController/Shutdown", Empty {})
        .await
        .unwrap();
    let status = wait_exit(&mut p.child, Duration::from_secs(5)).expect("still running");
    drop(kept_open);
    assert!(status.success(), "{status:?}");
    assert!(!p.socket.exists());
    assert!(!p.socket.parent().unwrap().exists());
}

#[test]
fn without_the_magic_cookie_the_binary_explains_itself_and_exits_1() {
    let out = Command::new(env!("CARGO_BIN_EXE_terraform-provider-rdsenc"))
        .env_remove("TF_PLUGIN_MAGIC_COOKIE")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "stdout must stay empty");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("This binary is a plugin"), "{err}");
}

#[test]
fn a_terraform_offering_only_protocol_5_is_told_why_and_the_binary_exits_1() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_terraform-provider-rdsenc"))
        .env("TF_PLUGIN_MAGIC_COOKIE", COOKIE)
        .env("PLUGIN_PROTOCOL_VERSIONS", "5")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status = wait_exit(&mut child, Duration::from_secs(10)).expect("exits");
    assert_eq!(status.code(), Some(1));
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(err.contains("only speaks protocol 6"), "{err}");
}

#[tokio::test]
async fn debug_mode_prints_reattach_instructions_serves_without_tls_and_stops_on_ctrl_c() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_terraform-provider-rdsenc"))
        .arg("--debug")
        .env_remove("TF_PLUGIN_MAGIC_COOKIE")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut reattach = None;
    for _ in 0..10 {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap() == 0 {
            break;
        }
        if let Some(rest) = line.trim().strip_prefix("TF_REATTACH_PROVIDERS='") {
            reattach = Some(rest.trim_end_matches('\'').to_owned());
            break;
        }
    }
    let reattach: serde_json::Value =
        serde_json::from_str(&reattach.expect("reattach line")).unwrap();
    let entry = &reattach["registry.terraform.io/rdsenc/rdsenc"];
    assert_eq!(entry["Protocol"], "grpc");
    assert_eq!(entry["ProtocolVersion"], 6);
    assert_eq!(entry["Test"], true);
    assert_eq!(entry["Pid"], child.id());
    assert_eq!(entry["Addr"]["Network"], "unix");
    let socket = PathBuf::from(entry["Addr"]["String"].as_str().unwrap());

    let ch = Endpoint::from_static("http://localhost")
        .connect_with_connector(tower::service_fn(move |_| {
            let socket = socket.clone();
            async move {
                let s = tokio::net::UnixStream::connect(socket).await?;
                Ok::<_, std::io::Error>(TokioIo::new(s))
            }
        }))
        .await
        .unwrap();
    let schema: GetProviderSchemaResponse =
        unary(ch, "/tfplugin6.Provider/GetProviderSchema", Empty {})
            .await
            .unwrap();
    assert!(
        schema
            .data_source_schemas
            .contains_key("rdsenc_db_instance")
    );

    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let status = wait_exit(&mut child, Duration::from_secs(5));
    if status.is_none() {
        let _ = child.kill();
    }
    assert!(status.is_some_and(|s| s.success()), "{status:?}");
}

#[tokio::test]
async fn tf_disable_plugin_tls_serves_plain_grpc_with_an_empty_certificate_field() {
    let (_, _, pem) = terraform_like_client_cert();
    let mut child = Command::new(env!("CARGO_BIN_EXE_terraform-provider-rdsenc"))
        .env("TF_PLUGIN_MAGIC_COOKIE", COOKIE)
        .env("PLUGIN_PROTOCOL_VERSIONS", "6")
        .env("PLUGIN_CLIENT_CERT", pem)
        .env("TF_DISABLE_PLUGIN_TLS", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let parts: Vec<&str> = line.trim_end().split('|').collect();
    assert_eq!(parts.len(), 6, "{line:?}");
    assert_eq!(parts[5], "", "no certificate without TLS");
    let socket = PathBuf::from(parts[3]);
    let ch = Endpoint::from_static("http://localhost")
        .connect_with_connector(tower::service_fn(move |_| {
            let socket = socket.clone();
            async move {
                let s = tokio::net::UnixStream::connect(socket).await?;
                Ok::<_, std::io::Error>(TokioIo::new(s))
            }
        }))
        .await
        .unwrap();
    let r: Result<GetProviderSchemaResponse, String> =
        unary(ch, "/tfplugin6.Provider/GetProviderSchema", Empty {}).await;
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let status = wait_exit(&mut child, Duration::from_secs(5));
    if status.is_none() {
        let _ = child.kill();
    }
    assert!(
        r.unwrap()
            .data_source_schemas
            .contains_key("rdsenc_db_instance")
    );
    assert!(status.is_some_and(|s| s.success()), "{status:?}");
}
