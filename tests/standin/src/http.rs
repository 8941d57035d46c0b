//! The stand-in's HTTP/1.1 side: request heads (httparse) and bodies off a connection (plain TCP or TLS), answers back (whole, cut short, delayed, or not at all), keep-alive, and the count of requests in flight.
// Hand-rolled rather than a server crate so faults can be injected at the socket level.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::Ordering::SeqCst;
use std::time::Duration;

use super::{Reply, Shared, faults, sls};

/// Larger heads are refused; SLS requests have about ten short headers.
const MAX_HEAD: usize = 64 * 1024;
/// Larger bodies are refused; ten task ids take well under 11 KiB.
const MAX_BODY: usize = 1024 * 1024;

/// A request as received; header names lower-cased.
pub(super) struct Request {
    pub method: String,
    pub path: String,
    pub query: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// When the whole request had been read.
    pub received: std::time::Instant,
    /// Whether it came over TLS.
    pub tls: bool,
    keep_alive: bool,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// An answer ready for the wire; Content-Length and Connection are added when it is written.
pub(super) struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// Header lines as they go on the wire (CRLF added), after `headers`.
    pub raw_headers: Vec<Vec<u8>>,
    pub body: Vec<u8>,
    pub wire: Wire,
    /// How long to wait before `wire` is carried out.
    pub delay: Duration,
}

/// What becomes of the connection once a request has been handled.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Wire {
    /// The whole answer; the connection stays open unless the client asked otherwise.
    Whole,
    /// Only the first this many bytes of the answer, then close.
    Truncated(usize),
    /// Close without answering.
    Drop,
    /// Never answer: read (and discard) whatever comes until the client or the stand-in closes.
    Hang,
}

enum ReadError {
    /// The peer went away (or the stand-in is stopping): nobody to answer.
    Gone,
    /// Not HTTP we can serve: answer this, then close.
    Malformed(Reply),
}

/// A connection requests come over: plain TCP, or TLS over it (tls.rs).
pub(super) trait Transport: Read + Write {
    /// Whether the requests it carries came over TLS (`Recorded::tls`).
    const TLS: bool;

    /// Ends the connection. The accept loop holds a clone of the socket, so dropping it would not.
    fn close(&mut self);
}

impl Transport for TcpStream {
    const TLS: bool = false;

    fn close(&mut self) {
        let _ = self.shutdown(Shutdown::Both);
    }
}

/// Serves one connection until the client closes it, asks to, or sends something unparseable.
/// Generic rather than over `dyn Read + Write`, so the plain path is what it was before TLS.
pub(super) fn serve<S: Transport>(mut stream: S, shared: &Shared) {
    serve_requests(&mut stream, shared);
    stream.close();
}

fn serve_requests<S: Transport>(stream: &mut S, shared: &Shared) {
    let mut buf = Vec::new();
    loop {
        let (_in_flight, response, keep_alive) = match read_request(stream, &mut buf) {
            Ok(Some(mut request)) => {
                request.tls = S::TLS;
                let sls_request = sls::Service::of(&request.path) == sls::Service::Sls;
                let in_flight = sls_request.then(|| InFlight::enter(shared));
                let response = sls::handle(shared, &request);
                (in_flight, response, request.keep_alive)
            }
            Ok(None) | Err(ReadError::Gone) => return,
            Err(ReadError::Malformed(reply)) => {
                (None, sls::reject_malformed(shared, &reply), false)
            }
        };
        faults::pause(response.delay, &shared.stopping);
        let bytes = response_bytes(&response, keep_alive);
        match response.wire {
            Wire::Whole => {
                if write(stream, &bytes).is_err() || !keep_alive {
                    return;
                }
            }
            Wire::Truncated(keep) => {
                let _ = write(stream, &bytes[..keep.min(bytes.len())]);
                return;
            }
            Wire::Drop => return,
            Wire::Hang => {
                // Ends when the client closes, or when dropping the stand-in shuts the socket down.
                while matches!(stream.read(&mut [0; 8192]), Ok(1..)) {}
                return;
            }
        }
    }
}

/// Counts one SLS request in flight (into `Shared::peak_concurrency` too) until dropped.
struct InFlight<'a>(&'a Shared);

impl InFlight<'_> {
    fn enter(shared: &Shared) -> InFlight<'_> {
        let now = shared.in_flight.fetch_add(1, SeqCst) + 1;
        shared.peak_concurrency.fetch_max(now, SeqCst);
        InFlight(shared)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, SeqCst);
    }
}

