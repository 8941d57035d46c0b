//! A temporary, empty HOME and the `sls-retry` command that runs in it: nothing from the
//! developer's machine leaks in.

use std::path::{Path, PathBuf};
use std::process::Command;

use standin::{DEMO_ENV, DEMO_LOGSTORE, DEMO_PROJECT, DEMO_SHIPPER, StandIn, tls};

/// A loopback address nothing listens on (port 1: reserved, and binding it takes root).
pub const CLOSED_PORT: &str = "http://127.0.0.1:1";

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

    /// `sls-retry` with a cleared environment and this HOME, run in it: nothing of the test
    /// process's environment gets in (its proxy variables, `SSL_CERT_FILE` and `SSL_CERT_DIR`
    /// included); a test sets what it means on the command.
    /// The ECS metadata service (the credential chain's last link) is pointed at a closed
    /// loopback port: no test ever reaches 100.100.100.200. A test that serves the metadata
    /// routes points `SLS_RETRY_ECS_METADATA_URL` at the stand-in instead.
    pub fn command(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_sls-retry"));
        cmd.env_clear()
            .env("HOME", self.path())
            .env("SLS_RETRY_ECS_METADATA_URL", CLOSED_PORT)
            .current_dir(self.path());
        cmd
    }

    /// `command()` with the demo credentials and the demo target of `standin`.
    pub fn demo(&self, standin: &StandIn) -> Command {
        let mut cmd = self.command();
        cmd.envs(DEMO_ENV).args(standin.demo_target());
        cmd
    }

    /// Write our profile file at its default location (`~/.config/sls-retry/config.toml`),
    /// private as it should be.
    pub fn profile_file(&self, toml: &str) -> PathBuf {
        self.write(".config/sls-retry/config.toml", toml, 0o600)
    }

    /// Write the stand-in's test CA (`standin::tls::ca_pem`, which signs `TlsIdentity::valid`)
    /// as `~/ca.pem`, for `--ca-file`, `SSL_CERT_FILE` or a profile's `ca_file`.
    pub fn write_ca(&self) -> PathBuf {
        self.write("ca.pem", tls::ca_pem(), 0o644)
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

/// The demo target of `standin` as profile keys: `endpoint`, `project`, `logstore`, `shipper`.
pub fn target_toml(standin: &StandIn) -> String {
    format!(
        "endpoint = \"{}\"\nproject = \"{DEMO_PROJECT}\"\nlogstore = \"{DEMO_LOGSTORE}\"\nshipper = \"{DEMO_SHIPPER}\"\n",
        standin.endpoint()
    )
}
