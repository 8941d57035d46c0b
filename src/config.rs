//! Flags and environment resolved once into the `Config` the rest of the program takes.
//! Each value remembers where it came from, for `-v`.

use std::time::Duration;

use anyhow::{Result, bail};

use crate::cli::Cli;
use crate::credentials::{Credentials, Secret};
use crate::endpoint::Endpoint;

/// Where the report goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    Human,
    Json,
    Quiet,
}

/// Everything a run needs, resolved and validated.
#[derive(Debug)]
pub struct Config {
    pub project: String,
    pub logstore: String,
    pub shipper: String,
    pub endpoint: Endpoint,
    pub credentials: Credentials,
    pub batch_size: usize,
    pub timeout: Duration,
    pub dry_run: bool,
    pub output: Output,
    pub verbose: u8,
    /// `(setting, source)` pairs for `-v`; never holds a secret.
    pub sources: Vec<(&'static str, String)>,
}

/// The environment variables read for credentials.
pub const ENV_ACCESS_KEY_ID: &str = "ALIBABA_CLOUD_ACCESS_KEY_ID";
pub const ENV_ACCESS_KEY_SECRET: &str = "ALIBABA_CLOUD_ACCESS_KEY_SECRET";
pub const ENV_SECURITY_TOKEN: &str = "ALIBABA_CLOUD_SECURITY_TOKEN";

impl Config {
    /// Resolve the flags and the environment (`env` looks a variable up; empty counts as unset).
    pub fn resolve(cli: &Cli, env: &dyn Fn(&str) -> Option<String>) -> Result<Config> {
        let env = |name: &str| env(name).filter(|v| !v.is_empty());
        let mut sources = Vec::new();

        let project = required(&cli.project, "project", "-p/--project NAME")?;
        check_project(&project)?;
        let logstore = required(&cli.logstore, "logstore", "-l/--logstore NAME")?;
        check_name("logstore", &logstore)?;
        let shipper = required(&cli.shipper, "shipper", "-s/--shipper NAME")?;
        check_name("shipper", &shipper)?;
        for setting in ["project", "logstore", "shipper"] {
            sources.push((setting, "flag".to_string()));
        }

        let endpoint = match &cli.endpoint {
            Some(e) => Endpoint::parse(e).map_err(anyhow::Error::msg)?,
            None => bail!(
                "no endpoint given; pass -e/--endpoint HOST, e.g. cn-hangzhou.log.aliyuncs.com"
            ),
        };
        sources.push(("endpoint", "flag --endpoint".to_string()));

        let credentials = credentials_from_env(&env)?;
        sources.push((
            "credentials",
            format!(
                "environment ({ENV_ACCESS_KEY_ID}, {ENV_ACCESS_KEY_SECRET}{})",
                if credentials.security_token.is_some() {
                    format!(", {ENV_SECURITY_TOKEN}")
                } else {
                    String::new()
                }
            ),
        ));

        Ok(Config {
            project,
            logstore,
            shipper,
            endpoint,
            credentials,
            batch_size: usize::from(cli.batch_size),
            timeout: Duration::from_secs(cli.timeout),
            dry_run: cli.dry_run,
            output: if cli.json {
                Output::Json
            } else if cli.quiet {
                Output::Quiet
            } else {
                Output::Human
            },
            verbose: cli.verbose,
            sources,
        })
    }
}

fn required(value: &Option<String>, what: &str, flag: &str) -> Result<String> {
    match value.as_deref().map(str::trim) {
        Some(v) if !v.is_empty() => Ok(v.to_string()),
        _ => bail!("no {what} given; pass {flag}"),
    }
}

/// Project names become part of a host name: 3-63 lower-case letters, digits and '-'.
fn check_project(name: &str) -> Result<()> {
    let ok = (3..=63).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-');
    if !ok {
        bail!(
            "invalid project name \"{}\": use 3-63 lower-case letters, digits and '-', \
             not starting or ending with '-'",
            name.escape_debug()
        );
    }
    Ok(())
}

/// Logstore and shipper names go into the request path: nothing that would change its meaning.
fn check_name(what: &str, name: &str) -> Result<()> {
    let ok = name.len() <= 128
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && name != "."
        && name != "..";
    if !ok {
        bail!(
            "invalid {what} name \"{}\": use letters, digits, '-', '_' and '.'",
            name.escape_debug()
        );
    }
    Ok(())
}

fn credentials_from_env(env: &dyn Fn(&str) -> Option<String>) -> Result<Credentials> {
    match (env(ENV_ACCESS_KEY_ID), env(ENV_ACCESS_KEY_SECRET)) {
        (Some(id), Some(secret)) => Ok(Credentials {
            access_key_id: id.trim().to_string(),
            access_key_secret: Secret::new(secret.trim()),
            security_token: env(ENV_SECURITY_TOKEN).map(|t| Secret::new(t.trim())),
        }),
        (Some(_), None) => {
            bail!("{ENV_ACCESS_KEY_ID} is set but {ENV_ACCESS_KEY_SECRET} is not; set both")
        }
        (None, Some(_)) => {
            bail!("{ENV_ACCESS_KEY_SECRET} is set but {ENV_ACCESS_KEY_ID} is not; set both")
        }
        (None, None) => Err(anyhow::anyhow!(
            "no credentials found; tried the environment variables {ENV_ACCESS_KEY_ID} and \
             {ENV_ACCESS_KEY_SECRET} (secrets are never accepted as flags)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;
    use std::collections::HashMap;

    fn resolve(args: &[&str], env: &[(&str, &str)]) -> Result<Config> {
        let cli = Cli::try_parse_from(std::iter::once("sls-retry").chain(args.iter().copied()))?;
        let env: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::resolve(&cli, &|k| env.get(k).cloned())
    }

    const TARGET: [&str; 8] = ["-p", "proj", "-l", "store", "-s", "ship", "-e", "h.example"];
    const CREDS: [(&str, &str); 2] = [
        (ENV_ACCESS_KEY_ID, "AKID"),
        (ENV_ACCESS_KEY_SECRET, "SECRET"),
    ];

    #[test]
    fn env_credentials_and_sts_token() {
        let c = resolve(&TARGET, &CREDS).unwrap();
        assert_eq!(c.credentials.access_key_id, "AKID");
        assert_eq!(c.credentials.access_key_secret.expose(), "SECRET");
        assert!(c.credentials.security_token.is_none());

        let mut env = CREDS.to_vec();
        env.push((ENV_SECURITY_TOKEN, "TOKEN"));
        let c = resolve(&TARGET, &env).unwrap();
        assert_eq!(c.credentials.security_token.unwrap().expose(), "TOKEN");
    }

    #[test]
    fn missing_pieces_name_the_fix() {
        let err = resolve(&TARGET, &[]).unwrap_err();
        assert!(
            format!("{err:#}")
                .contains("tried the environment variables ALIBABA_CLOUD_ACCESS_KEY_ID")
        );
        let err = resolve(&TARGET, &[(ENV_ACCESS_KEY_ID, "x")]).unwrap_err();
        assert!(format!("{err:#}").contains("set both"));
        let err = resolve(
            &TARGET,
            &[(ENV_ACCESS_KEY_ID, "x"), (ENV_ACCESS_KEY_SECRET, "")],
        )
        .unwrap_err();
        assert!(
            format!("{err:#}").contains("set both"),
            "empty counts as unset"
        );

        let err = resolve(&TARGET[2..], &CREDS).unwrap_err();
        assert_eq!(err.to_string(), "no project given; pass -p/--project NAME");
        let err = resolve(&TARGET[..6], &CREDS).unwrap_err();
        assert!(err.to_string().contains("-e/--endpoint"));
    }

    #[test]
    fn names_that_would_break_the_host_or_path_are_refused() {
        let mut args = TARGET.to_vec();
        args[1] = "Bad_Project";
        assert!(
            resolve(&args, &CREDS)
                .unwrap_err()
                .to_string()
                .contains("invalid project name")
        );
        let mut args = TARGET.to_vec();
        args[3] = "a/b?c";
        assert!(
            resolve(&args, &CREDS)
                .unwrap_err()
                .to_string()
                .contains("invalid logstore name")
        );
        let mut args = TARGET.to_vec();
        args[5] = "..";
        assert!(
            resolve(&args, &CREDS)
                .unwrap_err()
                .to_string()
                .contains("invalid shipper name")
        );
    }

    #[test]
    fn output_modes() {
        let mut args = TARGET.to_vec();
        args.push("--json");
        assert_eq!(resolve(&args, &CREDS).unwrap().output, Output::Json);
        args.push("-q");
        assert!(resolve(&args, &CREDS).is_err(), "--json and -q conflict");
        let mut args = TARGET.to_vec();
        args.push("-q");
        assert_eq!(resolve(&args, &CREDS).unwrap().output, Output::Quiet);
    }
}
