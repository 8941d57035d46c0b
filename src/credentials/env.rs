//! Credentials from the environment: the variables every Alibaba Cloud SDK reads, and the two
//! spellings the `aliyun` CLI also accepts. ID, secret and token always come from one spelling.

use anyhow::{Result, bail};

use super::{Credentials, Found, Secret, fixed};
use crate::config::env::Env;

/// `[id, secret, token]` per spelling, in the order they are looked at.
pub const ENV_CREDENTIALS: [[&str; 3]; 3] = [
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

/// The first spelling that is set; half a pair is an error, never combined with another source.
pub fn find(env: &Env) -> Result<Option<Found>> {
    for [id_var, secret_var, token_var] in ENV_CREDENTIALS {
        match (env.get(id_var), env.get(secret_var)) {
            (Some(id), Some(secret)) => {
                let token = env.get(token_var);
                let source = match token {
                    Some(_) => format!("environment ({id_var}, {secret_var}, {token_var})"),
                    None => format!("environment ({id_var}, {secret_var})"),
                };
                let credentials = Credentials {
                    access_key_id: id,
                    access_key_secret: Secret::new(secret),
                    security_token: token.map(Secret::new),
                };
                return Ok(Some((fixed(credentials), source)));
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

/// How the "no credentials" error names this source.
pub fn describe() -> String {
    format!(
        "the environment variables {} and {} (or the ALIBABACLOUD_/ALICLOUD_ spellings)",
        ENV_CREDENTIALS[0][0], ENV_CREDENTIALS[0][1]
    )
}
