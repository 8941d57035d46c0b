//! `sls-retry` entry point: parse, run, map the outcome to an exit status.

use std::io::{self, IsTerminal, Read};
use std::process::ExitCode;
use std::sync::Arc;
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
use sls_retry::listing::{Listing, Skipped};
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
    let client = Arc::new(Client::new(&config, interrupt.clone()));
    let list_query = |window, status: TaskStatus| ListQuery {
        logstore: config.logstore.clone(),
        shipper: config.shipper.clone(),
        window,
        status: status.as_query(),
    };

    // Set when the IDs came from a listing that did not add up: the run retries what it read
    // and ends with exit status 1.
    let mut incomplete = false;
    let (collected, found, skipped) = match mode {
        Mode::List(window, status) => {
            let listing = match list(&client, list_query(window, status), diag, &interrupt) {
                Ok(listing) => listing,
                Err(exit) => return Ok(exit),
            };
            warn_skipped(&listing.skipped, &diag);
            let shortfall = listing.shortfall();
            if let Some(shortfall) = &shortfall {
                diag.warn(&format!("{shortfall}; printed what was read"));
            }
            diag.info(|| format!("{} tasks listed", listing.tasks.len()));
            let exit =
                Reporter::new(io::stdout().lock(), config.output, 0, 0).tasks(&listing.tasks);
            return Ok(exit.or_failure(shortfall.is_some() || !listing.skipped.is_empty()));
        }
        Mode::Failed(window) => {
            let query = list_query(window, TaskStatus::Fail);
            let listing = match list(&client, query, diag, &interrupt) {
                Ok(listing) => listing,
                Err(exit) => return Ok(summary_only(config.output, exit)),
            };
            if let Some(shortfall) = listing.shortfall() {
                incomplete = true;
                diag.warn(&format!(
                    "{shortfall}; retrying the failed tasks read (a later run finds the rest)"
                ));
            }
            // The status filter is the server's; only what it says failed is retried.
            let skipped: Vec<Skipped> = (listing.skipped.into_iter())
                .filter(|t| t.status == "fail")
                .collect();
            let ids: Vec<TaskId> = (listing.tasks.into_iter())
                .filter(|t| t.status == "fail")
                .map(|t| t.id)
                .collect();
            let collected = ids::from_listing(ids);
            let found = Found::Listing {
                failed: collected.ids.len() + collected.duplicates + skipped.len(),
                window,
                requests: listing.pages,
            };
            (collected, Some(found), skipped)
        }
        Mode::Retry => {
            let mut collected = match read_ids(&cli.task_ids, &interrupt)? {
                Ok(collected) => collected,
                Err(interrupted) => return Ok(summary_only(config.output, said(interrupted))),
            };
            let documents = collected.documents.take();
            let found = documents.as_ref().map(|d| Found::Documents {
                failed: collected.ids.len() + collected.duplicates + d.skipped.len(),
                listed: d.listed,
            });
            let skipped = match documents {
                Some(d) => {
                    if d.claimed > d.listed {
                        incomplete = true;
                        diag.warn(&format!(
                            "the GetShipperStatus documents on stdin hold {} tasks but count {}: \
                             they are incomplete (aliyunlog's get_shipper_tasks --size=-1 keeps \
                             only its first page); retrying what they hold, --failed finds every \
                             failed task",
                            d.listed, d.claimed
                        ));
                    }
                    d.skipped
                }
                None => Vec::new(),
            };
            (collected, found, skipped)
        }
    };
    warn_skipped(&skipped, &diag);
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
    report.skipped(skipped.len());

    if config.dry_run {
        let now = sls_retry::clock::signing_time(SystemTime::now(), 0);
        let exit = report.dry_run(&config.endpoint.base_url(&config.project), &batches, |b| {
            client.prepare_retry(&config.logstore, &config.shipper, &b.ids, now)
        });
        return Ok(exit.or_failure(incomplete));
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
    if incomplete {
        exit = Exit::Failure;
    }
    if let Some(path) = &config.save_failed {
        if !save_failed::save(path, &not_accepted) {
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

/// A retry run that ends before any batch: with `--json`, the summary still comes last (all
/// zeros), so a script reading the report always finds one.
fn summary_only(output: Output, exit: Exit) -> Exit {
    if output == Output::Json {
        Reporter::new(io::stdout().lock(), output, 0, 0).finish(std::time::Duration::ZERO);
    }
    exit
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Say which task IDs from the service were left out: the first few, then how many more.
fn warn_skipped(skipped: &[Skipped], diag: &Diag) {
    const SHOWN: usize = 10;
    for task in skipped.iter().take(SHOWN) {
        diag.warn(&task.describe());
    }
    if skipped.len() > SHOWN {
        diag.warn(&format!(
            "skipped {} more invalid task ids from the listing",
            skipped.len() - SHOWN
        ));
    }
}

/// Every task of the listing; else, once stderr says why (the listing failed, or a signal came
/// while it ran, which abandons it), the exit status the run ends with.
fn list(
    client: &Arc<Client>,
    query: ListQuery,
    diag: Diag,
    interrupt: &Interrupt,
) -> Result<Listing, Exit> {
    let client = Arc::clone(client);
    // Read-only requests: abandoned at a signal rather than waited for.
    let during = "listing the shipper's tasks; nothing was retried";
    match interrupt.abandon_on_signal(during, move || client.list_tasks(&query, &diag)) {
        Ok(Ok(listing)) => Ok(listing),
        Ok(Err(outcome)) => {
            diag::error(&format!(
                "listing the shipper's tasks failed: {}; nothing was retried",
                outcome.describe()
            ));
            Err(Exit::Failure)
        }
        Err(interrupted) => Err(said(interrupted)),
    }
}

/// A signal came before anything was sent: say so on stderr, and end as a signal ends a run.
fn said(interrupted: Interrupted) -> Exit {
    diag::error(&interrupted.to_string());
    Exit::for_signal(interrupted.exit_code())
}

/// Task IDs from the arguments, and from stdin where `-` stands or when there are no arguments.
/// An `Err(Interrupted)` inside: a signal came while stdin was read.
fn read_ids(args: &[String], interrupt: &Interrupt) -> Result<Result<Collected, Interrupted>> {
    let stdin = if ids::wants_stdin(args) || args.is_empty() {
        if args.is_empty() && io::stdin().is_terminal() {
            bail!(
                "no task ids given; pass them as arguments, or pipe them in \
                 (e.g. `cat ids.txt | sls-retry ...`, or `-` to read stdin)"
            );
        }
        // A producer may keep stdin open for long; a signal must not wait for it.
        let during = "reading task ids from stdin; nothing was sent";
        let read = interrupt.abandon_on_signal(during, || {
            let mut bytes = Vec::new();
            let mut stdin = io::stdin().lock().take(ids::MAX_STDIN_BYTES + 1);
            stdin.read_to_end(&mut bytes).map(|_| bytes)
        });
        let bytes = match read {
            Ok(read) => read.context("cannot read task ids from stdin")?,
            Err(interrupted) => return Ok(Err(interrupted)),
        };
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
    ids::collect(args, stdin.as_deref())
        .map(Ok)
        .map_err(anyhow::Error::msg)
}
