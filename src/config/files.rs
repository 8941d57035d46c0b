//! The files configuration is read from — our profile file and the `aliyun` CLI's config — and
//! which profile of them a run uses: `--profile`, else `$SLS_RETRY_PROFILE`, else `[default]`
//! (looked up in our file, then among the CLI's profiles).

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};

use super::aliyun_cli::{AliyunConfig, AliyunProfile};
use super::env::{ENV_ALIYUN_PROFILE, ENV_CONFIG, ENV_PROFILE, Env};
use super::precedence::Source;
use super::profile_file::{Profile, ProfileFile};

/// The default locations of the files we read; the binary takes them from the `dirs` crate,
/// tests from a temporary directory.
#[derive(Debug, Clone, Default)]
pub struct Paths {
    /// `<config dir>/sls-retry/config.toml`.
    pub profile_file: Option<PathBuf>,
    /// `~/.aliyun/config.json`.
    pub aliyun_config: Option<PathBuf>,
    /// `~/.alibabacloud`, where the official credentials libraries keep their file.
    pub alibabacloud_dir: Option<PathBuf>,
}

impl Paths {
    pub fn from_system() -> Paths {
        let home = dirs::home_dir();
        Paths {
            profile_file: dirs::config_dir().map(|d| d.join("sls-retry").join("config.toml")),
            aliyun_config: home.as_ref().map(|h| h.join(".aliyun").join("config.json")),
            alibabacloud_dir: home.map(|h| h.join(".alibabacloud")),
        }
    }
}

/// `$ALIBABA_CLOUD_CONFIG_FILE`: the `aliyun` CLI's config somewhere else than
/// `~/.aliyun/config.json`.
pub const ENV_ALIYUN_CONFIG_FILE: &str = "ALIBABA_CLOUD_CONFIG_FILE";

/// Both files as read. The `aliyun` CLI's config is read up front but is only an error when it
/// is needed: a broken file of another tool must not stop a run that does not use it.
pub struct Files {
    /// Our profile file, when there is one.
    pub ours: Option<ProfileFile>,
    /// Where our profile file is or would be, for messages.
    pub ours_path: Option<PathBuf>,
    pub aliyun: Result<Option<AliyunConfig>, String>,
    pub aliyun_path: Option<PathBuf>,
    /// `~/.alibabacloud`.
    pub alibabacloud_dir: Option<PathBuf>,
}

/// The profile whose settings apply.
pub enum Chosen<'a> {
    /// A profile of our file: its name, itself, and the file (other profiles of it may give it
    /// credentials).
    Ours(&'a str, &'a Profile, &'a ProfileFile),
    Aliyun(&'a AliyunProfile, &'a Path),
    Nothing,
}

/// Which profile a run uses, and the `aliyun` CLI profile that still has a say.
pub struct Choice<'a> {
    pub chosen: Chosen<'a>,
    /// Named by `--profile` or `$SLS_RETRY_PROFILE`: then it is used alone.
    pub named: bool,
    /// The CLI profile whose region and credentials count: the named one, or (no profile named)
    /// the CLI's current one.
    pub aliyun: Option<(&'a AliyunProfile, &'a Path)>,
}

impl Files {
    /// Read our profile file (`--config`, else `$SLS_RETRY_CONFIG`, else the default location,
    /// where a missing file is no error) and the `aliyun` CLI's config.
    pub fn load(flag: Option<&Path>, env: &Env, paths: &Paths) -> Result<Files> {
        let (ours_path, required) = match (flag, env.get(ENV_CONFIG)) {
            (Some(path), _) => (Some(path.to_path_buf()), true),
            (None, Some(path)) => (Some(PathBuf::from(path)), true),
            (None, None) => (paths.profile_file.clone(), false),
        };
        let ours = match &ours_path {
            Some(path) => ProfileFile::load(path, required)?,
            None => None,
        };
        let aliyun_path = match env.get(ENV_ALIYUN_CONFIG_FILE) {
            Some(path) => Some(PathBuf::from(path)),
            None => paths.aliyun_config.clone(),
        };
        let aliyun = match &aliyun_path {
            Some(path) => AliyunConfig::load(path).map_err(|e| format!("{e:#}")),
            None => Ok(None),
        };
        Ok(Files {
            ours,
            ours_path,
            aliyun,
            aliyun_path,
            alibabacloud_dir: paths.alibabacloud_dir.clone(),
        })
    }

