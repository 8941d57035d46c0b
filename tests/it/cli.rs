//! The real binary against the loopback stand-in SLS: cleared environment, temporary HOME,
//! assertions on exit status, stdout, stderr and what the server received.

use std::process::Stdio;

use serde_json::Value;
use standin::{DEMO_ENV, DEMO_KEY_ID, DEMO_LOGSTORE, DEMO_PROJECT, DEMO_SHIPPER, Reply, StandIn};

use crate::harness::{
    Home, Run, assert_contains, assert_ends_with, assert_starts_with, demo_run, ids, in_terminal,
    recent_failures, run, run_to,
};

/// Environment variables for a run.
type Env<'a> = &'a [(&'a str, &'a str)];

/// Run against `standin` with `env` for credentials and the demo target; `stdin` None is an
/// empty pipe.
fn run_with_env(standin: &StandIn, env: Env, args: &[&str], stdin: Option<&str>) -> Run {
    let home = Home::new();
    run(
        home.command()
            .envs(env.iter().copied())
            .args(standin.demo_target())
            .args(args),
        stdin,
    )
}

/// Three one-ID batches, none sent again: one scripted reply each.
const THREE_BATCHES_SENT_ONCE: &[&str] = &["--retries", "0", "--batch-size", "1", "a", "b", "c"];

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

fn batch_sizes(standin: &StandIn) -> Vec<usize> {
    standin.accepted().iter().map(Vec::len).collect()
}

#[test]
fn twenty_five_ids_go_as_10_10_5_over_one_connection() {
    let standin = StandIn::start();
    let all = ids(25);
    let r = demo_run(&standin, &strs(&all), None);

    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(batch_sizes(&standin), [10, 10, 5]);
    assert_eq!(standin.accepted_ids(), all, "every id once, in input order");
    assert_eq!(
        standin.connections(),
        1,
        "one keep-alive connection for every batch"
    );

    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines.len(), 4, "{}", r.stdout);
    assert_starts_with(lines[0], "batch 1/3  10 ids  ok      200  request ");
    assert_starts_with(lines[2], "batch 3/3   5 ids  ok      200  request ");
    assert_eq!(
        lines[3],
        "retried 25 of 25 task ids in 3 batches: 3 ok, 0 failed"
    );
    assert_eq!(r.stderr, "");

    // What the server received is exactly the API: PUT, JSON body, Host naming the project.
    let req = &standin.requests()[0];
    assert_eq!(req.method, "PUT");
    assert_eq!(
        req.path,
        format!("/logstores/{DEMO_LOGSTORE}/shipper/{DEMO_SHIPPER}/tasks")
    );
    assert_eq!(req.header("content-type"), Some("application/json"));
    assert_eq!(
        req.header("host"),
        Some(format!("{DEMO_PROJECT}.127.0.0.1:{}", standin.port()).as_str())
    );
    assert_eq!(req.header("x-log-signaturemethod"), Some("hmac-sha1"));
    assert_eq!(req.header("x-log-apiversion"), Some("0.6.0"));
    let body: Vec<String> = serde_json::from_slice(&req.body).unwrap();
    assert_eq!(body, all[..10]);
}

#[test]
fn batching_of_0_1_10_11_ids() {
    for (n, expected) in [(1, vec![1]), (10, vec![10]), (11, vec![10, 1])] {
        let standin = StandIn::start();
        let r = demo_run(&standin, &strs(&ids(n)), None);
        assert_eq!(r.code, 0, "{n}: {}", r.stderr);
        assert_eq!(batch_sizes(&standin), expected, "{n} ids");
    }

    // Zero ids (an empty pipe): nothing to do is success, and nothing is sent.
    let standin = StandIn::start();
    let r = demo_run(&standin, &[], Some("# no failed tasks today\n"));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, "nothing to retry\n");
    assert!(standin.requests().is_empty());
}

#[test]
fn batch_size_flag() {
    let standin = StandIn::start();
    let r = demo_run(&standin, &["--batch-size", "3"], Some(&ids(7).join("\n")));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(batch_sizes(&standin), [3, 3, 1]);

    for bad in ["0", "11", "x"] {
        let standin = StandIn::start();
        let r = demo_run(&standin, &["--batch-size", bad, "a"], None);
        assert_eq!(r.code, 2, "--batch-size {bad}");
        assert_starts_with(&r.stderr, "sls-retry: error: ");
        assert_contains(&r.stderr, "--batch-size");
        assert!(standin.requests().is_empty());
    }
}

