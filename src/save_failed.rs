//! The `--save-failed` file: every task ID not accepted, one per line, ready to pipe back in.
//! This module owns the file from end to end: the check before anything is sent, the write at
//! the end, and the fallback to stderr when that write fails, so that no ID is ever lost.
//!
//! What the path names decides how it is written, the same way at check and at write time:
//! a new path or a regular file is replaced atomically; a symlink is followed and its target
//! written the same way (the link stays); a FIFO or character device is opened and written in
//! place, never replaced; anything else is refused.

use std::fs::{self, OpenOptions, Permissions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use tempfile::NamedTempFile;

use crate::ids::TaskId;

/// Symlinks followed before giving up, as the kernel does (`ELOOP`).
const MAX_LINKS: usize = 40;

/// How the file is written, from what the path names now.
#[derive(Debug, PartialEq, Eq)]
enum Plan {
    /// A new file or a regular file, at this real path (symlinks followed): a temporary file
    /// in the same directory is renamed over it, so it appears whole or not at all.
    Replace(PathBuf),
    /// A FIFO, a character device (`/dev/null`, a terminal), or the run's own stdout or stderr
    /// (`/dev/stdout` while stdout is a file): opened and appended to, never replaced.
    Stream,
}

/// Before anything is sent: can the path be written as `write` will write it? A mistake here
/// costs nothing; found at the end, after the batches went out, it would.
pub fn check(path: &Path) -> Result<()> {
    let shown = path.display();
    match plan(path) {
        Err(err) => bail!("--save-failed {shown}: {err}"),
        Ok(Plan::Stream) => {
            // Opening a FIFO to find out would wait for its reader, or be seen by it as the
            // end of its input: ask for permission only.
            if let Err(err) = may_write(path) {
                bail!("--save-failed {shown}: {err}; choose a file you may write")
            }
        }
        Ok(Plan::Replace(real)) => {
            let dir = directory_of(&real);
            if !dir.is_dir() {
                if dir.exists() {
                    bail!(
                        "--save-failed {shown}: {} is not a directory",
                        dir.display()
                    )
                }
                bail!(
                    "--save-failed {shown}: directory {} does not exist",
                    dir.display()
                )
            }
            if real.exists()
                && let Err(err) = may_write(&real)
            {
                bail!("--save-failed {shown}: {err}; make it writable or choose another file")
            }
            // Creating the temporary file is what the write needs (permission, a writable
            // file system, one that allows new files at all, as /proc and /sys do not), so
            // that is the test.
            if let Err(err) = temporary_in(dir, None) {
                bail!(
                    "--save-failed {shown}: cannot create a file in {}: {err}; choose a writable directory",
                    dir.display()
                )
            }
        }
    }
    Ok(())
}

/// Write the IDs, one per line, as the path asks (see the module's doc).
pub fn write(path: &Path, ids: &[&TaskId]) -> io::Result<()> {
    match plan(path)? {
        Plan::Stream => {
            let file = OpenOptions::new().append(true).open(path)?;
            write_ids(file, ids).map(drop)
        }
        Plan::Replace(real) => replace(&real, ids),
    }
}

/// Write the file; if that fails, say why on stderr and list the IDs there instead, one per
/// line after the error. Returns whether the file was written.
pub fn save(path: &Path, ids: &[&TaskId]) -> bool {
    let Err(err) = write(path, ids) else {
        return true;
    };
    let mut stderr = io::stderr().lock();
    // Nothing is left to tell the user if stderr fails too.
    let _ = crate::diag::suspended(|| spill(&mut stderr, path, &err, ids));
    false
}

/// The error line, then each ID on a line of its own (escaped, as everything printed for
/// humans is).
fn spill(out: &mut impl Write, path: &Path, err: &io::Error, ids: &[&TaskId]) -> io::Result<()> {
    let what = match ids.len() {
        0 => "no task id is missing from it: every one was accepted".to_string(),
        1 => "the 1 task id not accepted follows".to_string(),
        n => format!("the {n} task ids not accepted follow, one per line"),
    };
    writeln!(
        out,
        "sls-retry: error: cannot write --save-failed {}: {err}; {what}",
        path.display()
    )?;
    for id in ids {
        writeln!(out, "{}", crate::untrusted::escape(id.as_str()))?;
    }
    out.flush()
}

/// Decide how `path` is written, following symlinks.
fn plan(path: &Path) -> io::Result<Plan> {
    if path.as_os_str().as_encoded_bytes().ends_with(b"/") {
        return Err(io::Error::other("it ends with '/'; give a file name"));
    }
    // `metadata` follows every link, the kernel's own `/proc/self/fd/N` ones included, so a
    // `/dev/stdout` that is a pipe shows as the FIFO it is.
    match fs::metadata(path) {
        Ok(meta) if meta.is_dir() => Err(io::Error::other("it is a directory; give a file name")),
        Ok(meta) if meta.is_file() && !is_own_output(&meta) => Ok(Plan::Replace(resolve(path)?)),
        Ok(meta) if meta.is_file() || is_stream(&meta) => Ok(Plan::Stream),
        Ok(_) => Err(io::Error::other(
            "it is neither a regular file, a FIFO nor a character device",
        )),
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(Plan::Replace(resolve(path)?)),
        Err(err) if err.kind() == io::ErrorKind::NotADirectory => {
            let dir = directory_of(path);
            Err(io::Error::other(format!(
                "{} is not a directory",
                dir.display()
            )))
        }
        Err(err) => Err(err),
    }
}

/// Where `path` really is once the symlinks naming it are followed (a dangling one included:
/// its target is the file to create), so that a link is written through and stays a link.
fn resolve(path: &Path) -> io::Result<PathBuf> {
    let mut path = path.to_path_buf();
    for _ in 0..MAX_LINKS {
        match fs::symlink_metadata(&path) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let target = fs::read_link(&path)?;
                // A relative target is relative to the link's directory; `join` keeps an
                // absolute one as it is.
                path = directory_of(&path).join(target);
            }
            Ok(_) => return Ok(path),
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(path),
            Err(err) => return Err(err),
        }
    }
    Err(io::Error::other("too many levels of symbolic links"))
}

