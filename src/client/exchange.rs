//! One request to its end: attempt, decide, wait, attempt again. Transient failures are retried
//! with backoff (each attempt signed anew); a refused request time corrects the signing clock by
//! the server's `Date` and is retried at once, when there is something to correct; a throttled
//! answer pauses every worker; after a signal no further attempt is made.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant, SystemTime};

use super::{Client, Prepared, Signing};
use crate::clock::{self, Reading};
use crate::diag::Diag;
use crate::http::failure::FailureKind;
use crate::outcome::{Outcome, RawResponse};
use crate::policy;
use crate::untrusted::excerpt;

/// What one attempt gave.
struct Attempt {
    prepared: Prepared,
    outcome: Outcome,
    response: Option<RawResponse>,
    /// The failure may pass (a connection dropped, a timeout, an unreadable body).
    transient_transport: bool,
    /// The clock offset the request was signed with.
    offset: i64,
}

/// How far a request has got through its tries.
struct Tries {
    attempts: u32,
    retries_left: u32,
    skew_corrected: bool,
}

impl Client {
    /// Send a request built by `build` (given the signing time) and classify the answer; the
    /// body comes back for callers that read it.
    pub(super) fn exchange(
        &self,
        build: impl Fn(Signing) -> Prepared,
        diag: &Diag,
    ) -> (Outcome, Option<Vec<u8>>) {
        let started = Instant::now();
        let mut tries = Tries {
            attempts: 0,
            retries_left: self.policy.retries,
            skew_corrected: false,
        };
        if !self.wait_for_pause() {
            return (Outcome::not_sent("interrupted before it was sent"), None);
        }
        let mut last: Option<Attempt> = None;
        let ended = loop {
            let attempt = match self.attempt(&build, &mut tries, diag) {
                Ok(attempt) => attempt,
                // No credentials that still work: the last attempt's failure is how it ended.
                Err(why) => {
                    let Some(last) = last else {
                        return (Outcome::not_sent(&why), None);
                    };
                    break last;
                }
            };
            let wait = self.decide(&attempt, &mut tries, diag);
            say(&attempt, wait, diag);
            // Interrupted while waiting: this attempt's failure is how it ended.
            let again = wait.is_some_and(|wait| self.wait(wait, &attempt.outcome));
            if !again {
                break attempt;
            }
            last = Some(attempt);
        };
        let Attempt {
            mut outcome,
            response,
            ..
        } = ended;
        outcome.elapsed = started.elapsed();
        (outcome, response.map(|r| r.body))
    }

    /// Sign with the current clock offset, send, classify.
    /// `Err` when there are no credentials that still work to sign with.
    fn attempt(
        &self,
        build: &impl Fn(Signing) -> Prepared,
        tries: &mut Tries,
        diag: &Diag,
    ) -> Result<Attempt, String> {
        // The offset this attempt is signed with: another worker may change it meanwhile.
        let offset = self.clock_offset.load(Ordering::Relaxed);
        let now = clock::signing_time(SystemTime::now(), offset);
        let credentials = self.credentials(now)?;
        tries.attempts += 1;
        let prepared = build(Signing {
            now,
            credentials: &credentials,
        });
        diag.debug(|| format!("request:\n{}", prepared.redacted().trim_end()));
        let sent = Instant::now();
        let (mut outcome, response, transient_transport) = match self.send(&prepared) {
            Ok(answer) => (
                Outcome::from_response(&answer.response, sent.elapsed()),
                Some(answer.response),
                answer.transient,
            ),
            Err(failure) => (
                Outcome::transport(&failure, sent.elapsed()),
                None,
                failure.kind == FailureKind::Transient,
            ),
        };
        outcome.attempts = tries.attempts;
        Ok(Attempt {
            prepared,
            outcome,
            response,
            transient_transport,
            offset,
        })
    }

    /// After an attempt: how long to wait before the next one, or `None` when this one is how
    /// the request ends.
    fn decide(&self, attempt: &Attempt, tries: &mut Tries, diag: &Diag) -> Option<Duration> {
        if self.interrupt.signal().is_some() {
            return None;
        }
        let outcome = &attempt.outcome;
        let response = attempt.response.as_ref();
        if policy::is_clock_skew(outcome) && !tries.skew_corrected {
            let date = response.and_then(|r| r.date.as_deref());
            tries.skew_corrected = self.correct_clock(outcome, date, attempt.offset, diag);
            return tries.skew_corrected.then_some(Duration::ZERO);
        }
        if !policy::is_transient(outcome, attempt.transient_transport) || tries.retries_left == 0 {
            return None;
        }
        let retry_after = response
            .and_then(|r| r.retry_after.as_deref())
            .and_then(|v| policy::parse_retry_after(v, SystemTime::now()));
        tries.retries_left -= 1;
        let retry = self.policy.retries - tries.retries_left;
        Some(self.policy.backoff(retry, retry_after, fastrand::f64()))
    }

    /// Wait before the next attempt (the whole pool waits when throttled); false when a signal
    /// cut the wait short.
    fn wait(&self, wait: Duration, outcome: &Outcome) -> bool {
        if policy::is_throttling(outcome) {
            self.pause(wait);
        }
        self.interrupt.sleep(wait) && self.wait_for_pause()
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
}

/// `-v`: one line per attempt, with the wait before the next one.
fn say(attempt: &Attempt, wait: Option<Duration>, diag: &Diag) {
    diag.info(|| {
        let (prepared, outcome) = (&attempt.prepared, &attempt.outcome);
        let status = (outcome.http_status).map_or("no response".to_string(), |s| s.to_string());
        let mut line = format!(
            "{} {} -> {status} in {} ms, request id {}",
            prepared.method,
            prepared.url,
            outcome.elapsed.as_millis(),
            outcome.request_id.as_deref().unwrap_or("-"),
        );
        if let Some(wait) = wait {
            line.push_str(&format!("; retrying in {} ms", wait.as_millis()));
        }
        line
    });
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
