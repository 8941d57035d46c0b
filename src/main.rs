//! `sls-retry` entry point: parse, run, map the outcome to an exit status.

use std::io::{self, IsTerminal, Read};
use std::process::ExitCode;
use std::time::{Instant, SystemTime};

use anyhow::{Context, Result, bail};
use clap::Parser;

use sls_retry::batch;
use sls_retry::cli::{self, Cli, Mode, TaskStatus};
use sls_retry::client::{Client, ListQuery};
use sls_retry::config::{Config, Output, Paths};
use sls_retry::diag::{self, Diag};
use sls_retry::exit::Exit;
use sls_retry::ids::{self, Collected, TaskId};
use sls_retry::interrupt::{Interrupt, Interrupted};
use sls_retry::listing::Task;
use sls_retry::outcome::Status;
use sls_retry::report::{Found, Reporter};
use sls_retry::save_failed;
use sls_retry::send::Sender;

/// Runs shorter than this many batches get no progress bar.
const PROGRESS_MIN_BATCHES: usize = 5;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
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
                Some(interrupted) => Exit::for_signal(interrupted.exit_code()).into(),
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
    let mode = cli.mode(SystemTime::now())?;
    let config = Config::resolve(
        &cli,
        &|name| std::env::var(name).ok(),
        &Paths::from_system(),
        &interrupt,
    )?;
    let diag = Diag::new(config.verbose);
    for warning in &config.warnings {
        diag.warn(warning);
    }
    for (setting, source) in &config.sources {
        diag.info(|| format!("{setting} from {source}"));
    }
    diag.info(|| config.describe());
    let client = Client::new(&config, interrupt.clone());
    let list_query = |window, status: TaskStatus| ListQuery {
        logstore: config.logstore.clone(),
        shipper: config.shipper.clone(),
        window,
        status: status.as_query(),
    };

    let (collected, found) = match mode {
        Mode::List(window, status) => {
            let Some(tasks) = list(&client, &list_query(window, status), &diag) else {
                return Ok(Exit::Failure);
            };
            diag.info(|| format!("{} tasks listed", tasks.len()));
            Reporter::new(io::stdout().lock(), config.output, 0, 0).tasks(&tasks);
            return Ok(Exit::Success);
        }
        Mode::Failed(window) => {
            let Some(tasks) = list(&client, &list_query(window, TaskStatus::Fail), &diag) else {
                return Ok(Exit::Failure);
            };
            // The status filter is the server's; only what it says failed is retried.
            let ids: Vec<String> = tasks
                .into_iter()
                .filter(|t| t.status == "fail")
                .map(|t| t.id)
                .collect();
            let collected = ids::from_listing(ids).map_err(anyhow::Error::msg)?;
            let found = Found::Listing {
                failed: collected.ids.len(),
                window,
            };
            (collected, Some(found))
        }
        Mode::Retry => {
            let collected = read_ids(&cli.task_ids)?;
            let found = collected.listed.map(|listed| Found::Documents {
                failed: collected.ids.len() + collected.duplicates,
                listed,
            });
            (collected, found)
        }
    };
    let Collected {
        ids, duplicates, ..
    } = collected;
    if duplicates > 0 {
        diag.warn(&format!(
            "dropped {duplicates} duplicate task id{} (first occurrence kept)",
            if duplicates == 1 { "" } else { "s" }
        ));
    }
    let total_ids = ids.len();
    let batches = batch::plan(ids, config.batch_size);
    let mut report = Reporter::new(io::stdout().lock(), config.output, total_ids, batches.len());
    if let Some(found) = &found {
        report.found(found);
    }

    if config.dry_run {
        let now = SystemTime::now();
        report.dry_run(&config.endpoint.base_url(&config.project), &batches, |b| {
            client.prepare_retry(&config.logstore, &config.shipper, &b.ids, now)
        });
        return Ok(Exit::Success);
    }

    let started = Instant::now();
    // A bar only where someone watches a long run: a terminal, a human report, no -v lines.
    if config.output == Output::Human
        && config.verbose == 0
        && batches.len() >= PROGRESS_MIN_BATCHES
        && io::stderr().is_terminal()
    {
        diag::start_progress(batches.len());
    }
    let mut not_accepted: Vec<&TaskId> = Vec::new();
    let sender = Sender {
        client: &client,
        logstore: &config.logstore,
        shipper: &config.shipper,
        jobs: config.jobs,
        keep_going: config.keep_going,
        interrupt: &interrupt,
        diag,
    };
    sender.send_all(&batches, |batch, outcome| {
        if outcome.status != Status::Ok {
            not_accepted.extend(&batch.ids);
        }
        report.batch(batch, outcome);
        !report.is_closed()
    });
    let mut exit = report.finish(started.elapsed());
    if let Some(path) = &config.save_failed {
        if let Err(err) = save_failed::write(path, &not_accepted) {
            diag::error(&format!(
                "cannot write --save-failed {}: {err}; the report above lists them",
                path.display()
            ));
            exit = Exit::Failure;
        } else {
            diag.info(|| {
                format!(
                    "wrote {} not accepted to {}",
                    plural(not_accepted.len(), "task id", "task ids"),
                    path.display()
                )
            });
        }
    }
    // A signal decides the exit status, whatever was accepted before it.
    Ok(match interrupt.exit_code() {
        Some(code) => Exit::for_signal(code),
        None => exit,
    })
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Every task of the listing, or `None` after saying on stderr why the listing failed.
fn list(client: &Client, query: &ListQuery, diag: &Diag) -> Option<Vec<Task>> {
    match client.list_tasks(query, diag) {
        Ok(tasks) => Some(tasks),
        Err(outcome) => {
            diag::error(&format!(
                "listing the shipper's tasks failed: {}; nothing was retried",
                outcome.describe()
            ));
            None
        }
    }
}

/// Task IDs from the arguments, and from stdin where `-` stands or when there are no arguments.
fn read_ids(args: &[String]) -> Result<Collected> {
    let stdin = if ids::wants_stdin(args) || args.is_empty() {
        if args.is_empty() && io::stdin().is_terminal() {
            bail!(
                "no task ids given; pass them as arguments, or pipe them in \
                 (e.g. `cat ids.txt | sls-retry ...`, or `-` to read stdin)"
            );
        }
        let mut bytes = Vec::new();
        io::stdin()
            .lock()
            .take(ids::MAX_STDIN_BYTES + 1)
            .read_to_end(&mut bytes)
            .context("cannot read task ids from stdin")?;
        if bytes.len() as u64 > ids::MAX_STDIN_BYTES {
            bail!(
                "stdin is larger than {} MiB; split the input",
                ids::MAX_STDIN_BYTES >> 20
            );
        }
        Some(bytes)
    } else {
        None
    };
    ids::collect(args, stdin.as_deref()).map_err(anyhow::Error::msg)
}
