// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Governed} from "../../src/governance/Governed.sol";

/// @notice The OperatorsModule's storage as the version before docs/adr/0008 left it (same ERC-7201
/// namespace): oracle, registry, BondManager, OperatorRewards and the exit deadline, initialized
/// at initializer version 1, no reward factors, no missed-exit penalty, no report cursor. Only for
/// upgrade tests: a proxy of this is upgraded to the current OperatorsModule.
contract LegacyOperatorsModule is Governed {
    /// @custom:storage-location erc7201:claystack.storage.OperatorsModule
    struct ModuleStorage {
        address oracle;
        address registry;
        address bonds;
        address operatorRewards;
        uint64 exitDeadline;
    }

    bytes32 private constant MODULE_STORAGE =
        0xfa18edeab98191dc5d8d6cf99f592381c9514203f70c7f45c814c610924bbc00;

    function initialize(
        address admin,
        address oracle_,
        address registry_,
        address bonds_,
        address operatorRewards_,
        uint256 exitDeadline_
    ) external initializer {
        __Governed_init(admin, address(0));
        ModuleStorage storage $;
        assembly {
            $.slot := MODULE_STORAGE
        }
        $.oracle = oracle_;
        $.registry = registry_;
        $.bonds = bonds_;
        $.operatorRewards = operatorRewards_;
        $.exitDeadline = uint64(exitDeadline_);
    }
}
