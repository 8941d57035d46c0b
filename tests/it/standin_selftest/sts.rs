//! Self-tests of the stand-in's credential routes over raw TCP: its RPC check accepts the official implementation's signatures and refuses a changed byte, a spent nonce, a stale Timestamp and strangers; AssumeRoleWithOIDC wants the provider's current token; what STS, the credentials URI and a short-lived ECS role hand out signs SLS requests until it expires.

use std::time::{Duration, SystemTime};

use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::Value;

use standin::{Builder, ISSUED_SECRET_MARK, ISSUED_TOKEN_MARK, Reply, StandIn, rpc};
use standin::{DEMO_KEY_ID, DEMO_KEY_SECRET};

use super::{
    connect, ecs_world, exchange, fixture_vectors, metadata_request, retry_request_as, unix_secs,
};

const ROLE: &str = "acs:ram::1234567890123456:role/sls-retry";
const OTHER_ROLE: &str = "acs:ram::1234567890123456:role/other";
const PROVIDER: &str = "acs:ram::1234567890123456:oidc-provider/ack-rrsa-c1";
const OIDC_TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2EifQ.c2ln";

type Pairs = Vec<(String, String)>;
/// An STS request's query and form body.
type Call = (Pairs, Pairs);

fn pairs(items: &[(&str, &str)]) -> Pairs {
    let pairs = items.iter().map(|(k, v)| (k.to_string(), v.to_string()));
    pairs.collect()
}

/// `k=v&...` as credentials-go's url.Values writes it: `+` for a space.
fn form_encoded(pairs: &[(String, String)]) -> String {
    let encode = |text: &str| utf8_percent_encode(text, NON_ALPHANUMERIC).to_string();
    let encoded: Vec<String> = (pairs.iter())
        .map(|(k, v)| format!("{}={}", encode(k), encode(v).replace("%20", "+")))
        .collect();
    encoded.join("&")
}

/// `POST /?{query}` with `form` as its body.
fn sts_request(
    standin: &StandIn,
    query: &[(String, String)],
    form: &[(String, String)],
) -> Vec<u8> {
    let body = form_encoded(form);
    let head = format!(
        "POST /?{} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Type: \
         application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n",
        form_encoded(query),
        standin.port(),
        body.len()
    );
    (head + &body).into_bytes()
}

/// An AssumeRole call signed here with the stand-in's own pieces: (query, form).
fn signed_call(
    (key_id, secret, token): (&str, &str, Option<&str>),
    form: &[(&str, &str)],
    at: SystemTime,
    nonce: &str,
) -> Call {
    let timestamp = humantime::format_rfc3339_seconds(at).to_string();
    let mut query = pairs(&[
        ("Action", "AssumeRole"),
        ("Format", "JSON"),
        ("Version", "2015-04-01"),
        ("Timestamp", &timestamp),
        ("SignatureMethod", "HMAC-SHA1"),
        ("SignatureVersion", "1.0"),
        ("SignatureNonce", nonce),
        ("AccessKeyId", key_id),
    ]);
    query.extend(token.map(|t| ("SecurityToken".to_string(), t.to_string())));
    let form = pairs(form);
    let every: Pairs = query.iter().chain(&form).cloned().collect();
    let signature = rpc::signature(secret, &rpc::string_to_sign("POST", &every));
    query.push(("Signature".into(), signature));
    (query, form)
}

fn role_form(role: &str) -> Vec<(&str, &str)> {
    vec![
        ("RoleArn", role),
        ("RoleSessionName", "sls-retry-1"),
        ("DurationSeconds", "3600"),
    ]
}

/// The answer's status and body (`Code` is STS's error code).
fn call(standin: &StandIn, (query, form): &Call) -> (u16, Value) {
    let answer = exchange(&mut connect(standin), &sts_request(standin, query, form));
    let body = serde_json::from_str(&answer.body).expect("a JSON answer");
    (answer.status, body)
}

fn refused(standin: &StandIn, request: &Call) -> (u16, String) {
    let (status, body) = call(standin, request);
    let code = body["Code"].as_str().unwrap_or("(none)").to_string();
    assert!(body["RequestId"].is_string(), "{body}");
    (status, code)
}

