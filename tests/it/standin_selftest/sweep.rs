//! Self-tests of the stand-in as a project of several logstores and shippers, over raw TCP: ListLogStores and ListShipper page in the order the names were added, under the name page cap, and are checked and refused like every request; an unknown logstore is LogStoreNotExist; each shipper has its own tasks (the same ID under two shippers is two tasks); a shipper deleted once listed is gone; one shipper's or one logstore's listing fails while the others answer.

use std::time::{Duration, SystemTime};

use serde_json::Value;

use standin::{Api, DEMO_KEY_ID, DEMO_LOGSTORE, DEMO_SHIPPER, Reply, StandIn, Task};

use super::{Answer, connect, demo_request, exchange, signed_request, unix_secs, window};

const HOUR: i64 = 3600;

/// Tasks failed an hour before now, one per ID.
fn failed(ids: &[&str]) -> Vec<Task> {
    let created = unix_secs(SystemTime::now()) - HOUR;
    ids.iter()
        .map(|id| Task::new(id, "fail", created))
        .collect()
}

/// `(method, path, query)` with `body`, signed as the demo account, on a new connection.
fn call(standin: &StandIn, method: &str, path: &str, query: &str, body: &str) -> Answer {
    let request = demo_request(standin, (method, path, query), body);
    exchange(&mut connect(standin), &request)
}

fn shippers_path(logstore: &str) -> String {
    format!("/logstores/{logstore}/shipper")
}

fn tasks_path(logstore: &str, shipper: &str) -> String {
    format!("/logstores/{logstore}/shipper/{shipper}/tasks")
}

/// RetryShipperTask of `ids` under `logstore`/`shipper`.
fn retry(standin: &StandIn, (logstore, shipper): (&str, &str), ids: &[&str]) -> Answer {
    let body = serde_json::to_string(ids).unwrap();
    call(standin, "PUT", &tasks_path(logstore, shipper), "", &body)
}

/// GetShipperStatus of `logstore`/`shipper` over the whole window, in one page.
fn list_tasks(standin: &StandIn, (logstore, shipper): (&str, &str)) -> Answer {
    let query = format!("{}&size=500", window(standin));
    call(standin, "GET", &tasks_path(logstore, shipper), &query, "")
}

/// `(id, taskStatus)` of every task of a GetShipperStatus page, in its order.
fn listed(answer: &Answer) -> Vec<(String, String)> {
    assert_eq!(answer.status, 200, "{}", answer.body);
    let page: Value = serde_json::from_str(&answer.body).unwrap();
    let tasks = page["tasks"].as_array().unwrap().iter();
    let text = |task: &Value, key: &str| task[key].as_str().unwrap().to_string();
    tasks
        .map(|t| (text(t, "id"), text(t, "taskStatus")))
        .collect()
}

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    let owned = expected.iter().map(|(a, b)| (a.to_string(), b.to_string()));
    owned.collect()
}

/// One page of a name listing (`key` is `logstores` or `shipper`): its names and `total`.
fn names(standin: &StandIn, path: &str, query: &str, key: &str) -> (Vec<String>, u64) {
    let answer = call(standin, "GET", path, query, "");
    assert_eq!(answer.status, 200, "{path}?{query}: {}", answer.body);
    assert_eq!(answer.header("Content-Type"), Some("application/json"));
    assert!(answer.header("x-log-requestid").is_some());
    let page: Value = serde_json::from_str(&answer.body).unwrap();
    let listed = page[key].as_array().unwrap().iter();
    let names: Vec<String> = listed.map(|n| n.as_str().unwrap().to_string()).collect();
    assert_eq!(page["count"], names.len(), "{}", answer.body);
    (names, page["total"].as_u64().unwrap())
}

/// Every name, paged as a client must (`offset += count` until `offset >= total` or
/// `count == 0`, asking `size=500`), and each page's count.
fn all_names(standin: &StandIn, path: &str, key: &str) -> (Vec<String>, Vec<usize>) {
    let (mut all, mut counts) = (Vec::new(), Vec::new());
    loop {
        let query = format!("offset={}&size=500", all.len());
        let (page, total) = names(standin, path, &query, key);
        counts.push(page.len());
        all.extend(page);
        if all.len() as u64 >= total || counts.last() == Some(&0) {
            return (all, counts);
        }
    }
}

