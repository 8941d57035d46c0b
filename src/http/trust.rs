//! Which servers are trusted over TLS: the certificates of the operating system's trust store
//! (which follows `SSL_CERT_FILE` / `SSL_CERT_DIR`), plus those of a CA file the user names
//! (`--ca-file`, a profile's `ca_file`). Mozilla's roots stand in only where the system has no
//! store at all (a scratch container). There is no way to turn verification off. Also: telling a
//! certificate error apart from other failures, since it is permanent and needs `--ca-file`.

use std::fs;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use anyhow::{Context, Result, bail};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use crate::diag::Diag;

/// The `SSL_CERT_*` variables: where OpenSSL, and so the OS trust store as read here, looks.
pub const ENV_SSL_CERT: [&str; 2] = ["SSL_CERT_FILE", "SSL_CERT_DIR"];

/// The trusted roots, for every agent of the run that speaks TLS. The CA file is read at once
/// (a mistake in it stops the run before anything is sent); the system's store, whose reading
/// costs milliseconds, only when a first TLS connection needs it.
pub struct Trust {
    ca_file: Vec<CertificateDer<'static>>,
    /// For `-v`: the CA file's part.
    ca_file_summary: Option<String>,
    /// `SSL_CERT_FILE` or `SSL_CERT_DIR`, when set: then the store is what they name, and
    /// finding nothing there is an error rather than a reason to fall back.
    ssl_cert_set: Option<&'static str>,
    loaded: OnceLock<Result<ureq::tls::TlsConfig, String>>,
}

/// A CA file and what named it (`--ca-file`, `ca_file of profile "prod" (…)`).
pub struct CaFile<'a> {
    pub path: &'a Path,
    pub named_by: String,
}

impl Trust {
    /// The system's store (read later) plus `ca_file` (read now).
    pub fn new(ca_file: Option<&CaFile>, ssl_cert_set: Option<&'static str>) -> Result<Trust> {
        let (certs, summary) = match ca_file {
            Some(ca_file) => {
                let certs = read_ca_file(ca_file)?;
                let summary = format!(
                    "{} from {} ({})",
                    certs.len(),
                    ca_file.path.display(),
                    ca_file.named_by
                );
                (certs, Some(summary))
            }
            None => (Vec::new(), None),
        };
        Ok(Trust {
            ca_file: certs,
            ca_file_summary: summary,
            ssl_cert_set,
            loaded: OnceLock::new(),
        })
    }

    /// The TLS settings trusting the system's store and the CA file, the store read the first
    /// time; `diag` says where the roots came from. An error (a `SSL_CERT_*` variable that
    /// names no certificates) comes back each time.
    pub fn tls_config(&self, diag: Diag) -> Result<ureq::tls::TlsConfig, String> {
        self.loaded.get_or_init(|| self.load(diag)).clone()
    }

    fn load(&self, diag: Diag) -> Result<ureq::tls::TlsConfig, String> {
        let native = rustls_native_certs::load_native_certs();
        let mut roots: Vec<CertificateDer<'static>> = native.certs;
        let mut summary = if roots.is_empty() {
            if let Some(var) = self.ssl_cert_set {
                let why = (native.errors.first())
                    .map_or("no certificates in it".to_string(), ToString::to_string);
                return Err(format!(
                    "{var} names no usable CA certificates ({why}); point it at a PEM bundle, \
                     or unset it to use the system's trust store"
                ));
            }
            roots = webpki_root_certs::TLS_SERVER_ROOT_CERTS.to_vec();
            format!(
                "Mozilla's {} roots (the system has no trust store)",
                roots.len()
            )
        } else {
            let from = self.ssl_cert_set.unwrap_or("the system's trust store");
            format!("{} certificates from {from}", roots.len())
        };
        if let Some(ca_file) = &self.ca_file_summary {
            summary.push_str(&format!(", {ca_file}"));
        }
        diag.info(|| format!("TLS trust: {summary}"));
        roots.extend(self.ca_file.iter().cloned());
        Ok(config(roots))
    }
}

