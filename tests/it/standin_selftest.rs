//! Self-tests of the stand-in over raw TCP: its v1 and v4 verifiers accept the official SDKs' signatures, it refuses what SLS refuses, GetShipperStatus pages as the service documents them, its ECS metadata routes hand out working credentials, its faults and measurements are what tests of a retrying, parallel client need; and (submodules) its task lifecycle after a retry, its project of logstores and shippers for sweeps, its credential routes, its HTTPS front and its proxies.

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::TcpStream;
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::Value;

mod lifecycle;
mod proxy;
mod sts;
mod sweep;
mod tls;

use standin::{Builder, Reply, StandIn, Task, sls, v4};
use standin::{DEMO_KEY_ID, DEMO_KEY_SECRET, DEMO_LOGSTORE, DEMO_PROJECT, DEMO_SHIPPER};

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
    read_answer(stream).expect("an answer, not a closed connection")
}

/// A request on a new connection, and the status and error code it was answered with.
fn refusal(standin: &StandIn, request: &[u8]) -> (u16, String) {
    let answer = exchange(&mut connect(standin), request);
    (answer.status, answer.error().0)
}

/// The request is refused with `(status, code)` and nothing is accepted.
fn assert_refused(standin: &StandIn, request: &[u8], expected: (u16, &str)) {
    let (status, code) = refusal(standin, request);
    assert_eq!((status, code.as_str()), expected);
    assert!(standin.accepted().is_empty());
}

/// One answer off the stream; `None` when the connection closes (or is reset) before a status line.
fn read_answer(stream: &TcpStream) -> Option<Answer> {
    // The stand-in sends nothing past this answer until the next request, so nothing is lost in the buffer.
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    match reader.read_line(&mut line) {
        Ok(0) => return None,
        Err(e) if e.kind() == ErrorKind::ConnectionReset => return None,
        read => _ = read.unwrap(),
    }
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
    Some(answer)
}

/// `request` on a new connection: its answer, or `None` when the stand-in closed without one.
fn send(standin: &StandIn, request: &[u8]) -> Option<Answer> {
    let mut stream = connect(standin);
    stream.write_all(request).unwrap();
    read_answer(&stream)
}

/// Every byte until the stand-in closes the connection (a reset ends it too).
fn read_until_closed(stream: &mut TcpStream) -> Vec<u8> {
    let mut bytes = Vec::new();
    match stream.read_to_end(&mut bytes) {
        Ok(_) => {}
        Err(e) if e.kind() == ErrorKind::ConnectionReset => {}
        Err(e) => panic!("reading until the stand-in closes: {e}"),
    }
    bytes
}

/// Polls `done` until it holds; the bound only guards against a hang.
fn wait_until(what: &str, done: impl Fn() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "waited for {what}"
        );
        thread::sleep(Duration::from_millis(5));
    }
}

