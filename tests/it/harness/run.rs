//! Running the binary, every way the tests do, and what a user sees from one run.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use serde_json::Value;
use standin::{DEMO_ENV, StandIn};

use super::Home;

/// What a user sees from one run. Only `Run::audited` makes one, so every run a test reads has
/// passed the audit.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub(super) _audited: (),
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

impl From<Output> for Run {
    fn from(out: Output) -> Run {
        Run::audited(
            out.status.code().expect("exited, not killed"),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
}

/// Run and collect what a user would see. `stdin` None is an empty pipe (never a terminal).
pub fn run(cmd: &mut Command, stdin: Option<&str>) -> Run {
    feed(cmd, stdin.unwrap_or_default().as_bytes())
}

/// `run` with any bytes on stdin. A run that stops reading early (a refused input) leaves the
/// rest unwritten.
pub fn feed(cmd: &mut Command, stdin: &[u8]) -> Run {
    let spawned = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = spawned.expect("sls-retry runs");
    let mut pipe = child.stdin.take().unwrap();
    let output = std::thread::scope(|scope| {
        // Written while the output is read, so that neither side waits on a full pipe; the pipe
        // closes when the writer is done.
        scope.spawn(move || _ = pipe.write_all(stdin));
        child.wait_with_output().unwrap()
    });
    output.into()
}

/// One run against `standin` with the demo credentials and target, in a fresh home.
pub fn demo_run(standin: &StandIn, args: &[&str], stdin: Option<&str>) -> Run {
    run(Home::new().demo(standin).args(args), stdin)
}

/// A run whose stdout is `stdout` (a file, `/dev/full`, a pipe nobody reads) instead of one the
/// test reads; stdin is empty.
pub fn run_to(cmd: &mut Command, stdout: Stdio) -> Run {
    let out = cmd.stdin(Stdio::null()).stdout(stdout).output();
    out.unwrap().into()
}

/// A run on a terminal with the demo credentials and target: `script` (util-linux) gives it a
/// pseudo-terminal for stdin, stdout and stderr. What the terminal showed is `stdout`.
pub fn in_terminal(home: &Home, standin: &StandIn, args: &[&str]) -> Run {
    let cmdline = format!(
        "'{}' {} {}",
        env!("CARGO_BIN_EXE_sls-retry"),
        standin.demo_target().join(" "),
        args.join(" ")
    );
    let out = Command::new("script")
        .env_clear()
        .env("HOME", home.path())
        .env("PATH", "/usr/bin:/bin")
        .env("TERM", "xterm")
        .envs(DEMO_ENV)
        .args(["-qec", &cmdline, "/dev/null"])
        .stdin(Stdio::null())
        .output()
        .expect("`script` from util-linux runs");
    let shown = String::from_utf8_lossy(&out.stdout).into_owned();
    Run::audited(out.status.code().expect("exited"), shown, String::new())
}

/// `text` contains `part`; a failure shows both.
#[track_caller]
pub fn assert_contains(text: &str, part: &str) {
    assert!(text.contains(part), "want {part:?} in:\n{text}");
}

/// `text` starts with `prefix`; a failure shows both.
#[track_caller]
pub fn assert_starts_with(text: &str, prefix: &str) {
    assert!(
        text.starts_with(prefix),
        "want {prefix:?} first in:\n{text}"
    );
}

/// `text` ends with `suffix`; a failure shows both.
#[track_caller]
pub fn assert_ends_with(text: &str, suffix: &str) {
    assert!(text.ends_with(suffix), "want {suffix:?} last in:\n{text}");
}
