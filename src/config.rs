//! Flags, environment, our profile file and the `aliyun` CLI's config, resolved once into the
//! `Config` the rest of the program takes. Each value remembers where it came from, for `-v`;
//! secrets never enter that record.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::aliyun_cli::{AliyunConfig, AliyunProfile};
use crate::cli::Cli;
use crate::credentials::{self, CommandStyle, Credentials};
use crate::endpoint::Endpoint;
use crate::interrupt::Interrupt;
use crate::profile::{Profile, ProfileFile};
use crate::sign::SignatureVersion;

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
    pub signature: SignatureVersion,
    pub credentials: Credentials,
    pub batch_size: usize,
    pub timeout: Duration,
    pub retries: u32,
    /// Batches in flight at once (`--jobs`).
    pub jobs: usize,
    pub keep_going: bool,
    pub save_failed: Option<PathBuf>,
    pub dry_run: bool,
    pub output: Output,
    pub verbose: u8,
    /// `(setting, source)` pairs for `-v`; never holds a secret.
    pub sources: Vec<(&'static str, String)>,
    /// Things the user should hear about even without `-v`.
    pub warnings: Vec<String>,
}

/// The default locations of the files we read; the binary takes them from the `dirs` crate,
/// tests from a temporary directory.
#[derive(Debug, Clone, Default)]
pub struct Paths {
    /// `<config dir>/sls-retry/config.toml`.
    pub profile_file: Option<PathBuf>,
    /// `~/.aliyun/config.json`.
    pub aliyun_config: Option<PathBuf>,
}

impl Paths {
    pub fn from_system() -> Paths {
        Paths {
            profile_file: dirs::config_dir().map(|d| d.join("sls-retry").join("config.toml")),
            aliyun_config: dirs::home_dir().map(|h| h.join(".aliyun").join("config.json")),
        }
    }
}

/// The credential variables, in the order they are looked at: the name every Alibaba Cloud SDK
/// reads, then the two spellings the `aliyun` CLI also accepts. ID, secret and token always come
/// from the same spelling.
const ENV_CREDENTIALS: [[&str; 3]; 3] = [
    [
        "ALIBABA_CLOUD_ACCESS_KEY_ID",
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
        "ALIBABA_CLOUD_SECURITY_TOKEN",
    ],
    [
        "ALIBABACLOUD_ACCESS_KEY_ID",
        "ALIBABACLOUD_ACCESS_KEY_SECRET",
        "ALIBABACLOUD_SECURITY_TOKEN",
    ],
    [
        "ALICLOUD_ACCESS_KEY_ID",
        "ALICLOUD_ACCESS_KEY_SECRET",
        "ALICLOUD_SECURITY_TOKEN",
    ],
];
const ENV_REGION: [&str; 3] = [
    "ALIBABA_CLOUD_REGION_ID",
    "ALIBABACLOUD_REGION_ID",
    "ALICLOUD_REGION_ID",
];
pub const ENV_PROFILE: &str = "SLS_RETRY_PROFILE";
pub const ENV_CONFIG: &str = "SLS_RETRY_CONFIG";
/// Overrides where the ECS metadata service is reached (tests point it at a loopback server).
pub const ENV_ECS_METADATA_URL: &str = "SLS_RETRY_ECS_METADATA_URL";
/// As in Alibaba Cloud's credentials libraries: refuse the token-less IMDSv1 fallback, name the
/// instance's RAM role, or turn the metadata service off.
pub const ENV_IMDSV1_DISABLED: &str = "ALIBABA_CLOUD_IMDSV1_DISABLED";
pub const ENV_ECS_METADATA: &str = "ALIBABA_CLOUD_ECS_METADATA";
pub const ENV_ECS_METADATA_DISABLED: &str = "ALIBABA_CLOUD_ECS_METADATA_DISABLED";
/// The `aliyun` CLI's own profile selection, in its order; it picks the CLI's current profile.
const ENV_ALIYUN_PROFILE: [&str; 3] = [
    "ALIBABACLOUD_PROFILE",
    "ALIBABA_CLOUD_PROFILE",
    "ALICLOUD_PROFILE",
];

/// A number that a flag and a profile key both set (`--batch-size` and `batch_size`): its bounds
/// and built-in default, defined once, for the flag's parser and the profile file's check alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounded {
    /// The profile key; the flag is `--` and this with '-' for '_'.
    pub key: &'static str,
    /// How `-v` names the setting.
    pub name: &'static str,
    pub min: u32,
    pub max: u32,
    pub default: u32,
}

impl Bounded {
    /// The bounds as clap's ranged parsers take them.
    pub fn range(self) -> std::ops::RangeInclusive<i64> {
        i64::from(self.min)..=i64::from(self.max)
    }

    /// `n` if it is within the bounds.
    pub fn check(self, n: i128) -> Option<u32> {
        u32::try_from(n)
            .ok()
            .filter(|n| (self.min..=self.max).contains(n))
    }
}

/// Seconds allowed for each request (`--timeout`, `timeout`).
pub const TIMEOUT: Bounded = Bounded {
    key: "timeout",
    name: "timeout",
    min: 1,
    max: 3600,
    default: 30,
};
/// Retries after a transient failure (`--retries`, `retries`).
pub const RETRIES: Bounded = Bounded {
    key: "retries",
    name: "retries",
    min: 0,
    max: 20,
    default: crate::policy::DEFAULT_RETRIES,
};
/// Batches in flight at once (`--jobs`, `jobs`).
pub const JOBS: Bounded = Bounded {
    key: "jobs",
    name: "jobs",
    min: 1,
    max: 32,
    default: 1,
};
/// Task IDs per call (`--batch-size`, `batch_size`): up to the API's limit, which is the default.
pub const BATCH_SIZE: Bounded = Bounded {
    key: "batch_size",
    name: "batch size",
    min: 1,
    max: crate::batch::MAX_BATCH_SIZE as u32,
    default: crate::batch::MAX_BATCH_SIZE as u32,
};
/// Every number a profile holds, for its check.
pub const PROFILE_NUMBERS: [Bounded; 4] = [TIMEOUT, RETRIES, JOBS, BATCH_SIZE];
/// How long a `credentials_command` / `process_command` may take.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

