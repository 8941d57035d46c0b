//! STS, the Security Token Service: `AssumeRole` (a RAM role by ARN, signed with the caller's
//! credentials in the RPC style) and `AssumeRoleWithOIDC` (RRSA on ACK Kubernetes: unsigned, the
//! service account's OIDC token instead), over the run's HTTP agent; which STS endpoint to ask.
//!
//! Both go out as aliyun/credentials-go sends them: `POST /`, the common parameters in the query,
//! the role's in a form body. One attempt each: the caller (the keyring) decides when to ask
//! again. Nothing secret (the caller's secret or token, the signature, the OIDC token, the
//! credentials issued) reaches an error or a `-v`/`-vv` line.

use std::fmt;
use std::time::{Instant, SystemTime};

use anyhow::{Result, anyhow, bail};

use super::keyring::{self, Issued};
use super::{Credentials, Secret};
use crate::endpoint::{Endpoint, Scheme};
use crate::http::Http;
use crate::http::failure::{self, FailureKind, Peer};
use crate::http::proxy::Route;
use crate::interrupt::Interrupt;
use crate::names::Region;
use crate::sign::{self, HeaderValue, RpcRequest, RpcSigned};
use crate::untrusted::{escape, excerpt};

/// The STS endpoint when nothing says otherwise.
pub const GLOBAL_ENDPOINT: &str = "sts.aliyuncs.com";

/// The STS API version every official library sends.
const API_VERSION: &str = "2015-04-01";

/// STS answers in well under 4 KiB; anything far bigger is not STS talking.
const MAX_ANSWER_BYTES: u64 = 64 * 1024;

const FORM: &str = "application/x-www-form-urlencoded";

/// A role to assume, and for how long.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleRequest {
    /// `acs:ram::<account>:role/<name>`.
    pub role_arn: String,
    /// 2-64 of `[A-Za-z0-9.@_-]`; `sls-retry-<unix seconds>` when not configured.
    pub session_name: String,
    /// 900-43200 (default 3600).
    pub duration_seconds: u32,
    /// A policy narrowing the role's permissions, as JSON text.
    pub policy: Option<String>,
    pub external_id: Option<String>,
}

impl RoleRequest {
    /// `AssumeRole`'s parameters, in credentials-go's order.
    fn assume_role_params(&self) -> Vec<(&str, HeaderValue)> {
        let mut params = vec![("RoleArn", HeaderValue::public(&self.role_arn))];
        params.extend(optional("Policy", &self.policy));
        params.extend(optional("ExternalId", &self.external_id));
        params.extend(self.session_params());
        params
    }

    /// `AssumeRoleWithOIDC`'s parameters, in credentials-go's order; the token marked sensitive.
    fn oidc_params<'a>(
        &'a self,
        provider_arn: &'a str,
        token: &Secret,
    ) -> Vec<(&'a str, HeaderValue)> {
        let mut params = vec![
            ("RoleArn", HeaderValue::public(&self.role_arn)),
            ("OIDCProviderArn", HeaderValue::public(provider_arn)),
            ("OIDCToken", HeaderValue::sensitive("", token.clone())),
        ];
        params.extend(optional("Policy", &self.policy));
        params.extend(self.session_params());
        params
    }

    fn session_params(&self) -> [(&str, HeaderValue); 2] {
        [
            ("RoleSessionName", HeaderValue::public(&self.session_name)),
            (
                "DurationSeconds",
                HeaderValue::public(self.duration_seconds.to_string()),
            ),
        ]
    }
}

/// A setting with a value: empty or blank counts as not given.
fn given(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|v| !v.is_empty())
}

/// A parameter only sent when it has a value, as the libraries do.
fn optional<'a>(name: &'a str, value: &Option<String>) -> Option<(&'a str, HeaderValue)> {
    let value = value.as_deref().filter(|v| !v.is_empty())?;
    Some((name, HeaderValue::public(value)))
}

/// Where STS answers: `https://sts.aliyuncs.com`, a regional or VPC endpoint, or an explicit
/// host or URL (`http://` only for a loopback test server). Scheme and authority, no path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StsEndpoint(pub String);

