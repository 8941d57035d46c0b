//! Property tests for everything that reads untrusted input: the stdin parsers (plain, JSON
//! array, GetShipperStatus documents), the error-body parser, endpoints and times, a server's
//! `Date` and the signing clock it corrects, `Retry-After`, status lines, and profile values.
//! Whatever the bytes, they return a value or a one-line error, never panic, never pass control
//! characters, bidirectional overrides or invisible characters from a server on to a terminal,
//! and never hand the signers a time they cannot write.
//!
//! `cargo test --test it properties::` runs a few hundred cases each; for a long fuzzing run:
//! `PROPTEST_CASES=200000 cargo test --release --locked --test it properties::`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use proptest::prelude::*;

use sls_retry::clock::{self, Reading};
use sls_retry::config::PROFILE_NUMBERS;
use sls_retry::config::env::Env;
use sls_retry::credentials::sts::{self, RoleRequest, StsEndpoint};
use sls_retry::credentials::{Credentials, Secret};
use sls_retry::endpoint::Endpoint;
use sls_retry::http::no_proxy::NoProxy;
use sls_retry::http::proxy::Proxies;
use sls_retry::http::status_line;
use sls_retry::ids::{self, TaskId};
use sls_retry::interrupt::Interrupt;
use sls_retry::listing;
use sls_retry::outcome::{Outcome, RawResponse, Status, parse_error_body};
use sls_retry::policy::{self, MAX_RETRY_AFTER};
use sls_retry::sign::{self, SignatureVersion};
use sls_retry::untrusted;
use sls_retry::window;

/// 9999-12-31T23:59:59Z: the last second an HTTP date (and v4's `yyyymmdd`) can write.
const LAST_SIGNABLE: i64 = 253_402_300_799;

/// Unix seconds to a time, before 1970 too.
fn time(secs: i64) -> SystemTime {
    let d = Duration::from_secs(secs.unsigned_abs());
    if secs >= 0 {
        UNIX_EPOCH + d
    } else {
        UNIX_EPOCH - d
    }
}

/// Local clocks from before 1970 to past 9999, most of them plausible.
fn local_clock() -> impl Strategy<Value = SystemTime> {
    prop_oneof![
        3 => (1_500_000_000i64..2_500_000_000).prop_map(time),
        1 => (-1_000_000_000i64..LAST_SIGNABLE + 1_000_000_000).prop_map(time),
        1 => prop_oneof![Just(0i64), Just(LAST_SIGNABLE), Just(LAST_SIGNABLE + 1), Just(-1)].prop_map(time),
    ]
}

/// What a server may send as `Date`: real HTTP dates of any year a parser takes, the same cut or
/// bent, and any text at all.
fn date_like() -> impl Strategy<Value = String> {
    prop_oneof![
        (0i64..=LAST_SIGNABLE).prop_map(|secs| httpdate::fmt_http_date(time(secs))),
        (LAST_SIGNABLE - 30 * 86_400..=LAST_SIGNABLE)
            .prop_map(|secs| httpdate::fmt_http_date(time(secs))),
        ((0i64..=LAST_SIGNABLE), 0usize..40, any::<char>()).prop_map(|(secs, at, c)| {
            let mut date: Vec<char> = httpdate::fmt_http_date(time(secs)).chars().collect();
            let at = at.min(date.len() - 1);
            date[at] = c;
            date.into_iter().collect()
        }),
        "(Mon|Sun|Fri), [0-9]{1,3} (Jan|Dec|Feb) [0-9]{1,6} [0-9]{1,3}:[0-9]{2}:[0-9]{2} (GMT|UTC)",
        any::<String>(),
    ]
}

