//! Name lookups for the run's HTTP agent: each `host:port` is looked up once and its addresses
//! kept, so that a request on a kept-alive connection neither looks the name up again nor starts
//! a thread.
//!
//! ureq asks its resolver for the addresses of every request, before it looks for a pooled
//! connection, and its own resolver runs each lookup on a new thread whenever a timeout is set
//! (always, here): one thread and one DNS query per batch. Only the first lookup of a name needs
//! that thread, to honour `--timeout` if the lookup hangs; later ones are answered from memory.
//!
//! What is kept: successful lookups only. A failed lookup is not remembered, so the next attempt
//! looks again; and the client forgets everything once a request gets no answer (`forget`), so a
//! host that moved is found again on the retry instead of the run dialling a dead address.
//! Workers that need a name another worker is looking up wait for that lookup (each within its
//! own request's time) instead of starting their own: one lookup per name, however many `--jobs`.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Instant;

use ureq::config::Config;
use ureq::http::Uri;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::NextTimeout;

use crate::diag::Diag;

/// A resolver that remembers what `lookup` found, per `host:port`, for the rest of the run.
/// Clones share what is remembered: the client keeps one to `forget`, the agent another.
pub struct CachingResolver<R = DefaultResolver> {
    shared: Arc<Shared<R>>,
}

struct Shared<R> {
    lookup: R,
    /// By `host:port` (default ports spelt out). One agent has one IP family setting, so the
    /// family need not be part of the key.
    known: Mutex<HashMap<String, Entry>>,
    /// Notified whenever a lookup ends or everything is forgotten.
    settled: Condvar,
    diag: Diag,
}

enum Entry {
    Found(Arc<ResolvedSocketAddrs>),
    /// A worker is looking the name up.
    Pending,
}

/// What a request does about its name.
enum Turn {
    Known(Arc<ResolvedSocketAddrs>),
    /// Nobody has the addresses nor is looking for them: this request looks, with what is left
    /// of its time.
    LookUp(NextTimeout),
}

impl CachingResolver {
    /// ureq's own lookup (the system resolver, on a thread bounded by the request's timeout),
    /// each lookup told at `-v`.
    pub fn new(diag: Diag) -> CachingResolver {
        CachingResolver::with_lookup(DefaultResolver::default(), diag)
    }
}

impl<R> CachingResolver<R> {
    /// Remember what `lookup` finds.
    pub fn with_lookup(lookup: R, diag: Diag) -> CachingResolver<R> {
        CachingResolver {
            shared: Arc::new(Shared {
                lookup,
                known: Mutex::new(HashMap::new()),
                settled: Condvar::new(),
                diag,
            }),
        }
    }

    /// Drop every remembered address: the next request looks its name up again.
    pub fn forget(&self) {
        self.known().clear();
        // A worker waiting on a lookup now forgotten looks for itself.
        self.shared.settled.notify_all();
    }

    fn known(&self) -> MutexGuard<'_, HashMap<String, Entry>> {
        // The map stays whole whatever panicked while holding it.
        (self.shared.known.lock()).unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The addresses of `key` if known; else wait while another worker looks it up, and take
    /// the turn to look when nobody is. `Err` when `timeout` runs out first.
    fn turn(&self, key: &str, timeout: NextTimeout) -> Result<Turn, ureq::Error> {
        // `None`: no timeout, or one too far off to matter.
        let deadline = (!timeout.after.is_not_happening())
            .then(|| Instant::now().checked_add(*timeout.after))
            .flatten();
        let left = || deadline.map(|d| d.saturating_duration_since(Instant::now()));
        let mut known = self.known();
        loop {
            match known.get(key) {
                Some(Entry::Found(addrs)) => return Ok(Turn::Known(Arc::clone(addrs))),
                None => {
                    known.insert(key.to_string(), Entry::Pending);
                    let after = left().map_or(timeout.after, Into::into);
                    return Ok(Turn::LookUp(NextTimeout { after, ..timeout }));
                }
                Some(Entry::Pending) => {
                    let settled = &self.shared.settled;
                    known = match left() {
                        Some(left) if left.is_zero() => {
                            return Err(ureq::Error::Timeout(timeout.reason));
                        }
                        Some(left) => (settled.wait_timeout(known, left))
                            .map(|(known, _)| known)
                            .unwrap_or_else(|poisoned| poisoned.into_inner().0),
                        None => settled.wait(known).unwrap_or_else(|p| p.into_inner()),
                    };
                }
            }
        }
    }
}

/// A lookup this request took its turn for: whatever becomes of it, even a panic, it is settled
/// when dropped, so that no request waits on it for ever.
struct Claim<'a, R> {
    resolver: &'a CachingResolver<R>,
    key: &'a str,
    found: Option<Arc<ResolvedSocketAddrs>>,
}

