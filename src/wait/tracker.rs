//! What is known of each followed task, listing after listing, and the verdict it earns. The rule
//! is conservative: a task is `shipped` when it shows `success`; `failed again` only with
//! evidence that the failure came after the retry (it was seen `running` since, or its
//! `taskFinishTime` is not earlier than the server time that accepted its batch); otherwise it is
//! `pending`. A service that never updates a task leaves it pending, never wrongly judged. Pure:
//! the time is passed in.

use std::collections::HashMap;

use serde_json::Value;

use crate::ids::TaskId;
use crate::listing::{Listing, Task, TaskStatus};
use crate::window::{MAX_AGE, Window};

/// How a followed task ended, as far as the wait could tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Shipped,
    FailedAgain,
    Pending,
}

impl Verdict {
    /// As `--json` names it.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Shipped => "shipped",
            Verdict::FailedAgain => "failed",
            Verdict::Pending => "pending",
        }
    }
}

/// One task accepted for a retry, as the wait follows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Followed {
    pub id: TaskId,
    /// The server's time (unix seconds) when its batch was accepted: the response's `Date`.
    pub accepted_at: Option<u64>,
    /// Its `taskCreateTime`, when a listing found it before the retry.
    pub created: Option<u64>,
    pub seen_running: bool,
    pub verdict: Verdict,
    /// What the last listing that held it said.
    pub task_status: Option<String>,
    pub task_message: Option<String>,
    pub finished_at: Option<u64>,
    /// It was not in the last listing because it is older than the 48 hours the service keeps.
    pub out_of_window: bool,
}

impl Followed {
    pub fn new(id: TaskId, accepted_at: Option<u64>, created: Option<u64>) -> Followed {
        Followed {
            id,
            accepted_at,
            created,
            seen_running: false,
            verdict: Verdict::Pending,
            task_status: None,
            task_message: None,
            finished_at: None,
            out_of_window: false,
        }
    }

    /// Take what a listing says of this task into account.
    fn observe(&mut self, task: &Task) {
        let number = |name: &str| task.fields.get(name).and_then(Value::as_u64);
        let text = |name: &str| task.fields.get(name).and_then(Value::as_str);
        self.task_status = text("taskStatus").map(str::to_string);
        self.task_message = text("taskMessage").map(str::to_string);
        self.finished_at = number("taskFinishTime").filter(|t| *t > 0);
        self.created = self.created.or(number("taskCreateTime"));
        self.out_of_window = false;
        self.verdict = match task.status {
            Some(TaskStatus::Success) => Verdict::Shipped,
            Some(TaskStatus::Running) => {
                self.seen_running = true;
                Verdict::Pending
            }
            Some(TaskStatus::Fail) if self.failed_since_the_retry() => Verdict::FailedAgain,
            Some(TaskStatus::Fail) | None => Verdict::Pending,
        };
    }

    /// Evidence that a `fail` is a new one: the task ran since the retry, or finished no earlier
    /// than the server accepted the retry.
    fn failed_since_the_retry(&self) -> bool {
        let finished_after = match (self.finished_at, self.accepted_at) {
            (Some(finished), Some(accepted)) => finished >= accepted,
            _ => false,
        };
        self.seen_running || finished_after
    }
}

/// The followed tasks.
#[derive(Debug, Default)]
pub struct Tracker {
    tasks: Vec<Followed>,
    /// Index by ID.
    index: HashMap<TaskId, usize>,
}

/// How many tasks have each verdict.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub shipped: usize,
    pub failed: usize,
    pub pending: usize,
}

impl Tracker {
    pub fn new(tasks: Vec<Followed>) -> Tracker {
        let index = (tasks.iter().enumerate())
            .map(|(i, t)| (t.id.clone(), i))
            .collect();
        Tracker { tasks, index }
    }

    /// Take a listing into account: undecided tasks it holds are judged again; those it does not
    /// hold stay pending, marked when they are older than the service keeps.
    pub fn observe(&mut self, listing: &Listing, now: u64) {
        let oldest = now.saturating_sub(MAX_AGE.as_secs());
        let mut held = vec![false; self.tasks.len()];
        for task in &listing.tasks {
            let Some(&i) = self.index.get(&task.id) else {
                continue;
            };
            held[i] = true;
            if self.tasks[i].verdict == Verdict::Pending {
                self.tasks[i].observe(task);
            }
        }
        for (task, held) in self.tasks.iter_mut().zip(held) {
            if !held && task.verdict == Verdict::Pending {
                task.out_of_window = task.created.is_some_and(|c| c < oldest);
            }
        }
    }

    /// The narrowest window that holds every undecided task: from the oldest `taskCreateTime`
    /// when all are known, else as far back as the service keeps, never further; to `now`.
    /// `margin` keeps the start inside the service's limit when the request arrives a moment
    /// later.
    pub fn window(&self, now: u64, margin: u64) -> Window {
        let oldest = now.saturating_sub(MAX_AGE.as_secs()) + margin;
        let pending = self.tasks.iter().filter(|t| t.verdict == Verdict::Pending);
        let from = pending
            .map(|t| t.created)
            .try_fold(u64::MAX, |from, created| Some(from.min(created?)))
            .filter(|from| *from != u64::MAX)
            .map_or(oldest, |from| from.max(oldest));
        Window {
            from: from.min(now.saturating_sub(1)),
            to: now,
        }
    }

