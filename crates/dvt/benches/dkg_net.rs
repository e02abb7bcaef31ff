//! Networked DKG over loopback HTTP: every participant a separate task with its own endpoint,
//! signed and sealed messages, echo rounds and the threshold-signed deposit, as
//! `claystack dvt dkg run` does between machines. Identities and the signed definition are
//! set up outside the timed part.
//!
//! `cargo bench -p claystack-dvt --bench dkg_net`

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use claystack_dvt::netdkg::{self, ClusterDefinition, DefinitionMember, Identity, NetDkgConfig};
use claystack_dvt::threshold::ShareIndex;
use criterion::{BatchSize, BenchmarkId, Criterion, criterion_group, criterion_main};
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
        name: "bench".into(),
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
    Setup { definition, identities, listeners }
}

async fn run(s: Setup) {
    let config = NetDkgConfig::new(Duration::from_secs(60));
    let mut tasks = Vec::new();
    for (id, l) in s.identities.into_iter().zip(s.listeners) {
        let d = s.definition.clone();
        let c = config.clone();
        tasks.push(tokio::spawn(async move { netdkg::run(&d, &id, l, &c).await }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
}

fn networked_dkg(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let mut group = c.benchmark_group("dkg_net");
    group.sample_size(10);
    for (t, n) in [(3usize, 4u64), (9, 13)] {
        group.bench_function(BenchmarkId::new("loopback", format!("{t}-of-{n}")), |b| {
            b.iter_batched(
                || rt.block_on(setup(n, t)),
                |s| rt.block_on(run(s)),
                BatchSize::PerIteration,
            );
        });
    }
    group.finish();
}

criterion_group!(benches, networked_dkg);
criterion_main!(benches);
