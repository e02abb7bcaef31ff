//! Distributed key generation: Joint-Feldman (Pedersen) with complaints, so that no party ever
//! holds the whole validator key. See `docs/adr/0100-dkg.md` for the choice.
//!
//! Each participant is a pure state machine; the caller ferries messages between them:
//!
//! 1. [`Participant::new`] — deal: pick a random polynomial `f_i` of degree `t − 1`, broadcast
//!    its Feldman commitments with a proof of possession of `f_i(0)` ([`DealerBroadcast`]), and
//!    send `f_i(j)` privately to every participant `j` ([`DealerShare`]; must travel encrypted
//!    and authenticated).
//! 2. [`Participant::round2`] — verify: check every received share against its dealer's
//!    commitments; broadcast a [`Complaint`] against each dealer whose share is missing or wrong.
//! 3. [`Participant::round3`] — answer: a dealer publicly reveals the share of each participant
//!    that complained about it ([`Justification`]).
//! 4. [`Participant::finish`] — decide: a dealer is disqualified if its broadcast is missing or
//!    malformed, its proof of possession fails, or a complaint against it is not answered by a
//!    share that matches its commitments. The group key is the sum of the qualified dealers'
//!    constant commitments; each participant's share is the sum of the qualified dealers'
//!    shares to it.
//!
//! Broadcast messages are assumed to reach every participant identically (a reliable
//! broadcast channel); given that, every honest participant computes the same qualified set
//! and the same group key.

use crate::bls::{PublicKey, Signature};
use crate::curve::Scalar;
use crate::threshold::{
    Commitments, Polynomial, PublicKeySet, SecretShare, ShareIndex, ThresholdError, check_distinct,
};
use rand::RngCore;
use serde::{Deserialize, Deserializer, Serialize, Serializer, de::Error as _};
use std::collections::{BTreeMap, BTreeSet};

/// Why a DKG step failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DkgError {
    /// A step was called out of order.
    #[error("dkg step called in the wrong phase: expected {expected}")]
    WrongPhase {
        /// The step that was expected.
        expected: &'static str,
    },
    /// This participant is not in the configured set.
    #[error("participant {0} is not part of this dkg")]
    NotAParticipant(ShareIndex),
    /// Fewer dealers than the threshold survived disqualification.
    #[error("only {qualified} dealers qualified, need at least {threshold}")]
    TooFewQualified {
        /// Qualified dealers.
        qualified: usize,
        /// Threshold.
        threshold: usize,
    },
    /// A qualified dealer's share to us is neither valid nor justified (cannot happen when the
    /// broadcast channel is reliable).
    #[error("no valid share from qualified dealer {0}")]
    MissingShare(ShareIndex),
    /// Threshold parameters or arithmetic.
    #[error(transparent)]
    Threshold(#[from] ThresholdError),
}

/// Public parameters every participant agrees on before the DKG starts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DkgConfig {
    /// A unique id for this run, bound into every message and proof (replay protection).
    #[serde(with = "claystack_consensus::hexutil::fixed")]
    pub session: [u8; 32],
    /// Number of shares needed to sign.
    pub threshold: usize,
    /// The participants' indices (their x-coordinates).
    pub participants: Vec<ShareIndex>,
}

impl DkgConfig {
    /// Validates the parameters: distinct indices, `1 <= t <= n`.
    pub fn new(
        session: [u8; 32],
        threshold: usize,
        participants: Vec<ShareIndex>,
    ) -> Result<Self, DkgError> {
        check_distinct(&participants)?;
        if threshold == 0 || threshold > participants.len() {
            return Err(
                ThresholdError::InvalidThreshold { threshold, shares: participants.len() }.into()
            );
        }
        Ok(Self { session, threshold, participants })
    }

    fn pop_message(&self, dealer: ShareIndex) -> Vec<u8> {
        let mut m = b"claystack-dkg-pop-v1".to_vec();
        m.extend_from_slice(&self.session);
        m.extend_from_slice(&dealer.get().to_be_bytes());
        m
    }
}

