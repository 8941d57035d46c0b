//! Loopback stand-in for SLS (and for the places temporary credentials come from: STS, the ECS metadata service, a credentials URI): a small HTTP/1.1 server, over plain TCP or TLS, that checks requests the way they would, plays a project of logstores and shippers each with its own tasks, lets retried tasks run and end if asked, injects faults deterministically by seed, and records what it received and how busy it was; and the networks between a client and it (HTTP CONNECT and SOCKS5 proxies); for the integration tests (`tests/it`), the throughput bench and `cargo run --example standin`.

mod accounts;
mod catalog;
mod faults;
mod http;
mod lifecycle;
mod listing;
mod metadata;
pub mod proxy;
// Public for the stand-in's self-tests (tests/it/standin_selftest.rs), which sign requests with
// the very pieces the stand-in verifies them with.
pub mod rpc;
mod server;
pub mod sls;
mod sts;
pub mod tls;
mod uri;
pub mod v4;

use std::collections::{HashSet, VecDeque};
use std::io;
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

pub use accounts::{ISSUED_SECRET_MARK, ISSUED_TOKEN_MARK, IssuedCredentials};
pub use listing::Task;
pub use sls::Api;
pub use tls::TlsIdentity;

pub const DEMO_PROJECT: &str = "demo-project";
pub const DEMO_LOGSTORE: &str = "demo-logstore";
pub const DEMO_SHIPPER: &str = "demo-shipper";
pub const DEMO_KEY_ID: &str = "demo-key-id";
pub const DEMO_KEY_SECRET: &str = "demo-key-secret";
/// The region signature v4 scopes must name unless `Builder::region` says otherwise.
pub const DEMO_REGION: &str = "cn-hangzhou";
/// The demo region's real SLS host. Tests reach it only through a proxy that takes it to a
/// stand-in (`proxy::Builder::route_all`), never through DNS; `TlsIdentity::valid` is good for
/// its projects' names.
pub const DEMO_SLS_HOST: &str = "cn-hangzhou.log.aliyuncs.com";
/// The demo account's credentials, as the environment variables every Alibaba Cloud SDK reads.
pub const DEMO_ENV: [(&str, &str); 2] = [
    ("ALIBABA_CLOUD_ACCESS_KEY_ID", DEMO_KEY_ID),
    ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", DEMO_KEY_SECRET),
];

/// `sls-retry`'s arguments that name the demo target at any endpoint:
/// `-e <endpoint> -p demo-project -l demo-logstore -s demo-shipper`; e.g.
/// `https://{DEMO_SLS_HOST}` behind a proxy.
pub fn demo_target_at(endpoint: &str) -> Vec<String> {
    target(endpoint, Some(DEMO_LOGSTORE), Some(DEMO_SHIPPER))
}

/// `-e <endpoint> -p demo-project`, then `-l <logstore>` and `-s <shipper>` when given.
fn target(endpoint: &str, logstore: Option<&str>, shipper: Option<&str>) -> Vec<String> {
    let named = [("-l", logstore), ("-s", shipper)].into_iter();
    let named = named.filter_map(|(flag, name)| Some([flag, name?]));
    let target = [["-e", endpoint], ["-p", DEMO_PROJECT]]
        .into_iter()
        .chain(named);
    target.flatten().map(String::from).collect()
}

/// A running stand-in on 127.0.0.1; dropping it stops the server and closes its connections.
pub struct StandIn {
    shared: Arc<Shared>,
    /// Dropped after `StandIn::drop` has told the connections the stand-in is stopping.
    server: server::Server,
    tls: bool,
}

/// One request as received, with what the stand-in answered.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub query: String,
    /// Names lower-cased, in the order received.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// As answered (a truncated answer counts as its announced status); 0 when nothing was: the
    /// connection was dropped or left hanging.
    pub status: u16,
    pub error_code: Option<String>,
    /// Empty when the answer carried no `x-log-requestid` (a `Reply::raw`, a proxy's page, no answer).
    pub request_id: String,
    /// The task ids this request got accepted (empty unless it was a successful RetryShipperTask).
    pub accepted_ids: Vec<String>,
    /// By the Authorization scheme, verified or not: 1 for `LOG `, 4 for `SLS4-HMAC-SHA256 `, else 0
    /// (no Authorization, another scheme, or a request to a credential route).
    pub signature_version: u8,
    /// What was done instead of (or besides) a plain answer, for logs: e.g. `injected 503 ServerBusy`,
    /// `injected drop`, `injected hang`, `scripted 301`, `scripted 200 truncated to 40 bytes`,
    /// `proxied 503`,
    /// `delayed 200ms`, joined by `, `. `None` for a plain answer.
    pub fault: Option<String>,
    /// When the whole request had been read.
    pub received: std::time::Instant,
    /// Whether it came over TLS (`Builder::tls`).
    pub tls: bool,
}