    pub fn counts(&self) -> Counts {
        let mut counts = Counts::default();
        for task in &self.tasks {
            match task.verdict {
                Verdict::Shipped => counts.shipped += 1,
                Verdict::FailedAgain => counts.failed += 1,
                Verdict::Pending => counts.pending += 1,
            }
        }
        counts
    }

    pub fn tasks(&self) -> &[Followed] {
        &self.tasks
    }

    pub fn into_tasks(self) -> Vec<Followed> {
        self.tasks
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: u64 = 1_800_000_000;
    const ACCEPTED: u64 = NOW - 10;

    fn id(s: &str) -> TaskId {
        TaskId::parse(s).unwrap()
    }

    fn listing(tasks: &[Value]) -> Listing {
        let tasks = tasks.iter().map(|t| {
            let fields = t.as_object().unwrap().clone();
            Task {
                id: id(fields["id"].as_str().unwrap()),
                status: TaskStatus::parse(fields["taskStatus"].as_str().unwrap()),
                fields,
            }
        });
        Listing {
            tasks: tasks.collect(),
            ..Listing::default()
        }
    }

    fn task(id: &str, status: &str, finish: u64) -> Value {
        json!({"id": id, "taskStatus": status, "taskMessage": format!("{status} message"),
               "taskCreateTime": NOW - 7200, "taskFinishTime": finish})
    }

    fn tracker(ids: &[&str]) -> Tracker {
        Tracker::new(
            (ids.iter())
                .map(|s| Followed::new(id(s), Some(ACCEPTED), None))
                .collect(),
        )
    }

    fn verdicts(t: &Tracker) -> Vec<Verdict> {
        t.tasks().iter().map(|f| f.verdict).collect()
    }

    #[test]
    fn a_fail_counts_only_with_evidence_that_it_came_after_the_retry() {
        use Verdict::*;
        let mut t = tracker(&["old", "new", "ran", "ok", "gone"]);
        // Right after the retry the service may still show the old failure.
        t.observe(
            &listing(&[
                task("old", "fail", ACCEPTED - 3600),
                task("new", "fail", ACCEPTED),
                task("ran", "running", 0),
                task("ok", "success", ACCEPTED + 5),
            ]),
            NOW,
        );
        assert_eq!(
            verdicts(&t),
            [Pending, FailedAgain, Pending, Shipped, Pending]
        );
        // Seen running since: a fail is new even with an old finish time.
        t.observe(
            &listing(&[
                task("old", "fail", ACCEPTED - 3600),
                task("ran", "fail", ACCEPTED - 3600),
                task("ok", "fail", ACCEPTED + 50),
            ]),
            NOW + 30,
        );
        assert_eq!(
            verdicts(&t),
            [Pending, FailedAgain, FailedAgain, Shipped, Pending]
        );
        let ran = &t.tasks()[2];
        assert_eq!(ran.task_message.as_deref(), Some("fail message"));
        assert_eq!(ran.finished_at, Some(ACCEPTED - 3600));
        assert_eq!(
            t.counts(),
            Counts {
                shipped: 1,
                failed: 2,
                pending: 2
            }
        );
    }

    #[test]
    fn without_the_server_time_of_the_retry_only_running_is_evidence() {
        let mut t = Tracker::new(vec![Followed::new(id("a"), None, None)]);
        t.observe(&listing(&[task("a", "fail", NOW)]), NOW);
        assert_eq!(verdicts(&t), [Verdict::Pending]);
        t.observe(&listing(&[task("a", "running", 0)]), NOW);
        t.observe(&listing(&[task("a", "fail", NOW)]), NOW);
        assert_eq!(verdicts(&t), [Verdict::FailedAgain]);
    }

    #[test]
    fn the_window_is_the_narrowest_that_holds_the_undecided() {
        let oldest = NOW - MAX_AGE.as_secs() + 60;
        let known = |created| Followed::new(id("x"), None, Some(created));
        let mut a = known(NOW - 7200);
        a.id = id("a");
        let mut b = known(NOW - 3600);
        b.id = id("b");
        let t = Tracker::new(vec![a.clone(), b.clone()]);
        assert_eq!(
            t.window(NOW, 60),
            Window {
                from: NOW - 7200,
                to: NOW
            }
        );
        // One task whose creation is unknown: as far back as the service keeps.
        let t = Tracker::new(vec![a.clone(), Followed::new(id("c"), None, None)]);
        assert_eq!(
            t.window(NOW, 60),
            Window {
                from: oldest,
                to: NOW
            }
        );
        // Never further back than that.
        let t = Tracker::new(vec![known(NOW - 3 * 86_400)]);
        assert_eq!(t.window(NOW, 60).from, oldest);
        // Decided tasks no longer count.
        let mut t = Tracker::new(vec![a, b]);
        t.observe(&listing(&[task("a", "success", NOW)]), NOW);
        assert_eq!(t.window(NOW, 60).from, NOW - 3600);
    }

    #[test]
    fn a_task_the_listing_no_longer_holds_stays_pending_and_says_why_when_it_aged_out() {
        let old = Followed::new(id("old"), Some(ACCEPTED), Some(NOW - 49 * 3600));
        let young = Followed::new(id("young"), Some(ACCEPTED), Some(NOW - 3600));
        let mut t = Tracker::new(vec![old, young]);
        t.observe(&Listing::default(), NOW);
        let aged: Vec<bool> = t.tasks().iter().map(|f| f.out_of_window).collect();
        assert_eq!(aged, [true, false]);
        assert_eq!(verdicts(&t), [Verdict::Pending, Verdict::Pending]);
    }
}
