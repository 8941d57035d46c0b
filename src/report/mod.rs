//! The report on stdout: one line per batch in input order and a summary, as text or JSON Lines,
//! and the exit status that follows from it (a report that could not be written fails the run).

use std::io::{self, Write};
use std::time::Duration;

use serde::Serialize;

mod dry_run;

use crate::batch::Batch;
use crate::config::Output;
use crate::exit::Exit;
use crate::ids::TaskId;
use std::sync::Arc;

use crate::listing::Task;
use crate::names::Shipper;
use crate::outcome::{Outcome, Status};
use crate::window::Window;

#[derive(Serialize)]
struct BatchRecord<'a> {
    r#type: &'static str,
    logstore: &'a str,
    shipper: &'a str,
    batch: usize,
    batches: usize,
    ids: &'a [TaskId],
    status: Status,
    http_status: Option<u16>,
    error_code: Option<&'a str>,
    error_message: Option<&'a str>,
    request_id: Option<&'a str>,
    attempts: u32,
    elapsed_ms: u128,
}

/// The run's counts so far; the summary line is this, and the time taken.
#[derive(Serialize, Default)]
struct Tally {
    ids: usize,
    batches: usize,
    ok: usize,
    failed: usize,
    not_sent: usize,
    accepted_ids: usize,
    /// Only when some were: task IDs from the service that could not be sent back.
    #[serde(skip_serializing_if = "is_zero")]
    skipped: usize,
}

#[derive(Serialize)]
struct SummaryRecord<'a> {
    r#type: &'static str,
    #[serde(flatten)]
    tally: &'a Tally,
    elapsed_ms: u128,
}

impl Tally {
    /// Count `batch`, which ended as `outcome` says.
    fn count(&mut self, batch: &Batch, outcome: &Outcome) {
        match outcome.status {
            Status::Ok => {
                self.ok += 1;
                self.accepted_ids += batch.ids.len();
            }
            Status::Failed => self.failed += 1,
            Status::NotSent => self.not_sent += 1,
        }
    }
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// How many task IDs a run found before retrying them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    /// `requests`: the GetShipperStatus pages it took.
    Listing {
        failed: usize,
        window: Window,
        requests: usize,
        /// In a sweep: the shippers with failed tasks, of those swept.
        shippers: Option<(usize, usize)>,
    },
    Documents {
        failed: usize,
        listed: usize,
    },
}

/// Writes the report as batches finish and keeps the tally.
pub struct Reporter<W: Write> {
    out: W,
    output: Output,
    tally: Tally,
    /// The GetShipperStatus requests that found the IDs, when a listing did.
    listing_requests: Option<usize>,
    /// Stdout is gone: either the reader went away (e.g. `| head`), which is its choice, or
    /// a line could not be written (a full disk, an I/O error), which fails the run.
    closed: bool,
    write_failed: bool,
    /// In a sweep: each shipper's own counts, in the order of its first batch; batch lines name
    /// their shipper.
    per_shipper: Option<Vec<(Arc<Shipper>, Tally)>>,
}

impl<W: Write> Reporter<W> {
    pub fn new(out: W, output: Output, ids: usize, batches: usize) -> Self {
        Reporter {
            out,
            output,
            tally: Tally {
                ids,
                batches,
                ..Tally::default()
            },
            listing_requests: None,
            closed: false,
            write_failed: false,
            per_shipper: None,
        }
    }

    /// The run covers many shippers: batch lines name theirs, and the summary counts each.
    pub fn name_shippers(&mut self) {
        self.per_shipper = Some(Vec::new());
    }

    /// Task IDs from the service that were left out (each already warned about): counted in the
    /// summary, and they make the run a failure.
    pub fn skipped(&mut self, skipped: usize) {
        self.tally.skipped = skipped;
    }

    /// `12 ok, 1 failed`: the batches so far, for a progress line.
    pub fn tally(&self) -> String {
        format!("{} ok, {} failed", self.tally.ok, self.tally.failed)
    }

    /// True once stdout is gone; the caller stops sending, as a pipeline expects.
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// The exit status of a run that earned `earned`: a report that could not be written
    /// fails it, whatever was accepted, so a script never goes on with a truncated report; so
    /// do task IDs left out of it.
    fn exit(&self, earned: Exit) -> Exit {
        crate::exit::merge([
            earned,
            Exit::failure_if(self.write_failed || self.tally.skipped > 0),
        ])
    }

