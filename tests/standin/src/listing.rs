//! GetShipperStatus as the stand-in answers it: a shipper's tasks, deterministic generated sets, the query's checks, and pages (their `offset` and `size` shared with the name listings).
// Where SLS documents nothing the choices are ours: newest first (then by id), pages never longer than
// `max_page`, an empty parameter counts as absent, and `from` is refused when it is even one second
// older than 48 hours before the server clock, so a client must keep its window inside.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use super::http::Request;
use super::sls::query_pairs;
use super::{Reply, Shared};

/// How far back `from` may reach: the service lists the last 48 hours.
pub(super) const WINDOW_SECS: i64 = 48 * 3600;
/// The largest `size` the service takes, and the default page limit.
pub(super) const MAX_SIZE: usize = 500;
const DEFAULT_SIZE: usize = 100;
/// Generated sets reach this far back, so some of their tasks are outside the window.
const GENERATED_SPAN_SECS: i64 = 50 * 3600;
const FAILURES: [&str; 3] = [
    "write oss failed: AccessDenied",
    "write oss failed: NoSuchBucket",
    "write oss failed: RequestTimeout",
];

/// One shipper task as GetShipperStatus lists it; times are unix seconds.
#[derive(Clone, Debug, PartialEq)]
pub struct Task {
    pub id: String,
    /// `fail`, `success` or `running`.
    pub status: String,
    pub message: String,
    pub create_time: i64,
    pub last_data_receive_time: i64,
    /// 0 while running.
    pub finish_time: i64,
}

impl Task {
    /// A task created at `create_time`: its last data a second before, finished a second after unless
    /// running, and when failed the message `write oss failed: AccessDenied`.
    pub fn new(id: &str, status: &str, create_time: i64) -> Task {
        let running = status == "running";
        let failed = status == "fail";
        Task {
            id: id.into(),
            status: status.into(),
            message: if failed {
                FAILURES[0].into()
            } else {
                String::new()
            },
            create_time,
            last_data_receive_time: create_time - 1,
            finish_time: if running { 0 } else { create_time + 1 },
        }
    }

    /// The document entry; `taskCode` is a failure's error class (its message after the last `": "`).
    fn to_json(&self) -> Value {
        let code = match self.status.as_str() {
            "fail" => self.message.rsplit(": ").next().unwrap_or(""),
            _ => "",
        };
        // Made up but stable: only succeeded tasks report lines written.
        let lines = match self.status.as_str() {
            "success" => 1000 + self.create_time.rem_euclid(9000),
            _ => 0,
        };
        json!({
            "id": self.id,
            "taskStatus": self.status,
            "taskMessage": self.message,
            "taskCreateTime": self.create_time,
            "taskLastDataReceiveTime": self.last_data_receive_time,
            "taskFinishTime": self.finish_time,
            "taskCode": code,
            "taskDataLines": lines,
        })
    }
}

/// `count` tasks from `seed`: ids of 32 lower-hex digits, one created in each equal slice of the 50 hours
/// before `now` (at a seeded point within it), about 20% failed and 10% running.
pub(super) fn generate(count: usize, seed: u64, now: i64) -> Vec<Task> {
    let slice =
        |i: usize| now - GENERATED_SPAN_SECS + i as i64 * GENERATED_SPAN_SECS / count as i64;
    (0..count)
        .map(|i| {
            let draw = |k: u64| mix(mix(seed) ^ mix(i as u64 * 8 + k));
            let (start, end) = (slice(i), slice(i + 1));
            let create_time = start + (draw(2) % (end - start).max(1) as u64) as i64;
            let status = match draw(3) % 10 {
                0 | 1 => "fail",
                2 => "running",
                _ => "success",
            };
            let id = format!("{:016x}{:016x}", draw(0), draw(1));
            let mut task = Task::new(&id, status, create_time);
            if status == "fail" {
                task.message = FAILURES[(draw(4) % FAILURES.len() as u64) as usize].into();
            }
            if status != "running" {
                task.finish_time = (create_time + 1 + (draw(5) % 120) as i64).min(now);
            }
            task
        })
        .collect()
}

/// Tasks that appear while a listing is under way: alternately failed and succeeded, created a second ago.
fn late_tasks(n: usize, now: i64) -> Vec<Task> {
    (0..n)
        .map(|i| {
            let draw = |k: u64| mix(mix(u64::MAX) ^ mix(now as u64 ^ (i as u64 * 8 + k)));
            let id = format!("{:016x}{:016x}", draw(0), draw(1));
            let status = if i % 2 == 0 { "fail" } else { "success" };
            Task::new(&id, status, now - 1)
        })
        .collect()
}