impl<R> Drop for Claim<'_, R> {
    fn drop(&mut self) {
        let mut known = self.resolver.known();
        match self.found.take() {
            Some(addrs) => known.insert(self.key.to_string(), Entry::Found(addrs)),
            // Failures are not kept: the next request looks again.
            None => known.remove(self.key),
        };
        drop(known);
        self.resolver.shared.settled.notify_all();
    }
}

impl<R> Clone for CachingResolver<R> {
    fn clone(&self) -> Self {
        CachingResolver {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<R> fmt::Debug for CachingResolver<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Without taking the lock: a `Debug` while it is held would never return.
        f.debug_struct("CachingResolver").finish_non_exhaustive()
    }
}

impl<R: Resolver> Resolver for CachingResolver<R> {
    fn resolve(
        &self,
        uri: &Uri,
        config: &Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        // Without a scheme and host there is nothing to key by; the lookup says what is wrong.
        let Some(key) = key(uri) else {
            return self.shared.lookup.resolve(uri, config, timeout);
        };
        let timeout = match self.turn(&key, timeout)? {
            Turn::Known(addrs) => return Ok((*addrs).clone()),
            Turn::LookUp(timeout) => timeout,
        };
        let mut claim = Claim {
            resolver: self,
            key: &key,
            found: None,
        };
        // Not under the lock: a lookup may take up to the timeout, and other hosts need not
        // wait for it.
        let addrs = self.shared.lookup.resolve(uri, config, timeout)?;
        claim.found = Some(Arc::new(addrs.clone()));
        drop(claim);
        self.shared.diag.info(|| {
            let found: Vec<String> = addrs.iter().map(ToString::to_string).collect();
            format!("looked up {key}: {} (kept for the run)", found.join(", "))
        });
        Ok(addrs)
    }
}

/// `host:port` of `uri`, the scheme's default port filled in.
fn key(uri: &Uri) -> Option<String> {
    DefaultResolver::host_and_port(uri.scheme()?, uri.authority()?)
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::mpsc::{self, Receiver, Sender};
    use std::thread::{self, JoinHandle};

    use super::*;

    /// Answers 127.0.0.<n> for the n-th lookup, failing those numbered in `fail` (panicking for
    /// those numbered in `panic`). With `hold`, the first lookup says it started and then waits
    /// to be let go.
    #[derive(Debug, Default)]
    struct Counted {
        lookups: AtomicUsize,
        fail: Vec<usize>,
        panic: Vec<usize>,
        hold: Option<Hold>,
    }

    #[derive(Debug)]
    struct Hold {
        started: Mutex<Sender<()>>,
        go: Mutex<Receiver<()>>,
    }

    impl Resolver for Counted {
        fn resolve(
            &self,
            uri: &Uri,
            _: &Config,
            _: NextTimeout,
        ) -> Result<ResolvedSocketAddrs, ureq::Error> {
            let n = self.lookups.fetch_add(1, Ordering::SeqCst) + 1;
            if let Some(hold) = self.hold.as_ref().filter(|_| n == 1) {
                hold.started.lock().unwrap().send(()).unwrap();
                hold.go.lock().unwrap().recv().unwrap();
            }
            assert!(!self.panic.contains(&n), "lookup {n} panics");
            if self.fail.contains(&n) {
                return Err(ureq::Error::HostNotFound);
            }
            let mut addrs = self.empty();
            let port = key(uri).and_then(|k| k.rsplit(':').next()?.parse().ok());
            addrs.push(SocketAddr::from(([127, 0, 0, n as u8], port.unwrap_or(1))));
            Ok(addrs)
        }
    }

    fn cache(fail: &[usize]) -> CachingResolver<Counted> {
        let lookup = Counted {
            fail: fail.to_vec(),
            ..Counted::default()
        };
        CachingResolver::with_lookup(lookup, Diag::new(0))
    }

    /// A cache whose first lookup is under way, held until something is sent on the sender.
    fn cache_looking_up(
        uri: &'static str,
        fail: &[usize],
        panic: &[usize],
    ) -> (CachingResolver<Counted>, Sender<()>, JoinHandle<Answer>) {
        let (started, has_started) = mpsc::channel();
        let (go, wait) = mpsc::channel();
        let lookup = Counted {
            fail: fail.to_vec(),
            panic: panic.to_vec(),
            hold: Some(Hold {
                started: Mutex::new(started),
                go: Mutex::new(wait),
            }),
            ..Counted::default()
        };
        let cache = CachingResolver::with_lookup(lookup, Diag::new(0));
        let first = resolve_on_a_thread(&cache, uri);
        has_started.recv().unwrap();
        (cache, go, first)
    }

    /// The addresses a lookup gave, or its error.
    type Answer = Result<String, ureq::Error>;

    fn resolve_on_a_thread(
        cache: &CachingResolver<Counted>,
        uri: &'static str,
    ) -> JoinHandle<Answer> {
        let cache = cache.clone();
        thread::spawn(move || resolve(&cache, uri))
    }

    /// The address `cache` gives for `uri`, or the error.
    fn resolve(cache: &CachingResolver<Counted>, uri: &str) -> Answer {
        resolve_within(cache, uri, NextTimeout::default())
    }

    fn resolve_within(cache: &CachingResolver<Counted>, uri: &str, timeout: NextTimeout) -> Answer {
        let uri = uri.parse().unwrap();
        let addrs = cache.resolve(&uri, &Config::default(), timeout)?;
        Ok(addrs.iter().map(ToString::to_string).collect())
    }

    fn lookups(cache: &CachingResolver<Counted>) -> usize {
        cache.shared.lookup.lookups.load(Ordering::SeqCst)
    }

    #[test]
    fn a_host_and_port_is_looked_up_once() {
        let cache = cache(&[]);
        for path in ["/a", "/b?x=1", "/c"] {
            let uri = format!("https://p.cn-hangzhou.log.aliyuncs.com{path}");
            assert_eq!(resolve(&cache, &uri).unwrap(), "127.0.0.1:443");
        }
        assert_eq!(lookups(&cache), 1);
    }

    #[test]
    fn each_host_and_port_has_its_own_addresses() {
        let cache = cache(&[]);
        let uris = [
            "https://sls.example/a",
            "https://sts.example/",
            "http://sls.example/b",
            "https://sls.example:8443/",
            "https://sls.example:443/c",
        ];
        let found: Vec<String> = uris.iter().map(|u| resolve(&cache, u).unwrap()).collect();
        assert_eq!(
            found,
            [
                "127.0.0.1:443",
                "127.0.0.2:443",
                "127.0.0.3:80",
                "127.0.0.4:8443",
                "127.0.0.1:443",
            ]
        );
        assert_eq!(lookups(&cache), 4, "443 is https's default port");
    }

    #[test]
    fn a_request_waits_for_the_lookup_under_way_instead_of_starting_its_own() {
        let uri = "https://sls.example/";
        let (cache, go, first) = cache_looking_up(uri, &[], &[]);
        // Whether it comes while the lookup is held or after, it takes that lookup's answer.
        let second = resolve_on_a_thread(&cache, uri);
        // Its own time runs out while waiting: a timeout, as a hanging lookup of its own gives.
        let soon = NextTimeout {
            after: std::time::Duration::from_millis(20).into(),
            ..NextTimeout::default()
        };
        let err = resolve_within(&cache, uri, soon).unwrap_err();
        assert!(matches!(err, ureq::Error::Timeout(_)), "{err}");
        go.send(()).unwrap();
        assert_eq!(first.join().unwrap().unwrap(), "127.0.0.1:443");
        assert_eq!(second.join().unwrap().unwrap(), "127.0.0.1:443");
        assert_eq!(lookups(&cache), 1);
    }

    #[test]
    fn when_the_lookup_under_way_fails_or_panics_a_waiting_request_looks_for_itself() {
        let uri = "https://sls.example/";
        for (fail, panic) in [(&[1][..], &[][..]), (&[], &[1])] {
            let (cache, go, first) = cache_looking_up(uri, fail, panic);
            let second = resolve_on_a_thread(&cache, uri);
            go.send(()).unwrap();
            assert!(first.join().map_or(true, |answer| answer.is_err()));
            assert_eq!(second.join().unwrap().unwrap(), "127.0.0.2:443");
            assert_eq!(lookups(&cache), 2);
        }
    }

    #[test]
    fn a_failed_lookup_is_not_kept() {
        let cache = cache(&[1, 2]);
        let uri = "https://sls.example/";
        assert!(matches!(
            resolve(&cache, uri),
            Err(ureq::Error::HostNotFound)
        ));
        assert!(resolve(&cache, uri).is_err());
        assert_eq!(resolve(&cache, uri).unwrap(), "127.0.0.3:443");
        assert_eq!(resolve(&cache, uri).unwrap(), "127.0.0.3:443");
        assert_eq!(lookups(&cache), 3);
    }

    #[test]
    fn after_forget_every_host_is_looked_up_again() {
        let cache = cache(&[]);
        resolve(&cache, "https://sls.example/").unwrap();
        resolve(&cache, "https://sts.example/").unwrap();
        cache.clone().forget();
        assert_eq!(
            resolve(&cache, "https://sts.example/").unwrap(),
            "127.0.0.3:443"
        );
        assert_eq!(
            resolve(&cache, "https://sls.example/").unwrap(),
            "127.0.0.4:443"
        );
        assert_eq!(lookups(&cache), 4);
    }

    #[test]
    fn a_uri_without_a_host_goes_to_the_lookup_to_be_refused() {
        let cache = CachingResolver::new(Diag::new(0));
        let uri = "/no/host".parse().unwrap();
        let err = (cache.resolve(&uri, &Config::default(), NextTimeout::default())).unwrap_err();
        assert!(matches!(err, ureq::Error::BadUri(_)), "{err}");
    }
}
