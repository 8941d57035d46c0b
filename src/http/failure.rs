//! A request that got no answer, said in one line that names what to check (the server, the
//! proxy it went through, the certificate), and what that means for the run: a failure that may
//! pass is retried; a certificate the system does not trust, or a proxy refusing us, will meet
//! every request the same way.

use std::io::ErrorKind;
use std::time::Duration;

use super::proxy::{Proxy, Route};
use super::trust;

/// Why no answer came.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub why: String,
    pub kind: FailureKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// May pass: a connection refused or dropped, a timeout, a name not found.
    Transient,
    /// Will not pass by trying again (a protocol error, an invalid request).
    Permanent,
    /// The server's certificate is not trusted here: no request to it will be.
    Certificate,
    /// The proxy refused us (its credentials, its rules): no request through it will pass.
    ProxyRefused,
}

impl FailureKind {
    /// The failure as the error that stopped a run names it.
    pub fn name(self) -> &'static str {
        match self {
            FailureKind::Certificate => "a certificate error",
            FailureKind::ProxyRefused => "the proxy's refusal",
            FailureKind::Transient | FailureKind::Permanent => "a connection error",
        }
    }
}

/// The server a request was for, as messages name it.
pub struct Peer<'a> {
    /// How to name it (`https://my-project.cn-hangzhou.log.aliyuncs.com`, `STS (...)`).
    pub shown: &'a str,
    /// The host and port contacted.
    pub host: &'a str,
    pub port: u16,
    /// What to check when its name is not found (`check the endpoint`).
    pub check: &'a str,
}

impl<'a> Peer<'a> {
    /// The host and port `url` contacts.
    pub fn of(url: &'a ureq::http::Uri, shown: &'a str, check: &'a str) -> Peer<'a> {
        let default_port = if url.scheme_str() == Some("http") {
            80
        } else {
            443
        };
        Peer {
            shown,
            host: url.host().unwrap_or_default(),
            port: url.port_u16().unwrap_or(default_port),
            check,
        }
    }
}

/// One line for `err`, a request to `peer` by `route` that got no answer within `timeout`.
pub fn describe(err: &ureq::Error, peer: &Peer, route: Route, timeout: Duration) -> Failure {
    let (host, port, shown) = (peer.host, peer.port, peer.shown);
    let transient = |why: String| Failure {
        why,
        kind: FailureKind::Transient,
    };
    if let Some(problem) = trust::certificate_error(err) {
        return Failure {
            why: trust::describe_certificate_error(host, problem),
            kind: FailureKind::Certificate,
        };
    }
    if let ureq::Error::Timeout(_) = err {
        let via = match route {
            Route::Direct => String::new(),
            Route::Through(proxy) => format!(" through the proxy {proxy}"),
        };
        let secs = timeout.as_secs();
        return transient(format!(
            "timed out after {secs}s talking to {shown}{via} (see --timeout)"
        ));
    }
    if let Route::Through(proxy) = route
        && let Some(failure) = through_proxy(err, proxy, host, port)
    {
        return failure;
    }
    match err {
        ureq::Error::HostNotFound => transient(format!("host not found: {host}; {}", peer.check)),
        ureq::Error::ConnectionFailed => transient(format!("could not connect to {shown}")),
        ureq::Error::Io(io) => transient(format!("connection to {shown} failed: {io}")),
        ureq::Error::Protocol(_) => transient(format!("request failed: {err}")),
        other => Failure {
            why: format!("request failed: {other}"),
            kind: FailureKind::Permanent,
        },
    }
}

/// A failure that is the proxy's part of the way: reaching it, or its answer to our asking for
/// a connection to `host:port`.
fn through_proxy(err: &ureq::Error, proxy: &Proxy, host: &str, port: u16) -> Option<Failure> {
    let var = proxy.var();
    let (why, kind) = match err {
        ureq::Error::ConnectProxyFailed(answer) if answer.contains(" 407") => (
            format!(
                "the proxy {proxy} asks for a user name and password, or refused those given \
                 (407): write them as user:password@ in {var}"
            ),
            FailureKind::ProxyRefused,
        ),
        ureq::Error::ConnectProxyFailed(answer) if answer.contains(" 403") => (
            format!("the proxy {proxy} does not allow a connection to {host}:{port} (403)"),
            FailureKind::ProxyRefused,
        ),
        ureq::Error::ConnectProxyFailed(answer) => (
            format!("the proxy {proxy} could not connect to {host}:{port} ({answer})"),
            FailureKind::Transient,
        ),
        ureq::Error::Io(io) if io.kind() == ErrorKind::PermissionDenied => (
            format!("the proxy {proxy} refused the user name and password in {var}"),
            FailureKind::ProxyRefused,
        ),
        ureq::Error::HostNotFound if proxy.resolves_names() => (
            format!("the proxy's host was not found: {proxy}; check {var}"),
            FailureKind::Transient,
        ),
        ureq::Error::HostNotFound => (
            format!("host not found: {host} (looked up here for the proxy {proxy})"),
            FailureKind::Transient,
        ),
        ureq::Error::ConnectionFailed => (
            format!("could not connect to the proxy {proxy}; check {var}"),
            FailureKind::Transient,
        ),
        ureq::Error::Io(io) if is_connecting(io.kind()) => (
            format!("could not connect to the proxy {proxy}: {io}; check {var}"),
            FailureKind::Transient,
        ),
        // A SOCKS proxy's refusal to connect onwards, or a connection dropped on the way.
        ureq::Error::Io(io) => (
            format!("connection to {host}:{port} through the proxy {proxy} failed: {io}"),
            FailureKind::Transient,
        ),
        _ => return None,
    };
    Some(Failure { why, kind })
}

/// An error of making a connection (rather than of what went over one).
fn is_connecting(kind: ErrorKind) -> bool {
    matches!(
        kind,
        ErrorKind::ConnectionRefused
            | ErrorKind::TimedOut
            | ErrorKind::HostUnreachable
            | ErrorKind::NetworkUnreachable
            | ErrorKind::AddrNotAvailable
    )
}