impl StsEndpoint {
    /// An explicit endpoint (host or URL) wins; else `sts.{region}.aliyuncs.com` for a region,
    /// `sts-vpc.{region}.aliyuncs.com` when `vpc` too; else the global endpoint. Empty values
    /// count as not given, as in the libraries.
    pub fn select(explicit: Option<&str>, region: Option<&str>, vpc: bool) -> Result<StsEndpoint> {
        if let Some(explicit) = given(explicit) {
            let endpoint = Endpoint::parse_as(explicit, "STS endpoint", GLOBAL_ENDPOINT)
                .map_err(anyhow::Error::msg)?;
            // Our own addition, for tests: the libraries always use https.
            if endpoint.scheme == Scheme::Http && !endpoint.is_loopback() {
                bail!(
                    "the STS endpoint {endpoint} is plain http, but STS answers with secret \
                     credentials: http:// is accepted only for a loopback test server; use https"
                );
            }
            return Ok(StsEndpoint(endpoint.to_string()));
        }
        let Some(region) = given(region) else {
            return Ok(StsEndpoint(format!("https://{GLOBAL_ENDPOINT}")));
        };
        let region = Region::parse(region).map_err(|e| anyhow!("{e} (the STS region)"))?;
        let prefix = if vpc { "sts-vpc" } else { "sts" };
        Ok(StsEndpoint(format!(
            "https://{prefix}.{region}.aliyuncs.com"
        )))
    }
}

impl fmt::Display for StsEndpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An STS client over the run's agent.
pub struct Sts {
    pub endpoint: StsEndpoint,
    pub http: Http,
    pub interrupt: Interrupt,
}

impl Sts {
    /// `AssumeRole`, signed with `caller` (its STS token too, when it has one). Errors carry the
    /// service's code, message and request id; a signal abandons the call.
    pub fn assume_role(&self, caller: &Credentials, role: &RoleRequest) -> Result<Issued> {
        let params = role.assume_role_params();
        let req = rpc_request("AssumeRole", &params);
        let call = sign::sign_rpc(&req, caller, SystemTime::now(), &new_nonce());
        self.call(&req, role, call)
    }

    /// `AssumeRoleWithOIDC`, unsigned: the OIDC provider's ARN and the token (the token file's
    /// content, read afresh by the caller for each call).
    pub fn assume_role_with_oidc(
        &self,
        role: &RoleRequest,
        oidc_provider_arn: &str,
        oidc_token: &Secret,
    ) -> Result<Issued> {
        let params = role.oidc_params(oidc_provider_arn, oidc_token);
        let req = rpc_request("AssumeRoleWithOIDC", &params);
        let call = sign::unsigned_rpc(&req, SystemTime::now());
        self.call(&req, role, call)
    }

    /// Send `call` and read its answer; on a signal, leave it behind (asking STS changes
    /// nothing that matters: unused credentials just expire).
    fn call(&self, req: &RpcRequest, role: &RoleRequest, call: RpcSigned) -> Result<Issued> {
        let asked = Asked {
            action: req.action,
            endpoint: &self.endpoint,
            role,
        };
        let diag = self.http.diag();
        diag.debug(|| shown(&self.endpoint, &call));
        let base: ureq::http::Uri = self.endpoint.to_string().parse()?;
        let (agent, route) = (self.http.route(&base))
            .map_err(|failure| anyhow!("{asked} cannot be sent: {}", failure.why))?;
        let url = format!("{}/?{}", self.endpoint, call.expose_query());
        let form = call.expose_form();
        let started = Instant::now();
        let during = "asking STS for credentials; nothing was sent";
        let sent = (self.interrupt).abandon_on_signal(during, move || post(&agent, &url, form))?;
        let elapsed = started.elapsed().as_millis();
        let (status, body) = match sent {
            Ok(answer) => answer,
            Err(err) => {
                diag.info(|| format!("{asked} -> no response in {elapsed} ms"));
                // The remembered address may be why: the next try looks the name up anew.
                self.http.forget_names();
                return Err(asked.unreachable(&err, &base, route, &self.http));
            }
        };
        let answer = Answer::parse(&body);
        diag.info(|| {
            let id = answer.as_ref().and_then(|a| a.request_id.as_deref());
            let id = excerpt(id.unwrap_or("-"), 64);
            format!("{asked} -> {status} in {elapsed} ms, request id {id}")
        });
        asked.read(status, answer, &body)
    }
}

