//! The devnet's sample population, set up once after deployment: governance actions through the
//! timelock (admissions, vetting and curator roles), operators of every type with keys from the
//! devnet mnemonic and bonds posted, a validator funding provider whose VfpPool deposit backs one
//! Home operator's bond (so the pool earns a share of that operator's rewards from the first
//! rewards root on), and a few stakers in both pools.

use alloy::{
    network::EthereumWallet,
    primitives::{Address, B256, Bytes, U256, keccak256},
    providers::{DynProvider, Provider, ProviderBuilder, ext::AnvilApi as _},
    signers::local::PrivateKeySigner,
    sol_types::SolCall,
};
use claystack_bindings::{
    Deployment, access_registry::AccessRegistry, bond_manager::BondManager,
    deposit_security::DepositSecurity, operator_registry::OperatorRegistry,
    operators_module::OperatorsModule, stake_pool::StakePool,
    timelock_controller::TimelockController, vfp_pool::VfpPool,
};
use claystack_client::operator::{Operators, deposit_data_from_mnemonic};
use claystack_consensus::Gwei;
use claystack_keys::DepositNetwork;

use crate::{DevnetError, toolchain::DEVNET_DEPLOYER_KEY};

/// The devnet validator mnemonic (a public test vector: never use it for real funds).
pub const DEVNET_MNEMONIC: &str = "test test test test test test test test test test test junk";

/// One ETH in wei.
const ETH: u128 = 1_000_000_000_000_000_000;

/// A deterministic devnet account for `label` (keccak of a fixed phrase; test funds only).
#[must_use]
pub fn account(label: &str) -> PrivateKeySigner {
    let secret = keccak256(format!("claystack devnet account {label}"));
    // a keccak output is a valid secp256k1 scalar except with negligible probability
    PrivateKeySigner::from_bytes(&secret).unwrap_or_else(|_| PrivateKeySigner::random())
}

/// A provider signing with `key`. Nonces come from the node's pending count for every
/// transaction (not a local cache): a transaction whose gas estimate fails (a refused claim, a
/// keeper action another caller took first) must not leave a gap that queues the account's next
/// transaction forever.
pub fn provider(rpc: &str, key: &PrivateKeySigner) -> Result<DynProvider, DevnetError> {
    let url = rpc.parse().map_err(|e| DevnetError::Tool(format!("rpc url {rpc}: {e}")))?;
    Ok(ProviderBuilder::default()
        .with_gas_estimation()
        .with_simple_nonce_management()
        .fetch_chain_id()
        .wallet(EthereumWallet::from(key.clone()))
        .connect_http(url)
        .erased())
}

/// The deployer (anvil account 0: timelock proposer, KYC provider on devnet).
#[must_use]
pub fn deployer() -> PrivateKeySigner {
    DEVNET_DEPLOYER_KEY.parse().unwrap_or_else(|_| PrivateKeySigner::random())
}

/// One sample operator.
#[derive(Debug, Clone)]
pub struct SampleOperator {
    /// Label (`pro-1`, `dvt`, `home-2`, …).
    pub label: String,
    /// Registry type code (0 Professional, 1 Kyc, 2 Dvt, 3 Home).
    pub kind: u8,
    /// Whether it lives in the KYC pool's registry.
    pub kyc_pool: bool,
    /// Keys it uploads.
    pub keys: u32,
    /// Bond posted (wei).
    pub bond: u128,
}

/// The population of issue #6: 2 Professional, 1 Kyc (KYC pool), 1 DVT cluster of 4, 3 Home.
#[must_use]
pub fn sample_operators() -> Vec<SampleOperator> {
    let op = |label: &str, kind: u8, kyc_pool: bool, keys: u32, bond_eth: u128| SampleOperator {
        label: label.into(),
        kind,
        kyc_pool,
        keys,
        bond: bond_eth.saturating_mul(ETH),
    };
    vec![
        op("pro-1", 0, false, 2, 3),
        op("pro-2", 0, false, 2, 3),
        op("dvt", 2, false, 2, 5),
        op("home-1", 3, false, 1, 4),
        op("home-2", 3, false, 1, 4),
        op("home-3", 3, false, 1, 4),
        op("kyc-1", 1, true, 2, 3),
    ]
}

