//! [`ItemStore`] on one DynamoDB table (the single-table design of docs/aws-storage.md).
//!
//! Attributes of every item: `pk`, `sk` (strings, the table's key), `gsi1pk`/`gsi1sk` (strings,
//! only on items in the secondary index `gsi1`, which projects whole items), `version`
//! (number), `body` (the item's JSON as one string attribute: no attribute-by-attribute mapping
//! to keep in step with the domain types) and `expires_at` (number, unix seconds; the table's TTL
//! attribute).
//!
//! DynamoDB's TTL deletes expired items lazily (typically within days), so expiry is enforced
//! here: reads drop expired items, and every condition treats an expired item as absent.
//! Conditions are DynamoDB condition expressions evaluated by DynamoDB itself, atomically with
//! the write, which is what makes optimistic concurrency hold across many Lambda instances.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, Delete, Put, TransactWriteItem};
use trs_storage::item::{is_live, validate_query, validate_transaction, validate_write};
use trs_storage::{Condition, Item, ItemStore, Key, Page, Query, SortKeyRange, StoreError, WriteOp};

/// The name of the secondary index, as in infra/template.json.
pub const GSI1: &str = "gsi1";

type Attrs = HashMap<String, AttributeValue>;

#[derive(Clone)]
pub struct DynamoItemStore {
    client: Client,
    table: String,
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

fn backend<E: ProvideErrorMetadata + std::error::Error + 'static, R: std::fmt::Debug>(
    what: &str,
    e: SdkError<E, R>,
) -> StoreError {
    let detail = match e.as_service_error() {
        Some(s) => format!("{}: {}", s.code().unwrap_or("error"), s.message().unwrap_or("")),
        None => format!("{}", aws_sdk_dynamodb::error::DisplayErrorContext(&e)),
    };
    StoreError::Backend(format!("DynamoDB {what}: {detail}"))
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn key_attrs(key: &Key) -> Attrs {
    HashMap::from([("pk".to_string(), s(&key.pk)), ("sk".to_string(), s(&key.sk))])
}

fn to_attrs(item: &Item) -> Result<Attrs, StoreError> {
    let mut attrs = key_attrs(&item.key);
    let body = serde_json::to_string(&item.body).map_err(|e| StoreError::Invalid(e.to_string()))?;
    attrs.insert("body".into(), s(body));
    attrs.insert("version".into(), n(item.version));
    if let Some(g) = &item.gsi1 {
        attrs.insert("gsi1pk".into(), s(&g.pk));
        attrs.insert("gsi1sk".into(), s(&g.sk));
    }
    if let Some(at) = item.expires_at {
        attrs.insert("expires_at".into(), n(at));
    }
    Ok(attrs)
}

fn from_attrs(attrs: &Attrs) -> Result<Item, StoreError> {
    let text = |name: &str| attrs.get(name).and_then(|v| v.as_s().ok()).cloned();
    let number = |name: &str| attrs.get(name).and_then(|v| v.as_n().ok()).cloned();
    let key = Key::new(text("pk").unwrap_or_default(), text("sk").unwrap_or_default());
    let corrupt = |reason: String| StoreError::Corrupt { key: key.clone(), reason };
    let body = text("body").ok_or_else(|| corrupt("no string attribute `body`".into()))?;
    let body = serde_json::from_str(&body).map_err(|e| corrupt(format!("`body` is not valid JSON: {e}")))?;
    let version = number("version")
        .ok_or_else(|| corrupt("no number attribute `version`".into()))?
        .parse()
        .map_err(|e| corrupt(format!("`version` is not a version number: {e}")))?;
    let expires_at = number("expires_at")
        .map(|v| v.parse::<i64>().map_err(|e| corrupt(format!("`expires_at` is not unix seconds: {e}"))))
        .transpose()?;
    let gsi1 = match (text("gsi1pk"), text("gsi1sk")) {
        (Some(pk), Some(sk)) => Some(Key::new(pk, sk)),
        _ => None,
    };
    Ok(Item { key, version, body, gsi1, expires_at })
}

/// A condition as a DynamoDB condition expression with its values, `None` for no condition.
/// Expired items count as absent: `expires_at < :now` is how an item can be "absent" while
/// DynamoDB's TTL has not yet removed it.
fn condition_expression(condition: Condition, now: i64) -> Option<(String, Attrs)> {
    match condition {
        Condition::None => None,
        Condition::Absent => Some((
            "attribute_not_exists(pk) OR expires_at < :now".into(),
            HashMap::from([(":now".to_string(), n(now))]),
        )),
        Condition::VersionIs(v) => Some((
            "version = :version AND (attribute_not_exists(expires_at) OR expires_at >= :now)".into(),
            HashMap::from([(":version".to_string(), n(v)), (":now".to_string(), n(now))]),
        )),
    }
}

/// The sort-key condition sent to DynamoDB: a superset of the query's range and cursor that
/// DynamoDB's single sort-key comparison can express; the rest is filtered in [`Filter`].
#[derive(Debug, PartialEq)]
enum SortCondition {
    Any,
    BeginsWith(String),
    After(String),
    Before(String),
    Between(String, String),
}

/// Exactly the query's range and cursor, applied to what DynamoDB returns.
struct Filter<'a> {
    query: &'a Query,
}

