//! Networked DKG over real loopback HTTP, participants as tasks: honest runs, an equivocating
//! dealer, a dealer sending a bad share, forged / tampered / replayed / misaddressed messages
//! and a member that never shows up.

use claystack_dvt::cluster::KeyGenMethod;
use claystack_dvt::netdkg::{
    self, ClusterDefinition, DefinitionMember, Envelope, Fault, Identity, NetDkgConfig,
    NetDkgError, NetDkgOutput, Round,
};
use claystack_dvt::threshold::ShareIndex;
use claystack_keys::deposit::{DepositNetwork, VerifyExpectations, verify_entry};
use std::collections::BTreeMap;
use std::time::Duration;
use tokio::net::TcpListener;

struct Setup {
    definition: ClusterDefinition,
    identities: Vec<Identity>,
    listeners: Vec<TcpListener>,
}

async fn setup(n: u64, t: usize) -> Setup {
    let mut rng = rand::rngs::OsRng;
    let mut identities = Vec::new();
    let mut listeners = Vec::new();
    let mut members = Vec::new();
    for i in ShareIndex::range(n) {
        let id = Identity::generate(&mut rng);
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        members.push(DefinitionMember {
            index: i,
            node_address: format!("http://127.0.0.1:{}", 20_000 + i.get()),
            dkg_address: format!("http://{}", l.local_addr().unwrap()),
            identity: id.public(),
        });
        identities.push(id);
        listeners.push(l);
    }
    let mut definition = ClusterDefinition {
        version: 1,
        name: "net-test".into(),
        network: "holesky".into(),
        threshold: t,
        withdrawal_address: "0x0f51bb10119727a7e5ea3538074fb341f56b09ad".into(),
        amount_gwei: 32_000_000_000,
        session: claystack_dvt::dkg::random_session(&mut rng),
        members,
        signatures: BTreeMap::new(),
    };
    for id in &identities {
        definition.sign(id).unwrap();
    }
    definition.verify().unwrap();
    Setup { definition, identities, listeners }
}

/// Runs every member (or those in `skip` stay away) with its config; returns results by index.
async fn run_all(
    setup: Setup,
    config: impl Fn(ShareIndex) -> NetDkgConfig,
    skip: &[u64],
) -> BTreeMap<u64, Result<NetDkgOutput, NetDkgError>> {
    let Setup { definition, identities, listeners } = setup;
    let mut tasks = Vec::new();
    for ((id, l), m) in identities.into_iter().zip(listeners).zip(definition.members.clone()) {
        if skip.contains(&m.index.get()) {
            continue;
        }
        let d = definition.clone();
        let c = config(m.index);
        tasks.push((m.index.get(), tokio::spawn(async move { netdkg::run(&d, &id, l, &c).await })));
    }
    let mut out = BTreeMap::new();
    for (i, t) in tasks {
        out.insert(i, t.await.unwrap());
    }
    out
}

fn honest(timeout: Duration) -> impl Fn(ShareIndex) -> NetDkgConfig {
    move |_| NetDkgConfig::new(timeout)
}

