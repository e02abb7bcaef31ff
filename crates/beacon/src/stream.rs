//! Incremental scanner for `{"…": …, "data": [ item, item, … ], …}` responses.
//!
//! The all-validators response of mainnet is hundreds of megabytes; this scanner reads it in
//! chunks as they arrive and hands each `data` element's raw bytes to a callback, keeping only one
//! element in memory. Top-level members other than `data` are parsed whole (they are small:
//! `execution_optimistic`, `finalized`) and capped like elements.

use crate::types::ResponseMeta;

/// Why a streamed body is malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StreamError {
    /// A byte that cannot appear at this point.
    #[error("unexpected {found:?} at byte {offset}, expected {expected}")]
    Unexpected {
        /// The byte found, as a char.
        found: char,
        /// Byte offset in the body.
        offset: u64,
        /// What the scanner expected.
        expected: &'static str,
    },
    /// The body ended before the JSON object was complete.
    #[error("body ended at byte {offset} inside {context}")]
    Truncated {
        /// Bytes read.
        offset: u64,
        /// Where the scanner was.
        context: &'static str,
    },
    /// One element (or a top-level member) is larger than the cap.
    #[error("an element exceeds the {limit}-byte cap at byte {offset}")]
    ItemTooLarge {
        /// The cap.
        limit: usize,
        /// Byte offset in the body.
        offset: u64,
    },
    /// The object has no array member with the expected key.
    #[error("no {key:?} array in the response")]
    MissingArray {
        /// The key looked for.
        key: &'static str,
    },
    /// A metadata flag is not a boolean.
    #[error("member {key:?} is not a boolean")]
    BadFlag {
        /// The key.
        key: &'static str,
    },
    /// The total body exceeded the configured cap.
    #[error("body exceeds the {limit}-byte cap")]
    BodyTooLarge {
        /// The cap.
        limit: u64,
    },
}

/// A malformed body, or the callback's own error.
#[derive(Debug)]
pub enum FeedError<E> {
    /// The JSON is malformed.
    Malformed(StreamError),
    /// The callback returned an error.
    Handler(E),
}

impl<E> From<StreamError> for FeedError<E> {
    fn from(e: StreamError) -> Self {
        Self::Malformed(e)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Start,
    BeforeKey { first: bool },
    InKey { escape: bool },
    AfterKey,
    BeforeValue,
    InRawValue,
    AfterValue,
    BeforeElement { first: bool },
    InElement,
    AfterElement,
    Done,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Container,
    String,
    Scalar,
}

/// Scanning state of one JSON value.
#[derive(Debug, Clone, Copy)]
struct ValueScan {
    kind: Kind,
    depth: u32,
    in_string: bool,
    escape: bool,
}

/// What scanning a byte of a value produced.
enum Step {
    /// The byte belongs to the value; the value goes on.
    More,
    /// The byte closes the value (and belongs to it).
    EndIncluding,
    /// The value ended just before this byte (scalars).
    EndBefore,
}

impl ValueScan {
    fn start(b: u8) -> Self {
        match b {
            b'{' | b'[' => {
                Self { kind: Kind::Container, depth: 1, in_string: false, escape: false }
            }
            b'"' => Self { kind: Kind::String, depth: 0, in_string: true, escape: false },
            _ => Self { kind: Kind::Scalar, depth: 0, in_string: false, escape: false },
        }
    }

    #[inline]
    fn step(&mut self, b: u8) -> Step {
        if self.in_string {
            if self.escape {
                self.escape = false;
            } else if b == b'\\' {
                self.escape = true;
            } else if b == b'"' {
                self.in_string = false;
                if self.kind == Kind::String {
                    return Step::EndIncluding;
                }
            }
            return Step::More;
        }
        match self.kind {
            Kind::Scalar => match b {
                b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t' => Step::EndBefore,
                _ => Step::More,
            },
            Kind::String => Step::EndIncluding,
            Kind::Container => match b {
                b'"' => {
                    self.in_string = true;
                    Step::More
                }
                b'{' | b'[' => {
                    self.depth = self.depth.saturating_add(1);
                    Step::More
                }
                b'}' | b']' => {
                    self.depth = self.depth.saturating_sub(1);
                    if self.depth == 0 { Step::EndIncluding } else { Step::More }
                }
                _ => Step::More,
            },
        }
    }
}

const fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\n' | b'\r' | b'\t')
}

