//! Byte encodings of item keys for redb, chosen so that redb's byte order is exactly
//! DynamoDB's (partition, sort key) order, plus the translation of a [`Query`] into a byte range.
//!
//! Every string component is written followed by a NUL terminator: `pk 0 sk 0` for the table,
//! `gsi_pk 0 gsi_sk 0 pk 0 sk 0` for the index. The terminator sorts below every other byte, so a
//! string sorts before its own extensions exactly as it does as a `str`, and one partition never
//! interleaves with another whose name it prefixes ("p" vs "p2"). The price is that keys must
//! not contain NUL, which [`crate::item::check_key`] rejects for every store.

use crate::item::{Key, Query, SortKeyRange};

pub use crate::item::check_key;

fn push_part(out: &mut Vec<u8>, part: &str) {
    out.extend_from_slice(part.as_bytes());
    out.push(0);
}

pub fn encode(key: &Key) -> Vec<u8> {
    let mut out = Vec::with_capacity(key.pk.len() + key.sk.len() + 2);
    push_part(&mut out, &key.pk);
    push_part(&mut out, &key.sk);
    out
}

pub fn encode_index(index: &Key, base: &Key) -> Vec<u8> {
    let mut out = encode(index);
    out.extend_from_slice(&encode(base));
    out
}

/// The key of a table entry, for error messages (lossy: it only has to be readable).
pub fn decode(bytes: &[u8]) -> Key {
    let mut parts = bytes.split(|b| *b == 0).map(|p| String::from_utf8_lossy(p).into_owned());
    Key { pk: parts.next().unwrap_or_default(), sk: parts.next().unwrap_or_default() }
}

/// Splits an index entry back into (index sort key, base key).
pub fn decode_index(bytes: &[u8]) -> Option<(String, Key)> {
    let parts: Vec<&[u8]> = bytes.strip_suffix(&[0])?.split(|b| *b == 0).collect();
    let [_, gsk, pk, sk] = parts.as_slice() else { return None };
    let s = |b: &[u8]| String::from_utf8(b.to_vec()).ok();
    Some((s(gsk)?, Key { pk: s(pk)?, sk: s(sk)? }))
}

/// One end of a byte range: the bytes and whether they are themselves included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct End {
    pub bytes: Vec<u8>,
    pub inclusive: bool,
}

impl End {
    fn incl(bytes: Vec<u8>) -> Self {
        Self { bytes, inclusive: true }
    }
    fn excl(bytes: Vec<u8>) -> Self {
        Self { bytes, inclusive: false }
    }
    pub fn bound(&self) -> std::ops::Bound<&[u8]> {
        if self.inclusive { std::ops::Bound::Included(&self.bytes) } else { std::ops::Bound::Excluded(&self.bytes) }
    }
}

/// The byte range of the table (or index) holding the items `query` asks for, or `None` if it
/// is empty. The sort component is the second string of the key in both layouts.
pub fn query_range(query: &Query) -> Option<(End, End)> {
    let mut part = Vec::with_capacity(query.pk.len() + 1);
    push_part(&mut part, &query.pk);
    // The encoding of "sort key == s, anything after": everything from `part s 0` on.
    let at = |s: &str| {
        let mut v = part.clone();
        push_part(&mut v, s);
        v
    };
    let (mut lower, mut upper) = match &query.range {
        SortKeyRange::All => {
            let mut end = query.pk.as_bytes().to_vec();
            end.push(1);
            (End::incl(part.clone()), End::excl(end))
        }
        SortKeyRange::Prefix(p) => {
            let mut start = part.clone();
            start.extend_from_slice(p.as_bytes());
            // 0xFF never occurs in UTF-8, so it is above every continuation of the prefix.
            let mut end = start.clone();
            end.push(0xFF);
            (End::incl(start), End::excl(end))
        }
        SortKeyRange::Between { from, to } => (End::incl(at(from)), End::excl(at(to))),
    };
    if let Some(after) = &query.after {
        if query.reverse {
            // Sort keys below `after`: entries of `after` itself start at `part after 0`.
            upper = tighter_upper(upper, End::excl(at(after)));
        } else {
            // Sort keys above `after`: skip `part after 0 ...`, which all sort below `part after 1`.
            let mut v = part.clone();
            v.extend_from_slice(after.as_bytes());
            v.push(1);
            lower = tighter_lower(lower, End::incl(v));
        }
    }
    let empty = lower.bytes > upper.bytes || (lower.bytes == upper.bytes && !(lower.inclusive && upper.inclusive));
    (!empty).then_some((lower, upper))
}

fn tighter_lower(a: End, b: End) -> End {
    match a.bytes.cmp(&b.bytes) {
        std::cmp::Ordering::Less => b,
        std::cmp::Ordering::Greater => a,
        std::cmp::Ordering::Equal => End { inclusive: a.inclusive && b.inclusive, ..a },
    }
}

fn tighter_upper(a: End, b: End) -> End {
    match a.bytes.cmp(&b.bytes) {
        std::cmp::Ordering::Less => a,
        std::cmp::Ordering::Greater => b,
        std::cmp::Ordering::Equal => End { inclusive: a.inclusive && b.inclusive, ..a },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_preserves_order() {
        let keys = [("p", "a"), ("p", "a b"), ("p", "ab"), ("p", "b"), ("p2", ""), ("p2", "a"), ("q", "a")];
        let encoded: Vec<Vec<u8>> = keys.iter().map(|(p, s)| encode(&Key::new(*p, *s))).collect();
        let mut sorted = encoded.clone();
        sorted.sort();
        assert_eq!(encoded, sorted);
    }

    #[test]
    fn index_entries_round_trip() {
        let (gsk, base) = decode_index(&encode_index(&Key::new("g", "s"), &Key::new("p", "k"))).unwrap();
        assert_eq!((gsk.as_str(), base), ("s", Key::new("p", "k")));
    }

    #[test]
    fn after_beyond_range_is_empty() {
        let mut q = Query::prefix("p", "a");
        q.after = Some("b".into());
        assert!(query_range(&q).is_none());
        q.reverse = true;
        assert!(query_range(&q).is_some());
    }
}
