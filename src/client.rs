//! Talking to SLS: one ureq `Agent` per run (one keep-alive connection for every batch), request
//! building with the endpoint/Host rule, signing, and turning the answer into an `Outcome`.
//!
//! Whatever a server answers is judged here and never panics: a 200 is accepted by its status line
//! alone, its headers and body unread where they are not the answer; its `Date` corrects the
//! signing clock only to a time a signature can carry (see `clock`).

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use crate::clock::{self, Reading};
use crate::config::Config;
use crate::credentials::Credentials;
use crate::diag::Diag;
use crate::endpoint::Endpoint;
use crate::ids::TaskId;
use crate::interrupt::Interrupt;
use crate::listing::{self, Listing, StatusFilter};
use crate::names::{Project, ResourceName};
use crate::outcome::{Outcome, RawResponse, Status};
use crate::policy::{self, Policy};
use crate::resolver::CachingResolver;
use crate::sign::{self, SignatureVersion, Signed};
use crate::status_line;
use crate::untrusted::excerpt;
use crate::window::Window;

/// A full GetShipperStatus page is some 200 KiB; anything far bigger is not SLS talking.
const MAX_BODY_BYTES: u64 = 16 * 1024 * 1024;

/// A request ready to go out: what `--dry-run` prints and what `send` transmits. Its `Debug`
/// hides what the signer marked sensitive, as `redacted` does.
#[derive(Debug)]
pub struct Prepared {
    pub method: &'static str,
    pub url: String,
    pub host: String,
    pub signed: Signed,
    pub body: Vec<u8>,
}

impl Prepared {
    /// Whether the body of a 200 is the answer (a listing page). RetryShipperTask's 200 says all
    /// there is in its status line, so its headers and body are never needed.
    fn answer_is_body(&self) -> bool {
        self.method == "GET"
    }

    /// The request as text for a terminal, signature and STS token redacted, the body's task IDs
    /// escaped.
    pub fn redacted(&self) -> String {
        let mut out = format!("{} {}\nHost: {}\n", self.method, self.url, self.host);
        for (name, value) in self.signed.redacted_headers() {
            out.push_str(&format!("{name}: {value}\n"));
        }
        if !self.body.is_empty() {
            out.push_str(&format!("Content-Length: {}\n\n", self.body.len()));
            out.push_str(&crate::untrusted::escape(&String::from_utf8_lossy(
                &self.body,
            )));
            out.push('\n');
        }
        out
    }
}

/// What to list: a shipper's tasks in a window, of the statuses asked for.
#[derive(Debug, Clone)]
pub struct ListQuery {
    pub logstore: ResourceName,
    pub shipper: ResourceName,
    pub window: Window,
    pub statuses: StatusFilter,
}

/// The SLS client of one run.
pub struct Client {
    agent: ureq::Agent,
    /// The agent's name lookups, to forget when a request gets no answer.
    resolver: CachingResolver,
    endpoint: Endpoint,
    project: Project,
    credentials: Credentials,
    signature: SignatureVersion,
    timeout: Duration,
    policy: Policy,
    interrupt: Interrupt,
    /// Seconds to add to the local clock when signing (learnt from a refused request time).
    clock_offset: AtomicI64,
    /// The clock was corrected, and the user told so.
    skew_warned: AtomicBool,
    /// A refused request time could not be corrected, and the user told why.
    uncorrected_warned: AtomicBool,
    /// When throttled, every worker waits until then: the pool backs off as one, instead of
    /// the other workers hammering on.
    paused_until: Mutex<Option<Instant>>,
}

