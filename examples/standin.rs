//! `cargo run --example standin -- [--port N] [--tasks N] [--lifecycle SECS] [--tls] [--proxy http|socks5] [--demo] [FAULTS]`: serve the loopback SLS stand-in by hand (with retried tasks that run and end, over HTTPS, behind a proxy, if asked), or run `sls-retry` against it once, with faults injected if asked.

use std::env;
use std::ffi::OsString;
use std::io::ErrorKind;
use std::process::{Command, ExitCode, Stdio};
use std::str::FromStr;
use std::time::{Duration, UNIX_EPOCH};

use standin::proxy::Proxy;
use standin::{Builder, Recorded, StandIn, TlsIdentity, demo_target_at, tls};
use standin::{
    DEMO_ENV, DEMO_KEY_ID, DEMO_KEY_SECRET, DEMO_LOGSTORE, DEMO_PROJECT, DEMO_REGION, DEMO_SHIPPER,
    DEMO_SLS_HOST,
};

const USAGE: &str = "usage: cargo run --example standin -- [--port N] [--tasks N] [--lifecycle SECS] [--tls] [--proxy http|socks5] [--demo] [FAULTS]
  (default)  serve the demo world on 127.0.0.1:N (default 8080, 0 = any free port) until interrupted
  --tasks N  the shipper's tasks: N generated from seed 1 over the last 50 hours (default 60)
  --lifecycle SECS
             a retried task runs SECS seconds, then ships (task-2 fails again), for --wait;
             without it, retried tasks never change
  --tls      serve HTTPS with a certificate from a throwaway CA, written to a file to trust
  --proxy K  put an HTTP CONNECT (http) or SOCKS5 (socks5) proxy in front, on a free port, that
             takes the demo region's real SLS host names to the stand-in (no DNS)
  --demo     run sls-retry ($SLS_RETRY_BIN, else sls-retry on PATH) once against a fresh stand-in
FAULTS, drawn per retry or listing request, reproducible by seed:
  --seed N             the fault draws' seed (default 0)
  --error-rate RATE    answer this share (0 to 1) with an error, spread evenly over 503 ServerBusy,
                       500 InternalServerError, a proxy's HTML 502 and 403 WriteQuotaExceed
  --drop-rate RATE     close this share of connections without an answer
  --delay-ms N         answer every request N ms late
  --clock-skew SECS    the server clock this far ahead (negative: behind) of this machine's";
/// The generated tasks' seed: the same set on every run.
const TASK_SEED: u64 = 1;
/// With `--lifecycle`, the task that fails again when retried, and its message.
const FAILS_AGAIN: (&str, &str) = ("task-2", "write oss failed: AccessDenied");
/// What `--error-rate` spreads its rate over, evenly: (status, errorCode; empty for an HTML page).
const ERROR_MIX: [(u16, &str); 4] = [
    (503, "ServerBusy"),
    (500, "InternalServerError"),
    (502, ""),
    (403, "WriteQuotaExceed"),
];

/// The fault flags.
#[derive(Default)]
struct Faults {
    seed: u64,
    error_rate: f64,
    drop_rate: f64,
    delay_ms: u64,
    clock_skew: i64,
}

impl Faults {
    fn apply(&self, builder: Builder) -> Builder {
        let mut builder = builder
            .fault_seed(self.seed)
            .drop_rate(self.drop_rate)
            .delay(Duration::from_millis(self.delay_ms))
            .clock_skew_secs(self.clock_skew);
        for (status, code) in ERROR_MIX {
            builder = builder.error_rate(self.error_rate / ERROR_MIX.len() as f64, status, code);
        }
        builder
    }

    /// One banner line per fault in force.
    fn describe(&self) -> Vec<String> {
        let mut lines = Vec::new();
        if self.error_rate > 0.0 {
            let kinds: Vec<String> = (ERROR_MIX.iter())
                .map(|(status, code)| match *code {
                    "" => format!("{status} HTML"),
                    code => format!("{status} {code}"),
                })
                .collect();
            let rate = self.error_rate;
            lines.push(format!(
                "errors: {rate} of requests, evenly {}",
                kinds.join(", ")
            ));
        }
        if self.drop_rate > 0.0 {
            lines.push(format!(
                "dropped connections: {} of requests",
                self.drop_rate
            ));
        }
        if self.delay_ms > 0 {
            lines.push(format!("every answer {} ms late", self.delay_ms));
        }
        if self.clock_skew != 0 {
            lines.push(format!("server clock {:+} s off", self.clock_skew));
        }
        if !lines.is_empty() {
            lines.push(format!("seed {}", self.seed));
        }
        lines
    }
}

/// How `serve` is reached: `--tls`, `--proxy`.
#[derive(Default)]
struct Network {
    tls: bool,
    proxy: Option<String>,
}

/// With `--lifecycle SECS`, retried tasks run that long, then ship, but `FAILS_AGAIN`.
fn with_lifecycle(builder: Builder, secs: Option<u64>) -> Builder {
    let Some(secs) = secs else {
        return builder;
    };
    let (id, message) = FAILS_AGAIN;
    (builder.lifecycle(Duration::from_secs(secs))).fails_again(id, message)
}

