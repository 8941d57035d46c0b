//! A 3 a.m. cron run meets dropped connections, 5xx, throttling, a drifting clock, hangs and
//! typos: every run ends with every task ID in a known, reported state.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use standin::{DEMO_ENV, DEMO_KEY_ID, Reply, StandIn};

use crate::harness::{
    Background, Home, Run, assert_contains, assert_starts_with, feed, ids, patiently,
    recent_failures, run, run_to, set_mode,
};

/// A run against `standin` whose IDs come on stdin and whose `--save-failed` is `save`, with
/// the shipper misspelt so that no ID is accepted.
fn unaccepted_run(home: &Home, standin: &StandIn, save: &Path, extra: &[&str], stdin: &str) -> Run {
    run(
        home.command()
            .envs(DEMO_ENV)
            .args(standin.target_with_shipper("typo-shipper"))
            .args(["--save-failed".as_ref(), save.as_os_str()])
            .args(extra),
        Some(stdin),
    )
}

/// The demo stand-in, a home, and `left.txt` in it for `--save-failed` (not there yet).
fn save_failed_setup() -> (StandIn, Home, PathBuf) {
    let home = Home::new();
    let save = home.path().join("left.txt");
    (StandIn::start(), home, save)
}

/// How many times each ID was accepted.
fn acceptances(standin: &StandIn) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for id in standin.accepted_ids() {
        *counts.entry(id).or_default() += 1;
    }
    counts
}

#[test]
fn hundreds_of_ids_through_a_mix_of_faults_are_all_accepted_exactly_once() {
    let standin = StandIn::builder()
        .fault_seed(2026)
        .error_rate(0.05, 503, "ServerBusy")
        .error_rate(0.03, 500, "InternalServerError")
        .error_rate(0.03, 502, "")
        .error_rate(0.03, 403, "WriteQuotaExceed")
        .error_rate(0.02, 429, "")
        .drop_rate(0.04)
        .build();
    let home = Home::new();
    let all = ids(400);
    let r = run(
        home.demo(&standin).args(["--json", "--retries", "10"]),
        Some(&all.join("\n")),
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);

    let counts = acceptances(&standin);
    assert_eq!(
        counts.keys().cloned().collect::<Vec<_>>(),
        all,
        "every ID accepted"
    );
    assert!(counts.values().all(|&n| n == 1), "none accepted twice");

    let lines = r.json_lines();
    let batches: Vec<_> = lines.iter().filter(|l| l["type"] == "batch").collect();
    assert_eq!(batches.len(), 40);
    assert!(batches.iter().all(|b| b["status"] == "ok"));
    let attempts: u64 = batches
        .iter()
        .map(|b| b["attempts"].as_u64().unwrap())
        .sum();
    let puts = standin
        .requests()
        .iter()
        .filter(|q| q.method == "PUT")
        .count() as u64;
    assert_eq!(
        attempts, puts,
        "the report counts every attempt the server saw"
    );
    assert!(
        attempts > 40,
        "faults were injected and retried: {attempts}"
    );
    let dropped = standin.requests().iter().filter(|q| q.status == 0).count();
    assert!(
        standin.connections() <= 1 + dropped,
        "one keep-alive connection, a new one only after a drop: {} connections, {dropped} drops",
        standin.connections()
    );
}

#[test]
fn an_error_every_batch_would_meet_stops_the_run_with_a_hint() {
    let (standin, home, save) = save_failed_setup();
    let all = ids(45);
    let r = unaccepted_run(&home, &standin, &save, &[], &all.join("\n"));
    assert_eq!(r.code, 1);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_starts_with(
        lines[0],
        "batch 1/5  10 ids  FAILED  400  ShipperNotExist: Shipper does not exist.",
    );
    for (i, line) in lines[1..5].iter().enumerate() {
        assert!(
            line.contains("NOT SENT  -    stopped after ShipperNotExist in batch 1"),
            "batch {}: {line}",
            i + 2
        );
    }
    assert_eq!(
        lines[5],
        "retried 0 of 45 task ids in 5 batches: 0 ok, 1 failed, 4 not sent"
    );
    assert_contains(
        &r.stderr,
        "sls-retry: error: batch 1 failed with ShipperNotExist, which every batch would meet: check --shipper; the remaining 4 batches were not sent (--keep-going sends them anyway)",
    );
    assert_eq!(standin.requests().len(), 1, "one request, not five");
    assert_eq!(
        std::fs::read_to_string(&save).unwrap(),
        all.join("\n") + "\n",
        "every ID not accepted, ready to pipe back"
    );

    // --keep-going sends them all anyway.
    let r = run(
        home.command()
            .env("ALIBABA_CLOUD_ACCESS_KEY_ID", DEMO_KEY_ID)
            .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "wrong-secret")
            .args(standin.demo_target())
            .args(["--keep-going", "--json"]),
        Some(&all.join("\n")),
    );
    assert_eq!(r.code, 1);
    let lines = r.json_lines();
    assert_eq!(
        lines
            .iter()
            .filter(|l| l["error_code"] == "SignatureNotMatch")
            .count(),
        5
    );
    assert_eq!(standin.requests().len(), 6);
}

