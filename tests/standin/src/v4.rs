//! Signature v4 (`SLS4-HMAC-SHA256`) as the stand-in verifies it: the Authorization header, the canonical request, the signing key, and `x-log-date` time.
// Written from the `rules` of tests/fixtures/sign-v4.json, apart from src/sign, so it is an
// independent witness; standin_selftest::v4_canonicalisation_reproduces_every_vector (tests/it)
// ties it to the official SDKs' suite cases.

use std::time::SystemTime;

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

/// The Authorization scheme, with the space that ends it.
pub(super) const SCHEME: &str = "SLS4-HMAC-SHA256 ";
const SERVICE: &str = "sls";
const TERMINATOR: &str = "aliyun_v4_request";

/// What `SLS4-HMAC-SHA256 Credential={key id}/{date}/{region}/sls/aliyun_v4_request,Signature={hex}` names.
pub struct Credential<'a> {
    pub key_id: &'a str,
    /// `yyyymmdd`
    pub date: &'a str,
    pub region: &'a str,
    pub signature: &'a str,
}

/// `None` unless the header has the v4 scheme, both fields and a well-formed scope.
pub fn parse_authorization(authorization: &str) -> Option<Credential<'_>> {
    let (mut credential, mut signature) = (None, None);
    for field in authorization.strip_prefix(SCHEME)?.split(',') {
        match field.trim().split_once('=')? {
            ("Credential", value) => credential = Some(value),
            ("Signature", value) => signature = Some(value),
            _ => {}
        }
    }
    // From the right, so only the key id could hold a '/'.
    let mut scope = credential?.rsplitn(5, '/');
    let (terminator, service) = (scope.next()?, scope.next()?);
    let (region, date, key_id) = (scope.next()?, scope.next()?, scope.next()?);
    let date_ok = date.len() == 8 && date.bytes().all(|b| b.is_ascii_digit());
    let named = [key_id, region, signature?]
        .iter()
        .all(|part| !part.is_empty());
    (service == SERVICE && terminator == TERMINATOR && date_ok && named).then_some(Credential {
        key_id,
        date,
        region,
        signature: signature?,
    })
}

/// A query value as it is signed: RFC 3986's unreserved characters stay, every other byte is
/// `%XX` in upper-case hex.
fn escape(value: &str) -> String {
    let escaped = |byte: u8| match byte {
        b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
            (byte as char).into()
        }
        _ => format!("%{byte:02X}"),
    };
    value.bytes().map(escaped).collect()
}

/// `content-type`, `host`, and every `x-log-*` / `x-acs-*` header but `x-log-meta-*`.
fn is_signed(name: &str) -> bool {
    let extension = name.starts_with("x-log-") || name.starts_with("x-acs-");
    name == "content-type" || name == "host" || (extension && !name.starts_with("x-log-meta-"))
}

/// The canonical request, from the query already decoded and the headers as received.
pub fn canonical_request(
    method: &str,
    path: &str,
    query: &[(String, String)],
    headers: &[(String, String)],
    content_sha256: &str,
) -> String {
    let mut pairs: Vec<&(String, String)> = query.iter().collect();
    pairs.sort();
    let pairs: Vec<String> = (pairs.iter())
        .map(|(key, value)| match value.as_str() {
            "" => key.clone(),
            value => format!("{key}={}", escape(value)),
        })
        .collect();
    // Sorted by name only: a repeated header keeps the order it was received in.
    let mut signed = Vec::new();
    for (name, value) in headers {
        let name = name.to_ascii_lowercase();
        if is_signed(&name) {
            signed.push((name, value.trim()));
        }
    }
    signed.sort_by(|a, b| a.0.cmp(&b.0));
    let (mut lines, mut names) = (String::new(), Vec::new());
    for (name, value) in &signed {
        lines.push_str(&format!("{name}:{value}\n"));
        names.push(name.as_str());
    }
    let (query, names) = (pairs.join("&"), names.join(";"));
    format!("{method}\n{path}\n{query}\n{lines}\n{names}\n{content_sha256}")
}

/// `time` is `x-log-date`; `date` and `region` are the credential scope's.
pub fn string_to_sign(time: &str, date: &str, region: &str, canonical: &str) -> String {
    let scheme = SCHEME.trim_end();
    let digest = sha256_hex(canonical.as_bytes());
    format!("{scheme}\n{time}\n{date}/{region}/{SERVICE}/{TERMINATOR}\n{digest}")
}

/// Lower-hex HMAC-SHA256 under the key derived from the secret and the scope.
pub fn signature(secret: &str, date: &str, region: &str, string_to_sign: &str) -> String {
    let scope = [date, region, SERVICE, TERMINATOR];
    let secret = format!("aliyun_v4{secret}").into_bytes();
    let key = scope.iter().fold(secret, |key, part| hmac(&key, part));
    hex(&hmac(&key, string_to_sign))
}

fn hmac(key: &[u8], data: &str) -> Vec<u8> {
    let mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key);
    let mut mac = mac.expect("HMAC takes keys of any length");
    mac.update(data.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// What `x-log-content-sha256` must say for this body.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// `yyyymmddTHHMMSSZ`, the `x-log-date` format.
pub fn format_time(time: SystemTime) -> String {
    let rfc3339 = humantime::format_rfc3339_seconds(time).to_string();
    rfc3339.replace(['-', ':'], "")
}

/// `None` unless `text` is exactly `yyyymmddTHHMMSSZ` and a real UTC time.
pub fn parse_time(text: &str) -> Option<SystemTime> {
    let bytes = text.as_bytes();
    let shaped = bytes.len() == 16
        && (bytes.iter().enumerate()).all(|(i, &b)| match i {
            8 => b == b'T',
            15 => b == b'Z',
            _ => b.is_ascii_digit(),
        });
    if !shaped {
        return None;
    }
    let at = |range: std::ops::Range<usize>| &text[range];
    let rfc3339 = format!(
        "{}-{}-{}T{}:{}:{}Z",
        at(0..4),
        at(4..6),
        at(6..8),
        at(9..11),
        at(11..13),
        at(13..15)
    );
    humantime::parse_rfc3339(&rfc3339).ok()
}
