//! Self-tests of the stand-in over raw TCP: its verifier accepts the official SDK's signatures, and it refuses what SLS refuses.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use serde_json::Value;

use super::{DEMO_KEY_ID, DEMO_KEY_SECRET, DEMO_LOGSTORE, DEMO_PROJECT, DEMO_SHIPPER};
use super::{Reply, StandIn, sls};

struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        let mut headers = self.headers.iter();
        let found = headers.find(|(n, _)| n.eq_ignore_ascii_case(name));
        found.map(|(_, v)| v.as_str())
    }

    fn error(&self) -> (String, String) {
        let body: Value = serde_json::from_str(&self.body).expect("a JSON error body");
        let field = |key: &str| body[key].as_str().unwrap_or_default().to_string();
        (field("errorCode"), field("errorMessage"))
    }
}

fn connect(standin: &StandIn) -> TcpStream {
    let stream = TcpStream::connect(("127.0.0.1", standin.port())).unwrap();
    let timeout = Some(Duration::from_secs(10));
    stream.set_read_timeout(timeout).unwrap();
    stream
}

/// Writes `request` and reads one answer off the stream.
fn exchange(stream: &mut TcpStream, request: &[u8]) -> Answer {
    stream.write_all(request).unwrap();
    // The stand-in sends nothing past this answer until the next request, so nothing is lost in the buffer.
    let mut reader = BufReader::new(&*stream);
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    let status = line
        .split(' ')
        .nth(1)
        .expect("a status line")
        .parse()
        .unwrap();
    let mut answer = Answer {
        status,
        headers: Vec::new(),
        body: String::new(),
    };
    loop {
        line.clear();
        reader.read_line(&mut line).unwrap();
        let Some((name, value)) = line.trim_end().split_once(": ") else {
            break;
        };
        answer.headers.push((name.to_string(), value.to_string()));
    }
    let length = answer
        .header("Content-Length")
        .map_or(0, |v| v.parse().unwrap());
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    answer.body = String::from_utf8(body).unwrap();
    answer
}

fn unix_secs(time: SystemTime) -> i64 {
    time.duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

/// A RetryShipperTask request for the demo world, signed here by the SPEC 1.4 recipe.
fn retry_request(standin: &StandIn, ids: &[&str], date: SystemTime) -> Vec<u8> {
    let body = serde_json::to_string(ids).unwrap();
    let (len, md5) = (body.len().to_string(), sls::md5_hex(body.as_bytes()));
    let date = httpdate::fmt_http_date(date);
    let path = format!("/logstores/{DEMO_LOGSTORE}/shipper/{DEMO_SHIPPER}/tasks");
    let x_log = [
        ("x-log-apiversion", "0.6.0".to_string()),
        ("x-log-bodyrawsize", len.clone()),
        ("x-log-signaturemethod", "hmac-sha1".into()),
    ];
    let signed: String = x_log.iter().map(|(n, v)| format!("{n}:{v}\n")).collect();
    let sts = format!("PUT\n{md5}\napplication/json\n{date}\n{signed}{path}");
    let signature = sls::sign(DEMO_KEY_SECRET, &sts);
    let host = format!("{DEMO_PROJECT}.127.0.0.1:{}", standin.port());
    let mut head = format!("PUT {path} HTTP/1.1\r\nHost: {host}\r\n");
    let plain = [
        ("Date", date),
        ("Content-Type", "application/json".into()),
        ("Content-MD5", md5),
        ("Content-Length", len),
    ];
    for (name, value) in plain.iter().chain(&x_log) {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!(
        "Authorization: LOG {DEMO_KEY_ID}:{signature}\r\n\r\n"
    ));
    (head + &body).into_bytes()
}

fn vectors() -> Vec<Value> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/sign-v1-official-sdk.json"
    );
    let file: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    file["vectors"].as_array().unwrap().clone()
}

