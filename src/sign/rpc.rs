//! The RPC-style signature of Alibaba Cloud's POP APIs, which STS `AssumeRole` carries
//! (`SignatureMethod=HMAC-SHA1`, `SignatureVersion=1.0`): every parameter, query and form body
//! alike, sorted and percent-encoded, then HMAC-SHA1 with the secret and `&`.
//!
//! Sent as aliyun/credentials-go sends it: the common parameters (and the signature) in the URL's
//! query, the action's own parameters in a form body. Pure: the time and the nonce are passed in.

use std::borrow::Cow;
use std::time::SystemTime;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use super::{HeaderValue, encode_query_value, hmac};
use crate::credentials::{Credentials, Secret};

/// One call before signing.
#[derive(Debug, Clone, Copy)]
pub struct RpcRequest<'a> {
    /// The HTTP method; the signature covers it.
    pub method: &'a str,
    /// The API's version, e.g. `2015-04-01` for STS.
    pub version: &'a str,
    pub action: &'a str,
    /// The action's own parameters, sent in the form body, values unencoded. A value that is a
    /// secret (an OIDC token) is marked sensitive.
    pub params: &'a [(&'a str, HeaderValue)],
}

/// A call as it goes out. Every value carrying a secret (the caller's STS token, the signature,
/// an OIDC token) is marked sensitive; `Debug` and the `redacted_*` printers hide them.
#[derive(Debug, Clone)]
pub struct RpcSigned {
    /// The URL's query: the common parameters, the caller's AccessKeyId and STS token, the
    /// signature.
    pub query: Vec<(String, HeaderValue)>,
    /// The form body (`application/x-www-form-urlencoded`): the action's own parameters.
    pub form: Vec<(String, HeaderValue)>,
}

impl RpcSigned {
    /// The query as sent, secrets included: for the wire only.
    pub fn expose_query(&self) -> String {
        join(&self.query, |v| encode_query_value(&v.expose()))
    }

    /// The form body as sent, secrets included: for the wire only.
    pub fn expose_form(&self) -> String {
        join(&self.form, |v| encode_query_value(&v.expose()))
    }

    /// The query as printed: each sensitive value `<redacted>`.
    pub fn redacted_query(&self) -> String {
        join(&self.query, redacted)
    }

    /// The form body as printed: each sensitive value `<redacted>`.
    pub fn redacted_form(&self) -> String {
        join(&self.form, redacted)
    }
}

/// Sign `req` with `creds` at `now`. `nonce` must be new for every call: the service refuses one
/// it has seen (`SignatureNonceUsed`).
pub fn sign_rpc(req: &RpcRequest, creds: &Credentials, now: SystemTime, nonce: &str) -> RpcSigned {
    let (mut signed, string_to_sign) = draft(req, creds, now, nonce);
    let key = format!("{}&", creds.access_key_secret.expose());
    let signature = BASE64.encode(hmac::<sha1::Sha1>(
        key.as_bytes(),
        string_to_sign.as_bytes(),
    ));
    let signature = HeaderValue::sensitive("", Secret::new(signature));
    signed.query.push(("Signature".into(), signature));
    signed
}

/// A call that carries no signature (`AssumeRoleWithOIDC`: the OIDC token vouches for it), with
/// the common parameters credentials-go sends for it.
pub fn unsigned_rpc(req: &RpcRequest, now: SystemTime) -> RpcSigned {
    RpcSigned {
        query: common(req, now),
        form: form(req),
    }
}

/// The call as signed, and the string to sign. That string holds the caller's STS token, so
/// only `sign_rpc` and the tests see it.
fn draft(
    req: &RpcRequest,
    creds: &Credentials,
    now: SystemTime,
    nonce: &str,
) -> (RpcSigned, String) {
    let mut query = common(req, now);
    let public = |name: &str, value: &str| (name.to_string(), HeaderValue::public(value));
    query.push(public("SignatureMethod", "HMAC-SHA1"));
    query.push(public("SignatureVersion", "1.0"));
    query.push(public("SignatureNonce", nonce));
    query.push(public("AccessKeyId", &creds.access_key_id));
    if let Some(token) = &creds.security_token {
        let token = HeaderValue::sensitive("", token.clone());
        query.push(("SecurityToken".into(), token));
    }
    let signed = RpcSigned {
        query,
        form: form(req),
    };
    let every = signed.query.iter().chain(&signed.form);
    let string_to_sign = string_to_sign(req.method, every.map(|(k, v)| (k.as_str(), v.expose())));
    (signed, string_to_sign)
}