/// What resolution reads from the process's surroundings: environment variables (empty values
/// count as unset), and the signals a credentials command's wait watches for.
struct Env<'a> {
    lookup: &'a dyn Fn(&str) -> Option<String>,
    interrupt: &'a Interrupt,
}

impl Env<'_> {
    fn get(&self, name: &str) -> Option<String> {
        (self.lookup)(name)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    }

    fn first(&self, names: &[&'static str]) -> Option<(&'static str, String)> {
        names.iter().find_map(|n| self.get(n).map(|v| (*n, v)))
    }
}

/// The profile whose settings apply.
enum Chosen<'a> {
    Ours(&'a str, &'a Profile, &'a Path),
    Aliyun(&'a AliyunProfile, &'a Path),
    Nothing,
}

impl Config {
    /// Resolve everything. `env` looks a variable up; `paths` are the default file locations;
    /// a signal in `interrupt` stops a credentials command (an `Interrupted` error).
    pub fn resolve(
        cli: &Cli,
        env: &dyn Fn(&str) -> Option<String>,
        paths: &Paths,
        interrupt: &Interrupt,
    ) -> Result<Config> {
        let env = Env {
            lookup: env,
            interrupt,
        };
        let mut sources = Vec::new();
        let mut warnings = Vec::new();

        // Our profile file.
        let (file_path, required) = match (&cli.config, env.get(ENV_CONFIG)) {
            (Some(path), _) => (Some(path.clone()), true),
            (None, Some(path)) => (Some(PathBuf::from(path)), true),
            (None, None) => (paths.profile_file.clone(), false),
        };
        let ours = match &file_path {
            Some(path) => ProfileFile::load(path, required)?,
            None => None,
        };
        if let Some(file) = &ours
            && let Some(mode) = file.loose_permissions
        {
            warnings.push(format!(
                "profile file {} holds secrets and is readable by others (mode {mode:03o}); \
                 run: chmod 600 {}",
                file.path.display(),
                file.path.display()
            ));
        }
        // The aliyun CLI's config is read up front but only an error when it is needed.
        let aliyun: AliyunLoad = match &paths.aliyun_config {
            Some(path) => AliyunConfig::load(path).map_err(|e| format!("{e:#}")),
            None => Ok(None),
        };

        // Which profile.
        let named = match (&cli.profile, env.get(ENV_PROFILE)) {
            (Some(name), _) => Some((name.clone(), "--profile")),
            (None, Some(name)) => Some((name, ENV_PROFILE)),
            (None, None) => None,
        };
        let chosen = match &named {
            Some((name, how)) => {
                if let Some((profile, file)) = ours.as_ref().and_then(|f| Some((f.get(name)?, f))) {
                    Chosen::Ours(name, profile, &file.path)
                } else if let Some((profile, cfg)) =
                    needed(&aliyun)?.and_then(|a| Some((a.get(name)?, a)))
                {
                    Chosen::Aliyun(profile, &cfg.path)
                } else {
                    bail!(
                        "profile \"{}\" (from {how}) not found in {} or in {}; {}",
                        crate::untrusted::escape(name),
                        describe_file(ours.as_ref().map(|f| &f.path), file_path.as_deref()),
                        describe_aliyun(paths.aliyun_config.as_deref(), needed(&aliyun)?),
                        match ours.as_ref().map(ProfileFile::names) {
                            Some(names) if !names.is_empty() =>
                                format!("profiles in the profile file: {}", names.join(", ")),
                            _ => "check the name".to_string(),
                        }
                    );
                }
            }
            None => match ours.as_ref().and_then(|f| Some((f.get("default")?, f))) {
                Some((profile, file)) => Chosen::Ours("default", profile, &file.path),
                None => Chosen::Nothing,
            },
        };
        let (profile, profile_source) = match &chosen {
            Chosen::Ours(name, profile, path) => (
                Some(*profile),
                format!("profile \"{name}\" ({})", path.display()),
            ),
            _ => (None, String::new()),
        };
        // Without a named profile, the aliyun CLI's current profile still supplies its region.
        let aliyun_profile = match &chosen {
            Chosen::Aliyun(p, path) => Some((*p, *path)),
            Chosen::Ours(..) if named.is_some() => None,
            _ => {
                let cli_choice = env.first(&ENV_ALIYUN_PROFILE).map(|(_, name)| name);
                aliyun
                    .as_ref()
                    .ok()
                    .and_then(Option::as_ref)
                    .and_then(|a| Some((a.current(cli_choice.as_deref())?, a.path.as_path())))
            }
        };

        // The target: flag, else profile.
        let mut setting = |what: &'static str,
                           flag: &Option<String>,
                           from_profile: Option<&String>,
                           hint: &str|
         -> Result<String> {
            let (value, source) = match (flag, from_profile) {
                (Some(v), _) => (v.trim().to_string(), "flag".to_string()),
                (None, Some(v)) => (v.trim().to_string(), profile_source.clone()),
                (None, None) => (String::new(), String::new()),
            };
            if value.is_empty() {
                bail!("no {what} given; pass {hint} or set {what} in a profile");
            }
            sources.push((what, source));
            Ok(value)
        };
        let project = setting(
            "project",
            &cli.project,
            profile.and_then(|p| p.project.as_ref()),
            "-p/--project NAME",
        )?;
        check_project(&project)?;
        let logstore = setting(
            "logstore",
            &cli.logstore,
            profile.and_then(|p| p.logstore.as_ref()),
            "-l/--logstore NAME",
        )?;
        check_name("logstore", &logstore)?;
        let shipper = setting(
            "shipper",
            &cli.shipper,
            profile.and_then(|p| p.shipper.as_ref()),
            "-s/--shipper NAME",
        )?;
        check_name("shipper", &shipper)?;

        // Where to connect, and the region for v4.
        let env_region = env.first(&ENV_REGION);
        let levels = [
            Level {
                source: "flag".into(),
                endpoint: cli.endpoint.clone(),
                region: cli.region.clone(),
                intranet: cli.intranet,
            },
            Level {
                source: env_region
                    .as_ref()
                    .map_or(String::new(), |(name, _)| format!("environment ({name})")),
                endpoint: None,
                region: env_region.as_ref().map(|(_, r)| r.clone()),
                intranet: cli.intranet,
            },
            Level {
                source: profile_source.clone(),
                endpoint: profile.and_then(|p| p.endpoint.clone()),
                region: profile.and_then(|p| p.region.clone()),
                intranet: cli.intranet || profile.and_then(|p| p.intranet).unwrap_or(false),
            },
            Level {
                source: aliyun_profile.map_or(String::new(), |(p, path)| {
                    format!("aliyun CLI profile \"{}\" ({})", p.name, path.display())
                }),
                endpoint: None,
                region: aliyun_profile
                    .map(|(p, _)| p.region_id.clone())
                    .filter(|r| !r.is_empty()),
                intranet: cli.intranet,
            },
        ];
        let (endpoint, region) = locate(&levels, &mut sources)?;
        if endpoint.scheme == crate::endpoint::Scheme::Http && !endpoint.is_loopback() {
            warnings.push(format!(
                "sending signed requests over plain http to {endpoint}; anyone on the path can \
                 read and replay them (use https, the default)"
            ));
        }

        let signature = match cli
            .signature_version
            .map(|v| (v, "flag".to_string()))
            .or_else(|| {
                profile
                    .and_then(|p| p.signature_version)
                    .map(|v| (v, profile_source.clone()))
            }) {
            Some((v, source)) => {
                sources.push(("signature version", source));
                v
            }
            // The official SDKs switch to v4 on their own for these regions.
            None if region.as_deref().is_some_and(|r| r.contains("-acdr-ut-")) => {
                sources.push(("signature version", "region (-acdr-ut- takes v4)".into()));
                4
            }
            None => 1,
        };
        let signature = match (signature, region) {
            (4, Some(region)) => SignatureVersion::V4 { region },
            (4, None) => bail!(
                "signature v4 needs a region; pass --region REGION (or set region in the profile)"
            ),
            _ => SignatureVersion::V1,
        };

        // Flag, else profile, else the built-in default; the profile's values were checked
        // against the same bounds as the flags' when the file was read.
        let mut number = |bound: Bounded, flag: Option<u32>, from_profile: Option<u32>| {
            let (value, source) = match (flag, from_profile) {
                (Some(v), _) => (v, "flag".to_string()),
                (None, Some(v)) => (v, profile_source.clone()),
                (None, None) => return bound.default,
            };
            sources.push((bound.name, source));
            value
        };
        let timeout = number(TIMEOUT, cli.timeout, profile.and_then(|p| p.timeout));
        let retries = number(RETRIES, cli.retries, profile.and_then(|p| p.retries));
        let jobs = number(JOBS, cli.jobs, profile.and_then(|p| p.jobs));
        let batch_size = number(
            BATCH_SIZE,
            cli.batch_size,
            profile.and_then(|p| p.batch_size),
        );
        if let Some(path) = &cli.save_failed {
            crate::save_failed::check(path)?;
        }

        let (credentials, credentials_source) = find_credentials(
            &env,
            &chosen,
            named.is_some(),
            ours.as_ref(),
            file_path.as_deref(),
            aliyun_profile,
            (paths.aliyun_config.as_deref(), &aliyun),
        )?;
        sources.push(("credentials", credentials_source));

        Ok(Config {
            project,
            logstore,
            shipper,
            endpoint,
            signature,
            credentials,
            batch_size: batch_size as usize,
            timeout: Duration::from_secs(u64::from(timeout)),
            retries,
            jobs: jobs as usize,
            keep_going: cli.keep_going,
            save_failed: cli.save_failed.clone(),
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
            warnings,
        })
    }
}

