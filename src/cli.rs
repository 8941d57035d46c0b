//! The command line: clap types, help text, and `--generate` (completions and the man page).
//! Nothing else in the crate knows clap.

use std::io::Write;

use clap::builder::TypedValueParser as _;
use clap::{CommandFactory, Parser, ValueEnum};

use crate::config;
use crate::listing::StatusFilter;

pub mod environment;
mod manual;

/// Re-run failed Alibaba Cloud SLS shipper tasks (RetryShipperTask), in batches of up to 10.
#[derive(Debug, Parser)]
// The long version and the text after the options are added by `command()`, and only when
// they may be shown (`parse`): rendering them costs more than the rest of a run's start.
#[command(name = "sls-retry", version)]
pub struct Cli {
    /// Task IDs to retry; `-` reads stdin there. With none, stdin is read when it is not a terminal
    /// (IDs separated by whitespace or newlines, `#` comment lines, or a JSON array of strings).
    #[arg(value_name = "TASK_ID")]
    pub task_ids: Vec<String>,

    /// SLS project.
    #[arg(help_heading = "Target", short, long, value_name = "NAME")]
    pub project: Option<String>,

    /// Logstore the shipper belongs to; without it (and --shipper), --failed and --list sweep every
    /// logstore of the project.
    #[arg(help_heading = "Target", short, long, value_name = "NAME")]
    pub logstore: Option<String>,

    /// Shipper (OSS/MaxCompute shipping job) whose tasks are retried; without it, --failed and
    /// --list sweep every shipper of the logstore.
    #[arg(help_heading = "Target", short, long, value_name = "NAME")]
    pub shipper: Option<String>,

    /// SLS endpoint: host, host:port or http(s)://host[:port]; https unless http:// is given.
    #[arg(help_heading = "Target", short, long, value_name = "HOST|URL")]
    pub endpoint: Option<String>,

    /// Region, e.g. cn-hangzhou: gives the endpoint {region}.log.aliyuncs.com when no endpoint is
    /// set, and the signature v4 scope.
    #[arg(help_heading = "Target", long, value_name = "REGION")]
    pub region: Option<String>,

    /// With a region: use the VPC endpoint {region}-intranet.log.aliyuncs.com.
    #[arg(help_heading = "Target", long, conflicts_with = "endpoint")]
    pub intranet: bool,

    /// Also trust the CA certificates in FILE (PEM), e.g. a TLS-inspecting proxy's or a private
    /// CA's, beside the system's trust store [default: the profile's ca_file].
    #[arg(help_heading = "Target", long, value_name = "FILE")]
    pub ca_file: Option<std::path::PathBuf>,

