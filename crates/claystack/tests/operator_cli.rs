//! `claystack operator …` against a real anvil with the deployed contracts: Home and DVT
//! registration with bonds, governance instructions for Professional operators, deposit data for
//! the pool's withdrawal vault uploaded as keys, bond top-up and claims, status.

mod staker_chain;

use staker_chain::{Chain, KEYS};

const MNEMONIC: &str =
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";

#[test]
fn operator_commands_against_anvil() {
    let chain = Chain::start(3_133_713);
    let home = Some(KEYS[9]);
    let dir = tempfile::tempdir().unwrap();
    let mnemonic = dir.path().join("mnemonic.txt");
    std::fs::write(&mnemonic, MNEMONIC).unwrap();
    let mnemonic = mnemonic.to_str().unwrap();

    // a bond below the registration minimum is refused in words, before sending
    let err = chain
        .claystack(&["operator", "register", "--type", "home", "--bond", "0.1eth"], home)
        .failure();
    assert!(err.contains("bond too low: 0.1 ETH sent, registration needs at least"), "{err}");
    assert!(!err.contains("sent 0x"), "{err}");

    // Home: the registration minimum by default
    let out = chain.claystack(&["operator", "register", "--type", "home"], home).success();
    assert!(out.contains("mined in block"), "{out}");
    let id = out
        .lines()
        .find_map(|l| l.strip_prefix("registered home operator #"))
        .and_then(|l| l.split_whitespace().next())
        .unwrap_or_else(|| panic!("no operator id in {out}"))
        .to_owned();
    assert!(out.contains("with a bond of 2 ETH"), "{out}");

    // Professional: governance must admit it; the exact call is printed, nothing is sent
    let out = chain.claystack(&["operator", "register", "--type", "professional"], home).success();
    assert!(out.contains("governance admits them"), "{out}");
    assert!(out.contains(&format!("target   {}", chain.address("operatorRegistry"))), "{out}");
    assert!(out.contains("calldata 0x"), "{out}");
    assert!(!out.contains("mined"), "{out}");

    // keys: deposit data for 0x01 ‖ WithdrawalVault, uploaded; the file is deposit-CLI JSON
    let dd = dir.path().join("deposit_data.json");
    let dd_arg = dd.to_str().unwrap();
    let out = chain
        .claystack(
            &[
                "operator",
                "keys",
                "add",
                "--count",
                "3",
                "--mnemonic-file",
                mnemonic,
                "--out",
                dd_arg,
            ],
            home,
        )
        .success();
    assert!(out.contains(&format!("added 3 keys to operator #{id} in 1 transaction(s)")), "{out}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&dd).unwrap()).unwrap();
    let entries = json.as_array().unwrap();
    assert_eq!(entries.len(), 3);
    let vault = chain.address("withdrawalVault").to_lowercase();
    let creds = entries[0]["withdrawal_credentials"].as_str().unwrap();
    assert_eq!(creds, format!("010000000000000000000000{}", &vault[2..]));
    assert_eq!(entries[0]["amount"], 1_000_000_000);
    // the same keys again: refused in words
    let err = chain
        .claystack(&["operator", "keys", "add", "--count", "1", "--mnemonic-file", mnemonic], home)
        .failure();
    assert!(err.contains("key already registered"), "{err}");

    let out = chain.claystack(&["operator", "status"], home).success();
    assert!(out.contains(&format!("operator     #{id} (home)")), "{out}");
    assert!(out.contains("keys         3 total"), "{out}");
    assert!(out.contains("bond         2 ETH"), "{out}");
    assert!(out.contains("exit requests none"), "{out}");

    // bond: top up, then claim what is above the requirement (or be told there is nothing)
    let out = chain.claystack(&["operator", "bond", "top-up", "5eth"], home).success();
    assert!(out.contains(&format!("bond of operator #{id} topped up by 5 ETH")), "{out}");
    let out = chain.claystack(&["operator", "status", "--operator-id", &id], None).success();
    assert!(out.contains("bond         7 ETH"), "{out}");
    let run = chain.claystack(&["operator", "bond", "claim-excess"], home);
    if run.ok {
        assert!(run.stdout.contains(&format!("bond shares of operator #{id}")), "{}", run.stdout);
    } else {
        assert!(run.stderr.contains("no bond above its requirement"), "{}", run.stderr);
    }

    // exits: no open request, so nothing is signed (the beacon node is not even asked)
    let out = chain
        .claystack(&["operator", "exit", "--mnemonic-file", mnemonic, "--count", "3"], home)
        .success();
    assert!(out.contains("watching exit requests with 3 keys"), "{out}");
    assert!(out.contains("no open exit requests"), "{out}");

    // DVT cluster: 3 of 4 with the registration bond
    let members = [
        "0x1000000000000000000000000000000000000001",
        "0x1000000000000000000000000000000000000002",
        "0x1000000000000000000000000000000000000003",
        "0x1000000000000000000000000000000000000004",
    ]
    .join(",");
    let out = chain
        .claystack(
            &["operator", "register", "--type", "dvt", "--members", &members, "--threshold", "3"],
            Some(KEYS[8]),
        )
        .success();
    assert!(out.contains("registered DVT cluster #") && out.contains("(3 of 4)"), "{out}");

    // rewards: no root before any report; claiming says so in words, and without a proof
    // source the status still reads the chain
    let out = chain.claystack(&["operator", "rewards", "status"], home).success();
    assert!(out.contains("rewards root none yet"), "{out}");
    let tree = dir.path().join("tree.json");
    std::fs::write(&tree, "{}").unwrap();
    let err = chain
        .claystack(&["operator", "rewards", "claim", "--tree", tree.to_str().unwrap()], home)
        .failure();
    assert!(err.contains("no rewards root on chain yet"), "{err}");

    // a root on chain paying two accounts; a member that answers with the other account's
    // valid proof (or a man in the middle on plain HTTP) is refused before anything is sent,
    // an honest member's proof pays the account asked about
    use claystack_client::{Address, U256, rewards::tree_proof};
    let victim = Address::repeat_byte(0xa1);
    let other = Address::repeat_byte(0xb2);
    let leaves = [(victim, U256::from(1_000u64)), (other, U256::from(2_000u64))];
    let (root, _) = tree_proof(&leaves, victim).unwrap();
    let rewards = chain.address("operatorRewards");
    let token = chain.cast(&["call", &rewards, "token()(address)"]);
    let stake_pool = chain.address("stakePool");
    chain.cast(&["send", "--private-key", KEYS[7], &stake_pool, "deposit()", "--value", "1ether"]);
    chain.cast(&[
        "send",
        "--private-key",
        KEYS[7],
        &token,
        "transfer(address,uint256)",
        &rewards,
        "3000",
    ]);
    let module = chain.address("operatorsModule");
    chain.cast(&["rpc", "anvil_impersonateAccount", &module]);
    chain.cast(&["rpc", "anvil_setBalance", &module, "0xde0b6b3a7640000"]);
    chain.cast(&[
        "send",
        "--from",
        &module,
        "--unlocked",
        &rewards,
        "setRewardsRoot(bytes32,uint256,uint256)",
        &root.to_string(),
        "3000",
        "1",
    ]);
    let claimed = |a: Address| {
        // cast prints `1000 [1e3]` for larger numbers: the first word is the value
        let out = chain.cast(&["call", &rewards, "claimed(address)(uint256)", &a.to_string()]);
        out.split_whitespace().next().unwrap_or_default().to_owned()
    };
    let proof_of = |account: Address| {
        let (_, leaf) = tree_proof(&leaves, account).unwrap();
        let (shares, proof) = leaf.unwrap();
        serde_json::json!({
            "root": root.to_string(),
            "account": account.to_string(),
            "cumulativeShares": shares.to_string(),
            "proof": proof.iter().map(ToString::to_string).collect::<Vec<_>>(),
        })
    };
    let lying = serve_json(&proof_of(other));
    let victim_arg = victim.to_string();
    let err = chain
        .claystack(
            &["operator", "rewards", "claim", "--account", &victim_arg, "--oracle-url", &lying],
            home,
        )
        .failure();
    assert!(err.contains(&format!("the proof is for {other}, not for {victim}")), "{err}");
    assert_eq!(claimed(other), "0", "nothing was claimed for the other account");
    let err = chain
        .claystack(
            &["operator", "rewards", "status", "--account", &victim_arg, "--oracle-url", &lying],
            home,
        )
        .failure();
    assert!(err.contains("not for"), "{err}");

    let honest = serve_json(&proof_of(victim));
    let out = chain
        .claystack(
            &["operator", "rewards", "claim", "--account", &victim_arg, "--oracle-url", &honest],
            home,
        )
        .success();
    assert!(out.contains(&format!("for {victim} (cumulative")), "{out}");
    assert_eq!(claimed(victim), "1000");
    assert_eq!(claimed(other), "0");
}

/// A one-document HTTP server on a free port (a thread answering every request with `doc`);
/// returns its base URL. The thread ends with the test process.
fn serve_json(doc: &serde_json::Value) -> String {
    use std::io::{Read as _, Write as _};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let body = doc.to_string();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut request = Vec::new();
            let mut buf = [0u8; 1024];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                match stream.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => request.extend_from_slice(&buf[..n]),
                }
            }
            let response = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            if stream.write_all(response.as_bytes()).is_err() {
                // the client went away: nothing to answer
                continue;
            }
        }
    });
    url
}