impl Config {
    /// One line for `-v`: where requests go, as whom, how signed.
    pub fn describe(&self) -> String {
        format!(
            "endpoint {} (Host {}), AccessKeyId {}, signature {}",
            self.endpoint.base_url(&self.project),
            self.endpoint.host_header(&self.project),
            self.credentials.access_key_id,
            match &self.signature {
                SignatureVersion::V1 => "v1".to_string(),
                SignatureVersion::V4 { region } => format!("v4 ({region})"),
            }
        )
    }
}

/// One precedence level's say on where to connect.
struct Level {
    source: String,
    endpoint: Option<String>,
    region: Option<String>,
    intranet: bool,
}

/// The endpoint comes from the first level that names an endpoint or a region; the v4 region
/// from the first region at or after that level, the endpoint's own host counting at its level.
fn locate(
    levels: &[Level],
    sources: &mut Vec<(&'static str, String)>,
) -> Result<(Endpoint, Option<String>)> {
    let Some(at) = levels
        .iter()
        .position(|l| l.endpoint.is_some() || l.region.is_some())
    else {
        if levels[0].intranet {
            bail!("--intranet needs a region: pass --region REGION");
        }
        bail!(
            "no endpoint given; pass -e/--endpoint HOST (e.g. cn-hangzhou.log.aliyuncs.com) or \
             --region REGION, or set endpoint or region in a profile"
        );
    };
    let level = &levels[at];
    let endpoint = match (&level.endpoint, &level.region) {
        (Some(e), _) => {
            if level.intranet && at > 0 {
                bail!(
                    "--intranet derives the endpoint from a region, but {} sets endpoint = \"{e}\"",
                    level.source
                );
            }
            Endpoint::parse(e).map_err(anyhow::Error::msg)?
        }
        (None, Some(r)) => {
            check_region(r)?;
            Endpoint::for_region(r, level.intranet)
        }
        (None, None) => unreachable!("the level names one of them"),
    };
    sources.push((
        "endpoint",
        if level.endpoint.is_some() {
            level.source.clone()
        } else {
            format!("{} (derived from its region)", level.source)
        },
    ));

    let region = levels[at..].iter().enumerate().find_map(|(i, l)| {
        l.region.clone().map(|r| (r, l.source.clone())).or_else(|| {
            (i == 0)
                .then(|| endpoint.region())
                .flatten()
                .map(|r| (r.to_string(), "endpoint".to_string()))
        })
    });
    match region {
        Some((region, source)) => {
            check_region(&region)?;
            sources.push(("region", source));
            Ok((endpoint, Some(region)))
        }
        None => Ok((endpoint, None)),
    }
}

/// The aliyun CLI's config as read: an error is kept until it matters.
type AliyunLoad = std::result::Result<Option<AliyunConfig>, String>;

fn needed(aliyun: &AliyunLoad) -> Result<Option<&AliyunConfig>> {
    aliyun
        .as_ref()
        .map(Option::as_ref)
        .map_err(|e| anyhow::anyhow!("{e}"))
}

/// The credential chain: a named profile's own credentials; else the environment;
/// else (no profile named) our `default` profile; else the aliyun CLI's profile.
fn find_credentials(
    env: &Env,
    chosen: &Chosen,
    named: bool,
    ours: Option<&ProfileFile>,
    file_path: Option<&Path>,
    aliyun_profile: Option<(&AliyunProfile, &Path)>,
    (aliyun_path, aliyun): (Option<&Path>, &AliyunLoad),
) -> Result<(Credentials, String)> {
    let mut tried = Vec::new();
    match chosen {
        Chosen::Ours(name, profile, path) if named && profile.has_credentials() => {
            return from_profile(name, profile, path, env);
        }
        Chosen::Aliyun(profile, path) => return from_aliyun(profile, path, env),
        Chosen::Ours(name, _, path) if named => tried.push(format!(
            "profile \"{name}\" in {} (it has no credentials)",
            path.display()
        )),
        _ => {}
    }
    if let Some(found) = from_env(env)? {
        return Ok(found);
    }
    tried.push(format!(
        "the environment variables {} and {} (or the ALIBABACLOUD_/ALICLOUD_ spellings)",
        ENV_CREDENTIALS[0][0], ENV_CREDENTIALS[0][1]
    ));
    if !named {
        match ours.map(|f| (f.get("default"), &f.path)) {
            Some((Some(profile), path)) if profile.has_credentials() => {
                return from_profile("default", profile, path, env);
            }
            Some((Some(_), path)) => tried.push(format!(
                "profile \"default\" in {} (it has no credentials)",
                path.display()
            )),
            Some((None, path)) => tried.push(format!(
                "profile \"default\" in {} (no [default] table)",
                path.display()
            )),
            None => tried.push(format!(
                "profile \"default\" in {}",
                describe_file(None, file_path)
            )),
        }
    }
    match aliyun_profile {
        Some((profile, path)) => return from_aliyun(profile, path, env),
        None => tried.push(format!(
            "the aliyun CLI's current profile in {}",
            describe_aliyun(aliyun_path, needed(aliyun)?)
        )),
    }
    bail!(
        "no credentials found; tried {}. Set the environment variables, add a profile \
         (see config.example.toml) or run `aliyun configure`",
        tried.join("; ")
    )
}

fn from_env(env: &Env) -> Result<Option<(Credentials, String)>> {
    for [id_var, secret_var, token_var] in ENV_CREDENTIALS {
        match (env.get(id_var), env.get(secret_var)) {
            (Some(id), Some(secret)) => {
                let token = env.get(token_var);
                let source = if token.is_some() {
                    format!("environment ({id_var}, {secret_var}, {token_var})")
                } else {
                    format!("environment ({id_var}, {secret_var})")
                };
                return Ok(Some((
                    Credentials {
                        access_key_id: id,
                        access_key_secret: credentials::Secret::new(secret),
                        security_token: token.map(credentials::Secret::new),
                    },
                    source,
                )));
            }
            (Some(_), None) => bail!(
                "{id_var} is set but {secret_var} is not; set both (credentials are never \
                 combined from different sources)"
            ),
            (None, Some(_)) => bail!(
                "{secret_var} is set but {id_var} is not; set both (credentials are never \
                 combined from different sources)"
            ),
            (None, None) if env.get(token_var).is_some() => {
                bail!("{token_var} is set without {id_var} and {secret_var}; set all three")
            }
            (None, None) => {}
        }
    }
    Ok(None)
}

fn from_profile(name: &str, p: &Profile, path: &Path, env: &Env) -> Result<(Credentials, String)> {
    let at = || format!("profile \"{name}\" in {}", path.display());
    let static_keys = p.access_key_id.is_some() || p.access_key_secret.is_some();
    match (
        &p.credentials_command,
        &p.access_key_id,
        &p.access_key_secret,
    ) {
        (Some(_), _, _) if static_keys || p.security_token.is_some() => bail!(
            "{}: set either credentials_command or access_key_id/access_key_secret, not both",
            at()
        ),
        (Some(command), _, _) => {
            // Named by its key: the command's text may hold a secret.
            let creds = credentials::from_command(
                command.expose(),
                CommandStyle::Shell,
                COMMAND_TIMEOUT,
                env.interrupt,
            )
            .with_context(|| format!("{}, key credentials_command", at()))?;
            Ok((creds, format!("{} (credentials_command)", at())))
        }
        (None, Some(id), Some(secret)) if !id.is_empty() && !secret.expose().is_empty() => Ok((
            Credentials {
                access_key_id: id.clone(),
                access_key_secret: secret.clone(),
                security_token: p.security_token.clone(),
            },
            at(),
        )),
        _ => bail!(
            "{}: access_key_id and access_key_secret must both be set (credentials are never \
             combined from different sources)",
            at()
        ),
    }
}

fn from_aliyun(p: &AliyunProfile, path: &Path, env: &Env) -> Result<(Credentials, String)> {
    let at = || {
        format!(
            "aliyun CLI profile \"{}\" in {} (mode {})",
            p.name,
            path.display(),
            p.effective_mode()
        )
    };
    let static_keys = |token: Option<&credentials::Secret>| -> Result<Credentials> {
        match (&p.access_key_id, &p.access_key_secret) {
            (id, Some(secret)) if !id.is_empty() && !secret.expose().is_empty() => {
                Ok(Credentials {
                    access_key_id: id.clone(),
                    access_key_secret: secret.clone(),
                    security_token: token.cloned(),
                })
            }
            _ => bail!("{}: access_key_id or access_key_secret is empty", at()),
        }
    };
    let creds = match p.effective_mode().as_str() {
        "AK" => static_keys(None)?,
        "StsToken" => match p.sts_token.as_ref().filter(|t| !t.expose().is_empty()) {
            Some(token) => static_keys(Some(token))?,
            None => bail!("{}: sts_token is empty", at()),
        },
        "EcsRamRole" => {
            let base = env
                .get(ENV_ECS_METADATA_URL)
                .unwrap_or_else(|| credentials::ECS_METADATA_URL.to_string());
            let v1_disabled = env
                .get(ENV_IMDSV1_DISABLED)
                .is_some_and(|v| v.eq_ignore_ascii_case("true") || v == "1");
            if env
                .get(ENV_ECS_METADATA_DISABLED)
                .is_some_and(|v| v.eq_ignore_ascii_case("true"))
            {
                bail!("{}: {ENV_ECS_METADATA_DISABLED} is set", at());
            }
            // As the credentials libraries do: the role may also come from the environment.
            let role = match (&p.ram_role_name, env.get(ENV_ECS_METADATA)) {
                (name, _) if !name.is_empty() => name.clone(),
                (_, Some(name)) => name,
                _ => String::new(),
            };
            // Read-only and up to seconds off ECS: a signal does not wait for it.
            let during = "asking the ECS metadata service for credentials; nothing was sent";
            let fetched = env.interrupt.abandon_on_signal(during, move || {
                credentials::from_ecs_metadata(&base, &role, v1_disabled)
            });
            fetched?.with_context(at)?
        }
        "External" if !p.process_command.expose().is_empty() => credentials::from_command(
            p.process_command.expose(),
            CommandStyle::Fields,
            COMMAND_TIMEOUT,
            env.interrupt,
        )
        .with_context(|| format!("{}, key process_command", at()))?,
        "External" => bail!("{}: process_command is empty", at()),
        other => bail!(
            "{}: mode \"{}\" is not supported; use AK, StsToken, EcsRamRole or External, \
             or a profile of sls-retry's own",
            at(),
            crate::untrusted::escape(other)
        ),
    };
    Ok((creds, at()))
}

fn describe_file(loaded: Option<&PathBuf>, path: Option<&Path>) -> String {
    match (loaded, path) {
        (Some(p), _) => p.display().to_string(),
        (None, Some(p)) => format!("{} (no such file)", p.display()),
        (None, None) => "the profile file (no config directory)".to_string(),
    }
}

fn describe_aliyun(path: Option<&Path>, loaded: Option<&AliyunConfig>) -> String {
    match (path, loaded) {
        (_, Some(cfg)) => cfg.path.display().to_string(),
        (Some(p), None) => format!("{} (no such file)", p.display()),
        (None, None) => "~/.aliyun/config.json (no home directory)".to_string(),
    }
}

/// A project becomes the first label of the host name (`{project}.{endpoint}`): 1-63 ASCII
/// letters, digits and '-', not starting or ending with '-'. Anything else could not reach the
/// service; the service's own naming rules (lower case, at least 3 characters) are its to apply.
fn check_project(name: &str) -> Result<()> {
    let ok = (1..=63).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-');
    if !ok {
        bail!(
            "invalid project name \"{}\": it becomes part of the host name, so use 1-63 letters, \
             digits and '-', not starting or ending with '-'",
            crate::untrusted::escape(name)
        );
    }
    Ok(())
}

/// Longest logstore or shipper name sent; far beyond any the service gives out, and it keeps
/// the request line sane.
const MAX_NAME_BYTES: usize = 1024;

/// Logstore and shipper names are path segments, sent as they are. Refused: what would change
/// the path's meaning ('/', '?', '#', '%', the names `.` and `..`), what a request line cannot
/// carry unencoded (whitespace, control characters, '<', '>', '`'), and invisible or
/// reordering characters that would make an error message lie. Everything else goes to the
/// service, which answers LogStoreNotExist or ShipperNotExist if it knows no such name.
fn check_name(what: &str, name: &str) -> Result<()> {
    let refused = |c: char| {
        c.is_whitespace()
            || crate::untrusted::is_hazard(c)
            || matches!(c, '/' | '?' | '#' | '%' | '<' | '>' | '`')
    };
    let ok =
        name.len() <= MAX_NAME_BYTES && !name.chars().any(refused) && name != "." && name != "..";
    if !ok {
        bail!(
            "invalid {what} name \"{}\": it goes into the request path, so it cannot hold \
             whitespace, control characters or any of / ? # % < > `, nor be . or .. (at most \
             {MAX_NAME_BYTES} bytes)",
            crate::untrusted::escape(name)
        );
    }
    Ok(())
}

/// Regions become part of a host name and of the v4 scope.
fn check_region(region: &str) -> Result<()> {
    let ok = !region.is_empty()
        && region.len() <= 63
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !ok {
        bail!(
            "invalid region \"{}\": use the region id, e.g. cn-hangzhou",
            crate::untrusted::escape(region)
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;
    use std::collections::HashMap;

    /// A temporary home with optional profile file and aliyun CLI config.
    struct World {
        dir: tempfile::TempDir,
        env: HashMap<String, String>,
    }

    impl World {
        fn new() -> World {
            World {
                dir: tempfile::tempdir().unwrap(),
                env: HashMap::new(),
            }
        }

        fn profile_file(self, toml: &str) -> World {
            let path = self.paths().profile_file.unwrap();
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, toml).unwrap();
            set_mode(&path, 0o600);
            self
        }

        fn aliyun(self, json: &str) -> World {
            let path = self.paths().aliyun_config.unwrap();
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, json).unwrap();
            self
        }

        fn env(mut self, name: &str, value: &str) -> World {
            self.env.insert(name.into(), value.into());
            self
        }

        fn paths(&self) -> Paths {
            Paths {
                profile_file: Some(self.dir.path().join(".config/sls-retry/config.toml")),
                aliyun_config: Some(self.dir.path().join(".aliyun/config.json")),
            }
        }

        fn resolve(&self, args: &[&str]) -> Result<Config> {
            let cli =
                Cli::try_parse_from(std::iter::once("sls-retry").chain(args.iter().copied()))?;
            Config::resolve(
                &cli,
                &|k| self.env.get(k).cloned(),
                &self.paths(),
                &Interrupt::default(),
            )
        }

        fn error(&self, args: &[&str]) -> String {
            format!("{:#}", self.resolve(args).unwrap_err())
        }
    }

    #[cfg(unix)]
    fn set_mode(path: &Path, mode: u32) {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    #[cfg(not(unix))]
    fn set_mode(_: &Path, _: u32) {}

    const TARGET: [&str; 8] = ["-p", "proj", "-l", "store", "-s", "ship", "-e", "h.example"];

    fn key_id(c: &Config) -> &str {
        &c.credentials.access_key_id
    }

    fn source<'a>(c: &'a Config, what: &str) -> &'a str {
        c.sources
            .iter()
            .find(|(s, _)| *s == what)
            .map_or("", |(_, v)| v.as_str())
    }

    const OURS: &str = r#"
        [default]
        access_key_id = "DEFAULT-ID"
        access_key_secret = "default-secret"
        project = "default-proj"
        logstore = "default-store"
        shipper = "default-ship"
        region = "cn-shanghai"

        [prod]
        access_key_id = "PROD-ID"
        access_key_secret = "prod-secret"
        security_token = "prod-token"
        endpoint = "cn-beijing.log.aliyuncs.com"
        project = "prod-proj"
        logstore = "prod-store"
        shipper = "prod-ship"
        timeout = 7

        [targets-only]
        project = "t-proj"
        logstore = "t-store"
        shipper = "t-ship"
        region = "cn-qingdao"
    "#;

    const ALIYUN: &str = r#"{"current": "cli-current", "profiles": [
        {"name": "cli-current", "mode": "AK", "access_key_id": "CLI-ID", "access_key_secret": "cli-secret", "region_id": "cn-shenzhen"},
        {"name": "cli-sts", "mode": "StsToken", "access_key_id": "STS.CLI", "access_key_secret": "s", "sts_token": "t", "region_id": "cn-hongkong"},
        {"name": "cli-ext", "mode": "external", "process_command": "printf {\"mode\":\"AK\",\"access_key_id\":\"EXT-ID\",\"access_key_secret\":\"ext-secret\"}"},
        {"name": "cli-ram", "mode": "RamRoleArn", "access_key_id": "x", "access_key_secret": "y"}
    ]}"#;

    #[test]
    fn environment_credentials_in_every_spelling() {
        for prefix in ["ALIBABA_CLOUD_", "ALIBABACLOUD_", "ALICLOUD_"] {
            let w = World::new()
                .env(&format!("{prefix}ACCESS_KEY_ID"), "ENV-ID")
                .env(&format!("{prefix}ACCESS_KEY_SECRET"), "env-secret")
                .env(&format!("{prefix}SECURITY_TOKEN"), "env-token");
            let c = w.resolve(&TARGET).unwrap();
            assert_eq!(key_id(&c), "ENV-ID");
            assert_eq!(
                c.credentials.security_token.as_ref().unwrap().expose(),
                "env-token"
            );
            assert!(source(&c, "credentials").contains(&format!("{prefix}ACCESS_KEY_ID")));
        }
    }

    #[test]
    fn precedence_without_a_named_profile_env_then_default_then_aliyun_cli() {
        let all = || {
            World::new()
                .profile_file(OURS)
                .aliyun(ALIYUN)
                .env("ALIBABA_CLOUD_ACCESS_KEY_ID", "ENV-ID")
                .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "env-secret")
        };
        assert_eq!(key_id(&all().resolve(&TARGET).unwrap()), "ENV-ID");

        let no_env = World::new().profile_file(OURS).aliyun(ALIYUN);
        let c = no_env.resolve(&TARGET).unwrap();
        assert_eq!(key_id(&c), "DEFAULT-ID");
        assert!(source(&c, "credentials").starts_with("profile \"default\" in "));

        let only_cli = World::new().aliyun(ALIYUN);
        let c = only_cli.resolve(&TARGET).unwrap();
        assert_eq!(key_id(&c), "CLI-ID");
        assert!(source(&c, "credentials").contains("aliyun CLI profile \"cli-current\""));
    }

    #[test]
    fn a_named_profile_wins_over_the_environment() {
        let w = World::new()
            .profile_file(OURS)
            .aliyun(ALIYUN)
            .env("ALIBABA_CLOUD_ACCESS_KEY_ID", "ENV-ID")
            .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "env-secret");
        let c = w.resolve(&["--profile", "prod"]).unwrap();
        assert_eq!(key_id(&c), "PROD-ID");
        assert_eq!(
            c.credentials.security_token.as_ref().unwrap().expose(),
            "prod-token"
        );
        assert_eq!(
            (c.project.as_str(), c.logstore.as_str(), c.shipper.as_str()),
            ("prod-proj", "prod-store", "prod-ship")
        );
        assert_eq!(
            c.endpoint.to_string(),
            "https://cn-beijing.log.aliyuncs.com"
        );
        assert_eq!(c.timeout, Duration::from_secs(7));
        assert!(source(&c, "project").starts_with("profile \"prod\""));

        let w = w.env(ENV_PROFILE, "prod");
        assert_eq!(
            key_id(&w.resolve(&[]).unwrap()),
            "PROD-ID",
            "SLS_RETRY_PROFILE selects too"
        );
        // A flag beats the variable.
        let c = w
            .resolve(&["--profile", "default", "-e", "h.example"])
            .unwrap();
        assert_eq!(key_id(&c), "DEFAULT-ID");
    }

    #[test]
    fn a_named_profile_is_looked_up_in_the_aliyun_cli_config_next() {
        let w = World::new().profile_file(OURS).aliyun(ALIYUN);
        let c = w
            .resolve(&[&TARGET[..6], &["--profile", "cli-sts"]].concat())
            .unwrap();
        assert_eq!(key_id(&c), "STS.CLI");
        assert_eq!(c.credentials.security_token.as_ref().unwrap().expose(), "t");
        assert_eq!(
            c.endpoint.to_string(),
            "https://cn-hongkong.log.aliyuncs.com",
            "region_id gives the endpoint"
        );

        let c = w
            .resolve(&[&TARGET[..], &["--profile", "cli-ext"]].concat())
            .unwrap();
        assert_eq!(key_id(&c), "EXT-ID", "External mode runs process_command");
        assert_eq!(c.credentials.access_key_secret.expose(), "ext-secret");

        let err = w.error(&[&TARGET[..], &["--profile", "cli-ram"]].concat());
        assert!(
            err.contains("mode \"RamRoleArn\" is not supported"),
            "{err}"
        );

        let err = w.error(&[&TARGET[..], &["--profile", "nope"]].concat());
        assert!(
            err.contains("profile \"nope\" (from --profile) not found in"),
            "{err}"
        );
        assert!(
            err.contains("profiles in the profile file: default, prod, targets-only"),
            "{err}"
        );
    }

    #[test]
    fn a_named_profile_without_credentials_takes_them_from_the_environment() {
        let w = World::new()
            .profile_file(OURS)
            .env("ALIBABA_CLOUD_ACCESS_KEY_ID", "ENV-ID")
            .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "env-secret");
        let c = w.resolve(&["--profile", "targets-only"]).unwrap();
        assert_eq!(key_id(&c), "ENV-ID");
        assert_eq!(c.project, "t-proj");
        assert_eq!(
            c.endpoint.to_string(),
            "https://cn-qingdao.log.aliyuncs.com"
        );
    }

    #[test]
    fn no_credentials_lists_every_source_tried() {
        let w = World::new();
        let err = w.error(&TARGET);
        assert!(err.starts_with("no credentials found; tried the environment variables ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET"), "{err}");
        assert!(
            err.contains("profile \"default\" in ") && err.contains("config.toml (no such file)"),
            "{err}"
        );
        assert!(
            err.contains("the aliyun CLI's current profile in ")
                && err.contains("config.json (no such file)"),
            "{err}"
        );
        assert!(err.contains("run `aliyun configure`"), "{err}");
    }

    #[test]
    fn credentials_are_never_mixed_across_sources() {
        let w = World::new()
            .profile_file(OURS)
            .env("ALIBABA_CLOUD_ACCESS_KEY_ID", "ENV-ID");
        let err = w.error(&TARGET);
        assert!(
            err.contains(
                "ALIBABA_CLOUD_ACCESS_KEY_ID is set but ALIBABA_CLOUD_ACCESS_KEY_SECRET is not"
            ),
            "{err}"
        );

        let w = World::new().env("ALICLOUD_SECURITY_TOKEN", "t");
        assert!(
            w.error(&TARGET)
                .contains("ALICLOUD_SECURITY_TOKEN is set without")
        );

        let w = World::new().profile_file("[default]\naccess_key_id = \"A\"\n");
        assert!(
            w.error(&TARGET)
                .contains("access_key_id and access_key_secret must both be set")
        );

        let w = World::new().profile_file("[default]\naccess_key_id = \"A\"\naccess_key_secret = \"s\"\ncredentials_command = \"true\"\n");
        assert!(
            w.error(&TARGET)
                .contains("either credentials_command or access_key_id")
        );
    }

    #[test]
    fn credentials_command_output_is_used_and_never_echoed() {
        let w = World::new().profile_file(
            "[default]\ncredentials_command = \"printf '%s' '{\\\"mode\\\":\\\"StsToken\\\",\\\"access_key_id\\\":\\\"CMD-ID\\\",\\\"access_key_secret\\\":\\\"cmd-secret\\\",\\\"sts_token\\\":\\\"cmd-token\\\"}'\"\n",
        );
        let c = w.resolve(&TARGET).unwrap();
        assert_eq!(key_id(&c), "CMD-ID");
        assert_eq!(
            c.credentials.security_token.as_ref().unwrap().expose(),
            "cmd-token"
        );
        assert!(source(&c, "credentials").ends_with("(credentials_command)"));

        let w = World::new()
            .profile_file("[default]\ncredentials_command = \"printf '%s%s' sec ret-value-xyz\"\n");
        let err = w.error(&TARGET);
        assert!(err.contains("output is not the expected JSON"), "{err}");
        assert!(
            !err.contains("secret-value-xyz"),
            "the output is never quoted: {err}"
        );

        let w = World::new().profile_file("[default]\ncredentials_command = \"exit 3\"\n");
        assert!(w.error(&TARGET).contains("failed (exit status: 3)"));
    }

    #[test]
    fn non_secret_settings_flag_then_env_then_profile() {
        let w = World::new()
            .profile_file(OURS)
            .env("ALIBABA_CLOUD_REGION_ID", "cn-chengdu");
        let c = w.resolve(&[]).unwrap();
        assert_eq!(c.project, "default-proj", "profile supplies the target");
        assert_eq!(
            c.endpoint.to_string(),
            "https://cn-chengdu.log.aliyuncs.com",
            "env region beats profile region"
        );
        assert!(source(&c, "endpoint").contains("ALIBABA_CLOUD_REGION_ID"));

        let c = w
            .resolve(&["--region", "cn-wulanchabu", "-p", "flag-proj"])
            .unwrap();
        assert_eq!(
            c.endpoint.to_string(),
            "https://cn-wulanchabu.log.aliyuncs.com"
        );
        assert_eq!(c.project, "flag-proj");
        assert_eq!(source(&c, "project"), "flag");

        let c = w
            .resolve(&["--region", "cn-wulanchabu", "--intranet"])
            .unwrap();
        assert_eq!(
            c.endpoint.to_string(),
            "https://cn-wulanchabu-intranet.log.aliyuncs.com"
        );

        let w = World::new().profile_file("[default]\nregion = \"cn-hangzhou\"\nintranet = true\naccess_key_id = \"a\"\naccess_key_secret = \"b\"\n");
        let c = w.resolve(&TARGET[..6]).unwrap();
        assert_eq!(
            c.endpoint.to_string(),
            "https://cn-hangzhou-intranet.log.aliyuncs.com"
        );

        let w = World::new()
            .env("ALIBABA_CLOUD_ACCESS_KEY_ID", "a")
            .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "b");
        assert!(w.error(&TARGET[..6]).contains("no endpoint given"));
        assert!(
            w.error(&[&TARGET[..6], &["--intranet"]].concat())
                .contains("--intranet needs a region")
        );
        assert!(
            w.error(&[&TARGET[..6], &["--region", "CN_bad"]].concat())
                .contains("invalid region")
        );
    }

    #[test]
    fn signature_v4_region_from_flag_profile_or_endpoint_and_automatic_for_acdr_ut() {
        let w = World::new()
            .env("ALIBABA_CLOUD_ACCESS_KEY_ID", "a")
            .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "b");
        let v4 = |c: Config| c.signature;
        assert_eq!(v4(w.resolve(&TARGET).unwrap()), SignatureVersion::V1);
        let args = [
            "-p",
            "proj",
            "-l",
            "l",
            "-s",
            "s",
            "-e",
            "cn-hangzhou.log.aliyuncs.com",
            "--signature-version",
            "4",
        ];
        assert_eq!(
            v4(w.resolve(&args).unwrap()),
            SignatureVersion::V4 {
                region: "cn-hangzhou".into()
            }
        );
        let args = [
            "-p",
            "proj",
            "-l",
            "l",
            "-s",
            "s",
            "-e",
            "http://127.0.0.1:1",
            "--region",
            "cn-beijing",
            "--signature-version",
            "4",
        ];
        assert_eq!(
            v4(w.resolve(&args).unwrap()),
            SignatureVersion::V4 {
                region: "cn-beijing".into()
            }
        );
        let args = [
            "-p",
            "proj",
            "-l",
            "l",
            "-s",
            "s",
            "-e",
            "http://127.0.0.1:1",
            "--signature-version",
            "4",
        ];
        assert!(w.error(&args).contains("signature v4 needs a region"));
        let args = [
            "-p",
            "proj",
            "-l",
            "l",
            "-s",
            "s",
            "--region",
            "cn-shanghai-acdr-ut-1",
        ];
        assert_eq!(
            v4(w.resolve(&args).unwrap()),
            SignatureVersion::V4 {
                region: "cn-shanghai-acdr-ut-1".into()
            }
        );
        let args = [
            "-p",
            "proj",
            "-l",
            "l",
            "-s",
            "s",
            "--region",
            "cn-shanghai-acdr-ut-1",
            "--signature-version",
            "1",
        ];
        assert_eq!(
            v4(w.resolve(&args).unwrap()),
            SignatureVersion::V1,
            "an explicit choice wins"
        );

        let w = World::new().profile_file("[default]\nsignature_version = 4\nregion = \"cn-hangzhou\"\naccess_key_id = \"a\"\naccess_key_secret = \"b\"\n");
        assert_eq!(
            v4(w.resolve(&TARGET[..6]).unwrap()),
            SignatureVersion::V4 {
                region: "cn-hangzhou".into()
            }
        );
    }

    #[test]
    fn profile_file_locations() {
        let w = World::new()
            .env("ALIBABA_CLOUD_ACCESS_KEY_ID", "a")
            .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "b");
        let missing = w.dir.path().join("nope.toml");
        let missing = missing.to_str().unwrap();
        assert!(
            w.error(&[&TARGET[..], &["--config", missing]].concat())
                .contains("cannot read profile file")
        );
        let w = w.env(ENV_CONFIG, missing);
        assert!(w.error(&TARGET).contains("cannot read profile file"));

        let elsewhere = w.dir.path().join("other.toml");
        std::fs::write(&elsewhere, "[default]\nproject = \"from-other\"\n").unwrap();
        let c = w
            .resolve(&[
                "--config",
                elsewhere.to_str().unwrap(),
                "-l",
                "l",
                "-s",
                "s",
                "-e",
                "h.example",
            ])
            .unwrap();
        assert_eq!(c.project, "from-other");

        let broken = World::new().profile_file("[default]\nregion = \"x\"\nbogus = 1\n");
        let err = broken.error(&TARGET);
        assert!(
            err.contains("invalid profile file")
                && err.contains(
                    "profile \"default\", key bogus (line 3, column 1): unknown field `bogus`"
                ),
            "{err}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn warnings_for_a_readable_secret_file_and_plain_http() {
        let w = World::new().profile_file(OURS);
        set_mode(&w.paths().profile_file.unwrap(), 0o644);
        let c = w.resolve(&TARGET).unwrap();
        assert!(
            c.warnings
                .iter()
                .any(|m| m.contains("readable by others (mode 644); run: chmod 600")),
            "{:?}",
            c.warnings
        );

        let w = World::new().profile_file(OURS);
        let c = w.resolve(&["-e", "http://sls.example.com"]).unwrap();
        assert!(
            c.warnings
                .iter()
                .any(|m| m.contains("plain http to http://sls.example.com")),
            "{:?}",
            c.warnings
        );
        let c = w.resolve(&["-e", "http://127.0.0.1:9"]).unwrap();
        assert!(
            c.warnings.is_empty(),
            "loopback http is fine: {:?}",
            c.warnings
        );
    }

    #[test]
    fn names_that_would_break_the_host_or_path_are_refused() {
        let w = World::new()
            .env("ALIBABA_CLOUD_ACCESS_KEY_ID", "a")
            .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "b");
        let mut args = TARGET.to_vec();
        args[1] = "Bad_Project";
        assert!(w.error(&args).contains("invalid project name"));
        let mut args = TARGET.to_vec();
        args[3] = "a/b?c";
        assert!(w.error(&args).contains("invalid logstore name"));
        let mut args = TARGET.to_vec();
        args[5] = "..";
        assert!(w.error(&args).contains("invalid shipper name"));
        assert!(
            w.error(&TARGET[2..])
                .contains("no project given; pass -p/--project NAME or set project in a profile")
        );
        // Profile values meet the same rule.
        let w = w.profile_file("[default]\nlogstore = \"a b\"\n");
        assert!(
            w.error(&["-p", "p", "-s", "s", "-e", "h.example"])
                .contains("invalid logstore name")
        );
    }

    /// Only what could not be sent is refused; the service applies its own naming rules.
    #[test]
    fn names_the_service_may_judge_are_accepted() {
        let w = World::new()
            .env("ALIBABA_CLOUD_ACCESS_KEY_ID", "a")
            .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "b");
        for (project, logstore, shipper) in [
            ("p", "l", "s"),
            ("P", "L", "S"),
            ("My-Project-1", "logs.v2_x", "oss~shipper"),
            (&*"p".repeat(63), "日志", "a:b@c+d=e!$&'()*,;"),
        ] {
            let c = w
                .resolve(&[
                    "-p",
                    project,
                    "-l",
                    logstore,
                    "-s",
                    shipper,
                    "-e",
                    "h.example",
                ])
                .unwrap();
            assert_eq!(
                (c.project.as_str(), c.logstore.as_str()),
                (project, logstore)
            );
            assert_eq!(c.shipper, shipper);
        }
    }
}
