//! `--dry-run`'s report: the plan, and each batch's signed request with its secrets redacted,
//! as text or JSON Lines. Nothing is sent.

use std::io::Write;

use super::{Reporter, json_line, plural};
use crate::batch::Batch;
use crate::client::Prepared;
use crate::config::Output;
use crate::exit::Exit;

impl<W: Write> Reporter<W> {
    /// `--dry-run`: the plan, and each batch's signed request with secrets redacted.
    /// `prepare` signs a batch's request; it is called as each is printed, so a large plan is
    /// never held in memory whole.
    pub fn dry_run(
        mut self,
        endpoint: &str,
        batches: &[Batch],
        prepare: impl Fn(&Batch) -> Prepared,
    ) -> Exit {
        match self.output {
            Output::Quiet => {}
            Output::Human => {
                let plan = format!(
                    "{} in {} to {endpoint}",
                    plural(self.tally.ids, "task id", "task ids"),
                    plural(self.tally.batches, "batch", "batches")
                );
                // Finding the IDs took read-only requests: say so rather than "nothing is sent".
                let header = match self.listing_requests {
                    Some(requests) => format!(
                        "dry run: would retry {plan}; nothing was retried (finding them took {}){}",
                        plural(
                            requests,
                            "read-only GetShipperStatus request",
                            "read-only GetShipperStatus requests"
                        ),
                        self.skipped_note()
                    ),
                    None => format!("dry run: {plan}; nothing is sent{}", self.skipped_note()),
                };
                self.write(&header);
                for batch in batches {
                    let prepared = prepare(batch);
                    let ids: Vec<_> = (batch.ids.iter())
                        .map(|id| crate::untrusted::escape(id.as_str()))
                        .collect();
                    self.write(&format!(
                        "\nbatch {}/{}  {} ids: {}\n{}",
                        batch.number,
                        self.tally.batches,
                        batch.ids.len(),
                        ids.join(" "),
                        prepared.redacted().trim_end()
                    ));
                }
            }
            Output::Json => {
                for batch in batches {
                    let prepared = prepare(batch);
                    let headers: serde_json::Map<String, serde_json::Value> = prepared
                        .signed
                        .redacted_headers()
                        .map(|(n, v)| (n.to_string(), v.into()))
                        .collect();
                    self.write(&json_line(&serde_json::json!({
                        "type": "request",
                        "logstore": batch.shipper.logstore.as_str(),
                        "shipper": batch.shipper.name.as_str(),
                        "batch": batch.number,
                        "batches": self.tally.batches,
                        "ids": batch.ids,
                        "method": prepared.method,
                        "url": prepared.url,
                        "host": prepared.host,
                        "headers": headers,
                        "body": String::from_utf8_lossy(&prepared.body),
                    })));
                }
            }
        }
        self.exit(Exit::Success)
    }
}
