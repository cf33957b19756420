//! The table and bucket created from infra/template.json are what the template says, and
//! creating them again is harmless (`--aws-create` on every start).

use trs_storage_aws::moto::MotoServer;
use trs_storage_aws::{clients, provision};

#[tokio::test]
async fn resources_from_the_template() {
    let moto = MotoServer::start().expect("start moto (test.sh installs moto[server])");
    let (dynamo, s3) = clients(&moto.sdk_config(), true);
    for _ in 0..2 {
        provision::ensure_table(&dynamo, "items").await.unwrap();
        provision::ensure_bucket(&s3, "files").await.unwrap();
    }

    let table = dynamo.describe_table().table_name("items").send().await.unwrap().table.unwrap();
    let keys: Vec<_> = table.key_schema().iter().map(|k| (k.attribute_name(), k.key_type().as_str())).collect();
    assert_eq!(keys, [("pk", "HASH"), ("sk", "RANGE")]);
    let index = &table.global_secondary_indexes()[0];
    assert_eq!(index.index_name(), Some(trs_storage_aws::GSI1));
    assert_eq!(index.projection().and_then(|p| p.projection_type()).map(|t| t.as_str()), Some("ALL"));
    assert_eq!(
        table.billing_mode_summary().and_then(|b| b.billing_mode()).map(|b| b.as_str()),
        Some("PAY_PER_REQUEST")
    );
    let ttl = dynamo.describe_time_to_live().table_name("items").send().await.unwrap();
    let ttl = ttl.time_to_live_description().unwrap();
    assert_eq!(ttl.attribute_name(), Some("expires_at"));
    assert_eq!(ttl.time_to_live_status().map(|s| s.as_str()), Some("ENABLED"));

    // moto names the response's root element GetBucketVersioningResponse where S3 has
    // VersioningConfiguration, which the SDK refuses to parse: read the answer itself.
    let versioning = match s3.get_bucket_versioning().bucket("files").send().await {
        Ok(out) => out.status().map(|s| s.as_str().to_string()).unwrap_or_default(),
        Err(e) => {
            let raw = e.raw_response().expect("an HTTP answer");
            assert_eq!(raw.status().as_u16(), 200);
            let body = String::from_utf8_lossy(raw.body().bytes().unwrap()).into_owned();
            let status = body.split("<Status>").nth(1).and_then(|rest| rest.split("</Status>").next());
            status.unwrap_or_default().to_string()
        }
    };
    assert_eq!(versioning, "Enabled");
    let block = s3.get_public_access_block().bucket("files").send().await.unwrap();
    let block = block.public_access_block_configuration().unwrap();
    assert_eq!(
        (
            block.block_public_acls(),
            block.block_public_policy(),
            block.ignore_public_acls(),
            block.restrict_public_buckets()
        ),
        (Some(true), Some(true), Some(true), Some(true))
    );
}
