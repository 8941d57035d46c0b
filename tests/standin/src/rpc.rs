//! The RPC signature STS checks (`SignatureMethod=HMAC-SHA1`, `SignatureVersion=1.0`), written here from the service's documentation, apart from src/sign: every parameter but `Signature`, query and form body alike, sorted by key, each key and value percent-encoded byte by byte (RFC 3986 unreserved characters kept), joined `k=v&...`; the string to sign is `METHOD&%2F&` and that, encoded once more; the signature is base64(HMAC-SHA1(secret + "&", string to sign)).
// standin_selftest (tests/it) ties it to the official implementation's vectors.

use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};

/// The string to sign for `params` (decoded, as received), sent with `method`.
pub fn string_to_sign(method: &str, params: &[(String, String)]) -> String {
    let mut signed: Vec<&(String, String)> = (params.iter())
        .filter(|(key, _)| key != "Signature")
        .collect();
    signed.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let mut canonical = String::new();
    for (n, (key, value)) in signed.into_iter().enumerate() {
        if n > 0 {
            canonical.push('&');
        }
        canonical.push_str(&percent(key));
        canonical.push('=');
        canonical.push_str(&percent(value));
    }
    format!("{method}&{}&{}", percent("/"), percent(&canonical))
}

/// What `Signature` must be.
pub fn signature(secret: &str, string_to_sign: &str) -> String {
    let key = format!("{secret}&");
    let mac = <Hmac<sha1::Sha1> as KeyInit>::new_from_slice(key.as_bytes());
    let mut mac = mac.expect("HMAC takes keys of any length");
    mac.update(string_to_sign.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

fn percent(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for byte in text.bytes() {
        let unreserved = byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte);
        if unreserved {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}