/// What every call names: the action, the answer's format, the API version and the time.
fn common(req: &RpcRequest, now: SystemTime) -> Vec<(String, HeaderValue)> {
    let timestamp = humantime::format_rfc3339_seconds(now).to_string();
    [
        ("Action", req.action),
        ("Format", "JSON"),
        ("Version", req.version),
        ("Timestamp", &timestamp),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_string(), HeaderValue::public(value)))
    .collect()
}

fn form(req: &RpcRequest) -> Vec<(String, HeaderValue)> {
    (req.params.iter())
        .map(|(name, value)| (name.to_string(), value.clone()))
        .collect()
}

/// `METHOD&%2F&` and the encoded, sorted `k=v&...` of every parameter.
fn string_to_sign<'a>(
    method: &str,
    params: impl Iterator<Item = (&'a str, Cow<'a, str>)>,
) -> String {
    let mut params: Vec<(&str, Cow<str>)> = params.collect();
    params.sort_by(|a, b| a.0.cmp(b.0));
    let canonical: Vec<String> = (params.iter())
        .map(|(k, v)| format!("{}={}", encode_query_value(k), encode_query_value(v)))
        .collect();
    format!("{method}&%2F&{}", encode_query_value(&canonical.join("&")))
}

fn join(params: &[(String, HeaderValue)], value: impl Fn(&HeaderValue) -> String) -> String {
    let pairs: Vec<String> = (params.iter())
        .map(|(k, v)| format!("{}={}", encode_query_value(k), value(v)))
        .collect();
    pairs.join("&")
}