    /// Request signature: 1 (hmac-sha1) or 4 (SLS4-HMAC-SHA256, needs a region). Default 1, or 4
    /// for -acdr-ut- regions.
    #[arg(help_heading = "Credentials and profiles", long, value_name = "1|4",
          value_parser = clap::builder::PossibleValuesParser::new(["1", "4"])
              .map(|v| v.parse::<u8>().expect("a possible value")))]
    pub signature_version: Option<u8>,

    /// Profile to use, from the profile file or else the aliyun CLI's config
    /// [env: SLS_RETRY_PROFILE] [default: default].
    #[arg(help_heading = "Credentials and profiles", long, value_name = "NAME")]
    pub profile: Option<String>,

    /// Profile file [env: SLS_RETRY_CONFIG] [default: <config dir>/sls-retry/config.toml].
    #[arg(help_heading = "Credentials and profiles", long, value_name = "FILE")]
    pub config: Option<std::path::PathBuf>,

    /// Find the shipper's failed tasks in the window (--since, --from/--to; default the last 48 h)
    /// and retry them.
    #[arg(help_heading = "Finding tasks", long, conflicts_with_all = ["list", "task_ids"])]
    pub failed: bool,

    /// Print the shipper's tasks in the window instead of retrying: IDs one per line (ready to
    /// pipe back in), or `{"type":"task",...}` lines with --json.
    #[arg(help_heading = "Finding tasks", long, conflicts_with = "task_ids")]
    pub list: bool,

    /// With --list: which tasks to print [default: fail].
    #[arg(
        help_heading = "Finding tasks",
        long,
        value_name = "STATUS",
        value_parser = status_filter(),
        requires = "list",
        // --failed retries only failed tasks, and IDs are retried whatever their status: a
        // --status there would be silently ignored. (`requires` alone lets `--status all ID`
        // through, since --list itself conflicts with IDs.)
        conflicts_with_all = ["failed", "task_ids"]
    )]
    pub status: Option<StatusFilter>,

    /// With --list or --failed: the window is the last DURATION (30m, 6h, 2d; at most 48h)
    /// [default: 48h].
    #[arg(help_heading = "Finding tasks", long, value_name = "DURATION", conflicts_with_all = ["from", "to"])]
    pub since: Option<String>,

    /// With --list or --failed: window start, unix seconds or RFC 3339 (2026-11-27T10:00:00Z).
    #[arg(help_heading = "Finding tasks", long, value_name = "TIME")]
    pub from: Option<String>,

    /// With --from: window end [default: now].
    #[arg(
        help_heading = "Finding tasks",
        long,
        value_name = "TIME",
        requires = "from"
    )]
    pub to: Option<String>,

    // The numbers' bounds and defaults are defined once, in config.rs, for these flags and the
    // profile keys of the same name alike. No `default_value_t`: a flag not given lets the
    // profile's value apply.
    /// Task IDs per RetryShipperTask call, 1-10 [default: 10, or the profile's batch_size].
    #[arg(help_heading = "Delivery", long, value_name = "N",
          value_parser = clap::value_parser!(u32).range(config::BATCH_SIZE.range()))]
    pub batch_size: Option<u32>,

    /// Seconds allowed for each request, connecting included, 1-3600 [default: 30, or the
    /// profile's timeout].
    #[arg(help_heading = "Delivery", long, value_name = "SECS",
          value_parser = clap::value_parser!(u32).range(config::TIMEOUT.range()))]
    pub timeout: Option<u32>,

    /// Batches in flight at once, 1-32, each worker on its own keep-alive connection; the report
    /// stays in input order [default: 1, or the profile's jobs].
    #[arg(help_heading = "Delivery", long, value_name = "N",
          value_parser = clap::value_parser!(u32).range(config::JOBS.range()))]
    pub jobs: Option<u32>,

    /// Retries of a request after a transient failure (connection errors, timeouts, 5xx, 429,
    /// 403 throttling), with exponential backoff, 0-20 [default: 4, or the profile's retries].
    #[arg(help_heading = "Delivery", long, value_name = "N",
          value_parser = clap::value_parser!(u32).range(config::RETRIES.range()))]
    pub retries: Option<u32>,

    /// Send every batch even after an error that every batch would meet (unknown project,
    /// logstore or shipper; signature or credential errors); normally the run stops there.
    #[arg(help_heading = "Delivery", long)]
    pub keep_going: bool,

    /// Write the task IDs not accepted (failed or not sent) to FILE, one per line, ready to pipe
    /// back in; an empty file when all were accepted.
    #[arg(help_heading = "Delivery", long, value_name = "FILE")]
    pub save_failed: Option<std::path::PathBuf>,

    /// After sending, follow the accepted tasks until each has shipped or failed again, or
    /// --wait-timeout runs out: exit 0 when all shipped, 1 when some failed again, 3 when some
    /// were still running.
    #[arg(help_heading = "Waiting", long, conflicts_with = "list")]
    pub wait: bool,

    /// With --wait: how long to follow the tasks at most, up to 48h [default: 30m].
    #[arg(
        help_heading = "Waiting",
        long,
        value_name = "DURATION",
        requires = "wait"
    )]
    pub wait_timeout: Option<String>,

    /// With --wait: the time between two listings of the tasks, at least 5s [default: 30s].
    #[arg(
        help_heading = "Waiting",
        long,
        value_name = "DURATION",
        requires = "wait"
    )]
    pub poll_interval: Option<String>,

    /// Print the batches and the signed requests (signature and token redacted); send nothing.
    #[arg(help_heading = "Delivery", long)]
    pub dry_run: bool,

    /// Print the report as JSON Lines: one object per batch, then a summary.
    #[arg(help_heading = "Output", long, conflicts_with = "quiet")]
    pub json: bool,

    /// Print nothing on stdout; the exit status tells the outcome.
    #[arg(help_heading = "Output", short, long)]
    pub quiet: bool,

    /// More diagnostics on stderr (endpoint, request ids, latency); repeat for request headers.
    /// Secrets are never shown.
    #[arg(help_heading = "Output", short, long, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Print shell completions or the man page to stdout, then exit.
    #[arg(help_heading = "Output", long, value_name = "KIND", exclusive = true)]
    pub generate: Option<Generate>,
}

