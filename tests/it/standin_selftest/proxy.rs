//! Self-tests of the stand-in's proxies, driven with ureq and over raw TCP: the CONNECT proxy tunnels SLS names to the HTTPS stand-in without DNS and records target, user and User-Agent; SOCKS5 takes names (`socks5h`) or addresses (`socks5`); both want their credentials when they have some, and refuse unrouted and dead targets with their protocol's codes; nothing listens at `DEAD_ADDR`.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::SystemTime;

use standin::proxy::{AddressType, Asked, DEAD_ADDR, Outcome, Protocol, Proxy};
use standin::proxy::{DEMO_PROXY_PASSWORD, DEMO_PROXY_USER};
use standin::{StandIn, TlsIdentity};

use super::retry_request;
use super::tls::{AGENT_USER_AGENT, replay, trusting_client};

/// The demo project's host at `standin::DEMO_SLS_HOST`: it must never reach DNS.
const SLS_HOST: &str = "demo-project.cn-hangzhou.log.aliyuncs.com";

/// One RetryShipperTask to `base` through the proxy at `proxy_url`: the status, or ureq's error.
fn retry_through(standin: &StandIn, proxy_url: &str, base: &str) -> Result<u16, String> {
    let raw = retry_request(standin, &["task-1"], SystemTime::now());
    let agent = trusting_client(Some(proxy_url));
    let answered = replay(&agent, base, &raw, "selftest/1.0");
    answered
        .map(|(status, _)| status)
        .map_err(|e| e.to_string())
}

fn asked(protocol: Protocol, target: &str, user: Option<&str>, outcome: Outcome) -> Asked {
    let address_type = match target {
        "" => None,
        _ if target.starts_with("127.") => Some(AddressType::Ipv4),
        _ => Some(AddressType::Domain),
    };
    Asked {
        protocol,
        target: target.into(),
        address_type,
        user: user.map(String::from),
        user_agent: None,
        method: None,
        outcome,
    }
}

#[test]
fn connect_tunnels_sls_names_to_the_https_stand_in_and_records_what_it_was_asked() {
    let standin = StandIn::builder().tls(TlsIdentity::valid()).build();
    let proxy = Proxy::connect().route_all(standin.addr()).start();
    assert_eq!(proxy.url(), format!("http://{}", proxy.addr()));
    let base = format!("https://{SLS_HOST}");
    assert_eq!(retry_through(&standin, &proxy.url(), &base), Ok(200));
    assert_eq!(standin.accepted_ids(), ["task-1"]);
    assert!(standin.requests()[0].tls);
    let target = format!("{SLS_HOST}:443");
    let expected = Asked {
        user_agent: Some(AGENT_USER_AGENT.into()),
        ..asked(Protocol::Connect, &target, None, Outcome::Tunneled)
    };
    assert_eq!(proxy.asked(), [expected]);
    assert_eq!(proxy.tunneled(), [target]);
}

#[test]
fn connect_wants_its_credentials() {
    let standin = StandIn::builder().tls(TlsIdentity::valid()).build();
    let proxy = (Proxy::connect().demo_credentials())
        .route(&format!("{SLS_HOST}:443"), standin.addr())
        .start();
    let base = format!("https://{SLS_HOST}");
    let without = retry_through(&standin, &proxy.url(), &base).unwrap_err();
    assert!(without.contains("407"), "{without}");
    let wrong = proxy.url_with(DEMO_PROXY_USER, "wrong-password");
    assert!(retry_through(&standin, &wrong, &base).is_err());
    let right = proxy.url_with(DEMO_PROXY_USER, DEMO_PROXY_PASSWORD);
    assert_eq!(retry_through(&standin, &right, &base), Ok(200));
    let seen: Vec<(Option<String>, Outcome)> = (proxy.asked().into_iter())
        .map(|asked| (asked.user, asked.outcome))
        .collect();
    let user = Some(DEMO_PROXY_USER.to_string());
    let expected = [
        (None, Outcome::Unauthorized),
        (user.clone(), Outcome::Unauthorized),
        (user, Outcome::Tunneled),
    ];
    assert_eq!(seen, expected);
    assert_eq!(
        standin.connections(),
        1,
        "only the admitted request got through"
    );
}

