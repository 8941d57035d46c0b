//! The names a request is built from, parsed once into types the way `TaskId` is: a project
//! (a host-name label), a logstore or shipper (a path segment), a region (a host-name part and
//! the v4 scope). Each refuses only what could not be sent; the service's own naming rules are
//! its to enforce (it answers `ProjectNotExist`, `LogStoreNotExist`, ...).

use std::fmt;

/// Longest logstore or shipper name sent; far beyond any the service gives out, and it keeps the
/// request line sane.
pub const MAX_NAME_BYTES: usize = 1024;

/// An SLS project: the first label of the host name (`{project}.{endpoint}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project(String);

/// A logstore or shipper name: a segment of the request path, sent as it is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ResourceName(String);

/// A region id, e.g. `cn-hangzhou`: part of a host name and of the v4 credential scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Region(String);

impl Project {
    /// 1-63 ASCII letters, digits and '-', not starting or ending with '-': anything else could
    /// not be a host-name label. Lower case and a minimum length are the service's rules.
    pub fn parse(name: &str) -> Result<Project, String> {
        let ok = (1..=63).contains(&name.len())
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !name.starts_with('-')
            && !name.ends_with('-');
        if !ok {
            return Err(format!(
                "invalid project name \"{}\": it becomes part of the host name, so use 1-63 \
                 letters, digits and '-', not starting or ending with '-'",
                crate::untrusted::escape(name)
            ));
        }
        Ok(Project(name.to_string()))
    }
}

impl ResourceName {
    /// Refused: what would change the path's meaning ('/', '?', '#', '%', the names `.` and
    /// `..`), what a request line cannot carry unencoded (whitespace, control characters, '<',
    /// '>', '`'), and invisible or reordering characters that would make an error message lie.
    /// `what` (`logstore`, `shipper`) names it in the error.
    pub fn parse(what: &str, name: &str) -> Result<ResourceName, String> {
        let refused = |c: char| {
            c.is_whitespace()
                || crate::untrusted::is_hazard(c)
                || matches!(c, '/' | '?' | '#' | '%' | '<' | '>' | '`')
        };
        let ok = name.len() <= MAX_NAME_BYTES
            && !name.chars().any(refused)
            && name != "."
            && name != "..";
        if !ok {
            return Err(format!(
                "invalid {what} name \"{}\": it goes into the request path, so it cannot hold \
                 whitespace, control characters or any of / ? # % < > `, nor be . or .. (at most \
                 {MAX_NAME_BYTES} bytes)",
                crate::untrusted::escape(name)
            ));
        }
        Ok(ResourceName(name.to_string()))
    }
}

impl Region {
    /// 1-63 lower-case letters, digits and '-'.
    pub fn parse(region: &str) -> Result<Region, String> {
        let ok = !region.is_empty()
            && region.len() <= 63
            && region
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !ok {
            return Err(format!(
                "invalid region \"{}\": use the region id, e.g. cn-hangzhou",
                crate::untrusted::escape(region)
            ));
        }
        Ok(Region(region.to_string()))
    }

    /// The official SDKs sign requests to these regions with v4 on their own.
    pub fn wants_v4(&self) -> bool {
        self.0.contains("-acdr-ut-")
    }
}

/// One shipper of the project: its logstore and its name. Shared by the batches and tasks of it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Shipper {
    pub logstore: ResourceName,
    pub name: ResourceName,
}

/// `logstore/shipper`, as reports name it.
impl fmt::Display for Shipper {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.logstore, self.name)
    }
}

macro_rules! text {
    ($($name:ident),*) => {$(
        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    )*};
}
text!(Project, ResourceName, Region);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_service_may_judge_are_accepted() {
        for project in ["p", "P", "My-Project-1", &"p".repeat(63)] {
            assert!(Project::parse(project).is_ok(), "{project}");
        }
        for name in [
            "l",
            "logs.v2_x",
            "oss~shipper",
            "日志",
            "a:b@c+d=e!$&'()*,;",
            "a\"b",
        ] {
            assert!(ResourceName::parse("logstore", name).is_ok(), "{name}");
        }
        assert!(Region::parse("cn-shanghai-acdr-ut-1").unwrap().wants_v4());
        assert!(!Region::parse("cn-hangzhou").unwrap().wants_v4());
    }

    #[test]
    fn names_that_would_break_the_host_or_the_path_are_refused() {
        for project in ["", "-p", "p-", "Bad_Project", "a.b", &"p".repeat(64)] {
            let err = Project::parse(project).unwrap_err();
            assert!(err.starts_with("invalid project name"), "{err}");
        }
        for name in [
            "a/b?c",
            "..",
            ".",
            "a b",
            "a#b",
            "a%2F",
            "a\u{202e}b",
            &"x".repeat(1025),
        ] {
            let err = ResourceName::parse("shipper", name).unwrap_err();
            assert!(err.starts_with("invalid shipper name"), "{err}");
            assert!(!err.contains('\u{202e}'), "{err}");
        }
        for region in ["", "CN_bad", "cn hangzhou"] {
            assert!(
                Region::parse(region)
                    .unwrap_err()
                    .contains("invalid region")
            );
        }
    }
}
