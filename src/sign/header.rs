//! A signed header's (or RPC parameter's) value, marked sensitive by the signer that creates it:
//! every way of printing it hides the secret part, and only the writer of the wire asks for the
//! whole value.

use std::borrow::Cow;
use std::fmt;

use crate::credentials::Secret;

/// What printing shows in place of a secret part.
const REDACTED: &str = "<redacted>";

/// A header value as the signer made it: a part that may be shown, then (for a sensitive header)
/// a secret part that is sent but never shown.
///
/// The mark is the type: a sensitive value is built with `sensitive`, when the signer creates the
/// header, and from then on `Debug` and `redacted` print `<redacted>` for its secret part, so no
/// printer has to know which headers carry secrets or how their values are laid out. There is
/// deliberately no `Display`.
#[derive(Clone)]
pub struct HeaderValue {
    /// Shown as is wherever the request is printed.
    shown: String,
    /// Sent right after `shown`; printed as `<redacted>`.
    secret: Option<Secret>,
}

impl HeaderValue {
    /// A value with nothing to hide.
    pub fn public(value: impl Into<String>) -> HeaderValue {
        HeaderValue {
            shown: value.into(),
            secret: None,
        }
    }

    /// `shown` followed by `secret`, e.g. `LOG <key id>:` and the signature; `shown` is empty
    /// when the whole value is the secret (the STS token).
    pub fn sensitive(shown: impl Into<String>, secret: Secret) -> HeaderValue {
        HeaderValue {
            shown: shown.into(),
            secret: Some(secret),
        }
    }

    pub fn is_sensitive(&self) -> bool {
        self.secret.is_some()
    }

    /// The value as sent, secret part included: for signing and for the header writer only.
    pub fn expose(&self) -> Cow<'_, str> {
        match &self.secret {
            None => Cow::Borrowed(&self.shown),
            Some(secret) if self.shown.is_empty() => Cow::Borrowed(secret.expose()),
            Some(secret) => Cow::Owned(format!("{}{}", self.shown, secret.expose())),
        }
    }

    /// The value as printed: the secret part, if any, replaced by `<redacted>`.
    pub fn redacted(&self) -> Cow<'_, str> {
        match &self.secret {
            None => Cow::Borrowed(&self.shown),
            Some(_) => Cow::Owned(format!("{}{REDACTED}", self.shown)),
        }
    }
}

impl fmt::Debug for HeaderValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.redacted(), f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_secret_part_is_sent_and_never_printed() {
        let auth = HeaderValue::sensitive("LOG AKID:", Secret::new("c2lnbmF0dXJl"));
        assert_eq!(auth.expose(), "LOG AKID:c2lnbmF0dXJl");
        assert_eq!(auth.redacted(), "LOG AKID:<redacted>");
        let token = HeaderValue::sensitive("", Secret::new("tok3n"));
        assert_eq!(token.expose(), "tok3n");
        assert_eq!(token.redacted(), "<redacted>");
        let shown = format!("{auth:?} {auth:#?} {token:?} {token:#?}");
        assert_eq!(
            shown,
            r#""LOG AKID:<redacted>" "LOG AKID:<redacted>" "<redacted>" "<redacted>""#
        );
        assert!(auth.is_sensitive() && token.is_sensitive());

        let date = HeaderValue::public("Thu, 01 Jan 1970 00:00:00 GMT");
        assert!(!date.is_sensitive());
        assert_eq!(date.expose(), date.redacted());
        assert_eq!(format!("{date:?}"), r#""Thu, 01 Jan 1970 00:00:00 GMT""#);
    }
}
