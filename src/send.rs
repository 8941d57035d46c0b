//! Sending the batches: `--jobs` workers sharing the run's one client (one keep-alive
//! connection each), outcomes handed back in input order, and the run stopped early by an error
//! every batch would meet, a signal, or a report that can no longer be written.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use crate::batch::Batch;
use crate::client::Client;
use crate::diag::{self, Diag};
use crate::http::failure::FailureKind;
use crate::interrupt::Interrupt;
use crate::names::Shipper;
use crate::outcome::{Outcome, Status};
use crate::policy;
use crate::report::plural;

/// What a run sends to and how.
pub struct Sender<'a> {
    pub client: &'a Client,
    pub jobs: usize,
    /// The batches are of many shippers: an error of one shipper's own (it is gone, or not
    /// ours to retry) stops only that shipper's batches.
    pub sweep: bool,
    pub keep_going: bool,
    pub interrupt: &'a Interrupt,
    pub diag: Diag,
}

/// Why the run sent no more batches.
struct Stop {
    reason: String,
    /// Said on stderr at the end, with the count of batches left.
    notice: Option<Notice>,
}

/// What stopped the run, for the error line that ends it.
enum Notice {
    /// An error every batch would meet: the batch, the error code, and the hint.
    EveryBatch(usize, String, &'static str),
    /// No credentials that still work (they expired and could not be refreshed): why.
    NoCredentials(String),
}

impl Stop {
    /// The report can no longer be written: its reader went away, or stdout failed.
    fn closed() -> Stop {
        Stop {
            reason: "stdout was closed".into(),
            notice: None,
        }
    }
}

/// What the workers share: the next batch to take, and whether (and why) to take no more.
#[derive(Default)]
struct Pool {
    next: AtomicUsize,
    stopped: AtomicBool,
    stop: Mutex<Option<Stop>>,
    /// In a sweep, the shippers whose batches are no longer sent, and why.
    given_up: Mutex<HashMap<Arc<Shipper>, String>>,
}

impl Pool {
    /// Take no more batches; the first reason given is the one reported.
    fn stop(&self, why: impl FnOnce() -> Stop) {
        let mut stop = self.stop.lock().unwrap_or_else(|p| p.into_inner());
        if stop.is_none() {
            *stop = Some(why());
        }
        self.stopped.store(true, Ordering::SeqCst);
    }

    fn take_stop(&self) -> Option<Stop> {
        self.stop.lock().unwrap_or_else(|p| p.into_inner()).take()
    }

    /// Why `shipper`'s batches are no longer sent, if they are not.
    fn given_up(&self, shipper: &Shipper) -> Option<String> {
        let given_up = self.given_up.lock().unwrap_or_else(|p| p.into_inner());
        given_up.get(shipper).cloned()
    }

    /// Send no more of `shipper`'s batches; the first reason given is the one reported.
    fn give_up(&self, shipper: &Arc<Shipper>, why: String) {
        let mut given_up = self.given_up.lock().unwrap_or_else(|p| p.into_inner());
        given_up.entry(Arc::clone(shipper)).or_insert(why);
    }
}

/// A batch's outcome on its way to the report, with the way to say it was taken in.
type Done = (usize, Outcome, mpsc::SyncSender<()>);

impl Sender<'_> {
    /// Send every batch; `emit` gets each outcome in input order (batches never sent included,
    /// as `not_sent`) and returns false once its reader is gone, which stops the run.
    pub fn send_all<'b>(
        &self,
        batches: &'b [Batch],
        mut emit: impl FnMut(&'b Batch, &Outcome) -> bool,
    ) {
        let pool = Pool::default();
        let workers = self.jobs.clamp(1, batches.len().max(1));
        if workers == 1 {
            // One worker: this thread sends and reports in turn, with no hand-off between threads.
            let mut sent = 0;
            for batch in batches {
                if self.stopping(&pool) {
                    break;
                }
                let outcome = self.send_one(batch, &pool);
                sent += 1;
                if !emit(batch, &outcome) {
                    pool.stop(Stop::closed);
                }
            }
            return self.not_sent(&batches[sent..], pool.take_stop(), &mut emit);
        }
        // Each outcome travels with a way to say "handled": a worker takes its next batch only
        // once the report has taken in its last outcome, so a report that stopped (a closed or
        // full stdout) stops the sending at once, however busy the machine, and without a slow
        // batch holding the other workers back.
        let (done, results) = mpsc::channel::<Done>();
        std::thread::scope(|scope| {
            for _ in 0..workers {
                let (done, pool) = (done.clone(), &pool);
                scope.spawn(move || self.work(batches, pool, &done));
            }
            drop(done);
            let emitted = in_order(batches, results, &pool, &mut emit);
            // Every worker has finished: what was never taken was not sent.
            self.not_sent(&batches[emitted..], pool.take_stop(), &mut emit);
        });
    }

