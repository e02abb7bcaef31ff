//! BIP-39 mnemonics: generation, validation (word lists of every BIP-39 language, checksum) and
//! the mnemonic → seed step (PBKDF2-HMAC-SHA512, 2048 rounds, NFKD-normalised input).
//!
//! The word lists come from the `bip39` crate; matching, checksums and the seed are computed
//! here on NFKD-normalised text, as BIP-39 and the official deposit CLI do, so accented
//! (Spanish) and Hangul (Korean) words match however the user's keyboard composed them.

use std::collections::HashMap;
use std::sync::OnceLock;

use sha2::{Digest, Sha256, Sha512};
use unicode_normalization::UnicodeNormalization;
use zeroize::Zeroizing;

/// PBKDF2 rounds of the BIP-39 seed.
const SEED_ROUNDS: u32 = 2048;

/// A BIP-39 word list language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Language {
    /// English.
    English,
    /// Simplified Chinese.
    ChineseSimplified,
    /// Traditional Chinese.
    ChineseTraditional,
    /// Czech.
    Czech,
    /// French.
    French,
    /// Italian.
    Italian,
    /// Japanese.
    Japanese,
    /// Korean.
    Korean,
    /// Portuguese.
    Portuguese,
    /// Spanish.
    Spanish,
}

impl Language {
    /// Every supported language, in the order a phrase is tried against them.
    pub const ALL: [Self; 10] = [
        Self::English,
        Self::ChineseSimplified,
        Self::ChineseTraditional,
        Self::Czech,
        Self::French,
        Self::Italian,
        Self::Japanese,
        Self::Korean,
        Self::Portuguese,
        Self::Spanish,
    ];

    /// The name the deposit CLI uses (`english`, `chinese_simplified`, …).
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::English => "english",
            Self::ChineseSimplified => "chinese_simplified",
            Self::ChineseTraditional => "chinese_traditional",
            Self::Czech => "czech",
            Self::French => "french",
            Self::Italian => "italian",
            Self::Japanese => "japanese",
            Self::Korean => "korean",
            Self::Portuguese => "portuguese",
            Self::Spanish => "spanish",
        }
    }

    /// Looks a language up by [`Language::name`].
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.name() == name)
    }

    fn bip39(self) -> bip39::Language {
        match self {
            Self::English => bip39::Language::English,
            Self::ChineseSimplified => bip39::Language::SimplifiedChinese,
            Self::ChineseTraditional => bip39::Language::TraditionalChinese,
            Self::Czech => bip39::Language::Czech,
            Self::French => bip39::Language::French,
            Self::Italian => bip39::Language::Italian,
            Self::Japanese => bip39::Language::Japanese,
            Self::Korean => bip39::Language::Korean,
            Self::Portuguese => bip39::Language::Portuguese,
            Self::Spanish => bip39::Language::Spanish,
        }
    }

    /// The NFKD-normalised word list, built on first use.
    fn words(self) -> &'static WordList {
        self.cell().get_or_init(|| {
            let words: Vec<String> =
                self.bip39().word_list().iter().map(|w| w.nfkd().collect()).collect();
            let index = words
                .iter()
                .enumerate()
                .filter_map(|(i, w)| Some((w.clone(), u16::try_from(i).ok()?)))
                .collect();
            WordList { words, index }
        })
    }

    fn cell(self) -> &'static OnceLock<WordList> {
        static ENGLISH: OnceLock<WordList> = OnceLock::new();
        static CHINESE_SIMPLIFIED: OnceLock<WordList> = OnceLock::new();
        static CHINESE_TRADITIONAL: OnceLock<WordList> = OnceLock::new();
        static CZECH: OnceLock<WordList> = OnceLock::new();
        static FRENCH: OnceLock<WordList> = OnceLock::new();
        static ITALIAN: OnceLock<WordList> = OnceLock::new();
        static JAPANESE: OnceLock<WordList> = OnceLock::new();
        static KOREAN: OnceLock<WordList> = OnceLock::new();
        static PORTUGUESE: OnceLock<WordList> = OnceLock::new();
        static SPANISH: OnceLock<WordList> = OnceLock::new();
        match self {
            Self::English => &ENGLISH,
            Self::ChineseSimplified => &CHINESE_SIMPLIFIED,
            Self::ChineseTraditional => &CHINESE_TRADITIONAL,
            Self::Czech => &CZECH,
            Self::French => &FRENCH,
            Self::Italian => &ITALIAN,
            Self::Japanese => &JAPANESE,
            Self::Korean => &KOREAN,
            Self::Portuguese => &PORTUGUESE,
            Self::Spanish => &SPANISH,
        }
    }
}

struct WordList {
    words: Vec<String>,
    index: HashMap<String, u16>,
}

