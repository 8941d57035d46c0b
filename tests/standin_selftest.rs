//! The stand-in's own tests: its verifiers agree with the official SDKs' vectors and it refuses
//! what SLS refuses, so the integration tests built on it can fail.

mod standin;

#[path = "standin/tests.rs"]
mod selftests;
