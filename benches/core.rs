//! The pure hot paths, per call: signing a request (v1 and v4), reading task IDs from stdin,
//! and planning batches. `cargo bench --bench core`.

use std::sync::Arc;
use std::time::SystemTime;

use divan::{Bencher, black_box};
use sls_retry::batch;
use sls_retry::credentials::{Credentials, Secret};
use sls_retry::ids;
use sls_retry::names::{ResourceName, Shipper};
use sls_retry::sign::{self, Request};

fn main() {
    divan::main();
}

fn credentials() -> Credentials {
    Credentials {
        access_key_id: "LTAI5tBenchmarkKeyId".into(),
        access_key_secret: Secret::new("benchmark-secret-0123456789"),
        security_token: None,
    }
}

/// A full batch of ten 32-hex IDs, as the client sends it.
fn body() -> Vec<u8> {
    let ids: Vec<String> = (0..10).map(|i| format!("{i:032x}")).collect();
    serde_json::to_vec(&ids).unwrap()
}

/// The RetryShipperTask request for `body`.
fn request(body: &[u8]) -> Request<'_> {
    Request {
        method: "PUT",
        path: "/logstores/l/shipper/s/tasks",
        query: &[],
        host: "p.cn-hangzhou.log.aliyuncs.com",
        content_type: Some("application/json"),
        body,
    }
}

#[divan::bench]
fn sign_v1_put_ten_ids(bencher: Bencher) {
    let (creds, body) = (credentials(), body());
    bencher.bench(|| sign::sign_v1(black_box(&request(&body)), &creds, SystemTime::UNIX_EPOCH));
}

#[divan::bench]
fn sign_v4_put_ten_ids(bencher: Bencher) {
    let (creds, body) = (credentials(), body());
    bencher.bench(|| {
        sign::sign_v4(
            black_box(&request(&body)),
            &creds,
            "cn-hangzhou",
            SystemTime::UNIX_EPOCH,
        )
    });
}

/// Parse, validate and dedupe `n` IDs from stdin text, then plan their batches.
#[divan::bench(args = [1_000, 100_000])]
fn read_and_plan(bencher: Bencher, n: usize) {
    let input: String = (0..n).map(|i| format!("{i:032x}\n")).collect();
    let name = |what, n: &str| ResourceName::parse(what, n).unwrap();
    let shipper = Arc::new(Shipper {
        logstore: name("logstore", "l"),
        name: name("shipper", "s"),
    });
    bencher
        .counter(divan::counter::ItemsCount::new(n))
        .bench(|| {
            let collected = ids::collect(&[], Some(black_box(input.as_bytes()))).unwrap();
            batch::plan(vec![(Arc::clone(&shipper), collected.ids)], 10)
        });
}
