//! STS on the stand-in's port (`GET` or `POST /`, parameters in the query or a form body): `AssumeRole`, its RPC signature verified (rpc.rs), its `SignatureNonce` never seen before and its `Timestamp` within 15 minutes, the caller trusted by the role; `AssumeRoleWithOIDC`, unsigned, its token the one the OIDC provider holds now. Both answer as STS does, with short-lived credentials that SLS accepts until they expire.
// Codes, statuses and messages as STS's error-code reference and the official credentials libraries give them.

use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use super::http::Request;
use super::{Reply, Shared, accounts, rpc, sls};

/// Where STS answers: the root, as `https://sts.aliyuncs.com/?...`.
pub(super) const PATH: &str = "/";
const VERSION: &str = "2015-04-01";
/// How far `Timestamp` may be from the server clock.
const TIMESTAMP_WINDOW: Duration = Duration::from_secs(15 * 60);
const DEFAULT_DURATION_SECS: u64 = 3600;

/// A RAM role: its ARN and the longest its credentials last.
pub(super) struct Role {
    pub arn: String,
    pub lifetime: Duration,
}

type Checked<T> = Result<T, Reply>;

/// The answer to an STS request.
pub(super) fn answer(shared: &Shared, request: &Request, now: SystemTime) -> Reply {
    let call = Call {
        shared,
        method: &request.method,
        params: params(&request.query, &request.headers, &request.body),
        now,
    };
    match call.assume() {
        Ok(reply) | Err(reply) => reply,
    }
}

/// The query's parameters, then the form body's, decoded.
pub(super) fn params(
    query: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> Vec<(String, String)> {
    let mut params = sls::query_pairs(query);
    let form = (headers.iter()).any(|(name, value)| {
        name.eq_ignore_ascii_case("content-type")
            && value.starts_with("application/x-www-form-urlencoded")
    });
    if form {
        params.extend(sls::query_pairs(&String::from_utf8_lossy(body)));
    }
    params
}

fn refuse<T>(status: u16, code: &str, message: &str) -> Checked<T> {
    Err(error(status, code, message))
}

/// One STS request, as received, at the server clock's `now`.
struct Call<'a> {
    shared: &'a Shared,
    method: &'a str,
    params: Vec<(String, String)>,
    now: SystemTime,
}

impl<'a> Call<'a> {
    fn get(&self, name: &str) -> Option<&str> {
        let found = self.params.iter().find(|(key, _)| key == name);
        found.map(|(_, value)| value.as_str())
    }

    fn required(&self, name: &str) -> Checked<&str> {
        match self.get(name) {
            Some(value) if !value.is_empty() => Ok(value),
            _ => refuse(
                400,
                &format!("Missing{name}"),
                &format!("{name} is mandatory for this action."),
            ),
        }
    }

    fn assume(&self) -> Checked<Reply> {
        match self.get("Version") {
            Some(VERSION) => {}
            None => {
                return refuse(
                    400,
                    "MissingVersion",
                    "Version is mandatory for this action.",
                );
            }
            Some(_) => {
                return refuse(
                    400,
                    "InvalidVersion",
                    "Specified parameter Version is not valid.",
                );
            }
        }
        match self.get("Action") {
            Some("AssumeRole") => {
                let caller = self.authenticate()?;
                let role = self.role()?;
                if !self.trusts(&role.arn, &caller) {
                    let message = "You are not authorized to do this action. You should be authorized by RAM.";
                    return refuse(403, "NoPermission", message);
                }
                self.grant(role)
            }
            Some("AssumeRoleWithOIDC") => {
                self.check_timestamp(false)?;
                let provider = self.check_oidc_token()?;
                let role = self.role()?;
                if !self.trusts(&role.arn, provider) {
                    return refuse(
                        401,
                        "AuthenticationFail.NoPermission",
                        "There is no permission",
                    );
                }
                self.grant(role)
            }
            _ => refuse(
                404,
                "InvalidAction.NotFound",
                "Specified api is not found, please check your url and method.",
            ),
        }
    }