impl Recorded {
    /// The task ids in the body, when it is a RetryShipperTask request (whatever became of it).
    pub fn task_ids(&self) -> Vec<String> {
        let retry = self.api() == Some(Api::RetryShipperTask);
        let ids = retry.then(|| serde_json::from_slice::<Vec<String>>(&self.body).ok());
        ids.flatten().unwrap_or_default()
    }

    /// The SLS API it called, by its method and path (whatever became of it).
    pub fn api(&self) -> Option<Api> {
        sls::call(&self.method, &self.path).map(|call| call.api)
    }

    /// The logstore its path names, when it called an SLS API that names one (ListShipper,
    /// GetShipperStatus, RetryShipperTask).
    pub fn logstore(&self) -> Option<&str> {
        sls::call(&self.method, &self.path).and_then(|call| call.logstore)
    }

    /// The shipper its path names, when it called GetShipperStatus or RetryShipperTask.
    pub fn shipper(&self) -> Option<&str> {
        sls::call(&self.method, &self.path).and_then(|call| call.shipper)
    }

    /// The query's parameters, then a form body's, decoded: what an STS request asked.
    pub fn params(&self) -> Vec<(String, String)> {
        sts::params(&self.query, &self.headers, &self.body)
    }

    /// The first parameter of that name in `params`.
    pub fn param(&self, name: &str) -> Option<String> {
        let params = self.params().into_iter();
        params
            .into_iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value)
    }

    /// The first header of that name, compared case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A canned answer for the next authenticated SLS API request (see `StandIn::push_reply`).
#[derive(Clone, Debug)]
pub struct Reply {
    /// 0 when nothing is answered (`Reply::drop_connection`, a hang).
    status: u16,
    content_type: Option<String>,
    body: Vec<u8>,
    error_code: Option<String>,
    with_request_id: bool,
    /// Header lines beyond Server, Date, Content-Type, x-log-requestid, Content-Length and
    /// Connection, as written (without their CRLF); a `Date` here replaces the server clock's.
    headers: Vec<Vec<u8>>,
    /// No `Date` header at all.
    without_date: bool,
    wire: http::Wire,
}

impl Reply {
    /// An SLS error: JSON body `{"errorCode","errorMessage"}` and an `x-log-requestid`.
    pub fn error(status: u16, code: &str, message: &str) -> Reply {
        let body = serde_json::json!({ "errorCode": code, "errorMessage": message });
        Reply {
            error_code: Some(code.into()),
            ..Reply::json(status, &body)
        }
    }

    /// SLS's answer to more than 10 task ids in one call: 400 ParameterInvalid.
    pub fn too_many_ids() -> Reply {
        let message = "Each time allows 10 task retries only.";
        Reply::error(400, "ParameterInvalid", message)
    }

    /// An error inside SLS: 500 InternalServerError.
    pub fn internal_error() -> Reply {
        Reply::error(500, "InternalServerError", "Internal server error.")
    }

    /// A JSON document with an `x-log-requestid`, e.g. a hand-made GetShipperStatus page.
    pub fn json(status: u16, body: &serde_json::Value) -> Reply {
        Reply {
            with_request_id: true,
            ..Reply::raw(status, "application/json", body.to_string())
        }
    }

    /// Whatever a proxy in front of SLS might send (an HTML 502, an empty 503): no `x-log-requestid`,
    /// and no Content-Type when `content_type` is empty.
    pub fn raw(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Reply {
        Reply {
            status,
            content_type: (!content_type.is_empty()).then(|| content_type.into()),
            body: body.into(),
            error_code: None,
            with_request_id: false,
            headers: Vec::new(),
            without_date: false,
            wire: http::Wire::Whole,
        }
    }

    /// An STS error: `{"RequestId", "HostId", "Code", "Message", "Recommend"}`, e.g. 500
    /// `InternalError` for `StandIn::push_sts_reply`.
    pub fn sts_error(status: u16, code: &str, message: &str) -> Reply {
        sts::error(status, code, message)
    }

    /// A redirect as a load balancer sends it: `Location`, empty body, no `x-log-requestid`.
    pub fn redirect(status: u16, location: &str) -> Reply {
        Reply::raw(status, "", "").with_header("Location", location)
    }

    /// An answer cut short: Content-Length announces all of `body`, but only the first `keep_bytes`
    /// of the whole response (status line and headers included) are written before the connection
    /// closes. Carries an `x-log-requestid`, and `Content-Type: application/json` when `body` is not empty.
    pub fn truncated(status: u16, body: impl Into<Vec<u8>>, keep_bytes: usize) -> Reply {
        let body = body.into();
        let content_type = if body.is_empty() {
            ""
        } else {
            "application/json"
        };
        Reply {
            with_request_id: true,
            wire: http::Wire::Truncated(keep_bytes),
            ..Reply::raw(status, content_type, body)
        }
    }

    /// No answer: the connection is closed once the request has been read.
    pub fn drop_connection() -> Reply {
        Reply::wire(http::Wire::Drop)
    }

    /// No answer ever: the request is read and its connection left open until the client or
    /// the stand-in closes it.
    pub fn hang() -> Reply {
        Reply::wire(http::Wire::Hang)
    }

    /// One more header on the answer, e.g. `Retry-After` on a 429. A `Date` replaces the one the
    /// server clock gives (e.g. `Fri, 31 Dec 9999 23:59:59 GMT`, or garbage).
    pub fn with_header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push(format!("{name}: {value}").into_bytes());
        self
    }

