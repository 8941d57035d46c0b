//! The STS client of the library (`sls_retry::credentials::sts`) against the stand-in: what it
//! sends (as credentials-go sends it), the credentials it reads (which then sign a run of the
//! binary the stand-in accepts), a fresh nonce on every call, and each way a call fails, in one
//! line that names STS, the status, code, message and request id and holds no secret.

use std::net::TcpListener;
use std::time::Duration;

use sls_retry::config::network::Network;
use sls_retry::credentials::sts::{RoleRequest, Sts, StsEndpoint};
use sls_retry::credentials::{Credentials, Issued, Secret};
use sls_retry::diag::Diag;
use sls_retry::http::Http;
use sls_retry::interrupt::{Interrupt, Interrupted, Signal};
use standin::{Builder, DEMO_KEY_ID, DEMO_KEY_SECRET, Reply, StandIn};

use crate::harness::{Home, assert_contains, patiently, run};

const ROLE: &str = "acs:ram::1234567890123456:role/sls-retry";
const PROVIDER: &str = "acs:ram::1234567890123456:oidc-provider/ack-rrsa-c1";
const OIDC_TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.oidc-token-never-printed.c2ln";

fn world() -> Builder {
    let builder = StandIn::builder().account(DEMO_KEY_ID, DEMO_KEY_SECRET);
    builder.role(ROLE, 3600).trust(ROLE, DEMO_KEY_ID)
}

fn sts_at(endpoint: &str, timeout: Duration) -> Sts {
    Sts {
        endpoint: StsEndpoint::select(Some(endpoint), None, false).unwrap(),
        http: Http::new(timeout, 1, Diag::new(0), Network::direct().unwrap()),
        interrupt: Interrupt::default(),
    }
}

fn sts(standin: &StandIn) -> Sts {
    sts_at(&standin.endpoint(), Duration::from_secs(10))
}

fn caller(secret: &str) -> Credentials {
    Credentials {
        access_key_id: DEMO_KEY_ID.into(),
        access_key_secret: Secret::new(secret),
        security_token: None,
    }
}

fn role(arn: &str) -> RoleRequest {
    RoleRequest {
        role_arn: arn.into(),
        session_name: "sls-retry-1795942800".into(),
        duration_seconds: 3600,
        policy: None,
        external_id: Some("ext id".into()),
    }
}

/// The parameter names of a query or form body, in the order sent.
fn names(encoded: &str) -> Vec<&str> {
    let pairs = encoded.split('&');
    pairs.map(|pair| pair.split('=').next().unwrap()).collect()
}

/// The error as it reaches the user: one line, no secret.
fn one_line(result: anyhow::Result<Issued>) -> String {
    let err = format!("{:#}", result.unwrap_err());
    assert!(!err.contains('\n'), "{err}");
    for secret in [DEMO_KEY_SECRET, "wrong-secret", OIDC_TOKEN] {
        assert!(!err.contains(secret), "{secret} in {err}");
    }
    err
}