#[test]
fn save_failed_is_empty_when_all_succeed_and_lists_what_failed_otherwise() {
    let standin = StandIn::start();
    let home = Home::new();
    let save = home.path().join("failed.txt");
    std::fs::write(&save, "stale content\n").unwrap();
    let r = run(
        home.demo(&standin)
            .args(["--save-failed", save.to_str().unwrap(), "a", "b"]),
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(std::fs::read_to_string(&save).unwrap(), "");

    standin.push_reply(Reply::too_many_ids());
    let mut cmd = home.demo(&standin);
    cmd.args(["--batch-size", "2", "--save-failed", save.to_str().unwrap()]);
    let r = run(cmd.args(["a", "b", "c", "d"]), None);
    assert_eq!(r.code, 1);
    assert_eq!(std::fs::read_to_string(&save).unwrap(), "a\nb\n");
    let leftovers: Vec<_> = std::fs::read_dir(home.path())
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().into_string().unwrap();
            name.contains(".tmp-").then_some(name)
        })
        .collect();
    assert!(
        leftovers.is_empty(),
        "no temporary file left: {leftovers:?}"
    );

    // Piped back in, they go through.
    let again = std::fs::read_to_string(&save).unwrap();
    let r = run(
        home.demo(&standin)
            .args(["--save-failed", save.to_str().unwrap()]),
        Some(&again),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(std::fs::read_to_string(&save).unwrap(), "");

    // A directory that does not exist is an error before anything is sent.
    let before = standin.requests().len();
    let r = run(
        home.demo(&standin)
            .args(["--save-failed", "/no/such/dir/f.txt", "a"]),
        None,
    );
    assert_eq!(r.code, 2);
    assert_contains(
        &r.stderr,
        "--save-failed /no/such/dir/f.txt: directory /no/such/dir does not exist",
    );
    assert_eq!(standin.requests().len(), before);
}

#[test]
fn retry_after_is_honoured_and_attempts_are_reported() {
    let standin = StandIn::start();
    standin.push_reply(Reply::raw(429, "", "").with_header("Retry-After", "1"));
    let home = Home::new();
    let r = run(home.demo(&standin).args(["-v", "a"]), None);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_contains(&r.stderr, "-> 429 in ");
    assert_contains(&r.stderr, "; retrying in 1000 ms");
    assert_starts_with(&r.stdout, "batch 1/1   1 ids  ok      200  request ");
    assert!(
        r.stdout.lines().next().unwrap().ends_with("(2 attempts)"),
        "{}",
        r.stdout
    );
}

#[test]
fn a_server_that_hangs_is_timed_out() {
    let standin = StandIn::builder().hang().build();
    let home = Home::new();
    let r = run(
        home.demo(&standin)
            .args(["--timeout", "1", "--retries", "1", "--json", "a"]),
        None,
    );
    assert_eq!(r.code, 1);
    let batch = &r.json_lines()[0];
    assert_eq!(batch["status"], "failed");
    assert_eq!(batch["http_status"], serde_json::Value::Null);
    assert_eq!(batch["attempts"], 2);
    assert!(
        batch["error_message"]
            .as_str()
            .unwrap()
            .starts_with("timed out after 1s talking to http://127.0.0.1:"),
        "{batch}"
    );
}

