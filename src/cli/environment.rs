//! What the tool reads from its surroundings, as the user is told about it: every environment
//! variable with its meaning, and every file with where it is and what moves it. `--help` and the
//! man page both render these tables (`manual.rs`), so the two cannot say different things.

use crate::config::env::{ENV_ALIYUN_PROFILE, ENV_CONFIG, ENV_PROFILE, ENV_REGION};
use crate::config::files::ENV_ALIYUN_CONFIG_FILE;
use crate::credentials::chain::ENV_CLI_PROFILE_DISABLED;
use crate::credentials::credentials_file::ENV_CREDENTIALS_FILE;
use crate::credentials::ecs_metadata::{
    ENV_ECS_METADATA, ENV_ECS_METADATA_DISABLED, ENV_ECS_METADATA_URL, ENV_IMDSV1_DISABLED,
};
use crate::credentials::env::ENV_CREDENTIALS;
use crate::credentials::oidc::{
    ENV_OIDC_PROVIDER_ARN, ENV_OIDC_TOKEN_FILE, ENV_ROLE_ARN, ENV_ROLE_SESSION_NAME,
};
use crate::credentials::role::{ENV_STS_ENDPOINT, ENV_STS_REGION, ENV_VPC_ENDPOINT_ENABLED};
use crate::credentials::uri::ENV_CREDENTIALS_URI;
use crate::http::proxy::{ENV_ALL_PROXY, ENV_HTTP_PROXY, ENV_HTTPS_PROXY, ENV_NO_PROXY};
use crate::http::trust::ENV_SSL_CERT;

/// Environment variables read as one: the spellings of one setting, or settings that only work
/// together.
pub struct Variable {
    pub names: &'static [&'static str],
    pub meaning: &'static str,
}

/// A file read: where it is (or what names it) and what it holds.
pub struct File {
    pub name: &'static str,
    pub meaning: &'static str,
}

/// Every environment variable the tool reads, in the order a user meets them.
pub const VARIABLES: &[Variable] = &[
    Variable {
        names: &[ENV_PROFILE],
        meaning: "The profile to use when --profile is not given: from the profile file, else \
                  from the aliyun CLI's config. A named profile's credentials are used alone.",
    },
    Variable {
        names: &[ENV_CONFIG],
        meaning: "The profile file when --config is not given; it must exist.",
    },
    Variable {
        names: ENV_CREDENTIALS.as_flattened(),
        meaning: "An AccessKey pair, with the STS token of temporary credentials; one spelling \
                  at a time, in this order, and half a pair is an error. Secrets are never \
                  accepted as flags.",
    },
    Variable {
        names: &[ENV_ROLE_ARN, ENV_OIDC_PROVIDER_ARN, ENV_OIDC_TOKEN_FILE],
        meaning: "RRSA (as ACK sets them for a pod) or any OIDC identity: the RAM role assumed \
                  with STS AssumeRoleWithOIDC, with the token read afresh from the file at \
                  every call. All three or none.",
    },
    Variable {
        names: &[ENV_ROLE_SESSION_NAME],
        meaning: "The session name of the role assumed with RRSA from the environment.",
    },
    Variable {
        names: &[ENV_CREDENTIALS_URI],
        meaning: "A URL answering temporary credentials as JSON, asked again before they \
                  expire; also the URL of an aliyun CLI CredentialsURI profile without one.",
    },
    Variable {
        names: &[ENV_STS_ENDPOINT],
        meaning: "The STS host or URL asked for every role assumed, whatever the profile says.",
    },
    Variable {
        names: &[ENV_STS_REGION],
        meaning: "Ask that region's STS endpoint (sts.{region}.aliyuncs.com) instead of the \
                  global one.",
    },
    Variable {
        names: &[ENV_VPC_ENDPOINT_ENABLED],
        meaning: "true: with an STS region, ask its VPC endpoint (sts-vpc.{region}.aliyuncs.com).",
    },
    Variable {
        names: &ENV_REGION,
        meaning: "The region, when no flag names an endpoint or a region: the endpoint \
                  {region}.log.aliyuncs.com and the signature v4 scope. Beats the profile's.",
    },
    Variable {
        names: &ENV_ALIYUN_PROFILE,
        meaning: "The aliyun CLI profile used instead of its current one (first set wins). \
                  ALIBABA_CLOUD_PROFILE also picks the credentials file's section.",
    },
    Variable {
        names: &[ENV_ALIYUN_CONFIG_FILE],
        meaning: "The aliyun CLI's config, instead of ~/.aliyun/config.json.",
    },
    Variable {
        names: &[ENV_CLI_PROFILE_DISABLED],
        meaning: "true: leave the aliyun CLI's profiles out of the credential chain.",
    },
    Variable {
        names: &[ENV_CREDENTIALS_FILE],
        meaning: "The official credentials file, instead of ~/.alibabacloud/credentials.ini or \
                  ~/.alibabacloud/credentials.",
    },
    Variable {
        names: &[ENV_ECS_METADATA],
        meaning: "The ECS instance's RAM role to use, instead of asking the metadata service \
                  which one is attached.",
    },
    Variable {
        names: &[ENV_ECS_METADATA_DISABLED],
        meaning: "true: never ask the ECS metadata service (the chain's last link).",
    },
    Variable {
        names: &[ENV_IMDSV1_DISABLED],
        meaning: "true: ask the ECS metadata service with an IMDSv2 session token only, never \
                  without one.",
    },
    Variable {
        names: &[ENV_ECS_METADATA_URL],
        meaning: "Where the ECS metadata service is reached instead of http://100.100.100.200 \
                  (the tests point it at a loopback server).",
    },
    Variable {
        names: &ENV_HTTPS_PROXY,
        meaning: "The proxy for https:// endpoints (SLS, STS, a credentials URI), else \
                  ALL_PROXY: http://, socks5:// (names resolved here) or socks5h:// (names \
                  resolved by the proxy), with user:password@ when it asks for them. A proxy \
                  setting that cannot be used is an error (exit 2); -v names the proxy in use.",
    },
    Variable {
        names: &ENV_HTTP_PROXY,
        meaning: "The proxy for http:// endpoints, else ALL_PROXY; as above.",
    },
    Variable {
        names: &ENV_ALL_PROXY,
        meaning: "The proxy for either scheme when its own variable is not set.",
    },
    Variable {
        names: &ENV_NO_PROXY,
        meaning: "Hosts reached directly, comma-separated, matched against the host contacted: \
                  * for all; a domain with or without a leading dot matches itself and its \
                  subdomains (cn-hangzhou.log.aliyuncs.com covers \
                  my-project.cn-hangzhou.log.aliyuncs.com); IP addresses and CIDR ranges \
                  (10.0.0.0/8); each with an optional :port. The ECS metadata service is never \
                  reached through a proxy.",
    },
    Variable {
        names: &ENV_SSL_CERT,
        meaning: "A PEM file, and directories (colon-separated) of PEM files, of CA certificates \
                  trusted instead of the operating system's store; either or both. If they name \
                  no usable certificate, that is an error (exit 2). --ca-file adds to them.",
    },
    Variable {
        names: &["HOME"],
        meaning: "The home directory (~ in FILES).",
    },
    Variable {
        names: &["XDG_CONFIG_HOME"],
        meaning: "On Linux and the BSDs, the <config dir> of the profile file (default ~/.config).",
    },
    Variable {
        names: &["NO_COLOR"],
        meaning: "Set and not empty: the help without bold and underline. Nothing else the tool \
                  prints is ever colored.",
    },
];

