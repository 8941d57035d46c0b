//! Finding failed tasks and retrying them in one command, listing tasks, and reading
//! GetShipperStatus documents from stdin, end to end against the stand-in's generated task
//! history.

use std::collections::BTreeSet;

use standin::{DEMO_ENV, DEMO_KEY_ID, DEMO_KEY_SECRET, Reply, StandIn, Task};

use crate::harness::{Home, assert_contains, demo_run, now, recent_failures, run, target_toml};

fn failed_between(tasks: &[Task], from: i64, to: i64) -> BTreeSet<String> {
    tasks
        .iter()
        .filter(|t| t.status == "fail" && t.create_time >= from && t.create_time < to)
        .map(|t| t.id.clone())
        .collect()
}

/// The accepted IDs, asserting none was accepted twice.
fn accepted_once(standin: &StandIn) -> BTreeSet<String> {
    let accepted = standin.accepted_ids();
    let set: BTreeSet<String> = accepted.iter().cloned().collect();
    assert_eq!(set.len(), accepted.len(), "a task was retried twice");
    set
}

fn list_pages(standin: &StandIn) -> usize {
    standin
        .requests()
        .iter()
        .filter(|r| r.method == "GET")
        .count()
}

#[test]
fn failed_finds_every_failed_task_in_the_window_and_retries_each_once() {
    let standin = StandIn::builder().generated_tasks(6000, 7).build();
    let (from, to) = (now() - 30 * 3600, now() - 3600);
    let (from_arg, to_arg) = (from.to_string(), to.to_string());
    let r = demo_run(
        &standin,
        &["--failed", "--from", &from_arg, "--to", &to_arg, "--json"],
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);

    let expected = failed_between(&standin.tasks(), from, to);
    assert!(
        expected.len() > 500,
        "several pages of failures: {}",
        expected.len()
    );
    assert_eq!(
        accepted_once(&standin),
        expected,
        "all failed tasks of the window, none outside"
    );
    assert!(list_pages(&standin) >= 2, "paged");

    let lines = r.json_lines();
    assert_eq!(lines[0]["type"], "found");
    assert_eq!(lines[0]["source"], "GetShipperStatus");
    assert_eq!(lines[0]["failed"], expected.len());
    assert_eq!(
        (lines[0]["from"].as_i64(), lines[0]["to"].as_i64()),
        (Some(from), Some(to))
    );
    let summary = lines.last().unwrap();
    assert_eq!(summary["type"], "summary");
    assert_eq!(summary["accepted_ids"], expected.len());
    assert_eq!(summary["batches"], expected.len().div_ceil(10));
}

#[test]
fn the_default_window_is_the_last_48_hours_and_since_narrows_it() {
    let standin = StandIn::builder().generated_tasks(800, 11).build();
    let before = now();
    let r = demo_run(&standin, &["--failed"], None);
    let after = now();
    assert_eq!(r.code, 0, "{}", r.stderr);
    let accepted = accepted_once(&standin);
    let tasks = standin.tasks();
    // Tasks a few seconds either side of the edge may go either way; all others must be exact.
    let surely_in = failed_between(&tasks, after - 48 * 3600 + 60 + 5, after);
    let maybe_in = failed_between(&tasks, before - 48 * 3600 + 60 - 5, after + 1);
    assert!(
        surely_in.is_subset(&accepted),
        "a failed task of the last 48 h was not retried"
    );
    assert!(
        accepted.is_subset(&maybe_in),
        "a task outside the window was retried"
    );
    assert!(
        !failed_between(&tasks, 0, before - 48 * 3600).is_empty(),
        "the history reaches past 48 h"
    );
    let first = r.stdout.lines().next().unwrap();
    assert!(
        first.starts_with(&format!("found {} failed tasks in ", accepted.len())),
        "{first}"
    );

    let standin = StandIn::builder().generated_tasks(800, 11).build();
    let r = demo_run(&standin, &["--failed", "--since", "6h"], None);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let accepted = accepted_once(&standin);
    let t = now();
    assert!(failed_between(&standin.tasks(), t - 6 * 3600 + 5, t).is_subset(&accepted));
    assert!(accepted.is_subset(&failed_between(&standin.tasks(), t - 6 * 3600 - 10, t + 1)));
}