fn redacted(value: &HeaderValue) -> String {
    match value.is_sensitive() {
        // Left unencoded, so that it reads as the mark it is.
        true => value.redacted().into_owned(),
        false => encode_query_value(&value.redacted()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn vectors() -> Vec<Value> {
        let file: Value =
            serde_json::from_str(include_str!("../../tests/fixtures/sign-rpc.json")).unwrap();
        let vectors = file["vectors"].as_array().unwrap().clone();
        assert_eq!(vectors.len(), file["count"].as_u64().unwrap() as usize);
        vectors
    }

    fn pairs(object: &Value) -> Vec<(String, String)> {
        let object = object.as_object().unwrap().iter();
        let pairs = object.map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()));
        pairs.collect()
    }

    fn shown(params: &[(String, HeaderValue)]) -> Vec<(String, String)> {
        let mut pairs: Vec<(String, String)> = (params.iter())
            .map(|(k, v)| (k.clone(), v.expose().into_owned()))
            .collect();
        pairs.sort();
        pairs
    }

    /// Each call the official signer signed: the same parameters, query and form, the same
    /// string to sign, the same signature.
    #[test]
    fn sign_rpc_matches_every_official_vector() {
        let vectors = vectors();
        let has_space = |v: &Value| v["string_to_sign"].as_str().unwrap().contains("%2520");
        assert!(vectors.iter().any(has_space), "a vector with a space");
        for v in &vectors {
            let name = v["name"].as_str().unwrap();
            let creds = Credentials {
                access_key_id: v["access_key_id"].as_str().unwrap().into(),
                access_key_secret: Secret::new(v["access_key_secret"].as_str().unwrap()),
                security_token: v["security_token"].as_str().map(Secret::new),
            };
            // Given in reverse: the signer sorts on its own.
            let form = pairs(&v["form"]);
            let params: Vec<(&str, HeaderValue)> = (form.iter().rev())
                .map(|(k, v)| (k.as_str(), HeaderValue::public(v.as_str())))
                .collect();
            let req = RpcRequest {
                method: v["method"].as_str().unwrap(),
                version: v["version"].as_str().unwrap(),
                action: v["action"].as_str().unwrap(),
                params: &params,
            };
            let now = humantime::parse_rfc3339(v["timestamp"].as_str().unwrap()).unwrap();
            let nonce = v["nonce"].as_str().unwrap();

            let (_, string_to_sign) = draft(&req, &creds, now, nonce);
            let expected = v["string_to_sign"].as_str().unwrap();
            assert_eq!(string_to_sign, expected, "{name}: string to sign");

            let signed = sign_rpc(&req, &creds, now, nonce);
            let mut query = pairs(&v["query"]);
            query.push(("Signature".into(), v["signature"].as_str().unwrap().into()));
            query.sort();
            assert_eq!(shown(&signed.query), query, "{name}: query and signature");
            let mut form = form.clone();
            form.sort();
            assert_eq!(shown(&signed.form), form, "{name}: form");
        }
    }

    fn sts_caller() -> Credentials {
        Credentials {
            access_key_id: "STS.caller".into(),
            access_key_secret: Secret::new("s3cret-do-not-print"),
            security_token: Some(Secret::new("CAIS token+/=")),
        }
    }

    #[test]
    fn the_token_and_signature_are_marked_and_never_printed() {
        let params = [("RoleArn", HeaderValue::public("acs:ram::1:role/r x"))];
        let req = RpcRequest {
            method: "POST",
            version: "2015-04-01",
            action: "AssumeRole",
            params: &params,
        };
        let signed = sign_rpc(&req, &sts_caller(), SystemTime::UNIX_EPOCH, "n1");
        let marked: Vec<&str> = (signed.query.iter())
            .filter(|(_, v)| v.is_sensitive())
            .map(|(k, _)| k.as_str())
            .collect();
        assert_eq!(marked, ["SecurityToken", "Signature"]);
        let signature = signed.query.last().unwrap().1.expose().into_owned();
        let printed = format!(
            "{signed:?} {signed:#?} {} {}",
            signed.redacted_query(),
            signed.redacted_form()
        );
        for secret in [
            "CAIS",
            "s3cret",
            &signature,
            &encode_query_value(&signature),
        ] {
            assert!(!printed.contains(secret), "{secret} in {printed}");
        }
        assert_eq!(
            signed.redacted_query(),
            "Action=AssumeRole&Format=JSON&Version=2015-04-01&Timestamp=1970-01-01T00%3A00%3A00Z\
             &SignatureMethod=HMAC-SHA1&SignatureVersion=1.0&SignatureNonce=n1\
             &AccessKeyId=STS.caller&SecurityToken=<redacted>&Signature=<redacted>"
        );
        assert_eq!(
            signed.redacted_form(),
            "RoleArn=acs%3Aram%3A%3A1%3Arole%2Fr%20x"
        );
        let sent = signed.expose_query();
        assert!(
            sent.contains("&SecurityToken=CAIS%20token%2B%2F%3D&Signature="),
            "{sent}"
        );
        assert_eq!(signed.expose_form(), signed.redacted_form());
    }

    #[test]
    fn an_unsigned_call_names_only_action_format_version_and_time() {
        let token = Secret::new("eyJ.oidc.token");
        let params = [
            ("RoleArn", HeaderValue::public("acs:ram::1:role/r")),
            ("OIDCToken", HeaderValue::sensitive("", token)),
        ];
        let req = RpcRequest {
            method: "POST",
            version: "2015-04-01",
            action: "AssumeRoleWithOIDC",
            params: &params,
        };
        let call = unsigned_rpc(&req, SystemTime::UNIX_EPOCH);
        assert_eq!(
            call.redacted_query(),
            "Action=AssumeRoleWithOIDC&Format=JSON&Version=2015-04-01\
             &Timestamp=1970-01-01T00%3A00%3A00Z"
        );
        assert_eq!(
            call.redacted_form(),
            "RoleArn=acs%3Aram%3A%3A1%3Arole%2Fr&OIDCToken=<redacted>"
        );
        assert!(call.expose_form().ends_with("&OIDCToken=eyJ.oidc.token"));
        assert!(!format!("{call:?}").contains("eyJ"));
    }
}