/// What STS's answer (`status`, `body`) to `action` for `role` at `endpoint` gives: the
/// credentials, or one line saying why not. What `Sts` does with each answer; public for the
/// property tests.
pub fn read_answer(
    endpoint: &StsEndpoint,
    action: &str,
    role: &RoleRequest,
    status: u16,
    body: &[u8],
) -> Result<Issued> {
    let asked = Asked {
        action,
        endpoint,
        role,
    };
    asked.read(status, Answer::parse(body), body)
}

/// The request as `-vv` prints it: the STS token, the signature and an OIDC token redacted.
fn shown(endpoint: &StsEndpoint, call: &RpcSigned) -> String {
    let (query, form) = (call.redacted_query(), call.redacted_form());
    format!("STS request:\nPOST {endpoint}/?{query}\nContent-Type: {FORM}\n\n{form}")
}

fn rpc_request<'a>(action: &'a str, params: &'a [(&'a str, HeaderValue)]) -> RpcRequest<'a> {
    RpcRequest {
        method: "POST",
        version: API_VERSION,
        action,
        params,
    }
}

/// A nonce no call has carried before: STS refuses one it has seen (`SignatureNonceUsed`).
fn new_nonce() -> String {
    format!("{:032x}", fastrand::u128(..))
}

/// The request on the wire: its status and body, or why none came.
fn post(agent: &ureq::Agent, url: &str, form: String) -> Result<(u16, Vec<u8>), ureq::Error> {
    let mut response = (agent.post(url))
        .header("Content-Type", FORM)
        .header("Accept-Encoding", "identity")
        .send(form)?;
    let status = response.status().as_u16();
    let body = response.body_mut().with_config().limit(MAX_ANSWER_BYTES);
    Ok((status, body.read_to_vec()?))
}

/// What STS answers: the credentials, or an error's code and message; the request id either way.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Answer {
    request_id: Option<String>,
    code: Option<String>,
    message: Option<String>,
    credentials: Option<Granted>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Granted {
    access_key_id: Option<String>,
    access_key_secret: Option<Secret>,
    security_token: Option<Secret>,
    expiration: Option<String>,
}

impl Answer {
    /// `None` when the body is no JSON object of that shape (a proxy's page, say).
    fn parse(body: &[u8]) -> Option<Answer> {
        serde_json::from_slice(body).ok()
    }
}

/// One call, as errors and `-v` name it.
struct Asked<'a> {
    action: &'a str,
    endpoint: &'a StsEndpoint,
    role: &'a RoleRequest,
}

impl fmt::Display for Asked<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (arn, session) = (escape(&self.role.role_arn), escape(&self.role.session_name));
        let (action, endpoint) = (self.action, self.endpoint);
        write!(
            f,
            "STS {action} of role {arn} (session {session}) at {endpoint}"
        )
    }
}

