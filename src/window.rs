//! The time window of a task listing: `--since`, `--from`/`--to`, and the 48-hour limit of
//! GetShipperStatus (it serves only the last 48 hours). Pure: `now` is passed in.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Result, bail};

/// SLS keeps shipper task status for this long; older windows are refused.
pub const MAX_AGE: Duration = Duration::from_secs(48 * 3600);

/// The default window starts this much later than 48 hours ago, so it is still inside the limit
/// when it reaches the server a moment later.
const MARGIN: Duration = Duration::from_secs(60);

/// `[from, to)` in unix seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub from: u64,
    pub to: u64,
}

impl Window {
    /// From `--since`, `--from` and `--to` as given (none: the whole 48 hours).
    pub fn resolve(
        since: Option<&str>,
        from: Option<&str>,
        to: Option<&str>,
        now: SystemTime,
    ) -> Result<Window> {
        let now_secs = unix(now);
        let oldest = now_secs.saturating_sub(MAX_AGE.as_secs());
        let window = match (since, from) {
            (Some(since), _) => {
                let span = humantime::parse_duration(since.trim()).map_err(|e| {
                    anyhow::anyhow!(
                        "invalid --since \"{}\": {e}; use e.g. 30m, 6h or 2d",
                        crate::untrusted::escape(since)
                    )
                })?;
                if span > MAX_AGE {
                    bail!(
                        "--since {since} reaches past the 48 hours SLS keeps task status; use at most 48h"
                    );
                }
                if span.is_zero() {
                    bail!("--since must be longer than 0");
                }
                let span = span.min(MAX_AGE - MARGIN);
                Window {
                    from: now_secs - span.as_secs(),
                    to: now_secs,
                }
            }
            (None, Some(from)) => {
                let from_secs = parse_time(from, "--from")?;
                let to_secs = match to {
                    Some(to) => parse_time(to, "--to")?,
                    None => now_secs,
                };
                if from_secs < oldest {
                    bail!(
                        "--from {from} is more than 48 hours ago; SLS keeps task status for 48 hours, \
                         so start at {} or later",
                        humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(oldest))
                    );
                }
                if from_secs >= to_secs {
                    bail!("--from must be earlier than --to");
                }
                Window {
                    from: from_secs,
                    to: to_secs,
                }
            }
            (None, None) if to.is_some() => bail!("--to needs --from"),
            (None, None) => Window {
                from: oldest + MARGIN.as_secs(),
                to: now_secs,
            },
        };
        Ok(window)
    }

    /// `2026-11-27T10:00:00Z to 2026-11-27T12:00:00Z`, for the report.
    pub fn describe(&self) -> String {
        let t = |s: u64| humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(s));
        format!("{} to {}", t(self.from), t(self.to))
    }
}

fn unix(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Unix seconds, or RFC 3339 (`2026-11-27T10:00:00Z`, `2026-11-27T18:00:00+08:00`).
pub fn parse_time(text: &str, flag: &str) -> Result<u64> {
    let text = text.trim();
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return text
            .parse()
            .map_err(|_| anyhow::anyhow!("invalid {flag} \"{text}\": too large"));
    }
    let bad = || {
        anyhow::anyhow!(
            "invalid {flag} \"{}\": use unix seconds or RFC 3339, e.g. 2026-11-27T10:00:00Z or \
             2026-11-27T18:00:00+08:00",
            crate::untrusted::escape(text)
        )
    };
    // humantime reads UTC ("Z") only; an explicit offset is applied here.
    let split = text
        .len()
        .checked_sub(6)
        .filter(|&i| text.is_char_boundary(i))
        .map(|i| text.split_at(i));
    let (utc_text, offset_secs) = match split {
        Some((head, tail))
            if (tail.starts_with('+') || tail.starts_with('-')) && tail.as_bytes()[3] == b':' =>
        {
            let hours: i64 = tail[1..3].parse().map_err(|_| bad())?;
            let minutes: i64 = tail[4..6].parse().map_err(|_| bad())?;
            let sign = if tail.starts_with('-') { -1 } else { 1 };
            (format!("{head}Z"), sign * (hours * 3600 + minutes * 60))
        }
        _ => (text.to_string(), 0),
    };
    let utc = humantime::parse_rfc3339(&utc_text).map_err(|_| bad())?;
    let secs = unix(utc) as i64 - offset_secs;
    u64::try_from(secs).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_795_000_000;

    fn now() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(NOW)
    }

    fn window(since: Option<&str>, from: Option<&str>, to: Option<&str>) -> Result<Window> {
        Window::resolve(since, from, to, now())
    }

    #[test]
    fn since_durations() {
        assert_eq!(
            window(Some("30m"), None, None).unwrap(),
            Window {
                from: NOW - 1800,
                to: NOW
            }
        );
        assert_eq!(window(Some("6h"), None, None).unwrap().from, NOW - 6 * 3600);
        assert_eq!(window(Some("1h 30m"), None, None).unwrap().from, NOW - 5400);
        // 2d is the whole 48 hours: kept a minute inside the limit.
        assert_eq!(
            window(Some("2d"), None, None).unwrap().from,
            NOW - 48 * 3600 + 60
        );
        let err = window(Some("3d"), None, None).unwrap_err().to_string();
        assert!(err.contains("reaches past the 48 hours"), "{err}");
        assert!(
            window(Some("soon"), None, None)
                .unwrap_err()
                .to_string()
                .contains("use e.g. 30m")
        );
    }

    #[test]
    fn default_is_the_whole_48_hours() {
        assert_eq!(
            window(None, None, None).unwrap(),
            Window {
                from: NOW - 48 * 3600 + 60,
                to: NOW
            }
        );
    }

    #[test]
    fn from_and_to_in_unix_seconds_or_rfc3339() {
        let w = window(Some("1h"), None, None).unwrap();
        assert_eq!(
            window(
                None,
                Some(&(NOW - 3600).to_string()),
                Some(&NOW.to_string())
            )
            .unwrap(),
            w
        );
        assert_eq!(
            parse_time("2026-11-27T10:00:00Z", "--from").unwrap(),
            1_795_773_600
        );
        assert_eq!(
            parse_time("2026-11-27T18:00:00+08:00", "--from").unwrap(),
            1_795_773_600
        );
        assert_eq!(
            parse_time("2026-11-27T05:00:00-05:00", "--from").unwrap(),
            1_795_773_600
        );
        assert!(
            parse_time("yesterday", "--from")
                .unwrap_err()
                .to_string()
                .contains("RFC 3339")
        );
        // --to defaults to now.
        assert_eq!(
            window(None, Some(&(NOW - 60).to_string()), None)
                .unwrap()
                .to,
            NOW
        );
    }

    #[test]
    fn windows_the_service_would_refuse_are_errors_up_front() {
        let old = (NOW - 49 * 3600).to_string();
        let err = window(None, Some(&old), None).unwrap_err().to_string();
        assert!(err.contains("more than 48 hours ago"), "{err}");
        let err = window(None, Some(&NOW.to_string()), Some(&(NOW - 10).to_string()))
            .unwrap_err()
            .to_string();
        assert!(err.contains("earlier than --to"), "{err}");
        assert!(
            window(None, None, Some("1"))
                .unwrap_err()
                .to_string()
                .contains("--to needs --from")
        );
    }
}