/// Round 1 broadcast of a dealer: commitments to its polynomial and a proof of possession of
/// its constant term (a BLS signature under `C_0` over the session and dealer index), which
/// stops a rushing dealer from choosing its `C_0` as a function of the others'.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DealerBroadcast {
    /// Session id.
    #[serde(with = "claystack_consensus::hexutil::fixed")]
    pub session: [u8; 32],
    /// The dealer.
    pub dealer: ShareIndex,
    /// Feldman commitments `a_j · G1`.
    pub commitments: Commitments,
    /// Proof of possession of `a_0`.
    pub proof: Signature,
}

/// Round 1 private message: `f_dealer(recipient)`. Secret: send encrypted and authenticated.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DealerShare {
    /// Session id.
    #[serde(with = "claystack_consensus::hexutil::fixed")]
    pub session: [u8; 32],
    /// The dealer.
    pub dealer: ShareIndex,
    /// The recipient's share of the dealer's polynomial (its index is the recipient).
    #[serde(with = "share_serde")]
    pub share: SecretShare,
}

/// Round 2 broadcast: `complainer` says its share from `dealer` is missing or wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Complaint {
    /// Session id.
    #[serde(with = "claystack_consensus::hexutil::fixed")]
    pub session: [u8; 32],
    /// Who complains.
    pub complainer: ShareIndex,
    /// About whom.
    pub dealer: ShareIndex,
}

/// Round 3 broadcast: a dealer publicly reveals the share of a participant that complained.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Justification {
    /// Session id.
    #[serde(with = "claystack_consensus::hexutil::fixed")]
    pub session: [u8; 32],
    /// The dealer answering.
    pub dealer: ShareIndex,
    /// The revealed share (its index is the complainer).
    #[serde(with = "share_serde")]
    pub share: SecretShare,
}

/// What a participant's dealing produces in round 1.
#[derive(Clone, Debug)]
pub struct Round1 {
    /// To broadcast to everyone.
    pub broadcast: DealerBroadcast,
    /// One private share per other participant.
    pub shares: Vec<DealerShare>,
}

/// The result of a successful DKG for one participant.
#[derive(Clone, Debug)]
pub struct DkgOutput {
    /// This participant's share of the group key.
    pub share: SecretShare,
    /// Group key and every participant's public share.
    pub public_key_set: PublicKeySet,
    /// Commitments to the joint polynomial (sum over qualified dealers).
    pub commitments: Commitments,
    /// Dealers whose polynomials make up the key.
    pub qualified: Vec<ShareIndex>,
    /// Dealers excluded for cheating or silence.
    pub disqualified: Vec<ShareIndex>,
}

#[derive(Debug)]
enum Phase {
    Dealt,
    Verified,
    Answered,
    Done,
}

/// One participant of the DKG (a pure state machine; no I/O).
#[derive(Debug)]
pub struct Participant {
    config: DkgConfig,
    me: ShareIndex,
    poly: Polynomial,
    phase: Phase,
    /// Valid dealer broadcasts, by dealer.
    broadcasts: BTreeMap<ShareIndex, Commitments>,
    /// Shares received that verified, by dealer.
    shares: BTreeMap<ShareIndex, SecretShare>,
    /// All complaints seen, deduplicated.
    complaints: BTreeSet<(ShareIndex, ShareIndex)>,
}

impl Participant {
    /// Starts the DKG for participant `me`: deals a random polynomial.
    pub fn new<R: RngCore + ?Sized>(
        config: DkgConfig,
        me: ShareIndex,
        rng: &mut R,
    ) -> Result<(Self, Round1), DkgError> {
        if !config.participants.contains(&me) {
            return Err(DkgError::NotAParticipant(me));
        }
        let poly = Polynomial::random(Scalar::random_nonzero(rng), config.threshold, rng)?;
        let commitments = poly.commitments();
        let a0 = poly.constant().ok_or(ThresholdError::CommitmentLength)?;
        let a0 = SecretShare::new(me, a0.clone()).to_secret_key()?;
        let proof = a0.sign(&config.pop_message(me));
        let broadcast = DealerBroadcast { session: config.session, dealer: me, commitments, proof };
        let shares = config
            .participants
            .iter()
            .filter(|j| **j != me)
            .map(|j| DealerShare {
                session: config.session,
                dealer: me,
                share: SecretShare::new(*j, poly.evaluate(*j)),
            })
            .collect();
        let mut own = BTreeMap::new();
        own.insert(me, SecretShare::new(me, poly.evaluate(me)));
        let p = Self {
            config,
            me,
            poly,
            phase: Phase::Dealt,
            broadcasts: BTreeMap::new(),
            shares: own,
            complaints: BTreeSet::new(),
        };
        Ok((p, Round1 { broadcast, shares }))
    }