    /// One more header line, written byte for byte (the stand-in adds the CRLF), for what a
    /// well-formed header cannot carry: a value that is not UTF-8, an obs-fold continuation
    /// (`"X-Folded: a\r\n b"`), a line without a colon, a second `Content-Length`.
    pub fn with_raw_header(mut self, line: impl Into<Vec<u8>>) -> Reply {
        self.headers.push(line.into());
        self
    }

    /// No `Date` header at all (every other answer carries the server clock's).
    pub fn without_date(mut self) -> Reply {
        self.without_date = true;
        self
    }

    /// Nothing answered, the connection handled as `wire` says; recorded with status 0.
    fn wire(wire: http::Wire) -> Reply {
        Reply {
            wire,
            ..Reply::raw(0, "", "")
        }
    }

    /// How the request ended, for `Recorded::fault`: `503 ServerBusy`, `drop`, `200 truncated to 9 bytes`.
    fn summary(&self) -> String {
        let code = self.error_code.as_deref().unwrap_or("");
        match self.wire {
            http::Wire::Whole => format!("{} {code}", self.status).trim_end().to_string(),
            http::Wire::Truncated(keep) => format!("{} truncated to {keep} bytes", self.status),
            http::Wire::Drop => "drop".into(),
            http::Wire::Hang => "hang".into(),
        }
    }

    /// RetryShipperTask's success: 200, empty body, `x-log-requestid`.
    fn ok() -> Reply {
        Reply {
            with_request_id: true,
            ..Reply::raw(200, "", "")
        }
    }
}

type Hook = Arc<dyn Fn(&Recorded) + Send + Sync>;

/// Configures the world the stand-in serves; anything not added falls back to the demo defaults.
///
/// The demo world is `DEMO_LOGSTORE` with `DEMO_SHIPPER` (or the logstores and shippers `logstore`
/// and `shipper` name, every logstore with every shipper), all listing the same tasks (`tasks`).
/// A project of several logstores and shippers, each shipper with its own tasks, is set up with
/// `shipper_with_tasks` and its kin (catalog.rs), with which the demo world exists only if asked
/// for; every project of the world has the same logstores and shippers.
///
/// By default a retry changes no task: RetryShipperTask accepts, and the listing goes on showing
/// each task with the status and finish time it had, as a service that never updates would.
/// `lifecycle` makes retried tasks run and end instead.
#[derive(Default)]
pub struct Builder {
    world: sls::World,
    port: u16,
    on_request: Option<Hook>,
    faults: faults::Faults,
    /// (provider ARN, the token it holds)
    oidc_providers: Vec<(String, String)>,
    tls: Option<TlsIdentity>,
}

impl Builder {
    pub fn project(mut self, name: &str) -> Self {
        self.world.projects.push(name.into());
        self
    }

    /// A logstore of the demo world: it has every demo shipper (`DEMO_SHIPPER` unless `shipper`
    /// names others). Without this call the demo world has `DEMO_LOGSTORE`.
    pub fn logstore(mut self, name: &str) -> Self {
        self.world.catalog.add_demo_logstore(name);
        self
    }

    /// A shipper every logstore of the demo world has (see `logstore`), all listing the demo
    /// tasks (`tasks`, `generated_tasks`). Without this call the demo world has `DEMO_SHIPPER`.
    pub fn shipper(mut self, name: &str) -> Self {
        self.world.catalog.add_demo_shipper(name);
        self
    }

    pub fn account(mut self, key_id: &str, secret: &str) -> Self {
        self.world
            .accounts
            .push((key_id.into(), secret.into(), None));
        self
    }

    /// An STS account: requests must also carry `x-acs-security-token: {token}`.
    pub fn sts_account(mut self, key_id: &str, secret: &str, token: &str) -> Self {
        let account = (key_id.into(), secret.into(), Some(token.into()));
        self.world.accounts.push(account);
        self
    }

    /// The endpoint's region (default `DEMO_REGION`); a v4 credential scope naming another is SignatureNotMatch.
    pub fn region(mut self, region: &str) -> Self {
        self.world.region = region.into();
        self
    }

    /// The instance's RAM role on the ECS metadata routes (`/latest/...`), and its temporary credentials
    /// registered as an STS account, so what a client fetched there also signs SLS requests.
    /// An instance has one role: a second call replaces the role (both accounts stay).
    pub fn ecs_role(mut self, role: &str, key_id: &str, secret: &str, token: &str) -> Self {
        self = self.sts_account(key_id, secret, token);
        self.world.ecs_role = Some(metadata::EcsRole {
            name: role.into(),
            key_id: key_id.into(),
            secret: secret.into(),
            token: token.into(),
        });
        self
    }