impl Filter<'_> {
    fn in_range(&self, sk: &str) -> bool {
        let in_range = match &self.query.range {
            SortKeyRange::All => true,
            SortKeyRange::Prefix(p) => sk.starts_with(p.as_str()),
            SortKeyRange::Between { from, to } => sk >= from.as_str() && sk < to.as_str(),
        };
        let after_cursor = match &self.query.after {
            None => true,
            Some(a) if self.query.reverse => sk < a.as_str(),
            Some(a) => sk > a.as_str(),
        };
        in_range && after_cursor
    }

    /// True once items (in the query's order) can no longer fall in the range.
    fn beyond(&self, sk: &str) -> bool {
        match (&self.query.range, self.query.reverse) {
            (SortKeyRange::All, _) => false,
            (SortKeyRange::Prefix(p), false) => sk > p.as_str() && !sk.starts_with(p.as_str()),
            (SortKeyRange::Prefix(p), true) => sk < p.as_str(),
            (SortKeyRange::Between { to, .. }, false) => sk >= to.as_str(),
            (SortKeyRange::Between { from, .. }, true) => sk < from.as_str(),
        }
    }
}

/// `None` when the query cannot match anything (DynamoDB refuses an inverted BETWEEN).
///
/// DynamoDB refuses an empty string as a key-condition value (`ValidationException`: "a key
/// attribute cannot contain an empty string value"), where the trait's ranges allow one: the
/// empty string is below every sort key, so an empty lower bound is no bound at all. Such
/// conditions are sent as the one-sided comparison (or none) that means the same.
fn sort_condition(query: &Query) -> Option<SortCondition> {
    use SortCondition::*;
    Some(match exact_sort_condition(query)? {
        BeginsWith(p) | After(p) if p.is_empty() => Any,
        Between(lo, hi) if lo.is_empty() => Before(hi),
        Before(hi) if hi.is_empty() => return None,
        other => other,
    })
}

/// The sort-key condition as the range and cursor say it, empty bounds included.
fn exact_sort_condition(query: &Query) -> Option<SortCondition> {
    use SortCondition::*;
    let after = query.after.as_deref();
    Some(match (&query.range, after) {
        (SortKeyRange::All, None) => Any,
        (SortKeyRange::All, Some(a)) if query.reverse => Before(a.into()),
        (SortKeyRange::All, Some(a)) => After(a.into()),
        (SortKeyRange::Prefix(p), None) => BeginsWith(p.clone()),
        (SortKeyRange::Prefix(p), Some(a)) => {
            // A string above the prefix that does not start with it is above every one that does.
            let above_all = a > p.as_str() && !a.starts_with(p.as_str());
            match (query.reverse, a.starts_with(p.as_str()), above_all) {
                (false, true, _) => After(a.into()),
                (false, false, true) => return None,
                (false, false, false) => BeginsWith(p.clone()),
                (true, true, _) => Between(p.clone(), a.into()),
                (true, false, true) => BeginsWith(p.clone()),
                (true, false, false) => return None,
            }
        }
        (SortKeyRange::Between { from, to }, a) => {
            let (mut lo, mut hi) = (from.as_str(), to.as_str());
            match a {
                Some(a) if query.reverse => hi = hi.min(a),
                Some(a) => lo = lo.max(a),
                None => {}
            }
            if lo >= hi {
                return None;
            }
            Between(lo.into(), hi.into())
        }
    })
}

