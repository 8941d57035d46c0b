//! Sending the batches: `--jobs` workers sharing the run's one client (one keep-alive
//! connection each), outcomes handed back in input order, and the run stopped early by an error
//! every batch would meet, a signal, or a report that can no longer be written.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;

use crate::batch::Batch;
use crate::client::Client;
use crate::diag::{self, Diag};
use crate::interrupt::Interrupt;
use crate::names::ResourceName;
use crate::outcome::Outcome;
use crate::policy;

/// What a run sends to and how.
pub struct Sender<'a> {
    pub client: &'a Client,
    pub logstore: &'a ResourceName,
    pub shipper: &'a ResourceName,
    pub jobs: usize,
    pub keep_going: bool,
    pub interrupt: &'a Interrupt,
    pub diag: Diag,
}

/// Why the run sent no more batches.
struct Stop {
    reason: String,
    /// Said on stderr at the end, with the count of batches left.
    notice: Option<(usize, String, &'static str)>,
}

impl Sender<'_> {
    /// Send every batch; `emit` gets each outcome in input order (batches never sent included,
    /// as `not_sent`) and returns false once its reader is gone, which stops the run.
    pub fn send_all<'b>(
        &self,
        batches: &'b [Batch],
        mut emit: impl FnMut(&'b Batch, &Outcome) -> bool,
    ) {
        let next = AtomicUsize::new(0);
        let stop: Mutex<Option<Stop>> = Mutex::new(None);
        let stopped = AtomicBool::new(false);
        // Each outcome travels with a way to say "handled": a worker takes its next batch only
        // once the report has taken in its last outcome, so a report that stopped (a closed or
        // full stdout) stops the sending at once, however busy the machine, and without a slow
        // batch holding the other workers back.
        let (done, results) = mpsc::channel::<(usize, Outcome, mpsc::SyncSender<()>)>();

        std::thread::scope(|scope| {
            for _ in 0..self.jobs.clamp(1, batches.len().max(1)) {
                let done = done.clone();
                let (next, stop, stopped) = (&next, &stop, &stopped);
                let (handled, taken_in) = mpsc::sync_channel::<()>(1);
                scope.spawn(move || {
                    loop {
                        if stopped.load(Ordering::SeqCst) || self.interrupt.signal().is_some() {
                            return;
                        }
                        let i = next.fetch_add(1, Ordering::SeqCst);
                        let Some(batch) = batches.get(i) else { return };
                        let outcome = self.client.retry_tasks(
                            self.logstore,
                            self.shipper,
                            &batch.ids,
                            &self.diag,
                        );
                        if !self.keep_going
                            && let Some(hint) = policy::stops_the_run(&outcome)
                        {
                            let code = outcome.error_code.as_deref().unwrap_or("an HTTP error");
                            let mut stop = stop.lock().unwrap_or_else(|p| p.into_inner());
                            if stop.is_none() {
                                *stop = Some(Stop {
                                    reason: format!(
                                        "stopped after {code} in batch {}",
                                        batch.number
                                    ),
                                    notice: Some((batch.number, code.to_string(), hint)),
                                });
                            }
                            stopped.store(true, Ordering::SeqCst);
                        }
                        if done.send((i, outcome, handled.clone())).is_err()
                            || taken_in.recv().is_err()
                        {
                            return;
                        }
                    }
                });
            }
            drop(done);

            // Hand outcomes on in input order as they complete.
            let mut pending = BTreeMap::new();
            let mut emitted = 0;
            for (i, outcome, handled) in results.iter() {
                pending.insert(i, outcome);
                while let Some(outcome) = pending.remove(&emitted) {
                    if !emit(&batches[emitted], &outcome) {
                        let mut stop = stop.lock().unwrap_or_else(|p| p.into_inner());
                        stop.get_or_insert(Stop {
                            reason: "stdout was closed".into(),
                            notice: None,
                        });
                        stopped.store(true, Ordering::SeqCst);
                    }
                    emitted += 1;
                }
                let _ = handled.send(());
            }
            // Every worker has finished: what was never taken was not sent.
            let stop = stop.lock().unwrap_or_else(|p| p.into_inner()).take();
            let reason = match (&stop, self.interrupt.signal()) {
                (Some(stop), _) => stop.reason.clone(),
                (None, Some(_)) => "interrupted before it was sent".to_string(),
                (None, None) => "not sent".to_string(),
            };
            let left = batches.len() - emitted;
            for batch in &batches[emitted..] {
                emit(batch, &Outcome::not_sent(&reason));
            }
            if let Some(Stop {
                notice: Some((number, code, hint)),
                ..
            }) = stop
                && left > 0
            {
                diag::error(&format!(
                    "batch {number} failed with {code}, which every batch would meet: {hint}; \
                     the remaining {left} {} not sent (--keep-going sends them anyway)",
                    if left == 1 {
                        "batch was"
                    } else {
                        "batches were"
                    }
                ));
            }
        });
    }
}
