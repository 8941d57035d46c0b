//! The status line of each answer, read off the connection before ureq parses the rest of the
//! head. ureq refuses a whole answer for one header it cannot take (a line without a colon, an
//! obs-fold, a control character, over 64 KiB of headers, two different Content-Lengths), yet
//! the status line already says what the server did: a 200 there means the request was accepted,
//! and it must not be sent again.
//!
//! ureq runs a request on the calling thread, so what the connection saw is kept per thread:
//! `watch` clears it, runs the request and hands back the status line seen meanwhile.

use std::cell::Cell;

use ureq::unversioned::transport::{
    Buffers, ConnectionDetails, Connector, DefaultConnector, NextTimeout, Transport,
};

thread_local! {
    /// The status code of the answer being read on this thread, once its status line came.
    static SEEN: Cell<Option<u16>> = const { Cell::new(None) };
}

/// ureq's own connector (TCP, TLS, proxies), its connections watched for status lines.
pub fn connector() -> impl Connector {
    DefaultConnector::new().chain(Watch)
}

/// Run one request on this thread (through an agent built on `connector()`), and say what status
/// line its answer began with, if a whole one came.
pub fn watch<T>(request: impl FnOnce() -> T) -> (T, Option<u16>) {
    SEEN.set(None);
    let result = request();
    (result, SEEN.take())
}

/// The status code of `HTTP/1.x NNN ...` at the start of `input`, once the whole line is there.
pub fn parse(input: &[u8]) -> Option<u16> {
    let end = input.iter().position(|&b| b == b'\n')?;
    let line = input[..end].strip_suffix(b"\r").unwrap_or(&input[..end]);
    let rest = line.strip_prefix(b"HTTP/1.")?;
    let (&[minor, b' ', a, b, c], reason) = rest.split_at_checked(5)? else {
        return None;
    };
    let digits = [a, b, c];
    let well_formed = minor.is_ascii_digit()
        && digits.iter().all(u8::is_ascii_digit)
        && (reason.is_empty() || reason[0] == b' ');
    well_formed.then(|| {
        digits
            .iter()
            .fold(0, |code, d| code * 10 + u16::from(d - b'0'))
    })
}

/// Wraps each new connection in a `Watched` one.
#[derive(Debug)]
struct Watch;

impl Connector<Box<dyn Transport>> for Watch {
    type Out = Watched;

    fn connect(
        &self,
        _: &ConnectionDetails,
        chained: Option<Box<dyn Transport>>,
    ) -> Result<Option<Watched>, ureq::Error> {
        Ok(chained.map(|inner| Watched {
            inner,
            awaiting: false,
            tunnelling: false,
        }))
    }
}

/// A connection that notes the status line of each answer in `SEEN`.
#[derive(Debug)]
struct Watched {
    inner: Box<dyn Transport>,
    /// A request went out and its answer's status line has not come yet.
    awaiting: bool,
    /// What went out asks a proxy for a tunnel (`CONNECT host:port`): its answer is the
    /// proxy's, not the server's, and says nothing of what the server did.
    tunnelling: bool,
}

impl Transport for Watched {
    fn buffers(&mut self) -> &mut dyn Buffers {
        self.inner.buffers()
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        // Without pipelining, the next bytes in are the answer to what goes out now.
        if !self.awaiting {
            self.tunnelling = self.inner.buffers().output()[..amount].starts_with(b"CONNECT ");
        }
        self.awaiting = true;
        self.inner.transmit_output(amount, timeout)
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        let progress = self.inner.await_input(timeout)?;
        if self.awaiting {
            // The head is consumed only once whole, so the answer still starts the input.
            if let Some(status) = parse(self.inner.buffers().input()) {
                if !self.tunnelling {
                    SEEN.set(Some(status));
                }
                self.awaiting = false;
                self.tunnelling = false;
            }
        }
        Ok(progress)
    }

    fn is_open(&mut self) -> bool {
        self.inner.is_open()
    }

    fn is_tls(&self) -> bool {
        self.inner.is_tls()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_whole_status_line_gives_its_code() {
        for (input, want) in [
            (&b"HTTP/1.1 200 OK\r\nX"[..], Some(200)),
            (b"HTTP/1.0 503 Service Unavailable\r\n", Some(503)),
            (b"HTTP/1.1 204\r\n", Some(204)),
            (b"HTTP/1.1 200 OK\n", Some(200)),
            (b"HTTP/1.1 200 OK", None),
            (b"HTTP/1.1 2", None),
            (b"", None),
            (b"HTTP/2 200 OK\r\n", None),
            (b"HTTP/1.1 20x OK\r\n", None),
            (b"HTTP/1.1 2000 OK\r\n", None),
            (b"HTTP/1.1  200 OK\r\n", None),
            (b"SSH-2.0-OpenSSH\r\n", None),
            (b"\xff\xfe\n", None),
        ] {
            assert_eq!(parse(input), want, "{:?}", String::from_utf8_lossy(input));
        }
    }
}