/// Why a mnemonic was rejected. Messages name word positions, never the words themselves.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MnemonicError {
    /// Not 12, 15, 18, 21 or 24 words.
    #[error("mnemonic has {0} words; expected 12, 15, 18, 21 or 24")]
    BadWordCount(usize),
    /// A word is in no BIP-39 word list.
    #[error("mnemonic word {position} is not in any BIP-39 word list")]
    UnknownWord {
        /// 1-based position of the word.
        position: usize,
    },
    /// Every word is known, but no single language's list holds them all.
    #[error("mnemonic mixes words from several languages")]
    MixedLanguages,
    /// The words are valid but the checksum is wrong (a word mistyped or swapped).
    #[error("mnemonic checksum is invalid (a word is wrong or out of order)")]
    InvalidChecksum,
    /// Entropy of a length BIP-39 does not allow.
    #[error("entropy must be 16, 20, 24, 28 or 32 bytes, got {0}")]
    BadEntropyLength(usize),
}

/// A validated BIP-39 mnemonic. The phrase is kept NFKD-normalised and zeroized on drop;
/// `Debug` is redacted.
#[derive(Clone)]
pub struct Mnemonic {
    phrase: Zeroizing<String>,
    language: Language,
}

impl std::fmt::Debug for Mnemonic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mnemonic").field("language", &self.language).finish_non_exhaustive()
    }
}

fn bit(data: &[u8], i: usize) -> bool {
    data.get(i / 8).is_some_and(|b| (b >> (7 - i % 8)) & 1 == 1)
}

impl Mnemonic {
    /// Encodes entropy (16–32 bytes, a multiple of 4) as a mnemonic in `language`.
    pub fn from_entropy(language: Language, entropy: &[u8]) -> Result<Self, MnemonicError> {
        let len = entropy.len();
        if !(16..=32).contains(&len) || !len.is_multiple_of(4) {
            return Err(MnemonicError::BadEntropyLength(len));
        }
        let mut data = Zeroizing::new(entropy.to_vec());
        data.extend(Sha256::digest(entropy).iter().take(1));
        let words = len * 8 / 32 * 3;
        let list = language.words();
        let mut phrase = Zeroizing::new(String::new());
        for w in 0..words {
            let idx =
                (0..11).fold(0usize, |acc, j| (acc << 1) | usize::from(bit(&data, w * 11 + j)));
            if w > 0 {
                phrase.push(' ');
            }
            phrase.push_str(list.words.get(idx).map_or("", String::as_str));
        }
        Ok(Self { phrase, language })
    }

    /// A fresh mnemonic of `words` words (12–24) from the operating system's RNG.
    pub fn generate(language: Language, words: usize) -> Result<Self, MnemonicError> {
        if !matches!(words, 12 | 15 | 18 | 21 | 24) {
            return Err(MnemonicError::BadWordCount(words));
        }
        let mut entropy = Zeroizing::new([0u8; 32]);
        let n = words / 3 * 4;
        let buf = entropy.get_mut(..n).ok_or(MnemonicError::BadWordCount(words))?;
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, buf);
        Self::from_entropy(language, buf)
    }

    /// Validates a phrase: NFKD normalisation, whitespace-separated words, any BIP-39 language
    /// whose list holds every word and whose checksum matches (Chinese simplified and
    /// traditional share words, so each candidate is tried, as the deposit CLI does).
    pub fn parse(phrase: &str) -> Result<Self, MnemonicError> {
        let normalized: Zeroizing<String> = Zeroizing::new(phrase.nfkd().collect::<String>());
        let lowered = Zeroizing::new(normalized.to_lowercase());
        let words: Vec<&str> = lowered.split_whitespace().collect();
        if !matches!(words.len(), 12 | 15 | 18 | 21 | 24) {
            return Err(MnemonicError::BadWordCount(words.len()));
        }
        let mut bad_checksum = false;
        for language in Language::ALL {
            let list = language.words();
            let Some(indices) =
                words.iter().map(|w| list.index.get(*w).copied()).collect::<Option<Vec<u16>>>()
            else {
                continue;
            };
            let indices = Zeroizing::new(indices);
            if checksum_ok(&indices) {
                return Ok(Self { phrase: Zeroizing::new(words.join(" ")), language });
            }
            bad_checksum = true;
        }
        if bad_checksum {
            return Err(MnemonicError::InvalidChecksum);
        }
        let unknown = words
            .iter()
            .position(|w| !Language::ALL.into_iter().any(|l| l.words().index.contains_key(*w)));
        Err(match unknown {
            Some(i) => MnemonicError::UnknownWord { position: i.saturating_add(1) },
            None => MnemonicError::MixedLanguages,
        })
    }

    /// The language whose word list (and checksum) the phrase matched.
    #[must_use]
    pub fn language(&self) -> Language {
        self.language
    }

    /// The number of words.
    #[must_use]
    pub fn word_count(&self) -> usize {
        self.phrase.split(' ').count()
    }

    /// The normalised phrase. Only for showing it once to the user who must write it down.
    #[must_use]
    pub fn expose_phrase(&self) -> &str {
        &self.phrase
    }

    /// The 64-byte BIP-39 seed; `passphrase` is NFKD-normalised (empty for the deposit CLI).
    #[must_use]
    pub fn to_seed(&self, passphrase: &str) -> Zeroizing<[u8; 64]> {
        let mut salt = Zeroizing::new(String::from("mnemonic"));
        salt.extend(passphrase.nfkd());
        let mut seed = Zeroizing::new([0u8; 64]);
        pbkdf2::pbkdf2_hmac::<Sha512>(
            self.phrase.as_bytes(),
            salt.as_bytes(),
            SEED_ROUNDS,
            seed.as_mut_slice(),
        );
        seed
    }
}

