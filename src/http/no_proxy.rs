//! `NO_PROXY` as curl reads it: the hosts a request reaches directly although a proxy is set.
//! Matched against the host the request actually contacts (for SLS, `{project}.{endpoint host}`),
//! by its name as written: names are never looked up to compare them with addresses.

use std::net::IpAddr;

use anyhow::{Context, Result, bail};

/// A parsed `NO_PROXY` list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NoProxy {
    /// `*`: no request goes through a proxy.
    everything: bool,
    entries: Vec<Entry>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    host: Host,
    /// `:port`: only requests to that port.
    port: Option<u16>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Host {
    /// A name: itself and every name under it (`example.com` covers `a.b.example.com`).
    Domain(String),
    /// An address range (`10.0.0.0/8`, `fe80::/10`; a single address is a /32 or /128).
    Network { base: IpAddr, prefix: u8 },
}

impl NoProxy {
    /// Parse `list` (comma-separated, blanks around entries ignored, empty entries skipped).
    /// An entry that is neither a name, an address nor a range is an error naming it.
    pub fn parse(list: &str) -> Result<NoProxy> {
        let mut no_proxy = NoProxy::default();
        for raw in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            if raw == "*" {
                no_proxy.everything = true;
                continue;
            }
            let entry = Entry::parse(raw).with_context(|| {
                format!(
                    "NO_PROXY entry \"{}\" is not a host name, an IP address or a CIDR range \
                     (e.g. example.com, .example.com, 10.0.0.0/8, example.com:8080)",
                    raw.escape_debug()
                )
            })?;
            no_proxy.entries.push(entry);
        }
        Ok(no_proxy)
    }

    /// Does a request to `host` (a name, or an address with or without IPv6 brackets) on `port`
    /// go directly?
    pub fn matches(&self, host: &str, port: u16) -> bool {
        if self.everything {
            return true;
        }
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let address = host.parse::<IpAddr>().ok();
        let name = host.trim_end_matches('.').to_ascii_lowercase();
        self.entries.iter().any(|entry| {
            entry.port.is_none_or(|p| p == port)
                && match (&entry.host, address) {
                    (Host::Network { base, prefix }, Some(address)) => {
                        in_network(address, *base, *prefix)
                    }
                    (Host::Domain(domain), None) => {
                        name == *domain
                            || name
                                .strip_suffix(domain.as_str())
                                .is_some_and(|rest| rest.ends_with('.'))
                    }
                    _ => false,
                }
        })
    }
}

impl Entry {
    fn parse(raw: &str) -> Result<Entry> {
        let (host, port) = split_port(raw)?;
        if let Some((base, prefix)) = host.split_once('/') {
            let base: IpAddr = base.parse().context("not an address before the '/'")?;
            let max = if base.is_ipv4() { 32 } else { 128 };
            let prefix: u8 = (prefix.parse().ok())
                .filter(|p| *p <= max)
                .context("the prefix length after '/' is out of range")?;
            return Ok(Entry {
                host: Host::Network { base, prefix },
                port,
            });
        }
        if let Ok(address) = host.parse::<IpAddr>() {
            let prefix = if address.is_ipv4() { 32 } else { 128 };
            return Ok(Entry {
                host: Host::Network {
                    base: address,
                    prefix,
                },
                port,
            });
        }
        // `.example.com` and `*.example.com` mean what `example.com` means: it and below it.
        let domain = host
            .strip_prefix("*.")
            .or_else(|| host.strip_prefix('.'))
            .unwrap_or(host)
            .trim_end_matches('.')
            .to_ascii_lowercase();
        let valid = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_');
        if domain.is_empty() || !domain.chars().all(valid) {
            bail!("not a host name");
        }
        Ok(Entry {
            host: Host::Domain(domain),
            port,
        })
    }
}

/// `host:port`, `[v6]:port`, or the entry alone (a bare IPv6 address has colons of its own).
fn split_port(raw: &str) -> Result<(&str, Option<u16>)> {
    let port = |p: &str| {
        p.parse::<u16>()
            .context("the port after ':' is not a port number")
    };
    if let Some(rest) = raw.strip_prefix('[') {
        let (host, after) = rest.split_once(']').context("a '[' without its ']'")?;
        return match after.strip_prefix(':') {
            Some(p) => Ok((host, Some(port(p)?))),
            None if after.is_empty() => Ok((host, None)),
            None => bail!("text after ']'"),
        };
    }
    match raw.rsplit_once(':') {
        // More than one colon and no brackets: an IPv6 address (or range) alone.
        Some((host, _)) if host.contains(':') => Ok((raw, None)),
        Some((host, p)) => Ok((host, Some(port(p)?))),
        None => Ok((raw, None)),
    }
}

