//! The exit status contract: one enum, one README table, one test per code.

/// How a run ends, as the shell sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Every batch was accepted, or there was nothing to retry.
    Success = 0,
    /// The run finished, but at least one batch was rejected or could not be delivered, its
    /// report could not be written to stdout (a closed pipe aside: that is the reader's
    /// choice), or its `--save-failed` file could not be written (the IDs went to stderr).
    Failure = 1,
    /// Nothing was sent: usage, configuration, credentials or input error.
    Usage = 2,
    /// Stopped by SIGINT; what was sent is reported.
    Interrupted = 130,
    /// Stopped by SIGTERM; what was sent is reported.
    Terminated = 143,
}

impl Exit {
    /// The status for a signal's 128 + number.
    pub fn for_signal(code: u8) -> Exit {
        if code == 143 {
            Exit::Terminated
        } else {
            Exit::Interrupted
        }
    }
}

impl Exit {
    /// `Failure` instead of `Success` when `failed`; any other status stands.
    pub fn or_failure(self, failed: bool) -> Exit {
        match self {
            Exit::Success if failed => Exit::Failure,
            other => other,
        }
    }
}

impl From<Exit> for std::process::ExitCode {
    fn from(exit: Exit) -> Self {
        std::process::ExitCode::from(exit as u8)
    }
}
