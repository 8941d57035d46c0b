//! What happened to a batch: the response classified into ok / failed / not sent, with the SLS
//! error code and message. Server text is untrusted and is sanitized here, once, before anything
//! prints it.

use std::time::Duration;

use serde::Serialize;

use crate::http::failure::{Failure, FailureKind};
use crate::untrusted::excerpt;

/// How a batch ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Ok,
    Failed,
    NotSent,
}

/// The parts of an HTTP response that classification needs.
#[derive(Debug, Clone, Default)]
pub struct RawResponse {
    pub status: u16,
    pub request_id: Option<String>,
    pub location: Option<String>,
    /// The server's clock, for correcting ours after RequestTimeExpired.
    pub date: Option<String>,
    pub retry_after: Option<String>,
    pub body: Vec<u8>,
    /// Why the answer could not be read past its status line (headers ureq refuses, a body too
    /// large or cut short), when the rest of it was needed.
    pub unreadable: Option<String>,
}

/// The result of one batch, as reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub status: Status,
    pub http_status: Option<u16>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub request_id: Option<String>,
    pub attempts: u32,
    pub elapsed: Duration,
    /// How the request failed when no answer came.
    pub transport: Option<FailureKind>,
    /// The server's time (unix seconds, its `Date`) when it accepted the request, if it said.
    pub accepted_at: Option<u64>,
}

impl Outcome {
    /// Classify an HTTP response: 200 is accepted, whatever else it holds, unless it could not be
    /// read where its body is the answer (`unreadable`); anything else failed with the server's
    /// code. SLS answers 200 and nothing else when it does what was asked, so another 2xx is no
    /// success either.
    pub fn from_response(resp: &RawResponse, elapsed: Duration) -> Outcome {
        let request_id = resp.request_id.as_deref().map(|id| excerpt(id, 64));
        if resp.status == 200 && resp.unreadable.is_none() {
            let date = resp
                .date
                .as_deref()
                .map(|d| httpdate::parse_http_date(d.trim()));
            return Outcome {
                status: Status::Ok,
                http_status: Some(resp.status),
                error_code: None,
                error_message: None,
                request_id,
                attempts: 1,
                elapsed,
                transport: None,
                accepted_at: date
                    .and_then(Result::ok)
                    .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                    .map(|d| d.as_secs()),
            };
        }
        let (error_code, error_message) = if let Some(why) = &resp.unreadable {
            (None, excerpt(why, EXCERPT_CHARS))
        } else if (200..300).contains(&resp.status) {
            (None, format!("unexpected status {}", resp.status))
        } else if (300..400).contains(&resp.status) {
            let to = resp.location.as_deref().unwrap_or("(no Location)");
            (
                None,
                format!(
                    "redirected to {}; check the endpoint",
                    excerpt(to, EXCERPT_CHARS)
                ),
            )
        } else {
            parse_error_body(&resp.body)
        };
        Outcome {
            status: Status::Failed,
            http_status: Some(resp.status),
            error_code,
            error_message: Some(error_message),
            request_id,
            attempts: 1,
            elapsed,
            transport: None,
            accepted_at: None,
        }
    }

    /// One line for an error message: status, code, message, request id.
    pub fn describe(&self) -> String {
        let mut text = match self.http_status {
            Some(status) => format!("HTTP {status}"),
            None => "no response".to_string(),
        };
        match (&self.error_code, &self.error_message) {
            (Some(code), Some(message)) => text.push_str(&format!(" {code}: {message}")),
            (Some(code), None) => text.push_str(&format!(" {code}")),
            (None, Some(message)) => text.push_str(&format!(" ({message})")),
            (None, None) => {}
        }
        if let Some(id) = &self.request_id {
            text.push_str(&format!(", request {id}"));
        }
        text
    }

    /// The batch was never sent (the run stopped before it).
    pub fn not_sent(reason: &str) -> Outcome {
        Outcome {
            status: Status::NotSent,
            http_status: None,
            error_code: None,
            error_message: Some(reason.to_string()),
            request_id: None,
            attempts: 0,
            elapsed: Duration::ZERO,
            transport: None,
            accepted_at: None,
        }
    }

    /// The request never got an HTTP answer (connect, TLS, timeout, read error).
    pub fn transport(failure: &Failure, elapsed: Duration) -> Outcome {
        Outcome {
            status: Status::Failed,
            http_status: None,
            error_code: None,
            error_message: Some(excerpt(&failure.why, 2 * EXCERPT_CHARS)),
            request_id: None,
            attempts: 1,
            elapsed,
            transport: Some(failure.kind),
            accepted_at: None,
        }
    }
}

/// Longest excerpt of server text we print.
const EXCERPT_CHARS: usize = 200;

