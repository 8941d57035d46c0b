//! Our profile file: TOML, one table per profile (see config.example.toml). Parsing and the
//! file's own checks; which profile and which value wins is `config.rs`'s business.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

use crate::config::{BATCH_SIZE, Bounded, JOBS, RETRIES, TIMEOUT};
use crate::credentials::Secret;

/// One `[name]` table. Every key is optional; unknown keys are an error (a typo must not silently
/// fall back to another source).
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub access_key_id: Option<String>,
    pub access_key_secret: Option<Secret>,
    pub security_token: Option<Secret>,
    /// A command printing credentials as JSON (the `aliyun` CLI's External format); a `Secret`,
    /// since its text may hold one.
    pub credentials_command: Option<Secret>,
    /// A RAM role to assume with the credentials the rest of the profile gives (its own keys,
    /// `source_profile`'s, or the OIDC token's), and how.
    pub role_arn: Option<String>,
    pub role_session_name: Option<String>,
    pub external_id: Option<String>,
    pub duration_seconds: Option<u32>,
    pub policy: Option<String>,
    /// Another profile whose credentials assume `role_arn`.
    pub source_profile: Option<String>,
    /// RRSA: assume `role_arn` with the OIDC token in this file, from this provider.
    pub oidc_provider_arn: Option<String>,
    pub oidc_token_file: Option<String>,
    /// The ECS instance's RAM role by name; empty: the one attached.
    pub ecs_ram_role: Option<String>,
    /// A URL answering with temporary credentials.
    pub credentials_uri: Option<Secret>,
    /// Which STS endpoint to ask: a region's, or an explicit host or URL.
    pub sts_region: Option<String>,
    pub sts_endpoint: Option<String>,
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub intranet: Option<bool>,
    /// CA certificates (PEM) trusted beside the system's store; relative to the profile file.
    pub ca_file: Option<PathBuf>,
    pub signature_version: Option<u8>,
    pub project: Option<String>,
    pub logstore: Option<String>,
    pub shipper: Option<String>,
    // The defaults of the flags of the same name, within the same bounds.
    #[serde(default, deserialize_with = "timeout")]
    pub timeout: Option<u32>,
    #[serde(default, deserialize_with = "retries")]
    pub retries: Option<u32>,
    #[serde(default, deserialize_with = "jobs")]
    pub jobs: Option<u32>,
    #[serde(default, deserialize_with = "batch_size")]
    pub batch_size: Option<u32>,
}

fn timeout<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    d.deserialize_any(Number(TIMEOUT)).map(Some)
}

fn retries<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    d.deserialize_any(Number(RETRIES)).map(Some)
}

fn jobs<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    d.deserialize_any(Number(JOBS)).map(Some)
}

fn batch_size<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    d.deserialize_any(Number(BATCH_SIZE)).map(Some)
}

/// Reads a profile number from whatever TOML value stands there, so that every wrong one, of any
/// type or size, is refused with the same message naming the bounds.
struct Number(Bounded);

impl Number {
    fn refuse<E: de::Error>(&self, what: impl fmt::Display) -> E {
        E::custom(format_args!(
            "must be a whole number from {} to {}, not {what}",
            self.0.min, self.0.max
        ))
    }

    fn integer<E: de::Error>(&self, n: i128) -> Result<u32, E> {
        self.0.check(n).ok_or_else(|| self.refuse(n))
    }
}

impl<'de> Visitor<'de> for Number {
    type Value = u32;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "a whole number from {} to {}", self.0.min, self.0.max)
    }

    fn visit_i64<E: de::Error>(self, n: i64) -> Result<u32, E> {
        self.integer(n.into())
    }

    fn visit_u64<E: de::Error>(self, n: u64) -> Result<u32, E> {
        self.integer(n.into())
    }

    fn visit_i128<E: de::Error>(self, n: i128) -> Result<u32, E> {
        self.integer(n)
    }

    fn visit_u128<E: de::Error>(self, n: u128) -> Result<u32, E> {
        Err(self.refuse(n))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<u32, E> {
        Err(self.refuse("a decimal number"))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<u32, E> {
        Err(self.refuse("a boolean"))
    }

    // The text is not quoted back: whatever it is, the fix is to write a number.
    fn visit_str<E: de::Error>(self, _: &str) -> Result<u32, E> {
        Err(self.refuse("a string"))
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, _: A) -> Result<u32, A::Error> {
        Err(self.refuse("an array"))
    }

    // TOML dates reach a visitor as maps too.
    fn visit_map<A: de::MapAccess<'de>>(self, _: A) -> Result<u32, A::Error> {
        Err(self.refuse("a table or a date"))
    }
}

impl Profile {
    /// Does this profile say anything about credentials?
    pub fn has_credentials(&self) -> bool {
        self.access_key_id.is_some()
            || self.access_key_secret.is_some()
            || self.security_token.is_some()
            || self.credentials_command.is_some()
            || self.role_arn.is_some()
            || self.source_profile.is_some()
            || self.oidc_provider_arn.is_some()
            || self.oidc_token_file.is_some()
            || self.ecs_ram_role.is_some()
            || self.credentials_uri.is_some()
    }

