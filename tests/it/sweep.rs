//! Sweeps end to end: a project or a logstore swept shipper by shipper, each failed ID delivered
//! exactly once under its own shipper's path; both name listings paged; a shipper deleted
//! mid-sweep, a shipper's or a logstore's listing failing (the sweep goes on, exit 1); an error
//! every request would meet (the sweep stops); `--list` in both formats; `--jobs` across
//! shippers; `--wait`, `--dry-run`; the usage errors.

use std::process::Stdio;
use std::time::Duration;

use standin::{Api, Builder, DEMO_ENV, StandIn, Task};

use crate::harness::{Background, Home, Run, assert_contains, now, run};

/// `n` failed tasks `{prefix}-01`... created in the last hour.
fn failed(prefix: &str, n: usize) -> Vec<Task> {
    let t = now();
    (1..=n)
        .map(|i| Task::new(&format!("{prefix}-{i:02}"), "fail", t - 600 - i as i64))
        .collect()
}

/// A project of three logstores: `web` with shippers `oss` (12 failed) and `odps` (3 failed, one
/// of them `shared`), `app` with `oss` (2 failed, one `shared`), and `empty` with none. A task
/// that did not fail in each, so that only failures are retried.
fn project(configure: impl FnOnce(Builder) -> Builder) -> StandIn {
    let t = now();
    let mut odps = failed("odps", 2);
    odps.push(Task::new("shared", "fail", t - 900));
    let mut app = failed("app", 1);
    app.push(Task::new("shared", "fail", t - 900));
    let mut web = failed("web", 12);
    web.push(Task::new("fine", "success", t - 900));
    let builder = StandIn::builder()
        .shipper_with_tasks("web", "oss", web)
        .shipper_with_tasks("web", "odps", odps)
        .shipper_with_tasks("app", "oss", app)
        .logstore_without_shippers("empty");
    configure(builder).build()
}

/// `sls-retry` with the demo credentials over the whole project of `standin`, then `args`.
fn sweep(standin: &StandIn, args: &[&str]) -> Run {
    run(
        Home::new()
            .command()
            .envs(DEMO_ENV)
            .args(standin.project_target())
            .args(args),
        None,
    )
}

/// Every (logstore, shipper, id) the service accepted, sorted.
fn accepted(standin: &StandIn) -> Vec<(String, String, String)> {
    let mut got = standin.accepted_by_shipper();
    got.sort();
    got
}

fn triples(logstore: &str, shipper: &str, ids: &[String]) -> Vec<(String, String, String)> {
    (ids.iter())
        .map(|id| (logstore.into(), shipper.into(), id.clone()))
        .collect()
}

fn ids(tasks: &[Task]) -> Vec<String> {
    tasks.iter().map(|t| t.id.clone()).collect()
}

