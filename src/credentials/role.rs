//! RAM roles assumed through STS: which STS endpoint and what session (shared by every source
//! that assumes a role), and the `AssumeRole` provider, whose caller's credentials come from
//! another provider (the profile's own keys, a source profile, an ECS role, a credentials file).

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Result, bail};

use super::keyring::{Issued, Provider};
use super::sts::{RoleRequest, Sts, StsEndpoint};
use crate::config::env::Env;
use crate::http::Http;

/// `$ALIBABA_CLOUD_STS_ENDPOINT`: an STS host or URL, which wins over every other choice.
pub const ENV_STS_ENDPOINT: &str = "ALIBABA_CLOUD_STS_ENDPOINT";
/// `$ALIBABA_CLOUD_STS_REGION`: ask that region's STS endpoint.
pub const ENV_STS_REGION: &str = "ALIBABA_CLOUD_STS_REGION";
/// `$ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED=true`: with a region, its VPC endpoint.
pub const ENV_VPC_ENDPOINT_ENABLED: &str = "ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED";

/// A session lasts this long unless configured otherwise, and no less nor more than STS allows.
pub const DEFAULT_DURATION: u32 = 3600;
const DURATION_BOUNDS: std::ops::RangeInclusive<u32> = 900..=43200;

/// What a source says about a role to assume; empty fields take the defaults.
#[derive(Debug, Clone, Default)]
pub struct RoleSettings<'a> {
    pub role_arn: &'a str,
    pub session_name: Option<&'a str>,
    pub duration_seconds: Option<u32>,
    pub policy: Option<&'a str>,
    pub external_id: Option<&'a str>,
    /// The source's own STS endpoint and region (`sts_endpoint`, `sts_region`); the environment
    /// beats them, as it beats every non-secret setting of a profile.
    pub sts_endpoint: Option<&'a str>,
    pub sts_region: Option<&'a str>,
    /// Where these settings are, for errors (`profile "prod" in F`).
    pub configured_at: &'a str,
}

impl RoleSettings<'_> {
    /// The request STS gets: session name `sls-retry-<unix seconds>` unless configured (STS wants
    /// 2-64 of `[A-Za-z0-9.@_-]`), 3600 s unless configured (900-43200).
    pub fn request(&self) -> Result<RoleRequest> {
        let at = self.configured_at;
        let session_name = match self.session_name.filter(|s| !s.is_empty()) {
            Some(name) => {
                let allowed = |c: char| c.is_ascii_alphanumeric() || ".@_-".contains(c);
                if !(2..=64).contains(&name.len()) || !name.chars().all(allowed) {
                    bail!(
                        "{at}: role session name \"{}\" must be 2-64 letters, digits or . @ _ -",
                        crate::untrusted::excerpt(name, 80)
                    );
                }
                name.to_string()
            }
            None => {
                let now = SystemTime::now().duration_since(UNIX_EPOCH);
                format!("sls-retry-{}", now.map_or(0, |d| d.as_secs()))
            }
        };
        let duration_seconds = self.duration_seconds.unwrap_or(DEFAULT_DURATION);
        if !DURATION_BOUNDS.contains(&duration_seconds) {
            bail!(
                "{at}: a role session lasts {} to {} seconds, not {duration_seconds}",
                DURATION_BOUNDS.start(),
                DURATION_BOUNDS.end()
            );
        }
        if self.role_arn.trim().is_empty() {
            bail!("{at}: the role ARN is empty");
        }
        Ok(RoleRequest {
            role_arn: self.role_arn.trim().to_string(),
            session_name,
            duration_seconds,
            policy: self.policy.filter(|p| !p.is_empty()).map(str::to_string),
            external_id: self
                .external_id
                .filter(|e| !e.is_empty())
                .map(str::to_string),
        })
    }

    /// The STS client to ask: `$ALIBABA_CLOUD_STS_ENDPOINT`, else the source's `sts_endpoint`,
    /// else a region's endpoint (`$ALIBABA_CLOUD_STS_REGION`, else the source's `sts_region`;
    /// its VPC endpoint with `$ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED=true`), else the global one.
    pub fn sts(&self, env: &Env, http: &Http) -> Result<Sts> {
        let explicit = env.get(ENV_STS_ENDPOINT);
        let explicit = explicit
            .as_deref()
            .or(self.sts_endpoint.filter(|e| !e.is_empty()));
        let region = env.get(ENV_STS_REGION);
        let region = region
            .as_deref()
            .or(self.sts_region.filter(|r| !r.is_empty()));
        let vpc = env
            .get(ENV_VPC_ENDPOINT_ENABLED)
            .is_some_and(|v| v.eq_ignore_ascii_case("true"));
        let endpoint = StsEndpoint::select(explicit, region, vpc)
            .map_err(|e| anyhow::anyhow!("{}: {e:#}", self.configured_at))?;
        Ok(Sts {
            endpoint,
            http: http.clone(),
            interrupt: env.interrupt.clone(),
        })
    }
}

