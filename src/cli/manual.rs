//! The manual beyond the options: examples, where credentials come from, the environment, the
//! files and the exit status. Written once and rendered twice, as the text after the options in
//! `-h`/`--help` and as sections of the man page, so that the two cannot say different things.

use std::io::{self, Write};

use clap_mangen::Man;
use clap_mangen::roff::{Inline, Roff, bold, italic, roman};

use super::environment::{FILES, VARIABLES};
use crate::exit::Exit;

const EXAMPLES: &[&str] = &[
    "sls-retry -e cn-hangzhou.log.aliyuncs.com -p my-project -l my-logstore -s my-shipper ID1 ID2",
    "cat failed-ids.txt | sls-retry -e cn-hangzhou.log.aliyuncs.com -p P -l L -s S",
    "sls-retry --profile prod --failed --since 2h",
    "sls-retry --profile prod --list --status all --json",
    "sls-retry ... --json < ids.json | jq -c 'select(.type == \"batch\" and .status != \"ok\")'",
];

/// Where credentials come from, in the order the chain tries them.
const CREDENTIALS: &str = "a named profile (--profile), else ALIBABA_CLOUD_ACCESS_KEY_ID, \
    ALIBABA_CLOUD_ACCESS_KEY_SECRET and ALIBABA_CLOUD_SECURITY_TOKEN (STS), else RRSA \
    (ALIBABA_CLOUD_ROLE_ARN, ALIBABA_CLOUD_OIDC_PROVIDER_ARN, ALIBABA_CLOUD_OIDC_TOKEN_FILE), else \
    ALIBABA_CLOUD_CREDENTIALS_URI, else the [default] profile of the profile file, else the aliyun \
    CLI's current profile (~/.aliyun/config.json), else the credentials file \
    (~/.alibabacloud/credentials), else the ECS instance's RAM role. Secrets are never accepted as \
    flags; -v names the source of every setting.";

/// What `-h` says instead of the environment and the files.
const SEE_LONG_HELP: &str = "The environment variables and files read: sls-retry --help.";

/// The widest the help text is wrapped to, as wide terminals get it.
const MAX_WIDTH: usize = 100;
/// Where an item's meaning starts in the help text, as clap indents an option's long help.
const INDENT: usize = 10;

/// A heading and its items.
struct List {
    heading: &'static str,
    items: Vec<Item>,
    /// How the man page sets the tags: bold names, italic files.
    font: fn(String) -> Inline,
}

/// One entry of a list: what it is (a variable's spellings, a file, a code) and what it means.
struct Item {
    tags: Vec<String>,
    meaning: &'static str,
}

fn environment() -> List {
    List {
        heading: "Environment",
        items: (VARIABLES.iter())
            .map(|v| Item {
                tags: v.names.iter().map(|n| n.to_string()).collect(),
                meaning: v.meaning,
            })
            .collect(),
        font: bold,
    }
}

fn files() -> List {
    List {
        heading: "Files",
        items: (FILES.iter())
            .map(|f| Item {
                tags: vec![f.name.to_string()],
                meaning: f.meaning,
            })
            .collect(),
        font: italic,
    }
}

fn exit_status() -> List {
    List {
        heading: "Exit status",
        items: (Exit::ALL.iter())
            .map(|&code| Item {
                tags: vec![(code as u8).to_string()],
                meaning: code.meaning(),
            })
            .collect(),
        font: bold,
    }
}

/// The text after the options in `-h`.
pub fn short_help() -> String {
    let mut text = help_text(&[exit_status()], terminal_width());
    text.push_str("\n\n");
    text.push_str(SEE_LONG_HELP);
    text
}

/// The text after the options in `--help`.
pub fn long_help() -> String {
    help_text(&[environment(), files(), exit_status()], terminal_width())
}

/// The width clap wraps the help to, at most `MAX_WIDTH`.
fn terminal_width() -> usize {
    terminal_size::terminal_size()
        .map_or(MAX_WIDTH, |(width, _)| usize::from(width.0).min(MAX_WIDTH))
}