fn main() -> ExitCode {
    let (mut port, mut tasks, mut demo, mut lifecycle) = (None, 60, false, None);
    let mut faults = Faults::default();
    let mut network = Network::default();
    let mut args = env::args().skip(1);
    while let Some(arg) = args.next() {
        let parsed = match arg.as_str() {
            "--port" => value(args.next(), "a number from 0 to 65535").map(|n| port = Some(n)),
            "--tasks" => value(args.next(), "a number").map(|n| tasks = n),
            "--lifecycle" => value(args.next(), "whole seconds").map(|n| lifecycle = Some(n)),
            "--seed" => value(args.next(), "a number").map(|n| faults.seed = n),
            "--error-rate" => rate(args.next()).map(|r| faults.error_rate = r),
            "--drop-rate" => rate(args.next()).map(|r| faults.drop_rate = r),
            "--delay-ms" => value(args.next(), "a number").map(|n| faults.delay_ms = n),
            "--clock-skew" => value(args.next(), "whole seconds").map(|n| faults.clock_skew = n),
            "--demo" => {
                demo = true;
                Ok(())
            }
            "--tls" => {
                network.tls = true;
                Ok(())
            }
            "--proxy" => match args.next().as_deref() {
                Some(kind @ ("http" | "socks5")) => {
                    network.proxy = Some(kind.into());
                    Ok(())
                }
                _ => Err("needs http or socks5".to_string()),
            },
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            _ => Err("unexpected argument".to_string()),
        };
        if let Err(problem) = parsed {
            return usage_error(&format!("{arg}: {problem}"));
        }
    }
    if faults.error_rate + faults.drop_rate > 1.0 {
        return usage_error("--error-rate and --drop-rate add up to more than 1");
    }
    if demo && (network.tls || network.proxy.is_some()) {
        return usage_error("--tls and --proxy serve by hand, not with --demo");
    }
    if demo && lifecycle.is_some() {
        return usage_error("--lifecycle serves by hand, not with --demo");
    }
    if demo {
        run_demo(port.unwrap_or(0), &faults)
    } else {
        serve(port.unwrap_or(8080), tasks, lifecycle, &faults, &network)
    }
}

/// A flag's value, or what it should have been.
fn value<T: FromStr>(value: Option<String>, wanted: &str) -> Result<T, String> {
    value
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| format!("needs {wanted}"))
}

fn rate(text: Option<String>) -> Result<f64, String> {
    let wanted = "a rate from 0 to 1";
    value(text, wanted).and_then(|r: f64| {
        if (0.0..=1.0).contains(&r) {
            Ok(r)
        } else {
            Err(format!("needs {wanted}"))
        }
    })
}

fn usage_error(problem: &str) -> ExitCode {
    eprintln!("standin: {problem}\n{USAGE}");
    ExitCode::from(2)
}