fn strings(names: &[&str]) -> Vec<String> {
    names.iter().map(|name| name.to_string()).collect()
}

/// Logstore `zeta` with shippers `oss-1` to `oss-7`, then `alpha` (`oss`), `empty` (no
/// shipper) and `mid` (`odps`), with at most `max_name_page` names a page if given.
fn named_world(max_name_page: Option<usize>) -> StandIn {
    let mut builder = StandIn::builder();
    for n in 1..=7 {
        builder = builder.shipper_with_tasks("zeta", &format!("oss-{n}"), Vec::new());
    }
    if let Some(n) = max_name_page {
        builder = builder.max_name_page(n);
    }
    let builder = builder.shipper_with_tasks("alpha", "oss", failed(&["a1"]));
    let builder = builder.logstore_without_shippers("empty");
    builder
        .shipper_with_tasks("mid", "odps", Vec::new())
        .build()
}

#[test]
fn name_listings_page_in_the_order_added_under_the_cap() {
    let standin = named_world(Some(3));
    let (logstores, counts) = all_names(&standin, "/logstores", "logstores");
    assert_eq!(logstores, strings(&["zeta", "alpha", "empty", "mid"]));
    assert_eq!(counts, [3, 1]);
    let (shippers, counts) = all_names(&standin, &shippers_path("zeta"), "shipper");
    let seven: Vec<String> = (1..=7).map(|n| format!("oss-{n}")).collect();
    assert_eq!(shippers, seven);
    assert_eq!(counts, [3, 3, 1]);

    let zeta = shippers_path("zeta");
    let page = |query: &str| names(&standin, &zeta, query, "shipper");
    // `size` below the cap, the default size (100) capped, `offset` past the end.
    assert_eq!(page("offset=5&size=2"), (strings(&["oss-6", "oss-7"]), 7));
    assert_eq!(page(""), (seven[..3].to_vec(), 7));
    assert_eq!(page("offset=&size="), (seven[..3].to_vec(), 7));
    assert_eq!(page("offset=100"), (Vec::new(), 7));
    let empty = names(&standin, &shippers_path("empty"), "", "shipper");
    assert_eq!(empty, (Vec::new(), 0));

    // Without the cap, the default size takes them all.
    let uncapped = named_world(None);
    assert_eq!(names(&uncapped, &zeta, "", "shipper"), (seven, 7));

    let listings = standin.requests_of(Api::ListShipper);
    assert_eq!(listings.len(), 3 + 4 + 1);
    assert!(listings.iter().all(|r| r.shipper().is_none()));
    let logstore = |r: &standin::Recorded| r.logstore().map(String::from);
    let named: Vec<Option<String>> = listings.iter().map(logstore).collect();
    assert_eq!(named.last(), Some(&Some("empty".to_string())));
    let logstore_listings = standin.requests_of(Api::ListLogStores);
    assert_eq!(logstore_listings.len(), 2);
    assert!(logstore_listings.iter().all(|r| r.logstore().is_none()));
}

#[test]
fn name_listings_refuse_what_the_task_listing_refuses() {
    let standin = named_world(Some(3));
    for path in ["/logstores".to_string(), shippers_path("zeta")] {
        for (query, named) in [
            ("size=501", "size"),
            ("size=0", "size"),
            ("size=many", "size"),
            ("offset=-1", "offset"),
        ] {
            let answer = call(&standin, "GET", &path, query, "");
            let (code, message) = answer.error();
            assert_eq!((answer.status, code.as_str()), (400, "ParameterInvalid"));
            assert!(message.contains(named), "{path}?{query}: {message}");
        }
    }
    // 500 is the most a page may ask for.
    let (all, total) = names(&standin, "/logstores", "size=500", "logstores");
    assert_eq!((all.len(), total), (3, 4));
}

