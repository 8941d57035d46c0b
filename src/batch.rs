//! Batches: splitting the task IDs into RetryShipperTask calls of at most 10.

use std::sync::Arc;

use crate::ids::TaskId;
use crate::names::Shipper;

/// RetryShipperTask takes at most this many task IDs per call ("Each time allows 10 task
/// retries only.").
pub const MAX_BATCH_SIZE: usize = 10;

/// One RetryShipperTask call's worth of IDs, all of one shipper.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    /// 1-based position in the run, as reported.
    pub number: usize,
    pub shipper: Arc<Shipper>,
    pub ids: Vec<TaskId>,
}

/// Split each shipper's IDs into batches of `size` (1..=10), never mixing shippers, keeping the
/// order of the shippers and of the IDs within each; numbered across the whole run.
pub fn plan(groups: Vec<(Arc<Shipper>, Vec<TaskId>)>, size: usize) -> Vec<Batch> {
    assert!(
        (1..=MAX_BATCH_SIZE).contains(&size),
        "batch size is checked by the CLI"
    );
    let count = groups.iter().map(|(_, ids)| ids.len().div_ceil(size)).sum();
    let mut batches = Vec::with_capacity(count);
    for (shipper, ids) in groups {
        let mut ids = ids.into_iter().peekable();
        while ids.peek().is_some() {
            batches.push(Batch {
                number: batches.len() + 1,
                shipper: Arc::clone(&shipper),
                ids: ids.by_ref().take(size).collect(),
            });
        }
    }
    batches
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::names::ResourceName;

    fn shipper(name: &str) -> Arc<Shipper> {
        let parse = |what, n: &str| ResourceName::parse(what, n).unwrap();
        Arc::new(Shipper {
            logstore: parse("logstore", "l"),
            name: parse("shipper", name),
        })
    }

    fn ids(n: usize) -> Vec<TaskId> {
        (0..n)
            .map(|i| TaskId::parse(&format!("t{i}")).unwrap())
            .collect()
    }

    fn sizes(n: usize, size: usize) -> Vec<usize> {
        let batches = plan(vec![(shipper("s"), ids(n))], size);
        batches.iter().map(|b| b.ids.len()).collect()
    }

    #[test]
    fn sizes_for_0_1_10_11_25() {
        assert_eq!(sizes(0, 10), Vec::<usize>::new());
        assert_eq!(sizes(1, 10), [1]);
        assert_eq!(sizes(10, 10), [10]);
        assert_eq!(sizes(11, 10), [10, 1]);
        assert_eq!(sizes(25, 10), [10, 10, 5]);
        assert_eq!(sizes(7, 3), [3, 3, 1]);
        assert_eq!(sizes(3, 1), [1, 1, 1]);
    }

    #[test]
    fn order_and_numbering_kept_and_shippers_never_mixed() {
        let (a, b) = (shipper("a"), shipper("b"));
        let batches = plan(vec![(a.clone(), ids(25)), (b.clone(), ids(3))], 10);
        let numbered: Vec<(usize, &Arc<Shipper>, usize)> = (batches.iter())
            .map(|batch| (batch.number, &batch.shipper, batch.ids.len()))
            .collect();
        assert_eq!(numbered, [(1, &a, 10), (2, &a, 10), (3, &a, 5), (4, &b, 3)]);
        let flat: Vec<TaskId> = batches.into_iter().take(3).flat_map(|b| b.ids).collect();
        assert_eq!(flat, ids(25));
    }
}