#[test]
fn ids_from_a_pipe_from_dash_and_as_a_json_array() {
    let standin = StandIn::start();
    let r = demo_run(
        &standin,
        &[],
        Some("# failed tasks\ntask-a task-b\n\n  task-c\r\n"),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(standin.accepted_ids(), ["task-a", "task-b", "task-c"]);

    let standin = StandIn::start();
    let r = demo_run(&standin, &["first", "-", "last"], Some("mid-1\nmid-2\n"));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(standin.accepted_ids(), ["first", "mid-1", "mid-2", "last"]);

    let standin = StandIn::start();
    let r = demo_run(&standin, &[], Some(r#"["j-1", "j-2", "任务-3"]"#));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(standin.accepted_ids(), ["j-1", "j-2", "任务-3"]);
}

/// The format is decided by the first character after a byte-order mark, blank lines and `#`
/// comment lines: a commented JSON array is JSON, not five odd "IDs" reported as accepted.
#[test]
fn comments_and_a_bom_before_json_do_not_hide_the_format() {
    for input in [
        "# failed ids\n[\n  \"t-aaa\",\n  \"t-bbb\"\n]\n",
        "\u{feff}\n\n# exported 2026-11-29\n  # by hand\n[\"t-aaa\", \"t-bbb\"]",
    ] {
        let standin = StandIn::start();
        let r = demo_run(&standin, &[], Some(input));
        assert_eq!(r.code, 0, "{input:?}: {}", r.stderr);
        assert_eq!(standin.accepted_ids(), ["t-aaa", "t-bbb"], "{input:?}");
    }

    let standin = StandIn::start();
    let doc = r#"{"count": 2, "total": 2, "tasks": [{"id": "f-1", "taskStatus": "fail"},
        {"id": "s-1", "taskStatus": "success"}]}"#;
    let r = demo_run(&standin, &[], Some(&format!("# from aliyunlog\n{doc}")));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(standin.accepted_ids(), ["f-1"]);

    // A JSON error still points at the right line of the input.
    let standin = StandIn::start();
    let r = demo_run(&standin, &[], Some("# ids\n# more\n[\"a\",\n  oops]"));
    r.assert_usage_error("line 4");
    assert!(standin.requests().is_empty());
}

#[test]
fn duplicates_are_dropped_with_one_warning() {
    let standin = StandIn::start();
    let r = demo_run(&standin, &["a", "b", "-"], Some("a\nc\nb\na\n"));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(standin.accepted_ids(), ["a", "b", "c"]);
    assert_eq!(
        r.stderr,
        "sls-retry: warning: dropped 3 duplicate task ids (first occurrence kept)\n"
    );
}

#[test]
fn an_invalid_id_anywhere_means_nothing_is_sent() {
    let standin = StandIn::start();
    let mut input = ids(30).join("\n");
    input.push_str("\nbad\u{7}id\n");
    let r = demo_run(&standin, &[], Some(&input));
    assert_eq!(r.code, 2);
    assert_eq!(r.stdout, "");
    assert_eq!(
        r.stderr,
        "sls-retry: error: invalid task id \"bad\\u{7}id\" at stdin line 31: it contains a control \
         character; fix the input, nothing was sent\n"
    );
    assert!(standin.requests().is_empty(), "nothing half-sent");

    let r = demo_run(&standin, &[], Some(r#"["ok", 42]"#));
    assert_eq!(r.code, 2);
    assert_contains(&r.stderr, "stdin JSON element 2 is not a string");
    assert!(standin.requests().is_empty());
}

#[test]
fn no_ids_and_a_terminal_is_a_hint_not_a_hang() {
    // The run's stdin is a pseudo-terminal.
    let standin = StandIn::start();
    let r = in_terminal(&Home::new(), &standin, &[]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert_contains(
        &r.stdout,
        "no task ids given; pass them as arguments, or pipe them in",
    );
    assert!(standin.requests().is_empty());
}

#[test]
fn json_report_lines_all_parse_with_the_spec_fields() {
    let standin = StandIn::start();
    standin.push_reply(Reply::internal_error());
    // --retries 0: this test is about reporting a failure, not recovering from it.
    let r = demo_run(
        &standin,
        &["--json", "--retries", "0"],
        Some(&ids(25).join(" ")),
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    let lines = r.json_lines();
    assert_eq!(lines.len(), 4);
    for (i, line) in lines[..3].iter().enumerate() {
        assert_eq!(line["type"], "batch");
        assert_eq!(line["batch"], i + 1);
        assert_eq!(line["batches"], 3);
        assert_eq!(line["attempts"], 1);
        assert!(line["elapsed_ms"].is_u64());
        assert!(
            line["request_id"].as_str().is_some_and(|id| id.len() == 24),
            "{line}"
        );
        let keys: Vec<&str> = line
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut want = [
            "type",
            "logstore",
            "shipper",
            "batch",
            "batches",
            "ids",
            "status",
            "http_status",
            "error_code",
            "error_message",
            "request_id",
            "attempts",
            "elapsed_ms",
        ];
        let mut got = keys.clone();
        got.sort_unstable();
        want.sort_unstable();
        assert_eq!(got, want);
    }
    assert_eq!(lines[0]["status"], "failed");
    assert_eq!(lines[0]["http_status"], 500);
    assert_eq!(lines[0]["error_code"], "InternalServerError");
    assert_eq!(lines[0]["ids"], serde_json::json!(ids(10)));
    assert_eq!(lines[1]["status"], "ok");
    assert_eq!(lines[1]["error_code"], Value::Null);
    let summary = &lines[3];
    assert_eq!(summary["type"], "summary");
    assert_eq!(
        (
            summary["ids"].as_u64(),
            summary["batches"].as_u64(),
            summary["ok"].as_u64(),
            summary["failed"].as_u64(),
            summary["not_sent"].as_u64(),
            summary["accepted_ids"].as_u64()
        ),
        (Some(25), Some(3), Some(2), Some(1), Some(0), Some(15))
    );
    assert!(summary["elapsed_ms"].is_u64());
}

#[test]
fn quiet_prints_nothing_and_the_exit_status_still_tells() {
    let standin = StandIn::start();
    let r = demo_run(&standin, &["-q", "a", "b"], None);
    assert_eq!((r.code, r.stdout.as_str(), r.stderr.as_str()), (0, "", ""));

    let standin = StandIn::start();
    standin.push_reply(Reply::internal_error());
    let r = demo_run(&standin, &["-q", "--retries", "0", "a"], None);
    assert_eq!((r.code, r.stdout.as_str()), (1, ""));
}

/// Every documented RetryShipperTask error, produced by the stand-in itself where it can.
#[test]
fn documented_errors_are_reported_per_batch() {
    let standin = StandIn::start();
    let home = Home::new();
    let target = |project: &str, logstore: &str, shipper: &str| {
        let mut cmd = home.command();
        cmd.envs(DEMO_ENV).args(["-e", &standin.endpoint()]);
        let r = run(
            cmd.args(["-p", project, "-l", logstore, "-s", shipper, "--json", "t1"]),
            None,
        );
        assert_eq!(r.code, 1);
        let line = &r.json_lines()[0];
        (
            line["http_status"].as_u64().unwrap(),
            line["error_code"].as_str().unwrap().to_string(),
            line["error_message"].as_str().unwrap().to_string(),
        )
    };
    assert_eq!(
        target("no-such-project", DEMO_LOGSTORE, DEMO_SHIPPER),
        (
            404,
            "ProjectNotExist".into(),
            "Project no-such-project does not exist.".into()
        )
    );
    assert_eq!(
        target(DEMO_PROJECT, "no-such-logstore", DEMO_SHIPPER),
        (
            404,
            "LogStoreNotExist".into(),
            "Logstore no-such-logstore does not exist.".into()
        )
    );
    assert_eq!(
        target(DEMO_PROJECT, DEMO_LOGSTORE, "no-such-shipper"),
        (
            400,
            "ShipperNotExist".into(),
            "Shipper does not exist.".into()
        )
    );

    // The stand-in enforces the 10-id limit (our client never breaks it, so script the answer).
    standin.push_reply(Reply::too_many_ids());
    standin.push_reply(Reply::internal_error());
    let r = demo_run(&standin, THREE_BATCHES_SENT_ONCE, None);
    assert_eq!(r.code, 1);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_contains(
        lines[0],
        "FAILED  400  ParameterInvalid: Each time allows 10 task retries only.  request ",
    );
    assert_contains(
        lines[1],
        "FAILED  500  InternalServerError: Internal server error.  request ",
    );
    assert!(
        lines[2].contains("ok      200"),
        "the run goes on after failures: {}",
        lines[2]
    );
    assert_eq!(
        lines[3],
        "retried 1 of 3 task ids in 3 batches: 1 ok, 2 failed"
    );
}

#[test]
fn the_stand_in_rejects_a_wrong_signature_and_unknown_keys() {
    let standin = StandIn::start();
    let wrong_secret = [
        ("ALIBABA_CLOUD_ACCESS_KEY_ID", DEMO_KEY_ID),
        ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "not-the-secret"),
    ];
    let r = run_with_env(&standin, &wrong_secret, &["a"], None);
    assert_eq!(r.code, 1);
    assert_contains(&r.stdout, "FAILED  401  SignatureNotMatch");
    assert!(standin.accepted_ids().is_empty());

    let unknown = [
        ("ALIBABA_CLOUD_ACCESS_KEY_ID", "nobody"),
        ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "x"),
    ];
    let r = run_with_env(&standin, &unknown, &["a"], None);
    assert_eq!(r.code, 1);
    assert_contains(&r.stdout, "FAILED  401  Unauthorized");
}

#[test]
fn a_server_clock_far_off_is_corrected_with_one_warning() {
    let standin = StandIn::builder().clock_skew_secs(3600).build();
    let r = demo_run(&standin, &["--batch-size", "1", "a", "b", "c"], None);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(standin.accepted_ids(), ["a", "b", "c"]);
    // The first request learns the offset; the others are signed with it from the start.
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_ends_with(lines[0], "(2 attempts)");
    assert!(!lines[1].contains("attempts"), "{}", lines[1]);
    assert_eq!(
        r.stderr.matches("warning: the local clock is").count(),
        1,
        "{}",
        r.stderr
    );
    assert_contains(&r.stderr, "seconds behind the server's");
    let expired = standin.refusals("RequestTimeExpired");
    assert_eq!(expired, 1);
}

#[test]
fn proxy_answers_without_json_are_reported_sanitized() {
    let standin = StandIn::start();
    standin.push_reply(Reply::raw(
        502,
        "text/html",
        "<html><body><h1>502 Bad Gateway</h1>\u{1b}[31m</body></html>",
    ));
    standin.push_reply(Reply::raw(503, "", ""));
    let r = demo_run(&standin, THREE_BATCHES_SENT_ONCE, None);
    assert_eq!(r.code, 1);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(
        lines[0],
        "batch 1/3   1 ids  FAILED  502  unexpected response body: \"502 Bad Gateway \\u{1b}[31m\""
    );
    assert_eq!(
        lines[1],
        "batch 2/3   1 ids  FAILED  503  empty response body"
    );
    assert!(lines[2].contains("ok      200"));
    assert!(
        !r.stdout.contains('\u{1b}'),
        "no terminal escapes from the server reach the terminal"
    );
}

#[test]
fn connection_refused_is_a_failed_batch_and_exit_1() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    }; // closed again: nothing listens there
    let home = Home::new();
    let mut cmd = home.command();
    cmd.envs(DEMO_ENV)
        .arg("-e")
        .arg(format!("http://127.0.0.1:{port}"));
    let r = run(
        cmd.args(["-p", DEMO_PROJECT, "-l", "l", "-s", "s", "a"]),
        None,
    );
    assert_eq!(r.code, 1);
    assert_starts_with(
        &r.stdout,
        "batch 1/1   1 ids  FAILED  -    connection to http://127.0.0.1:",
    );
}

#[test]
fn exit_2_for_usage_configuration_and_credentials_errors() {
    let standin = StandIn::start();
    let target = standin.demo_target();
    let with_target = |extra: &[&'static str]| [&strs(&target), extra].concat();
    let words = |line: &'static str| line.split(' ').collect::<Vec<_>>();
    let cases: Vec<(Env, Vec<&str>, &str)> = vec![
        (
            &DEMO_ENV,
            with_target(&["--no-such-flag"]),
            "unexpected argument '--no-such-flag'",
        ),
        (
            &[],
            with_target(&["a"]),
            "no credentials found; tried the environment variables ALIBABA_CLOUD_ACCESS_KEY_ID",
        ),
        (
            &DEMO_ENV,
            words("-e https://h.example/path -p p-1 -l l -s s a"),
            "invalid endpoint 'https://h.example/path': a path",
        ),
        (
            &DEMO_ENV,
            words("-e h.example -p Bad_Name -l l -s s a"),
            "invalid project name \"Bad_Name\"",
        ),
        (
            &DEMO_ENV,
            words("-e h.example -l l -s s a"),
            "no project given; pass -p/--project NAME",
        ),
        (
            &DEMO_ENV,
            words("-p p-1 -l l -s s a"),
            "no endpoint given; pass -e/--endpoint HOST",
        ),
        (
            &DEMO_ENV,
            with_target(&["--json", "-q", "a"]),
            "cannot be used with",
        ),
        (
            &DEMO_ENV,
            with_target(&["-", "-"]),
            "'-' (read stdin) is given more than once",
        ),
    ];
    for (env, args, message) in cases {
        let home = Home::new();
        let r = run(home.command().envs(env.iter().copied()).args(&args), None);
        let stderr = &r.stderr;
        assert_eq!(r.code, 2, "{args:?}: {stderr}");
        assert!(
            stderr.starts_with("sls-retry: error: "),
            "{args:?}: {stderr}"
        );
        assert!(stderr.contains(message), "{args:?}: {stderr}");
        assert!(r.stdout.is_empty(), "{args:?}");
    }
    assert!(standin.requests().is_empty(), "nothing was sent");
}

#[test]
fn dry_run_shows_the_plan_and_sends_nothing() {
    let standin = StandIn::start();
    let r = demo_run(&standin, &["--dry-run"], Some(&ids(12).join("\n")));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(standin.requests().is_empty(), "dry run sent something");
    assert_starts_with(
        &r.stdout,
        &format!(
            "dry run: 12 task ids in 2 batches to {}; nothing is sent\n",
            standin.endpoint()
        ),
    );
    assert_contains(&r.stdout, "\nbatch 2/2  2 ids: task-011 task-012\nPUT ");
    assert!(r.stdout.contains(&format!(
        "Host: {DEMO_PROJECT}.127.0.0.1:{}\n",
        standin.port()
    )));
    assert_contains(
        &r.stdout,
        &format!("Authorization: LOG {DEMO_KEY_ID}:<redacted>\n"),
    );
    assert!(r.stdout.contains("[\"task-011\",\"task-012\"]"));

    let r = demo_run(&standin, &["--dry-run", "--json", "a"], None);
    let lines = r.json_lines();
    assert_eq!(lines[0]["type"], "request");
    assert_eq!(
        lines[0]["headers"]["Authorization"],
        format!("LOG {DEMO_KEY_ID}:<redacted>")
    );
    assert!(standin.requests().is_empty());
}

/// The secret and the STS token appear nowhere: not in the report, not at -vv, not in --dry-run,
/// not in errors.
#[test]
fn secrets_never_reach_any_output() {
    const SECRET: &str = "Sup3rSecretValue-do-not-print";
    const TOKEN: &str = "STS-token-CAIS-do-not-print";
    let standin = StandIn::builder()
        .sts_account("STS.key-id", SECRET, TOKEN)
        .build();
    let env = [
        ("ALIBABA_CLOUD_ACCESS_KEY_ID", "STS.key-id"),
        ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET),
        ("ALIBABA_CLOUD_SECURITY_TOKEN", TOKEN),
    ];
    let mut runs = Vec::new();
    for args in [
        vec!["-vv", "a", "b"],
        vec!["-vv", "--json", "a"],
        vec!["--dry-run", "-vv", "a"],
        vec!["--dry-run", "--json", "a"],
        vec!["-vv", "-p", "Bad_Name", "a"],
    ] {
        runs.push((args.clone(), run_with_env(&standin, &env, &args, None)));
    }
    // A rejected request too: wrong token for the key.
    let wrong = [
        env[0],
        env[1],
        ("ALIBABA_CLOUD_SECURITY_TOKEN", "wrong-token-do-not-print"),
    ];
    runs.push((
        vec!["-vv"],
        run_with_env(&standin, &wrong, &["-vv", "a"], None),
    ));

    assert_eq!(runs[0].1.code, 0, "{}", runs[0].1.stderr);
    assert!(
        runs[0].1.stderr.contains("request:"),
        "-vv shows requests: {}",
        runs[0].1.stderr
    );
    assert!(
        runs[0]
            .1
            .stderr
            .contains("x-acs-security-token: <redacted>"),
        "{}",
        runs[0].1.stderr
    );
    for (args, r) in &runs {
        for secret in [SECRET, TOKEN, "wrong-token-do-not-print"] {
            r.assert_hides(secret, &format!("{args:?}"));
        }
    }
    // The token was sent, and signed, on the accepted requests.
    let sent = standin.requests();
    assert!(
        sent.iter()
            .filter(|r| r.status == 200)
            .all(|r| r.header("x-acs-security-token") == Some(TOKEN))
    );
    assert_eq!(standin.accepted_ids(), ["a", "b", "a"]);
}

#[test]
fn verbose_shows_endpoint_request_ids_and_latency_on_stderr() {
    let standin = StandIn::start();
    let r = demo_run(&standin, &["-v", "a"], None);
    assert_eq!(r.code, 0);
    let request_id = &standin.requests()[0].request_id;
    assert_contains(
        &r.stderr,
        &format!(
            "endpoint {} (Host {DEMO_PROJECT}.127.0.0.1:{})",
            standin.endpoint(),
            standin.port()
        ),
    );
    assert_contains(&r.stderr, "-> 200 in ");
    assert_contains(&r.stderr, &format!("request id {request_id}"));
    assert!(
        r.stderr.lines().all(|l| l.starts_with("sls-retry: ")),
        "{}",
        r.stderr
    );
    assert!(
        !r.stdout.contains("sls-retry:"),
        "diagnostics stay off stdout"
    );
}

/// One run against `standin` with `stdout` as its standard output, and the PUTs it sent.
fn run_to_counting_puts(standin: &StandIn, stdout: Stdio, args: &[&str]) -> (Run, usize) {
    let puts = || {
        (standin.requests().iter())
            .filter(|q| q.method == "PUT")
            .count()
    };
    let before = puts();
    let r = run_to(Home::new().demo(standin).args(args), stdout);
    (r, puts() - before)
}

/// `--batch-size 1` and ten IDs: ten batches, for runs that stop sending.
fn ten_batches() -> Vec<String> {
    let flags = ["--batch-size", "1"].map(String::from);
    flags.into_iter().chain(ids(10)).collect()
}

/// A stand-in with three failed tasks a minute old, for `--list` and `--failed`.
fn three_failed_tasks() -> StandIn {
    StandIn::builder().tasks(recent_failures(3)).build()
}

/// Every mode's report (task lines, the plan, batch lines, the found line) goes through one
/// writer: when it cannot write (here a full disk), the run stops sending and ends with exit 1,
/// so `sls-retry --list > f && next-step` does not go on with an empty file.
#[test]
fn a_report_that_cannot_be_written_is_exit_1_in_every_mode() {
    let standin = three_failed_tasks();
    let ten = ten_batches();
    let stops = strs(&ten);
    // (arguments, fewest and most PUTs): sending stops at the first line that cannot be
    // written; a batch already taken by the worker by then still goes.
    let cases: [(&[&str], usize, usize); 7] = [
        (&["--list"], 0, 0),
        (&["--list", "--json"], 0, 0),
        (&["--dry-run", "a", "b"], 0, 0),
        (&["a"], 1, 1),
        (&["--json", "a"], 1, 1),
        (&stops, 1, 2),
        // The found line fails before any batch.
        (&["--failed", "--batch-size", "1"], 1, 2),
    ];
    for (args, fewest, most) in cases {
        let full = std::fs::File::options().write(true).open("/dev/full");
        let (r, sent) = run_to_counting_puts(&standin, full.unwrap().into(), args);
        assert_eq!(r.code, 1, "{args:?}: {}", r.stderr);
        assert!(
            r.stderr
                .starts_with("sls-retry: error: cannot write the report to stdout: "),
            "{args:?}: {}",
            r.stderr
        );
        assert!((fewest..=most).contains(&sent), "{args:?}: {sent} sent");
    }
}

/// A reader that went away (`| head`) is the reader's choice: the run stops sending, quietly,
/// and the exit status says only whether every batch was accepted.
#[test]
fn a_closed_stdout_stops_the_run_quietly() {
    let standin = three_failed_tasks();
    let ten = ten_batches();
    let stops = strs(&ten);
    let cases: [(&[&str], i32, usize, usize); 4] = [
        (&["--list"], 0, 0, 0),
        (&["--dry-run", "a", "b"], 0, 0, 0),
        (&["a"], 0, 1, 1),
        (&stops, 1, 1, 2),
    ];
    for (args, code, fewest, most) in cases {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let (r, sent) = run_to_counting_puts(&standin, writer.into(), args);
        assert_eq!((r.code, r.stderr.as_str()), (code, ""), "{args:?}");
        assert!((fewest..=most).contains(&sent), "{args:?}: {sent} sent");
    }
}

/// Names are checked only for what could not be sent: a project becomes a host-name label, a
/// logstore and a shipper become path segments. Whatever else the service's naming rules say, it
/// says itself (ProjectNotExist, LogStoreNotExist, ...).
#[test]
fn names_that_can_be_sent_reach_the_server() {
    // The issue's own example, --help's `-p P -l L -s S`, and names with odd but harmless bytes.
    for (project, logstore, shipper) in [
        ("p", "l", "s"),
        ("P", "L", "S"),
        ("a", "logs.v2", "to_oss~1"),
        ("x-1", "日志", "a:b@c+d=e"),
    ] {
        let standin = StandIn::builder()
            .project(project)
            .logstore(logstore)
            .shipper(shipper)
            .build();
        let home = Home::new();
        let mut cmd = home.command();
        cmd.envs(DEMO_ENV).args(["-e", &standin.endpoint()]);
        cmd.args([
            "--project",
            project,
            "--logstore",
            logstore,
            "--shipper",
            shipper,
        ]);
        let r = run(cmd.args(["id1", "id2"]), None);
        assert_eq!(r.code, 0, "{project} {logstore} {shipper}: {}", r.stderr);
        assert_eq!(standin.accepted_ids(), ["id1", "id2"]);
        let sent = standin.requests();
        assert_eq!(
            sent[0].path,
            format!("/logstores/{logstore}/shipper/{shipper}/tasks")
        );
    }
}

#[test]
fn names_that_would_change_the_host_or_the_path_are_usage_errors() {
    let standin = StandIn::start();
    let endpoint = standin.endpoint();
    let long = "p".repeat(64);
    let cases = [
        ("-p", "a.b", "invalid project name \"a.b\""),
        ("-p", "a_b", "invalid project name \"a_b\""),
        ("-p", "-ab", "invalid project name \"-ab\""),
        ("-p", "ab-", "invalid project name \"ab-\""),
        ("-p", &long, "invalid project name"),
        ("-p", "a/b", "invalid project name"),
        ("-l", "a/b", "invalid logstore name \"a/b\""),
        ("-l", "a?b", "invalid logstore name"),
        ("-l", "a#b", "invalid logstore name"),
        ("-l", "a%2Fb", "invalid logstore name"),
        ("-l", "a b", "invalid logstore name"),
        ("-l", "a\u{3000}b", "invalid logstore name"),
        ("-l", ".", "invalid logstore name \".\""),
        ("-s", "..", "invalid shipper name \"..\""),
        ("-s", "a\tb", "invalid shipper name \"a\\tb\""),
        ("-s", "a\u{1b}[2Jb", "invalid shipper name \"a\\u{1b}[2Jb\""),
    ];
    for (flag, name, message) in cases {
        let home = Home::new();
        // `--project=-ab`: a name starting with '-' is a value here, not a flag.
        let mut args = ["-e", &endpoint, "-p", "p", "-l", "l", "-s", "s", "id"].map(String::from);
        let at = args.iter().position(|a| *a == flag).unwrap();
        args[at] = format!("{flag}{name}");
        args[at + 1] = String::new();
        let args: Vec<&String> = args.iter().filter(|a| !a.is_empty()).collect();
        let r = run(home.command().envs(DEMO_ENV).args(args), None);
        r.assert_usage_error(message);
    }
    assert!(standin.requests().is_empty(), "nothing was sent");
}

/// Usage errors stay on one line, and keep what clap names: the missing argument, the similar
/// flag, the possible values.
#[test]
fn usage_errors_are_one_line_and_name_what_is_wrong() {
    let standin = StandIn::start();
    let cases: [(&[&str], &str); 7] = [
        (
            &["--list", "--to", "5"],
            "the following required arguments were not provided: --from <TIME>",
        ),
        (
            &["--jbos", "3", "a"],
            "unexpected argument '--jbos' found; tip: a similar argument exists: '--jobs'",
        ),
        (
            &["--json", "-q", "a"],
            "the argument '--json' cannot be used with '--quiet'",
        ),
        (
            &["--list", "--status", "bogus"],
            "invalid value 'bogus' for '--status <STATUS>' [possible values: fail, success, \
             running, all]",
        ),
        (
            &["a", "--timeout"],
            "a value is required for '--timeout <SECS>' but none was supplied",
        ),
        (
            &["--timeout", "4000", "a"],
            "invalid value '4000' for '--timeout <SECS>': 4000 is not in 1..=3600",
        ),
        (
            &["--failed", "--status", "all"],
            "cannot be used with '--status <STATUS>'",
        ),
    ];
    for (args, message) in cases {
        let r = demo_run(&standin, args, None);
        r.assert_usage_error(message);
        assert_ends_with(&r.stderr, "(see sls-retry --help)\n");
        assert_eq!(r.stdout, "", "{args:?}");
    }
    assert!(standin.requests().is_empty(), "nothing was sent");
}

/// `--status` chooses what `--list` prints; with `--failed` or task IDs it would be silently
/// ignored (only failed tasks, or the IDs given, are retried), so it is refused there.
#[test]
fn status_with_failed_is_a_usage_error() {
    let standin = StandIn::builder()
        .tasks(vec![standin::Task::new("t-1", "fail", 0)])
        .build();
    for status in ["all", "success", "fail"] {
        let r = demo_run(&standin, &["--failed", "--status", status], None);
        r.assert_usage_error("'--failed' cannot be used with '--status <STATUS>'");
    }
    // Nor is it silently ignored when IDs are retried.
    let r = demo_run(&standin, &["--status", "all", "t-1"], None);
    r.assert_usage_error("'--status <STATUS>' cannot be used with '[TASK_ID]...'");
    assert!(standin.requests().is_empty(), "nothing was sent");
}

/// `-V` is the one line scripts parse; `--version` keeps it first and adds the build: the commit
/// when built from a git checkout (this one, in the tests), the target and the TLS stack.
#[test]
fn version_is_one_line_and_long_version_names_the_build() {
    use sls_retry::build_info::{TARGET, TLS_BACKEND};
    let first = format!("sls-retry {}", env!("CARGO_PKG_VERSION"));
    let short = run(Home::new().command().arg("-V"), None);
    assert_eq!(short.code, 0, "{}", short.stderr);
    assert_eq!(short.stdout, format!("{first}\n"));

    let long = run(Home::new().command().arg("--version"), None);
    assert_eq!(long.code, 0, "{}", long.stderr);
    let mut want = vec![first];
    want.extend(checkout_head().map(|commit| format!("commit: {commit}")));
    assert!(TARGET.contains('-'), "a target triple: {TARGET:?}");
    want.push(format!("target: {TARGET}"));
    want.push(format!("tls: {TLS_BACKEND}"));
    assert_eq!(long.stdout.lines().collect::<Vec<_>>(), want);
}

/// HEAD's commit as `--version` shows it, when the crate is a git checkout and git runs.
fn checkout_head() -> Option<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    if !dir.join(".git").exists() {
        return None;
    }
    let out = (std::process::Command::new("git"))
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(dir)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}