#[test]
fn listings_are_signed_dated_and_routed_like_every_request() {
    let standin = named_world(None);
    let date = standin.server_time();
    let forged = (DEMO_KEY_ID, "not-the-secret", None);
    let stale = date - Duration::from_secs(20 * 60);
    let demo = (DEMO_KEY_ID, standin::DEMO_KEY_SECRET, None);
    for (account, date, expected) in [
        (forged, date, (401, "SignatureNotMatch")),
        (demo, stale, (400, "RequestTimeExpired")),
    ] {
        for path in ["/logstores".to_string(), shippers_path("zeta")] {
            let request = signed_request(&standin, account, ("GET", &path, "size=10"), "", date);
            let answer = exchange(&mut connect(&standin), &request);
            assert_eq!(
                (answer.status, answer.error().0.as_str()),
                expected,
                "{path}"
            );
        }
    }
    for (method, path) in [
        ("PUT", "/logstores"),
        ("GET", "/logstores/"),
        ("GET", "/logstores/zeta/shipper/"),
        ("POST", "/logstores/zeta/shipper"),
    ] {
        let answer = call(&standin, method, path, "", "");
        assert_eq!(
            (answer.status, answer.error().0.as_str()),
            (404, "NotFound")
        );
    }
    // Another project's stand-in does not know the demo project.
    let other = StandIn::builder().project("other").build();
    let answer = call(&other, "GET", "/logstores", "", "");
    assert_eq!(
        (answer.status, answer.error().0.as_str()),
        (404, "ProjectNotExist")
    );
    // Scripted replies and injected faults take listings as any other request.
    standin.push_reply(Reply::error(503, "ServerBusy", "busy"));
    let answer = call(&standin, "GET", "/logstores", "", "");
    assert_eq!(
        (answer.status, answer.error().0.as_str()),
        (503, "ServerBusy")
    );
    let faulty = StandIn::builder()
        .shipper_with_tasks("a", "s", Vec::new())
        .error_rate(1.0, 403, "MetaOperationQpsLimitExceeded")
        .build();
    let answer = call(&faulty, "GET", &shippers_path("a"), "", "");
    let refused = (answer.status, answer.error().0);
    assert_eq!(refused, (403, "MetaOperationQpsLimitExceeded".into()));
}

#[test]
fn unknown_logstores_and_shippers_are_refused_as_sls_refuses_them() {
    let standin = named_world(None);
    let answer = call(&standin, "GET", &shippers_path("nope"), "", "");
    assert_eq!(answer.status, 404);
    assert!(answer.header("x-log-requestid").is_some());
    let expected = (
        "LogStoreNotExist".into(),
        "Logstore nope does not exist.".into(),
    );
    assert_eq!(answer.error(), expected);
    for target in [("nope", "oss"), ("nope", "oss-1")] {
        assert_eq!(list_tasks(&standin, target).error(), expected);
        assert_eq!(retry(&standin, target, &["a1"]).error(), expected);
    }
    // A shipper belongs to its own logstore only.
    let shipper_not_exist = ("ShipperNotExist".into(), "Shipper does not exist.".into());
    for target in [("alpha", "oss-1"), ("zeta", "oss"), ("empty", "oss")] {
        let answer = list_tasks(&standin, target);
        assert_eq!(
            (answer.status, answer.error()),
            (400, shipper_not_exist.clone())
        );
        let answer = retry(&standin, target, &["a1"]);
        assert_eq!(
            (answer.status, answer.error()),
            (400, shipper_not_exist.clone())
        );
    }
    assert!(standin.accepted().is_empty());
}