fn unix_secs(time: SystemTime) -> i64 {
    time.duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

/// A RetryShipperTask request for the demo world, signed here with signature v1.
fn retry_request(standin: &StandIn, ids: &[&str], date: SystemTime) -> Vec<u8> {
    retry_request_as(standin, (DEMO_KEY_ID, DEMO_KEY_SECRET, None), ids, date)
}

/// `retry_request` signed with `(key id, secret, STS token)`.
fn retry_request_as(
    standin: &StandIn,
    account: (&str, &str, Option<&str>),
    ids: &[&str],
    date: SystemTime,
) -> Vec<u8> {
    let body = serde_json::to_string(ids).unwrap();
    let path = format!("/logstores/{DEMO_LOGSTORE}/shipper/{DEMO_SHIPPER}/tasks");
    signed_request(standin, account, ("PUT", &path, ""), &body, date)
}

/// A GetShipperStatus request for the demo world with `query` (plain `k=v` pairs, nothing to
/// encode), signed at the server's time (so still after `StandIn::advance_clock`).
fn list_request(standin: &StandIn, query: &str) -> Vec<u8> {
    let path = format!("/logstores/{DEMO_LOGSTORE}/shipper/{DEMO_SHIPPER}/tasks");
    demo_request(standin, ("GET", &path, query), "")
}

/// `(method, path, query)` with `body`, signed as the demo account at the server's time.
fn demo_request(standin: &StandIn, call: (&str, &str, &str), body: &str) -> Vec<u8> {
    let account = (DEMO_KEY_ID, DEMO_KEY_SECRET, None);
    signed_request(standin, account, call, body, standin.server_time())
}

/// `(method, path, query)` with `body` (JSON when not empty), signed with signature v1 as `account`.
fn signed_request(
    standin: &StandIn,
    (key_id, secret, token): (&str, &str, Option<&str>),
    (method, path, query): (&str, &str, &str),
    body: &str,
    date: SystemTime,
) -> Vec<u8> {
    let len = body.len().to_string();
    let date = httpdate::fmt_http_date(date);
    let token = token.map(|token| ("x-acs-security-token", token.to_string()));
    let x_log: Vec<(&str, String)> = (token.into_iter())
        .chain([
            ("x-log-apiversion", "0.6.0".to_string()),
            ("x-log-bodyrawsize", len.clone()),
            ("x-log-signaturemethod", "hmac-sha1".into()),
        ])
        .collect();
    let mut plain = vec![("Date", date.clone())];
    let (mut md5, mut content_type) = (String::new(), "");
    if !body.is_empty() {
        (md5, content_type) = (sls::md5_hex(body.as_bytes()), "application/json");
        plain.push(("Content-Type", content_type.into()));
        plain.push(("Content-MD5", md5.clone()));
        plain.push(("Content-Length", len));
    }
    let signed: String = x_log.iter().map(|(n, v)| format!("{n}:{v}\n")).collect();
    let mut pairs: Vec<&str> = query.split('&').filter(|p| !p.is_empty()).collect();
    pairs.sort();
    let (resource, target) = match query {
        "" => (path.to_string(), path.to_string()),
        _ => (
            format!("{path}?{}", pairs.join("&")),
            format!("{path}?{query}"),
        ),
    };
    let sts = format!("{method}\n{md5}\n{content_type}\n{date}\n{signed}{resource}");
    let signature = sls::sign(secret, &sts);
    let host = format!("{DEMO_PROJECT}.127.0.0.1:{}", standin.port());
    let mut head = format!("{method} {target} HTTP/1.1\r\nHost: {host}\r\n");
    for (name, value) in plain.iter().chain(&x_log) {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!("Authorization: LOG {key_id}:{signature}\r\n\r\n"));
    (head + body).into_bytes()
}

fn vectors() -> Vec<Value> {
    fixture_vectors("sign-v1-official-sdk.json")
}

fn fixture_vectors(file: &str) -> Vec<Value> {
    let path = format!("{}/tests/fixtures/{file}", env!("CARGO_MANIFEST_DIR"));
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
            // Verified, then refused: the SDK's window is older than 48 hours at its own date.
            assert_eq!(answer.status, 400, "{name}: {}", answer.body);
            let (code, message) = answer.error();
            assert_eq!(code, "ParameterInvalid", "{name}");
            assert!(message.contains("last 48 hours"), "{name}: {message}");
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
    assert_refused(&standin, &request, (401, "SignatureNotMatch"));
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
    let offset = unix_secs(server) - unix_secs(standin.server_time());
    assert!((-2..=0).contains(&offset), "{offset}");
    let recorded = standin.requests();
    assert_eq!(
        recorded[0].error_code.as_deref(),
        Some("RequestTimeExpired")
    );
}

#[test]
fn request_time_code_names_the_refusal() {
    let standin = StandIn::builder()
        .clock_skew_secs(-3600)
        .request_time_code("RequestTimeTooSkewed")
        .build();
    let request = retry_request(&standin, &["t1"], SystemTime::now());
    assert_refused(&standin, &request, (400, "RequestTimeTooSkewed"));
}

#[test]
fn scripted_replies_bring_raw_headers_their_own_date_or_none() {
    let standin = StandIn::start();
    let odd = Reply::raw(200, "", "")
        .with_header("Date", "Fri, 31 Dec 9999 23:59:59 GMT")
        .with_raw_header(&b"X-Odd: caf\xe9"[..])
        .with_raw_header("X-Folded: a\r\n b");
    standin.push_reply(odd);
    standin.push_reply(Reply::raw(204, "", "").without_date());
    let request = |id| retry_request(&standin, &[id], SystemTime::now());
    let mut stream = connect(&standin);
    stream.write_all(&request("t1")).unwrap();
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0];
        stream.read_exact(&mut byte).unwrap();
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head);
    assert_eq!(head.matches("Date: ").count(), 1, "{head}");
    assert!(
        head.contains("\r\nDate: Fri, 31 Dec 9999 23:59:59 GMT\r\n"),
        "{head}"
    );
    assert!(head.contains("\r\nX-Odd: caf\u{fffd}\r\n"), "{head}");
    assert!(
        head.contains("\r\nX-Folded: a\r\n b\r\nContent-Length: 0\r\n"),
        "{head}"
    );
    let no_content = exchange(&mut stream, &request("t2"));
    assert_eq!(no_content.status, 204);
    assert_eq!(no_content.header("Date"), None);
    assert_eq!(no_content.header("Content-Length"), None);
    assert!(standin.accepted().is_empty());
}