/// The request exactly as the official SDK sent it, and a stand-in holding its world with the clock at its date.
fn vector_case(vector: &Value, authorization: Option<&str>) -> (StandIn, Vec<u8>) {
    let text = |key: &str| vector[key].as_str().unwrap_or_default();
    let date = httpdate::parse_http_date(text("date")).unwrap();
    let (key_id, secret) = (text("access_key_id"), text("access_key_secret"));
    let builder = match vector["security_token"].as_str() {
        Some(token) => StandIn::builder().sts_account(key_id, secret, token),
        None => StandIn::builder().account(key_id, secret),
    };
    let skew = unix_secs(date) - unix_secs(SystemTime::now());
    let builder = builder.project(text("project")).logstore(text("logstore"));
    let standin = builder
        .shipper(text("shipper"))
        .clock_skew_secs(skew)
        .build();
    let target = match text("query_string") {
        "" => text("path").to_string(),
        query => format!("{}?{query}", text("path")),
    };
    let mut head = format!("{} {target} HTTP/1.1\r\n", text("method"));
    for (name, value) in vector["headers"].as_object().unwrap() {
        let value = match (name.as_str(), authorization) {
            ("Authorization", Some(replaced)) => replaced,
            _ => value.as_str().unwrap(),
        };
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    let mut request = (head + "\r\n").into_bytes();
    let body = base64::engine::general_purpose::STANDARD.decode(text("body_base64"));
    request.extend(body.unwrap());
    (standin, request)
}

#[test]
fn official_sdk_vectors_verify() {
    let vectors = vectors();
    assert!(
        vectors
            .iter()
            .any(|v| v["name"] == "public-01-put-1-hex-id")
    );
    for vector in &vectors {
        let (standin, request) = vector_case(vector, None);
        let answer = exchange(&mut connect(&standin), &request);
        let name = &vector["name"];
        if vector["method"] == "PUT" {
            assert_eq!(answer.status, 200, "{name}: {}", answer.body);
            let ids: Vec<String> = serde_json::from_value(vector["task_ids"].clone()).unwrap();
            assert_eq!(standin.accepted(), [ids], "{name}");
        } else {
            // Past authentication, GET meets the not-yet-built GetShipperStatus.
            assert_eq!(
                answer.error().0,
                "ParameterInvalid",
                "{name}: {}",
                answer.body
            );
        }
    }
}

#[test]
fn one_changed_signature_byte_is_signature_not_match() {
    let vector = vectors()
        .into_iter()
        .find(|v| v["name"] == "public-01-put-1-hex-id");
    let vector = vector.unwrap();
    let authorization = vector["headers"]["Authorization"].as_str().unwrap();
    let tampered = authorization.replacen(":gp7R", ":hp7R", 1);
    assert_ne!(tampered, authorization);
    let (standin, request) = vector_case(&vector, Some(&tampered));
    let answer = exchange(&mut connect(&standin), &request);
    assert_eq!(
        (answer.status, answer.error().0.as_str()),
        (401, "SignatureNotMatch")
    );
    assert!(standin.accepted().is_empty());
}

#[test]
fn stale_date_is_request_time_expired_and_date_says_server_time() {
    let standin = StandIn::builder().clock_skew_secs(3600).build();
    let sent = SystemTime::now();
    let answer = exchange(
        &mut connect(&standin),
        &retry_request(&standin, &["t1"], sent),
    );
    let (code, message) = answer.error();
    assert_eq!((answer.status, code.as_str()), (400, "RequestTimeExpired"));
    assert!(
        message.contains("has been expired while server time is"),
        "{message}"
    );
    let server = httpdate::parse_http_date(answer.header("Date").unwrap()).unwrap();
    assert!((unix_secs(server) - unix_secs(sent) - 3600).abs() < 60);
    let recorded = standin.requests();
    assert_eq!(
        recorded[0].error_code.as_deref(),
        Some("RequestTimeExpired")
    );
}

#[test]
fn eleven_ids_are_parameter_invalid() {
    let standin = StandIn::start();
    let ids = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k"];
    let request = retry_request(&standin, &ids, SystemTime::now());
    let answer = exchange(&mut connect(&standin), &request);
    let message = "Each time allows 10 task retries only.";
    assert_eq!(answer.error(), ("ParameterInvalid".into(), message.into()));
    assert_eq!(answer.status, 400);
    assert!(standin.accepted().is_empty());
}

#[test]
fn keep_alive_serves_two_requests_on_one_connection() {
    let standin = StandIn::start();
    let mut stream = connect(&standin);
    for ids in [&["t1", "t2"][..], &["t3"]] {
        let answer = exchange(
            &mut stream,
            &retry_request(&standin, ids, SystemTime::now()),
        );
        assert_eq!((answer.status, answer.body.as_str()), (200, ""));
        let id = answer.header("x-log-requestid").unwrap();
        assert!(
            id.len() == 24
                && id
                    .chars()
                    .all(|c| c.is_ascii_hexdigit() && !c.is_lowercase())
        );
    }
    assert_eq!(standin.connections(), 1);
    assert_eq!(standin.accepted_ids(), ["t1", "t2", "t3"]);
    let requests = standin.requests();
    assert_ne!(requests[0].request_id, requests[1].request_id);
    assert_eq!(requests[1].header("X-Log-BodyRawSize"), Some("6"));
}

#[test]
fn scripted_replies_answer_in_order_then_requests_are_accepted() {
    let standin = StandIn::start();
    standin.push_reply(Reply::error(500, "InternalServerError", "boom"));
    standin.push_reply(Reply::raw(502, "text/html", "<html>bad gateway</html>"));
    let mut stream = connect(&standin);
    let mut send = |id| {
        exchange(
            &mut stream,
            &retry_request(&standin, &[id], SystemTime::now()),
        )
    };
    let first = send("t1");
    assert_eq!(
        (first.status, first.error().0.as_str()),
        (500, "InternalServerError")
    );
    assert!(first.header("x-log-requestid").is_some());
    let second = send("t2");
    assert_eq!(
        (second.status, second.header("Content-Type")),
        (502, Some("text/html"))
    );
    assert!(second.header("x-log-requestid").is_none());
    assert_eq!(send("t3").status, 200);
    assert_eq!(standin.accepted(), [["t3"]]);
}

#[test]
fn unknown_project_and_malformed_http_are_refused_without_harm() {
    let standin = StandIn::start();
    let request = retry_request(&standin, &["t1"], SystemTime::now());
    let other = String::from_utf8(request)
        .unwrap()
        .replace(DEMO_PROJECT, "nope");
    let answer = exchange(&mut connect(&standin), other.as_bytes());
    let expected = (
        "ProjectNotExist".into(),
        "Project nope does not exist.".into(),
    );
    assert_eq!((answer.status, answer.error()), (404, expected));

    let mut stream = connect(&standin);
    let answer = exchange(&mut stream, b"NOT HTTP AT ALL\r\n\r\n");
    assert_eq!(
        (answer.status, answer.header("Connection")),
        (400, Some("close"))
    );
    assert_eq!(
        stream.read(&mut [0; 16]).unwrap(),
        0,
        "closed after a malformed request"
    );
    let request = retry_request(&standin, &["t2"], SystemTime::now());
    assert_eq!(exchange(&mut connect(&standin), &request).status, 200);
}
