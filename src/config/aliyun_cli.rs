//! The `aliyun` CLI's own configuration, `~/.aliyun/config.json`, read so that a user who ran
//! `aliyun configure` needs no second setup. Only the fields we use are parsed.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Deserialize;

use crate::credentials::Secret;

#[derive(Debug, Deserialize)]
struct File {
    #[serde(default)]
    current: String,
    #[serde(default)]
    profiles: Vec<AliyunProfile>,
}

/// One profile of the `aliyun` CLI. Empty strings mean unset, as the CLI writes them.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct AliyunProfile {
    pub name: String,
    pub mode: String,
    pub access_key_id: String,
    pub access_key_secret: Option<Secret>,
    pub sts_token: Option<Secret>,
    /// The ECS instance's RAM role (EcsRamRole, RamRoleArnWithRoleName).
    pub ram_role_name: String,
    /// The role to assume (RamRoleArn, ChainableRamRoleArn, RamRoleArnWithRoleName, OIDC).
    pub ram_role_arn: String,
    pub ram_session_name: String,
    pub external_id: String,
    /// The session's lifetime in seconds; 0 means the default.
    pub expired_seconds: u32,
    /// ChainableRamRoleArn: the profile whose credentials assume the role.
    pub source_profile: String,
    pub sts_region: String,
    pub region_id: String,
    /// A `Secret`: its text may hold one.
    pub process_command: Secret,
    pub credentials_uri: Secret,
    pub oidc_provider_arn: String,
    pub oidc_token_file: String,
    /// Only to recognise a CloudSSO profile written without its mode.
    pub cloud_sso_sign_in_url: String,
    /// Every field as written, for the External mode, whose command's output is laid over them.
    #[serde(skip)]
    pub raw: Raw,
}

/// A profile's fields as written. Its `Debug` prints none of them: they hold secrets.
#[derive(Clone, Default)]
pub struct Raw(pub serde_json::Map<String, serde_json::Value>);

impl std::fmt::Debug for Raw {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<as written>")
    }
}

impl AliyunProfile {
    /// `fields` (the CLI's JSON) read as a profile, keeping them as written.
    pub fn from_fields(
        fields: serde_json::Map<String, serde_json::Value>,
    ) -> Option<AliyunProfile> {
        let mut profile: AliyunProfile =
            serde_json::from_value(serde_json::Value::Object(fields.clone())).ok()?;
        profile.raw = Raw(fields);
        Some(profile)
    }
}

/// How an `aliyun` CLI profile authenticates (its `mode`), as the CLI reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AliyunMode {
    Ak,
    StsToken,
    RamRoleArn,
    EcsRamRole,
    /// An ECS role's credentials assume `ram_role_arn` (the CLI calls it deprecated in favour of
    /// ChainableRamRoleArn, and still reads it).
    RamRoleArnWithRoleName,
    ChainableRamRoleArn,
    External,
    CredentialsUri,
    Oidc,
    /// Browser sign-in: refused.
    CloudSso,
    OAuth,
    /// A mode we do not know (RsaKeyPair, BearerToken, ...), as written.
    Other(String),
}

impl AliyunMode {
    /// Every mode we know, by the name the CLI writes.
    const KNOWN: [AliyunMode; 11] = [
        AliyunMode::Ak,
        AliyunMode::StsToken,
        AliyunMode::RamRoleArn,
        AliyunMode::EcsRamRole,
        AliyunMode::RamRoleArnWithRoleName,
        AliyunMode::ChainableRamRoleArn,
        AliyunMode::External,
        AliyunMode::CredentialsUri,
        AliyunMode::Oidc,
        AliyunMode::CloudSso,
        AliyunMode::OAuth,
    ];

