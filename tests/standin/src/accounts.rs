//! Who may sign: the accounts a test set up (AccessKey pairs, fixed STS credentials) and the short-lived STS credentials the stand-in hands out itself (STS, the credentials URI, a short-lived ECS role), each until its expiration.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::time::{Duration, SystemTime};

use super::Shared;

/// Every secret the stand-in issues starts with this, so a test can look for any of them in output.
pub const ISSUED_SECRET_MARK: &str = "standin-issued-secret-";
/// Every STS token the stand-in issues holds this.
pub const ISSUED_TOKEN_MARK: &str = "standin-issued-token-";

/// Temporary credentials the stand-in handed out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssuedCredentials {
    pub key_id: String,
    pub secret: String,
    pub token: String,
    /// By the server clock; from then on SLS refuses them and STS will not take them as a caller.
    pub expires: SystemTime,
    /// Who they act for: the role ARN (STS), `credentials-uri`, or `ecs:{role}`.
    pub by: String,
}

/// An account as a signature check needs it.
pub(super) struct Account {
    pub secret: String,
    pub token: Option<String>,
    pub expires: Option<SystemTime>,
    /// What a role's trust names for it: its key id, or the role it was issued for.
    pub principal: String,
}

/// The account of `key_id`: one set up by the test, else one issued.
pub(super) fn find(shared: &Shared, key_id: &str) -> Option<Account> {
    let set_up = shared.world.accounts.iter().find(|a| a.0 == key_id);
    if let Some((key_id, secret, token)) = set_up {
        return Some(Account {
            secret: secret.clone(),
            token: token.clone(),
            expires: None,
            principal: key_id.clone(),
        });
    }
    let log = shared.log();
    let issued = log.issued.iter().find(|i| i.key_id == key_id)?;
    Some(Account {
        secret: issued.secret.clone(),
        token: Some(issued.token.clone()),
        expires: Some(issued.expires),
        principal: issued.by.clone(),
    })
}

/// New credentials for `by`, good for `lifetime` from `now`; no two alike.
pub(super) fn issue(
    shared: &Shared,
    by: &str,
    lifetime: Duration,
    now: SystemTime,
) -> IssuedCredentials {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, SeqCst) + 1;
    let random = |salt: &str| RandomState::new().hash_one((n, salt));
    let issued = IssuedCredentials {
        key_id: format!("STS.standin{n:04}{:08x}", random("key") as u32),
        secret: format!("{ISSUED_SECRET_MARK}{n}-{:016x}", random("secret")),
        token: format!("CAIS{ISSUED_TOKEN_MARK}{n}-{:016x}", random("token")),
        expires: now + lifetime,
        by: by.to_string(),
    };
    shared.log().issued.push(issued.clone());
    issued
}

/// `2026-11-29T10:00:00Z`, as the credential services write times.
pub(super) fn time(at: SystemTime) -> String {
    humantime::format_rfc3339_seconds(at).to_string()
}
