//! The staker commands against a real anvil with the contracts deployed by the forge script:
//! stake → status → unstake (ticket) → claim lists it pending; Flash Exit quoted, capped and
//! slippage-protected; clear messages for a deposit below the minimum, an unattested KYC-pool
//! stake and bad amounts.

mod staker_chain;

use staker_chain::{Chain, KEYS};

/// anvil #8 and #9.
const ALICE: &str = "0xa0Ee7A142d267C1f36714E4a8F75612F20a79720";
const BOB: &str = "0x23618e81E3f5cdF7f54C3d65f7FBc0aBf5B21E8f";

#[test]
fn staker_commands_against_anvil() {
    let chain = Chain::start(3_133_711);
    let alice = Some(KEYS[9]);
    let bob = Some(KEYS[8]);

    // stake shows a progress line and the shares received
    let out = chain.claystack(&["stake", "1.5eth"], alice).success();
    assert!(out.contains("staking 1.5 ETH from"), "{out}");
    assert!(out.contains("stake: sent 0x"), "{out}");
    assert!(out.contains("mined in block") && out.contains("gas used"), "{out}");
    assert!(out.contains("received 1.5 csETH"), "{out}");

    // status (by address, no key) shows it
    let out = chain.claystack(&["status", ALICE], None).success();
    assert!(out.contains("balance      1.5 csETH (1.5 ETH)"), "{out}");
    assert!(out.contains("rate         1 ETH per csETH"), "{out}");
    assert!(out.contains("tickets      none"), "{out}");
    assert!(out.contains("TVL          1.501 ETH"), "{out}"); // 0.001 ETH seed + 1.5

    // unstake → a ticket
    let out = chain.claystack(&["unstake", "0.5"], alice).success();
    assert!(out.contains("withdrawal requested: ticket #1 for 0.5 ETH"), "{out}");
    let out = chain.claystack(&["status"], alice).success();
    assert!(out.contains("balance      1 csETH (1 ETH)"), "{out}");
    assert!(out.contains("ticket #1: pending (0.5 ETH requested), position 1"), "{out}");
    assert!(out.contains("1 requests, finalized up to #0, 0.5 ETH waiting"), "{out}");

    // claim: nothing finalized yet, the ticket is listed with its position
    let out = chain.claystack(&["claim"], alice).success();
    assert!(out.contains("ticket #1: pending"), "{out}");
    assert!(!out.contains("claimed ticket"), "{out}");
    // someone else's ticket id is not claimable by them either: it is pending for everyone
    let out = chain.claystack(&["claim", "1"], bob).success();
    assert!(out.contains("ticket #1: pending"), "{out}");

    let err = chain.claystack(&["claim", "99"], bob).failure();
    assert!(err.contains("ticket #99 does not exist (the queue has 1 requests)"), "{err}");

    // Flash Exit: a minimum above what the pool pays reverts in the estimate → slippage in words
    let err = chain.claystack(&["flash-exit", "0.1eth", "--min-out", "1eth"], alice).failure();
    assert!(err.contains("slippage: the Flash Exit would pay"), "{err}");
    assert!(err.contains("below your minimum of 1 ETH"), "{err}");
    // a fee cap below the quoted fee is refused before sending
    let err = chain.claystack(&["flash-exit", "0.1eth", "--max-fee-bps", "0"], alice).failure();
    assert!(err.contains("Flash Exit fee too high"), "{err}");
    // within the cap it goes through
    let out = chain.claystack(&["flash-exit", "0.1eth", "--max-fee-bps", "200"], alice).success();
    assert!(out.contains("quote: ") && out.contains("flash exit done"), "{out}");
    assert!(out.contains("mined in block"), "{out}");
    // more than the liquidity: the message says so
    let err = chain.claystack(&["flash-exit", "all"], alice).failure();
    assert!(err.contains("unstake too large: 0.9 shares requested, at most"), "{err}");

    // below the minimum deposit: the clear message, and nothing sent
    let err = chain.claystack(&["stake", "0.0001eth"], bob).failure();
    assert!(
        err.contains(
            "deposit below minimum: 0.0001 ETH is less than the pool's minimum deposit of 0.001 ETH"
        ),
        "{err}"
    );
    assert!(!err.contains("sent 0x"), "{err}");

    // KYC pool from an unattested account: NotAttested in words
    let err = chain.claystack(&["stake", "1eth", "--pool", "kyc"], bob).failure();
    assert!(err.contains(&format!("not attested: {BOB} has no valid KYC attestation")), "{err}");

    // after an attestation by the devnet KYC provider, the same stake goes through
    let expiry = (std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap()
        + std::time::Duration::from_secs(30 * 24 * 3600))
    .as_secs()
    .to_string();
    chain.cast(&[
        "send",
        &chain.address("accessRegistry"),
        "attest(address,uint8,uint64)",
        BOB,
        "1",
        &expiry,
        "--private-key",
        KEYS[0],
    ]);
    let out = chain.claystack(&["stake", "1eth", "--pool", "kyc"], bob).success();
    assert!(out.contains("received 1 kcsETH"), "{out}");

    // bad input never reaches the chain, and keys never show up in output
    let err = chain.claystack(&["stake", "1.2.3"], bob).failure();
    assert!(err.contains("\"1.2.3\" is not an amount"), "{err}");
    let err = chain.claystack(&["stake", "-1"], bob).failure();
    assert!(err.contains("negative"), "{err}");
    let err = chain.claystack(&["stake", "0.0000000000000000001"], bob).failure();
    assert!(err.contains("at most 18"), "{err}");
    let err = chain.claystack(&["stake", "1"], Some("0xdeadbeef")).failure();
    assert!(err.contains("invalid private key") && !err.contains("deadbeef"), "{err}");
    // an Ethereum JSON keystore signs too; a fresh account cannot pay, and is told so
    let dir = tempfile::tempdir().unwrap();
    let made = chain.cast_offline(&[
        "wallet",
        "new",
        dir.path().to_str().unwrap(),
        "staker",
        "--unsafe-password",
        "pw",
    ]);
    assert!(made.contains("Address"), "{made}");
    let keystore = dir.path().join("staker");
    let pwfile = dir.path().join("pw.txt");
    std::fs::write(&pwfile, "pw\n").unwrap();
    let ks = keystore.to_str().unwrap();
    let pw = pwfile.to_str().unwrap();
    let out = chain.claystack(&["status", "--keystore", ks, "--password-file", pw], None).success();
    assert!(out.contains("balance      0 csETH (0 ETH)"), "{out}");
    let err = chain
        .claystack(&["stake", "1eth", "--keystore", ks, "--password-file", pw], None)
        .failure();
    assert!(err.contains("insufficient ETH balance to pay the amount and gas"), "{err}");
    std::fs::write(&pwfile, "wrong").unwrap();
    let err = chain.claystack(&["status", "--keystore", ks, "--password-file", pw], None).failure();
    assert!(err.contains("decrypt keystore"), "{err}");

    let err = chain.claystack(&["stake", "1"], None).failure();
    assert!(err.contains("--private-key"), "{err}");
}

