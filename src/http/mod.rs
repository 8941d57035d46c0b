//! The run's HTTP agents, shared by every request the tool makes to SLS, STS and a credentials
//! URI: their timeouts, keep-alive pools, name cache (`resolver`), status-line watch
//! (`status_line`), trusted roots (`trust`), proxies (`proxy`, `no_proxy`), the one-line account
//! of a request that got no answer (`failure`), and `User-Agent: sls-retry/VERSION`. There is an
//! agent per route (direct, or a proxy) and per whether it speaks TLS, made when first needed,
//! so that each keeps its connections and TLS setup for the run. Only the ECS metadata service, which must never go through
//! anything but the link-local network, has an agent of its own.

pub mod failure;
pub mod no_proxy;
pub mod proxy;
pub mod resolver;
pub mod status_line;
pub mod trust;

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::config::network::Network;
use crate::diag::Diag;
use failure::{Failure, FailureKind};
use proxy::{Proxies, Route};
use resolver::CachingResolver;
use trust::Trust;

/// What every request sends as `User-Agent`.
pub const USER_AGENT: &str = concat!("sls-retry/", env!("CARGO_PKG_VERSION"));

/// A cheap handle on the run's agents: clones share their connections and the name cache.
#[derive(Clone)]
pub struct Http {
    shared: Arc<Shared>,
    /// The agents' name lookups, to forget when a request gets no answer.
    resolver: CachingResolver,
    timeout: Duration,
    /// The run's `-v`/`-vv`, for those who send through the agents.
    diag: Diag,
}

struct Shared {
    proxies: Proxies,
    trust: Trust,
    jobs: usize,
    /// An agent per proxy (or none) and per whether it speaks TLS, each made when a first
    /// request needs it: a run that never speaks TLS never reads the trust store.
    agents: Mutex<HashMap<(Option<ureq::Proxy>, bool), ureq::Agent>>,
    /// The hosts whose route `-v` has named.
    routes_said: Mutex<HashSet<String>>,
}

impl std::fmt::Debug for Http {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Http")
            .field("timeout", &self.timeout)
            .field("proxies", &self.shared.proxies)
            .finish()
    }
}

impl Http {
    /// Agents whose requests each take at most `timeout` (connecting at most 10 s of it), with
    /// a keep-alive connection for each of `jobs` workers, trusting and routing as `network`
    /// says.
    pub fn new(timeout: Duration, jobs: usize, diag: Diag, network: Network) -> Http {
        Http {
            shared: Arc::new(Shared {
                proxies: network.proxies,
                trust: network.trust,
                jobs: jobs.max(1),
                agents: Mutex::default(),
                routes_said: Mutex::default(),
            }),
            resolver: CachingResolver::new(diag),
            timeout,
            diag,
        }
    }

    /// Read the trust store now: the run will speak TLS, and a problem with the store should
    /// stop it before anything is sent.
    pub fn load_trust(&self) -> anyhow::Result<()> {
        self.shared
            .trust
            .tls_config(self.diag)
            .map_err(anyhow::Error::msg)?;
        Ok(())
    }

    /// The agent a request to `url` goes through, and its route; `-v` names the route the
    /// first time a host is contacted. `Err` when the trust store, needed now, cannot be read.
    pub fn route(&self, url: &ureq::http::Uri) -> Result<(ureq::Agent, Route<'_>), Failure> {
        let route = self.shared.proxies.route_to(url);
        let proxy = match route {
            Route::Direct => None,
            Route::Through(proxy) => Some(proxy.ureq().clone()),
        };
        let tls = url.scheme_str() != Some("http");
        let mut agents = self.shared.agents.lock().unwrap_or_else(|e| e.into_inner());
        let agent = match agents.entry((proxy.clone(), tls)) {
            Entry::Occupied(agent) => agent.get().clone(),
            Entry::Vacant(slot) => {
                let tls_config = match tls {
                    true => self.shared.trust.tls_config(self.diag),
                    false => Ok(trust::config(Vec::new())),
                };
                let tls_config = tls_config.map_err(|why| Failure {
                    why,
                    kind: FailureKind::Permanent,
                })?;
                slot.insert(self.agent(proxy, tls_config)).clone()
            }
        };
        drop(agents);
        if self.diag.is_verbose() {
            let authority = url.authority().map_or("", |a| a.as_str()).to_string();
            let said = self.shared.routes_said.lock();
            if said.is_ok_and(|mut said| said.insert(authority.clone())) {
                self.diag.info(|| format!("route to {authority}: {route}"));
            }
        }
        Ok((agent, route))
    }

    /// An agent through `proxy` (none: direct) with `tls` settings.
    fn agent(&self, proxy: Option<ureq::Proxy>, tls: ureq::tls::TlsConfig) -> ureq::Agent {
        let (timeout, jobs) = (self.timeout, self.shared.jobs);
        let config = ureq::Agent::config_builder()
            // Errors are data to report, not Rust errors.
            .http_status_as_error(false)
            // A redirect is not something SLS or STS does; report it instead of following it
            // with our signed headers.
            .max_redirects(0)
            .max_redirects_will_error(false)
            .timeout_connect(Some(timeout.min(Duration::from_secs(10))))
            .timeout_global(Some(timeout))
            .user_agent(USER_AGENT)
            .tls_config(tls)
            // The route is decided here, per request, not by ureq from the environment.
            .proxy(proxy)
            // One keep-alive connection per worker, kept between batches.
            .max_idle_connections(jobs)
            .max_idle_connections_per_host(jobs)
            .build();
        // ureq's own connector, watched for status lines (see status_line); each name looked
        // up once (see resolver).
        ureq::Agent::with_parts(config, status_line::connector(), self.resolver.clone())
    }

    /// The time each request may take.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The run's diagnostics (`-v`, `-vv`).
    pub fn diag(&self) -> Diag {
        self.diag
    }

    /// Forget every name looked up: a request got no answer, and the remembered address may be
    /// why.
    pub fn forget_names(&self) {
        self.resolver.forget();
    }
}