/// Replace `real` with a file holding the IDs: written whole to a temporary file beside it,
/// synced, then renamed over it.
fn replace(real: &Path, ids: &[&TaskId]) -> io::Result<()> {
    // The new file keeps the old one's permissions; a new one gets what `>` would give it.
    let keep = fs::metadata(real).ok().map(|m| m.permissions());
    let mut tmp = temporary_in(directory_of(real), keep)?;
    write_ids(tmp.as_file_mut(), ids)?.sync_all()?;
    // On any error before or here the temporary file is removed when `tmp` is dropped.
    tmp.persist(real).map_err(|e| e.error)?;
    Ok(())
}

/// A new, empty file in `dir` with an unpredictable name (`.sls-retry.XXXXXX.tmp`: a fixed
/// part whatever the length of the final name, so it is never too long), removed again unless
/// persisted.
fn temporary_in(dir: &Path, permissions: Option<Permissions>) -> io::Result<NamedTempFile> {
    let tmp = tempfile::Builder::new()
        .prefix(".sls-retry.")
        .suffix(".tmp")
        .make_in(dir, |path| {
            let mut options = OpenOptions::new();
            // O_CREAT | O_EXCL: a link planted at the name is never followed; the name is
            // drawn again if it exists.
            options.write(true).create_new(true);
            // Read-write for all, narrowed by the umask: what `File::create` and `>` give.
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o666);
            options.open(path)
        })?;
    if let Some(permissions) = permissions {
        // Set on the open file, where the umask does not narrow them.
        tmp.as_file().set_permissions(permissions)?;
    }
    Ok(tmp)
}

/// One ID per line through a buffer, flushed: the error of the last write is not lost.
fn write_ids<W: Write>(out: W, ids: &[&TaskId]) -> io::Result<W> {
    let mut out = BufWriter::new(out);
    for id in ids {
        writeln!(out, "{id}")?;
    }
    out.into_inner().map_err(|e| e.into_error())
}

