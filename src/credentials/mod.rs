//! Credentials: the AccessKey pair and optional STS token, kept in types that never print a
//! secret, and the places they come from, one file each; `chain.rs` orders those places and says,
//! when none has credentials, every place it tried.

mod aliyun_cli;
pub(crate) mod chain;
pub mod command;
pub(crate) mod credentials_file;
pub mod ecs_metadata;
pub(crate) mod env;
pub mod keyring;
pub mod oidc;
mod profile;
pub mod role;
pub mod sts;
pub mod uri;

use std::fmt;
use std::sync::Arc;

pub use chain::find;
pub use keyring::{Fixed, Issued, Keyring, Provider};

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
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credentials {
    /// The AccessKeyId is an identifier, not a secret: it is shown by `-v` and `--dry-run`.
    pub access_key_id: String,
    pub access_key_secret: Secret,
    /// STS token; sent (and signed) as `x-acs-security-token`.
    pub security_token: Option<Secret>,
}

impl Credentials {
    /// A static AccessKey pair (and STS token), when both halves of the pair are there and not
    /// empty.
    pub fn from_pair(
        id: Option<&str>,
        secret: Option<&Secret>,
        token: Option<&Secret>,
    ) -> Option<Credentials> {
        let id = id.filter(|id| !id.is_empty())?;
        let secret = secret.filter(|s| !s.expose().is_empty())?;
        Some(Credentials {
            access_key_id: id.to_string(),
            access_key_secret: secret.clone(),
            security_token: token.filter(|t| !t.expose().is_empty()).cloned(),
        })
    }
}

/// Where a run's credentials come from, and how `-v` names that place (never a secret).
pub type Found = (Arc<dyn Provider>, String);

/// Credentials that do not expire, as a provider.
pub fn fixed(credentials: Credentials) -> Arc<dyn Provider> {
    Arc::new(Fixed(Issued::lasting(credentials)))
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
