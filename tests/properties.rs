//! Property tests for everything that reads untrusted input: the stdin parsers (plain, JSON
//! array, GetShipperStatus documents), the error-body parser, endpoints and times, profile
//! values. Whatever the
//! bytes, they return a value or a one-line error, never panic, and never pass control
//! characters, bidirectional overrides or invisible characters from a server on to a terminal.
//!
//! `cargo test --test properties` runs a few hundred cases each; for a long fuzzing run:
//! `PROPTEST_CASES=200000 cargo test --release --locked --test properties`.

use proptest::prelude::*;

use sls_retry::config::PROFILE_NUMBERS;
use sls_retry::endpoint::Endpoint;
use sls_retry::ids::{self, TaskId};
use sls_retry::listing;
use sls_retry::outcome::{Outcome, RawResponse, Status, parse_error_body};
use sls_retry::untrusted;
use sls_retry::window;

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
        match sls_retry::profile::parse_file(path, &text) {
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
    fn profile_files_never_panic(text in "[\\[\\]{}=\"'.,a-z_0-9 \\n#\\x00-\\x1f\\x{80}-\\x{10FFFF}+-]{0,200}") {
        if let Err(e) = sls_retry::profile::parse_file(std::path::Path::new("f.toml"), &text) {
            let message = format!("{e:#}");
            prop_assert!(!message.contains('\n') && !message.contains('\r'), "{message}");
        }
    }
}