#[test]
fn truncated_dropped_and_redirected_answers_are_failures_that_say_so() {
    let standin = StandIn::start();
    standin.push_reply(Reply::truncated(200, "", 10));
    standin.push_reply(Reply::drop_connection());
    standin.push_reply(Reply::redirect(301, "https://elsewhere.example/"));
    let home = Home::new();
    let mut cmd = home.demo(&standin);
    cmd.args(["--retries", "0", "--batch-size", "1", "--keep-going"]);
    let r = run(cmd.args(["a", "b", "c", "d"]), None);
    assert_eq!(r.code, 1);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_starts_with(lines[0], "batch 1/4   1 ids  FAILED  -    ");
    assert_starts_with(
        lines[1],
        "batch 2/4   1 ids  FAILED  -    connection to http://127.0.0.1:",
    );
    assert_eq!(
        lines[2],
        "batch 3/4   1 ids  FAILED  301  redirected to https://elsewhere.example/; check the endpoint"
    );
    assert_contains(lines[3], "ok      200");

    // With retries (the default), the same faults are retried away.
    standin.push_reply(Reply::truncated(200, "", 10));
    standin.push_reply(Reply::drop_connection());
    let r = run(home.demo(&standin).args(["e"]), None);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert_contains(&r.stdout, "(3 attempts)");
}

/// Start a run, signal it once some batches went through, and read what it reported and saved.
fn interrupted_run(signal: &str) -> (Run, Vec<String>, StandIn) {
    let standin = StandIn::builder().delay(Duration::from_millis(150)).build();
    let home = Home::new();
    let save = home.path().join("left.txt");
    let mut cmd = home.demo(&standin);
    cmd.args(["--batch-size", "1", "--json", "--save-failed"])
        .arg(&save)
        .args(ids(40));
    let run = Background::spawn(&mut cmd, Stdio::null());
    let going = patiently(|| standin.requests().len() >= 3);
    assert!(going, "the run never got going");
    run.signal(signal);
    let sent_at_signal = standin.requests().len();
    let r = run.finish();
    let after = standin.requests().len();
    assert!(
        after <= sent_at_signal + 1,
        "only the batch in flight finishes: {sent_at_signal} then {after}"
    );
    let saved = std::fs::read_to_string(&save)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    (r, saved, standin)
}

#[test]
fn sigterm_and_sigint_stop_new_batches_report_the_rest_and_save_them() {
    for (signal, code) in [("-TERM", 143), ("-INT", 130)] {
        let (r, saved, standin) = interrupted_run(signal);
        assert_eq!(r.code, code, "{signal}");
        let lines = r.json_lines();
        let summary = lines.last().unwrap();
        assert_eq!(summary["type"], "summary", "the summary still comes last");
        let batches = &lines[..lines.len() - 1];
        assert_eq!(batches.len(), 40, "every batch reported");
        let ok = batches.iter().filter(|b| b["status"] == "ok").count();
        let not_sent = batches.iter().filter(|b| b["status"] == "not_sent").count();
        assert_eq!(ok + not_sent, 40);
        assert!(ok >= 3 && not_sent > 0, "{ok} ok, {not_sent} not sent");
        assert_eq!(
            ok,
            standin.accepted_ids().len(),
            "what was accepted is reported ok"
        );
        assert_eq!(
            saved.len(),
            not_sent,
            "--save-failed holds exactly the IDs not sent"
        );
        assert!(saved.iter().all(|id| !standin.accepted_ids().contains(id)));
        assert_eq!(summary["not_sent"], not_sent);
    }
}

