//! `--wait` end to end against the stand-in's task lifecycle: every task ships (exit 0), some fail
//! again (exit 1, exactly those, with their messages), the wait runs out (exit 3), a service that
//! never updates its tasks (exit 3, no verdict it did not see), the poll interval (counted, never
//! timed) and its floor, `--failed`, `--save-failed`, `--jobs`, a signal while waiting, and
//! `--dry-run`.

use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use standin::{Builder, StandIn};

use crate::harness::{
    Background, Home, assert_contains, demo_run, ids, in_terminal, recent_failures, run,
};

const ACCESS_DENIED: &str = "write oss failed: AccessDenied";

/// A stand-in whose retried tasks end at once: shipped, unless `builder` says otherwise.
fn ending_at_once(configure: impl FnOnce(Builder) -> Builder) -> StandIn {
    configure(StandIn::builder().lifecycle(Duration::ZERO)).build()
}

/// The `task_result` lines of a JSON report: (id, result, task_message).
fn results(lines: &[Value]) -> Vec<(String, String, String)> {
    (lines.iter())
        .filter(|l| l["type"] == "task_result")
        .map(|l| {
            let text = |k: &str| l[k].as_str().unwrap_or("").to_string();
            (text("id"), text("result"), text("task_message"))
        })
        .collect()
}

/// (id, result) of each `task_result` line.
fn verdicts(lines: &[Value]) -> Vec<(String, String)> {
    let results = results(lines).into_iter();
    results.map(|(id, result, _)| (id, result)).collect()
}

/// The line types of a one-batch `--wait --json` report following `tasks` tasks.
fn one_batch_then(tasks: usize) -> Vec<String> {
    let results = std::iter::repeat_n("task_result", tasks);
    let types = std::iter::once("batch")
        .chain(results)
        .chain(["wait_summary", "summary"]);
    types.map(String::from).collect()
}

