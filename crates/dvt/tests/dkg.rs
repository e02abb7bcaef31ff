//! Joint-Feldman DKG: honest runs, cheating dealers caught by complaints, out-of-order calls.

use claystack_dvt::curve::Scalar;
use claystack_dvt::dkg::{
    Complaint, DealerBroadcast, DealerShare, DkgConfig, DkgError, DkgOutput, Justification,
    Participant, run_local,
};
use claystack_dvt::threshold::{
    PartialSignature, SecretShare, ShareIndex, combine_partials, reconstruct_secret,
};
use claystack_dvt::{PublicKey, Signature};
use rand::{SeedableRng, rngs::StdRng};

const MSG: &[u8] = b"dkg signing test";

fn config(t: usize, n: usize) -> DkgConfig {
    DkgConfig::new([7u8; 32], t, ShareIndex::range(n as u64)).unwrap()
}

fn idx(i: u64) -> ShareIndex {
    ShareIndex::new(i).unwrap()
}

/// Checks every output agrees on the group key and public shares, each share matches, and
/// `t` shares sign for the group key.
fn check_consistent(outputs: &[DkgOutput], t: usize) -> PublicKey {
    let first = &outputs[0];
    let group = first.public_key_set.group_public_key;
    for o in outputs {
        assert_eq!(o.public_key_set, first.public_key_set);
        assert_eq!(o.commitments, first.commitments);
        assert_eq!(o.qualified, first.qualified);
        assert!(o.commitments.verify_share(&o.share));
        assert_eq!(
            o.share.public_share().unwrap(),
            o.public_key_set.public_shares[&o.share.index()]
        );
    }
    let partials: Vec<PartialSignature> =
        outputs.iter().take(t).map(|o| o.share.sign(MSG)).collect();
    let combined = first.public_key_set.combine(MSG, &partials).unwrap();
    assert!(group.verify(MSG, &combined.signature));
    // Nobody held this key, but t shares reconstruct it (the audit path).
    let shares: Vec<SecretShare> = outputs.iter().rev().take(t).map(|o| o.share.clone()).collect();
    assert_eq!(reconstruct_secret(&shares).unwrap().public_key(), group);
    if t > 1 {
        let sig = combine_partials(&partials[..t - 1]).unwrap();
        assert!(!group.verify(MSG, &sig));
    }
    group
}

#[test]
fn honest_runs_agree() {
    let mut rng = StdRng::seed_from_u64(1);
    for (t, n) in [(1, 1), (2, 3), (3, 4), (5, 7), (9, 13)] {
        let outputs = run_local(&config(t, n), &mut rng).unwrap();
        assert_eq!(outputs.len(), n);
        for o in &outputs {
            assert!(o.disqualified.is_empty());
            assert_eq!(o.qualified.len(), n);
        }
        check_consistent(&outputs, t);
    }
}

/// A DKG run with message tampering hooks, one step at a time.
struct Run {
    parts: Vec<Participant>,
    broadcasts: Vec<DealerBroadcast>,
    shares: Vec<DealerShare>,
    complaints: Vec<Complaint>,
    justifications: Vec<Justification>,
}

impl Run {
    fn deal(cfg: &DkgConfig, seed: u64) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut run = Run {
            parts: vec![],
            broadcasts: vec![],
            shares: vec![],
            complaints: vec![],
            justifications: vec![],
        };
        for me in &cfg.participants {
            let (p, r1) = Participant::new(cfg.clone(), *me, &mut rng).unwrap();
            run.parts.push(p);
            run.broadcasts.push(r1.broadcast);
            run.shares.extend(r1.shares);
        }
        run
    }

    fn complain(&mut self) {
        for p in &mut self.parts {
            self.complaints.extend(p.round2(&self.broadcasts, &self.shares).unwrap());
        }
    }

    fn justify(&mut self) {
        for p in &mut self.parts {
            self.justifications.extend(p.round3(&self.complaints).unwrap());
        }
    }

    fn finish(&mut self) -> Vec<Result<DkgOutput, DkgError>> {
        self.parts.iter_mut().map(|p| p.finish(&self.justifications)).collect()
    }

    fn corrupt_share(&mut self, dealer: u64, recipient: u64) {
        let s = self
            .shares
            .iter_mut()
            .find(|s| s.dealer == idx(dealer) && s.share.index() == idx(recipient))
            .unwrap();
        s.share = SecretShare::new(idx(recipient), s.share.secret().add(&Scalar::from_u64(1)));
    }
}

