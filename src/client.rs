//! Talking to SLS: one ureq `Agent` per run (one keep-alive connection for every batch), request
//! building with the endpoint/Host rule, signing, and turning the answer into an `Outcome`.

use std::time::{Duration, Instant, SystemTime};

use crate::config::Config;
use crate::credentials::Credentials;
use crate::diag::Diag;
use crate::endpoint::Endpoint;
use crate::ids::TaskId;
use crate::outcome::{Outcome, RawResponse};
use crate::sign::{self, SignatureVersion, Signed};

/// Error bodies are tiny; anything bigger is not SLS talking.
const MAX_BODY_BYTES: u64 = 64 * 1024;

/// A request ready to go out: what `--dry-run` prints and what `send` transmits.
#[derive(Debug)]
pub struct Prepared {
    pub method: &'static str,
    pub url: String,
    pub host: String,
    pub signed: Signed,
    pub body: Vec<u8>,
}

impl Prepared {
    /// The request as text, signature and STS token redacted.
    pub fn redacted(&self) -> String {
        let mut out = format!("{} {}\nHost: {}\n", self.method, self.url, self.host);
        for (name, value) in self.signed.redacted_headers() {
            out.push_str(&format!("{name}: {value}\n"));
        }
        if !self.body.is_empty() {
            out.push_str(&format!("Content-Length: {}\n\n", self.body.len()));
            out.push_str(&String::from_utf8_lossy(&self.body));
            out.push('\n');
        }
        out
    }
}

/// The SLS client of one run.
pub struct Client {
    agent: ureq::Agent,
    endpoint: Endpoint,
    project: String,
    credentials: Credentials,
    signature: SignatureVersion,
    timeout: Duration,
}

impl Client {
    pub fn new(config: &Config) -> Client {
        let agent = ureq::Agent::config_builder()
            // SLS errors are data to report, not Rust errors.
            .http_status_as_error(false)
            // A redirect is not something SLS does; report it instead of following it with our
            // signed headers.
            .max_redirects(0)
            .max_redirects_will_error(false)
            .timeout_connect(Some(config.timeout.min(Duration::from_secs(10))))
            .timeout_global(Some(config.timeout))
            .user_agent(concat!("sls-retry/", env!("CARGO_PKG_VERSION")))
            .build()
            .new_agent();
        Client {
            agent,
            endpoint: config.endpoint.clone(),
            project: config.project.clone(),
            credentials: config.credentials.clone(),
            signature: config.signature.clone(),
            timeout: config.timeout,
        }
    }

    /// Build and sign a RetryShipperTask call for `ids` at time `now`.
    pub fn prepare_retry(
        &self,
        logstore: &str,
        shipper: &str,
        ids: &[TaskId],
        now: SystemTime,
    ) -> Prepared {
        let path = format!("/logstores/{logstore}/shipper/{shipper}/tasks");
        let body = serde_json::to_vec(ids).expect("a list of strings serializes");
        let host = self.endpoint.host_header(&self.project);
        let signed = sign::sign(
            &sign::Request {
                method: "PUT",
                path: &path,
                query: &[],
                host: &host,
                content_type: Some("application/json"),
                body: &body,
            },
            &self.credentials,
            &self.signature,
            now,
        );
        Prepared {
            method: "PUT",
            url: format!("{}{path}", self.endpoint.base_url(&self.project)),
            host,
            signed,
            body,
        }
    }

    /// Send one batch and classify the answer. A failure is a value, never an `Err`.
    pub fn retry_tasks(
        &self,
        logstore: &str,
        shipper: &str,
        ids: &[TaskId],
        diag: &Diag,
    ) -> Outcome {
        let prepared = self.prepare_retry(logstore, shipper, ids, SystemTime::now());
        diag.debug(|| format!("request:\n{}", prepared.redacted().trim_end()));
        let started = Instant::now();
        let outcome = match self.send(&prepared) {
            Ok(resp) => Outcome::from_response(&resp, started.elapsed()),
            Err(err) => Outcome::transport(&self.describe(&err), started.elapsed()),
        };
        diag.info(|| {
            format!(
                "{} {} -> {} in {} ms, request id {}",
                prepared.method,
                prepared.url,
                outcome
                    .http_status
                    .map_or("no response".to_string(), |s| s.to_string()),
                outcome.elapsed.as_millis(),
                outcome.request_id.as_deref().unwrap_or("-"),
            )
        });
        outcome
    }

    fn send(&self, prepared: &Prepared) -> Result<RawResponse, ureq::Error> {
        let mut request = ureq::http::Request::builder()
            .method(prepared.method)
            .uri(&prepared.url)
            .header("Host", &prepared.host);
        for (name, value) in &prepared.signed.headers {
            request = request.header(*name, value);
        }
        let request = request.body(prepared.body.clone())?;
        let mut response = self.agent.run(request)?;
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let (request_id, location) = (header("x-log-requestid"), header("location"));
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_BODY_BYTES)
            .read_to_vec()?;
        Ok(RawResponse {
            status,
            request_id,
            location,
            body,
        })
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
