//! Items whose body grows with a release's number of files (a revision's manifest, its check
//! report) and may outgrow the store's item limit (`trs_storage::item::MAX_ITEM_BYTES`, under
//! DynamoDB's 400 KB). Such a body is stored as a head item under its own key, holding the
//! body itself when it fits, else `{"parts": N, "digest": D}`, and N part items in the same
//! partition, each a slice of the body's JSON text, keyed by the text's digest
//! (`SK#part#D#NNNN`). Parts are content-addressed: writing them again writes the same items,
//! and a head only names parts that hold its own text, so a reader never mixes two versions.
//! Reads are one `GetItem` per part (every role that reads items may make them).

use crate::app::App;
use crate::error::{AppError, AppResult};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use trs_storage::item::MAX_ITEM_BYTES;
use trs_storage::{Condition, Item, Key, WriteOp};

/// The most JSON text one part holds: its `text` string, escaped, stays below the item limit
/// even if every character needs escaping (a `"` becomes `\"`).
const PART_TEXT: usize = MAX_ITEM_BYTES / 2 - 1024;

fn part_key(head: &Key, digest: &str, index: usize) -> Key {
    Key::new(head.pk.clone(), format!("{}#part#{digest}#{index:04}", head.sk))
}

/// The writes that store `item` (its head conditioned on `condition`): the head first, then
/// its parts (unconditional: content-addressed). One write when the body fits.
pub fn put_ops(item: Item, condition: Condition) -> Vec<WriteOp> {
    let text = item.body.to_string();
    if text.len() <= PART_TEXT {
        return vec![WriteOp::Put { item, condition }];
    }
    let digest = hex::encode(&Sha256::digest(text.as_bytes())[..8]);
    let mut parts = Vec::new();
    let mut rest = text.as_str();
    while !rest.is_empty() {
        let mut end = rest.len().min(PART_TEXT);
        while !rest.is_char_boundary(end) {
            end -= 1;
        }
        let (slice, tail) = rest.split_at(end);
        parts.push(slice);
        rest = tail;
    }
    let head = Item { body: json!({"parts": parts.len(), "digest": digest}), ..item };
    let mut ops = Vec::with_capacity(parts.len() + 1);
    for (i, slice) in parts.iter().enumerate() {
        let part = Item::new(part_key(&head.key, &digest, i), json!({ "text": slice }));
        ops.push(WriteOp::Put { item: part, condition: Condition::None });
    }
    ops.insert(0, WriteOp::Put { item: head, condition });
    ops
}

/// Stores `item` outside a transaction: its parts first, then its head, so the head is only
/// ever seen with its parts in place.
pub async fn put(app: &App, item: Item, condition: Condition) -> AppResult<()> {
    let mut ops = put_ops(item, condition);
    let head = ops.remove(0);
    for op in ops.into_iter().chain([head]) {
        if let WriteOp::Put { item, condition } = op {
            app.items.put(item, condition).await?;
        }
    }
    Ok(())
}

/// The body stored under `key` by [`put_ops`], whole.
pub async fn get(app: &App, key: &Key) -> AppResult<Option<Value>> {
    let Some(head) = app.items.get(key).await? else { return Ok(None) };
    let (Some(parts), Some(digest)) = (head.body["parts"].as_u64(), head.body["digest"].as_str()) else {
        return Ok(Some(head.body));
    };
    let mut text = String::new();
    for i in 0..parts as usize {
        let part = app
            .items
            .get(&part_key(key, digest, i))
            .await?
            .ok_or_else(|| AppError::Internal(format!("{}/{}: part {i} of {parts} is missing", key.pk, key.sk)))?;
        text.push_str(part.body["text"].as_str().unwrap_or_default());
    }
    serde_json::from_str(&text).map(Some).map_err(|e| AppError::Internal(format!("{}/{}: {e}", key.pk, key.sk)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_body_is_one_item_and_a_large_one_is_split_within_the_limit() {
        let key = Key::new("release#foo#-#1.0", "rev#0000000001");
        let small = put_ops(Item::new(key.clone(), json!({"a": 1})), Condition::Absent);
        assert_eq!(small.len(), 1);
        // Quotes escape to two bytes each: the worst case for a part's size.
        let big = json!({"files": vec!["\"".repeat(1000); 1000]});
        let ops = put_ops(Item::new(key.clone(), big.clone()), Condition::Absent);
        assert!(ops.len() > 2, "{}", ops.len());
        let mut text = String::new();
        for (i, op) in ops.iter().enumerate() {
            let WriteOp::Put { item, condition } = op else { panic!("a put") };
            assert!(item.body.to_string().len() <= MAX_ITEM_BYTES, "op {i} fits");
            assert_eq!(*condition, if i == 0 { Condition::Absent } else { Condition::None });
            if i > 0 {
                assert_eq!(item.key.pk, key.pk);
                text.push_str(item.body["text"].as_str().unwrap());
            }
        }
        assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), big);
    }
}