impl DynamoItemStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    fn put_request(&self, item: &Item, condition: Condition, now: i64) -> Result<Put, StoreError> {
        let mut put = Put::builder().table_name(&self.table).set_item(Some(to_attrs(item)?));
        if let Some((expr, values)) = condition_expression(condition, now) {
            put = put.condition_expression(expr).set_expression_attribute_values(Some(values));
        }
        put.build().map_err(|e| StoreError::Invalid(e.to_string()))
    }

    fn transact_item(&self, op: &WriteOp, now: i64) -> Result<TransactWriteItem, StoreError> {
        let invalid = |e: aws_sdk_dynamodb::error::BuildError| StoreError::Invalid(e.to_string());
        Ok(match op {
            WriteOp::Put { item, condition } => {
                TransactWriteItem::builder().put(self.put_request(item, *condition, now)?).build()
            }
            WriteOp::Delete { key, condition } => {
                let mut delete = Delete::builder().table_name(&self.table).set_key(Some(key_attrs(key)));
                if let Some((expr, values)) = condition_expression(*condition, now) {
                    delete = delete.condition_expression(expr).set_expression_attribute_values(Some(values));
                }
                TransactWriteItem::builder().delete(delete.build().map_err(invalid)?).build()
            }
            WriteOp::Check { key, condition } => {
                // A ConditionCheck needs an expression; `None` holds for any item or none.
                let (expr, values) = condition_expression(*condition, now)
                    .unwrap_or_else(|| ("attribute_exists(pk) OR attribute_not_exists(pk)".into(), HashMap::new()));
                let check = ConditionCheck::builder()
                    .table_name(&self.table)
                    .set_key(Some(key_attrs(key)))
                    .condition_expression(expr)
                    .set_expression_attribute_values((!values.is_empty()).then_some(values));
                TransactWriteItem::builder().condition_check(check.build().map_err(invalid)?).build()
            }
        })
    }

    /// Reads pages from DynamoDB until `query.limit` matching live items and one more are
    /// found (the one more says whether a cursor is needed), or the range is exhausted.
    async fn query_on(&self, query: Query, index: bool) -> Result<Page, StoreError> {
        validate_query(&query)?;
        let Some(condition) = sort_condition(&query) else {
            return Ok(Page { items: vec![], next: None });
        };
        let (pk_name, sk_name) = if index { ("gsi1pk", "gsi1sk") } else { ("pk", "sk") };
        let mut values = HashMap::from([(":pk".to_string(), s(&query.pk))]);
        let sort_expr = match &condition {
            SortCondition::Any => None,
            SortCondition::BeginsWith(p) => {
                values.insert(":a".into(), s(p));
                Some("begins_with(#sk, :a)")
            }
            SortCondition::After(a) => {
                values.insert(":a".into(), s(a));
                Some("#sk > :a")
            }
            SortCondition::Before(a) => {
                values.insert(":a".into(), s(a));
                Some("#sk < :a")
            }
            SortCondition::Between(a, b) => {
                values.insert(":a".into(), s(a));
                values.insert(":b".into(), s(b));
                Some("#sk BETWEEN :a AND :b")
            }
        };
        let mut names = HashMap::from([("#pk".to_string(), pk_name.to_string())]);
        if sort_expr.is_some() {
            names.insert("#sk".into(), sk_name.into());
        }
        let key_condition = match sort_expr {
            Some(e) => format!("#pk = :pk AND {e}"),
            None => "#pk = :pk".into(),
        };
        let filter = Filter { query: &query };
        let now = now();
        let mut found: Vec<(String, Item)> = Vec::new();
        let mut start: Option<Attrs> = None;
        'pages: loop {
            let wanted = query.limit + 1 - found.len();
            let mut request = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression(&key_condition)
                .set_expression_attribute_names(Some(names.clone()))
                .set_expression_attribute_values(Some(values.clone()))
                .scan_index_forward(!query.reverse)
                // A little over what is wanted: expired or excluded items may be among them.
                .limit(i32::try_from(wanted + 8).unwrap_or(i32::MAX).min(1000))
                .set_exclusive_start_key(start.take());
            request = if index { request.index_name(GSI1) } else { request.consistent_read(true) };
            let output = request.send().await.map_err(|e| backend("query", e))?;
            for attrs in output.items() {
                let item = from_attrs(attrs)?;
                let sort_key = if index {
                    match &item.gsi1 {
                        Some(g) => g.sk.clone(),
                        None => continue,
                    }
                } else {
                    item.key.sk.clone()
                };
                if filter.beyond(&sort_key) {
                    break 'pages;
                }
                if !filter.in_range(&sort_key) || !is_live(item.expires_at, now) {
                    continue;
                }
                found.push((sort_key, item));
                if found.len() > query.limit {
                    break 'pages;
                }
            }
            match output.last_evaluated_key() {
                Some(last) => start = Some(last.clone()),
                None => break,
            }
        }
        let next = if found.len() > query.limit {
            found.truncate(query.limit);
            found.last().map(|(sk, _)| sk.clone())
        } else {
            None
        };
        Ok(Page { items: found.into_iter().map(|(_, item)| item).collect(), next })
    }
}

