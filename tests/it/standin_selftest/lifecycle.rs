//! Self-tests of the stand-in's task lifecycle over raw TCP: a retried task lists `running`, then ends `success`, `fail` with its message, or never, with a finish time counted from its latest retry; an ID it did not hold is added; without a lifecycle a retry changes no task. Time passes with `StandIn::advance_clock`, never by sleeping.

use std::time::Duration;

use serde_json::Value;

use standin::{StandIn, Task};

use super::{connect, exchange, list, retry_request, unix_secs, window};

const HOUR: u64 = 3600;

/// `(taskStatus, taskMessage, taskFinishTime)`.
type State = (String, String, i64);

fn running() -> State {
    ("running".into(), String::new(), 0)
}

fn ended(status: &str, message: &str, finish_time: i64) -> State {
    (status.into(), message.into(), finish_time)
}

/// Retries `ids` on a new connection, signed at the server's time: the server time that accepted
/// them, from the answer's `Date`.
fn retry(standin: &StandIn, ids: &[&str]) -> i64 {
    let request = retry_request(standin, ids, standin.server_time());
    let answer = exchange(&mut connect(standin), &request);
    assert_eq!(answer.status, 200, "{}", answer.body);
    let date = answer.header("Date").expect("a Date on the answer");
    unix_secs(httpdate::parse_http_date(date).unwrap())
}

/// The whole window in one page, `extra` appended to the query.
fn listing(standin: &StandIn, extra: &str) -> Value {
    let query = format!("{}&size=500{extra}", window(standin));
    list(&mut connect(standin), standin, &query)
}

/// The entry of `id` in `page`.
fn entry<'p>(page: &'p Value, id: &str) -> Option<&'p Value> {
    let mut tasks = page["tasks"].as_array().unwrap().iter();
    tasks.find(|task| task["id"] == id)
}

/// How a listing shows `id` now; `StandIn::task` must say the same.
fn listed(standin: &StandIn, id: &str) -> State {
    let page = listing(standin, "");
    let entry = entry(&page, id).unwrap_or_else(|| panic!("{id} is listed: {page}"));
    let text = |key: &str| entry[key].as_str().unwrap().to_string();
    let state = (
        text("taskStatus"),
        text("taskMessage"),
        entry["taskFinishTime"].as_i64().unwrap(),
    );
    let held = standin.task(id).expect("the stand-in holds what it lists");
    assert_eq!((held.status, held.message, held.finish_time), state);
    state
}

/// A failed task created two hours before the server clock.
fn old_failure(standin_now: i64, id: &str) -> Task {
    Task::new(id, "fail", standin_now - 2 * HOUR as i64)
}

#[test]
fn retried_task_runs_then_ships_with_a_fresh_finish_time() {
    let now = unix_secs(std::time::SystemTime::now());
    let standin = StandIn::builder()
        .tasks(vec![old_failure(now, "t1")])
        .lifecycle(Duration::from_secs(HOUR))
        .build();
    let accepted = retry(&standin, &["t1"]);
    assert_eq!(listed(&standin, "t1"), running());
    let page = listing(&standin, "&status=running");
    assert!(entry(&page, "t1").is_some(), "{page}");
    let statistics = serde_json::json!({"running": 1, "success": 0, "fail": 0});
    assert_eq!(page["statistics"], statistics);

    standin.advance_clock(HOUR);
    let finished = accepted + HOUR as i64;
    assert_eq!(listed(&standin, "t1"), ended("success", "", finished));
    // The end stays put, finish time included.
    standin.advance_clock(HOUR);
    assert_eq!(listed(&standin, "t1"), ended("success", "", finished));
    let page = listing(&standin, "&status=success");
    assert_eq!(entry(&page, "t1").unwrap()["taskCreateTime"], now - 7200);
    // Every listing counted (one per page), the retry not.
    assert_eq!(standin.listing_requests().len(), 5);
    assert_eq!(standin.requests().len(), 6);
}