/// TLS settings trusting `roots`, with the ring provider (ureq is built without a choice of its
/// own). With no roots, for agents that never speak TLS: nothing would be trusted.
pub fn config(roots: Vec<CertificateDer<'static>>) -> ureq::tls::TlsConfig {
    let roots: Vec<ureq::tls::Certificate<'static>> = (roots.iter())
        .map(|der| ureq::tls::Certificate::from_der(der).to_owned())
        .collect();
    ureq::tls::TlsConfig::builder()
        .root_certs(ureq::tls::RootCerts::Specific(Arc::new(roots)))
        .unversioned_rustls_crypto_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .build()
}

/// Every certificate in a PEM file, each checked as a trust anchor: a file that is missing,
/// holds none, or holds one that cannot be used is an error naming it.
fn read_ca_file(ca_file: &CaFile) -> Result<Vec<CertificateDer<'static>>> {
    let shown = format!("{} ({})", ca_file.path.display(), ca_file.named_by);
    let pem = fs::read(ca_file.path).with_context(|| format!("cannot read the CA file {shown}"))?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| anyhow::anyhow!("the CA file {shown} is not valid PEM: {e}"))?;
    if certs.is_empty() {
        bail!(
            "the CA file {shown} holds no certificate: it must be PEM, with \
             -----BEGIN CERTIFICATE----- blocks"
        );
    }
    for (n, cert) in certs.iter().enumerate() {
        let mut store = rustls::RootCertStore::empty();
        store.add(cert.clone()).map_err(|e| {
            anyhow::anyhow!(
                "certificate {} of the CA file {shown} cannot be used: {e}",
                n + 1
            )
        })?;
    }
    Ok(certs)
}

/// The certificate problem behind a failed request, if that is what failed it: the server's
/// certificate was not accepted here (not the server refusing ours, nor a broken connection).
pub fn certificate_error(err: &ureq::Error) -> Option<&rustls::CertificateError> {
    let rustls = match err {
        ureq::Error::Rustls(e) => e,
        ureq::Error::Io(io) => io.get_ref()?.downcast_ref::<rustls::Error>()?,
        _ => return None,
    };
    match rustls {
        rustls::Error::InvalidCertificate(e) => Some(e),
        _ => None,
    }
}

/// One line on what is wrong with the certificate of `host`, and what to do.
pub fn describe_certificate_error(host: &str, err: &rustls::CertificateError) -> String {
    use rustls::CertificateError as E;
    let what = match err {
        E::UnknownIssuer => "is signed by a CA not trusted here",
        E::Expired | E::ExpiredContext { .. } => "has expired (or the local clock is wrong)",
        E::NotValidYet | E::NotValidYetContext { .. } => {
            "is not valid yet (or the local clock is wrong)"
        }
        E::NotValidForName | E::NotValidForNameContext { .. } => "is for another name",
        E::Revoked => "has been revoked",
        _ => "was refused",
    };
    format!(
        "the TLS certificate of {host} {what}; if a TLS-inspecting proxy or a private CA signs \
         it, trust that CA with --ca-file FILE"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ca_file(path: &Path) -> CaFile<'_> {
        CaFile {
            path,
            named_by: "--ca-file".to_string(),
        }
    }

    #[test]
    fn a_ca_file_that_cannot_be_used_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.pem");
        let empty = dir.path().join("empty.pem");
        fs::write(&empty, "just text\n").unwrap();
        let garbage = dir.path().join("garbage.pem");
        fs::write(
            &garbage,
            "-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        let not_a_cert = dir.path().join("not-a-cert.pem");
        fs::write(
            &not_a_cert,
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        for (path, says) in [
            (&missing, "cannot read the CA file"),
            (&empty, "holds no certificate"),
            (&garbage, "is not valid PEM"),
            (&not_a_cert, "certificate 1 of the CA file"),
        ] {
            let err = read_ca_file(&ca_file(path)).unwrap_err();
            let err = format!("{err:#}");
            assert!(err.contains(says), "{err}");
            assert!(err.contains(&path.display().to_string()), "{err}");
            assert!(err.contains("(--ca-file)"), "{err}");
        }
    }
}
