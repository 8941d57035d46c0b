//! Credentials from a profile of the `aliyun` CLI, in every mode the CLI signs with: AK,
//! StsToken, RamRoleArn, EcsRamRole, RamRoleArnWithRoleName, ChainableRamRoleArn, External
//! (whose command may print a profile of any of these modes), CredentialsURI and OIDC. CloudSSO
//! and OAuth need a browser sign-in and are refused. A profile without a mode is read as the CLI
//! reads it (see `AliyunProfile::mode`).

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result, bail};

use super::command::{self, COMMAND_TIMEOUT, CommandStyle};
use super::ecs_metadata::{self, EcsRole};
use super::keyring::{Issued, Provider};
use super::oidc::{self, OidcSettings};
use super::role::{self, RoleSettings};
use super::uri::{self, ENV_CREDENTIALS_URI};
use super::{Credentials, Found, Secret, fixed};
use crate::config::aliyun_cli::{AliyunConfig, AliyunMode, AliyunProfile};
use crate::config::env::{Captured, Env};
use crate::http::Http;

/// The variables a provider reads when it resolves more of its source later.
const CAPTURED: [&str; 8] = [
    role::ENV_STS_ENDPOINT,
    role::ENV_STS_REGION,
    role::ENV_VPC_ENDPOINT_ENABLED,
    ecs_metadata::ENV_ECS_METADATA_URL,
    ecs_metadata::ENV_ECS_METADATA,
    ecs_metadata::ENV_ECS_METADATA_DISABLED,
    ecs_metadata::ENV_IMDSV1_DISABLED,
    ENV_CREDENTIALS_URI,
];

/// The credentials of CLI profile `p` of `config` (for ChainableRamRoleArn's source profiles).
pub fn find(
    p: &AliyunProfile,
    path: &Path,
    config: Option<&AliyunConfig>,
    env: &Env,
    http: &Http,
) -> Result<Found> {
    find_in(p, path, config, env, http, &mut Vec::new())
}

fn find_in(
    p: &AliyunProfile,
    path: &Path,
    config: Option<&AliyunConfig>,
    env: &Env,
    http: &Http,
    through: &mut Vec<String>,
) -> Result<Found> {
    let mode = p.mode();
    let at = format!(
        "aliyun CLI profile \"{}\" in {} (mode {mode})",
        crate::untrusted::escape(&p.name),
        path.display(),
    );
    let role = role_settings(p, &at);
    let pair = |with_token: bool| {
        let token = p.sts_token.as_ref().filter(|_| with_token);
        let found =
            Credentials::from_pair(Some(&p.access_key_id), p.access_key_secret.as_ref(), token);
        found.with_context(|| format!("{at}: access_key_id or access_key_secret is empty"))
    };
    let ecs = || -> Result<EcsRole> {
        let role = EcsRole::from_env(&p.ram_role_name, env).with_context(|| at.clone())?;
        Ok(role.named_by(at.clone()))
    };
    match &mode {
        AliyunMode::Ak => Ok((fixed(pair(false)?), at)),
        AliyunMode::StsToken => match p.sts_token.as_ref().filter(|t| !t.expose().is_empty()) {
            Some(_) => Ok((fixed(pair(true)?), at)),
            None => bail!("{at}: sts_token is empty"),
        },
        // The caller's own STS token signs the AssumeRole too, as the CLI sends it.
        AliyunMode::RamRoleArn => role::assume(&role, fixed(pair(true)?), at.clone(), env, http),
        AliyunMode::EcsRamRole => {
            let role = ecs()?;
            let described = format!("{at}: {}", role.describe());
            Ok((Arc::new(role), described))
        }
        AliyunMode::RamRoleArnWithRoleName => {
            let caller: Arc<dyn Provider> = Arc::new(ecs()?);
            let external_id = RoleSettings {
                external_id: None,
                ..role
            };
            role::assume(&external_id, caller, at.clone(), env, http)
        }
        AliyunMode::ChainableRamRoleArn => {
            through.push(p.name.clone());
            let source = chained_source(p, &at, config, through)?;
            let (caller, from) = find_in(source, path, config, env, http, through)?;
            let described = format!("{at} (source_profile: {from})");
            role::assume(&role, caller, described, env, http)
        }
        AliyunMode::External if p.process_command.expose().is_empty() => {
            bail!("{at}: process_command is empty")
        }
        AliyunMode::External => Ok(external(p, path, env, http, &at)),
        AliyunMode::CredentialsUri => {
            let url = match p.credentials_uri.expose() {
                "" => env.get(ENV_CREDENTIALS_URI).map(Secret::new),
                _ => Some(p.credentials_uri.clone()),
            };
            let url = url.with_context(|| format!("{at}: credentials_uri is empty"))?;
            Ok(uri::provider(&url, at, env, http))
        }
        AliyunMode::Oidc => {
            let oidc = OidcSettings {
                role,
                provider_arn: &p.oidc_provider_arn,
                token_file: &p.oidc_token_file,
            };
            oidc::provider(&oidc, at.clone(), env, http)
        }
        AliyunMode::CloudSso | AliyunMode::OAuth | AliyunMode::Other(_) => {
            Err(unsupported(&mode, &at))
        }
    }
}

