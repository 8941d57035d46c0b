//! How requests travel: the proxies the environment sets, and the CA file trusted beside the
//! system's store (`--ca-file`, else the profile's `ca_file`, relative to the profile file).

use std::path::{Path, PathBuf};

use anyhow::Result;

use super::env::Env;
use super::precedence::{self, Source, Sources};
use super::profile_file::Profile;
use crate::cli::Cli;
use crate::http::proxy::Proxies;
use crate::http::trust::{CaFile, ENV_SSL_CERT, Trust};

/// The run's network settings.
pub struct Network {
    pub proxies: Proxies,
    pub trust: Trust,
}

impl Network {
    /// Every request direct, trusting the system's store alone.
    pub fn direct() -> Result<Network> {
        Ok(Network {
            proxies: Proxies::default(),
            trust: Trust::new(None, None)?,
        })
    }
}

/// The proxies of the environment and the trusted roots; `profile` is our chosen profile, where
/// it came from, and the file it is in.
pub fn resolve(
    cli: &Cli,
    env: &Env,
    profile: Option<(&Profile, &Source, &Path)>,
    sources: &mut Sources,
) -> Result<Network> {
    let proxies = Proxies::from_env(env)?;
    let from_profile = profile.map(|(p, source, file)| {
        let relative_to = file.parent().unwrap_or(Path::new(""));
        let path = p.ca_file.as_ref().map(|f| relative_to.join(f));
        (path, source.clone())
    });
    let candidates = [(cli.ca_file.clone(), Source::flag())]
        .into_iter()
        .chain(from_profile);
    let ca_file: Option<PathBuf> = precedence::first("ca file", candidates, sources);
    let named_by = match sources.of("ca file") {
        Some("flag") => "--ca-file".to_string(),
        Some(source) => format!("ca_file of {source}"),
        None => String::new(),
    };
    let ca_file = ca_file.as_deref().map(|path| CaFile { path, named_by });
    let ssl_cert_set = env.first(&ENV_SSL_CERT).map(|(name, _)| name);
    let trust = Trust::new(ca_file.as_ref(), ssl_cert_set)?;
    Ok(Network { proxies, trust })
}
