//! Execution-layer inputs: the deposit contract's `DepositEvent` (mainnet ABI) and EIP-7002
//! withdrawal requests, decoded from raw log data with every length and offset checked.

use serde::{Deserialize, Serialize};

/// `keccak256("DepositEvent(bytes,bytes,bytes,bytes,bytes)")`, topic 0 of the mainnet deposit
/// contract's only event.
pub const DEPOSIT_EVENT_TOPIC: [u8; 32] = [
    0x64, 0x9b, 0xbc, 0x62, 0xd0, 0xe3, 0x13, 0x42, 0xaf, 0xea, 0x4e, 0x5c, 0xd8, 0x2d, 0x40, 0x49,
    0xe7, 0xe1, 0xee, 0x91, 0x2f, 0xc0, 0x88, 0x9a, 0xa7, 0x90, 0x80, 0x3b, 0xe3, 0x90, 0x38, 0xc5,
];

/// A deposit as the deposit contract logged it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deposit {
    /// Validator public key.
    #[serde(with = "claystack_consensus::hexutil::fixed")]
    pub pubkey: [u8; 48],
    /// Withdrawal credentials.
    #[serde(with = "claystack_consensus::hexutil::fixed")]
    pub withdrawal_credentials: [u8; 32],
    /// Amount in gwei.
    pub amount: claystack_consensus::Gwei,
    /// BLS signature over the deposit message.
    #[serde(with = "claystack_consensus::hexutil::bytes")]
    pub signature: Vec<u8>,
    /// Deposit index (0-based, contiguous).
    pub index: u64,
}

/// An EIP-7002 withdrawal request: 20-byte source address, 48-byte pubkey, 8-byte big-endian
/// amount in gwei (0 = full exit), the 76-byte record the system contract logs with `LOG0`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WithdrawalRequest {
    /// Caller of the system contract (must match the 0x01/0x02 credentials).
    #[serde(with = "claystack_consensus::hexutil::fixed")]
    pub source_address: [u8; 20],
    /// Validator to exit.
    #[serde(with = "claystack_consensus::hexutil::fixed")]
    pub validator_pubkey: [u8; 48],
    /// Gwei to withdraw; 0 requests a full exit.
    pub amount: claystack_consensus::Gwei,
}

/// Why log data could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// Data shorter than a field or offset requires.
    #[error("log data too short: need {need} bytes at offset {at}, have {have}")]
    Short {
        /// Bytes needed.
        need: usize,
        /// Where.
        at: usize,
        /// Bytes available.
        have: usize,
    },
    /// A field has the wrong length.
    #[error("field {field} has {got} bytes, expected {expected}")]
    FieldLength {
        /// Field name.
        field: &'static str,
        /// Bytes found.
        got: usize,
        /// Bytes expected.
        expected: usize,
    },
    /// An ABI offset or length does not fit in memory.
    #[error("abi word at offset {at} is out of range")]
    Word {
        /// Where.
        at: usize,
    },
}

fn word(data: &[u8], at: usize) -> Result<usize, DecodeError> {
    let end = at.checked_add(32).ok_or(DecodeError::Word { at })?;
    let w = data.get(at..end).ok_or(DecodeError::Short { need: 32, at, have: data.len() })?;
    let (high, low) = w.split_at(24);
    if high.iter().any(|b| *b != 0) {
        return Err(DecodeError::Word { at });
    }
    let low: [u8; 8] = low.try_into().map_err(|_| DecodeError::Word { at })?;
    usize::try_from(u64::from_be_bytes(low)).map_err(|_| DecodeError::Word { at })
}

fn abi_bytes(data: &[u8], head_slot: usize) -> Result<&[u8], DecodeError> {
    let head_at = head_slot.checked_mul(32).ok_or(DecodeError::Word { at: 0 })?;
    let offset = word(data, head_at)?;
    let len = word(data, offset)?;
    let start = offset.checked_add(32).ok_or(DecodeError::Word { at: offset })?;
    let end = start.checked_add(len).ok_or(DecodeError::Word { at: offset })?;
    data.get(start..end).ok_or(DecodeError::Short { need: len, at: start, have: data.len() })
}

fn fixed<const N: usize>(field: &'static str, b: &[u8]) -> Result<[u8; N], DecodeError> {
    <[u8; N]>::try_from(b).map_err(|_| DecodeError::FieldLength {
        field,
        got: b.len(),
        expected: N,
    })
}

/// Decodes the data of a `DepositEvent(bytes pubkey, bytes withdrawal_credentials, bytes amount,
/// bytes signature, bytes index)` log; `amount` and `index` are 8-byte little-endian.
pub fn decode_deposit_event(data: &[u8]) -> Result<Deposit, DecodeError> {
    let pubkey = fixed::<48>("pubkey", abi_bytes(data, 0)?)?;
    let withdrawal_credentials = fixed::<32>("withdrawal_credentials", abi_bytes(data, 1)?)?;
    let amount = u64::from_le_bytes(fixed::<8>("amount", abi_bytes(data, 2)?)?);
    let signature = fixed::<96>("signature", abi_bytes(data, 3)?)?.to_vec();
    let index = u64::from_le_bytes(fixed::<8>("index", abi_bytes(data, 4)?)?);
    Ok(Deposit {
        pubkey,
        withdrawal_credentials,
        amount: claystack_consensus::Gwei(amount),
        signature,
        index,
    })
}

