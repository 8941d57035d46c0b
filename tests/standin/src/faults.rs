//! Fault injection, deterministic by seed: which authenticated SLS API requests (RetryShipperTask, GetShipperStatus, ListLogStores, ListShipper) get an SLS or proxy error, a dropped connection or no answer at all, and which SLS requests are delayed.
// The n-th SLS request received (any but the credential routes: STS, ECS metadata, credentials URI) draws two numbers from (seed, n),
// one for its fault and one for its delay, so a seed replays the same sequence of decisions.
// The fault is decided before the request is processed: a faulted request is never accepted.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use std::thread;
use std::time::{Duration, Instant};

use super::Reply;
use super::http::{Wire, reason};
use super::listing::mix;

/// What `Builder::fault_seed`, `error_rate`, `retry_after`, `drop_rate`, `delay`, `delay_rate` and `hang` set.
#[derive(Default)]
pub(super) struct Faults {
    pub seed: u64,
    /// `(rate, status, errorCode)`; an empty code is a proxy's HTML page.
    pub errors: Vec<(f64, u16, String)>,
    pub retry_after: Option<u64>,
    pub drop_rate: f64,
    pub delay: Duration,
    pub delay_rate: Vec<(f64, Duration)>,
    pub hang: bool,
    /// Draws made so far: the next request's n.
    drawn: AtomicU64,
}

/// The two numbers in [0, 1) one request decides its fault and its delay with.
pub(super) struct Draw {
    fault: f64,
    delay: f64,
}

impl Faults {
    pub fn draw(&self) -> Draw {
        let n = self.drawn.fetch_add(1, SeqCst);
        Draw {
            fault: unit(self.seed, n, 0),
            delay: unit(self.seed, n, 1),
        }
    }

    /// The answer that replaces processing, when the draw lands on a fault (or the server hangs).
    /// The drop rate comes first, then each error rate in the order added: one draw picks at most one.
    pub fn injected(&self, draw: &Draw, project: &str) -> Option<Reply> {
        if self.hang {
            return Some(Reply::wire(Wire::Hang));
        }
        let mut edge = self.drop_rate;
        if draw.fault < edge {
            return Some(Reply::drop_connection());
        }
        for (rate, status, code) in &self.errors {
            edge += rate;
            if draw.fault < edge {
                return Some(self.error(*status, code, project));
            }
        }
        None
    }

    /// `delay` for every request, plus each `delay_rate` the draw falls under.
    pub fn delay(&self, draw: &Draw) -> Duration {
        let mut edge = 0.0;
        let mut total = self.delay;
        for (rate, delay) in &self.delay_rate {
            edge += rate;
            if draw.delay < edge {
                total += *delay;
                break;
            }
        }
        total
    }

    /// `status` with `code` as SLS words it, or a proxy's HTML page when `code` is empty;
    /// `Retry-After` on a 429 or 503 if `Builder::retry_after` asks. Also what a listing that
    /// always fails answers (`Builder::listing_fails`, `shipper_listing_fails`).
    pub fn error(&self, status: u16, code: &str, project: &str) -> Reply {
        let reply = if code.is_empty() {
            let page = format!(
                "<html><body><h1>{status} {}</h1></body></html>",
                reason(status)
            );
            Reply::raw(status, "text/html", page)
        } else {
            Reply::error(status, code, &message(code, project))
        };
        match self.retry_after {
            Some(secs) if matches!(status, 429 | 503) => {
                reply.with_header("Retry-After", &secs.to_string())
            }
            _ => reply,
        }
    }
}

/// What SLS says with these codes (wording after its documents and SDK issue reports).
fn message(code: &str, project: &str) -> String {
    match code {
        "ServerBusy" => "The server is busy, please try again later.".into(),
        "InternalServerError" => "Internal server error, please try again later.".into(),
        "WriteQuotaExceed" => format!("Project {project} write quota exceed."),
        "MetaOperationQpsLimitExceeded" => {
            format!("Project {project} meta operation qps limit exceeded.")
        }
        other => format!("Injected fault {other}."),
    }
}

/// A uniform number in [0, 1) from (seed, n, slot).
fn unit(seed: u64, n: u64, slot: u64) -> f64 {
    let bits = mix(mix(seed) ^ mix(n.wrapping_mul(2).wrapping_add(slot))) >> 11;
    bits as f64 / (1u64 << 53) as f64
}

/// Sleeps `d`, or less once `stopping` is set, so dropping the stand-in never waits on a delay.
pub(super) fn pause(d: Duration, stopping: &AtomicBool) {
    let end = Instant::now() + d;
    while !stopping.load(SeqCst) {
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return;
        }
        thread::sleep(left.min(Duration::from_millis(10)));
    }
}