/// What a server may send as `Retry-After`.
fn retry_after_like() -> impl Strategy<Value = String> {
    prop_oneof![
        "[0-9]{1,30}",
        "[0-9]{1,30}\\.[0-9]{1,30}",
        "[ \t]{0,2}[-+]?[0-9.eE]{0,12}[ \t]{0,2}",
        "(inf|NaN|-inf|infinity|1e3|0x1F|\u{661})",
        (0i64..=LAST_SIGNABLE).prop_map(|secs| httpdate::fmt_http_date(time(secs))),
        any::<String>(),
    ]
}

/// Sign a request at `now` with both signatures: this is where a time out of range would panic.
fn sign_both_ways(now: SystemTime) {
    let creds = Credentials {
        access_key_id: "LTAIexample".into(),
        access_key_secret: Secret::new("secret"),
        security_token: None,
    };
    let request = sign::Request {
        method: "PUT",
        path: "/logstores/l/shipper/s/tasks",
        query: &[],
        host: "p.cn-hangzhou.log.aliyuncs.com",
        content_type: Some("application/json"),
        body: b"[\"a\"]",
    };
    let v4 = SignatureVersion::V4 {
        region: sls_retry::names::Region::parse("cn-hangzhou").unwrap(),
    };
    for version in [SignatureVersion::V1, v4] {
        let _ = sign::sign(&request, &creds, &version, now);
    }
}

/// Whole seconds since 1970 (negative before).
fn unix(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs() as i64,
        Err(e) => -(e.duration().as_secs_f64().ceil() as i64),
    }
}

/// Bytes that look like what stdin may hold: mostly text and JSON punctuation, sometimes junk.
fn stdin_like() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..512),
        "[\\[\\]{}\",:a-z0-9 \\n\\t#\\x00-\\x1f\\x{80}-\\x{10FFFF}-]{0,256}"
            .prop_map(String::into_bytes),
        proptest::collection::vec("[a-zA-Z0-9_.:-]{1,40}", 0..50)
            .prop_map(|ids| { serde_json::to_vec(&ids).unwrap() }),
    ]
}

/// What STS (or something in its place) may answer: junk, JSON of the right shape with hostile
/// or missing values, credentials with an odd Expiration.
fn sts_answer_like() -> impl Strategy<Value = Vec<u8>> {
    let text = proptest::option::of(".{0,80}");
    let answer = (
        text.clone(),
        text.clone(),
        text.clone(),
        proptest::option::of(".{0,30}"),
    );
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..512),
        answer.prop_map(|(id, code, message, expiration)| {
            serde_json::json!({
                "RequestId": id, "Code": code, "Message": message,
                "Credentials": {"AccessKeyId": "STS.k", "AccessKeySecret": "hostile-secret",
                    "SecurityToken": "hostile-secret-token", "Expiration": expiration},
            })
            .to_string()
            .into_bytes()
        }),
    ]
}

/// A task ID as the API could hand it out: no whitespace, no control characters.
fn task_id() -> impl Strategy<Value = String> {
    "[^\\s\\p{Cc}]{1,64}"
}

/// A TOML value as a profile file may hold it where a number belongs: integers of any size
/// (beyond i64 too) and spelling, near the bounds or not, floats, strings, booleans, dates, arrays
/// and tables.
fn toml_value() -> impl Strategy<Value = String> {
    let scalar = prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        (-5i64..4000).prop_map(|n| n.to_string()),
        (0u32..=40).prop_map(|n| format!("0x{n:x}")),
        (0u32..=40).prop_map(|n| format!("+{n}")),
        "[1-9][0-9]{19,40}",
        "-[1-9][0-9]{19,40}",
        any::<f64>().prop_map(|f| toml::Value::Float(f).to_string()),
        any::<String>().prop_map(|s| toml::Value::String(s).to_string()),
        any::<bool>().prop_map(|b| b.to_string()),
        Just("1979-05-27T07:32:00Z".to_string()),
        Just("1979-05-27".to_string()),
        Just("07:32:00".to_string()),
    ];
    scalar.prop_recursive(2, 8, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4)
                .prop_map(|v| format!("[{}]", v.join(", "))),
            inner.prop_map(|v| format!("{{ x = {v} }}")),
        ]
    })
}

