//! What the test modules share: the real binary run in an isolated home, every run audited, and
//! the task IDs and histories the tests feed it.

mod audit;
mod background;
mod home;
mod run;
mod tasks;

pub use background::{Background, ended, patiently};
pub use home::{Home, set_mode, target_toml};
pub use run::{
    Run, assert_contains, assert_ends_with, assert_starts_with, demo_run, feed, in_terminal, run,
    run_to,
};
pub use tasks::{ids, now, recent_failures};
