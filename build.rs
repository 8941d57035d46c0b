//! What `--version` says about the build that the compiler cannot tell the code: the target, and
//! the commit when building from a git checkout of this repository. Never fails the build: without
//! git or a checkout (a crates.io download) there is simply no commit.

use std::path::{Path, PathBuf};
use std::process::Command;

/// What `cargo package` adds to a crate; never in the repository.
const VCS_INFO: &str = ".cargo_vcs_info.json";

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let target = std::env::var("TARGET").unwrap_or_default();
    println!("cargo:rustc-env=SLS_RETRY_BUILD_TARGET={target}");

    let Some(dir) = std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from) else {
        return;
    };
    // Our own checkout only: a crate unpacked inside another repository (a vendored copy, the
    // verify build of `cargo package`) was not built from that repository's commit.
    if !dir.join(".git").exists() {
        // The verify build of `cargo package` shares the checkout's target directory and build
        // script outputs. Watching a file only the packaged crate has (relative paths are
        // checked against the package being built) makes the next build of the checkout run
        // this again instead of keeping the crate's commit-less answer.
        if dir.join(VCS_INFO).exists() {
            println!("cargo:rerun-if-changed={VCS_INFO}");
        }
        return;
    }
    let Some(commit) = git(&dir, &["rev-parse", "--short=12", "HEAD"]) else {
        return;
    };
    println!("cargo:rustc-env=SLS_RETRY_BUILD_COMMIT={commit}");
    for path in head_files(&dir) {
        println!("cargo:rerun-if-changed={}", path.display());
    }
}

/// The files that change when HEAD moves: HEAD (a checkout), the branch it names (a commit) or,
/// while the branch is packed, its folder (where the commit writes it), and the packed refs. Only
/// files that exist: cargo runs a build script again every time for one that does not.
fn head_files(dir: &Path) -> Vec<PathBuf> {
    let git_path = |name: &str| git(dir, &["rev-parse", "--git-path", name]).map(|p| dir.join(p));
    let mut files: Vec<PathBuf> = ["HEAD", "packed-refs"]
        .iter()
        .filter_map(|n| git_path(n))
        .collect();
    if let Some(branch) = git(dir, &["symbolic-ref", "-q", "HEAD"]).and_then(|b| git_path(&b)) {
        match branch.exists() {
            true => files.push(branch),
            false => files.extend(branch.parent().map(Path::to_path_buf)),
        }
    }
    files.retain(|f| f.exists());
    files
}

/// What `git args` prints in `dir`, trimmed; `None` if git is missing, fails or prints nothing.
fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (out.status.success() && !text.is_empty()).then_some(text)
}