fn check_agreement(outputs: &[&NetDkgOutput]) {
    let first = outputs[0];
    let set = first.description.validate().unwrap();
    let network = DepositNetwork::by_name("holesky").unwrap();
    for o in outputs {
        assert_eq!(o.description, first.description, "every member computes the same description");
        assert_eq!(o.deposit, first.deposit, "every member computes the same deposit data");
        assert!(first.description.commitments.verify_share(&o.share));
        assert_eq!(set.public_shares.get(&o.share.index()), Some(&o.share.public_share().unwrap()));
    }
    assert_eq!(first.description.key_generation.method, KeyGenMethod::NetworkedDkg);
    assert!(first.description.key_generation.definition_hash.is_some());
    verify_entry(0, &first.deposit, &network, &VerifyExpectations::default()).unwrap();
    assert_eq!(first.deposit.pubkey, first.description.group_public_key.to_bytes());
    // Any t shares sign for the group key.
    let msg = b"any message";
    let partials: Vec<_> = outputs.iter().take(set.threshold).map(|o| o.share.sign(msg)).collect();
    let combined = set.combine(msg, &partials).unwrap();
    assert!(first.description.group_public_key.verify(msg, &combined.signature));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn four_members_agree_on_key_description_and_deposit() {
    let results = run_all(setup(4, 3).await, honest(Duration::from_secs(30)), &[]).await;
    let outputs: Vec<&NetDkgOutput> =
        results.values().map(|r| r.as_ref().expect("honest run succeeds")).collect();
    assert_eq!(outputs.len(), 4);
    check_agreement(&outputs);
    assert!(outputs[0].description.key_generation.disqualified.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn seven_members_with_non_contiguous_indices() {
    let mut s = setup(7, 5).await;
    // SSV-style operator ids: re-index and re-sign.
    for (m, id) in s.definition.members.iter_mut().zip([17u64, 42, 108, 2001, 5, 9, 77]) {
        m.index = ShareIndex::new(id).unwrap();
    }
    s.definition.signatures.clear();
    for id in &s.identities {
        s.definition.sign(id).unwrap();
    }
    let results = run_all(s, honest(Duration::from_secs(30)), &[]).await;
    let outputs: Vec<&NetDkgOutput> = results.values().map(|r| r.as_ref().unwrap()).collect();
    check_agreement(&outputs);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn equivocating_dealer_aborts_the_run_and_is_named() {
    let victim = ShareIndex::new(2).unwrap();
    let cheater = ShareIndex::new(4).unwrap();
    let config = move |i: ShareIndex| {
        let mut c = NetDkgConfig::new(Duration::from_secs(10));
        if i == cheater {
            c.fault = Some(Fault::EquivocateDeal { victim });
        }
        c
    };
    let results = run_all(setup(4, 3).await, config, &[]).await;
    let mut named = 0;
    for (i, r) in &results {
        match r {
            Ok(_) => panic!("member {i} finished a run with an equivocating dealer"),
            Err(NetDkgError::BroadcastInconsistent { round: Round::Deal, sender, .. }) => {
                assert_eq!(*sender, cheater, "member {i} blames the equivocator");
                named += 1;
            }
            Err(NetDkgError::AbortedByPeer { .. }) => {}
            Err(e) => panic!("member {i}: unexpected error {e}"),
        }
    }
    assert!(named >= 1, "at least one honest member names the equivocator: {results:?}");
    for i in [1, 2, 3] {
        assert!(
            matches!(
                results[&i],
                Err(NetDkgError::BroadcastInconsistent { .. } | NetDkgError::AbortedByPeer { .. })
            ),
            "honest member {i} stops with a clear error: {:?}",
            results[&i]
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dealer_with_a_bad_share_is_disqualified_by_everyone() {
    let victim = ShareIndex::new(1).unwrap();
    let cheater = ShareIndex::new(4).unwrap();
    let config = move |i: ShareIndex| {
        let mut c = NetDkgConfig::new(Duration::from_secs(30));
        if i == cheater {
            c.fault = Some(Fault::BadShare { victim });
        }
        c
    };
    let results = run_all(setup(4, 3).await, config, &[]).await;
    let outputs: Vec<&NetDkgOutput> =
        results.values().map(|r| r.as_ref().expect("the run survives one bad dealer")).collect();
    check_agreement(&outputs);
    assert_eq!(outputs[0].description.key_generation.disqualified, vec![cheater]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn member_that_never_shows_up_times_out_cleanly() {
    let started = std::time::Instant::now();
    let results = run_all(setup(4, 3).await, honest(Duration::from_secs(2)), &[4]).await;
    assert_eq!(results.len(), 3);
    let four = ShareIndex::new(4).unwrap();
    let mut timeouts = 0;
    for (i, r) in &results {
        match r {
            Err(NetDkgError::Timeout { round: Round::Deal, missing, .. }) => {
                assert_eq!(missing, &vec![four], "member {i} names the absent member");
                timeouts += 1;
            }
            Err(NetDkgError::AbortedByPeer { .. }) => {}
            other => panic!("member {i}: expected a timeout, got {other:?}"),
        }
    }
    assert!(timeouts >= 1);
    assert!(started.elapsed() < Duration::from_secs(20), "the run ends soon after the timeout");
}

/// One member (index 1) running with a long timeout; messages posted to it by hand.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_tampered_replayed_and_conflicting_messages_are_refused() {
    let s = setup(4, 3).await;
    let definition = s.definition.clone();
    let hash = definition.hash().unwrap();
    let url = format!("{}{}", definition.members[0].dkg_address, netdkg::MESSAGE_PATH);
    let mut ids = s.identities.into_iter();
    let id1 = ids.next().unwrap();
    let id2 = ids.next().unwrap();
    let id3 = ids.next().unwrap();
    let mut listeners = s.listeners.into_iter();
    let l1 = listeners.next().unwrap();
    let d = definition.clone();
    let task = tokio::spawn(async move {
        netdkg::run(&d, &id1, l1, &NetDkgConfig::new(Duration::from_secs(5))).await
    });
    let http = reqwest::Client::new();
    let two = ShareIndex::new(2).unwrap();
    let one = ShareIndex::new(1).unwrap();
    let post = |env: serde_json::Value| {
        let http = http.clone();
        let url = url.clone();
        async move {
            let deadline = std::time::Instant::now() + Duration::from_secs(5);
            loop {
                if let Ok(r) = http.post(&url).json(&env).send().await {
                    return r.status().as_u16();
                }
                assert!(std::time::Instant::now() < deadline, "member 1 did not come up");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    };
    let good = Envelope::sign(&id2, &hash, Round::Complaints, two, None, b"[]");
    // Tampered body: the signature no longer covers it.
    let mut tampered = serde_json::to_value(&good).unwrap();
    tampered["body"] = serde_json::Value::String("0x5b5d20".into());
    assert_eq!(post(tampered).await, 400, "tampered body");
    // Forged: claims to come from 2, signed by 3.
    let forged = Envelope::sign(&id3, &hash, Round::Complaints, two, None, b"[]");
    assert_eq!(post(serde_json::to_value(&forged).unwrap()).await, 400, "forged sender");
    // Replayed from another run (another definition hash).
    let other_run = Envelope::sign(&id2, &[7u8; 32], Round::Complaints, two, None, b"[]");
    assert_eq!(post(serde_json::to_value(&other_run).unwrap()).await, 400, "other run");
    // A private message for someone else, and a broadcast claiming to come from the receiver.
    let misaddressed =
        Envelope::sign(&id2, &hash, Round::Share, two, Some(ShareIndex::new(3).unwrap()), b"x");
    assert_eq!(post(serde_json::to_value(&misaddressed).unwrap()).await, 400, "misaddressed");
    let from_self = Envelope::sign(&id2, &hash, Round::Complaints, one, None, b"[]");
    assert_eq!(post(serde_json::to_value(&from_self).unwrap()).await, 400, "from self");
    // Unknown sender.
    let mut unknown = serde_json::to_value(&good).unwrap();
    unknown["from"] = serde_json::json!(99);
    assert_eq!(post(unknown).await, 400, "unknown sender");
    // The genuine message is accepted, again idempotently; a different one for the same slot
    // is an equivocation.
    assert_eq!(post(serde_json::to_value(&good).unwrap()).await, 200);
    assert_eq!(post(serde_json::to_value(&good).unwrap()).await, 200);
    let conflicting = Envelope::sign(&id2, &hash, Round::Complaints, two, None, b"[ ]");
    assert_eq!(post(serde_json::to_value(&conflicting).unwrap()).await, 409);
    match task.await.unwrap() {
        Err(NetDkgError::Equivocation { round: Round::Complaints, sender }) => {
            assert_eq!(sender, two);
        }
        other => panic!("expected the equivocation to end the run, got {other:?}"),
    }
}

#[tokio::test]
async fn a_definition_missing_a_signature_or_altered_after_signing_is_refused() {
    let mut s = setup(4, 3).await;
    let id = s.identities.remove(0);
    let l = s.listeners.remove(0);
    let mut altered = s.definition.clone();
    altered.threshold = 2;
    let err = netdkg::run(&altered, &id, l, &NetDkgConfig::new(Duration::from_secs(1)))
        .await
        .unwrap_err();
    assert!(
        matches!(err, NetDkgError::Definition(netdkg::DefinitionError::BadSignature(_))),
        "{err}"
    );
    let mut unsigned = s.definition.clone();
    unsigned.signatures.remove(&ShareIndex::new(3).unwrap());
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let err = netdkg::run(&unsigned, &id, l, &NetDkgConfig::new(Duration::from_secs(1)))
        .await
        .unwrap_err();
    assert!(matches!(err, NetDkgError::Definition(netdkg::DefinitionError::Unsigned(_))), "{err}");
}

#[test]
fn sealed_shares_open_only_for_their_recipient_and_context() {
    let mut rng = rand::rngs::OsRng;
    let alice = Identity::generate(&mut rng);
    let bob = Identity::generate(&mut rng);
    let (one, two) = (ShareIndex::new(1).unwrap(), ShareIndex::new(2).unwrap());
    let h = [1u8; 32];
    let sealed =
        netdkg::wire::seal(&h, Round::Share, one, two, &bob.public(), b"secret", &mut rng).unwrap();
    assert_eq!(&*netdkg::wire::open(&bob, &h, Round::Share, one, two, &sealed).unwrap(), b"secret");
    assert!(netdkg::wire::open(&alice, &h, Round::Share, one, two, &sealed).is_err());
    assert!(netdkg::wire::open(&bob, &[2u8; 32], Round::Share, one, two, &sealed).is_err());
    assert!(netdkg::wire::open(&bob, &h, Round::Share, two, two, &sealed).is_err());
    let mut flipped = sealed.clone();
    let last = flipped.len() - 1;
    flipped[last] ^= 1;
    assert!(netdkg::wire::open(&bob, &h, Round::Share, one, two, &flipped).is_err());
    assert!(netdkg::wire::open(&bob, &h, Round::Share, one, two, &sealed[..40]).is_err());
    // Identity files round-trip and refuse mismatched public keys.
    let json = alice.to_json().unwrap();
    assert_eq!(Identity::from_json(&json).unwrap().public(), alice.public());
    let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
    v["identity_key"] = serde_json::to_value(bob.public()).unwrap()["identity_key"].clone();
    assert!(Identity::from_json(&v.to_string()).is_err());
}
