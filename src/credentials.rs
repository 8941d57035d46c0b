//! Credentials: the AccessKey pair and optional STS token, kept in types that never print a secret.

use std::fmt;
use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::interrupt::{Interrupt, Interrupted};

/// A secret string: an AccessKeySecret, an STS token, or a credentials command's text (which may
/// carry one, e.g. `printf '{...}'`).
///
/// `Debug` prints `<redacted>` and there is deliberately no `Display`, so a secret cannot end up in
/// a log line, an error message or `--dry-run` output by accident; `expose` is the one way out and
/// is only called by the signer and the header writer.
#[derive(Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret value, for signing, for the headers the signer marks sensitive, and for
    /// running a credentials command only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// What a request is signed with.
#[derive(Clone, Debug)]
pub struct Credentials {
    /// The AccessKeyId is an identifier, not a secret: it is shown by `-v` and `--dry-run`.
    pub access_key_id: String,
    pub access_key_secret: Secret,
    /// STS token; sent (and signed) as `x-acs-security-token`.
    pub security_token: Option<Secret>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_secret_or_token() {
        let creds = Credentials {
            access_key_id: "LTAIexample".into(),
            access_key_secret: Secret::new("very-secret-value"),
            security_token: Some(Secret::new("sts-token-value")),
        };
        let shown = format!("{creds:?} {creds:#?}");
        assert!(shown.contains("LTAIexample"));
        assert!(!shown.contains("very-secret-value"), "{shown}");
        assert!(!shown.contains("sts-token-value"), "{shown}");
        assert!(shown.contains("<redacted>"));
    }

    const AK: &str = r#"printf '{"mode":"AK","access_key_id":"id","access_key_secret":"S3cret"}'"#;

    fn run(command: &str, timeout: Duration) -> anyhow::Result<Credentials> {
        from_command(command, CommandStyle::Shell, timeout, &Interrupt::default())
    }

