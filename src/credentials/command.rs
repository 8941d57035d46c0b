//! Credentials printed by a command (our `credentials_command`, the `aliyun` CLI's External
//! `process_command`): run in a process group of its own, watched for its timeout, its output's
//! size and signals, and killed with everything it started when one of them ends it.

use std::io::Read as _;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use super::keyring::{self, Issued, Provider};
use super::{Credentials, Secret};
use crate::interrupt::{Interrupt, Interrupted};

/// How long a command may take.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

/// How a credentials command line is run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandStyle {
    /// Through `sh -c` (`cmd /C` on Windows): our own `credentials_command`.
    Shell,
    /// Split on whitespace and run directly, as the `aliyun` CLI runs `process_command`.
    Fields,
}

/// Most a credentials command may print. Credentials are a few hundred bytes; more is a command
/// gone wrong, and reading all of it would only fill memory.
pub const MAX_COMMAND_OUTPUT: usize = 1 << 20;

/// How often the wait for a credentials command looks at the clock and for a signal.
const COMMAND_POLL: Duration = Duration::from_millis(10);

/// Run a credentials command and read the credentials it prints.
///
/// The output is the `aliyun` CLI's External format: `{"mode": "AK", "access_key_id": ...,
/// "access_key_secret": ...}` or `{"mode": "StsToken", ..., "sts_token": ...}`. The command's
/// stderr goes to ours (it may need to say something); its stdout is never echoed, since it
/// holds the secret. Errors never quote the command either: its text may hold a secret too
/// (`printf '{...}'`); the caller names where it is configured.
///
/// The command runs in a process group of its own, so that on its timeout, on output over
/// `MAX_COMMAND_OUTPUT`, or on SIGINT/SIGTERM (an `Interrupted` error) it is killed together with
/// everything it started.
pub fn from_command(
    command: &str,
    style: CommandStyle,
    timeout: Duration,
    interrupt: &Interrupt,
) -> Result<Issued> {
    let out = run(command, style, timeout, interrupt)?;
    parse_external(&out)
}

/// A credentials command as a provider: run again when what it printed comes with an
/// `expiration` that draws near.
pub struct FromCommand {
    pub command: Secret,
    pub style: CommandStyle,
    pub interrupt: Interrupt,
    /// Where it is configured (`profile "prod" in F, key credentials_command`), which its errors
    /// name instead of the command.
    pub configured_at: String,
}

impl Provider for FromCommand {
    fn fetch(&self) -> Result<Issued> {
        let issued = from_command(
            self.command.expose(),
            self.style,
            COMMAND_TIMEOUT,
            &self.interrupt,
        );
        issued.with_context(|| self.configured_at.clone())
    }
}

/// `command`, ready to spawn as `style` says.
fn build_command(command: &str, style: CommandStyle) -> Result<Command> {
    Ok(match style {
        CommandStyle::Shell if cfg!(windows) => {
            let mut cmd = Command::new("cmd");
            cmd.arg("/C").arg(command);
            cmd
        }
        CommandStyle::Shell => {
            let mut cmd = Command::new("/bin/sh");
            cmd.arg("-c").arg(command);
            cmd
        }
        CommandStyle::Fields => {
            let mut fields = command.split_whitespace();
            let Some(program) = fields.next() else {
                anyhow::bail!("the command is empty");
            };
            let mut cmd = Command::new(program);
            cmd.args(fields);
            cmd
        }
    })
}

/// Run `command` to its end and return what it printed on stdout (see `from_command`).
pub fn run(
    command: &str,
    style: CommandStyle,
    timeout: Duration,
    interrupt: &Interrupt,
) -> Result<Vec<u8>> {
    let (mut child, output) = spawn(command, style)?;
    let deadline = Instant::now() + timeout;
    let mut watch = Watch {
        output,
        status: None,
        out: None,
    };
    loop {
        if let Some(signal) = interrupt.signal() {
            stop(&mut child);
            let during = "the command ran; nothing was sent";
            return Err(Interrupted { signal, during }.into());
        }
        let verdict = watch.look(&mut child);
        if let Some(verdict) = verdict.transpose() {
            if verdict.is_err() {
                stop(&mut child);
            }
            return verdict;
        }
        if Instant::now() >= deadline {
            stop(&mut child);
            bail!(
                "the command did not finish within {}; it and every process it started were \
                 stopped",
                describe(timeout)
            );
        }
    }
}

