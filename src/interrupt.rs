//! SIGINT and SIGTERM: the first one asks the run to stop taking new batches (the one in flight
//! finishes and is reported); a second one of the same kind ends the process at once.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use signal_hook::consts::{SIGINT, SIGTERM};

/// A signal that ends a run early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// SIGINT (Ctrl-C).
    Int,
    /// SIGTERM.
    Term,
}

impl Signal {
    /// The shell's exit status for it: 128 + its number.
    pub fn exit_code(self) -> u8 {
        match self {
            Signal::Int => 130,
            Signal::Term => 143,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Signal::Int => "SIGINT",
            Signal::Term => "SIGTERM",
        }
    }

    fn number(self) -> i32 {
        match self {
            Signal::Int => SIGINT,
            Signal::Term => SIGTERM,
        }
    }
}

/// Which signal arrived, if any; cheap to clone and check.
#[derive(Debug, Clone, Default)]
pub struct Interrupt {
    /// The signal's number once one arrived (the signal handler can only store a number).
    signal: Arc<AtomicUsize>,
}

impl Interrupt {
    /// Watch SIGINT and SIGTERM for the rest of the process.
    pub fn install() -> std::io::Result<Interrupt> {
        let interrupt = Interrupt::default();
        let seen = Arc::new(AtomicBool::new(false));
        for signal in [Signal::Int, Signal::Term] {
            let number = signal.number();
            // Registered first, so it sees `seen` as it was before this signal: the second
            // signal ends the process, the first only raises the flags below.
            let code = i32::from(signal.exit_code());
            signal_hook::flag::register_conditional_shutdown(number, code, Arc::clone(&seen))?;
            signal_hook::flag::register(number, Arc::clone(&seen))?;
            let flag = Arc::clone(&interrupt.signal);
            signal_hook::flag::register_usize(number, flag, number as usize)?;
        }
        Ok(interrupt)
    }

    /// Take `signal` as arrived, as its handler does: for tests of what a signal ends, which
    /// cannot send one to the process they share.
    pub fn notice(&self, signal: Signal) {
        (self.signal).store(signal.number() as usize, Ordering::SeqCst);
    }

    /// The signal, once one has arrived.
    pub fn signal(&self) -> Option<Signal> {
        match self.signal.load(Ordering::SeqCst) as i32 {
            0 => None,
            SIGTERM => Some(Signal::Term),
            _ => Some(Signal::Int),
        }
    }

    /// The error for a phase a signal ended, once one has arrived.
    pub fn interrupted(&self, during: &'static str) -> Option<Interrupted> {
        self.signal().map(|signal| Interrupted { signal, during })
    }

    /// Run `work` on a thread of its own and wait for it or for a signal, whichever comes first.
    /// On a signal the work is left behind, to end with the process, and the error says what
    /// was interrupted (`during`, as in `Interrupted`). Only for work that changes nothing
    /// anywhere (reading stdin, a read-only listing, the ECS metadata service) and that could
    /// otherwise block for long (a producer that keeps stdin open, a slow server).
    pub fn abandon_on_signal<T: Send + 'static>(
        &self,
        during: &'static str,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Interrupted> {
        let (done, result) = std::sync::mpsc::sync_channel(1);
        std::thread::spawn(move || {
            let _ = done.send(work());
        });
        loop {
            if let Some(interrupted) = self.interrupted(during) {
                return Err(interrupted);
            }
            match result.recv_timeout(Duration::from_millis(20)) {
                Ok(value) => return Ok(value),
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                // The work panicked; its message is already on stderr.
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                    panic!("a background task of the run failed")
                }
            }
        }
    }

    /// Sleep for `duration`, waking early when a signal arrives. Returns false if interrupted.
    pub fn sleep(&self, duration: Duration) -> bool {
        let deadline = Instant::now() + duration;
        loop {
            if self.signal().is_some() {
                return false;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return true;
            }
            std::thread::sleep(left.min(Duration::from_millis(20)));
        }
    }
}

/// A phase that a signal ended before any batch was sent (a credentials command, reading stdin,
/// a listing): an error whose message says so, and which `main` turns into exit status 130/143.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interrupted {
    pub signal: Signal,
    /// What was going on and what that means, completing "interrupted by SIGTERM while ...",
    /// e.g. "the command ran; nothing was sent".
    pub during: &'static str,
}

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = self.signal.name();
        write!(f, "interrupted by {name} while {}", self.during)
    }
}

impl std::error::Error for Interrupted {}