#[test]
fn proxy_replies_answer_before_any_check() {
    let standin = StandIn::start();
    standin.push_proxy_reply(Reply::raw(503, "", "").with_header("Retry-After", "2"));
    let stale = UNIX_EPOCH + Duration::from_secs(1_000_000_000);
    let request = retry_request(&standin, &["t1"], stale);
    let mut stream = connect(&standin);
    let proxied = exchange(&mut stream, &request);
    assert_eq!(
        (proxied.status, proxied.header("Retry-After")),
        (503, Some("2"))
    );
    let checked = exchange(&mut stream, &request);
    assert_eq!(
        (checked.status, checked.error().0.as_str()),
        (400, "RequestTimeExpired")
    );
    let faults: Vec<Option<String>> = standin.requests().into_iter().map(|r| r.fault).collect();
    assert_eq!(faults, [Some("proxied 503".to_string()), None]);
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

/// A window well inside the stand-in's 48 hours: from a minute after it opens to ten minutes ahead.
fn window(standin: &StandIn) -> String {
    let now = unix_secs(standin.server_time());
    format!("from={}&to={}", now - 48 * 3600 + 60, now + 600)
}

/// The ids GetShipperStatus must list for `window`: created inside it, with `status` if given, newest first, then by id.
fn expected_ids(standin: &StandIn, window: &str, status: Option<&str>) -> Vec<String> {
    let bound = |key: &str| {
        let pair = window.split('&').find_map(|p| p.strip_prefix(key));
        pair.unwrap().parse::<i64>().unwrap()
    };
    let range = bound("from=")..bound("to=");
    let mut tasks: Vec<Task> = (standin.tasks().into_iter())
        .filter(|t| range.contains(&t.create_time) && status.is_none_or(|s| t.status == s))
        .collect();
    tasks.sort_by(|a, b| (b.create_time.cmp(&a.create_time)).then(a.id.cmp(&b.id)));
    tasks.into_iter().map(|t| t.id).collect()
}

/// One successful GetShipperStatus page.
fn list(stream: &mut TcpStream, standin: &StandIn, query: &str) -> Value {
    let answer = exchange(stream, &list_request(standin, query));
    assert_eq!(answer.status, 200, "{query}: {}", answer.body);
    assert_eq!(answer.header("Content-Type"), Some("application/json"));
    assert!(answer.header("x-log-requestid").is_some());
    let page: Value = serde_json::from_str(&answer.body).unwrap();
    assert_eq!(page["count"], page["tasks"].as_array().unwrap().len());
    page
}

fn page_ids(page: &Value) -> Vec<String> {
    let tasks = page["tasks"].as_array().unwrap().iter();
    tasks
        .map(|t| t["id"].as_str().unwrap().to_string())
        .collect()
}

/// Pages as the service documents (`offset += count` until `offset >= total` or `count == 0`):
/// the ids in order, and each page's count and total.
fn list_all(standin: &StandIn, query: &str) -> (Vec<String>, Vec<u64>, Vec<u64>) {
    let mut stream = connect(standin);
    let (mut ids, mut counts, mut totals) = (Vec::new(), Vec::new(), Vec::new());
    let mut offset = 0;
    loop {
        let page = list(&mut stream, standin, &format!("{query}&offset={offset}"));
        let (count, total) = (
            page["count"].as_u64().unwrap(),
            page["total"].as_u64().unwrap(),
        );
        ids.extend(page_ids(&page));
        counts.push(count);
        totals.push(total);
        offset += count;
        if offset >= total || count == 0 {
            return (ids, counts, totals);
        }
    }
}

#[test]
fn paging_lists_every_task_in_the_window_once() {
    let standin = StandIn::builder().generated_tasks(120, 7).build();
    let window = window(&standin);
    let expected = expected_ids(&standin, &window, None);
    let held = standin.tasks().len();
    assert!(
        (100..held).contains(&expected.len()),
        "{} of {held}",
        expected.len()
    );
    let (ids, counts, totals) = list_all(&standin, &format!("{window}&status=&size=25"));
    assert_eq!(ids, expected);
    let last = expected.len() as u64 - 100;
    assert_eq!(counts, [25, 25, 25, 25, last]);
    assert!(totals.iter().all(|&t| t == expected.len() as u64));

    // The newest task in full; `offset` past the end is an empty page, not an error.
    let mut stream = connect(&standin);
    let page = list(&mut stream, &standin, &format!("{window}&size=1"));
    let tasks = standin.tasks();
    let newest = tasks.iter().find(|t| t.id == expected[0]).unwrap();
    let entry = &page["tasks"][0];
    assert_eq!(entry["taskStatus"], newest.status.as_str());
    assert_eq!(entry["taskMessage"], newest.message.as_str());
    assert_eq!(entry["taskCreateTime"], newest.create_time);
    assert_eq!(
        entry["taskLastDataReceiveTime"],
        newest.last_data_receive_time
    );
    assert_eq!(entry["taskFinishTime"], newest.finish_time);
    assert!(entry["taskCode"].is_string() && entry["taskDataLines"].is_u64());
    let beyond = list(&mut stream, &standin, &format!("{window}&offset=1000"));
    assert_eq!(
        (beyond["count"].as_u64(), beyond["total"].as_u64()),
        (Some(0), Some(expected.len() as u64))
    );
}

#[test]
fn status_filters_tasks_but_not_statistics() {
    let standin = StandIn::builder().generated_tasks(60, 1).build();
    let window = window(&standin);
    let mut stream = connect(&standin);
    let all = list(&mut stream, &standin, &window);
    let tally = |status| expected_ids(&standin, &window, Some(status)).len();
    let statistics = serde_json::json!({
        "running": tally("running"), "success": tally("success"), "fail": tally("fail")
    });
    assert_eq!(all["statistics"], statistics);
    assert!(tally("running") > 0 && tally("fail") > 0);
    // The default size (100) takes the whole window.
    assert_eq!(page_ids(&all), expected_ids(&standin, &window, None));
    for status in ["running", "success", "fail"] {
        let page = list(&mut stream, &standin, &format!("{window}&status={status}"));
        assert_eq!(page["statistics"], statistics, "{status}");
        assert_eq!(page["total"], tally(status), "{status}");
        assert_eq!(
            page_ids(&page),
            expected_ids(&standin, &window, Some(status))
        );
        for task in page["tasks"].as_array().unwrap() {
            assert_eq!(task["taskStatus"], status);
            let (message, code) = (
                task["taskMessage"].as_str().unwrap(),
                task["taskCode"].as_str().unwrap(),
            );
            assert_eq!(
                message.starts_with("write oss failed: "),
                status == "fail",
                "{message}"
            );
            assert_eq!(code.is_empty(), status != "fail", "{code}");
            assert_eq!(task["taskFinishTime"] == 0, status == "running");
        }
    }
}

#[test]
fn listing_refuses_bad_parameters_and_unknown_targets() {
    let standin = StandIn::builder().generated_tasks(10, 1).build();
    let now = unix_secs(standin.server_time());
    let (from, to) = (now - 3600, now);
    let too_old = now - 48 * 3600 - 1;
    let cases = [
        (format!("from={too_old}&to={to}"), "last 48 hours"),
        (format!("from={from}&to={to}&size=501"), "size"),
        (format!("from={from}&to={to}&size=0"), "size"),
        (format!("to={to}"), "from"),
        (format!("from={from}&to="), "to"),
        (format!("from={from}&to=soon"), "to"),
        (format!("from={to}&to={from}"), "less than"),
        (format!("from={from}&to={to}&status=failed"), "status"),
        (format!("from={from}&to={to}&offset=-1"), "offset"),
    ];
    let mut stream = connect(&standin);
    for (query, named) in &cases {
        let answer = exchange(&mut stream, &list_request(&standin, query));
        let (code, message) = answer.error();
        assert_eq!(
            (answer.status, code.as_str()),
            (400, "ParameterInvalid"),
            "{query}"
        );
        assert!(message.contains(named), "{query}: {message}");
    }
    let query = format!("from={from}&to={to}");
    for (world, expected) in [
        (
            StandIn::builder().logstore("other"),
            (404, "LogStoreNotExist"),
        ),
        (
            StandIn::builder().shipper("other"),
            (400, "ShipperNotExist"),
        ),
    ] {
        let standin = world.build();
        let (status, code) = refusal(&standin, &list_request(&standin, &query));
        assert_eq!((status, code.as_str()), expected);
    }
}

#[test]
fn max_page_makes_short_pages() {
    let standin = StandIn::builder()
        .generated_tasks(50, 3)
        .max_page(7)
        .build();
    let window = window(&standin);
    let (ids, counts, _) = list_all(&standin, &format!("{window}&size=20"));
    assert_eq!(ids, expected_ids(&standin, &window, None));
    assert_eq!(counts[0], 7);
    assert!(counts.iter().all(|&count| count <= 7), "{counts:?}");
}

#[test]
fn new_tasks_appear_once_the_first_page_is_served() {
    let standin = StandIn::builder()
        .generated_tasks(30, 5)
        .new_tasks_during_listing(3)
        .build();
    let before = standin.tasks();
    let query = format!("{}&size=10", window(&standin));
    let mut stream = connect(&standin);
    let totals: Vec<u64> = [0, 10, 20]
        .iter()
        .map(|offset| list(&mut stream, &standin, &format!("{query}&offset={offset}")))
        .map(|page| page["total"].as_u64().unwrap())
        .collect();
    assert_eq!(totals[1], totals[0] + 3);
    assert_eq!(totals[2], totals[1]);
    let after = standin.tasks();
    let new: Vec<&str> = (after.iter())
        .filter(|task| !before.contains(task))
        .map(|task| task.status.as_str())
        .collect();
    assert_eq!(new, ["fail", "success", "fail"]);
    assert_eq!(after.len(), before.len() + 3);
}

#[test]
fn scripted_replies_answer_listings_too() {
    let standin = StandIn::builder().generated_tasks(10, 2).build();
    standin.push_reply(Reply::error(500, "InternalServerError", "boom"));
    let page = serde_json::json!({"count": 0, "total": 0, "tasks": []});
    standin.push_reply(Reply::json(200, &page));
    let window = window(&standin);
    let mut stream = connect(&standin);
    let first = exchange(&mut stream, &list_request(&standin, &window));
    assert_eq!(
        (first.status, first.error().0.as_str()),
        (500, "InternalServerError")
    );
    assert_eq!(list(&mut stream, &standin, &window), page);
    let third = list(&mut stream, &standin, &window);
    assert_eq!(page_ids(&third), expected_ids(&standin, &window, None));
}

#[test]
fn generated_tasks_are_reproducible_and_plausible() {
    let build = |seed| StandIn::builder().generated_tasks(200, seed).build();
    let (standin, again, other) = (build(1), build(1), build(2));
    // Relative to the clock at build time, which may have moved between builds.
    let shape = |tasks: Vec<Task>| -> Vec<(String, String, String, i64)> {
        let first = tasks[0].create_time;
        let shape = |t: Task| (t.id, t.status, t.message, t.create_time - first);
        tasks.into_iter().map(shape).collect()
    };
    let tasks = standin.tasks();
    assert_eq!(shape(tasks.clone()), shape(again.tasks()));
    assert_ne!(shape(tasks.clone()), shape(other.tasks()));

    let now = unix_secs(standin.server_time());
    let mut ids: Vec<&str> = tasks.iter().map(|t| t.id.as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 200);
    let hex =
        |id: &&str| id.len() == 32 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    assert!(ids.iter().all(hex));
    let count = |status: &str| tasks.iter().filter(|t| t.status == status).count();
    assert!((20..=60).contains(&count("fail")), "{}", count("fail"));
    assert!((5..=40).contains(&count("running")), "{}", count("running"));
    assert_eq!(count("fail") + count("running") + count("success"), 200);
    let oldest = tasks.iter().map(|t| t.create_time).min().unwrap();
    let newest = tasks.iter().map(|t| t.create_time).max().unwrap();
    assert!(oldest < now - 48 * 3600 && newest < now);
    for task in &tasks {
        assert_eq!(task.finish_time == 0, task.status == "running", "{task:?}");
        assert_eq!(task.message.is_empty(), task.status != "fail", "{task:?}");
    }
}

fn v4_vector(name: &str) -> Value {
    let vectors = fixture_vectors("sign-v4.json");
    vectors.into_iter().find(|v| v["name"] == name).unwrap()
}

/// A JSON object of strings as `(name, value)` pairs.
fn pairs(object: &Value) -> Vec<(String, String)> {
    let object = object.as_object().unwrap().iter();
    let pair = |(k, v): (&String, &Value)| (k.clone(), v.as_str().unwrap().to_string());
    object.map(pair).collect()
}

/// Server clock minus system clock that puts the stand-in at the vector's time.
fn v4_skew(vector: &Value) -> i64 {
    let time = v4::parse_time(vector["time"].as_str().unwrap()).unwrap();
    unix_secs(time) - unix_secs(SystemTime::now())
}

/// A stand-in holding a v4 vector's project, logstore, shipper, account and region, its clock at the vector's time.
fn v4_world(vector: &Value) -> Builder {
    let text = |key: &str| vector[key].as_str().unwrap();
    let host = vector["headers_before_signing"]["Host"].as_str().unwrap();
    // "/logstores/{logstore}/shipper/{shipper}/tasks"
    let path: Vec<&str> = text("path").split('/').collect();
    let (key_id, secret) = (text("access_key_id"), text("access_key_secret"));
    let builder = match vector["security_token"].as_str() {
        Some(token) => StandIn::builder().sts_account(key_id, secret, token),
        None => StandIn::builder().account(key_id, secret),
    };
    let builder = builder.project(host.split('.').next().unwrap());
    let builder = builder.logstore(path[2]).shipper(path[4]);
    builder
        .region(text("region"))
        .clock_skew_secs(v4_skew(vector))
}

/// The vector's request on the wire: its headers, the x-log-content-sha256 and x-log-date it signed,
/// `authorization`, and `body` (the vector's own unless a test changes it).
fn v4_request(vector: &Value, authorization: &str, body: &str) -> Vec<u8> {
    let text = |key: &str| vector[key].as_str().unwrap();
    let query: Vec<String> = (pairs(&vector["query"]).iter())
        .map(|(k, v)| format!("{k}={}", utf8_percent_encode(v, NON_ALPHANUMERIC)))
        .collect();
    let target = match query.join("&") {
        query if query.is_empty() => text("path").to_string(),
        query => format!("{}?{query}", text("path")),
    };
    let mut head = format!("{} {target} HTTP/1.1\r\n", text("method"));
    let mut headers = pairs(&vector["headers_before_signing"]);
    headers.extend([
        (
            "x-log-content-sha256".into(),
            v4::sha256_hex(text("body").as_bytes()),
        ),
        ("x-log-date".into(), text("time").into()),
        ("Authorization".into(), authorization.into()),
        ("Content-Length".into(), body.len().to_string()),
    ]);
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    (head + "\r\n" + body).into_bytes()
}

#[test]
fn v4_canonicalisation_reproduces_every_vector() {
    let vectors = fixture_vectors("sign-v4.json");
    let names: Vec<&str> = vectors.iter().filter_map(|v| v["name"].as_str()).collect();
    assert!(
        names.contains(&"suite-1-post-logstores") && names.contains(&"suite-2-post-no-headers")
    );
    for vector in &vectors {
        let text = |key: &str| vector[key].as_str().unwrap();
        let (name, time, region) = (text("name"), text("time"), text("region"));
        let content_sha256 = v4::sha256_hex(text("body").as_bytes());
        let mut headers = pairs(&vector["headers_before_signing"]);
        headers.push(("x-log-content-sha256".into(), content_sha256.clone()));
        headers.push(("x-log-date".into(), time.into()));
        let query = pairs(&vector["query"]);
        let (method, path) = (text("method"), text("path"));
        let canonical = v4::canonical_request(method, path, &query, &headers, &content_sha256);
        assert_eq!(canonical, text("canonical_request"), "{name}");
        let date = &time[..8];
        let string_to_sign = v4::string_to_sign(time, date, region, &canonical);
        assert_eq!(string_to_sign, text("string_to_sign"), "{name}");
        let signature = v4::signature(text("access_key_secret"), date, region, &string_to_sign);
        assert_eq!(signature, text("signature"), "{name}");

        let credential = v4::parse_authorization(text("expected_authorization")).unwrap();
        let parsed = (credential.key_id, credential.date, credential.region);
        assert_eq!(parsed, (text("access_key_id"), date, region), "{name}");
        assert_eq!(credential.signature, signature, "{name}");
        assert_eq!(v4::format_time(v4::parse_time(time).unwrap()), time);
    }
}

#[test]
fn v4_vectors_verify_over_tcp() {
    let vectors = fixture_vectors("sign-v4.json");
    let derived = vectors.iter().filter(|v| {
        let name = v["name"].as_str().unwrap();
        name.starts_with("derived-")
    });
    let mut methods = Vec::new();
    for vector in derived {
        let text = |key: &str| vector[key].as_str().unwrap();
        let (name, body) = (text("name"), text("body"));
        let standin = v4_world(vector).build();
        let request = v4_request(vector, text("expected_authorization"), body);
        let answer = exchange(&mut connect(&standin), &request);
        if text("method") == "PUT" {
            assert_eq!(answer.status, 200, "{name}: {}", answer.body);
            let ids: Vec<String> = serde_json::from_str(body).unwrap();
            assert_eq!(standin.accepted(), [ids], "{name}");
        } else {
            // Verified, then refused: the vector's window is older than 48 hours at its own time.
            let (code, message) = answer.error();
            assert_eq!(code, "ParameterInvalid", "{name}: {}", answer.body);
            assert!(message.contains("last 48 hours"), "{name}: {message}");
        }
        assert_eq!(standin.requests()[0].signature_version, 4, "{name}");
        methods.push(text("method").to_string());
    }
    assert_eq!(methods, ["PUT", "PUT", "GET", "GET"]);
}

#[test]
fn v4_refuses_what_does_not_verify() {
    let vector = v4_vector("derived-retry-shipper-task");
    let text = |key: &str| vector[key].as_str().unwrap();
    let (authorization, body) = (text("expected_authorization"), text("body"));
    let signed = v4_request(&vector, authorization, body);
    let mut flipped = authorization.to_string();
    let last = flipped.pop().unwrap();
    flipped.push(if last == '0' { '1' } else { '0' });
    let other_body = body.replace("task-id-1", "task-id-9");
    let sha256 = v4::sha256_hex(body.as_bytes());
    let other_sha256 = String::from_utf8(signed.clone())
        .unwrap()
        .replace(&sha256, &v4::sha256_hex(other_body.as_bytes()))
        .replace(body, &other_body);
    let sts = v4_vector("derived-retry-shipper-task-sts");
    let sts_signed = v4_request(&sts, sts["expected_authorization"].as_str().unwrap(), body);
    let other_token = String::from_utf8(sts_signed)
        .unwrap()
        .replace("mockSecurityToken", "someoneElsesToken");
    let cases = [
        (
            "one signature digit flipped",
            v4_world(&vector),
            v4_request(&vector, &flipped, body),
            (401, "SignatureNotMatch"),
        ),
        (
            "a body other than the one hashed",
            v4_world(&vector),
            v4_request(&vector, authorization, &other_body),
            (400, "InvalidContentSha256"),
        ),
        (
            "x-log-content-sha256 of another body, not re-signed",
            v4_world(&vector),
            other_sha256.into_bytes(),
            (401, "SignatureNotMatch"),
        ),
        (
            "scoped to another region",
            v4_world(&vector).region("cn-shanghai"),
            signed.clone(),
            (401, "SignatureNotMatch"),
        ),
        (
            "an hour from the server clock",
            v4_world(&vector).clock_skew_secs(v4_skew(&vector) + 3600),
            signed.clone(),
            (400, "RequestTimeExpired"),
        ),
        (
            "another STS token",
            v4_world(&sts),
            other_token.into_bytes(),
            (401, "Unauthorized"),
        ),
        (
            "another scheme",
            v4_world(&vector),
            v4_request(&vector, "Bearer abc", body),
            (401, "Unauthorized"),
        ),
    ];
    for (what, world, request, expected) in cases {
        let standin = world.build();
        let answer = exchange(&mut connect(&standin), &request);
        let code = answer.error().0;
        assert_eq!((answer.status, code.as_str()), expected, "{what}");
        assert!(standin.accepted().is_empty(), "{what}");
    }
}

const ROLE: &str = "demo-ecs-role";
/// (AccessKeyId, AccessKeySecret, SecurityToken) the role hands out.
const ECS_CREDENTIALS: (&str, &str, &str) =
    ("STS.demo-ecs-key-id", "demo-ecs-secret", "demo-ecs-token");
const ROLES_PATH: &str = "/latest/meta-data/ram/security-credentials/";
const TOKEN_PATH: &str = "/latest/api/token";
const TTL_HEADER: &str = "X-aliyun-ecs-metadata-token-ttl-seconds";
const TOKEN_HEADER: &str = "X-aliyun-ecs-metadata-token";

fn ecs_world() -> Builder {
    let (key_id, secret, token) = ECS_CREDENTIALS;
    StandIn::builder().ecs_role(ROLE, key_id, secret, token)
}

/// A metadata request as credentials-go sends it, to 100.100.100.200.
fn metadata_request(method: &str, path: &str, headers: &[(&str, &str)]) -> Vec<u8> {
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: 100.100.100.200\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    (head + "\r\n").into_bytes()
}

#[test]
fn ecs_metadata_credentials_sign_sls_requests() {
    let standin = ecs_world().build();
    let mut stream = connect(&standin);
    let mut send = |method, path: &str, headers: &[(&str, &str)]| {
        exchange(&mut stream, &metadata_request(method, path, headers))
    };
    let token = send("PUT", TOKEN_PATH, &[(TTL_HEADER, "21600")]);
    assert_eq!(token.status, 200);
    let with_token = [(TOKEN_HEADER, token.body.as_str())];
    let role = send("GET", ROLES_PATH, &with_token);
    assert_eq!((role.status, role.body.as_str()), (200, ROLE));
    let answer = send("GET", &format!("{ROLES_PATH}{ROLE}"), &with_token);
    assert_eq!(answer.status, 200, "{}", answer.body);
    let json: Value = serde_json::from_str(&answer.body).unwrap();
    let (key_id, secret, sts_token) = ECS_CREDENTIALS;
    let fields = [
        ("AccessKeyId", key_id),
        ("AccessKeySecret", secret),
        ("SecurityToken", sts_token),
        ("Code", "Success"),
    ];
    for (field, wanted) in fields {
        assert_eq!(json[field], wanted, "{field}");
    }
    let time = |field: &str| humantime::parse_rfc3339(json[field].as_str().unwrap()).unwrap();
    let lifetime = unix_secs(time("Expiration")) - unix_secs(time("LastUpdated"));
    assert_eq!(lifetime, 6 * 3600);
    // A normal-mode instance still answers without a token (IMDSv1).
    assert_eq!(send("GET", ROLES_PATH, &[]).body, ROLE);

    let credentials = (key_id, secret, Some(sts_token));
    let request = retry_request_as(&standin, credentials, &["t1"], SystemTime::now());
    let answer = exchange(&mut connect(&standin), &request);
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(standin.accepted_ids(), ["t1"]);
    let requests = standin.requests();
    let seen: Vec<(&str, u16, u8)> = (requests.iter())
        .map(|r| (r.method.as_str(), r.status, r.signature_version))
        .collect();
    let metadata = [
        ("PUT", 200, 0),
        ("GET", 200, 0),
        ("GET", 200, 0),
        ("GET", 200, 0),
    ];
    assert_eq!(seen[..4], metadata);
    assert_eq!(seen[4], ("PUT", 200, 1));

    let without_token =
        retry_request_as(&standin, (key_id, secret, None), &["t2"], SystemTime::now());
    assert_eq!(
        refusal(&standin, &without_token),
        (401, "Unauthorized".into())
    );
}

#[test]
fn hardened_only_metadata_wants_a_valid_token() {
    let standin = ecs_world().ecs_require_token(true).build();
    let mut stream = connect(&standin);
    let mut send = |method, path: &str, headers: &[(&str, &str)]| {
        exchange(&mut stream, &metadata_request(method, path, headers))
    };
    assert_eq!(send("GET", ROLES_PATH, &[]).status, 403);
    assert_eq!(
        send("GET", ROLES_PATH, &[(TOKEN_HEADER, "forged")]).status,
        401
    );
    for ttl in ["0", "21601", "soon"] {
        let answer = send("PUT", TOKEN_PATH, &[(TTL_HEADER, ttl)]);
        assert_eq!(answer.status, 400, "{ttl}");
    }
    assert_eq!(send("PUT", TOKEN_PATH, &[]).status, 400);
    let forwarded = [(TTL_HEADER, "60"), ("X-Forwarded-For", "example.com")];
    assert_eq!(send("PUT", TOKEN_PATH, &forwarded).status, 403);
    let token = send("PUT", TOKEN_PATH, &[(TTL_HEADER, "60")]);
    assert_eq!(token.status, 200);
    let with_token = [(TOKEN_HEADER, token.body.as_str())];
    assert_eq!(send("GET", ROLES_PATH, &with_token).body, ROLE);
    let other_role = format!("{ROLES_PATH}other-role");
    assert_eq!(send("GET", &other_role, &with_token).status, 404);
    let statuses: Vec<u16> = standin.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [403, 401, 400, 400, 400, 400, 403, 200, 200, 404]);

    // Without a role, there is nothing to list.
    let no_role = StandIn::start();
    let request = metadata_request("GET", ROLES_PATH, &[]);
    assert_eq!(exchange(&mut connect(&no_role), &request).status, 404);
}

