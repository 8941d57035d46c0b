//! SLS endpoints: the accepted forms and the rule for where to connect and what `Host` to send
//! (see README, "Usage").

use std::fmt;
use std::net::IpAddr;

use crate::names::{Project, Region};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Http,
    Https,
}

/// A parsed `-e/--endpoint`: `host`, `host:port`, `http(s)://host[:port]`, https by default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub scheme: Scheme,
    /// Lower-cased host name, IPv4 literal, or bracketed IPv6 literal (`[::1]`).
    pub host: String,
    pub port: Option<u16>,
}

impl Endpoint {
    /// Parse an endpoint as a user types it. The error is one line naming the problem and the fix.
    pub fn parse(input: &str) -> Result<Endpoint, String> {
        Endpoint::parse_as(input, "endpoint", "cn-hangzhou.log.aliyuncs.com")
    }

    /// Parse the endpoint of another service (`what`, e.g. "STS endpoint"), whose errors give
    /// `example`.
    pub fn parse_as(input: &str, what: &str, example: &str) -> Result<Endpoint, String> {
        let bad = |why: &str| {
            format!(
                "invalid {what} '{}': {why}; expected host[:port] or http(s)://host[:port], \
                 e.g. {example}",
                crate::untrusted::escape(input)
            )
        };
        let trimmed = input.trim();
        let (scheme, rest) = match trimmed.split_once("://") {
            None => (Scheme::Https, trimmed),
            Some((s, rest)) if s.eq_ignore_ascii_case("https") => (Scheme::Https, rest),
            Some((s, rest)) if s.eq_ignore_ascii_case("http") => (Scheme::Http, rest),
            Some(_) => return Err(bad("only http:// and https:// are supported")),
        };
        let authority = rest.strip_suffix('/').unwrap_or(rest);
        if authority.contains('@') {
            return Err(bad("user info is not allowed"));
        }
        if authority.contains(['/', '?', '#']) {
            return Err(bad("a path, query or fragment is not allowed"));
        }
        if authority.is_empty() {
            return Err(bad("the host is empty"));
        }

        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (addr, after) = v6
                .split_once(']')
                .ok_or_else(|| bad("unclosed '[' in IPv6 address"))?;
            addr.parse::<std::net::Ipv6Addr>()
                .map_err(|_| bad("not a valid IPv6 address"))?;
            let port = match after {
                "" => None,
                p => Some(p.strip_prefix(':').ok_or_else(|| bad("junk after ']'"))?),
            };
            (format!("[{}]", addr.to_ascii_lowercase()), port)
        } else {
            match authority.split_once(':') {
                Some((h, p)) => (h.to_ascii_lowercase(), Some(p)),
                None => (authority.to_ascii_lowercase(), None),
            }
        };
        if host.is_empty() {
            return Err(bad("the host is empty"));
        }
        if !host.starts_with('[')
            && !host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
        {
            return Err(bad(
                "the host may only contain letters, digits, '-' and '.'",
            ));
        }
        let port = match port {
            None => None,
            Some(p) => match p.parse::<u16>() {
                Ok(n) if n > 0 => Some(n),
                _ => return Err(bad("the port must be a number from 1 to 65535")),
            },
        };
        Ok(Endpoint { scheme, host, port })
    }

    /// The public (or, with `intranet`, VPC) SLS endpoint of a region, over https.
    pub fn for_region(region: &Region, intranet: bool) -> Endpoint {
        let suffix = if intranet { "-intranet" } else { "" };
        Endpoint {
            scheme: Scheme::Https,
            host: format!("{region}{suffix}.log.aliyuncs.com"),
            port: None,
        }
    }

    /// The region an SLS endpoint names (`cn-hangzhou.log.aliyuncs.com`,
    /// `cn-hangzhou-intranet.log.aliyuncs.com`, `cn-hangzhou-share.log.aliyuncs.com`), if any.
    pub fn region(&self) -> Option<&str> {
        let label = self
            .host
            .strip_suffix(".log.aliyuncs.com")
            .or_else(|| self.host.strip_suffix(".sls.aliyuncs.com"))?;
        // The Go SDK's rule: strip the first of these suffixes that matches.
        let region = ["-intranet", "-share", "-vpc"]
            .iter()
            .find_map(|suffix| label.strip_suffix(suffix))
            .unwrap_or(label);
        (!region.is_empty() && !region.contains('.')).then_some(region)
    }

    /// An IP literal or `localhost`: connect to it as is, and only name the project in `Host`.
    pub fn is_direct(&self) -> bool {
        self.host == "localhost" || self.ip().is_some()
    }

    /// True when the connection stays on this machine (plain http is then fine).
    pub fn is_loopback(&self) -> bool {
        self.host == "localhost" || self.ip().is_some_and(|ip| ip.is_loopback())
    }

    fn ip(&self) -> Option<IpAddr> {
        let bare = self.host.trim_start_matches('[').trim_end_matches(']');
        bare.parse().ok()
    }

    /// The `Host` header for a project: `{project}.{host}`, plus `:{port}` when a port was given.
    pub fn host_header(&self, project: &Project) -> String {
        match self.port {
            Some(port) => format!("{project}.{}:{port}", self.host),
            None => format!("{project}.{}", self.host),
        }
    }

    /// Scheme and authority to connect to, e.g. `https://p.cn-hangzhou.log.aliyuncs.com` or
    /// `http://127.0.0.1:8080`.
    pub fn base_url(&self, project: &Project) -> String {
        let scheme = match self.scheme {
            Scheme::Http => "http",
            Scheme::Https => "https",
        };
        let host = if self.is_direct() {
            self.host.clone()
        } else {
            format!("{project}.{}", self.host)
        };
        match self.port {
            Some(port) => format!("{scheme}://{host}:{port}"),
            None => format!("{scheme}://{host}"),
        }
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = match self.scheme {
            Scheme::Http => "http",
            Scheme::Https => "https",
        };
        write!(f, "{scheme}://{}", self.host)?;
        if let Some(port) = self.port {
            write!(f, ":{port}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p() -> Project {
        Project::parse("p").unwrap()
    }

    fn ep(s: &str) -> Endpoint {
        Endpoint::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn every_accepted_form() {
        let cases = [
            (
                "cn-hangzhou.log.aliyuncs.com",
                Scheme::Https,
                "cn-hangzhou.log.aliyuncs.com",
                None,
            ),
            (
                "cn-hangzhou.log.aliyuncs.com:443",
                Scheme::Https,
                "cn-hangzhou.log.aliyuncs.com",
                Some(443),
            ),
            (
                "http://cn-hangzhou-intranet.log.aliyuncs.com",
                Scheme::Http,
                "cn-hangzhou-intranet.log.aliyuncs.com",
                None,
            ),
            (
                "https://log-global.aliyuncs.com/",
                Scheme::Https,
                "log-global.aliyuncs.com",
                None,
            ),
            (
                "HTTP://127.0.0.1:8080/",
                Scheme::Http,
                "127.0.0.1",
                Some(8080),
            ),
            ("http://[::1]:9000", Scheme::Http, "[::1]", Some(9000)),
            ("  Example.COM  ", Scheme::Https, "example.com", None),
        ];
        for (input, scheme, host, port) in cases {
            let e = ep(input);
            assert_eq!(
                (e.scheme, e.host.as_str(), e.port),
                (scheme, host, port),
                "{input}"
            );
        }
    }

    #[test]
    fn rejected_forms_say_why() {
        for (input, why) in [
            ("https://h.example/path", "path"),
            ("h.example?x=1", "query"),
            ("https://user:pw@h.example", "user info"),
            ("ftp://h.example", "http://"),
            ("h.example:0", "port"),
            ("h.example:99999", "port"),
            ("h.example:abc", "port"),
            ("", "empty"),
            ("https://", "empty"),
            ("h_bad.example", "letters"),
            ("http://[::1", "unclosed"),
        ] {
            let err = Endpoint::parse(input).unwrap_err();
            assert!(err.contains(why), "{input}: {err}");
            assert!(!err.contains('\n'));
        }
    }

    #[test]
    fn host_rule_names_the_project_but_connects_directly_to_ip_literals() {
        let public = ep("cn-hangzhou.log.aliyuncs.com");
        assert_eq!(
            public.base_url(&p()),
            "https://p.cn-hangzhou.log.aliyuncs.com"
        );
        assert_eq!(public.host_header(&p()), "p.cn-hangzhou.log.aliyuncs.com");

        let with_port = ep("http://sls.internal:8080");
        assert_eq!(with_port.base_url(&p()), "http://p.sls.internal:8080");
        assert_eq!(with_port.host_header(&p()), "p.sls.internal:8080");

        let local = ep("http://127.0.0.1:8080");
        assert!(local.is_direct() && local.is_loopback());
        assert_eq!(local.base_url(&p()), "http://127.0.0.1:8080");
        assert_eq!(local.host_header(&p()), "p.127.0.0.1:8080");

        let localhost = ep("http://localhost:1");
        assert_eq!(localhost.base_url(&p()), "http://localhost:1");
        assert_eq!(localhost.host_header(&p()), "p.localhost:1");

        let v6 = ep("http://[::1]:9000");
        assert_eq!(v6.base_url(&p()), "http://[::1]:9000");
        assert!(v6.is_loopback());

        assert!(!ep("10.0.0.1").is_loopback() && ep("10.0.0.1").is_direct());
    }

    #[test]
    fn regions_and_endpoints() {
        assert_eq!(
            Endpoint::for_region(&Region::parse("cn-hangzhou").unwrap(), false).to_string(),
            "https://cn-hangzhou.log.aliyuncs.com"
        );
        assert_eq!(
            Endpoint::for_region(&Region::parse("cn-hangzhou").unwrap(), true).to_string(),
            "https://cn-hangzhou-intranet.log.aliyuncs.com"
        );
        for (endpoint, region) in [
            ("cn-hangzhou.log.aliyuncs.com", Some("cn-hangzhou")),
            (
                "http://cn-shanghai-intranet.log.aliyuncs.com",
                Some("cn-shanghai"),
            ),
            (
                "ap-southeast-1-share.log.aliyuncs.com",
                Some("ap-southeast-1"),
            ),
            (
                "cn-hangzhou-acdr-ut-1.log.aliyuncs.com",
                Some("cn-hangzhou-acdr-ut-1"),
            ),
            (
                "cn-hangzhou-acdr-ut-1-vpc.sls.aliyuncs.com",
                Some("cn-hangzhou-acdr-ut-1"),
            ),
            ("log-global.aliyuncs.com", None),
            ("http://127.0.0.1:8080", None),
        ] {
            assert_eq!(ep(endpoint).region(), region, "{endpoint}");
        }
    }
}
