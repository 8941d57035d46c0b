//! RRSA (RAM Roles for Service Accounts, on ACK Kubernetes) and any OIDC role: the service
//! account's OIDC token, read from its file afresh at every call (the kubelet rotates it),
//! exchanged for the role's temporary credentials with `AssumeRoleWithOIDC`. The environment
//! ACK injects names it all; profiles can too.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result, bail};

use super::keyring::{Issued, Provider};
use super::role::{self, RoleSettings};
use super::sts::{RoleRequest, Sts};
use super::{Found, Secret};
use crate::config::env::Env;
use crate::http::Http;

pub const ENV_ROLE_ARN: &str = "ALIBABA_CLOUD_ROLE_ARN";
pub const ENV_OIDC_PROVIDER_ARN: &str = "ALIBABA_CLOUD_OIDC_PROVIDER_ARN";
pub const ENV_OIDC_TOKEN_FILE: &str = "ALIBABA_CLOUD_OIDC_TOKEN_FILE";
pub const ENV_ROLE_SESSION_NAME: &str = "ALIBABA_CLOUD_ROLE_SESSION_NAME";

/// The longest token file read: OIDC tokens are a few KiB.
const MAX_TOKEN_BYTES: u64 = 64 * 1024;

/// A role assumed with an OIDC token.
pub struct OidcRole {
    pub sts: Sts,
    pub role: RoleRequest,
    pub provider_arn: String,
    pub token_file: PathBuf,
}

impl Provider for OidcRole {
    fn fetch(&self) -> Result<Issued> {
        let token = read_token(&self.token_file)?;
        self.sts
            .assume_role_with_oidc(&self.role, &self.provider_arn, &token)
    }
}

/// The token as the file holds it now; errors name the file, never its content.
fn read_token(path: &std::path::Path) -> Result<Secret> {
    use std::io::Read as _;
    let file = std::fs::File::open(path)
        .with_context(|| format!("cannot read the OIDC token file {}", path.display()))?;
    let mut text = String::new();
    file.take(MAX_TOKEN_BYTES + 1)
        .read_to_string(&mut text)
        .with_context(|| format!("cannot read the OIDC token file {}", path.display()))?;
    if text.len() as u64 > MAX_TOKEN_BYTES {
        bail!(
            "the OIDC token file {} is larger than {} KiB; it is not a token",
            path.display(),
            MAX_TOKEN_BYTES / 1024
        );
    }
    // Sent as the file holds it, as the official libraries send it.
    if text.trim().is_empty() {
        bail!("the OIDC token file {} is empty", path.display());
    }
    Ok(Secret::new(text))
}

/// What a source says about an OIDC role.
pub struct OidcSettings<'a> {
    pub role: RoleSettings<'a>,
    pub provider_arn: &'a str,
    pub token_file: &'a str,
}

/// The OIDC role `settings` name, and how `-v` names it after `source`.
pub fn provider(settings: &OidcSettings, source: String, env: &Env, http: &Http) -> Result<Found> {
    let at = settings.role.configured_at;
    if settings.provider_arn.trim().is_empty() || settings.token_file.trim().is_empty() {
        bail!("{at}: an OIDC role needs both the OIDC provider's ARN and the token file");
    }
    let role = settings.role.request()?;
    let sts = settings.role.sts(env, http)?;
    let described = format!(
        "{source}: {}, OIDC token from {}",
        role::describe(&role, &sts),
        settings.token_file
    );
    let provider = OidcRole {
        sts,
        role,
        provider_arn: settings.provider_arn.trim().to_string(),
        token_file: PathBuf::from(settings.token_file.trim()),
    };
    Ok((Arc::new(provider), described))
}

/// RRSA from the environment: `ALIBABA_CLOUD_ROLE_ARN`, `ALIBABA_CLOUD_OIDC_PROVIDER_ARN` and
/// `ALIBABA_CLOUD_OIDC_TOKEN_FILE` (and `ALIBABA_CLOUD_ROLE_SESSION_NAME`), as ACK sets them.
/// `None` when none is set; some but not all is an error naming what is missing.
pub fn from_env(env: &Env, http: &Http) -> Result<Option<Found>> {
    let names = [ENV_ROLE_ARN, ENV_OIDC_PROVIDER_ARN, ENV_OIDC_TOKEN_FILE];
    let values = names.map(|name| env.get(name));
    if values.iter().all(Option::is_none) {
        return Ok(None);
    }
    let missing: Vec<&str> = (names.iter().zip(&values))
        .filter(|(_, v)| v.is_none())
        .map(|(name, _)| *name)
        .collect();
    if !missing.is_empty() {
        bail!(
            "RRSA needs {} together; {} not set",
            names.join(", "),
            missing.join(" and ")
        );
    }
    let [role_arn, provider_arn, token_file] = values.map(Option::unwrap_or_default);
    let session_name = env.get(ENV_ROLE_SESSION_NAME);
    let settings = OidcSettings {
        role: RoleSettings {
            role_arn: &role_arn,
            session_name: session_name.as_deref(),
            configured_at: "the RRSA environment",
            ..RoleSettings::default()
        },
        provider_arn: &provider_arn,
        token_file: &token_file,
    };
    let source = format!("environment ({})", names.join(", "));
    provider(&settings, source, env, http).map(Some)
}

/// How the "no credentials found" error names this source.
pub fn describe_env() -> String {
    format!("RRSA/OIDC from {ENV_ROLE_ARN}, {ENV_OIDC_PROVIDER_ARN} and {ENV_OIDC_TOKEN_FILE}")
}