#[test]
fn same_seed_same_faults_and_faulted_requests_accept_nothing() {
    let world = |seed| {
        let world = StandIn::builder().fault_seed(seed).drop_rate(0.2);
        let world = world
            .error_rate(0.2, 503, "ServerBusy")
            .error_rate(0.1, 502, "");
        world.delay_rate(0.3, Duration::from_millis(1)).build()
    };
    // Each request on its own connection, as a dropped one ends it.
    let run = |standin: &StandIn| -> Vec<(u16, Option<String>)> {
        for n in 0..40 {
            let id = format!("t{n}");
            let answer = send(standin, &retry_request(standin, &[&id], SystemTime::now()));
            let status = answer.map_or(0, |answer| answer.status);
            assert_eq!(standin.requests()[n].status, status, "{id}");
        }
        let requests = standin.requests().into_iter();
        requests.map(|r| (r.status, r.fault)).collect()
    };
    let standin = world(7);
    let decisions = run(&standin);
    assert_eq!(decisions, run(&world(7)));
    assert_ne!(decisions, run(&world(8)));
    let statuses: Vec<u16> = decisions.iter().map(|d| d.0).collect();
    for status in [0, 200, 502, 503] {
        assert!(statuses.contains(&status), "{status} in {statuses:?}");
    }
    let delayed = |d: &(u16, Option<String>)| d.1.as_ref().is_some_and(|f| f.contains("delayed"));
    assert!(decisions.iter().any(delayed), "{decisions:?}");

    // Only what was answered 200 was accepted; every attempt is on record.
    let requests = standin.requests();
    let ok = requests.iter().filter(|r| r.status == 200);
    let answered_ok: Vec<String> = ok.flat_map(|r| r.task_ids()).collect();
    assert_eq!(standin.accepted_ids(), answered_ok);
    for r in requests.iter().filter(|r| r.status != 200) {
        let fault = r.fault.as_deref().unwrap_or_default();
        assert!(fault.starts_with("injected "), "{fault}");
        assert!(r.accepted_ids.is_empty());
    }
    assert!((0..40).all(|n| standin.attempts_for(&format!("t{n}")) == 1));
}

