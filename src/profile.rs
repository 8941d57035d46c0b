//! Our profile file: TOML, one table per profile (SPEC 2.2). Parsing and the file's own checks;
//! which profile and which value wins is `config.rs`'s business.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Deserialize;

use crate::credentials::Secret;

/// One `[name]` table. Every key is optional; unknown keys are an error (a typo must not silently
/// fall back to another source).
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub access_key_id: Option<String>,
    pub access_key_secret: Option<Secret>,
    pub security_token: Option<Secret>,
    /// A command printing credentials as JSON (the `aliyun` CLI's External format).
    pub credentials_command: Option<String>,
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub intranet: Option<bool>,
    pub signature_version: Option<u8>,
    pub project: Option<String>,
    pub logstore: Option<String>,
    pub shipper: Option<String>,
    pub timeout: Option<u64>,
    pub retries: Option<u32>,
}

impl Profile {
    /// Does this profile say anything about credentials?
    pub fn has_credentials(&self) -> bool {
        self.access_key_id.is_some()
            || self.access_key_secret.is_some()
            || self.security_token.is_some()
            || self.credentials_command.is_some()
    }

    fn holds_secret(&self) -> bool {
        self.access_key_secret.is_some() || self.security_token.is_some()
    }
}

/// A loaded profile file.
#[derive(Debug)]
pub struct ProfileFile {
    pub path: PathBuf,
    pub profiles: BTreeMap<String, Profile>,
    /// Set when the file holds a secret and group or others may read it.
    pub loose_permissions: Option<u32>,
}

impl ProfileFile {
    /// Read and parse `path`. `Ok(None)` when it does not exist and `required` is false.
    pub fn load(path: &Path, required: bool) -> Result<Option<ProfileFile>> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => return Ok(None),
            Err(e) => {
                return Err(e)
                    .with_context(|| format!("cannot read profile file {}", path.display()));
            }
        };
        let profiles =
            parse(&text).with_context(|| format!("invalid profile file {}", path.display()))?;
        let holds_secret = profiles.values().any(Profile::holds_secret);
        let loose_permissions = if holds_secret { loose_mode(path) } else { None };
        Ok(Some(ProfileFile {
            path: path.to_path_buf(),
            profiles,
            loose_permissions,
        }))
    }

    pub fn get(&self, name: &str) -> Option<&Profile> {
        self.profiles.get(name)
    }

    /// The profile names, for "did you mean" style errors.
    pub fn names(&self) -> Vec<&str> {
        self.profiles.keys().map(String::as_str).collect()
    }
}

fn parse(text: &str) -> Result<BTreeMap<String, Profile>> {
    let profiles: BTreeMap<String, Profile> = toml::from_str(text).map_err(|e| {
        // toml's message spans several lines (it quotes the source); keep ours to one, with the
        // line and column.
        let at = e
            .span()
            .map(|span| {
                let line = text[..span.start].matches('\n').count() + 1;
                let column = span.start - text[..span.start].rfind('\n').map_or(0, |i| i + 1) + 1;
                format!("line {line}, column {column}: ")
            })
            .unwrap_or_default();
        anyhow::anyhow!("{at}{}", e.message().trim_end())
    })?;
    for (name, profile) in &profiles {
        if let Some(v) = profile.signature_version
            && v != 1
            && v != 4
        {
            bail!("profile \"{name}\": signature_version must be 1 or 4, not {v}");
        }
        if profile.retries.is_some_and(|r| r > 20) {
            bail!("profile \"{name}\": retries must be from 0 to 20");
        }
        if profile.timeout == Some(0) {
            bail!("profile \"{name}\": timeout must be at least 1 (seconds)");
        }
    }
    Ok(profiles)
}

#[cfg(unix)]
fn loose_mode(path: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o777;
    (mode & 0o077 != 0).then_some(mode)
}

#[cfg(not(unix))]
fn loose_mode(_: &Path) -> Option<u32> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_with_every_key() {
        let profiles = parse(
            r#"
            [default]
            access_key_id = "LTAI1"
            access_key_secret = "s1"
            region = "cn-hangzhou"
            intranet = true
            project = "p"
            logstore = "l"
            shipper = "s"
            timeout = 10

            [prod]
            credentials_command = "vault read -format=json secret/sls"
            endpoint = "https://cn-shanghai.log.aliyuncs.com"
            signature_version = 4
            "#,
        )
        .unwrap();
        let d = &profiles["default"];
        assert_eq!(d.access_key_id.as_deref(), Some("LTAI1"));
        assert_eq!(d.access_key_secret.as_ref().unwrap().expose(), "s1");
        assert_eq!((d.intranet, d.timeout), (Some(true), Some(10)));
        assert!(profiles["prod"].has_credentials());
        assert_eq!(profiles["prod"].signature_version, Some(4));
        assert!(
            !format!("{profiles:?}").contains("s1\""),
            "Debug redacts secrets"
        );
    }

    /// The shipped example must stay loadable: every key in it is one we read.
    #[test]
    fn the_example_file_parses() {
        let profiles = parse(include_str!("../config.example.toml")).unwrap();
        assert_eq!(
            profiles.keys().collect::<Vec<_>>(),
            ["default", "prod", "staging"]
        );
        assert!(profiles["prod"].credentials_command.is_some());
    }

    #[test]
    fn errors_name_the_line() {
        let err = parse("[default]\nregion = \"cn-hangzhou\"\nacess_key_id = \"x\"\n").unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.starts_with("line 3, column 1: unknown field `acess_key_id`"),
            "{msg}"
        );
        assert!(!msg.contains('\n'), "{msg}");

        let err = parse("[default]\nregion = cn-hangzhou\n")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("line 2, column 10: "), "{err}");

        let err = parse("[p]\nsignature_version = 3\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("signature_version must be 1 or 4"), "{err}");
    }
}