    /// The principal (key id, or the role its credentials were issued for) of a signed request.
    fn authenticate(&self) -> Checked<String> {
        for (name, wanted) in [
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureVersion", "1.0"),
        ] {
            if self.required(name)? != wanted {
                return refuse(
                    400,
                    &format!("Invalid{name}"),
                    &format!("Specified {name} is not supported."),
                );
            }
        }
        let key_id = self.required("AccessKeyId")?;
        self.check_timestamp(true)?;
        let nonce = self.required("SignatureNonce")?;
        let signature = self.required("Signature")?;
        let Some(account) = accounts::find(self.shared, key_id) else {
            return refuse(
                404,
                "InvalidAccessKeyId.NotFound",
                "Specified access key is not found.",
            );
        };
        match (&account.token, self.get("SecurityToken")) {
            (None, None) => {}
            (Some(_), None) => {
                return refuse(
                    400,
                    "MissingSecurityToken",
                    "SecurityToken is mandatory for this action.",
                );
            }
            (Some(token), Some(sent)) if token == sent => {}
            _ => {
                let message = "Specified SecurityToken mismatch with the AccessKey.";
                return refuse(400, "InvalidSecurityToken.MismatchWithAccessKey", message);
            }
        }
        if account.expires.is_some_and(|expires| expires <= self.now) {
            return refuse(
                400,
                "InvalidSecurityToken.Expired",
                "Specified SecurityToken is expired.",
            );
        }
        let string_to_sign = rpc::string_to_sign(self.method, &self.params);
        if signature != rpc::signature(&account.secret, &string_to_sign) {
            let message = "Specified signature is not matched with our calculation.";
            return refuse(400, "SignatureDoesNotMatch", message);
        }
        // Only a signed request spends its nonce, so no one else can spend it first.
        if !self.shared.log().sts_nonces.insert(nonce.to_string()) {
            return refuse(
                400,
                "SignatureNonceUsed",
                "Specified signature nonce was used already.",
            );
        }
        Ok(account.principal)
    }

    /// `Timestamp` as `YYYY-MM-DDThh:mm:ssZ`, within 15 minutes of the server clock.
    fn check_timestamp(&self, required: bool) -> Checked<()> {
        let Some(stamp) = self.get("Timestamp") else {
            if required {
                return refuse(
                    400,
                    "MissingTimestamp",
                    "Timestamp is mandatory for this action.",
                );
            }
            return Ok(());
        };
        let sent = (stamp.len() == 20).then(|| humantime::parse_rfc3339(stamp).ok());
        let Some(sent) = sent.flatten() else {
            let message = "Specified time stamp or date value is not well formatted.";
            return refuse(400, "InvalidTimeStamp.Format", message);
        };
        let distance = self
            .now
            .duration_since(sent)
            .unwrap_or_else(|e| e.duration());
        if distance > TIMESTAMP_WINDOW {
            let message = "Specified time stamp or date value is expired.";
            return refuse(400, "InvalidTimeStamp.Expired", message);
        }
        Ok(())
    }

    /// The OIDC provider the request names, once its token is the one that provider holds now.
    fn check_oidc_token(&self) -> Checked<&str> {
        let provider = self.required("OIDCProviderArn")?;
        let token = self.get("OIDCToken").unwrap_or_default();
        if token.is_empty() {
            return refuse(
                401,
                "AuthenticationFail.OIDCToken.Invalid",
                "The OIDCToken can not empty.",
            );
        }
        let log = self.shared.log();
        let holds = log.oidc_providers.iter().find(|(arn, _)| arn == provider);
        match holds {
            None => refuse(
                401,
                "AuthenticationFail.NoPermission",
                "No such OIDC Provider registered.",
            ),
            Some((_, current)) if current == token => Ok(provider),
            Some(_) => {
                let message = "The Jwt content is invalid that cannot be recognized.";
                refuse(401, "AuthenticationFail.OIDCToken.Invalid", message)
            }
        }
    }

