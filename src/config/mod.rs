//! Flags, environment, our profile file and the `aliyun` CLI's config, resolved once into the
//! `Config` the rest of the program takes: nothing reads `Cli` after this. Resolution is a
//! pipeline of small steps, one per concern: the mode (`mode.rs`), the files and which profile
//! (`files.rs`), the target (`target.rs`), where to connect and how to sign (`location.rs`), the
//! bounded numbers (`numbers.rs`), the credentials (`crate::credentials`). Every setting goes
//! through one precedence helper (`precedence.rs`) that records where it came from, for `-v`;
//! secrets never enter that record.

pub mod aliyun_cli;
pub mod env;
pub mod files;
mod location;
pub mod mode;
pub mod network;
pub mod numbers;
pub mod precedence;
pub mod profile_file;
pub mod target;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use anyhow::Result;

use crate::cli::Cli;
use crate::credentials::{self, Keyring};
use crate::diag::Diag;
use crate::endpoint::{Endpoint, Scheme};
use crate::http::Http;
use crate::interrupt::Interrupt;
use crate::sign::SignatureVersion;

pub use files::Paths;
pub use mode::{IdSource, Mode};
pub use numbers::{BATCH_SIZE, Bounded, JOBS, PROFILE_NUMBERS, RETRIES, TIMEOUT};
pub use precedence::{Source, Sources};
pub use target::Target;

/// Where the report goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    Human,
    Json,
    Quiet,
}

/// Everything a run needs, resolved and validated.
#[derive(Debug)]
pub struct Config {
    pub mode: Mode,
    pub target: Target,
    pub endpoint: Endpoint,
    pub signature: SignatureVersion,
    /// The run's credentials, kept fresh.
    pub credentials: Arc<Keyring>,
    /// The run's one HTTP agent (SLS, STS, a credentials URI).
    pub http: Http,
    pub batch_size: usize,
    pub timeout: Duration,
    pub retries: u32,
    /// Batches in flight at once (`--jobs`).
    pub jobs: usize,
    pub keep_going: bool,
    pub save_failed: Option<PathBuf>,
    pub dry_run: bool,
    /// `--wait`: follow the accepted tasks after sending.
    pub wait: Option<crate::wait::Settings>,
    pub output: Output,
    pub verbose: u8,
    /// Where each setting came from, for `-v`; never holds a secret.
    pub sources: Sources,
    /// Things the user should hear about even without `-v`.
    pub warnings: Vec<String>,
}

impl Config {
    /// Resolve everything. `env` looks a variable up; `paths` are the default file locations;
    /// `now` anchors the listing window; a signal in `interrupt` ends a slow credential source
    /// (an `Interrupted` error).
    pub fn resolve(
        cli: &Cli,
        env: &dyn Fn(&str) -> Option<String>,
        paths: &Paths,
        interrupt: &Interrupt,
        now: SystemTime,
    ) -> Result<Config> {
        let env = env::Env::new(env, interrupt);
        let mode = mode::resolve(cli, now)?;
        let wait = (cli.wait)
            .then(|| {
                let (timeout, poll) = (cli.wait_timeout.as_deref(), cli.poll_interval.as_deref());
                crate::wait::Settings::parse(timeout, poll)
            })
            .transpose()?;
        let mut sources = Sources::default();
        let files = files::Files::load(cli.config.as_deref(), &env, paths)?;
        let mut warnings: Vec<String> = files.warning().into_iter().collect();
        let choice = files.choose(cli.profile.as_deref(), &env)?;
        let ours = choice.ours();
        let profile = ours.as_ref().map(|(p, source)| (*p, source));
        let target = target::resolve(cli, profile, &mut sources)?;
        mode::check_scope(&mode, &target.scope, cli.save_failed.is_some())?;
        let aliyun = choice
            .aliyun
            .map(|(p, path)| (p, Source::aliyun_profile(&p.name, path)));
        let location = location::resolve(cli, &env, profile, aliyun, &mut sources)?;
        warnings.extend(location.warning);
        let numbers = numbers::resolve(cli, profile, &mut sources);
        if let Some(path) = &cli.save_failed {
            crate::save_failed::check(path)?;
        }
        let diag = Diag::new(cli.verbose);
        let ours_in = choice.ours_path();
        let network = network::resolve(
            cli,
            &env,
            profile
                .zip(ours_in)
                .map(|((p, source), file)| (p, source, file)),
            &mut sources,
        )?;
        let http = Http::new(numbers.timeout, numbers.jobs, diag, network);
        if location.endpoint.scheme == Scheme::Https {
            http.load_trust()?;
        }
        let (provider, from) = credentials::find(&env, &files, &choice, &http)?;
        let keyring = Keyring::open(provider, from, diag)?;
        sources.record("credentials", keyring.source());
        Ok(Config {
            mode,
            target,
            endpoint: location.endpoint,
            signature: location.signature,
            credentials: Arc::new(keyring),
            http,
            batch_size: numbers.batch_size,
            timeout: numbers.timeout,
            retries: numbers.retries,
            jobs: numbers.jobs,
            keep_going: cli.keep_going,
            save_failed: cli.save_failed.clone(),
            dry_run: cli.dry_run,
            wait,
            output: match (cli.json, cli.quiet) {
                (true, _) => Output::Json,
                (false, true) => Output::Quiet,
                (false, false) => Output::Human,
            },
            verbose: cli.verbose,
            sources,
            warnings,
        })
    }

    /// One line for `-v`: where requests go, as whom, how signed.
    pub fn describe(&self) -> String {
        let project = &self.target.project;
        format!(
            "endpoint {} (Host {}), AccessKeyId {}, signature {}",
            self.endpoint.base_url(project),
            self.endpoint.host_header(project),
            self.credentials.current_credentials().access_key_id,
            match &self.signature {
                SignatureVersion::V1 => "v1".to_string(),
                SignatureVersion::V4 { region } => format!("v4 ({region})"),
            }
        )
    }
}

#[cfg(test)]
mod tests;
