//! GetShipperStatus (SPEC 1.2): its response document, paging through every task of a window,
//! and reading such documents (one page or several concatenated) from stdin.

use std::collections::HashSet;

use serde_json::{Map, Value};

/// The largest page the API serves.
pub const PAGE_SIZE: usize = 500;

/// More pages than this means the server is not converging; stop rather than loop forever.
const MAX_PAGES: usize = 2_000;

/// One task as SLS lists it; every field is kept so `--list --json` passes them all on.
#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    pub id: String,
    /// `fail`, `success` or `running`.
    pub status: String,
    pub fields: Map<String, Value>,
}

/// One GetShipperStatus response.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub count: usize,
    pub total: usize,
    pub tasks: Vec<Task>,
}

/// Parse one response document.
pub fn parse_page(doc: Value) -> Result<Page, String> {
    let Value::Object(mut doc) = doc else {
        return Err("not a JSON object".into());
    };
    let Some(Value::Array(items)) = doc.remove("tasks") else {
        return Err("it has no \"tasks\" array".into());
    };
    let mut tasks = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let Value::Object(fields) = item else {
            return Err(format!("task {} is not an object", i + 1));
        };
        let Some(id) = fields.get("id").and_then(Value::as_str).map(str::to_string) else {
            return Err(format!("task {} has no string \"id\"", i + 1));
        };
        let status = fields
            .get("taskStatus")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        tasks.push(Task { id, status, fields });
    }
    let number = |key: &str| doc.get(key).and_then(Value::as_u64).map(|n| n as usize);
    Ok(Page {
        count: number("count").unwrap_or(tasks.len()),
        total: number("total").unwrap_or(tasks.len()),
        tasks,
    })
}

/// Read every page of a listing with `fetch(offset, size)`: `offset += count` until
/// `offset >= total` or a page comes back empty (SPEC 1.2).
///
/// Robust to what a live listing does: pages shorter than asked, and a `total` that moves while
/// tasks arrive or change status. A task seen twice (pushed across a page boundary) is kept once;
/// when the pass ends having seen fewer tasks than the last `total`, one more pass picks up those
/// that shifted past it.
pub fn read_all<E>(
    mut fetch: impl FnMut(usize, usize) -> Result<Page, E>,
    mut on_page: impl FnMut(usize, &Page),
) -> Result<Vec<Task>, E> {
    let mut seen = HashSet::new();
    let mut tasks = Vec::new();
    let mut pages = 0;
    for _pass in 0..2 {
        let mut offset = 0;
        let mut total;
        loop {
            let page = fetch(offset, PAGE_SIZE)?;
            pages += 1;
            on_page(offset, &page);
            total = page.total;
            let got = page.tasks.len();
            for task in page.tasks {
                if seen.insert(task.id.clone()) {
                    tasks.push(task);
                }
            }
            offset += got;
            if got == 0 || offset >= total || pages >= MAX_PAGES {
                break;
            }
        }
        if tasks.len() >= total || pages >= MAX_PAGES {
            break;
        }
    }
    Ok(tasks)
}

/// What was found in GetShipperStatus documents on stdin.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Documents {
    /// The IDs of tasks whose status is `fail`, in document order.
    pub failed: Vec<String>,
    /// How many tasks the documents listed in all.
    pub listed: usize,
}

