//! Self-tests of the stand-in's HTTPS front, driven with ureq as a client: every route served over TLS to a client that trusts the test CA, and recorded as such with its User-Agent; a client without the CA, an expired certificate, a certificate for other names refused in one connection that records no request.

use std::time::SystemTime;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use standin::tls::{self, TlsIdentity};
use standin::{Builder, StandIn};

use super::retry_request;
use crate::harness::Home;

/// The User-Agent of `client`'s agent: what a CONNECT carries (ureq sends the agent's there,
/// not a request's own).
pub(super) const AGENT_USER_AGENT: &str = "selftest-agent/1.0";

/// A client that trusts `roots` (`None`: ureq's bundled public roots), through `proxy` if
/// given (a proxy URL as ureq takes it), and reads every status as an answer.
pub(super) fn client(roots: Option<&[&str]>, proxy: Option<&str>) -> ureq::Agent {
    let roots: Vec<CertificateDer<'static>> = match roots {
        // Mozilla's roots, as a client that knows nothing of the test CA.
        None => webpki_root_certs::TLS_SERVER_ROOT_CERTS.to_vec(),
        Some(pems) => (pems.iter())
            .map(|pem| CertificateDer::from_pem_slice(pem.as_bytes()).expect("a PEM CA"))
            .collect(),
    };
    // sls-retry's own TLS settings (its crypto provider), trusting `roots`.
    let tls = sls_retry::http::trust::config(roots);
    let proxy = proxy.map(|url| ureq::Proxy::new(url).expect("a proxy URL"));
    let config = ureq::Agent::config_builder()
        .tls_config(tls)
        .proxy(proxy)
        .user_agent(AGENT_USER_AGENT)
        .http_status_as_error(false)
        .build();
    config.into()
}

/// A client that trusts only the test CA.
pub(super) fn trusting_client(proxy: Option<&str>) -> ureq::Agent {
    client(Some(&[tls::ca_pem()]), proxy)
}

/// `raw` (a request as the raw-TCP self-tests write it, `Host` included) sent to `base` by
/// `agent` with `User-Agent: {user_agent}`: the status and body, or ureq's error.
pub(super) fn replay(
    agent: &ureq::Agent,
    base: &str,
    raw: &[u8],
    user_agent: &str,
) -> Result<(u16, String), ureq::Error> {
    let raw = String::from_utf8(raw.to_vec()).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").expect("a whole head");
    let mut lines = head.split("\r\n");
    let start: Vec<&str> = lines.next().unwrap().split(' ').collect();
    let mut request = ureq::http::Request::builder()
        .method(start[0])
        .uri(format!("{base}{}", start[1]))
        .header("User-Agent", user_agent);
    for line in lines {
        let (name, value) = line.split_once(": ").expect("a header line");
        // ureq writes the length of the body it sends.
        if !name.eq_ignore_ascii_case("content-length") {
            request = request.header(name, value);
        }
    }
    let mut answer = agent.run(request.body(body.as_bytes().to_vec()).unwrap())?;
    let text = answer.body_mut().read_to_string()?;
    Ok((answer.status().as_u16(), text))
}

/// One request to each route the stand-in serves (RetryShipperTask, STS at `/`, an ECS metadata
/// token, the credentials URI), each with its own User-Agent: the statuses answered.
fn every_route(standin: &StandIn, agent: &ureq::Agent) -> Vec<u16> {
    let host = format!("Host: 127.0.0.1:{}", standin.port());
    let routes: [(&str, Vec<u8>); 4] = [
        (
            "sls",
            retry_request(standin, &["task-1"], SystemTime::now()),
        ),
        (
            "sts",
            format!("POST /?Action=AssumeRole HTTP/1.1\r\n{host}\r\n\r\n").into_bytes(),
        ),
        (
            "metadata",
            format!(
                "PUT /latest/api/token HTTP/1.1\r\n{host}\r\n\
                 X-aliyun-ecs-metadata-token-ttl-seconds: 60\r\n\r\n"
            )
            .into_bytes(),
        ),
        (
            "uri",
            format!("GET /credentials-uri HTTP/1.1\r\n{host}\r\n\r\n").into_bytes(),
        ),
    ];
    let base = standin.endpoint();
    let answer = |(name, raw): &(&str, Vec<u8>)| {
        let user_agent = format!("selftest-{name}/1.0");
        let answered = replay(agent, &base, raw, &user_agent);
        answered.unwrap_or_else(|e| panic!("{name}: {e}")).0
    };
    routes.iter().map(answer).collect()
}

fn world() -> Builder {
    StandIn::builder().credentials_uri(900)
}

