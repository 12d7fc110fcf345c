//! The go-plugin handshake as Terraform runs it: the magic cookie, protocol version
//! negotiation, AutoMTLS (a fresh server certificate; the client must present exactly the
//! certificate Terraform passed in `PLUGIN_CLIENT_CERT`) and the one stdout line.

use std::sync::Arc;

use base64::Engine as _;
use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, ServerConfig, SignatureScheme};

/// The environment variable carrying the magic cookie.
pub(crate) const MAGIC_COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
/// Terraform's magic cookie value (the same for every provider).
pub(crate) const MAGIC_COOKIE_VALUE: &str =
    "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";
/// The only plugin protocol version this provider speaks.
pub(crate) const PROTOCOL_VERSION: u32 = 6;
/// go-plugin's own handshake version (first field of the stdout line).
const CORE_PROTOCOL_VERSION: u32 = 1;

/// Why the plugin cannot start.
#[derive(Debug, thiserror::Error)]
pub(crate) enum HandshakeError {
    /// Started by something other than Terraform.
    #[error(
        "This binary is a plugin. These are not meant to be executed directly.\n\
         Please execute the program that consumes these plugins, which will\n\
         load any plugins automatically.\n\
         (terraform-provider-rdsenc is a Terraform provider: run `terraform init` in a\n\
         configuration that uses it, or start it with --debug to attach Terraform to it.)"
    )]
    NotStartedByTerraform,
    /// Terraform asked for protocol versions this provider does not speak.
    #[error(
        "Terraform offered plugin protocol versions {offered:?}, but terraform-provider-rdsenc \
         only speaks protocol 6. Use Terraform 1.0 or newer."
    )]
    UnsupportedProtocol {
        /// The `PLUGIN_PROTOCOL_VERSIONS` value.
        offered: String,
    },
    /// `PLUGIN_CLIENT_CERT` is not a PEM certificate.
    #[error("PLUGIN_CLIENT_CERT does not hold a PEM certificate: {0}")]
    BadClientCert(String),
    /// Generating the server certificate or building the TLS configuration failed.
    #[error("setting up TLS for the plugin connection failed: {0}")]
    Tls(String),
}

/// Checks the magic cookie. Anything else than Terraform's exact value means a person ran
/// the binary by hand.
///
/// # Errors
/// [`HandshakeError::NotStartedByTerraform`].
pub(crate) fn check_cookie(value: Option<&str>) -> Result<(), HandshakeError> {
    match value {
        Some(v) if v == MAGIC_COOKIE_VALUE => Ok(()),
        _ => Err(HandshakeError::NotStartedByTerraform),
    }
}

/// Checks that `PLUGIN_PROTOCOL_VERSIONS` (an unordered comma list such as `5,6`) offers
/// protocol 6. An absent variable means an old client with a single default version, which
/// go-plugin then takes to be the server's own.
///
/// # Errors
/// [`HandshakeError::UnsupportedProtocol`].
pub(crate) fn negotiate_version(offered: Option<&str>) -> Result<u32, HandshakeError> {
    let Some(list) = offered else {
        return Ok(PROTOCOL_VERSION);
    };
    let ok = list
        .split(',')
        .any(|v| v.trim().parse::<u32>().ok() == Some(PROTOCOL_VERSION));
    if ok {
        Ok(PROTOCOL_VERSION)
    } else {
        Err(HandshakeError::UnsupportedProtocol {
            offered: list.to_owned(),
        })
    }
}

/// The line go-plugin reads from stdout: `1|6|unix|<path>|grpc|<cert>`, where `<cert>` is
/// the server certificate's DER in standard base64 without padding (padding makes Go's
/// decoder fail with "illegal base64 data"), empty without TLS.
pub(crate) fn handshake_line(network: &str, addr: &str, server_cert_der: Option<&[u8]>) -> String {
    let cert = server_cert_der
        .map(|d| base64::engine::general_purpose::STANDARD_NO_PAD.encode(d))
        .unwrap_or_default();
    format!("{CORE_PROTOCOL_VERSION}|{PROTOCOL_VERSION}|{network}|{addr}|grpc|{cert}")
}

/// The TLS side of AutoMTLS: the server configuration and the server certificate's DER
/// (for the handshake line).
pub(crate) struct AutoMtls {
    /// rustls configuration with ALPN h2 and the exact-certificate client verifier.
    pub(crate) config: Arc<ServerConfig>,
    /// The freshly generated server certificate.
    pub(crate) server_cert_der: Vec<u8>,
}

