//! Retrying task IDs: gathering them (arguments and stdin, or the failed tasks of a listing),
//! planning the batches, sending them (or, with `--dry-run`, printing the plan), writing the
//! `--save-failed` file, and the run's exit status from all of that.

use std::io::{self, IsTerminal, Read};
use std::time::{Instant, SystemTime};

use anyhow::{Context, Result, bail};

use std::collections::HashMap;
use std::sync::Arc;

use super::{Listed, Run, said, summary_only, wait, warn_skipped};
use crate::batch::{self, Batch};
use crate::client::Signing;
use crate::config::Output;
use crate::diag;
use crate::exit::{self, Exit};
use crate::ids::{self, Collected, TaskId};
use crate::interrupt::{Interrupt, Interrupted};
use crate::listing::{Skipped, StatusFilter, TaskStatus};
use crate::names::Shipper;
use crate::outcome::Status;
use crate::report::{Found, Reporter, plural};
use crate::save_failed;
use crate::send::Sender;
use crate::window::Window;

/// Runs shorter than this many batches get no progress bar.
const PROGRESS_MIN_BATCHES: usize = 5;

/// The task IDs of a retry, by shipper, and what finding them said.
struct Gathered {
    groups: Vec<Group>,
    found: Option<Found>,
    /// Task IDs from the service that could never be sent back.
    skipped: Vec<Skipped>,
    /// They came from a listing or documents that did not add up, or a sweep left something
    /// out: the run ends with exit 1.
    incomplete: bool,
}

/// One shipper's task IDs.
struct Group {
    shipper: Arc<Shipper>,
    collected: Collected,
    /// When each was created, as the listing that found them said (for `--wait`'s window).
    created: HashMap<TaskId, u64>,
}

impl Gathered {
    /// The IDs of the run's one shipper, found elsewhere than in a listing.
    fn given(run: &Run, collected: Collected) -> Result<Gathered> {
        let Some(shipper) = run.config.target.shipper() else {
            bail!("task ids belong to one shipper: pass -l/--logstore and -s/--shipper");
        };
        let group = Group {
            shipper: Arc::clone(shipper),
            collected,
            created: HashMap::new(),
        };
        Ok(Gathered {
            groups: vec![group],
            found: None,
            skipped: Vec::new(),
            incomplete: false,
        })
    }
}

/// Retry the IDs of the arguments and stdin.
pub fn given(run: &Run, args: &[String]) -> Result<Exit> {
    let mut collected = match read_ids(args, run.interrupt)? {
        Ok(collected) => collected,
        Err(interrupted) => return Ok(summary_only(run.config.output, said(interrupted))),
    };
    let Some(documents) = collected.documents.take() else {
        return Ok(retry(run, Gathered::given(run, collected)?));
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
    let mut gathered = Gathered::given(run, collected)?;
    gathered.found = Some(found);
    gathered.skipped = documents.skipped;
    gathered.incomplete = incomplete;
    Ok(retry(run, gathered))
}

/// Find the failed tasks of the window, of each shipper the run covers, and retry them.
pub fn failed_tasks(run: &Run, window: Window) -> Exit {
    let swept = match run.shippers() {
        Ok(swept) => swept,
        Err(exit) => return summary_only(run.config.output, exit),
    };
    let mut gathered = Gathered {
        groups: Vec::new(),
        found: None,
        skipped: Vec::new(),
        incomplete: swept.flawed,
    };
    let mut requests = 0;
    for shipper in &swept.shippers {
        let (listing, shortfall) =
            match run.list(shipper, window, StatusFilter::Only(TaskStatus::Fail)) {
                Ok(Listed::Tasks(listing, shortfall)) => (listing, shortfall),
                Ok(Listed::LeftOut) => {
                    gathered.incomplete = true;
                    continue;
                }
                Err(exit) => return summary_only(run.config.output, exit),
            };
        if let Some(shortfall) = &shortfall {
            let of = if run.is_sweep() {
                format!(" of {shipper}")
            } else {
                String::new()
            };
            let later = "retrying the failed tasks read (a later run finds the rest)";
            run.diag.warn(&format!("{shortfall}{of}; {later}"));
            gathered.incomplete = true;
        }
        requests += listing.pages;
        let created = (listing.tasks.iter())
            .filter_map(|t| Some((t.id.clone(), t.fields.get("taskCreateTime")?.as_u64()?)))
            .collect();
        let collected = ids::from_listing(listing.tasks.into_iter().map(|t| t.id).collect());
        gathered.skipped.extend(listing.skipped);
        let shipper = Arc::clone(shipper);
        gathered.groups.push(Group {
            shipper,
            collected,
            created,
        });
    }
    let in_groups = gathered
        .groups
        .iter()
        .map(|g| g.collected.ids.len() + g.collected.duplicates);
    gathered.found = Some(Found::Listing {
        failed: in_groups.sum::<usize>() + gathered.skipped.len(),
        window,
        requests,
        shippers: run.is_sweep().then(|| {
            let with_failures = gathered
                .groups
                .iter()
                .filter(|g| !g.collected.ids.is_empty());
            (with_failures.count(), swept.shippers.len())
        }),
    });
    retry(run, gathered)
}

/// Plan the batches, report where the IDs came from, and send them (or print the plan).
fn retry(run: &Run, gathered: Gathered) -> Exit {
    let duplicates: usize = gathered.groups.iter().map(|g| g.collected.duplicates).sum();
    if duplicates > 0 {
        run.diag.warn(&format!(
            "dropped {} (first occurrence kept)",
            plural(duplicates, "duplicate task id", "duplicate task ids")
        ));
    }
    let mut created = HashMap::new();
    let mut groups = Vec::with_capacity(gathered.groups.len());
    for group in gathered.groups {
        let shipper = group.shipper;
        created
            .extend((group.created.into_iter()).map(|(id, at)| ((Arc::clone(&shipper), id), at)));
        groups.push((shipper, group.collected.ids));
    }
    let total_ids = groups.iter().map(|(_, ids)| ids.len()).sum();
    let batches = batch::plan(groups, run.config.batch_size);
    let mut report = run.reporter(total_ids, batches.len());
    if run.is_sweep() {
        report.name_shippers();
    }
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
            let (exit, failed) = wait::follow(run, &mut report, settings, sent.accepted, &created);
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
    /// The IDs accepted, each with its shipper and the server time its batch was accepted.
    accepted: Vec<wait::Accepted>,
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
    let base_url = config.endpoint.base_url(&config.target.project);
    report.dry_run(&base_url, batches, |b| {
        (run.client).prepare_retry(&b.shipper, &b.ids, signing)
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
        jobs: config.jobs,
        sweep: run.is_sweep(),
        keep_going: config.keep_going,
        interrupt: run.interrupt,
        diag: run.diag,
    };
    sender.send_all(batches, |batch, outcome| {
        if outcome.status == Status::Ok {
            let (at, shipper) = (outcome.accepted_at, &batch.shipper);
            let accepted = batch
                .ids
                .iter()
                .map(|id| (Arc::clone(shipper), id.clone(), at));
            sent.accepted.extend(accepted);
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
