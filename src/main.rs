//! `sls-retry` entry point: parse, resolve the configuration, run one mode, exit with its status.

use std::io;
use std::process::ExitCode;
use std::time::SystemTime;

use anyhow::{Context, Result};

use sls_retry::cli::{self, Cli};
use sls_retry::config::{Config, Paths};
use sls_retry::diag;
use sls_retry::exit::Exit;
use sls_retry::interrupt::{Interrupt, Interrupted};
use sls_retry::modes::Run;

fn main() -> ExitCode {
    let cli = match cli::parse(std::env::args_os().collect()) {
        Ok(cli) => cli,
        Err(err) if !err.use_stderr() => err.exit(), // --help, --version
        Err(err) => {
            // One line for a log, keeping what clap names; --help has the usage.
            let line = cli::one_line_error(&err.render().to_string());
            diag::error(&format!("{line} (see sls-retry --help)"));
            return Exit::Usage.into();
        }
    };
    match run(cli) {
        Ok(exit) => exit.into(),
        // Every fallible step comes before the first request; a failed batch is a value in the
        // report, not an Err. So an error here means nothing was sent; a signal that ended a
        // step still decides the exit status.
        Err(err) => {
            diag::error(&format!("{err:#}"));
            match err.downcast_ref::<Interrupted>() {
                Some(interrupted) => Exit::from(interrupted.signal).into(),
                None => Exit::Usage.into(),
            }
        }
    }
}

fn run(cli: Cli) -> Result<Exit> {
    if let Some(kind) = cli.generate {
        return match cli::generate(kind, &mut io::stdout().lock()) {
            // `--generate man | head` is fine.
            Err(err) if err.kind() != io::ErrorKind::BrokenPipe => {
                Err(err).context("cannot write to stdout")
            }
            _ => Ok(Exit::Success),
        };
    }
    // First, so that every phase (reading stdin, credentials, listing, sending) can end early.
    let interrupt = Interrupt::install().context("cannot watch for SIGINT/SIGTERM")?;
    let config = Config::resolve(
        &cli,
        &|name| std::env::var(name).ok(),
        &Paths::from_system(),
        &interrupt,
        SystemTime::now(),
    )?;
    Run::new(&config, &interrupt).execute()
}