    /// This participant's index.
    pub fn index(&self) -> ShareIndex {
        self.me
    }

    /// Round 2: takes every dealer broadcast *as the broadcast channel delivered it, our own
    /// included* (so that every participant judges the same messages and reaches the same
    /// verdict), and the private shares addressed to us (others are ignored); verifies them and
    /// returns the complaints to broadcast.
    pub fn round2(
        &mut self,
        broadcasts: &[DealerBroadcast],
        shares: &[DealerShare],
    ) -> Result<Vec<Complaint>, DkgError> {
        if !matches!(self.phase, Phase::Dealt) {
            return Err(DkgError::WrongPhase { expected: "round2" });
        }
        for b in broadcasts {
            if b.session != self.config.session
                || !self.config.participants.contains(&b.dealer)
                || self.broadcasts.contains_key(&b.dealer)
                || b.commitments.threshold() != self.config.threshold
            {
                continue;
            }
            let Ok(c0) = b.commitments.group_public_key() else { continue };
            if !c0.verify(&self.config.pop_message(b.dealer), &b.proof) {
                continue;
            }
            self.broadcasts.insert(b.dealer, b.commitments.clone());
        }
        for s in shares {
            if s.session != self.config.session || s.share.index() != self.me || s.dealer == self.me
            {
                continue;
            }
            let Some(c) = self.broadcasts.get(&s.dealer) else { continue };
            if c.verify_share(&s.share) && !self.shares.contains_key(&s.dealer) {
                self.shares.insert(s.dealer, s.share.clone());
            }
        }
        let complaints: Vec<Complaint> = self
            .broadcasts
            .keys()
            .filter(|d| !self.shares.contains_key(*d))
            .map(|d| Complaint { session: self.config.session, complainer: self.me, dealer: *d })
            .collect();
        self.phase = Phase::Verified;
        Ok(complaints)
    }

    /// Round 3: takes every complaint broadcast (including our own) and returns the
    /// justifications this participant, as a dealer, must broadcast.
    pub fn round3(&mut self, complaints: &[Complaint]) -> Result<Vec<Justification>, DkgError> {
        if !matches!(self.phase, Phase::Verified) {
            return Err(DkgError::WrongPhase { expected: "round3" });
        }
        for c in complaints {
            if c.session == self.config.session
                && self.config.participants.contains(&c.complainer)
                && self.config.participants.contains(&c.dealer)
                && c.complainer != c.dealer
            {
                self.complaints.insert((c.dealer, c.complainer));
            }
        }
        let answers = self
            .complaints
            .iter()
            .filter(|(d, _)| *d == self.me)
            .map(|(_, complainer)| Justification {
                session: self.config.session,
                dealer: self.me,
                share: SecretShare::new(*complainer, self.poly.evaluate(*complainer)),
            })
            .collect();
        self.phase = Phase::Answered;
        Ok(answers)
    }

