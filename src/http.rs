//! The run's one HTTP agent, shared by every request the tool makes to SLS, STS and a
//! credentials URI: its timeouts, its keep-alive pool, its name cache (`resolver`), the
//! status-line watch (`status_line`) and `User-Agent: sls-retry/VERSION`. Only the ECS metadata
//! service, which must never go through anything but the link-local network, has an agent of its
//! own.

use std::time::Duration;

use crate::diag::Diag;
use crate::resolver::CachingResolver;
use crate::status_line;

/// What every request sends as `User-Agent`.
pub const USER_AGENT: &str = concat!("sls-retry/", env!("CARGO_PKG_VERSION"));

/// A cheap handle on the run's agent: clones share its connections and its name cache.
#[derive(Clone)]
pub struct Http {
    agent: ureq::Agent,
    /// The agent's name lookups, to forget when a request gets no answer.
    resolver: CachingResolver,
    timeout: Duration,
    /// The run's `-v`/`-vv`, for those who send through the agent.
    diag: Diag,
}

impl std::fmt::Debug for Http {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Http")
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl Http {
    /// An agent whose requests each take at most `timeout` (connecting at most 10 s of it), with
    /// a keep-alive connection for each of `jobs` workers.
    pub fn new(timeout: Duration, jobs: usize, diag: Diag) -> Http {
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
            // One keep-alive connection per worker, kept between batches.
            .max_idle_connections(jobs.max(1))
            .max_idle_connections_per_host(jobs.max(1))
            .build();
        // ureq's own connector, watched for status lines (see status_line); each name looked
        // up once (see resolver).
        let resolver = CachingResolver::new(diag);
        let agent = ureq::Agent::with_parts(config, status_line::connector(), resolver.clone());
        Http {
            agent,
            resolver,
            timeout,
            diag,
        }
    }

    pub fn agent(&self) -> &ureq::Agent {
        &self.agent
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