    /// The ECS role hands out new credentials at each request, each lasting `secs` (its
    /// `Expiration` says so, and SLS refuses them after it), instead of its fixed ones lasting
    /// six hours.
    pub fn ecs_role_lifetime(mut self, secs: u64) -> Self {
        self.world.ecs_role_lifetime = Some(Duration::from_secs(secs));
        self
    }

    /// A RAM role STS lets trusted principals (see `trust`) assume: its credentials last
    /// `lifetime_secs` (or `DurationSeconds`, when that is shorter), a test's short lifetime
    /// winning over STS's 900-second minimum so that credentials fall due quickly.
    pub fn role(mut self, arn: &str, lifetime_secs: u64) -> Self {
        let lifetime = Duration::from_secs(lifetime_secs);
        let role = sts::Role {
            arn: arn.into(),
            lifetime,
        };
        self.world.roles.push(role);
        self
    }

    /// `principal` may assume the role `arn`: an AccessKeyId (`AssumeRole` signed with it), the
    /// ARN of a role whose STS credentials sign the call (a chain of roles), or an OIDC provider's
    /// ARN (`AssumeRoleWithOIDC`).
    pub fn trust(mut self, arn: &str, principal: &str) -> Self {
        self.world.trusts.push((arn.into(), principal.into()));
        self
    }

    /// An OIDC identity provider and the token it vouches for now (what the service account's
    /// token file holds); `StandIn::set_oidc_token` rotates it.
    pub fn oidc_provider(mut self, arn: &str, token: &str) -> Self {
        self.oidc_providers.push((arn.into(), token.into()));
        self
    }

    /// Serve a credentials URI (`StandIn::credentials_uri`) handing out new credentials at each
    /// request, each lasting `lifetime_secs`.
    pub fn credentials_uri(mut self, lifetime_secs: u64) -> Self {
        self.world.credentials_uri = Some(Duration::from_secs(lifetime_secs));
        self
    }

    /// A hardened-only (IMDSv2) instance: metadata GETs need a token from `PUT /latest/api/token`.
    pub fn ecs_require_token(mut self, required: bool) -> Self {
        self.world.ecs_require_token = required;
        self
    }

    /// 0 (the default) picks a free port.
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Server clock = system clock + `secs`; it decides RequestTimeExpired, the `Date` answered,
    /// and the task lifecycle's times.
    pub fn clock_skew_secs(mut self, secs: i64) -> Self {
        *self.world.clock_skew_secs.get_mut() = secs;
        self
    }

    /// The task lifecycle: each task ID of an accepted RetryShipperTask batch is retried at that
    /// moment (server clock), among the tasks of the shipper the request named, and is listed
    /// `running` (taskFinishTime 0, empty taskMessage) until `after` has passed since its latest
    /// retry, then `success` with an empty taskMessage and taskFinishTime the retry time + `after`
    /// (unix seconds), unless `fails_again` or `stays_running` says otherwise. With `after` zero
    /// the first listing after the retry shows the end. An ID the shipper does not hold becomes a
    /// task created an hour before its retry.
    /// Without this call a retry changes no task.
    pub fn lifecycle(mut self, after: Duration) -> Self {
        self.world.lifecycle.after = Some(after);
        self
    }

    /// With `lifecycle`: the task `id` (under whichever shipper it is retried) ends `fail` with
    /// `message` as its taskMessage. A later `fails_again` or `stays_running` for the same ID
    /// replaces this one.
    pub fn fails_again(mut self, id: &str, message: &str) -> Self {
        let end = lifecycle::End::Fail(message.into());
        self.world.lifecycle.ends.insert(id.into(), end);
        self
    }

    /// With `lifecycle`: the task `id` (under whichever shipper it is retried) stays `running`
    /// for ever once retried. A later `fails_again` or `stays_running` for the same ID replaces
    /// this one.
    pub fn stays_running(mut self, id: &str) -> Self {
        let end = lifecycle::End::Never;
        self.world.lifecycle.ends.insert(id.into(), end);
        self
    }

    /// The code a request signed too far from the server clock is refused with: `RequestTimeExpired`
    /// (the default) or `RequestTimeTooSkewed`, the other name SLS gives the same refusal.
    pub fn request_time_code(mut self, code: &str) -> Self {
        self.world.request_time_code = code.into();
        self
    }

    /// Add these tasks to the demo shipper's (every shipper of the demo world, see `logstore`
    /// and `shipper`, lists the same tasks). `shipper_with_tasks` gives a shipper tasks of its own.
    pub fn tasks(mut self, tasks: Vec<Task>) -> Self {
        self.world.catalog.demo_seed().tasks.extend(tasks);
        self
    }

