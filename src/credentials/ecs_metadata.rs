//! Temporary credentials of an ECS instance's RAM role, from the instance metadata service
//! (IMDSv2 first, IMDSv1 unless disabled), as the `aliyun` CLI's EcsRamRole mode gets them.

use std::time::Duration;

use anyhow::{Context, Result, bail};

use super::keyring::{self, Issued, Provider};
use super::{Credentials, Secret};
use crate::config::env::Env;
use crate::interrupt::Interrupt;
use crate::untrusted::escape;
use std::sync::Arc;

/// Overrides where the ECS metadata service is reached (tests point it at a loopback server).
pub const ENV_ECS_METADATA_URL: &str = "SLS_RETRY_ECS_METADATA_URL";
/// As in Alibaba Cloud's credentials libraries: refuse the token-less IMDSv1 fallback, name the
/// instance's RAM role, or turn the metadata service off.
pub const ENV_IMDSV1_DISABLED: &str = "ALIBABA_CLOUD_IMDSV1_DISABLED";
pub const ENV_ECS_METADATA: &str = "ALIBABA_CLOUD_ECS_METADATA";
pub const ENV_ECS_METADATA_DISABLED: &str = "ALIBABA_CLOUD_ECS_METADATA_DISABLED";

/// Where the ECS instance metadata service answers.
pub const ECS_METADATA_URL: &str = "http://100.100.100.200";

/// Where a role's credentials are, and (with the role's name after it) its credentials.
const CREDENTIALS_PATH: &str = "/latest/meta-data/ram/security-credentials/";

/// Temporary credentials of the instance's RAM role from the ECS metadata service (the `aliyun`
/// CLI's EcsRamRole mode). `role` empty means: ask the service which role is attached.
///
/// IMDSv2 first (a session token), falling back to IMDSv1 unless `v1_disabled`.
pub fn from_ecs_metadata(base: &str, role: &str, v1_disabled: bool) -> Result<Issued> {
    from_service(base, role, v1_disabled, Duration::from_secs(5))
}

/// As `from_ecs_metadata`, each request taking at most `patience` (connecting at most 2 s).
fn from_service(base: &str, role: &str, v1_disabled: bool, patience: Duration) -> Result<Issued> {
    let service = Service::open(base, v1_disabled, patience)?;
    let role = match role {
        "" => service.attached_role()?,
        named => named.to_string(),
    };
    service.role_credentials(&role)
}

/// A session with the metadata service.
struct Service {
    agent: ureq::Agent,
    base: String,
    /// The IMDSv2 session token; `None` on IMDSv1.
    token: Option<String>,
}

impl Service {
    /// Ask for an IMDSv2 session token; without one, go on with IMDSv1 unless `v1_disabled`.
    fn open(base: &str, v1_disabled: bool, patience: Duration) -> Result<Service> {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            // Link-local and answering in milliseconds on ECS; off ECS, fail fast.
            .timeout_connect(Some(patience.min(Duration::from_secs(2))))
            .timeout_global(Some(patience))
            .user_agent(crate::http::USER_AGENT)
            .proxy(None)
            .build()
            .new_agent();
        let mut service = Service {
            agent,
            base: base.trim_end_matches('/').to_string(),
            token: None,
        };
        let answer = (service.agent)
            .put(format!("{}/latest/api/token", service.base))
            .header("X-aliyun-ecs-metadata-token-ttl-seconds", "21600")
            .send_empty();
        service.token = match answer {
            Ok(mut resp) if resp.status() == 200 => {
                let token = resp.body_mut().read_to_string();
                Some(
                    token
                        .map_err(|e| service.unreachable(e))?
                        .trim()
                        .to_string(),
                )
            }
            Ok(resp) if v1_disabled => bail!(
                "the ECS metadata service refused a session token (HTTP {}) and IMDSv1 is \
                 disabled",
                resp.status().as_u16()
            ),
            Ok(_) => None,
            Err(e) => return Err(service.unreachable(e)),
        };
        Ok(service)
    }

    fn unreachable(&self, e: ureq::Error) -> anyhow::Error {
        anyhow::anyhow!(
            "cannot reach the ECS metadata service at {} ({e}); EcsRamRole works only on an ECS \
             instance",
            self.base
        )
    }

    /// The body of a 200 answer to `GET {path}`.
    fn get(&self, path: &str) -> Result<String> {
        let mut request = self.agent.get(format!("{}{path}", self.base));
        if let Some(token) = &self.token {
            request = request.header("X-aliyun-ecs-metadata-token", token);
        }
        let mut resp = request.call().map_err(|e| self.unreachable(e))?;
        let status = resp.status().as_u16();
        let body = resp
            .body_mut()
            .with_config()
            .limit(64 * 1024)
            .read_to_string();
        let body = body.map_err(|e| self.unreachable(e))?;
        if status != 200 {
            bail!("the ECS metadata service answered HTTP {status} for {path}");
        }
        Ok(body)
    }

    /// The name of the RAM role attached to the instance.
    fn attached_role(&self) -> Result<String> {
        let name = self
            .get(CREDENTIALS_PATH)
            .context("finding the instance's RAM role")?;
        let name = name.trim().to_string();
        if name.is_empty() {
            bail!("no RAM role is attached to this ECS instance");
        }
        Ok(name)
    }