#[test]
fn the_same_id_under_two_shippers_is_two_tasks() {
    let (web, app) = (("web", "oss"), ("app", "oss"));
    let standin = StandIn::builder()
        .shipper_with_tasks("web", "oss", failed(&["x", "y"]))
        .shipper_with_tasks("app", "oss", failed(&["x"]))
        .shipper_with_tasks("app", "oss", vec![Task::new("z", "success", 1)])
        .lifecycle(Duration::ZERO)
        .fails_again("y", "write oss failed: NoSuchBucket")
        .build();
    let (logstores, _) = names(&standin, "/logstores", "", "logstores");
    assert_eq!(logstores, strings(&["web", "app"]));
    assert!(standin.tasks().is_empty(), "no demo shipper");

    assert_eq!(retry(&standin, web, &["x", "y"]).status, 200);
    let web_tasks = pairs(&[("x", "success"), ("y", "fail")]);
    assert_eq!(listed(&list_tasks(&standin, web)), web_tasks);
    // Under app/oss, x has not been retried; z is outside the window.
    assert_eq!(listed(&list_tasks(&standin, app)), pairs(&[("x", "fail")]));
    assert_eq!(standin.task_of("app", "oss", "x").unwrap().status, "fail");
    assert_eq!(
        standin.task_of("web", "oss", "x").unwrap().status,
        "success"
    );
    assert_eq!(standin.tasks_of("app", "oss").len(), 2);

    // A retry adds an ID its shipper does not hold, to that shipper alone.
    assert_eq!(retry(&standin, app, &["x", "w"]).status, 200);
    assert_eq!(
        standin.task_of("app", "oss", "w").unwrap().status,
        "success"
    );
    assert_eq!(standin.task_of("web", "oss", "w"), None);
    let triple = |(l, s): (&str, &str), id: &str| (l.to_string(), s.to_string(), id.to_string());
    let expected = [
        triple(web, "x"),
        triple(web, "y"),
        triple(app, "x"),
        triple(app, "w"),
    ];
    assert_eq!(standin.accepted_by_shipper(), expected);
    let retries = standin.requests_of(Api::RetryShipperTask);
    let targets: Vec<(Option<&str>, Option<&str>)> = (retries.iter())
        .map(|r| (r.logstore(), r.shipper()))
        .collect();
    assert_eq!(
        targets,
        [(Some("web"), Some("oss")), (Some("app"), Some("oss"))]
    );
    let listings = standin.listing_requests();
    assert_eq!(listings.len(), 2);
    assert_eq!(listings[1].logstore(), Some("app"));
}

#[test]
fn generated_tasks_under_two_shippers_share_ids_when_they_share_a_seed() {
    let standin = StandIn::builder()
        .shipper_with_generated_tasks("web", "oss", 20, 4)
        .shipper_with_generated_tasks("web", "odps", 20, 4)
        .shipper_with_generated_tasks("app", "oss", 20, 5)
        .build();
    let ids = |logstore, shipper| -> Vec<String> {
        let tasks = standin.tasks_of(logstore, shipper).into_iter();
        tasks.map(|task| task.id).collect()
    };
    assert_eq!(ids("web", "oss"), ids("web", "odps"));
    assert_ne!(ids("web", "oss"), ids("app", "oss"));
    assert_eq!(ids("app", "oss").len(), 20);
}

#[test]
fn the_demo_world_stands_beside_shippers_with_their_own_tasks_when_asked_for() {
    let standin = StandIn::builder()
        .tasks(failed(&["d"]))
        .shipper_with_tasks("web", "oss", failed(&["x"]))
        .build();
    let (logstores, _) = names(&standin, "/logstores", "", "logstores");
    assert_eq!(logstores, strings(&[DEMO_LOGSTORE, "web"]));
    let (shippers, _) = names(&standin, &shippers_path(DEMO_LOGSTORE), "", "shipper");
    assert_eq!(shippers, strings(&[DEMO_SHIPPER]));
    assert_eq!(
        standin.tasks(),
        standin.tasks_of(DEMO_LOGSTORE, DEMO_SHIPPER)
    );
    assert_eq!(standin.tasks(), failed(&["d"]));

    // Demo shippers come first in their logstore; the demo logstore keeps its place if named.
    let standin = StandIn::builder()
        .shipper_with_tasks("web", "oss", Vec::new())
        .shipper_with_tasks("l2", "own", Vec::new())
        .logstore("l1")
        .logstore("l2")
        .shipper("p")
        .shipper("q")
        .build();
    let (logstores, _) = names(&standin, "/logstores", "", "logstores");
    assert_eq!(logstores, strings(&["web", "l2", "l1"]));
    let (shippers, _) = names(&standin, &shippers_path("l2"), "", "shipper");
    assert_eq!(shippers, strings(&["p", "q", "own"]));
}

#[test]
#[should_panic(expected = "demo-logstore/demo-shipper is a demo shipper")]
fn a_demo_shipper_cannot_have_tasks_of_its_own() {
    StandIn::builder()
        .tasks(failed(&["d"]))
        .shipper_with_tasks(DEMO_LOGSTORE, DEMO_SHIPPER, failed(&["x"]))
        .build();
}

