//! Which value of a setting wins, and the record of where each came from, for `-v`. Every setting
//! goes through `first`: the candidates in precedence order (flag, environment, profile, ...), the
//! first that has a value wins, and its source is recorded. Secrets never enter the record.

use std::fmt;
use std::path::Path;

/// Where a setting's value came from, as `-v` says it: `flag`, `environment
/// (ALIBABA_CLOUD_REGION_ID)`, `profile "prod" (/home/ops/.config/sls-retry/config.toml)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source(String);

impl Source {
    pub fn flag() -> Source {
        Source("flag".into())
    }

    pub fn env(name: &str) -> Source {
        Source(format!("environment ({name})"))
    }

    /// A profile of our profile file.
    pub fn profile(name: &str, file: &Path) -> Source {
        Source(format!("profile \"{name}\" ({})", file.display()))
    }

    /// A profile of the `aliyun` CLI's config.
    pub fn aliyun_profile(name: &str, file: &Path) -> Source {
        Source(format!(
            "aliyun CLI profile \"{}\" ({})",
            crate::untrusted::escape(name),
            file.display()
        ))
    }

    /// Worked out rather than given: `what` says from what.
    pub fn derived(what: &str) -> Source {
        Source(what.into())
    }

    /// This source, with a note on how the value was made from what it gave.
    pub fn noting(&self, note: &str) -> Source {
        Source(format!("{} ({note})", self.0))
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `(setting, source)` pairs in the order settings were resolved.
#[derive(Debug, Default, Clone)]
pub struct Sources(Vec<(&'static str, String)>);

impl Sources {
    pub fn record(&mut self, setting: &'static str, source: impl fmt::Display) {
        self.0.push((setting, source.to_string()));
    }

    /// The source recorded for `setting`, if any.
    pub fn of(&self, setting: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(s, _)| *s == setting)
            .map(|(_, source)| source.as_str())
    }

    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &str)> {
        self.0.iter().map(|(s, source)| (*s, source.as_str()))
    }
}

/// The first candidate with a value, in precedence order; its source is recorded for `setting`.
pub fn first<T>(
    setting: &'static str,
    candidates: impl IntoIterator<Item = (Option<T>, Source)>,
    sources: &mut Sources,
) -> Option<T> {
    let (value, source) = candidates
        .into_iter()
        .find_map(|(value, source)| Some((value?, source)))?;
    sources.record(setting, source);
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_value_wins_and_says_where_it_came_from() {
        let mut sources = Sources::default();
        let profile = Source::profile("prod", Path::new("/p.toml"));
        let got = first(
            "timeout",
            [
                (None, Source::flag()),
                (Some(7), profile.clone()),
                (Some(30), Source::env("X")),
            ],
            &mut sources,
        );
        assert_eq!(got, Some(7));
        assert_eq!(sources.of("timeout"), Some("profile \"prod\" (/p.toml)"));

        let none: Option<u32> = first("retries", [(None, Source::flag())], &mut sources);
        assert_eq!(none, None);
        assert_eq!(
            sources.of("retries"),
            None,
            "nothing recorded without a value"
        );
        assert_eq!(
            profile.noting("derived from its region").to_string(),
            "profile \"prod\" (/p.toml) (derived from its region)"
        );
    }
}
