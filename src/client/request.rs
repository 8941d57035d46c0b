//! A request as built and signed, ready to go out: what `send` transmits, and what `-vv` and
//! `--dry-run` print (by the signer's sensitive marks, never a secret).

use std::sync::Arc;
use std::time::SystemTime;

use crate::credentials::Credentials;
use crate::listing::StatusFilter;
use crate::names::Shipper;
use crate::sign::Signed;
use crate::window::Window;

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
    pub(super) fn answer_is_body(&self) -> bool {
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
    pub shipper: Arc<Shipper>,
    pub window: Window,
    pub statuses: StatusFilter,
}

/// When, and with what, a request is signed.
#[derive(Clone, Copy)]
pub struct Signing<'a> {
    /// The signing clock (see `clock`).
    pub now: SystemTime,
    pub credentials: &'a Credentials,
}