/// The issued credentials in an answer: (key id, secret, token).
fn granted(body: &Value) -> (String, String, String) {
    let field = |name: &str| body["Credentials"][name].as_str().unwrap().to_string();
    let fields = ("AccessKeyId", "AccessKeySecret", "SecurityToken");
    (field(fields.0), field(fields.1), field(fields.2))
}

/// SLS's answer to a RetryShipperTask signed with `credentials`: (status, error code).
fn sls_answer(standin: &StandIn, (key, secret, token): &(String, String, String)) -> (u16, String) {
    let account = (key.as_str(), secret.as_str(), Some(token.as_str()));
    let request = retry_request_as(standin, account, &["t1"], SystemTime::now());
    let answer = exchange(&mut connect(standin), &request);
    let code = match answer.status {
        200 => String::new(),
        _ => answer.error().0,
    };
    (answer.status, code)
}

fn demo_world() -> Builder {
    let builder = StandIn::builder().account(DEMO_KEY_ID, DEMO_KEY_SECRET);
    builder.role(ROLE, 3600).trust(ROLE, DEMO_KEY_ID)
}

fn demo_call(form: &[(&str, &str)], at: SystemTime, nonce: &str) -> Call {
    signed_call((DEMO_KEY_ID, DEMO_KEY_SECRET, None), form, at, nonce)
}

#[test]
fn official_rpc_vectors_verify_and_a_changed_byte_does_not() {
    let vectors = fixture_vectors("sign-rpc.json");
    for v in &vectors {
        let name = v["name"].as_str().unwrap();
        let text = |key: &str| v[key].as_str().unwrap();
        let object = |key: &str| -> Pairs {
            let object = v[key].as_object().unwrap().iter();
            object
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().into()))
                .collect()
        };
        let (query, form) = (object("query"), object("form"));
        let every: Pairs = query.iter().chain(&form).cloned().collect();
        let string_to_sign = rpc::string_to_sign(text("method"), &every);
        assert_eq!(string_to_sign, text("string_to_sign"), "{name}");
        let secret = text("access_key_secret");
        assert_eq!(
            rpc::signature(secret, &string_to_sign),
            text("signature"),
            "{name}"
        );
        if text("action") != "AssumeRole" {
            continue;
        }

        // The same call over the wire, at the vector's time: accepted, then refused replayed
        // and with one byte changed.
        let at = humantime::parse_rfc3339(text("timestamp")).unwrap();
        let key_id = text("access_key_id");
        let builder = match v["security_token"].as_str() {
            Some(token) => StandIn::builder().sts_account(key_id, secret, token),
            None => StandIn::builder().account(key_id, secret),
        };
        let role = form.iter().find(|(k, _)| k == "RoleArn").unwrap().1.clone();
        let skew = unix_secs(at) - unix_secs(SystemTime::now());
        let standin = builder
            .role(&role, 3600)
            .trust(&role, key_id)
            .clock_skew_secs(skew)
            .build();
        let mut signed = query.clone();
        signed.push(("Signature".into(), text("signature").into()));
        let (status, body) = call(&standin, &(signed.clone(), form.clone()));
        assert_eq!(status, 200, "{name}: {body}");
        let replayed = refused(&standin, &(signed.clone(), form.clone()));
        assert_eq!(replayed, (400, "SignatureNonceUsed".into()), "{name}");

        let mut changed = signed.clone();
        for (key, value) in &mut changed {
            match key.as_str() {
                "Signature" => *value = flip_first(value),
                // A new nonce, or the spent one would be refused first.
                "SignatureNonce" => value.push('x'),
                _ => {}
            }
        }
        let refusal = refused(&standin, &(changed, form.clone()));
        assert_eq!(refusal, (400, "SignatureDoesNotMatch".into()), "{name}");
    }
    assert_eq!(vectors.len(), 6);
}

/// `text` with its first character replaced by another.
fn flip_first(text: &str) -> String {
    let first = if text.starts_with('A') { 'B' } else { 'A' };
    format!("{first}{}", &text[1..])
}