/// Start the command in a process group of its own, its stdout read on a thread (so that the
/// wait keeps watching the clock and for signals) into the returned channel.
fn spawn(command: &str, style: CommandStyle) -> Result<(Child, mpsc::Receiver<Output>)> {
    let mut cmd = build_command(command, style)?;
    // stdin may be the task IDs being piped to us: the command must not eat them.
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    let mut child = cmd
        .spawn()
        .map_err(|e| anyhow::anyhow!("cannot start the command: {e}"))?;
    let Some(mut stdout) = child.stdout.take() else {
        stop(&mut child);
        bail!("cannot read the command's output");
    };
    let (sender, output) = mpsc::channel();
    std::thread::spawn(move || {
        let mut out = Vec::new();
        let mut limited = (&mut stdout).take(MAX_COMMAND_OUTPUT as u64 + 1);
        let read = limited.read_to_end(&mut out).map(|_| out);
        let _ = sender.send(read);
        // Closed only now: a command that dies of the closed pipe (SIGPIPE) does so after its
        // output is in the channel, where the wait finds it over the cap rather than "failed".
        drop(stdout);
    });
    Ok((child, output))
}

/// What the reading thread hands over: the output, or why it could not be read.
type Output = std::io::Result<Vec<u8>>;

/// What has been seen of a running command so far.
struct Watch {
    output: mpsc::Receiver<Output>,
    status: Option<std::process::ExitStatus>,
    out: Option<Vec<u8>>,
}

impl Watch {
    /// Wait a moment for its output and its exit: `Some` once the command's fate is known (its
    /// output, or why it failed), `None` while it runs.
    fn look(&mut self, child: &mut Child) -> Result<Option<Vec<u8>>> {
        let received = match self.out {
            // Waiting for the output is this loop's pause.
            None => self.output.recv_timeout(COMMAND_POLL),
            Some(_) => {
                std::thread::sleep(COMMAND_POLL);
                Err(mpsc::RecvTimeoutError::Timeout)
            }
        };
        if self.status.is_none() {
            self.status = child.try_wait().context("cannot wait for the command")?;
        }
        let received = match (received, &self.out, self.status) {
            // Sent between the wait above and the exit: still read it before judging the exit.
            (Err(mpsc::RecvTimeoutError::Timeout), None, Some(_)) => (self.output)
                .try_recv()
                .map_err(|_| mpsc::RecvTimeoutError::Timeout),
            (received, ..) => received,
        };
        match received {
            Ok(read) => self.out = Some(read.context("cannot read the command's output")?),
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => bail!("cannot read the command's output"),
        }
        if self
            .out
            .as_ref()
            .is_some_and(|o| o.len() > MAX_COMMAND_OUTPUT)
        {
            bail!(
                "the command printed more than {} MiB; credentials are a few hundred bytes",
                MAX_COMMAND_OUTPUT >> 20
            );
        }
        match self.status {
            Some(status) if !status.success() => bail!("the command failed ({status})"),
            // Exited, and printed everything (its stdout is closed).
            Some(_) if self.out.is_some() => Ok(self.out.take()),
            _ => Ok(None),
        }
    }
}