#[test]
fn nothing_failed_is_a_message_and_exit_0() {
    let standin = StandIn::builder()
        .tasks(vec![Task {
            id: "ok-1".into(),
            status: "success".into(),
            message: String::new(),
            create_time: now() - 600,
            last_data_receive_time: now() - 600,
            finish_time: now() - 500,
        }])
        .build();
    let r = demo_run(&standin, &["--failed", "--since", "2h"], None);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert!(
        lines[0].starts_with("found 0 failed tasks in "),
        "{}",
        r.stdout
    );
    assert_eq!(lines[1], "nothing to retry");
    assert!(standin.accepted_ids().is_empty());
}

#[test]
fn windows_past_48_hours_are_refused_before_any_request() {
    let standin = StandIn::builder().generated_tasks(10, 1).build();
    let old = (now() - 49 * 3600).to_string();
    for (args, message) in [
        (
            vec!["--failed", "--since", "3d"],
            "--since 3d reaches past the 48 hours",
        ),
        (
            vec!["--list", "--from", old.as_str()],
            "is more than 48 hours ago",
        ),
        (
            vec!["--failed", "--from", "2020-01-01T00:00:00Z"],
            "is more than 48 hours ago",
        ),
        (vec!["--failed", "--since", "soon"], "invalid --since"),
        (
            vec!["--since", "2h"],
            "choose the window of --list or --failed",
        ),
        (vec!["--failed", "some-id"], "cannot be used with"),
    ] {
        let r = demo_run(&standin, &args, None);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains(message), "{args:?}: {}", r.stderr);
    }
    assert!(standin.requests().is_empty(), "nothing was sent");
}

#[test]
fn list_prints_ids_that_pipe_back_into_sls_retry() {
    let standin = StandIn::builder().generated_tasks(1200, 3).build();
    let r = demo_run(&standin, &["--list", "--since", "1d"], None);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let listed: Vec<&str> = r.stdout.lines().collect();
    let t = now();
    let expected = failed_between(&standin.tasks(), t - 24 * 3600 + 5, t);
    assert!(expected.iter().all(|id| listed.contains(&id.as_str())));
    assert!(standin.accepted_ids().is_empty(), "--list retries nothing");

    let r = demo_run(&standin, &[], Some(&r.stdout));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(accepted_once(&standin).len(), listed.len());
}