/// How `-v` names an assumed role: its ARN, the session, and the STS endpoint asked.
pub fn describe(request: &RoleRequest, sts: &Sts) -> String {
    format!(
        "role {} (session {}) via STS {}",
        crate::untrusted::escape(&request.role_arn),
        request.session_name,
        sts.endpoint.0
    )
}

/// A role assumed with the credentials another provider gives (asked afresh at each refresh).
pub struct AssumedRole {
    pub caller: Arc<dyn Provider>,
    pub sts: Sts,
    pub role: RoleRequest,
}

impl Provider for AssumedRole {
    fn fetch(&self) -> Result<Issued> {
        let caller = self.caller.fetch()?;
        self.sts.assume_role(&caller.credentials, &self.role)
    }
}

/// `role` assumed with `caller`'s credentials, and how `-v` names it, after `source`.
pub fn assume(
    settings: &RoleSettings,
    caller: Arc<dyn Provider>,
    source: String,
    env: &Env,
    http: &Http,
) -> Result<super::Found> {
    let role = settings.request()?;
    let sts = settings.sts(env, http)?;
    let described = format!("{source}: {}", describe(&role, &sts));
    let provider = AssumedRole { caller, sts, role };
    Ok((Arc::new(provider), described))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(role_arn: &str) -> RoleSettings<'_> {
        RoleSettings {
            role_arn,
            configured_at: "profile \"p\" in f",
            ..RoleSettings::default()
        }
    }

    #[test]
    fn a_session_takes_the_defaults_unless_configured() {
        let request = settings("acs:ram::1:role/r").request().unwrap();
        assert!(
            request.session_name.starts_with("sls-retry-"),
            "{request:?}"
        );
        assert_eq!(request.duration_seconds, 3600);
        assert_eq!((request.policy, request.external_id), (None, None));

        let configured = RoleSettings {
            session_name: Some("ops.cron@example"),
            duration_seconds: Some(900),
            policy: Some("{\"Statement\": []}"),
            external_id: Some("abc"),
            ..settings("acs:ram::1:role/r")
        };
        let request = configured.request().unwrap();
        assert_eq!(request.session_name, "ops.cron@example");
        assert_eq!(request.duration_seconds, 900);
        assert_eq!(request.external_id.as_deref(), Some("abc"));
    }

    #[test]
    fn what_sts_would_refuse_is_an_error_naming_where_it_is_configured() {
        for (bad, message) in [
            (
                RoleSettings {
                    duration_seconds: Some(60),
                    ..settings("r")
                },
                "a role session lasts 900 to 43200 seconds, not 60",
            ),
            (
                RoleSettings {
                    session_name: Some("has space"),
                    ..settings("r")
                },
                "role session name \"has space\" must be 2-64",
            ),
            (settings(" "), "the role ARN is empty"),
        ] {
            let err = bad.request().unwrap_err().to_string();
            assert!(err.starts_with("profile \"p\" in f: "), "{err}");
            assert!(err.contains(message), "{err}");
        }
    }
}
