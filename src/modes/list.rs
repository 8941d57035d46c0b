//! `--list`: the tasks of a window, printed (IDs one per line, or JSON task lines), for one
//! shipper or, in a sweep, for each shipper in turn.

use crate::exit::{self, Exit};
use crate::listing::StatusFilter;
use crate::window::Window;

use super::{Listed, Run};

pub fn run(run: &Run, window: Window, statuses: StatusFilter) -> Exit {
    let swept = match run.shippers() {
        Ok(swept) => swept,
        Err(exit) => return exit,
    };
    let mut report = run.reporter(0, 0);
    // Something left out, an ID set aside, a listing that does not add up: what was printed is
    // not all there is.
    let mut flawed = swept.flawed;
    for shipper in &swept.shippers {
        let (listing, shortfall) = match run.list(shipper, window, statuses) {
            Ok(Listed::Tasks(listing, shortfall)) => (listing, shortfall),
            Ok(Listed::LeftOut) => {
                flawed = true;
                continue;
            }
            Err(exit) => return exit::merge([exit, report.listed()]),
        };
        if let Some(shortfall) = &shortfall {
            run.diag
                .warn(&format!("{shortfall}; printed what was read"));
        }
        run.diag
            .info(|| format!("{} tasks listed for {shipper}", listing.tasks.len()));
        report.tasks(shipper, run.is_sweep(), &listing.tasks);
        flawed |= shortfall.is_some() || !listing.skipped.is_empty();
        if report.is_closed() {
            break;
        }
    }
    exit::merge([report.listed(), Exit::failure_if(flawed)])
}