    /// The mode's name as the CLI writes it.
    pub fn name(&self) -> &str {
        match self {
            AliyunMode::Ak => "AK",
            AliyunMode::StsToken => "StsToken",
            AliyunMode::RamRoleArn => "RamRoleArn",
            AliyunMode::EcsRamRole => "EcsRamRole",
            AliyunMode::RamRoleArnWithRoleName => "RamRoleArnWithRoleName",
            AliyunMode::ChainableRamRoleArn => "ChainableRamRoleArn",
            AliyunMode::External => "External",
            AliyunMode::CredentialsUri => "CredentialsURI",
            AliyunMode::Oidc => "OIDC",
            AliyunMode::CloudSso => "CloudSSO",
            AliyunMode::OAuth => "OAuth",
            AliyunMode::Other(name) => name,
        }
    }
}

impl std::fmt::Display for AliyunMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&crate::untrusted::escape(self.name()))
    }
}

impl AliyunProfile {
    /// The mode as the CLI reads it: case-insensitive, and inferred from the fields when empty,
    /// in the CLI's own order (an AccessKey with `ram_role_arn` is RamRoleArn: the CLI assumes
    /// the role, and so must we, or requests are signed as the wrong identity).
    pub fn mode(&self) -> AliyunMode {
        let written = self.mode.trim();
        if let Some(mode) = AliyunMode::KNOWN
            .iter()
            .find(|m| m.name().eq_ignore_ascii_case(written))
        {
            return mode.clone();
        }
        if !written.is_empty() {
            return AliyunMode::Other(self.mode.clone());
        }
        let has = |s: &Option<Secret>| s.as_ref().is_some_and(|v| !v.expose().is_empty());
        if !self.access_key_id.is_empty() && has(&self.access_key_secret) {
            if has(&self.sts_token) {
                AliyunMode::StsToken
            } else if !self.ram_role_arn.is_empty() {
                AliyunMode::RamRoleArn
            } else {
                AliyunMode::Ak
            }
        } else if !self.ram_role_name.is_empty() {
            AliyunMode::EcsRamRole
        } else if !self.process_command.expose().is_empty() {
            AliyunMode::External
        } else if !self.oidc_provider_arn.is_empty()
            && !self.oidc_token_file.is_empty()
            && !self.ram_role_arn.is_empty()
        {
            AliyunMode::Oidc
        } else if !self.cloud_sso_sign_in_url.is_empty() {
            AliyunMode::CloudSso
        } else {
            AliyunMode::Ak
        }
    }
}

/// A loaded `config.json`.
#[derive(Debug)]
pub struct AliyunConfig {
    pub path: PathBuf,
    pub current: String,
    pub profiles: Vec<AliyunProfile>,
}

