//! The official credentials libraries' file: `$ALIBABA_CLOUD_CREDENTIALS_FILE`, else
//! `~/.alibabacloud/credentials.ini` or `~/.alibabacloud/credentials`; INI, the section
//! `$ALIBABA_CLOUD_PROFILE` or `default`, its `type` one the libraries read: `access_key`,
//! `ecs_ram_role`, `ram_role_arn`, `oidc_role_arn`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use super::ecs_metadata::EcsRole;
use super::oidc::{self, OidcSettings};
use super::role::{self, RoleSettings};
use super::{Credentials, Found, Secret, fixed};
use crate::config::env::Env;
use crate::http::Http;

pub const ENV_CREDENTIALS_FILE: &str = "ALIBABA_CLOUD_CREDENTIALS_FILE";
/// The section to read, as the libraries choose it.
pub const ENV_PROFILE: &str = "ALIBABA_CLOUD_PROFILE";

/// What looking for the file found.
pub enum Lookup {
    Found(Found),
    /// Nothing there to use, and why (for the "no credentials found" error).
    Absent(String),
}

/// The file's credentials, when it has a section for us; `dir` is `~/.alibabacloud`.
pub fn find(env: &Env, dir: Option<&Path>, http: &Http) -> Result<Lookup> {
    let candidates: Vec<PathBuf> = match env.get(ENV_CREDENTIALS_FILE) {
        Some(path) => vec![PathBuf::from(path)],
        None => (dir.iter())
            .flat_map(|d| [d.join("credentials.ini"), d.join("credentials")])
            .collect(),
    };
    let Some(path) = candidates.iter().find(|p| p.exists()) else {
        let looked: Vec<String> = candidates.iter().map(|p| p.display().to_string()).collect();
        let looked = match looked.is_empty() {
            true => "~/.alibabacloud/credentials (no home directory)".to_string(),
            false => looked.join(" or "),
        };
        return Ok(Lookup::Absent(format!(
            "the credentials file {looked} (no such file)"
        )));
    };
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the credentials file {}", path.display()))?;
    let name = env.get(ENV_PROFILE).unwrap_or_else(|| "default".into());
    let sections = parse(&text);
    let Some(section) = sections.get(&name) else {
        return Ok(Lookup::Absent(format!(
            "the credentials file {} (no [{}] section)",
            path.display(),
            crate::untrusted::escape(&name)
        )));
    };
    let at = format!(
        "section [{}] of {}",
        crate::untrusted::escape(&name),
        path.display()
    );
    provider(section, &at, env, http).map(Lookup::Found)
}

/// The credentials a section describes.
fn provider(section: &HashMap<String, String>, at: &str, env: &Env, http: &Http) -> Result<Found> {
    let key = |k: &str| section.get(k).map(String::as_str).filter(|v| !v.is_empty());
    let need = |k: &str| key(k).with_context(|| format!("{at}: {k} is missing"));
    let source = format!("credentials file {at}");
    let role = |role_arn: &'static str| -> Result<RoleSettings> {
        Ok(RoleSettings {
            role_arn: need(role_arn)?,
            session_name: key("role_session_name"),
            policy: key("policy"),
            configured_at: at,
            ..RoleSettings::default()
        })
    };
    let pair = || -> Result<Credentials> {
        let secret = Secret::new(need("access_key_secret")?);
        Credentials::from_pair(key("access_key_id"), Some(&secret), None)
            .with_context(|| format!("{at}: access_key_id is missing"))
    };
    match key("type") {
        Some("access_key") => Ok((fixed(pair()?), source)),
        Some("ecs_ram_role") => {
            let role = EcsRole::from_env(key("role_name").unwrap_or(""), env)
                .with_context(|| at.to_string())?;
            let described = format!("{source}: {}", role.describe());
            Ok((
                std::sync::Arc::new(role.named_by(at.to_string())),
                described,
            ))
        }
        Some("ram_role_arn") => role::assume(&role("role_arn")?, fixed(pair()?), source, env, http),
        Some("oidc_role_arn") => {
            let settings = OidcSettings {
                role: role("role_arn")?,
                provider_arn: need("oidc_provider_arn")?,
                token_file: need("oidc_token_file_path")?,
            };
            oidc::provider(&settings, source, env, http)
        }
        Some(other) => bail!(
            "{at}: type \"{}\" is not one sls-retry reads; use access_key, ecs_ram_role, \
             ram_role_arn or oidc_role_arn",
            crate::untrusted::escape(other)
        ),
        None => bail!("{at}: type is missing"),
    }
}

/// INI as the libraries read it: `[section]` headers, `key = value` lines (quotes around a value
/// dropped), `#` and `;` comment lines; section names are case-insensitive.
fn parse(text: &str) -> HashMap<String, HashMap<String, String>> {
    let mut sections: HashMap<String, HashMap<String, String>> = HashMap::new();
    let mut current: Option<String> = None;
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            let name = name.trim().to_ascii_lowercase();
            sections.entry(name.clone()).or_default();
            current = Some(name);
        } else if let (Some(section), Some((key, value))) = (&current, line.split_once('=')) {
            let value = value.trim();
            let unquoted = (value.len() >= 2
                && (value.starts_with('"') && value.ends_with('"')
                    || value.starts_with('\'') && value.ends_with('\'')))
            .then(|| &value[1..value.len() - 1]);
            let entries = sections.entry(section.clone()).or_default();
            entries.insert(
                key.trim().to_string(),
                unquoted.unwrap_or(value).to_string(),
            );
        }
    }
    sections
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ini_as_the_libraries_write_it() {
        let sections = parse(
            "# comment\n[default]\ntype = access_key\naccess_key_id = \"LTAI\"\n\
             access_key_secret=s=with=equals\n; other\n[Prod]\ntype = ecs_ram_role\nrole_name =\n",
        );
        let default = &sections["default"];
        assert_eq!(default["type"], "access_key");
        assert_eq!(default["access_key_id"], "LTAI");
        assert_eq!(default["access_key_secret"], "s=with=equals");
        assert_eq!(sections["prod"]["role_name"], "");
    }
}
