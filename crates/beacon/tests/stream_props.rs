//! Property tests of the incremental array scanner: for any JSON values, any pretty/compact
//! layout and any chunking, it yields exactly the elements serde_json sees; on arbitrary bytes it
//! returns an error or items, never panics.

use claystack_beacon::stream::{ArrayStream, FeedError};
use proptest::prelude::*;
use serde_json::Value;

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
        ".*".prop_map(Value::String),
        "[\"\\\\\\]\\[{},:a-z]*".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map("[a-z\"\\\\]{0,6}", inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn scan(body: &[u8], chunk: usize) -> Result<Vec<Value>, String> {
    let mut p = ArrayStream::new("data", 1 << 20);
    let mut out = Vec::new();
    for c in body.chunks(chunk.max(1)) {
        p.feed(c, &mut |raw: &[u8]| -> Result<(), String> {
            out.push(serde_json::from_slice(raw).map_err(|e| e.to_string())?);
            Ok(())
        })
        .map_err(|e| match e {
            FeedError::Malformed(m) => m.to_string(),
            FeedError::Handler(h) => h,
        })?;
    }
    p.finish().map_err(|e| e.to_string())?;
    Ok(out)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn yields_exactly_the_array_elements(
        items in prop::collection::vec(json_value(), 0..8),
        before in json_value(),
        after in json_value(),
        pretty in any::<bool>(),
        chunk in 1usize..64,
    ) {
        let body = serde_json::json!({ "a_before": before, "data": items, "z_after": after });
        let text = if pretty { serde_json::to_string_pretty(&body) } else { serde_json::to_string(&body) }.unwrap();
        let got = scan(text.as_bytes(), chunk).unwrap();
        // Compare with serde_json's own reading of the whole body (floats parse identically).
        let whole: Value = serde_json::from_str(&text).unwrap();
        prop_assert_eq!(got.len(), items.len());
        prop_assert_eq!(Value::Array(got), whole["data"].clone());
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512), chunk in 1usize..32) {
        let _outcome = scan(&bytes, chunk);
    }

    #[test]
    fn truncations_are_errors(items in prop::collection::vec(json_value(), 1..5), cut in 0usize..1000) {
        let text = serde_json::to_string(&serde_json::json!({ "data": items })).unwrap();
        let cut = cut % text.len();
        prop_assert!(scan(&text.as_bytes()[..cut], 7).is_err());
    }
}
