//! The credentials of a run, kept fresh: a `Provider` is asked for them once up front, and again
//! whenever temporary ones come within `REFRESH_MARGIN` of their expiration, so a long run (a big
//! retry, `--wait`) never signs a request with credentials that have expired. One worker refreshes
//! while the others go on signing with the old credentials as long as those still work; every
//! worker sees the new ones as soon as they are in.

use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime};

use super::Credentials;
use crate::diag::Diag;

/// Temporary credentials are refreshed at least this long before they expire.
pub const REFRESH_MARGIN: Duration = Duration::from_secs(3 * 60);

/// After a refresh failed while the credentials still worked, the next try waits this long.
const RETRY_REFRESH: Duration = Duration::from_secs(30);

/// Credentials, and when they stop working (`None`: they do not expire).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Issued {
    pub credentials: Credentials,
    pub expires: Option<SystemTime>,
}

impl Issued {
    /// Credentials that do not expire (an AccessKey pair, a static STS token).
    pub fn lasting(credentials: Credentials) -> Issued {
        Issued {
            credentials,
            expires: None,
        }
    }
}

/// A place that hands out credentials, asked again when temporary ones are about to expire.
/// Errors say what went wrong in one line (with the service's code, message and request id where
/// there is one) and never hold a secret. A provider that can block (a command, a request) ends
/// within a moment of SIGINT/SIGTERM with an `Interrupted` error.
pub trait Provider: Send + Sync {
    fn fetch(&self) -> anyhow::Result<Issued>;
}

/// Credentials that are what they are: an AccessKey pair, a static STS token.
pub struct Fixed(pub Issued);

impl Provider for Fixed {
    fn fetch(&self) -> anyhow::Result<Issued> {
        Ok(self.0.clone())
    }
}

/// An `Expiration` as the credential services write it (`2026-11-29T10:00:00Z`).
pub fn expiration(text: &str) -> Option<SystemTime> {
    humantime::parse_rfc3339_weak(text.trim()).ok()
}

/// The run's credentials and where they came from.
pub struct Keyring {
    provider: Arc<dyn Provider>,
    /// Where the credentials came from, for `-v`: never a secret.
    source: String,
    current: RwLock<Issued>,
    /// Held by the one worker refreshing; when the last refresh failed, when to try again.
    refresh: Mutex<Option<Instant>>,
    diag: Diag,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring")
            .field("source", &self.source)
            .field("current", &self.current())
            .finish()
    }
}

impl Keyring {
    /// Ask `provider` for the first credentials.
    pub fn open(
        provider: Arc<dyn Provider>,
        source: String,
        diag: Diag,
    ) -> anyhow::Result<Keyring> {
        let first = provider.fetch()?;
        Ok(Keyring {
            provider,
            source,
            current: RwLock::new(first),
            refresh: Mutex::new(None),
            diag,
        })
    }

    /// Credentials that do not expire, with nothing to ask again.
    pub fn lasting(credentials: Credentials, source: String) -> Keyring {
        let issued = Issued::lasting(credentials);
        Keyring {
            provider: Arc::new(Fixed(issued.clone())),
            source,
            current: RwLock::new(issued),
            refresh: Mutex::new(None),
            diag: Diag::new(0),
        }
    }

    /// Where the credentials came from (for roles, the role ARN and session), never a secret.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The credentials to sign with at `now` (the signing clock), refreshed first when they are
    /// due. `Err` says why there are none that still work.
    pub fn credentials(&self, now: SystemTime) -> Result<Credentials, String> {
        let current = self.current();
        let Some(expires) = current.expires else {
            return Ok(current.credentials);
        };
        if now + REFRESH_MARGIN < expires {
            return Ok(current.credentials);
        }
        let still_work = now < expires;
        let mut retry_at = match self.refresh.try_lock() {
            Ok(guard) => guard,
            // Another worker refreshes: sign with these while they work, else wait for it.
            Err(_) if still_work => return Ok(current.credentials),
            Err(_) => self.refresh.lock().unwrap_or_else(|p| p.into_inner()),
        };
        // Refreshed by another worker meanwhile?
        let latest = self.current();
        if latest != current && latest.expires.is_none_or(|e| now + REFRESH_MARGIN < e) {
            return Ok(latest.credentials);
        }
        if still_work && retry_at.is_some_and(|at| Instant::now() < at) {
            return Ok(current.credentials);
        }
        match self.provider.fetch() {
            Ok(fresh) => {
                *retry_at = None;
                let credentials = fresh.credentials.clone();
                *self.current.write().unwrap_or_else(|p| p.into_inner()) = fresh;
                self.diag
                    .info(|| format!("credentials refreshed from {}", self.source));
                Ok(credentials)
            }
            Err(err) if still_work => {
                *retry_at = Some(Instant::now() + RETRY_REFRESH);
                self.diag.warn(&format!(
                    "cannot refresh the credentials from {} ({err:#}); signing with the current \
                     ones until they expire",
                    self.source
                ));
                Ok(current.credentials)
            }
            Err(err) => Err(format!(
                "the credentials from {} expired and cannot be refreshed: {err:#}",
                self.source
            )),
        }
    }