/// Kill the command and everything it started (its process group), and reap it.
fn stop(child: &mut Child) {
    #[cfg(unix)]
    if let Ok(group) = libc::pid_t::try_from(child.id()) {
        // SAFETY: kill(2) touches no memory of ours; a negative pid names the process group the
        // command leads (it was spawned with `process_group(0)`).
        unsafe {
            libc::kill(-group, libc::SIGKILL);
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// `60s`, or `250ms` for what is not whole seconds.
/// The one-line error for output that does not parse, with what it should print.
pub(super) fn not_external_json(e: serde_json::Error) -> anyhow::Error {
    anyhow::anyhow!(
        "its output is not the expected JSON (line {}, column {}): print {{\"mode\": \"AK\", \
         \"access_key_id\": ..., \"access_key_secret\": ...}}",
        e.line(),
        e.column()
    )
}

fn describe(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}

/// Parse the External-format JSON. Errors never quote the input: it holds a secret.
pub(super) fn parse_external(out: &[u8]) -> Result<Issued> {
    #[derive(serde::Deserialize)]
    struct External {
        mode: Option<String>,
        access_key_id: Option<String>,
        access_key_secret: Option<Secret>,
        sts_token: Option<Secret>,
        /// When temporary credentials stop working (`2026-11-29T10:00:00Z`).
        expiration: Option<String>,
    }
    let parsed: External = serde_json::from_slice(out).map_err(not_external_json)?;
    let (Some(id), Some(secret)) = (
        parsed.access_key_id.filter(|s| !s.is_empty()),
        parsed.access_key_secret.filter(|s| !s.expose().is_empty()),
    ) else {
        anyhow::bail!("its output lacks access_key_id or access_key_secret");
    };
    let token = parsed.sts_token.filter(|t| !t.expose().is_empty());
    match parsed.mode.as_deref() {
        Some("AK") | None => {}
        Some("StsToken") if token.is_some() => {}
        Some("StsToken") => anyhow::bail!("its output says mode StsToken but has no sts_token"),
        Some(other) => anyhow::bail!(
            "its output has mode \"{}\"; expected AK or StsToken",
            crate::untrusted::escape(other)
        ),
    }
    let expires = match parsed.expiration.as_deref() {
        None | Some("") => None,
        Some(text) => Some(keyring::expiration(text).with_context(|| {
            format!(
                "its output's expiration \"{}\" is not a time like 2026-11-29T10:00:00Z",
                crate::untrusted::excerpt(text, 40)
            )
        })?),
    };
    let credentials = Credentials {
        access_key_id: id,
        access_key_secret: secret,
        security_token: token,
    };
    Ok(Issued {
        credentials,
        expires,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const AK: &str = r#"printf '{"mode":"AK","access_key_id":"id","access_key_secret":"S3cret"}'"#;

    fn run(command: &str, timeout: Duration) -> Result<Issued> {
        from_command(command, CommandStyle::Shell, timeout, &Interrupt::default())
    }

    #[test]
    fn a_command_s_credentials_and_errors_that_never_quote_it() {
        let issued = run(AK, Duration::from_secs(10)).unwrap();
        assert_eq!(issued.credentials.access_key_secret.expose(), "S3cret");
        assert_eq!(issued.expires, None, "an AccessKey pair does not expire");
        let sts = r#"printf '{"mode":"StsToken","access_key_id":"STS.id","access_key_secret":"S3cret","sts_token":"t","expiration":"2026-11-29T10:00:00Z"}'"#;
        let issued = run(sts, Duration::from_secs(10)).unwrap();
        assert_eq!(issued.expires, keyring::expiration("2026-11-29T10:00:00Z"));
        let err = run(
            &sts.replace("2026-11-29T10:00:00Z", "tomorrow"),
            Duration::from_secs(10),
        );
        let err = format!("{:#}", err.unwrap_err());
        assert!(
            err.starts_with("its output's expiration \"tomorrow\" is not a time"),
            "{err}"
        );

        for (command, message) in [
            (
                format!("{AK}; exit 3"),
                "the command failed (exit status: 3)",
            ),
            (
                format!("{AK} | head -c 5"),
                "its output is not the expected JSON",
            ),
            (
                "/nonexistent/S3cret".to_string(),
                "the command failed (exit status: 127)",
            ),
        ] {
            let err = format!("{:#}", run(&command, Duration::from_secs(10)).unwrap_err());
            assert!(err.starts_with(message), "{command}: {err}");
            assert!(!err.contains("S3cret"), "{err}");
        }
        let err = from_command(
            "/nonexistent/S3cret --x",
            CommandStyle::Fields,
            Duration::from_secs(10),
            &Interrupt::default(),
        )
        .unwrap_err();
        let err = format!("{err:#}");
        assert!(err.starts_with("cannot start the command: "), "{err}");
        assert!(!err.contains("S3cret"), "{err}");
    }

    #[test]
    fn output_over_1_mib_is_refused() {
        // Exactly the cap is read whole (and is no JSON); one byte more is refused, and so is a
        // command that would never stop (it is killed, not waited for).
        let err = format!(
            "{:#}",
            run("head -c 1048576 /dev/zero", Duration::from_secs(30)).unwrap_err()
        );
        assert!(
            err.starts_with("its output is not the expected JSON"),
            "{err}"
        );
        for command in ["head -c 1048577 /dev/zero", "yes S3cret"] {
            let err = format!("{:#}", run(command, Duration::from_secs(30)).unwrap_err());
            assert_eq!(
                err, "the command printed more than 1 MiB; credentials are a few hundred bytes",
                "{command}"
            );
        }
    }

    /// Has process `pid` ended (a zombie counts: only its reaper is left to collect it)?
    #[cfg(target_os = "linux")]
    fn ended(pid: &str) -> bool {
        for _ in 0..500 {
            match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
                Err(_) => return true,
                Ok(stat)
                    if stat
                        .rsplit(')')
                        .next()
                        .unwrap_or("")
                        .trim_start()
                        .starts_with('Z') =>
                {
                    return true;
                }
                Ok(_) => std::thread::sleep(Duration::from_millis(10)),
            }
        }
        false
    }

    /// On its timeout the command is killed with everything it started: a child in the
    /// background that keeps the output open, and the one in the foreground.
    #[cfg(target_os = "linux")]
    #[test]
    fn on_timeout_the_whole_process_group_is_killed() {
        let dir = tempfile::tempdir().unwrap();
        let pids = dir.path().join("pids");
        let command = format!(
            "sleep 300 & echo $! > {0}; sh -c 'echo $$ >> {0}; exec sleep 300'",
            pids.display()
        );
        let err = format!("{:#}", run(&command, Duration::from_secs(1)).unwrap_err());
        assert_eq!(
            err,
            "the command did not finish within 1s; it and every process it started were \
             stopped"
        );
        let pids = std::fs::read_to_string(&pids).unwrap();
        let pids: Vec<&str> = pids.split_whitespace().collect();
        assert_eq!(pids.len(), 2, "{pids:?}");
        for pid in pids {
            assert!(ended(pid), "process {pid} still runs");
        }
    }
}
