//! Talking to SLS: one ureq `Agent` per run (one keep-alive connection for every batch), the
//! requests built with the endpoint/Host rule and signed (`request.rs`), each sent to its end
//! (`exchange.rs`: attempt, decide, wait), one attempt on the wire (`wire.rs`), and the answer
//! turned into an `Outcome`.
//!
//! Whatever a server answers is judged here and never panics: a 200 is accepted by its status line
//! alone, its headers and body unread where they are not the answer; its `Date` corrects the
//! signing clock only to a time a signature can carry (see `clock`).

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicI64};
use std::time::{Duration, Instant, SystemTime};

use crate::config::Config;
use std::sync::Arc;

use crate::credentials::{Credentials, Keyring};
use crate::diag::Diag;
use crate::endpoint::Endpoint;
use crate::http::Http;
use crate::ids::TaskId;
use crate::interrupt::Interrupt;
use crate::listing::{self, Listing};
use crate::names::{Project, ResourceName, Shipper};
use crate::outcome::{Outcome, Status};
use crate::policy::Policy;
use crate::sign::{self, SignatureVersion};
use crate::sweep::{self, Names};

mod exchange;
mod request;
mod wire;

pub use request::{ListQuery, Prepared, Signing};

/// The SLS client of one run.
pub struct Client {
    http: Http,
    endpoint: Endpoint,
    project: Project,
    credentials: Arc<Keyring>,
    signature: SignatureVersion,
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
        Client {
            http: config.http.clone(),
            endpoint: config.endpoint.clone(),
            project: config.target.project.clone(),
            credentials: Arc::clone(&config.credentials),
            signature: config.signature.clone(),
            policy: Policy::new(config.retries),
            interrupt,
            clock_offset: AtomicI64::new(0),
            skew_warned: AtomicBool::new(false),
            uncorrected_warned: AtomicBool::new(false),
            paused_until: Mutex::new(None),
        }
    }

    /// The credentials to sign with at `now`, refreshed first when they are due.
    pub fn credentials(&self, now: SystemTime) -> Result<Credentials, String> {
        self.credentials.credentials(now)
    }

    /// Build a request and sign it with `credentials` at time `now`.
    fn prepare(
        &self,
        method: &'static str,
        path: String,
        query: Vec<(String, String)>,
        body: Vec<u8>,
        signing: Signing,
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
            signing.credentials,
            &self.signature,
            signing.now,
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
    pub fn prepare_retry(&self, shipper: &Shipper, ids: &[TaskId], signing: Signing) -> Prepared {
        let body = serde_json::to_vec(ids).expect("a list of strings serializes");
        let Shipper { logstore, name } = shipper;
        let path = format!("/logstores/{logstore}/shipper/{name}/tasks");
        self.prepare("PUT", path, Vec::new(), body, signing)
    }

    /// One GetShipperStatus page, signed at `now`.
    pub fn prepare_list(&self, query: &ListQuery, offset: usize, signing: Signing) -> Prepared {
        let Shipper { logstore, name } = &*query.shipper;
        let path = format!("/logstores/{logstore}/shipper/{name}/tasks");
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
        self.prepare("GET", path, params, Vec::new(), signing)
    }

    /// Send one batch and classify the answer. A failure is a value, never an `Err`.
    pub fn retry_tasks(&self, shipper: &Shipper, ids: &[TaskId], diag: &Diag) -> Outcome {
        self.exchange(|at| self.prepare_retry(shipper, ids, at), diag)
            .0
    }

    /// Every task of the window, page after page. A failed page ends the listing with its
    /// outcome, which says why.
    pub fn list_tasks(&self, query: &ListQuery, diag: &Diag) -> Result<Listing, Outcome> {
        listing::read_all(|offset| {
            let (outcome, body) = self.exchange(|at| self.prepare_list(query, offset, at), diag);
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

    /// Every logstore of the project (ListLogStores), page after page; a failed page ends it with
    /// its outcome.
    pub fn list_logstores(&self, diag: &Diag) -> Result<Names, Outcome> {
        self.list_names("/logstores".to_string(), "logstores", "logstore", diag)
    }

    /// Every shipper of `logstore` (ListShipper), page after page.
    pub fn list_shippers(&self, logstore: &ResourceName, diag: &Diag) -> Result<Names, Outcome> {
        let path = format!("/logstores/{logstore}/shipper");
        self.list_names(path, "shipper", "shipper", diag)
    }

    /// The names a listing at `path` gives under `key`, each checked as a `what` name.
    fn list_names(
        &self,
        path: String,
        key: &str,
        what: &str,
        diag: &Diag,
    ) -> Result<Names, Outcome> {
        sweep::read_all(what, |offset| {
            let params = vec![
                ("offset".to_string(), offset.to_string()),
                ("size".to_string(), sweep::NAMES_PAGE_SIZE.to_string()),
            ];
            let prepare =
                |at: Signing| self.prepare("GET", path.clone(), params.clone(), Vec::new(), at);
            let (outcome, body) = self.exchange(prepare, diag);
            if outcome.status != Status::Ok {
                return Err(outcome);
            }
            let page = serde_json::from_slice(&body.unwrap_or_default())
                .map_err(|e| e.to_string())
                .and_then(|doc| sweep::parse_page(&doc, key));
            page.map_err(|why| Outcome {
                status: Status::Failed,
                error_message: Some(format!("unexpected answer to GET {path}: {why}")),
                ..outcome
            })
        })
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
