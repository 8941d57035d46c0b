//! Where requests go and how they are signed: the endpoint (given, or derived from a region),
//! the region of the v4 scope, and the signature version.

use anyhow::{Result, bail};

use super::aliyun_cli::AliyunProfile;
use super::env::{ENV_REGION, Env};
use super::precedence::{self, Source, Sources};
use super::profile_file::Profile;
use crate::cli::Cli;
use crate::endpoint::{Endpoint, Scheme};
use crate::names::Region;
use crate::sign::SignatureVersion;

/// What the settings say about where to connect and how to sign.
pub struct Location {
    pub endpoint: Endpoint,
    pub signature: SignatureVersion,
    /// Plain http to a host that is not this machine.
    pub warning: Option<String>,
}

/// One precedence level's say on where to connect.
struct Level {
    source: Source,
    endpoint: Option<String>,
    region: Option<String>,
    intranet: bool,
}

/// Flag, environment (region only), our profile, the `aliyun` CLI profile (region only).
pub fn resolve(
    cli: &Cli,
    env: &Env,
    profile: Option<(&Profile, &Source)>,
    aliyun: Option<(&AliyunProfile, Source)>,
    sources: &mut Sources,
) -> Result<Location> {
    let env_region = env.first(&ENV_REGION);
    let mut levels = vec![Level {
        source: Source::flag(),
        endpoint: cli.endpoint.clone(),
        region: cli.region.clone(),
        intranet: cli.intranet,
    }];
    levels.extend(env_region.map(|(name, region)| Level {
        source: Source::env(name),
        endpoint: None,
        region: Some(region),
        intranet: cli.intranet,
    }));
    levels.extend(profile.map(|(p, source)| Level {
        source: source.clone(),
        endpoint: p.endpoint.clone(),
        region: p.region.clone(),
        intranet: cli.intranet || p.intranet.unwrap_or(false),
    }));
    levels.extend(aliyun.map(|(p, source)| Level {
        source,
        endpoint: None,
        region: Some(p.region_id.clone()).filter(|r| !r.is_empty()),
        intranet: cli.intranet,
    }));
    let (endpoint, region) = locate(&levels, sources)?;
    let signature = signature(cli.signature_version, profile, region, sources)?;
    let warning = (endpoint.scheme == Scheme::Http && !endpoint.is_loopback()).then(|| {
        format!(
            "sending signed requests over plain http to {endpoint}; anyone on the path can read \
             and replay them (use https, the default)"
        )
    });
    Ok(Location {
        endpoint,
        signature,
        warning,
    })
}

/// The endpoint comes from the first level that names an endpoint or a region; the v4 region
/// from the first region at or after that level, the endpoint's own host counting at its level.
fn locate(levels: &[Level], sources: &mut Sources) -> Result<(Endpoint, Option<Region>)> {
    let Some(at) = levels
        .iter()
        .position(|l| l.endpoint.is_some() || l.region.is_some())
    else {
        if levels[0].intranet {
            bail!("--intranet needs a region: pass --region REGION");
        }
        bail!(
            "no endpoint given; pass -e/--endpoint HOST (e.g. cn-hangzhou.log.aliyuncs.com) or \
             --region REGION, or set endpoint or region in a profile"
        );
    };
    let level = &levels[at];
    let endpoint = match (&level.endpoint, &level.region) {
        (Some(e), _) => {
            if level.intranet && at > 0 {
                bail!(
                    "--intranet derives the endpoint from a region, but {} sets endpoint = \"{}\"",
                    level.source,
                    crate::untrusted::escape(e)
                );
            }
            Endpoint::parse(e).map_err(anyhow::Error::msg)?
        }
        (None, Some(r)) => {
            let region = Region::parse(r).map_err(anyhow::Error::msg)?;
            Endpoint::for_region(&region, level.intranet)
        }
        (None, None) => unreachable!("the level names one of them"),
    };
    let how = match level.endpoint {
        Some(_) => level.source.clone(),
        None => level.source.noting("derived from its region"),
    };
    sources.record("endpoint", how);

    // The endpoint's own host names a region at its level, after the level's `region`.
    let own = endpoint.region().map(str::to_string);
    let candidates = levels[at..]
        .iter()
        .enumerate()
        .map(|(i, l)| match &l.region {
            Some(region) => (Some(region.clone()), l.source.clone()),
            None if i == 0 => (own.clone(), Source::derived("endpoint")),
            None => (None, l.source.clone()),
        });
    let region = precedence::first("region", candidates, sources);
    let region = region.map(|r| Region::parse(&r)).transpose();
    Ok((endpoint, region.map_err(anyhow::Error::msg)?))
}

/// Flag, else profile; else v4 for `-acdr-ut-` regions, as the official SDKs do; else v1.
fn signature(
    flag: Option<u8>,
    profile: Option<(&Profile, &Source)>,
    region: Option<Region>,
    sources: &mut Sources,
) -> Result<SignatureVersion> {
    let automatic = region
        .as_ref()
        .filter(|r| r.wants_v4())
        .map(|_| (Some(4), Source::derived("region (-acdr-ut- takes v4)")));
    let candidates = [(flag, Source::flag())]
        .into_iter()
        .chain(profile.map(|(p, source)| (p.signature_version, source.clone())))
        .chain(automatic);
    let version = precedence::first("signature version", candidates, sources).unwrap_or(1);
    match (version, region) {
        (4, Some(region)) => Ok(SignatureVersion::V4 { region }),
        (4, None) => bail!(
            "signature v4 needs a region; pass --region REGION (or set region in the profile)"
        ),
        _ => Ok(SignatureVersion::V1),
    }
}
