//! What to do after an attempt fails: retry it with backoff (transient), as long as the server's
//! `Retry-After` asks (up to a minute), correct the clock and retry (RequestTimeExpired,
//! RequestTimeTooSkewed), or stop the run (an error every batch would meet).
//! Pure: the jitter's random number and the current time are passed in.

use std::time::{Duration, SystemTime};

use crate::http::failure::FailureKind;
use crate::outcome::{Outcome, Status};

/// How hard to try one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Retries after the first attempt.
    pub retries: u32,
    /// The first backoff's ceiling; it doubles per retry up to `cap`.
    pub base: Duration,
    pub cap: Duration,
}

/// Default `--retries`.
pub const DEFAULT_RETRIES: u32 = 4;

/// A server asking for longer than this is waited on for this long, not more: a cron run should
/// end, and `--save-failed` keeps what is left.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

impl Policy {
    pub fn new(retries: u32) -> Policy {
        Policy {
            retries,
            base: Duration::from_millis(200),
            cap: Duration::from_secs(10),
        }
    }

    /// Full jitter: a uniformly random wait up to `min(cap, base * 2^(retry-1))`, where `retry`
    /// counts from 1; at least what the server's `Retry-After` asked (up to a minute).
    /// `random` is in `[0, 1)`.
    pub fn backoff(&self, retry: u32, retry_after: Option<Duration>, random: f64) -> Duration {
        let ceiling = self
            .base
            .saturating_mul(1u32 << (retry.saturating_sub(1)).min(20))
            .min(self.cap);
        let jitter = ceiling.mul_f64(random.clamp(0.0, 1.0));
        match retry_after {
            Some(asked) => jitter.max(asked.min(MAX_RETRY_AFTER)),
            None => jitter,
        }
    }
}

/// 403 codes that mean "slow down" rather than "not allowed".
fn is_throttling_code(code: &str) -> bool {
    code.ends_with("QuotaExceed")
        || code.ends_with("QuotaExceeded")
        || code.contains("QpsLimit")
        || code.contains("Throttl")
        || code == "ServerBusy"
}

/// Did the server ask us to slow down (429, 503, or a 403 throttling code)?
pub fn is_throttling(outcome: &Outcome) -> bool {
    match outcome.http_status {
        Some(429 | 503) => true,
        Some(403) => outcome
            .error_code
            .as_deref()
            .is_some_and(is_throttling_code),
        _ => false,
    }
}

/// Is this failure worth another attempt? Transport failures (`transient_transport`: the answer
/// never came, or a 200 could not be read to its end), 5xx gateway/server errors, 429, and the 403
/// throttling codes.
pub fn is_transient(outcome: &Outcome, transient_transport: bool) -> bool {
    if outcome.status != Status::Failed {
        return false;
    }
    match outcome.http_status {
        // A 200 fails only when a body that was needed could not be read.
        None | Some(200) => transient_transport,
        Some(500 | 502 | 504) => true,
        Some(_) => is_throttling(outcome),
    }
}

/// Is this the client's clock being too far off the server's? SLS names it either way.
pub fn is_clock_skew(outcome: &Outcome) -> bool {
    outcome.http_status == Some(400)
        && matches!(
            outcome.error_code.as_deref(),
            Some("RequestTimeExpired" | "RequestTimeTooSkewed")
        )
}

/// A `Retry-After` value at time `now`: plain decimal seconds (`2`, `1.5`, any number of digits)
/// or an HTTP date, at most `MAX_RETRY_AFTER`. Anything else (a sign, an exponent, `inf`, `NaN`,
/// garbage) is `None`: the backoff alone decides then.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim_matches([' ', '\t']);
    let asked = match decimal_seconds(value) {
        Some(asked) => asked,
        None => {
            let at = httpdate::parse_http_date(value).ok()?;
            at.duration_since(now).unwrap_or(Duration::ZERO)
        }
    };
    Some(asked.min(MAX_RETRY_AFTER))
}