/// The whole queue path through the CLI: a ticket finalized by a quorum-signed oracle report is
/// claimed by `claystack claim`, which pays the ETH to its owner.
#[test]
fn claim_pays_a_finalized_ticket() {
    let chain = Chain::start(3_133_715);
    let carol = Some(KEYS[7]);
    const CAROL: &str = "0x14dC79964da2C08b23698B3D3cc7Ca32193d9955";
    chain.claystack(&["stake", "3eth"], carol).success();
    let out = chain.claystack(&["unstake", "1eth"], carol).success();
    assert!(out.contains("withdrawal requested: ticket #1 for 1 ETH"), "{out}");

    // Demo phase 1 (stakes, report 1, a request by anvil #8 = ticket #2), the next frame,
    // phase 2 (report 2 finalizes up to #2 and anvil #8 claims #2)
    chain.demo("run()");
    chain.next_frame();
    let demo = chain.demo("finalizeAndClaim()");
    assert!(demo.contains("finalized up to request 2"), "{demo}");

    let status = chain.claystack(&["status", CAROL], None).success();
    assert!(status.contains("ticket #1: finalized, claimable"), "{status}");
    let before: u128 = chain.cast(&["balance", CAROL]).parse().unwrap();
    let out = chain.claystack(&["claim"], carol).success();
    assert!(out.contains("claim: sent 0x") && out.contains("mined in block"), "{out}");
    let paid = out
        .lines()
        .find_map(|l| l.strip_prefix("claimed ticket #1: "))
        .unwrap_or_else(|| panic!("no claim line in {out}"));
    // paid at min(rate at request, rate at finalization): at most the 1 ETH requested
    assert!(paid.ends_with(" ETH"), "{paid}");
    let after: u128 = chain.cast(&["balance", CAROL]).parse().unwrap();
    let gained = after - before;
    assert!(gained > 999_000_000_000_000_000 && gained <= 1_000_000_000_000_000_000, "{gained}");
    // claimed once: nothing left
    let out = chain.claystack(&["claim"], carol).success();
    assert!(out.contains("no unclaimed tickets"), "{out}");
}
