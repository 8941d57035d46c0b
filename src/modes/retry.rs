//! Retrying task IDs: gathering them (arguments and stdin, or the failed tasks of a listing),
//! planning the batches, sending them (or, with `--dry-run`, printing the plan), writing the
//! `--save-failed` file, and the run's exit status from all of that.

use std::io::{self, IsTerminal, Read};
use std::time::{Instant, SystemTime};

use anyhow::{Context, Result, bail};

use std::collections::HashMap;

use super::{Run, said, summary_only, wait, warn_skipped};
use crate::batch::{self, Batch};
use crate::client::Signing;
use crate::config::Output;
use crate::diag;
use crate::exit::{self, Exit};
use crate::ids::{self, Collected, TaskId};
use crate::interrupt::{Interrupt, Interrupted};
use crate::listing::{Skipped, StatusFilter, TaskStatus};
use crate::outcome::Status;
use crate::report::{Found, Reporter, plural};
use crate::save_failed;
use crate::send::Sender;
use crate::window::Window;

/// Runs shorter than this many batches get no progress bar.
const PROGRESS_MIN_BATCHES: usize = 5;

/// The task IDs of a retry, and what finding them said.
struct Gathered {
    collected: Collected,
    found: Option<Found>,
    /// Task IDs from the service that could never be sent back.
    skipped: Vec<Skipped>,
    /// They came from a listing or documents that did not add up: the run ends with exit 1.
    incomplete: bool,
    /// When each was created, as the listing that found them said (for `--wait`'s window).
    created: HashMap<TaskId, u64>,
}

/// Retry the IDs of the arguments and stdin.
pub fn given(run: &Run, args: &[String]) -> Result<Exit> {
    let mut collected = match read_ids(args, run.interrupt)? {
        Ok(collected) => collected,
        Err(interrupted) => return Ok(summary_only(run.config.output, said(interrupted))),
    };
    let Some(documents) = collected.documents.take() else {
        return Ok(retry(
            run,
            Gathered {
                collected,
                found: None,
                skipped: Vec::new(),
                incomplete: false,
                created: HashMap::new(),
            },
        ));
    };
    warn_skipped(&documents.skipped, &run.diag);
    let incomplete = documents.claimed > documents.listed;
    if incomplete {
        run.diag.warn(&format!(
            "the GetShipperStatus documents on stdin hold {} tasks but count {}: they are \
             incomplete (aliyunlog's get_shipper_tasks --size=-1 keeps only its first page); \
             retrying what they hold, --failed finds every failed task",
            documents.listed, documents.claimed
        ));
    }
    let found = Found::Documents {
        failed: collected.ids.len() + collected.duplicates + documents.skipped.len(),
        listed: documents.listed,
    };
    Ok(retry(
        run,
        Gathered {
            collected,
            found: Some(found),
            skipped: documents.skipped,
            incomplete,
            created: HashMap::new(),
        },
    ))
}

/// Find the failed tasks of the window and retry them.
pub fn failed_tasks(run: &Run, window: Window) -> Exit {
    let (listing, shortfall) = match run.list(window, StatusFilter::Only(TaskStatus::Fail)) {
        Ok(listed) => listed,
        Err(exit) => return summary_only(run.config.output, exit),
    };
    if let Some(shortfall) = &shortfall {
        let later = "retrying the failed tasks read (a later run finds the rest)";
        run.diag.warn(&format!("{shortfall}; {later}"));
    }
    let created = (listing.tasks.iter())
        .filter_map(|t| {
            let at = t.fields.get("taskCreateTime")?.as_u64()?;
            Some((t.id.clone(), at))
        })
        .collect();
    let collected = ids::from_listing(listing.tasks.into_iter().map(|t| t.id).collect());
    let found = Found::Listing {
        failed: collected.ids.len() + collected.duplicates + listing.skipped.len(),
        window,
        requests: listing.pages,
    };
    retry(
        run,
        Gathered {
            collected,
            found: Some(found),
            skipped: listing.skipped,
            incomplete: shortfall.is_some(),
            created,
        },
    )
}