#[test]
fn a_catalogue_of_bad_input() {
    let standin = StandIn::start();
    let home = Home::new();
    let dir = home.path().join("a-directory");
    std::fs::create_dir(&dir).unwrap();
    let check = |r: Run, message: &str| {
        r.assert_usage_error(message);
        assert_eq!(r.stdout, "");
    };
    let bare = |args: &[String], stdin: Option<&[u8]>| {
        feed(
            home.command().envs(DEMO_ENV).args(args),
            stdin.unwrap_or_default(),
        )
    };
    let target = ["-p", "proj", "-l", "l", "-s", "s"];
    let with_endpoint = |endpoint: &str, extra: &[&str]| -> Vec<String> {
        let endpoint = ["-e", endpoint];
        target
            .iter()
            .chain(&endpoint)
            .chain(extra)
            .map(|s| s.to_string())
            .collect()
    };
    let with = |extra: &[&str]| with_endpoint("h.example", extra);
    let t = with(&[]);

    for (endpoint, why) in [
        (
            "https://h.example/logstores",
            "a path, query or fragment is not allowed",
        ),
        ("ftp://h.example", "only http:// and https:// are supported"),
        (
            "h.example:99999",
            "the port must be a number from 1 to 65535",
        ),
        ("https://user@h.example", "user info is not allowed"),
        ("http://[::1", "unclosed '['"),
    ] {
        check(bare(&with_endpoint(endpoint, &["x"]), None), why);
    }
    check(
        bare(&with(&["--config", dir.to_str().unwrap(), "x"]), None),
        "cannot read profile file",
    );
    check(
        bare(&with(&["--profile", "nope", "x"]), None),
        "profile \"nope\" (from --profile) not found",
    );
    check(
        bare(&t, Some(b"ok-1\nbad\x00id\n")),
        "invalid task id \"bad\\u{0}id\" at stdin line 2: it contains a control character",
    );
    check(
        bare(&t, Some(b"ok-1\n\xc3\x28\n")),
        "stdin is not valid UTF-8 (at byte 5)",
    );
    check(
        bare(&t, Some(b"\x7fELF\x02\x01\x01\x00\x00\x00")),
        "control character",
    );
    check(
        bare(&with(&["--list", "--failed"]), None),
        "cannot be used with",
    );
    check(
        bare(&with(&["--json", "--quiet", "x"]), None),
        "cannot be used with",
    );
    check(
        bare(&with(&["--batch-size", "11", "x"]), None),
        "11 is not in 1..=10",
    );
    let huge = vec![b'a'; 129 * 1024 * 1024];
    check(
        bare(&t, Some(&huge)),
        "stdin is larger than 128 MiB; split the input",
    );
    let many: String = (0..1_000_001).map(|i| format!("{i:x}\n")).collect();
    check(
        bare(&t, Some(many.as_bytes())),
        "1000001 task ids is more than the 1000000 one run takes",
    );

    // Empty stdin is not an error: nothing to do.
    let r = run(&mut home.demo(&standin), Some(""));
    assert_eq!((r.code, r.stdout.as_str()), (0, "nothing to retry\n"));
    assert!(standin.requests().is_empty());
}

/// A producer that keeps stdin open does not keep a signalled run alive: it ends with 143,
/// having sent nothing, and says so.
#[test]
fn a_signal_while_stdin_is_still_open_ends_the_run() {
    let standin = StandIn::start();
    let home = Home::new();
    let mut run = Background::spawn(home.demo(&standin).args(["-v", "--json"]), Stdio::piped());
    // Some IDs, and stdin left open (until the test ends), as a slow producer would.
    let mut stdin = run.stdin();
    std::io::Write::write_all(&mut stdin, b"task-1\ntask-2\n").unwrap();
    run.wait_for_stderr("sls-retry: endpoint ");
    run.signal("-TERM");
    let r = run.finish();
    assert_eq!(r.code, 143, "{}", r.stderr);
    assert_contains(
        &r.stderr,
        "interrupted by SIGTERM while reading task ids from stdin; nothing was sent",
    );
    assert!(standin.requests().is_empty());
    let summary: serde_json::Value = serde_json::from_str(r.stdout.trim()).unwrap();
    assert_eq!(
        (summary["type"].as_str(), summary["ids"].as_u64()),
        (Some("summary"), Some(0))
    );
}

/// A signal during a long listing stops it there: no more pages, nothing retried.
#[test]
fn a_signal_during_a_listing_stops_it_at_once() {
    let standin = StandIn::builder()
        .tasks(recent_failures(200))
        .max_page(10)
        .delay(Duration::from_millis(200))
        .build();
    let home = Home::new();
    let run = Background::spawn(home.demo(&standin).args(["--failed", "-v"]), Stdio::null());
    run.wait_for_stderr("GetShipperStatus offset 0:");
    run.signal("-INT");
    let r = run.finish();
    assert_eq!(r.code, 130, "{}", r.stderr);
    let gets = standin
        .requests()
        .iter()
        .filter(|q| q.method == "GET")
        .count();
    assert!(
        gets <= 3,
        "the listing went on after the signal: {gets} of 20 pages"
    );
    assert!(standin.accepted_ids().is_empty());
    assert_contains(
        &r.stderr,
        "interrupted by SIGINT while listing the shipper's tasks; nothing was retried",
    );
    assert_eq!(r.stdout, "", "no report line claims anything");
}

