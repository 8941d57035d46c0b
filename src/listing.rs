//! GetShipperStatus: its response document, paging through every task of a window,
//! and reading such documents (one page or several concatenated) from stdin.

use std::collections::HashSet;

use serde_json::{Map, Value};

use crate::ids::TaskId;

/// The largest page the API serves.
pub const PAGE_SIZE: usize = 500;

/// More pages than this means the server is not converging; stop rather than loop forever.
const MAX_PAGES: usize = 2_000;

/// A task's state, as GetShipperStatus reports it (`taskStatus`) and as its `status` parameter
/// and `--status` name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskStatus {
    Running,
    Success,
    Fail,
}

impl TaskStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Running => "running",
            TaskStatus::Success => "success",
            TaskStatus::Fail => "fail",
        }
    }

    /// The status a task document names; `None` for anything else.
    pub fn parse(text: &str) -> Option<TaskStatus> {
        [TaskStatus::Running, TaskStatus::Success, TaskStatus::Fail]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

/// Which tasks a listing asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusFilter {
    All,
    Only(TaskStatus),
}

impl StatusFilter {
    /// The query's `status` parameter: empty for all.
    pub fn query_value(self) -> &'static str {
        match self {
            StatusFilter::All => "",
            StatusFilter::Only(status) => status.as_str(),
        }
    }

    /// Does a task of this status belong in the listing? (The service filters; this keeps a
    /// listing to what was asked for whatever the service sends.)
    pub fn admits(self, status: Option<TaskStatus>) -> bool {
        match self {
            StatusFilter::All => true,
            StatusFilter::Only(wanted) => status == Some(wanted),
        }
    }
}

/// One task as SLS lists it; every field is kept so `--list --json` passes them all on.
#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    pub id: TaskId,
    /// `None` when the document names no status we know.
    pub status: Option<TaskStatus>,
    pub fields: Map<String, Value>,
}

/// A listed task whose ID is not one that could be sent back (empty, too long, whitespace or
/// control characters): left out, and said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// As the server sent it; escape it before printing.
    pub id: String,
    pub status: Option<TaskStatus>,
    pub why: &'static str,
}

impl Skipped {
    /// One line for a warning.
    pub fn describe(&self) -> String {
        format!(
            "skipped task id \"{}\" from the listing: {}",
            crate::untrusted::excerpt(&self.id, 80),
            self.why
        )
    }
}

/// One GetShipperStatus response.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// `count` as the document says (the tasks it holds when it says nothing).
    pub count: usize,
    pub total: usize,
    pub tasks: Vec<Task>,
    pub skipped: Vec<Skipped>,
}

impl Page {
    /// Tasks the page held, skipped ones included.
    fn held(&self) -> usize {
        self.tasks.len() + self.skipped.len()
    }
}

/// Parse one response document. A task that is not an object or has no string `id` makes the
/// document unreadable; a task whose `id` is not a valid task ID is set aside in `skipped`.
pub fn parse_page(doc: Value) -> Result<Page, String> {
    let Value::Object(mut doc) = doc else {
        return Err("not a JSON object".into());
    };
    // `null` or no `tasks` at all is an empty page.
    let items = match doc.remove("tasks") {
        Some(Value::Array(items)) => items,
        None | Some(Value::Null) => Vec::new(),
        Some(_) => return Err("its \"tasks\" is not an array".into()),
    };
    let mut tasks = Vec::with_capacity(items.len());
    let mut skipped = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        let Value::Object(fields) = item else {
            return Err(format!("task {} is not an object", i + 1));
        };
        let Some(id) = fields.get("id").and_then(Value::as_str) else {
            return Err(format!("task {} has no string \"id\"", i + 1));
        };
        let status = fields
            .get("taskStatus")
            .and_then(Value::as_str)
            .and_then(TaskStatus::parse);
        match TaskId::parse(id) {
            Ok(id) => tasks.push(Task { id, status, fields }),
            Err(why) => skipped.push(Skipped {
                id: id.to_string(),
                status,
                why,
            }),
        }
    }
    let held = tasks.len() + skipped.len();
    let number = |key: &str| doc.get(key).and_then(Value::as_u64).map(|n| n as usize);
    Ok(Page {
        count: number("count").unwrap_or(held),
        total: number("total").unwrap_or(held),
        tasks,
        skipped,
    })
}

/// Every task a listing read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Listing {
    pub tasks: Vec<Task>,
    pub skipped: Vec<Skipped>,
    /// The `total` of the last page read.
    pub total: usize,
    /// Requests it took.
    pub pages: usize,
}