proptest! {
    // No regression files in the source tree; a failure prints its minimal input.
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn stdin_parsing_never_panics_and_errors_are_one_line(bytes in stdin_like()) {
        match ids::collect(&[], Some(&bytes)) {
            Ok(collected) => {
                for id in &collected.ids {
                    prop_assert!(TaskId::parse(id.as_str()).is_ok());
                }
            }
            Err(message) => prop_assert!(!message.contains('\n') && !message.contains('\r'), "{message}"),
        }
    }

    #[test]
    fn every_format_round_trips_valid_ids(ids_in in proptest::collection::vec(task_id(), 0..60)) {
        let mut unique = Vec::new();
        for id in &ids_in {
            if !unique.contains(id) {
                unique.push(id.clone());
            }
        }
        let as_lines = ids_in.join("\n");
        let as_json = serde_json::to_string(&ids_in).unwrap();
        let tasks: Vec<serde_json::Value> = ids_in
            .iter()
            .map(|id| serde_json::json!({"id": id, "taskStatus": "fail"}))
            .collect();
        let as_document = serde_json::json!({"count": tasks.len(), "total": tasks.len(), "tasks": tasks}).to_string();
        for (format, text) in [("json", as_json), ("document", as_document)] {
            let got = ids::collect(&[], Some(text.as_bytes())).unwrap();
            let got: Vec<&str> = got.ids.iter().map(TaskId::as_str).collect();
            prop_assert_eq!(&got, &unique, "{}", format);
        }
        // Plain lines: by design an ID starting with '#' is a comment line there, and input
        // starting with '[' or '{' is read as JSON, and a leading byte-order mark is dropped.
        let first = ids_in.first().and_then(|id| id.chars().next());
        if ids_in.iter().all(|id| !id.starts_with('#'))
            && !matches!(first, Some('[' | '{' | '\u{feff}'))
        {
            let got = ids::collect(&[], Some(as_lines.as_bytes())).unwrap();
            let got: Vec<&str> = got.ids.iter().map(TaskId::as_str).collect();
            prop_assert_eq!(&got, &unique);
        }
    }

    #[test]
    fn documents_parser_never_panics(text in "[\\[\\]{}\",:a-zA-Z0-9 \\n]{0,300}") {
        let _ = listing::failed_in_documents(&text);
    }

    #[test]
    fn error_bodies_are_sanitized_whatever_the_server_sends(
        body in proptest::collection::vec(any::<u8>(), 0..2048),
        status in 300u16..600,
    ) {
        let (code, message) = parse_error_body(&body);
        for text in code.iter().chain(std::iter::once(&message)) {
            prop_assert!(!text.chars().any(untrusted::is_hazard), "{text:?}");
            prop_assert!(text.chars().count() <= 260);
        }
        let outcome = Outcome::from_response(
            &RawResponse { status, body, ..RawResponse::default() },
            std::time::Duration::ZERO,
        );
        prop_assert_eq!(outcome.status, Status::Failed);
    }

    #[test]
    fn json_error_bodies_with_hostile_text(code in ".{0,100}", message in ".{0,400}") {
        let body = serde_json::json!({"errorCode": code, "errorMessage": message}).to_string();
        let (got_code, got_message) = parse_error_body(body.as_bytes());
        prop_assert!(got_code.is_some());
        for text in [got_code.unwrap(), got_message] {
            prop_assert!(!text.chars().any(untrusted::is_hazard), "{text:?}");
        }
    }

    #[test]
    fn escaped_text_holds_nothing_a_terminal_would_act_on(text in any::<String>(), max in 0usize..300) {
        prop_assert!(!untrusted::escape(&text).chars().any(untrusted::is_hazard));
        let cut = untrusted::excerpt(&text, max);
        prop_assert!(!cut.chars().any(untrusted::is_hazard));
        prop_assert!(cut.chars().count() <= max + 1);
    }

    #[test]
    fn endpoints_and_times_never_panic(text in ".{0,80}") {
        if let Err(message) = Endpoint::parse(&text) {
            prop_assert!(!message.contains('\n'));
        }
        if let Err(e) = window::parse_time(&text, "--from") {
            prop_assert!(!e.to_string().contains('\n'));
        }
    }

    #[test]
    fn a_server_date_never_sets_the_clock_to_a_time_the_signers_cannot_write(
        date in date_like(),
        local in local_clock(),
        offset in prop_oneof![Just(0i64), -400_000_000_000i64..400_000_000_000, any::<i64>()],
    ) {
        let reading = clock::read_date(Some(&date), local, offset);
        let parsed = httpdate::parse_http_date(date.trim()).ok();
        match reading {
            Reading::Missing => prop_assert!(parsed.is_none(), "{date:?}"),
            Reading::Unusable | Reading::Agrees => prop_assert!(parsed.is_some(), "{date:?}"),
            Reading::Offset(new) => {
                // The corrected clock is the server's, to the second, and signable.
                let corrected = clock::signing_time(local, new);
                let server = unix(parsed.unwrap());
                prop_assert!((unix(corrected) - server).abs() <= 1, "{date:?} {new}");
                prop_assert!(new.abs_diff(offset) > 1);
                sign_both_ways(corrected);
            }
        }
        let signing = clock::signing_time(local, offset);
        prop_assert!((0..=LAST_SIGNABLE).contains(&unix(signing)), "{signing:?}");
        sign_both_ways(signing);
    }

    #[test]
    fn retry_after_is_at_most_a_minute_and_only_decimal_seconds_or_a_date(
        value in retry_after_like(),
        now in local_clock(),
    ) {
        let got = policy::parse_retry_after(&value, now);
        let trimmed = value.trim_matches([' ', '\t']);
        let (whole, fraction) = trimmed.split_once('.').unwrap_or((trimmed, "0"));
        let decimal = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if decimal(whole) && decimal(fraction) {
            let secs: f64 = trimmed.parse().unwrap();
            let want = if secs >= 60.0 { MAX_RETRY_AFTER } else { Duration::from_secs_f64(secs) };
            let got = got.unwrap();
            prop_assert!(got.abs_diff(want) < Duration::from_millis(1), "{value:?}: {got:?}");
        } else if httpdate::parse_http_date(trimmed).is_err() {
            prop_assert_eq!(got, None, "{:?}", value);
        }
        if let Some(wait) = got {
            prop_assert!(wait <= MAX_RETRY_AFTER);
        }
    }

    #[test]
    fn status_lines_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64), status in 100u16..1000) {
        let _ = status_line::parse(&bytes);
        let line = format!("HTTP/1.1 {status} Whatever\r\n");
        prop_assert_eq!(status_line::parse(line.as_bytes()), Some(status));
    }

    /// Whatever value stands at a number's key, the file is read, with the number within its
    /// flag's bounds, or refused in one line naming the file, the profile and the key.
    #[test]
    fn profile_numbers_are_in_bounds_or_a_located_error(
        which in 0..PROFILE_NUMBERS.len(),
        value in toml_value(),
        inline in any::<bool>(),
    ) {
        let bound = PROFILE_NUMBERS[which];
        let text = if inline {
            format!("prod = {{ region = \"r\", {} = {value} }}\n", bound.key)
        } else {
            format!("[other]\n[prod]\nregion = \"r\"\n{} = {value}\n", bound.key)
        };
        let path = std::path::Path::new("/etc/sls-retry/config.toml");
        match sls_retry::config::profile_file::parse_file(path, &text) {
            Ok(profiles) => {
                let p = &profiles["prod"];
                let got = match bound.key {
                    "timeout" => p.timeout,
                    "retries" => p.retries,
                    "jobs" => p.jobs,
                    _ => p.batch_size,
                };
                let got = got.expect("the key was set");
                prop_assert!((bound.min..=bound.max).contains(&got), "{text}: {got}");
            }
            Err(e) => {
                let message = format!("{e:#}");
                prop_assert!(!message.contains('\n') && !message.contains('\r'), "{message}");
                prop_assert!(!message.chars().any(untrusted::is_hazard), "{message}");
                let place = format!(
                    "invalid profile file /etc/sls-retry/config.toml: profile \"prod\", key {} (",
                    bound.key
                );
                prop_assert!(message.starts_with(&place), "{text}: {message}");
            }
        }
    }

    /// Any text at all: a profile file that parses, or a one-line error; never a panic.
    #[test]
    fn sts_answers_never_panic_and_errors_are_one_safe_line(
        body in sts_answer_like(),
        status in prop_oneof![Just(200u16), 100u16..600],
    ) {
        let role = RoleRequest {
            role_arn: "acs:ram::1:role/r".into(),
            session_name: "s\u{202e}1".into(),
            duration_seconds: 3600,
            policy: None,
            external_id: None,
        };
        let endpoint = StsEndpoint::select(None, None, false).unwrap();
        if let Err(err) = sts::read_answer(&endpoint, "AssumeRole", &role, status, &body) {
            let err = format!("{err:#}");
            prop_assert!(!err.chars().any(untrusted::is_hazard), "{err:?}");
            // A 200 may carry credentials: no secret of its body is quoted.
            prop_assert!(status != 200 || !err.contains("hostile-secret"), "{err}");
        }
    }

    #[test]
    fn sts_endpoints_never_panic(
        explicit in proptest::option::of(".{0,60}"),
        region in proptest::option::of(".{0,40}"),
        vpc in any::<bool>(),
    ) {
        match StsEndpoint::select(explicit.as_deref(), region.as_deref(), vpc) {
            Ok(endpoint) => prop_assert!(endpoint.0.starts_with("http"), "{endpoint}"),
            Err(err) => prop_assert!(!err.to_string().chars().any(untrusted::is_hazard), "{err}"),
        }
    }

    #[test]
    fn profile_files_never_panic(text in "[\\[\\]{}=\"'.,a-z_0-9 \\n#\\x00-\\x1f\\x{80}-\\x{10FFFF}+-]{0,200}") {
        if let Err(e) = sls_retry::config::profile_file::parse_file(std::path::Path::new("f.toml"), &text) {
            let message = format!("{e:#}");
            prop_assert!(!message.contains('\n') && !message.contains('\r'), "{message}");
        }
    }

    #[test]
    fn proxy_settings_never_panic_and_errors_are_one_safe_line(
        var in prop::sample::select(vec!["HTTPS_PROXY", "http_proxy", "ALL_PROXY", "NO_PROXY"]),
        value in "[a-zA-Z0-9:/@%.\\[\\]*,_ \\-\\x00-\\x1f\\x{80}-\\x{10FFFF}]{0,60}",
        host in "[a-zA-Z0-9.:\\[\\]-]{0,40}",
        port in any::<u16>(),
    ) {
        let lookup = |name: &str| (name == var).then(|| value.clone());
        let interrupt = Interrupt::default();
        match Proxies::from_env(&Env::new(&lookup, &interrupt)) {
            Ok(proxies) => {
                let _ = proxies.route("https", &host, port).to_string();
            }
            Err(err) => {
                let message = format!("{err:#}");
                prop_assert!(!message.chars().any(untrusted::is_hazard), "{message}");
                prop_assert!(message.starts_with(&format!("{var} cannot be used: ")), "{message}");
            }
        }
        if let Ok(no_proxy) = NoProxy::parse(&value) {
            let _ = no_proxy.matches(&host, port);
        }
    }
}
