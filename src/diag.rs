//! Everything on stderr: diagnostics, all prefixed `sls-retry:`, and the progress bar of long
//! interactive runs. stdout is for the report only.

use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Prints warnings always and extra detail at `-v` / `-vv`.
#[derive(Debug, Clone, Copy)]
pub struct Diag {
    verbose: u8,
}

impl Diag {
    pub fn new(verbose: u8) -> Diag {
        Diag { verbose }
    }

    pub fn warn(&self, message: &str) {
        say(&format!("sls-retry: warning: {message}"));
    }

    /// `-v`: endpoint, sources, one line per request. The closure keeps formatting off the hot
    /// path when not verbose.
    pub fn info(&self, message: impl FnOnce() -> String) {
        if self.verbose >= 1 {
            say(&format!("sls-retry: {}", message()));
        }
    }

    /// Is `-v` on: for a line said once per run rather than each time its moment comes.
    pub fn is_verbose(&self) -> bool {
        self.verbose >= 1
    }

    /// `-vv`: the requests themselves, redacted.
    pub fn debug(&self, message: impl FnOnce() -> String) {
        if self.verbose >= 2 {
            say(&format!("sls-retry: {}", message()));
        }
    }
}

/// Print a fatal error.
pub fn error(message: &str) {
    say(&format!("sls-retry: error: {message}"));
}

/// The run's progress line while one is shown: the batches being sent, then the wait.
static PROGRESS: Mutex<Option<ProgressBar>> = Mutex::new(None);

fn progress() -> std::sync::MutexGuard<'static, Option<ProgressBar>> {
    PROGRESS.lock().unwrap_or_else(|e| e.into_inner())
}

/// Show a progress bar of `batches` on stderr. The caller decides when it is wanted (a terminal,
/// many batches, a human report); it is drawn at most 10 times a second.
pub fn start_progress(batches: usize) {
    let bar = ProgressBar::with_draw_target(Some(batches as u64), ProgressDrawTarget::stderr())
        .with_style(
            ProgressStyle::with_template("{bar:30} {pos}/{len} batches  {msg}  {elapsed}")
                .expect("a valid template"),
        );
    *progress() = Some(bar);
}

/// One batch more is done; `summary` is e.g. "12 ok, 1 failed".
pub fn advance_progress(summary: String) {
    if let Some(bar) = &*progress() {
        bar.set_message(summary);
        bar.inc(1);
    }
}

/// Show a line of what the wait for the retried tasks has seen so far, its time ticking.
pub fn start_wait_progress() {
    let line = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()).with_style(
        ProgressStyle::with_template("waiting {elapsed}: {msg}").expect("a valid template"),
    );
    line.enable_steady_tick(std::time::Duration::from_secs(1));
    *progress() = Some(line);
}

/// What the wait has seen: e.g. "3 shipped, 0 failed again, 7 running".
pub fn wait_progress(counts: String) {
    if let Some(line) = &*progress() {
        line.set_message(counts);
    }
}

pub fn finish_progress() {
    if let Some(bar) = progress().take() {
        bar.finish_and_clear();
    }
}

/// Run `write` (a line to stdout or stderr) with the progress bar out of the way, so that the
/// two never share a terminal line.
pub fn suspended<T>(write: impl FnOnce() -> T) -> T {
    let bar = progress().clone();
    match bar {
        Some(bar) if !bar.is_finished() => bar.suspend(write),
        _ => write(),
    }
}

fn say(line: &str) {
    suspended(|| eprintln!("{line}"));
}
