//! The stand-in's HTTPS front: a throwaway CA made once per process (rcgen, ring), the server certificates it signs (for the stand-in's names, expired, for other names) or a CA nobody trusts signs, the CAs as PEM for a client to trust, and serving a connection over rustls (handshake failures counted, not recorded as requests).

use std::io;
use std::net::{Shutdown, TcpStream};
use std::sync::{Arc, OnceLock};

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType};
use rcgen::{ExtendedKeyUsagePurpose, KeyUsagePurpose, date_time_ymd};
use rcgen::{IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ServerConfig, ServerConnection, StreamOwned};

use super::Shared;
use super::http::{self, Transport};

/// The names `TlsIdentity::valid` is good for: the stand-in's own (`localhost`, its loopback
/// addresses) and the demo region's SLS and STS hosts (`DEMO_REGION`), which tests reach through a
/// proxy that routes them to the stand-in, never through DNS.
pub const TLS_NAMES: &[&str] = &[
    "localhost",
    "127.0.0.1",
    "::1",
    "cn-hangzhou.log.aliyuncs.com",
    "*.cn-hangzhou.log.aliyuncs.com",
    "sts.aliyuncs.com",
    "sts.cn-hangzhou.aliyuncs.com",
    "sts-vpc.cn-hangzhou.aliyuncs.com",
];

/// A server certificate chain and its key, for `Builder::tls`.
#[derive(Clone)]
pub struct TlsIdentity {
    chain: Vec<CertificateDer<'static>>,
    /// PKCS#8.
    key: Vec<u8>,
}

impl TlsIdentity {
    /// Good for `TLS_NAMES`, signed by the CA of `ca_pem`.
    pub fn valid() -> TlsIdentity {
        TlsIdentity::valid_for(TLS_NAMES)
    }

    /// Good for these names (DNS names, `*.` wildcards, IP addresses), signed by the CA of
    /// `ca_pem`: e.g. names that are not `TLS_NAMES`, for a certificate that does not fit the host.
    pub fn valid_for(names: &[&str]) -> TlsIdentity {
        let pki = pki();
        TlsIdentity::issue(pki.ca.params(names), &pki.ca)
    }

    /// Good for `TLS_NAMES`, signed by the CA of `ca_pem`, but only in 2020.
    pub fn expired() -> TlsIdentity {
        let pki = pki();
        let mut params = pki.ca.params(TLS_NAMES);
        params.not_before = date_time_ymd(2020, 1, 1);
        params.not_after = date_time_ymd(2021, 1, 1);
        TlsIdentity::issue(params, &pki.ca)
    }

    /// Good for `TLS_NAMES`, signed by a CA no client trusts (that of `unknown_ca_pem`), as a
    /// TLS-inspecting proxy's certificates are until its CA is added.
    pub fn unknown_issuer() -> TlsIdentity {
        let pki = pki();
        TlsIdentity::issue(pki.unknown_ca.params(TLS_NAMES), &pki.unknown_ca)
    }

    fn issue(params: CertificateParams, ca: &Ca) -> TlsIdentity {
        let key = &pki().server_key;
        let cert = params
            .signed_by(key, &ca.issuer)
            .expect("sign a certificate");
        TlsIdentity {
            chain: vec![cert.der().clone()],
            key: key.serialize_der(),
        }
    }

    /// The server side of the TLS the stand-in serves with this identity.
    pub(super) fn server_config(&self) -> Arc<ServerConfig> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key.clone()));
        let config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("ring offers TLS 1.2 and 1.3")
            .with_no_client_auth()
            .with_single_cert(self.chain.clone(), key)
            .expect("the key fits the certificate");
        Arc::new(config)
    }
}

/// The CA that signs `TlsIdentity::valid`, `valid_for` and `expired`, as PEM: what a client adds
/// to its trust (`--ca-file`, `SSL_CERT_FILE`, a profile's `ca_file`). The same for the whole
/// test process.
pub fn ca_pem() -> &'static str {
    &pki().ca.pem
}

/// The CA that signs `TlsIdentity::unknown_issuer`, as PEM: a well-formed CA file that trusts
/// nothing the stand-in serves unless it serves that identity.
pub fn unknown_ca_pem() -> &'static str {
    &pki().unknown_ca.pem
}

/// A certificate authority: the issuer and its certificate.
struct Ca {
    issuer: CertifiedIssuer<'static, KeyPair>,
    pem: String,
}

impl Ca {
    fn new(name: &str) -> Ca {
        let mut params = CertificateParams::default();
        params.distinguished_name = named(name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate().expect("an ECDSA P-256 key");
        let issuer = CertifiedIssuer::self_signed(params, key).expect("a self-signed CA");
        let pem = issuer.pem();
        Ca { issuer, pem }
    }

    /// A server certificate's parameters for `names`, named after the first.
    fn params(&self, names: &[&str]) -> CertificateParams {
        let sans: Vec<String> = names.iter().map(|name| name.to_string()).collect();
        let mut params = CertificateParams::new(sans).expect("names a certificate can hold");
        params.distinguished_name = named(names.first().copied().unwrap_or("standin"));
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        params
    }
}

/// A subject with this common name and nothing else.
fn named(common_name: &str) -> DistinguishedName {
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, common_name);
    name
}

/// The process's CAs and the one key every server certificate certifies; made on first use, as
/// key generation is the costly part.
struct Pki {
    ca: Ca,
    unknown_ca: Ca,
    server_key: KeyPair,
}

fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| Pki {
        ca: Ca::new("sls-retry stand-in test CA"),
        unknown_ca: Ca::new("sls-retry stand-in unknown CA"),
        server_key: KeyPair::generate().expect("an ECDSA P-256 key"),
    })
}

type TlsStream = StreamOwned<ServerConnection, TcpStream>;

impl Transport for TlsStream {
    const TLS: bool = true;

    fn close(&mut self) {
        self.conn.send_close_notify();
        while self.conn.wants_write() && self.conn.write_tls(&mut self.sock).is_ok() {}
        let _ = self.sock.shutdown(Shutdown::Both);
    }
}

/// Serves one connection over TLS: the handshake, then HTTP as over plain TCP. A handshake that
/// fails (a client that refuses the certificate aborts it) is counted, with rustls's reason, in
/// `StandIn::tls_failures`; no request is recorded.
pub(super) fn serve(tcp: TcpStream, config: &Arc<ServerConfig>, shared: &Shared) {
    let Ok(conn) = ServerConnection::new(Arc::clone(config)) else {
        let _ = tcp.shutdown(Shutdown::Both);
        return;
    };
    let mut stream = StreamOwned::new(conn, tcp);
    shared.log().handshaking += 1;
    let done = handshake(&mut stream);
    {
        let mut log = shared.log();
        log.handshaking -= 1;
        if let Err(e) = &done {
            log.tls_failures.push(e.to_string());
        }
    }
    shared.handshake_ended.notify_all();
    match done {
        Ok(()) => http::serve(stream, shared),
        Err(_) => stream.close(),
    }
}

fn handshake(stream: &mut TlsStream) -> io::Result<()> {
    while stream.conn.is_handshaking() {
        stream.conn.complete_io(&mut stream.sock)?;
    }
    Ok(())
}
