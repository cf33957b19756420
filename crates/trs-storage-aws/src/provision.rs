//! Creates the table and the bucket on a server that has no CloudFormation stack (moto, a
//! laptop), from the resource definitions in `infra/template.json`: the template is the one
//! definition of both, so what tests run against is what a deployment gets.
//!
//! Mapped from the template: the table's `AttributeDefinitions`, `KeySchema`,
//! `GlobalSecondaryIndexes` (name, keys, projection), `BillingMode` and
//! `TimeToLiveSpecification`; the bucket's `VersioningConfiguration` and
//! `PublicAccessBlockConfiguration`. Names come from the caller (CloudFormation names them on
//! AWS). A property this module does not map is refused rather than silently dropped, unless
//! listed in [`IGNORED_TABLE_PROPERTIES`] / [`IGNORED_BUCKET_PROPERTIES`] with the reason.

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType,
    ScalarAttributeType, TimeToLiveSpecification,
};
use aws_sdk_s3::types::{BucketVersioningStatus, PublicAccessBlockConfiguration, VersioningConfiguration};
use serde_json::Value;

/// The deployment template, compiled in.
pub const TEMPLATE: &str = include_str!("../../../infra/template.json");

/// Logical ids of the resources in the template.
pub const TABLE_RESOURCE: &str = "ItemsTable";
pub const BUCKET_RESOURCE: &str = "ReleaseFilesBucket";
pub const SITE_BUCKET_RESOURCE: &str = "SiteBucket";

/// Table properties that only matter on AWS (backups, the change stream feeding the stream
/// function, tags).
pub const IGNORED_TABLE_PROPERTIES: &[&str] =
    &["PointInTimeRecoverySpecification", "StreamSpecification", "SSESpecification", "Tags"];
/// Bucket properties that only matter on AWS (encryption at rest, object ownership, lifecycle
/// rules that clean up after days, tags).
pub const IGNORED_BUCKET_PROPERTIES: &[&str] =
    &["BucketEncryption", "OwnershipControls", "LifecycleConfiguration", "Tags"];

fn resource(logical_id: &str, kind: &str) -> Result<Value, String> {
    let template: Value =
        serde_json::from_str(TEMPLATE).map_err(|e| format!("infra/template.json is not valid JSON: {e}"))?;
    let resource = &template["Resources"][logical_id];
    if resource["Type"] != kind {
        return Err(format!("infra/template.json has no {kind} resource named {logical_id}"));
    }
    Ok(resource["Properties"].clone())
}

fn text<'a>(v: &'a Value, field: &str, what: &str) -> Result<&'a str, String> {
    v[field].as_str().ok_or_else(|| format!("{what}: `{field}` is not a literal string in infra/template.json"))
}

fn check_mapped(properties: &Value, mapped: &[&str], ignored: &[&str], what: &str) -> Result<(), String> {
    let object = properties.as_object().ok_or_else(|| format!("{what} has no Properties object"))?;
    for name in object.keys() {
        if !mapped.contains(&name.as_str()) && !ignored.contains(&name.as_str()) {
            return Err(format!("{what} property {name} in infra/template.json is not mapped by provision.rs"));
        }
    }
    Ok(())
}

fn key_schema(v: &Value, what: &str) -> Result<Vec<KeySchemaElement>, String> {
    v.as_array()
        .ok_or_else(|| format!("{what}: KeySchema is not a list"))?
        .iter()
        .map(|k| {
            KeySchemaElement::builder()
                .attribute_name(text(k, "AttributeName", what)?)
                .key_type(KeyType::from(text(k, "KeyType", what)?))
                .build()
                .map_err(|e| e.to_string())
        })
        .collect()
}

/// The table's definition from the template, as a `CreateTable` request for `name`, plus
/// the TTL attribute if the template enables one.
pub struct TableDefinition {
    pub attributes: Vec<AttributeDefinition>,
    pub keys: Vec<KeySchemaElement>,
    pub indexes: Vec<GlobalSecondaryIndex>,
    pub billing: BillingMode,
    pub ttl_attribute: Option<String>,
}