/// The claim side (`claystack_client::rewards`) rebuilds trees and reads the documents exactly
/// as the oracle members build and serve them: every proof built from a served tree document
/// verifies against the members' root, and a served proof document parses into the same proof.
#[test]
fn client_reads_member_trees_and_proofs() {
    use claystack_client::{Address, U256};
    use claystack_oracle::rewards::TreeDocument;
    for n in [1u64, 2, 3, 7, 64, 65] {
        let leaves: Vec<(Address, U256)> = (0..n)
            .map(|i| {
                (
                    Address::left_padding_from(&(i * 7919 + 1).to_be_bytes()),
                    U256::from(i * 1_000 + 1),
                )
            })
            .collect();
        let doc = TreeDocument::new(99, &leaves).unwrap();
        let tree = doc.verify(doc.root, doc.cumulative_shares).unwrap();
        let served_tree = serde_json::to_vec(&doc).unwrap();
        for (account, shares) in &leaves {
            let p = claystack_client::rewards::proof_from_tree(&served_tree, *account).unwrap();
            assert_eq!(p.root, doc.root);
            assert_eq!(p.cumulative_shares, *shares);
            assert!(claystack_client::rewards::verify(doc.root, *account, *shares, &p.proof));
            let served_proof = serde_json::to_vec(&doc.proof(&tree, *account).unwrap()).unwrap();
            assert_eq!(claystack_client::rewards::parse_proof(&served_proof).unwrap(), p);
        }
    }
}