/// Is `address` within `base/prefix`? An IPv4 range also covers IPv4-mapped IPv6 addresses.
fn in_network(address: IpAddr, base: IpAddr, prefix: u8) -> bool {
    let address = match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
        v4 => v4,
    };
    match (address, base) {
        (IpAddr::V4(a), IpAddr::V4(b)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            u32::from(a) & mask == u32::from(b) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(b)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            u128::from(a) & mask == u128::from(b) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The whole rule table: (NO_PROXY, host contacted, port, goes direct).
    #[test]
    fn rule_table() {
        let sls = "my-project.cn-hangzhou.log.aliyuncs.com";
        for (list, host, port, direct) in [
            // A domain covers itself and everything below it, with or without a leading dot.
            ("cn-hangzhou.log.aliyuncs.com", sls, 443, true),
            (".cn-hangzhou.log.aliyuncs.com", sls, 443, true),
            ("*.cn-hangzhou.log.aliyuncs.com", sls, 443, true),
            ("aliyuncs.com", sls, 443, true),
            (
                "cn-hangzhou.log.aliyuncs.com",
                "cn-hangzhou.log.aliyuncs.com",
                443,
                true,
            ),
            (
                ".cn-hangzhou.log.aliyuncs.com",
                "cn-hangzhou.log.aliyuncs.com",
                443,
                true,
            ),
            // ...but not a name that merely ends with the same letters.
            (
                "hangzhou.log.aliyuncs.com",
                "cn-hangzhou.log.aliyuncs.com",
                443,
                false,
            ),
            ("cn-shanghai.log.aliyuncs.com", sls, 443, false),
            ("log.aliyuncs.com.evil.example", sls, 443, false),
            // Case and a trailing dot do not matter.
            ("CN-Hangzhou.LOG.aliyuncs.com", sls, 443, true),
            (
                "cn-hangzhou.log.aliyuncs.com.",
                "MY-PROJECT.cn-hangzhou.log.aliyuncs.com.",
                443,
                true,
            ),
            // `*` alone: everything.
            ("*", sls, 443, true),
            ("*", "10.1.2.3", 80, true),
            // Lists: blanks and empty entries are fine.
            (" example.com , ,aliyuncs.com ", sls, 443, true),
            ("example.com,example.org", sls, 443, false),
            // Ports.
            ("cn-hangzhou.log.aliyuncs.com:443", sls, 443, true),
            ("cn-hangzhou.log.aliyuncs.com:80", sls, 443, false),
            ("10.0.0.0/8:8080", "10.9.9.9", 8080, true),
            ("10.0.0.0/8:8080", "10.9.9.9", 80, false),
            ("[::1]:8080", "::1", 8080, true),
            ("[::1]:8080", "[::1]", 80, false),
            // Addresses and ranges, matched only against addresses.
            ("10.0.0.0/8", "10.200.3.4", 443, true),
            ("10.0.0.0/8", "11.0.0.1", 443, false),
            ("192.168.1.0/24", "192.168.1.255", 443, true),
            ("192.168.1.0/24", "192.168.2.1", 443, false),
            ("127.0.0.1", "127.0.0.1", 80, true),
            ("127.0.0.1", "127.0.0.2", 80, false),
            ("0.0.0.0/0", "203.0.113.7", 80, true),
            ("10.0.0.1/32", "10.0.0.1", 80, true),
            ("fe80::/10", "fe80::1", 80, true),
            ("fe80::/10", "[fe80::1]", 80, true),
            ("fe80::/10", "fe00::1", 80, false),
            ("::1", "[::1]", 80, true),
            ("10.0.0.0/8", "::ffff:10.1.1.1", 80, true),
            // A range never matches a name, nor a name an address: nothing is looked up.
            ("127.0.0.0/8", "localhost", 80, false),
            ("localhost", "127.0.0.1", 80, false),
            ("localhost", "localhost", 80, true),
            ("10.0.0.0/8", "10.example.com", 80, false),
            ("", sls, 443, false),
        ] {
            let no_proxy = NoProxy::parse(list).unwrap();
            assert_eq!(
                no_proxy.matches(host, port),
                direct,
                "NO_PROXY={list:?} for {host}:{port}"
            );
        }
    }

    #[test]
    fn an_entry_that_is_no_host_is_an_error_naming_it() {
        for list in [
            "example.com:http",
            "example.com:70000",
            "10.0.0.0/33",
            "10.0.0.0/x",
            "::/129",
            "example.com/8",
            "exa mple.com",
            "http://example.com",
            "[::1",
            "[::1]x",
            ".",
        ] {
            let err = format!("{:#}", NoProxy::parse(list).unwrap_err());
            assert!(err.starts_with("NO_PROXY entry \""), "{list}: {err}");
            assert!(!err.contains('\n'), "{list}: {err}");
        }
    }
}