/// Builds AutoMTLS from Terraform's client certificate (PEM): a fresh self-signed P-256
/// server certificate for `localhost`, and a verifier that requires the client to present
/// exactly that certificate.
///
/// # Errors
/// [`HandshakeError::BadClientCert`] or [`HandshakeError::Tls`].
pub(crate) fn auto_mtls(client_cert_pem: &str) -> Result<AutoMtls, HandshakeError> {
    let client_cert = CertificateDer::from_pem_slice(client_cert_pem.as_bytes())
        .map_err(|e| HandshakeError::BadClientCert(e.to_string()))?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());

    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
        .map_err(|e| HandshakeError::Tls(e.to_string()))?;
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
        .map_err(|e| HandshakeError::Tls(e.to_string()))?;
    params
        .distinguished_name
        .push(rcgen::DnType::OrganizationName, "HashiCorp");
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "localhost");
    params.key_usages = vec![
        rcgen::KeyUsagePurpose::DigitalSignature,
        rcgen::KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    let cert = params
        .self_signed(&key)
        .map_err(|e| HandshakeError::Tls(e.to_string()))?;
    let server_cert_der = cert.der().to_vec();
    let key_der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));

    let verifier = Arc::new(ExactClientCert {
        expected: client_cert.into_owned(),
        provider: provider.clone(),
    });
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| HandshakeError::Tls(e.to_string()))?
        .with_client_cert_verifier(verifier)
        .with_single_cert(vec![CertificateDer::from(server_cert_der.clone())], key_der)
        .map_err(|e| HandshakeError::Tls(e.to_string()))?;
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(AutoMtls {
        config: Arc::new(config),
        server_cert_der,
    })
}

/// Accepts exactly one client certificate, byte for byte, and requires it. Terraform's
/// certificate is self-signed, P-521 and flagged as a CA, which rustls' stock verifiers
/// reject (`CaUsedAsEndEntity`); pinning the exact DER is both stricter and correct.
#[derive(Debug)]
struct ExactClientCert {
    expected: CertificateDer<'static>,
    provider: Arc<CryptoProvider>,
}

impl ClientCertVerifier for ExactClientCert {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        true
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.expected.as_ref() {
            Ok(ClientCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::ApplicationVerificationFailure,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_magic_cookie_is_accepted() {
        assert!(check_cookie(Some(MAGIC_COOKIE_VALUE)).is_ok());
        assert!(check_cookie(Some("nope")).is_err());
        let msg = check_cookie(None).expect_err("missing").to_string();
        assert!(msg.starts_with("This binary is a plugin."), "{msg}");
    }

    #[test]
    fn version_six_must_be_offered_in_any_order() {
        assert_eq!(negotiate_version(Some("5,6")).ok(), Some(6));
        assert_eq!(negotiate_version(Some("6")).ok(), Some(6));
        assert_eq!(negotiate_version(Some(" 6 ,5")).ok(), Some(6));
        assert_eq!(negotiate_version(None).ok(), Some(6));
        let e = negotiate_version(Some("4,5"))
            .expect_err("no 6")
            .to_string();
        assert!(e.contains("only speaks protocol 6"), "{e}");
    }

    #[test]
    fn handshake_line_uses_unpadded_standard_base64() {
        let line = handshake_line("unix", "/tmp/p/s", Some(&[0xfb, 0xff]));
        assert_eq!(line, "1|6|unix|/tmp/p/s|grpc|+/8");
        assert_eq!(handshake_line("unix", "/s", None), "1|6|unix|/s|grpc|");
    }

    #[test]
    fn auto_mtls_rejects_text_that_is_not_a_certificate() {
        assert!(matches!(
            auto_mtls("garbage"),
            Err(HandshakeError::BadClientCert(_))
        ));
    }

    #[test]
    fn the_client_verifier_pins_the_exact_certificate() {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P521_SHA512).expect("key");
        let mut params = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).expect("p");
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let cert = params.self_signed(&key).expect("cert");
        let mtls = auto_mtls(&cert.pem()).expect("mtls");
        assert!(!mtls.server_cert_der.is_empty());
        assert_eq!(mtls.config.alpn_protocols, vec![b"h2".to_vec()]);
        let v = ExactClientCert {
            expected: cert.der().clone(),
            provider: Arc::new(rustls::crypto::aws_lc_rs::default_provider()),
        };
        assert!(v.client_auth_mandatory());
        assert!(
            v.verify_client_cert(cert.der(), &[], UnixTime::now())
                .is_ok()
        );
        let other = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).expect("o");
        assert!(
            v.verify_client_cert(other.cert.der(), &[], UnixTime::now())
                .is_err()
        );
    }
}
