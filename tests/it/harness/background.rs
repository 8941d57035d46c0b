//! Runs in the background, for tests that signal a run mid-phase, and the patience a busy
//! machine needs while they wait for something to happen.

use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use super::Run;

/// Polls `done` every 10 ms until it holds, for 30 s at the most: whether it came to hold.
/// Patience, not a timing assertion: the machine may be busy.
pub fn patiently(mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        if Instant::now() > deadline {
            return false;
        }
        thread::sleep(Duration::from_millis(10));
    }
    true
}

/// Has process `pid` ended? A zombie counts: it runs no more, and only its reaper is left to
/// collect it.
pub fn ended(pid: u32) -> bool {
    patiently(
        || match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Err(_) => true,
            Ok(stat) => {
                let state = stat.rsplit(')').next().unwrap_or("").trim_start();
                state.starts_with('Z')
            }
        },
    )
}

/// A run in the background, its stderr collected as it comes.
pub struct Background {
    child: Child,
    stderr: Arc<Mutex<String>>,
    reader: JoinHandle<()>,
}

impl Background {
    /// Start `cmd` with `stdin`; its stderr is read as it comes, its stdout at the end (a run in
    /// the background prints little).
    pub fn spawn(cmd: &mut Command, stdin: Stdio) -> Background {
        let spawned = cmd
            .stdin(stdin)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn();
        let mut child = spawned.expect("sls-retry runs");
        let stderr = Arc::new(Mutex::new(String::new()));
        let (mut from, into) = (child.stderr.take().unwrap(), stderr.clone());
        let reader = thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n @ 1..) = from.read(&mut buf) {
                let text = String::from_utf8_lossy(&buf[..n]);
                into.lock().unwrap().push_str(&text);
            }
        });
        Background {
            child,
            stderr,
            reader,
        }
    }

    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// The run's stdin, when it was started with a pipe there.
    pub fn stdin(&mut self) -> std::process::ChildStdin {
        self.child
            .stdin
            .take()
            .expect("started with a pipe on stdin")
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Wait until stderr shows `text`.
    pub fn wait_for_stderr(&self, text: &str) {
        let shown = patiently(|| self.stderr().contains(text));
        assert!(shown, "never saw {text:?}: {}", self.stderr());
    }

    /// Send `signal` (`-TERM`, `-INT`) to the run.
    pub fn signal(&self, signal: &str) {
        let pid = self.child.id().to_string();
        let status = Command::new("kill").args([signal, &pid]).status();
        assert!(status.unwrap().success());
    }

    /// Whether the run ends by itself.
    pub fn ends(&mut self) -> bool {
        patiently(|| self.child.try_wait().unwrap().is_some())
    }

    /// What the run showed once it ended; it must end without the test's help (stdin may still
    /// be open), or it is killed and the test fails.
    pub fn finish(mut self) -> Run {
        if !self.ends() {
            let _ = self.child.kill();
            panic!("the run did not end: {}", self.stderr());
        }
        let status = self.child.wait().unwrap();
        let mut stdout = String::new();
        let mut pipe = self.child.stdout.take().unwrap();
        pipe.read_to_string(&mut stdout).unwrap();
        // The reader's last read; anything the run started that still holds stderr open is
        // not waited for.
        if patiently(|| self.reader.is_finished()) {
            self.reader.join().unwrap();
        }
        let stderr = self.stderr.lock().unwrap().clone();
        let code = status.code().expect("exited, not killed by the signal");
        Run::audited(code, stdout, stderr)
    }
}