#[test]
fn list_json_carries_the_get_shipper_status_fields() {
    let standin = StandIn::builder().generated_tasks(300, 5).build();
    let r = demo_run(&standin, &["--list", "--status", "all", "--json"], None);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let lines = r.json_lines();
    let statuses: BTreeSet<&str> = lines
        .iter()
        .map(|l| l["taskStatus"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, BTreeSet::from(["fail", "running", "success"]));
    for line in &lines {
        assert_eq!(line["type"], "task");
        for field in [
            "id",
            "taskStatus",
            "taskMessage",
            "taskCreateTime",
            "taskLastDataReceiveTime",
            "taskFinishTime",
        ] {
            assert!(line.get(field).is_some(), "{field} missing in {line}");
        }
    }
    let t = now();
    let in_window = standin
        .tasks()
        .iter()
        .filter(|task| task.create_time >= t - 48 * 3600 + 60 + 5)
        .count();
    assert!(lines.len() >= in_window, "{} < {in_window}", lines.len());

    let r = demo_run(&standin, &["--list", "--status", "running"], None);
    let running: BTreeSet<String> = standin
        .tasks()
        .iter()
        .filter(|t| t.status == "running")
        .map(|t| t.id.clone())
        .collect();
    assert!(
        r.stdout.lines().all(|id| running.contains(id)),
        "{}",
        r.stdout
    );
}

#[test]
fn thousands_of_tasks_over_short_pages_while_new_ones_arrive() {
    let standin = StandIn::builder()
        .generated_tasks(6000, 42)
        .max_page(137)
        .new_tasks_during_listing(25)
        .build();
    let (from, to) = (now() - 47 * 3600, now() + 60);
    let r = demo_run(
        &standin,
        &[
            "--failed",
            "--from",
            &from.to_string(),
            "--to",
            &to.to_string(),
            "-q",
        ],
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, "");
    let expected = failed_between(&standin.tasks(), from, to);
    assert!(expected.len() > 1000, "{}", expected.len());
    assert_eq!(
        accepted_once(&standin),
        expected,
        "every failed task exactly once, late arrivals included"
    );
    assert!(
        list_pages(&standin) > 8,
        "short pages: {}",
        list_pages(&standin)
    );
}

#[test]
fn stdin_documents_from_the_api_or_aliyunlog() {
    let standin = StandIn::start();
    let page = |tasks: &[(&str, &str)], total: usize| {
        let tasks: Vec<serde_json::Value> = tasks
            .iter()
            .map(|(id, status)| {
                serde_json::json!({"id": id, "taskStatus": status, "taskMessage": "",
                "taskCreateTime": 1, "taskLastDataReceiveTime": 1, "taskFinishTime": 1})
            })
            .collect();
        serde_json::to_string_pretty(&serde_json::json!({"count": tasks.len(), "total": total,
            "statistics": {"running": 0, "success": 0, "fail": 0}, "tasks": tasks}))
        .unwrap()
    };
    let two_pages = format!(
        "{}\n{}",
        page(&[("f-1", "fail"), ("s-1", "success"), ("f-2", "fail")], 5),
        page(&[("r-1", "running"), ("f-3", "fail")], 5)
    );
    let r = demo_run(&standin, &[], Some(&two_pages));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(standin.accepted_ids(), ["f-1", "f-2", "f-3"]);
    assert_eq!(
        r.stdout.lines().next(),
        Some("took 3 failed of 5 tasks from the GetShipperStatus documents on stdin")
    );

    let r = demo_run(
        &standin,
        &["--json", "-"],
        Some(&page(&[("f-9", "fail"), ("s-9", "success")], 2)),
    );
    let lines = r.json_lines();
    assert_eq!(
        lines[0],
        serde_json::json!({"type": "found", "source": "stdin", "failed": 1, "listed": 2})
    );

    let r = demo_run(&standin, &[], Some("{\"count\": 1}"));
    assert_eq!(r.code, 2);
    assert_contains(&r.stderr, "not a GetShipperStatus response");
}

#[test]
fn a_listing_that_fails_says_why_and_retries_nothing() {
    let standin = StandIn::builder().generated_tasks(2000, 9).build();
    let home = Home::new();
    let r = run(
        home.command()
            .envs(DEMO_ENV)
            .args(standin.target_with_shipper("no-such-shipper"))
            .arg("--failed"),
        None,
    );
    assert_eq!(r.code, 1);
    assert_contains(
        &r.stderr,
        "sls-retry: error: listing the shipper's tasks failed: HTTP 400 ShipperNotExist: Shipper does not exist.",
    );
    assert!(r.stderr.contains("nothing was retried"));
    assert_eq!(r.stdout, "");

    // A page that fails midway: nothing half-done.
    standin.push_reply(Reply::raw(
        200,
        "application/json",
        "{\"count\": 500, \"total\": 4000, \"tasks\": []}"
            .replace("[]", "[{\"id\": \"x\", \"taskStatus\": \"fail\"}]"),
    ));
    standin.push_reply(Reply::internal_error());
    let r = demo_run(&standin, &["--failed", "--retries", "0"], None);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_contains(&r.stderr, "HTTP 500 InternalServerError");
    assert!(standin.accepted_ids().is_empty());
}

#[test]
fn a_listing_page_that_cannot_be_read_is_a_failed_listing() {
    let standin = StandIn::builder().generated_tasks(50, 3).build();
    // Too large: the same page would be too large again, so it is not fetched again.
    let huge = format!(
        "{{\"count\": 0, \"total\": 0, \"tasks\": []}}{}",
        " ".repeat(17 << 20)
    );
    standin.push_reply(Reply::raw(200, "application/json", huge));
    let r = demo_run(&standin, &["--list"], None);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_contains(&r.stderr, "HTTP 200 (the answer's body is over 16 MiB)");
    assert_eq!(r.stdout, "");
    assert_eq!(standin.requests().len(), 1);

    // A head ureq refuses: a 200 that says nothing readable.
    standin.push_reply(Reply::raw(200, "application/json", "{}").with_raw_header("no colon here"));
    let r = demo_run(&standin, &["--failed", "--retries", "0"], None);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_contains(&r.stderr, "HTTP 200 (the answer's head could not be read: ");
    assert_contains(&r.stderr, "nothing was retried");
    assert!(standin.accepted_ids().is_empty());
}

#[test]
fn a_cron_line_with_a_profile_just_works() {
    let standin = StandIn::builder().generated_tasks(400, 13).build();
    let home = Home::new();
    home.profile_file(&format!(
        "[prod]\naccess_key_id = \"{DEMO_KEY_ID}\"\naccess_key_secret = \"{DEMO_KEY_SECRET}\"\n{}",
        target_toml(&standin)
    ));
    let r = run(
        home.command()
            .args(["--profile", "prod", "--failed", "--since", "2h", "-q"]),
        None,
    );
    assert_eq!((r.code, r.stdout.as_str(), r.stderr.as_str()), (0, "", ""));
    let t = now();
    assert!(
        failed_between(&standin.tasks(), t - 2 * 3600 + 5, t).is_subset(&accepted_once(&standin))
    );
}

/// Hostile task IDs and server text never reach the terminal raw: terminal escape sequences
/// (retitling, clearing), bidirectional overrides and zero-width characters are shown escaped in
/// every human line, `--list` and `--dry-run` included.
#[test]
fn server_text_and_ids_never_reach_the_terminal_raw() {
    let t = now();
    let hostile = [
        "\u{1b}]0;pwned\u{7}",
        "\u{1b}[2J",
        "abc\u{202e}fed",
        "a\u{200b}b",
    ];
    let tasks = hostile
        .iter()
        .enumerate()
        .map(|(i, id)| Task::new(id, "fail", t - 100 - i as i64))
        .collect();
    let standin = StandIn::builder().tasks(tasks).build();
    let raw = |text: &str| {
        text.chars()
            .any(|c| c.is_control() && c != '\n' || matches!(c, '\u{202e}' | '\u{200b}'))
    };

    let r = demo_run(&standin, &["--list"], None);
    assert!(
        !raw(&r.stdout) && !raw(&r.stderr),
        "{:?} {:?}",
        r.stdout,
        r.stderr
    );
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert!(lines.contains(&"abc\\u{202e}fed"), "{lines:?}");
    assert!(lines.contains(&"a\\u{200b}b"), "{lines:?}");

    let r = demo_run(
        &standin,
        &["--dry-run", "abc\u{202e}fed", "a\u{200b}b"],
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!raw(&r.stdout) && !raw(&r.stderr), "{:?}", r.stdout);
    assert_contains(&r.stdout, "abc\\u{202e}fed a\\u{200b}b");

    standin.push_reply(Reply::error(
        400,
        "Param\u{200b}Invalid",
        "bad \u{202e}di\u{1b}[2J",
    ));
    let r = demo_run(&standin, &["--retries", "0", "-v", "x"], None);
    assert_eq!(r.code, 1);
    assert!(
        !raw(&r.stdout) && !raw(&r.stderr),
        "{:?} {:?}",
        r.stdout,
        r.stderr
    );
    assert_contains(
        &r.stdout,
        "Param\\u{200b}Invalid: bad \\u{202e}di\\u{1b}[2J",
    );
}

/// A listing that repeats its first page while claiming a billion tasks ends at the page that
/// brings nothing new: what was read is retried, the shortfall is a warning and exit 1, and the
/// service is not asked thousands of times.
#[test]
fn a_listing_that_repeats_itself_ends_and_is_reported_incomplete() {
    let standin = StandIn::builder()
        .tasks(recent_failures(7))
        .claimed_total(1_000_000_000)
        .repeat_first_page()
        .build();
    let r = demo_run(&standin, &["--failed", "--json"], None);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(list_pages(&standin) <= 3, "{} GETs", list_pages(&standin));
    assert_eq!(accepted_once(&standin).len(), 7, "what was read is retried");
    assert_contains(
        &r.stderr,
        "warning: the listing does not add up: read 7 tasks, the service reported 1000000000",
    );
    let summary = r.json_lines().pop().unwrap();
    assert_eq!(
        (summary["ok"].as_u64(), summary["failed"].as_u64()),
        (Some(1), Some(0))
    );

    let r = demo_run(&standin, &["--list"], None);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(r.stdout.lines().count(), 7);
    assert_contains(&r.stderr, "read 7 tasks, the service reported 1000000000");
}

/// A `total` smaller or larger than what the pages hold is said, with both numbers.
#[test]
fn a_total_that_does_not_add_up_is_a_warning_and_exit_1() {
    for claimed in [3, 12] {
        let standin = StandIn::builder()
            .tasks(recent_failures(5))
            .claimed_total(claimed)
            .build();
        let r = demo_run(&standin, &["--failed"], None);
        assert_eq!(r.code, 1, "{claimed}: {}", r.stderr);
        assert_eq!(accepted_once(&standin).len(), 5, "{claimed}");
        assert!(
            r.stderr
                .contains(&format!("read 5 tasks, the service reported {claimed}")),
            "{claimed}: {}",
            r.stderr
        );
    }
    // When it adds up, nothing is said.
    let standin = StandIn::builder().tasks(recent_failures(5)).build();
    let r = demo_run(&standin, &["--failed"], None);
    assert_eq!((r.code, r.stderr.as_str()), (0, ""));
}

/// `aliyunlog log get_shipper_tasks --size=-1` prints only its first page's tasks while its count
/// and total cover them all: taken from stdin, that is said, with a hint, and exit 1.
#[test]
fn an_incomplete_document_on_stdin_is_said_to_be() {
    let standin = StandIn::start();
    let tasks: Vec<serde_json::Value> = (0..500)
        .map(|i| serde_json::json!({"id": format!("f-{i}"), "taskStatus": "fail"}))
        .collect();
    let doc = serde_json::json!({"count": 1200, "total": 1200, "tasks": tasks});
    let r = demo_run(&standin, &[], Some(&doc.to_string()));
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(standin.accepted_ids().len(), 500);
    assert_contains(
        &r.stderr,
        "the GetShipperStatus documents on stdin hold 500 tasks but count 1200",
    );
    assert_contains(&r.stderr, "--failed");
}

/// One malformed task ID in a listing is skipped with a warning; the others go ahead.
#[test]
fn a_malformed_id_from_the_server_is_skipped_not_fatal() {
    let t = now();
    let mut tasks = recent_failures(100);
    tasks.push(Task::new("bad id", "fail", t - 10));
    tasks.push(Task::new("bad\u{1b}[2Jid", "fail", t - 11));
    let standin = StandIn::builder().tasks(tasks).build();
    let r = demo_run(&standin, &["--failed", "--json"], None);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(accepted_once(&standin).len(), 100);
    assert_contains(&r.stderr, "skipped task id \"bad id\"");
    assert_contains(&r.stderr, "\"bad\\u{1b}[2Jid\"");
    assert!(!r.stderr.contains('\u{1b}'));
    let lines = r.json_lines();
    assert_eq!(
        lines[0]["failed"], 102,
        "found counts what the listing held"
    );
    let summary = lines.last().unwrap();
    assert_eq!(summary["skipped"], 2, "{summary}");
    assert_eq!(summary["accepted_ids"], 100, "{summary}");

    let r = demo_run(&standin, &["--failed", "--dry-run"], None);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let header = r
        .stdout
        .lines()
        .find(|l| l.starts_with("dry run:"))
        .unwrap();
    assert!(header.ends_with(", 2 skipped"), "{header}");
    // It did list (a read-only GET) and retried nothing, and says exactly that.
    assert!(
        header.starts_with("dry run: would retry 100 task ids in 10 batches to http://")
            && header.contains(
                "; nothing was retried (finding them took 1 read-only GetShipperStatus request)"
            ),
        "{header}"
    );

    // --list leaves them out, so what it prints can be piped back in.
    let r = demo_run(&standin, &["--list"], None);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(r.stdout.lines().count(), 100);
    assert!(!r.stdout.contains("bad"));
    assert_contains(&r.stderr, "skipped task id \"bad id\"");
}