/// The next request on the connection; `None` when the client closed it between requests.
/// Bytes past the request (a pipelined next one) stay in `buf`.
fn read_request(stream: &mut impl Read, buf: &mut Vec<u8>) -> Result<Option<Request>, ReadError> {
    let (mut request, head_len, body_len) = loop {
        if let Some(head) = parse_head(buf)? {
            break head;
        }
        if buf.len() > MAX_HEAD {
            return Err(malformed(400, "BadRequest", "Request header is too large."));
        }
        if fill(stream, buf)? == 0 {
            return if buf.is_empty() {
                Ok(None)
            } else {
                Err(ReadError::Gone)
            };
        }
    };
    while buf.len() < head_len + body_len {
        if fill(stream, buf)? == 0 {
            return Err(ReadError::Gone);
        }
    }
    request.body = buf[head_len..head_len + body_len].to_vec();
    request.received = std::time::Instant::now();
    buf.drain(..head_len + body_len);
    Ok(Some(request))
}

fn fill(stream: &mut impl Read, buf: &mut Vec<u8>) -> Result<usize, ReadError> {
    let mut chunk = [0; 8192];
    let n = stream.read(&mut chunk).map_err(|_| ReadError::Gone)?;
    buf.extend_from_slice(&chunk[..n]);
    Ok(n)
}

/// The request head, its length and the body length, once `buf` holds a whole head.
fn parse_head(buf: &[u8]) -> Result<Option<(Request, usize, usize)>, ReadError> {
    let mut slots = [httparse::EMPTY_HEADER; 64];
    let mut head = httparse::Request::new(&mut slots);
    let head_len = match head.parse(buf) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => {
            return Err(malformed(
                400,
                "BadRequest",
                &format!("Malformed HTTP request: {e}."),
            ));
        }
    };
    let target = head.path.unwrap_or("/");
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let headers: Vec<(String, String)> = head
        .headers
        .iter()
        .map(|h| {
            (
                h.name.to_ascii_lowercase(),
                String::from_utf8_lossy(h.value).into_owned(),
            )
        })
        .collect();
    let find = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    // Without Content-Length there is no telling where a chunked body ends; SLS wants it anyway.
    if find("transfer-encoding").is_some() {
        let message = "Content-Length does not exist in http header when it is necessary.";
        return Err(malformed(411, "MissingContentLength", message));
    }
    let body_len = match find("content-length").map(|v| v.trim().parse::<usize>()) {
        None => 0,
        Some(Ok(len)) if len <= MAX_BODY => len,
        Some(Ok(_)) => return Err(malformed(413, "PostBodyTooLarge", "Body is too large.")),
        Some(Err(_)) => return Err(malformed(400, "BadRequest", "Content-Length is invalid.")),
    };
    let connection = find("connection").unwrap_or("").to_ascii_lowercase();
    let keep_alive = match head.version {
        Some(0) => connection.contains("keep-alive"),
        _ => !connection.contains("close"),
    };
    let request = Request {
        method: head.method.unwrap_or("").to_string(),
        path: path.to_string(),
        query: query.to_string(),
        headers,
        body: Vec::new(),
        received: std::time::Instant::now(),
        tls: false,
        keep_alive,
    };
    Ok(Some((request, head_len, body_len)))
}

fn malformed(status: u16, code: &str, message: &str) -> ReadError {
    ReadError::Malformed(Reply::error(status, code, message))
}

/// Status line, headers and body in one buffer, so a truncation can cut it at any byte.
fn response_bytes(response: &Response, keep_alive: bool) -> Vec<u8> {
    let mut head = format!(
        "HTTP/1.1 {} {}\r\n",
        response.status,
        reason(response.status)
    );
    for (name, value) in &response.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    let mut bytes = head.into_bytes();
    for line in &response.raw_headers {
        bytes.extend_from_slice(line);
        bytes.extend_from_slice(b"\r\n");
    }
    // A 204 has no body and so no Content-Length (RFC 9110, 8.6).
    if response.status != 204 {
        bytes.extend_from_slice(format!("Content-Length: {}\r\n", response.body.len()).as_bytes());
    }
    if !keep_alive {
        bytes.extend_from_slice(b"Connection: close\r\n");
    }
    bytes.extend_from_slice(b"\r\n");
    bytes.extend_from_slice(&response.body);
    bytes
}

fn write(stream: &mut impl Write, bytes: &[u8]) -> io::Result<()> {
    stream.write_all(bytes)?;
    stream.flush()
}

pub(super) fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        411 => "Length Required",
        413 => "Payload Too Large",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Unknown",
    }
}