/// Root ignores permission bits; a directory it may not write proves the run is unprivileged.
fn privileged(read_only_dir: &Path) -> bool {
    let probe = read_only_dir.join("probe");
    let created = std::fs::File::create(&probe).is_ok();
    let _ = std::fs::remove_file(probe);
    created
}

/// Writability, not just the directory's existence, is checked before anything is sent; the
/// cases before the last two fail for root as well.
#[test]
fn an_unwritable_save_failed_path_is_refused_before_anything_is_sent() {
    let standin = StandIn::start();
    let home = Home::new();
    let plain = home.write("plain.txt", "", 0o600);
    let dir = home.path().join("a-dir");
    std::fs::create_dir(&dir).unwrap();
    let read_only = home.path().join("read-only");
    std::fs::create_dir(&read_only).unwrap();
    set_mode(&read_only, 0o555);
    let locked = home.write("locked.txt", "", 0o444);
    let mut cases = vec![
        (
            Path::new("/proc/left.txt").to_owned(),
            "cannot create a file in /proc".to_string(),
        ),
        (
            Path::new("/sys/left.txt").to_owned(),
            "cannot create a file in /sys".into(),
        ),
        (dir.clone(), "is a directory; give a file name".into()),
        (
            plain.join("left.txt"),
            format!("{} is not a directory", plain.display()),
        ),
    ];
    if !privileged(&read_only) {
        cases.push((
            read_only.join("left.txt"),
            format!("cannot create a file in {}", read_only.display()),
        ));
        cases.push((locked, "Permission denied".into()));
    }
    for (save, message) in cases {
        let r = unaccepted_run(&home, &standin, &save, &[], "a\n");
        r.assert_usage_error(&message);
        assert!(
            standin.requests().is_empty(),
            "{}: nothing sent",
            save.display()
        );
    }
}

/// A write that passes the check and fails only at the end (a link to /dev/full: the device
/// takes the open, then has no space) loses no ID: they follow the error on stderr.
#[test]
fn a_save_failed_write_that_fails_at_the_end_leaves_the_ids_on_stderr() {
    let (standin, home, save) = save_failed_setup();
    std::os::unix::fs::symlink("/dev/full", &save).unwrap();
    let all = ids(12);
    for extra in [&[][..], &["-q"], &["--json"]] {
        let r = unaccepted_run(&home, &standin, &save, extra, &all.join("\n"));
        assert_eq!(r.code, 1, "{extra:?}: {}", r.stderr);
        let mut after = (r.stderr.lines())
            .skip_while(|l| !l.starts_with("sls-retry: error: cannot write --save-failed "));
        let error = after
            .next()
            .unwrap_or_else(|| panic!("{extra:?}: {}", r.stderr));
        assert!(error.contains("No space left on device"), "{error}");
        assert!(
            error.ends_with("the 12 task ids not accepted follow, one per line"),
            "{error}"
        );
        assert_eq!(after.collect::<Vec<_>>(), all, "{extra:?}");
        let link = std::fs::symlink_metadata(&save).unwrap();
        assert!(link.file_type().is_symlink(), "the link stays a link");
    }
}

/// A symlink is written through and stays a link; a FIFO is written, not replaced.
#[test]
fn save_failed_writes_through_symlinks_and_fifos_without_replacing_them() {
    use std::os::unix::fs::{FileTypeExt, OpenOptionsExt, PermissionsExt, symlink};
    let standin = StandIn::start();
    let home = Home::new();
    let all = ids(3).join("\n") + "\n";
    let real = home.write("data/real.txt", "old content\n", 0o640);
    let link = home.path().join("link.txt");
    symlink("data/real.txt", &link).unwrap();
    let dangling = home.path().join("dangling.txt");
    symlink("data/new.txt", &dangling).unwrap();
    let fifo = home.path().join("fifo");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    assert!(made.unwrap().success());

    unaccepted_run(&home, &standin, &link, &[], &all);
    assert!(link.symlink_metadata().unwrap().file_type().is_symlink());
    assert_eq!(std::fs::read_to_string(&real).unwrap(), all);
    let mode = real.metadata().unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o640, "the file keeps its permissions");

    unaccepted_run(&home, &standin, &dangling, &[], &all);
    assert!(
        dangling
            .symlink_metadata()
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(
        std::fs::read_to_string(home.path().join("data/new.txt")).unwrap(),
        all
    );

    // Opened for reading first and without blocking, so that the run's open for writing finds a
    // reader and nothing here can wait forever.
    let mut reader = std::fs::File::options()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(&fifo)
        .unwrap();
    let r = unaccepted_run(&home, &standin, &fifo, &[], &all);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let mut got = String::new();
    std::io::Read::read_to_string(&mut reader, &mut got).unwrap();
    assert_eq!(got, all);
    assert!(fifo.symlink_metadata().unwrap().file_type().is_fifo());
    assert!(
        std::fs::read_dir(home.path()).unwrap().all(|e| !e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .contains(".tmp")),
        "no temporary file left"
    );
}

