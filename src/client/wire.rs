//! One attempt on the wire: the signed request handed to the run's agent, and its answer read as
//! far as it is needed (a 200 to RetryShipperTask by its status line alone), whatever the server
//! sends; a transport failure described in one line saying what to check.

use super::{Client, Prepared};
use crate::outcome::RawResponse;
use crate::status_line;

/// A full GetShipperStatus page is some 200 KiB; anything far bigger is not SLS talking.
const MAX_BODY_BYTES: u64 = 16 * 1024 * 1024;

impl Client {
    /// Send `prepared` and read its answer as far as it is needed: the status line alone for a
    /// 200 to RetryShipperTask, the body too for a listing page or an error. `Err` only when no
    /// status line came.
    pub(super) fn send(&self, prepared: &Prepared) -> Result<Answer, ureq::Error> {
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
        match status_line::watch(|| self.http.agent().run(request)) {
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
                self.http.forget_names();
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
    pub(super) fn describe(&self, err: &ureq::Error) -> String {
        match err {
            ureq::Error::Timeout(_) => format!(
                "timed out after {}s talking to {} (see --timeout)",
                self.http.timeout().as_secs(),
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
pub(super) fn is_transient_transport(err: &ureq::Error) -> bool {
    matches!(
        err,
        ureq::Error::Timeout(_)
            | ureq::Error::Io(_)
            | ureq::Error::ConnectionFailed
            | ureq::Error::HostNotFound
            | ureq::Error::Protocol(_)
    )
}

/// What came back for one attempt that got a status line.
pub(super) struct Answer {
    pub response: RawResponse,
    /// The part of the answer that was needed could not be read, for a reason that may pass.
    pub transient: bool,
}
