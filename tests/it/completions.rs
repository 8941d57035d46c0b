//! The checked-in completions and man page under `completions/` must match what `--generate`
//! prints; when the CLI changes, this fails and says how to regenerate them.

use std::path::Path;

use clap::ValueEnum;
use sls_retry::cli::Generate;
use sls_retry::cli::environment::{FILES, VARIABLES};
use sls_retry::exit::Exit;

use crate::harness::{Home, assert_contains, run};

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

/// The text of a man page section: from its `.SH` line to the next.
fn man_section<'a>(page: &'a str, heading: &str) -> &'a str {
    let start = page
        .find(&format!(".SH {heading}\n"))
        .unwrap_or_else(|| panic!("no {heading} section"));
    let body = &page[start..];
    let end = body[1..].find("\n.SH ").map_or(body.len(), |i| i + 1);
    &body[..end]
}

/// The text of a help section: from its heading line to the blank line after it.
fn help_section<'a>(help: &'a str, heading: &str) -> &'a str {
    let start = help
        .find(&format!("\n{heading}:\n"))
        .unwrap_or_else(|| panic!("no {heading}: in\n{help}"));
    let body = &help[start + 1..];
    &body[..body.find("\n\n").unwrap_or(body.len())]
}

/// The man page's ENVIRONMENT, FILES and EXIT STATUS sections and `--help` come from the same
/// tables: each names every variable, file and exit code; `-h` stays short and points there.
#[test]
fn help_and_man_page_name_every_variable_file_and_exit_status() {
    let page = String::from_utf8(generate("man")).unwrap();
    // As a reader sees the page: roff's escaped hyphens and apostrophes as they print.
    let page = page.replace("\\-", "-").replace("\\*(Aq", "'");
    let long = run(Home::new().command().arg("--help"), None);
    assert_eq!(long.code, 0);
    let short = run(Home::new().command().arg("-h"), None);
    assert_eq!(short.code, 0);

    let variables = VARIABLES.iter().flat_map(|v| v.names.iter().copied());
    let files = FILES.iter().map(|f| f.name);
    let codes: Vec<String> = Exit::ALL.iter().map(|&e| (e as u8).to_string()).collect();
    for (man, help, names) in [
        ("ENVIRONMENT", "Environment", variables.collect::<Vec<_>>()),
        ("FILES", "Files", files.collect()),
    ] {
        let (man, help) = (man_section(&page, man), help_section(&long.stdout, help));
        for name in names {
            assert_contains(man, name);
            assert_contains(help, name);
        }
    }
    let (man, help) = (
        man_section(&page, "\"EXIT STATUS\""),
        help_section(&long.stdout, "Exit status"),
    );
    for (code, exit) in codes.iter().zip(Exit::ALL) {
        assert_contains(man, &format!(".TP\n\\fB{code}\\fR\n{}", exit.meaning()));
        assert_contains(help, &format!("\n  {code:<8}"));
        assert_contains(
            help_section(&short.stdout, "Exit status"),
            &format!("\n  {code:<8}"),
        );
    }
    assert!(!short.stdout.contains("HTTPS_PROXY"), "{}", short.stdout);
    assert_contains(
        &short.stdout,
        "The environment variables and files read: sls-retry --help.",
    );
}