    pub fn batch(&mut self, batch: &Batch, outcome: &Outcome) {
        self.tally.count(batch, outcome);
        if let Some(per_shipper) = &mut self.per_shipper {
            let shipper = &batch.shipper;
            if per_shipper.last().is_none_or(|(last, _)| last != shipper) {
                per_shipper.push((Arc::clone(shipper), Tally::default()));
            }
            if let Some((_, tally)) = per_shipper.last_mut() {
                tally.count(batch, outcome);
                tally.ids += batch.ids.len();
                tally.batches += 1;
            }
        }
        let line = match self.output {
            Output::Quiet => return,
            Output::Json => json_line(&BatchRecord {
                r#type: "batch",
                logstore: batch.shipper.logstore.as_str(),
                shipper: batch.shipper.name.as_str(),
                batch: batch.number,
                batches: self.tally.batches,
                ids: &batch.ids,
                status: outcome.status,
                http_status: outcome.http_status,
                error_code: outcome.error_code.as_deref(),
                error_message: outcome.error_message.as_deref(),
                request_id: outcome.request_id.as_deref(),
                attempts: outcome.attempts,
                elapsed_ms: outcome.elapsed.as_millis(),
            }),
            Output::Human => self.human_line(batch, outcome),
        };
        self.write(&line);
    }

    fn human_line(&self, batch: &Batch, outcome: &Outcome) -> String {
        let width = self.tally.batches.to_string().len();
        let status = match outcome.status {
            Status::Ok => "ok",
            Status::Failed => "FAILED",
            Status::NotSent => "NOT SENT",
        };
        // In a sweep, the shipper the batch is of, escaped (its name came from the service).
        let of = match self.per_shipper {
            Some(_) => format!("  {}", crate::untrusted::escape(&batch.shipper.to_string())),
            None => String::new(),
        };
        let mut line = format!(
            "batch {:>width$}/{}{of}  {:>2} ids  {status:<6}  {}",
            batch.number,
            self.tally.batches,
            batch.ids.len(),
            outcome
                .http_status
                .map_or("-  ".to_string(), |s| s.to_string()),
        );
        match (&outcome.error_code, &outcome.error_message) {
            (Some(code), Some(message)) if !message.is_empty() => {
                line.push_str(&format!("  {code}: {message}"))
            }
            (Some(code), _) => line.push_str(&format!("  {code}")),
            (None, Some(message)) => line.push_str(&format!("  {message}")),
            (None, None) => {}
        }
        if let Some(id) = &outcome.request_id {
            line.push_str(&format!("  request {id}"));
        }
        if outcome.attempts > 1 {
            line.push_str(&format!("  ({} attempts)", outcome.attempts));
        }
        line
    }

    /// Where the IDs came from, before any batch: the failed tasks a listing found
    /// (`--failed`), or those taken from GetShipperStatus documents on stdin.
    pub fn found(&mut self, found: &Found) {
        if let Found::Listing { requests, .. } = found {
            self.listing_requests = Some(*requests);
        }
        let line = match self.output {
            Output::Quiet => return,
            Output::Human => match found {
                Found::Listing {
                    failed,
                    window,
                    shippers,
                    ..
                } => {
                    let failed = plural(*failed, "failed task", "failed tasks");
                    let of = match shippers {
                        Some((with, swept)) => {
                            let swept = plural(*swept, "shipper", "shippers");
                            format!(" ({with} of {swept} had some)")
                        }
                        None => String::new(),
                    };
                    format!("found {failed}{of} in {}", window.describe())
                }
                Found::Documents { failed, listed } => format!(
                    "took {failed} failed of {} from the GetShipperStatus documents on stdin",
                    plural(*listed, "task", "tasks")
                ),
            },
            Output::Json => json_line(&match found {
                Found::Listing {
                    failed,
                    window,
                    shippers,
                    ..
                } => {
                    let mut found = serde_json::json!({
                        "type": "found", "source": "GetShipperStatus", "failed": failed,
                        "from": window.from, "to": window.to,
                    });
                    if let Some((with, swept)) = shippers {
                        found["shippers"] = (*swept).into();
                        found["shippers_with_failed"] = (*with).into();
                    }
                    found
                }
                Found::Documents { failed, listed } => serde_json::json!({
                    "type": "found", "source": "stdin", "failed": failed, "listed": listed,
                }),
            }),
        };
        self.write(&line);
    }