/// The old writer's temporary name, `<path>.tmp-<pid>`, could be guessed and was followed: a
/// link planted there had another file overwritten. The run reads its IDs after its checks,
/// which leaves time to plant one while it waits on stdin.
#[test]
fn a_link_planted_at_a_guessable_temporary_name_redirects_nothing() {
    use std::io::Write as _;
    let (standin, home, save) = save_failed_setup();
    standin.push_reply(Reply::error(500, "InternalServerError", "").with_header("x", "y"));
    let victim = home.write("victim.txt", "precious\n", 0o600);
    let mut cmd = home.demo(&standin);
    cmd.args(["--retries", "0", "--save-failed", save.to_str().unwrap()]);
    let mut run = Background::spawn(&mut cmd, Stdio::piped());
    let planted = home.path().join(format!("left.txt.tmp-{}", run.id()));
    std::os::unix::fs::symlink(&victim, &planted).unwrap();
    let mut stdin = run.stdin();
    stdin.write_all(b"a\nb\n").unwrap();
    drop(stdin);
    let r = run.finish();
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
    assert!(
        save.symlink_metadata().unwrap().is_file(),
        "a file, not the link"
    );
    assert_eq!(std::fs::read_to_string(&save).unwrap(), "a\nb\n");
}

/// `/dev/null` is written and stays the device; `/dev/stdout` is the run's own stdout, a pipe
/// or a file, and gets the IDs after the report instead of being replaced.
#[test]
fn save_failed_to_dev_null_or_dev_stdout_leaves_them_what_they_are() {
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    let standin = StandIn::start();
    let home = Home::new();
    let null = Path::new("/dev/null");
    let r = unaccepted_run(&home, &standin, null, &[], "a\nb\n");
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(!r.stderr.contains("--save-failed"), "{}", r.stderr);
    assert!(
        null.symlink_metadata()
            .unwrap()
            .file_type()
            .is_char_device()
    );

    let stdout = Path::new("/dev/stdout");
    let r = unaccepted_run(&home, &standin, stdout, &["-q"], "a\nb\n");
    assert_eq!((r.code, r.stdout.as_str()), (1, "a\nb\n"), "{}", r.stderr);

    let file = home.write("report.txt", "", 0o600);
    let inode = file.metadata().unwrap().ino();
    standin.push_reply(Reply::error(400, "ParameterInvalid", "no"));
    let r = run_to(
        home.demo(&standin)
            .args(["--save-failed", "/dev/stdout", "a", "b"]),
        std::fs::File::create(&file).unwrap().into(),
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.starts_with("batch 1/1   2 ids  FAILED  400"), "{text}");
    assert!(
        text.ends_with("\nretried 0 of 2 task ids in 1 batch: 0 ok, 1 failed\na\nb\n"),
        "{text}"
    );
    assert_eq!(
        file.metadata().unwrap().ino(),
        inode,
        "the same file, not a new one"
    );
}

/// The run's batch lines, and how many requests the stand-in received.
fn sent(standin: &StandIn) -> usize {
    standin.requests().len()
}

/// A 400 RequestTimeExpired answer, with the server clock's Date.
fn expired() -> Reply {
    Reply::error(400, "RequestTimeExpired", "Request time has been expired.")
}

/// A 400 RequestTimeExpired answer carrying `date` as its Date (`None`: no Date at all).
fn expired_with_date(date: Option<&str>) -> Reply {
    let reply = expired();
    match date {
        Some(date) => reply.with_header("Date", date),
        None => reply.without_date(),
    }
}

