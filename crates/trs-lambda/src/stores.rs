//! Opens the stores a [`Config`] names and builds the [`App`] every handler shares for the
//! life of the execution environment (cold start once, then warm invocations).

use crate::config::{Backend, Config};
use std::sync::Arc;
use trs_app::App;
use trs_messaging_aws::SqsTaskNotifier;
use trs_storage::{BlobStore, ItemStore};
use trs_storage_aws::{DynamoItemStore, S3BlobStore};

/// Why a function could not start; reported to the Runtime API's init error endpoint.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error("cannot open the stores: {0}")]
    Stores(String),
    #[error("{0}")]
    Secret(String),
}

pub type Stores = (Arc<dyn ItemStore>, Arc<dyn BlobStore>);

/// What a function starts from: its configuration, the application over its stores, and the
/// AWS SDK configuration its clients share (loaded once, when the backend is `aws` or an
/// event bus is configured).
pub struct Environment {
    pub config: Config,
    pub app: App,
    pub aws: Option<aws_config::SdkConfig>,
}

/// Opens the configured stores and, on the `aws` backend, announces queued tasks on the
/// configured SQS queues. Every AWS client (DynamoDB, S3, SQS, EventBridge) is made from one
/// SDK configuration: one credential chain, one region, one endpoint override.
///
/// Release-stream events are not published from here on Lambda: `app.events` stays the
/// default sink that drops them, because the stream function forwards every committed
/// `event#` item from the table's change stream to the bus (the outbox pattern). Publishing
/// after the commit from each function could lose an event between the two steps; the change
/// stream cannot.
pub async fn open(config: Config) -> Result<Environment, InitError> {
    let aws = match (&config.backend, &config.event_bus) {
        (Backend::Aws { endpoint, .. }, _) => Some(trs_storage_aws::sdk_config(endpoint.as_deref()).await),
        (Backend::Embedded { .. }, Some(_)) => Some(trs_storage_aws::sdk_config(None).await),
        (Backend::Embedded { .. }, None) => None,
    };
    open_with(config, aws).await
}

/// [`open`] with the SDK configuration given rather than loaded from the environment (tests
/// run several functions in one process, each signing as its own IAM identity).
pub async fn open_with(config: Config, aws: Option<aws_config::SdkConfig>) -> Result<Environment, InitError> {
    let app = match &config.backend {
        Backend::Embedded { data, public_url } => {
            let (items, blobs) = trs_storage::embedded::open_data_dir(data, public_url.clone())
                .map_err(|e| InitError::Stores(format!("data folder {}: {e}", data.display())))?;
            App::new(Arc::new(items), Arc::new(blobs))
        }
        Backend::Aws { table, bucket, endpoint } => {
            let sdk = aws
                .as_ref()
                .ok_or_else(|| InitError::Stores("the aws backend needs an AWS SDK configuration".into()))?;
            let (items, blobs) = open_aws_stores(sdk, table, bucket, endpoint.is_some())?;
            let mut app = App::new(items, blobs);
            let queues = config.task_queues();
            if queues.commit.is_some() || queues.verify.is_some() || queues.promote.is_some() {
                app.notifier = Arc::new(SqsTaskNotifier::new(sdk, queues));
            }
            app
        }
    };
    let mut app = app;
    app.public_url = config.api_url.clone();
    app.download_url = config.download_url.clone();
    app.downloader = Some(Arc::new(trs_registry_clients::HttpDownloader::default()));
    app.audience = config.audience.clone();
    // The lifecycle schedule (and the vote function, on request) polls the projects' IMAP
    // mailboxes for vote replies; their passwords (TRS_IMAP_PASSWORD[_PROJECT]) come from the
    // mail secret where one is named, else from the function's environment.
    app.imap_passwords = Some(match &config.mail_secret {
        Some(secret) => crate::secrets::load_imap_passwords(&services_sdk(&aws).await, secret).await?,
        None => trs_app::mail::imap::passwords_from(|name| std::env::var(name).ok()),
    });
    if let Some(path) = &config.imap_ca_file {
        app.imap_extra_roots = trs_app::mail::ca::load(std::path::Path::new(path))
            .map_err(|e| crate::config::ConfigError::Invalid("TRS_IMAP_CA_FILE", e))?;
    }
    if config.mail == Some(crate::config::MailTransport::Ses) {
        app.mailer = Some(Arc::new(trs_messaging_aws::SesMailer::new(&services_sdk(&aws).await)));
    }
    app.registries = match &config.registry_secret {
        Some(secret) => crate::secrets::load_registries(&services_sdk(&aws).await, secret).await?,
        None => trs_app::distribute::Registries::from_lookup(
            |name| std::env::var(name).ok(),
            trs_registry_clients::client_for,
        ),
    };
    Ok(Environment { config, app, aws })
}

/// The AWS SDK configuration for the services beside the stores (Secrets Manager, SES): the
/// stores' own where the backend is aws, else the default chain (an embedded backend may
/// still send mail through SES or read its secrets).
async fn services_sdk(aws: &Option<aws_config::SdkConfig>) -> aws_config::SdkConfig {
    match aws {
        Some(sdk) => sdk.clone(),
        None => trs_storage_aws::sdk_config(None).await,
    }
}

/// The application over the configured stores (see [`open`]).
pub async fn open_app(config: &Config) -> Result<App, InitError> {
    Ok(open(config.clone()).await?.app)
}

/// The DynamoDB and S3 stores on `table` and `bucket`. Nothing is created or checked here: on
/// AWS the stack owns both, and a cold start should cost no request. `path_style` addresses
/// S3 as `http://host/bucket/key`, which local servers such as moto need.
pub fn open_aws_stores(
    sdk: &aws_config::SdkConfig,
    table: &str,
    bucket: &str,
    path_style: bool,
) -> Result<Stores, InitError> {
    if table.is_empty() || bucket.is_empty() {
        return Err(InitError::Stores("the aws backend needs a table and a bucket name".into()));
    }
    let (dynamo, s3) = trs_storage_aws::clients(sdk, path_style);
    Ok((Arc::new(DynamoItemStore::new(dynamo, table)), Arc::new(S3BlobStore::new(s3, bucket))))
}