fn help_text(lists: &[List], width: usize) -> String {
    let mut out = String::from("Examples:\n");
    for example in EXAMPLES {
        out.push_str(&format!("  {example}\n"));
    }
    out.push_str("\nCredentials: ");
    wrap(&mut out, CREDENTIALS, 0, width);
    for list in lists {
        out.push_str(&format!("\n\n{}:", list.heading));
        // Short tags (the exit codes) share their meaning's first line, when all of them are.
        let inline = (list.items.iter()).all(|i| 2 + i.tags.join(", ").len() < INDENT);
        for item in &list.items {
            let tags = item.tags.join(", ");
            out.push_str("\n  ");
            if inline {
                out.push_str(&format!("{tags:<width$}", width = INDENT - 2));
            } else {
                wrap(&mut out, &tags, 2, width);
                out.push('\n');
                out.push_str(&" ".repeat(INDENT));
            }
            wrap(&mut out, item.meaning, INDENT, width);
        }
    }
    out
}

/// Appends `text`'s words to `out`, in lines of at most `width` columns (a longer word alone on
/// its line); lines after the current one start with `indent` spaces.
fn wrap(out: &mut String, text: &str, indent: usize, width: usize) {
    let mut column = out.rsplit('\n').next().unwrap_or("").chars().count();
    let mut first_on_line = true;
    for word in text.split_whitespace() {
        let length = word.chars().count();
        if !first_on_line && column + 1 + length > width {
            out.push('\n');
            out.push_str(&" ".repeat(indent));
            column = indent;
        } else if !first_on_line {
            out.push(' ');
            column += 1;
        }
        out.push_str(word);
        column += length;
        first_on_line = false;
    }
}

/// The man page: clap's sections for the command and its options, then the manual's.
pub fn man(cmd: clap::Command, out: &mut dyn Write) -> io::Result<()> {
    // The long version names the build (its commit); the page must be the same for every build.
    let man = Man::new(cmd.long_version(None));
    let mut page = Vec::new();
    man.render_title(&mut page)?;
    man.render_name_section(&mut page)?;
    man.render_synopsis_section(&mut page)?;
    man.render_description_section(&mut page)?;
    man.render_options_section(&mut page)?;
    man_sections().to_writer(&mut page)?;
    man.render_version_section(&mut page)?;
    // Each part opens with the same preamble (roff's apostrophe string); once is enough.
    let preamble = Roff::new().render();
    let page = String::from_utf8_lossy(&page).replace(&preamble, "");
    out.write_all(preamble.as_bytes())?;
    out.write_all(page.as_bytes())
}

fn man_sections() -> Roff {
    let mut roff = Roff::new();
    // Variable names and paths are copied from here: never hyphenated, no stretched spaces.
    roff.control("nh", []).control("ad", ["l"]);
    roff.control("SH", ["CREDENTIALS"]);
    let mut credentials = CREDENTIALS.to_string();
    credentials[..1].make_ascii_uppercase();
    roff.text([roman(credentials)]);
    for list in [exit_status(), environment(), files()] {
        roff.control("SH", [list.heading.to_uppercase().as_str()]);
        for item in &list.items {
            let mut tags: Vec<Inline> = Vec::new();
            for tag in &item.tags {
                if !tags.is_empty() {
                    tags.push(roman(", "));
                }
                tags.push((list.font)(tag.clone()));
            }
            roff.control("TP", []);
            roff.text(tags);
            roff.text([roman(item.meaning)]);
        }
    }
    roff.control("SH", ["EXAMPLES"]);
    roff.control("nf", []);
    for example in EXAMPLES {
        roff.text([roman(*example)]);
    }
    roff.control("fi", []);
    roff
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn help_text_fits_its_width_with_meanings_indented() {
        for width in [60, 80, MAX_WIDTH] {
            let text = help_text(&[environment(), files(), exit_status()], width);
            for line in text.lines().filter(|l| !EXAMPLES.contains(&l.trim())) {
                let long_word = line.split_whitespace().count() == 1;
                assert!(
                    line.chars().count() <= width || long_word,
                    "{width}: {line:?}"
                );
            }
            assert!(
                text.contains("\n  0       every batch was accepted"),
                "{text}"
            );
            let meaning = format!(
                "\n  SLS_RETRY_CONFIG\n{}The profile file",
                " ".repeat(INDENT)
            );
            assert!(text.contains(&meaning), "{text}");
        }
    }

    #[test]
    fn wrap_continues_the_line_and_indents_the_rest() {
        let mut out = String::from("x: ");
        wrap(&mut out, "aaa bbb ccc  dddddddddddd e f", 2, 10);
        assert_eq!(out, "x: aaa bbb\n  ccc\n  dddddddddddd\n  e f");
    }
}