    fn role(&self) -> Checked<&'a Role> {
        let arn = self.required("RoleArn")?;
        let found = self.shared.world.roles.iter().find(|role| role.arn == arn);
        found.map_or_else(
            || {
                refuse(
                    404,
                    "EntityNotExist.Role",
                    &format!("The role not exists: {arn}."),
                )
            },
            Ok,
        )
    }

    fn trusts(&self, role: &str, principal: &str) -> bool {
        let trusts = self.shared.world.trusts.iter();
        trusts
            .into_iter()
            .any(|(arn, trusted)| arn == role && trusted == principal)
    }

    /// The role's session, checked, and new credentials for it.
    fn grant(&self, role: &Role) -> Checked<Reply> {
        let session = self.required("RoleSessionName")?;
        let allowed = |c: char| c.is_ascii_alphanumeric() || ".@_-".contains(c);
        if !(2..=64).contains(&session.len()) || !session.chars().all(allowed) {
            let message = "The parameter RoleSessionName is wrongly formed.";
            return refuse(400, "InvalidParameter.RoleSessionName", message);
        }
        let duration = self
            .get("DurationSeconds")
            .map_or(Ok(DEFAULT_DURATION_SECS), str::parse);
        let Some(duration) = duration.ok().filter(|secs| (900..=43200).contains(secs)) else {
            let message = "The Min/Max value of DurationSeconds is 15min/12hr.";
            return refuse(400, "InvalidParameter.DurationSeconds", message);
        };
        let policy = self.get("Policy").filter(|p| !p.is_empty());
        if policy.is_some_and(|p| !serde_json::from_str::<Value>(p).is_ok_and(|v| v.is_object())) {
            let message = "The parameter Policy has not passed grammar check.";
            return refuse(400, "InvalidParameter.PolicyGrammar", message);
        }
        // A test's short-lived role wins over what was asked for.
        let lifetime = role.lifetime.min(Duration::from_secs(duration));
        let issued = accounts::issue(self.shared, &role.arn, lifetime, self.now);
        let body = json!({
            "AssumedRoleUser": {
                "Arn": format!("{}/{session}", role.arn),
                "AssumedRoleId": format!("3{:017}:{session}", unix_secs(self.now)),
            },
            "Credentials": {
                "AccessKeyId": issued.key_id,
                "AccessKeySecret": issued.secret,
                "SecurityToken": issued.token,
                "Expiration": accounts::time(issued.expires),
            },
        });
        Ok(with_request_id(200, body))
    }
}

/// An STS error: `{"RequestId", "HostId", "Code", "Message", "Recommend"}`.
pub(super) fn error(status: u16, code: &str, message: &str) -> Reply {
    let body = json!({
        "HostId": "sts.aliyuncs.com",
        "Code": code,
        "Message": message,
        "Recommend": format!("https://api.aliyun.com/troubleshoot?q={code}&product=Sts"),
    });
    Reply {
        error_code: Some(code.into()),
        ..with_request_id(status, body)
    }
}

/// `body` with a new `RequestId` (a UUID in upper case, as STS's).
fn with_request_id(status: u16, mut body: Value) -> Reply {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, SeqCst);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let id = format!(
        "{nanos:08X}-{:04X}-4{:03X}-8{:03X}-{:012X}",
        std::process::id() & 0xFFFF,
        n & 0xFFF,
        (n >> 12) & 0xFFF,
        u64::from(n) * 7919
    );
    body["RequestId"] = Value::String(id);
    Reply::raw(status, "application/json;charset=utf-8", body.to_string())
}

/// The `RequestId` an STS answer carries, which the record keeps as the request's.
pub(super) fn request_id(reply: &Reply) -> Option<String> {
    let body: Value = serde_json::from_slice(&reply.body).ok()?;
    body["RequestId"].as_str().map(String::from)
}

fn unix_secs(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}
