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
    pub ram_role_name: String,
    pub region_id: String,
    /// A `Secret`: its text may hold one.
    pub process_command: Secret,
}

/// How an `aliyun` CLI profile authenticates (its `mode`), as the CLI reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AliyunMode {
    Ak,
    StsToken,
    RamRoleArn,
    EcsRamRole,
    External,
    /// A mode we do not take (OIDC, CloudSSO, ...), as written.
    Other(String),
}

impl AliyunMode {
    /// The mode's name as the CLI writes it.
    pub fn name(&self) -> &str {
        match self {
            AliyunMode::Ak => "AK",
            AliyunMode::StsToken => "StsToken",
            AliyunMode::RamRoleArn => "RamRoleArn",
            AliyunMode::EcsRamRole => "EcsRamRole",
            AliyunMode::External => "External",
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
    /// The mode as the CLI reads it: case-insensitive, and inferred from the fields when empty.
    pub fn mode(&self) -> AliyunMode {
        let known = [
            AliyunMode::Ak,
            AliyunMode::StsToken,
            AliyunMode::RamRoleArn,
            AliyunMode::EcsRamRole,
            AliyunMode::External,
        ];
        let written = self.mode.trim();
        if let Some(mode) = known
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
            } else {
                AliyunMode::Ak
            }
        } else if !self.ram_role_name.is_empty() {
            AliyunMode::EcsRamRole
        } else if !self.process_command.expose().is_empty() {
            AliyunMode::External
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
        Ok(Some(AliyunConfig {
            path: path.to_path_buf(),
            current: file.current,
            profiles: file.profiles,
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
        assert_eq!(p(r#"{"mode": "OIDC"}"#), "OIDC");
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
