//! What a run does: list a window's tasks, or retry task IDs, given or found by a listing.

use std::time::SystemTime;

use anyhow::{Result, bail};

use super::target::Scope;
use crate::cli::Cli;
use crate::listing::{StatusFilter, TaskStatus};
use crate::window::Window;

/// What a run does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// Print the tasks of the window that `statuses` admits (`--list`).
    List {
        window: Window,
        statuses: StatusFilter,
    },
    /// Retry task IDs.
    Retry(IdSource),
}

/// Where the task IDs of a retry come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdSource {
    /// The positional arguments; `-` among them (or none at all, with stdin not a terminal) reads
    /// stdin there.
    Given(Vec<String>),
    /// The tasks of the window whose status is `fail` (`--failed`).
    FailedTasks(Window),
}

/// The mode, with its window checked against the 48-hour limit before anything is sent.
pub fn resolve(cli: &Cli, now: SystemTime) -> Result<Mode> {
    let window = || {
        Window::resolve(
            cli.since.as_deref(),
            cli.from.as_deref(),
            cli.to.as_deref(),
            now,
        )
    };
    Ok(if cli.list {
        Mode::List {
            window: window()?,
            statuses: cli.status.unwrap_or(StatusFilter::Only(TaskStatus::Fail)),
        }
    } else if cli.failed {
        Mode::Retry(IdSource::FailedTasks(window()?))
    } else {
        if cli.since.is_some() || cli.from.is_some() {
            bail!(
                "--since, --from and --to choose the window of --list or --failed; add one of those"
            );
        }
        Mode::Retry(IdSource::Given(cli.task_ids.clone()))
    })
}

/// What a sweep (a run without `--shipper`) cannot do: retry given IDs, which belong to one
/// shipper, or keep a `--save-failed` file, which a sweep has no use for.
pub fn check_scope(mode: &Mode, scope: &Scope, save_failed: bool) -> Result<()> {
    if matches!(scope, Scope::Shipper(_)) {
        return Ok(());
    }
    if let Mode::Retry(IdSource::Given(_)) = mode {
        bail!(
            "task ids belong to one shipper: pass -l/--logstore and -s/--shipper (set them in a \
             profile to keep the command short); without them only --failed and --list run, over \
             every shipper"
        );
    }
    if save_failed {
        bail!(
            "--save-failed keeps the IDs of one shipper, and a sweep (no --shipper) finds the \
             failed tasks afresh on every run: run the sweep again instead, or name the shipper"
        );
    }
    Ok(())
}