#[test]
#[should_panic(expected = "no shipper web/odps in this world to fail")]
fn a_failure_knob_names_a_shipper_that_exists() {
    StandIn::builder()
        .shipper_with_tasks("web", "oss", Vec::new())
        .listing_fails("web", "odps", 500, "InternalServerError")
        .build();
}

#[test]
fn a_shipper_deleted_once_listed_is_gone() {
    let (oss, odps) = (("web", "oss"), ("web", "odps"));
    let standin = StandIn::builder()
        .shipper_with_tasks("web", "oss", failed(&["x"]))
        .shipper_with_tasks("web", "odps", failed(&["x"]))
        .shipper_deleted_after_listing("web", "oss")
        .build();
    let shippers = || names(&standin, &shippers_path("web"), "", "shipper").0;
    assert_eq!(shippers(), strings(&["oss", "odps"]));
    assert_eq!(retry(&standin, oss, &["x"]).status, 200);
    // A page refused is no page served.
    let refused = call(&standin, "GET", &tasks_path("web", "oss"), "size=0", "");
    assert_eq!(refused.status, 400);
    assert_eq!(shippers(), strings(&["oss", "odps"]));

    assert_eq!(listed(&list_tasks(&standin, oss)), pairs(&[("x", "fail")]));
    assert_eq!(shippers(), strings(&["odps"]));
    let gone = (
        "ShipperNotExist".to_string(),
        "Shipper does not exist.".to_string(),
    );
    for answer in [retry(&standin, oss, &["x"]), list_tasks(&standin, oss)] {
        assert_eq!((answer.status, answer.error()), (400, gone.clone()));
    }
    assert_eq!(retry(&standin, odps, &["x"]).status, 200);
    assert_eq!(listed(&list_tasks(&standin, odps)), pairs(&[("x", "fail")]));
    let triple = |(l, s): (&str, &str)| (l.to_string(), s.to_string(), "x".to_string());
    assert_eq!(standin.accepted_by_shipper(), [triple(oss), triple(odps)]);
    assert_eq!(standin.refusals("ShipperNotExist"), 2);
    assert_eq!(standin.tasks_of("web", "oss"), failed(&["x"]));
}

#[test]
fn one_listing_fails_while_the_others_answer() {
    let (oss, odps, app) = (("web", "oss"), ("web", "odps"), ("app", "oss"));
    let standin = StandIn::builder()
        .shipper_with_tasks("web", "oss", failed(&["x"]))
        .shipper_with_tasks("web", "odps", failed(&["y"]))
        .shipper_with_tasks("app", "oss", failed(&["z"]))
        .shipper_with_tasks("edge", "oss", Vec::new())
        .listing_fails("web", "oss", 500, "InternalServerError")
        .shipper_listing_fails("app", 403, "Unauthorized")
        .shipper_listing_fails("edge", 502, "")
        .build();
    // Every time, with SLS's error body.
    for _ in 0..2 {
        let answer = list_tasks(&standin, oss);
        assert_eq!(answer.status, 500);
        assert_eq!(answer.error().0, "InternalServerError");
        assert!(answer.header("x-log-requestid").is_some());
        let answer = call(&standin, "GET", &shippers_path("app"), "", "");
        assert_eq!(
            (answer.status, answer.error().0.as_str()),
            (403, "Unauthorized")
        );
    }
    let answer = call(&standin, "GET", &shippers_path("edge"), "", "");
    assert_eq!(answer.status, 502);
    assert_eq!(answer.header("Content-Type"), Some("text/html"));
    assert!(answer.header("x-log-requestid").is_none());

    // The rest answers: the other shippers' tasks, the failing logstore's shippers, retries.
    assert_eq!(listed(&list_tasks(&standin, odps)), pairs(&[("y", "fail")]));
    assert_eq!(listed(&list_tasks(&standin, app)), pairs(&[("z", "fail")]));
    let (shippers, _) = names(&standin, &shippers_path("web"), "", "shipper");
    assert_eq!(shippers, strings(&["oss", "odps"]));
    let (logstores, _) = names(&standin, "/logstores", "", "logstores");
    assert_eq!(logstores, strings(&["web", "app", "edge"]));
    assert_eq!(retry(&standin, oss, &["x"]).status, 200);
    assert_eq!(standin.accepted_ids(), ["x"]);
}
