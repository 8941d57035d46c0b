//! The shippers a run covers: the one it was given, or, in a sweep, every shipper of the logstore
//! (ListShipper) or of every logstore of the project (ListLogStores, then ListShipper for each),
//! in the order the service lists them. A logstore whose shippers cannot be listed is said and
//! left out; a failure every request would meet ends the run.

use std::sync::Arc;

use super::{Run, said};
use crate::config::target::Scope;
use crate::exit::Exit;
use crate::names::{ResourceName, Shipper};
use crate::report::plural;
use crate::sweep::Names;

/// The shippers of a run.
pub struct Swept {
    pub shippers: Vec<Arc<Shipper>>,
    /// Something was left out (a logstore that could not be listed, a name that could not be
    /// used): the run ends with exit 1 however it goes.
    pub flawed: bool,
}

impl Run<'_> {
    /// The shippers the run covers; `Err` with the exit status once stderr says why it ends.
    pub(super) fn shippers(&self) -> Result<Swept, Exit> {
        let mut swept = Swept {
            shippers: Vec::new(),
            flawed: false,
        };
        let logstores = match &self.config.target.scope {
            Scope::Shipper(shipper) => {
                swept.shippers.push(Arc::clone(shipper));
                return Ok(swept);
            }
            Scope::Logstore(logstore) => vec![logstore.clone()],
            Scope::Project => {
                let (client, diag) = (Arc::clone(&self.client), self.diag);
                let listed = self.abandoned_at_a_signal(move || client.list_logstores(&diag))?;
                match listed {
                    Ok(names) => self.usable(names, "logstore", &mut swept.flawed),
                    Err(outcome) => {
                        let ended = self.listing_failed("the project's logstores", &outcome, false);
                        return Err(ended.err().unwrap_or(Exit::Failure));
                    }
                }
            }
        };
        for logstore in &logstores {
            let (client, diag, of) = (Arc::clone(&self.client), self.diag, logstore.clone());
            match self.abandoned_at_a_signal(move || client.list_shippers(&of, &diag))? {
                Ok(names) => {
                    let names = self.usable(names, "shipper", &mut swept.flawed);
                    swept.shippers.extend(names.into_iter().map(|name| {
                        let logstore = logstore.clone();
                        Arc::new(Shipper { logstore, name })
                    }));
                }
                Err(outcome) => {
                    let what = format!("the shippers of logstore {logstore}");
                    // With one logstore, its failure is the run's.
                    self.listing_failed(&what, &outcome, logstores.len() > 1)?;
                    swept.flawed = true;
                }
            }
        }
        self.diag.info(|| {
            let shippers = plural(swept.shippers.len(), "shipper", "shippers");
            let logstores = plural(logstores.len(), "logstore", "logstores");
            format!("sweeping {shippers} of {logstores}")
        });
        Ok(swept)
    }

    /// A read-only listing, abandoned at a signal (then stderr says so and the run ends).
    fn abandoned_at_a_signal<T: Send + 'static>(
        &self,
        list: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Exit> {
        let during = "listing the project's logstores and shippers; nothing was retried";
        self.interrupt.abandon_on_signal(during, list).map_err(said)
    }

    /// The names that can be used; each that cannot is warned about and flaws the run.
    fn usable(&self, names: Names, what: &str, flawed: &mut bool) -> Vec<ResourceName> {
        for (name, why) in &names.unusable {
            let name = crate::untrusted::excerpt(name, 80);
            self.diag.warn(&format!(
                "skipped {what} \"{name}\" from the listing: {why}"
            ));
            *flawed = true;
        }
        names.names
    }
}