/// Checks the BIP-39 checksum of 11-bit word indices.
fn checksum_ok(indices: &[u16]) -> bool {
    let total_bits = indices.len() * 11;
    let cs_bits = total_bits / 33;
    let ent_bytes = (total_bits - cs_bits) / 8;
    let get = |i: usize| indices.get(i / 11).is_some_and(|idx| (idx >> (10 - i % 11)) & 1 == 1);
    let mut entropy = Zeroizing::new(vec![0u8; ent_bytes]);
    for (byte_i, byte) in entropy.iter_mut().enumerate() {
        *byte = (0..8).fold(0u8, |acc, j| (acc << 1) | u8::from(get(byte_i * 8 + j)));
    }
    let hash = Sha256::digest(entropy.as_slice());
    (0..cs_bits).all(|i| get(ent_bytes * 8 + i) == bit(&hash, i))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_vector_language_reproduces_entropy_phrase_and_seed() {
        let v = crate::test_vectors::load_json("bip39/mnemonic.json");
        let map = v.as_object().unwrap();
        assert!(!map.is_empty());
        let mut checked = 0;
        for (name, cases) in map {
            let language = Language::from_name(name)
                .unwrap_or_else(|| panic!("vector language {name} unsupported"));
            for case in cases.as_array().unwrap() {
                let entropy = hex::decode(case[0].as_str().unwrap()).unwrap();
                let phrase = case[1].as_str().unwrap();
                let seed = case[2].as_str().unwrap();
                let parsed = Mnemonic::parse(phrase).unwrap_or_else(|e| panic!("{name}: {e}"));
                // Chinese lists share words; the seed does not depend on which one matched.
                if !name.starts_with("chinese") {
                    assert_eq!(parsed.language(), language, "{name}");
                }
                assert_eq!(hex::encode(*parsed.to_seed("TREZOR")), seed, "{name} seed");
                let generated = Mnemonic::from_entropy(language, &entropy).unwrap();
                // Same normalised phrase, hence the same seed (not recomputed: debug PBKDF2 is slow).
                assert_eq!(generated.expose_phrase(), parsed.expose_phrase(), "{name}");
                assert_eq!(
                    generated.expose_phrase(),
                    phrase
                        .nfkd()
                        .collect::<String>()
                        .split_whitespace()
                        .collect::<Vec<_>>()
                        .join(" "),
                    "{name} phrase"
                );
                checked += 1;
            }
        }
        assert_eq!(checked, map.values().map(|c| c.as_array().unwrap().len()).sum::<usize>());
    }

    const ABANDON: &str = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";

    #[test]
    fn bad_phrases_get_typed_errors() {
        assert_eq!(Mnemonic::parse("abandon abandon").unwrap_err(), MnemonicError::BadWordCount(2));
        let wrong_checksum = ABANDON.replace("about", "abandon");
        assert_eq!(Mnemonic::parse(&wrong_checksum).unwrap_err(), MnemonicError::InvalidChecksum);
        let unknown = ABANDON.replacen("abandon", "zzzz", 1);
        assert_eq!(
            Mnemonic::parse(&unknown).unwrap_err(),
            MnemonicError::UnknownWord { position: 1 }
        );
        let mixed = ABANDON.replacen("abandon", "zurdo", 1);
        assert_eq!(Mnemonic::parse(&mixed).unwrap_err(), MnemonicError::MixedLanguages);
        assert_eq!(
            Mnemonic::from_entropy(Language::English, &[0u8; 15]).unwrap_err(),
            MnemonicError::BadEntropyLength(15)
        );
    }

    #[test]
    fn whitespace_and_case_are_forgiven_and_debug_is_redacted() {
        let messy = format!("  {}\n", ABANDON.to_uppercase().replace(' ', "\t "));
        let m = Mnemonic::parse(&messy).unwrap();
        assert_eq!(m.expose_phrase(), ABANDON);
        assert_eq!(m.word_count(), 12);
        assert!(!format!("{m:?}").contains("abandon"));
    }

    #[test]
    fn generated_mnemonics_parse_back() {
        for words in [12, 24] {
            let m = Mnemonic::generate(Language::English, words).unwrap();
            assert_eq!(m.word_count(), words);
            let back = Mnemonic::parse(m.expose_phrase()).unwrap();
            assert_eq!(back.expose_phrase(), m.expose_phrase());
        }
        assert_eq!(
            Mnemonic::generate(Language::English, 13).unwrap_err(),
            MnemonicError::BadWordCount(13)
        );
    }
}