#[test]
fn assume_role_refuses_as_sts_does() {
    let standin = demo_world()
        .sts_account("STS.caller", "caller-secret", "caller-token")
        .role(OTHER_ROLE, 3600)
        .build();
    let now = standin.server_time();
    let form = role_form(ROLE);
    let with = |name: &'static str, value: &'static str| {
        let mut form = role_form(ROLE);
        form.retain(|(k, _)| *k != name);
        form.push((name, value));
        form
    };
    let stale = now - Duration::from_secs(16 * 60);
    let cases: Vec<(Call, (u16, &str))> = vec![
        (
            demo_call(&form, stale, "n1"),
            (400, "InvalidTimeStamp.Expired"),
        ),
        (
            signed_call(("nobody", "s", None), &form, now, "n2"),
            (404, "InvalidAccessKeyId.NotFound"),
        ),
        (
            signed_call((DEMO_KEY_ID, "wrong-secret", None), &form, now, "n3"),
            (400, "SignatureDoesNotMatch"),
        ),
        (
            signed_call(("STS.caller", "caller-secret", None), &form, now, "n4"),
            (400, "MissingSecurityToken"),
        ),
        (
            signed_call(
                ("STS.caller", "caller-secret", Some("caller-token")),
                &form,
                now,
                "n5",
            ),
            (403, "NoPermission"),
        ),
        (
            demo_call(&role_form(OTHER_ROLE), now, "n6"),
            (403, "NoPermission"),
        ),
        (
            demo_call(&role_form("acs:ram::1:role/none"), now, "n7"),
            (404, "EntityNotExist.Role"),
        ),
        (
            demo_call(&with("RoleSessionName", "a b"), now, "n8"),
            (400, "InvalidParameter.RoleSessionName"),
        ),
        (
            demo_call(&with("DurationSeconds", "899"), now, "n9"),
            (400, "InvalidParameter.DurationSeconds"),
        ),
        (
            demo_call(&with("Policy", "not json"), now, "n10"),
            (400, "InvalidParameter.PolicyGrammar"),
        ),
        (
            demo_call(&[("RoleSessionName", "s1")], now, "n11"),
            (400, "MissingRoleArn"),
        ),
    ];
    for (request, (status, code)) in &cases {
        assert_eq!(refused(&standin, request), (*status, code.to_string()));
    }
    let mut unknown = demo_call(&form, now, "n12");
    unknown.0[0].1 = "AssumeEverything".into();
    assert_eq!(
        refused(&standin, &unknown),
        (404, "InvalidAction.NotFound".into())
    );

    // A refused signature spends no nonce: the right one goes through with it.
    let (status, body) = call(&standin, &demo_call(&form, now, "n3"));
    assert_eq!(status, 200, "{body}");
    let recorded = standin.sts_requests();
    assert_eq!(recorded.len(), cases.len() + 2);
    let last = recorded.last().unwrap();
    assert_eq!(last.param("SignatureNonce").as_deref(), Some("n3"));
    assert_eq!(last.request_id, body["RequestId"].as_str().unwrap());
    assert_eq!(last.signature_version, 0);
    assert!(standin.accepted().is_empty());
}

#[test]
fn assumed_credentials_sign_sls_until_they_expire_and_chain() {
    let standin = demo_world()
        .role(OTHER_ROLE, 0) // its credentials expire as they are issued
        .trust(OTHER_ROLE, ROLE)
        .build();
    let now = standin.server_time();
    let (status, body) = call(&standin, &demo_call(&role_form(ROLE), now, "n1"));
    assert_eq!(status, 200, "{body}");
    let issued = granted(&body);
    assert!(issued.0.starts_with("STS."), "{issued:?}");
    assert!(issued.1.starts_with(ISSUED_SECRET_MARK));
    assert!(issued.2.contains(ISSUED_TOKEN_MARK));
    let expires = humantime::parse_rfc3339(body["Credentials"]["Expiration"].as_str().unwrap());
    let lifetime = unix_secs(expires.unwrap()) - unix_secs(now);
    assert!((3599..=3600).contains(&lifetime), "{lifetime}");
    assert_eq!(
        body["AssumedRoleUser"]["Arn"],
        format!("{ROLE}/sls-retry-1")
    );
    assert_eq!(sls_answer(&standin, &issued), (200, String::new()));
    let wrong_token = (issued.0.clone(), issued.1.clone(), "forged".to_string());
    assert_eq!(
        sls_answer(&standin, &wrong_token),
        (401, "Unauthorized".into())
    );

    // The assumed role's credentials assume the next role, which trusts that role.
    let caller = (
        issued.0.as_str(),
        issued.1.as_str(),
        Some(issued.2.as_str()),
    );
    let chained = signed_call(caller, &role_form(OTHER_ROLE), now, "n2");
    let (status, body) = call(&standin, &chained);
    assert_eq!(status, 200, "{body}");
    let expired = granted(&body);
    assert_ne!(expired, issued);
    assert_eq!(sls_answer(&standin, &expired), (401, "Unauthorized".into()));
    let caller = (
        expired.0.as_str(),
        expired.1.as_str(),
        Some(expired.2.as_str()),
    );
    let late = signed_call(caller, &role_form(ROLE), now, "n3");
    assert_eq!(
        refused(&standin, &late),
        (400, "InvalidSecurityToken.Expired".into())
    );
    let issued_by: Vec<String> = standin.issued().into_iter().map(|i| i.by).collect();
    assert_eq!(issued_by, [ROLE, OTHER_ROLE]);
}