impl Listing {
    /// Keep only the tasks (skipped ones included) that `filter` admits.
    pub fn keep(&mut self, filter: StatusFilter) {
        self.tasks.retain(|t| filter.admits(t.status));
        self.skipped.retain(|t| filter.admits(t.status));
    }

    /// Distinct tasks read, skipped ones included.
    pub fn read(&self) -> usize {
        self.tasks.len() + self.skipped.len()
    }

    /// When the tasks read do not add up to the `total` the service gave (fewer: pages were
    /// missed or never came; more: the service miscounts), a warning saying so.
    pub fn shortfall(&self) -> Option<String> {
        (self.read() != self.total).then(|| {
            format!(
                "the listing does not add up: read {} tasks, the service reported {}",
                self.read(),
                self.total
            )
        })
    }
}

/// Read every page of a listing with `fetch(offset)` (pages of up to `PAGE_SIZE`):
/// `offset += count` until
/// `offset >= total`, a page comes back empty, or a page brings no task not already seen (a
/// server that repeats itself must not be asked forever).
///
/// Robust to what a live listing does: pages shorter than asked, and a `total` that moves while
/// tasks arrive or change status. A task seen twice (pushed across a page boundary) is kept once;
/// when the pass ends having seen fewer tasks than the last `total`, one more pass picks up those
/// that shifted past it. Whether it all adds up is the caller's to say (`Listing::shortfall`).
pub fn read_all<E>(mut fetch: impl FnMut(usize) -> Result<Page, E>) -> Result<Listing, E> {
    let mut seen = HashSet::new();
    let mut listing = Listing::default();
    for _pass in 0..2 {
        let mut offset = 0;
        loop {
            let page = fetch(offset)?;
            listing.pages += 1;
            listing.total = page.total;
            let held = page.held();
            let before = listing.read();
            for task in page.tasks {
                if seen.insert(task.id.as_str().to_string()) {
                    listing.tasks.push(task);
                }
            }
            for skipped in page.skipped {
                if seen.insert(skipped.id.clone()) {
                    listing.skipped.push(skipped);
                }
            }
            offset += held;
            let brought_nothing_new = listing.read() == before;
            if held == 0 || offset >= listing.total || brought_nothing_new {
                break;
            }
            if listing.pages >= MAX_PAGES {
                return Ok(listing);
            }
        }
        if listing.read() >= listing.total {
            break;
        }
    }
    Ok(listing)
}

/// What was found in GetShipperStatus documents on stdin.
#[derive(Debug, Default, PartialEq)]
pub struct Documents {
    /// The tasks whose status is `fail` (skipped ones aside), in document order.
    pub failed: Listing,
    /// How many tasks the documents listed in all.
    pub listed: usize,
    /// How many tasks they say they cover: their `count`s added up, or the largest `total` when
    /// that is more (concatenated pages each carry the whole listing's `total`).
    pub claimed: usize,
}