#[test]
fn injected_errors_answer_instead_of_processing() {
    // (status, code, Retry-After, the HTML page's heading when the code is empty)
    let cases = [
        (503, "ServerBusy", Some("7"), ""),
        (500, "InternalServerError", None, ""),
        (403, "WriteQuotaExceed", None, ""),
        (403, "MetaOperationQpsLimitExceeded", None, ""),
        (502, "", None, "502 Bad Gateway"),
        (429, "", Some("7"), "429 Too Many Requests"),
    ];
    for (status, code, retry_after, heading) in cases {
        let builder = StandIn::builder().error_rate(1.0, status, code);
        let standin = builder.retry_after(7).build();
        // A bad signature is still refused first.
        let wrong = (DEMO_KEY_ID, "wrong-secret", None);
        let refused = retry_request_as(&standin, wrong, &["t0"], SystemTime::now());
        let answer = exchange(&mut connect(&standin), &refused);
        assert_eq!(answer.status, 401, "{code}");

        let request = retry_request(&standin, &["t1"], SystemTime::now());
        let answer = exchange(&mut connect(&standin), &request);
        assert_eq!(answer.status, status, "{code}");
        assert_eq!(answer.header("Retry-After"), retry_after, "{code}");
        assert!(answer.header("Date").is_some(), "{code}");
        if code.is_empty() {
            let page = format!("<html><body><h1>{heading}</h1></body></html>");
            assert_eq!(answer.body, page);
            assert_eq!(answer.header("Content-Type"), Some("text/html"));
            assert!(answer.header("x-log-requestid").is_none(), "{status}");
        } else {
            let (sent_code, message) = answer.error();
            assert_eq!(sent_code, code);
            assert!(!message.is_empty());
            assert!(answer.header("x-log-requestid").is_some(), "{code}");
        }
        assert!(standin.accepted().is_empty(), "{code}");
        let recorded = &standin.requests()[1];
        assert_eq!(recorded.status, status, "{code}");
        let expected = format!("injected {status} {code}");
        assert_eq!(recorded.fault.as_deref(), Some(expected.trim_end()));
        assert_eq!(standin.attempts_for("t1"), 1);
    }
}

