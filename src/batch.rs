//! Batches: splitting the task IDs into RetryShipperTask calls of at most 10.

use crate::ids::TaskId;

/// RetryShipperTask takes at most this many task IDs per call ("Each time allows 10 task
/// retries only.").
pub const MAX_BATCH_SIZE: usize = 10;

/// One RetryShipperTask call's worth of IDs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    /// 1-based position in the run, as reported.
    pub number: usize,
    pub ids: Vec<TaskId>,
}

/// Split `ids` into batches of `size` (1..=10), keeping input order.
pub fn plan(ids: Vec<TaskId>, size: usize) -> Vec<Batch> {
    assert!(
        (1..=MAX_BATCH_SIZE).contains(&size),
        "batch size is checked by the CLI"
    );
    let mut batches = Vec::with_capacity(ids.len().div_ceil(size));
    let mut ids = ids.into_iter().peekable();
    while ids.peek().is_some() {
        batches.push(Batch {
            number: batches.len() + 1,
            ids: ids.by_ref().take(size).collect(),
        });
    }
    batches
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: usize) -> Vec<TaskId> {
        (0..n)
            .map(|i| TaskId::parse(&format!("t{i}")).unwrap())
            .collect()
    }

    fn sizes(batches: &[Batch]) -> Vec<usize> {
        batches.iter().map(|b| b.ids.len()).collect()
    }

    #[test]
    fn sizes_for_0_1_10_11_25() {
        assert_eq!(sizes(&plan(ids(0), 10)), Vec::<usize>::new());
        assert_eq!(sizes(&plan(ids(1), 10)), [1]);
        assert_eq!(sizes(&plan(ids(10), 10)), [10]);
        assert_eq!(sizes(&plan(ids(11), 10)), [10, 1]);
        assert_eq!(sizes(&plan(ids(25), 10)), [10, 10, 5]);
        assert_eq!(sizes(&plan(ids(7), 3)), [3, 3, 1]);
        assert_eq!(sizes(&plan(ids(3), 1)), [1, 1, 1]);
    }

    #[test]
    fn order_and_numbering_kept() {
        let batches = plan(ids(25), 10);
        assert_eq!(
            batches.iter().map(|b| b.number).collect::<Vec<_>>(),
            [1, 2, 3]
        );
        let flat: Vec<TaskId> = batches.into_iter().flat_map(|b| b.ids).collect();
        assert_eq!(flat, ids(25));
    }
}
