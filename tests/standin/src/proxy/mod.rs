//! Proxies between a client and the stand-in, on loopback: an HTTP CONNECT proxy (connect.rs) and a SOCKS5 proxy (socks.rs), each with optional credentials, that record every target they were asked for and tunnel to a loopback address routed from it, so that tests can name real SLS hosts without DNS ever resolving them.

mod connect;
mod socks;

use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Shutdown, SocketAddr, SocketAddrV4, TcpStream};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;

use super::server::{Serve, Server};

/// A loopback address nothing listens on (port 1, tcpmux: reserved, served by nothing on a
/// test machine; the harness points the ECS metadata service there too): a proxy that is down,
/// e.g. `format!("http://{DEAD_ADDR}")`. A connection to it is refused at once.
pub const DEAD_ADDR: SocketAddr = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 1));

/// The user name tests give a proxy that wants credentials.
pub const DEMO_PROXY_USER: &str = "proxy-user";
/// Its password: nothing that a URL's user-info needs to percent-encode, so that it reads the
/// same in a proxy URL and on the wire; never printed (the integration tests check every run).
pub const DEMO_PROXY_PASSWORD: &str = "proxy-pass-never-printed";

/// Which protocol a proxy speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// HTTP/1.1 `CONNECT host:port` (RFC 9110, 9.3.6), Basic `Proxy-Authorization`.
    Connect,
    /// SOCKS5 CONNECT (RFC 1928), no authentication or username/password (RFC 1929).
    Socks5,
}

/// How the target was named.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddressType {
    /// A host name, for the proxy to resolve (`socks5h://`, or any CONNECT to a name).
    Domain,
    /// An IPv4 address: the client resolved the name itself (`socks5://`), or was given one.
    Ipv4,
    Ipv6,
}

/// What became of a request to the proxy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Connected to the routed address and tunnelled: `200 Connection established`, or SOCKS
    /// reply 0 (succeeded).
    Tunneled,
    /// No credentials, or the wrong ones, where the proxy wants them: 407 with
    /// `Proxy-Authenticate: Basic`, or SOCKS: no acceptable method (0xFF), or a failed
    /// username/password (RFC 1929 status 1).
    Unauthorized,
    /// No route for the target, as for a name that does not resolve: 502, or SOCKS reply 4
    /// (host unreachable).
    Unrouted,
    /// The routed address refused the connection: 502, or SOCKS reply 5 (connection refused).
    Refused,
    /// Not a CONNECT: 405, or SOCKS reply 7 (command not supported) or 8 (address type not
    /// supported).
    Unsupported,
}

/// One request to the proxy, as it was asked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Asked {
    pub protocol: Protocol,
    /// `host:port` exactly as asked: the CONNECT request target (e.g.
    /// `demo-project.cn-hangzhou.log.aliyuncs.com:443`, `127.0.0.1:8080`, `[::1]:443`), or the
    /// SOCKS address and port written the same way. Empty when the client never got to name one
    /// (SOCKS authentication failed).
    pub target: String,
    /// `None` when no target was named.
    pub address_type: Option<AddressType>,
    /// The user of `Proxy-Authorization: Basic` or of SOCKS username/password, whether the
    /// proxy wanted credentials or not (a SOCKS proxy without them never asks for a user).
    pub user: Option<String>,
    /// The CONNECT request's `User-Agent` (SOCKS has none).
    pub user_agent: Option<String>,
    /// The method when it was not CONNECT (CONNECT proxies only).
    pub method: Option<String>,
    pub outcome: Outcome,
}

/// Configures a proxy: protocol, credentials, where targets go.
pub struct Builder {
    protocol: Protocol,
    rules: Rules,
}

impl Builder {
    /// Only requests with this user and password are served; others meet `Outcome::Unauthorized`.
    pub fn credentials(mut self, user: &str, password: &str) -> Self {
        self.rules.credentials = Some((user.into(), password.into()));
        self
    }

    /// `DEMO_PROXY_USER` and `DEMO_PROXY_PASSWORD` as the credentials.
    pub fn demo_credentials(self) -> Self {
        self.credentials(DEMO_PROXY_USER, DEMO_PROXY_PASSWORD)
    }

    /// Tunnel requests for `target` (`host:port` exactly as the client will ask, see
    /// `Asked::target`) to `to`, e.g. `standin.addr()`.
    pub fn route(mut self, target: &str, to: SocketAddr) -> Self {
        self.rules.routes.push((target.into(), to));
        self
    }

    /// Tunnel every target that no `route` names to `to`. Without it, such a target meets
    /// `Outcome::Unrouted`.
    pub fn route_all(mut self, to: SocketAddr) -> Self {
        self.rules.fallback = Some(to);
        self
    }

    pub fn start(self) -> Proxy {
        self.try_start().expect("start a proxy on 127.0.0.1")
    }

    pub fn try_start(self) -> io::Result<Proxy> {
        let shared = Arc::new(Shared {
            protocol: self.protocol,
            rules: self.rules,
            asked: Mutex::new(Vec::new()),
        });
        let conn_shared = Arc::clone(&shared);
        let serve: Arc<Serve> = Arc::new(move |client| conn_shared.serve(client));
        Ok(Proxy {
            shared,
            server: Server::start(0, serve)?,
        })
    }
}

/// A running proxy on 127.0.0.1; dropping it closes its connections and tunnels.
pub struct Proxy {
    shared: Arc<Shared>,
    server: Server,
}

impl Proxy {
    /// An HTTP CONNECT proxy, to configure.
    pub fn connect() -> Builder {
        Proxy::builder(Protocol::Connect)
    }