#[test]
fn drop_rate_one_closes_without_an_answer_and_accepts_nothing() {
    let standin = StandIn::builder().drop_rate(1.0).build();
    for _ in 0..2 {
        let mut stream = connect(&standin);
        let request = retry_request(&standin, &["t1"], SystemTime::now());
        stream.write_all(&request).unwrap();
        assert_eq!(read_until_closed(&mut stream), b"");
    }
    let mut stream = connect(&standin);
    stream
        .write_all(&list_request(&standin, &window(&standin)))
        .unwrap();
    assert_eq!(read_until_closed(&mut stream), b"");
    assert!(standin.accepted().is_empty());
    assert_eq!(standin.attempts_for("t1"), 2);
    for r in standin.requests() {
        assert_eq!((r.status, r.fault.as_deref()), (0, Some("injected drop")));
    }
}

#[test]
fn scripted_redirect_truncated_and_dropped_replies() {
    let standin = StandIn::start();
    standin.push_reply(Reply::redirect(301, "https://elsewhere.example/"));
    standin.push_reply(Reply::raw(429, "", "").with_header("Retry-After", "3"));
    standin.push_reply(Reply::truncated(200, "", 20));
    standin.push_reply(Reply::truncated(500, "x".repeat(300), 250));
    standin.push_reply(Reply::drop_connection());
    let request = |id| retry_request(&standin, &[id], SystemTime::now());
    let mut stream = connect(&standin);
    let redirect = exchange(&mut stream, &request("t1"));
    assert_eq!(redirect.status, 301);
    assert_eq!(
        redirect.header("Location"),
        Some("https://elsewhere.example/")
    );
    assert_eq!(
        (redirect.header("Content-Length"), redirect.body.as_str()),
        (Some("0"), "")
    );
    let throttled = exchange(&mut stream, &request("t2"));
    assert_eq!(
        (throttled.status, throttled.header("Retry-After")),
        (429, Some("3"))
    );

    // Cut within the status line's neighbour, then within the body.
    stream.write_all(&request("t3")).unwrap();
    assert_eq!(read_until_closed(&mut stream), b"HTTP/1.1 200 OK\r\nSer");
    let mut stream = connect(&standin);
    stream.write_all(&request("t4")).unwrap();
    let cut = read_until_closed(&mut stream);
    assert_eq!(cut.len(), 250);
    let cut = String::from_utf8(cut).unwrap();
    let (head, body) = cut.split_once("\r\n\r\n").expect("the whole head");
    assert!(
        head.starts_with("HTTP/1.1 500 ") && head.contains("Content-Length: 300"),
        "{head}"
    );
    assert!(
        body.len() < 300 && body.bytes().all(|b| b == b'x'),
        "{body}"
    );

    let mut stream = connect(&standin);
    stream.write_all(&request("t5")).unwrap();
    assert_eq!(read_until_closed(&mut stream), b"");
    assert_eq!(exchange(&mut connect(&standin), &request("t6")).status, 200);
    assert_eq!(standin.accepted(), [["t6"]]);
    let faults: Vec<Option<String>> = standin.requests().into_iter().map(|r| r.fault).collect();
    let expected = [
        "scripted 301",
        "scripted 429",
        "scripted 200 truncated to 20 bytes",
        "scripted 500 truncated to 250 bytes",
        "scripted drop",
    ];
    let expected = expected.map(|f| Some(f.to_string()));
    assert_eq!(faults[..5], expected);
    assert_eq!(faults[5], None);
}

