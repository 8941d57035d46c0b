//! The checks every run of the binary passes, whatever the test: no secret in any output, and a
//! report that accounts for every task ID.

use std::collections::{HashMap, HashSet};

use base64::Engine as _;
use serde_json::Value;
use standin::proxy::{DEMO_PROXY_PASSWORD, DEMO_PROXY_USER};
use standin::{DEMO_KEY_SECRET, ISSUED_SECRET_MARK, ISSUED_TOKEN_MARK};

use super::Run;

/// Every secret value the integration tests hand to `sls-retry` (environment, profile files,
/// the aliyun CLI config, credentials commands, the stand-in's accounts and ECS role). Every run
/// the tests make is checked for each of them, so a run of the whole suite proves that no secret
/// reached any output. A test that brings a new secret adds it here.
const SECRETS: &[&str] = &[
    DEMO_KEY_SECRET,
    "not-the-secret",
    "wrong-secret",
    "Sup3rSecretValue-do-not-print",
    "STS-token-CAIS-do-not-print",
    "wrong-token-do-not-print",
    "secret-value-never-printed",
    "sts-token-never-printed",
    "demo-ecs-secret",
    "demo-ecs-token",
    "S3cret",
    // The service account's OIDC token (tests/it/chain.rs) and the fixed ECS role's secret.
    "oidc-token-never-printed",
    "ecs-fixed-secret",
    "ecs-fixed-token",
    // Every secret and token the stand-in hands out (STS, credentials URI, short-lived ECS role).
    ISSUED_SECRET_MARK,
    ISSUED_TOKEN_MARK,
    // The proxies' passwords (a test that percent-encodes one in a proxy URL adds the encoded
    // form too, as a run could show the URL as given).
    DEMO_PROXY_PASSWORD,
];

/// Every proxy user and password the tests give `sls-retry`: besides the password (in
/// `SECRETS`), no run shows them as a `Proxy-Authorization: Basic` value carries them.
const PROXY_CREDENTIALS: &[(&str, &str)] = &[(DEMO_PROXY_USER, DEMO_PROXY_PASSWORD)];

/// `user:password` in base64, as `Proxy-Authorization: Basic` carries it.
fn basic(user: &str, password: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
}

impl Run {
    /// A run's outcome, once it passed the checks every run must pass, whatever the test:
    /// - no secret in stdout or stderr;
    /// - the report accounts for every task ID: each batch line's IDs, once, add up to the
    ///   summary, and its counts are the batch lines' (JSON Lines), or the batch lines are as
    ///   many as the summary says and hold as many IDs (text).
    pub(super) fn audited(code: i32, stdout: String, stderr: String) -> Run {
        let run = Run {
            code,
            stdout,
            stderr,
            _audited: (),
        };
        for secret in SECRETS {
            run.assert_hides(secret, "every run");
        }
        for (user, password) in PROXY_CREDENTIALS {
            run.assert_hides(&basic(user, password), "every run");
        }
        run.assert_accounts_for_every_id();
        run
    }

    fn assert_accounts_for_every_id(&self) {
        let lines: Vec<Value> = self
            .stdout
            .lines()
            .map_while(|l| serde_json::from_str(l).ok())
            .collect();
        let is_json = !lines.is_empty() && lines.len() == self.stdout.lines().count();
        if is_json {
            if let Some(summary) = lines.last().filter(|l| l["type"] == "summary") {
                audit_json(&lines, summary);
            }
        } else if let Some(summary) = self.stdout.lines().rfind(|l| l.starts_with("retried ")) {
            audit_text(&self.stdout, summary);
        }
    }
}

/// JSON Lines: every ID in exactly one batch line of its shipper (the same ID under two shippers
/// is two tasks); the summary's counts are the batch lines'.
fn audit_json(lines: &[Value], summary: &Value) {
    let batches: Vec<&Value> = lines.iter().filter(|l| l["type"] == "batch").collect();
    let mut seen = HashSet::new();
    let (mut ids, mut accepted) = (0, 0);
    let mut by_status = HashMap::new();
    for batch in &batches {
        let batch_ids = batch["ids"].as_array().expect("a batch names its ids");
        for id in batch_ids {
            let task = (
                batch["logstore"].to_string(),
                batch["shipper"].to_string(),
                id.to_string(),
            );
            assert!(seen.insert(task), "{id} in two batches: {lines:?}");
        }
        ids += batch_ids.len();
        let status = batch["status"].as_str().unwrap().to_string();
        if status == "ok" {
            accepted += batch_ids.len();
        }
        *by_status.entry(status).or_insert(0) += 1;
    }
    let count = |key: &str| summary[key].as_u64().unwrap_or(0) as usize;
    let reported = |status: &str| by_status.get(status).copied().unwrap_or(0);
    assert_eq!(count("batches"), batches.len(), "batch lines: {summary}");
    assert_eq!(count("ids"), ids, "every id in a batch line: {summary}");
    assert_eq!(count("accepted_ids"), accepted, "{summary}");
    for status in ["ok", "failed", "not_sent"] {
        assert_eq!(count(status), reported(status), "{status}: {summary}");
    }
}

/// Text: `retried A of N task ids in B batches` follows B batch lines holding N IDs (`batch 3/9
/// [logstore/shipper]  10 ids ...`: the count is the word before `ids`).
fn audit_text(stdout: &str, summary: &str) {
    let numbers: Vec<usize> = summary
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse().ok())
        .collect();
    let (ids, batches) = (numbers[1], numbers[2]);
    let lines: Vec<&str> = stdout.lines().filter(|l| l.starts_with("batch ")).collect();
    assert_eq!(lines.len(), batches, "{stdout}");
    let count = |line: &str| {
        let words: Vec<&str> = line.split_whitespace().collect();
        let at = words
            .iter()
            .position(|w| *w == "ids" || *w == "ids:")
            .unwrap();
        words[at - 1].parse::<usize>().unwrap()
    };
    let in_lines: usize = lines.iter().map(|l| count(l)).sum();
    assert_eq!(in_lines, ids, "{stdout}");
}

#[test]
#[should_panic(expected = "stderr shows a secret")]
fn a_proxy_authorization_value_is_a_secret() {
    let header = format!(
        "Proxy-Authorization: Basic {}",
        basic("proxy-user", "proxy-pass-never-printed")
    );
    Run::audited(0, String::new(), header);
}