/// `request` written to the proxy on a new connection: everything it answered until it closed.
fn raw_exchange(proxy: &Proxy, request: &[u8]) -> Vec<u8> {
    let mut stream = TcpStream::connect(proxy.addr()).unwrap();
    stream.write_all(request).unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).unwrap();
    answer
}

/// The status line and the headers of an HTTP answer.
fn head(answer: &[u8]) -> String {
    let text = String::from_utf8_lossy(answer);
    text.split("\r\n\r\n").next().unwrap().to_string()
}

#[test]
fn connect_answers_as_a_proxy_does_what_it_cannot_tunnel() {
    let standin = StandIn::start();
    let routed = format!("{SLS_HOST}:80");
    let proxy = (Proxy::connect().demo_credentials())
        .route(&routed, standin.addr())
        .route("dead.example:80", DEAD_ADDR)
        .start();
    let connect = |target: &str, credentials: &str| {
        let request = format!(
            "CONNECT {target} HTTP/1.1\r\nHost: {target}\r\nProxy-Authorization: Basic {credentials}\r\n\r\n"
        );
        head(&raw_exchange(&proxy, request.as_bytes()))
    };
    // proxy-user:proxy-pass-never-printed, and proxy-user:wrong
    let good = "cHJveHktdXNlcjpwcm94eS1wYXNzLW5ldmVyLXByaW50ZWQ=";
    let bad = "cHJveHktdXNlcjp3cm9uZw==";
    let unrouted = connect("elsewhere.example:443", good);
    assert!(unrouted.starts_with("HTTP/1.1 502 "), "{unrouted}");
    let dead = connect("dead.example:80", good);
    assert!(dead.starts_with("HTTP/1.1 502 "), "{dead}");
    let unauthorized = connect(&routed, bad);
    assert!(unauthorized.starts_with("HTTP/1.1 407 "), "{unauthorized}");
    assert!(unauthorized.contains("\r\nProxy-Authenticate: Basic realm="));
    let get = head(&raw_exchange(
        &proxy,
        b"GET http://example.com/ HTTP/1.1\r\n\r\n",
    ));
    assert!(get.starts_with("HTTP/1.1 405 "), "{get}");

    let outcomes: Vec<(String, Outcome, Option<String>)> = (proxy.asked().into_iter())
        .map(|asked| (asked.target, asked.outcome, asked.method))
        .collect();
    let expected = [
        ("elsewhere.example:443", Outcome::Unrouted, None),
        ("dead.example:80", Outcome::Refused, None),
        (routed.as_str(), Outcome::Unauthorized, None),
        ("http://example.com/", Outcome::Unsupported, Some("GET")),
    ];
    let expected = expected
        .map(|(target, outcome, method)| (target.to_string(), outcome, method.map(String::from)));
    assert_eq!(outcomes, expected);
    assert!(proxy.tunneled().is_empty());
    assert_eq!(standin.connections(), 0);
}

#[test]
fn socks5h_sends_the_name_and_socks5_the_address() {
    let standin = StandIn::start();
    let proxy = Proxy::socks5().route_all(standin.addr()).start();
    assert_eq!(proxy.url(), format!("socks5h://{}", proxy.addr()));
    let port = standin.port();
    let local = format!("http://localhost:{port}");
    assert_eq!(retry_through(&standin, &proxy.url(), &local), Ok(200));
    let resolved_here = proxy.url_as("socks5");
    assert_eq!(retry_through(&standin, &resolved_here, &local), Ok(200));
    let sls = format!("http://{SLS_HOST}");
    assert_eq!(retry_through(&standin, &proxy.url(), &sls), Ok(200));

    let tunneled = Outcome::Tunneled;
    let expected = [
        asked(
            Protocol::Socks5,
            &format!("localhost:{port}"),
            None,
            tunneled,
        ),
        asked(
            Protocol::Socks5,
            &format!("127.0.0.1:{port}"),
            None,
            tunneled,
        ),
        asked(Protocol::Socks5, &format!("{SLS_HOST}:80"), None, tunneled),
    ];
    assert_eq!(proxy.asked(), expected);
    assert_eq!(standin.accepted_ids().len(), 3);
}

