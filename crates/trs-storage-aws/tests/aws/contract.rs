//! The storage contract suite (the same cases as the embedded store's) against DynamoDB and S3
//! as moto emulates them: a moto server and a fresh table or bucket per case,
//! both created from infra/template.json.

use std::sync::atomic::{AtomicUsize, Ordering};

use trs_storage_aws::moto::MotoServer;
use trs_storage_aws::{DynamoItemStore, S3BlobStore, clients, provision};

/// A moto server of the case's own (nextest runs every case in a process of its own), killed
/// when the case ends.
fn moto() -> MotoServer {
    MotoServer::start().expect("start moto (test.sh installs moto[server])")
}

/// A name no other case of this run uses.
fn fresh(kind: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    format!("trs-{kind}-{}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed))
}

async fn item_store() -> (DynamoItemStore, MotoServer) {
    let moto = moto();
    let (dynamo, _) = clients(&moto.sdk_config(), true);
    let table = fresh("table");
    provision::ensure_table(&dynamo, &table).await.expect("create the table from the template");
    (DynamoItemStore::new(dynamo, table), moto)
}

async fn blob_store() -> (S3BlobStore, MotoServer) {
    let moto = moto();
    let (_, s3) = clients(&moto.sdk_config(), true);
    let bucket = fresh("bucket");
    provision::ensure_bucket(&s3, &bucket).await.expect("create the bucket from the template");
    // The smallest parts S3 allows, so that the multi-MiB cases go through multipart uploads.
    (S3BlobStore::new(s3, bucket).with_part_size(trs_storage_aws::MIN_PART_SIZE), moto)
}

trs_storage::item_store_contract!(item_store());
trs_storage::blob_store_contract!(blob_store());