/// SplitMix64's finaliser: a well-spread, reproducible u64 from any u64.
pub(super) fn mix(z: u64) -> u64 {
    let z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    let z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

pub(super) fn unix_secs(time: SystemTime) -> i64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// What the query asks for, checked.
struct Query {
    from: i64,
    to: i64,
    /// `None` lists every status.
    status: Option<String>,
    offset: usize,
    size: usize,
}

/// GetShipperStatus's answer from the history `history`, once the logstore and shipper are known
/// to exist. The first page served (a 200) lets the world's late tasks appear in the history it
/// listed.
pub(super) fn answer(shared: &Shared, request: &Request, now: SystemTime, history: usize) -> Reply {
    let query = match parse_query(&request.query, unix_secs(now)) {
        Ok(query) => query,
        Err(reply) => return reply,
    };
    let page_limit = query.size.min(shared.world.max_page.unwrap_or(MAX_SIZE));
    let mut log = shared.log();
    let body = {
        let listed = shared.world.lifecycle.listed(&log.histories[history], now);
        let window: Vec<&Task> = (listed.iter())
            .map(|task| task.as_ref())
            .filter(|task| (query.from..query.to).contains(&task.create_time))
            .collect();
        let tally = |status: &str| window.iter().filter(|t| t.status == status).count();
        let statistics = json!({
            "running": tally("running"),
            "success": tally("success"),
            "fail": tally("fail"),
        });
        let wanted = |task: &&Task| query.status.as_ref().is_none_or(|s| &task.status == s);
        let mut matching: Vec<&Task> = window.iter().copied().filter(wanted).collect();
        matching.sort_by(|a, b| (b.create_time.cmp(&a.create_time)).then_with(|| a.id.cmp(&b.id)));
        let offset = if shared.world.repeat_first_page {
            0
        } else {
            query.offset
        };
        let page: Vec<Value> = (matching.iter().skip(offset))
            .take(page_limit)
            .map(|task| task.to_json())
            .collect();
        json!({
            "count": page.len(),
            "total": shared.world.claimed_total.unwrap_or(matching.len()),
            "statistics": statistics,
            "tasks": page,
        })
    };
    let late = std::mem::take(&mut log.late_tasks);
    log.histories[history]
        .tasks
        .extend(late_tasks(late, unix_secs(now)));
    Reply::json(200, &body)
}

fn parse_query(query: &str, now: i64) -> Result<Query, Reply> {
    let pairs = query_pairs(query);
    let time = |key: &str| match param(&pairs, key) {
        None => invalid(format!("Parameter {key} is required: unix seconds.")),
        Some(v) => v
            .parse::<i64>()
            .or_else(|_| invalid(format!("Parameter {key} {v:?} is not unix seconds."))),
    };
    let (from, to) = (time("from")?, time("to")?);
    if from >= to {
        return invalid(format!("Parameter from {from} must be less than to {to}."));
    }
    if from < now - WINDOW_SECS {
        return invalid(format!(
            "Parameter from {from} is more than 48 hours before server time {now}: \
             only the last 48 hours can be queried."
        ));
    }
    let status = match param(&pairs, "status") {
        None => None,
        Some(s @ ("running" | "success" | "fail")) => Some(s.to_string()),
        Some(s) => {
            let message = format!("Parameter status {s:?} is not running, success or fail.");
            return invalid(message);
        }
    };
    let (offset, size) = page_params(&pairs)?;
    Ok(Query {
        from,
        to,
        status,
        offset,
        size,
    })
}

/// `offset` (default 0) and `size` (default 100, from 1 to 500) of a paged listing: GetShipperStatus,
/// ListLogStores, ListShipper.
pub(super) fn page_params(pairs: &[(String, String)]) -> Result<(usize, usize), Reply> {
    let offset = match param(pairs, "offset").map(str::parse::<usize>) {
        None => 0,
        Some(Ok(offset)) => offset,
        Some(Err(_)) => return invalid("Parameter offset is not a non-negative integer."),
    };
    let size = match param(pairs, "size").map(str::parse::<usize>) {
        None => DEFAULT_SIZE,
        Some(Ok(size)) if (1..=MAX_SIZE).contains(&size) => size,
        Some(_) => return invalid("Parameter size must be an integer from 1 to 500."),
    };
    Ok((offset, size))
}

/// The first value of `key`; an empty one counts as absent.
fn param<'p>(pairs: &'p [(String, String)], key: &str) -> Option<&'p str> {
    let value = pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str());
    value.filter(|v| !v.is_empty())
}

fn invalid<T>(message: impl AsRef<str>) -> Result<T, Reply> {
    Err(Reply::error(400, "ParameterInvalid", message.as_ref()))
}