/// Push parser: feed it body chunks, get each element of the `data` array as raw JSON bytes.
#[derive(Debug)]
pub struct ArrayStream {
    array_key: &'static str,
    state: State,
    key: Vec<u8>,
    buf: Vec<u8>,
    scan: ValueScan,
    max_item_bytes: usize,
    offset: u64,
    meta: ResponseMeta,
    seen_array: bool,
    items: u64,
}

const MAX_KEY_BYTES: usize = 256;

impl ArrayStream {
    /// A scanner for the array under `array_key` (usually `"data"`), with a per-element cap.
    #[must_use]
    pub fn new(array_key: &'static str, max_item_bytes: usize) -> Self {
        Self {
            array_key,
            state: State::Start,
            key: Vec::new(),
            buf: Vec::new(),
            scan: ValueScan::start(b'0'),
            max_item_bytes,
            offset: 0,
            meta: ResponseMeta::default(),
            seen_array: false,
            items: 0,
        }
    }

    /// Metadata flags seen so far (complete once [`Self::finish`] succeeded).
    #[must_use]
    pub fn meta(&self) -> ResponseMeta {
        self.meta
    }

    /// Elements delivered so far.
    #[must_use]
    pub fn items(&self) -> u64 {
        self.items
    }

    /// Bytes consumed so far.
    #[must_use]
    pub fn bytes_read(&self) -> u64 {
        self.offset
    }

    fn unexpected(&self, b: u8, expected: &'static str) -> StreamError {
        StreamError::Unexpected { found: char::from(b), offset: self.offset, expected }
    }

    fn push_buf(&mut self, bytes: &[u8]) -> Result<(), StreamError> {
        if self.buf.len().saturating_add(bytes.len()) > self.max_item_bytes {
            return Err(StreamError::ItemTooLarge {
                limit: self.max_item_bytes,
                offset: self.offset,
            });
        }
        self.buf.extend_from_slice(bytes);
        Ok(())
    }