fn serve(
    port: u16,
    tasks: usize,
    lifecycle: Option<u64>,
    faults: &Faults,
    network: &Network,
) -> ExitCode {
    let builder = StandIn::builder()
        .port(port)
        .generated_tasks(tasks, TASK_SEED)
        .on_request(log_request);
    let mut builder = with_lifecycle(builder, lifecycle);
    if network.tls {
        builder = builder.tls(TlsIdentity::valid());
    }
    let standin = match faults.apply(builder).try_build() {
        Ok(standin) => standin,
        Err(e) => {
            eprintln!("standin: cannot listen on 127.0.0.1:{port}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let endpoint = standin.endpoint();
    println!("SLS stand-in listening on {endpoint}");
    println!("  project {DEMO_PROJECT}, logstore {DEMO_LOGSTORE}, shipper {DEMO_SHIPPER}");
    println!(
        "  AccessKeyId {DEMO_KEY_ID}, AccessKeySecret {DEMO_KEY_SECRET}, v4 region {DEMO_REGION}"
    );
    let since = standin.server_time() - Duration::from_secs(48 * 3600);
    let since = since
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let failed = (standin.tasks().iter())
        .filter(|task| task.status == "fail" && task.create_time >= since)
        .count();
    println!(
        "  {tasks} tasks (seed {TASK_SEED}) over the last 50 hours, {failed} failed in the last 48 h"
    );
    match lifecycle {
        Some(secs) => println!(
            "  a retried task runs {secs} s, then ships ({} fails again)",
            FAILS_AGAIN.0
        ),
        None => println!("  retried tasks never change (--lifecycle SECS makes them run and end)"),
    }
    for line in faults.describe() {
        println!("  fault: {line}");
    }
    // The proxy, if any, serves on its own threads while it is held.
    let Some((command, _proxy)) = command_line(&standin, network) else {
        return ExitCode::FAILURE;
    };
    println!("try:");
    println!("  {command} --list");
    println!("  {command} --failed");
    println!("  {command} task-1 task-2");
    if lifecycle.is_some() {
        println!("  {command} --wait --poll-interval 5s task-1 task-2");
    }
    // Requests are served on the stand-in's threads; this one only keeps the process alive.
    loop {
        std::thread::park();
    }
}

/// The command line to paste, less its arguments, for the stand-in as `network` reaches it, and
/// the proxy it needs, started. `None` when something could not be set up (and was said).
fn command_line(standin: &StandIn, network: &Network) -> Option<(String, Option<Proxy>)> {
    let mut env: Vec<String> = DEMO_ENV
        .map(|(name, value)| format!("{name}={value}"))
        .into();
    let (mut endpoint, mut proxy) = (standin.endpoint(), None);
    if let Some(kind) = &network.proxy {
        let builder = if kind == "http" {
            Proxy::connect()
        } else {
            Proxy::socks5()
        };
        let started = match builder.route_all(standin.addr()).try_start() {
            Ok(started) => started,
            Err(e) => {
                eprintln!("standin: cannot start the proxy: {e}");
                return None;
            }
        };
        let scheme = if network.tls { "https" } else { "http" };
        println!(
            "  behind the proxy {}, which takes every host to it",
            started.url()
        );
        env.push(format!("{}_PROXY={}", scheme.to_uppercase(), started.url()));
        // The demo region's real SLS host, which only the proxy resolves.
        endpoint = format!("{scheme}://{DEMO_SLS_HOST}");
        proxy = Some(started);
    }
    let mut target = demo_target_at(&endpoint);
    if network.tls {
        let ca = env::temp_dir().join("sls-retry-standin-ca.pem");
        if let Err(e) = std::fs::write(&ca, tls::ca_pem()) {
            eprintln!("standin: cannot write the CA to {}: {e}", ca.display());
            return None;
        }
        println!(
            "  over HTTPS; its CA (made for this run) is in {}",
            ca.display()
        );
        target.extend(["--ca-file".into(), ca.display().to_string()]);
    }
    let command = format!("{} sls-retry {}", env.join(" "), target.join(" "));
    Some((command, proxy))
}

fn log_request(r: &Recorded) {
    let query = if r.query.is_empty() {
        String::new()
    } else {
        format!("?{}", r.query)
    };
    let code = r.error_code.as_deref().unwrap_or("-");
    let signed = match r.signature_version {
        0 => String::new(),
        n => format!(" (v{n})"),
    };
    let accepted = match r.accepted_ids.len() {
        0 => String::new(),
        n => format!(" accepted {n} ids: {}", r.accepted_ids.join(" ")),
    };
    let fault = r
        .fault
        .as_ref()
        .map_or(String::new(), |fault| format!(" [{fault}]"));
    let status = match r.status {
        0 => "no answer".to_string(),
        status => format!("{status} {code}"),
    };
    eprintln!(
        "{} {}{query}{signed} -> {status}{accepted}{fault}",
        r.method, r.path
    );
}

fn run_demo(port: u16, faults: &Faults) -> ExitCode {
    let builder = StandIn::builder().port(port).on_request(log_request);
    let builder = faults.apply(builder);
    for line in faults.describe() {
        println!("stand-in fault: {line}");
    }
    let standin = match builder.try_build() {
        Ok(standin) => standin,
        Err(e) => {
            eprintln!("standin: cannot listen on 127.0.0.1:{port}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let program = env::var_os("SLS_RETRY_BIN").unwrap_or_else(|| OsString::from("sls-retry"));
    let mut args = standin.demo_target();
    args.extend((1..=25).map(|n| format!("demo-task-{n:02}")));

    let [(key_id, _), (secret, _)] = DEMO_ENV;
    println!(
        "$ {key_id}={DEMO_KEY_ID} {secret}=*** {} {}",
        program.to_string_lossy(),
        args.join(" ")
    );
    let mut command = Command::new(&program);
    // Only what a cron job would have: no stray ALIBABA_CLOUD_* or SLS_RETRY_* from this shell.
    command.env_clear();
    for name in ["PATH", "HOME"] {
        if let Some(value) = env::var_os(name) {
            command.env(name, value);
        }
    }
    command.envs(DEMO_ENV).args(&args).stdin(Stdio::null());
    let status = match command.status() {
        Ok(status) => status,
        Err(e) if e.kind() == ErrorKind::NotFound => {
            eprintln!(
                "standin: cannot find the sls-retry program {program:?}; run `cargo install --locked --path .` \
                 first, or point SLS_RETRY_BIN at a built binary"
            );
            return ExitCode::from(2);
        }
        Err(e) => {
            eprintln!("standin: cannot run {program:?}: {e}");
            return ExitCode::from(2);
        }
    };
    let (requests, ids, connections) = (
        standin.accepted().len(),
        standin.accepted_ids().len(),
        standin.connections(),
    );
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    println!(
        "stand-in accepted {}, {}, over {} ({} received in all)",
        plural(requests, "request"),
        plural(ids, "task id"),
        plural(connections, "connection"),
        plural(standin.requests().len(), "request"),
    );
    // A signal death has no code; 1 says "something went wrong" without claiming a usage error.
    ExitCode::from(
        status
            .code()
            .and_then(|code| u8::try_from(code).ok())
            .unwrap_or(1),
    )
}
