//! Regression (security review, finding 5): an epoch that failed inside a compute window was
//! reported as recorded by `LivenessStore::epochs()` (the segment file was named after the min and
//! max epoch it held), so `record_liveness` never tried to record it again.

use claystack_oracle::daemon::liveness::{DutiesSource, LivenessError, LivenessStore, tally_frame};
use claystack_oracle::duties::{DutyTally, EpochLiveness, ValidatorSpan};

#[tokio::test]
async fn a_failed_epoch_inside_a_segment_is_not_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let store = LivenessStore::open(dir.path(), DutiesSource::Rewards).unwrap();
    let spans = vec![ValidatorSpan { index: 7, activation_epoch: 0, exit_epoch: u64::MAX }];
    let mut tally = DutyTally::new(spans).unwrap();
    let r = tally_frame(&store, &mut tally, 1, 10, |epoch, indices| async move {
        if epoch == 5 {
            return Err(LivenessError::Answer { epoch, reason: "not served".into() });
        }
        Ok(EpochLiveness::from_pairs(epoch, indices.iter().map(|i| (*i, true)).collect()).unwrap())
    })
    .await;
    assert!(r.is_err(), "epoch 5 failed");
    // epoch 5 has no record ...
    assert!(store.load_range(5, 5).unwrap().is_empty());
    // ... and the store does not claim it: record_liveness keeps it on its to-do list
    let recorded = store.epochs().unwrap();
    assert!(!recorded.contains(&5), "epochs() = {recorded:?}");
    assert_eq!(recorded, vec![1, 2, 3, 4, 6, 7, 8, 9, 10]);
    // and every record the store lists loads
    assert_eq!(store.load_range(1, 10).unwrap().len(), 9);
}
