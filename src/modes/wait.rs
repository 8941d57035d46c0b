//! The `--wait` phase of a retry: the accepted tasks followed through the run's client (each
//! listing abandoned at a signal), a progress line on a terminal, and what the wait found in the
//! report: a `task_result` per task in JSON (a line per task that failed again or is still
//! pending in the human report), then the `wait_summary`.

use std::collections::HashMap;
use std::io::{self, IsTerminal};
use std::sync::Arc;

use serde::Serialize;

use super::Run;
use crate::client::ListQuery;
use crate::config::Output;
use crate::diag;
use crate::exit::Exit;
use crate::ids::TaskId;
use crate::listing::StatusFilter;
use crate::names::Shipper;
use crate::report::Reporter;
use crate::untrusted::excerpt;
use crate::wait::{self, Counts, Followed, Poll, Settings, Tracker, Verdict, Waited};

/// One followed task as `--json` reports it.
#[derive(Serialize)]
struct TaskResult<'a> {
    r#type: &'static str,
    logstore: &'a str,
    shipper: &'a str,
    id: &'a TaskId,
    result: &'static str,
    task_status: Option<&'a str>,
    task_message: Option<&'a str>,
    finished_at: Option<u64>,
}

#[derive(Serialize)]
struct WaitSummary {
    r#type: &'static str,
    shipped: usize,
    failed: usize,
    pending: usize,
    elapsed_ms: u128,
}

/// An accepted task: its shipper, its ID, and the server time its batch was accepted.
pub type Accepted = (Arc<Shipper>, TaskId, Option<u64>);

/// Follow `accepted` (`created`: the creation times the listings found, by shipper and ID) and
/// report what became of them; the wait's exit status, and the tasks that failed again.
pub fn follow(
    run: &Run,
    report: &mut Reporter<io::StdoutLock<'static>>,
    settings: Settings,
    accepted: Vec<Accepted>,
    created: &HashMap<(Arc<Shipper>, TaskId), u64>,
) -> (Exit, Vec<TaskId>) {
    let mut groups: Vec<(Arc<Shipper>, Vec<Followed>)> = Vec::new();
    for (shipper, id, at) in accepted {
        let born = created.get(&(Arc::clone(&shipper), id.clone())).copied();
        let task = Followed::new(id, at, born);
        match groups.last_mut() {
            Some((last, tasks)) if *last == shipper => tasks.push(task),
            _ => groups.push((shipper, vec![task])),
        }
    }
    let config = run.config;
    if config.output == Output::Human && config.verbose == 0 && io::stderr().is_terminal() {
        diag::start_wait_progress();
    }
    let waited = wait::follow(
        (groups.into_iter())
            .map(|(shipper, tasks)| (shipper, Tracker::new(tasks)))
            .collect(),
        settings,
        run.interrupt,
        |shipper, window| poll(run, shipper, window),
        |counts| diag::wait_progress(tally(counts)),
        |warning| run.diag.warn(&warning),
    );
    diag::finish_progress();
    if let Some(why) = &waited.ended_early {
        diag::error(&format!(
            "listing the retried tasks failed: {why}; stopped waiting, {} not followed to \
             their end",
            crate::report::plural(waited.counts.pending, "task was", "tasks were")
        ));
    }
    reported(report, &waited);
    let failed_again: Vec<TaskId> = (waited.groups.iter())
        .flat_map(|(_, tasks)| tasks)
        .filter(|t| t.verdict == Verdict::FailedAgain)
        .map(|t| t.id.clone())
        .collect();
    let exit = match waited.counts {
        _ if waited.ended_early.is_some() => Exit::Failure,
        Counts { failed: 1.., .. } => Exit::Failure,
        Counts { pending: 1.., .. } => Exit::Pending,
        _ => Exit::Success,
    };
    (exit, failed_again)
}

/// One listing of `shipper`'s tasks in `window`, all statuses; abandoned at a signal (it is
/// read-only).
fn poll(run: &Run, shipper: &Arc<Shipper>, window: crate::window::Window) -> Poll {
    let query = ListQuery {
        shipper: Arc::clone(shipper),
        window,
        statuses: StatusFilter::All,
    };
    let (client, diag) = (Arc::clone(&run.client), run.diag);
    let during = "listing the retried tasks";
    match (run.interrupt).abandon_on_signal(during, move || client.list_tasks(&query, &diag)) {
        Ok(Ok(listing)) => Poll::Listed(listing),
        Ok(Err(outcome)) => Poll::Failed(outcome),
        Err(_) => Poll::Interrupted,
    }
}

/// `3 shipped, 0 failed again, 7 still running`.
fn tally(counts: Counts) -> String {
    format!(
        "{} shipped, {} failed again, {} still running",
        counts.shipped, counts.failed, counts.pending
    )
}

/// The wait's lines in the report: each task, then the wait's summary.
fn reported(report: &mut Reporter<io::StdoutLock<'static>>, waited: &Waited<Arc<Shipper>>) {
    let named = waited.groups.len() > 1;
    for (shipper, tasks) in &waited.groups {
        for task in tasks {
            let record = TaskResult {
                r#type: "task_result",
                logstore: shipper.logstore.as_str(),
                shipper: shipper.name.as_str(),
                id: &task.id,
                result: task.verdict.as_str(),
                task_status: task.task_status.as_deref(),
                task_message: task.task_message.as_deref(),
                finished_at: task.finished_at,
            };
            let line = human_line(task).map(|line| match named {
                true => format!("{shipper}  {line}"),
                false => line,
            });
            report.record(line, &record);
        }
    }
    let summary = WaitSummary {
        r#type: "wait_summary",
        shipped: waited.counts.shipped,
        failed: waited.counts.failed,
        pending: waited.counts.pending,
        elapsed_ms: waited.elapsed.as_millis(),
    };
    let line = format!(
        "waited {}: {}",
        wait::short_duration(waited.elapsed),
        tally(waited.counts)
    );
    // With nothing accepted there was nothing to follow: only JSON says so, for a script that
    // looks for the line.
    let followed = waited.groups.iter().any(|(_, tasks)| !tasks.is_empty());
    report.record(followed.then_some(line), &summary);
}

/// The human line of a task that failed again or is still pending; none for a shipped one.
fn human_line(task: &Followed) -> Option<String> {
    let id = crate::untrusted::escape(task.id.as_str());
    let message = task.task_message.as_deref().filter(|m| !m.is_empty());
    Some(match task.verdict {
        Verdict::Shipped => return None,
        Verdict::FailedAgain => match message {
            Some(message) => format!("task {id}  FAILED AGAIN  {}", excerpt(message, 200)),
            None => format!("task {id}  FAILED AGAIN"),
        },
        Verdict::Pending if task.out_of_window => format!(
            "task {id}  pending  no longer listed: older than the 48 hours SLS keeps task status"
        ),
        Verdict::Pending => match task.task_status.as_deref() {
            Some("running") => format!("task {id}  pending  still running"),
            Some("fail") => {
                format!("task {id}  pending  still shows its failure from before the retry")
            }
            Some(other) => format!("task {id}  pending  status {}", excerpt(other, 40)),
            None => format!("task {id}  pending  not listed since the retry"),
        },
    })
}
