//! `--wait`: after the batches are sent, follow the accepted tasks with GetShipperStatus (status
//! all, fully paged, over the narrowest window that holds them) every `--poll-interval`, until
//! none is undecided or `--wait-timeout` runs out; the last poll is at the deadline. In a sweep
//! each shipper's tasks are a group, listed in turn. What each task earns is `tracker`'s to
//! judge; this phase polls, waits, gives up a group whose shipper is gone, and ends early on a
//! signal or on a listing error that every poll would meet.

pub mod tracker;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Result, bail};

use crate::interrupt::Interrupt;
use crate::listing::Listing;
use crate::outcome::Outcome;
use crate::policy;
use crate::window::{MAX_AGE, Window};
pub use tracker::{Counts, Followed, Tracker, Verdict};

/// `--wait-timeout` when not given.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30 * 60);
/// `--poll-interval` when not given, and its floor: a listing of a busy shipper is not free.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(30);
pub const MIN_POLL_INTERVAL: Duration = Duration::from_secs(5);

/// A listing's start is kept this far inside the 48 hours the service serves, so that it is still
/// inside when the request arrives.
const WINDOW_MARGIN_SECS: u64 = 60;

/// How long to wait, and how often to look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    pub timeout: Duration,
    pub poll_interval: Duration,
}

impl Settings {
    /// From `--wait-timeout` and `--poll-interval` as given.
    pub fn parse(timeout: Option<&str>, poll_interval: Option<&str>) -> Result<Settings> {
        let duration = |text: &str, flag: &str| {
            humantime::parse_duration(text.trim()).map_err(|e| {
                anyhow::anyhow!(
                    "invalid {flag} \"{}\": {e}; use e.g. 30s, 10m or 2h",
                    crate::untrusted::escape(text)
                )
            })
        };
        let timeout = match timeout {
            Some(text) => duration(text, "--wait-timeout")?,
            None => DEFAULT_TIMEOUT,
        };
        if timeout.is_zero() || timeout > MAX_AGE {
            bail!(
                "--wait-timeout must be longer than 0 and at most 48h (SLS keeps task status 48 hours)"
            );
        }
        let poll_interval = match poll_interval {
            Some(text) => duration(text, "--poll-interval")?,
            None => DEFAULT_POLL_INTERVAL,
        };
        if poll_interval < MIN_POLL_INTERVAL {
            bail!("--poll-interval must be at least 5s: each poll lists the shipper's tasks");
        }
        Ok(Settings {
            timeout,
            poll_interval,
        })
    }
}

/// What one poll brought.
pub enum Poll {
    Listed(Listing),
    /// The listing failed, after its own retries.
    Failed(Outcome),
    /// A signal came while it ran.
    Interrupted,
}

/// How the wait went, for each group of tasks (a shipper's, in a sweep).
pub struct Waited<K> {
    pub groups: Vec<(K, Vec<Followed>)>,
    pub counts: Counts,
    pub elapsed: Duration,
    /// The wait ended before its time because listing failed in a way every poll would: why.
    pub ended_early: Option<String>,
}

/// A group of followed tasks and whether it is still followed.
struct Group<K> {
    key: K,
    tracker: Tracker,
    /// Its listing failed in a way of its own (the shipper is gone): no longer polled.
    given_up: bool,
}