#[test]
fn after_zero_ends_at_the_first_listing_and_fails_again_with_its_message() {
    let now = unix_secs(std::time::SystemTime::now());
    let message = "write oss failed: \"quoted\" back\\slash\nnew line\ttab \u{1} caf\u{e9} \u{2713} </b>&: NoSuchBucket";
    let standin = StandIn::builder()
        .tasks(vec![old_failure(now, "t1"), old_failure(now, "t2")])
        .lifecycle(Duration::ZERO)
        .fails_again("t2", message)
        .build();
    let accepted = retry(&standin, &["t1", "t2"]);
    assert_eq!(listed(&standin, "t1"), ended("success", "", accepted));
    assert_eq!(listed(&standin, "t2"), ended("fail", message, accepted));
    let page = listing(&standin, "&status=fail");
    assert_eq!(entry(&page, "t2").unwrap()["taskCode"], "NoSuchBucket");
    assert!(entry(&page, "t1").is_none(), "{page}");
}

#[test]
fn stays_running_never_ends() {
    let standin = StandIn::builder()
        .lifecycle(Duration::ZERO)
        .stays_running("t1")
        .build();
    retry(&standin, &["t1"]);
    assert_eq!(listed(&standin, "t1"), running());
    standin.advance_clock(24 * HOUR);
    assert_eq!(listed(&standin, "t1"), running());
}

#[test]
fn the_latest_retry_restarts_the_clock() {
    let standin = StandIn::builder()
        .lifecycle(Duration::from_secs(HOUR))
        .fails_again("t1", "write oss failed: AccessDenied")
        .build();
    retry(&standin, &["t1"]);
    standin.advance_clock(HOUR / 2);
    let second = retry(&standin, &["t1"]);
    // An hour and a quarter after the first retry, three quarters after the second.
    standin.advance_clock(3 * HOUR / 4);
    assert_eq!(listed(&standin, "t1"), running());
    standin.advance_clock(HOUR / 4);
    let failed = ended(
        "fail",
        "write oss failed: AccessDenied",
        second + HOUR as i64,
    );
    assert_eq!(listed(&standin, "t1"), failed);
    standin.advance_clock(HOUR);
    assert_eq!(listed(&standin, "t1"), failed);
    // A task that has ended runs again when retried.
    retry(&standin, &["t1"]);
    assert_eq!(listed(&standin, "t1"), running());
}

#[test]
fn a_retry_adds_an_id_not_held_created_an_hour_before() {
    // Times are the server's, skew included.
    let standin = StandIn::builder()
        .clock_skew_secs(3 * HOUR as i64)
        .lifecycle(Duration::ZERO)
        .build();
    assert_eq!(standin.task("t1"), None);
    let accepted = retry(&standin, &["t1", "t2"]);
    for id in ["t1", "t2"] {
        assert_eq!(listed(&standin, id), ended("success", "", accepted));
        assert_eq!(
            standin.task(id).unwrap().create_time,
            accepted - HOUR as i64
        );
    }
    assert_eq!(standin.tasks().len(), 2);
}

#[test]
fn without_a_lifecycle_a_retry_changes_no_task() {
    let now = unix_secs(std::time::SystemTime::now());
    let held = old_failure(now, "t1");
    let standin = StandIn::builder().tasks(vec![held.clone()]).build();
    let before = listed(&standin, "t1");
    assert_eq!(before, ended("fail", &held.message, held.finish_time));
    retry(&standin, &["t1", "t2"]);
    assert_eq!(standin.accepted_ids(), ["t1", "t2"]);
    assert_eq!(listed(&standin, "t1"), before);
    standin.advance_clock(HOUR);
    assert_eq!(listed(&standin, "t1"), before);
    assert_eq!(standin.task("t2"), None);
    assert_eq!(standin.tasks(), [held]);
}

#[test]
#[should_panic(expected = "fails_again and stays_running need lifecycle(...)")]
fn an_end_state_without_a_lifecycle_is_refused() {
    StandIn::builder()
        .fails_again("t1", "write oss failed")
        .build();
}
