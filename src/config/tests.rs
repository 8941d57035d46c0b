//! Resolution end to end, from flags, environment and files in a temporary home.

use super::*;
use crate::config::env::{ENV_CONFIG, ENV_PROFILE};
use crate::names::Region;
use clap::Parser;
use std::collections::HashMap;
use std::path::Path;

/// A temporary home with optional profile file and aliyun CLI config.
struct World {
    dir: tempfile::TempDir,
    env: HashMap<String, String>,
}

impl World {
    /// An empty home, and an AccessKey pair in the environment.
    fn with_keys() -> World {
        World::new()
            .env("ALIBABA_CLOUD_ACCESS_KEY_ID", "a")
            .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "b")
    }

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
        let cli = Cli::try_parse_from(std::iter::once("sls-retry").chain(args.iter().copied()))?;
        Config::resolve(
            &cli,
            &|k| self.env.get(k).cloned(),
            &self.paths(),
            &Interrupt::default(),
            std::time::SystemTime::now(),
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
    c.sources.of(what).unwrap_or("")
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
        (
            c.target.project.as_str(),
            c.target.logstore.as_str(),
            c.target.shipper.as_str()
        ),
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
    assert_eq!(c.target.project.as_str(), "t-proj");
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
    assert_eq!(
        c.target.project.as_str(),
        "default-proj",
        "profile supplies the target"
    );
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
    assert_eq!(c.target.project.as_str(), "flag-proj");
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

    let w = World::with_keys();
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
    let w = World::with_keys();
    let signed = |extra: &[&str]| {
        let args = [&TARGET[..6], extra].concat();
        w.resolve(&args).map(|c| c.signature)
    };
    let v4 = |region: &str| SignatureVersion::V4 {
        region: Region::parse(region).unwrap(),
    };
    assert_eq!(signed(&TARGET[6..]).unwrap(), SignatureVersion::V1);
    let cases: [(&[&str], SignatureVersion); 4] = [
        (
            &[
                "-e",
                "cn-hangzhou.log.aliyuncs.com",
                "--signature-version",
                "4",
            ],
            v4("cn-hangzhou"),
        ),
        (
            &[
                "-e",
                "http://127.0.0.1:1",
                "--region",
                "cn-beijing",
                "--signature-version",
                "4",
            ],
            v4("cn-beijing"),
        ),
        (
            &["--region", "cn-shanghai-acdr-ut-1"],
            v4("cn-shanghai-acdr-ut-1"),
        ),
        // An explicit choice wins.
        (
            &[
                "--region",
                "cn-shanghai-acdr-ut-1",
                "--signature-version",
                "1",
            ],
            SignatureVersion::V1,
        ),
    ];
    for (extra, want) in cases {
        assert_eq!(signed(extra).unwrap(), want, "{extra:?}");
    }
    let err = format!(
        "{:#}",
        signed(&["-e", "http://127.0.0.1:1", "--signature-version", "4"]).unwrap_err()
    );
    assert!(err.contains("signature v4 needs a region"), "{err}");

    let w = World::new().profile_file("[default]\nsignature_version = 4\nregion = \"cn-hangzhou\"\naccess_key_id = \"a\"\naccess_key_secret = \"b\"\n");
    assert_eq!(
        w.resolve(&TARGET[..6]).unwrap().signature,
        v4("cn-hangzhou")
    );
}

#[test]
fn profile_file_locations() {
    let w = World::with_keys();
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
    assert_eq!(c.target.project.as_str(), "from-other");

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
    let warned = |args: &[&str], what: &str| {
        let c = w.resolve(args).unwrap();
        assert!(
            c.warnings.iter().any(|m| m.contains(what)),
            "{what}: {:?}",
            c.warnings
        );
    };
    warned(&TARGET, "readable by others (mode 644); run: chmod 600");
    set_mode(&w.paths().profile_file.unwrap(), 0o600);
    warned(
        &["-e", "http://sls.example.com"],
        "plain http to http://sls.example.com",
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
    let w = World::with_keys();
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
    let w = World::with_keys();
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
            (c.target.project.as_str(), c.target.logstore.as_str()),
            (project, logstore)
        );
        assert_eq!(c.target.shipper.as_str(), shipper);
    }
}