#[test]
fn every_route_is_served_over_tls_and_recorded_with_its_user_agent() {
    let plain = world().build();
    let over_tls = world().tls(TlsIdentity::valid()).build();
    assert!(plain.endpoint().starts_with("http://127.0.0.1:"));
    let https = format!("https://localhost:{}", over_tls.port());
    assert_eq!(over_tls.endpoint(), https);
    assert_eq!(over_tls.credentials_uri(), https + "/credentials-uri");

    let statuses = every_route(&plain, &trusting_client(None));
    assert_eq!(statuses, [200, 400, 200, 200]);
    assert_eq!(every_route(&over_tls, &trusting_client(None)), statuses);
    for (standin, tls) in [(plain, false), (over_tls, true)] {
        let requests = standin.requests();
        let seen: Vec<(&str, Option<&str>, bool)> = (requests.iter())
            .map(|r| (r.path.as_str(), r.header("user-agent"), r.tls))
            .collect();
        let expected = [
            ("/logstores/demo-logstore/shipper/demo-shipper/tasks", "sls"),
            ("/", "sts"),
            ("/latest/api/token", "metadata"),
            ("/credentials-uri", "uri"),
        ];
        let user_agents: Vec<String> = (expected.iter())
            .map(|(_, name)| format!("selftest-{name}/1.0"))
            .collect();
        let expected: Vec<(&str, Option<&str>, bool)> = (expected.iter().zip(&user_agents))
            .map(|((path, _), user_agent)| (*path, Some(user_agent.as_str()), tls))
            .collect();
        assert_eq!(seen, expected);
        assert_eq!(standin.accepted_ids(), ["task-1"]);
        assert!(standin.tls_failures().is_empty());
        assert_eq!(standin.connections(), 1, "one keep-alive connection");
    }
}

/// What one request to `identity`'s stand-in meets from a client that trusts `roots`: ureq's
/// error. Exactly one connection, no request, one failed handshake (ureq closes without an
/// alert, so the stand-in's reason is only an early end).
fn refused(identity: TlsIdentity, roots: Option<&[&str]>) -> String {
    let standin = StandIn::builder().tls(identity).build();
    let raw = retry_request(&standin, &["task-1"], SystemTime::now());
    let answered = replay(&client(roots, None), &standin.endpoint(), &raw, "selftest");
    let error = answered
        .expect_err("the certificate is refused")
        .to_string();
    assert_eq!(standin.connections(), 1, "{error}");
    assert!(standin.requests().is_empty(), "{error}");
    let failures = standin.tls_failures();
    assert_eq!(failures.len(), 1, "{failures:?}");
    error
}

#[test]
fn a_client_without_the_test_ca_refuses_the_certificate_in_one_connection() {
    let error = refused(TlsIdentity::valid(), None);
    assert!(error.contains("UnknownIssuer"), "{error}");
    let error = refused(TlsIdentity::valid(), Some(&[tls::unknown_ca_pem()]));
    assert!(error.contains("UnknownIssuer"), "{error}");
}

#[test]
fn expired_and_misnamed_certificates_are_refused_with_the_test_ca() {
    let trusted: &[&str] = &[tls::ca_pem()];
    let error = refused(TlsIdentity::expired(), Some(trusted));
    assert!(error.contains("expired"), "{error}");
    let error = refused(TlsIdentity::valid_for(&["other.example"]), Some(trusted));
    assert!(error.contains("not valid for name"), "{error}");
}

#[test]
fn a_certificate_of_another_ca_is_trusted_with_that_ca_only() {
    let error = refused(TlsIdentity::unknown_issuer(), Some(&[tls::ca_pem()]));
    assert!(error.contains("UnknownIssuer"), "{error}");
    let standin = StandIn::builder()
        .tls(TlsIdentity::unknown_issuer())
        .build();
    let raw = retry_request(&standin, &["task-1"], SystemTime::now());
    let agent = client(Some(&[tls::unknown_ca_pem()]), None);
    let answer = replay(&agent, &standin.endpoint(), &raw, "selftest").unwrap();
    assert_eq!(answer.0, 200, "{}", answer.1);
}

#[test]
fn plain_http_to_the_tls_front_is_a_failed_handshake() {
    use std::io::{Read, Write};
    let standin = StandIn::builder().tls(TlsIdentity::valid()).build();
    let mut stream = super::connect(&standin);
    let raw = retry_request(&standin, &["task-1"], SystemTime::now());
    stream.write_all(&raw).unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    assert!(!answer.starts_with(b"HTTP/"), "no HTTP answer");
    assert!(standin.requests().is_empty());
    let failures = standin.tls_failures();
    assert_eq!(failures.len(), 1, "{failures:?}");
}

#[test]
fn the_ca_file_a_home_holds_is_what_clients_trust_the_stand_in_with() {
    let home = Home::new();
    let written = std::fs::read_to_string(home.write_ca()).unwrap();
    assert_eq!(home.path().join("ca.pem"), home.write_ca());
    let standin = StandIn::builder().tls(TlsIdentity::valid()).build();
    let raw = retry_request(&standin, &["task-1"], SystemTime::now());
    let agent = client(Some(&[written.as_str()]), None);
    let answer = replay(&agent, &standin.endpoint(), &raw, "selftest").unwrap();
    assert_eq!(answer.0, 200, "{}", answer.1);
}

#[test]
fn the_test_ca_is_one_pem_certificate_for_the_whole_process() {
    for pem in [tls::ca_pem(), tls::unknown_ca_pem()] {
        assert!(pem.starts_with("-----BEGIN CERTIFICATE-----\n"), "{pem}");
        assert_eq!(pem.matches("BEGIN").count(), 1);
    }
    assert_ne!(tls::ca_pem(), tls::unknown_ca_pem());
    assert!(std::ptr::eq(tls::ca_pem(), tls::ca_pem()));
}