    /// The `aliyun` CLI's config, now that it is needed: its error if it could not be read.
    pub fn aliyun(&self) -> Result<Option<&AliyunConfig>> {
        self.aliyun
            .as_ref()
            .map(Option::as_ref)
            .map_err(|e| anyhow::anyhow!("{e}"))
    }

    /// A warning when our file holds a secret that group or others may read.
    pub fn warning(&self) -> Option<String> {
        let file = self.ours.as_ref()?;
        let mode = file.loose_permissions?;
        Some(format!(
            "profile file {} holds secrets and is readable by others (mode {mode:03o}); \
             run: chmod 600 {}",
            file.path.display(),
            file.path.display()
        ))
    }

    /// The profile `flag` (`--profile`) or `$SLS_RETRY_PROFILE` names, else `[default]`.
    pub fn choose(&self, flag: Option<&str>, env: &Env) -> Result<Choice<'_>> {
        let named = match (flag, env.get(ENV_PROFILE)) {
            (Some(name), _) => Some((name.to_string(), "--profile")),
            (None, Some(name)) => Some((name, ENV_PROFILE)),
            (None, None) => None,
        };
        let chosen = match &named {
            Some((name, how)) => self.named(name, how)?,
            None => match self
                .ours
                .as_ref()
                .and_then(|f| Some((f.get("default")?, f)))
            {
                Some((profile, file)) => Chosen::Ours("default", profile, file),
                None => Chosen::Nothing,
            },
        };
        let aliyun = match &chosen {
            Chosen::Aliyun(p, path) => Some((*p, *path)),
            Chosen::Ours(..) if named.is_some() => None,
            // Without a named profile, the CLI's current profile still has its say.
            _ => {
                let cli_choice = env.first(&ENV_ALIYUN_PROFILE).map(|(_, name)| name);
                let config = self.aliyun.as_ref().ok().and_then(Option::as_ref);
                config.and_then(|a| Some((a.current(cli_choice.as_deref())?, a.path.as_path())))
            }
        };
        Ok(Choice {
            chosen,
            named: named.is_some(),
            aliyun,
        })
    }

    /// A named profile: ours, else the CLI's, else an error listing what there is.
    fn named(&self, name: &str, how: &str) -> Result<Chosen<'_>> {
        if let Some(file) = &self.ours
            && let Some((name, profile)) = file.profiles.get_key_value(name)
        {
            return Ok(Chosen::Ours(name, profile, file));
        }
        if let Some((profile, cfg)) = self.aliyun()?.and_then(|a| Some((a.get(name)?, a))) {
            return Ok(Chosen::Aliyun(profile, &cfg.path));
        }
        bail!(
            "profile \"{}\" (from {how}) not found in {} or in {}; {}",
            crate::untrusted::escape(name),
            self.describe_ours(),
            self.describe_aliyun()?,
            match self.ours.as_ref().map(ProfileFile::names) {
                Some(names) if !names.is_empty() =>
                    format!("profiles in the profile file: {}", names.join(", ")),
                _ => "check the name".to_string(),
            }
        );
    }

    /// Our profile file for a message: its path, and whether it exists.
    pub fn describe_ours(&self) -> String {
        match (&self.ours, &self.ours_path) {
            (Some(file), _) => file.path.display().to_string(),
            (None, Some(p)) => format!("{} (no such file)", p.display()),
            (None, None) => "the profile file (no config directory)".to_string(),
        }
    }

    /// The `aliyun` CLI's config for a message (its read error, if it could not be read).
    pub fn describe_aliyun(&self) -> Result<String> {
        Ok(match (&self.aliyun_path, self.aliyun()?) {
            (_, Some(cfg)) => cfg.path.display().to_string(),
            (Some(p), None) => format!("{} (no such file)", p.display()),
            (None, None) => "~/.aliyun/config.json (no home directory)".to_string(),
        })
    }
}

impl Choice<'_> {
    /// The chosen profile of our file, with its source, when it is one of ours.
    pub fn ours(&self) -> Option<(&Profile, Source)> {
        match self.chosen {
            Chosen::Ours(name, profile, file) => Some((profile, Source::profile(name, &file.path))),
            _ => None,
        }
    }

    /// The file our chosen profile is in: its relative paths are relative to it.
    pub fn ours_path(&self) -> Option<&Path> {
        match self.chosen {
            Chosen::Ours(_, _, file) => Some(&file.path),
            _ => None,
        }
    }
}
