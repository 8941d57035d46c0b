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

/// Follow `accepted` (each task with the server time its batch was accepted; `created`: the
/// creation times a listing found) and report what became of them; the wait's exit status, and
/// the tasks that failed again.
pub fn follow(
    run: &Run,
    report: &mut Reporter<io::StdoutLock<'static>>,
    settings: Settings,
    accepted: Vec<(TaskId, Option<u64>)>,
    created: &HashMap<TaskId, u64>,
) -> (Exit, Vec<TaskId>) {
    let followed = (accepted.into_iter())
        .map(|(id, at)| {
            let created = created.get(&id).copied();
            Followed::new(id, at, created)
        })
        .collect();
    let config = run.config;
    let watched = config.output == Output::Human && config.verbose == 0;
    if watched && io::stderr().is_terminal() {
        diag::start_wait_progress();
    }
    let waited = wait::follow(
        Tracker::new(followed),
        settings,
        run.interrupt,
        |window| poll(run, window),
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
    reported(run, report, &waited);
    let failed_again: Vec<TaskId> = (waited.tasks.iter())
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

/// One listing of the target's tasks in `window`, all statuses; abandoned at a signal (it is
/// read-only).
fn poll(run: &Run, window: crate::window::Window) -> Poll {
    let query = ListQuery {
        logstore: run.config.target.logstore.clone(),
        shipper: run.config.target.shipper.clone(),
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
fn reported(run: &Run, report: &mut Reporter<io::StdoutLock<'static>>, waited: &Waited) {
    let target = &run.config.target;
    for task in &waited.tasks {
        let record = TaskResult {
            r#type: "task_result",
            logstore: target.logstore.as_str(),
            shipper: target.shipper.as_str(),
            id: &task.id,
            result: task.verdict.as_str(),
            task_status: task.task_status.as_deref(),
            task_message: task.task_message.as_deref(),
            finished_at: task.finished_at,
        };
        report.record(human_line(task), &record);
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
    report.record((!waited.tasks.is_empty()).then_some(line), &summary);
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