/// `digits[.digits]`, saturating: only the bound matters past a minute.
fn decimal_seconds(value: &str) -> Option<Duration> {
    let (whole, fraction) = value.split_once('.').unwrap_or((value, "0"));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || !digits(fraction) {
        return None;
    }
    let secs = whole.bytes().fold(0u64, |n, b| {
        n.saturating_mul(10).saturating_add(u64::from(b - b'0'))
    });
    let nanos = fraction
        .bytes()
        .chain(std::iter::repeat(b'0'))
        .take(9)
        .fold(0u32, |n, b| n * 10 + u32::from(b - b'0'));
    Some(Duration::new(secs, nanos))
}

/// An error that every other batch would meet the same way: the run stops, with this hint.
pub fn stops_the_run(outcome: &Outcome) -> Option<&'static str> {
    if outcome.status != Status::Failed {
        return None;
    }
    match outcome.transport {
        Some(FailureKind::Certificate) => {
            return Some("trust the CA that signs the endpoint's certificate with --ca-file FILE");
        }
        Some(FailureKind::ProxyRefused) => {
            return Some("check the proxy setting and its user name and password");
        }
        _ => {}
    }
    let code = outcome.error_code.as_deref().unwrap_or("");
    Some(match (outcome.http_status, code) {
        (_, "ProjectNotExist") => {
            "check --project, and that the endpoint is in the project's region"
        }
        (_, "LogStoreNotExist") => "check --logstore",
        (_, "ShipperNotExist") => "check --shipper",
        (_, "SignatureNotMatch") => {
            "check the AccessKeySecret; a proxy that rewrites headers also breaks the signature"
        }
        (_, "Unauthorized") => {
            "check the AccessKeyId and, for STS credentials, that the token has not expired"
        }
        (_, "InvalidAccessKeyId" | "SecurityTokenExpired" | "InvalidSecurityToken") => {
            "check the credentials"
        }
        (_, "InvalidHost") => "check the endpoint",
        (Some(401), _) => "check the credentials",
        (Some(403), code) if !is_throttling_code(code) => {
            "check that the credentials may call RetryShipperTask on this shipper"
        }
        _ => return None,
    })
}

