//! The simulator's serializer of the validators response, written element by element so a
//! million validators never need one big in-memory JSON tree (also used by the parsing benchmark).

use claystack_beacon::ValidatorData;
use std::io::{self, Write};

/// Writes `{"execution_optimistic":…,"finalized":…,"data":[…]}` with one element per item.
pub fn write_validators_response<W: Write>(
    mut w: W,
    execution_optimistic: bool,
    finalized: bool,
    items: impl IntoIterator<Item = ValidatorData>,
) -> io::Result<()> {
    write!(
        w,
        r#"{{"execution_optimistic":{execution_optimistic},"finalized":{finalized},"data":["#
    )?;
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            w.write_all(b",")?;
        }
        serde_json::to_writer(&mut w, &item).map_err(io::Error::other)?;
    }
    w.write_all(b"]}")?;
    w.flush()
}
