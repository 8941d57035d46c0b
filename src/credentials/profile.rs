//! Credentials from a profile of our profile file: a static AccessKey pair (and STS token), or a
//! `credentials_command`, never both.

use std::path::Path;

use std::sync::Arc;

use anyhow::{Result, bail};

use super::command::{CommandStyle, FromCommand};
use super::{Credentials, Found, fixed};
use crate::config::env::Env;
use crate::config::profile_file::Profile;

pub fn find(name: &str, p: &Profile, path: &Path, env: &Env) -> Result<Found> {
    let at = || format!("profile \"{name}\" in {}", path.display());
    let static_keys = p.access_key_id.is_some() || p.access_key_secret.is_some();
    if let Some(command) = &p.credentials_command {
        if static_keys || p.security_token.is_some() {
            bail!(
                "{}: set either credentials_command or access_key_id/access_key_secret, not both",
                at()
            );
        }
        // Named by its key: the command's text may hold a secret.
        let provider = FromCommand {
            command: command.clone(),
            style: CommandStyle::Shell,
            interrupt: env.interrupt.clone(),
            configured_at: format!("{}, key credentials_command", at()),
        };
        return Ok((
            Arc::new(provider),
            format!("{} (credentials_command)", at()),
        ));
    }
    let pair = Credentials::from_pair(
        p.access_key_id.as_deref(),
        p.access_key_secret.as_ref(),
        p.security_token.as_ref(),
    );
    match pair {
        Some(creds) => Ok((fixed(creds), at())),
        None => bail!(
            "{}: access_key_id and access_key_secret must both be set (credentials are never \
             combined from different sources)",
            at()
        ),
    }
}