impl Client {
    pub fn new(config: &Config, interrupt: Interrupt) -> Client {
        let http = ureq::Agent::config_builder()
            // SLS errors are data to report, not Rust errors.
            .http_status_as_error(false)
            // A redirect is not something SLS does; report it instead of following it with our
            // signed headers.
            .max_redirects(0)
            .max_redirects_will_error(false)
            .timeout_connect(Some(config.timeout.min(Duration::from_secs(10))))
            .timeout_global(Some(config.timeout))
            .user_agent(concat!("sls-retry/", env!("CARGO_PKG_VERSION")))
            // One keep-alive connection per worker, kept between batches.
            .max_idle_connections(config.jobs.max(1))
            .max_idle_connections_per_host(config.jobs.max(1))
            .build();
        // ureq's own connector, watched for status lines (see status_line); each name looked
        // up once (see resolver).
        let resolver = CachingResolver::new(Diag::new(config.verbose));
        let agent = ureq::Agent::with_parts(http, status_line::connector(), resolver.clone());
        Client {
            agent,
            resolver,
            endpoint: config.endpoint.clone(),
            project: config.target.project.clone(),
            credentials: config.credentials.clone(),
            signature: config.signature.clone(),
            timeout: config.timeout,
            policy: Policy::new(config.retries),
            interrupt,
            clock_offset: AtomicI64::new(0),
            skew_warned: AtomicBool::new(false),
            uncorrected_warned: AtomicBool::new(false),
            paused_until: Mutex::new(None),
        }
    }

    /// Build and sign a request at time `now`.
    fn prepare(
        &self,
        method: &'static str,
        path: String,
        query: Vec<(String, String)>,
        body: Vec<u8>,
        now: SystemTime,
    ) -> Prepared {
        let host = self.endpoint.host_header(&self.project);
        let signed = sign::sign(
            &sign::Request {
                method,
                path: &path,
                query: &query,
                host: &host,
                content_type: (!body.is_empty()).then_some("application/json"),
                body: &body,
            },
            &self.credentials,
            &self.signature,
            now,
        );
        let mut url = format!("{}{path}", self.endpoint.base_url(&self.project));
        for (i, (key, value)) in query.iter().enumerate() {
            url.push(if i == 0 { '?' } else { '&' });
            url.push_str(key);
            url.push('=');
            url.push_str(&sign::encode_query_value(value));
        }
        Prepared {
            method,
            url,
            host,
            signed,
            body,
        }
    }

    /// RetryShipperTask for `ids`, signed at `now`.
    pub fn prepare_retry(
        &self,
        logstore: &ResourceName,
        shipper: &ResourceName,
        ids: &[TaskId],
        now: SystemTime,
    ) -> Prepared {
        let body = serde_json::to_vec(ids).expect("a list of strings serializes");
        let path = format!("/logstores/{logstore}/shipper/{shipper}/tasks");
        self.prepare("PUT", path, Vec::new(), body, now)
    }

    /// One GetShipperStatus page, signed at `now`.
    pub fn prepare_list(&self, query: &ListQuery, offset: usize, now: SystemTime) -> Prepared {
        let path = format!(
            "/logstores/{}/shipper/{}/tasks",
            query.logstore, query.shipper
        );
        // The SDKs' parameter order; the signature sorts them anyway.
        let params = vec![
            ("from".to_string(), query.window.from.to_string()),
            ("to".to_string(), query.window.to.to_string()),
            (
                "status".to_string(),
                query.statuses.query_value().to_string(),
            ),
            ("offset".to_string(), offset.to_string()),
            ("size".to_string(), listing::PAGE_SIZE.to_string()),
        ];
        self.prepare("GET", path, params, Vec::new(), now)
    }

    /// Send one batch and classify the answer. A failure is a value, never an `Err`.
    pub fn retry_tasks(
        &self,
        logstore: &ResourceName,
        shipper: &ResourceName,
        ids: &[TaskId],
        diag: &Diag,
    ) -> Outcome {
        self.exchange(|now| self.prepare_retry(logstore, shipper, ids, now), diag)
            .0
    }

    /// Every task of the window, page after page. A failed page ends the listing with its
    /// outcome, which says why.
    pub fn list_tasks(&self, query: &ListQuery, diag: &Diag) -> Result<Listing, Outcome> {
        listing::read_all(|offset| {
            let (outcome, body) = self.exchange(|now| self.prepare_list(query, offset, now), diag);
            if outcome.status != Status::Ok {
                return Err(outcome);
            }
            let page = serde_json::from_slice(&body.unwrap_or_default())
                .map_err(|e| e.to_string())
                .and_then(listing::parse_page);
            let page = page.map_err(|why| Outcome {
                status: Status::Failed,
                error_message: Some(format!("unexpected GetShipperStatus answer: {why}")),
                ..outcome
            })?;
            diag.info(|| {
                let tasks = page.tasks.len() + page.skipped.len();
                format!(
                    "GetShipperStatus offset {offset}: {tasks} tasks, total {}",
                    page.total
                )
            });
            Ok(page)
        })
    }

