//! Which proxy a request goes through, decided the way curl decides it, once per run from the
//! environment and then per request from the URL it contacts: `https://` URLs use
//! `https_proxy`/`HTTPS_PROXY`, `http://` ones `http_proxy`/`HTTP_PROXY`, either falls back to
//! `all_proxy`/`ALL_PROXY`, and `NO_PROXY` (`no_proxy`) sends a request directly. ureq is handed the
//! decision for each request rather than the variables, because its own reading of them differs
//! (one proxy for every scheme, no CIDR ranges, no subdomains). A setting that cannot be used is
//! an error: a request never quietly goes another way than the one the user set.

use std::fmt;

use anyhow::{Context, Result, bail};

use super::no_proxy::NoProxy;
use crate::config::env::Env;

/// The proxy variables, each in the spellings curl reads, lower case first.
pub const ENV_HTTPS_PROXY: [&str; 2] = ["https_proxy", "HTTPS_PROXY"];
pub const ENV_HTTP_PROXY: [&str; 2] = ["http_proxy", "HTTP_PROXY"];
pub const ENV_ALL_PROXY: [&str; 2] = ["all_proxy", "ALL_PROXY"];
pub const ENV_NO_PROXY: [&str; 2] = ["no_proxy", "NO_PROXY"];

/// curl's port for a proxy URL that names none.
const DEFAULT_PROXY_PORT: u16 = 1080;

/// The run's proxy settings.
#[derive(Debug, Clone, Default)]
pub struct Proxies {
    /// For `https://` URLs.
    https: Option<Proxy>,
    /// For `http://` URLs.
    http: Option<Proxy>,
    no_proxy: NoProxy,
}

/// One proxy, ready for ureq, and how to name it to the user.
#[derive(Clone)]
pub struct Proxy {
    ureq: ureq::Proxy,
    /// The URL without its user-info (`socks5h://***@proxy:1080`).
    shown: String,
    /// The variable it came from.
    var: &'static str,
}

/// How one request travels.
#[derive(Debug, Clone, Copy)]
pub enum Route<'a> {
    Direct,
    Through(&'a Proxy),
}

impl Proxies {
    /// Read the variables. A proxy URL or `NO_PROXY` entry that cannot be used is an error
    /// naming the variable and what to write instead.
    pub fn from_env(env: &Env) -> Result<Proxies> {
        let all = env.first(&ENV_ALL_PROXY);
        let pick = |names: &[&'static str; 2]| -> Result<Option<Proxy>> {
            match env.first(names).or_else(|| all.clone()) {
                Some((var, value)) => Proxy::parse(var, &value).map(Some),
                None => Ok(None),
            }
        };
        let https = pick(&ENV_HTTPS_PROXY)?;
        let http = pick(&ENV_HTTP_PROXY)?;
        let no_proxy = match env.first(&ENV_NO_PROXY) {
            Some((var, list)) => {
                NoProxy::parse(&list).with_context(|| format!("{var} cannot be used"))?
            }
            None => NoProxy::default(),
        };
        Ok(Proxies {
            https,
            http,
            no_proxy,
        })
    }

    /// Every proxy the settings name.
    pub fn all(&self) -> impl Iterator<Item = &Proxy> {
        self.https.iter().chain(self.http.iter())
    }

    /// The route of a request to `scheme://host:port`.
    pub fn route(&self, scheme: &str, host: &str, port: u16) -> Route<'_> {
        let proxy = match scheme {
            "https" => self.https.as_ref(),
            _ => self.http.as_ref(),
        };
        match proxy {
            Some(proxy) if !self.no_proxy.matches(host, port) => Route::Through(proxy),
            _ => Route::Direct,
        }
    }

    /// The route of a request to `url` (an absolute `http(s)://` URL).
    pub fn route_to(&self, url: &ureq::http::Uri) -> Route<'_> {
        let scheme = url.scheme_str().unwrap_or("https");
        let port = url
            .port_u16()
            .unwrap_or(if scheme == "http" { 80 } else { 443 });
        self.route(scheme, url.host().unwrap_or(""), port)
    }
}