/// Of the errors that stop a run, those that belong to one shipper (or its logstore): it is gone,
/// or the credentials may not touch it. A sweep gives up that shipper and goes on with the others.
pub fn is_the_shippers_own(outcome: &Outcome) -> bool {
    let code = outcome.error_code.as_deref().unwrap_or("");
    matches!(code, "ShipperNotExist" | "LogStoreNotExist")
        || (outcome.http_status == Some(403) && !is_throttling_code(code))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed(status: Option<u16>, code: Option<&str>) -> Outcome {
        Outcome {
            status: Status::Failed,
            http_status: status,
            error_code: code.map(str::to_string),
            error_message: None,
            request_id: None,
            attempts: 1,
            elapsed: Duration::ZERO,
            transport: None,
            accepted_at: None,
        }
    }

    #[test]
    fn transient_failures() {
        for (status, code) in [
            (500, None),
            (502, None),
            (503, Some("ServerBusy")),
            (504, None),
            (429, None),
            (403, Some("WriteQuotaExceed")),
            (403, Some("ReadQuotaExceed")),
            (403, Some("MetaOperationQpsLimitExceeded")),
        ] {
            assert!(
                is_transient(&failed(Some(status), code), false),
                "{status} {code:?}"
            );
        }
        for (status, code) in [
            (400, Some("ParameterInvalid")),
            (401, Some("SignatureNotMatch")),
            (403, Some("Unauthorized")),
            (404, Some("ProjectNotExist")),
            (400, Some("RequestTimeExpired")),
            (204, None),
        ] {
            assert!(
                !is_transient(&failed(Some(status), code), true),
                "{status} {code:?}"
            );
        }
        assert!(is_transient(&failed(None, None), true));
        assert!(
            !is_transient(&failed(None, None), false),
            "e.g. a TLS error"
        );
    }

    #[test]
    fn errors_that_stop_the_run_come_with_a_hint() {
        for (status, code, stops) in [
            (404, "ProjectNotExist", true),
            (404, "LogStoreNotExist", true),
            (400, "ShipperNotExist", true),
            (401, "SignatureNotMatch", true),
            (401, "Unauthorized", true),
            (401, "SomethingNew", true),
            (403, "Unauthorized", true),
            (400, "ParameterInvalid", false),
            (500, "InternalServerError", false),
            (403, "WriteQuotaExceed", false),
        ] {
            let hint = stops_the_run(&failed(Some(status), Some(code)));
            assert_eq!(hint.is_some(), stops, "{status} {code}");
        }
        assert!(
            stops_the_run(&failed(Some(401), Some("SignatureNotMatch")))
                .unwrap()
                .contains("proxy")
        );
        assert!(stops_the_run(&failed(None, None)).is_none());
    }

    #[test]
    fn full_jitter_exponential_backoff() {
        let p = Policy::new(4);
        assert_eq!(p.backoff(1, None, 0.0), Duration::ZERO);
        assert_eq!(p.backoff(1, None, 0.5), Duration::from_millis(100));
        assert_eq!(p.backoff(3, None, 0.5), Duration::from_millis(400));
        assert_eq!(
            p.backoff(30, None, 0.999_999),
            Duration::from_secs(10).mul_f64(0.999_999)
        );
        // Retry-After is a floor, bounded by a minute.
        assert_eq!(
            p.backoff(1, Some(Duration::from_secs(3)), 0.5),
            Duration::from_secs(3)
        );
        assert_eq!(
            p.backoff(1, Some(Duration::from_secs(3600)), 0.5),
            MAX_RETRY_AFTER
        );
    }

    #[test]
    fn both_names_of_a_refused_request_time_are_clock_skew() {
        for code in ["RequestTimeExpired", "RequestTimeTooSkewed"] {
            assert!(is_clock_skew(&failed(Some(400), Some(code))), "{code}");
        }
        assert!(!is_clock_skew(&failed(
            Some(400),
            Some("InvalidRequestTime")
        )));
        assert!(!is_clock_skew(&failed(
            Some(403),
            Some("RequestTimeTooSkewed")
        )));
    }

    #[test]
    fn retry_after_in_decimal_seconds_or_as_a_date_capped_at_a_minute() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_748_779_200);
        let secs = |s: f64| Some(Duration::from_secs_f64(s));
        for (value, want) in [
            ("7", secs(7.0)),
            (" 0 ", secs(0.0)),
            ("1.5", secs(1.5)),
            ("0.25", secs(0.25)),
            ("2.000000000001", secs(2.0)),
            ("007", secs(7.0)),
            ("60", secs(60.0)),
            ("61", secs(60.0)),
            ("3600", secs(60.0)),
            ("99999999999999999999", secs(60.0)),
            ("99999999999999999999.99999999999999", secs(60.0)),
        ] {
            assert_eq!(parse_retry_after(value, now), want, "{value:?}");
        }
        let soon = httpdate::fmt_http_date(now + Duration::from_secs(30));
        assert_eq!(parse_retry_after(&soon, now), secs(30.0));
        let late = httpdate::fmt_http_date(now + Duration::from_secs(3600));
        assert_eq!(parse_retry_after(&late, now), Some(MAX_RETRY_AFTER));
        let past = "Mon, 01 Jan 2001 00:00:00 GMT";
        assert_eq!(parse_retry_after(past, now), Some(Duration::ZERO));
        for ignored in [
            "",
            " ",
            "-1",
            "+1",
            "-0.5",
            "1e3",
            "1E3",
            "1.",
            ".5",
            "1.5.2",
            "0x10",
            "inf",
            "NaN",
            "infinity",
            "soon",
            "1 2",
            "1,5",
            "\u{661}",
            "Fri, 31 Dec 10000 23:59:59 GMT",
        ] {
            assert_eq!(parse_retry_after(ignored, now), None, "{ignored:?}");
        }
    }
}