/// Every file the tool reads by default, and the ones a flag, a variable or a profile names.
pub const FILES: &[File] = &[
    File {
        name: "<config dir>/sls-retry/config.toml",
        meaning: "The profile file (TOML; config.example.toml documents every key). <config \
                  dir> is $XDG_CONFIG_HOME or ~/.config, ~/Library/Application Support on \
                  macOS. --config FILE or SLS_RETRY_CONFIG name another file, which must then \
                  exist. A file holding a secret should be chmod 600.",
    },
    File {
        name: "~/.aliyun/config.json",
        meaning: "The aliyun CLI's config, as aliyun configure writes it: its current profile \
                  (or the one ALIBABACLOUD_PROFILE, ALIBABA_CLOUD_PROFILE or ALICLOUD_PROFILE \
                  names), or the one --profile names when the profile file has none of that \
                  name. ALIBABA_CLOUD_CONFIG_FILE names another file.",
    },
    File {
        name: "~/.alibabacloud/credentials.ini, ~/.alibabacloud/credentials",
        meaning: "The official credentials libraries' file (INI): its [default] section, or \
                  the one ALIBABA_CLOUD_PROFILE names. ALIBABA_CLOUD_CREDENTIALS_FILE names \
                  another file.",
    },
    File {
        name: "--ca-file FILE, a profile's ca_file",
        meaning: "PEM CA certificates trusted besides the operating system's store (which \
                  follows SSL_CERT_FILE and SSL_CERT_DIR); ca_file is relative to the profile \
                  file. A file that is missing or holds no usable certificate is an error \
                  (exit 2) naming it.",
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    /// The code names every variable it reads in a constant whose name starts with `ENV_`:
    /// each such name is in `VARIABLES`, so a new one cannot go undocumented.
    #[test]
    fn every_variable_the_code_names_is_documented() {
        let documented: Vec<&str> = VARIABLES.iter().flat_map(|v| v.names.to_vec()).collect();
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let named = env_constants(&src);
        assert!(
            named.len() > 20,
            "the constants are where they were: {named:?}"
        );
        let missing: Vec<_> = (named.iter())
            .filter(|(_, name)| !documented.contains(&name.as_str()))
            .collect();
        assert!(missing.is_empty(), "not in VARIABLES: {missing:?}");
    }

    /// (file, name) for each string in the value of every constant or static under `dir` whose
    /// name starts with `ENV_`.
    fn env_constants(dir: &std::path::Path) -> Vec<(String, String)> {
        let mut found = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                found.extend(env_constants(&path));
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for (at, _) in text.match_indices(" ENV_") {
                if !["const", "static"].iter().any(|k| text[..at].ends_with(k)) {
                    continue;
                }
                let rest = &text[at..];
                let value = &rest[rest.find('=').unwrap()..];
                let value = &value[..value.find(';').unwrap()];
                for literal in value.split('"').skip(1).step_by(2) {
                    found.push((path.display().to_string(), literal.to_string()));
                }
            }
        }
        found
    }
}
