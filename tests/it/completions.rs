//! The checked-in completions and man page under `completions/` must match what `--generate`
//! prints; when the CLI changes, this fails and says how to regenerate them.

use std::path::Path;

use clap::ValueEnum;
use sls_retry::cli::Generate;

use crate::harness::{Home, run};

const BLESS: &str = "SLS_RETRY_BLESS";

fn generate(kind: &str) -> Vec<u8> {
    let r = run(Home::new().command().args(["--generate", kind]), None);
    assert_eq!(
        r.code, 0,
        "--generate {kind} needs no credentials or target"
    );
    assert!(r.stderr.is_empty());
    assert!(!r.stdout.is_empty());
    r.stdout.into_bytes()
}

#[test]
fn checked_in_completions_and_man_page_are_current() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("completions");
    let bless = std::env::var_os(BLESS).is_some();
    let mut stale = Vec::new();
    for kind in Generate::value_variants() {
        let name = kind.to_possible_value().unwrap().get_name().to_string();
        let path = dir.join(kind.file_name());
        let fresh = generate(&name);
        if std::fs::read(&path).ok().as_deref() == Some(&fresh[..]) {
            continue;
        }
        if bless {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &fresh).unwrap();
        } else {
            stale.push(format!(
                "  cargo run --quiet -- --generate {name} > completions/{}",
                kind.file_name()
            ));
        }
    }
    assert!(
        stale.is_empty(),
        "completions/ is stale; regenerate everything with\n  {BLESS}=1 cargo test --locked --test it completions\nor file by file:\n{}",
        stale.join("\n")
    );
}
