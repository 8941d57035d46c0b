//! One attempt on the wire: the signed request handed to the run's agent, and its answer read as
//! far as it is needed (a 200 to RetryShipperTask by its status line alone), whatever the server
//! sends; a transport failure described in one line saying what to check.

use super::{Client, Prepared};
use crate::http::failure::{self, Failure, Peer};
use crate::http::proxy::Route;
use crate::http::status_line;
use crate::outcome::RawResponse;

/// A full GetShipperStatus page is some 200 KiB; anything far bigger is not SLS talking.
const MAX_BODY_BYTES: u64 = 16 * 1024 * 1024;

impl Client {
    /// Send `prepared` and read its answer as far as it is needed: the status line alone for a
    /// 200 to RetryShipperTask, the body too for a listing page or an error. `Err` only when no
    /// status line came, saying why in one line.
    pub(super) fn send(&self, prepared: &Prepared) -> Result<Answer, Failure> {
        let request = self.request(prepared);
        let request = match request {
            Ok(request) => request,
            Err(err) => return Err(self.describe(&err.into(), Route::Direct, &prepared.url)),
        };
        let (agent, route) = self.http.route(request.uri())?;
        let needs_body = |status: u16| status != 200 || prepared.answer_is_body();
        match status_line::watch(|| agent.run(request)) {
            (Ok(response), _) => {
                let needs_body = needs_body(response.status().as_u16());
                Ok(self.read_answer(response, needs_body, &prepared.url))
            }
            // ureq refused the head, but the status line says what the server did.
            (Err(err), Some(status)) => Ok(Answer {
                response: RawResponse {
                    status,
                    unreadable: needs_body(status).then(|| {
                        format!(
                            "the answer's head could not be read: {}",
                            self.why(&err, &prepared.url)
                        )
                    }),
                    ..RawResponse::default()
                },
                transient: is_transient_transport(&err),
            }),
            (Err(err), None) => {
                // The remembered address may be why: the next attempt looks the name up anew.
                self.http.forget_names();
                Err(self.describe(&err, route, &prepared.url))
            }
        }
    }

    /// The signed request as ureq takes it.
    fn request<'p>(
        &self,
        prepared: &'p Prepared,
    ) -> Result<ureq::http::Request<&'p [u8]>, ureq::http::Error> {
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
        request.body(prepared.body.as_slice())
    }

    /// The headers of `response` that classification needs, and its body if `needs_body`.
    fn read_answer(
        &self,
        mut response: ureq::http::Response<ureq::Body>,
        needs_body: bool,
        url: &str,
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
                    let why = format!(
                        "the answer's body could not be read: {}",
                        self.why(&err, url)
                    );
                    answer.response.unreadable = Some(why);
                    answer.transient = is_transient_transport(&err);
                }
            }
        }
        answer
    }

    /// Why an answer could not be read to its end: the connection failing (as `describe` says
    /// it), or ureq's own words on what it refused.
    fn why(&self, err: &ureq::Error, url: &str) -> String {
        match err {
            ureq::Error::Timeout(_) | ureq::Error::Io(_) => {
                self.describe(err, Route::Direct, url).why
            }
            other => other.to_string(),
        }
    }

    /// One line for a request to `url` that got no answer, saying what to check.
    fn describe(&self, err: &ureq::Error, route: Route, url: &str) -> Failure {
        let shown = self.endpoint.to_string();
        let url: ureq::http::Uri = url.parse().unwrap_or_default();
        let peer = Peer::of(&url, &shown, "check the endpoint");
        failure::describe(err, &peer, route, self.http.timeout())
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