fn oidc_call(standin: &StandIn, role: &str, provider: &str, token: &str) -> (u16, Value) {
    let timestamp = humantime::format_rfc3339_seconds(standin.server_time()).to_string();
    let query = pairs(&[
        ("Version", "2015-04-01"),
        ("Action", "AssumeRoleWithOIDC"),
        ("Format", "JSON"),
        ("Timestamp", &timestamp),
    ]);
    let mut form = pairs(&[
        ("RoleArn", role),
        ("OIDCProviderArn", provider),
        ("OIDCToken", token),
    ]);
    form.extend(pairs(&[
        ("RoleSessionName", "rrsa"),
        ("DurationSeconds", "3600"),
    ]));
    call(standin, &(query, form))
}

#[test]
fn assume_role_with_oidc_wants_the_providers_current_token() {
    let standin = StandIn::builder()
        .role(ROLE, 3600)
        .trust(ROLE, PROVIDER)
        .role(OTHER_ROLE, 3600)
        .oidc_provider(PROVIDER, OIDC_TOKEN)
        .build();
    let (status, body) = oidc_call(&standin, ROLE, PROVIDER, OIDC_TOKEN);
    assert_eq!(status, 200, "{body}");
    assert_eq!(sls_answer(&standin, &granted(&body)), (200, String::new()));

    let code = |(status, body): (u16, Value)| (status, body["Code"].as_str().unwrap().to_string());
    let invalid = (401, "AuthenticationFail.OIDCToken.Invalid".to_string());
    assert_eq!(
        code(oidc_call(&standin, ROLE, PROVIDER, "eyJ.other.token")),
        invalid
    );
    assert_eq!(code(oidc_call(&standin, ROLE, PROVIDER, "")), invalid);
    let unknown = oidc_call(&standin, ROLE, "acs:ram::1:oidc-provider/none", OIDC_TOKEN);
    assert_eq!(
        code(unknown),
        (401, "AuthenticationFail.NoPermission".into())
    );
    let untrusted = oidc_call(&standin, OTHER_ROLE, PROVIDER, OIDC_TOKEN);
    assert_eq!(
        code(untrusted),
        (401, "AuthenticationFail.NoPermission".into())
    );

    // Kubernetes rotated the token file: the old token no longer works, the new one does.
    standin.set_oidc_token(PROVIDER, "eyJ.rotated.token");
    assert_eq!(
        code(oidc_call(&standin, ROLE, PROVIDER, OIDC_TOKEN)),
        invalid
    );
    assert_eq!(
        oidc_call(&standin, ROLE, PROVIDER, "eyJ.rotated.token").0,
        200
    );
    let recorded = standin.sts_requests();
    assert_eq!(recorded[0].param("OIDCToken").as_deref(), Some(OIDC_TOKEN));
    assert_eq!(recorded[0].param("Signature"), None);
}