    /// Final step: takes every justification broadcast, decides the qualified set and computes
    /// this participant's share and the group key.
    pub fn finish(&mut self, justifications: &[Justification]) -> Result<DkgOutput, DkgError> {
        if !matches!(self.phase, Phase::Answered) {
            return Err(DkgError::WrongPhase { expected: "finish" });
        }
        let mut qualified = Vec::new();
        let mut disqualified = Vec::new();
        for dealer in &self.config.participants {
            let Some(commitments) = self.broadcasts.get(dealer) else {
                disqualified.push(*dealer);
                continue;
            };
            let mut ok = true;
            for (_, complainer) in self.complaints.iter().filter(|(d, _)| d == dealer) {
                let answer = justifications.iter().find(|j| {
                    j.session == self.config.session
                        && j.dealer == *dealer
                        && j.share.index() == *complainer
                });
                match answer {
                    Some(j) if commitments.verify_share(&j.share) => {
                        if *complainer == self.me {
                            self.shares.insert(*dealer, j.share.clone());
                        }
                    }
                    _ => ok = false,
                }
            }
            if ok {
                qualified.push(*dealer);
            } else {
                disqualified.push(*dealer);
            }
        }
        if qualified.len() < self.config.threshold {
            return Err(DkgError::TooFewQualified {
                qualified: qualified.len(),
                threshold: self.config.threshold,
            });
        }
        let mut secret = Scalar::zero();
        let mut joint: Option<Commitments> = None;
        for dealer in &qualified {
            let share = self.shares.get(dealer).ok_or(DkgError::MissingShare(*dealer))?;
            secret = secret.add(share.secret());
            let c = self.broadcasts.get(dealer).ok_or(DkgError::MissingShare(*dealer))?;
            joint = Some(match joint {
                None => c.clone(),
                Some(acc) => acc.add(c)?,
            });
        }
        let commitments = joint
            .ok_or(DkgError::TooFewQualified { qualified: 0, threshold: self.config.threshold })?;
        let share = SecretShare::new(self.me, secret);
        if !commitments.verify_share(&share) {
            return Err(ThresholdError::ShareMismatch(self.me).into());
        }
        let public_key_set = commitments.public_key_set(&self.config.participants)?;
        // The dealt polynomial is no longer needed; received shares neither.
        self.shares.clear();
        self.phase = Phase::Done;
        Ok(DkgOutput { share, public_key_set, commitments, qualified, disqualified })
    }
}

/// Runs a complete DKG in-process among `participants` (all honest, messages delivered
/// directly) and returns every participant's output, in the order of `participants`.
pub fn run_local<R: RngCore + ?Sized>(
    config: &DkgConfig,
    rng: &mut R,
) -> Result<Vec<DkgOutput>, DkgError> {
    let mut parts = Vec::new();
    let mut broadcasts = Vec::new();
    let mut shares = Vec::new();
    for me in &config.participants {
        let (p, r1) = Participant::new(config.clone(), *me, rng)?;
        parts.push(p);
        broadcasts.push(r1.broadcast);
        shares.extend(r1.shares);
    }
    let mut complaints = Vec::new();
    for p in &mut parts {
        complaints.extend(p.round2(&broadcasts, &shares)?);
    }
    let mut justifications = Vec::new();
    for p in &mut parts {
        justifications.extend(p.round3(&complaints)?);
    }
    parts.iter_mut().map(|p| p.finish(&justifications)).collect()
}

/// A random session id.
pub fn random_session<R: RngCore + ?Sized>(rng: &mut R) -> [u8; 32] {
    let mut s = [0u8; 32];
    rng.fill_bytes(&mut s);
    s
}

/// The group key of a finished DKG as a [`PublicKey`] (convenience for callers).
pub fn group_public_key(output: &DkgOutput) -> PublicKey {
    output.public_key_set.group_public_key
}

mod share_serde {
    use super::*;

    #[derive(Serialize, Deserialize)]
    struct Wire {
        index: ShareIndex,
        secret: String,
    }

    pub(super) fn serialize<S: Serializer>(v: &SecretShare, s: S) -> Result<S::Ok, S::Error> {
        let secret = zeroize::Zeroizing::new(hex::encode(*v.to_bytes()));
        Wire { index: v.index(), secret: format!("0x{}", secret.as_str()) }.serialize(s)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<SecretShare, D::Error> {
        let mut w = Wire::deserialize(d)?;
        let decoded = claystack_consensus::hexutil::decode_fixed::<32>(&w.secret);
        zeroize::Zeroize::zeroize(&mut w.secret);
        let bytes = zeroize::Zeroizing::new(decoded.map_err(D::Error::custom)?);
        let s = Scalar::from_be_bytes(&bytes)
            .ok_or_else(|| D::Error::custom("share is not below the group order"))?;
        Ok(SecretShare::new(w.index, s))
    }
}
