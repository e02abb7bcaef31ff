//! Validator keys: BIP-39, EIP-2333/2334 derivation, EIP-2335 keystores, deposit data compatible with the official deposit CLI.