/// Plan the batches, report where the IDs came from, and send them (or print the plan).
fn retry(run: &Run, gathered: Gathered) -> Exit {
    let Collected {
        ids, duplicates, ..
    } = gathered.collected;
    if duplicates > 0 {
        run.diag.warn(&format!(
            "dropped {} (first occurrence kept)",
            plural(duplicates, "duplicate task id", "duplicate task ids")
        ));
    }
    let total_ids = ids.len();
    let batches = batch::plan(ids, run.config.batch_size);
    let mut report = run.reporter(total_ids, batches.len());
    if let Some(found) = &gathered.found {
        report.found(found);
    }
    report.skipped(gathered.skipped.len());
    let incomplete = Exit::failure_if(gathered.incomplete);
    if run.config.dry_run {
        return exit::merge([dry_run(run, report, &batches), incomplete]);
    }
    let started = Instant::now();
    let sent = send(run, &mut report, &batches);
    let mut failed_again = Vec::new();
    // A signal during sending ends the run there, and a report no one reads has no use for a
    // wait: there is nothing to wait for.
    let waited = match run.config.wait {
        Some(settings) if run.interrupt.signal().is_none() && !report.is_closed() => {
            let created = &gathered.created;
            let (exit, failed) = wait::follow(run, &mut report, settings, sent.accepted, created);
            failed_again = failed;
            exit
        }
        _ => Exit::Success,
    };
    let mut not_accepted = sent.not_accepted;
    not_accepted.extend(&failed_again);
    let reported = report.finish(started.elapsed());
    let saved = save(run, &not_accepted);
    let signal = run.interrupt.signal().map_or(Exit::Success, Exit::from);
    exit::merge([reported, waited, incomplete, saved, signal])
}

/// What sending the batches gave.
struct Sent<'b> {
    /// The IDs not accepted (failed or not sent).
    not_accepted: Vec<&'b TaskId>,
    /// The IDs accepted, each with the server time its batch was accepted.
    accepted: Vec<(TaskId, Option<u64>)>,
}

/// The plan and each batch's signed request, secrets redacted; nothing is sent.
fn dry_run(run: &Run, report: Reporter<io::StdoutLock<'static>>, batches: &[Batch]) -> Exit {
    let config = run.config;
    let now = crate::clock::signing_time(SystemTime::now(), 0);
    let credentials = config.credentials.current_credentials();
    let signing = Signing {
        now,
        credentials: &credentials,
    };
    let target = &config.target;
    report.dry_run(&config.endpoint.base_url(&target.project), batches, |b| {
        (run.client).prepare_retry(&target.logstore, &target.shipper, &b.ids, signing)
    })
}

/// Send every batch, reporting each as it ends; which IDs were accepted, and which not.
fn send<'b>(
    run: &Run,
    report: &mut Reporter<io::StdoutLock<'static>>,
    batches: &'b [Batch],
) -> Sent<'b> {
    let config = run.config;
    // A bar only where someone watches a long run: a terminal, a human report, no -v lines.
    if config.output == Output::Human
        && config.verbose == 0
        && batches.len() >= PROGRESS_MIN_BATCHES
        && io::stderr().is_terminal()
    {
        diag::start_progress(batches.len());
    }
    let mut sent = Sent {
        not_accepted: Vec::new(),
        accepted: Vec::new(),
    };
    let sender = Sender {
        client: &run.client,
        logstore: &config.target.logstore,
        shipper: &config.target.shipper,
        jobs: config.jobs,
        keep_going: config.keep_going,
        interrupt: run.interrupt,
        diag: run.diag,
    };
    sender.send_all(batches, |batch, outcome| {
        if outcome.status == Status::Ok {
            let at = outcome.accepted_at;
            sent.accepted
                .extend(batch.ids.iter().map(|id| (id.clone(), at)));
        } else {
            sent.not_accepted.extend(&batch.ids);
        }
        report.batch(batch, outcome);
        diag::advance_progress(report.tally());
        !report.is_closed()
    });
    diag::finish_progress();
    sent
}

/// `--save-failed`: the IDs not accepted, written; `Failure` when they could not be (then they
/// are on stderr).
fn save(run: &Run, not_accepted: &[&TaskId]) -> Exit {
    let Some(path) = &run.config.save_failed else {
        return Exit::Success;
    };
    if !save_failed::save(path, not_accepted) {
        return Exit::Failure;
    }
    run.diag.info(|| {
        let ids = plural(not_accepted.len(), "task id", "task ids");
        format!("wrote {ids} not accepted to {}", path.display())
    });
    Exit::Success
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
        match read_stdin(interrupt)? {
            Ok(bytes) => Some(bytes),
            Err(interrupted) => return Ok(Err(interrupted)),
        }
    } else {
        None
    };
    ids::collect(args, stdin.as_deref())
        .map(Ok)
        .map_err(anyhow::Error::msg)
}

/// All of stdin, up to its limit. A producer may keep stdin open for long: a signal does not
/// wait for it.
fn read_stdin(interrupt: &Interrupt) -> Result<Result<Vec<u8>, Interrupted>> {
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
    Ok(Ok(bytes))
}