/// ABI-encodes a `DepositEvent`'s data exactly as the mainnet deposit contract does (used by tests
/// and by the anvil emitter).
#[must_use]
pub fn encode_deposit_event(d: &Deposit) -> Vec<u8> {
    let fields: [Vec<u8>; 5] = [
        d.pubkey.to_vec(),
        d.withdrawal_credentials.to_vec(),
        d.amount.get().to_le_bytes().to_vec(),
        d.signature.clone(),
        d.index.to_le_bytes().to_vec(),
    ];
    let mut head = Vec::with_capacity(160);
    let mut tail = Vec::new();
    for f in &fields {
        let offset = 160usize.saturating_add(tail.len());
        head.extend_from_slice(&u256(offset));
        tail.extend_from_slice(&u256(f.len()));
        tail.extend_from_slice(f);
        let pad = f.len().div_ceil(32).saturating_mul(32).saturating_sub(f.len());
        tail.extend(std::iter::repeat_n(0u8, pad));
    }
    head.extend_from_slice(&tail);
    head
}

fn u256(v: usize) -> [u8; 32] {
    let mut w = [0u8; 32];
    let be = (v as u64).to_be_bytes();
    for (dst, src) in w.iter_mut().skip(24).zip(be) {
        *dst = src;
    }
    w
}

/// Decodes a 76-byte EIP-7002 request record.
pub fn decode_withdrawal_request(data: &[u8]) -> Result<WithdrawalRequest, DecodeError> {
    if data.len() != 76 {
        return Err(DecodeError::FieldLength {
            field: "withdrawal request",
            got: data.len(),
            expected: 76,
        });
    }
    let (source, rest) = data.split_at(20);
    let (pubkey, amount) = rest.split_at(48);
    Ok(WithdrawalRequest {
        source_address: fixed::<20>("source_address", source)?,
        validator_pubkey: fixed::<48>("validator_pubkey", pubkey)?,
        amount: claystack_consensus::Gwei(u64::from_be_bytes(fixed::<8>("amount", amount)?)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Deposit {
        Deposit {
            pubkey: [0xaa; 48],
            withdrawal_credentials: [0x01; 32],
            amount: claystack_consensus::Gwei(32_000_000_000),
            signature: vec![0xbb; 96],
            index: 5,
        }
    }

    #[test]
    fn encode_matches_mainnet_layout_and_round_trips() {
        let data = encode_deposit_event(&sample());
        // Mainnet DepositEvent data is always 576 bytes with offsets a0,100,140,180,200.
        assert_eq!(data.len(), 576);
        for (i, off) in [0xa0usize, 0x100, 0x140, 0x180, 0x200].iter().enumerate() {
            assert_eq!(word(&data, i * 32).unwrap(), *off);
        }
        assert_eq!(decode_deposit_event(&data).unwrap(), sample());
    }

    #[test]
    fn rejects_truncated_and_bad_lengths() {
        let data = encode_deposit_event(&sample());
        assert!(matches!(decode_deposit_event(&data[..500]), Err(DecodeError::Short { .. })));
        let mut d = sample();
        d.signature = vec![1; 95];
        let err = decode_deposit_event(&encode_deposit_event(&d)).unwrap_err();
        assert_eq!(err, DecodeError::FieldLength { field: "signature", got: 95, expected: 96 });
        let mut bad = data;
        bad[0] = 0xff; // offset with high bits set
        assert!(matches!(decode_deposit_event(&bad), Err(DecodeError::Word { .. })));
    }

    #[test]
    fn withdrawal_request_layout() {
        let mut raw = vec![0x11; 20];
        raw.extend([0x22; 48]);
        raw.extend(7u64.to_be_bytes());
        let r = decode_withdrawal_request(&raw).unwrap();
        assert_eq!(r.amount.get(), 7);
        assert_eq!(r.source_address, [0x11; 20]);
        assert!(decode_withdrawal_request(&raw[..75]).is_err());
    }
}

#[cfg(test)]
mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn decoders_never_panic(data in prop::collection::vec(any::<u8>(), 0..700)) {
            let _deposit = decode_deposit_event(&data);
            let _request = decode_withdrawal_request(&data);
        }

        #[test]
        fn deposit_round_trip(pk in any::<[u8; 32]>(), wc in any::<[u8; 32]>(), amount in any::<u64>(), index in any::<u64>(), sig in prop::collection::vec(any::<u8>(), 96)) {
            let mut pubkey = [0u8; 48];
            pubkey[..32].copy_from_slice(&pk);
            let d = Deposit { pubkey, withdrawal_credentials: wc, amount: claystack_consensus::Gwei(amount), signature: sig, index };
            prop_assert_eq!(decode_deposit_event(&encode_deposit_event(&d)).unwrap(), d);
        }
    }
}
