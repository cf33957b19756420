//! trs's storage on AWS: [`DynamoItemStore`] (one DynamoDB table) and [`S3BlobStore`] (one S3
//! bucket), the same traits and the same contract suite as the embedded store; and the
//! public site's [`S3SiteStore`] (the site bucket behind CloudFront) and
//! [`CloudFrontInvalidator`] (the CDN forgets the pages a publish changed).
//!
//! Region and credentials come from the standard AWS environment and config files
//! (`aws-config`: `AWS_REGION`, `AWS_ACCESS_KEY_ID`, `AWS_PROFILE`, the Lambda role, …); an
//! explicit endpoint points both clients at a local server such as moto. [`provision`] creates
//! the table and bucket from `infra/template.json`, the one definition of both.

mod cdn;
mod dynamo;
pub mod provision;
mod s3;
pub mod secrets;
mod site;

#[cfg(feature = "moto")]
pub mod moto;

pub use cdn::{CloudFrontInvalidator, EVERYTHING, MAX_FILE_PATHS, MAX_WILDCARD_PATHS, invalidation_paths};
pub use dynamo::{DynamoItemStore, GSI1};
pub use s3::{CLIENT_PART_SIZE, MIN_PART_SIZE, PART_SIZE, S3BlobStore};
pub use site::{DIGEST_METADATA, S3SiteStore};

/// Where the stores live.
#[derive(Debug, Clone, Default)]
pub struct AwsSettings {
    /// Endpoint of an S3- and DynamoDB-compatible server (moto, LocalStack); `None` for AWS.
    pub endpoint: Option<String>,
    pub table: String,
    pub bucket: String,
}

/// The SDK configuration from the standard AWS environment, with `endpoint` as an override.
/// With an endpoint and no region configured, the region is `us-east-1` (local servers
/// accept any).
pub async fn sdk_config(endpoint: Option<&str>) -> aws_config::SdkConfig {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    if let Some(endpoint) = endpoint {
        // Environment and profile only: a local server has no instance metadata to ask.
        let region = aws_config::meta::region::RegionProviderChain::first_try(
            aws_config::environment::EnvironmentVariableRegionProvider::new(),
        )
        .or_else(aws_config::profile::ProfileFileRegionProvider::builder().build())
        .or_else("us-east-1");
        loader = loader.endpoint_url(endpoint).region(region);
    }
    loader.load().await
}

/// Both clients for `config`. With an endpoint override S3 is addressed path-style
/// (`http://host/bucket/key`), which local servers need.
///
/// S3 request checksums only where S3 requires them: by default the SDK adds a CRC32 to
/// every upload, and a multipart upload started with one must give one for every part,
/// which `UploadPartCopy` parts do not carry on moto. Integrity of release files rests on
/// their SHA-512, computed by trs while the bytes stream in and checked again before
/// promotion, not on transport checksums.
pub fn clients(config: &aws_config::SdkConfig, path_style: bool) -> (aws_sdk_dynamodb::Client, aws_sdk_s3::Client) {
    let dynamo = aws_sdk_dynamodb::Client::new(config);
    let s3 = aws_sdk_s3::config::Builder::from(config)
        .force_path_style(path_style)
        .request_checksum_calculation(aws_sdk_s3::config::RequestChecksumCalculation::WhenRequired)
        .build();
    (dynamo, aws_sdk_s3::Client::from_conf(s3))
}

/// A CloudFront client for `config` (CloudFront is global: the SDK signs for us-east-1 whatever
/// the configured region).
pub fn cloudfront(config: &aws_config::SdkConfig) -> aws_sdk_cloudfront::Client {
    aws_sdk_cloudfront::Client::new(config)
}

/// Opens both stores; with `create`, first creates the table and bucket from the template if
/// they are missing (for local servers; on AWS the CloudFormation stack creates them).
pub async fn open(settings: &AwsSettings, create: bool) -> Result<(DynamoItemStore, S3BlobStore), String> {
    if settings.table.is_empty() || settings.bucket.is_empty() {
        return Err("the AWS backend needs a table and a bucket name (--aws-table, --aws-bucket)".into());
    }
    let config = sdk_config(settings.endpoint.as_deref()).await;
    let (dynamo, s3) = clients(&config, settings.endpoint.is_some());
    if create {
        provision::ensure_table(&dynamo, &settings.table).await?;
        provision::ensure_bucket(&s3, &settings.bucket).await?;
    }
    Ok((DynamoItemStore::new(dynamo, &settings.table), S3BlobStore::new(s3, &settings.bucket)))
}

/// The site bucket `bucket` and, when `distribution` is given, the CloudFront distribution in
/// front of it (what the publish-site function writes to, for `trs site build --full`). With
/// `create`, first creates the bucket from the template if it is missing (local servers).
pub async fn open_site(
    endpoint: Option<&str>,
    bucket: &str,
    distribution: Option<&str>,
    create: bool,
) -> Result<(S3SiteStore, Option<CloudFrontInvalidator>), String> {
    if bucket.is_empty() {
        return Err("the site bucket's name is empty".into());
    }
    let config = sdk_config(endpoint).await;
    let (_, s3) = clients(&config, endpoint.is_some());
    if create {
        provision::ensure_site_bucket(&s3, bucket).await?;
    }
    let cdn = distribution.map(|id| CloudFrontInvalidator::new(cloudfront(&config), id));
    Ok((S3SiteStore::new(s3, bucket), cdn))
}