pub fn table_definition() -> Result<TableDefinition, String> {
    let what = TABLE_RESOURCE;
    let p = resource(what, "AWS::DynamoDB::Table")?;
    let mapped =
        ["AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes", "BillingMode", "TimeToLiveSpecification"];
    check_mapped(&p, &mapped, IGNORED_TABLE_PROPERTIES, what)?;
    let attributes = p["AttributeDefinitions"]
        .as_array()
        .ok_or("ItemsTable: AttributeDefinitions is not a list")?
        .iter()
        .map(|a| {
            AttributeDefinition::builder()
                .attribute_name(text(a, "AttributeName", what)?)
                .attribute_type(ScalarAttributeType::from(text(a, "AttributeType", what)?))
                .build()
                .map_err(|e| e.to_string())
        })
        .collect::<Result<_, String>>()?;
    let indexes = p["GlobalSecondaryIndexes"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|g| {
            let projection = Projection::builder()
                .projection_type(ProjectionType::from(g["Projection"]["ProjectionType"].as_str().unwrap_or("ALL")))
                .build();
            GlobalSecondaryIndex::builder()
                .index_name(text(g, "IndexName", what)?)
                .set_key_schema(Some(key_schema(&g["KeySchema"], what)?))
                .projection(projection)
                .build()
                .map_err(|e| e.to_string())
        })
        .collect::<Result<_, String>>()?;
    let ttl = &p["TimeToLiveSpecification"];
    Ok(TableDefinition {
        attributes,
        keys: key_schema(&p["KeySchema"], what)?,
        indexes,
        billing: BillingMode::from(p["BillingMode"].as_str().unwrap_or("PAY_PER_REQUEST")),
        ttl_attribute: (ttl["Enabled"] == true).then(|| ttl["AttributeName"].as_str().map(str::to_string)).flatten(),
    })
}

/// The bucket's settings from the template.
pub struct BucketDefinition {
    pub versioning: Option<BucketVersioningStatus>,
    pub public_access_block: Option<PublicAccessBlockConfiguration>,
}

pub fn bucket_definition() -> Result<BucketDefinition, String> {
    bucket_definition_of(BUCKET_RESOURCE)
}

/// The settings of the template's bucket `logical_id` (the release files' or the site's).
pub fn bucket_definition_of(logical_id: &str) -> Result<BucketDefinition, String> {
    let what = logical_id;
    let p = resource(what, "AWS::S3::Bucket")?;
    check_mapped(&p, &["VersioningConfiguration", "PublicAccessBlockConfiguration"], IGNORED_BUCKET_PROPERTIES, what)?;
    let versioning = p["VersioningConfiguration"]["Status"].as_str().map(BucketVersioningStatus::from);
    let block = &p["PublicAccessBlockConfiguration"];
    let flag = |name: &str| block[name].as_bool();
    let public_access_block = block.is_object().then(|| {
        PublicAccessBlockConfiguration::builder()
            .set_block_public_acls(flag("BlockPublicAcls"))
            .set_block_public_policy(flag("BlockPublicPolicy"))
            .set_ignore_public_acls(flag("IgnorePublicAcls"))
            .set_restrict_public_buckets(flag("RestrictPublicBuckets"))
            .build()
    });
    Ok(BucketDefinition { versioning, public_access_block })
}