    fn holds_secret(&self) -> bool {
        self.access_key_secret.is_some() || self.security_token.is_some()
    }
}

/// A loaded profile file.
#[derive(Debug)]
pub struct ProfileFile {
    pub path: PathBuf,
    pub profiles: BTreeMap<String, Profile>,
    /// Set when the file holds a secret and group or others may read it.
    pub loose_permissions: Option<u32>,
}

impl ProfileFile {
    /// Read and parse `path`. `Ok(None)` when it does not exist and `required` is false.
    pub fn load(path: &Path, required: bool) -> Result<Option<ProfileFile>> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => return Ok(None),
            Err(e) => {
                return Err(e)
                    .with_context(|| format!("cannot read profile file {}", path.display()));
            }
        };
        let profiles = parse_file(path, &text)?;
        let holds_secret = profiles.values().any(Profile::holds_secret);
        let loose_permissions = if holds_secret { loose_mode(path) } else { None };
        Ok(Some(ProfileFile {
            path: path.to_path_buf(),
            profiles,
            loose_permissions,
        }))
    }

    pub fn get(&self, name: &str) -> Option<&Profile> {
        self.profiles.get(name)
    }

    /// The profile names, for "did you mean" style errors.
    pub fn names(&self) -> Vec<&str> {
        self.profiles.keys().map(String::as_str).collect()
    }
}

/// Parse the text of the profile file at `path`; errors name the file.
pub fn parse_file(path: &Path, text: &str) -> Result<BTreeMap<String, Profile>> {
    parse(text).with_context(|| format!("invalid profile file {}", path.display()))
}

/// Parse a profile file's text. Errors are one line and say where: the line and column, and the
/// profile and key when the problem lies in one.
pub fn parse(text: &str) -> Result<BTreeMap<String, Profile>> {
    let profiles: BTreeMap<String, Profile> =
        toml::from_str(text).map_err(|e| anyhow::anyhow!("{}", locate(text, &e)))?;
    for (name, profile) in &profiles {
        if let Some(v) = profile.signature_version
            && v != 1
            && v != 4
        {
            bail!(
                "profile \"{}\", key signature_version: must be 1 or 4, not {v}",
                crate::untrusted::escape(name)
            );
        }
    }
    Ok(profiles)
}

/// toml's message spans several lines (it quotes the source); ours is one, with the line and
/// column, and the profile and key found at the error's place.
fn locate(text: &str, e: &toml::de::Error) -> String {
    let message = crate::untrusted::escape(e.message().trim_end()).into_owned();
    let Some(at) = e.span().map(|span| span.start) else {
        return message;
    };
    let Some(before) = text.get(..at) else {
        return message;
    };
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    let position = format!("line {line}, column {column}");
    let escape = crate::untrusted::escape;
    match owner(text, at) {
        Some(Owner::Key(profile, key)) => format!(
            "profile \"{}\", key {} ({position}): {message}",
            escape(&profile),
            escape(&key)
        ),
        Some(Owner::Profile(profile)) => {
            format!("profile \"{}\" ({position}): {message}", escape(&profile))
        }
        Some(Owner::TopLevel(key)) => format!(
            "key {} ({position}) is outside any profile: put settings under a [name] header",
            escape(&key)
        ),
        None => format!("{position}: {message}"),
    }
}

/// What holds a place in the profile file.
enum Owner {
    /// A key of a profile: `[prod]` then `timeout = ...`.
    Key(String, String),
    /// A profile as a whole.
    Profile(String),
    /// A key that is no table, outside every profile.
    TopLevel(String),
}

/// What holds byte `at` of `text`.
fn owner(text: &str, at: usize) -> Option<Owner> {
    use toml::de::{DeTable, DeValue};
    let document = DeTable::parse(text).ok()?;
    let covers = |span: std::ops::Range<usize>| span.contains(&at);
    for (name, value) in document.get_ref() {
        let name = name.get_ref().to_string();
        let DeValue::Table(table) = value.get_ref() else {
            if covers(value.span()) {
                return Some(Owner::TopLevel(name));
            }
            continue;
        };
        for (key, value) in table {
            if covers(key.span()) || covers(value.span()) {
                return Some(Owner::Key(name, key.get_ref().to_string()));
            }
        }
        if covers(value.span()) {
            return Some(Owner::Profile(name));
        }
    }
    None
}

#[cfg(unix)]
fn loose_mode(path: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o777;
    (mode & 0o077 != 0).then_some(mode)
}

