//! Credentials from a profile of our profile file. A profile names one source — its own
//! AccessKey pair (and STS token), a `credentials_command`, a `source_profile`, an OIDC token
//! (`oidc_provider_arn` and `oidc_token_file`), the ECS instance's RAM role (`ecs_ram_role`) or a
//! `credentials_uri` — and, with `role_arn`, a RAM role to assume with what that source gives
//! (an OIDC token always assumes one; a source profile is only there to assume one).

use std::sync::Arc;

use anyhow::{Context, Result, bail};

use super::command::{CommandStyle, FromCommand};
use super::ecs_metadata::EcsRole;
use super::oidc::{self, OidcSettings};
use super::role::{self, RoleSettings};
use super::{Credentials, Found, Provider, fixed, uri};
use crate::config::env::Env;
use crate::config::profile_file::{Profile, ProfileFile};
use crate::http::Http;

/// The credentials of profile `name` of `file`.
pub fn find(name: &str, file: &ProfileFile, env: &Env, http: &Http) -> Result<Found> {
    find_in(name, file, env, http, &mut Vec::new())
}

/// `through`: the profiles a `source_profile` chain has come through, to refuse a loop.
fn find_in(
    name: &str,
    file: &ProfileFile,
    env: &Env,
    http: &Http,
    through: &mut Vec<String>,
) -> Result<Found> {
    let path = file.path.as_path();
    if through.iter().any(|n| n == name) {
        through.push(name.to_string());
        bail!(
            "profile \"{}\" in {}: source_profile goes round in a loop ({}); end the chain at a \
             profile with credentials of its own",
            through[0],
            path.display(),
            through.join(" -> ")
        );
    }
    through.push(name.to_string());
    let Some(p) = file.get(name) else {
        bail!(
            "profile \"{}\" in {}: its source_profile \"{}\" is no profile of the file",
            through[through.len() - 2],
            path.display(),
            crate::untrusted::escape(name)
        );
    };
    let at = format!(
        "profile \"{}\" in {}",
        crate::untrusted::escape(name),
        path.display()
    );
    let (caller, source) = base(p, &at, file, env, http, through)?;
    let settings = RoleSettings {
        role_arn: p.role_arn.as_deref().unwrap_or(""),
        session_name: p.role_session_name.as_deref(),
        duration_seconds: p.duration_seconds,
        policy: p.policy.as_deref(),
        external_id: p.external_id.as_deref(),
        sts_endpoint: p.sts_endpoint.as_deref(),
        sts_region: p.sts_region.as_deref(),
        configured_at: &at,
    };
    match (caller, &p.role_arn) {
        (Base::Oidc, _) => {
            let oidc = OidcSettings {
                role: settings,
                provider_arn: p.oidc_provider_arn.as_deref().unwrap_or(""),
                token_file: p.oidc_token_file.as_deref().unwrap_or(""),
            };
            oidc::provider(&oidc, source, env, http)
        }
        (Base::Caller(caller), Some(_)) => role::assume(&settings, caller, source, env, http),
        (Base::Caller(caller), None) => Ok((caller, source)),
    }
}

/// What a profile's source gives.
enum Base {
    /// Credentials to sign with, or to assume `role_arn` with.
    Caller(Arc<dyn Provider>),
    /// An OIDC token: `role_arn` is assumed with it.
    Oidc,
}

/// The keys of each source of credentials the profile names.
fn sources_named(p: &Profile) -> Vec<&'static str> {
    let keys =
        p.access_key_id.is_some() || p.access_key_secret.is_some() || p.security_token.is_some();
    let oidc = p.oidc_provider_arn.is_some() || p.oidc_token_file.is_some();
    [
        ("credentials_command", p.credentials_command.is_some()),
        ("access_key_id/access_key_secret", keys),
        ("source_profile", p.source_profile.is_some()),
        ("oidc_provider_arn/oidc_token_file", oidc),
        ("ecs_ram_role", p.ecs_ram_role.is_some()),
        ("credentials_uri", p.credentials_uri.is_some()),
    ]
    .into_iter()
    .filter_map(|(keys, set)| set.then_some(keys))
    .collect()
}

/// The one source a profile names, and how `-v` names it.
fn base(
    p: &Profile,
    at: &str,
    file: &ProfileFile,
    env: &Env,
    http: &Http,
    through: &mut Vec<String>,
) -> Result<(Base, String)> {
    let source = at.to_string();
    match sources_named(p).as_slice() {
        [] if p.role_arn.is_some() => bail!(
            "{at}: role_arn needs credentials to assume it with: access_key_id/access_key_secret, \
             source_profile, oidc_provider_arn/oidc_token_file, credentials_command, ecs_ram_role \
             or credentials_uri"
        ),
        [] => bail!("{at}: it has no credentials"),
        [one] => Ok(match *one {
            "credentials_command" => {
                let command = FromCommand {
                    command: p.credentials_command.clone().unwrap_or_default(),
                    style: CommandStyle::Shell,
                    interrupt: env.interrupt.clone(),
                    configured_at: format!("{at}, key credentials_command"),
                };
                let caller: Arc<dyn Provider> = Arc::new(command);
                (
                    Base::Caller(caller),
                    format!("{source} (credentials_command)"),
                )
            }
            "access_key_id/access_key_secret" => (Base::Caller(fixed(pair(p, at)?)), source),
            "source_profile" => {
                if p.role_arn.is_none() {
                    bail!(
                        "{at}: source_profile gives credentials to assume role_arn with; set role_arn"
                    );
                }
                let from = p.source_profile.as_deref().unwrap_or_default();
                let (caller, from) = find_in(from, file, env, http, through)?;
                (
                    Base::Caller(caller),
                    format!("{source} (source_profile: {from})"),
                )
            }
            "oidc_provider_arn/oidc_token_file" => (Base::Oidc, source),
            "ecs_ram_role" => {
                let role = EcsRole::from_env(p.ecs_ram_role.as_deref().unwrap_or(""), env)
                    .with_context(|| at.to_string())?;
                let described = format!("{source}: {}", role.describe());
                (
                    Base::Caller(Arc::new(role.named_by(at.to_string()))),
                    described,
                )
            }
            _ => {
                let url = p.credentials_uri.clone().unwrap_or_default();
                let (caller, described) = uri::provider(&url, source, env, http);
                (Base::Caller(caller), described)
            }
        }),
        [first, second] => bail!("{at}: set either {first} or {second}, not both"),
        many => bail!(
            "{at}: {} name different sources of credentials; keep one",
            many.join(", ")
        ),
    }
}

/// The profile's own AccessKey pair (and STS token).
fn pair(p: &Profile, at: &str) -> Result<Credentials> {
    let pair = Credentials::from_pair(
        p.access_key_id.as_deref(),
        p.access_key_secret.as_ref(),
        p.security_token.as_ref(),
    );
    pair.with_context(|| {
        format!(
            "{at}: access_key_id and access_key_secret must both be set (credentials are never \
             combined from different sources)"
        )
    })
}