/// `--status fail|success|running|all`, parsed straight into the listing's own filter.
fn status_filter() -> impl clap::builder::TypedValueParser<Value = StatusFilter> {
    use crate::listing::TaskStatus;
    clap::builder::PossibleValuesParser::new(["fail", "success", "running", "all"])
        .map(|v| TaskStatus::parse(&v).map_or(StatusFilter::All, StatusFilter::Only))
}

/// clap's error message on one line, for a log: its usage block and "For more information"
/// trailer dropped (`--help` has them), the lines of what it names kept. A line ending in ':'
/// introduces a list (the missing arguments), joined with ", "; a continuation line (the possible
/// values) follows with a space; a separate paragraph (a tip) follows after "; ".
pub fn one_line_error(rendered: &str) -> String {
    let text = rendered.trim_start();
    let text = text.strip_prefix("error: ").unwrap_or(text);
    let mut out = String::new();
    let mut paragraph_break = false;
    let mut listing = false;
    let mut listed = 0;
    for line in text.lines().map(str::trim) {
        if line.starts_with("Usage:") || line.starts_with("For more information") {
            break;
        }
        if line.is_empty() {
            paragraph_break = !out.is_empty();
            continue;
        }
        if out.is_empty() {
        } else if paragraph_break {
            out.push_str("; ");
            listing = false;
        } else if listing && listed > 0 {
            out.push_str(", ");
        } else {
            out.push(' ');
        }
        if listing {
            listed += 1;
        }
        paragraph_break = false;
        out.push_str(line);
        if line.ends_with(':') {
            (listing, listed) = (true, 0);
        }
    }
    crate::untrusted::escape(&out).into_owned()
}

/// What `--generate` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Generate {
    CompleteBash,
    CompleteZsh,
    CompleteFish,
    CompletePowershell,
    CompleteElvish,
    Man,
}

impl Generate {
    /// The file under `completions/` that holds this output.
    pub fn file_name(self) -> &'static str {
        match self {
            Generate::CompleteBash => "sls-retry.bash",
            Generate::CompleteZsh => "_sls-retry",
            Generate::CompleteFish => "sls-retry.fish",
            Generate::CompletePowershell => "_sls-retry.ps1",
            Generate::CompleteElvish => "sls-retry.elv",
            Generate::Man => "sls-retry.1",
        }
    }
}

/// The whole command line as `--help`, `--version` and `--generate` show it: the options, the
/// long version, and the manual after the options.
pub fn command() -> clap::Command {
    Cli::command()
        .long_version(crate::build_info::long_version())
        .after_help(manual::short_help())
        .after_long_help(manual::long_help())
}

/// Parse `args` (the program's name first). The help and version texts are rendered only when an
/// argument may ask for them: `--help`, `--version`, or a cluster of short flags holding `h` or
/// `V` (a value that happens to hold them only costs the rendering).
pub fn parse(args: Vec<std::ffi::OsString>) -> Result<Cli, clap::Error> {
    use clap::FromArgMatches;
    let may_show = (args.iter().skip(1))
        .map(|a| a.to_string_lossy())
        .take_while(|a| a != "--")
        .any(|a| match a.strip_prefix("--") {
            Some(long) => long == "help" || long == "version",
            None => a.starts_with('-') && a.contains(['h', 'V']),
        });
    let cmd = if may_show { command() } else { Cli::command() };
    let mut matches = cmd.try_get_matches_from(args)?;
    Cli::from_arg_matches_mut(&mut matches)
}

