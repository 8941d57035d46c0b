//! Diagnostics on stderr, all prefixed `sls-retry:`. stdout is for the report only.

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
        eprintln!("sls-retry: warning: {message}");
    }

    /// `-v`: endpoint, sources, one line per request. The closure keeps formatting off the hot
    /// path when not verbose.
    pub fn info(&self, message: impl FnOnce() -> String) {
        if self.verbose >= 1 {
            eprintln!("sls-retry: {}", message());
        }
    }

    /// `-vv`: the requests themselves, redacted.
    pub fn debug(&self, message: impl FnOnce() -> String) {
        if self.verbose >= 2 {
            eprintln!("sls-retry: {}", message());
        }
    }
}

/// Print a fatal error.
pub fn error(message: &str) {
    eprintln!("sls-retry: error: {message}");
}
