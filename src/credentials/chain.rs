//! The order in which the places credentials may come from are tried, and, when none has them,
//! the error that names every place tried. A profile named by `--profile` or
//! `$SLS_RETRY_PROFILE` that holds credentials is used alone; otherwise the environment, then
//! (no profile named) our `[default]` profile, then the `aliyun` CLI's profile.

use anyhow::{Result, bail};

use super::{Found, aliyun_cli, env, profile};
use crate::config::env::Env;
use crate::config::files::{Choice, Chosen, Files};

/// The credentials of a run, and where they came from.
pub fn find(env: &Env, files: &Files, choice: &Choice) -> Result<Found> {
    let mut tried = Vec::new();
    match choice.chosen {
        Chosen::Ours(name, p, path) if choice.named && p.has_credentials() => {
            return profile::find(name, p, path, env);
        }
        Chosen::Aliyun(p, path) => return aliyun_cli::find(p, path, env),
        Chosen::Ours(name, _, path) if choice.named => tried.push(format!(
            "profile \"{name}\" in {} (it has no credentials)",
            path.display()
        )),
        _ => {}
    }
    if let Some(found) = env::find(env)? {
        return Ok(found);
    }
    tried.push(env::describe());
    if !choice.named {
        match files.ours.as_ref().map(|f| (f.get("default"), &f.path)) {
            Some((Some(p), path)) if p.has_credentials() => {
                return profile::find("default", p, path, env);
            }
            Some((Some(_), path)) => tried.push(format!(
                "profile \"default\" in {} (it has no credentials)",
                path.display()
            )),
            Some((None, path)) => tried.push(format!(
                "profile \"default\" in {} (no [default] table)",
                path.display()
            )),
            None => tried.push(format!("profile \"default\" in {}", files.describe_ours())),
        }
    }
    match choice.aliyun {
        Some((p, path)) => return aliyun_cli::find(p, path, env),
        None => tried.push(format!(
            "the aliyun CLI's current profile in {}",
            files.describe_aliyun()?
        )),
    }
    bail!(
        "no credentials found; tried {}. Set the environment variables, add a profile \
         (see config.example.toml) or run `aliyun configure`",
        tried.join("; ")
    )
}