    /// Add `count` tasks that depend only on `seed` and the server clock at build time: ids of 32
    /// lower-hex digits, one created in each equal slice of the 50 hours before (so some are outside
    /// the 48-hour window), about 20% `fail` (with a `write oss failed: ...` message), 10% `running`
    /// (finish time 0), the rest `success`.
    pub fn generated_tasks(mut self, count: usize, seed: u64) -> Self {
        self.world.catalog.demo_seed().generated.push((count, seed));
        self
    }

    /// GetShipperStatus never returns more than `n` tasks per page, whatever `size` asks (default 500).
    pub fn max_page(mut self, n: usize) -> Self {
        self.world.max_page = Some(n);
        self
    }

    /// Once the first GetShipperStatus page has been served (a 200), `n` new tasks appear among the
    /// listed shipper's tasks, alternately `fail` and `success`, created a second before the server
    /// clock: `total` moves between pages.
    pub fn new_tasks_during_listing(mut self, n: usize) -> Self {
        self.world.late_tasks = n;
        self
    }

    /// A listing that misleads: every GetShipperStatus page claims `total` whatever the window holds.
    pub fn claimed_total(mut self, total: usize) -> Self {
        self.world.claimed_total = Some(total);
        self
    }

    /// A listing that never moves on: every GetShipperStatus page is the first, whatever `offset` asks.
    pub fn repeat_first_page(mut self) -> Self {
        self.world.repeat_first_page = true;
        self
    }

    /// Seeds the fault draws (default 0): the same seed and the same requests in the same order meet
    /// the same faults. The n-th SLS request received (the credential routes aside: STS, ECS metadata, credentials URI) draws from (seed, n).
    pub fn fault_seed(mut self, seed: u64) -> Self {
        self.faults.seed = seed;
        self
    }

    /// With probability `rate`, an authenticated SLS API request (RetryShipperTask, GetShipperStatus,
    /// ListLogStores, ListShipper) is answered with this error instead of being processed (nothing
    /// accepted): an SLS error body
    /// with `x-log-requestid`, or, when `code` is empty, a proxy's HTML page
    /// (`<html><body><h1>502 Bad Gateway</h1></body></html>`) without one. Faults are drawn after
    /// the signature and Date checks and before the scripted replies. Several calls add up; one draw
    /// per request picks at most one fault, `drop_rate` first, then the errors in the order added.
    pub fn error_rate(mut self, rate: f64, status: u16, code: &str) -> Self {
        self.faults
            .errors
            .push((checked_rate(rate), status, code.into()));
        self
    }

    /// Injected 429 and 503 answers carry `Retry-After: {secs}`.
    pub fn retry_after(mut self, secs: u64) -> Self {
        self.faults.retry_after = Some(secs);
        self
    }

    /// With probability `rate`, an authenticated SLS API request (as `error_rate` says) is read
    /// whole, then its connection closed without an answer and without processing it (nothing accepted).
    /// Recorded with status 0.
    pub fn drop_rate(mut self, rate: f64) -> Self {
        self.faults.drop_rate = checked_rate(rate);
        self
    }

    /// Every SLS request (the credential routes aside: STS, ECS metadata, credentials URI), whatever its answer, waits `d` after it has
    /// been processed and recorded, before the answer (or a dropped connection) goes out. A client
    /// that times out may so find its request accepted all the same, as with SLS.
    pub fn delay(mut self, d: Duration) -> Self {
        self.faults.delay = d;
        self
    }

    /// With probability `rate`, an SLS request waits `d` (on top of `delay`), as `delay` describes.
    /// Several calls add up, one draw (apart from the fault draw) picks at most one.
    pub fn delay_rate(mut self, rate: f64, d: Duration) -> Self {
        self.faults.delay_rate.push((checked_rate(rate), d));
        self
    }

    /// Authenticated SLS API requests (as `error_rate` says) are read and never answered nor
    /// processed (recorded with status 0); dropping the stand-in closes their connections.
    pub fn hang(mut self) -> Self {
        self.faults.hang = true;
        self
    }

    /// Called on the connection's thread for each recorded request once it is handled, before its
    /// answer goes out (or its connection is dropped or left hanging); the example logs with it.
    pub fn on_request(mut self, hook: impl Fn(&Recorded) + Send + Sync + 'static) -> Self {
        self.on_request = Some(Arc::new(hook));
        self
    }

    /// Serve over TLS with this certificate (e.g. `TlsIdentity::valid()`, which clients trust
    /// with `tls::ca_pem()`), and plain HTTP no more: `endpoint()` is then
    /// `https://localhost:PORT`. Everything is served as over plain HTTP (SLS, STS, the ECS
    /// metadata routes, the credentials URI), and recorded with `Recorded::tls`.
    pub fn tls(mut self, identity: TlsIdentity) -> Self {
        self.tls = Some(identity);
        self
    }

    pub fn build(self) -> StandIn {
        self.try_build()
            .expect("start the SLS stand-in on 127.0.0.1")
    }

