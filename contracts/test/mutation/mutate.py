#!/usr/bin/env python3
"""Apply each mutation, run the tests meant to catch it, restore the file.
Run from the Foundry root: python3 test/mutation/mutate.py [NAME ...] (default: all). Every mutant
must be killed (exit != 0, at least one failing test)."""
import os, shutil, subprocess, sys
M = {
 "M1_no_duplicate_check": ("src/operators/OperatorRegistry.sol",
    "if (owner != 0) revert KeyAlreadyRegistered(hash, (owner >> 32) - 1, uint32(owner));", "",
    "OperatorAttacksTest|OperatorsInvariantTest"),
 "M2_bond_burn_uncapped": ("src/operators/BondManager.sol",
    "burned = shares < own ? shares : own;", "burned = shares;",
    "OperatorAttacksTest|LossWaterfallTest|OperatorsInvariantTest"),
 "M3_insurance_before_vfp": ("src/operators/BondManager.sol",
    "        if (remaining != 0) {\n            uint256 paid = $.vfpPool.absorbLoss(operatorId, remaining);",
    "        if (remaining != 0) { uint256 p0 = $.insuranceFund.cover(remaining); remaining -= p0; burned += p0; }\n        if (remaining != 0) {\n            uint256 paid = $.vfpPool.absorbLoss(operatorId, remaining);",
    "OperatorsInvariantTest"),
 "M4_vef_reads_balance": ("src/operators/VfpPool.sol",
    "return Math.mulDiv(cs, totalSupply() + VIRTUAL_SHARES, $.totalAssets + VIRTUAL_ASSETS);",
    "return Math.mulDiv(cs, totalSupply() + VIRTUAL_SHARES, $.pool.balanceOf(address(this)) + VIRTUAL_ASSETS);",
    "OperatorAttacksTest"),
 "M5_claim_keeps_assets": ("src/operators/VfpPool.sol",
    "        r.claimed = true;\n        $.totalAssets -= cs;", "        r.claimed = true;",
    "OperatorsInvariantTest"),
 "M6_deposit_overwrites_bond": ("src/operators/BondManager.sol",
    "        $.shares[operatorId] += shares;\n        $.totalBondShares += shares;\n        emit BondDeposited(operatorId, msg.sender, shares, msg.value);",
    "        $.shares[operatorId] = shares;\n        $.totalBondShares += shares;\n        emit BondDeposited(operatorId, msg.sender, shares, msg.value);",
    "OperatorsInvariantTest"),
 "M7_burn_without_debit": ("src/operators/BondManager.sol",
    "            $.shares[operatorId] = own - burned;\n", "",
    "OperatorsInvariantTest|OperatorAttacksTest"),
 "M8_remove_keeps_stale_index": ("src/operators/OperatorRegistry.sol",
    "                $.keyOwner[keccak256(_pubkey(moved))] = _packOwner(operatorId, i);\n", "",
    "OperatorsInvariantTest"),
 "M9_topup_includes_frontrun": ("src/operators/OperatorRegistry.sol",
    "            if (skipFrontRun && _isFrontRun(key)) continue;", "",
    "OperatorAttacksTest"),
}
def run(name):
    path, old, new, match = M[name]
    src = open(path).read()
    assert src.count(old) == 1, (name, src.count(old))
    shutil.copy(path, "/tmp/mut_backup.sol")
    try:
        open(path, "w").write(src.replace(old, new))
        r = subprocess.run([os.environ.get("FORGE", "../node_modules/.bin/forge"), "test", "--match-contract", match],
                           capture_output=True, text=True)
        out = r.stdout + r.stderr
        fails = [l for l in out.splitlines() if l.startswith("[FAIL")]
        comp = "Compiler run failed" in out or "Error (" in out
        print(f"{name}: exit={r.returncode} compile_error={comp} failing={len(fails)}")
        for l in sorted(set(fails))[:8]:
            print("   ", l[:160])
    finally:
        shutil.copy("/tmp/mut_backup.sol", path)


for name in sys.argv[1:] or list(M):
    run(name)
