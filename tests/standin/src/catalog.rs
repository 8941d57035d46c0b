//! The project's logstores and shippers: which exist, in the order added, each shipper with its own task history (the demo shippers sharing one), what makes one of them fail (its task listing refused, its shipper listing refused, deleted once its tasks were listed), and ListLogStores and ListShipper answered from them.
// Names are listed in the order they were added, as SLS lists them in its own order. Faults and
// scripted replies come before any of this (sls.rs); what is here is the world as it stands.

use std::collections::HashMap;
use std::time::SystemTime;

use serde_json::json;

use super::http::Request;
use super::listing::{self, Task};
use super::sls::query_pairs;
use super::{Builder, DEMO_LOGSTORE, DEMO_SHIPPER, Reply, Shared};

/// The history the demo shippers share: what `Builder::tasks` and `generated_tasks` fill.
pub(super) const DEMO_HISTORY: usize = 0;

/// The logstores and their shippers as set up, and the histories their tasks start with.
#[derive(Default)]
pub(super) struct Catalog {
    stores: Vec<Store>,
    /// What each history starts with, by index; `DEMO_HISTORY` first.
    seeds: Vec<Seed>,
    /// The names `Builder::shipper` gave every logstore of `Builder::logstore`.
    demo_shippers: Vec<String>,
    /// `Builder::logstore`, `shipper`, `tasks` or `generated_tasks` was called: the demo world
    /// exists beside the shippers added with their own tasks.
    demo_asked: bool,
    deleted_after_listing: Vec<(String, String)>,
    listing_fails: Vec<(String, String, Refusal)>,
    shipper_listing_fails: Vec<(String, Refusal)>,
}

/// An error answered whatever the request: `(status, errorCode)`, a proxy's HTML page when the
/// code is empty.
type Refusal = (u16, String);

struct Store {
    name: String,
    shippers: Vec<Shipper>,
    /// Gets the demo shippers at build time.
    demo: bool,
    /// Every ListShipper of it answers this.
    listing_fails: Option<Refusal>,
}

/// A shipper as the world holds it.
pub(super) struct Shipper {
    name: String,
    /// Its tasks: an index into `Log::histories`.
    pub history: usize,
    /// Gone once a page of its tasks has been served.
    pub deleted_after_listing: bool,
    /// Every GetShipperStatus of it answers this.
    pub listing_fails: Option<Refusal>,
}

/// What a history starts with.
#[derive(Default)]
pub(super) struct Seed {
    pub tasks: Vec<Task>,
    /// `(count, seed)` of each generated set, made at build time against the server clock.
    pub generated: Vec<(usize, u64)>,
}

/// A shipper's tasks as held, and when each was last retried (by the server clock; only with
/// `Builder::lifecycle`).
#[derive(Default)]
pub(super) struct History {
    pub tasks: Vec<Task>,
    pub retries: HashMap<String, SystemTime>,
}

impl Catalog {
    /// The demo history's seed, for `Builder::tasks` and `generated_tasks`.
    pub fn demo_seed(&mut self) -> &mut Seed {
        self.demo_asked = true;
        self.seed(DEMO_HISTORY)
    }

    fn seed(&mut self, history: usize) -> &mut Seed {
        if self.seeds.len() <= history {
            self.seeds.resize_with(history + 1, Seed::default);
        }
        &mut self.seeds[history]
    }

    /// A logstore of the demo world (`Builder::logstore`): it gets the demo shippers.
    pub fn add_demo_logstore(&mut self, name: &str) {
        self.demo_asked = true;
        self.store(name).demo = true;
    }

    /// A shipper every demo logstore has (`Builder::shipper`).
    pub fn add_demo_shipper(&mut self, name: &str) {
        self.demo_asked = true;
        self.demo_shippers.push(name.into());
    }

