//! `sls-retry`: re-run failed Alibaba Cloud SLS shipper tasks (RetryShipperTask).
//!
//! The binary in `main.rs` wires these modules together; they are a library so that tests,
//! benchmarks and fuzz targets can reach the pure parts (signer, ID parsing, batching).

pub mod batch;
pub mod build_info;
pub mod cli;
pub mod client;
pub mod clock;
pub mod config;
pub mod credentials;
pub mod diag;
pub mod endpoint;
pub mod exit;
pub mod http;
pub mod ids;
pub mod interrupt;
pub mod listing;
pub mod modes;
pub mod names;
pub mod outcome;
pub mod policy;
pub mod report;
pub mod save_failed;
pub mod send;
pub mod sign;
pub mod sweep;
pub mod untrusted;
pub mod wait;
pub mod window;
