//! The `--save-failed` file: every task ID not accepted, one per line, ready to pipe back in.

use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use crate::ids::TaskId;

/// Write the IDs, one per line, so that the file appears whole or not at all.
pub fn write(path: &Path, ids: &[&TaskId]) -> io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".tmp-{}", std::process::id()));
    let tmp = PathBuf::from(tmp);
    let written = (|| {
        let mut file = io::BufWriter::new(std::fs::File::create(&tmp)?);
        for id in ids {
            writeln!(file, "{id}")?;
        }
        file.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_file_and_no_leftovers() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("left.txt");
        let (a, b) = (TaskId::parse("a").unwrap(), TaskId::parse("b").unwrap());
        write(&path, &[&a, &b]).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "a\nb\n");
        write(&path, &[]).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        assert!(write(&dir.path().join("no/such/dir"), &[&a]).is_err());
    }
}