    pub fn try_build(mut self) -> io::Result<StandIn> {
        let lifecycle = &self.world.lifecycle;
        assert!(
            lifecycle.after.is_some() || lifecycle.ends.is_empty(),
            "fails_again and stays_running need lifecycle(...): without it a retry changes no task"
        );
        self.world.fill_defaults();
        let now = listing::unix_secs(self.world.now());
        let log = Log {
            histories: self.world.catalog.resolve(now),
            late_tasks: self.world.late_tasks,
            oidc_providers: self.oidc_providers,
            ..Log::default()
        };
        let shared = Arc::new(Shared {
            world: self.world,
            on_request: self.on_request,
            faults: self.faults,
            stopping: AtomicBool::new(false),
            connections: AtomicUsize::new(0),
            in_flight: AtomicUsize::new(0),
            peak_concurrency: AtomicUsize::new(0),
            log: Mutex::new(log),
            handshake_ended: Condvar::new(),
        });
        let tls = self.tls.as_ref().map(TlsIdentity::server_config);
        let conn_shared = Arc::clone(&shared);
        let serve: Arc<server::Serve> = Arc::new(move |stream: TcpStream| {
            conn_shared.connections.fetch_add(1, SeqCst);
            match &tls {
                None => http::serve(stream, &conn_shared),
                Some(config) => tls::serve(stream, config, &conn_shared),
            }
        });
        Ok(StandIn {
            shared,
            server: server::Server::start(self.port, serve)?,
            tls: self.tls.is_some(),
        })
    }
}

impl StandIn {
    /// The demo world on a free port.
    pub fn start() -> StandIn {
        Builder::default().build()
    }

    pub fn builder() -> Builder {
        Builder::default()
    }

    /// `http://127.0.0.1:PORT`, or `https://localhost:PORT` with `Builder::tls` (a name, as a
    /// certificate is most often checked against one).
    pub fn endpoint(&self) -> String {
        match self.tls {
            false => format!("http://{}", self.addr()),
            true => format!("https://localhost:{}", self.port()),
        }
    }

    /// Where it listens: 127.0.0.1 and a port; where a proxy routes what it is asked for.
    pub fn addr(&self) -> SocketAddr {
        self.server.addr()
    }

    /// `sls-retry`'s arguments that name this stand-in and its demo target:
    /// `-e <endpoint> -p demo-project -l demo-logstore -s demo-shipper`.
    pub fn demo_target(&self) -> Vec<String> {
        self.target_with_shipper(DEMO_SHIPPER)
    }

    /// The demo target with another shipper (an unknown one meets ShipperNotExist).
    pub fn target_with_shipper(&self, shipper: &str) -> Vec<String> {
        self.shipper_target(DEMO_LOGSTORE, shipper)
    }

    /// `-e <endpoint> -p demo-project -l <logstore> -s <shipper>`: one shipper of any logstore.
    pub fn shipper_target(&self, logstore: &str, shipper: &str) -> Vec<String> {
        target(&self.endpoint(), Some(logstore), Some(shipper))
    }

    /// `-e <endpoint> -p demo-project -l <logstore>`: a sweep of every shipper of `logstore`.
    pub fn logstore_target(&self, logstore: &str) -> Vec<String> {
        target(&self.endpoint(), Some(logstore), None)
    }

    /// `-e <endpoint> -p demo-project`: a sweep of every shipper of every logstore.
    pub fn project_target(&self) -> Vec<String> {
        target(&self.endpoint(), None, None)
    }

    pub fn port(&self) -> u16 {
        self.addr().port()
    }

    /// The ids of each accepted RetryShipperTask call, in arrival order.
    pub fn accepted(&self) -> Vec<Vec<String>> {
        self.shared.log().accepted.clone()
    }

    pub fn accepted_ids(&self) -> Vec<String> {
        self.accepted().concat()
    }

    /// `(logstore, shipper, id)` of every task id accepted, in arrival order: the shipper is the
    /// one the accepting request's path named.
    pub fn accepted_by_shipper(&self) -> Vec<(String, String, String)> {
        let mut accepted = Vec::new();
        for request in self.requests_of(Api::RetryShipperTask) {
            let logstore = request.logstore().unwrap_or_default();
            let shipper = request.shipper().unwrap_or_default();
            for id in &request.accepted_ids {
                accepted.push((logstore.to_string(), shipper.to_string(), id.clone()));
            }
        }
        accepted
    }

