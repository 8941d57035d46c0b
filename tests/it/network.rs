//! The networks operators have, end to end on loopback: TLS trust (the system's store, a CA file
//! from the flag, `SSL_CERT_FILE` or a profile; expired and untrusted certificates refused at the
//! first attempt, and the run stopped), proxies as curl reads them (HTTP CONNECT and SOCKS5, with
//! and without credentials, `NO_PROXY`, a proxy that is down, a setting that cannot be used), STS
//! and the metadata service behind them, and the User-Agent of every request.

use standin::proxy::{DEAD_ADDR, DEMO_PROXY_PASSWORD, DEMO_PROXY_USER, Outcome, Proxy};
use standin::tls::TlsIdentity;
use standin::{
    DEMO_ENV, DEMO_KEY_ID, DEMO_KEY_SECRET, DEMO_SLS_HOST, Reply, StandIn, demo_target_at,
};

use crate::harness::{Home, Run, assert_contains, ids, run};

/// The stand-in over TLS, with a certificate from the test CA unless told otherwise.
fn tls_standin(identity: TlsIdentity) -> StandIn {
    StandIn::builder().tls(identity).build()
}

/// The User-Agent of every request the stand-in recorded.
fn user_agents(standin: &StandIn) -> Vec<String> {
    (standin.requests().iter())
        .map(|r| r.header("user-agent").unwrap_or("").to_string())
        .collect()
}

/// The demo command at `standin`, trusting the test CA with `--ca-file`.
fn trusting(home: &Home, standin: &StandIn) -> std::process::Command {
    let mut cmd = home.demo(standin);
    cmd.arg("--ca-file").arg(home.write_ca());
    cmd
}

fn assert_ours(user_agent: &str) {
    assert_eq!(
        user_agent,
        format!("sls-retry/{}", env!("CARGO_PKG_VERSION")),
        "User-Agent"
    );
}