/// The role a profile assumes (`ram_role_arn` and how), as the CLI reads its keys.
fn role_settings<'a>(p: &'a AliyunProfile, at: &'a str) -> RoleSettings<'a> {
    RoleSettings {
        role_arn: &p.ram_role_arn,
        session_name: Some(p.ram_session_name.as_str()),
        duration_seconds: (p.expired_seconds > 0).then_some(p.expired_seconds),
        external_id: Some(p.external_id.as_str()),
        sts_region: Some(p.sts_region.as_str()),
        configured_at: at,
        ..RoleSettings::default()
    }
}

/// External: the profile's `process_command`, run when credentials are needed.
fn external(p: &AliyunProfile, path: &Path, env: &Env, http: &Http, at: &str) -> Found {
    let external = External {
        profile: p.clone(),
        path: path.to_path_buf(),
        captured: env.capture(&CAPTURED),
        http: http.clone(),
        configured_at: format!("{at}, key process_command"),
    };
    (Arc::new(external), format!("{at} (process_command)"))
}

/// Why a profile of `mode` (configured `at`) cannot be used, and what to use instead.
fn unsupported(mode: &AliyunMode, at: &str) -> anyhow::Error {
    match mode {
        AliyunMode::CloudSso | AliyunMode::OAuth => anyhow::anyhow!(
            "{at}: this mode needs a browser sign-in, which a run in a script or cron cannot do; \
             use a profile in another mode (RamRoleArn, OIDC, EcsRamRole, ...) or a profile of \
             sls-retry's own"
        ),
        _ => anyhow::anyhow!(
            "{at}: mode \"{mode}\" is not supported; use AK, StsToken, RamRoleArn, EcsRamRole, \
             RamRoleArnWithRoleName, ChainableRamRoleArn, External, CredentialsURI or OIDC, or a \
             profile of sls-retry's own"
        ),
    }
}

/// ChainableRamRoleArn's source profile, refusing a chain that goes round.
fn chained_source<'c>(
    p: &AliyunProfile,
    at: &str,
    config: Option<&'c AliyunConfig>,
    through: &[String],
) -> Result<&'c AliyunProfile> {
    if p.source_profile.is_empty() {
        bail!("{at}: source_profile is empty");
    }
    if through.contains(&p.source_profile) {
        bail!(
            "{at}: source_profile goes round in a loop ({} -> {}); end the chain at a profile \
             with credentials of its own",
            through.join(" -> "),
            crate::untrusted::escape(&p.source_profile)
        );
    }
    config
        .and_then(|c| c.get(&p.source_profile))
        .with_context(|| {
            format!(
                "{at}: its source_profile \"{}\" is no profile of the CLI's config",
                crate::untrusted::escape(&p.source_profile)
            )
        })
}

/// The External mode: `process_command` prints a profile (JSON, the CLI's own fields) that is
/// laid over this one, in any mode but External; run again at every refresh.
struct External {
    profile: AliyunProfile,
    path: std::path::PathBuf,
    captured: Captured,
    http: Http,
    configured_at: String,
}

impl Provider for External {
    fn fetch(&self) -> Result<Issued> {
        let env = self.captured.env();
        let command = self.profile.process_command.expose();
        let out = command::run(
            command,
            CommandStyle::Fields,
            COMMAND_TIMEOUT,
            env.interrupt,
        )
        .with_context(|| self.configured_at.clone())?;
        let printed = laid_over(&self.profile, &out).with_context(|| self.configured_at.clone())?;
        match printed.mode() {
            // The credentials themselves (with an `expiration`, refreshed before it).
            AliyunMode::Ak | AliyunMode::StsToken => {
                command::parse_external(&out).with_context(|| self.configured_at.clone())
            }
            AliyunMode::External => {
                bail!(
                    "{}: its output declares mode External again",
                    self.configured_at
                )
            }
            _ => find(&printed, &self.path, None, &env, &self.http)?
                .0
                .fetch(),
        }
    }
}

/// `out` (the command's JSON) laid over `profile`, as the CLI unmarshals it into the profile.
fn laid_over(profile: &AliyunProfile, out: &[u8]) -> Result<AliyunProfile> {
    let printed: serde_json::Value =
        serde_json::from_slice(out).map_err(command::not_external_json)?;
    let serde_json::Value::Object(printed) = printed else {
        bail!("its output is not a JSON object");
    };
    let declares_mode = printed.contains_key("mode");
    let mut fields = profile.raw.0.clone();
    fields.extend(printed);
    // What it printed names no mode: its mode is read from its fields (AK or StsToken).
    if !declares_mode {
        fields.remove("mode");
    }
    AliyunProfile::from_fields(fields).context("its output has a field of the wrong type")
}