    /// Every well-formed request received (malformed ones are answered 400 but not recorded), faulted
    /// ones included: status 0 when the connection was dropped or left hanging.
    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.log().requests.clone()
    }

    /// Every task of the demo shipper (shared by the demo world's shippers, see
    /// `Builder::logstore`), as a listing would show it now (see `Builder::lifecycle`), those that
    /// appeared during a listing or with a retry included.
    pub fn tasks(&self) -> Vec<Task> {
        self.history(catalog::DEMO_HISTORY)
    }

    /// The demo shipper's task `id` as a listing would show it now, if it holds it.
    pub fn task(&self, id: &str) -> Option<Task> {
        self.tasks().into_iter().find(|task| task.id == id)
    }

    /// Every task of `logstore`/`shipper` (deleted or not), as `tasks` says them.
    ///
    /// Panics when the world has no such shipper.
    pub fn tasks_of(&self, logstore: &str, shipper: &str) -> Vec<Task> {
        let catalog = &self.shared.world.catalog;
        let found = catalog.shipper(logstore, shipper);
        let found =
            found.unwrap_or_else(|| panic!("no shipper {logstore}/{shipper} in this world"));
        self.history(found.history)
    }

    /// The task `id` of `logstore`/`shipper` as a listing would show it now, if it holds it.
    pub fn task_of(&self, logstore: &str, shipper: &str, id: &str) -> Option<Task> {
        let mut tasks = self.tasks_of(logstore, shipper).into_iter();
        tasks.find(|task| task.id == id)
    }

    fn history(&self, history: usize) -> Vec<Task> {
        let (log, now) = (self.shared.log(), self.server_time());
        let lifecycle = &self.shared.world.lifecycle;
        let listed = lifecycle.listed(&log.histories[history], now).into_iter();
        listed.map(|task| task.into_owned()).collect()
    }

    /// The stand-in's clock: the system clock plus `Builder::clock_skew_secs`, plus what
    /// `advance_clock` added.
    pub fn server_time(&self) -> SystemTime {
        self.shared.world.now()
    }

    /// As if `secs` passed on the server alone, e.g. to see the task lifecycle move on without
    /// waiting: the server clock moves that much further ahead of this machine's, and with it the
    /// `Date` answered and the window a request's own date must fall in (a client that signs
    /// with this machine's clock is refused once it is more than 15 minutes behind).
    pub fn advance_clock(&self, secs: u64) {
        let secs = i64::try_from(secs).expect("an advance of fewer than 2^63 seconds");
        self.shared.world.clock_skew_secs.fetch_add(secs, SeqCst);
    }

    /// TCP connections accepted so far (TLS handshakes that failed included).
    pub fn connections(&self) -> usize {
        self.shared.connections.load(SeqCst)
    }

    /// With `Builder::tls`: why each TLS handshake that failed did, in order, as rustls says it
    /// (e.g. `received fatal alert: UnknownCA` when the client refused the certificate).
    /// Such a connection carried no request: nothing of it is in `requests`.
    ///
    /// Waits (10 s at the most) for the handshakes under way to end, so that a client that has
    /// given up finds its failure here: the stand-in reads the client's alert on its own thread.
    pub fn tls_failures(&self) -> Vec<String> {
        let log = self.shared.log();
        let under_way = |log: &mut Log| log.handshaking > 0;
        let waited =
            (self.shared.handshake_ended).wait_timeout_while(log, HANDSHAKE_WAIT, under_way);
        let (log, _) = waited.unwrap_or_else(|poisoned| poisoned.into_inner());
        log.tls_failures.clone()
    }

    /// The most SLS requests (the credential routes aside: STS, ECS metadata, credentials URI) handled at the same moment, each counted
    /// from when it has been read whole to when its answer has been written (or its connection dropped).
    pub fn peak_concurrency(&self) -> usize {
        self.shared.peak_concurrency.load(SeqCst)
    }

    /// SLS requests being handled now, counted as `peak_concurrency` counts them.
    pub fn in_flight(&self) -> usize {
        self.shared.in_flight.load(SeqCst)
    }

    /// How many requests were answered with the SLS error `code`.
    pub fn refusals(&self, code: &str) -> usize {
        let log = self.shared.log();
        let refused = |r: &&Recorded| r.error_code.as_deref() == Some(code);
        log.requests.iter().filter(refused).count()
    }

    /// How many RetryShipperTask requests carried the task id `id`, whatever their outcome.
    pub fn attempts_for(&self, id: &str) -> usize {
        let requests = self.shared.log();
        let carried = |r: &&Recorded| r.task_ids().iter().any(|t| t == id);
        requests.requests.iter().filter(carried).count()
    }

    /// The credentials URI `Builder::credentials_uri` serves.
    pub fn credentials_uri(&self) -> String {
        format!("{}{}", self.endpoint(), uri::PATH)
    }

    /// Every set of temporary credentials handed out (STS, the credentials URI, a short-lived
    /// ECS role), in order.
    pub fn issued(&self) -> Vec<IssuedCredentials> {
        self.shared.log().issued.clone()
    }

    /// The GetShipperStatus requests received (one per page), whatever became of them.
    pub fn listing_requests(&self) -> Vec<Recorded> {
        self.requests_of(Api::GetShipperStatus)
    }

    /// The requests received that called `api` (e.g. one per page of a listing), whatever became
    /// of them.
    pub fn requests_of(&self, api: Api) -> Vec<Recorded> {
        let log = self.shared.log();
        let calling = |r: &&Recorded| r.api() == Some(api);
        log.requests.iter().filter(calling).cloned().collect()
    }

    /// The STS requests received (`endpoint()` is STS too, at `/`), whatever became of them.
    pub fn sts_requests(&self) -> Vec<Recorded> {
        self.requests_to(|path| path == sts::PATH)
    }

    /// The credentials-URI requests received, whatever became of them.
    pub fn uri_requests(&self) -> Vec<Recorded> {
        self.requests_to(|path| path == uri::PATH)
    }

    fn requests_to(&self, path: impl Fn(&str) -> bool) -> Vec<Recorded> {
        let log = self.shared.log();
        let requests = log.requests.iter().filter(|r| path(&r.path));
        requests.cloned().collect()
    }

    /// The token the OIDC provider `arn` vouches for from now on (the old one is refused), as
    /// when Kubernetes rotates a service account's token file.
    pub fn set_oidc_token(&self, arn: &str, token: &str) {
        let mut log = self.shared.log();
        log.oidc_providers.retain(|(provider, _)| provider != arn);
        log.oidc_providers.push((arn.into(), token.into()));
    }

    /// Queue an answer for the next STS request, given instead of checking it (e.g.
    /// `Reply::sts_error(500, "InternalError", ...)`, `Reply::hang()`); recorded as `scripted ...`.
    pub fn push_sts_reply(&self, reply: Reply) {
        self.shared.log().sts_replies.push_back(reply);
    }

    /// Queue an answer for the next credentials-URI request, given instead of new credentials.
    pub fn push_uri_reply(&self, reply: Reply) {
        self.shared.log().uri_replies.push_back(reply);
    }

    /// Queue a canned answer. Each authenticated SLS API request (RetryShipperTask, GetShipperStatus,
    /// ListLogStores, ListShipper) that no injected fault took takes the oldest one instead of its
    /// own answer (before its logstore and shipper are looked up).
    pub fn push_reply(&self, reply: Reply) {
        self.shared.log().replies.push_back(reply);
    }

    /// Queue an answer given before any check, as a proxy or load balancer in front of SLS gives
    /// it: the next SLS request (the credential routes aside: STS, ECS metadata, credentials URI), whatever its signature, Date or
    /// path, takes the oldest one instead of being checked or processed. Recorded with the fault
    /// `proxied ...`.
    pub fn push_proxy_reply(&self, reply: Reply) {
        self.shared.log().proxy_replies.push_back(reply);
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        // Ends any delay at once; dropping `server` then closes the connections.
        self.shared.stopping.store(true, SeqCst);
    }
}

