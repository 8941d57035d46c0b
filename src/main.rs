//! `sls-retry` entry point: parse, run, map the outcome to an exit status.

use std::io::{self, IsTerminal, Read};
use std::process::ExitCode;
use std::time::{Instant, SystemTime};

use anyhow::{Context, Result, bail};
use clap::Parser;

use sls_retry::batch;
use sls_retry::cli::{self, Cli, Mode, TaskStatus};
use sls_retry::client::{Client, ListQuery};
use sls_retry::config::{Config, Paths};
use sls_retry::diag::{self, Diag};
use sls_retry::exit::Exit;
use sls_retry::ids::{self, Collected};
use sls_retry::listing::Task;
use sls_retry::outcome::Outcome;
use sls_retry::report::{Found, Reporter};
use sls_retry::sign::SignatureVersion;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) if !err.use_stderr() => err.exit(), // --help, --version
        Err(err) => {
            eprint!("sls-retry: {}", err.render());
            return Exit::Usage.into();
        }
    };
    match run(cli) {
        Ok(exit) => exit.into(),
        // Every fallible step comes before the first request; a failed batch is a value in the
        // report, not an Err. So an error here means nothing was sent.
        Err(err) => {
            diag::error(&format!("{err:#}"));
            Exit::Usage.into()
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

    let mode = cli.mode(SystemTime::now())?;
    let config = Config::resolve(
        &cli,
        &|name| std::env::var(name).ok(),
        &Paths::from_system(),
    )?;
    let diag = Diag::new(config.verbose);
    for warning in &config.warnings {
        diag.warn(warning);
    }
    for (setting, source) in &config.sources {
        diag.info(|| format!("{setting} from {source}"));
    }
    diag.info(|| {
        format!(
            "endpoint {} (Host {}), AccessKeyId {}, signature {}",
            config.endpoint.base_url(&config.project),
            config.endpoint.host_header(&config.project),
            config.credentials.access_key_id,
            match &config.signature {
                SignatureVersion::V1 => "v1".to_string(),
                SignatureVersion::V4 { region } => format!("v4 ({region})"),
            }
        )
    });
    let client = Client::new(&config);
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

    if config.dry_run {
        let now = SystemTime::now();
        let requests: Vec<_> = batches
            .iter()
            .map(|b| {
                let prepared = client.prepare_retry(&config.logstore, &config.shipper, &b.ids, now);
                (b, prepared)
            })
            .collect();
        if let Some(found) = &found {
            report.found(found);
        }
        report.dry_run(&config.endpoint.base_url(&config.project), &requests);
        return Ok(Exit::Success);
    }

    let started = Instant::now();
    if let Some(found) = &found {
        report.found(found);
    }
    for batch in &batches {
        let outcome = if report.is_closed() {
            Outcome::not_sent("stdout was closed")
        } else {
            client.retry_tasks(&config.logstore, &config.shipper, &batch.ids, &diag)
        };
        report.batch(batch, &outcome);
    }
    Ok(report.finish(started.elapsed()))
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
            .read_to_end(&mut bytes)
            .context("cannot read task ids from stdin")?;
        Some(bytes)
    } else {
        None
    };
    ids::collect(args, stdin.as_deref()).map_err(anyhow::Error::msg)
}
