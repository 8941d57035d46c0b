//! `--jobs`: batches in flight at once over a connection per worker, the report still in input
//! order, the pool backing off together when throttled; large inputs; the progress bar only on a
//! terminal. Counted at the stand-in (connections, peak concurrency), never timed.

use std::time::Duration;

use standin::{DEMO_ENV, Reply, StandIn};

use crate::harness::{Home, demo_run, ids, in_terminal, run};

#[test]
fn jobs_n_uses_n_connections_at_once_and_reports_in_input_order() {
    let standin = StandIn::builder().delay(Duration::from_millis(100)).build();
    let all = ids(40);
    let r = demo_run(
        &standin,
        &["--jobs", "4", "--batch-size", "1", "--json"],
        Some(&all.join("\n")),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        standin.connections(),
        4,
        "one keep-alive connection per worker"
    );
    assert_eq!(
        standin.peak_concurrency(),
        4,
        "four batches in flight at once"
    );

    let lines = r.json_lines();
    let numbers: Vec<u64> = lines
        .iter()
        .filter(|l| l["type"] == "batch")
        .map(|l| l["batch"].as_u64().unwrap())
        .collect();
    assert_eq!(
        numbers,
        (1..=40).collect::<Vec<u64>>(),
        "input order, whatever the completion order"
    );
    let reported: Vec<String> = lines
        .iter()
        .filter(|l| l["type"] == "batch")
        .map(|l| l["ids"][0].as_str().unwrap().to_string())
        .collect();
    assert_eq!(reported, all);
    let mut accepted = standin.accepted_ids();
    accepted.sort();
    assert_eq!(accepted, all, "each accepted once");
}

#[test]
fn one_worker_uses_one_connection() {
    let standin = StandIn::builder().delay(Duration::from_millis(20)).build();
    let r = demo_run(&standin, &["--batch-size", "1"], Some(&ids(10).join("\n")));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!((standin.connections(), standin.peak_concurrency()), (1, 1));
}

/// `n` one-ID batches at `-v`, every one accepted, and the name lookups the run told of. A
/// lookup per batch would also be a thread per batch: the lookup runs on a thread of its own, to
/// be abandoned at the timeout.
fn lookups(standin: &StandIn, n: usize, jobs: &str) -> Vec<String> {
    let r = demo_run(
        standin,
        &["-v", "--batch-size", "1", "--jobs", jobs],
        Some(&ids(n).join("\n")),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(standin.accepted().len(), n);
    (r.stderr.lines())
        .filter(|line| line.starts_with("sls-retry: looked up "))
        .map(String::from)
        .collect()
}

#[test]
fn batches_over_a_kept_alive_connection_look_the_host_up_once() {
    let standin = StandIn::start();
    let lookups = lookups(&standin, 30, "1");
    assert_eq!(standin.connections(), 1);
    let address = format!("127.0.0.1:{}", standin.port());
    assert_eq!(
        lookups,
        [format!(
            "sls-retry: looked up {address}: {address} (kept for the run)"
        )]
    );
}

#[test]
fn workers_starting_together_look_the_host_up_once() {
    let standin = StandIn::builder().delay(Duration::from_millis(20)).build();
    let lookups = lookups(&standin, 40, "4");
    assert_eq!(standin.connections(), 4);
    assert_eq!(lookups.len(), 1, "{lookups:?}");
}

#[test]
fn a_request_without_an_answer_has_the_host_looked_up_again() {
    let standin = StandIn::start();
    standin.push_reply(Reply::drop_connection());
    assert_eq!(
        lookups(&standin, 5, "1").len(),
        2,
        "once at the start, once for the retry after the dropped connection"
    );
}

#[test]
fn more_jobs_than_batches_opens_no_idle_connections() {
    let standin = StandIn::start();
    let r = demo_run(&standin, &["--jobs", "8"], Some(&ids(25).join("\n")));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        standin.connections() <= 3,
        "3 batches need at most 3 connections: {}",
        standin.connections()
    );
}