    /// A SOCKS5 proxy, to configure.
    pub fn socks5() -> Builder {
        Proxy::builder(Protocol::Socks5)
    }

    fn builder(protocol: Protocol) -> Builder {
        let rules = Rules {
            credentials: None,
            routes: Vec::new(),
            fallback: None,
        };
        Builder { protocol, rules }
    }

    pub fn addr(&self) -> SocketAddr {
        self.server.addr()
    }

    /// The proxy's URL as curl's variables take it: `http://127.0.0.1:PORT` for a CONNECT
    /// proxy, `socks5h://127.0.0.1:PORT` for a SOCKS5 one (the proxy resolves names; use
    /// `url_as("socks5")` for a client that resolves them itself).
    pub fn url(&self) -> String {
        match self.shared.protocol {
            Protocol::Connect => self.url_as("http"),
            Protocol::Socks5 => self.url_as("socks5h"),
        }
    }

    /// The proxy's URL with this scheme: `{scheme}://127.0.0.1:PORT`.
    pub fn url_as(&self, scheme: &str) -> String {
        format!("{scheme}://{}", self.addr())
    }

    /// The proxy's URL with `user:password@` (as given: percent-encode what needs it).
    pub fn url_with(&self, user: &str, password: &str) -> String {
        let url = self.url();
        let (scheme, rest) = url.split_once("://").expect("a URL");
        format!("{scheme}://{user}:{password}@{rest}")
    }

    /// Every request the proxy received, in order.
    pub fn asked(&self) -> Vec<Asked> {
        self.shared.asked().clone()
    }

    /// The targets of requests that were tunnelled, in order.
    pub fn tunneled(&self) -> Vec<String> {
        let asked = self.shared.asked();
        let tunneled = asked.iter().filter(|a| a.outcome == Outcome::Tunneled);
        tunneled.map(|a| a.target.clone()).collect()
    }
}

/// Who may use the proxy, and where targets go.
struct Rules {
    credentials: Option<(String, String)>,
    routes: Vec<(String, SocketAddr)>,
    fallback: Option<SocketAddr>,
}

impl Rules {
    /// Whether these credentials (user, password) may use the proxy.
    fn admits(&self, given: Option<(&str, &str)>) -> bool {
        match &self.credentials {
            None => true,
            Some((user, password)) => given == Some((user.as_str(), password.as_str())),
        }
    }

    /// A connection to where `target` is routed.
    fn open(&self, target: &str) -> Result<TcpStream, Outcome> {
        let routed = self.routes.iter().find(|(name, _)| name == target);
        let to = routed.map(|(_, to)| *to).or(self.fallback);
        let to = to.ok_or(Outcome::Unrouted)?;
        TcpStream::connect(to).map_err(|_| Outcome::Refused)
    }
}

struct Shared {
    protocol: Protocol,
    rules: Rules,
    asked: Mutex<Vec<Asked>>,
}

impl Shared {
    fn asked(&self) -> MutexGuard<'_, Vec<Asked>> {
        // A poisoned lock only means a test thread panicked; the data is still worth reading.
        self.asked.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn serve(&self, mut client: TcpStream) {
        let request = match self.protocol {
            Protocol::Connect => connect::handshake(&mut client, &self.rules),
            Protocol::Socks5 => socks::handshake(&mut client, &self.rules),
        };
        if let Some(Handshake {
            asked,
            answer,
            tunnel,
        }) = request
        {
            // Recorded before it is answered: a client that has its answer finds the record.
            self.asked().push(asked);
            if let (Ok(()), Some((upstream, early))) = (client.write_all(&answer), tunnel) {
                self::tunnel(client, upstream, &early);
                return;
            }
        }
        let _ = client.shutdown(Shutdown::Both);
    }
}

/// What a protocol's handshake made of a request, up to its last answer (not written yet).
struct Handshake {
    asked: Asked,
    /// The last answer to the client: success, or a refusal the connection closes after.
    answer: Vec<u8>,
    /// The connection to the target, and bytes the client sent past its request, when the
    /// answer is success.
    tunnel: Option<(TcpStream, Vec<u8>)>,
}

/// How a target in `host:port` form was named.
fn address_type(target: &str) -> AddressType {
    let host = target.rsplit_once(':').map_or(target, |(host, _)| host);
    let host = host.trim_start_matches('[').trim_end_matches(']');
    match host.parse::<IpAddr>() {
        Ok(IpAddr::V4(_)) => AddressType::Ipv4,
        Ok(IpAddr::V6(_)) => AddressType::Ipv6,
        Err(_) => AddressType::Domain,
    }
}

/// Copies bytes both ways until the client is done, or both sides are.
fn tunnel(client: TcpStream, upstream: TcpStream, early: &[u8]) {
    thread::scope(|scope| {
        // The target closing its side is passed on; the client may still have something to say.
        scope.spawn(|| pipe(&upstream, &client, &[], Shutdown::Write));
        // The client closing (or the proxy stopping) ends the tunnel, whatever the target does.
        pipe(&client, &upstream, early, Shutdown::Both);
    });
}

/// Copies `from` into `to` (after `first`) until `from` ends, then shuts `to` down so.
fn pipe(mut from: &TcpStream, mut to: &TcpStream, first: &[u8], then: Shutdown) {
    if to.write_all(first).is_ok() {
        let mut buf = [0; 16 * 1024];
        while let Ok(n @ 1..) = from.read(&mut buf) {
            if to.write_all(&buf[..n]).is_err() {
                break;
            }
        }
    }
    let _ = to.shutdown(then);
}
