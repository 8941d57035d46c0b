//! The numbers a flag and a profile key both set (`--timeout`/`timeout`, `--retries`,
//! `--jobs`, `--batch-size`/`batch_size`): their bounds and defaults, defined once for clap's
//! parsers and the profile file's check alike, and their resolution (flag, else profile, else
//! the default).

use std::time::Duration;

use super::precedence::{self, Source, Sources};
use super::profile_file::Profile;
use crate::cli::Cli;

/// A number with its bounds and built-in default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounded {
    /// The profile key; the flag is `--` and this with '-' for '_'.
    pub key: &'static str,
    /// How `-v` names the setting.
    pub name: &'static str,
    pub min: u32,
    pub max: u32,
    pub default: u32,
}

impl Bounded {
    /// The bounds as clap's ranged parsers take them.
    pub fn range(self) -> std::ops::RangeInclusive<i64> {
        i64::from(self.min)..=i64::from(self.max)
    }

    /// `n` if it is within the bounds.
    pub fn check(self, n: i128) -> Option<u32> {
        u32::try_from(n)
            .ok()
            .filter(|n| (self.min..=self.max).contains(n))
    }
}

/// Seconds allowed for each request (`--timeout`, `timeout`).
pub const TIMEOUT: Bounded = Bounded {
    key: "timeout",
    name: "timeout",
    min: 1,
    max: 3600,
    default: 30,
};
/// Retries after a transient failure (`--retries`, `retries`).
pub const RETRIES: Bounded = Bounded {
    key: "retries",
    name: "retries",
    min: 0,
    max: 20,
    default: crate::policy::DEFAULT_RETRIES,
};
/// Batches in flight at once (`--jobs`, `jobs`).
pub const JOBS: Bounded = Bounded {
    key: "jobs",
    name: "jobs",
    min: 1,
    max: 32,
    default: 1,
};
/// Task IDs per call (`--batch-size`, `batch_size`): up to the API's limit, which is the default.
pub const BATCH_SIZE: Bounded = Bounded {
    key: "batch_size",
    name: "batch size",
    min: 1,
    max: crate::batch::MAX_BATCH_SIZE as u32,
    default: crate::batch::MAX_BATCH_SIZE as u32,
};
/// Every number a profile holds, for its check.
pub const PROFILE_NUMBERS: [Bounded; 4] = [TIMEOUT, RETRIES, JOBS, BATCH_SIZE];

/// The resolved numbers of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Numbers {
    pub timeout: Duration,
    pub retries: u32,
    pub jobs: usize,
    pub batch_size: usize,
}

/// Flag, else profile, else the built-in default. The profile's values were checked against the
/// same bounds as the flags' when the file was read.
pub fn resolve(cli: &Cli, profile: Option<(&Profile, &Source)>, sources: &mut Sources) -> Numbers {
    let mut number =
        |bound: Bounded, flag: Option<u32>, of_profile: fn(&Profile) -> Option<u32>| {
            let from_profile = profile.map(|(p, source)| (of_profile(p), source.clone()));
            let candidates = [(flag, Source::flag())].into_iter().chain(from_profile);
            precedence::first(bound.name, candidates, sources).unwrap_or(bound.default)
        };
    let timeout = number(TIMEOUT, cli.timeout, |p| p.timeout);
    let retries = number(RETRIES, cli.retries, |p| p.retries);
    let jobs = number(JOBS, cli.jobs, |p| p.jobs);
    let batch_size = number(BATCH_SIZE, cli.batch_size, |p| p.batch_size);
    Numbers {
        timeout: Duration::from_secs(u64::from(timeout)),
        retries,
        jobs: jobs as usize,
        batch_size: batch_size as usize,
    }
}
