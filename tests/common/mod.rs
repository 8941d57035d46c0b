//! What the integration test crates share: running the real binary in an isolated home and
//! reading what a user would see.
#![allow(dead_code)] // each test crate uses its own subset

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

use crate::standin::{
    DEMO_KEY_ID, DEMO_KEY_SECRET, DEMO_LOGSTORE, DEMO_PROJECT, DEMO_SHIPPER, StandIn,
};

/// The stand-in's demo credentials, as the environment variables every SDK reads.
pub const DEMO_ENV: [(&str, &str); 2] = [
    ("ALIBABA_CLOUD_ACCESS_KEY_ID", DEMO_KEY_ID),
    ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", DEMO_KEY_SECRET),
];

/// `-e <stand-in> -p <demo project> -l <demo logstore> -s <demo shipper>`.
pub fn demo_target(standin: &StandIn) -> Vec<String> {
    target_with_shipper(standin, DEMO_SHIPPER)
}

/// The demo target with another shipper (an unknown one, to meet ShipperNotExist).
pub fn target_with_shipper(standin: &StandIn, shipper: &str) -> Vec<String> {
    let endpoint = standin.endpoint();
    [
        "-e",
        &endpoint,
        "-p",
        DEMO_PROJECT,
        "-l",
        DEMO_LOGSTORE,
        "-s",
        shipper,
    ]
    .map(String::from)
    .to_vec()
}

/// One run against `standin` with the demo credentials and target, in a fresh home.
pub fn demo_run(standin: &StandIn, args: &[&str], stdin: Option<&str>) -> Run {
    run(Home::new().demo(standin).args(args), stdin)
}

/// What a user sees from one run.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json_lines(&self) -> Vec<Value> {
        self.stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l:?}: {e}")))
            .collect()
    }

    /// Exit 2 with one `sls-retry: error:` line on stderr that contains `message`.
    pub fn assert_usage_error(&self, message: &str) {
        assert_eq!(self.code, 2, "{message}: {}", self.stderr);
        assert!(
            self.stderr.starts_with("sls-retry: error: "),
            "{}",
            self.stderr
        );
        assert!(
            self.stderr.contains(message),
            "want {message:?} in {}",
            self.stderr
        );
        assert_eq!(self.stderr.lines().count(), 1, "one line: {}", self.stderr);
    }

    /// Neither stdout nor stderr contains `secret`.
    pub fn assert_hides(&self, secret: &str, what: &str) {
        assert!(
            !self.stdout.contains(secret),
            "{what}: stdout shows a secret:\n{}",
            self.stdout
        );
        assert!(
            !self.stderr.contains(secret),
            "{what}: stderr shows a secret:\n{}",
            self.stderr
        );
    }
}

/// A temporary, empty HOME: nothing from the developer's machine leaks in.
pub struct Home {
    dir: tempfile::TempDir,
}

impl Home {
    pub fn new() -> Home {
        Home {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `sls-retry` with a cleared environment and this HOME.
    pub fn command(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_sls-retry"));
        cmd.env_clear()
            .env("HOME", self.path())
            .current_dir(self.path());
        cmd
    }

    /// `command()` with the demo credentials and target of `standin`.
    pub fn demo(&self, standin: &StandIn) -> Command {
        let mut cmd = self.command();
        cmd.envs(DEMO_ENV).args(demo_target(standin));
        cmd
    }

    /// `demo()` as a `std::process::Command`, for runs that need a stdout of their own (a file,
    /// `/dev/full`, a closed pipe) or that are spawned and watched.
    pub fn demo_std(&self, standin: &StandIn) -> std::process::Command {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_sls-retry"));
        cmd.env_clear()
            .env("HOME", self.path())
            .current_dir(self.path())
            .envs(DEMO_ENV)
            .args(demo_target(standin));
        cmd
    }

    /// Write our profile file at its default location (`~/.config/sls-retry/config.toml`),
    /// private as it should be.
    pub fn profile_file(&self, toml: &str) -> PathBuf {
        self.write(".config/sls-retry/config.toml", toml, 0o600)
    }

    /// Write the aliyun CLI's `~/.aliyun/config.json`.
    pub fn aliyun_config(&self, json: &str) -> PathBuf {
        self.write(".aliyun/config.json", json, 0o600)
    }

    /// Write an executable script (for credentials commands).
    pub fn script(&self, name: &str, body: &str) -> PathBuf {
        self.write(name, &format!("#!/bin/sh\n{body}\n"), 0o700)
    }

    pub fn write(&self, relative: &str, text: &str, mode: u32) -> PathBuf {
        let path = self.path().join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        set_mode(&path, mode);
        path
    }
}

#[cfg(unix)]
pub fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[cfg(not(unix))]
pub fn set_mode(_: &Path, _: u32) {}

impl From<std::process::Output> for Run {
    fn from(out: std::process::Output) -> Run {
        Run::audited(
            out.status.code().expect("exited, not killed"),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
}

/// Run and collect what a user would see. `stdin` None is an empty pipe (never a terminal).
pub fn run(cmd: &mut Command, stdin: Option<&str>) -> Run {
    if let Some(text) = stdin {
        cmd.write_stdin(text);
    }
    cmd.output().unwrap().into()
}

/// Every secret value the integration tests hand to `sls-retry` (environment, profile files,
/// the aliyun CLI config, credentials commands, the stand-in's accounts and ECS role). Every run
/// the tests make is checked for each of them, so a run of the whole suite proves that no secret
/// reached any output. A test that brings a new secret adds it here.
pub const SECRETS: &[&str] = &[
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
];

impl Run {
    /// A run's outcome, once it passed the checks every run must pass, whatever the test:
    /// - no secret in stdout or stderr;
    /// - the report accounts for every task ID: each batch line's IDs, once, add up to the
    ///   summary, and its counts are the batch lines' (JSON Lines), or the batch lines are as
    ///   many as the summary says and hold as many IDs (text).
    pub fn audited(code: i32, stdout: String, stderr: String) -> Run {
        let run = Run {
            code,
            stdout,
            stderr,
        };
        for secret in SECRETS {
            run.assert_hides(secret, "every run");
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

/// JSON Lines: every ID in exactly one batch line; the summary's counts are the batch lines'.
fn audit_json(lines: &[Value], summary: &Value) {
    let batches: Vec<&Value> = lines.iter().filter(|l| l["type"] == "batch").collect();
    let mut seen = std::collections::HashSet::new();
    let (mut ids, mut accepted) = (0, 0);
    let mut by_status = std::collections::HashMap::new();
    for batch in &batches {
        let batch_ids = batch["ids"].as_array().expect("a batch names its ids");
        for id in batch_ids {
            assert!(
                seen.insert(id.to_string()),
                "{id} in two batches: {lines:?}"
            );
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

/// Text: `retried A of N task ids in B batches` follows B batch lines holding N IDs.
fn audit_text(stdout: &str, summary: &str) {
    let numbers: Vec<usize> = summary
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse().ok())
        .collect();
    let (ids, batches) = (numbers[1], numbers[2]);
    let lines: Vec<&str> = stdout.lines().filter(|l| l.starts_with("batch ")).collect();
    assert_eq!(lines.len(), batches, "{stdout}");
    let in_lines: usize = lines
        .iter()
        .map(|l| {
            l.split_whitespace()
                .nth(2)
                .unwrap()
                .parse::<usize>()
                .unwrap()
        })
        .sum();
    assert_eq!(in_lines, ids, "{stdout}");
}