#[test]
fn a_project_sweep_retries_each_failed_task_once_under_its_own_shipper() {
    let standin = project(|b| b);
    let r = sweep(&standin, &["--failed", "--since", "2h"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut want = triples("web", "oss", &ids(&failed("web", 12)));
    want.extend(triples(
        "web",
        "odps",
        &[ids(&failed("odps", 2)), vec!["shared".into()]].concat(),
    ));
    want.extend(triples("app", "oss", &["app-01".into(), "shared".into()]));
    want.sort();
    assert_eq!(accepted(&standin), want);
    // Batches never mix shippers: 10 + 2 of web/oss, 3 of web/odps, 2 of app/oss.
    let per_call: Vec<(String, usize)> = (standin.requests_of(Api::RetryShipperTask).iter())
        .map(|r| {
            (
                format!("{}/{}", r.logstore().unwrap(), r.shipper().unwrap()),
                r.task_ids().len(),
            )
        })
        .collect();
    let calls: Vec<(&str, usize)> = per_call.iter().map(|(s, n)| (s.as_str(), *n)).collect();
    assert_eq!(
        calls,
        [
            ("web/oss", 10),
            ("web/oss", 2),
            ("web/odps", 3),
            ("app/oss", 2)
        ]
    );
    assert_contains(
        &r.stdout,
        "found 17 failed tasks (3 of 3 shippers had some) in ",
    );
    assert_contains(&r.stdout, "batch 3/4  web/odps   3 ids  ok      200");
    assert!(
        r.stdout.ends_with(
            "  web/oss: 12 of 12 task ids in 2 batches, 2 ok, 0 failed\n  \
             web/odps: 3 of 3 task ids in 1 batch, 1 ok, 0 failed\n  \
             app/oss: 2 of 2 task ids in 1 batch, 1 ok, 0 failed\n\
             retried 17 of 17 task ids in 4 batches: 4 ok, 0 failed\n"
        ),
        "{}",
        r.stdout
    );
}

#[test]
fn a_logstore_sweep_covers_its_shippers_only_and_json_names_them() {
    let standin = project(|b| b);
    let r = run(
        Home::new()
            .command()
            .envs(DEMO_ENV)
            .args(standin.logstore_target("web"))
            .args(["--failed", "--json"]),
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let shippers: Vec<(String, String)> = (r.json_lines().iter())
        .filter(|l| l["type"] == "batch")
        .map(|l| (l["logstore"].to_string(), l["shipper"].to_string()))
        .collect();
    assert_eq!(shippers.len(), 3);
    assert!(shippers.iter().all(|(l, _)| l == "\"web\""), "{shippers:?}");
    assert!(standin.requests_of(Api::ListLogStores).is_empty());
    assert!(accepted(&standin).iter().all(|(l, _, _)| l == "web"));
}

#[test]
fn both_name_listings_are_paged() {
    let standin = project(|b| {
        let b = (1..=5).fold(b, |b, i| {
            b.shipper_with_tasks("many", &format!("s{i}"), vec![])
        });
        b.max_name_page(2)
    });
    let r = sweep(&standin, &["--failed"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_contains(&r.stdout, "(3 of 8 shippers had some)");
    // Four logstores two at a time; the five shippers of "many" in three pages.
    assert_eq!(standin.requests_of(Api::ListLogStores).len(), 2);
    let many = standin.requests_of(Api::ListShipper);
    let many = many.iter().filter(|r| r.logstore() == Some("many")).count();
    assert_eq!(many, 3);
}

#[test]
fn a_shipper_deleted_mid_sweep_is_given_up_and_the_sweep_goes_on() {
    let standin = project(|b| b.shipper_deleted_after_listing("web", "oss"));
    let r = sweep(&standin, &["--failed"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_contains(
        &r.stdout,
        "batch 1/4  web/oss  10 ids  FAILED  400  ShipperNotExist",
    );
    assert_contains(
        &r.stdout,
        "batch 2/4  web/oss   2 ids  NOT SENT  -    stopped after ShipperNotExist in batch 1",
    );
    assert_contains(
        &r.stderr,
        "batch 1 of web/oss failed with ShipperNotExist: check --shipper; the rest of its \
         batches are not sent, the sweep goes on",
    );
    let others: Vec<_> = accepted(&standin)
        .into_iter()
        .map(|(l, s, _)| format!("{l}/{s}"))
        .collect();
    assert_eq!(others.len(), 5);
    assert!(others.iter().all(|s| s != "web/oss"));
}

#[test]
fn a_listing_that_fails_for_one_shipper_or_logstore_is_said_and_left_out() {
    let standin = project(|b| {
        b.listing_fails("web", "odps", 500, "InternalServerError")
            .shipper_listing_fails("app", 403, "Unauthorized")
    });
    let r = sweep(&standin, &["--failed", "--retries", "0"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_contains(
        &r.stderr,
        "sls-retry: error: listing the shippers of logstore app failed: HTTP 403 Unauthorized",
    );
    assert_contains(
        &r.stderr,
        "sls-retry: error: listing the tasks of web/odps failed: HTTP 500 InternalServerError",
    );
    assert_contains(&r.stderr, "; left out, the sweep goes on");
    assert_eq!(accepted(&standin), {
        let mut want = triples("web", "oss", &ids(&failed("web", 12)));
        want.sort();
        want
    });
}

#[test]
fn an_error_every_request_would_meet_stops_the_sweep_at_once() {
    // A forged signature on one shipper's listing is a credentials problem for all of them.
    let standin = project(|b| b.listing_fails("web", "odps", 401, "SignatureNotMatch"));
    let r = sweep(&standin, &["--failed"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_contains(
        &r.stderr,
        "listing the tasks of web/odps failed: HTTP 401 SignatureNotMatch",
    );
    assert_contains(&r.stderr, "; the sweep stops; nothing was retried");
    assert!(standin.requests_of(Api::RetryShipperTask).is_empty());
    // web/oss, then web/odps: app/oss's tasks were never asked for.
    let listed: Vec<_> = (standin.requests_of(Api::GetShipperStatus).iter())
        .map(|r| format!("{}/{}", r.logstore().unwrap(), r.shipper().unwrap()))
        .collect();
    assert_eq!(listed, ["web/oss", "web/odps"]);

    // Wrong credentials: the first listing says so, and nothing else is asked.
    let standin = project(|b| b);
    let r = run(
        Home::new()
            .command()
            .env("ALIBABA_CLOUD_ACCESS_KEY_ID", "demo-key-id")
            .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "not-the-secret")
            .args(standin.project_target())
            .arg("--failed"),
        None,
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_contains(
        &r.stderr,
        "listing the project's logstores failed: HTTP 401 SignatureNotMatch",
    );
    assert_eq!(standin.requests().len(), 1);
}

#[test]
fn list_in_a_sweep_names_logstore_and_shipper() {
    let standin = project(|b| b);
    let r = sweep(&standin, &["--list"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines.len(), 17);
    assert_eq!(lines[0], "web\toss\tweb-01");
    assert!(lines.contains(&"web\todps\tshared") && lines.contains(&"app\toss\tshared"));

    let r = sweep(&standin, &["--list", "--status", "all", "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let json = r.json_lines();
    assert_eq!(json.len(), 18, "the succeeded task too");
    let fine = json.iter().find(|l| l["id"] == "fine").unwrap();
    assert_eq!(
        (fine["logstore"].as_str(), fine["shipper"].as_str()),
        (Some("web"), Some("oss"))
    );
}

#[test]
fn jobs_work_across_shippers_and_the_report_keeps_its_order() {
    let standin = project(|b| {
        b.shipper_with_tasks("big", "a", failed("a", 33))
            .shipper_with_tasks("big", "b", failed("b", 21))
    });
    let r = sweep(&standin, &["--failed", "--jobs", "4", "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(accepted(&standin).len(), 17 + 33 + 21);
    let batches: Vec<(u64, String)> = (r.json_lines().iter())
        .filter(|l| l["type"] == "batch")
        .map(|l| (l["batch"].as_u64().unwrap(), l["shipper"].to_string()))
        .collect();
    let numbers: Vec<u64> = batches.iter().map(|(n, _)| *n).collect();
    assert_eq!(numbers, (1..=11).collect::<Vec<_>>());
}

#[test]
fn wait_follows_every_shippers_tasks() {
    let standin = project(|b| {
        b.lifecycle(Duration::ZERO)
            .fails_again("odps-02", "AccessDenied")
    });
    let r = sweep(&standin, &["--failed", "--wait", "--json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let lines = r.json_lines();
    let failed: Vec<(&str, &str, &str)> = (lines.iter())
        .filter(|l| l["type"] == "task_result" && l["result"] == "failed")
        .map(|l| {
            let text = |k: &str| l[k].as_str().unwrap_or("");
            (text("logstore"), text("shipper"), text("id"))
        })
        .collect();
    assert_eq!(failed, [("web", "odps", "odps-02")]);
    let results = lines.iter().filter(|l| l["type"] == "task_result").count();
    assert_eq!(results, 17);
}

#[test]
fn dry_run_lists_but_retries_nothing() {
    let standin = project(|b| b);
    let r = sweep(&standin, &["--failed", "--dry-run"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_contains(&r.stdout, "dry run: would retry 17 task ids in 4 batches");
    assert!(standin.requests_of(Api::RetryShipperTask).is_empty());
}

#[test]
fn what_a_sweep_cannot_do_is_a_usage_error() {
    let standin = project(|b| b);
    for (args, says) in [
        (
            &["t1", "t2"][..],
            "task ids belong to one shipper: pass -l/--logstore and -s/--shipper",
        ),
        (
            &["--failed", "--save-failed", "left.txt"],
            "--save-failed keeps the IDs of one shipper",
        ),
        (
            &["--failed", "-s", "oss"],
            "no logstore given for the shipper",
        ),
    ] {
        let r = sweep(&standin, args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert_contains(&r.stderr, says);
    }
    assert!(standin.requests().is_empty());
}

#[test]
fn a_signal_while_discovering_ends_the_sweep_at_once() {
    let standin = project(|b| b.max_name_page(1).delay(Duration::from_millis(300)));
    let home = Home::new();
    let mut cmd = home.command();
    cmd.envs(DEMO_ENV)
        .args(standin.project_target())
        .args(["--failed", "-v"]);
    let run = Background::spawn(&mut cmd, Stdio::null());
    run.wait_for_stderr("GET http");
    run.signal("-TERM");
    let r = run.finish();
    assert_eq!(r.code, 143, "{}", r.stderr);
    assert_contains(
        &r.stderr,
        "interrupted by SIGTERM while listing the project's logstores and shippers; nothing was \
         retried",
    );
    assert!(standin.requests_of(Api::RetryShipperTask).is_empty());
    assert!(
        standin.requests().len() <= 3,
        "the sweep went on after the signal"
    );
}
