//! The pure request signer: SLS signature v1 (`hmac-sha1`) and v4 (`SLS4-HMAC-SHA256`).
//!
//! Nothing here reads the clock, the environment or the network: the caller passes the request
//! description, the credentials and the time, and gets back the exact headers to send. That is what
//! lets the tests replay the official SDKs' vectors byte for byte.

mod v1;
mod v4;

use std::fmt::Write as _;
use std::time::SystemTime;

use hmac::{Hmac, KeyInit, Mac};

use crate::credentials::Credentials;

pub use v1::sign_v1;
pub use v4::{encode_query_value, sign_v4};

/// The API version every official SDK sends.
pub const API_VERSION: &str = "0.6.0";

/// Which signature to put on requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignatureVersion {
    V1,
    /// v4 is scoped to a region, e.g. `cn-hangzhou`.
    V4 {
        region: crate::names::Region,
    },
}

/// What is about to be sent, before signing.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub method: &'a str,
    /// The path as sent; it is also the signed resource.
    pub path: &'a str,
    /// Query parameters in the order they are sent; values unencoded.
    pub query: &'a [(String, String)],
    /// The `Host` header as sent (v4 signs it; v1 does not).
    pub host: &'a str,
    pub content_type: Option<&'a str>,
    pub body: &'a [u8],
}

/// The outcome of signing: the headers to put on the wire, in order.
///
/// `Host` and `Content-Length` are left to the HTTP client.
#[derive(Debug, Clone)]
pub struct Signed {
    pub headers: Vec<(&'static str, String)>,
    /// Kept for tests. It contains the STS token when there is one, so it is never printed.
    pub string_to_sign: String,
}

impl Signed {
    /// The headers with the signature and the STS token replaced by `<redacted>`, for `--dry-run`
    /// and `-vv`.
    pub fn redacted_headers(&self) -> Vec<(&'static str, String)> {
        self.headers
            .iter()
            .map(|(name, value)| (*name, redact_header(name, value)))
            .collect()
    }
}

/// Sign `req` the way `version` says, at time `now`.
pub fn sign(
    req: &Request,
    creds: &Credentials,
    version: &SignatureVersion,
    now: SystemTime,
) -> Signed {
    match version {
        SignatureVersion::V1 => sign_v1(req, creds, now),
        SignatureVersion::V4 { region } => sign_v4(req, creds, region.as_str(), now),
    }
}

fn redact_header(name: &str, value: &str) -> String {
    if name.eq_ignore_ascii_case("authorization") {
        // v1 "LOG <key id>:<signature>", v4 "... Credential=<key id>/<scope>,Signature=<hex>":
        // keep who and what scope, drop the signature itself.
        if let Some((who, _)) = value.split_once(",Signature=") {
            format!("{who},Signature=<redacted>")
        } else if let Some((who, _)) = value.rsplit_once(':') {
            format!("{who}:<redacted>")
        } else {
            "<redacted>".to_string()
        }
    } else if name.eq_ignore_ascii_case("x-acs-security-token") {
        "<redacted>".to_string()
    } else {
        value.to_string()
    }
}

fn hmac<D: hmac::EagerHash>(key: &[u8], data: &[u8]) -> Vec<u8>
where
    Hmac<D>: KeyInit + Mac,
{
    let mut mac =
        <Hmac<D> as KeyInit>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

fn hex_upper(bytes: &[u8]) -> String {
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02X}");
            s
        })
}

fn hex_lower(bytes: &[u8]) -> String {
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}
