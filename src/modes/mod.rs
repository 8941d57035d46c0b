//! Running the mode a run's configuration names: `list` prints a window's tasks, `retry` sends
//! task IDs (given, or found by a listing). What both need lives here: the run's context, the
//! listing read at a signal's mercy, and the words for a run that a signal ended early.

mod list;
mod retry;
mod sweep;
mod wait;

use std::io;
use std::sync::Arc;

use crate::client::{Client, ListQuery};
use crate::config::{Config, IdSource, Mode, Output};
use crate::diag::{self, Diag};
use crate::exit::Exit;
use crate::interrupt::{Interrupt, Interrupted};
use crate::listing::{Listing, Skipped, StatusFilter};
use crate::names::Shipper;
use crate::outcome::Outcome;
use crate::policy;
use crate::report::Reporter;
use crate::window::Window;

/// What a mode runs with.
pub struct Run<'a> {
    pub config: &'a Config,
    pub client: Arc<Client>,
    pub diag: Diag,
    pub interrupt: &'a Interrupt,
}

impl<'a> Run<'a> {
    /// The run's one client, and its diagnostics said: warnings always, and with `-v` where every
    /// setting came from.
    pub fn new(config: &'a Config, interrupt: &'a Interrupt) -> Run<'a> {
        let diag = Diag::new(config.verbose);
        for warning in &config.warnings {
            diag.warn(warning);
        }
        for (setting, source) in config.sources.iter() {
            diag.info(|| format!("{setting} from {source}"));
        }
        diag.info(|| config.describe());
        Run {
            config,
            client: Arc::new(Client::new(config, interrupt.clone())),
            diag,
            interrupt,
        }
    }

    /// Run the configured mode to its end; the exit status it earned.
    pub fn execute(&self) -> anyhow::Result<Exit> {
        match &self.config.mode {
            Mode::List { window, statuses } => Ok(list::run(self, *window, *statuses)),
            Mode::Retry(IdSource::Given(args)) => retry::given(self, args),
            Mode::Retry(IdSource::FailedTasks(window)) => Ok(retry::failed_tasks(self, *window)),
        }
    }

    /// Every task of `shipper`'s window that `statuses` asks for (invalid IDs set aside and
    /// warned about), and whether the listing did not add up. When the listing fails, stderr
    /// says why: in a sweep, a failure of the shipper's own leaves it out and the sweep goes on
    /// (`Listed::LeftOut`); anything else (a signal, which abandons the listing, or a failure
    /// every request would meet) ends the run with the exit status it earned.
    fn list(
        &self,
        shipper: &Arc<Shipper>,
        window: Window,
        statuses: StatusFilter,
    ) -> Result<Listed, Exit> {
        let query = ListQuery {
            shipper: Arc::clone(shipper),
            window,
            statuses,
        };
        let (client, diag) = (Arc::clone(&self.client), self.diag);
        // Read-only requests: abandoned at a signal rather than waited for.
        let during = "listing the shipper's tasks; nothing was retried";
        match (self.interrupt).abandon_on_signal(during, move || client.list_tasks(&query, &diag)) {
            Ok(Ok(mut listing)) => {
                let shortfall = listing.shortfall();
                listing.keep(statuses);
                warn_skipped(&listing.skipped, &self.diag);
                Ok(Listed::Tasks(listing, shortfall))
            }
            Ok(Err(outcome)) => {
                let what = match self.is_sweep() {
                    true => format!("the tasks of {shipper}"),
                    false => "the shipper's tasks".to_string(),
                };
                (self.listing_failed(&what, &outcome, self.is_sweep())).map(|()| Listed::LeftOut)
            }
            Err(interrupted) => Err(said(interrupted)),
        }
    }

    /// Say that listing `what` failed with `outcome`. `Ok` when the run goes on without it
    /// (`part_of_a_sweep`, and a failure of that shipper's or logstore's own).
    fn listing_failed(
        &self,
        what: &str,
        outcome: &Outcome,
        part_of_a_sweep: bool,
    ) -> Result<(), Exit> {
        let why = outcome.describe();
        let own = policy::stops_the_run(outcome).is_none() || policy::is_the_shippers_own(outcome);
        if part_of_a_sweep && own {
            diag::error(&format!(
                "listing {what} failed: {why}; left out, the sweep goes on"
            ));
            return Ok(());
        }
        let stop = if self.is_sweep() {
            "; the sweep stops"
        } else {
            ""
        };
        diag::error(&format!(
            "listing {what} failed: {why}{stop}; nothing was retried"
        ));
        Err(Exit::Failure)
    }

    /// Does the run cover more than the one shipper it was given?
    fn is_sweep(&self) -> bool {
        self.config.target.shipper().is_none()
    }

    /// A reporter on stdout for `ids` task IDs in `batches` batches.
    fn reporter(&self, ids: usize, batches: usize) -> Reporter<io::StdoutLock<'static>> {
        Reporter::new(io::stdout().lock(), self.config.output, ids, batches)
    }
}

/// What listing one shipper's tasks gave.
enum Listed {
    /// Its tasks, and why the listing does not add up, if it does not.
    Tasks(Listing, Option<String>),
    /// Its listing failed in a way of its own (said): a sweep goes on without it.
    LeftOut,
}

/// A signal came before anything was sent: say so on stderr, and end as a signal ends a run.
pub fn said(interrupted: Interrupted) -> Exit {
    diag::error(&interrupted.to_string());
    Exit::from(interrupted.signal)
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

/// A retry that ends before any batch: with `--json`, the summary still comes last (all zeros),
/// so a script reading the report always finds one.
fn summary_only(output: Output, exit: Exit) -> Exit {
    if output == Output::Json {
        Reporter::new(io::stdout().lock(), output, 0, 0).finish(std::time::Duration::ZERO);
    }
    exit
}