#[async_trait]
impl ItemStore for DynamoItemStore {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        trs_storage::item::check_key(key, "item")?;
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key_attrs(key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| backend("get", e))?;
        let item = output.item().map(from_attrs).transpose()?;
        Ok(item.filter(|i| is_live(i.expires_at, now())))
    }

    async fn put(&self, item: Item, condition: Condition) -> Result<(), StoreError> {
        let op = WriteOp::Put { item, condition };
        validate_write(&op)?;
        let WriteOp::Put { item, condition } = op else { unreachable!("built as a put above") };
        let mut request = self.client.put_item().table_name(&self.table).set_item(Some(to_attrs(&item)?));
        if let Some((expr, values)) = condition_expression(condition, now()) {
            request = request.condition_expression(expr).set_expression_attribute_values(Some(values));
        }
        let result = request.send().await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_conditional_check_failed_exception()) => {
                Err(StoreError::ConditionFailed { key: item.key })
            }
            // Another transaction is writing this item right now: someone else writes first.
            Err(e) if e.as_service_error().is_some_and(|s| s.is_transaction_conflict_exception()) => {
                Err(StoreError::ConditionFailed { key: item.key })
            }
            Err(e) => Err(backend("put", e)),
        }
    }

    async fn delete(&self, key: &Key, condition: Condition) -> Result<(), StoreError> {
        validate_write(&WriteOp::Delete { key: key.clone(), condition })?;
        let mut request = self.client.delete_item().table_name(&self.table).set_key(Some(key_attrs(key)));
        if let Some((expr, values)) = condition_expression(condition, now()) {
            request = request.condition_expression(expr).set_expression_attribute_values(Some(values));
        }
        match request.send().await {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error().is_some_and(|s| {
                    s.is_conditional_check_failed_exception() || s.is_transaction_conflict_exception()
                }) =>
            {
                Err(StoreError::ConditionFailed { key: key.clone() })
            }
            Err(e) => Err(backend("delete", e)),
        }
    }

    async fn transact(&self, ops: Vec<WriteOp>) -> Result<(), StoreError> {
        validate_transaction(&ops)?;
        if ops.is_empty() {
            return Ok(());
        }
        let now = now();
        let items = ops.iter().map(|op| self.transact_item(op, now)).collect::<Result<Vec<_>, _>>()?;
        let error = match self.client.transact_write_items().set_transact_items(Some(items)).send().await {
            Ok(_) => return Ok(()),
            Err(e) => e,
        };
        if let Some(
            aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(
                cancelled,
            ),
        ) = error.as_service_error()
        {
            let codes: Vec<&str> =
                cancelled.cancellation_reasons().iter().map(|r| r.code().unwrap_or("None")).collect();
            // The first failed condition, else the first item another transaction held: both
            // mean "someone else wrote first", which callers retry or report as a conflict.
            let index = codes
                .iter()
                .position(|c| *c == "ConditionalCheckFailed")
                .or_else(|| codes.iter().position(|c| *c == "TransactionConflict"));
            if let Some(index) = index.filter(|i| *i < ops.len()) {
                return Err(StoreError::TransactionCancelled { index, key: ops[index].key().clone() });
            }
            return Err(StoreError::Backend(format!("DynamoDB transaction cancelled: {codes:?}")));
        }
        Err(backend("transaction", error))
    }

    async fn query(&self, query: Query) -> Result<Page, StoreError> {
        self.query_on(query, false).await
    }

    async fn query_gsi1(&self, query: Query) -> Result<Page, StoreError> {
        self.query_on(query, true).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(range: SortKeyRange, reverse: bool, after: Option<&str>) -> Query {
        Query { range, reverse, after: after.map(str::to_string), ..Query::partition("p") }
    }

    #[test]
    fn sort_conditions_cover_range_and_cursor() {
        use SortCondition::*;
        let prefix = || SortKeyRange::Prefix("b".into());
        assert_eq!(sort_condition(&q(prefix(), false, Some("a"))), Some(BeginsWith("b".into())));
        assert_eq!(sort_condition(&q(prefix(), false, Some("b#1"))), Some(After("b#1".into())));
        assert_eq!(sort_condition(&q(prefix(), false, Some("c"))), None);
        assert_eq!(sort_condition(&q(prefix(), true, Some("c"))), Some(BeginsWith("b".into())));
        assert_eq!(sort_condition(&q(prefix(), true, Some("b#1"))), Some(Between("b".into(), "b#1".into())));
        assert_eq!(sort_condition(&q(prefix(), true, Some("a"))), None);
        let between = || SortKeyRange::Between { from: "b".into(), to: "d".into() };
        assert_eq!(sort_condition(&q(between(), false, None)), Some(Between("b".into(), "d".into())));
        assert_eq!(sort_condition(&q(between(), false, Some("c"))), Some(Between("c".into(), "d".into())));
        assert_eq!(sort_condition(&q(between(), true, Some("c"))), Some(Between("b".into(), "c".into())));
        assert_eq!(sort_condition(&q(between(), true, Some("a"))), None);
        assert_eq!(sort_condition(&q(SortKeyRange::Between { from: "b".into(), to: "b".into() }, false, None)), None);
    }

    #[test]
    fn empty_bounds_are_never_sent() {
        use SortCondition::*;
        let from_start = || SortKeyRange::Between { from: String::new(), to: "d".into() };
        assert_eq!(sort_condition(&q(from_start(), false, None)), Some(Before("d".into())));
        assert_eq!(sort_condition(&q(from_start(), false, Some("b"))), Some(Between("b".into(), "d".into())));
        assert_eq!(sort_condition(&q(from_start(), true, Some("b"))), Some(Before("b".into())));
        assert_eq!(sort_condition(&q(SortKeyRange::Prefix(String::new()), false, None)), Some(Any));
        assert_eq!(sort_condition(&q(SortKeyRange::Prefix(String::new()), true, Some("b"))), Some(Before("b".into())));
        assert_eq!(sort_condition(&q(SortKeyRange::All, false, Some(""))), Some(Any));
        assert_eq!(sort_condition(&q(SortKeyRange::All, true, Some(""))), None);
    }

    #[test]
    fn items_round_trip_through_attributes() {
        let item = Item::new(Key::new("p", "s"), serde_json::json!({"a": [1, 2]}))
            .with_gsi1(Key::new("g", "h"))
            .with_expiry(1234);
        assert_eq!(from_attrs(&to_attrs(&item).unwrap()).unwrap(), item);
        let plain = Item::new(Key::new("p", "s"), serde_json::json!(null));
        assert_eq!(from_attrs(&to_attrs(&plain).unwrap()).unwrap(), plain);
    }
}
