//! The clock requests are signed with: the local clock, corrected by what a server's `Date` showed
//! when it refused a request time, and always a time the signers can write.
//!
//! Pure: the local time is a parameter. Both signatures write four-digit years (an HTTP date for
//! v1, `yyyymmddTHHMMSSZ` for v4) and their formatters panic before 1970 or past 9999, so no time
//! outside that range may reach them, whatever a server's `Date` said.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// 9999-12-31T23:59:59Z, the last second a signature can carry.
const LAST_SIGNABLE_SECS: u64 = 253_402_300_799;

/// A corrected clock must stay signable for the rest of the run (`--wait` alone may last 48 h), so
/// a server time closer than this to the last signable second is not taken.
const RUN_ALLOWANCE: Duration = Duration::from_secs(7 * 24 * 3600);

/// What a server's `Date` says about the clock requests are signed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reading {
    /// No `Date`, or one that is not an HTTP date.
    Missing,
    /// An HTTP date the clock cannot be set to: signing with it would leave what a signature
    /// can carry.
    Unusable,
    /// The server's clock agrees with the signing clock (within the `Date`'s one-second
    /// resolution): a refused request time is not a skew a correction would fix.
    Agrees,
    /// The offset, in seconds, to add to the local clock to sign with the server's time.
    Offset(i64),
}

/// Read the server's `Date` against the local time `local`, for a request that was signed with
/// the offset `offset`.
pub fn read_date(date: Option<&str>, local: SystemTime, offset: i64) -> Reading {
    let Some(server) = date.and_then(|d| httpdate::parse_http_date(d.trim()).ok()) else {
        return Reading::Missing;
    };
    if !signable(server.checked_add(RUN_ALLOWANCE)) {
        return Reading::Unusable;
    }
    let Some(new) = seconds_between(local, server) else {
        return Reading::Unusable;
    };
    if new.abs_diff(offset) <= 1 {
        Reading::Agrees
    } else if signable(shift(local, new)) {
        Reading::Offset(new)
    } else {
        Reading::Unusable
    }
}

/// The time to sign with: `local` moved by `offset` seconds. When that is not signable (a clock
/// run past the end of year 9999, an offset from another era), the local clock, itself brought
/// within range, so the signers never see a time they cannot write; the server then refuses the
/// request time, which the report shows.
pub fn signing_time(local: SystemTime, offset: i64) -> SystemTime {
    match shift(local, offset) {
        Some(time) if signable(Some(time)) => time,
        _ => clamp(local),
    }
}

/// Whole seconds from `from` to `to`, rounded toward zero; `None` if that does not fit.
fn seconds_between(from: SystemTime, to: SystemTime) -> Option<i64> {
    match to.duration_since(from) {
        Ok(ahead) => i64::try_from(ahead.as_secs()).ok(),
        Err(behind) => i64::try_from(behind.duration().as_secs()).ok().map(|s| -s),
    }
}

fn shift(time: SystemTime, offset: i64) -> Option<SystemTime> {
    let by = Duration::from_secs(offset.unsigned_abs());
    if offset >= 0 {
        time.checked_add(by)
    } else {
        time.checked_sub(by)
    }
}

fn last_signable() -> SystemTime {
    // 10000 years of seconds fit every platform's SystemTime.
    UNIX_EPOCH + Duration::from_secs(LAST_SIGNABLE_SECS)
}

fn signable(time: Option<SystemTime>) -> bool {
    time.is_some_and(|t| t >= UNIX_EPOCH && t < last_signable() + Duration::from_secs(1))
}

fn clamp(time: SystemTime) -> SystemTime {
    time.clamp(UNIX_EPOCH, last_signable())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    /// 2025-06-01T12:00:00Z
    const NOW: u64 = 1_748_779_200;

    #[test]
    fn a_date_ahead_or_behind_gives_the_offset() {
        let local = at(NOW);
        let ahead = httpdate::fmt_http_date(at(NOW + 3600));
        assert_eq!(read_date(Some(&ahead), local, 0), Reading::Offset(3600));
        let behind = httpdate::fmt_http_date(at(NOW - 7200));
        assert_eq!(read_date(Some(&behind), local, 0), Reading::Offset(-7200));
        // Against an offset already in use, the new one replaces it.
        assert_eq!(read_date(Some(&ahead), local, -7200), Reading::Offset(3600));
    }

    #[test]
    fn a_date_that_agrees_within_a_second_is_no_skew() {
        let local = at(NOW) + Duration::from_millis(999);
        for date in [at(NOW), at(NOW + 1), at(NOW - 1)] {
            let date = httpdate::fmt_http_date(date);
            assert_eq!(read_date(Some(&date), local, 0), Reading::Agrees, "{date}");
        }
        let corrected = httpdate::fmt_http_date(at(NOW + 3600));
        assert_eq!(read_date(Some(&corrected), local, 3600), Reading::Agrees);
    }

    #[test]
    fn missing_garbage_and_far_dates_are_not_taken() {
        let local = at(NOW);
        assert_eq!(read_date(None, local, 0), Reading::Missing);
        for garbage in [
            "",
            "yesterday",
            "Fri, 31 Dec 10000 23:59:59 GMT",
            "-1",
            "\u{1b}[2J",
        ] {
            assert_eq!(
                read_date(Some(garbage), local, 0),
                Reading::Missing,
                "{garbage:?}"
            );
        }
        for far in [
            "Fri, 31 Dec 9999 23:59:59 GMT",
            "Sat, 25 Dec 9999 00:00:00 GMT",
        ] {
            assert_eq!(read_date(Some(far), local, 0), Reading::Unusable, "{far}");
        }
        assert!(matches!(
            read_date(Some("Thu, 01 Jan 1970 00:00:00 GMT"), local, 0),
            Reading::Offset(o) if o == -(NOW as i64)
        ));
    }

    #[test]
    fn the_signing_time_is_always_signable() {
        let last = at(LAST_SIGNABLE_SECS);
        assert_eq!(signing_time(at(NOW), 60), at(NOW + 60));
        assert_eq!(signing_time(at(NOW), i64::MAX), at(NOW));
        assert_eq!(signing_time(at(NOW), i64::MIN), at(NOW));
        assert_eq!(signing_time(last, 1), last);
        assert_eq!(signing_time(at(LAST_SIGNABLE_SECS + 86_400), 0), last);
        assert_eq!(signing_time(UNIX_EPOCH, -1), UNIX_EPOCH);
        assert_eq!(
            signing_time(UNIX_EPOCH - Duration::from_secs(5), 0),
            UNIX_EPOCH
        );
        for t in [last, UNIX_EPOCH, last + Duration::from_millis(999)] {
            let t = signing_time(t, 0);
            let _ = httpdate::fmt_http_date(t);
            let _ = humantime::format_rfc3339_seconds(t).to_string();
        }
    }
}