impl Proxy {
    /// `value` of `var`: `[scheme://][user[:password]@]host[:port][/]` with scheme `http`,
    /// `socks5` (names looked up here) or `socks5h` (names looked up by the proxy).
    fn parse(var: &'static str, value: &str) -> Result<Proxy> {
        let problem = |what: &str| {
            format!(
                "{var} cannot be used: {what}; write http://host:port, socks5://host:port or \
                 socks5h://host:port (user:password@ before the host if the proxy asks)"
            )
        };
        let (scheme, rest) = match value.split_once("://") {
            Some((scheme, rest)) => (scheme.to_ascii_lowercase(), rest),
            None => ("http".to_string(), value),
        };
        if !matches!(scheme.as_str(), "http" | "socks5" | "socks5h") {
            // Named only when it looks like a scheme: the text before `://` could be anything.
            let looks_like_one =
                scheme.len() <= 16 && scheme.chars().all(|c| c.is_ascii_alphanumeric());
            bail!(match looks_like_one {
                true => problem(&format!("the scheme {scheme}:// is not supported")),
                false => problem("its scheme is not supported"),
            });
        }
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        let (userinfo, authority) = match rest.rsplit_once('@') {
            Some((userinfo, authority)) => (Some(userinfo), authority),
            None => (None, rest),
        };
        if authority.is_empty() || authority.contains(['/', '?', '#', '@']) {
            bail!(problem("it is not a proxy URL"));
        }
        let authority = match authority.parse::<ureq::http::uri::Authority>() {
            Ok(a) if a.port_u16().is_some() => a.to_string(),
            // No port at all (not one that cannot be read): curl's default.
            Ok(a) if !a.host().is_empty() && a.as_str() == a.host() => {
                format!("{}:{DEFAULT_PROXY_PORT}", a.host())
            }
            _ => bail!(problem("its host and port cannot be read")),
        };
        let with_userinfo = match userinfo {
            Some(userinfo) => format!("{scheme}://{userinfo}@{authority}"),
            None => format!("{scheme}://{authority}"),
        };
        let ureq = ureq::Proxy::new(&with_userinfo)
            .map_err(|_| anyhow::anyhow!(problem("its user name or password cannot be read")))?;
        let shown = match userinfo {
            Some(_) => format!("{scheme}://***@{authority}"),
            None => format!("{scheme}://{authority}"),
        };
        Ok(Proxy { ureq, shown, var })
    }

    pub fn ureq(&self) -> &ureq::Proxy {
        &self.ureq
    }

    /// The variable it came from.
    pub fn var(&self) -> &'static str {
        self.var
    }

    /// Does the proxy look the target's name up (`http`, `socks5h`), or is it looked up here
    /// (`socks5`)?
    pub fn resolves_names(&self) -> bool {
        !self.ureq.resolve_target()
    }
}

/// The URL without its user-info, and the variable it came from: `http://proxy:3128 (from
/// HTTPS_PROXY)`.
impl fmt::Display for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (from {})", self.shown, self.var)
    }
}

/// Never the user-info: it may hold a password.
impl fmt::Debug for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Proxy({self})")
    }
}

