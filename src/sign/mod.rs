//! The pure request signers: SLS signature v1 (`hmac-sha1`) and v4 (`SLS4-HMAC-SHA256`), and the
//! RPC signature STS `AssumeRole` carries (`rpc.rs`).
//!
//! Nothing here reads the clock, the environment or the network: the caller passes the request
//! description, the credentials and the time, and gets back the exact headers to send. That is what
//! lets the tests replay the official SDKs' vectors byte for byte.
//!
//! The signers mark the headers (and RPC parameters) that carry a secret (the signature, the STS
//! token) as they create them (`HeaderValue::sensitive`); printing a signed request follows that
//! mark. The string to sign
//! holds the STS token, so it never leaves this module: only its unit tests see it.

mod header;
mod rpc;
mod v1;
mod v4;

use std::borrow::Cow;
use std::fmt::Write as _;
use std::time::SystemTime;

use hmac::{Hmac, KeyInit, Mac};

use crate::credentials::Credentials;

pub use header::HeaderValue;
pub use rpc::{RpcRequest, RpcSigned, sign_rpc, unsigned_rpc};
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
/// `Host` and `Content-Length` are left to the HTTP client. `Debug` shows the headers redacted, as
/// their values do.
#[derive(Debug, Clone)]
pub struct Signed {
    pub headers: Vec<(&'static str, HeaderValue)>,
}

impl Signed {
    /// The headers with the secret part of each sensitive one replaced by `<redacted>`, for
    /// `--dry-run` and `-vv`.
    pub fn redacted_headers(&self) -> impl Iterator<Item = (&'static str, Cow<'_, str>)> {
        self.headers
            .iter()
            .map(|(name, value)| (*name, value.redacted()))
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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::credentials::Secret;

    pub(crate) const SECRET: &str = "s3cret-do-not-print";
    pub(crate) const TOKEN: &str = "CAIS-t0ken-do-not-print";

    /// An STS request signed both ways at 1970-01-01, each with its Authorization as printing
    /// shows it.
    pub(crate) fn signed_sts_requests() -> Vec<(Signed, &'static str)> {
        let creds = Credentials {
            access_key_id: "STS.AKID".into(),
            access_key_secret: Secret::new(SECRET),
            security_token: Some(Secret::new(TOKEN)),
        };
        // A listing page: signed, token and all, like any other request.
        let query = [("status".to_string(), "fail".to_string())];
        let req = Request {
            method: "GET",
            path: "/logstores/l/shipper/s/tasks",
            query: &query,
            host: "p.cn-hangzhou.log.aliyuncs.com",
            content_type: None,
            body: b"",
        };
        let v4 = SignatureVersion::V4 {
            region: crate::names::Region::parse("cn-hangzhou").unwrap(),
        };
        vec![
            (
                sign(&req, &creds, &SignatureVersion::V1, SystemTime::UNIX_EPOCH),
                "LOG STS.AKID:<redacted>",
            ),
            (
                sign(&req, &creds, &v4, SystemTime::UNIX_EPOCH),
                "SLS4-HMAC-SHA256 Credential=STS.AKID/19700101/cn-hangzhou/sls/aliyun_v4_request,\
                 Signature=<redacted>",
            ),
        ]
    }

    /// The signature as sent: the Authorization after the part that is shown.
    pub(crate) fn signature(signed: &Signed, shown: &str) -> String {
        let (_, authorization) = signed
            .headers
            .iter()
            .find(|h| h.0 == "Authorization")
            .unwrap();
        let prefix = shown.strip_suffix("<redacted>").unwrap();
        let signature = authorization
            .expose()
            .strip_prefix(prefix)
            .unwrap()
            .to_string();
        assert!(signature.len() >= 28, "{signature}");
        signature
    }

    /// The signature and the STS token are marked when signed, and nothing that prints a signed
    /// request shows them: not `{:?}`, not `{:#?}`, not the redacted headers.
    #[test]
    fn printing_a_signed_sts_request_shows_no_token_signature_or_secret() {
        for (signed, authorization) in signed_sts_requests() {
            let marked: Vec<&str> = (signed.headers.iter())
                .filter(|(_, value)| value.is_sensitive())
                .map(|(name, _)| *name)
                .collect();
            assert_eq!(marked, ["x-acs-security-token", "Authorization"]);

            let redacted: Vec<_> = signed.redacted_headers().collect();
            let shown = format!("{signed:?}\n{signed:#?}\n{redacted:?}");
            for secret in [TOKEN, SECRET, &signature(&signed, authorization)] {
                assert!(!shown.contains(secret), "{secret} in {shown}");
            }
            assert!(redacted.contains(&("Authorization", authorization.into())));
            assert!(redacted.contains(&("x-acs-security-token", "<redacted>".into())));
            assert!(shown.contains(&format!("{authorization:?}")), "{shown}");
        }
    }
}