    fn role_credentials(&self, role: &str) -> Result<Issued> {
        #[derive(serde::Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct RoleCredentials {
            code: Option<String>,
            access_key_id: Option<String>,
            access_key_secret: Option<Secret>,
            security_token: Option<Secret>,
            expiration: Option<String>,
        }
        let shown = crate::untrusted::escape(role);
        let body = self
            .get(&format!("{CREDENTIALS_PATH}{role}"))
            .with_context(|| format!("getting credentials of RAM role \"{shown}\""))?;
        let creds: RoleCredentials = serde_json::from_str(&body).map_err(|_| {
            anyhow::anyhow!("the ECS metadata service's answer for role \"{shown}\" is not JSON")
        })?;
        match (
            creds.code.as_deref(),
            creds.access_key_id,
            creds.access_key_secret,
        ) {
            (Some("Success") | None, Some(id), Some(secret)) if creds.security_token.is_some() => {
                Ok(Issued {
                    credentials: Credentials {
                        access_key_id: id,
                        access_key_secret: secret,
                        security_token: creds.security_token,
                    },
                    expires: creds.expiration.as_deref().and_then(keyring::expiration),
                })
            }
            (code, ..) => bail!(
                "the ECS metadata service gave no credentials for role \"{shown}\" (Code {})",
                crate::untrusted::excerpt(code.unwrap_or("missing"), 64)
            ),
        }
    }
}

/// The instance's RAM role as a provider: asked again when its credentials draw near their
/// `Expiration`.
pub struct EcsRole {
    base: String,
    /// Empty: the role attached to the instance, looked up at each fetch.
    role: String,
    v1_disabled: bool,
    /// How long each request to the service may take.
    patience: Duration,
    interrupt: Interrupt,
    /// Where it is configured, which its errors name.
    configured_at: String,
}

/// `$ALIBABA_CLOUD_ECS_METADATA_DISABLED=true`, as the libraries read it.
pub fn disabled(env: &Env) -> bool {
    env.get(ENV_ECS_METADATA_DISABLED)
        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

impl EcsRole {
    /// The RAM role `named` (empty: the one `$ALIBABA_CLOUD_ECS_METADATA` names, else the one
    /// attached), from the metadata service the environment points at.
    pub fn from_env(named: &str, env: &Env) -> Result<EcsRole> {
        if disabled(env) {
            bail!("{ENV_ECS_METADATA_DISABLED} is set");
        }
        // As the credentials libraries do: the role may also come from the environment.
        let role = match env.get(ENV_ECS_METADATA) {
            _ if !named.is_empty() => named.to_string(),
            Some(name) => name,
            None => String::new(),
        };
        let base = env.get(ENV_ECS_METADATA_URL);
        // The service speaks plain http on a link-local address; its agent has no TLS.
        if let Some(base) = base.as_deref().filter(|b| !b.starts_with("http://")) {
            bail!(
                "{ENV_ECS_METADATA_URL} must be an http:// URL, not \"{}\"",
                escape(base)
            );
        }
        Ok(EcsRole {
            base: base.unwrap_or_else(|| ECS_METADATA_URL.to_string()),
            role,
            v1_disabled: env.is_true(ENV_IMDSV1_DISABLED),
            patience: Duration::from_secs(5),
            interrupt: env.interrupt.clone(),
            configured_at: String::new(),
        })
    }

    /// Errors name `configured_at` (where the role is configured).
    pub fn named_by(self, configured_at: String) -> EcsRole {
        EcsRole {
            configured_at,
            ..self
        }
    }

    /// How `-v` names it.
    pub fn describe(&self) -> String {
        let role = match self.role.as_str() {
            "" => "the one attached".to_string(),
            name => crate::untrusted::escape(name).into_owned(),
        };
        format!(
            "the ECS instance's RAM role ({role}, metadata service {})",
            self.base
        )
    }
}

impl Provider for EcsRole {
    /// The call is read-only and may take seconds off ECS, so a signal does not wait for it.
    fn fetch(&self) -> Result<Issued> {
        let (base, role) = (self.base.clone(), self.role.clone());
        let (v1_disabled, patience) = (self.v1_disabled, self.patience);
        let during = "asking the ECS metadata service for credentials; nothing was sent";
        let fetched = (self.interrupt).abandon_on_signal(during, move || {
            from_service(&base, &role, v1_disabled, patience)
        });
        let fetched = fetched?;
        if self.configured_at.is_empty() {
            return fetched;
        }
        fetched.with_context(|| self.configured_at.clone())
    }
}

/// The chain's last link, tried when nothing else has credentials, as every official SDK does:
/// the instance's RAM role, with requests short enough that off ECS it costs about a second.
/// When the service gives nothing, the error is the chain's: every source tried (`tried`), this
/// one last, and why.
struct LastLink {
    role: EcsRole,
    tried: String,
}

impl Provider for LastLink {
    fn fetch(&self) -> Result<Issued> {
        self.role.fetch().map_err(|err| {
            if err
                .downcast_ref::<crate::interrupt::Interrupted>()
                .is_some()
            {
                return err;
            }
            anyhow::anyhow!(
                "no credentials found; tried {}; {} ({err:#}). {}",
                self.tried,
                self.role.describe(),
                super::chain::HOW_TO_SET_UP
            )
        })
    }
}

/// The last link of the chain, after `tried`.
pub fn last_link(env: &Env, tried: &[String]) -> Result<super::Found> {
    let mut role = EcsRole::from_env("", env)?;
    role.patience = Duration::from_secs(1);
    let described = role.describe();
    let tried = tried.join("; ");
    Ok((Arc::new(LastLink { role, tried }), described))
}