#[test]
fn socks5_wants_its_credentials() {
    let standin = StandIn::start();
    let proxy = Proxy::socks5().demo_credentials().route_all(standin.addr());
    let proxy = proxy.start();
    let base = format!("http://{SLS_HOST}");
    let without = retry_through(&standin, &proxy.url(), &base).unwrap_err();
    assert!(without.contains("no acceptable auth methods"), "{without}");
    let wrong = proxy.url_with(DEMO_PROXY_USER, "wrong-password");
    let wrong = retry_through(&standin, &wrong, &base).unwrap_err();
    assert!(wrong.contains("password authentication failed"), "{wrong}");
    let right = proxy.url_with(DEMO_PROXY_USER, DEMO_PROXY_PASSWORD);
    assert_eq!(retry_through(&standin, &right, &base), Ok(200));

    let target = format!("{SLS_HOST}:80");
    let user = Some(DEMO_PROXY_USER);
    let expected = [
        asked(Protocol::Socks5, "", None, Outcome::Unauthorized),
        asked(Protocol::Socks5, "", user, Outcome::Unauthorized),
        asked(Protocol::Socks5, &target, user, Outcome::Tunneled),
    ];
    assert_eq!(proxy.asked(), expected);
    assert_eq!(standin.connections(), 1);
}

#[test]
fn socks5_refuses_with_the_codes_of_rfc_1928() {
    let proxy = Proxy::socks5().route("dead.example:80", DEAD_ADDR).start();
    // Greeting (no authentication), then a request: version, command, reserved, address.
    let request = |command: u8, address: &[u8]| {
        let mut bytes = vec![5, 1, 0, 5, command, 0];
        bytes.extend_from_slice(address);
        let answer = raw_exchange(&proxy, &bytes);
        assert_eq!(answer[..2], [5, 0], "no authentication chosen");
        answer[2..4].to_vec()
    };
    let name = |host: &str| {
        let mut address = vec![3, host.len() as u8];
        address.extend_from_slice(host.as_bytes());
        address.extend_from_slice(&80u16.to_be_bytes());
        address
    };
    assert_eq!(
        request(1, &name("elsewhere.example")),
        [5, 4],
        "host unreachable"
    );
    assert_eq!(
        request(1, &name("dead.example")),
        [5, 5],
        "connection refused"
    );
    assert_eq!(
        request(2, &name("dead.example")),
        [5, 7],
        "command not supported"
    );
    assert_eq!(request(1, &[9]), [5, 8], "address type not supported");
    let outcomes: Vec<(String, Outcome)> = (proxy.asked().into_iter())
        .map(|asked| (asked.target, asked.outcome))
        .collect();
    let expected = [
        ("elsewhere.example:80", Outcome::Unrouted),
        ("dead.example:80", Outcome::Refused),
        ("dead.example:80", Outcome::Unsupported),
        ("", Outcome::Unsupported),
    ];
    assert_eq!(outcomes, expected.map(|(t, o)| (t.to_string(), o)));
}

#[test]
fn nothing_listens_at_the_dead_address() {
    let refused = TcpStream::connect(DEAD_ADDR).unwrap_err();
    assert_eq!(refused.kind(), std::io::ErrorKind::ConnectionRefused);
    let standin = StandIn::start();
    let dead = format!("http://{DEAD_ADDR}");
    let error = retry_through(&standin, &dead, &standin.endpoint()).unwrap_err();
    assert!(error.contains("refused"), "{error}");
    assert_eq!(standin.connections(), 0);
}