/// Read one or several concatenated GetShipperStatus documents (as the API or
/// `aliyunlog log get_shipper_tasks` prints them) and take the failed tasks.
pub fn failed_in_documents(text: &str) -> Result<Documents, String> {
    let mut found = Documents::default();
    let stream = serde_json::Deserializer::from_str(text).into_iter::<Value>();
    for (n, doc) in stream.enumerate() {
        let doc = doc.map_err(|e| format!("stdin document {} is not valid JSON ({e})", n + 1))?;
        let page = parse_page(doc).map_err(|why| {
            format!(
                "stdin document {} is not a GetShipperStatus response: {why}",
                n + 1
            )
        })?;
        found.listed += page.tasks.len();
        found.failed.extend(
            page.tasks
                .into_iter()
                .filter(|t| t.status == "fail")
                .map(|t| t.id),
        );
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn task(id: usize, status: &str) -> Value {
        json!({"id": format!("t{id}"), "taskStatus": status, "taskMessage": "", "taskCreateTime": 1,
               "taskLastDataReceiveTime": 1, "taskFinishTime": 1})
    }

    fn page_of(ids: std::ops::Range<usize>, total: usize) -> Page {
        let tasks: Vec<Value> = ids.map(|i| task(i, "fail")).collect();
        parse_page(json!({"count": tasks.len(), "total": total, "tasks": tasks})).unwrap()
    }

    fn ids(tasks: &[Task]) -> Vec<String> {
        tasks.iter().map(|t| t.id.clone()).collect()
    }

    fn expected(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("t{i}")).collect()
    }

    #[test]
    fn pages_until_total() {
        let mut asked = Vec::new();
        let tasks = read_all(
            |offset, size| {
                asked.push((offset, size));
                Ok::<_, ()>(page_of(offset..(offset + size).min(1200), 1200))
            },
            |_, _| {},
        )
        .unwrap();
        assert_eq!(ids(&tasks), expected(1200));
        assert_eq!(asked, [(0, 500), (500, 500), (1000, 500)]);
    }

    #[test]
    fn short_pages_and_an_empty_page_end_it() {
        // The server caps pages at 120 whatever size says.
        let tasks = read_all(
            |offset, _| Ok::<_, ()>(page_of(offset..(offset + 120).min(700), 700)),
            |_, _| {},
        )
        .unwrap();
        assert_eq!(ids(&tasks), expected(700));
        // A total that promises more than there is: the empty page stops it.
        let tasks = read_all(
            |offset, _| Ok::<_, ()>(page_of(offset..(offset + 500).min(600), 900)),
            |_, _| {},
        )
        .unwrap();
        assert_eq!(ids(&tasks), expected(600));
    }

    #[test]
    fn tasks_arriving_at_the_head_while_paging_are_all_read_once() {
        // Newest first: 3 new tasks (ids 1000..1003) arrive after the first page, shifting the
        // rest by 3.
        let mut calls = 0;
        let tasks = read_all(
            |offset, _| {
                calls += 1;
                let mut all: Vec<usize> = (0..1000).collect();
                if calls > 1 {
                    all.splice(0..0, 1000..1003);
                }
                let slice: Vec<Value> = all
                    .iter()
                    .skip(offset)
                    .take(500)
                    .map(|&i| task(i, "fail"))
                    .collect();
                Ok::<_, ()>(
                    parse_page(json!({"count": slice.len(), "total": all.len(), "tasks": slice}))
                        .unwrap(),
                )
            },
            |_, _| {},
        )
        .unwrap();
        let mut got = ids(&tasks);
        got.sort();
        let mut want: Vec<String> = (0..1003).map(|i| format!("t{i}")).collect();
        want.sort();
        assert_eq!(got, want, "every task exactly once");
    }

    #[test]
    fn errors_stop_the_listing() {
        let r = read_all(
            |offset, _| {
                if offset == 0 {
                    Ok(page_of(0..500, 1000))
                } else {
                    Err("boom")
                }
            },
            |_, _| {},
        );
        assert_eq!(r.unwrap_err(), "boom");
    }

    #[test]
    fn documents_on_stdin_one_or_several() {
        let one = json!({"count": 3, "total": 3, "statistics": {"running": 1, "success": 1, "fail": 1},
            "tasks": [task(1, "fail"), task(2, "success"), task(3, "running")]});
        let found = failed_in_documents(&serde_json::to_string_pretty(&one).unwrap()).unwrap();
        assert_eq!(
            found,
            Documents {
                failed: vec!["t1".into()],
                listed: 3
            }
        );

        let two = format!(
            "{one}\n{}",
            json!({"count": 2, "total": 5, "tasks": [task(4, "fail"), task(5, "fail")]})
        );
        let found = failed_in_documents(&two).unwrap();
        assert_eq!(
            found,
            Documents {
                failed: vec!["t1".into(), "t4".into(), "t5".into()],
                listed: 5
            }
        );

        let err = failed_in_documents(r#"{"count": 1}"#).unwrap_err();
        assert!(
            err.contains(
                "document 1 is not a GetShipperStatus response: it has no \"tasks\" array"
            ),
            "{err}"
        );
        let err = failed_in_documents(&format!("{one} {{\"tasks\": [")).unwrap_err();
        assert!(err.contains("document 2 is not valid JSON"), "{err}");
        let err = failed_in_documents(r#"{"tasks": [{"taskStatus": "fail"}]}"#).unwrap_err();
        assert!(err.contains("task 1 has no string \"id\""), "{err}");
    }
}
