//! End to end: the release binary against the loopback stand-in with an injected per-request
//! delay, as a real SLS round trip would add. Prints batches per second, the connections used,
//! peak concurrency at the server, and the ratio of the measured wall time to the ideal
//! `batches x delay / jobs` (1.00 would be no overhead at all). Also start-up and one-batch
//! runs. `cargo bench --bench throughput`.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use standin::{DEMO_ENV, StandIn};

const BIN: &str = env!("CARGO_BIN_EXE_sls-retry");

/// Run the binary once against `standin` with `ids` on stdin; the wall time of the process.
fn run(standin: &StandIn, ids: &str, args: &[&str]) -> Duration {
    let started = Instant::now();
    let mut child = Command::new(BIN)
        .env_clear()
        .env("HOME", std::env::temp_dir())
        .envs(DEMO_ENV)
        .args(standin.demo_target())
        .arg("-q")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("the release binary runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(ids.as_bytes())
        .unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "{args:?} failed: {status}");
    started.elapsed()
}

fn ids(n: usize) -> String {
    (0..n).map(|i| format!("{i:032x}\n")).collect()
}

fn main() {
    println!("sls-retry throughput against the loopback stand-in ({BIN})\n");
    println!(
        "{:<34} {:>7} {:>8} {:>9} {:>11} {:>5} {:>5} {:>11}",
        "scenario", "batches", "delay", "wall", "batches/s", "conns", "peak", "wall/ideal"
    );
    let scenarios: &[(usize, u64, usize)] = &[
        // (ids, per-request delay in ms, jobs)
        (1_000, 50, 1),
        (1_000, 50, 4),
        (1_000, 50, 16),
        (10_000, 20, 32),
        (100_000, 0, 1),
        (100_000, 0, 8),
    ];
    for &(n, delay_ms, jobs) in scenarios {
        let standin = StandIn::builder()
            .delay(Duration::from_millis(delay_ms))
            .build();
        let input = ids(n);
        let jobs_arg = jobs.to_string();
        let wall = run(&standin, &input, &["--jobs", &jobs_arg]);
        let batches = n.div_ceil(10);
        assert_eq!(standin.accepted_ids().len(), n, "every id accepted");
        let ideal = Duration::from_millis(delay_ms) * batches as u32 / jobs as u32;
        let ratio = if ideal.is_zero() {
            "-".to_string()
        } else {
            format!("{:.2}", wall.as_secs_f64() / ideal.as_secs_f64())
        };
        println!(
            "{:<34} {:>7} {:>6}ms {:>8.2}s {:>11.0} {:>5} {:>5} {:>11}",
            format!("{n} ids, --jobs {jobs}"),
            batches,
            delay_ms,
            wall.as_secs_f64(),
            batches as f64 / wall.as_secs_f64(),
            standin.connections(),
            standin.peak_concurrency(),
            ratio
        );
    }

    // Start-up and a one-batch run: median of 30 process runs each.
    let standin = StandIn::start();
    let one = ids(10);
    let median = |f: &mut dyn FnMut() -> Duration| {
        let mut times: Vec<Duration> = (0..30).map(|_| f()).collect();
        times.sort();
        times[times.len() / 2]
    };
    let version = median(&mut || {
        let started = Instant::now();
        let status = Command::new(BIN)
            .arg("--version")
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success());
        started.elapsed()
    });
    let spawn = median(&mut || {
        let started = Instant::now();
        Command::new("true").status().unwrap();
        started.elapsed()
    });
    let one_batch = median(&mut || run(&standin, &one, &[]));
    println!();
    println!(
        "process spawn (`true`), median of 30:     {:>7.2} ms",
        spawn.as_secs_f64() * 1e3
    );
    println!(
        "`sls-retry --version`, median of 30:      {:>7.2} ms",
        version.as_secs_f64() * 1e3
    );
    println!(
        "one signed batch end to end, median of 30: {:>6.2} ms",
        one_batch.as_secs_f64() * 1e3
    );
}