/// First mnemonic index of the keys of the sample operator at `position` in
/// [`sample_operators`]: each operator its own range of 16 (never shared).
#[must_use]
pub fn key_start(position: usize) -> u32 {
    u32::try_from(position).unwrap_or(u32::MAX / 16).saturating_mul(16)
}

/// The devnet's exit deadline: the governance minimum (`OperatorsModule` accepts 1 to 30 days),
/// so that a forced exit needs the shortest time warp.
pub const EXIT_DEADLINE_SECONDS: u64 = 24 * 3600;

/// Stakers: (label, pool is KYC, ETH).
pub const SAMPLE_STAKERS: [(&str, bool, u128); 3] =
    [("staker-1", false, 200), ("staker-2", false, 120), ("institution", true, 70)];

/// The sample validator funding provider's account label.
pub const VFP_DEPOSITOR: &str = "vfp-1";

/// ETH the VFP deposits into the public VfpPool (staked into csETH by the pool, so it counts in
/// the public pool's pooled ETH).
pub const VFP_DEPOSIT_ETH: u128 = 10;

/// The Home operator whose bond the VfpPool backs: neither the default negligent operator
/// (`home-3`) nor the first Home operator the balancer asks to exit on equal scores (`home-1`,
/// the lowest id), so that on a plain devnet it keeps validating and the pool keeps earning.
pub const VFP_FUNDED_OPERATOR: &str = "home-2";

/// ETH of VfpPool backing the funded operator takes (at most its own bond: `maxMatchBps` is
/// 100 % by default; at most 80 % of the pool's assets: `totalCapBps`).
pub const VFP_BACKING_ETH: u128 = 2;

async fn mined(
    action: &'static str,
    pending: Result<
        alloy::providers::PendingTransactionBuilder<alloy::network::Ethereum>,
        alloy::contract::Error,
    >,
) -> Result<alloy::rpc::types::TransactionReceipt, DevnetError> {
    let pending = pending.map_err(|e| DevnetError::Chain { action, detail: e.to_string() })?;
    let receipt = pending
        .get_receipt()
        .await
        .map_err(|e| DevnetError::Chain { action, detail: e.to_string() })?;
    if !receipt.status() {
        return Err(DevnetError::Chain { action, detail: "transaction reverted".into() });
    }
    Ok(receipt)
}

fn chain_err(action: &'static str) -> impl Fn(alloy::contract::Error) -> DevnetError {
    move |e| DevnetError::Chain { action, detail: e.to_string() }
}

/// Schedules and executes one batch through the zero-delay devnet timelock.
pub async fn timelock_batch(
    gov: &DynProvider,
    timelock: Address,
    calls: Vec<(Address, Bytes)>,
    salt: &str,
) -> Result<(), DevnetError> {
    let tl = TimelockController::new(timelock, gov.clone());
    let targets: Vec<Address> = calls.iter().map(|c| c.0).collect();
    let values = vec![U256::ZERO; calls.len()];
    let payloads: Vec<Bytes> = calls.into_iter().map(|c| c.1).collect();
    let salt = keccak256(salt);
    let delay = tl.getMinDelay().call().await.map_err(chain_err("read the timelock delay"))?;
    mined(
        "schedule a timelock batch",
        tl.scheduleBatch(
            targets.clone(),
            values.clone(),
            payloads.clone(),
            B256::ZERO,
            salt,
            delay,
        )
        .send()
        .await,
    )
    .await?;
    if !delay.is_zero() {
        return Err(DevnetError::Tool(format!(
            "the timelock has a {delay} s delay: the devnet set-up needs the zero-delay devnet timelock"
        )));
    }
    // a zero-delay operation is ready from the next block on
    mined(
        "execute a timelock batch",
        tl.executeBatch(targets, values, payloads, B256::ZERO, salt).send().await,
    )
    .await?;
    Ok(())
}