#[test]
fn a_server_date_at_the_end_of_year_9999_fails_the_batch_and_never_crashes() {
    let (standin, home, save) = save_failed_setup();
    standin.push_proxy_reply(expired_with_date(Some("Fri, 31 Dec 9999 23:59:59 GMT")));
    // Were the clock corrected to that date, the next signature, two seconds on, would fall past
    // the last second an HTTP date can carry.
    standin.push_proxy_reply(Reply::raw(503, "", "").with_header("Retry-After", "2"));
    let save = save.to_str().unwrap();
    let r = run(home.demo(&standin).args(["--save-failed", save, "a"]), None);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert!(
        lines[0].starts_with(
            "batch 1/1   1 ids  FAILED  400  RequestTimeExpired: Request time has been expired."
        ),
        "{}",
        r.stdout
    );
    assert!(lines[1].ends_with("0 ok, 1 failed"), "{}", r.stdout);
    assert_eq!(std::fs::read_to_string(save).unwrap(), "a\n");
    assert_eq!(sent(&standin), 1, "no correction, so no second attempt");
    assert_contains(
        &r.stderr,
        "warning: the server answered RequestTimeExpired with a Date the clock cannot be set to (\"Fri, 31 Dec 9999 23:59:59 GMT\")",
    );
}

#[test]
fn a_missing_or_garbage_date_means_no_correction() {
    let cases = [
        (None, "without a Date: the clock cannot be corrected"),
        (
            Some("yesterday, around noon"),
            "with a Date the clock cannot be set to (\"yesterday, around noon\")",
        ),
        (
            Some("Fri, 31 D\u{e9}c 2027 10:00:00 GMT"),
            "with a Date the clock cannot be set to (\"Fri, 31 D\u{e9}c 2027 10:00:00 GMT\")",
        ),
    ];
    for (date, warning) in cases {
        let standin = StandIn::start();
        standin.push_reply(expired_with_date(date));
        let home = Home::new();
        let r = run(
            home.demo(&standin).args(["--batch-size", "1", "a", "b"]),
            None,
        );
        assert_eq!(r.code, 1, "{date:?}: {}", r.stderr);
        let lines: Vec<&str> = r.stdout.lines().collect();
        assert!(
            lines[0].contains("FAILED  400  RequestTimeExpired: Request time has been expired."),
            "{date:?}: {}",
            lines[0]
        );
        assert!(lines[1].contains("ok      200"), "{date:?}: {}", lines[1]);
        assert_eq!(sent(&standin), 2, "{date:?}: each batch sent once");
        let warning = format!("warning: the server answered RequestTimeExpired {warning}");
        assert!(r.stderr.contains(&warning), "{date:?}: {}", r.stderr);
    }
}