#[test]
fn hang_never_answers_and_does_not_block_drop() {
    let standin = StandIn::builder().hang().build();
    let mut stream = connect(&standin);
    stream
        .write_all(&retry_request(&standin, &["t1"], SystemTime::now()))
        .unwrap();
    wait_until("the request in flight", || standin.in_flight() == 1);
    let recorded = standin.requests();
    assert_eq!(
        (recorded[0].status, recorded[0].fault.as_deref()),
        (0, Some("injected hang"))
    );
    assert!(standin.accepted().is_empty());
    drop(standin);
    // connect() set a read timeout: a hang here is an error, not a pass.
    assert_eq!(read_until_closed(&mut stream), b"");
}

#[test]
fn peak_concurrency_counts_requests_handled_at_once() {
    let standin = StandIn::builder().delay(Duration::from_secs(1)).build();
    let mut streams: Vec<TcpStream> = (0..3).map(|_| connect(&standin)).collect();
    for (n, stream) in streams.iter_mut().enumerate() {
        let id = format!("t{n}");
        stream
            .write_all(&retry_request(&standin, &[&id], SystemTime::now()))
            .unwrap();
    }
    for stream in &streams {
        assert_eq!(read_answer(stream).map(|a| a.status), Some(200));
    }
    assert_eq!(standin.peak_concurrency(), 3);
    wait_until("no request in flight", || standin.in_flight() == 0);
    assert_eq!(standin.requests()[0].fault.as_deref(), Some("delayed 1s"));

    let standin = StandIn::start();
    let mut stream = connect(&standin);
    for id in ["t1", "t2", "t3"] {
        let answer = exchange(
            &mut stream,
            &retry_request(&standin, &[id], SystemTime::now()),
        );
        assert_eq!(answer.status, 200);
    }
    assert_eq!(standin.peak_concurrency(), 1);
}
