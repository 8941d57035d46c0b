//! Signature v4 (`SLS4-HMAC-SHA256`): AWS-SigV4-like, scoped to a region. Needed for
//! regions that only take v4 (the `-acdr-ut-` ones) and chosen with `--signature-version 4`.

use std::borrow::Cow;
use std::time::SystemTime;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use sha2::{Digest, Sha256};

use super::{API_VERSION, HeaderValue, Request, Signed, hex_lower, hmac};
use crate::credentials::{Credentials, Secret};

const ALGORITHM: &str = "SLS4-HMAC-SHA256";

/// RFC 3986: everything but the unreserved characters is escaped.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Sign `req` with signature v4 for `region` at time `now`.
pub fn sign_v4(req: &Request, creds: &Credentials, region: &str, now: SystemTime) -> Signed {
    let time = v4_time(now);
    let (mut headers, string_to_sign) = draft(req, creds, region, &time);
    let signature = hex_lower(&hmac::<Sha256>(
        &signing_key(creds.access_key_secret.expose(), &time[..8], region),
        string_to_sign.as_bytes(),
    ));
    let credential = format!("{}/{}", creds.access_key_id, scope(&time, region));
    headers.push((
        "Authorization",
        HeaderValue::sensitive(
            format!("{ALGORITHM} Credential={credential},Signature="),
            Secret::new(signature),
        ),
    ));
    Signed { headers }
}