#[test]
fn throttling_pauses_the_whole_pool() {
    let standin = StandIn::builder().delay(Duration::from_millis(50)).build();
    standin.push_reply(Reply::raw(429, "", "").with_header("Retry-After", "1"));
    let r = demo_run(
        &standin,
        &["--jobs", "4", "--batch-size", "1"],
        Some(&ids(16).join("\n")),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let requests = standin.requests();
    let throttled = requests
        .iter()
        .find(|q| q.status == 429)
        .expect("the scripted 429");
    // Its answer left 50 ms after it arrived and asked for a second's pause: the other workers
    // finish what they had in flight, then nobody sends until the second is over.
    let quiet_from = throttled.received + Duration::from_millis(400);
    let quiet_to = throttled.received + Duration::from_millis(900);
    let during: Vec<_> = requests
        .iter()
        .filter(|q| q.received > quiet_from && q.received < quiet_to)
        .collect();
    assert!(
        during.is_empty(),
        "{} requests sent during the pause",
        during.len()
    );
    assert_eq!(standin.accepted_ids().len(), 16);
}

#[test]
fn a_stop_error_under_jobs_still_reports_every_batch_once() {
    let standin = StandIn::builder().delay(Duration::from_millis(20)).build();
    let home = Home::new();
    let r = run(
        home.command()
            .envs(DEMO_ENV)
            .args(standin.target_with_shipper("nope"))
            .args(["--jobs", "4", "--batch-size", "1", "--json"]),
        Some(&ids(30).join("\n")),
    );
    assert_eq!(r.code, 1);
    let lines = r.json_lines();
    let batches: Vec<_> = lines.iter().filter(|l| l["type"] == "batch").collect();
    assert_eq!(batches.len(), 30);
    let failed = batches.iter().filter(|b| b["status"] == "failed").count();
    let not_sent = batches.iter().filter(|b| b["status"] == "not_sent").count();
    assert_eq!(failed + not_sent, 30);
    assert!(
        failed <= 4,
        "at most the batches already in flight fail: {failed}"
    );
    assert_eq!(standin.requests().len(), failed);
}

#[test]
fn a_hundred_thousand_ids_from_stdin() {
    let standin = StandIn::start();
    let input = ids(100_000).join("\n");
    let r = demo_run(&standin, &["--dry-run", "--json"], Some(&input));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout.lines().count(), 10_000);
    assert!(standin.requests().is_empty());
}

#[test]
fn the_progress_bar_appears_on_a_terminal_only() {
    // stderr is a pipe in every other test (and asserted empty there); here `script` gives the
    // run a terminal for stdout and stderr.
    let standin = StandIn::builder().delay(Duration::from_millis(10)).build();
    let home = Home::new();
    let all = ids(12);
    let shown = |extra: &str| {
        let args: Vec<&str> = ["--batch-size", "1", extra]
            .into_iter()
            .chain(all.iter().map(String::as_str))
            .collect();
        let r = in_terminal(&home, &standin, &args);
        assert_eq!(r.code, 0);
        r.stdout
    };
    assert!(shown("").contains("/12 batches"), "a bar on a terminal");
    assert!(!shown("--json").contains("batches  "), "no bar with --json");
    assert!(!shown("-q").contains("batches  "), "no bar with -q");
}

#[test]
fn every_worker_refused_for_a_skewed_clock_is_corrected_and_retried() {
    // The four workers' first requests are all refused before any answer has corrected the
    // clock; the later corrections must not be taken for a server agreeing with the clock.
    let standin = StandIn::builder()
        .clock_skew_secs(3600)
        .delay(Duration::from_millis(100))
        .build();
    let all = ids(8);
    let r = demo_run(
        &standin,
        &["--jobs", "4", "--batch-size", "1"],
        Some(&all.join("\n")),
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(standin.peak_concurrency(), 4);
    let mut accepted = standin.accepted_ids();
    accepted.sort();
    assert_eq!(accepted, all, "each accepted once");
    let refused = standin.refusals("RequestTimeExpired");
    assert_eq!(refused, 4, "one per worker, before the first correction");
    assert_eq!(
        r.stderr.matches("warning: the local clock is").count(),
        1,
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("agrees"), "{}", r.stderr);
}
