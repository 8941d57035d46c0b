//! The process's surroundings as resolution sees them: environment variables (looked up through a
//! function, so tests pass their own) and the signals a slow step must watch for; and the names of
//! the variables configuration reads. The credential variables are the credential sources' own.

use crate::interrupt::Interrupt;

/// `$SLS_RETRY_PROFILE`: the profile to use when `--profile` is not given.
pub const ENV_PROFILE: &str = "SLS_RETRY_PROFILE";
/// `$SLS_RETRY_CONFIG`: the profile file when `--config` is not given.
pub const ENV_CONFIG: &str = "SLS_RETRY_CONFIG";
/// The region, in the spellings every SDK and the `aliyun` CLI read, in their order.
pub const ENV_REGION: [&str; 3] = [
    "ALIBABA_CLOUD_REGION_ID",
    "ALIBABACLOUD_REGION_ID",
    "ALICLOUD_REGION_ID",
];
/// The `aliyun` CLI's own profile selection, in its order; it picks the CLI's current profile.
pub const ENV_ALIYUN_PROFILE: [&str; 3] = [
    "ALIBABACLOUD_PROFILE",
    "ALIBABA_CLOUD_PROFILE",
    "ALICLOUD_PROFILE",
];

/// The environment as it was, for a provider that resolves more of its source later (the `aliyun`
/// CLI's External mode: what its command prints may name any mode): the variables `names` and
/// the signal watch, owned.
pub struct Captured {
    lookup: Box<Lookup>,
    interrupt: Interrupt,
}

/// Looks an environment variable up.
type Lookup = dyn Fn(&str) -> Option<String> + Send + Sync;

impl Captured {
    pub fn env(&self) -> Env<'_> {
        Env::new(&*self.lookup, &self.interrupt)
    }
}

/// Environment lookups (empty values count as unset) and the run's signal watch.
pub struct Env<'a> {
    lookup: &'a dyn Fn(&str) -> Option<String>,
    pub interrupt: &'a Interrupt,
}

impl<'a> Env<'a> {
    pub fn new(lookup: &'a dyn Fn(&str) -> Option<String>, interrupt: &'a Interrupt) -> Env<'a> {
        Env { lookup, interrupt }
    }

    /// The variable's value, trimmed; `None` when unset or empty.
    pub fn get(&self, name: &str) -> Option<String> {
        (self.lookup)(name)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    }

    /// The first of `names` that is set, with its name.
    pub fn first(&self, names: &[&'static str]) -> Option<(&'static str, String)> {
        names.iter().find_map(|n| self.get(n).map(|v| (*n, v)))
    }

    /// The variables `names` as they are now, owned.
    pub fn capture(&self, names: &[&'static str]) -> Captured {
        let vars: std::collections::HashMap<&'static str, String> = (names.iter())
            .filter_map(|name| Some((*name, self.get(name)?)))
            .collect();
        Captured {
            lookup: Box::new(move |name| vars.get(name).cloned()),
            interrupt: self.interrupt.clone(),
        }
    }

    /// Is the variable set to `true` (any case) or `1`, as the credentials libraries read flags?
    pub fn is_true(&self, name: &str) -> bool {
        self.get(name)
            .is_some_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
    }
}