    /// The logstore `name`, added (without shippers) if new.
    fn store(&mut self, name: &str) -> &mut Store {
        let at = match self.stores.iter().position(|store| store.name == name) {
            Some(at) => at,
            None => {
                self.stores.push(Store {
                    name: name.into(),
                    shippers: Vec::new(),
                    demo: false,
                    listing_fails: None,
                });
                self.stores.len() - 1
            }
        };
        &mut self.stores[at]
    }

    /// The seed of `logstore`/`shipper`'s own history, both added if new.
    pub fn own_seed(&mut self, logstore: &str, shipper: &str) -> &mut Seed {
        let history = self.seeds.len().max(DEMO_HISTORY + 1);
        let store = self.store(logstore);
        let known = store.shippers.iter().find(|s| s.name == shipper);
        let history = match known {
            Some(known) => known.history,
            None => {
                store.shippers.push(Shipper::new(shipper, history));
                history
            }
        };
        self.seed(history)
    }

    /// A logstore with no shipper at all, if new.
    pub fn add_empty_logstore(&mut self, name: &str) {
        self.store(name);
    }

    pub fn delete_after_listing(&mut self, logstore: &str, shipper: &str) {
        let target = (logstore.into(), shipper.into());
        self.deleted_after_listing.push(target);
    }

    pub fn fail_listing(&mut self, logstore: &str, shipper: &str, status: u16, code: &str) {
        let failing = (logstore.into(), shipper.into(), (status, code.into()));
        self.listing_fails.push(failing);
    }

    pub fn fail_shipper_listing(&mut self, logstore: &str, status: u16, code: &str) {
        let failing = (logstore.into(), (status, code.into()));
        self.shipper_listing_fails.push(failing);
    }

    /// The world as it starts: the demo logstores given their shippers (the demo world exists
    /// when asked for, or when nothing else was set up), the failure knobs set on what they
    /// name, and each history's tasks, generated ones made against `now` (unix seconds).
    pub fn resolve(&mut self, now: i64) -> Vec<History> {
        if self.demo_asked || self.stores.is_empty() {
            self.add_demo_world();
        }
        self.set_knobs();
        self.seed(DEMO_HISTORY);
        let seeds = std::mem::take(&mut self.seeds).into_iter();
        let history = |seed: Seed| {
            let mut tasks = seed.tasks;
            for (count, seed) in seed.generated {
                tasks.extend(listing::generate(count, seed, now));
            }
            History {
                tasks,
                ..History::default()
            }
        };
        seeds.map(history).collect()
    }

    /// The failure knobs on the shippers and logstores they name, which must exist.
    fn set_knobs(&mut self) {
        for (logstore, shipper) in std::mem::take(&mut self.deleted_after_listing) {
            self.knob_target(&logstore, &shipper).deleted_after_listing = true;
        }
        for (logstore, shipper, refusal) in std::mem::take(&mut self.listing_fails) {
            self.knob_target(&logstore, &shipper).listing_fails = Some(refusal);
        }
        for (logstore, refusal) in std::mem::take(&mut self.shipper_listing_fails) {
            let known = self.stores.iter_mut().find(|store| store.name == logstore);
            let store = known.unwrap_or_else(|| {
                panic!("shipper_listing_fails: no logstore {logstore} in this world")
            });
            store.listing_fails = Some(refusal);
        }
    }

    /// The demo shippers (`DEMO_SHIPPER` unless `Builder::shipper` named others), sharing the
    /// demo history, at the head of each demo logstore (unless `Builder::logstore` named some,
    /// `DEMO_LOGSTORE`, listed first if it is new).
    fn add_demo_world(&mut self) {
        if !self.stores.iter().any(|store| store.demo) {
            let new = !self.stores.iter().any(|store| store.name == DEMO_LOGSTORE);
            self.store(DEMO_LOGSTORE).demo = true;
            if new {
                self.stores.rotate_right(1);
            }
        }
        if self.demo_shippers.is_empty() {
            self.demo_shippers.push(DEMO_SHIPPER.into());
        }
        for store in self.stores.iter_mut().filter(|store| store.demo) {
            let demo = self.demo_shippers.iter();
            let shippers: Vec<Shipper> = demo.map(|s| Shipper::new(s, DEMO_HISTORY)).collect();
            for shipper in &shippers {
                assert!(
                    !store.shippers.iter().any(|s| s.name == shipper.name),
                    "{}/{} is a demo shipper (Builder::logstore, shipper, tasks): it cannot have tasks of its own too",
                    store.name,
                    shipper.name
                );
            }
            store.shippers.splice(0..0, shippers);
        }
    }