/// The headers v4 adds before the signature, in wire order, and the string to sign; only
/// `sign_v4` and the tests see that string.
fn draft(
    req: &Request,
    creds: &Credentials,
    region: &str,
    time: &str,
) -> (Vec<(&'static str, HeaderValue)>, String) {
    let body_sha256 = hex_lower(&Sha256::digest(req.body));
    let mut headers: Vec<(&'static str, HeaderValue)> = Vec::with_capacity(8);
    if let Some(content_type) = req.content_type {
        headers.push(("Content-Type", HeaderValue::public(content_type)));
    }
    headers.push(("x-log-apiversion", HeaderValue::public(API_VERSION)));
    headers.push((
        "x-log-bodyrawsize",
        HeaderValue::public(req.body.len().to_string()),
    ));
    if let Some(token) = &creds.security_token {
        headers.push((
            "x-acs-security-token",
            HeaderValue::sensitive("", token.clone()),
        ));
    }
    headers.push((
        "x-log-content-sha256",
        HeaderValue::public(body_sha256.as_str()),
    ));
    headers.push(("x-log-date", HeaderValue::public(time)));

    // Host is signed although the HTTP client is the one that writes it.
    let mut signed_input: Vec<(&str, Cow<str>)> = vec![("Host", Cow::Borrowed(req.host))];
    signed_input.extend(headers.iter().map(|(n, v)| (*n, v.expose())));
    let canonical = canonical_request(req.method, req.path, req.query, &signed_input, &body_sha256);
    (headers, string_to_sign(time, region, &canonical))
}

/// A query value as v4 signs it, and as the client sends it, so both agree (RFC 3986).
pub fn encode_query_value(value: &str) -> String {
    utf8_percent_encode(value, QUERY_VALUE).to_string()
}

/// `yyyymmddTHHMMSSZ`, UTC.
fn v4_time(now: SystemTime) -> String {
    // "2015-11-11T08:28:19Z" -> "20151111T082819Z"
    humantime::format_rfc3339_seconds(now)
        .to_string()
        .replace(['-', ':'], "")
}

fn scope(time: &str, region: &str) -> String {
    format!("{}/{region}/sls/aliyun_v4_request", &time[..8])
}

fn string_to_sign(time: &str, region: &str, canonical_request: &str) -> String {
    format!(
        "{ALGORITHM}\n{time}\n{}\n{}",
        scope(time, region),
        hex_lower(&Sha256::digest(canonical_request.as_bytes()))
    )
}

fn signing_key(secret: &str, date: &str, region: &str) -> Vec<u8> {
    let key = hmac::<Sha256>(format!("aliyun_v4{secret}").as_bytes(), date.as_bytes());
    let key = hmac::<Sha256>(&key, region.as_bytes());
    let key = hmac::<Sha256>(&key, b"sls");
    hmac::<Sha256>(&key, b"aliyun_v4_request")
}

/// Is this header part of a v4 signature? content-type, host, and the x-log-* / x-acs-* headers
/// except x-log-meta-*.
fn is_signed(lower_name: &str) -> bool {
    lower_name == "content-type"
        || lower_name == "host"
        || lower_name.starts_with("x-acs-")
        || (lower_name.starts_with("x-log-") && !lower_name.starts_with("x-log-meta-"))
}

fn canonical_request<V: AsRef<str>>(
    method: &str,
    path: &str,
    query: &[(String, String)],
    headers: &[(&str, V)],
    body_sha256: &str,
) -> String {
    let mut pairs: Vec<&(String, String)> = query.iter().collect();
    pairs.sort_by(|a, b| a.0.cmp(&b.0));
    let canonical_query: Vec<String> = pairs
        .iter()
        .map(|(k, v)| {
            if v.is_empty() {
                k.clone()
            } else {
                format!("{k}={}", encode_query_value(v))
            }
        })
        .collect();

    let mut signed: Vec<(String, &str)> = headers
        .iter()
        .map(|(n, v)| (n.to_ascii_lowercase(), v.as_ref().trim()))
        .filter(|(n, _)| is_signed(n))
        .collect();
    signed.sort();
    let canonical_headers: String = signed.iter().map(|(n, v)| format!("{n}:{v}\n")).collect();
    let signed_names: Vec<&str> = signed.iter().map(|(n, _)| n.as_str()).collect();

    format!(
        "{method}\n{path}\n{}\n{canonical_headers}\n{}\n{body_sha256}",
        canonical_query.join("&"),
        signed_names.join(";")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn vectors() -> Vec<Value> {
        let file: Value =
            serde_json::from_str(include_str!("../../tests/fixtures/sign-v4.json")).unwrap();
        file["vectors"].as_array().unwrap().clone()
    }

    fn pairs(v: &Value) -> Vec<(String, String)> {
        v.as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
            .collect()
    }

    fn time(v: &Value) -> SystemTime {
        let t = v["time"].as_str().unwrap();
        let rfc3339 = format!(
            "{}-{}-{}T{}:{}:{}Z",
            &t[0..4],
            &t[4..6],
            &t[6..8],
            &t[9..11],
            &t[11..13],
            &t[13..15]
        );
        humantime::parse_rfc3339(&rfc3339).unwrap()
    }

    /// Every vector, at the level of its parts: canonical request, string to sign, signature.
    /// The `suite-*` ones are the official SDKs' own test cases, with odd headers and query keys.
    #[test]
    fn canonicalisation_and_signature_match_every_vector() {
        for v in vectors() {
            let name = v["name"].as_str().unwrap();
            let body = v["body"].as_str().unwrap().as_bytes();
            let body_sha256 = hex_lower(&Sha256::digest(body));
            let t = time(&v);
            let stamp = v4_time(t);
            assert_eq!(stamp, v["time"].as_str().unwrap(), "{name}");
            let mut headers = pairs(&v["headers_before_signing"]);
            headers.push(("x-log-content-sha256".into(), body_sha256.clone()));
            headers.push(("x-log-date".into(), stamp.clone()));
            let headers: Vec<(&str, &str)> = headers
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_str()))
                .collect();
            let canonical = canonical_request(
                v["method"].as_str().unwrap(),
                v["path"].as_str().unwrap(),
                &pairs(&v["query"]),
                &headers,
                &body_sha256,
            );
            assert_eq!(
                canonical,
                v["canonical_request"].as_str().unwrap(),
                "{name}"
            );
            let region = v["region"].as_str().unwrap();
            let sts = string_to_sign(&stamp, region, &canonical);
            assert_eq!(sts, v["string_to_sign"].as_str().unwrap(), "{name}");
            let signature = hex_lower(&hmac::<Sha256>(
                &signing_key(
                    v["access_key_secret"].as_str().unwrap(),
                    &stamp[..8],
                    region,
                ),
                sts.as_bytes(),
            ));
            assert_eq!(signature, v["signature"].as_str().unwrap(), "{name}");
        }
    }

    /// The SLS requests among the vectors, signed end to end by `sign_v4`: the headers it adds
    /// are exactly the ones the vector signed, and the Authorization matches.
    #[test]
    fn sign_v4_reproduces_the_sls_request_vectors() {
        let mut checked = 0;
        for v in vectors() {
            let name = v["name"].as_str().unwrap();
            if !name.starts_with("derived-") {
                continue;
            }
            let before = pairs(&v["headers_before_signing"]);
            let header = |n: &str| {
                before
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(n))
                    .map(|(_, v)| v.as_str())
            };
            let creds = Credentials {
                access_key_id: v["access_key_id"].as_str().unwrap().into(),
                access_key_secret: Secret::new(v["access_key_secret"].as_str().unwrap()),
                security_token: v["security_token"].as_str().map(Secret::new),
            };
            let query = pairs(&v["query"]);
            let req = Request {
                method: v["method"].as_str().unwrap(),
                path: v["path"].as_str().unwrap(),
                query: &query,
                host: header("host").unwrap(),
                content_type: header("content-type"),
                body: v["body"].as_str().unwrap().as_bytes(),
            };
            let region = v["region"].as_str().unwrap();
            let signed = sign_v4(&req, &creds, region, time(&v));
            let (_, string_to_sign) = draft(&req, &creds, region, &v4_time(time(&v)));
            assert_eq!(
                string_to_sign,
                v["string_to_sign"].as_str().unwrap(),
                "{name}"
            );
            let authorization = &signed.headers.last().unwrap();
            assert_eq!(authorization.0, "Authorization");
            assert_eq!(
                authorization.1.expose(),
                v["expected_authorization"].as_str().unwrap(),
                "{name}"
            );
            assert!(
                !signed
                    .headers
                    .iter()
                    .any(|(n, _)| *n == "x-log-signaturemethod"),
                "v4 sends no hmac-sha1 signature method"
            );
            checked += 1;
        }
        assert_eq!(checked, 4);
    }

    #[test]
    fn query_values_are_rfc3986_encoded_and_empty_values_bare() {
        let query = vec![
            ("to".to_string(), "a b/c~d".to_string()),
            ("status".to_string(), String::new()),
        ];
        let canonical = canonical_request::<&str>("GET", "/x", &query, &[], "e3");
        assert!(
            canonical.starts_with("GET\n/x\nstatus&to=a%20b%2Fc~d\n"),
            "{canonical}"
        );
    }
}