/// State shared by the accept loop and the connection threads.
struct Shared {
    world: sls::World,
    on_request: Option<Hook>,
    faults: faults::Faults,
    stopping: AtomicBool,
    connections: AtomicUsize,
    in_flight: AtomicUsize,
    peak_concurrency: AtomicUsize,
    log: Mutex<Log>,
    /// Told whenever a TLS handshake ends (`Log::handshaking`).
    handshake_ended: Condvar,
}

#[derive(Default)]
struct Log {
    requests: Vec<Recorded>,
    accepted: Vec<Vec<String>>,
    replies: VecDeque<Reply>,
    /// Answers given before any check (`StandIn::push_proxy_reply`).
    proxy_replies: VecDeque<Reply>,
    /// Each shipper's tasks, by `catalog::Shipper::history`.
    histories: Vec<catalog::History>,
    /// `(logstore, shipper)` of the shippers deleted so far
    /// (`Builder::shipper_deleted_after_listing`).
    deleted: HashSet<(String, String)>,
    /// Tasks still to appear after the next GetShipperStatus page served.
    late_tasks: usize,
    /// ECS metadata tokens issued, with when each expires.
    metadata_tokens: Vec<(String, SystemTime)>,
    /// Temporary credentials handed out, which sign requests until they expire.
    issued: Vec<IssuedCredentials>,
    /// Every `SignatureNonce` a signed STS request spent.
    sts_nonces: HashSet<String>,
    /// (provider ARN, the token it vouches for now)
    oidc_providers: Vec<(String, String)>,
    sts_replies: VecDeque<Reply>,
    uri_replies: VecDeque<Reply>,
    /// Why each failed TLS handshake failed.
    tls_failures: Vec<String>,
    /// TLS handshakes under way.
    handshaking: usize,
}

impl Shared {
    fn log(&self) -> MutexGuard<'_, Log> {
        // A poisoned lock only means a test thread panicked; the data is still worth reading.
        self.log
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// How long `StandIn::tls_failures` waits for handshakes under way: only a client that never
/// finishes its handshake makes it wait that long.
const HANDSHAKE_WAIT: Duration = Duration::from_secs(10);

fn checked_rate(rate: f64) -> f64 {
    assert!(
        (0.0..=1.0).contains(&rate),
        "a rate is from 0 to 1, not {rate}"
    );
    rate
}