/// Write completions or the man page for `kind`.
pub fn generate(kind: Generate, out: &mut dyn Write) -> std::io::Result<()> {
    use clap_complete::Shell;
    let mut cmd = command();
    let shell = match kind {
        Generate::CompleteBash => Shell::Bash,
        Generate::CompleteZsh => Shell::Zsh,
        Generate::CompleteFish => Shell::Fish,
        Generate::CompletePowershell => Shell::PowerShell,
        Generate::CompleteElvish => Shell::Elvish,
        Generate::Man => return manual::man(cmd, out),
    };
    clap_complete::generate(shell, &mut cmd, "sls-retry", out);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn help_and_version_carry_their_texts_however_asked() {
        let shown = |args: &[&str]| {
            let args = [&["sls-retry"], args]
                .concat()
                .into_iter()
                .map(Into::into)
                .collect();
            parse(args).unwrap_err().render().to_string()
        };
        for args in [&["--help"][..], &["-h"], &["-vh"], &["-p", "x", "-h"]] {
            assert!(shown(args).contains("Exit status:"), "{args:?}");
        }
        assert!(shown(&["--version"]).contains("\ntarget: "));
        assert_eq!(
            shown(&["-V"]),
            format!("sls-retry {}\n", env!("CARGO_PKG_VERSION"))
        );
        let args = ["sls-retry", "-p", "p", "--", "-h"]
            .map(Into::into)
            .to_vec();
        assert_eq!(parse(args).unwrap().task_ids, ["-h"]);
    }

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    /// The help states each number's bounds and default as the one definition has them.
    #[test]
    fn help_states_the_bounds_and_defaults_of_the_numbers() {
        let cmd = Cli::command();
        for bound in config::PROFILE_NUMBERS {
            let arg = cmd
                .get_arguments()
                .find(|a| a.get_id() == bound.key)
                .unwrap();
            let help = arg.get_help().unwrap().to_string();
            let stated = format!("{}-{}", bound.min, bound.max);
            assert!(help.contains(&stated), "{}: {help}", bound.key);
            let default = format!(
                "[default: {}, or the profile's {}]",
                bound.default, bound.key
            );
            assert!(help.contains(&default), "{}: {help}", bound.key);
        }
    }

    /// clap's rendering of each kind of usage error, as one line that keeps what it names.
    #[test]
    fn usage_errors_on_one_line() {
        let error = |args: &[&str]| {
            let err = Cli::try_parse_from([&["sls-retry"], args].concat()).unwrap_err();
            one_line_error(&err.render().to_string())
        };
        assert_eq!(
            error(&["--to", "5"]),
            "the following required arguments were not provided: --from <TIME>"
        );
        assert_eq!(
            error(&["--jbos", "2"]),
            "unexpected argument '--jbos' found; tip: a similar argument exists: '--jobs'"
        );
        assert_eq!(
            error(&["--list", "--status", "al"]),
            "invalid value 'al' for '--status <STATUS>' [possible values: fail, success, \
             running, all]; tip: a similar value exists: 'all'"
        );
        assert_eq!(
            error(&["--json", "-q"]),
            "the argument '--json' cannot be used with '--quiet'"
        );
        assert_eq!(
            error(&["--generate", "man", "-v"]),
            "the argument '--generate <KIND>' cannot be used with one or more of the other \
             specified arguments"
        );
        // What the user typed is shown escaped too (clap already drops terminal sequences).
        assert_eq!(
            error(&["--list", "--status", "a\u{202e}b"]),
            "invalid value 'a\\u{202e}b' for '--status <STATUS>' [possible values: fail, \
             success, running, all]"
        );
        // Several missing arguments: a list.
        assert_eq!(
            one_line_error(
                "error: the following required arguments were not provided:\n  --a <A>\n  \
                 --b <B>\n\nUsage: x --a <A> --b <B>\n\nFor more information, try '--help'.\n"
            ),
            "the following required arguments were not provided: --a <A>, --b <B>"
        );
    }
}