    /// `--list`: the tasks of `shipper`, IDs one per line (`logstore<TAB>shipper<TAB>id` when
    /// `named`, in a sweep), or one `{"type":"task",...}` object per task carrying its logstore,
    /// its shipper and every GetShipperStatus field.
    pub fn tasks(&mut self, shipper: &Shipper, named: bool, tasks: &[Task]) {
        for task in tasks {
            let id = || crate::untrusted::escape(task.id.as_str()).into_owned();
            let line = match self.output {
                Output::Quiet => break,
                Output::Human if named => {
                    let name = |n: &str| crate::untrusted::escape(n).into_owned();
                    let (logstore, shipper) = (&shipper.logstore, &shipper.name);
                    format!(
                        "{}\t{}\t{}",
                        name(logstore.as_str()),
                        name(shipper.as_str()),
                        id()
                    )
                }
                Output::Human => id(),
                Output::Json => {
                    let mut object = serde_json::Map::with_capacity(task.fields.len() + 3);
                    object.insert("type".into(), "task".into());
                    object.insert("logstore".into(), shipper.logstore.as_str().into());
                    object.insert("shipper".into(), shipper.name.as_str().into());
                    object.extend(task.fields.clone());
                    json_line(&object)
                }
            };
            self.write(&line);
            if self.closed {
                break;
            }
        }
    }

    /// The end of a `--list`: its exit status (a report that could not be written fails it).
    pub fn listed(self) -> Exit {
        self.exit(Exit::Success)
    }

    /// Write the summary and return the exit status the run earned.
    pub fn finish(mut self, elapsed: Duration) -> Exit {
        let line = match self.output {
            Output::Quiet => None,
            Output::Json => Some(json_line(&SummaryRecord {
                r#type: "summary",
                tally: &self.tally,
                elapsed_ms: elapsed.as_millis(),
            })),
            Output::Human if self.tally.ids == 0 => {
                Some(format!("nothing to retry{}", self.skipped_note()))
            }
            Output::Human => {
                for line in self.shipper_lines() {
                    self.write(&line);
                }
                let mut line = format!(
                    "retried {} of {} task ids in {}: {} ok, {} failed",
                    self.tally.accepted_ids,
                    self.tally.ids,
                    plural(self.tally.batches, "batch", "batches"),
                    self.tally.ok,
                    self.tally.failed
                );
                if self.tally.not_sent > 0 {
                    line.push_str(&format!(", {} not sent", self.tally.not_sent));
                }
                line.push_str(&self.skipped_note());
                Some(line)
            }
        };
        if let Some(line) = line {
            self.write(&line);
        }
        self.exit(if self.tally.failed + self.tally.not_sent == 0 {
            Exit::Success
        } else {
            Exit::Failure
        })
    }

    /// In a sweep, a line for each shipper that had tasks to retry:
    /// `  app/oss-daily: 23 of 23 task ids in 3 batches, 3 ok, 0 failed`.
    fn shipper_lines(&self) -> Vec<String> {
        let per_shipper = self.per_shipper.iter().flatten();
        (per_shipper.map(|(shipper, t)| {
            let mut line = format!(
                "  {}: {} of {} task ids in {}, {} ok, {} failed",
                crate::untrusted::escape(&shipper.to_string()),
                t.accepted_ids,
                t.ids,
                plural(t.batches, "batch", "batches"),
                t.ok,
                t.failed
            );
            if t.not_sent > 0 {
                line.push_str(&format!(", {} not sent", t.not_sent));
            }
            line
        }))
        .collect()
    }

    /// `, 2 skipped` when task IDs were left out, for the last human line.
    fn skipped_note(&self) -> String {
        match self.tally.skipped {
            0 => String::new(),
            n => format!(", {n} skipped"),
        }
    }

    /// A line of a later phase (the wait): `human` for the human report (none: nothing there),
    /// `json` for JSON Lines.
    pub fn record(&mut self, human: Option<String>, json: &impl Serialize) {
        let line = match self.output {
            Output::Quiet => return,
            Output::Human => match human {
                Some(line) => line,
                None => return,
            },
            Output::Json => json_line(json),
        };
        self.write(&line);
    }

    fn write(&mut self, line: &str) {
        if self.closed {
            return;
        }
        let out = &mut self.out;
        let written = crate::diag::suspended(|| writeln!(out, "{line}").and_then(|()| out.flush()));
        if let Err(err) = written {
            if err.kind() != io::ErrorKind::BrokenPipe {
                crate::diag::error(&format!("cannot write the report to stdout: {err}"));
                self.write_failed = true;
            }
            self.closed = true;
        }
    }
}