/// What the set-up registered (for logs and tests).
#[derive(Debug, Clone, Default)]
pub struct Population {
    /// `(label, pool is KYC, operator id)`.
    pub operators: Vec<(String, bool, u64)>,
    /// `(label, pool is KYC, address)`.
    pub stakers: Vec<(String, bool, Address)>,
    /// The public VfpPool's sample funding, when the set-up made it.
    pub vfp: Option<VfpFunding>,
}

/// The sample VFP deposit and the Home operator it backs (public pool).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VfpFunding {
    /// The VfpPool.
    pub pool: Address,
    /// The depositor ([`VFP_DEPOSITOR`]), holder of the VEF shares.
    pub depositor: Address,
    /// ETH deposited, wei.
    pub deposit_wei: U256,
    /// The backed operator's label ([`VFP_FUNDED_OPERATOR`]).
    pub operator: String,
    /// Its registry id.
    pub operator_id: u64,
    /// csETH shares of the pool earmarked as its backing.
    pub backing_shares: U256,
    /// Share of the backed operator's rewards owed to the pool, bps (`rewardShareBps`).
    pub reward_share_bps: u16,
}

/// Sets up governance, operators and stakers on a fresh deployment.
pub async fn populate(
    rpc: &str,
    d: &Deployment,
    fork_version: [u8; 4],
) -> Result<Population, DevnetError> {
    let deployer = deployer();
    let gov = provider(rpc, &deployer)?;
    let me = deployer.address();
    let addr = |k: &str| d.address(k).map_err(|e| DevnetError::Tool(format!("deployment: {e}")));
    let (reg, kreg) = (addr("operatorRegistry")?, addr("kycOperatorRegistry")?);
    let (bonds, kbonds) = (addr("bondManager")?, addr("kycBondManager")?);
    let (ds, kds) = (addr("depositSecurity")?, addr("kycDepositSecurity")?);
    let kyc_pool =
        d.kyc.ok_or_else(|| DevnetError::Tool("the deployment has no KYC pool".into()))?;
    let access = addr("accessRegistry")?;
    let expiry = u64::MAX / 2;
    let now = gov
        .get_block_by_number(alloy::eips::BlockNumberOrTag::Latest)
        .await
        .map_err(|e| DevnetError::Chain { action: "read the head block", detail: e.to_string() })?
        .map_or(0, |b| b.header.timestamp);
    let attest_until = now.saturating_add(300 * 24 * 3600).min(expiry);

    let ops = sample_operators();
    let mut funded: Vec<Address> = ops.iter().map(|o| account(&o.label).address()).collect();
    funded.extend(SAMPLE_STAKERS.iter().map(|s| account(s.0).address()));
    funded.push(account(VFP_DEPOSITOR).address());
    let dvt_members: Vec<Address> =
        (1..=4).map(|i| account(&format!("dvt-member-{i}")).address()).collect();
    for a in &funded {
        gov.anvil_set_balance(*a, U256::from(1_000u128.saturating_mul(ETH))).await.map_err(
            |e| DevnetError::Chain { action: "fund a devnet account", detail: e.to_string() },
        )?;
    }

    // KYC attestations (the deployer is a KYC provider on devnet) before the Kyc admission
    let registry = AccessRegistry::new(access, gov.clone());
    for label in ["kyc-1", "institution"] {
        let who = account(label).address();
        mined("attest a KYC account", registry.attest(who, 1, attest_until).send().await).await?;
    }

    // governance: vetting and curator roles for the deployer, admissions of Professional/Kyc
    let r = OperatorRegistry::new(reg, gov.clone());
    let vetting = r.VETTING_ROLE().call().await.map_err(chain_err("read VETTING_ROLE"))?;
    let curator = DepositSecurity::new(ds, gov.clone())
        .CURATOR_ROLE()
        .call()
        .await
        .map_err(chain_err("read CURATOR_ROLE"))?;
    // the VfpPool funds only operators scoring at least `scoreThresholdBps` (default 70 %), and
    // no operator has a score before the first report: governance lowers the threshold to 0 for
    // the sample funding below and restores it afterwards
    let vfp_addr = addr("vfpPool")?;
    let vfp = VfpPool::new(vfp_addr, gov.clone());
    let vfp_params = vfp.params().call().await.map_err(chain_err("read the VfpPool parameters"))?;
    let mut open_params = vfp_params.clone();
    open_params.scoreThresholdBps = 0;
    let set_vfp_params = |p| Bytes::from(VfpPool::setParamsCall { p }.abi_encode());
    let grant =
        |role| Bytes::from(OperatorRegistry::grantRoleCall { role, account: me }.abi_encode());
    let deadline = Bytes::from(
        OperatorsModule::setExitDeadlineCall { value: U256::from(EXIT_DEADLINE_SECONDS) }
            .abi_encode(),
    );
    let mut calls = vec![
        (reg, grant(vetting)),
        (kreg, grant(vetting)),
        (ds, grant(curator)),
        (kds, grant(curator)),
        (addr("operatorsModule")?, deadline.clone()),
        (addr("kycOperatorsModule")?, deadline),
        (vfp_addr, set_vfp_params(open_params)),
    ];
    for o in ops.iter().filter(|o| o.kind <= 1) {
        let m = account(&o.label).address();
        let call = OperatorRegistry::admitOperatorCall {
            operatorType: o.kind,
            manager: m,
            rewardAddress: m,
        };
        calls.push((if o.kyc_pool { kreg } else { reg }, Bytes::from(call.abi_encode())));
    }
    timelock_batch(&gov, d.timelock, calls, "claystack devnet set-up").await?;

    let mut population = Population::default();
    for o in &ops {
        let key = account(&o.label);
        let p = provider(rpc, &key)?;
        let (registry_addr, bonds_addr, ds_addr, vault) = if o.kyc_pool {
            (kreg, kbonds, kds, kyc_pool.withdrawal_vault)
        } else {
            (reg, bonds, ds, d.public.withdrawal_vault)
        };
        let client = Operators::new(p.clone(), registry_addr, bonds_addr);
        let id = match o.kind {
            3 => {
                client
                    .register_home(
                        key.address(),
                        Some(claystack_consensus::Wei(o.bond)),
                        &claystack_client::tx::quiet,
                    )
                    .await?
                    .0
            }
            2 => {
                client
                    .register_dvt(
                        dvt_members.clone(),
                        3,
                        2,
                        key.address(),
                        Some(claystack_consensus::Wei(o.bond)),
                        &claystack_client::tx::quiet,
                    )
                    .await?
                    .0
            }
            _ => {
                let ids = client.operators_of(key.address()).await?;
                let id = ids
                    .last()
                    .copied()
                    .ok_or_else(|| DevnetError::Tool(format!("{} was not admitted", o.label)))?;
                let bm = BondManager::new(bonds_addr, p.clone());
                mined(
                    "post a voluntary bond",
                    bm.depositBond(id).value(U256::from(o.bond)).send().await,
                )
                .await?;
                id
            }
        };
        // keys: each operator its own range of the devnet mnemonic (never shared)
        let start = key_start(population.operators.len());
        let entries = deposit_data_from_mnemonic(
            DEVNET_MNEMONIC,
            start,
            o.keys,
            vault,
            Gwei(Gwei::PER_ETH),
            &DepositNetwork { name: "devnet".into(), fork_version },
        )?;
        client.add_keys(id, &entries, &claystack_client::tx::quiet).await?;
        let vet = OperatorRegistry::new(registry_addr, gov.clone());
        mined("vet keys", vet.setVettedLimit(id, U256::from(o.keys)).send().await).await?;
        let id64 =
            u64::try_from(id).map_err(|_| DevnetError::Tool("operator id out of range".into()))?;
        let set = DepositSecurity::new(ds_addr, gov.clone());
        mined("add an operator to the deposit set", set.addOperator(id64).send().await).await?;
        tracing::info!(target: "devnet", label = %o.label, id = id64, keys = o.keys, "operator registered");
        population.operators.push((o.label.clone(), o.kyc_pool, id64));
    }

    population.vfp = Some(
        fund_vfp(rpc, &gov, d, vfp_addr, &population, set_vfp_params(vfp_params.clone())).await?,
    );

    for (label, kyc, eth) in SAMPLE_STAKERS {
        let key = account(label);
        let p = provider(rpc, &key)?;
        let pool = if kyc { kyc_pool.stake_pool } else { d.public.stake_pool };
        let sp = StakePool::new(pool, p);
        mined("stake", sp.deposit().value(U256::from(eth.saturating_mul(ETH))).send().await)
            .await?;
        tracing::info!(target: "devnet", %label, eth, kyc, "staked");
        population.stakers.push((label.to_owned(), kyc, key.address()));
    }
    Ok(population)
}

