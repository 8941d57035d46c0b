//! The task IDs and task histories the tests feed the binary and the stand-in.

use std::time::{SystemTime, UNIX_EPOCH};

use standin::Task;

/// `n` task IDs, `task-001`, `task-002`, ...: zero-padded to three digits or more, so that sorted
/// they are still in input order.
pub fn ids(n: usize) -> Vec<String> {
    let width = n.to_string().len().max(3);
    (1..=n).map(|i| format!("task-{i:0width$}")).collect()
}

/// The time now in unix seconds, as task histories and windows are written.
pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// `count` failed tasks `f-0001`... created in the last hour, a second apart.
pub fn recent_failures(count: usize) -> Vec<Task> {
    let t = now();
    (1..=count)
        .map(|i| Task::new(&format!("f-{i:04}"), "fail", t - 60 - i as i64))
        .collect()
}