#[cfg(not(unix))]
fn loose_mode(_: &Path) -> Option<u32> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_with_every_key() {
        let profiles = parse(
            r#"
            [default]
            access_key_id = "LTAI1"
            access_key_secret = "s1"
            region = "cn-hangzhou"
            intranet = true
            project = "p"
            logstore = "l"
            shipper = "s"
            timeout = 10

            [prod]
            credentials_command = "vault read -format=json secret/sls"
            endpoint = "https://cn-shanghai.log.aliyuncs.com"
            signature_version = 4
            "#,
        )
        .unwrap();
        let d = &profiles["default"];
        assert_eq!(d.access_key_id.as_deref(), Some("LTAI1"));
        assert_eq!(d.access_key_secret.as_ref().unwrap().expose(), "s1");
        assert_eq!((d.intranet, d.timeout), (Some(true), Some(10)));
        assert!(profiles["prod"].has_credentials());
        assert_eq!(profiles["prod"].signature_version, Some(4));
        let shown = format!("{profiles:?} {profiles:#?}");
        assert!(!shown.contains("s1\""), "Debug redacts secrets: {shown}");
        assert!(
            !shown.contains("vault"),
            "Debug redacts the command, whose text may hold a secret: {shown}"
        );
    }

    /// Each number within its flag's bounds, in any TOML spelling of an integer; anything else
    /// refused naming the profile and the key, in one line.
    #[test]
    fn numbers_have_their_flags_bounds() {
        let numbers = parse(
            "[a]\ntimeout = 3600\nretries = 0\njobs = 32\nbatch_size = 1\n\
             [b]\ntimeout = 0x1\nretries = +20\njobs = 1_0\nbatch_size = 0o12\n\
             [c]\n",
        )
        .unwrap();
        let got = |name: &str| {
            let p = &numbers[name];
            (p.timeout, p.retries, p.jobs, p.batch_size)
        };
        assert_eq!(got("a"), (Some(3600), Some(0), Some(32), Some(1)));
        assert_eq!(got("b"), (Some(1), Some(20), Some(10), Some(10)));
        assert_eq!(got("c"), (None, None, None, None));

        for (key, value, not) in [
            ("timeout", "9223372036854775807", "9223372036854775807"),
            ("timeout", "-9223372036854775808", "-9223372036854775808"),
            ("timeout", "4000", "4000"),
            ("timeout", "0", "0"),
            ("retries", "21", "21"),
            ("retries", "-1", "-1"),
            ("jobs", "33", "33"),
            ("batch_size", "11", "11"),
            ("batch_size", "\"10\"", "a string"),
            ("jobs", "2.0", "a decimal number"),
            ("jobs", "inf", "a decimal number"),
            ("retries", "false", "a boolean"),
            ("retries", "[]", "an array"),
            ("timeout", "{ secs = 3 }", "a table or a date"),
            ("timeout", "07:32:00", "a table or a date"),
        ] {
            let bound = crate::config::PROFILE_NUMBERS
                .into_iter()
                .find(|b| b.key == key)
                .unwrap();
            let err = parse(&format!("[ok]\n[p]\nregion = \"r\"\n{key} = {value}\n"))
                .unwrap_err()
                .to_string();
            assert_eq!(
                err,
                format!(
                    "profile \"p\", key {key} (line 4, column {}): must be a whole number from \
                     {} to {}, not {not}",
                    key.len() + 4,
                    bound.min,
                    bound.max
                )
            );
        }
        // Inline and dotted tables are located as well.
        let err = parse("p = { jobs = 0 }\n").unwrap_err().to_string();
        assert!(
            err.starts_with("profile \"p\", key jobs (line 1, column 14): "),
            "{err}"
        );
        let err = parse("p.jobs = 99\n").unwrap_err().to_string();
        assert!(
            err.starts_with("profile \"p\", key jobs (line 1, column 10): "),
            "{err}"
        );
    }

    /// The shipped example must stay loadable: every key in it is one we read.
    #[test]
    fn the_example_file_parses() {
        let profiles = parse(include_str!("../../config.example.toml")).unwrap();
        assert_eq!(
            profiles.keys().collect::<Vec<_>>(),
            [
                "audit",
                "cross-account",
                "default",
                "ecs",
                "k8s",
                "prod",
                "staging",
                "uri"
            ]
        );
        assert!(profiles["prod"].credentials_command.is_some());
    }

    #[test]
    fn errors_name_the_line() {
        let err = parse("[default]\nregion = \"cn-hangzhou\"\nacess_key_id = \"x\"\n").unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.starts_with(
                "profile \"default\", key acess_key_id (line 3, column 1): unknown field \
                 `acess_key_id`"
            ),
            "{msg}"
        );
        assert!(!msg.contains('\n'), "{msg}");

        let err = parse("region = \"cn-hangzhou\"\n[p]\n")
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "key region (line 1, column 10) is outside any profile: put settings under a [name] \
             header"
        );

        let err = parse("[default]\nregion = cn-hangzhou\n")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("line 2, column 10: "), "{err}");

        let err = parse("[p]\nsignature_version = 3\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("profile \"p\", key signature_version: must be 1 or 4, not 3"),
            "{err}"
        );
    }
}
