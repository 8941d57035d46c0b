//! The target of a run: project, logstore and shipper, from the flags, else the profile, each
//! parsed into its name type.

use anyhow::{Result, bail};

use super::precedence::{self, Source, Sources};
use super::profile_file::Profile;
use crate::cli::Cli;
use crate::names::{Project, ResourceName};

/// Whose tasks a run retries or lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub project: Project,
    pub logstore: ResourceName,
    pub shipper: ResourceName,
}

pub fn resolve(
    cli: &Cli,
    profile: Option<(&Profile, &Source)>,
    sources: &mut Sources,
) -> Result<Target> {
    let mut name =
        |what: &'static str, flag: &Option<String>, of: fn(&Profile) -> &Option<String>| {
            let from_profile = profile.map(|(p, source)| (of(p).clone(), source.clone()));
            let candidates = [(flag.clone(), Source::flag())]
                .into_iter()
                .chain(from_profile);
            let value = precedence::first(what, candidates, sources).unwrap_or_default();
            let value = value.trim().to_string();
            if value.is_empty() {
                let hint = format!("-{}/--{what} NAME", &what[..1]);
                bail!("no {what} given; pass {hint} or set {what} in a profile");
            }
            Ok(value)
        };
    let project = name("project", &cli.project, |p| &p.project)?;
    let project = Project::parse(&project).map_err(anyhow::Error::msg)?;
    let logstore = name("logstore", &cli.logstore, |p| &p.logstore)?;
    let logstore = ResourceName::parse("logstore", &logstore).map_err(anyhow::Error::msg)?;
    let shipper = name("shipper", &cli.shipper, |p| &p.shipper)?;
    let shipper = ResourceName::parse("shipper", &shipper).map_err(anyhow::Error::msg)?;
    Ok(Target {
        project,
        logstore,
        shipper,
    })
}