#[test]
fn assume_role_sends_what_credentials_go_sends_and_its_credentials_sign_a_run() {
    let standin = world().build();
    let issued = sts(&standin)
        .assume_role(&caller(DEMO_KEY_SECRET), &role(ROLE))
        .unwrap();
    let expires = issued
        .expires
        .unwrap()
        .duration_since(standin.server_time());
    assert!(expires.unwrap() <= Duration::from_secs(3600));
    let [asked] = &standin.sts_requests()[..] else {
        panic!("one STS request")
    };
    assert_eq!(
        (asked.method.as_str(), asked.path.as_str(), asked.status),
        ("POST", "/", 200)
    );
    let header = |name| asked.header(name).unwrap_or_default();
    assert_eq!(header("content-type"), "application/x-www-form-urlencoded");
    assert_eq!(header("accept-encoding"), "identity");
    assert!(header("user-agent").starts_with("sls-retry/"));
    let common = [
        "Action",
        "Format",
        "Version",
        "Timestamp",
        "SignatureMethod",
        "SignatureVersion",
        "SignatureNonce",
        "AccessKeyId",
        "Signature",
    ];
    assert_eq!(names(&asked.query), common);
    let form = String::from_utf8(asked.body.clone()).unwrap();
    let role_params = [
        "RoleArn",
        "ExternalId",
        "RoleSessionName",
        "DurationSeconds",
    ];
    assert_eq!(names(&form), role_params);
    let param = |name| asked.param(name).unwrap_or_default();
    let sent = [
        param("Action"),
        param("Version"),
        param("SignatureMethod"),
        param("SignatureVersion"),
        param("ExternalId"),
    ];
    assert_eq!(
        sent,
        ["AssumeRole", "2015-04-01", "HMAC-SHA1", "1.0", "ext id"]
    );
    assert_eq!(param("SignatureNonce").len(), 32);

    // The temporary credentials sign a run of the binary, token and all.
    let credentials = &issued.credentials;
    let token = credentials.security_token.as_ref().unwrap().expose();
    let home = Home::new();
    let r = run(
        home.command()
            .args(standin.demo_target())
            .env("ALIBABA_CLOUD_ACCESS_KEY_ID", &credentials.access_key_id)
            .env(
                "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
                credentials.access_key_secret.expose(),
            )
            .env("ALIBABA_CLOUD_SECURITY_TOKEN", token)
            .arg("t1"),
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(standin.accepted_ids(), ["t1"]);
    let retried = standin.requests().into_iter().next_back().unwrap();
    assert_eq!(retried.header("x-acs-security-token"), Some(token));
}

#[test]
fn a_caller_with_an_sts_token_signs_it_too() {
    let standin = world()
        .sts_account("STS.caller", "caller-secret", "caller-token")
        .trust(ROLE, "STS.caller")
        .build();
    let caller = Credentials {
        access_key_id: "STS.caller".into(),
        access_key_secret: Secret::new("caller-secret"),
        security_token: Some(Secret::new("caller-token")),
    };
    sts(&standin).assume_role(&caller, &role(ROLE)).unwrap();
    let asked = &standin.sts_requests()[0];
    assert_eq!(
        asked.param("SecurityToken").as_deref(),
        Some("caller-token")
    );
}

#[test]
fn assume_role_with_oidc_sends_the_token_unsigned() {
    let standin = StandIn::builder()
        .role(ROLE, 3600)
        .trust(ROLE, PROVIDER)
        .oidc_provider(PROVIDER, OIDC_TOKEN)
        .build();
    let sts = sts(&standin);
    let role = RoleRequest {
        policy: Some(r#"{"Version":"1","Statement":[]}"#.into()),
        ..role(ROLE)
    };
    let token = Secret::new(OIDC_TOKEN);
    let issued = sts.assume_role_with_oidc(&role, PROVIDER, &token).unwrap();
    assert!(issued.credentials.access_key_id.starts_with("STS."));
    let asked = &standin.sts_requests()[0];
    assert_eq!(
        names(&asked.query),
        ["Action", "Format", "Version", "Timestamp"]
    );
    assert_eq!(asked.param("OIDCToken").as_deref(), Some(OIDC_TOKEN));
    assert_eq!(asked.param("OIDCProviderArn").as_deref(), Some(PROVIDER));
    assert!(asked.param("Policy").is_some());
    assert_eq!(asked.param("ExternalId"), None);

    let stale = Secret::new("eyJ.an-old-token.sig");
    let err = one_line(sts.assume_role_with_oidc(&role, PROVIDER, &stale));
    let id = &standin.sts_requests()[1].request_id;
    assert!(
        err.ends_with(&format!(
            "failed: HTTP 401 AuthenticationFail.OIDCToken.Invalid: The Jwt content is invalid \
             that cannot be recognized. (request id {id})"
        )),
        "{err}"
    );
}

#[test]
fn every_call_carries_a_new_nonce() {
    let standin = world().build();
    let sts = sts(&standin);
    for _ in 0..5 {
        sts.assume_role(&caller(DEMO_KEY_SECRET), &role(ROLE))
            .unwrap();
    }
    let mut nonces: Vec<String> = (standin.sts_requests().iter())
        .map(|r| r.param("SignatureNonce").unwrap())
        .collect();
    nonces.sort();
    nonces.dedup();
    assert_eq!(nonces.len(), 5);
    assert_eq!(standin.refusals("SignatureNonceUsed"), 0);
}

#[test]
fn each_refusal_is_one_line_with_status_code_message_and_request_id() {
    let standin = world().role("acs:ram::1:role/stranger", 3600).build();
    let sts = sts(&standin);
    let prefix = format!(
        "STS AssumeRole of role {ROLE} (session sls-retry-1795942800) at {} failed: ",
        standin.endpoint()
    );
    let cases = [
        (
            caller("wrong-secret"),
            ROLE,
            "HTTP 400 SignatureDoesNotMatch: Specified signature is not matched with our calculation.",
        ),
        (
            caller(DEMO_KEY_SECRET),
            "acs:ram::1:role/stranger",
            "HTTP 403 NoPermission: You are not authorized to do this action. You should be authorized by RAM.",
        ),
        (
            caller(DEMO_KEY_SECRET),
            "acs:ram::1:role/none",
            "HTTP 404 EntityNotExist.Role: The role not exists: acs:ram::1:role/none.",
        ),
    ];
    for (n, (caller, arn, said)) in cases.into_iter().enumerate() {
        let err = one_line(sts.assume_role(&caller, &role(arn)));
        let id = &standin.sts_requests()[n].request_id;
        let prefix = prefix.replace(ROLE, arn);
        assert_eq!(err, format!("{prefix}{said} (request id {id})"));
    }

    standin.push_sts_reply(Reply::sts_error(
        500,
        "InternalError",
        "The request processing has failed due to some unknown error.",
    ));
    let err = one_line(sts.assume_role(&caller(DEMO_KEY_SECRET), &role(ROLE)));
    assert_contains(
        &err,
        "failed: HTTP 500 InternalError: The request processing has failed",
    );
    standin.push_sts_reply(Reply::raw(502, "text/html", "<h1>502 Bad Gateway</h1>"));
    let err = one_line(sts.assume_role(&caller(DEMO_KEY_SECRET), &role(ROLE)));
    let said = "answered HTTP 502, not with an STS answer: <h1>502 Bad Gateway</h1>; check the \
                STS endpoint and any proxy";
    assert!(err.ends_with(said), "{err}");
    standin.push_sts_reply(Reply::raw(
        200,
        "application/json",
        r#"{"RequestId":"R-1"}"#,
    ));
    let err = one_line(sts.assume_role(&caller(DEMO_KEY_SECRET), &role(ROLE)));
    assert!(
        err.ends_with("answered HTTP 200 without credentials (request id R-1)"),
        "{err}"
    );
    assert!(standin.accepted().is_empty());
}

#[test]
fn no_answer_says_what_to_check() {
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let err = one_line(
        sts_at(&endpoint, Duration::from_secs(10))
            .assume_role(&caller(DEMO_KEY_SECRET), &role(ROLE)),
    );
    assert!(
        err.starts_with(&format!(
            "STS AssumeRole of role {ROLE} (session sls-retry-1795942800) at {endpoint} failed: "
        )),
        "{err}"
    );
    assert!(
        err.ends_with("; check the network, any proxy and the STS endpoint"),
        "{err}"
    );

    let standin = world().build();
    standin.push_sts_reply(Reply::hang());
    let sts = sts_at(&standin.endpoint(), Duration::from_secs(1));
    let err = one_line(sts.assume_role(&caller(DEMO_KEY_SECRET), &role(ROLE)));
    assert_contains(
        &err,
        "failed: timed out after 1s talking to the STS endpoint (see --timeout); check the \
         network",
    );
}

#[test]
fn a_signal_abandons_a_call_that_hangs() {
    let standin = world().build();
    standin.push_sts_reply(Reply::hang());
    let sts = sts_at(&standin.endpoint(), Duration::from_secs(600));
    std::thread::scope(|scope| {
        // The signal comes once the request is in, its answer never coming.
        let signal = scope.spawn(|| {
            assert!(patiently(|| !standin.sts_requests().is_empty()));
            sts.interrupt.notice(Signal::Term);
        });
        let err = sts
            .assume_role(&caller(DEMO_KEY_SECRET), &role(ROLE))
            .unwrap_err();
        let interrupted = err
            .downcast_ref::<Interrupted>()
            .expect("an Interrupted error");
        assert_eq!(interrupted.signal, Signal::Term);
        let said = "interrupted by SIGTERM while asking STS for credentials; nothing was sent";
        assert_eq!(err.to_string(), said);
        signal.join().unwrap();
    });
}
