//! The target of a run: the project, and the logstore and shipper, from the flags, else the
//! profile, each parsed into its name type. Without a shipper (or a logstore) the run is a sweep
//! of every shipper of the logstore (or of the project).

use anyhow::{Result, bail};

use super::precedence::{self, Source, Sources};
use super::profile_file::Profile;
use crate::cli::Cli;
use std::sync::Arc;

use crate::names::{Project, ResourceName, Shipper};

/// Whose tasks a run retries or lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub project: Project,
    pub scope: Scope,
}

/// How much of the project a run covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// One shipper (`--logstore` and `--shipper`).
    Shipper(Arc<Shipper>),
    /// Every shipper of a logstore (`--logstore` alone): a sweep.
    Logstore(ResourceName),
    /// Every shipper of every logstore (neither): a sweep.
    Project,
}

impl Target {
    /// The one shipper of a run that is not a sweep.
    pub fn shipper(&self) -> Option<&Arc<Shipper>> {
        match &self.scope {
            Scope::Shipper(shipper) => Some(shipper),
            _ => None,
        }
    }
}

/// The project from the flag, else the profile; the logstore and shipper likewise, where either
/// may be left out (a sweep), but not the logstore alone.
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
            Some(value.trim().to_string()).filter(|v| !v.is_empty())
        };
    let Some(project) = name("project", &cli.project, |p| &p.project) else {
        bail!("no project given; pass -p/--project NAME or set project in a profile");
    };
    let project = Project::parse(&project).map_err(anyhow::Error::msg)?;
    let logstore = name("logstore", &cli.logstore, |p| &p.logstore);
    let shipper = name("shipper", &cli.shipper, |p| &p.shipper);
    let logstore = (logstore.as_deref())
        .map(|l| ResourceName::parse("logstore", l).map_err(anyhow::Error::msg))
        .transpose()?;
    let shipper = (shipper.as_deref())
        .map(|s| ResourceName::parse("shipper", s).map_err(anyhow::Error::msg))
        .transpose()?;
    let scope = match (logstore, shipper) {
        (Some(logstore), Some(name)) => Scope::Shipper(Arc::new(Shipper { logstore, name })),
        (Some(logstore), None) => Scope::Logstore(logstore),
        (None, None) => Scope::Project,
        (None, Some(_)) => bail!(
            "no logstore given for the shipper; pass -l/--logstore NAME or set logstore in a \
             profile (a shipper belongs to one logstore)"
        ),
    };
    Ok(Target { project, scope })
}