/// Read one or several concatenated GetShipperStatus documents (as the API or
/// `aliyunlog log get_shipper_tasks` prints them) and take the failed tasks.
pub fn failed_in_documents(text: &str) -> Result<Documents, String> {
    let mut found = Documents::default();
    let (mut counts, mut largest_total) = (0usize, 0usize);
    let stream = serde_json::Deserializer::from_str(text).into_iter::<Value>();
    for (n, doc) in stream.enumerate() {
        let doc = doc.map_err(|e| format!("stdin document {} is not valid JSON ({e})", n + 1))?;
        // The service may leave `tasks` out of an empty page; a document on stdin without it is
        // more likely something else altogether.
        let no_tasks = doc.get("tasks").is_none();
        let page = (if no_tasks {
            Err("it has no \"tasks\" array".to_string())
        } else {
            parse_page(doc)
        })
        .map_err(|why| {
            format!(
                "stdin document {} is not a GetShipperStatus response: {why}",
                n + 1
            )
        })?;
        found.listed += page.held();
        counts = counts.saturating_add(page.count);
        largest_total = largest_total.max(page.total);
        found.failed.tasks.extend(page.tasks);
        found.failed.skipped.extend(page.skipped);
    }
    found.failed.keep(StatusFilter::Only(TaskStatus::Fail));
    found.claimed = counts.max(largest_total);
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

    fn ids(listing: &Listing) -> Vec<String> {
        (listing.tasks.iter())
            .map(|t| t.id.as_str().to_string())
            .collect()
    }

    fn expected(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("t{i}")).collect()
    }

    #[test]
    fn pages_until_total() {
        let mut asked = Vec::new();
        let tasks = read_all(|offset| {
            asked.push(offset);
            Ok::<_, ()>(page_of(offset..(offset + PAGE_SIZE).min(1200), 1200))
        })
        .unwrap();
        assert_eq!(ids(&tasks), expected(1200));
        assert_eq!(asked, [0, 500, 1000]);
        assert_eq!((tasks.pages, tasks.shortfall()), (3, None));
    }

    #[test]
    fn short_pages_and_an_empty_page_end_it() {
        // The server caps pages at 120 whatever size says.
        let tasks =
            read_all(|offset| Ok::<_, ()>(page_of(offset..(offset + 120).min(700), 700))).unwrap();
        assert_eq!(ids(&tasks), expected(700));
        // A total that promises more than there is: the empty page stops it.
        let tasks =
            read_all(|offset| Ok::<_, ()>(page_of(offset..(offset + 500).min(600), 900))).unwrap();
        assert_eq!(ids(&tasks), expected(600));
        assert_eq!(
            tasks.shortfall().unwrap(),
            "the listing does not add up: read 600 tasks, the service reported 900"
        );
    }

    #[test]
    fn a_page_that_brings_nothing_new_ends_the_pass() {
        // The same page whatever the offset, with a total that never comes.
        let mut asked = 0;
        let listing = read_all(|_| {
            asked += 1;
            Ok::<_, ()>(page_of(0..500, usize::MAX))
        })
        .unwrap();
        assert_eq!(asked, 3, "two passes, each ended by the repeated page");
        assert_eq!(ids(&listing), expected(500));
        assert!(listing.shortfall().is_some());
    }

    #[test]
    fn invalid_ids_are_set_aside_and_still_count_as_read() {
        let page = parse_page(json!({"count": 3, "total": 3, "tasks": [
            task(1, "fail"), {"id": "has space", "taskStatus": "fail"}, {"id": "", "taskStatus": "success"}]}))
        .unwrap();
        assert_eq!(page.tasks.len(), 1);
        let why: Vec<_> = page
            .skipped
            .iter()
            .map(|s| (s.id.as_str(), s.why))
            .collect();
        assert_eq!(
            why,
            [("has space", "it contains whitespace"), ("", "it is empty")]
        );
        let listing = read_all(|_| Ok::<_, ()>(page.clone())).unwrap();
        assert_eq!((listing.read(), listing.shortfall()), (3, None));

        // A page without tasks, or with null tasks, is an empty page.
        for doc in [
            json!({"count": 0, "total": 0}),
            json!({"total": 0, "tasks": null}),
        ] {
            assert_eq!(parse_page(doc).unwrap().held(), 0);
        }
    }

    #[test]
    fn tasks_arriving_at_the_head_while_paging_are_all_read_once() {
        // Newest first: 3 new tasks (ids 1000..1003) arrive after the first page, shifting the
        // rest by 3.
        let mut calls = 0;
        let tasks = read_all(|offset| {
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
        })
        .unwrap();
        let mut got = ids(&tasks);
        got.sort();
        let mut want: Vec<String> = (0..1003).map(|i| format!("t{i}")).collect();
        want.sort();
        assert_eq!(got, want, "every task exactly once");
    }

    #[test]
    fn errors_stop_the_listing() {
        let r = read_all(|offset| {
            if offset == 0 {
                Ok(page_of(0..500, 1000))
            } else {
                Err("boom")
            }
        });
        assert_eq!(r.unwrap_err(), "boom");
    }

    #[test]
    fn documents_on_stdin_one_or_several() {
        let one = json!({"count": 3, "total": 3, "statistics": {"running": 1, "success": 1, "fail": 1},
            "tasks": [task(1, "fail"), task(2, "success"), task(3, "running")]});
        let found = failed_in_documents(&serde_json::to_string_pretty(&one).unwrap()).unwrap();
        assert_eq!(ids(&found.failed), ["t1"]);
        assert!(found.failed.skipped.is_empty());
        assert_eq!((found.listed, found.claimed), (3, 3));

        let two = format!(
            "{one}\n{}",
            json!({"count": 2, "total": 5, "tasks": [task(4, "fail"), task(5, "fail")]})
        );
        let found = failed_in_documents(&two).unwrap();
        assert_eq!(ids(&found.failed), ["t1", "t4", "t5"]);
        assert_eq!((found.listed, found.claimed), (5, 5));

        // aliyunlog's --size=-1: the first page's tasks, the count of them all.
        let first_page_only = json!({"count": 1200, "total": 1200, "tasks": [task(1, "fail")]});
        let found = failed_in_documents(&first_page_only.to_string()).unwrap();
        assert_eq!((found.listed, found.claimed), (1, 1200));

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