#[test]
fn request_time_too_skewed_is_corrected_like_request_time_expired() {
    let standin = StandIn::builder()
        .clock_skew_secs(-7200)
        .request_time_code("RequestTimeTooSkewed")
        .build();
    let home = Home::new();
    let r = run(
        home.demo(&standin).args(["--batch-size", "1", "a", "b"]),
        None,
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(standin.accepted_ids(), ["a", "b"]);
    let skewed = standin.refusals("RequestTimeTooSkewed");
    assert_eq!(skewed, 1, "the first answer corrects the clock for the run");
    let ahead = |secs| format!("warning: the local clock is {secs} seconds ahead of the server's");
    assert!(
        [7200, 7199, 7201]
            .iter()
            .any(|&secs| r.stderr.contains(&ahead(secs))),
        "{}",
        r.stderr
    );
}

#[test]
fn a_request_time_refusal_from_a_server_whose_clock_agrees_is_not_retried() {
    let standin = StandIn::start();
    standin.push_reply(expired());
    let home = Home::new();
    let r = run(home.demo(&standin).args(["a"]), None);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_contains(
        &r.stdout,
        "FAILED  400  RequestTimeExpired: Request time has been expired.",
    );
    assert_eq!(sent(&standin), 1);
    assert!(!r.stderr.contains(" 0 seconds"), "{}", r.stderr);
    assert_contains(
        &r.stderr,
        "warning: the server answered RequestTimeExpired, yet its Date agrees with the clock the request was signed with",
    );
}

#[test]
fn a_200_is_accepted_whatever_its_body_or_headers_hold_and_never_sent_again() {
    let long = format!("X-Long: {}", "a".repeat(70 * 1024));
    let many = (0..200)
        .map(|i| format!("X-H{i}: v"))
        .collect::<Vec<_>>()
        .join("\r\n");
    let odd: Vec<(&str, Vec<u8>)> = vec![
        ("a value that is not UTF-8", b"X-Odd: caf\xe9 \xff".to_vec()),
        (
            "a request id that is not UTF-8",
            b"x-log-requestid: \xff\xfe".to_vec(),
        ),
        ("an obs-fold continuation", b"X-Folded: a\r\n b".to_vec()),
        ("a line without a colon", b"this is not a header".to_vec()),
        ("a space before the colon", b"X-Bad : v".to_vec()),
        ("a name with a parenthesis", b"X(Bad): v".to_vec()),
        ("an empty name", b": v".to_vec()),
        ("a control character in a value", b"X-Ctl: a\x01b".to_vec()),
        ("a NUL in a value", b"X-Nul: a\x00b".to_vec()),
        ("a 70 KiB header", long.into_bytes()),
        ("200 headers", many.into_bytes()),
        (
            "a second, different Content-Length",
            b"Content-Length: 5".to_vec(),
        ),
        (
            "a Content-Length that is no number",
            b"Content-Length: abc".to_vec(),
        ),
        (
            "chunked with no chunk",
            b"Transfer-Encoding: chunked".to_vec(),
        ),
        ("an unknown encoding", b"Content-Encoding: br".to_vec()),
    ];
    for (what, line) in odd {
        let standin = StandIn::start();
        standin.push_reply(Reply::raw(200, "", "").with_raw_header(line));
        let home = Home::new();
        let r = run(home.demo(&standin).args(["--json", "a"]), None);
        assert_eq!(r.code, 0, "{what}: {}\n{}", r.stdout, r.stderr);
        let batch = &r.json_lines()[0];
        assert_eq!(
            (&batch["status"], &batch["http_status"], &batch["attempts"]),
            (&"ok".into(), &200.into(), &1.into()),
            "{what}: {batch}"
        );
        assert_eq!(sent(&standin), 1, "{what}: sent again");
    }

    let standin = StandIn::start();
    standin.push_reply(Reply::raw(200, "text/plain", vec![b'x'; 17 * 1024 * 1024]));
    let home = Home::new();
    let r = run(home.demo(&standin).args(["a"]), None);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert_starts_with(&r.stdout, "batch 1/1   1 ids  ok      200");
    assert_eq!(sent(&standin), 1, "a 17 MiB body: sent again");
}

#[test]
fn another_2xx_is_an_unexpected_status_and_not_retried() {
    let standin = StandIn::start();
    standin.push_reply(Reply::raw(204, "", ""));
    standin.push_reply(Reply::raw(201, "", ""));
    let home = Home::new();
    let r = run(
        home.demo(&standin)
            .args(["--batch-size", "1", "--keep-going", "a", "b"]),
        None,
    );
    assert_eq!(r.code, 1, "{}", r.stdout);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(
        lines[0],
        "batch 1/2   1 ids  FAILED  204  unexpected status 204"
    );
    assert_eq!(
        lines[1],
        "batch 2/2   1 ids  FAILED  201  unexpected status 201"
    );
    assert_eq!(sent(&standin), 2);
}

#[test]
fn a_fractional_retry_after_is_honoured() {
    let standin = StandIn::start();
    standin.push_reply(Reply::raw(503, "", "").with_header("Retry-After", "0.25"));
    standin.push_reply(Reply::raw(429, "", "").with_header("Retry-After", "1e3"));
    let home = Home::new();
    let r = run(home.demo(&standin).args(["-v", "a"]), None);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let waits: Vec<&str> = r
        .stderr
        .lines()
        .filter_map(|l| l.split_once("; retrying in ").map(|(_, w)| w))
        .collect();
    assert_eq!(waits.len(), 2, "{}", r.stderr);
    assert_eq!(waits[0], "250 ms", "{}", r.stderr);
    // An exponent form is no Retry-After: the backoff's own jitter (at most 400 ms) decides.
    let ms: u64 = waits[1].trim_end_matches(" ms").parse().unwrap();
    assert!(ms <= 400, "{}", r.stderr);
    assert_eq!(sent(&standin), 3);
}
