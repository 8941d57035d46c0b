//! A credentials URI (`ALIBABA_CLOUD_CREDENTIALS_URI`) on the stand-in's port: `GET /credentials-uri` hands out new short-lived STS credentials each time, as `{"Code": "Success", "AccessKeyId", "AccessKeySecret", "SecurityToken", "Expiration", "LastUpdated"}`; scripted replies play its failures.
// The answer's shape is the one aliyun/credentials-go (providers/uri.go) and the aliyun CLI read.

use std::time::SystemTime;

use serde_json::json;

use super::http::Request;
use super::{Reply, Shared, accounts};

pub(super) const PATH: &str = "/credentials-uri";

/// The answer to a request to `PATH`.
pub(super) fn answer(shared: &Shared, request: &Request, now: SystemTime) -> Reply {
    let Some(lifetime) = shared.world.credentials_uri else {
        return Reply::raw(404, "text/plain", "404 - Not Found");
    };
    if request.method != "GET" {
        return Reply::raw(405, "text/plain", "405 - Method Not Allowed");
    }
    let issued = accounts::issue(shared, "credentials-uri", lifetime, now);
    let body = json!({
        "Code": "Success",
        "AccessKeyId": issued.key_id,
        "AccessKeySecret": issued.secret,
        "SecurityToken": issued.token,
        "Expiration": accounts::time(issued.expires),
        "LastUpdated": accounts::time(now),
    });
    Reply::raw(200, "application/json", body.to_string())
}
