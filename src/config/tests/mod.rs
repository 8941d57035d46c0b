//! Resolution end to end, from flags, environment and files in a temporary home: the world the
//! tests set up, and the tests by concern (`credentials.rs`: the chain; `settings.rs`: every other
//! setting, the files, the names).

mod credentials;
mod settings;

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

    /// An empty home. The ECS metadata service is off: the chain's last link must never reach
    /// out of a test.
    fn new() -> World {
        World {
            dir: tempfile::tempdir().unwrap(),
            env: HashMap::from([(
                "ALIBABA_CLOUD_ECS_METADATA_DISABLED".to_string(),
                "true".to_string(),
            )]),
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

    /// Write `text` at `relative` in the home.
    fn file(self, relative: &str, text: &str) -> World {
        let path = self.dir.path().join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
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
            alibabacloud_dir: Some(self.dir.path().join(".alibabacloud")),
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

fn key_id(c: &Config) -> String {
    c.credentials.current_credentials().access_key_id
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
    {"name": "cli-ram", "mode": "RamRoleArn", "access_key_id": "x", "access_key_secret": "y"},
    {"name": "cli-sso", "mode": "CloudSSO", "cloud_sso_sign_in_url": "https://signin.example"},
    {"name": "cli-rsa", "mode": "RsaKeyPair"}
]}"#;
