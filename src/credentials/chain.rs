//! The order in which the places credentials may come from are tried, and, when none has them,
//! the error that names every place tried. A profile named by `--profile` or
//! `$SLS_RETRY_PROFILE` that holds credentials is used alone. Otherwise, in order: the
//! environment's AccessKey, RRSA/OIDC from the environment, `ALIBABA_CLOUD_CREDENTIALS_URI`, our
//! `[default]` profile (when no profile is named), the `aliyun` CLI's current profile, the
//! official credentials file, and last the ECS instance's RAM role.
//!
//! The first place that is set up is the one used: if it then fails (STS refuses the role, the
//! token file is unreadable), the run stops with its error rather than sign as another identity
//! further down the chain. Places with nothing to use are noted, and the chain goes on.

use anyhow::{Result, bail};

use super::credentials_file::{self, Lookup};
use super::{Found, aliyun_cli, ecs_metadata, env, oidc, profile, uri};
use crate::config::env::Env;
use crate::config::files::{Choice, Chosen, Files};
use crate::config::profile_file::ProfileFile;
use crate::http::Http;

/// `$ALIBABA_CLOUD_CLI_PROFILE_DISABLED=true`: leave the `aliyun` CLI's profiles out of the chain.
pub const ENV_CLI_PROFILE_DISABLED: &str = "ALIBABA_CLOUD_CLI_PROFILE_DISABLED";

/// How to set credentials up, ending the "no credentials found" error.
pub const HOW_TO_SET_UP: &str = "Set the environment variables, add a profile (see \
    config.example.toml) or run `aliyun configure`";

/// The credentials of a run, and where they came from.
pub fn find(env: &Env, files: &Files, choice: &Choice, http: &Http) -> Result<Found> {
    let mut tried = Vec::new();
    match choice.chosen {
        Chosen::Ours(name, p, file) if choice.named && p.has_credentials() => {
            return profile::find(name, file, env, http);
        }
        Chosen::Aliyun(p, path) => return aliyun_cli::find(p, path, files.aliyun()?, env, http),
        Chosen::Ours(name, _, file) if choice.named => tried.push(format!(
            "profile \"{name}\" in {} (it has no credentials)",
            file.path.display()
        )),
        _ => {}
    }
    if let Some(found) = env::find(env)? {
        return Ok(found);
    }
    tried.push(env::describe());
    if let Some(found) = oidc::from_env(env, http)? {
        return Ok(found);
    }
    tried.push(oidc::describe_env());
    if let Some(found) = uri::from_env(env, http) {
        return Ok(found);
    }
    tried.push(format!("{} (not set)", uri::ENV_CREDENTIALS_URI));
    if !choice.named
        && let Some(file) = default_profile(files, &mut tried)
    {
        return profile::find("default", file, env, http);
    }
    if env.is_true(ENV_CLI_PROFILE_DISABLED) {
        tried.push(format!(
            "the aliyun CLI's current profile ({ENV_CLI_PROFILE_DISABLED} is set)"
        ));
    } else {
        match choice.aliyun {
            Some((p, path)) => return aliyun_cli::find(p, path, files.aliyun()?, env, http),
            None => tried.push(format!(
                "the aliyun CLI's current profile in {}",
                files.describe_aliyun()?
            )),
        }
    }
    match credentials_file::find(env, files.alibabacloud_dir.as_deref(), http)? {
        Lookup::Found(found) => return Ok(found),
        Lookup::Absent(why) => tried.push(why),
    }
    if ecs_metadata::disabled(env) {
        bail!(
            "no credentials found; tried {}; the ECS instance's RAM role ({} is set). {HOW_TO_SET_UP}",
            tried.join("; "),
            ecs_metadata::ENV_ECS_METADATA_DISABLED
        );
    }
    ecs_metadata::last_link(env, &tried)
}

/// Our file, when its `[default]` profile holds credentials; otherwise why not, in `tried`.
fn default_profile<'f>(files: &'f Files, tried: &mut Vec<String>) -> Option<&'f ProfileFile> {
    let Some(file) = &files.ours else {
        tried.push(format!("profile \"default\" in {}", files.describe_ours()));
        return None;
    };
    match file.get("default") {
        Some(p) if p.has_credentials() => return Some(file),
        Some(_) => tried.push(format!(
            "profile \"default\" in {} (it has no credentials)",
            file.path.display()
        )),
        None => tried.push(format!(
            "profile \"default\" in {} (no [default] table)",
            file.path.display()
        )),
    }
    None
}
