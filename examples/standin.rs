//! `cargo run --example standin -- [--port N] [--tasks N] [--demo]`: serve the loopback SLS stand-in by hand, or run `sls-retry` against it once.

#[path = "../tests/standin/mod.rs"]
mod standin;

use std::env;
use std::ffi::OsString;
use std::io::ErrorKind;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, UNIX_EPOCH};

use standin::{
    DEMO_KEY_ID, DEMO_KEY_SECRET, DEMO_LOGSTORE, DEMO_PROJECT, DEMO_REGION, DEMO_SHIPPER,
};
use standin::{Recorded, StandIn};

const USAGE: &str = "usage: cargo run --example standin -- [--port N] [--tasks N] [--demo]
  (default)  serve the demo world on 127.0.0.1:N (default 8080, 0 = any free port) until interrupted
  --tasks N  the shipper's tasks: N generated from seed 1 over the last 50 hours (default 60)
  --demo     run sls-retry ($SLS_RETRY_BIN, else sls-retry on PATH) once against a fresh stand-in";
/// The generated tasks' seed: the same set on every run.
const TASK_SEED: u64 = 1;

fn main() -> ExitCode {
    let (mut port, mut tasks, mut demo) = (None, 60, false);
    let mut args = env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--port" => match args.next().and_then(|n| n.parse().ok()) {
                Some(n) => port = Some(n),
                None => return usage_error("--port needs a number from 0 to 65535"),
            },
            "--tasks" => match args.next().and_then(|n| n.parse().ok()) {
                Some(n) => tasks = n,
                None => return usage_error("--tasks needs a number"),
            },
            "--demo" => demo = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            other => return usage_error(&format!("unexpected argument {other:?}")),
        }
    }
    if demo {
        run_demo(port.unwrap_or(0))
    } else {
        serve(port.unwrap_or(8080), tasks)
    }
}

fn usage_error(problem: &str) -> ExitCode {
    eprintln!("standin: {problem}\n{USAGE}");
    ExitCode::from(2)
}

fn serve(port: u16, tasks: usize) -> ExitCode {
    let standin = match StandIn::builder()
        .port(port)
        .generated_tasks(tasks, TASK_SEED)
        .on_request(log_request)
        .try_build()
    {
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
    let command = format!(
        "ALIBABA_CLOUD_ACCESS_KEY_ID={DEMO_KEY_ID} ALIBABA_CLOUD_ACCESS_KEY_SECRET={DEMO_KEY_SECRET} \
         sls-retry -e {endpoint} -p {DEMO_PROJECT} -l {DEMO_LOGSTORE} -s {DEMO_SHIPPER}"
    );
    println!("try:");
    println!("  {command} --list");
    println!("  {command} --failed");
    println!("  {command} task-1 task-2");
    // Requests are served on the stand-in's threads; this one only keeps the process alive.
    loop {
        std::thread::park();
    }
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
    eprintln!(
        "{} {}{query}{signed} -> {} {code}{accepted}",
        r.method, r.path, r.status
    );
}

fn run_demo(port: u16) -> ExitCode {
    let standin = match StandIn::builder().port(port).try_build() {
        Ok(standin) => standin,
        Err(e) => {
            eprintln!("standin: cannot listen on 127.0.0.1:{port}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let program = env::var_os("SLS_RETRY_BIN").unwrap_or_else(|| OsString::from("sls-retry"));
    let endpoint = standin.endpoint();
    let mut args: Vec<String> = [
        "-e",
        &endpoint,
        "-p",
        DEMO_PROJECT,
        "-l",
        DEMO_LOGSTORE,
        "-s",
        DEMO_SHIPPER,
    ]
    .map(String::from)
    .into();
    args.extend((1..=25).map(|n| format!("demo-task-{n:02}")));

    println!(
        "$ ALIBABA_CLOUD_ACCESS_KEY_ID={DEMO_KEY_ID} ALIBABA_CLOUD_ACCESS_KEY_SECRET=*** {} {}",
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
    command
        .env("ALIBABA_CLOUD_ACCESS_KEY_ID", DEMO_KEY_ID)
        .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", DEMO_KEY_SECRET)
        .args(&args)
        .stdin(Stdio::null());
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
