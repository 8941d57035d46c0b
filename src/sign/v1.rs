//! Signature v1 (`hmac-sha1`): the default, and what every SLS endpoint accepts.

use std::borrow::Cow;
use std::time::SystemTime;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use md5::{Digest, Md5};

use super::{API_VERSION, HeaderValue, Request, Signed, hex_upper, hmac};
use crate::credentials::{Credentials, Secret};

/// Sign `req` with signature v1 at time `date`.
pub fn sign_v1(req: &Request, creds: &Credentials, date: SystemTime) -> Signed {
    let date = httpdate::fmt_http_date(date);
    let (mut headers, string_to_sign) = draft(req, creds, &date);
    let signature = BASE64.encode(hmac::<sha1::Sha1>(
        creds.access_key_secret.expose().as_bytes(),
        string_to_sign.as_bytes(),
    ));
    headers.push((
        "Authorization",
        HeaderValue::sensitive(
            format!("LOG {}:", creds.access_key_id),
            Secret::new(signature),
        ),
    ));
    // Sent after signing, never signed: some proxies drop `Date`, and SLS then reads this one.
    headers.push(("x-log-date", HeaderValue::public(date)));
    Signed { headers }
}

/// The headers v1 signs, in wire order, and the string to sign. That string holds the STS token,
/// so only `sign_v1` and the tests see it.
fn draft(
    req: &Request,
    creds: &Credentials,
    date: &str,
) -> (Vec<(&'static str, HeaderValue)>, String) {
    let mut headers: Vec<(&'static str, HeaderValue)> = Vec::with_capacity(10);
    headers.push(("Date", HeaderValue::public(date)));
    if let Some(content_type) = req.content_type {
        headers.push(("Content-Type", HeaderValue::public(content_type)));
    }
    let content_md5 = (!req.body.is_empty()).then(|| hex_upper(&Md5::digest(req.body)));
    if let Some(md5) = &content_md5 {
        headers.push(("Content-MD5", HeaderValue::public(md5.as_str())));
    }
    headers.push(("x-log-apiversion", HeaderValue::public(API_VERSION)));
    headers.push((
        "x-log-bodyrawsize",
        HeaderValue::public(req.body.len().to_string()),
    ));
    headers.push(("x-log-signaturemethod", HeaderValue::public("hmac-sha1")));
    if let Some(token) = &creds.security_token {
        headers.push((
            "x-acs-security-token",
            HeaderValue::sensitive("", token.clone()),
        ));
    }
    let string_to_sign = string_to_sign_v1(req, content_md5.as_deref(), date, &headers);
    (headers, string_to_sign)
}

fn string_to_sign_v1(
    req: &Request,
    content_md5: Option<&str>,
    date: &str,
    headers: &[(&str, HeaderValue)],
) -> String {
    let mut out = String::with_capacity(256);
    for line in [
        req.method,
        content_md5.unwrap_or(""),
        req.content_type.unwrap_or(""),
        date,
    ] {
        out.push_str(line);
        out.push('\n');
    }
    let mut log_headers: Vec<(String, Cow<str>)> = headers
        .iter()
        .map(|(name, value)| (name.to_ascii_lowercase(), value.expose()))
        .filter(|(name, _)| {
            (name.starts_with("x-log-") || name.starts_with("x-acs-")) && name != "x-log-date"
        })
        .collect();
    log_headers.sort();
    for (name, value) in log_headers {
        out.push_str(&name);
        out.push(':');
        out.push_str(&value);
        out.push('\n');
    }
    out.push_str(&canonical_resource(req.path, req.query));
    out
}

/// `path?k=v&k=v`, sorted by key, values as they are (not url-encoded), empty values kept.
fn canonical_resource(path: &str, query: &[(String, String)]) -> String {
    if query.is_empty() {
        return path.to_string();
    }
    let mut pairs: Vec<&(String, String)> = query.iter().collect();
    pairs.sort_by(|a, b| a.0.cmp(&b.0));
    let joined: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("{path}?{}", joined.join("&"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn creds(v: &Value) -> Credentials {
        Credentials {
            access_key_id: v["access_key_id"].as_str().unwrap().to_string(),
            access_key_secret: Secret::new(v["access_key_secret"].as_str().unwrap()),
            security_token: v["security_token"].as_str().map(Secret::new),
        }
    }

    /// Every full request the official Python SDK signed: same headers, same string to sign,
    /// same Authorization.
    #[test]
    fn v1_matches_official_sdk_requests() {
        let file: Value = serde_json::from_str(include_str!(
            "../../tests/fixtures/sign-v1-official-sdk.json"
        ))
        .unwrap();
        let vectors = file["vectors"].as_array().unwrap();
        assert_eq!(vectors.len(), file["count"].as_u64().unwrap() as usize);
        for v in vectors {
            let name = v["name"].as_str().unwrap();
            let body = BASE64.decode(v["body_base64"].as_str().unwrap()).unwrap();
            // The SDK's query order is the wire order; the signer must sort on its own.
            let query: Vec<(String, String)> = v["query"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
                .collect();
            let expected_headers = v["headers"].as_object().unwrap();
            let req = Request {
                method: v["method"].as_str().unwrap(),
                path: v["path"].as_str().unwrap(),
                query: &query,
                host: expected_headers["Host"].as_str().unwrap(),
                content_type: expected_headers.get("Content-Type").and_then(Value::as_str),
                body: &body,
            };
            let date = httpdate::parse_http_date(v["date"].as_str().unwrap()).unwrap();
            let signed = sign_v1(&req, &creds(v), date);

            let (_, string_to_sign) = draft(&req, &creds(v), &httpdate::fmt_http_date(date));
            assert_eq!(
                string_to_sign,
                v["string_to_sign"].as_str().unwrap(),
                "{name}: string to sign"
            );
            let ours: std::collections::BTreeMap<&str, Cow<str>> = signed
                .headers
                .iter()
                .map(|(n, v)| (*n, v.expose()))
                .collect();
            for (header, value) in expected_headers {
                if header == "Host" || header == "Content-Length" {
                    continue; // written by the HTTP client, not signed
                }
                assert_eq!(
                    ours.get(header.as_str()).map(|v| v.as_ref()),
                    value.as_str(),
                    "{name}: header {header}"
                );
            }
            assert_eq!(
                ours.len(),
                expected_headers.len() - 2,
                "{name}: no extra headers"
            );
            assert_eq!(
                ours["Authorization"],
                v["expected_authorization"].as_str().unwrap(),
                "{name}"
            );
        }
    }

    /// The known answers from the Go, Rust and Node.js SDKs' own unit tests: the HMAC and base64
    /// step for a given string to sign, and that our string-to-sign layout rebuilds theirs.
    #[test]
    fn v1_matches_sdk_suite_known_answers() {
        let file: Value =
            serde_json::from_str(include_str!("../../tests/fixtures/sign-v1-sdk-suites.json"))
                .unwrap();
        for v in file["vectors"].as_array().unwrap() {
            let source = v["source"].as_str().unwrap();
            let sts = v["string_to_sign"].as_str().unwrap();
            let signature = BASE64.encode(hmac::<sha1::Sha1>(
                v["access_key_secret"].as_str().unwrap().as_bytes(),
                sts.as_bytes(),
            ));
            let authorization = format!("LOG {}:{signature}", v["access_key_id"].as_str().unwrap());
            assert_eq!(
                authorization,
                v["expected_authorization"].as_str().unwrap(),
                "{source}"
            );
            assert_eq!(rebuild_string_to_sign(sts), sts, "{source}: layout");
        }
    }

    /// Parse a suite's string to sign back into its parts and rebuild it with our canonicalisation.
    fn rebuild_string_to_sign(sts: &str) -> String {
        let lines: Vec<&str> = sts.split('\n').collect();
        let (method, md5, content_type, date) = (lines[0], lines[1], lines[2], lines[3]);
        let resource = lines[lines.len() - 1];
        let headers: Vec<(&str, HeaderValue)> = lines[4..lines.len() - 1]
            .iter()
            .map(|l| {
                let (n, v) = l.split_once(':').unwrap();
                (n, HeaderValue::public(v))
            })
            .rev() // the signer must sort them itself
            .collect();
        let (path, query) = resource.split_once('?').unwrap_or((resource, ""));
        let query: Vec<(String, String)> = query
            .split('&')
            .filter(|p| !p.is_empty())
            .rev()
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap();
                (k.to_string(), v.to_string())
            })
            .collect();
        let req = Request {
            method,
            path,
            query: &query,
            host: "",
            content_type: (!content_type.is_empty()).then_some(content_type),
            body: b"",
        };
        string_to_sign_v1(&req, (!md5.is_empty()).then_some(md5), date, &headers)
    }
}
