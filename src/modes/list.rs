//! `--list`: the tasks of a window, printed (IDs one per line, or JSON task lines).

use crate::exit::{self, Exit};
use crate::listing::StatusFilter;
use crate::window::Window;

use super::Run;

pub fn run(run: &Run, window: Window, statuses: StatusFilter) -> Exit {
    let (listing, shortfall) = match run.list(window, statuses) {
        Ok(listed) => listed,
        Err(exit) => return exit,
    };
    if let Some(shortfall) = &shortfall {
        run.diag
            .warn(&format!("{shortfall}; printed what was read"));
    }
    run.diag
        .info(|| format!("{} tasks listed", listing.tasks.len()));
    let printed = run.reporter(0, 0).tasks(&listing.tasks);
    // An ID left out or a listing that does not add up: what was printed is not all there is.
    let flawed = shortfall.is_some() || !listing.skipped.is_empty();
    exit::merge([printed, Exit::failure_if(flawed)])
}