    /// The shipper a failure knob names.
    fn knob_target(&mut self, logstore: &str, shipper: &str) -> &mut Shipper {
        let store = self.stores.iter_mut().find(|store| store.name == logstore);
        let shippers = store
            .into_iter()
            .flat_map(|store| store.shippers.iter_mut());
        let found = shippers.into_iter().find(|s| s.name == shipper);
        found.unwrap_or_else(|| panic!("no shipper {logstore}/{shipper} in this world to fail"))
    }

    /// The shipper `logstore`/`shipper`, deleted or not.
    pub fn shipper(&self, logstore: &str, shipper: &str) -> Option<&Shipper> {
        let store = self.stores.iter().find(|store| store.name == logstore)?;
        store.shippers.iter().find(|s| s.name == shipper)
    }
}

impl Shipper {
    fn new(name: &str, history: usize) -> Shipper {
        Shipper {
            name: name.into(),
            history,
            deleted_after_listing: false,
            listing_fails: None,
        }
    }
}

/// The shipper a RetryShipperTask or GetShipperStatus names, as SLS looks it up: 404
/// `LogStoreNotExist`, then 400 `ShipperNotExist` (a deleted shipper too).
pub(super) fn find<'w>(
    shared: &'w Shared,
    logstore: &str,
    shipper: &str,
) -> Result<&'w Shipper, Reply> {
    let catalog = &shared.world.catalog;
    let store = catalog.stores.iter().find(|store| store.name == logstore);
    let Some(store) = store else {
        return Err(logstore_not_exist(logstore));
    };
    let found = store.shippers.iter().find(|s| s.name == shipper);
    match found.filter(|found| !deleted(shared, logstore, found)) {
        Some(found) => Ok(found),
        None => Err(Reply::error(
            400,
            "ShipperNotExist",
            "Shipper does not exist.",
        )),
    }
}

/// Whether `shipper` of `logstore` was deleted (`Builder::shipper_deleted_after_listing`).
fn deleted(shared: &Shared, logstore: &str, shipper: &Shipper) -> bool {
    let log = shared.log();
    log.deleted
        .contains(&(logstore.into(), shipper.name.clone()))
}

fn logstore_not_exist(logstore: &str) -> Reply {
    let message = format!("Logstore {logstore} does not exist.");
    Reply::error(404, "LogStoreNotExist", &message)
}

/// ListLogStores: `{"count", "total", "logstores"}`, the names in the order added.
pub(super) fn list_logstores(shared: &Shared, request: &Request) -> Reply {
    let stores = shared.world.catalog.stores.iter();
    let names: Vec<&str> = stores.map(|store| store.name.as_str()).collect();
    names_page(shared, request, "logstores", &names)
}

/// ListShipper: `{"count", "total", "shipper"}`, the names in the order added, deleted ones
/// left out; 404 `LogStoreNotExist` for an unknown logstore.
pub(super) fn list_shippers(
    shared: &Shared,
    request: &Request,
    logstore: &str,
    project: &str,
) -> Reply {
    let stores = shared.world.catalog.stores.iter();
    let Some(store) = stores.into_iter().find(|store| store.name == logstore) else {
        return logstore_not_exist(logstore);
    };
    if let Some((status, code)) = &store.listing_fails {
        return shared.faults.error(*status, code, project);
    }
    let shippers = store.shippers.iter();
    let kept = shippers.filter(|shipper| !deleted(shared, logstore, shipper));
    let names: Vec<&str> = kept.map(|shipper| shipper.name.as_str()).collect();
    names_page(shared, request, "shipper", &names)
}