impl Asked<'_> {
    /// The credentials of a 200, or an error naming the call and what STS said.
    fn read(&self, status: u16, answer: Option<Answer>, body: &[u8]) -> Result<Issued> {
        let Some(answer) = answer else {
            // Not STS: a proxy's or load balancer's page. A 200's body may hold credentials, so
            // only other answers are quoted.
            let quoted = match status {
                200 => String::new(),
                _ if body.is_empty() => ", empty".to_string(),
                _ => format!(": {}", excerpt(&String::from_utf8_lossy(body), 120)),
            };
            bail!(
                "{self} answered HTTP {status}, not with an STS answer{quoted}; check the STS \
                 endpoint and any proxy"
            );
        };
        let id = excerpt(answer.request_id.as_deref().unwrap_or("-"), 64);
        if status != 200 {
            let code = excerpt(answer.code.as_deref().unwrap_or("(no code)"), 80);
            let message = excerpt(answer.message.as_deref().unwrap_or(""), 300);
            let hint = match code.as_str() {
                "InvalidTimeStamp.Expired" => "; check the local clock (e.g. NTP)",
                _ => "",
            };
            bail!("{self} failed: HTTP {status} {code}: {message} (request id {id}){hint}");
        }
        let granted = answer.credentials.unwrap_or_default();
        let filled = |v: &Option<String>| v.as_deref().is_some_and(|v| !v.is_empty());
        let secret = |v: &Option<Secret>| v.as_ref().is_some_and(|v| !v.expose().is_empty());
        let complete = filled(&granted.access_key_id)
            && secret(&granted.access_key_secret)
            && secret(&granted.security_token);
        if !complete {
            bail!("{self} answered HTTP 200 without credentials (request id {id})");
        }
        let Some(expires) = granted.expiration.as_deref().and_then(keyring::expiration) else {
            let shown = excerpt(granted.expiration.as_deref().unwrap_or("none"), 64);
            bail!(
                "{self} answered with an Expiration that cannot be read ({shown}; request id {id})"
            );
        };
        Ok(Issued {
            credentials: Credentials {
                access_key_id: granted.access_key_id.unwrap_or_default(),
                access_key_secret: granted.access_key_secret.unwrap_or_default(),
                security_token: granted.security_token,
            },
            expires: Some(expires),
        })
    }

    /// No answer came from `base` by `route`: what happened, and what to check.
    fn unreachable(
        &self,
        err: &ureq::Error,
        base: &ureq::http::Uri,
        route: Route,
        http: &Http,
    ) -> anyhow::Error {
        let why = match err {
            ureq::Error::BodyExceedsLimit(_) => {
                format!("an answer over {} KiB", MAX_ANSWER_BYTES / 1024)
            }
            // Its text would quote the URL, whose query holds the signature and STS token.
            ureq::Error::BadUri(_) => "the request's URL is invalid".to_string(),
            _ => {
                let peer = Peer::of(base, "the STS endpoint", "check the STS endpoint");
                let failure = failure::describe(err, &peer, route, http.timeout());
                if failure.kind != FailureKind::Transient {
                    return anyhow!("{self} failed: {}", failure.why);
                }
                failure.why
            }
        };
        anyhow!("{self} failed: {why}; check the network, any proxy and the STS endpoint")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_selection() {
        let select = |explicit, region, vpc| StsEndpoint::select(explicit, region, vpc);
        let cases = [
            (None, None, false, "https://sts.aliyuncs.com"),
            (None, None, true, "https://sts.aliyuncs.com"),
            (Some(""), Some(" "), false, "https://sts.aliyuncs.com"),
            (
                None,
                Some("cn-hangzhou"),
                false,
                "https://sts.cn-hangzhou.aliyuncs.com",
            ),
            (
                None,
                Some("cn-shanghai"),
                true,
                "https://sts-vpc.cn-shanghai.aliyuncs.com",
            ),
            (
                Some("sts.cn-beijing.aliyuncs.com"),
                Some("cn-hangzhou"),
                true,
                "https://sts.cn-beijing.aliyuncs.com",
            ),
            (
                Some("https://STS.example.com:8443/"),
                None,
                false,
                "https://sts.example.com:8443",
            ),
            (
                Some("http://127.0.0.1:9000"),
                None,
                false,
                "http://127.0.0.1:9000",
            ),
            (Some("http://[::1]:9000"), None, false, "http://[::1]:9000"),
            (Some("http://localhost"), None, false, "http://localhost"),
        ];
        for (explicit, region, vpc, expected) in cases {
            let got = select(explicit, region, vpc).unwrap();
            assert_eq!(got.to_string(), expected, "{explicit:?} {region:?} {vpc}");
        }
    }

    #[test]
    fn endpoint_errors_say_what_is_wrong() {
        let cases = [
            (Some("http://sts.aliyuncs.com"), None, "plain http"),
            (Some("ftp://sts.aliyuncs.com"), None, "invalid STS endpoint"),
            (Some("sts.aliyuncs.com/path"), None, "a path"),
            (None, Some("CN Hangzhou"), "invalid region \"CN Hangzhou\""),
        ];
        for (explicit, region, expected) in cases {
            let err = StsEndpoint::select(explicit, region, false).unwrap_err();
            let err = err.to_string();
            assert!(err.contains(expected), "{err}");
            assert!(!err.contains('\n'), "{err}");
        }
    }

    fn role() -> RoleRequest {
        RoleRequest {
            role_arn: "acs:ram::1:role/r".into(),
            session_name: "sls-retry-1".into(),
            duration_seconds: 3600,
            policy: Some(r#"{"Version":"1"}"#.into()),
            external_id: Some(String::new()),
        }
    }

    fn read(status: u16, body: &str) -> Result<Issued> {
        let endpoint = StsEndpoint("https://sts.aliyuncs.com".into());
        read_answer(&endpoint, "AssumeRole", &role(), status, body.as_bytes())
    }

    fn refusal(status: u16, body: &str) -> String {
        let err = format!("{:#}", read(status, body).unwrap_err());
        assert!(!err.contains('\n'), "{err}");
        err
    }

    #[test]
    fn the_parameters_sent_for_each_call() {
        let names = |params: Vec<(&str, HeaderValue)>| -> Vec<String> {
            params.iter().map(|(n, _)| n.to_string()).collect()
        };
        // An empty ExternalId is not sent, as the libraries do.
        let role = role();
        let assume = names(role.assume_role_params());
        let expected = ["RoleArn", "Policy", "RoleSessionName", "DurationSeconds"];
        assert_eq!(assume, expected);
        let token = Secret::new("jwt");
        let oidc = role.oidc_params("acs:ram::1:oidc-provider/p", &token);
        assert!(oidc[2].1.is_sensitive());
        let expected = [
            "RoleArn",
            "OIDCProviderArn",
            "OIDCToken",
            "Policy",
            "RoleSessionName",
            "DurationSeconds",
        ];
        assert_eq!(names(oidc), expected);
    }

    #[test]
    fn an_answer_gives_the_credentials_and_when_they_expire() {
        let body = r#"{"RequestId":"6894B13B-6D71-4EF5-88FA-F32781734A7F",
            "AssumedRoleUser":{"Arn":"acs:ram::1:role/r/sls-retry-1","AssumedRoleId":"3:sls"},
            "Credentials":{"SecurityToken":"CAIS-token","AccessKeyId":"STS.key",
            "AccessKeySecret":"issued-secret","Expiration":"2026-11-29T10:00:00Z"}}"#;
        let issued = read(200, body).unwrap();
        assert_eq!(issued.credentials.access_key_id, "STS.key");
        assert_eq!(
            issued.credentials.access_key_secret.expose(),
            "issued-secret"
        );
        let token = issued.credentials.security_token.as_ref().unwrap();
        assert_eq!(token.expose(), "CAIS-token");
        assert_eq!(issued.expires, keyring::expiration("2026-11-29T10:00:00Z"));
    }

    #[test]
    fn an_error_names_status_code_message_and_request_id() {
        let body = r#"{"RequestId":"A1B2","HostId":"sts.aliyuncs.com","Code":"NoPermission",
            "Message":"You are not authorized to do this action. You should be authorized by RAM.",
            "Recommend":"https://api.aliyun.com/troubleshoot?q=NoPermission"}"#;
        assert_eq!(
            refusal(403, body),
            "STS AssumeRole of role acs:ram::1:role/r (session sls-retry-1) at \
             https://sts.aliyuncs.com failed: HTTP 403 NoPermission: You are not authorized to \
             do this action. You should be authorized by RAM. (request id A1B2)"
        );
        let stale = r#"{"RequestId":"R","Code":"InvalidTimeStamp.Expired",
            "Message":"Specified time stamp or date value is expired."}"#;
        assert!(refusal(400, stale).ends_with("(request id R); check the local clock (e.g. NTP)"));
        // Server text is escaped, and cut when long.
        let hostile = format!(
            r#"{{"RequestId":"R\u001b[2J","Code":"X","Message":"{}"}}"#,
            "m".repeat(400)
        );
        let err = refusal(500, &hostile);
        assert!(err.contains("request id R\\u{1b}[2J"), "{err}");
        assert!(err.contains(&format!("{}…", "m".repeat(300))), "{err}");
    }

    #[test]
    fn answers_that_are_not_sts_or_lack_credentials() {
        let page = "<html><body><h1>502 Bad Gateway</h1></body></html>";
        assert!(refusal(502, page).ends_with(
            "answered HTTP 502, not with an STS answer: <html><body><h1>502 Bad \
             Gateway</h1></body></html>; check the STS endpoint and any proxy"
        ));
        assert!(refusal(503, "").contains("answered HTTP 503, not with an STS answer, empty;"));
        // A 200 that is not JSON is not quoted: it may hold credentials.
        let broken = r#"{"Credentials":{"AccessKeySecret":"leaked-secret""#;
        let err = refusal(200, broken);
        assert!(err.contains("HTTP 200, not with an STS answer;"), "{err}");
        assert!(!err.contains("leaked"), "{err}");

        let cases = [
            r#"{"RequestId":"R"}"#,
            r#"{"RequestId":"R","Credentials":{"AccessKeyId":"STS.k","AccessKeySecret":"s"}}"#,
            r#"{"RequestId":"R","Credentials":{"AccessKeyId":"","AccessKeySecret":"s",
                "SecurityToken":"t","Expiration":"2026-11-29T10:00:00Z"}}"#,
        ];
        for body in cases {
            let err = refusal(200, body);
            assert!(
                err.ends_with("answered HTTP 200 without credentials (request id R)"),
                "{err}"
            );
        }
        let undated = r#"{"RequestId":"R","Credentials":{"AccessKeyId":"STS.k",
            "AccessKeySecret":"s","SecurityToken":"t","Expiration":"soon"}}"#;
        let err = refusal(200, undated);
        assert!(
            err.ends_with("Expiration that cannot be read (soon; request id R)"),
            "{err}"
        );
    }

    /// What `-vv` prints of both calls: every parameter, no secret.
    #[test]
    fn the_request_as_printed_hides_every_secret() {
        let endpoint = StsEndpoint("https://sts.aliyuncs.com".into());
        let caller = Credentials {
            access_key_id: "STS.caller".into(),
            access_key_secret: Secret::new("caller-secret-do-not-print"),
            security_token: Some(Secret::new("caller-token-do-not-print")),
        };
        let role = role();
        let params = role.assume_role_params();
        let signed = sign::sign_rpc(&rpc_request("AssumeRole", &params), &caller, now(), "n");
        let token = Secret::new("oidc-token-do-not-print");
        let params = role.oidc_params("acs:ram::1:oidc-provider/p", &token);
        let oidc = sign::unsigned_rpc(&rpc_request("AssumeRoleWithOIDC", &params), now());
        let signature = signed.query.last().unwrap().1.expose().into_owned();
        let printed = format!("{}\n{}", shown(&endpoint, &signed), shown(&endpoint, &oidc));
        for secret in ["do-not-print", &signature] {
            assert!(!printed.contains(secret), "{secret} in {printed}");
        }
        let lines: Vec<&str> = printed.lines().collect();
        assert_eq!(lines[0], "STS request:");
        assert!(lines[1].starts_with("POST https://sts.aliyuncs.com/?Action=AssumeRole&"));
        assert!(lines[1].ends_with("&SecurityToken=<redacted>&Signature=<redacted>"));
        assert_eq!(lines[2], "Content-Type: application/x-www-form-urlencoded");
        assert_eq!(
            lines[4],
            "RoleArn=acs%3Aram%3A%3A1%3Arole%2Fr&Policy=%7B%22Version%22%3A%221%22%7D\
             &RoleSessionName=sls-retry-1&DurationSeconds=3600"
        );
        assert!(lines[9].contains("&OIDCToken=<redacted>&"), "{}", lines[9]);
    }

    fn now() -> SystemTime {
        SystemTime::UNIX_EPOCH
    }

    #[test]
    fn nonces_are_new_each_time() {
        let nonces: std::collections::HashSet<String> = (0..1000).map(|_| new_nonce()).collect();
        assert_eq!(nonces.len(), 1000);
        assert!(nonces.iter().all(|n| n.len() == 32));
    }
}