#[test]
fn a_certificate_the_system_does_not_trust_fails_once_and_stops_the_run() {
    let standin = tls_standin(TlsIdentity::valid());
    let home = Home::new();
    let r = run(
        home.demo(&standin).args(["--retries", "4"]).args(ids(25)),
        None,
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_contains(
        &r.stdout,
        "batch 1/3  10 ids  FAILED  -    the TLS certificate of localhost is signed by a CA not \
         trusted here; if a TLS-inspecting proxy or a private CA signs it, trust that CA with \
         --ca-file FILE\n",
    );
    assert_contains(&r.stdout, "stopped after a certificate error in batch 1");
    assert_contains(
        &r.stderr,
        "sls-retry: error: batch 1 failed with a certificate error, which every batch would \
         meet: trust the CA that signs the endpoint's certificate with --ca-file FILE; the \
         remaining 2 batches were not sent",
    );
    // One attempt, one handshake refused, nothing sent.
    assert_eq!(standin.connections(), 1);
    assert_eq!(standin.tls_failures().len(), 1);
    assert!(standin.requests().is_empty());
}

#[test]
fn an_expired_certificate_is_refused_even_from_a_trusted_ca() {
    let standin = tls_standin(TlsIdentity::expired());
    let r = run(trusting(&Home::new(), &standin).arg("t1"), None);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_contains(
        &r.stdout,
        "the TLS certificate of localhost has expired (or the local clock is wrong)",
    );
    assert_eq!((standin.connections(), standin.requests().len()), (1, 0));
}

#[test]
fn the_test_ca_is_trusted_from_the_flag_ssl_cert_file_or_a_profile() {
    let standin = tls_standin(TlsIdentity::valid());
    let home = Home::new();
    let ca = home.write_ca();
    let flag = run(trusting(&home, &standin).arg("t1"), None);
    assert_eq!(flag.code, 0, "{}", flag.stderr);

    let env = run(
        home.demo(&standin)
            .env("SSL_CERT_FILE", &ca)
            .args(["-v", "t2"]),
        None,
    );
    assert_eq!(env.code, 0, "{}", env.stderr);
    assert_contains(&env.stderr, "TLS trust: 1 certificates from SSL_CERT_FILE");

    // A profile's ca_file is relative to the profile file (~/.config/sls-retry/).
    home.profile_file("[default]\nca_file = \"../../ca.pem\"\n");
    let profile = run(home.demo(&standin).args(["-v", "t3"]), None);
    assert_eq!(profile.code, 0, "{}", profile.stderr);
    assert_contains(&profile.stderr, "ca file from profile \"default\"");
    assert_contains(&profile.stderr, "ca.pem (ca_file of profile \"default\"");

    let over_tls: Vec<bool> = standin.requests().iter().map(|r| r.tls).collect();
    assert_eq!(over_tls, [true, true, true]);
    assert!(standin.tls_failures().is_empty());
}

#[test]
fn trust_settings_that_cannot_be_used_stop_before_anything_is_sent() {
    let standin = tls_standin(TlsIdentity::valid());
    let home = Home::new();
    let missing = home.path().join("missing.pem");
    let r = run(
        home.demo(&standin).arg("--ca-file").arg(&missing).arg("t1"),
        None,
    );
    assert_eq!(r.code, 2);
    assert_contains(
        &r.stderr,
        &format!(
            "sls-retry: error: cannot read the CA file {} (--ca-file): ",
            missing.display()
        ),
    );

    let empty = home.write("empty.pem", "", 0o644);
    let r = run(
        home.demo(&standin).env("SSL_CERT_FILE", &empty).arg("t1"),
        None,
    );
    assert_eq!(r.code, 2);
    assert_contains(
        &r.stderr,
        "SSL_CERT_FILE names no usable CA certificates (no certificates in it); point it at a \
         PEM bundle, or unset it to use the system's trust store",
    );
    assert_eq!(standin.connections(), 0);
}

/// The demo target at the real-looking endpoint `https://cn-hangzhou.log.aliyuncs.com`, which
/// only a proxy that routes it to the stand-in can reach (nothing is looked up in DNS).
fn behind_proxy(home: &Home) -> std::process::Command {
    let mut cmd = home.command();
    cmd.envs(DEMO_ENV)
        .args(demo_target_at(&format!("https://{DEMO_SLS_HOST}")))
        .arg("--ca-file")
        .arg(home.write_ca());
    cmd
}

/// The stand-in over TLS, and an HTTP proxy in front that wants the demo credentials.
fn stand_in_behind_a_guarded_proxy() -> (StandIn, Proxy) {
    let standin = tls_standin(TlsIdentity::valid());
    let proxy = Proxy::connect()
        .demo_credentials()
        .route_all(standin.addr())
        .start();
    (standin, proxy)
}

#[test]
fn an_http_proxy_with_credentials_tunnels_to_the_host_contacted() {
    let (standin, proxy) = stand_in_behind_a_guarded_proxy();
    let home = Home::new();
    let url = proxy.url_with(DEMO_PROXY_USER, DEMO_PROXY_PASSWORD);
    let r = run(
        behind_proxy(&home)
            .env("HTTPS_PROXY", &url)
            // The scheme's own variable wins over ALL_PROXY.
            .env("ALL_PROXY", format!("socks5h://{DEAD_ADDR}"))
            .args(["-v", "t1", "t2"]),
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let asked = proxy.asked();
    assert_eq!(asked.len(), 1, "one tunnel for the run: {asked:?}");
    assert_eq!(asked[0].target, format!("demo-project.{DEMO_SLS_HOST}:443"));
    assert_eq!(asked[0].user.as_deref(), Some(DEMO_PROXY_USER));
    assert_ours(asked[0].user_agent.as_deref().unwrap_or(""));
    assert_eq!(asked[0].outcome, Outcome::Tunneled);
    assert_contains(
        &r.stderr,
        &format!(
            "sls-retry: route to demo-project.{DEMO_SLS_HOST}: through http://***@{} (from \
             HTTPS_PROXY)",
            proxy.addr()
        ),
    );
    assert_eq!(standin.requests()[0].task_ids(), ["t1", "t2"]);
}

#[test]
fn a_proxy_that_wants_credentials_stops_the_run_and_names_itself() {
    let (standin, proxy) = stand_in_behind_a_guarded_proxy();
    let home = Home::new();
    let r = run(
        behind_proxy(&home)
            .env("https_proxy", proxy.url())
            .args(ids(15)),
        None,
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_contains(
        &r.stdout,
        &format!(
            "the proxy http://{} (from https_proxy) asks for a user name and password, or \
             refused those given (407): write them as user:password@ in https_proxy",
            proxy.addr()
        ),
    );
    assert_contains(
        &r.stderr,
        "batch 1 failed with the proxy's refusal, which every batch would meet: check the proxy \
         setting and its user name and password; the remaining 1 batch was not sent",
    );
    assert_eq!(proxy.asked().len(), 1, "not retried");
    assert!(standin.requests().is_empty());
}

#[test]
fn socks5h_hands_the_name_to_the_proxy_and_socks5_the_address() {
    let standin = tls_standin(TlsIdentity::valid());
    let home = Home::new();

    let proxy = Proxy::socks5()
        .demo_credentials()
        .route_all(standin.addr())
        .start();
    let url = proxy.url_with(DEMO_PROXY_USER, DEMO_PROXY_PASSWORD);
    let r = run(behind_proxy(&home).env("ALL_PROXY", &url).arg("t1"), None);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let asked = proxy.asked();
    assert_eq!(asked[0].target, format!("demo-project.{DEMO_SLS_HOST}:443"));
    assert_eq!(asked[0].user.as_deref(), Some(DEMO_PROXY_USER));

    // socks5://: looked up here (localhost), the proxy gets the address.
    let proxy = Proxy::socks5().route_all(standin.addr()).start();
    let url = proxy.url_as("socks5");
    let r = run(
        home.demo(&standin)
            .env("all_proxy", &url)
            .arg("--ca-file")
            .arg(home.write_ca())
            .arg("t2"),
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let port = standin.addr().port();
    assert_eq!(proxy.asked()[0].target, format!("127.0.0.1:{port}"));
    assert_eq!(standin.requests().len(), 2);
}

#[test]
fn no_proxy_sends_matching_hosts_directly() {
    let standin = tls_standin(TlsIdentity::valid());
    let proxy = Proxy::connect().route_all(standin.addr()).start();
    let home = Home::new();
    let ca = home.write_ca();
    // localhost by name; 127.0.0.1 by a CIDR range.
    let port = standin.addr().port();
    for (endpoint, no_proxy) in [
        (format!("https://localhost:{port}"), ".localhost"),
        (
            format!("https://127.0.0.1:{port}"),
            "example.com, 127.0.0.0/8",
        ),
        (
            format!("https://127.0.0.1:{port}"),
            &*format!("127.0.0.1:{port}"),
        ),
    ] {
        let r = run(
            home.command()
                .envs(DEMO_ENV)
                .args(demo_target_at(&endpoint))
                .env("HTTPS_PROXY", proxy.url())
                .env("NO_PROXY", no_proxy)
                .arg("--ca-file")
                .arg(&ca)
                .args(["-v", "t1"]),
            None,
        );
        assert_eq!(r.code, 0, "{no_proxy}: {}", r.stderr);
        assert_contains(&r.stderr, ": direct");
    }
    assert!(proxy.asked().is_empty());
    // A port that does not match: through the proxy after all.
    let r = run(
        home.command()
            .envs(DEMO_ENV)
            .args(demo_target_at(&format!("https://127.0.0.1:{port}")))
            .env("HTTPS_PROXY", proxy.url())
            .env("NO_PROXY", "127.0.0.1:1")
            .arg("--ca-file")
            .arg(&ca)
            .arg("t1"),
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(proxy.asked().len(), 1);
}

#[test]
fn a_proxy_that_is_down_is_named_not_the_endpoint() {
    let standin = tls_standin(TlsIdentity::valid());
    let home = Home::new();
    for (var, url) in [
        ("HTTPS_PROXY", format!("http://{DEAD_ADDR}")),
        ("ALL_PROXY", format!("socks5h://{DEAD_ADDR}")),
    ] {
        let r = run(
            behind_proxy(&home)
                .env(var, &url)
                .args(["--retries", "1", "t1"]),
            None,
        );
        assert_eq!(r.code, 1, "{}", r.stderr);
        assert_contains(
            &r.stdout,
            &format!("could not connect to the proxy {url} (from {var})"),
        );
        assert_contains(&r.stdout, "(2 attempts)");
    }
    assert_eq!(standin.connections(), 0);
}

#[test]
fn a_proxy_setting_that_cannot_be_used_is_an_error_before_anything() {
    let standin = StandIn::start();
    let home = Home::new();
    for (var, value, says) in [
        (
            "HTTP_PROXY",
            "socks4://127.0.0.1:1080",
            "HTTP_PROXY cannot be used: the scheme socks4:// is not supported; write \
             http://host:port, socks5://host:port or socks5h://host:port",
        ),
        (
            "no_proxy",
            "10.0.0.0/33",
            "no_proxy cannot be used: NO_PROXY entry \"10.0.0.0/33\" is not a host name",
        ),
    ] {
        let r = run(home.demo(&standin).env(var, value).arg("t1"), None);
        assert_eq!(r.code, 2, "{}", r.stderr);
        assert_contains(&r.stderr, says);
    }
    assert_eq!(standin.connections(), 0);
}

#[test]
fn an_answer_that_never_comes_through_a_tunnel_is_no_success() {
    // The proxy's "200 Connection established" is not the server's 200.
    let standin = StandIn::start();
    standin.push_reply(Reply::hang());
    let proxy = Proxy::connect().route_all(standin.addr()).start();
    let home = Home::new();
    let r = run(
        home.demo(&standin).env("HTTP_PROXY", proxy.url()).args([
            "--timeout",
            "1",
            "--retries",
            "0",
            "t1",
        ]),
        None,
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_contains(
        &r.stdout,
        &format!(
            "timed out after 1s talking to {} through the proxy http://{} (from HTTP_PROXY)",
            standin.endpoint(),
            proxy.addr()
        ),
    );
    assert_eq!(proxy.asked().len(), 1);
}

#[test]
fn sts_goes_through_the_proxy_and_the_metadata_service_never_does() {
    const ROLE: &str = "acs:ram::1234567890123456:role/sls-retry";
    let standin = StandIn::builder()
        .tls(TlsIdentity::valid())
        .account(DEMO_KEY_ID, DEMO_KEY_SECRET)
        .role(ROLE, 3600)
        .trust(ROLE, DEMO_KEY_ID)
        .build();
    let proxy = Proxy::connect().route_all(standin.addr()).start();
    let home = Home::new();

    // A role assumed through the proxy, at an STS endpoint only the proxy can reach.
    home.profile_file(&format!(
        "[default]\naccess_key_id = \"{DEMO_KEY_ID}\"\naccess_key_secret = \"{DEMO_KEY_SECRET}\"\n\
         role_arn = \"{ROLE}\"\nsts_endpoint = \"sts.aliyuncs.com\"\n"
    ));
    let r = run(
        home.command()
            .args(demo_target_at(&format!("https://{DEMO_SLS_HOST}")))
            .arg("--ca-file")
            .arg(home.write_ca())
            .env("HTTPS_PROXY", proxy.url())
            .arg("t1"),
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let targets: Vec<String> = proxy.asked().into_iter().map(|a| a.target).collect();
    assert_eq!(
        targets,
        [
            "sts.aliyuncs.com:443".to_string(),
            format!("demo-project.{DEMO_SLS_HOST}:443")
        ]
    );
    for asked in proxy.asked() {
        assert_ours(asked.user_agent.as_deref().unwrap_or(""));
    }
    let agents = user_agents(&standin);
    assert_eq!(agents.len(), 2, "STS, then SLS");
    agents.iter().for_each(|ua| assert_ours(ua));

    // The ECS role: its metadata service is asked directly, whatever the proxy variables say;
    // the SLS request beside it goes through the proxy.
    let ecs = StandIn::builder()
        .ecs_role("ecs-role", "STS.ecs", "ecs-secret", "ecs-token")
        .build();
    let proxy = Proxy::connect().route_all(ecs.addr()).start();
    let r = run(
        Home::new()
            .command()
            .args(ecs.demo_target())
            .env("SLS_RETRY_ECS_METADATA_URL", ecs.endpoint())
            .env("HTTP_PROXY", proxy.url())
            .env("ALL_PROXY", proxy.url())
            .arg("t1"),
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        proxy.asked().len(),
        1,
        "only the SLS request went through it"
    );
    let paths: Vec<String> = ecs.requests().iter().map(|r| r.path.clone()).collect();
    assert!(paths.iter().any(|p| p.starts_with("/latest/")), "{paths:?}");
    user_agents(&ecs).iter().for_each(|ua| assert_ours(ua));
}

#[test]
fn a_credentials_uri_follows_the_proxy_rules_and_says_our_name() {
    let standin = StandIn::builder()
        .tls(TlsIdentity::valid_for(&[
            "localhost",
            "credentials.example",
        ]))
        .credentials_uri(3600)
        .build();
    let proxy = Proxy::connect().route_all(standin.addr()).start();
    let home = Home::new();
    let uri = standin
        .credentials_uri()
        .replace("localhost", "credentials.example");
    let r: Run = run(
        home.command()
            .args(standin.demo_target())
            .env("ALIBABA_CLOUD_CREDENTIALS_URI", &uri)
            .env("HTTPS_PROXY", proxy.url())
            .env("NO_PROXY", "localhost")
            .arg("--ca-file")
            .arg(home.write_ca())
            .arg("t1"),
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let asked = proxy.asked();
    assert_eq!(asked.len(), 1, "the SLS request went directly: {asked:?}");
    assert!(asked[0].target.starts_with("credentials.example:"));
    for user_agent in user_agents(&standin) {
        assert_ours(&user_agent);
    }
}