#[test]
fn wrong_share_answered_by_justification_keeps_dealer() {
    let cfg = config(3, 4);
    let mut run = Run::deal(&cfg, 2);
    run.corrupt_share(2, 3);
    run.complain();
    assert_eq!(run.complaints.len(), 1);
    assert_eq!((run.complaints[0].complainer, run.complaints[0].dealer), (idx(3), idx(2)));
    run.justify();
    assert_eq!(run.justifications.len(), 1);
    let outputs: Vec<DkgOutput> = run.finish().into_iter().map(Result::unwrap).collect();
    for o in &outputs {
        assert!(o.disqualified.is_empty(), "honest answer must keep dealer 2");
    }
    check_consistent(&outputs, 3);
}

#[test]
fn cheating_dealer_that_does_not_answer_is_disqualified() {
    let cfg = config(3, 4);
    let mut run = Run::deal(&cfg, 3);
    let dealer2 = run.broadcasts[1].commitments.group_public_key().unwrap();
    run.corrupt_share(2, 1);
    run.corrupt_share(2, 4);
    run.complain();
    assert_eq!(run.complaints.len(), 2);
    run.justify();
    // Dealer 2 stays silent.
    run.justifications.retain(|j| j.dealer != idx(2));
    let outputs: Vec<DkgOutput> = run.finish().into_iter().map(Result::unwrap).collect();
    for o in &outputs {
        assert_eq!(o.disqualified, vec![idx(2)]);
        assert_eq!(o.qualified, vec![idx(1), idx(3), idx(4)]);
    }
    let group = check_consistent(&outputs, 3);
    // The group key is the sum of the qualified dealers' constant commitments only.
    let c0: Vec<PublicKey> = run
        .broadcasts
        .iter()
        .filter(|b| b.dealer != idx(2))
        .map(|b| b.commitments.group_public_key().unwrap())
        .collect();
    let sum = c0.iter().skip(1).fold(*c0[0].point(), |acc, p| acc.add(p.point()));
    assert_eq!(group, PublicKey::from_point(sum).unwrap());
    assert_ne!(group, PublicKey::from_point(sum.add(dealer2.point())).unwrap());
}

#[test]
fn cheating_dealer_with_false_justification_is_disqualified() {
    let cfg = config(2, 4);
    let mut run = Run::deal(&cfg, 4);
    run.corrupt_share(4, 1);
    run.complain();
    run.justify();
    for j in &mut run.justifications {
        if j.dealer == idx(4) {
            j.share = SecretShare::new(j.share.index(), j.share.secret().add(&Scalar::from_u64(5)));
        }
    }
    let outputs: Vec<DkgOutput> = run.finish().into_iter().map(Result::unwrap).collect();
    for o in &outputs {
        assert_eq!(o.disqualified, vec![idx(4)]);
    }
    check_consistent(&outputs, 2);
}

#[test]
fn malformed_or_unproven_broadcasts_are_disqualified() {
    let cfg = config(2, 4);
    let mut run = Run::deal(&cfg, 5);
    // Dealer 1's proof of possession is replaced by dealer 2's; dealer 3 sends too few
    // commitments (a lower-degree polynomial would lower the threshold).
    run.broadcasts[0].proof = run.broadcasts[1].proof;
    let short = run.broadcasts[2].commitments.points()[..1].to_vec();
    run.broadcasts[2].commitments = claystack_dvt::Commitments::from_points(short).unwrap();
    run.complain();
    // No complaints: a bad broadcast is public and disqualifies by itself.
    assert!(run.complaints.is_empty());
    run.justify();
    let outputs: Vec<DkgOutput> = run.finish().into_iter().map(Result::unwrap).collect();
    for o in &outputs {
        assert_eq!(o.disqualified, vec![idx(1), idx(3)]);
    }
    check_consistent(&outputs, 2);
}

#[test]
fn false_complaint_against_honest_dealer_changes_nothing() {
    let cfg = config(3, 4);
    let mut run = Run::deal(&cfg, 6);
    run.complain();
    assert!(run.complaints.is_empty());
    run.complaints.push(Complaint { session: cfg.session, complainer: idx(4), dealer: idx(1) });
    run.justify();
    assert_eq!(run.justifications.len(), 1);
    let outputs: Vec<DkgOutput> = run.finish().into_iter().map(Result::unwrap).collect();
    for o in &outputs {
        assert!(o.disqualified.is_empty());
    }
    check_consistent(&outputs, 3);
}

#[test]
fn too_many_cheaters_abort() {
    let cfg = config(3, 4);
    let mut run = Run::deal(&cfg, 7);
    run.corrupt_share(1, 2);
    run.corrupt_share(2, 3);
    run.complain();
    run.justify();
    run.justifications.clear();
    for r in run.finish() {
        assert_eq!(r.unwrap_err(), DkgError::TooFewQualified { qualified: 2, threshold: 3 });
    }
}

