//! Credentials from a URL (`ALIBABA_CLOUD_CREDENTIALS_URI`, the `aliyun` CLI's CredentialsURI
//! mode, a profile's `credentials_uri`): a `GET` answered with
//! `{"Code": "Success", "AccessKeyId", "AccessKeySecret", "SecurityToken", "Expiration"}`,
//! asked again before the credentials expire. The URL may carry a token of its own, so it is
//! held as a secret and shown without its query.

use std::sync::Arc;

use anyhow::{Result, bail};

use super::keyring::{self, Issued, Provider};
use super::{Credentials, Found, Secret};
use crate::config::env::Env;
use crate::http::Http;
use crate::http::failure::{self, Peer};
use crate::interrupt::Interrupt;
use crate::untrusted::excerpt;

pub const ENV_CREDENTIALS_URI: &str = "ALIBABA_CLOUD_CREDENTIALS_URI";

/// The most of an answer read: credentials are a few hundred bytes.
const MAX_ANSWER_BYTES: u64 = 64 * 1024;

pub struct FromUri {
    pub url: Secret,
    pub http: Http,
    pub interrupt: Interrupt,
}

impl Provider for FromUri {
    /// Read-only: a signal abandons it.
    fn fetch(&self) -> Result<Issued> {
        let (url, http) = (self.url.clone(), self.http.clone());
        let during = "asking the credentials URI; nothing was sent";
        self.interrupt
            .abandon_on_signal(during, move || get(&url, &http))?
    }
}

fn get(url: &Secret, http: &Http) -> Result<Issued> {
    let shown = shown(url.expose());
    let uri: ureq::http::Uri = (url.expose().parse())
        .map_err(|_| anyhow::anyhow!("the credentials URI {shown} is not a URL"))?;
    let (agent, route) = (http.route(&uri))
        .map_err(|f| anyhow::anyhow!("cannot ask the credentials URI {shown}: {}", f.why))?;
    let mut answer = agent.get(uri.clone()).call().map_err(|e| {
        let peer = Peer::of(&uri, &shown, "check the credentials URI");
        let failure = failure::describe(&e, &peer, route, http.timeout());
        anyhow::anyhow!("cannot reach the credentials URI {shown}: {}", failure.why)
    })?;
    let status = answer.status().as_u16();
    let body = answer
        .body_mut()
        .with_config()
        .limit(MAX_ANSWER_BYTES)
        .read_to_vec()
        .map_err(|e| anyhow::anyhow!("cannot read the credentials URI {shown}'s answer: {e}"))?;
    if status != 200 {
        let text = String::from_utf8_lossy(&body);
        bail!(
            "the credentials URI {shown} answered HTTP {status}: \"{}\"",
            excerpt(text.trim(), 120)
        );
    }
    parse(&body).map_err(|why| anyhow::anyhow!("the credentials URI {shown} {why}"))
}

/// The answer's credentials; `Err` completes "the credentials URI ... ".
fn parse(body: &[u8]) -> Result<Issued, String> {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Answer {
        code: Option<String>,
        access_key_id: Option<String>,
        access_key_secret: Option<Secret>,
        security_token: Option<Secret>,
        expiration: Option<String>,
    }
    let answer: Answer =
        serde_json::from_slice(body).map_err(|_| "answered with something other than JSON")?;
    if answer.code.as_deref() != Some("Success") {
        let code = answer.code.as_deref().unwrap_or("missing");
        return Err(format!("answered Code {} (not Success)", excerpt(code, 64)));
    }
    let Some(credentials) = Credentials::from_pair(
        answer.access_key_id.as_deref(),
        answer.access_key_secret.as_ref(),
        answer.security_token.as_ref(),
    ) else {
        return Err("answered without AccessKeyId or AccessKeySecret".into());
    };
    let expires = match answer.expiration.as_deref() {
        None | Some("") => None,
        Some(text) => Some(
            keyring::expiration(text)
                .ok_or_else(|| format!("answered an Expiration \"{}\"", excerpt(text, 40)))?,
        ),
    };
    Ok(Issued {
        credentials,
        expires,
    })
}

/// The URL without its query and user info, which may hold a token.
pub fn shown(url: &str) -> String {
    let without_query = url.split(['?', '#']).next().unwrap_or_default();
    let (scheme, rest) = without_query
        .split_once("://")
        .unwrap_or(("", without_query));
    let rest = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    let shown = if scheme.is_empty() {
        rest.to_string()
    } else {
        format!("{scheme}://{rest}")
    };
    excerpt(&shown, 120)
}

/// The credentials URI `url` as a provider, and how `-v` names it after `source`.
pub fn provider(url: &Secret, source: String, env: &Env, http: &Http) -> Found {
    let described = format!("{source}: {}", shown(url.expose()));
    let provider = FromUri {
        url: url.clone(),
        http: http.clone(),
        interrupt: env.interrupt.clone(),
    };
    (Arc::new(provider), described)
}

/// `ALIBABA_CLOUD_CREDENTIALS_URI`, when set.
pub fn from_env(env: &Env, http: &Http) -> Option<Found> {
    let url = Secret::new(env.get(ENV_CREDENTIALS_URI)?);
    let source = format!("environment ({ENV_CREDENTIALS_URI})");
    Some(provider(&url, source, env, http))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_as_the_services_give_them() {
        let ok = br#"{"Code": "Success", "AccessKeyId": "STS.k", "AccessKeySecret": "s",
            "SecurityToken": "t", "Expiration": "2026-11-29T10:00:00Z"}"#;
        let issued = parse(ok).unwrap();
        assert_eq!(issued.credentials.access_key_id, "STS.k");
        assert_eq!(issued.expires, keyring::expiration("2026-11-29T10:00:00Z"));
        for (body, why) in [
            (&b"<html>"[..], "answered with something other than JSON"),
            (
                br#"{"Code": "Fail\u001b[2J"}"#,
                "answered Code Fail\\u{1b}[2J (not Success)",
            ),
            (
                br#"{"Code": "Success"}"#,
                "answered without AccessKeyId or AccessKeySecret",
            ),
        ] {
            assert_eq!(parse(body).unwrap_err(), why);
        }
    }

    #[test]
    fn a_url_is_shown_without_what_may_hold_a_token() {
        assert_eq!(
            shown("https://user:pw@creds.internal:8443/v1/creds?token=S3cret#x"),
            "https://creds.internal:8443/v1/creds"
        );
        assert_eq!(shown("http://127.0.0.1:9/c"), "http://127.0.0.1:9/c");
    }
}
