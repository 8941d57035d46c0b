//! The exit status contract: one enum, one README table, one test per code, and the one function
//! (`merge`) that decides a run's status from everything that has a say in it.

use crate::interrupt::Signal;

/// How a run ends, as the shell sees it; `meaning` says each one as the user reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// All accepted.
    Success = 0,
    /// The run finished, but not all went through.
    Failure = 1,
    /// Nothing was sent.
    Usage = 2,
    /// `--wait`: nothing failed, but some tasks were still running when the wait ended.
    Pending = 3,
    /// SIGINT.
    Interrupted = 130,
    /// SIGTERM.
    Terminated = 143,
}

impl Exit {
    /// Every status, in the order `--help` and the man page list them.
    pub const ALL: [Exit; 6] = [
        Exit::Success,
        Exit::Failure,
        Exit::Usage,
        Exit::Pending,
        Exit::Interrupted,
        Exit::Terminated,
    ];

    /// What the status tells a script: the text `--help` and the man page show (the README's
    /// table says the same).
    pub fn meaning(self) -> &'static str {
        match self {
            Exit::Success => "every batch was accepted, or there was nothing to retry",
            // A closed pipe is the reader's choice, not a failure of the run.
            Exit::Failure => {
                "the run finished, but at least one batch was rejected or could not be \
                 delivered; or a retried task failed again (--wait); or the task listing of --failed or --list failed or did not add \
                 up; or a task ID from the service was skipped; or the report could not be \
                 written to stdout (a closed pipe aside); or the --save-failed file could not \
                 be written (its IDs are then on stderr)"
            }
            Exit::Usage => "nothing was sent: a usage, configuration, credentials or input error",
            Exit::Pending => {
                "with --wait: every batch was accepted and no task failed again, but some were \
                 still running when the wait ended"
            }
            Exit::Interrupted => "interrupted by SIGINT; what was sent is reported",
            Exit::Terminated => "stopped by SIGTERM; what was sent is reported",
        }
    }

    /// `Failure` when `failed`, else `Success`: one part's say, for `merge`.
    pub fn failure_if(failed: bool) -> Exit {
        if failed { Exit::Failure } else { Exit::Success }
    }

    /// How much this status outweighs others: a signal decides the run's status whatever was
    /// accepted before it; nothing sent outweighs a partial failure, which outweighs tasks still
    /// running, which outweighs success.
    fn weight(self) -> u8 {
        match self {
            Exit::Success => 0,
            Exit::Pending => 1,
            Exit::Failure => 2,
            Exit::Usage => 3,
            Exit::Interrupted | Exit::Terminated => 4,
        }
    }
}

/// The status of a run from the say of each of its parts (the report, the listing, the
/// `--save-failed` file, a signal...): the weightiest wins; the first of equals.
pub fn merge(parts: impl IntoIterator<Item = Exit>) -> Exit {
    parts.into_iter().fold(Exit::Success, |run, part| {
        if part.weight() > run.weight() {
            part
        } else {
            run
        }
    })
}

impl From<Signal> for Exit {
    fn from(signal: Signal) -> Exit {
        match signal {
            Signal::Int => Exit::Interrupted,
            Signal::Term => Exit::Terminated,
        }
    }
}

impl From<Exit> for std::process::ExitCode {
    fn from(exit: Exit) -> Self {
        std::process::ExitCode::from(exit as u8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_weightiest_say_decides() {
        use Exit::*;
        for (parts, want) in [
            (vec![], Success),
            (vec![Success, Success], Success),
            (vec![Success, Failure, Success], Failure),
            (vec![Failure, Usage], Usage),
            (vec![Failure, Terminated, Success], Terminated),
            (vec![Terminated, Interrupted], Terminated),
            (vec![Success, Interrupted, Failure], Interrupted),
            (vec![Success, Pending], Pending),
            (vec![Pending, Failure, Pending], Failure),
            (vec![Pending, Terminated], Terminated),
        ] {
            assert_eq!(merge(parts.clone()), want, "{parts:?}");
        }
        assert_eq!(Exit::failure_if(true), Failure);
        assert_eq!(Exit::from(Signal::Term) as u8, 143);
        assert_eq!(Exit::from(Signal::Int) as u8, 130);
    }
}
