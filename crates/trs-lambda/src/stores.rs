//! Opens the stores a [`Config`] names and builds the [`App`] every handler shares for the
//! life of the execution environment (cold start once, then warm invocations).

use crate::config::{Backend, Config};
use std::sync::Arc;
use trs_app::App;
use trs_storage::{BlobStore, ItemStore};

/// Why a function could not start; reported to the Runtime API's init error endpoint.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error("cannot open the stores: {0}")]
    Stores(String),
}

pub type Stores = (Arc<dyn ItemStore>, Arc<dyn BlobStore>);

/// The application over the configured stores.
pub async fn open_app(config: &Config) -> Result<App, InitError> {
    let (items, blobs) = match &config.backend {
        Backend::Embedded { data, public_url } => {
            let (items, blobs) = trs_storage::embedded::open_data_dir(data, public_url.clone())
                .map_err(|e| InitError::Stores(format!("data folder {}: {e}", data.display())))?;
            (Arc::new(items) as Arc<dyn ItemStore>, Arc::new(blobs) as Arc<dyn BlobStore>)
        }
        Backend::Aws { .. } => open_aws_stores(config).await?,
    };
    // MERGE: trs_storage_aws — with the aws backend, announce queued tasks on
    // config.verify_queue_url / config.promote_queue_url (an SQS TaskNotifier); until then a
    // queued task waits for a message sent by someone else.
    Ok(App::new(items, blobs))
}

/// The seam for the DynamoDB and S3 stores, which live in `trs-storage-aws` (another branch).
// MERGE: trs_storage_aws — replace the body with
//     let Backend::Aws { table, bucket, endpoint } = &config.backend else { unreachable!() };
//     let settings = trs_storage_aws::AwsSettings { endpoint: endpoint.clone(), table: table.clone(), bucket: bucket.clone() };
//     let (items, blobs) = trs_storage_aws::open(&settings, false).await.map_err(InitError::Stores)?;
//     Ok((Arc::new(items), Arc::new(blobs)))
pub async fn open_aws_stores(config: &Config) -> Result<Stores, InitError> {
    let _ = config;
    Err(InitError::Stores("aws backend not linked yet".into()))
}
