//! Threshold BLS: t-of-n sharing, combination, exclusion of wrong partials, Feldman checks.

use claystack_dvt::threshold::{
    self, PartialSignature, SecretShare, ShareIndex, ThresholdError, combine_partials,
    combine_public_shares, reconstruct_secret, split,
};
use claystack_dvt::{SecretKey, curve::Scalar};
use proptest::prelude::*;
use rand::{SeedableRng, rngs::StdRng, seq::SliceRandom};

const MSG: &[u8] = b"claystack threshold test message";

/// All k-subsets of 0..n, as index lists.
fn subsets(n: usize, k: usize) -> Vec<Vec<usize>> {
    fn go(start: usize, n: usize, k: usize, cur: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) {
        if cur.len() == k {
            out.push(cur.clone());
            return;
        }
        for i in start..n {
            cur.push(i);
            go(i + 1, n, k, cur, out);
            cur.pop();
        }
    }
    let mut out = Vec::new();
    go(0, n, k, &mut Vec::new(), &mut out);
    out
}

fn setup(t: usize, n: usize, seed: u64) -> (SecretKey, Vec<SecretShare>, threshold::Commitments) {
    let mut rng = StdRng::seed_from_u64(seed);
    let sk = SecretKey::random(&mut rng);
    let (shares, commitments) = split(&sk, t, &ShareIndex::range(n as u64), &mut rng).unwrap();
    (sk, shares, commitments)
}

#[test]
fn any_t_subset_combines_to_the_group_signature() {
    for (t, n) in [(1, 1), (1, 3), (2, 3), (3, 4), (4, 6), (5, 7), (7, 10), (9, 13)] {
        let (sk, shares, commitments) = setup(t, n, (t * 100 + n) as u64);
        let expected = sk.sign(MSG);
        let group = commitments.group_public_key().unwrap();
        assert_eq!(group, sk.public_key());
        assert!(group.verify(MSG, &expected));
        let partials: Vec<PartialSignature> = shares.iter().map(|s| s.sign(MSG)).collect();
        let all = subsets(n, t);
        assert!(!all.is_empty());
        for subset in all {
            let chosen: Vec<PartialSignature> = subset.iter().map(|i| partials[*i]).collect();
            let sig = combine_partials(&chosen).unwrap();
            assert_eq!(sig, expected, "t={t} n={n} subset={subset:?}");
        }
        // The reconstructed secret is the original, and signs the same.
        let secret = reconstruct_secret(&shares[n - t..]).unwrap();
        assert_eq!(secret, sk);
        assert_eq!(secret.sign(MSG), expected);
    }
}

#[test]
fn fewer_than_t_partials_do_not_verify() {
    for (t, n) in [(2, 3), (3, 4), (5, 7), (9, 13)] {
        let (sk, shares, commitments) = setup(t, n, 7 + n as u64);
        let group = commitments.group_public_key().unwrap();
        let partials: Vec<PartialSignature> = shares.iter().map(|s| s.sign(MSG)).collect();
        for subset in subsets(n, t - 1).into_iter().take(50) {
            let chosen: Vec<PartialSignature> = subset.iter().map(|i| partials[*i]).collect();
            let sig = combine_partials(&chosen).unwrap();
            assert_ne!(sig, sk.sign(MSG));
            assert!(!group.verify(MSG, &sig), "t-1 partials verified: t={t} n={n}");
            // t-1 secret shares do not give the key either.
            let sub: Vec<SecretShare> = subset.iter().map(|i| shares[*i].clone()).collect();
            assert_ne!(reconstruct_secret(&sub).unwrap(), sk);
        }
        // The verifying combiner refuses outright.
        let set = commitments.public_key_set(&ShareIndex::range(n as u64)).unwrap();
        let err = set.combine(MSG, &partials[..t - 1]).unwrap_err();
        assert_eq!(err, ThresholdError::NotEnoughShares { have: t - 1, need: t });
    }
}

