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

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

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
    known: Mutex<HashMap<String, ResolvedSocketAddrs>>,
    diag: Diag,
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
                diag,
            }),
        }
    }

    /// Drop every remembered address: the next request looks its name up again.
    pub fn forget(&self) {
        self.known().clear();
    }

    fn known(&self) -> MutexGuard<'_, HashMap<String, ResolvedSocketAddrs>> {
        // The map stays whole whatever panicked while holding it.
        (self.shared.known.lock()).unwrap_or_else(|poisoned| poisoned.into_inner())
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
        if let Some(addrs) = self.known().get(&key) {
            return Ok(addrs.clone());
        }
        // Not under the lock: a lookup may take up to the timeout, and other hosts need not
        // wait for it. Workers starting together may each look the same name up once.
        let addrs = self.shared.lookup.resolve(uri, config, timeout)?;
        self.shared.diag.info(|| {
            let found: Vec<String> = addrs.iter().map(ToString::to_string).collect();
            format!("looked up {key}: {} (kept for the run)", found.join(", "))
        });
        self.known().insert(key, addrs.clone());
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

    use super::*;

    /// Answers 127.0.0.<n> for the n-th lookup, failing those numbered in `fail`.
    #[derive(Debug, Default)]
    struct Counted {
        lookups: AtomicUsize,
        fail: Vec<usize>,
    }

    impl Resolver for Counted {
        fn resolve(
            &self,
            uri: &Uri,
            _: &Config,
            _: NextTimeout,
        ) -> Result<ResolvedSocketAddrs, ureq::Error> {
            let n = self.lookups.fetch_add(1, Ordering::SeqCst) + 1;
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

    /// The address `cache` gives for `uri`, or the error.
    fn resolve(cache: &CachingResolver<Counted>, uri: &str) -> Result<String, ureq::Error> {
        let uri = uri.parse().unwrap();
        let addrs = cache.resolve(&uri, &Config::default(), NextTimeout::default())?;
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
