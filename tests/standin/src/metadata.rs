//! The ECS instance-metadata routes an EcsRamRole credentials provider reads (`/latest/...` on 100.100.100.200), served on the stand-in's port whatever the Host.
// Paths and header names as aliyun/credentials-go (providers/ecs_ram_role.go) and credentials-java use them.
// Statuses and bodies as Alibaba's ECS metadata FAQ gives them: 400 "Missing or Invalid Parameters" for a
// TTL outside 1..=21600, 401 for an invalid token, 403 for X-Forwarded-For; a GET without a token on a
// hardened-only (IMDSv2) instance is 403 as well.

use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::http::Request;
use super::{Reply, Shared, accounts};

/// Every route lives under this prefix; SLS has nothing there.
pub(super) const PREFIX: &str = "/latest/";
const TOKEN_PATH: &str = "/latest/api/token";
const ROLES_PATH: &str = "/latest/meta-data/ram/security-credentials/";
const TTL_HEADER: &str = "x-aliyun-ecs-metadata-token-ttl-seconds";
const TOKEN_HEADER: &str = "x-aliyun-ecs-metadata-token";
const MAX_TOKEN_TTL_SECS: u64 = 21600;
/// How long the role's fixed credentials say they last (`Expiration`), unless
/// `Builder::ecs_role_lifetime` makes it issue short-lived ones.
const CREDENTIALS_LIFETIME: Duration = Duration::from_secs(6 * 3600);

/// The instance's RAM role and the temporary credentials it hands out.
pub(super) struct EcsRole {
    pub name: String,
    pub key_id: String,
    pub secret: String,
    pub token: String,
}

/// The answer to one metadata request; tokens issued go into the shared log.
pub(super) fn answer(shared: &Shared, request: &Request, now: SystemTime) -> Reply {
    if request.header("x-forwarded-for").is_some() {
        return text(403, "403 - Forbidden");
    }
    match (request.method.as_str(), request.path.as_str()) {
        ("PUT", TOKEN_PATH) => issue_token(shared, request, now),
        ("GET", path) => match (
            check_token(shared, request, now),
            path.strip_prefix(ROLES_PATH),
        ) {
            (Err(reply), _) => reply,
            (Ok(()), Some(name)) => role(shared, name, now),
            (Ok(()), None) => not_found(),
        },
        _ => not_found(),
    }
}

fn issue_token(shared: &Shared, request: &Request, now: SystemTime) -> Reply {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let ttl = (request.header(TTL_HEADER))
        .and_then(|ttl| ttl.trim().parse::<u64>().ok())
        .filter(|ttl| (1..=MAX_TOKEN_TTL_SECS).contains(ttl));
    let Some(ttl) = ttl else {
        return text(400, "400 - Missing or Invalid Parameters");
    };
    let nanos = now
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let token = format!(
        "standin-imds-{nanos:08x}{:08x}",
        COUNTER.fetch_add(1, SeqCst)
    );
    let expires = now + Duration::from_secs(ttl);
    shared.log().metadata_tokens.push((token.clone(), expires));
    text(200, &token)
}

/// A token, when sent, must be one issued and unexpired; none is needed unless the instance is hardened-only.
fn check_token(shared: &Shared, request: &Request, now: SystemTime) -> Result<(), Reply> {
    match request.header(TOKEN_HEADER) {
        Some(sent) => {
            let log = shared.log();
            let valid = (log.metadata_tokens.iter())
                .any(|(token, expires)| token == sent && now < *expires);
            if valid {
                Ok(())
            } else {
                Err(text(401, "401 - Unauthorized"))
            }
        }
        None if shared.world.ecs_require_token => Err(text(403, "403 - Forbidden")),
        None => Ok(()),
    }
}

/// `""` lists the role name; a name gets its credentials.
fn role(shared: &Shared, name: &str, now: SystemTime) -> Reply {
    let Some(role) = &shared.world.ecs_role else {
        return not_found();
    };
    if name.is_empty() {
        return text(200, &role.name);
    }
    if name != role.name {
        return not_found();
    }
    let time = accounts::time;
    let (key_id, secret, token, expires) = match shared.world.ecs_role_lifetime {
        Some(lifetime) => {
            let by = format!("ecs:{}", role.name);
            let issued = accounts::issue(shared, &by, lifetime, now);
            (issued.key_id, issued.secret, issued.token, issued.expires)
        }
        None => (
            role.key_id.clone(),
            role.secret.clone(),
            role.token.clone(),
            now + CREDENTIALS_LIFETIME,
        ),
    };
    let body = serde_json::json!({
        "AccessKeyId": key_id,
        "AccessKeySecret": secret,
        "SecurityToken": token,
        "Expiration": time(expires),
        "LastUpdated": time(now),
        "Code": "Success",
    });
    Reply::raw(200, "application/json", body.to_string())
}

fn not_found() -> Reply {
    text(404, "404 - Not Found")
}

fn text(status: u16, body: &str) -> Reply {
    Reply::raw(status, "text/plain", body)
}