#[test]
fn corrupted_partials_are_detected_and_excluded() {
    let (t, n) = (3, 4);
    let (sk, shares, commitments) = setup(t, n, 42);
    let set = commitments.public_key_set(&ShareIndex::range(n as u64)).unwrap();
    let mut partials: Vec<PartialSignature> = shares.iter().map(|s| s.sign(MSG)).collect();
    // Share 2 signs another message; share 1's signature is replaced by share 3's.
    partials[1] = shares[1].sign(b"something else");
    partials[0].signature = partials[2].signature;
    for (i, p) in partials.iter().enumerate() {
        let ok = set.verify_partial(MSG, p).is_ok();
        assert_eq!(ok, i >= 2, "partial {i}");
    }
    assert_eq!(
        set.verify_partial(MSG, &partials[1]),
        Err(ThresholdError::InvalidPartial(ShareIndex::new(2).unwrap()))
    );
    // Only two valid partials: not enough.
    assert_eq!(
        set.combine(MSG, &partials).unwrap_err(),
        ThresholdError::NotEnoughShares { have: 2, need: 3 }
    );
    // Restore share 1: three valid partials, the bad one is named and excluded.
    partials[0] = shares[0].sign(MSG);
    let combined = set.combine(MSG, &partials).unwrap();
    assert_eq!(combined.signature, sk.sign(MSG));
    assert_eq!(combined.rejected, vec![ShareIndex::new(2).unwrap()]);
    assert_eq!(combined.signers.len(), t);
    assert!(!combined.signers.contains(&ShareIndex::new(2).unwrap()));
    // A partial from an index outside the set is rejected too.
    let mut foreign = shares[3].sign(MSG);
    foreign.index = ShareIndex::new(99).unwrap();
    assert_eq!(
        set.verify_partial(MSG, &foreign),
        Err(ThresholdError::UnknownIndex(ShareIndex::new(99).unwrap()))
    );
    // Duplicates of one valid partial count once.
    let dup = vec![partials[0]; 5];
    assert_eq!(
        set.combine(MSG, &dup).unwrap_err(),
        ThresholdError::NotEnoughShares { have: 1, need: 3 }
    );
}

#[test]
fn batch_verification_is_not_fooled_by_cancelling_errors() {
    let (_, shares, commitments) = setup(3, 4, 21);
    let set = commitments.public_key_set(&ShareIndex::range(4)).unwrap();
    let mut partials: Vec<PartialSignature> = shares.iter().map(|s| s.sign(MSG)).collect();
    assert!(set.verify_partials_batch(MSG, &partials));
    // Shift two partials by +X and −X: their plain sum is unchanged, each is wrong.
    let x = claystack_dvt::curve::G2::hash_to_curve(b"offset", b"test");
    let minus_x = x.mul(&Scalar::zero().sub(&Scalar::from_u64(1)));
    partials[0].signature =
        claystack_dvt::Signature::from_point(partials[0].signature.point().add(&x));
    partials[1].signature =
        claystack_dvt::Signature::from_point(partials[1].signature.point().add(&minus_x));
    let naive = partials
        .iter()
        .fold(claystack_dvt::curve::G2::identity(), |a, p| a.add(p.signature.point()));
    let honest = shares
        .iter()
        .fold(claystack_dvt::curve::G2::identity(), |a, s| a.add(s.sign(MSG).signature.point()));
    assert_eq!(naive, honest, "the forgery cancels in an unweighted sum");
    assert!(!set.verify_partials_batch(MSG, &partials));
    let (valid, rejected) = set.filter_valid(MSG, partials);
    assert_eq!(rejected, vec![ShareIndex::new(1).unwrap(), ShareIndex::new(2).unwrap()]);
    assert_eq!(valid.len(), 2);
    assert!(!set.verify_partials_batch(MSG, &[]));
}

#[test]
fn feldman_check_catches_bad_shares() {
    let (_, shares, commitments) = setup(3, 5, 3);
    for s in &shares {
        assert!(commitments.verify_share(s));
        assert_eq!(s.public_share().unwrap(), commitments.public_share(s.index()).unwrap());
    }
    // Value off by one.
    let bad = SecretShare::new(shares[0].index(), shares[0].secret().add(&Scalar::from_u64(1)));
    assert!(!commitments.verify_share(&bad));
    // Right value, wrong index.
    let moved = SecretShare::new(shares[1].index(), shares[0].secret().clone());
    assert!(!commitments.verify_share(&moved));
    // Commitments of another sharing of the same key reject these shares.
    let (_, _, other) = setup(3, 5, 4);
    assert!(!other.verify_share(&shares[2]));
}

