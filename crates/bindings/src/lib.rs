//! Contract bindings for ClayStack, generated at compile time by alloy's `sol!` macro from the
//! ABIs in `abi/` — which `scripts/bindings` extracts from the forge artifacts (never written by
//! hand; CI checks them against a fresh `forge build`). Also: the devnet deployment file.

pub mod deployment;

pub use deployment::{Deployment, DeploymentError};

/// Generates one module per contract from `abi/<Name>.json`, with `#[sol(rpc)]` call builders.
macro_rules! bind {
    ($($module:ident => $name:ident),* $(,)?) => {
        $(
            #[doc = concat!("Bindings of `", stringify!($name), "` (from `abi/", stringify!($name), ".json`).")]
            #[allow(missing_docs, clippy::too_many_arguments, unreachable_pub)]
            pub mod $module {
                alloy::sol!(
                    #[sol(rpc)]
                    #[derive(Debug, PartialEq, Eq)]
                    $name,
                    concat!("abi/", stringify!($name), ".json")
                );
            }
        )*
    };
}

bind! {
    stake_pool => StakePool,
    withdrawal_queue => WithdrawalQueue,
    oracle_report => OracleReport,
    sanity_checker => SanityChecker,
    pool_vault => PoolVault,
    withdrawal_vault => WithdrawalVault,
    el_rewards_vault => ElRewardsVault,
    access_registry => AccessRegistry,
    allocator => Allocator,
    deposit_contract => DepositContract,
    operator_registry => OperatorRegistry,
    bond_manager => BondManager,
    operator_rewards => OperatorRewards,
    exit_enforcer => ExitEnforcer,
    deposit_security => DepositSecurity,
    operators_module => OperatorsModule,
    vfp_pool => VfpPool,
    insurance_fund => InsuranceFund,
    timelock_controller => TimelockController,
}
