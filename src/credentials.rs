//! Credentials: the AccessKey pair and optional STS token, kept in types that never print a secret.

use std::fmt;

/// A secret string (AccessKeySecret or STS token).
///
/// `Debug` prints `<redacted>` and there is deliberately no `Display`, so a secret cannot end up in
/// a log line, an error message or `--dry-run` output by accident; `expose` is the one way out and
/// is only called by the signer and the header writer.
#[derive(Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret value, for signing and for the `x-acs-security-token` header only.
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
}

/// How a credentials command line is run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandStyle {
    /// Through `sh -c` (`cmd /C` on Windows): our own `credentials_command`.
    Shell,
    /// Split on whitespace and run directly, as the `aliyun` CLI runs `process_command`.
    Fields,
}

/// Run a credentials command and read the credentials it prints.
///
/// The output is the `aliyun` CLI's External format: `{"mode": "AK", "access_key_id": ...,
/// "access_key_secret": ...}` or `{"mode": "StsToken", ..., "sts_token": ...}`. The command's
/// stderr goes to ours (it may need to say something); its stdout is never echoed, since it
/// holds the secret.
pub fn from_command(
    command: &str,
    style: CommandStyle,
    timeout: std::time::Duration,
) -> anyhow::Result<Credentials> {
    use anyhow::{Context, bail};
    use std::process::{Command, Stdio};

    let mut cmd = match style {
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
            let program = fields.next().context("the credentials command is empty")?;
            let mut cmd = Command::new(program);
            cmd.args(fields);
            cmd
        }
    };

    // stdin may be the task IDs being piped to us: the command must not eat them.
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("cannot run credentials command `{command}`"))?;
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut stdout, &mut out).map(|_| out)
    });
    let deadline = std::time::Instant::now() + timeout;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if std::time::Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            bail!(
                "credentials command `{command}` did not finish within {}s",
                timeout.as_secs()
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    };
    let out = reader
        .join()
        .map_err(|_| anyhow::anyhow!("reading the credentials command's output failed"))?
        .context("reading the credentials command's output")?;
    if !status.success() {
        bail!("credentials command `{command}` failed ({status})");
    }
    parse_external(&out).with_context(|| format!("credentials command `{command}`"))
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
    use std::time::Duration;

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