/// Follow each group's tasks: `poll(key, window)` lists a group's tasks, `seen(counts)` hears of
/// each round of listings (for a progress line), `warn` of a listing that failed but may work
/// next time, or of a group given up.
pub fn follow<K: std::fmt::Display>(
    groups: Vec<(K, Tracker)>,
    settings: Settings,
    interrupt: &Interrupt,
    mut poll: impl FnMut(&K, Window) -> Poll,
    mut seen: impl FnMut(Counts),
    mut warn: impl FnMut(String),
) -> Waited<K> {
    let started = Instant::now();
    let deadline = started + settings.timeout;
    let mut groups: Vec<Group<K>> = (groups.into_iter())
        .map(|(key, tracker)| Group {
            key,
            tracker,
            given_up: false,
        })
        .collect();
    let followed = |g: &Group<K>| !g.given_up && g.tracker.counts().pending > 0;
    let mut ended_early = None;
    'polls: while interrupt.signal().is_none() && groups.iter().any(followed) {
        for group in groups.iter_mut().filter(|g| followed(g)) {
            let now = unix_now();
            match poll(&group.key, group.tracker.window(now, WINDOW_MARGIN_SECS)) {
                Poll::Listed(listing) => group.tracker.observe(&listing, now),
                Poll::Interrupted => break 'polls,
                Poll::Failed(outcome) if policy::is_the_shippers_own(&outcome) => {
                    group.given_up = true;
                    warn(format!(
                        "listing the tasks of {} failed: {}; its tasks are no longer followed",
                        group.key,
                        outcome.describe()
                    ));
                }
                Poll::Failed(outcome) if policy::stops_the_run(&outcome).is_some() => {
                    ended_early = Some(outcome.describe());
                    break 'polls;
                }
                Poll::Failed(outcome) => warn(format!(
                    "listing the tasks of {} failed: {}; trying again at the next poll",
                    group.key,
                    outcome.describe()
                )),
            }
        }
        seen(total(&groups));
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || !groups.iter().any(followed) {
            break;
        }
        if !interrupt.sleep(settings.poll_interval.min(left)) {
            break;
        }
    }
    Waited {
        counts: total(&groups),
        groups: (groups.into_iter())
            .map(|g| (g.key, g.tracker.into_tasks()))
            .collect(),
        elapsed: started.elapsed(),
        ended_early,
    }
}

/// The counts of every group together.
fn total<K>(groups: &[Group<K>]) -> Counts {
    groups.iter().fold(Counts::default(), |sum, g| {
        let c = g.tracker.counts();
        Counts {
            shipped: sum.shipped + c.shipped,
            failed: sum.failed + c.failed,
            pending: sum.pending + c.pending,
        }
    })
}

fn unix_now() -> u64 {
    (SystemTime::now().duration_since(UNIX_EPOCH)).map_or(0, |d| d.as_secs())
}

/// `4m12s`, `1h0m5s`, `7s`: how long a wait took, for its summary line.
pub fn short_duration(d: Duration) -> String {
    let secs = d.as_secs();
    match (secs / 3600, secs % 3600 / 60, secs % 60) {
        (0, 0, s) => format!("{s}s"),
        (0, m, s) => format!("{m}m{s}s"),
        (h, m, s) => format!("{h}h{m}m{s}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_have_their_defaults_and_bounds() {
        let s = Settings::parse(None, None).unwrap();
        assert_eq!(
            (s.timeout, s.poll_interval),
            (DEFAULT_TIMEOUT, DEFAULT_POLL_INTERVAL)
        );
        let s = Settings::parse(Some("2h"), Some("5s")).unwrap();
        assert_eq!(s.timeout, Duration::from_secs(7200));
        for (timeout, poll, says) in [
            (
                Some("0s"),
                None,
                "--wait-timeout must be longer than 0 and at most 48h",
            ),
            (
                Some("49h"),
                None,
                "--wait-timeout must be longer than 0 and at most 48h",
            ),
            (Some("soon"), None, "invalid --wait-timeout \"soon\""),
            (None, Some("4s"), "--poll-interval must be at least 5s"),
            (None, Some("500ms"), "--poll-interval must be at least 5s"),
            (
                None,
                Some("\u{1b}[1m"),
                "invalid --poll-interval \"\\u{1b}[1m\"",
            ),
        ] {
            let err = Settings::parse(timeout, poll).unwrap_err().to_string();
            assert!(err.starts_with(says), "{err}");
        }
    }

    #[test]
    fn durations_read_as_a_person_writes_them() {
        for (secs, shown) in [(0, "0s"), (7, "7s"), (252, "4m12s"), (3605, "1h0m5s")] {
            assert_eq!(short_duration(Duration::from_secs(secs)), shown);
        }
    }
}
