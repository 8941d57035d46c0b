//! The HTTP CONNECT proxy's side of a connection: the request head (httparse), its Basic `Proxy-Authorization`, and the answer a proxy gives (200, 405, 407, 502) before tunnelling or closing.

use std::io::Read;
use std::net::TcpStream;

use base64::Engine as _;

use super::{Asked, Handshake, Outcome, Protocol, Rules, address_type};

/// Larger heads are not proxied; a CONNECT has a handful of short headers.
const MAX_HEAD: usize = 64 * 1024;

/// Reads the request and decides its answer; `None` when the client sent no request it could
/// finish.
pub(super) fn handshake(client: &mut TcpStream, rules: &Rules) -> Option<Handshake> {
    let (head, early) = read_head(client)?;
    let credentials = head.credentials.as_ref();
    let given = credentials.map(|(user, password)| (user.as_str(), password.as_str()));
    let mut asked = Asked {
        protocol: Protocol::Connect,
        address_type: Some(address_type(&head.target)),
        target: head.target.clone(),
        user: credentials.map(|(user, _)| user.clone()),
        user_agent: head.user_agent,
        method: (head.method != "CONNECT").then_some(head.method),
        outcome: Outcome::Tunneled,
    };
    let opened = if asked.method.is_some() {
        Err(Outcome::Unsupported)
    } else if !rules.admits(given) {
        Err(Outcome::Unauthorized)
    } else {
        rules.open(&head.target)
    };
    let answer = match &opened {
        Ok(_) => "HTTP/1.1 200 Connection established\r\n\r\n".to_string(),
        Err(outcome) => refusal(*outcome, &head.target),
    };
    let tunnel = match opened {
        Ok(upstream) => Some((upstream, early)),
        Err(outcome) => {
            asked.outcome = outcome;
            None
        }
    };
    let answer = answer.into_bytes();
    Some(Handshake {
        asked,
        answer,
        tunnel,
    })
}

/// The whole answer to a request that is not tunnelled; the connection closes after it.
fn refusal(outcome: Outcome, target: &str) -> String {
    let (status, extra, body) = match outcome {
        Outcome::Unauthorized => (
            "407 Proxy Authentication Required",
            "Proxy-Authenticate: Basic realm=\"standin\"\r\n",
            "proxy authentication required".to_string(),
        ),
        Outcome::Unsupported => (
            "405 Method Not Allowed",
            "Allow: CONNECT\r\n",
            "this proxy only tunnels: CONNECT host:port".to_string(),
        ),
        Outcome::Unrouted => ("502 Bad Gateway", "", format!("no route to {target}")),
        Outcome::Refused | Outcome::Tunneled => (
            "502 Bad Gateway",
            "",
            format!("{target}: connection refused"),
        ),
    };
    let length = body.len();
    format!(
        "HTTP/1.1 {status}\r\n{extra}Content-Type: text/plain\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n{body}"
    )
}

/// A CONNECT request's head, as far as the proxy reads it.
struct Head {
    method: String,
    /// The request target: `host:port` for a CONNECT.
    target: String,
    user_agent: Option<String>,
    /// From `Proxy-Authorization: Basic`; a password is empty when the decoded value has no `:`.
    credentials: Option<(String, String)>,
}

/// The head, and the bytes the client sent past it.
fn read_head(client: &mut TcpStream) -> Option<(Head, Vec<u8>)> {
    let mut buf = Vec::new();
    loop {
        let mut slots = [httparse::EMPTY_HEADER; 32];
        let mut request = httparse::Request::new(&mut slots);
        match request.parse(&buf) {
            Ok(httparse::Status::Complete(len)) => {
                return Some((Head::of(&request), buf[len..].to_vec()));
            }
            Ok(httparse::Status::Partial) if buf.len() <= MAX_HEAD => {}
            _ => return None,
        }
        let mut chunk = [0; 4096];
        match client.read(&mut chunk) {
            Ok(n @ 1..) => buf.extend_from_slice(&chunk[..n]),
            _ => return None,
        }
    }
}

impl Head {
    fn of(request: &httparse::Request) -> Head {
        let header = |name: &str| {
            let mut headers = request.headers.iter();
            let found = headers.find(|h| h.name.eq_ignore_ascii_case(name));
            found.map(|h| String::from_utf8_lossy(h.value).into_owned())
        };
        Head {
            method: request.method.unwrap_or_default().to_string(),
            target: request.path.unwrap_or_default().to_string(),
            user_agent: header("user-agent"),
            credentials: header("proxy-authorization").and_then(|value| basic(&value)),
        }
    }
}

/// The user and password of a `Basic` authorization value.
fn basic(value: &str) -> Option<(String, String)> {
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let engine = base64::engine::general_purpose::STANDARD;
    let decoded = String::from_utf8(engine.decode(encoded.trim()).ok()?).ok()?;
    let (user, password) = decoded.split_once(':').unwrap_or((&decoded, ""));
    Some((user.to_string(), password.to_string()))
}