    /// Send a request built by `build` (given the signing time) and classify the answer; the
    /// body comes back for callers that read it.
    ///
    /// Transient failures are retried with backoff, each attempt signed anew; a refused request
    /// time (RequestTimeExpired, RequestTimeTooSkewed) corrects our clock by the server's `Date`
    /// and is retried at once, when there is something to correct. After a signal, no further
    /// attempt is made.
    fn exchange(
        &self,
        build: impl Fn(SystemTime) -> Prepared,
        diag: &Diag,
    ) -> (Outcome, Option<Vec<u8>>) {
        let started = Instant::now();
        let mut attempts = 0;
        let mut retries_left = self.policy.retries;
        let mut skew_corrected = false;
        if !self.wait_for_pause() {
            return (Outcome::not_sent("interrupted before it was sent"), None);
        }
        loop {
            attempts += 1;
            // The offset this attempt is signed with: another worker may change it meanwhile.
            let offset = self.clock_offset.load(Ordering::Relaxed);
            let prepared = build(clock::signing_time(SystemTime::now(), offset));
            diag.debug(|| format!("request:\n{}", prepared.redacted().trim_end()));
            let sent = Instant::now();
            let (mut outcome, response, transient_transport) = match self.send(&prepared) {
                Ok(answer) => (
                    Outcome::from_response(&answer.response, sent.elapsed()),
                    Some(answer.response),
                    answer.transient,
                ),
                Err(err) => (
                    Outcome::transport(&self.describe(&err), sent.elapsed()),
                    None,
                    is_transient_transport(&err),
                ),
            };
            outcome.attempts = attempts;
            let skew = policy::is_clock_skew(&outcome) && !skew_corrected;
            let transient = policy::is_transient(&outcome, transient_transport);
            let retry = (skew || transient) && self.interrupt.signal().is_none();
            let wait = match (retry, skew) {
                (true, true) => {
                    let date = response.as_ref().and_then(|r| r.date.as_deref());
                    self.correct_clock(&outcome, date, offset, diag)
                        .then_some(Duration::ZERO)
                }
                (true, false) if retries_left > 0 => {
                    let retry_after = response
                        .as_ref()
                        .and_then(|r| r.retry_after.as_deref())
                        .and_then(|v| policy::parse_retry_after(v, SystemTime::now()));
                    let n = self.policy.retries - retries_left + 1;
                    Some(self.policy.backoff(n, retry_after, fastrand::f64()))
                }
                _ => None,
            };
            diag.info(|| {
                let mut line = format!(
                    "{} {} -> {} in {} ms, request id {}",
                    prepared.method,
                    prepared.url,
                    outcome
                        .http_status
                        .map_or("no response".to_string(), |s| s.to_string()),
                    outcome.elapsed.as_millis(),
                    outcome.request_id.as_deref().unwrap_or("-"),
                );
                if let Some(wait) = wait {
                    line.push_str(&format!("; retrying in {} ms", wait.as_millis()));
                }
                line
            });
            match wait {
                Some(wait) => {
                    if skew {
                        skew_corrected = true;
                    } else {
                        retries_left -= 1;
                    }
                    if policy::is_throttling(&outcome) {
                        self.pause(wait);
                    }
                    // Interrupted while waiting: this attempt's failure is how it ended.
                    if !self.interrupt.sleep(wait) || !self.wait_for_pause() {
                        outcome.elapsed = started.elapsed();
                        return (outcome, response.map(|r| r.body));
                    }
                }
                None => {
                    outcome.elapsed = started.elapsed();
                    return (outcome, response.map(|r| r.body));
                }
            }
        }
    }

    /// Hold every worker back for `wait` (the longest pause asked for wins).
    fn pause(&self, wait: Duration) {
        let until = Instant::now() + wait;
        let mut paused = self.paused_until.lock().unwrap_or_else(|p| p.into_inner());
        if paused.is_none_or(|current| current < until) {
            *paused = Some(until);
        }
    }

