//! The integration tests, one crate (one binary) so that the stand-in and the harness compile
//! once: the real binary against the loopback stand-in (`tests/standin`) with a cleared
//! environment and a temporary HOME, the property tests of every parser of untrusted input, the
//! checked-in completions, and the stand-in's own checks.

mod harness;

mod chain;
mod cli;
mod completions;
mod credentials;
mod listing;
mod network;
mod parallel;
mod properties;
mod robustness;
mod standin_selftest;
mod sts;
mod sweep;
mod wait;