    fn finish_member(&mut self) -> Result<(), StreamError> {
        let flag = |buf: &[u8], key: &'static str| -> Result<Option<bool>, StreamError> {
            match serde_json::from_slice::<serde_json::Value>(buf) {
                Ok(serde_json::Value::Bool(b)) => Ok(Some(b)),
                Ok(serde_json::Value::Null) => Ok(None),
                _ => Err(StreamError::BadFlag { key }),
            }
        };
        match self.key.as_slice() {
            b"execution_optimistic" => {
                self.meta.execution_optimistic = flag(&self.buf, "execution_optimistic")?;
            }
            b"finalized" => self.meta.finalized = flag(&self.buf, "finalized")?,
            _ => {}
        }
        self.buf.clear();
        Ok(())
    }

    /// Feeds one chunk; calls `on_item` with the raw bytes of every element completed in it.
    pub fn feed<E>(
        &mut self,
        chunk: &[u8],
        on_item: &mut impl FnMut(&[u8]) -> Result<(), E>,
    ) -> Result<(), FeedError<E>> {
        let mut i = 0usize;
        // Start of the pending run of value bytes in this chunk, copied to `buf` in one go.
        let mut run_start: Option<usize> = None;
        while let Some(&b) = chunk.get(i) {
            match self.state {
                State::Start => {
                    if b == b'{' {
                        self.state = State::BeforeKey { first: true };
                    } else if !is_ws(b) {
                        return Err(self.unexpected(b, "'{'").into());
                    }
                }
                State::BeforeKey { first } => {
                    if b == b'"' {
                        self.key.clear();
                        self.state = State::InKey { escape: false };
                    } else if b == b'}' && first {
                        self.state = State::Done;
                    } else if !is_ws(b) {
                        return Err(self.unexpected(b, "a member name").into());
                    }
                }
                State::InKey { escape } => {
                    if escape {
                        self.state = State::InKey { escape: false };
                    } else if b == b'\\' {
                        self.state = State::InKey { escape: true };
                    } else if b == b'"' {
                        self.state = State::AfterKey;
                        i = i.saturating_add(1);
                        self.offset = self.offset.saturating_add(1);
                        continue;
                    }
                    if self.key.len() >= MAX_KEY_BYTES {
                        return Err(StreamError::ItemTooLarge {
                            limit: MAX_KEY_BYTES,
                            offset: self.offset,
                        }
                        .into());
                    }
                    self.key.push(b);
                }
                State::AfterKey => {
                    if b == b':' {
                        self.state = State::BeforeValue;
                    } else if !is_ws(b) {
                        return Err(self.unexpected(b, "':'").into());
                    }
                }
                State::BeforeValue => {
                    if self.key.as_slice() == self.array_key.as_bytes() {
                        if b == b'[' {
                            self.seen_array = true;
                            self.state = State::BeforeElement { first: true };
                        } else if !is_ws(b) {
                            return Err(self.unexpected(b, "'[' (the data array)").into());
                        }
                    } else if !is_ws(b) {
                        self.buf.clear();
                        self.scan = ValueScan::start(b);
                        self.state = State::InRawValue;
                        run_start = Some(i);
                    }
                }
                State::InRawValue | State::InElement => {
                    // Fast path: inside a string, jump to the next quote or backslash.
                    if self.scan.in_string && !self.scan.escape && run_start != Some(i) {
                        let rest = chunk.get(i..).unwrap_or_default();
                        let skip = rest
                            .iter()
                            .position(|&c| c == b'"' || c == b'\\')
                            .unwrap_or(rest.len());
                        if skip > 0 {
                            if run_start.is_none() {
                                run_start = Some(i);
                            }
                            i = i.saturating_add(skip);
                            self.offset = self.offset.saturating_add(skip as u64);
                            continue;
                        }
                    }
                    let element = self.state == State::InElement;
                    let mut end_including = false;
                    let mut end_before = false;
                    // The first byte of the value was recorded when the run started.
                    if run_start != Some(i) || self.scan.kind == Kind::Scalar {
                        match self.scan.step(b) {
                            Step::More => {}
                            Step::EndIncluding => end_including = true,
                            Step::EndBefore => end_before = true,
                        }
                    }
                    if end_including || end_before {
                        let start = run_start.take().unwrap_or(0);
                        let end = if end_including { i.saturating_add(1) } else { i };
                        let run = chunk.get(start..end).unwrap_or_default();
                        self.push_buf(run)?;
                        if element {
                            self.items = self.items.saturating_add(1);
                            on_item(&self.buf).map_err(FeedError::Handler)?;
                            self.buf.clear();
                            self.state = State::AfterElement;
                        } else {
                            self.finish_member()?;
                            self.state = State::AfterValue;
                        }
                        if end_before {
                            // Re-examine the delimiter in the new state.
                            continue;
                        }
                    } else if run_start.is_none() {
                        run_start = Some(i);
                    }
                }
                State::AfterValue => {
                    if b == b',' {
                        self.state = State::BeforeKey { first: false };
                    } else if b == b'}' {
                        self.state = State::Done;
                    } else if !is_ws(b) {
                        return Err(self.unexpected(b, "',' or '}'").into());
                    }
                }
                State::BeforeElement { first } => {
                    if b == b']' && first {
                        self.state = State::AfterValue;
                    } else if !is_ws(b) {
                        if matches!(b, b']' | b',' | b'}' | b':') {
                            return Err(self.unexpected(b, "an array element").into());
                        }
                        self.buf.clear();
                        self.scan = ValueScan::start(b);
                        self.state = State::InElement;
                        run_start = Some(i);
                        if self.scan.kind == Kind::Scalar {
                            // Scalars are examined byte by byte including the first.
                            continue;
                        }
                    }
                }
                State::AfterElement => {
                    if b == b',' {
                        self.state = State::BeforeElement { first: false };
                    } else if b == b']' {
                        self.state = State::AfterValue;
                    } else if !is_ws(b) {
                        return Err(self.unexpected(b, "',' or ']'").into());
                    }
                }
                State::Done => {
                    if !is_ws(b) {
                        return Err(self.unexpected(b, "end of body").into());
                    }
                }
            }
            i = i.saturating_add(1);
            self.offset = self.offset.saturating_add(1);
        }
        if let Some(start) = run_start {
            let run = chunk.get(start..).unwrap_or_default();
            self.push_buf(run)?;
        }
        Ok(())
    }

    /// Declares the end of the body; errors if the object is incomplete or had no array.
    pub fn finish(&mut self) -> Result<ResponseMeta, StreamError> {
        if self.state == State::InRawValue && self.scan.kind == Kind::Scalar {
            // A bare scalar at the very end cannot be a complete object anyway.
            return Err(StreamError::Truncated { offset: self.offset, context: "a value" });
        }
        let context = match self.state {
            State::Done => {
                return if self.seen_array {
                    Ok(self.meta)
                } else {
                    Err(StreamError::MissingArray { key: self.array_key })
                };
            }
            State::Start => "the empty body",
            State::InElement | State::BeforeElement { .. } | State::AfterElement => {
                "the data array"
            }
            _ => "the response object",
        };
        Err(StreamError::Truncated { offset: self.offset, context })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(body: &[u8], chunk: usize) -> Result<(Vec<String>, ResponseMeta), StreamError> {
        let mut p = ArrayStream::new("data", 1024);
        let mut out = Vec::new();
        for c in body.chunks(chunk.max(1)) {
            p.feed(c, &mut |item: &[u8]| -> Result<(), ()> {
                out.push(String::from_utf8(item.to_vec()).unwrap());
                Ok(())
            })
            .map_err(|e| match e {
                FeedError::Malformed(m) => m,
                FeedError::Handler(()) => unreachable!(),
            })?;
        }
        let meta = p.finish()?;
        Ok((out, meta))
    }

    #[test]
    fn splits_elements_at_every_chunk_size() {
        let body = br#" {"execution_optimistic" : false, "finalized":true,
            "data": [ {"a":"x,]}\"y","b":[1,{"c":2}]}, "str\"ing" , 17, null ,[ ] ], "extra": {"k":[1]} } "#;
        let expected = vec![
            r#"{"a":"x,]}\"y","b":[1,{"c":2}]}"#.to_string(),
            r#""str\"ing""#.to_string(),
            "17".to_string(),
            "null".to_string(),
            "[ ]".to_string(),
        ];
        for chunk in 1..body.len() + 1 {
            let (items, meta) = run(body, chunk).unwrap_or_else(|e| panic!("chunk {chunk}: {e}"));
            assert_eq!(items, expected, "chunk size {chunk}");
            assert_eq!(meta.finalized, Some(true));
            assert_eq!(meta.execution_optimistic, Some(false));
        }
    }

    #[test]
    fn data_first_and_empty_array() {
        let (items, meta) = run(br#"{"data":[],"finalized":false}"#, 3).unwrap();
        assert!(items.is_empty());
        assert_eq!(meta.finalized, Some(false));
        assert_eq!(meta.execution_optimistic, None);
    }

    #[test]
    fn rejects_malformed_bodies() {
        for (body, what) in [
            (&b""[..], "Truncated"),
            (br#"{"data":[{"a":1}"#, "Truncated"),
            (br#"{"data":[1,]}"#, "Unexpected"),
            (br#"{"data":{}}"#, "Unexpected"),
            (br#"{"other":[]}"#, "MissingArray"),
            (br#"{"data":[] } x"#, "Unexpected"),
            (br#"{"finalized":"yes","data":[]}"#, "BadFlag"),
            (br#"[1,2]"#, "Unexpected"),
        ] {
            let err = run(body, 4).unwrap_err();
            assert!(format!("{err:?}").starts_with(what), "{body:?}: {err:?}");
        }
    }

    #[test]
    fn caps_element_size() {
        let big = format!(r#"{{"data":["{}"]}}"#, "a".repeat(2000));
        let err = run(big.as_bytes(), 100).unwrap_err();
        assert!(matches!(err, StreamError::ItemTooLarge { limit: 1024, .. }), "{err:?}");
    }
}