    #[test]
    fn a_command_s_credentials_and_errors_that_never_quote_it() {
        let creds = run(AK, Duration::from_secs(10)).unwrap();
        assert_eq!(creds.access_key_secret.expose(), "S3cret");

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
) -> anyhow::Result<Credentials> {
    let out = run_command(command, style, timeout, interrupt)?;
    parse_external(&out)
}

/// `command`, ready to spawn as `style` says.
fn build_command(command: &str, style: CommandStyle) -> anyhow::Result<Command> {
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

/// Run `command` to its end and return what it printed on stdout.
fn run_command(
    command: &str,
    style: CommandStyle,
    timeout: Duration,
    interrupt: &Interrupt,
) -> anyhow::Result<Vec<u8>> {
    use anyhow::{Context, bail};

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
    let Some(stdout) = child.stdout.take() else {
        stop(&mut child);
        bail!("cannot read the command's output");
    };
    // A thread reads, so that the wait below keeps watching the clock and for signals.
    let (sender, output) = mpsc::channel();
    std::thread::spawn(move || {
        let mut stdout = stdout;
        let mut out = Vec::new();
        let read = (&mut stdout)
            .take(MAX_COMMAND_OUTPUT as u64 + 1)
            .read_to_end(&mut out)
            .map(|_| out);
        let _ = sender.send(read);
        // Closed only now: a command that dies of the closed pipe (SIGPIPE) does so after its
        // output is in the channel, where the wait finds it over the cap rather than "failed".
        drop(stdout);
    });

    let deadline = Instant::now() + timeout;
    let mut status = None;
    let mut out: Option<Vec<u8>> = None;
    loop {
        if let Some(signal) = interrupt.signal() {
            stop(&mut child);
            return Err(Interrupted {
                signal,
                during: "the command ran; nothing was sent",
            }
            .into());
        }
        let received = match out {
            // Waiting for the output is this loop's pause.
            None => output.recv_timeout(COMMAND_POLL),
            Some(_) => {
                std::thread::sleep(COMMAND_POLL);
                Err(mpsc::RecvTimeoutError::Timeout)
            }
        };
        if status.is_none() {
            status = child.try_wait().context("cannot wait for the command")?;
        }
        let received = match (received, &out, status) {
            // Sent between the wait above and the exit: still read it before judging the exit.
            (Err(mpsc::RecvTimeoutError::Timeout), None, Some(_)) => output
                .try_recv()
                .map_err(|_| mpsc::RecvTimeoutError::Timeout),
            (received, ..) => received,
        };
        match received {
            Ok(read) => out = Some(read.context("cannot read the command's output")?),
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => bail!("cannot read the command's output"),
        }
        if out.as_ref().is_some_and(|o| o.len() > MAX_COMMAND_OUTPUT) {
            stop(&mut child);
            bail!(
                "the command printed more than {} MiB; credentials are a few hundred bytes",
                MAX_COMMAND_OUTPUT >> 20
            );
        }
        match status {
            Some(status) if !status.success() => bail!("the command failed ({status})"),
            // Exited, and printed everything (its stdout is closed).
            Some(_) if out.is_some() => return Ok(out.unwrap_or_default()),
            _ => {}
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
fn describe(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}

/// Parse the External-format JSON. Errors never quote the input: it holds a secret.
fn parse_external(out: &[u8]) -> anyhow::Result<Credentials> {
    #[derive(serde::Deserialize)]
    struct External {
        mode: Option<String>,
        access_key_id: Option<String>,
        access_key_secret: Option<Secret>,
        sts_token: Option<Secret>,
    }
    let parsed: External = serde_json::from_slice(out).map_err(|e| {
        anyhow::anyhow!(
            "its output is not the expected JSON (line {}, column {}): print {{\"mode\": \"AK\", \
             \"access_key_id\": ..., \"access_key_secret\": ...}}",
            e.line(),
            e.column()
        )
    })?;
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
    Ok(Credentials {
        access_key_id: id,
        access_key_secret: secret,
        security_token: token,
    })
}

/// Where the ECS instance metadata service answers.
pub const ECS_METADATA_URL: &str = "http://100.100.100.200";

/// Temporary credentials of the instance's RAM role from the ECS metadata service (the `aliyun`
/// CLI's EcsRamRole mode). `role` empty means: ask the service which role is attached.
///
/// IMDSv2 first (a session token), falling back to IMDSv1 unless `v1_disabled`.
pub fn from_ecs_metadata(base: &str, role: &str, v1_disabled: bool) -> anyhow::Result<Credentials> {
    use anyhow::{Context, bail};

    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        // Link-local and answering in milliseconds on ECS; off ECS, fail fast.
        .timeout_connect(Some(Duration::from_secs(2)))
        .timeout_global(Some(Duration::from_secs(5)))
        .proxy(None)
        .build()
        .new_agent();
    let base = base.trim_end_matches('/');
    let unreachable = |e: ureq::Error| {
        anyhow::anyhow!(
            "cannot reach the ECS metadata service at {base} ({e}); EcsRamRole works only on an ECS instance"
        )
    };

    let token = match agent
        .put(format!("{base}/latest/api/token"))
        .header("X-aliyun-ecs-metadata-token-ttl-seconds", "21600")
        .send_empty()
    {
        Ok(mut resp) if resp.status() == 200 => Some(
            resp.body_mut()
                .read_to_string()
                .map_err(unreachable)?
                .trim()
                .to_string(),
        ),
        Ok(resp) if v1_disabled => bail!(
            "the ECS metadata service refused a session token (HTTP {}) and IMDSv1 is disabled",
            resp.status().as_u16()
        ),
        Ok(_) => None,
        Err(e) => return Err(unreachable(e)),
    };
    let get = |path: &str| -> anyhow::Result<String> {
        let mut request = agent.get(format!("{base}{path}"));
        if let Some(token) = &token {
            request = request.header("X-aliyun-ecs-metadata-token", token);
        }
        let mut resp = request.call().map_err(unreachable)?;
        let status = resp.status().as_u16();
        let body = resp
            .body_mut()
            .with_config()
            .limit(64 * 1024)
            .read_to_string()
            .map_err(unreachable)?;
        if status != 200 {
            bail!("the ECS metadata service answered HTTP {status} for {path}");
        }
        Ok(body)
    };

    const CREDENTIALS_PATH: &str = "/latest/meta-data/ram/security-credentials/";
    let role = if role.is_empty() {
        let name = get(CREDENTIALS_PATH).context("finding the instance's RAM role")?;
        let name = name.trim().to_string();
        if name.is_empty() {
            bail!("no RAM role is attached to this ECS instance");
        }
        name
    } else {
        role.to_string()
    };

    #[derive(serde::Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct RoleCredentials {
        code: Option<String>,
        access_key_id: Option<String>,
        access_key_secret: Option<Secret>,
        security_token: Option<Secret>,
    }
    let body = get(&format!("{CREDENTIALS_PATH}{role}")).with_context(|| {
        format!(
            "getting credentials of RAM role \"{}\"",
            crate::untrusted::escape(&role)
        )
    })?;
    let creds: RoleCredentials = serde_json::from_str(&body).map_err(|_| {
        anyhow::anyhow!(
            "the ECS metadata service's answer for role \"{}\" is not JSON",
            crate::untrusted::escape(&role)
        )
    })?;
    match (
        creds.code.as_deref(),
        creds.access_key_id,
        creds.access_key_secret,
        creds.security_token,
    ) {
        (Some("Success") | None, Some(id), Some(secret), Some(token)) => Ok(Credentials {
            access_key_id: id,
            access_key_secret: secret,
            security_token: Some(token),
        }),
        (code, ..) => bail!(
            "the ECS metadata service gave no credentials for role \"{}\" (Code {})",
            crate::untrusted::escape(&role),
            crate::untrusted::excerpt(code.unwrap_or("missing"), 64)
        ),
    }
}