    /// The credentials now, without asking for new ones: for saying who signs.
    pub fn current_credentials(&self) -> Credentials {
        self.current().credentials
    }

    fn current(&self) -> Issued {
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::Secret;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Hands out `key-1`, `key-2`, ... each valid for `life` from the moment asked; fails when
    /// `failing` is set.
    struct Counter {
        asked: AtomicUsize,
        life: Duration,
        failing: std::sync::atomic::AtomicBool,
    }

    impl Provider for Counter {
        fn fetch(&self) -> anyhow::Result<Issued> {
            if self.failing.load(Ordering::SeqCst) {
                anyhow::bail!("STS said no (request 42)");
            }
            let n = self.asked.fetch_add(1, Ordering::SeqCst) + 1;
            Ok(Issued {
                credentials: Credentials {
                    access_key_id: format!("key-{n}"),
                    access_key_secret: Secret::new("s"),
                    security_token: Some(Secret::new("t")),
                },
                expires: Some(SystemTime::now() + self.life),
            })
        }
    }

    fn keyring(life: Duration) -> (Keyring, Arc<Counter>) {
        let counter = Arc::new(Counter {
            asked: AtomicUsize::new(0),
            life,
            failing: Default::default(),
        });
        let provider: Arc<dyn Provider> = counter.clone();
        let keyring = Keyring::open(provider, "test".into(), Diag::new(0));
        (keyring.unwrap(), counter)
    }

    fn key(keyring: &Keyring, at: SystemTime) -> Result<String, String> {
        keyring.credentials(at).map(|c| c.access_key_id)
    }

    #[test]
    fn credentials_far_from_expiry_are_not_asked_for_again() {
        let (keyring, counter) = keyring(Duration::from_secs(3600));
        let now = SystemTime::now();
        assert_eq!(key(&keyring, now).unwrap(), "key-1");
        assert_eq!(
            key(&keyring, now + Duration::from_secs(3000)).unwrap(),
            "key-1"
        );
        assert_eq!(counter.asked.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn within_three_minutes_of_expiry_they_are_refreshed() {
        let (keyring, counter) = keyring(Duration::from_secs(3600));
        let due = SystemTime::now() + Duration::from_secs(3600) - REFRESH_MARGIN;
        assert_eq!(key(&keyring, due).unwrap(), "key-2");
        assert_eq!(key(&keyring, due).unwrap(), "key-2", "the new ones last");
        assert_eq!(counter.asked.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn a_failed_refresh_keeps_working_credentials_and_fails_only_once_they_expire() {
        let (keyring, counter) = keyring(Duration::from_secs(3600));
        counter.failing.store(true, Ordering::SeqCst);
        let due = SystemTime::now() + Duration::from_secs(3500);
        assert_eq!(key(&keyring, due).unwrap(), "key-1", "still good for 100 s");
        let expired = SystemTime::now() + Duration::from_secs(3601);
        let err = key(&keyring, expired).unwrap_err();
        assert!(
            err.contains("expired and cannot be refreshed: STS said no (request 42)"),
            "{err}"
        );
        counter.failing.store(false, Ordering::SeqCst);
        assert_eq!(key(&keyring, expired).unwrap(), "key-2");
    }

    #[test]
    fn expirations_as_the_services_write_them() {
        let at = expiration("2026-11-29T10:00:00Z").unwrap();
        let secs = at.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs();
        assert_eq!(secs, 1_795_946_400);
        assert_eq!(expiration("soon"), None);
    }

    #[test]
    fn lasting_credentials_never_expire() {
        let creds = Credentials {
            access_key_id: "LTAI".into(),
            access_key_secret: Secret::new("s"),
            security_token: None,
        };
        let keyring = Keyring::lasting(creds, "env".into());
        let far = SystemTime::now() + Duration::from_secs(10 * 365 * 86400);
        assert_eq!(key(&keyring, far).unwrap(), "LTAI");
    }
}