    /// Wait out a pause another worker's throttled answer asked for. False if interrupted.
    fn wait_for_pause(&self) -> bool {
        let until = *self.paused_until.lock().unwrap_or_else(|p| p.into_inner());
        match until {
            Some(until) => self
                .interrupt
                .sleep(until.saturating_duration_since(Instant::now())),
            None => true,
        }
    }

    /// After a request signed with the offset `signed_with` had its time refused (`refused`),
    /// learn the offset from the server's `Date` and say so once. False when there is nothing to
    /// correct: the `Date` is missing, unusable, or agrees with the clock the request was signed
    /// with (signing again with it would be refused the same way); the failure then stands, and
    /// the user is told why once.
    fn correct_clock(
        &self,
        refused: &Outcome,
        date: Option<&str>,
        signed_with: i64,
        diag: &Diag,
    ) -> bool {
        let reading = clock::read_date(date, SystemTime::now(), signed_with);
        let Reading::Offset(offset) = reading else {
            if !self.uncorrected_warned.swap(true, Ordering::Relaxed) {
                let code = refused.error_code.as_deref().unwrap_or("");
                diag.warn(&not_corrected(code, date, reading));
            }
            return false;
        };
        self.clock_offset.store(offset, Ordering::Relaxed);
        if !self.skew_warned.swap(true, Ordering::Relaxed) {
            diag.warn(&format!(
                "the local clock is {} seconds {} the server's; signing with the server's time for \
                 this run (fix the clock, e.g. with NTP)",
                offset.unsigned_abs(),
                if offset > 0 { "behind" } else { "ahead of" }
            ));
        }
        true
    }

    /// Send `prepared` and read its answer as far as it is needed: the status line alone for a
    /// 200 to RetryShipperTask, the body too for a listing page or an error. `Err` only when no
    /// status line came.
    fn send(&self, prepared: &Prepared) -> Result<Answer, ureq::Error> {
        let mut request = ureq::http::Request::builder()
            .method(prepared.method)
            .uri(&prepared.url)
            .header("Host", &prepared.host);
        for (name, value) in &prepared.signed.headers {
            // The mark goes on to the wire type as well, whose own `Debug` then hides the value.
            let mut wire = ureq::http::HeaderValue::try_from(value.expose().as_ref())
                .map_err(ureq::http::Error::from)?;
            wire.set_sensitive(value.is_sensitive());
            request = request.header(*name, wire);
        }
        let request = request.body(prepared.body.as_slice())?;
        let needs_body = |status: u16| status != 200 || prepared.answer_is_body();
        match status_line::watch(|| self.agent.run(request)) {
            (Ok(response), _) => {
                let needs_body = needs_body(response.status().as_u16());
                Ok(self.read_answer(response, needs_body))
            }
            // ureq refused the head, but the status line says what the server did.
            (Err(err), Some(status)) => Ok(Answer {
                response: RawResponse {
                    status,
                    unreadable: needs_body(status).then(|| {
                        format!("the answer's head could not be read: {}", self.why(&err))
                    }),
                    ..RawResponse::default()
                },
                transient: is_transient_transport(&err),
            }),
            (Err(err), None) => {
                // The remembered address may be why: the next attempt looks the name up anew.
                self.resolver.forget();
                Err(err)
            }
        }
    }