#[test]
fn scripted_sts_replies_answer_before_any_check() {
    let standin = demo_world().build();
    standin.push_sts_reply(Reply::sts_error(500, "InternalError", "Internal error."));
    standin.push_sts_reply(Reply::raw(502, "text/html", "<html>Bad Gateway</html>"));
    let request = demo_call(&role_form(ROLE), standin.server_time(), "n1");
    assert_eq!(refused(&standin, &request), (500, "InternalError".into()));
    let answer = exchange(
        &mut connect(&standin),
        &sts_request(&standin, &request.0, &request.1),
    );
    assert_eq!(
        (answer.status, answer.body.as_str()),
        (502, "<html>Bad Gateway</html>")
    );
    // Not checked, so the nonce is still unspent.
    assert_eq!(call(&standin, &request).0, 200);
    let faults: Vec<Option<String>> = standin
        .sts_requests()
        .into_iter()
        .map(|r| r.fault)
        .collect();
    let expected = [
        Some("scripted 500 InternalError"),
        Some("scripted 502"),
        None,
    ];
    assert_eq!(faults, expected.map(|f| f.map(String::from)));
}

fn uri_request(standin: &StandIn) -> Vec<u8> {
    let head = format!(
        "GET /credentials-uri HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n\r\n",
        standin.port()
    );
    head.into_bytes()
}

#[test]
fn credentials_uri_hands_out_new_short_lived_credentials() {
    let standin = StandIn::builder().credentials_uri(0).build();
    assert!(standin.credentials_uri().ends_with("/credentials-uri"));
    let mut seen = Vec::new();
    for _ in 0..2 {
        let answer = exchange(&mut connect(&standin), &uri_request(&standin));
        assert_eq!(answer.status, 200, "{}", answer.body);
        let body: Value = serde_json::from_str(&answer.body).unwrap();
        assert_eq!(body["Code"], "Success");
        let field = |name: &str| body[name].as_str().unwrap().to_string();
        let issued = (
            field("AccessKeyId"),
            field("AccessKeySecret"),
            field("SecurityToken"),
        );
        assert_eq!(field("Expiration"), field("LastUpdated"));
        assert_eq!(sls_answer(&standin, &issued), (401, "Unauthorized".into()));
        seen.push(issued);
    }
    assert_ne!(seen[0], seen[1]);
    standin.push_uri_reply(Reply::raw(500, "application/json", r#"{"Code":"Failed"}"#));
    let answer = exchange(&mut connect(&standin), &uri_request(&standin));
    assert_eq!(
        (answer.status, answer.body.as_str()),
        (500, r#"{"Code":"Failed"}"#)
    );
    assert_eq!(standin.uri_requests().len(), 3);

    let lasting = StandIn::builder().credentials_uri(3600).build();
    let answer = exchange(&mut connect(&lasting), &uri_request(&lasting));
    let body: Value = serde_json::from_str(&answer.body).unwrap();
    let field = |name: &str| body[name].as_str().unwrap().to_string();
    let issued = (
        field("AccessKeyId"),
        field("AccessKeySecret"),
        field("SecurityToken"),
    );
    assert_eq!(sls_answer(&lasting, &issued), (200, String::new()));
    // Without a credentials URI, there is nothing there.
    let none = StandIn::start();
    assert_eq!(
        exchange(&mut connect(&none), &uri_request(&none)).status,
        404
    );
}

#[test]
fn a_short_lived_ecs_role_issues_new_credentials_each_time() {
    let standin = ecs_world().ecs_role_lifetime(0).build();
    let path = "/latest/meta-data/ram/security-credentials/demo-ecs-role";
    let mut keys = Vec::new();
    for _ in 0..2 {
        let answer = exchange(&mut connect(&standin), &metadata_request("GET", path, &[]));
        let body: Value = serde_json::from_str(&answer.body).unwrap();
        assert_eq!(body["Expiration"], body["LastUpdated"]);
        let field = |name: &str| body[name].as_str().unwrap().to_string();
        let issued = (
            field("AccessKeyId"),
            field("AccessKeySecret"),
            field("SecurityToken"),
        );
        assert_eq!(sls_answer(&standin, &issued), (401, "Unauthorized".into()));
        keys.push(issued.0);
    }
    assert_ne!(keys[0], keys[1]);
    let by: Vec<String> = standin.issued().into_iter().map(|i| i.by).collect();
    assert_eq!(by, ["ecs:demo-ecs-role", "ecs:demo-ecs-role"]);
}
