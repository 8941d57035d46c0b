//! Credentials from a profile of the `aliyun` CLI, in the modes we take: AK, StsToken,
//! EcsRamRole (the instance metadata service) and External (its `process_command`).

use std::path::Path;

use std::sync::Arc;

use anyhow::{Context, Result, bail};

use super::command::{CommandStyle, FromCommand};
use super::{Credentials, Found, ecs_metadata, fixed};
use crate::config::aliyun_cli::{AliyunMode, AliyunProfile};
use crate::config::env::Env;

pub fn find(p: &AliyunProfile, path: &Path, env: &Env) -> Result<Found> {
    let mode = p.mode();
    let at = || {
        format!(
            "aliyun CLI profile \"{}\" in {} (mode {mode})",
            crate::untrusted::escape(&p.name),
            path.display(),
        )
    };
    let pair = |token| {
        let found =
            Credentials::from_pair(Some(&p.access_key_id), p.access_key_secret.as_ref(), token);
        let found = found.map(fixed);
        found.with_context(|| format!("{}: access_key_id or access_key_secret is empty", at()))
    };
    let provider = match &mode {
        AliyunMode::Ak => pair(None)?,
        AliyunMode::StsToken => match p.sts_token.as_ref().filter(|t| !t.expose().is_empty()) {
            Some(token) => pair(Some(token))?,
            None => bail!("{}: sts_token is empty", at()),
        },
        AliyunMode::EcsRamRole => {
            let role = ecs_metadata::EcsRole::from_env(&p.ram_role_name, env).with_context(at)?;
            Arc::new(role.named_by(at()))
        }
        AliyunMode::External if p.process_command.expose().is_empty() => {
            bail!("{}: process_command is empty", at())
        }
        AliyunMode::External => Arc::new(FromCommand {
            command: p.process_command.clone(),
            style: CommandStyle::Fields,
            interrupt: env.interrupt.clone(),
            configured_at: format!("{}, key process_command", at()),
        }),
        AliyunMode::RamRoleArn | AliyunMode::Other(_) => bail!(
            "{}: mode \"{mode}\" is not supported; use AK, StsToken, EcsRamRole or External, \
             or a profile of sls-retry's own",
            at()
        ),
    };
    Ok((provider, at()))
}