/// `1 batch`, `3 batches`.
pub fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn json_line(value: &impl Serialize) -> String {
    serde_json::to_string(value).expect("report records serialize")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(number: usize, n: usize) -> Batch {
        let name = |what, n: &str| crate::names::ResourceName::parse(what, n).unwrap();
        Batch {
            number,
            shipper: Arc::new(Shipper {
                logstore: name("logstore", "l"),
                name: name("shipper", "s"),
            }),
            ids: (0..n)
                .map(|i| TaskId::parse(&format!("b{number}-{i}")).unwrap())
                .collect(),
        }
    }

    fn ok() -> Outcome {
        Outcome {
            status: Status::Ok,
            http_status: Some(200),
            error_code: None,
            error_message: None,
            request_id: Some("5642FC2399248C8F7B0145FD".into()),
            attempts: 1,
            elapsed: Duration::from_millis(12),
            transport: None,
            accepted_at: None,
        }
    }

    fn failed() -> Outcome {
        Outcome {
            status: Status::Failed,
            http_status: Some(404),
            error_code: Some("ProjectNotExist".into()),
            error_message: Some("Project p does not exist.".into()),
            request_id: Some("5642FC23".into()),
            attempts: 1,
            elapsed: Duration::from_millis(7),
            transport: None,
            accepted_at: None,
        }
    }

    fn run(output: Output) -> (String, Exit) {
        let mut out = Vec::new();
        let mut r = Reporter::new(&mut out, output, 25, 3);
        r.batch(&batch(1, 10), &ok());
        r.batch(&batch(2, 10), &failed());
        r.batch(&batch(3, 5), &ok());
        let exit = r.finish(Duration::from_millis(40));
        (String::from_utf8(out).unwrap(), exit)
    }

    #[test]
    fn human_report_matches_the_spec_layout() {
        let (text, exit) = run(Output::Human);
        assert_eq!(
            text,
            "batch 1/3  10 ids  ok      200  request 5642FC2399248C8F7B0145FD\n\
             batch 2/3  10 ids  FAILED  404  ProjectNotExist: Project p does not exist.  request 5642FC23\n\
             batch 3/3   5 ids  ok      200  request 5642FC2399248C8F7B0145FD\n\
             retried 15 of 25 task ids in 3 batches: 2 ok, 1 failed\n"
        );
        assert_eq!(exit, Exit::Failure);
    }

    #[test]
    fn json_lines_have_the_spec_fields() {
        let (text, _) = run(Output::Json);
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 4);
        assert_eq!(
            lines[1],
            serde_json::json!({"type":"batch","logstore":"l","shipper":"s","batch":2,"batches":3,
                "ids":(0..10).map(|i| format!("b2-{i}")).collect::<Vec<_>>(),
                "status":"failed","http_status":404,"error_code":"ProjectNotExist",
                "error_message":"Project p does not exist.","request_id":"5642FC23",
                "attempts":1,"elapsed_ms":7})
        );
        assert_eq!(
            lines[3],
            serde_json::json!({"type":"summary","ids":25,"batches":3,"ok":2,"failed":1,
                "not_sent":0,"accepted_ids":15,"elapsed_ms":40})
        );
    }

    #[test]
    fn quiet_prints_nothing_but_keeps_the_exit_status() {
        let (text, exit) = run(Output::Quiet);
        assert_eq!(text, "");
        assert_eq!(exit, Exit::Failure);
    }

    #[test]
    fn all_ok_or_nothing_is_success() {
        let mut out = Vec::new();
        let r = Reporter::new(&mut out, Output::Human, 0, 0);
        assert_eq!(r.finish(Duration::ZERO), Exit::Success);
        assert_eq!(String::from_utf8(out).unwrap(), "nothing to retry\n");
    }

    /// A stdout whose every write fails with `kind`.
    struct Failing(io::ErrorKind);
    impl Write for Failing {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(self.0.into())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn broken_pipe_closes_quietly() {
        let mut r = Reporter::new(Failing(io::ErrorKind::BrokenPipe), Output::Human, 10, 1);
        assert!(!r.is_closed());
        r.batch(&batch(1, 10), &ok());
        assert!(r.is_closed());
        assert_eq!(
            r.finish(Duration::ZERO),
            Exit::Success,
            "the reader's choice"
        );
    }

    #[test]
    fn a_report_that_cannot_be_written_fails_the_run() {
        let mut r = Reporter::new(Failing(io::ErrorKind::StorageFull), Output::Human, 10, 1);
        r.batch(&batch(1, 10), &ok());
        assert!(r.is_closed(), "sending stops");
        assert_eq!(r.finish(Duration::ZERO), Exit::Failure);
        let mut r = Reporter::new(Failing(io::ErrorKind::StorageFull), Output::Json, 0, 0);
        r.tasks(&batch(1, 0).shipper, false, &[]);
        assert_eq!(
            r.listed(),
            Exit::Success,
            "nothing to write, nothing failed"
        );
        let r = Reporter::new(Failing(io::ErrorKind::StorageFull), Output::Quiet, 0, 0);
        assert_eq!(r.finish(Duration::ZERO), Exit::Success, "-q writes nothing");
    }
}