impl fmt::Display for Route<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Route::Direct => f.write_str("direct"),
            Route::Through(proxy) => write!(f, "through {proxy}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interrupt::Interrupt;

    fn proxies(vars: &[(&str, &str)]) -> Result<Proxies> {
        let lookup = |name: &str| {
            (vars.iter())
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.to_string())
        };
        let interrupt = Interrupt::default();
        Proxies::from_env(&Env::new(&lookup, &interrupt))
    }

    fn route(vars: &[(&str, &str)], url: &str) -> String {
        let proxies = proxies(vars).unwrap();
        proxies.route_to(&url.parse().unwrap()).to_string()
    }

    const SLS: &str = "https://my-project.cn-hangzhou.log.aliyuncs.com/logstores";

    #[test]
    fn each_scheme_has_its_variable_all_proxy_is_the_fallback_and_lower_case_comes_first() {
        let three = [
            ("HTTPS_PROXY", "http://tls-proxy:3128"),
            ("HTTP_PROXY", "http://plain-proxy:3128"),
            ("ALL_PROXY", "socks5h://socks:1080"),
        ];
        let all = [("ALL_PROXY", "socks5h://socks:1080")];
        let cases = [
            (
                &three[..],
                SLS,
                "through http://tls-proxy:3128 (from HTTPS_PROXY)",
            ),
            (
                &three,
                "http://127.0.0.1:8080/",
                "through http://plain-proxy:3128 (from HTTP_PROXY)",
            ),
            (&all, SLS, "through socks5h://socks:1080 (from ALL_PROXY)"),
            (
                &all,
                "http://x/",
                "through socks5h://socks:1080 (from ALL_PROXY)",
            ),
            // HTTPS_PROXY does not serve http:// URLs, nor HTTP_PROXY https:// ones.
            (&[("HTTPS_PROXY", "http://p:1")], "http://x/", "direct"),
            (&[("HTTP_PROXY", "http://p:1")], SLS, "direct"),
            (&[], SLS, "direct"),
            (
                &[
                    ("https_proxy", "http://lower:1"),
                    ("HTTPS_PROXY", "http://upper:1"),
                ],
                SLS,
                "through http://lower:1 (from https_proxy)",
            ),
            (
                &[("all_proxy", "http://a:1"), ("ALL_PROXY", "http://b:1")],
                "http://x/",
                "through http://a:1 (from all_proxy)",
            ),
            (
                &[("HTTPS_PROXY", "http://p:1"), ("no_proxy", "aliyuncs.com")],
                SLS,
                "direct",
            ),
        ];
        for (vars, url, want) in cases {
            assert_eq!(route(vars, url), want, "{vars:?} {url}");
        }
    }

    #[test]
    fn no_proxy_is_matched_against_the_host_contacted() {
        let vars = [
            ("HTTPS_PROXY", "http://p:3128"),
            ("NO_PROXY", "cn-hangzhou.log.aliyuncs.com,10.0.0.0/8"),
        ];
        assert_eq!(route(&vars, SLS), "direct");
        assert_eq!(route(&vars, "https://10.1.2.3/"), "direct");
        assert_eq!(
            route(&vars, "https://sts.aliyuncs.com/"),
            "through http://p:3128 (from HTTPS_PROXY)"
        );
    }

    #[test]
    fn user_info_is_used_but_never_shown() {
        let vars = [("HTTPS_PROXY", "http://alice:s%40cret@proxy.corp:8080/")];
        let proxies = proxies(&vars).unwrap();
        let Route::Through(proxy) = proxies.route("https", "h", 443) else {
            panic!("direct")
        };
        assert_eq!(proxy.ureq().username(), Some("alice"));
        assert_eq!(proxy.ureq().password(), Some("s@cret"));
        for shown in [
            proxy.to_string(),
            format!("{proxy:?}"),
            format!("{proxies:?}"),
        ] {
            assert!(
                !shown.contains("cret") && !shown.contains("alice"),
                "{shown}"
            );
        }
        assert_eq!(
            proxy.to_string(),
            "http://***@proxy.corp:8080 (from HTTPS_PROXY)"
        );
    }

    #[test]
    fn schemes_ports_and_name_lookups() {
        let cases = [
            ("proxy.corp:3128", "http://proxy.corp:3128", true),
            ("proxy.corp", "http://proxy.corp:1080", true),
            ("HTTP://Proxy.corp:1/", "http://Proxy.corp:1", true),
            ("socks5://s:1", "socks5://s:1", false),
            ("socks5h://s", "socks5h://s:1080", true),
            ("http://[::1]:3128", "http://[::1]:3128", true),
        ];
        for (value, shown, proxy_resolves) in cases {
            let proxies = proxies(&[("ALL_PROXY", value)]).unwrap();
            let Route::Through(proxy) = proxies.route("https", "h", 443) else {
                panic!("{value}: direct")
            };
            assert_eq!(proxy.to_string(), format!("{shown} (from ALL_PROXY)"));
            assert_eq!(proxy.resolves_names(), proxy_resolves, "{value}");
        }
    }

    #[test]
    fn a_setting_that_cannot_be_used_is_an_error_naming_it() {
        for (var, value, says) in [
            (
                "HTTPS_PROXY",
                "socks4://s:1080",
                "the scheme socks4:// is not supported",
            ),
            (
                "ALL_PROXY",
                "https://p:443",
                "the scheme https:// is not supported",
            ),
            ("https_proxy", "http://", "it is not a proxy URL"),
            ("HTTP_PROXY", "http://p:3128/path", "it is not a proxy URL"),
            (
                "HTTP_PROXY",
                "http://p:notaport",
                "its host and port cannot be read",
            ),
            (
                "ALL_PROXY",
                "http://u:%ff@p:1",
                "its user name or password cannot be read",
            ),
            ("NO_PROXY", "10.0.0.0/99", "NO_PROXY entry \"10.0.0.0/99\""),
        ] {
            let err = format!("{:#}", proxies(&[(var, value)]).unwrap_err());
            assert!(err.starts_with(&format!("{var} cannot be used: ")), "{err}");
            assert!(err.contains(says), "{value}: {err}");
            assert!(!err.contains('\n'));
        }
    }
}