#[test]
fn public_shares_interpolate_to_the_group_key() {
    let (sk, shares, commitments) = setup(4, 7, 11);
    let pubs: Vec<(ShareIndex, _)> =
        shares.iter().map(|s| (s.index(), s.public_share().unwrap())).collect();
    assert_eq!(combine_public_shares(&pubs[2..6]).unwrap(), sk.public_key());
    assert_ne!(combine_public_shares(&pubs[2..5]).unwrap(), sk.public_key());
    assert_eq!(commitments.threshold(), 4);
}

#[test]
fn operator_ids_work_as_indices() {
    // SSV numbers shares by operator id.
    let mut rng = StdRng::seed_from_u64(5);
    let sk = SecretKey::random(&mut rng);
    let ids: Vec<ShareIndex> =
        [17u64, 42, 108, 2001].iter().map(|i| ShareIndex::new(*i).unwrap()).collect();
    let (shares, commitments) = split(&sk, 3, &ids, &mut rng).unwrap();
    let set = commitments.public_key_set(&ids).unwrap();
    let partials: Vec<PartialSignature> = shares.iter().rev().map(|s| s.sign(MSG)).collect();
    let combined = set.combine(MSG, &partials).unwrap();
    assert_eq!(combined.signature, sk.sign(MSG));
    assert_eq!(combined.signers, ids[1..].iter().rev().copied().collect::<Vec<_>>());
}

#[test]
fn bad_parameters_are_rejected() {
    let mut rng = StdRng::seed_from_u64(9);
    let sk = SecretKey::random(&mut rng);
    let idx = ShareIndex::range(4);
    assert_eq!(
        split(&sk, 0, &idx, &mut rng).unwrap_err(),
        ThresholdError::InvalidThreshold { threshold: 0, shares: 4 }
    );
    assert_eq!(
        split(&sk, 5, &idx, &mut rng).unwrap_err(),
        ThresholdError::InvalidThreshold { threshold: 5, shares: 4 }
    );
    let dup = vec![idx[0], idx[1], idx[0]];
    assert_eq!(split(&sk, 2, &dup, &mut rng).unwrap_err(), ThresholdError::DuplicateIndex(idx[0]));
    assert_eq!(ShareIndex::new(0).unwrap_err(), ThresholdError::ZeroIndex);
    assert!(serde_json::from_str::<ShareIndex>("0").is_err());
    assert!(combine_partials(&[]).is_err());
    // Serialized commitments round-trip and reject garbage.
    let (_, _, commitments) = setup(2, 3, 1);
    let json = serde_json::to_string(&commitments).unwrap();
    assert_eq!(serde_json::from_str::<threshold::Commitments>(&json).unwrap(), commitments);
    assert!(serde_json::from_str::<threshold::Commitments>("[\"0x1234\"]").is_err());
    assert!(serde_json::from_str::<threshold::Commitments>("[]").is_err());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn random_subsets_combine(n in 1usize..=10, t_seed in any::<usize>(), seed in any::<u64>(), extra in 0usize..=10) {
        let t = 1 + t_seed % n;
        let mut rng = StdRng::seed_from_u64(seed);
        let sk = SecretKey::random(&mut rng);
        // Random distinct non-zero indices (operator-id style).
        let mut ids: Vec<u64> = (1..=(n as u64 * 50)).collect();
        ids.shuffle(&mut rng);
        let idx: Vec<ShareIndex> = ids[..n].iter().map(|i| ShareIndex::new(*i).unwrap()).collect();
        let (shares, commitments) = split(&sk, t, &idx, &mut rng).unwrap();
        let set = commitments.public_key_set(&idx).unwrap();
        let mut partials: Vec<PartialSignature> = shares.iter().map(|s| s.sign(MSG)).collect();
        partials.shuffle(&mut rng);
        let k = (t + extra).min(n);
        let combined = set.combine(MSG, &partials[..k]).unwrap();
        prop_assert_eq!(combined.signature, sk.sign(MSG));
        prop_assert!(sk.public_key().verify(MSG, &combined.signature));
        let mut chosen: Vec<SecretShare> = shares;
        chosen.shuffle(&mut rng);
        prop_assert_eq!(reconstruct_secret(&chosen[..t]).unwrap(), sk);
        if t > 1 {
            prop_assert!(set.combine(MSG, &partials[..t - 1]).is_err());
            let sig = combine_partials(&partials[..t - 1]).unwrap();
            prop_assert!(!set.group_public_key.verify(MSG, &sig));
        }
    }
}