/// Creates table `name` as the template defines it, unless it exists.
pub async fn ensure_table(client: &aws_sdk_dynamodb::Client, name: &str) -> Result<(), String> {
    match client.describe_table().table_name(name).send().await {
        Ok(_) => return Ok(()),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_not_found_exception()) => {}
        Err(e) => {
            return Err(format!("cannot look up table {name}: {}", aws_sdk_dynamodb::error::DisplayErrorContext(&e)));
        }
    }
    let def = table_definition()?;
    let created = client
        .create_table()
        .table_name(name)
        .set_attribute_definitions(Some(def.attributes))
        .set_key_schema(Some(def.keys))
        .set_global_secondary_indexes((!def.indexes.is_empty()).then_some(def.indexes))
        .billing_mode(def.billing)
        .send()
        .await;
    match created {
        Ok(_) => {}
        // Another process created it in between: fine.
        Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_in_use_exception()) => return Ok(()),
        Err(e) => {
            return Err(format!("cannot create table {name}: {}", aws_sdk_dynamodb::error::DisplayErrorContext(&e)));
        }
    }
    if let Some(attribute) = def.ttl_attribute {
        let spec = TimeToLiveSpecification::builder()
            .attribute_name(attribute)
            .enabled(true)
            .build()
            .map_err(|e| e.to_string())?;
        client.update_time_to_live().table_name(name).time_to_live_specification(spec).send().await.map_err(|e| {
            format!("cannot enable TTL on {name}: {}", aws_sdk_dynamodb::error::DisplayErrorContext(&e))
        })?;
    }
    Ok(())
}

/// Creates bucket `name` as the template defines the release-files bucket, unless it exists.
pub async fn ensure_bucket(client: &aws_sdk_s3::Client, name: &str) -> Result<(), String> {
    ensure_bucket_as(client, name, BUCKET_RESOURCE).await
}

/// Creates bucket `name` as the template defines the site bucket, unless it exists.
pub async fn ensure_site_bucket(client: &aws_sdk_s3::Client, name: &str) -> Result<(), String> {
    ensure_bucket_as(client, name, SITE_BUCKET_RESOURCE).await
}

async fn ensure_bucket_as(client: &aws_sdk_s3::Client, name: &str, logical_id: &str) -> Result<(), String> {
    if client.head_bucket().bucket(name).send().await.is_ok() {
        return Ok(());
    }
    let def = bucket_definition_of(logical_id)?;
    match client.create_bucket().bucket(name).send().await {
        Ok(_) => {}
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_bucket_already_owned_by_you() || s.is_bucket_already_exists()) => {}
        Err(e) => return Err(format!("cannot create bucket {name}: {}", aws_sdk_s3::error::DisplayErrorContext(&e))),
    }
    if let Some(status) = def.versioning {
        client
            .put_bucket_versioning()
            .bucket(name)
            .versioning_configuration(VersioningConfiguration::builder().status(status).build())
            .send()
            .await
            .map_err(|e| {
                format!("cannot enable versioning on {name}: {}", aws_sdk_s3::error::DisplayErrorContext(&e))
            })?;
    }
    if let Some(block) = def.public_access_block {
        client.put_public_access_block().bucket(name).public_access_block_configuration(block).send().await.map_err(
            |e| format!("cannot block public access on {name}: {}", aws_sdk_s3::error::DisplayErrorContext(&e)),
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_template_defines_what_the_stores_use() {
        let table = table_definition().unwrap();
        let keys: Vec<_> = table.keys.iter().map(|k| (k.attribute_name(), k.key_type().as_str())).collect();
        assert_eq!(keys, [("pk", "HASH"), ("sk", "RANGE")]);
        let index = table.indexes.iter().find(|i| i.index_name() == crate::GSI1).expect("gsi1 in the template");
        let keys: Vec<_> = index.key_schema().iter().map(|k| (k.attribute_name(), k.key_type().as_str())).collect();
        assert_eq!(keys, [("gsi1pk", "HASH"), ("gsi1sk", "RANGE")]);
        assert_eq!(index.projection().and_then(|p| p.projection_type()), Some(&ProjectionType::All));
        assert_eq!(table.ttl_attribute.as_deref(), Some("expires_at"));
        assert_eq!(table.billing, BillingMode::PayPerRequest);
        let bucket = bucket_definition().unwrap();
        assert_eq!(bucket.versioning, Some(BucketVersioningStatus::Enabled));
        let block = bucket.public_access_block.unwrap();
        assert_eq!(block.block_public_acls(), Some(true));
        assert_eq!(block.restrict_public_buckets(), Some(true));
        let site = bucket_definition_of(SITE_BUCKET_RESOURCE).unwrap();
        assert_eq!(site.public_access_block.and_then(|b| b.block_public_policy()), Some(true));
    }
}