#[test]
fn messages_of_another_session_are_ignored() {
    let cfg = config(2, 3);
    let mut run = Run::deal(&cfg, 8);
    let other = DkgConfig::new([9u8; 32], 2, ShareIndex::range(3)).unwrap();
    let foreign = Run::deal(&other, 9);
    // Replace dealer 3's messages by those of another session: dealer 3 counts as silent.
    run.broadcasts[2] = foreign.broadcasts[2].clone();
    run.complain();
    run.justify();
    let outputs: Vec<DkgOutput> = run.finish().into_iter().map(Result::unwrap).collect();
    for o in &outputs {
        assert_eq!(o.disqualified, vec![idx(3)]);
    }
    check_consistent(&outputs, 2);
}

#[test]
fn steps_out_of_order_and_bad_configs_fail() {
    let cfg = config(2, 3);
    let mut rng = StdRng::seed_from_u64(10);
    let (mut p, _) = Participant::new(cfg.clone(), idx(1), &mut rng).unwrap();
    assert!(matches!(p.round3(&[]), Err(DkgError::WrongPhase { .. })));
    assert!(matches!(p.finish(&[]), Err(DkgError::WrongPhase { .. })));
    assert!(matches!(Participant::new(cfg, idx(9), &mut rng), Err(DkgError::NotAParticipant(_))));
    assert!(DkgConfig::new([0; 32], 4, ShareIndex::range(3)).is_err());
    assert!(DkgConfig::new([0; 32], 0, ShareIndex::range(3)).is_err());
    assert!(DkgConfig::new([0; 32], 1, vec![idx(1), idx(1)]).is_err());
}

#[test]
fn messages_round_trip_through_json() {
    let cfg = config(2, 3);
    let run = Run::deal(&cfg, 11);
    let b: DealerBroadcast =
        serde_json::from_str(&serde_json::to_string(&run.broadcasts[0]).unwrap()).unwrap();
    assert_eq!(b, run.broadcasts[0]);
    let s: DealerShare =
        serde_json::from_str(&serde_json::to_string(&run.shares[0]).unwrap()).unwrap();
    assert_eq!(s, run.shares[0]);
    let sig: Signature = serde_json::from_str(&serde_json::to_string(&b.proof).unwrap()).unwrap();
    assert_eq!(sig, b.proof);
}

mod prop {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

        /// Random sizes, random corrupted shares, random silent dealers: every participant
        /// reaches the same verdict, exactly the cheaters that did not answer are out, and the
        /// key is the sum of the qualified dealers' constant terms.
        #[test]
        fn random_cheaters_are_caught(
            n in 2usize..=6,
            t_seed in any::<usize>(),
            corrupt in proptest::collection::vec((1u64..=6, 1u64..=6), 0..4),
            silent in proptest::collection::btree_set(1u64..=6, 0..3),
            seed in any::<u64>(),
        ) {
            let t = 1 + t_seed % n;
            let cfg = config(t, n);
            let mut run = Run::deal(&cfg, seed);
            let mut accused = std::collections::BTreeSet::new();
            for (d, r) in corrupt {
                if d <= n as u64 && r <= n as u64 && d != r {
                    run.corrupt_share(d, r);
                    accused.insert(d);
                }
            }
            run.complain();
            run.justify();
            run.justifications.retain(|j| !silent.contains(&j.dealer.get()));
            let expected_out: Vec<ShareIndex> =
                accused.iter().filter(|d| silent.contains(d)).map(|d| idx(*d)).collect();
            let results = run.finish();
            let qualified = n - expected_out.len();
            if qualified < t {
                for r in results {
                    prop_assert_eq!(
                        r.unwrap_err(),
                        DkgError::TooFewQualified { qualified, threshold: t }
                    );
                }
            } else {
                let outputs: Vec<DkgOutput> = results.into_iter().map(Result::unwrap).collect();
                for o in &outputs {
                    prop_assert_eq!(&o.disqualified, &expected_out);
                }
                let group = check_consistent(&outputs, t);
                let sum = run
                    .broadcasts
                    .iter()
                    .filter(|b| !expected_out.contains(&b.dealer))
                    .map(|b| *b.commitments.group_public_key().unwrap().point())
                    .fold(claystack_dvt::curve::G1::identity(), |a, p| a.add(&p));
                prop_assert_eq!(group, PublicKey::from_point(sum).unwrap());
            }
        }
    }
}
