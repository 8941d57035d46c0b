//! The task lifecycle after RetryShipperTask (`Builder::lifecycle`): which tasks of a shipper's history were retried and when, and how each is listed at a given server time (running, then its end state).
// SLS documents none of this; it is what its console shows: a retried task keeps its ID, goes back
// to `running`, and ends `success` or `fail` with a new `taskFinishTime`. States are computed when
// asked for, from the time of the latest retry, so nothing runs in the background. Without
// `Builder::lifecycle` a retry changes no task: the service that never updates, which a waiting
// client must survive without a false verdict.

use std::borrow::Cow;
use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use super::catalog::History;
use super::listing::{Task, unix_secs};

/// How long before the retry a task the stand-in did not hold was created, when a retry adds it.
const ADDED_TASK_AGE_SECS: i64 = 3600;

/// How a retried task ends.
#[derive(Clone, Debug)]
pub(super) enum End {
    Fail(String),
    Never,
}

/// What `Builder::lifecycle`, `Builder::fails_again` and `Builder::stays_running` set up.
#[derive(Default)]
pub(super) struct Lifecycle {
    /// How long a retried task runs; `None` when retries change nothing.
    pub after: Option<Duration>,
    /// The IDs that do not end `success`, under whichever shipper they are retried.
    pub ends: HashMap<String, End>,
}

impl Lifecycle {
    /// Records a batch accepted at `now` into the shipper's history: each ID's latest retry, and
    /// a task for an ID it does not hold yet. Nothing without a lifecycle.
    pub fn retried(&self, history: &mut History, ids: &[String], now: SystemTime) {
        if self.after.is_none() {
            return;
        }
        let created = unix_secs(now) - ADDED_TASK_AGE_SECS;
        for id in ids {
            if !history.tasks.iter().any(|task| &task.id == id) {
                history.tasks.push(Task::new(id, "fail", created));
            }
            history.retries.insert(id.clone(), now);
        }
    }

    /// Every task of the history, as listed at `now`.
    pub fn listed<'h>(&self, history: &'h History, now: SystemTime) -> Vec<Cow<'h, Task>> {
        let tasks = history.tasks.iter();
        tasks.map(|task| self.state(task, history, now)).collect()
    }

    /// `task` as listed at `now`: as held unless retried under a lifecycle.
    fn state<'t>(&self, task: &'t Task, history: &History, now: SystemTime) -> Cow<'t, Task> {
        let (Some(after), Some(&retried)) = (self.after, history.retries.get(&task.id)) else {
            return Cow::Borrowed(task);
        };
        // A clock that stepped back since the retry counts as no time passed.
        let elapsed = now.duration_since(retried).unwrap_or_default();
        let end = self.ends.get(&task.id);
        let (status, message, finish_time) = match end {
            Some(End::Never) => ("running", "", 0),
            _ if elapsed < after => ("running", "", 0),
            None => ("success", "", unix_secs(retried + after)),
            Some(End::Fail(message)) => ("fail", message.as_str(), unix_secs(retried + after)),
        };
        Cow::Owned(Task {
            status: status.into(),
            message: message.into(),
            finish_time,
            ..task.clone()
        })
    }
}