    /// One worker: take the next batch, send it, hand its outcome over, until none is left or
    /// the run stops.
    fn work(&self, batches: &[Batch], pool: &Pool, done: &mpsc::Sender<Done>) {
        let (handled, taken_in) = mpsc::sync_channel::<()>(1);
        while !self.stopping(pool) {
            let i = pool.next.fetch_add(1, Ordering::SeqCst);
            let Some(batch) = batches.get(i) else { return };
            let outcome = self.send_one(batch, pool);
            if done.send((i, outcome, handled.clone())).is_err() || taken_in.recv().is_err() {
                return;
            }
        }
    }

    /// Take no new batch: the run was stopped, or a signal came.
    fn stopping(&self, pool: &Pool) -> bool {
        pool.stopped.load(Ordering::SeqCst) || self.interrupt.signal().is_some()
    }

    /// Send one batch; an error every batch would meet stops the run (unless `--keep-going`); in
    /// a sweep, an error of the shipper's own stops only its batches.
    fn send_one(&self, batch: &Batch, pool: &Pool) -> Outcome {
        let shipper = &batch.shipper;
        if let Some(why) = pool.given_up(shipper) {
            return Outcome::not_sent(&why);
        }
        let outcome = (self.client).retry_tasks(shipper, &batch.ids, &self.diag);
        // Not sent by the client though no signal came: there are no credentials to sign with,
        // and no later batch would have any either.
        if outcome.status == Status::NotSent && self.interrupt.signal().is_none() {
            let why = outcome.error_message.clone().unwrap_or_default();
            pool.stop(|| Stop {
                reason: format!("stopped in batch {}: no credentials", batch.number),
                notice: Some(Notice::NoCredentials(why)),
            });
        } else if !self.keep_going
            && let Some(hint) = policy::stops_the_run(&outcome)
        {
            let code = (outcome.error_code.as_deref())
                .or(outcome.transport.map(FailureKind::name))
                .unwrap_or("an HTTP error");
            let number = batch.number;
            if self.sweep && policy::is_the_shippers_own(&outcome) {
                pool.give_up(shipper, format!("stopped after {code} in batch {number}"));
                self.diag.warn(&format!(
                    "batch {number} of {shipper} failed with {code}: {hint}; the rest of its \
                     batches are not sent, the sweep goes on"
                ));
            } else {
                pool.stop(|| Stop {
                    reason: format!("stopped after {code} in batch {number}"),
                    notice: Some(Notice::EveryBatch(number, code.to_string(), hint)),
                });
            }
        }
        outcome
    }

    /// The batches never sent, reported as such, and why the run stopped when an error every
    /// batch would meet stopped it.
    fn not_sent<'b>(
        &self,
        left: &'b [Batch],
        stop: Option<Stop>,
        emit: &mut impl FnMut(&'b Batch, &Outcome) -> bool,
    ) {
        let reason = match (&stop, self.interrupt.signal()) {
            (Some(stop), _) => stop.reason.clone(),
            (None, Some(_)) => "interrupted before it was sent".to_string(),
            (None, None) => "not sent".to_string(),
        };
        for batch in left {
            emit(batch, &Outcome::not_sent(&reason));
        }
        let left_over = plural(left.len(), "batch was", "batches were");
        match stop.and_then(|stop| stop.notice) {
            Some(Notice::EveryBatch(number, code, hint)) if !left.is_empty() => {
                diag::error(&format!(
                    "batch {number} failed with {code}, which every batch would meet: {hint}; \
                     the remaining {left_over} not sent (--keep-going sends them anyway)"
                ))
            }
            Some(Notice::NoCredentials(why)) => diag::error(&format!(
                "{why}; this batch and the remaining {left_over} not sent"
            )),
            _ => {}
        }
    }
}

/// Hand the outcomes on in input order as they complete; how many were handed on.
fn in_order<'b>(
    batches: &'b [Batch],
    results: mpsc::Receiver<Done>,
    pool: &Pool,
    emit: &mut impl FnMut(&'b Batch, &Outcome) -> bool,
) -> usize {
    let mut pending = BTreeMap::new();
    let mut emitted = 0;
    for (i, outcome, handled) in results.iter() {
        pending.insert(i, outcome);
        while let Some(outcome) = pending.remove(&emitted) {
            if !emit(&batches[emitted], &outcome) {
                pool.stop(Stop::closed);
            }
            emitted += 1;
        }
        let _ = handled.send(());
    }
    emitted
}