/// One page of `names` under `key`, as `offset` and `size` ask, never longer than
/// `Builder::max_name_page`.
fn names_page(shared: &Shared, request: &Request, key: &str, names: &[&str]) -> Reply {
    let (offset, size) = match listing::page_params(&query_pairs(&request.query)) {
        Ok(page) => page,
        Err(reply) => return reply,
    };
    let limit = size.min(shared.world.max_name_page.unwrap_or(listing::MAX_SIZE));
    let page: Vec<&str> = names.iter().skip(offset).take(limit).copied().collect();
    let body = json!({ "count": page.len(), "total": names.len(), key: page });
    Reply::json(200, &body)
}

/// Several logstores and shippers, each shipper with its own tasks, and what makes one of them
/// fail: the world a sweep (ListLogStores, ListShipper, then each shipper's tasks) meets.
impl Builder {
    /// The shipper `shipper` of the logstore `logstore` (each added if new, in the order first
    /// named), with `tasks` added to its own history: its task IDs, statuses and retries
    /// (`lifecycle`) are its own, so the same ID under another shipper is another task.
    ///
    /// The demo logstore and shipper then exist only if `logstore`, `shipper`, `tasks` or
    /// `generated_tasks` is called too (their shippers come first in their logstores, sharing
    /// the demo history); a demo shipper cannot be given tasks of its own.
    pub fn shipper_with_tasks(mut self, logstore: &str, shipper: &str, tasks: Vec<Task>) -> Self {
        let seed = self.world.catalog.own_seed(logstore, shipper);
        seed.tasks.extend(tasks);
        self
    }

    /// `shipper_with_tasks` with `count` tasks generated from `seed` as `generated_tasks`
    /// makes them: the same seed under two shippers gives both the same IDs.
    pub fn shipper_with_generated_tasks(
        mut self,
        logstore: &str,
        shipper: &str,
        count: usize,
        seed: u64,
    ) -> Self {
        let own = self.world.catalog.own_seed(logstore, shipper);
        own.generated.push((count, seed));
        self
    }

    /// A logstore (added if new) with no shipper of its own: ListShipper finds none.
    pub fn logstore_without_shippers(mut self, logstore: &str) -> Self {
        self.world.catalog.add_empty_logstore(logstore);
        self
    }

    /// ListLogStores and ListShipper never return more than `n` names per page, whatever `size`
    /// asks (default 500).
    pub fn max_name_page(mut self, n: usize) -> Self {
        self.world.max_name_page = Some(n);
        self
    }

    /// Once a page of its tasks has been served (a GetShipperStatus answered 200), the shipper
    /// no longer exists: its RetryShipperTask and GetShipperStatus answer 400 `ShipperNotExist`
    /// and ListShipper leaves it out. Its tasks stay readable with `StandIn::tasks_of`.
    /// The shipper must exist (added before or after this call).
    pub fn shipper_deleted_after_listing(mut self, logstore: &str, shipper: &str) -> Self {
        self.world.catalog.delete_after_listing(logstore, shipper);
        self
    }

    /// Every GetShipperStatus of that shipper answers `status` with `code` (an SLS error body
    /// and `x-log-requestid`; a proxy's HTML page when `code` is empty), as `error_rate` words
    /// it; its RetryShipperTask and the other shippers are unaffected. The shipper must exist.
    pub fn listing_fails(mut self, logstore: &str, shipper: &str, status: u16, code: &str) -> Self {
        self.world
            .catalog
            .fail_listing(logstore, shipper, status, code);
        self
    }

    /// Every ListShipper of that logstore answers `status` with `code`, as `listing_fails`
    /// says; its shippers still answer GetShipperStatus and RetryShipperTask. The logstore
    /// must exist.
    pub fn shipper_listing_fails(mut self, logstore: &str, status: u16, code: &str) -> Self {
        self.world
            .catalog
            .fail_shipper_listing(logstore, status, code);
        self
    }
}