/// The directory holding `path` (`.` for a bare file name).
fn directory_of(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

#[cfg(unix)]
fn is_stream(meta: &fs::Metadata) -> bool {
    use std::os::unix::fs::FileTypeExt;
    meta.file_type().is_fifo() || meta.file_type().is_char_device()
}

#[cfg(not(unix))]
fn is_stream(_: &fs::Metadata) -> bool {
    false
}

/// Is this file the run's own stdout or stderr? Then it is a stream the report is written
/// to: replacing it would leave the report in a file no longer there.
#[cfg(unix)]
fn is_own_output(meta: &fs::Metadata) -> bool {
    use std::os::fd::AsFd;
    use std::os::unix::fs::MetadataExt;
    let same = |fd: std::os::fd::BorrowedFd<'_>| {
        fd.try_clone_to_owned()
            .and_then(|fd| fs::File::from(fd).metadata())
            .is_ok_and(|own| own.dev() == meta.dev() && own.ino() == meta.ino())
    };
    same(io::stdout().as_fd()) || same(io::stderr().as_fd())
}

#[cfg(not(unix))]
fn is_own_output(_: &fs::Metadata) -> bool {
    false
}

/// May this process write `path`? `access(2)`, which answers without opening it.
#[cfg(unix)]
fn may_write(path: &Path) -> io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let path = std::ffi::CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::other("the path holds a NUL byte"))?;
    // SAFETY: `path` is a valid NUL-terminated string that outlives the call.
    if unsafe { libc::access(path.as_ptr(), libc::W_OK) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(not(unix))]
fn may_write(path: &Path) -> io::Result<()> {
    if fs::metadata(path)?.permissions().readonly() {
        Err(io::ErrorKind::PermissionDenied.into())
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(names: &[&str]) -> Vec<TaskId> {
        names.iter().map(|n| TaskId::parse(n).unwrap()).collect()
    }

    #[test]
    fn whole_file_and_no_leftovers() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("left.txt");
        let ab = ids(&["a", "b"]);
        write(&path, &ab.iter().collect::<Vec<_>>()).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "a\nb\n");
        write(&path, &[]).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
        assert!(write(&dir.path().join("no/such/dir"), &[&ab[0]]).is_err());
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn a_link_at_the_old_temporary_name_is_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("left.txt");
        let victim = dir.path().join("victim");
        fs::write(&victim, "precious").unwrap();
        let planted = dir
            .path()
            .join(format!("left.txt.tmp-{}", std::process::id()));
        std::os::unix::fs::symlink(&victim, &planted).unwrap();
        write(&path, &[&ids(&["a"])[0]]).unwrap();
        assert_eq!(fs::read_to_string(&victim).unwrap(), "precious");
        assert_eq!(fs::read_to_string(&path).unwrap(), "a\n");
        assert!(fs::symlink_metadata(&path).unwrap().is_file());
    }

    #[cfg(unix)]
    #[test]
    fn links_resolve_to_their_target_and_devices_are_streams() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink("sub/target", &link).unwrap();
        assert_eq!(
            plan(&link).unwrap(),
            Plan::Replace(dir.path().join("sub/target"))
        );
        let to_null = dir.path().join("null");
        std::os::unix::fs::symlink("/dev/null", &to_null).unwrap();
        assert_eq!(plan(&to_null).unwrap(), Plan::Stream);
        let looped = dir.path().join("loop");
        std::os::unix::fs::symlink("loop", &looped).unwrap();
        assert!(plan(&looped).is_err());
        assert!(plan(&dir.path().join("x/")).is_err());
        assert!(plan(dir.path()).is_err());
    }

    #[test]
    fn the_ids_follow_the_error_when_the_file_cannot_be_written() {
        let err = io::Error::other("No space left on device");
        let path = Path::new("left.txt");
        let mut out = Vec::new();
        let two = ids(&["a", "b\u{202e}c"]);
        spill(&mut out, path, &err, &two.iter().collect::<Vec<_>>()).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "sls-retry: error: cannot write --save-failed left.txt: No space left on device; \
             the 2 task ids not accepted follow, one per line\na\nb\\u{202e}c\n"
        );
        let mut out = Vec::new();
        spill(&mut out, path, &err, &[]).unwrap();
        assert!(
            String::from_utf8(out)
                .unwrap()
                .ends_with("no task id is missing from it: every one was accepted\n")
        );
    }
}