    /// The headers of `response` that classification needs, and its body if `needs_body`.
    fn read_answer(
        &self,
        mut response: ureq::http::Response<ureq::Body>,
        needs_body: bool,
    ) -> Answer {
        // Server text, read lossily: a byte that is not UTF-8 spoils one value, not the answer.
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        };
        let mut answer = Answer {
            response: RawResponse {
                status: response.status().as_u16(),
                request_id: header("x-log-requestid"),
                location: header("location"),
                date: header("date"),
                retry_after: header("retry-after"),
                ..RawResponse::default()
            },
            transient: false,
        };
        if needs_body {
            let body = response.body_mut().with_config().limit(MAX_BODY_BYTES);
            match body.read_to_vec() {
                Ok(body) => answer.response.body = body,
                Err(ureq::Error::BodyExceedsLimit(_)) => {
                    let mib = MAX_BODY_BYTES / (1024 * 1024);
                    answer.response.unreadable =
                        Some(format!("the answer's body is over {mib} MiB"));
                }
                Err(err) => {
                    let why = format!("the answer's body could not be read: {}", self.why(&err));
                    answer.response.unreadable = Some(why);
                    answer.transient = is_transient_transport(&err);
                }
            }
        }
        answer
    }

    /// Why an answer could not be read to its end: what `describe` says of the connection
    /// failing, or ureq's own words on what it refused.
    fn why(&self, err: &ureq::Error) -> String {
        match err {
            ureq::Error::Timeout(_) | ureq::Error::Io(_) => self.describe(err),
            other => other.to_string(),
        }
    }

    /// One line for a transport failure, saying what to check.
    fn describe(&self, err: &ureq::Error) -> String {
        match err {
            ureq::Error::Timeout(_) => format!(
                "timed out after {}s talking to {} (see --timeout)",
                self.timeout.as_secs(),
                self.endpoint
            ),
            ureq::Error::HostNotFound => format!(
                "host not found: {}; check the endpoint",
                self.endpoint.host_header(&self.project)
            ),
            ureq::Error::ConnectionFailed => {
                format!("could not connect to {}", self.endpoint)
            }
            ureq::Error::Io(io) => format!("connection to {} failed: {io}", self.endpoint),
            other => format!("request failed: {other}"),
        }
    }
}

/// Connection trouble and timeouts may pass; a TLS or protocol error will not.
fn is_transient_transport(err: &ureq::Error) -> bool {
    matches!(
        err,
        ureq::Error::Timeout(_)
            | ureq::Error::Io(_)
            | ureq::Error::ConnectionFailed
            | ureq::Error::HostNotFound
            | ureq::Error::Protocol(_)
    )
}

/// Why a refused request time (`code`) was not corrected by the server's `date`, read as
/// `reading`. With a zero offset there is no skew to name: the clocks agree, so the cause is
/// elsewhere, and a retry signed with the same clock would be refused the same way.
fn not_corrected(code: &str, date: Option<&str>, reading: Reading) -> String {
    let answered = format!("the server answered {code}");
    let check = "check the local clock (e.g. NTP)";
    match (reading, date) {
        (Reading::Agrees, _) => format!(
            "{answered}, yet its Date agrees with the clock the request was signed with: this is \
             no clock skew to correct, so the batch is not retried (a proxy holding requests \
             back, or a Date that is not the server's, may be the cause)"
        ),
        (_, None) => format!("{answered} without a Date: the clock cannot be corrected; {check}"),
        (_, Some(date)) => format!(
            "{answered} with a Date the clock cannot be set to (\"{}\"); {check}",
            excerpt(date, 64)
        ),
    }
}

/// What came back for one attempt that got a status line.
struct Answer {
    response: RawResponse,
    /// The part of the answer that was needed could not be read, for a reason that may pass.
    transient: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sign::tests::{SECRET, TOKEN, signature, signed_sts_requests};

    /// A prepared STS request prints no secret either: not `{:?}`, not `{:#?}`, not the text `-vv`
    /// and `--dry-run` show, which keeps the key ID and the v4 scope.
    #[test]
    fn printing_a_prepared_sts_request_shows_no_token_signature_or_secret() {
        for (signed, authorization) in signed_sts_requests() {
            let signature = signature(&signed, authorization);
            let prepared = Prepared {
                method: "GET",
                url: "https://p.example/logstores/l/shipper/s/tasks?status=fail".into(),
                host: "p.example".into(),
                signed,
                body: Vec::new(),
            };
            let text = prepared.redacted();
            let shown = format!("{prepared:?}\n{prepared:#?}\n{text}");
            for secret in [TOKEN, SECRET, &signature] {
                assert!(!shown.contains(secret), "{secret} in {shown}");
            }
            assert!(
                text.contains(&format!("\nAuthorization: {authorization}\n")),
                "{text}"
            );
            assert!(
                text.contains("\nx-acs-security-token: <redacted>\n"),
                "{text}"
            );
        }
    }
}