/// The types of a JSON report's lines, in order.
fn types(lines: &[Value]) -> Vec<String> {
    lines
        .iter()
        .map(|l| l["type"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn every_task_shipped_is_exit_0() {
    let standin = ending_at_once(|b| b);
    let r = demo_run(&standin, &["--wait", "--json", "t1", "t2", "t3"], None);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let lines = r.json_lines();
    assert_eq!(types(&lines), one_batch_then(3));
    assert_eq!(
        verdicts(&lines),
        [("t1", "shipped"), ("t2", "shipped"), ("t3", "shipped")]
            .map(|(a, b)| (a.into(), b.into()))
    );
    let first = &lines[1];
    assert_eq!(first["logstore"], "demo-logstore");
    assert_eq!(first["shipper"], "demo-shipper");
    assert_eq!(first["task_status"], "success");
    assert!(first["finished_at"].as_u64().unwrap() > 1_700_000_000);
    let summary = &lines[4];
    assert_eq!(
        (summary["shipped"].as_u64(), summary["failed"].as_u64()),
        (Some(3), Some(0))
    );
    assert_eq!(summary["pending"], 0);
    // The tasks ended by the first poll: one listing, of every status.
    let polls = standin.listing_requests();
    assert_eq!(polls.len(), 1);
    assert_eq!(polls[0].param("status").as_deref(), Some(""));
}

#[test]
fn tasks_that_fail_again_are_exit_1_and_named_with_their_messages() {
    let standin = ending_at_once(|b| b.fails_again("t2", ACCESS_DENIED));
    let r = demo_run(&standin, &["--wait", "t1", "t2", "t3"], None);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_contains(
        &r.stdout,
        &format!("task t2  FAILED AGAIN  {ACCESS_DENIED}\n"),
    );
    assert!(
        !r.stdout.contains("task t1") && !r.stdout.contains("task t3"),
        "{}",
        r.stdout
    );
    assert_contains(
        &r.stdout,
        "0s: 2 shipped, 1 failed again, 0 still running\n",
    );
    assert!(
        r.stdout
            .ends_with("retried 3 of 3 task ids in 1 batch: 1 ok, 0 failed\n")
    );

    let r = demo_run(&standin, &["--wait", "--json", "t1", "t2", "t3"], None);
    assert_eq!(r.code, 1);
    let failed: Vec<_> = results(&r.json_lines())
        .into_iter()
        .filter(|(_, result, _)| result == "failed")
        .collect();
    assert_eq!(
        failed,
        [("t2".into(), "failed".into(), ACCESS_DENIED.into())]
    );
}

#[test]
fn tasks_still_running_at_the_deadline_are_exit_3() {
    let standin = ending_at_once(|b| b.stays_running("t2"));
    let r = demo_run(
        &standin,
        &["--wait", "--wait-timeout", "1s", "t1", "t2"],
        None,
    );
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert_contains(&r.stdout, "task t2  pending  still running\n");
    assert_contains(&r.stdout, ": 1 shipped, 0 failed again, 1 still running\n");
    // A poll right after sending, and the last at the deadline.
    assert_eq!(standin.listing_requests().len(), 2);
}

#[test]
fn a_service_that_never_updates_its_tasks_leaves_them_pending() {
    // No lifecycle: the retried tasks keep showing their old failure.
    let standin = StandIn::builder().tasks(recent_failures(3)).build();
    let r = demo_run(
        &standin,
        &[
            "--failed",
            "--since",
            "2h",
            "--wait",
            "--wait-timeout",
            "1s",
            "--json",
        ],
        None,
    );
    assert_eq!(r.code, 3, "{}", r.stderr);
    let lines = r.json_lines();
    let verdicts: Vec<_> = results(&lines)
        .into_iter()
        .map(|(_, result, _)| result)
        .collect();
    assert_eq!(verdicts, ["pending"; 3]);
    for line in lines.iter().filter(|l| l["type"] == "task_result") {
        assert_eq!(
            line["task_status"], "fail",
            "the old failure, seen and not taken for new"
        );
    }
    // The window the polls asked for starts at the oldest task's creation, not 48 hours back.
    let oldest = standin.tasks().iter().map(|t| t.create_time).min().unwrap();
    let polls = standin.listing_requests();
    assert_eq!(polls.len(), 1 + 2, "the --failed listing, then two polls");
    assert_eq!(polls[1].param("from"), Some(oldest.to_string()));

    let r = demo_run(
        &standin,
        &["--failed", "--wait", "--wait-timeout", "1s"],
        None,
    );
    assert_eq!(r.code, 3);
    assert_contains(
        &r.stdout,
        "pending  still shows its failure from before the retry\n",
    );
}

#[test]
fn the_poll_interval_is_honoured_and_has_a_floor() {
    let standin = ending_at_once(|b| b.stays_running("t1"));
    let args = [
        "--wait",
        "--wait-timeout",
        "6s",
        "--poll-interval",
        "5s",
        "t1",
    ];
    let r = demo_run(&standin, &args, None);
    assert_eq!(r.code, 3, "{}", r.stderr);
    // At 0 s, 5 s, and the deadline at 6 s.
    assert_eq!(standin.listing_requests().len(), 3);

    for (args, says) in [
        (
            &["--wait", "--poll-interval", "4s", "t1"][..],
            "--poll-interval must be at least 5s",
        ),
        (&["--wait", "--wait-timeout", "49h", "t1"], "at most 48h"),
        (&["--wait-timeout", "10m", "t1"], "--wait"),
        (&["--list", "--wait"], "cannot be used with"),
    ] {
        let r = demo_run(&standin, args, None);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert_contains(&r.stderr, says);
    }
    assert_eq!(
        standin.requests().len(),
        1 + 3,
        "nothing sent for the refused runs"
    );
}

#[test]
fn failed_tasks_found_retried_and_followed_with_save_failed() {
    let tasks = recent_failures(4);
    let standin = StandIn::builder()
        .tasks(tasks)
        .lifecycle(Duration::ZERO)
        .fails_again("f-0003", ACCESS_DENIED)
        .build();
    let home = Home::new();
    let saved = home.path().join("left.txt");
    let r = run(
        home.demo(&standin)
            .args(["--failed", "--since", "2h", "--wait", "--save-failed"])
            .arg(&saved),
        None,
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_contains(&r.stdout, "found 4 failed tasks in ");
    assert_contains(
        &r.stdout,
        &format!("task f-0003  FAILED AGAIN  {ACCESS_DENIED}\n"),
    );
    assert_eq!(std::fs::read_to_string(&saved).unwrap(), "f-0003\n");
}

#[test]
fn with_jobs_every_accepted_task_is_followed() {
    let all = ids(45);
    let standin = ending_at_once(|b| b.fails_again(&all[7], "boom").fails_again(&all[40], "bang"));
    let mut args: Vec<&str> = vec!["--wait", "--json", "--jobs", "4"];
    args.extend(all.iter().map(String::as_str));
    let r = demo_run(&standin, &args, None);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let results = results(&r.json_lines());
    assert_eq!(results.len(), 45);
    let failed: Vec<_> = (results.iter())
        .filter(|(_, result, _)| result == "failed")
        .map(|(id, _, message)| (id.as_str(), message.as_str()))
        .collect();
    assert_eq!(
        failed,
        [(all[7].as_str(), "boom"), (all[40].as_str(), "bang")]
    );
}

#[test]
fn a_signal_while_waiting_reports_every_task_and_ends_at_once() {
    let standin = ending_at_once(|b| b.stays_running("t2"));
    let home = Home::new();
    let mut cmd = home.demo(&standin);
    cmd.args([
        "--wait",
        "--wait-timeout",
        "10m",
        "--json",
        "-v",
        "t1",
        "t2",
    ]);
    let run = Background::spawn(&mut cmd, Stdio::null());
    run.wait_for_stderr("GetShipperStatus offset 0");
    run.signal("-TERM");
    let r = run.finish();
    assert_eq!(r.code, 143, "{}", r.stderr);
    let lines = r.json_lines();
    assert_eq!(types(&lines), one_batch_then(2));
    assert_eq!(
        verdicts(&lines),
        [
            ("t1".to_string(), "shipped".to_string()),
            ("t2".into(), "pending".into())
        ]
    );
}

#[test]
fn dry_run_waits_for_nothing() {
    let standin = ending_at_once(|b| b);
    let r = demo_run(&standin, &["--wait", "--dry-run", "t1"], None);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(standin.requests().is_empty());
}

#[test]
fn a_terminal_sees_the_wait_progress_and_cron_does_not() {
    let standin = ending_at_once(|b| b.stays_running("t1"));
    let args = ["--wait", "--wait-timeout", "2s", "t1"];
    let shown = in_terminal(&Home::new(), &standin, &args);
    assert_eq!(shown.code, 3, "{}", shown.stdout);
    assert_contains(&shown.stdout, "waiting ");
    assert_contains(&shown.stdout, "0 shipped, 0 failed again, 1 still running");

    let cron = demo_run(&standin, &args, None);
    assert!(!cron.stderr.contains("waiting "), "{}", cron.stderr);
    assert!(!cron.stdout.contains("waiting "), "{}", cron.stdout);
}