impl AliyunConfig {
    /// Read `path`; `Ok(None)` when it does not exist.
    pub fn load(path: &Path) -> Result<Option<AliyunConfig>> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(e).with_context(|| {
                    format!("cannot read the aliyun CLI config {}", path.display())
                });
            }
        };
        let file: File = serde_json::from_str(&text)
            .map_err(|e| anyhow::anyhow!("invalid aliyun CLI config {}: {e}", path.display()))?;
        // Each profile's fields as written too (the typed read above already vouched for them).
        #[derive(Deserialize)]
        struct Written {
            #[serde(default)]
            profiles: Vec<serde_json::Map<String, serde_json::Value>>,
        }
        let written: Written = serde_json::from_str(&text)?;
        let mut profiles = file.profiles;
        for (profile, fields) in profiles.iter_mut().zip(written.profiles) {
            profile.raw = Raw(fields);
        }
        Ok(Some(AliyunConfig {
            path: path.to_path_buf(),
            current: file.current,
            profiles,
        }))
    }

    pub fn get(&self, name: &str) -> Option<&AliyunProfile> {
        self.profiles.iter().find(|p| p.name == name)
    }

    /// The profile `aliyun` itself would use: the one its profile variable names (`env_choice`),
    /// else `current`, else `default`.
    pub fn current(&self, env_choice: Option<&str>) -> Option<&AliyunProfile> {
        let name = match env_choice {
            Some(name) => name,
            None if self.current.is_empty() => "default",
            None => &self.current,
        };
        self.get(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_are_case_insensitive_and_inferred_when_empty() {
        let p = |json: &str| {
            serde_json::from_str::<AliyunProfile>(json)
                .unwrap()
                .mode()
                .name()
                .to_string()
        };
        assert_eq!(p(r#"{"mode": "ecsramrole"}"#), "EcsRamRole");
        assert_eq!(
            p(r#"{"access_key_id": "a", "access_key_secret": "b"}"#),
            "AK"
        );
        assert_eq!(
            p(r#"{"access_key_id": "a", "access_key_secret": "b", "sts_token": "t"}"#),
            "StsToken"
        );
        assert_eq!(p(r#"{"ram_role_name": "r"}"#), "EcsRamRole");
        assert_eq!(p(r#"{"process_command": "x"}"#), "External");
        assert_eq!(p(r#"{"mode": "oidc"}"#), "OIDC");
        assert_eq!(p(r#"{"mode": "credentialsuri"}"#), "CredentialsURI");
        assert_eq!(p(r#"{"mode": "RsaKeyPair"}"#), "RsaKeyPair");
        // An AccessKey with a role to assume is RamRoleArn, as the CLI reads it, never plain AK.
        assert_eq!(
            p(
                r#"{"access_key_id": "a", "access_key_secret": "b", "ram_role_arn": "acs:ram::1:role/r"}"#
            ),
            "RamRoleArn"
        );
        assert_eq!(
            p(r#"{"oidc_provider_arn": "p", "oidc_token_file": "/t", "ram_role_arn": "r"}"#),
            "OIDC"
        );
        assert_eq!(p(r#"{"cloud_sso_sign_in_url": "https://x"}"#), "CloudSSO");
    }

    /// The secret, the token and the External command (whose text may hold a secret) never print.
    #[test]
    fn debug_never_shows_a_secret_token_or_command() {
        let file: File = serde_json::from_str(
            r#"{"current": "sts", "profiles": [
                {"name": "sts", "mode": "StsToken", "access_key_id": "STS.ID",
                 "access_key_secret": "cli-secret", "sts_token": "cli-token"},
                {"name": "ext", "mode": "External",
                 "process_command": "printf {\"access_key_secret\":\"ext-secret\"}"}
            ]}"#,
        )
        .unwrap();
        let config = AliyunConfig {
            path: PathBuf::from("config.json"),
            current: file.current,
            profiles: file.profiles,
        };
        let shown = format!("{config:?} {config:#?}");
        assert!(shown.contains("STS.ID"), "{shown}");
        for secret in ["cli-secret", "cli-token", "printf", "ext-secret"] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
    }

    #[test]
    fn reads_the_cli_layout() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        std::fs::write(
            &path,
            r#"{"current": "work", "profiles": [
                {"name": "default", "mode": "AK", "access_key_id": "A", "access_key_secret": "S",
                 "sts_token": "", "ram_role_name": "", "region_id": "cn-hangzhou",
                 "output_format": "json", "language": "en", "retry_count": 0},
                {"name": "work", "mode": "EcsRamRole", "ram_role_name": "sls-role", "region_id": "cn-beijing"}
            ], "meta_path": ""}"#,
        )
        .unwrap();
        let cfg = AliyunConfig::load(&path).unwrap().unwrap();
        assert_eq!(cfg.current(None).unwrap().name, "work");
        assert_eq!(cfg.current(None).unwrap().ram_role_name, "sls-role");
        assert_eq!(cfg.current(Some("default")).unwrap().name, "default");
        assert_eq!(cfg.get("work").unwrap().mode(), AliyunMode::EcsRamRole);
        assert_eq!(
            cfg.get("default")
                .unwrap()
                .access_key_secret
                .as_ref()
                .unwrap()
                .expose(),
            "S"
        );
        assert!(
            AliyunConfig::load(&dir.path().join("missing.json"))
                .unwrap()
                .is_none()
        );
        std::fs::write(&path, "{not json").unwrap();
        assert!(
            AliyunConfig::load(&path)
                .unwrap_err()
                .to_string()
                .contains("invalid aliyun CLI config")
        );
    }
}