/// The sample VFP deposits [`VFP_DEPOSIT_ETH`] into the public VfpPool, [`VFP_FUNDED_OPERATOR`]'s
/// manager takes [`VFP_BACKING_ETH`] of backing, and governance restores the pool's parameters
/// (`restore`: the `setParams` call with the score threshold the deployment set).
async fn fund_vfp(
    rpc: &str,
    gov: &DynProvider,
    d: &Deployment,
    vfp_addr: Address,
    population: &Population,
    restore: Bytes,
) -> Result<VfpFunding, DevnetError> {
    let depositor = account(VFP_DEPOSITOR);
    let deposit_wei = U256::from(VFP_DEPOSIT_ETH.saturating_mul(ETH));
    mined(
        "deposit into the VfpPool",
        VfpPool::new(vfp_addr, provider(rpc, &depositor)?)
            .depositEth(depositor.address())
            .value(deposit_wei)
            .send()
            .await,
    )
    .await?;
    let operator_id = population
        .operators
        .iter()
        .find(|(label, kyc, _)| label == VFP_FUNDED_OPERATOR && !kyc)
        .map(|(_, _, id)| *id)
        .ok_or_else(|| DevnetError::Tool(format!("{VFP_FUNDED_OPERATOR} was not registered")))?;
    let manager = provider(rpc, &account(VFP_FUNDED_OPERATOR))?;
    mined(
        "back a Home operator's bond from the VfpPool",
        VfpPool::new(vfp_addr, manager)
            .fundOperator(U256::from(operator_id), U256::from(VFP_BACKING_ETH.saturating_mul(ETH)))
            .send()
            .await,
    )
    .await?;
    timelock_batch(gov, d.timelock, vec![(vfp_addr, restore)], "claystack devnet vfp threshold")
        .await?;
    let vfp = VfpPool::new(vfp_addr, gov.clone());
    let backing_shares = vfp
        .allocatedShares(U256::from(operator_id))
        .call()
        .await
        .map_err(chain_err("read the VfpPool backing"))?;
    let params = vfp.params().call().await.map_err(chain_err("read the VfpPool parameters"))?;
    tracing::info!(target: "devnet", operator = VFP_FUNDED_OPERATOR, id = operator_id, deposit_eth = VFP_DEPOSIT_ETH, backing_eth = VFP_BACKING_ETH, score_threshold_bps = params.scoreThresholdBps, "VfpPool funded and backing a Home operator");
    Ok(VfpFunding {
        pool: vfp_addr,
        depositor: depositor.address(),
        deposit_wei,
        operator: VFP_FUNDED_OPERATOR.to_owned(),
        operator_id,
        backing_shares,
        reward_share_bps: params.rewardShareBps,
    })
}