/// An SLS error body is `{"errorCode": "...", "errorMessage": "..."}`; a proxy may send HTML or
/// nothing at all. Returns the code (when there is one) and a sanitized message.
pub fn parse_error_body(body: &[u8]) -> (Option<String>, String) {
    #[derive(serde::Deserialize)]
    struct SlsError {
        #[serde(rename = "errorCode")]
        code: Option<String>,
        #[serde(rename = "errorMessage")]
        message: Option<String>,
    }
    if let Ok(SlsError {
        code: Some(code),
        message,
    }) = serde_json::from_slice::<SlsError>(body)
    {
        let message = message.unwrap_or_default();
        return (Some(excerpt(&code, 64)), excerpt(&message, EXCERPT_CHARS));
    }
    let text = String::from_utf8_lossy(body);
    let text = strip_tags(&text);
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.is_empty() {
        (None, "empty response body".to_string())
    } else {
        (
            None,
            format!(
                "unexpected response body: \"{}\"",
                excerpt(&text, EXCERPT_CHARS)
            ),
        )
    }
}

/// Drop `<...>` markup so an HTML error page from a proxy shows its words, not its tags.
fn strip_tags(text: &str) -> String {
    if !text.trim_start().starts_with('<') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut in_tag = false;
    for c in text.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(status: u16, body: &str) -> RawResponse {
        RawResponse {
            status,
            request_id: Some("5642FC2399248C8F7B0145FD".into()),
            body: body.as_bytes().to_vec(),
            ..RawResponse::default()
        }
    }

    #[test]
    fn ok_and_sls_errors() {
        let ok = Outcome::from_response(&resp(200, ""), Duration::ZERO);
        assert_eq!(ok.status, Status::Ok);
        assert_eq!(ok.request_id.as_deref(), Some("5642FC2399248C8F7B0145FD"));

        let e = Outcome::from_response(
            &resp(
                404,
                r#"{"errorCode":"ProjectNotExist","errorMessage":"Project p does not exist."}"#,
            ),
            Duration::ZERO,
        );
        assert_eq!(e.status, Status::Failed);
        assert_eq!(e.http_status, Some(404));
        assert_eq!(e.error_code.as_deref(), Some("ProjectNotExist"));
        assert_eq!(
            e.error_message.as_deref(),
            Some("Project p does not exist.")
        );
    }

    #[test]
    fn html_empty_and_hostile_bodies() {
        let html = "<html><head><title>502 Bad Gateway</title></head>\n<body><h1>502 Bad Gateway</h1></body></html>";
        let (code, msg) = parse_error_body(html.as_bytes());
        assert_eq!(code, None);
        assert_eq!(
            msg,
            "unexpected response body: \"502 Bad Gateway 502 Bad Gateway\""
        );

        assert_eq!(parse_error_body(b"").1, "empty response body");
        assert_eq!(parse_error_body(b"   \n").1, "empty response body");

        let (code, msg) = parse_error_body(
            "{\"errorCode\":\"X\\u001b[31m\",\"errorMessage\":\"red\\u001b[0m\\nnext\"}".as_bytes(),
        );
        assert_eq!(code.as_deref(), Some("X\\u{1b}[31m"));
        assert!(!msg.contains('\u{1b}') && !msg.contains('\n'), "{msg}");

        let (_, msg) = parse_error_body(&[0xff, 0xfe, b'a', 0x1b]);
        assert!(!msg.contains('\u{1b}'), "{msg}");

        let (_, msg) = parse_error_body("x".repeat(10_000).as_bytes());
        assert!(msg.chars().count() < 250, "{}", msg.len());
    }

    #[test]
    fn only_200_is_success_and_a_200_needed_but_unreadable_is_not() {
        for status in [201, 202, 204, 206, 299] {
            let e = Outcome::from_response(&resp(status, ""), Duration::ZERO);
            assert_eq!(e.status, Status::Failed, "{status}");
            assert_eq!(e.http_status, Some(status));
            assert_eq!(
                e.error_message.unwrap(),
                format!("unexpected status {status}")
            );
        }
        let mut r = resp(200, "{\"errorCode\":\"X\"}");
        r.date = Some("garbage".into());
        assert_eq!(
            Outcome::from_response(&r, Duration::ZERO).status,
            Status::Ok
        );
        r.unreadable = Some("the answer's body is over 16 MiB".into());
        let e = Outcome::from_response(&r, Duration::ZERO);
        assert_eq!(
            (e.status, e.http_status, e.error_code),
            (Status::Failed, Some(200), None)
        );
        assert_eq!(
            e.error_message.as_deref(),
            Some("the answer's body is over 16 MiB")
        );
    }

    #[test]
    fn redirect_names_the_target() {
        let mut r = resp(301, "");
        r.location = Some("https://elsewhere.example/".into());
        let e = Outcome::from_response(&r, Duration::ZERO);
        assert_eq!(e.status, Status::Failed);
        assert!(e.error_message.unwrap().contains("elsewhere.example"));
    }
}
