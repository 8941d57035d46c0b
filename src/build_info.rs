//! What this binary is and what it was built from, as `--version` says it: the version, the
//! commit (when built from a git checkout; `build.rs` finds it), the target and the TLS stack.

/// How connections are secured and whose certificates they trust.
pub const TLS_BACKEND: &str = "rustls (ring); trust: the OS store plus --ca-file";

/// The commit built, when it was built from a git checkout of this repository.
pub const COMMIT: Option<&str> = option_env!("SLS_RETRY_BUILD_COMMIT");

/// The target triple built for.
pub const TARGET: &str = env!("SLS_RETRY_BUILD_TARGET");

/// `--version` after the name: the version alone on the first line, as `-V` prints it, then one
/// `key: value` line per fact about the build.
pub fn long_version() -> String {
    let mut text = env!("CARGO_PKG_VERSION").to_string();
    if let Some(commit) = COMMIT {
        text.push_str(&format!("\ncommit: {commit}"));
    }
    text.push_str(&format!("\ntarget: {TARGET}\ntls: {TLS_BACKEND}"));
    text
}
